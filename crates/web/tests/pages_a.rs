//! Domain pages: demographics, vitals, allergies, medications, encounters
//! (`/patient/{icn}/<domain>`) and their JSON twins, on both serving
//! backends: a persona with data (`ICN100001`), one without
//! (`ICN100013`), filter/sort/page combinations, bad query values (400)
//! and unknown patients (404).

#[macro_use]
mod common;

use common::fixture::ago;
use common::{ALPHA, Client, TestApp};
use serde_json::Value;

const ADAM: &str = "ICN100001";
const IRVING: &str = "ICN100013";
const MARGARET: &str = "ICN100016";

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.expect("body")
}

async fn status(c: &Client, path: &str) -> u16 {
    c.get(path).await.status().as_u16()
}

async fn json(c: &Client, path: &str) -> Value {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.expect("json")
}

/// An href as it appears in the HTML (`&` escaped as askama does).
fn href(url: &str) -> String {
    format!("href=\"{}\"", url.replace('&', "&#38;"))
}

/// The values of `attr="…"` in document order.
fn attrs(body: &str, attr: &str) -> Vec<String> {
    let start = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(&start) {
        rest = &rest[i + start.len()..];
        let j = rest.find('"').expect("closing quote");
        out.push(rest[..j].to_string());
        rest = &rest[j..];
    }
    out
}

/// Asserts the needles appear in `body` in this order.
fn in_order(body: &str, needles: &[&str]) {
    let mut at = 0;
    for n in needles {
        let i = body[at..]
            .find(n)
            .unwrap_or_else(|| panic!("`{n}` not found (in order) in the page"));
        at += i + n.len();
    }
}

fn day(days: i64) -> String {
    ago(days, "00:00").format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------

async fn demographics_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let body = page(&c, &format!("/patient/{ADAM}/demographics")).await;
    for s in [
        "DOOREE, Adam",
        "***-**-6789",
        "1958-03-14",
        "404-555-0100",
        "1 Main St",
        "Atlanta, GA 30301",
        "Medicare",
        "508 (Atlanta VAMC)",
        "id=\"demo-military\"",
        "/static/pages.css",
    ] {
        assert!(body.contains(s), "demographics shows {s}");
    }
    assert!(!body.contains("id=\"deceased-badge\""));
    // No VistA in these tests: the page says so and offers no refresh.
    assert!(body.contains("No VistA connection is configured."));
    assert!(!body.contains("id=\"demo-vista-check\""));
    // No military record in the fixture: an explicit empty state.
    assert!(body.contains("id=\"military-empty\""));
    // Deceased persona: badge with the date.
    let body = page(&c, &format!("/patient/{MARGARET}/demographics")).await;
    assert!(body.contains("id=\"deceased-badge\">Deceased 2024-12-01"));
    // Without clinical data: still renders, "Not recorded" fields.
    let body = page(&c, &format!("/patient/{IRVING}/demographics")).await;
    assert!(body.contains("THOMPSON, Irving") && body.contains("***-**-1111"));
    assert!(body.contains("Not recorded") && body.contains("id=\"military-empty\""));
    let m = json(&c, &format!("/api/patient/{IRVING}/demographics/military")).await;
    assert!(m["military_history"].is_null() && m["priority_group"].is_null());
    assert_eq!(status(&c, "/patient/ICN999999/demographics").await, 404);
    let doc: Value = c.get("/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/patient/{icn}/demographics/military",
        "/api/patient/{icn}/vitals/page",
        "/api/patient/{icn}/allergies/page",
        "/api/patient/{icn}/medications/page",
        "/api/patient/{icn}/encounters/page",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} in /openapi.json"
        );
    }
    let css = c.get("/static/pages.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.text().await.unwrap().contains(".chart__line"));
    assert_eq!(
        status(&c, "/api/patient/ICN999999/demographics/military").await,
        404
    );
}
on_both!(demographics_page, |_| {});

async fn vitals_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let base = format!("/patient/{ADAM}/vitals");
    let body = page(&c, &base).await;
    assert!(body.contains("class=\"vista-panel\""));
    // Pills with counts, in catalogue order; each pill's link keeps the size.
    assert_eq!(
        attrs(&body, "data-vital-pill"),
        ["all", "BP", "T", "P", "R", "WT", "PN", "POX"]
    );
    assert!(body.contains("All Vitals <span class=\"pill__count\">(8)</span>"));
    assert!(body.contains("Blood Pressure (BP) <span class=\"pill__count\">(2)</span>"));
    assert!(body.contains(&href(&format!("{base}?page_size=20&vital_type=POX"))));
    // Newest first; the table shows value, flag, qualifiers, location, source.
    assert_eq!(
        attrs(&body, "data-vital"),
        ["BP", "T", "P", "R", "POX", "PN", "WT", "BP"]
    );
    assert!(
        body.contains("<strong>148/92</strong>") && body.contains("Systolic 148 · Diastolic 92")
    );
    assert!(body.contains("data-flag=\"HIGH\"") && body.contains("data-flag=\"LOW\""));
    assert!(body.contains("SITTING") && body.contains("Location: PRIMARY CARE"));
    assert!(body.contains(">VistA</span>"));
    assert!(body.contains("Page 1 of 1 (8 items)"));
    // Charts: server-rendered SVG with title, description and data table.
    for key in ["bp", "wt", "pn", "pox", "t"] {
        assert!(body.contains(&format!("id=\"chart-{key}\"")), "chart {key}");
        assert!(body.contains(&format!("id=\"chart-{key}-title\"")));
        assert!(body.contains(&format!("id=\"chart-{key}-desc\"")));
    }
    assert!(body.contains(&format!(
        "Blood pressure: 2 readings from {} to {}; latest 148/92 mmHg.",
        day(30),
        day(2)
    )));
    assert!(body.contains("class=\"chart__line\" d=\"M"));
    assert!(!body.contains("style="), "no inline styles (CSP)");

    // Quirk 7: the pulse-oximetry pill matches its row (by abbreviation or name).
    for q in [
        "vital_type=POX",
        "vital_type=PULSE+OXIMETRY",
        "vital_type=pulse+ox",
    ] {
        let body = page(&c, &format!("{base}?{q}")).await;
        assert_eq!(attrs(&body, "data-vital"), ["POX"], "{q}");
        assert!(body.contains("<strong>89</strong>") && body.contains("Page 1 of 1 (1 item)"));
    }
    // Blood glucose is a known type: no rows for this patient, not an error.
    let body = page(&c, &format!("{base}?vital_type=BG")).await;
    assert!(body.contains("id=\"vitals-no-match\"") && body.contains("Page 1 of 1 (0 items)"));

    // Sort abnormal (CRITICAL > HIGH > LOW > NORMAL > none), page size 10.
    let body = page(&c, &format!("{base}?sort=abnormal&page_size=10&page=3")).await;
    assert_eq!(
        attrs(&body, "data-vital"),
        ["BP", "PN", "POX", "T", "P", "R", "BP", "WT"]
    );
    assert!(
        body.contains("Page 1 of 1 (8 items)"),
        "a page past the end shows the last"
    );
    assert!(body.contains("<option value=\"abnormal\" selected>"));
    assert!(body.contains(&href(&format!(
        "{base}?sort=abnormal&page_size=10&vital_type=BP"
    ))));
    assert!(body.contains(&href(&format!("{base}?sort=abnormal&page_size=50"))));
    let body = page(&c, &format!("{base}?sort=oldest&vital_type=BP")).await;
    assert_eq!(attrs(&body, "data-vital"), ["BP", "BP"]);
    in_order(&body, &["118/76", "148/92"]);
    assert!(body.contains(&href(&format!(
        "{base}?vital_type=BP&sort=oldest&page_size=100"
    ))));

    let j = json(
        &c,
        &format!("/api/patient/{ADAM}/vitals/page?vital_type=POX"),
    )
    .await;
    assert_eq!(j["total"], 1);
    assert_eq!(j["counts"]["POX"], 1);
    assert_eq!(j["vitals"][0]["vital_type"], "PULSE OXIMETRY");

    // No data: explicit empty state.
    let body = page(&c, &format!("/patient/{IRVING}/vitals")).await;
    assert!(body.contains("id=\"vitals-empty\"") && body.contains("No vitals recorded"));
    assert!(body.contains("class=\"vista-panel\""));

    for q in [
        "sort=bogus",
        "page_size=15",
        "page=0",
        "page=abc",
        "vital_type=XYZ",
    ] {
        assert_eq!(status(&c, &format!("{base}?{q}")).await, 400, "{q}");
        assert_eq!(
            status(&c, &format!("/api/patient/{ADAM}/vitals/page?{q}")).await,
            400,
            "{q}"
        );
    }
    assert_eq!(status(&c, "/patient/ICN999999/vitals").await, 404);
    assert_eq!(status(&c, "/api/patient/ICN999999/vitals/page").await, 404);
}
on_both!(vitals_page, |_| {});

async fn allergies_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let base = format!("/patient/{ADAM}/allergies");
    let body = page(&c, &base).await;
    assert!(body.contains("class=\"vista-panel\""));
    for (k, n) in [
        ("total", 7),
        ("drug", 3),
        ("food", 2),
        ("environmental", 2),
        ("severe", 2),
        ("inactive", 1),
    ] {
        assert!(
            body.contains(&format!("data-count=\"{k}\">{n}<")),
            "{k} = {n}"
        );
    }
    // Grouped Drug / Food / Environmental, each in the critical order.
    in_order(
        &body,
        &[
            "id=\"allergies-drug\"",
            "PENICILLIN",
            "CODEINE",
            "ASPIRIN",
            "id=\"allergies-food\"",
            "PEANUTS",
            "SHELLFISH",
            "id=\"allergies-environmental\"",
            "LATEX",
            "POLLEN",
        ],
    );
    assert!(body.contains("HIVES, ANAPHYLAXIS"));
    assert!(!body.contains("SULFA DRUGS"), "inactive hidden by default");
    let body = page(&c, &format!("{base}?include_inactive=true")).await;
    in_order(
        &body,
        &[
            "PENICILLIN",
            "ASPIRIN",
            "SULFA DRUGS",
            "data-inactive",
            "id=\"allergies-food\"",
        ],
    );
    assert!(
        body.contains("id=\"allergies-include-inactive\" aria-current")
            || body.contains("aria-current=\"true\" id=\"allergies-include-inactive\"")
    );

    let j = json(
        &c,
        &format!("/api/patient/{ADAM}/allergies/page?include_inactive=true"),
    )
    .await;
    assert_eq!(j["total_allergies"], 7);
    assert_eq!(j["inactive_allergies"], 1);
    assert_eq!(j["allergies"].as_array().map(Vec::len), Some(8));

    let body = page(&c, &format!("/patient/{IRVING}/allergies")).await;
    assert!(
        body.contains("id=\"allergies-empty\"") && body.contains("No active allergies on file")
    );

    assert_eq!(
        status(&c, &format!("{base}?include_inactive=maybe")).await,
        400
    );
    assert_eq!(
        status(
            &c,
            &format!("/api/patient/{ADAM}/allergies/page?include_inactive=2")
        )
        .await,
        400
    );
    assert_eq!(status(&c, "/patient/ICN999999/allergies").await, 404);
}
on_both!(allergies_page, |_| {});

async fn medications_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let base = format!("/patient/{ADAM}/medications");
    let body = page(&c, &base).await;
    assert!(body.contains("class=\"vista-panel\""));
    for (k, n) in [
        ("outpatient_total", 5),
        ("outpatient_active", 2),
        ("outpatient_controlled", 2),
        ("inpatient_total", 2),
        ("inpatient_controlled", 1),
    ] {
        assert!(
            body.contains(&format!("data-count=\"{k}\">{n}<")),
            "{k} = {n}"
        );
    }
    // Both kinds, newest first.
    assert_eq!(
        attrs(&body, "data-medication"),
        [
            "bcma_1", "bcma_2", "rxout_2", "rxout_1", "rxout_4", "rxout_3", "rxout_5"
        ]
    );
    assert!(body.contains("Page 1 of 1 (7 items)"));
    // Quirk 10: the controlled badge shows (flag, or a DEA schedule).
    in_order(
        &body,
        &["MORPHINE 2MG/ML INJ", "data-controlled", "HEPARIN"],
    );
    in_order(&body, &["OXYCODONE 5MG TAB", "Controlled C-II"]);
    in_order(&body, &["ALPRAZOLAM 0.5MG TAB", "Controlled C-IV"]);
    assert_eq!(body.matches("data-controlled").count(), 3);
    assert!(body.contains("<details class=\"row-details\">"));
    in_order(
        &body,
        &[
            "data-medication=\"rxout_2\"",
            "<dt>Rx number</dt><dd>RX00002</dd>",
        ],
    );
    assert!(body.contains(">EXPIRED<") && body.contains(">DISCONTINUED<"));

    // Outpatient, expired, by drug name, 10 a page: the links keep it all.
    let q = "medication_type=outpatient&status=EXPIRED&sort=drug_name&page_size=10";
    let body = page(&c, &format!("{base}?{q}")).await;
    assert_eq!(attrs(&body, "data-medication"), ["rxout_5", "rxout_3"]);
    assert!(body.contains("Page 1 of 1 (2 items)"));
    assert!(body.contains(&href(&format!(
        "{base}?medication_type=outpatient&status=EXPIRED&sort=drug_name&page_size=50"
    ))));
    assert!(body.contains("<option value=\"EXPIRED\" selected>"));
    // The filter form's HTMX request gets the same page (it selects the table).
    let r = c.htmx_get(&format!("{base}?{q}")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("id=\"medications-table-container\"")
    );
    // Status is ignored for inpatient administrations.
    let body = page(
        &c,
        &format!("{base}?medication_type=inpatient&status=ACTIVE&sort=date_asc"),
    )
    .await;
    assert_eq!(attrs(&body, "data-medication"), ["bcma_2", "bcma_1"]);
    assert!(body.contains("name=\"status\" disabled"));
    // Last 30 days.
    let body = page(&c, &format!("{base}?date_range=30")).await;
    assert_eq!(
        attrs(&body, "data-medication"),
        ["bcma_1", "bcma_2", "rxout_2", "rxout_1"]
    );
    let j = json(&c, &format!("/api/patient/{ADAM}/medications/page?{q}")).await;
    assert_eq!(j["total"], 2);
    assert_eq!(j["medications"][0]["drug_name"], "ALPRAZOLAM 0.5MG TAB");
    assert_eq!(j["medications"][0]["is_controlled"], true);

    let body = page(&c, &format!("/patient/{IRVING}/medications")).await;
    assert!(body.contains("id=\"medications-empty\""));

    for q in [
        "medication_type=iv",
        "status=PENDING",
        "date_range=7",
        "sort=price",
        "page_size=0",
    ] {
        assert_eq!(status(&c, &format!("{base}?{q}")).await, 400, "{q}");
        assert_eq!(
            status(&c, &format!("/api/patient/{ADAM}/medications/page?{q}")).await,
            400,
            "{q}"
        );
    }
    assert_eq!(status(&c, "/patient/ICN999999/medications").await, 404);
}
on_both!(medications_page, |_| {});

async fn encounters_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let base = format!("/patient/{ADAM}/encounters");
    let body = page(&c, &base).await;
    assert!(body.contains("class=\"vista-panel\""));
    for (k, n) in [
        ("total", 5),
        ("active", 1),
        ("recent", 2),
        ("extended", 1),
        ("facilities", 2),
    ] {
        assert!(
            body.contains(&format!("data-count=\"{k}\">{n}<")),
            "{k} = {n}"
        );
    }
    // Newest admission first: the stay discharged 10 days ago began after
    // the active one (admitted 20 days ago).
    assert_eq!(attrs(&body, "data-encounter"), ["2", "1", "3", "4", "5"]);
    assert!(body.contains("Page 1 of 1 (5 items)"));
    assert!(body.contains("20 days so far") && body.contains("data-extended"));
    assert!(body.contains("CHEST PAIN") && body.contains("4 days"));
    assert!(body.contains("Portland VAMC (648) <span class=\"badge badge--muted\">Cerner</span>"));
    assert!(body.contains("Active Admission") && body.contains("Standard Stay"));
    assert!(body.contains(&format!(
        "<time datetime=\"{}",
        ago(20, "07:15").format("%Y-%m-%dT%H:%M")
    )));
    for h in [
        "Status",
        "Admit",
        "Discharge",
        "LOS",
        "Facility",
        "Diagnosis",
        "Disposition",
        "Category",
    ] {
        assert!(
            body.contains(&format!("<th scope=\"col\">{h}</th>")),
            "column {h}"
        );
    }

    let body = page(&c, &format!("{base}?filter=recent&page_size=10")).await;
    assert_eq!(attrs(&body, "data-encounter"), ["2", "1"]);
    assert!(body.contains("Page 1 of 1 (2 items)"));
    assert!(body.contains(&href(&format!("{base}?page_size=10&filter=active"))));
    assert!(body.contains(&href(&format!("{base}?page_size=10"))));
    assert!(body.contains(&href(&format!("{base}?filter=recent&page_size=100"))));
    let body = page(&c, &format!("{base}?filter=active")).await;
    assert_eq!(attrs(&body, "data-encounter"), ["1"]);

    let j = json(
        &c,
        &format!("/api/patient/{ADAM}/encounters/page?filter=recent"),
    )
    .await;
    assert_eq!(j["total"], 2);
    assert_eq!(j["counts"]["extended_stays"], 1);

    let body = page(&c, &format!("/patient/{IRVING}/encounters")).await;
    assert!(body.contains("id=\"encounters-empty\""));

    for q in ["filter=old", "page_size=25", "page=0", "page_size=x"] {
        assert_eq!(status(&c, &format!("{base}?{q}")).await, 400, "{q}");
    }
    assert_eq!(status(&c, "/patient/ICN999999/encounters").await, 404);
    assert_eq!(
        status(&c, "/api/patient/ICN999999/encounters/page").await,
        404
    );
}
on_both!(encounters_page, |_| {});

/// The VistA status of a domain page: without a VistA connection it says
/// so and offers no button; a refresh is refused (503); unknown domains
/// and patients are refused.
async fn vista_panel_without_vista(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    for domain in [
        "vitals",
        "allergies",
        "medications",
        "encounters",
        "problems",
    ] {
        let body = page(&c, &format!("/patient/{ADAM}/{domain}")).await;
        assert!(
            body.contains("No VistA connection is configured."),
            "{domain}"
        );
        assert!(body.contains("Data current through 2026-02-06"), "{domain}");
        assert!(!body.contains("Refresh from VistA</button>"), "{domain}");
        assert!(!body.contains("VistA (site"), "{domain}");
    }
    let r = c
        .post_form(&format!("/patient/{ADAM}/realtime/vitals/refresh"), &[])
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        c.post_form(&format!("/patient/{ADAM}/realtime/labs/refresh"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        c.post_form("/patient/ICN999999/realtime/vitals/refresh", &[])
            .await
            .status(),
        404
    );
    // The JSON twin: the serving DB alone until a refresh.
    let v: serde_json::Value = c
        .get(&format!("/api/patient/{ADAM}/realtime/vitals"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["realtime"], false);
    assert_eq!(v["vista_count"], 0);
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "serving")
    );
    let r = c
        .http
        .post(c.url(&format!("/api/patient/{ADAM}/realtime/vitals")))
        .header("X-CSRF-Token", c.csrf.clone().unwrap_or_default())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

on_both!(vista_panel_without_vista, |_| {});
