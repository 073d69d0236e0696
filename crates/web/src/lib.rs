//! `web`: the clinician UI on port 8000.
//!
//! Server-rendered with askama and HTMX; every asset is embedded
//! ([`assets`]). Data comes from the serving DB through the `store` crate
//! (SQLite by default, PostgreSQL by URL). The patient in view is the
//! user's CCOW context, shared with the user's other applications through
//! the vault ([`ccow`]); the app mints the bearer tokens it shows the vault
//! with its own embedded RS256 issuer, whose keys it publishes under
//! `/oidc`.
//!
//! Request flow: [`middleware::security_headers`] wraps everything;
//! protected routes pass [`middleware::require_session`] (session cookie,
//! sliding timeout, CSRF); [`middleware::render_errors`] renders every
//! [`error::WebError`] for whoever asked (page, HTMX fragment or JSON).

pub mod api;
pub mod assets;
pub mod auth;
pub mod ccow;
pub mod config;
pub mod domains;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod realtime;
pub mod seed;
pub mod view;
pub mod widgets;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};
use config::Config;
use identity::LocalIssuer;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use store::{ServingStore, Store};
use tokio::net::TcpListener;

/// Shared state of every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    issuer: Arc<LocalIssuer>,
    vault: Option<ccow::Vault>,
    vista: Option<realtime::VistaLink>,
    /// A bcrypt hash checked when the email is unknown, so that an unknown
    /// email takes as long to reject as a wrong password.
    dummy_hash: String,
    /// The last patient each user selected here: the fallback when the
    /// vault is unreachable.
    local_context: Mutex<HashMap<String, String>>,
    /// Set when the server shuts down: long-lived streams end.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn issuer(&self) -> &Arc<LocalIssuer> {
        &self.inner.issuer
    }
    pub fn vault(&self) -> Option<&ccow::Vault> {
        self.inner.vault.as_ref()
    }
    pub fn vista(&self) -> Option<&realtime::VistaLink> {
        self.inner.vista.as_ref()
    }
    pub(crate) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }
    /// Ends the event streams (the server is stopping).
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
    pub(crate) fn dummy_hash(&self) -> &str {
        &self.inner.dummy_hash
    }
    pub(crate) fn local_context(&self, user_id: &str) -> Option<String> {
        self.inner
            .local_context
            .lock()
            .expect("local context")
            .get(user_id)
            .cloned()
    }
    pub(crate) fn set_local_context(&self, user_id: &str, icn: Option<&str>) {
        let mut map = self.inner.local_context.lock().expect("local context");
        match icn {
            Some(icn) => map.insert(user_id.to_string(), icn.to_string()),
            None => map.remove(user_id),
        };
    }
}

/// Opens the serving DB (applying migrations), the embedded issuer and the
/// vault link.
pub async fn build(config: Config) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the serving database {}",
                Store::redact(&config.database_url)
            )
        })?;
    store
        .migrate()
        .await
        .context("migrating the serving database")?;
    build_with_store(config, store).await
}

/// As [`build`], with an already open store.
pub async fn build_with_store(config: Config, store: Store) -> anyhow::Result<AppState> {
    if config.is_production()
        && config.introspection_key.as_deref() == Some(config::DEV_INTROSPECTION_KEY)
    {
        anyhow::bail!("the development introspection key is refused in production");
    }
    let key_path = config.data_dir.join("web-issuer.pem");
    let issuer_url = config.issuer_url();
    let issuer = tokio::task::spawn_blocking(move || {
        LocalIssuer::load_or_create(&key_path, &issuer_url, false)
    })
    .await?
    .context("loading the embedded issuer's key")?;
    let issuer = Arc::new(issuer);
    let vault = match &config.ccow_url {
        Some(url) => Some(ccow::Vault::new(
            url,
            issuer.clone(),
            config.ccow_audience.clone(),
            config.ccow_timeout,
        )?),
        None => None,
    };
    let vista = config.vista_url.as_deref().map(|url| {
        realtime::VistaLink::new(url, config.vista_registry.clone(), config.vista_timeout)
    });
    let cost = config.login.bcrypt_cost;
    let dummy_hash =
        tokio::task::spawn_blocking(move || bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost))
            .await?
            .context("bcrypt")?;
    Ok(AppState {
        inner: Arc::new(Inner {
            config,
            store,
            issuer,
            vault,
            vista,
            dummy_hash,
            local_context: Mutex::new(HashMap::new()),
            shutdown: tokio::sync::watch::channel(false).0,
        }),
    })
}

/// Every route of the app.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/", get(pages::dashboard))
        .route("/dashboard", get(pages::dashboard))
        .route("/logout", post(auth::logout).get(auth::logout))
        .route("/api/patient/header", get(pages::header))
        .route("/api/patient/current", get(pages::header))
        .route("/api/patient/refresh", get(pages::header))
        .route("/api/patient/search", get(pages::search))
        .route("/api/patient/set-context", post(pages::set_context))
        .route("/api/patient/clear-context", post(pages::clear_context))
        .route("/api/patient/{icn}/flags/modal", get(pages::flags_modal))
        .route(
            "/api/patient/{icn}/flags/{assignment_id}/history",
            get(pages::flag_history),
        )
        .route("/api/ccow/events", get(ccow::events))
        .merge(widgets::routes())
        .merge(api::routes())
        .merge(domains::routes())
        .merge(realtime::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_session,
        ));
    // The issuer's discovery document and keys, for the vault.
    let issuer_routes = state.issuer().clone().router();
    Router::new()
        .merge(protected)
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/api/auth/introspect", post(auth::introspect))
        .route("/health", get(pages::health))
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .merge(openapi::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::render_errors,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config().max_body_bytes,
        ))
        .with_state(state)
        .nest_service("/oidc", issuer_routes)
        .layer(axum::middleware::from_fn(middleware::security_headers))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let shutdown = async move {
        shutdown.await;
        state.begin_shutdown();
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
