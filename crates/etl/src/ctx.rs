//! What every pipeline step gets: the lake, the run's as-of date, and the
//! quarantine.

use crate::lake::Lake;
use anyhow::Result;
use cdw::Table;
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A quarantined source row.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub domain: String,
    pub source_table: String,
    pub source_id: String,
    pub reason: String,
    pub detail: String,
}

pub struct Ctx {
    pub lake: Lake,
    /// The run's as-of date: flags that depend on "today" are computed
    /// against it, and `last_updated` is stamped with it, so a rerun of the
    /// same input and as-of date yields identical serving rows.
    pub as_of: NaiveDate,
    /// When the run started (bronze `LoadDateTime`).
    pub started: NaiveDateTime,
    quarantine: Mutex<BTreeMap<String, Vec<Quarantined>>>,
    /// Per domain, how many of its quarantined rows have been written out.
    flushed: Mutex<BTreeMap<String, usize>>,
    silver_rows: AtomicU64,
    gold_rows: AtomicU64,
    steps: Mutex<Vec<crate::StepStat>>,
}

/// Lake key of a bronze table: `bronze/<source>/<schema>/<Table>.parquet`.
pub fn bronze_key(t: &Table) -> String {
    format!(
        "bronze/{}/{}/{}.parquet",
        t.database.source_tag(),
        t.schema.to_ascii_lowercase(),
        t.name
    )
}

impl Ctx {
    pub fn new(lake: Lake, as_of: NaiveDate, started: NaiveDateTime) -> Ctx {
        Ctx {
            lake,
            as_of,
            started,
            quarantine: Mutex::new(BTreeMap::new()),
            flushed: Mutex::new(BTreeMap::new()),
            silver_rows: AtomicU64::new(0),
            gold_rows: AtomicU64::new(0),
            steps: Mutex::new(Vec::new()),
        }
    }

    /// The as-of date at midnight.
    pub fn as_of_datetime(&self) -> NaiveDateTime {
        self.as_of.and_hms_opt(0, 0, 0).expect("midnight")
    }

    /// A bronze table, as landed (catalog columns plus `SourceSystem` and
    /// `LoadDateTime`).
    pub fn bronze(&self, t: &'static Table) -> Result<LazyFrame> {
        self.lake.scan_parquet(&bronze_key(t))
    }

    pub fn write_silver(&self, domain: &str, name: &str, df: &mut DataFrame) -> Result<()> {
        self.lake
            .write_parquet(&format!("silver/{domain}/{name}.parquet"), df)?;
        self.silver_rows
            .fetch_add(df.height() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes the rows `order` picks from `df`, in that order (see
    /// [`Lake::write_parquet_gathered`]); the whole frame when `order` is
    /// `None`.
    pub fn write_silver_ordered(
        &self,
        domain: &str,
        name: &str,
        mut df: DataFrame,
        order: Option<&IdxCa>,
    ) -> Result<()> {
        let Some(order) = order else {
            return self.write_silver(domain, name, &mut df);
        };
        self.lake
            .write_parquet_gathered(&format!("silver/{domain}/{name}.parquet"), &df, order)?;
        self.silver_rows
            .fetch_add(order.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    pub fn silver(&self, domain: &str, name: &str) -> Result<LazyFrame> {
        self.lake
            .scan_parquet(&format!("silver/{domain}/{name}.parquet"))
    }

    pub fn write_gold(&self, key: &str, df: &mut DataFrame) -> Result<()> {
        self.lake
            .write_parquet(&format!("gold/{key}.parquet"), df)?;
        self.gold_rows
            .fetch_add(df.height() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Gold counterpart of [`Ctx::write_silver_ordered`].
    pub fn write_gold_ordered(
        &self,
        key: &str,
        mut df: DataFrame,
        order: Option<&IdxCa>,
    ) -> Result<()> {
        let Some(order) = order else {
            return self.write_gold(key, &mut df);
        };
        self.lake
            .write_parquet_gathered(&format!("gold/{key}.parquet"), &df, order)?;
        self.gold_rows
            .fetch_add(order.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Records the wall time of one step.
    pub fn record_step(&self, layer: &'static str, name: &str, started: std::time::Instant) {
        self.steps
            .lock()
            .expect("steps lock")
            .push(crate::StepStat {
                layer,
                name: name.to_string(),
                seconds: started.elapsed().as_secs_f64(),
            });
    }

    /// The steps recorded so far.
    pub fn steps(&self) -> Vec<crate::StepStat> {
        self.steps.lock().expect("steps lock").clone()
    }

    /// Rows written to silver and to gold so far by this context.
    pub fn rows_written(&self) -> (u64, u64) {
        (
            self.silver_rows.load(Ordering::Relaxed),
            self.gold_rows.load(Ordering::Relaxed),
        )
    }

    pub fn gold(&self, key: &str) -> Result<DataFrame> {
        self.lake.read_parquet(&format!("gold/{key}.parquet"))
    }

    pub async fn gold_async(&self, key: &str) -> Result<DataFrame> {
        self.lake
            .read_parquet_async(&format!("gold/{key}.parquet"))
            .await
    }

    /// Quarantines rows: `ids` are the source keys of the rows, all with the
    /// same reason.
    pub fn quarantine(
        &self,
        domain: &str,
        source_table: &str,
        ids: impl IntoIterator<Item = String>,
        reason: &str,
        detail: &str,
    ) {
        let mut q = self.quarantine.lock().expect("quarantine lock");
        let list = q.entry(domain.to_string()).or_default();
        for id in ids {
            list.push(Quarantined {
                domain: domain.to_string(),
                source_table: source_table.to_string(),
                source_id: id,
                reason: reason.to_string(),
                detail: detail.to_string(),
            });
        }
    }

    /// Quarantined rows of one domain so far.
    pub fn quarantined(&self, domain: &str) -> Vec<Quarantined> {
        self.quarantine
            .lock()
            .expect("quarantine lock")
            .get(domain)
            .cloned()
            .unwrap_or_default()
    }

    /// Counts per `domain: reason`.
    pub fn quarantine_counts(&self) -> BTreeMap<String, u64> {
        let q = self.quarantine.lock().expect("quarantine lock");
        let mut out = BTreeMap::new();
        for rows in q.values() {
            for r in rows {
                *out.entry(format!("{}: {}", r.domain, r.reason))
                    .or_insert(0) += 1;
            }
        }
        out
    }

    /// Writes the rows `domain` quarantined since its last flush to
    /// `quarantine/<domain>/<step>.parquet`, replacing that object (an empty
    /// file when nothing was quarantined, so a rerun never leaves a stale
    /// one behind). Each step owns its file, so `etl silver X` and
    /// `etl gold X` run in separate processes keep both.
    pub fn flush_quarantine(&self, domain: &str, step: &str) -> Result<()> {
        let rows = self.quarantined(domain);
        let mut flushed = self.flushed.lock().expect("flushed lock");
        let done = flushed.entry(domain.to_string()).or_insert(0);
        let mut df = quarantine_frame(&rows[(*done).min(rows.len())..])?;
        *done = rows.len();
        drop(flushed);
        self.lake
            .write_parquet(&quarantine_key(domain, step), &mut df)
    }
}

/// Lake key of a step's quarantine dataset.
pub fn quarantine_key(domain: &str, step: &str) -> String {
    format!("quarantine/{domain}/{step}.parquet")
}

/// Quarantined rows as a frame (columns domain, source_table, source_id,
/// reason, detail).
pub fn quarantine_frame(rows: &[Quarantined]) -> Result<DataFrame> {
    let col = |f: fn(&Quarantined) -> &str, name: &str| {
        Series::new(
            PlSmallStr::from_str(name),
            rows.iter().map(f).collect::<Vec<&str>>(),
        )
        .into_column()
    };
    Ok(DataFrame::new(
        rows.len(),
        vec![
            col(|r| &r.domain, "domain"),
            col(|r| &r.source_table, "source_table"),
            col(|r| &r.source_id, "source_id"),
            col(|r| &r.reason, "reason"),
            col(|r| &r.detail, "detail"),
        ],
    )?)
}
