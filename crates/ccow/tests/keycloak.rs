//! The vault against an OIDC provider shaped like the docker-compose
//! Keycloak realm (`deploy/keycloak/va-development-realm.json`): discovery
//! under `/realms/va-development`, JWKS, and Keycloak-style access tokens
//! (`aud` list with `medz1-ccow`, `azp`, `realm_access.roles`). Keycloak
//! itself cannot run here; this checks everything the vault relies on.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

const REALM: &str = "/realms/va-development";

/// A stand-in identity provider; returns its issuer URL and signing key.
async fn provider(dir: &std::path::Path) -> (String, String, jsonwebtoken::EncodingKey) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer_url = format!("http://{}{REALM}", l.local_addr().unwrap());
    let key_path = dir.join("realm-key.pem");
    let issuer = identity::LocalIssuer::load_or_create(&key_path, &issuer_url, false).unwrap();
    let kid = issuer.kid().to_string();
    let key = {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        let pem = std::fs::read_to_string(&key_path).unwrap();
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        jsonwebtoken::EncodingKey::from_rsa_der(k.to_pkcs1_der().unwrap().as_bytes())
    };
    let app = axum::Router::new().nest_service(REALM, Arc::new(issuer).router());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (issuer_url, kid, key)
}

/// An access token as Keycloak 26 issues it to `medz1-web`.
fn keycloak_token(
    iss: &str,
    kid: &str,
    key: &jsonwebtoken::EncodingKey,
    user: &str,
    roles: &[&str],
    aud: Value,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut realm_roles = vec![
        "default-roles-va-development",
        "offline_access",
        "uma_authorization",
    ];
    realm_roles.extend_from_slice(roles);
    let claims = json!({
        "exp": now + 300, "iat": now, "auth_time": now, "jti": "onrtac:0b0d6b0a",
        "iss": iss, "aud": aud, "sub": format!("5f1c9a1e-{user}"), "typ": "Bearer",
        "azp": "medz1-web", "sid": "2c5e", "acr": "1",
        "allowed-origins": ["http://localhost:8000"],
        "realm_access": {"roles": realm_roles},
        "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
        "scope": "openid profile email", "email_verified": true,
        "name": "Alpha Clinician", "preferred_username": user, "given_name": "Alpha",
        "family_name": "Clinician", "email": user, "sta3n": "508", "degree": "MD",
    });
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(kid.to_string());
    jsonwebtoken::encode(&h, &claims, key).unwrap()
}

#[tokio::test]
async fn keycloak_shaped_tokens_just_work() {
    let dir = tempfile::tempdir().unwrap();
    let (iss, kid, key) = provider(dir.path()).await;
    let mut c = config(dir.path());
    c.identity.oidc_issuers = vec![iss.clone()];
    c.identity.audiences = vec!["medz1-ccow".into()];
    c.identity.development = None;
    let v = start_with(c).await;

    let (s, ready) = body(http().get(v.url("/ready")).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{ready}");
    assert_eq!(ready["development_issuer"], json!(false));
    assert_eq!(ready["checks"]["jwks"][&iss]["keys"], json!(1));

    let alpha = keycloak_token(
        &iss,
        &kid,
        &key,
        "clinician.alpha@va.gov",
        &["clinician", "physician"],
        json!(["medz1-ccow", "account"]),
    );
    let b = put_patient(&v, &alpha, "1016V123456").await;
    // `azp` is the trusted application; `email` the user's address.
    assert_eq!(b["set_by"], json!("medz1-web"));
    assert_eq!(b["email"], json!("clinician.alpha@va.gov"));
    assert_eq!(b["user_id"], json!("5f1c9a1e-clinician.alpha@va.gov"));
    let r = http()
        .get(v.url("/ccow/active-patients"))
        .bearer_auth(&alpha)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "realm roles without admin"
    );
    let admin = keycloak_token(
        &iss,
        &kid,
        &key,
        "clinician.echo@va.gov",
        &["admin"],
        json!(["medz1-ccow", "account"]),
    );
    let r = http()
        .get(v.url("/ccow/active-patients"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A token for another audience, or from a development issuer, is refused.
    let other = keycloak_token(
        &iss,
        &kid,
        &key,
        "clinician.alpha@va.gov",
        &[],
        json!("account"),
    );
    assert_eq!(get_patient(&v, &other).await.0, StatusCode::UNAUTHORIZED);
    let stranger =
        identity::LocalIssuer::generate("http://127.0.0.1:8001/dev-issuer", true).unwrap();
    let t = stranger
        .mint(&identity::MintRequest::new("clinician.alpha"))
        .unwrap();
    assert_eq!(get_patient(&v, &t).await.0, StatusCode::UNAUTHORIZED);
    // Without the development issuer, no dev-issuer routes either.
    let r = http()
        .get(v.url("/dev-issuer/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_compose_realm_gives_the_vault_what_it_needs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/keycloak/va-development-realm.json"
    );
    let realm: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(realm["realm"], json!("va-development"));
    let roles: Vec<&str> = realm["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"admin"), "{roles:?}");
    let clients = realm["clients"].as_array().unwrap();
    let web = clients
        .iter()
        .find(|c| c["clientId"] == json!("medz1-web"))
        .unwrap();
    let audience = web["protocolMappers"].as_array().unwrap().iter().any(|m| {
        m["protocolMapper"] == json!("oidc-audience-mapper")
            && m["config"]["included.client.audience"] == json!("medz1-ccow")
            && m["config"]["access.token.claim"] == json!("true")
    });
    assert!(audience, "medz1-web tokens must carry aud medz1-ccow");
    assert!(
        clients
            .iter()
            .any(|c| c["clientId"] == json!("medz1-ccow") && c["bearerOnly"] == json!(true))
    );
    // The compose file points the vault at this realm with that audience.
    let compose = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docker-compose.yml"
    ))
    .unwrap();
    for needed in [
        "OIDC_ISSUER_URL: http://keycloak:8080/realms/va-development",
        "OIDC_AUDIENCE: medz1-ccow",
        "CCOW_STORE_URL: redis://redis:6379",
        "CCOW_ADDR: 0.0.0.0:8001",
    ] {
        assert!(
            compose.contains(needed),
            "docker-compose.yml lacks {needed}"
        );
    }
}
