//! Rows on their way from the generator thread to the SQLite writer.
//!
//! The generator validates every value against its column (`value::check`)
//! and encodes it into a [`Batch`]: one flat run of cells per database, in
//! generation order, with dates already rendered and owned text copied into
//! the batch's own buffer. The writer only binds and steps, so the two
//! halves of `mock generate` run on separate cores. Batches travel over a
//! bounded channel and come back empty for reuse, so memory stays bounded
//! whatever the patient count and the buffers are not reallocated.

use crate::synth::out::RowSink;
use crate::value::{self, Value};
use anyhow::{Context, Result, anyhow, bail};
use cdw::{Database, SqlType, Table, ValueKind};
use std::sync::mpsc::{Receiver, SyncSender};

/// A batch is handed to the writer once it holds this many cells …
const BATCH_CELLS: usize = 32 * 1024;
/// … or this many bytes of text.
const BATCH_TEXT: usize = 1 << 20;

/// One encoded cell, bound as is by the writer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Static(&'static str),
    /// `len` bytes at `start` in the batch's text buffer.
    Text {
        start: u32,
        len: u32,
    },
}

/// Consecutive rows for one database, in insertion order.
#[derive(Debug)]
pub struct Batch {
    pub database: Database,
    /// Per row, the index of its table in `database.tables()`.
    rows: Vec<u16>,
    cells: Vec<Cell>,
    text: Vec<u8>,
}

impl Batch {
    pub fn new(database: Database) -> Self {
        Batch {
            database,
            rows: Vec::new(),
            cells: Vec::with_capacity(BATCH_CELLS + 256),
            text: Vec::with_capacity(BATCH_TEXT + 64 * 1024),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.cells.clear();
        self.text.clear();
    }

    fn is_full(&self) -> bool {
        self.cells.len() >= BATCH_CELLS || self.text.len() >= BATCH_TEXT
    }

    /// The bytes of a [`Cell::Text`].
    pub fn text(&self, start: u32, len: u32) -> &[u8] {
        &self.text[start as usize..(start + len) as usize]
    }

    /// Maximal runs of consecutive rows for one table, in order:
    /// `(table index in database.tables(), the run's cells, rows)`.
    pub fn runs<'a>(
        &'a self,
        widths: &'a [usize],
    ) -> impl Iterator<Item = (usize, &'a [Cell], usize)> + 'a {
        let (mut row, mut cell) = (0, 0);
        std::iter::from_fn(move || {
            let t = *self.rows.get(row)?;
            let n = self.rows[row..].iter().take_while(|&&x| x == t).count();
            let len = n * widths[t as usize];
            let cells = &self.cells[cell..cell + len];
            row += n;
            cell += len;
            Some((t as usize, cells, n))
        })
    }

    /// Validates `row` against `table` and appends it.
    pub fn push(&mut self, index: usize, table: &'static Table, row: &[Value]) -> Result<()> {
        if row.len() != table.columns.len() {
            bail!(
                "{}: row has {} values, table has {} columns",
                table.qualified(),
                row.len(),
                table.columns.len()
            );
        }
        let mark = (self.cells.len(), self.text.len());
        for (col, v) in table.columns.iter().zip(row) {
            if let Err(e) = value::check(table, col, v) {
                self.cells.truncate(mark.0);
                self.text.truncate(mark.1);
                return Err(e.into());
            }
            let cell = match v {
                Value::Null => Cell::Null,
                Value::Int(x) => Cell::Int(*x),
                Value::Bool(b) => Cell::Int(*b as i64),
                Value::Dec(x) => {
                    let scale = match col.sql_type {
                        SqlType::Decimal(_, s) | SqlType::Numeric(_, s) => s,
                        _ => 6,
                    };
                    Cell::Real(value::round_to(*x, scale))
                }
                Value::Str(s) => Cell::Static(s),
                Value::Text(s) => {
                    let start = self.text.len();
                    self.text.extend_from_slice(s.as_bytes());
                    self.text_cell(start)?
                }
                Value::Date(d) => {
                    let start = self.text.len();
                    if col.sql_type.kind() == ValueKind::DateTime {
                        value::push_datetime(
                            &mut self.text,
                            d.and_hms_opt(0, 0, 0).expect("midnight exists"),
                        );
                    } else {
                        value::push_date(&mut self.text, *d);
                    }
                    self.text_cell(start)?
                }
                Value::DateTime(d) => {
                    let start = self.text.len();
                    if col.sql_type.kind() == ValueKind::Date {
                        value::push_date(&mut self.text, d.date());
                    } else {
                        value::push_datetime(&mut self.text, *d);
                    }
                    self.text_cell(start)?
                }
            };
            self.cells.push(cell);
        }
        self.rows.push(u16::try_from(index).context("table index")?);
        Ok(())
    }

    fn text_cell(&self, start: usize) -> Result<Cell> {
        let len = self.text.len() - start;
        Ok(Cell::Text {
            start: u32::try_from(start).context("batch text offset")?,
            len: u32::try_from(len)
                .ok()
                .filter(|&l| l <= i32::MAX as u32)
                .context("text value too long")?,
        })
    }
}

/// The column count of each table of `database`, by table index.
pub fn widths(database: Database) -> Vec<usize> {
    database.tables().map(|t| t.columns.len()).collect()
}

/// The generator's end of the pipeline for one database: encodes rows into
/// batches and sends each full batch to the writer.
pub struct Batcher {
    database: Database,
    tables: Vec<&'static Table>,
    batch: Batch,
    to_writer: SyncSender<Batch>,
    recycled: Receiver<Batch>,
}

impl Batcher {
    /// `recycled` delivers batches the writer has finished with.
    pub fn new(
        database: Database,
        to_writer: SyncSender<Batch>,
        recycled: Receiver<Batch>,
    ) -> Self {
        Batcher {
            database,
            tables: database.tables().collect(),
            batch: Batch::new(database),
            to_writer,
            recycled,
        }
    }

    fn send(&mut self) -> Result<()> {
        let next = match self.recycled.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Batch::new(self.database),
        };
        let full = std::mem::replace(&mut self.batch, next);
        self.to_writer
            .send(full)
            .map_err(|_| anyhow!("the {} writer stopped", self.database.name()))
    }

    /// Sends the last, partly filled batch.
    pub fn finish(mut self) -> Result<()> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

impl RowSink for Batcher {
    fn insert(&mut self, table: &'static Table, row: &[Value]) -> Result<()> {
        let index = self
            .tables
            .iter()
            .position(|t| std::ptr::eq(*t, table))
            .with_context(|| format!("{} is not in this database", table.qualified()))?;
        self.batch.push(index, table, row)?;
        if self.batch.is_full() {
            self.send()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdw::catalog;
    use chrono::NaiveDate;

    #[test]
    fn rows_are_encoded_in_order_with_rendered_dates() {
        let t = &catalog::S_PATIENT_S_PATIENT;
        let db = t.database;
        let index = db.tables().position(|x| std::ptr::eq(x, t)).unwrap();
        let mut row: Vec<Value> = t
            .columns
            .iter()
            .map(|c| match c.sql_type.kind() {
                ValueKind::Integer => Value::Int(1),
                _ => Value::Null,
            })
            .collect();
        let dob = t.column_index("BirthDateTime").unwrap();
        row[dob] = Value::Date(NaiveDate::from_ymd_opt(1950, 3, 4).unwrap());
        let name = t.column_index("PatientName").unwrap();
        row[name] = Value::Text("DOE,JANE".into());
        let mut b = Batch::new(db);
        b.push(index, t, &row).unwrap();
        b.push(index, t, &row).unwrap();
        let widths = widths(db);
        let runs: Vec<_> = b.runs(&widths).collect();
        assert_eq!(runs.len(), 1);
        let (ti, cells, n) = runs[0];
        assert_eq!((ti, n, cells.len()), (index, 2, 2 * t.columns.len()));
        let cells = &cells[t.columns.len()..];
        let Cell::Text { start, len } = cells[dob] else {
            panic!("date not rendered: {:?}", cells[dob]);
        };
        assert_eq!(b.text(start, len), b"1950-03-04 00:00:00");
        let Cell::Text { start, len } = cells[name] else {
            panic!("text not copied");
        };
        assert_eq!(b.text(start, len), b"DOE,JANE");
        // A value that does not fit leaves the batch as it was.
        row[name] = Value::Text("X".repeat(500));
        assert!(b.push(index, t, &row).is_err());
        assert_eq!(b.runs(&widths).map(|r| r.2).sum::<usize>(), 2);
        assert_eq!(b.cells.len(), 2 * t.columns.len());
    }

    #[test]
    fn a_stopped_writer_stops_the_generator_instead_of_blocking_it() {
        let t = &catalog::DIM_STA3N;
        let row: Vec<Value> = t
            .columns
            .iter()
            .map(|c| match c.sql_type.kind() {
                ValueKind::Integer => Value::Int(1),
                _ => Value::Null,
            })
            .collect();
        let (to_writer, from_generator) = std::sync::mpsc::sync_channel(1);
        let (_recycle, recycled) = std::sync::mpsc::channel();
        let mut b = Batcher::new(t.database, to_writer, recycled);
        drop(from_generator);
        let err = (0..1_000_000)
            .find_map(|_| b.insert(t, &row).err())
            .expect("sending to a stopped writer fails");
        assert!(err.to_string().contains("writer stopped"), "{err}");
    }
}
