//! Read-model latency at scale: 100k patients in a temp SQLite store (and in
//! a throwaway PostgreSQL cluster when one is installed), then p50/p95/p99
//! of patient searches and of one patient's full dashboard reads.
//!
//! `cargo bench -p store --bench read_model` (set `BENCH_PATIENTS` /
//! `BENCH_ITERS` to change the size, `BENCH_PG_URL` to use an existing,
//! empty PostgreSQL database instead of a throwaway cluster).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use columnar::{Batch, Column, Values};
use domain::record::{NewTask, SearchKind, TaskPriority};
use futures_util::stream;
use std::time::Instant;
use store::catalog::{self, ColType, ServingTable};
use store::{ServingStore, Store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const FIRST: [&str; 40] = [
    "JAMES",
    "JOHN",
    "ROBERT",
    "MICHAEL",
    "WILLIAM",
    "DAVID",
    "RICHARD",
    "JOSEPH",
    "THOMAS",
    "CHARLES",
    "MARY",
    "PATRICIA",
    "JENNIFER",
    "LINDA",
    "ELIZABETH",
    "BARBARA",
    "SUSAN",
    "JESSICA",
    "SARAH",
    "KAREN",
    "JOSE",
    "JUAN",
    "LUIS",
    "CARLOS",
    "MARIA",
    "ANA",
    "ROSA",
    "KEVIN",
    "BRIAN",
    "GEORGE",
    "EDWARD",
    "RONALD",
    "ANTHONY",
    "KIMBERLY",
    "DONNA",
    "EMILY",
    "MICHELLE",
    "DOROTHY",
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
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
}

fn icn(i: usize) -> String {
    format!("ICN{:06}", 100_000 + i)
}

fn text(v: Vec<String>) -> Values {
    Values::Text(v.into_iter().map(Some).collect())
}

fn demographics(n: usize) -> Batch {
    let mut rng = Lcg(42);
    let mut last = Vec::with_capacity(n);
    let mut first = Vec::with_capacity(n);
    for _ in 0..n {
        let syllables = 2 + rng.next() as usize % 2;
        last.push(
            (0..syllables)
                .map(|_| rng.pick(&SYLLABLES))
                .collect::<String>(),
        );
        first.push(rng.pick(&FIRST).to_string());
    }
    let keys: Vec<String> = (0..n).map(icn).collect();
    let display = last
        .iter()
        .zip(&first)
        .map(|(l, f)| format!("{l}, {f}"))
        .collect();
    let day0 = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap();
    Batch::new(vec![
        Column::new("patient_key", text(keys.clone())),
        Column::new("icn", text(keys)),
        Column::new("source_system", text(vec!["CDWWork".into(); n])),
        Column::new("source_id", text((0..n).map(|i| i.to_string()).collect())),
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
        Column::new(
            "sex",
            text((0..n).map(|i| ["M", "F"][i % 2].into()).collect()),
        ),
        Column::new(
            "ssn_last4",
            text((0..n).map(|i| format!("{:04}", i % 10_000)).collect()),
        ),
        Column::new("primary_station", text(vec!["508".into(); n])),
        Column::new("deceased_flag", text(vec!["N".into(); n])),
        Column::new("is_test_patient", Values::Bool(vec![Some(false); n])),
        Column::new("is_sensitive", Values::Bool(vec![Some(false); n])),
    ])
    .unwrap()
}

/// `per` rows for each of the first `patients` patients, every column
/// filled with synthetic values of its type.
fn clinical(table: &ServingTable, patients: usize, per: usize) -> Batch {
    let n = patients * per;
    let t0 = NaiveDateTime::parse_from_str("2020-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let values = match (col.name, col.ty) {
                ("patient_key" | "patient_icn", _) => text((0..n).map(|i| icn(i / per)).collect()),
                ("source_system", _) => text(vec!["CDWWork".into(); n]),
                ("source_id", _) => text((0..n).map(|i| i.to_string()).collect()),
                ("problem_status", _) => text(
                    (0..n)
                        .map(|i| ["Active", "Inactive", "Resolved"][i % 3].into())
                        .collect(),
                ),
                (_, ColType::Json) => text(vec![
                    r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"}]"#.into();
                    n
                ]),
                (_, ColType::Text) => {
                    text((0..n).map(|i| format!("{} {}", col.name, i % 97)).collect())
                }
                (_, ColType::Int) if c == 0 => {
                    Values::Int((0..n).map(|i| Some(i as i64 + 1)).collect())
                }
                (_, ColType::Int) => Values::Int((0..n).map(|i| Some((i % 1000) as i64)).collect()),
                (_, ColType::Float) => {
                    Values::Float((0..n).map(|i| Some(i as f64 / 7.0)).collect())
                }
                (_, ColType::Bool) => Values::Bool((0..n).map(|i| Some(i % 3 == 0)).collect()),
                (_, ColType::Date) => Values::Date(
                    (0..n)
                        .map(|i| Some(t0.date() + Duration::days((i % 2000) as i64)))
                        .collect(),
                ),
                (_, ColType::Timestamp) => Values::Timestamp(
                    (0..n)
                        .map(|i| Some(t0 + Duration::minutes((i * 37 % 1_000_000) as i64)))
                        .collect(),
                ),
            };
            Column::new(col.name, values)
        })
        .collect();
    Batch::new(columns).unwrap()
}

async fn load(s: &Store, t: &ServingTable, b: Batch) {
    let items: Vec<Result<Batch, BoxError>> = vec![Ok(b)];
    s.replace_table(t, stream::iter(items)).await.unwrap();
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    format!(
        "p50 {:7.3} ms  p95 {:7.3} ms  p99 {:7.3} ms",
        p(0.50),
        p(0.95),
        p(0.99)
    )
}

/// One patient's dashboard: every per-patient read, in turn. Returns the
/// rows read and each read's time in ms.
async fn dashboard(s: &Store, icn: &str) -> (usize, Vec<(&'static str, f64)>) {
    let mut n = 0;
    let mut times = Vec::new();
    macro_rules! read {
        ($name:literal, $e:expr) => {{
            let t = Instant::now();
            n += $e;
            times.push(($name, t.elapsed().as_secs_f64() * 1e3));
        }};
    }
    read!("patient", s.patient(icn).await.unwrap().is_some() as usize);
    read!(
        "military_history",
        s.military_history(icn).await.unwrap().is_some() as usize
    );
    read!("flags", s.flags(icn).await.unwrap().len());
    read!("vitals", s.vitals(icn, Some(500)).await.unwrap().len());
    read!("allergies", s.allergies(icn).await.unwrap().len());
    read!(
        "allergy_reactions",
        s.allergy_reactions(icn).await.unwrap().len()
    );
    read!(
        "outpatient_medications",
        s.outpatient_medications(icn).await.unwrap().len()
    );
    read!(
        "inpatient_medications",
        s.inpatient_medications(icn).await.unwrap().len()
    );
    read!("encounters", s.encounters(icn).await.unwrap().len());
    read!("labs", s.labs(icn).await.unwrap().len());
    read!("notes", s.notes(icn).await.unwrap().len());
    read!("immunizations", s.immunizations(icn).await.unwrap().len());
    read!("problems", s.problems(icn).await.unwrap().len());
    read!("family_history", s.family_history(icn).await.unwrap().len());
    read!("tasks", s.tasks(icn).await.unwrap().len());
    (n, times)
}

async fn bench(label: &str, s: &Store, patients: usize, iters: usize) {
    s.migrate().await.unwrap();
    let t = Instant::now();
    load(s, &catalog::PATIENT_DEMOGRAPHICS, demographics(patients)).await;
    // Clinical rows for the first 2,000 patients (per-patient reads are
    // index lookups; the table size matters little beyond that).
    let with_data = patients.min(2_000);
    for (table, per) in [
        (&catalog::PATIENT_MILITARY_HISTORY, 1),
        (&catalog::PATIENT_FLAGS, 3),
        (&catalog::PATIENT_VITALS, 100),
        (&catalog::PATIENT_ALLERGIES, 5),
        (&catalog::PATIENT_ALLERGY_REACTIONS, 8),
        (&catalog::PATIENT_MEDICATIONS_OUTPATIENT, 30),
        (&catalog::PATIENT_MEDICATIONS_INPATIENT, 30),
        (&catalog::PATIENT_ENCOUNTERS, 5),
        (&catalog::PATIENT_LABS, 80),
        (&catalog::PATIENT_CLINICAL_NOTES, 20),
        (&catalog::PATIENT_IMMUNIZATIONS, 10),
        (&catalog::PATIENT_PROBLEMS, 10),
        (&catalog::PATIENT_FAMILY_HISTORY, 5),
    ] {
        load(s, table, clinical(table, with_data, per)).await;
    }
    let now = NaiveDateTime::parse_from_str("2026-02-07 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    for i in 0..5 {
        s.create_task(
            &NewTask {
                patient_key: icn(7),
                title: format!("Task {i}"),
                description: None,
                priority: TaskPriority::Medium,
                created_by_user_id: "u".into(),
                created_by_display_name: None,
                is_ai_generated: false,
                ai_suggestion_source: None,
            },
            now,
        )
        .await
        .unwrap();
    }
    if let Store::Postgres(pg) = s {
        sqlx::query("ANALYZE").execute(pg.pool()).await.unwrap();
    }
    println!(
        "\n== {label}: {patients} patients loaded in {:.1?}",
        t.elapsed()
    );

    let searches: [(&str, SearchKind); 9] = [
        ("smi", SearchKind::Name),
        ("sm", SearchKind::Name),
        ("jo", SearchKind::Name),
        ("john", SearchKind::Name),
        ("smith, j", SearchKind::Name),
        ("john smi", SearchKind::Name),
        ("garcilez", SearchKind::Name),
        ("zzz", SearchKind::Name),
        ("ICN150000", SearchKind::Icn),
    ];
    for q in ["jo", "smith, j"] {
        println!("plan of {q:?}:");
        for line in s.search_plan(q, SearchKind::Name, 20).await.unwrap() {
            println!("    {line}");
        }
    }
    let mut all = Vec::new();
    for (q, kind) in searches {
        let mut ms = Vec::with_capacity(iters);
        let mut hits = 0;
        for _ in 0..iters {
            let t = Instant::now();
            hits = s.search_patients(q, kind, 20).await.unwrap().len();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        all.extend_from_slice(&ms);
        println!("search {q:>12} ({hits:2} hits): {}", percentiles(ms));
    }
    println!("search {:>12}          : {}", "all", percentiles(all));

    let mut ms = Vec::with_capacity(iters);
    let mut rows = 0;
    let mut each: Vec<(&str, Vec<f64>)> = Vec::new();
    for i in 0..iters {
        let who = icn(i * 7 % with_data);
        let t = Instant::now();
        let (n, times) = dashboard(s, &who).await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        rows = n;
        for (k, (name, t)) in times.into_iter().enumerate() {
            if each.len() <= k {
                each.push((name, Vec::new()));
            }
            each[k].1.push(t);
        }
    }
    for (name, ms) in each {
        println!("  {name:>22}: {}", percentiles(ms));
    }
    println!("dashboard, 15 reads ({rows} rows): {}", percentiles(ms));
}

fn main() {
    let patients: usize = std::env::var("BENCH_PATIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("serving.db").display());
        let s = Store::connect(&url).await.unwrap();
        bench("SQLite", &s, patients, iters).await;
        if let Ok(url) = std::env::var("BENCH_PG_URL") {
            let s = Store::connect(&url).await.unwrap();
            bench("PostgreSQL", &s, patients, iters).await;
        } else if let Some(cluster) = pgtest::Cluster::start() {
            let s = Store::connect(&cluster.create_database("bench"))
                .await
                .unwrap();
            bench("PostgreSQL", &s, patients, iters).await;
        }
    });
}
