//! The pipelines: one module per clinical domain, plus reference data and
//! the drug–drug interaction reference.
//!
//! Each pipeline names the bronze tables it reads, a silver step (clean,
//! harmonise, deduplicate; writes `silver/<domain>/…`), a gold step (apply
//! the clinical rules and shape rows exactly as a serving table; writes
//! `gold/<view>/…`), and which gold dataset loads into which serving table.
//! Steps only read the lake, never the CDW, so any step can be rerun alone.

use crate::ctx::Ctx;
use anyhow::Result;
use cdw::Table;
use store::ServingTable;

pub mod allergies;
pub mod ddi;
pub mod demographics;
pub mod encounters;
pub mod family_history;
pub mod flags;
pub mod immunizations;
pub mod labs;
pub mod medications;
pub mod military;
pub mod notes;
pub mod problems;
pub mod reference;
pub mod vitals;

/// One gold dataset and the serving table it replaces.
#[derive(Debug)]
pub struct Output {
    /// Lake key under `gold/`, without `.parquet`.
    pub gold: &'static str,
    pub table: &'static ServingTable,
}

pub struct Pipeline {
    pub name: &'static str,
    /// Bronze inputs (besides the shared dimensions every pipeline may read).
    pub tables: &'static [&'static Table],
    pub silver: fn(&Ctx) -> Result<()>,
    pub gold: fn(&Ctx) -> Result<()>,
    pub outputs: &'static [Output],
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .finish()
    }
}

/// Every pipeline, in the reference's order.
pub static ALL: &[&Pipeline] = &[
    &reference::PIPELINE,
    &demographics::PIPELINE,
    &military::PIPELINE,
    &vitals::PIPELINE,
    &allergies::PIPELINE,
    &medications::PIPELINE,
    &flags::PIPELINE,
    &encounters::PIPELINE,
    &labs::PIPELINE,
    &notes::PIPELINE,
    &immunizations::PIPELINE,
    &problems::PIPELINE,
    &family_history::PIPELINE,
    &ddi::PIPELINE,
];

/// The pipelines whose steps hold the largest frames (the biggest fact
/// tables), largest first: they run first and one at a time.
pub static HEAVY: &[&str] = &["vitals", "labs", "medications", "notes"];

pub fn is_heavy(p: &Pipeline) -> bool {
    HEAVY.contains(&p.name)
}

pub fn find(name: &str) -> Option<&'static Pipeline> {
    ALL.iter().copied().find(|p| p.name == name)
}
