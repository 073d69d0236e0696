//! The VistA RPC Broker simulator: today's (T-0) data of several sites,
//! over HTTP (the original simulator's API) and over the real XWB broker
//! protocol (one TCP listener per site, as every VistA system is its own
//! server).
//!
//! - `data`: the mock generator's registry and site files, loaded once;
//! - `rpc`: the RPCs, shared by both transports (ICN-addressed med-z1
//!   layouts and DFN-addressed real CPRS layouts);
//! - `http`: the HTTP API; `openapi`: `/openapi.json` and `/docs`;
//! - `metrics`: Prometheus text at `/metrics`.

pub mod broker;
pub mod config;
pub mod data;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod rpc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use config::Config;
use data::World;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which transport a call came in on (metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Xwb,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Xwb => "xwb",
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub world: Arc<World>,
    pub config: Arc<Config>,
    pub metrics: Arc<metrics::Metrics>,
    /// The bound XWB port of each site.
    pub xwb_ports: Arc<Mutex<BTreeMap<String, u16>>>,
}

/// A random delay in `[min, max]` ms (no RNG crate: the std hasher is
/// randomly keyed).
fn jitter(min: u64, max: u64) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    if max <= min {
        return Duration::from_millis(min);
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    Duration::from_millis(min + h.finish() % (max - min + 1))
}

impl AppState {
    /// Today, for T-notation.
    pub fn today(&self) -> chrono::NaiveDate {
        self.config
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    /// The site's simulated latency for one call (zero when disabled).
    pub fn latency(&self, sta3n: &str) -> Duration {
        match self.world.sites.get(sta3n) {
            Some(s) if self.config.latency => jitter(s.config.latency_ms.0, s.config.latency_ms.1),
            _ => Duration::ZERO,
        }
    }

    /// Runs an RPC at a site after the site's latency; the same path for
    /// both transports.
    pub async fn run(
        &self,
        sta3n: &str,
        name: &str,
        args: &[rpc::Arg],
        transport: Transport,
    ) -> Result<rpc::Reply, rpc::CallError> {
        let started = Instant::now();
        let delay = self.latency(sta3n);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let Some(site) = self.world.sites.get(sta3n) else {
            return Err(rpc::CallError::Failed(format!("unknown site {sta3n}")));
        };
        let ctx = rpc::Ctx {
            world: &self.world,
            site,
            today: self.today(),
        };
        let r = rpc::call(&ctx, name, args);
        let outcome = match &r {
            Ok(_) => "ok",
            Err(rpc::CallError::Unknown { .. }) => "unknown_rpc",
            Err(rpc::CallError::Failed(_)) => "failed",
        };
        self.metrics.observe(
            transport.label(),
            sta3n,
            name,
            outcome,
            started.elapsed().as_secs_f64(),
        );
        r
    }
}

/// Loads the data and checks the configuration.
pub fn build(config: Config) -> anyhow::Result<AppState> {
    let sites = match &config.sites {
        Some(s) => s.clone(),
        None => data::sites_from_dir(&config.data_dir).with_context(|| {
            format!(
                "reading the site list from {} (generate it with `mock generate`)",
                config.data_dir.display()
            )
        })?,
    };
    let world = World::load(&config.data_dir, sites)
        .with_context(|| format!("loading VistA data from {}", config.data_dir.display()))?;
    for w in world.warnings.iter().take(20) {
        tracing::warn!("{w}");
    }
    if world.warnings.len() > 20 {
        tracing::warn!("… and {} more load warnings", world.warnings.len() - 20);
    }
    Ok(AppState {
        world: Arc::new(world),
        config: Arc::new(config),
        metrics: Arc::default(),
        xwb_ports: Arc::default(),
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(http::root))
        .route("/health", get(http::health))
        .route("/sites", get(http::sites))
        .route("/metrics", get(http::metrics))
        .route("/rpc/execute", post(http::execute))
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// Serves HTTP and the XWB listeners (from [`broker::bind`]) until
/// `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    xwb: Vec<(String, tokio::net::TcpListener)>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let brokers: Vec<_> = xwb
        .into_iter()
        .map(|(sta3n, l)| tokio::spawn(broker::serve_site(l, state.clone(), sta3n)))
        .collect();
    let r = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    for b in brokers {
        b.abort();
    }
    Ok(r?)
}
