//! The keys `#[isolated(...)]` takes, in the order messages list them. A plain list, shared
//! with `isolated run`, which takes the same keys.

pub(crate) const KEYS: [&str; 17] = [
    "rootfs",
    "hostname",
    "timeout",
    "env",
    "net",
    "copy",
    "bins",
    "bind",
    "memory",
    "pids",
    "cpu",
    "caps",
    "privileged",
    "devices",
    "crate_dir",
    "keep",
    "runtime",
];
