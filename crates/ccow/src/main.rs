//! `ccow`: the context vault (port 8001), and `ccow dev-token`.

use anyhow::{Context, Result};
use ccow::config::{Config, DevIssuer, IdentityConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ccow",
    version,
    about = "CCOW context vault: one active patient per user, shared by every application"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the vault (the default).
    Serve,
    /// Print a token the development issuer accepts.
    DevToken {
        /// The user id (`sub`).
        #[arg(long)]
        sub: String,
        /// Roles (repeatable), e.g. `--role admin`.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// The application the token is for (`azp`, the trusted `set_by`).
        #[arg(long)]
        client: Option<String>,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u64,
    },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn list(name: &str) -> Vec<String> {
    env(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match env(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| anyhow::anyhow!("{name}={v:?}: {e}")),
    }
}

/// The configuration, from the environment (read once, here).
fn config() -> Result<Config> {
    let data_dir = PathBuf::from(env("CCOW_DATA_DIR").unwrap_or_else(|| "data".into()));
    let mut c = Config::development(&data_dir);
    c.bind = parse("CCOW_ADDR", c.bind)?;
    c.public_url = env("CCOW_PUBLIC_URL").unwrap_or_else(|| format!("http://{}", c.bind));
    c.store_url = env("CCOW_STORE_URL").unwrap_or(c.store_url);
    c.environment = env("ENVIRONMENT").unwrap_or(c.environment);
    let issuers = list("OIDC_ISSUER_URL");
    let dev = match env("CCOW_DEV_ISSUER").as_deref() {
        Some("1" | "true" | "yes") => true,
        Some("0" | "false" | "no") => false,
        Some(v) => anyhow::bail!("CCOW_DEV_ISSUER={v:?}: expected true or false"),
        None => issuers.is_empty(),
    };
    c.identity = IdentityConfig {
        oidc_issuers: issuers,
        audiences: list("OIDC_AUDIENCE"),
        roles_claim: env("OIDC_ROLES_CLAIM").unwrap_or(c.identity.roles_claim),
        development: dev.then(|| DevIssuer {
            key_path: data_dir.join("ccow-dev-issuer.pem"),
            issuer: format!("{}/dev-issuer", c.public_url.trim_end_matches('/')),
        }),
    };
    c.admin_role = env("CCOW_ADMIN_ROLE").unwrap_or(c.admin_role);
    c.session_introspection = env("CCOW_SESSION_INTROSPECTION_URL");
    c.session_introspection_secret = env("CCOW_SESSION_INTROSPECTION_KEY");
    c.history_per_user = parse("CCOW_HISTORY_PER_USER", c.history_per_user)?;
    c.context_ttl = Duration::from_secs(parse("CCOW_CONTEXT_TTL_SECS", c.context_ttl.as_secs())?);
    c.cleanup_interval = Duration::from_secs(
        parse("CCOW_CLEANUP_INTERVAL_SECS", c.cleanup_interval.as_secs())?.max(1),
    );
    c.max_body_bytes = parse("CCOW_MAX_BODY_BYTES", c.max_body_bytes)?;
    c.fhircast_lease =
        Duration::from_secs(parse("CCOW_FHIRCAST_LEASE_SECS", c.fhircast_lease.as_secs())?.max(1));
    c.fhircast_ack_timeout = Duration::from_millis(
        parse(
            "CCOW_FHIRCAST_ACK_TIMEOUT_MS",
            c.fhircast_ack_timeout.as_millis() as u64,
        )?
        .max(1),
    );
    Ok(c)
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = config()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            let state = ccow::build(config).await?;
            tracing::info!(
                addr = %listener.local_addr()?,
                store = ccow_store::ContextStore::backend(&*state.store),
                "CCOW vault listening"
            );
            ccow::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
        Command::DevToken {
            sub,
            roles,
            name,
            email,
            client,
            ttl_minutes,
        } => {
            let issuer = ccow::dev_issuer(&config)?.context(
                "the development issuer is disabled (OIDC_ISSUER_URL is set; set CCOW_DEV_ISSUER=true to enable it)",
            )?;
            let mut req = identity::MintRequest::new(sub);
            req.roles = roles;
            req.name = name;
            req.email = email;
            req.azp = client;
            req.audience = config.identity.audiences.first().cloned();
            req.ttl = Duration::from_secs(ttl_minutes.max(1) * 60);
            println!("{}", issuer.mint(&req)?);
            Ok(())
        }
    }
}
