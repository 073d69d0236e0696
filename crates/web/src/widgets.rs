//! Dashboard widgets: HTML fragments loaded by HTMX, one per clinical
//! domain, each with loading, empty and error states.
//!
//! `GET /api/patient/dashboard/widget/{key}/{icn}` renders
//! `templates/widgets/{key}.html`. The data comes from the same
//! [`domain::summary`] functions as the JSON API ([`crate::api`]), so a
//! widget and its endpoint always agree. An unknown widget key or patient
//! is a 404, which the dashboard shows as the widget's error state.

use crate::AppState;
use crate::api;
use crate::error::{Result, WebError};
use crate::pages::today;
use crate::view;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use chrono::{NaiveDate, NaiveDateTime};
use domain::record::Demographics;
use domain::summary::{self as sum, DemographicsSummary};

/// One widget of the dashboard grid.
pub struct WidgetSpec {
    /// URL segment and element id (`widget-{key}`).
    pub key: &'static str,
    pub title: &'static str,
    /// Grid columns spanned (1–3).
    pub span: u8,
    /// The full page ("View all").
    pub page: &'static str,
}

/// The grid, in the reference's order.
#[rustfmt::skip]
pub const DASHBOARD: &[WidgetSpec] = &[
    WidgetSpec { key: "demographics", title: "Demographics", span: 1, page: "demographics" },
    WidgetSpec { key: "tasks", title: "Clinical tasks", span: 2, page: "tasks" },
    WidgetSpec { key: "vitals", title: "Vital signs", span: 1, page: "vitals" },
    WidgetSpec { key: "allergies", title: "Allergies", span: 1, page: "allergies" },
    WidgetSpec { key: "history", title: "Family history", span: 1, page: "history" },
    WidgetSpec { key: "medications", title: "Medications", span: 2, page: "medications" },
    WidgetSpec { key: "immunizations", title: "Immunizations", span: 1, page: "immunizations" },
    WidgetSpec { key: "labs", title: "Laboratory results", span: 3, page: "labs" },
    WidgetSpec { key: "notes", title: "Clinical notes", span: 2, page: "notes" },
    WidgetSpec { key: "encounters", title: "Encounters", span: 1, page: "encounters" },
    WidgetSpec { key: "problems", title: "Problems", span: 2, page: "problems" },
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/patient/dashboard/widget/{key}/{icn}", get(widget))
}

/// `GET /api/patient/dashboard/widget/{key}/{icn}`: one widget's body.
pub async fn widget(
    State(app): State<AppState>,
    Path((key, icn)): Path<(String, String)>,
) -> Result<Html<String>> {
    if !DASHBOARD.iter().any(|w| w.key == key) {
        return Err(WebError::NotFound("Unknown widget.".into()));
    }
    let patient = api::patient(&app, &icn).await?;
    let today = today();
    let html = match key.as_str() {
        "demographics" => view::render(&demographics(&patient, today)),
        "tasks" => view::render(&tasks(&app, &icn).await?),
        "vitals" => view::render(&vitals(&app, &icn).await?),
        "allergies" => view::render(&allergies(&app, &icn).await?),
        "history" => view::render(&history(&app, &icn, today).await?),
        "medications" => view::render(&medications(&app, &icn, today).await?),
        "immunizations" => view::render(&immunizations(&app, &icn, today).await?),
        "labs" => view::render(&labs(&app, &icn, today).await?),
        "notes" => view::render(&notes(&app, &icn).await?),
        "encounters" => view::render(&encounters(&app, &icn, today).await?),
        "problems" => view::render(&problems(&app, &icn).await?),
        _ => return Err(WebError::NotFound("Unknown widget.".into())),
    };
    Ok(html)
}

// ---------------------------------------------------------------------------
// Formatting

fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn day_opt(t: Option<NaiveDateTime>) -> String {
    t.map(day).unwrap_or_else(|| "—".into())
}

fn minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn dash(s: &Option<String>) -> String {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("—")
        .to_string()
}

/// `Some(text)` when non-blank.
fn some(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// "1 note", "2 notes".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ---------------------------------------------------------------------------
// Demographics

#[derive(Template)]
#[template(path = "widgets/demographics.html")]
pub struct DemographicsWidget {
    pub d: DemographicsSummary,
    pub dob: String,
    pub age: String,
    pub sex: String,
    pub phone: String,
    pub insurance: String,
    pub station: String,
    pub death_date: String,
}

fn demographics(p: &Demographics, today: NaiveDate) -> DemographicsWidget {
    let d = sum::demographics_summary(p, today);
    DemographicsWidget {
        dob: view::date(d.dob),
        age: d.age.map(|a| a.to_string()).unwrap_or_else(|| "—".into()),
        sex: match d.sex.as_deref() {
            Some("M") => "Male".into(),
            Some("F") => "Female".into(),
            Some(s) => s.to_string(),
            None => "—".into(),
        },
        phone: dash(&d.phone),
        insurance: dash(&d.insurance),
        station: match (&d.primary_station, &d.primary_station_name) {
            (Some(s), Some(n)) => format!("{s} ({n})"),
            (Some(s), None) => s.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => "—".into(),
        },
        death_date: view::date(d.death_date),
        d,
    }
}

// ---------------------------------------------------------------------------
// Tasks

pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub created: String,
    pub created_by: String,
    pub ai: bool,
    /// Quick actions: Start (to do only) and Complete (any active task).
    pub can_start: bool,
}

#[derive(Template)]
#[template(path = "widgets/tasks.html")]
pub struct TasksWidget {
    pub icn: String,
    pub active: usize,
    pub high: usize,
    pub in_progress: usize,
    pub rows: Vec<TaskRow>,
    pub more: usize,
}

/// The tasks widget; also re-rendered by the widget's quick actions
/// ([`crate::domains::tasks`]).
pub(crate) async fn tasks(app: &AppState, icn: &str) -> Result<TasksWidget> {
    use domain::record::{TaskPriority, TaskStatus};
    let all = app.store().tasks(icn).await?;
    let counts = sum::task_counts(&all);
    let rows: Vec<TaskRow> = sum::active_tasks(&all, sum::TASK_WIDGET_LIMIT)
        .into_iter()
        .map(|t| TaskRow {
            id: t.task_id,
            title: t.title.clone(),
            description: some(&t.description).map(|d| sum::preview(&d, 120)),
            priority: t.priority.as_str(),
            priority_class: match t.priority {
                TaskPriority::High => "badge--danger",
                TaskPriority::Medium => "badge--warning",
                TaskPriority::Low => "badge--muted",
            },
            status: match t.status {
                TaskStatus::Todo => "To do",
                TaskStatus::InProgress => "In progress",
                TaskStatus::Completed => "Completed",
            },
            status_class: match t.status {
                TaskStatus::InProgress => "badge--info",
                _ => "badge--muted",
            },
            created: day(t.created_at),
            created_by: t
                .created_by_display_name
                .clone()
                .unwrap_or_else(|| "—".into()),
            ai: t.is_ai_generated,
            can_start: t.status == TaskStatus::Todo,
        })
        .collect();
    Ok(TasksWidget {
        icn: icn.to_string(),
        active: counts.active,
        high: counts.high_priority,
        in_progress: counts.in_progress,
        more: counts.active.saturating_sub(rows.len()),
        rows,
    })
}

// ---------------------------------------------------------------------------
// Vitals

pub struct VitalRow {
    pub abbr: String,
    pub label: String,
    pub value: String,
    pub unit: String,
    pub taken: String,
    pub taken_iso: String,
    pub flag: Option<String>,
    pub flag_class: &'static str,
}

#[derive(Template)]
#[template(path = "widgets/vitals.html")]
pub struct VitalsWidget {
    pub abnormal: usize,
    pub critical: bool,
    pub rows: Vec<VitalRow>,
}

fn vital_label(abbr: &str) -> &'static str {
    match abbr {
        "BP" => "Blood pressure",
        "T" => "Temperature",
        "P" => "Pulse",
        "R" => "Respiration",
        "POX" => "Pulse oximetry",
        "PN" => "Pain",
        _ => "Vital",
    }
}

async fn vitals(app: &AppState, icn: &str) -> Result<VitalsWidget> {
    let all = app.store().vitals(icn, None).await?;
    let s = sum::vitals_summary(&all);
    let rows: Vec<VitalRow> = s
        .readings
        .into_iter()
        .map(|r| {
            let flag = r.abnormal_flag.clone().filter(|_| r.is_abnormal);
            VitalRow {
                label: vital_label(&r.abbr).to_string(),
                flag_class: match flag.as_deref() {
                    Some("CRITICAL") => "badge--danger",
                    Some("HIGH") => "badge--warning",
                    _ => "badge--info",
                },
                flag,
                abbr: r.abbr,
                value: r.value,
                unit: r.unit,
                taken: day(r.taken_datetime),
                taken_iso: r.taken_datetime.format("%Y-%m-%dT%H:%M").to_string(),
            }
        })
        .collect();
    Ok(VitalsWidget {
        abnormal: s.abnormal_count,
        critical: rows.iter().any(|r| r.flag.as_deref() == Some("CRITICAL")),
        rows,
    })
}

// ---------------------------------------------------------------------------
// Allergies

pub struct AllergyRow {
    pub name: String,
    pub kind: String,
    pub severity: Option<String>,
    pub severity_class: &'static str,
    pub reactions: Option<String>,
    pub drug: bool,
    pub since: String,
}

#[derive(Template)]
#[template(path = "widgets/allergies.html")]
pub struct AllergiesWidget {
    pub total: usize,
    pub severe: usize,
    pub drug: usize,
    pub rows: Vec<AllergyRow>,
    pub more: usize,
}

async fn allergies(app: &AppState, icn: &str) -> Result<AllergiesWidget> {
    let all = app.store().allergies(icn).await?;
    let (active, counts) = sum::active_allergies(&all);
    let rows: Vec<AllergyRow> = active
        .iter()
        .take(sum::ALLERGY_WIDGET_LIMIT)
        .map(|a| {
            let rank = sum::allergy_severity_rank(a);
            AllergyRow {
                name: a.allergen_local.clone(),
                kind: sum::allergen_type(a)
                    .map(|t| t.label().to_string())
                    .unwrap_or_else(|| "Other".into()),
                severity: some(&a.severity).map(|s| s.to_ascii_uppercase()),
                severity_class: match rank {
                    3 => "badge--danger",
                    2 => "badge--warning",
                    _ => "badge--muted",
                },
                reactions: some(&a.reactions),
                drug: sum::is_drug_allergy(a),
                since: day(a.origination_date),
            }
        })
        .collect();
    Ok(AllergiesWidget {
        total: counts.total_allergies,
        severe: counts.severe_allergies,
        drug: counts.drug_allergies,
        more: counts.total_allergies.saturating_sub(rows.len()),
        rows,
    })
}

// ---------------------------------------------------------------------------
// Family history

pub struct HistoryRow {
    pub relationship: String,
    pub condition: String,
    pub first_degree: bool,
    pub hereditary: bool,
    pub onset: Option<String>,
    pub recorded: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "widgets/history.html")]
pub struct HistoryWidget {
    pub counts: sum::FamilyHistoryCounts,
    pub rows: Vec<HistoryRow>,
}

async fn history(app: &AppState, icn: &str, today: NaiveDate) -> Result<HistoryWidget> {
    let all = app.store().family_history(icn).await?;
    let rows = sum::recent_family_history(&all, sum::FAMILY_HISTORY_WIDGET_LIMIT)
        .into_iter()
        .map(|f| HistoryRow {
            relationship: f.relationship_name.clone(),
            condition: f.condition_name.clone(),
            first_degree: sum::is_first_degree(f),
            hereditary: f.hereditary_risk_flag,
            onset: f.onset_age_years.map(|a| format!("onset at {a}")),
            recorded: day_opt(f.recorded_datetime),
            active: f.is_active,
        })
        .collect();
    Ok(HistoryWidget {
        counts: sum::family_history_counts(&all, today),
        rows,
    })
}

// ---------------------------------------------------------------------------
// Medications

pub struct MedRow {
    pub name: String,
    pub strength: Option<String>,
    pub status: String,
    pub status_class: &'static str,
    pub controlled: bool,
    pub schedule: Option<String>,
    pub date: String,
    pub detail: Option<String>,
}

#[derive(Template)]
#[template(path = "widgets/medications.html")]
pub struct MedicationsWidget {
    pub counts: sum::MedicationCounts,
    pub outpatient: Vec<MedRow>,
    pub inpatient: Vec<MedRow>,
}

fn med_row(m: &sum::MedicationItem) -> MedRow {
    MedRow {
        name: m.drug_name.clone(),
        strength: m.drug_strength.clone(),
        status_class: match m.status.as_str() {
            "ACTIVE" | "GIVEN" => "badge--success",
            "EXPIRED" => "badge--muted",
            "DISCONTINUED" | "REFUSED" | "MISSING DOSE" => "badge--danger",
            "HELD" | "HOLD" | "SUSPENDED" => "badge--warning",
            _ => "badge--info",
        },
        status: m.status.clone(),
        controlled: m.is_controlled,
        schedule: m.dea_schedule.clone(),
        date: m.date.map(day).unwrap_or_else(|| "—".into()),
        detail: match (&m.instructions, &m.route) {
            (Some(i), Some(r)) if m.medication_type == "inpatient" => Some(format!("{i} {r}")),
            (Some(i), _) => Some(sum::preview(i, 90)),
            (None, Some(r)) => Some(r.clone()),
            (None, None) => None,
        },
    }
}

async fn medications(app: &AppState, icn: &str, today: NaiveDate) -> Result<MedicationsWidget> {
    let out = app.store().outpatient_medications(icn).await?;
    let inp = app.store().inpatient_medications(icn).await?;
    let r = sum::recent_medications(&out, &inp, today, sum::MEDICATION_WIDGET_LIMIT);
    Ok(MedicationsWidget {
        counts: r.counts,
        outpatient: r.outpatient.iter().map(med_row).collect(),
        inpatient: r.inpatient.iter().map(med_row).collect(),
    })
}

// ---------------------------------------------------------------------------
// Immunizations

pub struct ImmunizationRow {
    pub vaccine: String,
    pub date: String,
    pub series: Option<String>,
    pub incomplete: bool,
    pub reaction: Option<String>,
    pub has_reaction: bool,
}

#[derive(Template)]
#[template(path = "widgets/immunizations.html")]
pub struct ImmunizationsWidget {
    pub counts: sum::ImmunizationCounts,
    pub rows: Vec<ImmunizationRow>,
    pub more: usize,
}

async fn immunizations(app: &AppState, icn: &str, today: NaiveDate) -> Result<ImmunizationsWidget> {
    let all = app.store().immunizations(icn).await?;
    let counts = sum::immunization_counts(&all, today);
    let rows: Vec<ImmunizationRow> =
        sum::recent_immunizations(&all, today, sum::IMMUNIZATION_WIDGET_LIMIT)
            .into_iter()
            .map(|i| ImmunizationRow {
                vaccine: some(&i.vaccine_name)
                    .or_else(|| some(&i.vaccine_name_local))
                    .unwrap_or_else(|| "(unknown vaccine)".into()),
                date: day(i.administered_datetime),
                series: some(&i.series),
                incomplete: sum::immunization_incomplete(i),
                reaction: some(&i.adverse_reaction),
                has_reaction: i.has_adverse_reaction,
            })
            .collect();
    Ok(ImmunizationsWidget {
        more: counts.recent_2y.saturating_sub(rows.len()),
        counts,
        rows,
    })
}

// ---------------------------------------------------------------------------
// Labs

pub struct LabResultRow {
    pub test: String,
    pub value: String,
    pub unit: String,
    pub flag: Option<String>,
    pub flag_class: &'static str,
    pub range: Option<String>,
}

pub struct PanelView {
    pub name: String,
    pub accession: String,
    pub collected: String,
    pub location: Option<String>,
    pub abnormal: usize,
    pub results: Vec<LabResultRow>,
}

pub struct TrendView {
    pub test: String,
    pub value: String,
    pub unit: String,
    pub flag: Option<String>,
    pub flag_class: &'static str,
    pub date: String,
    pub points: String,
}

#[derive(Template)]
#[template(path = "widgets/labs.html")]
pub struct LabsWidget {
    pub total: usize,
    pub abnormal: usize,
    pub panels: Vec<PanelView>,
    pub trends: Vec<TrendView>,
}

/// H → warning, L → info, anything else flagged (H*, L*, PANIC) → danger.
fn lab_flag_class(flag: Option<&str>) -> &'static str {
    match flag {
        Some("H") => "badge--warning",
        Some("L") => "badge--info",
        _ => "badge--danger",
    }
}

async fn labs(app: &AppState, icn: &str, today: NaiveDate) -> Result<LabsWidget> {
    let all = app.store().labs(icn).await?;
    let data = api::recent_panels(icn.to_string(), &all, sum::LAB_WIDGET_PANELS, today);
    let panels = data
        .panels
        .iter()
        .map(|p| PanelView {
            name: p.panel_name.clone(),
            accession: p.accession_number.clone(),
            collected: minute(p.collection_datetime),
            location: p.collection_location.clone(),
            abnormal: p.abnormal_count,
            results: p
                .results
                .iter()
                .map(|l| {
                    let flag = some(&l.abnormal_flag)
                        .or_else(|| sum::lab_is_abnormal(l).then(|| "ABN".to_string()));
                    LabResultRow {
                        test: dash(&l.lab_test_name),
                        value: some(&l.result_value)
                            .or_else(|| l.result_numeric.map(|n| n.to_string()))
                            .unwrap_or_else(|| "—".into()),
                        unit: some(&l.result_unit).unwrap_or_default(),
                        flag_class: lab_flag_class(flag.as_deref()),
                        flag,
                        range: some(&l.ref_range_text),
                    }
                })
                .collect(),
        })
        .collect();
    let trends = data
        .trending
        .iter()
        .map(|t| TrendView {
            test: t.test_name.clone(),
            value: t.latest_value.clone().unwrap_or_else(|| "—".into()),
            unit: t.unit.clone().unwrap_or_default(),
            flag_class: lab_flag_class(t.abnormal_flag.as_deref()),
            flag: t.abnormal_flag.clone(),
            date: day_opt(t.collection_datetime),
            points: plural(t.points, "result", "results"),
        })
        .collect();
    Ok(LabsWidget {
        total: data.counts.total,
        abnormal: data.abnormal_count,
        panels,
        trends,
    })
}

// ---------------------------------------------------------------------------
// Notes

pub struct NoteRow {
    pub class: String,
    pub title: String,
    pub date: String,
    pub author: String,
    pub facility: Option<String>,
    pub status: Option<String>,
    pub status_class: &'static str,
    pub preview: Option<String>,
}

#[derive(Template)]
#[template(path = "widgets/notes.html")]
pub struct NotesWidget {
    pub total: usize,
    pub rows: Vec<NoteRow>,
}

async fn notes(app: &AppState, icn: &str) -> Result<NotesWidget> {
    let all = app.store().notes(icn).await?;
    let s = sum::notes_summary(&all, sum::NOTE_WIDGET_LIMIT);
    let rows = s
        .recent_notes
        .iter()
        .map(|n| {
            let status = some(&n.status).map(|s| s.to_ascii_uppercase());
            NoteRow {
                class: n.document_class.clone(),
                title: some(&n.document_title)
                    .or_else(|| some(&n.vha_standard_title))
                    .unwrap_or_else(|| "(untitled)".into()),
                date: minute(n.reference_datetime),
                author: dash(&n.author_name),
                facility: some(&n.facility_name),
                status_class: match status.as_deref() {
                    Some("COMPLETED") => "badge--success",
                    Some("UNSIGNED") => "badge--warning",
                    _ => "badge--muted",
                },
                status,
                preview: some(&n.text_preview).map(|p| sum::preview(&p, sum::NOTE_PREVIEW_CHARS)),
            }
        })
        .collect();
    Ok(NotesWidget {
        total: s.total_notes,
        rows,
    })
}

// ---------------------------------------------------------------------------
// Encounters

pub struct EncounterRow {
    pub admitted: String,
    pub discharged: Option<String>,
    pub location: String,
    pub diagnosis: Option<String>,
    pub active: bool,
    pub extended: bool,
    pub category: Option<String>,
    pub source: &'static str,
    pub facility: Option<String>,
}

#[derive(Template)]
#[template(path = "widgets/encounters.html")]
pub struct EncountersWidget {
    pub counts: sum::EncounterCounts,
    pub rows: Vec<EncounterRow>,
    pub more: usize,
}

async fn encounters(app: &AppState, icn: &str, today: NaiveDate) -> Result<EncountersWidget> {
    let all = app.store().encounters(icn).await?;
    let (rows, counts) = sum::encounters(&all, today);
    let shown: Vec<EncounterRow> = rows
        .iter()
        .take(sum::ENCOUNTER_WIDGET_LIMIT)
        .map(|e| EncounterRow {
            admitted: day(e.admit_datetime),
            discharged: e.discharge_datetime.map(day),
            location: some(&e.admit_location_name)
                .or_else(|| some(&e.discharge_location_name))
                .unwrap_or_else(|| e.encounter_type.clone()),
            diagnosis: some(&e.discharge_diagnosis_text)
                .or_else(|| some(&e.discharge_diagnosis_code))
                .or_else(|| some(&e.admit_diagnosis_code)),
            active: e.is_active,
            extended: e.is_extended_stay,
            category: some(&e.admission_category).filter(|c| c != "Active Admission"),
            source: sum::encounter_source(e),
            facility: some(&e.facility_name).or_else(|| some(&e.sta3n)),
        })
        .collect();
    Ok(EncountersWidget {
        more: counts.total_encounters.saturating_sub(shown.len()),
        counts,
        rows: shown,
    })
}

// ---------------------------------------------------------------------------
// Problems

pub struct ProblemRow {
    pub text: String,
    pub code: Option<String>,
    pub chronic: bool,
    pub charlson: Option<String>,
    pub onset: String,
    pub service_connected: bool,
}

#[derive(Template)]
#[template(path = "widgets/problems.html")]
pub struct ProblemsWidget {
    pub s: sum::ProblemsSummary,
    pub risk_class: &'static str,
    pub rows: Vec<ProblemRow>,
    pub more: usize,
    pub critical: Vec<&'static str>,
}

async fn problems(app: &AppState, icn: &str) -> Result<ProblemsWidget> {
    let all = app.store().problems(icn).await?;
    let s = sum::problems_summary(&all, sum::PROBLEM_WIDGET_LIMIT);
    let rows: Vec<ProblemRow> = s
        .problems
        .iter()
        .map(|p| ProblemRow {
            text: sum::problem_text(p),
            code: some(&p.icd10_code),
            chronic: sum::problem_is_chronic(p),
            charlson: some(&p.icd10_charlson_condition),
            onset: view::date(p.onset_date),
            service_connected: p.service_connected == Some(true),
        })
        .collect();
    let critical = [
        (s.has_chf, "CHF"),
        (s.has_copd, "COPD"),
        (s.has_ckd, "CKD"),
        (s.has_diabetes, "Diabetes"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    Ok(ProblemsWidget {
        risk_class: match s.charlson_risk.as_str() {
            "None" | "Low" => "badge--success",
            "Moderate" | "High" => "badge--warning",
            _ => "badge--danger",
        },
        more: s.total_active.saturating_sub(rows.len()),
        rows,
        critical,
        s,
    })
}
