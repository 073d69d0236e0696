//! The clinical notes page (reference: original-webapp §3.8): class, date
//! range (default 90 days), author and status filters, sortable columns,
//! pagination (ADR-005), stat cards per class and each note's full text
//! loaded on demand (`GET /patient/{icn}/notes/{note_id}/detail`, an HTMX
//! partial; 404 for a note of another patient).

use super::labs::{
    DEFAULT_PAGE_SIZE, PageInfo, Pager, Pill, SelectOption, SortLink, choice_param, days_param,
    directed, minute, order_param, page_params, param, sort_links, with_sort,
};
use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use crate::pages::today;
use crate::view::{self, Shell};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::NaiveDate;
use domain::record::{Note, NoteDetail};
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/notes", get(page))
        .route("/patient/{icn}/notes/{note_id}/detail", get(detail))
        .route("/api/patient/{icn}/notes/page", get(page_json))
        .route("/api/patient/{icn}/notes/{note_id}", get(note_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json, note_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct NotesPageQuery {
    /// A document class (`Progress Notes`, `Consults`, …) or `all`.
    pub note_class: Option<String>,
    /// The last N days (1–3650; default 90) or `all`.
    pub date_range: Option<String>,
    /// Exact author name, or `all`.
    pub author: Option<String>,
    /// A status (`COMPLETED`, `UNSIGNED`, `AMENDED`, …) or `all`.
    pub status: Option<String>,
    /// `reference_datetime` (default), `document_class`, `author_name` or
    /// `document_title`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<String>,
}

const SORTS: [&str; 4] = [
    "reference_datetime",
    "document_class",
    "author_name",
    "document_title",
];
/// The default date range, in days.
pub const DEFAULT_DAYS: u32 = 90;
const DAY_OPTIONS: [u32; 4] = [30, 90, 180, 365];
const STATUSES: [&str; 3] = ["COMPLETED", "UNSIGNED", "AMENDED"];
const CLASSES: [&str; 4] = [
    "Progress Notes",
    "Consults",
    "Discharge Summaries",
    "Imaging",
];

pub struct NoteRow {
    pub id: i64,
    pub date: String,
    pub class: String,
    pub title: String,
    pub author: String,
    pub cosigner: Option<String>,
    pub status: String,
    pub status_class: &'static str,
    pub facility: String,
    pub preview: String,
}

pub struct StatCard {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "domains/notes.html")]
pub struct NotesPage {
    pub shell: Shell,
    pub icn: String,
    pub total: usize,
    pub cards: Vec<StatCard>,
    pub class_options: Vec<SelectOption>,
    pub date_options: Vec<SelectOption>,
    pub author_options: Vec<SelectOption>,
    pub status_options: Vec<SelectOption>,
    pub sort_by: &'static str,
    pub sort_order: &'static str,
    pub page_size: u32,
    pub headers: Vec<SortLink>,
    pub rows: Vec<NoteRow>,
    pub filtered: usize,
    pub window: String,
    pub pager: Pager,
    pub reset: Pill,
}

fn status_class(s: &str) -> &'static str {
    match s.to_ascii_uppercase().as_str() {
        "COMPLETED" => "badge--success",
        "UNSIGNED" => "badge--warning",
        "AMENDED" => "badge--info",
        _ => "badge--muted",
    }
}

fn options(values: &BTreeSet<String>, current: Option<&str>, all: &str) -> Vec<SelectOption> {
    std::iter::once(SelectOption {
        value: String::new(),
        label: all.to_string(),
        selected: current.is_none(),
    })
    .chain(values.iter().map(|v| SelectOption {
        value: v.clone(),
        label: v.clone(),
        selected: current.is_some_and(|c| c.eq_ignore_ascii_case(v)),
    }))
    .collect()
}

/// `all` (any case) means no filter.
fn filter_value(v: &Option<String>) -> Option<String> {
    param(v)
        .filter(|s| !s.eq_ignore_ascii_case("all"))
        .map(str::to_string)
}

fn text_key(v: &Option<String>) -> String {
    param(v).unwrap_or("").to_ascii_lowercase()
}

/// The page's filters, sort and page, parsed from the query.
struct NotesFilter {
    days: Option<u32>,
    sort_by: &'static str,
    desc: bool,
    page_no: Option<u32>,
    size: Option<u32>,
    class: Option<String>,
    author: Option<String>,
    status: Option<String>,
}

impl NotesFilter {
    fn parse(q: &NotesPageQuery) -> Result<NotesFilter> {
        let days = days_param("date_range", &q.date_range, Some(DEFAULT_DAYS))?;
        let sort_by = choice_param("sort_by", &q.sort_by, &SORTS)?;
        let desc = order_param(&q.sort_order, true)?;
        let (page_no, size) = page_params(&q.page, &q.page_size)?;
        let class = filter_value(&q.note_class);
        let author = filter_value(&q.author);
        let status = filter_value(&q.status);
        Ok(NotesFilter {
            days,
            sort_by,
            desc,
            page_no,
            size,
            class,
            author,
            status,
        })
    }

    /// The matching rows, in order, and the page shown.
    fn select<'a>(&self, all: &'a [Note], today: NaiveDate) -> Result<(Vec<&'a Note>, Pagination)> {
        let (days, sort_by, desc, class, author, status) = (
            self.days,
            self.sort_by,
            self.desc,
            &self.class,
            &self.author,
            &self.status,
        );
        let mut rows: Vec<&Note> = all
            .iter()
            .filter(|n| {
                class
                    .as_deref()
                    .is_none_or(|c| n.document_class.trim().eq_ignore_ascii_case(c))
                    && author
                        .as_deref()
                        .is_none_or(|a| param(&n.author_name) == Some(a))
                    && status
                        .as_deref()
                        .is_none_or(|s| param(&n.status).is_some_and(|v| v.eq_ignore_ascii_case(s)))
                    && days.is_none_or(|d| sum::within_days(n.reference_datetime, today, d))
            })
            .collect();
        rows.sort_by(|a, b| {
            let primary = match sort_by {
                "document_class" => a
                    .document_class
                    .to_ascii_lowercase()
                    .cmp(&b.document_class.to_ascii_lowercase()),
                "author_name" => text_key(&a.author_name).cmp(&text_key(&b.author_name)),
                "document_title" => text_key(&a.document_title).cmp(&text_key(&b.document_title)),
                _ => a.reference_datetime.cmp(&b.reference_datetime),
            };
            directed(primary, desc).then_with(|| sum::note_order(a, b))
        });
        let pagination = Pagination::new(self.page_no, self.size, DEFAULT_PAGE_SIZE, rows.len())?;
        Ok((rows, pagination))
    }
}

/// `GET /patient/{icn}/notes`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<NotesPageQuery>,
) -> Result<Html<String>> {
    let f = NotesFilter::parse(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "notes").await?;
    let all = app.store().notes(&icn).await?;
    let today = today();
    let (rows, pagination) = f.select(&all, today)?;
    let NotesFilter {
        days,
        sort_by,
        desc,
        class,
        author,
        status,
        ..
    } = f;
    let size_param = if pagination.page_size == DEFAULT_PAGE_SIZE {
        String::new()
    } else {
        pagination.page_size.to_string()
    };
    let days_value = match days {
        Some(DEFAULT_DAYS) => String::new(),
        Some(d) => d.to_string(),
        None => "all".into(),
    };
    let base = format!("/patient/{icn}/notes");
    let filters = QueryUrl::new(&base)
        .with("note_class", class.clone().unwrap_or_default())
        .with("date_range", &days_value)
        .with("author", author.clone().unwrap_or_default())
        .with("status", status.clone().unwrap_or_default());
    let sorted = with_sort(filters.clone(), sort_by, desc, SORTS[0]).with("page_size", &size_param);
    let pager = Pager::new(&pagination, &sorted);
    let headers = sort_links(
        &[
            ("reference_datetime", "Date"),
            ("document_class", "Class"),
            ("document_title", "Title"),
            ("author_name", "Author"),
        ],
        sort_by,
        desc,
        &filters.clone().with("page_size", &size_param),
    );
    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    for n in &all {
        *by_class
            .entry(n.document_class.trim().to_string())
            .or_insert(0) += 1;
    }
    let mut cards = vec![StatCard {
        label: "All notes".into(),
        count: all.len(),
        href: sorted.clone().with("note_class", "").to_string(),
        current: class.is_none(),
    }];
    for (c, n) in &by_class {
        cards.push(StatCard {
            label: c.clone(),
            count: *n,
            href: sorted.clone().with("note_class", c).to_string(),
            current: class.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(c)),
        });
    }
    let mut class_values: BTreeSet<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    class_values.extend(by_class.keys().cloned());
    let authors: BTreeSet<String> = all
        .iter()
        .filter_map(|n| param(&n.author_name).map(str::to_string))
        .collect();
    let mut statuses: BTreeSet<String> = STATUSES.iter().map(|s| s.to_string()).collect();
    statuses.extend(
        all.iter()
            .filter_map(|n| param(&n.status).map(str::to_ascii_uppercase)),
    );
    let date_options = DAY_OPTIONS
        .iter()
        .map(|&d| SelectOption {
            value: d.to_string(),
            label: format!("Last {d} days"),
            selected: days == Some(d),
        })
        .chain(std::iter::once(SelectOption {
            value: "all".into(),
            label: "All dates".into(),
            selected: days.is_none(),
        }))
        .collect();
    let view_rows = rows[pagination.range()]
        .iter()
        .map(|n| {
            let st = param(&n.status).unwrap_or("—").to_string();
            NoteRow {
                id: n.note_id,
                date: minute(n.reference_datetime),
                class: n.document_class.clone(),
                title: param(&n.document_title)
                    .or(param(&n.vha_standard_title))
                    .unwrap_or("(untitled)")
                    .to_string(),
                author: param(&n.author_name).unwrap_or("—").to_string(),
                cosigner: param(&n.cosigner_name).map(str::to_string),
                status_class: status_class(&st),
                status: st,
                facility: param(&n.facility_name).unwrap_or("—").to_string(),
                preview: param(&n.text_preview).unwrap_or("").to_string(),
            }
        })
        .collect();
    Ok(view::render(&NotesPage {
        shell: ctx.shell,
        icn: icn.clone(),
        total: all.len(),
        cards,
        class_options: options(&class_values, class.as_deref(), "All classes"),
        date_options,
        author_options: options(&authors, author.as_deref(), "All authors"),
        status_options: options(&statuses, status.as_deref(), "All statuses"),
        sort_by,
        sort_order: if desc { "desc" } else { "asc" },
        page_size: pagination.page_size,
        headers,
        rows: view_rows,
        filtered: rows.len(),
        window: match days {
            Some(d) => format!("in the last {d} days"),
            None => "at any date".into(),
        },
        pager,
        reset: Pill {
            label: "Show all dates".into(),
            href: sorted.clone().with("date_range", "all").to_string(),
            current: days.is_none(),
        },
    }))
}

#[derive(Template)]
#[template(path = "domains/partials/notes_detail.html")]
pub struct NoteDetailPartial {
    pub title: String,
    pub date: String,
    pub entered: String,
    pub author: String,
    pub cosigner: Option<String>,
    pub facility: String,
    pub status: String,
    pub text: String,
}

async fn load_note(app: &AppState, icn: &str, note_id: i64) -> Result<NoteDetail> {
    crate::api::patient(app, icn).await?;
    app.store()
        .note(icn, note_id)
        .await?
        .ok_or_else(|| WebError::NotFound("Note not found.".into()))
}

/// `GET /patient/{icn}/notes/{note_id}/detail`: the full text (HTML
/// partial).
pub async fn detail(
    State(app): State<AppState>,
    Path((icn, note_id)): Path<(String, i64)>,
) -> Result<Html<String>> {
    let d = load_note(&app, &icn, note_id).await?;
    let n = &d.note;
    Ok(view::render(&NoteDetailPartial {
        title: param(&n.document_title).unwrap_or("(untitled)").to_string(),
        date: minute(n.reference_datetime),
        entered: n.entry_datetime.map(minute).unwrap_or_else(|| "—".into()),
        author: param(&n.author_name).unwrap_or("—").to_string(),
        cosigner: param(&n.cosigner_name).map(str::to_string),
        facility: param(&n.facility_name).unwrap_or("—").to_string(),
        status: param(&n.status).unwrap_or("—").to_string(),
        text: param(&d.document_text)
            .unwrap_or("(no text recorded)")
            .to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotesPageResponse {
    pub patient_icn: String,
    /// Notes per class, over every note of the patient.
    pub notes_by_class: BTreeMap<String, usize>,
    pub pagination: PageInfo,
    /// This page's notes (without the full text), in the requested order.
    pub notes: Vec<Note>,
}

/// `GET /api/patient/{icn}/notes/page`: the notes page's rows, with its
/// filters (date range default 90 days), sort and pagination.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/notes/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), NotesPageQuery),
    responses(
        (status = 200, description = "One page of notes", body = NotesPageResponse),
        (status = 400, description = "Malformed or invalid query value"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<NotesPageQuery>,
) -> Result<Json<NotesPageResponse>> {
    let f = NotesFilter::parse(&q)?;
    crate::api::patient(&app, &icn).await?;
    let all = app.store().notes(&icn).await?;
    let (rows, pagination) = f.select(&all, today())?;
    let mut notes_by_class = BTreeMap::new();
    for n in &all {
        *notes_by_class
            .entry(n.document_class.trim().to_string())
            .or_insert(0) += 1;
    }
    Ok(Json(NotesPageResponse {
        notes_by_class,
        notes: rows[pagination.range()]
            .iter()
            .map(|n| (*n).clone())
            .collect(),
        pagination: PageInfo::from(&pagination),
        patient_icn: icn,
    }))
}

/// One note with its full text.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/notes/{note_id}",
    tag = "patient",
    params(
        ("icn" = String, Path, description = "Patient ICN"),
        ("note_id" = i64, Path, description = "Note id")
    ),
    responses(
        (status = 200, description = "The note, with document_text", body = NoteDetail),
        (status = 404, description = "Unknown patient, or no such note for this patient"),
    )
)]
pub async fn note_json(
    State(app): State<AppState>,
    Path((icn, note_id)): Path<(String, i64)>,
) -> Result<Json<NoteDetail>> {
    Ok(Json(load_note(&app, &icn, note_id).await?))
}
