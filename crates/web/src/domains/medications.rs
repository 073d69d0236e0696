//! The medications page (`/patient/{icn}/medications`, reference §3.5):
//! outpatient prescriptions and inpatient (BCMA) administrations in one
//! list, with the reference's filters (`medication_type`, `status` —
//! ignored for inpatient — `date_range`, `sort`), ADR-005 pagination, a
//! controlled-substance badge that works (flag or DEA schedule; quirk 10)
//! and each row's detail behind a disclosure. JSON twin:
//! `/api/patient/{icn}/medications/page`.

use super::vitals::{PagerView, choice, datetime, iso};
use super::{PageContext, Pagination, QueryUrl};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::pages::today;
use crate::realtime::{self, VistaStatus};
use crate::view;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::record::{InpatientMedication, OutpatientMedication};
use domain::summary::{self as sum, MedicationItem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/medications", get(page))
        .route("/api/patient/{icn}/medications/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct MedicationsPageQuery {
    /// `all` (default), `outpatient` or `inpatient`.
    pub medication_type: Option<String>,
    /// `all` (default), `ACTIVE`, `EXPIRED` or `DISCONTINUED`; applies to
    /// outpatient prescriptions only (ignored when `medication_type` is
    /// `inpatient`).
    pub status: Option<String>,
    /// `30`, `90`, `180`, `365` days or `all` (default).
    pub date_range: Option<String>,
    /// `date_desc` (default), `date_asc`, `drug_name` or `type`.
    pub sort: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// 10, 20 (default), 50 or 100.
    pub page_size: Option<u32>,
}

const TYPES: [(&str, &str); 3] = [
    ("all", "All"),
    ("outpatient", "Outpatient"),
    ("inpatient", "Inpatient"),
];
const STATUSES: [(&str, &str); 4] = [
    ("all", "All statuses"),
    ("ACTIVE", "Active"),
    ("EXPIRED", "Expired"),
    ("DISCONTINUED", "Discontinued"),
];
const RANGES: [(&str, &str); 5] = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("180", "Last 180 days"),
    ("365", "Last year"),
    ("all", "All dates"),
];
const SORTS: [(&str, &str); 4] = [
    ("date_desc", "Newest first"),
    ("date_asc", "Oldest first"),
    ("drug_name", "Drug name"),
    ("type", "Type"),
];
const DEFAULT_PAGE_SIZE: u32 = 20;

fn keys(options: &[(&'static str, &'static str)]) -> Vec<&'static str> {
    options.iter().map(|(k, _)| *k).collect()
}

struct Filters {
    kind: &'static str,
    status: &'static str,
    range: &'static str,
    sort: &'static str,
}

struct Listing {
    filters: Filters,
    counts: sum::MedicationCounts,
    rows: Vec<MedicationItem>,
    /// Source details of this page's rows, by `medication_id`.
    details: HashMap<String, Vec<(&'static str, String)>>,
    pagination: Pagination,
    vista: VistaStatus,
}

fn push(out: &mut Vec<(&'static str, String)>, label: &'static str, v: Option<String>) {
    if let Some(v) = v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        out.push((label, v));
    }
}

fn num(x: Option<f64>) -> Option<String> {
    x.map(|x| {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
}

/// What the detail disclosure adds for a prescription.
fn outpatient_details(m: &OutpatientMedication) -> Vec<(&'static str, String)> {
    let mut d = Vec::new();
    push(&mut d, "Rx number", m.prescription_number.clone());
    push(&mut d, "Generic name", m.generic_name.clone());
    push(&mut d, "Dosage form", m.dosage_form.clone());
    push(&mut d, "Quantity", num(m.quantity_ordered));
    push(
        &mut d,
        "Refills allowed",
        m.refills_allowed.map(|r| r.to_string()),
    );
    push(
        &mut d,
        "Last fill",
        m.latest_fill_date.map(|t| {
            let mut s = t.format("%Y-%m-%d").to_string();
            if let Some(n) = m.latest_fill_number {
                s.push_str(&format!(" (fill {n})"));
            }
            s
        }),
    );
    push(&mut d, "Stored status", m.rx_status.clone());
    push(
        &mut d,
        "Discontinued",
        m.discontinued_date
            .map(|t| t.format("%Y-%m-%d").to_string()),
    );
    push(&mut d, "Discontinue reason", m.discontinue_reason.clone());
    push(&mut d, "Pharmacy", m.pharmacy_name.clone());
    push(&mut d, "Clinic", m.clinic_name.clone());
    push(&mut d, "NDC", m.ndc_code.clone());
    d
}

/// What the detail disclosure adds for an administration.
fn inpatient_details(m: &InpatientMedication) -> Vec<(&'static str, String)> {
    let mut d = Vec::new();
    push(&mut d, "Order number", m.order_number.clone());
    push(&mut d, "Dosage ordered", m.dosage_ordered.clone());
    push(&mut d, "Schedule", m.schedule.clone());
    push(&mut d, "Scheduled", m.scheduled_datetime.map(datetime));
    push(&mut d, "Administered by", m.administered_by.clone());
    if m.administration_variance {
        push(
            &mut d,
            "Variance",
            Some(
                [m.variance_type.as_deref(), m.variance_reason.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
            )
            .filter(|s| !s.is_empty())
            .or(Some("Yes".into())),
        );
    }
    if m.is_iv_medication {
        push(
            &mut d,
            "IV",
            Some(
                [m.iv_type.as_deref(), m.infusion_rate.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|s| !s.is_empty())
            .or(Some("Yes".into())),
        );
    }
    push(&mut d, "Facility", m.facility_name.clone());
    d
}

async fn listing(
    app: &AppState,
    user: &CurrentUser,
    icn: &str,
    q: &MedicationsPageQuery,
) -> Result<Listing> {
    let kind = choice("medication_type", &q.medication_type, "all", &keys(&TYPES))?;
    let mut status = choice("status", &q.status, "all", &keys(&STATUSES))?;
    let range = choice("date_range", &q.date_range, "all", &keys(&RANGES))?;
    let sort = choice("sort", &q.sort, "date_desc", &keys(&SORTS))?;
    Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, 0)?;
    if kind == "inpatient" {
        // Administrations have no prescription status.
        status = "all";
    }
    let today = today();
    // Outpatient prescriptions merge with today's VistA ones (`ORWPS
    // COVER` lists outpatient prescriptions only).
    let merged = realtime::page_rows(
        app,
        user,
        icn,
        app.store().outpatient_medications(icn).await?,
    );
    let out = merged.rows;
    let inp = app.store().inpatient_medications(icn).await?;
    let (out_items, inp_items, counts) = sum::medications(&out, &inp, today);
    let mut rows = sum::merge_medications(out_items, inp_items);
    let days: Option<u32> = range.parse().ok();
    rows.retain(|m| {
        (kind == "all" || m.medication_type == kind)
            && (status == "all" || m.medication_type == "inpatient" || m.status == status)
            && days.is_none_or(|d| m.date.is_some_and(|t| sum::within_days(t, today, d)))
    });
    // `rows` is newest first (ties by id); the other sorts are stable on it.
    match sort {
        "date_asc" => rows.reverse(),
        "drug_name" => rows.sort_by_key(|m| m.drug_name.to_lowercase()),
        "type" => rows.sort_by(|a, b| b.medication_type.cmp(&a.medication_type)),
        _ => {}
    }
    let pagination = Pagination::new(q.page, q.page_size, DEFAULT_PAGE_SIZE, rows.len())?;
    let rows = rows[pagination.range()].to_vec();
    let mut details = HashMap::new();
    for m in &rows {
        let extra = if m.vista_site.is_some() {
            out.iter()
                .find(|o| o.source_id == m.medication_id)
                .map(outpatient_details)
        } else if let Some(id) = m.medication_id.strip_prefix("rxout_") {
            out.iter()
                .find(|o| o.medication_outpatient_id.to_string() == id)
                .map(outpatient_details)
        } else if let Some(id) = m.medication_id.strip_prefix("bcma_") {
            inp.iter()
                .find(|o| o.medication_inpatient_id.to_string() == id)
                .map(inpatient_details)
        } else {
            None
        };
        details.insert(m.medication_id.clone(), extra.unwrap_or_default());
    }
    Ok(Listing {
        details,
        filters: Filters {
            kind,
            status,
            range,
            sort,
        },
        counts,
        rows,
        pagination,
        vista: merged.status,
    })
}

struct Opt {
    key: &'static str,
    label: &'static str,
    selected: bool,
}

fn opts(options: &[(&'static str, &'static str)], current: &str) -> Vec<Opt> {
    options
        .iter()
        .map(|(key, label)| Opt {
            key,
            label,
            selected: *key == current,
        })
        .collect()
}

struct Row {
    id: String,
    date: String,
    date_iso: String,
    kind: &'static str,
    drug: String,
    strength: Option<String>,
    drug_class: Option<String>,
    status: String,
    status_class: &'static str,
    controlled: bool,
    schedule: Option<String>,
    instructions: Option<String>,
    route: Option<String>,
    provider: Option<String>,
    facility: Option<String>,
    days_supply: Option<i64>,
    refills: Option<i64>,
    expires: Option<String>,
    extra: Vec<(&'static str, String)>,
    vista_site: Option<String>,
}

fn row(m: &MedicationItem, details: &HashMap<String, Vec<(&'static str, String)>>) -> Row {
    let inpatient = m.medication_type == "inpatient";
    Row {
        id: m.medication_id.clone(),
        date: m.date.map_or_else(|| "—".into(), datetime),
        date_iso: m.date.map(iso).unwrap_or_default(),
        kind: if inpatient { "Inpatient" } else { "Outpatient" },
        drug: m.drug_name.clone(),
        strength: m.drug_strength.clone(),
        drug_class: m.drug_class.clone(),
        status_class: match m.status.as_str() {
            "ACTIVE" | "GIVEN" => "badge--success",
            "DISCONTINUED" | "REFUSED" | "MISSING DOSE" => "badge--danger",
            "HELD" | "SUSPENDED" | "HOLD" => "badge--warning",
            _ => "badge--muted",
        },
        status: m.status.clone(),
        controlled: m.is_controlled,
        schedule: m.dea_schedule.clone(),
        instructions: m.instructions.clone(),
        route: m.route.clone(),
        provider: m.provider.clone(),
        facility: m.facility_name.clone(),
        days_supply: m.days_supply,
        refills: m.refills_remaining,
        expires: m.expiration_date.map(|d| d.format("%Y-%m-%d").to_string()),
        extra: details.get(&m.medication_id).cloned().unwrap_or_default(),
        vista_site: m.vista_site.clone(),
    }
}

#[derive(Template)]
#[template(path = "domains/medications.html")]
struct MedicationsPage {
    shell: crate::view::Shell,
    icn: String,
    counts: sum::MedicationCounts,
    any: bool,
    types: Vec<Opt>,
    statuses: Vec<Opt>,
    ranges: Vec<Opt>,
    sorts: Vec<Opt>,
    status_disabled: bool,
    page_size: u32,
    rows: Vec<Row>,
    pager: PagerView,
    vista: VistaStatus,
}

/// `GET /patient/{icn}/medications?medication_type=&status=&date_range=&sort=&page=&page_size=`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<MedicationsPageQuery>,
) -> Result<Html<String>> {
    let ctx = PageContext::load(&app, &user, &icn, "medications").await?;
    let l = listing(&app, &user, &icn, &q).await?;
    let f = &l.filters;
    let keep = |k: &'static str, default: &str| if k == default { "" } else { k };
    let base = QueryUrl::new(format!("/patient/{icn}/medications"))
        .with("medication_type", keep(f.kind, "all"))
        .with("status", keep(f.status, "all"))
        .with("date_range", keep(f.range, "all"))
        .with("sort", keep(f.sort, "date_desc"))
        .with("page_size", l.pagination.page_size);
    let page = MedicationsPage {
        shell: ctx.shell,
        counts: l.counts,
        any: l.counts.outpatient_total + l.counts.inpatient_total > 0,
        types: opts(&TYPES, f.kind),
        statuses: opts(&STATUSES, f.status),
        ranges: opts(&RANGES, f.range),
        sorts: opts(&SORTS, f.sort),
        status_disabled: f.kind == "inpatient",
        page_size: l.pagination.page_size,
        rows: l.rows.iter().map(|m| row(m, &l.details)).collect(),
        pager: PagerView::new(&l.pagination, &base),
        vista: l.vista,
        icn,
    };
    Ok(view::render(&page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationsPageResponse {
    pub patient_icn: String,
    pub filters: MedicationsPageQuery,
    /// Counts over all the patient's medications.
    pub counts: sum::MedicationCounts,
    pub page: u32,
    pub page_size: u32,
    pub pages: u32,
    /// Rows matching the filters, before paging.
    pub total: usize,
    /// Prescriptions from this user's last "Refresh from VistA" are
    /// included, with `vista_site`.
    pub medications: Vec<MedicationItem>,
}

/// `GET /api/patient/{icn}/medications/page`: the medications page's rows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/medications/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), MedicationsPageQuery),
    responses(
        (status = 200, description = "One page of medications", body = MedicationsPageResponse),
        (status = 400, description = "A query value not allowed"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<MedicationsPageQuery>,
) -> Result<Json<MedicationsPageResponse>> {
    crate::api::patient(&app, &icn).await?;
    let l = listing(&app, &user, &icn, &q).await?;
    Ok(Json(MedicationsPageResponse {
        patient_icn: icn,
        counts: l.counts,
        page: l.pagination.page,
        page_size: l.pagination.page_size,
        pages: l.pagination.pages(),
        total: l.pagination.total,
        medications: l.rows,
        filters: q,
    }))
}
