//! The whole stack in one process, over HTTP: sign in to the web app, share
//! the patient through the CCOW vault, follow a change another application
//! makes, and get the context back after signing in again.

use futures_util::StreamExt;
use std::time::Duration;

const PASSWORD: &str = "stack-test";

fn extract(body: &str, start: &str, end: &str) -> Option<String> {
    let i = body.find(start)? + start.len();
    let j = body[i..].find(end)? + i;
    Some(body[i..j].to_string())
}

struct Browser {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(base: &str, email: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = http
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = extract(&form, "name=\"csrf_token\" value=\"", "\"").unwrap();
        let r = http
            .post(format!("{base}/login"))
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "sign-in");
        let home = http
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = extract(&home, "\"X-CSRF-Token\": \"", "\"").unwrap();
        Browser {
            http,
            base: base.to_string(),
            csrf,
        }
    }

    async fn page(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn page_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn select(&self, icn: &str) {
        let r = self
            .http
            .post(format!("{}/api/patient/set-context", self.base))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", &self.csrf)
            .form(&[("icn", icn)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(r.headers()["hx-redirect"], "/");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_is_shared_followed_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    medz1::up(&medz1::UpOptions {
        data: data.clone(),
        patients: 60,
        seed: 3,
        regenerate: false,
        progress: false,
    })
    .await
    .unwrap();
    let running = medz1::start(
        &data,
        medz1::Ports {
            web: 0,
            ccow: 0,
            vista: 0,
            xwb: 0,
        },
        &medz1::WebOptions {
            demo_password: PASSWORD.into(),
            bcrypt_cost: 4,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let web = format!("http://{}", running.web);
    let vault = format!("http://{}", running.ccow);

    let alice = Browser::sign_in(&web, "clinician.alpha@va.gov").await;
    assert!(alice.page("/").await.contains("No patient selected"));
    alice.select("ICN100001").await;
    let home = alice.page("/").await;
    assert!(
        home.contains("data-patient-icn=\"ICN100001\""),
        "the dashboard shows the patient"
    );
    assert!(!home.contains("Context not shared"), "the vault answered");

    // The vault knows it, for this user: through the web session
    // (introspection) ...
    let session = {
        let r = alice.http.get(format!("{web}/")).send().await.unwrap();
        let c = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("session_id="))
            .unwrap();
        c["session_id=".len()..c.find(';').unwrap()].to_string()
    };
    let ctx: serde_json::Value = reqwest::Client::new()
        .get(format!("{vault}/ccow/active-patient"))
        .header("X-Session-ID", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ctx["patient_id"], "ICN100001");
    assert_eq!(ctx["set_by"], "med-z1");
    let user_id = ctx["user_id"].as_str().unwrap().to_string();

    // ... and the web app relays the vault's changes to the browser.
    let events = alice
        .http
        .get(format!("{web}/api/ccow/events"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut stream = events.bytes_stream();
    let mut buf = String::new();
    let mut next_event = async || -> serde_json::Value {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    assert_eq!(
        next_event().await["patient_id"],
        "ICN100001",
        "current context first"
    );

    // Another application of the same user changes the patient, with a
    // token from the web app's issuer.
    let issuer = identity::LocalIssuer::load_or_create(
        &data.join("web-issuer.pem"),
        &format!("{web}/oidc"),
        false,
    )
    .unwrap();
    let token = issuer.mint(&identity::MintRequest::new(&user_id)).unwrap();
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .put(format!("{vault}/ccow/active-patient"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"patient_id": "ICN100010", "set_by": "imaging-viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ev = next_event().await;
    assert_eq!(ev["patient_id"], "ICN100010");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "relayed in {:?}",
        started.elapsed()
    );
    assert!(
        alice
            .page("/api/patient/header")
            .await
            .contains("data-patient-icn=\"ICN100010\"")
    );

    // Signing out keeps the user's context; signing in restores it.
    let r = alice
        .http
        .post(format!("{web}/logout"))
        .form(&[("csrf_token", alice.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let again = Browser::sign_in(&web, "clinician.alpha@va.gov").await;
    assert!(
        again
            .page("/")
            .await
            .contains("data-patient-icn=\"ICN100010\"")
    );

    // Refresh from VistA: today's rows from the patient's sites, merged.
    let refresh = |path: String| {
        let b = &again;
        async move {
            b.http
                .post(format!("{}{path}", b.base))
                .header("X-CSRF-Token", &b.csrf)
                .send()
                .await
                .unwrap()
        }
    };
    let r = refresh("/api/patient/ICN100001/realtime/vitals".into()).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["realtime"], true);
    let asked = v["sites_asked"].as_array().unwrap();
    assert_eq!(
        asked.len(),
        2,
        "the two most recently seen sites for vitals: {asked:?}"
    );
    assert_eq!(asked[0], "200", "seen today");
    assert!(v["vista_count"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["unreadable_lines"], 0);
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(v["current_through"], today.as_str());
    let rows = v["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["source"] == "vista" && r["site"] == "200")
    );
    assert!(rows.iter().any(|r| r["source"] == "serving"));
    assert_eq!(
        rows.len() as u64 + v["duplicates_removed"].as_u64().unwrap(),
        v["serving_count"].as_u64().unwrap() + v["vista_count"].as_u64().unwrap(),
        "every row is kept or counted as a duplicate"
    );
    // The answers are cached server-side for this user.
    let cached: serde_json::Value = again
        .page_json("/api/patient/ICN100001/realtime/vitals")
        .await;
    assert_eq!(cached["realtime"], true);
    assert_eq!(cached["vista_count"], v["vista_count"]);
    // Every domain with a refresh; a site outside the simulator is named.
    for domain in ["allergies", "medications", "encounters", "problems"] {
        let r = refresh(format!("/api/patient/ICN100001/realtime/{domain}")).await;
        assert_eq!(r.status(), 200, "{domain}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["failed_sites"], serde_json::json!([]), "{domain}: {v}");
        assert_eq!(v["unreadable_lines"], 0, "{domain}: {v}");
    }
    // Demographics: the simulator's ORWPT PTINQ, compared field by field
    // with the warehouse (the mock registry and CDW agree on this persona).
    let d: serde_json::Value = refresh("/api/patient/ICN100001/realtime/demographics".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["sites_asked"].as_array().unwrap().len(), 1, "{d}");
    let checks = d["checks"].as_array().expect("checks");
    for field in ["name", "date_of_birth", "sex", "ssn_last4"] {
        let c = checks.iter().find(|c| c["field"] == field).expect(field);
        assert_eq!(c["matches"], true, "{field}: {d}");
    }
    let r: serde_json::Value = refresh("/api/patient/ICN100016/realtime/vitals".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["failed_sites"][0]["sta3n"], "508", "{r}");
    assert_eq!(
        refresh("/api/patient/ICN100001/realtime/labs".into())
            .await
            .status(),
        404
    );
    assert_eq!(
        refresh("/api/patient/ICN999999/realtime/vitals".into())
            .await
            .status(),
        404
    );
    let forged = again
        .http
        .post(format!("{web}/api/patient/ICN100001/realtime/vitals"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "a refresh needs the CSRF token");
    // Signing out drops the cache.
    again
        .http
        .post(format!("{web}/logout"))
        .form(&[("csrf_token", again.csrf.as_str())])
        .send()
        .await
        .unwrap();
    let third = Browser::sign_in(&web, "clinician.alpha@va.gov").await;
    let after: serde_json::Value = third
        .page_json("/api/patient/ICN100001/realtime/vitals")
        .await;
    assert_eq!(after["realtime"], false, "the cache went with the session");

    // Another clinician has a context of their own.
    let bob = Browser::sign_in(&web, "clinician.bravo@va.gov").await;
    assert!(bob.page("/").await.contains("No patient selected"));
    running.stop().await.unwrap();
}
