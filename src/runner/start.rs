//! Starting a test's PID 1: from one of this runner thread's zygotes, or by an exec of its own.

use std::cell::{Cell, OnceCell};
use std::sync::{Arc, Mutex};

use crate::sys::{self, Child, Errno, Spawn, SysResult};
use crate::zygote::{Kind, Zygote};

/// A runner thread's zygote of one kind, once it has one.
type Slot = Arc<Mutex<Option<Zygote>>>;

/// Every runner thread's slots, for [`stop_zygotes`] at the end of the run.
static SLOTS: Mutex<Vec<Slot>> = Mutex::new(Vec::new());

/// A runner thread's zygotes: one per [`Kind`], each started with the second test that needs
/// it.
#[derive(Default)]
struct Zygotes {
    filtered: OnceCell<Slot>,
    unfiltered: OnceCell<Slot>,
}

impl Zygotes {
    fn slot(&self, kind: Kind) -> &Slot {
        let cell = match kind {
            Kind::Filtered => &self.filtered,
            Kind::Unfiltered => &self.unfiltered,
        };
        cell.get_or_init(|| {
            let slot = Slot::default();
            lock(&SLOTS).push(Arc::clone(&slot));
            slot
        })
    }
}

thread_local! {
    /// This runner thread's zygotes. Only this thread asks them for tests: the tests' parent
    /// is the thread that started the zygote, and a parent-death signal follows that thread.
    static ZYGOTES: Zygotes = Zygotes::default();
    /// The kinds this runner thread has started a test of yet.
    static STARTED: Cell<[bool; 2]> = const { Cell::new([false; 2]) };
}

/// Starts what `spawn` describes; from a zygote of `kind`, or by exec with `None`.
pub(super) fn start(spawn: &Spawn<'_>, kind: Option<Kind>) -> SysResult<Child> {
    let Some(kind) = kind else {
        return sys::spawn_in_namespaces(spawn);
    };
    // A thread's first test of a kind starts by exec: a zygote is an exec too, and pays only
    // from the second test on; a run of one test (as nextest runs them) starts none.
    let mut started = STARTED.get();
    if !std::mem::replace(&mut started[kind as usize], true) {
        STARTED.set(started);
        return sys::spawn_in_namespaces(spawn);
    }
    ZYGOTES.with(|own| {
        let mut slot = lock(own.slot(kind));
        // A zygote that died (the machine's OOM killer, say) is replaced once.
        let mut retried = false;
        loop {
            let zygote = match &mut *slot {
                Some(zygote) => zygote,
                None => slot.insert(Zygote::start(spawn.exe, spawn.argv, kind)?),
            };
            match zygote.spawn(spawn) {
                Err(e) if !retried && matches!(e.errno, Errno::EPIPE | Errno::ECONNRESET) => {
                    *slot = None;
                    retried = true;
                }
                started => return started,
            }
        }
    })
}

/// Ends every zygote and reaps it, once the tests are done: none outlives the run.
pub(super) fn stop_zygotes() {
    for slot in std::mem::take(&mut *lock(&SLOTS)) {
        drop(lock(&slot).take());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
