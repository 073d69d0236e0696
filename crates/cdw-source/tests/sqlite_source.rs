//! The embedded source against a generated CDW.

use cdw_source::CdwSource;
use chrono::NaiveDate;
use columnar::Values;
use sqlx::Connection;

async fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    mock::generate(&mock::GenerateOptions {
        patients: 60,
        seed: 11,
        out: dir.path().to_path_buf(),
        as_of: NaiveDate::from_ymd_opt(2025, 12, 19).unwrap(),
    })
    .await
    .unwrap();
    dir
}

#[tokio::test]
async fn reads_verified_tables_in_chunks() {
    let dir = generated().await;
    let src = CdwSource::open(dir.path().join("cdw").to_str().unwrap())
        .await
        .unwrap();
    src.verify().await.unwrap();
    let mut batches = 0;
    let mut icns = Vec::new();
    let n = src
        .read_table(&cdw::catalog::S_PATIENT_S_PATIENT, 25, |b, rejects| {
            assert!(rejects.is_empty());
            assert!(b.num_rows() <= 25);
            batches += 1;
            if let Values::Text(v) = &b.column("PatientICN").unwrap().values {
                icns.extend(v.iter().flatten().cloned());
            }
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n as usize, icns.len());
    assert_eq!(batches, n.div_ceil(25));
    assert!(icns.contains(&"ICN100001".to_string()));
    // A sink failure stops the read with its message.
    let err = src
        .read_table(&cdw::catalog::DIM_STA3N, 10, |_, _| Err("disk full".into()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk full"));
}

#[tokio::test]
async fn bad_cells_are_rejected_not_fatal_and_schema_drift_is_reported() {
    let dir = generated().await;
    let file = dir.path().join("cdw/CDWWork.sqlite");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE \"Dim.ICD10\" SET CreatedDate = '31/12/2024' WHERE ICD10SID = (SELECT min(ICD10SID) FROM \"Dim.ICD10\")")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE \"Dim.Sta3n\" DROP COLUMN Active")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let src = CdwSource::open(&format!("sqlite://{}", dir.path().join("cdw").display()))
        .await
        .unwrap();
    let mut rejects = Vec::new();
    src.read_table(&cdw::catalog::DIM_ICD10, 1000, |_, r| {
        rejects.extend(r);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].raw, "31/12/2024");
    assert_eq!(rejects[0].reason, "unparseable datetime");
    let err = src.verify().await.unwrap_err().to_string();
    assert!(
        err.contains("CDW schema mismatch") && err.contains("Dim.Sta3n.Active is missing"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_files_and_bad_urls_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let err = CdwSource::open(dir.path().to_str().unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("CDW file missing") && err.contains("CDWWork.sqlite"),
        "{err}"
    );
    let err = CdwSource::open("ftp://x").await.err().unwrap().to_string();
    assert!(err.contains("unsupported CDW URL"), "{err}");
    let err = match CdwSource::open("mssql://sa:pw@127.0.0.1:1?encrypt=false")
        .await
        .unwrap()
        .verify()
        .await
    {
        Err(e) => e.to_string(),
        Ok(()) => panic!("verify against a closed port succeeded"),
    };
    assert!(
        err.contains("cannot reach the CDW at mssql://127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("pw"));
}
