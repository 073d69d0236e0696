//! Medications (CDWWork only).
//!
//! Outpatient: `RxOut.RxOutpat` + its latest `RxOut.RxOutpatFill` (and the
//! number of fills) + its `RxOut.RxOutpatSig` segments, the drug resolved
//! through `Dim.LocalDrug` → `Dim.NationalDrug` (via the local drug's own
//! `NationalDrugSID`: RxOutpat's copy of that pointer is sometimes stale, so
//! it is ignored), provider names from `SStaff.SStaff`, facility names from
//! `Dim.Sta3n` → `clinical.patient_medications_outpatient`.
//! Inpatient: `BCMA.BCMAMedicationLog` with the same drug/staff/facility
//! resolution → `clinical.patient_medications_inpatient`.
//!
//! Dedup policy: one outpatient row per `RxOutpatSID` and one inpatient row
//! per `BCMAMedicationLogSID` (a repeated SID in bronze keeps its first row;
//! renewals are separate prescriptions and are all kept). Fills never
//! multiply rows: the latest fill is the one with the latest `FillDateTime`
//! (ties: highest `FillNumber`, then highest `RxOutpatFillSID`) and
//! `fill_count` counts every fill row. Sig segments never multiply rows
//! either: all segments of a prescription are aggregated in
//! `RxOutpatSigSID` order (`sig` = the signatures joined by a space,
//! `sig_route`/`sig_schedule` = their distinct values joined by `", "`).
//!
//! Rules (against `ctx.as_of`, midnight): `rx_status_computed` =
//! DISCONTINUED (a discontinued date on or before as-of, or source status
//! DISCONTINUED) > EXPIRED (expiration on or before as-of) > the source
//! status (ACTIVE when the source has none); `is_active` = the computed
//! status is neither DISCONTINUED nor EXPIRED; `days_until_expiration` =
//! whole days from as-of to the expiration date, for active prescriptions
//! only; `is_controlled_substance` = the national drug has a DEA schedule or
//! `ControlledSubstanceFlag = 'Y'`. Dimension lookups use every row, active
//! or not (an inactive drug still names old prescriptions); an unknown drug
//! leaves the drug columns NULL (not controlled).
//!
//! Quarantine: facts of an unknown patient (`unknown patient`).

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text, yes_no};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use polars::prelude::*;
use std::collections::BTreeMap;

pub static PIPELINE: Pipeline = Pipeline {
    name: "medications",
    tables: &[
        &c::RX_OUT_RX_OUTPAT,
        &c::RX_OUT_RX_OUTPAT_FILL,
        &c::RX_OUT_RX_OUTPAT_SIG,
        &c::BCMA_BCMA_MEDICATION_LOG,
        &c::DIM_LOCAL_DRUG,
        &c::DIM_NATIONAL_DRUG,
    ],
    silver,
    gold,
    outputs: &[
        Output {
            gold: "medications/medications_outpatient",
            table: &store::catalog::PATIENT_MEDICATIONS_OUTPATIENT,
        },
        Output {
            gold: "medications/medications_inpatient",
            table: &store::catalog::PATIENT_MEDICATIONS_INPATIENT,
        },
    ],
};

const DOMAIN: &str = "medications";

/// Drug columns resolved from the local drug.
const DRUG_COLS: &[&str] = &[
    "national_drug_id",
    "drug_name_local",
    "drug_name_national",
    "generic_name",
    "trade_name",
    "drug_strength",
    "drug_unit",
    "dosage_form",
    "drug_class",
    "drug_class_code",
    "dea_schedule",
    "ndc_code",
    "is_controlled_substance",
];

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

/// LocalDrugSID (`__ld_sid`) → the drug columns of [`DRUG_COLS`].
fn drugs(ctx: &Ctx) -> Result<LazyFrame> {
    let national = first_by(
        ctx.bronze(&c::DIM_NATIONAL_DRUG)?.select([
            col("NationalDrugSID")
                .cast(DataType::Int64)
                .alias("__nd_sid"),
            clean("NationalDrugName").alias("drug_name_national"),
            clean("GenericName").alias("generic_name"),
            clean("TradeName").alias("trade_name"),
            clean("NDCCode").alias("ndc_code"),
            clean("DrugClass").alias("__nat_class"),
            clean("DrugClassCode").alias("__nat_class_code"),
            clean_upper("DEASchedule").alias("dea_schedule"),
            yes_no("ControlledSubstanceFlag").alias("__cs_flag"),
        ]),
        "__nd_sid",
        &["__nd_sid"],
        &[false],
    );
    let local = first_by(
        ctx.bronze(&c::DIM_LOCAL_DRUG)?.select([
            col("LocalDrugSID").cast(DataType::Int64).alias("__ld_sid"),
            col("NationalDrugSID")
                .cast(DataType::Int64)
                .alias("national_drug_id"),
            clean("DrugNameWithDose").alias("drug_name_local"),
            clean("Strength").alias("drug_strength"),
            clean("Unit").alias("drug_unit"),
            clean("DosageForm").alias("dosage_form"),
            clean("DrugClass").alias("__local_class"),
            clean("DrugClassCode").alias("__local_class_code"),
        ]),
        "__ld_sid",
        &["__ld_sid"],
        &[false],
    );
    let mut exprs = vec![col("__ld_sid")];
    exprs.extend(
        DRUG_COLS
            .iter()
            .filter(|c| {
                !matches!(
                    **c,
                    "drug_class" | "drug_class_code" | "is_controlled_substance"
                )
            })
            .map(|c| col(*c)),
    );
    exprs.push(coalesce(&[col("__local_class"), col("__nat_class")]).alias("drug_class"));
    exprs.push(
        coalesce(&[col("__local_class_code"), col("__nat_class_code")]).alias("drug_class_code"),
    );
    exprs.push(
        col("dea_schedule")
            .is_not_null()
            .or(col("__cs_flag").fill_null(lit(false)))
            .alias("is_controlled_substance"),
    );
    Ok(local
        .join(
            national,
            [col("national_drug_id")],
            [col("__nd_sid")],
            JoinArgs::new(JoinType::Left),
        )
        .select(exprs))
}

fn with_drugs(ctx: &Ctx, lf: LazyFrame) -> Result<LazyFrame> {
    let renames: Vec<(&str, &str)> = DRUG_COLS.iter().map(|c| (*c, *c)).collect();
    Ok(
        common::lookup(lf, col("local_drug_id"), drugs(ctx)?, "__ld_sid", &renames)
            .with_column(col("is_controlled_substance").fill_null(lit(false))),
    )
}

fn staff(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(first_by(
        common::staff_names(ctx)?,
        "__staff_sid",
        &["__staff_sid"],
        &[false],
    ))
}

fn facilities(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(first_by(
        common::facility_names(ctx)?,
        "__sta3n",
        &["__sta3n"],
        &[false],
    ))
}

/// Aggregated sig per prescription: (`__sig_rx`, sig, sig_route, sig_schedule).
fn sigs(ctx: &Ctx) -> Result<DataFrame> {
    let df = first_by(
        ctx.bronze(&c::RX_OUT_RX_OUTPAT_SIG)?.select([
            col("RxOutpatSigSID")
                .cast(DataType::Int64)
                .alias("__sig_sid"),
            col("RxOutpatSID").cast(DataType::Int64).alias("__sig_rx"),
            clean("CompleteSignature").alias("sig"),
            clean("Route").alias("sig_route"),
            clean("Schedule").alias("sig_schedule"),
        ]),
        "__sig_sid",
        &["__sig_rx", "__sig_sid"],
        &[false, false],
    )
    .filter(col("__sig_rx").is_not_null())
    .collect()?;
    let rx = common::ints(&df, "__sig_rx")?;
    let sig = common::texts(&df, "sig")?;
    let route = common::texts(&df, "sig_route")?;
    let sched = common::texts(&df, "sig_schedule")?;
    let mut by_rx: BTreeMap<i64, [Vec<String>; 3]> = BTreeMap::new();
    for (i, rx) in rx.iter().enumerate() {
        let Some(rx) = rx else { continue };
        let entry = by_rx.entry(*rx).or_default();
        for (k, v) in [&sig[i], &route[i], &sched[i]].into_iter().enumerate() {
            if let Some(v) = v
                && (k == 0 || !entry[k].contains(v))
            {
                entry[k].push(v.clone());
            }
        }
    }
    let join = |parts: &Vec<String>, sep: &str| (!parts.is_empty()).then(|| parts.join(sep));
    let keys: Vec<i64> = by_rx.keys().copied().collect();
    let sig: Vec<Option<String>> = by_rx.values().map(|v| join(&v[0], " ")).collect();
    let route: Vec<Option<String>> = by_rx.values().map(|v| join(&v[1], ", ")).collect();
    let sched: Vec<Option<String>> = by_rx.values().map(|v| join(&v[2], ", ")).collect();
    Ok(DataFrame::new(
        keys.len(),
        vec![
            common::series("__sig_rx", keys).into_column(),
            common::series("sig", sig).into_column(),
            common::series("sig_route", route).into_column(),
            common::series("sig_schedule", sched).into_column(),
        ],
    )?)
}

fn silver(ctx: &Ctx) -> Result<()> {
    silver_outpatient(ctx)?;
    silver_inpatient(ctx)
}

fn silver_outpatient(ctx: &Ctx) -> Result<()> {
    let rx = first_by(
        ctx.bronze(&c::RX_OUT_RX_OUTPAT)?.select([
            col("RxOutpatSID")
                .cast(DataType::Int64)
                .alias("rx_outpat_id"),
            col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
            col("LocalDrugSID")
                .cast(DataType::Int64)
                .alias("local_drug_id"),
            clean("PrescriptionNumber").alias("prescription_number"),
            col("IssueDateTime").alias("issue_date"),
            col("ProviderSID").cast(DataType::Int64).alias("__provider"),
            col("OrderingProviderSID")
                .cast(DataType::Int64)
                .alias("__ordering"),
            clean("PharmacyName").alias("pharmacy_name"),
            clean_upper("RxStatus").alias("rx_status"),
            clean_upper("RxType").alias("rx_type"),
            col("Quantity")
                .cast(DataType::Float64)
                .alias("quantity_ordered"),
            col("DaysSupply").cast(DataType::Int64).alias("days_supply"),
            col("RefillsAllowed")
                .cast(DataType::Int64)
                .alias("refills_allowed"),
            col("RefillsRemaining")
                .cast(DataType::Int64)
                .alias("refills_remaining"),
            clean("UnitDose").alias("unit_dose"),
            col("ExpirationDateTime").alias("expiration_date"),
            col("DiscontinuedDateTime").alias("discontinued_date"),
            clean("DiscontinueReason").alias("discontinue_reason"),
            clean("ClinicName").alias("clinic_name"),
            int_text("Sta3n").alias("sta3n"),
            clean_upper("CMOPIndicator").alias("cmop_indicator"),
            clean_upper("MailIndicator").alias("mail_indicator"),
        ]),
        "rx_outpat_id",
        &["rx_outpat_id"],
        &[false],
    );
    let rx = common::resolve_patients(
        ctx,
        DOMAIN,
        "RxOut.RxOutpat",
        rx,
        "patient_sid",
        "rx_outpat_id",
    )?;

    let fills = ctx.bronze(&c::RX_OUT_RX_OUTPAT_FILL)?.select([
        col("RxOutpatFillSID")
            .cast(DataType::Int64)
            .alias("__fill_sid"),
        col("RxOutpatSID").cast(DataType::Int64).alias("__fill_rx"),
        col("FillNumber")
            .cast(DataType::Int64)
            .alias("latest_fill_number"),
        col("FillDateTime").alias("latest_fill_date"),
        clean_upper("FillStatus").alias("latest_fill_status"),
        col("QuantityDispensed")
            .cast(DataType::Float64)
            .alias("latest_quantity_dispensed"),
        col("DaysSupplyDispensed")
            .cast(DataType::Int64)
            .alias("latest_days_supply"),
    ]);
    let fills = first_by(fills, "__fill_sid", &["__fill_sid"], &[false]);
    let fill_count = fills
        .clone()
        .group_by([col("__fill_rx").alias("__count_rx")])
        .agg([len().cast(DataType::Int64).alias("fill_count")]);
    let latest = first_by(
        fills,
        "__fill_rx",
        &[
            "__fill_rx",
            "latest_fill_date",
            "latest_fill_number",
            "__fill_sid",
        ],
        &[false, true, true, true],
    )
    .drop(cols(["__fill_sid"]));

    let lf = rx
        .lazy()
        .join(
            latest,
            [col("rx_outpat_id")],
            [col("__fill_rx")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            fill_count,
            [col("rx_outpat_id")],
            [col("__count_rx")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("fill_count").fill_null(lit(0i64)))
        .join(
            sigs(ctx)?.lazy(),
            [col("rx_outpat_id")],
            [col("__sig_rx")],
            JoinArgs::new(JoinType::Left),
        );
    let lf = with_drugs(ctx, lf)?;
    let lf = common::lookup(
        lf,
        col("__provider"),
        staff(ctx)?,
        "__staff_sid",
        &[("staff_name", "provider_name")],
    );
    let lf = common::lookup(
        lf,
        col("__ordering"),
        staff(ctx)?,
        "__staff_sid",
        &[("staff_name", "ordering_provider_name")],
    );
    let lf = common::lookup(
        lf,
        col("sta3n"),
        facilities(ctx)?,
        "__sta3n",
        &[("facility_name", "facility_name")],
    );
    let mut df = lf
        .drop(cols(["__provider", "__ordering"]))
        .sort(["rx_outpat_id"], SortMultipleOptions::default())
        .collect()?;
    ctx.write_silver(DOMAIN, "medications_rxout_cleaned", &mut df)
}

fn silver_inpatient(ctx: &Ctx) -> Result<()> {
    let log = first_by(
        ctx.bronze(&c::BCMA_BCMA_MEDICATION_LOG)?.select([
            col("BCMAMedicationLogSID")
                .cast(DataType::Int64)
                .alias("bcma_log_id"),
            col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
            col("InpatientSID")
                .cast(DataType::Int64)
                .alias("inpatient_sid"),
            clean_upper("ActionType").alias("action_type"),
            clean_upper("ActionStatus").alias("action_status"),
            col("ActionDateTime").alias("action_datetime"),
            col("ScheduledDateTime").alias("scheduled_datetime"),
            col("OrderedDateTime").alias("ordered_datetime"),
            col("AdministeredByStaffSID")
                .cast(DataType::Int64)
                .alias("__given_by"),
            col("OrderingProviderSID")
                .cast(DataType::Int64)
                .alias("__ordering"),
            col("LocalDrugSID")
                .cast(DataType::Int64)
                .alias("local_drug_id"),
            clean("OrderNumber").alias("order_number"),
            clean("DosageOrdered").alias("dosage_ordered"),
            clean("DosageGiven").alias("dosage_given"),
            clean_upper("Route").alias("route"),
            clean("UnitOfAdministration").alias("unit_of_administration"),
            clean_upper("ScheduleType").alias("schedule_type"),
            clean_upper("Schedule").alias("schedule"),
            clean("WardName").alias("ward_name"),
            yes_no("VarianceFlag")
                .fill_null(lit(false))
                .alias("administration_variance"),
            clean_upper("VarianceType").alias("variance_type"),
            clean("VarianceReason").alias("variance_reason"),
            yes_no("IVFlag")
                .fill_null(lit(false))
                .alias("is_iv_medication"),
            clean_upper("IVType").alias("iv_type"),
            clean("InfusionRate").alias("infusion_rate"),
            int_text("Sta3n").alias("sta3n"),
        ]),
        "bcma_log_id",
        &["bcma_log_id"],
        &[false],
    );
    let log = common::resolve_patients(
        ctx,
        DOMAIN,
        "BCMA.BCMAMedicationLog",
        log,
        "patient_sid",
        "bcma_log_id",
    )?;
    let lf = with_drugs(ctx, log.lazy())?;
    let lf = common::lookup(
        lf,
        col("__given_by"),
        staff(ctx)?,
        "__staff_sid",
        &[("staff_name", "administered_by")],
    );
    let lf = common::lookup(
        lf,
        col("__ordering"),
        staff(ctx)?,
        "__staff_sid",
        &[("staff_name", "ordering_provider")],
    );
    let lf = common::lookup(
        lf,
        col("sta3n"),
        facilities(ctx)?,
        "__sta3n",
        &[("facility_name", "facility_name")],
    );
    let mut df = lf
        .drop(cols(["__given_by", "__ordering"]))
        .sort(["bcma_log_id"], SortMultipleOptions::default())
        .collect()?;
    ctx.write_silver(DOMAIN, "medications_bcma_cleaned", &mut df)
}

/// Datetime column as microseconds since the epoch.
fn micros(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let s = df
        .column(name)?
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
        .cast(&DataType::Int64)?;
    Ok(s.i64()?.iter().collect())
}

/// Computed status, active flag and days to expiry of one prescription.
pub fn rx_state(
    status: Option<&str>,
    expiration: Option<chrono::NaiveDateTime>,
    discontinued: Option<chrono::NaiveDateTime>,
    as_of: chrono::NaiveDate,
) -> (String, bool, Option<i64>) {
    let now = as_of.and_hms_opt(0, 0, 0).expect("midnight");
    let computed = if discontinued.is_some_and(|d| d <= now) || status == Some("DISCONTINUED") {
        "DISCONTINUED".to_string()
    } else if expiration.is_some_and(|e| e <= now) {
        "EXPIRED".to_string()
    } else {
        status.unwrap_or("ACTIVE").to_string()
    };
    let active = computed != "DISCONTINUED" && computed != "EXPIRED";
    let days = if active {
        expiration.map(|e| (e.date() - as_of).num_days())
    } else {
        None
    };
    (computed, active, days)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx.silver(DOMAIN, "medications_rxout_cleaned")?.collect()?;
    let to_dt = |v: Option<i64>| {
        v.and_then(chrono::DateTime::from_timestamp_micros)
            .map(|d| d.naive_utc())
    };
    let status = common::texts(&df, "rx_status")?;
    let exp = micros(&df, "expiration_date")?;
    let disc = micros(&df, "discontinued_date")?;
    let mut computed = Vec::with_capacity(df.height());
    let mut active = Vec::with_capacity(df.height());
    let mut days = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (s, a, d) = rx_state(
            status[i].as_deref(),
            to_dt(exp[i]),
            to_dt(disc[i]),
            ctx.as_of,
        );
        computed.push(s);
        active.push(a);
        days.push(d);
    }
    common::with_series(&mut df, common::series("rx_status_computed", computed))?;
    common::with_series(&mut df, common::series("is_active", active))?;
    common::with_series(&mut df, common::series("days_until_expiration", days))?;
    let mut out = finish(
        df.lazy(),
        "rx_outpat_id",
        "issue_date",
        &store::catalog::PATIENT_MEDICATIONS_OUTPATIENT,
    )?;
    ctx.write_gold(PIPELINE.outputs[0].gold, &mut out)?;

    let inpatient = ctx.silver(DOMAIN, "medications_bcma_cleaned")?;
    let mut out = finish(
        inpatient,
        "bcma_log_id",
        "action_datetime",
        &store::catalog::PATIENT_MEDICATIONS_INPATIENT,
    )?;
    ctx.write_gold(PIPELINE.outputs[1].gold, &mut out)
}

/// Keys, deterministic order (patient, most recent first, then SID) and
/// exactly the serving columns (minus the surrogate key and `last_updated`).
fn finish(lf: LazyFrame, sid: &str, date: &str, t: &store::ServingTable) -> Result<DataFrame> {
    Ok(lf
        .with_columns([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col(sid).cast(DataType::String).alias("source_id"),
        ])
        .sort(
            ["patient_key", date, sid],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .select(
            t.columns
                .iter()
                .skip(1)
                .filter(|c| c.name != "last_updated")
                .map(|c| col(c.name))
                .collect::<Vec<_>>(),
        )
        .collect()?)
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

    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002],
                "PatientICN" => ["ICN100001", "ICN100002"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!("Sta3n" => [508i64], "Sta3nName" => ["(508) Atlanta, GA"], "Active" => ["Y"])
                .unwrap(),
        );
        lake.put_bronze(
            &c::S_STAFF_S_STAFF,
            df!("StaffSID" => [7i64, 8], "StaffName" => ["SMITH,JOHN", "DOE,JANE "]).unwrap(),
        );
        lake.put_bronze(
            &c::DIM_NATIONAL_DRUG,
            df!(
                "NationalDrugSID" => [1i64, 2, 3],
                "NationalDrugName" => ["LISINOPRIL 10MG TAB", "OXYCODONE 5MG TAB", "LORAZEPAM 1MG TAB"],
                "GenericName" => ["Lisinopril", "Oxycodone", "Lorazepam"],
                "TradeName" => [Some("Zestril"), Some("Roxicodone"), None],
                "NDCCode" => ["1-1-1", "2-2-2", "3-3-3"],
                "DrugClass" => ["ACE INHIBITORS", "OPIOID ANALGESICS", "BENZODIAZEPINES"],
                "DrugClassCode" => ["CV800", "CN101", "CN302"],
                "DEASchedule" => [None, Some("C-II"), None],
                "ControlledSubstanceFlag" => ["N", "Y", "Y"],
                "Inactive" => ["N", "N", "Y"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_LOCAL_DRUG,
            df!(
                "LocalDrugSID" => [1i64, 2, 3, 4],
                "NationalDrugSID" => [Some(1i64), Some(2), Some(3), Some(77)],
                "DrugNameWithDose" => ["LISINOPRIL 10MG TAB ", "OXYCODONE 5MG TAB", "LORAZEPAM 1MG TAB", "MYSTERY 1MG TAB"],
                "Strength" => ["10", "5", "1", "1"],
                "Unit" => ["MG", "MG", "MG", "MG"],
                "DosageForm" => ["TAB", "TAB", "TAB", "TAB"],
                "DrugClass" => [None, Some("CN101 OPIOIDS LOCAL"), None, None],
                "Inactive" => [Some("N"), None, Some("Y"), Some("N")],
            )
            .unwrap(),
        );
        // 10 active with a stale national pointer, three fills, two sig
        // segments; 11 expired (controlled C-II); 12 on hold but
        // discontinued; 13 no expiration, no fill, no sig, unknown national
        // drug; 14 unknown patient; 15 HOLD, still active; 16 expires
        // exactly at as-of midnight; 10 repeated (dedup).
        let mut rx = df!(
            "RxOutpatSID" => [10i64, 11, 12, 13, 14, 15, 16, 10],
            "PatientSID" => [1001i64, 1001, 1002, 1002, 99999999, 1001, 1001, 1001],
            "LocalDrugSID" => [1i64, 2, 1, 4, 1, 3, 1, 1],
            "NationalDrugSID" => [3i64, 2, 1, 77, 1, 3, 1, 3],
            "PrescriptionNumber" => ["8000010", "8000011", "8000012", "8000013", "x", "8000015", "8000016", "dup"],
            "ProviderSID" => [Some(7i64), Some(8), None, Some(7), None, None, None, None],
            "OrderingProviderSID" => [Some(8i64), Some(8), None, Some(99), None, None, None, None],
            "RxStatus" => [Some("ACTIVE"), Some("ACTIVE"), Some("hold "), Some("ACTIVE"), Some("ACTIVE"), Some("HOLD"), Some("ACTIVE"), Some("ACTIVE")],
            "RxType" => ["MAINTENANCE", "ACUTE", "MAINTENANCE", "MAINTENANCE", "ACUTE", "MAINTENANCE", "MAINTENANCE", "MAINTENANCE"],
            "Quantity" => [30.0, 60.0, 30.0, 30.0, 1.0, 30.0, 30.0, 30.0],
            "DaysSupply" => [30i64, 30, 30, 30, 1, 30, 30, 30],
            "Sta3n" => [508i64, 508, 508, 589, 508, 508, 508, 508],
            "CMOPIndicator" => ["y", "N", "N", "N", "N", "N", "N", "N"],
        )
        .unwrap();
        put_dt(
            &mut rx,
            "IssueDateTime",
            &[
                Some("2025-11-01 09:00"),
                Some("2024-06-01 09:00"),
                Some("2025-05-01 09:00"),
                Some("2025-01-01 09:00"),
                Some("2025-01-01 09:00"),
                Some("2025-10-01 09:00"),
                Some("2024-12-19 09:00"),
                Some("2025-11-01 09:00"),
            ],
        );
        put_dt(
            &mut rx,
            "ExpirationDateTime",
            &[
                Some("2026-01-18 23:59"),
                Some("2025-01-01 23:59"),
                Some("2026-05-01 23:59"),
                None,
                None,
                Some("2026-10-01 23:59"),
                Some("2025-12-19 00:00"),
                None,
            ],
        );
        put_dt(
            &mut rx,
            "DiscontinuedDateTime",
            &[
                None,
                None,
                Some("2025-06-01 10:00"),
                None,
                None,
                None,
                None,
                None,
            ],
        );
        lake.put_bronze(&c::RX_OUT_RX_OUTPAT, rx);
        let mut fills = df!(
            "RxOutpatFillSID" => [1i64, 2, 3, 4, 5],
            "RxOutpatSID" => [10i64, 10, 10, 10, 11],
            "FillNumber" => [0i64, 1, 2, 3, 0],
            "FillStatus" => ["DISPENSED", "DISPENSED", "suspended ", "DISPENSED", "DISPENSED"],
            "QuantityDispensed" => [30.0, 30.0, 15.0, 30.0, 60.0],
            "DaysSupplyDispensed" => [30i64, 30, 15, 30, 30],
        )
        .unwrap();
        put_dt(
            &mut fills,
            "FillDateTime",
            &[
                Some("2025-11-01 10:00"),
                Some("2025-12-01 10:00"),
                Some("2025-12-10 10:00"),
                None,
                Some("2024-06-01 10:00"),
            ],
        );
        lake.put_bronze(&c::RX_OUT_RX_OUTPAT_FILL, fills);
        lake.put_bronze(
            &c::RX_OUT_RX_OUTPAT_SIG,
            df!(
                "RxOutpatSigSID" => [501i64, 500, 502],
                "RxOutpatSID" => [10i64, 10, 11],
                "CompleteSignature" => [
                    "THEN TAKE ONE-HALF TABLET DAILY FOR 7 DAYS THEN STOP",
                    "TAKE ONE TABLET BY MOUTH DAILY ",
                    "TAKE ONE TABLET EVERY 6 HOURS AS NEEDED",
                ],
                "Route" => ["PO", "PO", "PO"],
                "Schedule" => ["QD", "DAILY", "Q6H PRN"],
            )
            .unwrap(),
        );
        let mut bcma = df!(
            "BCMAMedicationLogSID" => [900i64, 901, 902],
            "PatientSID" => [1001i64, 1002, 99999999],
            "InpatientSID" => [5i64, 6, 7],
            "ActionType" => ["Given", "HELD", "GIVEN"],
            "ActionStatus" => ["COMPLETED", "HELD", "COMPLETED"],
            "AdministeredByStaffSID" => [Some(7i64), Some(8), None],
            "OrderingProviderSID" => [Some(8i64), None, None],
            "LocalDrugSID" => [2i64, 99, 1],
            "OrderNumber" => ["7000900", "7000901", "7000902"],
            "Route" => ["po", "IV", "PO"],
            "WardName" => ["7A MED/SURG ", "MICU", "MICU"],
            "VarianceFlag" => [Some("N"), Some("Y"), None],
            "VarianceType" => [None, Some("HELD"), None],
            "VarianceReason" => [None, Some("HELD - PATIENT NPO"), None],
            "IVFlag" => [Some("N"), Some("Y"), None],
            "IVType" => [None, Some("PIGGYBACK"), None],
            "InfusionRate" => [None, Some("100 ML/HR"), None],
            "Sta3n" => [508i64, 640, 508],
        )
        .unwrap();
        put_dt(
            &mut bcma,
            "ActionDateTime",
            &[
                Some("2025-03-01 10:05"),
                Some("2025-04-01 22:00"),
                Some("2025-03-01 10:00"),
            ],
        );
        lake.put_bronze(&c::BCMA_BCMA_MEDICATION_LOG, bcma);
        lake
    }

    #[test]
    fn rx_state_rules() {
        let d = |s: &str| ts(s);
        let as_of = chrono::NaiveDate::from_ymd_opt(2025, 12, 19).unwrap();
        assert_eq!(
            rx_state(Some("ACTIVE"), Some(d("2026-01-18 23:59")), None, as_of),
            ("ACTIVE".into(), true, Some(30))
        );
        assert_eq!(
            rx_state(Some("ACTIVE"), Some(d("2025-12-19 00:00")), None, as_of),
            ("EXPIRED".into(), false, None)
        );
        assert_eq!(
            rx_state(Some("ACTIVE"), Some(d("2025-12-19 00:01")), None, as_of),
            ("ACTIVE".into(), true, Some(0))
        );
        // DISCONTINUED beats EXPIRED.
        assert_eq!(
            rx_state(
                Some("EXPIRED"),
                Some(d("2025-01-01 00:00")),
                Some(d("2024-12-01 00:00")),
                as_of
            ),
            ("DISCONTINUED".into(), false, None)
        );
        // A discontinuation dated after as-of has not happened yet.
        assert_eq!(
            rx_state(Some("ACTIVE"), None, Some(d("2025-12-20 08:00")), as_of),
            ("ACTIVE".into(), true, None)
        );
        assert_eq!(
            rx_state(None, None, None, as_of),
            ("ACTIVE".into(), true, None)
        );
        assert_eq!(
            rx_state(Some("EXPIRED"), Some(d("2026-06-01 00:00")), None, as_of),
            ("EXPIRED".into(), false, None)
        );
    }

    #[test]
    fn medications_end_to_end() {
        let lake = lake();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();

        let o = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        // Patient, then issue date descending.
        assert_eq!(
            i(&o, "rx_outpat_id"),
            [Some(10), Some(15), Some(16), Some(11), Some(12), Some(13)]
        );
        assert_eq!(
            s(&o, "patient_key"),
            some(&[
                "ICN100001",
                "ICN100001",
                "ICN100001",
                "ICN100001",
                "ICN100002",
                "ICN100002"
            ])
        );
        assert_eq!(s(&o, "patient_icn"), s(&o, "patient_key"));
        assert_eq!(
            s(&o, "source_id"),
            some(&["10", "15", "16", "11", "12", "13"])
        );
        assert_eq!(s(&o, "prescription_number")[0].as_deref(), Some("8000010"));
        assert_eq!(
            s(&o, "rx_status_computed"),
            some(&[
                "ACTIVE",
                "HOLD",
                "EXPIRED",
                "EXPIRED",
                "DISCONTINUED",
                "ACTIVE"
            ])
        );
        assert_eq!(
            s(&o, "rx_status"),
            some(&["ACTIVE", "HOLD", "ACTIVE", "ACTIVE", "HOLD", "ACTIVE"])
        );
        assert_eq!(
            common::texts(&o, "is_active").unwrap(),
            some(&["true", "true", "false", "false", "false", "true"])
        );
        assert_eq!(
            i(&o, "days_until_expiration"),
            [Some(30), Some(286), None, None, None, None]
        );
        // National drug via the local drug, not RxOutpat's stale pointer.
        assert_eq!(
            i(&o, "national_drug_id"),
            [Some(1), Some(3), Some(1), Some(2), Some(1), Some(77)]
        );
        assert_eq!(
            s(&o, "generic_name"),
            [
                Some("Lisinopril".into()),
                Some("Lorazepam".into()),
                Some("Lisinopril".into()),
                Some("Oxycodone".into()),
                Some("Lisinopril".into()),
                None
            ]
        );
        assert_eq!(
            s(&o, "drug_name_local")[0].as_deref(),
            Some("LISINOPRIL 10MG TAB")
        );
        assert_eq!(
            s(&o, "drug_name_local")[5].as_deref(),
            Some("MYSTERY 1MG TAB")
        );
        assert_eq!(
            s(&o, "drug_class")[3].as_deref(),
            Some("CN101 OPIOIDS LOCAL")
        );
        assert_eq!(s(&o, "drug_class")[0].as_deref(), Some("ACE INHIBITORS"));
        assert_eq!(s(&o, "dea_schedule")[3].as_deref(), Some("C-II"));
        // Controlled: DEA schedule (oxycodone) or the flag alone (lorazepam).
        assert_eq!(
            common::texts(&o, "is_controlled_substance").unwrap(),
            some(&["false", "true", "false", "true", "false", "false"])
        );
        // Latest fill by date (fill 2), not by number (fill 3 has no date).
        assert_eq!(
            i(&o, "fill_count"),
            [Some(4), Some(0), Some(0), Some(1), Some(0), Some(0)]
        );
        assert_eq!(i(&o, "latest_fill_number")[0], Some(2));
        assert_eq!(s(&o, "latest_fill_status")[0].as_deref(), Some("SUSPENDED"));
        assert_eq!(
            common::floats(&o, "latest_quantity_dispensed").unwrap()[0],
            Some(15.0)
        );
        assert_eq!(i(&o, "latest_days_supply")[0], Some(15));
        assert_eq!(i(&o, "latest_fill_number")[5], None);
        // Sig segments aggregated in SID order; rows never multiplied.
        assert_eq!(
            s(&o, "sig")[0].as_deref(),
            Some(
                "TAKE ONE TABLET BY MOUTH DAILY THEN TAKE ONE-HALF TABLET DAILY FOR 7 DAYS THEN STOP"
            )
        );
        assert_eq!(s(&o, "sig_route")[0].as_deref(), Some("PO"));
        assert_eq!(s(&o, "sig_schedule")[0].as_deref(), Some("DAILY, QD"));
        assert_eq!(s(&o, "sig")[5], None);
        assert_eq!(s(&o, "provider_name")[0].as_deref(), Some("SMITH,JOHN"));
        assert_eq!(
            s(&o, "ordering_provider_name")[0].as_deref(),
            Some("DOE,JANE")
        );
        assert_eq!(s(&o, "ordering_provider_name")[5], None);
        assert_eq!(
            s(&o, "facility_name")[0].as_deref(),
            Some("(508) Atlanta, GA")
        );
        assert_eq!(s(&o, "facility_name")[5], None);
        assert_eq!(s(&o, "sta3n")[5].as_deref(), Some("589"));
        assert_eq!(s(&o, "cmop_indicator")[0].as_deref(), Some("Y"));
        assert_eq!(
            common::floats(&o, "quantity_ordered").unwrap()[3],
            Some(60.0)
        );

        let n = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        assert_eq!(i(&n, "bcma_log_id"), [Some(900), Some(901)]);
        assert_eq!(s(&n, "source_id"), some(&["900", "901"]));
        assert_eq!(s(&n, "action_type"), some(&["GIVEN", "HELD"]));
        assert_eq!(s(&n, "route"), some(&["PO", "IV"]));
        assert_eq!(s(&n, "ward_name"), some(&["7A MED/SURG", "MICU"]));
        assert_eq!(
            common::texts(&n, "administration_variance").unwrap(),
            some(&["false", "true"])
        );
        assert_eq!(
            common::texts(&n, "is_iv_medication").unwrap(),
            some(&["false", "true"])
        );
        assert_eq!(
            common::texts(&n, "is_controlled_substance").unwrap(),
            some(&["true", "false"])
        );
        assert_eq!(s(&n, "generic_name"), [Some("Oxycodone".into()), None]);
        assert_eq!(s(&n, "administered_by"), some(&["SMITH,JOHN", "DOE,JANE"]));
        assert_eq!(s(&n, "ordering_provider"), [Some("DOE,JANE".into()), None]);
        assert_eq!(
            s(&n, "facility_name"),
            [Some("(508) Atlanta, GA".into()), None]
        );
        assert_eq!(
            s(&n, "variance_reason")[1].as_deref(),
            Some("HELD - PATIENT NPO")
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
                    "BCMA.BCMAMedicationLog".into(),
                    "902".into(),
                    "unknown patient".into()
                ),
                (
                    "RxOut.RxOutpat".into(),
                    "14".into(),
                    "unknown patient".into()
                ),
            ]
        );

        for (out, df) in PIPELINE.outputs.iter().zip([o, n]) {
            check_types(&df, out.table, false);
            let done = crate::load::finish_frame(ctx, out, df).unwrap();
            assert_eq!(done.columns()[0].name().as_str(), out.table.columns[0].name);
            check_types(&done, out.table, true);
            assert_eq!(done.width(), out.table.columns.len());
        }
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

    /// The generator's dirt (second sig segments, stale national pointers,
    /// mixed-case BCMA actions) goes through without multiplying rows.
    #[test]
    fn mock_cdw_end_to_end() {
        let lake = mock_lake(200);
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let rx_rows = ctx
            .bronze(&c::RX_OUT_RX_OUTPAT)
            .unwrap()
            .collect()
            .unwrap()
            .height();
        let o = ctx.gold(PIPELINE.outputs[0].gold).unwrap();
        assert_eq!(o.height(), rx_rows, "one row per prescription");
        let ids = o
            .column("rx_outpat_id")
            .unwrap()
            .as_materialized_series()
            .n_unique()
            .unwrap();
        assert_eq!(ids, o.height());
        assert!(
            s(&o, "sig")
                .iter()
                .any(|x| x.as_deref().is_some_and(|x| x.contains(" THEN ")))
        );
        let n = ctx.gold(PIPELINE.outputs[1].gold).unwrap();
        assert!(n.height() > 0);
        assert!(
            s(&n, "action_type")
                .iter()
                .all(|a| a.as_deref() != Some("Given"))
        );
        // Persona 1015 has controlled substances.
        let keys = s(&o, "patient_key");
        let controlled = common::texts(&o, "is_controlled_substance").unwrap();
        assert!(
            (0..o.height()).any(|r| keys[r].as_deref() == Some("ICN100015")
                && controlled[r].as_deref() == Some("true"))
        );
        assert!(
            ctx.quarantined(DOMAIN).is_empty(),
            "{:?}",
            ctx.quarantined(DOMAIN)
        );
        for (out, df) in PIPELINE.outputs.iter().zip([o, n]) {
            check_types(&df, out.table, false);
            let done = crate::load::finish_frame(ctx, out, df).unwrap();
            check_types(&done, out.table, true);
        }
    }
}
