//! Immunizations: series text parsing, CVX vaccine codes and body-site
//! normalisation.
//!
//! Reference: original-data-and-services §2.4 "Immunizations" (series rules,
//! Cerner series text, site normalisation, annual-flu and COVID CVX lists)
//! and §5 quirk 10 (CVX `088` never matched `88`: codes are normalised here).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{canonical_words, shown};

// ---------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------

/// What a series text says about a dose. Every field is `None` when the
/// text does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// Which dose of the series this was (1-based).
    pub dose_number: Option<u32>,
    /// How many doses the series has.
    pub total_doses: Option<u32>,
    /// Whether this dose completes the series.
    pub complete: Option<bool>,
}

impl SeriesInfo {
    /// Dose `dose` of a `total`-dose series; complete when `dose ≥ total`.
    fn of(dose: u32, total: u32) -> Self {
        Self {
            dose_number: Some(dose),
            total_doses: Some(total),
            complete: Some(dose >= total),
        }
    }
}

/// Parses a positive whole number written in ASCII digits only.
fn positive(text: &str) -> Option<u32> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits_only
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .filter(|n| *n > 0)
}

/// Interprets a VistA series text (reference: original-data-and-services
/// §2.4 "Immunizations"). Case and whitespace are ignored.
///
/// * `"N of M"` → dose N of M, complete when N ≥ M (`"2 OF 3"`, `" 1 of 2 "`);
/// * bare `"N"` → dose N of N, complete;
/// * `"COMPLETE"` → complete, dose and total unknown;
/// * `"BOOSTER"`, `"INITIAL"`, `"UNKNOWN"`, blank, and any other text (e.g.
///   `"BOOSTER 1"`, `"ANNUAL 2024"`) → nothing known.
///
/// Numbers must be positive: `"0 of 2"` and `"0"` say nothing.
pub fn parse_series(text: &str) -> SeriesInfo {
    let key = canonical_words(text);
    let words: Vec<&str> = key.split(' ').collect();
    match words.as_slice() {
        ["COMPLETE"] => SeriesInfo {
            complete: Some(true),
            ..SeriesInfo::default()
        },
        [n] => positive(n).map_or_else(SeriesInfo::default, |n| SeriesInfo::of(n, n)),
        [n, "OF", m] => match (positive(n), positive(m)) {
            (Some(n), Some(m)) => SeriesInfo::of(n, m),
            _ => SeriesInfo::default(),
        },
        _ => SeriesInfo::default(),
    }
}

/// The trimmed value, or `None` when absent or blank.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|t| !t.is_empty())
}

/// Builds the series text and information of a Cerner (CDWWork2)
/// administration from its `SeriesNumber` and `TotalInSeries` columns
/// (reference: original-data-and-services §2.4 "Immunizations").
///
/// Blank values count as absent. The text is `"{series} of {total}"` when
/// both are present, otherwise the series number alone (e.g. `"BOOSTER 1"`),
/// or `None` without a series number. The dose number is taken only from an
/// all-digit series number and the total only from an all-digit total;
/// completeness is known only when both are.
pub fn series_from_cerner(
    series_number: Option<&str>,
    total_in_series: Option<&str>,
) -> (Option<String>, SeriesInfo) {
    let series = present(series_number);
    let total = present(total_in_series);
    let text = match (series, total) {
        (Some(s), Some(t)) => Some(format!("{s} of {t}")),
        (Some(s), None) => Some(s.to_owned()),
        (None, _) => None,
    };
    let dose_number = series.and_then(positive);
    let total_doses = total.and_then(positive);
    let complete = dose_number
        .zip(total_doses)
        .map(|(dose, total)| dose >= total);
    let info = SeriesInfo {
        dose_number,
        total_doses,
        complete,
    };
    (text, info)
}

// ---------------------------------------------------------------------------
// CVX
// ---------------------------------------------------------------------------

/// Error from [`Cvx::normalise`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid CVX code {input:?}: expected digits only with at most 3 significant digits, e.g. 88 or 088"
)]
pub struct CvxError {
    /// The rejected input.
    pub input: String,
}

/// CDC vaccine code (CVX), normalised so that `"088"` and `"88"` are the
/// same code (fixing reference original-data-and-services §5 quirk 10).
///
/// Canonical form has no leading zeros (`"0"` stays `"0"`); [`padded`]
/// gives the three-digit form. Serialises as the canonical string and
/// validates on deserialisation.
///
/// [`padded`]: Cvx::padded
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cvx(u16);

impl Cvx {
    /// Normalises a CVX code: trims surrounding whitespace, requires ASCII
    /// digits only, strips leading zeros, and requires 1–3 digits to remain.
    pub fn normalise(text: &str) -> Result<Self, CvxError> {
        let t = text.trim();
        let err = || CvxError { input: shown(text) };
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let significant = t.trim_start_matches('0');
        if significant.len() > 3 {
            return Err(err());
        }
        let value = if significant.is_empty() {
            0
        } else {
            significant.parse().map_err(|_| err())?
        };
        Ok(Self(value))
    }

    /// The numeric code.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Three-digit zero-padded form, e.g. `"088"`.
    pub fn padded(self) -> String {
        format!("{:03}", self.0)
    }
}

impl fmt::Display for Cvx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Cvx {
    type Err = CvxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::normalise(s)
    }
}

impl TryFrom<&str> for Cvx {
    type Error = CvxError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::normalise(s)
    }
}

impl TryFrom<String> for Cvx {
    type Error = CvxError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::normalise(&s)
    }
}

impl From<Cvx> for String {
    fn from(c: Cvx) -> Self {
        c.to_string()
    }
}

/// CVX codes of annual influenza vaccines (reference:
/// original-data-and-services §2.4 "Immunizations").
pub const ANNUAL_FLU_CVX: [u16; 16] = [
    88, 135, 140, 141, 144, 150, 153, 158, 161, 166, 168, 171, 185, 186, 197, 205,
];

/// CVX codes of COVID-19 vaccines (reference: original-data-and-services
/// §2.4 "Immunizations").
pub const COVID_CVX: [u16; 23] = [
    207, 208, 210, 211, 212, 213, 217, 218, 219, 221, 225, 226, 228, 229, 230, 300, 301, 302, 500,
    501, 502, 510, 511,
];

/// Whether the vaccine is an annual influenza vaccine.
pub fn is_annual_flu(cvx: &Cvx) -> bool {
    ANNUAL_FLU_CVX.contains(&cvx.get())
}

/// Whether the vaccine is a COVID-19 vaccine.
pub fn is_covid(cvx: &Cvx) -> bool {
    COVID_CVX.contains(&cvx.get())
}

// ---------------------------------------------------------------------------
// Body site
// ---------------------------------------------------------------------------

/// Normalises an administration site (reference: original-data-and-services
/// §2.4 "Immunizations").
///
/// Whitespace is trimmed and collapsed. A leading side word `L`, `LT` or
/// `LEFT` (any case, optional trailing dot) becomes `Left`, and `R`, `RT`,
/// `RIGHT` becomes `Right`, when followed by a site; so `L DELTOID`,
/// `LT DELTOID` and `LEFT DELTOID` all give `Left Deltoid`, and likewise for
/// Arm and Thigh. Everything else is title-cased word by word (a letter is
/// capitalised when it does not follow another letter: `VASTUS LATERALIS` →
/// `Vastus Lateralis`, `o'neil` → `O'Neil`).
pub fn normalise_body_site(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (side, rest) = match words.as_slice() {
        [first, rest @ ..] if !rest.is_empty() => (side_word(first), rest),
        _ => (None, &words[..]),
    };
    match side {
        Some(side) => format!("{side} {}", title_case(&rest.join(" "))),
        None => title_case(&words.join(" ")),
    }
}

fn side_word(word: &str) -> Option<&'static str> {
    let w = word.strip_suffix('.').unwrap_or(word).to_ascii_uppercase();
    match w.as_str() {
        "L" | "LT" | "LEFT" => Some("Left"),
        "R" | "RT" | "RIGHT" => Some("Right"),
        _ => None,
    }
}

/// Capitalises each letter that does not follow a letter and lower-cases
/// the others (like Python's `str.title`).
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_letter = false;
    for c in text.chars() {
        if c.is_alphabetic() {
            if after_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};

    fn info(dose: Option<u32>, total: Option<u32>, complete: Option<bool>) -> SeriesInfo {
        SeriesInfo {
            dose_number: dose,
            total_doses: total,
            complete,
        }
    }

    #[test]
    fn series_forms() {
        assert_eq!(parse_series("1 of 2"), info(Some(1), Some(2), Some(false)));
        assert_eq!(parse_series("2 of 2"), info(Some(2), Some(2), Some(true)));
        assert_eq!(parse_series("3 of 2"), info(Some(3), Some(2), Some(true)));
        assert_eq!(parse_series("2 OF 3"), info(Some(2), Some(3), Some(false)));
        assert_eq!(
            parse_series("  1 of 2 "),
            info(Some(1), Some(2), Some(false))
        );
        assert_eq!(
            parse_series("1  Of\t3"),
            info(Some(1), Some(3), Some(false))
        );
        assert_eq!(parse_series("COMPLETE"), info(None, None, Some(true)));
        assert_eq!(parse_series(" complete "), info(None, None, Some(true)));
        assert_eq!(parse_series("1"), info(Some(1), Some(1), Some(true)));
        assert_eq!(parse_series("3"), info(Some(3), Some(3), Some(true)));
        for nothing in [
            "",
            "   ",
            "BOOSTER",
            "booster",
            "INITIAL",
            "UNKNOWN",
            "BOOSTER 1",
            "ANNUAL 2024",
            "0",
            "0 of 2",
            "1 of 0",
            "1 of",
            "of 2",
            "1/2",
            "-1",
            "+1",
            "1 of 2 booster",
            "one of two",
            "99999999999",
        ] {
            assert_eq!(parse_series(nothing), SeriesInfo::default(), "{nothing:?}");
        }
    }

    #[test]
    fn cerner_series() {
        assert_eq!(
            series_from_cerner(Some("1"), Some("2")),
            (
                Some("1 of 2".to_owned()),
                info(Some(1), Some(2), Some(false))
            )
        );
        assert_eq!(
            series_from_cerner(Some(" 2 "), Some("2")),
            (
                Some("2 of 2".to_owned()),
                info(Some(2), Some(2), Some(true))
            )
        );
        assert_eq!(
            series_from_cerner(Some("BOOSTER 1"), None),
            (Some("BOOSTER 1".to_owned()), SeriesInfo::default())
        );
        assert_eq!(
            series_from_cerner(Some("BOOSTER"), Some("")),
            (Some("BOOSTER".to_owned()), SeriesInfo::default())
        );
        assert_eq!(
            series_from_cerner(Some("3"), None),
            (Some("3".to_owned()), info(Some(3), None, None))
        );
        assert_eq!(
            series_from_cerner(Some("BOOSTER"), Some("3")),
            (Some("BOOSTER of 3".to_owned()), info(None, Some(3), None))
        );
        assert_eq!(
            series_from_cerner(None, Some("2")),
            (None, info(None, Some(2), None))
        );
        assert_eq!(
            series_from_cerner(None, None),
            (None, SeriesInfo::default())
        );
        assert_eq!(
            series_from_cerner(Some("  "), None),
            (None, SeriesInfo::default())
        );
    }

    #[test]
    fn cvx_normalisation() {
        assert_eq!(Cvx::normalise("088"), Cvx::normalise("88"));
        assert_eq!(Cvx::normalise("088").unwrap().to_string(), "88");
        assert_eq!(Cvx::normalise(" 88 ").unwrap().get(), 88);
        assert_eq!(Cvx::normalise("0").unwrap().to_string(), "0");
        assert_eq!(Cvx::normalise("000").unwrap().to_string(), "0");
        assert_eq!(Cvx::normalise("0000208").unwrap().get(), 208);
        assert_eq!(Cvx::normalise("510").unwrap().get(), 510);
        assert_eq!(Cvx::normalise("999").unwrap().get(), 999);
        assert_eq!(Cvx::normalise("88").unwrap().padded(), "088");
        assert_eq!(Cvx::normalise("3").unwrap().padded(), "003");
        assert_eq!(Cvx::normalise("208").unwrap().padded(), "208");
        for bad in [
            "", " ", "1000", "01000", "8 8", "-88", "+88", "88a", "CVX88", "８８",
        ] {
            assert!(Cvx::normalise(bad).is_err(), "{bad:?}");
        }
        let msg = Cvx::normalise("1000").unwrap_err().to_string();
        assert!(msg.contains("\"1000\"") && msg.contains("088"), "{msg}");
        assert_eq!("088".parse::<Cvx>().unwrap(), Cvx::try_from("88").unwrap());
        assert_eq!(ser_str(&Cvx::normalise("088").unwrap()).unwrap(), "88");
        assert_eq!(de_str::<Cvx>("088").unwrap().get(), 88);
        assert!(de_str::<Cvx>("x").is_err());
    }

    #[test]
    fn flu_and_covid_lists() {
        let cvx = |s| Cvx::normalise(s).unwrap();
        assert!(is_annual_flu(&cvx("088")));
        assert!(is_annual_flu(&cvx("88")));
        for code in ANNUAL_FLU_CVX {
            assert!(is_annual_flu(&Cvx(code)));
            assert!(!is_covid(&Cvx(code)));
        }
        for code in COVID_CVX {
            assert!(is_covid(&Cvx(code)));
            assert!(!is_annual_flu(&Cvx(code)));
        }
        for code in [
            "87", "89", "136", "206", "209", "214", "220", "227", "231", "299", "303", "503",
            "512", "0",
        ] {
            assert!(
                !is_annual_flu(&cvx(code)) && !is_covid(&cvx(code)),
                "{code}"
            );
        }
        assert!(is_covid(&cvx("212")));
        assert!(is_covid(&cvx("0208")));
    }

    #[test]
    fn body_sites() {
        let cases = [
            ("L DELTOID", "Left Deltoid"),
            ("LT DELTOID", "Left Deltoid"),
            ("LEFT DELTOID", "Left Deltoid"),
            ("left deltoid", "Left Deltoid"),
            ("R DELTOID", "Right Deltoid"),
            ("RT DELTOID", "Right Deltoid"),
            ("RIGHT DELTOID", "Right Deltoid"),
            ("L ARM", "Left Arm"),
            ("RT ARM", "Right Arm"),
            ("LEFT THIGH", "Left Thigh"),
            ("R THIGH", "Right Thigh"),
            ("Lt. Deltoid", "Left Deltoid"),
            ("  L   DELTOID ", "Left Deltoid"),
            ("LT VASTUS LATERALIS", "Left Vastus Lateralis"),
            ("LEFT UPPER ARM", "Left Upper Arm"),
            ("DELTOID", "Deltoid"),
            ("ORAL", "Oral"),
            ("NASAL", "Nasal"),
            ("L", "L"),
            ("RIGHT", "Right"),
            ("GLUTEUS-MEDIUS", "Gluteus-Medius"),
            ("LEFTDELTOID", "Leftdeltoid"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_body_site(raw), want, "{raw:?}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn series_n_of_m(n in 1_u32..10_000, m in 1_u32..10_000, upper in any::<bool>(), pad in " {0,3}") {
            let of = if upper { "OF" } else { "of" };
                let text = format!("{pad}{n} {of} {m}{pad}");
                prop_assert_eq!(parse_series(&text), SeriesInfo::of(n, m));
            }

            #[test]
            fn series_bare_number(n in 1_u32..10_000) {
                prop_assert_eq!(parse_series(&n.to_string()), SeriesInfo::of(n, n));
            }

            #[test]
            fn series_never_panics_and_is_consistent(s in "\\PC{0,24}") {
                let i = parse_series(&s);
                if let (Some(n), Some(m), Some(c)) = (i.dose_number, i.total_doses, i.complete) {
                    prop_assert_eq!(c, n >= m);
                }
                prop_assert_eq!(i.dose_number.is_some(), i.total_doses.is_some());
            }

            #[test]
            fn series_other_text_says_nothing(word in "[A-Z]{2,10}( [0-9]{1,4})?") {
                prop_assume!(word != "COMPLETE");
                prop_assert_eq!(parse_series(&word), SeriesInfo::default());
            }

            #[test]
            fn cerner_digits_agree_with_vista(n in 1_u32..1000, m in 1_u32..1000) {
                let (text, info) = series_from_cerner(Some(&n.to_string()), Some(&m.to_string()));
                let text = text.unwrap_or_default();
                prop_assert_eq!(parse_series(&text), info);
            }

            #[test]
            fn cerner_never_panics(a in proptest::option::of("\\PC{0,12}"), b in proptest::option::of("\\PC{0,12}")) {
                let _ = series_from_cerner(a.as_deref(), b.as_deref());
            }

            #[test]
            fn cvx_padding_round_trips(n in 0_u16..1000, zeros in 0_usize..4) {
                let text = format!("{}{n}", "0".repeat(zeros));
                let c = Cvx::normalise(&text).unwrap();
                prop_assert_eq!(c.get(), n);
                prop_assert_eq!(c.padded().len(), 3);
                prop_assert_eq!(Cvx::normalise(&c.padded()).unwrap(), c);
                prop_assert_eq!(Cvx::normalise(&c.to_string()).unwrap(), c);
            }

            #[test]
            fn cvx_rejects_large(n in 1000_u32..) {
                prop_assert!(Cvx::normalise(&n.to_string()).is_err());
            }

            #[test]
            fn cvx_never_panics(s in "\\PC{0,10}") {
                if let Ok(c) = Cvx::normalise(&s) {
                    prop_assert!(c.get() < 1000);
                }
            }

            #[test]
            fn body_site_is_idempotent(s in "[A-Za-z .'-]{0,24}") {
                let once = normalise_body_site(&s);
                prop_assert_eq!(normalise_body_site(&once), once.clone());
            }

            #[test]
            fn body_site_never_panics(s in "\\PC{0,24}") {
                let _ = normalise_body_site(&s);
            }
        }
    }
}
