//! ICD-10 code normalisation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::shown;

/// Error from [`normalise_icd10`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid ICD-10 code {input:?}: expected a letter, a digit and a letter/digit, optionally \
     followed by '.' and 1-4 letters/digits (e.g. E11, I50.23, C7A.010)"
)]
pub struct Icd10Error {
    /// The rejected input.
    pub input: String,
}

/// A syntactically valid ICD-10 code in canonical form: upper case, with a
/// dot after the three-character category when there is a subdivision
/// (`I50.23`). The code is not checked against the ICD-10 code list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icd10Code(String);

impl Icd10Code {
    /// The canonical code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The three-character category, e.g. `I50` for `I50.23`.
    pub fn category(&self) -> &str {
        self.0.get(..3).unwrap_or(&self.0)
    }

    /// Whether the canonical code starts with `prefix` (compared
    /// case-insensitively; write prefixes in dotted form, e.g. `F43.1`).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    }
}

/// Normalises an ICD-10 code: trims surrounding whitespace, upper-cases,
/// and validates the shape: a category of letter + digit + letter-or-digit
/// (every ICD-10 category has a digit in second place, so this is slightly
/// stricter than "letter + 2 alphanumerics" and rejects words such as
/// `NOPE`), optionally followed by `.` and 1–4 letters/digits. As a tolerance for sources that strip the
/// dot, an undotted code of 4–7 characters (`I5023`) is accepted and the dot
/// inserted after the third character. Everything else (inner spaces, a
/// trailing dot, more than one dot, a leading digit) is rejected.
///
/// Reference: original-data-and-services §2.4 "Problems" (codes trimmed and
/// upper-cased).
pub fn normalise_icd10(input: &str) -> Result<Icd10Code, Icd10Error> {
    let upper = input.trim().to_ascii_uppercase();
    let err = || Icd10Error {
        input: shown(input),
    };
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let (head, tail) = match upper.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None if upper.len() > 3 => {
            let (h, t) = upper.split_at_checked(3).ok_or_else(err)?;
            (h, Some(t))
        }
        None => (upper.as_str(), None),
    };
    let head_ok = matches!(
        head.as_bytes(),
        [letter, digit, third]
            if letter.is_ascii_uppercase() && digit.is_ascii_digit() && third.is_ascii_alphanumeric()
    );
    let tail_ok = tail.is_none_or(|t| (1..=4).contains(&t.len()) && alnum(t));
    if !(head_ok && tail_ok) {
        return Err(err());
    }
    Ok(Icd10Code(match tail {
        Some(t) => format!("{head}.{t}"),
        None => head.to_owned(),
    }))
}

impl FromStr for Icd10Code {
    type Err = Icd10Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        normalise_icd10(s)
    }
}

impl TryFrom<&str> for Icd10Code {
    type Error = Icd10Error;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        normalise_icd10(s)
    }
}

impl TryFrom<String> for Icd10Code {
    type Error = Icd10Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        normalise_icd10(&s)
    }
}

impl From<Icd10Code> for String {
    fn from(c: Icd10Code) -> Self {
        c.0
    }
}

impl AsRef<str> for Icd10Code {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Icd10Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use proptest::prelude::*;

    #[test]
    fn normalises_valid_codes() {
        let cases = [
            ("I50.23", "I50.23"),
            (" i50.23 ", "I50.23"),
            ("E11", "E11"),
            ("e11.9", "E11.9"),
            ("C7A.010", "C7A.010"),
            ("C50.919", "C50.919"),
            ("S72.001A", "S72.001A"),
            ("I5023", "I50.23"),
            ("S72001A", "S72.001A"),
            ("F4310", "F43.10"),
        ];
        for (raw, want) in cases {
            let code = normalise_icd10(raw).unwrap();
            assert_eq!(code.as_str(), want, "{raw:?}");
        }
        assert_eq!(normalise_icd10("I50.23").unwrap().category(), "I50");
        assert_eq!(normalise_icd10("E11").unwrap().category(), "E11");
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "",
            " ",
            "I5",
            "50.1",
            "I50.",
            "I50..1",
            "I50.12345",
            "I5.0",
            "I50 .1",
            "I 50",
            "I50-1",
            "I50.1.2",
            "I50231234",
            "Ä50",
            "I50.2é",
            ".I50",
            "I50.1 x",
            "NOPE",
            "AB1",
            "IX0.1",
        ] {
            assert!(normalise_icd10(bad).is_err(), "{bad:?}");
        }
        let msg = normalise_icd10("I5").unwrap_err().to_string();
        assert!(msg.contains("\"I5\"") && msg.contains("I50.23"), "{msg}");
    }

    #[test]
    fn prefix_matching() {
        let c = normalise_icd10("f43.10").unwrap();
        assert!(c.has_prefix("F43.1"));
        assert!(c.has_prefix("f43"));
        assert!(!c.has_prefix("F43.2"));
        assert!(!c.has_prefix("F43.100"));
    }

    #[test]
    fn serde_validates() {
        let c = normalise_icd10("I50.23").unwrap();
        assert_eq!(ser_str(&c).unwrap(), "I50.23");
        assert_eq!(de_str::<Icd10Code>("i5023").unwrap(), c);
        assert!(de_str::<Icd10Code>("nope").is_err());
        assert!(de_str::<Icd10Code>("1I50").is_err());
    }

    proptest! {
        #[test]
        fn canonical_codes_round_trip(code in "[A-Z][0-9][0-9A-Z](\\.[0-9A-Z]{1,4})?") {
            let c = normalise_icd10(&code).unwrap();
            prop_assert_eq!(c.as_str(), code.as_str());
            prop_assert_eq!(normalise_icd10(c.as_str()).unwrap(), c.clone());
            let lower = code.to_lowercase();
            prop_assert_eq!(normalise_icd10(&lower).unwrap(), c);
        }

        #[test]
        fn undotted_equals_dotted(head in "[A-Z][0-9][0-9A-Z]", tail in "[0-9A-Z]{1,4}") {
            let dotted = normalise_icd10(&format!("{head}.{tail}")).unwrap();
            let undotted = normalise_icd10(&format!("{head}{tail}")).unwrap();
            prop_assert_eq!(dotted, undotted);
        }

        #[test]
        fn never_panics_and_output_is_canonical(s in "\\PC{0,12}") {
            if let Ok(c) = normalise_icd10(&s) {
                prop_assert_eq!(normalise_icd10(c.as_str()).unwrap(), c.clone());
                prop_assert!(c.as_str().len() >= 3 && c.as_str().len() <= 8);
            }
        }

        #[test]
        fn rejects_leading_digit(code in "[0-9][0-9A-Z]{2}(\\.[0-9A-Z]{1,4})?") {
            prop_assert!(normalise_icd10(&code).is_err());
        }

        #[test]
        fn rejects_long_subdivisions(code in "[A-Z][0-9]{2}\\.[0-9A-Z]{5,8}") {
            prop_assert!(normalise_icd10(&code).is_err());
        }
    }
}
