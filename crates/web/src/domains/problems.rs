//! The problems page (reference: original-webapp §3.10): problems grouped
//! by ICD-10 category (none → "Other") in collapsible sections, status
//! (default Active), category and service-connected filters, pagination
//! (ADR-005), chronic/acute/SC badges, the Charlson index with its risk
//! band and the condition indicators.
//!
//! Fixes quirk 6: the index is the one the widget and the JSON show
//! ([`sum::charlson_of_problems`] over the rows, falling back to the
//! stored `charlson_index`), never a constant 0; the condition indicators
//! come from the rows' `has_*` flags (with the active problems' ICD-10
//! codes, through [`ConditionFlags`]), not from text matching.

use super::labs::{
    DEFAULT_PAGE_SIZE, PageInfo, Pager, Pill, SelectOption, choice_param, flag_param, page_params,
    param,
};
use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::realtime::{self, VistaStatus};
use crate::view::{self, Shell};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::charlson::CharlsonRisk;
use domain::problems::ConditionFlags;
use domain::realtime::Realtime;
use domain::record::Problem;
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/problems", get(page))
        .route("/api/patient/{icn}/problems/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ProblemsPageQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub service_connected_only: Option<String>,
    pub page: Option<String>,
    pub page_size: Option<String>,
}

const STATUSES: [&str; 4] = ["Active", "Inactive", "Resolved", "All"];
/// The group of problems without an ICD-10 category.
pub const OTHER: &str = "Other";

pub struct ProblemRow {
    pub text: String,
    pub icd10: String,
    pub status: String,
    pub status_class: &'static str,
    pub chronic: bool,
    pub acute: bool,
    pub service_connected: bool,
    pub charlson: Option<String>,
    pub onset: String,
    pub modified: String,
    pub provider: String,
    pub source: String,
    /// The VistA station of a problem from today's refresh.
    pub vista_site: Option<String>,
}

pub struct ProblemGroup {
    pub name: String,
    pub rows: Vec<ProblemRow>,
}

pub struct Indicator {
    pub label: &'static str,
    pub critical: bool,
}

#[derive(Template)]
#[template(path = "domains/problems.html")]
pub struct ProblemsPage {
    pub shell: Shell,
    pub icn: String,
    pub total: usize,
    pub active: usize,
    pub chronic: usize,
    pub service_connected: usize,
    pub charlson_index: u32,
    pub charlson_conditions: usize,
    pub risk: &'static str,
    pub risk_class: &'static str,
    pub indicators: Vec<Indicator>,
    pub status_pills: Vec<Pill>,
    pub category_options: Vec<SelectOption>,
    pub status: &'static str,
    pub sc_only: bool,
    pub page_size: u32,
    pub groups: Vec<ProblemGroup>,
    pub filtered: usize,
    pub pager: Pager,
    pub vista: VistaStatus,
}

fn category(p: &Problem) -> String {
    param(&p.icd10_category).unwrap_or(OTHER).to_string()
}

/// Category order: alphabetical, "Other" last.
fn category_key(c: &str) -> (bool, String) {
    (c == OTHER, c.to_ascii_lowercase())
}

/// The condition flags of the patient: any row's `has_*` flag, or an
/// active problem's ICD-10 code in the condition's code set.
pub fn condition_flags(problems: &[Problem]) -> ConditionFlags {
    let mut f = ConditionFlags::from_active_icd10(
        problems
            .iter()
            .filter(|p| sum::problem_is_active(p))
            .filter_map(|p| param(&p.icd10_code)),
    );
    for p in problems {
        f.has_chf |= p.has_chf;
        f.has_cad |= p.has_cad;
        f.has_afib |= p.has_afib;
        f.has_hypertension |= p.has_hypertension;
        f.has_copd |= p.has_copd;
        f.has_asthma |= p.has_asthma;
        f.has_diabetes |= p.has_diabetes;
        f.has_hyperlipidemia |= p.has_hyperlipidemia;
        f.has_ckd |= p.has_ckd;
        f.has_depression |= p.has_depression;
        f.has_ptsd |= p.has_ptsd;
        f.has_anxiety |= p.has_anxiety;
        f.has_cancer |= p.has_cancer;
        f.has_osteoarthritis |= p.has_osteoarthritis;
        f.has_back_pain |= p.has_back_pain;
    }
    f
}

/// The indicators to show: the critical four (CHF, COPD, CKD, diabetes)
/// first, then the other conditions present.
pub fn indicators(f: &ConditionFlags) -> Vec<Indicator> {
    let all = [
        (f.has_chf, "CHF", true),
        (f.has_copd, "COPD", true),
        (f.has_ckd, "CKD", true),
        (f.has_diabetes, "Diabetes", true),
        (f.has_cad, "CAD", false),
        (f.has_afib, "Atrial fibrillation", false),
        (f.has_hypertension, "Hypertension", false),
        (f.has_asthma, "Asthma", false),
        (f.has_hyperlipidemia, "Hyperlipidemia", false),
        (f.has_depression, "Depression", false),
        (f.has_ptsd, "PTSD", false),
        (f.has_anxiety, "Anxiety", false),
        (f.has_cancer, "Cancer", false),
        (f.has_osteoarthritis, "Osteoarthritis", false),
        (f.has_back_pain, "Back pain", false),
    ];
    all.into_iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, label, critical)| Indicator { label, critical })
        .collect()
}

/// The patient's Charlson index and condition count: computed from the
/// rows (as the widget and JSON do), else the stored aggregate.
pub fn charlson(problems: &[Problem]) -> (u32, usize) {
    let (index, count) = sum::charlson_of_problems(problems);
    if index > 0 {
        return (index, count);
    }
    let stored = problems.iter().map(|p| p.charlson_index).max().unwrap_or(0);
    let stored_count = problems
        .iter()
        .map(|p| p.charlson_condition_count)
        .max()
        .unwrap_or(0);
    (
        u32::try_from(stored).unwrap_or(0),
        usize::try_from(stored_count).unwrap_or(0),
    )
}

fn risk_class(r: CharlsonRisk) -> &'static str {
    match r {
        CharlsonRisk::None | CharlsonRisk::Low => "badge--success",
        CharlsonRisk::Moderate | CharlsonRisk::High => "badge--warning",
        CharlsonRisk::VeryHigh => "badge--danger",
    }
}

/// The page's filters, sort and page, parsed from the query.
struct ProblemsFilter {
    status: &'static str,
    sc_only: bool,
    page_no: Option<u32>,
    size: Option<u32>,
    cat: Option<String>,
}

impl ProblemsFilter {
    fn parse(q: &ProblemsPageQuery) -> Result<ProblemsFilter> {
        let status = choice_param("status", &q.status, &STATUSES)?;
        let sc_only = flag_param("service_connected_only", &q.service_connected_only)?;
        let (page_no, size) = page_params(&q.page, &q.page_size)?;
        let cat = param(&q.category)
            .filter(|c| !c.eq_ignore_ascii_case("all"))
            .map(str::to_string);
        Ok(ProblemsFilter {
            status,
            sc_only,
            page_no,
            size,
            cat,
        })
    }

    /// The matching rows, in order, and the page shown.
    fn select<'a>(&self, all: &'a [Problem]) -> Result<(Vec<&'a Problem>, Pagination)> {
        let (status, sc_only, cat) = (self.status, self.sc_only, &self.cat);
        let mut rows: Vec<&Problem> = all
            .iter()
            .filter(|p| {
                (status == "All" || p.problem_status.trim().eq_ignore_ascii_case(status))
                    && cat
                        .as_deref()
                        .is_none_or(|c| category(p).eq_ignore_ascii_case(c))
                    && (!sc_only || p.service_connected == Some(true))
            })
            .collect();
        rows.sort_by(|a, b| {
            category_key(&category(a))
                .cmp(&category_key(&category(b)))
                .then_with(|| sum::problem_list_order(a, b))
        });
        let pagination = Pagination::new(self.page_no, self.size, DEFAULT_PAGE_SIZE, rows.len())?;
        Ok((rows, pagination))
    }
}

/// `GET /patient/{icn}/problems`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ProblemsPageQuery>,
) -> Result<Html<String>> {
    let f = ProblemsFilter::parse(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "problems").await?;
    let merged = realtime::page_rows(&app, &user, &icn, app.store().problems(&icn).await?);
    let all = merged.rows;
    let (rows, pagination) = f.select(&all)?;
    let ProblemsFilter {
        status,
        sc_only,
        cat,
        ..
    } = f;
    let size_param = if pagination.page_size == DEFAULT_PAGE_SIZE {
        String::new()
    } else {
        pagination.page_size.to_string()
    };
    let filters = QueryUrl::new(format!("/patient/{icn}/problems"))
        .with("status", if status == "Active" { "" } else { status })
        .with("category", cat.clone().unwrap_or_default())
        .with("service_connected_only", if sc_only { "true" } else { "" })
        .with("page_size", &size_param);
    let pager = Pager::new(&pagination, &filters);
    let count = |s: &str| {
        all.iter()
            .filter(|p| p.problem_status.trim().eq_ignore_ascii_case(s))
            .count()
    };
    let status_pills = STATUSES
        .iter()
        .map(|&s| Pill {
            label: format!("{s} ({})", if s == "All" { all.len() } else { count(s) }),
            href: filters.set("status", if s == "Active" { "" } else { s }),
            current: s == status,
        })
        .collect();
    let categories: BTreeSet<(bool, String, String)> = all
        .iter()
        .map(|p| {
            let c = category(p);
            let (o, k) = category_key(&c);
            (o, k, c)
        })
        .collect();
    let category_options = std::iter::once(SelectOption {
        value: String::new(),
        label: "All categories".into(),
        selected: cat.is_none(),
    })
    .chain(categories.into_iter().map(|(_, _, c)| SelectOption {
        selected: cat.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&c)),
        value: c.clone(),
        label: c,
    }))
    .collect();
    let mut groups: Vec<ProblemGroup> = Vec::new();
    for p in &rows[pagination.range()] {
        let name = category(p);
        let st = p.problem_status.trim().to_string();
        let row = ProblemRow {
            text: sum::problem_text(p),
            icd10: param(&p.icd10_code).unwrap_or("—").to_string(),
            status_class: match st.to_ascii_lowercase().as_str() {
                "active" => "badge--info",
                "resolved" => "badge--success",
                _ => "badge--muted",
            },
            status: st,
            chronic: sum::problem_is_chronic(p),
            acute: p.acute_condition == Some(true),
            service_connected: p.service_connected == Some(true),
            charlson: param(&p.icd10_charlson_condition).map(str::to_string),
            onset: p
                .onset_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".into()),
            modified: p
                .last_modified_date
                .or(p.recorded_date)
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".into()),
            provider: param(&p.provider_name).unwrap_or("—").to_string(),
            source: p.source_ehr.clone(),
            vista_site: p.vista_site().map(str::to_string),
        };
        match groups.last_mut() {
            Some(g) if g.name == name => g.rows.push(row),
            _ => groups.push(ProblemGroup {
                name,
                rows: vec![row],
            }),
        }
    }
    let (charlson_index, charlson_conditions) = charlson(&all);
    let risk = CharlsonRisk::from_index(charlson_index);
    let active: Vec<&Problem> = all.iter().filter(|p| sum::problem_is_active(p)).collect();
    Ok(view::render(&ProblemsPage {
        shell: ctx.shell,
        icn,
        total: all.len(),
        active: active.len(),
        chronic: active.iter().filter(|p| sum::problem_is_chronic(p)).count(),
        service_connected: all
            .iter()
            .filter(|p| p.service_connected == Some(true))
            .count(),
        charlson_index,
        charlson_conditions,
        risk: risk.label(),
        risk_class: risk_class(risk),
        indicators: indicators(&condition_flags(&all)),
        status_pills,
        category_options,
        status,
        sc_only,
        page_size: pagination.page_size,
        groups,
        filtered: rows.len(),
        pager,
        vista: merged.status,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemsPageResponse {
    pub patient_icn: String,
    /// Charlson comorbidity index (computed from the rows, quirk 6 fixed).
    pub charlson_index: u32,
    pub charlson_condition_count: usize,
    /// `None`, `Low`, `Moderate`, `High` or `Very High`.
    pub charlson_risk: String,
    /// The conditions present (from the `has_*` flags and the active
    /// problems' ICD-10 codes).
    pub conditions: Vec<String>,
    pub pagination: PageInfo,
    /// This page's rows, grouped by ICD-10 category (then Active, Inactive, Resolved, newest onset).
    /// Problems from this user's last "Refresh from VistA" are included
    /// (`source_system` `VistA`).
    pub problems: Vec<Problem>,
}

/// `GET /api/patient/{icn}/problems/page`: the problems page's rows, with its
/// filters and pagination.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/problems/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), ProblemsPageQuery),
    responses(
        (status = 200, description = "One page of rows", body = ProblemsPageResponse),
        (status = 400, description = "Malformed or invalid query value"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ProblemsPageQuery>,
) -> Result<Json<ProblemsPageResponse>> {
    let f = ProblemsFilter::parse(&q)?;
    crate::api::patient(&app, &icn).await?;
    let all = realtime::page_rows(&app, &user, &icn, app.store().problems(&icn).await?).rows;
    let (rows, pagination) = f.select(&all)?;
    let (charlson_index, charlson_condition_count) = charlson(&all);
    Ok(Json(ProblemsPageResponse {
        charlson_index,
        charlson_condition_count,
        charlson_risk: CharlsonRisk::from_index(charlson_index).label().to_string(),
        conditions: indicators(&condition_flags(&all))
            .into_iter()
            .map(|i| i.label.to_string())
            .collect(),
        problems: rows[pagination.range()]
            .iter()
            .map(|r| (*r).clone())
            .collect(),
        pagination: PageInfo::from(&pagination),
        patient_icn: icn,
    }))
}
