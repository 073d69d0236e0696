//! Validated identifiers.
//!
//! Every identifier is a newtype that can only be built through validation,
//! so holding an [`Icn`] (say) proves the text has one of the accepted shapes.
//! All types parse with [`FromStr`] / [`TryFrom<&str>`], print with
//! [`Display`](fmt::Display), and (de)serialise with serde as strings; the
//! deserialiser runs the same validation, so malformed values are rejected at
//! the boundary rather than travelling through the system.
//!
//! Reference: original-data-and-services §1.2 (patient identity scheme) and
//! §5 quirks 5 and 9 (carry `(source_system, source_id)` instead of mixing
//! surrogate keys from different databases).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::shown;

/// Error returned when an identifier fails validation. The message names the
/// offending input and the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Text is not one of the accepted ICN shapes.
    #[error(
        "invalid ICN {input:?}: expected `ICN` + 6 digits (ICN100001), `ICN` + 10 digits \
         (ICN1019425664) or 4 digits + `V` + 6 digits (1016V123456)"
    )]
    Icn {
        /// The rejected input.
        input: String,
    },
    /// Text or number is not a three-digit VA station number.
    #[error(
        "invalid station number (Sta3n) {input:?}: expected a 3-digit number from 100 to 999, e.g. 508"
    )]
    Sta3n {
        /// The rejected input.
        input: String,
    },
    /// Text or number is not a VistA patient internal entry number.
    #[error(
        "invalid DFN {input:?}: expected a positive whole number written with digits only and no leading zeros, e.g. 100001"
    )]
    Dfn {
        /// The rejected input.
        input: String,
    },
    /// Text names no known source system.
    #[error("invalid source system {input:?}: expected `CDWWork` or `CDWWork2` (any letter case)")]
    SourceSystem {
        /// The rejected input.
        input: String,
    },
    /// Text is not a `SYSTEM:ID` composite key.
    #[error(
        "invalid source record id {input:?}: expected `<source system>:<integer id>`, e.g. `CDWWork:123`"
    )]
    SourceRecordId {
        /// The rejected input.
        input: String,
    },
}

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// ICN
// ---------------------------------------------------------------------------

/// Which of the accepted ICN shapes an [`Icn`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IcnKind {
    /// `ICN` + 6 digits, e.g. `ICN100001` (the original demo patients).
    Legacy6,
    /// `ICN` + 10 digits, e.g. `ICN1019425664` (the `ZZTEST` patients).
    Legacy10,
    /// 4 digits + `V` + 6 digits, e.g. `1016V123456` (VA-style ICNs).
    VaShort,
}

/// Integration Control Number: the enterprise patient identifier and the only
/// key that is safe across CDWWork and CDWWork2 (reference:
/// original-data-and-services §1.2).
///
/// Accepted shapes are listed in [`IcnKind`]. Parsing trims surrounding
/// whitespace and accepts lower-case letters (`icn100001`, `1016v123456`),
/// normalising them to upper case; nothing else is tolerated (no inner
/// spaces, signs, separators or other digit counts). The checksum part of
/// VA-style ICNs is not verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icn {
    value: String,
    kind: IcnKind,
}

impl Icn {
    /// The normalised (upper-case, trimmed) ICN text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Which accepted shape this ICN has.
    pub fn kind(&self) -> IcnKind {
        self.kind
    }

    fn classify(upper: &str) -> Option<IcnKind> {
        if let Some(digits) = upper.strip_prefix("ICN") {
            if !all_ascii_digits(digits) {
                return None;
            }
            return match digits.len() {
                6 => Some(IcnKind::Legacy6),
                10 => Some(IcnKind::Legacy10),
                _ => None,
            };
        }
        let (head, tail) = upper.split_once('V')?;
        if !all_ascii_digits(head) || !all_ascii_digits(tail) || tail.len() != 6 {
            return None;
        }
        // Only the shapes of the reference's identity scheme are accepted;
        // a longer VA-style head (`1012345678V123456`) is rejected.
        (head.len() == 4).then_some(IcnKind::VaShort)
    }
}

impl FromStr for Icn {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        match Self::classify(&upper) {
            Some(kind) => Ok(Self { value: upper, kind }),
            None => Err(IdError::Icn { input: shown(s) }),
        }
    }
}

impl TryFrom<&str> for Icn {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for Icn {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Icn> for String {
    fn from(icn: Icn) -> Self {
        icn.value
    }
}

impl AsRef<str> for Icn {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Icn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

// ---------------------------------------------------------------------------
// PatientKey
// ---------------------------------------------------------------------------

/// The key that identifies a patient in every downstream clinical table.
///
/// By design it is the patient's ICN (reference: original-webapp §3 "common
/// conventions": `patient_key` = ICN everywhere), so it is a thin wrapper
/// around a validated [`Icn`] and serialises as the ICN string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PatientKey(Icn);

impl PatientKey {
    /// The ICN this key stands for.
    pub fn icn(&self) -> &Icn {
        &self.0
    }

    /// The key text (the normalised ICN).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<Icn> for PatientKey {
    fn from(icn: Icn) -> Self {
        Self(icn)
    }
}

impl From<PatientKey> for Icn {
    fn from(key: PatientKey) -> Self {
        key.0
    }
}

impl From<PatientKey> for String {
    fn from(key: PatientKey) -> Self {
        key.0.value
    }
}

impl FromStr for PatientKey {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

impl TryFrom<&str> for PatientKey {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for PatientKey {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl AsRef<str> for PatientKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for PatientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// ---------------------------------------------------------------------------
// Numeric ids: shared serde plumbing
// ---------------------------------------------------------------------------

/// Serde visitor for numeric identifiers that accepts either a string or an
/// integer and funnels both through the type's validation.
struct NumericIdVisitor<T> {
    expecting: &'static str,
    from_str: fn(&str) -> Result<T, IdError>,
    from_u64: fn(u64) -> Result<T, IdError>,
}

impl<T> Visitor<'_> for NumericIdVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.from_str)(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.from_u64)(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(u) => (self.from_u64)(u).map_err(E::custom),
            Err(_) => (self.from_str)(&v.to_string()).map_err(E::custom),
        }
    }
}

// ---------------------------------------------------------------------------
// Sta3n
// ---------------------------------------------------------------------------

/// VA station number ("Sta3n"): a three-digit facility number, 100–999.
///
/// Parsing tolerates surrounding whitespace (`" 508 "`), but the number must
/// be written as exactly three ASCII digits; `"50"`, `"0508"`, `"1000"` and
/// `"abc"` are rejected. Serialises as a string (`"508"`); deserialises from a
/// string or an integer, both validated (CDWWork stores it as `SMALLINT`,
/// CDWWork2 as `VARCHAR`, reference: original-data-and-services §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sta3n(u16);

impl Sta3n {
    /// Smallest valid station number.
    pub const MIN: u16 = 100;
    /// Largest valid station number.
    pub const MAX: u16 = 999;

    /// Validates a numeric station number.
    pub fn new(value: u16) -> Result<Self, IdError> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(IdError::Sta3n {
                input: value.to_string(),
            })
        }
    }

    /// The station number.
    pub fn get(self) -> u16 {
        self.0
    }

    fn from_u64(value: u64) -> Result<Self, IdError> {
        match u16::try_from(value) {
            Ok(v) => Self::new(v),
            Err(_) => Err(IdError::Sta3n {
                input: value.to_string(),
            }),
        }
    }
}

impl FromStr for Sta3n {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let err = || IdError::Sta3n { input: shown(s) };
        if t.len() != 3 || !all_ascii_digits(t) {
            return Err(err());
        }
        let value: u16 = t.parse().map_err(|_| err())?;
        Self::new(value).map_err(|_| err())
    }
}

impl TryFrom<&str> for Sta3n {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<u16> for Sta3n {
    type Error = IdError;

    fn try_from(value: u16) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Sta3n> for u16 {
    fn from(s: Sta3n) -> Self {
        s.0
    }
}

impl fmt::Display for Sta3n {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Sta3n {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sta3n {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumericIdVisitor {
            expecting: "a VA station number 100-999 as a string or integer",
            from_str: str::parse,
            from_u64: Sta3n::from_u64,
        })
    }
}

// ---------------------------------------------------------------------------
// Dfn
// ---------------------------------------------------------------------------

/// VistA patient file (#2) internal entry number, the per-site patient id
/// used by the RPC broker (reference: original-data-and-services §3.2).
///
/// A positive integer. Parsing trims surrounding whitespace, then requires
/// ASCII digits only with no sign and no leading zero (so that printing and
/// parsing round-trip exactly). Serialises as a string; deserialises from a
/// string or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dfn(u64);

impl Dfn {
    /// Validates a numeric DFN (must be greater than zero).
    pub fn new(value: u64) -> Result<Self, IdError> {
        if value > 0 {
            Ok(Self(value))
        } else {
            Err(IdError::Dfn {
                input: value.to_string(),
            })
        }
    }

    /// The internal entry number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for Dfn {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let err = || IdError::Dfn { input: shown(s) };
        if !all_ascii_digits(t) || t.starts_with('0') {
            return Err(err());
        }
        let value: u64 = t.parse().map_err(|_| err())?;
        Self::new(value).map_err(|_| err())
    }
}

impl TryFrom<&str> for Dfn {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<u64> for Dfn {
    type Error = IdError;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Dfn> for u64 {
    fn from(d: Dfn) -> Self {
        d.0
    }
}

impl fmt::Display for Dfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Dfn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dfn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumericIdVisitor {
            expecting: "a positive DFN as a string or integer",
            from_str: str::parse,
            from_u64: Dfn::new,
        })
    }
}

// ---------------------------------------------------------------------------
// SourceSystem / SourceRecordId
// ---------------------------------------------------------------------------

/// The warehouse a record was extracted from (reference:
/// original-data-and-services §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SourceSystem {
    /// CDWWork: data from VistA.
    CdwWork,
    /// CDWWork2: data from Oracle Health (Cerner Millennium).
    CdwWork2,
}

impl SourceSystem {
    /// Every source system, in canonical order.
    pub const ALL: [Self; 2] = [Self::CdwWork, Self::CdwWork2];

    /// Canonical spelling: `"CDWWork"` or `"CDWWork2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CdwWork => "CDWWork",
            Self::CdwWork2 => "CDWWork2",
        }
    }

    /// The electronic health record behind the warehouse: `"VistA"` or
    /// `"Cerner"` (the `source_ehr` column of the problems table, reference:
    /// original-webapp §3.10).
    pub fn ehr_name(self) -> &'static str {
        match self {
            Self::CdwWork => "VistA",
            Self::CdwWork2 => "Cerner",
        }
    }
}

impl FromStr for SourceSystem {
    type Err = IdError;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|sys| sys.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| IdError::SourceSystem { input: shown(s) })
    }
}

impl TryFrom<&str> for SourceSystem {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for SourceSystem {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SourceSystem> for String {
    fn from(s: SourceSystem) -> Self {
        s.as_str().to_owned()
    }
}

impl fmt::Display for SourceSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Composite key of a source row: the warehouse plus that warehouse's own
/// surrogate id. Replaces the original's id offsets (+10,000,000 for
/// CDWWork2) and mixed `patient_sid` columns (reference:
/// original-data-and-services §5 quirks 5 and 9).
///
/// Text form is `SYSTEM:ID`, e.g. `CDWWork:123` or `CDWWork2:-7`. Parsing
/// trims surrounding whitespace, matches the system case-insensitively and
/// requires the id to be an optional `-` followed by ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceRecordId {
    /// Warehouse the row came from.
    pub system: SourceSystem,
    /// The row's id inside that warehouse.
    pub id: i64,
}

impl SourceRecordId {
    /// Builds a key.
    pub fn new(system: SourceSystem, id: i64) -> Self {
        Self { system, id }
    }
}

impl FromStr for SourceRecordId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IdError::SourceRecordId { input: shown(s) };
        let (sys, id) = s.trim().split_once(':').ok_or_else(err)?;
        let system: SourceSystem = sys.parse().map_err(|_| err())?;
        let magnitude = id.strip_prefix('-').unwrap_or(id);
        if !all_ascii_digits(magnitude) {
            return Err(err());
        }
        let id: i64 = id.parse().map_err(|_| err())?;
        Ok(Self { system, id })
    }
}

impl TryFrom<&str> for SourceRecordId {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for SourceRecordId {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SourceRecordId> for String {
    fn from(k: SourceRecordId) -> Self {
        k.to_string()
    }
}

impl fmt::Display for SourceRecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_i64, de_str, de_u64, ser_str};

    // ---- ICN ----

    #[test]
    fn icn_accepts_each_shape_with_its_kind() {
        let cases = [
            ("ICN100001", IcnKind::Legacy6),
            ("ICN1019425664", IcnKind::Legacy10),
            ("1016V123456", IcnKind::VaShort),
            ("1025V012345", IcnKind::VaShort),
        ];
        for (text, kind) in cases {
            let icn: Icn = text.parse().unwrap();
            assert_eq!(icn.as_str(), text);
            assert_eq!(icn.kind(), kind, "{text}");
            assert_eq!(icn.to_string(), text);
        }
    }

    #[test]
    fn icn_rejects_shapes_outside_the_identity_scheme() {
        for bad in [
            "1012345678V123456",
            "ICN12345",
            "ICN10000001",
            "016V123456",
            "1016V12345",
            "1016-V123456",
            "",
            "ICN 100001",
        ] {
            let err = bad.parse::<Icn>().unwrap_err();
            assert!(err.to_string().contains("invalid ICN"), "{bad}: {err}");
        }
    }

    #[test]
    fn icn_trims_and_uppercases() {
        let icn: Icn = "  icn100001\t".parse().unwrap();
        assert_eq!(icn.as_str(), "ICN100001");
        let icn: Icn = "1016v123456\n".parse().unwrap();
        assert_eq!(icn.as_str(), "1016V123456");
        let icn: Icn = "Icn100001".parse().unwrap();
        assert_eq!(icn.as_str(), "ICN100001");
    }

    #[test]
    fn icn_rejects_other_shapes() {
        for bad in [
            "",
            "   ",
            "ICN",
            "ICN10001",
            "ICN1000011",
            "ICN10194256641",
            "ICN 100001",
            "ICN-100001",
            "ICN10000A",
            "100001",
            "ICN+100001",
            "1016V12345",
            "1016V1234567",
            "101V123456",
            "10161V123456",
            "1016X123456",
            "1016VV23456",
            "V123456",
            "1016V",
            "123456789V123456",
            "1016V123456V",
            "ICN100001\u{0}",
            "ICN１００００１",
            "ICN100001 x",
        ] {
            assert!(bad.parse::<Icn>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn icn_error_names_input_and_format() {
        let msg = "ICN12".parse::<Icn>().unwrap_err().to_string();
        assert!(msg.contains("\"ICN12\""), "{msg}");
        assert!(msg.contains("ICN100001"), "{msg}");
        assert!(msg.contains("1016V123456"), "{msg}");
    }

    #[test]
    fn icn_try_from_and_serde() {
        let icn = Icn::try_from("ICN100010").unwrap();
        assert_eq!(ser_str(&icn).unwrap(), "ICN100010");
        let back: Icn = de_str("icn100010").unwrap();
        assert_eq!(back, icn);
        assert!(de_str::<Icn>("ICN1").is_err());
        assert!(de_u64::<Icn>(100001).is_err());
    }

    // ---- PatientKey ----

    #[test]
    fn patient_key_is_the_icn() {
        let icn: Icn = "1016V123456".parse().unwrap();
        let key = PatientKey::from(icn.clone());
        assert_eq!(key.icn(), &icn);
        assert_eq!(key.as_str(), "1016V123456");
        assert_eq!(key.to_string(), "1016V123456");
        assert_eq!(ser_str(&key).unwrap(), "1016V123456");
        assert_eq!(de_str::<PatientKey>("1016V123456").unwrap(), key);
        assert!(de_str::<PatientKey>("nope").is_err());
        assert_eq!(
            PatientKey::try_from("ICN100001").unwrap().as_str(),
            "ICN100001"
        );
        assert_eq!(Icn::from(key), icn);
    }

    // ---- Sta3n ----

    #[test]
    fn sta3n_bounds() {
        assert!(Sta3n::new(99).is_err());
        assert_eq!(Sta3n::new(100).unwrap().get(), 100);
        assert_eq!(Sta3n::new(999).unwrap().get(), 999);
        assert!(Sta3n::new(1000).is_err());
        assert!(Sta3n::new(0).is_err());
    }

    #[test]
    fn sta3n_parsing() {
        assert_eq!("508".parse::<Sta3n>().unwrap().get(), 508);
        assert_eq!(" 508 ".parse::<Sta3n>().unwrap().get(), 508);
        assert_eq!(Sta3n::try_from("663").unwrap().get(), 663);
        for bad in [
            "0", "1000", "abc", "50", "", "099", "0508", "+50", "5 8", "50a", "-508",
        ] {
            assert!(bad.parse::<Sta3n>().is_err(), "{bad:?}");
        }
        let msg = "50".parse::<Sta3n>().unwrap_err().to_string();
        assert!(
            msg.contains("\"50\"") && msg.contains("100 to 999"),
            "{msg}"
        );
    }

    #[test]
    fn sta3n_serde_accepts_string_or_integer() {
        let s = Sta3n::new(508).unwrap();
        assert_eq!(ser_str(&s).unwrap(), "508");
        assert_eq!(de_str::<Sta3n>("508").unwrap(), s);
        assert_eq!(de_u64::<Sta3n>(508).unwrap(), s);
        assert_eq!(de_i64::<Sta3n>(508).unwrap(), s);
        assert!(de_u64::<Sta3n>(50).is_err());
        assert!(de_u64::<Sta3n>(70_000).is_err());
        assert!(de_i64::<Sta3n>(-508).is_err());
        assert!(de_str::<Sta3n>("5080").is_err());
    }

    // ---- Dfn ----

    #[test]
    fn dfn_parsing() {
        assert_eq!("100001".parse::<Dfn>().unwrap().get(), 100_001);
        assert_eq!(" 7 ".parse::<Dfn>().unwrap().get(), 7);
        assert_eq!(
            "18446744073709551615".parse::<Dfn>().unwrap().get(),
            u64::MAX
        );
        for bad in [
            "0",
            "00",
            "007",
            "-1",
            "+1",
            "1.0",
            "",
            "abc",
            "1 2",
            "18446744073709551616",
        ] {
            assert!(bad.parse::<Dfn>().is_err(), "{bad:?}");
        }
        assert!(Dfn::new(0).is_err());
        assert_eq!(Dfn::try_from(5_u64).unwrap().get(), 5);
    }

    #[test]
    fn dfn_serde() {
        let d = Dfn::new(500_001).unwrap();
        assert_eq!(ser_str(&d).unwrap(), "500001");
        assert_eq!(de_str::<Dfn>("500001").unwrap(), d);
        assert_eq!(de_u64::<Dfn>(500_001).unwrap(), d);
        assert!(de_u64::<Dfn>(0).is_err());
        assert!(de_i64::<Dfn>(-3).is_err());
        assert!(de_str::<Dfn>("x").is_err());
    }

    // ---- SourceSystem / SourceRecordId ----

    #[test]
    fn source_system_parsing_is_case_insensitive() {
        assert_eq!(
            "CDWWork".parse::<SourceSystem>().unwrap(),
            SourceSystem::CdwWork
        );
        assert_eq!(
            " cdwwork2 ".parse::<SourceSystem>().unwrap(),
            SourceSystem::CdwWork2
        );
        assert_eq!(
            "CDWWORK".parse::<SourceSystem>().unwrap(),
            SourceSystem::CdwWork
        );
        for bad in ["", "CDW", "CDWWork3", "VistA", "CDWWork 2"] {
            assert!(bad.parse::<SourceSystem>().is_err(), "{bad:?}");
        }
        assert_eq!(SourceSystem::CdwWork.as_str(), "CDWWork");
        assert_eq!(SourceSystem::CdwWork2.to_string(), "CDWWork2");
        assert_eq!(SourceSystem::CdwWork.ehr_name(), "VistA");
        assert_eq!(SourceSystem::CdwWork2.ehr_name(), "Cerner");
        assert_eq!(ser_str(&SourceSystem::CdwWork2).unwrap(), "CDWWork2");
        assert_eq!(
            de_str::<SourceSystem>("cdwwork").unwrap(),
            SourceSystem::CdwWork
        );
        assert!(de_str::<SourceSystem>("x").is_err());
    }

    #[test]
    fn source_record_id_text_form() {
        let k = SourceRecordId::new(SourceSystem::CdwWork, 123);
        assert_eq!(k.to_string(), "CDWWork:123");
        assert_eq!("CDWWork:123".parse::<SourceRecordId>().unwrap(), k);
        assert_eq!(" cdwwork2:-7 ".parse::<SourceRecordId>().unwrap().id, -7);
        for bad in [
            "",
            "CDWWork",
            "CDWWork:",
            "CDWWork:+1",
            "CDWWork: 1",
            "X:1",
            "CDWWork:1:2",
            "CDWWork:9223372036854775808",
            ":5",
        ] {
            assert!(bad.parse::<SourceRecordId>().is_err(), "{bad:?}");
        }
        assert_eq!(ser_str(&k).unwrap(), "CDWWork:123");
        assert_eq!(de_str::<SourceRecordId>("CDWWork:123").unwrap(), k);
        assert!(de_str::<SourceRecordId>("CDWWork-123").is_err());
        assert_ne!(
            SourceRecordId::new(SourceSystem::CdwWork, 2001),
            SourceRecordId::new(SourceSystem::CdwWork2, 2001)
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn valid_icn() -> impl Strategy<Value = String> {
            prop_oneof!["ICN[0-9]{6}", "ICN[0-9]{10}", "[0-9]{4}V[0-9]{6}",]
        }

        proptest! {
            #[test]
            fn icn_round_trips(s in valid_icn(), pad in "[ \t]{0,2}") {
                let icn: Icn = format!("{pad}{}{pad}", s.to_lowercase()).parse().unwrap();
                prop_assert_eq!(icn.as_str(), s.as_str());
                let again: Icn = icn.to_string().parse().unwrap();
                prop_assert_eq!(again, icn);
            }

            #[test]
            fn icn_never_panics_and_output_is_canonical(s in "\\PC{0,24}") {
                if let Ok(icn) = s.parse::<Icn>() {
                    prop_assert_eq!(icn.as_str(), icn.as_str().trim());
                    prop_assert_eq!(icn.as_str().to_ascii_uppercase(), icn.as_str());
                    prop_assert!(matches!(icn.as_str().len(), 9 | 13 | 11 | 17));
                }
            }

            #[test]
            fn icn_rejects_wrong_digit_counts(
                s in prop_oneof!["ICN[0-9]{0,5}", "ICN[0-9]{7,9}", "ICN[0-9]{11,14}",
                                 "[0-9]{0,3}V[0-9]{6}", "[0-9]{5,9}V[0-9]{6}", "[0-9]{4}V[0-9]{0,5}",
                                 "[0-9]{4}V[0-9]{7,9}"]
            ) {
                prop_assert!(s.parse::<Icn>().is_err());
            }

            #[test]
            fn sta3n_numeric_validation(n in any::<u16>()) {
                prop_assert_eq!(Sta3n::new(n).is_ok(), (100..=999).contains(&n));
                if let Ok(s) = Sta3n::new(n) {
                    prop_assert_eq!(s.to_string().parse::<Sta3n>().unwrap(), s);
                }
            }

            #[test]
            fn sta3n_never_panics(s in "\\PC{0,8}") {
                if let Ok(v) = s.parse::<Sta3n>() {
                    prop_assert!((100..=999).contains(&v.get()));
                }
            }

            #[test]
            fn dfn_round_trips(n in 1_u64..) {
                let d = Dfn::new(n).unwrap();
                prop_assert_eq!(d.to_string().parse::<Dfn>().unwrap(), d);
            }

            #[test]
            fn dfn_never_panics(s in "\\PC{0,24}") {
                if let Ok(d) = s.parse::<Dfn>() {
                    prop_assert!(d.get() > 0);
                }
            }

            #[test]
            fn source_record_id_round_trips(id in any::<i64>(), second in any::<bool>()) {
                let sys = if second { SourceSystem::CdwWork2 } else { SourceSystem::CdwWork };
                let k = SourceRecordId::new(sys, id);
                prop_assert_eq!(k.to_string().parse::<SourceRecordId>().unwrap(), k);
            }

            #[test]
            fn source_record_id_never_panics(s in "\\PC{0,30}") {
                let _ = s.parse::<SourceRecordId>();
            }
        }
    }
}
