//! Builds a test's environment from a [`Plan`](crate::plan::Plan), inside the namespaces the
//! runner created. Runs in the test's PID 1, before the body starts.

mod dev;
mod enter;
mod error;
mod host_root;
mod kernel_fs;
mod network;

pub(crate) use enter::{build, finish, mount_own_sysfs, LAYERS};
