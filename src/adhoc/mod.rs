//! Tests made at run time rather than by `#[isolated]`: `isolated run KEY=VALUE... -- CMD`
//! takes exactly the attribute's keys, checked by the attribute's own code (the macro crate's
//! checks are plain functions of strings, compiled here too).
//!
//! The runner hands the keys to the test's PID 1 in [`ADHOC_VAR`], which makes the same test
//! of them again (its binary has no such test registered).

#[path = "../../macros/src/duration.rs"]
pub(crate) mod duration;
#[path = "../../macros/src/keys.rs"]
mod keys;
#[path = "../../macros/src/memory.rs"]
mod memory;
#[path = "../../macros/src/validate.rs"]
#[allow(dead_code)] // `bin`: `bins` names a cargo binary, which has no meaning here.
mod validate;

use crate::registry::{Ignore, Limit, Limits, Mapping, Net, ShouldPanic, TestDef};

/// The keys of an ad hoc test, `KEY=VALUE` lines, for its PID 1.
pub(crate) const ADHOC_VAR: &str = "__ISOLATED_ADHOC";

/// The name every ad hoc test has.
pub(crate) const NAME: &str = "run";

/// The attribute's keys that mean nothing to `isolated run`: `bins` names a binary of the
/// package under test, and the environment is kept while the command runs, which is no
/// `async fn`.
const NOT_HERE: [&str; 3] = ["bins", "keep", "runtime"];

/// The keys `isolated run` takes: the attribute's, less [`NOT_HERE`].
fn valid_keys() -> String {
    let keys: Vec<&str> = keys::KEYS
        .into_iter()
        .filter(|k| !NOT_HERE.contains(k))
        .collect();
    keys.join(", ")
}

/// An ad hoc test's keys, each checked: `(key, value)`, list keys once per entry. The crate
/// directory is `dir`, the directory `isolated run` ran in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    entries: Vec<(String, String)>,
    dir: String,
}

impl Spec {
    /// Reads `KEY=VALUE`, `--KEY VALUE` and `--KEY=VALUE` arguments; a list key may come more
    /// than once (`env=A=1 env=B=2`). The error names the argument and what it should be.
    pub(crate) fn parse(args: &[String], dir: &str) -> Result<Spec, String> {
        let mut entries = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (key, value) = match arg.strip_prefix("--") {
                Some(flag) => match flag.split_once('=') {
                    Some((key, value)) => (key.to_string(), value.to_string()),
                    None => {
                        let value = args
                            .next()
                            .ok_or_else(|| format!("`--{flag}` needs a value"))?;
                        (flag.to_string(), value.clone())
                    }
                },
                None => match arg.split_once('=') {
                    Some((key, value)) => (key.to_string(), value.to_string()),
                    None => return Err(format!("`{arg}`: expected KEY=VALUE, like rootfs=alpine")),
                },
            };
            check(&key, &value)?;
            let list = matches!(key.as_str(), "env" | "copy" | "bind" | "caps" | "devices");
            if !list && entries.iter().any(|(k, _)| *k == key) {
                return Err(format!("`{key}` is given twice"));
            }
            entries.push((key, value));
        }
        Ok(Spec {
            entries,
            dir: dir.to_string(),
        })
    }

    /// The value of `key`, the last given.
    fn value(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a list key.
    fn values(&self, key: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The keys as [`ADHOC_VAR`] holds them: the directory, then `KEY=VALUE` lines.
    pub(crate) fn encode(&self) -> String {
        let mut text = format!("{}\n", self.dir);
        for (key, value) in &self.entries {
            text.push_str(&format!("{key}={}\n", value.replace('\n', " ")));
        }
        text
    }

    fn decode(text: &str) -> Option<Spec> {
        let mut lines = text.lines();
        let dir = lines.next()?.to_string();
        let entries = lines
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(Spec { entries, dir })
    }

    /// The test these keys make, for the life of the process. Its body does nothing: the
    /// command runs in the environment once it is kept (`isolated enter`).
    pub(crate) fn test(&self) -> &'static TestDef {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let leak_all = |v: Vec<String>| -> &'static [&'static str] {
            Box::leak(
                v.into_iter()
                    .map(leak)
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            )
        };
        let mappings = |key: &str| -> &'static [Mapping] {
            let all: Vec<Mapping> = self
                .values(key)
                .iter()
                .filter_map(|entry| validate::mapping(entry).ok())
                .map(|(source, target)| Mapping {
                    source: leak(source),
                    target: leak(target),
                    bin: None,
                })
                .collect();
            Box::leak(all.into_boxed_slice())
        };
        let limit = |value: Option<Limit>| value.unwrap_or(Limit::Default);
        let flag = |key: &str, default: bool| self.value(key).map_or(default, |v| v == "true");
        let test = TestDef {
            name: NAME,
            module_path: "isolated",
            file: "",
            line: 0,
            rootfs: leak(self.value("rootfs").unwrap_or("host").to_string()),
            hostname: leak(self.value("hostname").unwrap_or("isolated").to_string()),
            // No deadline but the command's (see `isolated run`'s `timeout`).
            timeout_ms: 100 * 365 * 24 * 3_600_000,
            env: leak_all(self.values("env")),
            net: match self.value("net") {
                Some("none") => Net::None,
                Some("host") => Net::Host,
                Some("veth") => Net::Veth,
                _ => Net::Loopback,
            },
            copies: mappings("copy"),
            binds: mappings("bind"),
            limits: Limits {
                memory: limit(self.value("memory").and_then(|m| match memory::memory(m) {
                    Ok(Some(bytes)) => Some(Limit::Max(bytes)),
                    Ok(None) => Some(Limit::Unlimited),
                    Err(_) => None,
                })),
                pids: limit(self.value("pids").map(|p| match p.parse() {
                    Ok(n) => Limit::Max(n),
                    Err(_) => Limit::Unlimited,
                })),
                cpu_millis: self.value("cpu").and_then(cpu_millis),
            },
            caps: leak_all(self.values("caps")),
            privileged: flag("privileged", false),
            devices: leak_all(self.values("devices")),
            manifest_dir: leak(self.dir.clone()),
            crate_dir: flag("crate_dir", true),
            keep: true,
            should_panic: ShouldPanic::No,
            ignore: Ignore::No,
            body: || Ok(()),
        };
        Box::leak(Box::new(test))
    }

    /// `timeout`: how long the command may run, if given.
    pub(crate) fn timeout(&self) -> Option<std::time::Duration> {
        let ms = duration::parse_millis(self.value("timeout")?).ok()?;
        Some(std::time::Duration::from_millis(ms))
    }
}

/// In a test's PID 1: the ad hoc test the runner described, if it did.
pub(crate) fn from_env() -> Option<&'static TestDef> {
    let text = std::env::var(ADHOC_VAR).ok()?;
    std::env::remove_var(ADHOC_VAR);
    Spec::decode(&text).map(|spec| spec.test())
}

/// Checks one key's value as the attribute does; the error is the attribute's message.
fn check(key: &str, value: &str) -> Result<(), String> {
    let checked = match key {
        "rootfs" => validate::rootfs(value),
        "hostname" => validate::hostname(value),
        "timeout" => duration::parse_millis(value).map(|_| ()),
        "env" => validate::env_entry(value),
        "net" => validate::net(value),
        "copy" | "bind" => validate::mapping(value).map(|_| ()),
        "memory" => memory::memory(value).map(|_| ()),
        "pids" => match value == "none" || value.parse::<u64>().is_ok_and(|n| n >= 2) {
            true => Ok(()),
            false => Err(format!(
                "invalid pids `{value}`: a whole number of at least 2 (it counts the \
                 environment's init and first process too), or \"none\""
            )),
        },
        "cpu" => cpu_millis(value)
            .map(|_| ())
            .ok_or_else(|| format!("invalid cpu `{value}`: between 0.01 and 1024 CPUs, like 0.5")),
        "caps" => validate::cap(value).map(|_| ()),
        "devices" => validate::device(value).map(|_| ()),
        "privileged" | "crate_dir" => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("invalid {key} `{value}`: true or false")),
        },
        "bins" => Err("`bins` names a binary of the package under test; use copy=PATH:/TARGET".into()),
        "keep" | "runtime" => Err(format!("`{key}` means nothing here: `isolated run` keeps its environment while the command runs")),
        _ => Err(format!("unknown key `{key}`; valid keys are: {}", valid_keys())),
    };
    checked.map_err(|e| format!("{key}={value}: {e}"))
}

/// `0.5`, `2`: thousandths of a CPU.
fn cpu_millis(value: &str) -> Option<u32> {
    let cpus: f64 = value.parse().ok()?;
    (0.01..=1024.0)
        .contains(&cpus)
        .then(|| (cpus * 1000.0).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keys_read_both_ways_and_come_back_whole() {
        let spec = Spec::parse(
            &args(&[
                "rootfs=alpine",
                "--net",
                "veth",
                "--env=A=1",
                "env=B=x y",
                "memory=64M",
            ]),
            "/src",
        )
        .unwrap();
        let test = spec.test();
        assert_eq!((test.rootfs, test.net), ("alpine", Net::Veth));
        assert_eq!(test.env, ["A=1", "B=x y"]);
        assert_eq!(test.limits.memory, Limit::Max(64 << 20));
        assert_eq!(Spec::decode(&spec.encode()), Some(spec));
    }

    #[test]
    fn mistakes_say_what_is_expected() {
        for (bad, says) in [
            (&["rootfs=a/b"][..], "fixture name"),
            (&["hostname=a_b"], "only letters"),
            (&["timeout=10"], "whole number followed by"),
            (&["pids=1"], "at least 2"),
            (&["colour=red"], "valid keys are: rootfs"),
            (&["net"], "expected KEY=VALUE"),
            (&["--net"], "needs a value"),
            (&["rootfs=a", "rootfs=b"], "given twice"),
            (&["bins=tool"], "copy="),
        ] {
            let error = Spec::parse(&args(bad), "/").unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
