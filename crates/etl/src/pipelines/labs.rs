//! Labs: CDWWork `Chem.LabChem` (+ `Dim.LabTest` restricted to active
//! chemistry tests — `IsActive = 1 AND VistaPackage = 'CH'` — and
//! `Dim.Location` for the collection location) → `clinical.patient_labs`.
//!
//! CDWWork only; patients are resolved PatientSID → ICN through SPatient.
//! Facility names come from `Dim.Sta3n`.
//!
//! Silver cleans and joins; gold applies the rules of `domain::labs`:
//! - `result_numeric` = `ResultNumeric`, else parsed from the result text
//!   (`<0.1` → 0.09, `>5000` → 5001, plain numbers, anything else NULL);
//! - reference range: `RefRange` text (else the test's `RefRangeText`) parsed
//!   as `low - high`; when the text is one-sided or free text, the test's
//!   `RefRangeLow` / `RefRangeHigh` are used;
//! - `abnormal_flag` normalised to H, L, H*, L*, PANIC (`HIGH`/`HH`/
//!   `CRITICAL HIGH` → H*, `LOW`/`LL`/`CRITICAL LOW` → L*, `ABNORMAL`/`A` → H;
//!   trimmed, case-insensitive); `is_abnormal` = a flag is present,
//!   `is_critical` = H*, L* or PANIC. No flag is invented from the range.
//!
//! Exclusions (quarantined): `not a chemistry result` (the fact's own
//! VistaPackage is not CH), `unknown lab test` (LabTestSID is not an active
//! CH test), `unknown patient`, `missing accession number`, `missing
//! collection date`.
//!
//! Dedup policy: one row per LabChemSID (the source key; should a SID repeat,
//! the first row read is kept and the others quarantined as `duplicate`).
//! Single source, so there is no cross-source dedup; results of the same test
//! on the same accession are distinct LabChem rows and are all kept.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::labs::{self as dl, LabFlag};
use polars::prelude::*;
use std::collections::HashSet;

pub static PIPELINE: Pipeline = Pipeline {
    name: "labs",
    tables: &[&c::DIM_LAB_TEST, &c::CHEM_LAB_CHEM],
    silver,
    gold,
    outputs: &[Output {
        gold: "labs/labs_final",
        table: &store::catalog::PATIENT_LABS,
    }],
};

const DOMAIN: &str = "labs";
const LAB_CHEM: &str = "Chem.LabChem";

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

/// Active chemistry tests.
fn lab_tests(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx
        .bronze(&c::DIM_LAB_TEST)?
        .filter(
            col("IsActive")
                .cast(DataType::Boolean)
                .fill_null(lit(false))
                .and(
                    clean_upper("VistaPackage")
                        .eq(lit("CH"))
                        .fill_null(lit(false)),
                ),
        )
        .select([
            col("LabTestSID").cast(DataType::Int64).alias("__test_sid"),
            clean("LabTestName").alias("lab_test_name"),
            clean("LabTestCode").alias("lab_test_code"),
            clean("LoincCode").alias("loinc_code"),
            clean("PanelName").alias("panel_name"),
            clean("Units").alias("__test_units"),
            clean("RefRangeLow").alias("__test_low"),
            clean("RefRangeHigh").alias("__test_high"),
            clean("RefRangeText").alias("__test_range"),
        ])
        .unique_stable(Some(cols(["__test_sid"])), UniqueKeepStrategy::First)
        .with_column(lit(true).alias("__test_known")))
}

/// Quarantines the live rows flagged in `bad` (under their `source_id`) and
/// marks them dead in `alive`.
fn drop_where(
    ctx: &Ctx,
    df: &DataFrame,
    alive: &mut [bool],
    bad: &BooleanChunked,
    reason: &str,
    detail: &str,
) -> Result<()> {
    let ids = df.column("source_id")?.cast(&DataType::String)?;
    let mut out = Vec::new();
    for ((live, id), bad) in alive.iter_mut().zip(ids.str()?.iter()).zip(bad.iter()) {
        if *live && bad.unwrap_or(false) {
            *live = false;
            out.push(id.unwrap_or_default().to_string());
        }
    }
    if !out.is_empty() {
        ctx.quarantine(DOMAIN, LAB_CHEM, out, reason, detail);
    }
    Ok(())
}

/// Every LabChem row is decoded and joined once; the rules then mark rows
/// dead in turn (each rule only sees the rows the earlier ones kept, and
/// quarantines them in source order), and the live rows are written in
/// silver order, gathered a row group at a time.
fn silver(ctx: &Ctx) -> Result<()> {
    let lf = ctx
        .bronze(&c::CHEM_LAB_CHEM)?
        .with_columns([
            col("LabChemSID").cast(DataType::Int64),
            clean_upper("VistaPackage")
                .neq(lit("CH"))
                .fill_null(lit(false))
                .alias("__not_ch"),
        ])
        .join(
            lab_tests(ctx)?,
            [col("LabTestSID").cast(DataType::Int64)],
            [col("__test_sid")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("PatientSID").cast(DataType::Int64).alias("__join_sid"))
        .join(
            common::patient_icn(ctx)?,
            [col("__join_sid")],
            [col("__sid")],
            JoinArgs::new(JoinType::Left),
        )
        .drop(cols(["__join_sid"]))
        .with_columns([
            clean("AccessionNumber").alias("accession_number"),
            col("CollectionDateTime")
                .cast(ts_type())
                .alias("collection_datetime"),
        ]);
    let lf = common::lookup(
        lf,
        col("LocationSID").cast(DataType::Int64),
        common::locations(ctx)?,
        "__location_sid",
        &[
            ("location_name", "collection_location"),
            ("location_type", "collection_location_type"),
        ],
    );
    let lf = common::lookup(
        lf.with_column(int_text("Sta3n").alias("sta3n")),
        col("sta3n"),
        common::facility_names(ctx)?,
        "__sta3n",
        &[("facility_name", "facility_name")],
    );
    let mut df = lf
        .select([
            col("patient_icn"),
            lit("CDWWork").alias("source_system"),
            col("LabChemSID").cast(DataType::String).alias("source_id"),
            col("LabChemSID").alias("lab_chem_sid"),
            col("LabTestSID")
                .cast(DataType::Int64)
                .alias("lab_test_sid"),
            col("lab_test_name"),
            col("lab_test_code"),
            col("loinc_code"),
            col("panel_name"),
            col("accession_number"),
            clean("Result").alias("result_value"),
            col("ResultNumeric")
                .cast(DataType::Float64)
                .alias("result_numeric"),
            clean("ResultUnit")
                .fill_null(col("__test_units"))
                .alias("result_unit"),
            col("AbnormalFlag").alias("flag_raw"),
            clean("RefRange")
                .fill_null(col("__test_range"))
                .alias("ref_range_text"),
            col("__test_low").alias("test_ref_low"),
            col("__test_high").alias("test_ref_high"),
            col("collection_datetime"),
            col("ResultDateTime")
                .cast(ts_type())
                .alias("result_datetime"),
            col("LocationSID")
                .cast(DataType::Int64)
                .alias("location_id"),
            col("collection_location"),
            col("collection_location_type"),
            clean("SpecimenType").alias("specimen_type"),
            col("sta3n"),
            col("facility_name"),
            col("PerformingLabSID")
                .cast(DataType::Int64)
                .alias("performing_lab_sid"),
            col("OrderingProviderSID")
                .cast(DataType::Int64)
                .alias("ordering_provider_sid"),
            lit("CH").alias("vista_package"),
            col("__not_ch"),
            col("__test_known").is_null().alias("__test_unknown"),
        ])
        .collect()?;
    let mut alive = vec![true; df.height()];
    // Dedup on the source key.
    let mut seen = HashSet::new();
    let repeat: BooleanChunked = df
        .column("lab_chem_sid")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .map(|s| s.is_some() && !seen.insert(s))
        .collect();
    drop(seen);
    drop_where(
        ctx,
        &df,
        &mut alive,
        &repeat,
        "duplicate",
        "LabChemSID already read",
    )?;
    drop(repeat);
    let not_ch = df.drop_in_place("__not_ch")?;
    drop_where(
        ctx,
        &df,
        &mut alive,
        not_ch.bool()?,
        "not a chemistry result",
        "VistaPackage is not CH",
    )?;
    drop(not_ch);
    let unknown_test = df.drop_in_place("__test_unknown")?;
    drop_where(
        ctx,
        &df,
        &mut alive,
        unknown_test.bool()?,
        "unknown lab test",
        "LabTestSID is not an active chemistry (CH) test in Dim.LabTest",
    )?;
    drop(unknown_test);
    for (column, reason, detail) in [
        (
            "patient_icn",
            "unknown patient",
            "PatientSID has no SPatient row with an ICN",
        ),
        (
            "accession_number",
            "missing accession number",
            "AccessionNumber is empty",
        ),
        (
            "collection_datetime",
            "missing collection date",
            "CollectionDateTime is NULL",
        ),
    ] {
        let bad = df.column(column)?.is_null();
        drop_where(ctx, &df, &mut alive, &bad, reason, detail)?;
    }
    let order = common::sort_order(
        &df,
        &["patient_icn", "collection_datetime", "lab_chem_sid"],
        Some(alive.into_iter().collect()),
    )?;
    ctx.write_silver_ordered(DOMAIN, "lab_chem", df, order.as_ref())
}

/// A plain decimal bound from `Dim.LabTest` (`"3.5"`); anything else → None.
fn bound(text: Option<&str>) -> Option<f64> {
    // parse_lab_result on a plain number is that number; reject `<`/`>`.
    let t = text?.trim();
    if t.starts_with(['<', '>']) {
        return None;
    }
    dl::parse_lab_result(t)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx.silver(DOMAIN, "lab_chem")?.collect()?;
    let n = df.height();
    let text = |name: &str| -> Result<Column> { Ok(df.column(name)?.cast(&DataType::String)?) };
    let (results, raw_flags, ranges, lows, highs) = (
        text("result_value")?,
        text("flag_raw")?,
        text("ref_range_text")?,
        text("test_ref_low")?,
        text("test_ref_high")?,
    );
    let numerics = df.column("result_numeric")?.cast(&DataType::Float64)?;
    let mut numeric = PrimitiveChunkedBuilder::<Float64Type>::new("result_numeric".into(), n);
    let mut flag = StringChunkedBuilder::new("abnormal_flag".into(), n);
    let (mut abnormal, mut critical) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut low = PrimitiveChunkedBuilder::<Float64Type>::new("ref_range_low".into(), n);
    let mut high = PrimitiveChunkedBuilder::<Float64Type>::new("ref_range_high".into(), n);
    for (((((result, x), raw_flag), range), l), h) in results
        .str()?
        .iter()
        .zip(numerics.f64()?.iter())
        .zip(raw_flags.str()?.iter())
        .zip(ranges.str()?.iter())
        .zip(lows.str()?.iter())
        .zip(highs.str()?.iter())
    {
        numeric.append_option(x.or_else(|| result.and_then(dl::parse_lab_result)));
        let f: Option<LabFlag> = raw_flag.and_then(dl::normalise);
        flag.append_option(f.map(|f| f.as_str()));
        abnormal.push(dl::is_abnormal(f));
        critical.push(dl::is_critical(f));
        match range.and_then(dl::parse_ref_range) {
            Some((l, h)) => {
                low.append_value(l);
                high.append_value(h);
            }
            None => {
                low.append_option(bound(l));
                high.append_option(bound(h));
            }
        }
    }
    drop((results, raw_flags, ranges, lows, highs, numerics));
    common::with_series(&mut df, numeric.finish().into_series())?;
    common::with_series(&mut df, flag.finish().into_series())?;
    common::with_series(&mut df, common::series("is_abnormal", abnormal))?;
    common::with_series(&mut df, common::series("is_critical", critical))?;
    common::with_series(&mut df, low.finish().into_series())?;
    common::with_series(&mut df, high.finish().into_series())?;
    let df = df
        .lazy()
        .with_column(col("patient_icn").alias("patient_key"))
        .collect()?;
    let df = common::serving_frame(df, &store::catalog::PATIENT_LABS)?;
    // Silver is already in this order: nothing is copied then.
    let order = common::sort_order(
        &df,
        &["patient_key", "collection_datetime", "lab_chem_sid"],
        None,
    )?;
    ctx.write_gold_ordered("labs/labs_final", df, order.as_ref())
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

    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!("PatientSID" => [1003i64], "PatientICN" => ["ICN100003"]).unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!("Sta3n" => [508i64], "Sta3nName" => ["(508) Atlanta, GA"]).unwrap(),
        );
        lake.put_bronze(
            &c::DIM_LOCATION,
            df!("LocationSID" => [30i64], "LocationName" => ["ATL LAB"], "LocationType" => ["LAB"])
                .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_LAB_TEST,
            frame(vec![
                Column::new("LabTestSID".into(), [2i64, 40, 43, 44, 46]),
                Column::new(
                    "LabTestName".into(),
                    ["Potassium", "PSA", "BNP", "Blood Culture", "CK-MB"],
                ),
                Column::new("LabTestCode".into(), ["K", "PSA", "BNP", "BCX", "CKMB"]),
                Column::new(
                    "LoincCode".into(),
                    ["2823-3", "2857-1", "30934-4", "600-7", "13969-1"],
                ),
                Column::new("PanelName".into(), [Some("BMP"), None, None, None, None]),
                Column::new(
                    "Units".into(),
                    [
                        Some("mmol/L"),
                        Some("ng/mL"),
                        Some("pg/mL"),
                        None,
                        Some("ng/mL"),
                    ],
                ),
                Column::new(
                    "RefRangeLow".into(),
                    [Some("3.5"), None, None, None, Some("0.0")],
                ),
                Column::new(
                    "RefRangeHigh".into(),
                    [Some("5.0"), Some("4.0"), Some("99"), None, Some("5.0")],
                ),
                Column::new(
                    "RefRangeText".into(),
                    [
                        Some("3.5-5.0 mmol/L"),
                        Some("<4.0 ng/mL"),
                        Some("<100 pg/mL"),
                        Some("No growth"),
                        Some("0.0-5.0 ng/mL"),
                    ],
                ),
                Column::new("VistaPackage".into(), ["CH", "CH", "CH", "MI", "CH"]),
                Column::new("IsActive".into(), [true, true, true, true, false]),
            ]),
        );
        // 1 critical K (HH); 2 normal K no flag; 3 PSA "<0.1" text, flag " l";
        // 4 BNP ">5000" flag PANIC; 5 orphan patient; 6 inactive test;
        // 7 microbiology package; 8 no accession; 9 "h " flag with RefRange
        // text from the fact; 10 HIGH spelled out (→ H*); 11 duplicate SID 1.
        lake.put_bronze(
            &c::CHEM_LAB_CHEM,
            frame(vec![
                Column::new("LabChemSID".into(), [1i64, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1]),
                Column::new(
                    "PatientSID".into(),
                    [
                        1003i64, 1003, 1003, 1003, 99999999, 1003, 1003, 1003, 1003, 1003, 1003,
                    ],
                ),
                Column::new(
                    "LabTestSID".into(),
                    [2i64, 2, 40, 43, 2, 46, 44, 2, 2, 2, 2],
                ),
                Column::new(
                    "AccessionNumber".into(),
                    [
                        Some("CH 1201 1"),
                        Some("CH 1101 2"),
                        Some("CH 1201 1"),
                        Some("CH 1201 1"),
                        Some("CH 0000 0"),
                        Some("X"),
                        Some("X"),
                        Some("  "),
                        Some("CH 1202 3"),
                        Some("CH 1203 4"),
                        Some("CH 1201 1"),
                    ],
                ),
                Column::new(
                    "Result".into(),
                    [
                        Some("6.4"),
                        Some("4.1"),
                        Some("<0.1"),
                        Some(">5000"),
                        Some("1.0"),
                        Some("1"),
                        Some("No growth"),
                        Some("4.0"),
                        Some("5.4"),
                        Some("5.6"),
                        Some("6.4"),
                    ],
                ),
                Column::new(
                    "ResultNumeric".into(),
                    [
                        Some(6.4f64),
                        Some(4.1),
                        None,
                        None,
                        Some(1.0),
                        Some(1.0),
                        None,
                        Some(4.0),
                        Some(5.4),
                        Some(5.6),
                        Some(6.4),
                    ],
                ),
                Column::new(
                    "ResultUnit".into(),
                    [
                        Some("mmol/L"),
                        None,
                        Some("ng/mL"),
                        Some("pg/mL"),
                        None,
                        None,
                        None,
                        None,
                        Some("mmol/L"),
                        Some("mmol/L"),
                        Some("mmol/L"),
                    ],
                ),
                Column::new(
                    "AbnormalFlag".into(),
                    [
                        Some("HH"),
                        None,
                        Some(" l"),
                        Some("PANIC"),
                        None,
                        None,
                        None,
                        None,
                        Some("h "),
                        Some("HIGH"),
                        Some("HH"),
                    ],
                ),
                Column::new(
                    "RefRange".into(),
                    [
                        Some("3.5 - 5.0"),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        Some("3.6 - 5.1"),
                        Some("3.5 - 5.0"),
                        Some("3.5 - 5.0"),
                    ],
                ),
                named(
                    dt(&[
                        Some("2025-12-01 08:00"),
                        Some("2025-11-01 08:00"),
                        Some("2025-12-01 08:00"),
                        Some("2025-12-01 08:00"),
                        Some("2025-12-16 10:30"),
                        Some("2025-12-01 08:00"),
                        Some("2025-12-01 08:00"),
                        Some("2025-12-01 08:00"),
                        Some("2025-12-02 08:00"),
                        Some("2025-12-03 08:00"),
                        Some("2025-12-01 08:00"),
                    ]),
                    "CollectionDateTime",
                ),
                named(
                    dt(&[
                        Some("2025-12-01 12:00"),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ]),
                    "ResultDateTime",
                ),
                Column::new(
                    "VistaPackage".into(),
                    [
                        Some("CH"),
                        Some("ch "),
                        Some("CH"),
                        None,
                        Some("CH"),
                        Some("CH"),
                        Some("MI"),
                        Some("CH"),
                        Some("CH"),
                        Some("CH"),
                        Some("CH"),
                    ],
                ),
                Column::new(
                    "LocationSID".into(),
                    [
                        Some(30i64),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                Column::new("Sta3n".into(), [508i64; 11]),
                Column::new("PerformingLabSID".into(), [508i64; 11]),
                Column::new(
                    "OrderingProviderSID".into(),
                    [
                        Some(5i64),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                Column::new("SpecimenType".into(), ["SERUM "; 11]),
            ]),
        );
        lake
    }

    fn row(df: &DataFrame, id: &str) -> DataFrame {
        let out = df
            .clone()
            .lazy()
            .filter(col("source_id").eq(lit(id)))
            .collect()
            .unwrap();
        assert_eq!(out.height(), 1, "{id}");
        out
    }

    fn text(df: &DataFrame, c: &str) -> Option<String> {
        common::texts(df, c).unwrap()[0].clone()
    }

    fn float(df: &DataFrame, c: &str) -> Option<f64> {
        common::floats(df, c).unwrap()[0]
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

    /// Dirt: every abnormal-flag spelling (any case, padded, inner spaces
    /// collapsed) is normalised to H, L, H*, L*, PANIC; blank is no flag.
    #[test]
    fn flag_spellings_are_normalised() {
        // (raw flag, normalised flag, critical)
        let cases: [(Option<&str>, Option<&str>, bool); 18] = [
            (Some("H"), Some("H"), false),
            (Some("h "), Some("H"), false),
            (Some("HIGH"), Some("H*"), true),
            (Some("H*"), Some("H*"), true),
            (Some("HH"), Some("H*"), true),
            (Some("CRITICAL HIGH"), Some("H*"), true),
            (Some(" critical  high"), Some("H*"), true),
            (Some("PANIC"), Some("PANIC"), true),
            (Some("A"), Some("H"), false),
            (Some("Abnormal"), Some("H"), false),
            (Some("L"), Some("L"), false),
            (Some(" l"), Some("L"), false),
            (Some("LOW"), Some("L*"), true),
            (Some("L*"), Some("L*"), true),
            (Some("LL"), Some("L*"), true),
            (Some("CRITICAL LOW"), Some("L*"), true),
            (Some("  "), None, false),
            (None, None, false),
        ];
        let n = cases.len();
        let lake = lake();
        lake.put_bronze(
            &c::CHEM_LAB_CHEM,
            frame(vec![
                Column::new("LabChemSID".into(), (1..=n as i64).collect::<Vec<_>>()),
                Column::new("PatientSID".into(), vec![1003i64; n]),
                Column::new("LabTestSID".into(), vec![2i64; n]),
                Column::new("AccessionNumber".into(), vec!["CH 1201 1"; n]),
                Column::new("Result".into(), vec!["5.0"; n]),
                Column::new(
                    "AbnormalFlag".into(),
                    cases.iter().map(|c| c.0).collect::<Vec<_>>(),
                ),
                named(dt(&vec![Some("2025-12-01 08:00"); n]), "CollectionDateTime"),
                Column::new("VistaPackage".into(), vec!["CH"; n]),
            ]),
        );
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        let df = lake.ctx.gold("labs/labs_final").unwrap();
        assert!(lake.ctx.quarantined(DOMAIN).is_empty());
        // Same patient and collection time: gold is in LabChemSID order.
        assert_eq!(
            common::ints(&df, "lab_chem_sid").unwrap(),
            (1..=n as i64).map(Some).collect::<Vec<_>>()
        );
        let bools = |c: &str| -> Vec<Option<bool>> {
            df.column(c).unwrap().bool().unwrap().iter().collect()
        };
        assert_eq!(
            common::texts(&df, "abnormal_flag").unwrap(),
            cases
                .iter()
                .map(|c| c.1.map(str::to_string))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            bools("is_abnormal"),
            cases
                .iter()
                .map(|c| Some(c.1.is_some()))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            bools("is_critical"),
            cases.iter().map(|c| Some(c.2)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn labs_end_to_end() {
        let lake = lake();
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        let df = lake.ctx.gold("labs/labs_final").unwrap();
        assert_serving_shape(&lake.ctx, &PIPELINE.outputs[0], &df);

        let mut q: Vec<(String, String)> = lake
            .ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_id, q.reason))
            .collect();
        q.sort();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            q,
            vec![
                s("1", "duplicate"),
                s("5", "unknown patient"),
                s("6", "unknown lab test"),
                s("7", "not a chemistry result"),
                s("8", "missing accession number"),
            ]
        );
        assert!(
            lake.ctx
                .quarantined(DOMAIN)
                .iter()
                .all(|q| q.source_table == LAB_CHEM)
        );
        assert_eq!(df.height(), 6);

        let r = row(&df, "1");
        assert_eq!(text(&r, "patient_key").as_deref(), Some("ICN100003"));
        assert_eq!(text(&r, "source_system").as_deref(), Some("CDWWork"));
        assert_eq!(int(&r, "lab_chem_sid"), Some(1));
        assert_eq!(int(&r, "lab_test_sid"), Some(2));
        assert_eq!(text(&r, "lab_test_name").as_deref(), Some("Potassium"));
        assert_eq!(text(&r, "lab_test_code").as_deref(), Some("K"));
        assert_eq!(text(&r, "loinc_code").as_deref(), Some("2823-3"));
        assert_eq!(text(&r, "panel_name").as_deref(), Some("BMP"));
        assert_eq!(text(&r, "accession_number").as_deref(), Some("CH 1201 1"));
        assert_eq!(text(&r, "result_value").as_deref(), Some("6.4"));
        assert_eq!(float(&r, "result_numeric"), Some(6.4));
        assert_eq!(text(&r, "abnormal_flag").as_deref(), Some("H*"));
        assert!(flag(&r, "is_abnormal") && flag(&r, "is_critical"));
        assert_eq!(text(&r, "ref_range_text").as_deref(), Some("3.5 - 5.0"));
        assert_eq!(float(&r, "ref_range_low"), Some(3.5));
        assert_eq!(float(&r, "ref_range_high"), Some(5.0));
        assert_eq!(int(&r, "location_id"), Some(30));
        assert_eq!(text(&r, "collection_location").as_deref(), Some("ATL LAB"));
        assert_eq!(text(&r, "collection_location_type").as_deref(), Some("LAB"));
        assert_eq!(text(&r, "specimen_type").as_deref(), Some("SERUM"));
        assert_eq!(text(&r, "sta3n").as_deref(), Some("508"));
        assert_eq!(
            text(&r, "facility_name").as_deref(),
            Some("(508) Atlanta, GA")
        );
        assert_eq!(int(&r, "performing_lab_sid"), Some(508));
        assert_eq!(int(&r, "ordering_provider_sid"), Some(5));
        assert_eq!(text(&r, "vista_package").as_deref(), Some("CH"));
        assert!(common::ints(&r, "result_datetime").unwrap()[0].is_some());

        // No flag: not abnormal; unit and range from the test definition.
        let r = row(&df, "2");
        assert_eq!(text(&r, "abnormal_flag"), None);
        assert!(!flag(&r, "is_abnormal") && !flag(&r, "is_critical"));
        assert_eq!(text(&r, "result_unit").as_deref(), Some("mmol/L"));
        assert_eq!(
            text(&r, "ref_range_text").as_deref(),
            Some("3.5-5.0 mmol/L")
        );
        assert_eq!(float(&r, "ref_range_low"), Some(3.5));
        assert_eq!(common::ints(&r, "result_datetime").unwrap()[0], None);

        // Text result below the reportable range; one-sided range from the dim.
        let r = row(&df, "3");
        assert_eq!(text(&r, "result_value").as_deref(), Some("<0.1"));
        assert!((float(&r, "result_numeric").unwrap() - 0.09).abs() < 1e-12);
        assert_eq!(text(&r, "abnormal_flag").as_deref(), Some("L"));
        assert!(flag(&r, "is_abnormal") && !flag(&r, "is_critical"));
        assert_eq!(text(&r, "ref_range_text").as_deref(), Some("<4.0 ng/mL"));
        assert_eq!(float(&r, "ref_range_low"), None);
        assert_eq!(float(&r, "ref_range_high"), Some(4.0));
        assert_eq!(text(&r, "panel_name"), None);

        let r = row(&df, "4");
        assert_eq!(float(&r, "result_numeric"), Some(5001.0));
        assert_eq!(text(&r, "abnormal_flag").as_deref(), Some("PANIC"));
        assert!(flag(&r, "is_critical"));

        let r = row(&df, "9");
        assert_eq!(text(&r, "abnormal_flag").as_deref(), Some("H"));
        assert!(!flag(&r, "is_critical"));
        assert_eq!(float(&r, "ref_range_low"), Some(3.6));
        assert_eq!(float(&r, "ref_range_high"), Some(5.1));

        assert_eq!(
            text(&row(&df, "10"), "abnormal_flag").as_deref(),
            Some("H*")
        );

        // Sorted by patient then collection time.
        let times = common::ints(&df, "collection_datetime").unwrap();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted);

        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        assert!(
            lake.ctx
                .gold("labs/labs_final")
                .unwrap()
                .equals_missing(&df)
        );
    }
}
