//! Prometheus metrics, kept by the app itself (no global recorder, so
//! several vaults can run in one process, as they do in tests).

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency.
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub context_changes: AtomicU64,
    pub auth_failures: AtomicU64,
    pub stream_clients: AtomicU64,
    pub fhircast_subscriptions: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_string(), route.to_string(), status))
            .or_insert(0) += 1;
        let mut lat = self.latency.lock().expect("metrics lock");
        let h = lat.entry(route.to_string()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The text exposition format.
    pub fn render(&self, active_contexts: Option<usize>) -> String {
        let mut out = String::new();
        out.push_str("# HELP ccow_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE ccow_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "ccow_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        out.push_str("# HELP ccow_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE ccow_http_request_duration_seconds histogram\n");
        for (r, h) in self.latency.lock().expect("metrics lock").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "ccow_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "ccow_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "ccow_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ccow_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64, kind: &str| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        };
        counter(
            &mut out,
            "ccow_context_changes_total",
            "Context sets and clears made through this instance.",
            &self.context_changes,
            "counter",
        );
        counter(
            &mut out,
            "ccow_auth_failures_total",
            "Requests refused for a missing or invalid credential.",
            &self.auth_failures,
            "counter",
        );
        counter(
            &mut out,
            "ccow_stream_clients",
            "Connected SSE and WebSocket clients.",
            &self.stream_clients,
            "gauge",
        );
        counter(
            &mut out,
            "ccow_fhircast_subscriptions",
            "Live FHIRcast WebSocket subscriptions.",
            &self.fhircast_subscriptions,
            "gauge",
        );
        if let Some(n) = active_contexts {
            let _ = writeln!(
                out,
                "# HELP ccow_active_contexts Active patient contexts.\n# TYPE ccow_active_contexts gauge\nccow_active_contexts {n}"
            );
        }
        out
    }
}

/// Middleware recording every request by its route template (never the
/// raw path, which could carry identifiers).
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
