//! The embedded RS256 token issuer.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::rand_core::{OsRng, RngCore as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::IssuerError;
use crate::jwks::KeySet;

/// RSA modulus size of generated keys.
const KEY_BITS: usize = 2048;

/// Default lifetime of minted tokens (Keycloak's default access-token lifespan).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// What to put into a minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    /// `sub`: the stable user id. Must not be empty.
    pub sub: String,
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `realm_access.roles`.
    pub roles: Vec<String>,
    /// `azp`: the client the token is for (e.g. `med-z1`).
    pub azp: Option<String>,
    /// `aud`, if any.
    pub audience: Option<String>,
    /// Lifetime; `exp = iat + ttl` (whole seconds, at least 1 s).
    pub ttl: Duration,
}

impl MintRequest {
    /// A request for `sub` with no other claims and [`DEFAULT_TOKEN_TTL`].
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            name: None,
            email: None,
            roles: Vec::new(),
            azp: None,
            audience: None,
            ttl: DEFAULT_TOKEN_TTL,
        }
    }
}

/// An in-process OIDC-style issuer: one RSA-2048 key, RS256 tokens, and the
/// discovery + JWKS documents that let any [`crate::Verifier`] (or other
/// OIDC client) check them.
///
/// It is not a full OpenID Provider: there is no authorization or token
/// endpoint; the application decides who gets a token and calls
/// [`LocalIssuer::mint`].
pub struct LocalIssuer {
    issuer: String,
    development: bool,
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
    encoding_key: EncodingKey,
}

impl std::fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIssuer")
            .field("issuer", &self.issuer)
            .field("development", &self.development)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl LocalIssuer {
    /// A new issuer with a freshly generated key (lost when dropped; see
    /// [`LocalIssuer::load_or_create`] to keep tokens valid across restarts).
    ///
    /// `issuer_url` is the `iss` of minted tokens and the base URL at which
    /// [`LocalIssuer::router`] is served (a trailing `/` is removed).
    /// `development` is only reported back by [`LocalIssuer::is_development`].
    pub fn generate(issuer_url: &str, development: bool) -> Result<Self, IssuerError> {
        Self::from_private_key(&generate_key()?, issuer_url, development)
    }

    /// Load the PKCS#8 PEM private key at `path`, or generate one and write
    /// it there (mode 0600, parent directories created) if the file does not
    /// exist. The `kid` is derived from the key, so tokens minted before a
    /// restart still verify after it.
    pub fn load_or_create(
        path: &Path,
        issuer_url: &str,
        development: bool,
    ) -> Result<Self, IssuerError> {
        let io = |source| IssuerError::Io {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(pem) => {
                warn_if_readable_by_others(path);
                return Self::from_pkcs8_pem(&pem, issuer_url, development);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let key = generate_key()?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        match write_new_private_file(path, pem.as_bytes()) {
            Ok(()) => Self::from_private_key(&key, issuer_url, development),
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let pem = std::fs::read_to_string(path).map_err(io)?;
                Self::from_pkcs8_pem(&pem, issuer_url, development)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// An issuer using an existing RSA private key in PKCS#8 PEM form
    /// (`-----BEGIN PRIVATE KEY-----`), e.g. from a secret store.
    pub fn from_pkcs8_pem(
        pem: &str,
        issuer_url: &str,
        development: bool,
    ) -> Result<Self, IssuerError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| IssuerError::Key(format!("not an RSA PKCS#8 PEM private key: {e}")))?;
        Self::from_private_key(&key, issuer_url, development)
    }

    fn from_private_key(
        key: &RsaPrivateKey,
        issuer_url: &str,
        development: bool,
    ) -> Result<Self, IssuerError> {
        let issuer = issuer_url.trim().trim_end_matches('/');
        let authority = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"));
        if authority.is_none_or(|a| a.is_empty() || a.starts_with('/')) {
            return Err(IssuerError::InvalidIssuerUrl);
        }
        if key.size() * 8 < KEY_BITS {
            return Err(IssuerError::Key(format!(
                "RSA key is {} bits; at least {KEY_BITS} required",
                key.size() * 8
            )));
        }
        let public = RsaPublicKey::from(key);
        let n = public.n().to_bytes_be();
        let e = public.e().to_bytes_be();
        let der = key
            .to_pkcs1_der()
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        Ok(Self {
            issuer: issuer.to_owned(),
            development,
            kid: thumbprint(&n, &e),
            encoding_key: EncodingKey::from_rsa_der(der.as_bytes()),
            n,
            e,
        })
    }

    /// The issuer URL (`iss` of minted tokens), without a trailing `/`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether this issuer was created for development use.
    pub fn is_development(&self) -> bool {
        self.development
    }

    /// The key id (RFC 7638 SHA-256 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set: `{"keys":[{kty,n,e,kid,alg:"RS256",use:"sig"}]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }]})
    }

    pub(crate) fn key_set(&self) -> KeySet {
        KeySet::single_rsa(&self.kid, &self.n, &self.e)
    }

    /// The OIDC discovery document. `jwks_uri` is `{issuer}/jwks.json`; the
    /// same set is also served at Keycloak's `{issuer}/protocol/openid-connect/certs`.
    pub fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/jwks.json", self.issuer),
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["id_token"],
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "nbf", "jti",
                "name", "email", "azp", "realm_access",
            ],
        })
    }

    /// Sign a token: header `{alg: RS256, typ: JWT, kid}`, claims `iss`,
    /// `sub`, `iat`, `nbf` (= `iat`), `exp`, `jti` (random), `realm_access.roles`,
    /// and `name`, `email`, `azp`, `aud` when given.
    pub fn mint(&self, request: &MintRequest) -> Result<String, IssuerError> {
        if request.sub.trim().is_empty() {
            return Err(IssuerError::InvalidRequest("sub must not be empty"));
        }
        let ttl = i64::try_from(request.ttl.as_secs())
            .ok()
            .filter(|t| *t >= 1)
            .ok_or(IssuerError::InvalidRequest(
                "ttl must be at least one second",
            ))?;
        let iat = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        let mut claims = json!({
            "iss": self.issuer,
            "sub": request.sub,
            "iat": iat,
            "nbf": iat,
            "exp": iat.saturating_add(ttl),
            "jti": random_id(),
            "realm_access": { "roles": request.roles },
        });
        let optional = [
            ("name", &request.name),
            ("email", &request.email),
            ("azp", &request.azp),
            ("aud", &request.audience),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                claims[name] = json!(value);
            }
        }
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding_key)
            .map_err(|e| IssuerError::Sign(e.to_string()))
    }

    /// Routes serving the discovery document and the key set:
    /// `GET /.well-known/openid-configuration`, `GET /jwks.json` and
    /// `GET /protocol/openid-connect/certs`. Nest the router at the issuer
    /// URL's path (`/` when the issuer URL has none) so that the advertised
    /// `jwks_uri` resolves.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery_handler))
            .route("/jwks.json", get(jwks_handler))
            .route("/protocol/openid-connect/certs", get(jwks_handler))
            .with_state(self)
    }
}

const CACHE_CONTROL: &str = "public, max-age=60";

async fn discovery_handler(State(issuer): State<Arc<LocalIssuer>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, CACHE_CONTROL)],
        axum::Json(issuer.discovery()),
    )
}

async fn jwks_handler(State(issuer): State<Arc<LocalIssuer>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, CACHE_CONTROL)],
        axum::Json(issuer.jwks()),
    )
}

fn generate_key() -> Result<RsaPrivateKey, IssuerError> {
    RsaPrivateKey::new(&mut OsRng, KEY_BITS)
        .map_err(|e| IssuerError::Key(format!("RSA key generation failed: {e}")))
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key.
fn thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Write `contents` to a new file at `path` (failing with `AlreadyExists`
/// if there is one), readable by the owner only. The data is written to a
/// temporary file first and then hard-linked into place, so `path` never
/// holds a partial key and an existing key is never overwritten. Where hard
/// links are unsupported, the file is created directly.
fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".tmp-{}-{}", std::process::id(), random_id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let linked = write_private_file(&tmp, contents).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            write_private_file(path, contents).inspect_err(|e| {
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    let _ = std::fs::remove_file(path);
                }
            })
        }
        other => other,
    }
}

/// Create a new owner-only file and write `contents` to it.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "signing key file is accessible by group or others; it should be mode 0600"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let n = URL_SAFE_NO_PAD
            .decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            )
            .unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        assert_eq!(
            thumbprint(&n, &e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rejects_bad_issuer_urls() {
        let small = RsaPrivateKey::new(&mut OsRng, 512).unwrap();
        for url in ["", "localhost:8000", "https://"] {
            assert!(matches!(
                LocalIssuer::from_private_key(&small, url, true),
                Err(IssuerError::InvalidIssuerUrl)
            ));
        }
        assert!(matches!(
            LocalIssuer::from_private_key(&small, "http://x", true),
            Err(IssuerError::Key(_))
        ));
    }
}
