//! "Refresh from VistA" (ADR-008): today's data from the patient's VistA
//! sites, merged with the serving DB by `domain::realtime`.
//!
//! A refresh fans out in parallel (`vista-client`) to the patient's
//! treating sites from the VistA registry, most recently seen first and
//! capped per domain. The raw answers are cached server-side per user,
//! patient and domain for 30 minutes (never in a cookie) and dropped when
//! the user signs out; the merged view is recomputed from them on each
//! read, so it always reflects the serving DB's current rows.
//!
//! JSON: `POST /api/patient/{icn}/realtime/{domain}` refreshes,
//! `GET` returns the merged view from the cache (or the serving DB alone
//! when there is nothing cached). Sites that failed are listed by station.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{Days, NaiveDate, NaiveDateTime, Utc};
use domain::realtime::{self as rt, Domain, MergeResult, Origin, Parsed, Registry};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vista_client::{Param, Transport, VistaClient};

/// How long raw answers stay usable.
pub const CACHE_TTL: Duration = Duration::from_secs(30 * 60);

/// One site's raw answer (or why there is none).
#[derive(Debug, Clone)]
pub struct SiteAnswer {
    pub sta3n: String,
    pub name: String,
    pub answer: std::result::Result<String, String>,
}

/// A refresh's raw answers.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub fetched: Instant,
    pub at: NaiveDateTime,
    pub sites: Vec<SiteAnswer>,
}

type CacheKey = (String, String, Domain);

/// The link to the VistA sites.
pub struct VistaLink {
    client: VistaClient,
    registry_path: PathBuf,
    /// The registry, re-read once a day (its `T-n` dates are relative).
    registry: Mutex<Option<(NaiveDate, Arc<Registry>)>>,
    cache: Mutex<HashMap<CacheKey, Arc<Snapshot>>>,
}

impl VistaLink {
    pub fn new(base_url: &str, registry_path: PathBuf, timeout: Duration) -> VistaLink {
        VistaLink {
            client: VistaClient::new(
                Transport::Http {
                    base: base_url.trim_end_matches('/').to_string(),
                },
                timeout,
            ),
            registry_path,
            registry: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn registry(&self, today: NaiveDate) -> Result<Arc<Registry>> {
        let mut slot = self.registry.lock().expect("registry");
        if let Some((day, r)) = slot.as_ref()
            && *day == today
        {
            return Ok(r.clone());
        }
        let text = std::fs::read_to_string(&self.registry_path).map_err(|e| {
            WebError::Unavailable(format!(
                "the VistA patient registry {} cannot be read: {e}",
                self.registry_path.display()
            ))
        })?;
        let r = Arc::new(Registry::from_json(&text, today).map_err(|e| {
            WebError::Unavailable(format!("the VistA patient registry is malformed: {e}"))
        })?);
        *slot = Some((today, r.clone()));
        Ok(r)
    }

    /// Asks the patient's sites now and caches the answers.
    pub async fn refresh(
        &self,
        user: &CurrentUser,
        icn: &str,
        domain: Domain,
    ) -> Result<Arc<Snapshot>> {
        let today = Utc::now().date_naive();
        let sites = self.registry(today)?.sites(icn, domain);
        let (rpc, extra) = domain.rpc();
        let mut params = vec![Param::Literal(icn.to_string())];
        params.extend(extra.iter().map(|p| Param::Literal(p.to_string())));
        let names: Vec<&str> = sites.iter().map(|s| s.sta3n.as_str()).collect();
        let fan = self.client.fan_out(&names, rpc, &params).await;
        let snapshot = Arc::new(Snapshot {
            fetched: Instant::now(),
            at: Utc::now().naive_utc(),
            sites: sites
                .iter()
                .map(|s| SiteAnswer {
                    sta3n: s.sta3n.clone(),
                    name: s.name.clone(),
                    answer: match (fan.results.get(&s.sta3n), fan.failed.get(&s.sta3n)) {
                        (Some(lines), _) => Ok(lines.join("\n")),
                        (None, Some(e)) => Err(e.to_string()),
                        (None, None) => Err("no answer".into()),
                    },
                })
                .collect(),
        });
        self.cache.lock().expect("cache").insert(
            (user.user_id.clone(), icn.to_string(), domain),
            snapshot.clone(),
        );
        Ok(snapshot)
    }

    /// The cached answers, if fresh.
    pub fn cached(&self, user: &CurrentUser, icn: &str, domain: Domain) -> Option<Arc<Snapshot>> {
        let mut cache = self.cache.lock().expect("cache");
        let key = (user.user_id.clone(), icn.to_string(), domain);
        match cache.get(&key) {
            Some(s) if s.fetched.elapsed() < CACHE_TTL => Some(s.clone()),
            Some(_) => {
                cache.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Drops a user's cached answers (sign-out).
    pub fn forget_user(&self, user_id: &str) {
        self.cache
            .lock()
            .expect("cache")
            .retain(|(u, _, _), _| u != user_id);
    }
}

fn parse_domain(s: &str) -> Result<Domain> {
    Ok(match s {
        "vitals" => Domain::Vitals,
        "allergies" => Domain::Allergies,
        "medications" => Domain::Medications,
        "encounters" => Domain::Encounters,
        "problems" => Domain::Problems,
        other => {
            return Err(WebError::NotFound(format!(
                "No VistA refresh for `{other}`: vitals, allergies, medications, encounters or problems."
            )));
        }
    })
}

/// A merged row with its source badge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergedRow {
    /// `serving` or `vista`.
    pub source: &'static str,
    /// The VistA station, for VistA rows ("VistA (site N)").
    pub site: Option<String>,
    #[schema(value_type = Object)]
    pub row: serde_json::Value,
}

/// A site that did not answer (or answered with an error).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FailedSite {
    pub sta3n: String,
    pub name: String,
    pub reason: String,
}

/// The merged view of one domain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RealtimeView {
    pub patient_icn: String,
    pub domain: String,
    /// Whether VistA answers are included (`false`: serving DB only).
    pub realtime: bool,
    /// "Data current through": today with VistA data, else the ETL's date.
    pub current_through: Option<String>,
    pub refreshed_at: Option<NaiveDateTime>,
    pub sites_asked: Vec<String>,
    pub failed_sites: Vec<FailedSite>,
    pub serving_count: usize,
    pub vista_count: usize,
    pub duplicates_removed: usize,
    pub replaced_by_vista: usize,
    /// Lines of site answers that could not be read (never silently lost).
    pub unreadable_lines: usize,
    pub rows: Vec<MergedRow>,
}

fn merged_rows<T: Serialize>(m: MergeResult<T>) -> Result<(Vec<MergedRow>, [usize; 4])> {
    let counts = [
        m.serving_count,
        m.vista_count,
        m.duplicates_removed,
        m.replaced_by_vista,
    ];
    let rows = m
        .rows
        .into_iter()
        .map(|r| {
            let (source, site) = match r.origin {
                Origin::Serving => ("serving", None),
                Origin::Vista(s) => ("vista", Some(s)),
            };
            Ok(MergedRow {
                source,
                site,
                row: serde_json::to_value(&r.row).map_err(|e| WebError::Internal(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, counts))
}

/// Parses every site's answer with `parse`; a site whose answer is an
/// error joins the failed list.
fn parse_all<T>(
    snapshot: &Snapshot,
    icn: &str,
    parse: impl Fn(&str, &str, &str) -> std::result::Result<Parsed<T>, rt::ParseError>,
    failed: &mut Vec<FailedSite>,
    unreadable: &mut usize,
) -> Vec<(String, Vec<T>)> {
    let mut out = Vec::new();
    for s in &snapshot.sites {
        match &s.answer {
            Err(reason) => failed.push(FailedSite {
                sta3n: s.sta3n.clone(),
                name: s.name.clone(),
                reason: reason.clone(),
            }),
            Ok(answer) => match parse(icn, &s.sta3n, answer) {
                Ok(parsed) => {
                    *unreadable += parsed.errors.len();
                    out.push((s.sta3n.clone(), parsed.rows));
                }
                Err(e) => failed.push(FailedSite {
                    sta3n: s.sta3n.clone(),
                    name: s.name.clone(),
                    reason: e.to_string(),
                }),
            },
        }
    }
    out
}

/// 404 unless the patient is in the serving DB (checked once per request,
/// before any VistA call).
async fn known_patient(app: &AppState, icn: &str) -> Result<()> {
    match app.store().patient(icn).await? {
        Some(_) => Ok(()),
        None => Err(WebError::patient_not_found()),
    }
}

/// The merged view from a snapshot (or the serving DB alone), for a
/// patient [`known_patient`] accepted.
pub async fn view(
    app: &AppState,
    icn: &str,
    domain: Domain,
    name: &str,
    snapshot: Option<&Snapshot>,
) -> Result<RealtimeView> {
    let store = app.store();
    let today = Utc::now().date_naive();
    let t_minus_1 = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let mut failed = Vec::new();
    let mut unreadable = 0;
    let empty = Snapshot {
        fetched: Instant::now(),
        at: Utc::now().naive_utc(),
        sites: Vec::new(),
    };
    let snap = snapshot.unwrap_or(&empty);
    let (rows, counts) = match domain {
        Domain::Vitals => {
            let vista = parse_all(snap, icn, rt::parse_vitals, &mut failed, &mut unreadable);
            merged_rows(rt::merge(
                store.vitals(icn, None).await?,
                vista,
                rt::vital_key,
                |v| Some(v.taken_datetime.date()),
                t_minus_1,
            ))?
        }
        Domain::Allergies => {
            let vista = parse_all(snap, icn, rt::parse_allergies, &mut failed, &mut unreadable);
            merged_rows(rt::merge(
                store.allergies(icn).await?,
                vista,
                rt::allergy_key,
                |a| Some(a.origination_date.date()),
                t_minus_1,
            ))?
        }
        Domain::Medications => {
            let vista = parse_all(
                snap,
                icn,
                rt::parse_medications,
                &mut failed,
                &mut unreadable,
            );
            merged_rows(rt::merge(
                store.outpatient_medications(icn).await?,
                vista,
                rt::medication_key,
                |m| m.issue_date.map(|d| d.date()),
                t_minus_1,
            ))?
        }
        Domain::Encounters => {
            let vista = parse_all(
                snap,
                icn,
                rt::parse_encounters,
                &mut failed,
                &mut unreadable,
            );
            merged_rows(rt::merge(
                store.encounters(icn).await?,
                vista,
                rt::encounter_key,
                |e| Some(e.discharge_datetime.unwrap_or(e.admit_datetime).date()),
                t_minus_1,
            ))?
        }
        Domain::Problems => {
            let vista = parse_all(snap, icn, rt::parse_problems, &mut failed, &mut unreadable);
            merged_rows(rt::merge(
                store.problems(icn).await?,
                vista,
                rt::problem_key,
                |p| p.last_modified_date.or(p.onset_date),
                t_minus_1,
            ))?
        }
        Domain::Demographics => {
            return Err(WebError::NotFound(
                "No VistA refresh for demographics here.".into(),
            ));
        }
    };
    let realtime = snapshot.is_some();
    Ok(RealtimeView {
        patient_icn: icn.to_string(),
        domain: name.to_string(),
        realtime,
        current_through: if realtime {
            Some(today.format("%Y-%m-%d").to_string())
        } else {
            crate::view::current_through(app).await
        },
        refreshed_at: snapshot.map(|s| s.at),
        sites_asked: snap.sites.iter().map(|s| s.sta3n.clone()).collect(),
        failed_sites: failed,
        serving_count: counts[0],
        vista_count: counts[1],
        duplicates_removed: counts[2],
        replaced_by_vista: counts[3],
        unreadable_lines: unreadable,
        rows,
    })
}

impl RealtimeView {
    /// "N new or updated entries, M duplicates removed".
    pub fn vista_rows_label(&self) -> String {
        let vista = self.rows.iter().filter(|r| r.site.is_some()).count();
        format!(
            "{vista} new or updated entr{}, {} duplicate{} removed",
            if vista == 1 { "y" } else { "ies" },
            self.duplicates_removed,
            if self.duplicates_removed == 1 {
                ""
            } else {
                "s"
            }
        )
    }
}

fn link(app: &AppState) -> Result<&VistaLink> {
    app.vista()
        .ok_or_else(|| WebError::Unavailable("no VistA connection is configured".into()))
}

/// `POST /api/patient/{icn}/realtime/{domain}`: asks the patient's VistA
/// sites now, caches their answers for 30 minutes and returns the merged
/// view.
#[utoipa::path(
    post,
    path = "/api/patient/{icn}/realtime/{domain}",
    tag = "patient",
    params(("icn" = String, Path), ("domain" = String, Path, description = "vitals, allergies, medications, encounters or problems")),
    responses(
        (status = 200, description = "Serving rows merged with today's VistA rows", body = RealtimeView),
        (status = 404, description = "Unknown patient or domain"),
        (status = 503, description = "No VistA connection or registry"),
    )
)]
pub async fn refresh(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((icn, name)): Path<(String, String)>,
) -> Result<Json<RealtimeView>> {
    let domain = parse_domain(&name)?;
    known_patient(&app, &icn).await?;
    let snapshot = link(&app)?.refresh(&user, &icn, domain).await?;
    Ok(Json(
        view(&app, &icn, domain, &name, Some(&snapshot)).await?,
    ))
}

/// `GET /api/patient/{icn}/realtime/{domain}`: the merged view from this
/// user's cached answers, or the serving DB alone when none are cached.
#[utoipa::path(
    get,
    path = "/api/patient/{icn}/realtime/{domain}",
    tag = "patient",
    params(("icn" = String, Path), ("domain" = String, Path)),
    responses(
        (status = 200, description = "The merged view (realtime false: serving DB only)", body = RealtimeView),
        (status = 404, description = "Unknown patient or domain"),
    )
)]
pub async fn cached(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((icn, name)): Path<(String, String)>,
) -> Result<Json<RealtimeView>> {
    let domain = parse_domain(&name)?;
    known_patient(&app, &icn).await?;
    let snapshot = app.vista().and_then(|v| v.cached(&user, &icn, domain));
    Ok(Json(
        view(&app, &icn, domain, &name, snapshot.as_deref()).await?,
    ))
}

/// One VistA row as the panel lists it.
pub struct PanelRow {
    pub site: String,
    pub date: String,
    pub item: String,
    pub detail: String,
    pub flag: String,
}

#[derive(askama::Template)]
#[template(path = "partials/vista_panel.html")]
pub struct Panel {
    pub icn: String,
    pub domain: String,
    pub view: RealtimeView,
    pub refreshed: String,
    pub vista_rows: Vec<PanelRow>,
    pub configured: bool,
}

fn text(v: &serde_json::Value, key: &str) -> String {
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// What the panel shows of a VistA row, per domain.
fn panel_row(domain: Domain, site: &str, r: &serde_json::Value) -> PanelRow {
    let join = |parts: &[String]| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let (date, item, detail, flag) = match domain {
        Domain::Vitals => (
            text(r, "taken_datetime"),
            text(r, "vital_type"),
            join(&[text(r, "result_value"), text(r, "unit_of_measure")]).replace(" · ", " "),
            text(r, "abnormal_flag"),
        ),
        Domain::Allergies => (
            text(r, "origination_date"),
            text(r, "allergen_local"),
            join(&[text(r, "allergen_type"), text(r, "reactions")]),
            text(r, "severity"),
        ),
        Domain::Medications => (
            text(r, "issue_date"),
            text(r, "drug_name_local"),
            join(&[
                format!("Rx {}", text(r, "prescription_number")),
                text(r, "rx_status"),
            ]),
            String::new(),
        ),
        Domain::Encounters => (
            text(r, "admit_datetime"),
            text(r, "admit_location_name"),
            join(&[
                text(r, "admit_diagnosis_code"),
                text(r, "admitting_provider_name"),
            ]),
            text(r, "encounter_status"),
        ),
        Domain::Problems | Domain::Demographics => (
            text(r, "onset_date"),
            text(r, "diagnosis_description"),
            join(&[text(r, "icd10_code"), text(r, "problem_status")]),
            String::new(),
        ),
    };
    PanelRow {
        site: site.to_string(),
        date: date.replace('T', " ").chars().take(16).collect(),
        item,
        detail,
        flag,
    }
}

async fn panel(
    app: &AppState,
    icn: String,
    name: String,
    domain: Domain,
    snapshot: Option<&Snapshot>,
) -> Result<axum::response::Html<String>> {
    let view = view(app, &icn, domain, &name, snapshot).await?;
    let mut vista_rows: Vec<PanelRow> = view
        .rows
        .iter()
        .filter_map(|r| r.site.as_deref().map(|s| panel_row(domain, s, &r.row)))
        .collect();
    vista_rows.sort_by(|a, b| b.date.cmp(&a.date));
    Ok(crate::view::render(&Panel {
        refreshed: view
            .refreshed_at
            .map(|t| t.format("%H:%M UTC").to_string())
            .unwrap_or_default(),
        icn,
        domain: name,
        view,
        vista_rows,
        configured: app.vista().is_some(),
    }))
}

/// `GET /patient/{icn}/realtime/{domain}/panel`: the page's VistA panel
/// (what a refresh added, from this user's cache), or the refresh button.
pub async fn panel_cached(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((icn, name)): Path<(String, String)>,
) -> Result<axum::response::Html<String>> {
    let domain = parse_domain(&name)?;
    known_patient(&app, &icn).await?;
    let snapshot = app.vista().and_then(|v| v.cached(&user, &icn, domain));
    panel(&app, icn, name, domain, snapshot.as_deref()).await
}

/// `POST /patient/{icn}/realtime/{domain}/panel`: refreshes from VistA and
/// renders the panel.
pub async fn panel_refresh(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((icn, name)): Path<(String, String)>,
) -> Result<axum::response::Html<String>> {
    let domain = parse_domain(&name)?;
    known_patient(&app, &icn).await?;
    let snapshot = link(&app)?.refresh(&user, &icn, domain).await?;
    panel(&app, icn, name, domain, Some(&snapshot)).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/patient/{icn}/realtime/{domain}",
            get(cached).post(refresh),
        )
        .route(
            "/patient/{icn}/realtime/{domain}/panel",
            get(panel_cached).post(panel_refresh),
        )
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(refresh, cached),
    components(schemas(RealtimeView, MergedRow, FailedSite))
)]
pub struct Doc;
