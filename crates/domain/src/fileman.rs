//! VistA FileMan dates and times, and the VistA simulator's relative
//! `T±N` notation.
//!
//! FileMan stores a moment as the decimal number `YYYMMDD[.HHMMSS]` where
//! `YYY` is the year minus 1700 (so 2026-02-07 08:45 is `3260207.0845` and
//! 1980-01-02 is `2800102`). Reference: original-data-and-services §3.3–§3.4.
//!
//! Decisions taken here (each one is tested):
//!
//! * **Years** must be 1700–2699, i.e. exactly three `YYY` digits.
//! * **Imprecise dates** (month or day `00`, which real FileMan permits for
//!   "some time in 1998") are *rejected* with [`FileManError::ImpreciseDate`]
//!   because every consumer here needs a calendar day.
//! * **Time digits**: 1 to 6 digits after the dot, right-padded with zeros,
//!   so `.1` is 10:00, `.084` is 08:40 and `.0845` is 08:45. Trailing zeros
//!   in the input are accepted (`.084500`).
//! * **Midnight**: FileMan has no 00:00 time; midnight is written `.24` and
//!   means the *end* of the given day. Parsing `.24` (or `.2400`, `.240000`)
//!   therefore yields 00:00 of the *next* day, while an all-zero time
//!   (`.0`, `.0000`) is rejected ([`FileManError::ZeroTime`]). When
//!   formatting, a time of exactly 00:00:00 is written as the bare date, so
//!   formatting then parsing a midnight date-time gives back a
//!   [`FileManValue::Date`] for the same day (whose
//!   [`to_datetime`](FileManValue::to_datetime) is that midnight again).
//! * **Formatting** drops trailing zeros of an `HHMM` time as FileMan does
//!   (08:45:00 → `.0845`, 08:40 → `.084`, 10:00 → `.1`); a time with
//!   non-zero seconds is written with all six digits (08:45:30 →
//!   `.084530`). Fractions of a second are truncated.
//! * **Whitespace**: surrounding whitespace is trimmed; anything else that is
//!   not a digit or the single dot (signs, inner spaces, exponents) is
//!   rejected.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::shown;

/// Year encoded as `YYY = 000`.
pub const FILEMAN_EPOCH_YEAR: i32 = 1700;
/// Last year representable with three `YYY` digits.
pub const FILEMAN_MAX_YEAR: i32 = 2699;
/// Largest `N` accepted in `T±N` notation (about one hundred years).
pub const MAX_T_OFFSET_DAYS: u32 = 36_500;

/// Why a FileMan or `T±N` value was rejected. Every variant carries the
/// offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileManError {
    /// Empty or all-whitespace input.
    #[error("empty FileMan date: expected YYYMMDD[.HHMMSS], e.g. 3260207.0845")]
    Empty,
    /// A character other than ASCII digits and one dot.
    #[error(
        "invalid FileMan date {input:?}: unexpected character {found:?}; expected digits YYYMMDD with an optional .HHMMSS"
    )]
    InvalidCharacter {
        /// The rejected input.
        input: String,
        /// First offending character.
        found: char,
    },
    /// More than one dot.
    #[error("invalid FileMan date {input:?}: more than one '.'; expected YYYMMDD[.HHMMSS]")]
    ExtraDot {
        /// The rejected input.
        input: String,
    },
    /// The date part is not exactly seven digits.
    #[error(
        "invalid FileMan date {input:?}: date part has {found} digits; expected exactly 7 (YYYMMDD, YYY = year - 1700)"
    )]
    DateDigits {
        /// The rejected input.
        input: String,
        /// Number of digits found.
        found: usize,
    },
    /// The time part is empty or longer than six digits.
    #[error(
        "invalid FileMan date {input:?}: time part has {found} digits; expected 1 to 6 (HH[MM[SS]])"
    )]
    TimeDigits {
        /// The rejected input.
        input: String,
        /// Number of digits found.
        found: usize,
    },
    /// Month or day is `00` (an imprecise FileMan date).
    #[error(
        "imprecise FileMan date {input:?}: month or day is 00; FileMan allows this for partial dates but a full calendar date is required here"
    )]
    ImpreciseDate {
        /// The rejected input.
        input: String,
    },
    /// Month/day do not form a calendar date (e.g. February 30).
    #[error("invalid FileMan date {input:?}: not a calendar date")]
    InvalidDate {
        /// The rejected input.
        input: String,
    },
    /// The time part is all zeros.
    #[error(
        "invalid FileMan time in {input:?}: FileMan has no 00:00 time; give the bare date, or .24 for midnight at the end of the day"
    )]
    ZeroTime {
        /// The rejected input.
        input: String,
    },
    /// Hour above 24.
    #[error("invalid FileMan time in {input:?}: hour {hour} is above 24")]
    HourOutOfRange {
        /// The rejected input.
        input: String,
        /// Hour found.
        hour: u32,
    },
    /// Minute above 59.
    #[error("invalid FileMan time in {input:?}: minute {minute} is above 59")]
    MinuteOutOfRange {
        /// The rejected input.
        input: String,
        /// Minute found.
        minute: u32,
    },
    /// Second above 59.
    #[error("invalid FileMan time in {input:?}: second {second} is above 59")]
    SecondOutOfRange {
        /// The rejected input.
        input: String,
        /// Second found.
        second: u32,
    },
    /// Hour 24 with non-zero minutes or seconds.
    #[error(
        "invalid FileMan time in {input:?}: hour 24 (midnight) must have zero minutes and seconds"
    )]
    MidnightWithMinutes {
        /// The rejected input.
        input: String,
    },
    /// Not of the form `T`, `T+N` or `T-N` with an optional `.HHMM`.
    #[error(
        "invalid T-notation {input:?}: expected T, T+N or T-N (N whole days) with an optional .HHMM suffix, e.g. T-7 or T-0.0845"
    )]
    InvalidTNotation {
        /// The rejected input.
        input: String,
    },
    /// `N` is larger than [`MAX_T_OFFSET_DAYS`].
    #[error("invalid T-notation {input:?}: day offset exceeds {max} days", max = MAX_T_OFFSET_DAYS)]
    TOffsetOutOfRange {
        /// The rejected input.
        input: String,
    },
    /// The resolved date falls outside the FileMan years 1700-2699.
    #[error("date for {input:?} falls outside the FileMan years 1700-2699")]
    YearOutOfRange {
        /// The rejected input.
        input: String,
    },
}

/// A parsed FileMan value: a bare date, or a date with a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileManValue {
    /// `YYYMMDD` with no time part.
    Date(NaiveDate),
    /// `YYYMMDD.HHMM[SS]`.
    DateTime(NaiveDateTime),
}

impl FileManValue {
    /// The calendar day (for `.24` this is already the following day).
    pub fn date(self) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::DateTime(dt) => dt.date(),
        }
    }

    /// The time of day, if one was given.
    pub fn time(self) -> Option<NaiveTime> {
        match self {
            Self::Date(_) => None,
            Self::DateTime(dt) => Some(dt.time()),
        }
    }

    /// The moment, treating a bare date as 00:00 of that day.
    pub fn to_datetime(self) -> NaiveDateTime {
        match self {
            Self::Date(d) => d.and_time(NaiveTime::MIN),
            Self::DateTime(dt) => dt,
        }
    }

    /// FileMan text of this value (see [`to_fileman_date`] and
    /// [`to_fileman_datetime`]).
    pub fn to_fileman(self) -> String {
        match self {
            Self::Date(d) => to_fileman_date(d),
            Self::DateTime(dt) => to_fileman_datetime(dt),
        }
    }
}

impl From<NaiveDate> for FileManValue {
    fn from(d: NaiveDate) -> Self {
        Self::Date(d)
    }
}

impl From<NaiveDateTime> for FileManValue {
    fn from(dt: NaiveDateTime) -> Self {
        Self::DateTime(dt)
    }
}

impl fmt::Display for FileManValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_fileman())
    }
}

impl FromStr for FileManValue {
    type Err = FileManError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fileman(s)
    }
}

/// Formats a date as FileMan `YYYMMDD`.
///
/// Only years 1700–2699 give valid FileMan text; outside that range the same
/// arithmetic is applied (yielding text that [`parse_fileman`] rejects). Use
/// [`checked_to_fileman_date`] when the year is not known to be in range.
pub fn to_fileman_date(date: NaiveDate) -> String {
    format!(
        "{:03}{:02}{:02}",
        date.year() - FILEMAN_EPOCH_YEAR,
        date.month(),
        date.day()
    )
}

/// Formats a date-time as FileMan `YYYMMDD[.HHMM[SS]]`.
///
/// Without seconds, trailing zeros of `HHMM` are dropped (08:45 → `.0845`,
/// 08:40 → `.084`, 10:00 → `.1`); with non-zero seconds all six digits are
/// written (08:45:30 → `.084530`, which [`parse_fileman`] reads exactly like
/// FileMan's numeric form `.08453`). Exactly 00:00:00 is written as the bare
/// date. Fractions of a second are truncated. Same year caveat as
/// [`to_fileman_date`].
pub fn to_fileman_datetime(datetime: NaiveDateTime) -> String {
    let mut out = to_fileman_date(datetime.date());
    let (h, m, s) = (datetime.hour(), datetime.minute(), datetime.second());
    if (h, m, s) == (0, 0, 0) {
        return out;
    }
    out.push('.');
    if s == 0 {
        out.push_str(format!("{h:02}{m:02}").trim_end_matches('0'));
    } else {
        out.push_str(&format!("{h:02}{m:02}{s:02}"));
    }
    out
}

/// Like [`to_fileman_date`] but `None` when the year is outside 1700–2699.
pub fn checked_to_fileman_date(date: NaiveDate) -> Option<String> {
    year_in_range(date.year()).then(|| to_fileman_date(date))
}

/// Like [`to_fileman_datetime`] but `None` when the year is outside
/// 1700–2699.
pub fn checked_to_fileman_datetime(datetime: NaiveDateTime) -> Option<String> {
    year_in_range(datetime.year()).then(|| to_fileman_datetime(datetime))
}

fn year_in_range(year: i32) -> bool {
    (FILEMAN_EPOCH_YEAR..=FILEMAN_MAX_YEAR).contains(&year)
}

/// Parses FileMan `YYYMMDD[.HHMMSS]` text under the rules in the module
/// documentation.
pub fn parse_fileman(input: &str) -> Result<FileManValue, FileManError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FileManError::Empty);
    }
    if let Some(found) = s.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(FileManError::InvalidCharacter {
            input: shown(input),
            found,
        });
    }
    let (date_digits, time_digits) = match s.split_once('.') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    if time_digits.is_some_and(|t| t.contains('.')) {
        return Err(FileManError::ExtraDot {
            input: shown(input),
        });
    }
    let date = parse_date_digits(date_digits, input)?;
    match time_digits {
        None => Ok(FileManValue::Date(date)),
        Some(t) => apply_time(date, t, input),
    }
}

/// Parses the seven ASCII digits `YYYMMDD`.
fn parse_date_digits(digits: &str, input: &str) -> Result<NaiveDate, FileManError> {
    if digits.len() != 7 {
        return Err(FileManError::DateDigits {
            input: shown(input),
            found: digits.len(),
        });
    }
    let yyy = digits_value(&digits[0..3]);
    let month = digits_value(&digits[3..5]);
    let day = digits_value(&digits[5..7]);
    if month == 0 || day == 0 {
        return Err(FileManError::ImpreciseDate {
            input: shown(input),
        });
    }
    let invalid = || FileManError::InvalidDate {
        input: shown(input),
    };
    let year = FILEMAN_EPOCH_YEAR + i32::try_from(yyy).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)
}

/// Value of a short run of ASCII digits (callers guarantee digits only and
/// at most six of them, so this cannot overflow).
fn digits_value(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

/// Combines a date with FileMan time digits (`HH[MM[SS]]`, right-padded).
fn apply_time(date: NaiveDate, digits: &str, input: &str) -> Result<FileManValue, FileManError> {
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FileManError::TimeDigits {
            input: shown(input),
            found: digits.len(),
        });
    }
    let padded = format!("{digits:0<6}");
    let (hour, minute, second) = (
        digits_value(&padded[0..2]),
        digits_value(&padded[2..4]),
        digits_value(&padded[4..6]),
    );
    let input = || shown(input);
    if (hour, minute, second) == (0, 0, 0) {
        return Err(FileManError::ZeroTime { input: input() });
    }
    if hour > 24 {
        return Err(FileManError::HourOutOfRange {
            input: input(),
            hour,
        });
    }
    if minute > 59 {
        return Err(FileManError::MinuteOutOfRange {
            input: input(),
            minute,
        });
    }
    if second > 59 {
        return Err(FileManError::SecondOutOfRange {
            input: input(),
            second,
        });
    }
    if hour == 24 {
        if (minute, second) != (0, 0) {
            return Err(FileManError::MidnightWithMinutes { input: input() });
        }
        let next = date
            .succ_opt()
            .ok_or_else(|| FileManError::YearOutOfRange { input: input() })?;
        return Ok(FileManValue::DateTime(next.and_time(NaiveTime::MIN)));
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)
        .ok_or_else(|| FileManError::InvalidDate { input: input() })?;
    Ok(FileManValue::DateTime(date.and_time(time)))
}

/// Resolves the VistA simulator's relative date notation against `today`.
///
/// Accepted forms (surrounding whitespace trimmed, `t` may be lower case):
/// `T` (today), `T+N` (N days ahead), `T-N` (N days ago), each optionally
/// followed by a FileMan time suffix `.HHMM[SS]` with the same rules as
/// [`parse_fileman`] (so `T-0.0845` is today at 08:45 and `T.24` is the
/// start of tomorrow). `N` is 0–36 500 written in ASCII digits. Anything
/// else, including a bare FileMan date, is rejected; see
/// [`resolve_fileman_or_t`] for a parser that accepts both.
///
/// Reference: original-data-and-services §3.3 (`T-N`/`T+N` with a copied
/// `.HHMM` suffix).
pub fn resolve_t_notation(input: &str, today: NaiveDate) -> Result<FileManValue, FileManError> {
    let invalid = || FileManError::InvalidTNotation {
        input: shown(input),
    };
    let s = input.trim();
    let rest = s
        .strip_prefix('T')
        .or_else(|| s.strip_prefix('t'))
        .ok_or_else(invalid)?;
    let (offset_text, time_digits) = match rest.split_once('.') {
        Some((o, t)) => (o, Some(t)),
        None => (rest, None),
    };
    let offset = parse_day_offset(offset_text, input)?;
    let out_of_range = || FileManError::YearOutOfRange {
        input: shown(input),
    };
    let date = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    }
    .ok_or_else(out_of_range)?;
    if !year_in_range(date.year()) {
        return Err(out_of_range());
    }
    match time_digits {
        None => Ok(FileManValue::Date(date)),
        Some(t) => apply_time(date, t, input),
    }
}

/// Parses the `±N` part of T-notation (empty means 0).
fn parse_day_offset(text: &str, input: &str) -> Result<i64, FileManError> {
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = if let Some(d) = text.strip_prefix('-') {
        (true, d)
    } else if let Some(d) = text.strip_prefix('+') {
        (false, d)
    } else {
        return Err(FileManError::InvalidTNotation {
            input: shown(input),
        });
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FileManError::InvalidTNotation {
            input: shown(input),
        });
    }
    let magnitude = digits.bytes().try_fold(0_u32, |acc, b| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .filter(|v| *v <= MAX_T_OFFSET_DAYS)
    });
    match magnitude {
        Some(m) if negative => Ok(-i64::from(m)),
        Some(m) => Ok(i64::from(m)),
        None => Err(FileManError::TOffsetOutOfRange {
            input: shown(input),
        }),
    }
}

/// Accepts either T-notation or a literal FileMan value: text starting with
/// `T`/`t` (after trimming) is resolved with [`resolve_t_notation`],
/// anything else is parsed with [`parse_fileman`].
pub fn resolve_fileman_or_t(input: &str, today: NaiveDate) -> Result<FileManValue, FileManError> {
    let s = input.trim_start();
    if s.starts_with(['T', 't']) {
        resolve_t_notation(input, today)
    } else {
        parse_fileman(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn dt(y: i32, m: u32, day: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, mi, s).unwrap()
    }

    #[test]
    fn formats_reference_examples() {
        assert_eq!(
            to_fileman_datetime(dt(2026, 2, 7, 8, 45, 0)),
            "3260207.0845"
        );
        assert_eq!(to_fileman_date(d(1980, 1, 2)), "2800102");
        assert_eq!(to_fileman_date(d(1700, 1, 1)), "0000101");
        assert_eq!(to_fileman_date(d(2699, 12, 31)), "9991231");
    }

    #[test]
    fn formatting_trims_trailing_time_zeros() {
        let cases = [
            ((8, 45, 0), "3260207.0845"),
            ((8, 40, 0), "3260207.084"),
            ((10, 0, 0), "3260207.1"),
            ((8, 45, 30), "3260207.084530"),
            ((8, 45, 3), "3260207.084503"),
            ((0, 0, 1), "3260207.000001"),
            ((0, 1, 0), "3260207.0001"),
            ((8, 40, 30), "3260207.084030"),
            ((10, 0, 5), "3260207.100005"),
            ((23, 59, 59), "3260207.235959"),
            ((20, 0, 0), "3260207.2"),
        ];
        for ((h, m, s), want) in cases {
            assert_eq!(to_fileman_datetime(dt(2026, 2, 7, h, m, s)), want);
        }
    }

    #[test]
    fn formatting_midnight_gives_bare_date() {
        assert_eq!(to_fileman_datetime(dt(2026, 2, 7, 0, 0, 0)), "3260207");
        let back = parse_fileman("3260207").unwrap();
        assert_eq!(back, FileManValue::Date(d(2026, 2, 7)));
        assert_eq!(back.to_datetime(), dt(2026, 2, 7, 0, 0, 0));
    }

    #[test]
    fn formatting_truncates_fractional_seconds() {
        let with_nanos = d(2026, 2, 7).and_hms_milli_opt(8, 45, 3, 999).unwrap();
        assert_eq!(to_fileman_datetime(with_nanos), "3260207.084503");
    }

    #[test]
    fn checked_formatting_rejects_out_of_range_years() {
        assert_eq!(checked_to_fileman_date(d(1699, 12, 31)), None);
        assert_eq!(
            checked_to_fileman_date(d(1700, 1, 1)).as_deref(),
            Some("0000101")
        );
        assert_eq!(
            checked_to_fileman_date(d(2699, 12, 31)).as_deref(),
            Some("9991231")
        );
        assert_eq!(checked_to_fileman_date(d(2700, 1, 1)), None);
        assert_eq!(
            checked_to_fileman_datetime(dt(2026, 2, 7, 8, 45, 0)).as_deref(),
            Some("3260207.0845")
        );
        assert_eq!(checked_to_fileman_datetime(dt(2700, 1, 1, 1, 0, 0)), None);
    }

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(
            parse_fileman("2800102").unwrap(),
            FileManValue::Date(d(1980, 1, 2))
        );
        assert_eq!(
            parse_fileman("3260207.0845").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 0))
        );
        assert_eq!(
            parse_fileman("3260207.1").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 10, 0, 0))
        );
        assert_eq!(
            parse_fileman("3260207.084").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 40, 0))
        );
        assert_eq!(
            parse_fileman("3260207.08453").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 30))
        );
        assert_eq!(
            parse_fileman("3260207.084503").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 3))
        );
        assert_eq!(
            parse_fileman("3260207.084500").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 0))
        );
        assert_eq!(
            parse_fileman(" 3260207.0845 ").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 0))
        );
        assert_eq!(
            parse_fileman("3260207.235959").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 23, 59, 59))
        );
        assert_eq!(parse_fileman("0000101").unwrap().date(), d(1700, 1, 1));
        assert_eq!(parse_fileman("9991231").unwrap().date(), d(2699, 12, 31));
        assert_eq!(parse_fileman("3240229").unwrap().date(), d(2024, 2, 29));
    }

    #[test]
    fn parses_24_as_start_of_next_day() {
        for text in [
            "3260207.24",
            "3260207.240",
            "3260207.2400",
            "3260207.24000",
            "3260207.240000",
        ] {
            assert_eq!(
                parse_fileman(text).unwrap(),
                FileManValue::DateTime(dt(2026, 2, 8, 0, 0, 0)),
                "{text}"
            );
        }
        assert_eq!(
            parse_fileman("3251231.24").unwrap(),
            FileManValue::DateTime(dt(2026, 1, 1, 0, 0, 0))
        );
        assert_eq!(parse_fileman("3240228.24").unwrap().date(), d(2024, 2, 29));
    }

    #[test]
    fn rejects_bad_times() {
        use FileManError as E;
        assert!(matches!(
            parse_fileman("3260207.2401"),
            Err(E::MidnightWithMinutes { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.240001"),
            Err(E::MidnightWithMinutes { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.25"),
            Err(E::HourOutOfRange { hour: 25, .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.3"),
            Err(E::HourOutOfRange { hour: 30, .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.0860"),
            Err(E::MinuteOutOfRange { minute: 60, .. })
        ));
        assert_eq!(
            parse_fileman("3260207.0859").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 59, 0))
        );
        assert!(matches!(
            parse_fileman("3260207.085960"),
            Err(E::SecondOutOfRange { second: 60, .. })
        ));
        assert_eq!(
            parse_fileman("3260207.085959").unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 59, 59))
        );
        assert!(matches!(
            parse_fileman("3260207.0"),
            Err(E::ZeroTime { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.0000"),
            Err(E::ZeroTime { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.000000"),
            Err(E::ZeroTime { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207."),
            Err(E::TimeDigits { found: 0, .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.0845001"),
            Err(E::TimeDigits { found: 7, .. })
        ));
        assert!(matches!(
            parse_fileman("3260207.08.45"),
            Err(E::ExtraDot { .. })
        ));
    }

    #[test]
    fn rejects_bad_dates() {
        use FileManError as E;
        assert!(matches!(parse_fileman(""), Err(E::Empty)));
        assert!(matches!(parse_fileman("   "), Err(E::Empty)));
        assert!(matches!(
            parse_fileman("3260230"),
            Err(E::InvalidDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3250229"),
            Err(E::InvalidDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3261301"),
            Err(E::InvalidDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3260132"),
            Err(E::InvalidDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3260431"),
            Err(E::InvalidDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3260001"),
            Err(E::ImpreciseDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3260200"),
            Err(E::ImpreciseDate { .. })
        ));
        assert!(matches!(
            parse_fileman("3260000"),
            Err(E::ImpreciseDate { .. })
        ));
        assert!(matches!(
            parse_fileman("326020"),
            Err(E::DateDigits { found: 6, .. })
        ));
        assert!(matches!(
            parse_fileman("32602070"),
            Err(E::DateDigits { found: 8, .. })
        ));
        assert!(matches!(
            parse_fileman(".0845"),
            Err(E::DateDigits { found: 0, .. })
        ));
        assert!(matches!(
            parse_fileman("-3260207"),
            Err(E::InvalidCharacter { found: '-', .. })
        ));
        assert!(matches!(
            parse_fileman("+3260207"),
            Err(E::InvalidCharacter { found: '+', .. })
        ));
        assert!(matches!(
            parse_fileman("326 0207"),
            Err(E::InvalidCharacter { found: ' ', .. })
        ));
        assert!(matches!(
            parse_fileman("3260207. 0845"),
            Err(E::InvalidCharacter { .. })
        ));
        assert!(matches!(
            parse_fileman("3260207e1"),
            Err(E::InvalidCharacter { found: 'e', .. })
        ));
        assert!(matches!(
            parse_fileman("T-1"),
            Err(E::InvalidCharacter { found: 'T', .. })
        ));
    }

    #[test]
    fn error_messages_name_input_and_format() {
        let msg = parse_fileman("3260200").unwrap_err().to_string();
        assert!(
            msg.contains("\"3260200\"") && msg.contains("month or day is 00"),
            "{msg}"
        );
        let msg = parse_fileman("32602").unwrap_err().to_string();
        assert!(msg.contains("YYYMMDD"), "{msg}");
    }

    #[test]
    fn value_accessors_and_display() {
        let v: FileManValue = "3260207.0845".parse().unwrap();
        assert_eq!(v.date(), d(2026, 2, 7));
        assert_eq!(v.time(), NaiveTime::from_hms_opt(8, 45, 0));
        assert_eq!(v.to_string(), "3260207.0845");
        let v = FileManValue::from(d(1980, 1, 2));
        assert_eq!(v.time(), None);
        assert_eq!(v.to_string(), "2800102");
        assert_eq!(
            FileManValue::from(dt(2026, 2, 7, 10, 0, 0)).to_fileman(),
            "3260207.1"
        );
    }

    #[test]
    fn t_notation_resolves_against_today() {
        let today = d(2026, 2, 7);
        assert_eq!(
            resolve_t_notation("T", today).unwrap(),
            FileManValue::Date(today)
        );
        assert_eq!(
            resolve_t_notation("T-0", today).unwrap(),
            FileManValue::Date(today)
        );
        assert_eq!(
            resolve_t_notation("T+0", today).unwrap(),
            FileManValue::Date(today)
        );
        assert_eq!(
            resolve_t_notation("T-7", today).unwrap(),
            FileManValue::Date(d(2026, 1, 31))
        );
        assert_eq!(
            resolve_t_notation("T+30", today).unwrap(),
            FileManValue::Date(d(2026, 3, 9))
        );
        assert_eq!(
            resolve_t_notation(" t-1 ", today).unwrap(),
            FileManValue::Date(d(2026, 2, 6))
        );
        assert_eq!(
            resolve_t_notation("T-007", today).unwrap(),
            FileManValue::Date(d(2026, 1, 31))
        );
        assert_eq!(
            resolve_t_notation("T-0.0845", today).unwrap(),
            FileManValue::DateTime(dt(2026, 2, 7, 8, 45, 0))
        );
        assert_eq!(
            resolve_t_notation("T-1.1430", today).unwrap(),
            FileManValue::DateTime(dt(2026, 2, 6, 14, 30, 0))
        );
        assert_eq!(
            resolve_t_notation("T.24", today).unwrap(),
            FileManValue::DateTime(dt(2026, 2, 8, 0, 0, 0))
        );
        assert_eq!(
            resolve_t_notation("T-0.0845", today).unwrap().to_string(),
            "3260207.0845"
        );
    }

    #[test]
    fn t_notation_bounds() {
        let today = d(2026, 2, 7);
        assert!(resolve_t_notation("T-36500", today).is_ok());
        assert!(resolve_t_notation("T+36500", today).is_ok());
        assert!(matches!(
            resolve_t_notation("T-36501", today),
            Err(FileManError::TOffsetOutOfRange { .. })
        ));
        assert!(matches!(
            resolve_t_notation("T+99999999999999999999", today),
            Err(FileManError::TOffsetOutOfRange { .. })
        ));
        let near_epoch = d(1700, 1, 5);
        assert!(matches!(
            resolve_t_notation("T-10", near_epoch),
            Err(FileManError::YearOutOfRange { .. })
        ));
        assert!(matches!(
            resolve_t_notation("T-1", NaiveDate::MIN),
            Err(FileManError::YearOutOfRange { .. })
        ));
    }

    #[test]
    fn t_notation_rejects_malformed() {
        let today = d(2026, 2, 7);
        for bad in [
            "",
            "T-",
            "T+",
            "T7",
            "T 7",
            "T- 7",
            "T--7",
            "T-7x",
            "X-7",
            "T-7.",
            "T-7.25",
            "T-7.0",
            "T-0@09:30",
            "3260207",
            "T-1.5.5",
            "TT",
            "T+-1",
        ] {
            assert!(resolve_t_notation(bad, today).is_err(), "{bad:?}");
        }
        let msg = resolve_t_notation("T7", today).unwrap_err().to_string();
        assert!(msg.contains("\"T7\"") && msg.contains("T-N"), "{msg}");
    }

    #[test]
    fn fileman_or_t_dispatch() {
        let today = d(2026, 2, 7);
        assert_eq!(
            resolve_fileman_or_t("T-1", today).unwrap(),
            FileManValue::Date(d(2026, 2, 6))
        );
        assert_eq!(
            resolve_fileman_or_t("2800102", today).unwrap(),
            FileManValue::Date(d(1980, 1, 2))
        );
        assert!(resolve_fileman_or_t("2026-02-07", today).is_err());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn date_in(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = NaiveDate> {
            (years, 1_u32..=366)
                .prop_filter_map("valid ordinal", |(y, o)| NaiveDate::from_yo_opt(y, o))
        }

        fn datetime_in(
            years: std::ops::RangeInclusive<i32>,
        ) -> impl Strategy<Value = NaiveDateTime> {
            (date_in(years), 0_u32..86_400).prop_map(|(date, secs)| {
                date.and_time(
                    NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)
                        .unwrap_or(NaiveTime::MIN),
                )
            })
        }

        proptest! {
            #[test]
            fn datetime_round_trips(value in datetime_in(1800..=2199)) {
                let text = to_fileman_datetime(value);
                let parsed = parse_fileman(&text).unwrap();
                prop_assert_eq!(parsed.to_datetime(), value);
                if value.time() == NaiveTime::MIN {
                    prop_assert_eq!(parsed, FileManValue::Date(value.date()));
                } else {
                    prop_assert_eq!(parsed, FileManValue::DateTime(value));
                }
                if let Some((_, time)) = text.split_once('.') {
                    if value.second() == 0 {
                        prop_assert!(!time.ends_with('0') && time.len() <= 4);
                    } else {
                        prop_assert_eq!(time.len(), 6);
                    }
                }
            }

            #[test]
            fn date_round_trips(date in date_in(1700..=2699)) {
                let text = to_fileman_date(date);
                prop_assert_eq!(text.len(), 7);
                prop_assert_eq!(parse_fileman(&text).unwrap(), FileManValue::Date(date));
                prop_assert_eq!(checked_to_fileman_date(date), Some(text));
            }

            #[test]
            fn never_panics_on_arbitrary_text(s in "\\PC{0,20}") {
                let _ = parse_fileman(&s);
            }

            #[test]
            fn never_panics_on_near_miss_text(s in "[0-9.+\\- ]{0,16}") {
                if let Ok(v) = parse_fileman(&s) {
                    // Whatever parses re-formats canonically and re-parses to the same moment.
                    let again = parse_fileman(&v.to_fileman()).unwrap();
                    prop_assert_eq!(again.to_datetime(), v.to_datetime());
                }
            }

            #[test]
            fn trailing_zero_padding_is_equivalent(value in datetime_in(1800..=2199), extra in 0_usize..6) {
                let text = to_fileman_datetime(value);
                if let Some((_, time)) = text.split_once('.') {
                    let room = 6 - time.len();
                    let padded = format!("{text}{}", "0".repeat(extra.min(room)));
                    prop_assert_eq!(parse_fileman(&padded).unwrap(), FileManValue::DateTime(value));
                }
            }

            #[test]
            fn rejects_invalid_months(yyy in 0_u32..1000, mm in 13_u32..100, dd in 1_u32..29) {
                let text = format!("{yyy:03}{mm:02}{dd:02}");
                prop_assert!(parse_fileman(&text).is_err());
            }

            #[test]
            fn rejects_hours_above_24(date in date_in(1800..=2199), hh in 25_u32..100, rest in "[0-9]{0,4}") {
                let text = format!("{}.{hh:02}{rest}", to_fileman_date(date));
                let rejected = matches!(parse_fileman(&text), Err(FileManError::HourOutOfRange { .. }));
                prop_assert!(rejected);
            }

            #[test]
            fn rejects_wrong_date_digit_counts(s in "[0-9]{0,6}|[0-9]{8,12}") {
                let rejected = matches!(parse_fileman(&s), Err(FileManError::DateDigits { .. } | FileManError::Empty));
                prop_assert!(rejected);
            }

            #[test]
            fn t_offsets_resolve(n in -36_500_i64..=36_500, today in date_in(1900..=2100)) {
                let text = if n < 0 { format!("T{n}") } else { format!("T+{n}") };
                let want = today + chrono::Duration::days(n);
                prop_assert_eq!(resolve_t_notation(&text, today).unwrap(), FileManValue::Date(want));
            }

            #[test]
            fn t_offsets_beyond_bound_rejected(n in 36_501_u64..10_000_000, neg in any::<bool>()) {
                let text = format!("T{}{n}", if neg { '-' } else { '+' });
                let today = NaiveDate::from_ymd_opt(2026, 2, 7).unwrap();
                let rejected = matches!(resolve_t_notation(&text, today), Err(FileManError::TOffsetOutOfRange { .. }));
                prop_assert!(rejected);
            }

            #[test]
            fn t_with_time_matches_fileman_time(n in 0_i64..1000, value in datetime_in(2000..=2000)) {
                let today = NaiveDate::from_ymd_opt(2026, 2, 7).unwrap();
                let fm = to_fileman_datetime(value);
                if let Some((_, time)) = fm.split_once('.') {
                    let got = resolve_t_notation(&format!("T-{n}.{time}"), today).unwrap();
                    let want_date = today - chrono::Duration::days(n);
                    prop_assert_eq!(got, FileManValue::DateTime(want_date.and_time(value.time())));
                }
            }

            #[test]
            fn t_never_panics(s in "[Tt]?[-+]?\\PC{0,12}") {
                let today = NaiveDate::from_ymd_opt(2026, 2, 7).unwrap();
                let _ = resolve_t_notation(&s, today);
                let _ = resolve_fileman_or_t(&s, today);
            }
        }
    }
}
