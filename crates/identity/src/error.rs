//! Error types.
//!
//! [`AuthError`] messages are meant to be shown to API clients (the CCOW
//! vault answers 401 `{"detail": message}`). They never contain the token;
//! the few values taken from a token's header or payload (`alg`, `kid`, `iss`,
//! `typ`) are shortened and stripped of anything but printable ASCII first.

use std::path::PathBuf;

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token was presented.
    #[error("missing bearer token")]
    Missing,
    /// The token is not a well-formed compact JWS/JWT.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not RS256 or ES256 (`none` and HMAC are always refused).
    #[error("signing algorithm {0} is not allowed (accepted: RS256, ES256)")]
    AlgorithmNotAllowed(String),
    /// The header's `typ` is present but is neither `JWT` nor `at+jwt`.
    #[error("token type {0} is not accepted (expected JWT or at+jwt)")]
    WrongType(String),
    /// The token's `iss` is not one of the configured issuers.
    #[error("token issuer {0} is not trusted")]
    UnknownIssuer(String),
    /// The issuer publishes no key with the token's `kid` (even after a refresh).
    #[error("no signing key with id {0} in the issuer's key set")]
    UnknownKey(String),
    /// The token has no `kid` and the issuer's key set does not hold exactly
    /// one key that could verify it.
    #[error("token has no key id (kid) and the issuer publishes no single matching key")]
    AmbiguousKey,
    /// The key named by `kid` is of another type, or its own `alg` differs
    /// from the token's.
    #[error("signing key {0} cannot verify tokens with this algorithm")]
    KeyMismatch(String),
    /// The signature does not verify.
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `aud` does not name any of the configured audiences.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// `sub` is missing or empty.
    #[error("token has no subject (sub)")]
    MissingSubject,
    /// The issuer's signing keys could not be obtained (discovery or JWKS fetch failed).
    #[error("signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// A [`crate::Verifier`] could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Two issuer configurations share the same `issuer`.
    #[error("issuer {0} is configured twice")]
    DuplicateIssuer(String),
    /// The issuer string is empty.
    #[error("an issuer configuration has an empty issuer")]
    EmptyIssuer,
    /// A static JWKS has no usable RS256/ES256 signing key.
    #[error("static key set for issuer {issuer} is unusable: {reason}")]
    InvalidJwks {
        /// The issuer the key set belongs to.
        issuer: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Errors of the embedded issuer ([`crate::LocalIssuer`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The key could not be generated, parsed or encoded.
    #[error("signing key: {0}")]
    Key(String),
    /// The issuer URL is empty or not an http(s) URL.
    #[error("issuer URL must start with http:// or https://")]
    InvalidIssuerUrl,
    /// The mint request is invalid.
    #[error("invalid token request: {0}")]
    InvalidRequest(&'static str),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Make a value taken from an untrusted token safe to put into an error
/// message: printable ASCII only, at most 64 characters.
pub(crate) fn sanitize(value: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(MAX)
        .collect();
    if value.chars().count() > MAX {
        out.push_str("...");
    }
    if out.is_empty() {
        out.push_str("\"\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_and_truncates() {
        assert_eq!(sanitize("RS256"), "RS256");
        assert_eq!(sanitize("a\nb\u{7}c\u{e9}"), "abc");
        assert_eq!(sanitize(""), "\"\"");
        let long = "x".repeat(100);
        assert_eq!(sanitize(&long), format!("{}...", "x".repeat(64)));
    }
}
