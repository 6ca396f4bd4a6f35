//! `timeout = "10s"`: a whole number followed by a unit.

/// Milliseconds in one of each unit we accept.
const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Parses `"500ms"`, `"10s"`, `"2m"` or `"1h"` into milliseconds.
///
/// The error is the whole message to show at the literal.
pub(crate) fn parse_millis(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "invalid timeout `{text}`: expected a whole number followed by ms, s, m or h, \
             like \"500ms\", \"10s\" or \"2m\""
        )
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (amount, unit) = text.split_at(digits_end);
    let per_unit = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, millis)| *millis)
        .ok_or_else(invalid)?;
    if amount.is_empty() {
        return Err(invalid());
    }
    let too_large = || format!("invalid timeout `{text}`: too large");
    let amount: u64 = amount.parse().map_err(|_| too_large())?;
    if amount == 0 {
        return Err(format!(
            "invalid timeout `{text}`: must be greater than zero"
        ));
    }
    amount.checked_mul(per_unit).ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::parse_millis;

    #[test]
    fn accepts_every_unit() {
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("10s"), Ok(10_000));
        assert_eq!(parse_millis("2m"), Ok(120_000));
        assert_eq!(parse_millis("1h"), Ok(3_600_000));
        assert_eq!(parse_millis("007s"), Ok(7_000));
    }

    #[test]
    fn rejects_malformed_text() {
        for text in [
            "",
            "10",
            "s",
            "10 s",
            " 10s",
            "10s ",
            "1.5s",
            "-1s",
            "+1s",
            "10sec",
            "10 parsecs",
            "10S",
        ] {
            let err = parse_millis(text).unwrap_err();
            assert!(err.contains("expected a whole number"), "{text:?}: {err}");
        }
    }

    #[test]
    fn rejects_zero() {
        for text in ["0ms", "0s", "00m"] {
            let err = parse_millis(text).unwrap_err();
            assert!(
                err.ends_with("must be greater than zero"),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn rejects_overflow() {
        assert!(parse_millis("99999999999999999999ms")
            .unwrap_err()
            .ends_with("too large"));
        assert!(parse_millis("18446744073709551615h")
            .unwrap_err()
            .ends_with("too large"));
        assert_eq!(parse_millis("18446744073709551615ms"), Ok(u64::MAX));
    }
}
