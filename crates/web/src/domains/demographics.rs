//! The demographics page (`/patient/{icn}/demographics`, reference §3.1):
//! Personal, Contact, Insurance, and Military service & eligibility (VA
//! priority group from the service-connected percentage, exposure
//! badges); a deceased badge with the date of death. Only the masked SSN
//! is ever shown. JSON: the existing `/api/patient/{icn}/demographics`,
//! plus `/api/patient/{icn}/demographics/military`.

use super::PageContext;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::pages::today;
use crate::view;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::record::MilitaryHistory;
use domain::summary as sum;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/demographics", get(page))
        .route(
            "/api/patient/{icn}/demographics/military",
            get(military_json),
        )
}

#[derive(OpenApi)]
#[openapi(paths(military_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// A VA enrollment priority group as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriorityGroup {
    /// e.g. `Priority Group 1`.
    pub label: &'static str,
    /// `danger`, `warning`, `info` or `muted`.
    pub level: &'static str,
}

/// The priority group from the service-connected percentage (reference
/// §3.1 `get_priority_group`): ≥70 → 1, ≥50 → 2, ≥30 → 3, ≥10 → 4-6,
/// else 7-8; none when unknown.
pub fn priority_group(percent: Option<f64>) -> Option<PriorityGroup> {
    let p = percent.filter(|p| p.is_finite())?;
    let (label, level) = if p >= 70.0 {
        ("Priority Group 1", "danger")
    } else if p >= 50.0 {
        ("Priority Group 2", "warning")
    } else if p >= 30.0 {
        ("Priority Group 3", "info")
    } else if p >= 10.0 {
        ("Priority Group 4-6", "muted")
    } else {
        ("Priority Group 7-8", "muted")
    };
    Some(PriorityGroup { label, level })
}

fn yes(flag: &Option<String>) -> bool {
    flag.as_deref()
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("Y"))
}

/// One exposure or status badge: label and optional location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Exposure {
    pub label: &'static str,
    pub location: Option<String>,
}

/// The exposure badges (flag = `Y`): Agent Orange (+ location),
/// Radiation, Former POW (+ location), Camp Lejeune, Gulf War/SW Asia.
pub fn exposures(m: &MilitaryHistory) -> Vec<Exposure> {
    let loc = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut out = Vec::new();
    if yes(&m.agent_orange_exposure) {
        out.push(Exposure {
            label: "Agent Orange",
            location: loc(&m.agent_orange_location),
        });
    }
    if yes(&m.ionizing_radiation) {
        out.push(Exposure {
            label: "Radiation",
            location: None,
        });
    }
    if yes(&m.pow_status) {
        out.push(Exposure {
            label: "Former POW",
            location: loc(&m.pow_location),
        });
    }
    if yes(&m.camp_lejeune_flag) {
        out.push(Exposure {
            label: "Camp Lejeune",
            location: None,
        });
    }
    if yes(&m.sw_asia_exposure) {
        out.push(Exposure {
            label: "Gulf War/SW Asia",
            location: None,
        });
    }
    out
}

struct MilitaryView {
    service_connected: String,
    percent: Option<String>,
    priority: Option<PriorityGroup>,
    exposures: Vec<Exposure>,
}

fn military_view(m: &MilitaryHistory) -> MilitaryView {
    let percent = m.service_connected_percent.filter(|p| p.is_finite());
    MilitaryView {
        service_connected: match m.service_connected_flag.as_deref().map(str::trim) {
            Some(f) if f.eq_ignore_ascii_case("Y") => "Yes".into(),
            Some(f) if f.eq_ignore_ascii_case("N") => "No".into(),
            _ if percent.is_some_and(|p| p > 0.0) => "Yes".into(),
            _ => "Not recorded".into(),
        },
        percent: percent.map(|p| format!("{}%", (p * 10.0).round() / 10.0)),
        priority: priority_group(percent),
        exposures: exposures(m),
    }
}

fn or_dash(s: &Option<String>) -> String {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Not recorded")
        .to_string()
}

#[derive(Template)]
#[template(path = "domains/demographics.html")]
struct DemographicsPage {
    shell: crate::view::Shell,
    icn: String,
    s: sum::DemographicsSummary,
    dob: String,
    age: String,
    death_date: String,
    sex: String,
    gender: String,
    marital: String,
    religion: String,
    veteran_status: String,
    facility: String,
    phone: String,
    insurance: String,
    military: Option<MilitaryView>,
    vista: crate::realtime::VistaStatus,
    /// The site compared with after a refresh, and its fields.
    vista_site: Option<String>,
    vista_fields: Vec<VistaField>,
    vista_differences: usize,
}

/// One demographics field checked against VistA.
struct VistaField {
    label: &'static str,
    serving: String,
    vista: String,
    matches: bool,
}

fn vista_field(f: crate::realtime::FieldCheckView) -> VistaField {
    VistaField {
        label: match f.field {
            "name" => "Name",
            "date_of_birth" => "Date of birth",
            "sex" => "Sex",
            "ssn_last4" => "SSN (last four)",
            "veteran_status" => "Veteran status",
            other => other,
        },
        serving: f.serving.unwrap_or_else(|| "Not recorded".into()),
        vista: f.vista.unwrap_or_else(|| "Not reported".into()),
        matches: f.matches,
    }
}

/// `GET /patient/{icn}/demographics`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
) -> Result<Html<String>> {
    let ctx = PageContext::load(&app, &user, &icn, "demographics").await?;
    let military = app.store().military_history(&icn).await?;
    let d = &ctx.patient;
    let check = crate::realtime::demographics_check(&app, &user, d)?;
    let s = sum::demographics_summary(d, today());
    let facility = match view::site_label(
        s.primary_station.as_deref(),
        s.primary_station_name.as_deref(),
    ) {
        f if f == "—" => "Not recorded".to_string(),
        f => f,
    };
    let page = DemographicsPage {
        icn: icn.clone(),
        dob: view::date(s.dob),
        age: s.age.map_or_else(|| "—".into(), |a| a.to_string()),
        death_date: view::date(s.death_date),
        sex: or_dash(&s.sex),
        gender: or_dash(&d.gender),
        marital: or_dash(&d.marital_status),
        religion: or_dash(&d.religion),
        veteran_status: or_dash(&d.veteran_status),
        facility,
        phone: or_dash(&s.phone),
        insurance: or_dash(&s.insurance),
        military: military.as_ref().map(military_view),
        vista_differences: check.differences(),
        vista_site: check.site,
        vista_fields: check.fields.into_iter().map(vista_field).collect(),
        vista: check.status,
        s,
        shell: ctx.shell,
    };
    Ok(view::render(&page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilitaryResponse {
    pub patient_icn: String,
    /// Absent when no military history is on file.
    pub military_history: Option<MilitaryHistory>,
    pub priority_group: Option<PriorityGroup>,
    pub exposures: Vec<Exposure>,
}

/// `GET /api/patient/{icn}/demographics/military`: service connection,
/// priority group and exposures.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/demographics/military",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN")),
    responses(
        (status = 200, description = "Military history (may be absent)", body = MilitaryResponse),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn military_json(
    State(app): State<AppState>,
    Path(icn): Path<String>,
) -> Result<Json<MilitaryResponse>> {
    crate::api::patient(&app, &icn).await?;
    let m = app.store().military_history(&icn).await?;
    Ok(Json(MilitaryResponse {
        patient_icn: icn,
        priority_group: m
            .as_ref()
            .and_then(|m| priority_group(m.service_connected_percent)),
        exposures: m.as_ref().map(exposures).unwrap_or_default(),
        military_history: m,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_groups_follow_the_reference() {
        let g = |p: f64| priority_group(Some(p)).map(|g| g.label);
        assert_eq!(g(100.0), Some("Priority Group 1"));
        assert_eq!(g(70.0), Some("Priority Group 1"));
        assert_eq!(g(69.9), Some("Priority Group 2"));
        assert_eq!(g(50.0), Some("Priority Group 2"));
        assert_eq!(g(30.0), Some("Priority Group 3"));
        assert_eq!(g(10.0), Some("Priority Group 4-6"));
        assert_eq!(g(0.0), Some("Priority Group 7-8"));
        assert_eq!(priority_group(None), None);
    }

    #[test]
    fn military_view_shows_exposures_with_locations() {
        let m = MilitaryHistory {
            patient_key: "ICN1".into(),
            icn: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: "1".into(),
            service_connected_flag: Some("Y".into()),
            service_connected_percent: Some(70.0),
            agent_orange_exposure: Some("Y".into()),
            agent_orange_location: Some("VIETNAM".into()),
            ionizing_radiation: Some("N".into()),
            pow_status: Some("Y".into()),
            pow_location: None,
            shad_flag: Some("Y".into()),
            sw_asia_exposure: Some("Y".into()),
            camp_lejeune_flag: None,
            last_updated: None,
        };
        let v = military_view(&m);
        assert_eq!(v.service_connected, "Yes");
        assert_eq!(v.percent.as_deref(), Some("70%"));
        assert_eq!(
            v.priority.map(|g| (g.label, g.level)),
            Some(("Priority Group 1", "danger"))
        );
        let labels: Vec<&str> = v.exposures.iter().map(|e| e.label).collect();
        // SHAD is not a page badge (reference §3.1).
        assert_eq!(labels, ["Agent Orange", "Former POW", "Gulf War/SW Asia"]);
        assert_eq!(v.exposures[0].location.as_deref(), Some("VIETNAM"));
    }
}
