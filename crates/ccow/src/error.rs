//! The vault's one error type. Every variant maps to exactly one status,
//! and every error body is `{"detail": "…"}` (as the v2.1 vault).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ccow_client::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credential, or one that does not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (admin endpoints).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the current state (e.g. closing a patient
    /// that is not open).
    #[error("{0}")]
    Conflict(String),
    /// A malformed request (bad query, bad JSON syntax).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but invalid (e.g. a `patient_id` that is not an ICN).
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A dependency (store, identity provider) does not answer.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ApiError {
    /// A raw body that could not be read (`max` is the configured limit).
    pub fn from_body(r: axum::extract::rejection::BytesRejection, max: usize) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(max)
        } else {
            ApiError::BadRequest(r.body_text())
        }
    }
}

impl From<ccow_store::Error> for ApiError {
    fn from(e: ccow_store::Error) -> Self {
        // The store's message stays in the log; clients get a generic one.
        ApiError::Unavailable(format!("context store unavailable ({})", short(&e)))
    }
}

fn short(e: &ccow_store::Error) -> &'static str {
    match e {
        ccow_store::Error::BadUrl(_) => "configuration",
        ccow_store::Error::Sql(_) => "sql",
        ccow_store::Error::Redis(_) => "redis",
        ccow_store::Error::Corrupt(_) => "corrupt data",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) | ApiError::Unavailable(detail) = &self {
            tracing::error!(%status, "{detail}");
        }
        let mut resp = (
            status,
            Json(ErrorBody {
                detail: self.to_string(),
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ccow\""),
            );
        }
        resp
    }
}
