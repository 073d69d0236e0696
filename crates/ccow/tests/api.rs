//! The vault's REST API end to end, on port 0 with the development issuer
//! and the in-memory store: every endpoint and every error path.

use ccow::config::Config;
use identity::MintRequest;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

struct Vault {
    base: String,
    issuer: identity::LocalIssuer,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Vault {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start(tweak: impl FnOnce(&mut Config)) -> Vault {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::development(dir.path());
    config.bind = "127.0.0.1:0".parse().unwrap();
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = ccow::dev_issuer(&config).unwrap().unwrap();
    let state = ccow::build(config).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ccow::serve(listener, state, async {
        let _ = rx.await;
    }));
    Vault {
        base,
        issuer,
        _dir: dir,
        stop: Some(tx),
    }
}

impl Vault {
    fn token(&self, sub: &str, roles: &[&str]) -> String {
        let mut r = MintRequest::new(sub);
        r.roles = roles.iter().map(|s| s.to_string()).collect();
        r.email = Some(format!("{sub}@va.gov"));
        r.ttl = Duration::from_secs(600);
        self.issuer.mint(&r).unwrap()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn body(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn context_lifecycle_and_errors() {
    let v = start(|_| {}).await;
    let alice = v.token("alice", &[]);
    let url = format!("{}/ccow/active-patient", v.base);

    // Service endpoints need no credential.
    let (s, b) = body(http().get(format!("{}/", v.base)).send().await.unwrap()).await;
    assert_eq!((s, b["service"].as_str()), (StatusCode::OK, Some("ccow")));
    let (s, b) = body(
        http()
            .get(format!("{}/health", v.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("healthy")));
    let (s, b) = body(
        http()
            .get(format!("{}/ready", v.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["development_issuer"], json!(true));

    // No credential, a bad one.
    let (s, b) = body(http().get(&url).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .starts_with("Missing authentication")
    );
    let (s, _) = body(
        http()
            .get(&url)
            .bearer_auth("not.a.jwt")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Nothing set yet.
    let (s, b) = body(http().get(&url).bearer_auth(&alice).send().await.unwrap()).await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("No active patient context for user")
        )
    );

    // Set, get, validation.
    let (s, b) = body(
        http()
            .put(&url)
            .bearer_auth(&alice)
            .json(&json!({"patient_id": "ICN100001", "set_by": "med-z1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["patient_id"].as_str(),
            b["version"].as_u64(),
            b["user_id"].as_str()
        ),
        (Some("ICN100001"), Some(1), Some("alice"))
    );
    let (s, b) = body(http().get(&url).bearer_auth(&alice).send().await.unwrap()).await;
    assert_eq!((s, b["set_by"].as_str()), (StatusCode::OK, Some("med-z1")));
    for bad in [
        json!({"patient_id": "12345"}),
        json!({"patient_id": ""}),
        json!({"set_by": "x"}),
        json!({"patient_id": 5}),
    ] {
        let (s, b) = body(
            http()
                .put(&url)
                .bearer_auth(&alice)
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {b}");
        assert!(b["detail"].is_string());
    }
    let (s, _) = body(
        http()
            .put(&url)
            .bearer_auth(&alice)
            .body("{\"patient_id\":\"ICN100001\"}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"patient_id": "ICN100001", "set_by": "x".repeat(64 * 1024)});
    let (s, _) = body(
        http()
            .put(&url)
            .bearer_auth(&alice)
            .json(&huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // The failed writes lost nothing.
    let (_, b) = body(http().get(&url).bearer_auth(&alice).send().await.unwrap()).await;
    assert_eq!(b["version"].as_u64(), Some(1));

    // Isolation: bob sees nothing of alice's.
    let bob = v.token("bob", &[]);
    let (s, _) = body(http().get(&url).bearer_auth(&bob).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Clear: 204, then 404.
    let r = http()
        .delete(&url)
        .bearer_auth(&alice)
        .json(&json!({"cleared_by": "med-z1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, b) = body(
        http()
            .delete(&url)
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("No active patient context to clear")
        )
    );

    // History: newest first, paged; bad scope 400; global needs admin.
    let h = format!("{}/ccow/history", v.base);
    let (s, b) = body(http().get(&h).bearer_auth(&alice).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["total_count"], json!(2));
    assert_eq!(b["history"][0]["action"], json!("clear"));
    assert_eq!(b["history"][0]["actor"], json!("med-z1"));
    assert_eq!(b["history"][1]["action"], json!("set"));
    let (s, b) = body(
        http()
            .get(format!("{h}?scope=nope"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("Invalid scope: nope. Must be 'user' or 'global'")
        )
    );
    let (s, _) = body(
        http()
            .get(format!("{h}?limit=0"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = body(
        http()
            .get(format!("{h}?scope=global"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let admin = v.token("root", &["admin"]);
    let (s, b) = body(
        http()
            .get(format!("{h}?scope=global"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["scope"].as_str()), (StatusCode::OK, Some("global")));

    // Admin endpoints: 403 for others.
    for (m, p) in [("GET", "/ccow/active-patients"), ("POST", "/ccow/cleanup")] {
        let u = format!("{}{p}", v.base);
        let req = |t: &str| http().request(m.parse().unwrap(), &u).bearer_auth(t);
        assert_eq!(
            req(&alice).send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{p}"
        );
        assert_eq!(
            req(&admin).send().await.unwrap().status(),
            StatusCode::OK,
            "{p}"
        );
    }

    // Metrics are exposed in the text format.
    let m = http()
        .get(format!("{}/metrics", v.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("ccow_http_requests_total{method=\"PUT\",route=\"/ccow/active-patient\",status=\"200\"} 1"), "{m}");
    assert!(!m.contains("ICN100001"));
}

#[tokio::test]
async fn production_refuses_the_development_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::development(dir.path());
    config.environment = "production".into();
    let err = format!("{:#}", ccow::build(config).await.err().unwrap());
    assert!(err.contains("refused when ENVIRONMENT=production"), "{err}");
}
