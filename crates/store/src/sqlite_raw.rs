//! The SQLite load hot path: batch values bound straight into prepared
//! multi-row `INSERT` statements on sqlx's raw handle.
//!
//! Binding millions of cells through sqlx's per-value argument buffers
//! (an owned copy of every string, a channel hop to the worker thread per
//! statement) costs several times what SQLite itself spends inserting them.
//! Here text is bound in place (`SQLITE_STATIC`: the batch outlives the
//! statement's step), dates and timestamps are rendered into a stack buffer,
//! and each statement inserts [`GROUP`] rows. The stored values are exactly
//! those the sqlx path stored: integers and booleans as INTEGER, finite
//! floats as REAL (others NULL), text, dates and timestamps as TEXT in the
//! canonical forms of [`crate::value`].
//!
//! Callers hold sqlx's `LockedSqliteHandle` for the whole call, so the
//! worker thread makes no FFI calls on the connection meanwhile (the same
//! pattern as the mock CDW writer).

#![allow(unsafe_code)] // FFI to SQLite; every unsafe block states its invariant.

use crate::catalog::ServingTable;
use crate::value::{self, TEXT_BUF};
use crate::{Error, Result};
use columnar::{Batch, Column, Values};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

/// Rows per multi-row `INSERT`: SQLite keeps its cursors open across the
/// rows of one statement, and binding stays well under the variable limit.
pub(crate) const GROUP: usize = 32;

/// A prepared statement, finalized on drop.
struct Stmt(NonNull<ffi::sqlite3_stmt>);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a handle that is still locked
        // by our caller and is finalized exactly once, here.
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
    }
}

fn errmsg(db: NonNull<ffi::sqlite3>) -> String {
    // SAFETY: db is a valid open handle; sqlite3_errmsg returns a
    // NUL-terminated string owned by SQLite, copied out at once.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned()
}

fn fail(table: &ServingTable, message: String) -> Error {
    Error::Sqlite {
        table: table.qualified(),
        message,
    }
}

fn prepare(db: NonNull<ffi::sqlite3>, table: &ServingTable, sql: &str) -> Result<Stmt> {
    let csql = CString::new(sql).map_err(|e| fail(table, e.to_string()))?;
    let mut stmt = ptr::null_mut();
    // SAFETY: db is a valid open handle (locked by the caller); csql is
    // NUL-terminated and outlives the call.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(db.as_ptr(), csql.as_ptr(), -1, &mut stmt, ptr::null_mut())
    };
    if rc != ffi::SQLITE_OK {
        return Err(fail(table, format!("preparing insert: {}", errmsg(db))));
    }
    NonNull::new(stmt)
        .map(Stmt)
        .ok_or_else(|| fail(table, "sqlite returned no statement".into()))
}

fn insert_sql(table: &ServingTable, names: &[&str], rows: usize) -> String {
    let one = format!("({})", vec!["?"; names.len()].join(","));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        table.qualified(),
        names.join(","),
        vec![one; rows].join(",")
    )
}

/// Binds one cell to parameter `n` (1-based).
///
/// The text of `Values::Text` is bound without copying: the caller keeps
/// the batch borrowed until the statement has been stepped and reset.
fn bind(stmt: &Stmt, n: c_int, values: &Values, row: usize) -> c_int {
    let s = stmt.0.as_ptr();
    let mut buf = [0u8; TEXT_BUF];
    // SAFETY: s is a live prepared statement and n is within its parameter
    // count (rows × columns of the statement). Text pointers point either
    // into `values`, which the caller keeps alive and unmodified until after
    // sqlite3_step/sqlite3_reset (SQLITE_STATIC contract), or into `buf`,
    // which SQLite copies before returning (SQLITE_TRANSIENT).
    unsafe {
        match values {
            Values::Int(v) => match v[row] {
                Some(x) => ffi::sqlite3_bind_int64(s, n, x),
                None => ffi::sqlite3_bind_null(s, n),
            },
            Values::Float(v) => match v[row].filter(|x| x.is_finite()) {
                Some(x) => ffi::sqlite3_bind_double(s, n, x),
                None => ffi::sqlite3_bind_null(s, n),
            },
            Values::Bool(v) => match v[row] {
                Some(b) => ffi::sqlite3_bind_int64(s, n, i64::from(b)),
                None => ffi::sqlite3_bind_null(s, n),
            },
            Values::Text(v) => match &v[row] {
                Some(t) => match c_int::try_from(t.len()) {
                    Ok(len) => {
                        ffi::sqlite3_bind_text(s, n, t.as_ptr().cast(), len, ffi::SQLITE_STATIC())
                    }
                    Err(_) => ffi::SQLITE_TOOBIG,
                },
                None => ffi::sqlite3_bind_null(s, n),
            },
            Values::Date(v) => match &v[row] {
                Some(d) => {
                    let len = value::write_date(d, &mut buf) as c_int;
                    ffi::sqlite3_bind_text(s, n, buf.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
                }
                None => ffi::sqlite3_bind_null(s, n),
            },
            Values::Timestamp(v) => match &v[row] {
                Some(t) => {
                    let len = value::write_timestamp(t, &mut buf) as c_int;
                    ffi::sqlite3_bind_text(s, n, buf.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
                }
                None => ffi::sqlite3_bind_null(s, n),
            },
        }
    }
}

/// Binds `rows` consecutive rows from `start` and runs the statement.
fn run(
    db: NonNull<ffi::sqlite3>,
    table: &ServingTable,
    stmt: &Stmt,
    columns: &[&Column],
    start: usize,
    rows: usize,
) -> Result<()> {
    let mut n: c_int = 0;
    for r in start..start + rows {
        for c in columns {
            n += 1;
            let rc = bind(stmt, n, &c.values, r);
            if rc != ffi::SQLITE_OK {
                return Err(fail(table, format!("binding `{}`: {}", c.name, errmsg(db))));
            }
        }
    }
    // SAFETY: the statement is live and every parameter is bound; the text
    // it borrows (the batch) is alive until after the reset below.
    let rc = unsafe { ffi::sqlite3_step(stmt.0.as_ptr()) };
    let err = (rc != ffi::SQLITE_DONE).then(|| errmsg(db));
    // SAFETY: as above; reset ends the statement's use of the bindings.
    unsafe { ffi::sqlite3_reset(stmt.0.as_ptr()) };
    match err {
        Some(e) => Err(fail(table, e)),
        None => Ok(()),
    }
}

/// Inserts every row of `batch` into `table` (whose columns `plan` maps to
/// batch columns, see `plan_columns`), on `db`, inside the caller's
/// transaction.
///
/// `db` must come from a `LockedSqliteHandle` that the caller holds for the
/// whole call.
pub(crate) fn insert(
    db: NonNull<ffi::sqlite3>,
    table: &ServingTable,
    batch: &Batch,
    plan: &[usize],
) -> Result<u64> {
    let columns: Vec<&Column> = plan.iter().map(|&i| &batch.columns()[i]).collect();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let n = batch.num_rows();
    if n == 0 {
        return Ok(0);
    }
    let full = n / GROUP;
    if full > 0 {
        let stmt = prepare(db, table, &insert_sql(table, &names, GROUP))?;
        for g in 0..full {
            run(db, table, &stmt, &columns, g * GROUP, GROUP)?;
        }
    }
    if full * GROUP < n {
        let stmt = prepare(db, table, &insert_sql(table, &names, 1))?;
        for r in full * GROUP..n {
            run(db, table, &stmt, &columns, r, 1)?;
        }
    }
    Ok(n as u64)
}
