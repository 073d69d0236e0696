//! The web app's one error type.
//!
//! Every variant maps to exactly one status ([`WebError::status`]). The
//! body depends on who asked, which the error cannot know, so handlers
//! return a bare response carrying an [`ErrorInfo`] extension and the
//! [`render_errors`](crate::middleware::render_errors) middleware renders
//! it as a full page (browser navigation), an HTML fragment (HTMX) or
//! `{"detail": …}` (JSON API).
//!
//! Messages are shown to users and never contain patient identifiers or
//! names; the detailed cause goes to the log without them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No valid session: pages redirect to the sign-in page, HTMX requests
    /// get `HX-Redirect`, JSON gets 401.
    /// `notice` names the message the sign-in page shows (`expired`, …).
    #[error("sign in required")]
    Unauthenticated { notice: Option<&'static str> },
    /// Signed in, but not allowed (including a failed CSRF check).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but invalid input.
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A dependency (serving DB, CCOW vault) is down.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

pub type Result<T, E = WebError> = std::result::Result<T, E>;

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text shown to the user.
    pub fn public_message(&self) -> String {
        match self {
            WebError::Internal(_) => "Something went wrong. Please try again.".into(),
            other => other.to_string(),
        }
    }

    pub fn patient_not_found() -> WebError {
        WebError::NotFound("Patient not found.".into())
    }
}

/// What [`render_errors`](crate::middleware::render_errors) needs to render
/// an error response.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
    /// For 401: the notice the sign-in page shows.
    pub login_notice: Option<&'static str>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::Internal(cause) => tracing::error!(%cause, "internal error"),
            WebError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let status = self.status();
        let login_notice = match &self {
            WebError::Unauthenticated { notice } => *notice,
            _ => None,
        };
        let mut resp = status.into_response();
        resp.extensions_mut().insert(ErrorInfo {
            status,
            message: self.public_message(),
            login_notice,
        });
        resp
    }
}

impl From<store::Error> for WebError {
    fn from(e: store::Error) -> Self {
        if e.is_unavailable() {
            WebError::Unavailable(format!("serving database unavailable: {e}"))
        } else {
            WebError::Internal(format!("serving database: {e}"))
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}
