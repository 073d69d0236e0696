//! The user's CCOW context, kept in the vault through `ccow-client`.
//!
//! The app shows the vault a bearer token per user, minted by its embedded
//! issuer (the vault trusts the issuer's JWKS under `/oidc`). Reading the
//! context falls back to the last patient selected here when the vault is
//! unreachable, so the app stays usable; pages then say the context is not
//! shared.
//!
//! Browsers follow the vault through `/api/ccow/events`: a Server-Sent
//! Events relay of the vault's change stream for the signed-in user, so the
//! page updates as soon as another application changes the patient.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use axum::Extension;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use ccow_client::{CcowClient, ClientError, Credential};
use futures_util::StreamExt;
use identity::{LocalIssuer, MintRequest};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Application name recorded as `set_by` in the vault.
pub const APP_NAME: &str = "med-z1";

const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);
/// Minted tokens are reused while they have at least this long to live.
const TOKEN_REUSE: Duration = Duration::from_secs(8 * 60);

/// A link to the vault.
pub struct Vault {
    client: CcowClient,
    issuer: Arc<LocalIssuer>,
    audience: Option<String>,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Vault {
    pub fn new(
        url: &str,
        issuer: Arc<LocalIssuer>,
        audience: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<Vault> {
        Ok(Vault {
            client: CcowClient::new(url, Credential::Bearer(String::new()), timeout)?,
            issuer,
            audience,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// A bearer token for the user (cached for a few minutes).
    fn token(&self, user: &CurrentUser) -> Result<String> {
        let mut cache = self.tokens.lock().expect("token cache");
        if let Some((t, at)) = cache.get(&user.user_id)
            && at.elapsed() < TOKEN_REUSE
        {
            return Ok(t.clone());
        }
        let token = self
            .issuer
            .mint(&MintRequest {
                sub: user.user_id.clone(),
                name: Some(user.display_name.clone()),
                email: Some(user.email.clone()),
                roles: user.roles.clone(),
                azp: Some(APP_NAME.into()),
                audience: self.audience.clone(),
                ttl: TOKEN_TTL,
            })
            .map_err(|e| WebError::Internal(format!("minting a vault token: {e}")))?;
        cache.insert(user.user_id.clone(), (token.clone(), Instant::now()));
        Ok(token)
    }

    /// A client speaking for the user.
    pub fn client(&self, user: &CurrentUser) -> Result<CcowClient> {
        Ok(self
            .client
            .with_credential(Credential::Bearer(self.token(user)?)))
    }
}

/// The patient in view for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub icn: Option<String>,
    /// Whether the vault answered (the context is shared with the user's
    /// other applications).
    pub shared: bool,
}

fn warn_unreachable(what: &str, e: &ClientError) {
    // The error names the vault and a status, never the patient.
    tracing::warn!(error = %e, "CCOW vault: {what} failed");
}

/// The user's current patient: the vault's, or the local fallback.
pub async fn current(app: &AppState, user: &CurrentUser) -> Result<Context> {
    let local = || Context {
        icn: app.local_context(&user.user_id),
        shared: false,
    };
    let Some(vault) = app.vault() else {
        return Ok(local());
    };
    match vault.client(user)?.get().await {
        Ok(ctx) => {
            let icn = ctx.map(|c| c.patient_id);
            app.set_local_context(&user.user_id, icn.as_deref());
            Ok(Context { icn, shared: true })
        }
        Err(e) => {
            warn_unreachable("reading the context", &e);
            Ok(local())
        }
    }
}

/// Makes `icn` the user's patient; `Ok(false)` when only the local
/// fallback could be set.
pub async fn set(app: &AppState, user: &CurrentUser, icn: &str) -> Result<bool> {
    app.set_local_context(&user.user_id, Some(icn));
    let Some(vault) = app.vault() else {
        return Ok(false);
    };
    match vault.client(user)?.set(icn, APP_NAME).await {
        Ok(_) => Ok(true),
        Err(e) => {
            warn_unreachable("setting the context", &e);
            Ok(false)
        }
    }
}

/// Clears the user's patient.
pub async fn clear(app: &AppState, user: &CurrentUser) -> Result<bool> {
    app.set_local_context(&user.user_id, None);
    let Some(vault) = app.vault() else {
        return Ok(false);
    };
    match vault.client(user)?.clear(APP_NAME).await {
        Ok(_) => Ok(true),
        Err(e) => {
            warn_unreachable("clearing the context", &e);
            Ok(false)
        }
    }
}

/// Signing out keeps the vault's context (it is the user's, not this
/// session's) and drops this app's cached token.
pub fn forget_session(app: &AppState, user: &CurrentUser) {
    if let Some(v) = app.vault() {
        v.tokens.lock().expect("token cache").remove(&user.user_id);
    }
}

/// How often a relay checks that its session is still active.
const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// `GET /api/ccow/events`: the user's context changes as Server-Sent
/// Events (`event: context`, data `{"patient_id": …|null, "version": …,
/// "action": …}`). The first event is the current context. The stream ends
/// when the session ends or the app shuts down; browsers reconnect.
pub async fn events(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<axum::response::Response> {
    let vault = app
        .vault()
        .ok_or_else(|| WebError::Unavailable("no CCOW vault is configured".into()))?;
    let mut upstream = vault.client(&user)?.subscribe().await.map_err(|e| {
        warn_unreachable("subscribing", &e);
        WebError::Unavailable("the CCOW vault is unreachable".into())
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut shutdown = app.shutdown_signal();
    let session_id = user.session_id.clone();
    tokio::spawn(async move {
        let mut recheck = tokio::time::interval(SESSION_RECHECK);
        recheck.tick().await;
        loop {
            tokio::select! {
                ev = upstream.next() => {
                    let Some(Ok(ev)) = ev else { break };
                    let data = serde_json::json!({
                        "patient_id": ev.patient_id,
                        "version": ev.version,
                        "action": ev.action,
                    });
                    let event = Event::default().event("context").id(ev.version.to_string()).data(data.to_string());
                    if tx.send(Ok(event)).await.is_err() {
                        break;
                    }
                }
                _ = recheck.tick() => {
                    let active = matches!(
                        app.store().session(&session_id).await,
                        Ok(Some(s)) if s.is_active && s.expires_at > crate::auth::now()
                    );
                    if !active {
                        break;
                    }
                }
                _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
                _ = tx.closed() => break,
            }
        }
    });
    let stream =
        tokio_stream::wrappers::ReceiverStream::<std::result::Result<Event, Infallible>>::new(rx);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
