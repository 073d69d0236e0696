//! `medz1`: one command to bring the med-z1 stack up on embedded defaults.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "medz1",
    version,
    about = "med-z1 launcher: demo data and services on embedded defaults"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate demo data if missing, then bring the stack up (see `medz1 up --help`).
    Up {
        /// Data directory (CDW, lake, serving DB, VistA site files).
        #[arg(long, default_value = "data", env = "MEDZ1_DATA")]
        data: PathBuf,
        /// Patients in the demo CDW when it has to be generated.
        #[arg(long, default_value_t = 500)]
        patients: u64,
        /// Seed for the demo CDW.
        #[arg(long, default_value_t = 20_251_219)]
        seed: u64,
        /// Regenerate the demo CDW even if one exists.
        #[arg(long)]
        regenerate: bool,
        /// Web UI port.
        #[arg(long, default_value_t = 8000)]
        web_port: u16,
        /// CCOW vault port.
        #[arg(long, default_value_t = 8001)]
        ccow_port: u16,
        /// VistA simulator HTTP port.
        #[arg(long, default_value_t = 8003)]
        vista_port: u16,
        /// First VistA XWB port (one per site).
        #[arg(long, default_value_t = 9430)]
        xwb_port: u16,
        /// Prepare the data only; start no services.
        #[arg(long)]
        no_serve: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Up {
            data,
            patients,
            seed,
            regenerate,
            web_port,
            ccow_port,
            vista_port,
            xwb_port,
            no_serve,
        } => {
            medz1::up(&medz1::UpOptions {
                data: data.clone(),
                patients,
                seed,
                regenerate,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            })
            .await?;
            if no_serve {
                return Ok(());
            }
            let demo_password = match std::env::var("MEDZ1_DEMO_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => web::config::DEV_DEMO_PASSWORD.to_string(),
            };
            let running = medz1::start(
                &data,
                medz1::Ports {
                    web: web_port,
                    ccow: ccow_port,
                    vista: vista_port,
                    xwb: xwb_port,
                },
                &medz1::WebOptions {
                    demo_password: demo_password.clone(),
                    ..Default::default()
                },
            )
            .await?;
            let shown = if std::env::var("MEDZ1_DEMO_PASSWORD").is_ok_and(|p| !p.is_empty()) {
                "the value of MEDZ1_DEMO_PASSWORD".to_string()
            } else {
                format!(
                    "{demo_password} (development default; set MEDZ1_DEMO_PASSWORD to change it)"
                )
            };
            println!("\nmed-z1 is up:");
            println!("  web    http://{}  ← open this", running.web);
            println!("         sign in as clinician.alpha@va.gov … clinician.golf@va.gov");
            println!("         password: {shown}");
            println!(
                "  ccow   http://{}  (API docs: /docs; token: cargo run -p ccow -- dev-token --sub USER with CCOW_DATA_DIR={})",
                running.ccow,
                data.display()
            );
            println!(
                "  vista  http://{}  (XWB: {})",
                running.vista,
                running
                    .xwb
                    .iter()
                    .map(|(s, p)| format!("site {s} on {p}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("\nCtrl-C stops everything.");
            tokio::signal::ctrl_c().await?;
            println!("stopping…");
            running.stop().await
        }
    }
}
