//! One thin wrapper per system call. Only this layer touches `nix` and `libc`.
//!
//! Every wrapper returns [`SysError`], which names the call, the path it acted on and the
//! typed errno, so callers can both print a useful message and still match on `ENOENT`.

mod caps;
pub(crate) mod cgroup;
mod clone3;
mod environ;
mod error;
mod fd_passing;
mod fs;
mod mount;
mod mount_tree;
mod namespace_pair;
mod namespaces;
mod net;
mod netlink;
pub(crate) mod nodes;
mod pipe;
mod process;
mod seccomp;
mod signals;
mod spawn;
mod terminal;
mod unshare;
mod userns;

pub(crate) use caps::{
    bounding_drop, cap_name, cap_number, capget, capset, clear_ambient, set_no_new_privs, CapSet,
    Caps, NAMES,
};
pub(crate) use cgroup::unescape_mountinfo;
pub(crate) use clone3::{clone_sibling, Sibling};
pub(crate) use environ::show_environment;
pub(crate) use error::{Errno, SysError, SysResult};
pub(crate) use fd_passing::{recv_with_fds, send_with_fds};
pub(crate) use fs::{
    bind_target, chdir, chmod, follow_links, make_char_device, mkdir, mkdir_all, mount_target,
    move_fd_out_of_the_way, symlink, write_file,
};
pub(crate) use mount::{
    bind, bind_with_flags, detach, make_rprivate, mount_devpts, mount_overlay,
    mount_overlay_read_only, mount_proc, mount_proc_readonly, mount_sysfs, mount_tmpfs, pivot_root,
    set_readonly,
};
pub(crate) use mount_tree::DetachedTree;
pub(crate) use namespace_pair::{
    adopt as adopt_namespace_pair, make_ahead as make_namespace_pair_ahead, NamespacePair,
};
pub(crate) use namespaces::ProcessNamespaces;
pub(crate) use net::{interface_addresses, loopback_up};
pub(crate) use netlink::{Netlink, NO_NETEM};
pub(crate) use nix::mount::MsFlags;
pub(crate) use nix::sys::signal::Signal;
pub(crate) use pipe::{pipe, poll_readable, set_nonblocking, socketpair};
pub(crate) use process::{
    exit_now, fork, geteuid, geteuid_is_root, has_cap_sys_admin, kill_pid, outlive_parent,
    reap_one, set_process_name, sethostname, setsid, signal_name, unblock_all_signals, wait_any,
    ChildStatus, Forked,
};
#[allow(unused_imports)] // Until child/privileges.rs installs the filter.
pub(crate) use seccomp::{compile, compile_for, install, Blocked, Filter, FilterError};
pub(crate) use signals::signal_fd;
pub(crate) use spawn::{
    close_from, open_devnull, open_netns, open_netns_of, spawn_in_namespaces, Child, ChildSetup,
    FdMap, Namespaces, Spawn, UserMapping, MAX_FDS,
};
pub(crate) use terminal::{copy_window_size, make_controlling, open_pty, raw_mode, Pty};
pub(crate) use unshare::{in_rootless_namespace, TestNamespaces};
pub(crate) use userns::{user_namespaces_blocked, write_id_maps_of, IDENTITY_MAP, ROOT_ONLY_MAP};
