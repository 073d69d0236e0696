//! Canonical text forms shared by both backends.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

pub(crate) fn timestamp(t: &NaiveDateTime) -> String {
    if t.nanosecond() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }
}

pub(crate) fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
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
