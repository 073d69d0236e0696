//! Browser end-to-end tests: Debian's chromium driven over WebDriver
//! (`browsertest`), against the whole stack started by the launcher on a
//! small generated data set. Each test signs in as its own clinician (one
//! session per user). Screenshots land in the test artifacts directory;
//! axe-core checks the main screens.
//!
//! Tools come from `scripts/install-browser-tools.sh`; without them the
//! tests skip, except in CI.

use browsertest::Browser;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

const PASSWORD: &str = "browser-test-pass";
const WAIT: Duration = Duration::from_secs(10);
/// A "Refresh from VistA" round trip: the form post, the sites' simulated
/// latency (up to 3 s each, in parallel) and the page load, on a CI machine
/// running five browsers at once on two cores.
const REFRESH_WAIT: Duration = Duration::from_secs(60);

/// The demo data, generated once per test binary.
static DATA: OnceCell<(tempfile::TempDir, PathBuf)> = OnceCell::const_new();

async fn prepared() -> &'static Path {
    let (_, data) = DATA
        .get_or_init(|| async {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            medz1::up(&medz1::UpOptions {
                data: data.clone(),
                patients: 60,
                seed: 3,
                regenerate: false,
                progress: false,
            })
            .await
            .unwrap();
            // The ETL's connections close in the background; once they
            // have, SQLite has folded its write-ahead logs into the files.
            for _ in 0..100 {
                let wal = std::fs::read_dir(&data)
                    .unwrap()
                    .any(|e| e.unwrap().file_name().to_string_lossy().ends_with("-wal"));
                if !wal {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (dir, data)
        })
        .await;
    data
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "lake" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            match std::fs::copy(entry.path(), &target) {
                Ok(_) => {}
                // A log SQLite removed while we listed the directory.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("copying {}: {e}", entry.path().display()),
            }
        }
    }
}

struct Stack {
    running: Option<medz1::Running>,
    web: String,
    vault: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Stack {
    async fn start(session_timeout: Duration) -> Stack {
        let source = prepared().await;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        copy_dir(source, &data);
        let running = medz1::start(
            &data,
            medz1::Ports {
                web: 0,
                ccow: 0,
                vista: 0,
                xwb: 0,
            },
            &medz1::WebOptions {
                demo_password: PASSWORD.into(),
                bcrypt_cost: 4,
                session_timeout,
            },
        )
        .await
        .unwrap();
        Stack {
            web: format!("http://{}", running.web),
            vault: format!("http://{}", running.ccow),
            running: Some(running),
            data,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }
}

async fn browser(label: &str) -> Option<Browser> {
    let b = Browser::start_as(label).await;
    if b.is_none() {
        eprintln!(
            "skipped: chromium/chromedriver/axe not installed (scripts/install-browser-tools.sh)"
        );
    }
    b
}

async fn sign_in(b: &Browser, web: &str, email: &str) {
    b.goto(&format!("{web}/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("#sign-in").await;
    b.wait_for("#patient-header-container", WAIT).await;
}

async fn header_icn(b: &Browser) -> Option<String> {
    if b.exists("#patient-header-container .patient-header--active")
        .await
    {
        b.attr(
            "#patient-header-container .patient-header--active",
            "data-patient-icn",
        )
        .await
    } else {
        None
    }
}

/// Waits until every dashboard widget has left its loading state, and
/// checks none is in its error state.
async fn all_widgets_loaded(b: &Browser) {
    b.wait_for("#dashboard-grid", WAIT).await;
    b.wait_until("every widget loaded", WAIT, async |b| {
        !b.exists("#dashboard-grid .widget__body .state--loading")
            .await
    })
    .await;
    let errors = b.find_all("#dashboard-grid .state--error").await;
    assert!(errors.is_empty(), "a widget shows its error state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_search_select_dashboard_flags_and_sign_out() {
    let stack = Stack::start(Duration::from_secs(25 * 60)).await;
    let Some(b) = browser("alpha").await else {
        return stack.stop().await;
    };
    b.goto(&format!("{}/", stack.web)).await;
    b.wait_for("#email", WAIT).await;
    assert!(
        b.current_url().await.ends_with("/login"),
        "signed out: the sign-in page"
    );
    b.assert_no_axe_violations("sign-in page").await;
    b.screenshot("01-sign-in").await;

    sign_in(&b, &stack.web, "clinician.alpha@va.gov").await;
    b.wait_for("#dashboard-empty", WAIT).await;
    assert!(
        b.text("#patient-header-container")
            .await
            .contains("No patient selected")
    );
    assert!(
        b.text(".data-through")
            .await
            .contains("Data current through")
    );
    assert!(
        b.attr("#flags-button", "disabled").await.is_some(),
        "no patient: flags disabled"
    );
    b.assert_no_axe_violations("empty dashboard").await;

    // Search: live results from 2 characters, keyboard only.
    b.click("#select-patient-button").await;
    b.wait_for("#patient-search-input", WAIT).await;
    assert!(
        b.focused_matches("#patient-search-input").await,
        "focus moves into the modal"
    );
    b.type_text("d").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        b.text("#search-results")
            .await
            .contains("at least 2 characters")
    );
    b.type_text("ooree").await;
    b.wait_text("#search-results", "ICN100001", WAIT).await;
    b.assert_no_axe_violations("search modal").await;
    b.screenshot("02-search").await;
    b.press_key("ArrowDown").await;
    assert!(
        b.focused_matches(".search-result__button").await,
        "ArrowDown reaches the results"
    );
    // Pick Adam (the first result may be another Dooree).
    let buttons = b.find_all(".search-result__button").await;
    let mut index = None;
    for (i, btn) in buttons.iter().enumerate() {
        if btn.text().await.unwrap().contains("ICN100001") {
            index = Some(i);
        }
    }
    for _ in 0..index.expect("Adam is listed") {
        b.press_key("ArrowDown").await;
    }
    b.press_key("Enter").await;
    b.wait_for("#patient-header-container .patient-header--active", WAIT)
        .await;
    assert_eq!(header_icn(&b).await.as_deref(), Some("ICN100001"));
    let header = b.text("#patient-header-container").await;
    assert!(
        header.contains("ICN100001") && header.contains("***-**-"),
        "{header}"
    );

    // Every widget of the dashboard loads.
    all_widgets_loaded(&b).await;
    for key in [
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
    ] {
        let text = b.text(&format!("#widget-{key} .widget__body")).await;
        assert!(!text.trim().is_empty(), "widget {key} is empty");
    }
    b.assert_no_axe_violations("dashboard").await;
    b.screenshot("03-dashboard").await;

    // Sidebar: Ctrl+B collapses it (and remembers).
    b.press_key("Ctrl+B").await;
    b.wait_for("#layout.is-collapsed", WAIT).await;
    b.press_key("Ctrl+B").await;
    b.wait_gone("#layout.is-collapsed", WAIT).await;

    // Flags: a patient with a national flag and its history. Switch by ICN.
    b.click("#select-patient-button").await;
    b.click("input[name=search_type][value=icn]").await;
    b.fill("#patient-search-input", "1016V123456").await;
    b.wait_text("#search-results", "1016V123456", WAIT).await;
    b.click(".search-result__button").await;
    b.wait_for("#dashboard-grid[data-patient-icn='1016V123456']", WAIT)
        .await;
    all_widgets_loaded(&b).await;
    b.wait_for("#flags-badge", WAIT).await;
    assert!(b.attr("#flags-button", "disabled").await.is_none());
    b.click("#flags-button").await;
    b.wait_for("#flags-modal-body #flags-summary", WAIT).await;
    let national = b.text("#flags-modal-body").await;
    assert!(
        national.contains("National flags (Category I)"),
        "{national}"
    );
    assert!(national.contains("HIGH RISK FOR SUICIDE"), "{national}");
    // History loads when its section opens, with staff names shown.
    assert!(
        !b.exists("#flags-modal-body .history-entered-by").await,
        "lazy"
    );
    b.click("#flags-modal-body details[data-lazy-history] summary")
        .await;
    b.wait_text(
        "#flags-modal-body .flag-history",
        "Sensitive safety information",
        WAIT,
    )
    .await;
    let entered_by = b.text("#flags-modal-body .history-entered-by").await;
    assert!(
        !entered_by.trim().is_empty() && entered_by.trim() != "—",
        "names are shown: {entered_by:?}"
    );
    b.assert_no_axe_violations("flags modal").await;
    b.screenshot("04-flags").await;
    b.press_key("Escape").await;
    b.wait_gone("#flags-modal[open]", WAIT).await;

    // Sign out.
    b.click("#logout-button").await;
    b.wait_for("#login-notice", WAIT).await;
    assert!(b.text("#login-notice").await.contains("signed out"));
    b.screenshot("05-signed-out").await;
    b.goto(&format!("{}/", stack.web)).await;
    b.wait_for("#email", WAIT).await;
    drop(b);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_after_five_failures() {
    let stack = Stack::start(Duration::from_secs(25 * 60)).await;
    let Some(b) = browser("bravo").await else {
        return stack.stop().await;
    };
    for attempt in 1..=5 {
        b.goto(&format!("{}/login", stack.web)).await;
        b.fill("#email", "clinician.bravo@va.gov").await;
        b.fill("#password", "not-the-password").await;
        b.click("#sign-in").await;
        let msg = b.wait_for("#login-error", WAIT).await.text().await.unwrap();
        if attempt < 5 {
            assert!(msg.contains("Invalid email or password"), "{msg}");
        } else {
            assert!(
                msg.contains("Account locked after 5 failed sign-in attempts"),
                "{msg}"
            );
        }
    }
    b.screenshot("locked").await;
    // The right password does not get in while locked.
    b.fill("#password", PASSWORD).await;
    b.click("#sign-in").await;
    b.wait_text("#login-error", "Account locked", WAIT).await;
    b.assert_no_axe_violations("sign-in page with an error")
        .await;
    drop(b);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_a_context_change_made_by_another_application() {
    let stack = Stack::start(Duration::from_secs(25 * 60)).await;
    let Some(b) = browser("charlie").await else {
        return stack.stop().await;
    };
    sign_in(&b, &stack.web, "clinician.charlie@va.gov").await;
    b.click("#select-patient-button").await;
    b.fill("#patient-search-input", "ICN100001").await;
    b.click("input[name=search_type][value=icn]").await;
    b.wait_text("#search-results", "ICN100001", WAIT).await;
    b.click(".search-result__button").await;
    b.wait_for("#patient-header-container .patient-header--active", WAIT)
        .await;
    all_widgets_loaded(&b).await;
    b.wait_for("body[data-ccow-listening=true]", WAIT).await;

    // Another application of the same user (a second client, with its own
    // token from the web app's issuer) switches the patient in the vault.
    let store = store::Store::connect(&format!(
        "sqlite://{}",
        stack.data.join("serving.db").display()
    ))
    .await
    .unwrap();
    let user = store
        .user_by_email("clinician.charlie@va.gov")
        .await
        .unwrap()
        .unwrap();
    let issuer = identity::LocalIssuer::load_or_create(
        &stack.data.join("web-issuer.pem"),
        &format!("{}/oidc", stack.web),
        false,
    )
    .unwrap();
    let token = issuer
        .mint(&identity::MintRequest::new(&user.user_id))
        .unwrap();
    // Give the browser's event stream a moment to be established.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .put(format!("{}/ccow/active-patient", stack.vault))
        .bearer_auth(&token)
        .json(&serde_json::json!({"patient_id": "ICN100010", "set_by": "second-client"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    b.wait_until(
        "the header follows the vault",
        Duration::from_secs(3),
        async |b| header_icn(b).await.as_deref() == Some("ICN100010"),
    )
    .await;
    let followed = started.elapsed();
    assert!(
        followed < Duration::from_secs(2),
        "followed in {followed:?}"
    );
    eprintln!("the page followed the vault in {followed:?}");
    b.wait_for("#dashboard-grid[data-patient-icn=ICN100010]", WAIT)
        .await;
    all_widgets_loaded(&b).await;
    b.screenshot("followed").await;
    drop(b);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_times_out() {
    let stack = Stack::start(Duration::from_secs(3)).await;
    let Some(b) = browser("delta").await else {
        return stack.stop().await;
    };
    sign_in(&b, &stack.web, "clinician.delta@va.gov").await;
    b.wait_for("#dashboard-empty", WAIT).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    // An HTMX request of the idle page is sent to sign in again.
    b.click("#refresh-patient-button").await;
    b.wait_for("#login-notice", WAIT).await;
    assert!(b.text("#login-notice").await.contains("session expired"));
    b.screenshot("timed-out").await;
    drop(b);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_pages_and_refresh_from_vista() {
    let stack = Stack::start(Duration::from_secs(25 * 60)).await;
    let Some(b) = browser("echo").await else {
        return stack.stop().await;
    };
    sign_in(&b, &stack.web, "clinician.echo@va.gov").await;
    // A page by URL makes its patient the context (the topbar agrees).
    b.goto(&format!("{}/patient/ICN100001/vitals", stack.web))
        .await;
    b.wait_for("#patient-header-container .patient-header--active", WAIT)
        .await;
    assert_eq!(header_icn(&b).await.as_deref(), Some("ICN100001"));
    b.wait_for("#vista-refresh-vitals", WAIT).await;
    assert!(
        b.text(".vista-panel__status")
            .await
            .contains("Data current through")
    );
    b.assert_no_axe_violations("vitals page").await;
    b.click("#vista-refresh-vitals").await;
    // The form posts, the simulator answers within its per-site latency
    // (1-3 s) and the page comes back with today's rows in its table.
    b.wait_text(".vista-panel__status", "today", REFRESH_WAIT)
        .await;
    let row = b.wait_for("tr[data-vista-site='200']", WAIT).await;
    assert!(row.text().await.unwrap().contains("VistA (site 200)"));
    b.assert_no_axe_violations("vitals page after a VistA refresh")
        .await;
    b.screenshot("vitals-refreshed").await;
    // VistA rows take part in the filters: the pulse pill lists pulses
    // only, today's among them.
    b.click("a[data-vital-pill='P']").await;
    wait_param(&b, "vital_type", "P").await;
    let rows = b.find_all("tr[data-vital]").await;
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r.attr("data-vital").await.unwrap().as_deref(), Some("P"));
    }
    assert!(b.exists("tr[data-vista-site='200']").await, "a VistA pulse");
    // The answers are cached: the page shows them again on reload, and
    // the sort keeps the filter.
    choose(&b, "#vitals-sort", "oldest").await;
    wait_param(&b, "sort", "oldest").await;
    assert_eq!(param(&b, "vital_type").await.as_deref(), Some("P"));
    b.wait_text(".vista-panel__status", "today", WAIT).await;
    // The other refresh flows, each with the page's own filter.
    for domain in [
        "allergies",
        "medications",
        "encounters",
        "problems",
        "demographics",
    ] {
        b.goto(&format!("{}/patient/ICN100001/{domain}", stack.web))
            .await;
        let button = format!("#vista-refresh-{domain}");
        b.wait_for(&button, WAIT).await;
        b.click(&button).await;
        b.wait_text(".vista-panel__status", "today", REFRESH_WAIT)
            .await;
        let panel = b.text(".vista-panel").await;
        assert!(panel.contains("refreshed"), "{domain}: {panel}");
        assert!(!panel.contains("could not be read"), "{domain}: {panel}");
        if domain == "demographics" {
            let check = b
                .wait_for("#demo-vista-check", WAIT)
                .await
                .text()
                .await
                .unwrap();
            assert!(check.contains("VistA (site"), "{check}");
        } else {
            // "N entries from VistA …": when N > 0 they are in the list
            // (the simulator's records may all be duplicates of older
            // warehouse rows, which keep the warehouse's version).
            let listed: usize = panel
                .split("entr")
                .next()
                .and_then(|head| head.split_whitespace().last())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{domain}: no entry count in {panel}"));
            eprintln!("{domain}: {listed} entries from VistA");
            if listed > 0 {
                b.wait_for("[data-vista-site]", WAIT).await;
            }
        }
        b.assert_no_axe_violations(&format!("{domain} page after a VistA refresh"))
            .await;
    }
    b.screenshot("demographics-refreshed").await;
    // Every domain page renders and passes axe; the sidebar's short links
    // lead to the context patient's pages; each page's filters work by
    // clicking them.
    for domain in [
        "demographics",
        "tasks",
        "allergies",
        "history",
        "medications",
        "immunizations",
        "labs",
        "notes",
        "encounters",
        "problems",
    ] {
        b.goto(&format!("{}/{domain}", stack.web)).await;
        b.wait_for("main h1", WAIT).await;
        let url = b.current_url().await;
        assert!(
            url.ends_with(&format!("/patient/ICN100001/{domain}")),
            "{domain}: {url}"
        );
        b.assert_no_axe_violations(&format!("{domain} page")).await;
        match domain {
            "allergies" => {
                b.click("#allergies-include-inactive").await;
                wait_param(&b, "include_inactive", "true").await;
                b.wait_for("#allergies-include-inactive[aria-current]", WAIT)
                    .await;
            }
            "medications" => {
                // An HTMX form: the table is swapped and the URL pushed.
                choose(&b, "#med-type", "outpatient").await;
                wait_param(&b, "medication_type", "outpatient").await;
                b.wait_until("only outpatient rows", WAIT, async |b| {
                    let kinds = b
                        .execute(
                            "return [...document.querySelectorAll('tr[data-medication] td:nth-child(2) .badge:first-child')].map(e => e.textContent.trim())",
                            vec![],
                        )
                        .await;
                    kinds
                        .as_array()
                        .is_some_and(|k| !k.is_empty() && k.iter().all(|k| k == "Outpatient"))
                })
                .await;
            }
            "encounters" => {
                b.click("a[data-encounter-pill='active']").await;
                wait_param(&b, "filter", "active").await;
            }
            "problems" => {
                b.click("form:has(#problems-category) input[name='service_connected_only']")
                    .await;
                b.click("form:has(#problems-category) button[type='submit']")
                    .await;
                wait_param(&b, "service_connected_only", "true").await;
            }
            "labs" => choose_any(&b, "#labs-days").await,
            "notes" => choose_any(&b, "#notes-date").await,
            "immunizations" => choose_any(&b, "#imm-days").await,
            "history" => choose_any(&b, "#history-relationship").await,
            "tasks" => choose_any(&b, "select[name='priority']").await,
            _ => {}
        }
        assert!(
            !b.exists(".state--error").await,
            "{domain}: a filter led to an error state"
        );
        b.wait_for("main h1", WAIT).await;
    }
    b.screenshot("problems").await;
    drop(b);
    stack.stop().await;
}

/// The current page's query parameter `name`.
async fn param(b: &Browser, name: &str) -> Option<String> {
    b.execute(
        "return new URL(location.href).searchParams.get(arguments[0])",
        vec![serde_json::json!(name)],
    )
    .await
    .as_str()
    .map(str::to_string)
}

/// Waits until the page's URL carries `name=value`.
async fn wait_param(b: &Browser, name: &str, value: &str) {
    b.wait_until(&format!("{name}={value} in the URL"), WAIT, async |b| {
        param(b, name).await.as_deref() == Some(value)
    })
    .await;
}

/// Picks `value` in a filter's `<select>` and clicks its form's submit
/// button.
async fn choose(b: &Browser, select: &str, value: &str) {
    let ok = b
        .execute(
            "const s = document.querySelector(arguments[0]); \
             if (![...s.options].some(o => o.value === arguments[1])) return false; \
             s.value = arguments[1]; return true;",
            vec![serde_json::json!(select), serde_json::json!(value)],
        )
        .await;
    assert_eq!(ok, serde_json::json!(true), "{select} offers {value}");
    b.click(&format!("form:has({select}) button[type='submit']"))
        .await;
}

/// Picks a filter's last non-empty option, submits, and checks that the
/// page came back with it in the URL and still selected.
async fn choose_any(b: &Browser, select: &str) {
    let picked = b
        .execute(
            "const s = document.querySelector(arguments[0]); \
             const o = [...s.options].reverse().find(o => o.value !== '' && !o.disabled && !o.selected); \
             return o ? [s.name, o.value] : null;",
            vec![serde_json::json!(select)],
        )
        .await;
    let Some([name, value]) = picked.as_array().map(|a| [a[0].clone(), a[1].clone()]) else {
        panic!("{select} offers no other choice");
    };
    let (name, value) = (name.as_str().unwrap(), value.as_str().unwrap());
    choose(b, select, value).await;
    wait_param(b, name, value).await;
    b.wait_for(select, WAIT).await;
    assert_eq!(b.value(select).await, value, "{select} keeps the choice");
}
