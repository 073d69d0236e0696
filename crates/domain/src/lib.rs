//! # med-z1 domain
//!
//! Domain types and clinical rules for the med-z1 longitudinal health-record
//! viewer.
//!
//! This crate is **pure**: it performs no IO of any kind. It does not touch the
//! file system, the network or a database, it spawns nothing, and it never
//! reads the system clock. Every rule that depends on "today" or "now" takes
//! that instant as an explicit parameter, so the same inputs always produce the
//! same outputs and every rule can be tested exhaustively.
//!
//! Modules:
//!
//! * [`ids`] – validated identifiers (ICN, station number, DFN, patient key,
//!   source-system composite keys).
//! * [`fileman`] – VistA FileMan date/time encoding and the simulator's
//!   relative `T±N` notation.
//! * [`vitals`] – vital-sign catalogue, abnormal flags, plausibility, BMI and
//!   unit conversions.
//! * [`labs`] – laboratory flag normalisation, result and reference-range
//!   parsing.
//! * [`allergies`] – allergy severity and allergen type.
//! * [`flags`] – patient record flags: category, review status, history
//!   actions.
//! * [`problems`] – problem status, ICD-10 codes, condition flags and the
//!   Charlson comorbidity index (also reachable as [`charlson`]).
//! * [`immunizations`] – series parsing, CVX codes, body-site normalisation.
//! * [`record`] – the read model: one row type per serving table the web
//!   reads, and the task write types.
//!
//! Each rule's documentation names the part of the project reference it
//! implements, e.g. "reference: original-webapp §3.3".
//!
//! ```
//! use chrono::NaiveDate;
//! use domain::fileman::{FileManValue, resolve_t_notation};
//! use domain::ids::{Icn, PatientKey};
//! use domain::vitals::{AbnormalFlag, VitalType, abnormal_flag, parse_blood_pressure};
//!
//! let key = PatientKey::from("icn100001".parse::<Icn>()?);
//! assert_eq!(key.as_str(), "ICN100001");
//!
//! let bp = parse_blood_pressure("128/82")?;
//! assert_eq!(abnormal_flag(VitalType::BloodPressure, bp), Some(AbnormalFlag::Normal));
//!
//! let today = NaiveDate::from_ymd_opt(2026, 2, 7).expect("valid date");
//! let taken = resolve_t_notation("T-0.0845", today)?;
//! assert_eq!(taken.to_string(), "3260207.0845");
//! assert!(matches!(taken, FileManValue::DateTime(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod allergies;
pub mod chart;
mod error;
pub mod fileman;
pub mod flags;
pub mod ids;
pub mod immunizations;
pub mod lab_trend;
pub mod labs;
mod numeric;
pub mod pieces;
pub mod problems;
pub mod realtime;
pub mod record;
pub mod summary;
pub mod vitals;

pub use error::CodeError;
pub use problems::charlson;

#[cfg(test)]
mod test_support;
