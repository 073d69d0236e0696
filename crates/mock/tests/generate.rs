//! End-to-end checks of `mock generate`: schema conformance with the
//! reference inventory, determinism, personas and deliberate dirt.

use chrono::NaiveDate;
use mock::GenerateOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const AS_OF: (i32, u32, u32) = (2026, 11, 22);
const SEED: u64 = 42;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap()
}

async fn generate(dir: &Path, patients: u64, seed: u64) -> mock::Summary {
    mock::generate(&GenerateOptions {
        patients,
        seed,
        out: dir.to_path_buf(),
        as_of: as_of(),
    })
    .await
    .expect("generation succeeds")
}

async fn open(dir: &Path, file: &str) -> SqliteConnection {
    let path = dir.join("cdw").join(file);
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path).read_only(true))
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

async fn scalar_i64(c: &mut SqliteConnection, sql: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<i64, _>(0)
}

async fn strings(c: &mut SqliteConnection, sql: &str) -> Vec<String> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get::<Option<String>, _>(0).unwrap_or_default())
        .collect()
}

/// The reference's table inventory, independent of the `cdw` crate.
/// (database, `Schema.Table`, [(column, declared type)])
type RefTable = (String, String, Vec<(String, String)>);

fn reference_tables() -> Vec<RefTable> {
    include_str!("fixtures/reference-1.3-tables.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '|');
            let db = parts.next().unwrap().to_string();
            let table = parts.next().unwrap().to_string();
            let cols = parts
                .next()
                .unwrap()
                .split("; ")
                .map(|c| {
                    let (n, t) = c.split_once(' ').unwrap();
                    (n.to_string(), t.to_string())
                })
                .collect();
            (db, table, cols)
        })
        .collect()
}

fn normalise_type(t: &str) -> String {
    t.to_ascii_uppercase().replace(' ', "")
}

#[tokio::test]
async fn every_reference_table_and_column_exists_with_its_type_and_is_populated() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), 50, SEED).await;
    let mut conns = BTreeMap::new();
    conns.insert(
        "CDWWork".to_string(),
        open(dir.path(), "CDWWork.sqlite").await,
    );
    conns.insert(
        "CDWWork2".to_string(),
        open(dir.path(), "CDWWork2.sqlite").await,
    );
    let reference = reference_tables();
    assert!(
        reference.len() >= 48,
        "fixture has {} tables",
        reference.len()
    );
    for (db, table, cols) in reference {
        let c = conns.get_mut(&db).unwrap();
        let info = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name, type FROM pragma_table_info('{table}')"
        )))
        .fetch_all(&mut *c)
        .await
        .unwrap();
        let declared: BTreeMap<String, String> = info
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect();
        assert!(!declared.is_empty(), "{db}: table {table} is missing");
        for (col, ty) in &cols {
            let got = declared
                .get(col)
                .unwrap_or_else(|| panic!("{db}.{table}: column {col} is missing"));
            assert_eq!(
                normalise_type(got),
                normalise_type(ty),
                "{db}.{table}.{col}"
            );
        }
        let n = scalar_i64(c, &format!("SELECT COUNT(*) FROM \"{table}\"")).await;
        assert!(n > 0, "{db}.{table} is empty");
        let t = cdw::find(
            if db == "CDWWork" {
                cdw::Database::CdwWork
            } else {
                cdw::Database::CdwWork2
            },
            &table,
        )
        .unwrap();
        assert_eq!(summary.rows(t), n as u64, "summary count for {table}");
    }
    // Every CDWWork patient is counted, personas included.
    let c = conns.get_mut("CDWWork").unwrap();
    assert_eq!(
        scalar_i64(c, "SELECT COUNT(*) FROM \"SPatient.SPatient\"").await,
        50
    );
    assert_eq!(
        scalar_i64(
            c,
            "SELECT COUNT(DISTINCT PatientICN) FROM \"SPatient.SPatient\""
        )
        .await,
        50
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn same_seed_gives_byte_identical_output_and_another_seed_does_not() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    generate(a.path(), 120, 7).await;
    generate(b.path(), 120, 7).await;
    generate(c.path(), 120, 8).await;
    let fa = files_under(a.path());
    assert_eq!(fa, files_under(b.path()));
    assert!(fa.len() >= 2 + 2 + 1 + 15, "{fa:?}");
    for f in &fa {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(
            x == y,
            "{} differs between two runs with the same seed",
            f.display()
        );
    }
    let x = std::fs::read(a.path().join("cdw/CDWWork.sqlite")).unwrap();
    let z = std::fs::read(c.path().join("cdw/CDWWork.sqlite")).unwrap();
    assert_ne!(x, z, "a different seed must change the data");
}

#[tokio::test]
async fn personas_are_present_and_identical_at_every_size() {
    let small = tempfile::tempdir().unwrap();
    let large = tempfile::tempdir().unwrap();
    generate(small.path(), 50, SEED).await;
    generate(large.path(), 90, SEED).await;
    let q = "SELECT PatientICN || '|' || PatientSID || '|' || COUNT(*) FROM \"SPatient.SPatient\" p \
             JOIN \"Vital.VitalSign\" v USING (PatientSID) WHERE PatientSID < 100000 OR PatientSID BETWEEN 1606020 AND 1606030 GROUP BY p.PatientSID ORDER BY 1";
    let mut s = open(small.path(), "CDWWork.sqlite").await;
    let mut l = open(large.path(), "CDWWork.sqlite").await;
    let (a, b) = (strings(&mut s, q).await, strings(&mut l, q).await);
    assert!(a.len() >= 29, "{a:?}");
    assert_eq!(a, b, "persona vitals must not depend on --patients");
    let q = "SELECT group_concat(VitalSignSID || ':' || ResultValue, ',') FROM \"Vital.VitalSign\" WHERE PatientSID = 1001";
    assert_eq!(strings(&mut s, q).await, strings(&mut l, q).await);
}

#[tokio::test]
async fn personas_cover_the_reference_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 50, SEED).await;
    let mut c1 = open(dir.path(), "CDWWork.sqlite").await;
    let mut c2 = open(dir.path(), "CDWWork2.sqlite").await;

    // Identity formats of the reference scheme, all valid domain ICNs.
    for icn in strings(&mut c1, "SELECT PatientICN FROM \"SPatient.SPatient\"").await {
        icn.parse::<domain::ids::Icn>()
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(strings(&mut c1, "SELECT PatientICN FROM \"SPatient.SPatient\" WHERE PatientSID IN (1001, 1016, 1606020, 2001) ORDER BY PatientSID").await,
        ["ICN100001", "1016V123456", "ICN200001", "ICN1019425664"]);

    // Deceased with an end-of-life record.
    assert_eq!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"SPatient.SPatient\" WHERE DeceasedFlag = 'Y' AND DeathDateTime IS NOT NULL AND PatientSID IN (1026, 1027)").await, 2);
    assert!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"TIU.TIUDocument_8925\" d JOIN \"Dim.TIUDocumentDefinition\" t USING (DocumentDefinitionSID) WHERE d.PatientSID = 1026 AND t.TIUDocumentTitle = 'DEATH NOTE'").await == 1);
    assert_eq!(strings(&mut c1, "SELECT DischargeDisposition FROM \"Inpat.Inpatient\" WHERE PatientSID = 1026 ORDER BY AdmitDateTime DESC LIMIT 1").await, ["DECEASED"]);

    // High risk for suicide: active Cat I flag with a narrative history.
    assert_eq!(strings(&mut c1, "SELECT a.AssignmentStatus FROM \"SPatient.PatientRecordFlagAssignment\" a WHERE a.PatientSID = 1016 AND a.FlagName = 'HIGH RISK FOR SUICIDE'").await, ["ACTIVE"]);
    assert!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"SPatient.PatientRecordFlagHistory\" h JOIN \"SPatient.PatientRecordFlagAssignment\" a USING (PatientRecordFlagAssignmentSID) WHERE a.PatientSID = 1016 AND a.FlagName = 'HIGH RISK FOR SUICIDE' AND length(h.HistoryComments) > 80").await >= 2);

    // Dual-source patients and the SID collision: PersonSID 2001 is Adam
    // (ICN100001) in CDWWork2 while PatientSID 2001 is Bailey (ICN200001).
    assert_eq!(
        strings(
            &mut c2,
            "SELECT PatientICN FROM \"VeteranMill.SPerson\" WHERE PersonSID = 2001"
        )
        .await,
        ["ICN100001"]
    );
    assert_eq!(
        strings(
            &mut c1,
            "SELECT PatientICN FROM \"SPatient.SPatient\" WHERE PatientSID = 2001"
        )
        .await,
        ["ICN200001"]
    );
    assert!(
        scalar_i64(
            &mut c2,
            "SELECT COUNT(*) FROM \"ImmunizationMill.VaccineAdmin\" WHERE PersonSID = 2001"
        )
        .await
            > 0
    );
    for icn in [
        "ICN100001",
        "ICN100010",
        "ICN200001",
        "ICN200002",
        "ICN200003",
    ] {
        assert!(
            scalar_i64(
                &mut c2,
                &format!("SELECT COUNT(*) FROM \"EncMill.Encounter\" WHERE PatientICN = '{icn}'")
            )
            .await
                > 0,
            "{icn}"
        );
    }

    // The same flu shot on the same day in both sources, zero-padded CVX in both.
    let vista_day = strings(&mut c1, "SELECT substr(i.AdministeredDateTime, 1, 10) FROM \"Immunization.PatientImmunization\" i JOIN \"Dim.Vaccine\" v USING (VaccineSID) WHERE i.PatientSID = 1001 AND v.CVXCode = '088'").await;
    let cerner_day = strings(&mut c2, "SELECT substr(a.AdministeredDateTime, 1, 10) FROM \"ImmunizationMill.VaccineAdmin\" a JOIN \"ImmunizationMill.VaccineCode\" c USING (VaccineCodeSID) WHERE a.PatientICN = 'ICN100001' AND c.CVXCode = '088'").await;
    assert!(
        vista_day.iter().any(|d| cerner_day.contains(d)),
        "{vista_day:?} vs {cerner_day:?}"
    );

    // Cerner weights in lb with no metric value anywhere in the row.
    assert!(scalar_i64(&mut c2, "SELECT COUNT(*) FROM \"VitalMill.VitalResult\" WHERE PatientICN = 'ICN100001' AND VitalTypeName = 'Weight' AND UnitName = 'lbs' AND NumericValue > 100").await > 0);

    // Test and sensitive patients.
    assert_eq!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"SPatient.SPatient\" WHERE TestPatientFlag = 'Y' AND PatientSID BETWEEN 1606020 AND 1606030").await, 11);
    assert_eq!(
        strings(
            &mut c1,
            "SELECT SensitiveFlag FROM \"SPatient.SPatient\" WHERE PatientSID = 1017"
        )
        .await,
        ["Y"]
    );

    // Empty domains.
    assert_eq!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"Vital.VitalSign\" WHERE PatientSID = 1014"
        )
        .await,
        0
    );
    assert_eq!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"Allergy.PatientAllergy\" WHERE PatientSID IN (1011, 1014)"
        )
        .await,
        0
    );
    assert_eq!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"RxOut.RxOutpat\" WHERE PatientSID = 1012"
        )
        .await,
        0
    );

    // Controlled substances for 1015.
    assert!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"RxOut.RxOutpat\" r JOIN \"Dim.LocalDrug\" l USING (LocalDrugSID) JOIN \"Dim.NationalDrug\" n ON n.NationalDrugSID = l.NationalDrugSID WHERE r.PatientSID = 1015 AND n.ControlledSubstanceFlag = 'Y'").await >= 2);

    // Critical labs for 1003 and abnormal vitals of every class for 1004.
    assert!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"Chem.LabChem\" WHERE PatientSID = 1003 AND upper(trim(AbnormalFlag)) IN ('H*', 'L*', 'HH', 'LL', 'CRITICAL HIGH', 'CRITICAL LOW', 'PANIC')").await > 0);
    let bps = strings(&mut c1, "SELECT ResultValue FROM \"Vital.VitalSign\" v JOIN \"Dim.VitalType\" t USING (VitalTypeSID) WHERE v.PatientSID = 1004 AND t.Abbreviation = 'BP' AND v.EnteredInError = 'N' AND v.IsInvalid = 'N'").await;
    let flags: std::collections::BTreeSet<_> = bps
        .iter()
        .filter_map(|r| domain::vitals::parse_blood_pressure(r).ok())
        .filter_map(|(s, d)| {
            domain::vitals::abnormal_flag(
                domain::vitals::VitalType::BloodPressure,
                domain::vitals::Reading::from((s, d)),
            )
        })
        .map(|f| f.as_str())
        .collect();
    assert_eq!(flags.len(), 4, "BP flags seen for 1004: {flags:?}");

    // Dirt: entered-in-error/invalid vitals, orphans, trailing spaces, error dates, sig segments.
    assert!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"Vital.VitalSign\" WHERE EnteredInError = 'Y' OR IsInvalid = 'Y'"
        )
        .await
            > 0
    );
    assert_eq!(scalar_i64(&mut c1, "SELECT COUNT(*) FROM \"Vital.VitalSign\" v LEFT JOIN \"SPatient.SPatient\" p USING (PatientSID) WHERE p.PatientSID IS NULL").await, 1);
    assert!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"Allergy.PatientAllergy\" WHERE LocalAllergenName LIKE '% '"
        )
        .await
            > 0
    );
    assert!(
        scalar_i64(
            &mut c1,
            "SELECT COUNT(*) FROM \"Dim.Vaccine\" WHERE length(CVXCode) = 3 AND CVXCode LIKE '0%'"
        )
        .await
            > 0
    );
    assert_eq!(
        scalar_i64(
            &mut c2,
            "SELECT COUNT(*) FROM \"VitalMill.VitalResult\" WHERE PatientICN = 'ICN999999'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn vista_site_data_and_registry_are_written() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 50, SEED).await;
    let reg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("vista/patient_registry.json")).unwrap(),
    )
    .unwrap();
    let patients = reg["patients"].as_array().unwrap();
    let adam = patients
        .iter()
        .find(|p| p["icn"] == "ICN100001")
        .expect("Adam is registered");
    let sites: Vec<(&str, &str)> = adam["treating_facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["sta3n"].as_str().unwrap(), f["dfn"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sites,
        [("200", "100001"), ("500", "500001"), ("630", "630001")]
    );
    // Alexander is registered twice at 200 (a duplicate registration).
    let alex = patients.iter().find(|p| p["icn"] == "ICN100010").unwrap();
    let at_200: Vec<&str> = alex["treating_facilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["sta3n"] == "200")
        .map(|f| f["dfn"].as_str().unwrap())
        .collect();
    assert_eq!(at_200, ["100010", "100002"]);
    let vitals_200: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("vista/sites/200/vitals.json")).unwrap(),
    )
    .unwrap();
    for dfn in at_200 {
        assert!(
            vitals_200["vitals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["dfn"] == dfn),
            "records under DFN {dfn}"
        );
    }
    for site in ["200", "500", "630"] {
        for domain in [
            "vitals",
            "encounters",
            "allergies",
            "medications",
            "problems",
        ] {
            let f: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(
                    dir.path().join(format!("vista/sites/{site}/{domain}.json")),
                )
                .unwrap(),
            )
            .unwrap();
            assert_eq!(f["site_sta3n"], site);
            assert!(f[domain].is_array(), "{site}/{domain}");
        }
    }
    let vitals: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("vista/sites/200/vitals.json")).unwrap(),
    )
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    for v in vitals["vitals"].as_array().unwrap() {
        let t = v["date_time"].as_str().unwrap();
        assert!(t.starts_with("T-0."), "{t}");
        domain::fileman::resolve_t_notation(t, today).unwrap();
    }
    let ddi =
        std::fs::read_to_string(dir.path().join("reference/db_drug_interactions.csv")).unwrap();
    assert!(ddi.starts_with("Drug 1,Drug 2,Interaction Description"));
    assert!(ddi.lines().count() > 150);
}

#[tokio::test]
async fn too_few_patients_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = mock::generate(&GenerateOptions {
        patients: 10,
        seed: 1,
        out: dir.path().to_path_buf(),
        as_of: as_of(),
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("at least"), "{err}");
    assert!(!dir.path().join("cdw/CDWWork.sqlite").exists());
}
