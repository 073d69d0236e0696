//! Prometheus metrics kept by the app (no global recorder, so several
//! simulators can run in one process, as they do in tests).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// (transport, site, rpc, outcome).
type CallKey = (&'static str, String, String, &'static str);

#[derive(Default)]
pub struct Metrics {
    calls: Mutex<BTreeMap<CallKey, u64>>,
    /// transport → seconds (simulated latency included).
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    pub xwb_connections: AtomicU64,
    pub xwb_frame_errors: AtomicU64,
    pub xwb_signon_failures: AtomicU64,
}

impl Metrics {
    pub fn observe(
        &self,
        transport: &'static str,
        site: &str,
        rpc: &str,
        outcome: &'static str,
        seconds: f64,
    ) {
        // Unknown names are folded so a client cannot grow the map.
        let rpc = if crate::rpc::is_rpc(rpc) || rpc.starts_with("XUS ") || rpc.starts_with("XWB ") {
            rpc
        } else {
            "other"
        };
        *self
            .calls
            .lock()
            .expect("metrics lock")
            .entry((transport, site.to_string(), rpc.to_string(), outcome))
            .or_insert(0) += 1;
        let mut lat = self.latency.lock().expect("metrics lock");
        let h = lat.entry(transport).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP vista_rpc_calls_total RPC calls by transport, site, RPC and outcome.\n",
        );
        out.push_str("# TYPE vista_rpc_calls_total counter\n");
        for ((t, site, rpc, outcome), n) in self.calls.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "vista_rpc_calls_total{{transport=\"{t}\",site=\"{site}\",rpc=\"{rpc}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP vista_rpc_seconds RPC time including simulated latency.\n");
        out.push_str("# TYPE vista_rpc_seconds histogram\n");
        for (t, h) in self.latency.lock().expect("metrics lock").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "vista_rpc_seconds_bucket{{transport=\"{t}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "vista_rpc_seconds_bucket{{transport=\"{t}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "vista_rpc_seconds_sum{{transport=\"{t}\"}} {}", h.sum);
            let _ = writeln!(
                out,
                "vista_rpc_seconds_count{{transport=\"{t}\"}} {}",
                h.count
            );
        }
        for (name, help, v) in [
            (
                "vista_xwb_connections",
                "Open XWB connections.",
                &self.xwb_connections,
            ),
            (
                "vista_xwb_frame_errors_total",
                "Malformed XWB frames received.",
                &self.xwb_frame_errors,
            ),
            (
                "vista_xwb_signon_failures_total",
                "Refused XUS AV CODE attempts.",
                &self.xwb_signon_failures,
            ),
        ] {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}
