//! Sign-in, sessions and the audit trail.
//!
//! Sessions are rows of `auth.sessions` with a sliding window (25 minutes
//! by default): every authenticated request moves `expires_at` and resends
//! the cookie with a fresh `Max-Age`. One active session per user: signing
//! in ends the others. The sign-in form carries its own CSRF token
//! (double-submit cookie), since there is no session yet.
//!
//! Lockout: the `max_failed_attempts`-th consecutive wrong password locks
//! the account for `lockout` (or until unlocked). The lock is checked
//! before the password, so a locked account cannot be probed.
//!
//! Audit events: `login`, `login_failed` (with its reason), `logout`,
//! `session_timeout`, `access_denied` and `lockout`, each with the client's
//! IP and user agent.

use crate::AppState;
use crate::config::Config;
use crate::error::{Result, WebError};
use crate::view;
use axum::Form;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use store::auth::{AuditEvent, NewSession};

/// The signed-in user of a request (inserted by
/// [`require_session`](crate::middleware::require_session)).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub session_id: String,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientMeta {
    pub fn of(config: &Config, req: &Request) -> ClientMeta {
        Self::from_parts(
            config,
            req.headers(),
            req.extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        )
    }

    pub fn from_parts(
        config: &Config,
        headers: &HeaderMap,
        peer: Option<std::net::SocketAddr>,
    ) -> ClientMeta {
        let forwarded = config
            .trust_forwarded_for
            .then(|| {
                headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
            .flatten();
        ClientMeta {
            ip: forwarded.or_else(|| peer.map(|p| p.ip().to_string())),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(512).collect()),
        }
    }
}

pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

fn cookie_attrs(config: &Config) -> &'static str {
    if config.session.cookie_secure {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

/// How much longer than the server's window the cookie lives, so that the
/// server still sees an expired session: it can then say so on the sign-in
/// page and audit the timeout, instead of the browser silently dropping the
/// cookie first.
pub const COOKIE_GRACE_SECS: u64 = 60;

/// The session cookie, valid for one more window (plus the grace).
pub fn session_cookie(config: &Config, session_id: &str) -> String {
    format!(
        "{}={session_id}; Max-Age={}{}",
        config.session.cookie_name,
        config.session.timeout.as_secs() + COOKIE_GRACE_SECS,
        cookie_attrs(config)
    )
}

pub fn clear_session_cookie(config: &Config) -> String {
    format!(
        "{}=; Max-Age=0{}",
        config.session.cookie_name,
        cookie_attrs(config)
    )
}

const LOGIN_CSRF_COOKIE: &str = "login_csrf";

/// One audit event to record.
pub(crate) struct Audit<'a> {
    pub event: &'a str,
    pub user_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub success: bool,
    pub reason: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

impl<'a> Audit<'a> {
    /// A failure of a known user's sign-in (`login_failed`, `lockout`).
    fn user_failure(event: &'a str, user: &'a store::auth::User, reason: &'a str) -> Audit<'a> {
        Audit {
            event,
            user_id: Some(&user.user_id),
            email: Some(&user.email),
            success: false,
            reason: Some(reason),
            session_id: None,
        }
    }
}

pub(crate) async fn audit(app: &AppState, meta: &ClientMeta, a: Audit<'_>) {
    let event = AuditEvent {
        user_id: a.user_id.map(str::to_string),
        event_type: a.event.to_string(),
        at: now(),
        email: a.email.map(str::to_string),
        ip_address: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        success: Some(a.success),
        failure_reason: a.reason.map(str::to_string),
        session_id: a.session_id.map(str::to_string),
    };
    // Losing an audit row must not go unnoticed, but must not fail the
    // request either.
    if let Err(e) = app.store().audit(&event).await {
        tracing::error!(error = %e, event_type = a.event, "could not write the audit log");
    }
}

pub(crate) async fn audit_access_denied(
    app: &AppState,
    user: &CurrentUser,
    meta: &ClientMeta,
    reason: &str,
) {
    audit(
        app,
        meta,
        Audit {
            event: "access_denied",
            user_id: Some(&user.user_id),
            email: Some(&user.email),
            success: false,
            reason: Some(reason),
            session_id: Some(&user.session_id),
        },
    )
    .await;
}

/// The session behind a cookie value, checked: active, not expired, user
/// active. An expired session is ended and audited as `session_timeout`.
pub(crate) async fn resolve_session(
    app: &AppState,
    session_id: &str,
    meta: &ClientMeta,
) -> Result<CurrentUser> {
    let Some(session) = app.store().session(session_id).await? else {
        return Err(WebError::Unauthenticated { notice: None });
    };
    if !session.is_active {
        return Err(WebError::Unauthenticated {
            notice: Some("ended"),
        });
    }
    let now = now();
    let user = app.store().user(&session.user_id).await?;
    if session.expires_at <= now {
        app.store().end_session(session_id).await?;
        audit(
            app,
            meta,
            Audit {
                event: "session_timeout",
                user_id: Some(&session.user_id),
                email: user.as_ref().map(|u| u.email.as_str()),
                success: false,
                reason: Some("Session expired"),
                session_id: Some(session_id),
            },
        )
        .await;
        return Err(WebError::Unauthenticated {
            notice: Some("expired"),
        });
    }
    let Some(user) = user.filter(|u| u.is_active) else {
        app.store().end_session(session_id).await?;
        audit(
            app,
            meta,
            Audit {
                event: "access_denied",
                user_id: Some(&session.user_id),
                email: None,
                success: false,
                reason: Some("Account inactive"),
                session_id: Some(session_id),
            },
        )
        .await;
        return Err(WebError::Unauthenticated {
            notice: Some("inactive"),
        });
    };
    Ok(CurrentUser {
        roles: user.role_list(),
        user_id: user.user_id,
        email: user.email,
        display_name: user.display_name,
        session_id: session.session_id,
        csrf_token: session.csrf_token,
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    })
}

/// Moves the session's window forward.
pub(crate) async fn slide(app: &AppState, user: &CurrentUser) -> Result<()> {
    let now = now();
    let until = now + app.config().session.timeout;
    app.store()
        .touch_session(&user.session_id, now, until)
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub notice: Option<String>,
    pub next: Option<String>,
}

/// `GET /login`: the form, or straight to the app when signed in.
pub async fn login_page(
    State(app): State<AppState>,
    Query(q): Query<LoginQuery>,
    req: Request,
) -> Result<Response> {
    let meta = ClientMeta::of(app.config(), &req);
    if let Some(sid) = cookie(req.headers(), &app.config().session.cookie_name)
        && resolve_session(&app, &sid, &meta).await.is_ok()
    {
        return Ok(Redirect::to("/").into_response());
    }
    let notice = q.notice.as_deref().and_then(notice_text);
    Ok(login_form(
        &app,
        StatusCode::OK,
        None,
        notice,
        "",
        q.next.as_deref(),
    ))
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "expired" => "Your session expired after a period of inactivity. Please sign in again.",
        "ended" => {
            "Your session has ended (signed out, or signed in elsewhere). Please sign in again."
        }
        "signed_out" => "You have been signed out.",
        "inactive" => "Your account is inactive. Please contact your administrator.",
        _ => return None,
    })
}

/// The sign-in form with a fresh login-CSRF token (cookie + hidden field).
fn login_form(
    app: &AppState,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&str>,
    email: &str,
    next: Option<&str>,
) -> Response {
    let token = random_token();
    let page = view::LoginPage {
        error,
        notice: notice.map(str::to_string),
        email: email.to_string(),
        csrf_token: token.clone(),
        next: next.filter(|n| safe_next(n)).map(str::to_string),
        demo_hint: !app.config().is_production(),
    };
    let mut resp = (status, view::render(&page)).into_response();
    let secure = if app.config().session.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; Max-Age=3600; Path=/login; HttpOnly; SameSite=Strict{secure}"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A redirect target after sign-in: a path on this site only.
fn safe_next(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && next.len() < 512
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf_token: String,
    pub next: Option<String>,
}

const INVALID: &str = "Invalid email or password.";

/// `POST /login`.
pub async fn login(
    State(app): State<AppState>,
    ConnectInfoOpt(peer): ConnectInfoOpt,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let meta = ClientMeta::from_parts(app.config(), &headers, peer);
    let email = form.email.trim().to_string();
    let next = form.next.as_deref().filter(|n| safe_next(n));
    let form_again = |status, msg: String| login_form(&app, status, Some(msg), None, &email, next);

    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_token.is_empty()
        || !constant_time_eq(cookie_token.as_bytes(), form.csrf_token.as_bytes())
    {
        return Ok(form_again(
            StatusCode::FORBIDDEN,
            "The sign-in form expired. Please try again.".into(),
        ));
    }
    if email.is_empty() || form.password.is_empty() {
        return Ok(form_again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email and password.".into(),
        ));
    }
    let now = now();
    let user = app.store().user_by_email(&email).await?;
    let Some(user) = user else {
        // Same work as a wrong password, so timing does not reveal
        // which emails exist.
        let _ = verify_password(form.password.clone(), app.dummy_hash().to_string()).await;
        audit(
            &app,
            &meta,
            Audit {
                event: "login_failed",
                user_id: None,
                email: Some(&email),
                success: false,
                reason: Some("User not found"),
                session_id: None,
            },
        )
        .await;
        return Ok(form_again(StatusCode::UNAUTHORIZED, INVALID.into()));
    };
    if user.locked_at(now) {
        audit(
            &app,
            &meta,
            Audit::user_failure("login_failed", &user, "Account locked"),
        )
        .await;
        return Ok(form_again(
            StatusCode::FORBIDDEN,
            locked_message(&app, user.locked_until),
        ));
    }
    if !user.is_active {
        audit(
            &app,
            &meta,
            Audit::user_failure("login_failed", &user, "Account inactive"),
        )
        .await;
        return Ok(form_again(
            StatusCode::FORBIDDEN,
            "Account is inactive. Please contact your administrator.".into(),
        ));
    }
    if !verify_password(form.password.clone(), user.password_hash.clone()).await {
        let login = &app.config().login;
        let lock_until = login.lockout.map(|d| now + d);
        let failed = app
            .store()
            .record_failed_login(
                &user.user_id,
                i32::try_from(login.max_failed_attempts).unwrap_or(i32::MAX),
                lock_until,
                now,
            )
            .await?;
        audit(
            &app,
            &meta,
            Audit::user_failure("login_failed", &user, "Invalid password"),
        )
        .await;
        if failed.locked_now {
            let reason = format!("{} consecutive failed sign-in attempts", failed.attempts);
            audit(&app, &meta, Audit::user_failure("lockout", &user, &reason)).await;
            return Ok(form_again(
                StatusCode::FORBIDDEN,
                locked_message(&app, lock_until),
            ));
        }
        return Ok(form_again(StatusCode::UNAUTHORIZED, INVALID.into()));
    }

    let session_id = uuid::Uuid::new_v4().to_string();
    let csrf = random_token();
    let expires = now + app.config().session.timeout;
    app.store()
        .create_session(&NewSession {
            session_id: &session_id,
            user_id: &user.user_id,
            csrf_token: &csrf,
            now,
            expires_at: expires,
            ip_address: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
        })
        .await?;
    app.store().record_login(&user.user_id, now).await?;
    audit(
        &app,
        &meta,
        Audit {
            event: "login",
            user_id: Some(&user.user_id),
            email: Some(&user.email),
            success: true,
            reason: None,
            session_id: Some(&session_id),
        },
    )
    .await;

    let mut resp = Redirect::to(next.unwrap_or("/")).into_response();
    let h = resp.headers_mut();
    for c in [
        session_cookie(app.config(), &session_id),
        format!("{LOGIN_CSRF_COOKIE}=; Max-Age=0; Path=/login; HttpOnly; SameSite=Strict"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

fn locked_message(app: &AppState, until: Option<NaiveDateTime>) -> String {
    let n = app.config().login.max_failed_attempts;
    match until {
        Some(until) => format!(
            "Account locked after {n} failed sign-in attempts. Try again after {} UTC, or contact your administrator.",
            until.format("%H:%M")
        ),
        None => format!(
            "Account locked after {n} failed sign-in attempts. Please contact your administrator."
        ),
    }
}

/// bcrypt on a blocking thread (cost 12 takes a quarter of a second).
async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

/// `POST /logout` (form with CSRF token) and `GET /logout`: ends the
/// session, audits it, clears the cookie. The CCOW context stays (it is
/// the user's, shared with their other applications).
pub async fn logout(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Response> {
    app.store().end_session(&user.session_id).await?;
    let meta = ClientMeta {
        ip: user.ip.clone(),
        user_agent: user.user_agent.clone(),
    };
    audit(
        &app,
        &meta,
        Audit {
            event: "logout",
            user_id: Some(&user.user_id),
            email: Some(&user.email),
            success: true,
            reason: None,
            session_id: Some(&user.session_id),
        },
    )
    .await;
    crate::ccow::forget_session(&app, &user);
    // Cached VistA answers are this user's; they go with the session.
    if let Some(v) = app.vista() {
        v.forget_user(&user.user_id);
    }
    let mut resp = Redirect::to("/login?notice=signed_out").into_response();
    // The middleware appends a refreshed cookie after the handler; this
    // later header wins in browsers, but drop any earlier one to be clear.
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear_session_cookie(app.config()))
            .map_err(|e| WebError::Internal(e.to_string()))?,
    );
    resp.extensions_mut().insert(SessionEnded);
    Ok(resp)
}

/// Marks a response whose session just ended: the session middleware must
/// not refresh its cookie.
#[derive(Debug, Clone, Copy)]
pub struct SessionEnded;

/// `ConnectInfo` when the server provides it (not in in-process tests).
pub struct ConnectInfoOpt(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConnectInfoOpt {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(ConnectInfoOpt(
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IntrospectRequest {
    pub session_id: String,
}

/// The vault's view of a web session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntrospectResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// `POST /api/auth/introspect`: lets the CCOW vault accept a web session
/// (`X-Session-ID` / `session_id` cookie). Requires the shared
/// `X-Introspection-Key`. Does not slide the session.
#[utoipa::path(
    post,
    path = "/api/auth/introspect",
    tag = "auth",
    request_body = IntrospectRequest,
    responses(
        (status = 200, description = "Whether the session is active, and whose it is", body = IntrospectResponse),
        (status = 401, description = "Missing or wrong X-Introspection-Key"),
    )
)]
pub async fn introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<IntrospectResponse>> {
    let Some(expected) = app.config().introspection_key.as_deref() else {
        return Err(WebError::NotFound(
            "session introspection is disabled".into(),
        ));
    };
    let given = headers
        .get("x-introspection-key")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, expected.as_bytes()) {
        return Err(WebError::Unauthenticated { notice: None });
    }
    let req: IntrospectRequest = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("expected {{\"session_id\": \"…\"}}: {e}")))?;
    let inactive = IntrospectResponse {
        active: false,
        user_id: None,
        email: None,
        display_name: None,
        roles: Vec::new(),
    };
    let Some(session) = app.store().session(&req.session_id).await? else {
        return Ok(Json(inactive));
    };
    if !session.is_active || session.expires_at <= now() {
        return Ok(Json(inactive));
    }
    match app.store().user(&session.user_id).await? {
        Some(u) if u.is_active => Ok(Json(IntrospectResponse {
            active: true,
            roles: u.role_list(),
            user_id: Some(u.user_id),
            email: Some(u.email),
            display_name: Some(u.display_name),
        })),
        _ => Ok(Json(inactive)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert!(safe_next("/patient/ICN1/vitals"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert!(!safe_next(bad), "{bad}");
        }
    }

    #[test]
    fn cookies_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; session_id=abc; b="),
        );
        assert_eq!(cookie(&h, "session_id").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
