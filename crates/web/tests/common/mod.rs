//! Test harness: the app on 127.0.0.1:0 over a fresh serving DB (SQLite
//! in a temp dir, or a database in a throwaway PostgreSQL cluster), demo
//! clinicians seeded with a cheap bcrypt cost, and an HTTP client that
//! keeps cookies and sends the CSRF token.
#![allow(dead_code)]

pub mod fixture;

/// Runs a test body on SQLite and on PostgreSQL (skipped when PostgreSQL
/// is unavailable outside CI).
#[allow(unused_macros)]
macro_rules! on_both {
    ($name:ident, $tweak:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::common::start_on(crate::common::Db::Sqlite, $tweak)
                    .await
                    .expect("sqlite");
                super::$name(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = crate::common::start_on(crate::common::Db::Postgres, $tweak).await
                else {
                    eprintln!("skipped: PostgreSQL not available");
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    };
}

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use store::{ServingStore, Store};
use web::AppState;
use web::config::Config;

pub const PASSWORD: &str = "test-password-1";
pub const ALPHA: &str = "clinician.alpha@va.gov";
pub const BRAVO: &str = "clinician.bravo@va.gov";

/// Which serving backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL cluster shared by the tests running at the same time.
/// Each test app holds it; when the last one stops, the cluster stops (a
/// `static` owner would never be dropped and would leave the server running
/// after the test binary exits).
static CLUSTER: Mutex<Weak<pgtest::Cluster>> = Mutex::new(Weak::new());

fn cluster() -> Option<Arc<pgtest::Cluster>> {
    let mut shared = CLUSTER.lock().expect("cluster");
    if let Some(c) = shared.upgrade() {
        return Some(c);
    }
    let c = Arc::new(pgtest::Cluster::start()?);
    *shared = Arc::downgrade(&c);
    Some(c)
}

/// A fresh store on `db`, with the cluster it lives in (keep it alive as
/// long as the store); `None` when PostgreSQL is not available (and not
/// required).
pub async fn store_in(
    db: Db,
    dir: &std::path::Path,
) -> Option<(Store, Option<Arc<pgtest::Cluster>>)> {
    let (url, cluster) = match db {
        Db::Sqlite => (
            format!("sqlite://{}", dir.join("serving.db").display()),
            None,
        ),
        Db::Postgres => {
            let cluster = cluster()?;
            let name = format!("web_{}", uuid::Uuid::new_v4().simple());
            (cluster.create_database(&name), Some(cluster))
        }
    };
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    Some((store, cluster))
}

/// A fresh SQLite store in `dir`.
pub async fn sqlite_store(dir: &std::path::Path) -> Store {
    store_in(Db::Sqlite, dir).await.expect("sqlite").0
}

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// Keeps a PostgreSQL store's cluster running.
    _cluster: Option<Arc<pgtest::Cluster>>,
}

impl TestApp {
    pub fn store(&self) -> &Store {
        self.state.store()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client signed in as `email`.
    pub async fn signed_in(&self, email: &str) -> Client {
        let mut c = self.client();
        let r = c.login(email, PASSWORD).await;
        assert_eq!(r.status(), 303, "login of {email} failed");
        c
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// The test configuration: no vault unless set, cheap bcrypt.
pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::development(dir);
    c.bind = ([127, 0, 0, 1], 0).into();
    c.ccow_url = None;
    c.vista_url = None;
    c.login.bcrypt_cost = 4;
    c
}

/// Starts the app on SQLite with the fixture loaded.
pub async fn start() -> TestApp {
    start_on(Db::Sqlite, |_| {}).await.expect("sqlite")
}

/// Starts the app on `db` with the fixture loaded, after `tweak` adjusts
/// the configuration. `None` when the backend is unavailable.
pub async fn start_on(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, cluster) = store_in(db, dir.path()).await?;
    fixture::load(&store).await;
    let mut app = start_with_store(dir, store, tweak).await;
    app._cluster = cluster;
    Some(app)
}

pub async fn start_with_store(
    dir: tempfile::TempDir,
    store: Store,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = config(dir.path());
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    config.public_url = format!("http://{addr}");
    let cost = config.login.bcrypt_cost;
    let state = web::build_with_store(config, store).await.expect("build");
    web::seed::demo_users(state.store(), PASSWORD, cost)
        .await
        .expect("seed");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(web::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        addr,
        state,
        dir,
        stop: Some(tx),
        task: Some(task),
        _cluster: None,
    }
}

/// A browser-like client: cookies, no redirects followed, CSRF token sent
/// on state-changing requests once known.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .user_agent("medz1-web-tests")
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: base.to_string(),
            csrf: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The sign-in form's CSRF token (and its cookie, kept by the jar).
    pub async fn login_token(&self) -> String {
        let body = self
            .http
            .get(self.url("/login"))
            .send()
            .await
            .expect("GET /login")
            .text()
            .await
            .expect("body");
        extract(&body, "name=\"csrf_token\" value=\"", "\"").expect("login csrf token")
    }

    /// Posts the sign-in form; on success learns the session's CSRF token.
    pub async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        let token = self.login_token().await;
        let r = self
            .http
            .post(self.url("/login"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .expect("POST /login");
        if r.status() == 303 {
            self.refresh_csrf().await;
        }
        r
    }

    /// Reads the session's CSRF token from the dashboard.
    pub async fn refresh_csrf(&mut self) {
        let body = self.get("/").await.text().await.expect("body");
        self.csrf = extract(&body, "\"X-CSRF-Token\": \"", "\"");
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// A GET as HTMX sends it.
    pub async fn htmx_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET")
    }

    /// A form post as HTMX sends it (CSRF header included).
    pub async fn htmx_post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut rb = self
            .http
            .post(self.url(path))
            .header("HX-Request", "true")
            .form(form);
        if let Some(t) = &self.csrf {
            rb = rb.header("X-CSRF-Token", t);
        }
        rb.send().await.expect("POST")
    }

    /// A plain form post with the token in the `csrf_token` field.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if let Some(t) = &self.csrf {
            fields.push(("csrf_token", t));
        }
        self.http
            .post(self.url(path))
            .form(&fields)
            .send()
            .await
            .expect("POST")
    }
}

/// The text between `start` and the next `end`.
pub fn extract(body: &str, start: &str, end: &str) -> Option<String> {
    let i = body.find(start)? + start.len();
    let j = body[i..].find(end)? + i;
    Some(body[i..j].to_string())
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
