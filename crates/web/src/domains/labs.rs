//! The labs page (reference: original-webapp §3.7): every chemistry
//! result with panel pills, abnormal-only and days filters, sortable
//! columns, pagination (ADR-005) and a per-test trend chart (inline SVG
//! with the reference-range band and a data-table alternative), replacing
//! the original's "Trend charting coming soon".
//!
//! Also home of the small helpers the pages of §3.7–3.11 share (query
//! parsing, the pager, sort links): see [`PageQuery`] and [`Pager`].

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
use chrono::{NaiveDate, NaiveDateTime};
use domain::lab_trend::{self, TrendPoint};
use domain::record::Lab;
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/labs", get(page))
        .route("/api/patient/{icn}/labs/page", get(page_json))
        .route("/api/patient/{icn}/labs/trend/{test_name}", get(trend_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json, trend_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

// ---------------------------------------------------------------------------
// Shared helpers of the pages of §3.7–3.11

/// A trimmed, non-empty query value.
pub(crate) fn param(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A checkbox-style flag: absent/empty/`false`/`0`/`off` or
/// `true`/`1`/`on`/`yes`; anything else is a 400.
pub(crate) fn flag_param(name: &str, v: &Option<String>) -> Result<bool> {
    match param(v).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "off" | "no") => Ok(false),
        Some("true" | "1" | "on" | "yes") => Ok(true),
        Some(_) => Err(WebError::BadRequest(format!(
            "{name} must be true or false"
        ))),
    }
}

/// A day window: absent → `default`; `all` → none; else 1–3650.
pub(crate) fn days_param(
    name: &str,
    v: &Option<String>,
    default: Option<u32>,
) -> Result<Option<u32>> {
    match param(v) {
        None => Ok(default),
        Some(s) if s.eq_ignore_ascii_case("all") => Ok(None),
        Some(s) => match s.parse::<u32>() {
            Ok(d) if (1..=3650).contains(&d) => Ok(Some(d)),
            _ => Err(WebError::BadRequest(format!(
                "{name} must be a number of days from 1 to 3650, or all"
            ))),
        },
    }
}

/// `asc` / `desc` (absent → `default_desc`); `true` = descending.
pub(crate) fn order_param(v: &Option<String>, default_desc: bool) -> Result<bool> {
    match param(v).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default_desc),
        Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(WebError::BadRequest(
            "sort_order must be asc or desc".into(),
        )),
    }
}

/// One of `allowed` (absent → the first); else a 400.
pub(crate) fn choice_param(
    name: &str,
    v: &Option<String>,
    allowed: &[&'static str],
) -> Result<&'static str> {
    match param(v) {
        None => Ok(allowed[0]),
        Some(s) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(s))
            .copied()
            .ok_or_else(|| {
                WebError::BadRequest(format!("{name} must be one of {}", allowed.join(", ")))
            }),
    }
}

/// Page number and size as numbers (400 when not numbers).
pub(crate) fn page_params(
    page: &Option<String>,
    size: &Option<String>,
) -> Result<(Option<u32>, Option<u32>)> {
    let num = |name: &str, v: &Option<String>| -> Result<Option<u32>> {
        param(v)
            .map(|s| {
                s.parse::<u32>()
                    .map_err(|_| WebError::BadRequest(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    Ok((num("page", page)?, num("page_size", size)?))
}

/// The page size offered by default on these pages.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

pub use super::Pager;

/// A sortable column header.
pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none` (for `aria-sort`).
    pub aria: &'static str,
}

/// Headers for `columns` (`(key, label)`): the current one toggles its
/// order, the others start descending. `url` has every parameter but the
/// sort and the page.
pub(crate) fn sort_links(
    columns: &[(&'static str, &'static str)],
    current: &str,
    desc: bool,
    url: &QueryUrl,
) -> Vec<SortLink> {
    columns
        .iter()
        .map(|&(key, label)| {
            let active = key == current;
            let next_desc = if active { !desc } else { true };
            SortLink {
                label,
                href: url
                    .clone()
                    .with("sort_by", key)
                    .with("sort_order", if next_desc { "desc" } else { "asc" })
                    .to_string(),
                aria: match (active, desc) {
                    (false, _) => "none",
                    (true, true) => "descending",
                    (true, false) => "ascending",
                },
            }
        })
        .collect()
}

/// `url` with the sort, left out when it is the page's default (`default`
/// descending).
pub(crate) fn with_sort(url: QueryUrl, sort_by: &str, desc: bool, default: &str) -> QueryUrl {
    if sort_by == default && desc {
        url.with("sort_by", "").with("sort_order", "")
    } else {
        url.with("sort_by", sort_by)
            .with("sort_order", if desc { "desc" } else { "asc" })
    }
}

/// The page shown, for the JSON of the pages (ADR-005).
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    pub page: u32,
    pub page_size: u32,
    pub pages: u32,
    /// Rows matching the filters.
    pub total: usize,
    /// "Page X of Y (Z items)".
    pub label: String,
}

impl From<&Pagination> for PageInfo {
    fn from(p: &Pagination) -> PageInfo {
        PageInfo {
            page: p.page,
            page_size: p.page_size,
            pages: p.pages(),
            total: p.total,
            label: p.label(),
        }
    }
}

/// A filter pill (link).
pub struct Pill {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// An option of a filter select.
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// `YYYY-MM-DD HH:MM`.
pub(crate) fn minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A trimmed value or an em dash.
pub(crate) fn dash(v: &Option<String>) -> String {
    param(v).unwrap_or("—").to_string()
}

/// `desc` applied to an ascending ordering.
pub(crate) fn directed(o: Ordering, desc: bool) -> Ordering {
    if desc { o.reverse() } else { o }
}

// ---------------------------------------------------------------------------
// The page

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LabsPageQuery {
    /// A panel name, or `Individual Tests` for tests without a panel.
    pub panel_filter: Option<String>,
    /// `true` for abnormal results only.
    pub abnormal_only: Option<String>,
    /// Collected in the last N days (1–3650), or `all` (default).
    pub days: Option<String>,
    /// `collection_datetime` (default), `lab_test_name` or `abnormal_flag`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default: desc, asc for the test name).
    pub sort_order: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<String>,
    /// The test whose trend is charted (HTML page only).
    pub trend: Option<String>,
}

const SORTS: [&str; 3] = ["collection_datetime", "lab_test_name", "abnormal_flag"];
const DAY_OPTIONS: [u32; 5] = [30, 90, 180, 365, 730];

pub struct LabRow {
    pub date: String,
    pub panel: String,
    pub test: String,
    pub value: String,
    pub unit: String,
    pub flag: Option<String>,
    pub flag_class: &'static str,
    pub critical: bool,
    pub abnormal: bool,
    pub range: String,
    pub location: String,
}

pub struct TrendDot {
    pub x: String,
    pub y: String,
    pub title: String,
    pub out: bool,
}

pub struct TrendTick {
    pub y: String,
    pub label: String,
}

pub struct TrendRow {
    pub date: String,
    pub value: String,
    pub flag: Option<String>,
    pub flag_class: &'static str,
}

pub struct TrendView {
    pub test: String,
    pub unit: String,
    pub range: String,
    pub summary: String,
    pub path: String,
    pub dots: Vec<TrendDot>,
    pub band: Option<(String, String)>,
    pub ticks: Vec<TrendTick>,
    pub left: String,
    pub right: String,
    pub band_width: String,
    pub bottom: String,
    pub first_date: String,
    pub last_date: String,
    pub rows: Vec<TrendRow>,
}

#[derive(Template)]
#[template(path = "domains/labs.html")]
pub struct LabsPage {
    pub shell: Shell,
    pub icn: String,
    pub current_through: Option<String>,
    pub total: usize,
    pub abnormal: usize,
    pub critical: usize,
    pub panel_pills: Vec<Pill>,
    pub abnormal_pills: Vec<Pill>,
    pub day_options: Vec<SelectOption>,
    pub panel_filter: String,
    pub abnormal_only: bool,
    /// The days filter as in the query (`""` for all dates).
    pub days: String,
    pub sort_by: &'static str,
    pub sort_order: &'static str,
    pub page_size: u32,
    pub headers: Vec<SortLink>,
    pub rows: Vec<LabRow>,
    pub filtered: usize,
    pub pager: Pager,
    pub trend_tests: Vec<SelectOption>,
    pub trend: Option<TrendView>,
}

/// The badge class of a flag: critical (H*, L*, PANIC) red, H amber, L blue.
pub(crate) fn flag_class(flag: Option<&str>, critical: bool) -> &'static str {
    match flag {
        _ if critical => "badge--danger",
        Some("H*" | "L*" | "PANIC") => "badge--danger",
        Some(f) if f.starts_with('L') => "badge--info",
        Some(_) => "badge--warning",
        None => "",
    }
}

fn value_of(l: &Lab) -> String {
    param(&l.result_value)
        .map(str::to_string)
        .or_else(|| l.result_numeric.map(lab_trend::format_value))
        .unwrap_or_else(|| "—".into())
}

/// Distinct tests with at least one numeric result, by name.
fn numeric_tests(labs: &[Lab]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in labs {
        if let (Some(name), Some(_)) = (param(&l.lab_test_name), numeric(l)) {
            *m.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    m
}

fn numeric(l: &Lab) -> Option<f64> {
    l.result_numeric
        .or_else(|| param(&l.result_value).and_then(domain::labs::parse_lab_result))
        .filter(|v| v.is_finite())
}

fn trend_view(labs: &[Lab], test: &str) -> Option<TrendView> {
    let mut rows: Vec<&Lab> = labs
        .iter()
        .filter(|l| param(&l.lab_test_name) == Some(test) && numeric(l).is_some())
        .collect();
    rows.sort_by(|a, b| {
        a.collection_datetime
            .cmp(&b.collection_datetime)
            .then(a.lab_id.cmp(&b.lab_id))
    });
    let latest = *rows.last()?;
    let bounds = lab_trend::reference_bounds(
        latest.ref_range_low,
        latest.ref_range_high,
        param(&latest.ref_range_text),
    );
    let points: Vec<TrendPoint> = rows
        .iter()
        .filter_map(|l| {
            numeric(l).map(|value| TrendPoint {
                at: l.collection_datetime,
                value,
            })
        })
        .collect();
    let chart = lab_trend::trend_chart(&points, bounds)?;
    let unit = param(&latest.result_unit).unwrap_or("").to_string();
    let range = param(&latest.ref_range_text)
        .map(str::to_string)
        .unwrap_or_else(|| match bounds {
            Some((Some(l), Some(h))) => format!(
                "{}-{}",
                lab_trend::format_value(l),
                lab_trend::format_value(h)
            ),
            _ => "—".into(),
        });
    let out = chart.points.iter().filter(|p| p.out_of_range).count();
    let first = rows[0].collection_datetime.format("%Y-%m-%d").to_string();
    let last = latest.collection_datetime.format("%Y-%m-%d").to_string();
    let summary = format!(
        "{} result{} of {test} from {first} to {last}, latest {} {unit}; reference range {range}; {out} outside the range.",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        value_of(latest),
    );
    let (left, _, right, bottom) = chart.plot;
    Some(TrendView {
        test: test.to_string(),
        unit: unit.clone(),
        range,
        summary,
        path: chart.path.clone(),
        dots: chart
            .points
            .iter()
            .zip(&rows)
            .map(|(p, l)| TrendDot {
                x: p.x.to_string(),
                y: p.y.to_string(),
                title: format!("{} {} {unit}", minute(l.collection_datetime), value_of(l)),
                out: p.out_of_range,
            })
            .collect(),
        band: chart.band.map(|(y, h)| (y.to_string(), h.to_string())),
        ticks: chart
            .ticks
            .iter()
            .map(|t| TrendTick {
                y: t.y.to_string(),
                label: t.label.clone(),
            })
            .collect(),
        left: left.to_string(),
        right: right.to_string(),
        band_width: (right - left).to_string(),
        bottom: bottom.to_string(),
        first_date: first,
        last_date: last,
        rows: rows
            .iter()
            .rev()
            .map(|l| TrendRow {
                date: minute(l.collection_datetime),
                value: format!("{} {unit}", value_of(l)).trim().to_string(),
                flag: param(&l.abnormal_flag).map(str::to_string),
                flag_class: flag_class(param(&l.abnormal_flag), l.is_critical),
            })
            .collect(),
    })
}

/// The labs page's filters, sort and page, parsed from the query.
struct LabsFilter {
    abnormal_only: bool,
    days: Option<u32>,
    sort_by: &'static str,
    desc: bool,
    page_no: Option<u32>,
    size: Option<u32>,
    panel: Option<String>,
}

impl LabsFilter {
    fn parse(q: &LabsPageQuery) -> Result<LabsFilter> {
        let abnormal_only = flag_param("abnormal_only", &q.abnormal_only)?;
        let days = days_param("days", &q.days, None)?;
        let sort_by = choice_param("sort_by", &q.sort_by, &SORTS)?;
        let desc = order_param(&q.sort_order, sort_by != "lab_test_name")?;
        let (page_no, size) = page_params(&q.page, &q.page_size)?;
        let panel = param(&q.panel_filter).map(str::to_string);
        Ok(LabsFilter {
            abnormal_only,
            days,
            sort_by,
            desc,
            page_no,
            size,
            panel,
        })
    }

    /// The matching results, sorted, and the page shown.
    fn select<'a>(&self, all: &'a [Lab], today: NaiveDate) -> Result<(Vec<&'a Lab>, Pagination)> {
        let (abnormal_only, days, sort_by, desc, panel) = (
            self.abnormal_only,
            self.days,
            self.sort_by,
            self.desc,
            &self.panel,
        );
        let mut rows: Vec<&Lab> = all
            .iter()
            .filter(|l| {
                let panel_ok = match panel.as_deref() {
                    None => true,
                    Some(p) if p.eq_ignore_ascii_case(sum::INDIVIDUAL_TESTS) => {
                        param(&l.panel_name).is_none()
                    }
                    Some(p) => param(&l.panel_name).is_some_and(|n| n.eq_ignore_ascii_case(p)),
                };
                panel_ok
                    && (!abnormal_only || sum::lab_is_abnormal(l))
                    && days.is_none_or(|d| sum::within_days(l.collection_datetime, today, d))
            })
            .collect();
        rows.sort_by(|a, b| {
            let primary = match sort_by {
                "lab_test_name" => directed(
                    param(&a.lab_test_name)
                        .unwrap_or("")
                        .to_ascii_lowercase()
                        .cmp(&param(&b.lab_test_name).unwrap_or("").to_ascii_lowercase()),
                    desc,
                ),
                // Abnormal first (then by flag) when descending.
                "abnormal_flag" => directed(
                    sum::lab_is_abnormal(a)
                        .cmp(&sum::lab_is_abnormal(b))
                        .then_with(|| param(&b.abnormal_flag).cmp(&param(&a.abnormal_flag))),
                    desc,
                ),
                _ => directed(a.collection_datetime.cmp(&b.collection_datetime), desc),
            };
            primary
                .then_with(|| b.collection_datetime.cmp(&a.collection_datetime))
                .then_with(|| a.lab_id.cmp(&b.lab_id))
        });
        let pagination = Pagination::new(self.page_no, self.size, DEFAULT_PAGE_SIZE, rows.len())?;
        Ok((rows, pagination))
    }
}

/// `GET /patient/{icn}/labs`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<LabsPageQuery>,
) -> Result<Html<String>> {
    let f = LabsFilter::parse(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "labs").await?;
    let all = app.store().labs(&icn).await?;
    let tests = numeric_tests(&all);
    let trend_test = match param(&q.trend) {
        Some(t) => Some(
            tests
                .keys()
                .find(|k| k.as_str() == t)
                .cloned()
                .ok_or_else(|| {
                    WebError::BadRequest("trend must name a test with numeric results".into())
                })?,
        ),
        None => tests
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.clone()),
    };
    let today = today();
    let counts = sum::lab_counts(&all);
    let (rows, pagination) = f.select(&all, today)?;
    let LabsFilter {
        abnormal_only,
        days,
        sort_by,
        desc,
        panel,
        ..
    } = f;
    let base = format!("/patient/{icn}/labs");
    let filters = QueryUrl::new(&base)
        .with("panel_filter", panel.clone().unwrap_or_default())
        .with("abnormal_only", if abnormal_only { "true" } else { "" })
        .with("days", days.map(|d| d.to_string()).unwrap_or_default())
        .with("trend", param(&q.trend).unwrap_or(""));
    let size_param = if pagination.page_size == DEFAULT_PAGE_SIZE {
        String::new()
    } else {
        pagination.page_size.to_string()
    };
    let sorted = with_sort(filters.clone(), sort_by, desc, SORTS[0]);
    let pager = Pager::new(&pagination, &sorted.clone().with("page_size", &size_param));
    let no_page_filters = |u: QueryUrl| u.with("sort_by", "").with("sort_order", "");
    let mut panel_pills = vec![Pill {
        label: format!("All ({})", counts.total),
        href: sorted
            .clone()
            .with("page_size", &size_param)
            .with("panel_filter", "")
            .to_string(),
        current: panel.is_none(),
    }];
    for (name, n) in &counts.panels {
        panel_pills.push(Pill {
            label: format!("{name} ({n})"),
            href: sorted
                .clone()
                .with("page_size", &size_param)
                .with("panel_filter", name)
                .to_string(),
            current: panel
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(name)),
        });
    }
    let abnormal_pills = vec![
        Pill {
            label: "All results".into(),
            href: sorted
                .clone()
                .with("page_size", &size_param)
                .with("abnormal_only", "")
                .to_string(),
            current: !abnormal_only,
        },
        Pill {
            label: format!("Abnormal only ({})", counts.abnormal),
            href: sorted
                .clone()
                .with("page_size", &size_param)
                .with("abnormal_only", "true")
                .to_string(),
            current: abnormal_only,
        },
    ];
    let day_options = std::iter::once(SelectOption {
        value: String::new(),
        label: "All dates".into(),
        selected: days.is_none(),
    })
    .chain(DAY_OPTIONS.iter().map(|&d| SelectOption {
        value: d.to_string(),
        label: format!("Last {d} days"),
        selected: days == Some(d),
    }))
    .collect();
    let headers = sort_links(
        &[
            ("collection_datetime", "Date/Time"),
            ("lab_test_name", "Test"),
            ("abnormal_flag", "Flag"),
        ],
        sort_by,
        desc,
        &no_page_filters(filters.clone()).with("page_size", &size_param),
    );
    let view_rows = rows[pagination.range()]
        .iter()
        .map(|l| {
            let flag = param(&l.abnormal_flag).map(str::to_string);
            let critical = l.is_critical
                || flag
                    .as_deref()
                    .is_some_and(|f| matches!(f, "H*" | "L*" | "PANIC"));
            LabRow {
                date: minute(l.collection_datetime),
                panel: param(&l.panel_name)
                    .unwrap_or(sum::INDIVIDUAL_TESTS)
                    .to_string(),
                test: dash(&l.lab_test_name),
                value: value_of(l),
                unit: param(&l.result_unit).unwrap_or("").to_string(),
                flag_class: flag_class(flag.as_deref(), critical),
                flag,
                critical,
                abnormal: sum::lab_is_abnormal(l),
                range: dash(&l.ref_range_text),
                location: dash(&l.collection_location),
            }
        })
        .collect();
    let trend = trend_test.as_deref().and_then(|t| trend_view(&all, t));
    let trend_tests = tests
        .iter()
        .map(|(name, n)| SelectOption {
            value: name.clone(),
            label: format!("{name} ({n})"),
            selected: trend_test.as_deref() == Some(name.as_str()),
        })
        .collect();
    Ok(view::render(&LabsPage {
        shell: ctx.shell,
        icn,
        current_through: ctx.current_through,
        total: counts.total,
        abnormal: counts.abnormal,
        critical: counts.critical,
        panel_pills,
        abnormal_pills,
        day_options,
        panel_filter: panel.unwrap_or_default(),
        abnormal_only,
        days: days.map(|d| d.to_string()).unwrap_or_default(),
        sort_by,
        sort_order: if desc { "desc" } else { "asc" },
        page_size: pagination.page_size,
        headers,
        rows: view_rows,
        filtered: rows.len(),
        pager,
        trend_tests,
        trend,
    }))
}

// ---------------------------------------------------------------------------
// JSON

#[derive(Debug, Serialize, ToSchema)]
pub struct LabsPageResponse {
    pub patient_icn: String,
    /// Counts over every result of the patient.
    pub counts: sum::LabCounts,
    pub pagination: PageInfo,
    /// This page's results, in the requested order.
    pub labs: Vec<Lab>,
}

/// `GET /api/patient/{icn}/labs/page`: the labs page's rows, with its
/// filters, sort and pagination.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/labs/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), LabsPageQuery),
    responses(
        (status = 200, description = "One page of results", body = LabsPageResponse),
        (status = 400, description = "Malformed or invalid query value"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<LabsPageQuery>,
) -> Result<Json<LabsPageResponse>> {
    let f = LabsFilter::parse(&q)?;
    crate::api::patient(&app, &icn).await?;
    let all = app.store().labs(&icn).await?;
    let (rows, pagination) = f.select(&all, today())?;
    Ok(Json(LabsPageResponse {
        counts: sum::lab_counts(&all),
        labs: rows[pagination.range()]
            .iter()
            .map(|l| (*l).clone())
            .collect(),
        pagination: PageInfo::from(&pagination),
        patient_icn: icn,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendQuery {
    /// The window in days, 1–730 (default 365).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPointJson {
    pub collection_datetime: NaiveDateTime,
    pub value: f64,
    pub result_unit: Option<String>,
    pub abnormal_flag: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendResponse {
    pub test_name: String,
    pub days: u32,
    pub ref_range_low: Option<f64>,
    pub ref_range_high: Option<f64>,
    /// Oldest first.
    pub points: Vec<TrendPointJson>,
}

/// A test's numeric results over time, oldest first, with the latest
/// result's reference range.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/labs/trend/{test_name}",
    tag = "patient",
    params(
        ("icn" = String, Path, description = "Patient ICN"),
        ("test_name" = String, Path, description = "Exact test name"),
        TrendQuery
    ),
    responses(
        (status = 200, description = "The trend", body = TrendResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "days out of range"),
    )
)]
pub async fn trend_json(
    State(app): State<AppState>,
    Path((icn, test_name)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<TrendQuery>,
) -> Result<Json<TrendResponse>> {
    let days = q.days.unwrap_or(365);
    if !(1..=730).contains(&days) {
        return Err(WebError::Unprocessable(format!(
            "days must be between 1 and 730 (got {days})"
        )));
    }
    crate::api::patient(&app, &icn).await?;
    let today = today();
    let mut rows: Vec<Lab> = app
        .store()
        .labs(&icn)
        .await?
        .into_iter()
        .filter(|l| {
            param(&l.lab_test_name).is_some_and(|n| n.eq_ignore_ascii_case(test_name.trim()))
                && numeric(l).is_some()
                && sum::within_days(l.collection_datetime, today, days)
        })
        .collect();
    rows.sort_by(|a, b| {
        a.collection_datetime
            .cmp(&b.collection_datetime)
            .then(a.lab_id.cmp(&b.lab_id))
    });
    let bounds = rows.last().and_then(|l| {
        lab_trend::reference_bounds(l.ref_range_low, l.ref_range_high, param(&l.ref_range_text))
    });
    Ok(Json(TrendResponse {
        test_name: test_name.trim().to_string(),
        days,
        ref_range_low: bounds.and_then(|b| b.0),
        ref_range_high: bounds.and_then(|b| b.1),
        points: rows
            .iter()
            .filter_map(|l| {
                numeric(l).map(|value| TrendPointJson {
                    collection_datetime: l.collection_datetime,
                    value,
                    result_unit: param(&l.result_unit).map(str::to_string),
                    abnormal_flag: param(&l.abnormal_flag).map(str::to_string),
                })
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_checked() {
        assert!(!flag_param("x", &None).unwrap());
        assert!(flag_param("x", &Some("on".into())).unwrap());
        assert!(flag_param("x", &Some("maybe".into())).is_err());
        assert_eq!(days_param("d", &None, Some(90)).unwrap(), Some(90));
        assert_eq!(
            days_param("d", &Some("all".into()), Some(90)).unwrap(),
            None
        );
        assert!(days_param("d", &Some("0".into()), None).is_err());
        assert!(days_param("d", &Some("x".into()), None).is_err());
        assert!(order_param(&Some("sideways".into()), true).is_err());
        assert_eq!(
            choice_param("s", &Some("LAB_TEST_NAME".into()), &SORTS).unwrap(),
            "lab_test_name"
        );
        assert!(choice_param("s", &Some("nope".into()), &SORTS).is_err());
        assert!(page_params(&Some("two".into()), &None).is_err());
    }

    #[test]
    fn critical_flags_are_distinct() {
        assert_eq!(flag_class(Some("H*"), false), "badge--danger");
        assert_eq!(flag_class(Some("PANIC"), false), "badge--danger");
        assert_eq!(flag_class(Some("H"), true), "badge--danger");
        assert_eq!(flag_class(Some("H"), false), "badge--warning");
        assert_eq!(flag_class(Some("L"), false), "badge--info");
    }
}
