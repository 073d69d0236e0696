//! Push: the caller's context changes over Server-Sent Events and a
//! WebSocket. Each stream starts with the current context (when one is set)
//! and then relays every change of that user, with its version, from the
//! store's change feed (which spans instances with Redis).

use crate::AppState;
use crate::auth::Caller;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use ccow_client::{Action, ContextEvent, ErrorBody};
use ccow_store::{ContextStore, HistoryQuery};
use chrono::Utc;
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The current context as the event that set it (so a new subscriber
/// starts in sync), with that change's id when history still has it.
pub async fn current(s: &AppState, user: &str) -> Option<ContextEvent> {
    let c = s.store.get(user, Utc::now()).await.ok()??;
    let latest = s
        .store
        .history(HistoryQuery {
            user_id: Some(user),
            offset: 0,
            limit: 1,
        })
        .await
        .ok()
        .and_then(|(h, _)| h.into_iter().next())
        .filter(|h| h.version == c.version);
    Some(ContextEvent {
        action: Action::Set,
        user_id: c.user_id,
        patient_id: Some(c.patient_id),
        actor: c.set_by,
        timestamp: c.set_at,
        version: c.version,
        event_id: latest.map(|h| h.event_id).unwrap_or_default(),
    })
}

/// The user's events: the current state, then changes. A subscriber that
/// falls behind the feed is resynchronised with the current state.
fn user_events(s: AppState, user: String) -> impl Stream<Item = ContextEvent> {
    let rx = s.store.events();
    let guard = ClientGuard::new(&s);
    futures_util::stream::unfold(
        (s, user, rx, true, 0u64, guard),
        |(s, user, mut rx, first, mut last, guard)| async move {
            if first && let Some(e) = current(&s, &user).await {
                last = e.version;
                return Some((e, (s, user, rx, false, last, guard)));
            }
            loop {
                match rx.recv().await {
                    Ok(e) if e.user_id == user && e.version > last => {
                        last = e.version;
                        return Some((e, (s, user, rx, false, last, guard)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {
                        if let Some(e) = current(&s, &user).await
                            && e.version > last
                        {
                            last = e.version;
                            return Some((e, (s, user, rx, false, last, guard)));
                        }
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
}

/// Counts connected stream clients while alive.
struct ClientGuard(std::sync::Arc<crate::metrics::Metrics>);

impl ClientGuard {
    fn new(s: &AppState) -> Self {
        s.metrics.stream_clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(s.metrics.clone())
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.stream_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /ccow/events`: `event: context`, `id: <version>`, JSON data.
#[utoipa::path(get, path = "/ccow/events", tag = "push", security(("bearer" = []), ("session_header" = []), ("session_cookie" = []), ("access_token" = [])), responses(
    (status = 200, description = "Server-Sent Events: the current context, then every change of the caller's (`event: context`, data: ContextEvent)", content_type = "text/event-stream", body = ContextEvent),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
))]
pub async fn sse(
    State(s): State<AppState>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    use futures_util::StreamExt;
    let stream = user_events(s, caller.user_id).map(|e| {
        Ok(Event::default()
            .event("context")
            .id(e.version.to_string())
            .json_data(&e)
            .unwrap_or_else(|_| Event::default().comment("unserialisable event")))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// `GET /ccow/ws`: the same events as JSON text frames.
#[utoipa::path(get, path = "/ccow/ws", tag = "push", security(("bearer" = []), ("session_header" = []), ("session_cookie" = []), ("access_token" = [])), responses(
    (status = 101, description = "WebSocket: one ContextEvent JSON text frame per change", body = ContextEvent),
    (status = 401, description = "Missing or invalid credential", body = ErrorBody),
))]
pub async fn ws(
    State(s): State<AppState>,
    caller: Caller,
    up: WebSocketUpgrade,
) -> impl IntoResponse {
    up.on_upgrade(move |socket| pump(socket, s, caller.user_id))
}

async fn pump(mut socket: WebSocket, s: AppState, user: String) {
    use futures_util::StreamExt;
    let events = user_events(s, user);
    futures_util::pin_mut!(events);
    loop {
        tokio::select! {
            e = events.next() => {
                let Some(e) = e else { break };
                let Ok(text) = serde_json::to_string(&e) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Pings are answered by axum; anything else is ignored.
                Some(Ok(_)) => {}
            },
        }
    }
}
