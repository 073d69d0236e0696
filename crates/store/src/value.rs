//! Canonical text forms shared by both backends.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Room for any date or timestamp text (chrono's longest is 32 bytes).
pub(crate) const TEXT_BUF: usize = 40;

/// `YYYY-MM-DD HH:MM:SS[.f]` (the fraction as chrono's `%.f`: 3, 6 or 9
/// digits, none when zero).
pub(crate) fn timestamp(t: &NaiveDateTime) -> String {
    let mut buf = [0u8; TEXT_BUF];
    let n = write_timestamp(t, &mut buf);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

pub(crate) fn date(d: &NaiveDate) -> String {
    let mut buf = [0u8; TEXT_BUF];
    let n = write_date(d, &mut buf);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn put_digits(out: &mut [u8], mut v: u32, width: usize) {
    for i in (0..width).rev() {
        out[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Writes [`date`]'s text into `out` without allocating; returns its length.
pub(crate) fn write_date(d: &NaiveDate, out: &mut [u8; TEXT_BUF]) -> usize {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        // chrono's own rendering (a sign and more digits) for the rare
        // year outside four digits.
        let s = d.format("%Y-%m-%d").to_string();
        out[..s.len()].copy_from_slice(s.as_bytes());
        return s.len();
    }
    put_digits(&mut out[0..4], y as u32, 4);
    out[4] = b'-';
    put_digits(&mut out[5..7], d.month(), 2);
    out[7] = b'-';
    put_digits(&mut out[8..10], d.day(), 2);
    10
}

/// Writes [`timestamp`]'s text into `out` without allocating; returns its
/// length.
pub(crate) fn write_timestamp(t: &NaiveDateTime, out: &mut [u8; TEXT_BUF]) -> usize {
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&t.year()) || nanos >= 1_000_000_000 {
        // Out-of-range years and leap seconds: chrono's own rendering.
        let s = if nanos == 0 {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
        };
        out[..s.len()].copy_from_slice(s.as_bytes());
        return s.len();
    }
    let mut date = [0u8; TEXT_BUF];
    write_date(&t.date(), &mut date);
    out[..10].copy_from_slice(&date[..10]);
    out[10] = b' ';
    put_digits(&mut out[11..13], t.hour(), 2);
    out[13] = b':';
    put_digits(&mut out[14..16], t.minute(), 2);
    out[16] = b':';
    put_digits(&mut out[17..19], t.second(), 2);
    if nanos == 0 {
        return 19;
    }
    out[19] = b'.';
    if nanos.is_multiple_of(1_000_000) {
        put_digits(&mut out[20..23], nanos / 1_000_000, 3);
        23
    } else if nanos.is_multiple_of(1_000) {
        put_digits(&mut out[20..26], nanos / 1_000, 6);
        26
    } else {
        put_digits(&mut out[20..29], nanos, 9);
        29
    }
}

pub(crate) fn float(x: f64) -> String {
    format!("{x}")
}

/// JSON re-serialised with sorted keys and no spaces, so PostgreSQL's JSONB
/// rendering and SQLite's stored text compare equal.
pub(crate) fn json(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| s.to_string())
}

pub(crate) fn bool_text(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written formatters render exactly as chrono's `format`.
    #[test]
    fn formatting_matches_chrono() {
        let mut dates = vec![
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(1899, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(2025, 2, 28).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-5, 6, 7).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
        ];
        let mut d = NaiveDate::from_ymd_opt(1999, 1, 1).unwrap();
        for _ in 0..800 {
            dates.push(d);
            d = d + chrono::Days::new(37);
        }
        for d in &dates {
            assert_eq!(date(d), d.format("%Y-%m-%d").to_string());
            for (h, m, s, nano) in [
                (0, 0, 0, 0),
                (23, 59, 59, 999_999_999),
                (5, 6, 7, 250_000_000),
                (5, 6, 7, 123_456_000),
                (5, 6, 7, 1_000),
                (5, 6, 7, 7),
                (12, 30, 1, 10_000_000),
                (23, 59, 59, 1_500_000_000),
            ] {
                let t = d.and_hms_nano_opt(h, m, s, nano).unwrap();
                let want = if t.nanosecond() == 0 {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
                };
                assert_eq!(timestamp(&t), want);
            }
        }
    }
}
