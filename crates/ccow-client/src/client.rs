//! A typed client of the vault's REST API and its Server-Sent Events stream.

use crate::types::*;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::time::Duration;

/// How the client authenticates.
#[derive(Clone)]
pub enum Credential {
    /// `Authorization: Bearer <jwt>`.
    Bearer(String),
    /// `X-Session-ID: <id>`: a med-z1 web session, validated by the vault
    /// against the web app.
    Session(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(…)"),
            Credential::Session(_) => f.write_str("Session(…)"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The vault answered with an error status and its `detail`.
    #[error("the CCOW vault answered {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("cannot reach the CCOW vault: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("unexpected answer from the CCOW vault: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The HTTP status, for a `Status` error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A vault client for one user credential. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CcowClient {
    base: String,
    credential: Credential,
    http: reqwest::Client,
}

/// Context changes as they happen.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ContextEvent, ClientError>> + Send>>;

impl CcowClient {
    /// `base` is the vault's URL, e.g. `http://127.0.0.1:8001`. Requests
    /// time out after `timeout` (the event stream has no overall timeout).
    pub fn new(base: &str, credential: Credential, timeout: Duration) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout.max(Duration::from_secs(60)))
            .build()?;
        Ok(CcowClient {
            base: base.trim_end_matches('/').to_string(),
            credential,
            http,
        })
    }

    /// The same vault with another credential (sharing the connection pool).
    pub fn with_credential(&self, credential: Credential) -> Self {
        CcowClient {
            credential,
            ..self.clone()
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        match &self.credential {
            Credential::Bearer(t) => rb.bearer_auth(t),
            Credential::Session(s) => rb.header("X-Session-ID", s),
        }
    }

    async fn checked(rb: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let resp = rb.send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        let detail = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.detail)
            .unwrap_or(text);
        Err(ClientError::Status {
            status: status.as_u16(),
            detail,
        })
    }

    /// The user's active patient; `None` when none is set.
    pub async fn get(&self) -> Result<Option<PatientContext>, ClientError> {
        match Self::checked(self.request(reqwest::Method::GET, "/ccow/active-patient")).await {
            Ok(r) => Ok(Some(r.json().await?)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes `patient_id` (an ICN) the user's active patient.
    pub async fn set(&self, patient_id: &str, set_by: &str) -> Result<PatientContext, ClientError> {
        let body = SetContextRequest {
            patient_id: patient_id.to_string(),
            set_by: set_by.to_string(),
        };
        Ok(Self::checked(
            self.request(reqwest::Method::PUT, "/ccow/active-patient")
                .json(&body),
        )
        .await?
        .json()
        .await?)
    }

    /// Clears the user's context; `false` when there was none.
    pub async fn clear(&self, cleared_by: &str) -> Result<bool, ClientError> {
        let body = ClearContextRequest {
            cleared_by: Some(cleared_by.to_string()),
        };
        match Self::checked(
            self.request(reqwest::Method::DELETE, "/ccow/active-patient")
                .json(&body),
        )
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One page of history, newest first.
    pub async fn history(
        &self,
        scope: Scope,
        offset: u64,
        limit: u64,
    ) -> Result<HistoryResponse, ClientError> {
        let scope = match scope {
            Scope::User => "user",
            Scope::Global => "global",
        };
        let path = format!("/ccow/history?scope={scope}&offset={offset}&limit={limit}");
        Ok(Self::checked(self.request(reqwest::Method::GET, &path))
            .await?
            .json()
            .await?)
    }

    /// The user's context changes as they happen (Server-Sent Events). The
    /// first event is the current state when one is set; the stream ends
    /// when the vault closes it.
    pub async fn subscribe(&self) -> Result<EventStream, ClientError> {
        let resp = Self::checked(
            self.request(reqwest::Method::GET, "/ccow/events")
                .header("Accept", "text/event-stream"),
        )
        .await?;
        let bytes = resp.bytes_stream();
        let stream = futures_util::stream::unfold(
            (bytes, String::new()),
            |(mut bytes, mut buf)| async move {
                loop {
                    if let Some(end) = buf.find("\n\n") {
                        let frame: String = buf.drain(..end + 2).collect();
                        match parse_sse(&frame) {
                            Some(Ok(ev)) => return Some((Ok(ev), (bytes, buf))),
                            Some(Err(e)) => return Some((Err(e), (bytes, buf))),
                            None => continue,
                        }
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => buf.push_str(&String::from_utf8_lossy(&chunk)),
                        Some(Err(e)) => return Some((Err(ClientError::from(e)), (bytes, buf))),
                        None => return None,
                    }
                }
            },
        );
        Ok(Box::pin(stream))
    }
}

/// One SSE frame → an event; `None` for comments/keep-alives and frames of
/// other event types.
fn parse_sse(frame: &str) -> Option<Result<ContextEvent, ClientError>> {
    let mut event = "message";
    let mut data = String::new();
    for line in frame.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if data.is_empty() || event != "context" {
        return None;
    }
    Some(
        serde_json::from_str(&data)
            .map_err(|e| ClientError::Protocol(format!("bad event {data:?}: {e}"))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames() {
        let ev = parse_sse(
            "event: context\nid: 3\ndata: {\"action\":\"set\",\"user_id\":\"u\",\"patient_id\":\"ICN100001\",\"actor\":\"med-z1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"version\":3}\n\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(ev.version, 3);
        assert_eq!(ev.patient_id.as_deref(), Some("ICN100001"));
        assert!(parse_sse(": keep-alive\n\n").is_none());
        assert!(parse_sse("event: other\ndata: {}\n\n").is_none());
        assert!(matches!(
            parse_sse("event: context\ndata: nope\n\n"),
            Some(Err(ClientError::Protocol(_)))
        ));
    }

    #[test]
    fn credentials_are_not_printed() {
        let c = format!("{:?}", Credential::Bearer("secret.jwt".into()));
        assert!(!c.contains("secret"));
    }
}
