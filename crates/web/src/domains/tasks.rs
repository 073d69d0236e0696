//! Clinical tasks (reference §3.12): the one read/write domain.
//!
//! - `GET /patient/{icn}/tasks`: summary cards, filters (status, priority,
//!   created by), task cards with Start / Complete / Revert / Edit /
//!   Delete and a "New task" form. An HTMX request (not a history
//!   restore) gets only the `#tasks-region` fragment.
//! - Writes under `/api/patient/…`: JSON for API callers; an HTMX request
//!   gets re-rendered HTML instead (the page's region, or the dashboard
//!   widget with `?view=widget`) — never raw JSON (QUIRK 8 fixed); a plain
//!   browser form post (`Accept: text/html`) is redirected back to the
//!   page. Every successful write sends `HX-Trigger: taskUpdated`, which
//!   refreshes the dashboard's tasks widget.
//!
//! The creator and the completer are the signed-in user (id and display
//! name). Any signed-in clinician may act on any task (reference: design
//! phase 1).

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::domains::{PageContext, Pagination, QueryUrl};
use crate::error::{Result, WebError};
use crate::pages::{is_htmx, today};
use crate::view::{self, Shell};
use crate::widgets;
use askama::Template;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use chrono::{NaiveDateTime, Utc};
use domain::record::{
    NewTask, TASK_TITLE_MAX_CHARS, Task, TaskPriority, TaskStatus, TaskUpdate, task_title_is_valid,
};
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/tasks", get(page))
        // GET of the same path is the list in api.rs; methods merge.
        .route("/api/patient/{icn}/tasks", post(create))
        .route("/api/patient/{icn}/tasks/summary", get(summary_json))
        .route(
            "/api/patient/tasks/{id}",
            axum::routing::put(update).delete(delete),
        )
        // Plain-form equivalents of PUT and DELETE (forms only POST).
        .route("/api/patient/tasks/{id}/update", post(update))
        .route("/api/patient/tasks/{id}/delete", post(delete))
        .route("/api/patient/tasks/{id}/start", post(start))
        .route("/api/patient/tasks/{id}/complete", post(complete))
        .route("/api/patient/tasks/{id}/revert", post(revert))
        .route("/api/patient/tasks/{id}/revert-to-todo", post(revert))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, update, delete, start, complete, revert, summary_json),
    components(schemas(
        TaskInput,
        TaskEdit,
        TaskResponse,
        TaskCreated,
        TaskDeleted,
        TaskSummaryResponse,
        TaskSummary
    ))
)]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

// ---------------------------------------------------------------------------
// Filters (the page's query, also carried by the write endpoints so that an
// HTMX write re-renders the list the user is looking at)

/// The page's filters and page; every field optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilters {
    /// `all` (default), `active`, `TODO`, `IN_PROGRESS` or `COMPLETED`.
    pub status: Option<String>,
    /// `HIGH`, `MEDIUM` or `LOW` (default: any).
    pub priority: Option<String>,
    /// `all` (default), `mine` (created by the signed-in user), `ai`
    /// (AI-suggested) or a user id.
    pub created_by: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
    /// For HTMX writes: `widget` re-renders the dashboard widget, anything
    /// else the page's list.
    pub view: Option<String>,
    /// `1`: open the "New task" form (the widget's "New task" link).
    pub new: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusFilter {
    All,
    Active,
    Only(TaskStatus),
}

/// Who created the tasks listed (`created_by=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Creator {
    All,
    /// The signed-in user.
    Mine,
    /// AI-suggested tasks.
    Ai,
    /// One user, by id.
    User(String),
}

impl Creator {
    /// `all` (or blank), `mine`, `ai`, or a user id (letters, digits, `-`
    /// and `_`, at most 64); `Err` names what is allowed.
    pub(crate) fn parse(value: Option<&str>) -> std::result::Result<Creator, String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty());
        Ok(match v {
            None => Creator::All,
            Some(c) if c.eq_ignore_ascii_case("all") => Creator::All,
            Some(c) if c.eq_ignore_ascii_case("mine") => Creator::Mine,
            Some(c) if c.eq_ignore_ascii_case("ai") => Creator::Ai,
            Some(c)
                if c.len() <= 64
                    && c.chars()
                        .all(|x| x.is_ascii_alphanumeric() || x == '-' || x == '_') =>
            {
                Creator::User(c.to_string())
            }
            Some(c) => {
                return Err(format!(
                    "created_by must be all, mine, ai or a user id (got `{c}`)"
                ));
            }
        })
    }

    pub(crate) fn keeps(&self, t: &Task, user_id: &str) -> bool {
        match self {
            Creator::All => true,
            Creator::Mine => t.created_by_user_id == user_id,
            Creator::Ai => t.is_ai_generated,
            Creator::User(id) => t.created_by_user_id == *id,
        }
    }

    fn value(&self) -> &str {
        match self {
            Creator::All => "",
            Creator::Mine => "mine",
            Creator::Ai => "ai",
            Creator::User(id) => id,
        }
    }
}

/// Parsed [`TaskFilters`].
#[derive(Debug, Clone)]
struct Filters {
    status: StatusFilter,
    priority: Option<TaskPriority>,
    creator: Creator,
    page: Option<u32>,
    page_size: Option<u32>,
}

const DEFAULT_PAGE_SIZE: u32 = 20;

fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filters {
    fn parse(q: &TaskFilters) -> Result<Filters> {
        let status = match text(&q.status) {
            None => StatusFilter::All,
            Some(s) if s.eq_ignore_ascii_case("all") => StatusFilter::All,
            Some(s) if s.eq_ignore_ascii_case("active") => StatusFilter::Active,
            Some(s) => StatusFilter::Only(s.parse().map_err(|_| {
                WebError::BadRequest(format!(
                    "status must be all, active, TODO, IN_PROGRESS or COMPLETED (got `{s}`)"
                ))
            })?),
        };
        let priority = match text(&q.priority) {
            None => None,
            Some(p) if p.eq_ignore_ascii_case("all") => None,
            Some(p) => Some(p.parse().map_err(|_| {
                WebError::BadRequest(format!("priority must be HIGH, MEDIUM or LOW (got `{p}`)"))
            })?),
        };
        let creator = Creator::parse(q.created_by.as_deref()).map_err(WebError::BadRequest)?;
        Ok(Filters {
            status,
            priority,
            creator,
            page: q.page,
            page_size: q.page_size,
        })
    }

    fn keeps(&self, t: &Task, user_id: &str) -> bool {
        (match self.status {
            StatusFilter::All => true,
            StatusFilter::Active => t.status.is_active(),
            StatusFilter::Only(s) => t.status == s,
        }) && self.priority.is_none_or(|p| t.priority == p)
            && self.creator.keeps(t, user_id)
    }

    fn status_value(&self) -> &'static str {
        match self.status {
            StatusFilter::All => "",
            StatusFilter::Active => "active",
            StatusFilter::Only(s) => s.as_str(),
        }
    }

    fn priority_value(&self) -> &'static str {
        self.priority.map(TaskPriority::as_str).unwrap_or("")
    }

    /// `path` with the filters (and the page size; `page` when asked).
    fn url(&self, path: &str, page: Option<u32>, page_size: u32) -> QueryUrl {
        let mut u = QueryUrl::new(path)
            .with("status", self.status_value())
            .with("priority", self.priority_value())
            .with("created_by", self.creator.value());
        if page_size != DEFAULT_PAGE_SIZE {
            u = u.with("page_size", page_size);
        }
        if let Some(p) = page.filter(|p| *p > 1) {
            u = u.with("page", p);
        }
        u
    }
}

// ---------------------------------------------------------------------------
// View models

/// One task as the page shows it.
pub struct TaskCard {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// Raw description for the edit form.
    pub description_raw: String,
    pub priority: &'static str,
    pub priority_label: &'static str,
    pub priority_class: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub created: String,
    pub created_iso: String,
    pub created_by: String,
    pub mine: bool,
    pub completed: Option<String>,
    pub completed_iso: String,
    pub completed_by: String,
    pub updated: String,
    pub ai: bool,
    pub can_start: bool,
    pub can_complete: bool,
    pub can_revert: bool,
    /// `?…` carrying the page's filters, appended to the action URLs.
    pub q: String,
}

fn minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn priority_label(p: TaskPriority) -> &'static str {
    match p {
        TaskPriority::High => "High",
        TaskPriority::Medium => "Medium",
        TaskPriority::Low => "Low",
    }
}

pub fn priority_class(p: TaskPriority) -> &'static str {
    match p {
        TaskPriority::High => "badge--danger",
        TaskPriority::Medium => "badge--warning",
        TaskPriority::Low => "badge--muted",
    }
}

pub fn status_label(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Todo => "To do",
        TaskStatus::InProgress => "In progress",
        TaskStatus::Completed => "Completed",
    }
}

pub fn status_class(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Todo => "badge--muted",
        TaskStatus::InProgress => "badge--info",
        TaskStatus::Completed => "badge--success",
    }
}

fn name(n: &Option<String>) -> String {
    n.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Unknown user")
        .to_string()
}

impl TaskCard {
    fn new(t: &Task, user_id: &str, q: &str) -> TaskCard {
        let description = t
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        TaskCard {
            id: t.task_id,
            title: t.title.clone(),
            description_raw: description.clone().unwrap_or_default(),
            description,
            priority: t.priority.as_str(),
            priority_label: priority_label(t.priority),
            priority_class: priority_class(t.priority),
            status: t.status.as_str(),
            status_label: status_label(t.status),
            status_class: status_class(t.status),
            created: minute(t.created_at),
            created_iso: iso(t.created_at),
            created_by: name(&t.created_by_display_name),
            mine: t.created_by_user_id == user_id,
            completed: t.completed_at.map(minute),
            completed_iso: t.completed_at.map(iso).unwrap_or_default(),
            completed_by: name(&t.completed_by_display_name),
            updated: minute(t.updated_at),
            ai: t.is_ai_generated,
            can_start: t.status == TaskStatus::Todo,
            can_complete: t.status != TaskStatus::Completed,
            can_revert: t.status != TaskStatus::Todo,
            q: q.to_string(),
        }
    }
}

/// The summary cards (over every task of the patient).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskSummary {
    #[serde(rename = "todo_count")]
    pub todo: usize,
    #[serde(rename = "in_progress_count")]
    pub in_progress: usize,
    /// Completed today (UTC).
    #[serde(rename = "completed_today_count")]
    pub completed_today: usize,
    /// AI-suggested tasks not yet completed.
    #[serde(rename = "ai_generated_count")]
    pub ai_suggested: usize,
    /// Active tasks of HIGH priority.
    #[serde(rename = "high_priority_count")]
    pub high: usize,
    #[serde(rename = "total_count")]
    pub total: usize,
}

impl TaskSummary {
    /// The summary of a patient's tasks, today.
    pub fn of(all: &[Task], today: chrono::NaiveDate) -> TaskSummary {
        let counts = sum::task_counts(all);
        TaskSummary {
            todo: counts.todo,
            in_progress: counts.in_progress,
            completed_today: all
                .iter()
                .filter(|t| {
                    t.status == TaskStatus::Completed
                        && t.completed_at.is_some_and(|c| c.date() == today)
                })
                .count(),
            ai_suggested: all
                .iter()
                .filter(|t| t.is_ai_generated && t.status != TaskStatus::Completed)
                .count(),
            high: counts.high_priority,
            total: counts.total,
        }
    }
}

/// One `<option>`.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices(options: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value.eq_ignore_ascii_case(current),
        })
        .collect()
}

/// `#tasks-region`: summary, new-task form, list, pagination.
#[derive(Template)]
#[template(path = "domains/partials/tasks_region.html")]
pub struct TasksRegion {
    pub icn: String,
    pub summary: TaskSummary,
    pub cards: Vec<TaskCard>,
    pub pagination: Pagination,
    pub label: String,
    pub prev_url: String,
    pub next_url: String,
    pub size_urls: Vec<(u32, String, bool)>,
    /// Whether any filter is set (empty-state wording).
    pub filtered: bool,
    /// `?…` with the filters, for the create form's action.
    pub q: String,
    pub priorities: Vec<Choice>,
    pub csrf_token: String,
    /// Show the "New task" form open.
    pub open_form: bool,
}

#[derive(Template)]
#[template(path = "domains/tasks.html")]
pub struct TasksPage {
    pub shell: Shell,
    pub patient_name: String,
    pub icn: String,
    pub statuses: Vec<Choice>,
    pub priorities: Vec<Choice>,
    /// The `created_by` choices (All, Mine, AI-suggested; a user id given
    /// in the URL is kept as its own choice).
    pub creators: Vec<CreatorChoice>,
    pub page_size: u32,
    pub region_html: String,
}

/// One `created_by` `<option>`.
pub struct CreatorChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn creator_choices(current: &Creator) -> Vec<CreatorChoice> {
    let mut out: Vec<CreatorChoice> = [
        (Creator::All, "All"),
        (Creator::Mine, "My tasks"),
        (Creator::Ai, "AI-suggested"),
    ]
    .into_iter()
    .map(|(c, label)| CreatorChoice {
        value: c.value().to_string(),
        label: label.to_string(),
        selected: c == *current,
    })
    .collect();
    if let Creator::User(id) = current {
        out.push(CreatorChoice {
            value: id.clone(),
            label: "One user".into(),
            selected: true,
        });
    }
    out
}

const STATUS_CHOICES: [(&str, &str); 5] = [
    ("", "All"),
    ("active", "Active"),
    ("TODO", "To do"),
    ("IN_PROGRESS", "In progress"),
    ("COMPLETED", "Completed"),
];

const PRIORITY_FILTER_CHOICES: [(&str, &str); 4] = [
    ("", "Any"),
    ("HIGH", "High"),
    ("MEDIUM", "Medium"),
    ("LOW", "Low"),
];

const PRIORITY_CHOICES: [(&str, &str); 3] =
    [("HIGH", "High"), ("MEDIUM", "Medium"), ("LOW", "Low")];

async fn region(app: &AppState, user: &CurrentUser, icn: &str, f: &Filters) -> Result<TasksRegion> {
    let mut all = app.store().tasks(icn).await?;
    all.sort_by(sum::task_order);
    let summary = TaskSummary::of(&all, today());
    let rows: Vec<&Task> = all.iter().filter(|t| f.keeps(t, &user.user_id)).collect();
    let pagination = Pagination::new(f.page, f.page_size, DEFAULT_PAGE_SIZE, rows.len())?;
    let path = format!("/patient/{icn}/tasks");
    let size = pagination.page_size;
    let here = f.url("", Some(pagination.page), size).to_string();
    let cards = rows[pagination.range()]
        .iter()
        .map(|t| TaskCard::new(t, &user.user_id, &here))
        .collect();
    Ok(TasksRegion {
        icn: icn.to_string(),
        summary,
        cards,
        label: pagination.label(),
        prev_url: f
            .url(&path, Some(pagination.page.saturating_sub(1)), size)
            .to_string(),
        next_url: f.url(&path, Some(pagination.page + 1), size).to_string(),
        size_urls: super::PAGE_SIZES
            .iter()
            .map(|s| (*s, f.url(&path, None, *s).to_string(), *s == size))
            .collect(),
        pagination,
        filtered: !matches!(f.status, StatusFilter::All)
            || f.priority.is_some()
            || f.creator != Creator::All,
        q: here,
        priorities: choices(&PRIORITY_CHOICES, "MEDIUM"),
        csrf_token: user.csrf_token.clone(),
        open_form: false,
    })
}

// ---------------------------------------------------------------------------
// The page

/// `GET /patient/{icn}/tasks`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TaskFilters>,
) -> Result<Response> {
    let f = Filters::parse(&q)?;
    let fragment = is_htmx(&headers) && headers.get("hx-history-restore-request").is_none();
    if fragment {
        crate::api::patient(&app, &icn).await?;
        let r = region(&app, &user, &icn, &f).await?;
        return Ok(view::render(&r).into_response());
    }
    let ctx = PageContext::load(&app, &user, &icn, "tasks").await?;
    let mut r = region(&app, &user, &icn, &f).await?;
    r.open_form = q.new.as_deref() == Some("1");
    let page = TasksPage {
        patient_name: ctx
            .patient
            .name_display
            .clone()
            .unwrap_or_else(|| "(name unknown)".into()),
        shell: ctx.shell,
        icn: icn.clone(),
        statuses: choices(&STATUS_CHOICES, f.status_value()),
        priorities: choices(&PRIORITY_FILTER_CHOICES, f.priority_value()),
        creators: creator_choices(&f.creator),
        page_size: r.pagination.page_size,
        region_html: view::render_string(&r),
    };
    Ok(view::render(&page).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskSummaryResponse {
    pub patient_icn: String,
    #[serde(flatten)]
    pub summary: TaskSummary,
}

/// `GET /api/patient/{icn}/tasks/summary`: the counts of the page's
/// summary cards.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/tasks/summary",
    tag = "tasks",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Task counts", body = TaskSummaryResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn summary_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<TaskSummaryResponse>> {
    crate::api::patient(&app, &icn).await?;
    let all = app.store().tasks(&icn).await?;
    Ok(Json(TaskSummaryResponse {
        summary: TaskSummary::of(&all, today()),
        patient_icn: icn,
    }))
}

// ---------------------------------------------------------------------------
// Writes: inputs

/// A new task (JSON body or form).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TaskInput {
    /// 1–500 characters (trimmed).
    pub title: String,
    pub description: Option<String>,
    /// `HIGH`, `MEDIUM` (default) or `LOW`.
    pub priority: Option<String>,
    /// `true` for a task an AI tool suggested (default `false`); it then
    /// shows under the "AI-suggested" filter.
    #[serde(default)]
    pub is_ai_generated: Option<bool>,
    /// What suggested it (e.g. the tool and the finding), at most 500
    /// characters; only with `is_ai_generated`.
    pub ai_suggestion_source: Option<String>,
}

/// A partial edit (JSON body or form): absent fields are unchanged; an
/// empty `description` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TaskEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
}

/// The body as JSON (`application/json`) or as a form (anything else).
pub struct JsonOrForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + 'static> FromRequest<S> for JsonOrForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if json {
            Json::<T>::from_request(req, state)
                .await
                .map(|Json(v)| JsonOrForm(v))
                .map_err(|e| WebError::BadRequest(format!("Invalid JSON body: {}", e.body_text())))
        } else {
            Form::<T>::from_request(req, state)
                .await
                .map(|Form(v)| JsonOrForm(v))
                .map_err(|e| WebError::BadRequest(format!("Invalid form body: {}", e.body_text())))
        }
    }
}

fn title(t: &str) -> Result<String> {
    if task_title_is_valid(t) {
        Ok(t.trim().to_string())
    } else if t.trim().is_empty() {
        Err(WebError::Unprocessable("Title is required.".into()))
    } else {
        Err(WebError::Unprocessable(format!(
            "Title must be at most {TASK_TITLE_MAX_CHARS} characters."
        )))
    }
}

fn priority(p: &Option<String>) -> Result<Option<TaskPriority>> {
    text(p)
        .map(|p| {
            p.parse().map_err(|_| {
                WebError::Unprocessable(format!(
                    "Priority must be HIGH, MEDIUM or LOW (got `{p}`)."
                ))
            })
        })
        .transpose()
}

fn description(d: &str) -> Option<String> {
    Some(d.trim()).filter(|d| !d.is_empty()).map(str::to_string)
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

// ---------------------------------------------------------------------------
// Writes: responses

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResponse {
    pub success: bool,
    pub task: Task,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskCreated {
    pub success: bool,
    pub task_id: i64,
    pub patient_icn: String,
    pub task: Task,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDeleted {
    pub success: bool,
    pub task_id: i64,
}

/// Who asked for a write, and where an HTMX error message goes.
struct Caller {
    htmx: bool,
    /// A plain browser form (no HTMX, wants HTML): redirect to the page.
    browser: bool,
    /// The element an HTMX error replaces the contents of.
    error_target: String,
    q: TaskFilters,
}

impl Caller {
    fn new(headers: &HeaderMap, q: TaskFilters, error_target: String) -> Caller {
        let htmx = is_htmx(headers);
        let browser = !htmx
            && headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
        let widget = q.view.as_deref() == Some("widget");
        Caller {
            htmx,
            browser,
            error_target: if widget {
                "#tasks-widget-error".into()
            } else {
                error_target
            },
            q,
        }
    }

    fn widget(&self) -> bool {
        self.q.view.as_deref() == Some("widget")
    }

    /// An error: for HTMX a message fragment swapped into the error
    /// target (the list stays); otherwise the usual rendering.
    fn fail(&self, e: WebError) -> Response {
        if !self.htmx {
            return e.into_response();
        }
        let mut r = (e.status(), view::error_fragment(&e.public_message())).into_response();
        if let Ok(v) = HeaderValue::from_str(&self.error_target) {
            r.headers_mut().insert("hx-retarget", v);
        }
        r.headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        r
    }

    /// Success: HTML for HTMX (the widget or the page's region), a
    /// redirect for a plain browser form, else `json`.
    async fn done(
        &self,
        app: &AppState,
        user: &CurrentUser,
        icn: &str,
        status: StatusCode,
        json: impl Serialize,
    ) -> Result<Response> {
        let mut r = if self.htmx {
            let html = if self.widget() {
                view::render(&widgets::tasks(app, icn).await?)
            } else {
                let f = Filters::parse(&self.q).unwrap_or(Filters {
                    status: StatusFilter::All,
                    priority: None,
                    creator: Creator::All,
                    page: None,
                    page_size: None,
                });
                view::render(&region(app, user, icn, &f).await?)
            };
            html.into_response()
        } else if self.browser {
            let path = format!("/patient/{icn}/tasks");
            let to = match Filters::parse(&self.q) {
                Ok(f) => f
                    .url(&path, f.page, f.page_size.unwrap_or(DEFAULT_PAGE_SIZE))
                    .to_string(),
                Err(_) => path,
            };
            Redirect::to(&to).into_response()
        } else {
            (status, Json(json)).into_response()
        };
        r.headers_mut()
            .insert("hx-trigger", HeaderValue::from_static("taskUpdated"));
        Ok(r)
    }
}

fn not_found() -> WebError {
    WebError::NotFound("Task not found.".into())
}

// ---------------------------------------------------------------------------
// Writes: handlers

/// `POST /api/patient/{icn}/tasks`: creates a `TODO` task by the signed-in
/// user.
#[utoipa::path(
    post,
    path = "/api/patient/{icn}/tasks",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    request_body(content = TaskInput, description = "JSON or form (`application/x-www-form-urlencoded`)"),
    responses(
        (status = 201, description = "Created (HTMX callers get the re-rendered list)", body = TaskCreated),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "Empty or over-long title, unknown priority"),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
    body: std::result::Result<JsonOrForm<TaskInput>, WebError>,
) -> Response {
    let caller = Caller::new(&headers, q, "#task-create-error".into());
    match create_inner(&app, &user, &icn, &caller, body).await {
        Ok(r) => r,
        Err(e) => caller.fail(e),
    }
}

async fn create_inner(
    app: &AppState,
    user: &CurrentUser,
    icn: &str,
    caller: &Caller,
    body: std::result::Result<JsonOrForm<TaskInput>, WebError>,
) -> Result<Response> {
    crate::api::patient(app, icn).await?;
    let JsonOrForm(input) = body?;
    let ai = input.is_ai_generated.unwrap_or(false);
    let source = input
        .ai_suggestion_source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    match &source {
        Some(_) if !ai => {
            return Err(WebError::Unprocessable(
                "ai_suggestion_source needs is_ai_generated=true".into(),
            ));
        }
        Some(s) if s.chars().count() > 500 => {
            return Err(WebError::Unprocessable(
                "ai_suggestion_source is limited to 500 characters".into(),
            ));
        }
        _ => {}
    }
    let new = NewTask {
        patient_key: icn.to_string(),
        title: title(&input.title)?,
        description: input.description.as_deref().and_then(description),
        priority: priority(&input.priority)?.unwrap_or_default(),
        created_by_user_id: user.user_id.clone(),
        created_by_display_name: Some(user.display_name.clone()),
        is_ai_generated: ai,
        ai_suggestion_source: source,
    };
    let task = app.store().create_task(&new, now()).await?;
    let json = TaskCreated {
        success: true,
        task_id: task.task_id,
        patient_icn: icn.to_string(),
        task,
    };
    caller.done(app, user, icn, StatusCode::CREATED, json).await
}

/// `PUT /api/patient/tasks/{id}` (or `POST …/update`): partial edit.
#[utoipa::path(
    put,
    path = "/api/patient/tasks/{id}",
    tag = "patient",
    params(("id" = i64, Path, description = "Task id")),
    request_body(content = TaskEdit, description = "JSON or form; absent fields are unchanged"),
    responses(
        (status = 200, description = "Updated (HTMX callers get HTML)", body = TaskResponse),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown task"),
        (status = 422, description = "Empty or over-long title, unknown priority"),
    )
)]
pub async fn update(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
    body: std::result::Result<JsonOrForm<TaskEdit>, WebError>,
) -> Response {
    let caller = Caller::new(&headers, q, format!("#task-{id}-error"));
    let run = async {
        let JsonOrForm(edit) = body?;
        let update = TaskUpdate {
            title: edit.title.as_deref().map(title).transpose()?,
            description: edit.description.as_deref().map(description),
            priority: priority(&edit.priority)?,
        };
        let task = app
            .store()
            .update_task(id, &update, now())
            .await?
            .ok_or_else(not_found)?;
        let icn = task.patient_key.clone();
        let json = TaskResponse {
            success: true,
            task,
        };
        caller.done(&app, &user, &icn, StatusCode::OK, json).await
    };
    run.await.unwrap_or_else(|e| caller.fail(e))
}

/// `DELETE /api/patient/tasks/{id}` (or `POST …/delete`).
#[utoipa::path(
    delete,
    path = "/api/patient/tasks/{id}",
    tag = "patient",
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Deleted (HTMX callers get HTML)", body = TaskDeleted),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown task"),
    )
)]
pub async fn delete(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
) -> Response {
    let caller = Caller::new(&headers, q, "#tasks-action-error".into());
    let run = async {
        let task = app.store().task(id).await?.ok_or_else(not_found)?;
        if !app.store().delete_task(id).await? {
            return Err(not_found());
        }
        let json = TaskDeleted {
            success: true,
            task_id: id,
        };
        caller
            .done(&app, &user, &task.patient_key, StatusCode::OK, json)
            .await
    };
    run.await.unwrap_or_else(|e| caller.fail(e))
}

async fn set_status(
    app: AppState,
    user: CurrentUser,
    id: i64,
    q: TaskFilters,
    headers: HeaderMap,
    status: TaskStatus,
) -> Response {
    let caller = Caller::new(&headers, q, "#tasks-action-error".into());
    let run = async {
        let task = app
            .store()
            .set_task_status(id, status, &user.user_id, Some(&user.display_name), now())
            .await?
            .ok_or_else(not_found)?;
        let icn = task.patient_key.clone();
        let json = TaskResponse {
            success: true,
            task,
        };
        caller.done(&app, &user, &icn, StatusCode::OK, json).await
    };
    run.await.unwrap_or_else(|e| caller.fail(e))
}

/// `POST /api/patient/tasks/{id}/start`: → `IN_PROGRESS`.
#[utoipa::path(
    post,
    path = "/api/patient/tasks/{id}/start",
    tag = "patient",
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Started (HTMX callers get HTML)", body = TaskResponse),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown task"),
    )
)]
pub async fn start(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
) -> Response {
    set_status(app, user, id, q, headers, TaskStatus::InProgress).await
}

/// `POST /api/patient/tasks/{id}/complete`: → `COMPLETED`, completed by
/// the signed-in user now.
#[utoipa::path(
    post,
    path = "/api/patient/tasks/{id}/complete",
    tag = "patient",
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Completed (HTMX callers get HTML)", body = TaskResponse),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown task"),
    )
)]
pub async fn complete(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
) -> Response {
    set_status(app, user, id, q, headers, TaskStatus::Completed).await
}

/// `POST /api/patient/tasks/{id}/revert` (also `…/revert-to-todo`): →
/// `TODO`; clears the completion.
#[utoipa::path(
    post,
    path = "/api/patient/tasks/{id}/revert",
    tag = "patient",
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Reverted (HTMX callers get HTML)", body = TaskResponse),
        (status = 403, description = "CSRF token missing or invalid"),
        (status = 404, description = "Unknown task"),
    )
)]
pub async fn revert(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<TaskFilters>,
    headers: HeaderMap,
) -> Response {
    set_status(app, user, id, q, headers, TaskStatus::Todo).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(status: &str, priority: &str, created_by: &str) -> TaskFilters {
        TaskFilters {
            status: Some(status.into()),
            priority: Some(priority.into()),
            created_by: Some(created_by.into()),
            ..TaskFilters::default()
        }
    }

    #[test]
    fn filters_parse_and_round_trip() {
        let f = Filters::parse(&q("active", "high", "mine")).unwrap();
        assert_eq!(f.status, StatusFilter::Active);
        assert_eq!(f.priority, Some(TaskPriority::High));
        assert_eq!(f.creator, Creator::Mine);
        assert_eq!(
            f.url("/p", Some(2), 20).to_string(),
            "/p?status=active&priority=HIGH&created_by=mine&page=2"
        );
        let all = Filters::parse(&q("all", "", "all")).unwrap();
        assert_eq!(all.url("/p", Some(1), 50).to_string(), "/p?page_size=50");
        assert!(Filters::parse(&q("DONE", "", "")).is_err());
        assert!(Filters::parse(&q("", "URGENT", "")).is_err());
        assert!(Filters::parse(&q("", "", "some one")).is_err());
        assert!(Filters::parse(&q("", "", &"x".repeat(65))).is_err());
        let ai = Filters::parse(&q("", "", "AI")).unwrap();
        assert_eq!(ai.creator, Creator::Ai);
        assert_eq!(ai.url("/p", None, 20).to_string(), "/p?created_by=ai");
        let one = Filters::parse(&q("", "", "9f1c-user_2")).unwrap();
        assert_eq!(one.creator, Creator::User("9f1c-user_2".into()));
        let task = |by: &str, ai: bool| Task {
            created_by_user_id: by.into(),
            is_ai_generated: ai,
            ..Default::default()
        };
        assert!(one.creator.keeps(&task("9f1c-user_2", false), "me"));
        assert!(!one.creator.keeps(&task("other", false), "me"));
        assert!(Creator::Ai.keeps(&task("other", true), "me"));
        assert!(!Creator::Ai.keeps(&task("me", false), "me"));
        assert!(Creator::Mine.keeps(&task("me", false), "me"));
    }

    #[test]
    fn titles_are_checked() {
        assert_eq!(title("  Order A1c ").unwrap(), "Order A1c");
        assert!(matches!(title("  "), Err(WebError::Unprocessable(_))));
        assert!(matches!(
            title(&"x".repeat(501)),
            Err(WebError::Unprocessable(_))
        ));
        assert!(priority(&Some("urgent".into())).is_err());
        assert_eq!(priority(&Some(" ".into())).unwrap(), None);
    }
}
