//! What a test's cgroup allows, and the files of each cgroup version that say so.

/// A controller that enforces one of the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Controller {
    Memory,
    Pids,
    Cpu,
}

impl Controller {
    pub(crate) const ALL: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::Cpu];

    /// The kernel's name for it: `memory`, `pids`, `cpu`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }
}

/// The limits of one test, as numbers; `None`: not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ResolvedLimits {
    /// Bytes of memory, swap not allowed.
    pub memory: Option<u64>,
    /// Processes and threads at once.
    pub pids: Option<u64>,
    /// Thousandths of a CPU.
    pub cpu_millis: Option<u32>,
    /// The test's share of contended CPU time against its neighbours, on cgroup v2's scale
    /// (`cpu.weight`: 1–10000, 100 an ordinary group); v1's `cpu.shares` is 10.24 times it.
    pub cpu_weight: Option<u32>,
}

impl ResolvedLimits {
    /// Whether a limit needs `controller`.
    pub(crate) fn needs(&self, controller: Controller) -> bool {
        match controller {
            Controller::Memory => self.memory.is_some(),
            Controller::Pids => self.pids.is_some(),
            Controller::Cpu => self.cpu_millis.is_some() || self.cpu_weight.is_some(),
        }
    }

    /// These limits without the one `controller` enforces.
    pub(crate) fn without(mut self, controller: Controller) -> ResolvedLimits {
        match controller {
            Controller::Memory => self.memory = None,
            Controller::Pids => self.pids = None,
            Controller::Cpu => {
                self.cpu_millis = None;
                self.cpu_weight = None;
            }
        }
        self
    }
}

/// The CFS period the CPU quota is a share of, in microseconds (the kernel's default).
pub(super) const CPU_PERIOD_US: u64 = 100_000;

/// One value to write into a cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Setting {
    pub file: &'static str,
    pub value: String,
    /// Skipped when the kernel lacks the file (swap accounting off: no `memory.swap.max`).
    pub optional: bool,
}

/// What to write, in order, into a group of a hierarchy holding `controllers`.
pub(super) fn settings(
    unified: bool,
    controllers: &[Controller],
    limits: &ResolvedLimits,
) -> Vec<Setting> {
    let set = |file, value: String, optional| Setting {
        file,
        value,
        optional,
    };
    let mut out = Vec::new();
    for controller in controllers {
        match (controller, unified) {
            (Controller::Memory, true) => {
                if let Some(bytes) = limits.memory {
                    out.push(set("memory.max", bytes.to_string(), false));
                    out.push(set("memory.swap.max", "0".into(), true));
                }
            }
            (Controller::Memory, false) => {
                if let Some(bytes) = limits.memory {
                    // memsw (memory + swap) may never be below the memory limit: set it second.
                    out.push(set("memory.limit_in_bytes", bytes.to_string(), false));
                    out.push(set("memory.memsw.limit_in_bytes", bytes.to_string(), true));
                }
            }
            (Controller::Pids, _) => {
                if let Some(pids) = limits.pids {
                    out.push(set("pids.max", pids.to_string(), false));
                }
            }
            (Controller::Cpu, true) => {
                if let Some(weight) = limits.cpu_weight {
                    out.push(set("cpu.weight", weight.to_string(), false));
                }
                if let Some(millis) = limits.cpu_millis {
                    let value = format!("{} {CPU_PERIOD_US}", quota_us(millis));
                    out.push(set("cpu.max", value, false));
                }
            }
            (Controller::Cpu, false) => {
                if let Some(weight) = limits.cpu_weight {
                    let shares = (u64::from(weight) * 1024 / 100).max(2);
                    out.push(set("cpu.shares", shares.to_string(), false));
                }
                if let Some(millis) = limits.cpu_millis {
                    out.push(set("cpu.cfs_period_us", CPU_PERIOD_US.to_string(), false));
                    out.push(set("cpu.cfs_quota_us", quota_us(millis).to_string(), false));
                }
            }
        }
    }
    out
}

/// The quota per period for `millis` thousandths of a CPU; at least the kernel's 1 ms minimum.
fn quota_us(millis: u32) -> u64 {
    (u64::from(millis) * CPU_PERIOD_US / 1000).max(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: ResolvedLimits = ResolvedLimits {
        memory: Some(64 << 20),
        pids: Some(32),
        cpu_millis: Some(200),
        cpu_weight: Some(50),
    };

    fn files(unified: bool, limits: &ResolvedLimits) -> Vec<(&'static str, String)> {
        settings(unified, &Controller::ALL, limits)
            .into_iter()
            .map(|s| (s.file, s.value))
            .collect()
    }

    #[test]
    fn v2_files() {
        assert_eq!(
            files(true, &ALL),
            [
                ("memory.max", "67108864".to_string()),
                ("memory.swap.max", "0".into()),
                ("pids.max", "32".into()),
                ("cpu.weight", "50".into()),
                ("cpu.max", "20000 100000".into()),
            ]
        );
    }

    #[test]
    fn v1_files() {
        assert_eq!(
            files(false, &ALL),
            [
                ("memory.limit_in_bytes", "67108864".to_string()),
                ("memory.memsw.limit_in_bytes", "67108864".into()),
                ("pids.max", "32".into()),
                ("cpu.shares", "512".into()),
                ("cpu.cfs_period_us", "100000".into()),
                ("cpu.cfs_quota_us", "20000".into()),
            ]
        );
    }

    #[test]
    fn unlimited_writes_nothing() {
        assert!(files(true, &ResolvedLimits::default()).is_empty());
        assert!(files(false, &ALL.without(Controller::Memory))
            .iter()
            .all(|(file, _)| !file.starts_with("memory")));
    }

    #[test]
    fn cpu_quota_has_a_floor() {
        assert_eq!(quota_us(10), 1000);
        assert_eq!(quota_us(2000), 200_000);
    }
}
