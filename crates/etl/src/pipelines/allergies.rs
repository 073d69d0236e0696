//! Allergies (CDWWork only): `Allergy.PatientAllergy` (active rows) with
//! `Dim.Allergen`, `Dim.AllergySeverity`, `Allergy.PatientAllergyReaction`
//! and `Dim.Reaction` → `clinical.patient_allergies` (one row per allergy,
//! reactions `", "`-joined with a count) and
//! `clinical.patient_allergy_reactions` (one row per reaction).
//!
//! Dedup policy: one allergy row per `PatientAllergySID` (a repeated SID in
//! bronze keeps its first row). Separate allergy entries for the same
//! allergen are *not* merged: each is its own clinical assertion, often from
//! another site. Reactions: one row per (`PatientAllergySID`, reaction
//! name); when the same reaction is recorded twice for one allergy, the
//! lowest `PatientAllergyReactionSID` wins, so the aggregated list, the
//! count and the reaction table always agree.
//!
//! Filters and quarantine: inactive allergies (`IsActive` 0 or NULL) are not
//! served, and their reactions follow them. Quarantined: allergies of an
//! unknown patient (`unknown patient`), without an origination date
//! (`missing origination date`) or without any allergen name
//! (`missing allergen`); reactions pointing to no allergy row at all
//! (`unknown allergy`) or to no `Dim.Reaction` row (`unknown reaction`).
//! Dimension lookups use every dimension row, active or not (an inactive
//! allergen still names the allergy recorded against it). Station names come
//! from `Dim.Sta3n`; the originating staff name from `SStaff.SStaff`.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::allergies::{AllergenType, AllergySeverity};
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "allergies",
    tables: &[
        &c::ALLERGY_PATIENT_ALLERGY,
        &c::ALLERGY_PATIENT_ALLERGY_REACTION,
        &c::DIM_ALLERGEN,
        &c::DIM_ALLERGY_SEVERITY,
        &c::DIM_REACTION,
    ],
    silver,
    gold,
    outputs: &[
        Output {
            gold: "allergies/patient_allergies",
            table: &store::catalog::PATIENT_ALLERGIES,
        },
        Output {
            gold: "allergies/patient_allergy_reactions",
            table: &store::catalog::PATIENT_ALLERGY_REACTIONS,
        },
    ],
};

const DOMAIN: &str = "allergies";
const ALLERGY_TABLE: &str = "Allergy.PatientAllergy";
const REACTION_TABLE: &str = "Allergy.PatientAllergyReaction";

/// First row per `key` after sorting by `by` ascending (nulls last).
fn first_by(lf: LazyFrame, key: &[&str], by: &[&str]) -> LazyFrame {
    lf.sort(
        by.iter()
            .map(|s| PlSmallStr::from_str(s))
            .collect::<Vec<_>>(),
        SortMultipleOptions::default()
            .with_nulls_last(true)
            .with_maintain_order(true),
    )
    .unique_stable(Some(cols(key.to_vec())), UniqueKeepStrategy::First)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let bronze = ctx.bronze(&c::ALLERGY_PATIENT_ALLERGY)?;
    let all_allergy_sids = bronze
        .clone()
        .select([col("PatientAllergySID")
            .cast(DataType::Int64)
            .alias("__any_allergy")])
        .unique_stable(None, UniqueKeepStrategy::First);
    let active = first_by(
        bronze
            .filter(col("IsActive").eq(lit(true)).fill_null(lit(false)))
            .select([
                col("PatientAllergySID")
                    .cast(DataType::Int64)
                    .alias("allergy_sid"),
                col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
                col("AllergenSID")
                    .cast(DataType::Int64)
                    .alias("__allergen_sid"),
                col("AllergySeveritySID")
                    .cast(DataType::Int64)
                    .alias("__severity_sid"),
                clean("LocalAllergenName").alias("allergen_local"),
                col("OriginationDateTime").alias("origination_date"),
                col("ObservedDateTime").alias("observed_date"),
                col("OriginatingStaffSID")
                    .cast(DataType::Int64)
                    .alias("__orig_staff"),
                int_text("OriginatingSiteSta3n").alias("originating_site"),
                clean("Comment").alias("comment"),
                clean_upper("HistoricalOrObserved").alias("historical_or_observed"),
                clean_upper("VerificationStatus").alias("verification_status"),
            ]),
        &["allergy_sid"],
        &["allergy_sid"],
    );
    let allergies = common::resolve_patients(
        ctx,
        DOMAIN,
        ALLERGY_TABLE,
        active,
        "patient_sid",
        "allergy_sid",
    )?;

    // Dimension lookups (every row: inactive entries still carry names).
    let allergens = first_by(
        ctx.bronze(&c::DIM_ALLERGEN)?.select([
            col("AllergenSID").cast(DataType::Int64).alias("__a_sid"),
            clean_upper("AllergenName").alias("allergen_name"),
            clean_upper("AllergenType").alias("allergen_type_raw"),
        ]),
        &["__a_sid"],
        &["__a_sid"],
    );
    let severities = first_by(
        ctx.bronze(&c::DIM_ALLERGY_SEVERITY)?.select([
            col("AllergySeveritySID")
                .cast(DataType::Int64)
                .alias("__s_sid"),
            clean_upper("SeverityName").alias("severity_raw"),
        ]),
        &["__s_sid"],
        &["__s_sid"],
    );
    let lf = common::lookup(
        allergies.lazy(),
        col("__allergen_sid"),
        allergens,
        "__a_sid",
        &[
            ("allergen_name", "allergen_name"),
            ("allergen_type_raw", "allergen_type_raw"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("__severity_sid"),
        severities,
        "__s_sid",
        &[("severity_raw", "severity_raw")],
    );
    let lf = common::lookup(
        lf,
        col("__orig_staff"),
        first_by(
            common::staff_names(ctx)?,
            &["__staff_sid"],
            &["__staff_sid"],
        ),
        "__staff_sid",
        &[("staff_name", "originating_staff")],
    );
    let lf = common::lookup(
        lf,
        col("originating_site"),
        first_by(common::facility_names(ctx)?, &["__sta3n"], &["__sta3n"]),
        "__sta3n",
        &[("facility_name", "originating_site_name")],
    )
    .with_columns([
        // The standardised name is the dimension's; a local name alone still
        // identifies the allergen.
        coalesce(&[
            col("allergen_name"),
            col("allergen_local").str().to_uppercase(),
        ])
        .alias("allergen_standardized"),
    ])
    .with_columns([
        coalesce(&[col("allergen_local"), col("allergen_standardized")]).alias("allergen_local"),
    ]);
    let df = lf.collect()?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        ALLERGY_TABLE,
        df,
        "allergy_sid",
        common::Check {
            bad: col("origination_date").is_null(),
            reason: "missing origination date",
            detail: "OriginationDateTime is NULL",
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        ALLERGY_TABLE,
        df,
        "allergy_sid",
        common::Check {
            bad: col("allergen_standardized").is_null(),
            reason: "missing allergen",
            detail: "no Dim.Allergen row and no LocalAllergenName",
        },
    )?;

    // Reactions.
    let reactions_raw = ctx
        .bronze(&c::ALLERGY_PATIENT_ALLERGY_REACTION)?
        .select([
            col("PatientAllergyReactionSID")
                .cast(DataType::Int64)
                .alias("reaction_sid"),
            col("PatientAllergySID")
                .cast(DataType::Int64)
                .alias("allergy_sid"),
            col("ReactionSID").cast(DataType::Int64).alias("__r_sid"),
        ])
        .join(
            all_allergy_sids.with_column(lit(true).alias("__known")),
            [col("allergy_sid")],
            [col("__any_allergy")],
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    let reactions_raw = common::quarantine_where(
        ctx,
        DOMAIN,
        REACTION_TABLE,
        reactions_raw,
        "reaction_sid",
        common::Check {
            bad: col("__known").is_null(),
            reason: "unknown allergy",
            detail: "PatientAllergySID has no Allergy.PatientAllergy row",
        },
    )?
    .drop("__known")?;
    let reaction_names = first_by(
        ctx.bronze(&c::DIM_REACTION)?.select([
            col("ReactionSID").cast(DataType::Int64).alias("__rd_sid"),
            clean_upper("ReactionName").alias("reaction_name"),
        ]),
        &["__rd_sid"],
        &["__rd_sid"],
    );
    let reactions = common::lookup(
        reactions_raw.lazy(),
        col("__r_sid"),
        reaction_names,
        "__rd_sid",
        &[("reaction_name", "reaction_name")],
    )
    .collect()?;
    let reactions = common::quarantine_where(
        ctx,
        DOMAIN,
        REACTION_TABLE,
        reactions,
        "reaction_sid",
        common::Check {
            bad: col("reaction_name").is_null(),
            reason: "unknown reaction",
            detail: "ReactionSID has no Dim.Reaction row with a name",
        },
    )?;
    // Reactions of served allergies only (inactive or quarantined allergies
    // take their reactions with them), one per (allergy, name).
    let served = df
        .clone()
        .lazy()
        .select([col("allergy_sid").alias("__served"), col("patient_icn")]);
    let mut reactions = first_by(
        reactions.lazy().join(
            served,
            [col("allergy_sid")],
            [col("__served")],
            JoinArgs::new(JoinType::Inner),
        ),
        &["allergy_sid", "reaction_name"],
        &["allergy_sid", "reaction_sid"],
    )
    .select([
        col("reaction_sid"),
        col("allergy_sid"),
        col("patient_icn"),
        col("reaction_name"),
    ])
    .sort(
        ["allergy_sid", "reaction_sid"],
        SortMultipleOptions::default(),
    )
    .collect()?;

    let agg = reactions
        .clone()
        .lazy()
        .group_by_stable([col("allergy_sid").alias("__agg_sid")])
        .agg([
            col("reaction_name")
                .str()
                .join(", ", true)
                .alias("reactions"),
            len().cast(DataType::Int64).alias("reaction_count"),
        ]);
    let mut df = df
        .lazy()
        .join(
            agg,
            [col("allergy_sid")],
            [col("__agg_sid")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("reaction_count").fill_null(lit(0i64)))
        .drop(cols([
            "__allergen_sid",
            "__severity_sid",
            "__orig_staff",
            "allergen_name",
        ]))
        .sort(["allergy_sid"], SortMultipleOptions::default())
        .collect()?;
    ctx.write_silver(DOMAIN, "patient_allergies_cleaned", &mut df)?;
    ctx.write_silver(DOMAIN, "patient_allergy_reactions_cleaned", &mut reactions)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx.silver(DOMAIN, "patient_allergies_cleaned")?.collect()?;
    let severity: Vec<Option<AllergySeverity>> = common::texts(&df, "severity_raw")?
        .iter()
        .map(|s| s.as_deref().and_then(|s| s.parse().ok()))
        .collect();
    let severity_raw = common::texts(&df, "severity_raw")?;
    let severity_text: Vec<Option<String>> = severity
        .iter()
        .zip(severity_raw)
        .map(|(p, raw)| p.map(|s| s.as_str().to_string()).or(raw))
        .collect();
    let rank: Vec<i64> = severity
        .iter()
        .map(|s| i64::from(AllergySeverity::rank_of(*s)))
        .collect();
    let types_raw = common::texts(&df, "allergen_type_raw")?;
    let types: Vec<Option<AllergenType>> = types_raw
        .iter()
        .map(|s| s.as_deref().and_then(|s| s.parse().ok()))
        .collect();
    let type_text: Vec<Option<String>> = types
        .iter()
        .zip(types_raw)
        .map(|(p, raw)| p.map(|t| t.as_str().to_string()).or(raw))
        .collect();
    let is_drug: Vec<bool> = types
        .iter()
        .map(|t| t.is_some_and(AllergenType::is_drug))
        .collect();
    common::with_series(&mut df, common::series("severity", severity_text))?;
    common::with_series(&mut df, common::series("severity_rank", rank))?;
    common::with_series(&mut df, common::series("allergen_type", type_text))?;
    common::with_series(&mut df, common::series("is_drug_allergy", is_drug))?;

    let mut allergies = df
        .lazy()
        .with_columns([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col("allergy_sid").cast(DataType::String).alias("source_id"),
            lit(true).alias("is_active"),
        ])
        .sort(
            [
                "patient_key",
                "is_drug_allergy",
                "severity_rank",
                "origination_date",
                "allergy_sid",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, true, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .select(catalog_cols(&store::catalog::PATIENT_ALLERGIES))
        .collect()?;
    ctx.write_gold(PIPELINE.outputs[0].gold, &mut allergies)?;

    let mut reactions = ctx
        .silver(DOMAIN, "patient_allergy_reactions_cleaned")?
        .with_columns([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col("reaction_sid")
                .cast(DataType::String)
                .alias("source_id"),
        ])
        .sort(
            ["patient_key", "allergy_sid", "reaction_sid"],
            SortMultipleOptions::default(),
        )
        .select(catalog_cols(&store::catalog::PATIENT_ALLERGY_REACTIONS))
        .collect()?;
    ctx.write_gold(PIPELINE.outputs[1].gold, &mut reactions)
}

/// The serving table's columns, minus the surrogate key and `last_updated`
/// (the loader adds both).
fn catalog_cols(t: &store::ServingTable) -> Vec<Expr> {
    t.columns
        .iter()
        .skip(1)
        .filter(|c| c.name != "last_updated")
        .map(|c| col(c.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, check_types, i, s, ts};

    fn dt(v: &[Option<&str>]) -> Series {
        let us: Vec<Option<i64>> = v
            .iter()
            .map(|s| s.map(|s| ts(s).and_utc().timestamp_micros()))
            .collect();
        Series::new("x".into(), us)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap()
    }

    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002],
                "PatientICN" => ["ICN100001 ", "ICN100002"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!(
                "Sta3n" => [508i64, 589],
                "Sta3nName" => ["(508) Atlanta, GA", "(589) Kansas City, MO"],
                "Active" => ["Y", "N"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::S_STAFF_S_STAFF,
            df!("StaffSID" => [7i64], "StaffName" => ["SMITH,JOHN "]).unwrap(),
        );
        lake.put_bronze(
            &c::DIM_ALLERGEN,
            df!(
                "AllergenSID" => [1i64, 2, 3],
                "AllergenName" => ["Penicillin ", "PEANUTS", "LATEX"],
                "AllergenType" => ["DRUG", "food", "ENVIRONMENTAL"],
                "IsActive" => [true, true, false],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_ALLERGY_SEVERITY,
            df!(
                "AllergySeveritySID" => [1i64, 2, 3],
                "SeverityName" => ["MILD", "Moderate", "SEVERE "],
                "SeverityRank" => [1i64, 2, 3],
                "IsActive" => [true, true, true],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_REACTION,
            df!(
                "ReactionSID" => [10i64, 11, 12],
                "ReactionName" => ["Hives", "RASH ", "ANAPHYLAXIS"],
                "IsActive" => [true, true, false],
            )
            .unwrap(),
        );
        // 1: drug, severe, two reactions (+ a duplicate reaction)
        // 2: food, no severity, no reactions
        // 3: latex, inactive allergen dim, observed at an unknown station
        // 4: inactive allergy (IsActive=0) with a reaction → filtered
        // 5: unknown patient → quarantined
        // 6: missing origination → quarantined
        // 7: IsActive NULL → filtered
        let mut a = df!(
            "PatientAllergySID" => [1i64, 2, 3, 4, 5, 6, 7],
            "PatientSID" => [1001i64, 1001, 1002, 1001, 99999999, 1002, 1002],
            "AllergenSID" => [Some(1i64), Some(2), Some(3), Some(1), Some(1), Some(1), Some(1)],
            "AllergySeveritySID" => [Some(3i64), None, Some(1), Some(2), Some(1), Some(1), Some(1)],
            "LocalAllergenName" => [Some("penicillin  "), Some("PEANUTS"), None, Some("x"), Some("x"), Some("x"), Some("x")],
            "OriginatingStaffSID" => [Some(7i64), None, Some(99), None, None, None, None],
            "OriginatingSiteSta3n" => [Some(508i64), Some(589), Some(640), None, None, None, None],
            "Comment" => [Some(" Patient reports hives. "), None, Some("  "), None, None, None, None],
            "HistoricalOrObserved" => [Some("observed"), Some("HISTORICAL"), None, None, None, None, None],
            "IsActive" => [Some(true), Some(true), Some(true), Some(false), Some(true), Some(true), None],
            "VerificationStatus" => [Some("VERIFIED "), Some("unverified"), None, None, None, None, None],
        )
        .unwrap();
        let mut o = dt(&[
            Some("2020-01-01 10:00"),
            Some("2021-05-05 09:00"),
            Some("2019-03-03 08:00"),
            Some("2020-01-01 10:00"),
            Some("2020-01-01 10:00"),
            None,
            Some("2020-01-01 10:00"),
        ]);
        o.rename("OriginationDateTime".into());
        a.with_column(o.into_column()).unwrap();
        let mut ob = dt(&[Some("2019-12-25 10:00"), None, None, None, None, None, None]);
        ob.rename("ObservedDateTime".into());
        a.with_column(ob.into_column()).unwrap();
        lake.put_bronze(&c::ALLERGY_PATIENT_ALLERGY, a);
        lake.put_bronze(
            &c::ALLERGY_PATIENT_ALLERGY_REACTION,
            df!(
                // 100/101 → allergy 1; 102 duplicates 100's reaction; 103 is
                // on the inactive allergy; 104 is an orphan; 105 has an
                // unknown reaction; 106 is on allergy 3 (inactive reaction dim).
                "PatientAllergyReactionSID" => [101i64, 100, 102, 103, 104, 105, 106],
                "PatientAllergySID" => [1i64, 1, 1, 4, 42, 2, 3],
                "ReactionSID" => [11i64, 10, 10, 10, 10, 77, 12],
            )
            .unwrap(),
        );
        lake
    }

    #[test]
    fn allergies_end_to_end() {
        let lake = lake();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();

        let a = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        assert_eq!(i(&a, "allergy_sid"), [Some(1), Some(2), Some(3)]);
        assert_eq!(
            s(&a, "patient_key"),
            [
                Some("ICN100001".into()),
                Some("ICN100001".into()),
                Some("ICN100002".into())
            ]
        );
        assert_eq!(
            s(&a, "source_id"),
            [Some("1".into()), Some("2".into()), Some("3".into())]
        );
        assert_eq!(
            s(&a, "allergen_local"),
            [
                Some("penicillin".into()),
                Some("PEANUTS".into()),
                Some("LATEX".into())
            ]
        );
        assert_eq!(
            s(&a, "allergen_standardized"),
            [
                Some("PENICILLIN".into()),
                Some("PEANUTS".into()),
                Some("LATEX".into())
            ]
        );
        assert_eq!(
            s(&a, "allergen_type"),
            [
                Some("DRUG".into()),
                Some("FOOD".into()),
                Some("ENVIRONMENTAL".into())
            ]
        );
        assert_eq!(
            common::texts(&a, "is_drug_allergy").unwrap(),
            [
                Some("true".into()),
                Some("false".into()),
                Some("false".into())
            ]
        );
        assert_eq!(
            s(&a, "severity"),
            [Some("SEVERE".into()), None, Some("MILD".into())]
        );
        assert_eq!(i(&a, "severity_rank"), [Some(3), Some(0), Some(1)]);
        assert_eq!(
            s(&a, "reactions"),
            [Some("HIVES, RASH".into()), None, Some("ANAPHYLAXIS".into())]
        );
        assert_eq!(i(&a, "reaction_count"), [Some(2), Some(0), Some(1)]);
        assert_eq!(
            s(&a, "originating_site"),
            [Some("508".into()), Some("589".into()), Some("640".into())]
        );
        // Names from Dim.Sta3n (inactive stations too); unknown → NULL.
        assert_eq!(
            s(&a, "originating_site_name"),
            [
                Some("(508) Atlanta, GA".into()),
                Some("(589) Kansas City, MO".into()),
                None
            ]
        );
        assert_eq!(
            s(&a, "originating_staff"),
            [Some("SMITH,JOHN".into()), None, None]
        );
        assert_eq!(
            s(&a, "comment"),
            [Some("Patient reports hives.".into()), None, None]
        );
        assert_eq!(
            s(&a, "historical_or_observed"),
            [Some("OBSERVED".into()), Some("HISTORICAL".into()), None]
        );
        assert_eq!(
            s(&a, "verification_status"),
            [Some("VERIFIED".into()), Some("UNVERIFIED".into()), None]
        );
        assert!(a.column("is_active").unwrap().bool().unwrap().all());
        assert_eq!(a.column("observed_date").unwrap().null_count(), 2);

        let r = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        assert_eq!(i(&r, "allergy_sid"), [Some(1), Some(1), Some(3)]);
        assert_eq!(
            s(&r, "source_id"),
            [Some("100".into()), Some("101".into()), Some("106".into())]
        );
        assert_eq!(
            s(&r, "reaction_name"),
            [
                Some("HIVES".into()),
                Some("RASH".into()),
                Some("ANAPHYLAXIS".into())
            ]
        );
        assert_eq!(
            s(&r, "patient_key"),
            [
                Some("ICN100001".into()),
                Some("ICN100001".into()),
                Some("ICN100002".into())
            ]
        );

        let mut q: Vec<(String, String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_table, q.source_id, q.reason))
            .collect();
        q.sort();
        assert_eq!(
            q,
            [
                (ALLERGY_TABLE.into(), "5".into(), "unknown patient".into()),
                (
                    ALLERGY_TABLE.into(),
                    "6".into(),
                    "missing origination date".into()
                ),
                (
                    REACTION_TABLE.into(),
                    "104".into(),
                    "unknown allergy".into()
                ),
                (
                    REACTION_TABLE.into(),
                    "105".into(),
                    "unknown reaction".into()
                ),
            ]
        );

        for (out, df) in PIPELINE.outputs.iter().zip([a, r]) {
            check_types(&df, out.table, false);
            let done = crate::load::finish_frame(ctx, out, df).unwrap();
            assert_eq!(done.columns()[0].name().as_str(), out.table.columns[0].name);
            check_types(&done, out.table, true);
            assert_eq!(done.width(), out.table.columns.len());
        }
    }

    #[test]
    fn gold_is_deterministic() {
        let lake = lake();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let first = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        assert!(first.equals_missing(&ctx.gold(PIPELINE.outputs[0].gold).unwrap()));
    }

    /// Lands this pipeline's bronze tables from a freshly generated mock CDW.
    fn mock_lake(patients: u64) -> TestLake {
        let lake = TestLake::new();
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            mock::generate(&mock::GenerateOptions {
                patients,
                seed: 11,
                out: dir.path().join("mock"),
                as_of: lake.ctx.as_of,
            })
            .await
            .unwrap();
            let cdw = dir.path().join("mock/cdw");
            let source = cdw_source::CdwSource::open(cdw.to_str().unwrap())
                .await
                .unwrap();
            for t in PIPELINE.tables.iter().chain(common::SHARED_TABLES) {
                crate::bronze::land(&lake.ctx, &source, t).await.unwrap();
            }
        });
        lake
    }

    /// The generator's dirt (inactive rows, NULL severities, local spellings)
    /// goes through; lists, counts and the reaction table agree.
    #[test]
    fn mock_cdw_end_to_end() {
        let lake = mock_lake(200);
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let a = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        let r = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        assert!(a.height() > 50, "{}", a.height());
        let total: i64 = i(&a, "reaction_count").iter().map(|c| c.unwrap()).sum();
        assert_eq!(total as usize, r.height());
        for (k, reactions) in s(&a, "reactions").iter().enumerate() {
            let n = reactions.as_deref().map_or(0, |x| x.split(", ").count());
            assert_eq!(Some(n as i64), i(&a, "reaction_count")[k]);
        }
        assert!(
            ctx.quarantined(DOMAIN).is_empty(),
            "{:?}",
            ctx.quarantined(DOMAIN)
        );
        for (out, df) in PIPELINE.outputs.iter().zip([a, r]) {
            check_types(&df, out.table, false);
            let done = crate::load::finish_frame(ctx, out, df).unwrap();
            check_types(&done, out.table, true);
        }
    }
}
