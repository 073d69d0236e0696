//! The vault's configuration: a typed value read once, in the binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where identities come from.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// External OIDC issuers (Keycloak, the web app's embedded issuer, any
    /// provider), verified through discovery + JWKS.
    pub oidc_issuers: Vec<String>,
    /// Accepted `aud` values; empty = not checked.
    pub audiences: Vec<String>,
    pub roles_claim: String,
    /// The built-in development issuer, if enabled.
    pub development: Option<DevIssuer>,
}

/// The development issuer: an RS256 key at `key_path`, served under
/// `/dev-issuer`; `ccow dev-token` mints with it. Refused when
/// `ENVIRONMENT=production`.
#[derive(Debug, Clone)]
pub struct DevIssuer {
    pub key_path: PathBuf,
    pub issuer: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// `memory`, `sqlite://…`, `postgres://…` or `redis://…`.
    pub store_url: String,
    pub identity: IdentityConfig,
    /// The role that may use the admin endpoints.
    pub admin_role: String,
    /// The web app's session introspection endpoint; `None` disables
    /// `X-Session-ID` / `session_id` cookie authentication.
    pub session_introspection: Option<String>,
    /// Sent as `X-Introspection-Key` to the introspection endpoint.
    pub session_introspection_secret: Option<String>,
    pub session_cache_ttl: Duration,
    pub history_per_user: usize,
    /// Contexts not read or written for this long are cleared.
    pub context_ttl: Duration,
    pub cleanup_interval: Duration,
    pub max_body_bytes: usize,
    /// `production` refuses the development issuer.
    pub environment: String,
    /// The vault's public base URL (FHIRcast endpoints are built from it).
    pub public_url: String,
    pub fhircast_lease: Duration,
    /// How long a FHIRcast subscriber has to answer an event before the hub
    /// raises `SyncError` and unsubscribes it.
    pub fhircast_ack_timeout: Duration,
}

impl Config {
    /// Defaults: everything embedded, on 127.0.0.1:8001.
    pub fn development(data_dir: &std::path::Path) -> Config {
        Config {
            bind: ([127, 0, 0, 1], 8001).into(),
            store_url: "memory".into(),
            identity: IdentityConfig {
                oidc_issuers: Vec::new(),
                audiences: Vec::new(),
                roles_claim: identity::DEFAULT_ROLES_CLAIM.into(),
                development: Some(DevIssuer {
                    key_path: data_dir.join("ccow-dev-issuer.pem"),
                    issuer: "http://127.0.0.1:8001/dev-issuer".into(),
                }),
            },
            admin_role: "admin".into(),
            session_introspection: None,
            session_introspection_secret: None,
            session_cache_ttl: Duration::from_secs(30),
            history_per_user: 100,
            context_ttl: Duration::from_secs(24 * 3600),
            cleanup_interval: Duration::from_secs(300),
            max_body_bytes: 16 * 1024,
            environment: "development".into(),
            public_url: "http://127.0.0.1:8001".into(),
            fhircast_lease: Duration::from_secs(7200),
            fhircast_ack_timeout: Duration::from_secs(10),
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment.eq_ignore_ascii_case("production")
    }
}
