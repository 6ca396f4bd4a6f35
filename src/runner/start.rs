//! Starting a test's PID 1: from this runner thread's zygote, or by an exec of its own.

use std::cell::{Cell, OnceCell};
use std::sync::{Arc, Mutex};

use crate::sys::{self, Child, Errno, Spawn, SysResult};
use crate::zygote::Zygote;

/// A runner thread's zygote, once it has one.
type Slot = Arc<Mutex<Option<Zygote>>>;

/// Every runner thread's slot, for [`stop_zygotes`] at the end of the run.
static SLOTS: Mutex<Vec<Slot>> = Mutex::new(Vec::new());

thread_local! {
    /// This runner thread's zygote, started with its second test. Only this thread asks it
    /// for tests: the tests' parent is the thread that started the zygote, and a parent-death
    /// signal follows that thread.
    static ZYGOTE: OnceCell<Slot> = const { OnceCell::new() };
    /// Whether this runner thread has started a test yet.
    static STARTED_ONE: Cell<bool> = const { Cell::new(false) };
}

/// Starts what `spawn` describes; from a zygote when `zygotes`.
pub(super) fn start(spawn: &Spawn<'_>, zygotes: bool) -> SysResult<Child> {
    // A thread's first test starts by exec: a zygote is an exec too, and pays only from the
    // second test on; a run of one test (as nextest runs them) starts none.
    if !zygotes || !STARTED_ONE.replace(true) {
        return sys::spawn_in_namespaces(spawn);
    }
    ZYGOTE.with(|own| {
        let slot = own.get_or_init(|| {
            let slot = Slot::default();
            lock(&SLOTS).push(Arc::clone(&slot));
            slot
        });
        let mut slot = lock(slot);
        // A zygote that died (the machine's OOM killer, say) is replaced once.
        let mut retried = false;
        loop {
            let zygote = match &mut *slot {
                Some(zygote) => zygote,
                None => slot.insert(Zygote::start(spawn.exe)?),
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
