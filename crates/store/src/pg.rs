//! PostgreSQL backend: schemas `clinical`, `reference`, `auth`; loads with COPY.

use crate::catalog::{ColType, ServingTable};
use crate::run::{self, RUN_COLUMNS, decode_run, to_json};
use crate::value;
use crate::{
    Backend, Error, EtlRun, Result, RunOutcome, RunStatus, ServingStore, TextRow, plan_columns,
};
use chrono::{NaiveDate, NaiveDateTime};
use columnar::{Batch, Values};
use futures_util::{Stream, StreamExt};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, PgPool, Row};
use std::time::Duration;

/// Serving store on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<PgStore> {
        // One direct attempt first, so an unreachable server fails fast
        // instead of after the pool's acquire timeout.
        use sqlx::Connection;
        sqlx::PgConnection::connect(url)
            .await
            .map_err(Error::Connect)?
            .close()
            .await
            .map_err(Error::Connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(15))
            .connect(url)
            .await
            .map_err(Error::Connect)?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Appends one CSV field (PostgreSQL `FORMAT csv`: unquoted empty is NULL,
/// quoted text is a value).
fn csv_field(out: &mut Vec<u8>, v: Option<&str>) {
    if let Some(s) = v {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }
}

fn encode_csv(batch: &Batch, plan: &[usize], out: &mut Vec<u8>, row: usize) {
    for (k, &i) in plan.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let field = match &batch.columns()[i].values {
            Values::Int(v) => v[row].map(|x| x.to_string()),
            Values::Float(v) => v[row].filter(|x| x.is_finite()).map(value::float),
            Values::Bool(v) => v[row].map(|b| if b { "t" } else { "f" }.to_string()),
            Values::Text(v) => {
                csv_field(out, v[row].as_deref());
                continue;
            }
            Values::Date(v) => v[row].as_ref().map(value::date),
            Values::Timestamp(v) => v[row].as_ref().map(value::timestamp),
        };
        csv_field(out, field.as_deref());
    }
    out.push(b'\n');
}

fn decode_text_row(table: &ServingTable, row: &PgRow) -> Result<TextRow> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.ty {
                ColType::Int => row.try_get::<Option<i64>, _>(i)?.map(|x| x.to_string()),
                ColType::Bool => row.try_get::<Option<bool>, _>(i)?.map(value::bool_text),
                ColType::Float => row.try_get::<Option<f64>, _>(i)?.map(value::float),
                ColType::Json => row
                    .try_get::<Option<String>, _>(i)?
                    .map(|s| value::json(&s)),
                ColType::Text => row.try_get::<Option<String>, _>(i)?,
                ColType::Date => row
                    .try_get::<Option<NaiveDate>, _>(i)?
                    .as_ref()
                    .map(value::date),
                ColType::Timestamp => row
                    .try_get::<Option<NaiveDateTime>, _>(i)?
                    .as_ref()
                    .map(value::timestamp),
            })
        })
        .collect()
}

/// COPY data is sent in chunks of about this many bytes.
const COPY_CHUNK: usize = 1 << 20;

impl ServingStore for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<()> {
        run::migrator(&[
            (
                1,
                "serving",
                include_str!("../../../migrations/postgres/0001_serving.sql"),
            ),
            (
                2,
                "read_model",
                include_str!("../../../migrations/postgres/0002_read_model.sql"),
            ),
            (
                3,
                "auth_lockout",
                include_str!("../../../migrations/postgres/0003_auth_lockout.sql"),
            ),
        ])
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn replace_table<S, E>(&self, table: &ServingTable, rows: S) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<Batch, E>> + Send,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    {
        let mut rows = std::pin::pin!(rows);
        let mut tx = self.pool.begin().await?;
        // DELETE, not TRUNCATE: readers keep seeing the previous rows (MVCC)
        // until COMMIT instead of blocking on an exclusive lock.
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {}", table.qualified())))
            .execute(&mut *tx)
            .await?;
        let mut total = 0u64;
        // The column list is fixed by the first batch; later batches must
        // carry the same columns.
        let mut copy_columns: Option<Vec<String>> = None;
        while let Some(batch) = rows.next().await {
            let batch = batch.map_err(|e| Error::LoadAborted {
                table: table.qualified(),
                source: e.into(),
            })?;
            let plan = plan_columns(table, &batch)?;
            let names: Vec<String> = plan
                .iter()
                .map(|&i| batch.columns()[i].name.clone())
                .collect();
            match &copy_columns {
                Some(prev) if *prev != names => {
                    return Err(Error::Shape {
                        table: table.qualified(),
                        message: "batches carry different column sets".into(),
                    });
                }
                _ => copy_columns = Some(names.clone()),
            }
            let statement = format!(
                "COPY {} ({}) FROM STDIN WITH (FORMAT csv)",
                table.qualified(),
                names.join(", ")
            );
            let mut copy = tx.copy_in_raw(&statement).await?;
            let mut buf = Vec::with_capacity(COPY_CHUNK + 4096);
            for r in 0..batch.num_rows() {
                encode_csv(&batch, &plan, &mut buf, r);
                if buf.len() >= COPY_CHUNK {
                    copy.send(std::mem::take(&mut buf)).await?;
                }
            }
            if !buf.is_empty() {
                copy.send(buf).await?;
            }
            total += copy.finish().await?;
        }
        tx.commit().await?;
        Ok(total)
    }

    async fn count(&self, table: &ServingTable) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            table.qualified()
        )))
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    async fn dump(&self, table: &ServingTable) -> Result<Vec<TextRow>> {
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| match c.ty {
                ColType::Json => format!("{}::text", c.name),
                _ => c.name.to_string(),
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            table.qualified(),
            table.columns[0].name
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode_text_row(table, r)).collect()
    }

    async fn columns(&self, table: &ServingTable) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(table.schema)
        .bind(table.name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("name")?,
                    r.try_get::<String, _>("type")?,
                ))
            })
            .collect()
    }

    async fn begin_run(
        &self,
        started_at: NaiveDateTime,
        as_of: NaiveDate,
        source: &str,
        lake: &str,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO public.etl_run (started_at, as_of, status, source, lake) VALUES ($1, $2, 'running', $3, $4) RETURNING run_id",
        )
        .bind(started_at)
        .bind(as_of)
        .bind(source)
        .bind(lake)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn finish_run(&self, run_id: i64, f: RunOutcome<'_>) -> Result<()> {
        let total: u64 = f.quarantined.values().sum();
        sqlx::query(
            "UPDATE public.etl_run SET finished_at = $1, status = $2, rows_json = $3, quarantined_json = $4, quarantined_total = $5, error = $6 WHERE run_id = $7",
        )
        .bind(f.finished_at)
        .bind(f.status.as_str())
        .bind(to_json(f.rows))
        .bind(to_json(f.quarantined))
        .bind(total as i64)
        .bind(f.error)
        .bind(run_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn runs(&self, limit: u32) -> Result<Vec<EtlRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM public.etl_run ORDER BY run_id DESC LIMIT $1");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_run).collect()
    }

    async fn latest_succeeded_run(&self) -> Result<Option<EtlRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM public.etl_run WHERE status = '{}' ORDER BY run_id DESC LIMIT 1",
            RunStatus::Succeeded.as_str()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_run).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_text_and_leaves_null_empty() {
        let mut out = Vec::new();
        csv_field(&mut out, Some("a\"b,c"));
        out.push(b',');
        csv_field(&mut out, None);
        out.push(b',');
        csv_field(&mut out, Some(""));
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\"\"b,c\",,\"\"");
    }
}
