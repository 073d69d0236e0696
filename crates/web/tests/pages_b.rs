//! The labs, notes, immunizations, problems and family-history pages
//! (`/patient/{icn}/<domain>`), on both serving backends: a persona with
//! data (`ICN100001`, values from `common/fixture.rs`), one without
//! (`ICN100013`), filter/sort/page combinations, bad query values (400)
//! and an unknown patient (404).

#[macro_use]
mod common;

use common::{ALPHA, Client, TestApp};

const ADAM: &str = "ICN100001";
const IRVING: &str = "ICN100013";
const NOBODY: &str = "ICN999999";

/// GET `path`: status and body with `&` unescaped (links are easier
/// to compare).
async fn page(c: &Client, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    let status = r.status().as_u16();
    let body = r
        .text()
        .await
        .expect("body")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    (status, body)
}

/// The part of `body` from `start` to the next `end`.
fn section<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in page"));
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Whether `body` links to `expected` (a URL): same path, same query
/// parameters in any order.
fn has_link(body: &str, expected: &str) -> bool {
    fn split(u: &str) -> (String, Vec<String>) {
        let (path, query) = u.split_once('?').unwrap_or((u, ""));
        let mut params: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        params.sort();
        (path.to_string(), params)
    }
    let want = split(expected);
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .any(|href| split(href) == want)
}

/// Asserts `items` appear in `text` in this order.
fn in_order(text: &str, items: &[&str]) {
    let mut at = 0;
    for item in items {
        let pos = text[at..]
            .find(item)
            .unwrap_or_else(|| panic!("{item} not found in order in {text}"));
        at += pos + item.len();
    }
}

async fn bad_and_missing(c: &Client, domain: &str, bad: &[&str]) {
    for q in bad {
        let (status, _) = page(c, &format!("/patient/{ADAM}/{domain}?{q}")).await;
        assert_eq!(status, 400, "{domain}?{q}");
    }
    let (status, body) = page(c, &format!("/patient/{NOBODY}/{domain}")).await;
    assert_eq!(status, 404, "{domain} unknown patient");
    assert!(body.contains("Patient not found"), "{domain}");
}

// ---------------------------------------------------------------------------

async fn labs_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (status, body) = page(&c, &format!("/patient/{ADAM}/labs")).await;
    assert_eq!(status, 200);
    assert!(body.contains("/static/pages2.css"));
    assert!(body.contains(">10 results<"), "{body}");
    assert!(body.contains(">5 abnormal<"));
    assert!(body.contains(">1 critical<"));
    for pill in [
        "All (10)",
        "BMP (6)",
        "CBC (2)",
        "Lipid Panel (1)",
        "Individual Tests (1)",
    ] {
        assert!(body.contains(pill), "{pill}");
    }
    assert!(body.contains("Page 1 of 1 (10 items)"));
    // Sodium 128 L* is critical: a distinct red badge.
    assert!(body.contains(r#"<span class="badge badge--danger" data-flag="L*">L*"#));
    assert!(body.contains(r#"<span class="badge badge--warning" data-flag="H">H"#));
    assert!(body.contains(r#"<span class="badge badge--info" data-flag="L">L"#));
    let table = section(&body, r#"id="labs-table""#, "</table>");
    // Newest first: the BMP of 3 days ago, then the CBC, then older.
    in_order(
        table,
        &[
            "Glucose",
            "182",
            "Hemoglobin",
            "11.2",
            "Glucose",
            "99",
            "LDL Cholesterol",
        ],
    );
    assert!(table.contains("70-110") && table.contains("LAB"));
    // The trend chart: the most measured test (Creatinine, 2 results).
    assert!(body.contains(r#"data-trend-test="Creatinine""#));
    assert!(body.contains(r#"<svg class="trend__chart""#) && body.contains(r#"role="img""#));
    assert!(body.contains("Creatinine trend (mg/dL)"));
    assert!(!body.contains("coming soon"));

    let (status, body) = page(&c, &format!("/patient/{ADAM}/labs?trend=Glucose")).await;
    assert_eq!(status, 200);
    let trend = section(&body, r#"id="labs-trend""#, "</section>");
    assert!(trend.contains("2 results of Glucose"), "{trend}");
    assert!(trend.contains("reference range 70-110; 1 outside the range"));
    assert!(trend.contains(r#"class="trend__band""#));
    assert!(trend.contains("trend__dot trend__dot--out"));
    assert!(trend.contains(r#"<path class="trend__line" d="M"#));
    // The data-table alternative, newest first.
    in_order(trend, &["182 mg/dL", "99 mg/dL"]);

    // Filter + sort + page size: BMP only, by test name ascending.
    let (status, body) = page(
        &c,
        &format!("/patient/{ADAM}/labs?panel_filter=BMP&sort_by=lab_test_name&sort_order=asc&page_size=10&page=3"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Page 1 of 1 (6 items)"),
        "page past the end shows the last"
    );
    let table = section(&body, r#"id="labs-table""#, "</table>");
    in_order(
        table,
        &[
            "Creatinine",
            "Creatinine",
            "Glucose",
            "Glucose",
            "Potassium",
            "Sodium",
        ],
    );
    assert!(!table.contains("Hemoglobin"));
    assert!(has_link(
        &body,
        "/patient/ICN100001/labs?panel_filter=BMP&sort_by=lab_test_name&sort_order=asc&page_size=50"
    ));
    // Sorting by another column keeps the filter.
    assert!(has_link(
        &body,
        "/patient/ICN100001/labs?panel_filter=BMP&page_size=10&sort_by=abnormal_flag&sort_order=desc"
    ));
    assert!(body.contains(r#"aria-sort="ascending""#));

    // Abnormal only, flag sort: abnormal rows, critical badge present.
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/labs?abnormal_only=true&sort_by=abnormal_flag"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (5 items)"));
    let table = section(&body, r#"id="labs-table""#, "</table>");
    assert!(!table.contains("Potassium"));
    // Individual tests and a days window.
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/labs?panel_filter=Individual+Tests&days=30"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("Hemoglobin A1c"));

    // Each form keeps the other one's state.
    let (_, body) = page(&c, &format!("/patient/{ADAM}/labs?trend=Glucose&days=30")).await;
    assert!(body.contains(r#"<input type="hidden" name="trend" value="Glucose">"#));
    assert!(body.contains(r#"<input type="hidden" name="days" value="30">"#));
    assert!(has_link(
        &body,
        "/patient/ICN100001/labs?trend=Glucose&days=30&panel_filter=CBC"
    ));

    // The trend as JSON.
    let r = c
        .get(&format!("/api/patient/{ADAM}/labs/trend/Glucose"))
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["points"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["points"][0]["value"], 99.0);
    assert_eq!(
        (v["ref_range_low"].as_f64(), v["ref_range_high"].as_f64()),
        (Some(70.0), Some(110.0))
    );

    let (status, body) = page(&c, &format!("/patient/{IRVING}/labs")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="labs-empty""#) && body.contains("No lab results"));

    bad_and_missing(
        &c,
        "labs",
        &[
            "sort_by=bogus",
            "sort_order=up",
            "abnormal_only=maybe",
            "days=0",
            "days=x",
            "page_size=15",
            "page=0",
            "trend=Nope",
        ],
    )
    .await;
}
on_both!(labs_page, |_| {});

async fn notes_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (status, body) = page(&c, &format!("/patient/{ADAM}/notes")).await;
    assert_eq!(status, 200);
    // Default window: 90 days (the nursing note of 100 days ago is out).
    assert!(body.contains("Notes in the last 90 days"));
    assert!(body.contains("Page 1 of 1 (3 items)"), "{body}");
    let table = section(&body, r#"id="notes-table""#, "</table>");
    in_order(
        table,
        &[
            "PRIMARY CARE NOTE",
            "SMITH,JANE",
            "CARDIOLOGY CONSULT",
            "DISCHARGE SUMMARY",
        ],
    );
    assert!(!table.contains("NURSING NOTE"));
    assert!(table.contains("Follow-up of hypertension and diabetes"));
    assert!(table.contains(r#"hx-get="/patient/ICN100001/notes/1/detail""#));
    // Stat cards per class, over every note.
    let cards = section(&body, r#"class="stat-cards""#, "</nav>");
    assert!(cards.contains(
        r#"<span class="stat-card__value">4</span><span class="stat-card__label">All notes"#
    ));
    assert!(cards.contains(
        r#"<span class="stat-card__value">2</span><span class="stat-card__label">Progress Notes"#
    ));

    // All dates, by author ascending, 10 a page.
    let (_, body) = page(
        &c,
        &format!(
            "/patient/{ADAM}/notes?date_range=all&sort_by=author_name&sort_order=asc&page_size=10"
        ),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (4 items)"));
    let table = section(&body, r#"id="notes-table""#, "</table>");
    in_order(
        table,
        &["BROWN,ALEX", "GREEN,PAT", "JONES,ROBERT", "SMITH,JANE"],
    );
    assert!(has_link(
        &body,
        "/patient/ICN100001/notes?date_range=all&sort_by=author_name&sort_order=asc&page_size=20"
    ));
    assert!(has_link(
        &body,
        "/patient/ICN100001/notes?date_range=all&page_size=10&sort_by=document_title&sort_order=desc"
    ));
    // Class + author + status filters.
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/notes?note_class=Progress+Notes&date_range=all&status=COMPLETED"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (2 items)"));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/notes?author=JONES%2CROBERT&date_range=30"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("CARDIOLOGY CONSULT"));
    let (_, body) = page(&c, &format!("/patient/{ADAM}/notes?status=UNSIGNED")).await;
    assert!(body.contains(r#"id="notes-none-match""#) && body.contains("Page 1 of 1 (0 items)"));

    // The full text, on demand; never another patient's note.
    let r = c.htmx_get(&format!("/patient/{ADAM}/notes/1/detail")).await;
    assert_eq!(r.status(), 200);
    let detail = r.text().await.expect("body");
    assert!(detail.contains("Full text of note 1.") && detail.contains("data-note-detail"));
    assert!(!detail.contains("<html"));
    for path in [
        format!("/patient/{IRVING}/notes/1/detail"),
        format!("/patient/{ADAM}/notes/999/detail"),
        format!("/patient/{NOBODY}/notes/1/detail"),
    ] {
        assert_eq!(c.htmx_get(&path).await.status(), 404, "{path}");
    }
    let r = c.get(&format!("/api/patient/{ADAM}/notes/2")).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["document_title"], "CARDIOLOGY CONSULT");
    assert_eq!(
        v["document_text"],
        "Consulted for heart failure management. Full text of note 2."
    );
    assert_eq!(
        c.get(&format!("/api/patient/{IRVING}/notes/2"))
            .await
            .status(),
        404
    );

    let (status, body) = page(&c, &format!("/patient/{IRVING}/notes")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="notes-empty""#));

    bad_and_missing(
        &c,
        "notes",
        &[
            "date_range=abc",
            "date_range=0",
            "sort_by=date",
            "sort_order=up",
            "page_size=5",
            "page=x",
        ],
    )
    .await;
}
on_both!(notes_page, |_| {});

async fn immunizations_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (status, body) = page(&c, &format!("/patient/{ADAM}/immunizations")).await;
    assert_eq!(status, 200);
    for (key, n) in [
        ("total", 7),
        ("recent_2y", 6),
        ("annual", 2),
        ("covid", 1),
        ("incomplete", 2),
        ("reactions", 1),
    ] {
        assert!(
            body.contains(&format!(
                r#"data-count="{key}"><span class="stat-card__value">{n}<"#
            )),
            "{key} = {n}"
        );
    }
    assert!(body.contains("Page 1 of 1 (7 items)"));
    let table = section(&body, r#"id="immunizations-table""#, "</table>");
    in_order(
        table,
        &[
            "INFLUENZA, SEASONAL",
            "COVID-19 MRNA",
            "ZOSTER RECOMBINANT",
            "TDAP",
            "PNEUMOCOCCAL",
            "HEPATITIS B",
            "INFLUENZA, SEASONAL",
        ],
    );
    assert!(table.contains("Reaction: FEVER"));
    assert!(table.contains("1 of 2") && table.contains(">Incomplete<"));
    // Group options from the data, with counts.
    for o in [
        "Influenza (2)",
        "COVID-19 (1)",
        "Shingles (1)",
        "Hepatitis (1)",
        "Pneumococcal (1)",
        "Tdap/DTaP (1)",
    ] {
        assert!(body.contains(o), "{o}");
    }

    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/immunizations?vaccine_group=Influenza"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (2 items)"));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/immunizations?vaccine_group=shingles"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("ZOSTER RECOMBINANT"));
    // Incomplete within a year: the COVID dose only (zoster is 400 days old).
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/immunizations?incomplete_only=true&days=365&page_size=10"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)"));
    let table = section(&body, r#"id="immunizations-table""#, "</table>");
    assert!(table.contains("COVID-19 MRNA") && !table.contains("ZOSTER"));
    assert!(has_link(
        &body,
        "/patient/ICN100001/immunizations?days=365&incomplete_only=true&page_size=50"
    ));
    assert!(has_link(
        &body,
        "/patient/ICN100001/immunizations?days=365&incomplete_only=true&adverse_reactions_only=true&page_size=10"
    ));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/immunizations?adverse_reactions_only=true"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("TDAP"));

    let (status, body) = page(&c, &format!("/patient/{IRVING}/immunizations")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="immunizations-empty""#));

    bad_and_missing(
        &c,
        "immunizations",
        &[
            "vaccine_group=Bogus",
            "incomplete_only=perhaps",
            "adverse_reactions_only=2",
            "days=9999",
            "page=0",
        ],
    )
    .await;
}
on_both!(immunizations_page, |_| {});

async fn problems_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (status, body) = page(&c, &format!("/patient/{ADAM}/problems")).await;
    assert_eq!(status, 200);
    // Quirk 6 fixed: the index is 5 (CHF 1 + diabetes w/ complications 2
    // + renal 2), High risk; the resolved cancer does not count.
    assert!(body.contains(r#"data-charlson="5""#), "{body}");
    assert!(body.contains(r#"data-risk="High""#));
    assert!(body.contains("3 conditions"));
    for i in ["CHF", "Diabetes", "CKD"] {
        assert!(
            body.contains(&format!(
                r#"<span class="badge badge--danger" data-indicator="{i}">"#
            )),
            "{i}"
        );
    }
    assert!(!body.contains(r#"data-indicator="COPD""#));
    // Active by default, grouped by category.
    assert!(body.contains("Page 1 of 1 (4 items)"));
    let list = section(&body, r#"id="problems-list-title""#, "</section>");
    in_order(
        list,
        &[
            r#"data-category="Cardiovascular""#,
            "Heart failure, unspecified",
            "Essential hypertension",
            r#"data-category="Endocrine""#,
            r#"data-category="Renal""#,
        ],
    );
    assert!(list.contains(">Chronic<") && list.contains(">SC<"));
    assert!(!list.contains("Malignant neoplasm"));
    for pill in ["Active (4)", "Inactive (1)", "Resolved (1)", "All (6)"] {
        assert!(body.contains(pill), "{pill}");
    }

    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/problems?status=All&service_connected_only=true&page_size=10"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)"));
    assert!(
        body.contains("Essential hypertension") && !body.contains("Heart failure, unspecified")
    );
    assert!(has_link(
        &body,
        "/patient/ICN100001/problems?status=All&service_connected_only=true&page_size=100"
    ));
    assert!(has_link(
        &body,
        "/patient/ICN100001/problems?status=Resolved&service_connected_only=true&page_size=10"
    ));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/problems?status=All&category=Oncology"),
    )
    .await;
    assert!(
        body.contains("Page 1 of 1 (1 item)") && body.contains("Malignant neoplasm of prostate")
    );
    let (_, body) = page(&c, &format!("/patient/{ADAM}/problems?status=inactive")).await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("Asthma, uncomplicated"));

    let (status, body) = page(&c, &format!("/patient/{IRVING}/problems")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="problems-empty""#));

    bad_and_missing(
        &c,
        "problems",
        &[
            "status=Pending",
            "service_connected_only=sure",
            "page_size=1000",
        ],
    )
    .await;
}
on_both!(problems_page, |_| {});

async fn history_page(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (status, body) = page(&c, &format!("/patient/{ADAM}/history")).await;
    assert_eq!(status, 200);
    for (key, n) in [
        ("total", 3),
        ("active", 3),
        ("first_degree", 2),
        ("high_risk", 2),
        ("conditions", 3),
    ] {
        assert!(
            body.contains(&format!(
                r#"data-count="{key}"><span class="stat-card__value">{n}<"#
            )),
            "{key} = {n}"
        );
    }
    assert!(body.contains("Page 1 of 1 (3 items)"));
    let table = section(&body, r#"id="history-table""#, "</table>");
    // Most recently recorded first; first-degree high-risk rows highlighted.
    in_order(table, &["Maternal uncle", "Mother", "Father"]);
    assert!(table.contains(r#"<tr class="row--high-risk" data-relationship="Mother">"#));
    assert!(table.contains(r#"<tr class="row--high-risk" data-relationship="Father">"#));
    assert!(table.contains(r#"<tr class="" data-relationship="Maternal uncle">"#));
    assert_eq!(table.matches(">1st degree<").count(), 2);
    // Options derived from the rows.
    for o in [
        r#"value="Maternal uncle""#,
        r#"value="Oncology""#,
        r#"value="Cardiovascular""#,
    ] {
        assert!(body.contains(o), "{o}");
    }

    let (_, body) = page(&c, &format!("/patient/{ADAM}/history?relationship=mother")).await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("Breast cancer"));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/history?category=cardio&active_only=true&page_size=10"),
    )
    .await;
    assert!(body.contains("Page 1 of 1 (1 item)") && body.contains("Coronary artery disease"));
    assert!(has_link(
        &body,
        "/patient/ICN100001/history?category=cardio&active_only=true&page_size=50"
    ));
    assert!(has_link(
        &body,
        "/patient/ICN100001/history?category=cardio&page_size=10"
    ));
    let (_, body) = page(&c, &format!("/patient/{ADAM}/history?relationship=Sister")).await;
    assert!(body.contains(r#"id="history-none-match""#));

    let (status, body) = page(&c, &format!("/patient/{IRVING}/history")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="history-empty""#));

    bad_and_missing(&c, "history", &["active_only=x", "page_size=7", "page=-1"]).await;
}
on_both!(history_page, |_| {});

async fn json(c: &Client, path: &str) -> (u16, serde_json::Value) {
    let r = c.get(path).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn page_json(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (s, v) = json(
        &c,
        &format!(
            "/api/patient/{ADAM}/labs/page?sort_by=abnormal_flag&abnormal_only=true&page_size=10"
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["pagination"]["label"], "Page 1 of 1 (5 items)");
    assert_eq!(v["counts"]["total"], 10);
    let flags: Vec<&str> = v["labs"]
        .as_array()
        .expect("labs")
        .iter()
        .map(|l| l["abnormal_flag"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(flags, ["H", "H", "H", "L", "L*"]);

    let (s, v) = json(
        &c,
        &format!(
            "/api/patient/{ADAM}/notes/page?date_range=all&sort_by=document_title&sort_order=asc"
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["pagination"]["total"], 4);
    assert_eq!(v["notes"][0]["document_title"], "CARDIOLOGY CONSULT");
    assert_eq!(v["notes_by_class"]["Progress Notes"], 2);

    let (s, v) = json(
        &c,
        &format!("/api/patient/{ADAM}/immunizations/page?vaccine_group=COVID-19"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["pagination"]["total"], 1);
    assert_eq!(v["immunizations"][0]["vaccine_name"], "COVID-19 MRNA");
    assert_eq!(v["counts"]["incomplete"], 2);

    let (s, v) = json(&c, &format!("/api/patient/{ADAM}/problems/page?status=All")).await;
    assert_eq!(s, 200);
    assert_eq!(v["pagination"]["total"], 6);
    assert_eq!(
        (v["charlson_index"].as_u64(), v["charlson_risk"].as_str()),
        (Some(5), Some("High"))
    );
    assert_eq!(v["problems"][0]["icd10_category"], "Cardiovascular");

    let (s, v) = json(
        &c,
        &format!("/api/patient/{ADAM}/history/page?relationship=father"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["pagination"]["total"], 1);
    assert_eq!(v["history"][0]["condition_name"], "Coronary artery disease");
    assert_eq!(v["counts"]["first_degree_high_risk"], 2);

    for d in ["labs", "notes", "immunizations", "problems", "history"] {
        let (s, v) = json(&c, &format!("/api/patient/{IRVING}/{d}/page")).await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(v["pagination"]["label"], "Page 1 of 1 (0 items)", "{d}");
        let (s, v) = json(&c, &format!("/api/patient/{NOBODY}/{d}/page")).await;
        assert_eq!(s, 404, "{d}");
        assert!(v["detail"].is_string(), "{d}");
        let (s, _) = json(&c, &format!("/api/patient/{ADAM}/{d}/page?page_size=3")).await;
        assert_eq!(s, 400, "{d}");
    }

    let (_, doc) = json(&c, "/openapi.json").await;
    for path in [
        "/api/patient/{icn}/labs/page",
        "/api/patient/{icn}/labs/trend/{test_name}",
        "/api/patient/{icn}/notes/page",
        "/api/patient/{icn}/notes/{note_id}",
        "/api/patient/{icn}/immunizations/page",
        "/api/patient/{icn}/problems/page",
        "/api/patient/{icn}/history/page",
    ] {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} in /openapi.json");
        assert_eq!(op["tags"][0], "patient", "{path}");
    }
    // The labs page's pages2.css and the empty chart state are served.
    assert_eq!(c.get("/static/pages2.css").await.status(), 200);
}
on_both!(page_json, |_| {});
