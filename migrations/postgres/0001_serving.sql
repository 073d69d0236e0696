-- Serving database, PostgreSQL backend.
-- Schemas: clinical (ETL-loaded clinical domains + tasks), reference
-- (facilities, vaccines, drug interactions), auth (users, sessions, audit).
-- Every ETL-loaded clinical row is keyed by (source_system, source_id); the
-- surrogate first column is assigned by the ETL in gold order so that a
-- reload of the same input yields identical rows.
-- Keep in step with crates/store/src/catalog.rs and migrations/sqlite.

CREATE SCHEMA IF NOT EXISTS clinical;
CREATE SCHEMA IF NOT EXISTS reference;
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE clinical.patient_demographics (
    patient_key TEXT NOT NULL PRIMARY KEY,
    icn TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    ssn TEXT,
    ssn_last4 TEXT,
    name_last TEXT,
    name_first TEXT,
    name_display TEXT,
    dob DATE,
    age BIGINT,
    sex TEXT,
    gender TEXT,
    primary_station TEXT,
    primary_station_name TEXT,
    address_street1 TEXT,
    address_street2 TEXT,
    address_city TEXT,
    address_state TEXT,
    address_zip TEXT,
    phone_primary TEXT,
    insurance_company_name TEXT,
    marital_status TEXT,
    religion TEXT,
    service_connected_percent DOUBLE PRECISION,
    deceased_flag TEXT,
    death_date DATE,
    veteran_status TEXT,
    is_test_patient BOOLEAN NOT NULL,
    is_sensitive BOOLEAN NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_demographics_natural_key ON clinical.patient_demographics (icn);

CREATE TABLE clinical.patient_military_history (
    patient_key TEXT NOT NULL PRIMARY KEY,
    icn TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    service_connected_flag TEXT,
    service_connected_percent DOUBLE PRECISION,
    agent_orange_exposure TEXT,
    agent_orange_location TEXT,
    ionizing_radiation TEXT,
    pow_status TEXT,
    pow_location TEXT,
    shad_flag TEXT,
    sw_asia_exposure TEXT,
    camp_lejeune_flag TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_military_history_natural_key ON clinical.patient_military_history (source_system, source_id);

CREATE TABLE clinical.patient_vitals (
    vital_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    vital_sign_id BIGINT,
    vital_type TEXT NOT NULL,
    vital_abbr TEXT,
    taken_datetime TIMESTAMP NOT NULL,
    entered_datetime TIMESTAMP,
    result_value TEXT,
    numeric_value DOUBLE PRECISION,
    systolic BIGINT,
    diastolic BIGINT,
    metric_value DOUBLE PRECISION,
    unit_of_measure TEXT,
    qualifiers JSONB,
    location_id BIGINT,
    location_name TEXT,
    location_type TEXT,
    entered_by TEXT,
    abnormal_flag TEXT,
    bmi DOUBLE PRECISION,
    sta3n TEXT,
    facility_name TEXT,
    data_source TEXT NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_vitals_natural_key ON clinical.patient_vitals (source_system, source_id);
CREATE INDEX patient_vitals_patient ON clinical.patient_vitals (patient_key);

CREATE TABLE clinical.patient_allergies (
    allergy_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    allergy_sid BIGINT NOT NULL,
    allergen_local TEXT NOT NULL,
    allergen_standardized TEXT NOT NULL,
    allergen_type TEXT,
    severity TEXT,
    severity_rank BIGINT,
    reactions TEXT,
    reaction_count BIGINT,
    origination_date TIMESTAMP NOT NULL,
    observed_date TIMESTAMP,
    historical_or_observed TEXT,
    originating_site TEXT,
    originating_site_name TEXT,
    originating_staff TEXT,
    comment TEXT,
    is_active BOOLEAN NOT NULL,
    verification_status TEXT,
    is_drug_allergy BOOLEAN NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_allergies_natural_key ON clinical.patient_allergies (source_system, source_id);
CREATE INDEX patient_allergies_patient ON clinical.patient_allergies (patient_key);

CREATE TABLE clinical.patient_allergy_reactions (
    reaction_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    allergy_sid BIGINT NOT NULL,
    reaction_name TEXT NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_allergy_reactions_natural_key ON clinical.patient_allergy_reactions (source_system, source_id);
CREATE INDEX patient_allergy_reactions_patient ON clinical.patient_allergy_reactions (patient_key);

CREATE TABLE clinical.patient_medications_outpatient (
    medication_outpatient_id BIGINT PRIMARY KEY,
    patient_icn TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    rx_outpat_id BIGINT NOT NULL,
    prescription_number TEXT,
    local_drug_id BIGINT,
    national_drug_id BIGINT,
    drug_name_local TEXT,
    drug_name_national TEXT,
    generic_name TEXT,
    trade_name TEXT,
    drug_strength TEXT,
    drug_unit TEXT,
    dosage_form TEXT,
    drug_class TEXT,
    drug_class_code TEXT,
    dea_schedule TEXT,
    ndc_code TEXT,
    issue_date TIMESTAMP,
    rx_status TEXT,
    rx_status_computed TEXT,
    rx_type TEXT,
    quantity_ordered DOUBLE PRECISION,
    days_supply BIGINT,
    refills_allowed BIGINT,
    refills_remaining BIGINT,
    unit_dose TEXT,
    fill_count BIGINT,
    latest_fill_number BIGINT,
    latest_fill_date TIMESTAMP,
    latest_fill_status TEXT,
    latest_quantity_dispensed DOUBLE PRECISION,
    latest_days_supply BIGINT,
    sig TEXT,
    sig_route TEXT,
    sig_schedule TEXT,
    expiration_date TIMESTAMP,
    discontinued_date TIMESTAMP,
    discontinue_reason TEXT,
    is_controlled_substance BOOLEAN NOT NULL,
    is_active BOOLEAN NOT NULL,
    days_until_expiration BIGINT,
    provider_name TEXT,
    ordering_provider_name TEXT,
    pharmacy_name TEXT,
    clinic_name TEXT,
    facility_name TEXT,
    sta3n TEXT,
    cmop_indicator TEXT,
    mail_indicator TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_medications_outpatient_natural_key ON clinical.patient_medications_outpatient (source_system, source_id);
CREATE INDEX patient_medications_outpatient_patient ON clinical.patient_medications_outpatient (patient_key);

CREATE TABLE clinical.patient_medications_inpatient (
    medication_inpatient_id BIGINT PRIMARY KEY,
    patient_icn TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    bcma_log_id BIGINT NOT NULL,
    inpatient_sid BIGINT,
    order_number TEXT,
    local_drug_id BIGINT,
    national_drug_id BIGINT,
    drug_name_local TEXT,
    drug_name_national TEXT,
    generic_name TEXT,
    trade_name TEXT,
    drug_strength TEXT,
    drug_unit TEXT,
    dosage_form TEXT,
    drug_class TEXT,
    drug_class_code TEXT,
    dea_schedule TEXT,
    ndc_code TEXT,
    action_type TEXT,
    action_status TEXT,
    action_datetime TIMESTAMP,
    scheduled_datetime TIMESTAMP,
    ordered_datetime TIMESTAMP,
    dosage_ordered TEXT,
    dosage_given TEXT,
    route TEXT,
    unit_of_administration TEXT,
    schedule_type TEXT,
    schedule TEXT,
    administration_variance BOOLEAN NOT NULL,
    variance_type TEXT,
    variance_reason TEXT,
    is_iv_medication BOOLEAN NOT NULL,
    iv_type TEXT,
    infusion_rate TEXT,
    is_controlled_substance BOOLEAN NOT NULL,
    administered_by TEXT,
    ordering_provider TEXT,
    ward_name TEXT,
    facility_name TEXT,
    sta3n TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_medications_inpatient_natural_key ON clinical.patient_medications_inpatient (source_system, source_id);
CREATE INDEX patient_medications_inpatient_patient ON clinical.patient_medications_inpatient (patient_key);

CREATE TABLE clinical.patient_flags (
    flag_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    assignment_id BIGINT NOT NULL,
    flag_name TEXT NOT NULL,
    flag_category TEXT NOT NULL,
    flag_type TEXT,
    is_active BOOLEAN NOT NULL,
    assignment_status TEXT,
    assignment_date TIMESTAMP,
    inactivation_date TIMESTAMP,
    owner_site TEXT,
    owner_site_name TEXT,
    originating_site TEXT,
    originating_site_name TEXT,
    review_frequency_days BIGINT,
    review_notification_days BIGINT,
    last_review_date TIMESTAMP,
    next_review_date TIMESTAMP,
    review_status TEXT,
    last_action_date TIMESTAMP,
    last_action TEXT,
    last_action_by TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_flags_natural_key ON clinical.patient_flags (source_system, source_id);
CREATE INDEX patient_flags_patient ON clinical.patient_flags (patient_key);

CREATE TABLE clinical.patient_flag_history (
    history_id BIGINT PRIMARY KEY,
    assignment_id BIGINT NOT NULL,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    history_date TIMESTAMP NOT NULL,
    action_code BIGINT,
    action_name TEXT,
    entered_by_duz BIGINT,
    entered_by_name TEXT,
    approved_by_duz BIGINT,
    approved_by_name TEXT,
    tiu_document_ien BIGINT,
    history_comments TEXT,
    event_site TEXT,
    event_site_name TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_flag_history_natural_key ON clinical.patient_flag_history (source_system, source_id);
CREATE INDEX patient_flag_history_patient ON clinical.patient_flag_history (patient_key);

CREATE TABLE clinical.patient_encounters (
    encounter_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    inpatient_id BIGINT NOT NULL,
    encounter_type TEXT NOT NULL,
    admit_datetime TIMESTAMP NOT NULL,
    admit_location_id BIGINT,
    admit_location_name TEXT,
    admit_location_type TEXT,
    admit_diagnosis_code TEXT,
    admitting_provider_id BIGINT,
    admitting_provider_name TEXT,
    discharge_datetime TIMESTAMP,
    discharge_date_id BIGINT,
    discharge_location_id BIGINT,
    discharge_location_name TEXT,
    discharge_location_type TEXT,
    discharge_diagnosis_code TEXT,
    discharge_diagnosis_text TEXT,
    discharge_disposition TEXT,
    length_of_stay BIGINT,
    total_days BIGINT,
    encounter_status TEXT,
    is_active BOOLEAN NOT NULL,
    admission_category TEXT,
    is_recent BOOLEAN NOT NULL,
    is_extended_stay BOOLEAN NOT NULL,
    sta3n TEXT,
    facility_name TEXT,
    data_source TEXT NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_encounters_natural_key ON clinical.patient_encounters (source_system, source_id);
CREATE INDEX patient_encounters_patient ON clinical.patient_encounters (patient_key);

CREATE TABLE clinical.patient_labs (
    lab_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    lab_chem_sid BIGINT NOT NULL,
    lab_test_sid BIGINT,
    lab_test_name TEXT,
    lab_test_code TEXT,
    loinc_code TEXT,
    panel_name TEXT,
    accession_number TEXT NOT NULL,
    result_value TEXT,
    result_numeric DOUBLE PRECISION,
    result_unit TEXT,
    abnormal_flag TEXT,
    is_abnormal BOOLEAN NOT NULL,
    is_critical BOOLEAN NOT NULL,
    ref_range_text TEXT,
    ref_range_low DOUBLE PRECISION,
    ref_range_high DOUBLE PRECISION,
    collection_datetime TIMESTAMP NOT NULL,
    result_datetime TIMESTAMP,
    location_id BIGINT,
    collection_location TEXT,
    collection_location_type TEXT,
    specimen_type TEXT,
    sta3n TEXT,
    facility_name TEXT,
    performing_lab_sid BIGINT,
    ordering_provider_sid BIGINT,
    vista_package TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_labs_natural_key ON clinical.patient_labs (source_system, source_id);
CREATE INDEX patient_labs_patient ON clinical.patient_labs (patient_key);

CREATE TABLE clinical.patient_clinical_notes (
    note_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    tiu_document_sid BIGINT NOT NULL,
    document_definition_sid BIGINT,
    document_title TEXT,
    document_class TEXT NOT NULL,
    vha_standard_title TEXT,
    status TEXT,
    reference_datetime TIMESTAMP NOT NULL,
    entry_datetime TIMESTAMP,
    author_sid BIGINT,
    author_name TEXT,
    cosigner_sid BIGINT,
    cosigner_name TEXT,
    visit_sid BIGINT,
    sta3n TEXT,
    facility_name TEXT,
    document_text TEXT,
    text_length BIGINT,
    text_preview TEXT,
    tiu_document_ien TEXT,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_clinical_notes_natural_key ON clinical.patient_clinical_notes (source_system, source_id);
CREATE INDEX patient_clinical_notes_patient ON clinical.patient_clinical_notes (patient_key);

CREATE TABLE clinical.patient_immunizations (
    immunization_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    immunization_sid TEXT NOT NULL,
    cvx_code TEXT,
    vaccine_name TEXT,
    vaccine_name_local TEXT,
    administered_datetime TIMESTAMP NOT NULL,
    series TEXT,
    dose_number BIGINT,
    total_doses BIGINT,
    is_series_complete BOOLEAN,
    dose TEXT,
    route TEXT,
    site_of_administration TEXT,
    adverse_reaction TEXT,
    has_adverse_reaction BOOLEAN NOT NULL,
    provider_name TEXT,
    location_sid BIGINT,
    location_name TEXT,
    location_type TEXT,
    station_name TEXT,
    sta3n TEXT,
    comments TEXT,
    is_annual_vaccine BOOLEAN NOT NULL,
    is_covid_vaccine BOOLEAN NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_immunizations_natural_key ON clinical.patient_immunizations (source_system, source_id);
CREATE INDEX patient_immunizations_patient ON clinical.patient_immunizations (patient_key);

CREATE TABLE clinical.patient_problems (
    problem_id BIGINT PRIMARY KEY,
    patient_key TEXT NOT NULL,
    patient_icn TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    problem_sid BIGINT NOT NULL,
    problem_number TEXT,
    icd10_code TEXT,
    icd10_description TEXT,
    icd10_category TEXT,
    snomed_code TEXT,
    snomed_description TEXT,
    diagnosis_description TEXT,
    problem_status TEXT NOT NULL,
    acute_condition BOOLEAN,
    chronic_condition BOOLEAN,
    service_connected BOOLEAN,
    onset_date DATE,
    recorded_date DATE,
    last_modified_date DATE,
    resolved_date DATE,
    entered_datetime TIMESTAMP,
    provider_id TEXT,
    provider_name TEXT,
    clinic_location TEXT,
    facility_id TEXT,
    entered_by_name TEXT,
    source_ehr TEXT NOT NULL,
    icd10_chronic_flag TEXT,
    icd10_charlson_condition TEXT,
    charlson_weight BIGINT,
    charlson_index BIGINT NOT NULL,
    charlson_condition_count BIGINT NOT NULL,
    total_problem_count BIGINT NOT NULL,
    active_problem_count BIGINT NOT NULL,
    inactive_problem_count BIGINT NOT NULL,
    resolved_problem_count BIGINT NOT NULL,
    chronic_problem_count BIGINT NOT NULL,
    service_connected_count BIGINT NOT NULL,
    has_chf BOOLEAN NOT NULL,
    has_cad BOOLEAN NOT NULL,
    has_afib BOOLEAN NOT NULL,
    has_hypertension BOOLEAN NOT NULL,
    has_copd BOOLEAN NOT NULL,
    has_asthma BOOLEAN NOT NULL,
    has_diabetes BOOLEAN NOT NULL,
    has_hyperlipidemia BOOLEAN NOT NULL,
    has_ckd BOOLEAN NOT NULL,
    has_depression BOOLEAN NOT NULL,
    has_ptsd BOOLEAN NOT NULL,
    has_anxiety BOOLEAN NOT NULL,
    has_cancer BOOLEAN NOT NULL,
    has_osteoarthritis BOOLEAN NOT NULL,
    has_back_pain BOOLEAN NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_problems_natural_key ON clinical.patient_problems (source_system, source_id);
CREATE INDEX patient_problems_patient ON clinical.patient_problems (patient_key);

CREATE TABLE clinical.patient_family_history (
    family_history_id BIGINT PRIMARY KEY,
    patient_icn TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_ehr TEXT NOT NULL,
    relationship_code TEXT,
    relationship_name TEXT NOT NULL,
    relationship_degree TEXT,
    condition_code TEXT,
    condition_name TEXT NOT NULL,
    snomed_code TEXT,
    icd10_code TEXT,
    condition_category TEXT,
    risk_condition_group TEXT,
    hereditary_risk_flag BOOLEAN NOT NULL,
    first_degree_relative_flag BOOLEAN NOT NULL,
    clinical_status TEXT,
    is_active BOOLEAN NOT NULL,
    family_member_gender TEXT,
    family_member_age BIGINT,
    family_member_deceased BOOLEAN,
    onset_age_years BIGINT,
    recorded_datetime TIMESTAMP,
    entered_datetime TIMESTAMP,
    encounter_sid BIGINT,
    facility_id TEXT,
    provider_id BIGINT,
    provider_name TEXT,
    location_id BIGINT,
    comment_text TEXT,
    family_history_count_total BIGINT NOT NULL,
    family_history_count_active BIGINT NOT NULL,
    family_history_count_first_degree BIGINT NOT NULL,
    family_history_count_first_degree_high_risk BIGINT NOT NULL,
    last_updated TIMESTAMP
);
CREATE UNIQUE INDEX patient_family_history_natural_key ON clinical.patient_family_history (source_system, source_id);
CREATE INDEX patient_family_history_patient ON clinical.patient_family_history (patient_key);

CREATE TABLE reference.ddi (
    ddi_id BIGINT PRIMARY KEY,
    drug_1 TEXT NOT NULL,
    drug_2 TEXT NOT NULL,
    interaction_description TEXT NOT NULL
);
CREATE UNIQUE INDEX ddi_natural_key ON reference.ddi (drug_1, drug_2);

CREATE TABLE reference.vaccine (
    cvx_code TEXT NOT NULL PRIMARY KEY,
    vaccine_name TEXT NOT NULL,
    vaccine_short_name TEXT,
    vaccine_group TEXT,
    typical_series_pattern TEXT,
    is_active BOOLEAN NOT NULL,
    notes TEXT,
    last_updated TIMESTAMP
);

CREATE TABLE reference.facility (
    sta3n TEXT NOT NULL PRIMARY KEY,
    facility_name TEXT NOT NULL,
    is_active BOOLEAN NOT NULL
);
CREATE INDEX patient_demographics_name ON clinical.patient_demographics (lower(name_last), lower(name_first));
CREATE INDEX patient_vitals_taken ON clinical.patient_vitals (patient_key, taken_datetime DESC);
CREATE INDEX patient_labs_collected ON clinical.patient_labs (patient_key, collection_datetime DESC);
CREATE INDEX patient_notes_reference ON clinical.patient_clinical_notes (patient_key, reference_datetime DESC);

-- Written by the web app (not the ETL).
CREATE TABLE clinical.patient_tasks (
    task_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patient_key TEXT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description TEXT,
    priority TEXT NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('HIGH', 'MEDIUM', 'LOW')),
    status TEXT NOT NULL DEFAULT 'TODO' CHECK (status IN ('TODO', 'IN_PROGRESS', 'COMPLETED')),
    created_by_user_id TEXT NOT NULL,
    created_by_display_name TEXT,
    completed_by_user_id TEXT,
    completed_by_display_name TEXT,
    is_ai_generated BOOLEAN NOT NULL DEFAULT FALSE,
    ai_suggestion_source TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE INDEX patient_tasks_patient ON clinical.patient_tasks (patient_key, status);

CREATE TABLE auth.users (
    user_id TEXT NOT NULL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    home_site_sta3n INTEGER,
    roles TEXT NOT NULL DEFAULT 'clinician',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_locked BOOLEAN NOT NULL DEFAULT FALSE,
    failed_login_attempts INTEGER NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL DEFAULT 'system'
);

CREATE TABLE auth.sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES auth.users (user_id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    csrf_token TEXT NOT NULL,
    ip_address TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON auth.sessions (user_id, is_active);
CREATE INDEX sessions_expiry ON auth.sessions (expires_at, is_active);

CREATE TABLE auth.audit_logs (
    audit_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id TEXT REFERENCES auth.users (user_id) ON DELETE SET NULL,
    event_type TEXT NOT NULL,
    event_timestamp TIMESTAMP NOT NULL,
    email TEXT,
    ip_address TEXT,
    user_agent TEXT,
    success BOOLEAN,
    failure_reason TEXT,
    session_id TEXT
);
CREATE INDEX audit_logs_user ON auth.audit_logs (user_id, event_timestamp DESC);
CREATE INDEX audit_logs_event ON auth.audit_logs (event_type, event_timestamp DESC);

-- One row per ETL run; the web's "data current through" reads the latest
-- succeeded run.
CREATE TABLE public.etl_run (
    run_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    as_of DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    source TEXT NOT NULL,
    lake TEXT NOT NULL,
    rows_json TEXT NOT NULL DEFAULT '{}',
    quarantined_json TEXT NOT NULL DEFAULT '{}',
    quarantined_total BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
