//! Checks on the string values of `rootfs`, `hostname` and `env`.
//!
//! Each error is the whole message to show at the literal.

/// The longest hostname the kernel accepts (`HOST_NAME_MAX`).
const HOSTNAME_MAX: usize = 64;

/// A rootfs is a fixture name, looked up under the fixtures directory, so it must not escape it.
pub(crate) fn rootfs(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("rootfs must not be empty; use a fixture name like \"alpine\"".into());
    }
    if name.contains('/') {
        return Err(format!(
            "invalid rootfs `{name}`: expected a fixture name like \"alpine\", without '/'"
        ));
    }
    if name.starts_with('.') {
        return Err(format!("invalid rootfs `{name}`: must not start with '.'"));
    }
    Ok(())
}

/// A hostname the container can be given with `sethostname`.
pub(crate) fn hostname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("hostname must not be empty".into());
    }
    if name.len() > HOSTNAME_MAX {
        return Err(format!(
            "invalid hostname `{name}`: longer than {HOSTNAME_MAX} bytes"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if !name.chars().all(allowed) {
        return Err(format!(
            "invalid hostname `{name}`: only letters, digits, '-' and '.' are allowed"
        ));
    }
    Ok(())
}

/// Capabilities a `caps` entry may name (without `CAP_`), as capabilities(7) lists them.
const CAPS: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// One `caps` entry: `+NAME` adds a capability to the test's default set, `-NAME` drops one.
pub(crate) fn cap(entry: &str) -> Result<String, String> {
    let name = entry.strip_prefix(['+', '-']).ok_or_else(|| {
        format!("invalid caps entry `{entry}`: expected `+NAME` to add or `-NAME` to drop, like \"+SYS_TIME\"")
    })?;
    let name = name.strip_prefix("CAP_").unwrap_or(name);
    if !CAPS.contains(&name) {
        return Err(format!(
            "unknown capability `{name}` in `{entry}`; see capabilities(7)"
        ));
    }
    Ok(format!("{}{name}", &entry[..1]))
}

/// The network a test gets.
pub(crate) fn net(mode: &str) -> Result<(), String> {
    match mode {
        "loopback" | "none" | "host" | "veth" => Ok(()),
        _ => Err(format!(
            "invalid net `{mode}`: expected \"loopback\" (the default), \"none\", \"host\" or \"veth\""
        )),
    }
}

/// One `devices` entry: a device node's absolute path under /dev, like `/dev/net/tun`.
pub(crate) fn device(entry: &str) -> Result<String, String> {
    let plain = entry.strip_prefix("/dev/").filter(|rest| {
        !rest.is_empty()
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
    });
    match plain {
        Some(_) => Ok(entry.to_string()),
        None => Err(format!(
            "invalid devices entry `{entry}`: expected a device node's path under /dev, like \"/dev/net/tun\""
        )),
    }
}

/// One `copy` or `bind` entry: `SOURCE:/TARGET`, split at the first `:/` (the target is
/// absolute, so a colon inside the source path is fine). Returns (source, target).
pub(crate) fn mapping(entry: &str) -> Result<(String, String), String> {
    let Some(at) = entry.find(":/") else {
        return Err(format!(
            "invalid entry `{entry}`: expected `SOURCE:/TARGET`, the target an absolute path"
        ));
    };
    let (source, target) = (&entry[..at], &entry[at + 1..]);
    if source.is_empty() {
        return Err(format!(
            "invalid entry `{entry}`: the source before ':' is empty"
        ));
    }
    target_path(entry, target)?;
    Ok((source.to_string(), target.to_string()))
}

/// One `bins` entry: a binary target of this package, `NAME` (placed at
/// `/usr/local/bin/NAME`) or `NAME:/TARGET`. Returns (name, target).
pub(crate) fn bin(entry: &str) -> Result<(String, String), String> {
    let (name, target) = match entry.split_once(':') {
        Some((name, target)) => (name, target.to_string()),
        None => (entry, format!("/usr/local/bin/{entry}")),
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(format!(
            "invalid bins entry `{entry}`: expected the name of a binary target of this \
             package, like \"mytool\" or \"mytool:/opt/bin/mytool\""
        ));
    }
    target_path(entry, &target)?;
    Ok((name.to_string(), target))
}

/// A target inside the test's root: absolute, not `/` itself, no `..`.
fn target_path(entry: &str, target: &str) -> Result<(), String> {
    if !target.starts_with('/') || target == "/" || target.split('/').any(|c| c == "..") {
        return Err(format!(
            "invalid entry `{entry}`: the target must be an absolute path below / without `..`"
        ));
    }
    Ok(())
}

/// One `env` entry: `KEY=value`, the key a shell-style variable name.
pub(crate) fn env_entry(entry: &str) -> Result<(), String> {
    let Some((key, _value)) = entry.split_once('=') else {
        return Err(format!("invalid env entry `{entry}`: expected `KEY=value`"));
    };
    if key.is_empty() {
        return Err(format!(
            "invalid env entry `{entry}`: the key before '=' is empty"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !key.chars().all(allowed) || key.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "invalid env entry `{entry}`: the key must be letters, digits and '_', \
             not starting with a digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    #[test]
    fn mappings_split_at_the_first_colon_slash() {
        assert_eq!(
            mapping("a:b.txt:/etc/x").unwrap(),
            ("a:b.txt".into(), "/etc/x".into())
        );
        assert_eq!(
            mapping("/host:/in").unwrap(),
            ("/host".into(), "/in".into())
        );
        for bad in ["nocolon", ":/x", "a:/", "a:/x/../y", "a:relative"] {
            assert!(mapping(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bins_default_to_usr_local_bin() {
        assert_eq!(
            bin("tool").unwrap(),
            ("tool".into(), "/usr/local/bin/tool".into())
        );
        assert_eq!(
            bin("my-tool:/opt/t").unwrap(),
            ("my-tool".into(), "/opt/t".into())
        );
        for bad in ["", "a/b", "t:rel", "t:/"] {
            assert!(bin(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_is_a_plain_fixture_name() {
        assert!(rootfs("alpine").is_ok());
        assert!(rootfs("host").is_ok());
        assert!(rootfs("debian-12.1").is_ok());
        assert!(rootfs("").unwrap_err().contains("must not be empty"));
        assert!(rootfs("a/b").unwrap_err().contains("without '/'"));
        assert!(rootfs("/abs").unwrap_err().contains("without '/'"));
        assert!(rootfs("..")
            .unwrap_err()
            .contains("must not start with '.'"));
        assert!(rootfs(".hidden")
            .unwrap_err()
            .contains("must not start with '.'"));
    }

    #[test]
    fn hostname_is_letters_digits_dash_dot() {
        assert!(hostname("isolated").is_ok());
        assert!(hostname("box-1.example").is_ok());
        assert!(hostname(&"a".repeat(64)).is_ok());
        assert!(hostname("").unwrap_err().contains("must not be empty"));
        assert!(hostname(&"a".repeat(65))
            .unwrap_err()
            .contains("longer than 64 bytes"));
        for bad in ["a b", "a_b", "é", "a/b"] {
            assert!(
                hostname(bad).unwrap_err().contains("only letters"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn env_entry_needs_a_key_and_equals() {
        assert!(env_entry("K=V").is_ok());
        assert!(env_entry("A=b c").is_ok());
        assert!(env_entry("_X1=").is_ok());
        assert!(env_entry("K=a=b").is_ok());
        assert!(env_entry("K").unwrap_err().contains("expected `KEY=value`"));
        assert!(env_entry("=V").unwrap_err().contains("is empty"));
        for bad in ["1A=x", "A-B=x", "A B=x", "É=x"] {
            assert!(
                env_entry(bad).unwrap_err().contains("the key must be"),
                "{bad:?}"
            );
        }
    }
}
