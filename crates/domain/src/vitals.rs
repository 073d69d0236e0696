//! Vital signs: the catalogue of vital types, abnormal-flag thresholds,
//! blood-pressure parsing, plausibility checks, unit conversions and BMI.
//!
//! Reference: original-webapp §3.3 (vital types, units and thresholds) and
//! original-data-and-services §2.4 "Vitals" (abbreviation fallback, BMI
//! rows) and §5 quirk 3 (a missing value must not be flagged NORMAL; Cerner
//! weights are in pounds and need converting before BMI).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CodeError, canonical_words, shown};
use crate::numeric::parse_decimal;

// ---------------------------------------------------------------------------
// VitalType
// ---------------------------------------------------------------------------

/// A kind of vital-sign measurement, as catalogued in `Dim.VitalType`
/// (reference: original-webapp §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum VitalType {
    /// BLOOD PRESSURE (BP), mmHg, recorded as `systolic/diastolic`.
    BloodPressure,
    /// TEMPERATURE (T), degrees Fahrenheit.
    Temperature,
    /// PULSE (P), beats per minute.
    Pulse,
    /// RESPIRATION (R), breaths per minute.
    Respiration,
    /// HEIGHT (HT), inches.
    Height,
    /// WEIGHT (WT), pounds.
    Weight,
    /// PAIN (PN), 0–10 scale.
    Pain,
    /// PULSE OXIMETRY (POX), percent saturation.
    PulseOximetry,
    /// BLOOD GLUCOSE (BG), mg/dL.
    BloodGlucose,
    /// BMI (BMI), kg/m², calculated from weight and height.
    Bmi,
}

impl VitalType {
    /// Every vital type, in catalogue order.
    pub const ALL: [Self; 10] = [
        Self::BloodPressure,
        Self::Temperature,
        Self::Pulse,
        Self::Respiration,
        Self::Height,
        Self::Weight,
        Self::Pain,
        Self::PulseOximetry,
        Self::BloodGlucose,
        Self::Bmi,
    ];

    /// VistA catalogue name, e.g. `"BLOOD PRESSURE"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BloodPressure => "BLOOD PRESSURE",
            Self::Temperature => "TEMPERATURE",
            Self::Pulse => "PULSE",
            Self::Respiration => "RESPIRATION",
            Self::Height => "HEIGHT",
            Self::Weight => "WEIGHT",
            Self::Pain => "PAIN",
            Self::PulseOximetry => "PULSE OXIMETRY",
            Self::BloodGlucose => "BLOOD GLUCOSE",
            Self::Bmi => "BMI",
        }
    }

    /// Catalogue abbreviation, e.g. `"BP"`.
    pub fn abbr(self) -> &'static str {
        match self {
            Self::BloodPressure => "BP",
            Self::Temperature => "T",
            Self::Pulse => "P",
            Self::Respiration => "R",
            Self::Height => "HT",
            Self::Weight => "WT",
            Self::Pain => "PN",
            Self::PulseOximetry => "POX",
            Self::BloodGlucose => "BG",
            Self::Bmi => "BMI",
        }
    }

    /// Catalogue unit of measure, e.g. `"mmHg"`.
    pub fn unit(self) -> &'static str {
        match self {
            Self::BloodPressure => "mmHg",
            Self::Temperature => "F",
            Self::Pulse | Self::Respiration => "/min",
            Self::Height => "in",
            Self::Weight => "lb",
            Self::Pain => "0-10",
            Self::PulseOximetry => "%",
            Self::BloodGlucose => "mg/dL",
            Self::Bmi => "kg/m^2",
        }
    }

    /// Whether the value is derived rather than measured (only BMI).
    pub fn is_calculated(self) -> bool {
        matches!(self, Self::Bmi)
    }

    /// Looks a vital type up by name: case-insensitive, surrounding and
    /// repeated inner whitespace ignored. Accepts the VistA catalogue names,
    /// the Cerner display names ("Blood Pressure", "Respiratory Rate",
    /// "SpO2", …) and a few common synonyms ("Heart Rate", "Pulse Ox",
    /// "Body Mass Index").
    pub fn from_name(name: &str) -> Option<Self> {
        let key = canonical_words(name);
        let found = match key.as_str() {
            "BLOOD PRESSURE" => Self::BloodPressure,
            "TEMPERATURE" | "TEMP" | "BODY TEMPERATURE" => Self::Temperature,
            "PULSE" | "PULSE RATE" | "HEART RATE" => Self::Pulse,
            "RESPIRATION" | "RESPIRATIONS" | "RESPIRATORY RATE" => Self::Respiration,
            "HEIGHT" | "BODY HEIGHT" => Self::Height,
            "WEIGHT" | "BODY WEIGHT" => Self::Weight,
            "PAIN" | "PAIN SCORE" => Self::Pain,
            "PULSE OXIMETRY" | "PULSE OX" | "SPO2" | "OXYGEN SATURATION" => Self::PulseOximetry,
            "BLOOD GLUCOSE" | "GLUCOSE" => Self::BloodGlucose,
            "BMI" | "BODY MASS INDEX" => Self::Bmi,
            _ => return None,
        };
        Some(found)
    }

    /// Looks a vital type up by its catalogue abbreviation (case-insensitive,
    /// trimmed).
    pub fn from_abbr(abbr: &str) -> Option<Self> {
        let t = abbr.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.abbr().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for VitalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for VitalType {
    type Err = CodeError;

    /// Accepts a name (see [`VitalType::from_name`]) or an abbreviation.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
            .or_else(|| Self::from_abbr(s))
            .ok_or_else(|| {
                CodeError::new(
                    "vital type",
                    s,
                    "a vital name such as BLOOD PRESSURE or an abbreviation BP, T, P, R, HT, WT, PN, POX, BG, BMI",
                )
            })
    }
}

impl TryFrom<String> for VitalType {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<VitalType> for String {
    fn from(v: VitalType) -> Self {
        v.name().to_owned()
    }
}

/// Abbreviation for a vital-type name: the catalogue abbreviation when the
/// name is recognised by [`VitalType::from_name`], otherwise the first three
/// characters of the trimmed name in upper case (the reference's fallback
/// for unmapped Cerner names; reference: original-data-and-services §2.4
/// "Vitals" gold step b). An empty name gives an empty string.
pub fn abbreviation_for(name: &str) -> String {
    match VitalType::from_name(name) {
        Some(v) => v.abbr().to_owned(),
        None => name
            .trim()
            .chars()
            .take(3)
            .collect::<String>()
            .to_uppercase(),
    }
}

// ---------------------------------------------------------------------------
// AbnormalFlag
// ---------------------------------------------------------------------------

/// Abnormal-value flag of a vital sign. Ordered by severity:
/// `Critical > High > Low > Normal` (the "abnormal" sort of the vitals page,
/// reference: original-webapp §3.3). As `Option<AbnormalFlag>`, `None`
/// sorts below `Normal`, matching that page's "null last" when sorted
/// descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AbnormalFlag {
    /// Outside the critical limits.
    Critical,
    /// Above normal.
    High,
    /// Below normal.
    Low,
    /// Within normal limits.
    Normal,
}

impl AbnormalFlag {
    /// Every flag, most severe first.
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Low, Self::Normal];

    /// Stored spelling: `CRITICAL`, `HIGH`, `LOW` or `NORMAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "CRITICAL",
            Self::High => "HIGH",
            Self::Low => "LOW",
            Self::Normal => "NORMAL",
        }
    }

    /// Severity rank used for ordering: Critical 3, High 2, Low 1, Normal 0.
    pub fn severity(self) -> u8 {
        match self {
            Self::Critical => 3,
            Self::High => 2,
            Self::Low => 1,
            Self::Normal => 0,
        }
    }

    /// Whether the flag marks the value as outside normal limits.
    pub fn is_abnormal(self) -> bool {
        !matches!(self, Self::Normal)
    }
}

impl Ord for AbnormalFlag {
    fn cmp(&self, other: &Self) -> Ordering {
        self.severity().cmp(&other.severity())
    }
}

impl PartialOrd for AbnormalFlag {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for AbnormalFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AbnormalFlag {
    type Err = CodeError;

    /// Case-insensitive, trimmed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| CodeError::new("abnormal flag", s, "CRITICAL, HIGH, LOW or NORMAL"))
    }
}

impl TryFrom<String> for AbnormalFlag {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AbnormalFlag> for String {
    fn from(f: AbnormalFlag) -> Self {
        f.as_str().to_owned()
    }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// The measured value of one vital sign.
///
/// Converts from `f64`, `Option<f64>` and `(systolic, diastolic)` so that
/// [`abnormal_flag`] and [`plausible`] can be called with plain values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// No value was recorded (or it could not be read).
    Missing,
    /// A single numeric value in the vital type's catalogue unit.
    Value(f64),
    /// A blood pressure in mmHg.
    BloodPressure {
        /// Systolic pressure.
        systolic: u16,
        /// Diastolic pressure.
        diastolic: u16,
    },
}

impl Reading {
    /// Reads the textual result of a vital of type `vital`: a blood pressure
    /// via [`parse_blood_pressure`], anything else as a plain decimal number.
    /// Unreadable text gives [`Reading::Missing`].
    pub fn parse(vital: VitalType, text: &str) -> Self {
        match vital {
            VitalType::BloodPressure => parse_blood_pressure(text)
                .map(Self::from)
                .unwrap_or(Self::Missing),
            _ => parse_decimal(text).map_or(Self::Missing, Self::Value),
        }
    }
}

impl From<f64> for Reading {
    fn from(v: f64) -> Self {
        Self::Value(v)
    }
}

impl From<Option<f64>> for Reading {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Self::Missing, Self::Value)
    }
}

impl From<(u16, u16)> for Reading {
    fn from((systolic, diastolic): (u16, u16)) -> Self {
        Self::BloodPressure {
            systolic,
            diastolic,
        }
    }
}

// ---------------------------------------------------------------------------
// Abnormal flag rules
// ---------------------------------------------------------------------------

/// Abnormal flag of a reading, using exactly the thresholds of reference
/// original-webapp §3.3 (identical in the ETL and the real-time overlay):
///
/// * BP: CRITICAL if systolic < 90 or ≥ 180 or diastolic < 60 or ≥ 120;
///   HIGH if systolic ≥ 140 or diastolic ≥ 90; LOW if systolic < 100 or
///   diastolic < 70; else NORMAL.
/// * Temperature (°F): CRITICAL < 95.0 or > 103.0; HIGH ≥ 100.5; LOW < 97.0.
/// * Pulse: CRITICAL < 40 or > 130; HIGH > 100; LOW < 60.
/// * Respiration: CRITICAL < 8 or > 28; HIGH > 20; LOW < 12.
/// * Pulse oximetry: CRITICAL < 88; LOW < 92.
/// * Pain: CRITICAL ≥ 8; HIGH ≥ 4.
/// * BMI: CRITICAL ≥ 40; HIGH ≥ 25; LOW < 18.5.
/// * Height, weight, blood glucose: never flagged (`None`).
///
/// A missing or non-finite value, or a reading of the wrong shape (a single
/// number for BP, a BP pair for anything else), gives `None`. This fixes the
/// original, where a null value fell through to NORMAL (reference:
/// original-data-and-services §5 quirk 3).
pub fn abnormal_flag(vital: VitalType, reading: impl Into<Reading>) -> Option<AbnormalFlag> {
    match (vital, reading.into()) {
        (
            VitalType::BloodPressure,
            Reading::BloodPressure {
                systolic,
                diastolic,
            },
        ) => Some(blood_pressure_flag(systolic, diastolic)),
        (VitalType::BloodPressure, Reading::Value(_) | Reading::Missing) => None,
        (_, Reading::Value(v)) if v.is_finite() => numeric_flag(vital, v),
        (_, Reading::Value(_) | Reading::Missing | Reading::BloodPressure { .. }) => None,
    }
}

fn blood_pressure_flag(systolic: u16, diastolic: u16) -> AbnormalFlag {
    // Critical: systolic < 90 or >= 180, or diastolic < 60 or >= 120.
    if !(90..180).contains(&systolic) || !(60..120).contains(&diastolic) {
        AbnormalFlag::Critical
    } else if systolic >= 140 || diastolic >= 90 {
        AbnormalFlag::High
    } else if systolic < 100 || diastolic < 70 {
        AbnormalFlag::Low
    } else {
        AbnormalFlag::Normal
    }
}

/// Flag of a finite single-number reading.
fn numeric_flag(vital: VitalType, v: f64) -> Option<AbnormalFlag> {
    use AbnormalFlag::{Critical, High, Low, Normal};
    let flag = match vital {
        VitalType::Temperature if !(95.0..=103.0).contains(&v) => Critical,
        VitalType::Temperature if v >= 100.5 => High,
        VitalType::Temperature if v < 97.0 => Low,
        VitalType::Pulse if !(40.0..=130.0).contains(&v) => Critical,
        VitalType::Pulse if v > 100.0 => High,
        VitalType::Pulse if v < 60.0 => Low,
        VitalType::Respiration if !(8.0..=28.0).contains(&v) => Critical,
        VitalType::Respiration if v > 20.0 => High,
        VitalType::Respiration if v < 12.0 => Low,
        VitalType::PulseOximetry if v < 88.0 => Critical,
        VitalType::PulseOximetry if v < 92.0 => Low,
        VitalType::Pain if v >= 8.0 => Critical,
        VitalType::Pain if v >= 4.0 => High,
        VitalType::Bmi if v >= 40.0 => Critical,
        VitalType::Bmi if v >= 25.0 => High,
        VitalType::Bmi if v < 18.5 => Low,
        VitalType::Temperature
        | VitalType::Pulse
        | VitalType::Respiration
        | VitalType::PulseOximetry
        | VitalType::Pain
        | VitalType::Bmi => Normal,
        VitalType::BloodPressure
        | VitalType::Height
        | VitalType::Weight
        | VitalType::BloodGlucose => return None,
    };
    Some(flag)
}

/// Abnormal flag of a BMI value (the BMI row of [`abnormal_flag`]).
pub fn bmi_flag(bmi: f64) -> Option<AbnormalFlag> {
    abnormal_flag(VitalType::Bmi, bmi)
}

// ---------------------------------------------------------------------------
// Blood pressure parsing
// ---------------------------------------------------------------------------

/// Error from [`parse_blood_pressure`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VitalsError {
    /// Text is not `systolic/diastolic`.
    #[error(
        "invalid blood pressure {input:?}: expected SYSTOLIC/DIASTOLIC with 1-3 digits each, e.g. 128/82"
    )]
    InvalidBloodPressure {
        /// The rejected input.
        input: String,
    },
}

/// Parses a blood pressure written `systolic/diastolic` (e.g. `"128/82"`)
/// as it appears in `result_value` and in the `GMV LATEST VM` RPC
/// (reference: original-data-and-services §3.4). Whitespace around the
/// whole value and around the slash is ignored; each side must be 1–3 ASCII
/// digits. No clinical check is made here; see [`plausible`].
pub fn parse_blood_pressure(text: &str) -> Result<(u16, u16), VitalsError> {
    let err = || VitalsError::InvalidBloodPressure { input: shown(text) };
    let (sys, dia) = text.split_once('/').ok_or_else(err)?;
    let part = |p: &str| -> Option<u16> {
        let p = p.trim();
        let ok = (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
        if ok { p.parse().ok() } else { None }
    };
    match (part(sys), part(dia)) {
        (Some(s), Some(d)) => Ok((s, d)),
        _ => Err(err()),
    }
}

// ---------------------------------------------------------------------------
// Plausibility
// ---------------------------------------------------------------------------

/// Plausible systolic pressure range (mmHg, inclusive).
pub const PLAUSIBLE_SYSTOLIC: (u16, u16) = (40, 300);
/// Plausible diastolic pressure range (mmHg, inclusive).
pub const PLAUSIBLE_DIASTOLIC: (u16, u16) = (20, 200);

/// Inclusive range of physiologically possible values for a single-number
/// vital, in the catalogue unit; `None` for blood pressure (see
/// [`PLAUSIBLE_SYSTOLIC`] and [`PLAUSIBLE_DIASTOLIC`]).
///
/// Temperature 80–115 °F, pulse 20–250/min, respiration 4–70/min, height
/// 48–90 in, weight 70–700 lb, pain 0–10, pulse oximetry 50–100 %, blood
/// glucose 10–1500 mg/dL, BMI 10–100 kg/m².
pub fn plausible_range(vital: VitalType) -> Option<(f64, f64)> {
    let range = match vital {
        VitalType::BloodPressure => return None,
        VitalType::Temperature => (80.0, 115.0),
        VitalType::Pulse => (20.0, 250.0),
        VitalType::Respiration => (4.0, 70.0),
        VitalType::Height => (48.0, 90.0),
        VitalType::Weight => (70.0, 700.0),
        VitalType::Pain => (0.0, 10.0),
        VitalType::PulseOximetry => (50.0, 100.0),
        VitalType::BloodGlucose => (10.0, 1500.0),
        VitalType::Bmi => (10.0, 100.0),
    };
    Some(range)
}

/// Whether a reading is a physiologically possible measurement of `vital`;
/// the ETL uses it to quarantine impossible values.
///
/// Blood pressure needs both sides in range ([`PLAUSIBLE_SYSTOLIC`],
/// [`PLAUSIBLE_DIASTOLIC`]) and systolic strictly above diastolic; other
/// vitals must be finite and inside [`plausible_range`]. A missing value,
/// or a reading of the wrong shape for `vital`, is not a measurement and
/// returns `false` — callers that keep rows with no value should check for
/// [`Reading::Missing`] first.
pub fn plausible(vital: VitalType, reading: impl Into<Reading>) -> bool {
    match (vital, reading.into()) {
        (
            VitalType::BloodPressure,
            Reading::BloodPressure {
                systolic,
                diastolic,
            },
        ) => {
            let (smin, smax) = PLAUSIBLE_SYSTOLIC;
            let (dmin, dmax) = PLAUSIBLE_DIASTOLIC;
            (smin..=smax).contains(&systolic)
                && (dmin..=dmax).contains(&diastolic)
                && systolic > diastolic
        }
        (_, Reading::Value(v)) => {
            plausible_range(vital).is_some_and(|(lo, hi)| v.is_finite() && (lo..=hi).contains(&v))
        }
        (_, Reading::Missing | Reading::BloodPressure { .. }) => false,
    }
}

// ---------------------------------------------------------------------------
// Unit conversions
// ---------------------------------------------------------------------------

/// Kilograms per pound (exact by definition).
pub const KG_PER_LB: f64 = 0.453_592_37;
/// Centimetres per inch (exact by definition).
pub const CM_PER_IN: f64 = 2.54;

/// Pounds to kilograms.
pub fn lb_to_kg(lb: f64) -> f64 {
    lb * KG_PER_LB
}

/// Kilograms to pounds.
pub fn kg_to_lb(kg: f64) -> f64 {
    kg / KG_PER_LB
}

/// Inches to centimetres.
pub fn in_to_cm(inches: f64) -> f64 {
    inches * CM_PER_IN
}

/// Centimetres to inches.
pub fn cm_to_in(cm: f64) -> f64 {
    cm / CM_PER_IN
}

/// Degrees Fahrenheit to degrees Celsius.
pub fn f_to_c(fahrenheit: f64) -> f64 {
    (fahrenheit - 32.0) * 5.0 / 9.0
}

/// Degrees Celsius to degrees Fahrenheit.
pub fn c_to_f(celsius: f64) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

// ---------------------------------------------------------------------------
// BMI
// ---------------------------------------------------------------------------

/// Body-mass index `kg / m²` (reference: original-data-and-services §2.4
/// "Vitals" gold step d), unrounded.
///
/// Returns `None` unless both inputs are finite and plausible: weight within
/// the plausible weight range (70–700 lb, converted to kg) and height within
/// the plausible height range (48–90 in, converted to cm). This keeps a
/// missing or impossible measurement from producing a flagged BMI.
pub fn bmi(weight_kg: f64, height_cm: f64) -> Option<f64> {
    let within = |value: f64, vital: VitalType, convert: fn(f64) -> f64| {
        plausible_range(vital).is_some_and(|(lo, hi)| {
            value.is_finite() && (convert(lo)..=convert(hi)).contains(&value)
        })
    };
    if !(within(weight_kg, VitalType::Weight, lb_to_kg)
        && within(height_cm, VitalType::Height, in_to_cm))
    {
        return None;
    }
    let metres = height_cm / 100.0;
    Some(weight_kg / (metres * metres))
}

/// [`bmi`] from the catalogue units (pounds and inches), as recorded by
/// both VistA and Cerner.
pub fn bmi_from_lb_in(weight_lb: f64, height_in: f64) -> Option<f64> {
    bmi(lb_to_kg(weight_lb), in_to_cm(height_in))
}

/// WHO adult BMI category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BmiBand {
    /// Below 18.5.
    Underweight,
    /// 18.5 up to (not including) 25.
    Normal,
    /// 25 up to 30.
    Overweight,
    /// 30 up to 35.
    ObeseI,
    /// 35 up to 40.
    ObeseII,
    /// 40 and above.
    ObeseIII,
}

impl BmiBand {
    /// Band of a BMI value; `None` for non-finite or non-positive values.
    /// Lower bounds are inclusive (exactly 25.0 is Overweight).
    pub fn of(bmi: f64) -> Option<Self> {
        if !bmi.is_finite() || bmi <= 0.0 {
            return None;
        }
        let band = if bmi < 18.5 {
            Self::Underweight
        } else if bmi < 25.0 {
            Self::Normal
        } else if bmi < 30.0 {
            Self::Overweight
        } else if bmi < 35.0 {
            Self::ObeseI
        } else if bmi < 40.0 {
            Self::ObeseII
        } else {
            Self::ObeseIII
        };
        Some(band)
    }

    /// Display label, e.g. `"Obese Class II"`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Underweight => "Underweight",
            Self::Normal => "Normal",
            Self::Overweight => "Overweight",
            Self::ObeseI => "Obese Class I",
            Self::ObeseII => "Obese Class II",
            Self::ObeseIII => "Obese Class III",
        }
    }
}

impl fmt::Display for BmiBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use AbnormalFlag::{Critical, High, Low, Normal};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    // ---- catalogue ----

    #[test]
    fn catalogue_rows() {
        let rows = [
            (VitalType::BloodPressure, "BLOOD PRESSURE", "BP", "mmHg"),
            (VitalType::Temperature, "TEMPERATURE", "T", "F"),
            (VitalType::Pulse, "PULSE", "P", "/min"),
            (VitalType::Respiration, "RESPIRATION", "R", "/min"),
            (VitalType::Height, "HEIGHT", "HT", "in"),
            (VitalType::Weight, "WEIGHT", "WT", "lb"),
            (VitalType::Pain, "PAIN", "PN", "0-10"),
            (VitalType::PulseOximetry, "PULSE OXIMETRY", "POX", "%"),
            (VitalType::BloodGlucose, "BLOOD GLUCOSE", "BG", "mg/dL"),
            (VitalType::Bmi, "BMI", "BMI", "kg/m^2"),
        ];
        for (v, name, abbr, unit) in rows {
            assert_eq!(v.name(), name);
            assert_eq!(v.abbr(), abbr);
            assert_eq!(v.unit(), unit);
            assert_eq!(VitalType::from_name(name), Some(v));
            assert_eq!(VitalType::from_abbr(abbr), Some(v));
            assert_eq!(VitalType::from_abbr(&abbr.to_lowercase()), Some(v));
            assert_eq!(name.parse::<VitalType>().unwrap(), v);
            assert_eq!(abbr.parse::<VitalType>().unwrap(), v);
            assert_eq!(v.to_string(), name);
        }
        assert!(VitalType::Bmi.is_calculated());
        assert!(!VitalType::Weight.is_calculated());
    }

    #[test]
    fn from_name_accepts_cerner_names() {
        let cases = [
            ("Blood Pressure", VitalType::BloodPressure),
            ("Pulse", VitalType::Pulse),
            ("Temperature", VitalType::Temperature),
            ("Weight", VitalType::Weight),
            ("Height", VitalType::Height),
            ("Respiration", VitalType::Respiration),
            ("Respiratory Rate", VitalType::Respiration),
            ("Pulse Oximetry", VitalType::PulseOximetry),
            ("SpO2", VitalType::PulseOximetry),
            ("Pain", VitalType::Pain),
            ("Blood Glucose", VitalType::BloodGlucose),
            ("  blood   pressure ", VitalType::BloodPressure),
            ("Heart Rate", VitalType::Pulse),
            ("PULSE OX", VitalType::PulseOximetry),
            ("Body Mass Index", VitalType::Bmi),
        ];
        for (name, want) in cases {
            assert_eq!(VitalType::from_name(name), Some(want), "{name}");
        }
        for bad in ["", "BP", "Blood", "Pressure", "Pulses", "Oximetry"] {
            assert_eq!(VitalType::from_name(bad), None, "{bad}");
        }
        assert_eq!(VitalType::from_abbr("X"), None);
        assert_eq!(
            VitalType::from_abbr(" pox "),
            Some(VitalType::PulseOximetry)
        );
        assert!("nope".parse::<VitalType>().is_err());
    }

    #[test]
    fn abbreviation_fallback() {
        assert_eq!(abbreviation_for("Blood Pressure"), "BP");
        assert_eq!(abbreviation_for("PULSE OXIMETRY"), "POX");
        assert_eq!(abbreviation_for("Respiratory Rate"), "R");
        assert_eq!(abbreviation_for("Head Circumference"), "HEA");
        assert_eq!(abbreviation_for("  waist "), "WAI");
        assert_eq!(abbreviation_for("ab"), "AB");
        assert_eq!(abbreviation_for(""), "");
        assert_eq!(abbreviation_for("éclair"), "ÉCL");
    }

    #[test]
    fn vital_type_serde() {
        assert_eq!(
            ser_str(&VitalType::PulseOximetry).unwrap(),
            "PULSE OXIMETRY"
        );
        assert_eq!(
            de_str::<VitalType>("POX").unwrap(),
            VitalType::PulseOximetry
        );
        assert_eq!(
            de_str::<VitalType>("Pulse Oximetry").unwrap(),
            VitalType::PulseOximetry
        );
        assert!(de_str::<VitalType>("PULSE OXY").is_err());
    }

    // ---- AbnormalFlag ----

    #[test]
    fn flag_strings_and_order() {
        assert_eq!(Critical.as_str(), "CRITICAL");
        assert_eq!(High.as_str(), "HIGH");
        assert_eq!(Low.as_str(), "LOW");
        assert_eq!(Normal.as_str(), "NORMAL");
        assert!(Critical > High && High > Low && Low > Normal);
        let mut v = vec![Some(Low), None, Some(Critical), Some(Normal), Some(High)];
        v.sort_by(|a, b| b.cmp(a));
        assert_eq!(
            v,
            vec![Some(Critical), Some(High), Some(Low), Some(Normal), None]
        );
        assert_eq!(" high ".parse::<AbnormalFlag>().unwrap(), High);
        assert!("H".parse::<AbnormalFlag>().is_err());
        assert!(Low.is_abnormal() && !Normal.is_abnormal());
        assert_eq!(ser_str(&Critical).unwrap(), "CRITICAL");
        assert_eq!(de_str::<AbnormalFlag>("normal").unwrap(), Normal);
    }

    // ---- thresholds: both sides of every boundary ----

    fn bp(s: u16, d: u16) -> Option<AbnormalFlag> {
        abnormal_flag(VitalType::BloodPressure, (s, d))
    }

    #[test]
    fn blood_pressure_thresholds() {
        assert_eq!(bp(120, 80), Some(Normal));
        // systolic critical low / low boundary
        assert_eq!(bp(89, 80), Some(Critical));
        assert_eq!(bp(90, 80), Some(Low));
        assert_eq!(bp(99, 80), Some(Low));
        assert_eq!(bp(100, 80), Some(Normal));
        // systolic high / critical high
        assert_eq!(bp(139, 80), Some(Normal));
        assert_eq!(bp(140, 80), Some(High));
        assert_eq!(bp(179, 80), Some(High));
        assert_eq!(bp(180, 80), Some(Critical));
        // diastolic critical low / low
        assert_eq!(bp(120, 59), Some(Critical));
        assert_eq!(bp(120, 60), Some(Low));
        assert_eq!(bp(120, 69), Some(Low));
        assert_eq!(bp(120, 70), Some(Normal));
        // diastolic high / critical high
        assert_eq!(bp(120, 89), Some(Normal));
        assert_eq!(bp(120, 90), Some(High));
        assert_eq!(bp(120, 119), Some(High));
        assert_eq!(bp(120, 120), Some(Critical));
        // high wins over low when both apply
        assert_eq!(bp(150, 65), Some(High));
        assert_eq!(bp(95, 95), Some(High));
    }

    fn num(v: VitalType, x: f64) -> Option<AbnormalFlag> {
        abnormal_flag(v, x)
    }

    #[test]
    fn temperature_thresholds() {
        let t = VitalType::Temperature;
        assert_eq!(num(t, 94.9), Some(Critical));
        assert_eq!(num(t, 95.0), Some(Low));
        assert_eq!(num(t, 96.9), Some(Low));
        assert_eq!(num(t, 97.0), Some(Normal));
        assert_eq!(num(t, 98.6), Some(Normal));
        assert_eq!(num(t, 100.4), Some(Normal));
        assert_eq!(num(t, 100.5), Some(High));
        assert_eq!(num(t, 103.0), Some(High));
        assert_eq!(num(t, 103.1), Some(Critical));
    }

    #[test]
    fn pulse_thresholds() {
        let p = VitalType::Pulse;
        assert_eq!(num(p, 39.0), Some(Critical));
        assert_eq!(num(p, 40.0), Some(Low));
        assert_eq!(num(p, 59.0), Some(Low));
        assert_eq!(num(p, 60.0), Some(Normal));
        assert_eq!(num(p, 100.0), Some(Normal));
        assert_eq!(num(p, 101.0), Some(High));
        assert_eq!(num(p, 130.0), Some(High));
        assert_eq!(num(p, 131.0), Some(Critical));
    }

    #[test]
    fn respiration_thresholds() {
        let r = VitalType::Respiration;
        assert_eq!(num(r, 7.0), Some(Critical));
        assert_eq!(num(r, 8.0), Some(Low));
        assert_eq!(num(r, 11.0), Some(Low));
        assert_eq!(num(r, 12.0), Some(Normal));
        assert_eq!(num(r, 20.0), Some(Normal));
        assert_eq!(num(r, 21.0), Some(High));
        assert_eq!(num(r, 28.0), Some(High));
        assert_eq!(num(r, 29.0), Some(Critical));
    }

    #[test]
    fn pulse_oximetry_thresholds() {
        let x = VitalType::PulseOximetry;
        assert_eq!(num(x, 87.9), Some(Critical));
        assert_eq!(num(x, 88.0), Some(Low));
        assert_eq!(num(x, 91.9), Some(Low));
        assert_eq!(num(x, 92.0), Some(Normal));
        assert_eq!(num(x, 100.0), Some(Normal));
    }

    #[test]
    fn pain_thresholds() {
        let p = VitalType::Pain;
        assert_eq!(num(p, 0.0), Some(Normal));
        assert_eq!(num(p, 3.0), Some(Normal));
        assert_eq!(num(p, 4.0), Some(High));
        assert_eq!(num(p, 7.0), Some(High));
        assert_eq!(num(p, 8.0), Some(Critical));
        assert_eq!(num(p, 10.0), Some(Critical));
    }

    #[test]
    fn bmi_thresholds() {
        let b = VitalType::Bmi;
        assert_eq!(num(b, 18.4), Some(Low));
        assert_eq!(num(b, 18.5), Some(Normal));
        assert_eq!(num(b, 24.9), Some(Normal));
        assert_eq!(num(b, 25.0), Some(High));
        assert_eq!(num(b, 39.9), Some(High));
        assert_eq!(num(b, 40.0), Some(Critical));
        assert_eq!(bmi_flag(22.0), Some(Normal));
        assert_eq!(bmi_flag(f64::NAN), None);
    }

    #[test]
    fn unflagged_types_and_missing_values() {
        for v in [
            VitalType::Height,
            VitalType::Weight,
            VitalType::BloodGlucose,
        ] {
            assert_eq!(num(v, 1.0), None);
            assert_eq!(num(v, 500.0), None);
        }
        for v in VitalType::ALL {
            assert_eq!(abnormal_flag(v, Reading::Missing), None, "{v}");
            assert_eq!(abnormal_flag(v, None::<f64>), None, "{v}");
        }
        assert_eq!(num(VitalType::Pulse, f64::NAN), None);
        assert_eq!(num(VitalType::Pulse, f64::INFINITY), None);
        // wrong shapes
        assert_eq!(num(VitalType::BloodPressure, 120.0), None);
        assert_eq!(abnormal_flag(VitalType::Pulse, (120, 80)), None);
        assert_eq!(abnormal_flag(VitalType::Pulse, Some(72.0)), Some(Normal));
    }

    // ---- parsing ----

    #[test]
    fn blood_pressure_parsing() {
        assert_eq!(parse_blood_pressure("128/82"), Ok((128, 82)));
        assert_eq!(parse_blood_pressure(" 128 / 82 "), Ok((128, 82)));
        assert_eq!(parse_blood_pressure("0/0"), Ok((0, 0)));
        assert_eq!(parse_blood_pressure("999/999"), Ok((999, 999)));
        for bad in [
            "",
            "128",
            "128/",
            "/82",
            "128/82/70",
            "1000/80",
            "128/-82",
            "+128/82",
            "128.5/82",
            "12 8/82",
            "abc/def",
            "128\\82",
        ] {
            assert!(parse_blood_pressure(bad).is_err(), "{bad:?}");
        }
        let msg = parse_blood_pressure("12x/80").unwrap_err().to_string();
        assert!(
            msg.contains("\"12x/80\"") && msg.contains("128/82"),
            "{msg}"
        );
    }

    #[test]
    fn reading_parse() {
        assert_eq!(
            Reading::parse(VitalType::BloodPressure, "128/82"),
            Reading::BloodPressure {
                systolic: 128,
                diastolic: 82
            }
        );
        assert_eq!(
            Reading::parse(VitalType::BloodPressure, "128"),
            Reading::Missing
        );
        assert_eq!(
            Reading::parse(VitalType::Temperature, " 98.6 "),
            Reading::Value(98.6)
        );
        assert_eq!(Reading::parse(VitalType::Pulse, ""), Reading::Missing);
        assert_eq!(Reading::parse(VitalType::Pulse, "72 bpm"), Reading::Missing);
        assert_eq!(Reading::parse(VitalType::Pulse, "NaN"), Reading::Missing);
    }

    // ---- plausibility ----

    #[test]
    fn blood_pressure_plausibility() {
        let p = |s, d| plausible(VitalType::BloodPressure, (s, d));
        assert!(p(120, 80));
        assert!(!p(39, 30));
        assert!(p(40, 20));
        assert!(p(300, 200));
        assert!(!p(301, 100));
        assert!(!p(120, 19));
        assert!(!p(250, 201));
        assert!(!p(80, 80));
        assert!(!p(80, 90));
        assert!(p(81, 80));
        assert!(!plausible(VitalType::BloodPressure, 120.0));
    }

    #[test]
    fn single_value_plausibility_boundaries() {
        let cases = [
            (VitalType::Temperature, 80.0, 115.0),
            (VitalType::Pulse, 20.0, 250.0),
            (VitalType::Respiration, 4.0, 70.0),
            (VitalType::Height, 48.0, 90.0),
            (VitalType::Weight, 70.0, 700.0),
            (VitalType::Pain, 0.0, 10.0),
            (VitalType::PulseOximetry, 50.0, 100.0),
            (VitalType::BloodGlucose, 10.0, 1500.0),
            (VitalType::Bmi, 10.0, 100.0),
        ];
        for (v, lo, hi) in cases {
            assert!(plausible(v, lo), "{v} {lo}");
            assert!(plausible(v, hi), "{v} {hi}");
            assert!(!plausible(v, lo - 0.1), "{v} below");
            assert!(!plausible(v, hi + 0.1), "{v} above");
            assert!(!plausible(v, f64::NAN));
            assert!(!plausible(v, Reading::Missing));
            assert!(!plausible(v, (120, 80)));
            assert_eq!(plausible_range(v), Some((lo, hi)));
        }
        assert_eq!(plausible_range(VitalType::BloodPressure), None);
        assert!(!plausible(VitalType::BloodPressure, Reading::Missing));
    }

    // ---- conversions & BMI ----

    #[test]
    fn unit_conversions() {
        assert!(close(lb_to_kg(1.0), 0.453_592_37));
        assert!(close(kg_to_lb(0.453_592_37), 1.0));
        assert!(close(in_to_cm(1.0), 2.54));
        assert!(close(cm_to_in(254.0), 100.0));
        assert!(close(f_to_c(212.0), 100.0));
        assert!(close(f_to_c(32.0), 0.0));
        assert!(close(f_to_c(98.6), 37.0));
        assert!(close(c_to_f(-40.0), -40.0));
        assert!(close(c_to_f(37.0), 98.6));
    }

    #[test]
    fn bmi_values() {
        let b = bmi(70.0, 175.0).unwrap();
        assert!(close(b, 70.0 / (1.75 * 1.75)));
        assert!((b - 22.857).abs() < 0.001);
        let us = bmi_from_lb_in(180.0, 70.0).unwrap();
        assert!((us - 25.827).abs() < 0.001, "{us}");
        assert_eq!(bmi(0.0, 175.0), None);
        assert_eq!(bmi(-70.0, 175.0), None);
        assert_eq!(bmi(70.0, 0.0), None);
        assert_eq!(bmi(f64::NAN, 175.0), None);
        assert_eq!(bmi(70.0, f64::INFINITY), None);
        // Boundaries of the plausible inputs.
        assert!(bmi(lb_to_kg(70.0), 175.0).is_some());
        assert!(bmi(lb_to_kg(69.0), 175.0).is_none());
        assert!(bmi(lb_to_kg(700.0), 175.0).is_some());
        assert!(bmi(lb_to_kg(701.0), 175.0).is_none());
        assert!(bmi(70.0, in_to_cm(48.0)).is_some());
        assert!(bmi(70.0, in_to_cm(47.0)).is_none());
        assert!(bmi(70.0, in_to_cm(90.0)).is_some());
        assert!(bmi(70.0, in_to_cm(91.0)).is_none());
        // A Cerner weight in pounds mistaken for kg (quirk 3) is rejected.
        assert_eq!(bmi(400.0, 175.0), None);
    }

    #[test]
    fn bmi_bands() {
        let cases = [
            (10.0, BmiBand::Underweight),
            (18.49, BmiBand::Underweight),
            (18.5, BmiBand::Normal),
            (24.99, BmiBand::Normal),
            (25.0, BmiBand::Overweight),
            (29.99, BmiBand::Overweight),
            (30.0, BmiBand::ObeseI),
            (34.99, BmiBand::ObeseI),
            (35.0, BmiBand::ObeseII),
            (39.99, BmiBand::ObeseII),
            (40.0, BmiBand::ObeseIII),
            (75.0, BmiBand::ObeseIII),
        ];
        for (v, band) in cases {
            assert_eq!(BmiBand::of(v), Some(band), "{v}");
        }
        assert_eq!(BmiBand::of(0.0), None);
        assert_eq!(BmiBand::of(-5.0), None);
        assert_eq!(BmiBand::of(f64::NAN), None);
        assert_eq!(BmiBand::ObeseII.label(), "Obese Class II");
        assert_eq!(BmiBand::Normal.to_string(), "Normal");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn any_vital() -> impl Strategy<Value = VitalType> {
            proptest::sample::select(VitalType::ALL.to_vec())
        }

        proptest! {
            #[test]
            fn bp_round_trips(s in 0_u16..1000, d in 0_u16..1000) {
                prop_assert_eq!(parse_blood_pressure(&format!("{s}/{d}")), Ok((s, d)));
            }

            #[test]
            fn bp_parser_never_panics(text in "\\PC{0,16}") {
                if let Ok((s, d)) = parse_blood_pressure(&text) {
                    prop_assert!(s < 1000 && d < 1000);
                }
            }

            #[test]
            fn bp_parser_rejects_four_digit_sides(s in 1000_u16.., d in 0_u16..1000) {
                let (high_first, low_first) = (format!("{s}/{d}"), format!("{d}/{s}"));
                prop_assert!(parse_blood_pressure(&high_first).is_err());
                prop_assert!(parse_blood_pressure(&low_first).is_err());
            }

            #[test]
            fn reading_parse_never_panics(v in any_vital(), text in "\\PC{0,16}") {
                let _ = abnormal_flag(v, Reading::parse(v, &text));
            }

            #[test]
            fn flags_are_total_for_finite_values(v in any_vital(), x in -1.0e6_f64..1.0e6) {
                let flag = abnormal_flag(v, x);
                let expect_flag = !matches!(
                    v,
                    VitalType::BloodPressure | VitalType::Height | VitalType::Weight | VitalType::BloodGlucose
                );
                prop_assert_eq!(flag.is_some(), expect_flag);
            }

            #[test]
            fn bp_flag_is_monotone_in_systolic_above_normal(s in 100_u16..300, d in 70_u16..90) {
                // For a normal diastolic, a higher systolic never lowers the severity.
                let a = abnormal_flag(VitalType::BloodPressure, (s, d));
                let b = abnormal_flag(VitalType::BloodPressure, (s + 1, d));
                prop_assert!(b >= a);
            }

            #[test]
            fn conversions_invert(x in -1.0e4_f64..1.0e4) {
                prop_assert!((kg_to_lb(lb_to_kg(x)) - x).abs() < 1e-9);
                prop_assert!((cm_to_in(in_to_cm(x)) - x).abs() < 1e-9);
                prop_assert!((c_to_f(f_to_c(x)) - x).abs() < 1e-9);
            }

            #[test]
            fn bmi_is_band_consistent(lb in 70.0_f64..700.0, inches in 48.0_f64..90.0) {
                let b = bmi_from_lb_in(lb, inches).unwrap();
                prop_assert!(b.is_finite() && b > 0.0);
                prop_assert!(BmiBand::of(b).is_some());
                let flag = bmi_flag(b).unwrap();
                let band = BmiBand::of(b).unwrap();
                let expected = match band {
                    BmiBand::Underweight => Low,
                    BmiBand::Normal => Normal,
                    BmiBand::Overweight | BmiBand::ObeseI | BmiBand::ObeseII => High,
                    BmiBand::ObeseIII => Critical,
                };
                prop_assert_eq!(flag, expected);
            }
        }
    }
}
