//! The shell: dashboard, patient header, search, context changes, flags,
//! error pages, assets; on both serving backends.

#[macro_use]
mod common;

use common::{ALPHA, Db, TestApp, location};

async fn dashboard_and_context(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // No context yet (no vault configured: the local fallback).
    let home = c.get("/").await.text().await.unwrap();
    assert!(home.contains("id=\"dashboard-empty\""));
    assert!(home.contains("No patient selected"));
    assert!(home.contains("Data current through <time datetime=\"2026-02-06\""));
    assert!(
        home.contains("Context not shared"),
        "no vault: the page says so"
    );
    // Every domain of the reference is in the sidebar.
    for label in [
        "Dashboard",
        "Demographics",
        "Tasks",
        "Vitals",
        "Allergies",
        "Family history",
        "Medications",
        "Immunizations",
        "Labs",
        "Notes",
        "Encounters",
        "Orders",
        "Procedures",
        "Problems",
        "Imaging",
    ] {
        assert!(home.contains(label), "sidebar lacks {label}");
    }
    assert!(!home.contains("<script>"), "no inline scripts");

    // Selecting an unknown patient is a 404; a missing ICN a 400.
    let r = c
        .htmx_post("/api/patient/set-context", &[("icn", "ICN999999")])
        .await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Patient not found."));
    let r = c
        .htmx_post("/api/patient/set-context", &[("icn", " ")])
        .await;
    assert_eq!(r.status(), 400);

    let r = c
        .htmx_post("/api/patient/set-context", &[("icn", "ICN100001")])
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["hx-redirect"], "/");
    // Without HTMX, a plain redirect.
    let r = c
        .post_form("/api/patient/set-context", &[("icn", "ICN100001")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");

    let home = c.get("/dashboard").await.text().await.unwrap();
    assert!(home.contains("data-patient-icn=\"ICN100001\""));
    assert!(home.contains("DOOREE, Adam"));
    assert!(home.contains("***-**-6789"));
    assert!(home.contains("1958-03-14"));
    assert!(home.contains("508 (Atlanta VAMC)"));
    assert!(!home.contains("deceased-badge"));
    for w in web::widgets::DASHBOARD {
        assert!(
            home.contains(&format!(
                "hx-get=\"/api/patient/dashboard/widget/{}/ICN100001\"",
                w.key
            )),
            "widget {} missing",
            w.key
        );
    }
    // Flags badge: one active flag, red because its review is overdue.
    let header = c
        .htmx_get("/api/patient/header")
        .await
        .text()
        .await
        .unwrap();
    assert!(header.contains("id=\"flags-badge\""));
    assert!(
        header.contains("badge--danger"),
        "overdue review: red badge"
    );
    assert!(header.contains(">1<"), "one active flag");

    // The deceased patient gets the badge with the date.
    c.htmx_post("/api/patient/set-context", &[("icn", "ICN100016")])
        .await;
    let header = c
        .htmx_get("/api/patient/refresh")
        .await
        .text()
        .await
        .unwrap();
    assert!(header.contains("id=\"deceased-badge\""));
    assert!(header.contains("2024-12-01"));
    assert!(!header.contains("flags-badge"), "no flags: no badge");

    // Clearing the context empties the dashboard.
    let r = c.htmx_post("/api/patient/clear-context", &[]).await;
    assert_eq!(r.status(), 204);
    assert!(
        c.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("dashboard-empty")
    );
}

on_both!(dashboard_and_context, |_| {});

async fn patient_search(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let search = |q: &str, kind: &str| {
        let path = format!(
            "/api/patient/search?query={}&search_type={kind}",
            q.replace(' ', "+").replace(',', "%2C")
        );
        let c = &c;
        async move { c.htmx_get(&path).await.text().await.unwrap() }
    };
    let r = search("t", "name").await;
    assert!(r.contains("at least 2 characters"));
    let r = search("thom", "name").await;
    assert_eq!(
        r.matches("class=\"search-result__button\"").count(),
        3,
        "{r}"
    );
    // Ordered by last then first name: Alananah, Bailey, Irving.
    let a = r.find("Alananah").unwrap();
    let b = r.find("Bailey").unwrap();
    let i = r.find("Irving").unwrap();
    assert!(a < b && b < i);
    assert!(r.contains("***-**-3333") && !r.contains("ssn\""));
    let r = search("ADAM", "name").await;
    assert!(
        r.contains("ICN100001"),
        "first names match, case-insensitively"
    );
    let r = search("thompson, bai", "name").await;
    assert_eq!(r.matches("search-result__button").count(), 1, "{r}");
    let r = search("ICN100016", "icn").await;
    assert!(r.contains("WILSON, Margaret") && r.contains("Deceased"));
    let r = search("ICN1000", "icn").await;
    assert!(
        r.contains("No patients found matching"),
        "ICNs match exactly"
    );
    let r = search("zzzz", "name").await;
    assert!(r.contains("No patients found matching “zzzz”"));
    let r = c
        .htmx_get("/api/patient/search?query=abc&search_type=ssn")
        .await;
    assert_eq!(r.status(), 400);
    // Query text is escaped, never markup.
    let r = search("<b>x", "name").await;
    assert!(r.contains("&#60;b&#62;x") && !r.contains("<b>x"), "{r}");
}

on_both!(patient_search, |_| {});

async fn flags_modal_and_history(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let modal = c
        .htmx_get("/api/patient/ICN100001/flags/modal")
        .await
        .text()
        .await
        .unwrap();
    assert!(modal.contains("<strong>1</strong> active flag<"), "{modal}");
    assert!(modal.contains("National flags (Category I)"));
    assert!(modal.contains("HIGH RISK FOR SUICIDE"));
    assert!(modal.contains("Review: OVERDUE"));
    assert!(
        !modal.contains("Local flags (Category II)"),
        "the only local flag is inactive"
    );
    assert!(
        modal.contains("<details class=\"flags-inactive\">"),
        "inactive collapsed"
    );
    assert!(modal.contains("Inactive flags (1)") && modal.contains("RESEARCH STUDY"));
    // The history is not in the modal until asked for.
    assert!(!modal.contains("SMITH,JANE"));
    assert!(modal.contains("hx-get=\"/api/patient/ICN100001/flags/9001/history\""));

    let h = c
        .htmx_get("/api/patient/ICN100001/flags/9001/history")
        .await;
    assert_eq!(h.status(), 200);
    let h = h.text().await.unwrap();
    assert!(h.contains("Sensitive safety information"));
    assert!(h.contains("SMITH,JANE") && h.contains("JONES,ROBERT") && h.contains("BROWN,ALEX"));
    assert!(
        h.find("CONTINUE").unwrap() < h.find("NEW ASSIGNMENT").unwrap(),
        "newest first"
    );
    assert!(h.contains("safety plan completed"));

    let j: serde_json::Value = c
        .get("/api/patient/ICN100001/flags/9001/history")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(j["history_count"], 2);
    assert_eq!(j["history"][0]["entered_by_name"], "BROWN,ALEX");

    assert_eq!(
        c.htmx_get("/api/patient/ICN100001/flags/1234/history")
            .await
            .status(),
        404
    );
    assert_eq!(
        c.htmx_get("/api/patient/ICN100013/flags/9001/history")
            .await
            .status(),
        404,
        "another patient's flag"
    );
    assert_eq!(
        c.htmx_get("/api/patient/ICN999999/flags/modal")
            .await
            .status(),
        404
    );
    assert_eq!(
        c.get("/api/patient/ICN100001/flags/notanumber/history")
            .await
            .status(),
        400
    );
}

on_both!(flags_modal_and_history, |_| {});

#[tokio::test]
async fn errors_assets_and_health() {
    let app = common::start().await;
    let c = app.signed_in(ALPHA).await;
    // Unknown page: the 404 page, with the security headers.
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("Not found") && body.contains("Page not found."));
    // JSON callers get JSON.
    let r = c.get("/api/patient/ICN999999/flags/1/history").await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["detail"],
        "Patient not found."
    );

    // Assets: embedded, typed, cacheable, with ETags.
    for (path, ty) in [
        ("/static/vendor/htmx-2.0.11.min.js", "javascript"),
        ("/static/app.js", "javascript"),
        ("/static/app.css", "text/css"),
        ("/static/icons.svg", "image/svg+xml"),
        ("/favicon.ico", "image/svg+xml"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"].to_str().unwrap().contains(ty),
            "{path}"
        );
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let again = c
            .http
            .get(c.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    assert_eq!(c.get("/static/nope.js").await.status(), 404);
    assert_eq!(c.get("/static/README.md").await.status(), 404);
    // Static assets and the sign-in page need no session.
    let anon = app.client();
    assert_eq!(anon.get("/static/app.css").await.status(), 200);

    let h: serde_json::Value = anon.get("/health").await.json().await.unwrap();
    assert_eq!(h["database"], "ok");
    // The embedded issuer's keys are public (the vault fetches them).
    let d: serde_json::Value = anon
        .get("/oidc/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], format!("{}/oidc", app.base));
    let keys: serde_json::Value = anon.get("/oidc/jwks.json").await.json().await.unwrap();
    assert_eq!(keys["keys"][0]["alg"], "RS256");
    // API docs.
    let doc: serde_json::Value = anon.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/auth/introspect"].is_object());
    let docs = anon.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_vault_falls_back_to_the_local_context() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = common::start_on(Db::Sqlite, |c| {
        c.ccow_url = Some(format!("http://{closed}"));
        c.ccow_timeout = std::time::Duration::from_millis(500);
    })
    .await
    .unwrap();
    let c = app.signed_in(ALPHA).await;
    let r = c
        .htmx_post("/api/patient/set-context", &[("icn", "ICN100013")])
        .await;
    assert_eq!(r.status(), 204, "selecting still works");
    let home = c.get("/").await.text().await.unwrap();
    assert!(home.contains("data-patient-icn=\"ICN100013\""));
    assert!(home.contains("Context not shared"));
    // The event relay says the vault is unavailable (browsers retry).
    let r = c.get("/api/ccow/events").await;
    assert_eq!(r.status(), 503);
    app.stop().await;
}

#[tokio::test]
async fn a_database_that_goes_down_gives_an_error_state() {
    let Some(cluster) = pgtest::Cluster::start() else {
        eprintln!("skipped: PostgreSQL not available");
        return;
    };
    let url = cluster.create_database("web_down");
    let store = store::Store::connect(&url).await.unwrap();
    use store::ServingStore;
    store.migrate().await.unwrap();
    common::fixture::load(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let app = common::start_with_store(dir, store, |_| {}).await;
    let c = app.signed_in(ALPHA).await;
    assert_eq!(c.get("/").await.status(), 200);
    drop(cluster); // stops PostgreSQL
    let r = c.get("/").await;
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(body.contains("Temporarily unavailable"), "{body}");
    let r = c.htmx_get("/api/patient/search?query=thom").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("state--error"));
    let h = app.client().get("/health").await;
    assert_eq!(h.status(), 503);
    app.stop().await;
}
