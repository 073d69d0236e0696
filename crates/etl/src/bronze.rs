//! Bronze: a faithful copy of every CDW table the pipelines read, dimensions
//! included, plus `SourceSystem` and `LoadDateTime`. Cells that cannot be
//! read as their declared type land as NULL and are quarantined (domain
//! `bronze`) with the raw value, so nothing is lost and nothing is fatal.

use crate::ctx::{Ctx, Quarantined, bronze_key, quarantine_frame};
use crate::frame;
use crate::lake::ParquetBuilder;
use anyhow::{Context, Result};
use cdw::Table;
use cdw_source::CdwSource;
use columnar::Batch;
use polars::prelude::*;

/// Rows per chunk read from the CDW.
pub const CHUNK_ROWS: usize = 100_000;

/// Every CDW table of the catalog: bronze lands them all.
pub fn all_tables() -> Vec<&'static Table> {
    cdw::catalog::ALL.to_vec()
}

/// Encodes a table's chunks into one Parquet object as they are read.
struct Encoder {
    builder: ParquetBuilder,
    empty: Option<DataFrame>,
    rejects: Vec<cdw_source::Reject>,
    loaded: i64,
    source_system: &'static str,
}

impl Encoder {
    fn new(ctx: &Ctx, table: &'static Table) -> Encoder {
        Encoder {
            builder: ParquetBuilder::new(),
            empty: None,
            rejects: Vec::new(),
            loaded: ctx.started.and_utc().timestamp_micros(),
            source_system: table.database.name(),
        }
    }

    fn chunk(&mut self, batch: Batch, bad: Vec<cdw_source::Reject>) -> Result<(), String> {
        self.rejects.extend(bad);
        let mut df = frame::to_frame(&batch).map_err(|e| e.to_string())?;
        drop(batch);
        let n = df.height();
        df.with_column(
            Series::new("SourceSystem".into(), vec![self.source_system; n]).into_column(),
        )
        .map_err(|e| e.to_string())?;
        let ts = Series::new("LoadDateTime".into(), vec![self.loaded; n])
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .map_err(|e| e.to_string())?;
        df.with_column(ts.into_column())
            .map_err(|e| e.to_string())?;
        if self.empty.is_none() {
            self.empty = Some(df.clear());
        }
        if n > 0 {
            self.builder.write(&df).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The Parquet object and the rejects.
    fn finish(self) -> Result<(Vec<u8>, Vec<cdw_source::Reject>)> {
        let empty = self.empty.unwrap_or_default();
        Ok((self.builder.finish(&empty)?, self.rejects))
    }
}

/// Lands one table; returns the rows read.
pub async fn land(ctx: &Ctx, source: &CdwSource, table: &'static Table) -> Result<u64> {
    let mut enc = Encoder::new(ctx, table);
    let (rows, (bytes, rejects)) = match source.sqlite_file(table.database) {
        // The embedded CDW is read (and encoded) on a blocking thread,
        // straight through SQLite's C API.
        Some(file) => tokio::task::spawn_blocking(move || {
            let rows = cdw_source::sqlite_ffi::read_table(&file, table, CHUNK_ROWS, |b, bad| {
                enc.chunk(b, bad)
            })?;
            Ok::<_, anyhow::Error>((rows, enc.finish()?))
        })
        .await?
        .with_context(|| format!("extracting {}", table.qualified()))?,
        None => {
            let rows = source
                .read_table(table, CHUNK_ROWS, |b, bad| enc.chunk(b, bad))
                .await
                .with_context(|| format!("extracting {}", table.qualified()))?;
            (rows, enc.finish()?)
        }
    };
    ctx.lake.put_async(&bronze_key(table), bytes).await?;
    // This table's rejects: counted in the run, and written next to the
    // table's other quarantine so re-landing one table replaces only its own.
    let rows_q: Vec<Quarantined> = rejects
        .into_iter()
        .map(|r| Quarantined {
            domain: "bronze".into(),
            source_table: table.qualified(),
            source_id: r.key,
            reason: r.reason,
            detail: format!("{} = {:?}", r.column, r.raw),
        })
        .collect();
    let mut q = quarantine_frame(&rows_q)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut q)?;
    let key = bronze_key(table).replacen("bronze/", "quarantine/bronze/", 1);
    ctx.lake.put_async(&key, buf).await?;
    for r in rows_q {
        ctx.quarantine(
            "bronze",
            &r.source_table,
            [r.source_id],
            &r.reason,
            &r.detail,
        );
    }
    Ok(rows)
}

/// Lands the drug–drug interaction CSV as `bronze/ddi/ddi_raw.parquet`.
pub fn land_ddi(ctx: &Ctx, csv: &std::path::Path) -> Result<u64> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .map_err(anyhow::Error::from)
        .with_context(|| format!("opening {}", csv.display()))?
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {}", csv.display()))?;
    let n = df.height();
    let mut df = df;
    ctx.lake
        .write_parquet("bronze/ddi/ddi_raw.parquet", &mut df)?;
    Ok(n as u64)
}
