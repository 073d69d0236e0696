//! The serving tables the ETL loads, as data.
//!
//! The migrations under `migrations/{sqlite,postgres}` create these tables;
//! the shared store test suite checks that both backends carry exactly these
//! columns with these types, and the loader uses the column lists to map a
//! gold batch onto a table.
//!
//! Every ETL-loaded clinical table has `source_system` + `source_id`, unique
//! together: rows from CDWWork and CDWWork2 (or VistA) can never collide on a
//! key, whatever their SIDs are.

use columnar::Kind;

/// Column type in the serving DB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColType {
    Text,
    Int,
    Float,
    Bool,
    Date,
    Timestamp,
    /// JSON document: `TEXT` in SQLite, `JSONB` in PostgreSQL.
    Json,
}

impl ColType {
    /// The columnar kind a loader must supply for this column.
    pub fn kind(self) -> Kind {
        match self {
            ColType::Text | ColType::Json => Kind::Text,
            ColType::Int => Kind::Int,
            ColType::Float => Kind::Float,
            ColType::Bool => Kind::Bool,
            ColType::Date => Kind::Date,
            ColType::Timestamp => Kind::Timestamp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
}

const fn col(name: &'static str, ty: ColType) -> Col {
    Col {
        name,
        ty,
        nullable: true,
    }
}

const fn req(name: &'static str, ty: ColType) -> Col {
    Col {
        name,
        ty,
        nullable: false,
    }
}

/// A serving table loaded by the ETL (full refresh, atomically).
#[derive(Debug, PartialEq, Eq)]
pub struct ServingTable {
    /// `clinical` or `reference`.
    pub schema: &'static str,
    pub name: &'static str,
    /// The first column is the surrogate key, assigned by the ETL in gold
    /// order so that reloads are identical.
    pub columns: &'static [Col],
    /// Natural key, unique.
    pub unique: &'static [&'static str],
}

impl ServingTable {
    /// `schema.name`, valid in both backends.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|c| c.name == name)
    }
}

use ColType::{Bool as B, Date as D, Float as F, Int as I, Json as J, Text as T, Timestamp as TS};

pub static PATIENT_DEMOGRAPHICS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_demographics",
    columns: &[
        req("patient_key", T),
        req("icn", T),
        req("source_system", T),
        req("source_id", T),
        col("ssn", T),
        col("ssn_last4", T),
        col("name_last", T),
        col("name_first", T),
        col("name_display", T),
        col("dob", D),
        col("age", I),
        col("sex", T),
        col("gender", T),
        col("primary_station", T),
        col("primary_station_name", T),
        col("address_street1", T),
        col("address_street2", T),
        col("address_city", T),
        col("address_state", T),
        col("address_zip", T),
        col("phone_primary", T),
        col("insurance_company_name", T),
        col("marital_status", T),
        col("religion", T),
        col("service_connected_percent", F),
        col("deceased_flag", T),
        col("death_date", D),
        col("veteran_status", T),
        req("is_test_patient", B),
        req("is_sensitive", B),
        col("last_updated", TS),
    ],
    unique: &["icn"],
};

pub static PATIENT_MILITARY_HISTORY: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_military_history",
    columns: &[
        req("patient_key", T),
        req("icn", T),
        req("source_system", T),
        req("source_id", T),
        col("service_connected_flag", T),
        col("service_connected_percent", F),
        col("agent_orange_exposure", T),
        col("agent_orange_location", T),
        col("ionizing_radiation", T),
        col("pow_status", T),
        col("pow_location", T),
        col("shad_flag", T),
        col("sw_asia_exposure", T),
        col("camp_lejeune_flag", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_VITALS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_vitals",
    columns: &[
        req("vital_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        col("vital_sign_id", I),
        req("vital_type", T),
        col("vital_abbr", T),
        req("taken_datetime", TS),
        col("entered_datetime", TS),
        col("result_value", T),
        col("numeric_value", F),
        col("systolic", I),
        col("diastolic", I),
        col("metric_value", F),
        col("unit_of_measure", T),
        col("qualifiers", J),
        col("location_id", I),
        col("location_name", T),
        col("location_type", T),
        col("entered_by", T),
        col("abnormal_flag", T),
        col("bmi", F),
        col("sta3n", T),
        col("facility_name", T),
        req("data_source", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_ALLERGIES: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_allergies",
    columns: &[
        req("allergy_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("allergy_sid", I),
        req("allergen_local", T),
        req("allergen_standardized", T),
        col("allergen_type", T),
        col("severity", T),
        col("severity_rank", I),
        col("reactions", T),
        col("reaction_count", I),
        req("origination_date", TS),
        col("observed_date", TS),
        col("historical_or_observed", T),
        col("originating_site", T),
        col("originating_site_name", T),
        col("originating_staff", T),
        col("comment", T),
        req("is_active", B),
        col("verification_status", T),
        req("is_drug_allergy", B),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_ALLERGY_REACTIONS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_allergy_reactions",
    columns: &[
        req("reaction_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("allergy_sid", I),
        req("reaction_name", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_MEDICATIONS_OUTPATIENT: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_medications_outpatient",
    columns: &[
        req("medication_outpatient_id", I),
        req("patient_icn", T),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("rx_outpat_id", I),
        col("prescription_number", T),
        col("local_drug_id", I),
        col("national_drug_id", I),
        col("drug_name_local", T),
        col("drug_name_national", T),
        col("generic_name", T),
        col("trade_name", T),
        col("drug_strength", T),
        col("drug_unit", T),
        col("dosage_form", T),
        col("drug_class", T),
        col("drug_class_code", T),
        col("dea_schedule", T),
        col("ndc_code", T),
        col("issue_date", TS),
        col("rx_status", T),
        col("rx_status_computed", T),
        col("rx_type", T),
        col("quantity_ordered", F),
        col("days_supply", I),
        col("refills_allowed", I),
        col("refills_remaining", I),
        col("unit_dose", T),
        col("fill_count", I),
        col("latest_fill_number", I),
        col("latest_fill_date", TS),
        col("latest_fill_status", T),
        col("latest_quantity_dispensed", F),
        col("latest_days_supply", I),
        col("sig", T),
        col("sig_route", T),
        col("sig_schedule", T),
        col("expiration_date", TS),
        col("discontinued_date", TS),
        col("discontinue_reason", T),
        req("is_controlled_substance", B),
        req("is_active", B),
        col("days_until_expiration", I),
        col("provider_name", T),
        col("ordering_provider_name", T),
        col("pharmacy_name", T),
        col("clinic_name", T),
        col("facility_name", T),
        col("sta3n", T),
        col("cmop_indicator", T),
        col("mail_indicator", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_MEDICATIONS_INPATIENT: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_medications_inpatient",
    columns: &[
        req("medication_inpatient_id", I),
        req("patient_icn", T),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("bcma_log_id", I),
        col("inpatient_sid", I),
        col("order_number", T),
        col("local_drug_id", I),
        col("national_drug_id", I),
        col("drug_name_local", T),
        col("drug_name_national", T),
        col("generic_name", T),
        col("trade_name", T),
        col("drug_strength", T),
        col("drug_unit", T),
        col("dosage_form", T),
        col("drug_class", T),
        col("drug_class_code", T),
        col("dea_schedule", T),
        col("ndc_code", T),
        col("action_type", T),
        col("action_status", T),
        col("action_datetime", TS),
        col("scheduled_datetime", TS),
        col("ordered_datetime", TS),
        col("dosage_ordered", T),
        col("dosage_given", T),
        col("route", T),
        col("unit_of_administration", T),
        col("schedule_type", T),
        col("schedule", T),
        req("administration_variance", B),
        col("variance_type", T),
        col("variance_reason", T),
        req("is_iv_medication", B),
        col("iv_type", T),
        col("infusion_rate", T),
        req("is_controlled_substance", B),
        col("administered_by", T),
        col("ordering_provider", T),
        col("ward_name", T),
        col("facility_name", T),
        col("sta3n", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_FLAGS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_flags",
    columns: &[
        req("flag_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("assignment_id", I),
        req("flag_name", T),
        req("flag_category", T),
        col("flag_type", T),
        req("is_active", B),
        col("assignment_status", T),
        col("assignment_date", TS),
        col("inactivation_date", TS),
        col("owner_site", T),
        col("owner_site_name", T),
        col("originating_site", T),
        col("originating_site_name", T),
        col("review_frequency_days", I),
        col("review_notification_days", I),
        col("last_review_date", TS),
        col("next_review_date", TS),
        col("review_status", T),
        col("last_action_date", TS),
        col("last_action", T),
        col("last_action_by", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_FLAG_HISTORY: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_flag_history",
    columns: &[
        req("history_id", I),
        req("assignment_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("history_date", TS),
        col("action_code", I),
        col("action_name", T),
        col("entered_by_duz", I),
        col("entered_by_name", T),
        col("approved_by_duz", I),
        col("approved_by_name", T),
        col("tiu_document_ien", I),
        col("history_comments", T),
        col("event_site", T),
        col("event_site_name", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_ENCOUNTERS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_encounters",
    columns: &[
        req("encounter_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("inpatient_id", I),
        req("encounter_type", T),
        req("admit_datetime", TS),
        col("admit_location_id", I),
        col("admit_location_name", T),
        col("admit_location_type", T),
        col("admit_diagnosis_code", T),
        col("admitting_provider_id", I),
        col("admitting_provider_name", T),
        col("discharge_datetime", TS),
        col("discharge_date_id", I),
        col("discharge_location_id", I),
        col("discharge_location_name", T),
        col("discharge_location_type", T),
        col("discharge_diagnosis_code", T),
        col("discharge_diagnosis_text", T),
        col("discharge_disposition", T),
        col("length_of_stay", I),
        col("total_days", I),
        col("encounter_status", T),
        req("is_active", B),
        col("admission_category", T),
        req("is_recent", B),
        req("is_extended_stay", B),
        col("sta3n", T),
        col("facility_name", T),
        req("data_source", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_LABS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_labs",
    columns: &[
        req("lab_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("lab_chem_sid", I),
        col("lab_test_sid", I),
        col("lab_test_name", T),
        col("lab_test_code", T),
        col("loinc_code", T),
        col("panel_name", T),
        req("accession_number", T),
        col("result_value", T),
        col("result_numeric", F),
        col("result_unit", T),
        col("abnormal_flag", T),
        req("is_abnormal", B),
        req("is_critical", B),
        col("ref_range_text", T),
        col("ref_range_low", F),
        col("ref_range_high", F),
        req("collection_datetime", TS),
        col("result_datetime", TS),
        col("location_id", I),
        col("collection_location", T),
        col("collection_location_type", T),
        col("specimen_type", T),
        col("sta3n", T),
        col("facility_name", T),
        col("performing_lab_sid", I),
        col("ordering_provider_sid", I),
        col("vista_package", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_CLINICAL_NOTES: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_clinical_notes",
    columns: &[
        req("note_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("tiu_document_sid", I),
        col("document_definition_sid", I),
        col("document_title", T),
        req("document_class", T),
        col("vha_standard_title", T),
        col("status", T),
        req("reference_datetime", TS),
        col("entry_datetime", TS),
        col("author_sid", I),
        col("author_name", T),
        col("cosigner_sid", I),
        col("cosigner_name", T),
        col("visit_sid", I),
        col("sta3n", T),
        col("facility_name", T),
        col("document_text", T),
        col("text_length", I),
        col("text_preview", T),
        col("tiu_document_ien", T),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_IMMUNIZATIONS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_immunizations",
    columns: &[
        req("immunization_id", I),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("immunization_sid", T),
        col("cvx_code", T),
        col("vaccine_name", T),
        col("vaccine_name_local", T),
        req("administered_datetime", TS),
        col("series", T),
        col("dose_number", I),
        col("total_doses", I),
        col("is_series_complete", B),
        col("dose", T),
        col("route", T),
        col("site_of_administration", T),
        col("adverse_reaction", T),
        req("has_adverse_reaction", B),
        col("provider_name", T),
        col("location_sid", I),
        col("location_name", T),
        col("location_type", T),
        col("station_name", T),
        col("sta3n", T),
        col("comments", T),
        req("is_annual_vaccine", B),
        req("is_covid_vaccine", B),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_PROBLEMS: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_problems",
    columns: &[
        req("problem_id", I),
        req("patient_key", T),
        req("patient_icn", T),
        req("source_system", T),
        req("source_id", T),
        req("problem_sid", I),
        col("problem_number", T),
        col("icd10_code", T),
        col("icd10_description", T),
        col("icd10_category", T),
        col("snomed_code", T),
        col("snomed_description", T),
        col("diagnosis_description", T),
        req("problem_status", T),
        col("acute_condition", B),
        col("chronic_condition", B),
        col("service_connected", B),
        col("onset_date", D),
        col("recorded_date", D),
        col("last_modified_date", D),
        col("resolved_date", D),
        col("entered_datetime", TS),
        col("provider_id", T),
        col("provider_name", T),
        col("clinic_location", T),
        col("facility_id", T),
        col("entered_by_name", T),
        req("source_ehr", T),
        col("icd10_chronic_flag", T),
        col("icd10_charlson_condition", T),
        col("charlson_weight", I),
        req("charlson_index", I),
        req("charlson_condition_count", I),
        req("total_problem_count", I),
        req("active_problem_count", I),
        req("inactive_problem_count", I),
        req("resolved_problem_count", I),
        req("chronic_problem_count", I),
        req("service_connected_count", I),
        req("has_chf", B),
        req("has_cad", B),
        req("has_afib", B),
        req("has_hypertension", B),
        req("has_copd", B),
        req("has_asthma", B),
        req("has_diabetes", B),
        req("has_hyperlipidemia", B),
        req("has_ckd", B),
        req("has_depression", B),
        req("has_ptsd", B),
        req("has_anxiety", B),
        req("has_cancer", B),
        req("has_osteoarthritis", B),
        req("has_back_pain", B),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static PATIENT_FAMILY_HISTORY: ServingTable = ServingTable {
    schema: "clinical",
    name: "patient_family_history",
    columns: &[
        req("family_history_id", I),
        req("patient_icn", T),
        req("patient_key", T),
        req("source_system", T),
        req("source_id", T),
        req("source_ehr", T),
        col("relationship_code", T),
        req("relationship_name", T),
        col("relationship_degree", T),
        col("condition_code", T),
        req("condition_name", T),
        col("snomed_code", T),
        col("icd10_code", T),
        col("condition_category", T),
        col("risk_condition_group", T),
        req("hereditary_risk_flag", B),
        req("first_degree_relative_flag", B),
        col("clinical_status", T),
        req("is_active", B),
        col("family_member_gender", T),
        col("family_member_age", I),
        col("family_member_deceased", B),
        col("onset_age_years", I),
        col("recorded_datetime", TS),
        col("entered_datetime", TS),
        col("encounter_sid", I),
        col("facility_id", T),
        col("provider_id", I),
        col("provider_name", T),
        col("location_id", I),
        col("comment_text", T),
        req("family_history_count_total", I),
        req("family_history_count_active", I),
        req("family_history_count_first_degree", I),
        req("family_history_count_first_degree_high_risk", I),
        col("last_updated", TS),
    ],
    unique: &["source_system", "source_id"],
};

pub static REFERENCE_DDI: ServingTable = ServingTable {
    schema: "reference",
    name: "ddi",
    columns: &[
        req("ddi_id", I),
        req("drug_1", T),
        req("drug_2", T),
        req("interaction_description", T),
    ],
    unique: &["drug_1", "drug_2"],
};

pub static REFERENCE_VACCINE: ServingTable = ServingTable {
    schema: "reference",
    name: "vaccine",
    columns: &[
        req("cvx_code", T),
        req("vaccine_name", T),
        col("vaccine_short_name", T),
        col("vaccine_group", T),
        col("typical_series_pattern", T),
        req("is_active", B),
        col("notes", T),
        col("last_updated", TS),
    ],
    unique: &["cvx_code"],
};

pub static REFERENCE_FACILITY: ServingTable = ServingTable {
    schema: "reference",
    name: "facility",
    columns: &[
        req("sta3n", T),
        req("facility_name", T),
        req("is_active", B),
    ],
    unique: &["sta3n"],
};

/// Every ETL-loaded table, in load order.
pub static ALL: &[&ServingTable] = &[
    &REFERENCE_FACILITY,
    &REFERENCE_VACCINE,
    &REFERENCE_DDI,
    &PATIENT_DEMOGRAPHICS,
    &PATIENT_MILITARY_HISTORY,
    &PATIENT_VITALS,
    &PATIENT_ALLERGIES,
    &PATIENT_ALLERGY_REACTIONS,
    &PATIENT_MEDICATIONS_OUTPATIENT,
    &PATIENT_MEDICATIONS_INPATIENT,
    &PATIENT_FLAGS,
    &PATIENT_FLAG_HISTORY,
    &PATIENT_ENCOUNTERS,
    &PATIENT_LABS,
    &PATIENT_CLINICAL_NOTES,
    &PATIENT_IMMUNIZATIONS,
    &PATIENT_PROBLEMS,
    &PATIENT_FAMILY_HISTORY,
];

/// Looks a table up by `schema.name`.
pub fn find(qualified: &str) -> Option<&'static ServingTable> {
    ALL.iter()
        .copied()
        .find(|t| qualified.split_once('.') == Some((t.schema, t.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_consistent() {
        for t in ALL {
            assert!(find(&t.qualified()).is_some());
            for (i, c) in t.columns.iter().enumerate() {
                assert!(
                    !t.columns[..i].iter().any(|o| o.name == c.name),
                    "{}: duplicate {}",
                    t.qualified(),
                    c.name
                );
            }
            for u in t.unique {
                assert!(t.column(u).is_some(), "{}: unique {u}", t.qualified());
            }
            if t.schema == "clinical" {
                assert!(t.column("patient_key").is_some());
                assert!(t.column("source_system").is_some() && t.column("source_id").is_some());
            }
        }
    }
}
