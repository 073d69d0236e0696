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
                Some(n) if s.chars().count() > n => Err(fail(format!(
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
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
}

/// Renders a timestamp as `YYYY-MM-DD HH:MM:SS` (plus `.fff` when it has
/// milliseconds) into `out`.
pub fn write_datetime(out: &mut String, d: NaiveDateTime) {
    write_date(out, d.date());
    let _ = write!(out, " {:02}:{:02}:{:02}", d.hour(), d.minute(), d.second());
    let ms = d.and_utc().timestamp_subsec_millis();
    if ms != 0 {
        let _ = write!(out, ".{ms:03}");
    }
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
}
