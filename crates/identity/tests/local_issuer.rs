//! The embedded issuer: key persistence, minted claims, and its HTTP routes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{bind, rsa_keys, serve};
use identity::{
    AuthError, IssuerConfig, IssuerError, LocalIssuer, MintRequest, Verifier, VerifierOptions,
};
use serde_json::Value;

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn router_serves_discovery_whose_jwks_uri_resolves() {
    let (listener, base) = bind().await;
    let issuer_url = format!("{base}/auth");
    let issuer = Arc::new(
        LocalIssuer::from_pkcs8_pem(&rsa_keys().0.pkcs8_pem, &format!("{issuer_url}/"), true)
            .unwrap(),
    );
    assert_eq!(issuer.issuer(), issuer_url, "trailing slash removed");
    serve(
        listener,
        axum::Router::new().nest("/auth", issuer.clone().router()),
    );

    let discovery = get_json(&format!("{issuer_url}/.well-known/openid-configuration")).await;
    assert_eq!(discovery, issuer.discovery());
    assert_eq!(discovery["issuer"], issuer_url.as_str());
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("{issuer_url}/jwks.json"));
    assert_eq!(get_json(jwks_uri).await, issuer.jwks());
    assert_eq!(
        get_json(&format!("{issuer_url}/protocol/openid-connect/certs")).await,
        issuer.jwks()
    );

    // A remote verifier using discovery accepts the issuer's tokens.
    let verifier = Verifier::new(
        vec![IssuerConfig::new(&issuer_url).with_audiences(["med-z8"])],
        VerifierOptions::default(),
    )
    .unwrap();
    let token = issuer
        .mint(&MintRequest {
            audience: Some("med-z8".into()),
            ..MintRequest::new("user-1")
        })
        .unwrap();
    assert_eq!(verifier.verify(&token).await.unwrap().sub, "user-1");
    // So does one pointed at the Keycloak-style certs path.
    let verifier = Verifier::new(
        vec![
            IssuerConfig::new(&issuer_url)
                .with_jwks_uri(format!("{issuer_url}/protocol/openid-connect/certs")),
        ],
        VerifierOptions::default(),
    )
    .unwrap();
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn load_or_create_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys").join("jwt-signing.pem");
    let url = "http://localhost:8000";

    let first = LocalIssuer::load_or_create(&path, url, false).unwrap();
    assert!(!first.is_development());
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // No temporary files left behind.
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );

    let token = first
        .mint(&MintRequest {
            email: Some("clinician.alpha@va.gov".into()),
            ..MintRequest::new("user-restart")
        })
        .unwrap();
    let kid = first.kid().to_owned();
    drop(first);

    // "Restart".
    let second = LocalIssuer::load_or_create(&path, url, false).unwrap();
    assert_eq!(second.kid(), kid);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    let principal = Verifier::with_local(&second, Vec::<String>::new())
        .verify(&token)
        .await
        .unwrap();
    assert_eq!(principal.sub, "user-restart");
    assert_eq!(
        principal.display_name.as_deref(),
        Some("clinician.alpha@va.gov")
    );

    // A different key at the same URL does not accept it.
    let other = LocalIssuer::from_pkcs8_pem(&rsa_keys().1.pkcs8_pem, url, false).unwrap();
    assert_eq!(
        Verifier::with_local(&other, Vec::<String>::new())
            .verify(&token)
            .await,
        Err(AuthError::UnknownKey(kid))
    );
}

#[test]
fn load_or_create_rejects_a_corrupt_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pem");
    std::fs::write(&path, "not a key").unwrap();
    assert!(matches!(
        LocalIssuer::load_or_create(&path, "http://x", true),
        Err(IssuerError::Key(_))
    ));
    // The file is left alone for a human to look at.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
}

#[tokio::test]
async fn minted_token_has_the_expected_header_and_claims() {
    let issuer =
        LocalIssuer::from_pkcs8_pem(&rsa_keys().0.pkcs8_pem, "https://med-z1.example/auth", true)
            .unwrap();
    assert!(issuer.is_development());
    let token = issuer
        .mint(&MintRequest {
            sub: "0b6f7c2e".into(),
            name: Some("Alpha Clinician".into()),
            email: Some("clinician.alpha@va.gov".into()),
            roles: vec!["clinician".into(), "ccow-admin".into()],
            azp: Some("med-z1".into()),
            audience: Some("med-z8".into()),
            ttl: Duration::from_secs(600),
        })
        .unwrap();

    let header = decode_part(&token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], issuer.kid());

    let claims = decode_part(&token, 1);
    assert_eq!(claims["iss"], "https://med-z1.example/auth");
    assert_eq!(claims["sub"], "0b6f7c2e");
    assert_eq!(claims["aud"], "med-z8");
    assert_eq!(claims["azp"], "med-z1");
    assert_eq!(claims["name"], "Alpha Clinician");
    assert_eq!(claims["email"], "clinician.alpha@va.gov");
    assert_eq!(
        claims["realm_access"]["roles"],
        serde_json::json!(["clinician", "ccow-admin"])
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert_eq!(claims["exp"].as_i64(), Some(iat + 600));
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    assert!((iat - common::now()).abs() <= 5);

    // jti is unique per token.
    let again = issuer.mint(&MintRequest::new("0b6f7c2e")).unwrap();
    assert_ne!(decode_part(&again, 1)["jti"], claims["jti"]);
    // Optional claims are omitted when not given.
    let minimal = decode_part(&again, 1);
    for absent in ["aud", "azp", "name", "email"] {
        assert!(minimal.get(absent).is_none(), "{absent}");
    }

    let p = Verifier::with_local(&issuer, ["med-z8"])
        .verify(&token)
        .await
        .unwrap();
    assert_eq!(p.sub, "0b6f7c2e");
    assert_eq!(p.roles, ["clinician", "ccow-admin"]);
    assert_eq!(p.azp.as_deref(), Some("med-z1"));
    assert_eq!(p.expires_at, iat + 600);
}

#[test]
fn mint_rejects_invalid_requests() {
    let issuer =
        LocalIssuer::from_pkcs8_pem(&rsa_keys().0.pkcs8_pem, "http://localhost", true).unwrap();
    assert!(matches!(
        issuer.mint(&MintRequest::new(" ")),
        Err(IssuerError::InvalidRequest(_))
    ));
    let zero = MintRequest {
        ttl: Duration::from_millis(500),
        ..MintRequest::new("u")
    };
    assert!(matches!(
        issuer.mint(&zero),
        Err(IssuerError::InvalidRequest(_))
    ));
}

#[test]
fn generated_issuer_publishes_its_key() {
    let issuer = LocalIssuer::generate("http://localhost:8000/", true).unwrap();
    assert_eq!(issuer.issuer(), "http://localhost:8000");
    let jwks = issuer.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["kid"], issuer.kid());
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256, "2048-bit modulus");
    let discovery = issuer.discovery();
    assert_eq!(discovery["issuer"], "http://localhost:8000");
    assert_eq!(discovery["jwks_uri"], "http://localhost:8000/jwks.json");
    // Debug output does not expose key material.
    let debug = format!("{issuer:?}");
    assert!(!debug.contains(key["n"].as_str().unwrap()));
}

#[test]
fn from_pkcs8_pem_rejects_garbage_and_bad_urls() {
    assert!(matches!(
        LocalIssuer::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "http://x",
            true
        ),
        Err(IssuerError::Key(_))
    ));
    assert!(matches!(
        LocalIssuer::from_pkcs8_pem(&rsa_keys().0.pkcs8_pem, "ftp://x", true),
        Err(IssuerError::InvalidIssuerUrl)
    ));
}
