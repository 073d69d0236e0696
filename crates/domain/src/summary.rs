//! Per-domain summaries of a patient's record: the counts, orderings,
//! "latest per type" selections and badges the dashboard widgets show and
//! the JSON API returns (reference: original-webapp §2.5 and §3).
//!
//! Every rule that depends on the date takes `today` explicitly; nothing
//! here reads the clock. The web's widgets and its JSON endpoints both call
//! these functions, so a widget and the matching endpoint always agree.
//!
//! Date-dependent flags the ETL stored against its as-of date (a
//! prescription's computed status, an encounter's "recent" and "extended
//! stay") are recomputed against `today`, so a page served days after the
//! last load is still right.
//!
//! Deliberate fixes of the reference's quirks (original-webapp §7):
//!
//! * quirk 6 — the Charlson index is computed from the problem rows
//!   ([`charlson_of_problems`]), never left at 0;
//! * quirk 10 — the controlled-substance marker is read from the row's
//!   `is_controlled_substance` / `dea_schedule` ([`is_controlled`]);
//! * quirk 12 — flag counts cover every flag: `total = active + inactive =
//!   national + local` ([`flag_counts`]).

// Struct fields are named after the serving columns or the reference's
// JSON keys; each struct documents what it holds.
#![allow(missing_docs)]

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::allergies::{AllergenType, AllergySeverity};
use crate::flags::{FlagCategory, ReviewStatus, review_status};
use crate::problems::charlson::{CharlsonCondition, CharlsonRisk};
use crate::problems::{ConditionFlags, ProblemStatus};
use crate::record::{
    Allergy, Demographics, Encounter, FamilyHistory, Flag, Immunization, InpatientMedication, Lab,
    Note, OutpatientMedication, Problem, Task, TaskPriority, TaskStatus, Vital,
};
use crate::vitals::{AbnormalFlag, Reading, VitalType, abbreviation_for, abnormal_flag};

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// Whole years from `dob` to `on`; `None` if `on` is before `dob`.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> Option<i64> {
    if on < dob {
        return None;
    }
    let mut years = i64::from(on.year() - dob.year());
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    Some(years)
}

/// The date `days` days before `today` (saturating at the earliest date).
pub fn days_before(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Whether `at` falls on or after `today − days` (the "last N days" of the
/// filters and badges; a future date counts as within).
pub fn within_days(at: NaiveDateTime, today: NaiveDate, days: u32) -> bool {
    at.date() >= days_before(today, days)
}

/// "Recent" for immunizations and family history: two years, as 730 days
/// (reference: original-webapp §3.9 `recent_2y`).
pub const RECENT_2Y_DAYS: u32 = 730;

/// Orders `Option`s with `None` last when sorting descending by the value:
/// `Some` values compare by `Reverse`, then `None`.
fn desc_nulls_last<T: Ord>(a: &Option<T>, b: &Option<T>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Trimmed, non-empty text.
fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn preview(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

// ---------------------------------------------------------------------------
// Demographics
// ---------------------------------------------------------------------------

/// `***-**-1234` from the last four SSN digits; `***-**-****` when they are
/// missing or not four digits. Nothing more of the SSN is ever shown.
pub fn mask_ssn(last4: Option<&str>) -> String {
    match last4.map(str::trim) {
        Some(l) if l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit()) => format!("***-**-{l}"),
        _ => "***-**-****".into(),
    }
}

/// What the demographics widget shows (reference: original-webapp §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemographicsSummary {
    pub icn: String,
    /// `LAST, First`.
    pub name: String,
    pub dob: Option<NaiveDate>,
    /// Age today, or at death for a deceased patient; the stored age when
    /// the date of birth is unknown.
    pub age: Option<i64>,
    pub sex: Option<String>,
    /// `***-**-1234`.
    pub ssn_masked: String,
    pub phone: Option<String>,
    /// Street lines, then `City, ST ZIP`; empty when unknown.
    pub address_lines: Vec<String>,
    pub insurance: Option<String>,
    pub primary_station: Option<String>,
    pub primary_station_name: Option<String>,
    pub deceased: bool,
    pub death_date: Option<NaiveDate>,
}

/// The patient's age on `today` (at death if deceased), falling back to the
/// stored age when the date of birth is unknown.
pub fn current_age(d: &Demographics, today: NaiveDate) -> Option<i64> {
    let on = d.death_date.filter(|dd| *dd <= today).unwrap_or(today);
    d.dob.and_then(|dob| age_on(dob, on)).or(d.age)
}

/// Whether the patient is deceased (`deceased_flag = Y` or a death date).
pub fn is_deceased(d: &Demographics) -> bool {
    d.deceased_flag
        .as_deref()
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("Y"))
        || d.death_date.is_some()
}

/// The demographics widget's content.
pub fn demographics_summary(d: &Demographics, today: NaiveDate) -> DemographicsSummary {
    let name = text(&d.name_display)
        .map(str::to_string)
        .unwrap_or_else(|| match (text(&d.name_last), text(&d.name_first)) {
            (Some(l), Some(f)) => format!("{l}, {f}"),
            (Some(l), None) => l.to_string(),
            (None, Some(f)) => f.to_string(),
            (None, None) => "(name unknown)".to_string(),
        });
    let mut address_lines: Vec<String> = [text(&d.address_street1), text(&d.address_street2)]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    let city_state = match (text(&d.address_city), text(&d.address_state)) {
        (Some(c), Some(s)) => Some(format!("{c}, {s}")),
        (c, s) => c.or(s).map(str::to_string),
    };
    let last = match (city_state, text(&d.address_zip)) {
        (Some(cs), Some(z)) => Some(format!("{cs} {z}")),
        (cs, z) => cs.or(z.map(str::to_string)),
    };
    address_lines.extend(last);
    DemographicsSummary {
        icn: d.icn.clone(),
        name,
        dob: d.dob,
        age: current_age(d, today),
        sex: text(&d.sex).map(str::to_string),
        ssn_masked: mask_ssn(d.ssn_last4.as_deref()),
        phone: text(&d.phone_primary).map(str::to_string),
        address_lines,
        insurance: text(&d.insurance_company_name).map(str::to_string),
        primary_station: text(&d.primary_station).map(str::to_string),
        primary_station_name: text(&d.primary_station_name).map(str::to_string),
        deceased: is_deceased(d),
        death_date: d.death_date,
    }
}

// ---------------------------------------------------------------------------
// Vitals
// ---------------------------------------------------------------------------

/// The vitals the dashboard widget shows, in its order: BP, T, P, R, POX,
/// PN (reference: original-webapp §3.3).
pub const DASHBOARD_VITALS: [VitalType; 6] = [
    VitalType::BloodPressure,
    VitalType::Temperature,
    VitalType::Pulse,
    VitalType::Respiration,
    VitalType::PulseOximetry,
    VitalType::Pain,
];

/// The catalogue type of a reading, from its name or else its abbreviation.
pub fn vital_kind(v: &Vital) -> Option<VitalType> {
    VitalType::from_name(&v.vital_type)
        .or_else(|| text(&v.vital_abbr).and_then(VitalType::from_abbr))
}

/// The reading's abbreviation: the catalogue one when the type is known,
/// else the stored one, else derived from the name.
pub fn vital_abbr(v: &Vital) -> String {
    match vital_kind(v) {
        Some(k) => k.abbr().to_string(),
        None => text(&v.vital_abbr)
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| abbreviation_for(&v.vital_type)),
    }
}

/// The reading's abnormal flag: the stored one when readable, else computed
/// from the value with the reference thresholds.
pub fn vital_flag(v: &Vital) -> Option<AbnormalFlag> {
    if let Some(f) = text(&v.abnormal_flag).and_then(|f| f.parse().ok()) {
        return Some(f);
    }
    let kind = vital_kind(v)?;
    let reading = match (kind, v.systolic, v.diastolic) {
        (VitalType::BloodPressure, Some(s), Some(d)) => {
            match (u16::try_from(s), u16::try_from(d)) {
                (Ok(s), Ok(d)) => Reading::from((s, d)),
                _ => Reading::Missing,
            }
        }
        _ => match text(&v.result_value) {
            Some(t) => Reading::parse(kind, t),
            None => Reading::from(v.numeric_value),
        },
    };
    abnormal_flag(kind, reading)
}

/// Formats a number without a trailing `.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One latest reading, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VitalReading {
    /// `BP`, `T`, …
    pub abbr: String,
    pub vital_type: String,
    /// The value as recorded, e.g. `128/82`, `98.6`.
    pub value: String,
    /// Unit, e.g. `mmHg`, `F`, `/min`, `%`, `/10`.
    pub unit: String,
    pub taken_datetime: NaiveDateTime,
    /// `CRITICAL`, `HIGH`, `LOW` or `NORMAL`; absent when not flaggable.
    pub abnormal_flag: Option<String>,
    pub is_abnormal: bool,
}

/// The reading as shown: value and unit.
pub fn vital_reading(v: &Vital) -> VitalReading {
    let kind = vital_kind(v);
    let value = match (kind, v.systolic, v.diastolic) {
        (Some(VitalType::BloodPressure), Some(s), Some(d)) if text(&v.result_value).is_none() => {
            format!("{s}/{d}")
        }
        _ => text(&v.result_value)
            .map(str::to_string)
            .or_else(|| v.numeric_value.map(number))
            .unwrap_or_else(|| "—".into()),
    };
    let unit = match kind {
        Some(VitalType::Pain) => "/10".to_string(),
        _ => text(&v.unit_of_measure)
            .map(str::to_string)
            .or_else(|| kind.map(|k| k.unit().to_string()))
            .unwrap_or_default(),
    };
    let flag = vital_flag(v);
    VitalReading {
        abbr: vital_abbr(v),
        vital_type: v.vital_type.clone(),
        value,
        unit,
        taken_datetime: v.taken_datetime,
        abnormal_flag: flag.map(|f| f.as_str().to_string()),
        is_abnormal: flag.is_some_and(AbnormalFlag::is_abnormal),
    }
}

/// Whether `a` is a later reading than `b` (newest `taken_datetime`; on a
/// tie, the lower `vital_id`, the store's tie-break).
fn later_vital(a: &Vital, b: &Vital) -> bool {
    (a.taken_datetime, Reverse(a.vital_id)) > (b.taken_datetime, Reverse(b.vital_id))
}

/// The latest reading of every type, by abbreviation.
pub fn latest_vitals(vitals: &[Vital]) -> BTreeMap<String, &Vital> {
    let mut latest: BTreeMap<String, &Vital> = BTreeMap::new();
    for v in vitals {
        let abbr = vital_abbr(v);
        match latest.get(&abbr) {
            Some(cur) if !later_vital(v, cur) => {}
            _ => {
                latest.insert(abbr, v);
            }
        }
    }
    latest
}

/// How many readings of each type, by abbreviation.
pub fn vital_counts(vitals: &[Vital]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for v in vitals {
        *counts.entry(vital_abbr(v)).or_insert(0) += 1;
    }
    counts
}

/// The vitals widget: the latest of each [`DASHBOARD_VITALS`] type present,
/// in that order, and how many of them are abnormal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VitalsSummary {
    pub readings: Vec<VitalReading>,
    /// Readings shown that are CRITICAL, HIGH or LOW.
    pub abnormal_count: usize,
}

/// See [`VitalsSummary`].
pub fn vitals_summary(vitals: &[Vital]) -> VitalsSummary {
    let latest = latest_vitals(vitals);
    let readings: Vec<VitalReading> = DASHBOARD_VITALS
        .iter()
        .filter_map(|k| latest.get(k.abbr()))
        .map(|v| vital_reading(v))
        .collect();
    VitalsSummary {
        abnormal_count: readings.iter().filter(|r| r.is_abnormal).count(),
        readings,
    }
}

// ---------------------------------------------------------------------------
// Allergies
// ---------------------------------------------------------------------------

/// The allergy's type, from `allergen_type`, else DRUG when flagged a drug
/// allergy.
pub fn allergen_type(a: &Allergy) -> Option<AllergenType> {
    text(&a.allergen_type)
        .and_then(|t| t.parse().ok())
        .or(a.is_drug_allergy.then_some(AllergenType::Drug))
}

/// Severity rank 0–3: the stored rank, else from the severity text.
pub fn allergy_severity_rank(a: &Allergy) -> i64 {
    a.severity_rank
        .filter(|r| (1..=3).contains(r))
        .unwrap_or_else(|| {
            i64::from(AllergySeverity::rank_of(
                text(&a.severity).and_then(|s| s.parse().ok()),
            ))
        })
}

/// Whether the allergy is a drug allergy.
pub fn is_drug_allergy(a: &Allergy) -> bool {
    a.is_drug_allergy || allergen_type(a) == Some(AllergenType::Drug)
}

/// The "critical" order (reference: original-webapp §3.4): drug allergies
/// first, then higher severity, then newest origination, then `allergy_id`.
pub fn allergy_critical_order(a: &Allergy, b: &Allergy) -> Ordering {
    is_drug_allergy(b)
        .cmp(&is_drug_allergy(a))
        .then_with(|| allergy_severity_rank(b).cmp(&allergy_severity_rank(a)))
        .then_with(|| b.origination_date.cmp(&a.origination_date))
        .then_with(|| a.allergy_id.cmp(&b.allergy_id))
}

/// Allergy counts (active allergies only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllergyCounts {
    pub total_allergies: usize,
    pub drug_allergies: usize,
    pub food_allergies: usize,
    pub environmental_allergies: usize,
    /// Severity SEVERE.
    pub severe_allergies: usize,
}

/// The active allergies in the critical order, with their counts.
pub fn active_allergies(all: &[Allergy]) -> (Vec<&Allergy>, AllergyCounts) {
    let mut active: Vec<&Allergy> = all.iter().filter(|a| a.is_active).collect();
    active.sort_by(|a, b| allergy_critical_order(a, b));
    let of = |t: AllergenType| {
        active
            .iter()
            .filter(|a| allergen_type(a) == Some(t))
            .count()
    };
    let counts = AllergyCounts {
        total_allergies: active.len(),
        drug_allergies: active.iter().filter(|a| is_drug_allergy(a)).count(),
        food_allergies: of(AllergenType::Food),
        environmental_allergies: of(AllergenType::Environmental),
        severe_allergies: active
            .iter()
            .filter(|a| allergy_severity_rank(a) == 3)
            .count(),
    };
    (active, counts)
}

/// How many allergies the widget shows.
pub const ALLERGY_WIDGET_LIMIT: usize = 6;

// ---------------------------------------------------------------------------
// Medications
// ---------------------------------------------------------------------------

/// Whether a drug is a controlled substance: flagged so, or carrying a DEA
/// schedule (`C-II`, `2N`, …; `0`, `N` and blanks are not schedules). The
/// reference tested a key that never existed (quirk 10).
pub fn is_controlled(flag: bool, dea_schedule: Option<&str>) -> bool {
    flag || dea_schedule.map(str::trim).is_some_and(|s| {
        !s.is_empty() && !matches!(s.to_ascii_uppercase().as_str(), "0" | "N" | "NO" | "NONE")
    })
}

/// An outpatient prescription's status on `today`: DISCONTINUED (a
/// discontinue date on or before today, or so computed) > EXPIRED
/// (expiration on or before today) > the stored status (ACTIVE when none).
pub fn outpatient_status(m: &OutpatientMedication, today: NaiveDate) -> String {
    let stored = text(&m.rx_status_computed)
        .or(text(&m.rx_status))
        .map(str::to_ascii_uppercase);
    if m.discontinued_date.is_some_and(|d| d.date() <= today)
        || stored.as_deref() == Some("DISCONTINUED")
    {
        return "DISCONTINUED".into();
    }
    if m.expiration_date.is_some_and(|d| d.date() <= today) || stored.as_deref() == Some("EXPIRED")
    {
        return "EXPIRED".into();
    }
    stored.unwrap_or_else(|| "ACTIVE".into())
}

/// Whether a computed outpatient status is an active one.
pub fn status_is_active(status: &str) -> bool {
    !matches!(status, "DISCONTINUED" | "EXPIRED")
}

/// One medication row of either kind, as the list and the widget show it
/// (reference: original-webapp §3.5 "unified row").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MedicationItem {
    /// `rxout_{id}` or `bcma_{id}`; a prescription from a VistA refresh
    /// keeps its own id, `vista:{site}:{rx}`.
    pub medication_id: String,
    /// `outpatient` or `inpatient`.
    #[serde(rename = "type")]
    pub medication_type: String,
    /// Issue date (outpatient) or administration time (inpatient).
    pub date: Option<NaiveDateTime>,
    pub drug_name: String,
    pub drug_strength: Option<String>,
    pub drug_class: Option<String>,
    /// Outpatient: ACTIVE, EXPIRED, DISCONTINUED, … computed for today.
    /// Inpatient: the administration action (GIVEN, HELD, …).
    pub status: String,
    pub is_active: bool,
    pub is_controlled: bool,
    pub dea_schedule: Option<String>,
    /// Sig (outpatient) or dosage given (inpatient).
    pub instructions: Option<String>,
    pub route: Option<String>,
    pub provider: Option<String>,
    pub facility_name: Option<String>,
    pub days_supply: Option<i64>,
    pub refills_remaining: Option<i64>,
    pub expiration_date: Option<NaiveDateTime>,
    /// The VistA station of a prescription from today's refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vista_site: Option<String>,
}

fn drug_name(names: [&Option<String>; 4]) -> String {
    names
        .into_iter()
        .find_map(text)
        .unwrap_or("(unknown drug)")
        .to_string()
}

/// The unified row of an outpatient prescription.
pub fn outpatient_item(m: &OutpatientMedication, today: NaiveDate) -> MedicationItem {
    use crate::realtime::Realtime;
    let status = outpatient_status(m, today);
    let vista_site = m.vista_site().map(str::to_string);
    MedicationItem {
        medication_id: match vista_site {
            Some(_) => m.source_id.clone(),
            None => format!("rxout_{}", m.medication_outpatient_id),
        },
        vista_site,
        medication_type: "outpatient".into(),
        date: m.issue_date,
        drug_name: drug_name([
            &m.drug_name_local,
            &m.drug_name_national,
            &m.generic_name,
            &m.trade_name,
        ]),
        drug_strength: text(&m.drug_strength).map(str::to_string),
        drug_class: text(&m.drug_class).map(str::to_string),
        is_active: status_is_active(&status),
        status,
        is_controlled: is_controlled(m.is_controlled_substance, m.dea_schedule.as_deref()),
        dea_schedule: text(&m.dea_schedule).map(str::to_string),
        instructions: text(&m.sig).map(str::to_string),
        route: text(&m.sig_route).map(str::to_string),
        provider: text(&m.ordering_provider_name)
            .or(text(&m.provider_name))
            .map(str::to_string),
        facility_name: text(&m.facility_name).map(str::to_string),
        days_supply: m.days_supply,
        refills_remaining: m.refills_remaining,
        expiration_date: m.expiration_date,
    }
}

/// The unified row of an inpatient administration.
pub fn inpatient_item(m: &InpatientMedication) -> MedicationItem {
    MedicationItem {
        medication_id: format!("bcma_{}", m.medication_inpatient_id),
        medication_type: "inpatient".into(),
        date: m.action_datetime,
        drug_name: drug_name([
            &m.drug_name_local,
            &m.drug_name_national,
            &m.generic_name,
            &m.trade_name,
        ]),
        drug_strength: text(&m.drug_strength).map(str::to_string),
        drug_class: text(&m.drug_class).map(str::to_string),
        status: text(&m.action_type)
            .or(text(&m.action_status))
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| "UNKNOWN".into()),
        is_active: false,
        is_controlled: is_controlled(m.is_controlled_substance, m.dea_schedule.as_deref()),
        dea_schedule: text(&m.dea_schedule).map(str::to_string),
        instructions: text(&m.dosage_given)
            .or(text(&m.dosage_ordered))
            .map(str::to_string),
        route: text(&m.route).map(str::to_string),
        provider: text(&m.ordering_provider).map(str::to_string),
        facility_name: text(&m.ward_name)
            .or(text(&m.facility_name))
            .map(str::to_string),
        days_supply: None,
        refills_remaining: None,
        expiration_date: None,
        vista_site: None,
    }
}

/// Newest first (no date last), then by id.
fn medication_order(a: &MedicationItem, b: &MedicationItem) -> Ordering {
    desc_nulls_last(&a.date, &b.date).then_with(|| a.medication_id.cmp(&b.medication_id))
}

/// Medication counts (reference: original-webapp §3.5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MedicationCounts {
    pub outpatient_total: usize,
    /// Outpatient prescriptions active today.
    pub outpatient_active: usize,
    pub outpatient_controlled: usize,
    /// Active outpatient prescriptions of a controlled substance.
    pub outpatient_active_controlled: usize,
    pub inpatient_total: usize,
    pub inpatient_controlled: usize,
}

/// Both kinds as unified rows, newest first, with their counts.
pub fn medications(
    outpatient: &[OutpatientMedication],
    inpatient: &[InpatientMedication],
    today: NaiveDate,
) -> (Vec<MedicationItem>, Vec<MedicationItem>, MedicationCounts) {
    let mut out: Vec<MedicationItem> = outpatient
        .iter()
        .map(|m| outpatient_item(m, today))
        .collect();
    let mut inp: Vec<MedicationItem> = inpatient.iter().map(inpatient_item).collect();
    out.sort_by(medication_order);
    inp.sort_by(medication_order);
    let counts = MedicationCounts {
        outpatient_total: out.len(),
        outpatient_active: out.iter().filter(|m| m.is_active).count(),
        outpatient_controlled: out.iter().filter(|m| m.is_controlled).count(),
        outpatient_active_controlled: out
            .iter()
            .filter(|m| m.is_active && m.is_controlled)
            .count(),
        inpatient_total: inp.len(),
        inpatient_controlled: inp.iter().filter(|m| m.is_controlled).count(),
    };
    (out, inp, counts)
}

/// Merges both kinds into one list, newest first.
pub fn merge_medications(
    out: Vec<MedicationItem>,
    inp: Vec<MedicationItem>,
) -> Vec<MedicationItem> {
    let mut all = out;
    all.extend(inp);
    all.sort_by(medication_order);
    all
}

/// How many of each kind the widget shows.
pub const MEDICATION_WIDGET_LIMIT: usize = 4;

/// The medications widget: the most recent outpatient prescriptions and
/// inpatient administrations, and the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentMedications {
    pub outpatient: Vec<MedicationItem>,
    pub inpatient: Vec<MedicationItem>,
    pub counts: MedicationCounts,
}

/// See [`RecentMedications`]; `limit` rows of each kind.
pub fn recent_medications(
    outpatient: &[OutpatientMedication],
    inpatient: &[InpatientMedication],
    today: NaiveDate,
    limit: usize,
) -> RecentMedications {
    let (mut out, mut inp, counts) = medications(outpatient, inpatient, today);
    out.truncate(limit);
    inp.truncate(limit);
    RecentMedications {
        outpatient: out,
        inpatient: inp,
        counts,
    }
}

// ---------------------------------------------------------------------------
// Encounters
// ---------------------------------------------------------------------------

/// Days back that make an encounter recent.
pub const RECENT_ENCOUNTER_DAYS: u32 = 30;
/// Days in hospital beyond which an active stay is extended.
pub const EXTENDED_STAY_DAYS: i64 = 14;

/// Refreshes an encounter's date-dependent flags for `today` (the ETL set
/// them for its as-of date): `is_recent` (active, or discharged — without a
/// discharge, admitted — within 30 days), `total_days` of an active stay,
/// and `is_extended_stay` (active and more than 14 days in).
pub fn refresh_encounter(e: &mut Encounter, today: NaiveDate) {
    let last = e.discharge_datetime.unwrap_or(e.admit_datetime);
    e.is_recent = e.is_active || within_days(last, today, RECENT_ENCOUNTER_DAYS);
    if e.is_active {
        let days = (today - e.admit_datetime.date()).num_days().max(0);
        e.total_days = Some(days);
        e.is_extended_stay = days > EXTENDED_STAY_DAYS;
    } else {
        e.is_extended_stay = false;
    }
}

/// Encounter counts (reference: original-webapp §3.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncounterCounts {
    pub total_encounters: usize,
    pub active_admissions: usize,
    pub recent_encounters: usize,
    pub extended_stays: usize,
    /// Distinct stations.
    pub facility_count: usize,
}

/// The encounters refreshed for `today`, newest admission first, and their
/// counts.
pub fn encounters(all: &[Encounter], today: NaiveDate) -> (Vec<Encounter>, EncounterCounts) {
    let mut rows: Vec<Encounter> = all.to_vec();
    for e in &mut rows {
        refresh_encounter(e, today);
    }
    rows.sort_by(|a, b| {
        b.admit_datetime
            .cmp(&a.admit_datetime)
            .then_with(|| a.encounter_id.cmp(&b.encounter_id))
    });
    let counts = EncounterCounts {
        total_encounters: rows.len(),
        active_admissions: rows.iter().filter(|e| e.is_active).count(),
        recent_encounters: rows.iter().filter(|e| e.is_recent).count(),
        extended_stays: rows.iter().filter(|e| e.is_extended_stay).count(),
        facility_count: rows
            .iter()
            .filter_map(|e| text(&e.sta3n))
            .collect::<BTreeSet<_>>()
            .len(),
    };
    (rows, counts)
}

/// How many encounters the widget lists.
pub const ENCOUNTER_WIDGET_LIMIT: usize = 4;

/// The EHR an encounter came from: `Cerner` for CDWWork2, else `VistA`.
pub fn encounter_source(e: &Encounter) -> &'static str {
    if e.data_source.eq_ignore_ascii_case("CDWWork2")
        || e.source_system.eq_ignore_ascii_case("CDWWork2")
    {
        "Cerner"
    } else {
        "VistA"
    }
}

// ---------------------------------------------------------------------------
// Labs
// ---------------------------------------------------------------------------

/// Whether a result is abnormal (flagged, or so marked).
pub fn lab_is_abnormal(l: &Lab) -> bool {
    l.is_abnormal || text(&l.abnormal_flag).is_some()
}

/// One panel: the results of one panel name and accession.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabPanel {
    pub panel_name: String,
    pub accession_number: String,
    /// The latest collection time of its results.
    pub collection_datetime: NaiveDateTime,
    pub collection_location: Option<String>,
    pub facility_name: Option<String>,
    pub results: Vec<Lab>,
    pub abnormal_count: usize,
}

/// The `limit` most recent panels: results grouped by distinct panel name
/// and accession (individual tests, without a panel, are not panels),
/// newest collection first; results in `lab_id` order.
pub fn recent_panels(labs: &[Lab], limit: usize) -> Vec<LabPanel> {
    let mut groups: BTreeMap<(String, String), Vec<&Lab>> = BTreeMap::new();
    for l in labs {
        if let Some(panel) = text(&l.panel_name) {
            groups
                .entry((panel.to_string(), l.accession_number.clone()))
                .or_default()
                .push(l);
        }
    }
    let mut panels: Vec<LabPanel> = groups
        .into_iter()
        .map(|((panel_name, accession_number), mut rows)| {
            rows.sort_by_key(|l| l.lab_id);
            let newest = rows
                .iter()
                .max_by_key(|l| l.collection_datetime)
                .copied()
                .unwrap_or(rows[0]);
            LabPanel {
                panel_name,
                accession_number,
                collection_datetime: newest.collection_datetime,
                collection_location: text(&newest.collection_location).map(str::to_string),
                facility_name: text(&newest.facility_name).map(str::to_string),
                abnormal_count: rows.iter().filter(|l| lab_is_abnormal(l)).count(),
                results: rows.into_iter().cloned().collect(),
            }
        })
        .collect();
    panels.sort_by(|a, b| {
        b.collection_datetime
            .cmp(&a.collection_datetime)
            .then_with(|| a.results[0].lab_id.cmp(&b.results[0].lab_id))
    });
    panels.truncate(limit);
    panels
}

/// The tests the labs widget trends.
pub const TREND_TESTS: [&str; 3] = ["Glucose", "Creatinine", "Hemoglobin"];
/// The trend window, in days.
pub const TREND_DAYS: u32 = 90;

/// The latest result of one trended test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabTrend {
    pub test_name: String,
    pub latest_value: Option<String>,
    pub unit: Option<String>,
    pub abnormal_flag: Option<String>,
    pub collection_datetime: Option<NaiveDateTime>,
    /// Results of this test in the last 90 days.
    pub points: usize,
}

/// The latest Glucose, Creatinine and Hemoglobin (test names matched
/// exactly, case-insensitively: "Hemoglobin A1c" is another test), with how
/// many results each has in the last 90 days. Tests never done are left
/// out.
pub fn lab_trends(labs: &[Lab], today: NaiveDate) -> Vec<LabTrend> {
    TREND_TESTS
        .iter()
        .filter_map(|name| {
            let rows: Vec<&Lab> = labs
                .iter()
                .filter(|l| text(&l.lab_test_name).is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .collect();
            let latest = rows.iter().copied().max_by(|a, b| {
                a.collection_datetime
                    .cmp(&b.collection_datetime)
                    .then_with(|| b.lab_id.cmp(&a.lab_id))
            })?;
            Some(LabTrend {
                test_name: (*name).to_string(),
                latest_value: text(&latest.result_value)
                    .map(str::to_string)
                    .or_else(|| latest.result_numeric.map(number)),
                unit: text(&latest.result_unit).map(str::to_string),
                abnormal_flag: text(&latest.abnormal_flag).map(str::to_string),
                collection_datetime: Some(latest.collection_datetime),
                points: rows
                    .iter()
                    .filter(|l| within_days(l.collection_datetime, today, TREND_DAYS))
                    .count(),
            })
        })
        .collect()
}

/// Lab counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabCounts {
    pub total: usize,
    pub abnormal: usize,
    pub critical: usize,
    /// Results per panel name (`Individual Tests` for tests without one).
    pub panels: BTreeMap<String, usize>,
}

/// The name individual tests are grouped under.
pub const INDIVIDUAL_TESTS: &str = "Individual Tests";

/// See [`LabCounts`].
pub fn lab_counts(labs: &[Lab]) -> LabCounts {
    let mut panels = BTreeMap::new();
    for l in labs {
        let key = text(&l.panel_name).unwrap_or(INDIVIDUAL_TESTS).to_string();
        *panels.entry(key).or_insert(0) += 1;
    }
    LabCounts {
        total: labs.len(),
        abnormal: labs.iter().filter(|l| lab_is_abnormal(l)).count(),
        critical: labs.iter().filter(|l| l.is_critical).count(),
        panels,
    }
}

/// How many panels the widget shows.
pub const LAB_WIDGET_PANELS: usize = 3;

// ---------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------

/// Newest `reference_datetime` first, then `note_id`.
pub fn note_order(a: &Note, b: &Note) -> Ordering {
    b.reference_datetime
        .cmp(&a.reference_datetime)
        .then_with(|| a.note_id.cmp(&b.note_id))
}

/// The notes widget: totals and the most recent notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotesSummary {
    pub total_notes: usize,
    pub notes_by_class: BTreeMap<String, usize>,
    pub recent_notes: Vec<Note>,
}

/// See [`NotesSummary`]; `limit` recent notes.
pub fn notes_summary(notes: &[Note], limit: usize) -> NotesSummary {
    let mut sorted: Vec<&Note> = notes.iter().collect();
    sorted.sort_by(|a, b| note_order(a, b));
    let mut notes_by_class = BTreeMap::new();
    for n in notes {
        *notes_by_class.entry(n.document_class.clone()).or_insert(0) += 1;
    }
    NotesSummary {
        total_notes: notes.len(),
        notes_by_class,
        recent_notes: sorted.into_iter().take(limit).cloned().collect(),
    }
}

/// How many notes the widget shows.
pub const NOTE_WIDGET_LIMIT: usize = 3;
/// Characters of a note's preview the widget shows.
pub const NOTE_PREVIEW_CHARS: usize = 160;

// ---------------------------------------------------------------------------
// Immunizations
// ---------------------------------------------------------------------------

/// Whether the dose belongs to a series known to be incomplete.
pub fn immunization_incomplete(i: &Immunization) -> bool {
    i.is_series_complete == Some(false)
}

/// Immunization counts (reference: original-webapp §3.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImmunizationCounts {
    pub total: usize,
    pub annual: usize,
    pub covid: usize,
    pub incomplete: usize,
    pub with_reactions: usize,
    /// Administered in the last 730 days.
    pub recent_2y: usize,
}

/// See [`ImmunizationCounts`].
pub fn immunization_counts(imms: &[Immunization], today: NaiveDate) -> ImmunizationCounts {
    ImmunizationCounts {
        total: imms.len(),
        annual: imms.iter().filter(|i| i.is_annual_vaccine).count(),
        covid: imms.iter().filter(|i| i.is_covid_vaccine).count(),
        incomplete: imms.iter().filter(|i| immunization_incomplete(i)).count(),
        with_reactions: imms.iter().filter(|i| i.has_adverse_reaction).count(),
        recent_2y: imms
            .iter()
            .filter(|i| within_days(i.administered_datetime, today, RECENT_2Y_DAYS))
            .count(),
    }
}

/// Newest administration first, then `immunization_id`.
pub fn immunization_order(a: &Immunization, b: &Immunization) -> Ordering {
    b.administered_datetime
        .cmp(&a.administered_datetime)
        .then_with(|| a.immunization_id.cmp(&b.immunization_id))
}

/// The `limit` most recent immunizations of the last two years.
pub fn recent_immunizations(
    imms: &[Immunization],
    today: NaiveDate,
    limit: usize,
) -> Vec<&Immunization> {
    let mut recent: Vec<&Immunization> = imms
        .iter()
        .filter(|i| within_days(i.administered_datetime, today, RECENT_2Y_DAYS))
        .collect();
    recent.sort_by(|a, b| immunization_order(a, b));
    recent.truncate(limit);
    recent
}

/// How many immunizations the widget lists.
pub const IMMUNIZATION_WIDGET_LIMIT: usize = 5;

// ---------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------

/// Whether the problem is active (status `Active`, `ACTIVE` or `A`).
pub fn problem_is_active(p: &Problem) -> bool {
    p.problem_status
        .parse::<ProblemStatus>()
        .is_ok_and(ProblemStatus::is_active)
}

/// Whether the problem is chronic (flagged so, or its ICD-10 code is).
pub fn problem_is_chronic(p: &Problem) -> bool {
    p.chronic_condition == Some(true)
        || text(&p.icd10_chronic_flag).is_some_and(|f| f.eq_ignore_ascii_case("Y"))
}

/// The Charlson index computed from the problem rows (reference:
/// original-webapp §3.10; fixes quirk 6): over **active** problems with a
/// Charlson condition, each distinct condition counts once with the highest
/// weight seen (the row's `charlson_weight`, else the condition's standard
/// weight). Conditions are recognised with [`CharlsonCondition::from_name`];
/// an unrecognised name with a weight still counts, as its own condition.
pub fn charlson_of_problems(problems: &[Problem]) -> (u32, usize) {
    let mut best: BTreeMap<String, u32> = BTreeMap::new();
    for p in problems.iter().filter(|p| problem_is_active(p)) {
        let Some(name) = text(&p.icd10_charlson_condition) else {
            continue;
        };
        let known = CharlsonCondition::from_name(name);
        let stored = p
            .charlson_weight
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w > 0);
        let Some(weight) = stored.or(known.map(CharlsonCondition::weight)) else {
            continue;
        };
        let key = known.map_or_else(|| name.to_ascii_lowercase(), |c| c.name().to_string());
        let slot = best.entry(key).or_insert(0);
        *slot = (*slot).max(weight);
    }
    (
        best.values().fold(0_u32, |a, w| a.saturating_add(*w)),
        best.len(),
    )
}

/// The reference order of the top active problems: Charlson condition DESC
/// (NULLs last), chronic first, newest onset (NULLs last), then
/// `problem_id`.
pub fn top_problem_order(a: &Problem, b: &Problem) -> Ordering {
    desc_nulls_last(
        &text(&a.icd10_charlson_condition),
        &text(&b.icd10_charlson_condition),
    )
    .then_with(|| problem_is_chronic(b).cmp(&problem_is_chronic(a)))
    .then_with(|| desc_nulls_last(&a.onset_date, &b.onset_date))
    .then_with(|| a.problem_id.cmp(&b.problem_id))
}

/// The list order: Active, Inactive, Resolved (other statuses last), then
/// newest onset (NULLs last), then `problem_id`.
pub fn problem_list_order(a: &Problem, b: &Problem) -> Ordering {
    let rank = |p: &Problem| {
        p.problem_status
            .parse::<ProblemStatus>()
            .map_or(3, |s| s as u8)
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| desc_nulls_last(&a.onset_date, &b.onset_date))
        .then_with(|| a.problem_id.cmp(&b.problem_id))
}

/// The problems widget and `/problems/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemsSummary {
    /// The top active problems, in [`top_problem_order`].
    pub problems: Vec<Problem>,
    pub total_problems: usize,
    pub total_active: usize,
    /// Active chronic problems.
    pub total_chronic: usize,
    pub charlson_index: u32,
    pub charlson_condition_count: usize,
    /// `None`, `Low`, `Moderate`, `High` or `Very High`.
    pub charlson_risk: String,
    /// CHF, COPD, CKD or diabetes among the active problems.
    pub has_critical_conditions: bool,
    pub has_chf: bool,
    pub has_copd: bool,
    pub has_ckd: bool,
    pub has_diabetes: bool,
}

/// See [`ProblemsSummary`]; `limit` top problems. Condition flags come from
/// the active problems' ICD-10 codes.
pub fn problems_summary(problems: &[Problem], limit: usize) -> ProblemsSummary {
    let mut active: Vec<&Problem> = problems.iter().filter(|p| problem_is_active(p)).collect();
    active.sort_by(|a, b| top_problem_order(a, b));
    let (charlson_index, charlson_condition_count) = charlson_of_problems(problems);
    let flags =
        ConditionFlags::from_active_icd10(active.iter().filter_map(|p| text(&p.icd10_code)));
    ProblemsSummary {
        total_problems: problems.len(),
        total_active: active.len(),
        total_chronic: active.iter().filter(|p| problem_is_chronic(p)).count(),
        problems: active.iter().take(limit).map(|p| (*p).clone()).collect(),
        charlson_index,
        charlson_condition_count,
        charlson_risk: CharlsonRisk::from_index(charlson_index).label().to_string(),
        has_critical_conditions: flags.has_critical_conditions(),
        has_chf: flags.has_chf,
        has_copd: flags.has_copd,
        has_ckd: flags.has_ckd,
        has_diabetes: flags.has_diabetes,
    }
}

/// How many problems the widget lists.
pub const PROBLEM_WIDGET_LIMIT: usize = 8;

/// The display text of a problem: diagnosis, else ICD-10 or SNOMED
/// description.
pub fn problem_text(p: &Problem) -> String {
    text(&p.diagnosis_description)
        .or(text(&p.icd10_description))
        .or(text(&p.snomed_description))
        .unwrap_or("(no description)")
        .to_string()
}

// ---------------------------------------------------------------------------
// Family history
// ---------------------------------------------------------------------------

/// Relationship codes that are first-degree relatives.
pub const FIRST_DEGREE_CODES: [&str; 6] =
    ["MOTHER", "FATHER", "SISTER", "BROTHER", "SON", "DAUGHTER"];

/// Whether the relative is first-degree: flagged so, degree
/// `FIRST_DEGREE`, or a parent, sibling or child code (reference:
/// original-webapp §3.11).
pub fn is_first_degree(f: &FamilyHistory) -> bool {
    f.first_degree_relative_flag
        || text(&f.relationship_degree).is_some_and(|d| d.eq_ignore_ascii_case("FIRST_DEGREE"))
        || text(&f.relationship_code)
            .is_some_and(|c| FIRST_DEGREE_CODES.iter().any(|k| k.eq_ignore_ascii_case(c)))
}

/// High risk: a hereditary-risk condition in a first-degree relative.
pub fn is_high_risk(f: &FamilyHistory) -> bool {
    is_first_degree(f) && f.hereditary_risk_flag
}

/// Family-history counts (reference: original-webapp §3.11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyHistoryCounts {
    pub total: usize,
    pub active: usize,
    pub first_degree: usize,
    /// First-degree relatives with a hereditary-risk condition.
    pub first_degree_high_risk: usize,
    pub distinct_conditions: usize,
    /// Recorded in the last 730 days.
    pub recent_2y: usize,
    pub last_recorded_datetime: Option<NaiveDateTime>,
}

/// See [`FamilyHistoryCounts`].
pub fn family_history_counts(rows: &[FamilyHistory], today: NaiveDate) -> FamilyHistoryCounts {
    FamilyHistoryCounts {
        total: rows.len(),
        active: rows.iter().filter(|f| f.is_active).count(),
        first_degree: rows.iter().filter(|f| is_first_degree(f)).count(),
        first_degree_high_risk: rows.iter().filter(|f| is_high_risk(f)).count(),
        distinct_conditions: rows
            .iter()
            .map(|f| f.condition_name.trim().to_ascii_lowercase())
            .collect::<BTreeSet<_>>()
            .len(),
        recent_2y: rows
            .iter()
            .filter(|f| {
                f.recorded_datetime
                    .is_some_and(|t| within_days(t, today, RECENT_2Y_DAYS))
            })
            .count(),
        last_recorded_datetime: rows.iter().filter_map(|f| f.recorded_datetime).max(),
    }
}

/// Newest `recorded_datetime` first (NULLs last), then
/// `family_history_id`.
pub fn family_history_order(a: &FamilyHistory, b: &FamilyHistory) -> Ordering {
    desc_nulls_last(&a.recorded_datetime, &b.recorded_datetime)
        .then_with(|| a.family_history_id.cmp(&b.family_history_id))
}

/// The `limit` most recently recorded entries.
pub fn recent_family_history(rows: &[FamilyHistory], limit: usize) -> Vec<&FamilyHistory> {
    let mut sorted: Vec<&FamilyHistory> = rows.iter().collect();
    sorted.sort_by(|a, b| family_history_order(a, b));
    sorted.truncate(limit);
    sorted
}

/// How many entries the widget lists.
pub const FAMILY_HISTORY_WIDGET_LIMIT: usize = 5;

// ---------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------

/// Priority HIGH → LOW, then newest `created_at`, then highest `task_id`
/// (reference: original-webapp §3.12).
pub fn task_order(a: &Task, b: &Task) -> Ordering {
    let rank = |p: TaskPriority| TaskPriority::ALL.iter().position(|x| *x == p);
    rank(a.priority)
        .cmp(&rank(b.priority))
        .then_with(|| b.created_at.cmp(&a.created_at))
        .then_with(|| b.task_id.cmp(&a.task_id))
}

/// Task counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskCounts {
    pub total: usize,
    /// TODO + IN_PROGRESS.
    pub active: usize,
    pub todo: usize,
    pub in_progress: usize,
    pub completed: usize,
    /// Active tasks of HIGH priority.
    pub high_priority: usize,
}

/// See [`TaskCounts`].
pub fn task_counts(tasks: &[Task]) -> TaskCounts {
    let of = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
    TaskCounts {
        total: tasks.len(),
        active: tasks.iter().filter(|t| t.status.is_active()).count(),
        todo: of(TaskStatus::Todo),
        in_progress: of(TaskStatus::InProgress),
        completed: of(TaskStatus::Completed),
        high_priority: tasks
            .iter()
            .filter(|t| t.status.is_active() && t.priority == TaskPriority::High)
            .count(),
    }
}

/// The `limit` first active tasks in [`task_order`].
pub fn active_tasks(tasks: &[Task], limit: usize) -> Vec<&Task> {
    let mut active: Vec<&Task> = tasks.iter().filter(|t| t.status.is_active()).collect();
    active.sort_by(|a, b| task_order(a, b));
    active.truncate(limit);
    active
}

/// How many tasks the widget lists.
pub const TASK_WIDGET_LIMIT: usize = 8;

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

/// Whether a flag is national (category I); unreadable categories are
/// local.
pub fn flag_is_national(f: &Flag) -> bool {
    f.flag_category
        .parse::<FlagCategory>()
        .is_ok_and(FlagCategory::is_national)
}

/// A flag's review status on `today` (inactive flags: N/A).
pub fn flag_review_status(f: &Flag, today: NaiveDate) -> ReviewStatus {
    if !f.is_active {
        return ReviewStatus::NotApplicable;
    }
    review_status(
        f.next_review_date.map(|d| d.date()),
        f.review_notification_days
            .and_then(|d| u32::try_from(d).ok()),
        today,
    )
}

/// Flag counts (reference: original-webapp §3.2, with quirk 12 fixed:
/// the totals cover every flag, not just the active ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagCounts {
    /// Every flag assignment, active or not.
    pub total_flags: usize,
    pub active_flags: usize,
    pub inactive_flags: usize,
    /// Category I flags, active or not.
    pub national_flags: usize,
    /// Category II flags, active or not.
    pub local_flags: usize,
    pub active_national_flags: usize,
    pub active_local_flags: usize,
    /// Active flags whose review is overdue today.
    pub overdue_count: usize,
}

/// See [`FlagCounts`].
pub fn flag_counts(flags: &[Flag], today: NaiveDate) -> FlagCounts {
    let active = flags.iter().filter(|f| f.is_active).count();
    let national = flags.iter().filter(|f| flag_is_national(f)).count();
    let active_national = flags
        .iter()
        .filter(|f| f.is_active && flag_is_national(f))
        .count();
    FlagCounts {
        total_flags: flags.len(),
        active_flags: active,
        inactive_flags: flags.len() - active,
        national_flags: national,
        local_flags: flags.len() - national,
        active_national_flags: active_national,
        active_local_flags: active - active_national,
        overdue_count: flags
            .iter()
            .filter(|f| flag_review_status(f, today) == ReviewStatus::Overdue)
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{s} 00:00:00"), "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
            .unwrap()
    }

    const TODAY: &str = "2026-02-07";

    fn today() -> NaiveDate {
        d(TODAY)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn demographics() -> Demographics {
        Demographics {
            patient_key: "ICN1".into(),
            icn: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: "1".into(),
            ssn_last4: s("6789"),
            name_last: s("DOOREE"),
            name_first: s("Adam"),
            name_display: None,
            dob: Some(d("1958-03-14")),
            age: Some(60),
            sex: s("M"),
            gender: None,
            primary_station: s("508"),
            primary_station_name: s("Atlanta VAMC"),
            address_street1: s("1 Main St"),
            address_street2: s(" "),
            address_city: s("Atlanta"),
            address_state: s("GA"),
            address_zip: s("30301"),
            phone_primary: s("404-555-0100"),
            insurance_company_name: s("Medicare"),
            marital_status: None,
            religion: None,
            service_connected_percent: None,
            deceased_flag: s("N"),
            death_date: None,
            veteran_status: None,
            is_test_patient: false,
            is_sensitive: false,
            last_updated: None,
        }
    }

    #[test]
    fn ages_and_masks() {
        assert_eq!(age_on(d("1958-03-14"), d("2026-03-13")), Some(67));
        assert_eq!(age_on(d("1958-03-14"), d("2026-03-14")), Some(68));
        assert_eq!(age_on(d("2000-02-29"), d("2001-02-28")), Some(0));
        assert_eq!(age_on(d("2000-01-01"), d("1999-12-31")), None);
        assert_eq!(mask_ssn(Some("6789")), "***-**-6789");
        assert_eq!(mask_ssn(Some("123456789")), "***-**-****");
        assert_eq!(mask_ssn(Some("12a4")), "***-**-****");
        assert_eq!(mask_ssn(None), "***-**-****");
        assert_eq!(preview("abcdef", 3), "abc…");
        assert_eq!(preview(" abc ", 3), "abc");
        assert!(within_days(ts("2025-11-09"), today(), 90));
        assert!(!within_days(ts("2025-11-08 23:59:59"), today(), 90));
    }

    #[test]
    fn demographics_widget() {
        let mut p = demographics();
        let sum = demographics_summary(&p, today());
        assert_eq!(sum.name, "DOOREE, Adam");
        assert_eq!(
            sum.age,
            Some(67),
            "age is recomputed, not the stale stored 60"
        );
        assert_eq!(sum.ssn_masked, "***-**-6789");
        assert_eq!(sum.address_lines, vec!["1 Main St", "Atlanta, GA 30301"]);
        assert!(!sum.deceased);
        p.death_date = Some(d("2024-12-01"));
        p.dob = Some(d("1941-07-02"));
        let sum = demographics_summary(&p, today());
        assert!(sum.deceased);
        assert_eq!(sum.age, Some(83), "age at death");
        p.dob = None;
        assert_eq!(current_age(&p, today()), Some(60));
    }

    fn vital(id: i64, ty: &str, taken: &str, value: &str, flag: Option<&str>) -> Vital {
        let bp = parse_bp(value);
        Vital {
            vital_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            vital_sign_id: Some(id),
            vital_type: ty.into(),
            vital_abbr: None,
            taken_datetime: ts(taken),
            entered_datetime: None,
            result_value: s(value),
            numeric_value: value.parse().ok(),
            systolic: bp.map(|b| b.0),
            diastolic: bp.map(|b| b.1),
            metric_value: None,
            unit_of_measure: None,
            qualifiers: Vec::new(),
            location_id: None,
            location_name: None,
            location_type: None,
            entered_by: None,
            abnormal_flag: flag.map(str::to_string),
            bmi: None,
            sta3n: None,
            facility_name: None,
            data_source: "CDWWork".into(),
            last_updated: None,
        }
    }

    fn parse_bp(v: &str) -> Option<(i64, i64)> {
        let (a, b) = v.split_once('/')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    }

    #[test]
    fn vitals_latest_per_type_in_widget_order() {
        let vitals = vec![
            vital(
                1,
                "BLOOD PRESSURE",
                "2026-01-01 08:00:00",
                "118/76",
                Some("NORMAL"),
            ),
            vital(
                2,
                "BLOOD PRESSURE",
                "2026-02-01 08:00:00",
                "182/95",
                Some("CRITICAL"),
            ),
            vital(3, "PULSE", "2026-02-01 08:00:00", "104", None),
            vital(4, "PAIN", "2026-02-01 08:00:00", "2", Some("NORMAL")),
            vital(5, "WEIGHT", "2026-02-01 08:00:00", "180", None),
            vital(6, "TEMPERATURE", "2026-02-01 08:00:00", "96.5", Some("low")),
            // Same time as 2: the lower id wins.
            vital(
                7,
                "BLOOD PRESSURE",
                "2026-02-01 08:00:00",
                "120/80",
                Some("NORMAL"),
            ),
        ];
        let latest = latest_vitals(&vitals);
        assert_eq!(latest["BP"].vital_id, 2);
        assert_eq!(latest["WT"].vital_id, 5);
        assert_eq!(vital_counts(&vitals)["BP"], 3);
        let sum = vitals_summary(&vitals);
        let abbrs: Vec<&str> = sum.readings.iter().map(|r| r.abbr.as_str()).collect();
        assert_eq!(abbrs, ["BP", "T", "P", "PN"]);
        assert_eq!(sum.readings[0].value, "182/95");
        assert_eq!(sum.readings[0].unit, "mmHg");
        assert_eq!(sum.readings[0].abnormal_flag.as_deref(), Some("CRITICAL"));
        assert_eq!(sum.readings[1].abnormal_flag.as_deref(), Some("LOW"));
        // No stored flag: computed (pulse > 100 is HIGH).
        assert_eq!(sum.readings[2].abnormal_flag.as_deref(), Some("HIGH"));
        assert_eq!(sum.readings[3].unit, "/10");
        assert_eq!(sum.abnormal_count, 3);
        assert_eq!(vitals_summary(&[]).readings.len(), 0);
    }

    fn allergy(
        id: i64,
        name: &str,
        ty: &str,
        severity: Option<&str>,
        origin: &str,
        active: bool,
    ) -> Allergy {
        Allergy {
            allergy_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            allergy_sid: id,
            allergen_local: name.into(),
            allergen_standardized: name.into(),
            allergen_type: s(ty),
            severity: severity.map(str::to_string),
            severity_rank: severity
                .and_then(|s| s.parse::<AllergySeverity>().ok())
                .map(|s| i64::from(s.rank())),
            reactions: None,
            reaction_count: None,
            origination_date: ts(origin),
            observed_date: None,
            historical_or_observed: None,
            originating_site: None,
            originating_site_name: None,
            originating_staff: None,
            comment: None,
            is_active: active,
            verification_status: None,
            is_drug_allergy: ty == "DRUG",
            last_updated: None,
        }
    }

    #[test]
    fn allergies_in_critical_order() {
        let all = vec![
            allergy(1, "PEANUT", "FOOD", Some("SEVERE"), "2025-01-01", true),
            allergy(2, "ASPIRIN", "DRUG", Some("MILD"), "2025-06-01", true),
            allergy(3, "PENICILLIN", "DRUG", Some("SEVERE"), "2020-01-01", true),
            allergy(4, "CODEINE", "DRUG", Some("SEVERE"), "2024-01-01", true),
            allergy(5, "LATEX", "ENVIRONMENTAL", None, "2025-01-01", true),
            allergy(6, "SULFA", "DRUG", Some("SEVERE"), "2025-01-01", false),
        ];
        let (active, counts) = active_allergies(&all);
        let ids: Vec<i64> = active.iter().map(|a| a.allergy_id).collect();
        assert_eq!(ids, [4, 3, 2, 1, 5]);
        assert_eq!(
            counts,
            AllergyCounts {
                total_allergies: 5,
                drug_allergies: 3,
                food_allergies: 1,
                environmental_allergies: 1,
                severe_allergies: 3,
            }
        );
    }

    fn outpatient(
        id: i64,
        issued: &str,
        status: &str,
        controlled: bool,
        dea: Option<&str>,
    ) -> OutpatientMedication {
        OutpatientMedication {
            medication_outpatient_id: id,
            patient_icn: "ICN1".into(),
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            rx_outpat_id: id,
            prescription_number: None,
            local_drug_id: None,
            national_drug_id: None,
            drug_name_local: s(&format!("DRUG {id}")),
            drug_name_national: None,
            generic_name: None,
            trade_name: None,
            drug_strength: None,
            drug_unit: None,
            dosage_form: None,
            drug_class: None,
            drug_class_code: None,
            dea_schedule: dea.map(str::to_string),
            ndc_code: None,
            issue_date: Some(ts(issued)),
            rx_status: s(status),
            rx_status_computed: s(status),
            rx_type: None,
            quantity_ordered: None,
            days_supply: None,
            refills_allowed: None,
            refills_remaining: None,
            unit_dose: None,
            fill_count: None,
            latest_fill_number: None,
            latest_fill_date: None,
            latest_fill_status: None,
            latest_quantity_dispensed: None,
            latest_days_supply: None,
            sig: None,
            sig_route: None,
            sig_schedule: None,
            expiration_date: None,
            discontinued_date: None,
            discontinue_reason: None,
            is_controlled_substance: controlled,
            is_active: status == "ACTIVE",
            days_until_expiration: None,
            provider_name: None,
            ordering_provider_name: None,
            pharmacy_name: None,
            clinic_name: None,
            facility_name: None,
            sta3n: None,
            cmop_indicator: None,
            mail_indicator: None,
            last_updated: None,
        }
    }

    fn inpatient(id: i64, at: &str, controlled: bool) -> InpatientMedication {
        InpatientMedication {
            medication_inpatient_id: id,
            patient_icn: "ICN1".into(),
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            bcma_log_id: id,
            inpatient_sid: None,
            order_number: None,
            local_drug_id: None,
            national_drug_id: None,
            drug_name_local: None,
            drug_name_national: s("MORPHINE"),
            generic_name: None,
            trade_name: None,
            drug_strength: None,
            drug_unit: None,
            dosage_form: None,
            drug_class: None,
            drug_class_code: None,
            dea_schedule: None,
            ndc_code: None,
            action_type: s("given"),
            action_status: None,
            action_datetime: Some(ts(at)),
            scheduled_datetime: None,
            ordered_datetime: None,
            dosage_ordered: None,
            dosage_given: s("2 MG"),
            route: s("IV"),
            unit_of_administration: None,
            schedule_type: None,
            schedule: None,
            administration_variance: false,
            variance_type: None,
            variance_reason: None,
            is_iv_medication: true,
            iv_type: None,
            infusion_rate: None,
            is_controlled_substance: controlled,
            administered_by: None,
            ordering_provider: None,
            ward_name: None,
            facility_name: None,
            sta3n: None,
            last_updated: None,
        }
    }

    #[test]
    fn controlled_substances_are_recognised() {
        assert!(is_controlled(true, None));
        assert!(is_controlled(false, Some("C-II")));
        assert!(is_controlled(false, Some("2N")));
        assert!(!is_controlled(false, Some(" ")));
        assert!(!is_controlled(false, Some("0")));
        assert!(!is_controlled(false, None));
    }

    #[test]
    fn outpatient_status_is_recomputed_for_today() {
        let mut m = outpatient(1, "2025-01-01", "ACTIVE", false, None);
        assert_eq!(outpatient_status(&m, today()), "ACTIVE");
        m.expiration_date = Some(ts("2026-02-07 09:00:00"));
        assert_eq!(outpatient_status(&m, today()), "EXPIRED");
        m.discontinued_date = Some(ts("2026-01-01"));
        assert_eq!(outpatient_status(&m, today()), "DISCONTINUED");
        m.discontinued_date = Some(ts("2026-03-01"));
        m.expiration_date = None;
        assert_eq!(
            outpatient_status(&m, today()),
            "ACTIVE",
            "a future discontinuation"
        );
        m.rx_status_computed = None;
        m.rx_status = Some("hold".into());
        assert_eq!(outpatient_status(&m, today()), "HOLD");
    }

    #[test]
    fn recent_medications_of_each_kind() {
        let out = vec![
            outpatient(1, "2025-01-01", "ACTIVE", false, None),
            outpatient(2, "2025-06-01", "ACTIVE", true, Some("C-II")),
            outpatient(3, "2024-01-01", "EXPIRED", false, None),
            outpatient(4, "2025-03-01", "DISCONTINUED", true, None),
            outpatient(5, "2023-01-01", "ACTIVE", false, Some("C-IV")),
        ];
        let inp = vec![
            inpatient(1, "2025-01-01 08:00:00", true),
            inpatient(2, "2025-01-02 08:00:00", false),
        ];
        let r = recent_medications(&out, &inp, today(), 4);
        let ids: Vec<&str> = r
            .outpatient
            .iter()
            .map(|m| m.medication_id.as_str())
            .collect();
        assert_eq!(ids, ["rxout_2", "rxout_4", "rxout_1", "rxout_3"]);
        assert!(r.outpatient[0].is_controlled);
        assert_eq!(r.outpatient[1].status, "DISCONTINUED");
        assert_eq!(r.inpatient[0].medication_id, "bcma_2");
        assert_eq!(r.inpatient[1].status, "GIVEN");
        assert_eq!(
            r.counts,
            MedicationCounts {
                outpatient_total: 5,
                outpatient_active: 3,
                outpatient_controlled: 3,
                outpatient_active_controlled: 2,
                inpatient_total: 2,
                inpatient_controlled: 1,
            }
        );
        let (o, i, _) = medications(&out, &inp, today());
        let merged = merge_medications(o, i);
        assert_eq!(merged[0].medication_id, "rxout_2");
        assert_eq!(merged.len(), 7);
    }

    fn encounter(id: i64, admit: &str, discharge: Option<&str>, sta3n: &str) -> Encounter {
        Encounter {
            encounter_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            inpatient_id: id,
            encounter_type: "INPATIENT".into(),
            admit_datetime: ts(admit),
            admit_location_id: None,
            admit_location_name: None,
            admit_location_type: None,
            admit_diagnosis_code: None,
            admitting_provider_id: None,
            admitting_provider_name: None,
            discharge_datetime: discharge.map(ts),
            discharge_date_id: None,
            discharge_location_id: None,
            discharge_location_name: None,
            discharge_location_type: None,
            discharge_diagnosis_code: None,
            discharge_diagnosis_text: None,
            discharge_disposition: None,
            length_of_stay: None,
            total_days: None,
            encounter_status: None,
            is_active: discharge.is_none(),
            admission_category: None,
            is_recent: true,
            is_extended_stay: false,
            sta3n: s(sta3n),
            facility_name: None,
            data_source: "CDWWork".into(),
            last_updated: None,
        }
    }

    #[test]
    fn encounter_flags_are_recomputed_for_today() {
        let all = vec![
            encounter(1, "2025-01-01", Some("2025-01-05"), "508"),
            encounter(2, "2026-01-01", None, "508"),
            encounter(3, "2026-01-20", Some("2026-01-25"), "516"),
            encounter(4, "2026-02-01", None, "516"),
        ];
        let (rows, counts) = encounters(&all, today());
        let ids: Vec<i64> = rows.iter().map(|e| e.encounter_id).collect();
        assert_eq!(ids, [4, 3, 2, 1]);
        assert!(!rows[3].is_recent, "stored flag was stale");
        assert!(rows[2].is_extended_stay && rows[2].total_days == Some(37));
        assert!(!rows[0].is_extended_stay);
        assert_eq!(
            counts,
            EncounterCounts {
                total_encounters: 4,
                active_admissions: 2,
                recent_encounters: 3,
                extended_stays: 1,
                facility_count: 2,
            }
        );
        assert_eq!(encounter_source(&rows[0]), "VistA");
    }

    fn lab(
        id: i64,
        test: &str,
        panel: Option<&str>,
        acc: &str,
        at: &str,
        value: &str,
        flag: Option<&str>,
    ) -> Lab {
        Lab {
            lab_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            lab_chem_sid: id,
            lab_test_sid: None,
            lab_test_name: s(test),
            lab_test_code: None,
            loinc_code: None,
            panel_name: panel.map(str::to_string),
            accession_number: acc.into(),
            result_value: s(value),
            result_numeric: value.parse().ok(),
            result_unit: s("mg/dL"),
            abnormal_flag: flag.map(str::to_string),
            is_abnormal: flag.is_some(),
            is_critical: flag == Some("H*"),
            ref_range_text: None,
            ref_range_low: None,
            ref_range_high: None,
            collection_datetime: ts(at),
            result_datetime: None,
            location_id: None,
            collection_location: None,
            collection_location_type: None,
            specimen_type: None,
            sta3n: None,
            facility_name: None,
            performing_lab_sid: None,
            ordering_provider_sid: None,
            vista_package: None,
            last_updated: None,
        }
    }

    #[test]
    fn lab_panels_and_trends() {
        let labs = vec![
            lab(
                1,
                "Glucose",
                Some("BMP"),
                "A1",
                "2026-02-01 08:00:00",
                "182",
                Some("H"),
            ),
            lab(
                2,
                "Creatinine",
                Some("BMP"),
                "A1",
                "2026-02-01 08:00:00",
                "1.1",
                None,
            ),
            lab(
                3,
                "Hemoglobin",
                Some("CBC"),
                "A2",
                "2026-01-15 08:00:00",
                "11.2",
                Some("L"),
            ),
            lab(
                4,
                "Glucose",
                Some("BMP"),
                "A3",
                "2025-12-01 08:00:00",
                "95",
                None,
            ),
            lab(
                5,
                "Glucose",
                Some("BMP"),
                "A4",
                "2025-06-01 08:00:00",
                "99",
                None,
            ),
            lab(
                6,
                "Hemoglobin A1c",
                None,
                "A5",
                "2026-02-02 08:00:00",
                "7.9",
                Some("H"),
            ),
        ];
        let panels = recent_panels(&labs, 3);
        let keys: Vec<(&str, &str)> = panels
            .iter()
            .map(|p| (p.panel_name.as_str(), p.accession_number.as_str()))
            .collect();
        assert_eq!(keys, [("BMP", "A1"), ("CBC", "A2"), ("BMP", "A3")]);
        assert_eq!(panels[0].results.len(), 2);
        assert_eq!(panels[0].abnormal_count, 1);
        let trends = lab_trends(&labs, today());
        assert_eq!(trends.len(), 3);
        assert_eq!(trends[0].test_name, "Glucose");
        assert_eq!(trends[0].latest_value.as_deref(), Some("182"));
        assert_eq!(trends[0].points, 2, "June is outside 90 days");
        assert_eq!(trends[2].latest_value.as_deref(), Some("11.2"), "not HbA1c");
        let counts = lab_counts(&labs);
        assert_eq!((counts.total, counts.abnormal, counts.critical), (6, 3, 0));
        assert_eq!(counts.panels[INDIVIDUAL_TESTS], 1);
        assert_eq!(counts.panels["BMP"], 4);
    }

    fn note(id: i64, class: &str, at: &str) -> Note {
        Note {
            note_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            tiu_document_sid: id,
            document_definition_sid: None,
            document_title: s("PRIMARY CARE NOTE"),
            document_class: class.into(),
            vha_standard_title: None,
            status: s("COMPLETED"),
            reference_datetime: ts(at),
            entry_datetime: None,
            author_sid: None,
            author_name: s("SMITH,JANE"),
            cosigner_sid: None,
            cosigner_name: None,
            visit_sid: None,
            sta3n: None,
            facility_name: None,
            text_length: None,
            text_preview: s("Patient seen."),
            tiu_document_ien: None,
            last_updated: None,
        }
    }

    #[test]
    fn recent_notes() {
        let notes = vec![
            note(1, "Progress Notes", "2025-01-01"),
            note(2, "Consults", "2026-01-01"),
            note(3, "Progress Notes", "2025-06-01"),
            note(4, "Progress Notes", "2026-01-01"),
        ];
        let sum = notes_summary(&notes, 3);
        let ids: Vec<i64> = sum.recent_notes.iter().map(|n| n.note_id).collect();
        assert_eq!(ids, [2, 4, 3]);
        assert_eq!(sum.total_notes, 4);
        assert_eq!(sum.notes_by_class["Progress Notes"], 3);
    }

    fn imm(id: i64, at: &str, complete: Option<bool>, reaction: bool) -> Immunization {
        Immunization {
            immunization_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            immunization_sid: format!("V-{id}"),
            cvx_code: None,
            vaccine_name: s("INFLUENZA"),
            vaccine_name_local: None,
            administered_datetime: ts(at),
            series: None,
            dose_number: None,
            total_doses: None,
            is_series_complete: complete,
            dose: None,
            route: None,
            site_of_administration: None,
            adverse_reaction: None,
            has_adverse_reaction: reaction,
            provider_name: None,
            location_sid: None,
            location_name: None,
            location_type: None,
            station_name: None,
            sta3n: None,
            comments: None,
            is_annual_vaccine: true,
            is_covid_vaccine: false,
            last_updated: None,
        }
    }

    #[test]
    fn immunizations_recent_two_years() {
        let imms = vec![
            imm(1, "2024-02-08", Some(false), false),
            imm(2, "2024-02-07", None, true),
            imm(3, "2025-10-01", Some(true), false),
            imm(4, "2020-01-01", Some(false), true),
        ];
        let recent = recent_immunizations(&imms, today(), 5);
        let ids: Vec<i64> = recent.iter().map(|i| i.immunization_id).collect();
        assert_eq!(ids, [3, 1]);
        let c = immunization_counts(&imms, today());
        assert_eq!(
            (
                c.total,
                c.incomplete,
                c.with_reactions,
                c.recent_2y,
                c.annual
            ),
            (4, 2, 2, 2, 4)
        );
    }

    fn problem(
        id: i64,
        status: &str,
        icd: &str,
        charlson: Option<(&str, i64)>,
        chronic: bool,
        onset: Option<&str>,
    ) -> Problem {
        Problem {
            problem_id: id,
            patient_key: "ICN1".into(),
            patient_icn: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            problem_sid: id,
            problem_number: None,
            icd10_code: s(icd),
            icd10_description: s(&format!("desc {icd}")),
            icd10_category: None,
            snomed_code: None,
            snomed_description: None,
            diagnosis_description: None,
            problem_status: status.into(),
            acute_condition: None,
            chronic_condition: Some(chronic),
            service_connected: None,
            onset_date: onset.map(d),
            recorded_date: None,
            last_modified_date: None,
            resolved_date: None,
            entered_datetime: None,
            provider_id: None,
            provider_name: None,
            clinic_location: None,
            facility_id: None,
            entered_by_name: None,
            source_ehr: "VistA".into(),
            icd10_chronic_flag: None,
            icd10_charlson_condition: charlson.map(|c| c.0.to_string()),
            charlson_weight: charlson.map(|c| c.1),
            charlson_index: 0,
            charlson_condition_count: 0,
            total_problem_count: 0,
            active_problem_count: 0,
            inactive_problem_count: 0,
            resolved_problem_count: 0,
            chronic_problem_count: 0,
            service_connected_count: 0,
            has_chf: false,
            has_cad: false,
            has_afib: false,
            has_hypertension: false,
            has_copd: false,
            has_asthma: false,
            has_diabetes: false,
            has_hyperlipidemia: false,
            has_ckd: false,
            has_depression: false,
            has_ptsd: false,
            has_anxiety: false,
            has_cancer: false,
            has_osteoarthritis: false,
            has_back_pain: false,
            last_updated: None,
        }
    }

    #[test]
    fn charlson_is_computed_from_active_rows() {
        let problems = vec![
            problem(
                1,
                "Active",
                "I50.9",
                Some(("Congestive Heart Failure", 1)),
                true,
                Some("2020-01-01"),
            ),
            problem(
                2,
                "Active",
                "E11.22",
                Some(("Diabetes with complications", 2)),
                true,
                Some("2018-01-01"),
            ),
            // Same condition twice: counted once.
            problem(
                3,
                "Active",
                "I50.22",
                Some(("Congestive Heart Failure", 1)),
                true,
                Some("2021-01-01"),
            ),
            problem(4, "Active", "I10", None, true, Some("2015-01-01")),
            problem(
                5,
                "Resolved",
                "C50.9",
                Some(("Any Malignancy", 2)),
                false,
                Some("2010-01-01"),
            ),
            problem(
                6,
                "Active",
                "N18.4",
                Some(("Moderate or Severe Renal Disease", 0)),
                true,
                None,
            ),
            problem(7, "Active", "J06.9", None, false, Some("2025-01-01")),
        ];
        assert_eq!(charlson_of_problems(&problems), (5, 3));
        let sum = problems_summary(&problems, 8);
        assert_eq!(sum.charlson_index, 5);
        assert_eq!(sum.charlson_risk, "High");
        assert_eq!(sum.total_active, 6);
        assert_eq!(sum.total_chronic, 5);
        assert!(sum.has_chf && sum.has_ckd && sum.has_diabetes && !sum.has_copd);
        assert!(sum.has_critical_conditions);
        let ids: Vec<i64> = sum.problems.iter().map(|p| p.problem_id).collect();
        // Charlson condition DESC (text), chronic, onset DESC.
        assert_eq!(ids, [6, 2, 3, 1, 4, 7]);
        assert_eq!(problems_summary(&problems, 2).problems.len(), 2);
        assert_eq!(problems_summary(&[], 8).charlson_risk, "None");
        let mut list = problems.clone();
        list.sort_by(problem_list_order);
        assert_eq!(list.last().map(|p| p.problem_id), Some(5));
    }

    fn fh(
        id: i64,
        code: &str,
        hereditary: bool,
        recorded: Option<&str>,
        active: bool,
    ) -> FamilyHistory {
        FamilyHistory {
            family_history_id: id,
            patient_icn: "ICN1".into(),
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            source_ehr: "VistA".into(),
            relationship_code: s(code),
            relationship_name: code.to_string(),
            relationship_degree: None,
            condition_code: None,
            condition_name: format!("Condition {}", id % 3),
            snomed_code: None,
            icd10_code: None,
            condition_category: None,
            risk_condition_group: None,
            hereditary_risk_flag: hereditary,
            first_degree_relative_flag: false,
            clinical_status: None,
            is_active: active,
            family_member_gender: None,
            family_member_age: None,
            family_member_deceased: None,
            onset_age_years: None,
            recorded_datetime: recorded.map(ts),
            entered_datetime: None,
            encounter_sid: None,
            facility_id: None,
            provider_id: None,
            provider_name: None,
            location_id: None,
            comment_text: None,
            family_history_count_total: 0,
            family_history_count_active: 0,
            family_history_count_first_degree: 0,
            family_history_count_first_degree_high_risk: 0,
            last_updated: None,
        }
    }

    #[test]
    fn family_history_risk() {
        let rows = vec![
            fh(1, "MOTHER", true, Some("2025-01-01"), true),
            fh(2, "UNCLE", true, Some("2026-01-01"), true),
            fh(3, "Father", false, None, false),
            fh(4, "SISTER", true, Some("2020-01-01"), true),
        ];
        let c = family_history_counts(&rows, today());
        assert_eq!(
            (c.total, c.active, c.first_degree, c.first_degree_high_risk),
            (4, 3, 3, 2)
        );
        assert_eq!((c.distinct_conditions, c.recent_2y), (3, 2));
        assert_eq!(c.last_recorded_datetime, Some(ts("2026-01-01")));
        let ids: Vec<i64> = recent_family_history(&rows, 5)
            .iter()
            .map(|f| f.family_history_id)
            .collect();
        assert_eq!(ids, [2, 1, 4, 3]);
    }

    fn task(id: i64, p: TaskPriority, s: TaskStatus, created: &str) -> Task {
        Task {
            task_id: id,
            patient_key: "ICN1".into(),
            title: format!("Task {id}"),
            description: None,
            priority: p,
            status: s,
            created_by_user_id: "u".into(),
            created_by_display_name: None,
            completed_by_user_id: None,
            completed_by_display_name: None,
            is_ai_generated: false,
            ai_suggestion_source: None,
            created_at: ts(created),
            updated_at: ts(created),
            completed_at: None,
        }
    }

    #[test]
    fn active_tasks_by_priority_then_newest() {
        use TaskPriority::*;
        use TaskStatus::*;
        let tasks = vec![
            task(1, Low, Todo, "2026-01-05"),
            task(2, High, Todo, "2026-01-01"),
            task(3, High, InProgress, "2026-01-03"),
            task(4, Medium, Completed, "2026-01-06"),
            task(5, Medium, Todo, "2026-01-02"),
        ];
        let ids: Vec<i64> = active_tasks(&tasks, 8).iter().map(|t| t.task_id).collect();
        assert_eq!(ids, [3, 2, 5, 1]);
        assert_eq!(active_tasks(&tasks, 2).len(), 2);
        let c = task_counts(&tasks);
        assert_eq!(
            (
                c.total,
                c.active,
                c.todo,
                c.in_progress,
                c.completed,
                c.high_priority
            ),
            (5, 4, 3, 1, 1, 2)
        );
    }

    fn flag(id: i64, category: &str, active: bool, next_review: Option<&str>) -> Flag {
        Flag {
            flag_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            assignment_id: id,
            flag_name: "F".into(),
            flag_category: category.into(),
            flag_type: None,
            is_active: active,
            assignment_status: None,
            assignment_date: None,
            inactivation_date: None,
            owner_site: None,
            owner_site_name: None,
            originating_site: None,
            originating_site_name: None,
            review_frequency_days: None,
            review_notification_days: Some(14),
            last_review_date: None,
            next_review_date: next_review.map(ts),
            review_status: None,
            last_action_date: None,
            last_action: None,
            last_action_by: None,
            last_updated: None,
        }
    }

    #[test]
    fn flag_counts_cover_every_flag() {
        let flags = vec![
            flag(1, "I", true, Some("2025-01-10")),
            flag(2, "II", false, Some("2020-01-01")),
            flag(3, "II", true, Some("2026-02-10")),
            flag(4, "I", true, None),
        ];
        let c = flag_counts(&flags, today());
        assert_eq!(
            c,
            FlagCounts {
                total_flags: 4,
                active_flags: 3,
                inactive_flags: 1,
                national_flags: 2,
                local_flags: 2,
                active_national_flags: 2,
                active_local_flags: 1,
                overdue_count: 1,
            }
        );
        assert_eq!(
            flag_review_status(&flags[2], today()),
            ReviewStatus::DueSoon
        );
        assert_eq!(
            flag_review_status(&flags[1], today()),
            ReviewStatus::NotApplicable
        );
    }
}
