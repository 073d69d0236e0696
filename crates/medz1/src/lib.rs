//! The launcher's library: the `up` sequence, kept out of `main` so it can be
//! tested.

use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub data: PathBuf,
    pub patients: u64,
    pub seed: u64,
    pub regenerate: bool,
    /// Draw progress bars (interactive terminals).
    pub progress: bool,
}

/// What `up` starts, in order, with the state of each piece today.
pub const PLAN: &[(&str, &str)] = &[
    (
        "mock CDW",
        "data/mock/cdw/CDWWork.sqlite + CDWWork2.sqlite (generated now if missing)",
    ),
    (
        "etl",
        "CDW → bronze/silver/gold lake (data/lake) → serving DB (data/serving.db): run now",
    ),
    (
        "vista",
        "VistA RPC Broker simulator on 127.0.0.1:8003 from data/mock/vista: not built yet (issue #5)",
    ),
    (
        "ccow",
        "CCOW context vault on 127.0.0.1:8001: not built yet (issue #4)",
    ),
    (
        "web",
        "web UI on 127.0.0.1:8000: not built yet (issues #6, #7)",
    ),
];

/// Ensures the demo CDW exists under `opts.data`, then reports the plan.
pub async fn up(opts: &UpOptions) -> Result<()> {
    let mock_dir = opts.data.join("mock");
    let cdw_dir = mock_dir.join("cdw");
    if opts.regenerate || !mock::synth::cdw_present(&cdw_dir) {
        let as_of = chrono::Utc::now().date_naive();
        println!(
            "generating the demo CDW: {} patients, seed {}, as of {as_of} → {}",
            opts.patients,
            opts.seed,
            mock_dir.display()
        );
        let summary = mock::generate(&mock::GenerateOptions {
            patients: opts.patients,
            seed: opts.seed,
            out: mock_dir.clone(),
            as_of,
        })
        .await
        .context("generating the demo CDW")?;
        print!("{}", mock::render_summary(&summary));
    } else {
        println!(
            "demo CDW present in {} (use --regenerate to rebuild it)",
            cdw_dir.display()
        );
    }
    let serving = opts.data.join("serving.db");
    let etl_opts = etl::Options {
        cdw: cdw_dir.to_string_lossy().into_owned(),
        lake: opts.data.join("lake").to_string_lossy().into_owned(),
        serving: format!("sqlite://{}", serving.display()),
        ddi_csv: None,
        as_of: chrono::Utc::now().date_naive(),
        lake_options: Vec::new(),
        parallelism: 2,
        progress: opts.progress,
    };
    println!("\nrunning the ETL into {}", serving.display());
    let report = etl::run_all(&etl_opts).await.context("running the ETL")?;
    let rows: u64 = report.tables.values().sum();
    let secs: f64 = report.layers.iter().map(|l| l.seconds).sum();
    let quarantined: u64 = report.quarantined.values().sum();
    println!(
        "ETL run {}: {rows} serving rows in {} tables, {quarantined} rows quarantined, {secs:.1} s",
        report.run_id,
        report.tables.len()
    );
    println!("\nmed-z1 stack plan:");
    for (name, what) in PLAN {
        println!("  {name:<9} {what}");
    }
    Ok(())
}
