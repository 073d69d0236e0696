//! Templates and the view models they render. Templates live in the
//! workspace's `templates/` (see `askama.toml`); every value is escaped
//! unless a field is named `*_html` and was itself rendered by a template.

use crate::AppState;
use crate::auth::CurrentUser;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Html;
use chrono::NaiveDate;
use domain::record::Demographics;

/// Renders a template; a template error becomes a plain 500 page (logged).
pub fn render<T: Template>(t: &T) -> Html<String> {
    match t.render() {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            Html("<!doctype html><title>Error</title><p>Something went wrong.</p>".into())
        }
    }
}

/// Renders a template into a string for embedding into another one.
pub fn render_string<T: Template>(t: &T) -> String {
    render(t).0
}

/// One entry of the sidebar.
pub struct NavItem {
    pub key: &'static str,
    pub label: &'static str,
    /// Short-redirect path (`/vitals` → the CCOW patient's page); `None`
    /// for domains that do not exist yet (shown disabled).
    pub href: Option<&'static str>,
    pub icon: &'static str,
}

/// The sidebar, in the reference's order.
pub const NAV: &[NavItem] = &[
    NavItem {
        key: "dashboard",
        label: "Dashboard",
        href: Some("/"),
        icon: "grid",
    },
    NavItem {
        key: "demographics",
        label: "Demographics",
        href: Some("/demographics"),
        icon: "user",
    },
    NavItem {
        key: "tasks",
        label: "Tasks",
        href: Some("/tasks"),
        icon: "check",
    },
    NavItem {
        key: "vitals",
        label: "Vitals",
        href: Some("/vitals"),
        icon: "heart",
    },
    NavItem {
        key: "allergies",
        label: "Allergies",
        href: Some("/allergies"),
        icon: "alert",
    },
    NavItem {
        key: "history",
        label: "Family history",
        href: Some("/history"),
        icon: "users",
    },
    NavItem {
        key: "medications",
        label: "Medications",
        href: Some("/medications"),
        icon: "pill",
    },
    NavItem {
        key: "immunizations",
        label: "Immunizations",
        href: Some("/immunizations"),
        icon: "shield",
    },
    NavItem {
        key: "labs",
        label: "Labs",
        href: Some("/labs"),
        icon: "flask",
    },
    NavItem {
        key: "notes",
        label: "Notes",
        href: Some("/notes"),
        icon: "file",
    },
    NavItem {
        key: "encounters",
        label: "Encounters",
        href: Some("/encounters"),
        icon: "bed",
    },
    NavItem {
        key: "orders",
        label: "Orders",
        href: None,
        icon: "list",
    },
    NavItem {
        key: "procedures",
        label: "Procedures",
        href: None,
        icon: "scissors",
    },
    NavItem {
        key: "problems",
        label: "Problems",
        href: Some("/problems"),
        icon: "clipboard",
    },
    NavItem {
        key: "imaging",
        label: "Imaging",
        href: None,
        icon: "image",
    },
];

/// What every page around the content needs.
pub struct Shell {
    pub user_name: String,
    pub csrf_token: String,
    /// The rendered patient header (topbar).
    pub header_html: String,
    /// "Data current through …", from the last ETL run.
    pub current_through: Option<String>,
    /// The sidebar key of this page.
    pub active: &'static str,
    pub nav: &'static [NavItem],
}

impl Shell {
    pub async fn new(
        app: &AppState,
        user: &CurrentUser,
        header: &HeaderView,
        active: &'static str,
    ) -> Shell {
        Shell {
            user_name: user.display_name.clone(),
            csrf_token: user.csrf_token.clone(),
            header_html: render_string(&HeaderPartial { header }),
            current_through: current_through(app).await,
            active,
            nav: NAV,
        }
    }
}

/// The as-of date of the newest succeeded ETL run, for "data current
/// through"; `None` when there is none or the DB does not answer.
pub async fn current_through(app: &AppState) -> Option<String> {
    use store::ServingStore;
    match app.store().latest_succeeded_run().await {
        Ok(Some(run)) => Some(run.as_of.format("%Y-%m-%d").to_string()),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "reading the latest ETL run");
            None
        }
    }
}

/// The topbar's patient header.
#[derive(Debug, Clone, Default)]
pub struct HeaderView {
    pub patient: Option<PatientHeader>,
    /// Whether the context is shared through the vault.
    pub shared: bool,
}

#[derive(Debug, Clone)]
pub struct PatientHeader {
    pub icn: String,
    pub name: String,
    pub sex: String,
    pub age: String,
    pub dob: String,
    pub ssn_masked: String,
    pub station: String,
    pub deceased: bool,
    pub death_date: String,
    pub active_flags: usize,
    pub overdue_flags: usize,
}

impl PatientHeader {
    pub fn new(d: &Demographics, active_flags: usize, overdue_flags: usize) -> PatientHeader {
        let station = site_label(
            d.primary_station.as_deref(),
            d.primary_station_name.as_deref(),
        );
        PatientHeader {
            icn: d.icn.clone(),
            name: d
                .name_display
                .clone()
                .unwrap_or_else(|| "(name unknown)".into()),
            sex: d.sex.clone().unwrap_or_else(|| "—".into()),
            age: d.age.map(|a| a.to_string()).unwrap_or_else(|| "—".into()),
            dob: date(d.dob),
            ssn_masked: mask_ssn(d.ssn_last4.as_deref()),
            station,
            deceased: d.deceased_flag.as_deref() == Some("Y") || d.death_date.is_some(),
            death_date: date(d.death_date),
            active_flags,
            overdue_flags,
        }
    }
}

/// A station for display: `508 (Atlanta VAMC)`, or just the name when it
/// already carries the number (Dim.Sta3n writes `(508) Atlanta, GA`).
pub fn site_label(code: Option<&str>, name: Option<&str>) -> String {
    match (
        code.filter(|c| !c.is_empty()),
        name.filter(|n| !n.is_empty()),
    ) {
        (Some(c), Some(n)) if n.contains(c) => n.to_string(),
        (Some(c), Some(n)) => format!("{c} ({n})"),
        (Some(c), None) => c.to_string(),
        (None, Some(n)) => n.to_string(),
        (None, None) => "—".into(),
    }
}

/// `***-**-1234`; never more than the last four digits.
pub fn mask_ssn(last4: Option<&str>) -> String {
    match last4 {
        Some(l) if !l.is_empty() => format!("***-**-{l}"),
        _ => "***-**-****".into(),
    }
}

pub fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_and_ssns() {
        assert_eq!(
            site_label(Some("508"), Some("Atlanta VAMC")),
            "508 (Atlanta VAMC)"
        );
        assert_eq!(
            site_label(Some("508"), Some("(508) Atlanta, GA")),
            "(508) Atlanta, GA"
        );
        assert_eq!(site_label(None, None), "—");
        assert_eq!(site_label(Some(""), Some("X")), "X");
        assert_eq!(mask_ssn(Some("1234")), "***-**-1234");
        assert_eq!(mask_ssn(None), "***-**-****");
    }
}

#[derive(Template)]
#[template(path = "partials/patient_header.html")]
pub struct HeaderPartial<'a> {
    pub header: &'a HeaderView,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub error: Option<String>,
    pub notice: Option<String>,
    pub email: String,
    pub csrf_token: String,
    pub next: Option<String>,
    pub demo_hint: bool,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "partials/error.html")]
pub struct ErrorFragment<'a> {
    pub message: &'a str,
}

pub fn error_fragment(message: &str) -> Html<String> {
    render(&ErrorFragment { message })
}

pub fn error_page(_app: &AppState, status: StatusCode, message: &str) -> Html<String> {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found".to_string(),
        StatusCode::FORBIDDEN => "Not allowed".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable".to_string(),
        s => s.canonical_reason().unwrap_or("Error").to_string(),
    };
    render(&ErrorPage {
        status: status.as_u16(),
        title,
        message: message.to_string(),
    })
}
