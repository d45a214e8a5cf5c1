//! Durations as people write them for timeouts: `250ms`, `2s`, `1.5s`, `5min`, `1h`, or a bare
//! number of milliseconds (PostgreSQL's unit for `lock_timeout`). The runner's flags, environment
//! variables and migration headers all read them here, so they accept the same spellings.

use std::time::Duration;

/// Parses `text`; the error says what was wrong and shows the accepted forms.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim();
    let invalid = || {
        format!(
            "`{}` is not a duration: write a number with a unit, e.g. 250ms, 2s, 1.5s, 5min, 1h (a bare number is milliseconds)",
            text.escape_debug()
        )
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let millis_per_unit = match unit {
        "" | "ms" => 1.0,
        "s" | "sec" | "secs" => 1_000.0,
        "m" | "min" | "mins" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(invalid()),
    };
    let millis = value * millis_per_unit;
    // PostgreSQL's timeouts are integers of milliseconds up to i32::MAX (about 24.8 days).
    if !millis.is_finite() || millis > f64::from(i32::MAX) {
        return Err(format!(
            "`{}` is too long: PostgreSQL's timeouts stop at 2147483647ms (about 24 days)",
            text.escape_debug()
        ));
    }
    Ok(Duration::from_micros((millis * 1_000.0).round() as u64))
}

/// A lock timeout: a duration, never 0 (which would wait for locks forever).
pub fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse(text)?;
    if timeout.is_zero() {
        return Err(
            "a lock timeout of 0 waits for locks forever, which stalls every query queued behind the migration; give a duration such as 250ms".to_string(),
        );
    }
    Ok(timeout)
}

/// A statement timeout: a duration, or `off` (`None`).
pub fn parse_statement_timeout(text: &str) -> Result<Option<Duration>, String> {
    if text.trim() == "off" {
        return Ok(None);
    }
    let timeout = parse(text)?;
    if timeout.is_zero() {
        return Err("write `off` for no statement timeout".to_string());
    }
    Ok(Some(timeout))
}

/// `d` the way PostgreSQL's `SET ... = '<value>'` reads it, in whole milliseconds (at least 1, as
/// 0 would mean "no timeout").
pub fn to_setting(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// `d` for messages: `250ms`, `2s`, `1.5s`, `5min 30s`.
pub fn display(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        let tenths = (ms + 50) / 100;
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    } else {
        let secs = (ms + 500) / 1_000;
        match (secs / 60, secs % 60) {
            (m, 0) => format!("{m}min"),
            (m, s) => format!("{m}min {s}s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spellings_people_use() {
        let ms = |n| Duration::from_millis(n);
        for (text, expected) in [
            ("250ms", ms(250)),
            ("250", ms(250)),
            (" 2s ", ms(2_000)),
            ("1.5s", ms(1_500)),
            ("5min", ms(300_000)),
            ("5m", ms(300_000)),
            ("1h", ms(3_600_000)),
            ("0", ms(0)),
        ] {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_garbage_and_what_postgresql_cannot_hold() {
        for text in ["", "fast", "2 parsecs", "-1s", "1.2.3s", "s", "1e3"] {
            let error = parse(text).expect_err(text);
            assert!(error.contains("is not a duration"), "{text}: {error}");
        }
        let error = parse("30d").expect_err("days are not a unit");
        assert!(error.contains("is not a duration"), "{error}");
        let error = parse("1000h").expect_err("too long");
        assert!(error.contains("too long"), "{error}");
    }

    #[test]
    fn timeouts_refuse_zero() {
        assert!(
            parse_lock_timeout("0")
                .expect_err("zero")
                .contains("forever")
        );
        assert!(
            parse_lock_timeout("soon")
                .expect_err("garbage")
                .contains("not a duration")
        );
        assert_eq!(parse_lock_timeout("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_statement_timeout("off"), Ok(None));
        assert!(
            parse_statement_timeout("0s")
                .expect_err("zero")
                .contains("off")
        );
    }

    #[test]
    fn displays_and_sets() {
        assert_eq!(display(Duration::from_millis(250)), "250ms");
        assert_eq!(display(Duration::from_millis(2_000)), "2s");
        assert_eq!(display(Duration::from_millis(1_540)), "1.5s");
        assert_eq!(display(Duration::from_millis(330_000)), "5min 30s");
        assert_eq!(to_setting(Duration::from_millis(250)), "250ms");
        assert_eq!(to_setting(Duration::from_micros(10)), "1ms");
    }
}
