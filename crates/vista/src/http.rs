//! The HTTP API, compatible with the original simulator: `GET /`,
//! `/health`, `/sites`, `POST /rpc/execute?site=` with `{name, params}`.

use crate::AppState;
use crate::rpc::{self, Arg, CallError};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The HTTP crate's one error type: `{"detail": "…"}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    /// Missing or malformed request parts (FastAPI's validation status).
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// `POST /rpc/execute` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RpcRequest {
    /// The RPC name, e.g. `ORWPT PTINQ`.
    pub name: String,
    /// Parameters: strings (numbers and booleans are taken as their text;
    /// arrays and objects become list parameters).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub params: Vec<Value>,
}

/// The envelope of every RPC answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RpcResponse {
    pub success: bool,
    /// The RPC's lines joined by `\n` (VistA-level errors are `-1^…` here,
    /// with `success: true`, as in the original).
    pub response: Option<String>,
    pub error: Option<String>,
    pub site: String,
    pub rpc: String,
}

#[derive(Debug, Deserialize)]
pub struct SiteQuery {
    site: String,
}

/// JSON parameter → RPC argument.
pub fn arg(v: &Value) -> Arg {
    match v {
        Value::String(s) => Arg::Text(s.clone()),
        Value::Null => Arg::Text(String::new()),
        Value::Bool(b) => Arg::Text(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Arg::Text(n.to_string()),
        Value::Array(items) => Arg::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| ((i + 1).to_string(), scalar(v)))
                .collect(),
        ),
        Value::Object(m) => Arg::List(m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[utoipa::path(get, path = "/", tag = "service", responses((status = 200, description = "Service info")))]
pub async fn root(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "service": "VistA RPC Broker Simulator",
        "version": env!("CARGO_PKG_VERSION"),
        "status": "running",
        "sites": s.world.sites.len(),
        "endpoints": {
            "rpc_execute": "POST /rpc/execute?site={sta3n}",
            "sites": "GET /sites",
            "health": "GET /health",
            "docs": "GET /docs",
            "metrics": "GET /metrics",
        },
    }))
}

#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "Sites loaded")))]
pub async fn health(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "healthy",
        "sites_initialized": s.world.sites.len(),
        "sites": s.world.sites.keys().collect::<Vec<_>>(),
        "load_warnings": s.world.warnings.len(),
    }))
}

#[utoipa::path(get, path = "/sites", tag = "service", responses((status = 200, description = "Configured sites")))]
pub async fn sites(State(s): State<AppState>) -> Json<Value> {
    let ports = s.xwb_ports.lock().expect("ports lock").clone();
    Json(Value::Array(
        s.world
            .sites
            .values()
            .map(|site| {
                json!({
                    "sta3n": site.config.sta3n,
                    "name": site.config.name,
                    "description": site.config.description,
                    "rpcs_registered": rpc::NAMES.len(),
                    "patients_registered": site.dfns.len(),
                    "latency_ms": [site.config.latency_ms.0, site.config.latency_ms.1],
                    "xwb_port": ports.get(&site.config.sta3n),
                })
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// Runs one RPC at one site.
#[utoipa::path(post, path = "/rpc/execute", tag = "rpc",
    params(("site" = String, Query, description = "The site's station number, e.g. 200")),
    request_body = RpcRequest,
    responses(
        (status = 200, description = "The RPC ran, or failed as an RPC (`success: false`)", body = RpcResponse),
        (status = 404, description = "Unknown site"),
        (status = 413, description = "Body too large"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Missing `site`, or a malformed body"),
    ))]
pub async fn execute(
    State(s): State<AppState>,
    query: Result<Query<SiteQuery>, QueryRejection>,
    body: Result<Json<RpcRequest>, JsonRejection>,
) -> Result<Json<RpcResponse>, ApiError> {
    let Query(SiteQuery { site }) = query.map_err(|_| {
        ApiError::Unprocessable("Query parameter `site` (a station number) is required".into())
    })?;
    if !s.world.sites.contains_key(&site) {
        let available: Vec<String> = s.world.sites.keys().map(|k| format!("'{k}'")).collect();
        return Err(ApiError::NotFound(format!(
            "Site {site} not found. Available sites: [{}]",
            available.join(", ")
        )));
    }
    let Json(req) = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(s.config.max_body_bytes),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("Expected Content-Type: application/json".into())
        }
        _ => ApiError::Unprocessable(format!("Invalid request body: {}", r.body_text())),
    })?;
    let args: Vec<Arg> = req.params.iter().map(arg).collect();
    let result = s.run(&site, &req.name, &args, crate::Transport::Http).await;
    Ok(Json(match result {
        Ok(reply) => RpcResponse {
            success: true,
            response: Some(reply.joined()),
            error: None,
            site,
            rpc: req.name,
        },
        Err(e) => RpcResponse {
            success: false,
            response: None,
            error: Some(match e {
                CallError::Unknown { .. } | CallError::Failed(_) => e.to_string(),
            }),
            site,
            rpc: req.name,
        },
    }))
}
