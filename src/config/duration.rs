//! Human durations in configuration: `3 days`, `72h`, `1 week`, `30m`, `0`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Something other than a number where a number was due.
    #[error("Expected a number at `{0}`")]
    ExpectedNumber(String),
    /// A number with more digits than fit in 64 bits.
    #[error("`{0}` is too large")]
    NumberTooLarge(String),
    /// The total overflows.
    #[error("`{0}` is too long")]
    TooLong(String),
    /// A number with no unit after it.
    #[error("`{0}` needs a unit such as `days` or `h`")]
    MissingUnit(u64),
    /// A unit repin does not know.
    #[error("Unknown unit `{0}`")]
    UnknownUnit(String),
    /// Nothing at all.
    #[error("Expected a duration such as `3 days`")]
    Empty,
}

impl crate::error::Hint for DurationError {}

/// Parse a duration written as a number and a unit, or several (`1d 12h`).
///
/// Units: `ms`/`millisecond(s)`, `s`/`sec`/`second(s)`, `m`/`min`/`minute(s)`, `h`/`hour(s)`,
/// `d`/`day(s)`, `w`/`week(s)`. A bare `0` means no duration.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0u64;
    let mut total_ms = 0u64;
    let mut rest = text;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(DurationError::ExpectedNumber(rest.to_owned()));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::NumberTooLarge(rest[..digits].to_owned()))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let lower = unit.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds"
        ) {
            total_ms = number
                .checked_add(total_ms)
                .ok_or_else(|| DurationError::TooLong(text.to_owned()))?;
            rest = rest[unit_len..]
                .trim_start()
                .trim_start_matches(',')
                .trim_start();
            parts += 1;
            continue;
        }
        let seconds = match lower.as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            "" => return Err(DurationError::MissingUnit(number)),
            other => return Err(DurationError::UnknownUnit(other.to_owned())),
        };
        total = number
            .checked_mul(seconds)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| DurationError::TooLong(text.to_owned()))?;
        rest = rest[unit_len..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
        parts += 1;
    }
    if parts == 0 {
        return Err(DurationError::Empty);
    }
    Ok(Duration::from_secs(total) + Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let day = 86_400;
        let cases = [
            ("3 days", 3 * day),
            ("72h", 72 * 3600),
            ("1 week", 7 * day),
            ("1d 12h", day + 12 * 3600),
            ("30m", 1800),
            ("0", 0),
            ("2 Days", 2 * day),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse(text), Ok(Duration::from_secs(seconds)), "{text}");
        }
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1s 250ms"), Ok(Duration::from_millis(1250)));
        for bad in [
            "",
            "3",
            "days",
            "3 fortnights",
            "-1d",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let said = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(said("3"), "`3` needs a unit such as `days` or `h`");
        assert_eq!(said("3 fortnights"), "Unknown unit `fortnights`");
        assert_eq!(said("-1d"), "Expected a number at `-1d`");
        assert_eq!(said(""), "Expected a duration such as `3 days`");
        assert_eq!(
            said("99999999999999999999d"),
            "`99999999999999999999` is too large"
        );
    }
}
