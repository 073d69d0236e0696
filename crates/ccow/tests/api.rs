//! The vault's REST API end to end, on port 0 with the development issuer
//! and the in-memory store: every endpoint and every error path.

mod common;

use ccow::config::Config;
use ccow_client::{Action, CcowClient, Credential};
use common::*;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

async fn start(tweak: impl FnOnce(&mut Config)) -> (Vault, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let v = start_in(dir.path(), tweak).await;
    (v, dir)
}

#[tokio::test]
async fn context_lifecycle_and_errors() {
    let (v, _dir) = start(|_| {}).await;
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

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn b64(v: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Signs `claims` with the vault's own development key (so only the
/// attribute under test is wrong).
fn forge(
    v: &Vault,
    alg: jsonwebtoken::Algorithm,
    kid: Option<&str>,
    claims: &Value,
    key: &jsonwebtoken::EncodingKey,
) -> String {
    let mut h = jsonwebtoken::Header::new(alg);
    h.kid = kid
        .map(str::to_string)
        .or_else(|| Some(v.issuer.kid().to_string()));
    jsonwebtoken::encode(&h, claims, key).unwrap()
}

#[tokio::test]
async fn token_attacks_get_401() {
    let (v, _dir) = start(|c| c.identity.audiences = vec!["ccow".into()]).await;
    let key = {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(&v.key_pem).unwrap();
        jsonwebtoken::EncodingKey::from_rsa_der(k.to_pkcs1_der().unwrap().as_bytes())
    };
    let iss = v.issuer.issuer().to_string();
    let good =
        json!({"iss": iss, "sub": "mallory", "aud": "ccow", "iat": now(), "exp": now() + 600});
    let url = v.url("/ccow/active-patient");
    let rs = jsonwebtoken::Algorithm::RS256;

    // The forging itself works: a correct token is accepted (no context: 404).
    let control = forge(&v, rs, None, &good, &key);
    let (s, b) = body(http().get(&url).bearer_auth(&control).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    let public_pem = {
        use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(&v.key_pem).unwrap();
        k.to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, val) in patch.as_object().unwrap() {
            if val.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = val.clone();
            }
        }
        c
    };
    let tampered = {
        let t = forge(&v, rs, None, &good, &key);
        let parts: Vec<&str> = t.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&with(json!({"sub": "root"}))),
            parts[2]
        )
    };
    let attacks: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&good)
            ),
        ),
        (
            "HS256 with the public key",
            forge(
                &v,
                jsonwebtoken::Algorithm::HS256,
                None,
                &good,
                &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
            ),
        ),
        (
            "unknown kid",
            forge(&v, rs, Some("not-a-known-kid"), &good, &key),
        ),
        (
            "wrong iss",
            forge(
                &v,
                rs,
                None,
                &with(json!({"iss": "https://evil.example/realms/va"})),
                &key,
            ),
        ),
        (
            "wrong aud",
            forge(&v, rs, None, &with(json!({"aud": "another-api"})), &key),
        ),
        (
            "expired",
            forge(
                &v,
                rs,
                None,
                &with(json!({"exp": now() - 3600, "iat": now() - 7200})),
                &key,
            ),
        ),
        (
            "not yet valid",
            forge(&v, rs, None, &with(json!({"nbf": now() + 3600})), &key),
        ),
        ("tampered payload", tampered),
        (
            "missing sub",
            forge(&v, rs, None, &with(json!({"sub": null})), &key),
        ),
        ("garbage", "a.b.c".to_string()),
    ];
    for (name, token) in &attacks {
        let r = http().get(&url).bearer_auth(token).send().await.unwrap();
        assert!(r.headers().contains_key("www-authenticate"), "{name}");
        let (s, b) = body(r).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{name}: {b}");
        assert!(!b["detail"].as_str().unwrap().is_empty(), "{name}");
        // A write with the same token changes nothing.
        let r = http()
            .put(&url)
            .bearer_auth(token)
            .json(&json!({"patient_id": "ICN100001"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    let (s, _) = body(http().get(&url).bearer_auth(&control).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no attack wrote a context");
    let (s, _) = body(
        http()
            .get(&url)
            .header("authorization", "Basic YTpi")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let m = http()
        .get(v.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let failures = (attacks.len() * 2 + 1).to_string();
    assert!(
        m.lines()
            .any(|l| l == format!("ccow_auth_failures_total {failures}")),
        "{m}"
    );
}

/// A stand-in for the web app's session introspection endpoint.
async fn introspection() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use axum::{Json, Router, http::HeaderMap, routing::post};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let app = Router::new().route(
        "/api/auth/introspect",
        post(move |h: HeaderMap, Json(b): Json<Value>| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if h.get("x-introspection-key").and_then(|v| v.to_str().ok()) != Some("shared-secret") {
                    return (StatusCode::FORBIDDEN, Json(json!({"detail": "bad key"})));
                }
                let body = match b["session_id"].as_str() {
                    Some("s-alice") => json!({"active": true, "user_id": "alice", "email": "alice@va.gov", "roles": []}),
                    Some("s-admin") => json!({"active": true, "user_id": "root", "roles": ["admin"]}),
                    _ => json!({"active": false}),
                };
                (StatusCode::OK, Json(body))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/auth/introspect", l.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(l, app).await.unwrap();
    });
    (url, calls, task)
}

#[tokio::test]
async fn web_sessions_through_introspection() {
    use std::sync::atomic::Ordering;
    let (iurl, calls, web) = introspection().await;
    let (v, _dir) = start(|c| {
        c.session_introspection = Some(iurl.clone());
        c.session_introspection_secret = Some("shared-secret".into());
    })
    .await;
    let url = v.url("/ccow/active-patient");

    // Header and cookie both work, and see the same context as alice's token.
    let r = http()
        .put(&url)
        .header("X-Session-ID", "s-alice")
        .json(&json!({"patient_id": "ICN100001", "set_by": "med-z1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, b) = body(
        http()
            .get(&url)
            .header("cookie", "theme=dark; session_id=s-alice")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["patient_id"].as_str(), b["set_by"].as_str()),
        (StatusCode::OK, Some("ICN100001"), Some("med-z1"))
    );
    let (_, b) = get_patient(&v, &v.token("alice", &[])).await;
    assert_eq!(b["patient_id"], json!("ICN100001"));
    // Cached: three requests, one introspection.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Roles come from the web app.
    let r = http()
        .get(v.url("/ccow/active-patients"))
        .header("X-Session-ID", "s-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http()
        .get(v.url("/ccow/active-patients"))
        .header("X-Session-ID", "s-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Unknown and malformed sessions.
    let (s, b) = body(
        http()
            .get(&url)
            .header("X-Session-ID", "s-expired")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Invalid or expired session"))
    );
    let (s, _) = body(
        http()
            .get(&url)
            .header("X-Session-ID", "x".repeat(300))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The web app down: 503, not 401 (the session may well be valid).
    web.abort();
    let _ = web.await;
    let (s, _) = body(
        http()
            .get(&url)
            .header("X-Session-ID", "s-other")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);

    // A vault without introspection refuses sessions clearly.
    let (plain, _d) = start(|_| {}).await;
    let (s, b) = body(
        http()
            .get(plain.url("/ccow/active-patient"))
            .header("X-Session-ID", "s-alice")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["detail"].as_str().unwrap().contains("not enabled"), "{b}");
}

#[tokio::test]
async fn introspection_with_the_wrong_key_is_unavailable() {
    let (iurl, _calls, _web) = introspection().await;
    let (v, _dir) = start(|c| {
        c.session_introspection = Some(iurl.clone());
        c.session_introspection_secret = Some("wrong".into());
    })
    .await;
    let r = http()
        .get(v.url("/ccow/active-patient"))
        .header("X-Session-ID", "s-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
}

async fn next_event(s: &mut ccow_client::EventStream) -> ccow_client::ContextEvent {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("event in time")
        .expect("stream open")
        .expect("event")
}

#[tokio::test]
async fn push_over_sse_and_websocket() {
    let (v, _dir) = start(|_| {}).await;
    let alice = v.token("alice", &[]);
    let bob = v.token("bob", &[]);
    put_patient(&v, &alice, "ICN100001").await;

    let client = |t: &str| {
        CcowClient::new(
            &v.base,
            Credential::Bearer(t.to_string()),
            Duration::from_secs(5),
        )
        .unwrap()
    };
    // A new subscriber starts with the current context.
    let mut a = client(&alice).subscribe().await.unwrap();
    let first = next_event(&mut a).await;
    assert_eq!(
        (first.action, first.patient_id.as_deref(), first.version),
        (Action::Set, Some("ICN100001"), 1)
    );
    let mut b = client(&bob).subscribe().await.unwrap();

    // Another application of alice's: its azp is the actor.
    let cprs = v.token_for_app("alice", "cprs");
    client(&cprs).set("1016V123456", "ignored").await.unwrap();
    let e = next_event(&mut a).await;
    assert_eq!(
        (e.actor.as_str(), e.patient_id.as_deref(), e.version),
        ("cprs", Some("1016V123456"), 2)
    );
    assert!(!e.event_id.is_empty());
    client(&alice).clear("med-z1").await.unwrap();
    let e = next_event(&mut a).await;
    assert_eq!(
        (e.action, e.patient_id.as_deref(), e.version),
        (Action::Clear, Some("1016V123456"), 3)
    );

    // Bob saw nothing of alice's: his first event is his own.
    put_patient(&v, &bob, "ICN100002").await;
    let e = next_event(&mut b).await;
    assert_eq!(
        (e.user_id.as_str(), e.patient_id.as_deref()),
        ("bob", Some("ICN100002"))
    );

    // The WebSocket: token in the query (browsers cannot set headers there).
    let ws_url = format!(
        "{}/ccow/ws?access_token={bob}",
        v.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let e: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    assert_eq!(
        (e["patient_id"].as_str(), e["version"].as_u64()),
        (Some("ICN100002"), Some(1))
    );
    put_patient(&v, &bob, "ICN100003").await;
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let e: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    assert_eq!(
        (e["patient_id"].as_str(), e["version"].as_u64()),
        (Some("ICN100003"), Some(2))
    );

    // The query token is for the streams only, and a bad one is refused.
    let (s, _) = body(
        http()
            .get(format!(
                "{}?access_token={bob}",
                v.url("/ccow/active-patient")
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let err = tokio_tungstenite::connect_async(format!(
        "{}/ccow/ws?access_token=forged",
        v.base.replace("http://", "ws://")
    ))
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("401"), "{err}");
    let r = http().get(v.url("/ccow/events")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cleanup_clears_only_stale_contexts() {
    let (v, _dir) = start(|c| c.context_ttl = Duration::from_millis(300)).await;
    let admin = v.token("root", &["admin"]);
    let (alice, bob) = (v.token("alice", &[]), v.token("bob", &[]));
    put_patient(&v, &alice, "ICN100001").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    put_patient(&v, &bob, "ICN100002").await;
    let (s, b) = body(
        http()
            .post(v.url("/ccow/cleanup"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["removed_count"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{b}"
    );
    assert_eq!(get_patient(&v, &alice).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_patient(&v, &bob).await.0, StatusCode::OK);
    let (_, h) = body(
        http()
            .get(v.url("/ccow/history"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            h["history"][0]["action"].as_str(),
            h["history"][0]["actor"].as_str()
        ),
        (Some("clear"), Some("system:cleanup"))
    );
    let (_, a) = body(
        http()
            .get(v.url("/ccow/active-patients"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a["total_count"], json!(1));
    assert_eq!(a["contexts"][0]["user_id"], json!("bob"));
}

#[tokio::test]
async fn the_background_sweep_runs_on_its_own() {
    let (v, _dir) = start(|c| {
        c.context_ttl = Duration::from_millis(200);
        c.cleanup_interval = Duration::from_millis(100);
    })
    .await;
    let alice = v.token("alice", &[]);
    put_patient(&v, &alice, "ICN100001").await;
    let mut cleared = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, h) = body(
            http()
                .get(v.url("/ccow/history"))
                .bearer_auth(&alice)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if h["total_count"] == json!(2) {
            assert_eq!(h["history"][0]["actor"], json!("system:cleanup"));
            cleared = true;
            break;
        }
    }
    assert!(cleared, "the sweep never cleared the stale context");
}

#[tokio::test]
async fn history_pages_and_bounds() {
    let (v, _dir) = start(|c| c.history_per_user = 5).await;
    let alice = v.token("alice", &[]);
    for i in 0..8 {
        put_patient(&v, &alice, &format!("ICN10000{i}")).await;
    }
    let page = |q: &str| {
        http()
            .get(format!("{}?{q}", v.url("/ccow/history")))
            .bearer_auth(&alice)
            .send()
    };
    let (_, b) = body(page("limit=2&offset=1").await.unwrap()).await;
    assert_eq!(
        (
            b["total_count"].as_u64(),
            b["offset"].as_u64(),
            b["limit"].as_u64()
        ),
        (Some(5), Some(1), Some(2))
    );
    let versions: Vec<u64> = b["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, vec![7, 6]);
    for q in ["limit=-1", "offset=x", "limit=501", "limit=1.5"] {
        let (s, b) = body(page(q).await.unwrap()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {b}");
    }
}

#[tokio::test]
async fn the_cli_mints_tokens_the_vault_accepts_and_refuses_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let v = start_in(dir.path(), |_| {}).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccow"))
        .args([
            "dev-token",
            "--sub",
            "carol",
            "--role",
            "admin",
            "--client",
            "cli-test",
        ])
        .env("CCOW_DATA_DIR", dir.path())
        .env("CCOW_PUBLIC_URL", &v.base)
        .env_remove("ENVIRONMENT")
        .env_remove("OIDC_ISSUER_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let b = put_patient(&v, &token, "ICN100009").await;
    assert_eq!(
        (b["user_id"].as_str(), b["set_by"].as_str()),
        (Some("carol"), Some("cli-test"))
    );
    let r = http()
        .get(v.url("/ccow/active-patients"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_ccow"))
        .args(["dev-token", "--sub", "carol"])
        .env("CCOW_DATA_DIR", dir.path())
        .env("ENVIRONMENT", "production")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ENVIRONMENT=production"));

    let bad_store = std::process::Command::new(env!("CARGO_BIN_EXE_ccow"))
        .env("CCOW_DATA_DIR", dir.path())
        .env("CCOW_ADDR", "127.0.0.1:0")
        .env("CCOW_STORE_URL", "mysql://user:hunter2@db/ccow")
        .output()
        .unwrap();
    assert!(!bad_store.status.success());
    let err = String::from_utf8_lossy(&bad_store.stderr);
    assert!(err.contains("unsupported CCOW store URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn openapi_and_swagger_ui_are_served_offline() {
    let (v, _dir) = start(|_| {}).await;
    let (s, doc) = body(http().get(v.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/", "get"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/ccow/active-patient", "get"),
        ("/ccow/active-patient", "put"),
        ("/ccow/active-patient", "delete"),
        ("/ccow/history", "get"),
        ("/ccow/active-patients", "get"),
        ("/ccow/cleanup", "post"),
        ("/ccow/events", "get"),
        ("/ccow/ws", "get"),
        ("/ccow/fhircast", "get"),
        ("/fhircast", "post"),
        ("/fhircast/{topic}", "get"),
        ("/fhircast/ws/{endpoint}", "get"),
        ("/.well-known/fhircast-configuration", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    let put = &paths["/ccow/active-patient"]["put"];
    assert!(put["responses"]["422"].is_object());
    assert!(doc["components"]["schemas"]["PatientContext"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // The UI and its assets come from the binary.
    let r = http().get(v.url("/docs/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("cdn.") && !html.contains("unpkg"),
        "no CDN: {html}"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let r = http().get(v.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        let text = r.text().await.unwrap();
        assert!(text.len() > 100, "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(text.contains("/openapi.json"), "{text}");
        }
    }
}
