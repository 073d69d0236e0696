//! The HTTP API end to end (today = 2026-02-07): the service endpoints,
//! the envelope and status codes of the original, and every RPC for a
//! patient with data, without data, unknown, and not registered at the site.

mod common;

use common::*;
use serde_json::{Value, json};

fn pieces(line: &str) -> Vec<&str> {
    line.split('^').collect()
}

#[tokio::test]
async fn service_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let root: Value = reqwest::get(s.url("/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["service"], json!("VistA RPC Broker Simulator"));
    assert_eq!(root["sites"], json!(3));
    let health: Value = reqwest::get(s.url("/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], json!("healthy"));
    assert_eq!(health["sites"], json!(["200", "500", "630"]));
    // The two malformed vitals records and the broken registry entry; the
    // warnings (logged) never repeat a record's values.
    assert_eq!(health["load_warnings"], json!(3));
    let warnings = s.state.world.warnings.join("\n");
    assert!(
        warnings.contains("missing field `dfn`")
            && warnings.contains("invalid value, expected a string"),
        "{warnings}"
    );
    assert!(!warnings.contains("4242"), "{warnings}");
    let sites: Value = reqwest::get(s.url("/sites"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s200 = &sites[0];
    assert_eq!(
        (s200["sta3n"].as_str(), s200["name"].as_str()),
        (Some("200"), Some("ALEXANDRIA"))
    );
    assert_eq!(s200["patients_registered"], json!(3));
    assert_eq!(s200["rpcs_registered"], json!(10));
    assert!(s200["xwb_port"].as_u64().unwrap() > 0);
    let m = reqwest::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("vista_xwb_connections 0"), "{m}");
    let doc: Value = reqwest::get(s.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/rpc/execute"]["post"].is_object());
    let ui = reqwest::get(s.url("/docs/")).await.unwrap();
    assert_eq!(ui.status(), 200);
}

#[tokio::test]
async fn envelope_and_status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let http = reqwest::Client::new();
    let body = json!({"name": "ORWPT PTINQ", "params": ["ICN100001"]});

    let r = http
        .post(s.url("/rpc/execute"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "missing site");
    let r = http
        .post(s.url("/rpc/execute?site=999"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["detail"],
        json!("Site 999 not found. Available sites: ['200', '500', '630']")
    );
    let r = http
        .post(s.url("/rpc/execute?site=200"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .post(s.url("/rpc/execute?site=200"))
        .json(&json!({"params": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "missing name");
    let r = http
        .post(s.url("/rpc/execute?site=200"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let huge = json!({"name": "ORWPT PTINQ", "params": ["x".repeat(100_000)]});
    let r = http
        .post(s.url("/rpc/execute?site=200"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    let v = s.rpc("200", "ORWPT PTINQ", json!(["ICN100001"])).await;
    assert_eq!(
        v,
        json!({"success": true, "response": "DOOREE,ADAM^666-12-6789^2800102^M^VETERAN", "error": null, "site": "200", "rpc": "ORWPT PTINQ"})
    );
    let v = s.rpc("200", "NOPE", json!([])).await;
    assert_eq!(v["success"], json!(false));
    assert_eq!(v["response"], Value::Null);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("RPC 'NOPE' not registered. Available RPCs: GMV LATEST VM, ORQQAL LIST"),
        "{v}"
    );
    for params in [json!([]), json!([""]), json!([null])] {
        let v = s.rpc("200", "ORWPT PTINQ", params.clone()).await;
        assert_eq!(v["success"], json!(false), "{params}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Execution failed: ICN parameter is required"),
            "{v}"
        );
    }
    // Params default to [].
    let r = http
        .post(s.url("/rpc/execute?site=200"))
        .json(&json!({"name": "ORWPT LIST ALL"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["success"], json!(true));
}

#[tokio::test]
async fn seed_rpcs_by_icn() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;

    // ORWPT PTINQ
    assert_eq!(
        s.ok("200", "ORWPT PTINQ", json!(["ICN100099"])).await,
        "EMPTY,PATIENT^666-99-0099^2900304^F^VETERAN"
    );
    assert_eq!(
        s.ok("200", "ORWPT PTINQ", json!(["ICN100010"])).await,
        "AMINOR,ALEXANDER J^666-10-1010^2550630^M^VETERAN"
    );
    assert_eq!(
        s.ok("200", "ORWPT PTINQ", json!(["ICN999999"])).await,
        "-1^Patient ICN999999 not found"
    );
    assert_eq!(
        s.ok("200", "ORWPT PTINQ", json!(["ICN100050"])).await,
        "-1^Patient ICN100050 not registered at site 200"
    );

    // GMV LATEST VM: every DFN of the patient at the site; `^` escaped.
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["ICN100001"])).await,
        "BLOOD PRESSURE^128/82^mmHg^3260207.0845^NURSE,SARAH\nTEMPERATURE^98.6^F^3260206.0900^O%5EBRIEN,NOAH\nBLOOD PRESSURE^140/90^mmHg^3260207.0600^NURSE,SARAH"
    );
    for line in s
        .ok("200", "GMV LATEST VM", json!(["ICN100001"]))
        .await
        .lines()
    {
        assert_eq!(pieces(line).len(), 5, "{line}");
    }
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["ICN100010"])).await,
        "BLOOD PRESSURE^130/85^mmHg^3260207.0800^NURSE,SARAH\nPULSE^72^/min^3260207.1000^NURSE,SARAH"
    );
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["ICN100099"])).await,
        "-1^No vitals found for patient"
    );
    assert_eq!(
        s.ok("500", "GMV LATEST VM", json!(["ICN100001"])).await,
        "-1^No vitals found for patient"
    );
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["ICN100050"])).await,
        "-1^Patient ICN100050 not found at site 200"
    );
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["ICN999999"])).await,
        "-1^Patient ICN999999 not found at site 200"
    );

    // ORWCV ADMISSIONS: DAYS_BACK applies (default 90).
    let recent = "285001^3260131.1430^7A MED/SURG^DISCHARGED^3260205.1015^HOME^5^I50.9^DOE,JOHN";
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100001"])).await,
        recent
    );
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100001", 500]))
            .await
            .lines()
            .count(),
        2
    );
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100001", "3"]))
            .await,
        "-1^No encounters found for patient"
    );
    // An active stay is always listed, with empty discharge pieces.
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100010", 0]))
            .await,
        "285002^3260206.0200^ICU^ACTIVE^^^^I21.9^ROE,JANE"
    );
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100099"])).await,
        "-1^No encounters found for patient"
    );
    assert_eq!(
        s.ok("500", "ORWCV ADMISSIONS", json!(["ICN100001"])).await,
        "-1^No encounters data available at site 500"
    );
    assert_eq!(
        s.ok("200", "ORWCV ADMISSIONS", json!(["ICN100050"])).await,
        "-1^Patient ICN100050 not registered at site 200"
    );
    let v = s
        .rpc("200", "ORWCV ADMISSIONS", json!(["ICN100001", "lots"]))
        .await;
    assert_eq!(v["success"], json!(false));

    // ORQQAL LIST
    assert_eq!(
        s.ok("200", "ORQQAL LIST", json!(["ICN100001"])).await,
        "PENICILLIN^SEVERE^3251010.0930^HIVES,ITCHING,RASH^DRUG^200^PHARMACIST,JOHN"
    );
    assert_eq!(s.ok("200", "ORQQAL LIST", json!(["ICN100099"])).await, "");
    assert_eq!(
        s.ok("200", "ORQQAL LIST", json!(["ICN100050"])).await,
        "-1^Patient ICN100050 not registered at site 200"
    );
    assert_eq!(
        s.ok("630", "ORQQAL LIST", json!(["ICN100050"])).await,
        "-1^No allergies data available at site 630"
    );

    // ORWPS COVER: active only.
    assert_eq!(
        s.ok("200", "ORWPS COVER", json!(["ICN100001"])).await,
        "2860066^LISINOPRIL 10MG TAB^ACTIVE^60/90^3^3260131.1035^3270207"
    );
    for icn in ["ICN100099", "ICN100050", "ICN999999"] {
        assert_eq!(s.ok("200", "ORWPS COVER", json!([icn])).await, "", "{icn}");
    }

    // ORQQPL LIST: every status.
    assert_eq!(
        s.ok("200", "ORQQPL LIST", json!(["ICN100001"])).await,
        "200-123^Congestive heart failure^I50.23^ACTIVE^3180209^1^42343007^0\n200-124^Ankle sprain^S93.409A^RESOLVED^3250413^0^44465007^1"
    );
    for icn in ["ICN100099", "ICN100050", "ICN999999"] {
        assert_eq!(s.ok("200", "ORQQPL LIST", json!([icn])).await, "", "{icn}");
    }
}

#[tokio::test]
async fn cprs_rpcs_by_dfn() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;

    // ORWPT SELECT
    assert_eq!(
        s.ok("200", "ORWPT SELECT", json!(["100001"])).await,
        "DOOREE,ADAM^M^2800102^666126789^^^^A^0^^0^1^^ICN100001^46^^"
    );
    let inpatient = s.ok("200", "ORWPT SELECT", json!(["100010"])).await;
    let p = pieces(&inpatient);
    assert_eq!(p.len(), 17, "{inpatient}");
    assert_eq!(
        (p[5], p[9], p[13], p[15]),
        ("ICU", "3260206.02", "ICN100010", "GENERAL MEDICINE")
    );
    assert!(p[4].parse::<u64>().is_ok());
    // The patient's second DFN at the site is reachable too.
    assert!(
        s.ok("200", "ORWPT SELECT", json!(["100002"]))
            .await
            .starts_with("AMINOR,ALEXANDER J^M^")
    );
    assert_eq!(
        s.ok("200", "ORWPT SELECT", json!(["100099"]))
            .await
            .split('^')
            .nth(13),
        Some("ICN100099")
    );
    assert_eq!(
        s.ok("200", "ORWPT SELECT", json!(["999"])).await,
        "-1^^^^^Patient is unknown to CPRS."
    );
    assert_eq!(
        s.ok("200", "ORWPT SELECT", json!(["630050"])).await,
        "-1^^^^^Patient is unknown to CPRS.",
        "registered elsewhere"
    );

    // ORWPT LIST ALL: name order, ties by DFN, paging both ways.
    assert_eq!(
        s.ok("200", "ORWPT LIST ALL", json!(["", "1"])).await,
        "100002^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J\n100010^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J\n100001^DOOREE,ADAM^^^^DOOREE,ADAM\n100099^EMPTY,PATIENT^^^^EMPTY,PATIENT"
    );
    assert_eq!(
        s.ok(
            "200",
            "ORWPT LIST ALL",
            json!(["100002^AMINOR,ALEXANDER J", "1"])
        )
        .await
        .lines()
        .next(),
        Some("100010^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J")
    );
    assert_eq!(
        s.ok("200", "ORWPT LIST ALL", json!(["DOOREE", "1"]))
            .await
            .lines()
            .count(),
        2
    );
    assert_eq!(
        s.ok("200", "ORWPT LIST ALL", json!(["DOOREE", "-1"])).await,
        "100010^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J\n100002^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J"
    );
    assert_eq!(s.ok("200", "ORWPT LIST ALL", json!(["ZZZ", "1"])).await, "");

    // ORWPT ADMITLST: newest first.
    let a = s.ok("200", "ORWPT ADMITLST", json!(["100001"])).await;
    let lines: Vec<Vec<&str>> = a.lines().map(pieces).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0][0], lines[0][2], lines[0][3], lines[0][4]),
        ("3260131.143", "7A MED/SURG", "ADMISSION", "285001")
    );
    assert_eq!(lines[1][0], "3250103.08");
    for dfn in ["100099", "999"] {
        assert_eq!(
            s.ok("200", "ORWPT ADMITLST", json!([dfn])).await,
            "",
            "{dfn}"
        );
    }

    // ORQQVI VITALS: the newest of each type; optional range.
    let v = s.ok("200", "ORQQVI VITALS", json!(["100001"])).await;
    let rows: Vec<Vec<&str>> = v.lines().map(pieces).collect();
    assert_eq!(rows.len(), 2, "{v}");
    assert_eq!(
        &rows[0][1..6],
        &["BP", "128/82", "3260207.0845", "128/82 mmHg", ""]
    );
    assert_eq!(
        &rows[1][1..6],
        &["T", "98.6", "3260206.09", "98.6 F", "(37.0 C)"]
    );
    assert_eq!(rows[0].len(), 7);
    let only_yesterday = s
        .ok(
            "200",
            "ORQQVI VITALS",
            json!(["100001", "3260206", "3260206"]),
        )
        .await;
    assert_eq!(only_yesterday.lines().count(), 1);
    assert!(only_yesterday.contains("^T^98.6^"));
    for dfn in ["100099", "999"] {
        assert_eq!(
            s.ok("200", "ORQQVI VITALS", json!([dfn])).await,
            "",
            "{dfn}"
        );
    }

    // ORQQAL LIST with its sentinels.
    let al = s.ok("200", "ORQQAL LIST", json!(["100001"])).await;
    assert_eq!(
        &pieces(&al)[1..],
        &["PENICILLIN", "SEVERE", "HIVES;ITCHING;RASH"]
    );
    assert_eq!(
        s.ok("200", "ORQQAL LIST", json!(["100099"])).await,
        "^No Allergy Assessment"
    );
    assert_eq!(
        s.ok("200", "ORQQAL LIST", json!(["999"])).await,
        "^No allergies found."
    );

    // ORWPS COVER
    let c = s.ok("200", "ORWPS COVER", json!(["100001"])).await;
    let p = pieces(&c);
    assert_eq!(
        (p[0], p[1], p[3]),
        ("2860066R;O", "LISINOPRIL 10MG TAB", "ACTIVE")
    );
    for dfn in ["100099", "999"] {
        assert_eq!(s.ok("200", "ORWPS COVER", json!([dfn])).await, "", "{dfn}");
    }

    // ORQQPL LIST with the status filter.
    let active = s.ok("200", "ORQQPL LIST", json!(["100001", "A"])).await;
    assert_eq!(
        active,
        "200-123^Congestive heart failure^A^I50.23^3180209^3180209^SC^^^^^^^42343007^^10D^"
    );
    let inactive = s.ok("200", "ORQQPL LIST", json!(["100001", "I"])).await;
    assert_eq!(
        pieces(&inactive)[..6],
        [
            "200-124",
            "Ankle sprain",
            "I",
            "S93.409A",
            "3250413",
            "3260207"
        ]
    );
    assert_eq!(
        s.ok("200", "ORQQPL LIST", json!(["100001", ""]))
            .await
            .lines()
            .count(),
        2
    );
    for dfn in ["100099", "999"] {
        assert_eq!(
            s.ok("200", "ORQQPL LIST", json!([dfn])).await,
            "^No problems found.",
            "{dfn}"
        );
    }

    // GMV LATEST VM and ORWPT PTINQ by DFN: display text.
    let gmv = s.ok("200", "GMV LATEST VM", json!(["100001"])).await;
    assert!(
        gmv.contains("B/P:")
            && gmv.contains("(02/07/26@08:45) 128/82 mmHg")
            && gmv.contains("(37.0 C)"),
        "{gmv}"
    );
    assert_eq!(
        s.ok("200", "GMV LATEST VM", json!(["100099"])).await,
        "There are no results to report "
    );
    let inq = s.ok("200", "ORWPT PTINQ", json!(["100010"])).await;
    assert!(
        inq.contains("AMINOR,ALEXANDER J")
            && inq.contains("ICN: ICN100010")
            && inq.contains("Currently admitted to ICU"),
        "{inq}"
    );
    assert_eq!(
        s.ok("200", "ORWPT PTINQ", json!(["999"])).await,
        "Patient is unknown to CPRS."
    );
}

#[tokio::test]
async fn escaping_round_trips() {
    use vista::rpc::{escape, unescape};
    for s in [
        "O^BRIEN",
        "50% off",
        "a\r\nb",
        "%5E literal",
        "plain",
        "^^%%",
    ] {
        let e = escape(s);
        assert!(!e.contains(['^', '\r', '\n']), "{e}");
        assert_eq!(unescape(&e), s);
    }
    assert_eq!(unescape("98%"), "98%");
}

#[tokio::test]
async fn latency_is_per_site_and_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let mut c = config(dir.path());
    c.latency = true;
    c.sites = Some(vec![
        vista::config::SiteConfig {
            sta3n: "200".into(),
            name: "ALEXANDRIA".into(),
            description: String::new(),
            latency_ms: (150, 200),
            xwb_port: None,
        },
        vista::config::SiteConfig {
            sta3n: "500".into(),
            name: "ANCHORAGE".into(),
            description: String::new(),
            latency_ms: (0, 0),
            xwb_port: None,
        },
    ]);
    let s = start_with(c).await;
    let t = std::time::Instant::now();
    s.ok("200", "ORWPT PTINQ", json!(["ICN100001"])).await;
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    // Errors are delayed too, like the original.
    let t = std::time::Instant::now();
    s.rpc("200", "NOPE", json!([])).await;
    assert!(t.elapsed() >= std::time::Duration::from_millis(150));
    let t = std::time::Instant::now();
    s.ok("500", "ORWPT PTINQ", json!(["ICN100001"])).await;
    assert!(
        t.elapsed() < std::time::Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn bad_data_dirs_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let err = format!("{:#}", vista::build(config(dir.path())).err().unwrap());
    assert!(
        err.contains("sites.json") && err.contains("mock generate"),
        "{err}"
    );
    fixture(dir.path());
    std::fs::write(dir.path().join("patient_registry.json"), "{not json").unwrap();
    let err = format!("{:#}", vista::build(config(dir.path())).err().unwrap());
    assert!(err.contains("patient_registry.json"), "{err}");
}

#[test]
fn site_lists_in_either_shape() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("sites.json");
    std::fs::write(&bare, r#"[{"sta3n": "200", "name": "ALEXANDRIA", "latency_ms": [5, 9], "xwb_port": 7000}, {"sta3n": "630", "name": "PALO_ALTO"}]"#).unwrap();
    let sites = vista::data::read_sites(&bare).unwrap();
    assert_eq!(
        (sites[0].latency_ms, sites[0].xwb_port),
        ((5, 9), Some(7000))
    );
    assert_eq!(sites[1].latency_ms, vista::config::default_latency("630"));
    std::fs::write(
        &bare,
        r#"{"sites": [{"sta3n": "500", "name": "ANCHORAGE"}]}"#,
    )
    .unwrap();
    assert_eq!(vista::data::read_sites(&bare).unwrap()[0].sta3n, "500");
    for bad in [
        r#"[]"#,
        r#"[{"sta3n": "2x0", "name": "X"}]"#,
        r#"[{"sta3n": "200", "name": "A", "latency_ms": [9, 5]}]"#,
        r#"[{"sta3n": "200", "name": "A"}, {"sta3n": "200", "name": "B"}]"#,
    ] {
        std::fs::write(&bare, bad).unwrap();
        assert!(vista::data::read_sites(&bare).is_err(), "{bad}");
    }
}
