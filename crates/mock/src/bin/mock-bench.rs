//! Benchmark of `mock generate`: wall time, rows/s, peak RSS and file sizes
//! per patient count. Each size runs in a fresh child process so peak RSS is
//! per run.
//!
//! ```sh
//! cargo run --release -p mock --bin mock-bench -- 1000 10000 100000
//! ```

use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p).map_or(0, |rd| {
        rd.filter_map(Result::ok)
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    dir_size(&p)
                } else {
                    e.metadata().map_or(0, |m| m.len())
                }
            })
            .sum()
    })
}

fn one(patients: u64, out: &Path) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid");
    let s = rt.block_on(mock::generate(&mock::GenerateOptions {
        patients,
        seed: 1,
        out: out.to_path_buf(),
        as_of,
    }))?;
    let cdw1 = std::fs::metadata(out.join("cdw/CDWWork.sqlite"))?.len();
    let cdw2 = std::fs::metadata(out.join("cdw/CDWWork2.sqlite"))?.len();
    let vista = dir_size(&out.join("vista"));
    println!(
        "{patients}\t{:.2}\t{}\t{:.0}\t{:.1}\t{:.1}\t{:.2}\t{:.1}",
        s.seconds,
        s.total_rows(),
        s.total_rows() as f64 / s.seconds,
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
        cdw1 as f64 / 1_048_576.0,
        cdw2 as f64 / 1_048_576.0,
        vista as f64 / 1_048_576.0
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        let n: u64 = args.get(1).context("--one N DIR")?.parse()?;
        return one(n, Path::new(args.get(2).context("--one N DIR")?));
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![1_000, 10_000]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    println!(
        "patients\tseconds\trows\trows_per_s\tpeak_rss_MiB\tCDWWork_MiB\tCDWWork2_MiB\tvista_MiB"
    );
    let exe = std::env::current_exe()?;
    for n in sizes {
        let tmp = std::env::temp_dir().join(format!("medz1-mock-bench-{}-{n}", std::process::id()));
        let status = Command::new(&exe)
            .arg("--one")
            .arg(n.to_string())
            .arg(&tmp)
            .status()?;
        let _ = std::fs::remove_dir_all(&tmp);
        anyhow::ensure!(status.success(), "run for {n} patients failed");
    }
    Ok(())
}
