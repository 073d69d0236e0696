//! Bearer-token verification against configured OIDC issuers.

use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::LocalIssuer;
use crate::error::{AuthError, ConfigError, sanitize};
use crate::jwks::{Alg, KeySet, Selection};

/// Default [`IssuerConfig::roles_claim`]: Keycloak's realm roles.
pub const DEFAULT_ROLES_CLAIM: &str = "realm_access.roles";

/// Longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Largest discovery or JWKS document accepted, in bytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The authenticated caller, taken from a verified token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// `sub`: the stable user id (the CCOW vault's context key).
    pub sub: String,
    /// `name`, else `preferred_username`, else `email`.
    pub display_name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// Roles read from the issuer's [`IssuerConfig::roles_claim`]; empty when absent.
    pub roles: Vec<String>,
    /// `azp`: the client the token was issued to (the vault's trusted `set_by`).
    pub azp: Option<String>,
    /// The issuer that signed the token (its configured `issuer`).
    pub issuer: String,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Principal {
    /// Whether the principal holds `role` (exact, case-sensitive match).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// Where an issuer's signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// OIDC discovery: `GET {issuer}/.well-known/openid-configuration`, then
    /// its `jwks_uri`. The discovered URI is remembered until a JWKS fetch
    /// fails. The discovery document's own `issuer` is not compared (tokens
    /// are matched on [`IssuerConfig::issuer`] anyway).
    Discovery,
    /// A fixed JWKS URL (Keycloak: `{issuer}/protocol/openid-connect/certs`).
    JwksUri(String),
    /// A key set held in memory (an in-process [`LocalIssuer`]); never fetched.
    Static(Value),
}

/// One trusted token issuer.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The exact `iss` value to accept (no normalisation: `localhost` and
    /// `127.0.0.1`, or a trailing slash, make different issuers).
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one of them.
    /// **Empty means `aud` is not checked at all** — some providers omit it
    /// (Keycloak access tokens often carry only `azp`). Configure it whenever
    /// the provider sets `aud`.
    pub audiences: Vec<String>,
    /// Where the signing keys come from.
    pub keys: KeySource,
    /// Dotted path to the roles array, e.g. `realm_access.roles` (default)
    /// or `resource_access.med-z1.roles`. A top-level claim whose name is the
    /// whole string (e.g. `https://example.org/roles`) takes precedence. When
    /// the claim is absent, a top-level `roles` array is used instead.
    pub roles_claim: String,
}

impl IssuerConfig {
    /// An issuer whose keys are found through OIDC discovery, with no
    /// audience check and the default roles claim.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: Vec::new(),
            keys: KeySource::Discovery,
            roles_claim: DEFAULT_ROLES_CLAIM.to_owned(),
        }
    }

    /// An in-process issuer: its public key is used directly, without HTTP.
    pub fn local(issuer: &LocalIssuer) -> Self {
        Self {
            keys: KeySource::Static(issuer.jwks()),
            ..Self::new(issuer.issuer())
        }
    }

    /// Set the accepted audiences (see [`IssuerConfig::audiences`]).
    #[must_use]
    pub fn with_audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Use a fixed JWKS URL instead of discovery.
    #[must_use]
    pub fn with_jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.keys = KeySource::JwksUri(uri.into());
        self
    }

    /// Read roles from another claim path (see [`IssuerConfig::roles_claim`]).
    #[must_use]
    pub fn with_roles_claim(mut self, path: impl Into<String>) -> Self {
        self.roles_claim = path.into();
        self
    }
}

/// Tuning of a [`Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Clock skew tolerated on `exp` and `nbf` (default 30 s).
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches of one issuer (default 30 s).
    /// Bounds how often unknown `kid`s (or a failing provider) can cause a fetch.
    pub min_refresh_interval: Duration,
    /// Cached keys older than this are refetched on next use, so a key the
    /// provider withdrew stops being accepted (default 1 h). A failed
    /// refetch keeps the old keys.
    pub max_key_age: Duration,
    /// Timeout of each discovery/JWKS request (default 5 s).
    pub http_timeout: Duration,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(30),
            min_refresh_interval: Duration::from_secs(30),
            max_key_age: Duration::from_secs(3600),
            http_timeout: Duration::from_secs(5),
        }
    }
}

/// Verifies bearer tokens of the configured issuers. Cheap to clone; clones
/// share the key caches.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self
            .inner
            .issuers
            .iter()
            .map(|s| s.config.issuer.as_str())
            .collect();
        f.debug_struct("Verifier")
            .field("issuers", &issuers)
            .finish_non_exhaustive()
    }
}

struct Inner {
    issuers: Vec<IssuerState>,
    options: VerifierOptions,
    client: OnceLock<Result<reqwest::Client, String>>,
}

struct IssuerState {
    config: IssuerConfig,
    cache: RwLock<Cache>,
    /// Serialises fetches; holds what fetching needs to remember.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Default)]
struct Cache {
    keys: Option<Arc<KeySet>>,
    /// When the keys were fetched; `None` for static keys (never stale).
    fetched_at: Option<Instant>,
    /// Bumped on every successful fetch.
    generation: u64,
    last_error: Option<String>,
}

#[derive(Default)]
struct RefreshState {
    last_attempt: Option<Instant>,
    discovered_jwks_uri: Option<String>,
}

struct Snapshot {
    keys: Option<Arc<KeySet>>,
    generation: u64,
    stale: bool,
}

/// Result of checking a signature against one key set.
enum KeyCheck {
    Verified,
    /// The key set lacks the key; a refresh may help.
    Missing(AuthError),
    /// Final.
    Failed(AuthError),
}

impl IssuerState {
    fn new(config: IssuerConfig, keys: Option<KeySet>) -> Self {
        Self {
            config,
            cache: RwLock::new(Cache {
                keys: keys.map(Arc::new),
                ..Cache::default()
            }),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
        }
    }

    fn snapshot(&self, max_age: Duration) -> Snapshot {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        Snapshot {
            keys: cache.keys.clone(),
            generation: cache.generation,
            stale: cache.fetched_at.is_some_and(|t| t.elapsed() >= max_age),
        }
    }

    fn last_error(&self) -> Option<String> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache.last_error.clone()
    }

    fn is_static(&self) -> bool {
        matches!(self.config.keys, KeySource::Static(_))
    }
}

impl Verifier {
    /// Build a verifier for `issuers`. No network access happens here: keys
    /// are fetched on first use (or by [`Verifier::check_ready`]).
    pub fn new(issuers: Vec<IssuerConfig>, options: VerifierOptions) -> Result<Self, ConfigError> {
        let mut states: Vec<IssuerState> = Vec::with_capacity(issuers.len());
        for config in issuers {
            if config.issuer.is_empty() {
                return Err(ConfigError::EmptyIssuer);
            }
            if states.iter().any(|s| s.config.issuer == config.issuer) {
                return Err(ConfigError::DuplicateIssuer(config.issuer));
            }
            let keys = match &config.keys {
                KeySource::Static(doc) => {
                    Some(
                        KeySet::parse(doc).map_err(|reason| ConfigError::InvalidJwks {
                            issuer: config.issuer.clone(),
                            reason,
                        })?,
                    )
                }
                KeySource::Discovery | KeySource::JwksUri(_) => None,
            };
            states.push(IssuerState::new(config, keys));
        }
        Ok(Self::from_states(states, options))
    }

    /// A verifier that trusts only an in-process [`LocalIssuer`] (no HTTP),
    /// with default options. `audiences` as in [`IssuerConfig::audiences`].
    pub fn with_local<I, S>(issuer: &LocalIssuer, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let config = IssuerConfig::local(issuer).with_audiences(audiences);
        // The key is known; no need to parse the JWKS document.
        Self::from_states(
            vec![IssuerState::new(config, Some(issuer.key_set()))],
            VerifierOptions::default(),
        )
    }

    fn from_states(issuers: Vec<IssuerState>, options: VerifierOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuers,
                options,
                client: OnceLock::new(),
            }),
        }
    }

    /// The configured issuers, in configuration order.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.inner.issuers.iter().map(|s| s.config.issuer.as_str())
    }

    /// Verify a compact JWT (without the `Bearer ` prefix; see
    /// [`bearer_token`]) and return its principal.
    ///
    /// Order of checks: shape, `alg` (RS256/ES256 only), `typ`, `iss` (must
    /// be configured), key (by `kid`, refreshing the JWKS once if unknown),
    /// signature, then `exp`/`nbf` (with leeway), `aud`, `sub`.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let token = parse_token(token)?;
        let iss = token
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(AuthError::Malformed("token has no issuer (iss)"))?;
        let state = self
            .inner
            .issuers
            .iter()
            .find(|s| s.config.issuer == iss)
            .ok_or_else(|| AuthError::UnknownIssuer(sanitize(iss)))?;
        self.inner.check_signature(state, &token).await?;
        principal_from_claims(
            &token.claims,
            &state.config,
            self.inner.options.leeway,
            now(),
        )
    }

    /// Readiness: for each issuer, the number of usable keys held, or why
    /// there are none. Fetches keys that were never fetched (subject to the
    /// refresh rate limit, so frequent probes do not hammer the provider).
    pub async fn check_ready(&self) -> Vec<(String, Result<usize, String>)> {
        let mut out = Vec::with_capacity(self.inner.issuers.len());
        for state in &self.inner.issuers {
            let snap = state.snapshot(self.inner.options.max_key_age);
            if snap.keys.is_none() {
                self.inner.refresh(state, snap.generation, true).await;
            }
            let result = match state.snapshot(self.inner.options.max_key_age).keys {
                Some(keys) => Ok(keys.len()),
                None => Err(state
                    .last_error()
                    .unwrap_or_else(|| "keys not fetched yet".to_owned())),
            };
            out.push((state.config.issuer.clone(), result));
        }
        out
    }
}

impl Inner {
    async fn check_signature(
        &self,
        state: &IssuerState,
        token: &ParsedToken<'_>,
    ) -> Result<(), AuthError> {
        let max_age = self.options.max_key_age;
        let mut snap = state.snapshot(max_age);
        if snap.keys.is_none() || snap.stale {
            // Cold cache: wait for the (shared) fetch. Stale cache: refresh
            // unless another request is already doing it.
            let wait = snap.keys.is_none();
            if self.refresh(state, snap.generation, wait).await {
                snap = state.snapshot(max_age);
            }
        }
        let Some(keys) = snap.keys else {
            return Err(AuthError::KeysUnavailable(
                state
                    .last_error()
                    .unwrap_or_else(|| "keys not fetched yet".to_owned()),
            ));
        };
        match check_with(&keys, token) {
            KeyCheck::Verified => Ok(()),
            KeyCheck::Failed(e) => Err(e),
            KeyCheck::Missing(e) => {
                if !self.refresh(state, snap.generation, true).await {
                    return Err(e);
                }
                let Some(keys) = state.snapshot(max_age).keys else {
                    return Err(e);
                };
                match check_with(&keys, token) {
                    KeyCheck::Verified => Ok(()),
                    KeyCheck::Failed(e) | KeyCheck::Missing(e) => Err(e),
                }
            }
        }
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(self.options.http_timeout)
                    .connect_timeout(self.options.http_timeout)
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .user_agent(concat!("med-z1-identity/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot build HTTP client: {}", error_chain(&e)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Refetch an issuer's keys unless that is pointless or rate-limited.
    /// `seen_generation` is the cache generation the caller looked at: if it
    /// changed meanwhile, someone else already refreshed. With `wait` false,
    /// gives up when another refresh is in progress. Returns whether the
    /// cache may have changed (the caller should look again).
    async fn refresh(&self, state: &IssuerState, seen_generation: u64, wait: bool) -> bool {
        if state.is_static() {
            return false;
        }
        let mut guard = if wait {
            state.refresh.lock().await
        } else {
            match state.refresh.try_lock() {
                Ok(guard) => guard,
                Err(_) => return false,
            }
        };
        if state.snapshot(self.options.max_key_age).generation != seen_generation {
            return true;
        }
        if guard
            .last_attempt
            .is_some_and(|t| t.elapsed() < self.options.min_refresh_interval)
        {
            return false;
        }
        guard.last_attempt = Some(Instant::now());
        let result = self.fetch(&state.config, &mut guard).await;
        let mut cache = state.cache.write().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(keys) => {
                tracing::debug!(issuer = %state.config.issuer, keys = keys.len(), "fetched signing keys");
                cache.keys = Some(Arc::new(keys));
                cache.fetched_at = Some(Instant::now());
                cache.generation += 1;
                cache.last_error = None;
                true
            }
            Err(error) => {
                tracing::warn!(issuer = %state.config.issuer, %error, "fetching signing keys failed");
                cache.last_error = Some(error);
                false
            }
        }
    }

    async fn fetch(
        &self,
        config: &IssuerConfig,
        refresh: &mut RefreshState,
    ) -> Result<KeySet, String> {
        let client = self.client()?;
        let uri = match &config.keys {
            KeySource::JwksUri(uri) => uri.clone(),
            KeySource::Discovery => match &refresh.discovered_jwks_uri {
                Some(uri) => uri.clone(),
                None => {
                    let url = format!(
                        "{}/.well-known/openid-configuration",
                        config.issuer.trim_end_matches('/')
                    );
                    let doc = get_json(client, &url).await?;
                    let uri = doc
                        .get("jwks_uri")
                        .and_then(Value::as_str)
                        .filter(|u| !u.is_empty())
                        .ok_or_else(|| format!("{url}: discovery document has no jwks_uri"))?
                        .to_owned();
                    refresh.discovered_jwks_uri = Some(uri.clone());
                    uri
                }
            },
            KeySource::Static(_) => return Err("static key sets are not fetched".to_owned()),
        };
        let doc = get_json(client, &uri).await.inspect_err(|_| {
            // The provider may have moved its JWKS: rediscover next time.
            refresh.discovered_jwks_uri = None;
        })?;
        KeySet::parse(&doc).map_err(|e| format!("{uri}: {e}"))
    }
}

fn check_with(keys: &KeySet, token: &ParsedToken<'_>) -> KeyCheck {
    let kid = token.kid.as_deref();
    let entry = match keys.select(kid, token.alg) {
        Selection::Found(entry) => entry,
        Selection::Mismatch => {
            return KeyCheck::Failed(AuthError::KeyMismatch(sanitize(kid.unwrap_or_default())));
        }
        Selection::Ambiguous => return KeyCheck::Failed(AuthError::AmbiguousKey),
        Selection::NotFound => {
            return KeyCheck::Missing(match kid {
                Some(kid) => AuthError::UnknownKey(sanitize(kid)),
                None => AuthError::AmbiguousKey,
            });
        }
    };
    match jsonwebtoken::crypto::verify(
        token.signature,
        token.signing_input.as_bytes(),
        &entry.key,
        token.alg.jwt(),
    ) {
        Ok(true) => KeyCheck::Verified,
        Ok(false) | Err(_) => KeyCheck::Failed(AuthError::BadSignature),
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {url}: HTTP {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "GET {url}: response larger than {MAX_DOCUMENT_BYTES} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: invalid JSON: {e}"))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

/// Extract the token from an `Authorization` header value (`Bearer <token>`,
/// scheme case-insensitive). `None` or an empty value is
/// [`AuthError::Missing`]; another scheme is [`AuthError::Malformed`].
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed(
            "authorization header is not a Bearer credential",
        ));
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// A token whose header passed the algorithm and type checks; nothing
/// verified yet.
struct ParsedToken<'t> {
    alg: Alg,
    kid: Option<String>,
    claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'t str,
    signature: &'t str,
}

fn decode_json_object(part: &str, what: &'static str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::Malformed(what)),
    }
}

fn parse_token(token: &str) -> Result<ParsedToken<'_>, AuthError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("token is too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(
            "expected three dot-separated parts (compact JWS)",
        ));
    };
    let header = decode_json_object(header, "header is not base64url-encoded JSON")?;

    let alg = match header.get("alg") {
        Some(Value::String(alg)) => {
            Alg::parse(alg).ok_or_else(|| AuthError::AlgorithmNotAllowed(sanitize(alg)))?
        }
        Some(_) => return Err(AuthError::Malformed("header alg is not a string")),
        None => return Err(AuthError::Malformed("header has no alg")),
    };
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) => {
            let lower = typ.to_ascii_lowercase();
            let media = lower.strip_prefix("application/").unwrap_or(&lower);
            if media != "jwt" && media != "at+jwt" {
                return Err(AuthError::WrongType(sanitize(typ)));
            }
        }
        Some(other) => return Err(AuthError::WrongType(sanitize(&other.to_string()))),
    }
    if header.contains_key("crit") {
        return Err(AuthError::Malformed(
            "critical header extensions are not supported",
        ));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AuthError::Malformed("header kid is not a string")),
    };
    if signature.is_empty() {
        return Err(AuthError::BadSignature);
    }
    let claims = decode_json_object(payload, "payload is not base64url-encoded JSON")?;
    let signing_input = &token[..header_len(token)];
    Ok(ParsedToken {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// Length of `header.payload` in a token already known to have three parts.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
    invalid: &'static str,
) -> Result<Option<i64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or(AuthError::Malformed(invalid)),
    }
}

fn non_empty_str<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn principal_from_claims(
    claims: &Map<String, Value>,
    config: &IssuerConfig,
    leeway: Duration,
    now: i64,
) -> Result<Principal, AuthError> {
    let leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
    let exp = numeric_date(claims, "exp", "exp is not a number")?
        .ok_or(AuthError::Malformed("token has no expiry (exp)"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(AuthError::Expired);
    }
    if let Some(nbf) = numeric_date(claims, "nbf", "nbf is not a number")?
        && nbf > now.saturating_add(leeway)
    {
        return Err(AuthError::NotYetValid);
    }
    if !config.audiences.is_empty() {
        let accepted = |aud: &str| config.audiences.iter().any(|a| a == aud);
        let ok = match claims.get("aud") {
            Some(Value::String(aud)) => accepted(aud),
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
            _ => false,
        };
        if !ok {
            return Err(AuthError::WrongAudience);
        }
    }
    let sub = non_empty_str(claims, "sub").ok_or(AuthError::MissingSubject)?;
    let email = non_empty_str(claims, "email");
    let display_name = non_empty_str(claims, "name")
        .or_else(|| non_empty_str(claims, "preferred_username"))
        .or(email);
    Ok(Principal {
        sub: sub.to_owned(),
        display_name: display_name.map(str::to_owned),
        email: email.map(str::to_owned),
        roles: roles(claims, &config.roles_claim),
        azp: non_empty_str(claims, "azp").map(str::to_owned),
        issuer: config.issuer.clone(),
        expires_at: exp,
    })
}

/// Roles at `path` (see [`IssuerConfig::roles_claim`]): an array of strings
/// (non-strings ignored) or a single string.
fn roles(claims: &Map<String, Value>, path: &str) -> Vec<String> {
    let dotted = || {
        let mut segments = path.split('.');
        let first = claims.get(segments.next()?)?;
        segments.try_fold(first, |value, segment| value.get(segment))
    };
    let value = claims
        .get(path)
        .or_else(dotted)
        .or_else(|| claims.get("roles"));
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(role)) => vec![role.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer   abc ")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthError::Missing));
        assert_eq!(bearer_token(Some("  ")), Err(AuthError::Missing));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::Missing));
        assert!(matches!(
            bearer_token(Some("Basic dXNlcjpwdw==")),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn roles_paths() {
        let c = claims(json!({
            "realm_access": {"roles": ["a", "b", 3]},
            "resource_access": {"med-z1": {"roles": ["admin"]}},
            "https://example.org/roles": ["x"],
            "roles": "solo",
        }));
        assert_eq!(roles(&c, "realm_access.roles"), ["a", "b"]);
        assert_eq!(roles(&c, "resource_access.med-z1.roles"), ["admin"]);
        assert_eq!(roles(&c, "https://example.org/roles"), ["x"]);
        assert_eq!(roles(&c, "missing.path"), ["solo"]);
        assert!(roles(&claims(json!({})), DEFAULT_ROLES_CLAIM).is_empty());
    }

    #[test]
    fn fractional_dates() {
        let c = claims(json!({"exp": 100.9, "bad": "x"}));
        assert_eq!(numeric_date(&c, "exp", "e"), Ok(Some(100)));
        assert_eq!(numeric_date(&c, "nbf", "e"), Ok(None));
        assert_eq!(numeric_date(&c, "bad", "e"), Err(AuthError::Malformed("e")));
    }

    #[test]
    fn shape_errors_do_not_echo_token() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.!!!.sig"] {
            let err = parse_token(token).err().unwrap();
            if !token.is_empty() {
                assert!(!err.to_string().contains(token), "{err}");
            }
        }
    }
}
