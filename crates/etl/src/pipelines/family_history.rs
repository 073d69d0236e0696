//! Family history: CDWWork `Outpat.FamilyHistory` (+ `Dim.FamilyRelationship`,
//! `Dim.FamilyCondition`) and CDWWork2 `EncMill.FamilyHistory` (+
//! `NDimMill.CodeValue` sets FAMILY_RELATIONSHIP, FAMILY_HISTORY_CONDITION,
//! FAMILY_HISTORY_STATUS) → `clinical.patient_family_history`.
//!
//! Patient identity is the ICN only: CDWWork rows map PatientSID → ICN through
//! `SPatient.SPatient`; CDWWork2 rows use their own `PatientICN` column (never
//! PersonSID), which must name an `SPatient` patient.
//!
//! Harmonisation: CDWWork2 relationship and condition *codes* (`MOTHER`,
//! `CAD`, …) are matched by code — never by SID — to `Dim.FamilyRelationship`
//! and `Dim.FamilyCondition`, so Cerner rows get the same degree, SNOMED,
//! ICD-10 family-history code, category and hereditary-risk flag as VistA
//! rows. Clinical status is trimmed and upper-cased (NULL → `UNKNOWN`);
//! `is_active` NULL → true; inactive rows are kept with `is_active = false`
//! (the web filters them), as in the reference. VistA provider names come
//! from `SStaff`; CDWWork2 names are the `DocumentedBy` text.
//!
//! Gold: `first_degree_relative_flag` = degree `FIRST_DEGREE` or code in
//! MOTHER/FATHER/SISTER/BROTHER/SON/DAUGHTER; `risk_condition_group` =
//! condition category, else `Unknown`; per-ICN counts total / active /
//! first-degree / first-degree ∧ hereditary-risk on every row.
//!
//! Dedup policy (per source, as in the reference): within one source, rows
//! with the same ICN, relationship code, condition code and recorded *date*
//! are one entry; the lowest FamilyHistorySID is kept and the others are
//! quarantined as `duplicate within source`. Rows with a NULL recorded date
//! are never merged. **Cross-source duplicates are kept on purpose**: each
//! EHR's entry is a separate attestation (recorded on different dates, by
//! different clinicians), they rarely share a recorded date, and each row is
//! shown with its source.
//!
//! Quarantine reasons: `unknown patient`, `unknown relationship` (no
//! relationship dimension / code-value row — the name is required),
//! `unknown condition` (likewise), `duplicate within source`.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text, yes_no};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use polars::prelude::*;
use std::collections::HashSet;

pub static PIPELINE: Pipeline = Pipeline {
    name: "family_history",
    tables: &[
        &c::OUTPAT_FAMILY_HISTORY,
        &c::DIM_FAMILY_RELATIONSHIP,
        &c::DIM_FAMILY_CONDITION,
        &c::ENC_MILL_FAMILY_HISTORY,
        &c::N_DIM_MILL_CODE_VALUE,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD_KEY,
        table: &store::catalog::PATIENT_FAMILY_HISTORY,
    }],
};

const DOMAIN: &str = "family_history";
const GOLD_KEY: &str = "patient_family_history/patient_family_history_final";
const VISTA_TABLE: &str = "Outpat.FamilyHistory";
const CERNER_TABLE: &str = "EncMill.FamilyHistory";
const FIRST_DEGREE_CODES: [&str; 6] = ["MOTHER", "FATHER", "SISTER", "BROTHER", "SON", "DAUGHTER"];
const MICROS_PER_DAY: i64 = 86_400_000_000;

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

fn null_of(dtype: DataType) -> Expr {
    lit(NULL).cast(dtype)
}

/// Relationship dimension keyed by SID (`__rel_sid`) and by code.
fn relationships(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx.bronze(&c::DIM_FAMILY_RELATIONSHIP)?.select([
        col("FamilyRelationshipSID")
            .cast(DataType::Int64)
            .alias("__rel_sid"),
        clean_upper("RelationshipCode").alias("__rel_code"),
        clean("RelationshipName").alias("__rel_name"),
        clean_upper("Degree").alias("__rel_degree"),
    ]))
}

/// Condition dimension keyed by SID (`__cond_sid`) and by code.
fn conditions(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx.bronze(&c::DIM_FAMILY_CONDITION)?.select([
        col("FamilyConditionSID")
            .cast(DataType::Int64)
            .alias("__cond_sid"),
        clean_upper("ConditionCode").alias("__cond_code"),
        clean("ConditionName").alias("__cond_name"),
        clean("SNOMEDCode").alias("__snomed"),
        clean_upper("ICD10Code").alias("__icd10"),
        clean("ConditionCategory").alias("__category"),
        yes_no("HereditaryRiskFlag").alias("__hereditary"),
    ]))
}

fn unique_by(lf: LazyFrame, key: &str) -> LazyFrame {
    lf.filter(col(key).is_not_null())
        .sort(
            [key],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unique_stable(Some(cols([key])), UniqueKeepStrategy::First)
}

/// Silver columns shared by both sources.
fn harmonised(lf: LazyFrame) -> LazyFrame {
    let text = |n: &str| col(n).cast(DataType::String);
    let int = |n: &str| col(n).cast(DataType::Int64);
    lf.select([
        text("source_system"),
        text("source_ehr"),
        int("source_sid"),
        text("patient_icn"),
        text("relationship_code"),
        text("relationship_name"),
        text("relationship_degree"),
        text("condition_code"),
        text("condition_name"),
        text("snomed_code"),
        text("icd10_code"),
        text("condition_category"),
        col("hereditary_risk_flag")
            .cast(DataType::Boolean)
            .fill_null(lit(false)),
        col("clinical_status")
            .cast(DataType::String)
            .fill_null(lit("UNKNOWN")),
        col("is_active")
            .cast(DataType::Boolean)
            .fill_null(lit(true)),
        text("family_member_gender"),
        int("family_member_age"),
        col("family_member_deceased").cast(DataType::Boolean),
        int("onset_age_years"),
        col("recorded_datetime").cast(ts_type()),
        col("entered_datetime").cast(ts_type()),
        int("encounter_sid"),
        text("facility_id"),
        int("provider_id"),
        text("provider_name"),
        int("location_id"),
        text("comment_text"),
    ])
}

/// Quarantines rows without a relationship or condition name.
fn require_names(ctx: &Ctx, table: &str, df: DataFrame, dims: &str) -> Result<DataFrame> {
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        table,
        df,
        "source_sid",
        common::Check {
            bad: col("relationship_name").is_null(),
            reason: "unknown relationship",
            detail: &format!("the relationship has no {dims} row with a name"),
        },
    )?;
    common::quarantine_where(
        ctx,
        DOMAIN,
        table,
        df,
        "source_sid",
        common::Check {
            bad: col("condition_name").is_null(),
            reason: "unknown condition",
            detail: &format!("the condition has no {dims} row with a name"),
        },
    )
}

fn vista(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx.bronze(&c::OUTPAT_FAMILY_HISTORY)?.select([
        lit("CDWWork").alias("source_system"),
        lit("VistA").alias("source_ehr"),
        col("FamilyHistorySID")
            .cast(DataType::Int64)
            .alias("source_sid"),
        col("PatientSID"),
        col("FamilyRelationshipSID")
            .cast(DataType::Int64)
            .alias("__rel"),
        col("FamilyConditionSID")
            .cast(DataType::Int64)
            .alias("__cond"),
        int_text("Sta3n").alias("facility_id"),
        null_of(DataType::Int64).alias("encounter_sid"),
        clean_upper("FamilyMemberGender").alias("family_member_gender"),
        null_of(DataType::Int64).alias("family_member_age"),
        yes_no("DeceasedFlag").alias("family_member_deceased"),
        col("OnsetAgeYears").alias("onset_age_years"),
        clean_upper("ClinicalStatus").alias("clinical_status"),
        col("RecordedDateTime").alias("recorded_datetime"),
        col("EnteredDateTime").alias("entered_datetime"),
        col("ProviderSID")
            .cast(DataType::Int64)
            .alias("provider_id"),
        col("LocationSID")
            .cast(DataType::Int64)
            .alias("location_id"),
        clean("CommentText").alias("comment_text"),
        yes_no("IsActive").alias("is_active"),
    ]);
    let df = common::resolve_patients(ctx, DOMAIN, VISTA_TABLE, lf, "PatientSID", "source_sid")?;
    let lf = common::lookup(
        df.lazy(),
        col("__rel"),
        unique_by(relationships(ctx)?, "__rel_sid"),
        "__rel_sid",
        &[
            ("__rel_code", "relationship_code"),
            ("__rel_name", "relationship_name"),
            ("__rel_degree", "relationship_degree"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("__cond"),
        unique_by(conditions(ctx)?, "__cond_sid"),
        "__cond_sid",
        &[
            ("__cond_code", "condition_code"),
            ("__cond_name", "condition_name"),
            ("__snomed", "snomed_code"),
            ("__icd10", "icd10_code"),
            ("__category", "condition_category"),
            ("__hereditary", "hereditary_risk_flag"),
        ],
    );
    let staff = common::staff_names(ctx)?
        .unique_stable(Some(cols(["__staff_sid"])), UniqueKeepStrategy::First);
    let lf = common::lookup(
        lf,
        col("provider_id"),
        staff,
        "__staff_sid",
        &[("staff_name", "provider_name")],
    );
    let df = require_names(
        ctx,
        VISTA_TABLE,
        lf.collect()?,
        "Dim.FamilyRelationship / Dim.FamilyCondition",
    )?;
    Ok(harmonised(df.lazy()).collect()?)
}

/// One `NDimMill.CodeValue` set: SID → (code, display text).
fn code_set(ctx: &Ctx, set: &str) -> Result<LazyFrame> {
    Ok(unique_by(
        ctx.bronze(&c::N_DIM_MILL_CODE_VALUE)?
            .filter(clean_upper("CodeSet").eq(lit(set)))
            .select([
                col("CodeValueSID").cast(DataType::Int64).alias("__cv_sid"),
                clean_upper("Code").alias("__cv_code"),
                clean("DisplayText").alias("__cv_text"),
            ]),
        "__cv_sid",
    ))
}

fn cerner(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx.bronze(&c::ENC_MILL_FAMILY_HISTORY)?.select([
        lit("CDWWork2").alias("source_system"),
        lit("Cerner").alias("source_ehr"),
        col("FamilyHistorySID")
            .cast(DataType::Int64)
            .alias("source_sid"),
        col("PatientICN"),
        col("RelationshipCodeSID")
            .cast(DataType::Int64)
            .alias("__rel"),
        col("ConditionCodeSID")
            .cast(DataType::Int64)
            .alias("__cond"),
        col("StatusCodeSID").cast(DataType::Int64).alias("__status"),
        clean("Sta3n").alias("facility_id"),
        col("EncounterSID").alias("encounter_sid"),
        null_of(DataType::String).alias("family_member_gender"),
        col("FamilyMemberAge").alias("family_member_age"),
        null_of(DataType::Boolean).alias("family_member_deceased"),
        col("OnsetAgeYears").alias("onset_age_years"),
        col("NotedDateTime").alias("recorded_datetime"),
        col("CreatedDateTime").alias("entered_datetime"),
        null_of(DataType::Int64).alias("provider_id"),
        clean("DocumentedBy").alias("provider_name"),
        null_of(DataType::Int64).alias("location_id"),
        clean("CommentText").alias("comment_text"),
        col("IsActive").cast(DataType::Boolean).alias("is_active"),
    ]);
    let df = common::resolve_icns(ctx, DOMAIN, CERNER_TABLE, lf, "PatientICN", "source_sid")?;
    let lf = common::lookup(
        df.lazy(),
        col("__rel"),
        code_set(ctx, "FAMILY_RELATIONSHIP")?,
        "__cv_sid",
        &[
            ("__cv_code", "relationship_code"),
            ("__cv_text", "relationship_name"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("__cond"),
        code_set(ctx, "FAMILY_HISTORY_CONDITION")?,
        "__cv_sid",
        &[
            ("__cv_code", "condition_code"),
            ("__cv_text", "condition_name"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("__status"),
        code_set(ctx, "FAMILY_HISTORY_STATUS")?,
        "__cv_sid",
        &[("__cv_code", "clinical_status")],
    );
    // Same terminology as VistA: match the codes (not SIDs) to the CDWWork dims.
    let lf = common::lookup(
        lf,
        col("relationship_code"),
        unique_by(relationships(ctx)?, "__rel_code"),
        "__rel_code",
        &[("__rel_degree", "relationship_degree")],
    );
    let lf = common::lookup(
        lf,
        col("condition_code"),
        unique_by(conditions(ctx)?, "__cond_code"),
        "__cond_code",
        &[
            ("__snomed", "snomed_code"),
            ("__icd10", "icd10_code"),
            ("__category", "condition_category"),
            ("__hereditary", "hereditary_risk_flag"),
        ],
    );
    let df = require_names(ctx, CERNER_TABLE, lf.collect()?, "NDimMill.CodeValue")?;
    Ok(harmonised(df.lazy()).collect()?)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let mut df = concat(
        [vista(ctx)?.lazy(), cerner(ctx)?.lazy()],
        UnionArgs::default(),
    )?
    .sort(
        ["source_system", "source_sid"],
        SortMultipleOptions::default().with_maintain_order(true),
    )
    .collect()?;
    // Per-source dedup: the first (lowest SID) row of each key is kept.
    let sources = common::texts(&df, "source_system")?;
    let sids = common::ints(&df, "source_sid")?;
    let icns = common::texts(&df, "patient_icn")?;
    let rels = common::texts(&df, "relationship_code")?;
    let conds = common::texts(&df, "condition_code")?;
    let recorded = common::ints(&df, "recorded_datetime")?;
    let mut seen = HashSet::new();
    let mut duplicate = vec![false; df.height()];
    for i in 0..df.height() {
        let (Some(src), Some(icn), Some(rel), Some(cond), Some(t)) =
            (&sources[i], &icns[i], &rels[i], &conds[i], recorded[i])
        else {
            continue;
        };
        let key = (
            src.clone(),
            icn.clone(),
            rel.clone(),
            cond.clone(),
            t.div_euclid(MICROS_PER_DAY),
        );
        if !seen.insert(key) {
            duplicate[i] = true;
            ctx.quarantine(
                DOMAIN,
                if src == "CDWWork" {
                    VISTA_TABLE
                } else {
                    CERNER_TABLE
                },
                [sids[i].unwrap_or_default().to_string()],
                "duplicate within source",
                "same ICN, relationship, condition and recorded date as a lower FamilyHistorySID",
            );
        }
    }
    common::with_series(&mut df, common::series("__duplicate", duplicate))?;
    let mut df = df
        .lazy()
        .filter(col("__duplicate").not())
        .drop(cols(["__duplicate"]))
        .with_column(col("source_sid").cast(DataType::String).alias("source_id"))
        .sort(
            ["patient_icn", "source_system", "source_sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    ctx.write_silver(DOMAIN, "family_history_harmonized", &mut df)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let rows = ctx
        .silver(DOMAIN, "family_history_harmonized")?
        .with_columns([
            col("relationship_degree")
                .eq(lit("FIRST_DEGREE"))
                .fill_null(lit(false))
                .or(FIRST_DEGREE_CODES
                    .iter()
                    .fold(lit(false), |acc, code| {
                        acc.or(col("relationship_code").eq(lit(*code)))
                    })
                    .fill_null(lit(false)))
                .alias("first_degree_relative_flag"),
            col("condition_category")
                .fill_null(lit("Unknown"))
                .alias("risk_condition_group"),
            col("patient_icn").alias("patient_key"),
        ]);
    let counts = rows
        .clone()
        .group_by([col("patient_icn").alias("__icn")])
        .agg([
            len()
                .cast(DataType::Int64)
                .alias("family_history_count_total"),
            col("is_active")
                .cast(DataType::Int64)
                .sum()
                .alias("family_history_count_active"),
            col("first_degree_relative_flag")
                .cast(DataType::Int64)
                .sum()
                .alias("family_history_count_first_degree"),
            col("first_degree_relative_flag")
                .and(col("hereditary_risk_flag"))
                .cast(DataType::Int64)
                .sum()
                .alias("family_history_count_first_degree_high_risk"),
        ]);
    let mut df = rows
        .join(
            counts,
            [col("patient_icn")],
            [col("__icn")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(
            [
                "patient_key",
                "recorded_datetime",
                "source_system",
                "source_sid",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .select(
            store::catalog::PATIENT_FAMILY_HISTORY
                .columns
                .iter()
                .filter(|c| c.name != "family_history_id" && c.name != "last_updated")
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

    fn setup() -> TestLake {
        let lake = TestLake::new();
        put(
            &lake,
            &c::S_PATIENT_S_PATIENT,
            vec![
                sc("PatientSID", [1001i64, 2001]),
                sc("PatientICN", ["ICN100001", "ICN200001"]),
            ],
        );
        put(
            &lake,
            &c::S_STAFF_S_STAFF,
            vec![sc("StaffSID", [11i64]), sc("StaffName", ["DOC,BOB"])],
        );
        put(
            &lake,
            &c::DIM_FAMILY_RELATIONSHIP,
            vec![
                sc("FamilyRelationshipSID", [1i64, 2, 9]),
                sc("RelationshipCode", ["MOTHER", "father ", "AUNT"]),
                sc("RelationshipName", ["Mother", "Father", "Aunt"]),
                sc(
                    "Degree",
                    [Some("FIRST_DEGREE"), None, Some("SECOND_DEGREE")],
                ),
            ],
        );
        put(
            &lake,
            &c::DIM_FAMILY_CONDITION,
            vec![
                sc("FamilyConditionSID", [1i64, 17]),
                sc("ConditionCode", ["CAD", "ASTHMA"]),
                sc("ConditionName", ["Coronary artery disease", "Asthma"]),
                sc("SNOMEDCode", ["53741008", "195967001"]),
                sc("ICD10Code", ["Z82.49", "Z82.5"]),
                sc("ConditionCategory", [Some("Cardiovascular"), None]),
                sc("HereditaryRiskFlag", ["Y", "N"]),
            ],
        );
        put(
            &lake,
            &c::N_DIM_MILL_CODE_VALUE,
            vec![
                sc("CodeValueSID", [49i64, 62, 75, 76, 80]),
                sc(
                    "CodeSet",
                    [
                        "FAMILY_RELATIONSHIP",
                        "FAMILY_HISTORY_CONDITION",
                        "FAMILY_HISTORY_STATUS",
                        "FAMILY_HISTORY_STATUS",
                        "UNIT",
                    ],
                ),
                sc("Code", ["MOTHER", "CAD", "ACTIVE", "RESOLVED", "kg"]),
                sc(
                    "DisplayText",
                    [
                        "Mother",
                        "Coronary artery disease",
                        "Active",
                        "Resolved",
                        "kg",
                    ],
                ),
            ],
        );
        put(
            &lake,
            &c::OUTPAT_FAMILY_HISTORY,
            vec![
                sc(
                    "FamilyHistorySID",
                    [1001i64, 1002, 1003, 1004, 1005, 1006, 1007],
                ),
                sc(
                    "PatientSID",
                    [1001i64, 1001, 1001, 2001, 99_999_999, 1001, 1001],
                ),
                sc("Sta3n", [508i64, 508, 508, 516, 508, 508, 508]),
                sc("FamilyRelationshipSID", [1i64, 2, 9, 1, 1, 1, 77]),
                sc("FamilyConditionSID", [1i64, 17, 1, 1, 1, 1, 1]),
                sc("FamilyMemberGender", ["F", "M", "F", "F", "F", "F", "F"]),
                sc(
                    "OnsetAgeYears",
                    [Some(55i64), None, Some(60), Some(50), None, Some(55), None],
                ),
                sc("DeceasedFlag", ["Y", "N", "N", "N", "N", "Y", "N"]),
                sc(
                    "ClinicalStatus",
                    [
                        Some("active"),
                        Some("RESOLVED "),
                        None,
                        Some("ACTIVE"),
                        None,
                        Some("ACTIVE"),
                        None,
                    ],
                ),
                sc(
                    "RecordedDateTime",
                    [
                        ts("2024-05-01 09:00"),
                        ts("2023-01-01 09:00"),
                        ts("2022-01-01 09:00"),
                        ts("2024-02-01 09:00"),
                        ts("2024-02-01 09:00"),
                        ts("2024-05-01 15:00"),
                        ts("2024-05-01 15:00"),
                    ],
                ),
                sc("ProviderSID", [11i64, 11, 11, 11, 11, 11, 11]),
                sc("LocationSID", [21i64, 21, 21, 21, 21, 21, 21]),
                sc(
                    "CommentText",
                    [
                        Some("Reported by patient. "),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                sc(
                    "IsActive",
                    [
                        Some("Y"),
                        Some("Y"),
                        Some("N"),
                        Some("Y"),
                        Some("Y"),
                        Some("Y"),
                        None,
                    ],
                ),
            ],
        );
        put(
            &lake,
            &c::ENC_MILL_FAMILY_HISTORY,
            vec![
                sc("FamilyHistorySID", [4001i64, 4002, 4003, 4004]),
                sc(
                    "EncounterSID",
                    [Some(7001i64), Some(7001), None, Some(7002)],
                ),
                // PersonSID 2001 is Adam in CDWWork2 (Bailey's PatientSID in CDWWork).
                sc("PersonSID", [2001i64, 2001, 2001, 3001]),
                sc(
                    "PatientICN",
                    [
                        Some("ICN100001"),
                        Some("ICN100001"),
                        None,
                        Some("ICN100001"),
                    ],
                ),
                sc("Sta3n", ["648", "648", "648", "648"]),
                sc("RelationshipCodeSID", [49i64, 49, 49, 12345]),
                sc("ConditionCodeSID", [62i64, 62, 62, 62]),
                sc("StatusCodeSID", [Some(76i64), None, Some(75), Some(75)]),
                sc("FamilyMemberAge", [Some(82i64), None, None, None]),
                sc("OnsetAgeYears", [Some(58i64), Some(58), None, None]),
                sc(
                    "NotedDateTime",
                    [
                        ts("2025-01-10 10:00"),
                        ts("2025-03-10 10:00"),
                        ts("2025-01-10 10:00"),
                        ts("2025-01-10 10:00"),
                    ],
                ),
                sc("DocumentedBy", ["CERNER,INTERFACE"; 4]),
                sc("IsActive", [true, true, true, true]),
            ],
        );
        lake
    }

    fn idx(df: &DataFrame, source: &str, id: &str) -> usize {
        let src = common::texts(df, "source_system").unwrap();
        let ids = common::texts(df, "source_id").unwrap();
        (0..df.height())
            .find(|&i| src[i].as_deref() == Some(source) && ids[i].as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{source} {id} missing"))
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
    fn family_history_end_to_end() {
        let lake = setup();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let df = ctx.gold(GOLD_KEY).unwrap();
        check_catalog(&df, &store::catalog::PATIENT_FAMILY_HISTORY);

        // Adam: V1001, V1002, V1003, C4001, C4002 (V1006 duplicate of V1001);
        // Bailey: V1004 only.
        let ids: Vec<String> = common::texts(&df, "source_id")
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["4002", "4001", "1001", "1002", "1003", "1004"]);

        let i = idx(&df, "CDWWork", "1001");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "patient_icn", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "source_ehr", i).as_deref(), Some("VistA"));
        assert_eq!(text(&df, "relationship_code", i).as_deref(), Some("MOTHER"));
        assert_eq!(text(&df, "relationship_name", i).as_deref(), Some("Mother"));
        assert_eq!(
            text(&df, "relationship_degree", i).as_deref(),
            Some("FIRST_DEGREE")
        );
        assert_eq!(text(&df, "condition_code", i).as_deref(), Some("CAD"));
        assert_eq!(text(&df, "icd10_code", i).as_deref(), Some("Z82.49"));
        assert_eq!(text(&df, "snomed_code", i).as_deref(), Some("53741008"));
        assert_eq!(
            text(&df, "risk_condition_group", i).as_deref(),
            Some("Cardiovascular")
        );
        assert_eq!(flag(&df, "hereditary_risk_flag", i), Some(true));
        assert_eq!(flag(&df, "first_degree_relative_flag", i), Some(true));
        assert_eq!(text(&df, "clinical_status", i).as_deref(), Some("ACTIVE"));
        assert_eq!(flag(&df, "is_active", i), Some(true));
        assert_eq!(flag(&df, "family_member_deceased", i), Some(true));
        assert_eq!(text(&df, "family_member_gender", i).as_deref(), Some("F"));
        assert_eq!(text(&df, "provider_name", i).as_deref(), Some("DOC,BOB"));
        assert_eq!(int(&df, "provider_id", i), Some(11));
        assert_eq!(int(&df, "location_id", i), Some(21));
        assert_eq!(text(&df, "facility_id", i).as_deref(), Some("508"));
        assert_eq!(
            text(&df, "comment_text", i).as_deref(),
            Some("Reported by patient.")
        );
        // Adam's counts: 5 rows, 4 active (V1003 inactive), first-degree:
        // V1001, V1002 (FATHER code, no degree), C4001, C4002 = 4; high risk:
        // V1001, C4001, C4002 (V1002 asthma is not hereditary) = 3.
        assert_eq!(int(&df, "family_history_count_total", i), Some(5));
        assert_eq!(int(&df, "family_history_count_active", i), Some(4));
        assert_eq!(int(&df, "family_history_count_first_degree", i), Some(4));
        assert_eq!(
            int(&df, "family_history_count_first_degree_high_risk", i),
            Some(3)
        );

        let i = idx(&df, "CDWWork", "1002");
        assert_eq!(text(&df, "relationship_code", i).as_deref(), Some("FATHER"));
        assert_eq!(text(&df, "relationship_degree", i), None);
        assert_eq!(flag(&df, "first_degree_relative_flag", i), Some(true));
        assert_eq!(
            text(&df, "risk_condition_group", i).as_deref(),
            Some("Unknown")
        );
        assert_eq!(flag(&df, "hereditary_risk_flag", i), Some(false));
        assert_eq!(text(&df, "clinical_status", i).as_deref(), Some("RESOLVED"));

        let i = idx(&df, "CDWWork", "1003");
        assert_eq!(flag(&df, "first_degree_relative_flag", i), Some(false));
        assert_eq!(flag(&df, "is_active", i), Some(false));
        assert_eq!(text(&df, "clinical_status", i).as_deref(), Some("UNKNOWN"));

        // Cerner: codes resolved through CodeValue, then matched by code to
        // the CDWWork dimensions for degree/category/hereditary risk.
        let i = idx(&df, "CDWWork2", "4001");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "source_ehr", i).as_deref(), Some("Cerner"));
        assert_eq!(text(&df, "relationship_name", i).as_deref(), Some("Mother"));
        assert_eq!(
            text(&df, "relationship_degree", i).as_deref(),
            Some("FIRST_DEGREE")
        );
        assert_eq!(
            text(&df, "condition_name", i).as_deref(),
            Some("Coronary artery disease")
        );
        assert_eq!(
            text(&df, "condition_category", i).as_deref(),
            Some("Cardiovascular")
        );
        assert_eq!(flag(&df, "hereditary_risk_flag", i), Some(true));
        assert_eq!(text(&df, "clinical_status", i).as_deref(), Some("RESOLVED"));
        assert_eq!(int(&df, "family_member_age", i), Some(82));
        assert_eq!(int(&df, "encounter_sid", i), Some(7001));
        assert_eq!(
            text(&df, "provider_name", i).as_deref(),
            Some("CERNER,INTERFACE")
        );
        assert_eq!(text(&df, "facility_id", i).as_deref(), Some("648"));
        assert_eq!(int(&df, "provider_id", i), None);
        let i = idx(&df, "CDWWork2", "4002");
        assert_eq!(text(&df, "clinical_status", i).as_deref(), Some("UNKNOWN"));

        // Bailey keeps only her own row; Adam's Cerner rows are not hers.
        let i = idx(&df, "CDWWork", "1004");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN200001"));
        assert_eq!(int(&df, "family_history_count_total", i), Some(1));

        let mut q: Vec<(String, String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|r| (r.source_table, r.source_id, r.reason))
            .collect();
        q.sort();
        let want: Vec<(String, String, String)> = [
            ("EncMill.FamilyHistory", "4003", "unknown patient"),
            ("EncMill.FamilyHistory", "4004", "unknown relationship"),
            ("Outpat.FamilyHistory", "1005", "unknown patient"),
            ("Outpat.FamilyHistory", "1006", "duplicate within source"),
            ("Outpat.FamilyHistory", "1007", "unknown relationship"),
        ]
        .iter()
        .map(|(a, b, r)| (a.to_string(), b.to_string(), r.to_string()))
        .collect();
        assert_eq!(q, want);

        let done = crate::load::finish_frame(ctx, &PIPELINE.outputs[0], df).unwrap();
        assert_eq!(
            common::ints(&done, "family_history_id").unwrap(),
            (1..=6).map(Some).collect::<Vec<_>>()
        );
        check_catalog(&done, &store::catalog::PATIENT_FAMILY_HISTORY);
    }
}
