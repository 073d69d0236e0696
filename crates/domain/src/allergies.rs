//! Allergy severity and allergen type.
//!
//! Reference: original-webapp §3.4 (severity MILD/MODERATE/SEVERE ranked
//! 1/2/3; allergen types DRUG/FOOD/ENVIRONMENTAL; "critical" ordering puts
//! drug allergies first, then higher severity) and original-data-and-services
//! §2.4 "Allergies" (a missing severity ranks 0).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CodeError, canonical_words};

/// Severity of an allergic reaction. Ordered by [`rank`](Self::rank), so
/// `Severe > Moderate > Mild`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AllergySeverity {
    /// MILD, rank 1.
    Mild = 1,
    /// MODERATE, rank 2.
    Moderate = 2,
    /// SEVERE, rank 3.
    Severe = 3,
}

impl AllergySeverity {
    /// Every severity, mildest first.
    pub const ALL: [Self; 3] = [Self::Mild, Self::Moderate, Self::Severe];

    /// Severity rank: Mild 1, Moderate 2, Severe 3.
    pub fn rank(self) -> u8 {
        match self {
            Self::Mild => 1,
            Self::Moderate => 2,
            Self::Severe => 3,
        }
    }

    /// Rank of an optional severity, 0 when unknown (the ETL's null fill).
    pub fn rank_of(severity: Option<Self>) -> u8 {
        severity.map_or(0, Self::rank)
    }

    /// Stored spelling: `MILD`, `MODERATE` or `SEVERE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mild => "MILD",
            Self::Moderate => "MODERATE",
            Self::Severe => "SEVERE",
        }
    }
}

impl fmt::Display for AllergySeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AllergySeverity {
    type Err = CodeError;

    /// Case-insensitive, trimmed: `mild`, ` Moderate `, `SEVERE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| CodeError::new("allergy severity", s, "MILD, MODERATE or SEVERE"))
    }
}

impl TryFrom<String> for AllergySeverity {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AllergySeverity> for String {
    fn from(v: AllergySeverity) -> Self {
        v.as_str().to_owned()
    }
}

/// Category of allergen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AllergenType {
    /// DRUG (medication) allergen.
    Drug,
    /// FOOD allergen.
    Food,
    /// ENVIRONMENTAL allergen (latex, pollen, …).
    Environmental,
}

impl AllergenType {
    /// Every allergen type, in display order (drug first).
    pub const ALL: [Self; 3] = [Self::Drug, Self::Food, Self::Environmental];

    /// Stored spelling: `DRUG`, `FOOD` or `ENVIRONMENTAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drug => "DRUG",
            Self::Food => "FOOD",
            Self::Environmental => "ENVIRONMENTAL",
        }
    }

    /// Section heading: `Drug`, `Food` or `Environmental`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Drug => "Drug",
            Self::Food => "Food",
            Self::Environmental => "Environmental",
        }
    }

    /// Whether this is a drug allergy (the ETL's `is_drug_allergy`).
    pub fn is_drug(self) -> bool {
        matches!(self, Self::Drug)
    }
}

impl fmt::Display for AllergenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AllergenType {
    type Err = CodeError;

    /// Case-insensitive, trimmed; also accepts `MEDICATION` for drug and
    /// `ENVIRONMENT` for environmental.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match canonical_words(s).as_str() {
            "DRUG" | "MEDICATION" => Ok(Self::Drug),
            "FOOD" => Ok(Self::Food),
            "ENVIRONMENTAL" | "ENVIRONMENT" => Ok(Self::Environmental),
            _ => Err(CodeError::new(
                "allergen type",
                s,
                "DRUG, FOOD or ENVIRONMENTAL",
            )),
        }
    }
}

impl TryFrom<String> for AllergenType {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AllergenType> for String {
    fn from(v: AllergenType) -> Self {
        v.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use proptest::prelude::*;

    #[test]
    fn severity_ranks_and_order() {
        assert_eq!(AllergySeverity::Mild.rank(), 1);
        assert_eq!(AllergySeverity::Moderate.rank(), 2);
        assert_eq!(AllergySeverity::Severe.rank(), 3);
        assert_eq!(AllergySeverity::Severe as u8, 3);
        assert_eq!(AllergySeverity::rank_of(None), 0);
        assert_eq!(AllergySeverity::rank_of(Some(AllergySeverity::Moderate)), 2);
        assert!(AllergySeverity::Severe > AllergySeverity::Moderate);
        assert!(AllergySeverity::Moderate > AllergySeverity::Mild);
    }

    #[test]
    fn severity_parsing() {
        assert_eq!(
            "MILD".parse::<AllergySeverity>().unwrap(),
            AllergySeverity::Mild
        );
        assert_eq!(
            " moderate ".parse::<AllergySeverity>().unwrap(),
            AllergySeverity::Moderate
        );
        assert_eq!(
            "Severe".parse::<AllergySeverity>().unwrap(),
            AllergySeverity::Severe
        );
        for bad in ["", "SEV", "SEVERE!", "life threatening", "1"] {
            assert!(bad.parse::<AllergySeverity>().is_err(), "{bad:?}");
        }
        let msg = "x".parse::<AllergySeverity>().unwrap_err().to_string();
        assert!(msg.contains("\"x\"") && msg.contains("MODERATE"), "{msg}");
        assert_eq!(ser_str(&AllergySeverity::Severe).unwrap(), "SEVERE");
        assert_eq!(
            de_str::<AllergySeverity>("mild").unwrap(),
            AllergySeverity::Mild
        );
    }

    #[test]
    fn allergen_type_parsing() {
        assert_eq!("DRUG".parse::<AllergenType>().unwrap(), AllergenType::Drug);
        assert_eq!(" food".parse::<AllergenType>().unwrap(), AllergenType::Food);
        assert_eq!(
            "Environmental".parse::<AllergenType>().unwrap(),
            AllergenType::Environmental
        );
        assert_eq!(
            "environment".parse::<AllergenType>().unwrap(),
            AllergenType::Environmental
        );
        assert_eq!(
            "Medication".parse::<AllergenType>().unwrap(),
            AllergenType::Drug
        );
        assert!("PLANT".parse::<AllergenType>().is_err());
        assert!("".parse::<AllergenType>().is_err());
        assert!(AllergenType::Drug.is_drug());
        assert!(!AllergenType::Food.is_drug());
        assert_eq!(AllergenType::Environmental.label(), "Environmental");
        assert_eq!(AllergenType::Food.to_string(), "FOOD");
        assert_eq!(ser_str(&AllergenType::Drug).unwrap(), "DRUG");
        assert_eq!(de_str::<AllergenType>("drug").unwrap(), AllergenType::Drug);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,16}") {
            let _ = s.parse::<AllergySeverity>();
            let _ = s.parse::<AllergenType>();
        }

        #[test]
        fn severity_round_trips_any_case(i in 0_usize..3, upper in any::<bool>()) {
            let v = AllergySeverity::ALL[i];
            let text = if upper { v.as_str().to_owned() } else { v.as_str().to_lowercase() };
            prop_assert_eq!(text.parse::<AllergySeverity>().unwrap(), v);
        }
    }
}
