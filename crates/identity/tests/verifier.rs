//! Verifier behaviour against an in-process identity provider (hermetic:
//! everything runs on 127.0.0.1 with port 0).

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{TestIdp, b64, ec_key, expect_err, now, rsa_keys, standard_claims};
use identity::{
    AuthError, ConfigError, IssuerConfig, LocalIssuer, MintRequest, Verifier, VerifierOptions,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn options(min_refresh: Duration) -> VerifierOptions {
    VerifierOptions {
        min_refresh_interval: min_refresh,
        http_timeout: Duration::from_secs(5),
        ..VerifierOptions::default()
    }
}

/// Both issuers via discovery, audience `med-z8`, default options.
fn verifier(idp: &TestIdp) -> Verifier {
    verifier_with(idp, &["med-z8"], VerifierOptions::default())
}

fn verifier_with(idp: &TestIdp, audiences: &[&str], options: VerifierOptions) -> Verifier {
    Verifier::new(
        vec![
            IssuerConfig::new(idp.rsa_issuer()).with_audiences(audiences.iter().copied()),
            IssuerConfig::new(idp.ec_issuer()).with_audiences(audiences.iter().copied()),
        ],
        options,
    )
    .unwrap()
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn valid_rs256_token_via_discovery() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let token = idp.sign_rsa(&idp.rsa_claims());
    let p = v.verify(&token).await.unwrap();
    assert_eq!(p.sub, "user-123");
    assert_eq!(p.display_name.as_deref(), Some("Alpha Clinician"));
    assert_eq!(p.email.as_deref(), Some("clinician.alpha@va.gov"));
    assert_eq!(p.roles, ["clinician", "ccow-admin"]);
    assert!(p.has_role("ccow-admin"));
    assert!(!p.has_role("admin"));
    assert_eq!(p.azp.as_deref(), Some("med-z1"));
    assert_eq!(p.issuer, idp.rsa_issuer());
    assert!(p.expires_at > now());
    // Cached: a second verification fetches nothing.
    v.verify(&token).await.unwrap();
    assert_eq!(idp.rsa().discovery_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(idp.rsa_fetches(), 1);
    // The EC issuer was never touched.
    assert_eq!(idp.ec().jwks_attempts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn token_minted_by_local_issuer_verifies_remotely() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let token = idp
        .rsa_a
        .mint(&MintRequest {
            name: Some("Bravo".into()),
            roles: vec!["clinician".into()],
            azp: Some("med-z1".into()),
            audience: Some("med-z8".into()),
            ..MintRequest::new("user-b")
        })
        .unwrap();
    let p = v.verify(&token).await.unwrap();
    assert_eq!(p.sub, "user-b");
    assert_eq!(p.display_name.as_deref(), Some("Bravo"));
    assert_eq!(p.roles, ["clinician"]);
}

#[tokio::test]
async fn valid_es256_token() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let token = idp.sign_ec(&standard_claims(&idp.ec_issuer()));
    let p = v.verify(&token).await.unwrap();
    assert_eq!(p.sub, "user-123");
    assert_eq!(p.issuer, idp.ec_issuer());
    assert_eq!(idp.ec().jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn alg_none_is_rejected_before_key_lookup() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    for alg in ["none", "None", "NONE"] {
        let token = unsigned(&json!({"alg": alg, "typ": "JWT"}), &idp.rsa_claims(), "");
        assert_eq!(
            expect_err(&v, &token).await,
            AuthError::AlgorithmNotAllowed(alg.to_owned())
        );
    }
    // Even with a (garbage) signature and a valid kid.
    let token = unsigned(
        &json!({"alg": "none", "kid": idp.rsa_a.kid()}),
        &idp.rsa_claims(),
        "c2ln",
    );
    assert!(matches!(
        expect_err(&v, &token).await,
        AuthError::AlgorithmNotAllowed(_)
    ));
    assert_eq!(idp.rsa().jwks_attempts.load(Ordering::SeqCst), 0);
    assert_eq!(idp.rsa().discovery_fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn hmac_signed_with_public_key_material_is_rejected() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    // Warm the cache so the public key is "known" to the verifier.
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
    let a = &rsa_keys().0;
    let n_b64 = b64(&a.n);
    let secrets: [&[u8]; 4] = [
        a.public_spki_pem.as_bytes(),
        a.public_pkcs1_pem.as_bytes(),
        &a.n,
        n_b64.as_bytes(),
    ];
    for secret in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.kid = Some(idp.rsa_a.kid().to_owned());
            let token = jsonwebtoken::encode(
                &header,
                &idp.rsa_claims(),
                &EncodingKey::from_secret(secret),
            )
            .unwrap();
            let err = expect_err(&v, &token).await;
            assert_eq!(err, AuthError::AlgorithmNotAllowed(format!("{alg:?}")));
        }
    }
    // No refetch was caused by any of them.
    assert_eq!(idp.rsa().jwks_attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn other_asymmetric_algorithms_are_not_allowed() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    for alg in [Algorithm::RS512, Algorithm::PS256] {
        let mut header = Header::new(alg);
        header.kid = Some(idp.rsa_a.kid().to_owned());
        let token = idp.sign_rsa_with(header, &idp.rsa_claims());
        assert_eq!(
            expect_err(&v, &token).await,
            AuthError::AlgorithmNotAllowed(format!("{alg:?}"))
        );
    }
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let idp = TestIdp::start().await;
    let interval = Duration::from_millis(1000);
    let v = verifier_with(&idp, &["med-z8"], options(interval));
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
    assert_eq!(idp.rsa_fetches(), 1);

    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("no-such-key".into());
    let unknown = idp.sign_rsa_with(header, &idp.rsa_claims());

    // Right after the initial fetch: the interval has not passed, no refetch.
    assert_eq!(
        expect_err(&v, &unknown).await,
        AuthError::UnknownKey("no-such-key".into())
    );
    assert_eq!(idp.rsa_fetches(), 1);

    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    // First unknown kid after the interval: exactly one refetch.
    assert_eq!(
        expect_err(&v, &unknown).await,
        AuthError::UnknownKey("no-such-key".into())
    );
    assert_eq!(idp.rsa_fetches(), 2);
    // Second one within the interval: no refetch.
    expect_err(&v, &unknown).await;
    assert_eq!(idp.rsa_fetches(), 2);
    // Known keys keep working throughout.
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
    assert_eq!(idp.rsa_fetches(), 2);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let idp = TestIdp::start().await;
    let v = verifier_with(&idp, &["med-z8"], options(Duration::ZERO));
    let token = idp.sign_rsa(&idp.rsa_claims());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let v = v.clone();
            let token = token.clone();
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(idp.rsa_fetches(), 1);
    assert_eq!(idp.rsa().discovery_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn key_rotation_is_picked_up_after_refresh() {
    let idp = TestIdp::start().await;
    let interval = Duration::from_millis(200);
    let v = verifier_with(&idp, &["med-z8"], options(interval));
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();

    // The provider rotates to key B.
    idp.set_rsa_jwks(idp.rsa_b.jwks());
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    let token_b = idp
        .rsa_b
        .mint(&MintRequest {
            audience: Some("med-z8".into()),
            ..MintRequest::new("user-rotated")
        })
        .unwrap();
    assert_eq!(v.verify(&token_b).await.unwrap().sub, "user-rotated");
    assert_eq!(idp.rsa_fetches(), 2);
    // Key A is gone from the new set.
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&idp.rsa_claims())).await,
        AuthError::UnknownKey(idp.rsa_a.kid().to_owned())
    );
}

#[tokio::test]
async fn withdrawn_key_stops_working_after_max_key_age() {
    let idp = TestIdp::start().await;
    let v = verifier_with(
        &idp,
        &["med-z8"],
        VerifierOptions {
            min_refresh_interval: Duration::from_millis(100),
            max_key_age: Duration::from_millis(200),
            ..VerifierOptions::default()
        },
    );
    let token_a = idp.sign_rsa(&idp.rsa_claims());
    v.verify(&token_a).await.unwrap();
    idp.set_rsa_jwks(idp.rsa_b.jwks());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(
        expect_err(&v, &token_a).await,
        AuthError::UnknownKey(_)
    ));
    assert_eq!(idp.rsa_fetches(), 2);
}

#[tokio::test]
async fn wrong_issuer_is_rejected_without_network() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let mut claims = idp.rsa_claims();
    claims["iss"] = json!("http://127.0.0.1:1/realms/evil");
    let err = expect_err(&v, &idp.sign_rsa(&claims)).await;
    assert_eq!(
        err,
        AuthError::UnknownIssuer("http://127.0.0.1:1/realms/evil".into())
    );
    // A trailing slash is a different issuer.
    claims["iss"] = json!(format!("{}/", idp.rsa_issuer()));
    assert!(matches!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::UnknownIssuer(_)
    ));
    // No iss at all.
    claims.as_object_mut().unwrap().remove("iss");
    assert!(matches!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::Malformed(_)
    ));
    assert_eq!(idp.rsa().jwks_attempts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn audience_rules() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let mut claims = idp.rsa_claims();

    claims["aud"] = json!("someone-else");
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::WrongAudience
    );
    claims["aud"] = json!(["account", "other"]);
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::WrongAudience
    );
    claims.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::WrongAudience
    );
    // An array containing the audience is fine.
    claims["aud"] = json!(["account", "med-z8"]);
    v.verify(&idp.sign_rsa(&claims)).await.unwrap();
}

#[tokio::test]
async fn empty_audience_list_accepts_any_aud() {
    let idp = TestIdp::start().await;
    let v = verifier_with(&idp, &[], VerifierOptions::default());
    let mut claims = idp.rsa_claims();
    for aud in [json!("anything"), json!(["a", "b"]), json!(null)] {
        claims["aud"] = aud;
        v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    }
    claims.as_object_mut().unwrap().remove("aud");
    v.verify(&idp.sign_rsa(&claims)).await.unwrap();
}

#[tokio::test]
async fn expiry_and_not_before_with_leeway() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp); // leeway 30 s
    let mut claims = idp.rsa_claims();

    claims["exp"] = json!(now() - 120);
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::Expired
    );
    // Expired 10 s ago: within the leeway.
    claims["exp"] = json!(now() - 10);
    v.verify(&idp.sign_rsa(&claims)).await.unwrap();

    claims["exp"] = json!(now() + 300);
    claims["nbf"] = json!(now() + 120);
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::NotYetValid
    );
    claims["nbf"] = json!(now() + 10);
    v.verify(&idp.sign_rsa(&claims)).await.unwrap();

    // exp is required.
    claims.as_object_mut().unwrap().remove("exp");
    assert!(matches!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::Malformed(_)
    ));
    claims["exp"] = json!("tomorrow");
    assert!(matches!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::Malformed(_)
    ));
}

#[tokio::test]
async fn zero_leeway_rejects_just_expired() {
    let idp = TestIdp::start().await;
    let v = verifier_with(
        &idp,
        &["med-z8"],
        VerifierOptions {
            leeway: Duration::ZERO,
            ..VerifierOptions::default()
        },
    );
    let mut claims = idp.rsa_claims();
    claims["exp"] = json!(now() - 10);
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::Expired
    );
}

#[tokio::test]
async fn tampered_tokens_fail_signature() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let token = idp.sign_rsa(&idp.rsa_claims());
    let parts: Vec<&str> = token.split('.').collect();

    let mut claims = idp.rsa_claims();
    claims["realm_access"]["roles"] = json!(["superuser"]);
    let forged_payload = b64(claims.to_string().as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_eq!(expect_err(&v, &tampered).await, AuthError::BadSignature);

    // Flipped signature byte.
    let mut sig = parts[2].as_bytes().to_vec();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    assert_eq!(expect_err(&v, &tampered).await, AuthError::BadSignature);

    // Empty signature.
    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(expect_err(&v, &stripped).await, AuthError::BadSignature);

    // Signed by key B but claiming key A's kid.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(idp.rsa_a.kid().to_owned());
    let b_key = EncodingKey::from_rsa_der(&rsa_keys().1.pkcs1_der);
    let forged = jsonwebtoken::encode(&header, &idp.rsa_claims(), &b_key).unwrap();
    assert_eq!(expect_err(&v, &forged).await, AuthError::BadSignature);
}

#[tokio::test]
async fn malformed_tokens() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    assert_eq!(v.verify("").await, Err(AuthError::Missing));
    assert_eq!(v.verify("   ").await, Err(AuthError::Missing));
    for token in [
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        "%%%.e30.c2ln",
        "e30.%%%.c2ln",
        // header is JSON but not an object
        "WzFd.e30.c2ln",
    ] {
        assert!(
            matches!(expect_err(&v, token).await, AuthError::Malformed(_)),
            "{token}"
        );
    }
    // Missing alg.
    let token = unsigned(&json!({"typ": "JWT"}), &idp.rsa_claims(), "c2ln");
    assert!(matches!(
        expect_err(&v, &token).await,
        AuthError::Malformed(_)
    ));
    // crit header.
    let token = unsigned(
        &json!({"alg": "RS256", "crit": ["exp"], "exp": 1}),
        &idp.rsa_claims(),
        "c2ln",
    );
    assert!(matches!(
        expect_err(&v, &token).await,
        AuthError::Malformed(_)
    ));
}

#[tokio::test]
async fn subject_is_required() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let mut claims = idp.rsa_claims();
    claims["sub"] = json!("");
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::MissingSubject
    );
    claims.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        expect_err(&v, &idp.sign_rsa(&claims)).await,
        AuthError::MissingSubject
    );
}

#[tokio::test]
async fn missing_kid_needs_exactly_one_key() {
    let idp = TestIdp::start().await;
    let v = verifier_with(&idp, &["med-z8"], options(Duration::ZERO));
    let no_kid = idp.sign_rsa_with(Header::new(Algorithm::RS256), &idp.rsa_claims());
    v.verify(&no_kid).await.unwrap();

    // ES256 without kid against the one-key EC issuer.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = None;
    let ec_no_kid = jsonwebtoken::encode(
        &header,
        &standard_claims(&idp.ec_issuer()),
        &ec_key().encoding_key,
    )
    .unwrap();
    v.verify(&ec_no_kid).await.unwrap();

    // Two RSA keys published: a kid-less token is ambiguous.
    let mut both = idp.rsa_a.jwks();
    let b = idp.rsa_b.jwks()["keys"][0].clone();
    both["keys"].as_array_mut().unwrap().push(b);
    idp.set_rsa_jwks(both);
    let v = verifier_with(&idp, &["med-z8"], options(Duration::ZERO));
    assert_eq!(expect_err(&v, &no_kid).await, AuthError::AmbiguousKey);
    // With kid both keys work.
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
}

#[tokio::test]
async fn key_type_and_alg_must_match() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    // ES256 token naming the RSA key's kid at the RSA issuer.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(idp.rsa_a.kid().to_owned());
    let token = jsonwebtoken::encode(&header, &idp.rsa_claims(), &ec_key().encoding_key).unwrap();
    assert_eq!(
        expect_err(&v, &token).await,
        AuthError::KeyMismatch(idp.rsa_a.kid().to_owned())
    );

    // An RSA key that declares alg RS512 cannot verify RS256 tokens
    // (and, declaring an algorithm we never accept, is not usable at all).
    let mut jwks = idp.rsa_a.jwks();
    jwks["keys"][0]["alg"] = json!("RS512");
    let extra = json!({
        "kty": "RSA", "kid": "other", "alg": "RS256", "use": "sig",
        "n": jwks["keys"][0]["n"].clone(), "e": "AQAB",
    });
    jwks["keys"].as_array_mut().unwrap().push(extra);
    idp.set_rsa_jwks(jwks);
    let v = verifier(&idp);
    assert!(matches!(
        expect_err(&v, &idp.sign_rsa(&idp.rsa_claims())).await,
        AuthError::UnknownKey(_)
    ));
}

#[tokio::test]
async fn token_type_header() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    for typ in [
        Some("JWT"),
        Some("at+jwt"),
        Some("AT+JWT"),
        Some("application/at+jwt"),
        None,
    ] {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(idp.rsa_a.kid().to_owned());
        header.typ = typ.map(str::to_owned);
        v.verify(&idp.sign_rsa_with(header, &idp.rsa_claims()))
            .await
            .unwrap_or_else(|e| panic!("typ {typ:?}: {e}"));
    }
    for typ in ["foo", "JWE", "logout+jwt"] {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(idp.rsa_a.kid().to_owned());
        header.typ = Some(typ.to_owned());
        assert_eq!(
            expect_err(&v, &idp.sign_rsa_with(header, &idp.rsa_claims())).await,
            AuthError::WrongType(typ.to_owned())
        );
    }
}

#[tokio::test]
async fn roles_from_default_and_custom_claims() {
    let idp = TestIdp::start().await;
    let v = Verifier::new(
        vec![
            IssuerConfig::new(idp.rsa_issuer()),
            IssuerConfig::new(idp.ec_issuer()).with_roles_claim("resource_access.med-z8.roles"),
        ],
        VerifierOptions::default(),
    )
    .unwrap();
    // Default path: realm_access.roles.
    let p = v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
    assert_eq!(p.roles, ["clinician", "ccow-admin"]);

    // Custom path on the EC issuer.
    let mut claims = standard_claims(&idp.ec_issuer());
    claims["resource_access"] =
        json!({"med-z8": {"roles": ["vault-admin"]}, "other": {"roles": ["x"]}});
    let p = v.verify(&idp.sign_ec(&claims)).await.unwrap();
    assert_eq!(p.roles, ["vault-admin"]);
    assert!(p.has_role("vault-admin") && !p.has_role("clinician"));

    // Plain top-level `roles` when the configured claim is absent.
    let mut claims = idp.rsa_claims();
    claims.as_object_mut().unwrap().remove("realm_access");
    claims["roles"] = json!(["reader"]);
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert_eq!(p.roles, ["reader"]);

    // No roles at all.
    claims.as_object_mut().unwrap().remove("roles");
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert!(p.roles.is_empty());
}

#[tokio::test]
async fn display_name_fallbacks_and_azp() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let mut claims = idp.rsa_claims();
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert_eq!(p.display_name.as_deref(), Some("Alpha Clinician"));
    assert_eq!(p.azp.as_deref(), Some("med-z1"));

    let obj = claims.as_object_mut().unwrap();
    obj.remove("name");
    obj.remove("azp");
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert_eq!(p.display_name.as_deref(), Some("clinician.alpha"));
    assert_eq!(p.azp, None);

    claims.as_object_mut().unwrap().remove("preferred_username");
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert_eq!(p.display_name.as_deref(), Some("clinician.alpha@va.gov"));

    claims.as_object_mut().unwrap().remove("email");
    claims["name"] = json!("   ");
    let p = v.verify(&idp.sign_rsa(&claims)).await.unwrap();
    assert_eq!(p.display_name, None);
    assert_eq!(p.email, None);
}

#[tokio::test]
async fn jwks_down_on_first_use() {
    let idp = TestIdp::start().await;
    idp.set_down(true);
    let v = verifier_with(&idp, &["med-z8"], options(Duration::from_secs(30)));
    let token = idp.sign_rsa(&idp.rsa_claims());
    let err = expect_err(&v, &token).await;
    let AuthError::KeysUnavailable(reason) = &err else {
        panic!("unexpected {err:?}");
    };
    assert!(reason.contains("503"), "{reason}");
    let ready = v.check_ready().await;
    assert_eq!(ready.len(), 2);
    assert_eq!(ready[0].0, idp.rsa_issuer());
    assert!(ready[0].1.is_err());
    assert!(ready[1].1.is_err());

    // Rate-limited: the provider is not hammered while it is down.
    assert_eq!(idp.rsa().discovery_fetches.load(Ordering::SeqCst), 1);
    let attempts = idp.rsa().discovery_fetches.load(Ordering::SeqCst)
        + idp.rsa().jwks_attempts.load(Ordering::SeqCst);
    expect_err(&v, &token).await;
    assert_eq!(
        idp.rsa().discovery_fetches.load(Ordering::SeqCst)
            + idp.rsa().jwks_attempts.load(Ordering::SeqCst),
        attempts
    );
}

#[tokio::test]
async fn unreachable_provider_is_keys_unavailable() {
    // A port nobody listens on (bound, then released).
    let (listener, base) = common::bind().await;
    drop(listener);
    let v = Verifier::new(
        vec![IssuerConfig::new(format!("{base}/realms/x"))],
        VerifierOptions {
            http_timeout: Duration::from_secs(2),
            ..VerifierOptions::default()
        },
    )
    .unwrap();
    let token = {
        let idp = TestIdp::start().await;
        idp.sign_rsa(&standard_claims(&format!("{base}/realms/x")))
    };
    assert!(matches!(
        expect_err(&v, &token).await,
        AuthError::KeysUnavailable(_)
    ));
}

#[tokio::test]
async fn jwks_down_on_refresh_keeps_cached_keys() {
    let idp = TestIdp::start().await;
    let interval = Duration::from_millis(200);
    let v = verifier_with(&idp, &["med-z8"], options(interval));
    let token = idp.sign_rsa(&idp.rsa_claims());
    v.verify(&token).await.unwrap();

    idp.set_down(true);
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated-away".into());
    let unknown = idp.sign_rsa_with(header, &idp.rsa_claims());
    assert!(matches!(
        expect_err(&v, &unknown).await,
        AuthError::UnknownKey(_)
    ));
    assert_eq!(idp.rsa().jwks_attempts.load(Ordering::SeqCst), 2);
    // The cached key still verifies, and readiness still reports it.
    v.verify(&token).await.unwrap();
    let ready = v.check_ready().await;
    assert_eq!(ready[0].1, Ok(1));
}

#[tokio::test]
async fn check_ready_reports_key_counts() {
    let idp = TestIdp::start().await;
    let v = verifier(&idp);
    let ready = v.check_ready().await;
    assert_eq!(
        ready,
        vec![(idp.rsa_issuer(), Ok(1)), (idp.ec_issuer(), Ok(1))]
    );
    // Already loaded: no further fetches.
    v.check_ready().await;
    assert_eq!(idp.rsa_fetches(), 1);
    assert_eq!(
        v.issuers().collect::<Vec<_>>(),
        [idp.rsa_issuer(), idp.ec_issuer()]
    );
}

#[tokio::test]
async fn explicit_jwks_uri_skips_discovery() {
    let idp = TestIdp::start().await;
    let v = Verifier::new(
        vec![
            IssuerConfig::new(idp.rsa_issuer())
                .with_jwks_uri(format!("{}/certs", idp.rsa_issuer())),
        ],
        VerifierOptions::default(),
    )
    .unwrap();
    v.verify(&idp.sign_rsa(&idp.rsa_claims())).await.unwrap();
    assert_eq!(idp.rsa().discovery_fetches.load(Ordering::SeqCst), 0);
    assert_eq!(idp.rsa_fetches(), 1);
}

#[tokio::test]
async fn static_local_issuer_needs_no_http() {
    let (a, _) = rsa_keys();
    let local = LocalIssuer::from_pkcs8_pem(&a.pkcs8_pem, "http://127.0.0.1:9/auth", true).unwrap();
    let token = local
        .mint(&MintRequest {
            audience: Some("med-z1".into()),
            ..MintRequest::new("u1")
        })
        .unwrap();

    let v = Verifier::with_local(&local, ["med-z1"]);
    assert_eq!(v.verify(&token).await.unwrap().sub, "u1");
    assert_eq!(v.check_ready().await[0].1, Ok(1));

    let v = Verifier::new(
        vec![IssuerConfig::local(&local).with_audiences(["other"])],
        VerifierOptions::default(),
    )
    .unwrap();
    assert_eq!(v.verify(&token).await, Err(AuthError::WrongAudience));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("nope".into());
    let claims = standard_claims("http://127.0.0.1:9/auth");
    let unknown =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(&a.pkcs1_der)).unwrap();
    assert_eq!(
        v.verify(&unknown).await,
        Err(AuthError::UnknownKey("nope".into()))
    );
}

#[test]
fn configuration_errors() {
    let dup = Verifier::new(
        vec![IssuerConfig::new("http://a"), IssuerConfig::new("http://a")],
        VerifierOptions::default(),
    );
    assert_eq!(
        dup.unwrap_err(),
        ConfigError::DuplicateIssuer("http://a".into())
    );
    assert_eq!(
        Verifier::new(vec![IssuerConfig::new("")], VerifierOptions::default()).unwrap_err(),
        ConfigError::EmptyIssuer
    );
    let mut bad = IssuerConfig::new("http://b");
    bad.keys = identity::KeySource::Static(json!({"keys": []}));
    assert!(matches!(
        Verifier::new(vec![bad], VerifierOptions::default()),
        Err(ConfigError::InvalidJwks { .. })
    ));
}

#[test]
fn verifier_and_its_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let v = Verifier::new(
        vec![IssuerConfig::new("http://a")],
        VerifierOptions::default(),
    )
    .unwrap();
    assert_send_sync(&v);
    let verify = v.verify("x.y.z");
    assert_send(&verify);
    let ready = v.check_ready();
    assert_send(&ready);
}
