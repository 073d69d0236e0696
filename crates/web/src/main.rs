//! `web`: the clinician UI. `cargo run -p web` serves it on
//! 127.0.0.1:8000 from `data/serving.db`, with the vault on :8001.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use web::config::{Config, DEV_DEMO_PASSWORD};

#[derive(Parser)]
#[command(name = "web", version, about = "med-z1 clinician UI")]
struct Cli {
    /// Listen address.
    #[arg(long, env = "WEB_ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// The URL browsers use (default: http://ADDR).
    #[arg(long, env = "WEB_PUBLIC_URL")]
    public_url: Option<String>,
    /// Data directory (serving DB default, issuer key).
    #[arg(long, env = "MEDZ1_DATA", default_value = "data")]
    data: PathBuf,
    /// Serving DB: sqlite://PATH or postgres://… (default: DATA/serving.db).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The CCOW vault; `none` runs without shared context.
    #[arg(long, env = "CCOW_URL", default_value = "http://127.0.0.1:8001")]
    ccow_url: String,
    /// `aud` of the tokens minted for the vault.
    #[arg(long, env = "CCOW_AUDIENCE")]
    ccow_audience: Option<String>,
    /// The VistA RPC broker's HTTP API; `none` disables "Refresh from VistA".
    #[arg(long, env = "VISTA_URL", default_value = "http://127.0.0.1:8003")]
    vista_url: String,
    /// The VistA patient registry (default: DATA/mock/vista/patient_registry.json).
    #[arg(long, env = "VISTA_REGISTRY")]
    vista_registry: Option<PathBuf>,
    #[arg(long, env = "SESSION_TIMEOUT_MINUTES", default_value_t = 25)]
    session_timeout_minutes: u64,
    /// Mark cookies Secure (HTTPS).
    #[arg(long, env = "SESSION_COOKIE_SECURE", default_value_t = false)]
    cookie_secure: bool,
    #[arg(long, env = "LOGIN_MAX_FAILED_ATTEMPTS", default_value_t = 5)]
    max_failed_attempts: u32,
    /// Lockout length; 0 = until an administrator unlocks.
    #[arg(long, env = "LOGIN_LOCKOUT_MINUTES", default_value_t = 15)]
    lockout_minutes: u64,
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12)]
    bcrypt_cost: u32,
    /// Shared with the vault for session introspection; `none` disables it.
    #[arg(long, env = "MEDZ1_INTROSPECTION_KEY", default_value = web::config::DEV_INTROSPECTION_KEY)]
    introspection_key: String,
    /// `production` refuses development defaults.
    #[arg(long, env = "ENVIRONMENT", default_value = "development")]
    environment: String,
    /// Trust X-Forwarded-For (behind a reverse proxy).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    trust_forwarded_for: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the UI (the default).
    Serve {
        /// Do not create or update the demo clinicians.
        #[arg(long)]
        no_demo_users: bool,
    },
    /// Create or update the demo clinicians (password: MEDZ1_DEMO_PASSWORD).
    SeedDemoUsers,
    /// Clear a user's lockout.
    UnlockUser { email: String },
}

impl Cli {
    fn config(&self) -> Result<Config> {
        let mut c = Config::development(&self.data);
        c.bind = self.addr;
        c.public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr));
        if let Some(url) = &self.database_url {
            c.database_url = url.clone();
        }
        c.ccow_url = match self.ccow_url.as_str() {
            "none" | "" => None,
            url => Some(url.to_string()),
        };
        c.ccow_audience = self.ccow_audience.clone();
        c.vista_url = match self.vista_url.as_str() {
            "none" | "" => None,
            url => Some(url.to_string()),
        };
        if let Some(r) = &self.vista_registry {
            c.vista_registry = r.clone();
        }
        anyhow::ensure!(
            self.session_timeout_minutes > 0,
            "SESSION_TIMEOUT_MINUTES must be at least 1"
        );
        c.session.timeout = Duration::from_secs(self.session_timeout_minutes * 60);
        c.session.cookie_secure = self.cookie_secure;
        anyhow::ensure!(
            self.max_failed_attempts > 0,
            "LOGIN_MAX_FAILED_ATTEMPTS must be at least 1"
        );
        c.login.max_failed_attempts = self.max_failed_attempts;
        c.login.lockout =
            (self.lockout_minutes > 0).then(|| Duration::from_secs(self.lockout_minutes * 60));
        anyhow::ensure!(
            (4..=31).contains(&self.bcrypt_cost),
            "BCRYPT_COST must be between 4 and 31"
        );
        c.login.bcrypt_cost = self.bcrypt_cost;
        c.introspection_key = match self.introspection_key.as_str() {
            "none" | "" => None,
            k => Some(k.to_string()),
        };
        c.environment = self.environment.clone();
        c.trust_forwarded_for = self.trust_forwarded_for;
        Ok(c)
    }
}

/// The demo password: `MEDZ1_DEMO_PASSWORD`, or the documented development
/// default (refused in production).
fn demo_password(config: &Config) -> Result<String> {
    match std::env::var("MEDZ1_DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ if config.is_production() => {
            anyhow::bail!("set MEDZ1_DEMO_PASSWORD to seed demo users in production")
        }
        _ => Ok(DEV_DEMO_PASSWORD.to_string()),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = cli.config()?;
    match cli.command.unwrap_or(Command::Serve {
        no_demo_users: false,
    }) {
        Command::SeedDemoUsers => {
            let state = web::build(config.clone()).await?;
            let n = web::seed::demo_users(
                state.store(),
                &demo_password(&config)?,
                config.login.bcrypt_cost,
            )
            .await?;
            println!("demo clinicians: {n} created or updated");
            Ok(())
        }
        Command::UnlockUser { email } => {
            let state = web::build(config).await?;
            let now = chrono::Utc::now().naive_utc();
            if state.store().unlock_user(&email, now).await? {
                println!("unlocked {email}");
                Ok(())
            } else {
                anyhow::bail!("no user with email {email}")
            }
        }
        Command::Serve { no_demo_users } => {
            let state = web::build(config.clone()).await?;
            if !no_demo_users && !config.is_production() {
                web::seed::demo_users(
                    state.store(),
                    &demo_password(&config)?,
                    config.login.bcrypt_cost,
                )
                .await?;
            }
            let listener = tokio::net::TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            tracing::info!(addr = %listener.local_addr()?, "med-z1 web listening");
            web::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
    }
}
