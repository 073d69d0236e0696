//! Bronze's reader for the embedded (SQLite) CDW: steps the table's
//! `SELECT` directly through the SQLite C API.
//!
//! Reading through sqlx costs a copied `sqlite3_value` per cell and a
//! channel hop per row to the async side, several times what SQLite spends
//! producing the rows; bronze reads every row of the CDW, so it reads here
//! instead, on the blocking thread that also encodes the Parquet. The
//! result is the same as `CdwSource::read_table`'s: the same query (catalog
//! columns in rowid order), the same cell per storage class (NULL, INTEGER,
//! REAL, TEXT; BLOB as lossy UTF-8 text), decoded by the same
//! [`crate::Builder`], in the same chunks.

#![allow(unsafe_code)] // FFI to SQLite; every unsafe block states its invariant.

use crate::{Builder, Cell, Reject};
use anyhow::{Context, Result, anyhow, bail};
use cdw::Table;
use columnar::Batch;
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString, c_int};
use std::path::Path;
use std::ptr::{self, NonNull};

/// A read-only connection, closed on drop.
struct Db(NonNull<ffi::sqlite3>);

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2, every statement on it
        // is finalized first (`Stmt` borrows `Db`), and it is closed once.
        unsafe { ffi::sqlite3_close(self.0.as_ptr()) };
    }
}

impl Db {
    fn errmsg(&self) -> String {
        // SAFETY: the handle is open; the message is NUL-terminated, owned by
        // SQLite and copied out at once.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }
}

/// A prepared statement, finalized on drop; borrows its connection.
struct Stmt<'db> {
    ptr: NonNull<ffi::sqlite3_stmt>,
    _db: &'db Db,
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: prepared on a still-open connection; finalized once.
        unsafe { ffi::sqlite3_finalize(self.ptr.as_ptr()) };
    }
}

fn open(file: &Path) -> Result<Db> {
    // Read-only and immutable, as the sqlx reader opens the CDW.
    let uri = format!(
        "file:{}?mode=ro&immutable=1",
        file.to_str()
            .ok_or_else(|| anyhow!("non-UTF-8 path {}", file.display()))?
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23")
    );
    let curi = CString::new(uri)?;
    let mut db = ptr::null_mut();
    // SAFETY: curi is NUL-terminated; db receives a handle (or NULL), which
    // is closed on every path below.
    let rc = unsafe {
        ffi::sqlite3_open_v2(
            curi.as_ptr(),
            &mut db,
            ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_URI | ffi::SQLITE_OPEN_NOMUTEX,
            ptr::null(),
        )
    };
    let db = Db(NonNull::new(db).context("sqlite returned no connection")?);
    if rc != ffi::SQLITE_OK {
        bail!("opening {}: {}", file.display(), db.errmsg());
    }
    Ok(db)
}

fn prepare<'db>(db: &'db Db, sql: &str) -> Result<Stmt<'db>> {
    let csql = CString::new(sql)?;
    let mut stmt = ptr::null_mut();
    // SAFETY: the connection is open; csql is NUL-terminated.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(db.0.as_ptr(), csql.as_ptr(), -1, &mut stmt, ptr::null_mut())
    };
    if rc != ffi::SQLITE_OK {
        bail!("{}", db.errmsg());
    }
    Ok(Stmt {
        ptr: NonNull::new(stmt).context("sqlite returned no statement")?,
        _db: db,
    })
}

/// Bytes of column `i` of the current row (text or blob).
fn column_bytes<'s>(stmt: &'s Stmt<'_>, i: c_int) -> &'s [u8] {
    let s = stmt.ptr.as_ptr();
    // SAFETY: the statement has a current row (sqlite3_step returned
    // SQLITE_ROW) and i is a valid column. sqlite3_column_blob is called
    // before sqlite3_column_bytes, as SQLite requires, and the slice is used
    // before the next step, which is when SQLite may free it.
    unsafe {
        let p = ffi::sqlite3_column_blob(s, i);
        let n = ffi::sqlite3_column_bytes(s, i);
        if p.is_null() || n <= 0 {
            &[]
        } else {
            std::slice::from_raw_parts(p.cast::<u8>(), n as usize)
        }
    }
}

/// Reads every row of `table` from the SQLite file `file`, handing `sink`
/// batches of at most `chunk` rows with their rejects; returns the rows read.
pub fn read_table<F>(file: &Path, table: &'static Table, chunk: usize, mut sink: F) -> Result<u64>
where
    F: FnMut(Batch, Vec<Reject>) -> Result<(), String>,
{
    let chunk = chunk.max(1);
    let read = |e: String| anyhow!("reading {}: {e}", table.qualified());
    let db = open(file)?;
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
    let stmt = prepare(&db, &sql).map_err(|e| read(e.to_string()))?;
    let ncols = table.columns.len() as c_int;
    let mut builder = Builder::new(table, chunk.min(65_536));
    let mut total = 0u64;
    loop {
        // SAFETY: the statement is live and owned by this loop.
        let rc = unsafe { ffi::sqlite3_step(stmt.ptr.as_ptr()) };
        if rc == ffi::SQLITE_DONE {
            break;
        }
        if rc != ffi::SQLITE_ROW {
            return Err(read(db.errmsg()));
        }
        let mut cells = Vec::with_capacity(ncols as usize);
        for i in 0..ncols {
            // SAFETY: a current row exists (SQLITE_ROW) and i < column count.
            let kind = unsafe { ffi::sqlite3_column_type(stmt.ptr.as_ptr(), i) };
            let cell = match kind {
                ffi::SQLITE_NULL => Cell::Null,
                // SAFETY: as above.
                ffi::SQLITE_INTEGER => {
                    Cell::Int(unsafe { ffi::sqlite3_column_int64(stmt.ptr.as_ptr(), i) })
                }
                // SAFETY: as above.
                ffi::SQLITE_FLOAT => {
                    Cell::Float(unsafe { ffi::sqlite3_column_double(stmt.ptr.as_ptr(), i) })
                }
                ffi::SQLITE_BLOB => {
                    Cell::Text(String::from_utf8_lossy(column_bytes(&stmt, i)).into_owned())
                }
                _ => Cell::Text(
                    std::str::from_utf8(column_bytes(&stmt, i))
                        .map_err(|e| read(e.to_string()))?
                        .to_owned(),
                ),
            };
            cells.push(cell);
        }
        builder.push(cells);
        total += 1;
        if builder.len() >= chunk {
            let (batch, rejects) = builder.take();
            sink(batch, rejects).map_err(|e| anyhow!(e))?;
        }
    }
    if !builder.is_empty() || total == 0 {
        let (batch, rejects) = builder.take();
        sink(batch, rejects).map_err(|e| anyhow!(e))?;
    }
    Ok(total)
}
