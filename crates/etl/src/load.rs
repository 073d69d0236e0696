//! Load: gold datasets into serving tables, each replaced atomically.

use crate::ctx::Ctx;
use crate::frame;
use crate::pipelines::Output;
use anyhow::{Context, Result};
use polars::prelude::*;
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

pub async fn load_output<S: ServingStore>(ctx: &Ctx, store: &S, out: &Output) -> Result<u64> {
    let df = ctx.gold_async(out.gold).await?;
    let df = finish_frame(ctx, out, df)?;
    let batches = frame::batches(&df, LOAD_BATCH_ROWS);
    store
        .replace_table(out.table, futures_util::stream::iter(batches))
        .await
        .with_context(|| format!("loading {}", out.table.qualified()))
}
