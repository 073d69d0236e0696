//! End-to-end: a generated CDW through every pipeline into both serving
//! backends, with persona checks against the source, idempotence, a failed
//! load that keeps the previous rows, quarantine, bad input, and an S3 lake.
//! (One test binary: every binary linking polars is a large link.)

use chrono::NaiveDate;
use etl::{Options, Step};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::path::Path;
use store::catalog::{self, ServingTable};
use store::{ServingStore, Store};

const AS_OF: (i32, u32, u32) = (2025, 12, 19);

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap()
}

async fn generate(dir: &Path) {
    mock::generate(&mock::GenerateOptions {
        patients: 80,
        seed: 20251219,
        out: dir.join("mock"),
        as_of: as_of(),
    })
    .await
    .unwrap();
}

fn options(dir: &Path, serving: String) -> Options {
    Options {
        cdw: dir.join("mock/cdw").to_string_lossy().into_owned(),
        lake: dir.join("lake").to_string_lossy().into_owned(),
        serving,
        ddi_csv: None,
        as_of: as_of(),
        lake_options: Vec::new(),
        parallelism: 2,
        progress: false,
    }
}

/// `domain: reason` counts over every quarantine file under `lake`.
async fn quarantined_in_lake(lake: &Path) -> BTreeMap<String, u64> {
    let store =
        etl::lake::Lake::open(lake.to_str().unwrap(), tokio::runtime::Handle::current()).unwrap();
    let mut files = Vec::new();
    let mut dirs = vec![lake.join("quarantine")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 2 * etl::pipelines::ALL.len(), "{files:?}");
    let mut counts = BTreeMap::new();
    for f in files {
        let key = f.strip_prefix(lake).unwrap().to_str().unwrap().to_string();
        let df = store.read_parquet_async(&key).await.unwrap();
        let domain = df.column("domain").unwrap().str().unwrap().clone();
        let reason = df.column("reason").unwrap().str().unwrap().clone();
        for (d, r) in domain.iter().zip(reason.iter()) {
            *counts
                .entry(format!("{}: {}", d.unwrap(), r.unwrap()))
                .or_insert(0) += 1;
        }
    }
    counts
}

type Dump = BTreeMap<String, Vec<Vec<Option<String>>>>;

async fn dump_all(s: &Store) -> Dump {
    let mut out = BTreeMap::new();
    for t in catalog::ALL {
        out.insert(t.qualified(), s.dump(t).await.unwrap());
    }
    out
}

fn idx(t: &ServingTable, name: &str) -> usize {
    t.columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("{}.{name}", t.qualified()))
}

/// Rows of `t` whose `column` equals `value`.
fn rows_where<'a>(
    dump: &'a Dump,
    t: &ServingTable,
    column: &str,
    value: &str,
) -> Vec<&'a Vec<Option<String>>> {
    let i = idx(t, column);
    dump[&t.qualified()]
        .iter()
        .filter(|r| r[i].as_deref() == Some(value))
        .collect()
}

fn get<'a>(t: &ServingTable, row: &'a [Option<String>], column: &str) -> Option<&'a str> {
    row[idx(t, column)].as_deref()
}

async fn cdw(dir: &Path, db: &str) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.join("mock/cdw").join(db).display()
    ))
    .await
    .unwrap()
}

/// The persona checks, against the source CDW as the oracle.
async fn check_personas(dir: &Path, d: &Dump) {
    // Demographics, and the deceased patient (PatientSID 1026 → ICN100016).
    let demo = &catalog::PATIENT_DEMOGRAPHICS;
    let adam = rows_where(d, demo, "patient_key", "ICN100001");
    assert_eq!(adam.len(), 1);
    let dead = rows_where(d, demo, "patient_key", "ICN100016");
    assert_eq!(get(demo, dead[0], "deceased_flag"), Some("Y"));
    // Deceased 75 days before the as-of date (docs/mock-data.md).
    assert_eq!(
        get(demo, dead[0], "death_date"),
        Some(&*(as_of() - chrono::Days::new(75)).to_string())
    );

    // Exact rows per persona and domain for this seed and size (the
    // generator is deterministic; personas are generated first).
    for (icn, table, n) in [
        ("ICN100001", &catalog::PATIENT_VITALS, 163),
        ("ICN100001", &catalog::PATIENT_LABS, 125),
        ("ICN100001", &catalog::PATIENT_IMMUNIZATIONS, 16),
        ("ICN100001", &catalog::PATIENT_PROBLEMS, 4),
        ("ICN100001", &catalog::PATIENT_ALLERGIES, 2),
        ("ICN100001", &catalog::PATIENT_ALLERGY_REACTIONS, 3),
        ("ICN100001", &catalog::PATIENT_ENCOUNTERS, 5),
        ("ICN100001", &catalog::PATIENT_FLAGS, 0),
        ("ICN100016", &catalog::PATIENT_FLAGS, 1),
        ("ICN100016", &catalog::PATIENT_FLAG_HISTORY, 8),
        ("ICN100016", &catalog::PATIENT_MEDICATIONS_INPATIENT, 27),
        ("ICN100016", &catalog::PATIENT_ENCOUNTERS, 1),
        ("1016V123456", &catalog::PATIENT_FLAGS, 1),
        ("1016V123456", &catalog::PATIENT_FLAG_HISTORY, 3),
        ("ICN200001", &catalog::PATIENT_VITALS, 146),
        ("ICN200001", &catalog::PATIENT_IMMUNIZATIONS, 7),
    ] {
        assert_eq!(
            rows_where(d, table, "patient_key", icn).len(),
            n,
            "{icn} in {}",
            table.qualified()
        );
    }

    // Cross-source twins: Adam's vitals come from both databases.
    let v = &catalog::PATIENT_VITALS;
    let adam_vitals = rows_where(d, v, "patient_key", "ICN100001");
    for source in ["CDWWork", "CDWWork2"] {
        assert!(
            adam_vitals
                .iter()
                .any(|r| get(v, r, "source_system") == Some(source)),
            "{source}"
        );
    }
    // BMI from Cerner weights (lb converted to kg).
    let cerner_bmi: Vec<_> = adam_vitals
        .iter()
        .filter(|r| {
            get(v, r, "vital_type") == Some("BMI")
                && get(v, r, "source_id").is_some_and(|s| s.contains("CDWWork2"))
        })
        .collect();
    assert!(
        !cerner_bmi.is_empty(),
        "Adam has BMI rows computed from Cerner weights"
    );
    for r in cerner_bmi {
        let bmi: f64 = get(v, r, "numeric_value")
            .expect("BMI value")
            .parse()
            .unwrap();
        assert!((12.0..70.0).contains(&bmi), "{bmi}");
        assert!(get(v, r, "abnormal_flag").is_some());
    }

    // The SID collision: every Cerner immunization lands on the ICN its
    // source row names (PersonSID 2001 is Adam in CDWWork2, Bailey in CDWWork).
    let mut c2 = cdw(dir, "CDWWork2.sqlite").await;
    let truth: BTreeMap<String, String> = sqlx::query_as::<_, (i64, String)>(
        "SELECT VaccineAdminSID, trim(PatientICN) FROM \"ImmunizationMill.VaccineAdmin\" WHERE PatientICN IS NOT NULL",
    )
    .fetch_all(&mut c2)
    .await
    .unwrap()
    .into_iter()
    .map(|(sid, icn)| (sid.to_string(), icn))
    .collect();
    let imm = &catalog::PATIENT_IMMUNIZATIONS;
    let cerner_imm = rows_where(d, imm, "source_system", "CDWWork2");
    assert!(!cerner_imm.is_empty());
    for r in &cerner_imm {
        let sid = get(imm, r, "source_id").unwrap();
        assert_eq!(
            get(imm, r, "patient_key"),
            truth.get(sid).map(String::as_str),
            "VaccineAdminSID {sid}"
        );
    }
    assert!(
        cerner_imm
            .iter()
            .any(|r| get(imm, r, "patient_key") == Some("ICN100001"))
    );
    // Adam's CVX 088 given the same day in both sources is served once (the
    // CDWWork row wins), with the code normalised from `'088'` to `88`.
    let adam_flu: Vec<_> = rows_where(d, imm, "patient_key", "ICN100001")
        .into_iter()
        .filter(|r| get(imm, r, "cvx_code") == Some("88"))
        .collect();
    let mut days: Vec<&str> = adam_flu
        .iter()
        .map(|r| &get(imm, r, "administered_datetime").unwrap()[..10])
        .collect();
    let n = days.len();
    assert!(n > 0, "Adam has CVX 88 rows");
    days.sort();
    days.dedup();
    assert_eq!(days.len(), n, "one CVX 88 row per day: {days:?}");

    // The suicide-risk flag and its full history (PatientSID 1016).
    let flags = &catalog::PATIENT_FLAGS;
    let f: Vec<_> = rows_where(d, flags, "patient_key", "1016V123456")
        .into_iter()
        .filter(|r| get(flags, r, "flag_name") == Some("HIGH RISK FOR SUICIDE"))
        .collect();
    assert_eq!(f.len(), 1);
    let assignment = get(flags, f[0], "assignment_id").unwrap().to_string();
    let mut c1 = cdw(dir, "CDWWork.sqlite").await;
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM \"SPatient.PatientRecordFlagHistory\" WHERE PatientRecordFlagAssignmentSID = ?",
    )
    .bind(assignment.parse::<i64>().unwrap())
    .fetch_one(&mut c1)
    .await
    .unwrap();
    let h = &catalog::PATIENT_FLAG_HISTORY;
    let history = rows_where(d, h, "assignment_id", &assignment);
    assert_eq!(history.len() as i64, expected);
    assert!(expected > 0);
    assert!(
        history
            .iter()
            .all(|r| get(h, r, "history_comments").is_some()
                && get(h, r, "entered_by_name").is_some())
    );

    // Nothing served belongs to the orphan patient.
    for t in catalog::ALL.iter().filter(|t| t.schema == "clinical") {
        assert!(
            rows_where(d, t, "patient_key", "ICN999999").is_empty(),
            "{}",
            t.qualified()
        );
    }
}

#[tokio::test]
async fn end_to_end_into_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path()).await;
    let sqlite_url = format!("sqlite://{}", dir.path().join("serving.db").display());
    let opts = options(dir.path(), sqlite_url.clone());
    let report = etl::run_all(&opts).await.unwrap();
    assert!(
        report.tables.values().all(|&n| n > 0),
        "{:?}",
        report.tables
    );
    // The orphan fact rows (one VitalSign, one VitalResult, one LabChem) and
    // the other dirt are quarantined and counted, and the run finished.
    let q = |k: &str| report.quarantined.get(k).copied().unwrap_or(0);
    assert_eq!(q("vitals: unknown patient"), 2, "{:?}", report.quarantined);
    assert_eq!(q("labs: unknown patient"), 1);
    assert_eq!(q("immunizations: cross-source duplicate"), 1);
    assert!(q("vitals: entered in error") > 0 && q("vitals: invalid") > 0);
    assert!(q("immunizations: unknown patient") > 0, "NULL Cerner ICNs");
    let lite = Store::connect(&sqlite_url).await.unwrap();
    let first = dump_all(&lite).await;
    check_personas(dir.path(), &first).await;
    for (t, rows) in &first {
        assert_eq!(
            report.tables.get(t).copied(),
            Some(rows.len() as u64),
            "{t}"
        );
    }
    let run = lite.latest_succeeded_run().await.unwrap().unwrap();
    assert_eq!(run.as_of, as_of());
    assert_eq!(
        run.quarantined_total,
        report.quarantined.values().sum::<u64>()
    );
    assert!(run.quarantined_total > 0);
    // Every quarantined row is in the lake with its reason: each pipeline's
    // silver and gold files plus bronze's per-table files add up to the
    // run's counts.
    let on_disk = quarantined_in_lake(&dir.path().join("lake")).await;
    let mut expected = report.quarantined.clone();
    expected.retain(|_, n| *n > 0);
    assert_eq!(on_disk, expected);

    // Idempotence: the same input and as-of date give identical rows.
    etl::run_all(&opts).await.unwrap();
    assert_eq!(dump_all(&lite).await, first);
    assert_eq!(lite.runs(10).await.unwrap().len(), 2);

    // A load that fails keeps the previous rows: a corrupt gold dataset...
    let gold = dir.path().join("lake/gold/vitals/vitals_final.parquet");
    let good = std::fs::read(&gold).unwrap();
    std::fs::write(&gold, b"not parquet").unwrap();
    let err = etl::run_step(&opts, Step::Load, "vitals")
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("vitals"), "{err:#}");
    assert_eq!(dump_all(&lite).await, first);
    std::fs::write(&gold, good).unwrap();
    // ...and single steps rerun cleanly.
    etl::run_step(&opts, Step::Silver, "vitals").await.unwrap();
    etl::run_step(&opts, Step::Gold, "vitals").await.unwrap();
    etl::run_step(&opts, Step::Load, "vitals").await.unwrap();
    assert_eq!(dump_all(&lite).await, first);

    // PostgreSQL gets exactly the same rows.
    if let Some(cluster) = pgtest::Cluster::start() {
        let url = cluster.create_database("serving");
        let pg_opts = Options {
            serving: url.clone(),
            ..opts.clone()
        };
        etl::run_all(&pg_opts).await.unwrap();
        let pg = Store::connect(&url).await.unwrap();
        let pg_dump = dump_all(&pg).await;
        for (t, rows) in &first {
            assert_eq!(
                &pg_dump[t], rows,
                "{t} differs between SQLite and PostgreSQL"
            );
        }
    }
}

#[tokio::test]
async fn bad_input_fails_clearly_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let serving = format!("sqlite://{}", dir.path().join("serving.db").display());
    // Unreachable CDW.
    let mut opts = options(dir.path(), serving.clone());
    opts.cdw = "mssql://sa:pw@127.0.0.1:1?encrypt=false".into();
    let err = format!("{:#}", etl::run_all(&opts).await.unwrap_err());
    assert!(err.contains("cannot reach the CDW"), "{err}");
    let runs = etl::status(&serving, 5).await.unwrap();
    assert_eq!(runs[0].status, store::RunStatus::Failed);
    assert!(runs[0].error.as_deref().unwrap().contains("cannot reach"));
    // Missing CDW files.
    let mut opts = options(dir.path(), serving.clone());
    opts.cdw = dir.path().join("nowhere").to_string_lossy().into_owned();
    let err = format!("{:#}", etl::run_all(&opts).await.unwrap_err());
    assert!(err.contains("CDW file missing"), "{err}");
    // Bad URLs.
    let mut opts = options(dir.path(), "mysql://x".into());
    let err = format!("{:#}", etl::run_all(&opts).await.unwrap_err());
    assert!(err.contains("unsupported database URL"), "{err}");
    opts.serving = serving.clone();
    opts.lake = "ftp://lake".into();
    generate(dir.path()).await;
    let err = format!("{:#}", etl::run_all(&opts).await.unwrap_err());
    assert!(err.contains("unsupported lake URL"), "{err}");
    // Unknown pipeline.
    let opts = options(dir.path(), serving.clone());
    let err = format!(
        "{:#}",
        etl::run_step(&opts, Step::Silver, "nope")
            .await
            .unwrap_err()
    );
    assert!(err.contains("unknown pipeline `nope`"), "{err}");
    // Schema drift in the CDW.
    let mut c = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        dir.path().join("mock/cdw/CDWWork.sqlite").display()
    ))
    .await
    .unwrap();
    sqlx::query("ALTER TABLE \"Vital.VitalSign\" DROP COLUMN Systolic")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let err = format!("{:#}", etl::run_all(&opts).await.unwrap_err());
    assert!(
        err.contains("schema mismatch") && err.contains("Vital.VitalSign.Systolic"),
        "{err}"
    );
}

/// A moto S3 server on a free loopback port, killed (by PID) on drop.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("HOME")
        .map(|h| Path::new(&h).join(".cache/medz1-tools/venv/bin/moto_server"));
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("moto_server"))
                .find(|p| p.exists())
        })
        .or(venv.filter(|p| p.exists()))
}

fn start_moto() -> Option<Moto> {
    let Some(bin) = moto_binary() else {
        if std::env::var_os("CI").is_some_and(|v| v != "false" && !v.is_empty()) {
            panic!("moto_server not found; scripts/test.sh installs it");
        }
        eprintln!("SKIPPED: moto_server is not installed (scripts/test.sh installs it)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let moto = Moto { child, port };
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(moto);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("moto_server did not start");
}

/// Creates a bucket with a plain HTTP PUT (moto does not check signatures).
fn create_bucket(port: u16, bucket: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test]
async fn s3_lake() {
    let Some(moto) = start_moto() else { return };
    create_bucket(moto.port, "medz1-lake");
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path()).await;
    let serving = format!("sqlite://{}", dir.path().join("serving.db").display());
    let mut opts = options(dir.path(), serving.clone());
    opts.lake = "s3://medz1-lake/lake".into();
    opts.lake_options = [
        ("aws_endpoint", format!("http://127.0.0.1:{}", moto.port)),
        ("aws_allow_http", "true".into()),
        ("aws_access_key_id", "test".into()),
        ("aws_secret_access_key", "test".into()),
        ("aws_region", "us-east-1".into()),
        ("aws_virtual_hosted_style_request", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let report = etl::run_all(&opts).await.unwrap();
    let s3_rows = report.tables.clone();
    assert!(
        !dir.path().join("lake").exists(),
        "the S3 run wrote nothing locally"
    );
    // The same input through a local lake loads the same rows.
    let local = etl::run_all(&options(dir.path(), serving)).await.unwrap();
    assert_eq!(s3_rows, local.tables);
}
