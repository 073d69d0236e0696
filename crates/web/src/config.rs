//! The web app's configuration: a typed value, read once in the binary (or
//! built by the launcher and tests).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Development password of the demo clinicians when `MEDZ1_DEMO_PASSWORD`
/// is not set. Documented in the README; refused in production.
pub const DEV_DEMO_PASSWORD: &str = "medz1-demo";

/// Development key of the session introspection endpoint the vault calls.
pub const DEV_INTROSPECTION_KEY: &str = "medz1-introspection-dev-key";

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// The URL browsers use to reach the app; the embedded issuer's `iss`
    /// is `{public_url}/oidc`.
    pub public_url: String,
    /// Serving DB: `sqlite://PATH` (default) or `postgres://…`.
    pub database_url: String,
    /// Where the embedded issuer keeps its key (`web-issuer.pem`).
    pub data_dir: PathBuf,
    /// The CCOW vault's base URL; `None` runs without shared context.
    pub ccow_url: Option<String>,
    /// `aud` of the tokens minted for the vault.
    pub ccow_audience: Option<String>,
    pub ccow_timeout: Duration,
    /// The VistA RPC broker (HTTP API); `None` disables "Refresh from
    /// VistA".
    pub vista_url: Option<String>,
    /// The VistA patient registry (ICN → treating sites).
    pub vista_registry: PathBuf,
    /// Per-site timeout of a refresh.
    pub vista_timeout: Duration,
    pub session: SessionConfig,
    pub login: LoginConfig,
    /// Sent by the vault as `X-Introspection-Key`; `None` disables
    /// `/api/auth/introspect`.
    pub introspection_key: Option<String>,
    /// `production` refuses development defaults (demo password, keys).
    pub environment: String,
    pub max_body_bytes: usize,
    /// Trust `X-Forwarded-For` for the client address (behind a proxy).
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Sliding inactivity window (25 minutes).
    pub timeout: Duration,
    pub cookie_name: String,
    /// Mark cookies `Secure` (HTTPS deployments).
    pub cookie_secure: bool,
}

#[derive(Debug, Clone)]
pub struct LoginConfig {
    /// Failed attempts before the account is locked.
    pub max_failed_attempts: u32,
    /// How long a lockout lasts; `None` = until an administrator unlocks.
    pub lockout: Option<Duration>,
    pub bcrypt_cost: u32,
}

impl Config {
    /// Embedded defaults on 127.0.0.1:8000 with data in `data_dir`.
    pub fn development(data_dir: impl Into<PathBuf>) -> Config {
        let data_dir = data_dir.into();
        let vista_registry = data_dir
            .join("mock")
            .join("vista")
            .join("patient_registry.json");
        Config {
            bind: ([127, 0, 0, 1], 8000).into(),
            public_url: "http://127.0.0.1:8000".into(),
            database_url: format!("sqlite://{}", data_dir.join("serving.db").display()),
            data_dir,
            ccow_url: Some("http://127.0.0.1:8001".into()),
            ccow_audience: None,
            ccow_timeout: Duration::from_secs(2),
            vista_url: Some("http://127.0.0.1:8003".into()),
            vista_registry,
            vista_timeout: Duration::from_secs(10),
            session: SessionConfig {
                timeout: Duration::from_secs(25 * 60),
                cookie_name: "session_id".into(),
                cookie_secure: false,
            },
            login: LoginConfig {
                max_failed_attempts: 5,
                lockout: Some(Duration::from_secs(15 * 60)),
                bcrypt_cost: 12,
            },
            introspection_key: Some(DEV_INTROSPECTION_KEY.into()),
            environment: "development".into(),
            max_body_bytes: 64 * 1024,
            trust_forwarded_for: false,
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment.eq_ignore_ascii_case("production")
    }

    /// The embedded issuer's URL (`iss`), served under `/oidc`.
    pub fn issuer_url(&self) -> String {
        format!("{}/oidc", self.public_url.trim_end_matches('/'))
    }
}
