//! `etl`: the medallion pipeline's operator interface.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use etl::{Options, Report, Step};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// See the `mimalloc` dependency in Cargo.toml: glibc malloc keeps freed
/// frame buffers in per-thread arenas, roughly doubling peak RSS.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "etl",
    version,
    about = "med-z1 medallion ETL: CDW → bronze → silver → gold → serving DB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// CDW: a directory with CDWWork.sqlite/CDWWork2.sqlite, sqlite://DIR,
    /// mssql://user:pass@host:port or an ADO string.
    #[arg(long, env = "CDW_URL", default_value = "data/mock/cdw")]
    cdw: String,
    /// Lake: a directory, file:///DIR or s3://bucket/prefix.
    #[arg(long, env = "LAKE_URL", default_value = "data/lake")]
    lake: String,
    /// Serving DB: sqlite://PATH or postgres://….
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/serving.db")]
    serving: String,
    /// Drug–drug interaction CSV (default: <cdw>/../reference/db_drug_interactions.csv).
    #[arg(long)]
    ddi: Option<PathBuf>,
    /// The as-of date for date-relative flags (default: today, UTC).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Pipelines and tables processed concurrently.
    #[arg(long, default_value_t = 2)]
    parallelism: usize,
    /// Never draw progress bars.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run every pipeline end to end.
    Run(Common),
    /// Land one pipeline's CDW tables in bronze.
    Bronze(StepArgs),
    /// Build one pipeline's silver datasets from bronze.
    Silver(StepArgs),
    /// Build one pipeline's gold datasets from silver.
    Gold(StepArgs),
    /// Load one pipeline's gold datasets into the serving DB.
    Load(StepArgs),
    /// Show the last runs.
    Status {
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/serving.db")]
        serving: String,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
}

#[derive(Args)]
struct StepArgs {
    /// The pipeline (demographics, vitals, …).
    pipeline: String,
    #[command(flatten)]
    common: Common,
}

fn options(c: &Common) -> Options {
    Options {
        cdw: c.cdw.clone(),
        lake: c.lake.clone(),
        serving: c.serving.clone(),
        ddi_csv: c.ddi.clone(),
        as_of: c.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        lake_options: s3_options_from_env(),
        parallelism: c.parallelism.max(1),
        progress: !c.no_progress && std::io::stderr().is_terminal(),
    }
}

/// S3 settings for an `s3://` lake, from the standard `AWS_*` variables
/// (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, …), read once here.
fn s3_options_from_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, _)| k.parse::<object_store::aws::AmazonS3ConfigKey>().is_ok())
        .collect()
}

fn print_report(r: &Report) {
    println!("\nrun {}", r.run_id);
    println!(
        "{:<8} {:>12} {:>9} {:>12}",
        "layer", "rows", "seconds", "rows/s"
    );
    for l in &r.layers {
        let rate = if l.seconds > 0.0 {
            l.rows as f64 / l.seconds
        } else {
            0.0
        };
        println!(
            "{:<8} {:>12} {:>9.2} {:>12.0}",
            l.layer, l.rows, l.seconds, rate
        );
    }
    println!("\n{:<45} {:>10}", "serving table", "rows");
    for (t, n) in &r.tables {
        println!("{t:<45} {n:>10}");
    }
    let q: u64 = r.quarantined.values().sum();
    println!("\nquarantined: {q}");
    for (k, n) in &r.quarantined {
        println!("  {k:<60} {n:>8}");
    }
}

async fn main_inner(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(c) => {
            let report = etl::run_all(&options(&c)).await?;
            print_report(&report);
        }
        Command::Bronze(s) => step(Step::Bronze, s).await?,
        Command::Silver(s) => step(Step::Silver, s).await?,
        Command::Gold(s) => step(Step::Gold, s).await?,
        Command::Load(s) => step(Step::Load, s).await?,
        Command::Status { serving, limit } => {
            let runs = etl::status(&serving, limit).await?;
            if runs.is_empty() {
                println!("no runs recorded");
            }
            println!(
                "{:>5} {:<20} {:<20} {:<10} {:<10} {:>10} {:>8}",
                "run", "started", "finished", "as of", "status", "rows", "quar."
            );
            for r in runs {
                println!(
                    "{:>5} {:<20} {:<20} {:<10} {:<10} {:>10} {:>8}",
                    r.run_id,
                    r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    r.finished_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                    r.as_of.to_string(),
                    r.status.as_str(),
                    r.rows.values().sum::<u64>(),
                    r.quarantined_total
                );
                if let Some(e) = r.error {
                    println!("      error: {e}");
                }
            }
        }
    }
    Ok(())
}

async fn step(which: Step, s: StepArgs) -> Result<()> {
    let n = etl::run_step(&options(&s.common), which, &s.pipeline).await?;
    println!("{:?} {}: {n} rows", which, s.pipeline);
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(main_inner(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
