//! Encounters: CDWWork `Inpat.Inpatient` (+ `Dim.Location` admit/discharge
//! names, `SStaff.SStaff` admitting provider) and CDWWork2 `EncMill.Encounter`
//! (`IsActive = 1` only) → `clinical.patient_encounters`.
//!
//! Patients are keyed by ICN: CDWWork PatientSID → ICN through SPatient,
//! CDWWork2 rows carry `PatientICN`, which must also be known to SPatient.
//! `inpatient_id` is the source SID (InpatientSID / EncounterSID); the
//! serving key is `(source_system, source_id)`, so the SID ranges may
//! overlap. Facility names come from `Dim.Sta3n` (CDWWork2 prefers its own
//! `FacilityName` and falls back to `Dim.Sta3n`).
//!
//! Exclusions (quarantined): `unknown patient`, CDWWork2 `inactive`
//! (`IsActive = 0`), `missing encounter type`, `missing admit date`,
//! `discharge before admission`.
//!
//! Dedup policy: every source SID is one encounter (no dedup within a
//! source). Across sources, a CDWWork2 encounter with the same ICN,
//! encounter type and admit time (to the minute) as a CDWWork encounter is
//! the same stay recorded twice: **the CDWWork row is kept** (it carries the
//! diagnoses, disposition, discharge location and LOS that CDWWork2 lacks)
//! and the CDWWork2 row is quarantined as `cross-source duplicate`.
//!
//! Gold rules (all date-dependent flags against `ctx.as_of`, never the wall
//! clock):
//! - `is_active`: an INPATIENT stay without a discharge (an outpatient or
//!   emergency visit is never an active admission — the original flagged
//!   every visit without a discharge date as active);
//! - `encounter_status`: `Active` / `Discharged` for inpatient stays (derived
//!   from the discharge date, the source of truth), `Discharged` or
//!   `Completed` for other visits;
//! - `length_of_stay`: the source value, else for a discharged inpatient
//!   stay the calendar days from admission to discharge;
//! - `total_days`: inpatient days from admission to discharge, or to the
//!   as-of date while still admitted;
//! - `is_recent`: active, or discharged (or, without a discharge, admitted)
//!   on or after as-of − 30 days;
//! - `is_extended_stay`: active and `total_days` > 14 (the original used the
//!   LOS, which an active stay never has);
//! - `admission_category`: the encounter type for non-inpatient visits,
//!   else Active Admission / Unknown (no LOS) / Observation (0) / Short Stay
//!   (≤ 3) / Standard Stay (≤ 7) / Extended Stay.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use polars::prelude::*;
use std::collections::HashSet;

pub static PIPELINE: Pipeline = Pipeline {
    name: "encounters",
    tables: &[&c::INPAT_INPATIENT, &c::ENC_MILL_ENCOUNTER],
    silver,
    gold,
    outputs: &[Output {
        gold: "encounters/encounters_final",
        table: &store::catalog::PATIENT_ENCOUNTERS,
    }],
};

const DOMAIN: &str = "encounters";
const INPATIENT: &str = "Inpat.Inpatient";
const ENCOUNTER: &str = "EncMill.Encounter";
const MICROS_PER_DAY: i64 = 86_400_000_000;
const RECENT_DAYS: i64 = 30;
const EXTENDED_DAYS: i64 = 14;

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

fn null_of(dt: DataType) -> Expr {
    lit(NULL).cast(dt)
}

/// Quarantines rows of both sources, each under its own table name.
fn quarantine_both(
    ctx: &Ctx,
    df: DataFrame,
    bad: Expr,
    reason: &str,
    detail: &str,
) -> Result<DataFrame> {
    let df = df
        .lazy()
        .with_column(bad.fill_null(lit(false)).alias("__q"))
        .collect()?;
    for (system, table) in [("CDWWork", INPATIENT), ("CDWWork2", ENCOUNTER)] {
        let part = df
            .clone()
            .lazy()
            .filter(col("__q").and(col("source_system").eq(lit(system))))
            .collect()?;
        common::quarantine_where(
            ctx,
            DOMAIN,
            table,
            part,
            "source_id",
            common::Check {
                bad: lit(true),
                reason,
                detail,
            },
        )?;
    }
    Ok(df
        .lazy()
        .filter(col("__q").not())
        .drop(cols(["__q"]))
        .collect()?)
}

fn cdwwork(ctx: &Ctx) -> Result<DataFrame> {
    let raw = ctx
        .bronze(&c::INPAT_INPATIENT)?
        .with_column(col("InpatientSID").cast(DataType::Int64));
    let df = common::resolve_patients(ctx, DOMAIN, INPATIENT, raw, "PatientSID", "InpatientSID")?;
    let lf = common::lookup(
        df.lazy(),
        col("AdmitLocationSID").cast(DataType::Int64),
        common::locations(ctx)?,
        "__location_sid",
        &[
            ("location_name", "admit_location_name"),
            ("location_type", "admit_location_type"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("DischargeWardLocationSID").cast(DataType::Int64),
        common::locations(ctx)?,
        "__location_sid",
        &[
            ("location_name", "discharge_location_name"),
            ("location_type", "discharge_location_type"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("AdmittingProviderSID").cast(DataType::Int64),
        common::staff_names(ctx)?,
        "__staff_sid",
        &[("staff_name", "admitting_provider_name")],
    );
    Ok(lf
        .select([
            col("patient_icn"),
            lit("CDWWork").alias("source_system"),
            col("InpatientSID")
                .cast(DataType::String)
                .alias("source_id"),
            col("InpatientSID").alias("inpatient_id"),
            lit("INPATIENT").alias("encounter_type"),
            col("AdmitDateTime").cast(ts_type()).alias("admit_datetime"),
            col("AdmitLocationSID")
                .cast(DataType::Int64)
                .alias("admit_location_id"),
            col("admit_location_name"),
            col("admit_location_type"),
            clean_upper("AdmitDiagnosisICD10").alias("admit_diagnosis_code"),
            col("AdmittingProviderSID")
                .cast(DataType::Int64)
                .alias("admitting_provider_id"),
            col("admitting_provider_name"),
            col("DischargeDateTime")
                .cast(ts_type())
                .alias("discharge_datetime"),
            col("DischargeDateSID")
                .cast(DataType::Int64)
                .alias("discharge_date_id"),
            col("DischargeWardLocationSID")
                .cast(DataType::Int64)
                .alias("discharge_location_id"),
            col("discharge_location_name"),
            col("discharge_location_type"),
            clean_upper("DischargeDiagnosisICD10").alias("discharge_diagnosis_code"),
            clean("DischargeDiagnosis").alias("discharge_diagnosis_text"),
            clean("DischargeDisposition").alias("discharge_disposition"),
            col("LengthOfStay")
                .cast(DataType::Int64)
                .alias("length_of_stay"),
            int_text("Sta3n").alias("sta3n"),
            null_of(DataType::String).alias("facility_name"),
            lit("CDWWork").alias("data_source"),
        ])
        .collect()?)
}

fn cdwwork2(ctx: &Ctx) -> Result<DataFrame> {
    let raw = ctx
        .bronze(&c::ENC_MILL_ENCOUNTER)?
        .with_columns([
            col("EncounterSID").cast(DataType::Int64),
            clean("PatientICN").alias("patient_icn"),
        ])
        .collect()?;
    let raw = common::quarantine_where(
        ctx,
        DOMAIN,
        ENCOUNTER,
        raw,
        "EncounterSID",
        common::Check {
            bad: col("IsActive").cast(DataType::Boolean).not(),
            reason: "inactive",
            detail: "IsActive = 0",
        },
    )?;
    let df = common::resolve_icns(
        ctx,
        DOMAIN,
        ENCOUNTER,
        raw.lazy(),
        "patient_icn",
        "EncounterSID",
    )?;
    Ok(df
        .lazy()
        .select([
            col("patient_icn"),
            lit("CDWWork2").alias("source_system"),
            col("EncounterSID")
                .cast(DataType::String)
                .alias("source_id"),
            col("EncounterSID").alias("inpatient_id"),
            clean_upper("EncounterType").alias("encounter_type"),
            col("AdmitDate")
                .cast(ts_type())
                .fill_null(col("EncounterDate").cast(ts_type()))
                .alias("admit_datetime"),
            null_of(DataType::Int64).alias("admit_location_id"),
            clean("LocationName").alias("admit_location_name"),
            clean("LocationType").alias("admit_location_type"),
            null_of(DataType::String).alias("admit_diagnosis_code"),
            col("ProviderSID")
                .cast(DataType::Int64)
                .alias("admitting_provider_id"),
            clean("ProviderName").alias("admitting_provider_name"),
            col("DischargeDate")
                .cast(ts_type())
                .alias("discharge_datetime"),
            null_of(DataType::Int64).alias("discharge_date_id"),
            null_of(DataType::Int64).alias("discharge_location_id"),
            null_of(DataType::String).alias("discharge_location_name"),
            null_of(DataType::String).alias("discharge_location_type"),
            null_of(DataType::String).alias("discharge_diagnosis_code"),
            null_of(DataType::String).alias("discharge_diagnosis_text"),
            null_of(DataType::String).alias("discharge_disposition"),
            null_of(DataType::Int64).alias("length_of_stay"),
            clean("Sta3n").alias("sta3n"),
            clean("FacilityName").alias("facility_name"),
            lit("CDWWork2").alias("data_source"),
        ])
        .collect()?)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let df = concat(
        [cdwwork(ctx)?.lazy(), cdwwork2(ctx)?.lazy()],
        UnionArgs::default(),
    )?
    .collect()?;
    let df = quarantine_both(
        ctx,
        df,
        col("encounter_type").is_null(),
        "missing encounter type",
        "EncounterType is empty",
    )?;
    let df = quarantine_both(
        ctx,
        df,
        col("admit_datetime").is_null(),
        "missing admit date",
        "no admission (or encounter) date/time",
    )?;
    let df = quarantine_both(
        ctx,
        df,
        col("discharge_datetime").lt(col("admit_datetime")),
        "discharge before admission",
        "DischargeDateTime is earlier than the admission",
    )?;
    // Cross-source dedup: CDWWork wins.
    let systems = common::texts(&df, "source_system")?;
    let icns = common::texts(&df, "patient_icn")?;
    let types = common::texts(&df, "encounter_type")?;
    let admits = common::ints(&df, "admit_datetime")?;
    let keys: Vec<Option<String>> = (0..df.height())
        .map(|i| match (&icns[i], &types[i], admits[i]) {
            (Some(p), Some(t), Some(a)) => Some(format!("{p}|{t}|{}", a.div_euclid(60_000_000))),
            _ => None,
        })
        .collect();
    let vista: HashSet<&str> = systems
        .iter()
        .zip(&keys)
        .filter(|(s, _)| s.as_deref() == Some("CDWWork"))
        .filter_map(|(_, k)| k.as_deref())
        .collect();
    let dup: Vec<bool> = systems
        .iter()
        .zip(&keys)
        .map(|(s, k)| {
            s.as_deref() == Some("CDWWork2") && k.as_deref().is_some_and(|k| vista.contains(k))
        })
        .collect();
    let mut df = df;
    common::with_series(&mut df, common::series("__dup", dup))?;
    let df = quarantine_both(
        ctx,
        df,
        col("__dup"),
        "cross-source duplicate",
        "same ICN, encounter type and admit minute as a CDWWork stay (CDWWork kept)",
    )?;
    let mut df = common::lookup(
        df.lazy(),
        col("sta3n"),
        common::facility_names(ctx)?,
        "__sta3n",
        &[("facility_name", "__sta3n_name")],
    )
    .with_column(col("facility_name").fill_null(col("__sta3n_name")))
    .drop(cols(["__sta3n_name"]))
    .sort(
        [
            "patient_icn",
            "admit_datetime",
            "source_system",
            "source_id",
        ],
        SortMultipleOptions::default().with_maintain_order(true),
    )
    .collect()?;
    ctx.write_silver(DOMAIN, "encounters_merged", &mut df)
}

/// The date-dependent and derived encounter fields of one row.
#[derive(Debug, Clone, PartialEq)]
struct Derived {
    is_active: bool,
    encounter_status: String,
    length_of_stay: Option<i64>,
    total_days: Option<i64>,
    is_recent: bool,
    is_extended_stay: bool,
    admission_category: String,
}

/// Day number (days since the epoch) of a microsecond timestamp.
fn day(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

fn derive(
    encounter_type: &str,
    admit: i64,
    discharge: Option<i64>,
    source_los: Option<i64>,
    as_of_day: i64,
) -> Derived {
    let inpatient = encounter_type == "INPATIENT";
    let is_active = inpatient && discharge.is_none();
    let length_of_stay = match (inpatient, source_los, discharge) {
        (true, Some(l), _) => Some(l),
        (true, None, Some(d)) => Some(day(d) - day(admit)),
        (false, l, _) => l,
        (true, None, None) => None,
    };
    let total_days = inpatient.then(|| (discharge.map_or(as_of_day, day) - day(admit)).max(0));
    let encounter_status = match (inpatient, discharge) {
        (true, None) => "Active",
        (_, Some(_)) => "Discharged",
        (false, None) => "Completed",
    }
    .to_string();
    let last = day(discharge.unwrap_or(admit));
    let is_recent = is_active || last >= as_of_day - RECENT_DAYS;
    let is_extended_stay = is_active && total_days.is_some_and(|d| d > EXTENDED_DAYS);
    let admission_category = if !inpatient {
        encounter_type.to_string()
    } else if is_active {
        "Active Admission".into()
    } else {
        match length_of_stay {
            None => "Unknown",
            Some(0) => "Observation",
            Some(l) if l <= 3 => "Short Stay",
            Some(l) if l <= 7 => "Standard Stay",
            Some(_) => "Extended Stay",
        }
        .into()
    };
    Derived {
        is_active,
        encounter_status,
        length_of_stay,
        total_days,
        is_recent,
        is_extended_stay,
        admission_category,
    }
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx.silver(DOMAIN, "encounters_merged")?.collect()?;
    let types = common::texts(&df, "encounter_type")?;
    let admits = common::ints(&df, "admit_datetime")?;
    let discharges = common::ints(&df, "discharge_datetime")?;
    let los = common::ints(&df, "length_of_stay")?;
    let as_of_day = day(ctx.as_of_datetime().and_utc().timestamp_micros());
    let rows: Vec<Derived> = (0..df.height())
        .map(|i| {
            derive(
                types[i].as_deref().unwrap_or_default(),
                admits[i].unwrap_or_default(),
                discharges[i],
                los[i],
                as_of_day,
            )
        })
        .collect();
    common::with_series(
        &mut df,
        common::series("is_active", rows.iter().map(|r| r.is_active)),
    )?;
    common::with_series(
        &mut df,
        common::series(
            "encounter_status",
            rows.iter().map(|r| r.encounter_status.clone()),
        ),
    )?;
    common::with_series(
        &mut df,
        common::series("length_of_stay", rows.iter().map(|r| r.length_of_stay)),
    )?;
    common::with_series(
        &mut df,
        common::series("total_days", rows.iter().map(|r| r.total_days)),
    )?;
    common::with_series(
        &mut df,
        common::series("is_recent", rows.iter().map(|r| r.is_recent)),
    )?;
    common::with_series(
        &mut df,
        common::series("is_extended_stay", rows.iter().map(|r| r.is_extended_stay)),
    )?;
    common::with_series(
        &mut df,
        common::series(
            "admission_category",
            rows.iter().map(|r| r.admission_category.clone()),
        ),
    )?;
    let df = df
        .lazy()
        .with_column(col("patient_icn").alias("patient_key"))
        .collect()?;
    let mut df = common::serving_frame(df, &store::catalog::PATIENT_ENCOUNTERS)?
        .lazy()
        .sort(
            [
                "patient_key",
                "admit_datetime",
                "source_system",
                "source_id",
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    ctx.write_gold("encounters/encounters_final", &mut df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, ts};

    fn dt(v: &[Option<&str>]) -> Series {
        let micros: Vec<Option<i64>> = v
            .iter()
            .map(|s| s.map(|s| ts(s).and_utc().timestamp_micros()))
            .collect();
        Series::new("x".into(), micros).cast(&ts_type()).unwrap()
    }

    fn named(s: Series, name: &str) -> Column {
        s.with_name(name.into()).into_column()
    }

    fn frame(cols: Vec<Column>) -> DataFrame {
        let n = cols[0].len();
        DataFrame::new(n, cols).unwrap()
    }

    fn micros(s: &str) -> i64 {
        ts(s).and_utc().timestamp_micros()
    }

    #[test]
    fn derived_rules() {
        // as-of 2025-12-19.
        let as_of = day(micros("2025-12-19 00:00"));
        let d = derive("INPATIENT", micros("2025-12-01 08:00"), None, None, as_of);
        assert!(d.is_active && d.is_recent && d.is_extended_stay);
        assert_eq!(d.total_days, Some(18));
        assert_eq!(d.length_of_stay, None);
        assert_eq!(d.encounter_status, "Active");
        assert_eq!(d.admission_category, "Active Admission");
        // Active but only 14 days in: not extended.
        let d = derive("INPATIENT", micros("2025-12-05 23:00"), None, None, as_of);
        assert_eq!(d.total_days, Some(14));
        assert!(!d.is_extended_stay);
        let cat = |los: Option<i64>| {
            derive(
                "INPATIENT",
                micros("2025-01-01 08:00"),
                Some(micros("2025-01-02 08:00")),
                los,
                as_of,
            )
            .admission_category
        };
        assert_eq!(cat(None), "Short Stay"); // computed LOS 1
        assert_eq!(cat(Some(0)), "Observation");
        assert_eq!(cat(Some(3)), "Short Stay");
        assert_eq!(cat(Some(4)), "Standard Stay");
        assert_eq!(cat(Some(7)), "Standard Stay");
        assert_eq!(cat(Some(8)), "Extended Stay");
        // Discharged exactly 30 days before as-of is recent; 31 is not.
        let d = derive(
            "INPATIENT",
            micros("2025-11-10 08:00"),
            Some(micros("2025-11-19 10:00")),
            Some(9),
            as_of,
        );
        assert!(d.is_recent && !d.is_active && !d.is_extended_stay);
        assert_eq!(d.encounter_status, "Discharged");
        assert_eq!(d.total_days, Some(9));
        let d = derive(
            "INPATIENT",
            micros("2025-11-10 08:00"),
            Some(micros("2025-11-18 10:00")),
            Some(8),
            as_of,
        );
        assert!(!d.is_recent);
        // Outpatient visit: never active, category = type.
        let d = derive("OUTPATIENT", micros("2025-12-10 09:00"), None, None, as_of);
        assert!(!d.is_active && d.is_recent && !d.is_extended_stay);
        assert_eq!(d.encounter_status, "Completed");
        assert_eq!(d.admission_category, "OUTPATIENT");
        assert_eq!(d.total_days, None);
        let d = derive("EMERGENCY", micros("2025-01-10 09:00"), None, None, as_of);
        assert!(!d.is_recent);
    }

    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!("PatientSID" => [1001i64, 2001], "PatientICN" => ["ICN100001", "ICN200001"])
                .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!("Sta3n" => [508i64, 663, 687], "Sta3nName" => ["(508) Atlanta, GA", "(663) Seattle, WA", "(687) Walla Walla, WA"])
                .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_LOCATION,
            df!(
                "LocationSID" => [1i64, 2],
                "LocationName" => ["ATL EMERGENCY", "7A MED/SURG "],
                "LocationType" => ["EMERGENCY", "WARD"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::S_STAFF_S_STAFF,
            df!("StaffSID" => [50i64], "StaffName" => ["DOC,ALPHA"]).unwrap(),
        );
        // 1 discharged stay; 2 active stay (extended); 3 orphan patient;
        // 4 discharge before admit; 5 stay duplicated by Cerner 3005.
        lake.put_bronze(
            &c::INPAT_INPATIENT,
            frame(vec![
                Column::new("InpatientSID".into(), [1i64, 2, 3, 4, 5]),
                Column::new("PatientSID".into(), [1001i64, 1001, 99999999, 1001, 2001]),
                named(
                    dt(&[
                        Some("2025-12-01 08:00"),
                        Some("2025-11-20 22:00"),
                        Some("2025-12-01 08:00"),
                        Some("2025-10-10 08:00"),
                        Some("2025-06-01 10:00"),
                    ]),
                    "AdmitDateTime",
                ),
                Column::new(
                    "AdmitLocationSID".into(),
                    [Some(1i64), Some(1), None, None, None],
                ),
                Column::new(
                    "AdmittingProviderSID".into(),
                    [Some(50i64), None, None, None, None],
                ),
                Column::new(
                    "AdmitDiagnosisICD10".into(),
                    [Some("j18.9 "), None, None, None, None],
                ),
                named(
                    dt(&[
                        Some("2025-12-04 11:00"),
                        None,
                        None,
                        Some("2025-10-01 08:00"),
                        Some("2025-06-03 10:00"),
                    ]),
                    "DischargeDateTime",
                ),
                Column::new(
                    "DischargeDateSID".into(),
                    [Some(20251204i64), None, None, None, None],
                ),
                Column::new(
                    "DischargeWardLocationSID".into(),
                    [Some(2i64), None, None, None, None],
                ),
                Column::new(
                    "DischargeDiagnosisICD10".into(),
                    [Some("J18.9"), None, None, None, None],
                ),
                Column::new(
                    "DischargeDiagnosis".into(),
                    [
                        Some("PNEUMONIA, UNSPECIFIED ORGANISM"),
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                Column::new(
                    "DischargeDisposition".into(),
                    [Some("HOME"), None, None, None, None],
                ),
                Column::new(
                    "LengthOfStay".into(),
                    [Some(3i64), None, None, None, Some(2)],
                ),
                Column::new(
                    "EncounterStatus".into(),
                    [Some("Discharged"), Some("Active"), None, None, None],
                ),
                Column::new("Sta3n".into(), [508i64, 508, 508, 508, 508]),
            ]),
        );
        // 3001 inpatient at Seattle (no FacilityName → Dim.Sta3n); 3002
        // outpatient; 3003 inactive; 3004 unknown ICN; 3005 duplicate of
        // stay 5; 3006 null ICN.
        lake.put_bronze(
            &c::ENC_MILL_ENCOUNTER,
            frame(vec![
                Column::new(
                    "EncounterSID".into(),
                    [3001i64, 3002, 3003, 3004, 3005, 3006],
                ),
                Column::new("PersonSID".into(), [2001i64, 2001, 2001, 9, 3001, 2001]),
                Column::new(
                    "PatientICN".into(),
                    [
                        Some("ICN100001"),
                        Some("ICN100001 "),
                        Some("ICN100001"),
                        Some("ICN999999"),
                        Some("ICN200001"),
                        None,
                    ],
                ),
                Column::new("Sta3n".into(), ["663", "648", "663", "663", "687", "663"]),
                Column::new(
                    "FacilityName".into(),
                    [
                        None,
                        Some("Portland VA Medical Center"),
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                Column::new(
                    "EncounterType".into(),
                    [
                        "INPATIENT",
                        "outpatient",
                        "OUTPATIENT",
                        "OUTPATIENT",
                        "INPATIENT",
                        "OUTPATIENT",
                    ],
                ),
                named(
                    dt(&[
                        Some("2025-03-01 09:15"),
                        Some("2025-12-15 10:00"),
                        Some("2025-12-15 10:00"),
                        Some("2025-12-15 10:00"),
                        Some("2025-06-01 10:00:30"),
                        Some("2025-12-15 10:00"),
                    ]),
                    "EncounterDate",
                ),
                named(
                    dt(&[
                        Some("2025-03-01 09:15"),
                        None,
                        None,
                        None,
                        Some("2025-06-01 10:00:30"),
                        None,
                    ]),
                    "AdmitDate",
                ),
                named(
                    dt(&[
                        Some("2025-03-06 12:00"),
                        None,
                        None,
                        None,
                        Some("2025-06-03 10:00"),
                        None,
                    ]),
                    "DischargeDate",
                ),
                Column::new(
                    "LocationName".into(),
                    [
                        "4 WEST MEDICINE",
                        "PRIMARY CARE CLINIC",
                        "X",
                        "X",
                        "4 WEST MEDICINE",
                        "X",
                    ],
                ),
                Column::new(
                    "LocationType".into(),
                    [
                        "INPATIENT UNIT",
                        "CLINIC",
                        "CLINIC",
                        "CLINIC",
                        "INPATIENT UNIT",
                        "CLINIC",
                    ],
                ),
                Column::new(
                    "ProviderName".into(),
                    ["SMITH, ANN MD", "LEE, JO MD", "X", "X", "X", "X"],
                ),
                Column::new(
                    "ProviderSID".into(),
                    [900001i64, 900002, 900003, 900004, 900005, 900006],
                ),
                Column::new("IsActive".into(), [true, true, false, true, true, true]),
            ]),
        );
        lake
    }

    fn row(df: &DataFrame, system: &str, id: &str) -> DataFrame {
        let out = df
            .clone()
            .lazy()
            .filter(
                col("source_system")
                    .eq(lit(system))
                    .and(col("source_id").eq(lit(id))),
            )
            .collect()
            .unwrap();
        assert_eq!(out.height(), 1, "{system}:{id}");
        out
    }

    fn text(df: &DataFrame, c: &str) -> Option<String> {
        common::texts(df, c).unwrap()[0].clone()
    }

    fn int(df: &DataFrame, c: &str) -> Option<i64> {
        common::ints(df, c).unwrap()[0]
    }

    fn flag(df: &DataFrame, c: &str) -> bool {
        df.column(c).unwrap().bool().unwrap().get(0).unwrap()
    }

    fn assert_serving_shape(ctx: &Ctx, out: &Output, df: &DataFrame) {
        for c in df.columns() {
            let sc = out
                .table
                .column(c.name())
                .unwrap_or_else(|| panic!("{} not in {}", c.name(), out.table.qualified()));
            let want = common::serving_dtype(sc.ty);
            assert_eq!(c.dtype(), &want, "{}", c.name());
        }
        let done = crate::load::finish_frame(ctx, out, df.clone()).unwrap();
        for sc in out.table.columns {
            let c = done
                .column(sc.name)
                .unwrap_or_else(|_| panic!("missing {}", sc.name));
            if !sc.nullable {
                assert_eq!(c.null_count(), 0, "{} has NULLs", sc.name);
            }
        }
        assert_eq!(done.width(), out.table.columns.len());
    }

    #[test]
    fn encounters_end_to_end() {
        let lake = lake();
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        let df = lake.ctx.gold("encounters/encounters_final").unwrap();
        assert_serving_shape(&lake.ctx, &PIPELINE.outputs[0], &df);

        let mut q: Vec<(String, String, String)> = lake
            .ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_table, q.source_id, q.reason))
            .collect();
        q.sort();
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            q,
            vec![
                s(ENCOUNTER, "3003", "inactive"),
                s(ENCOUNTER, "3004", "unknown patient"),
                s(ENCOUNTER, "3005", "cross-source duplicate"),
                s(ENCOUNTER, "3006", "unknown patient"),
                s(INPATIENT, "3", "unknown patient"),
                s(INPATIENT, "4", "discharge before admission"),
            ]
        );
        assert_eq!(df.height(), 5);

        let r = row(&df, "CDWWork", "1");
        assert_eq!(text(&r, "patient_key").as_deref(), Some("ICN100001"));
        assert_eq!(int(&r, "inpatient_id"), Some(1));
        assert_eq!(text(&r, "encounter_type").as_deref(), Some("INPATIENT"));
        assert_eq!(
            text(&r, "admit_location_name").as_deref(),
            Some("ATL EMERGENCY")
        );
        assert_eq!(
            text(&r, "admit_location_type").as_deref(),
            Some("EMERGENCY")
        );
        assert_eq!(
            text(&r, "discharge_location_name").as_deref(),
            Some("7A MED/SURG")
        );
        assert_eq!(text(&r, "discharge_location_type").as_deref(), Some("WARD"));
        assert_eq!(
            text(&r, "admitting_provider_name").as_deref(),
            Some("DOC,ALPHA")
        );
        assert_eq!(int(&r, "admitting_provider_id"), Some(50));
        assert_eq!(text(&r, "admit_diagnosis_code").as_deref(), Some("J18.9"));
        assert_eq!(
            text(&r, "discharge_diagnosis_text").as_deref(),
            Some("PNEUMONIA, UNSPECIFIED ORGANISM")
        );
        assert_eq!(text(&r, "discharge_disposition").as_deref(), Some("HOME"));
        assert_eq!(int(&r, "discharge_date_id"), Some(20251204));
        assert_eq!(int(&r, "length_of_stay"), Some(3));
        assert_eq!(int(&r, "total_days"), Some(3));
        assert_eq!(text(&r, "encounter_status").as_deref(), Some("Discharged"));
        assert_eq!(
            text(&r, "admission_category").as_deref(),
            Some("Short Stay")
        );
        assert!(!flag(&r, "is_active"));
        assert!(flag(&r, "is_recent"));
        assert!(!flag(&r, "is_extended_stay"));
        assert_eq!(text(&r, "sta3n").as_deref(), Some("508"));
        assert_eq!(
            text(&r, "facility_name").as_deref(),
            Some("(508) Atlanta, GA")
        );
        assert_eq!(text(&r, "data_source").as_deref(), Some("CDWWork"));

        let r = row(&df, "CDWWork", "2");
        assert!(flag(&r, "is_active") && flag(&r, "is_recent") && flag(&r, "is_extended_stay"));
        assert_eq!(
            text(&r, "admission_category").as_deref(),
            Some("Active Admission")
        );
        assert_eq!(text(&r, "encounter_status").as_deref(), Some("Active"));
        assert_eq!(int(&r, "length_of_stay"), None);
        assert_eq!(int(&r, "total_days"), Some(29));

        // The CDWWork stay won over its CDWWork2 copy.
        let r = row(&df, "CDWWork", "5");
        assert_eq!(text(&r, "patient_key").as_deref(), Some("ICN200001"));
        assert!(!flag(&r, "is_recent"));

        let r = row(&df, "CDWWork2", "3001");
        assert_eq!(int(&r, "inpatient_id"), Some(3001));
        assert_eq!(text(&r, "patient_key").as_deref(), Some("ICN100001"));
        assert_eq!(int(&r, "length_of_stay"), Some(5));
        assert_eq!(
            text(&r, "admission_category").as_deref(),
            Some("Standard Stay")
        );
        assert_eq!(
            text(&r, "facility_name").as_deref(),
            Some("(663) Seattle, WA")
        );
        assert_eq!(
            text(&r, "admitting_provider_name").as_deref(),
            Some("SMITH, ANN MD")
        );
        assert_eq!(int(&r, "admitting_provider_id"), Some(900001));
        assert_eq!(
            text(&r, "admit_location_name").as_deref(),
            Some("4 WEST MEDICINE")
        );
        assert_eq!(text(&r, "data_source").as_deref(), Some("CDWWork2"));
        assert!(!flag(&r, "is_recent"));

        let r = row(&df, "CDWWork2", "3002");
        assert_eq!(text(&r, "encounter_type").as_deref(), Some("OUTPATIENT"));
        assert_eq!(
            text(&r, "admission_category").as_deref(),
            Some("OUTPATIENT")
        );
        assert_eq!(text(&r, "encounter_status").as_deref(), Some("Completed"));
        assert_eq!(
            text(&r, "facility_name").as_deref(),
            Some("Portland VA Medical Center")
        );
        assert!(!flag(&r, "is_active") && flag(&r, "is_recent"));

        let keys: Vec<(Option<String>, Option<i64>)> = common::texts(&df, "patient_key")
            .unwrap()
            .into_iter()
            .zip(common::ints(&df, "admit_datetime").unwrap())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);

        // Rerun is identical.
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        assert!(
            lake.ctx
                .gold("encounters/encounters_final")
                .unwrap()
                .equals_missing(&df)
        );
    }
}
