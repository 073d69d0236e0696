//! `mock`: the synthetic CDW generator's command line.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mock",
    version,
    about = "Deterministic synthetic CDW (CDWWork + CDWWork2) and VistA site data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate DIR/cdw/CDWWork.sqlite, DIR/cdw/CDWWork2.sqlite, DIR/vista/… and DIR/reference/…
    Generate {
        /// Total patients, curated personas included (minimum: the persona count).
        #[arg(long, default_value_t = 50)]
        patients: u64,
        /// Random seed; the same seed, patient count and as-of day give byte-identical output.
        #[arg(long, default_value_t = 20_251_219)]
        seed: u64,
        /// Output directory.
        #[arg(long, default_value = "data/mock")]
        out: PathBuf,
        /// The extract's as-of day (YYYY-MM-DD); CDW facts run through the day before. Default: today (UTC).
        #[arg(long, value_parser = parse_day)]
        as_of: Option<NaiveDate>,
    },
    /// Create the CDWWork/CDWWork2 databases, schemas and tables in SQL Server and load a generated CDW.
    Load {
        /// ADO.NET connection string, e.g. "server=tcp:localhost,1433;user=sa;password=…;TrustServerCertificate=true".
        #[arg(long, env = "CDW_MSSQL")]
        mssql: String,
        /// Directory holding CDWWork.sqlite and CDWWork2.sqlite (from `mock generate`).
        #[arg(long, default_value = "data/mock/cdw")]
        cdw: PathBuf,
    },
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("expected YYYY-MM-DD: {e}"))
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
        Command::Generate {
            patients,
            seed,
            out,
            as_of,
        } => {
            let as_of = as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let opts = mock::GenerateOptions {
                patients,
                seed,
                out: out.clone(),
                as_of,
            };
            eprintln!(
                "generating {patients} patients (seed {seed}, as of {as_of}) into {}",
                out.display()
            );
            let summary = mock::generate(&opts).await?;
            print!("{}", mock::render_summary(&summary));
        }
        Command::Load { mssql, cdw } => {
            anyhow::ensure!(
                mock::synth::cdw_present(&cdw),
                "{} does not hold CDWWork.sqlite and CDWWork2.sqlite; run `mock generate` first",
                cdw.display()
            );
            let started = std::time::Instant::now();
            let loaded = mock::mssql::load(&mssql, &cdw, |t, n| {
                eprintln!("loaded {:<45} {n:>10} rows", t.qualified())
            })
            .await
            .context("loading the CDW into SQL Server")?;
            let total: u64 = loaded.iter().map(|(_, n)| n).sum();
            println!(
                "loaded {total} rows into {} tables in {:.1} s",
                loaded.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
