//! Where generated rows go: the two database writers, plus per-table key
//! counters (surrogate keys are assigned in generation order, so they are
//! deterministic and stable for the personas, which are generated first).

use crate::value::Value;
use anyhow::Result;
use cdw::{Database, Table, catalog};
use std::cell::Cell;

/// Destination for rows, one per database (in `mock generate`, a
/// [`crate::batch::Batcher`] feeding the SQLite writer thread).
pub trait RowSink {
    fn insert(&mut self, table: &'static Table, row: &[Value]) -> Result<()>;
}

pub struct Out<'a> {
    cdw1: &'a mut dyn RowSink,
    cdw2: &'a mut dyn RowSink,
    next: Vec<Cell<i64>>,
    next_visit: Cell<i64>,
}

fn table_index(t: &Table) -> usize {
    catalog::ALL
        .iter()
        .position(|x| std::ptr::eq(*x, t))
        .expect("table from the catalog")
}

impl<'a> Out<'a> {
    pub fn new(cdw1: &'a mut dyn RowSink, cdw2: &'a mut dyn RowSink) -> Self {
        Out {
            cdw1,
            cdw2,
            next: (0..catalog::ALL.len()).map(|_| Cell::new(1)).collect(),
            next_visit: Cell::new(800_000_001),
        }
    }

    /// Next surrogate key for `table`.
    pub fn id(&self, table: &'static Table) -> i64 {
        let c = &self.next[table_index(table)];
        let v = c.get();
        c.set(v + 1);
        v
    }

    /// Next visit key (VisitSID/EncounterSID references that have no table of their own).
    pub fn visit_id(&self) -> i64 {
        let v = self.next_visit.get();
        self.next_visit.set(v + 1);
        v
    }

    pub fn row(&mut self, table: &'static Table, row: &[Value]) -> Result<()> {
        match table.database {
            Database::CdwWork => self.cdw1.insert(table, row),
            Database::CdwWork2 => self.cdw2.insert(table, row),
        }
    }
}
