//! `memory = "256M"`: a plain function of the string, shared with `isolated run`'s keys.

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
