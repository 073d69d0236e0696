//! SQLite backend: a main file plus one attached file per schema.

use crate::catalog::{ColType, ServingTable};
use crate::run::{self, RUN_COLUMNS, decode_run, to_json};
use crate::value;
use crate::{
    Backend, Error, EtlRun, Result, RunOutcome, RunStatus, ServingStore, TextRow, plan_columns,
    sqlite_raw,
};
use chrono::{NaiveDate, NaiveDateTime};
use columnar::Batch;
use futures_util::{Stream, StreamExt};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The schemas, each an attached database.
pub const SCHEMAS: [&str; 3] = ["clinical", "reference", "auth"];

/// Serving store on SQLite files.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

/// The file of an attached schema: `serving.db` → `serving.clinical.db`.
pub fn schema_file(main: &Path, schema: &str) -> PathBuf {
    let stem = main
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("serving");
    let ext = main.extension().and_then(|s| s.to_str()).unwrap_or("db");
    main.with_file_name(format!("{stem}.{schema}.{ext}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the store whose main file is `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let memory = path.as_os_str() == ":memory:";
        if !memory
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::Connect(sqlx::Error::Io(e)))?;
        }
        let attach: Arc<Vec<(String, String)>> = Arc::new(
            SCHEMAS
                .iter()
                .map(|s| {
                    let file = if memory {
                        ":memory:".to_string()
                    } else {
                        schema_file(path, s).to_string_lossy().into_owned()
                    };
                    (s.to_string(), file)
                })
                .collect(),
        );
        let options = if memory {
            SqliteConnectOptions::new().in_memory(true)
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
        }
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .after_connect(move |conn, _meta| {
                let attach = attach.clone();
                Box::pin(async move {
                    for (schema, file) in attach.iter() {
                        sqlx::query(AssertSqlSafe(format!("ATTACH DATABASE ? AS {schema}")))
                            .bind(file)
                            .execute(&mut *conn)
                            .await?;
                        if file != ":memory:" {
                            sqlx::query(AssertSqlSafe(format!(
                                "PRAGMA {schema}.journal_mode = WAL"
                            )))
                            .execute(&mut *conn)
                            .await?;
                            sqlx::query(AssertSqlSafe(format!(
                                "PRAGMA {schema}.synchronous = NORMAL"
                            )))
                            .execute(&mut *conn)
                            .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(Error::Connect)?;
        Ok(SqliteStore {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The page cache of the schema being loaded, in KiB, for the duration of
/// a load: index builds sort in memory up to about this size instead of
/// merging many small runs from temporary files.
const LOAD_CACHE_KIB: i64 = 262_144;

/// `CREATE [UNIQUE] INDEX name ON …` as SQLite stores it (unqualified), made
/// to create the index in `schema` again.
fn qualify_index_sql(sql: &str, schema: &str) -> String {
    for head in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = sql.strip_prefix(head) {
            return format!("{head}{schema}.{rest}");
        }
    }
    sql.to_string()
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The body of [`SqliteStore::replace_table`], inside its transaction.
async fn load_rows<S, E>(
    conn: &mut sqlx::SqliteConnection,
    table: &ServingTable,
    rows: S,
) -> Result<u64>
where
    S: Stream<Item = std::result::Result<Batch, E>> + Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    let schema = table.schema;
    // Secondary indexes are dropped and rebuilt after the rows are in (a
    // sort beats inserting millions of keys one by one into each b-tree),
    // all inside the transaction: readers see the old table with its
    // indexes until COMMIT, and a failure rolls everything back.
    let indexes: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
    )))
    .bind(table.name)
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(AssertSqlSafe(format!(
            "DROP INDEX {schema}.{}",
            quote_ident(name)
        )))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(AssertSqlSafe(format!("DELETE FROM {}", table.qualified())))
        .execute(&mut *conn)
        .await?;
    let mut rows = std::pin::pin!(rows);
    let mut total = 0;
    while let Some(batch) = rows.next().await {
        let batch = batch.map_err(|e| Error::LoadAborted {
            table: table.qualified(),
            source: e.into(),
        })?;
        let plan = plan_columns(table, &batch)?;
        let mut handle = conn.lock_handle().await?;
        total += sqlite_raw::insert(handle.as_raw_handle(), table, &batch, &plan)?;
    }
    for (_, sql) in &indexes {
        sqlx::query(AssertSqlSafe(qualify_index_sql(sql, schema)))
            .execute(&mut *conn)
            .await?;
    }
    Ok(total)
}

fn decode_text_row(table: &ServingTable, row: &SqliteRow) -> Result<TextRow> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.ty {
                ColType::Int => row.try_get::<Option<i64>, _>(i)?.map(|x| x.to_string()),
                ColType::Bool => row
                    .try_get::<Option<i64>, _>(i)?
                    .map(|x| value::bool_text(x != 0)),
                ColType::Float => row.try_get::<Option<f64>, _>(i)?.map(value::float),
                ColType::Json => row
                    .try_get::<Option<String>, _>(i)?
                    .map(|s| value::json(&s)),
                ColType::Text | ColType::Date | ColType::Timestamp => {
                    row.try_get::<Option<String>, _>(i)?
                }
            })
        })
        .collect()
}

impl ServingStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<()> {
        run::migrator(&[
            (
                1,
                "serving",
                include_str!("../../../migrations/sqlite/0001_serving.sql"),
            ),
            (
                2,
                "read_model",
                include_str!("../../../migrations/sqlite/0002_read_model.sql"),
            ),
            (
                3,
                "auth_lockout",
                include_str!("../../../migrations/sqlite/0003_auth_lockout.sql"),
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
        let mut conn = self.pool.acquire().await?;
        // A larger page cache for the load (restored afterwards, success or
        // not, so pooled connections do not keep it).
        let cache: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("PRAGMA {}.cache_size", table.schema)))
                .fetch_one(&mut *conn)
                .await?;
        let set_cache = |kib: i64| {
            format!(
                "PRAGMA {}.cache_size = {}",
                table.schema,
                if kib < 0 { kib } else { -kib }
            )
        };
        sqlx::query(AssertSqlSafe(set_cache(LOAD_CACHE_KIB)))
            .execute(&mut *conn)
            .await?;
        let result = async {
            // IMMEDIATE: take the write lock before reading the index list.
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let n = load_rows(&mut tx, table, rows).await?;
            tx.commit().await?;
            Ok::<u64, Error>(n)
        }
        .await;
        let restore = sqlx::query(AssertSqlSafe(format!(
            "PRAGMA {}.cache_size = {cache}",
            table.schema
        )))
        .execute(&mut *conn)
        .await;
        let n = result?;
        restore?;
        Ok(n)
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
        let cols: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            table.qualified(),
            cols[0]
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode_text_row(table, r)).collect()
    }

    async fn columns(&self, table: &ServingTable) -> Result<Vec<(String, String)>> {
        let sql = format!("PRAGMA {}.table_info({})", table.schema, table.name);
        let rows = sqlx::query(AssertSqlSafe(sql))
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
            "INSERT INTO etl_run (started_at, as_of, status, source, lake) VALUES (?, ?, 'running', ?, ?) RETURNING run_id",
        )
        .bind(value::timestamp(&started_at))
        .bind(value::date(&as_of))
        .bind(source)
        .bind(lake)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn finish_run(&self, run_id: i64, f: RunOutcome<'_>) -> Result<()> {
        let total: u64 = f.quarantined.values().sum();
        sqlx::query(
            "UPDATE etl_run SET finished_at = ?, status = ?, rows_json = ?, quarantined_json = ?, quarantined_total = ?, error = ? WHERE run_id = ?",
        )
        .bind(value::timestamp(&f.finished_at))
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
        let sql = format!("SELECT {RUN_COLUMNS} FROM etl_run ORDER BY run_id DESC LIMIT ?");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_run).collect()
    }

    async fn latest_succeeded_run(&self) -> Result<Option<EtlRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM etl_run WHERE status = '{}' ORDER BY run_id DESC LIMIT 1",
            RunStatus::Succeeded.as_str()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_run).transpose()
    }
}
