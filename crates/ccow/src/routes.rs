//! The REST API: service endpoints, the context, history and admin.

use crate::AppState;
use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ccow_client::*;
use ccow_store::{ClearContext, ContextStore, HistoryQuery, NewContext};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

pub const MAX_SET_BY: usize = 64;
pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 500;

#[utoipa::path(get, path = "/", tag = "service", responses((status = 200, description = "Service name and version")))]
pub async fn root() -> Json<Value> {
    Json(json!({
        "service": "ccow",
        "message": "CCOW Context Vault is running",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "Alive")))]
pub async fn health(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "healthy",
        "service": "ccow-vault",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": Utc::now(),
        "uptime_seconds": s.started.elapsed().as_secs(),
    }))
}

/// Readiness: the store answers and every issuer's keys load.
#[utoipa::path(get, path = "/ready", tag = "service", responses(
    (status = 200, description = "Store and every issuer's keys are available"),
    (status = 503, description = "Degraded: the body says which check failed"),
))]
pub async fn ready(State(s): State<AppState>) -> impl IntoResponse {
    let storage = match s.store.ping().await {
        Ok(()) => json!({"status": "ok", "backend": s.store.backend()}),
        Err(e) => {
            tracing::warn!("store not ready: {e}");
            json!({"status": "error", "backend": s.store.backend(), "error": "store does not answer"})
        }
    };
    let mut ok = storage["status"] == "ok";
    let mut issuers = serde_json::Map::new();
    for (issuer, r) in s.auth.verifier.check_ready().await {
        let v = match r {
            Ok(keys) => json!({"status": "ok", "keys": keys}),
            Err(e) => {
                ok = false;
                json!({"status": "error", "error": e})
            }
        };
        issuers.insert(issuer, v);
    }
    let body = json!({
        "status": if ok { "ready" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": Utc::now(),
        "development_issuer": s.dev_issuer.is_some(),
        "checks": { "storage": storage, "jwks": issuers },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let active = s.store.active().await.ok().map(|v| v.len());
    s.metrics
        .fhircast_subscriptions
        .store(s.hub.len() as u64, Ordering::Relaxed);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        s.metrics.render(active),
    )
}

/// The caller's active patient.
#[utoipa::path(get, path = "/ccow/active-patient", tag = "context", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), responses(
    (status = 200, body = PatientContext),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 404, description = "No active patient context for user", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn get_context(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<PatientContext>, ApiError> {
    s.store
        .get(&caller.user_id, Utc::now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("No active patient context for user".into()))
}

/// Maps axum's JSON rejections onto the vault's errors.
pub fn json_error(r: JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(0),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("Expected Content-Type: application/json".into())
        }
        _ => ApiError::Unprocessable(format!("Invalid request body: {}", r.body_text())),
    }
}

/// Sets the caller's active patient (last writer wins). With a bearer
/// token, the token's `azp` is recorded as `set_by`.
#[utoipa::path(put, path = "/ccow/active-patient", tag = "context", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), request_body = SetContextRequest, responses(
    (status = 200, body = PatientContext),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 413, description = "Body too large", body = ErrorBody),
    (status = 415, description = "Not JSON", body = ErrorBody),
    (status = 422, description = "`patient_id` is not an ICN, or the body is malformed", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn set_context(
    State(s): State<AppState>,
    caller: Caller,
    body: Result<Json<SetContextRequest>, JsonRejection>,
) -> Result<Json<PatientContext>, ApiError> {
    let Json(req) = body.map_err(|r| match json_error(r) {
        ApiError::PayloadTooLarge(_) => ApiError::PayloadTooLarge(s.config.max_body_bytes),
        e => e,
    })?;
    let icn = req
        .patient_id
        .trim()
        .parse::<domain::ids::Icn>()
        .map_err(|e| ApiError::Unprocessable(format!("patient_id: {e}")))?;
    // A token's `azp` names the application authoritatively; the body's
    // `set_by` is only a hint for session callers.
    let set_by = caller.client.clone().unwrap_or(req.set_by);
    let set_by = set_by.trim();
    if set_by.is_empty() || set_by.len() > MAX_SET_BY {
        return Err(ApiError::Unprocessable(format!(
            "set_by: must be 1–{MAX_SET_BY} characters"
        )));
    }
    let ctx = s
        .store
        .set(NewContext {
            user_id: &caller.user_id,
            email: caller.email.as_deref(),
            patient_id: icn.as_str(),
            set_by,
            at: Utc::now(),
            event_id: None,
        })
        .await?;
    s.metrics.context_changes.fetch_add(1, Ordering::Relaxed);
    Ok(Json(ctx))
}

/// Clears the caller's active patient. The body is optional.
#[utoipa::path(delete, path = "/ccow/active-patient", tag = "context", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), request_body(content = Option<ClearContextRequest>), responses(
    (status = 204, description = "Cleared"),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 404, description = "No active patient context to clear", body = ErrorBody),
    (status = 422, description = "Malformed body", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn clear_context(
    State(s): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(|r| ApiError::from_body(r, s.config.max_body_bytes))?;
    // The body is optional: `{"cleared_by": "…"}` when present.
    let req: ClearContextRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ClearContextRequest::default()
    } else {
        let json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "Expected Content-Type: application/json".into(),
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::Unprocessable(format!("Invalid request body: {e}")))?
    };
    let actor = caller
        .client
        .clone()
        .or(req.cleared_by)
        .map(|a| a.trim().chars().take(MAX_SET_BY).collect::<String>())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let clear = ClearContext {
        user_id: &caller.user_id,
        actor: &actor,
        at: Utc::now(),
        event_id: None,
    };
    match s.store.clear(clear).await? {
        Some(_) => {
            s.metrics.context_changes.fetch_add(1, Ordering::Relaxed);
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(ApiError::NotFound(
            "No active patient context to clear".into(),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct HistoryParams {
    scope: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

fn number(name: &str, v: Option<&str>, default: u64) -> Result<u64, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "Invalid {name}: {s}. Must be a non-negative integer"
            ))
        }),
    }
}

/// Context changes, newest first. `scope=global` needs the admin role.
#[utoipa::path(get, path = "/ccow/history", tag = "context", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), params(
    ("scope" = Option<String>, Query, description = "`user` (default) or `global`"),
    ("offset" = Option<u64>, Query, description = "Entries to skip (default 0)"),
    ("limit" = Option<u64>, Query, description = "Page size, 1–500 (default 50)"),
), responses(
    (status = 200, body = HistoryResponse),
    (status = 400, description = "Bad scope, offset or limit", body = ErrorBody),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 403, description = "Global history without the admin role", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn history(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<HistoryParams>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let scope = match p.scope.as_deref().unwrap_or("user") {
        "user" => Scope::User,
        "global" => Scope::Global,
        other => {
            return Err(ApiError::BadRequest(format!(
                "Invalid scope: {other}. Must be 'user' or 'global'"
            )));
        }
    };
    let offset = number("offset", p.offset.as_deref(), 0)?;
    let limit = number("limit", p.limit.as_deref(), DEFAULT_PAGE)?;
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "Invalid limit: {limit}. Must be 1–{MAX_PAGE}"
        )));
    }
    if scope == Scope::Global && !caller.has_role(&s.config.admin_role) {
        return Err(ApiError::Forbidden(format!(
            "Global history requires the `{}` role",
            s.config.admin_role
        )));
    }
    let user = (scope == Scope::User).then_some(caller.user_id.as_str());
    let (history, total) = s
        .store
        .history(HistoryQuery {
            user_id: user,
            offset,
            limit,
        })
        .await?;
    Ok(Json(HistoryResponse {
        history,
        scope,
        total_count: total,
        user_id: user.map(str::to_string),
        offset,
        limit,
    }))
}

/// Every active context (admin role).
#[utoipa::path(get, path = "/ccow/active-patients", tag = "admin", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), responses(
    (status = 200, body = ActiveContextsResponse),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 403, description = "Not an admin", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn active_contexts(
    State(s): State<AppState>,
    _admin: Admin,
) -> Result<Json<ActiveContextsResponse>, ApiError> {
    let contexts = s.store.active().await?;
    Ok(Json(ActiveContextsResponse {
        total_count: contexts.len() as u64,
        contexts,
    }))
}

/// Clears contexts not accessed within the TTL now (admin role); the
/// same sweep also runs in the background.
#[utoipa::path(post, path = "/ccow/cleanup", tag = "admin", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), responses(
    (status = 200, body = CleanupResponse),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
    (status = 403, description = "Not an admin", body = ErrorBody),
    (status = 503, description = "The store or the identity provider does not answer", body = ErrorBody),
))]
pub async fn cleanup(
    State(s): State<AppState>,
    _admin: Admin,
) -> Result<Json<CleanupResponse>, ApiError> {
    let n = crate::sweep(&s).await?;
    Ok(Json(CleanupResponse {
        removed_count: n as u64,
        message: format!("Cleaned up {n} stale context(s)"),
    }))
}
