//! Patient record flags: category, review status and history actions.
//!
//! Reference: original-webapp §3.2 (categories I national / II local, review
//! status rules, action codes 1–5) and original-data-and-services §2.4
//! "Patient record flags".

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{CodeError, canonical_words};

/// Flag category. Category I flags are national, category II local; lists
/// show category I first, which is the derived ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FlagCategory {
    /// Category I: national flag.
    I,
    /// Category II: local flag.
    II,
}

impl FlagCategory {
    /// Stored spelling: `I` or `II`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::I => "I",
            Self::II => "II",
        }
    }

    /// Whether this is a national (category I) flag.
    pub fn is_national(self) -> bool {
        matches!(self, Self::I)
    }

    /// Section heading: `National (Cat I)` or `Local (Cat II)`.
    pub fn label(self) -> &'static str {
        match self {
            Self::I => "National (Cat I)",
            Self::II => "Local (Cat II)",
        }
    }
}

impl fmt::Display for FlagCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FlagCategory {
    type Err = CodeError;

    /// Accepts `I`/`1` and `II`/`2` (trimmed, case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "I" | "1" => Ok(Self::I),
            "II" | "2" => Ok(Self::II),
            _ => Err(CodeError::new("flag category", s, "I, II, 1 or 2")),
        }
    }
}

impl TryFrom<String> for FlagCategory {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FlagCategory> for String {
    fn from(v: FlagCategory) -> Self {
        v.as_str().to_owned()
    }
}

/// Review status of a flag assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ReviewStatus {
    /// `N/A`: no next review date.
    NotApplicable,
    /// `OVERDUE`: the review date has passed.
    Overdue,
    /// `DUE SOON`: the review date is within the notification window.
    DueSoon,
    /// `CURRENT`: the review date is further away.
    Current,
}

impl ReviewStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [
        Self::NotApplicable,
        Self::Overdue,
        Self::DueSoon,
        Self::Current,
    ];

    /// Stored spelling: `N/A`, `OVERDUE`, `DUE SOON` or `CURRENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotApplicable => "N/A",
            Self::Overdue => "OVERDUE",
            Self::DueSoon => "DUE SOON",
            Self::Current => "CURRENT",
        }
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewStatus {
    type Err = CodeError;

    /// Case-insensitive, whitespace-tolerant.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = canonical_words(s);
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == key)
            .ok_or_else(|| CodeError::new("review status", s, "N/A, OVERDUE, DUE SOON or CURRENT"))
    }
}

impl TryFrom<String> for ReviewStatus {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ReviewStatus> for String {
    fn from(v: ReviewStatus) -> Self {
        v.as_str().to_owned()
    }
}

/// Review status of a flag assignment as of `today` (reference:
/// original-webapp §3.2):
///
/// * no next review date → `N/A`;
/// * next review before today → `OVERDUE`;
/// * next review on or before today + notification days → `DUE SOON`
///   (a missing notification window counts as 0 days, so a review due
///   today is DUE SOON);
/// * otherwise → `CURRENT`.
///
/// Computed at query time from an explicit `today` rather than frozen at
/// ETL time (reference: original-data-and-services §5 quirk 11).
pub fn review_status(
    next_review: Option<NaiveDate>,
    notification_days: Option<u32>,
    today: NaiveDate,
) -> ReviewStatus {
    let Some(next) = next_review else {
        return ReviewStatus::NotApplicable;
    };
    if next < today {
        return ReviewStatus::Overdue;
    }
    let window = Days::new(u64::from(notification_days.unwrap_or(0)));
    // If today + window overflows the calendar, every date is inside it.
    let due_soon = today
        .checked_add_days(window)
        .is_none_or(|limit| next <= limit);
    if due_soon {
        ReviewStatus::DueSoon
    } else {
        ReviewStatus::Current
    }
}

/// Action recorded in a flag's history (codes 1–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FlagAction {
    /// 1 NEW ASSIGNMENT.
    NewAssignment = 1,
    /// 2 CONTINUE.
    Continue = 2,
    /// 3 INACTIVATE.
    Inactivate = 3,
    /// 4 REACTIVATE.
    Reactivate = 4,
    /// 5 ENTERED IN ERROR.
    EnteredInError = 5,
}

impl FlagAction {
    /// Every action, by code.
    pub const ALL: [Self; 5] = [
        Self::NewAssignment,
        Self::Continue,
        Self::Inactivate,
        Self::Reactivate,
        Self::EnteredInError,
    ];

    /// Numeric action code 1–5.
    pub fn code(self) -> u8 {
        match self {
            Self::NewAssignment => 1,
            Self::Continue => 2,
            Self::Inactivate => 3,
            Self::Reactivate => 4,
            Self::EnteredInError => 5,
        }
    }

    /// Action for a code, `None` outside 1–5.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Action name, e.g. `NEW ASSIGNMENT`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NewAssignment => "NEW ASSIGNMENT",
            Self::Continue => "CONTINUE",
            Self::Inactivate => "INACTIVATE",
            Self::Reactivate => "REACTIVATE",
            Self::EnteredInError => "ENTERED IN ERROR",
        }
    }
}

impl TryFrom<u8> for FlagAction {
    type Error = CodeError;

    fn try_from(code: u8) -> Result<Self, Self::Error> {
        Self::from_code(code)
            .ok_or_else(|| CodeError::new("flag action code", &code.to_string(), "1 to 5"))
    }
}

impl fmt::Display for FlagAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FlagAction {
    type Err = CodeError;

    /// Accepts an action name (case-insensitive, whitespace-tolerant) or its
    /// code `1`–`5`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = canonical_words(s);
        let by_code = key.parse::<u8>().ok().and_then(Self::from_code);
        by_code
            .or_else(|| Self::ALL.into_iter().find(|a| a.name() == key))
            .ok_or_else(|| {
                CodeError::new(
                    "flag action",
                    s,
                    "1-5 or NEW ASSIGNMENT, CONTINUE, INACTIVATE, REACTIVATE, ENTERED IN ERROR",
                )
            })
    }
}

impl TryFrom<String> for FlagAction {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FlagAction> for String {
    fn from(v: FlagAction) -> Self {
        v.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn category_parsing() {
        for (text, want) in [
            ("I", FlagCategory::I),
            ("1", FlagCategory::I),
            (" i ", FlagCategory::I),
            ("II", FlagCategory::II),
            ("2", FlagCategory::II),
            ("ii\n", FlagCategory::II),
        ] {
            assert_eq!(text.parse::<FlagCategory>().unwrap(), want, "{text:?}");
        }
        for bad in ["", "III", "3", "0", "I I", "national"] {
            assert!(bad.parse::<FlagCategory>().is_err(), "{bad:?}");
        }
        assert!(FlagCategory::I < FlagCategory::II);
        assert!(FlagCategory::I.is_national() && !FlagCategory::II.is_national());
        assert_eq!(FlagCategory::II.label(), "Local (Cat II)");
        assert_eq!(ser_str(&FlagCategory::II).unwrap(), "II");
        assert_eq!(de_str::<FlagCategory>("1").unwrap(), FlagCategory::I);
    }

    #[test]
    fn review_status_rules() {
        let today = d(2026, 2, 7);
        assert_eq!(
            review_status(None, Some(30), today),
            ReviewStatus::NotApplicable
        );
        assert_eq!(
            review_status(Some(d(2026, 2, 6)), Some(30), today),
            ReviewStatus::Overdue
        );
        assert_eq!(
            review_status(Some(today), Some(30), today),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            review_status(Some(d(2026, 3, 9)), Some(30), today),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            review_status(Some(d(2026, 3, 10)), Some(30), today),
            ReviewStatus::Current
        );
        assert_eq!(
            review_status(Some(today), None, today),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            review_status(Some(d(2026, 2, 8)), None, today),
            ReviewStatus::Current
        );
        assert_eq!(
            review_status(Some(d(2026, 2, 8)), Some(0), today),
            ReviewStatus::Current
        );
        assert_eq!(
            review_status(Some(d(2026, 2, 8)), Some(1), today),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            review_status(Some(NaiveDate::MAX), Some(u32::MAX), NaiveDate::MAX),
            ReviewStatus::DueSoon
        );
    }

    #[test]
    fn review_status_strings() {
        assert_eq!(ReviewStatus::NotApplicable.as_str(), "N/A");
        assert_eq!(ReviewStatus::Overdue.as_str(), "OVERDUE");
        assert_eq!(ReviewStatus::DueSoon.as_str(), "DUE SOON");
        assert_eq!(ReviewStatus::Current.to_string(), "CURRENT");
        assert_eq!(
            "due  soon".parse::<ReviewStatus>().unwrap(),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            "n/a".parse::<ReviewStatus>().unwrap(),
            ReviewStatus::NotApplicable
        );
        assert!("late".parse::<ReviewStatus>().is_err());
        assert_eq!(ser_str(&ReviewStatus::DueSoon).unwrap(), "DUE SOON");
        assert_eq!(
            de_str::<ReviewStatus>("OVERDUE").unwrap(),
            ReviewStatus::Overdue
        );
    }

    #[test]
    fn flag_actions() {
        let expected = [
            (1, "NEW ASSIGNMENT"),
            (2, "CONTINUE"),
            (3, "INACTIVATE"),
            (4, "REACTIVATE"),
            (5, "ENTERED IN ERROR"),
        ];
        for (code, name) in expected {
            let a = FlagAction::from_code(code).unwrap();
            assert_eq!(a.code(), code);
            assert_eq!(a.name(), name);
            assert_eq!(name.parse::<FlagAction>().unwrap(), a);
            assert_eq!(code.to_string().parse::<FlagAction>().unwrap(), a);
            assert_eq!(FlagAction::try_from(code).unwrap(), a);
            assert_eq!(a as u8, code);
        }
        assert_eq!(FlagAction::from_code(0), None);
        assert_eq!(FlagAction::from_code(6), None);
        assert!(FlagAction::try_from(9).is_err());
        assert_eq!(
            " entered in  error ".parse::<FlagAction>().unwrap(),
            FlagAction::EnteredInError
        );
        assert!("DELETE".parse::<FlagAction>().is_err());
        assert!("6".parse::<FlagAction>().is_err());
        assert_eq!(ser_str(&FlagAction::Continue).unwrap(), "CONTINUE");
        assert_eq!(de_str::<FlagAction>("3").unwrap(), FlagAction::Inactivate);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,20}") {
            let _ = s.parse::<FlagCategory>();
            let _ = s.parse::<ReviewStatus>();
            let _ = s.parse::<FlagAction>();
        }

        #[test]
        fn review_status_matches_rule(offset in -400_i64..400, days in proptest::option::of(0_u32..365)) {
            let today = d(2026, 2, 7);
            let next = today + chrono::Duration::days(offset);
            let window = i64::from(days.unwrap_or(0));
            let want = if offset < 0 {
                ReviewStatus::Overdue
            } else if offset <= window {
                ReviewStatus::DueSoon
            } else {
                ReviewStatus::Current
            };
            prop_assert_eq!(review_status(Some(next), days, today), want);
        }

        #[test]
        fn action_codes_round_trip(code in any::<u8>()) {
            match FlagAction::from_code(code) {
                Some(a) => prop_assert_eq!(a.code(), code),
                None => prop_assert!(code == 0 || code > 5),
            }
        }
    }
}
