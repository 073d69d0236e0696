//! Full pages per clinical domain (`/patient/{icn}/<domain>`), their short
//! redirects (`/<domain>` → the CCOW patient's page) and their JSON.
//!
//! Shared here: [`PageContext`] (the patient, the shell, "data current
//! through"), [`Pagination`] (ADR-005: sizes 10/20/50/100, Prev/Next,
//! "Page X of Y (Z items)", state in the URL) and [`QueryUrl`] (links that
//! keep the other query parameters). Each domain module owns its routes,
//! templates (`templates/domains/<domain>.html`) and OpenAPI paths.
//!
//! Opening a patient's page makes that patient the user's CCOW context, so
//! the topbar and the page never disagree (the original let them differ).

pub mod allergies;
pub mod demographics;
pub mod encounters;
pub mod history;
pub mod immunizations;
pub mod labs;
pub mod medications;
pub mod notes;
pub mod problems;
pub mod tasks;
pub mod vitals;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::ccow;
use crate::error::{Result, WebError};
use crate::pages::header_for;
use crate::view::Shell;
use axum::Router;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use axum::{Extension, extract::Path};
use domain::record::Demographics;

/// Domains with a full page, by URL segment (also their sidebar key).
pub const DOMAINS: &[&str] = &[
    "demographics",
    "tasks",
    "vitals",
    "allergies",
    "history",
    "medications",
    "immunizations",
    "labs",
    "notes",
    "encounters",
    "problems",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{domain}", get(short_redirect))
        .merge(demographics::routes())
        .merge(vitals::routes())
        .merge(allergies::routes())
        .merge(medications::routes())
        .merge(encounters::routes())
        .merge(labs::routes())
        .merge(notes::routes())
        .merge(immunizations::routes())
        .merge(problems::routes())
        .merge(history::routes())
        .merge(tasks::routes())
}

/// The OpenAPI paths of every domain module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = demographics::openapi();
    for other in [
        vitals::openapi(),
        allergies::openapi(),
        medications::openapi(),
        encounters::openapi(),
        labs::openapi(),
        notes::openapi(),
        immunizations::openapi(),
        problems::openapi(),
        history::openapi(),
        tasks::openapi(),
    ] {
        doc.merge(other);
    }
    doc
}

/// `GET /<domain>`: the page of the user's CCOW patient, or the dashboard
/// (which offers the patient search) when there is none.
pub async fn short_redirect(
    State(app): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(domain): Path<String>,
) -> Result<Redirect> {
    if !DOMAINS.contains(&domain.as_str()) {
        return Err(WebError::NotFound("Page not found.".into()));
    }
    let ctx = ccow::current(&app, &user).await?;
    Ok(match ctx.icn {
        Some(icn) => Redirect::to(&format!("/patient/{icn}/{domain}")),
        None => Redirect::to("/"),
    })
}

/// Everything a domain page needs besides its own rows.
pub struct PageContext {
    pub shell: Shell,
    pub patient: Demographics,
    /// "Data current through …" for serving-DB data (the last ETL run's
    /// as-of date); pages that merged VistA data say "today" instead.
    pub current_through: Option<String>,
}

impl PageContext {
    /// Loads the patient (404 when unknown), makes it the user's context
    /// if it is not already, and builds the shell with `active` highlighted
    /// in the sidebar.
    pub async fn load(
        app: &AppState,
        user: &CurrentUser,
        icn: &str,
        active: &'static str,
    ) -> Result<PageContext> {
        let patient = app
            .store()
            .patient(icn)
            .await?
            .ok_or_else(WebError::patient_not_found)?;
        let ctx = ccow::current(app, user).await?;
        let shared = if ctx.icn.as_deref() == Some(icn) {
            ctx.shared
        } else {
            ccow::set(app, user, icn).await?
        };
        // The patient is loaded already: the header needs only its flags.
        let header = header_for(app, &patient, shared).await?;
        let shell = Shell::new(app, user, &header, active).await;
        let current_through = shell.current_through.clone();
        Ok(PageContext {
            shell,
            patient,
            current_through,
        })
    }
}

/// Page sizes offered (ADR-005).
pub const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

/// One page of a list (ADR-005).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    /// 1-based, clamped to the pages that exist.
    pub page: u32,
    pub page_size: u32,
    pub total: usize,
}

impl Pagination {
    /// `page` and `page_size` from the query (`None` = defaults: page 1,
    /// `default_size`); a size not in [`PAGE_SIZES`] is an error, a page
    /// past the end shows the last page.
    pub fn new(
        page: Option<u32>,
        page_size: Option<u32>,
        default_size: u32,
        total: usize,
    ) -> Result<Pagination> {
        let page_size = page_size.unwrap_or(default_size);
        if !PAGE_SIZES.contains(&page_size) {
            return Err(WebError::BadRequest(format!(
                "page_size must be one of 10, 20, 50 or 100 (got {page_size})"
            )));
        }
        let page = page.unwrap_or(1);
        if page == 0 {
            return Err(WebError::BadRequest("page starts at 1".into()));
        }
        let mut p = Pagination {
            page,
            page_size,
            total,
        };
        p.page = p.page.min(p.pages());
        Ok(p)
    }

    /// Number of pages (at least 1, so an empty list is "Page 1 of 1").
    pub fn pages(&self) -> u32 {
        let size = self.page_size as usize;
        u32::try_from(self.total.div_ceil(size).max(1)).unwrap_or(u32::MAX)
    }

    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// The index range of this page in the full list.
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = (self.page as usize - 1) * self.page_size as usize;
        start.min(self.total)..(start + self.page_size as usize).min(self.total)
    }

    /// "Page X of Y (Z items)".
    pub fn label(&self) -> String {
        format!(
            "Page {} of {} ({} item{})",
            self.page,
            self.pages(),
            self.total,
            if self.total == 1 { "" } else { "s" }
        )
    }
}

/// One page-size choice of a [`Pager`].
pub struct SizeLink {
    pub size: u32,
    pub url: String,
    pub current: bool,
}

/// The Prev/Next/page-size control of every paginated page
/// (`templates/domains/partials/pager.html`, which needs `pager`).
pub struct Pager {
    /// "Page X of Y (Z items)".
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub sizes: Vec<SizeLink>,
}

impl Pager {
    /// `url` carries the filters, the sort and the page size (not the page).
    pub fn new(p: &Pagination, url: &QueryUrl) -> Pager {
        Pager {
            label: p.label(),
            prev: p.has_prev().then(|| url.set("page", p.page - 1)),
            next: p.has_next().then(|| url.set("page", p.page + 1)),
            sizes: PAGE_SIZES
                .iter()
                .map(|&size| SizeLink {
                    size,
                    url: url.set("page_size", size),
                    current: size == p.page_size,
                })
                .collect(),
        }
    }
}

/// A page URL with its query parameters, for links that change one of
/// them and keep the rest (filters, sort, page size).
#[derive(Debug, Clone, Default)]
pub struct QueryUrl {
    path: String,
    params: Vec<(String, String)>,
}

impl QueryUrl {
    pub fn new(path: impl Into<String>) -> QueryUrl {
        QueryUrl {
            path: path.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter; empty values are left out.
    pub fn with(mut self, key: &str, value: impl ToString) -> QueryUrl {
        let value = value.to_string();
        self.params.retain(|(k, _)| k != key);
        if !value.is_empty() {
            self.params.push((key.to_string(), value));
        }
        self
    }

    /// The URL with `key` set to `value` (other parameters kept).
    pub fn set(&self, key: &str, value: impl ToString) -> String {
        self.clone().with(key, value).to_string()
    }
}

impl std::fmt::Display for QueryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)?;
        let mut sep = '?';
        for (k, v) in &self.params {
            let k: String = form_urlencoded::byte_serialize(k.as_bytes()).collect();
            let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
            write!(f, "{sep}{k}={v}")?;
            sep = '&';
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_follows_adr_005() {
        let p = Pagination::new(Some(2), Some(10), 20, 25).unwrap();
        assert_eq!((p.pages(), p.range()), (3, 10..20));
        assert!(p.has_prev() && p.has_next());
        assert_eq!(p.label(), "Page 2 of 3 (25 items)");
        let last = Pagination::new(Some(9), Some(10), 20, 25).unwrap();
        assert_eq!((last.page, last.range()), (3, 20..25));
        assert!(!last.has_next());
        let empty = Pagination::new(None, None, 20, 0).unwrap();
        assert_eq!((empty.page, empty.range()), (1, 0..0));
        assert_eq!(empty.label(), "Page 1 of 1 (0 items)");
        assert_eq!(
            Pagination::new(None, None, 20, 1).unwrap().label(),
            "Page 1 of 1 (1 item)"
        );
        assert!(Pagination::new(None, Some(15), 20, 5).is_err());
        assert!(Pagination::new(Some(0), None, 20, 5).is_err());
    }

    #[test]
    fn query_urls_keep_other_parameters() {
        let u = QueryUrl::new("/patient/ICN1/notes")
            .with("author", "SMITH, J")
            .with("status", "")
            .with("page_size", 20);
        assert_eq!(
            u.to_string(),
            "/patient/ICN1/notes?author=SMITH%2C+J&page_size=20"
        );
        assert_eq!(
            u.set("page", 2),
            "/patient/ICN1/notes?author=SMITH%2C+J&page_size=20&page=2"
        );
        assert_eq!(
            u.set("page_size", 50),
            "/patient/ICN1/notes?author=SMITH%2C+J&page_size=50"
        );
    }
}
