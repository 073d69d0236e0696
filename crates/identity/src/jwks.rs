//! Parsed JSON Web Key Sets and key selection.
//!
//! Keys are parsed one by one: a key that is not an RS256/ES256 signing key
//! (an encryption key, an unknown `kty`, another curve, a short RSA modulus)
//! is skipped instead of failing the whole set, because real providers
//! publish such keys next to their signing keys (Keycloak publishes an
//! `RSA-OAEP` encryption key, for example).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// The two algorithms the verifier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
        }
    }
}

/// The kind of a usable key; each kind verifies exactly one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
}

impl KeyKind {
    fn verifies(self, alg: Alg) -> bool {
        matches!(
            (self, alg),
            (Self::Rsa, Alg::Rs256) | (Self::EcP256, Alg::Es256)
        )
    }
}

/// One usable signing key.
pub(crate) struct KeyEntry {
    kid: Option<String>,
    kind: KeyKind,
    /// The key's own `alg`, if it declares one.
    alg: Option<String>,
    pub(crate) key: DecodingKey,
}

impl KeyEntry {
    fn accepts(&self, alg: Alg) -> bool {
        self.kind.verifies(alg) && self.alg.as_deref().is_none_or(|a| a == alg.name())
    }
}

/// Smallest RSA modulus accepted from a JWKS, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A parsed key set.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<KeyEntry>,
}

/// Outcome of looking up the key for a token.
pub(crate) enum Selection<'a> {
    Found(&'a KeyEntry),
    /// A key with the token's `kid` exists but cannot verify its algorithm.
    Mismatch,
    /// No key with the token's `kid` (or, without `kid`, no matching key).
    NotFound,
    /// No `kid` and more than one matching key.
    Ambiguous,
}

impl KeySet {
    /// Parse a JWKS document (`{"keys":[...]}`), keeping only usable
    /// RS256/ES256 signing keys. Fails when the document is not a JWKS or
    /// holds no usable key.
    pub(crate) fn parse(doc: &Value) -> Result<Self, String> {
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| "the document is not a JWKS (no \"keys\" array)".to_owned())?;
        let keys: Vec<KeyEntry> = keys.iter().filter_map(parse_key).collect();
        if keys.is_empty() {
            return Err("the JWKS holds no usable RS256/ES256 signing key".to_owned());
        }
        Ok(Self { keys })
    }

    /// A set holding one RSA key given by its raw big-endian components.
    pub(crate) fn single_rsa(kid: &str, n: &[u8], e: &[u8]) -> Self {
        Self {
            keys: vec![KeyEntry {
                kid: Some(kid.to_owned()),
                kind: KeyKind::Rsa,
                alg: Some("RS256".to_owned()),
                key: DecodingKey::from_rsa_raw_components(n, e),
            }],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Find the key that must verify a token with this `kid` and `alg`.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Alg) -> Selection<'_> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
                let Some(first) = named.next() else {
                    return Selection::NotFound;
                };
                std::iter::once(first)
                    .chain(named)
                    .find(|k| k.accepts(alg))
                    .map_or(Selection::Mismatch, Selection::Found)
            }
            None => {
                let mut matching = self.keys.iter().filter(|k| k.accepts(alg));
                match (matching.next(), matching.next()) {
                    (Some(only), None) => Selection::Found(only),
                    (None, _) => Selection::NotFound,
                    (Some(_), Some(_)) => Selection::Ambiguous,
                }
            }
        }
    }
}

fn b64_field(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    let s = jwk.get(name)?.as_str()?;
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

fn parse_key(jwk: &Value) -> Option<KeyEntry> {
    let str_field = |name: &str| jwk.get(name).and_then(Value::as_str);
    if str_field("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops").and_then(Value::as_array)
        && !ops.iter().any(|op| op.as_str() == Some("verify"))
    {
        return None;
    }
    let alg = str_field("alg").map(str::to_owned);
    let kid = str_field("kid").map(str::to_owned);
    let (kind, key) = match str_field("kty")? {
        "RSA" => {
            let n = b64_field(jwk, "n")?;
            let e = b64_field(jwk, "e")?;
            let n_len = n.iter().skip_while(|b| **b == 0).count();
            if n_len < MIN_RSA_MODULUS_BYTES || e.is_empty() {
                return None;
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        "EC" => {
            if str_field("crv")? != "P-256" {
                return None;
            }
            let x = b64_field(jwk, "x")?;
            let y = b64_field(jwk, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let x = URL_SAFE_NO_PAD.encode(x);
            let y = URL_SAFE_NO_PAD.encode(y);
            (
                KeyKind::EcP256,
                DecodingKey::from_ec_components(&x, &y).ok()?,
            )
        }
        _ => return None,
    };
    let entry = KeyEntry {
        kid,
        kind,
        alg,
        key,
    };
    // Drop keys that declare an algorithm we never accept (RS512, PS256, ...).
    if entry.accepts(Alg::Rs256) || entry.accepts(Alg::Es256) {
        Some(entry)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_jwk(kid: &str, alg: Option<&str>) -> Value {
        let mut v = json!({
            "kty": "RSA",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode([0xC5u8; 256]),
            "e": "AQAB",
        });
        if let Some(alg) = alg {
            v["alg"] = json!(alg);
        }
        v
    }

    #[test]
    fn skips_unusable_keys() {
        let doc = json!({"keys": [
            rsa_jwk("a", Some("RS256")),
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": URL_SAFE_NO_PAD.encode([1u8; 256]), "e": "AQAB"},
            {"kty": "RSA", "kid": "short", "n": URL_SAFE_NO_PAD.encode([1u8; 128]), "e": "AQAB"},
            rsa_jwk("ps", Some("PS256")),
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        ]});
        let set = KeySet::parse(&doc).unwrap();
        assert_eq!(set.len(), 1);
        assert!(matches!(
            set.select(Some("a"), Alg::Rs256),
            Selection::Found(_)
        ));
        assert!(matches!(
            set.select(Some("enc"), Alg::Rs256),
            Selection::NotFound
        ));
        assert!(matches!(
            set.select(Some("a"), Alg::Es256),
            Selection::Mismatch
        ));
    }

    #[test]
    fn rejects_non_jwks() {
        assert!(KeySet::parse(&json!({"foo": 1})).is_err());
        assert!(KeySet::parse(&json!({"keys": []})).is_err());
    }

    #[test]
    fn kidless_selection_needs_exactly_one_match() {
        let one = KeySet::parse(&json!({"keys": [rsa_jwk("a", None)]})).unwrap();
        assert!(matches!(one.select(None, Alg::Rs256), Selection::Found(_)));
        assert!(matches!(one.select(None, Alg::Es256), Selection::NotFound));
        let two =
            KeySet::parse(&json!({"keys": [rsa_jwk("a", None), rsa_jwk("b", None)]})).unwrap();
        assert!(matches!(two.select(None, Alg::Rs256), Selection::Ambiguous));
        assert!(matches!(
            two.select(Some("b"), Alg::Rs256),
            Selection::Found(_)
        ));
    }
}
