//! A FHIRcast STU3 (3.0.0) hub over the vault's contexts.
//!
//! The hub and the REST API are two faces of one context: a topic is a
//! user (`hub.topic` is the caller's user id, and a caller may only use its
//! own), a `PUT /ccow/active-patient` reaches subscribers as `Patient-open`,
//! a `DELETE` as `Patient-close`, and a `Patient-open` posted to the hub is
//! what `GET /ccow/active-patient` then returns. Changes travel through the
//! store's change feed, so with Redis a change made on any instance reaches
//! the subscribers of every instance.
//!
//! - `POST /fhircast` form-encoded: subscribe / unsubscribe (WebSocket
//!   channel only, as STU3); `202 {"hub.channel.endpoint": "ws://…"}`.
//! - `GET /fhircast/ws/{endpoint}`: the subscription's socket. The hub sends
//!   the confirmation, then the open context (if subscribed), then events;
//!   subscribers answer each event with `{"id", "status"}`.
//! - `POST /fhircast` JSON: a context change request (`Patient-open`,
//!   `Patient-close`), broadcast to every subscriber of the topic, the
//!   requester included, with the request's own `id`.
//! - `GET /fhircast/{topic}`: the current context.
//! - `GET /.well-known/fhircast-configuration` (also under `/fhircast`).
//!
//! Refusals of the subscription protocol are plain text, as the
//! specification asks; leases are capped by the configuration and by the
//! token's expiry; unanswered or refused events raise `SyncError` to the
//! topic's `SyncError` subscribers, and a subscriber that does not answer
//! is unsubscribed.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ccow_client::{Action, ContextEvent};
use ccow_store::{ClearContext, ContextStore, NewContext};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub const VERSION: &str = "3.0.0";
/// The events this hub supports, in their canonical spelling.
pub const EVENTS: [&str; 3] = ["Patient-open", "Patient-close", "SyncError"];
/// The identifier system of a VA ICN.
pub const ICN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.4.349";
/// A subscription whose socket is not opened within this time is dropped.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(300);
const MAX_EVENT_ID: usize = 128;
const MAX_SUBSCRIBER_NAME: usize = 128;

/// A refusal of the hub protocol: the vault's error, as plain text.
pub struct HubError(pub ApiError);

impl From<ApiError> for HubError {
    fn from(e: ApiError) -> Self {
        HubError(e)
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.0.to_string(),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ccow\""),
            );
        }
        r
    }
}

fn bad(msg: impl Into<String>) -> HubError {
    HubError(ApiError::BadRequest(msg.into()))
}

/// The canonical name of a supported event (names are case-insensitive).
pub fn canonical(name: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .copied()
        .find(|e| e.eq_ignore_ascii_case(name.trim()))
}

/// A FHIRcast event name: `Resource-action`, or a proprietary reverse-domain
/// name without `-`.
fn well_formed(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// What the hub tells a subscriber's socket task.
#[derive(Debug)]
enum Control {
    /// The subscription was renewed with (possibly) other events.
    Confirm,
    /// Unsubscribed or refused: send a denial, then close.
    Deny(String),
    /// A `SyncError` for the topic.
    SyncError(Value),
}

struct Subscription {
    topic: String,
    events: BTreeSet<&'static str>,
    lease: Duration,
    lease_until: Instant,
    name: Option<String>,
    created: Instant,
    socket: Option<mpsc::UnboundedSender<Control>>,
}

impl Subscription {
    fn events_text(&self) -> String {
        EVENTS
            .iter()
            .filter(|e| self.events.contains(*e))
            .copied()
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The hub's subscriptions on this instance.
#[derive(Default)]
pub struct Hub {
    subs: Mutex<HashMap<String, Subscription>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Subscription>> {
        self.subs.lock().expect("hub lock")
    }

    /// Subscriptions (connected or not) on this instance.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops subscriptions whose socket never came, or whose lease ran out
    /// before it did. Connected subscriptions end in their own task.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut subs = self.lock();
        let before = subs.len();
        subs.retain(|_, s| match &s.socket {
            // A socket whose upgrade never completed has dropped its end.
            Some(tx) => !tx.is_closed(),
            None => now < s.lease_until && now.duration_since(s.created) < CONNECT_WITHIN,
        });
        before - subs.len()
    }

    /// Sends a `SyncError` notification as is to the topic's `SyncError`
    /// subscribers except `except`.
    fn relay(&self, topic: &str, except: &str, error: Value) {
        for (id, s) in self.lock().iter() {
            if id != except
                && s.topic == topic
                && s.events.contains("SyncError")
                && let Some(tx) = &s.socket
            {
                let _ = tx.send(Control::SyncError(error.clone()));
            }
        }
    }
}

/// A caller's topic: its user id.
fn topic_of(c: &Caller) -> &str {
    &c.user_id
}

fn own_topic(c: &Caller, topic: &str) -> Result<(), HubError> {
    if topic == topic_of(c) {
        Ok(())
    } else {
        Err(HubError(ApiError::Forbidden(
            "hub.topic is not yours: a caller's topic is its own user id".into(),
        )))
    }
}

/// `GET /.well-known/fhircast-configuration`.
#[utoipa::path(get, path = "/.well-known/fhircast-configuration", tag = "fhircast", responses((status = 200, description = "FHIRcast discovery document")))]
pub async fn configuration() -> Json<Value> {
    Json(json!({
        "eventsSupported": EVENTS,
        "websocketSupport": true,
        "webhookSupport": false,
        "fhircastVersion": VERSION,
        "getCurrentSupport": true,
        "capabilities": {
            "supportsGetCurrentContext": true,
            "supportsNonCurrentContextUpdates": false,
        },
        "fhirVersion": "R4",
    }))
}

/// `GET /ccow/fhircast`: where the caller's hub and topic are (what a
/// SMART launch would return next to the token).
#[utoipa::path(get, path = "/ccow/fhircast", tag = "fhircast", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), responses((status = 200, description = "`hub.url` and the caller's `hub.topic`")))]
pub async fn session(State(s): State<AppState>, caller: Caller) -> Json<Value> {
    Json(json!({
        "hub.url": hub_url(&s),
        "hub.topic": topic_of(&caller),
    }))
}

fn hub_url(s: &AppState) -> String {
    format!("{}/fhircast", s.config.public_url.trim_end_matches('/'))
}

fn socket_url(s: &AppState, id: &str) -> String {
    let base = s.config.public_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{base}/fhircast/ws/{id}")
}

/// `POST /fhircast`: a subscription request (form-encoded) or a context
/// change request (JSON).
#[utoipa::path(post, path = "/fhircast", tag = "fhircast", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), request_body(
    description = "`application/x-www-form-urlencoded`: hub.channel.type=websocket, hub.mode, hub.topic, hub.events, hub.lease_seconds, hub.channel.endpoint, subscriber.name. `application/json`: a context change request {timestamp, id, event}.",
    content = String,
), responses(
    (status = 202, description = "Subscription accepted (`{\"hub.channel.endpoint\": \"ws://…\"}`) or context change accepted and broadcast"),
    (status = 400, description = "Invalid request (plain text)", content_type = "text/plain", body = String),
    (status = 401, description = "Missing or invalid credential (plain text)", content_type = "text/plain", body = String),
    (status = 403, description = "Not the caller's topic (plain text)", content_type = "text/plain", body = String),
    (status = 404, description = "Unknown subscription endpoint (plain text)", content_type = "text/plain", body = String),
    (status = 409, description = "Closing a patient that is not open (plain text)", content_type = "text/plain", body = String),
    (status = 415, description = "Neither form nor JSON (plain text)", content_type = "text/plain", body = String),
    (status = 422, description = "The patient is not an ICN (plain text)", content_type = "text/plain", body = String),
))]
pub async fn post(
    State(s): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, HubError> {
    let caller = caller?;
    let body = body.map_err(|r| ApiError::from_body(r, s.config.max_body_bytes))?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match kind.as_str() {
        "application/x-www-form-urlencoded" => subscription(&s, &caller, &body),
        "application/json" | "application/fhir+json" => change(&s, &caller, &body).await,
        _ => Err(HubError(ApiError::UnsupportedMediaType(
            "Expected application/x-www-form-urlencoded (subscription) or application/json (context change)"
                .into(),
        ))),
    }
}

/// The parameters of a subscription request, each at most once.
fn form(body: &[u8]) -> Result<HashMap<String, String>, HubError> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(bad(format!("{k} is given more than once")));
        }
    }
    Ok(out)
}

fn subscription(s: &AppState, caller: &Caller, body: &[u8]) -> Result<Response, HubError> {
    let p = form(body)?;
    let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    match get("hub.channel.type") {
        Some("websocket") => {}
        Some(other) => {
            return Err(bad(format!(
                "hub.channel.type {other:?} is not supported: this hub only offers websocket"
            )));
        }
        None => return Err(bad("hub.channel.type is required (websocket)")),
    }
    let topic = get("hub.topic").ok_or_else(|| bad("hub.topic is required"))?;
    own_topic(caller, topic)?;
    match get("hub.mode") {
        Some("subscribe") => subscribe(s, caller, topic, &p),
        Some("unsubscribe") => {
            let endpoint = get("hub.channel.endpoint")
                .ok_or_else(|| bad("hub.channel.endpoint is required to unsubscribe"))?;
            let id = endpoint_id(endpoint)?;
            let removed = {
                let mut subs = s.hub.lock();
                match subs.get(&id) {
                    Some(sub) if sub.topic == topic => subs.remove(&id),
                    _ => None,
                }
            };
            let Some(sub) = removed else {
                return Err(HubError(ApiError::NotFound(
                    "no such subscription for this topic".into(),
                )));
            };
            if let Some(tx) = sub.socket {
                let _ = tx.send(Control::Deny("unsubscribed".into()));
            }
            Ok(accepted(endpoint.to_string()))
        }
        Some(other) => Err(bad(format!(
            "hub.mode {other:?} is not valid: subscribe or unsubscribe"
        ))),
        None => Err(bad("hub.mode is required")),
    }
}

fn accepted(endpoint: String) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "hub.channel.endpoint": endpoint })),
    )
        .into_response()
}

/// The subscription id at the end of an endpoint URL.
fn endpoint_id(endpoint: &str) -> Result<String, HubError> {
    endpoint
        .rsplit_once("/fhircast/ws/")
        .map(|(_, id)| id.to_string())
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| bad("hub.channel.endpoint is not an endpoint of this hub"))
}

fn subscribe(
    s: &AppState,
    caller: &Caller,
    topic: &str,
    p: &HashMap<String, String>,
) -> Result<Response, HubError> {
    let requested = p
        .get("hub.events")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad("hub.events is required to subscribe"))?;
    let mut events = BTreeSet::new();
    for name in requested
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !well_formed(name) {
            return Err(bad(format!("hub.events: {name:?} is not an event name")));
        }
        if let Some(e) = canonical(name) {
            events.insert(e);
        }
    }
    if events.is_empty() {
        return Err(bad(format!(
            "hub.events: none of the requested events is supported (supported: {})",
            EVENTS.join(", ")
        )));
    }
    let mut lease = s.config.fhircast_lease;
    if let Some(v) = p.get("hub.lease_seconds") {
        let n: u64 = v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(format!("hub.lease_seconds {v:?} is not a positive integer")))?;
        lease = lease.min(Duration::from_secs(n));
    }
    // A lease never outlives the token it was granted to.
    if let Some(exp) = caller.expires_at {
        let left = (exp - Utc::now().timestamp()).max(1) as u64;
        lease = lease.min(Duration::from_secs(left));
    }
    let name = p
        .get("subscriber.name")
        .map(|n| {
            n.trim()
                .chars()
                .take(MAX_SUBSCRIBER_NAME)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    let now = Instant::now();
    // Re-subscribing on an existing endpoint replaces its events and lease.
    if let Some(endpoint) = p
        .get("hub.channel.endpoint")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        let id = endpoint_id(endpoint)?;
        let mut subs = s.hub.lock();
        let sub = subs
            .get_mut(&id)
            .filter(|sub| sub.topic == topic)
            .ok_or_else(|| {
                HubError(ApiError::NotFound(
                    "no such subscription for this topic".into(),
                ))
            })?;
        sub.events = events;
        sub.lease = lease;
        sub.lease_until = now + lease;
        if name.is_some() {
            sub.name = name;
        }
        if let Some(tx) = &sub.socket {
            let _ = tx.send(Control::Confirm);
        }
        return Ok(accepted(endpoint.to_string()));
    }
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut subs = s.hub.lock();
    subs.insert(
        id.clone(),
        Subscription {
            topic: topic.to_string(),
            events,
            lease,
            lease_until: now + lease,
            name,
            created: now,
            socket: None,
        },
    );
    drop(subs);
    Ok(accepted(socket_url(s, &id)))
}

/// A FHIR Patient for an ICN.
fn patient(icn: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "id": icn,
        "identifier": [{ "system": ICN_SYSTEM, "value": icn }],
    })
}

/// A notification: `{timestamp, id, event}`.
fn notification(topic: &str, event: &str, id: &str, at: DateTime<Utc>, context: Value) -> Value {
    json!({
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "id": id,
        "event": {
            "hub.topic": topic,
            "hub.event": event,
            "context": context,
        },
    })
}

/// The notification of a context change.
fn of_change(e: &ContextEvent) -> Option<(&'static str, Value)> {
    let icn = e.patient_id.as_deref()?;
    let name = match e.action {
        Action::Set => "Patient-open",
        Action::Clear => "Patient-close",
    };
    let id = if e.event_id.is_empty() {
        format!("{}-{}", e.user_id, e.version)
    } else {
        e.event_id.clone()
    };
    Some((
        name,
        notification(
            &e.user_id,
            name,
            &id,
            e.timestamp,
            json!([{ "key": "patient", "resource": patient(icn) }]),
        ),
    ))
}

fn sync_error(topic: &str, subscriber: &str, event_id: &str, event: &str, why: &str) -> Value {
    notification(
        topic,
        "SyncError",
        &uuid::Uuid::new_v4().to_string(),
        Utc::now(),
        json!([{
            "key": "operationoutcome",
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{
                    "severity": "warning",
                    "code": "processing",
                    "diagnostics": format!("{subscriber} did not accept {event} {event_id}: {why}"),
                    "details": { "coding": [
                        { "system": "https://fhircast.hl7.org/events/syncerror/eventid", "code": event_id },
                        { "system": "https://fhircast.hl7.org/events/syncerror/eventname", "code": event },
                        { "system": "https://fhircast.hl7.org/events/syncerror/subscriber", "code": subscriber },
                    ]},
                }],
            },
        }]),
    )
}

/// The ICN of a request's `patient` context.
fn requested_patient(context: &Value) -> Result<String, HubError> {
    let items = context
        .as_array()
        .ok_or_else(|| bad("event.context must be an array"))?;
    let resource = items
        .iter()
        .find(|c| c.get("key").and_then(Value::as_str) == Some("patient"))
        .and_then(|c| c.get("resource"))
        .ok_or_else(|| bad("event.context needs a `patient` entry with a resource"))?;
    if resource.get("resourceType").and_then(Value::as_str) != Some("Patient") {
        return Err(bad("the `patient` context must be a Patient resource"));
    }
    let from_identifier = resource
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(ICN_SYSTEM))
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str);
    let text = from_identifier
        .or_else(|| resource.get("id").and_then(Value::as_str))
        .ok_or_else(|| {
            bad(format!(
                "the Patient needs an identifier with system {ICN_SYSTEM} or an id (its ICN)"
            ))
        })?;
    let icn: domain::ids::Icn = text
        .trim()
        .parse()
        .map_err(|e| HubError(ApiError::Unprocessable(format!("patient: {e}"))))?;
    Ok(icn.as_str().to_string())
}

/// A context change request.
async fn change(s: &AppState, caller: &Caller, body: &[u8]) -> Result<Response, HubError> {
    let req: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the request is not JSON: {e}")))?;
    let id = req
        .get("id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= MAX_EVENT_ID)
        .ok_or_else(|| bad(format!("id is required (1–{MAX_EVENT_ID} characters)")))?;
    let stamp = req
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("timestamp is required"))?;
    DateTime::parse_from_rfc3339(stamp)
        .map_err(|e| bad(format!("timestamp {stamp:?} is not ISO-8601: {e}")))?;
    let event = req.get("event").ok_or_else(|| bad("event is required"))?;
    let topic = event
        .get("hub.topic")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("event.hub.topic is required"))?;
    own_topic(caller, topic)?;
    let name = event
        .get("hub.event")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("event.hub.event is required"))?;
    let context = event.get("context").unwrap_or(&Value::Null);
    let app = caller.client.as_deref().unwrap_or("fhircast");
    let now = Utc::now();
    match canonical(name) {
        Some("Patient-open") => {
            let icn = requested_patient(context)?;
            s.store
                .set(NewContext {
                    user_id: &caller.user_id,
                    email: caller.email.as_deref(),
                    patient_id: &icn,
                    set_by: app,
                    at: now,
                    event_id: Some(id),
                })
                .await
                .map_err(ApiError::from)?;
        }
        Some("Patient-close") => {
            let icn = requested_patient(context)?;
            let open = s
                .store
                .get(&caller.user_id, now)
                .await
                .map_err(ApiError::from)?;
            if open.as_ref().map(|c| c.patient_id.as_str()) != Some(icn.as_str()) {
                return Err(HubError(ApiError::Conflict(
                    "Patient-close: that patient is not the open context".into(),
                )));
            }
            let cleared = s
                .store
                .clear(ClearContext {
                    user_id: &caller.user_id,
                    actor: app,
                    at: now,
                    event_id: Some(id),
                })
                .await
                .map_err(ApiError::from)?;
            if cleared.is_none() {
                return Err(HubError(ApiError::Conflict(
                    "Patient-close: the context was closed meanwhile".into(),
                )));
            }
        }
        _ => {
            return Err(bad(format!(
                "event {name:?} cannot be requested here (supported: Patient-open, Patient-close)"
            )));
        }
    }
    s.metrics.context_changes.fetch_add(1, Ordering::Relaxed);
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /fhircast/{topic}`: the current context.
#[utoipa::path(get, path = "/fhircast/{topic}", tag = "fhircast", security(("bearer" = []), ("session_header" = []), ("session_cookie" = [])), params(("topic" = String, Path, description = "The caller's topic (its user id)")), responses(
    (status = 200, description = "`{\"context.type\": \"Patient\", \"context.versionId\", \"context\": [...]}`, or an empty context"),
    (status = 401, description = "Missing or invalid credential (plain text)", content_type = "text/plain", body = String),
    (status = 403, description = "Not the caller's topic (plain text)", content_type = "text/plain", body = String),
))]
pub async fn current(
    State(s): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(topic): Path<String>,
) -> Result<Json<Value>, HubError> {
    let caller = caller?;
    own_topic(&caller, &topic)?;
    let c = s
        .store
        .get(&caller.user_id, Utc::now())
        .await
        .map_err(ApiError::from)?;
    Ok(Json(match c {
        Some(c) => json!({
            "context.type": "Patient",
            "context.versionId": c.version.to_string(),
            "context": [{ "key": "patient", "resource": patient(&c.patient_id) }],
        }),
        None => json!({ "context.type": "", "context": [] }),
    }))
}

/// `GET /fhircast/ws/{endpoint}`: the subscription's socket. The endpoint
/// URL itself is the credential (unguessable, from an authenticated
/// subscription), as browsers cannot set headers on a WebSocket.
#[utoipa::path(get, path = "/fhircast/ws/{endpoint}", tag = "fhircast", params(("endpoint" = String, Path, description = "The endpoint id from the subscription's 202")), responses(
    (status = 101, description = "WebSocket: confirmation, the open context, then events; answer each with {\"id\", \"status\"}"),
    (status = 404, description = "No such subscription (plain text)", content_type = "text/plain", body = String),
    (status = 409, description = "The socket is already open (plain text)", content_type = "text/plain", body = String),
))]
pub async fn socket(
    State(s): State<AppState>,
    Path(id): Path<String>,
    up: WebSocketUpgrade,
) -> Result<Response, HubError> {
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut subs = s.hub.lock();
        let sub = subs
            .get_mut(&id)
            .ok_or_else(|| HubError(ApiError::NotFound("no such subscription".into())))?;
        // A previous upgrade that never completed leaves a closed sender:
        // the endpoint may be connected again.
        if sub.socket.as_ref().is_some_and(|t| !t.is_closed()) {
            return Err(HubError(ApiError::Conflict(
                "this subscription's socket is already open".into(),
            )));
        }
        sub.socket = Some(tx);
    }
    Ok(up.on_upgrade(move |ws| async move {
        run(ws, &s, &id, rx).await;
        s.hub.lock().remove(&id);
    }))
}

/// What a socket task knows of its subscription right now.
struct View {
    topic: String,
    events: BTreeSet<&'static str>,
    lease_until: Instant,
    name: String,
}

fn view(s: &AppState, id: &str) -> Option<View> {
    s.hub.lock().get(id).map(|sub| View {
        topic: sub.topic.clone(),
        events: sub.events.clone(),
        lease_until: sub.lease_until,
        name: sub
            .name
            .clone()
            .unwrap_or_else(|| format!("subscriber {}", &id[..8])),
    })
}

fn confirmation(s: &AppState, id: &str) -> Option<Value> {
    let subs = s.hub.lock();
    let sub = subs.get(id)?;
    Some(json!({
        "hub.mode": "subscribe",
        "hub.topic": sub.topic,
        "hub.events": sub.events_text(),
        "hub.lease_seconds": sub.lease_until.saturating_duration_since(Instant::now()).as_secs().max(1),
    }))
}

async fn send(ws: &mut WebSocket, v: &Value) -> bool {
    ws.send(Message::Text(v.to_string().into())).await.is_ok()
}

async fn deny(ws: &mut WebSocket, v: &View, reason: &str) {
    let events = EVENTS
        .iter()
        .filter(|e| v.events.contains(*e))
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    let _ = send(
        ws,
        &json!({
            "hub.mode": "denied",
            "hub.topic": v.topic,
            "hub.events": events,
            "hub.reason": reason,
        }),
    )
    .await;
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: close_code::NORMAL,
            reason: reason.to_string().into(),
        })))
        .await;
}

async fn run(
    mut ws: WebSocket,
    s: &AppState,
    id: &str,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    // Subscribe to changes before reading the current context, so nothing
    // falls between the replay and the feed.
    let mut changes = s.store.events();
    let Some(mut v) = view(s, id) else { return };
    let Some(confirm) = confirmation(s, id) else {
        return;
    };
    if !send(&mut ws, &confirm).await {
        return;
    }
    let mut last_version = 0;
    if v.events.contains("Patient-open")
        && let Some(e) = crate::events::current(s, &v.topic).await
    {
        last_version = e.version;
        if let Some((_, n)) = of_change(&e)
            && !send(&mut ws, &n).await
        {
            return;
        }
    }
    // Events sent and not yet answered: id → (name, deadline).
    let mut pending: HashMap<String, (&'static str, Instant)> = HashMap::new();
    let ack_timeout = s.config.fhircast_ack_timeout;
    loop {
        let next_ack = pending.values().map(|(_, d)| *d).min();
        let wake = next_ack.map_or(v.lease_until, |d| d.min(v.lease_until));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if now >= v.lease_until {
                    deny(&mut ws, &v, "lease expired").await;
                    return;
                }
                let late: Vec<_> = pending
                    .iter()
                    .filter(|(_, (_, d))| *d <= now)
                    .map(|(k, (n, _))| (k.clone(), *n))
                    .collect();
                if let Some((event_id, name)) = late.into_iter().next() {
                    s.hub.relay(&v.topic, id, sync_error(&v.topic, &v.name, &event_id, name, "no response in time"));
                    deny(&mut ws, &v, "subscriber did not acknowledge an event in time").await;
                    return;
                }
            }
            c = control.recv() => match c {
                Some(Control::Confirm) => {
                    match (view(s, id), confirmation(s, id)) {
                        (Some(nv), Some(conf)) => {
                            v = nv;
                            if !send(&mut ws, &conf).await { return; }
                        }
                        _ => return,
                    }
                }
                Some(Control::Deny(reason)) => {
                    deny(&mut ws, &v, &reason).await;
                    return;
                }
                Some(Control::SyncError(e)) => {
                    if !send(&mut ws, &e).await { return; }
                }
                None => return,
            },
            e = changes.recv() => {
                let e = match e {
                    Ok(e) => e,
                    // Fell behind the feed: resynchronise with the current
                    // context.
                    Err(RecvError::Lagged(_)) => match crate::events::current(s, &v.topic).await {
                        Some(e) => e,
                        None => continue,
                    },
                    Err(RecvError::Closed) => return,
                };
                if e.user_id != v.topic || e.version <= last_version {
                    continue;
                }
                last_version = e.version;
                let Some((name, n)) = of_change(&e) else { continue };
                if !v.events.contains(name) {
                    continue;
                }
                if !send(&mut ws, &n).await { return; }
                if let Some(eid) = n["id"].as_str() {
                    pending.insert(eid.to_string(), (name, Instant::now() + ack_timeout));
                }
            }
            m = ws.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    let Ok(ack) = serde_json::from_str::<Value>(&t) else { continue };
                    // A subscriber reporting its own failure (after a 202).
                    if ack.pointer("/event/hub.event").and_then(Value::as_str) == Some("SyncError")
                        && ack.pointer("/event/hub.topic").and_then(Value::as_str) == Some(v.topic.as_str())
                    {
                        s.hub.relay(&v.topic, id, ack);
                        continue;
                    }
                    let (Some(eid), Some(status)) = (ack.get("id").and_then(Value::as_str), ack.get("status").and_then(Value::as_u64)) else { continue };
                    let Some((name, _)) = pending.remove(eid) else { continue };
                    // 2xx (202 included: decided later) is an acceptance.
                    if !(200..300).contains(&status) {
                        let why = if status == 409 { "refused (409)".to_string() } else { format!("status {status}") };
                        s.hub.relay(&v.topic, id, sync_error(&v.topic, &v.name, eid, name, &why));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let normal = frame.as_ref().is_none_or(|f| f.code == close_code::NORMAL || f.code == close_code::AWAY);
                    if !normal && let Some((eid, (name, _))) = pending.iter().next() {
                        s.hub.relay(&v.topic, id, sync_error(&v.topic, &v.name, eid, name, "socket closed abnormally"));
                    }
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
        }
    }
}
