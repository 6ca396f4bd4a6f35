//! Per-test cgroups: resource limits (memory, pids, cpu), OOM and fork-limit accounting, and
//! killing every process of a test, on cgroup v2, v1 or a hybrid of both.
//!
//! As root the tests' groups go at the root of each hierarchy; rootless, below the user's own
//! cgroup where it is delegated to them ([`Placement`]).
//!
//! [`Cgroups::detect`] runs once per run; [`Cgroups::create`] makes each test's group, which its
//! first process joins, before it execs, by writing "0" to each of
//! [`TestCgroup::procs_files`].

mod delegated;
mod detect;
mod error;
mod events;
mod fs;
mod group;
mod kill;
mod missing;
mod mountinfo;
mod parent;
mod settings;
mod spares;
mod stale;
#[cfg(test)]
mod subject;
#[cfg(test)]
mod tests;

pub(crate) use detect::{Cgroups, Layout, Placement};
pub(crate) use fs::physical_memory;
pub(crate) use group::TestCgroup;
pub(crate) use missing::Missing;
pub(crate) use mountinfo::unescape_mountinfo;
pub(crate) use settings::{Controller, ResolvedLimits};
