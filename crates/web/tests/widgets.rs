//! Dashboard widgets (`/api/patient/dashboard/widget/{key}/{icn}`) and the
//! JSON API (`/api/patient/{icn}/…`), on both serving backends, against the
//! fixture's `ICN100001` (data in every domain) and `ICN100013` (no
//! clinical rows).

mod common;

use common::fixture::{ago, today};
use common::{ALPHA, Client, Db, TestApp};
use serde_json::Value;

/// Runs a test body on SQLite and on PostgreSQL (skipped when PostgreSQL
/// is unavailable outside CI).
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = common::start_on(Db::Sqlite, |_| {}).await.expect("sqlite");
                super::$name(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = common::start_on(Db::Postgres, |_| {}).await else {
                    eprintln!("skipped: PostgreSQL not available");
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    };
}

const ADAM: &str = "ICN100001";
const IRVING: &str = "ICN100013";

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

/// Every JSON endpoint, as `/api/patient/{icn}/…` templates.
const JSON_PATHS: [&str; 19] = [
    "/api/patient/{icn}/demographics",
    "/api/patient/{icn}/vitals",
    "/api/patient/{icn}/vitals/recent",
    "/api/patient/{icn}/allergies",
    "/api/patient/{icn}/medications",
    "/api/patient/{icn}/medications/recent",
    "/api/patient/{icn}/encounters",
    "/api/patient/{icn}/labs",
    "/api/patient/{icn}/labs/recent-panels",
    "/api/patient/{icn}/notes",
    "/api/patient/{icn}/notes/recent",
    "/api/patient/{icn}/immunizations",
    "/api/patient/{icn}/immunizations/recent",
    "/api/patient/{icn}/problems",
    "/api/patient/{icn}/problems/summary",
    "/api/patient/{icn}/history",
    "/api/patient/{icn}/history/recent",
    "/api/patient/{icn}/tasks",
    "/api/patient/{icn}/flags",
];

async fn widget(c: &Client, key: &str, icn: &str) -> (u16, String) {
    let r = c
        .htmx_get(&format!("/api/patient/dashboard/widget/{key}/{icn}"))
        .await;
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// The widget's body, asserting a 200.
async fn ok_widget(c: &Client, key: &str, icn: &str) -> String {
    let (status, body) = widget(c, key, icn).await;
    assert_eq!(status, 200, "{key} for {icn}: {body}");
    assert!(
        body.contains(&format!("data-widget=\"{key}\"")),
        "{key}: {body}"
    );
    body
}

async fn json(c: &Client, path: &str) -> (u16, Value) {
    let r = c.get(path).await;
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
    (status, v)
}

async fn ok_json(c: &Client, path: &str) -> Value {
    let (status, v) = json(c, path).await;
    assert_eq!(status, 200, "{path}: {v}");
    assert_no_ssn(path, &v);
    v
}

/// No `ssn` key anywhere, and nothing that looks like a full SSN.
fn assert_no_ssn(path: &str, v: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert_ne!(k, "ssn", "{path} has an `ssn` field");
                assert_no_ssn(path, x);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_no_ssn(path, x)),
        Value::String(s) => assert!(!looks_like_ssn(s), "{path}: {s} looks like an SSN"),
        _ => {}
    }
}

/// `123-45-6789` or nine digits in a row.
fn looks_like_ssn(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len()).any(|i| {
        let dashed = (0..3).all(|k| digit(i + k))
            && b.get(i + 3) == Some(&b'-')
            && (4..6).all(|k| digit(i + k))
            && b.get(i + 6) == Some(&b'-')
            && (7..11).all(|k| digit(i + k));
        let plain = (0..9).all(|k| digit(i + k));
        dashed || plain
    })
}

/// Position of `needle` in `body`, failing when absent.
fn pos(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not found in: {body}"))
}

fn count(body: &str, needle: &str) -> usize {
    body.matches(needle).count()
}

fn day(days_ago: i64) -> String {
    ago(days_ago, "00:00").format("%Y-%m-%d").to_string()
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {v}"))
}

// ---------------------------------------------------------------------------
// Widgets with data

async fn widgets_with_data(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;

    let b = ok_widget(&c, "demographics", ADAM).await;
    let dob = chrono::NaiveDate::from_ymd_opt(1958, 3, 14).expect("dob");
    let age = today().years_since(dob).expect("age");
    for s in [
        "DOOREE, Adam",
        "1958-03-14",
        &format!("(age {age})"),
        "Male",
        "***-**-6789",
        "404-555-0100",
        "1 Main St",
        "Atlanta, GA 30301",
        "Medicare",
        "508 (Atlanta VAMC)",
    ] {
        assert!(b.contains(s), "demographics lacks {s}: {b}");
    }

    let b = ok_widget(&c, "tasks", ADAM).await;
    assert!(b.contains("3 active"), "{b}");
    assert!(b.contains("1 high priority"), "{b}");
    assert!(b.contains("In progress"), "{b}");
    assert!(pos(&b, "Review HbA1c trend") < pos(&b, "Schedule cardiology follow-up"));
    assert!(pos(&b, "Schedule cardiology follow-up") < pos(&b, "Update medication list"));
    assert!(
        !b.contains("Order chest X-ray"),
        "completed tasks are not listed"
    );
    // Quick actions re-render the widget through HTMX (tested in tasks.rs).
    assert!(b.contains("data-action=\"complete\""), "{b}");
    assert!(b.contains("?view=widget"), "{b}");

    let b = ok_widget(&c, "vitals", ADAM).await;
    assert!(b.contains("3 abnormal"), "{b}");
    let order: Vec<usize> = ["BP", "T", "P", "R", "POX", "PN"]
        .iter()
        .map(|a| pos(&b, &format!("data-vital=\"{a}\"")))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "BP, T, P, R, POX, PN: {b}"
    );
    assert!(b.contains("148/92") && b.contains("mmHg"), "latest BP: {b}");
    assert!(!b.contains("118/76"), "only the latest BP: {b}");
    assert!(
        !b.contains("data-vital=\"WT\""),
        "weight is not on the widget"
    );
    assert!(b.contains(&day(2)), "reading date: {b}");
    assert_eq!(count(&b, ">HIGH<"), 2, "BP and pain are HIGH: {b}");
    assert_eq!(count(&b, ">LOW<"), 1, "POX is LOW: {b}");
    assert!(!b.contains(">NORMAL<"), "normal readings carry no badge");

    let b = ok_widget(&c, "allergies", ADAM).await;
    assert!(b.contains("2 severe") && b.contains("3 drug"), "{b}");
    let order: Vec<usize> = [
        "PENICILLIN",
        "CODEINE",
        "ASPIRIN",
        "PEANUTS",
        "LATEX",
        "POLLEN",
    ]
    .iter()
    .map(|a| pos(&b, a))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "critical order: {b}");
    assert!(!b.contains("SHELLFISH"), "only the top 6");
    assert!(!b.contains("SULFA"), "inactive allergies are not shown");
    assert!(b.contains("1 more active allergy"), "{b}");

    let b = ok_widget(&c, "history", ADAM).await;
    assert!(b.contains("2 high-risk"), "{b}");
    assert_eq!(count(&b, "1st degree"), 2, "{b}");
    assert!(
        b.contains("<strong>3</strong> total") && b.contains("<strong>2</strong> first-degree"),
        "{b}"
    );
    assert!(
        pos(&b, "Type 2 diabetes") < pos(&b, "Breast cancer"),
        "newest first"
    );

    let b = ok_widget(&c, "medications", ADAM).await;
    assert!(b.contains("2 active"), "{b}");
    assert!(b.contains("1 controlled"), "{b}");
    let order: Vec<usize> = ["OXYCODONE", "LISINOPRIL", "ATORVASTATIN", "METFORMIN"]
        .iter()
        .map(|a| pos(&b, a))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {b}");
    assert!(!b.contains("ALPRAZOLAM"), "only 4 outpatient");
    // The controlled-substance marker actually shows (quirk 10): OXYCODONE
    // (outpatient, C-II) and MORPHINE (inpatient).
    assert_eq!(count(&b, "data-badge=\"controlled\""), 2, "{b}");
    assert!(b.contains("Controlled C-II"), "{b}");
    let metformin = &b[pos(&b, "METFORMIN")..];
    assert!(
        metformin[..metformin.find("</li>").expect("li")].contains("EXPIRED"),
        "expired since the load: {b}"
    );
    assert!(
        b.contains("DISCONTINUED") && b.contains("MORPHINE") && b.contains("GIVEN"),
        "{b}"
    );

    let b = ok_widget(&c, "immunizations", ADAM).await;
    assert!(
        b.contains("2 incomplete") && b.contains("1 reaction"),
        "{b}"
    );
    assert!(
        b.contains("<strong>7</strong> total") && b.contains("<strong>6</strong> last 2 years"),
        "{b}"
    );
    assert!(
        pos(&b, "INFLUENZA, SEASONAL") < pos(&b, "COVID-19 MRNA"),
        "{b}"
    );
    assert!(!b.contains("HEPATITIS B"), "only 5 recent");
    assert!(b.contains("1 more in the last 2 years"), "{b}");
    assert_eq!(count(&b, ">Incomplete<"), 2, "{b}");
    assert_eq!(count(&b, ">Reaction<"), 1, "{b}");

    let b = ok_widget(&c, "labs", ADAM).await;
    assert!(b.contains("3 abnormal"), "{b}");
    assert!(
        pos(&b, "CH 0001") < pos(&b, "CH 0002") && pos(&b, "CH 0002") < pos(&b, "CH 0003"),
        "{b}"
    );
    assert!(
        !b.contains("Lipid Panel") && !b.contains("CH 0004"),
        "only 3 panels"
    );
    assert!(
        b.contains("badge--danger\">L*<"),
        "critical flag is danger: {b}"
    );
    assert!(
        b.contains("badge--warning\">H<") && b.contains("badge--info\">L<"),
        "{b}"
    );
    assert!(b.contains("Trending (90 days)"), "{b}");
    assert!(b.contains("2 results in 90 days"), "glucose: {b}");
    assert!(b.contains("1 result in 90 days"), "hemoglobin: {b}");
    assert!(!b.contains("Hemoglobin A1c"), "HbA1c is not hemoglobin");

    let b = ok_widget(&c, "notes", ADAM).await;
    assert!(b.contains("4 total"), "{b}");
    assert!(pos(&b, "PRIMARY CARE NOTE") < pos(&b, "CARDIOLOGY CONSULT"));
    assert!(pos(&b, "CARDIOLOGY CONSULT") < pos(&b, "DISCHARGE SUMMARY"));
    assert!(!b.contains("NURSING NOTE"), "only 3");
    assert!(
        b.contains("SMITH,JANE") && b.contains("Progress Notes"),
        "{b}"
    );
    assert!(
        b.contains("Follow-up of hypertension and diabetes"),
        "preview: {b}"
    );

    let b = ok_widget(&c, "encounters", ADAM).await;
    assert!(b.contains("1 active"), "{b}");
    assert!(
        b.contains("<strong>5</strong> total") && b.contains("<strong>2</strong> recent"),
        "{b}"
    );
    assert!(b.contains("Extended stay"), "20 days in: {b}");
    assert!(b.contains(">Cerner<") && b.contains(">VistA<"), "{b}");
    assert!(
        pos(&b, "4 EAST CARDIOLOGY") < pos(&b, "5 WEST MEDICINE"),
        "newest admission first"
    );
    assert!(b.contains("1 more encounter"), "{b}");

    let b = ok_widget(&c, "problems", ADAM).await;
    // Computed from the rows (the stored aggregate is 0): CHF 1 + diabetes
    // with complications 2 + renal 2; the resolved cancer does not count.
    assert!(b.contains("Charlson 5 · High risk"), "{b}");
    assert!(b.contains("data-badge=\"charlson\""), "{b}");
    for c in [">CHF<", ">CKD<", ">Diabetes<"] {
        assert!(b.contains(c), "critical condition {c}: {b}");
    }
    assert!(!b.contains(">COPD<"), "{b}");
    assert!(
        b.contains("<strong>4</strong> active") && b.contains("<strong>4</strong> chronic"),
        "{b}"
    );
    assert!(pos(&b, "Chronic kidney disease") < pos(&b, "Type 2 diabetes"));
    assert!(pos(&b, "Type 2 diabetes") < pos(&b, "Heart failure"));
    assert!(pos(&b, "Heart failure") < pos(&b, "Essential hypertension"));
    assert!(
        !b.contains("Asthma") && !b.contains("prostate"),
        "active only"
    );
}
on_both!(widgets_with_data);

// ---------------------------------------------------------------------------
// Empty states, unknown patient, unknown widget

async fn widgets_empty_and_errors(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let b = ok_widget(&c, "demographics", IRVING).await;
    assert!(
        b.contains("THOMPSON, Irving") && b.contains("***-**-1111"),
        "{b}"
    );
    for (key, empty) in [
        ("tasks", "No active tasks"),
        ("vitals", "No vitals recorded"),
        ("allergies", "No allergies recorded"),
        ("history", "No family history recorded"),
        ("medications", "No medications recorded"),
        ("immunizations", "No immunizations recorded"),
        ("labs", "No lab results recorded"),
        ("notes", "No clinical notes recorded"),
        ("encounters", "No encounters recorded"),
        ("problems", "No problems recorded"),
    ] {
        let b = ok_widget(&c, key, IRVING).await;
        assert!(
            b.contains("state--empty") && b.contains(empty),
            "{key}: {b}"
        );
    }

    for key in KEYS {
        let (status, b) = widget(&c, key, "ICN999999").await;
        assert_eq!(status, 404, "{key}");
        assert!(
            b.contains("state--error") && b.contains("Patient not found."),
            "{key}: {b}"
        );
    }
    for icn in [ADAM, "ICN999999"] {
        let (status, b) = widget(&c, "orders", icn).await;
        assert_eq!(status, 404);
        assert!(
            b.contains("state--error") && b.contains("Unknown widget."),
            "{b}"
        );
    }

    // Signed out: no data.
    let anon = app.client();
    let r = anon
        .htmx_get(&format!("/api/patient/dashboard/widget/vitals/{ADAM}"))
        .await;
    assert_eq!(r.status(), 401);
    let r = anon.get(&format!("/api/patient/{ADAM}/vitals")).await;
    assert_eq!(r.status(), 401);
}
on_both!(widgets_empty_and_errors);

// ---------------------------------------------------------------------------
// JSON

async fn json_values(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let p = |rest: &str| format!("/api/patient/{ADAM}/{rest}");

    let v = ok_json(&c, &p("demographics")).await;
    assert_eq!(v["icn"], ADAM);
    assert_eq!(v["ssn_last4"], "6789");
    assert_eq!(v["ssn_masked"], "***-**-6789");
    assert_eq!(v["name_display"], "DOOREE, Adam");
    assert_eq!(v["dob"], "1958-03-14");
    assert_eq!(v["deceased"], false);
    assert!(v.get("ssn").is_none());

    let v = ok_json(&c, &p("vitals")).await;
    assert_eq!(v["patient_icn"], ADAM);
    assert_eq!(v["count"], 8);
    assert_eq!(arr(&v, "vitals")[0]["vital_type"], "BLOOD PRESSURE");
    assert_eq!(
        arr(&v, "vitals")[0]["qualifiers"][0]["qualifier_name"],
        "SITTING"
    );
    assert_eq!(ok_json(&c, &p("vitals?limit=2")).await["count"], 2);
    assert_eq!(ok_json(&c, &p("vitals?vital_type=BP")).await["count"], 2);
    // Quirk 7: "PULSE OX" finds PULSE OXIMETRY.
    let v = ok_json(&c, &p("vitals?vital_type=PULSE%20OX")).await;
    assert_eq!(v["count"], 1);
    assert_eq!(arr(&v, "vitals")[0]["result_value"], "89");
    assert_eq!(ok_json(&c, &p("vitals?vital_type=pox")).await["count"], 1);

    let v = ok_json(&c, &p("vitals/recent")).await;
    assert_eq!(v["vitals"]["BP"]["result_value"], "148/92");
    assert_eq!(v["vitals"]["WT"]["result_value"], "182");
    assert_eq!(v["counts"]["BP"], 2);
    assert_eq!(v["dashboard"]["abnormal_count"], 3);
    assert_eq!(arr(&v["dashboard"], "readings").len(), 6);
    assert_eq!(v["dashboard"]["readings"][0]["abbr"], "BP");
    assert_eq!(v["dashboard"]["readings"][0]["abnormal_flag"], "HIGH");

    let v = ok_json(&c, &p("allergies")).await;
    assert_eq!(v["total_allergies"], 7);
    assert_eq!(v["drug_allergies"], 3);
    assert_eq!(v["food_allergies"], 2);
    assert_eq!(v["environmental_allergies"], 2);
    assert_eq!(v["severe_allergies"], 2);
    assert_eq!(v["displayed_count"], 7);
    assert_eq!(v["allergies"][0]["allergen_local"], "PENICILLIN");
    assert!(arr(&v, "allergies").iter().all(|a| a["is_active"] == true));
    let v = ok_json(&c, &p("allergies?limit=6")).await;
    assert_eq!(v["displayed_count"], 6);
    assert_eq!(v["total_allergies"], 7);

    let v = ok_json(&c, &p("medications")).await;
    assert_eq!(v["count"], 7);
    assert_eq!(
        v["medications"][0]["medication_id"], "bcma_1",
        "newest first"
    );
    assert_eq!(v["medications"][0]["type"], "inpatient");
    assert_eq!(v["counts"]["outpatient_total"], 5);
    assert_eq!(v["counts"]["outpatient_active"], 2);
    assert_eq!(v["counts"]["outpatient_controlled"], 2);
    assert_eq!(v["counts"]["outpatient_active_controlled"], 1);
    assert_eq!(v["counts"]["inpatient_controlled"], 1);
    let by_id = |v: &Value, id: &str| {
        arr(v, "medications")
            .iter()
            .find(|m| m["medication_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let alprazolam = by_id(&v, "rxout_5");
    assert_eq!(alprazolam["drug_name"], "ALPRAZOLAM 0.5MG TAB");
    assert_eq!(alprazolam["is_controlled"], true, "C-IV schedule");
    assert_eq!(
        by_id(&v, "rxout_3")["status"],
        "EXPIRED",
        "expired since the load"
    );
    assert_eq!(by_id(&v, "rxout_2")["is_controlled"], true);
    assert_eq!(
        ok_json(&c, &p("medications?medication_type=outpatient")).await["count"],
        5
    );
    assert_eq!(
        ok_json(
            &c,
            &p("medications?medication_type=outpatient&status=expired")
        )
        .await["count"],
        2
    );
    assert_eq!(ok_json(&c, &p("medications?days=7")).await["count"], 2);
    assert_eq!(ok_json(&c, &p("medications?limit=3")).await["count"], 3);

    let v = ok_json(&c, &p("medications/recent")).await;
    assert_eq!(arr(&v, "outpatient").len(), 4);
    assert_eq!(arr(&v, "inpatient").len(), 2);
    assert_eq!(v["outpatient"][0]["drug_name"], "OXYCODONE 5MG TAB");
    assert_eq!(v["outpatient"][0]["is_controlled"], true);
    assert_eq!(v["counts"]["outpatient_active"], 2);

    let v = ok_json(&c, &p("encounters")).await;
    assert_eq!(v["count"], 5);
    assert_eq!(v["total_encounters"], 5);
    assert_eq!(v["counts"]["active_admissions"], 1);
    assert_eq!(v["counts"]["recent_encounters"], 2);
    assert_eq!(v["counts"]["extended_stays"], 1);
    assert_eq!(v["counts"]["facility_count"], 2);
    let active = &v["encounters"][1];
    assert_eq!(active["is_active"], true);
    assert_eq!(active["is_extended_stay"], true, "recomputed for today");
    assert_eq!(active["is_recent"], true, "recomputed for today");
    assert_eq!(active["total_days"], 20);
    assert_eq!(
        ok_json(&c, &p("encounters?active_only=true")).await["count"],
        1
    );
    assert_eq!(
        ok_json(&c, &p("encounters?recent_only=true")).await["count"],
        2
    );
    let v = ok_json(&c, &p("encounters?limit=2&offset=4")).await;
    assert_eq!(
        (v["count"].clone(), v["offset"].clone(), v["limit"].clone()),
        (1.into(), 4.into(), 2.into())
    );

    let v = ok_json(&c, &p("labs")).await;
    assert_eq!(v["count"], 10);
    assert_eq!(v["counts"]["abnormal"], 5);
    assert_eq!(v["counts"]["critical"], 1);
    assert_eq!(v["counts"]["panels"]["BMP"], 6);
    assert_eq!(v["counts"]["panels"]["Individual Tests"], 1);
    assert_eq!(ok_json(&c, &p("labs?abnormal_only=true")).await["count"], 5);
    assert_eq!(
        ok_json(&c, &p("labs?panel_filter=Individual%20Tests")).await["count"],
        1
    );
    assert_eq!(ok_json(&c, &p("labs?panel_filter=cbc")).await["count"], 2);
    assert_eq!(ok_json(&c, &p("labs?days=30")).await["count"], 7);
    let v = ok_json(&c, &p("labs?limit=3&offset=9")).await;
    assert_eq!(
        (v["count"].clone(), v["total"].clone()),
        (1.into(), 10.into())
    );

    let v = ok_json(&c, &p("labs/recent-panels")).await;
    assert_eq!(v["panel_count"], 3);
    assert_eq!(v["abnormal_count"], 3);
    assert_eq!(v["panels"][0]["panel_name"], "BMP");
    assert_eq!(v["panels"][0]["accession_number"], "CH 0001");
    assert_eq!(arr(&v["panels"][0], "results").len(), 4);
    assert_eq!(v["panels"][0]["abnormal_count"], 2);
    let trends: Vec<(&str, &str, u64)> = arr(&v, "trending")
        .iter()
        .map(|t| {
            (
                t["test_name"].as_str().expect("name"),
                t["latest_value"].as_str().expect("value"),
                t["points"].as_u64().expect("points"),
            )
        })
        .collect();
    assert_eq!(
        trends,
        [
            ("Glucose", "182", 2),
            ("Creatinine", "1.1", 2),
            ("Hemoglobin", "11.2", 1)
        ]
    );
    assert_eq!(
        ok_json(&c, &p("labs/recent-panels?limit=10")).await["panel_count"],
        4
    );

    let v = ok_json(&c, &p("notes")).await;
    assert_eq!(v["count"], 4);
    assert_eq!(v["pagination"]["total_count"], 4);
    assert_eq!(v["notes"][0]["document_title"], "PRIMARY CARE NOTE");
    assert!(
        v["notes"][0].get("document_text").is_none(),
        "list without full text"
    );
    let v = ok_json(&c, &p("notes?per_page=3&page=2")).await;
    assert_eq!(v["count"], 1);
    assert_eq!(v["pagination"]["total_pages"], 2);
    assert_eq!(v["pagination"]["has_prev"], true);
    assert_eq!(v["pagination"]["has_next"], false);
    assert_eq!(
        ok_json(&c, &p("notes?note_class=consults")).await["count"],
        1
    );
    assert_eq!(ok_json(&c, &p("notes?author=SMITH,JANE")).await["count"], 1);
    assert_eq!(ok_json(&c, &p("notes?days=30")).await["count"], 3);

    let v = ok_json(&c, &p("notes/recent")).await;
    assert_eq!(v["total_notes"], 4);
    assert_eq!(arr(&v, "recent_notes").len(), 3);
    assert_eq!(v["notes_by_class"]["Progress Notes"], 2);

    let v = ok_json(&c, &p("immunizations")).await;
    assert_eq!(v["count"], 7);
    assert_eq!(v["counts"]["incomplete"], 2);
    assert_eq!(v["counts"]["with_reactions"], 1);
    assert_eq!(v["counts"]["recent_2y"], 6);
    assert_eq!(v["counts"]["annual"], 2);
    assert_eq!(v["counts"]["covid"], 1);
    assert_eq!(
        ok_json(&c, &p("immunizations?vaccine_group=influenza")).await["count"],
        2
    );
    assert_eq!(
        ok_json(&c, &p("immunizations?vaccine_group=covid-19")).await["count"],
        1
    );
    assert_eq!(
        ok_json(&c, &p("immunizations?vaccine_group=zoster")).await["count"],
        1
    );
    assert_eq!(
        ok_json(&c, &p("immunizations?cvx_code=0140")).await["count"],
        2
    );
    assert_eq!(
        ok_json(&c, &p("immunizations?incomplete_only=true")).await["count"],
        2
    );
    assert_eq!(
        ok_json(&c, &p("immunizations?adverse_reactions_only=true")).await["count"],
        1
    );
    assert_eq!(ok_json(&c, &p("immunizations?days=365")).await["count"], 2);

    let v = ok_json(&c, &p("immunizations/recent")).await;
    assert_eq!(arr(&v, "immunizations").len(), 5);
    assert_eq!(v["counts"]["total"], 7);

    let v = ok_json(&c, &p("problems")).await;
    assert_eq!(v["count"], 6);
    assert_eq!(v["problems"][0]["problem_status"], "Active");
    assert_eq!(v["problems"][5]["problem_status"], "Resolved");
    assert_eq!(ok_json(&c, &p("problems?status=Active")).await["count"], 4);
    assert_eq!(ok_json(&c, &p("problems?status=all")).await["count"], 6);
    assert_eq!(
        ok_json(&c, &p("problems?category=cardio")).await["count"],
        2
    );
    assert_eq!(
        ok_json(&c, &p("problems?service_connected_only=true")).await["count"],
        1
    );

    let v = ok_json(&c, &p("problems/summary")).await;
    assert_eq!(v["charlson_index"], 5);
    assert_eq!(v["charlson_condition_count"], 3);
    assert_eq!(v["charlson_risk"], "High");
    assert_eq!(v["total_active"], 4);
    assert_eq!(v["total_chronic"], 4);
    assert_eq!(v["has_critical_conditions"], true);
    assert_eq!(
        (
            v["has_chf"].clone(),
            v["has_ckd"].clone(),
            v["has_diabetes"].clone(),
            v["has_copd"].clone()
        ),
        (true.into(), true.into(), true.into(), false.into())
    );
    assert_eq!(arr(&v, "problems").len(), 4);
    assert_eq!(v["problems"][0]["icd10_code"], "N18.4");
    assert_eq!(
        arr(
            &ok_json(&c, &p("problems/summary?limit=2")).await,
            "problems"
        )
        .len(),
        2
    );

    let v = ok_json(&c, &p("history")).await;
    assert_eq!(v["count"], 3);
    assert_eq!(v["counts"]["first_degree"], 2);
    assert_eq!(v["counts"]["first_degree_high_risk"], 2);
    assert_eq!(v["counts"]["distinct_conditions"], 3);
    assert_eq!(v["history"][0]["relationship_name"], "Maternal uncle");
    assert_eq!(
        ok_json(&c, &p("history?relationship=mother")).await["count"],
        1
    );
    assert_eq!(ok_json(&c, &p("history?category=onco")).await["count"], 1);
    assert_eq!(ok_json(&c, &p("history?days=120")).await["count"], 2);
    assert_eq!(
        arr(&ok_json(&c, &p("history/recent?limit=2")).await, "history").len(),
        2
    );

    let v = ok_json(&c, &p("tasks")).await;
    assert_eq!(v["count"], 4);
    assert_eq!(v["counts"]["active"], 3);
    assert_eq!(v["counts"]["completed"], 1);
    assert_eq!(v["tasks"][0]["title"], "Review HbA1c trend");
    assert_eq!(v["tasks"][0]["priority"], "HIGH");
    assert_eq!(ok_json(&c, &p("tasks?status=active")).await["count"], 3);
    assert_eq!(ok_json(&c, &p("tasks?status=COMPLETED")).await["count"], 1);
    assert_eq!(
        ok_json(&c, &p("tasks?status=in_progress")).await["count"],
        1
    );
    assert_eq!(ok_json(&c, &p("tasks?priority=HIGH")).await["count"], 2);
    assert_eq!(ok_json(&c, &p("tasks?limit=1")).await["count"], 1);

    // Quirk 12 fixed: the total counts inactive flags too.
    let v = ok_json(&c, &p("flags")).await;
    assert_eq!(v["patient_icn"], ADAM);
    assert_eq!(v["total_flags"], 2);
    assert_eq!(v["active_flags"], 1);
    assert_eq!(v["inactive_flags"], 1);
    assert_eq!(v["national_flags"], 1);
    assert_eq!(v["local_flags"], 1);
    assert_eq!(v["active_national_flags"], 1);
    assert_eq!(v["active_local_flags"], 0);
    assert_eq!(v["overdue_count"], 1);
    assert_eq!(arr(&v, "flags").len(), 2);
    assert_eq!(v["flags"][0]["flag_name"], "HIGH RISK FOR SUICIDE");

    // The widgets show the same numbers.
    let w = ok_widget(&c, "vitals", ADAM).await;
    let n = ok_json(&c, &p("vitals/recent")).await["dashboard"]["abnormal_count"].clone();
    assert!(w.contains(&format!("{n} abnormal")));

    // A patient without clinical rows: empty lists, zero counts.
    let q = |rest: &str| format!("/api/patient/{IRVING}/{rest}");
    assert_eq!(ok_json(&c, &q("vitals")).await["count"], 0);
    assert_eq!(ok_json(&c, &q("allergies")).await["total_allergies"], 0);
    assert_eq!(ok_json(&c, &q("medications")).await["count"], 0);
    assert_eq!(
        ok_json(&c, &q("problems/summary")).await["charlson_risk"],
        "None"
    );
    assert_eq!(ok_json(&c, &q("flags")).await["total_flags"], 0);
    assert_eq!(
        ok_json(&c, &q("demographics")).await["ssn_masked"],
        "***-**-1111"
    );
}
on_both!(json_values);

async fn json_errors(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    for path in JSON_PATHS {
        let (status, v) = json(&c, &path.replace("{icn}", "ICN999999")).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(v["detail"], "Patient not found.", "{path}");
    }
    let p = |rest: &str| format!("/api/patient/{ADAM}/{rest}");
    for (path, status, mentions) in [
        ("vitals?limit=abc", 400, "limit"),
        ("vitals?limit=0", 422, "limit"),
        ("vitals?limit=501", 422, "limit"),
        ("vitals?vital_type=FOO", 422, "vital_type"),
        ("allergies?limit=0", 422, "limit"),
        (
            "medications?medication_type=topical",
            422,
            "medication_type",
        ),
        ("medications?days=0", 422, "days"),
        ("encounters?active_only=maybe", 400, "active_only"),
        ("labs?days=4000", 422, "days"),
        ("labs/recent-panels?limit=11", 422, "limit"),
        ("notes?per_page=0", 422, "per_page"),
        ("notes?page=0", 422, "page"),
        ("notes/recent?limit=21", 422, "limit"),
        ("immunizations?limit=-1", 400, "limit"),
        ("problems?status=Chronic", 422, "status"),
        ("problems/summary?limit=51", 422, "limit"),
        ("history?days=0", 422, "days"),
        ("tasks?status=DONE", 422, "status"),
        ("tasks?priority=URGENT", 422, "priority"),
    ] {
        let (s, v) = json(&c, &p(path)).await;
        assert_eq!(s, status, "{path}: {v}");
        let detail = v["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(mentions), "{path}: {detail}");
    }
}
on_both!(json_errors);

// ---------------------------------------------------------------------------
// OpenAPI

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_json_endpoint() {
    let app = common::start().await;
    let c = app.client();
    let r = c.get("/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.expect("json");
    for path in JSON_PATHS {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} missing from /openapi.json");
        assert_eq!(op["tags"][0], "patient", "{path}");
        let params = op["parameters"].as_array().expect("parameters");
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "icn" && p["in"] == "path"),
            "{path}"
        );
        assert!(op["responses"]["404"].is_object(), "{path}");
    }
    let schemas = &doc["components"]["schemas"];
    for s in [
        "Vital",
        "MedicationItem",
        "ProblemsSummary",
        "FlagsResponse",
        "DemographicsResponse",
    ] {
        assert!(schemas[s].is_object(), "schema {s}");
    }
    let text = doc.to_string();
    assert!(!text.contains("\"ssn\""), "no full SSN in any schema");
    let vitals = &doc["paths"]["/api/patient/{icn}/vitals"]["get"]["parameters"];
    assert!(
        vitals
            .as_array()
            .expect("params")
            .iter()
            .any(|p| p["name"] == "vital_type" && p["in"] == "query"),
        "query parameters are documented"
    );
    app.stop().await;
}
