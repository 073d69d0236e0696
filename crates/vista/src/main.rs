//! `vista`: the VistA RPC Broker simulator (HTTP on :8003, XWB per site).

use anyhow::{Context, Result};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use vista::config::{Config, User};

#[derive(Parser)]
#[command(
    name = "vista",
    version,
    about = "VistA RPC Broker simulator: today's data of several sites over HTTP and XWB"
)]
struct Cli {
    /// The mock generator's `vista/` directory.
    #[arg(long, env = "VISTA_DATA_DIR", default_value = "data/mock/vista")]
    data: PathBuf,
    /// HTTP address.
    #[arg(long, env = "VISTA_ADDR", default_value = "127.0.0.1:8003")]
    addr: SocketAddr,
    /// HTTP port (overrides the port of --addr).
    #[arg(long)]
    port: Option<u16>,
    /// First XWB port: site k of the site list listens on this + k.
    #[arg(long, env = "VISTA_XWB_ADDR", default_value = "127.0.0.1:9430")]
    xwb_addr: SocketAddr,
    /// XWB base port (overrides the port of --xwb-addr).
    #[arg(long)]
    xwb_port: Option<u16>,
    /// Serve HTTP only.
    #[arg(long)]
    no_xwb: bool,
    /// Turn the simulated per-site latency off (benchmarks).
    #[arg(long, env = "VISTA_NO_LATENCY")]
    no_latency: bool,
    /// Site list (JSON `[{sta3n, name, description, latency_ms: [min, max], xwb_port}]`);
    /// default: `{data}/sites.json` with built-in latencies.
    #[arg(long, env = "VISTA_SITES")]
    sites: Option<PathBuf>,
    /// Broker users (JSON `[{access, verify, duz, name}]`); default: the
    /// documented development users.
    #[arg(long, env = "VISTA_USERS")]
    users: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct UserEntry {
    access: String,
    verify: String,
    duz: u64,
    name: String,
}

fn read<T: serde::de::DeserializeOwned>(path: &PathBuf) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn config(cli: Cli) -> Result<Config> {
    let mut c = Config::development(cli.data);
    c.http = cli.addr;
    if let Some(p) = cli.port {
        c.http.set_port(p);
    }
    c.xwb_host = cli.xwb_addr.ip();
    c.xwb_base_port = cli.xwb_port.unwrap_or(cli.xwb_addr.port());
    c.xwb_enabled = !cli.no_xwb;
    c.latency = !cli.no_latency;
    if let Some(path) = cli.sites {
        c.sites = Some(
            vista::data::read_sites(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        );
    }
    if let Some(path) = cli.users {
        let entries: Vec<UserEntry> = read(&path)?;
        anyhow::ensure!(!entries.is_empty(), "{}: no users", path.display());
        c.users = entries
            .into_iter()
            .map(|u| User {
                access: u.access,
                verify: u.verify,
                duz: u.duz,
                name: u.name,
            })
            .collect();
    }
    Ok(c)
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = config(Cli::parse())?;
    let http = tokio::net::TcpListener::bind(config.http)
        .await
        .with_context(|| format!("binding {}", config.http))?;
    let state = vista::build(config)?;
    let xwb = if state.config.xwb_enabled {
        vista::broker::bind(&state).await?
    } else {
        Vec::new()
    };
    tracing::info!(
        addr = %http.local_addr()?,
        sites = state.world.sites.len(),
        patients = state.world.registry.len(),
        latency = state.config.latency,
        "VistA simulator listening (HTTP)"
    );
    for (sta3n, l) in &xwb {
        tracing::info!(site = %sta3n, addr = %l.local_addr()?, "XWB broker listening");
    }
    vista::serve(http, xwb, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
