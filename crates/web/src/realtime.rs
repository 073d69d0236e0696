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
//! Pages: the five list pages (vitals, allergies, medications, encounters,
//! problems) list [`page_rows`], the serving rows merged with this user's
//! cached answers, so VistA rows take part in the page's filters, sorts and
//! pagination and carry a "VistA (site N)" badge. The refresh control
//! (`templates/domains/partials/vista_status.html`) is a plain form posting
//! to `/patient/{icn}/realtime/{domain}/refresh`, which asks the sites and
//! returns to the page it came from. Demographics are checked field by
//! field against the registry's most recent site (`ORWPT PTINQ`).
//!
//! JSON: `POST /api/patient/{icn}/realtime/{domain}` refreshes,
//! `GET` returns the merged view from the cache (or the serving DB alone
//! when there is nothing cached). Sites that failed are listed by station.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{Result, WebError};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{Days, NaiveDate, NaiveDateTime, Utc};
use domain::realtime::{self as rt, Domain, MergeResult, Origin, Realtime, Registry};
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

/// The domains with a refresh, in the order error messages list them.
const DOMAINS: [Domain; 6] = [
    Domain::Demographics,
    Domain::Vitals,
    Domain::Allergies,
    Domain::Medications,
    Domain::Encounters,
    Domain::Problems,
];

fn parse_domain(s: &str) -> Result<Domain> {
    DOMAINS
        .into_iter()
        .find(|d| segment(*d) == s)
        .ok_or_else(|| {
            WebError::NotFound(format!(
                "No VistA refresh for `{s}`: demographics, vitals, allergies, medications, encounters or problems."
            ))
        })
}

/// A domain's URL segment.
fn segment(domain: Domain) -> &'static str {
    match domain {
        Domain::Vitals => "vitals",
        Domain::Allergies => "allergies",
        Domain::Medications => "medications",
        Domain::Encounters => "encounters",
        Domain::Problems => "problems",
        Domain::Demographics => "demographics",
    }
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedSite {
    pub sta3n: String,
    pub name: String,
    pub reason: String,
}

/// One demographics field, serving DB against the site.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldCheckView {
    /// `name`, `date_of_birth`, `sex`, `ssn_last4` or `veteran_status`.
    pub field: &'static str,
    pub serving: Option<String>,
    pub vista: Option<String>,
    pub matches: bool,
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
    /// Demographics only: each field of the serving DB against the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<FieldCheckView>>,
    pub rows: Vec<MergedRow>,
}

/// What a refresh gave, before it becomes JSON or a page.
struct Outcome<T> {
    merged: MergeResult<T>,
    failed: Vec<FailedSite>,
    unreadable: usize,
}

/// Reads every site's answer; a site whose answer is an error (or not a
/// layout we know) joins the failed list.
fn parse_sites<T>(
    snapshot: &Snapshot,
    mut parse: impl FnMut(&SiteAnswer, &str) -> std::result::Result<(T, usize), rt::ParseError>,
) -> (Vec<(String, T)>, Vec<FailedSite>, usize) {
    let mut out = Vec::new();
    let mut failed = Vec::new();
    let mut unreadable = 0;
    for s in &snapshot.sites {
        let fail = |reason: String| FailedSite {
            sta3n: s.sta3n.clone(),
            name: s.name.clone(),
            reason,
        };
        match &s.answer {
            Err(reason) => failed.push(fail(reason.clone())),
            Ok(answer) => match parse(s, answer) {
                Ok((rows, bad)) => {
                    unreadable += bad;
                    out.push((s.sta3n.clone(), rows));
                }
                Err(e) => failed.push(fail(e.to_string())),
            },
        }
    }
    (out, failed, unreadable)
}

/// Serving rows merged with a snapshot's rows (`None`: serving only).
fn merge_snapshot<T: Realtime>(
    icn: &str,
    serving: Vec<T>,
    snapshot: Option<&Snapshot>,
) -> Outcome<T> {
    let today = Utc::now().date_naive();
    let t_minus_1 = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let (vista, failed, unreadable) = match snapshot {
        None => (Vec::new(), Vec::new(), 0),
        Some(snap) => parse_sites(snap, |s, answer| {
            T::parse(icn, &s.sta3n, answer).map(|p| (p.rows, p.errors.len()))
        }),
    };
    Outcome {
        merged: rt::merge_rows(serving, vista, t_minus_1),
        failed,
        unreadable,
    }
}

/// 404 unless the patient is in the serving DB (checked once per request,
/// before any VistA call).
async fn known_patient(app: &AppState, icn: &str) -> Result<domain::record::Demographics> {
    app.store()
        .patient(icn)
        .await?
        .ok_or_else(WebError::patient_not_found)
}

/// The serving rows merged with a snapshot's, as the JSON view.
fn json_view<T: Realtime + Serialize>(
    icn: &str,
    name: &str,
    serving: Vec<T>,
    snapshot: Option<&Snapshot>,
    warehouse_through: Option<String>,
) -> Result<RealtimeView> {
    let outcome = merge_snapshot(icn, serving, snapshot);
    let m = outcome.merged;
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
                row: to_json(&r.row)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RealtimeView {
        failed_sites: outcome.failed,
        serving_count: m.serving_count,
        vista_count: m.vista_count,
        duplicates_removed: m.duplicates_removed,
        replaced_by_vista: m.replaced_by_vista,
        unreadable_lines: outcome.unreadable,
        rows,
        ..RealtimeView::empty(icn, name, snapshot, warehouse_through)
    })
}

impl RealtimeView {
    /// The view's frame: who, what, when and which sites; no rows.
    fn empty(
        icn: &str,
        name: &str,
        snapshot: Option<&Snapshot>,
        warehouse_through: Option<String>,
    ) -> RealtimeView {
        RealtimeView {
            patient_icn: icn.to_string(),
            domain: name.to_string(),
            realtime: snapshot.is_some(),
            current_through: match snapshot {
                Some(s) => Some(s.at.format("%Y-%m-%d").to_string()),
                None => warehouse_through,
            },
            refreshed_at: snapshot.map(|s| s.at),
            sites_asked: snapshot
                .map(|s| s.sites.iter().map(|s| s.sta3n.clone()).collect())
                .unwrap_or_default(),
            failed_sites: Vec::new(),
            serving_count: 0,
            vista_count: 0,
            duplicates_removed: 0,
            replaced_by_vista: 0,
            unreadable_lines: 0,
            checks: None,
            rows: Vec::new(),
        }
    }
}

/// Demographics: the serving row against each site's inquiry.
fn demographics_view(
    patient: domain::record::Demographics,
    snapshot: Option<&Snapshot>,
    warehouse_through: Option<String>,
) -> Result<RealtimeView> {
    let (sites, failed, _) = match snapshot {
        None => (Vec::new(), Vec::new(), 0),
        Some(snap) => parse_sites(snap, |_, answer| rt::parse_inquiry(answer).map(|i| (i, 0))),
    };
    let checks = sites.first().map(|(_, i)| {
        rt::compare_demographics(&patient, i)
            .into_iter()
            .map(|c| FieldCheckView {
                field: c.field,
                serving: c.serving,
                vista: c.vista,
                matches: c.matches,
            })
            .collect()
    });
    let mut rows = vec![MergedRow {
        source: "serving",
        site: None,
        row: to_json(&patient)?,
    }];
    for (site, inquiry) in &sites {
        rows.push(MergedRow {
            source: "vista",
            site: Some(site.clone()),
            row: to_json(inquiry)?,
        });
    }
    Ok(RealtimeView {
        failed_sites: failed,
        serving_count: 1,
        vista_count: sites.len(),
        checks,
        rows,
        ..RealtimeView::empty(&patient.icn, "demographics", snapshot, warehouse_through)
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| WebError::Internal(e.to_string()))
}

/// The merged view of `domain` from a snapshot (or the serving DB alone).
async fn view(
    app: &AppState,
    patient: domain::record::Demographics,
    domain: Domain,
    snapshot: Option<&Snapshot>,
) -> Result<RealtimeView> {
    let store = app.store();
    let icn = patient.icn.clone();
    let name = segment(domain);
    let through = if snapshot.is_none() {
        crate::view::current_through(app).await
    } else {
        None
    };
    match domain {
        Domain::Vitals => {
            let rows = store.vitals(&icn, None).await?;
            json_view(&icn, name, rows, snapshot, through)
        }
        Domain::Allergies => {
            let rows = store.allergies(&icn).await?;
            json_view(&icn, name, rows, snapshot, through)
        }
        Domain::Medications => {
            let rows = store.outpatient_medications(&icn).await?;
            json_view(&icn, name, rows, snapshot, through)
        }
        Domain::Encounters => {
            let rows = store.encounters(&icn).await?;
            json_view(&icn, name, rows, snapshot, through)
        }
        Domain::Problems => {
            let rows = store.problems(&icn).await?;
            json_view(&icn, name, rows, snapshot, through)
        }
        Domain::Demographics => demographics_view(patient, snapshot, through),
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
    params(("icn" = String, Path), ("domain" = String, Path, description = "demographics, vitals, allergies, medications, encounters or problems")),
    responses(
        (status = 200, description = "Serving rows merged with today's VistA rows (demographics: field checks)", body = RealtimeView),
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
    let patient = known_patient(&app, &icn).await?;
    let snapshot = link(&app)?.refresh(&user, &icn, domain).await?;
    Ok(Json(view(&app, patient, domain, Some(&snapshot)).await?))
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
    let patient = known_patient(&app, &icn).await?;
    let snapshot = app.vista().and_then(|v| v.cached(&user, &icn, domain));
    Ok(Json(
        view(&app, patient, domain, snapshot.as_deref()).await?,
    ))
}

/// What a refresh gave, as a page's status line shows it.
pub struct Refreshed {
    /// "14:02 UTC".
    pub at: String,
    /// Today's date: the data is current through it.
    pub today: String,
    pub sites_asked: Vec<String>,
    pub failed: Vec<FailedSite>,
    /// VistA rows listed (new records, and recent ones VistA replaced).
    pub listed: usize,
    pub replaced: usize,
    pub duplicates_removed: usize,
    pub unreadable: usize,
}

impl Refreshed {
    fn new(snapshot: &Snapshot, failed: Vec<FailedSite>) -> Refreshed {
        Refreshed {
            at: snapshot.at.format("%H:%M UTC").to_string(),
            today: snapshot.at.format("%Y-%m-%d").to_string(),
            sites_asked: snapshot.sites.iter().map(|s| s.sta3n.clone()).collect(),
            failed,
            listed: 0,
            replaced: 0,
            duplicates_removed: 0,
            unreadable: 0,
        }
    }

    /// "3 entries from VistA (1 replacing yesterday's copy), 2 duplicates removed".
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = plural(self.listed, "entry from VistA", "entries from VistA");
        if self.replaced > 0 {
            s.push_str(&format!(
                " ({} replacing the warehouse copy)",
                self.replaced
            ));
        }
        s.push_str(", ");
        s.push_str(&plural(
            self.duplicates_removed,
            "duplicate removed",
            "duplicates removed",
        ));
        s
    }
}

/// A page's VistA status and refresh control
/// (`templates/domains/partials/vista_status.html`).
pub struct VistaStatus {
    /// The page's URL segment.
    pub domain: &'static str,
    /// Whether a VistA connection is configured (else no button).
    pub configured: bool,
    /// After a refresh (this user's cached answers, at most 30 minutes old).
    pub refreshed: Option<Refreshed>,
}

/// A page's rows: the serving DB's merged with this user's cached VistA
/// answers (VistA rows know their site through [`Realtime::vista_site`]).
pub struct PageRows<T> {
    pub rows: Vec<T>,
    pub status: VistaStatus,
}

/// The serving rows merged with this user's cached answers for the page
/// (no VistA call: a page load never waits for the sites).
pub fn page_rows<T: Realtime>(
    app: &AppState,
    user: &CurrentUser,
    icn: &str,
    serving: Vec<T>,
) -> PageRows<T> {
    let snapshot = app.vista().and_then(|v| v.cached(user, icn, T::DOMAIN));
    let outcome = merge_snapshot(icn, serving, snapshot.as_deref());
    let m = outcome.merged;
    let refreshed = snapshot.map(|s| Refreshed {
        listed: m
            .rows
            .iter()
            .filter(|r| r.origin != Origin::Serving)
            .count(),
        replaced: m.replaced_by_vista,
        duplicates_removed: m.duplicates_removed,
        unreadable: outcome.unreadable,
        ..Refreshed::new(&s, outcome.failed)
    });
    PageRows {
        rows: m.rows.into_iter().map(|r| r.row).collect(),
        status: VistaStatus {
            domain: segment(T::DOMAIN),
            configured: app.vista().is_some(),
            refreshed,
        },
    }
}

/// The demographics page's check against the registry's site.
pub struct DemographicsCheck {
    pub status: VistaStatus,
    /// The site compared with, and the fields.
    pub site: Option<String>,
    pub fields: Vec<FieldCheckView>,
}

impl DemographicsCheck {
    pub fn differences(&self) -> usize {
        self.fields.iter().filter(|f| !f.matches).count()
    }
}

/// The demographics page's VistA check, from this user's cache.
pub fn demographics_check(
    app: &AppState,
    user: &CurrentUser,
    patient: &domain::record::Demographics,
) -> Result<DemographicsCheck> {
    let snapshot = app
        .vista()
        .and_then(|v| v.cached(user, &patient.icn, Domain::Demographics));
    let view = demographics_view(patient.clone(), snapshot.as_deref(), None)?;
    let site = view.rows.iter().find_map(|r| r.site.clone());
    let refreshed = snapshot.map(|s| Refreshed {
        listed: view.vista_count,
        ..Refreshed::new(&s, view.failed_sites.clone())
    });
    Ok(DemographicsCheck {
        status: VistaStatus {
            domain: "demographics",
            configured: app.vista().is_some(),
            refreshed,
        },
        site,
        fields: view.checks.unwrap_or_default(),
    })
}

/// The page to return to after a refresh: the Referer when it is this
/// patient's page of this domain (keeping its filters, sort and page),
/// else the page itself. Never another origin or path.
fn back_to(headers: &HeaderMap, icn: &str, name: &str) -> String {
    let page = format!("/patient/{icn}/{name}");
    headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            // Strip scheme and authority; the CSRF check already tied the
            // request to this site.
            let path = match r.find("://") {
                Some(i) => &r[i + 3..][r[i + 3..].find('/')?..],
                None => r,
            };
            let rest = path.strip_prefix(&page)?;
            (rest.is_empty() || rest.starts_with('?')).then(|| path.to_string())
        })
        .unwrap_or(page)
}

/// `POST /patient/{icn}/realtime/{domain}/refresh` (form): asks the sites,
/// caches the answers, and returns to the page, which now lists them.
pub async fn page_refresh(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((icn, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Redirect> {
    let domain = parse_domain(&name)?;
    known_patient(&app, &icn).await?;
    link(&app)?.refresh(&user, &icn, domain).await?;
    Ok(Redirect::to(&back_to(&headers, &icn, &name)))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/patient/{icn}/realtime/{domain}",
            get(cached).post(refresh),
        )
        .route(
            "/patient/{icn}/realtime/{domain}/refresh",
            post(page_refresh),
        )
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(refresh, cached),
    components(schemas(RealtimeView, MergedRow, FailedSite, FieldCheckView))
)]
pub struct Doc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_returns_only_to_the_same_page() {
        let h = |r: &str| {
            let mut m = HeaderMap::new();
            m.insert(axum::http::header::REFERER, r.parse().unwrap());
            m
        };
        let page = "/patient/ICN1/vitals";
        assert_eq!(
            back_to(
                &h("http://x:8000/patient/ICN1/vitals?vital_type=BP&page=2"),
                "ICN1",
                "vitals"
            ),
            "/patient/ICN1/vitals?vital_type=BP&page=2"
        );
        for bad in [
            "http://evil.example/",
            "http://x/patient/ICN2/vitals",
            "http://x/patient/ICN1/vitalsX",
            "http://x/patient/ICN1/labs?x=1",
            "//evil.example/patient/ICN1/vitals",
        ] {
            assert_eq!(back_to(&h(bad), "ICN1", "vitals"), page, "{bad}");
        }
        assert_eq!(back_to(&HeaderMap::new(), "ICN1", "vitals"), page);
    }
}
