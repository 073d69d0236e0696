//! The CCOW context vault: each user has one active patient, shared by every
//! application of theirs.
//!
//! - REST (`/ccow/active-patient`, `/ccow/history`, admin endpoints) with the
//!   v2.1 JSON shapes plus versions;
//! - push: Server-Sent Events and a WebSocket of the caller's changes, and
//!   a FHIRcast STU3 hub (`fhircast`) over the same contexts;
//! - authentication: JWT bearer tokens verified against OIDC issuers
//!   (`identity`), or med-z1 web sessions through the web app's
//!   introspection endpoint;
//! - storage behind `ccow_store::ContextStore` (memory, SQL, Redis);
//! - a background sweep of stale contexts.

pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod fhircast;
pub mod metrics;
pub mod openapi;
pub mod routes;

use anyhow::Context as _;
use auth::{Auth, Sessions};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use ccow_store::{AnyStore, ContextStore, Limits};
use config::Config;
use identity::{IssuerConfig, LocalIssuer, Verifier, VerifierOptions};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<AnyStore>,
    pub auth: Arc<Auth>,
    pub metrics: Arc<metrics::Metrics>,
    pub config: Arc<Config>,
    pub dev_issuer: Option<Arc<LocalIssuer>>,
    pub hub: Arc<fhircast::Hub>,
    pub started: Instant,
}

/// The development issuer of a configuration (its key is created on first
/// use), for the server and for `ccow dev-token`.
pub fn dev_issuer(config: &Config) -> anyhow::Result<Option<LocalIssuer>> {
    let Some(dev) = &config.identity.development else {
        return Ok(None);
    };
    if config.is_production() {
        anyhow::bail!(
            "the development issuer is refused when ENVIRONMENT=production: configure OIDC_ISSUER_URL"
        );
    }
    if let Some(parent) = dev.key_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(Some(
        LocalIssuer::load_or_create(&dev.key_path, &dev.issuer, true).with_context(|| {
            format!(
                "loading the development issuer key {}",
                dev.key_path.display()
            )
        })?,
    ))
}

/// Builds the vault: opens the store and sets up authentication.
pub async fn build(config: Config) -> anyhow::Result<AppState> {
    let store = AnyStore::open(
        &config.store_url,
        Limits {
            history_per_user: config.history_per_user,
        },
    )
    .await
    .with_context(|| {
        format!(
            "opening the context store {}",
            ccow_store::redact(&config.store_url)
        )
    })?;
    let dev = dev_issuer(&config)?.map(Arc::new);
    let mut issuers: Vec<IssuerConfig> = config
        .identity
        .oidc_issuers
        .iter()
        .map(|i| {
            IssuerConfig::new(i.clone())
                .with_audiences(config.identity.audiences.clone())
                .with_roles_claim(config.identity.roles_claim.clone())
        })
        .collect();
    if let Some(d) = &dev {
        tracing::warn!(
            issuer = d.issuer(),
            "DEVELOPMENT issuer enabled: tokens from `ccow dev-token` are accepted"
        );
        // The same audience and role rules as every other issuer.
        issuers.push(
            IssuerConfig::local(d)
                .with_audiences(config.identity.audiences.clone())
                .with_roles_claim(config.identity.roles_claim.clone()),
        );
    }
    anyhow::ensure!(
        !issuers.is_empty(),
        "no identity provider: set OIDC_ISSUER_URL or enable the development issuer"
    );
    let verifier = Verifier::new(issuers, VerifierOptions::default())
        .context("configuring token verification")?;
    let sessions = config.session_introspection.clone().map(|url| {
        Sessions::new(
            url,
            config.session_introspection_secret.clone(),
            config.session_cache_ttl,
        )
    });
    Ok(AppState {
        store: Arc::new(store),
        auth: Arc::new(Auth { verifier, sessions }),
        metrics: Arc::new(metrics::Metrics::default()),
        config: Arc::new(config),
        dev_issuer: dev,
        hub: Arc::default(),
        started: Instant::now(),
    })
}

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/", get(routes::root))
        .route("/health", get(routes::health))
        .route("/ccow/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .route(
            "/ccow/active-patient",
            get(routes::get_context)
                .put(routes::set_context)
                .delete(routes::clear_context),
        )
        .route("/ccow/history", get(routes::history))
        .route("/ccow/active-patients", get(routes::active_contexts))
        .route("/ccow/cleanup", post(routes::cleanup))
        .route("/ccow/events", get(events::sse))
        .route("/ccow/ws", get(events::ws))
        .route("/ccow/fhircast", get(fhircast::session))
        .route("/fhircast", post(fhircast::post))
        .route("/fhircast/{topic}", get(fhircast::current))
        .route("/fhircast/ws/{endpoint}", get(fhircast::socket))
        .route(
            "/.well-known/fhircast-configuration",
            get(fhircast::configuration),
        )
        .route(
            "/fhircast/.well-known/fhircast-configuration",
            get(fhircast::configuration),
        );
    if let Some(d) = &state.dev_issuer {
        app = app.nest_service("/dev-issuer", d.clone().router());
    }
    let app = app.merge(openapi::router());
    app.layer(axum::middleware::from_fn_with_state(
        state.metrics.clone(),
        metrics::track,
    ))
    .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
    .with_state(state)
}

/// Clears contexts not accessed within the TTL; returns how many.
pub async fn sweep(s: &AppState) -> Result<usize, ccow_store::Error> {
    let now = chrono::Utc::now();
    let ttl = chrono::Duration::from_std(s.config.context_ttl).unwrap_or(chrono::Duration::MAX);
    let cutoff = now
        .checked_sub_signed(ttl)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let removed = s.store.cleanup(cutoff, now).await?;
    if !removed.is_empty() {
        tracing::info!(count = removed.len(), "cleared stale contexts");
    }
    Ok(removed.len())
}

/// Serves until `shutdown` resolves; the stale-context sweep runs alongside.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let sweeper = {
        let s = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(s.config.cleanup_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                s.hub.sweep();
                if let Err(e) = sweep(&s).await {
                    tracing::warn!("stale-context sweep failed: {e}");
                }
            }
        })
    };
    let r = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    Ok(r?)
}
