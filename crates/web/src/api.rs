//! The JSON API under `/api/patient/{icn}/…`: each widget's data, and the
//! filtered lists behind the domain pages (reference: original-webapp §3).
//!
//! Every endpoint reads through the store and summarises with
//! [`domain::summary`], exactly as the dashboard widgets do, so a widget and
//! its endpoint always agree. Dates ("last N days", "recent", a
//! prescription's status) are taken relative to today.
//!
//! Errors: an unknown ICN is 404 `{"detail": "Patient not found."}`; a
//! query value of the wrong type is 400 and a value out of range or not one
//! of the allowed ones is 422, each with a `detail` naming the parameter.
//! The full SSN is never read, so it can never be returned.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use crate::pages::today;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Extension, Json};
use chrono::NaiveDate;
use domain::record::{
    Allergy, Demographics, Encounter, FamilyHistory, Flag, Immunization, Lab, Note, Problem, Task,
    TaskPriority, TaskStatus, Vital,
};
use domain::summary::{self as sum};
use domain::vitals::VitalType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/patient/{icn}/demographics", get(demographics))
        .route("/api/patient/{icn}/vitals", get(vitals))
        .route("/api/patient/{icn}/vitals/recent", get(vitals_recent))
        .route("/api/patient/{icn}/allergies", get(allergies))
        .route("/api/patient/{icn}/medications", get(medications))
        .route(
            "/api/patient/{icn}/medications/recent",
            get(medications_recent),
        )
        .route("/api/patient/{icn}/encounters", get(encounters))
        .route("/api/patient/{icn}/labs", get(labs))
        .route(
            "/api/patient/{icn}/labs/recent-panels",
            get(labs_recent_panels),
        )
        .route("/api/patient/{icn}/notes", get(notes))
        .route("/api/patient/{icn}/notes/recent", get(notes_recent))
        .route("/api/patient/{icn}/immunizations", get(immunizations))
        .route(
            "/api/patient/{icn}/immunizations/recent",
            get(immunizations_recent),
        )
        .route("/api/patient/{icn}/problems", get(problems))
        .route("/api/patient/{icn}/problems/summary", get(problems_summary))
        .route("/api/patient/{icn}/history", get(history))
        .route("/api/patient/{icn}/history/recent", get(history_recent))
        .route("/api/patient/{icn}/tasks", get(tasks))
        .route("/api/patient/{icn}/flags", get(flags))
}

// ---------------------------------------------------------------------------
// Shared pieces

/// The patient's demographics, or 404.
pub(crate) async fn patient(app: &AppState, icn: &str) -> Result<Demographics> {
    app.store()
        .patient(icn)
        .await?
        .ok_or_else(WebError::patient_not_found)
}

/// `Query<T>`, but a malformed query string is a [`WebError::BadRequest`]
/// (rendered as `{"detail": …}`) instead of axum's plain-text rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| {
                WebError::BadRequest(format!("Invalid query parameter: {}", e.body_text()))
            })
    }
}

/// `value` (default `default`) checked to lie in `min..=max`, else 422.
fn ranged(name: &str, value: Option<u32>, default: u32, min: u32, max: u32) -> Result<u32> {
    let v = value.unwrap_or(default);
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(WebError::Unprocessable(format!(
            "{name} must be between {min} and {max} (got {v})"
        )))
    }
}

/// An optional `days` window (1–3650).
fn days(value: Option<u32>) -> Result<Option<u32>> {
    value
        .map(|d| ranged("days", Some(d), d, 1, 3650))
        .transpose()
}

/// A non-blank filter text, trimmed.
fn filter_text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn contains_ci(haystack: &Option<String>, needle: &str) -> bool {
    haystack
        .as_deref()
        .is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

fn as_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------
// Demographics

/// The patient's demographics. `ssn_last4` and `ssn_masked` are all there
/// is of the SSN; `age` is the age today (at death if deceased).
#[derive(Debug, Serialize, ToSchema)]
pub struct DemographicsResponse {
    #[serde(flatten)]
    pub demographics: Demographics,
    /// `***-**-1234`.
    pub ssn_masked: String,
    pub deceased: bool,
}

/// `GET /api/patient/{icn}/demographics`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/demographics",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Demographics (never the full SSN)", body = DemographicsResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn demographics(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<DemographicsResponse>> {
    let mut d = patient(&app, &icn).await?;
    d.age = sum::current_age(&d, today());
    Ok(Json(DemographicsResponse {
        ssn_masked: sum::mask_ssn(d.ssn_last4.as_deref()),
        deceased: sum::is_deceased(&d),
        demographics: d,
    }))
}

// ---------------------------------------------------------------------------
// Vitals

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct VitalsQuery {
    /// Most readings returned, 1–500 (default 100).
    pub limit: Option<u32>,
    /// Only this type: a name (`BLOOD PRESSURE`, `PULSE OX`, …) or an
    /// abbreviation (`BP`, `POX`, …).
    pub vital_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VitalsResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: VitalsQuery,
    /// Newest first.
    pub vitals: Vec<Vital>,
}

/// `GET /api/patient/{icn}/vitals?limit=&vital_type=`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/vitals",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), VitalsQuery),
    responses(
        (status = 200, description = "Readings, newest first", body = VitalsResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range or unknown vital_type"),
    )
)]
pub async fn vitals(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<VitalsQuery>,
) -> Result<Json<VitalsResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 500)?;
    let kind = filter_text(&q.vital_type)
        .map(|t| {
            t.parse::<VitalType>()
                .map_err(|e| WebError::Unprocessable(format!("vital_type: {e}")))
        })
        .transpose()?;
    patient(&app, &icn).await?;
    let rows = match kind {
        None => app.store().vitals(&icn, Some(limit)).await?,
        Some(k) => {
            let mut all = app.store().vitals(&icn, None).await?;
            all.retain(|v| sum::vital_abbr(v) == k.abbr());
            all.truncate(as_usize(limit));
            all
        }
    };
    Ok(Json(VitalsResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        vitals: rows,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VitalsRecentResponse {
    pub patient_icn: String,
    /// The latest reading of every type, by abbreviation.
    pub vitals: BTreeMap<String, Vital>,
    /// Readings of every type, by abbreviation.
    pub counts: BTreeMap<String, usize>,
    /// What the dashboard widget shows: the latest BP, T, P, R, POX, PN.
    pub dashboard: sum::VitalsSummary,
}

/// `GET /api/patient/{icn}/vitals/recent`: the latest of each type.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/vitals/recent",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Latest reading per type", body = VitalsRecentResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn vitals_recent(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<VitalsRecentResponse>> {
    patient(&app, &icn).await?;
    let all = app.store().vitals(&icn, None).await?;
    Ok(Json(VitalsRecentResponse {
        vitals: sum::latest_vitals(&all)
            .into_iter()
            .map(|(k, v)| (k, v.clone()))
            .collect(),
        counts: sum::vital_counts(&all),
        dashboard: sum::vitals_summary(&all),
        patient_icn: icn,
    }))
}

// ---------------------------------------------------------------------------
// Allergies

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AllergiesQuery {
    /// Return only the first N (1–100) in the critical order; the counts
    /// still cover every active allergy. The dashboard shows 6.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllergiesResponse {
    pub patient_icn: String,
    #[serde(flatten)]
    pub counts: sum::AllergyCounts,
    pub displayed_count: usize,
    /// Active allergies: drug first, then most severe, then newest.
    pub allergies: Vec<Allergy>,
}

/// `GET /api/patient/{icn}/allergies`: active allergies in the critical
/// order, with counts.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/allergies",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), AllergiesQuery),
    responses(
        (status = 200, description = "Active allergies and counts", body = AllergiesResponse),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn allergies(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<AllergiesQuery>,
) -> Result<Json<AllergiesResponse>> {
    let limit = q
        .limit
        .map(|l| ranged("limit", Some(l), l, 1, 100))
        .transpose()?;
    patient(&app, &icn).await?;
    let all = app.store().allergies(&icn).await?;
    let (active, counts) = sum::active_allergies(&all);
    let shown: Vec<Allergy> = active
        .into_iter()
        .take(limit.map_or(usize::MAX, as_usize))
        .cloned()
        .collect();
    Ok(Json(AllergiesResponse {
        patient_icn: icn,
        counts,
        displayed_count: shown.len(),
        allergies: shown,
    }))
}

// ---------------------------------------------------------------------------
// Medications

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct MedicationsQuery {
    /// Most rows returned, 1–500 (default 100), after merging both kinds.
    pub limit: Option<u32>,
    /// `outpatient`, `inpatient` or `all` (default).
    pub medication_type: Option<String>,
    /// Outpatient status (ACTIVE, EXPIRED, DISCONTINUED, …, or `all`);
    /// inpatient administrations are not filtered by it.
    pub status: Option<String>,
    /// Only the last N days, 1–3650.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationsResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: MedicationsQuery,
    pub counts: sum::MedicationCounts,
    /// Both kinds, newest first.
    pub medications: Vec<sum::MedicationItem>,
}

/// `GET /api/patient/{icn}/medications`: outpatient prescriptions and
/// inpatient administrations merged, newest first.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/medications",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), MedicationsQuery),
    responses(
        (status = 200, description = "Medications, newest first", body = MedicationsResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "A value out of range or not allowed"),
    )
)]
pub async fn medications(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<MedicationsQuery>,
) -> Result<Json<MedicationsResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 500)?;
    let days = days(q.days)?;
    let kind = match filter_text(&q.medication_type)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("all") => None,
        Some(k @ ("outpatient" | "inpatient")) => Some(k.to_string()),
        Some(other) => {
            return Err(WebError::Unprocessable(format!(
                "medication_type must be outpatient, inpatient or all (got `{other}`)"
            )));
        }
    };
    let status = filter_text(&q.status)
        .map(str::to_ascii_uppercase)
        .filter(|s| s != "ALL");
    patient(&app, &icn).await?;
    let today = today();
    let out = app.store().outpatient_medications(&icn).await?;
    let inp = app.store().inpatient_medications(&icn).await?;
    let (out, inp, counts) = sum::medications(&out, &inp, today);
    let mut rows = sum::merge_medications(out, inp);
    rows.retain(|m| {
        kind.as_deref().is_none_or(|k| m.medication_type == k)
            && status
                .as_deref()
                .is_none_or(|s| m.medication_type == "inpatient" || m.status == s)
            && days.is_none_or(|d| m.date.is_some_and(|t| sum::within_days(t, today, d)))
    });
    rows.truncate(as_usize(limit));
    Ok(Json(MedicationsResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        counts,
        medications: rows,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentMedicationsResponse {
    pub patient_icn: String,
    #[serde(flatten)]
    pub recent: sum::RecentMedications,
}

/// `GET /api/patient/{icn}/medications/recent`: what the widget shows —
/// the 4 most recent outpatient prescriptions and inpatient
/// administrations, and the counts.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/medications/recent",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Recent medications of each kind", body = RecentMedicationsResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn medications_recent(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<RecentMedicationsResponse>> {
    patient(&app, &icn).await?;
    let out = app.store().outpatient_medications(&icn).await?;
    let inp = app.store().inpatient_medications(&icn).await?;
    Ok(Json(RecentMedicationsResponse {
        patient_icn: icn,
        recent: sum::recent_medications(&out, &inp, today(), sum::MEDICATION_WIDGET_LIMIT),
    }))
}

// ---------------------------------------------------------------------------
// Encounters

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct EncountersQuery {
    /// Most rows returned, 1–500 (default 100).
    pub limit: Option<u32>,
    /// Rows skipped (default 0).
    pub offset: Option<u32>,
    /// Only active admissions.
    pub active_only: Option<bool>,
    /// Only recent encounters (active, or within 30 days).
    pub recent_only: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EncountersResponse {
    pub patient_icn: String,
    pub count: usize,
    pub offset: u32,
    pub limit: u32,
    /// Encounters matching the filters, before paging.
    pub total_encounters: usize,
    pub filters: EncountersQuery,
    /// Counts over every encounter of the patient.
    pub counts: sum::EncounterCounts,
    /// Newest admission first; `is_recent`, `is_extended_stay` and an
    /// active stay's `total_days` are as of today.
    pub encounters: Vec<Encounter>,
}

/// `GET /api/patient/{icn}/encounters`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/encounters",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), EncountersQuery),
    responses(
        (status = 200, description = "Encounters, newest first", body = EncountersResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn encounters(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<EncountersQuery>,
) -> Result<Json<EncountersResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 500)?;
    let offset = q.offset.unwrap_or(0);
    patient(&app, &icn).await?;
    let all = app.store().encounters(&icn).await?;
    let (mut rows, counts) = sum::encounters(&all, today());
    rows.retain(|e| {
        (q.active_only != Some(true) || e.is_active) && (q.recent_only != Some(true) || e.is_recent)
    });
    let total = rows.len();
    let page: Vec<Encounter> = rows
        .into_iter()
        .skip(as_usize(offset))
        .take(as_usize(limit))
        .collect();
    Ok(Json(EncountersResponse {
        patient_icn: icn,
        count: page.len(),
        offset,
        limit,
        total_encounters: total,
        filters: q,
        counts,
        encounters: page,
    }))
}

// ---------------------------------------------------------------------------
// Labs

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct LabsQuery {
    /// Most rows returned, 1–500 (default 100).
    pub limit: Option<u32>,
    /// Rows skipped (default 0).
    pub offset: Option<u32>,
    /// A panel name, or `Individual Tests` for tests without a panel.
    pub panel_filter: Option<String>,
    /// Only abnormal results.
    pub abnormal_only: Option<bool>,
    /// Only the last N days, 1–3650.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabsResponse {
    pub patient_icn: String,
    pub count: usize,
    /// Results matching the filters, before paging.
    pub total: usize,
    pub filters: LabsQuery,
    /// Counts over every result of the patient.
    pub counts: sum::LabCounts,
    /// Newest collection first.
    pub labs: Vec<Lab>,
}

/// `GET /api/patient/{icn}/labs`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/labs",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), LabsQuery),
    responses(
        (status = 200, description = "Lab results, newest first", body = LabsResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "A value out of range"),
    )
)]
pub async fn labs(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<LabsQuery>,
) -> Result<Json<LabsResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 500)?;
    let offset = q.offset.unwrap_or(0);
    let days = days(q.days)?;
    patient(&app, &icn).await?;
    let today = today();
    let all = app.store().labs(&icn).await?;
    let counts = sum::lab_counts(&all);
    let panel = filter_text(&q.panel_filter).map(str::to_string);
    let rows: Vec<Lab> = all
        .into_iter()
        .filter(|l| {
            let panel_ok = match panel.as_deref() {
                None => true,
                Some(p) if p.eq_ignore_ascii_case(sum::INDIVIDUAL_TESTS) => {
                    filter_text(&l.panel_name).is_none()
                }
                Some(p) => filter_text(&l.panel_name).is_some_and(|n| n.eq_ignore_ascii_case(p)),
            };
            panel_ok
                && (q.abnormal_only != Some(true) || sum::lab_is_abnormal(l))
                && days.is_none_or(|d| sum::within_days(l.collection_datetime, today, d))
        })
        .collect();
    let total = rows.len();
    let page: Vec<Lab> = rows
        .into_iter()
        .skip(as_usize(offset))
        .take(as_usize(limit))
        .collect();
    Ok(Json(LabsResponse {
        patient_icn: icn,
        count: page.len(),
        total,
        filters: q,
        counts,
        labs: page,
    }))
}

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct PanelsQuery {
    /// Panels returned, 1–10 (default 3, as the widget).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentPanelsResponse {
    pub patient_icn: String,
    pub panel_count: usize,
    /// Abnormal results across the panels returned.
    pub abnormal_count: usize,
    /// Newest first; one per distinct panel name and accession.
    pub panels: Vec<sum::LabPanel>,
    /// Latest Glucose, Creatinine and Hemoglobin, with their results in
    /// the last 90 days.
    pub trending: Vec<sum::LabTrend>,
    pub counts: sum::LabCounts,
}

/// `GET /api/patient/{icn}/labs/recent-panels`: what the widget shows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/labs/recent-panels",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), PanelsQuery),
    responses(
        (status = 200, description = "The most recent panels", body = RecentPanelsResponse),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn labs_recent_panels(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<PanelsQuery>,
) -> Result<Json<RecentPanelsResponse>> {
    let limit = ranged("limit", q.limit, 3, 1, 10)?;
    patient(&app, &icn).await?;
    let all = app.store().labs(&icn).await?;
    Ok(Json(recent_panels(icn, &all, as_usize(limit), today())))
}

/// The labs widget's data.
pub(crate) fn recent_panels(
    icn: String,
    all: &[Lab],
    limit: usize,
    today: NaiveDate,
) -> RecentPanelsResponse {
    let panels = sum::recent_panels(all, limit);
    RecentPanelsResponse {
        patient_icn: icn,
        panel_count: panels.len(),
        abnormal_count: panels.iter().map(|p| p.abnormal_count).sum(),
        panels,
        trending: sum::lab_trends(all, today),
        counts: sum::lab_counts(all),
    }
}

// ---------------------------------------------------------------------------
// Notes

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// A document class (`Progress Notes`, `Consults`, …) or `all`.
    pub note_class: Option<String>,
    /// Only the last N days, 1–3650.
    pub days: Option<u32>,
    /// Exact author name.
    pub author: Option<String>,
    /// A status (`COMPLETED`, `UNSIGNED`, …) or `all`.
    pub status: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Notes per page, 1–100 (default 20).
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub total_count: usize,
    pub total_pages: usize,
    pub current_page: u32,
    pub per_page: u32,
    pub has_next: bool,
    pub has_prev: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotesResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: NotesQuery,
    pub pagination: Pagination,
    /// Newest first, without the full text.
    pub notes: Vec<Note>,
}

/// `GET /api/patient/{icn}/notes`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/notes",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), NotesQuery),
    responses(
        (status = 200, description = "Notes, newest first", body = NotesResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "A value out of range"),
    )
)]
pub async fn notes(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<NotesQuery>,
) -> Result<Json<NotesResponse>> {
    let per_page = ranged("per_page", q.per_page, 20, 1, 100)?;
    let page = ranged("page", q.page, 1, 1, u32::MAX)?;
    let days = days(q.days)?;
    patient(&app, &icn).await?;
    let today = today();
    let mut all = app.store().notes(&icn).await?;
    all.sort_by(sum::note_order);
    let class = filter_text(&q.note_class).filter(|c| !c.eq_ignore_ascii_case("all"));
    let status = filter_text(&q.status).filter(|c| !c.eq_ignore_ascii_case("all"));
    let author = filter_text(&q.author);
    let rows: Vec<Note> = all
        .into_iter()
        .filter(|n| {
            class.is_none_or(|c| n.document_class.eq_ignore_ascii_case(c))
                && status.is_none_or(|s| {
                    filter_text(&n.status).is_some_and(|x| x.eq_ignore_ascii_case(s))
                })
                && author.is_none_or(|a| filter_text(&n.author_name) == Some(a))
                && days.is_none_or(|d| sum::within_days(n.reference_datetime, today, d))
        })
        .collect();
    let total = rows.len();
    let per = as_usize(per_page);
    let total_pages = total.div_ceil(per);
    let start = as_usize(page - 1).saturating_mul(per);
    let notes: Vec<Note> = rows.into_iter().skip(start).take(per).collect();
    Ok(Json(NotesResponse {
        patient_icn: icn,
        count: notes.len(),
        filters: q,
        pagination: Pagination {
            total_count: total,
            total_pages,
            current_page: page,
            per_page,
            has_next: as_usize(page) < total_pages,
            has_prev: page > 1,
        },
        notes,
    }))
}

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// How many recent rows, within the endpoint's range.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotesRecentResponse {
    pub patient_icn: String,
    #[serde(flatten)]
    pub summary: sum::NotesSummary,
}

/// `GET /api/patient/{icn}/notes/recent?limit=3(1–20)`: what the widget
/// shows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/notes/recent",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), RecentQuery),
    responses(
        (status = 200, description = "Totals and the most recent notes", body = NotesRecentResponse),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn notes_recent(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<NotesRecentResponse>> {
    let limit = ranged("limit", q.limit, 3, 1, 20)?;
    patient(&app, &icn).await?;
    let all = app.store().notes(&icn).await?;
    Ok(Json(NotesRecentResponse {
        patient_icn: icn,
        summary: sum::notes_summary(&all, as_usize(limit)),
    }))
}

// ---------------------------------------------------------------------------
// Immunizations

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ImmunizationsQuery {
    /// Most rows returned, 1–500 (default 100).
    pub limit: Option<u32>,
    /// `influenza` (annual vaccines), `covid-19`, or text the vaccine name
    /// contains.
    pub vaccine_group: Option<String>,
    /// A CVX code (leading zeros ignored).
    pub cvx_code: Option<String>,
    /// Only the last N days, 1–3650.
    pub days: Option<u32>,
    /// Only doses of a series known to be incomplete.
    pub incomplete_only: Option<bool>,
    /// Only doses with an adverse reaction.
    pub adverse_reactions_only: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImmunizationsResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: ImmunizationsQuery,
    /// Counts over every immunization of the patient.
    pub counts: sum::ImmunizationCounts,
    /// Newest first.
    pub immunizations: Vec<Immunization>,
}

fn cvx_key(s: &str) -> &str {
    let t = s.trim().trim_start_matches('0');
    if t.is_empty() && !s.trim().is_empty() {
        "0"
    } else {
        t
    }
}

/// `GET /api/patient/{icn}/immunizations`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/immunizations",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), ImmunizationsQuery),
    responses(
        (status = 200, description = "Immunizations, newest first", body = ImmunizationsResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "A value out of range"),
    )
)]
pub async fn immunizations(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ImmunizationsQuery>,
) -> Result<Json<ImmunizationsResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 500)?;
    let days = days(q.days)?;
    patient(&app, &icn).await?;
    let today = today();
    let mut all = app.store().immunizations(&icn).await?;
    all.sort_by(sum::immunization_order);
    let counts = sum::immunization_counts(&all, today);
    let group = filter_text(&q.vaccine_group).map(str::to_lowercase);
    let cvx = filter_text(&q.cvx_code).map(cvx_key);
    let rows: Vec<Immunization> = all
        .into_iter()
        .filter(|i| {
            let group_ok = match group.as_deref() {
                None => true,
                Some("influenza" | "flu") => i.is_annual_vaccine,
                Some("covid-19" | "covid") => i.is_covid_vaccine,
                Some(g) => contains_ci(&i.vaccine_name, g) || contains_ci(&i.vaccine_name_local, g),
            };
            group_ok
                && cvx.is_none_or(|c| i.cvx_code.as_deref().map(cvx_key) == Some(c))
                && days.is_none_or(|d| sum::within_days(i.administered_datetime, today, d))
                && (q.incomplete_only != Some(true) || sum::immunization_incomplete(i))
                && (q.adverse_reactions_only != Some(true) || i.has_adverse_reaction)
        })
        .take(as_usize(limit))
        .collect();
    Ok(Json(ImmunizationsResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        counts,
        immunizations: rows,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImmunizationsRecentResponse {
    pub patient_icn: String,
    pub counts: sum::ImmunizationCounts,
    /// The 5 most recent of the last two years, newest first.
    pub immunizations: Vec<Immunization>,
}

/// `GET /api/patient/{icn}/immunizations/recent`: what the widget shows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/immunizations/recent",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Recent immunizations and counts", body = ImmunizationsRecentResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn immunizations_recent(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<ImmunizationsRecentResponse>> {
    patient(&app, &icn).await?;
    let today = today();
    let all = app.store().immunizations(&icn).await?;
    Ok(Json(ImmunizationsRecentResponse {
        counts: sum::immunization_counts(&all, today),
        immunizations: sum::recent_immunizations(&all, today, sum::IMMUNIZATION_WIDGET_LIMIT)
            .into_iter()
            .cloned()
            .collect(),
        patient_icn: icn,
    }))
}

// ---------------------------------------------------------------------------
// Problems

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ProblemsQuery {
    /// `Active`, `Inactive`, `Resolved` or `All` (default).
    pub status: Option<String>,
    /// Text the ICD-10 category contains.
    pub category: Option<String>,
    /// Only service-connected problems.
    pub service_connected_only: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemsResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: ProblemsQuery,
    /// Active, Inactive, Resolved; then newest onset.
    pub problems: Vec<Problem>,
}

/// `GET /api/patient/{icn}/problems`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/problems",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), ProblemsQuery),
    responses(
        (status = 200, description = "Problems", body = ProblemsResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "Unknown status"),
    )
)]
pub async fn problems(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<ProblemsQuery>,
) -> Result<Json<ProblemsResponse>> {
    let status = match filter_text(&q.status) {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("all") => None,
        Some(s) => Some(s.parse::<domain::problems::ProblemStatus>().map_err(|_| {
            WebError::Unprocessable(format!(
                "status must be Active, Inactive, Resolved or All (got `{s}`)"
            ))
        })?),
    };
    patient(&app, &icn).await?;
    let mut all = app.store().problems(&icn).await?;
    all.sort_by(sum::problem_list_order);
    let category = filter_text(&q.category);
    let rows: Vec<Problem> = all
        .into_iter()
        .filter(|p| {
            status.is_none_or(|s| p.problem_status.parse().ok() == Some(s))
                && category.is_none_or(|c| contains_ci(&p.icd10_category, c))
                && (q.service_connected_only != Some(true) || p.service_connected == Some(true))
        })
        .collect();
    Ok(Json(ProblemsResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        problems: rows,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemsSummaryResponse {
    pub patient_icn: String,
    #[serde(flatten)]
    pub summary: sum::ProblemsSummary,
}

/// `GET /api/patient/{icn}/problems/summary?limit=8(1–50)`: what the widget
/// shows, with the Charlson index computed from the problems.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/problems/summary",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), RecentQuery),
    responses(
        (status = 200, description = "Top active problems, Charlson index and risk", body = ProblemsSummaryResponse),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn problems_summary(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<ProblemsSummaryResponse>> {
    let limit = ranged("limit", q.limit, 8, 1, 50)?;
    patient(&app, &icn).await?;
    let all = app.store().problems(&icn).await?;
    Ok(Json(ProblemsSummaryResponse {
        patient_icn: icn,
        summary: sum::problems_summary(&all, as_usize(limit)),
    }))
}

// ---------------------------------------------------------------------------
// Family history

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only recorded in the last N days, 1–3650.
    pub days: Option<u32>,
    /// Text the relationship name or code contains.
    pub relationship: Option<String>,
    /// Text the condition category or risk group contains.
    pub category: Option<String>,
    /// Only active entries.
    pub active_only: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: HistoryQuery,
    /// Counts over every entry of the patient.
    pub counts: sum::FamilyHistoryCounts,
    /// Newest recorded first (undated last).
    pub history: Vec<FamilyHistory>,
}

/// `GET /api/patient/{icn}/history`: family history.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/history",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), HistoryQuery),
    responses(
        (status = 200, description = "Family history", body = HistoryResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "days out of range"),
    )
)]
pub async fn history(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryResponse>> {
    let days = days(q.days)?;
    patient(&app, &icn).await?;
    let today = today();
    let mut all = app.store().family_history(&icn).await?;
    all.sort_by(sum::family_history_order);
    let counts = sum::family_history_counts(&all, today);
    let relationship = filter_text(&q.relationship);
    let category = filter_text(&q.category);
    let rows: Vec<FamilyHistory> = all
        .into_iter()
        .filter(|f| {
            relationship.is_none_or(|r| {
                f.relationship_name
                    .to_lowercase()
                    .contains(&r.to_lowercase())
                    || contains_ci(&f.relationship_code, r)
            }) && category.is_none_or(|c| {
                contains_ci(&f.condition_category, c) || contains_ci(&f.risk_condition_group, c)
            }) && (q.active_only != Some(true) || f.is_active)
                && days.is_none_or(|d| {
                    f.recorded_datetime
                        .is_some_and(|t| sum::within_days(t, today, d))
                })
        })
        .collect();
    Ok(Json(HistoryResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        counts,
        history: rows,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryRecentResponse {
    pub patient_icn: String,
    pub counts: sum::FamilyHistoryCounts,
    pub history: Vec<FamilyHistory>,
}

/// `GET /api/patient/{icn}/history/recent?limit=5(1–50)`: what the widget
/// shows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/history/recent",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), RecentQuery),
    responses(
        (status = 200, description = "Counts and the most recent entries", body = HistoryRecentResponse),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "limit out of range"),
    )
)]
pub async fn history_recent(
    State(app): State<AppState>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<HistoryRecentResponse>> {
    let limit = ranged("limit", q.limit, 5, 1, 50)?;
    patient(&app, &icn).await?;
    let all = app.store().family_history(&icn).await?;
    Ok(Json(HistoryRecentResponse {
        counts: sum::family_history_counts(&all, today()),
        history: sum::recent_family_history(&all, as_usize(limit))
            .into_iter()
            .cloned()
            .collect(),
        patient_icn: icn,
    }))
}

// ---------------------------------------------------------------------------
// Tasks

#[derive(Debug, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// `active` (TODO + IN_PROGRESS), `TODO`, `IN_PROGRESS`, `COMPLETED` or
    /// `all` (default).
    pub status: Option<String>,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub priority: Option<String>,
    /// `all` (default), `mine` (the caller's), `ai` (AI-suggested) or a
    /// user id.
    pub created_by: Option<String>,
    /// Most tasks returned, 1–100 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TasksResponse {
    pub patient_icn: String,
    pub count: usize,
    pub filters: TasksQuery,
    /// Counts over every task of the patient.
    pub counts: sum::TaskCounts,
    /// HIGH → LOW, then newest.
    pub tasks: Vec<Task>,
}

/// `GET /api/patient/{icn}/tasks`.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/tasks",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), TasksQuery),
    responses(
        (status = 200, description = "Tasks", body = TasksResponse),
        (status = 400, description = "Malformed query"),
        (status = 404, description = "Unknown patient"),
        (status = 422, description = "Unknown status, priority or created_by, or limit out of range"),
    )
)]
pub async fn tasks(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<TasksQuery>,
) -> Result<Json<TasksResponse>> {
    let limit = ranged("limit", q.limit, 100, 1, 100)?;
    enum StatusFilter {
        All,
        Active,
        Only(TaskStatus),
    }
    let status = match filter_text(&q.status) {
        None => StatusFilter::All,
        Some(s) if s.eq_ignore_ascii_case("all") => StatusFilter::All,
        Some(s) if s.eq_ignore_ascii_case("active") => StatusFilter::Active,
        Some(s) => StatusFilter::Only(s.parse::<TaskStatus>().map_err(|_| {
            WebError::Unprocessable(format!(
                "status must be active, TODO, IN_PROGRESS, COMPLETED or all (got `{s}`)"
            ))
        })?),
    };
    let priority = filter_text(&q.priority)
        .map(|p| {
            p.parse::<TaskPriority>().map_err(|_| {
                WebError::Unprocessable(format!("priority must be HIGH, MEDIUM or LOW (got `{p}`)"))
            })
        })
        .transpose()?;
    let creator = crate::domains::tasks::Creator::parse(q.created_by.as_deref())
        .map_err(WebError::Unprocessable)?;
    patient(&app, &icn).await?;
    let mut all = app.store().tasks(&icn).await?;
    all.sort_by(sum::task_order);
    let counts = sum::task_counts(&all);
    let rows: Vec<Task> = all
        .into_iter()
        .filter(|t| {
            (match status {
                StatusFilter::All => true,
                StatusFilter::Active => t.status.is_active(),
                StatusFilter::Only(s) => t.status == s,
            }) && priority.is_none_or(|p| t.priority == p)
                && creator.keeps(t, &user.user_id)
        })
        .take(as_usize(limit))
        .collect();
    Ok(Json(TasksResponse {
        patient_icn: icn,
        count: rows.len(),
        filters: q,
        counts,
        tasks: rows,
    }))
}

// ---------------------------------------------------------------------------
// Flags

#[derive(Debug, Serialize, ToSchema)]
pub struct FlagsResponse {
    pub patient_icn: String,
    /// `total_flags` counts every flag, active or not (the reference
    /// reported the active count as the total).
    #[serde(flatten)]
    pub counts: sum::FlagCounts,
    /// National (I) first, active first, newest assignment first.
    pub flags: Vec<Flag>,
}

/// `GET /api/patient/{icn}/flags`: every flag assignment with counts.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/flags",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Flags and counts", body = FlagsResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn flags(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<FlagsResponse>> {
    patient(&app, &icn).await?;
    let all = app.store().flags(&icn).await?;
    Ok(Json(FlagsResponse {
        counts: sum::flag_counts(&all, today()),
        flags: all,
        patient_icn: icn,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_cvx_codes() {
        assert_eq!(ranged("limit", None, 100, 1, 500).ok(), Some(100));
        assert!(matches!(
            ranged("limit", Some(0), 100, 1, 500),
            Err(WebError::Unprocessable(m)) if m.contains("limit")
        ));
        assert!(days(Some(3651)).is_err());
        assert_eq!(days(None).ok(), Some(None));
        assert_eq!(cvx_key("088"), "88");
        assert_eq!(cvx_key(" 88 "), "88");
        assert_eq!(cvx_key("000"), "0");
    }
}
