//! Cell values written into CDW tables, and their validation against the
//! catalog's SQL Server types (so that whatever lands in SQLite also loads
//! into SQL Server).

use cdw::{Column, SqlType, Table, ValueKind};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::fmt::Write as _;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    /// A DECIMAL/NUMERIC value; rounded to the column's scale when written.
    Dec(f64),
    Str(&'static str),
    Text(String),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Value {
    pub fn opt_str(s: Option<&'static str>) -> Value {
        s.map_or(Value::Null, Value::Str)
    }

    pub fn opt_text(s: Option<String>) -> Value {
        s.map_or(Value::Null, Value::Text)
    }

    pub fn opt_int(i: Option<i64>) -> Value {
        i.map_or(Value::Null, Value::Int)
    }

    pub fn opt_date(d: Option<NaiveDate>) -> Value {
        d.map_or(Value::Null, Value::Date)
    }

    pub fn opt_dt(d: Option<NaiveDateTime>) -> Value {
        d.map_or(Value::Null, Value::DateTime)
    }

    pub fn yn(b: bool) -> Value {
        Value::Str(if b { "Y" } else { "N" })
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Self {
        Value::Str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<NaiveDate> for Value {
    fn from(d: NaiveDate) -> Self {
        Value::Date(d)
    }
}
impl From<NaiveDateTime> for Value {
    fn from(d: NaiveDateTime) -> Self {
        Value::DateTime(d)
    }
}

/// A value that does not fit its column.
#[derive(Debug, thiserror::Error)]
#[error("{table}.{column} ({sql_type}): {problem}")]
pub struct ValueError {
    pub table: String,
    pub column: &'static str,
    pub sql_type: SqlType,
    pub problem: String,
}

/// Checks that `v` is acceptable for `col` under SQL Server's rules.
pub fn check(table: &Table, col: &Column, v: &Value) -> Result<(), ValueError> {
    let fail = |problem: String| ValueError {
        table: table.qualified(),
        column: col.name,
        sql_type: col.sql_type,
        problem,
    };
    let kind = col.sql_type.kind();
    match (v, kind) {
        (Value::Null, _) => Ok(()),
        (Value::Int(i), ValueKind::Integer) => match col.sql_type.int_range() {
            Some((lo, hi)) if *i < lo || *i > hi => Err(fail(format!("{i} out of range"))),
            _ => Ok(()),
        },
        (Value::Bool(_), ValueKind::Bool) => Ok(()),
        (Value::Int(0 | 1), ValueKind::Bool) => Ok(()),
        (Value::Dec(_) | Value::Int(_), ValueKind::Decimal) => {
            let x = match v {
                Value::Dec(x) => *x,
                Value::Int(i) => *i as f64,
                _ => unreachable!("matched above"),
            };
            let (p, s) = match col.sql_type {
                SqlType::Decimal(p, s) | SqlType::Numeric(p, s) => (p as i32, s as i32),
                _ => unreachable!("decimal kind"),
            };
            if !x.is_finite() || x.abs() >= 10f64.powi(p - s) {
                return Err(fail(format!("{x} does not fit")));
            }
            Ok(())
        }
        (Value::Str(_) | Value::Text(_), ValueKind::Text) => {
            let s = v.as_text().unwrap_or_default();
            match col.sql_type.max_len() {
                // A string of at most n bytes has at most n characters, so
                // the character count is only needed for longer ones.
                Some(n) if s.len() > n && s.chars().count() > n => Err(fail(format!(
                    "text of {} chars exceeds {n}: {:?}",
                    s.chars().count(),
                    truncate(s, 40)
                ))),
                _ => Ok(()),
            }
        }
        (Value::Date(d), ValueKind::Date) | (Value::Date(d), ValueKind::DateTime) => {
            check_year(d.year()).map_err(fail)
        }
        (Value::DateTime(d), ValueKind::DateTime) => check_year(d.year()).map_err(fail),
        (other, kind) => Err(fail(format!("value {other:?} is not a {kind:?}"))),
    }
}

fn check_year(y: i32) -> Result<(), String> {
    // SQL Server DATETIME starts in 1753; keep every value inside that window.
    if (1753..=9999).contains(&y) {
        Ok(())
    } else {
        Err(format!("year {y} outside 1753..=9999"))
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Renders a date as `YYYY-MM-DD` into `out`.
pub fn write_date(out: &mut String, d: NaiveDate) {
    match date_bytes(d) {
        Some(b) => out.push_str(ascii(&b)),
        None => {
            let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
        }
    }
}

/// Renders a timestamp as `YYYY-MM-DD HH:MM:SS` (plus `.fff` when it has
/// milliseconds) into `out`.
pub fn write_datetime(out: &mut String, d: NaiveDateTime) {
    match datetime_bytes(d) {
        Some((b, n)) => out.push_str(ascii(&b[..n])),
        None => {
            write_date(out, d.date());
            let _ = write!(out, " {:02}:{:02}:{:02}", d.hour(), d.minute(), d.second());
            let ms = d.and_utc().timestamp_subsec_millis();
            if ms != 0 {
                let _ = write!(out, ".{ms:03}");
            }
        }
    }
}

/// Renders a date as `YYYY-MM-DD` into `out` (bytes).
pub fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    match date_bytes(d) {
        Some(b) => out.extend_from_slice(&b),
        None => {
            let mut s = String::new();
            write_date(&mut s, d);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Renders a timestamp like [`write_datetime`] into `out` (bytes).
pub fn push_datetime(out: &mut Vec<u8>, d: NaiveDateTime) {
    match datetime_bytes(d) {
        Some((b, n)) => out.extend_from_slice(&b[..n]),
        None => {
            let mut s = String::new();
            write_datetime(&mut s, d);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("digits and separators are ASCII")
}

fn two_digits(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

/// `YYYY-MM-DD` without the formatting machinery (the hot path of every
/// row); `None` for years that need more or fewer than four digits.
fn date_bytes(d: NaiveDate) -> Option<[u8; 10]> {
    let y = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let mut b = *b"0000-00-00";
    two_digits(&mut b[0..2], y / 100);
    two_digits(&mut b[2..4], y % 100);
    two_digits(&mut b[5..7], d.month());
    two_digits(&mut b[8..10], d.day());
    Some(b)
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` and its length; `None` where [`date_bytes`]
/// declines or the milliseconds need more than three digits (leap seconds).
fn datetime_bytes(d: NaiveDateTime) -> Option<([u8; 23], usize)> {
    let date = date_bytes(d.date())?;
    let ms = d.and_utc().timestamp_subsec_millis();
    if ms >= 1000 {
        return None;
    }
    let mut b = *b"0000-00-00 00:00:00.000";
    b[..10].copy_from_slice(&date);
    two_digits(&mut b[11..13], d.hour());
    two_digits(&mut b[14..16], d.minute());
    two_digits(&mut b[17..19], d.second());
    if ms == 0 {
        return Some((b, 19));
    }
    b[20] = b'0' + (ms / 100) as u8;
    two_digits(&mut b[21..23], ms % 100);
    Some((b, 23))
}

/// Rounds a decimal to `scale` places, half away from zero.
pub fn round_to(x: f64, scale: u8) -> f64 {
    let f = 10f64.powi(scale as i32);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdw::catalog;

    #[test]
    fn check_enforces_sql_server_rules() {
        let t = &catalog::S_PATIENT_S_PATIENT;
        let col = |n| t.column(n).unwrap();
        assert!(check(t, col("PatientSID"), &Value::Int(5)).is_ok());
        assert!(check(t, col("Sta3n"), &Value::Int(70000)).is_err());
        assert!(check(t, col("Gender"), &Value::Str("MF")).is_err());
        assert!(check(t, col("PatientName"), &Value::Int(1)).is_err());
        assert!(check(t, col("Age"), &Value::Dec(1e10)).is_err());
        assert!(check(t, col("Age"), &Value::Int(80)).is_ok());
        let old = NaiveDate::from_ymd_opt(1700, 1, 1).unwrap();
        assert!(check(t, col("BirthDateTime"), &Value::Date(old)).is_err());
        assert!(check(t, col("DeathDateTime"), &Value::Null).is_ok());
    }

    #[test]
    fn datetimes_render_without_locale() {
        let mut s = String::new();
        let d = NaiveDate::from_ymd_opt(2026, 2, 7).unwrap();
        write_datetime(&mut s, d.and_hms_opt(8, 5, 0).unwrap());
        assert_eq!(s, "2026-02-07 08:05:00");
        s.clear();
        write_datetime(&mut s, d.and_hms_milli_opt(8, 5, 0, 7).unwrap());
        assert_eq!(s, "2026-02-07 08:05:00.007");
        assert_eq!(round_to(1.005_01, 2), 1.01);
    }

    #[test]
    fn fast_rendering_matches_the_formatter() {
        let reference = |d: NaiveDateTime| {
            let mut s = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            );
            let ms = d.and_utc().timestamp_subsec_millis();
            if ms != 0 {
                s.push_str(&format!(".{ms:03}"));
            }
            s
        };
        let days = [
            (1, 1, 1),
            (999, 12, 31),
            (1753, 1, 1),
            (2026, 11, 22),
            (9999, 12, 31),
        ];
        let times = [
            (0, 0, 0, 0),
            (9, 5, 7, 1),
            (23, 59, 59, 999),
            (12, 30, 0, 50),
            (23, 59, 59, 1500),
        ];
        for (y, m, d) in days {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut s = String::new();
            write_date(&mut s, day);
            assert_eq!(s, format!("{y:04}-{m:02}-{d:02}"));
            let mut b = Vec::new();
            push_date(&mut b, day);
            assert_eq!(b, s.as_bytes());
            for (h, mi, se, ms) in times {
                let t = day.and_hms_milli_opt(h, mi, se, ms).unwrap();
                let mut s = String::new();
                write_datetime(&mut s, t);
                assert_eq!(s, reference(t), "{t:?}");
                let mut b = Vec::new();
                push_datetime(&mut b, t);
                assert_eq!(b, s.as_bytes());
            }
        }
    }
}
