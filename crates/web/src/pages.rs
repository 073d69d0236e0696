//! The shell: dashboard, patient header, patient search, context changes
//! and the flags modal.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::ccow;
use crate::error::{Result, WebError};
use crate::view::{self, HeaderView, PatientHeader, Shell};
use crate::widgets;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use chrono::{NaiveDate, Utc};
use domain::flags::{ReviewStatus, review_status};
use domain::record::{Demographics, Flag, FlagHistoryEntry, PatientSummary, SearchKind};
use serde::Deserialize;

/// Most results the patient search returns.
pub const SEARCH_LIMIT: u32 = 20;

pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// Whether a flag's review is overdue today (computed now, not at ETL time).
pub fn flag_overdue(f: &Flag, today: NaiveDate) -> bool {
    f.is_active
        && review_status(
            f.next_review_date.map(|d| d.date()),
            f.review_notification_days
                .and_then(|d| u32::try_from(d).ok()),
            today,
        ) == ReviewStatus::Overdue
}

/// The header for a context: the patient's demographics and flag counts.
/// A context naming a patient that is not in the serving DB shows no
/// patient.
pub async fn header_view(app: &AppState, ctx: &ccow::Context) -> Result<HeaderView> {
    let patient = match &ctx.icn {
        Some(icn) => app.store().patient(icn).await?,
        None => None,
    };
    match patient {
        Some(d) => header_for(app, &d, ctx.shared).await,
        None => Ok(HeaderView {
            patient: None,
            shared: ctx.shared,
        }),
    }
}

/// The header of an already loaded patient (reads only the flags).
pub async fn header_for(app: &AppState, d: &Demographics, shared: bool) -> Result<HeaderView> {
    let flags = app.store().flags(&d.icn).await?;
    let today = today();
    let active = flags.iter().filter(|f| f.is_active).count();
    let overdue = flags.iter().filter(|f| flag_overdue(f, today)).count();
    Ok(HeaderView {
        patient: Some(PatientHeader::new(d, active, overdue)),
        shared,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub shell: Shell,
    pub icn: Option<String>,
    pub widgets: &'static [widgets::WidgetSpec],
}

/// `GET /` and `/dashboard`: the widget grid for the user's CCOW patient,
/// or the empty state.
pub async fn dashboard(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Html<String>> {
    let ctx = ccow::current(&app, &user).await?;
    let header = header_view(&app, &ctx).await?;
    let icn = header.patient.as_ref().map(|p| p.icn.clone());
    let shell = Shell::new(&app, &user, &header, "dashboard").await;
    Ok(view::render(&DashboardPage {
        shell,
        icn,
        widgets: widgets::DASHBOARD,
    }))
}

/// `GET /api/patient/header` (also `/current`, `/refresh`): the topbar's
/// patient header, re-read from the vault.
pub async fn header(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Html<String>> {
    let ctx = ccow::current(&app, &user).await?;
    let header = header_view(&app, &ctx).await?;
    Ok(view::render(&view::HeaderPartial { header: &header }))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub search_type: Option<String>,
}

#[derive(Template)]
#[template(path = "partials/search_results.html")]
pub struct SearchResults {
    pub query: String,
    pub prompt: bool,
    pub results: Vec<SearchRow>,
}

pub struct SearchRow {
    pub icn: String,
    pub name: String,
    pub sex: String,
    pub age: String,
    pub dob: String,
    pub ssn_masked: String,
    pub station: String,
    pub deceased: bool,
}

impl From<PatientSummary> for SearchRow {
    fn from(p: PatientSummary) -> Self {
        SearchRow {
            name: p.name_display.unwrap_or_else(|| "(name unknown)".into()),
            sex: p.sex.unwrap_or_else(|| "—".into()),
            age: p.age.map(|a| a.to_string()).unwrap_or_else(|| "—".into()),
            dob: view::date(p.dob),
            ssn_masked: view::mask_ssn(p.ssn_last4.as_deref()),
            station: p.primary_station.unwrap_or_else(|| "—".into()),
            deceased: p.deceased_flag.as_deref() == Some("Y") || p.death_date.is_some(),
            icn: p.icn,
        }
    }
}

/// `GET /api/patient/search?query=&search_type=name|icn`: up to 20
/// matches as a result list (HTML). Names match from 2 characters on the
/// start of the last or first name; an ICN must match exactly.
pub async fn search(
    State(app): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Html<String>> {
    let query = q.query.trim().to_string();
    let kind = match q.search_type.as_deref().unwrap_or("name") {
        "name" | "" => SearchKind::Name,
        "icn" => SearchKind::Icn,
        other => {
            return Err(WebError::BadRequest(format!(
                "unknown search_type `{other}`: expected name or icn"
            )));
        }
    };
    if query.chars().count() < 2 || query.chars().count() > 100 {
        return Ok(view::render(&SearchResults {
            query,
            prompt: true,
            results: Vec::new(),
        }));
    }
    let rows = app
        .store()
        .search_patients(&query, kind, SEARCH_LIMIT)
        .await?;
    Ok(view::render(&SearchResults {
        query,
        prompt: false,
        results: rows.into_iter().map(SearchRow::from).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct SetContextForm {
    #[serde(default)]
    pub icn: String,
}

/// After a context change: HTMX navigates to the dashboard, a plain form
/// post is redirected there.
fn to_dashboard(headers: &HeaderMap) -> Response {
    if is_htmx(headers) {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut()
            .insert("hx-redirect", HeaderValue::from_static("/"));
        r
    } else {
        Redirect::to("/").into_response()
    }
}

/// `POST /api/patient/set-context` (form `icn`): makes the patient the
/// user's CCOW context.
pub async fn set_context(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
    Form(form): Form<SetContextForm>,
) -> Result<Response> {
    let icn = form.icn.trim();
    if icn.is_empty() {
        return Err(WebError::BadRequest("icn is required".into()));
    }
    if app.store().patient(icn).await?.is_none() {
        return Err(WebError::patient_not_found());
    }
    ccow::set(&app, &user, icn).await?;
    Ok(to_dashboard(&headers))
}

/// `POST /api/patient/clear-context`: no patient in context.
pub async fn clear_context(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
) -> Result<Response> {
    ccow::clear(&app, &user).await?;
    Ok(to_dashboard(&headers))
}

pub struct FlagView {
    pub assignment_id: i64,
    pub name: String,
    pub category: String,
    pub flag_type: String,
    pub status: String,
    pub assigned: String,
    pub inactivated: String,
    pub owner_site: String,
    pub review: String,
    pub review_class: &'static str,
    pub next_review: String,
    pub last_action: String,
}

impl FlagView {
    fn new(f: &Flag, today: NaiveDate) -> FlagView {
        let status = if f.is_active {
            review_status(
                f.next_review_date.map(|d| d.date()),
                f.review_notification_days
                    .and_then(|d| u32::try_from(d).ok()),
                today,
            )
        } else {
            ReviewStatus::NotApplicable
        };
        let review_class = match status {
            ReviewStatus::Overdue => "badge--danger",
            ReviewStatus::DueSoon => "badge--warning",
            _ => "badge--info",
        };
        FlagView {
            assignment_id: f.assignment_id,
            name: f.flag_name.clone(),
            category: f.flag_category.clone(),
            flag_type: f.flag_type.clone().unwrap_or_default(),
            status: f
                .assignment_status
                .clone()
                .unwrap_or_else(|| if f.is_active { "ACTIVE" } else { "INACTIVE" }.into()),
            assigned: view::date(f.assignment_date.map(|d| d.date())),
            inactivated: view::date(f.inactivation_date.map(|d| d.date())),
            owner_site: view::site_label(f.owner_site.as_deref(), f.owner_site_name.as_deref()),
            review: status.as_str().to_string(),
            review_class,
            next_review: view::date(f.next_review_date.map(|d| d.date())),
            last_action: match (&f.last_action, f.last_action_date) {
                (Some(a), Some(d)) => format!("{a} ({})", d.date()),
                (Some(a), None) => a.clone(),
                _ => "—".into(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "partials/flags_modal.html")]
pub struct FlagsModal {
    pub icn: String,
    pub active_count: usize,
    pub national: Vec<FlagView>,
    pub local: Vec<FlagView>,
    pub inactive: Vec<FlagView>,
}

fn is_national(category: &str) -> bool {
    matches!(category.trim(), "I" | "1")
}

/// `GET /api/patient/{icn}/flags/modal`: the flags modal's body.
pub async fn flags_modal(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Html<String>> {
    if app.store().patient(&icn).await?.is_none() {
        return Err(WebError::patient_not_found());
    }
    let flags = app.store().flags(&icn).await?;
    let today = today();
    let (active, inactive): (Vec<&Flag>, Vec<&Flag>) = flags.iter().partition(|f| f.is_active);
    let (national, local): (Vec<&Flag>, Vec<&Flag>) =
        active.iter().partition(|f| is_national(&f.flag_category));
    Ok(view::render(&FlagsModal {
        icn,
        active_count: active.len(),
        national: national.iter().map(|f| FlagView::new(f, today)).collect(),
        local: local.iter().map(|f| FlagView::new(f, today)).collect(),
        inactive: inactive.iter().map(|f| FlagView::new(f, today)).collect(),
    }))
}

pub struct HistoryRow {
    pub date: String,
    pub action: String,
    pub entered_by: String,
    pub approved_by: String,
    pub site: String,
    pub narrative: String,
}

#[derive(Template)]
#[template(path = "partials/flag_history.html")]
pub struct FlagHistoryPartial {
    pub rows: Vec<HistoryRow>,
}

/// `GET /api/patient/{icn}/flags/{assignment_id}/history`: HTML for HTMX
/// (loaded lazily in the flags modal), JSON otherwise. Names of the staff
/// who entered and approved each action are shown.
pub async fn flag_history(
    State(app): State<AppState>,
    Path((icn, assignment_id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Result<Response> {
    if app.store().patient(&icn).await?.is_none() {
        return Err(WebError::patient_not_found());
    }
    let history: Vec<FlagHistoryEntry> = app.store().flag_history(&icn, assignment_id).await?;
    if history.is_empty() {
        return Err(WebError::NotFound("No history for this flag.".into()));
    }
    if !is_htmx(&headers) {
        return Ok(Json(serde_json::json!({
            "patient_icn": icn,
            "assignment_id": assignment_id,
            "history_count": history.len(),
            "history": history,
        }))
        .into_response());
    }
    let dash = |s: &Option<String>| {
        s.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "—".into())
    };
    let rows = history
        .iter()
        .map(|h| HistoryRow {
            date: h.history_date.format("%Y-%m-%d %H:%M").to_string(),
            action: dash(&h.action_name),
            entered_by: dash(&h.entered_by_name),
            approved_by: dash(&h.approved_by_name),
            site: view::site_label(h.event_site.as_deref(), h.event_site_name.as_deref()),
            narrative: h.history_comments.clone().unwrap_or_default(),
        })
        .collect();
    Ok(view::render(&FlagHistoryPartial { rows }).into_response())
}

/// `GET /health`: liveness plus whether the serving DB answers.
pub async fn health(State(app): State<AppState>) -> Response {
    use store::ServingStore;
    match app.store().runs(1).await {
        Ok(_) => Json(serde_json::json!({"status": "ok", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health: serving database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "degraded", "database": "unavailable"})),
            )
                .into_response()
        }
    }
}

pub async fn not_found() -> WebError {
    WebError::NotFound("Page not found.".into())
}
