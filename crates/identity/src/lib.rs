//! # identity — JWT bearer verification and an embedded RS256 issuer
//!
//! Two halves, used by different services:
//!
//! * [`Verifier`] checks `Authorization: Bearer` tokens against one or more
//!   trusted OIDC issuers (Keycloak, Dex, … or med-z1's own web app). The
//!   CCOW vault uses it; every [`AuthError`] becomes a 401 with
//!   `{"detail": message}`.
//! * [`LocalIssuer`] is a minimal in-process issuer: one RSA-2048 key, RS256
//!   tokens for users the web app has signed in, and the discovery + JWKS
//!   documents (via [`LocalIssuer::router`]) so other services can verify
//!   those tokens exactly as they would Keycloak's.
//!
//! ## Verification design
//!
//! * **Algorithm allow-list first.** Only RS256 and ES256 are accepted. The
//!   header is parsed by hand and `alg` is checked before anything else, so
//!   `alg: none` and every HMAC algorithm are refused before a key is even
//!   looked up; this closes the classic "HS256 signed with the RSA public
//!   key" confusion. A key's own `alg` (if published) must equal the token's,
//!   and a key's type must fit the algorithm (RSA ↔ RS256, EC P-256 ↔ ES256).
//! * **Issuer by `iss`.** The (still unverified) `iss` picks the issuer
//!   configuration — exact string match — whose keys must then verify the
//!   signature. Unknown issuers are refused without any network access.
//! * **Keys from discovery.** Keys come from
//!   `{issuer}/.well-known/openid-configuration` → `jwks_uri` (or a fixed
//!   JWKS URL, or an in-memory set for a [`LocalIssuer`]), fetched lazily on
//!   first use and cached. Unusable keys in a JWKS (encryption keys, other
//!   curves, RSA < 2048 bits) are skipped, not fatal.
//! * **Refresh on unknown `kid`, rate-limited.** A token whose `kid` is not
//!   cached triggers one refetch, but an issuer's JWKS is fetched at most
//!   once per [`VerifierOptions::min_refresh_interval`]; concurrent misses
//!   wait for the same fetch. A failed refresh keeps the cached keys, so an
//!   identity-provider outage does not log everybody out. Keys older than
//!   [`VerifierOptions::max_key_age`] are refetched so withdrawn keys stop
//!   working. A token without `kid` is accepted only when exactly one cached
//!   key fits its algorithm.
//! * **Claims.** `exp` is required, `nbf` honoured, both with
//!   [`VerifierOptions::leeway`]; `aud` (string or array) must name one of
//!   [`IssuerConfig::audiences`] unless that list is empty (some providers
//!   omit `aud`); `sub` must be non-empty; header `typ` may be absent, `JWT`
//!   or `at+jwt`. The result is a [`Principal`]: display name from `name`,
//!   else `preferred_username`, else `email`; roles from the configurable
//!   [`IssuerConfig::roles_claim`] (Keycloak's `realm_access.roles` by default).
//! * **No secrets in output.** Errors never contain the token; values taken
//!   from it (`alg`, `kid`, `iss`, `typ`) are truncated and reduced to
//!   printable ASCII. Nothing here logs tokens or claims; JWKS fetch failures
//!   are logged with the issuer and URL only.
//!
//! ## Embedded issuer design
//!
//! [`LocalIssuer::load_or_create`] keeps the private key as PKCS#8 PEM on
//! disk (mode 0600, written atomically), so tokens minted before a restart
//! still verify afterwards. The `kid` is the RFC 7638 thumbprint of the
//! public key, hence stable for a given key. [`LocalIssuer::mint`] produces
//! Keycloak-shaped claims (`realm_access.roles`, `azp`, `name`, `email`,
//! random `jti`), so the vault treats both providers alike. The router serves
//! the key set at `/jwks.json` (the advertised `jwks_uri`) and at Keycloak's
//! `/protocol/openid-connect/certs`.
//!
//! ## Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use identity::{IssuerConfig, LocalIssuer, MintRequest, Verifier, VerifierOptions};
//!
//! // Web app: sign users in with its own issuer.
//! let issuer = LocalIssuer::load_or_create("data/jwt-key.pem".as_ref(), "http://localhost:8000/auth", true)?;
//! let token = issuer.mint(&MintRequest { roles: vec!["clinician".into()], ..MintRequest::new("user-1") })?;
//!
//! // Vault: trust the web app (via discovery) and Keycloak.
//! let verifier = Verifier::new(
//!     vec![
//!         IssuerConfig::new("http://localhost:8000/auth"),
//!         IssuerConfig::new("http://localhost:8080/realms/va-development").with_audiences(["med-z8"]),
//!     ],
//!     VerifierOptions::default(),
//! )?;
//! let principal = verifier.verify(&token).await?;
//! assert!(principal.has_role("clinician"));
//! # Ok(()) }
//! ```

mod error;
mod issuer;
mod jwks;
mod verify;

pub use error::{AuthError, ConfigError, IssuerError};
pub use issuer::{DEFAULT_TOKEN_TTL, LocalIssuer, MintRequest};
pub use verify::{
    DEFAULT_ROLES_CLAIM, IssuerConfig, KeySource, Principal, Verifier, VerifierOptions,
    bearer_token,
};
