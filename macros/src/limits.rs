//! The resource limit keys: `memory = "256M"`, `pids = 64`, `cpu = 0.5`.

use syn::{Expr, ExprLit, Lit};

use crate::attr::string_literal;
use crate::errors::Errors;

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
            Ok(n) if n >= 2 => Some(Some(n)),
            _ => {
                errors.at(
                    int,
                    "the pids limit must be a whole number of at least 2: it counts the test's \
                     init and body too",
                );
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
