//! The vault on its real stores: contexts and history survive a restart
//! (SQLite, PostgreSQL, Redis), and two vaults on one Redis share contexts
//! and notify each other's clients (SSE and FHIRcast).

mod common;

use ccow_client::{CcowClient, Credential};
use common::*;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

async fn survives_a_restart(dir: &Path, store: &str) {
    let v = start_in(dir, |c| c.store_url = store.to_string()).await;
    let alice = v.token("alice", &[]);
    put_patient(&v, &alice, "ICN100001").await;
    put_patient(&v, &alice, "1016V123456").await;
    put_patient(&v, &v.token("bob", &[]), "ICN100002").await;
    let r = http()
        .delete(v.url("/ccow/active-patient"))
        .bearer_auth(v.token("bob", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    v.stop().await;

    let v = start_in(dir, |c| c.store_url = store.to_string()).await;
    let alice = v.token("alice", &[]);
    let (s, b) = get_patient(&v, &alice).await;
    assert_eq!(
        (s, b["patient_id"].as_str(), b["version"].as_u64()),
        (StatusCode::OK, Some("1016V123456"), Some(2)),
        "{store}"
    );
    assert_eq!(
        get_patient(&v, &v.token("bob", &[])).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, h) = body(
        http()
            .get(v.url("/ccow/history?scope=global"))
            .bearer_auth(v.token("root", &["admin"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(h["total_count"], json!(4), "{h}");
    // Versions continue where they were, even after bob's clear.
    assert_eq!(
        put_patient(&v, &alice, "ICN100003").await["version"],
        json!(3)
    );
    assert_eq!(
        put_patient(&v, &v.token("bob", &[]), "ICN100004").await["version"],
        json!(3)
    );
    v.stop().await;
}

#[tokio::test]
async fn sqlite_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ccow.db").display());
    survives_a_restart(dir.path(), &url).await;
}

#[tokio::test]
async fn postgres_survives_a_restart() {
    let Some(cluster) = pgtest::Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    survives_a_restart(dir.path(), &cluster.create_database("vault")).await;
}

#[tokio::test]
async fn redis_survives_a_restart() {
    let Some(server) = redistest::Server::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    survives_a_restart(dir.path(), &server.url()).await;
}

async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("in time")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test]
async fn two_vaults_on_one_redis() {
    let Some(server) = redistest::Server::start() else {
        return;
    };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = start_in(d1.path(), |c| c.store_url = server.url()).await;
    let two = start_in(d2.path(), |c| c.store_url = server.url()).await;
    let (alice1, alice2) = (one.token("alice", &[]), two.token("alice", &[]));

    // Clients of vault two: SSE and a FHIRcast subscription.
    let sse = CcowClient::new(
        &two.base,
        Credential::Bearer(alice2.clone()),
        Duration::from_secs(5),
    )
    .unwrap();
    let mut events = sse.subscribe().await.unwrap();
    let (s, b) = body(
        http()
            .post(two.url("/fhircast"))
            .bearer_auth(&alice2)
            .form(&[
                ("hub.channel.type", "websocket"),
                ("hub.mode", "subscribe"),
                ("hub.topic", "alice"),
                ("hub.events", "Patient-open,Patient-close"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (mut ws, _) = tokio_tungstenite::connect_async(b["hub.channel.endpoint"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["hub.mode"], json!("subscribe"));

    // A change on vault one reaches vault two's clients and reads.
    let set = put_patient(&one, &alice1, "ICN100001").await;
    let e = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((e.patient_id.as_deref(), e.version), (Some("ICN100001"), 1));
    let f = next_json(&mut ws).await;
    assert_eq!(f["event"]["hub.event"], json!("Patient-open"));
    assert_eq!(f["id"], json!(e.event_id));
    assert_eq!(
        get_patient(&two, &alice2).await.1["version"],
        set["version"]
    );

    // A change on vault two reaches vault one's clients, last writer wins.
    let mut back = CcowClient::new(
        &one.base,
        Credential::Bearer(alice1.clone()),
        Duration::from_secs(5),
    )
    .unwrap()
    .subscribe()
    .await
    .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), back.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.version, 1, "starts with the current context");
    put_patient(&two, &alice2, "1016V123456").await;
    let e = tokio::time::timeout(Duration::from_secs(5), back.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.patient_id.as_deref(), e.version),
        (Some("1016V123456"), 2)
    );
    assert_eq!(
        get_patient(&one, &alice1).await.1["patient_id"],
        json!("1016V123456")
    );
    let r = http()
        .delete(one.url("/ccow/active-patient"))
        .bearer_auth(&alice1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let f = loop {
        let f = next_json(&mut ws).await;
        if f["event"]["hub.event"] == json!("Patient-close") {
            break f;
        }
    };
    assert_eq!(
        f["event"]["context"][0]["resource"]["id"],
        json!("1016V123456")
    );
    assert_eq!(get_patient(&two, &alice2).await.0, StatusCode::NOT_FOUND);
}
