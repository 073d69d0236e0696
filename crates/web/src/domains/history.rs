//! The family history page (reference: original-webapp §3.11): first-degree
//! relatives (the reference rule: degree `FIRST_DEGREE`, the flag, or a
//! parent/sibling/child code) and high-risk entries (first-degree with a
//! hereditary risk) highlighted; relationship and category filters whose
//! options come from the rows; an active-only toggle; counts; pagination
//! (ADR-005), most recently recorded first.

use super::labs::{
    DEFAULT_PAGE_SIZE, PageInfo, Pager, Pill, SelectOption, flag_param, minute, page_params, param,
};
use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::pages::today;
use crate::view::{self, Shell};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::record::FamilyHistory;
use domain::summary::{self as sum, FamilyHistoryCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/history", get(page))
        .route("/api/patient/{icn}/history/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct HistoryPageQuery {
    pub relationship: Option<String>,
    pub category: Option<String>,
    pub active_only: Option<String>,
    pub page: Option<String>,
    pub page_size: Option<String>,
}

pub struct HistoryRow {
    pub relationship: String,
    pub degree: Option<String>,
    pub first_degree: bool,
    pub high_risk: bool,
    pub hereditary: bool,
    pub condition: String,
    pub code: Option<String>,
    pub category: String,
    pub onset: String,
    pub relative: String,
    pub status: String,
    pub active: bool,
    pub recorded: String,
    pub provider: String,
    pub comment: Option<String>,
}

#[derive(Template)]
#[template(path = "domains/history.html")]
pub struct HistoryPage {
    pub shell: Shell,
    pub icn: String,
    pub counts: FamilyHistoryCounts,
    pub last_recorded: String,
    pub relationship_options: Vec<SelectOption>,
    pub category_options: Vec<SelectOption>,
    pub active_only: bool,
    pub active_pills: Vec<Pill>,
    pub page_size: u32,
    pub rows: Vec<HistoryRow>,
    pub filtered: usize,
    pub pager: Pager,
}

fn contains(hay: &Option<String>, needle: &str) -> bool {
    param(hay).is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

fn options(values: BTreeSet<String>, current: Option<&str>, all: &str) -> Vec<SelectOption> {
    std::iter::once(SelectOption {
        value: String::new(),
        label: all.into(),
        selected: current.is_none(),
    })
    .chain(values.into_iter().map(|v| SelectOption {
        selected: current.is_some_and(|c| c.eq_ignore_ascii_case(&v)),
        label: v.clone(),
        value: v,
    }))
    .collect()
}

/// The page's filters, sort and page, parsed from the query.
struct HistoryFilter {
    active_only: bool,
    page_no: Option<u32>,
    size: Option<u32>,
    relationship: Option<String>,
    cat: Option<String>,
}

impl HistoryFilter {
    fn parse(q: &HistoryPageQuery) -> Result<HistoryFilter> {
        let active_only = flag_param("active_only", &q.active_only)?;
        let (page_no, size) = page_params(&q.page, &q.page_size)?;
        let relationship = param(&q.relationship)
            .filter(|s| !s.eq_ignore_ascii_case("all"))
            .map(str::to_string);
        let cat = param(&q.category)
            .filter(|s| !s.eq_ignore_ascii_case("all"))
            .map(str::to_string);
        Ok(HistoryFilter {
            active_only,
            page_no,
            size,
            relationship,
            cat,
        })
    }

    /// The matching rows, in order, and the page shown.
    fn select<'a>(&self, all: &'a [FamilyHistory]) -> Result<(Vec<&'a FamilyHistory>, Pagination)> {
        let (active_only, relationship, cat) = (self.active_only, &self.relationship, &self.cat);
        let rows: Vec<&FamilyHistory> = all
            .iter()
            .filter(|f| {
                relationship.as_deref().is_none_or(|r| {
                    f.relationship_name
                        .to_lowercase()
                        .contains(&r.to_lowercase())
                        || contains(&f.relationship_code, r)
                }) && cat.as_deref().is_none_or(|c| {
                    contains(&f.condition_category, c) || contains(&f.risk_condition_group, c)
                }) && (!active_only || f.is_active)
            })
            .collect();
        let pagination = Pagination::new(self.page_no, self.size, DEFAULT_PAGE_SIZE, rows.len())?;
        Ok((rows, pagination))
    }
}

/// `GET /patient/{icn}/history`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<HistoryPageQuery>,
) -> Result<Html<String>> {
    let f = HistoryFilter::parse(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "history").await?;
    let mut all = app.store().family_history(&icn).await?;
    all.sort_by(sum::family_history_order);
    let counts = sum::family_history_counts(&all, today());
    let (rows, pagination) = f.select(&all)?;
    let HistoryFilter {
        active_only,
        relationship,
        cat,
        ..
    } = f;
    let size_param = if pagination.page_size == DEFAULT_PAGE_SIZE {
        String::new()
    } else {
        pagination.page_size.to_string()
    };
    let filters = QueryUrl::new(format!("/patient/{icn}/history"))
        .with("relationship", relationship.clone().unwrap_or_default())
        .with("category", cat.clone().unwrap_or_default())
        .with("active_only", if active_only { "true" } else { "" })
        .with("page_size", &size_param);
    let pager = Pager::new(&pagination, &filters);
    let active_pills = vec![
        Pill {
            label: format!("All ({})", counts.total),
            href: filters.set("active_only", ""),
            current: !active_only,
        },
        Pill {
            label: format!("Active only ({})", counts.active),
            href: filters.set("active_only", "true"),
            current: active_only,
        },
    ];
    let relationships: BTreeSet<String> = all
        .iter()
        .map(|f| f.relationship_name.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let categories: BTreeSet<String> = all
        .iter()
        .filter_map(|f| param(&f.condition_category).map(str::to_string))
        .collect();
    let view_rows = rows[pagination.range()]
        .iter()
        .map(|f| {
            let mut relative = Vec::new();
            if let Some(g) = param(&f.family_member_gender) {
                relative.push(g.to_string());
            }
            if let Some(a) = f.family_member_age {
                relative.push(format!("age {a}"));
            }
            if f.family_member_deceased == Some(true) {
                relative.push("deceased".into());
            }
            HistoryRow {
                relationship: f.relationship_name.trim().to_string(),
                degree: param(&f.relationship_degree).map(|d| d.replace('_', " ").to_lowercase()),
                first_degree: sum::is_first_degree(f),
                high_risk: sum::is_high_risk(f),
                hereditary: f.hereditary_risk_flag,
                condition: f.condition_name.trim().to_string(),
                code: param(&f.icd10_code)
                    .or(param(&f.snomed_code))
                    .map(str::to_string),
                category: param(&f.condition_category)
                    .or(param(&f.risk_condition_group))
                    .unwrap_or("—")
                    .to_string(),
                onset: f
                    .onset_age_years
                    .map(|a| format!("age {a}"))
                    .unwrap_or_else(|| "—".into()),
                relative: if relative.is_empty() {
                    "—".into()
                } else {
                    relative.join(", ")
                },
                status: param(&f.clinical_status)
                    .unwrap_or(if f.is_active { "ACTIVE" } else { "INACTIVE" })
                    .to_string(),
                active: f.is_active,
                recorded: f
                    .recorded_datetime
                    .map(minute)
                    .unwrap_or_else(|| "—".into()),
                provider: param(&f.provider_name).unwrap_or("—").to_string(),
                comment: param(&f.comment_text).map(str::to_string),
            }
        })
        .collect();
    Ok(view::render(&HistoryPage {
        shell: ctx.shell,
        icn,
        last_recorded: counts
            .last_recorded_datetime
            .map(minute)
            .unwrap_or_else(|| "—".into()),
        counts,
        relationship_options: options(relationships, relationship.as_deref(), "All relationships"),
        category_options: options(categories, cat.as_deref(), "All categories"),
        active_only,
        active_pills,
        page_size: pagination.page_size,
        rows: view_rows,
        filtered: rows.len(),
        pager,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPageResponse {
    pub patient_icn: String,
    /// Counts over every entry of the patient.
    pub counts: FamilyHistoryCounts,
    pub pagination: PageInfo,
    /// This page's rows, most recently recorded first.
    pub history: Vec<FamilyHistory>,
}

/// `GET /api/patient/{icn}/history/page`: the history page's rows, with its
/// filters and pagination.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/history/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), HistoryPageQuery),
    responses(
        (status = 200, description = "One page of rows", body = HistoryPageResponse),
        (status = 400, description = "Malformed or invalid query value"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<HistoryPageQuery>,
) -> Result<Json<HistoryPageResponse>> {
    let f = HistoryFilter::parse(&q)?;
    crate::api::patient(&app, &icn).await?;
    let mut all = app.store().family_history(&icn).await?;
    all.sort_by(sum::family_history_order);
    let (rows, pagination) = f.select(&all)?;
    Ok(Json(HistoryPageResponse {
        counts: sum::family_history_counts(&all, today()),
        history: rows[pagination.range()]
            .iter()
            .map(|r| (*r).clone())
            .collect(),
        pagination: PageInfo::from(&pagination),
        patient_icn: icn,
    }))
}
