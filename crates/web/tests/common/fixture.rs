//! A small serving DB: three personas loaded through the store's own
//! atomic table loads (no SQL here).
//!
//! - `ICN100001` Adam Dooree: data in every domain ([`load_clinical`]), one
//!   national flag with an overdue review and a two-entry history, one
//!   inactive local flag.
//! - `ICN100016` Margaret Wilson: deceased, no clinical rows.
//! - `ICN100013` Irving Thompson: demographics only, no clinical rows (every
//!   widget's empty state) (plus name-search
//!   neighbours `ICN200001` Bailey Thompson, `ICN200002` Alananah Thompson).

// Row builders take one argument per varying column.
#![allow(clippy::too_many_arguments)]

use chrono::{NaiveDate, NaiveDateTime};
use columnar::{Batch, Column, Values};
use futures_util::stream;
use std::collections::HashMap;
use store::catalog::{self, ColType, ServingTable};
use store::{RunOutcome, RunStatus, ServingStore, Store};

/// One cell.
#[derive(Clone)]
pub enum V {
    T(&'static str),
    S(String),
    I(i64),
    F(f64),
    B(bool),
    D(NaiveDate),
    Ts(NaiveDateTime),
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("timestamp")
}

/// Rows of one table, by column name; columns not given are NULL.
pub struct Rows {
    table: &'static ServingTable,
    rows: Vec<HashMap<&'static str, V>>,
}

impl Rows {
    pub fn new(table: &'static ServingTable) -> Rows {
        Rows {
            table,
            rows: Vec::new(),
        }
    }

    pub fn row(mut self, cells: &[(&'static str, V)]) -> Rows {
        for (name, _) in cells {
            assert!(
                self.table.column(name).is_some(),
                "{} has no column {name}",
                self.table.qualified()
            );
        }
        self.rows.push(cells.iter().cloned().collect());
        self
    }

    fn batch(&self) -> Batch {
        let mut columns = Vec::new();
        for col in self.table.columns {
            let cells: Vec<Option<&V>> = self.rows.iter().map(|r| r.get(col.name)).collect();
            if cells.iter().all(Option::is_none) && col.nullable {
                continue;
            }
            let values = match col.ty {
                ColType::Text | ColType::Json => Values::Text(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::T(s)) => Some(s.to_string()),
                            Some(V::S(s)) => Some(s.clone()),
                            None => None,
                            _ => panic!("{}: text expected", col.name),
                        })
                        .collect(),
                ),
                ColType::Int => Values::Int(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::I(i)) => Some(*i),
                            None => None,
                            _ => panic!("{}: int expected", col.name),
                        })
                        .collect(),
                ),
                ColType::Float => Values::Float(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::F(f)) => Some(*f),
                            Some(V::I(i)) => Some(*i as f64),
                            None => None,
                            _ => panic!("{}: float expected", col.name),
                        })
                        .collect(),
                ),
                ColType::Bool => Values::Bool(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::B(b)) => Some(*b),
                            None => None,
                            _ => panic!("{}: bool expected", col.name),
                        })
                        .collect(),
                ),
                ColType::Date => Values::Date(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::D(d)) => Some(*d),
                            None => None,
                            _ => panic!("{}: date expected", col.name),
                        })
                        .collect(),
                ),
                ColType::Timestamp => Values::Timestamp(
                    cells
                        .iter()
                        .map(|c| match c {
                            Some(V::Ts(t)) => Some(*t),
                            None => None,
                            _ => panic!("{}: timestamp expected", col.name),
                        })
                        .collect(),
                ),
            };
            columns.push(Column::new(col.name, values));
        }
        Batch::new(columns).expect("batch")
    }

    pub async fn load(self, store: &Store) {
        let batch = self.batch();
        store
            .replace_table(self.table, stream::iter([Ok::<_, std::io::Error>(batch)]))
            .await
            .unwrap_or_else(|e| panic!("loading {}: {e}", self.table.qualified()));
    }
}

use V::*;

fn person(
    icn: &'static str,
    last: &'static str,
    first: &'static str,
    sex: &'static str,
    dob: &str,
    age: i64,
    station: &'static str,
    station_name: &'static str,
    ssn4: &'static str,
) -> Vec<(&'static str, V)> {
    vec![
        ("patient_key", T(icn)),
        ("icn", T(icn)),
        ("source_system", T("CDWWork")),
        ("source_id", S(format!("sid-{icn}"))),
        ("ssn_last4", T(ssn4)),
        ("name_last", T(last)),
        ("name_first", T(first)),
        ("name_display", S(format!("{last}, {first}"))),
        ("dob", D(d(dob))),
        ("age", I(age)),
        ("sex", T(sex)),
        ("primary_station", T(station)),
        ("primary_station_name", T(station_name)),
        ("address_street1", T("1 Main St")),
        ("address_city", T("Atlanta")),
        ("address_state", T("GA")),
        ("address_zip", T("30301")),
        ("phone_primary", T("404-555-0100")),
        ("insurance_company_name", T("Medicare")),
        ("deceased_flag", T("N")),
        ("is_test_patient", B(false)),
        ("is_sensitive", B(false)),
    ]
}

/// The as-of date of the fixture's ETL run.
pub const AS_OF: &str = "2026-02-06";

/// Loads the personas (demographics, flags) and records an ETL run.
pub async fn load(store: &Store) {
    let adam = person(
        "ICN100001",
        "DOOREE",
        "Adam",
        "M",
        "1958-03-14",
        67,
        "508",
        "Atlanta VAMC",
        "6789",
    );
    let mut margaret = person(
        "ICN100016",
        "WILSON",
        "Margaret",
        "F",
        "1941-07-02",
        83,
        "508",
        "Atlanta VAMC",
        "4321",
    );
    for (k, v) in margaret.iter_mut() {
        if *k == "deceased_flag" {
            *v = T("Y");
        }
    }
    margaret.push(("death_date", D(d("2024-12-01"))));
    let irving = person(
        "ICN100013",
        "THOMPSON",
        "Irving",
        "M",
        "1950-01-20",
        76,
        "552",
        "Dayton VAMC",
        "1111",
    );
    let bailey = person(
        "ICN200001",
        "THOMPSON",
        "Bailey",
        "M",
        "1963-04-15",
        62,
        "516",
        "Bay Pines VAMC",
        "2222",
    );
    let alananah = person(
        "ICN200002",
        "THOMPSON",
        "Alananah",
        "F",
        "1963-04-15",
        62,
        "516",
        "Bay Pines VAMC",
        "3333",
    );
    Rows::new(&catalog::PATIENT_DEMOGRAPHICS)
        .row(&adam)
        .row(&margaret)
        .row(&irving)
        .row(&bailey)
        .row(&alananah)
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_FLAGS)
        .row(&[
            ("flag_id", I(1)),
            ("patient_key", T("ICN100001")),
            ("source_system", T("CDWWork")),
            ("source_id", T("f1")),
            ("assignment_id", I(9001)),
            ("flag_name", T("HIGH RISK FOR SUICIDE")),
            ("flag_category", T("I")),
            ("flag_type", T("BEHAVIORAL")),
            ("is_active", B(true)),
            ("assignment_status", T("ACTIVE")),
            ("assignment_date", Ts(ts("2024-01-10 09:00:00"))),
            ("owner_site", T("508")),
            ("owner_site_name", T("Atlanta VAMC")),
            ("review_frequency_days", I(90)),
            ("review_notification_days", I(14)),
            ("next_review_date", Ts(ts("2025-01-10 00:00:00"))),
        ])
        .row(&[
            ("flag_id", I(2)),
            ("patient_key", T("ICN100001")),
            ("source_system", T("CDWWork")),
            ("source_id", T("f2")),
            ("assignment_id", I(9002)),
            ("flag_name", T("RESEARCH STUDY")),
            ("flag_category", T("II")),
            ("flag_type", T("RESEARCH")),
            ("is_active", B(false)),
            ("assignment_status", T("INACTIVE")),
            ("assignment_date", Ts(ts("2020-05-01 09:00:00"))),
            ("inactivation_date", Ts(ts("2021-05-01 09:00:00"))),
        ])
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_FLAG_HISTORY)
        .row(&[
            ("history_id", I(1)),
            ("assignment_id", I(9001)),
            ("patient_key", T("ICN100001")),
            ("source_system", T("CDWWork")),
            ("source_id", T("h1")),
            ("history_date", Ts(ts("2024-01-10 09:00:00"))),
            ("action_code", I(1)),
            ("action_name", T("NEW ASSIGNMENT")),
            ("entered_by_name", T("SMITH,JANE")),
            ("approved_by_name", T("JONES,ROBERT")),
            (
                "history_comments",
                T("Veteran disclosed a plan; safety plan completed."),
            ),
            ("event_site", T("508")),
        ])
        .row(&[
            ("history_id", I(2)),
            ("assignment_id", I(9001)),
            ("patient_key", T("ICN100001")),
            ("source_system", T("CDWWork")),
            ("source_id", T("h2")),
            ("history_date", Ts(ts("2024-04-10 09:00:00"))),
            ("action_code", I(2)),
            ("action_name", T("CONTINUE")),
            ("entered_by_name", T("BROWN,ALEX")),
            ("approved_by_name", T("JONES,ROBERT")),
            ("event_site", T("508")),
        ])
        .load(store)
        .await;

    load_clinical(store).await;

    let started = ts("2026-02-07 01:00:00");
    let run = store
        .begin_run(started, d(AS_OF), "fixture", "none")
        .await
        .expect("begin run");
    store
        .finish_run(
            run,
            RunOutcome {
                finished_at: ts("2026-02-07 01:05:00"),
                status: RunStatus::Succeeded,
                rows: &Default::default(),
                quarantined: &Default::default(),
                error: None,
            },
        )
        .await
        .expect("finish run");
}

// ---------------------------------------------------------------------------
// Clinical rows of ICN100001
//
// Rules that depend on the date ("last 2 years", "recent", a prescription
// that has since expired, an admission long enough to be extended) are
// judged against the real today, so those rows are dated relative to it.

/// Today, as the app sees it (UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `days` days before today at `hh:mm`.
pub fn ago(days: i64, hm: &str) -> NaiveDateTime {
    let t = chrono::NaiveTime::parse_from_str(hm, "%H:%M").expect("time");
    (today() - chrono::Duration::days(days)).and_time(t)
}

/// `days` days after today at noon.
pub fn ahead(days: i64) -> NaiveDateTime {
    (today() + chrono::Duration::days(days))
        .and_hms_opt(12, 0, 0)
        .expect("time")
}

const ADAM: &str = "ICN100001";

fn base(id_col: &'static str, id: i64) -> Vec<(&'static str, V)> {
    vec![
        (id_col, I(id)),
        ("patient_key", T(ADAM)),
        ("source_system", T("CDWWork")),
        ("source_id", S(format!("{id_col}-{id}"))),
    ]
}

fn with(mut row: Vec<(&'static str, V)>, more: Vec<(&'static str, V)>) -> Vec<(&'static str, V)> {
    row.extend(more);
    row
}

fn vital(
    id: i64,
    ty: &'static str,
    abbr: &'static str,
    days: i64,
    value: &'static str,
    unit: &'static str,
    flag: Option<&'static str>,
) -> Vec<(&'static str, V)> {
    let mut more = vec![
        ("vital_sign_id", I(5000 + id)),
        ("vital_type", T(ty)),
        ("vital_abbr", T(abbr)),
        ("taken_datetime", Ts(ago(days, "08:30"))),
        ("result_value", T(value)),
        ("unit_of_measure", T(unit)),
        ("location_name", T("PRIMARY CARE")),
        ("data_source", T("CDWWork")),
        (
            "qualifiers",
            T(r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"}]"#),
        ),
    ];
    if let Some((s, d)) = value.split_once('/') {
        more.push(("systolic", I(s.parse().expect("systolic"))));
        more.push(("diastolic", I(d.parse().expect("diastolic"))));
    } else {
        more.push(("numeric_value", F(value.parse().expect("number"))));
    }
    if let Some(f) = flag {
        more.push(("abnormal_flag", T(f)));
    }
    with(base("vital_id", id), more)
}

fn allergy(
    id: i64,
    name: &'static str,
    ty: &'static str,
    severity: &'static str,
    rank: i64,
    year: &str,
    active: bool,
    reactions: &'static str,
) -> Vec<(&'static str, V)> {
    with(
        base("allergy_id", id),
        vec![
            ("allergy_sid", I(7000 + id)),
            ("allergen_local", T(name)),
            ("allergen_standardized", T(name)),
            ("allergen_type", T(ty)),
            ("severity", T(severity)),
            ("severity_rank", I(rank)),
            ("reactions", T(reactions)),
            ("reaction_count", I(1)),
            (
                "origination_date",
                Ts(ts(&format!("{year}-03-01 10:00:00"))),
            ),
            ("is_active", B(active)),
            ("is_drug_allergy", B(ty == "DRUG")),
        ],
    )
}

fn outpatient(
    id: i64,
    drug: &'static str,
    issued_days_ago: i64,
    stored_status: &'static str,
    expiration: Option<NaiveDateTime>,
    discontinued: Option<NaiveDateTime>,
    controlled: bool,
    dea: Option<&'static str>,
) -> Vec<(&'static str, V)> {
    let mut more = vec![
        ("patient_icn", T(ADAM)),
        ("rx_outpat_id", I(8000 + id)),
        ("prescription_number", S(format!("RX{id:05}"))),
        ("drug_name_local", T(drug)),
        ("issue_date", Ts(ago(issued_days_ago, "09:00"))),
        ("rx_status", T(stored_status)),
        ("rx_status_computed", T(stored_status)),
        ("sig", T("TAKE ONE TABLET BY MOUTH DAILY")),
        ("sig_route", T("ORAL")),
        ("days_supply", I(30)),
        ("refills_remaining", I(2)),
        ("is_controlled_substance", B(controlled)),
        ("is_active", B(stored_status == "ACTIVE")),
        ("ordering_provider_name", T("SMITH,JANE")),
        ("facility_name", T("Atlanta VAMC")),
    ];
    if let Some(e) = expiration {
        more.push(("expiration_date", Ts(e)));
    }
    if let Some(d) = discontinued {
        more.push(("discontinued_date", Ts(d)));
    }
    if let Some(d) = dea {
        more.push(("dea_schedule", T(d)));
    }
    with(base("medication_outpatient_id", id), more)
}

fn inpatient(id: i64, drug: &'static str, days: i64, controlled: bool) -> Vec<(&'static str, V)> {
    with(
        base("medication_inpatient_id", id),
        vec![
            ("patient_icn", T(ADAM)),
            ("bcma_log_id", I(9500 + id)),
            ("drug_name_local", T(drug)),
            ("action_type", T("GIVEN")),
            ("action_datetime", Ts(ago(days, "14:00"))),
            ("dosage_given", T("2 MG")),
            ("route", T("IV")),
            ("administration_variance", B(false)),
            ("is_iv_medication", B(true)),
            ("is_controlled_substance", B(controlled)),
            ("ward_name", T("5 WEST")),
        ],
    )
}

fn encounter(
    id: i64,
    admit_days_ago: i64,
    discharge_days_ago: Option<i64>,
    source: &'static str,
    category: &'static str,
    stored_recent: bool,
    location: &'static str,
    dx: Option<&'static str>,
) -> Vec<(&'static str, V)> {
    let mut row = base("encounter_id", id);
    for (k, v) in row.iter_mut() {
        if *k == "source_system" {
            *v = T(source);
        }
    }
    let mut more = vec![
        ("inpatient_id", I(6000 + id)),
        ("encounter_type", T("INPATIENT")),
        ("admit_datetime", Ts(ago(admit_days_ago, "07:15"))),
        ("admit_location_name", T(location)),
        (
            "encounter_status",
            T(if discharge_days_ago.is_none() {
                "Active"
            } else {
                "Discharged"
            }),
        ),
        ("is_active", B(discharge_days_ago.is_none())),
        ("admission_category", T(category)),
        // Deliberately stale (as of an old load): the app recomputes them.
        ("is_recent", B(stored_recent)),
        ("is_extended_stay", B(false)),
        ("sta3n", T(if source == "CDWWork2" { "648" } else { "508" })),
        (
            "facility_name",
            T(if source == "CDWWork2" {
                "Portland VAMC"
            } else {
                "Atlanta VAMC"
            }),
        ),
        ("data_source", T(source)),
    ];
    if let Some(d) = discharge_days_ago {
        more.push(("discharge_datetime", Ts(ago(d, "11:00"))));
        more.push(("length_of_stay", I(admit_days_ago - d)));
    }
    if let Some(dx) = dx {
        more.push(("discharge_diagnosis_text", T(dx)));
    }
    with(row, more)
}

fn lab(
    id: i64,
    test: &'static str,
    panel: Option<&'static str>,
    accession: &'static str,
    days: i64,
    value: &'static str,
    unit: &'static str,
    flag: Option<&'static str>,
    range: &'static str,
) -> Vec<(&'static str, V)> {
    let mut more = vec![
        ("lab_chem_sid", I(4000 + id)),
        ("lab_test_name", T(test)),
        ("accession_number", T(accession)),
        ("result_value", T(value)),
        ("result_numeric", F(value.parse().expect("lab value"))),
        ("result_unit", T(unit)),
        ("is_abnormal", B(flag.is_some())),
        (
            "is_critical",
            B(matches!(flag, Some("H*" | "L*" | "PANIC"))),
        ),
        ("ref_range_text", T(range)),
        ("collection_datetime", Ts(ago(days, "07:00"))),
        ("result_datetime", Ts(ago(days, "11:00"))),
        ("collection_location", T("LAB")),
        ("vista_package", T("CH")),
    ];
    if let Some(p) = panel {
        more.push(("panel_name", T(p)));
    }
    if let Some(f) = flag {
        more.push(("abnormal_flag", T(f)));
    }
    with(base("lab_id", id), more)
}

fn note(
    id: i64,
    class: &'static str,
    title: &'static str,
    days: i64,
    author: &'static str,
    preview: &'static str,
) -> Vec<(&'static str, V)> {
    with(
        base("note_id", id),
        vec![
            ("tiu_document_sid", I(3000 + id)),
            ("document_title", T(title)),
            ("document_class", T(class)),
            ("status", T("COMPLETED")),
            ("reference_datetime", Ts(ago(days, "10:00"))),
            ("entry_datetime", Ts(ago(days, "10:30"))),
            ("author_name", T(author)),
            ("facility_name", T("Atlanta VAMC")),
            (
                "document_text",
                S(format!("{preview} Full text of note {id}.")),
            ),
            ("text_length", I(200)),
            ("text_preview", T(preview)),
        ],
    )
}

fn immunization(
    id: i64,
    vaccine: &'static str,
    cvx: &'static str,
    days: i64,
    series: Option<&'static str>,
    complete: Option<bool>,
    reaction: Option<&'static str>,
    annual: bool,
    covid: bool,
) -> Vec<(&'static str, V)> {
    let mut more = vec![
        ("immunization_sid", S(format!("V-{id}"))),
        ("cvx_code", T(cvx)),
        ("vaccine_name", T(vaccine)),
        ("administered_datetime", Ts(ago(days, "09:45"))),
        ("route", T("IM")),
        ("has_adverse_reaction", B(reaction.is_some())),
        ("is_annual_vaccine", B(annual)),
        ("is_covid_vaccine", B(covid)),
    ];
    if let Some(s) = series {
        more.push(("series", T(s)));
    }
    if let Some(c) = complete {
        more.push(("is_series_complete", B(c)));
    }
    if let Some(r) = reaction {
        more.push(("adverse_reaction", T(r)));
    }
    with(base("immunization_id", id), more)
}

fn problem(
    id: i64,
    status: &'static str,
    icd: &'static str,
    text: &'static str,
    charlson: Option<(&'static str, i64)>,
    chronic: bool,
    onset: &str,
    category: &'static str,
) -> Vec<(&'static str, V)> {
    let mut more = vec![
        ("patient_icn", T(ADAM)),
        ("problem_sid", I(2000 + id)),
        ("icd10_code", T(icd)),
        ("icd10_description", T(text)),
        ("icd10_category", T(category)),
        ("diagnosis_description", T(text)),
        ("problem_status", T(status)),
        ("chronic_condition", B(chronic)),
        ("service_connected", B(id == 4)),
        ("onset_date", D(d(onset))),
        ("source_ehr", T("VistA")),
        // The stored aggregates are left at 0 (as in the reference's full
        // page, quirk 6): the app computes the index from the rows.
        ("charlson_index", I(0)),
        ("charlson_condition_count", I(0)),
        ("total_problem_count", I(6)),
        ("active_problem_count", I(4)),
        ("inactive_problem_count", I(1)),
        ("resolved_problem_count", I(1)),
        ("chronic_problem_count", I(4)),
        ("service_connected_count", I(1)),
    ];
    for flag in [
        "has_chf",
        "has_cad",
        "has_afib",
        "has_hypertension",
        "has_copd",
        "has_asthma",
        "has_diabetes",
        "has_hyperlipidemia",
        "has_ckd",
        "has_depression",
        "has_ptsd",
        "has_anxiety",
        "has_cancer",
        "has_osteoarthritis",
        "has_back_pain",
    ] {
        more.push((flag, B(false)));
    }
    if let Some((condition, weight)) = charlson {
        more.push(("icd10_charlson_condition", T(condition)));
        more.push(("charlson_weight", I(weight)));
    }
    with(base("problem_id", id), more)
}

fn family(
    id: i64,
    code: &'static str,
    name: &'static str,
    first_degree: bool,
    condition: &'static str,
    category: &'static str,
    hereditary: bool,
    days: i64,
) -> Vec<(&'static str, V)> {
    with(
        base("family_history_id", id),
        vec![
            ("patient_icn", T(ADAM)),
            ("source_ehr", T("VistA")),
            ("relationship_code", T(code)),
            ("relationship_name", T(name)),
            (
                "relationship_degree",
                T(if first_degree {
                    "FIRST_DEGREE"
                } else {
                    "SECOND_DEGREE"
                }),
            ),
            ("condition_name", T(condition)),
            ("condition_category", T(category)),
            ("risk_condition_group", T(category)),
            ("hereditary_risk_flag", B(hereditary)),
            ("first_degree_relative_flag", B(first_degree)),
            ("clinical_status", T("ACTIVE")),
            ("is_active", B(true)),
            ("onset_age_years", I(50 + id)),
            ("recorded_datetime", Ts(ago(days, "13:00"))),
            ("family_history_count_total", I(3)),
            ("family_history_count_active", I(3)),
            ("family_history_count_first_degree", I(2)),
            ("family_history_count_first_degree_high_risk", I(2)),
        ],
    )
}

/// Clinical rows of `ICN100001` in every domain, with known summaries:
///
/// - vitals: latest BP 148/92 HIGH, T 98.6, P 72, R 16, POX 89 LOW, PN 7
///   HIGH → 3 abnormal (an older normal BP, and a weight the widget skips);
/// - allergies: 7 active + 1 inactive; top 6 in the critical order,
///   PENICILLIN first; 2 severe, 3 drug;
/// - medications: 5 outpatient (OXYCODONE C-II controlled and active;
///   METFORMIN stored ACTIVE but expired since; ALPRAZOLAM with a C-IV
///   schedule but no controlled flag), 2 inpatient (MORPHINE controlled);
/// - encounters: 5, one active admission 20 days in (extended), one
///   discharged 10 days ago (recent), one from CDWWork2 (Cerner);
/// - labs: panels BMP (2 abnormal), CBC (1), older BMP, an older lipid
///   panel and an individual HbA1c → 3 abnormal in the 3 recent panels;
/// - notes: 4, the newest a PRIMARY CARE NOTE by SMITH,JANE;
/// - immunizations: 7, 6 in the last 2 years (5 shown), 2 incomplete,
///   1 reaction;
/// - problems: 4 active with Charlson conditions CHF (1), diabetes with
///   complications (2), renal (2) → Charlson 5, High; a resolved cancer
///   and an inactive asthma that do not count;
/// - family history: 3 entries, 2 first-degree with a hereditary risk;
/// - tasks: 3 active (HIGH, MEDIUM in progress, LOW) and 1 completed.
pub async fn load_clinical(store: &Store) {
    Rows::new(&catalog::PATIENT_VITALS)
        .row(&vital(
            1,
            "BLOOD PRESSURE",
            "BP",
            2,
            "148/92",
            "mmHg",
            Some("HIGH"),
        ))
        .row(&vital(
            2,
            "BLOOD PRESSURE",
            "BP",
            30,
            "118/76",
            "mmHg",
            Some("NORMAL"),
        ))
        .row(&vital(
            3,
            "TEMPERATURE",
            "T",
            2,
            "98.6",
            "F",
            Some("NORMAL"),
        ))
        .row(&vital(4, "PULSE", "P", 2, "72", "/min", Some("NORMAL")))
        .row(&vital(
            5,
            "RESPIRATION",
            "R",
            2,
            "16",
            "/min",
            Some("NORMAL"),
        ))
        .row(&vital(
            6,
            "PULSE OXIMETRY",
            "POX",
            2,
            "89",
            "%",
            Some("LOW"),
        ))
        .row(&vital(7, "PAIN", "PN", 2, "7", "0-10", Some("HIGH")))
        .row(&vital(8, "WEIGHT", "WT", 2, "182", "lb", None))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_ALLERGIES)
        .row(&allergy(
            1,
            "PENICILLIN",
            "DRUG",
            "SEVERE",
            3,
            "2015",
            true,
            "HIVES, ANAPHYLAXIS",
        ))
        .row(&allergy(
            2, "CODEINE", "DRUG", "MODERATE", 2, "2018", true, "NAUSEA",
        ))
        .row(&allergy(
            3, "ASPIRIN", "DRUG", "MILD", 1, "2020", true, "RASH",
        ))
        .row(&allergy(
            4,
            "SULFA DRUGS",
            "DRUG",
            "SEVERE",
            3,
            "2010",
            false,
            "RASH",
        ))
        .row(&allergy(
            5,
            "PEANUTS",
            "FOOD",
            "SEVERE",
            3,
            "2019",
            true,
            "ANAPHYLAXIS",
        ))
        .row(&allergy(
            6,
            "LATEX",
            "ENVIRONMENTAL",
            "MODERATE",
            2,
            "2017",
            true,
            "ITCHING",
        ))
        .row(&allergy(
            7,
            "SHELLFISH",
            "FOOD",
            "MILD",
            1,
            "2016",
            true,
            "HIVES",
        ))
        .row(&allergy(
            8,
            "POLLEN",
            "ENVIRONMENTAL",
            "MILD",
            1,
            "2021",
            true,
            "SNEEZING",
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_MEDICATIONS_OUTPATIENT)
        .row(&outpatient(
            1,
            "LISINOPRIL 10MG TAB",
            30,
            "ACTIVE",
            Some(ahead(300)),
            None,
            false,
            None,
        ))
        .row(&outpatient(
            2,
            "OXYCODONE 5MG TAB",
            10,
            "ACTIVE",
            Some(ahead(20)),
            None,
            true,
            Some("C-II"),
        ))
        .row(&outpatient(
            3,
            "METFORMIN 500MG TAB",
            400,
            "ACTIVE",
            Some(ago(35, "00:00")),
            None,
            false,
            None,
        ))
        .row(&outpatient(
            4,
            "ATORVASTATIN 40MG TAB",
            200,
            "DISCONTINUED",
            Some(ahead(100)),
            Some(ago(100, "10:00")),
            false,
            None,
        ))
        .row(&outpatient(
            5,
            "ALPRAZOLAM 0.5MG TAB",
            500,
            "EXPIRED",
            Some(ago(300, "00:00")),
            None,
            false,
            Some("C-IV"),
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_MEDICATIONS_INPATIENT)
        .row(&inpatient(1, "MORPHINE 2MG/ML INJ", 5, true))
        .row(&inpatient(2, "HEPARIN 5000 UNIT/ML INJ", 6, false))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_ENCOUNTERS)
        .row(&encounter(
            1,
            20,
            None,
            "CDWWork",
            "Active Admission",
            false,
            "5 WEST MEDICINE",
            None,
        ))
        .row(&encounter(
            2,
            14,
            Some(10),
            "CDWWork",
            "Standard Stay",
            true,
            "4 EAST CARDIOLOGY",
            Some("CHEST PAIN"),
        ))
        .row(&encounter(
            3,
            60,
            Some(57),
            "CDWWork2",
            "Short Stay",
            true,
            "MED/SURG",
            Some("PNEUMONIA"),
        ))
        .row(&encounter(
            4,
            400,
            Some(395),
            "CDWWork",
            "Standard Stay",
            false,
            "5 WEST MEDICINE",
            Some("CHF EXACERBATION"),
        ))
        .row(&encounter(
            5,
            800,
            Some(798),
            "CDWWork",
            "Short Stay",
            false,
            "4 EAST CARDIOLOGY",
            None,
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_LABS)
        .row(&lab(
            1,
            "Glucose",
            Some("BMP"),
            "CH 0001",
            3,
            "182",
            "mg/dL",
            Some("H"),
            "70-110",
        ))
        .row(&lab(
            2,
            "Creatinine",
            Some("BMP"),
            "CH 0001",
            3,
            "1.1",
            "mg/dL",
            None,
            "0.7-1.3",
        ))
        .row(&lab(
            3,
            "Sodium",
            Some("BMP"),
            "CH 0001",
            3,
            "128",
            "mmol/L",
            Some("L*"),
            "135-145",
        ))
        .row(&lab(
            4,
            "Potassium",
            Some("BMP"),
            "CH 0001",
            3,
            "4.1",
            "mmol/L",
            None,
            "3.5-5.1",
        ))
        .row(&lab(
            5,
            "Hemoglobin",
            Some("CBC"),
            "CH 0002",
            20,
            "11.2",
            "g/dL",
            Some("L"),
            "13.5-17.5",
        ))
        .row(&lab(
            6,
            "WBC",
            Some("CBC"),
            "CH 0002",
            20,
            "7.0",
            "K/uL",
            None,
            "4.5-11.0",
        ))
        .row(&lab(
            7,
            "Glucose",
            Some("BMP"),
            "CH 0003",
            60,
            "99",
            "mg/dL",
            None,
            "70-110",
        ))
        .row(&lab(
            8,
            "Creatinine",
            Some("BMP"),
            "CH 0003",
            60,
            "1.0",
            "mg/dL",
            None,
            "0.7-1.3",
        ))
        .row(&lab(
            9,
            "LDL Cholesterol",
            Some("Lipid Panel"),
            "CH 0004",
            200,
            "160",
            "mg/dL",
            Some("H"),
            "<100",
        ))
        .row(&lab(
            10,
            "Hemoglobin A1c",
            None,
            "CH 0005",
            3,
            "7.9",
            "%",
            Some("H"),
            "4.0-5.6",
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_CLINICAL_NOTES)
        .row(&note(
            1,
            "Progress Notes",
            "PRIMARY CARE NOTE",
            1,
            "SMITH,JANE",
            "Follow-up of hypertension and diabetes; BP elevated today.",
        ))
        .row(&note(
            2,
            "Consults",
            "CARDIOLOGY CONSULT",
            5,
            "JONES,ROBERT",
            "Consulted for heart failure management.",
        ))
        .row(&note(
            3,
            "Discharge Summaries",
            "DISCHARGE SUMMARY",
            10,
            "BROWN,ALEX",
            "Admitted for chest pain; ruled out MI.",
        ))
        .row(&note(
            4,
            "Progress Notes",
            "NURSING NOTE",
            100,
            "GREEN,PAT",
            "Routine nursing assessment.",
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_IMMUNIZATIONS)
        .row(&immunization(
            1,
            "INFLUENZA, SEASONAL",
            "140",
            30,
            Some("ANNUAL"),
            None,
            None,
            true,
            false,
        ))
        .row(&immunization(
            2,
            "COVID-19 MRNA",
            "208",
            100,
            Some("1 of 2"),
            Some(false),
            None,
            false,
            true,
        ))
        .row(&immunization(
            3,
            "ZOSTER RECOMBINANT",
            "187",
            400,
            Some("1 of 2"),
            Some(false),
            None,
            false,
            false,
        ))
        .row(&immunization(
            4,
            "TDAP",
            "115",
            500,
            Some("BOOSTER"),
            None,
            Some("FEVER"),
            false,
            false,
        ))
        .row(&immunization(
            5,
            "PNEUMOCOCCAL CONJUGATE PCV20",
            "216",
            600,
            Some("1"),
            Some(true),
            None,
            false,
            false,
        ))
        .row(&immunization(
            6,
            "HEPATITIS B",
            "43",
            700,
            Some("3 of 3"),
            Some(true),
            None,
            false,
            false,
        ))
        .row(&immunization(
            7,
            "INFLUENZA, SEASONAL",
            "140",
            1000,
            Some("ANNUAL"),
            None,
            None,
            true,
            false,
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_PROBLEMS)
        .row(&problem(
            1,
            "Active",
            "I50.9",
            "Heart failure, unspecified",
            Some(("Congestive Heart Failure", 1)),
            true,
            "2019-05-01",
            "Cardiovascular",
        ))
        .row(&problem(
            2,
            "Active",
            "E11.22",
            "Type 2 diabetes with diabetic CKD",
            Some(("Diabetes with Chronic Complications", 2)),
            true,
            "2015-02-01",
            "Endocrine",
        ))
        .row(&problem(
            3,
            "Active",
            "N18.4",
            "Chronic kidney disease, stage 4",
            Some(("Moderate or Severe Renal Disease", 2)),
            true,
            "2020-08-01",
            "Renal",
        ))
        .row(&problem(
            4,
            "Active",
            "I10",
            "Essential hypertension",
            None,
            true,
            "2010-01-01",
            "Cardiovascular",
        ))
        .row(&problem(
            5,
            "Resolved",
            "C61",
            "Malignant neoplasm of prostate",
            Some(("Any Malignancy", 2)),
            false,
            "2012-01-01",
            "Oncology",
        ))
        .row(&problem(
            6,
            "Inactive",
            "J45.909",
            "Asthma, uncomplicated",
            None,
            false,
            "2000-01-01",
            "Respiratory",
        ))
        .load(store)
        .await;

    Rows::new(&catalog::PATIENT_FAMILY_HISTORY)
        .row(&family(
            1,
            "MOTHER",
            "Mother",
            true,
            "Breast cancer",
            "Oncology",
            true,
            100,
        ))
        .row(&family(
            2,
            "FATHER",
            "Father",
            true,
            "Coronary artery disease",
            "Cardiovascular",
            true,
            300,
        ))
        .row(&family(
            3,
            "UNCLE",
            "Maternal uncle",
            false,
            "Type 2 diabetes",
            "Endocrine",
            true,
            50,
        ))
        .load(store)
        .await;

    use domain::record::{NewTask, TaskPriority, TaskStatus};
    let task = |title: &str, priority: TaskPriority| NewTask {
        patient_key: ADAM.into(),
        title: title.into(),
        description: Some(format!("{title} (fixture)")),
        priority,
        created_by_user_id: "fixture-user".into(),
        created_by_display_name: Some("Dr. Fixture".into()),
        is_ai_generated: false,
        ai_suggestion_source: None,
    };
    store
        .create_task(
            &task("Review HbA1c trend", TaskPriority::High),
            ago(1, "09:00"),
        )
        .await
        .expect("task");
    let follow_up = store
        .create_task(
            &task("Schedule cardiology follow-up", TaskPriority::Medium),
            ago(2, "09:00"),
        )
        .await
        .expect("task");
    store
        .set_task_status(
            follow_up.task_id,
            TaskStatus::InProgress,
            "fixture-user",
            Some("Dr. Fixture"),
            ago(1, "10:00"),
        )
        .await
        .expect("start task");
    store
        .create_task(
            &task("Update medication list", TaskPriority::Low),
            ago(3, "09:00"),
        )
        .await
        .expect("task");
    let done = store
        .create_task(
            &task("Order chest X-ray", TaskPriority::High),
            ago(4, "09:00"),
        )
        .await
        .expect("task");
    store
        .set_task_status(
            done.task_id,
            TaskStatus::Completed,
            "fixture-user",
            Some("Dr. Fixture"),
            ago(3, "10:00"),
        )
        .await
        .expect("complete task");
}
