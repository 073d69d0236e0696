//! The embedded CDW: one SQLite file per database, tables named `Schema.Table`.

use crate::{Builder, Cell, Error, Result};
use cdw::{Database, Table};
use columnar::Batch;
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row, TypeInfo, ValueRef};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct SqliteCdw {
    dir: PathBuf,
    pools: HashMap<Database, SqlitePool>,
}

impl SqliteCdw {
    pub async fn open(dir: &Path) -> Result<SqliteCdw> {
        let mut pools = HashMap::new();
        for db in Database::ALL {
            let file = dir.join(db.sqlite_file_name());
            if !file.is_file() {
                return Err(Error::MissingFile(file));
            }
            let options = SqliteConnectOptions::new()
                .filename(&file)
                .read_only(true)
                .immutable(true)
                // Rows cross from sqlx's worker thread in bursts rather than
                // a thread wake-up every few rows (tables are read whole).
                .row_buffer_size(4096);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(|e| Error::Unreachable {
                    target: file.display().to_string(),
                    message: e.to_string(),
                })?;
            pools.insert(db, pool);
        }
        Ok(SqliteCdw {
            dir: dir.to_path_buf(),
            pools,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn pool(&self, db: Database) -> &SqlitePool {
        &self.pools[&db]
    }

    /// Table name → column names, for every table in the file.
    pub async fn columns(&self, db: Database) -> Result<HashMap<String, Vec<String>>> {
        let read = |e: sqlx::Error| Error::Read {
            table: db.sqlite_file_name().into(),
            message: e.to_string(),
        };
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(self.pool(db))
                .await
                .map_err(read)?;
        let mut out = HashMap::new();
        for name in names {
            let sql = format!(
                "SELECT name FROM pragma_table_info('{}')",
                name.replace('\'', "''")
            );
            let cols: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_all(self.pool(db))
                .await
                .map_err(read)?;
            out.insert(name, cols);
        }
        Ok(out)
    }

    pub async fn read_table<F>(
        &self,
        table: &'static Table,
        chunk: usize,
        mut sink: F,
    ) -> Result<u64>
    where
        F: FnMut(Batch, Vec<crate::Reject>) -> Result<(), String> + Send,
    {
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY rowid",
            cols.join(", "),
            table.sqlite_name()
        );
        let err = |e: sqlx::Error| Error::Read {
            table: table.qualified(),
            message: e.to_string(),
        };
        let mut conn = self.pool(table.database).acquire().await.map_err(err)?;
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
        let mut builder = Builder::new(table, chunk.min(65_536));
        let mut total = 0u64;
        while let Some(row) = rows.try_next().await.map_err(err)? {
            let mut cells = Vec::with_capacity(table.columns.len());
            for i in 0..table.columns.len() {
                let raw = row.try_get_raw(i).map_err(err)?;
                let cell = if raw.is_null() {
                    Cell::Null
                } else {
                    match raw.type_info().name() {
                        "INTEGER" => Cell::Int(row.try_get_unchecked::<i64, _>(i).map_err(err)?),
                        "REAL" => Cell::Float(row.try_get_unchecked::<f64, _>(i).map_err(err)?),
                        "BLOB" => {
                            let b = row.try_get_unchecked::<Vec<u8>, _>(i).map_err(err)?;
                            Cell::Text(String::from_utf8_lossy(&b).into_owned())
                        }
                        _ => Cell::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?),
                    }
                };
                cells.push(cell);
            }
            builder.push(cells);
            total += 1;
            if builder.len() >= chunk {
                let (batch, rejects) = builder.take();
                sink(batch, rejects).map_err(Error::Sink)?;
            }
        }
        if !builder.is_empty() || total == 0 {
            let (batch, rejects) = builder.take();
            sink(batch, rejects).map_err(Error::Sink)?;
        }
        Ok(total)
    }
}
