//! The resource limit keys: `memory = "256M"`, `pids = 64`, `cpu = 0.5`.

use syn::{Expr, ExprLit, Lit};

use crate::attr::string_literal;
use crate::errors::Errors;

/// `"256M"`, `"1G"`, `"512K"`, `"1048576"` (bytes), or `"none"`: `Some(bytes)`, or `None` for
/// no limit.
pub(crate) fn memory(text: &str) -> Result<Option<u64>, String> {
    if text == "none" {
        return Ok(None);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        _ => return Err(bad_memory(text)),
    };
    let amount: u64 = digits.parse().map_err(|_| bad_memory(text))?;
    match amount.checked_mul(1 << shift) {
        Some(bytes) if bytes >= 1 << 20 => Ok(Some(bytes)),
        Some(_) => Err(format!(
            "memory limit `{text}` is below 1M: no test runs in that"
        )),
        None => Err(bad_memory(text)),
    }
}

fn bad_memory(text: &str) -> String {
    format!(
        "invalid memory limit `{text}`: expected a whole number of bytes with K, M or G, like \
         \"256M\", or \"none\""
    )
}

/// `pids = 64` or `pids = "none"`.
pub(crate) fn pids(value: &Expr, errors: &mut Errors) -> Option<Option<u64>> {
    if let Some(lit) = string_literal(value) {
        if lit.value() == "none" {
            return Some(None);
        }
    }
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(n) if n >= 1 => Some(Some(n)),
            _ => {
                errors.at(int, "the pids limit must be a whole number of at least 1");
                None
            }
        },
        _ => {
            errors.at(
                value,
                "expected a number of processes, like `pids = 64`, or \"none\"",
            );
            None
        }
    }
}

/// `cpu = 0.5` or `cpu = 2`: thousandths of a CPU, at least 0.01 of one.
pub(crate) fn cpu(value: &Expr, errors: &mut Errors) -> Option<u32> {
    let cpus: Option<f64> = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        _ => None,
    };
    match cpus {
        Some(cpus) if (0.01..=1024.0).contains(&cpus) => Some((cpus * 1000.0).round() as u32),
        Some(_) => {
            errors.at(value, "the cpu limit must be between 0.01 and 1024 CPUs");
            None
        }
        None => {
            errors.at(
                value,
                "expected a number of CPUs, like `cpu = 0.5` or `cpu = 2`",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(memory("256M"), Ok(Some(256 << 20)));
        assert_eq!(memory("1G"), Ok(Some(1 << 30)));
        assert_eq!(memory("2048k"), Ok(Some(2 << 20)));
        assert_eq!(memory("none"), Ok(None));
        for bad in ["", "M", "12MB", "1.5G", "-1G", "1K", "99999999999G"] {
            assert!(memory(bad).is_err(), "{bad}");
        }
    }
}
