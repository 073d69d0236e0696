//! RPC throughput and latency of the simulator, and the cost of a
//! multi-site fan-out. Prints its figures; asserts nothing about speed.
//!
//! ```sh
//! cargo bench -p vista --bench broker               # defaults: 5 s, 32 connections, 5 rounds
//! cargo bench -p vista --bench broker -- 10 64 5    # seconds, connections, fan-out rounds
//! ```
//!
//! 1. Latency off: ORWPT SELECT / GMV LATEST VM / ORQQAL LIST round-robin
//!    over N concurrent HTTP clients, then N signed-on XWB connections:
//!    calls/s, p50, p99, max.
//! 2. Fan-out: three sites with fixed 1 s, 2 s and 3 s latency (target: the
//!    call costs ≤ slowest + 50 ms), then the default random ranges
//!    (overhead = fan-out time − the slowest site's own call time).
//!
//! Client and server share this process and the machine's cores.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};
use vista_client::{Param, Transport, VistaClient};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

const CALLS: [(&str, &str); 3] = [
    ("ORWPT SELECT", "100001"),
    ("GMV LATEST VM", "ICN100001"),
    ("ORQQAL LIST", "100001"),
];

/// Runs `conns` concurrent callers for `secs`: (latencies sorted, errors, wall).
async fn load(
    client: Arc<VistaClient>,
    conns: usize,
    secs: u64,
) -> (Vec<Duration>, usize, Duration) {
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0;
                let mut k = i;
                while Instant::now() < until {
                    let (name, who) = CALLS[k % CALLS.len()];
                    k += 1;
                    let t = Instant::now();
                    match client
                        .call("200", name, &[Param::Literal(who.into())])
                        .await
                    {
                        Ok(_) => lat.push(t.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    let wall = started.elapsed();
    all.sort();
    (all, errors, wall)
}

fn client(s: &common::Sim, transport: &str) -> VistaClient {
    match transport {
        "http" => VistaClient::new(
            Transport::Http {
                base: s.base.clone(),
            },
            Duration::from_secs(10),
        ),
        _ => common::xwb_client(s, Duration::from_secs(10)),
    }
}

fn site(sta3n: &str, lat: (u64, u64)) -> vista::config::SiteConfig {
    vista::config::SiteConfig {
        sta3n: sta3n.into(),
        name: format!("SITE {sta3n}"),
        description: String::new(),
        latency_ms: lat,
        xwb_port: None,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let secs = args.first().copied().unwrap_or(5);
    let conns = args.get(1).copied().unwrap_or(32) as usize;
    let rounds = args.get(2).copied().unwrap_or(5) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    common::fixture(dir.path());

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("# VistA simulator benchmark ({cores} cores; client and server share them)");
    println!(
        "\n## Throughput, latency off ({secs} s, {conns} connections, ORWPT SELECT / GMV LATEST VM / ORQQAL LIST)\n"
    );
    println!("| transport | calls | calls/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    let s = common::start_with(common::config(dir.path())).await;
    for transport in ["http", "xwb"] {
        let c = Arc::new(client(&s, transport));
        // Warm up (XWB: every connection signs on here).
        let _ = load(c.clone(), conns, 1).await;
        let (lat, errors, wall) = load(c, conns, secs).await;
        println!(
            "| {transport} | {} | {:.0} | {} | {} | {} | {errors} |",
            lat.len(),
            lat.len() as f64 / wall.as_secs_f64(),
            ms(pct(&lat, 0.5)),
            ms(pct(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default())
        );
    }
    drop(s);

    for (label, sites) in [
        (
            "fixed 1 s / 2 s / 3 s",
            vec![
                site("200", (1000, 1000)),
                site("500", (2000, 2000)),
                site("630", (3000, 3000)),
            ],
        ),
        (
            "random 1–2 s / 1.5–2.5 s / 2–3 s (the defaults)",
            vec![
                site("200", (1000, 2000)),
                site("500", (1500, 2500)),
                site("630", (2000, 3000)),
            ],
        ),
    ] {
        let mut c = common::config(dir.path());
        c.latency = true;
        c.sites = Some(sites);
        let s = common::start_with(c).await;
        println!("\n## 3-site fan-out, {label}, {rounds} rounds (GMV LATEST VM by ICN)\n");
        println!("| transport | round | fan-out ms | slowest site ms | overhead ms |");
        println!("|---|---|---|---|---|");
        for transport in ["http", "xwb"] {
            let client = client(&s, transport);
            client
                .fan_out(&["200", "500", "630"], "XWB IM HERE", &[])
                .await;
            let p = [Param::Literal("ICN100001".into())];
            let mut worst = Duration::ZERO;
            for r in 0..rounds {
                // Each site's own call time, measured inside the fan-out.
                let timed = |site: &'static str| {
                    let (client, p) = (&client, &p);
                    async move {
                        let t = Instant::now();
                        let ok = client.call(site, "GMV LATEST VM", p).await.is_ok();
                        (t.elapsed(), ok)
                    }
                };
                let t = Instant::now();
                let (a, b, c) = tokio::join!(timed("200"), timed("500"), timed("630"));
                let total = t.elapsed();
                assert!(a.1 && b.1 && c.1, "a site failed");
                let slowest = a.0.max(b.0).max(c.0);
                let overhead = total.saturating_sub(slowest);
                worst = worst.max(overhead);
                println!(
                    "| {transport} | {} | {} | {} | {} |",
                    r + 1,
                    ms(total),
                    ms(slowest),
                    ms(overhead)
                );
            }
            let t = Instant::now();
            let out = client
                .fan_out(&["200", "500", "630"], "GMV LATEST VM", &p)
                .await;
            assert_eq!(out.results.len(), 3, "{out:?}");
            println!("| {transport} | fan_out() | {} | | |", ms(t.elapsed()));
            println!("| {transport} | worst overhead | | | {} |", ms(worst));
        }
    }
}
