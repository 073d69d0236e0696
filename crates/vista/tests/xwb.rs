//! The XWB broker over TCP: a byte-level sign-on conversation, every RPC
//! compared with HTTP, refusals, timeouts, malformed frames, concurrency
//! and the client's multi-site fan-out.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vista_client::{ClientError, Credentials, Param, Transport, VistaClient};

fn creds() -> Credentials {
    Credentials {
        access: "CLINICIAN1".into(),
        verify: "MEDZ1DEV1!".into(),
    }
}

/// Sends raw bytes; returns the raw reply (through EOT).
async fn exchange(stream: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    stream.write_all(bytes).await.unwrap();
    read_reply(stream).await
}

async fn read_reply(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut b))
            .await
            .expect("reply in time")
            .unwrap();
        if n == 0 {
            return out;
        }
        out.push(b[0]);
        // Both packets are S-PACKs: the EOT that ends the reply comes after them.
        if b[0] == 4 && out.len() > 2 && packets_done(&out) {
            return out;
        }
    }
}

fn packets_done(buf: &[u8]) -> bool {
    let s = buf[0] as usize;
    buf.len() > s + 1 && buf.len() > s + 1 + buf[s + 1] as usize + 1
}

fn rpc(name: &str, params: Vec<Param>) -> Vec<u8> {
    xwb::encode_request(&xwb::Request::rpc(name, params)).unwrap()
}

async fn closed(stream: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn a_sign_on_conversation_byte_by_byte() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let mut t = TcpStream::connect(("127.0.0.1", s.xwb_port("200")))
        .await
        .unwrap();

    // TCPConnect as VistA's own test routine sends it.
    let connect = b"[XWB]10304\x0aTCPConnect50009127.0.0.1f00010f0008testhostf\x04";
    assert_eq!(exchange(&mut t, connect).await, b"\x00\x00accept\x04");

    let setup = exchange(&mut t, b"[XWB]11302\x010\x10XUS SIGNON SETUP54f\x04").await;
    assert!(
        setup.starts_with(b"\x00\x00VISTA-200\r\n"),
        "{:?}",
        String::from_utf8_lossy(&setup)
    );
    assert_eq!(setup.iter().filter(|b| **b == b'\n').count(), 8);

    let intro = exchange(&mut t, &rpc("XUS INTRO MSG", vec![])).await;
    assert!(
        intro.starts_with(b"\x00\x00") && intro.ends_with(b"\r\n\x04"),
        "{:?}",
        String::from_utf8_lossy(&intro)
    );
    assert!(String::from_utf8_lossy(&intro).contains("No real patient information"));

    // An RPC before sign-on, and a wrong pair.
    let r = exchange(
        &mut t,
        &rpc("ORWPT SELECT", vec![Param::Literal("100001".into())]),
    )
    .await;
    assert_eq!(r, b"\x0eNot signed on.\x00\x04");
    let bad = xwb::cipher::encrypt("CLINICIAN1;wrong");
    let r = exchange(&mut t, &rpc("XUS AV CODE", vec![Param::Literal(bad)])).await;
    assert_eq!(
        r,
        b"\x00\x000\r\n0\r\n0\r\nNot a valid ACCESS CODE/VERIFY CODE pair.\r\n0\r\n0\r\n\x04"
    );

    let good = xwb::cipher::encrypt("clinician1;MEDZ1DEV1!");
    let r = exchange(&mut t, &rpc("XUS AV CODE", vec![Param::Literal(good)])).await;
    assert!(
        r.starts_with(b"\x00\x0010958\r\n0\r\n0\r\n"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );

    let who = exchange(&mut t, &rpc("XUS GET USER INFO", vec![])).await;
    assert!(
        who.starts_with(b"\x00\x0010958\r\nCLINICIAN,ALPHA\r\n"),
        "{:?}",
        String::from_utf8_lossy(&who)
    );

    // Signed on, but no context yet.
    let r = exchange(
        &mut t,
        &rpc("ORWPT SELECT", vec![Param::Literal("100001".into())]),
    )
    .await;
    assert_eq!(
        &r[..],
        b"\x29Application context has not been created!\x00\x04"
    );
    let r = exchange(
        &mut t,
        &rpc(
            "XWB CREATE CONTEXT",
            vec![Param::Literal(xwb::cipher::encrypt("OR NOPE"))],
        ),
    )
    .await;
    assert_eq!(
        r,
        b"\x2fThe context 'OR NOPE' does not exist on server.\x00\x04"
    );
    let r = exchange(
        &mut t,
        &rpc(
            "XWB CREATE CONTEXT",
            vec![Param::Literal(xwb::cipher::encrypt("OR CPRS GUI CHART"))],
        ),
    )
    .await;
    assert_eq!(r, b"\x00\x001\x04");

    // Clinical RPCs, keep-alive, an unknown RPC, a bad parameter (M error).
    let r = exchange(
        &mut t,
        &rpc("ORWPT SELECT", vec![Param::Literal("100001".into())]),
    )
    .await;
    assert_eq!(
        r,
        b"\x00\x00DOOREE,ADAM^M^2800102^666126789^^^^A^0^^0^1^^ICN100001^46^^\x04"
    );
    let r = exchange(
        &mut t,
        &rpc("ORQQAL LIST", vec![Param::Literal("100099".into())]),
    )
    .await;
    assert_eq!(r, b"\x00\x00^No Allergy Assessment\r\n\x04");
    assert_eq!(
        exchange(&mut t, &rpc("XWB IM HERE", vec![])).await,
        b"\x00\x001\x04"
    );
    let r = exchange(&mut t, &rpc("ORWZ NOPE", vec![])).await;
    assert_eq!(
        r,
        b"\x39Remote Procedure 'ORWZ NOPE' doesn't exist on the server.\x00\x04"
    );
    let r = exchange(
        &mut t,
        &rpc(
            "ORWCV ADMISSIONS",
            vec![
                Param::Literal("ICN100001".into()),
                Param::Literal("x".into()),
            ],
        ),
    )
    .await;
    assert!(
        r.starts_with(b"\x00\x00\x18M  ERROR=Execution failed"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );
    // A list parameter is accepted where a literal is expected.
    let r = exchange(
        &mut t,
        &rpc(
            "ORWPT LIST ALL",
            vec![Param::Literal(String::new()), Param::Literal("1".into())],
        ),
    )
    .await;
    assert!(r.starts_with(b"\x00\x00100002^AMINOR,ALEXANDER J^^^^AMINOR,ALEXANDER J\r\n"));

    assert_eq!(
        exchange(&mut t, b"[XWB]10304\x05#BYE#\x04").await,
        b"\x00\x00#BYE#\x04"
    );
    assert!(closed(&mut t).await);
}

#[tokio::test]
async fn every_rpc_answers_the_same_over_xwb_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let xwb = common::xwb_client(&s, Duration::from_secs(5));
    let http = VistaClient::new(
        Transport::Http {
            base: s.base.clone(),
        },
        Duration::from_secs(5),
    );
    let lit = |v: &str| Param::Literal(v.to_string());
    let mut calls: Vec<(&str, Vec<Param>)> = Vec::new();
    for who in [
        "ICN100001",
        "ICN100010",
        "ICN100099",
        "ICN100050",
        "ICN999999",
        "100001",
        "100002",
        "100010",
        "100099",
        "999",
    ] {
        for name in [
            "ORWPT PTINQ",
            "GMV LATEST VM",
            "ORQQAL LIST",
            "ORWPS COVER",
            "ORQQPL LIST",
        ] {
            calls.push((name, vec![lit(who)]));
        }
        if who.starts_with("ICN") {
            calls.push(("ORWCV ADMISSIONS", vec![lit(who), lit("400")]));
        } else {
            for name in ["ORWPT SELECT", "ORWPT ADMITLST", "ORQQVI VITALS"] {
                calls.push((name, vec![lit(who)]));
            }
            calls.push(("ORQQPL LIST", vec![lit(who), lit("A")]));
        }
    }
    calls.push(("ORWPT LIST ALL", vec![lit(""), lit("1")]));
    for site in ["200", "500", "630"] {
        for (name, params) in &calls {
            let a = xwb.call(site, name, params).await.unwrap();
            let b = http.call(site, name, params).await.unwrap();
            assert_eq!(a, b, "{site} {name} {params:?}");
        }
    }
    // Unknown RPCs are refused on both.
    assert!(matches!(
        xwb.call("200", "NOPE", &[]).await,
        Err(ClientError::Refused { .. })
    ));
    assert!(matches!(
        http.call("200", "NOPE", &[]).await,
        Err(ClientError::Refused { .. })
    ));
    let m = reqwest::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("vista_rpc_calls_total{transport=\"xwb\",site=\"200\",rpc=\"ORWPT SELECT\",outcome=\"ok\"} 5"), "{m}");
}

#[tokio::test]
async fn malformed_frames_and_bad_clients_never_hurt_others() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let port = s.xwb_port("200");
    let client = common::xwb_client(&s, Duration::from_secs(5));
    // A healthy signed-on connection exists before the bad ones.
    assert_eq!(
        client.call("200", "XWB IM HERE", &[]).await.unwrap(),
        vec!["1"]
    );

    for garbage in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"[XWB]1130\x09\x04",
        b"[XWB]11302\x010\x04ORWPT5zz\x04",
        b"[XWB]11302\x010\x10XUS SIGNON SETUP50abcf\x04",
    ] {
        let mut t = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        t.write_all(garbage).await.unwrap();
        let r = read_reply(&mut t).await;
        assert!(
            r.starts_with(b"\x00") && String::from_utf8_lossy(&r).contains("Malformed XWB request"),
            "{garbage:?} → {:?}",
            String::from_utf8_lossy(&r)
        );
        assert!(closed(&mut t).await, "{garbage:?}");
    }
    // A frame that never ends is cut off at the size limit.
    let mut t = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut big = b"[XWB]11302\x010\x10XUS SIGNON SETUP50".to_vec();
    big.extend(std::iter::repeat_n(b'9', xwb::MAX_FRAME + 10));
    let _ = t.write_all(&big).await;
    let r = read_reply(&mut t).await;
    assert!(
        String::from_utf8_lossy(&r).contains("Malformed"),
        "{:?}",
        &r[..r.len().min(80)]
    );
    // A client that connects and sends half a frame, then stalls, holds no one up.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stalled.write_all(b"[XWB]1130").await.unwrap();

    assert_eq!(
        client
            .call("200", "ORWPT SELECT", &[Param::Literal("100001".into())])
            .await
            .unwrap()
            .len(),
        1
    );
    let m = reqwest::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("vista_xwb_frame_errors_total 5"), "{m}");
}

#[tokio::test]
async fn sign_on_limits_and_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let mut c = config(dir.path());
    c.signon_timeout = Duration::from_millis(300);
    c.idle_timeout = Duration::from_millis(600);
    let s = start_with(c).await;
    let port = s.xwb_port("500");

    // Three bad pairs and the broker hangs up.
    let mut t = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    exchange(
        &mut t,
        &xwb::encode_request(&xwb::Request::connect("127.0.0.1", "h")).unwrap(),
    )
    .await;
    for _ in 0..3 {
        let r = exchange(
            &mut t,
            &rpc(
                "XUS AV CODE",
                vec![Param::Literal(xwb::cipher::encrypt("X;Y"))],
            ),
        )
        .await;
        assert!(String::from_utf8_lossy(&r).contains("Not a valid ACCESS CODE"));
    }
    assert!(closed(&mut t).await);
    // Undecipherable input is just a failed attempt.
    let mut t = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    exchange(
        &mut t,
        &xwb::encode_request(&xwb::Request::connect("127.0.0.1", "h")).unwrap(),
    )
    .await;
    let r = exchange(
        &mut t,
        &rpc("XUS AV CODE", vec![Param::Literal("\x01".into())]),
    )
    .await;
    assert!(String::from_utf8_lossy(&r).contains("Not a valid ACCESS CODE"));

    // No sign-on within the sign-on timeout.
    let started = Instant::now();
    let mut t = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let r = read_reply(&mut t).await;
    assert_eq!(r, b"\x0fSign-on timeout\x00\x04");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(closed(&mut t).await);

    // Signed on: idle past the activity timeout closes, IM HERE keeps alive.
    let mut conn = vista_client::Connection::open("500", ([127, 0, 0, 1], port).into(), &creds())
        .await
        .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(conn.call("XWB IM HERE", &[]).await.unwrap(), vec!["1"]);
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    let err = conn.call("XWB IM HERE", &[]).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Refused { ref message, .. } if message == "Broker activity timeout"),
        "{err:?}"
    );
}

#[tokio::test]
async fn many_connections_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let port = s.xwb_port("200");
    let tasks = (0..64).map(|i| async move {
        let mut c = vista_client::Connection::open("200", ([127, 0, 0, 1], port).into(), &creds())
            .await
            .unwrap();
        for _ in 0..20 {
            let lines = c
                .call(
                    "ORWPT SELECT",
                    &[Param::Literal(
                        if i % 2 == 0 { "100001" } else { "100010" }.into(),
                    )],
                )
                .await
                .unwrap();
            assert_eq!(lines.len(), 1);
        }
        c.close().await.unwrap();
    });
    futures_util::future::join_all(tasks).await;
    let m = reqwest::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("rpc=\"ORWPT SELECT\",outcome=\"ok\"} 1280"),
        "{m}"
    );
}

#[tokio::test]
async fn fan_out_costs_the_slowest_site_and_names_failures() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let mut c = config(dir.path());
    c.latency = true;
    let site = |sta3n: &str, ms: u64| vista::config::SiteConfig {
        sta3n: sta3n.into(),
        name: format!("SITE {sta3n}"),
        description: String::new(),
        latency_ms: (ms, ms),
        xwb_port: None,
    };
    c.sites = Some(vec![site("200", 200), site("500", 400), site("630", 600)]);
    let s = start_with(c).await;
    let icn = [Param::Literal("ICN100001".into())];
    for transport in ["http", "xwb"] {
        let client = match transport {
            "http" => VistaClient::new(
                Transport::Http {
                    base: s.base.clone(),
                },
                Duration::from_secs(5),
            ),
            _ => common::xwb_client(&s, Duration::from_secs(5)),
        };
        // Warm the XWB connections (sign-on is not part of the measure).
        client
            .fan_out(&["200", "500", "630"], "XWB IM HERE", &[])
            .await;
        let t = Instant::now();
        let out = client
            .fan_out(&["200", "500", "630", "200"], "ORWPT PTINQ", &icn)
            .await;
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(600), "{transport}: {took:?}");
        assert!(
            took < Duration::from_millis(1000),
            "{transport}: parallel, not the 1.2 s sum: {took:?}"
        );
        assert_eq!(out.results.len(), 3, "{out:?}");
        assert_eq!(
            out.results["630"],
            vec!["-1^Patient ICN100001 not registered at site 630"]
        );
        assert!(out.failed.is_empty());

        // A per-site timeout: the slow site fails, the others answer.
        let hurried = match transport {
            "http" => VistaClient::new(
                Transport::Http {
                    base: s.base.clone(),
                },
                Duration::from_millis(500),
            ),
            _ => common::xwb_client(&s, Duration::from_millis(500)),
        };
        let out = hurried
            .fan_out(&["200", "630", "999"], "ORWPT PTINQ", &icn)
            .await;
        assert_eq!(
            out.results.keys().collect::<Vec<_>>(),
            vec!["200"],
            "{transport}"
        );
        assert_eq!(out.failed_sites(), vec!["630", "999"], "{transport}");
        assert!(
            matches!(out.failed["630"], ClientError::Timeout { .. }),
            "{transport}: {:?}",
            out.failed["630"]
        );
    }
    let _ = json!(null);
}
