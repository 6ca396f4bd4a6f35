//! The keys inside `#[isolated(...)]`: parsed, validated, defaults filled in.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::errors::Errors;
use crate::keys::KEYS;
use crate::{duration, limits, memory, validate};

/// What the keys asked for, with the documented defaults for the rest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) rootfs: String,
    pub(crate) hostname: String,
    pub(crate) timeout_ms: u64,
    pub(crate) env: Vec<String>,
    /// `net = "loopback" | "none" | "host" | "veth"`.
    pub(crate) net: String,
    /// `copy = ["SRC:/DEST"]`: (source, target).
    pub(crate) copy: Vec<(String, String)>,
    /// `bins = ["NAME"]` or `["NAME:/DEST"]`: (cargo binary name, target).
    pub(crate) bins: Vec<(String, String)>,
    /// `bind = ["SRC:/DEST"]`: (source, target).
    pub(crate) bind: Vec<(String, String)>,
    /// `memory = "256M"`: bytes; `Some(None)` for `"none"` (no limit); `None`: the default.
    pub(crate) memory: Option<Option<u64>>,
    /// `pids = 64`, or `pids = "none"`.
    pub(crate) pids: Option<Option<u64>>,
    /// `cpu = 0.5`: thousandths of a CPU.
    pub(crate) cpu_millis: Option<u32>,
    /// `caps = ["+SYS_TIME", "-NET_RAW"]`.
    pub(crate) caps: Vec<String>,
    /// `privileged = true`: the host's kernel, no user namespace.
    pub(crate) privileged: bool,
    /// `devices = ["/dev/net/tun"]`: host device nodes bound into the test's /dev.
    pub(crate) devices: Vec<String>,
    /// `crate_dir = false`: no crate directory at its own path.
    pub(crate) crate_dir: bool,
    /// `keep = true`: the test's environment outlives a failure, to be entered.
    pub(crate) keep: bool,
    /// `runtime = "tokio"`: what runs an `async fn` test; `None` for the default.
    pub(crate) runtime: Option<Runtime>,
}

/// `runtime = ...`: the executor of an `async fn` test.
pub(crate) enum Runtime {
    /// `"tokio"`: tokio's current-thread runtime (the default, with the `tokio` feature).
    Tokio,
    /// `"tokio-multi"`: tokio's multi-thread runtime.
    TokioMulti,
    /// `path::to::block_on`: a function that takes the test's future and runs it to its end.
    BlockOn(syn::Path),
    /// A value already reported as wrong: nothing more to say about it.
    Invalid,
}

impl PartialEq for Runtime {
    fn eq(&self, other: &Runtime) -> bool {
        use quote::ToTokens;
        match (self, other) {
            (Runtime::Tokio, Runtime::Tokio)
            | (Runtime::TokioMulti, Runtime::TokioMulti)
            | (Runtime::Invalid, Runtime::Invalid) => true,
            (Runtime::BlockOn(a), Runtime::BlockOn(b)) => {
                a.to_token_stream().to_string() == b.to_token_stream().to_string()
            }
            _ => false,
        }
    }
}

impl Eq for Runtime {}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use quote::ToTokens;
        match self {
            Runtime::Tokio => f.write_str("Tokio"),
            Runtime::TokioMulti => f.write_str("TokioMulti"),
            Runtime::BlockOn(path) => write!(f, "BlockOn({})", path.to_token_stream()),
            Runtime::Invalid => f.write_str("Invalid"),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rootfs: "host".into(),
            hostname: "isolated".into(),
            timeout_ms: 60_000,
            env: Vec::new(),
            net: "loopback".into(),
            copy: Vec::new(),
            bins: Vec::new(),
            bind: Vec::new(),
            memory: None,
            pids: None,
            cpu_millis: None,
            caps: Vec::new(),
            privileged: false,
            devices: Vec::new(),
            crate_dir: true,
            keep: false,
            runtime: None,
        }
    }
}

/// Parses the attribute's arguments; every problem goes to `errors`, at its token.
pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Config {
    let mut config = Config::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(error);
            return config;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let Some(key) = known_key(&meta, errors) else {
            continue;
        };
        if seen.contains(&key) {
            errors.at(meta.path(), format!("duplicate key `{key}`"));
            continue;
        }
        seen.push(key.clone());
        match meta {
            Meta::NameValue(pair) => apply(&mut config, &key, &pair.value, errors),
            other => errors.at(other, format!("expected a value, like {}", example(&key))),
        }
    }
    config
}

/// The key of one argument, if it is one we know.
fn known_key(meta: &Meta, errors: &mut Errors) -> Option<String> {
    let path = meta.path();
    let Some(ident) = path.get_ident() else {
        errors.at(path, "expected a key like `rootfs = \"alpine\"`");
        return None;
    };
    let key = ident.to_string();
    if !KEYS.contains(&key.as_str()) {
        let valid = KEYS.join(", ");
        let message = match nearest(&key, &KEYS) {
            Some(near) => format!(
                "unknown key `{key}` in #[isolated]; did you mean `{near}`? (valid keys are: \
                 {valid})"
            ),
            None => format!("unknown key `{key}` in #[isolated]; valid keys are: {valid}"),
        };
        errors.at(ident, message);
        return None;
    }
    Some(key)
}

/// Stores one key's value in `config` once it checks out.
fn apply(config: &mut Config, key: &str, value: &Expr, errors: &mut Errors) {
    match key {
        "env" => {
            let check = |e: &str| validate::env_entry(e).map(|()| e.to_string());
            config.env = string_entries(value, key, errors, check)
        }
        "copy" => config.copy = string_entries(value, key, errors, validate::mapping),
        "bind" => config.bind = string_entries(value, key, errors, validate::mapping),
        "bins" => config.bins = string_entries(value, key, errors, validate::bin),
        "caps" => config.caps = string_entries(value, key, errors, validate::cap),
        "devices" => config.devices = string_entries(value, key, errors, validate::device),
        "privileged" => {
            if let Some(flag) = flag(value, key, errors) {
                config.privileged = flag
            }
        }
        "crate_dir" => {
            if let Some(flag) = flag(value, key, errors) {
                config.crate_dir = flag
            }
        }
        "keep" => {
            if let Some(flag) = flag(value, key, errors) {
                config.keep = flag
            }
        }
        "runtime" => config.runtime = runtime(value, errors),
        "pids" => config.pids = limits::pids(value, errors),
        "cpu" => config.cpu_millis = limits::cpu(value, errors),
        _ => apply_string(config, key, value, errors),
    }
}

/// Stores a key whose value is one string.
fn apply_string(config: &mut Config, key: &str, value: &Expr, errors: &mut Errors) {
    let Some(lit) = string_literal(value) else {
        errors.at(value, format!("expected a string, like {}", example(key)));
        return;
    };
    let text = lit.value();
    let checked = match key {
        "rootfs" => validate::rootfs(&text).map(|()| config.rootfs = text),
        "hostname" => validate::hostname(&text).map(|()| config.hostname = text),
        "net" => validate::net(&text).map(|()| config.net = text),
        "memory" => memory::memory(&text).map(|bytes| config.memory = Some(bytes)),
        _ => duration::parse_millis(&text).map(|ms| config.timeout_ms = ms),
    };
    if let Err(message) = checked {
        errors.at(lit, message);
    }
}

/// An array of strings (`env`, `copy`, `bins`, `bind`): the entries that `check` accepts, as
/// it turns them into values.
fn string_entries<T>(
    value: &Expr,
    key: &str,
    errors: &mut Errors,
    check: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let Expr::Array(array) = value else {
        errors.at(
            value,
            format!("expected an array of strings, like {}", example(key)),
        );
        return Vec::new();
    };
    let mut entries = Vec::new();
    for element in &array.elems {
        let Some(lit) = string_literal(element) else {
            errors.at(element, format!("expected a string, like {}", example(key)));
            continue;
        };
        match check(&lit.value()) {
            Ok(entry) => entries.push(entry),
            Err(message) => errors.at(lit, message),
        }
    }
    entries
}

/// The candidate closest to `word` by edit distance, if close enough to be a typo of it: at
/// most a third of its letters off (`rootf`, `hostnme`, `memroy`, `Rootfs`).
fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word, c), *c))
        .filter(|&(d, c)| d <= c.len().max(3) / 3)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: distance between a[..i] and b[..j]
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// A `true` or `false` (`privileged`, `crate_dir`, `keep`).
fn flag(value: &Expr, key: &str, errors: &mut Errors) -> Option<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(flag),
            ..
        }) => Some(flag.value),
        other => {
            errors.at(
                other,
                format!("expected `true` or `false`, like {}", example(key)),
            );
            None
        }
    }
}

/// `runtime = "tokio"`, `"tokio-multi"`, or a path to a `block_on` function.
fn runtime(value: &Expr, errors: &mut Errors) -> Option<Runtime> {
    if let Expr::Path(path) = value {
        if path.qself.is_none() && path.attrs.is_empty() {
            return Some(Runtime::BlockOn(path.path.clone()));
        }
    }
    let Some(lit) = string_literal(value) else {
        errors.at(
            value,
            format!("expected a string or a path, like {}", example("runtime")),
        );
        return Some(Runtime::Invalid);
    };
    match lit.value().as_str() {
        "tokio" => Some(Runtime::Tokio),
        "tokio-multi" => Some(Runtime::TokioMulti),
        other => {
            errors.at(
                lit,
                format!(
                    "unknown runtime `{other}`: \"tokio\" (current-thread), \"tokio-multi\", or \
                     a path to your runtime's block_on, like `runtime = smol::block_on`"
                ),
            );
            Some(Runtime::Invalid)
        }
    }
}

/// The string in `value`, if it is a plain string literal.
pub(crate) fn string_literal(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit),
            attrs,
        }) if attrs.is_empty() => Some(lit),
        _ => None,
    }
}

/// How a key is written, for error messages.
fn example(key: &str) -> &'static str {
    match key {
        "rootfs" => "`rootfs = \"alpine\"`",
        "hostname" => "`hostname = \"box\"`",
        "timeout" => "`timeout = \"10s\"`",
        "net" => "`net = \"veth\"`",
        "copy" => "`copy = [\"tests/data/app.toml:/etc/app.toml\"]`",
        "bins" => "`bins = [\"mytool\"]`",
        "bind" => "`bind = [\"/var/cache/apt:/var/cache/apt\"]`",
        "memory" => "`memory = \"256M\"`",
        "pids" => "`pids = 64`",
        "cpu" => "`cpu = 0.5`",
        "caps" => "`caps = [\"+SYS_TIME\", \"-NET_RAW\"]`",
        "privileged" => "`privileged = true`",
        "devices" => "`devices = [\"/dev/net/tun\"]`",
        "crate_dir" => "`crate_dir = false`",
        "keep" => "`keep = true`",
        "runtime" => "`runtime = \"tokio-multi\"`",
        _ => "`env = [\"KEY=value\"]`",
    }
}

#[cfg(test)]
mod typo_tests {
    use super::{nearest, KEYS};

    #[test]
    fn a_typo_suggests_the_nearest_key() {
        for (typo, key) in [
            ("rootf", "rootfs"),
            ("Rootfs", "rootfs"),
            ("hostnme", "hostname"),
            ("memroy", "memory"),
            ("timout", "timeout"),
            ("device", "devices"),
            ("priviledged", "privileged"),
            ("cratedir", "crate_dir"),
            ("pid", "pids"),
        ] {
            assert_eq!(nearest(typo, &KEYS), Some(key), "{typo}");
        }
        for unrelated in ["foo", "x", "volume", "network_mode"] {
            assert_eq!(nearest(unrelated, &KEYS), None, "{unrelated}");
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse_ok(args: TokenStream) -> Config {
        let mut errors = Errors::default();
        let config = parse(args, &mut errors);
        errors.finish().expect("no errors");
        config
    }

    fn messages(args: TokenStream) -> Vec<String> {
        let mut errors = Errors::default();
        parse(args, &mut errors);
        let all = errors.finish().expect_err("errors");
        all.into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn empty_arguments_give_the_defaults() {
        assert_eq!(parse_ok(quote!()), Config::default());
    }

    #[test]
    fn every_key_is_stored() {
        let config = parse_ok(quote!(
            rootfs = "alpine",
            hostname = "box",
            timeout = "10s",
            env = ["K=V", "A=b c"],
        ));
        let expected = Config {
            rootfs: "alpine".into(),
            hostname: "box".into(),
            timeout_ms: 10_000,
            env: vec!["K=V".into(), "A=b c".into()],
            ..Config::default()
        };
        assert_eq!(config, expected);
    }

    #[test]
    fn every_error_is_reported() {
        let found = messages(quote!(
            foo = 1,
            rootfs = "a",
            rootfs = "b",
            timeout = 10,
            env = ["1=x", 3],
            hostname
        ));
        let expected = [
            "unknown key `foo` in #[isolated]; valid keys are: rootfs, hostname, timeout, env, net, copy, bins, bind, memory, pids, cpu, caps, privileged, devices, crate_dir, keep, runtime",
            "duplicate key `rootfs`",
            "expected a string, like `timeout = \"10s\"`",
            "invalid env entry `1=x`: the key must be letters, digits and '_', not starting with a digit",
            "expected a string, like `env = [\"KEY=value\"]`",
            "expected a value, like `hostname = \"box\"`",
        ];
        assert_eq!(found, expected);
    }
}
