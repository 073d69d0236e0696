//! Load: gold datasets into serving tables, each replaced atomically.

use crate::ctx::Ctx;
use crate::frame;
use crate::pipelines::Output;
use anyhow::{Context, Result, anyhow};
use columnar::Batch;
use polars::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::{ColType, ServingStore};

/// Rows per batch handed to the store.
pub const LOAD_BATCH_ROWS: usize = 50_000;

/// Completes a gold frame for its table: the surrogate key (1..n in gold
/// order) and `last_updated` (the run's as-of date) when the gold step did
/// not set them.
pub fn finish_frame(ctx: &Ctx, out: &Output, mut df: DataFrame) -> Result<DataFrame> {
    let first = &out.table.columns[0];
    if first.ty == ColType::Int && df.column(first.name).is_err() {
        let ids: Vec<i64> = (1..=df.height() as i64).collect();
        df.insert_column(0, Series::new(first.name.into(), ids).into_column())?;
    }
    if out.table.column("last_updated").is_some() && df.column("last_updated").is_err() {
        let n = df.height();
        let ts = Series::new(
            "last_updated".into(),
            vec![ctx.as_of_datetime().and_utc().timestamp_micros(); n],
        )
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?;
        df.with_column(ts.into_column())?;
    }
    Ok(df)
}

/// Batches converted ahead of the one being inserted.
const LOAD_AHEAD: usize = 2;

pub async fn load_output<S: ServingStore>(ctx: &Ctx, store: &S, out: &Output) -> Result<u64> {
    let df = ctx.gold_async(out.gold).await?;
    let df = finish_frame(ctx, out, df)?;
    // Frame → batch conversion runs on a blocking thread, a few batches
    // ahead of the store inserting the previous ones.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Batch>>(LOAD_AHEAD);
    let complete = Arc::new(AtomicBool::new(false));
    let done = complete.clone();
    let producer = tokio::task::spawn_blocking(move || {
        for batch in frame::batches(&df, LOAD_BATCH_ROWS) {
            if tx.blocking_send(batch).is_err() {
                // The load stopped (an error): nothing more to convert.
                return;
            }
        }
        done.store(true, Ordering::Release);
    });
    // The channel also closes if the producer panics: only a producer that
    // sent everything ends the stream cleanly, anything else aborts the load
    // (never a partial table).
    let batches = futures_util::stream::unfold(Some(rx), move |rx| {
        let complete = complete.clone();
        async move {
            let mut rx = rx?;
            match rx.recv().await {
                Some(b) => Some((b, Some(rx))),
                None if complete.load(Ordering::Acquire) => None,
                None => Some((Err(anyhow!("converting rows stopped early")), None)),
            }
        }
    });
    let loaded = store
        .replace_table(out.table, batches)
        .await
        .with_context(|| format!("loading {}", out.table.qualified()));
    let joined = producer.await;
    let n = loaded?;
    joined?;
    Ok(n)
}
