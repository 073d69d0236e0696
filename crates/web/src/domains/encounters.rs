//! The encounters page (`/patient/{icn}/encounters`, reference §3.6):
//! inpatient admissions with stats (total, active, recent, extended,
//! facilities), filter pills All / Active / Recent, and ADR-005 pagination
//! (default 20 a page). "Recent", "extended" and an active stay's length
//! are computed for today. JSON twin: `/api/patient/{icn}/encounters/page`.

use super::vitals::{PagerView, choice, datetime, iso, param};
use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use crate::pages::today;
use crate::realtime::{self, VistaStatus};
use crate::view;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::realtime::Realtime;
use domain::record::Encounter;
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/encounters", get(page))
        .route("/api/patient/{icn}/encounters/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct EncountersPageQuery {
    /// `all` (default), `active` or `recent`.
    pub filter: Option<String>,
    /// The original's spelling, used when `filter` is absent: `true` for
    /// active admissions only.
    pub filter_active: Option<String>,
    /// The original's spelling: `true` for recent encounters only.
    pub filter_recent: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<u32>,
}

const FILTERS: [(&str, &str); 3] = [("all", "All"), ("active", "Active"), ("recent", "Recent")];
const DEFAULT_PAGE_SIZE: u32 = 20;

struct Listing {
    filter: &'static str,
    counts: sum::EncounterCounts,
    rows: Vec<Encounter>,
    pagination: Pagination,
    vista: VistaStatus,
}

fn flag(name: &str, v: &Option<String>) -> Result<bool> {
    match param(v).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "off") => Ok(false),
        Some("true" | "1" | "on") => Ok(true),
        Some(other) => Err(WebError::BadRequest(format!(
            "{name} must be true or false (got `{other}`)"
        ))),
    }
}

/// `filter`, else the original's `filter_active`/`filter_recent`.
fn filter_key(q: &EncountersPageQuery) -> Result<&'static str> {
    if param(&q.filter).is_some() {
        return choice("filter", &q.filter, "all", &["all", "active", "recent"]);
    }
    Ok(
        match (
            flag("filter_active", &q.filter_active)?,
            flag("filter_recent", &q.filter_recent)?,
        ) {
            (true, _) => "active",
            (false, true) => "recent",
            (false, false) => "all",
        },
    )
}

async fn listing(
    app: &AppState,
    user: &CurrentUser,
    icn: &str,
    q: &EncountersPageQuery,
) -> Result<Listing> {
    let filter = filter_key(q)?;
    Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, 0)?;
    let merged = realtime::page_rows(app, user, icn, app.store().encounters(icn).await?);
    let (mut rows, counts) = sum::encounters(&merged.rows, today());
    rows.retain(|e| match filter {
        "active" => e.is_active,
        "recent" => e.is_recent,
        _ => true,
    });
    let pagination = Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, rows.len())?;
    let rows = rows[pagination.range()].to_vec();
    Ok(Listing {
        filter,
        counts,
        rows,
        pagination,
        vista: merged.status,
    })
}

struct FilterPill {
    key: &'static str,
    label: &'static str,
    count: usize,
    url: String,
    active: bool,
}

struct Row {
    id: i64,
    active: bool,
    status: String,
    extended: bool,
    recent: bool,
    admit: String,
    admit_iso: String,
    discharge: Option<String>,
    discharge_iso: String,
    los: String,
    facility: String,
    location: Option<String>,
    diagnosis: Option<String>,
    disposition: Option<String>,
    disposition_class: &'static str,
    category: Option<String>,
    provider: Option<String>,
    source: &'static str,
    /// The VistA station of an admission from today's refresh.
    vista_site: Option<String>,
}

fn disposition_class(d: &str) -> &'static str {
    let d = d.to_ascii_uppercase();
    if d.contains("AMA") || d.contains("AGAINST") || d.contains("DIED") || d.contains("EXPIRED") {
        "badge--danger"
    } else if d.contains("OXYGEN") {
        "badge--info"
    } else if d.contains("HOME") || d.contains("ROUTINE") {
        "badge--success"
    } else if d.contains("FACILITY")
        || d.contains("NURSING")
        || d.contains("SNF")
        || d.contains("TRANSFER")
        || d.contains("REHAB")
    {
        "badge--warning"
    } else {
        "badge--muted"
    }
}

fn text(s: &Option<String>) -> Option<String> {
    param(s).map(str::to_string)
}

fn row(e: &Encounter) -> Row {
    let los = if e.is_active {
        e.total_days
            .map_or_else(|| "In progress".into(), |d| format!("{d} days so far"))
    } else {
        e.length_of_stay.or(e.total_days).map_or_else(
            || "—".into(),
            |d| format!("{d} day{}", if d == 1 { "" } else { "s" }),
        )
    };
    let diagnosis = match (
        text(&e.discharge_diagnosis_text),
        text(&e.discharge_diagnosis_code),
    ) {
        (Some(t), Some(c)) => Some(format!("{t} ({c})")),
        (t, c) => t.or(c).or_else(|| text(&e.admit_diagnosis_code)),
    };
    let facility = match (text(&e.facility_name), text(&e.sta3n)) {
        (Some(n), Some(s)) if !n.contains(&s) => format!("{n} ({s})"),
        (Some(n), _) => n,
        (None, Some(s)) => s,
        (None, None) => "—".into(),
    };
    let disposition = text(&e.discharge_disposition);
    Row {
        id: e.encounter_id,
        active: e.is_active,
        status: text(&e.encounter_status).unwrap_or_else(|| {
            if e.is_active {
                "Active".into()
            } else {
                "Discharged".into()
            }
        }),
        extended: e.is_extended_stay,
        recent: e.is_recent,
        admit: datetime(e.admit_datetime),
        admit_iso: iso(e.admit_datetime),
        discharge: e.discharge_datetime.map(datetime),
        discharge_iso: e.discharge_datetime.map(iso).unwrap_or_default(),
        los,
        facility,
        location: text(&e.admit_location_name),
        diagnosis,
        disposition_class: disposition
            .as_deref()
            .map_or("badge--muted", disposition_class),
        disposition,
        category: text(&e.admission_category),
        provider: text(&e.admitting_provider_name),
        source: sum::encounter_source(e),
        vista_site: e.vista_site().map(str::to_string),
    }
}

#[derive(Template)]
#[template(path = "domains/encounters.html")]
struct EncountersPage {
    shell: crate::view::Shell,
    icn: String,
    counts: sum::EncounterCounts,
    pills: Vec<FilterPill>,
    rows: Vec<Row>,
    pager: PagerView,
    vista: VistaStatus,
}

/// `GET /patient/{icn}/encounters?filter=&page=&page_size=`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<EncountersPageQuery>,
) -> Result<Html<String>> {
    let ctx = PageContext::load(&app, &user, &icn, "encounters").await?;
    let l = listing(&app, &user, &icn, &q).await?;
    let path = format!("/patient/{icn}/encounters");
    let base = QueryUrl::new(path)
        .with("filter", if l.filter == "all" { "" } else { l.filter })
        .with("page_size", l.pagination.page_size);
    let pills = FILTERS
        .iter()
        .map(|(key, label)| FilterPill {
            key,
            label,
            count: match *key {
                "active" => l.counts.active_admissions,
                "recent" => l.counts.recent_encounters,
                _ => l.counts.total_encounters,
            },
            url: base
                .clone()
                .with("filter", if *key == "all" { "" } else { key })
                .to_string(),
            active: *key == l.filter,
        })
        .collect();
    let page = EncountersPage {
        shell: ctx.shell,
        icn: icn.clone(),
        counts: l.counts,
        pills,
        rows: l.rows.iter().map(row).collect(),
        pager: PagerView::new(&l.pagination, &base),
        vista: l.vista,
    };
    Ok(view::render(&page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EncountersPageResponse {
    pub patient_icn: String,
    pub filters: EncountersPageQuery,
    /// Counts over every encounter of the patient.
    pub counts: sum::EncounterCounts,
    pub page: u32,
    pub page_size: u32,
    pub pages: u32,
    /// Encounters matching the filter, before paging.
    pub total: usize,
    /// Newest admission first. Admissions from this user's last "Refresh
    /// from VistA" are included (`source_system` `VistA`).
    pub encounters: Vec<Encounter>,
}

/// `GET /api/patient/{icn}/encounters/page`: the encounters page's rows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/encounters/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), EncountersPageQuery),
    responses(
        (status = 200, description = "One page of encounters", body = EncountersPageResponse),
        (status = 400, description = "A query value not allowed"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<EncountersPageQuery>,
) -> Result<Json<EncountersPageResponse>> {
    crate::api::patient(&app, &icn).await?;
    let l = listing(&app, &user, &icn, &q).await?;
    Ok(Json(EncountersPageResponse {
        patient_icn: icn,
        counts: l.counts,
        page: l.pagination.page,
        page_size: l.pagination.page_size,
        pages: l.pagination.pages(),
        total: l.pagination.total,
        encounters: l.rows,
        filters: q,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_filter_parameters_are_understood() {
        let q = |f: Option<&str>, a: Option<&str>, r: Option<&str>| EncountersPageQuery {
            filter: f.map(Into::into),
            filter_active: a.map(Into::into),
            filter_recent: r.map(Into::into),
            ..Default::default()
        };
        assert_eq!(filter_key(&q(None, None, None)).unwrap(), "all");
        assert_eq!(filter_key(&q(None, Some("true"), None)).unwrap(), "active");
        assert_eq!(
            filter_key(&q(None, Some("false"), Some("1"))).unwrap(),
            "recent"
        );
        assert_eq!(
            filter_key(&q(Some("recent"), Some("true"), None)).unwrap(),
            "recent"
        );
        assert!(filter_key(&q(None, Some("yes"), None)).is_err());
        assert!(filter_key(&q(Some("bogus"), None, None)).is_err());
    }

    #[test]
    fn disposition_badges() {
        assert_eq!(disposition_class("Home"), "badge--success");
        assert_eq!(disposition_class("HOME WITH OXYGEN"), "badge--info");
        assert_eq!(
            disposition_class("Skilled Nursing Facility"),
            "badge--warning"
        );
        assert_eq!(disposition_class("AMA"), "badge--danger");
        assert_eq!(disposition_class("Other"), "badge--muted");
    }
}
