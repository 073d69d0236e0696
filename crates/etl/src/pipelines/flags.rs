//! Patient record flags (CDWWork only): `SPatient.PatientRecordFlagAssignment`
//! with `Dim.PatientRecordFlag` and `SPatient.PatientRecordFlagHistory` →
//! `clinical.patient_flags` (one row per assignment, with its review status
//! and last action) and `clinical.patient_flag_history` (one row per history
//! event, keeping who entered/approved it and the sensitive narrative
//! `history_comments`).
//!
//! Dedup policy: one flag row per `PatientRecordFlagAssignmentSID` and one
//! history row per `PatientRecordFlagHistorySID` (a repeated SID in bronze
//! keeps its first row). Unlike the original upsert on
//! (assignment, history date), two events at the same instant are both
//! kept. Active and inactive assignments are both served (the web shows
//! inactive flags in their own section).
//!
//! Rules: the assignment's own name, category and review settings win; the
//! flag definition (`Dim.PatientRecordFlag`, any row, active or not) fills
//! the gaps and gives `flag_type`. `flag_category` is normalised by
//! `domain::flags::FlagCategory` (`I`/`II`). `is_active` = `IsActive`, or
//! `AssignmentStatus = 'ACTIVE'` when that is NULL. `review_status` =
//! `domain::flags::review_status(next review date, notification days,
//! ctx.as_of)` for active assignments, `N/A` for inactive ones. The last
//! action is the latest history row (by `HistoryDateTime`, then highest
//! SID): its date, action name and `EnteredByName`. Action names come from
//! the action code via `domain::flags::FlagAction` (else the trimmed
//! upper-case source name). Site names come from `Dim.Sta3n`. A history row
//! takes its patient from its assignment.
//!
//! Quarantine: assignments of an unknown patient (`unknown patient`),
//! without a flag name (`missing flag name`) or with a category that is not
//! I/II (`invalid flag category`); history rows whose assignment is not
//! served (`unknown assignment`), whose `PatientSID` contradicts the
//! assignment's (`patient mismatch`) or without a date
//! (`missing history date`).

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::flags::{FlagAction, FlagCategory, ReviewStatus, review_status};
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "flags",
    tables: &[
        &c::DIM_PATIENT_RECORD_FLAG,
        &c::S_PATIENT_PATIENT_RECORD_FLAG_ASSIGNMENT,
        &c::S_PATIENT_PATIENT_RECORD_FLAG_HISTORY,
    ],
    silver,
    gold,
    outputs: &[
        Output {
            gold: "patient_flags/patient_flags",
            table: &store::catalog::PATIENT_FLAGS,
        },
        Output {
            gold: "patient_flags/patient_flag_history",
            table: &store::catalog::PATIENT_FLAG_HISTORY,
        },
    ],
};

const DOMAIN: &str = "flags";
const ASSIGNMENT_TABLE: &str = "SPatient.PatientRecordFlagAssignment";
const HISTORY_TABLE: &str = "SPatient.PatientRecordFlagHistory";

/// First row per `key` after sorting by `by` (`descending` per column,
/// nulls last).
fn first_by(lf: LazyFrame, key: &str, by: &[&str], descending: &[bool]) -> LazyFrame {
    lf.sort(
        by.iter()
            .map(|s| PlSmallStr::from_str(s))
            .collect::<Vec<_>>(),
        SortMultipleOptions::default()
            .with_order_descending_multi(descending.to_vec())
            .with_nulls_last(true)
            .with_maintain_order(true),
    )
    .unique_stable(Some(cols([key])), UniqueKeepStrategy::First)
}

fn site_name(ctx: &Ctx, lf: LazyFrame, site: &str, name: &str) -> Result<LazyFrame> {
    Ok(common::lookup(
        lf,
        col(site),
        first_by(
            common::facility_names(ctx)?,
            "__sta3n",
            &["__sta3n"],
            &[false],
        ),
        "__sta3n",
        &[("facility_name", name)],
    ))
}

fn silver(ctx: &Ctx) -> Result<()> {
    let dim = first_by(
        ctx.bronze(&c::DIM_PATIENT_RECORD_FLAG)?.select([
            col("PatientRecordFlagSID")
                .cast(DataType::Int64)
                .alias("__dim_sid"),
            clean("FlagName").alias("__dim_name"),
            clean_upper("FlagType").alias("flag_type"),
            clean("FlagCategory").alias("__dim_category"),
            col("ReviewFrequencyDays")
                .cast(DataType::Int64)
                .alias("__dim_freq"),
            col("ReviewNotificationDays")
                .cast(DataType::Int64)
                .alias("__dim_notify"),
        ]),
        "__dim_sid",
        &["__dim_sid"],
        &[false],
    );
    let assignments = first_by(
        ctx.bronze(&c::S_PATIENT_PATIENT_RECORD_FLAG_ASSIGNMENT)?
            .select([
                col("PatientRecordFlagAssignmentSID")
                    .cast(DataType::Int64)
                    .alias("assignment_id"),
                col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
                col("PatientRecordFlagSID")
                    .cast(DataType::Int64)
                    .alias("__flag_sid"),
                clean("FlagName").alias("__name"),
                clean("FlagCategory").alias("__category"),
                col("IsActive").alias("__is_active"),
                clean_upper("AssignmentStatus").alias("assignment_status"),
                col("AssignmentDateTime").alias("assignment_date"),
                col("InactivationDateTime").alias("inactivation_date"),
                clean("OwnerSiteSta3n").alias("owner_site"),
                clean("OriginatingSiteSta3n").alias("originating_site"),
                col("ReviewFrequencyDays")
                    .cast(DataType::Int64)
                    .alias("__freq"),
                col("ReviewNotificationDays")
                    .cast(DataType::Int64)
                    .alias("__notify"),
                col("LastReviewDateTime").alias("last_review_date"),
                col("NextReviewDateTime").alias("next_review_date"),
            ]),
        "assignment_id",
        &["assignment_id"],
        &[false],
    );
    let assignments = common::resolve_patients(
        ctx,
        DOMAIN,
        ASSIGNMENT_TABLE,
        assignments,
        "patient_sid",
        "assignment_id",
    )?;
    let lf = assignments
        .lazy()
        .join(
            dim,
            [col("__flag_sid")],
            [col("__dim_sid")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            coalesce(&[col("__name"), col("__dim_name")]).alias("flag_name"),
            coalesce(&[col("__category"), col("__dim_category")]).alias("__category_raw"),
            coalesce(&[col("__freq"), col("__dim_freq")]).alias("review_frequency_days"),
            coalesce(&[col("__notify"), col("__dim_notify")]).alias("review_notification_days"),
            col("__is_active")
                .cast(DataType::Boolean)
                .fill_null(
                    col("assignment_status")
                        .eq(lit("ACTIVE"))
                        .fill_null(lit(false)),
                )
                .alias("is_active"),
        ]);
    let lf = site_name(ctx, lf, "owner_site", "owner_site_name")?;
    let lf = site_name(ctx, lf, "originating_site", "originating_site_name")?;
    let mut df = lf.collect()?;
    let category: Vec<Option<String>> = common::texts(&df, "__category_raw")?
        .iter()
        .map(|c| {
            c.as_deref()
                .and_then(|c| c.parse::<FlagCategory>().ok())
                .map(|c| c.as_str().to_string())
        })
        .collect();
    common::with_series(&mut df, common::series("flag_category", category))?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        ASSIGNMENT_TABLE,
        df,
        "assignment_id",
        common::Check {
            bad: col("flag_name").is_null(),
            reason: "missing flag name",
            detail: "neither the assignment nor Dim.PatientRecordFlag names the flag",
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        ASSIGNMENT_TABLE,
        df,
        "assignment_id",
        common::Check {
            bad: col("flag_category").is_null(),
            reason: "invalid flag category",
            detail: "FlagCategory is not I or II",
        },
    )?;
    let served = df.clone().lazy().select([
        col("assignment_id").alias("__a_id"),
        col("patient_sid").alias("__a_patient_sid"),
        col("patient_icn"),
    ]);

    // History.
    let history = first_by(
        ctx.bronze(&c::S_PATIENT_PATIENT_RECORD_FLAG_HISTORY)?
            .select([
                col("PatientRecordFlagHistorySID")
                    .cast(DataType::Int64)
                    .alias("history_sid"),
                col("PatientRecordFlagAssignmentSID")
                    .cast(DataType::Int64)
                    .alias("assignment_id"),
                col("PatientSID")
                    .cast(DataType::Int64)
                    .alias("__h_patient_sid"),
                col("HistoryDateTime").alias("history_date"),
                col("ActionCode").cast(DataType::Int64).alias("action_code"),
                clean_upper("ActionName").alias("__action_name"),
                col("EnteredByDUZ")
                    .cast(DataType::Int64)
                    .alias("entered_by_duz"),
                clean("EnteredByName").alias("entered_by_name"),
                col("ApprovedByDUZ")
                    .cast(DataType::Int64)
                    .alias("approved_by_duz"),
                clean("ApprovedByName").alias("approved_by_name"),
                col("TiuDocumentIEN")
                    .cast(DataType::Int64)
                    .alias("tiu_document_ien"),
                clean("HistoryComments").alias("history_comments"),
                clean("EventSiteSta3n").alias("event_site"),
            ]),
        "history_sid",
        &["history_sid"],
        &[false],
    )
    .join(
        served,
        [col("assignment_id")],
        [col("__a_id")],
        JoinArgs::new(JoinType::Left),
    )
    .collect()?;
    let history = common::quarantine_where(
        ctx,
        DOMAIN,
        HISTORY_TABLE,
        history,
        "history_sid",
        common::Check {
            bad: col("patient_icn").is_null(),
            reason: "unknown assignment",
            detail: "PatientRecordFlagAssignmentSID has no served assignment",
        },
    )?;
    let history = common::quarantine_where(
        ctx,
        DOMAIN,
        HISTORY_TABLE,
        history,
        "history_sid",
        common::Check {
            bad: col("__h_patient_sid")
                .is_not_null()
                .and(col("__h_patient_sid").neq(col("__a_patient_sid"))),
            reason: "patient mismatch",
            detail: "PatientSID differs from the assignment's",
        },
    )?;
    let mut history = common::quarantine_where(
        ctx,
        DOMAIN,
        HISTORY_TABLE,
        history,
        "history_sid",
        common::Check {
            bad: col("history_date").is_null(),
            reason: "missing history date",
            detail: "HistoryDateTime is NULL",
        },
    )?;
    let codes = common::ints(&history, "action_code")?;
    let raw_names = common::texts(&history, "__action_name")?;
    let names: Vec<Option<String>> = codes
        .iter()
        .zip(raw_names)
        .map(|(code, raw)| {
            code.and_then(|c| u8::try_from(c).ok())
                .and_then(FlagAction::from_code)
                .map(|a| a.name().to_string())
                .or(raw)
        })
        .collect();
    common::with_series(&mut history, common::series("action_name", names))?;
    let mut history = site_name(ctx, history.lazy(), "event_site", "event_site_name")?
        .drop(cols([
            "__action_name",
            "__h_patient_sid",
            "__a_patient_sid",
        ]))
        .sort(
            ["assignment_id", "history_sid"],
            SortMultipleOptions::default(),
        )
        .collect()?;

    let last = first_by(
        history.clone().lazy().select([
            col("assignment_id").alias("__last_a"),
            col("history_sid"),
            col("history_date").alias("last_action_date"),
            col("action_name").alias("last_action"),
            col("entered_by_name").alias("last_action_by"),
        ]),
        "__last_a",
        &["__last_a", "last_action_date", "history_sid"],
        &[false, true, true],
    )
    .drop(cols(["history_sid"]));
    let mut df = df
        .lazy()
        .join(
            last,
            [col("assignment_id")],
            [col("__last_a")],
            JoinArgs::new(JoinType::Left),
        )
        .drop(cols([
            "__flag_sid",
            "__name",
            "__category",
            "__is_active",
            "__freq",
            "__notify",
            "__dim_name",
            "__dim_category",
            "__dim_freq",
            "__dim_notify",
            "__category_raw",
        ]))
        .sort(["assignment_id"], SortMultipleOptions::default())
        .collect()?;
    ctx.write_silver(DOMAIN, "patient_flags_cleaned", &mut df)?;
    ctx.write_silver(DOMAIN, "patient_flag_history_cleaned", &mut history)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx.silver(DOMAIN, "patient_flags_cleaned")?.collect()?;
    let next = df
        .column("next_review_date")?
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
        .cast(&DataType::Int64)?;
    let next: Vec<Option<chrono::NaiveDate>> = next
        .i64()?
        .iter()
        .map(|v| {
            v.and_then(chrono::DateTime::from_timestamp_micros)
                .map(|d| d.date_naive())
        })
        .collect();
    let notify = common::ints(&df, "review_notification_days")?;
    let active: Vec<Option<bool>> = df.column("is_active")?.bool()?.iter().collect();
    let status: Vec<&str> = (0..df.height())
        .map(|i| {
            if active[i] == Some(true) {
                let days = notify[i].and_then(|d| u32::try_from(d).ok());
                review_status(next[i], days, ctx.as_of).as_str()
            } else {
                ReviewStatus::NotApplicable.as_str()
            }
        })
        .collect();
    common::with_series(&mut df, common::series("review_status", status))?;
    let mut flags = df
        .lazy()
        .with_columns([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col("assignment_id")
                .cast(DataType::String)
                .alias("source_id"),
        ])
        .sort(
            [
                "patient_key",
                "flag_category",
                "assignment_date",
                "assignment_id",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, false, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .select(catalog_cols(&store::catalog::PATIENT_FLAGS))
        .collect()?;
    ctx.write_gold(PIPELINE.outputs[0].gold, &mut flags)?;

    let mut history = ctx
        .silver(DOMAIN, "patient_flag_history_cleaned")?
        .with_columns([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col("history_sid").cast(DataType::String).alias("source_id"),
        ])
        .sort(
            [
                "patient_key",
                "assignment_id",
                "history_date",
                "history_sid",
            ],
            SortMultipleOptions::default(),
        )
        .select(catalog_cols(&store::catalog::PATIENT_FLAG_HISTORY))
        .collect()?;
    ctx.write_gold(PIPELINE.outputs[1].gold, &mut history)
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
    use crate::testing::{TestLake, check_types, i, s, some, ts};

    fn put_dt(df: &mut DataFrame, name: &str, v: &[Option<&str>]) {
        let us: Vec<Option<i64>> = v
            .iter()
            .map(|s| s.map(|s| ts(s).and_utc().timestamp_micros()))
            .collect();
        let s = Series::new(name.into(), us)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap();
        df.with_column(s.into_column()).unwrap();
    }

    const SUICIDE_NARRATIVE: &str = "Flag placed after emergency department visit for suicidal ideation with a plan. Safety plan completed with the patient.";

    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1016],
                "PatientICN" => ["ICN100001", "1016V123456"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!(
                "Sta3n" => [508i64, 688],
                "Sta3nName" => ["(508) Atlanta, GA", "(688) Washington, DC"],
                "Active" => ["Y", "Y"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_PATIENT_RECORD_FLAG,
            df!(
                "PatientRecordFlagSID" => [1i64, 2, 3],
                "FlagName" => ["HIGH RISK FOR SUICIDE", "DRUG SEEKING BEHAVIOR", "PALLIATIVE CARE"],
                "FlagType" => ["clinical ", "BEHAVIORAL", "CLINICAL"],
                "FlagCategory" => ["I", "II", "II"],
                "ReviewFrequencyDays" => [Some(90i64), Some(365), None],
                "ReviewNotificationDays" => [Some(7i64), Some(30), None],
                "IsActive" => [true, true, false],
            )
            .unwrap(),
        );
        // 1 suicide flag (DUE SOON); 2 name/notify from the dim (OVERDUE);
        // 3 CURRENT; 4 inactive (N/A despite a past review date); 5 unknown
        // patient; 6 invalid category; 7 IsActive NULL + status ACTIVE, no
        // next review (N/A).
        let mut a = df!(
            "PatientRecordFlagAssignmentSID" => [1i64, 2, 3, 4, 5, 6, 7],
            "PatientSID" => [1016i64, 1016, 1001, 1001, 99999999, 1001, 1001],
            "PatientRecordFlagSID" => [1i64, 2, 2, 3, 1, 99, 2],
            "FlagName" => [Some("HIGH RISK FOR SUICIDE"), None, Some("DRUG SEEKING BEHAVIOR"), Some("PALLIATIVE CARE"), Some("X"), Some("ODD"), Some("DRUG SEEKING BEHAVIOR")],
            "FlagCategory" => [Some("I "), Some("II"), Some("II"), None, Some("I"), Some("III"), Some("2")],
            "IsActive" => [Some(true), Some(true), Some(true), Some(false), Some(true), Some(true), None],
            "AssignmentStatus" => [Some("ACTIVE"), Some("ACTIVE"), Some("ACTIVE"), Some("inactive"), Some("ACTIVE"), Some("ACTIVE"), Some("ACTIVE ")],
            "OwnerSiteSta3n" => [Some("688"), Some("688 "), Some("508"), Some("508"), None, None, Some("640")],
            "OriginatingSiteSta3n" => [Some("688"), None, Some("508"), None, None, None, None],
            "ReviewFrequencyDays" => [Some(90i64), None, Some(365), None, None, None, None],
            "ReviewNotificationDays" => [Some(7i64), None, Some(30), None, None, None, None],
        )
        .unwrap();
        put_dt(
            &mut a,
            "AssignmentDateTime",
            &[
                Some("2025-06-02 10:00"),
                Some("2024-12-01 10:00"),
                Some("2025-03-01 10:00"),
                Some("2024-01-01 10:00"),
                Some("2025-01-01 10:00"),
                Some("2025-01-01 10:00"),
                Some("2025-07-01 10:00"),
            ],
        );
        put_dt(
            &mut a,
            "InactivationDateTime",
            &[None, None, None, Some("2024-06-01 12:00"), None, None, None],
        );
        put_dt(
            &mut a,
            "NextReviewDateTime",
            &[
                Some("2025-12-24 10:00"),
                Some("2025-12-01 10:00"),
                Some("2026-06-01 10:00"),
                Some("2025-01-01 10:00"),
                None,
                None,
                None,
            ],
        );
        lake.put_bronze(&c::S_PATIENT_PATIENT_RECORD_FLAG_ASSIGNMENT, a);
        let mut h = df!(
            "PatientRecordFlagHistorySID" => [10i64, 11, 12, 13, 20, 21, 22, 23],
            "PatientRecordFlagAssignmentSID" => [1i64, 1, 1, 2, 42, 3, 3, 5],
            "PatientSID" => [Some(1016i64), Some(1016), None, Some(1016), Some(1001), Some(1016), Some(1001), Some(99999999)],
            "ActionCode" => [Some(1i64), Some(2), Some(2), None, Some(1), Some(1), Some(1), Some(1)],
            "ActionName" => [Some("NEW ASSIGNMENT"), Some("CONTINUE"), Some("continue "), Some("Continue"), None, None, None, None],
            "EnteredByDUZ" => [Some(501i64), Some(502), Some(503), None, None, None, None, None],
            "EnteredByName" => [Some("SMITH,JOHN"), Some("DOE,JANE "), Some("ROE,RICHARD"), None, None, None, None, None],
            "ApprovedByDUZ" => [Some(601i64), Some(601), Some(601), None, None, None, None, None],
            "ApprovedByName" => [Some("CHIEF,OF STAFF"), Some("CHIEF,OF STAFF"), Some("CHIEF,OF STAFF"), None, None, None, None, None],
            "TiuDocumentIEN" => [Some(123456i64), Some(234567), None, None, None, None, None, None],
            "HistoryComments" => [
                Some(SUICIDE_NARRATIVE),
                Some("Reviewed with the Suicide Prevention Coordinator. Flag continued."),
                Some("Flag review: outreach completed by phone. Continue flag."),
                None, None, None, None, None,
            ],
            "EventSiteSta3n" => [Some("688"), Some("688"), Some("688"), None, None, None, None, None],
        )
        .unwrap();
        put_dt(
            &mut h,
            "HistoryDateTime",
            &[
                Some("2025-06-02 10:00"),
                Some("2025-08-30 09:00"),
                Some("2025-11-28 14:00"),
                Some("2025-06-01 08:00"),
                Some("2025-06-01 08:00"),
                Some("2025-06-01 08:00"),
                None,
                Some("2025-06-01 08:00"),
            ],
        );
        lake.put_bronze(&c::S_PATIENT_PATIENT_RECORD_FLAG_HISTORY, h);
        lake
    }

    fn stamp(df: &DataFrame, name: &str, row: usize) -> Option<String> {
        let v = df
            .column(name)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(row);
        v.and_then(chrono::DateTime::from_timestamp_micros)
            .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M").to_string())
    }

    #[test]
    fn flags_end_to_end() {
        let lake = lake();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();

        let f = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        assert_eq!(
            i(&f, "assignment_id"),
            [Some(1), Some(2), Some(7), Some(3), Some(4)]
        );
        assert_eq!(
            s(&f, "patient_key"),
            some(&[
                "1016V123456",
                "1016V123456",
                "ICN100001",
                "ICN100001",
                "ICN100001"
            ])
        );
        assert_eq!(s(&f, "source_id"), some(&["1", "2", "7", "3", "4"]));
        assert_eq!(
            s(&f, "flag_name"),
            some(&[
                "HIGH RISK FOR SUICIDE",
                "DRUG SEEKING BEHAVIOR",
                "DRUG SEEKING BEHAVIOR",
                "DRUG SEEKING BEHAVIOR",
                "PALLIATIVE CARE"
            ])
        );
        assert_eq!(s(&f, "flag_category"), some(&["I", "II", "II", "II", "II"]));
        assert_eq!(
            s(&f, "flag_type"),
            some(&[
                "CLINICAL",
                "BEHAVIORAL",
                "BEHAVIORAL",
                "BEHAVIORAL",
                "CLINICAL"
            ])
        );
        assert_eq!(
            common::texts(&f, "is_active").unwrap(),
            some(&["true", "true", "true", "true", "false"])
        );
        assert_eq!(
            s(&f, "assignment_status"),
            some(&["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "INACTIVE"])
        );
        assert_eq!(
            s(&f, "review_status"),
            some(&["DUE SOON", "OVERDUE", "N/A", "CURRENT", "N/A"])
        );
        assert_eq!(
            i(&f, "review_notification_days"),
            [Some(7), Some(30), Some(30), Some(30), None]
        );
        assert_eq!(
            i(&f, "review_frequency_days"),
            [Some(90), Some(365), Some(365), Some(365), None]
        );
        assert_eq!(
            s(&f, "owner_site"),
            [
                Some("688".into()),
                Some("688".into()),
                Some("640".into()),
                Some("508".into()),
                Some("508".into())
            ]
        );
        assert_eq!(
            s(&f, "owner_site_name"),
            [
                Some("(688) Washington, DC".into()),
                Some("(688) Washington, DC".into()),
                None,
                Some("(508) Atlanta, GA".into()),
                Some("(508) Atlanta, GA".into())
            ]
        );
        assert_eq!(
            s(&f, "originating_site_name")[0].as_deref(),
            Some("(688) Washington, DC")
        );
        // Last action = latest history row.
        assert_eq!(
            stamp(&f, "last_action_date", 0).as_deref(),
            Some("2025-11-28 14:00")
        );
        assert_eq!(s(&f, "last_action")[0].as_deref(), Some("CONTINUE"));
        assert_eq!(s(&f, "last_action_by")[0].as_deref(), Some("ROE,RICHARD"));
        assert_eq!(s(&f, "last_action")[1].as_deref(), Some("CONTINUE"));
        assert_eq!(s(&f, "last_action_by")[1], None);
        assert_eq!(s(&f, "last_action")[3], None);
        assert_eq!(
            stamp(&f, "inactivation_date", 4).as_deref(),
            Some("2024-06-01 12:00")
        );

        let h = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        assert_eq!(s(&h, "source_id"), some(&["10", "11", "12", "13"]));
        assert_eq!(i(&h, "assignment_id"), [Some(1), Some(1), Some(1), Some(2)]);
        assert_eq!(s(&h, "patient_key"), some(&["1016V123456"; 4]));
        assert_eq!(
            s(&h, "action_name"),
            some(&["NEW ASSIGNMENT", "CONTINUE", "CONTINUE", "CONTINUE"])
        );
        assert_eq!(i(&h, "action_code"), [Some(1), Some(2), Some(2), None]);
        assert_eq!(
            s(&h, "entered_by_name"),
            [
                Some("SMITH,JOHN".into()),
                Some("DOE,JANE".into()),
                Some("ROE,RICHARD".into()),
                None
            ]
        );
        assert_eq!(
            i(&h, "entered_by_duz"),
            [Some(501), Some(502), Some(503), None]
        );
        assert_eq!(
            s(&h, "approved_by_name")[0].as_deref(),
            Some("CHIEF,OF STAFF")
        );
        assert_eq!(i(&h, "approved_by_duz")[0], Some(601));
        assert_eq!(i(&h, "tiu_document_ien")[0], Some(123456));
        assert_eq!(
            s(&h, "history_comments")[0].as_deref(),
            Some(SUICIDE_NARRATIVE)
        );
        assert_eq!(s(&h, "event_site")[0].as_deref(), Some("688"));
        assert_eq!(
            s(&h, "event_site_name")[0].as_deref(),
            Some("(688) Washington, DC")
        );
        assert_eq!(
            stamp(&h, "history_date", 0).as_deref(),
            Some("2025-06-02 10:00")
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
                (
                    ASSIGNMENT_TABLE.into(),
                    "5".into(),
                    "unknown patient".into()
                ),
                (
                    ASSIGNMENT_TABLE.into(),
                    "6".into(),
                    "invalid flag category".into()
                ),
                (
                    HISTORY_TABLE.into(),
                    "20".into(),
                    "unknown assignment".into()
                ),
                (HISTORY_TABLE.into(), "21".into(), "patient mismatch".into()),
                (
                    HISTORY_TABLE.into(),
                    "22".into(),
                    "missing history date".into()
                ),
                (
                    HISTORY_TABLE.into(),
                    "23".into(),
                    "unknown assignment".into()
                ),
            ]
        );

        for (out, df) in PIPELINE.outputs.iter().zip([f, h]) {
            check_types(&df, out.table, false);
            let done = crate::load::finish_frame(ctx, out, df).unwrap();
            assert_eq!(done.columns()[0].name().as_str(), out.table.columns[0].name);
            check_types(&done, out.table, true);
            assert_eq!(done.width(), out.table.columns.len());
        }
    }

    /// The suicide-risk persona of the mock generator (PatientSID 1016)
    /// comes through with its Cat I flag and its narrative history.
    #[test]
    fn suicide_persona_from_the_mock_generator() {
        let lake = mock_lake(41);
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();

        let f = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        let keys = s(&f, "patient_key");
        let names = s(&f, "flag_name");
        let row = (0..f.height())
            .find(|&r| {
                keys[r].as_deref() == Some("1016V123456")
                    && names[r].as_deref() == Some("HIGH RISK FOR SUICIDE")
            })
            .expect("the suicide-risk flag of persona 1016");
        assert_eq!(s(&f, "flag_category")[row].as_deref(), Some("I"));
        assert_eq!(
            common::texts(&f, "is_active").unwrap()[row].as_deref(),
            Some("true")
        );
        assert!(s(&f, "review_status")[row].is_some());
        assert!(s(&f, "last_action")[row].is_some());
        let assignment = i(&f, "assignment_id")[row];

        let h = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        let rows: Vec<usize> = (0..h.height())
            .filter(|&r| i(&h, "assignment_id")[r] == assignment)
            .collect();
        assert!(rows.len() >= 2, "a review history, not just the assignment");
        let comments = s(&h, "history_comments");
        let entered = s(&h, "entered_by_name");
        let actions = s(&h, "action_name");
        for &r in &rows {
            assert_eq!(s(&h, "patient_key")[r].as_deref(), Some("1016V123456"));
            assert!(comments[r].as_deref().is_some_and(|c| !c.is_empty()));
            assert!(entered[r].is_some());
        }
        assert_eq!(actions[rows[0]].as_deref(), Some("NEW ASSIGNMENT"));
        assert!(
            comments[rows[0]]
                .as_deref()
                .unwrap()
                .contains("Safety plan")
        );
        assert!(
            ctx.quarantined(DOMAIN).is_empty(),
            "{:?}",
            ctx.quarantined(DOMAIN)
        );
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
}
