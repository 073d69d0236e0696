//! Curated reference data shipped in `mock/data/` and compiled into the
//! binary: the CDW dimension tables (loaded verbatim, typed by the catalog)
//! and the generator's vocabularies (names, places, problem terms, note
//! templates, the drug–drug interaction reference).

use crate::value::Value;
use anyhow::{Context, Result, bail, ensure};
use cdw::{Database, SqlType, Table, ValueKind, catalog};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

macro_rules! asset {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../mock/data/", $name)))
    };
}

/// Dimension tables loaded verbatim, with their CSV source.
static DIMENSIONS: &[(&Table, (&str, &str))] = &[
    (&catalog::DIM_STA3N, asset!("Dim.Sta3n.csv")),
    (&catalog::DIM_LOCATION, asset!("Dim.Location.csv")),
    (&catalog::S_STAFF_S_STAFF, asset!("SStaff.SStaff.csv")),
    (
        &catalog::DIM_INSURANCE_COMPANY,
        asset!("Dim.InsuranceCompany.csv"),
    ),
    (&catalog::DIM_VITAL_TYPE, asset!("Dim.VitalType.csv")),
    (
        &catalog::DIM_VITAL_QUALIFIER,
        asset!("Dim.VitalQualifier.csv"),
    ),
    (&catalog::DIM_ALLERGEN, asset!("Dim.Allergen.csv")),
    (&catalog::DIM_REACTION, asset!("Dim.Reaction.csv")),
    (
        &catalog::DIM_ALLERGY_SEVERITY,
        asset!("Dim.AllergySeverity.csv"),
    ),
    (&catalog::DIM_NATIONAL_DRUG, asset!("Dim.NationalDrug.csv")),
    (&catalog::DIM_LOCAL_DRUG, asset!("Dim.LocalDrug.csv")),
    (
        &catalog::DIM_PATIENT_RECORD_FLAG,
        asset!("Dim.PatientRecordFlag.csv"),
    ),
    (&catalog::DIM_LAB_TEST, asset!("Dim.LabTest.csv")),
    (
        &catalog::DIM_TIU_DOCUMENT_DEFINITION,
        asset!("Dim.TIUDocumentDefinition.csv"),
    ),
    (&catalog::DIM_VACCINE, asset!("Dim.Vaccine.csv")),
    (&catalog::DIM_ICD10, asset!("Dim.ICD10.csv")),
    (
        &catalog::DIM_CHARLSON_MAPPING,
        asset!("Dim.CharlsonMapping.csv"),
    ),
    (
        &catalog::DIM_FAMILY_RELATIONSHIP,
        asset!("Dim.FamilyRelationship.csv"),
    ),
    (
        &catalog::DIM_FAMILY_CONDITION,
        asset!("Dim.FamilyCondition.csv"),
    ),
    (
        &catalog::N_DIM_MILL_CODE_VALUE,
        asset!("NDimMill.CodeValue.csv"),
    ),
    (
        &catalog::IMMUNIZATION_MILL_VACCINE_CODE,
        asset!("ImmunizationMill.VaccineCode.csv"),
    ),
];

const LOCATION_STATION: (&str, &str) = asset!("location_station.csv");
const STAFF_ROLES: (&str, &str) = asset!("staff_roles.csv");
const LAB_RANGES: (&str, &str) = asset!("lab_ranges.csv");
const ADDRESSES: (&str, &str) = asset!("addresses.csv");
const PROBLEM_TERMS: (&str, &str) = asset!("problem_terms.csv");
const STREETS: (&str, &str) = asset!("streets.txt");
const FIRST_MALE: (&str, &str) = asset!("names_first_male.txt");
const FIRST_FEMALE: (&str, &str) = asset!("names_first_female.txt");
const LAST_NAMES: (&str, &str) = asset!("names_last.txt");
const NOTE_TEMPLATES: (&str, &str) = asset!("note_templates.json");
/// The drug–drug interaction reference (`Drug 1,Drug 2,Interaction Description`).
pub const DDI_CSV: (&str, &str) = asset!("db_drug_interactions.csv");

/// A loaded dimension table.
#[derive(Debug)]
pub struct Dimension {
    pub table: &'static Table,
    pub rows: Vec<Vec<Value>>,
}

/// Row accessor by column name.
pub struct RowRef<'a> {
    table: &'static Table,
    row: &'a [Value],
}

impl<'a> RowRef<'a> {
    pub fn get(&self, name: &str) -> &'a Value {
        let i = self
            .table
            .column_index(name)
            .unwrap_or_else(|| panic!("{} has no column {name}", self.table.qualified()));
        &self.row[i]
    }
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Value::Int(i) => *i,
            Value::Bool(b) => *b as i64,
            Value::Dec(d) => *d as i64,
            other => panic!(
                "{}.{name} is not an integer: {other:?}",
                self.table.qualified()
            ),
        }
    }
    pub fn opt_int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Value::Null => None,
            _ => Some(self.int(name)),
        }
    }
    pub fn text(&self, name: &str) -> String {
        self.get(name).as_text().unwrap_or_default().to_string()
    }
    pub fn opt_text(&self, name: &str) -> Option<String> {
        self.get(name).as_text().map(str::to_string)
    }
}

/// Parses one CSV cell into a value of the column's type.
pub fn parse_cell(table: &Table, col: &cdw::Column, raw: &str) -> Result<Value> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    let ctx = || format!("{}.{} = {raw:?}", table.qualified(), col.name);
    let v = match col.sql_type.kind() {
        ValueKind::Integer => Value::Int(raw.trim().parse().with_context(ctx)?),
        ValueKind::Bool => match raw.trim() {
            "1" | "true" | "TRUE" => Value::Bool(true),
            "0" | "false" | "FALSE" => Value::Bool(false),
            _ => bail!("{}: not a BIT", ctx()),
        },
        ValueKind::Decimal => Value::Dec(raw.trim().parse().with_context(ctx)?),
        // Text is kept exactly as written: trailing spaces are deliberate dirt.
        ValueKind::Text => Value::Text(raw.to_string()),
        ValueKind::Date => {
            Value::Date(NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").with_context(ctx)?)
        }
        ValueKind::DateTime => {
            let t = raw.trim();
            let dt = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| {
                    NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
                })
                .with_context(ctx)?;
            Value::DateTime(dt)
        }
    };
    if let SqlType::Bit = col.sql_type
        && let Value::Int(i) = v
    {
        return Ok(Value::Bool(i != 0));
    }
    crate::value::check(table, col, &v)?;
    Ok(v)
}

fn load_dimension(table: &'static Table, (name, text): (&str, &str)) -> Result<Dimension> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .with_context(|| format!("reading {name}"))?
        .clone();
    let expected: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let got: Vec<&str> = headers.iter().collect();
    ensure!(
        got == expected,
        "{name}: header {got:?} does not match the catalog {expected:?}"
    );
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{name}: record {}", i + 1))?;
        let row = table
            .columns
            .iter()
            .zip(rec.iter())
            .map(|(c, raw)| parse_cell(table, c, raw))
            .collect::<Result<Vec<_>>>()
            .with_context(|| format!("{name}: record {}", i + 1))?;
        rows.push(row);
    }
    Ok(Dimension { table, rows })
}

fn records(name: &str, text: &str) -> Result<Vec<BTreeMap<String, String>>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers()?.clone();
    rdr.records()
        .map(|r| {
            let r = r.with_context(|| format!("reading {name}"))?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect())
        })
        .collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// One note template.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NoteTemplate {
    pub title: String,
    pub body: String,
}

/// Everything the generator draws from, parsed once.
#[derive(Debug)]
pub struct Assets {
    pub dimensions: Vec<Dimension>,
    pub location_station: Vec<(i64, i64)>,
    pub staff_roles: Vec<(i64, String, i64)>,
    pub lab_ranges: Vec<BTreeMap<String, String>>,
    pub addresses: Vec<BTreeMap<String, String>>,
    pub problem_terms: Vec<BTreeMap<String, String>>,
    pub streets: Vec<String>,
    pub first_male: Vec<String>,
    pub first_female: Vec<String>,
    pub last_names: Vec<String>,
    pub note_templates: Vec<NoteTemplate>,
}

impl Assets {
    pub fn load() -> Result<Assets> {
        let dimensions = DIMENSIONS
            .iter()
            .map(|(t, src)| load_dimension(t, *src))
            .collect::<Result<Vec<_>>>()?;
        let int = |m: &BTreeMap<String, String>, k: &str, file: &str| -> Result<i64> {
            m.get(k)
                .with_context(|| format!("{file}: missing column {k}"))?
                .trim()
                .parse::<i64>()
                .with_context(|| format!("{file}: {k}"))
        };
        let location_station = records(LOCATION_STATION.0, LOCATION_STATION.1)?
            .iter()
            .map(|m| {
                Ok((
                    int(m, "LocationSID", LOCATION_STATION.0)?,
                    int(m, "Sta3n", LOCATION_STATION.0)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let staff_roles = records(STAFF_ROLES.0, STAFF_ROLES.1)?
            .iter()
            .map(|m| {
                Ok((
                    int(m, "StaffSID", STAFF_ROLES.0)?,
                    m.get("Role").cloned().unwrap_or_default(),
                    int(m, "Sta3n", STAFF_ROLES.0)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let note_templates: Vec<NoteTemplate> =
            serde_json::from_str(NOTE_TEMPLATES.1).context("parsing note_templates.json")?;
        let a = Assets {
            dimensions,
            location_station,
            staff_roles,
            lab_ranges: records(LAB_RANGES.0, LAB_RANGES.1)?,
            addresses: records(ADDRESSES.0, ADDRESSES.1)?,
            problem_terms: records(PROBLEM_TERMS.0, PROBLEM_TERMS.1)?,
            streets: lines(STREETS.1),
            first_male: lines(FIRST_MALE.1),
            first_female: lines(FIRST_FEMALE.1),
            last_names: lines(LAST_NAMES.1),
            note_templates,
        };
        ensure!(
            !a.streets.is_empty()
                && !a.first_male.is_empty()
                && !a.first_female.is_empty()
                && !a.last_names.is_empty(),
            "name/street lists must not be empty"
        );
        Ok(a)
    }

    pub fn dim(&self, table: &Table) -> &Dimension {
        self.dimensions
            .iter()
            .find(|d| std::ptr::eq(d.table, table))
            .unwrap_or_else(|| panic!("no dimension asset for {}", table.qualified()))
    }

    pub fn rows<'a>(&'a self, table: &Table) -> impl Iterator<Item = RowRef<'a>> + 'a {
        let d = self.dim(table);
        d.rows.iter().map(move |r| RowRef {
            table: d.table,
            row: r,
        })
    }

    /// Dimensions belonging to one database, in catalog order.
    pub fn dimensions_of(&self, db: Database) -> impl Iterator<Item = &Dimension> {
        db.tables()
            .filter_map(move |t| self.dimensions.iter().find(|d| std::ptr::eq(d.table, t)))
    }
}
