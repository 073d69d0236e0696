//! "Refresh from VistA" on the pages, against a stub VistA that answers
//! with fixed RPC lines (site 200) and refuses an unknown site (999), on
//! both serving backends: VistA rows join each page's rows, filters, counts
//! and pages with a "VistA (site 200)" badge; duplicates of older serving
//! rows are dropped; the failed site and unreadable lines are reported;
//! demographics are checked field by field; the cache is per user and
//! dropped at sign-out; bad requests are refused.

#[macro_use]
mod common;

use axum::extract::{Json, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::fixture::ago;
use common::{ALPHA, BRAVO, Client, Db, TestApp};
use domain::fileman::{to_fileman_date, to_fileman_datetime};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const ADAM: &str = "ICN100001";

/// The stub's answers by RPC name (site 200 only).
fn answers() -> HashMap<&'static str, String> {
    let fm = |days: i64, hm: &str| to_fileman_datetime(ago(days, hm));
    let mut vitals = vec![
        // The fixture's BP two days ago: a duplicate, the serving row stays.
        format!("BLOOD PRESSURE^148/92^mmHg^{}^NURSE,A", fm(2, "08:30")),
        format!("BLOOD PRESSURE^162/98^mmHg^{}^NURSE,A", fm(0, "07:15")),
        // Unreadable: reported, never silently dropped.
        format!("PULSE^fast^/min^{}^NURSE,A", fm(0, "05:00")),
    ];
    for i in 0..12 {
        vitals.push(format!(
            "PULSE^{}^/min^{}^NURSE,A",
            70 + i,
            fm(0, &format!("06:{:02}", 10 + i))
        ));
    }
    let today = ago(0, "00:00").date();
    HashMap::from([
        ("GMV LATEST VM", vitals.join("\n")),
        (
            "ORQQAL LIST",
            [
                format!(
                    "IODINE CONTRAST^MODERATE^{}^RASH,HIVES^DRUG^200^NURSE,A",
                    fm(0, "09:00")
                ),
                format!(
                    "PENICILLIN^SEVERE^{}^HIVES^DRUG^200^NURSE,A",
                    fm(400, "09:00")
                ),
            ]
            .join("\n"),
        ),
        (
            "ORWPS COVER",
            format!(
                "2860066^APIXABAN 5MG TAB^ACTIVE^60/90^3^{}^{}",
                fm(0, "10:35"),
                to_fileman_date(today + chrono::Days::new(365))
            ),
        ),
        (
            "ORWCV ADMISSIONS",
            format!(
                "285001^{}^5B TELEMETRY^ACTIVE^^^0^I48.91^DOE,JOHN",
                fm(0, "06:00")
            ),
        ),
        (
            "ORQQPL LIST",
            "200-123^Atrial fibrillation^I48.91^Active^3180209^1^49436004^1".into(),
        ),
        (
            "ORWPT PTINQ",
            "DOOREE,ADAM Q^666-12-6789^2580315^M^VETERAN".into(),
        ),
    ])
}

#[derive(serde::Deserialize)]
struct SiteQuery {
    site: String,
}

async fn execute(
    State(answers): State<Arc<HashMap<&'static str, String>>>,
    Query(q): Query<SiteQuery>,
    Json(body): Json<Value>,
) -> axum::response::Response {
    if q.site != "200" {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": format!("Site {} not found", q.site)})),
        )
            .into_response();
    }
    let name = body["name"].as_str().unwrap_or_default();
    assert_eq!(body["params"][0], ADAM, "the ICN is the first parameter");
    match answers.get(name) {
        Some(a) => Json(json!({"success": true, "response": a, "error": null, "site": "200", "rpc": name})),
        None => Json(json!({"success": false, "response": null, "error": format!("RPC '{name}' not registered"), "site": "200", "rpc": name})),
    }
    .into_response()
}

/// Starts the stub VistA; returns its base URL and the server task.
async fn stub_vista() -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route("/rpc/execute", axum::routing::post(execute))
        .with_state(Arc::new(answers()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

/// The stub's server task and the registry file, for the test's length.
struct Stub {
    task: tokio::task::JoinHandle<()>,
    _registry: tempfile::TempPath,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The app with VistA pointed at the stub and a registry placing ADAM at
/// site 200 (seen yesterday) and site 999 (a month ago).
async fn start(db: Db) -> Option<(TestApp, Stub)> {
    let (base, task) = stub_vista().await;
    let registry = tempfile::NamedTempFile::new().expect("registry");
    std::fs::write(
        registry.path(),
        json!({"patients": [{"icn": ADAM, "treating_facilities": [
            {"sta3n": "999", "name": "NOWHERE VAMC", "last_seen": "T-30"},
            {"sta3n": "200", "name": "ALEXANDRIA", "last_seen": "T-1"},
        ]}]})
        .to_string(),
    )
    .expect("write registry");
    let registry = registry.into_temp_path();
    let path = registry.to_path_buf();
    let stub = Stub {
        task,
        _registry: registry,
    };
    let app = common::start_on(db, move |c| {
        c.vista_url = Some(base);
        c.vista_registry = path;
    })
    .await?;
    Some((app, stub))
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.expect("body")
}

async fn json_of(c: &Client, path: &str) -> Value {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.expect("json")
}

/// Posts the page's refresh form as the browser does (Referer = the page).
async fn refresh(c: &Client, domain: &str, from: &str) -> reqwest::Response {
    c.http
        .post(c.url(&format!("/patient/{ADAM}/realtime/{domain}/refresh")))
        .header("Referer", c.url(from))
        .form(&[("csrf_token", c.csrf.clone().unwrap_or_default())])
        .send()
        .await
        .expect("POST refresh")
}

fn count(body: &str, needle: &str) -> usize {
    body.matches(needle).count()
}

async fn vista_rows_join_the_pages(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let vitals = format!("/patient/{ADAM}/vitals");
    let before = page(&c, &vitals).await;
    assert!(
        before.contains("id=\"vista-refresh-vitals\""),
        "the refresh button"
    );
    assert!(!before.contains("VistA (site"), "nothing from VistA yet");
    let serving_total = json_of(&c, &format!("/api/patient/{ADAM}/vitals/page")).await["total"]
        .as_u64()
        .unwrap();

    // The form returns to the page it came from, filters kept.
    let from = format!("{vitals}?vital_type=P&page_size=10");
    let r = refresh(&c, "vitals", &from).await;
    assert_eq!(r.status(), 303);
    assert_eq!(common::location(&r), from);

    // Pulse filter, 10 a page: the 12 VistA pulses and the serving one
    // make 13 → two pages; the newest (VistA, today) come first.
    let body = page(&c, &from).await;
    assert!(body.contains("Page 1 of 2 (13 items)"), "{body}");
    assert_eq!(count(&body, "data-vista-site=\"200\""), 10);
    assert!(body.contains("VistA (site 200)"));
    assert!(body.contains("Data current through <strong>today</strong>"));
    assert!(
        body.contains("VistA site 999 (NOWHERE VAMC) did not answer"),
        "the failed site is named"
    );
    assert!(body.contains("1 line of the sites"));
    let page2 = page(&c, &format!("{from}&page=2")).await;
    assert!(page2.contains("Page 2 of 2 (13 items)"));
    assert_eq!(count(&page2, "data-vista-site=\"200\""), 2);
    assert!(page2.contains("data-vital=\"P\""));

    // BP: the new reading joins, the duplicate of the older one does not.
    let bp = page(&c, &format!("{vitals}?vital_type=BP")).await;
    assert_eq!(count(&bp, "data-vista-site=\"200\""), 1);
    assert!(bp.contains("162/98"));
    assert_eq!(
        count(&bp, "<strong>148/92</strong>"),
        1,
        "the older duplicate is not listed twice"
    );

    // The JSON twin lists the same rows; the realtime JSON counts them.
    let all = json_of(
        &c,
        &format!("/api/patient/{ADAM}/vitals/page?page_size=100"),
    )
    .await;
    assert_eq!(all["total"].as_u64().unwrap(), serving_total + 13);
    let vista: Vec<&Value> = all["vitals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["source_system"] == "VistA")
        .collect();
    assert_eq!(vista.len(), 13);
    assert!(
        vista
            .iter()
            .all(|v| v["source_id"].as_str().unwrap().starts_with("vista:200:"))
    );
    let rt = json_of(&c, &format!("/api/patient/{ADAM}/realtime/vitals")).await;
    assert_eq!(rt["realtime"], true);
    assert_eq!(rt["vista_count"], 14);
    assert_eq!(rt["duplicates_removed"], 1);
    assert_eq!(rt["unreadable_lines"], 1);
    assert_eq!(rt["sites_asked"], json!(["200", "999"]));
    assert_eq!(rt["failed_sites"][0]["sta3n"], "999");

    // The other list pages.
    for (domain, refreshed, marker) in [
        ("allergies", "allergies", "IODINE CONTRAST"),
        ("medications", "medications", "APIXABAN 5MG TAB"),
        ("encounters", "encounters", "5B TELEMETRY"),
        ("problems", "problems", "Atrial fibrillation"),
    ] {
        let path = format!("/patient/{ADAM}/{domain}");
        let before = page(&c, &path).await;
        assert!(!before.contains(marker), "{domain}: not there before");
        let r = refresh(&c, refreshed, &path).await;
        assert_eq!(r.status(), 303, "{domain}");
        let body = page(&c, &path).await;
        assert!(body.contains(marker), "{domain}: {body}");
        assert!(body.contains("VistA (site 200)"), "{domain}");
        assert!(
            body.contains("Data current through <strong>today</strong>"),
            "{domain}"
        );
    }
    // PENICILLIN from site 200 is older than T-1: the warehouse's card stays.
    let allergies = page(&c, &format!("/patient/{ADAM}/allergies")).await;
    assert_eq!(count(&allergies, "data-vista-site=\"200\""), 1);
    let before = json_of(&c, &format!("/api/patient/{ADAM}/allergies/page")).await;
    assert!(
        before["allergies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["allergen_standardized"] == "IODINE CONTRAST"
                && a["source_system"] == "VistA"),
        "{before}"
    );
    // Encounters: the new admission is active today.
    let enc = json_of(
        &c,
        &format!("/api/patient/{ADAM}/encounters/page?filter_active=true"),
    )
    .await;
    assert!(
        enc["encounters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["source_system"] == "VistA")
    );

    // Another user has not refreshed: the pages show the warehouse only.
    let other = app.signed_in(BRAVO).await;
    let theirs = page(&other, &format!("{vitals}?vital_type=P")).await;
    assert!(!theirs.contains("VistA (site"));
    // Signing out drops the cache.
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    let again = app.signed_in(ALPHA).await;
    let after = page(&again, &format!("{vitals}?vital_type=P")).await;
    assert!(!after.contains("VistA (site"), "cache dropped at sign-out");
}

async fn demographics_are_checked_against_the_site(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let path = format!("/patient/{ADAM}/demographics");
    let before = page(&c, &path).await;
    assert!(before.contains("id=\"vista-refresh-demographics\""));
    assert!(!before.contains("id=\"demo-vista-check\""));
    let r = refresh(&c, "demographics", &path).await;
    assert_eq!(r.status(), 303);
    let body = page(&c, &path).await;
    assert!(body.contains("id=\"demo-vista-check\""), "{body}");
    assert!(body.contains("VistA (site 200)"));
    assert!(
        body.contains("2 fields differ from the warehouse"),
        "{body}"
    );
    assert!(body.contains("1958-03-15"), "the site's DOB");
    assert!(!body.contains("666-12-6789"), "the full SSN is never shown");
    let rt = json_of(&c, &format!("/api/patient/{ADAM}/realtime/demographics")).await;
    let checks = rt["checks"].as_array().unwrap();
    let differ: Vec<&str> = checks
        .iter()
        .filter(|c| c["matches"] == false)
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    // The fixture records no veteran status; the site reports one.
    assert_eq!(differ, ["date_of_birth", "veteran_status"]);
    assert_eq!(
        rt["sites_asked"],
        json!(["200"]),
        "demographics ask one site"
    );
    assert!(!rt.to_string().contains("666-12-6789"));
}

async fn refresh_requests_are_checked(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // No CSRF token: refused, nothing cached.
    let r = c
        .http
        .post(c.url(&format!("/patient/{ADAM}/realtime/vitals/refresh")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post_form(&format!("/patient/{ADAM}/realtime/labs/refresh"), &[])
        .await;
    assert_eq!(r.status(), 404);
    let r = c
        .post_form("/patient/ICN999999/realtime/vitals/refresh", &[])
        .await;
    assert_eq!(r.status(), 404);
    // A Referer elsewhere never becomes the redirect.
    let r = c
        .http
        .post(c.url(&format!("/patient/{ADAM}/realtime/vitals/refresh")))
        .header("Referer", "http://evil.example/patient/ICN100001/vitals")
        .form(&[("csrf_token", c.csrf.clone().unwrap_or_default())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(common::location(&r), format!("/patient/{ADAM}/vitals"));
    // Signed out: back to sign-in, no refresh.
    let anon = app.client();
    let r = anon
        .http
        .post(anon.url(&format!("/patient/{ADAM}/realtime/vitals/refresh")))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status().as_u16(), 303 | 401 | 403),
        "{}",
        r.status()
    );
}

macro_rules! with_vista {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (app, stub) = start(Db::Sqlite).await.expect("sqlite");
                super::$name(&app).await;
                app.stop().await;
                drop(stub);
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some((app, stub)) = start(Db::Postgres).await else {
                    eprintln!("skipped: PostgreSQL not available");
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
                drop(stub);
            }
        }
    };
}

with_vista!(vista_rows_join_the_pages);
with_vista!(demographics_are_checked_against_the_site);
with_vista!(refresh_requests_are_checked);
