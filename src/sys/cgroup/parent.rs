//! The `isolated` parent group in each hierarchy, made (idempotently) once per run.

use std::path::Path;

use super::detect::{Hierarchy, PARENT};
use super::error::CgroupError;
use super::fs;
use super::missing::Missing;
use super::settings::Controller;
use crate::sys::error::SysResult;

/// Makes `<mount>/isolated` and enables `offered` for its children: in the root's
/// `cgroup.subtree_control` (so `isolated` has them) and in `isolated`'s (so tests' groups
/// do). Returns the controllers enabled, and why the others could not be.
pub(super) fn prepare_unified(
    mount: &Path,
    offered: &[Controller],
) -> Result<(Vec<Controller>, Vec<Missing>), CgroupError> {
    let parent = mount.join(PARENT);
    let mut enabled = Vec::new();
    let mut failed = Vec::new();
    for &controller in offered {
        match enable(mount, controller) {
            Ok(()) => enabled.push(controller),
            Err(error) => failed.push(Missing::NotEnabled { controller, error }),
        }
    }
    make_parent(&parent)?;
    enabled.retain(|&controller| match enable_in_parent(&parent, controller) {
        Ok(()) => true,
        Err(error) => {
            failed.push(Missing::NotEnabled { controller, error });
            false
        }
    });
    Ok((enabled, failed))
}

/// Makes `<mount>/isolated` in a v1 hierarchy.
pub(super) fn prepare_v1(parent: &Path) -> Result<(), CgroupError> {
    make_parent(parent)
}

/// Makes sure the parent exists (another run that ended may have removed it) and, on v2,
/// offers the controllers `hierarchy` needs to its children. Idempotent: called for every test.
pub(super) fn ensure(hierarchy: &Hierarchy) -> SysResult<()> {
    fs::mkdir(&hierarchy.parent)?;
    if hierarchy.unified {
        for &controller in &hierarchy.controllers {
            enable_in_parent(&hierarchy.parent, controller)?;
        }
    }
    Ok(())
}

/// [`enable`] on the parent, making the parent again if a run removed it meanwhile.
fn enable_in_parent(parent: &Path, controller: Controller) -> SysResult<()> {
    match enable(parent, controller) {
        Err(e) if e.errno == nix::errno::Errno::ENOENT => {
            fs::mkdir(parent)?;
            enable(parent, controller)
        }
        other => other,
    }
}

fn make_parent(parent: &Path) -> Result<(), CgroupError> {
    fs::mkdir(parent)
        .map(drop)
        .map_err(|source| CgroupError::Parent {
            path: parent.to_path_buf(),
            source,
        })
}

/// Enables `controller` for the children of the group `dir`, unless it already is.
fn enable(dir: &Path, controller: Controller) -> SysResult<()> {
    let file = dir.join("cgroup.subtree_control");
    let current = fs::read(&file)?;
    if current.split_whitespace().any(|c| c == controller.name()) {
        return Ok(());
    }
    fs::write(&file, &format!("+{}", controller.name()))
}
