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
    },
}

#[tokio::main(flavor = "current_thread")]
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
        } => {
            medz1::up(&medz1::UpOptions {
                data,
                patients,
                seed,
                regenerate,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            })
            .await
        }
    }
}
