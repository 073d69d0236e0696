//! The vitals page (`/patient/{icn}/vitals`, reference §3.3): every
//! reading with filter pills per type (each pill matches its rows — the
//! reference's pulse-oximetry and blood-glucose pills matched nothing,
//! quirk 7), the reference's sorts, ADR-005 pagination and server-rendered
//! SVG charts (BP, weight, pain, pulse oximetry, temperature) with a text
//! alternative. Its JSON twin is `/api/patient/{icn}/vitals/page`.
//!
//! Paginated with the shared [`super::Pager`]
//! (`templates/domains/partials/pager.html`).

use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use crate::realtime::{self, VistaStatus};
use crate::view;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::NaiveDateTime;
use domain::chart::{self, Chart, ChartSpec, Series};
use domain::realtime::Realtime;
use domain::record::Vital;
use domain::summary as sum;
use domain::vitals::{AbnormalFlag, VitalType};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/vitals", get(page))
        .route("/api/patient/{icn}/vitals/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

// ---------------------------------------------------------------------------
// Shared pager

pub(crate) use super::Pager as PagerView;

/// An optional text parameter, trimmed; blank is absent.
pub(crate) fn param(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `value` checked against the allowed choices (case-insensitive), else 400.
pub(crate) fn choice(
    name: &str,
    value: &Option<String>,
    default: &'static str,
    allowed: &[&'static str],
) -> Result<&'static str> {
    match param(value) {
        None => Ok(default),
        Some(v) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .copied()
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "{name} must be one of {} (got `{v}`)",
                    allowed.join(", ")
                ))
            }),
    }
}

pub(crate) fn datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub(crate) fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

// ---------------------------------------------------------------------------
// Query

#[derive(Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct VitalsPageQuery {
    /// A type's abbreviation (`BP`, `POX`, `BG`, …) or name; blank or
    /// `all` for every type.
    pub vital_type: Option<String>,
    /// `newest` (default), `oldest`, `type`, `abnormal` (CRITICAL > HIGH >
    /// LOW > NORMAL > unflagged), `source_vista`, `source_cerner`,
    /// `source_calc`.
    pub sort: Option<String>,
    /// The original's spelling of the sort, used when `sort` is absent:
    /// `taken_datetime`, `vital_type`, `abnormal_flag` or `data_source`.
    pub sort_by: Option<String>,
    /// With `sort_by`: `desc` (default), `asc`, or `cerner` (data source,
    /// Cerner first).
    pub sort_order: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<u32>,
}

const SORTS: [(&str, &str); 7] = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("type", "Type"),
    ("abnormal", "Abnormal first"),
    ("source_vista", "Source: VistA first"),
    ("source_cerner", "Source: Cerner first"),
    ("source_calc", "Source: calculated first"),
];

const DEFAULT_PAGE_SIZE: u32 = 20;

/// The filtered, sorted, paged readings.
struct Listing {
    /// Abbreviation filtered on, if any.
    filter: Option<String>,
    sort: &'static str,
    counts: Vec<(String, String, usize)>,
    total_all: usize,
    rows: Vec<Vital>,
    pagination: Pagination,
    all: Vec<Vital>,
    vista: VistaStatus,
}

fn source_rank(sort: &str, source: &str) -> u8 {
    let order: [&str; 3] = match sort {
        "source_cerner" => ["CDWWork2", "CDWWork", "CALCULATED"],
        "source_calc" => ["CALCULATED", "CDWWork2", "CDWWork"],
        _ => ["CDWWork", "CDWWork2", "CALCULATED"],
    };
    // Today's rows from a VistA refresh sort with the CDW's VistA rows.
    let source = match source.trim() {
        s if s.eq_ignore_ascii_case(domain::realtime::VISTA_SOURCE) => "CDWWork",
        s => s,
    };
    order
        .iter()
        .position(|s| s.eq_ignore_ascii_case(source))
        .map_or(3, |i| i as u8)
}

fn newest(a: &Vital, b: &Vital) -> Ordering {
    b.taken_datetime
        .cmp(&a.taken_datetime)
        .then_with(|| a.vital_id.cmp(&b.vital_id))
}

/// Catalogue position of an abbreviation (unknown ones last).
fn abbr_rank(abbr: &str) -> usize {
    VitalType::ALL
        .iter()
        .position(|k| k.abbr() == abbr)
        .unwrap_or(VitalType::ALL.len())
}

fn sort_vitals(rows: &mut [Vital], sort: &str) {
    match sort {
        "oldest" => rows.sort_by(|a, b| newest(b, a)),
        "type" => rows.sort_by(|a, b| {
            let (x, y) = (sum::vital_abbr(a), sum::vital_abbr(b));
            abbr_rank(&x)
                .cmp(&abbr_rank(&y))
                .then_with(|| x.cmp(&y))
                .then_with(|| newest(a, b))
        }),
        "abnormal" => rows.sort_by(|a, b| {
            let rank = |v: &Vital| sum::vital_flag(v).map_or(-1, |f| i16::from(f.severity()));
            rank(b).cmp(&rank(a)).then_with(|| newest(a, b))
        }),
        s if s.starts_with("source_") => rows.sort_by(|a, b| {
            source_rank(s, &a.data_source)
                .cmp(&source_rank(s, &b.data_source))
                .then_with(|| newest(a, b))
        }),
        _ => rows.sort_by(newest),
    }
}

/// The sort key: `sort`, else the original's `sort_by`/`sort_order`.
fn sort_key(q: &VitalsPageQuery) -> Result<&'static str> {
    if param(&q.sort).is_some() || param(&q.sort_by).is_none() {
        return choice(
            "sort",
            &q.sort,
            "newest",
            &SORTS.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        );
    }
    let by = choice(
        "sort_by",
        &q.sort_by,
        "taken_datetime",
        &[
            "taken_datetime",
            "vital_type",
            "abnormal_flag",
            "data_source",
        ],
    )?;
    let order = choice(
        "sort_order",
        &q.sort_order,
        "desc",
        &["asc", "desc", "cerner"],
    )?;
    Ok(match (by, order) {
        ("taken_datetime", "asc") => "oldest",
        ("taken_datetime", _) => "newest",
        ("vital_type", _) => "type",
        ("abnormal_flag", _) => "abnormal",
        (_, "cerner") => "source_cerner",
        (_, "desc") => "source_calc",
        _ => "source_vista",
    })
}

async fn listing(
    app: &AppState,
    user: &CurrentUser,
    icn: &str,
    q: &VitalsPageQuery,
) -> Result<Listing> {
    let sort = sort_key(q)?;
    // Validate the page size before reading anything.
    Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, 0)?;
    let merged = realtime::page_rows(app, user, icn, app.store().vitals(icn, None).await?);
    let all = merged.rows;
    let counts_map = sum::vital_counts(&all);
    let filter = match param(&q.vital_type) {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("all") => None,
        Some(t) => match t.parse::<VitalType>() {
            Ok(k) => Some(k.abbr().to_string()),
            Err(_) if counts_map.contains_key(&t.to_ascii_uppercase()) => {
                Some(t.to_ascii_uppercase())
            }
            Err(e) => return Err(WebError::BadRequest(format!("vital_type: {e}"))),
        },
    };
    let mut counts: Vec<(String, String, usize)> = counts_map
        .into_iter()
        .map(|(abbr, n)| {
            let label = VitalType::from_abbr(&abbr)
                .map(|k| title_case(k.name()))
                .unwrap_or_else(|| abbr.clone());
            (abbr, label, n)
        })
        .collect();
    counts.sort_by(|a, b| abbr_rank(&a.0).cmp(&abbr_rank(&b.0)).then(a.0.cmp(&b.0)));
    let mut rows: Vec<Vital> = all
        .iter()
        .filter(|v| filter.as_deref().is_none_or(|f| sum::vital_abbr(v) == f))
        .cloned()
        .collect();
    sort_vitals(&mut rows, sort);
    let pagination = Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, rows.len())?;
    let rows = rows[pagination.range()].to_vec();
    Ok(Listing {
        filter,
        sort,
        counts,
        total_all: all.len(),
        rows,
        pagination,
        all,
        vista: merged.status,
    })
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Page

pub(crate) struct Pill {
    pub label: String,
    pub count: usize,
    pub url: String,
    pub active: bool,
    pub abbr: String,
}

struct SortOption {
    key: &'static str,
    label: &'static str,
    selected: bool,
}

struct VitalRow {
    taken: String,
    taken_iso: String,
    abbr: String,
    type_name: String,
    value: String,
    unit: String,
    detail: Option<String>,
    flag: Option<&'static str>,
    flag_class: &'static str,
    qualifiers: Vec<String>,
    location: Option<String>,
    entered_by: Option<String>,
    source: &'static str,
    source_class: &'static str,
    /// The VistA station of a row from today's refresh.
    vista_site: Option<String>,
}

pub(crate) fn flag_class(flag: Option<AbnormalFlag>) -> &'static str {
    match flag {
        Some(AbnormalFlag::Critical) => "badge--danger",
        Some(AbnormalFlag::High) => "badge--warning",
        Some(AbnormalFlag::Low) => "badge--info",
        Some(AbnormalFlag::Normal) => "badge--success",
        None => "badge--muted",
    }
}

fn source_label(source: &str) -> (&'static str, &'static str) {
    match source.trim().to_ascii_uppercase().as_str() {
        "CDWWORK2" => ("Cerner", "badge--info"),
        "CALCULATED" => ("Calc", "badge--muted"),
        _ => ("VistA", "badge--success"),
    }
}

fn text(s: &Option<String>) -> Option<String> {
    param(s).map(str::to_string)
}

fn number(x: f64) -> String {
    let s = format!("{x:.1}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn vital_row(v: &Vital) -> VitalRow {
    let reading = sum::vital_reading(v);
    let kind = sum::vital_kind(v);
    let detail = match (kind, v.systolic, v.diastolic) {
        (Some(VitalType::BloodPressure), Some(s), Some(d)) => {
            Some(format!("Systolic {s} · Diastolic {d}"))
        }
        _ => v.metric_value.and_then(|m| {
            let unit = match kind {
                Some(VitalType::Weight) => "kg",
                Some(VitalType::Height) => "cm",
                Some(VitalType::Temperature) => "C",
                _ => return None,
            };
            Some(format!("{} {unit}", number(m)))
        }),
    };
    let flag = sum::vital_flag(v);
    let (source, source_class) = source_label(&v.data_source);
    VitalRow {
        taken: datetime(v.taken_datetime),
        taken_iso: iso(v.taken_datetime),
        abbr: reading.abbr,
        type_name: title_case(&v.vital_type),
        value: reading.value,
        unit: reading.unit,
        detail,
        flag: flag.map(AbnormalFlag::as_str),
        flag_class: flag_class(flag),
        qualifiers: v
            .qualifiers
            .iter()
            .filter_map(|q| param(&q.qualifier_name).map(str::to_string))
            .collect(),
        location: text(&v.location_name),
        entered_by: text(&v.entered_by),
        source,
        source_class,
        vista_site: v.vista_site().map(str::to_string),
    }
}

/// One series of a chart, as the legend shows it.
struct Legend {
    name: String,
    class: String,
}

struct ChartView {
    key: &'static str,
    title: &'static str,
    desc: String,
    unit: &'static str,
    chart: Chart,
    legend: Vec<Legend>,
    /// The data as text: date, then one value per series.
    table: Vec<(String, String)>,
}

const CHART_POINTS: usize = 50;

/// A chart: its type, element key, title and fixed y range.
type ChartDef = (VitalType, &'static str, &'static str, Option<(f64, f64)>);

fn value_of(v: &Vital) -> Option<f64> {
    v.numeric_value
        .or_else(|| param(&v.result_value).and_then(|t| t.parse().ok()))
}

fn charts(all: &[Vital]) -> Vec<ChartView> {
    let specs: [ChartDef; 5] = [
        (
            VitalType::BloodPressure,
            "bp",
            "Blood pressure",
            Some((40.0, 200.0)),
        ),
        (VitalType::Weight, "wt", "Weight", None),
        (VitalType::Pain, "pn", "Pain", Some((0.0, 10.0))),
        (
            VitalType::PulseOximetry,
            "pox",
            "Pulse oximetry",
            Some((80.0, 100.0)),
        ),
        (VitalType::Temperature, "t", "Temperature", None),
    ];
    let mut out = Vec::new();
    for (kind, key, title, range) in specs {
        // Newest 50 readings of the type, plotted oldest first.
        let mut rows: Vec<&Vital> = all
            .iter()
            .filter(|v| sum::vital_kind(v) == Some(kind))
            .collect();
        rows.sort_by(|a, b| newest(a, b));
        rows.truncate(CHART_POINTS);
        rows.reverse();
        let unit = match kind {
            VitalType::Pain => "/10",
            k => k.unit(),
        };
        let series: Vec<Series> = if kind == VitalType::BloodPressure {
            let pick = |f: fn(&Vital) -> Option<i64>| {
                rows.iter()
                    .filter_map(|v| f(v).map(|x| (v.taken_datetime, x as f64)))
                    .collect::<Vec<_>>()
            };
            vec![
                Series {
                    name: "Systolic".into(),
                    points: pick(|v| v.systolic),
                },
                Series {
                    name: "Diastolic".into(),
                    points: pick(|v| v.diastolic),
                },
            ]
        } else {
            vec![Series {
                name: title.to_string(),
                points: rows
                    .iter()
                    .filter_map(|v| value_of(v).map(|x| (v.taken_datetime, x)))
                    .collect(),
            }]
        };
        let mut spec = ChartSpec::new(480.0, 200.0);
        if let Some((lo, hi)) = range {
            spec = spec.with_y_range(lo, hi);
        }
        let Some(chart) = chart::line_chart(spec, &series) else {
            continue;
        };
        let table: Vec<(String, String)> = rows
            .iter()
            .rev()
            .map(|v| {
                let r = sum::vital_reading(v);
                let sep = if unit.starts_with('/') { "" } else { " " };
                (
                    datetime(v.taken_datetime),
                    format!("{}{sep}{unit}", r.value),
                )
            })
            .collect();
        let n = table.len();
        let day = |v: &&Vital| v.taken_datetime.format("%Y-%m-%d").to_string();
        let first = rows.first().map(day).unwrap_or_default();
        let last = rows.last().map(day).unwrap_or_default();
        let latest = table.first().map(|(_, v)| v.clone()).unwrap_or_default();
        let desc = if n == 1 {
            format!("{title}: 1 reading on {first}; {latest}.")
        } else {
            format!("{title}: {n} readings from {first} to {last}; latest {latest}.")
        };
        let legend = chart
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Legend {
                name: s.name.clone(),
                class: format!("chart__series--{i}"),
            })
            .collect();
        out.push(ChartView {
            key,
            title,
            desc,
            unit,
            chart,
            legend,
            table,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "domains/vitals.html")]
struct VitalsPage {
    shell: crate::view::Shell,
    icn: String,
    total_all: usize,
    pills: Vec<Pill>,
    sorts: Vec<SortOption>,
    filter: String,
    page_size: u32,
    rows: Vec<VitalRow>,
    pager: PagerView,
    charts: Vec<ChartView>,
    vista: VistaStatus,
}

/// `GET /patient/{icn}/vitals?vital_type=&sort=&page=&page_size=`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<VitalsPageQuery>,
) -> Result<Html<String>> {
    let ctx = PageContext::load(&app, &user, &icn, "vitals").await?;
    let l = listing(&app, &user, &icn, &q).await?;
    let path = format!("/patient/{icn}/vitals");
    let base = QueryUrl::new(path.clone())
        .with("vital_type", l.filter.clone().unwrap_or_default())
        .with("sort", if l.sort == "newest" { "" } else { l.sort })
        .with("page_size", l.pagination.page_size);
    let pill_url = |abbr: &str| base.clone().with("vital_type", abbr).to_string();
    let mut pills = vec![Pill {
        label: "All Vitals".into(),
        count: l.total_all,
        url: pill_url(""),
        active: l.filter.is_none(),
        abbr: "all".into(),
    }];
    pills.extend(l.counts.iter().map(|(abbr, label, n)| Pill {
        // "Blood Pressure (BP)", but "BMI", not "Bmi (BMI)".
        label: if label.eq_ignore_ascii_case(abbr) {
            abbr.clone()
        } else {
            format!("{label} ({abbr})")
        },
        count: *n,
        url: pill_url(abbr),
        active: l.filter.as_deref() == Some(abbr.as_str()),
        abbr: abbr.clone(),
    }));
    let page = VitalsPage {
        shell: ctx.shell,
        total_all: l.total_all,
        pills,
        sorts: SORTS
            .iter()
            .map(|(key, label)| SortOption {
                key,
                label,
                selected: *key == l.sort,
            })
            .collect(),
        filter: l.filter.clone().unwrap_or_default(),
        page_size: l.pagination.page_size,
        rows: l.rows.iter().map(vital_row).collect(),
        pager: PagerView::new(&l.pagination, &base),
        charts: charts(&l.all),
        vista: l.vista,
        icn,
    };
    Ok(view::render(&page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VitalsPageResponse {
    pub patient_icn: String,
    pub filters: VitalsPageQuery,
    /// Readings of every type, by abbreviation (what the pills show).
    pub counts: BTreeMap<String, usize>,
    pub page: u32,
    pub page_size: u32,
    pub pages: u32,
    /// Readings matching the filter, before paging.
    pub total: usize,
    /// This page's readings, in the requested order. Readings from this
    /// user's last "Refresh from VistA" (30 minutes) are included, with
    /// `source_system` `VistA` and `source_id` `vista:{site}:…`.
    pub vitals: Vec<Vital>,
}

/// `GET /api/patient/{icn}/vitals/page`: the vitals page's rows as JSON.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/vitals/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), VitalsPageQuery),
    responses(
        (status = 200, description = "One page of readings", body = VitalsPageResponse),
        (status = 400, description = "A query value not allowed"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<VitalsPageQuery>,
) -> Result<Json<VitalsPageResponse>> {
    crate::api::patient(&app, &icn).await?;
    let l = listing(&app, &user, &icn, &q).await?;
    Ok(Json(VitalsPageResponse {
        patient_icn: icn,
        counts: l.counts.iter().map(|(a, _, n)| (a.clone(), *n)).collect(),
        page: l.pagination.page,
        page_size: l.pagination.page_size,
        pages: l.pagination.pages(),
        total: l.pagination.total,
        vitals: l.rows,
        filters: q,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_sort_parameters_are_understood() {
        let q = |sort: Option<&str>, by: Option<&str>, order: Option<&str>| VitalsPageQuery {
            sort: sort.map(Into::into),
            sort_by: by.map(Into::into),
            sort_order: order.map(Into::into),
            ..Default::default()
        };
        assert_eq!(sort_key(&q(None, None, None)).unwrap(), "newest");
        assert_eq!(
            sort_key(&q(None, Some("taken_datetime"), Some("asc"))).unwrap(),
            "oldest"
        );
        assert_eq!(
            sort_key(&q(None, Some("vital_type"), None)).unwrap(),
            "type"
        );
        assert_eq!(
            sort_key(&q(None, Some("abnormal_flag"), Some("desc"))).unwrap(),
            "abnormal"
        );
        assert_eq!(
            sort_key(&q(None, Some("data_source"), Some("asc"))).unwrap(),
            "source_vista"
        );
        assert_eq!(
            sort_key(&q(None, Some("data_source"), Some("cerner"))).unwrap(),
            "source_cerner"
        );
        assert_eq!(
            sort_key(&q(None, Some("data_source"), Some("desc"))).unwrap(),
            "source_calc"
        );
        // `sort` wins; bad values are 400s.
        assert_eq!(
            sort_key(&q(Some("type"), Some("taken_datetime"), None)).unwrap(),
            "type"
        );
        assert!(sort_key(&q(None, Some("bogus"), None)).is_err());
        assert!(sort_key(&q(None, Some("vital_type"), Some("up"))).is_err());
    }

    #[test]
    fn source_orders() {
        assert!(source_rank("source_vista", "CDWWork") < source_rank("source_vista", "CDWWork2"));
        assert!(source_rank("source_cerner", "CDWWork2") < source_rank("source_cerner", "CDWWork"));
        assert_eq!(source_rank("source_calc", "CALCULATED"), 0);
        assert_eq!(source_rank("source_vista", "VistA"), 0);
        assert_eq!(source_rank("source_cerner", "VistA"), 1);
    }

    #[test]
    fn choices_are_case_insensitive_and_strict() {
        assert_eq!(
            choice(
                "sort",
                &Some("OLDEST".into()),
                "newest",
                &["newest", "oldest"]
            )
            .unwrap(),
            "oldest"
        );
        assert_eq!(
            choice("sort", &None, "newest", &["newest"]).unwrap(),
            "newest"
        );
        assert!(choice("sort", &Some("x".into()), "newest", &["newest"]).is_err());
        assert_eq!(title_case("PULSE OXIMETRY"), "Pulse Oximetry");
    }
}
