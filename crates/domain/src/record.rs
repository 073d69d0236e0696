//! The read model of the serving database: one plain row struct per serving
//! table the web reads, plus the task write types.
//!
//! Field names are the column names (API renames are the web's job), so each
//! field is documented by the column of the same name in
//! `migrations/*/0001_serving.sql` and in the reference (original-webapp
//! §2–3); only fields with a rule worth stating carry their own doc. The
//! `store` crate fills these from either backend (`store::record`); this
//! module does no IO.
//!
//! Dates are [`NaiveDate`], timestamps [`NaiveDateTime`] (UTC, no zone), so
//! both backends decode to identical values.
//!
//! With the `openapi` feature every type also derives `utoipa::ToSchema`.

// The fields mirror the serving columns one to one; see the module docs.
#![allow(missing_docs)]

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// How a patient search reads its text (reference: original-webapp §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    /// Case-insensitive name search (see `store::Store::search_patients`).
    #[default]
    Name,
    /// Exact ICN.
    Icn,
}

/// A patient search result: the fields of the search list and of the
/// patient header (reference: original-webapp §2.2–2.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientSummary {
    pub icn: String,
    /// `LAST, First`.
    pub name_display: Option<String>,
    pub name_last: Option<String>,
    pub name_first: Option<String>,
    pub sex: Option<String>,
    pub age: Option<i64>,
    pub dob: Option<NaiveDate>,
    /// Last four digits of the SSN; the full SSN is never exposed.
    pub ssn_last4: Option<String>,
    pub primary_station: Option<String>,
    pub primary_station_name: Option<String>,
    /// `Y` or `N`.
    pub deceased_flag: Option<String>,
    pub death_date: Option<NaiveDate>,
}

/// One qualifier of a vital-sign reading, e.g. `POSITION` / `SITTING`
/// (types POSITION, SITE, CUFF SIZE, METHOD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VitalQualifier {
    pub qualifier_type: Option<String>,
    pub qualifier_name: Option<String>,
}

/// A clinical note with its full text (the note detail view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteDetail {
    /// Every list column, flattened into this object.
    #[serde(flatten)]
    pub note: Note,
    pub document_text: Option<String>,
}

/// Task priority; the derived order (High, Medium, Low) is the list order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskPriority {
    High,
    #[default]
    Medium,
    Low,
}

/// Task status (reference: original-webapp §3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    #[default]
    Todo,
    InProgress,
    Completed,
}

/// A stored or submitted task field that is not one of the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown task {field} `{value}`")]
pub struct TaskValueError {
    /// `priority` or `status`.
    pub field: &'static str,
    pub value: String,
}

impl TaskPriority {
    /// Every priority, in list order.
    pub const ALL: [Self; 3] = [Self::High, Self::Medium, Self::Low];

    /// Stored spelling: `HIGH`, `MEDIUM`, `LOW`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "HIGH",
            Self::Medium => "MEDIUM",
            Self::Low => "LOW",
        }
    }
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Todo, Self::InProgress, Self::Completed];

    /// Stored spelling: `TODO`, `IN_PROGRESS`, `COMPLETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "TODO",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
        }
    }

    /// `TODO` or `IN_PROGRESS` (the "active" filter and the widget).
    pub fn is_active(self) -> bool {
        self != Self::Completed
    }
}

impl FromStr for TaskPriority {
    type Err = TaskValueError;
    /// Exact stored spelling, ASCII case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| TaskValueError {
                field: "priority",
                value: s.to_string(),
            })
    }
}

impl FromStr for TaskStatus {
    type Err = TaskValueError;
    /// Exact stored spelling, ASCII case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| TaskValueError {
                field: "status",
                value: s.to_string(),
            })
    }
}

impl fmt::Display for TaskPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest task title, in characters (the table's CHECK).
pub const TASK_TITLE_MAX_CHARS: usize = 500;

/// Whether `title` is an acceptable task title: 1 to
/// [`TASK_TITLE_MAX_CHARS`] characters after trimming.
pub fn task_title_is_valid(title: &str) -> bool {
    let n = title.trim().chars().count();
    (1..=TASK_TITLE_MAX_CHARS).contains(&n)
}

/// A task to create. It starts as `TODO`; timestamps come from the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTask {
    /// The patient's ICN.
    pub patient_key: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(default)]
    pub priority: TaskPriority,
    pub created_by_user_id: String,
    pub created_by_display_name: Option<String>,
    #[serde(default)]
    pub is_ai_generated: bool,
    pub ai_suggestion_source: Option<String>,
}

/// A partial task edit: `None` leaves a field unchanged;
/// `description: Some(None)` clears the description.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskUpdate {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub priority: Option<TaskPriority>,
}

impl TaskUpdate {
    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.priority.is_none()
    }
}

/// A patient's demographics: `clinical.patient_demographics` without the
/// full `ssn`, which is never read out of the database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demographics {
    /// Equals the ICN.
    pub patient_key: String,
    pub icn: String,
    pub source_system: String,
    pub source_id: String,
    /// Last four digits of the SSN; the full SSN is never exposed.
    pub ssn_last4: Option<String>,
    pub name_last: Option<String>,
    pub name_first: Option<String>,
    /// `LAST, First`.
    pub name_display: Option<String>,
    pub dob: Option<NaiveDate>,
    pub age: Option<i64>,
    pub sex: Option<String>,
    pub gender: Option<String>,
    pub primary_station: Option<String>,
    pub primary_station_name: Option<String>,
    pub address_street1: Option<String>,
    pub address_street2: Option<String>,
    pub address_city: Option<String>,
    pub address_state: Option<String>,
    pub address_zip: Option<String>,
    pub phone_primary: Option<String>,
    pub insurance_company_name: Option<String>,
    pub marital_status: Option<String>,
    pub religion: Option<String>,
    pub service_connected_percent: Option<f64>,
    /// `Y` or `N`.
    pub deceased_flag: Option<String>,
    pub death_date: Option<NaiveDate>,
    pub veteran_status: Option<String>,
    pub is_test_patient: bool,
    pub is_sensitive: bool,
    pub last_updated: Option<NaiveDateTime>,
}

/// `clinical.patient_military_history`: service connection and exposures
/// (flags are `Y`/`N`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilitaryHistory {
    pub patient_key: String,
    pub icn: String,
    pub source_system: String,
    pub source_id: String,
    pub service_connected_flag: Option<String>,
    pub service_connected_percent: Option<f64>,
    pub agent_orange_exposure: Option<String>,
    pub agent_orange_location: Option<String>,
    pub ionizing_radiation: Option<String>,
    pub pow_status: Option<String>,
    pub pow_location: Option<String>,
    pub shad_flag: Option<String>,
    pub sw_asia_exposure: Option<String>,
    pub camp_lejeune_flag: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One vital-sign reading (`clinical.patient_vitals`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vital {
    pub vital_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub vital_sign_id: Option<i64>,
    pub vital_type: String,
    pub vital_abbr: Option<String>,
    pub taken_datetime: NaiveDateTime,
    pub entered_datetime: Option<NaiveDateTime>,
    pub result_value: Option<String>,
    pub numeric_value: Option<f64>,
    pub systolic: Option<i64>,
    pub diastolic: Option<i64>,
    pub metric_value: Option<f64>,
    pub unit_of_measure: Option<String>,
    /// The reading's qualifiers, decoded from the JSON column (empty when
    /// NULL or unreadable).
    pub qualifiers: Vec<VitalQualifier>,
    pub location_id: Option<i64>,
    pub location_name: Option<String>,
    pub location_type: Option<String>,
    pub entered_by: Option<String>,
    pub abnormal_flag: Option<String>,
    pub bmi: Option<f64>,
    pub sta3n: Option<String>,
    pub facility_name: Option<String>,
    pub data_source: String,
    pub last_updated: Option<NaiveDateTime>,
}

/// One allergy (`clinical.patient_allergies`). The store returns active and
/// inactive rows; the web filters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allergy {
    pub allergy_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub allergy_sid: i64,
    pub allergen_local: String,
    pub allergen_standardized: String,
    pub allergen_type: Option<String>,
    pub severity: Option<String>,
    /// 1 mild, 2 moderate, 3 severe.
    pub severity_rank: Option<i64>,
    /// Comma-separated reaction names; see [`AllergyReaction`] for one row
    /// per reaction.
    pub reactions: Option<String>,
    pub reaction_count: Option<i64>,
    pub origination_date: NaiveDateTime,
    pub observed_date: Option<NaiveDateTime>,
    pub historical_or_observed: Option<String>,
    pub originating_site: Option<String>,
    pub originating_site_name: Option<String>,
    pub originating_staff: Option<String>,
    pub comment: Option<String>,
    pub is_active: bool,
    pub verification_status: Option<String>,
    pub is_drug_allergy: bool,
    pub last_updated: Option<NaiveDateTime>,
}

/// One reaction of an allergy (`clinical.patient_allergy_reactions`), joined
/// to its [`Allergy`] by `allergy_sid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllergyReaction {
    pub reaction_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub allergy_sid: i64,
    pub reaction_name: String,
    pub last_updated: Option<NaiveDateTime>,
}

/// One outpatient prescription (`clinical.patient_medications_outpatient`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutpatientMedication {
    pub medication_outpatient_id: i64,
    pub patient_icn: String,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub rx_outpat_id: i64,
    pub prescription_number: Option<String>,
    pub local_drug_id: Option<i64>,
    pub national_drug_id: Option<i64>,
    pub drug_name_local: Option<String>,
    pub drug_name_national: Option<String>,
    pub generic_name: Option<String>,
    pub trade_name: Option<String>,
    pub drug_strength: Option<String>,
    pub drug_unit: Option<String>,
    pub dosage_form: Option<String>,
    pub drug_class: Option<String>,
    pub drug_class_code: Option<String>,
    pub dea_schedule: Option<String>,
    pub ndc_code: Option<String>,
    pub issue_date: Option<NaiveDateTime>,
    pub rx_status: Option<String>,
    pub rx_status_computed: Option<String>,
    pub rx_type: Option<String>,
    pub quantity_ordered: Option<f64>,
    pub days_supply: Option<i64>,
    pub refills_allowed: Option<i64>,
    pub refills_remaining: Option<i64>,
    pub unit_dose: Option<String>,
    pub fill_count: Option<i64>,
    pub latest_fill_number: Option<i64>,
    pub latest_fill_date: Option<NaiveDateTime>,
    pub latest_fill_status: Option<String>,
    pub latest_quantity_dispensed: Option<f64>,
    pub latest_days_supply: Option<i64>,
    pub sig: Option<String>,
    pub sig_route: Option<String>,
    pub sig_schedule: Option<String>,
    pub expiration_date: Option<NaiveDateTime>,
    pub discontinued_date: Option<NaiveDateTime>,
    pub discontinue_reason: Option<String>,
    pub is_controlled_substance: bool,
    pub is_active: bool,
    pub days_until_expiration: Option<i64>,
    pub provider_name: Option<String>,
    pub ordering_provider_name: Option<String>,
    pub pharmacy_name: Option<String>,
    pub clinic_name: Option<String>,
    pub facility_name: Option<String>,
    pub sta3n: Option<String>,
    pub cmop_indicator: Option<String>,
    pub mail_indicator: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One inpatient (BCMA) administration
/// (`clinical.patient_medications_inpatient`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InpatientMedication {
    pub medication_inpatient_id: i64,
    pub patient_icn: String,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub bcma_log_id: i64,
    pub inpatient_sid: Option<i64>,
    pub order_number: Option<String>,
    pub local_drug_id: Option<i64>,
    pub national_drug_id: Option<i64>,
    pub drug_name_local: Option<String>,
    pub drug_name_national: Option<String>,
    pub generic_name: Option<String>,
    pub trade_name: Option<String>,
    pub drug_strength: Option<String>,
    pub drug_unit: Option<String>,
    pub dosage_form: Option<String>,
    pub drug_class: Option<String>,
    pub drug_class_code: Option<String>,
    pub dea_schedule: Option<String>,
    pub ndc_code: Option<String>,
    pub action_type: Option<String>,
    pub action_status: Option<String>,
    pub action_datetime: Option<NaiveDateTime>,
    pub scheduled_datetime: Option<NaiveDateTime>,
    pub ordered_datetime: Option<NaiveDateTime>,
    pub dosage_ordered: Option<String>,
    pub dosage_given: Option<String>,
    pub route: Option<String>,
    pub unit_of_administration: Option<String>,
    pub schedule_type: Option<String>,
    pub schedule: Option<String>,
    pub administration_variance: bool,
    pub variance_type: Option<String>,
    pub variance_reason: Option<String>,
    pub is_iv_medication: bool,
    pub iv_type: Option<String>,
    pub infusion_rate: Option<String>,
    pub is_controlled_substance: bool,
    pub administered_by: Option<String>,
    pub ordering_provider: Option<String>,
    pub ward_name: Option<String>,
    pub facility_name: Option<String>,
    pub sta3n: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One patient record flag assignment (`clinical.patient_flags`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flag {
    pub flag_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub assignment_id: i64,
    pub flag_name: String,
    /// `I` (national) or `II` (local).
    pub flag_category: String,
    pub flag_type: Option<String>,
    pub is_active: bool,
    pub assignment_status: Option<String>,
    pub assignment_date: Option<NaiveDateTime>,
    pub inactivation_date: Option<NaiveDateTime>,
    pub owner_site: Option<String>,
    pub owner_site_name: Option<String>,
    pub originating_site: Option<String>,
    pub originating_site_name: Option<String>,
    pub review_frequency_days: Option<i64>,
    pub review_notification_days: Option<i64>,
    pub last_review_date: Option<NaiveDateTime>,
    pub next_review_date: Option<NaiveDateTime>,
    /// `CURRENT`, `DUE SOON` or `OVERDUE` (computed by the ETL).
    pub review_status: Option<String>,
    pub last_action_date: Option<NaiveDateTime>,
    pub last_action: Option<String>,
    pub last_action_by: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One event in a flag assignment's history
/// (`clinical.patient_flag_history`). `history_comments` is sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagHistoryEntry {
    pub history_id: i64,
    pub assignment_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub history_date: NaiveDateTime,
    pub action_code: Option<i64>,
    pub action_name: Option<String>,
    pub entered_by_duz: Option<i64>,
    pub entered_by_name: Option<String>,
    pub approved_by_duz: Option<i64>,
    pub approved_by_name: Option<String>,
    pub tiu_document_ien: Option<i64>,
    pub history_comments: Option<String>,
    pub event_site: Option<String>,
    pub event_site_name: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One inpatient admission (`clinical.patient_encounters`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Encounter {
    pub encounter_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub inpatient_id: i64,
    pub encounter_type: String,
    pub admit_datetime: NaiveDateTime,
    pub admit_location_id: Option<i64>,
    pub admit_location_name: Option<String>,
    pub admit_location_type: Option<String>,
    pub admit_diagnosis_code: Option<String>,
    pub admitting_provider_id: Option<i64>,
    pub admitting_provider_name: Option<String>,
    pub discharge_datetime: Option<NaiveDateTime>,
    pub discharge_date_id: Option<i64>,
    pub discharge_location_id: Option<i64>,
    pub discharge_location_name: Option<String>,
    pub discharge_location_type: Option<String>,
    pub discharge_diagnosis_code: Option<String>,
    pub discharge_diagnosis_text: Option<String>,
    pub discharge_disposition: Option<String>,
    pub length_of_stay: Option<i64>,
    pub total_days: Option<i64>,
    pub encounter_status: Option<String>,
    pub is_active: bool,
    pub admission_category: Option<String>,
    pub is_recent: bool,
    pub is_extended_stay: bool,
    pub sta3n: Option<String>,
    pub facility_name: Option<String>,
    pub data_source: String,
    pub last_updated: Option<NaiveDateTime>,
}

/// One chemistry result (`clinical.patient_labs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lab {
    pub lab_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub lab_chem_sid: i64,
    pub lab_test_sid: Option<i64>,
    pub lab_test_name: Option<String>,
    pub lab_test_code: Option<String>,
    pub loinc_code: Option<String>,
    /// NULL for an individual test.
    pub panel_name: Option<String>,
    pub accession_number: String,
    pub result_value: Option<String>,
    pub result_numeric: Option<f64>,
    pub result_unit: Option<String>,
    pub abnormal_flag: Option<String>,
    pub is_abnormal: bool,
    pub is_critical: bool,
    pub ref_range_text: Option<String>,
    pub ref_range_low: Option<f64>,
    pub ref_range_high: Option<f64>,
    pub collection_datetime: NaiveDateTime,
    pub result_datetime: Option<NaiveDateTime>,
    pub location_id: Option<i64>,
    pub collection_location: Option<String>,
    pub collection_location_type: Option<String>,
    pub specimen_type: Option<String>,
    pub sta3n: Option<String>,
    pub facility_name: Option<String>,
    pub performing_lab_sid: Option<i64>,
    pub ordering_provider_sid: Option<i64>,
    pub vista_package: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// A clinical note in list form (`clinical.patient_clinical_notes` without
/// `document_text`); see [`NoteDetail`] for the full text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub note_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub tiu_document_sid: i64,
    pub document_definition_sid: Option<i64>,
    pub document_title: Option<String>,
    pub document_class: String,
    pub vha_standard_title: Option<String>,
    pub status: Option<String>,
    pub reference_datetime: NaiveDateTime,
    pub entry_datetime: Option<NaiveDateTime>,
    pub author_sid: Option<i64>,
    pub author_name: Option<String>,
    pub cosigner_sid: Option<i64>,
    pub cosigner_name: Option<String>,
    pub visit_sid: Option<i64>,
    pub sta3n: Option<String>,
    pub facility_name: Option<String>,
    pub text_length: Option<i64>,
    pub text_preview: Option<String>,
    pub tiu_document_ien: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
}

/// One administered vaccine (`clinical.patient_immunizations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Immunization {
    pub immunization_id: i64,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub immunization_sid: String,
    pub cvx_code: Option<String>,
    pub vaccine_name: Option<String>,
    pub vaccine_name_local: Option<String>,
    pub administered_datetime: NaiveDateTime,
    pub series: Option<String>,
    pub dose_number: Option<i64>,
    pub total_doses: Option<i64>,
    pub is_series_complete: Option<bool>,
    pub dose: Option<String>,
    pub route: Option<String>,
    pub site_of_administration: Option<String>,
    pub adverse_reaction: Option<String>,
    pub has_adverse_reaction: bool,
    pub provider_name: Option<String>,
    pub location_sid: Option<i64>,
    pub location_name: Option<String>,
    pub location_type: Option<String>,
    pub station_name: Option<String>,
    pub sta3n: Option<String>,
    pub comments: Option<String>,
    pub is_annual_vaccine: bool,
    pub is_covid_vaccine: bool,
    pub last_updated: Option<NaiveDateTime>,
}

/// One problem-list entry (`clinical.patient_problems`), carrying the
/// patient-level aggregates (Charlson index, counts, `has_*` condition flags)
/// denormalised onto every row.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    pub problem_id: i64,
    pub patient_key: String,
    pub patient_icn: String,
    pub source_system: String,
    pub source_id: String,
    pub problem_sid: i64,
    pub problem_number: Option<String>,
    pub icd10_code: Option<String>,
    pub icd10_description: Option<String>,
    pub icd10_category: Option<String>,
    pub snomed_code: Option<String>,
    pub snomed_description: Option<String>,
    pub diagnosis_description: Option<String>,
    /// `Active`, `Inactive` or `Resolved` (see [`crate::problems::ProblemStatus`]).
    pub problem_status: String,
    pub acute_condition: Option<bool>,
    pub chronic_condition: Option<bool>,
    pub service_connected: Option<bool>,
    pub onset_date: Option<NaiveDate>,
    pub recorded_date: Option<NaiveDate>,
    pub last_modified_date: Option<NaiveDate>,
    pub resolved_date: Option<NaiveDate>,
    pub entered_datetime: Option<NaiveDateTime>,
    pub provider_id: Option<String>,
    pub provider_name: Option<String>,
    pub clinic_location: Option<String>,
    pub facility_id: Option<String>,
    pub entered_by_name: Option<String>,
    pub source_ehr: String,
    pub icd10_chronic_flag: Option<String>,
    pub icd10_charlson_condition: Option<String>,
    pub charlson_weight: Option<i64>,
    /// Patient-level Charlson comorbidity index (same on every row).
    pub charlson_index: i64,
    pub charlson_condition_count: i64,
    pub total_problem_count: i64,
    pub active_problem_count: i64,
    pub inactive_problem_count: i64,
    pub resolved_problem_count: i64,
    pub chronic_problem_count: i64,
    pub service_connected_count: i64,
    pub has_chf: bool,
    pub has_cad: bool,
    pub has_afib: bool,
    pub has_hypertension: bool,
    pub has_copd: bool,
    pub has_asthma: bool,
    pub has_diabetes: bool,
    pub has_hyperlipidemia: bool,
    pub has_ckd: bool,
    pub has_depression: bool,
    pub has_ptsd: bool,
    pub has_anxiety: bool,
    pub has_cancer: bool,
    pub has_osteoarthritis: bool,
    pub has_back_pain: bool,
    pub last_updated: Option<NaiveDateTime>,
}

/// One family-history entry (`clinical.patient_family_history`), with the
/// patient-level counts denormalised onto every row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyHistory {
    pub family_history_id: i64,
    pub patient_icn: String,
    pub patient_key: String,
    pub source_system: String,
    pub source_id: String,
    pub source_ehr: String,
    pub relationship_code: Option<String>,
    pub relationship_name: String,
    pub relationship_degree: Option<String>,
    pub condition_code: Option<String>,
    pub condition_name: String,
    pub snomed_code: Option<String>,
    pub icd10_code: Option<String>,
    pub condition_category: Option<String>,
    pub risk_condition_group: Option<String>,
    pub hereditary_risk_flag: bool,
    pub first_degree_relative_flag: bool,
    pub clinical_status: Option<String>,
    pub is_active: bool,
    pub family_member_gender: Option<String>,
    pub family_member_age: Option<i64>,
    pub family_member_deceased: Option<bool>,
    pub onset_age_years: Option<i64>,
    pub recorded_datetime: Option<NaiveDateTime>,
    pub entered_datetime: Option<NaiveDateTime>,
    pub encounter_sid: Option<i64>,
    pub facility_id: Option<String>,
    pub provider_id: Option<i64>,
    pub provider_name: Option<String>,
    pub location_id: Option<i64>,
    pub comment_text: Option<String>,
    pub family_history_count_total: i64,
    pub family_history_count_active: i64,
    pub family_history_count_first_degree: i64,
    pub family_history_count_first_degree_high_risk: i64,
    pub last_updated: Option<NaiveDateTime>,
}

/// A clinical task (`clinical.patient_tasks`), the one table the web writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub task_id: i64,
    pub patient_key: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: TaskPriority,
    pub status: TaskStatus,
    /// `auth.users.user_id` of the creator.
    pub created_by_user_id: String,
    pub created_by_display_name: Option<String>,
    pub completed_by_user_id: Option<String>,
    pub completed_by_display_name: Option<String>,
    pub is_ai_generated: bool,
    pub ai_suggestion_source: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when the task enters `COMPLETED`, cleared when it leaves it
    /// (as are `completed_by_*`).
    pub completed_at: Option<NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_enums_round_trip_their_stored_spelling() {
        for p in TaskPriority::ALL {
            assert_eq!(p.as_str().parse::<TaskPriority>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).ok(),
                Some(format!("\"{}\"", p.as_str()))
            );
        }
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().to_lowercase().parse::<TaskStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).ok(),
                Some(format!("\"{}\"", s.as_str()))
            );
        }
        assert!("URGENT".parse::<TaskPriority>().is_err());
        assert!(TaskStatus::InProgress.is_active() && !TaskStatus::Completed.is_active());
        assert!(TaskPriority::High < TaskPriority::Low);
    }

    #[test]
    fn titles_are_checked_like_the_table() {
        assert!(task_title_is_valid("Order A1c"));
        assert!(!task_title_is_valid("   "));
        assert!(task_title_is_valid(&"é".repeat(500)));
        assert!(!task_title_is_valid(&"x".repeat(501)));
    }

    #[test]
    fn search_kind_reads_the_form_values() {
        assert_eq!(
            serde_json::from_str::<SearchKind>("\"icn\"").ok(),
            Some(SearchKind::Icn)
        );
        assert_eq!(SearchKind::default(), SearchKind::Name);
    }
}
