//! Cross-cutting request handling: security headers, sessions + CSRF, and
//! rendering errors for whoever asked.

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ErrorInfo, WebError};
use crate::view;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The Content-Security-Policy of every page: no inline scripts, no
/// framing, nothing from other origins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Swagger UI sets inline styles; only its pages get this relaxation.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/docs");
    let asset = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let csp = if docs { DOCS_CSP } else { CSP };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Clinical data must not linger in shared caches or the back button.
    if !asset && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Who asked: decides how an error is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A browser navigating: full HTML page.
    Page,
    /// An HTMX request: an HTML fragment (swapped in place).
    Htmx,
    /// The JSON API.
    Json,
}

impl Audience {
    pub fn of(path: &str, headers: &HeaderMap) -> Audience {
        if headers.get("hx-request").is_some_and(|v| v == "true") {
            Audience::Htmx
        } else if path.starts_with("/api/") {
            Audience::Json
        } else {
            Audience::Page
        }
    }
}

/// Renders responses carrying an [`ErrorInfo`] for their audience.
pub async fn render_errors(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let audience = Audience::of(req.uri().path(), req.headers());
    let resp = next.run(req).await;
    let Some(info) = resp.extensions().get::<ErrorInfo>().cloned() else {
        return resp;
    };
    // Keep headers the handler set (e.g. an expired session cookie).
    let (parts, _) = resp.into_parts();
    let mut out = match (info.status, audience) {
        (StatusCode::UNAUTHORIZED, Audience::Page) => {
            let to = match info.login_notice {
                Some(n) => format!("/login?notice={n}"),
                None => "/login".to_string(),
            };
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        (StatusCode::UNAUTHORIZED, Audience::Htmx) => {
            let to = match info.login_notice {
                Some(n) => format!("/login?notice={n}"),
                None => "/login".to_string(),
            };
            let mut r = (info.status, view::error_fragment(&info.message)).into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert("hx-redirect", v);
            }
            r
        }
        (status, Audience::Json) => (
            status,
            axum::Json(serde_json::json!({ "detail": info.message })),
        )
            .into_response(),
        (status, Audience::Htmx) => (status, view::error_fragment(&info.message)).into_response(),
        (status, Audience::Page) => {
            (status, view::error_page(&app, status, &info.message)).into_response()
        }
    };
    for (name, value) in parts.headers.iter() {
        if name == header::SET_COOKIE {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}

/// Requires a valid session: loads it, checks expiry and the user, checks
/// CSRF on state-changing requests, slides the window and refreshes the
/// cookie. Inserts [`CurrentUser`] for the handlers.
pub async fn require_session(State(app): State<AppState>, req: Request, next: Next) -> Response {
    match check_session(&app, req).await {
        Ok((req, user)) => {
            let cookie = auth::session_cookie(app.config(), &user.session_id);
            let mut resp = next.run(req).await;
            let ended = resp.extensions().get::<auth::SessionEnded>().is_some();
            if !ended && let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err((err, clear_cookie)) => {
            let mut resp = err.into_response();
            if clear_cookie
                && let Ok(v) = HeaderValue::from_str(&auth::clear_session_cookie(app.config()))
            {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
    }
}

async fn check_session(
    app: &AppState,
    req: Request,
) -> Result<(Request, CurrentUser), (WebError, bool)> {
    let meta = auth::ClientMeta::of(app.config(), &req);
    let Some(session_id) = auth::cookie(req.headers(), &app.config().session.cookie_name) else {
        return Err((WebError::Unauthenticated { notice: None }, false));
    };
    let user = auth::resolve_session(app, &session_id, &meta)
        .await
        .map_err(|e| {
            let clear = matches!(e, WebError::Unauthenticated { .. });
            (e, clear)
        })?;
    let req = if is_state_changing(req.method()) {
        match csrf_check(app, req, &user.csrf_token).await {
            Ok(req) => req,
            Err(e) => {
                auth::audit_access_denied(app, &user, &meta, "CSRF token missing or invalid").await;
                return Err((e, false));
            }
        }
    } else {
        req
    };
    auth::slide(app, &user).await.map_err(|e| (e, false))?;
    let mut req = req;
    req.extensions_mut().insert(user.clone());
    Ok((req, user))
}

fn is_state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The token comes in the `X-CSRF-Token` header (HTMX, fetch) or, for a
/// plain form post, in the `csrf_token` field, which needs the body read
/// (and put back for the handler).
async fn csrf_check(app: &AppState, req: Request, expected: &str) -> Result<Request, WebError> {
    let denied = || {
        WebError::Forbidden(
            "Your request could not be verified (CSRF). Reload the page and try again.".into(),
        )
    };
    if let Some(v) = req.headers().get("x-csrf-token") {
        return if auth::constant_time_eq(v.as_bytes(), expected.as_bytes()) {
            Ok(req)
        } else {
            Err(denied())
        };
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(denied());
    }
    let (parts, body) = req.into_parts();
    let max = app.config().max_body_bytes;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| WebError::PayloadTooLarge(max))?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned());
    match token {
        Some(t) if auth::constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(denied()),
    }
}
