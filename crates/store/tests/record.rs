//! The read model (`store::record`), one test body run against both
//! backends: SQLite in a temp dir and PostgreSQL in a throwaway cluster
//! (skipped when PostgreSQL is not installed, unless `CI` or
//! `MEDZ1_REQUIRE_PG` is set; see the `pgtest` crate).
//!
//! The fixture is loaded with `replace_table`, as the ETL does. Every row
//! read back is compared column by column with the fixture row it came from
//! (so decoding of every column kind, NULLs and booleans is checked on both
//! backends), and every ordering is checked as an exact list of keys.

use chrono::{NaiveDate, NaiveDateTime};
use columnar::{Batch, Column, Values};
use domain::record::{NewTask, SearchKind, TaskPriority, TaskStatus, TaskUpdate};
use futures_util::stream;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use store::catalog::{self, ColType, ServingTable};
use store::{ServingStore, Store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A fixture cell; its column's type in the catalog decides the kind.
#[derive(Debug, Clone)]
enum V {
    T(&'static str),
    I(i64),
    F(f64),
    B(bool),
    Null,
}
use V::{B, F, I, Null, T};

type Row = Vec<(&'static str, V)>;

/// The row with every NOT NULL column it leaves out filled with a default
/// (`source_system` CDWWork, `source_id` = the key, else zero/false/empty).
fn complete(table: &ServingTable, row: &Row) -> BTreeMap<&'static str, V> {
    let mut m: BTreeMap<&'static str, V> = row.iter().cloned().collect();
    for (name, _) in row {
        assert!(table.column(name).is_some(), "{name} not in {}", table.name);
    }
    let key = match &m[table.columns[0].name] {
        I(i) => i.to_string(),
        T(s) => s.to_string(),
        v => panic!("bad key {v:?}"),
    };
    let key: &'static str = Box::leak(key.into_boxed_str());
    for c in table.columns.iter().filter(|c| !c.nullable) {
        m.entry(c.name).or_insert(match (c.name, c.ty) {
            ("source_system", _) => T("CDWWork"),
            ("source_id", _) => T(key),
            (_, ColType::Text | ColType::Json) => T(""),
            (_, ColType::Int) => I(0),
            (_, ColType::Float) => F(0.0),
            (_, ColType::Bool) => B(false),
            (_, ColType::Date) => T("2000-01-01"),
            (_, ColType::Timestamp) => T("2000-01-01 00:00:00"),
        });
    }
    m
}

fn batch(table: &ServingTable, rows: &[Row]) -> Batch {
    let rows: Vec<_> = rows.iter().map(|r| complete(table, r)).collect();
    let mut names: Vec<&str> = rows.iter().flat_map(|r| r.keys().copied()).collect();
    names.sort();
    names.dedup();
    let columns = names
        .into_iter()
        .map(|name| {
            let ty = table.column(name).unwrap().ty;
            let cells = rows.iter().map(|r| r.get(name).cloned().unwrap_or(Null));
            let values = match ty {
                ColType::Text | ColType::Json => Values::Text(
                    cells
                        .map(|v| match v {
                            T(s) => Some(s.to_string()),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
                ColType::Int => Values::Int(
                    cells
                        .map(|v| match v {
                            I(i) => Some(i),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
                ColType::Float => Values::Float(
                    cells
                        .map(|v| match v {
                            F(f) => Some(f),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
                ColType::Bool => Values::Bool(
                    cells
                        .map(|v| match v {
                            B(b) => Some(b),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
                ColType::Date => Values::Date(
                    cells
                        .map(|v| match v {
                            T(s) => Some(date(s)),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
                ColType::Timestamp => Values::Timestamp(
                    cells
                        .map(|v| match v {
                            T(s) => Some(ts(s)),
                            Null => None,
                            v => panic!("{name}: {v:?}"),
                        })
                        .collect(),
                ),
            };
            Column::new(name, values)
        })
        .collect();
    Batch::new(columns).unwrap()
}

/// The JSON the read model should serialise a fixture cell as.
fn expected_json(ty: ColType, v: &V) -> Json {
    match (ty, v) {
        (_, Null) => Json::Null,
        (ColType::Timestamp, T(s)) => serde_json::to_value(ts(s)).unwrap(),
        (ColType::Date, T(s)) => serde_json::to_value(date(s)).unwrap(),
        (ColType::Json, T(s)) => serde_json::from_str(s).unwrap(),
        (_, T(s)) => json!(s),
        (_, I(i)) => json!(i),
        (_, F(f)) => json!(f),
        (_, B(b)) => json!(b),
    }
}

/// A serving table's fixture: rows by key.
struct Fixture {
    table: &'static ServingTable,
    rows: Vec<Row>,
}

impl Fixture {
    fn new(table: &'static ServingTable, rows: Vec<Row>) -> Fixture {
        Fixture { table, rows }
    }

    async fn load(&self, s: &Store) {
        let b: Vec<Result<Batch, BoxError>> = vec![Ok(batch(self.table, &self.rows))];
        let n = s.replace_table(self.table, stream::iter(b)).await.unwrap();
        assert_eq!(n as usize, self.rows.len());
    }

    fn row(&self, key: &Json) -> BTreeMap<&'static str, V> {
        let pk = self.table.columns[0].name;
        let r = self
            .rows
            .iter()
            .find(|r| {
                expected_json(
                    self.table.columns[0].ty,
                    &r.iter().find(|c| c.0 == pk).unwrap().1,
                ) == *key
            })
            .unwrap_or_else(|| panic!("{}: no fixture row {key}", self.table.name));
        complete(self.table, r)
    }

    /// `got` (serialised read-model rows) are exactly the fixture rows
    /// `keys`, in that order, with every column as loaded; `hidden` columns
    /// must be absent; a NULL JSON column reads as an empty list.
    fn check<T: serde::Serialize, K: serde::Serialize>(
        &self,
        got: &[T],
        keys: &[K],
        hidden: &[&str],
    ) -> Vec<Json> {
        let pk = self.table.columns[0].name;
        let got: Vec<Json> = got
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect();
        let got_keys: Vec<Json> = got.iter().map(|r| r[pk].clone()).collect();
        let want_keys: Vec<Json> = keys
            .iter()
            .map(|k| serde_json::to_value(k).unwrap())
            .collect();
        assert_eq!(got_keys, want_keys, "{} order", self.table.name);
        for g in &got {
            let want = self.row(&g[pk]);
            let obj = g.as_object().unwrap();
            for c in self.table.columns {
                if hidden.contains(&c.name) {
                    assert!(
                        !obj.contains_key(c.name),
                        "{} exposes {}",
                        self.table.name,
                        c.name
                    );
                    continue;
                }
                let v = want.get(c.name).cloned().unwrap_or(Null);
                let mut e = expected_json(c.ty, &v);
                if c.ty == ColType::Json && e.is_null() {
                    e = json!([]);
                }
                assert_eq!(
                    obj.get(c.name),
                    Some(&e),
                    "{}.{} of {}",
                    self.table.name,
                    c.name,
                    g[pk]
                );
            }
            assert_eq!(
                obj.len(),
                self.table.columns.len() - hidden.len(),
                "{}: unexpected fields in {g}",
                self.table.name
            );
        }
        got
    }
}

const P1: &str = "ICN100001";
const P2: &str = "ICN100002";

fn fixtures() -> Vec<Fixture> {
    use catalog::*;
    let demo = |key: &'static str, last: V, first: V, display: V, extra: Row| -> Row {
        let mut r = vec![
            ("patient_key", T(key)),
            ("icn", T(key)),
            ("name_last", last),
            ("name_first", first),
            ("name_display", display),
        ];
        r.extend(extra);
        r
    };
    vec![
        Fixture::new(
            &PATIENT_DEMOGRAPHICS,
            vec![
                demo(
                    P1,
                    T("SMITH"),
                    T("JOHN"),
                    T("SMITH, John"),
                    vec![
                        ("source_id", T("100001")),
                        ("ssn", T("666123456")),
                        ("ssn_last4", T("3456")),
                        ("dob", T("1955-03-14")),
                        ("age", I(70)),
                        ("sex", T("M")),
                        ("gender", T("Male")),
                        ("primary_station", T("508")),
                        ("primary_station_name", T("Atlanta VAMC")),
                        ("address_street1", T("1 Main St")),
                        ("address_city", T("Atlanta")),
                        ("address_state", T("GA")),
                        ("address_zip", T("30301")),
                        ("phone_primary", T("404-555-0100")),
                        ("insurance_company_name", T("Medicare")),
                        ("marital_status", T("MARRIED")),
                        ("religion", T("CATHOLIC")),
                        ("service_connected_percent", F(70.5)),
                        ("deceased_flag", T("N")),
                        ("veteran_status", T("VETERAN")),
                        ("is_test_patient", B(false)),
                        ("is_sensitive", B(true)),
                        ("last_updated", T("2025-12-01 02:03:04.5")),
                    ],
                ),
                demo(
                    P2,
                    T("SMITHERS"),
                    T("MARY ANN"),
                    T("SMITHERS, Mary Ann"),
                    vec![("sex", T("F")), ("is_test_patient", B(true))],
                ),
                demo(
                    "ICN100003",
                    T("JONES"),
                    T("SMITHY"),
                    T("JONES, Smithy"),
                    vec![],
                ),
                demo("ICN100004", T("smith"), T("adam"), T("smith, adam"), vec![]),
                demo(
                    "ICN100005",
                    T("O'BRIEN"),
                    T("PAT"),
                    T("O'BRIEN, Pat"),
                    vec![("deceased_flag", T("Y")), ("death_date", T("2024-02-29"))],
                ),
                demo("ICN100006", Null, Null, Null, vec![]),
                demo("1016V123456", T("DOE"), T("JANE"), T("DOE, Jane"), vec![]),
            ],
        ),
        Fixture::new(
            &PATIENT_MILITARY_HISTORY,
            vec![vec![
                ("patient_key", T(P1)),
                ("icn", T(P1)),
                ("service_connected_flag", T("Y")),
                ("service_connected_percent", F(70.0)),
                ("agent_orange_exposure", T("Y")),
                ("agent_orange_location", T("VIETNAM")),
                ("pow_status", T("N")),
                ("last_updated", T("2025-01-01 00:00:00")),
            ]],
        ),
        Fixture::new(
            &PATIENT_FLAGS,
            vec![
                flag(1, P1, "II", true, T("2024-01-01 10:00:00")),
                flag(2, P1, "I", false, T("2025-01-01 10:00:00")),
                flag(3, P1, "I", true, T("2023-05-05 10:00:00")),
                flag(4, P1, "I", true, Null),
                flag(5, P1, "I", true, T("2024-06-01 10:00:00")),
                flag(6, P2, "I", true, T("2026-01-01 10:00:00")),
            ],
        ),
        Fixture::new(
            &PATIENT_FLAG_HISTORY,
            vec![
                history(1, 5001, P1, "2024-06-01 10:00:00", "NEW ASSIGNMENT"),
                history(2, 5001, P1, "2024-09-01 10:00:00", "CONTINUE"),
                history(3, 5001, P2, "2024-10-01 10:00:00", "INACTIVATE"),
                history(4, 5002, P1, "2024-11-01 10:00:00", "NEW ASSIGNMENT"),
                history(5, 5001, P1, "2024-07-01 10:00:00.25", "CONTINUE"),
            ],
        ),
        Fixture::new(
            &PATIENT_VITALS,
            vec![
                vec![
                    ("vital_id", I(1)),
                    ("patient_key", T(P1)),
                    ("vital_type", T("BLOOD PRESSURE")),
                    ("vital_abbr", T("BP")),
                    ("taken_datetime", T("2025-01-02 03:04:05")),
                    ("result_value", T("185/125")),
                    ("systolic", I(185)),
                    ("diastolic", I(125)),
                    ("unit_of_measure", T("mmHg")),
                    (
                        "qualifiers",
                        T(
                            r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"},{"qualifier_type":"SITE","qualifier_name":"L ARM"}]"#,
                        ),
                    ),
                    ("abnormal_flag", T("CRITICAL")),
                    ("data_source", T("CDWWork")),
                ],
                vec![
                    ("vital_id", I(2)),
                    ("patient_key", T(P1)),
                    ("vital_type", T("WEIGHT")),
                    ("taken_datetime", T("2025-03-02 03:04:05.250")),
                    ("numeric_value", F(81.6474)),
                    ("metric_value", F(37.03)),
                    ("qualifiers", T("[]")),
                    ("data_source", T("CDWWork2")),
                ],
                vec![
                    ("vital_id", I(3)),
                    ("patient_key", T(P1)),
                    ("vital_type", T("PULSE")),
                    ("taken_datetime", T("2024-12-31 23:59:59")),
                    ("data_source", T("CDWWork")),
                ],
                vec![
                    ("vital_id", I(4)),
                    ("patient_key", T(P2)),
                    ("vital_type", T("PULSE")),
                    ("taken_datetime", T("2026-01-01 00:00:00")),
                    ("data_source", T("CDWWork")),
                ],
            ],
        ),
        Fixture::new(
            &PATIENT_ALLERGIES,
            vec![
                allergy(1, P1, true, I(2), "2020-01-01 00:00:00", true),
                allergy(2, P1, false, I(3), "2022-01-01 00:00:00", true),
                allergy(3, P1, true, I(3), "2019-01-01 00:00:00", true),
                allergy(4, P1, true, Null, "2023-01-01 00:00:00", true),
                allergy(5, P1, true, I(3), "2021-01-01 00:00:00", false),
                allergy(6, P2, true, I(3), "2021-01-01 00:00:00", true),
            ],
        ),
        Fixture::new(
            &PATIENT_ALLERGY_REACTIONS,
            vec![
                vec![
                    ("reaction_id", I(1)),
                    ("patient_key", T(P1)),
                    ("allergy_sid", I(3)),
                    ("reaction_name", T("HIVES")),
                ],
                vec![
                    ("reaction_id", I(2)),
                    ("patient_key", T(P1)),
                    ("allergy_sid", I(1)),
                    ("reaction_name", T("RASH")),
                ],
                vec![
                    ("reaction_id", I(3)),
                    ("patient_key", T(P2)),
                    ("allergy_sid", I(6)),
                    ("reaction_name", T("RASH")),
                ],
                vec![
                    ("reaction_id", I(4)),
                    ("patient_key", T(P1)),
                    ("allergy_sid", I(1)),
                    ("reaction_name", T("ITCHING")),
                ],
            ],
        ),
        Fixture::new(
            &PATIENT_MEDICATIONS_OUTPATIENT,
            vec![
                outpatient(1, P1, T("2024-01-01 00:00:00")),
                outpatient(2, P1, Null),
                outpatient(3, P1, T("2025-01-01 00:00:00")),
                outpatient(4, P2, T("2025-06-01 00:00:00")),
            ],
        ),
        Fixture::new(
            &PATIENT_MEDICATIONS_INPATIENT,
            vec![
                vec![
                    ("medication_inpatient_id", I(1)),
                    ("patient_icn", T(P1)),
                    ("patient_key", T(P1)),
                    ("action_type", T("GIVEN")),
                    ("action_datetime", T("2025-01-01 08:00:00")),
                    ("is_iv_medication", B(true)),
                ],
                vec![
                    ("medication_inpatient_id", I(2)),
                    ("patient_icn", T(P1)),
                    ("patient_key", T(P1)),
                    ("action_datetime", T("2025-01-02 08:00:00")),
                    ("administration_variance", B(true)),
                ],
                vec![
                    ("medication_inpatient_id", I(3)),
                    ("patient_icn", T(P2)),
                    ("patient_key", T(P2)),
                    ("action_datetime", T("2025-01-03 08:00:00")),
                ],
            ],
        ),
        Fixture::new(
            &PATIENT_ENCOUNTERS,
            vec![
                encounter(
                    1,
                    P1,
                    "2024-01-01 00:00:00",
                    vec![("is_active", B(false)), ("length_of_stay", I(3))],
                ),
                encounter(
                    2,
                    P1,
                    "2025-01-01 00:00:00",
                    vec![("is_active", B(true)), ("is_extended_stay", B(true))],
                ),
                encounter(3, P2, "2025-02-01 00:00:00", vec![]),
            ],
        ),
        Fixture::new(
            &PATIENT_LABS,
            vec![
                lab(1, P1, "2025-01-01 08:00:00", T("BMP"), vec![]),
                lab(
                    2,
                    P1,
                    "2025-02-01 08:00:00",
                    T("CBC"),
                    vec![
                        ("abnormal_flag", T("H*")),
                        ("is_abnormal", B(true)),
                        ("is_critical", B(true)),
                        ("result_numeric", F(12.5)),
                    ],
                ),
                lab(3, P1, "2025-02-01 08:00:00", T("CBC"), vec![]),
                lab(4, P1, "2024-02-01 08:00:00", Null, vec![]),
                lab(5, P2, "2026-02-01 08:00:00", Null, vec![]),
            ],
        ),
        Fixture::new(
            &PATIENT_CLINICAL_NOTES,
            vec![
                note(1, P1, "2025-01-01 09:00:00", T("Full text one.")),
                note(2, P1, "2025-03-01 09:00:00", Null),
                note(3, P2, "2025-04-01 09:00:00", T("Other patient's text.")),
            ],
        ),
        Fixture::new(
            &PATIENT_IMMUNIZATIONS,
            vec![
                immunization(
                    1,
                    P1,
                    "2024-10-01 10:00:00",
                    vec![("is_series_complete", Null), ("is_annual_vaccine", B(true))],
                ),
                immunization(
                    2,
                    P1,
                    "2025-10-01 10:00:00",
                    vec![
                        ("is_series_complete", B(false)),
                        ("dose_number", I(1)),
                        ("total_doses", I(2)),
                    ],
                ),
                immunization(
                    3,
                    P2,
                    "2025-10-01 10:00:00",
                    vec![("is_series_complete", B(true))],
                ),
            ],
        ),
        Fixture::new(
            &PATIENT_PROBLEMS,
            vec![
                problem(1, P1, "Resolved", T("2010-01-01")),
                problem(2, P1, "Active", T("2015-01-01")),
                problem(3, P1, "Inactive", T("2020-01-01")),
                problem(4, P1, "Active", Null),
                problem(5, P1, "Active", T("2018-01-01")),
                problem(6, P2, "Active", T("2018-01-01")),
            ],
        ),
        Fixture::new(
            &PATIENT_FAMILY_HISTORY,
            vec![
                family(1, P1, T("2020-01-01 00:00:00")),
                family(2, P1, Null),
                family(3, P1, T("2024-01-01 00:00:00")),
                family(4, P2, T("2025-01-01 00:00:00")),
            ],
        ),
    ]
}

fn flag(id: i64, p: &'static str, category: &'static str, active: bool, assigned: V) -> Row {
    vec![
        ("flag_id", I(id)),
        ("patient_key", T(p)),
        ("assignment_id", I(5000 + id)),
        ("flag_name", T("HIGH RISK FOR SUICIDE")),
        ("flag_category", T(category)),
        ("is_active", B(active)),
        ("assignment_date", assigned),
        ("review_status", T("OVERDUE")),
        ("review_frequency_days", I(90)),
    ]
}

fn history(
    id: i64,
    assignment: i64,
    p: &'static str,
    at: &'static str,
    action: &'static str,
) -> Row {
    vec![
        ("history_id", I(id)),
        ("assignment_id", I(assignment)),
        ("patient_key", T(p)),
        ("history_date", T(at)),
        ("action_name", T(action)),
        ("entered_by_duz", I(12345)),
        ("entered_by_name", T("DOE,JANE")),
        ("approved_by_name", T("ROE,RICHARD")),
        ("history_comments", T("Sensitive narrative")),
    ]
}

fn allergy(
    id: i64,
    p: &'static str,
    drug: bool,
    rank: V,
    originated: &'static str,
    active: bool,
) -> Row {
    vec![
        ("allergy_id", I(id)),
        ("patient_key", T(p)),
        ("allergy_sid", I(id)),
        ("allergen_local", T("PENICILLIN")),
        ("allergen_standardized", T("PENICILLIN")),
        ("severity_rank", rank),
        ("origination_date", T(originated)),
        ("is_active", B(active)),
        ("is_drug_allergy", B(drug)),
    ]
}

fn outpatient(id: i64, p: &'static str, issued: V) -> Row {
    vec![
        ("medication_outpatient_id", I(id)),
        ("patient_icn", T(p)),
        ("patient_key", T(p)),
        ("rx_outpat_id", I(id)),
        ("issue_date", issued),
        ("quantity_ordered", F(30.5)),
        ("is_active", B(id == 3)),
        ("is_controlled_substance", B(id == 1)),
    ]
}

fn encounter(id: i64, p: &'static str, admit: &'static str, extra: Row) -> Row {
    let mut r = vec![
        ("encounter_id", I(id)),
        ("patient_key", T(p)),
        ("inpatient_id", I(id)),
        ("encounter_type", T("INPATIENT")),
        ("admit_datetime", T(admit)),
        ("data_source", T("CDWWork")),
    ];
    r.extend(extra);
    r
}

fn lab(id: i64, p: &'static str, collected: &'static str, panel: V, extra: Row) -> Row {
    let mut r = vec![
        ("lab_id", I(id)),
        ("patient_key", T(p)),
        ("lab_chem_sid", I(id)),
        ("panel_name", panel),
        ("accession_number", T("CH 20250201-001")),
        ("collection_datetime", T(collected)),
    ];
    r.extend(extra);
    r
}

fn note(id: i64, p: &'static str, at: &'static str, text: V) -> Row {
    vec![
        ("note_id", I(id)),
        ("patient_key", T(p)),
        ("tiu_document_sid", I(id)),
        ("document_class", T("Progress Notes")),
        ("reference_datetime", T(at)),
        ("document_text", text),
        ("text_preview", T("Full text")),
    ]
}

fn immunization(id: i64, p: &'static str, at: &'static str, extra: Row) -> Row {
    let mut r = vec![
        ("immunization_id", I(id)),
        ("patient_key", T(p)),
        (
            "immunization_sid",
            T(["V-1", "V-2", "C-3"][id as usize - 1]),
        ),
        ("administered_datetime", T(at)),
    ];
    r.extend(extra);
    r
}

fn problem(id: i64, p: &'static str, status: &'static str, onset: V) -> Row {
    vec![
        ("problem_id", I(id)),
        ("patient_key", T(p)),
        ("patient_icn", T(p)),
        ("problem_sid", I(id)),
        ("problem_status", T(status)),
        ("onset_date", onset),
        ("source_ehr", T("VistA")),
        ("chronic_condition", B(id % 2 == 0)),
        ("charlson_index", I(3)),
        ("has_chf", B(true)),
        ("active_problem_count", I(3)),
    ]
}

fn family(id: i64, p: &'static str, recorded: V) -> Row {
    vec![
        ("family_history_id", I(id)),
        ("patient_icn", T(p)),
        ("patient_key", T(p)),
        ("source_ehr", T("VistA")),
        ("relationship_name", T("MOTHER")),
        ("condition_name", T("BREAST CANCER")),
        ("first_degree_relative_flag", B(true)),
        ("family_member_deceased", Null),
        ("recorded_datetime", recorded),
    ]
}

fn find<'a>(fx: &'a [Fixture], t: &ServingTable) -> &'a Fixture {
    fx.iter().find(|f| f.table == t).unwrap()
}

fn icns<T: serde::Serialize>(rows: &[T]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            serde_json::to_value(r).unwrap()["icn"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The whole test body; returns everything read, for the cross-backend
/// comparison.
async fn read_model(s: &Store) -> Vec<Json> {
    s.migrate().await.unwrap();
    let fx = fixtures();
    for f in &fx {
        f.load(s).await;
    }
    let mut out = Vec::new();
    let mut keep = |v: Json| out.push(v);

    // Patient search.
    let name = |q: &'static str, limit: u32| async move {
        icns(&s.search_patients(q, SearchKind::Name, limit).await.unwrap())
    };
    let smiths = ["ICN100003", "ICN100004", "ICN100001", "ICN100002"];
    assert_eq!(
        name("smi", 20).await,
        smiths,
        "last or first name prefix, NOCASE order"
    );
    assert_eq!(name("SMITH", 20).await, smiths);
    assert_eq!(name("  sMiTh ", 20).await, smiths);
    assert_eq!(name("smi", 2).await, smiths[..2]);
    assert_eq!(name("smi", 0).await, Vec::<String>::new());
    assert_eq!(name("john", 20).await, ["ICN100001"], "first name");
    assert_eq!(name("smith, j", 20).await, ["ICN100001"]);
    assert_eq!(name("SMITH,JOHN", 20).await, ["ICN100001"]);
    assert_eq!(
        name("smith,", 20).await,
        ["ICN100004", "ICN100001", "ICN100002"]
    );
    assert_eq!(name(", smi", 20).await, ["ICN100003"]);
    assert_eq!(name("john smith", 20).await, ["ICN100001"], "first last");
    assert_eq!(name("smith john", 20).await, ["ICN100001"], "last first");
    assert_eq!(
        name("mary ann", 20).await,
        ["ICN100002"],
        "two-word first name"
    );
    assert_eq!(name("mary ann smithers", 20).await, ["ICN100002"]);
    assert_eq!(name("o'b", 20).await, ["ICN100005"]);
    assert_eq!(
        name("mith", 20).await,
        Vec::<String>::new(),
        "prefix, not substring"
    );
    assert_eq!(name("zzz", 20).await, Vec::<String>::new());
    assert_eq!(name("", 20).await, Vec::<String>::new());
    assert_eq!(
        name("%", 20).await,
        Vec::<String>::new(),
        "wildcards are not patterns"
    );
    assert_eq!(name("s%h", 20).await, Vec::<String>::new());
    assert_eq!(name("smi_%", 20).await, smiths, "wildcards are dropped");
    let icn = |q: &'static str| async move {
        icns(&s.search_patients(q, SearchKind::Icn, 20).await.unwrap())
    };
    assert_eq!(icn(" icn100001 ").await, ["ICN100001"]);
    assert_eq!(icn("1016v123456").await, ["1016V123456"]);
    assert_eq!(
        icn("ICN10000").await,
        Vec::<String>::new(),
        "exact, not prefix"
    );
    assert_eq!(icn("SMITH").await, Vec::<String>::new());
    assert_eq!(icn("").await, Vec::<String>::new());
    let found = s
        .search_patients("smith, john", SearchKind::Name, 20)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&found).unwrap(),
        json!([{
            "icn": "ICN100001", "name_display": "SMITH, John", "name_last": "SMITH",
            "name_first": "JOHN", "sex": "M", "age": 70, "dob": "1955-03-14",
            "ssn_last4": "3456", "primary_station": "508",
            "primary_station_name": "Atlanta VAMC", "deceased_flag": "N", "death_date": null
        }])
    );
    let dead = s
        .search_patients("ICN100005", SearchKind::Icn, 1)
        .await
        .unwrap();
    assert_eq!(dead[0].deceased_flag.as_deref(), Some("Y"));
    assert_eq!(dead[0].death_date, Some(date("2024-02-29")));
    assert_eq!(
        (dead[0].sex.as_deref(), dead[0].age, dead[0].dob),
        (None, None, None)
    );
    keep(serde_json::to_value(&found).unwrap());

    // Demographics: every column but the full SSN.
    let demo = find(&fx, &catalog::PATIENT_DEMOGRAPHICS);
    let d = s.patient(P1).await.unwrap();
    assert!(d.is_some());
    keep(
        demo.check(&[d.clone().unwrap()], &[P1], &["ssn"])
            .pop()
            .unwrap_or_default(),
    );
    let d = serde_json::to_value(d.unwrap()).unwrap();
    assert_eq!(d["patient_key"], json!(P1));
    assert_eq!(d["is_sensitive"], json!(true));
    assert_eq!(d["service_connected_percent"], json!(70.5));
    assert_eq!(d["last_updated"], json!("2025-12-01T02:03:04.500"));
    assert!(!d.to_string().contains("666123456"), "full SSN never read");
    let d6 = s.patient("ICN100006").await.unwrap().unwrap();
    assert_eq!((d6.name_last, d6.is_test_patient), (None, false));
    assert!(s.patient("ICN999999").await.unwrap().is_none());
    assert!(
        s.patient("icn100001").await.unwrap().is_none(),
        "keys are exact"
    );
    let m = s.military_history(P1).await.unwrap().unwrap();
    assert_eq!(m.agent_orange_location.as_deref(), Some("VIETNAM"));
    assert_eq!(m.service_connected_percent, Some(70.0));
    assert_eq!(m.ionizing_radiation, None);
    assert!(s.military_history(P2).await.unwrap().is_none());

    // Flags: category I first, active first, newest assignment first (NULL
    // last); only this patient's.
    let flags = find(&fx, &catalog::PATIENT_FLAGS);
    keep(json!(flags.check(
        &s.flags(P1).await.unwrap(),
        &[5, 3, 4, 2, 1],
        &[]
    )));
    flags.check(&s.flags(P2).await.unwrap(), &[6], &[]);
    assert!(s.flags("ICN100003").await.unwrap().is_empty());
    let hist = find(&fx, &catalog::PATIENT_FLAG_HISTORY);
    let h = s.flag_history(P1, 5001).await.unwrap();
    keep(json!(hist.check(&h, &[2, 5, 1], &[])));
    assert_eq!(h[0].entered_by_name.as_deref(), Some("DOE,JANE"));
    assert_eq!(h[0].approved_by_name.as_deref(), Some("ROE,RICHARD"));
    hist.check(&s.flag_history(P2, 5001).await.unwrap(), &[3], &[]);
    assert!(
        s.flag_history(P2, 5002).await.unwrap().is_empty(),
        "another patient's assignment"
    );

    // Vitals, with qualifiers decoded from JSON (NULL → []).
    let vitals = find(&fx, &catalog::PATIENT_VITALS);
    let v = s.vitals(P1, None).await.unwrap();
    keep(json!(vitals.check(&v, &[2, 1, 3], &[])));
    assert_eq!(v[1].qualifiers.len(), 2);
    assert_eq!(v[1].qualifiers[1].qualifier_name.as_deref(), Some("L ARM"));
    assert_eq!(v[0].taken_datetime, ts("2025-03-02 03:04:05.25"));
    vitals.check(&s.vitals(P1, Some(2)).await.unwrap(), &[2, 1], &[]);
    vitals.check(&s.vitals(P1, Some(0)).await.unwrap(), &[0i64; 0], &[]);
    vitals.check(&s.vitals(P2, Some(100)).await.unwrap(), &[4], &[]);

    // Allergies: drug first, severity DESC (NULL last), newest first;
    // inactive rows included.
    let allergies = find(&fx, &catalog::PATIENT_ALLERGIES);
    let a = s.allergies(P1).await.unwrap();
    keep(json!(allergies.check(&a, &[5, 3, 1, 4, 2], &[])));
    assert!(!a[0].is_active && a[1].is_active);
    let reactions = find(&fx, &catalog::PATIENT_ALLERGY_REACTIONS);
    keep(json!(reactions.check(
        &s.allergy_reactions(P1).await.unwrap(),
        &[2, 4, 1],
        &[]
    )));

    // Medications.
    let out_meds = find(&fx, &catalog::PATIENT_MEDICATIONS_OUTPATIENT);
    keep(json!(out_meds.check(
        &s.outpatient_medications(P1).await.unwrap(),
        &[3, 1, 2],
        &[]
    )));
    let in_meds = find(&fx, &catalog::PATIENT_MEDICATIONS_INPATIENT);
    keep(json!(in_meds.check(
        &s.inpatient_medications(P1).await.unwrap(),
        &[2, 1],
        &[]
    )));

    // Encounters, labs (ties by key), notes, immunizations.
    let enc = find(&fx, &catalog::PATIENT_ENCOUNTERS);
    keep(json!(enc.check(
        &s.encounters(P1).await.unwrap(),
        &[2, 1],
        &[]
    )));
    let labs = find(&fx, &catalog::PATIENT_LABS);
    keep(json!(labs.check(
        &s.labs(P1).await.unwrap(),
        &[2, 3, 1, 4],
        &[]
    )));
    let notes = find(&fx, &catalog::PATIENT_CLINICAL_NOTES);
    keep(json!(notes.check(
        &s.notes(P1).await.unwrap(),
        &[2, 1],
        &["document_text"]
    )));
    let n = s.note(P1, 1).await.unwrap().unwrap();
    assert_eq!(n.document_text.as_deref(), Some("Full text one."));
    notes.check(&[n], &[1], &[]);
    assert_eq!(s.note(P1, 2).await.unwrap().unwrap().document_text, None);
    assert!(
        s.note(P1, 3).await.unwrap().is_none(),
        "another patient's note"
    );
    assert!(s.note(P1, 99).await.unwrap().is_none());
    let imm = find(&fx, &catalog::PATIENT_IMMUNIZATIONS);
    let i = s.immunizations(P1).await.unwrap();
    keep(json!(imm.check(&i, &[2, 1], &[])));
    assert_eq!(
        (i[0].is_series_complete, i[1].is_series_complete),
        (Some(false), None)
    );

    // Problems: Active, Inactive, Resolved, then onset DESC NULLS LAST.
    let problems = find(&fx, &catalog::PATIENT_PROBLEMS);
    let p = s.problems(P1).await.unwrap();
    keep(json!(problems.check(&p, &[5, 2, 4, 3, 1], &[])));
    assert!(
        p.iter()
            .all(|p| p.charlson_index == 3 && p.has_chf && !p.has_copd)
    );
    let fam = find(&fx, &catalog::PATIENT_FAMILY_HISTORY);
    keep(json!(fam.check(
        &s.family_history(P1).await.unwrap(),
        &[3, 1, 2],
        &[]
    )));

    // Nothing for an unknown patient.
    let nobody = "ICN999999";
    assert!(s.vitals(nobody, None).await.unwrap().is_empty());
    assert!(s.allergies(nobody).await.unwrap().is_empty());
    assert!(s.labs(nobody).await.unwrap().is_empty());
    assert!(s.tasks(nobody).await.unwrap().is_empty());

    keep(tasks(s).await);
    out
}

/// The task lifecycle (reference: original-webapp §3.12).
async fn tasks(s: &Store) -> Json {
    let new = |p: &str, title: &str, priority| NewTask {
        patient_key: p.to_string(),
        title: title.to_string(),
        description: Some("why".into()),
        priority,
        created_by_user_id: "u-1".into(),
        created_by_display_name: Some("Dr. One".into()),
        is_ai_generated: false,
        ai_suggestion_source: None,
    };
    let t0 = ts("2026-02-07 09:00:00.123456789");
    let t1 = s
        .create_task(&new(P1, "Order A1c", TaskPriority::High), t0)
        .await
        .unwrap();
    let micro = ts("2026-02-07 09:00:00.123456");
    assert_eq!(t1.status, TaskStatus::Todo);
    assert_eq!(
        (t1.created_at, t1.updated_at),
        (micro, micro),
        "truncated to microseconds"
    );
    assert_eq!(t1.completed_at, None);
    assert_eq!(t1.completed_by_user_id, None);
    assert!(!t1.is_ai_generated);
    assert_eq!(s.task(t1.task_id).await.unwrap().as_ref(), Some(&t1));
    let t2 = s
        .create_task(
            &new(P1, "Call patient", TaskPriority::Low),
            ts("2026-02-07 10:00:00"),
        )
        .await
        .unwrap();
    let mut ai = new(P1, "Review statin", TaskPriority::High);
    ai.is_ai_generated = true;
    ai.ai_suggestion_source = Some("insight".into());
    ai.description = None;
    ai.created_by_display_name = None;
    let t3 = s.create_task(&ai, ts("2026-02-07 11:00:00")).await.unwrap();
    assert!(t3.is_ai_generated);
    assert_eq!(t3.ai_suggestion_source.as_deref(), Some("insight"));
    assert_eq!(
        (
            t3.description.as_deref(),
            t3.created_by_display_name.as_deref()
        ),
        (None, None)
    );
    let t4 = s
        .create_task(
            &new(P2, "Other patient", TaskPriority::Medium),
            ts("2026-02-07 12:00:00"),
        )
        .await
        .unwrap();
    let ids = |v: Vec<domain::record::Task>| v.into_iter().map(|t| t.task_id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.tasks(P1).await.unwrap()),
        [t3.task_id, t1.task_id, t2.task_id]
    );
    assert_eq!(ids(s.tasks(P2).await.unwrap()), [t4.task_id]);
    assert!(
        s.create_task(&new(P1, "", TaskPriority::Low), t0)
            .await
            .is_err(),
        "CHECK on title"
    );
    assert!(
        s.create_task(&new(P1, &"x".repeat(501), TaskPriority::Low), t0)
            .await
            .is_err()
    );

    // Partial updates.
    let later = ts("2026-02-08 08:00:00");
    let u = s
        .update_task(
            t1.task_id,
            &TaskUpdate {
                title: Some("Order HbA1c".into()),
                ..Default::default()
            },
            later,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.title.as_str(), u.description.as_deref()),
        ("Order HbA1c", Some("why"))
    );
    assert_eq!(
        (u.priority, u.updated_at, u.created_at),
        (TaskPriority::High, later, micro)
    );
    let u = s
        .update_task(
            t1.task_id,
            &TaskUpdate {
                description: Some(None),
                priority: Some(TaskPriority::Low),
                ..Default::default()
            },
            ts("2026-02-08 08:30:00"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.title.as_str(), u.description.as_deref()),
        ("Order HbA1c", None)
    );
    assert_eq!(u.priority, TaskPriority::Low);
    let same = s
        .update_task(
            t1.task_id,
            &TaskUpdate::default(),
            ts("2030-01-01 00:00:00"),
        )
        .await
        .unwrap();
    assert_eq!(same.as_ref(), Some(&u), "an empty edit changes nothing");
    let d = s
        .update_task(
            t1.task_id,
            &TaskUpdate {
                description: Some(Some("new".into())),
                ..Default::default()
            },
            later,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.description.as_deref(), Some("new"));
    assert!(
        s.update_task(
            999,
            &TaskUpdate {
                title: Some("x".into()),
                ..Default::default()
            },
            later
        )
        .await
        .unwrap()
        .is_none()
    );

    // Status changes.
    let at = |h: u32| ts(&format!("2026-02-09 {h:02}:00:00"));
    let st = s
        .set_task_status(
            t1.task_id,
            TaskStatus::InProgress,
            "u-2",
            Some("Dr. Two"),
            at(1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (st.status, st.updated_at, st.completed_at),
        (TaskStatus::InProgress, at(1), None)
    );
    assert_eq!(st.completed_by_user_id, None);
    let done = s
        .set_task_status(
            t1.task_id,
            TaskStatus::Completed,
            "u-2",
            Some("Dr. Two"),
            at(2),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.completed_at),
        (TaskStatus::Completed, Some(at(2)))
    );
    assert_eq!(done.completed_by_user_id.as_deref(), Some("u-2"));
    assert_eq!(done.completed_by_display_name.as_deref(), Some("Dr. Two"));
    let again = s
        .set_task_status(t1.task_id, TaskStatus::Completed, "u-3", None, at(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.completed_at, again.updated_at),
        (Some(at(2)), at(3)),
        "completion kept"
    );
    assert_eq!(again.completed_by_user_id.as_deref(), Some("u-2"));
    let reverted = s
        .set_task_status(t1.task_id, TaskStatus::Todo, "u-3", None, at(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (reverted.status, reverted.completed_at),
        (TaskStatus::Todo, None)
    );
    assert_eq!(
        (
            reverted.completed_by_user_id,
            reverted.completed_by_display_name
        ),
        (None, None)
    );
    let done = s
        .set_task_status(t2.task_id, TaskStatus::Completed, "u-3", None, at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            done.completed_by_user_id.as_deref(),
            done.completed_by_display_name
        ),
        (Some("u-3"), None)
    );
    assert!(
        s.set_task_status(999, TaskStatus::Completed, "u", None, at(5))
            .await
            .unwrap()
            .is_none()
    );
    let snapshot = serde_json::to_value(s.tasks(P1).await.unwrap()).unwrap();

    // Delete.
    assert!(s.delete_task(t2.task_id).await.unwrap());
    assert!(!s.delete_task(t2.task_id).await.unwrap());
    assert!(s.task(t2.task_id).await.unwrap().is_none());
    assert_eq!(ids(s.tasks(P1).await.unwrap()), [t3.task_id, t1.task_id]);
    assert_eq!(ids(s.tasks(P2).await.unwrap()), [t4.task_id]);
    snapshot
}

#[tokio::test]
async fn sqlite_read_model() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("serving.db").display()
    ))
    .await
    .unwrap();
    read_model(&s).await;
}

#[tokio::test]
async fn postgres_read_model_matches_sqlite() {
    let Some(cluster) = pgtest::Cluster::start() else {
        return;
    };
    let pg = Store::connect(&cluster.create_database("serving"))
        .await
        .unwrap();
    let pg_out = read_model(&pg).await;
    let dir = tempfile::tempdir().unwrap();
    let lite = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("serving.db").display()
    ))
    .await
    .unwrap();
    let lite_out = read_model(&lite).await;
    assert_eq!(pg_out, lite_out, "both backends read identical values");
}

/// The name search reads indexes on SQLite, never the whole table, and
/// last-name branches need no sort (they stop after `limit` entries).
#[tokio::test]
async fn sqlite_name_search_uses_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("serving.db").display()
    ))
    .await
    .unwrap();
    s.migrate().await.unwrap();
    for q in ["smi", "smith, jo", "john smith", ", jo"] {
        let plan = s.search_plan(q, SearchKind::Name, 20).await.unwrap();
        assert!(
            plan.iter()
                .all(|l| !l.starts_with("SCAN patient_demographics")),
            "{q}: {plan:#?}"
        );
    }
    let plan = s.search_plan("smith,", SearchKind::Name, 20).await.unwrap();
    assert!(
        plan.iter()
            .any(|l| l.contains("COVERING INDEX patient_demographics_search_last")),
        "{plan:#?}"
    );
    let plan = s.search_plan(", jo", SearchKind::Name, 20).await.unwrap();
    assert!(
        plan.iter()
            .any(|l| l.contains("COVERING INDEX patient_demographics_search_first")),
        "{plan:#?}"
    );
    let plan = s.search_plan("icn1", SearchKind::Icn, 20).await.unwrap();
    assert!(plan.iter().any(|l| l.contains("natural_key")), "{plan:#?}");
}
