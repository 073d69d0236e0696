//! Laboratory results: abnormal-flag normalisation, result-text parsing and
//! reference-range parsing.
//!
//! Reference: original-data-and-services §2.4 "Labs" and original-webapp
//! §3.7 (flags normalised to H, L, H*, L*, PANIC; `is_abnormal` = a flag is
//! present; `is_critical` = H*, L* or PANIC).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CodeError, canonical_words};
use crate::numeric::parse_decimal;

/// Normalised abnormal flag of a lab result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LabFlag {
    /// `H`: above the reference range.
    H,
    /// `L`: below the reference range.
    L,
    /// `H*`: critically high.
    HCritical,
    /// `L*`: critically low.
    LCritical,
    /// `PANIC`: panic value.
    Panic,
}

impl LabFlag {
    /// Every flag.
    pub const ALL: [Self; 5] = [
        Self::H,
        Self::L,
        Self::HCritical,
        Self::LCritical,
        Self::Panic,
    ];

    /// Stored spelling: `H`, `L`, `H*`, `L*` or `PANIC`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::H => "H",
            Self::L => "L",
            Self::HCritical => "H*",
            Self::LCritical => "L*",
            Self::Panic => "PANIC",
        }
    }

    /// Whether this is a critical flag (`H*`, `L*` or `PANIC`).
    pub fn is_critical(self) -> bool {
        matches!(self, Self::HCritical | Self::LCritical | Self::Panic)
    }

    /// Normalises a raw source flag, following the ETL's mapping (reference:
    /// original-data-and-services §2.4 "Labs"). Trimmed, case-insensitive,
    /// inner whitespace runs collapsed:
    ///
    /// * `H` → H, `L` → L, `H*` → H*, `L*` → L*;
    /// * `HIGH`, `HH`, `CRITICAL HIGH` → H* (the source uses the spelled-out
    ///   word only for critical values);
    /// * `LOW`, `LL`, `CRITICAL LOW` → L*;
    /// * `ABNORMAL`, `A` → H;
    /// * `PANIC`, `P` → PANIC;
    /// * blank or anything else → `None`.
    pub fn normalise(raw: &str) -> Option<Self> {
        let key = canonical_words(raw);
        let flag = match key.as_str() {
            "H" | "ABNORMAL" | "A" => Self::H,
            "L" => Self::L,
            "H*" | "HIGH" | "HH" | "CRITICAL HIGH" => Self::HCritical,
            "L*" | "LOW" | "LL" | "CRITICAL LOW" => Self::LCritical,
            "PANIC" | "P" => Self::Panic,
            _ => return None,
        };
        Some(flag)
    }
}

impl fmt::Display for LabFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LabFlag {
    type Err = CodeError;

    /// Parses a flag with [`LabFlag::normalise`]; unrecognised or blank text
    /// is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::normalise(s).ok_or_else(|| {
            CodeError::new(
                "lab flag",
                s,
                "H, L, H*, L*, PANIC (or HIGH, HH, CRITICAL HIGH, LOW, LL, CRITICAL LOW, ABNORMAL, A, P)",
            )
        })
    }
}

impl TryFrom<String> for LabFlag {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<LabFlag> for String {
    fn from(f: LabFlag) -> Self {
        f.as_str().to_owned()
    }
}

/// Free-function form of [`LabFlag::normalise`].
pub fn normalise(raw: &str) -> Option<LabFlag> {
    LabFlag::normalise(raw)
}

/// A result is abnormal when it carries any flag (reference:
/// original-webapp §3.7).
pub fn is_abnormal(flag: Option<LabFlag>) -> bool {
    flag.is_some()
}

/// A result is critical when flagged `H*`, `L*` or `PANIC`.
pub fn is_critical(flag: Option<LabFlag>) -> bool {
    flag.is_some_and(LabFlag::is_critical)
}

/// Reads a numeric value out of a result text (reference:
/// original-data-and-services §2.4 "Labs"):
///
/// * a plain decimal number (`"5.2"`, `"-3"`) is returned as is;
/// * `"<X"` gives `X − 0.01` (so `"<5.0"` → 4.99);
/// * `">X"` gives `X + 1` (so `">1000"` → 1001.0);
/// * anything else (`"POSITIVE"`, `"1e3"`, `"NaN"`, blank) gives `None`.
///
/// Surrounding whitespace and whitespace after `<`/`>` are ignored.
pub fn parse_lab_result(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('<') {
        parse_decimal(rest).map(|v| v - 0.01)
    } else if let Some(rest) = t.strip_prefix('>') {
        parse_decimal(rest).map(|v| v + 1.0)
    } else {
        parse_decimal(t)
    }
}

/// Extracts `(low, high)` from a reference-range text such as
/// `"3.5 - 5.0"` or `"70-99 mg/dL"`.
///
/// Equivalent to searching the text for the first match of the reference's
/// pattern `(\d+\.?\d*)\s*-\s*(\d+\.?\d*)` (reference:
/// original-data-and-services §2.4 "Labs"), implemented without a regex
/// engine: digits are ASCII, `\s` is any Unicode whitespace. As in the
/// original, the bounds are not reordered, and signs are not part of a
/// number (`"-5 - 5"` yields `(5, 5)`).
pub fn parse_ref_range(text: &str) -> Option<(f64, f64)> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).find_map(|start| match_range_at(&chars, start))
}

/// Tries to match the range pattern starting exactly at `start`.
fn match_range_at(chars: &[char], start: usize) -> Option<(f64, f64)> {
    let (low, after_low) = match_number(chars, start)?;
    let mut i = skip_whitespace(chars, after_low);
    if chars.get(i) != Some(&'-') {
        return None;
    }
    i = skip_whitespace(chars, i + 1);
    let (high, _) = match_number(chars, i)?;
    Some((low, high))
}

/// Matches `\d+\.?\d*` greedily at `start`; returns the value and the index
/// just past the match. Greedy matching never needs backtracking here
/// because what may follow (whitespace or `-`) can never be part of a
/// number.
fn match_number(chars: &[char], start: usize) -> Option<(f64, usize)> {
    let digits_from = |i: usize| {
        chars[i.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_len = digits_from(start);
    if int_len == 0 {
        return None;
    }
    let mut end = start + int_len;
    if chars.get(end) == Some(&'.') {
        end += 1;
        end += digits_from(end);
    }
    let text: String = chars[start..end].iter().collect();
    parse_decimal(&text).map(|v| (v, end))
}

fn skip_whitespace(chars: &[char], from: usize) -> usize {
    from + chars[from.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_whitespace())
        .count()
}

/// The flag a lab system would assign to `value` given its reference and
/// critical limits (any limit may be unknown). Limits are inclusive: a value
/// equal to a limit is within it.
///
/// Order of checks: below `critical_low` → `L*`; above `critical_high` →
/// `H*`; below `low` → `L`; above `high` → `H`; otherwise (or for a
/// non-finite value) `None`.
pub fn flag_from_range(
    value: f64,
    low: Option<f64>,
    high: Option<f64>,
    critical_low: Option<f64>,
    critical_high: Option<f64>,
) -> Option<LabFlag> {
    if !value.is_finite() {
        return None;
    }
    let below = |limit: Option<f64>| limit.is_some_and(|l| value < l);
    let above = |limit: Option<f64>| limit.is_some_and(|h| value > h);
    if below(critical_low) {
        Some(LabFlag::LCritical)
    } else if above(critical_high) {
        Some(LabFlag::HCritical)
    } else if below(low) {
        Some(LabFlag::L)
    } else if above(high) {
        Some(LabFlag::H)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};

    #[test]
    fn normalises_reference_spellings() {
        let cases = [
            ("H", Some(LabFlag::H)),
            ("L", Some(LabFlag::L)),
            ("H*", Some(LabFlag::HCritical)),
            ("L*", Some(LabFlag::LCritical)),
            ("HIGH", Some(LabFlag::HCritical)),
            ("HH", Some(LabFlag::HCritical)),
            ("CRITICAL HIGH", Some(LabFlag::HCritical)),
            ("LOW", Some(LabFlag::LCritical)),
            ("LL", Some(LabFlag::LCritical)),
            ("CRITICAL LOW", Some(LabFlag::LCritical)),
            ("ABNORMAL", Some(LabFlag::H)),
            ("A", Some(LabFlag::H)),
            ("PANIC", Some(LabFlag::Panic)),
            ("P", Some(LabFlag::Panic)),
            (" h ", Some(LabFlag::H)),
            ("critical   high", Some(LabFlag::HCritical)),
            ("l*", Some(LabFlag::LCritical)),
            ("Panic", Some(LabFlag::Panic)),
            ("", None),
            ("   ", None),
            ("N", None),
            ("NORMAL", None),
            ("H**", None),
            ("HI", None),
            ("CRITICAL", None),
            ("* H", None),
        ];
        for (raw, want) in cases {
            assert_eq!(LabFlag::normalise(raw), want, "{raw:?}");
            assert_eq!(normalise(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn abnormal_and_critical() {
        assert!(!is_abnormal(None));
        assert!(!is_critical(None));
        for f in LabFlag::ALL {
            assert!(is_abnormal(Some(f)));
        }
        assert!(!is_critical(Some(LabFlag::H)));
        assert!(!is_critical(Some(LabFlag::L)));
        assert!(is_critical(Some(LabFlag::HCritical)));
        assert!(is_critical(Some(LabFlag::LCritical)));
        assert!(is_critical(Some(LabFlag::Panic)));
    }

    #[test]
    fn flag_text_forms() {
        for f in LabFlag::ALL {
            assert_eq!(f.as_str().parse::<LabFlag>().unwrap(), f);
            assert_eq!(f.to_string(), f.as_str());
            assert_eq!(ser_str(&f).unwrap(), f.as_str());
            assert_eq!(de_str::<LabFlag>(f.as_str()).unwrap(), f);
        }
        let msg = "Q".parse::<LabFlag>().unwrap_err().to_string();
        assert!(msg.contains("\"Q\"") && msg.contains("H*"), "{msg}");
        assert!(de_str::<LabFlag>("").is_err());
    }

    #[test]
    fn result_parsing() {
        assert_eq!(parse_lab_result("5.2"), Some(5.2));
        assert_eq!(parse_lab_result(" 140 "), Some(140.0));
        assert_eq!(parse_lab_result("-2.5"), Some(-2.5));
        assert_eq!(parse_lab_result("<5.0"), Some(5.0 - 0.01));
        assert!((parse_lab_result("<5.0").unwrap() - 4.99).abs() < 1e-12);
        assert_eq!(parse_lab_result(">1000"), Some(1001.0));
        assert_eq!(parse_lab_result("< 0.5"), Some(0.5 - 0.01));
        assert_eq!(parse_lab_result("> 60"), Some(61.0));
        for bad in [
            "", "POSITIVE", "NEG", "<", ">", "<>5", "<=5", "5.0 mg", "1e3", "NaN", "inf", "1,000",
            "--5", "5-",
        ] {
            assert_eq!(parse_lab_result(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ref_range_parsing() {
        assert_eq!(parse_ref_range("3.5 - 5.0"), Some((3.5, 5.0)));
        assert_eq!(parse_ref_range("3.5-5.0"), Some((3.5, 5.0)));
        assert_eq!(parse_ref_range("70 -99 mg/dL"), Some((70.0, 99.0)));
        assert_eq!(parse_ref_range("Ref: 0.6 - 1.2"), Some((0.6, 1.2)));
        assert_eq!(parse_ref_range("4. - 10."), Some((4.0, 10.0)));
        assert_eq!(parse_ref_range("1\t-\u{00A0}2"), Some((1.0, 2.0)));
        assert_eq!(parse_ref_range("-5 - 5"), Some((5.0, 5.0)));
        assert_eq!(parse_ref_range("10 - 5"), Some((10.0, 5.0)));
        // Regex search semantics: first successful start position.
        assert_eq!(parse_ref_range("1.2.3-4"), Some((2.3, 4.0)));
        assert_eq!(parse_ref_range("a 1 b 2-3"), Some((2.0, 3.0)));
        // The pattern needs a digit before any dot, so ".5" matches from "5".
        assert_eq!(parse_ref_range(".5-1"), Some((5.0, 1.0)));
        for bad in [
            "", "<200", ">60", "NEGATIVE", "5", "5 -", "- 5", "5 to 10", "5--6", "5 – 6",
        ] {
            assert_eq!(parse_ref_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn flags_from_range() {
        let f = |v| flag_from_range(v, Some(3.5), Some(5.0), Some(2.5), Some(6.5));
        assert_eq!(f(2.4), Some(LabFlag::LCritical));
        assert_eq!(f(2.5), Some(LabFlag::L));
        assert_eq!(f(3.4), Some(LabFlag::L));
        assert_eq!(f(3.5), None);
        assert_eq!(f(4.2), None);
        assert_eq!(f(5.0), None);
        assert_eq!(f(5.1), Some(LabFlag::H));
        assert_eq!(f(6.5), Some(LabFlag::H));
        assert_eq!(f(6.6), Some(LabFlag::HCritical));
        assert_eq!(f(f64::NAN), None);
        assert_eq!(flag_from_range(100.0, None, None, None, None), None);
        assert_eq!(
            flag_from_range(100.0, None, Some(99.0), None, None),
            Some(LabFlag::H)
        );
        assert_eq!(
            flag_from_range(1.0, Some(2.0), None, None, None),
            Some(LabFlag::L)
        );
        assert_eq!(
            flag_from_range(1.0, None, None, Some(2.0), None),
            Some(LabFlag::LCritical)
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn normalise_never_panics(s in "\\PC{0,20}") {
                let _ = LabFlag::normalise(&s);
            }

            #[test]
            fn normalise_is_idempotent_on_output(s in "[HLAP* ]{0,6}|HIGH|LOW|CRITICAL (HIGH|LOW)|PANIC|ABNORMAL") {
                if let Some(f) = LabFlag::normalise(&s) {
                    prop_assert_eq!(LabFlag::normalise(f.as_str()), Some(f));
                }
            }

            #[test]
            fn result_round_trips(v in -1.0e6_f64..1.0e6) {
                let text = v.to_string();
                prop_assert_eq!(parse_lab_result(&text), Some(v));
                let lt = format!("<{text}");
                let gt = format!(">{text}");
                prop_assert_eq!(parse_lab_result(&lt), Some(v - 0.01));
                prop_assert_eq!(parse_lab_result(&gt), Some(v + 1.0));
            }

            #[test]
            fn result_never_panics(s in "\\PC{0,20}") {
                if let Some(v) = parse_lab_result(&s) {
                    prop_assert!(v.is_finite());
                }
            }

            #[test]
            fn result_rejects_text(s in "[A-Za-z][A-Za-z ]{0,10}") {
                prop_assert_eq!(parse_lab_result(&s), None);
            }

            #[test]
            fn ref_range_round_trips(lo in 0_u32..100_000, hi in 0_u32..100_000, sp1 in " {0,2}", sp2 in " {0,2}", suffix in "( [a-zA-Z/]{1,6})?") {
                let (l, h) = (f64::from(lo) / 100.0, f64::from(hi) / 100.0);
                let text = format!("{l}{sp1}-{sp2}{h}{suffix}");
                prop_assert_eq!(parse_ref_range(&text), Some((l, h)));
            }

            #[test]
            fn ref_range_never_panics(s in "\\PC{0,24}") {
                if let Some((l, h)) = parse_ref_range(&s) {
                    prop_assert!(l >= 0.0 && h >= 0.0);
                }
            }

            #[test]
            fn ref_range_needs_a_dash(s in "[0-9. a-z]{0,16}") {
                prop_assert_eq!(parse_ref_range(&s), None);
            }

            #[test]
            fn range_flag_consistent(v in -100.0_f64..100.0) {
                let flag = flag_from_range(v, Some(-10.0), Some(10.0), Some(-50.0), Some(50.0));
                let want = if v < -50.0 { Some(LabFlag::LCritical) }
                    else if v > 50.0 { Some(LabFlag::HCritical) }
                    else if v < -10.0 { Some(LabFlag::L) }
                    else if v > 10.0 { Some(LabFlag::H) }
                    else { None };
                prop_assert_eq!(flag, want);
            }
        }
    }
}
