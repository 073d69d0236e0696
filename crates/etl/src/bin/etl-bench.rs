//! `etl-bench`: the full pipeline at several sizes, printing wall time,
//! rows/s per layer and peak RSS.
//!
//! `cargo run --release -p etl --bin etl-bench -- 1000 10000 100000`
//! (`--keep DIR` keeps and reuses the generated CDWs; `--postgres URL`
//! loads into PostgreSQL instead of SQLite).

use anyhow::{Context, Result};
use chrono::NaiveDate;
use std::path::PathBuf;
use std::time::Instant;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the kernel's peak-RSS mark so the ETL is measured without the
/// generator's footprint.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut sizes = Vec::new();
    let mut keep: Option<PathBuf> = None;
    let mut postgres: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--keep" => keep = Some(args.next().context("--keep DIR")?.into()),
            "--postgres" => postgres = Some(args.next().context("--postgres URL")?),
            n => sizes.push(
                n.parse::<u64>()
                    .with_context(|| format!("not a patient count: {n}"))?,
            ),
        }
    }
    if sizes.is_empty() {
        sizes = vec![1000, 10_000, 100_000];
    }
    let as_of = NaiveDate::from_ymd_opt(2025, 12, 19).expect("date");
    let tmp = tempfile::tempdir()?;
    let base = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    println!(
        "{:>8} {:>8} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "patients",
        "wall s",
        "served rows",
        "bronze r/s",
        "silver r/s",
        "gold r/s",
        "load r/s",
        "peak MiB"
    );
    for n in sizes {
        let dir = base.join(format!("p{n}"));
        if !mock::synth::cdw_present(&dir.join("mock/cdw")) {
            mock::generate(&mock::GenerateOptions {
                patients: n,
                seed: 1,
                out: dir.join("mock"),
                as_of,
            })
            .await?;
        }
        let _ = std::fs::remove_dir_all(dir.join("lake"));
        let _ = std::fs::remove_file(dir.join("serving.db"));
        for s in ["clinical", "reference", "auth"] {
            let _ = std::fs::remove_file(dir.join(format!("serving.{s}.db")));
        }
        let serving = postgres
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("serving.db").display()));
        reset_peak();
        let t = Instant::now();
        let report = etl::run_all(&etl::Options {
            cdw: dir.join("mock/cdw").to_string_lossy().into_owned(),
            lake: dir.join("lake").to_string_lossy().into_owned(),
            serving,
            ddi_csv: None,
            as_of,
            lake_options: Vec::new(),
            parallelism: 2,
            progress: false,
        })
        .await?;
        let wall = t.elapsed().as_secs_f64();
        let rate = |layer: &str| {
            report
                .layers
                .iter()
                .find(|l| l.layer == layer)
                .map(|l| {
                    if l.seconds > 0.0 {
                        l.rows as f64 / l.seconds
                    } else {
                        0.0
                    }
                })
                .unwrap_or(0.0)
        };
        println!(
            "{:>8} {:>8.1} {:>12} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>10.0}",
            n,
            wall,
            report.tables.values().sum::<u64>(),
            rate("bronze"),
            rate("silver"),
            rate("gold"),
            rate("load"),
            peak_rss_mib().unwrap_or(0.0)
        );
    }
    Ok(())
}
