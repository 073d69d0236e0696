//! Dashboard latency at scale, through HTTP: a serving DB of 100k patients
//! (demographics for all, realistic clinical rows for a sample), the app on
//! 127.0.0.1, a signed-in client, then p50/p95/p99 of
//!
//! (a) the 11 widget requests of a dashboard — one at a time, and all 11
//!     at once as the browser sends them (per request and per dashboard);
//! (b) patient search by name prefix;
//! (c) every domain's full page (issue #7), default and filtered.
//!
//! `cargo bench -p web --bench dashboard`. Environment: `BENCH_PATIENTS`
//! (default 100000), `BENCH_SAMPLE` (patients with clinical rows, default
//! 1000), `BENCH_ITERS` (dashboards and searches, default 300),
//! `BENCH_DB=sqlite|postgres|both` (default sqlite; PostgreSQL uses a
//! throwaway cluster, or `BENCH_PG_URL`, an existing empty database).

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use columnar::{Batch, Column, Values};
use domain::record::{NewTask, TaskPriority};
use futures_util::stream;
use std::time::Instant;
use store::catalog::{self, ColType, ServingTable};
use store::{ServingStore, Store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "bench-password-1";
const EMAIL: &str = "clinician.alpha@va.gov";

const KEYS: [&str; 11] = [
    "demographics",
    "tasks",
    "vitals",
    "allergies",
    "history",
    "medications",
    "immunizations",
    "labs",
    "notes",
    "encounters",
    "problems",
];

const FIRST: [&str; 24] = [
    "JAMES",
    "JOHN",
    "ROBERT",
    "MICHAEL",
    "WILLIAM",
    "DAVID",
    "RICHARD",
    "JOSEPH",
    "THOMAS",
    "MARY",
    "PATRICIA",
    "JENNIFER",
    "LINDA",
    "ELIZABETH",
    "BARBARA",
    "SUSAN",
    "MARIA",
    "ANA",
    "KEVIN",
    "BRIAN",
    "GEORGE",
    "EMILY",
    "CAROL",
    "AMANDA",
];
const SYLLABLES: [&str; 32] = [
    "SMI", "TH", "JOHN", "SON", "WIL", "LI", "AMS", "BRO", "WN", "JON", "ES", "GAR", "CI", "A",
    "MIL", "LER", "DA", "VIS", "RO", "DRI", "GUEZ", "MAR", "TI", "NEZ", "HER", "NAN", "DEZ", "LO",
    "PEZ", "GON", "ZA", "LEZ",
];

/// A small deterministic generator (no `rand` dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

fn icn(i: usize) -> String {
    format!("ICN{:06}", 100_000 + i)
}

fn text(v: impl IntoIterator<Item = String>) -> Values {
    Values::Text(v.into_iter().map(Some).collect())
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn demographics(n: usize) -> Batch {
    let mut rng = Lcg(42);
    let mut last = Vec::with_capacity(n);
    let mut first = Vec::with_capacity(n);
    for _ in 0..n {
        let syllables = 2 + rng.below(2);
        last.push(
            (0..syllables)
                .map(|_| rng.pick(&SYLLABLES))
                .collect::<String>(),
        );
        first.push(rng.pick(&FIRST).to_string());
    }
    let keys: Vec<String> = (0..n).map(icn).collect();
    let display: Vec<String> = last
        .iter()
        .zip(&first)
        .map(|(l, f)| format!("{l}, {f}"))
        .collect();
    let day0 = NaiveDate::from_ymd_opt(1930, 1, 1).expect("date");
    let t = |v: &str| text(vec![v.to_string(); n]);
    Batch::new(vec![
        Column::new("patient_key", text(keys.clone())),
        Column::new("icn", text(keys)),
        Column::new("source_system", t("CDWWork")),
        Column::new("source_id", text((0..n).map(|i| i.to_string()))),
        Column::new("name_last", text(last)),
        Column::new("name_first", text(first)),
        Column::new("name_display", text(display)),
        Column::new(
            "dob",
            Values::Date(
                (0..n)
                    .map(|i| Some(day0 + Duration::days((i * 7 % 25_000) as i64)))
                    .collect(),
            ),
        ),
        Column::new(
            "age",
            Values::Int((0..n).map(|i| Some(20 + (i % 70) as i64)).collect()),
        ),
        Column::new("sex", text((0..n).map(|i| ["M", "F"][i % 2].to_string()))),
        Column::new(
            "ssn_last4",
            text((0..n).map(|i| format!("{:04}", i % 10_000))),
        ),
        Column::new("primary_station", t("508")),
        Column::new("primary_station_name", t("Atlanta VAMC")),
        Column::new("address_street1", t("1 Main St")),
        Column::new("address_city", t("Atlanta")),
        Column::new("address_state", t("GA")),
        Column::new("address_zip", t("30301")),
        Column::new("phone_primary", t("404-555-0100")),
        Column::new("insurance_company_name", t("Medicare")),
        Column::new("deceased_flag", t("N")),
        Column::new("is_test_patient", Values::Bool(vec![Some(false); n])),
        Column::new("is_sensitive", Values::Bool(vec![Some(false); n])),
    ])
    .expect("demographics batch")
}

/// Makes one column's values for `n` rows.
type ColumnFn<'a> = Box<dyn Fn(usize) -> Values + 'a>;

/// A problem row: ICD-10 code, text, and its Charlson condition and weight.
type ProblemSpec = (&'static str, &'static str, Option<(&'static str, i64)>);

/// `per` rows for each sample patient (patient `s * stride`): every column
/// gets a synthetic value of its type, then `custom` overrides the columns
/// the widgets interpret, as `f(row, patient_sample, k)` where `k` is the
/// row's index within its patient.
struct Gen<'a> {
    table: &'static ServingTable,
    sample: usize,
    stride: usize,
    per: usize,
    custom: Vec<(&'static str, ColumnFn<'a>)>,
}

impl<'a> Gen<'a> {
    fn new(table: &'static ServingTable, sample: usize, stride: usize, per: usize) -> Gen<'a> {
        Gen {
            table,
            sample,
            stride,
            per,
            custom: Vec::new(),
        }
    }

    fn n(&self) -> usize {
        self.sample * self.per
    }

    /// Overrides a text column: `f(k)` for the row's index within its
    /// patient.
    fn text(mut self, name: &'static str, f: impl Fn(usize) -> String + 'a) -> Self {
        let per = self.per;
        self.custom
            .push((name, Box::new(move |n| text((0..n).map(|i| f(i % per))))));
        self
    }

    fn opt_text(mut self, name: &'static str, f: impl Fn(usize) -> Option<String> + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Text((0..n).map(|i| f(i % per)).collect())),
        ));
        self
    }

    fn int(mut self, name: &'static str, f: impl Fn(usize) -> Option<i64> + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Int((0..n).map(|i| f(i % per)).collect())),
        ));
        self
    }

    fn float(mut self, name: &'static str, f: impl Fn(usize) -> Option<f64> + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Float((0..n).map(|i| f(i % per)).collect())),
        ));
        self
    }

    fn bool(mut self, name: &'static str, f: impl Fn(usize) -> bool + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Bool((0..n).map(|i| Some(f(i % per))).collect())),
        ));
        self
    }

    fn ts(mut self, name: &'static str, f: impl Fn(usize) -> Option<NaiveDateTime> + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Timestamp((0..n).map(|i| f(i % per)).collect())),
        ));
        self
    }

    fn date(mut self, name: &'static str, f: impl Fn(usize) -> Option<NaiveDate> + 'a) -> Self {
        let per = self.per;
        self.custom.push((
            name,
            Box::new(move |n| Values::Date((0..n).map(|i| f(i % per)).collect())),
        ));
        self
    }

    fn batch(&self) -> Batch {
        let n = self.n();
        let (per, stride) = (self.per, self.stride);
        let patient = |i: usize| icn((i / per) * stride);
        let t0 = now() - Duration::days(3000);
        let columns = self
            .table
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                if let Some((_, f)) = self.custom.iter().find(|(name, _)| *name == col.name) {
                    return Column::new(col.name, f(n));
                }
                let values = match (col.name, col.ty) {
                    ("patient_key" | "patient_icn", _) => text((0..n).map(patient)),
                    ("source_system", _) => text(vec!["CDWWork".to_string(); n]),
                    ("source_id", _) => text((0..n).map(|i| i.to_string())),
                    (_, ColType::Json) => text(vec![
                        r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"}]"#
                            .to_string();
                        n
                    ]),
                    (_, ColType::Text) => text((0..n).map(|i| format!("{} {}", col.name, i % 97))),
                    // The surrogate key and the source SIDs are unique.
                    (_, ColType::Int)
                        if c == 0 || col.name.ends_with("_sid") || col.name.ends_with("_id") =>
                    {
                        Values::Int((0..n).map(|i| Some(i as i64 + 1)).collect())
                    }
                    (_, ColType::Int) => {
                        Values::Int((0..n).map(|i| Some((i % 30) as i64)).collect())
                    }
                    (_, ColType::Float) => {
                        Values::Float((0..n).map(|i| Some((i % 100) as f64 / 7.0)).collect())
                    }
                    (_, ColType::Bool) => Values::Bool((0..n).map(|i| Some(i % 5 == 0)).collect()),
                    (_, ColType::Date) => Values::Date(
                        (0..n)
                            .map(|i| Some(t0.date() + Duration::days((i % 2900) as i64)))
                            .collect(),
                    ),
                    (_, ColType::Timestamp) => Values::Timestamp(
                        (0..n)
                            .map(|i| Some(t0 + Duration::minutes((i * 37 % 4_000_000) as i64)))
                            .collect(),
                    ),
                };
                Column::new(col.name, values)
            })
            .collect();
        Batch::new(columns).expect("clinical batch")
    }
}

async fn load(s: &Store, t: &ServingTable, b: Batch) {
    let items: Vec<Result<Batch, BoxError>> = vec![Ok(b)];
    s.replace_table(t, stream::iter(items))
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e}", t.qualified()));
}

/// Clinical rows shaped like the widgets expect, per sample patient:
/// 200 vitals, 4 allergies, 12 outpatient prescriptions, 8 inpatient
/// administrations, 8 encounters, 60 labs (10 panels), 30 notes,
/// 20 immunizations, 10 problems, 3 family-history entries, 2 flags.
async fn load_clinical(s: &Store, sample: usize, stride: usize) {
    let now = now();
    let hours_ago = |h: usize| Some(now - Duration::hours(h as i64));
    let days_ago = |d: usize| Some(now - Duration::days(d as i64));

    const VITALS: [(&str, &str, &str, &str); 8] = [
        ("BLOOD PRESSURE", "BP", "mmHg", "138/88"),
        ("TEMPERATURE", "T", "F", "98.4"),
        ("PULSE", "P", "/min", "76"),
        ("RESPIRATION", "R", "/min", "16"),
        ("PULSE OXIMETRY", "POX", "%", "96"),
        ("PAIN", "PN", "0-10", "3"),
        ("WEIGHT", "WT", "lb", "182"),
        ("HEIGHT", "HT", "in", "70"),
    ];
    let g = Gen::new(&catalog::PATIENT_VITALS, sample, stride, 200)
        .text("vital_type", |k| VITALS[k % 8].0.into())
        .text("vital_abbr", |k| VITALS[k % 8].1.into())
        .text("unit_of_measure", |k| VITALS[k % 8].2.into())
        .text("result_value", |k| VITALS[k % 8].3.into())
        .float("numeric_value", |k| VITALS[k % 8].3.parse().ok())
        .int("systolic", |k| (k % 8 == 0).then_some(138))
        .int("diastolic", |k| (k % 8 == 0).then_some(88))
        .opt_text("abnormal_flag", |k| match k % 8 {
            0 | 5 => Some("HIGH".into()),
            6 | 7 => None,
            _ => Some("NORMAL".into()),
        })
        .ts("taken_datetime", |k| hours_ago(k / 8 * 72 + 2))
        .text("data_source", |_| "CDWWork".into());
    load(s, &catalog::PATIENT_VITALS, g.batch()).await;

    const ALLERGENS: [(&str, &str, &str, i64); 4] = [
        ("PENICILLIN", "DRUG", "SEVERE", 3),
        ("CODEINE", "DRUG", "MODERATE", 2),
        ("PEANUTS", "FOOD", "SEVERE", 3),
        ("LATEX", "ENVIRONMENTAL", "MILD", 1),
    ];
    let g = Gen::new(&catalog::PATIENT_ALLERGIES, sample, stride, 4)
        .text("allergen_local", |k| ALLERGENS[k].0.into())
        .text("allergen_standardized", |k| ALLERGENS[k].0.into())
        .text("allergen_type", |k| ALLERGENS[k].1.into())
        .text("severity", |k| ALLERGENS[k].2.into())
        .int("severity_rank", |k| Some(ALLERGENS[k].3))
        .bool("is_drug_allergy", |k| ALLERGENS[k].1 == "DRUG")
        .bool("is_active", |_| true);
    load(s, &catalog::PATIENT_ALLERGIES, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_MEDICATIONS_OUTPATIENT, sample, stride, 12)
        .text("drug_name_local", |k| format!("DRUG {k} 10MG TAB"))
        .ts("issue_date", |k| days_ago(k * 40 + 5))
        .text("rx_status", |_| "ACTIVE".into())
        .text("rx_status_computed", |_| "ACTIVE".into())
        .ts("expiration_date", |k| {
            Some(now + Duration::days(300) - Duration::days(k as i64 * 60))
        })
        .ts("discontinued_date", |k| {
            (k % 5 == 4).then(|| now - Duration::days(3))
        })
        .opt_text("dea_schedule", |k| (k % 6 == 1).then(|| "C-II".into()))
        .bool("is_controlled_substance", |k| k % 6 == 1)
        .bool("is_active", |k| k < 5);
    load(s, &catalog::PATIENT_MEDICATIONS_OUTPATIENT, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_MEDICATIONS_INPATIENT, sample, stride, 8)
        .text("drug_name_local", |k| format!("INPATIENT DRUG {k}"))
        .text("action_type", |k| {
            ["GIVEN", "GIVEN", "HELD", "REFUSED"][k % 4].into()
        })
        .ts("action_datetime", |k| hours_ago(k * 6 + 1))
        .bool("is_controlled_substance", |k| k % 4 == 0);
    load(s, &catalog::PATIENT_MEDICATIONS_INPATIENT, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_ENCOUNTERS, sample, stride, 8)
        .text("encounter_type", |_| "INPATIENT".into())
        .ts("admit_datetime", |k| days_ago(k * 90 + 20))
        .ts("discharge_datetime", |k| {
            (k > 0).then(|| now - Duration::days(k as i64 * 90 + 15))
        })
        .bool("is_active", |k| k == 0)
        .text("data_source", |k| {
            if k % 3 == 2 { "CDWWork2" } else { "CDWWork" }.into()
        });
    load(s, &catalog::PATIENT_ENCOUNTERS, g.batch()).await;

    const TESTS: [(&str, &str, &str); 6] = [
        ("Glucose", "BMP", "mg/dL"),
        ("Creatinine", "BMP", "mg/dL"),
        ("Sodium", "BMP", "mmol/L"),
        ("Hemoglobin", "CBC", "g/dL"),
        ("WBC", "CBC", "K/uL"),
        ("Platelets", "CBC", "K/uL"),
    ];
    let g = Gen::new(&catalog::PATIENT_LABS, sample, stride, 60)
        .text("lab_test_name", |k| TESTS[k % 6].0.into())
        .opt_text("panel_name", |k| Some(TESTS[k % 6].1.into()))
        .text("accession_number", |k| {
            format!("CH {:04}-{}", k / 6, TESTS[k % 6].1)
        })
        .text("result_unit", |k| TESTS[k % 6].2.into())
        .text("result_value", |k| format!("{}", 90 + k % 40))
        .opt_text("abnormal_flag", |k| (k % 7 == 0).then(|| "H".into()))
        .bool("is_abnormal", |k| k % 7 == 0)
        .bool("is_critical", |_| false)
        .ts("collection_datetime", |k| days_ago(k / 6 * 30 + 1));
    load(s, &catalog::PATIENT_LABS, g.batch()).await;

    const CLASSES: [&str; 4] = [
        "Progress Notes",
        "Consults",
        "Discharge Summaries",
        "Imaging",
    ];
    let g = Gen::new(&catalog::PATIENT_CLINICAL_NOTES, sample, stride, 30)
        .text("document_class", |k| CLASSES[k % 4].into())
        .text("document_title", |k| format!("NOTE TITLE {k}"))
        .text("status", |_| "COMPLETED".into())
        .ts("reference_datetime", |k| days_ago(k * 12 + 1))
        .text("document_text", |k| {
            format!("Note {k}. {}", "Assessment and plan. ".repeat(60))
        })
        .text("text_preview", |k| {
            format!("Note {k}. {}", "Assessment and plan. ".repeat(9))
        });
    load(s, &catalog::PATIENT_CLINICAL_NOTES, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_IMMUNIZATIONS, sample, stride, 20)
        .text("vaccine_name", |k| {
            ["INFLUENZA", "COVID-19", "TDAP", "ZOSTER"][k % 4].into()
        })
        .ts("administered_datetime", |k| days_ago(k * 120 + 10))
        .int("dose_number", |_| None)
        .opt_text("series", |k| {
            Some(["ANNUAL", "1 of 2", "BOOSTER", "2 of 2"][k % 4].into())
        })
        .bool("has_adverse_reaction", |k| k % 9 == 0)
        .text("immunization_sid", |k| format!("V-{k}"));
    load(s, &catalog::PATIENT_IMMUNIZATIONS, g.batch()).await;

    const PROBLEMS: [ProblemSpec; 5] = [
        (
            "I50.9",
            "Heart failure",
            Some(("Congestive Heart Failure", 1)),
        ),
        (
            "E11.22",
            "Type 2 diabetes with CKD",
            Some(("Diabetes with Chronic Complications", 2)),
        ),
        ("I10", "Essential hypertension", None),
        (
            "N18.4",
            "Chronic kidney disease, stage 4",
            Some(("Moderate or Severe Renal Disease", 2)),
        ),
        ("M54.5", "Low back pain", None),
    ];
    let g = Gen::new(&catalog::PATIENT_PROBLEMS, sample, stride, 10)
        .text("problem_status", |k| {
            ["Active", "Active", "Inactive", "Resolved", "Active"][k % 5].into()
        })
        .opt_text("icd10_code", |k| Some(PROBLEMS[k % 5].0.into()))
        .opt_text("diagnosis_description", |k| Some(PROBLEMS[k % 5].1.into()))
        .opt_text("icd10_charlson_condition", |k| {
            PROBLEMS[k % 5].2.map(|c| c.0.to_string())
        })
        .int("charlson_weight", |k| PROBLEMS[k % 5].2.map(|c| c.1))
        .date("onset_date", |k| days_ago(k * 200 + 30).map(|t| t.date()));
    load(s, &catalog::PATIENT_PROBLEMS, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_FAMILY_HISTORY, sample, stride, 3)
        .text("relationship_name", |k| {
            ["Mother", "Father", "Uncle"][k].into()
        })
        .opt_text("relationship_code", |k| {
            Some(["MOTHER", "FATHER", "UNCLE"][k].into())
        })
        .text("condition_name", |k| {
            ["Breast cancer", "CAD", "Diabetes"][k].into()
        })
        .bool("first_degree_relative_flag", |k| k < 2)
        .bool("hereditary_risk_flag", |_| true)
        .bool("is_active", |_| true)
        .ts("recorded_datetime", |k| days_ago(k * 100 + 10));
    load(s, &catalog::PATIENT_FAMILY_HISTORY, g.batch()).await;

    let g = Gen::new(&catalog::PATIENT_FLAGS, sample, stride, 2)
        .text("flag_category", |k| ["I", "II"][k].into())
        .bool("is_active", |k| k == 0)
        .ts("next_review_date", |_| Some(now + Duration::days(30)));
    load(s, &catalog::PATIENT_FLAGS, g.batch()).await;

    // Tasks are written one by one (the web's own table): 4 for the first
    // 250 sample patients.
    for p in 0..sample.min(250) {
        for (i, priority) in [
            TaskPriority::High,
            TaskPriority::Medium,
            TaskPriority::Low,
            TaskPriority::Medium,
        ]
        .into_iter()
        .enumerate()
        {
            s.create_task(
                &NewTask {
                    patient_key: icn(p * stride),
                    title: format!("Task {i}"),
                    description: Some("Follow up".into()),
                    priority,
                    created_by_user_id: "bench".into(),
                    created_by_display_name: Some("Bench".into()),
                    is_ai_generated: false,
                    ai_suggestion_source: None,
                },
                now - Duration::hours(i as i64),
            )
            .await
            .expect("task");
        }
    }
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    format!(
        "p50 {:7.2} ms  p95 {:7.2} ms  p99 {:7.2} ms  (n={})",
        p(0.50),
        p(0.95),
        p(0.99),
        ms.len()
    )
}

fn extract(body: &str, start: &str, end: &str) -> Option<String> {
    let i = body.find(start)? + start.len();
    let j = body[i..].find(end)? + i;
    Some(body[i..j].to_string())
}

async fn sign_in(base: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(32)
        .build()
        .expect("client");
    let login = http
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("body");
    let token = extract(&login, "name=\"csrf_token\" value=\"", "\"").expect("csrf token");
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(r.status(), 303, "sign-in failed");
    http
}

async fn timed_get(http: &reqwest::Client, url: String) -> f64 {
    timed(http, url, true).await
}

/// One GET, as HTMX sends it or as a browser navigating (`htmx` false).
async fn timed(http: &reqwest::Client, url: String, htmx: bool) -> f64 {
    let t = Instant::now();
    let mut rb = http.get(&url);
    if htmx {
        rb = rb.header("HX-Request", "true");
    }
    let r = rb.send().await.expect("GET");
    let status = r.status();
    let body = r.bytes().await.expect("body");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(status.is_success(), "{url}: {status}");
    assert!(!body.is_empty(), "{url}: empty");
    ms
}

async fn bench(label: &str, store: Store, patients: usize, sample: usize, iters: usize) {
    store.migrate().await.expect("migrate");
    let t = Instant::now();
    load(
        &store,
        &catalog::PATIENT_DEMOGRAPHICS,
        demographics(patients),
    )
    .await;
    let stride = (patients / sample.max(1)).max(1);
    load_clinical(&store, sample, stride).await;
    println!(
        "\n== {label}: {patients} patients ({sample} with clinical rows) loaded in {:.1?}",
        t.elapsed()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = web::config::Config::development(dir.path());
    config.bind = ([127, 0, 0, 1], 0).into();
    config.ccow_url = None;
    config.login.bcrypt_cost = 4;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    config.public_url = format!("http://{addr}");
    let state = web::build_with_store(config, store).await.expect("build");
    web::seed::demo_users(state.store(), PASSWORD, 4)
        .await
        .expect("seed");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(listener, state, async move {
        let _ = rx.await;
    }));
    let base = format!("http://{addr}");
    let http = sign_in(&base).await;
    let widget_url = |key: &str, p: usize| {
        format!(
            "{base}/api/patient/dashboard/widget/{key}/{}",
            icn(p * stride)
        )
    };

    // Warm-up.
    for p in 0..20.min(sample) {
        for key in KEYS {
            timed_get(&http, widget_url(key, p)).await;
        }
    }

    let mut rng = Lcg(7);
    // (a1) One request at a time.
    let mut per_key: Vec<Vec<f64>> = vec![Vec::with_capacity(iters); KEYS.len()];
    let mut all = Vec::with_capacity(iters * KEYS.len());
    for _ in 0..iters {
        let p = rng.below(sample);
        for (k, key) in KEYS.iter().enumerate() {
            let ms = timed_get(&http, widget_url(key, p)).await;
            per_key[k].push(ms);
            all.push(ms);
        }
    }
    println!("(a) widgets, one request at a time:");
    for (key, ms) in KEYS.iter().zip(per_key) {
        println!("  {key:>14}: {}", percentiles(ms));
    }
    println!("  {:>14}: {}", "every widget", percentiles(all));

    // (a2) The 11 requests of a dashboard at once, as the browser sends them.
    let mut each = Vec::with_capacity(iters * KEYS.len());
    let mut whole = Vec::with_capacity(iters);
    for _ in 0..iters {
        let p = rng.below(sample);
        let t = Instant::now();
        let times = futures_util::future::join_all(
            KEYS.iter().map(|key| timed_get(&http, widget_url(key, p))),
        )
        .await;
        whole.push(t.elapsed().as_secs_f64() * 1e3);
        each.extend(times);
    }
    println!("(a) widgets, 11 at once per dashboard:");
    println!("  {:>14}: {}", "per request", percentiles(each));
    println!("  {:>14}: {}", "per dashboard", percentiles(whole));

    // (b) Patient search by name prefix.
    let mut ms = Vec::with_capacity(iters);
    let mut rng = Lcg(11);
    for _ in 0..iters {
        let syllable = rng.pick(&SYLLABLES);
        let q = if syllable.len() >= 2 {
            syllable.to_string()
        } else {
            format!("{syllable}{}", rng.pick(&SYLLABLES))
        };
        let url = format!("{base}/api/patient/search?query={q}&search_type=name");
        ms.push(timed_get(&http, url).await);
    }
    println!("(b) patient search by name prefix:");
    println!("  {:>14}: {}", "search", percentiles(ms));

    // (c) Every domain's full page (issue #7: p95 under 50 ms server-side),
    // with its default filters and one filtered/sorted/paged variant.
    const PAGES: [(&str, &str); 13] = [
        ("demographics", ""),
        ("tasks", ""),
        ("vitals", ""),
        ("vitals", "?vital_type=BP&sort=abnormal&page_size=10&page=2"),
        ("allergies", ""),
        ("history", ""),
        ("medications", "?medication_type=outpatient&sort=drug_name"),
        ("immunizations", ""),
        ("labs", ""),
        (
            "labs",
            "?abnormal_only=true&sort_by=lab_test_name&page_size=50",
        ),
        ("notes", ""),
        ("encounters", ""),
        ("problems", ""),
    ];
    println!("(c) full domain pages:");
    for (domain, query) in PAGES {
        let mut ms = Vec::with_capacity(iters);
        for i in 0..iters {
            let p = i % sample;
            let url = format!("{base}/patient/{}/{domain}{query}", icn(p * stride));
            ms.push(timed(&http, url, false).await);
        }
        let name = if query.is_empty() {
            domain.to_string()
        } else {
            format!("{domain} (filtered)")
        };
        println!("  {name:>22}: {}", percentiles(ms));
    }

    let _ = tx.send(());
    let _ = server.await;
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let patients = env("BENCH_PATIENTS", 100_000);
    let sample = env("BENCH_SAMPLE", 1_000).clamp(1, patients);
    let iters = env("BENCH_ITERS", 300).max(1);
    let which = std::env::var("BENCH_DB").unwrap_or_else(|_| "sqlite".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if which == "sqlite" || which == "both" {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("serving.db").display());
            let s = Store::connect(&url).await.expect("connect");
            bench("SQLite", s, patients, sample, iters).await;
        }
        if which == "postgres" || which == "both" {
            let mut _cluster = None;
            let url = match std::env::var("BENCH_PG_URL") {
                Ok(url) => Some(url),
                Err(_) => {
                    _cluster = pgtest::Cluster::start();
                    _cluster.as_ref().map(|c| c.create_database("bench"))
                }
            };
            match url {
                Some(url) => {
                    let s = Store::connect(&url).await.expect("connect");
                    bench("PostgreSQL", s, patients, sample, iters).await;
                }
                None => println!("PostgreSQL not available: skipped"),
            }
        }
    });
}
