//! Browser end-to-end tests: headless Debian chromium driven through
//! chromedriver (WebDriver), with axe-core accessibility checks and
//! screenshots saved as test artifacts.
//!
//! # Starting a browser
//!
//! [`Browser::start`] spawns its own `chromedriver` on a free loopback port
//! (in its own process group), opens a WebDriver session with a headless
//! chromium (`--headless=new --no-sandbox --disable-gpu
//! --disable-dev-shm-usage --window-size=1400,1000`, a fresh profile in a
//! temporary directory) and returns the [`Browser`]. Dropping it closes the
//! session, kills the process group (chromedriver and every chromium process,
//! by its PID) and deletes the directory. Each `Browser` is independent
//! (its own profile, cookies and storage), so a "two clients" test simply
//! starts two; several tests can run theirs in parallel. A start takes
//! 0.5–0.9 s on an idle 2-core machine (1.1–1.8 s with tests in parallel),
//! the first page load about 0.7 s more, the first axe check about 0.45 s
//! (later ones ~40 ms), and a drop about 0.1–0.2 s.
//!
//! The API is async (fantoccini underneath) and needs a tokio runtime: use
//! `#[tokio::test]`. Helpers **panic** with a message naming the selector
//! instead of returning errors, as test code wants; [`Browser::client`] gives
//! the raw [`fantoccini::Client`] for anything else.
//!
//! ```no_run
//! # async fn demo(base: &str) {
//! use std::time::Duration;
//! let Some(b) = browsertest::Browser::start().await else { return }; // skipped
//! b.goto(&format!("{base}/login")).await;
//! b.fill("#user", "alice").await;
//! b.press_key("Enter").await;
//! b.wait_text("h1", "Welcome", Duration::from_secs(5)).await;
//! b.screenshot("after-login").await;
//! b.assert_no_axe_violations("home page").await;
//! # }
//! ```
//!
//! # Skip or fail
//!
//! Like `pgtest`: when chromium, chromedriver or axe-core is missing,
//! [`Browser::start`] prints why and returns `None` so the test can return
//! early (skipped), unless `CI` (set, not empty, not `false`) or
//! `MEDZ1_REQUIRE_BROWSER` is set: then it panics, naming
//! `scripts/install-browser-tools.sh`, which installs all three.
//!
//! # Where things are found
//!
//! | what | from |
//! | --- | --- |
//! | chromium | `$MEDZ1_CHROMIUM`, else `chromium` on `PATH`, else `/usr/bin/chromium` |
//! | chromedriver | `$MEDZ1_CHROMEDRIVER`, else `chromedriver` on `PATH`, else `/usr/bin/chromedriver` |
//! | axe-core | `$MEDZ1_AXE_JS`, else the newest `$HOME/.cache/medz1-tools/axe-core-<version>/axe.min.js` |
//! | artifacts | [`artifacts_dir`]: `$MEDZ1_TEST_ARTIFACTS`, else `$CARGO_TARGET_DIR/test-artifacts`, else `<workspace>/target/test-artifacts` |
//!
//! # Screenshots
//!
//! [`Browser::screenshot`] writes `<artifacts>/browser/<test>--<name>.png`,
//! where `<test>` is the name of the test that started the browser (its
//! thread name, `::` turned into `.`) and is left out outside a test. A
//! browser dropped while its test panics saves `<test>--panic.png` first,
//! so a failing UI test always leaves a picture of what it saw.
//!
//! # Accessibility
//!
//! [`Browser::axe_check`] injects axe.min.js through WebDriver and runs
//! `axe.run()`. WebDriver's script execution is not subject to the page's
//! Content-Security-Policy, so this works on pages that allow only
//! `script-src 'self'` (the harness tests prove it) without weakening the
//! policy for the page's own scripts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde::Deserialize;
use serde_json::{Value, json};

pub use fantoccini;
pub use fantoccini::Locator;
pub use fantoccini::cookies::Cookie;
pub use fantoccini::elements::Element;

/// How long the find-based helpers ([`Browser::find`], [`Browser::click`],
/// [`Browser::fill`], [`Browser::text`], …) wait for their element by default.
/// Waits end as soon as the element is there, so a generous bound costs
/// nothing on a fast machine and avoids flakes on a loaded one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const POLL: Duration = Duration::from_millis(50);
const INSTALL_HINT: &str = "run scripts/install-browser-tools.sh";

/// One headless chromium with its own chromedriver. See the crate docs.
pub struct Browser {
    client: fantoccini::Client,
    driver: Child,
    port: u16,
    session: String,
    axe_js: PathBuf,
    test: Option<String>,
    label: Option<String>,
    timeout: Duration,
    /// Profile, TMPDIR and chromedriver's log; removed when dropped (after
    /// `Drop::drop` has killed the processes).
    _dir: tempfile::TempDir,
}

/// One axe-core rule that failed, with the elements that fail it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Violation {
    /// The rule id, e.g. `image-alt`, `label`, `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// One line saying what is required.
    pub help: String,
    /// Deque University page for the rule.
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    /// The failing elements.
    pub nodes: Vec<ViolationNode>,
}

/// An element that fails an axe rule.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ViolationNode {
    /// CSS selector of the element (parts inside shadow roots or frames joined by ` >>> `).
    pub target: String,
    /// The element's opening HTML.
    pub html: String,
    /// axe's explanation of how to fix it.
    pub summary: Option<String>,
}

impl Violation {
    /// True for `serious` and `critical`: what [`Browser::assert_no_axe_violations`] fails on.
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "[{}] {}: {} ({})",
            self.impact.as_deref().unwrap_or("?"),
            self.id,
            self.help,
            self.help_url
        )?;
        for n in &self.nodes {
            writeln!(f, "    at {}  {}", n.target, n.html)?;
        }
        Ok(())
    }
}

/// A message from the page's console (including the browser's own, such as
/// Content-Security-Policy violations), from [`Browser::console_log`].
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO` or `DEBUG`.
    pub level: String,
    pub message: String,
    /// `console-api`, `security`, `network`, `javascript`, …
    #[serde(default)]
    pub source: String,
}

// ---------------------------------------------------------------------------
// Finding the tools, skip-or-require policy, artifacts.

struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe_js: PathBuf,
}

fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("MEDZ1_REQUIRE_BROWSER").is_some()
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn find_exe(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(p) = env_path(var) {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{var}={} does not exist", p.display()))
        };
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(Path::new("/usr/bin").join(name)).filter(|p| p.is_file()))
        .ok_or_else(|| format!("{name} not found (set {var} or install it)"))
}

fn find_axe() -> Result<PathBuf, String> {
    if let Some(p) = env_path("MEDZ1_AXE_JS") {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("MEDZ1_AXE_JS={} does not exist", p.display()))
        };
    }
    let tools = env_path("HOME")
        .unwrap_or_else(|| PathBuf::from("/root"))
        .join(".cache/medz1-tools");
    let mut found: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir(&tools)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix("axe-core-")?;
            let key = version
                .split('.')
                .map(|p| p.parse::<u64>().ok())
                .collect::<Option<Vec<_>>>()?;
            let js = e.path().join("axe.min.js");
            js.is_file().then_some((key, js))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).ok_or_else(|| {
        format!(
            "axe-core not found (no {}/axe-core-<version>/axe.min.js; set MEDZ1_AXE_JS)",
            tools.display()
        )
    })
}

fn find_tools() -> Result<Tools, Vec<String>> {
    let chromium = find_exe("MEDZ1_CHROMIUM", "chromium");
    let chromedriver = find_exe("MEDZ1_CHROMEDRIVER", "chromedriver");
    let axe_js = find_axe();
    match (chromium, chromedriver, axe_js) {
        (Ok(chromium), Ok(chromedriver), Ok(axe_js)) => Ok(Tools {
            chromium,
            chromedriver,
            axe_js,
        }),
        (a, b, c) => Err([a.err(), b.err(), c.err()].into_iter().flatten().collect()),
    }
}

fn workspace_root() -> PathBuf {
    // crates/browsertest -> the workspace.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where test artifacts go: `$MEDZ1_TEST_ARTIFACTS`, else
/// `$CARGO_TARGET_DIR/test-artifacts`, else `<workspace>/target/test-artifacts`.
/// Relative paths are taken from the workspace root. Screenshots are under
/// `browser/` in it.
pub fn artifacts_dir() -> PathBuf {
    let dir = env_path("MEDZ1_TEST_ARTIFACTS")
        .or_else(|| env_path("CARGO_TARGET_DIR").map(|t| t.join("test-artifacts")))
        .unwrap_or_else(|| PathBuf::from("target/test-artifacts"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        workspace_root().join(dir)
    };
    // Tidy `crates/browsertest/../..` away when the directory exists.
    std::fs::create_dir_all(&dir).ok();
    dir.canonicalize().unwrap_or(dir)
}

/// Keeps only characters that are safe in a file name.
fn file_safe(s: &str) -> String {
    s.replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn current_test_name() -> Option<String> {
    let t = std::thread::current();
    let name = t.name()?;
    // Test threads are named after the test; `main` (harness = false, doc
    // tests) and runtime workers are not tests.
    (name != "main" && !name.starts_with("tokio-runtime-")).then(|| file_safe(name))
}

// ---------------------------------------------------------------------------
// A tiny blocking HTTP client for chromedriver, used where no async runtime
// can be relied on (start-up probing, Drop) and for vendor endpoints.

fn raw_http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    // Read the head, then exactly Content-Length bytes (or to EOF).
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(bad("connection closed before the response head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad("no status code"))?;
    let len = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    let mut body = buf.split_off(head_end);
    match len {
        Some(len) => {
            while body.len() < len {
                let mut chunk = vec![0u8; (len - body.len()).min(1 << 20)];
                let n = s.read(&mut chunk)?;
                if n == 0 {
                    return Err(bad("connection closed mid-body"));
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
        }
        None => {
            s.read_to_end(&mut body)?;
        }
    }
    Ok((status, body))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn tail(path: &Path, max: usize) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let start = s.len().saturating_sub(max);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    s[start..].to_string()
}

/// Kills a process group by its id (the leader's PID), with `kill(1)`: the
/// workspace denies `unsafe`, so no libc.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

// ---------------------------------------------------------------------------
// Keys.

/// Parses a key name for [`Browser::press_key`] into (modifiers, key).
fn parse_key(spec: &str) -> Result<(Vec<char>, char), String> {
    let parts: Vec<&str> = if spec == "+" {
        vec!["+"]
    } else if let Some(head) = spec.strip_suffix("++") {
        let mut v: Vec<&str> = head.split('+').collect();
        v.push("+");
        v
    } else {
        spec.split('+').collect()
    };
    let (last, mods) = parts.split_last().ok_or("empty key")?;
    let mut modifiers = Vec::new();
    let mut shift = false;
    for m in mods {
        let k = match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" => Key::Control,
            "shift" => {
                shift = true;
                Key::Shift
            }
            "alt" | "option" => Key::Alt,
            "meta" | "cmd" | "command" | "super" => Key::Meta,
            _ => return Err(format!("unknown modifier {m:?} in {spec:?}")),
        };
        modifiers.push(key_char(k));
    }
    let named = match last.to_ascii_lowercase().as_str() {
        "enter" => Some(Key::Enter),
        "return" => Some(Key::Return),
        "escape" | "esc" => Some(Key::Escape),
        "tab" => Some(Key::Tab),
        "backspace" => Some(Key::Backspace),
        "delete" | "del" => Some(Key::Delete),
        "insert" => Some(Key::Insert),
        "space" => Some(Key::Space),
        "arrowdown" | "down" => Some(Key::Down),
        "arrowup" | "up" => Some(Key::Up),
        "arrowleft" | "left" => Some(Key::Left),
        "arrowright" | "right" => Some(Key::Right),
        "home" => Some(Key::Home),
        "end" => Some(Key::End),
        "pageup" => Some(Key::PageUp),
        "pagedown" => Some(Key::PageDown),
        "f1" => Some(Key::F1),
        "f2" => Some(Key::F2),
        "f3" => Some(Key::F3),
        "f4" => Some(Key::F4),
        "f5" => Some(Key::F5),
        "f6" => Some(Key::F6),
        "f7" => Some(Key::F7),
        "f8" => Some(Key::F8),
        "f9" => Some(Key::F9),
        "f10" => Some(Key::F10),
        "f11" => Some(Key::F11),
        "f12" => Some(Key::F12),
        _ => None,
    };
    let key = match named {
        Some(k) => key_char(k),
        None => {
            let mut chars = last.chars();
            match (chars.next(), chars.next()) {
                // A letter with modifiers but no Shift is the lower-case key,
                // as a person pressing Ctrl+B produces `key == "b"`.
                (Some(c), None) if !modifiers.is_empty() && !shift => c.to_ascii_lowercase(),
                (Some(c), None) => c,
                _ => return Err(format!("unknown key {last:?} in {spec:?}")),
            }
        }
    };
    Ok((modifiers, key))
}

fn key_char(k: Key) -> char {
    k.chars().next().expect("key code")
}

// ---------------------------------------------------------------------------

static AXE_SOURCE: OnceLock<Result<String, String>> = OnceLock::new();

const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
const ctx = arguments[0] ? arguments[0] : document;
window.axe.run(ctx, { resultTypes: ['violations'] }).then(
  (r) => done({ ok: r.violations.map((v) => ({
    id: v.id, impact: v.impact || null, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map((t) => Array.isArray(t) ? t.join(' >>> ') : String(t)).join(' >>> '),
      html: n.html, summary: n.failureSummary || null,
    })),
  })) }),
  (e) => done({ err: String((e && e.stack) || e) }),
);
"#;

impl Browser {
    /// Starts chromedriver and a headless chromium session. Returns `None`
    /// (after printing why) when the tools are missing and not required; see
    /// the crate docs. Panics when they are there but fail to start.
    pub async fn start() -> Option<Browser> {
        Self::start_inner(None).await
    }

    /// Like [`start`](Self::start), for tests with several browsers: `label`
    /// (e.g. `"alice"`) goes into this browser's screenshot file names.
    pub async fn start_as(label: &str) -> Option<Browser> {
        Self::start_inner(Some(file_safe(label))).await
    }

    async fn start_inner(label: Option<String>) -> Option<Browser> {
        let tools = match find_tools() {
            Ok(t) => t,
            Err(missing) => {
                let why = missing.join("; ");
                if required() {
                    panic!(
                        "browser tests required (CI or MEDZ1_REQUIRE_BROWSER): {why}; {INSTALL_HINT}"
                    );
                }
                eprintln!("SKIPPED: browser test: {why} ({INSTALL_HINT})");
                return None;
            }
        };
        let test = current_test_name();
        let t0 = Instant::now();
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "medz1-browser-{}-",
                SEQ.fetch_add(1, Ordering::Relaxed)
            ))
            .tempdir()
            .expect("temp dir");
        let tmp = dir.path().join("tmp");
        let profile = dir.path().join("profile");
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        let log = dir.path().join("chromedriver.log");

        // Bind-then-release picks a free port; retry when chromedriver exits
        // because another process took it first.
        let mut started = None;
        for attempt in 0..5 {
            let port = free_port();
            let logf = std::fs::File::create(&log).expect("log file");
            let mut cmd = Command::new(&tools.chromedriver);
            cmd.arg(format!("--port={port}"))
                // chromium's own temp files (and --disable-dev-shm-usage's
                // shared memory) go into our directory, removed on drop.
                .env("TMPDIR", &tmp)
                .stdin(Stdio::null())
                .stdout(logf.try_clone().expect("log file"))
                .stderr(logf);
            // Its own process group: Drop kills chromedriver and every
            // chromium process it started with one signal.
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("{}: {e}", tools.chromedriver.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            let ready = loop {
                if child.try_wait().ok().flatten().is_some() {
                    break false;
                }
                let ok = raw_http(port, "GET", "/status", None, Duration::from_secs(2))
                    .ok()
                    .filter(|(code, _)| *code == 200)
                    .and_then(|(_, b)| serde_json::from_slice::<Value>(&b).ok())
                    .is_some_and(|v| v["value"]["ready"] == json!(true));
                if ok {
                    break true;
                }
                if Instant::now() > deadline {
                    kill_group(child.id());
                    let _ = child.wait();
                    panic!(
                        "chromedriver did not become ready in 30 s:\n{}",
                        tail(&log, 4000)
                    );
                }
                tokio::time::sleep(POLL).await;
            };
            if ready {
                started = Some((child, port));
                break;
            }
            kill_group(child.id());
            let _ = child.wait();
            if attempt == 4 {
                panic!("chromedriver failed to start:\n{}", tail(&log, 4000));
            }
        }
        let (driver, port) = started.expect("started");

        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "script": 60_000, "pageLoad": 60_000, "implicit": 0 },
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": [
                    "--headless=new",
                    // Required as root, and in containers without user namespaces.
                    "--no-sandbox",
                    "--disable-gpu",
                    // /dev/shm is often tiny in containers: use TMPDIR instead.
                    "--disable-dev-shm-usage",
                    "--window-size=1400,1000",
                    "--force-device-scale-factor=1",
                    "--hide-scrollbars",
                    "--lang=en-US",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-features=Translate,MediaRouter,OptimizationHints",
                    "--mute-audio",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                kill_group(driver.id());
                panic!(
                    "could not open a chromium session: {e}\n{}",
                    tail(&log, 4000)
                );
            }
        };
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("session id");
        let b = Browser {
            client,
            driver,
            port,
            session,
            axe_js: tools.axe_js,
            test,
            label,
            timeout: DEFAULT_TIMEOUT,
            _dir: dir,
        };
        eprintln!(
            "browsertest: chromium ready in {} ms (chromedriver on 127.0.0.1:{port}, pid {})",
            t0.elapsed().as_millis(),
            b.driver.id()
        );
        Some(b)
    }

    /// The raw WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &fantoccini::Client {
        &self.client
    }

    /// The chromedriver port (127.0.0.1).
    pub fn driver_port(&self) -> u16 {
        self.port
    }

    /// How long find-based helpers wait for their element (default
    /// [`DEFAULT_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    // -- navigation --------------------------------------------------------

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    pub async fn back(&self) {
        self.client.back().await.expect("back");
    }

    pub async fn refresh(&self) {
        self.client.refresh().await.expect("refresh");
    }

    // -- elements ----------------------------------------------------------

    /// The first element matching `css`, waiting up to the timeout for it to
    /// exist.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => return e,
                Err(e) if Instant::now() > deadline => {
                    panic!("no element matches {css:?} after {:?}: {e}", self.timeout)
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// All elements matching `css` now (no waiting; may be empty).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find_all {css:?}: {e}"))
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Clicks the element matching `css` once it is displayed.
    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css, self.timeout).await;
        e.click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.wait_for(css, self.timeout).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css:?}: {e}"))
    }

    /// An attribute of the element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("attribute {name} of {css:?}: {e}"))
    }

    /// The current `value` of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css:?}: {e}"))
            .unwrap_or_default()
    }

    /// Whether the focused element matches `css`.
    pub async fn focused_matches(&self, css: &str) -> bool {
        self.execute(
            "const a = document.activeElement; return !!a && a.matches(arguments[0]);",
            vec![json!(css)],
        )
        .await
            == json!(true)
    }

    // -- waiting -----------------------------------------------------------

    /// Waits until an element matching `css` exists and is displayed.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.client.find(Locator::Css(css)).await {
                Ok(e) => match e.is_displayed().await {
                    Ok(true) => return e,
                    Ok(false) => "present but not displayed".to_string(),
                    Err(err) => err.to_string(),
                },
                Err(err) => err.to_string(),
            };
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {css:?}: {last}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element matching `css` contains `needle` in its text;
    /// returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("<no element>");
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
            {
                if t.contains(needle) {
                    return t;
                }
                last = format!("{t:?}");
            }
            if Instant::now() > deadline {
                // Where the browser is helps tell a slow page from a wrong one.
                let url = self
                    .client
                    .current_url()
                    .await
                    .map_or_else(|e| format!("<unknown: {e}>"), |u| u.to_string());
                panic!(
                    "timed out after {timeout:?} waiting for {css:?} to contain {needle:?}; its text is {last}; the page is {url}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until no displayed element matches `css`.
    pub async fn wait_gone(&self, css: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let mut visible = false;
            match self.client.find_all(Locator::Css(css)).await {
                Ok(all) => {
                    for e in all {
                        // A stale element is gone.
                        if e.is_displayed().await.unwrap_or(false) {
                            visible = true;
                            break;
                        }
                    }
                }
                Err(_) => visible = true,
            }
            if !visible {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {css:?} to go away");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `cond` returns true, polling; `what` names it in the panic.
    ///
    /// ```no_run
    /// # async fn demo(b: &browsertest::Browser) {
    /// # use std::time::Duration;
    /// b.wait_until("focus on the search box", Duration::from_secs(2), async |b| {
    ///     b.focused_matches("#search").await
    /// })
    /// .await;
    /// # }
    /// ```
    pub async fn wait_until<F>(&self, what: &str, timeout: Duration, mut cond: F)
    where
        F: AsyncFnMut(&Browser) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self).await {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    // -- keyboard ----------------------------------------------------------

    /// Presses (down, then up) a key on whatever has focus, with optional
    /// modifiers: `"ArrowDown"`, `"Enter"`, `"Escape"`, `"Tab"`,
    /// `"Shift+Tab"`, `"Ctrl+B"`, `"Ctrl+Shift+K"`, `"a"`. Names are
    /// case-insensitive (`Up`/`ArrowUp`, `Esc`, `Del`, `F1`…`F12`, `Space`,
    /// `Home`, `End`, `PageUp`, `PageDown`, `Backspace`); modifiers are
    /// `Ctrl`/`Control`, `Shift`, `Alt`, `Meta`/`Cmd`. With a modifier but
    /// no Shift a letter is sent in lower case (`Ctrl+B` gives `key == "b"`,
    /// as a keyboard does).
    pub async fn press_key(&self, spec: &str) {
        let (mods, key) = parse_key(spec).unwrap_or_else(|e| panic!("press_key: {e}"));
        let mut seq = KeyActions::new("keyboard".into());
        for &m in &mods {
            seq = seq.then(KeyAction::Down { value: m });
        }
        seq = seq
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        for &m in mods.iter().rev() {
            seq = seq.then(KeyAction::Up { value: m });
        }
        self.client
            .perform_actions(seq)
            .await
            .unwrap_or_else(|e| panic!("press_key {spec:?}: {e}"));
    }

    /// Types `text` into whatever has focus.
    pub async fn type_text(&self, text: &str) {
        let mut seq = KeyActions::new("keyboard".into());
        for c in text.chars() {
            seq = seq
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client
            .perform_actions(seq)
            .await
            .unwrap_or_else(|e| panic!("type_text {text:?}: {e}"));
    }

    // -- scripts -----------------------------------------------------------

    /// Runs `js` as the body of a function (use `return`; arguments are
    /// `arguments[0..]`) and returns its result. Not subject to the page's CSP.
    pub async fn execute(&self, js: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(js, args)
            .await
            .unwrap_or_else(|e| panic!("execute script: {e}"))
    }

    /// Like [`execute`](Self::execute), but the script signals completion by
    /// calling its last argument (`arguments[arguments.length - 1](result)`).
    /// Times out after 60 s.
    pub async fn execute_async(&self, js: &str, args: Vec<Value>) -> Value {
        self.client
            .execute_async(js, args)
            .await
            .unwrap_or_else(|e| panic!("execute async script: {e}"))
    }

    // -- cookies -----------------------------------------------------------

    /// The cookies visible to the current page.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client.get_all_cookies().await.expect("cookies")
    }

    /// The value of the named cookie visible to the current page.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.cookies()
            .await
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_string())
    }

    pub async fn delete_cookie(&self, name: &str) {
        self.client
            .delete_cookie(name)
            .await
            .unwrap_or_else(|e| panic!("delete cookie {name}: {e}"));
    }

    pub async fn delete_all_cookies(&self) {
        self.client
            .delete_all_cookies()
            .await
            .expect("delete cookies");
    }

    // -- console -----------------------------------------------------------

    /// Takes (and clears) the console messages collected since the last call,
    /// including the browser's own, e.g. `Refused to execute inline script
    /// because it violates the following Content Security Policy directive…`.
    pub async fn console_log(&self) -> Vec<LogEntry> {
        let (port, path) = (self.port, format!("/session/{}/se/log", self.session));
        let res = tokio::task::spawn_blocking(move || {
            raw_http(
                port,
                "POST",
                &path,
                Some(&json!({ "type": "browser" })),
                Duration::from_secs(30),
            )
        })
        .await
        .expect("console log task");
        let (code, body) = res.unwrap_or_else(|e| panic!("console log: {e}"));
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(code == 200, "console log: HTTP {code}: {v}");
        serde_json::from_value(v["value"].clone()).unwrap_or_else(|e| panic!("console log: {e}"))
    }

    /// The `SEVERE` console messages since the last [`console_log`](Self::console_log) call
    /// (uncaught errors, failed loads, CSP violations).
    pub async fn console_errors(&self) -> Vec<LogEntry> {
        let mut v = self.console_log().await;
        v.retain(|e| e.level == "SEVERE");
        v
    }

    // -- artifacts ---------------------------------------------------------

    fn artifact_path(&self, name: &str) -> PathBuf {
        let mut stem: Vec<String> = Vec::new();
        stem.extend(self.test.clone());
        stem.extend(self.label.clone());
        let name = file_safe(name);
        if !name.is_empty() {
            stem.push(name);
        }
        if stem.is_empty() {
            stem.push("screenshot".into());
        }
        let dir = artifacts_dir().join("browser");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        dir.join(format!("{}.png", stem.join("--")))
    }

    /// Saves a PNG of the viewport as `<artifacts>/browser/<test>--[<label>--]<name>.png`,
    /// prints and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let path = self.artifact_path(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("browsertest: screenshot {}", path.display());
        path
    }

    // -- accessibility -----------------------------------------------------

    async fn inject_axe(&self) {
        let present = self
            .execute("return typeof window.axe === 'object';", vec![])
            .await;
        if present == json!(true) {
            return;
        }
        let src = AXE_SOURCE
            .get_or_init(|| {
                std::fs::read_to_string(&self.axe_js)
                    .map_err(|e| format!("{}: {e}", self.axe_js.display()))
            })
            .as_ref()
            .unwrap_or_else(|e| panic!("axe-core: {e} ({INSTALL_HINT})"));
        let ok = self
            .execute(
                &format!("{src}\n;return typeof window.axe === 'object';"),
                vec![],
            )
            .await;
        assert_eq!(ok, json!(true), "axe-core did not load into the page");
    }

    /// Runs axe-core on the current page and returns every violation (all
    /// impacts). `context` is a CSS selector to limit the check to (e.g.
    /// `"main"`), or `""` for the whole document.
    pub async fn axe_check(&self, context: &str) -> Vec<Violation> {
        self.inject_axe().await;
        let ctx = if context.is_empty() {
            Value::Null
        } else {
            json!(context)
        };
        let r = self.execute_async(AXE_RUN, vec![ctx]).await;
        if let Some(err) = r.get("err") {
            panic!("axe.run failed: {}", err.as_str().unwrap_or_default());
        }
        serde_json::from_value(r["ok"].clone()).unwrap_or_else(|e| panic!("axe results: {e}: {r}"))
    }

    /// Panics, after saving a screenshot named `axe-<what>`, when axe-core
    /// finds violations of impact `serious` or `critical` on the current page;
    /// prints lesser ones. `what` names the page in the messages.
    pub async fn assert_no_axe_violations(&self, what: &str) {
        let all = self.axe_check("").await;
        let (serious, minor): (Vec<_>, Vec<_>) = all.into_iter().partition(|v| v.is_serious());
        for v in &minor {
            eprint!("browsertest: axe on {what} (not failing): {v}");
        }
        if serious.is_empty() {
            return;
        }
        let shot = self.screenshot(&format!("axe-{what}")).await;
        let list: String = serious.iter().map(|v| v.to_string()).collect();
        panic!(
            "axe-core: {} serious/critical violation(s) on {what} (screenshot {}):\n{list}",
            serious.len(),
            shot.display()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let quick = Duration::from_secs(5);
        if std::thread::panicking() {
            // A failing test: keep a picture of what the browser showed.
            let shot = raw_http(
                self.port,
                "GET",
                &format!("/session/{}/screenshot", self.session),
                None,
                quick,
            )
            .ok()
            .and_then(|(_, b)| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v["value"].as_str()?)
                    .ok()
            });
            if let Some(png) = shot {
                let path = self.artifact_path("panic");
                if std::fs::write(&path, png).is_ok() {
                    eprintln!("browsertest: screenshot at the failure: {}", path.display());
                }
            }
        }
        // Ask chromium to quit (it then cleans up after itself), then make
        // sure: kill chromedriver's process group, chromium included.
        let _ = raw_http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
            quick,
        );
        kill_group(self.driver.id());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        let ctrl = key_char(Key::Control);
        let shift = key_char(Key::Shift);
        assert_eq!(parse_key("Ctrl+B").unwrap(), (vec![ctrl], 'b'));
        assert_eq!(parse_key("Ctrl+Shift+B").unwrap(), (vec![ctrl, shift], 'B'));
        assert_eq!(parse_key("B").unwrap(), (vec![], 'B'));
        assert_eq!(
            parse_key("ArrowDown").unwrap(),
            (vec![], key_char(Key::Down))
        );
        assert_eq!(
            parse_key("escape").unwrap(),
            (vec![], key_char(Key::Escape))
        );
        assert_eq!(
            parse_key("Shift+Tab").unwrap(),
            (vec![shift], key_char(Key::Tab))
        );
        assert_eq!(parse_key("Ctrl++").unwrap(), (vec![ctrl], '+'));
        assert_eq!(parse_key("+").unwrap(), (vec![], '+'));
        assert!(parse_key("Hyper+X").is_err());
        assert!(parse_key("Nope").is_err());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("tests::a b/c"), "tests.a_b_c");
    }
}
