//! The FHIRcast STU3 hub as a black box: subscriptions over HTTP, events
//! over WebSockets, following the conformance checklist (protocols §1.3).

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn vault(tweak: impl FnOnce(&mut ccow::config::Config)) -> (Vault, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let v = start_in(dir.path(), tweak).await;
    (v, dir)
}

/// Posts a form; returns the status and the body text.
async fn form(v: &Vault, token: &str, params: &[(&str, &str)]) -> (StatusCode, String) {
    let r = http()
        .post(v.url("/fhircast"))
        .bearer_auth(token)
        .form(params)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// Subscribes; returns the endpoint.
async fn subscribe(
    v: &Vault,
    token: &str,
    topic: &str,
    events: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut p = vec![
        ("hub.channel.type", "websocket"),
        ("hub.mode", "subscribe"),
        ("hub.topic", topic),
        ("hub.events", events),
    ];
    p.extend_from_slice(extra);
    let (s, b) = form(v, token, &p).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let b: Value = serde_json::from_str(&b).unwrap();
    b["hub.channel.endpoint"].as_str().unwrap().to_string()
}

async fn connect(endpoint: &str) -> Ws {
    tokio_tungstenite::connect_async(endpoint).await.unwrap().0
}

/// The next JSON message (5 s at most).
async fn next(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("frame");
        match m {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => continue,
        }
    }
}

/// Nothing arrives for `ms`.
async fn quiet(ws: &mut Ws, ms: u64) {
    if let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_millis(ms), ws.next()).await
    {
        panic!("unexpected message {t}");
    }
}

/// The socket closes (after any messages, which are returned).
async fn closes(ws: &mut Ws) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(t))) => seen.push(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return seen,
            Some(Ok(_)) => {}
        }
    }
}

async fn ack(ws: &mut Ws, event: &Value, status: u16) {
    let m = json!({"id": event["id"], "status": status}).to_string();
    ws.send(Message::Text(m.into())).await.unwrap();
}

fn open_request(topic: &str, id: &str, icn: &str) -> Value {
    json!({
        "timestamp": "2026-11-22T10:00:00.000Z",
        "id": id,
        "event": {
            "hub.topic": topic,
            "hub.event": "Patient-open",
            "context": [{"key": "patient", "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:2.16.840.1.113883.4.349", "value": icn}]
            }}]
        }
    })
}

async fn request(v: &Vault, token: &str, body: &Value) -> (StatusCode, String) {
    let r = http()
        .post(v.url("/fhircast"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

fn icn_of(e: &Value) -> &str {
    e["event"]["context"][0]["resource"]["identifier"][0]["value"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn discovery_and_session() {
    let (v, _d) = vault(|_| {}).await;
    for path in [
        "/.well-known/fhircast-configuration",
        "/fhircast/.well-known/fhircast-configuration",
    ] {
        let (s, b) = body(http().get(v.url(path)).send().await.unwrap()).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b["fhircastVersion"], json!("3.0.0"));
        assert_eq!(b["websocketSupport"], json!(true));
        assert_eq!(b["fhirVersion"], json!("R4"));
        assert_eq!(b["capabilities"]["supportsGetCurrentContext"], json!(true));
        assert!(
            b["eventsSupported"]
                .as_array()
                .unwrap()
                .contains(&json!("Patient-open"))
        );
    }
    let alice = v.token("alice", &[]);
    let (_, b) = body(
        http()
            .get(v.url("/ccow/fhircast"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["hub.topic"], json!("alice"));
    assert_eq!(b["hub.url"], json!(v.url("/fhircast")));
}

#[tokio::test]
async fn subscription_requests_are_validated() {
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token("alice", &[]);
    let base = [
        ("hub.channel.type", "websocket"),
        ("hub.mode", "subscribe"),
        ("hub.topic", "alice"),
        ("hub.events", "Patient-open"),
    ];
    let without = |k: &str| {
        base.iter()
            .copied()
            .filter(|(n, _)| *n != k)
            .collect::<Vec<_>>()
    };
    let with = |k: &str, val: &'static str| {
        base.iter()
            .map(|(n, x)| if *n == k { (*n, val) } else { (*n, *x) })
            .collect::<Vec<_>>()
    };
    let mut dup = base.to_vec();
    dup.push(("hub.events", "Patient-close"));
    type Params<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, Params<'_>, StatusCode)> = vec![
        (
            "no channel type",
            without("hub.channel.type"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "webhook",
            with("hub.channel.type", "rest-hook"),
            StatusCode::BAD_REQUEST,
        ),
        ("no mode", without("hub.mode"), StatusCode::BAD_REQUEST),
        (
            "bad mode",
            with("hub.mode", "publish"),
            StatusCode::BAD_REQUEST,
        ),
        ("no topic", without("hub.topic"), StatusCode::BAD_REQUEST),
        (
            "someone else's topic",
            with("hub.topic", "bob"),
            StatusCode::FORBIDDEN,
        ),
        ("no events", without("hub.events"), StatusCode::BAD_REQUEST),
        (
            "unsupported events only",
            with("hub.events", "ImagingStudy-open"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed event",
            with("hub.events", "Patient open!"),
            StatusCode::BAD_REQUEST,
        ),
        ("duplicate parameter", dup, StatusCode::BAD_REQUEST),
        (
            "zero lease",
            {
                let mut p = base.to_vec();
                p.push(("hub.lease_seconds", "0"));
                p
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad lease",
            {
                let mut p = base.to_vec();
                p.push(("hub.lease_seconds", "soon"));
                p
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "unsubscribe without endpoint",
            with("hub.mode", "unsubscribe"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, params, status) in cases {
        let (s, b) = form(&v, &alice, &params).await;
        assert_eq!(s, status, "{name}: {b}");
        assert!(
            !b.is_empty() && !b.starts_with('{'),
            "{name}: a plain-text reason, got {b}"
        );
    }
    // No credential; the wrong media type.
    let r = http()
        .post(v.url("/fhircast"))
        .form(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http()
        .post(v.url("/fhircast"))
        .bearer_auth(&alice)
        .body("hub.mode=subscribe")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Unknown endpoints.
    let r = http()
        .get(v.url("/fhircast/ws/abcdef"))
        .header("connection", "upgrade")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::SWITCHING_PROTOCOLS);
    let err = tokio_tungstenite::connect_async(
        v.url("/fhircast/ws/0123abcd").replace("http://", "ws://"),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn subscribe_confirm_replay_and_follow_the_rest_api() {
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token("alice", &[]);
    let set = put_patient(&v, &alice, "ICN100001").await;

    // Event names are case-insensitive; unsupported ones are not granted.
    let ep = subscribe(
        &v,
        &alice,
        "alice",
        "patient-OPEN,PATIENT-close,ImagingStudy-open",
        &[("hub.lease_seconds", "600"), ("subscriber.name", "viewer")],
    )
    .await;
    assert!(ep.starts_with(&v.base.replace("http://", "ws://")), "{ep}");
    let id = ep.rsplit('/').next().unwrap();
    assert!(
        id.len() >= 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{ep}"
    );
    assert_ne!(
        ep,
        subscribe(&v, &alice, "alice", "Patient-open", &[]).await,
        "endpoints are unique"
    );

    let mut ws = connect(&ep).await;
    let c = next(&mut ws).await;
    assert_eq!(c["hub.mode"], json!("subscribe"));
    assert_eq!(c["hub.topic"], json!("alice"));
    assert_eq!(c["hub.events"], json!("Patient-open,Patient-close"));
    let lease = c["hub.lease_seconds"].as_u64().unwrap();
    assert!((590..=600).contains(&lease), "{c}");
    // Replay of the open context, with its original time.
    let r = next(&mut ws).await;
    assert_eq!(r["event"]["hub.event"], json!("Patient-open"));
    assert_eq!(r["event"]["hub.topic"], json!("alice"));
    assert_eq!(icn_of(&r), "ICN100001");
    assert_eq!(r["event"]["context"][0]["key"], json!("patient"));
    assert_eq!(
        r["event"]["context"][0]["resource"]["resourceType"],
        json!("Patient")
    );
    let replay_at = chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap();
    let set_at = chrono::DateTime::parse_from_rfc3339(set["set_at"].as_str().unwrap()).unwrap();
    assert!(
        (replay_at - set_at).num_milliseconds().abs() <= 1,
        "{r} vs {set}"
    );
    ack(&mut ws, &r, 200).await;

    // A REST change is a Patient-open; a REST clear a Patient-close of that patient.
    put_patient(&v, &alice, "1016V123456").await;
    let e = next(&mut ws).await;
    assert_eq!(
        (e["event"]["hub.event"].as_str(), icn_of(&e)),
        (Some("Patient-open"), "1016V123456")
    );
    assert!(!e["id"].as_str().unwrap().is_empty());
    ack(&mut ws, &e, 200).await;
    let r = http()
        .delete(v.url("/ccow/active-patient"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let e = next(&mut ws).await;
    assert_eq!(
        (e["event"]["hub.event"].as_str(), icn_of(&e)),
        (Some("Patient-close"), "1016V123456")
    );
    ack(&mut ws, &e, 200).await;

    // Topic isolation: bob's change never reaches alice's socket.
    let bob = v.token("bob", &[]);
    put_patient(&v, &bob, "ICN100002").await;
    quiet(&mut ws, 300).await;
}

#[tokio::test]
async fn hub_requests_change_the_shared_context() {
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token_for_app("alice", "pacs-viewer");
    let ep = subscribe(&v, &alice, "alice", "Patient-open,Patient-close", &[]).await;
    let mut ws = connect(&ep).await;
    next(&mut ws).await; // confirmation; nothing open, so no replay
    quiet(&mut ws, 200).await;
    let (_, cur) = body(
        http()
            .get(v.url("/fhircast/alice"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cur, json!({"context.type": "", "context": []}));

    // Open through the hub: broadcast to the requester with the same id,
    // and visible to the REST API.
    let (s, b) = request(&v, &alice, &open_request("alice", "req-0001", "ICN100001")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let e = next(&mut ws).await;
    assert_eq!(
        (
            e["id"].as_str(),
            e["event"]["hub.event"].as_str(),
            icn_of(&e)
        ),
        (Some("req-0001"), Some("Patient-open"), "ICN100001")
    );
    ack(&mut ws, &e, 200).await;
    let (_, rest) = get_patient(&v, &alice).await;
    assert_eq!(
        (rest["patient_id"].as_str(), rest["set_by"].as_str()),
        (Some("ICN100001"), Some("pacs-viewer"))
    );
    let (_, cur) = body(
        http()
            .get(v.url("/fhircast/alice"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cur["context.type"], json!("Patient"));
    assert_eq!(
        cur["context.versionId"],
        json!(rest["version"].as_u64().unwrap().to_string())
    );
    assert_eq!(cur["context"][0]["resource"]["id"], json!("ICN100001"));
    let (_, h) = body(
        http()
            .get(v.url("/ccow/history"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(h["history"][0]["event_id"], json!("req-0001"));

    // Bad requests lose nothing.
    let mut wrong_topic = open_request("bob", "req-2", "ICN100002");
    let mut no_id = open_request("alice", "", "ICN100002");
    no_id.as_object_mut().unwrap().remove("id");
    let mut bad_time = open_request("alice", "req-3", "ICN100002");
    bad_time["timestamp"] = json!("yesterday");
    let mut unsupported = open_request("alice", "req-4", "ICN100002");
    unsupported["event"]["hub.event"] = json!("ImagingStudy-open");
    let mut no_patient = open_request("alice", "req-5", "ICN100002");
    no_patient["event"]["context"] =
        json!([{"key": "encounter", "resource": {"resourceType": "Encounter"}}]);
    let close_other = json!({"timestamp": "2026-11-22T10:00:00Z", "id": "req-6", "event": {"hub.topic": "alice", "hub.event": "Patient-close",
        "context": [{"key": "patient", "resource": {"resourceType": "Patient", "id": "ICN100099"}}]}});
    wrong_topic["id"] = json!("req-2");
    for (name, req, status) in [
        ("someone else's topic", wrong_topic, StatusCode::FORBIDDEN),
        ("no id", no_id, StatusCode::BAD_REQUEST),
        ("bad timestamp", bad_time, StatusCode::BAD_REQUEST),
        ("unsupported event", unsupported, StatusCode::BAD_REQUEST),
        ("no patient", no_patient, StatusCode::BAD_REQUEST),
        (
            "not an ICN",
            open_request("alice", "req-7", "12345"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("closing another patient", close_other, StatusCode::CONFLICT),
    ] {
        let (s, b) = request(&v, &alice, &req).await;
        assert_eq!(s, status, "{name}: {b}");
    }
    let r = http()
        .post(v.url("/fhircast"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    quiet(&mut ws, 200).await;
    assert_eq!(
        get_patient(&v, &alice).await.1["patient_id"],
        json!("ICN100001")
    );

    // Close through the hub: REST sees no context, subscribers a close.
    let mut close = open_request("alice", "req-0008", "ICN100001");
    close["event"]["hub.event"] = json!("Patient-close");
    let (s, b) = request(&v, &alice, &close).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let e = next(&mut ws).await;
    assert_eq!(
        (e["id"].as_str(), e["event"]["hub.event"].as_str()),
        (Some("req-0008"), Some("Patient-close"))
    );
    assert_eq!(get_patient(&v, &alice).await.0, StatusCode::NOT_FOUND);
    let (_, cur) = body(
        http()
            .get(v.url("/fhircast/alice"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cur["context.type"], json!(""));
    let r = http()
        .get(v.url("/fhircast/bob"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn resubscribe_unsubscribe_and_one_socket_per_endpoint() {
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token("alice", &[]);
    let ep = subscribe(&v, &alice, "alice", "Patient-open,Patient-close", &[]).await;
    let mut ws = connect(&ep).await;
    next(&mut ws).await;
    let err = tokio_tungstenite::connect_async(&ep).await.err().unwrap();
    assert!(err.to_string().contains("409"), "{err}");
    let metrics = |v: &Vault| {
        let url = v.url("/metrics");
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(metrics(&v).await.contains("ccow_fhircast_subscriptions 1"));

    // Re-subscribing on the endpoint replaces the events.
    subscribe(
        &v,
        &alice,
        "alice",
        "Patient-close",
        &[("hub.channel.endpoint", &ep)],
    )
    .await;
    let c = next(&mut ws).await;
    assert_eq!(
        (c["hub.mode"].as_str(), c["hub.events"].as_str()),
        (Some("subscribe"), Some("Patient-close"))
    );
    put_patient(&v, &alice, "ICN100001").await;
    quiet(&mut ws, 300).await;
    http()
        .delete(v.url("/ccow/active-patient"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let e = next(&mut ws).await;
    assert_eq!(e["event"]["hub.event"], json!("Patient-close"));
    ack(&mut ws, &e, 200).await;

    // Bob cannot unsubscribe alice's endpoint.
    let bob = v.token("bob", &[]);
    let unsub = |topic: &'static str| {
        vec![
            ("hub.channel.type", "websocket"),
            ("hub.mode", "unsubscribe"),
            ("hub.topic", topic),
            ("hub.channel.endpoint", ep.as_str()),
        ]
    };
    let (s, _) = form(&v, &bob, &unsub("alice")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = form(&v, &bob, &unsub("bob")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Alice can: 202 with the endpoint, then a denial and the close.
    let (s, b) = form(&v, &alice, &unsub("alice")).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["hub.channel.endpoint"],
        json!(ep)
    );
    let rest = closes(&mut ws).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["hub.mode"], json!("denied"));
    assert_eq!(rest[0]["hub.topic"], json!("alice"));
    assert!(rest[0]["hub.reason"].is_string());
    let (s, _) = form(&v, &alice, &unsub("alice")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "already gone");
    assert!(metrics(&v).await.contains("ccow_fhircast_subscriptions 0"));
}

#[tokio::test]
async fn leases_end_subscriptions_and_never_outlive_the_token() {
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token("alice", &[]);
    let ep = subscribe(
        &v,
        &alice,
        "alice",
        "Patient-open",
        &[("hub.lease_seconds", "1")],
    )
    .await;
    let mut ws = connect(&ep).await;
    assert_eq!(next(&mut ws).await["hub.lease_seconds"], json!(1));
    let rest = closes(&mut ws).await;
    assert_eq!(
        rest.last().unwrap()["hub.mode"],
        json!("denied"),
        "{rest:?}"
    );
    assert_eq!(rest.last().unwrap()["hub.reason"], json!("lease expired"));

    // A 2-minute token gets at most a 2-minute lease, whatever is asked.
    let mut r = identity::MintRequest::new("alice");
    r.ttl = Duration::from_secs(120);
    let short = v.issuer.mint(&r).unwrap();
    let ep = subscribe(
        &v,
        &short,
        "alice",
        "Patient-open",
        &[("hub.lease_seconds", "86400")],
    )
    .await;
    let mut ws = connect(&ep).await;
    let lease = next(&mut ws).await["hub.lease_seconds"].as_u64().unwrap();
    assert!(lease <= 120, "{lease}");
}

#[tokio::test]
async fn sync_errors_reach_sync_error_subscribers() {
    let (v, _d) = vault(|c| c.fhircast_ack_timeout = Duration::from_millis(700)).await;
    let alice = v.token("alice", &[]);
    let watcher = subscribe(&v, &alice, "alice", "Patient-open,SyncError", &[]).await;
    let refuser = subscribe(
        &v,
        &alice,
        "alice",
        "Patient-open",
        &[("subscriber.name", "refusing-app")],
    )
    .await;
    let mut w = connect(&watcher).await;
    let mut r = connect(&refuser).await;
    next(&mut w).await;
    next(&mut r).await;

    // A refusal (409) raises a SyncError naming the event.
    put_patient(&v, &alice, "ICN100001").await;
    let e = next(&mut r).await;
    ack(&mut r, &e, 409).await;
    let opened = next(&mut w).await;
    ack(&mut w, &opened, 200).await;
    let s = next(&mut w).await;
    assert_eq!(s["event"]["hub.event"], json!("SyncError"));
    let oo = &s["event"]["context"][0];
    assert_eq!(
        (oo["key"].as_str(), oo["resource"]["resourceType"].as_str()),
        (Some("operationoutcome"), Some("OperationOutcome"))
    );
    let codes: Vec<&str> = oo["resource"]["issue"][0]["details"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&e["id"].as_str().unwrap()) && codes.contains(&"refusing-app"),
        "{s}"
    );

    // Silence past the timeout: a SyncError, and the silent one is let go.
    put_patient(&v, &alice, "ICN100002").await;
    let opened = next(&mut w).await;
    ack(&mut w, &opened, 200).await;
    let _unanswered = next(&mut r).await;
    let s = next(&mut w).await;
    assert_eq!(s["event"]["hub.event"], json!("SyncError"), "{s}");
    let rest = closes(&mut r).await;
    assert_eq!(
        rest.last().unwrap()["hub.mode"],
        json!("denied"),
        "{rest:?}"
    );
    // The watcher, which answered, stays subscribed.
    put_patient(&v, &alice, "ICN100003").await;
    assert_eq!(icn_of(&next(&mut w).await), "ICN100003");
}

#[tokio::test]
async fn a_client_that_hangs_up_during_the_upgrade_ends_its_subscription() {
    use tokio::io::AsyncWriteExt;
    let (v, _d) = vault(|_| {}).await;
    let alice = v.token("alice", &[]);
    let ep = subscribe(&v, &alice, "alice", "Patient-open", &[]).await;
    // A client that asks for the upgrade and hangs up before it completes.
    let path = ep
        .split_once("/fhircast/")
        .map(|(_, p)| format!("/fhircast/{p}"))
        .unwrap();
    let addr = v.base.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    raw.write_all(req.as_bytes()).await.unwrap();
    drop(raw);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The socket closed, so the subscription ended: the endpoint is gone
    // (404), never stuck as "already open" (409), and nothing leaks.
    let err = tokio_tungstenite::connect_async(&ep).await.err().unwrap();
    assert!(err.to_string().contains("404"), "{err}");
    let m = http()
        .get(v.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("ccow_fhircast_subscriptions 0"), "{m}");
    // A new subscription works as usual.
    let ep = subscribe(&v, &alice, "alice", "Patient-open", &[]).await;
    let mut ws = connect(&ep).await;
    assert_eq!(next(&mut ws).await["hub.mode"], json!("subscribe"));
    put_patient(&v, &alice, "ICN100001").await;
    assert_eq!(icn_of(&next(&mut ws).await), "ICN100001");
}
