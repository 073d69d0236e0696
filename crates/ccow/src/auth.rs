//! Who is calling: a JWT bearer (verified against the configured issuers'
//! JWKS), or a med-z1 web session (`X-Session-ID` header, then the
//! `session_id` cookie) checked with the web app's introspection endpoint.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use identity::Verifier;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    /// The client the token was issued to (`azp`): the trusted `set_by`.
    pub client: Option<String>,
    /// When the credential expires (Unix seconds), for bearer tokens.
    pub expires_at: Option<i64>,
}

impl Caller {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

pub const MISSING: &str = "Missing authentication: Authorization bearer token, X-Session-ID header or session_id cookie required";

/// The web app's answer about a session.
#[derive(Debug, Deserialize)]
struct Introspection {
    active: bool,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

/// Validates web sessions through the web app, caching valid ones briefly.
pub struct Sessions {
    url: String,
    secret: Option<String>,
    http: reqwest::Client,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Caller)>>,
}

const SESSION_CACHE_MAX: usize = 10_000;

impl Sessions {
    pub fn new(url: String, secret: Option<String>, ttl: Duration) -> Sessions {
        Sessions {
            url,
            secret,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("HTTP client"),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn check(&self, session_id: &str) -> Result<Caller, ApiError> {
        if session_id.is_empty() || session_id.len() > 256 {
            return Err(ApiError::Unauthorized("Invalid or expired session".into()));
        }
        if let Some((at, c)) = self.cache.lock().expect("cache").get(session_id)
            && at.elapsed() < self.ttl
        {
            return Ok(c.clone());
        }
        let mut req = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "session_id": session_id }));
        if let Some(s) = &self.secret {
            req = req.header("X-Introspection-Key", s);
        }
        let resp = req.send().await.map_err(|e| {
            tracing::warn!("session introspection unreachable: {e}");
            ApiError::Unavailable("cannot validate the session: the web app does not answer".into())
        })?;
        if !resp.status().is_success() {
            tracing::warn!(status = %resp.status(), "session introspection refused");
            return Err(ApiError::Unavailable(
                "cannot validate the session: introspection failed".into(),
            ));
        }
        let i: Introspection = resp.json().await.map_err(|_| {
            ApiError::Unavailable("cannot validate the session: bad introspection answer".into())
        })?;
        let caller = match (i.active, i.user_id) {
            (true, Some(user_id)) if !user_id.is_empty() => Caller {
                user_id,
                email: i.email,
                display_name: i.display_name,
                roles: i.roles,
                client: None,
                expires_at: None,
            },
            _ => {
                self.cache.lock().expect("cache").remove(session_id);
                return Err(ApiError::Unauthorized("Invalid or expired session".into()));
            }
        };
        let mut cache = self.cache.lock().expect("cache");
        if cache.len() >= SESSION_CACHE_MAX {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= SESSION_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(session_id.to_string(), (Instant::now(), caller.clone()));
        Ok(caller)
    }
}

pub struct Auth {
    pub verifier: Verifier,
    pub sessions: Option<Sessions>,
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `access_token` from the query string: only for the event streams, whose
/// browser clients (EventSource, WebSocket) cannot set headers.
fn query_token(parts: &Parts) -> Option<String> {
    if !parts.uri.path().starts_with("/ccow/events") && !parts.uri.path().starts_with("/ccow/ws") {
        return None;
    }
    parts.uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "access_token").then(|| v.to_string())
    })
}

impl Auth {
    pub async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let h = h
                .to_str()
                .map_err(|_| ApiError::Unauthorized("Malformed Authorization header".into()))?;
            let token = identity::bearer_token(Some(h))
                .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
            return self.bearer(token).await;
        }
        if let Some(t) = query_token(parts) {
            return self.bearer(&t).await;
        }
        let session = parts
            .headers
            .get("x-session-id")
            .and_then(|v| v.to_str().ok())
            .or_else(|| cookie(parts, "session_id"));
        match (session, &self.sessions) {
            (Some(id), Some(s)) => s.check(id.trim()).await,
            (Some(_), None) => Err(ApiError::Unauthorized(
                "Session authentication is not enabled on this vault; use a bearer token".into(),
            )),
            (None, _) => Err(ApiError::Unauthorized(MISSING.into())),
        }
    }

    async fn bearer(&self, token: &str) -> Result<Caller, ApiError> {
        let p = self.verifier.verify(token).await.map_err(|e| match e {
            identity::AuthError::KeysUnavailable(_) => ApiError::Unavailable(e.to_string()),
            e => ApiError::Unauthorized(e.to_string()),
        })?;
        Ok(Caller {
            user_id: p.sub,
            email: p.email,
            display_name: p.display_name,
            roles: p.roles,
            client: p.azp,
            expires_at: Some(p.expires_at),
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let r = state.auth.authenticate(parts).await;
        if matches!(r, Err(ApiError::Unauthorized(_))) {
            state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

/// An admin caller (the configured admin role); anyone else gets 403.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let c = Caller::from_request_parts(parts, state).await?;
        if c.has_role(&state.config.admin_role) {
            Ok(Admin(c))
        } else {
            Err(ApiError::Forbidden(format!(
                "This endpoint requires the `{}` role",
                state.config.admin_role
            )))
        }
    }
}
