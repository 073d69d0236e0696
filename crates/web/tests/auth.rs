//! Sign-in, sessions, CSRF, lockout, audit and introspection, on both
//! serving backends.

#[macro_use]
mod common;

use common::{ALPHA, BRAVO, Client, Db, PASSWORD, TestApp, location};
use std::time::Duration;

async fn events(app: &TestApp, kind: &str) -> Vec<store::auth::AuditEvent> {
    app.store()
        .audit_events(Some(kind), 100)
        .await
        .expect("audit")
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn sign_in_and_out(app: &TestApp) {
    let mut c = app.client();
    // The form, with the security headers every page carries.
    let page = c.get("/login").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert_eq!(page.headers()["x-frame-options"], "DENY");

    let r = c.login(ALPHA, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("session_id="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Max-Age=1560", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.contains("Secure"), "not configured as secure");
    let login = events(app, "login").await;
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].email.as_deref(), Some(ALPHA));
    assert_eq!(login[0].ip_address.as_deref(), Some("127.0.0.1"));
    assert!(login[0].user_agent.is_some());
    assert!(login[0].session_id.is_some());

    // Signed in: the dashboard, and /login bounces back to it.
    let home = c.get("/").await;
    assert_eq!(home.status(), 200);
    assert!(
        set_cookies(&home)
            .iter()
            .any(|c| c.starts_with("session_id=") && c.contains("Max-Age=1560")),
        "the cookie is refreshed with the window"
    );
    let body = home.text().await.unwrap();
    assert!(body.contains("Dr. Alice Anderson, MD"));
    assert_eq!(location(&c.get("/login").await), "/");

    // Logout needs the CSRF token.
    let forged = c
        .http
        .post(c.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let denied = events(app, "access_denied").await;
    assert_eq!(
        denied[0].failure_reason.as_deref(),
        Some("CSRF token missing or invalid")
    );
    assert_eq!(
        c.get("/").await.status(),
        200,
        "a refused logout keeps the session"
    );

    let out = c.post_form("/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/login?notice=signed_out");
    let cleared = set_cookies(&out);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("session_id=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(
        !cleared.iter().any(|c| c.contains("Max-Age=1560")),
        "no refreshed cookie after logout: {cleared:?}"
    );
    assert_eq!(events(app, "logout").await.len(), 1);
    let r = c.get("/").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
    let page = c
        .get("/login?notice=signed_out")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("You have been signed out."));
}

on_both!(sign_in_and_out, |_| {});

async fn get_logout_ends_the_session(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // Capture the cookie to replay it after logout.
    let sid = {
        let r = c.get("/").await;
        set_cookies(&r)
            .into_iter()
            .find(|c| c.starts_with("session_id="))
            .unwrap()
    };
    let value = sid.split(';').next().unwrap().to_string();
    let r = c.get("/logout").await;
    assert_eq!(r.status(), 303);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(c.url("/"))
        .header("cookie", &value)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        303,
        "the session is over server-side, not just in the browser"
    );
    assert_eq!(location(&replay), "/login?notice=ended");
}

on_both!(get_logout_ends_the_session, |_| {});

async fn failed_sign_ins(app: &TestApp) {
    let mut c = app.client();
    let r = c.login(ALPHA, "wrong").await;
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(body.contains("Invalid email or password."));
    assert!(body.contains(ALPHA), "the email is kept in the form");
    let r = c.login("nobody@va.gov", "whatever").await;
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Invalid email or password.")
    );
    let failed = events(app, "login_failed").await;
    let reasons: Vec<_> = failed
        .iter()
        .map(|e| e.failure_reason.clone().unwrap())
        .collect();
    assert!(reasons.contains(&"Invalid password".to_string()));
    assert!(reasons.contains(&"User not found".to_string()));
    // Empty fields and a missing or wrong form token.
    let r = c.login(ALPHA, "").await;
    assert_eq!(r.status(), 422);
    let r = c
        .http
        .post(c.url("/login"))
        .form(&[
            ("email", ALPHA),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("The sign-in form expired"));
    let fresh = Client::new(&app.base);
    let r = fresh
        .http
        .post(fresh.url("/login"))
        .form(&[
            ("email", ALPHA),
            ("password", PASSWORD),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no login cookie: refused");
    // Inactive accounts.
    let now = chrono::Utc::now().naive_utc();
    app.store()
        .set_user_active(BRAVO, false, now)
        .await
        .unwrap();
    let r = c.login(BRAVO, PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Account is inactive"));
}

on_both!(failed_sign_ins, |_| {});

async fn lockout(app: &TestApp) {
    let mut c = app.client();
    for i in 1..5 {
        let r = c.login(ALPHA, "wrong").await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = c.login(ALPHA, "wrong").await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Account locked after 5 failed sign-in attempts"),
        "{body}"
    );
    let lock = events(app, "lockout").await;
    assert_eq!(lock.len(), 1);
    assert_eq!(
        lock[0].failure_reason.as_deref(),
        Some("5 consecutive failed sign-in attempts")
    );
    assert_eq!(lock[0].ip_address.as_deref(), Some("127.0.0.1"));
    // Locked: even the right password is refused, and the lock is
    // checked before the password.
    let r = c.login(ALPHA, PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Account locked"));
    let failed = events(app, "login_failed").await;
    assert_eq!(failed[0].failure_reason.as_deref(), Some("Account locked"));
    // Other users are unaffected.
    let mut other = app.client();
    assert_eq!(other.login(BRAVO, PASSWORD).await.status(), 303);
    // The lock expires; a good sign-in resets the count.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(c.login(ALPHA, PASSWORD).await.status(), 303);
    let u = app.store().user_by_email(ALPHA).await.unwrap().unwrap();
    assert_eq!(u.failed_login_attempts, 0);
    assert!(!u.is_locked);
}

on_both!(lockout, |c: &mut web::config::Config| c.login.lockout =
    Some(std::time::Duration::from_secs(2)));

async fn lockout_until_unlocked(app: &TestApp) {
    let mut c = app.client();
    assert_eq!(c.login(ALPHA, "wrong").await.status(), 401);
    let r = c.login(ALPHA, "wrong").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains(
        "Account locked after 2 failed sign-in attempts. Please contact your administrator."
    ));
    let now = chrono::Utc::now().naive_utc();
    assert!(app.store().unlock_user(ALPHA, now).await.unwrap());
    assert_eq!(c.login(ALPHA, PASSWORD).await.status(), 303);
}

on_both!(lockout_until_unlocked, |c: &mut web::config::Config| {
    c.login.lockout = None;
    c.login.max_failed_attempts = 2;
});

async fn one_session_per_user(app: &TestApp) {
    let first = app.signed_in(ALPHA).await;
    assert_eq!(first.get("/").await.status(), 200);
    let second = app.signed_in(ALPHA).await;
    assert_eq!(second.get("/").await.status(), 200);
    let r = first.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?notice=ended");
    // That answer also deleted the cookie; HTMX and JSON callers without
    // a session are sent to sign in.
    let r = first.htmx_get("/api/patient/header").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["hx-redirect"], "/login");
    let r = first.get("/api/patient/ICN100001/flags/9001/history").await;
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "sign in required");
}

on_both!(one_session_per_user, |_| {});

async fn sliding_timeout(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // Activity inside the window keeps sliding it.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let r = c.get("/").await;
        assert_eq!(r.status(), 200, "activity keeps the session");
        assert!(set_cookies(&r).iter().any(|c| c.contains("Max-Age=62")));
    }
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let r = c.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?notice=expired");
    let timeouts = events(app, "session_timeout").await;
    assert_eq!(timeouts.len(), 1);
    assert_eq!(
        timeouts[0].failure_reason.as_deref(),
        Some("Session expired")
    );
    assert_eq!(timeouts[0].email.as_deref(), Some(ALPHA));
    let page = c.get("/login?notice=expired").await.text().await.unwrap();
    assert!(page.contains("Your session expired"));
}

on_both!(sliding_timeout, |c: &mut web::config::Config| c
    .session
    .timeout =
    std::time::Duration::from_secs(2));

async fn deactivated_user_loses_access(app: &TestApp) {
    let c = app.signed_in(BRAVO).await;
    let now = chrono::Utc::now().naive_utc();
    app.store()
        .set_user_active(BRAVO, false, now)
        .await
        .unwrap();
    let r = c.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?notice=inactive");
    let denied = events(app, "access_denied").await;
    assert_eq!(
        denied[0].failure_reason.as_deref(),
        Some("Account inactive")
    );
}

on_both!(deactivated_user_loses_access, |_| {});

async fn csrf_on_htmx_requests(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let ok = c
        .htmx_post("/api/patient/set-context", &[("icn", "ICN100001")])
        .await;
    assert_eq!(ok.status(), 204);
    let forged = c
        .http
        .post(c.url("/api/patient/set-context"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", "forged")
        .form(&[("icn", "ICN100001")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("could not be verified")
    );
    let missing = c
        .http
        .post(c.url("/api/patient/set-context"))
        .json(&serde_json::json!({"icn": "ICN100001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
}

on_both!(csrf_on_htmx_requests, |_| {});

async fn introspection(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let sid = {
        let r = c.get("/").await;
        let cookie = set_cookies(&r)
            .into_iter()
            .find(|c| c.starts_with("session_id="))
            .unwrap();
        cookie["session_id=".len()..cookie.find(';').unwrap()].to_string()
    };
    let http = reqwest::Client::new();
    let url = c.url("/api/auth/introspect");
    let ask = |key: Option<&'static str>, body: serde_json::Value| {
        let mut rb = http.post(&url).json(&body);
        if let Some(k) = key {
            rb = rb.header("X-Introspection-Key", k);
        }
        rb.send()
    };
    let key = Some(web::config::DEV_INTROSPECTION_KEY);
    let r = ask(key, serde_json::json!({"session_id": sid}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["active"], true);
    assert_eq!(v["email"], ALPHA);
    assert_eq!(v["display_name"], "Dr. Alice Anderson, MD");
    assert_eq!(v["roles"], serde_json::json!(["clinician"]));
    assert!(v["user_id"].as_str().is_some_and(|s| !s.is_empty()));
    for bad in [None, Some("wrong-key")] {
        let r = ask(bad, serde_json::json!({"session_id": sid}))
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = ask(key, serde_json::json!({"nope": 1})).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = ask(key, serde_json::json!({"session_id": "unknown"}))
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"active": false})
    );
    c.post_form("/logout", &[]).await;
    let r = ask(key, serde_json::json!({"session_id": sid}))
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["active"],
        false
    );
}

on_both!(introspection, |_| {});

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = common::start().await;
    let c = app.signed_in(ALPHA).await;
    let big = "x".repeat(200 * 1024);
    let r = c
        .htmx_post("/api/patient/set-context", &[("icn", &big)])
        .await;
    assert_eq!(r.status(), 413);
    let r = c
        .post_form("/api/patient/set-context", &[("icn", &big)])
        .await;
    assert_eq!(r.status(), 413);
    app.stop().await;
}

#[tokio::test]
async fn demo_clinicians_use_bcrypt_cost_12() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path()).await;
    let n = web::seed::demo_users(&store, "another-pass", 12)
        .await
        .unwrap();
    assert_eq!(n, 7);
    for (email, display, ..) in web::seed::DEMO_CLINICIANS {
        let u = store.user_by_email(email).await.unwrap().unwrap();
        assert!(
            u.password_hash.starts_with("$2b$12$"),
            "{}",
            u.password_hash
        );
        assert_eq!(u.display_name, display);
    }
    // Re-seeding with the same password writes nothing; a new one updates.
    assert_eq!(
        web::seed::demo_users(&store, "another-pass", 12)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        web::seed::demo_users(&store, "changed", 4).await.unwrap(),
        7
    );
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let app = common::start_on(Db::Sqlite, |c| c.session.cookie_secure = true)
        .await
        .unwrap();
    // Secure cookies are not sent back over plain HTTP by a cookie jar, so
    // this test carries the sign-in form's cookie by hand.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let login_cookie = set_cookies(&form)
        .into_iter()
        .find(|c| c.starts_with("login_csrf="))
        .unwrap();
    assert!(login_cookie.contains("; Secure"), "{login_cookie}");
    let pair = login_cookie.split(';').next().unwrap().to_string();
    let token = pair["login_csrf=".len()..].to_string();
    let r = http
        .post(format!("{}/login", app.base))
        .header("cookie", &pair)
        .form(&[
            ("email", ALPHA),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("session_id="))
        .unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    app.stop().await;
}
