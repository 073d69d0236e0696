//! Deterministic synthetic CDW (CDWWork + CDWWork2) and VistA site data.
//!
//! `mock generate --patients N --seed S --out DIR` writes
//! `DIR/cdw/CDWWork.sqlite`, `DIR/cdw/CDWWork2.sqlite`, `DIR/vista/…` and
//! `DIR/reference/db_drug_interactions.csv`. The same (seed, N, as-of day)
//! always produces byte-identical files. See `docs/mock-data.md`.

pub mod assets;
pub mod batch;
pub mod mssql;
pub mod rng;
pub mod sqlite;
pub mod synth;
pub mod value;

pub use synth::{GenerateOptions, Summary, generate, render_summary};
