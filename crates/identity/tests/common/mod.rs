//! Shared test support: key material generated once per test binary and a
//! tiny in-process identity provider on 127.0.0.1:0.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use identity::{AuthError, LocalIssuer, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rsa::pkcs1::{EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

/// One RSA test key in the forms the tests need.
pub struct RsaMaterial {
    pub pkcs8_pem: String,
    pub pkcs1_der: Vec<u8>,
    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub public_spki_pem: String,
    /// PKCS#1 public PEM (`BEGIN RSA PUBLIC KEY`).
    pub public_pkcs1_pem: String,
    /// Raw modulus bytes.
    pub n: Vec<u8>,
}

fn make_rsa() -> RsaMaterial {
    let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let public = key.to_public_key();
    RsaMaterial {
        pkcs8_pem: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        pkcs1_der: key.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        public_spki_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
        public_pkcs1_pem: public.to_pkcs1_pem(LineEnding::LF).unwrap(),
        n: public.n().to_bytes_be(),
    }
}

/// Two RSA keys (A and B, for rotation), generated once per test binary.
pub fn rsa_keys() -> &'static (RsaMaterial, RsaMaterial) {
    static KEYS: OnceLock<(RsaMaterial, RsaMaterial)> = OnceLock::new();
    KEYS.get_or_init(|| (make_rsa(), make_rsa()))
}

/// An ES256 (P-256) key and its hand-built JWK.
pub struct EcMaterial {
    pub kid: String,
    pub encoding_key: EncodingKey,
    pub jwk: Value,
}

pub fn ec_key() -> &'static EcMaterial {
    static KEY: OnceLock<EcMaterial> = OnceLock::new();
    KEY.get_or_init(|| {
        let secret = p256::SecretKey::random(&mut OsRng);
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        let point = secret.public_key().to_encoded_point(false);
        let kid = "ec-key-1".to_owned();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        });
        EcMaterial {
            kid,
            encoding_key: EncodingKey::from_ec_der(der.as_bytes()),
            jwk,
        }
    })
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Serve `router` on 127.0.0.1:0 (already bound listener) in the background.
pub fn serve(listener: tokio::net::TcpListener, router: Router) {
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
}

pub async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// Per-issuer state of the fake provider.
#[derive(Default)]
pub struct FakeIssuer {
    pub jwks: Mutex<Value>,
    /// Successful JWKS responses.
    pub jwks_fetches: AtomicUsize,
    /// All JWKS requests, including refused ones.
    pub jwks_attempts: AtomicUsize,
    /// All discovery requests, including refused ones.
    pub discovery_fetches: AtomicUsize,
}

#[derive(Default)]
struct IdpState {
    base: String,
    down: AtomicBool,
    rsa: FakeIssuer,
    ec: FakeIssuer,
}

/// A fake identity provider with two issuers:
/// `{base}/rsa` (RS256, LocalIssuer key A; can rotate to key B) and
/// `{base}/ec` (ES256), both reachable through OIDC discovery.
pub struct TestIdp {
    state: Arc<IdpState>,
    /// Mints RS256 tokens for `{base}/rsa` with key A.
    pub rsa_a: LocalIssuer,
    /// Same issuer URL, key B.
    pub rsa_b: LocalIssuer,
    pub rsa_a_key: EncodingKey,
}

impl TestIdp {
    pub async fn start() -> Self {
        let (listener, base) = bind().await;
        let (a, b) = rsa_keys();
        let rsa_issuer = format!("{base}/rsa");
        let rsa_a = LocalIssuer::from_pkcs8_pem(&a.pkcs8_pem, &rsa_issuer, true).unwrap();
        let rsa_b = LocalIssuer::from_pkcs8_pem(&b.pkcs8_pem, &rsa_issuer, true).unwrap();
        let state = Arc::new(IdpState {
            base: base.clone(),
            ..IdpState::default()
        });
        *state.rsa.jwks.lock().unwrap() = rsa_a.jwks();
        *state.ec.jwks.lock().unwrap() = json!({ "keys": [ec_key().jwk] });
        let router = Router::new()
            .route("/{which}/.well-known/openid-configuration", get(discovery))
            .route("/{which}/certs", get(certs))
            .with_state(state.clone());
        serve(listener, router);
        Self {
            state,
            rsa_a,
            rsa_b,
            rsa_a_key: EncodingKey::from_rsa_der(&a.pkcs1_der),
        }
    }

    pub fn base(&self) -> &str {
        &self.state.base
    }
    pub fn rsa_issuer(&self) -> String {
        format!("{}/rsa", self.state.base)
    }
    pub fn ec_issuer(&self) -> String {
        format!("{}/ec", self.state.base)
    }
    pub fn rsa(&self) -> &FakeIssuer {
        &self.state.rsa
    }
    pub fn ec(&self) -> &FakeIssuer {
        &self.state.ec
    }
    pub fn rsa_fetches(&self) -> usize {
        self.state.rsa.jwks_fetches.load(Ordering::SeqCst)
    }
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }
    pub fn set_rsa_jwks(&self, jwks: Value) {
        *self.state.rsa.jwks.lock().unwrap() = jwks;
    }

    /// Valid claims for the RSA issuer (aud `med-z8`, 5 minutes left).
    pub fn rsa_claims(&self) -> Value {
        standard_claims(&self.rsa_issuer())
    }

    /// Sign arbitrary claims with key A, kid A, typ JWT.
    pub fn sign_rsa(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.rsa_a.kid().to_owned());
        self.sign_rsa_with(header, claims)
    }

    pub fn sign_rsa_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.rsa_a_key).unwrap()
    }

    pub fn sign_ec(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(ec_key().kid.clone());
        jsonwebtoken::encode(&header, claims, &ec_key().encoding_key).unwrap()
    }
}

pub fn standard_claims(iss: &str) -> Value {
    let now = now();
    json!({
        "iss": iss,
        "sub": "user-123",
        "aud": "med-z8",
        "iat": now,
        "exp": now + 300,
        "name": "Alpha Clinician",
        "email": "clinician.alpha@va.gov",
        "preferred_username": "clinician.alpha",
        "azp": "med-z1",
        "realm_access": { "roles": ["clinician", "ccow-admin"] },
    })
}

fn which<'a>(state: &'a IdpState, which: &str) -> Option<&'a FakeIssuer> {
    match which {
        "rsa" => Some(&state.rsa),
        "ec" => Some(&state.ec),
        _ => None,
    }
}

async fn discovery(
    State(state): State<Arc<IdpState>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let Some(issuer) = which(&state, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    issuer.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let iss = format!("{}/{name}", state.base);
    axum::Json(json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/certs"),
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}

async fn certs(
    State(state): State<Arc<IdpState>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let Some(issuer) = which(&state, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    issuer.jwks_attempts.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    issuer.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let jwks = issuer.jwks.lock().unwrap().clone();
    axum::Json(jwks).into_response()
}

/// Verify a token that must be refused; also checks that the message does
/// not echo the token.
pub async fn expect_err(verifier: &Verifier, token: &str) -> AuthError {
    let err = verifier
        .verify(token)
        .await
        .expect_err("token should have been refused");
    let message = err.to_string();
    assert!(!message.is_empty());
    if token.len() > 8 {
        assert!(
            !message.contains(token),
            "message echoes the token: {message}"
        );
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(
                !message.contains(part),
                "message echoes a token part: {message}"
            );
        }
    }
    err
}
