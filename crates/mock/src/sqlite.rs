//! The embedded CDW target: one SQLite file per CDW database.
//!
//! Tables are named `Schema.Table` and declare the SQL Server column types
//! verbatim (SQLite keeps declared types, so `PRAGMA table_info` reports
//! `VARCHAR(50)`, `DATETIME2(3)`, … exactly as the catalog says).
//!
//! The connection is opened, configured and given its DDL through sqlx. The
//! row hot path then borrows sqlx's raw handle (`lock_handle`) and drives a
//! prepared statement per table directly: binding tens of millions of cells
//! through sqlx's per-value argument buffers is several times slower than
//! the generator itself, while prepared-statement binding keeps a 100k-patient
//! CDW within about a minute.

#![allow(unsafe_code)] // FFI to SQLite; every unsafe block states its invariant.

use crate::value::{self, Value};
use anyhow::{Context, Result, bail};
use cdw::{Database, SqlType, Table, ValueKind};
use libsqlite3_sys as ffi;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

/// SQL that creates `table` in SQLite.
pub fn create_table_sql(table: &Table) -> String {
    let mut sql = format!("CREATE TABLE {} (\n", table.sqlite_name());
    for (i, c) in table.columns.iter().enumerate() {
        let constraint = if i == 0 { " NOT NULL PRIMARY KEY" } else { "" };
        // The type is quoted so `VARCHAR(MAX)` survives SQLite's grammar;
        // SQLite keeps it verbatim and derives the same affinity.
        sql.push_str(&format!("  \"{}\" \"{}\"{constraint}", c.name, c.sql_type));
        sql.push_str(if i + 1 < table.columns.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    sql.push(')');
    sql
}

/// Index statements created after the load: every patient-identifying column
/// of a fact table, as a real CDW extract would carry.
pub fn index_sql(table: &Table) -> Vec<String> {
    if table.is_dimension() {
        return Vec::new();
    }
    table
        .columns
        .iter()
        .skip(1)
        .filter(|c| {
            matches!(
                c.name,
                "PatientSID" | "PersonSID" | "PatientICN" | "PatientKey"
            )
        })
        .map(|c| {
            format!(
                "CREATE INDEX \"IX_{}_{}_{}\" ON {} (\"{}\")",
                table.schema,
                table.name,
                c.name,
                table.sqlite_name(),
                c.name
            )
        })
        .collect()
}

/// Opens a fresh database file for writing (any previous file at `tmp` is removed).
pub async fn create_database(tmp: &Path, database: Database) -> Result<SqliteConnection> {
    if tmp.exists() {
        std::fs::remove_file(tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    let opts = SqliteConnectOptions::new()
        .filename(tmp)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Off)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
        .locking_mode(sqlx::sqlite::SqliteLockingMode::Exclusive)
        .pragma("cache_size", "-262144")
        .pragma("temp_store", "MEMORY");
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("creating {}", tmp.display()))?;
    for table in database.tables() {
        conn.execute(sqlx::AssertSqlSafe(create_table_sql(table)))
            .await
            .with_context(|| format!("creating table {}", table.qualified()))?;
    }
    Ok(conn)
}

/// Builds the secondary indexes and closes the connection.
pub async fn finish_database(mut conn: SqliteConnection, database: Database) -> Result<()> {
    for table in database.tables() {
        for sql in index_sql(table) {
            conn.execute(sqlx::AssertSqlSafe(sql)).await?;
        }
    }
    conn.execute("ANALYZE").await?;
    conn.close().await?;
    Ok(())
}

/// Where a database is written while it is being built, and its final name.
pub fn paths(dir: &Path, database: Database) -> (PathBuf, PathBuf) {
    let fin = dir.join(database.sqlite_file_name());
    let tmp = dir.join(format!("{}.partial", database.sqlite_file_name()));
    (tmp, fin)
}

struct Prepared {
    table: &'static Table,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

/// Inserts rows through prepared statements on a raw SQLite handle, inside
/// one transaction per database.
pub struct RawWriter {
    db: NonNull<ffi::sqlite3>,
    prepared: Vec<Prepared>,
    scratch: Vec<String>,
    rows: Vec<u64>,
}

impl RawWriter {
    /// # Safety contract (upheld by callers in this crate)
    /// `db` comes from `LockedSqliteHandle::as_raw_handle` and the lock is held
    /// for the writer's whole life, so no other code uses the connection.
    pub fn begin(db: NonNull<ffi::sqlite3>, database: Database) -> Result<Self> {
        let mut w = RawWriter {
            db,
            prepared: Vec::new(),
            scratch: Vec::new(),
            rows: Vec::new(),
        };
        w.exec("BEGIN")?;
        for table in database.tables() {
            let cols: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("\"{}\"", c.name))
                .collect();
            let marks = vec!["?"; cols.len()].join(",");
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({marks})",
                table.sqlite_name(),
                cols.join(",")
            );
            let csql = CString::new(sql)?;
            let mut stmt = ptr::null_mut();
            // SAFETY: db is a valid open handle (see contract); csql is NUL-terminated.
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(db.as_ptr(), csql.as_ptr(), -1, &mut stmt, ptr::null_mut())
            };
            if rc != ffi::SQLITE_OK {
                bail!("preparing insert for {}: {}", table.qualified(), w.errmsg());
            }
            let stmt = NonNull::new(stmt).context("sqlite returned no statement")?;
            w.prepared.push(Prepared { table, stmt });
            w.rows.push(0);
            w.scratch
                .resize(w.scratch.len().max(table.columns.len()), String::new());
        }
        Ok(w)
    }

    fn errmsg(&self) -> String {
        // SAFETY: db is valid; sqlite3_errmsg returns a NUL-terminated string owned by SQLite.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.db.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }

    fn exec(&mut self, sql: &str) -> Result<()> {
        let csql = CString::new(sql)?;
        // SAFETY: db is valid; no callback is passed.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                csql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            bail!("{sql}: {}", self.errmsg());
        }
        Ok(())
    }

    /// Validates `row` against `table`'s types and inserts it.
    pub fn insert(&mut self, table: &'static Table, row: &[Value]) -> Result<()> {
        let idx = self
            .prepared
            .iter()
            .position(|p| ptr::eq(p.table, table))
            .with_context(|| format!("{} is not in this database", table.qualified()))?;
        if row.len() != table.columns.len() {
            bail!(
                "{}: row has {} values, table has {} columns",
                table.qualified(),
                row.len(),
                table.columns.len()
            );
        }
        let stmt = self.prepared[idx].stmt.as_ptr();
        for (i, (col, v)) in table.columns.iter().zip(row).enumerate() {
            value::check(table, col, v)?;
            let n = (i + 1) as i32;
            let static_ = ffi::SQLITE_STATIC();
            // SAFETY: stmt is a live prepared statement with `columns.len()`
            // parameters; text pointers point into `row` or `self.scratch`,
            // which are neither dropped nor modified before the step and reset
            // below (SQLITE_STATIC contract).
            let rc = unsafe {
                match v {
                    Value::Null => ffi::sqlite3_bind_null(stmt, n),
                    Value::Int(x) => ffi::sqlite3_bind_int64(stmt, n, *x),
                    Value::Bool(b) => ffi::sqlite3_bind_int64(stmt, n, *b as i64),
                    Value::Dec(x) => {
                        let scale = match col.sql_type {
                            SqlType::Decimal(_, s) | SqlType::Numeric(_, s) => s,
                            _ => 6,
                        };
                        ffi::sqlite3_bind_double(stmt, n, value::round_to(*x, scale))
                    }
                    Value::Str(s) => {
                        ffi::sqlite3_bind_text(stmt, n, s.as_ptr().cast(), s.len() as i32, static_)
                    }
                    Value::Text(s) => {
                        ffi::sqlite3_bind_text(stmt, n, s.as_ptr().cast(), s.len() as i32, static_)
                    }
                    Value::Date(d) => {
                        let buf = &mut self.scratch[i];
                        buf.clear();
                        if col.sql_type.kind() == ValueKind::DateTime {
                            value::write_datetime(
                                buf,
                                d.and_hms_opt(0, 0, 0).expect("midnight exists"),
                            );
                        } else {
                            value::write_date(buf, *d);
                        }
                        ffi::sqlite3_bind_text(
                            stmt,
                            n,
                            buf.as_ptr().cast(),
                            buf.len() as i32,
                            static_,
                        )
                    }
                    Value::DateTime(d) => {
                        let buf = &mut self.scratch[i];
                        buf.clear();
                        if col.sql_type.kind() == ValueKind::Date {
                            value::write_date(buf, d.date());
                        } else {
                            value::write_datetime(buf, *d);
                        }
                        ffi::sqlite3_bind_text(
                            stmt,
                            n,
                            buf.as_ptr().cast(),
                            buf.len() as i32,
                            static_,
                        )
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                bail!(
                    "binding {}.{}: {}",
                    table.qualified(),
                    col.name,
                    self.errmsg()
                );
            }
        }
        // SAFETY: stmt is live and fully bound.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        // SAFETY: as above; reset releases the bindings' use of our buffers.
        unsafe { ffi::sqlite3_reset(stmt) };
        if rc != ffi::SQLITE_DONE {
            bail!("inserting into {}: {}", table.qualified(), self.errmsg());
        }
        self.rows[idx] += 1;
        Ok(())
    }

    /// Rows inserted so far, per table.
    pub fn counts(&self) -> Vec<(&'static Table, u64)> {
        self.prepared
            .iter()
            .zip(&self.rows)
            .map(|(p, &n)| (p.table, n))
            .collect()
    }

    /// Commits the transaction and releases the statements.
    pub fn commit(mut self) -> Result<Vec<(&'static Table, u64)>> {
        let counts = self.counts();
        self.finalize();
        self.exec("COMMIT")?;
        Ok(counts)
    }

    fn finalize(&mut self) {
        for p in self.prepared.drain(..) {
            // SAFETY: each statement is finalized exactly once (drained).
            unsafe { ffi::sqlite3_finalize(p.stmt.as_ptr()) };
        }
    }
}

impl Drop for RawWriter {
    fn drop(&mut self) {
        // On an error path: release statements; the transaction is rolled
        // back when the connection closes and the partial file is discarded.
        self.finalize();
    }
}
