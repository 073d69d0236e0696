//! The immunizations page (reference: original-webapp §3.9): vaccine group
//! (influenza = the annual flag, COVID-19 = the COVID flag, other groups
//! by vaccine name), days, incomplete-series and adverse-reaction filters,
//! counts, and pagination (ADR-005), newest administration first.

use super::labs::{
    DEFAULT_PAGE_SIZE, PageInfo, Pager, Pill, SelectOption, dash, days_param, flag_param, minute,
    page_params, param,
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
use domain::record::Immunization;
use domain::summary::{self as sum, ImmunizationCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/immunizations", get(page))
        .route("/api/patient/{icn}/immunizations/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// The vaccine groups of `reference.vaccine`, with the name fragments that
/// identify them (influenza and COVID-19 are identified by their flags).
const GROUPS: [(&str, &[&str]); 10] = [
    ("COVID-19", &["COVID"]),
    ("Influenza", &["INFLUENZA", "FLU"]),
    ("Hepatitis", &["HEPATITIS", "HEP A", "HEP B"]),
    ("Polio", &["POLIO", "IPV"]),
    ("Tdap/DTaP", &["TDAP", "DTAP", "TETANUS", "TD "]),
    ("Varicella", &["VARICELLA"]),
    ("Hib", &["HIB", "HAEMOPHILUS"]),
    ("HPV", &["HPV", "PAPILLOMA"]),
    ("Pneumococcal", &["PNEUMO", "PCV", "PPSV"]),
    ("Shingles", &["ZOSTER", "SHINGLES"]),
];

/// The group of a vaccine: COVID-19 and Influenza by the row's flags, the
/// others by name; `None` when no group matches.
pub fn vaccine_group(i: &Immunization) -> Option<&'static str> {
    if i.is_covid_vaccine {
        return Some("COVID-19");
    }
    if i.is_annual_vaccine {
        return Some("Influenza");
    }
    let name = format!(
        "{} ",
        param(&i.vaccine_name)
            .or(param(&i.vaccine_name_local))
            .unwrap_or("")
            .to_ascii_uppercase()
    );
    GROUPS
        .iter()
        .skip(2)
        .find(|(_, keys)| keys.iter().any(|k| name.contains(k)))
        .map(|(g, _)| *g)
}

/// Whether `i` belongs to the group `g` (the reference's rule: influenza →
/// annual flag, COVID-19 → COVID flag, others by name).
fn in_group(i: &Immunization, g: &str) -> bool {
    match g.to_ascii_lowercase().as_str() {
        "influenza" => i.is_annual_vaccine,
        "covid-19" | "covid" => i.is_covid_vaccine,
        _ => vaccine_group(i).is_some_and(|x| x.eq_ignore_ascii_case(g)),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ImmunizationsPageQuery {
    /// A vaccine group (`Influenza`, `COVID-19`, `Hepatitis`, `Polio`,
    /// `Tdap/DTaP`, `Varicella`, `Hib`, `HPV`, `Pneumococcal`, `Shingles`)
    /// or `all`.
    pub vaccine_group: Option<String>,
    /// Administered in the last N days (1–3650), or `all` (default).
    pub days: Option<String>,
    /// `true` for doses of incomplete series only.
    pub incomplete_only: Option<String>,
    /// `true` for doses with an adverse reaction only.
    pub adverse_reactions_only: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImmunizationsPageResponse {
    pub patient_icn: String,
    /// Counts over every immunization of the patient.
    pub counts: ImmunizationCounts,
    pub pagination: PageInfo,
    /// This page's immunizations, newest first.
    pub immunizations: Vec<Immunization>,
}

/// `GET /api/patient/{icn}/immunizations/page`: the immunizations page's
/// rows, with its filters and pagination.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/immunizations/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), ImmunizationsPageQuery),
    responses(
        (status = 200, description = "One page of immunizations", body = ImmunizationsPageResponse),
        (status = 400, description = "Malformed or invalid query value"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ImmunizationsPageQuery>,
) -> Result<Json<ImmunizationsPageResponse>> {
    let f = ImmFilter::parse(&q)?;
    crate::api::patient(&app, &icn).await?;
    let mut all = app.store().immunizations(&icn).await?;
    all.sort_by(sum::immunization_order);
    let today = today();
    let (rows, pagination) = f.select(&all, today)?;
    Ok(Json(ImmunizationsPageResponse {
        counts: sum::immunization_counts(&all, today),
        immunizations: rows[pagination.range()]
            .iter()
            .map(|i| (*i).clone())
            .collect(),
        pagination: PageInfo::from(&pagination),
        patient_icn: icn,
    }))
}

const DAY_OPTIONS: [u32; 4] = [90, 180, 365, 730];

pub struct ImmRow {
    pub vaccine: String,
    pub cvx: Option<String>,
    pub group: Option<&'static str>,
    pub date: String,
    pub series: String,
    pub route_site: String,
    pub dose: Option<String>,
    pub provider: String,
    pub location: String,
    pub incomplete: bool,
    pub complete: bool,
    pub reaction: Option<String>,
}

#[derive(Template)]
#[template(path = "domains/immunizations.html")]
pub struct ImmunizationsPage {
    pub shell: Shell,
    pub icn: String,
    pub counts: ImmunizationCounts,
    pub group_options: Vec<SelectOption>,
    pub day_options: Vec<SelectOption>,
    pub incomplete_only: bool,
    pub adverse_only: bool,
    pub page_size: u32,
    pub status_pills: Vec<Pill>,
    pub rows: Vec<ImmRow>,
    pub filtered: usize,
    pub pager: Pager,
}

/// The page's filters, sort and page, parsed from the query.
struct ImmFilter {
    days: Option<u32>,
    incomplete_only: bool,
    adverse_only: bool,
    page_no: Option<u32>,
    size: Option<u32>,
    group: Option<&'static str>,
}

impl ImmFilter {
    fn parse(q: &ImmunizationsPageQuery) -> Result<ImmFilter> {
        let days = days_param("days", &q.days, None)?;
        let incomplete_only = flag_param("incomplete_only", &q.incomplete_only)?;
        let adverse_only = flag_param("adverse_reactions_only", &q.adverse_reactions_only)?;
        let (page_no, size) = page_params(&q.page, &q.page_size)?;
        let group = match param(&q.vaccine_group).filter(|g| !g.eq_ignore_ascii_case("all")) {
            None => None,
            Some(g) => Some(
                GROUPS
                    .iter()
                    .map(|(name, _)| *name)
                    .find(|name| {
                        name.eq_ignore_ascii_case(g)
                            || (g.eq_ignore_ascii_case("covid") && *name == "COVID-19")
                    })
                    .ok_or_else(|| {
                        WebError::BadRequest(format!(
                            "vaccine_group must be one of {}",
                            GROUPS
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
            ),
        };
        Ok(ImmFilter {
            days,
            incomplete_only,
            adverse_only,
            page_no,
            size,
            group,
        })
    }

    /// The matching rows, in order, and the page shown.
    fn select<'a>(
        &self,
        all: &'a [Immunization],
        today: NaiveDate,
    ) -> Result<(Vec<&'a Immunization>, Pagination)> {
        let (days, incomplete_only, adverse_only, group) = (
            self.days,
            self.incomplete_only,
            self.adverse_only,
            self.group,
        );
        let rows: Vec<&Immunization> = all
            .iter()
            .filter(|i| {
                group.is_none_or(|g| in_group(i, g))
                    && days.is_none_or(|d| sum::within_days(i.administered_datetime, today, d))
                    && (!incomplete_only || sum::immunization_incomplete(i))
                    && (!adverse_only || i.has_adverse_reaction)
            })
            .collect();
        let pagination = Pagination::new(self.page_no, self.size, DEFAULT_PAGE_SIZE, rows.len())?;
        Ok((rows, pagination))
    }
}

/// `GET /patient/{icn}/immunizations`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ImmunizationsPageQuery>,
) -> Result<Html<String>> {
    let f = ImmFilter::parse(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "immunizations").await?;
    let mut all = app.store().immunizations(&icn).await?;
    all.sort_by(sum::immunization_order);
    let today = today();
    let counts = sum::immunization_counts(&all, today);
    let (rows, pagination) = f.select(&all, today)?;
    let ImmFilter {
        days,
        incomplete_only,
        adverse_only,
        group,
        ..
    } = f;
    let size_param = if pagination.page_size == DEFAULT_PAGE_SIZE {
        String::new()
    } else {
        pagination.page_size.to_string()
    };
    let filters = QueryUrl::new(format!("/patient/{icn}/immunizations"))
        .with("vaccine_group", group.unwrap_or(""))
        .with("days", days.map(|d| d.to_string()).unwrap_or_default())
        .with("incomplete_only", if incomplete_only { "true" } else { "" })
        .with(
            "adverse_reactions_only",
            if adverse_only { "true" } else { "" },
        )
        .with("page_size", &size_param);
    let pager = Pager::new(&pagination, &filters);
    let mut per_group: BTreeMap<&'static str, usize> = BTreeMap::new();
    for i in &all {
        for (g, _) in GROUPS {
            if in_group(i, g) {
                *per_group.entry(g).or_insert(0) += 1;
            }
        }
    }
    let group_options = std::iter::once(SelectOption {
        value: String::new(),
        label: format!("All vaccines ({})", counts.total),
        selected: group.is_none(),
    })
    .chain(GROUPS.iter().filter_map(|(g, _)| {
        let n = per_group.get(g).copied().unwrap_or(0);
        (n > 0 || group == Some(*g)).then(|| SelectOption {
            value: (*g).to_string(),
            label: format!("{g} ({n})"),
            selected: group == Some(*g),
        })
    }))
    .collect();
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
    let status_pills = vec![
        Pill {
            label: format!("All ({})", counts.total),
            href: filters
                .clone()
                .with("incomplete_only", "")
                .with("adverse_reactions_only", "")
                .to_string(),
            current: !incomplete_only && !adverse_only,
        },
        Pill {
            label: format!("Incomplete series ({})", counts.incomplete),
            href: filters.set("incomplete_only", if incomplete_only { "" } else { "true" }),
            current: incomplete_only,
        },
        Pill {
            label: format!("Adverse reactions ({})", counts.with_reactions),
            href: filters.set(
                "adverse_reactions_only",
                if adverse_only { "" } else { "true" },
            ),
            current: adverse_only,
        },
    ];
    let view_rows = rows[pagination.range()]
        .iter()
        .map(|i| {
            let series = match (param(&i.series), i.dose_number, i.total_doses) {
                (Some(s), _, _) => s.to_string(),
                (None, Some(d), Some(t)) => format!("{d} of {t}"),
                _ => "—".into(),
            };
            let route_site = match (param(&i.route), param(&i.site_of_administration)) {
                (Some(r), Some(s)) => format!("{r} / {s}"),
                (Some(r), None) => r.to_string(),
                (None, Some(s)) => s.to_string(),
                (None, None) => "—".into(),
            };
            ImmRow {
                vaccine: param(&i.vaccine_name)
                    .or(param(&i.vaccine_name_local))
                    .unwrap_or("(unnamed vaccine)")
                    .to_string(),
                cvx: param(&i.cvx_code).map(str::to_string),
                group: vaccine_group(i),
                date: minute(i.administered_datetime),
                series,
                route_site,
                dose: param(&i.dose).map(str::to_string),
                provider: dash(&i.provider_name),
                location: param(&i.location_name)
                    .or(param(&i.station_name))
                    .unwrap_or("—")
                    .to_string(),
                incomplete: sum::immunization_incomplete(i),
                complete: i.is_series_complete == Some(true),
                reaction: i.has_adverse_reaction.then(|| {
                    param(&i.adverse_reaction)
                        .unwrap_or("Reaction recorded")
                        .to_string()
                }),
            }
        })
        .collect();
    Ok(view::render(&ImmunizationsPage {
        shell: ctx.shell,
        icn,
        counts,
        group_options,
        day_options,
        incomplete_only,
        adverse_only,
        page_size: pagination.page_size,
        status_pills,
        rows: view_rows,
        filtered: rows.len(),
        pager,
    }))
}
