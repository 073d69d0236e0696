//! Problems / diagnoses: problem status, ICD-10 codes, the fifteen
//! condition flags and the Charlson comorbidity index.
//!
//! Reference: original-webapp §3.10 and original-data-and-services §2.4
//! "Problems / diagnoses".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CodeError;

pub mod charlson;
mod conditions;
mod icd10;

pub use charlson::{
    CharlsonCondition, CharlsonRisk, CharlsonSummary, charlson_index, charlson_summary,
};
pub use conditions::ConditionFlags;
pub use icd10::{Icd10Code, Icd10Error, normalise_icd10};

/// Status of a problem-list entry. The derived order (Active, Inactive,
/// Resolved) is the order the problem list is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ProblemStatus {
    /// Active problem.
    Active,
    /// Inactive problem.
    Inactive,
    /// Resolved problem.
    Resolved,
}

impl ProblemStatus {
    /// Every status, in display order.
    pub const ALL: [Self; 3] = [Self::Active, Self::Inactive, Self::Resolved];

    /// Display and stored spelling: `Active`, `Inactive` or `Resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
            Self::Resolved => "Resolved",
        }
    }

    /// VistA spelling: `ACTIVE`, `INACTIVE` or `RESOLVED`.
    pub fn vista_word(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Resolved => "RESOLVED",
        }
    }

    /// Cerner single-letter code: `A`, `I` or `R`.
    pub fn cerner_code(self) -> &'static str {
        match self {
            Self::Active => "A",
            Self::Inactive => "I",
            Self::Resolved => "R",
        }
    }

    /// Whether the problem counts towards Charlson and the condition flags.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Active)
    }
}

impl fmt::Display for ProblemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProblemStatus {
    type Err = CodeError;

    /// Accepts the VistA words `ACTIVE`/`INACTIVE`/`RESOLVED` and the
    /// Cerner codes `A`/`I`/`R`, in any letter case, trimmed (reference:
    /// original-data-and-services §2.4 "Problems": both are mapped to
    /// Active/Inactive/Resolved).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| {
                v.vista_word().eq_ignore_ascii_case(t) || v.cerner_code().eq_ignore_ascii_case(t)
            })
            .ok_or_else(|| {
                CodeError::new("problem status", s, "ACTIVE, INACTIVE, RESOLVED, A, I or R")
            })
    }
}

impl TryFrom<String> for ProblemStatus {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ProblemStatus> for String {
    fn from(v: ProblemStatus) -> Self {
        v.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use proptest::prelude::*;

    #[test]
    fn status_parsing() {
        let cases = [
            ("ACTIVE", ProblemStatus::Active),
            ("active", ProblemStatus::Active),
            (" Active ", ProblemStatus::Active),
            ("A", ProblemStatus::Active),
            ("a", ProblemStatus::Active),
            ("INACTIVE", ProblemStatus::Inactive),
            ("I", ProblemStatus::Inactive),
            ("Resolved", ProblemStatus::Resolved),
            ("r", ProblemStatus::Resolved),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ProblemStatus>().unwrap(), want, "{text:?}");
        }
        for bad in ["", "ACT", "X", "AI", "RESOLVE", "In active"] {
            assert!(bad.parse::<ProblemStatus>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_forms_and_order() {
        assert_eq!(ProblemStatus::Active.to_string(), "Active");
        assert_eq!(ProblemStatus::Inactive.as_str(), "Inactive");
        assert_eq!(ProblemStatus::Resolved.vista_word(), "RESOLVED");
        assert_eq!(ProblemStatus::Resolved.cerner_code(), "R");
        assert!(ProblemStatus::Active < ProblemStatus::Inactive);
        assert!(ProblemStatus::Inactive < ProblemStatus::Resolved);
        assert!(ProblemStatus::Active.is_active());
        assert!(!ProblemStatus::Resolved.is_active());
        assert_eq!(ser_str(&ProblemStatus::Active).unwrap(), "Active");
        assert_eq!(de_str::<ProblemStatus>("A").unwrap(), ProblemStatus::Active);
        assert!(de_str::<ProblemStatus>("Z").is_err());
    }

    proptest! {
        #[test]
        fn status_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<ProblemStatus>();
        }

        #[test]
        fn status_round_trips(i in 0_usize..3) {
            let v = ProblemStatus::ALL[i];
            prop_assert_eq!(v.as_str().parse::<ProblemStatus>().unwrap(), v);
            prop_assert_eq!(v.vista_word().parse::<ProblemStatus>().unwrap(), v);
            prop_assert_eq!(v.cerner_code().parse::<ProblemStatus>().unwrap(), v);
        }
    }
}
