//! Kernel drivers: loaded, built in, loadable, or what the kernel's build configuration says.

use std::io::Read;
use std::path::Path;

use super::checks::check;
use super::{Check, Status};

/// The running kernel's build configuration: /proc/config.gz, else /boot/config-RELEASE.
pub(super) fn kernel_config(release: &str) -> Option<String> {
    if let Ok(file) = std::fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .is_ok()
        {
            return Some(text);
        }
    }
    std::fs::read_to_string(format!("/boot/config-{release}")).ok()
}

/// Whether a driver is there: loaded, built in, loadable, or per the kernel's configuration.
pub(super) fn driver(module: &str, option: &str, config: Option<&str>, release: &str) -> Driver {
    if Path::new("/sys/module").join(module).exists() {
        return Driver::Present(format!("{module} loaded (/sys/module)"));
    }
    if let Some(config) = config {
        return match config
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{option}=")))
        {
            Some(value) => Driver::Present(format!("{option}={value} (kernel config)")),
            None => Driver::Absent(format!("{option} is not set (kernel config)")),
        };
    }
    let modules = Path::new("/lib/modules").join(release);
    let builtin = std::fs::read_to_string(modules.join("modules.builtin")).unwrap_or_default();
    let listed = std::fs::read_to_string(modules.join("modules.dep")).unwrap_or_default();
    let file = format!("/{module}.ko");
    if builtin
        .lines()
        .chain(listed.lines())
        .any(|l| l.contains(&file))
    {
        return Driver::Present(format!("{module} in {}", modules.display()));
    }
    Driver::Unknown(format!(
        "{module} not loaded; no kernel config or module list to tell"
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Driver {
    Present(String),
    Absent(String),
    Unknown(String),
}

pub(super) fn driver_check(
    name: &'static str,
    driver: Driver,
    disables: &'static str,
    fix: &str,
) -> Check {
    match driver {
        Driver::Present(found) => check(name, true, found, disables, fix),
        Driver::Absent(found) => check(name, false, found, disables, fix),
        Driver::Unknown(found) => Check {
            status: Status::Unknown,
            ..check(name, false, found, disables, fix)
        },
    }
}

pub(super) fn veth(netns: bool, driver: Driver) -> Check {
    let driver = match netns {
        true => driver,
        false => Driver::Absent("no network namespaces (/proc/self/ns/net)".into()),
    };
    driver_check(
        "veth",
        driver,
        "net = \"veth\" and isolated::net networks",
        "a kernel with CONFIG_NET_NS and CONFIG_VETH (=m: `modprobe veth`)",
    )
}

pub(super) fn netem(driver: Driver) -> Check {
    driver_check(
        "netem",
        driver,
        "link conditions (delay, jitter, loss) in isolated::net networks",
        "a kernel with CONFIG_NET_SCH_NETEM (=m: `modprobe sch_netem`)",
    )
}
