//! The embedded CDW target: one SQLite file per CDW database.
//!
//! Tables are named `Schema.Table` and declare the SQL Server column types
//! verbatim (SQLite keeps declared types, so `PRAGMA table_info` reports
//! `VARCHAR(50)`, `DATETIME2(3)`, … exactly as the catalog says).
//!
//! The connection is opened, configured and given its DDL through sqlx. The
//! row hot path then borrows sqlx's raw handle (`lock_handle`) and drives
//! prepared statements per table directly: binding tens of millions of cells
//! through sqlx's per-value argument buffers is several times slower than
//! the generator itself. The writer receives rows already validated and
//! encoded by the generator thread (`crate::batch`), so it does nothing but
//! bind and step.

#![allow(unsafe_code)] // FFI to SQLite; every unsafe block states its invariant.

use crate::batch::{self, Batch, Cell};
use anyhow::{Context, Result, bail};
use cdw::{Database, Table};
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
        // None of these three settings changes a byte of the file.
        // 64 MiB: the load only touches the right-most path of each b-tree,
        // so a larger cache would just hold dirty pages longer.
        .pragma("cache_size", "-65536")
        // CREATE INDEX sorts in runs of about the cache size and keeps the
        // runs in temporary files, not in memory: peak RSS does not grow
        // with the patient count.
        .pragma("temp_store", "FILE")
        // Lets CREATE INDEX sort with a helper thread (the generator's core
        // is idle by then); the sorted order, and so the index, is the same.
        .pragma("threads", "2");
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

/// Rows per INSERT statement. A run of consecutive rows for one table is
/// inserted through multi-row `INSERT … VALUES (…),(…)` statements, largest
/// first: SQLite then keeps its cursors open across the run instead of
/// opening, positioning and closing them for every row. The b-tree
/// operations, and so the file, are the same as row by row.
const GROUPS: [usize; 5] = [16, 8, 4, 2, 1];

struct Prepared {
    table: &'static Table,
    /// The statement inserting `GROUPS[i]` rows, prepared on first use.
    stmts: [Option<NonNull<ffi::sqlite3_stmt>>; GROUPS.len()],
}

/// Inserts rows through prepared statements on a raw SQLite handle, inside
/// one transaction per database.
pub struct RawWriter {
    db: NonNull<ffi::sqlite3>,
    database: Database,
    prepared: Vec<Prepared>,
    widths: Vec<usize>,
    rows: Vec<u64>,
}

impl RawWriter {
    /// # Safety contract (upheld by callers in this crate)
    /// `db` comes from `LockedSqliteHandle::as_raw_handle` and the lock is held
    /// for the writer's whole life, so no other code uses the connection.
    pub fn begin(db: NonNull<ffi::sqlite3>, database: Database) -> Result<Self> {
        let mut w = RawWriter {
            db,
            database,
            prepared: database
                .tables()
                .map(|table| Prepared {
                    table,
                    stmts: [None; GROUPS.len()],
                })
                .collect(),
            widths: batch::widths(database),
            rows: vec![0; database.tables().count()],
        };
        w.exec("BEGIN")?;
        Ok(w)
    }

    /// The statement inserting `GROUPS[group]` rows into table `t`.
    fn statement(&mut self, t: usize, group: usize) -> Result<NonNull<ffi::sqlite3_stmt>> {
        if let Some(stmt) = self.prepared[t].stmts[group] {
            return Ok(stmt);
        }
        let table = self.prepared[t].table;
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let marks = format!("({})", vec!["?"; cols.len()].join(","));
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            table.sqlite_name(),
            cols.join(","),
            vec![marks; GROUPS[group]].join(",")
        );
        let csql = CString::new(sql)?;
        let mut stmt = ptr::null_mut();
        // SAFETY: db is a valid open handle (see `begin`); csql is NUL-terminated.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db.as_ptr(),
                csql.as_ptr(),
                -1,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            bail!(
                "preparing insert for {}: {}",
                table.qualified(),
                self.errmsg()
            );
        }
        let stmt = NonNull::new(stmt).context("sqlite returned no statement")?;
        self.prepared[t].stmts[group] = Some(stmt);
        Ok(stmt)
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

    /// Inserts every row of `batch` (already validated and encoded by the
    /// generator), in order.
    pub fn write(&mut self, batch: &Batch) -> Result<()> {
        if batch.database != self.database {
            bail!(
                "a {} batch sent to the {} writer",
                batch.database.name(),
                self.database.name()
            );
        }
        // (Copied, as preparing a statement needs `self` mutably.)
        let widths = self.widths.clone();
        for (t, cells, n) in batch.runs(&widths) {
            let width = widths[t];
            let mut done = 0;
            while done < n {
                let group = GROUPS
                    .iter()
                    .position(|&k| k <= n - done)
                    .expect("a single row always fits");
                let k = GROUPS[group];
                let stmt = self.statement(t, group)?;
                self.insert(stmt, t, &cells[done * width..(done + k) * width], batch)?;
                done += k;
            }
            self.rows[t] += n as u64;
        }
        Ok(())
    }

    /// Binds `cells` (whole rows of table `t`) to `stmt`'s parameters and runs it.
    fn insert(
        &self,
        stmt: NonNull<ffi::sqlite3_stmt>,
        t: usize,
        cells: &[Cell],
        batch: &Batch,
    ) -> Result<()> {
        let stmt = stmt.as_ptr();
        for (i, cell) in cells.iter().enumerate() {
            let n = (i + 1) as i32;
            // SAFETY: stmt is a live prepared statement with `cells.len()`
            // parameters (whole rows of table `t`); text pointers point into
            // `batch` (or static strings), which is borrowed unmodified until
            // the step and reset below (SQLITE_STATIC contract). Lengths fit
            // in i32 (checked when the batch was built).
            let rc = unsafe {
                match *cell {
                    Cell::Null => ffi::sqlite3_bind_null(stmt, n),
                    Cell::Int(x) => ffi::sqlite3_bind_int64(stmt, n, x),
                    Cell::Real(x) => ffi::sqlite3_bind_double(stmt, n, x),
                    Cell::Static(s) => ffi::sqlite3_bind_text(
                        stmt,
                        n,
                        s.as_ptr().cast(),
                        s.len() as i32,
                        ffi::SQLITE_STATIC(),
                    ),
                    Cell::Text { start, len } => {
                        let s = batch.text(start, len);
                        ffi::sqlite3_bind_text(
                            stmt,
                            n,
                            s.as_ptr().cast(),
                            s.len() as i32,
                            ffi::SQLITE_STATIC(),
                        )
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                let table = self.prepared[t].table;
                bail!(
                    "binding {}.{}: {}",
                    table.qualified(),
                    table.columns[i % table.columns.len()].name,
                    self.errmsg()
                );
            }
        }
        // SAFETY: stmt is live and fully bound.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        // SAFETY: as above; reset releases the bindings' use of `batch`.
        unsafe { ffi::sqlite3_reset(stmt) };
        if rc != ffi::SQLITE_DONE {
            bail!(
                "inserting into {}: {}",
                self.prepared[t].table.qualified(),
                self.errmsg()
            );
        }
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
        for p in &mut self.prepared {
            for stmt in p.stmts.iter_mut().filter_map(Option::take) {
                // SAFETY: each statement is finalized exactly once (taken).
                unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
            }
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
