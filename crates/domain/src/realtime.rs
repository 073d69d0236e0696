//! Today's VistA data next to the serving DB's (ADR-008), as pure rules:
//! which sites to ask, how to read their RPC answers, and how to merge them
//! with serving rows.
//!
//! - [`Registry`]: a patient's treating facilities, most recently seen
//!   first, one entry per station (the original collapsed duplicates by
//!   accident and could ask a site twice), capped per domain
//!   ([`site_limit`]).
//! - `parse_*`: the ICN-addressed RPC layouts of the simulator (`GMV LATEST
//!   VM`, `ORQQAL LIST`, `ORWPS COVER`, `ORWCV ADMISSIONS`, `ORQQPL LIST`)
//!   into the serving DB's own row types, so pages render both alike. A
//!   `-1^…` answer is the site's error; a malformed line is reported, never
//!   silently dropped.
//! - [`merge`]: serving rows and VistA rows by a clinical key that means
//!   the same thing in both sources ([`vital_key`], [`medication_key`], …).
//!   For a record dated T-1 or later, VistA wins; an older record keeps the
//!   serving DB's version; every duplicate (across sources, or repeated by
//!   several sites) is removed and counted. Among sites, the most recently
//!   seen one wins (the order [`Registry::sites`] returns).

use crate::fileman::parse_fileman;
use crate::pieces::unescape;
use crate::record::{Allergy, Encounter, OutpatientMedication, Problem, Vital};
use crate::vitals::{AbnormalFlag, Reading, VitalType, abnormal_flag};
use chrono::{Days, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use std::collections::HashMap;

/// The domains with a VistA refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// `GMV LATEST VM`.
    Vitals,
    /// `ORQQAL LIST`.
    Allergies,
    /// `ORWPS COVER` (outpatient prescriptions).
    Medications,
    /// `ORWCV ADMISSIONS` (90 days back).
    Encounters,
    /// `ORQQPL LIST`.
    Problems,
    /// `ORWPT PTINQ` (the registry's demographics).
    Demographics,
}

impl Domain {
    /// The RPC asked, and its parameters after the ICN.
    pub fn rpc(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Domain::Vitals => ("GMV LATEST VM", &[]),
            Domain::Allergies => ("ORQQAL LIST", &[]),
            Domain::Medications => ("ORWPS COVER", &[]),
            Domain::Encounters => ("ORWCV ADMISSIONS", &["90"]),
            Domain::Problems => ("ORQQPL LIST", &[]),
            Domain::Demographics => ("ORWPT PTINQ", &[]),
        }
    }
}

/// How many sites a domain asks (the original's per-domain limits).
pub fn site_limit(domain: Domain) -> usize {
    match domain {
        Domain::Vitals => 2,
        Domain::Allergies => 5,
        Domain::Demographics => 1,
        Domain::Medications | Domain::Encounters | Domain::Problems => 3,
    }
}

#[derive(Debug, Clone, Deserialize)]
struct RawFacility {
    sta3n: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    last_seen: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RawPatient {
    icn: String,
    #[serde(default)]
    treating_facilities: Vec<RawFacility>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawRegistry {
    patients: Vec<RawPatient>,
}

/// A site a patient is treated at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    /// Station number.
    pub sta3n: String,
    /// Site name as the registry spells it.
    pub name: String,
    /// When the patient was last seen there; `None` when unknown.
    pub last_seen: Option<NaiveDate>,
}

/// ICN → treating facilities (`patient_registry.json` of the VistA data).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    patients: HashMap<String, Vec<Facility>>,
}

impl Registry {
    /// Parses the registry; `last_seen` is an ISO date or `T-n` relative to
    /// `today`.
    pub fn from_json(json: &str, today: NaiveDate) -> Result<Registry, serde_json::Error> {
        let raw: RawRegistry = serde_json::from_str(json)?;
        let mut patients: HashMap<String, Vec<Facility>> = HashMap::new();
        for p in raw.patients {
            let list = patients.entry(p.icn).or_default();
            for f in p.treating_facilities {
                list.push(Facility {
                    last_seen: relative_date(&f.last_seen, today),
                    sta3n: f.sta3n,
                    name: f.name,
                });
            }
        }
        Ok(Registry { patients })
    }

    /// The sites to ask for `domain`: one per station (its most recent
    /// visit), most recently seen first (unknown dates last, then by
    /// station), at most [`site_limit`].
    pub fn sites(&self, icn: &str, domain: Domain) -> Vec<Facility> {
        let mut best: HashMap<&str, &Facility> = HashMap::new();
        for f in self.patients.get(icn).into_iter().flatten() {
            let keep = best
                .get(f.sta3n.as_str())
                .is_none_or(|b| f.last_seen > b.last_seen);
            if keep {
                best.insert(&f.sta3n, f);
            }
        }
        let mut out: Vec<Facility> = best.into_values().cloned().collect();
        out.sort_by(|a, b| {
            b.last_seen
                .cmp(&a.last_seen)
                .then_with(|| a.sta3n.cmp(&b.sta3n))
        });
        out.truncate(site_limit(domain));
        out
    }
}

/// `2026-01-31`, `T-7`, `T-0`, `T+3` → a date.
fn relative_date(s: &str, today: NaiveDate) -> Option<NaiveDate> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("T") {
        let days: i64 = rest.parse().ok()?;
        return if days >= 0 {
            today.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            today.checked_sub_days(Days::new(days.unsigned_abs()))
        };
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Why a site's answer could not be used, or a line of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The site answered `-1^message`.
    #[error("site error: {0}")]
    Site(String),
    /// A line that does not have the layout (line number from 1).
    #[error("line {line}: {reason}")]
    Line {
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a site's answer gave: rows and the lines that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// The rows read.
    pub rows: Vec<T>,
    /// The lines that could not be read, and why.
    pub errors: Vec<ParseError>,
}

/// The answer's lines: `Err` for a site error, nothing for an empty answer.
fn lines(answer: &str) -> Result<Vec<&str>, ParseError> {
    let lines: Vec<&str> = answer
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    match lines.first() {
        Some(first) if first.starts_with("-1^") => {
            let msg = first.trim_start_matches("-1^").to_string();
            // "No vitals found" and the like are empty answers, not failures.
            if msg.to_ascii_lowercase().starts_with("no ") {
                Ok(Vec::new())
            } else {
                Err(ParseError::Site(msg))
            }
        }
        _ => Ok(lines),
    }
}

fn parse_with<T>(
    answer: &str,
    min_pieces: usize,
    mut row: impl FnMut(&[String]) -> Result<T, String>,
) -> Result<Parsed<T>, ParseError> {
    let mut out = Parsed {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    for (i, line) in lines(answer)?.into_iter().enumerate() {
        let pieces: Vec<String> = line.split('^').map(|p| unescape(p).into_owned()).collect();
        let result = if pieces.len() < min_pieces {
            Err(format!(
                "expected {min_pieces} pieces, found {}",
                pieces.len()
            ))
        } else {
            row(&pieces)
        };
        match result {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.errors.push(ParseError::Line {
                line: i + 1,
                reason,
            }),
        }
    }
    Ok(out)
}

fn fm_datetime(s: &str) -> Result<NaiveDateTime, String> {
    parse_fileman(s.trim())
        .map(|v| v.to_datetime())
        .map_err(|e| format!("bad FileMan date {s:?}: {e}"))
}

fn opt_fm_datetime(s: &str) -> Result<Option<NaiveDateTime>, String> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        fm_datetime(s).map(Some)
    }
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The source of VistA rows: `VistA`; ids `vista:{site}:{…}`.
pub const VISTA_SOURCE: &str = "VistA";

/// `GMV LATEST VM`: `TYPE^VALUE^UNITS^DATETIME^ENTERED_BY`.
pub fn parse_vitals(icn: &str, site: &str, answer: &str) -> Result<Parsed<Vital>, ParseError> {
    parse_with(answer, 5, |p| {
        let kind = VitalType::from_name(&p[0])
            .or_else(|| VitalType::from_abbr(&p[0]))
            .ok_or_else(|| format!("unknown vital type {:?}", p[0]))?;
        let taken = fm_datetime(&p[3])?;
        let value = p[1].trim().to_string();
        let (systolic, diastolic, numeric) = match value.split_once('/') {
            Some((s, d)) => {
                let s: i64 = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad blood pressure {value:?}"))?;
                let d: i64 = d
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad blood pressure {value:?}"))?;
                (Some(s), Some(d), None)
            }
            None => {
                let n: f64 = value.parse().map_err(|_| format!("bad value {value:?}"))?;
                (None, None, Some(n))
            }
        };
        let reading = match (systolic, diastolic, numeric) {
            (Some(s), Some(d), _) => match (u16::try_from(s), u16::try_from(d)) {
                (Ok(systolic), Ok(diastolic)) => Reading::BloodPressure {
                    systolic,
                    diastolic,
                },
                _ => return Err(format!("bad blood pressure {value:?}")),
            },
            (_, _, Some(n)) => Reading::Value(n),
            _ => Reading::Missing,
        };
        let flag: Option<AbnormalFlag> = abnormal_flag(kind, reading);
        Ok(Vital {
            patient_key: icn.to_string(),
            source_system: VISTA_SOURCE.into(),
            source_id: format!("vista:{site}:{}:{}", kind.abbr(), p[3].trim()),
            vital_type: kind.name().to_string(),
            vital_abbr: Some(kind.abbr().to_string()),
            taken_datetime: taken,
            result_value: Some(value),
            numeric_value: numeric,
            systolic,
            diastolic,
            unit_of_measure: opt(&p[2]),
            entered_by: opt(&p[4]),
            abnormal_flag: flag.map(|f| f.as_str().to_string()),
            sta3n: Some(site.to_string()),
            data_source: VISTA_SOURCE.into(),
            ..Default::default()
        })
    })
}

/// `ORQQAL LIST`: `ALLERGEN^SEVERITY^DATETIME^REACTIONS^TYPE^SITE^ENTERED_BY`.
pub fn parse_allergies(icn: &str, site: &str, answer: &str) -> Result<Parsed<Allergy>, ParseError> {
    parse_with(answer, 7, |p| {
        let allergen = opt(&p[0]).ok_or("empty allergen")?;
        let when = fm_datetime(&p[2])?;
        let severity = opt(&p[1]).map(|s| s.to_ascii_uppercase());
        let severity_rank = match severity.as_deref() {
            Some("SEVERE") => Some(3),
            Some("MODERATE") => Some(2),
            Some("MILD") => Some(1),
            _ => None,
        };
        let allergen_type = opt(&p[4]).map(|s| s.to_ascii_uppercase());
        let reactions = opt(&p[3]);
        Ok(Allergy {
            patient_key: icn.to_string(),
            source_system: VISTA_SOURCE.into(),
            source_id: format!("vista:{site}:{}", allergen.to_ascii_uppercase()),
            allergen_local: allergen.clone(),
            allergen_standardized: allergen.to_ascii_uppercase(),
            is_drug_allergy: allergen_type.as_deref() == Some("DRUG"),
            allergen_type,
            severity,
            severity_rank,
            reaction_count: reactions
                .as_deref()
                .map(|r| r.split(',').filter(|x| !x.trim().is_empty()).count() as i64),
            reactions,
            origination_date: when,
            observed_date: Some(when),
            historical_or_observed: Some("OBSERVED".into()),
            originating_site: opt(&p[5]).or_else(|| Some(site.to_string())),
            originating_staff: opt(&p[6]),
            is_active: true,
            verification_status: Some("VERIFIED".into()),
            ..Default::default()
        })
    })
}

/// `ORWPS COVER`: `RX#^DRUG^STATUS^QTY/DAYS^REFILLS^ISSUED^EXPIRES`.
pub fn parse_medications(
    icn: &str,
    site: &str,
    answer: &str,
) -> Result<Parsed<OutpatientMedication>, ParseError> {
    parse_with(answer, 7, |p| {
        let rx = opt(&p[0]).ok_or("empty prescription number")?;
        let drug = opt(&p[1]).ok_or("empty drug name")?;
        let (qty, days) = p[3].split_once('/').unwrap_or((p[3].as_str(), ""));
        let issued = fm_datetime(&p[5])?;
        let expires = opt_fm_datetime(&p[6])?;
        let status = opt(&p[2]).map(|s| s.to_ascii_uppercase());
        Ok(OutpatientMedication {
            patient_icn: icn.to_string(),
            patient_key: icn.to_string(),
            source_system: VISTA_SOURCE.into(),
            source_id: format!("vista:{site}:{rx}"),
            prescription_number: Some(rx),
            drug_name_local: Some(drug),
            issue_date: Some(issued),
            is_active: status.as_deref() == Some("ACTIVE"),
            rx_status_computed: status.clone(),
            rx_status: status,
            quantity_ordered: qty.trim().parse().ok(),
            days_supply: days.trim().parse().ok(),
            refills_remaining: p[4].trim().parse().ok(),
            expiration_date: expires,
            sta3n: Some(site.to_string()),
            ..Default::default()
        })
    })
}

/// `ORWCV ADMISSIONS`: `ID^ADMIT^LOCATION^STATUS^DISCHARGE^DISCH_LOC^LOS^DX^PROVIDER`.
pub fn parse_encounters(
    icn: &str,
    site: &str,
    answer: &str,
) -> Result<Parsed<Encounter>, ParseError> {
    parse_with(answer, 9, |p| {
        let id = opt(&p[0]).ok_or("empty admission id")?;
        let admit = fm_datetime(&p[1])?;
        let discharge = opt_fm_datetime(&p[4])?;
        let status = opt(&p[3]).map(|s| s.to_ascii_uppercase());
        let active = status.as_deref() == Some("ACTIVE");
        Ok(Encounter {
            patient_key: icn.to_string(),
            source_system: VISTA_SOURCE.into(),
            source_id: format!("vista:{site}:{id}"),
            inpatient_id: id.parse().unwrap_or(0),
            encounter_type: "INPATIENT".into(),
            admit_datetime: admit,
            admit_location_name: opt(&p[2]),
            admit_diagnosis_code: opt(&p[7]),
            admitting_provider_name: opt(&p[8]),
            discharge_datetime: discharge,
            discharge_location_name: opt(&p[5]),
            length_of_stay: p[6].trim().parse().ok(),
            encounter_status: Some(if active { "Active" } else { "Discharged" }.into()),
            is_active: active,
            sta3n: Some(site.to_string()),
            data_source: VISTA_SOURCE.into(),
            ..Default::default()
        })
    })
}

/// `ORQQPL LIST`: `IEN^TEXT^ICD10^STATUS^ONSET^SC^SNOMED^UPDATED_TODAY`.
pub fn parse_problems(icn: &str, site: &str, answer: &str) -> Result<Parsed<Problem>, ParseError> {
    parse_with(answer, 8, |p| {
        let ien = opt(&p[0]).ok_or("empty problem id")?;
        let onset = opt_fm_datetime(&p[4])?.map(|d| d.date());
        let status = match p[3].trim().to_ascii_uppercase().as_str() {
            "ACTIVE" | "A" => "Active",
            "INACTIVE" | "I" => "Inactive",
            "RESOLVED" | "R" => "Resolved",
            other => return Err(format!("unknown problem status {other:?}")),
        };
        Ok(Problem {
            patient_key: icn.to_string(),
            patient_icn: icn.to_string(),
            source_system: VISTA_SOURCE.into(),
            source_id: format!("vista:{site}:{ien}"),
            problem_number: Some(ien),
            diagnosis_description: opt(&p[1]),
            icd10_code: opt(&p[2]),
            problem_status: status.into(),
            onset_date: onset,
            service_connected: Some(p[5].trim() == "1"),
            snomed_code: opt(&p[6]),
            facility_id: Some(site.to_string()),
            source_ehr: VISTA_SOURCE.into(),
            ..Default::default()
        })
    })
}

/// Clinical keys: the same reading, prescription, admission, problem or
/// allergy gets the same key whichever source it came from. Vitals: the
/// type (name or abbreviation) and the time to the minute.
pub fn vital_key(v: &Vital) -> String {
    let kind = VitalType::from_name(&v.vital_type)
        .map(|k| k.abbr().to_string())
        .unwrap_or_else(|| v.vital_type.to_ascii_uppercase());
    format!("{kind}|{}", v.taken_datetime.format("%Y%m%d%H%M"))
}

/// Drug name (spacing and case ignored) and issue date.
pub fn medication_key(m: &OutpatientMedication) -> String {
    let drug = m
        .drug_name_local
        .as_deref()
        .or(m.drug_name_national.as_deref())
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let issued = m
        .issue_date
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default();
    format!("{drug}|{issued}")
}

/// Admission date and time (to the minute).
pub fn encounter_key(e: &Encounter) -> String {
    e.admit_datetime.format("%Y%m%d%H%M").to_string()
}

/// ICD-10 code and onset date.
pub fn problem_key(p: &Problem) -> String {
    let onset = p
        .onset_date
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default();
    format!(
        "{}|{onset}",
        p.icd10_code
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase()
    )
}

/// The standardised allergen.
pub fn allergy_key(a: &Allergy) -> String {
    a.allergen_standardized.trim().to_ascii_uppercase()
}

/// A serving row type that a VistA refresh merges into: how a site's
/// answer reads into it, its clinical key and its clinical date.
pub trait Realtime: Sized {
    /// The refresh that supplies these rows.
    const DOMAIN: Domain;
    /// Reads one site's answer.
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError>;
    /// The clinical key (the same record has the same key in both sources).
    fn key(&self) -> String;
    /// The date compared with T-1 (`None`: undated, the serving DB keeps it).
    fn clinical_date(&self) -> Option<NaiveDate>;
    /// `(source_system, source_id)`.
    fn source(&self) -> (&str, &str);
    /// The VistA station a row read from a site's answer came from (its
    /// id is `vista:{site}:…`); `None` for serving rows.
    fn vista_site(&self) -> Option<&str> {
        let (system, id) = self.source();
        if system != VISTA_SOURCE {
            return None;
        }
        id.strip_prefix("vista:")
            .and_then(|rest| rest.split(':').next())
            .filter(|s| !s.is_empty())
    }
}

impl Realtime for Vital {
    const DOMAIN: Domain = Domain::Vitals;
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError> {
        parse_vitals(icn, site, answer)
    }
    fn key(&self) -> String {
        vital_key(self)
    }
    fn clinical_date(&self) -> Option<NaiveDate> {
        Some(self.taken_datetime.date())
    }
    fn source(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
}

impl Realtime for Allergy {
    const DOMAIN: Domain = Domain::Allergies;
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError> {
        parse_allergies(icn, site, answer)
    }
    fn key(&self) -> String {
        allergy_key(self)
    }
    fn clinical_date(&self) -> Option<NaiveDate> {
        Some(self.origination_date.date())
    }
    fn source(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
}

impl Realtime for OutpatientMedication {
    const DOMAIN: Domain = Domain::Medications;
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError> {
        parse_medications(icn, site, answer)
    }
    fn key(&self) -> String {
        medication_key(self)
    }
    fn clinical_date(&self) -> Option<NaiveDate> {
        self.issue_date.map(|d| d.date())
    }
    fn source(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
}

impl Realtime for Encounter {
    const DOMAIN: Domain = Domain::Encounters;
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError> {
        parse_encounters(icn, site, answer)
    }
    fn key(&self) -> String {
        encounter_key(self)
    }
    /// The discharge (or, while admitted, the admission): a stay that ended
    /// yesterday is recent even if it began last month.
    fn clinical_date(&self) -> Option<NaiveDate> {
        Some(
            self.discharge_datetime
                .unwrap_or(self.admit_datetime)
                .date(),
        )
    }
    fn source(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
}

impl Realtime for Problem {
    const DOMAIN: Domain = Domain::Problems;
    fn parse(icn: &str, site: &str, answer: &str) -> Result<Parsed<Self>, ParseError> {
        parse_problems(icn, site, answer)
    }
    fn key(&self) -> String {
        problem_key(self)
    }
    fn clinical_date(&self) -> Option<NaiveDate> {
        self.last_modified_date.or(self.onset_date)
    }
    fn source(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
}

/// [`merge`] by the row type's own key and date.
pub fn merge_rows<T: Realtime>(
    serving: Vec<T>,
    vista: Vec<(String, Vec<T>)>,
    t_minus_1: NaiveDate,
) -> MergeResult<T> {
    merge(serving, vista, T::key, T::clinical_date, t_minus_1)
}

/// `ORWPT PTINQ`: what a site has on file for the patient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inquiry {
    /// `LAST,FIRST MIDDLE` as the site spells it.
    pub name: String,
    /// The SSN as the site has it (callers show only the last four).
    #[serde(skip)]
    pub ssn: String,
    /// Last four digits of the SSN.
    pub ssn_last4: Option<String>,
    /// Date of birth.
    pub dob: Option<NaiveDate>,
    /// `M` or `F`, uppercased.
    pub sex: Option<String>,
    /// E.g. `VETERAN`.
    pub veteran_status: Option<String>,
}

/// `ORWPT PTINQ`: `NAME^SSN^DOB(FileMan)^SEX^VETERAN_STATUS`, one line.
pub fn parse_inquiry(answer: &str) -> Result<Inquiry, ParseError> {
    let parsed = parse_with(answer, 5, |p| {
        let name = opt(&p[0]).ok_or("empty name")?;
        let dob = match opt(&p[2]) {
            None => None,
            Some(d) => Some(
                parse_fileman(&d)
                    .map_err(|e| format!("bad DOB {d:?}: {e}"))?
                    .to_datetime()
                    .date(),
            ),
        };
        let digits: String = p[1].chars().filter(char::is_ascii_digit).collect();
        Ok(Inquiry {
            name,
            ssn_last4: (digits.len() >= 4).then(|| digits[digits.len() - 4..].to_string()),
            ssn: p[1].trim().to_string(),
            dob,
            sex: opt(&p[3]).map(|s| s.to_ascii_uppercase()),
            veteran_status: opt(&p[4]),
        })
    })?;
    match (
        parsed.rows.into_iter().next(),
        parsed.errors.into_iter().next(),
    ) {
        (Some(row), _) => Ok(row),
        (None, Some(e)) => Err(e),
        (None, None) => Err(ParseError::Site("empty answer".into())),
    }
}

/// One field of a demographics comparison.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldCheck {
    /// `name`, `date_of_birth`, `sex`, `ssn_last4` or `veteran_status`.
    pub field: &'static str,
    /// What the serving DB has (yesterday's warehouse load).
    pub serving: Option<String>,
    /// What the site has today.
    pub vista: Option<String>,
    /// Whether they agree (names compared without case, spacing or commas).
    pub matches: bool,
}

fn name_words(s: &str) -> Vec<String> {
    let mut w: Vec<String> = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_uppercase())
        .collect();
    w.sort();
    w
}

/// Compares the serving DB's demographics with a site's inquiry, field by
/// field (name, DOB, sex, SSN last four, veteran status). A field the site
/// has and the serving DB lacks counts as a difference; one the site does
/// not report is left out.
pub fn compare_demographics(d: &crate::record::Demographics, i: &Inquiry) -> Vec<FieldCheck> {
    let serving_name = match (&d.name_last, &d.name_first) {
        (Some(l), Some(f)) => Some(format!("{l},{f}")),
        (Some(l), None) => Some(l.clone()),
        _ => d.name_display.clone(),
    };
    let mut out = vec![FieldCheck {
        field: "name",
        matches: serving_name.as_deref().is_some_and(|s| {
            // The site may add a middle name the warehouse does not carry.
            let (a, b) = (name_words(s), name_words(&i.name));
            a.iter().all(|w| b.contains(w))
        }),
        serving: serving_name,
        vista: Some(i.name.clone()),
    }];
    let fmt = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let mut field = |field, serving: Option<String>, vista: Option<String>| {
        if vista.is_some() {
            out.push(FieldCheck {
                field,
                matches: serving.as_deref().map(str::to_ascii_uppercase)
                    == vista.as_deref().map(str::to_ascii_uppercase),
                serving,
                vista,
            });
        }
    };
    field("date_of_birth", fmt(d.dob), fmt(i.dob));
    field("sex", d.sex.clone(), i.sex.clone());
    field("ssn_last4", d.ssn_last4.clone(), i.ssn_last4.clone());
    field(
        "veteran_status",
        d.veteran_status.clone(),
        i.veteran_status.clone(),
    );
    out
}

/// Where a merged row came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The serving DB (CDW through yesterday).
    Serving,
    /// A VistA site, by station number.
    Vista(String),
}

/// A merged row.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<T> {
    /// The row.
    pub row: T,
    /// Where it came from.
    pub origin: Origin,
}

/// The outcome of a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeResult<T> {
    /// Serving rows first in their order, VistA rows that replaced one in
    /// its place, new VistA rows after them; callers sort for display.
    pub rows: Vec<Merged<T>>,
    /// Serving rows given.
    pub serving_count: usize,
    /// VistA rows given (all sites).
    pub vista_count: usize,
    /// Rows dropped as duplicates of another (across sources or sites).
    pub duplicates_removed: usize,
    /// Serving rows VistA replaced (dated T-1 or later).
    pub replaced_by_vista: usize,
}

/// Merges serving rows with VistA rows by `key` (see the module docs).
/// `vista` is `(site, rows)` in site priority order; `date` gives a row's
/// clinical date, compared with `t_minus_1` (yesterday).
pub fn merge<T>(
    serving: Vec<T>,
    vista: Vec<(String, Vec<T>)>,
    key: impl Fn(&T) -> String,
    date: impl Fn(&T) -> Option<NaiveDate>,
    t_minus_1: NaiveDate,
) -> MergeResult<T> {
    let serving_count = serving.len();
    let vista_count = vista.iter().map(|(_, r)| r.len()).sum();
    let mut rows: Vec<Merged<T>> = Vec::with_capacity(serving_count + vista_count);
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut duplicates_removed = 0;
    for row in serving {
        let k = key(&row);
        if index.contains_key(&k) {
            // Repeated within the serving DB itself: keep the first.
            duplicates_removed += 1;
            continue;
        }
        index.insert(k, rows.len());
        rows.push(Merged {
            row,
            origin: Origin::Serving,
        });
    }
    let mut replaced_by_vista = 0;
    for (site, site_rows) in vista {
        for row in site_rows {
            let k = key(&row);
            match index.get(&k) {
                Some(&i) => {
                    duplicates_removed += 1;
                    let existing = &rows[i];
                    let recent = date(&row).is_some_and(|d| d >= t_minus_1);
                    // VistA wins over the serving DB for recent records; a
                    // record another site already supplied keeps that
                    // (higher-priority) site's version.
                    if existing.origin == Origin::Serving && recent {
                        rows[i] = Merged {
                            row,
                            origin: Origin::Vista(site.clone()),
                        };
                        replaced_by_vista += 1;
                    }
                }
                None => {
                    index.insert(k, rows.len());
                    rows.push(Merged {
                        row,
                        origin: Origin::Vista(site.clone()),
                    });
                }
            }
        }
    }
    MergeResult {
        rows,
        serving_count,
        vista_count,
        duplicates_removed,
        replaced_by_vista,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    const TODAY: &str = "2026-02-07";

    #[test]
    fn sites_are_unique_recent_first_and_capped() {
        let json = r#"{"patients": [
            {"icn": "ICN1", "treating_facilities": [
                {"sta3n": "630", "name": "PALO_ALTO", "dfn": "1", "last_seen": "T-180"},
                {"sta3n": "200", "name": "ALEXANDRIA", "dfn": "2", "last_seen": "T-7"},
                {"sta3n": "500", "name": "ANCHORAGE", "dfn": "3", "last_seen": "2026-01-08"},
                {"sta3n": "630", "name": "PALO_ALTO", "dfn": "4", "last_seen": "T-1"}
            ]},
            {"icn": "ICN2", "treating_facilities": []}
        ]}"#;
        let r = Registry::from_json(json, d(TODAY)).unwrap();
        let sites: Vec<String> = r
            .sites("ICN1", Domain::Allergies)
            .into_iter()
            .map(|f| f.sta3n)
            .collect();
        assert_eq!(
            sites,
            ["630", "200", "500"],
            "630's newest visit counts once"
        );
        assert_eq!(r.sites("ICN1", Domain::Vitals).len(), 2);
        assert_eq!(
            r.sites("ICN1", Domain::Demographics)[0].last_seen,
            Some(d("2026-02-06"))
        );
        assert!(r.sites("ICN2", Domain::Vitals).is_empty());
        assert!(r.sites("ICN9", Domain::Vitals).is_empty());
        assert!(Registry::from_json("{", d(TODAY)).is_err());
    }

    #[test]
    fn vitals_are_read_with_flags_and_errors_reported() {
        let answer = "BLOOD PRESSURE^182/95^mmHg^3260207.0815^SMITH,J\n\
                      PULSE^72^/min^3260207.0815^SMITH,J\n\
                      PULSE^fast^/min^3260207.0815^SMITH,J\n\
                      SHOE SIZE^9^^3260207.0815^X\n\
                      TEMPERATURE^98.6\n";
        let p = parse_vitals("ICN1", "200", answer).unwrap();
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.errors.len(), 3);
        let bp = &p.rows[0];
        assert_eq!((bp.systolic, bp.diastolic), (Some(182), Some(95)));
        assert_eq!(bp.abnormal_flag.as_deref(), Some("CRITICAL"));
        assert_eq!(bp.taken_datetime, dt("2026-02-07 08:15"));
        assert_eq!(bp.vital_abbr.as_deref(), Some("BP"));
        assert_eq!(bp.source_system, VISTA_SOURCE);
        assert_eq!(p.rows[1].abnormal_flag.as_deref(), Some("NORMAL"));
        assert!(matches!(&p.errors[2], ParseError::Line { line: 5, .. }));
        assert_eq!(
            parse_vitals("ICN1", "200", "-1^Patient ICN1 not found at site 200"),
            Err(ParseError::Site(
                "Patient ICN1 not found at site 200".into()
            ))
        );
        assert_eq!(
            parse_vitals("ICN1", "200", "-1^No vitals found for patient")
                .unwrap()
                .rows,
            vec![]
        );
        assert_eq!(parse_vitals("ICN1", "200", "").unwrap().rows, vec![]);
    }

    #[test]
    fn other_layouts_are_read() {
        let a = parse_allergies(
            "ICN1",
            "500",
            "PENICILLIN^severe^3260201.1200^HIVES, RASH^drug^500^JONES,A",
        )
        .unwrap();
        let a = &a.rows[0];
        assert_eq!(
            (a.severity_rank, a.reaction_count, a.is_drug_allergy),
            (Some(3), Some(2), true)
        );
        let m = parse_medications(
            "ICN1",
            "200",
            "2000007^LISINOPRIL 10MG TAB^ACTIVE^30/30^2^3260110.0900^3261110",
        )
        .unwrap();
        let m = &m.rows[0];
        assert_eq!(
            (m.quantity_ordered, m.days_supply, m.refills_remaining),
            (Some(30.0), Some(30), Some(2))
        );
        assert_eq!(m.expiration_date.unwrap().date(), d("2026-11-10"));
        let e = parse_encounters(
            "ICN1",
            "200",
            "2005661^3260206.2135^7A MED/SURG^ACTIVE^^^1^I50.9^CHOI,AARON",
        )
        .unwrap();
        assert!(e.rows[0].is_active && e.rows[0].discharge_datetime.is_none());
        let p = parse_problems(
            "ICN1",
            "630",
            "630-1^Hypertension^I10^ACTIVE^3241229^1^59621000^0\n630-2^X^E11.9^MAYBE^^0^^0",
        )
        .unwrap();
        assert_eq!(p.rows[0].problem_status, "Active");
        assert_eq!(p.rows[0].onset_date, Some(d("2024-12-29")));
        assert_eq!(p.errors.len(), 1);
    }

    fn vital(kind: &str, at: &str, value: &str, source: &str) -> Vital {
        Vital {
            vital_type: kind.into(),
            taken_datetime: dt(at),
            result_value: Some(value.into()),
            source_system: source.into(),
            ..Default::default()
        }
    }

    fn run(serving: Vec<Vital>, vista: Vec<(String, Vec<Vital>)>) -> MergeResult<Vital> {
        merge(
            serving,
            vista,
            vital_key,
            |v| Some(v.taken_datetime.date()),
            d("2026-02-06"),
        )
    }

    #[test]
    fn same_key_recent_record_vista_wins() {
        let r = run(
            vec![vital("PULSE", "2026-02-06 09:00", "70", "CDWWork")],
            vec![(
                "200".into(),
                vec![vital("PULSE", "2026-02-06 09:00", "72", "VistA")],
            )],
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].origin, Origin::Vista("200".into()));
        assert_eq!(r.rows[0].row.result_value.as_deref(), Some("72"));
        assert_eq!((r.duplicates_removed, r.replaced_by_vista), (1, 1));
    }

    #[test]
    fn same_key_older_record_keeps_the_serving_version() {
        let r = run(
            vec![vital("PULSE", "2026-01-20 09:00", "70", "CDWWork")],
            vec![(
                "200".into(),
                vec![vital("PULSE", "2026-01-20 09:00", "72", "VistA")],
            )],
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].origin, Origin::Serving);
        assert_eq!(r.rows[0].row.result_value.as_deref(), Some("70"));
        assert_eq!((r.duplicates_removed, r.replaced_by_vista), (1, 0));
    }

    #[test]
    fn new_records_are_added_and_keys_match_across_spellings() {
        let r = run(
            vec![vital(
                "BLOOD PRESSURE",
                "2026-02-06 09:00",
                "120/80",
                "CDWWork",
            )],
            vec![(
                "200".into(),
                vec![
                    vital("BP", "2026-02-06 09:00", "122/80", "VistA"),
                    vital("BLOOD PRESSURE", "2026-02-07 08:00", "130/85", "VistA"),
                ],
            )],
        );
        assert_eq!(r.rows.len(), 2, "BP and BLOOD PRESSURE are one reading");
        assert_eq!(
            (r.serving_count, r.vista_count, r.duplicates_removed),
            (1, 2, 1)
        );
        assert!(
            r.rows
                .iter()
                .all(|m| m.origin == Origin::Vista("200".into()))
        );
    }

    #[test]
    fn conflicting_sites_keep_the_most_recent_site() {
        let r = run(
            vec![],
            vec![
                (
                    "500".into(),
                    vec![vital("PULSE", "2026-02-07 08:00", "88", "VistA")],
                ),
                (
                    "200".into(),
                    vec![vital("PULSE", "2026-02-07 08:00", "90", "VistA")],
                ),
            ],
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].origin, Origin::Vista("500".into()));
        assert_eq!(r.rows[0].row.result_value.as_deref(), Some("88"));
        assert_eq!(r.duplicates_removed, 1);
        // Against a recent serving row, the first site replaces it; the
        // second is a duplicate of the first.
        let r = run(
            vec![vital("PULSE", "2026-02-07 08:00", "80", "CDWWork")],
            vec![
                (
                    "500".into(),
                    vec![vital("PULSE", "2026-02-07 08:00", "88", "VistA")],
                ),
                (
                    "200".into(),
                    vec![vital("PULSE", "2026-02-07 08:00", "90", "VistA")],
                ),
            ],
        );
        assert_eq!(r.rows[0].row.result_value.as_deref(), Some("88"));
        assert_eq!((r.duplicates_removed, r.replaced_by_vista), (2, 1));
    }

    #[test]
    fn keys_of_other_domains() {
        let a = OutpatientMedication {
            drug_name_local: Some("LISINOPRIL  10MG TAB".into()),
            issue_date: Some(dt("2026-01-10 09:00")),
            ..Default::default()
        };
        let b = OutpatientMedication {
            drug_name_local: Some("lisinopril 10mg tab".into()),
            issue_date: Some(dt("2026-01-10 14:30")),
            ..Default::default()
        };
        assert_eq!(medication_key(&a), medication_key(&b));
        let p = Problem {
            icd10_code: Some("i10 ".into()),
            onset_date: Some(d("2024-12-29")),
            ..Default::default()
        };
        assert_eq!(problem_key(&p), "I10|20241229");
        let e = Encounter {
            admit_datetime: dt("2026-02-06 21:35"),
            ..Default::default()
        };
        assert_eq!(encounter_key(&e), "202602062135");
    }

    #[test]
    fn rows_know_their_vista_site() {
        let parsed = parse_vitals("ICN1", "200", "PULSE^72^/min^3260207.0845^NURSE,A").unwrap();
        let v = &parsed.rows[0];
        assert_eq!(v.vista_site(), Some("200"));
        assert_eq!(<Vital as Realtime>::DOMAIN, Domain::Vitals);
        let serving = vital("PULSE", "2026-02-07 08:45", "70", "CDWWork");
        assert_eq!(serving.vista_site(), None);
        // A forged id without the VistA source is not a VistA row.
        let forged = Vital {
            source_id: "vista:200:x".into(),
            ..serving.clone()
        };
        assert_eq!(forged.vista_site(), None);
        // merge_rows uses the type's own key: same reading, same minute.
        let m = merge_rows(
            vec![serving],
            vec![("200".into(), parsed.rows)],
            d("2026-02-06"),
        );
        assert_eq!((m.rows.len(), m.replaced_by_vista), (1, 1));
        assert_eq!(m.rows[0].origin, Origin::Vista("200".into()));
    }

    #[test]
    fn inquiry_reads_and_compares() {
        let i = parse_inquiry("DOOREE,ADAM Q^666-12-6789^2800102^M^VETERAN").unwrap();
        assert_eq!(i.name, "DOOREE,ADAM Q");
        assert_eq!(i.ssn_last4.as_deref(), Some("6789"));
        assert_eq!(i.dob, Some(d("1980-01-02")));
        assert_eq!(i.sex.as_deref(), Some("M"));
        assert!(matches!(
            parse_inquiry("-1^Patient ICN9 not registered at site 200"),
            Err(ParseError::Site(m)) if m.contains("not registered")
        ));
        assert!(matches!(
            parse_inquiry("DOOREE,ADAM^1^BADDATE^M^VETERAN"),
            Err(ParseError::Line { .. })
        ));
        assert!(parse_inquiry("").is_err());
        let mut serving = crate::record::Demographics {
            name_last: Some("Dooree".into()),
            name_first: Some("Adam".into()),
            dob: Some(d("1980-01-02")),
            sex: Some("M".into()),
            ssn_last4: Some("6789".into()),
            veteran_status: Some("Veteran".into()),
            ..Default::default()
        };
        let checks = compare_demographics(&serving, &i);
        assert_eq!(checks.len(), 5);
        assert!(checks.iter().all(|c| c.matches), "{checks:?}");
        serving.dob = Some(d("1980-01-03"));
        serving.ssn_last4 = None;
        let differ: Vec<&str> = compare_demographics(&serving, &i)
            .into_iter()
            .filter(|c| !c.matches)
            .map(|c| c.field)
            .collect();
        assert_eq!(differ, ["date_of_birth", "ssn_last4"]);
    }
}
