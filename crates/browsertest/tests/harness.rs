//! Exercises the harness against a tiny axum site served from the test:
//! pages under a strict Content-Security-Policy (`script-src 'self'`) with an
//! external script, a form, keyboard handling, and a deliberately
//! inaccessible page.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Form;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use browsertest::Browser;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const WAIT: Duration = Duration::from_secs(10);

fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        body,
    )
        .into_response()
}

fn page(title: &str, main: &str) -> Response {
    html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>{title}</h1></header>
<main>
{main}
</main>
</body>
</html>"#
    ))
}

const HOME: &str = r#"
<form method="post" action="/submit">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" autocomplete="name">
  <button id="save" type="submit">Save</button>
</form>
<h2>Patients</h2>
<ul id="list" role="listbox" aria-label="Patients">
  <li id="item-1" role="option" tabindex="0" aria-selected="false">Alpha</li>
  <li id="item-2" role="option" tabindex="-1" aria-selected="false">Bravo</li>
  <li id="item-3" role="option" tabindex="-1" aria-selected="false">Charlie</li>
</ul>
<p>Selected: <output id="selected">none</output></p>
<p>Keys: <output id="keys"></output></p>
<button id="open" type="button">Open panel</button>
<div id="panel" role="dialog" aria-label="Panel" hidden>
  <p>Press Escape to close.</p>
</div>
"#;

const APP_JS: &str = r#"
document.body.dataset.js = 'ok';
const keys = document.getElementById('keys');
const panel = document.getElementById('panel');
document.addEventListener('keydown', (e) => {
  if (['Control', 'Shift', 'Alt', 'Meta'].includes(e.key)) return;
  const mods = (e.ctrlKey ? 'Control+' : '') + (e.shiftKey ? 'Shift+' : '') + (e.altKey ? 'Alt+' : '');
  keys.textContent += (keys.textContent ? ' ' : '') + mods + e.key;
  if (e.key === 'Escape' && panel) panel.hidden = true;
});
const open = document.getElementById('open');
if (open) open.addEventListener('click', () => { panel.hidden = false; });
const list = document.getElementById('list');
if (list) {
  const items = [...list.querySelectorAll('[role=option]')];
  list.addEventListener('keydown', (e) => {
    const i = items.indexOf(document.activeElement);
    if (i < 0) return;
    let next = i;
    if (e.key === 'ArrowDown') next = Math.min(i + 1, items.length - 1);
    else if (e.key === 'ArrowUp') next = Math.max(i - 1, 0);
    else if (e.key === 'Enter') {
      items.forEach((it) => it.setAttribute('aria-selected', String(it === items[i])));
      document.getElementById('selected').textContent = items[i].textContent;
      return;
    } else return;
    e.preventDefault();
    items[i].tabIndex = -1;
    items[next].tabIndex = 0;
    items[next].focus();
  });
}
"#;

const APP_CSS: &str = "body { font-family: sans-serif; color: #111; background: #fff; margin: 2rem; }\n\
                       [role=option]:focus { outline: 3px solid #005fcc; }\n\
                       .faint { color: #eee; }";

const BAD: &str = r#"
<div id="ok-part"><p>This part is fine.</p></div>
<img src="/pixel.png">
<input type="text" id="nolabel">
<p class="faint">low contrast</p>
"#;

async fn submit(Form(f): Form<HashMap<String, String>>) -> Response {
    let name = f.get("name").cloned().unwrap_or_default();
    let shown: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut r = page(
        "Saved",
        &format!(r#"<p id="result">Saved: {shown}</p><a href="/">Back</a>"#),
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        format!("seen={shown}; Path=/; SameSite=Lax")
            .parse()
            .expect("cookie"),
    );
    r
}

/// A 1x1 PNG.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Serves the site on a free loopback port; returns its base URL.
async fn serve() -> String {
    let app = Router::new()
        .route("/", get(|| async { page("Home", HOME) }))
        .route("/bad", get(|| async { page("Bad", BAD) }))
        .route(
            "/inline",
            get(|| async {
                page(
                    "Inline",
                    "<p>An inline script the CSP must block:</p>\
                     <script>document.body.dataset.inline = 'ran';</script>",
                )
            }),
        )
        .route("/submit", axum::routing::post(submit))
        .route(
            "/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], APP_JS) }),
        )
        .route(
            "/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], APP_CSS) }),
        )
        .route(
            "/pixel.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], PIXEL) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

#[tokio::test]
async fn csp_page_runs_its_script_and_passes_axe() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/")).await;
    b.wait_for("body[data-js=ok]", WAIT).await;
    assert_eq!(b.title().await, "Home");
    // WebDriver-injected axe runs although the page allows only 'self' scripts.
    let violations = b.axe_check("").await;
    assert!(
        violations.is_empty(),
        "accessible page has violations: {violations:#?}"
    );
    b.assert_no_axe_violations("home").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the home page logs errors: {errors:#?}");
}

#[tokio::test]
async fn the_csp_is_enforced_and_reported_in_the_console() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/inline")).await;
    b.wait_for("body[data-js=ok]", WAIT).await;
    let inline = b
        .execute("return document.body.dataset.inline || null;", vec![])
        .await;
    assert!(inline.is_null(), "the inline script ran: CSP not enforced");
    let errors = b.console_errors().await;
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("Content Security Policy")),
        "no CSP violation in the console: {errors:#?}"
    );
    // axe still injects and runs under this CSP.
    assert!(b.axe_check("").await.is_empty());
}

#[tokio::test]
async fn axe_finds_violations_on_an_inaccessible_page() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/bad")).await;
    let violations = b.axe_check("").await;
    let ids: Vec<&str> = violations.iter().map(|v| v.id.as_str()).collect();
    for want in ["image-alt", "label", "color-contrast"] {
        assert!(ids.contains(&want), "axe missed {want}: {ids:?}");
    }
    let img = violations.iter().find(|v| v.id == "image-alt").unwrap();
    assert_eq!(img.impact.as_deref(), Some("critical"));
    assert_eq!(img.nodes[0].target, "img");
    // A context limits the check.
    assert!(b.axe_check("#ok-part").await.is_empty());

    // The assertion fails, listing the rules, after saving a screenshot.
    let shot = browsertest::artifacts_dir()
        .join("browser")
        .join("axe_finds_violations_on_an_inaccessible_page--axe-bad-page.png");
    let _ = std::fs::remove_file(&shot);
    let res = tokio::spawn(async move {
        b.assert_no_axe_violations("bad-page").await;
    })
    .await;
    let panic = res.expect_err("assert_no_axe_violations passed a bad page");
    let msg = panic
        .into_panic()
        .downcast::<String>()
        .map(|s| *s)
        .unwrap_or_default();
    assert!(
        msg.contains("image-alt") && msg.contains("label"),
        "message: {msg}"
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
}

#[tokio::test]
async fn form_fill_submit_and_cookies() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/")).await;
    b.fill("#name", "Ada").await;
    assert_eq!(b.value("#name").await, "Ada");
    b.fill("#name", "Grace").await; // fill replaces
    b.click("#save").await;
    let text = b.wait_text("#result", "Saved:", WAIT).await;
    assert_eq!(text, "Saved: Grace");
    assert_eq!(b.current_url().await, format!("{base}/submit"));
    assert_eq!(b.cookie("seen").await.as_deref(), Some("Grace"));
    b.delete_cookie("seen").await;
    assert_eq!(b.cookie("seen").await, None);
    b.back().await;
    b.wait_for("#name", WAIT).await;
}

#[tokio::test]
async fn keyboard_navigation() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/")).await;
    b.wait_for("body[data-js=ok]", WAIT).await;

    // Listbox: focus the first option, ArrowDown twice, ArrowUp, Enter.
    b.click("#item-1").await;
    assert!(b.focused_matches("#item-1").await);
    b.press_key("ArrowDown").await;
    b.press_key("ArrowDown").await;
    b.wait_until("focus on the third option", WAIT, async |b| {
        b.focused_matches("#item-3").await
    })
    .await;
    b.press_key("ArrowUp").await;
    b.press_key("Enter").await;
    b.wait_text("#selected", "Bravo", WAIT).await;
    assert_eq!(
        b.attr("#item-2", "aria-selected").await.as_deref(),
        Some("true")
    );

    // Shortcuts with modifiers reach the page as a keyboard sends them.
    b.press_key("Ctrl+B").await;
    b.press_key("Ctrl+Shift+K").await;
    b.wait_text("#keys", "Control+b", WAIT).await;
    b.wait_text("#keys", "Control+Shift+K", WAIT).await;

    // Tab moves focus on; Escape closes the panel.
    b.click("#open").await;
    b.wait_for("#panel", WAIT).await;
    b.press_key("Escape").await;
    b.wait_gone("#panel", WAIT).await;

    // Typing goes to the focused field.
    b.click("#name").await;
    b.type_text("Lin").await;
    assert_eq!(b.value("#name").await, "Lin");
    b.press_key("Shift+Tab").await;
    assert!(!b.focused_matches("#name").await);
}

#[tokio::test]
async fn screenshot_is_a_png_named_after_the_test() {
    let base = serve().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&format!("{base}/")).await;
    b.wait_for("body[data-js=ok]", WAIT).await;
    let path = b.screenshot("home").await;
    assert!(path.starts_with(browsertest::artifacts_dir().join("browser")));
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        "screenshot_is_a_png_named_after_the_test--home.png"
    );
    let png = std::fs::read(&path).expect("screenshot file");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // IHDR width and height: the 1400x1000 window.
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(w, 1400, "width");
    assert!(h > 500 && h <= 1000, "height {h}");
}

#[tokio::test]
async fn two_browsers_at_once_are_independent() {
    let base = serve().await;
    let t0 = Instant::now();
    let (alice, bob) = tokio::join!(Browser::start_as("alice"), Browser::start_as("bob"));
    let (Some(alice), Some(bob)) = (alice, bob) else {
        return;
    };
    eprintln!("two browsers started in {} ms", t0.elapsed().as_millis());
    assert_ne!(alice.driver_port(), bob.driver_port());

    let home = format!("{base}/");
    tokio::join!(alice.goto(&home), bob.goto(&home));
    alice.fill("#name", "Alice").await;
    alice.click("#save").await;
    alice.wait_text("#result", "Alice", WAIT).await;
    assert_eq!(alice.cookie("seen").await.as_deref(), Some("Alice"));

    // Bob's browser has its own profile: no cookie, his own page state.
    bob.refresh().await;
    assert_eq!(bob.cookie("seen").await, None);
    assert!(bob.exists("#name").await);
    bob.fill("#name", "Bob").await;
    bob.click("#save").await;
    bob.wait_text("#result", "Bob", WAIT).await;
    assert_eq!(alice.cookie("seen").await.as_deref(), Some("Alice"));

    let a = alice.screenshot("result").await;
    let b = bob.screenshot("result").await;
    assert_ne!(a, b);
    assert!(a.ends_with("two_browsers_at_once_are_independent--alice--result.png"));
    assert!(a.is_file() && b.is_file());
}
