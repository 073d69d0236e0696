//! Problems / diagnoses: CDWWork `Outpat.ProblemList` and CDWWork2
//! `EncMill.ProblemList`, enriched with `Dim.ICD10` and `Dim.CharlsonMapping`
//! → `clinical.patient_problems` (one row per problem, with the patient's
//! Charlson index, counts and fifteen condition flags on every row).
//!
//! Patient identity is the ICN only: CDWWork rows map PatientSID → ICN through
//! `SPatient.SPatient`; CDWWork2 rows use their own `PatientICN` column (never
//! `PatientKey`), which must name an `SPatient` patient.
//!
//! Status: VistA `ACTIVE/INACTIVE/RESOLVED` and Cerner `A/I/R` (any case,
//! padded) → `Active/Inactive/Resolved` (`domain::problems::ProblemStatus`).
//! ICD-10 codes are trimmed, upper-cased and normalised (`i10 ` → `I10`); a
//! code that is not ICD-10-shaped is kept as typed (upper-cased) and simply
//! matches no dimension row.
//!
//! Dedup policy: one row per (ICN, normalised ICD-10 code, onset date);
//! **VistA (CDWWork) is preferred**, as in the reference: VistA is the
//! authoritative problem list and carries the station, and the CDWWork2 rows
//! are re-documentations of the same problems. Within a source the lowest
//! SID wins. Dropped rows are quarantined: `cross-source duplicate` when the
//! kept row is from the other source, `duplicate problem` when from the same
//! source. Rows with no ICD-10 code or no onset date are never merged.
//!
//! Charlson: each row gets the `Dim.CharlsonMapping` weight of its code
//! (`charlson_weight`, whatever its status); a patient's `charlson_index` is
//! the sum over distinct conditions of the highest weight among **Active**
//! problems (`domain::problems::charlson_summary`). Condition flags come from
//! the active codes (`domain::problems::ConditionFlags`). Counts cover every
//! kept row (chronic and service-connected: rows flagged `Y`).
//!
//! Quarantine reasons: `unknown patient`, `invalid problem status`,
//! `cross-source duplicate`, `duplicate problem`, and (for
//! `Dim.CharlsonMapping` rows) `unknown Charlson condition`.

use super::{Output, Pipeline};
use crate::common::{self, clean, int_text, yes_no};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::problems::{
    CharlsonCondition, ConditionFlags, ProblemStatus, charlson_summary, normalise_icd10,
};
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};

pub static PIPELINE: Pipeline = Pipeline {
    name: "problems",
    tables: &[
        &c::OUTPAT_PROBLEM_LIST,
        &c::ENC_MILL_PROBLEM_LIST,
        &c::DIM_ICD10,
        &c::DIM_CHARLSON_MAPPING,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD_KEY,
        table: &store::catalog::PATIENT_PROBLEMS,
    }],
};

const DOMAIN: &str = "problems";
const GOLD_KEY: &str = "problems/patient_problems";
const VISTA_TABLE: &str = "Outpat.ProblemList";
const CERNER_TABLE: &str = "EncMill.ProblemList";
const CDWWORK: &str = "CDWWork";

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

/// Silver columns shared by both sources, before the row rules.
fn harmonised(lf: LazyFrame) -> LazyFrame {
    let text = |n: &str| col(n).cast(DataType::String);
    lf.select([
        text("source_system"),
        text("source_ehr"),
        col("problem_sid").cast(DataType::Int64),
        text("patient_icn"),
        text("problem_number"),
        text("icd10_raw"),
        text("diagnosis_description"),
        text("snomed_code"),
        text("snomed_description"),
        text("status_raw"),
        col("onset_date").cast(DataType::Date),
        col("recorded_date").cast(DataType::Date),
        col("last_modified_date").cast(DataType::Date),
        col("resolved_date").cast(DataType::Date),
        col("entered_datetime").cast(ts_type()),
        text("provider_id"),
        text("provider_name"),
        text("clinic_location"),
        text("facility_id"),
        text("entered_by_name"),
        col("service_connected").cast(DataType::Boolean),
        col("acute_condition").cast(DataType::Boolean),
        col("chronic_condition").cast(DataType::Boolean),
    ])
}

fn vista(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx.bronze(&c::OUTPAT_PROBLEM_LIST)?.select([
        lit(CDWWORK).alias("source_system"),
        lit("VistA").alias("source_ehr"),
        col("ProblemSID").cast(DataType::Int64).alias("problem_sid"),
        col("PatientSID"),
        clean("ProblemNumber").alias("problem_number"),
        clean("ICD10Code").alias("icd10_raw"),
        clean("ICD10Description").alias("diagnosis_description"),
        clean("SNOMEDCode").alias("snomed_code"),
        clean("SNOMEDDescription").alias("snomed_description"),
        clean("ProblemStatus").alias("status_raw"),
        col("OnsetDate").alias("onset_date"),
        col("RecordedDate").alias("recorded_date"),
        col("LastModifiedDate").alias("last_modified_date"),
        col("ResolvedDate").alias("resolved_date"),
        col("EnteredDateTime").alias("entered_datetime"),
        int_text("ProviderSID").alias("provider_id"),
        clean("ProviderName").alias("provider_name"),
        clean("Clinic").alias("clinic_location"),
        int_text("Sta3n").alias("facility_id"),
        clean("EnteredBy").alias("entered_by_name"),
        yes_no("IsServiceConnected").alias("service_connected"),
        yes_no("IsAcuteCondition").alias("acute_condition"),
        yes_no("IsChronicCondition").alias("chronic_condition"),
    ]);
    let df = common::resolve_patients(ctx, DOMAIN, VISTA_TABLE, lf, "PatientSID", "problem_sid")?;
    Ok(harmonised(df.lazy()).collect()?)
}

fn cerner(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx.bronze(&c::ENC_MILL_PROBLEM_LIST)?.select([
        lit("CDWWork2").alias("source_system"),
        lit("Cerner").alias("source_ehr"),
        col("DiagnosisSID")
            .cast(DataType::Int64)
            .alias("problem_sid"),
        col("PatientICN"),
        clean("ProblemID").alias("problem_number"),
        clean("DiagnosisCode").alias("icd10_raw"),
        clean("DiagnosisDescription").alias("diagnosis_description"),
        clean("ClinicalTermCode").alias("snomed_code"),
        clean("ClinicalTermDescription").alias("snomed_description"),
        clean("StatusCode").alias("status_raw"),
        col("OnsetDateTime").alias("onset_date"),
        col("RecordDateTime").alias("recorded_date"),
        col("LastUpdateDateTime").alias("last_modified_date"),
        col("ResolvedDateTime").alias("resolved_date"),
        col("CreatedDateTime").alias("entered_datetime"),
        int_text("ResponsibleProviderID").alias("provider_id"),
        clean("ResponsibleProviderName").alias("provider_name"),
        clean("RecordingLocation").alias("clinic_location"),
        int_text("FacilityCode").alias("facility_id"),
        clean("CreatedByUserName").alias("entered_by_name"),
        yes_no("ServiceConnectedFlag").alias("service_connected"),
        yes_no("AcuteFlag").alias("acute_condition"),
        yes_no("ChronicFlag").alias("chronic_condition"),
    ]);
    let df = common::resolve_icns(ctx, DOMAIN, CERNER_TABLE, lf, "PatientICN", "problem_sid")?;
    Ok(harmonised(df.lazy()).collect()?)
}

/// Normalised ICD-10 code, or the typed text (upper-cased) when it is not
/// ICD-10-shaped.
fn icd10_key(raw: &str) -> String {
    normalise_icd10(raw).map_or_else(|_| raw.trim().to_uppercase(), |c| c.as_str().to_owned())
}

struct Icd10Info {
    description: Option<String>,
    category: Option<String>,
    chronic: Option<String>,
    charlson: Option<String>,
}

fn icd10_dim(ctx: &Ctx) -> Result<HashMap<String, Icd10Info>> {
    let df = ctx
        .bronze(&c::DIM_ICD10)?
        .select([
            clean("ICD10Code").alias("code"),
            clean("ICD10Description").alias("description"),
            clean("ICD10Category").alias("category"),
            common::clean_upper("IsChronicCondition").alias("chronic"),
            clean("CharlsonCondition").alias("charlson"),
            col("ICD10SID").cast(DataType::Int64).alias("sid"),
        ])
        .sort(
            ["sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let codes = common::texts(&df, "code")?;
    let description = common::texts(&df, "description")?;
    let category = common::texts(&df, "category")?;
    let chronic = common::texts(&df, "chronic")?;
    let charlson = common::texts(&df, "charlson")?;
    let mut out = HashMap::new();
    for i in 0..df.height() {
        if let Some(code) = &codes[i] {
            out.entry(icd10_key(code)).or_insert_with(|| Icd10Info {
                description: description[i].clone(),
                category: category[i].clone(),
                chronic: chronic[i].clone(),
                charlson: charlson[i].clone(),
            });
        }
    }
    Ok(out)
}

/// Code → (mapping condition name, weight), highest weight per code. Rows
/// whose condition name is not one of the 17 Charlson conditions are
/// quarantined.
fn charlson_mapping(ctx: &Ctx) -> Result<HashMap<String, (String, i64)>> {
    let df = ctx
        .bronze(&c::DIM_CHARLSON_MAPPING)?
        .select([
            col("CharlsonMappingSID").cast(DataType::Int64).alias("sid"),
            clean("ICD10Code").alias("code"),
            clean("CharlsonCondition").alias("condition"),
            col("CharlsonWeight").cast(DataType::Int64).alias("weight"),
        ])
        .sort(
            ["sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let sids = common::ints(&df, "sid")?;
    let codes = common::texts(&df, "code")?;
    let conditions = common::texts(&df, "condition")?;
    let weights = common::ints(&df, "weight")?;
    let mut out: HashMap<String, (String, i64)> = HashMap::new();
    let mut unknown = Vec::new();
    for i in 0..df.height() {
        let (Some(code), Some(name)) = (&codes[i], &conditions[i]) else {
            continue;
        };
        let Some(condition) = CharlsonCondition::from_name(name) else {
            unknown.push(sids[i].map(|s| s.to_string()).unwrap_or_default());
            continue;
        };
        let weight = weights[i].unwrap_or_else(|| i64::from(condition.weight()));
        let entry = out
            .entry(icd10_key(code))
            .or_insert_with(|| (name.clone(), weight));
        if weight > entry.1 {
            *entry = (name.clone(), weight);
        }
    }
    if !unknown.is_empty() {
        ctx.quarantine(
            DOMAIN,
            "Dim.CharlsonMapping",
            unknown,
            "unknown Charlson condition",
            "CharlsonCondition is not one of the 17 Charlson conditions",
        );
    }
    Ok(out)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let mut df = concat(
        [vista(ctx)?.lazy(), cerner(ctx)?.lazy()],
        UnionArgs::default(),
    )?
    .collect()?;
    let raw_status = common::texts(&df, "status_raw")?;
    let status: Vec<Option<&'static str>> = raw_status
        .iter()
        .map(|s| {
            s.as_deref()
                .and_then(|s| s.parse::<ProblemStatus>().ok())
                .map(ProblemStatus::as_str)
        })
        .collect();
    common::with_series(&mut df, common::series("problem_status", status))?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        VISTA_TABLE,
        df,
        "problem_sid",
        common::Check {
            bad: col("problem_status")
                .is_null()
                .and(col("source_system").eq(lit(CDWWORK))),
            reason: "invalid problem status",
            detail: "ProblemStatus is not ACTIVE, INACTIVE or RESOLVED",
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        CERNER_TABLE,
        df,
        "problem_sid",
        common::Check {
            bad: col("problem_status").is_null(),
            reason: "invalid problem status",
            detail: "StatusCode is not A, I or R",
        },
    )?;
    let mut df = df
        .lazy()
        .sort(
            ["source_system", "problem_sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;

    let icd_raw = common::texts(&df, "icd10_raw")?;
    let icd10: Vec<Option<String>> = icd_raw
        .iter()
        .map(|r| r.as_deref().map(icd10_key))
        .collect();

    // Dedup on (ICN, ICD-10, onset date): rows are ordered CDWWork first, then
    // by SID, so the first row seen for a key is the VistA / lowest-SID one.
    let sources = common::texts(&df, "source_system")?;
    let sids = common::ints(&df, "problem_sid")?;
    let icns = common::texts(&df, "patient_icn")?;
    let onset = common::ints(&df, "onset_date")?;
    let mut kept: HashMap<(String, String, i64), usize> = HashMap::new();
    let mut duplicate = vec![false; df.height()];
    for i in 0..df.height() {
        let (Some(icn), Some(code), Some(day)) = (&icns[i], &icd10[i], onset[i]) else {
            continue;
        };
        let key = (icn.clone(), code.clone(), day);
        match kept.get(&key) {
            None => {
                kept.insert(key, i);
            }
            Some(&k) => {
                duplicate[i] = true;
                let cross = sources[k] != sources[i];
                let table = if sources[i].as_deref() == Some(CDWWORK) {
                    VISTA_TABLE
                } else {
                    CERNER_TABLE
                };
                ctx.quarantine(
                    DOMAIN,
                    table,
                    [sids[i].unwrap_or_default().to_string()],
                    if cross {
                        "cross-source duplicate"
                    } else {
                        "duplicate problem"
                    },
                    &format!(
                        "same ICN, ICD-10 {code} and onset date as {} problem {}; that row is kept",
                        sources[k].as_deref().unwrap_or_default(),
                        sids[k].unwrap_or_default()
                    ),
                );
            }
        }
    }

    // Enrichment: Dim.ICD10 and Dim.CharlsonMapping, by normalised code.
    let dim = icd10_dim(ctx)?;
    let mapping = charlson_mapping(ctx)?;
    let diagnosis = common::texts(&df, "diagnosis_description")?;
    let n = df.height();
    let mut description = Vec::with_capacity(n);
    let mut category = Vec::with_capacity(n);
    let mut chronic_flag = Vec::with_capacity(n);
    let mut charlson_condition = Vec::with_capacity(n);
    let mut mapped_condition = Vec::with_capacity(n);
    let mut weight = Vec::with_capacity(n);
    for i in 0..n {
        let info = icd10[i].as_ref().and_then(|c| dim.get(c));
        let mapped = icd10[i].as_ref().and_then(|c| mapping.get(c));
        description.push(
            info.and_then(|d| d.description.clone())
                .or_else(|| diagnosis[i].clone()),
        );
        category.push(info.and_then(|d| d.category.clone()));
        chronic_flag.push(info.and_then(|d| d.chronic.clone()));
        charlson_condition.push(
            info.and_then(|d| d.charlson.clone())
                .or_else(|| mapped.map(|m| m.0.clone())),
        );
        mapped_condition.push(mapped.map(|m| m.0.clone()));
        weight.push(mapped.map(|m| m.1));
    }
    let source_id: Vec<String> = sids
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect();
    for s in [
        common::series("source_id", source_id),
        common::series("icd10_code", icd10),
        common::series("icd10_description", description),
        common::series("icd10_category", category),
        common::series("icd10_chronic_flag", chronic_flag),
        common::series("icd10_charlson_condition", charlson_condition),
        common::series("charlson_mapping_condition", mapped_condition),
        common::series("charlson_weight", weight),
        common::series("__duplicate", duplicate),
    ] {
        common::with_series(&mut df, s)?;
    }
    let mut df = df
        .lazy()
        .filter(col("__duplicate").not())
        .drop(cols(["__duplicate", "icd10_raw", "status_raw"]))
        .sort(
            ["patient_icn", "source_system", "problem_sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    ctx.write_silver(DOMAIN, "problems_harmonized", &mut df)
}

/// Patient-level aggregates.
#[derive(Default)]
struct PatientSummary {
    charlson_index: i64,
    charlson_conditions: i64,
    total: i64,
    active: i64,
    inactive: i64,
    resolved: i64,
    chronic: i64,
    service_connected: i64,
    flags: ConditionFlags,
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx
        .silver(DOMAIN, "problems_harmonized")?
        .sort(
            ["patient_icn", "onset_date", "source_system", "problem_sid"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()?;
    let icns = common::texts(&df, "patient_icn")?;
    let status = common::texts(&df, "problem_status")?;
    let codes = common::texts(&df, "icd10_code")?;
    let conditions = common::texts(&df, "charlson_mapping_condition")?;
    let weights = common::ints(&df, "charlson_weight")?;
    let chronic = df.column("chronic_condition")?.bool()?.clone();
    let service = df.column("service_connected")?.bool()?.clone();

    let mut rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, icn) in icns.iter().enumerate() {
        rows.entry(icn.clone().unwrap_or_default())
            .or_default()
            .push(i);
    }
    let mut summaries: HashMap<String, PatientSummary> = HashMap::new();
    for (icn, idx) in &rows {
        let mut s = PatientSummary::default();
        let mut charlson = Vec::new();
        let mut active_codes = Vec::new();
        for &i in idx {
            s.total += 1;
            let st = status[i]
                .as_deref()
                .and_then(|t| t.parse::<ProblemStatus>().ok());
            match st {
                Some(ProblemStatus::Active) => s.active += 1,
                Some(ProblemStatus::Inactive) => s.inactive += 1,
                Some(ProblemStatus::Resolved) => s.resolved += 1,
                None => {}
            }
            s.chronic += i64::from(chronic.get(i) == Some(true));
            s.service_connected += i64::from(service.get(i) == Some(true));
            if st.is_some_and(ProblemStatus::is_active) {
                if let Some(code) = &codes[i] {
                    active_codes.push(code.clone());
                }
                if let (Some(name), Some(w)) = (&conditions[i], weights[i])
                    && let Some(cond) = CharlsonCondition::from_name(name)
                {
                    charlson.push((cond, u32::try_from(w.max(0)).unwrap_or(0)));
                }
            }
        }
        let summary = charlson_summary(charlson);
        s.charlson_index = i64::from(summary.index);
        s.charlson_conditions = i64::from(summary.condition_count);
        s.flags = ConditionFlags::from_active_icd10(&active_codes);
        summaries.insert(icn.clone(), s);
    }

    let per_row = |f: &dyn Fn(&PatientSummary) -> i64| -> Vec<i64> {
        icns.iter()
            .map(|icn| {
                summaries
                    .get(icn.as_deref().unwrap_or_default())
                    .map_or(0, f)
            })
            .collect()
    };
    let ints: [(&str, Vec<i64>); 8] = [
        ("charlson_index", per_row(&|s| s.charlson_index)),
        (
            "charlson_condition_count",
            per_row(&|s| s.charlson_conditions),
        ),
        ("total_problem_count", per_row(&|s| s.total)),
        ("active_problem_count", per_row(&|s| s.active)),
        ("inactive_problem_count", per_row(&|s| s.inactive)),
        ("resolved_problem_count", per_row(&|s| s.resolved)),
        ("chronic_problem_count", per_row(&|s| s.chronic)),
        ("service_connected_count", per_row(&|s| s.service_connected)),
    ];
    for (name, values) in ints {
        common::with_series(&mut df, common::series(name, values))?;
    }
    let flag_names = ConditionFlags::default().as_pairs().map(|(name, _)| name);
    for (k, name) in flag_names.iter().enumerate() {
        let values: Vec<bool> = icns
            .iter()
            .map(|icn| {
                summaries
                    .get(icn.as_deref().unwrap_or_default())
                    .is_some_and(|s| s.flags.as_pairs()[k].1)
            })
            .collect();
        common::with_series(&mut df, common::series(name, values))?;
    }
    let mut df = df
        .lazy()
        .with_column(col("patient_icn").alias("patient_key"))
        .select(
            store::catalog::PATIENT_PROBLEMS
                .columns
                .iter()
                .filter(|c| c.name != "problem_id" && c.name != "last_updated")
                .map(|c| col(c.name))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    ctx.write_gold(GOLD_KEY, &mut df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, ts};
    use chrono::NaiveDate;
    use store::ColType;

    fn put(lake: &TestLake, t: &'static cdw::Table, columns: Vec<Column>) {
        let n = columns.first().map_or(0, Column::len);
        lake.put_bronze(t, DataFrame::new(n, columns).unwrap());
    }

    fn sc<T, I>(name: &str, values: I) -> Column
    where
        Series: NamedFrom<Vec<T>, [T]>,
        I: IntoIterator<Item = T>,
    {
        common::series(name, values).into_column()
    }

    fn check_catalog(df: &DataFrame, table: &store::ServingTable) {
        for column in df.columns() {
            let spec = table
                .column(column.name())
                .unwrap_or_else(|| panic!("{} not in {}", column.name(), table.name));
            let ok = match spec.ty {
                ColType::Int => column.dtype() == &DataType::Int64,
                ColType::Float => column.dtype() == &DataType::Float64,
                ColType::Bool => column.dtype() == &DataType::Boolean,
                ColType::Text | ColType::Json => column.dtype() == &DataType::String,
                ColType::Date => column.dtype() == &DataType::Date,
                ColType::Timestamp => matches!(column.dtype(), DataType::Datetime(_, _)),
            };
            assert!(
                ok,
                "{}: {:?} vs {:?}",
                column.name(),
                column.dtype(),
                spec.ty
            );
            if !spec.nullable {
                assert_eq!(column.null_count(), 0, "{} has NULLs", column.name());
            }
        }
        for spec in table.columns.iter().skip(1) {
            if !spec.nullable {
                assert!(df.column(spec.name).is_ok(), "missing {}", spec.name);
            }
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn setup() -> TestLake {
        let lake = TestLake::new();
        put(
            &lake,
            &c::S_PATIENT_S_PATIENT,
            vec![
                sc("PatientSID", [1001i64, 2001, 1010]),
                sc("PatientICN", ["ICN100001", "ICN200001", "ICN100010"]),
            ],
        );
        put(
            &lake,
            &c::DIM_ICD10,
            vec![
                sc("ICD10SID", [1i64, 2, 3, 4, 5, 6, 7]),
                sc(
                    "ICD10Code",
                    [
                        "I10", "I50.9", "E11.9", "E11.22", "C78.00", "F43.10", "N18.3",
                    ],
                ),
                sc(
                    "ICD10Description",
                    [
                        "Essential (primary) hypertension",
                        "Heart failure, unspecified",
                        "Type 2 diabetes mellitus without complications",
                        "Type 2 diabetes mellitus with diabetic CKD",
                        "Secondary malignant neoplasm of unspecified lung",
                        "Post-traumatic stress disorder, unspecified",
                        "Chronic kidney disease, stage 3",
                    ],
                ),
                sc(
                    "ICD10Category",
                    [
                        "Cardiovascular",
                        "Cardiovascular",
                        "Endocrine",
                        "Endocrine",
                        "Oncology",
                        "Mental Health",
                        "Renal",
                    ],
                ),
                sc("IsChronicCondition", ["Y", "Y", "Y", "Y", "Y", "Y", "y "]),
                sc(
                    "CharlsonCondition",
                    [
                        None,
                        Some("Congestive Heart Failure"),
                        Some("Diabetes without Complication"),
                        Some("Diabetes with Complication"),
                        Some("Metastatic Solid Tumor"),
                        None,
                        Some("Moderate or Severe Renal Disease"),
                    ],
                ),
            ],
        );
        put(
            &lake,
            &c::DIM_CHARLSON_MAPPING,
            vec![
                sc("CharlsonMappingSID", [1i64, 2, 3, 4, 5, 6]),
                sc(
                    "CharlsonCondition",
                    [
                        "Congestive Heart Failure",
                        "Diabetes without Complication",
                        "Diabetes with Complication",
                        "Metastatic Solid Tumor",
                        "Moderate or Severe Renal Disease",
                        "Gout of the soul",
                    ],
                ),
                sc("CharlsonWeight", [1i64, 1, 2, 6, 2, 9]),
                sc(
                    "ICD10Code",
                    ["I50.9", "E11.9", "E11.22", "C78.00", "N18.3", "I10"],
                ),
            ],
        );
        // VistA: Adam (1001) and Bailey (2001); one orphan; one bad status.
        put(
            &lake,
            &c::OUTPAT_PROBLEM_LIST,
            vec![
                sc(
                    "ProblemSID",
                    [1001i64, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009],
                ),
                sc(
                    "PatientSID",
                    [
                        1001i64, 1001, 1001, 1001, 1001, 2001, 99_999_999, 1001, 1001,
                    ],
                ),
                sc(
                    "PatientICN",
                    [
                        "ICN100001",
                        "ICN100001",
                        "ICN100001",
                        "ICN100001",
                        "ICN100001",
                        "ICN200001",
                        "ICN999999",
                        "ICN100001",
                        "ICN100001",
                    ],
                ),
                sc("Sta3n", [508i64, 508, 508, 508, 508, 516, 508, 508, 508]),
                sc(
                    "ProblemNumber",
                    [
                        "508-1", "508-2", "508-3", "508-4", "508-5", "516-1", "x", "508-6", "508-7",
                    ],
                ),
                sc(
                    "ICD10Code",
                    [
                        Some("i10 "),
                        Some("I50.9"),
                        Some("E11.9"),
                        Some("E11.22"),
                        Some("C78.00"),
                        Some("F43.10"),
                        Some("I10"),
                        Some("N18.3"),
                        Some("I10"),
                    ],
                ),
                sc(
                    "ICD10Description",
                    [
                        "Hypertension (local)",
                        "HF",
                        "DM2",
                        "DM2 with CKD",
                        "Mets to lung",
                        "PTSD",
                        "HTN",
                        "CKD 3",
                        "HTN again",
                    ],
                ),
                sc(
                    "ProblemStatus",
                    [
                        Some("ACTIVE"),
                        Some("active"),
                        Some("ACTIVE"),
                        Some("ACTIVE"),
                        Some("RESOLVED"),
                        Some("ACTIVE"),
                        Some("ACTIVE"),
                        Some("INACTIVE"),
                        Some("PENDING"),
                    ],
                ),
                sc(
                    "OnsetDate",
                    [
                        Some(d("2015-03-01")),
                        Some(d("2019-06-01")),
                        Some(d("2012-01-01")),
                        Some(d("2020-01-01")),
                        Some(d("2021-01-01")),
                        Some(d("2010-01-01")),
                        Some(d("2015-03-01")),
                        None,
                        Some(d("2015-03-01")),
                    ],
                ),
                sc(
                    "IsServiceConnected",
                    ["Y", "N", "N", "N", "N", "Y", "N", "N", "N"],
                ),
                sc(
                    "IsAcuteCondition",
                    ["N", "N", "N", "N", "N", "N", "N", "N", "N"],
                ),
                sc(
                    "IsChronicCondition",
                    ["Y", "Y", "Y", "Y", "N", "Y", "Y", "Y", "Y"],
                ),
                sc("ProviderSID", [11i64, 11, 11, 11, 11, 12, 11, 11, 11]),
                sc(
                    "ProviderName",
                    [
                        "DOC,BOB", "DOC,BOB", "DOC,BOB", "DOC,BOB", "DOC,BOB", "MD,AL", "x",
                        "DOC,BOB", "x",
                    ],
                ),
                sc("EnteredDateTime", [ts("2015-03-02 10:00"); 9]),
            ],
        );
        // Cerner: PatientKey 1001 but ICN decides; key 2001 would be Bailey in CDWWork.
        put(
            &lake,
            &c::ENC_MILL_PROBLEM_LIST,
            vec![
                sc("DiagnosisSID", [2001i64, 2002, 2003, 2004, 2005]),
                sc("PatientKey", [1001i64, 2001, 1010, 1010, 3001]),
                sc(
                    "PatientICN",
                    [
                        Some("ICN100001"),
                        Some("ICN100001"),
                        Some("ICN100010"),
                        Some("ICN100010"),
                        None,
                    ],
                ),
                sc("FacilityCode", [648i64, 648, 663, 663, 687]),
                sc(
                    "ProblemID",
                    ["P2001-1", "P2001-2", "P2010-1", "P2010-2", "P3001-1"],
                ),
                sc("DiagnosisCode", ["I10", "E11.22", "I50.9", "F43.10", "I10"]),
                sc(
                    "DiagnosisDescription",
                    ["HTN", "DM2 CKD", "CHF", "PTSD", "HTN"],
                ),
                sc("ClinicalTermCode", ["38341003", "x", "y", "z", "w"]),
                sc("StatusCode", ["A", "a ", "I", "A", "A"]),
                sc(
                    "OnsetDateTime",
                    [
                        ts("2015-03-01 00:00"),
                        ts("2021-05-01 00:00"),
                        ts("2019-06-01 00:00"),
                        ts("2018-01-01 00:00"),
                        ts("2015-03-01 00:00"),
                    ],
                ),
                sc("ResponsibleProviderID", [5001i64, 5001, 5002, 5002, 5003]),
                sc("ResponsibleProviderName", ["SMITH, JO MD"; 5]),
                sc("RecordingLocation", ["PRIMARY CARE CLINIC"; 5]),
                sc("ServiceConnectedFlag", ["N", "N", "N", "Y", "N"]),
                sc("AcuteFlag", ["N"; 5]),
                sc("ChronicFlag", ["Y"; 5]),
                sc("CreatedByUserName", ["CERNER,INTERFACE"; 5]),
                sc("CreatedDateTime", [ts("2021-05-02 10:00"); 5]),
            ],
        );
        lake
    }

    fn idx(df: &DataFrame, source: &str, sid: i64) -> usize {
        let src = common::texts(df, "source_system").unwrap();
        let ids = common::ints(df, "problem_sid").unwrap();
        (0..df.height())
            .find(|&i| src[i].as_deref() == Some(source) && ids[i] == Some(sid))
            .unwrap_or_else(|| panic!("{source} {sid} missing"))
    }

    fn text(df: &DataFrame, name: &str, i: usize) -> Option<String> {
        common::texts(df, name).unwrap()[i].clone()
    }

    fn int(df: &DataFrame, name: &str, i: usize) -> Option<i64> {
        common::ints(df, name).unwrap()[i]
    }

    fn flag(df: &DataFrame, name: &str, i: usize) -> Option<bool> {
        df.column(name).unwrap().bool().unwrap().get(i)
    }

    #[test]
    fn problems_end_to_end() {
        let lake = setup();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let df = ctx.gold(GOLD_KEY).unwrap();
        check_catalog(&df, &store::catalog::PATIENT_PROBLEMS);
        // Adam: V1001..1005, V1008, C2002; Alexander: C2003, C2004; Bailey: V1006.
        assert_eq!(df.height(), 10);
        let keys: Vec<String> = common::texts(&df, "patient_key")
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(keys.iter().filter(|k| *k == "ICN100001").count(), 7);
        assert_eq!(keys.iter().filter(|k| *k == "ICN100010").count(), 2);
        assert_eq!(keys.iter().filter(|k| *k == "ICN200001").count(), 1);

        // V1001: code normalised, Dim.ICD10 enrichment, VistA kept over C2001.
        let i = idx(&df, "CDWWork", 1001);
        assert_eq!(text(&df, "icd10_code", i).as_deref(), Some("I10"));
        assert_eq!(text(&df, "source_id", i).as_deref(), Some("1001"));
        assert_eq!(text(&df, "source_ehr", i).as_deref(), Some("VistA"));
        assert_eq!(text(&df, "patient_icn", i).as_deref(), Some("ICN100001"));
        assert_eq!(
            text(&df, "icd10_description", i).as_deref(),
            Some("Essential (primary) hypertension")
        );
        assert_eq!(
            text(&df, "diagnosis_description", i).as_deref(),
            Some("Hypertension (local)")
        );
        assert_eq!(
            text(&df, "icd10_category", i).as_deref(),
            Some("Cardiovascular")
        );
        assert_eq!(text(&df, "icd10_chronic_flag", i).as_deref(), Some("Y"));
        assert_eq!(text(&df, "problem_status", i).as_deref(), Some("Active"));
        assert_eq!(text(&df, "facility_id", i).as_deref(), Some("508"));
        assert_eq!(text(&df, "provider_id", i).as_deref(), Some("11"));
        assert_eq!(flag(&df, "service_connected", i), Some(true));
        assert_eq!(
            int(&df, "charlson_weight", i),
            None,
            "unknown mapping row ignored"
        );

        // Adam's Charlson: CHF 1 + diabetes-with-complication 2 + diabetes-
        // without 1 (distinct conditions add up); metastatic (resolved) and
        // CKD (inactive) do not count. E11.22 appears twice (V1004 + C2002
        // with a different onset): max weight per condition, counted once.
        for sid in [1001, 1002, 1003, 1004, 1005, 1008] {
            let i = idx(&df, "CDWWork", sid);
            assert_eq!(int(&df, "charlson_index", i), Some(4), "V{sid}");
            assert_eq!(int(&df, "charlson_condition_count", i), Some(3));
            assert_eq!(int(&df, "total_problem_count", i), Some(7));
            assert_eq!(int(&df, "active_problem_count", i), Some(5));
            assert_eq!(int(&df, "inactive_problem_count", i), Some(1));
            assert_eq!(int(&df, "resolved_problem_count", i), Some(1));
            assert_eq!(int(&df, "chronic_problem_count", i), Some(6));
            assert_eq!(int(&df, "service_connected_count", i), Some(1));
            assert_eq!(flag(&df, "has_hypertension", i), Some(true));
            assert_eq!(flag(&df, "has_chf", i), Some(true));
            assert_eq!(flag(&df, "has_diabetes", i), Some(true));
            assert_eq!(
                flag(&df, "has_cancer", i),
                Some(false),
                "resolved + secondary"
            );
            assert_eq!(flag(&df, "has_ckd", i), Some(false), "inactive");
            assert_eq!(flag(&df, "has_ptsd", i), Some(false));
        }
        let i = idx(&df, "CDWWork", 1005);
        assert_eq!(int(&df, "charlson_weight", i), Some(6));
        assert_eq!(
            text(&df, "icd10_charlson_condition", i).as_deref(),
            Some("Metastatic Solid Tumor")
        );
        assert_eq!(text(&df, "problem_status", i).as_deref(), Some("Resolved"));
        let i = idx(&df, "CDWWork", 1008);
        assert_eq!(int(&df, "onset_date", i), None);
        assert_eq!(int(&df, "charlson_weight", i), Some(2));

        // C2002: Cerner row of Adam (PatientKey 2001 = Bailey's SID: ignored).
        let i = idx(&df, "CDWWork2", 2002);
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "source_ehr", i).as_deref(), Some("Cerner"));
        assert_eq!(text(&df, "problem_status", i).as_deref(), Some("Active"));
        assert_eq!(text(&df, "facility_id", i).as_deref(), Some("648"));
        assert_eq!(text(&df, "problem_number", i).as_deref(), Some("P2001-2"));
        let epoch = d("1970-01-01");
        assert_eq!(
            int(&df, "onset_date", i),
            Some((d("2021-05-01") - epoch).num_days())
        );

        // Bailey: only her own VistA PTSD problem.
        let i = idx(&df, "CDWWork", 1006);
        assert_eq!(flag(&df, "has_ptsd", i), Some(true));
        assert_eq!(int(&df, "charlson_index", i), Some(0));
        assert_eq!(int(&df, "total_problem_count", i), Some(1));

        // Alexander (Cerner only): CHF inactive → index 0; PTSD active.
        let i = idx(&df, "CDWWork2", 2004);
        assert_eq!(int(&df, "charlson_index", i), Some(0));
        assert_eq!(flag(&df, "has_ptsd", i), Some(true));
        assert_eq!(flag(&df, "has_chf", i), Some(false));
        assert_eq!(int(&df, "inactive_problem_count", i), Some(1));
        assert_eq!(int(&df, "service_connected_count", i), Some(1));

        let mut q: Vec<(String, String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|r| (r.source_table, r.source_id, r.reason))
            .collect();
        q.sort();
        let want: Vec<(String, String, String)> = [
            ("Dim.CharlsonMapping", "6", "unknown Charlson condition"),
            ("EncMill.ProblemList", "2001", "cross-source duplicate"),
            ("EncMill.ProblemList", "2005", "unknown patient"),
            ("Outpat.ProblemList", "1007", "unknown patient"),
            ("Outpat.ProblemList", "1009", "invalid problem status"),
        ]
        .iter()
        .map(|(a, b, r)| (a.to_string(), b.to_string(), r.to_string()))
        .collect();
        assert_eq!(q, want);

        let done = crate::load::finish_frame(ctx, &PIPELINE.outputs[0], df).unwrap();
        assert_eq!(done.column("problem_id").unwrap().len(), 10);
        check_catalog(&done, &store::catalog::PATIENT_PROBLEMS);
    }

    #[test]
    fn same_source_duplicates_collapse_to_lowest_sid() {
        let lake = setup();
        let ctx = &lake.ctx;
        put(
            &lake,
            &c::OUTPAT_PROBLEM_LIST,
            vec![
                sc("ProblemSID", [1002i64, 1001]),
                sc("PatientSID", [1001i64, 1001]),
                sc("ICD10Code", ["I10", " i10"]),
                sc("ProblemStatus", ["ACTIVE", "ACTIVE"]),
                sc("OnsetDate", [d("2015-03-01"), d("2015-03-01")]),
            ],
        );
        put(
            &lake,
            &c::ENC_MILL_PROBLEM_LIST,
            vec![sc("DiagnosisSID", Vec::<i64>::new())],
        );
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let df = ctx.gold(GOLD_KEY).unwrap();
        assert_eq!(df.height(), 1);
        assert_eq!(int(&df, "problem_sid", 0), Some(1001));
        assert_eq!(int(&df, "total_problem_count", 0), Some(1));
        let q = ctx.quarantined(DOMAIN);
        assert!(
            q.iter()
                .any(|r| r.source_id == "1002" && r.reason == "duplicate problem")
        );
    }
}
