//! Work done once per run and shared: the first caller for a key does it, the others wait for
//! and reuse its result (failures included, so every test using it reports the same error).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

pub(super) struct Memo<K, V> {
    slots: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    pub(super) fn new() -> Self {
        Memo {
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`, computed by `init` if nobody has yet. Computations for other keys
    /// run in parallel; the map's lock is held only to find the slot.
    pub(super) fn get_or_init(&self, key: K, init: impl FnOnce() -> V) -> V {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(slots.entry(key).or_default())
        };
        slot.get_or_init(init).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_key_is_computed_once_even_from_many_threads() {
        let memo = Memo::new();
        let calls = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for key in ["a", "b"] {
                        let value = memo.get_or_init(key, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            key.len()
                        });
                        assert_eq!(value, 1);
                    }
                });
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
