//! One test suite, run against both serving backends: SQLite in a temp dir
//! and PostgreSQL in a throwaway cluster (see the `pgtest` crate).

use chrono::{NaiveDate, NaiveDateTime};
use columnar::{Batch, Column, Values};
use futures_util::stream;
use std::collections::BTreeMap;
use store::catalog::{self, ColType, ServingTable};
use store::{Backend, PgStore, RunOutcome, RunStatus, ServingStore, SqliteStore};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

fn text(v: &[Option<&str>]) -> Values {
    Values::Text(v.iter().map(|s| s.map(str::to_string)).collect())
}

/// Two vitals rows exercising every column kind, NULLs and awkward text.
fn vitals_batch() -> Batch {
    Batch::new(vec![
        Column::new("vital_id", Values::Int(vec![Some(1), Some(2)])),
        Column::new(
            "patient_key",
            text(&[Some("ICN100001"), Some("1016V123456")]),
        ),
        Column::new("source_system", text(&[Some("CDWWork"), Some("CDWWork2")])),
        Column::new("source_id", text(&[Some("1001"), Some("1001")])),
        Column::new("vital_sign_id", Values::Int(vec![Some(1001), None])),
        Column::new(
            "vital_type",
            text(&[Some("BLOOD PRESSURE"), Some("WEIGHT")]),
        ),
        Column::new(
            "taken_datetime",
            Values::Timestamp(vec![
                Some(ts("2025-01-02 03:04:05")),
                Some(ts("2025-01-02 03:04:05.250")),
            ]),
        ),
        Column::new(
            "result_value",
            text(&[Some("120/80"), Some("say \"hi\", then\nnewline ü")]),
        ),
        Column::new("numeric_value", Values::Float(vec![None, Some(81.647_4)])),
        Column::new("systolic", Values::Int(vec![Some(120), None])),
        Column::new(
            "qualifiers",
            text(&[
                Some(r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"}]"#),
                Some("[]"),
            ]),
        ),
        Column::new("location_name", text(&[Some(""), None])),
        Column::new("data_source", text(&[Some("CDWWork"), Some("CDWWork2")])),
    ])
    .unwrap()
}

async fn load<S: ServingStore>(
    s: &S,
    t: &ServingTable,
    batches: Vec<Result<Batch, BoxError>>,
) -> store::Result<u64> {
    s.replace_table(t, stream::iter(batches)).await
}

fn expected_type(backend: Backend, ty: ColType) -> &'static str {
    match (backend, ty) {
        (Backend::Sqlite, ColType::Text) => "TEXT",
        (Backend::Sqlite, ColType::Int) => "INTEGER",
        (Backend::Sqlite, ColType::Float) => "REAL",
        (Backend::Sqlite, ColType::Bool) => "BOOLEAN",
        (Backend::Sqlite, ColType::Date) => "DATE",
        (Backend::Sqlite, ColType::Timestamp) => "TIMESTAMP",
        (Backend::Sqlite, ColType::Json) => "JSON",
        (Backend::Postgres, ColType::Text) => "text",
        (Backend::Postgres, ColType::Int) => "bigint",
        (Backend::Postgres, ColType::Float) => "double precision",
        (Backend::Postgres, ColType::Bool) => "boolean",
        (Backend::Postgres, ColType::Date) => "date",
        (Backend::Postgres, ColType::Timestamp) => "timestamp without time zone",
        (Backend::Postgres, ColType::Json) => "jsonb",
    }
}

async fn suite<S: ServingStore>(s: &S) -> Vec<Vec<Option<String>>> {
    // Migrations apply, and re-applying is a no-op.
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();

    // Every catalog table exists with exactly the catalog's columns and types.
    for t in catalog::ALL {
        let cols = s.columns(t).await.unwrap();
        let want: Vec<(String, String)> = t
            .columns
            .iter()
            .map(|c| {
                (
                    c.name.to_string(),
                    expected_type(s.backend(), c.ty).to_string(),
                )
            })
            .collect();
        assert_eq!(cols, want, "{} on {:?}", t.qualified(), s.backend());
        assert_eq!(s.count(t).await.unwrap(), 0);
    }

    // Load, then read back the canonical rows.
    let vitals = &catalog::PATIENT_VITALS;
    assert_eq!(load(s, vitals, vec![Ok(vitals_batch())]).await.unwrap(), 2);
    let dump = s.dump(vitals).await.unwrap();
    assert_eq!(dump.len(), 2);
    let col = |name: &str| vitals.columns.iter().position(|c| c.name == name).unwrap();
    assert_eq!(
        dump[1][col("result_value")].as_deref(),
        Some("say \"hi\", then\nnewline ü")
    );
    assert_eq!(
        dump[0][col("location_name")].as_deref(),
        Some(""),
        "empty text is not NULL"
    );
    assert_eq!(dump[1][col("location_name")], None);
    assert_eq!(
        dump[1][col("taken_datetime")].as_deref(),
        Some("2025-01-02 03:04:05.250")
    );
    assert_eq!(dump[1][col("numeric_value")].as_deref(), Some("81.6474"));
    assert_eq!(
        dump[0][col("qualifiers")].as_deref(),
        Some(r#"[{"qualifier_name":"SITTING","qualifier_type":"POSITION"}]"#)
    );
    // The same source id in two source systems does not collide.
    assert_eq!(dump[0][col("source_id")], dump[1][col("source_id")]);

    // A second load replaces the rows (full refresh), across several batches.
    let mut one = vitals_batch();
    let two = {
        let mut b = vitals_batch().into_columns();
        b[0].values = Values::Int(vec![Some(3), Some(4)]);
        b[3].values = text(&[Some("1002"), Some("1002")]);
        Batch::new(b).unwrap()
    };
    one.append(Batch::default()).unwrap();
    assert_eq!(load(s, vitals, vec![Ok(one), Ok(two)]).await.unwrap(), 4);
    assert_eq!(s.count(vitals).await.unwrap(), 4);
    let before = s.dump(vitals).await.unwrap();

    // A failing source mid-load keeps the previous rows intact.
    let err = load(
        s,
        vitals,
        vec![Ok(vitals_batch()), Err("source died".into())],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("source died"), "{err}");
    assert_eq!(s.dump(vitals).await.unwrap(), before);

    // So does a batch that breaks the table's contract, with a clear message.
    let mut bad = vitals_batch().into_columns();
    bad.push(Column::new("no_such_column", Values::Int(vec![None, None])));
    let err = load(s, vitals, vec![Ok(Batch::new(bad).unwrap())])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown column `no_such_column`"),
        "{err}"
    );
    let mut null_key = vitals_batch().into_columns();
    null_key[1].values = text(&[None, Some("ICN100001")]);
    let err = load(s, vitals, vec![Ok(Batch::new(null_key).unwrap())])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("NULL in NOT NULL column `patient_key`"),
        "{err}"
    );
    let mut wrong_kind = vitals_batch().into_columns();
    wrong_kind[4].values = text(&[None, None]);
    let err = load(s, vitals, vec![Ok(Batch::new(wrong_kind).unwrap())])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`vital_sign_id` is text"), "{err}");
    // Duplicate natural keys are refused by the database itself.
    let dup = {
        let mut b = vitals_batch().into_columns();
        b[2].values = text(&[Some("CDWWork"), Some("CDWWork")]);
        Batch::new(b).unwrap()
    };
    assert!(load(s, vitals, vec![Ok(dup)]).await.is_err());
    assert_eq!(s.dump(vitals).await.unwrap(), before);

    // Booleans and dates.
    let facility = &catalog::REFERENCE_FACILITY;
    let fac = Batch::new(vec![
        Column::new("sta3n", text(&[Some("508"), Some("516")])),
        Column::new(
            "facility_name",
            text(&[Some("(508) Atlanta, GA"), Some("(516) Bay Pines, FL")]),
        ),
        Column::new("is_active", Values::Bool(vec![Some(true), Some(false)])),
    ])
    .unwrap();
    load(s, facility, vec![Ok(fac)]).await.unwrap();
    let fac = s.dump(facility).await.unwrap();
    assert_eq!(fac[1][2].as_deref(), Some("false"));
    let demo = &catalog::PATIENT_DEMOGRAPHICS;
    let d = Batch::new(vec![
        Column::new("patient_key", text(&[Some("ICN100001")])),
        Column::new("icn", text(&[Some("ICN100001")])),
        Column::new("source_system", text(&[Some("CDWWork")])),
        Column::new("source_id", text(&[Some("1001")])),
        Column::new(
            "dob",
            Values::Date(vec![NaiveDate::from_ymd_opt(1950, 2, 28)]),
        ),
        Column::new("is_test_patient", Values::Bool(vec![Some(false)])),
        Column::new("is_sensitive", Values::Bool(vec![Some(true)])),
    ])
    .unwrap();
    load(s, demo, vec![Ok(d)]).await.unwrap();
    let d = s.dump(demo).await.unwrap();
    assert_eq!(
        d[0][demo.columns.iter().position(|c| c.name == "dob").unwrap()].as_deref(),
        Some("1950-02-28")
    );

    // The run log.
    assert!(s.latest_succeeded_run().await.unwrap().is_none());
    let as_of = NaiveDate::from_ymd_opt(2025, 12, 19).unwrap();
    let r1 = s
        .begin_run(
            ts("2025-12-19 01:00:00"),
            as_of,
            "sqlite://cdw",
            "file:///lake",
        )
        .await
        .unwrap();
    let rows = BTreeMap::from([("clinical.patient_vitals".to_string(), 4u64)]);
    let q = BTreeMap::from([
        ("vitals: unknown patient".to_string(), 2u64),
        ("labs: bad date".to_string(), 1),
    ]);
    s.finish_run(
        r1,
        RunOutcome {
            finished_at: ts("2025-12-19 01:02:00"),
            status: RunStatus::Succeeded,
            rows: &rows,
            quarantined: &q,
            error: None,
        },
    )
    .await
    .unwrap();
    let r2 = s
        .begin_run(
            ts("2025-12-20 01:00:00"),
            as_of.succ_opt().unwrap(),
            "sqlite://cdw",
            "file:///lake",
        )
        .await
        .unwrap();
    s.finish_run(
        r2,
        RunOutcome {
            finished_at: ts("2025-12-20 01:00:09"),
            status: RunStatus::Failed,
            rows: &BTreeMap::new(),
            quarantined: &BTreeMap::new(),
            error: Some("CDW unreachable"),
        },
    )
    .await
    .unwrap();
    let runs = s.runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].run_id, r2);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].error.as_deref(), Some("CDW unreachable"));
    let latest = s.latest_succeeded_run().await.unwrap().unwrap();
    assert_eq!(latest.run_id, r1);
    assert_eq!(latest.as_of, as_of);
    assert_eq!(latest.rows, rows);
    assert_eq!(latest.quarantined_total, 3);

    before
}

#[tokio::test]
async fn sqlite_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serving.db");
    let s = SqliteStore::open(&path).await.unwrap();
    suite(&s).await;
    // The schemas are real files next to the main one.
    for schema in ["clinical", "reference", "auth"] {
        assert!(dir.path().join(format!("serving.{schema}.db")).exists());
    }
    // And the data survives a reopen.
    drop(s);
    let s = SqliteStore::open(&path).await.unwrap();
    assert_eq!(s.count(&catalog::PATIENT_VITALS).await.unwrap(), 4);
}

#[tokio::test]
async fn postgres_backend_matches_sqlite() {
    let Some(cluster) = pgtest::Cluster::start() else {
        return;
    };
    let url = cluster.create_database("serving");
    let pg = PgStore::connect(&url).await.unwrap();
    let pg_rows = suite(&pg).await;
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("serving.db"))
        .await
        .unwrap();
    let lite_rows = suite(&lite).await;
    assert_eq!(
        pg_rows, lite_rows,
        "both backends store identical canonical rows"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    let err = store::Store::connect("mysql://x").await.unwrap_err();
    assert!(
        err.to_string().contains("unsupported database URL"),
        "{err}"
    );
    let err = store::Store::connect("postgres://nobody@127.0.0.1:1/x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}
