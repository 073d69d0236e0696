//! Wire types. Datetimes are UTC and serialise as RFC 3339 with `Z`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's active patient, shared by every application of that user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientContext {
    /// The user the context belongs to (the token's `sub`, or the web
    /// session's user id).
    pub user_id: String,
    pub email: Option<String>,
    /// The patient's ICN.
    pub patient_id: String,
    /// The application that set it.
    pub set_by: String,
    pub set_at: DateTime<Utc>,
    pub last_accessed_at: DateTime<Utc>,
    /// Grows with every change of this user's context (never reused, not
    /// even after a clear).
    pub version: u64,
}

/// `PUT /ccow/active-patient`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetContextRequest {
    pub patient_id: String,
    #[serde(default = "default_set_by")]
    pub set_by: String,
}

fn default_set_by() -> String {
    "med-z1".to_string()
}

/// Optional body of `DELETE /ccow/active-patient`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClearContextRequest {
    #[serde(default)]
    pub cleared_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Set,
    Clear,
}

/// One change of a user's context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub action: Action,
    pub user_id: String,
    pub email: Option<String>,
    /// The patient set; `None` for a clear.
    pub patient_id: Option<String>,
    /// The application (for a set) or who cleared it (`system:cleanup` for
    /// the stale-context sweep).
    pub actor: String,
    pub timestamp: DateTime<Utc>,
    /// The context version this change produced.
    pub version: u64,
    /// The change's unique id (a FHIRcast request's own `id` when the change
    /// came through the hub). Empty for entries written before ids existed.
    #[serde(default)]
    pub event_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    User,
    Global,
}

/// `GET /ccow/history`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    pub history: Vec<HistoryEntry>,
    pub scope: Scope,
    /// Entries in the scope (all pages).
    pub total_count: u64,
    /// Set for `scope=user`.
    pub user_id: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// `GET /ccow/active-patients` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveContextsResponse {
    pub contexts: Vec<PatientContext>,
    pub total_count: u64,
}

/// `POST /ccow/cleanup` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanupResponse {
    pub removed_count: u64,
    pub message: String,
}

/// A change pushed on `GET /ccow/events` (SSE) and `GET /ccow/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextEvent {
    pub action: Action,
    pub user_id: String,
    /// The patient opened (set) or closed (clear).
    pub patient_id: Option<String>,
    pub actor: String,
    pub timestamp: DateTime<Utc>,
    pub version: u64,
    /// The change's unique id (see [`HistoryEntry::event_id`]).
    #[serde(default)]
    pub event_id: String,
}

impl ContextEvent {
    /// The event of a history entry; `closed` is the patient a clear
    /// closed (history records a clear without a patient).
    pub fn of(h: &HistoryEntry, closed: Option<&str>) -> Self {
        ContextEvent {
            action: h.action,
            user_id: h.user_id.clone(),
            patient_id: match h.action {
                Action::Set => h.patient_id.clone(),
                Action::Clear => closed.map(str::to_string),
            },
            actor: h.actor.clone(),
            timestamp: h.timestamp,
            version: h.version,
            event_id: h.event_id.clone(),
        }
    }
}

/// The error body of every non-2xx response: `{"detail": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub detail: String,
}
