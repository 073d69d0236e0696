//! The allergies page (`/patient/{icn}/allergies`, reference §3.4): cards
//! grouped Drug / Food / Environmental (then any other type), each group in
//! the critical order (drug first, most severe, newest), with counts and
//! the comment behind a disclosure. Active allergies only by default;
//! `include_inactive=true` adds the inactive ones, marked. JSON twin:
//! `/api/patient/{icn}/allergies/page`.

use super::PageContext;
use super::vitals::{choice, datetime, param};
use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::realtime::{self, VistaStatus};
use crate::view;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::allergies::AllergenType;
use domain::realtime::Realtime;
use domain::record::Allergy;
use domain::summary as sum;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient/{icn}/allergies", get(page))
        .route("/api/patient/{icn}/allergies/page", get(page_json))
}

#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AllergiesPageQuery {
    /// `true` to include inactive allergies (default `false`).
    pub include_inactive: Option<String>,
}

fn include_inactive(q: &AllergiesPageQuery) -> Result<bool> {
    Ok(matches!(
        choice(
            "include_inactive",
            &q.include_inactive,
            "false",
            &["true", "false", "1", "0", "on", "off"],
        )?,
        "true" | "1" | "on"
    ))
}

/// The allergies shown (active, or all), in the critical order, with the
/// counts of the active ones and how many are inactive.
fn select(all: &[Allergy], with_inactive: bool) -> (Vec<Allergy>, sum::AllergyCounts, usize) {
    let (_, counts) = sum::active_allergies(all);
    let inactive = all.iter().filter(|a| !a.is_active).count();
    let mut shown: Vec<Allergy> = all
        .iter()
        .filter(|a| with_inactive || a.is_active)
        .cloned()
        .collect();
    // Active before inactive, each in the critical order.
    shown.sort_by(|a, b| {
        b.is_active
            .cmp(&a.is_active)
            .then_with(|| sum::allergy_critical_order(a, b))
    });
    (shown, counts, inactive)
}

struct Card {
    sid: i64,
    name: String,
    local_name: Option<String>,
    severity: String,
    severity_class: &'static str,
    reactions: Option<String>,
    origination: String,
    observed: Option<String>,
    historical_or_observed: Option<String>,
    verification: Option<String>,
    site: Option<String>,
    staff: Option<String>,
    comment: Option<String>,
    active: bool,
    /// The VistA station of an allergy from today's refresh.
    vista_site: Option<String>,
}

struct Group {
    key: &'static str,
    label: &'static str,
    cards: Vec<Card>,
}

fn text(s: &Option<String>) -> Option<String> {
    param(s).map(str::to_string)
}

fn card(a: &Allergy) -> Card {
    let rank = sum::allergy_severity_rank(a);
    Card {
        sid: a.allergy_sid,
        name: a.allergen_standardized.trim().to_string(),
        local_name: Some(a.allergen_local.trim().to_string())
            .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case(a.allergen_standardized.trim())),
        severity: text(&a.severity)
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_else(|| "UNKNOWN".into()),
        severity_class: match rank {
            3 => "badge--danger",
            2 => "badge--warning",
            1 => "badge--info",
            _ => "badge--muted",
        },
        reactions: text(&a.reactions),
        origination: datetime(a.origination_date),
        observed: a.observed_date.map(datetime),
        historical_or_observed: text(&a.historical_or_observed),
        verification: text(&a.verification_status),
        // "508 (Atlanta VAMC)", as the header and the other pages say it.
        site: Some(view::site_label(
            param(&a.originating_site),
            param(&a.originating_site_name),
        ))
        .filter(|s| s != "—"),
        staff: text(&a.originating_staff),
        comment: text(&a.comment),
        active: a.is_active,
        vista_site: a.vista_site().map(str::to_string),
    }
}

fn groups(shown: &[Allergy]) -> Vec<Group> {
    let mut out: Vec<Group> = AllergenType::ALL
        .iter()
        .map(|t| Group {
            key: match t {
                AllergenType::Drug => "drug",
                AllergenType::Food => "food",
                AllergenType::Environmental => "environmental",
            },
            label: t.label(),
            cards: shown
                .iter()
                .filter(|a| sum::allergen_type(a) == Some(*t))
                .map(card)
                .collect(),
        })
        .collect();
    let other: Vec<Card> = shown
        .iter()
        .filter(|a| sum::allergen_type(a).is_none())
        .map(card)
        .collect();
    if !other.is_empty() {
        out.push(Group {
            key: "other",
            label: "Other / unspecified",
            cards: other,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "domains/allergies.html")]
struct AllergiesPage {
    shell: crate::view::Shell,
    icn: String,
    with_inactive: bool,
    counts: sum::AllergyCounts,
    inactive: usize,
    shown: usize,
    groups: Vec<Group>,
    vista: VistaStatus,
}

/// `GET /patient/{icn}/allergies?include_inactive=`.
pub async fn page(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<AllergiesPageQuery>,
) -> Result<Html<String>> {
    let with_inactive = include_inactive(&q)?;
    let ctx = PageContext::load(&app, &user, &icn, "allergies").await?;
    let merged = realtime::page_rows(&app, &user, &icn, app.store().allergies(&icn).await?);
    let (shown, counts, inactive) = select(&merged.rows, with_inactive);
    let page = AllergiesPage {
        shell: ctx.shell,
        icn,
        with_inactive,
        counts,
        inactive,
        shown: shown.len(),
        groups: groups(&shown),
        vista: merged.status,
    };
    Ok(view::render(&page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllergiesPageResponse {
    pub patient_icn: String,
    pub include_inactive: bool,
    /// Counts of the active allergies.
    #[serde(flatten)]
    pub counts: sum::AllergyCounts,
    pub inactive_allergies: usize,
    /// Active first, each in the critical order; comments included.
    /// Allergies from this user's last "Refresh from VistA" are included
    /// (`source_system` `VistA`).
    pub allergies: Vec<Allergy>,
}

/// `GET /api/patient/{icn}/allergies/page`: the allergies page's rows.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/allergies/page",
    tag = "patient",
    params(("icn" = String, Path, description = "Patient ICN"), AllergiesPageQuery),
    responses(
        (status = 200, description = "Allergies and counts", body = AllergiesPageResponse),
        (status = 400, description = "include_inactive not true/false"),
        (status = 404, description = "Unknown patient"),
    )
)]
pub async fn page_json(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(icn): Path<String>,
    ApiQuery(q): ApiQuery<AllergiesPageQuery>,
) -> Result<Json<AllergiesPageResponse>> {
    let with_inactive = include_inactive(&q)?;
    crate::api::patient(&app, &icn).await?;
    let merged = realtime::page_rows(&app, &user, &icn, app.store().allergies(&icn).await?);
    let (shown, counts, inactive) = select(&merged.rows, with_inactive);
    Ok(Json(AllergiesPageResponse {
        patient_icn: icn,
        include_inactive: with_inactive,
        counts,
        inactive_allergies: inactive,
        allergies: shown,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn allergy(id: i64, name: &str, ty: &str, rank: i64, active: bool) -> Allergy {
        Allergy {
            allergy_id: id,
            patient_key: "ICN1".into(),
            source_system: "CDWWork".into(),
            source_id: id.to_string(),
            allergy_sid: id,
            allergen_local: name.into(),
            allergen_standardized: name.into(),
            allergen_type: Some(ty.into()),
            severity: Some(["", "MILD", "MODERATE", "SEVERE"][rank as usize].into()),
            severity_rank: Some(rank),
            reactions: None,
            reaction_count: None,
            origination_date: NaiveDate::from_ymd_opt(2020, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("date"),
            observed_date: None,
            historical_or_observed: None,
            originating_site: Some("508".into()),
            originating_site_name: Some("Atlanta VAMC".into()),
            originating_staff: None,
            comment: Some("Reaction documented in ED.".into()),
            is_active: active,
            verification_status: None,
            is_drug_allergy: ty == "DRUG",
            last_updated: None,
        }
    }

    #[test]
    fn groups_keep_the_critical_order_and_put_inactive_last() {
        let all = vec![
            allergy(1, "ASPIRIN", "DRUG", 1, true),
            allergy(2, "SULFA", "DRUG", 3, false),
            allergy(3, "PENICILLIN", "DRUG", 3, true),
            allergy(4, "PEANUTS", "FOOD", 3, true),
            allergy(5, "DUST", "OTHER", 1, true),
        ];
        let (shown, counts, inactive) = select(&all, false);
        assert_eq!((shown.len(), counts.total_allergies, inactive), (4, 4, 1));
        let (shown, _, _) = select(&all, true);
        let g = groups(&shown);
        let names: Vec<&str> = g[0].cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["PENICILLIN", "ASPIRIN", "SULFA"]);
        assert!(!g[0].cards[2].active);
        assert_eq!(g.last().map(|g| g.key), Some("other"));
        assert_eq!(
            g[0].cards[0].comment.as_deref(),
            Some("Reaction documented in ED.")
        );
        assert_eq!(g[0].cards[0].site.as_deref(), Some("508 (Atlanta VAMC)"));
        assert!(
            include_inactive(&AllergiesPageQuery {
                include_inactive: Some("TRUE".into())
            })
            .unwrap()
        );
        assert!(
            include_inactive(&AllergiesPageQuery {
                include_inactive: Some("yes".into())
            })
            .is_err()
        );
    }
}
