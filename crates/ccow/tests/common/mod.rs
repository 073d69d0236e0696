//! Shared test support: a vault on 127.0.0.1:0 with the development issuer,
//! tokens (valid and forged) and small HTTP helpers.

#![allow(dead_code)]

use ccow::config::Config;
use identity::MintRequest;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Vault {
    pub base: String,
    pub issuer: identity::LocalIssuer,
    /// The development issuer's private key (PKCS#8 PEM), for forging.
    pub key_pem: String,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Vault {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A development configuration rooted at `dir`, on port 0.
pub fn config(dir: &Path) -> Config {
    let mut c = Config::development(dir);
    c.bind = "127.0.0.1:0".parse().unwrap();
    c
}

/// Starts a vault with `config` (its bind address decides the port).
pub async fn start_with(mut config: Config) -> Vault {
    let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    config.public_url = base.clone();
    if let Some(d) = &mut config.identity.development {
        d.issuer = format!("{base}/dev-issuer");
    }
    // Without a development issuer (an external provider), `issuer` is a
    // stranger whose tokens the vault must refuse.
    let (issuer, key_pem) = match ccow::dev_issuer(&config).unwrap() {
        Some(i) => {
            let key_path: PathBuf = config
                .identity
                .development
                .as_ref()
                .unwrap()
                .key_path
                .clone();
            (i, std::fs::read_to_string(key_path).unwrap())
        }
        None => (
            identity::LocalIssuer::generate(&format!("{base}/stranger"), true).unwrap(),
            String::new(),
        ),
    };
    let state = ccow::build(config.clone()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(ccow::serve(listener, state, async {
        let _ = rx.await;
    }));
    Vault {
        base,
        issuer,
        key_pem,
        config,
        stop: Some(tx),
        done: Some(done),
    }
}

/// A vault in `dir` with defaults changed by `tweak`.
pub async fn start_in(dir: &Path, tweak: impl FnOnce(&mut Config)) -> Vault {
    let mut c = config(dir);
    tweak(&mut c);
    start_with(c).await
}

impl Vault {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        let mut r = MintRequest::new(sub);
        r.roles = roles.iter().map(|s| s.to_string()).collect();
        r.email = Some(format!("{sub}@va.gov"));
        r.ttl = Duration::from_secs(600);
        r.audience = self.config.identity.audiences.first().cloned();
        self.issuer.mint(&r).unwrap()
    }

    pub fn token_for_app(&self, sub: &str, app: &str) -> String {
        let mut r = MintRequest::new(sub);
        r.azp = Some(app.to_string());
        r.ttl = Duration::from_secs(600);
        r.audience = self.config.identity.audiences.first().cloned();
        self.issuer.mint(&r).unwrap()
    }

    /// Stops the vault and waits until it has let go of its port and store.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            d.await.unwrap().unwrap();
        }
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Status and JSON body (or the text, as a JSON string).
pub async fn body(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn put_patient(v: &Vault, token: &str, icn: &str) -> Value {
    let (s, b) = body(
        http()
            .put(v.url("/ccow/active-patient"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "patient_id": icn, "set_by": "test" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

pub async fn get_patient(v: &Vault, token: &str) -> (StatusCode, Value) {
    body(
        http()
            .get(v.url("/ccow/active-patient"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}
