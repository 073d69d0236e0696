//! The medallion ETL.
//!
//! `CDW → bronze → silver → gold (Parquet in the lake) → serving DB`.
//!
//! - [`bronze`] lands every CDW table (dimensions included) unchanged;
//! - each [`pipelines::Pipeline`] has a silver step (clean, harmonise,
//!   deduplicate) and a gold step (clinical rules, serving shape) that read
//!   only the lake;
//! - [`load`] replaces each serving table atomically from its gold dataset.
//!
//! [`run_all`] runs everything and records the run in `etl_run`; [`run_step`]
//! runs one step of one pipeline.

pub mod bronze;
pub mod common;
pub mod ctx;
pub mod frame;
pub mod lake;
pub mod load;
pub mod pipelines;
pub mod progress;
pub mod testing;

use anyhow::{Context, Result, anyhow};
use cdw_source::CdwSource;
use chrono::{NaiveDate, NaiveDateTime};
use ctx::Ctx;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use store::{RunOutcome, RunStatus, ServingStore, Store};

/// Where to read, write and load.
#[derive(Debug, Clone)]
pub struct Options {
    pub cdw: String,
    pub lake: String,
    pub serving: String,
    /// The drug–drug interaction CSV; defaults to `<cdw>/../reference/db_drug_interactions.csv`
    /// for a directory CDW.
    pub ddi_csv: Option<PathBuf>,
    pub as_of: NaiveDate,
    /// object_store S3 settings for an `s3://` lake (`aws_endpoint`, …).
    pub lake_options: Vec<(String, String)>,
    /// Pipelines run concurrently (at least 1).
    pub parallelism: usize,
    pub progress: bool,
}

/// Figures for one layer of a run.
#[derive(Debug, Clone, Default)]
pub struct LayerStat {
    pub layer: &'static str,
    pub rows: u64,
    pub seconds: f64,
}

/// Wall time of one step of one pipeline (or one bronze table, or one
/// serving table's load).
#[derive(Debug, Clone, Default)]
pub struct StepStat {
    pub layer: &'static str,
    pub name: String,
    pub seconds: f64,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub run_id: i64,
    pub layers: Vec<LayerStat>,
    /// Per step wall times, in completion order (steps of one layer may
    /// overlap).
    pub steps: Vec<StepStat>,
    /// Rows loaded per serving table.
    pub tables: BTreeMap<String, u64>,
    /// Quarantined rows per `domain: reason`.
    pub quarantined: BTreeMap<String, u64>,
}

/// One step of a pipeline, for `etl <step> <pipeline>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Bronze,
    Silver,
    Gold,
    Load,
}

fn default_ddi(opts: &Options) -> Option<PathBuf> {
    if let Some(p) = &opts.ddi_csv {
        return Some(p.clone());
    }
    let dir = opts.cdw.strip_prefix("sqlite://").unwrap_or(&opts.cdw);
    if dir.contains("://") || dir.to_ascii_lowercase().contains("server=") {
        return None;
    }
    Some(
        PathBuf::from(dir)
            .join("..")
            .join("reference")
            .join("db_drug_interactions.csv"),
    )
}

/// Picks rustls' process-wide crypto provider. object_store (S3) and
/// tiberius (SQL Server) bring rustls with both `ring` and `aws-lc-rs`
/// enabled, and rustls then refuses to guess: the first TLS handshake would
/// panic. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

async fn open_store(url: &str) -> Result<Store> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the serving DB {}", Store::redact(url)))?;
    store.migrate().await.context("migrating the serving DB")?;
    Ok(store)
}

fn open_ctx(opts: &Options, started: NaiveDateTime) -> Result<Arc<Ctx>> {
    let lake = lake::Lake::open_with(
        &opts.lake,
        &opts.lake_options,
        tokio::runtime::Handle::current(),
    )?;
    Ok(Arc::new(Ctx::new(lake, opts.as_of, started)))
}

async fn bronze_all(
    ctx: &Arc<Ctx>,
    opts: &Options,
    source: &Arc<CdwSource>,
    tables: Vec<&'static cdw::Table>,
    bars: &progress::Bars,
) -> Result<u64> {
    let bar = bars.layer("bronze", tables.len() as u64 + 1);
    let rows: Vec<u64> = futures_util::stream::iter(tables)
        .map(|t| {
            let ctx = ctx.clone();
            let source = source.clone();
            let bar = bar.clone();
            // A task of its own, so landings (decoding and Parquet encoding
            // are CPU work) run on different runtime threads.
            let task = tokio::spawn(async move {
                let started = Instant::now();
                let n = bronze::land(&ctx, &source, t).await?;
                ctx.record_step("bronze", &t.qualified(), started);
                bar.step(&t.qualified());
                Ok::<u64, anyhow::Error>(n)
            });
            async move { task.await? }
        })
        .buffer_unordered(opts.parallelism.max(1))
        .try_collect()
        .await?;
    let mut total: u64 = rows.iter().sum();
    if let Some(csv) = default_ddi(opts) {
        let c = ctx.clone();
        total += tokio::task::spawn_blocking(move || bronze::land_ddi(&c, &csv)).await??;
    }
    bar.step("ddi");
    bar.finish();
    Ok(total)
}

async fn transform_all(
    ctx: &Arc<Ctx>,
    opts: &Options,
    which: Step,
    bars: &progress::Bars,
) -> Result<u64> {
    let label = if which == Step::Silver {
        "silver"
    } else {
        "gold"
    };
    let bar = bars.layer(label, pipelines::ALL.len() as u64);
    let before = ctx.rows_written();
    // The heavy pipelines first (the longest steps start early), then the
    // rest in catalog order; at most one heavy step runs at a time, so peak
    // memory is one heavy step's frames plus light ones, not two heavy ones.
    let mut queue: VecDeque<&'static pipelines::Pipeline> = pipelines::HEAVY
        .iter()
        .filter_map(|name| pipelines::find(name))
        .collect();
    queue.extend(
        pipelines::ALL
            .iter()
            .copied()
            .filter(|p| !pipelines::is_heavy(p)),
    );
    let queue = std::sync::Mutex::new(queue);
    let heavy = Arc::new(tokio::sync::Semaphore::new(1));
    let run = |p: &'static pipelines::Pipeline| {
        let ctx = ctx.clone();
        let bar = bar.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                transform(&ctx, p, which).with_context(|| format!("{label} {}", p.name))?;
                ctx.record_step(label, p.name, started);
                Ok::<(), anyhow::Error>(())
            })
            .await??;
            bar.step(p.name);
            Ok::<(), anyhow::Error>(())
        }
    };
    let worker = || async {
        loop {
            let take = |heavy_ok: bool| {
                let mut q = queue.lock().expect("queue lock");
                let i = q.iter().position(|p| heavy_ok == pipelines::is_heavy(p))?;
                q.remove(i)
            };
            // A heavy pipeline if none is running, else a light one, else
            // wait for the running heavy one to finish.
            let (p, permit) = match heavy.clone().try_acquire_owned() {
                Ok(permit) => match take(true) {
                    Some(p) => (p, Some(permit)),
                    None => match take(false) {
                        Some(p) => (p, None),
                        None => return Ok::<(), anyhow::Error>(()),
                    },
                },
                Err(_) => match take(false) {
                    Some(p) => (p, None),
                    None => {
                        let permit = heavy.clone().acquire_owned().await?;
                        match take(true) {
                            Some(p) => (p, Some(permit)),
                            None => return Ok(()),
                        }
                    }
                },
            };
            run(p).await?;
            drop(permit);
        }
    };
    futures_util::future::try_join_all((0..opts.parallelism.max(1)).map(|_| worker())).await?;
    bar.finish();
    let after = ctx.rows_written();
    Ok(if which == Step::Silver {
        after.0 - before.0
    } else {
        after.1 - before.1
    })
}

/// Runs one pipeline's silver or gold step (on a blocking thread); each
/// step writes the rows it quarantined.
fn transform(ctx: &Ctx, p: &pipelines::Pipeline, which: Step) -> Result<()> {
    if which == Step::Silver {
        (p.silver)(ctx)?;
        ctx.flush_quarantine(p.name, "silver")
    } else {
        (p.gold)(ctx)?;
        ctx.flush_quarantine(p.name, "gold")
    }
}

async fn load_all<S: ServingStore>(
    ctx: &Ctx,
    store: &S,
    bars: &progress::Bars,
) -> Result<BTreeMap<String, u64>> {
    let outputs: Vec<&pipelines::Output> = pipelines::ALL
        .iter()
        .flat_map(|p| p.outputs.iter())
        .collect();
    let bar = bars.layer("load", outputs.len() as u64);
    let mut tables = BTreeMap::new();
    for o in outputs {
        let started = Instant::now();
        let n = load::load_output(ctx, store, o).await?;
        ctx.record_step("load", &o.table.qualified(), started);
        tables.insert(o.table.qualified(), n);
        bar.step(o.table.name);
    }
    bar.finish();
    Ok(tables)
}

/// Runs every pipeline end to end and records the run in `etl_run`.
pub async fn run_all(opts: &Options) -> Result<Report> {
    install_crypto_provider();
    let started = now();
    let store = open_store(&opts.serving).await?;
    let source = CdwSource::open(&opts.cdw)
        .await
        .context("opening the CDW")?;
    let run_id = store
        .begin_run(started, opts.as_of, &source.describe(), &opts.lake)
        .await?;
    let bars = progress::Bars::new(opts.progress);
    let ctx = open_ctx(opts, started)?;
    let result = async {
        source.verify().await?;
        let source = Arc::new(source);
        let mut report = Report {
            run_id,
            ..Report::default()
        };
        let t = Instant::now();
        let rows = bronze_all(&ctx, opts, &source, bronze::all_tables(), &bars).await?;
        report.layers.push(LayerStat {
            layer: "bronze",
            rows,
            seconds: t.elapsed().as_secs_f64(),
        });
        let t = Instant::now();
        let rows = transform_all(&ctx, opts, Step::Silver, &bars).await?;
        report.layers.push(LayerStat {
            layer: "silver",
            rows,
            seconds: t.elapsed().as_secs_f64(),
        });
        let t = Instant::now();
        let rows = transform_all(&ctx, opts, Step::Gold, &bars).await?;
        report.layers.push(LayerStat {
            layer: "gold",
            rows,
            seconds: t.elapsed().as_secs_f64(),
        });
        let t = Instant::now();
        report.tables = load_all(&ctx, &store, &bars).await?;
        report.layers.push(LayerStat {
            layer: "load",
            rows: report.tables.values().sum(),
            seconds: t.elapsed().as_secs_f64(),
        });
        report.quarantined = ctx.quarantine_counts();
        report.steps = ctx.steps();
        Ok::<Report, anyhow::Error>(report)
    }
    .await;
    let empty = BTreeMap::new();
    match result {
        Ok(report) => {
            store
                .finish_run(
                    run_id,
                    RunOutcome {
                        finished_at: now(),
                        status: RunStatus::Succeeded,
                        rows: &report.tables,
                        quarantined: &report.quarantined,
                        error: None,
                    },
                )
                .await?;
            Ok(report)
        }
        Err(e) => {
            let message = format!("{e:#}");
            store
                .finish_run(
                    run_id,
                    RunOutcome {
                        finished_at: now(),
                        status: RunStatus::Failed,
                        rows: &empty,
                        quarantined: &ctx.quarantine_counts(),
                        error: Some(&message),
                    },
                )
                .await?;
            Err(e)
        }
    }
}

/// Runs one step of one pipeline (or of `ddi`'s CSV landing for bronze).
pub async fn run_step(opts: &Options, step: Step, pipeline: &str) -> Result<u64> {
    install_crypto_provider();
    let p = pipelines::find(pipeline).ok_or_else(|| {
        anyhow!(
            "unknown pipeline `{pipeline}`; pipelines: {}",
            pipelines::ALL
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let ctx = open_ctx(opts, now())?;
    let bars = progress::Bars::new(opts.progress);
    match step {
        Step::Bronze => {
            let source = Arc::new(
                CdwSource::open(&opts.cdw)
                    .await
                    .context("opening the CDW")?,
            );
            source.verify().await?;
            let mut tables: Vec<&'static cdw::Table> = p.tables.to_vec();
            for shared in common::SHARED_TABLES {
                if !tables.iter().any(|t| std::ptr::eq(*t, *shared)) {
                    tables.push(shared);
                }
            }
            let n = bronze_all(&ctx, opts, &source, tables, &bars).await?;
            Ok(n)
        }
        Step::Silver | Step::Gold => {
            let c = ctx.clone();
            tokio::task::spawn_blocking(move || transform(&c, p, step)).await??;
            let (silver, gold) = ctx.rows_written();
            Ok(if step == Step::Silver { silver } else { gold })
        }
        Step::Load => {
            let store = open_store(&opts.serving).await?;
            let mut n = 0;
            for o in p.outputs {
                n += load::load_output(&ctx, &store, o).await?;
            }
            Ok(n)
        }
    }
}

/// The newest runs.
pub async fn status(serving: &str, limit: u32) -> Result<Vec<store::EtlRun>> {
    let store = open_store(serving).await?;
    Ok(store.runs(limit).await?)
}
