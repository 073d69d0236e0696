//! A small hand-made `vista/` data directory (today = 2026-02-07) and a
//! simulator on 127.0.0.1:0.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::Path;
use vista::config::Config;

pub const TODAY: (i32, u32, u32) = (2026, 2, 7);

fn write(dir: &Path, rel: &str, v: &Value) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn fac(sta3n: &str, dfn: &str) -> Value {
    json!({"sta3n": sta3n, "name": "X", "dfn": dfn, "first_seen": "2018-01-01", "last_seen": "T-1"})
}

/// The fixture:
/// - ICN100001 DOOREE,ADAM: 200 → 100001 (data in every domain), 500 → 500001;
/// - ICN100010 AMINOR,ALEXANDER: two DFNs at 200 (100010 and 100002), 500 → 500010;
/// - ICN100099 EMPTY,PATIENT: 200 → 100099, no records;
/// - ICN100050 PALO,ONLY: 630 only.
///
/// Site 500 has no encounters file; one vitals record at 200 is malformed.
pub fn fixture(dir: &Path) {
    write(
        dir,
        "sites.json",
        &json!({"sites": [
            {"sta3n": "200", "name": "ALEXANDRIA", "description": "Alexandria VA Medical Center"},
            {"sta3n": "500", "name": "ANCHORAGE", "description": "Anchorage VA Medical Center"},
            {"sta3n": "630", "name": "PALO_ALTO", "description": "Palo Alto VA Medical Center"}
        ]}),
    );
    write(
        dir,
        "patient_registry.json",
        &json!({"_comment": "test", "patients": [
            {"icn": "ICN100001", "ssn": "666-12-6789", "name_last": "DOOREE", "name_first": "ADAM", "name_middle": "",
             "dob": "1980-01-02", "sex": "M", "treating_facilities": [fac("200", "100001"), fac("500", "500001")]},
            {"icn": "ICN100010", "ssn": "666-10-1010", "name_last": "AMINOR", "name_first": "ALEXANDER", "name_middle": "J",
             "dob": "1955-06-30", "sex": "M", "treating_facilities": [fac("200", "100010"), fac("500", "500010"), fac("200", "100002")]},
            {"icn": "ICN100099", "ssn": "666-99-0099", "name_last": "EMPTY", "name_first": "PATIENT",
             "dob": "1990-03-04", "sex": "F", "treating_facilities": [fac("200", "100099")]},
            {"icn": "ICN100050", "ssn": "666-50-0050", "name_last": "PALO", "name_first": "ONLY",
             "dob": "1970-07-07", "sex": "F", "treating_facilities": [fac("630", "630050")]},
            {"icn": "BROKEN"}
        ]}),
    );
    write(
        dir,
        "sites/200/vitals.json",
        &json!({"site_sta3n": "200", "vitals": [
            {"dfn": "100001", "type": "BLOOD PRESSURE", "value": "128/82", "units": "mmHg", "date_time": "T-0.0845", "entered_by": "NURSE,SARAH"},
            {"dfn": "100001", "type": "TEMPERATURE", "value": "98.6", "units": "F", "date_time": "T-1.0900", "entered_by": "O^BRIEN,NOAH"},
            {"dfn": "100001", "type": "BLOOD PRESSURE", "value": "140/90", "units": "mmHg", "date_time": "T-0.0600", "entered_by": "NURSE,SARAH"},
            {"dfn": "100010", "type": "BLOOD PRESSURE", "value": "130/85", "units": "mmHg", "date_time": "T-0.0800", "entered_by": "NURSE,SARAH"},
            {"dfn": "100002", "type": "PULSE", "value": "72", "units": "/min", "date_time": "T-0.1000", "entered_by": "NURSE,SARAH"},
            {"type": "PULSE", "value": "80"},
            {"dfn": "100001", "type": "PULSE", "value": 4242, "date_time": "T-0.0700"}
        ]}),
    );
    write(
        dir,
        "sites/200/allergies.json",
        &json!({"allergies": [
            {"dfn": "100001", "allergen_name": "PENICILLIN", "severity": "SEVERE", "reaction_datetime": "T-120.0930",
             "reactions": "HIVES,ITCHING,RASH", "allergy_type": "DRUG", "originating_site": "200", "entered_by": "PHARMACIST,JOHN"}
        ]}),
    );
    write(
        dir,
        "sites/200/medications.json",
        &json!({"medications": [
            {"dfn": "100001", "rx_number": "2860066", "drug_name": "LISINOPRIL 10MG TAB", "status": "ACTIVE", "quantity": "60",
             "days_supply": "90", "refills_remaining": "3", "issue_date": "T-7.1035", "expiration_date": "T+365"},
            {"dfn": "100001", "rx_number": "2860067", "drug_name": "WARFARIN 5MG TAB", "status": "DISCONTINUED", "quantity": "30",
             "days_supply": "30", "refills_remaining": "0", "issue_date": "T-90", "expiration_date": "T-60"}
        ]}),
    );
    write(
        dir,
        "sites/200/problems.json",
        &json!({"problems": [
            {"dfn": "100001", "problem_ien": "200-123", "problem_text": "Congestive heart failure", "snomed_code": "42343007",
             "icd10_code": "I50.23", "problem_status": "ACTIVE", "onset_date": "2018-02-09", "service_connected": true, "updated_today": false},
            {"dfn": "100001", "problem_ien": "200-124", "problem_text": "Ankle sprain", "snomed_code": "44465007",
             "icd10_code": "S93.409A", "problem_status": "RESOLVED", "onset_date": "T-300", "service_connected": false, "updated_today": true}
        ]}),
    );
    write(
        dir,
        "sites/200/encounters.json",
        &json!({"encounters": [
            {"dfn": "100001", "inpatient_id": "285001", "admit_datetime": "T-7.1430", "admit_location": "7A MED/SURG", "status": "DISCHARGED",
             "discharge_datetime": "T-2.1015", "discharge_location": "HOME", "length_of_stay": "5", "diagnosis_code": "I50.9", "admit_provider": "DOE,JOHN"},
            {"dfn": "100001", "inpatient_id": "284000", "admit_datetime": "T-400.0800", "admit_location": "4B", "status": "DISCHARGED",
             "discharge_datetime": "T-395.1000", "discharge_location": "HOME", "length_of_stay": "5", "diagnosis_code": "J18.9", "admit_provider": "DOE,JOHN"},
            {"dfn": "100010", "inpatient_id": "285002", "admit_datetime": "T-1.0200", "admit_location": "ICU", "status": "ACTIVE",
             "discharge_datetime": "", "discharge_location": "", "length_of_stay": "", "diagnosis_code": "I21.9", "admit_provider": "ROE,JANE"}
        ]}),
    );
    write(dir, "sites/500/vitals.json", &json!({"vitals": []}));
    write(dir, "sites/500/allergies.json", &json!({"allergies": []}));
    write(
        dir,
        "sites/630/vitals.json",
        &json!({"vitals": [
            {"dfn": "630050", "type": "PULSE", "value": "64", "units": "/min", "date_time": "T-0.0700", "entered_by": "NURSE,PAT"}
        ]}),
    );
}

pub fn config(dir: &Path) -> Config {
    let mut c = Config::development(dir.to_path_buf());
    c.http = "127.0.0.1:0".parse().unwrap();
    c.xwb_base_port = 0;
    c.latency = false;
    c.today = chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2);
    c
}

pub struct Sim {
    pub base: String,
    pub state: vista::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Sim {
    pub fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    pub fn xwb_port(&self, sta3n: &str) -> u16 {
        self.state.xwb_ports.lock().unwrap()[sta3n]
    }

    /// Runs an RPC over HTTP; returns the envelope.
    pub async fn rpc(&self, site: &str, name: &str, params: Value) -> Value {
        let r = reqwest::Client::new()
            .post(self.url(&format!("/rpc/execute?site={site}")))
            .json(&json!({"name": name, "params": params}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// The `response` text of a successful call.
    pub async fn ok(&self, site: &str, name: &str, params: Value) -> String {
        let v = self.rpc(site, name, params.clone()).await;
        assert_eq!(v["success"], json!(true), "{name} {params}: {v}");
        v["response"].as_str().unwrap().to_string()
    }
}

pub async fn start_with(c: Config) -> Sim {
    let http = tokio::net::TcpListener::bind(c.http).await.unwrap();
    let base = format!("http://{}", http.local_addr().unwrap());
    let state = vista::build(c).unwrap();
    let xwb = vista::broker::bind(&state).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(vista::serve(http, xwb, state.clone(), async {
        let _ = rx.await;
    }));
    Sim {
        base,
        state,
        stop: Some(tx),
    }
}

pub async fn start(dir: &Path) -> Sim {
    fixture(dir);
    start_with(config(dir)).await
}

/// A client of every fixture site over XWB, signed on as the first
/// development user.
pub fn xwb_client(s: &Sim, timeout: std::time::Duration) -> vista_client::VistaClient {
    let sites = ["200", "500", "630"]
        .iter()
        .map(|k| (k.to_string(), ([127, 0, 0, 1], s.xwb_port(k)).into()))
        .collect();
    vista_client::VistaClient::new(
        vista_client::Transport::Xwb {
            sites,
            credentials: vista_client::Credentials {
                access: "CLINICIAN1".into(),
                verify: "MEDZ1DEV1!".into(),
            },
        },
        timeout,
    )
}
