//! Vitals: CDWWork `Vital.VitalSign` (+ `Dim.VitalType`, `Dim.VitalQualifier`,
//! `Vital.VitalSignQualifier`) and CDWWork2 `VitalMill.VitalResult`, plus
//! calculated BMI rows → `clinical.patient_vitals`.
//!
//! Silver harmonises both sources into one schema keyed by ICN (never by a
//! SID across databases): vital types are resolved to the catalogue name and
//! abbreviation (`domain::vitals::VitalType`), values are expressed in the
//! catalogue unit (lb, in, °F, …) with `metric_value` in kg, cm or °C — the
//! CDWWork2 rows, which carry pounds/inches/°F and no metric value, are
//! converted so BMI can be computed from them. Qualifiers become a JSON
//! array string `[{"qualifier_type":…,"qualifier_name":…}]` (every
//! qualifier recorded on the reading, in `VitalSignQualifierSID` order;
//! `"[]"` when none).
//!
//! Exclusions (all quarantined, never silently dropped): `EnteredInError =
//! 'Y'` (`entered in error`), `IsInvalid = 'Y'` (`invalid`), CDWWork2
//! `IsActive = 0` (`inactive`), facts whose patient is unknown (`unknown
//! patient`: a PatientSID without an SPatient ICN, or a CDWWork2 ICN absent
//! from SPatient), rows without a taken date (`missing taken date`) or
//! vital type (`unknown vital type`), and physiologically impossible values
//! (`implausible value`, `domain::vitals::plausible`). A row without any
//! readable value is kept, unflagged.
//!
//! Dedup policy: within a source every SID is one reading (no dedup). Across
//! sources, a CDWWork2 reading with the same ICN, vital type, taken time
//! truncated to the minute and the same value (systolic/diastolic for blood
//! pressure, otherwise the value in the catalogue unit rounded to 0.1) as a
//! CDWWork reading is the same measurement seen twice: **the CDWWork row is
//! kept** because it carries what the CDWWork2 row lacks (qualifiers,
//! location id/type, entering staff, a native metric value), and the
//! CDWWork2 row is quarantined as `cross-source duplicate`.
//!
//! Gold adds `abnormal_flag` (`domain::vitals::abnormal_flag`; no value → no
//! flag) and one BMI row per weight: the patient's latest height (by taken
//! time, any source) × each weight, `bmi = kg / m²` via `domain::vitals::bmi`,
//! `data_source`/`source_system` `CALCULATED`, `source_id` `<weight
//! source_system>:<weight source_id>`, flag via `bmi_flag`.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::vitals::{self as dv, Reading, VitalType};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};

pub static PIPELINE: Pipeline = Pipeline {
    name: "vitals",
    tables: &[
        &c::DIM_VITAL_TYPE,
        &c::VITAL_VITAL_SIGN,
        &c::DIM_VITAL_QUALIFIER,
        &c::VITAL_VITAL_SIGN_QUALIFIER,
        &c::VITAL_MILL_VITAL_RESULT,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: "vitals/vitals_final",
        table: &store::catalog::PATIENT_VITALS,
    }],
};

const DOMAIN: &str = "vitals";
const VITAL_SIGN: &str = "Vital.VitalSign";
const VITAL_RESULT: &str = "VitalMill.VitalResult";
const CALCULATED: &str = "CALCULATED";

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

fn null_of(dt: DataType) -> Expr {
    lit(NULL).cast(dt)
}

/// The harmonised silver columns, in order, before the per-row rules.
fn harmonised(lf: LazyFrame, exprs: Vec<Expr>) -> LazyFrame {
    lf.select(exprs)
}

/// `x` rounded to `places` decimals.
fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Qualifier JSON per VitalSignSID: each reading's JSON array once, in one
/// string column (the last entry is `"[]"`, for readings without any), and
/// the entry of every VitalSignSID that has qualifiers. Readings take their
/// value by index, so the JSON text is never copied per row.
fn qualifier_json(ctx: &Ctx) -> Result<(HashMap<i64, IdxSize>, StringChunked)> {
    let dim = ctx
        .bronze(&c::DIM_VITAL_QUALIFIER)?
        .select([
            col("VitalQualifierSID")
                .cast(DataType::Int64)
                .alias("__qsid"),
            clean_upper("QualifierType").alias("__qtype"),
            clean_upper("VitalQualifier").alias("__qname"),
        ])
        .unique_stable(Some(cols(["__qsid"])), UniqueKeepStrategy::First);
    let links = ctx
        .bronze(&c::VITAL_VITAL_SIGN_QUALIFIER)?
        .select([
            col("VitalSignQualifierSID")
                .cast(DataType::Int64)
                .alias("__link"),
            col("VitalSignSID").cast(DataType::Int64).alias("__vsid"),
            col("VitalQualifierSID")
                .cast(DataType::Int64)
                .alias("__qsid"),
        ])
        .join(
            dim,
            [col("__qsid")],
            [col("__qsid")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("__vsid")
                .is_not_null()
                .and(col("__qname").is_not_null()),
        )
        .sort(
            ["__vsid", "__link"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col("__vsid"), col("__qtype"), col("__qname")])
        .collect()?;
    let sids = links.column("__vsid")?.cast(&DataType::Int64)?;
    let types = links.column("__qtype")?.cast(&DataType::String)?;
    let names = links.column("__qname")?.cast(&DataType::String)?;
    let mut index: HashMap<i64, IdxSize> = HashMap::new();
    let mut json = StringChunkedBuilder::new("qualifiers".into(), 0);
    let mut entries: IdxSize = 0;
    // The readings' qualifiers are consecutive rows (sorted by reading).
    let mut current: Option<i64> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut finish = |sid: Option<i64>, buf: &mut Vec<u8>| -> Result<()> {
        if let Some(sid) = sid {
            buf.push(b']');
            json.append_value(std::str::from_utf8(buf)?);
            index.insert(sid, entries);
            entries += 1;
        }
        buf.clear();
        Ok(())
    };
    for ((sid, t), n) in sids
        .i64()?
        .iter()
        .zip(types.str()?.iter())
        .zip(names.str()?.iter())
    {
        let (Some(sid), Some(n)) = (sid, n) else {
            continue;
        };
        if current != Some(sid) {
            finish(current, &mut buf)?;
            current = Some(sid);
            buf.push(b'[');
        } else {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"qualifier_type":"#);
        serde_json::to_writer(&mut buf, &t)?;
        buf.extend_from_slice(br#","qualifier_name":"#);
        serde_json::to_writer(&mut buf, &n)?;
        buf.push(b'}');
    }
    finish(current, &mut buf)?;
    json.append_value("[]");
    Ok((index, json.finish()))
}

/// Quarantines the live rows of `df` flagged in `bad` (under their
/// `source_id`) and marks them dead in `alive`.
fn drop_where(
    ctx: &Ctx,
    table: &str,
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
        ctx.quarantine(DOMAIN, table, out, reason, detail);
    }
    Ok(())
}

/// CDWWork readings in the harmonised raw schema: every row of the bronze
/// table, decoded and joined once, with `alive` false for the rows
/// quarantined here (entered in error, invalid, unknown patient).
fn cdwwork(ctx: &Ctx) -> Result<(DataFrame, Vec<bool>)> {
    let mut raw = ctx.bronze(&c::VITAL_VITAL_SIGN)?.with_columns([
        col("VitalSignSID").cast(DataType::Int64),
        clean_upper("EnteredInError")
            .eq(lit("Y"))
            .fill_null(lit(false))
            .alias("__eie"),
        clean_upper("IsInvalid")
            .eq(lit("Y"))
            .fill_null(lit(false))
            .alias("__invalid"),
    ]);
    // Columns nothing below reads, not decoded at all (the largest table of
    // the CDW).
    let schema = raw.collect_schema()?;
    let unused: Vec<&str> = [
        "EnteredInError",
        "IsInvalid",
        "CreatedDateTimeUTC",
        "UpdatedDateTimeUTC",
        "SourceSystem",
        "LoadDateTime",
    ]
    .into_iter()
    .filter(|c| schema.contains(c))
    .collect();
    let lf = raw
        .drop(cols(unused))
        .with_column(col("PatientSID").cast(DataType::Int64).alias("__join_sid"))
        .join(
            common::patient_icn(ctx)?,
            [col("__join_sid")],
            [col("__sid")],
            JoinArgs::new(JoinType::Left),
        )
        .drop(cols(["__join_sid"]));

    let types = ctx
        .bronze(&c::DIM_VITAL_TYPE)?
        .select([
            col("VitalTypeSID")
                .cast(DataType::Int64)
                .alias("__type_sid"),
            clean_upper("VitalType").alias("__type_raw"),
            clean_upper("Abbreviation").alias("__abbr_raw"),
            clean("UnitOfMeasure").alias("__unit_raw"),
        ])
        .unique_stable(Some(cols(["__type_sid"])), UniqueKeepStrategy::First);
    let lf = lf.join(
        types,
        [col("VitalTypeSID").cast(DataType::Int64)],
        [col("__type_sid")],
        JoinArgs::new(JoinType::Left),
    );
    let lf = common::lookup(
        lf,
        col("LocationSID").cast(DataType::Int64),
        common::locations(ctx)?,
        "__location_sid",
        &[
            ("location_name", "location_name"),
            ("location_type", "location_type"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("EnteredByStaffSID").cast(DataType::Int64),
        common::staff_names(ctx)?,
        "__staff_sid",
        &[("staff_name", "entered_by")],
    );
    let mut df = harmonised(
        lf,
        vec![
            col("patient_icn"),
            lit("CDWWork").alias("source_system"),
            col("VitalSignSID")
                .cast(DataType::String)
                .alias("source_id"),
            col("VitalSignSID").alias("vital_sign_id"),
            col("__type_raw"),
            col("__abbr_raw"),
            col("__unit_raw"),
            col("VitalSignTakenDateTime")
                .cast(ts_type())
                .alias("taken_datetime"),
            col("VitalSignEnteredDateTime")
                .cast(ts_type())
                .alias("entered_datetime"),
            clean("ResultValue").alias("result_value"),
            col("NumericValue")
                .cast(DataType::Float64)
                .alias("numeric_value"),
            col("Systolic").cast(DataType::Int64).alias("systolic"),
            col("Diastolic").cast(DataType::Int64).alias("diastolic"),
            col("MetricValue")
                .cast(DataType::Float64)
                .alias("metric_value"),
            lit("[]").alias("qualifiers"),
            col("LocationSID")
                .cast(DataType::Int64)
                .alias("location_id"),
            col("location_name"),
            col("location_type"),
            col("entered_by"),
            int_text("Sta3n").alias("sta3n"),
            lit("CDWWork").alias("data_source"),
            col("__eie"),
            col("__invalid"),
        ],
    )
    .collect()?;
    let mut alive = vec![true; df.height()];
    let eie = df.drop_in_place("__eie")?;
    drop_where(
        ctx,
        VITAL_SIGN,
        &df,
        &mut alive,
        eie.bool()?,
        "entered in error",
        "EnteredInError = 'Y'",
    )?;
    drop(eie);
    let invalid = df.drop_in_place("__invalid")?;
    drop_where(
        ctx,
        VITAL_SIGN,
        &df,
        &mut alive,
        invalid.bool()?,
        "invalid",
        "IsInvalid = 'Y'",
    )?;
    drop(invalid);
    let unknown = df.column("patient_icn")?.is_null();
    drop_where(
        ctx,
        VITAL_SIGN,
        &df,
        &mut alive,
        &unknown,
        "unknown patient",
        "PatientSID has no SPatient row with an ICN",
    )?;
    drop(unknown);

    let (index, json) = qualifier_json(ctx)?;
    let none = (json.len() - 1) as IdxSize;
    let ids = df.column("vital_sign_id")?.cast(&DataType::Int64)?;
    let at: Vec<IdxSize> = ids
        .i64()?
        .iter()
        .map(|sid| sid.and_then(|s| index.get(&s).copied()).unwrap_or(none))
        .collect();
    drop(index);
    drop(ids);
    let q = json.take(&IdxCa::from_vec("qualifiers".into(), at))?;
    drop(json);
    common::with_series(&mut df, q.into_series())?;
    Ok((df, alive))
}

/// CDWWork2 readings in the harmonised raw schema.
fn cdwwork2(ctx: &Ctx) -> Result<DataFrame> {
    let raw = ctx
        .bronze(&c::VITAL_MILL_VITAL_RESULT)?
        .with_columns([
            col("VitalResultSID").cast(DataType::Int64),
            clean("PatientICN").alias("patient_icn"),
        ])
        .collect()?;
    let raw = common::quarantine_where(
        ctx,
        DOMAIN,
        VITAL_RESULT,
        raw,
        "VitalResultSID",
        common::Check {
            bad: col("IsActive").cast(DataType::Boolean).not(),
            reason: "inactive",
            detail: "IsActive = 0",
        },
    )?;
    let df = common::resolve_icns(
        ctx,
        DOMAIN,
        VITAL_RESULT,
        raw.lazy(),
        "patient_icn",
        "VitalResultSID",
    )?;
    Ok(harmonised(
        df.lazy(),
        vec![
            col("patient_icn"),
            lit("CDWWork2").alias("source_system"),
            col("VitalResultSID")
                .cast(DataType::String)
                .alias("source_id"),
            col("VitalResultSID").alias("vital_sign_id"),
            clean_upper("VitalTypeName").alias("__type_raw"),
            null_of(DataType::String).alias("__abbr_raw"),
            clean("UnitName").alias("__unit_raw"),
            col("TakenDateTime").cast(ts_type()).alias("taken_datetime"),
            col("EnteredDateTime")
                .cast(ts_type())
                .alias("entered_datetime"),
            clean("ResultValue").alias("result_value"),
            col("NumericValue")
                .cast(DataType::Float64)
                .alias("numeric_value"),
            col("Systolic").cast(DataType::Int64).alias("systolic"),
            col("Diastolic").cast(DataType::Int64).alias("diastolic"),
            null_of(DataType::Float64).alias("metric_value"),
            lit("[]").alias("qualifiers"),
            null_of(DataType::Int64).alias("location_id"),
            clean("LocationName").alias("location_name"),
            null_of(DataType::String).alias("location_type"),
            null_of(DataType::String).alias("entered_by"),
            clean("Sta3n").alias("sta3n"),
            lit("CDWWork2").alias("data_source"),
        ],
    )
    .collect()?)
}

/// Value in the catalogue unit and metric value, from a value recorded in
/// `unit` (either the catalogue unit or its metric counterpart).
fn convert(vt: Option<VitalType>, value: f64, unit: Option<&str>) -> (f64, Option<f64>) {
    let u = unit
        .unwrap_or("")
        .trim()
        .trim_start_matches('°')
        .to_ascii_lowercase();
    match vt {
        Some(VitalType::Weight) if matches!(u.as_str(), "kg" | "kgs" | "kilograms") => {
            (dv::kg_to_lb(value), Some(value))
        }
        Some(VitalType::Weight) => (value, Some(dv::lb_to_kg(value))),
        Some(VitalType::Height) if matches!(u.as_str(), "cm" | "centimeters" | "centimetres") => {
            (dv::cm_to_in(value), Some(value))
        }
        Some(VitalType::Height) => (value, Some(dv::in_to_cm(value))),
        Some(VitalType::Temperature) if matches!(u.as_str(), "c" | "degc" | "celsius") => {
            (dv::c_to_f(value), Some(value))
        }
        Some(VitalType::Temperature) => (value, Some(dv::f_to_c(value))),
        _ => (value, None),
    }
}

/// The per-row vital rules of silver: type, unit, values, plausibility and
/// the cross-source dedup key. Adds `vital_type`, `vital_abbr` and
/// `unit_of_measure` and rewrites the value columns; returns which live rows
/// (`alive`) hold an implausible value, and hands `on_key` the row and dedup
/// key of every live, plausible row that has one. Values are read in place
/// and written straight into the new columns (the largest frame of the ETL:
/// no per-row strings).
fn normalise(
    df: &mut DataFrame,
    alive: &[bool],
    mut on_key: impl FnMut(usize, &str),
) -> Result<Vec<bool>> {
    use std::fmt::Write as _;
    let n = df.height();
    let text = |df: &DataFrame, name: &str| -> Result<Column> {
        Ok(df.column(name)?.cast(&DataType::String)?)
    };
    let typed = |df: &DataFrame, name: &str, dt: DataType| -> Result<Column> {
        Ok(df.column(name)?.cast(&dt)?)
    };
    let type_raw = text(df, "__type_raw")?;
    let abbr_raw = text(df, "__abbr_raw")?;
    let unit_raw = text(df, "__unit_raw")?;
    let icn = text(df, "patient_icn")?;
    let result = text(df, "result_value")?;
    let taken = typed(df, "taken_datetime", DataType::Int64)?;
    let numeric = typed(df, "numeric_value", DataType::Float64)?;
    let sys = typed(df, "systolic", DataType::Int64)?;
    let dia = typed(df, "diastolic", DataType::Int64)?;
    let metric = typed(df, "metric_value", DataType::Float64)?;
    let (mut type_it, mut abbr_it, mut unit_it, mut icn_it, mut result_it) = (
        type_raw.str()?.iter(),
        abbr_raw.str()?.iter(),
        unit_raw.str()?.iter(),
        icn.str()?.iter(),
        result.str()?.iter(),
    );
    let (mut taken_it, mut numeric_it, mut sys_it, mut dia_it, mut metric_it) = (
        taken.i64()?.iter(),
        numeric.f64()?.iter(),
        sys.i64()?.iter(),
        dia.i64()?.iter(),
        metric.f64()?.iter(),
    );
    let mut vtype_b = StringChunkedBuilder::new("vital_type".into(), n);
    let mut vabbr_b = StringChunkedBuilder::new("vital_abbr".into(), n);
    let mut unit_b = StringChunkedBuilder::new("unit_of_measure".into(), n);
    let mut result_b = StringChunkedBuilder::new("result_value".into(), n);
    let mut numeric_b = PrimitiveChunkedBuilder::<Float64Type>::new("numeric_value".into(), n);
    let mut sys_b = PrimitiveChunkedBuilder::<Int64Type>::new("systolic".into(), n);
    let mut dia_b = PrimitiveChunkedBuilder::<Int64Type>::new("diastolic".into(), n);
    let mut metric_b = PrimitiveChunkedBuilder::<Float64Type>::new("metric_value".into(), n);
    let mut implausible = Vec::with_capacity(n);
    let (mut text_buf, mut key) = (String::new(), String::new());
    for (i, live) in alive.iter().enumerate().take(n) {
        let raw = type_it.next().flatten();
        let abbr = abbr_it.next().flatten();
        let unit_in = unit_it.next().flatten();
        let patient = icn_it.next().flatten();
        let result_in = result_it.next().flatten();
        let at = taken_it.next().flatten();
        let mut numeric = numeric_it.next().flatten();
        let mut sys = sys_it.next().flatten();
        let mut dia = dia_it.next().flatten();
        let mut metric = metric_it.next().flatten();

        let vt = raw.and_then(|r| r.parse::<VitalType>().ok());
        let vtype = match vt {
            Some(v) => Some(v.name()),
            None => raw,
        };
        vtype_b.append_option(vtype);
        match (abbr, vt, raw) {
            (Some(a), _, _) => vabbr_b.append_value(a),
            (None, Some(v), _) => vabbr_b.append_value(v.abbr()),
            (None, None, Some(r)) => vabbr_b.append_value(dv::abbreviation_for(r)),
            (None, None, None) => vabbr_b.append_null(),
        }
        match vt {
            Some(v) => unit_b.append_value(v.unit()),
            None => unit_b.append_option(unit_in),
        }
        let mut converted = None;
        let mut reading = Reading::Missing;
        if vt == Some(VitalType::BloodPressure) {
            if (sys.is_none() || dia.is_none())
                && let Some((s, d)) = result_in.and_then(|t| dv::parse_blood_pressure(t).ok())
            {
                sys = Some(i64::from(s));
                dia = Some(i64::from(d));
            }
            if let (Some(s), Some(d)) = (sys, dia) {
                reading = match (u16::try_from(s), u16::try_from(d)) {
                    (Ok(s), Ok(d)) => Reading::from((s, d)),
                    // Out of any representable range: certainly impossible.
                    _ => Reading::from((u16::MAX, u16::MAX)),
                };
            }
        } else {
            if numeric.is_none()
                && let (Some(v), Some(t)) = (vt, result_in)
                && let Reading::Value(x) = Reading::parse(v, t)
            {
                numeric = Some(x);
            }
            if let Some(x) = numeric {
                let (catalogue, m) = convert(vt, x, unit_in);
                if (catalogue - x).abs() > f64::EPSILON {
                    numeric = Some(round_to(catalogue, 2));
                    converted = Some(catalogue);
                }
                if metric.is_none() {
                    metric = m.map(|m| round_to(m, 2));
                }
                reading = Reading::Value(catalogue);
            }
        }
        match converted {
            Some(c) => {
                text_buf.clear();
                write!(text_buf, "{c:.1}")?;
                result_b.append_value(&text_buf);
            }
            None => result_b.append_option(result_in),
        }
        numeric_b.append_option(numeric);
        sys_b.append_option(sys);
        dia_b.append_option(dia);
        metric_b.append_option(metric);
        let bad = *live
            && match (vt, reading) {
                (Some(_), Reading::Missing) | (None, _) => false,
                (Some(v), r) => !dv::plausible(v, r),
            };
        implausible.push(bad);
        if !*live || bad {
            continue;
        }
        if let (Some(p), Some(t), Some(at)) = (patient, vtype, at) {
            key.clear();
            match reading {
                Reading::BloodPressure {
                    systolic,
                    diastolic,
                } => write!(
                    key,
                    "{p}|{t}|{}|{systolic}/{diastolic}",
                    at.div_euclid(60_000_000)
                )?,
                Reading::Value(x) => write!(key, "{p}|{t}|{}|{x:.1}", at.div_euclid(60_000_000))?,
                Reading::Missing => continue,
            }
            on_key(i, &key);
        }
    }
    common::with_series(df, vtype_b.finish().into_series())?;
    common::with_series(df, vabbr_b.finish().into_series())?;
    common::with_series(df, unit_b.finish().into_series())?;
    common::with_series(df, result_b.finish().into_series())?;
    common::with_series(df, numeric_b.finish().into_series())?;
    common::with_series(df, sys_b.finish().into_series())?;
    common::with_series(df, dia_b.finish().into_series())?;
    common::with_series(df, metric_b.finish().into_series())?;
    Ok(implausible)
}

/// Station code → facility name for every row (`Dim.Sta3n`, the first name
/// of each code), taken from a small dictionary.
fn facility_column(ctx: &Ctx, sta3n: &Column) -> Result<Column> {
    let names = common::facility_names(ctx)?.collect()?;
    let keys = names.column("__sta3n")?.cast(&DataType::String)?;
    let values = names.column("facility_name")?.cast(&DataType::String)?;
    let mut dict = StringChunkedBuilder::new("facility_name".into(), names.height() + 1);
    let mut index: HashMap<&str, IdxSize> = HashMap::new();
    for (k, v) in keys.str()?.iter().zip(values.str()?.iter()) {
        let Some(k) = k else {
            continue;
        };
        if index.contains_key(k) {
            continue;
        }
        index.insert(k, index.len() as IdxSize);
        dict.append_option(v);
    }
    let none = index.len() as IdxSize;
    dict.append_null();
    let codes = sta3n.cast(&DataType::String)?;
    let at: Vec<IdxSize> = codes
        .str()?
        .iter()
        .map(|s| s.and_then(|s| index.get(s).copied()).unwrap_or(none))
        .collect();
    let dict = dict.finish();
    Ok(dict
        .take(&IdxCa::from_vec("".into(), at))?
        .into_series()
        .into_column())
}

/// The silver columns, in order (`facility_name` follows `sta3n`).
const SILVER_COLUMNS: [&str; 21] = [
    "patient_icn",
    "source_system",
    "source_id",
    "vital_sign_id",
    "vital_type",
    "vital_abbr",
    "taken_datetime",
    "entered_datetime",
    "result_value",
    "numeric_value",
    "systolic",
    "diastolic",
    "metric_value",
    "unit_of_measure",
    "qualifiers",
    "location_id",
    "location_name",
    "location_type",
    "entered_by",
    "sta3n",
    "data_source",
];

/// Both sources are harmonised separately (CDWWork, the largest table of the
/// CDW, is decoded and joined once, and never filtered until the final
/// gather); rows to drop are tracked in `alive` masks and quarantined in the
/// order of the rules: per rule, CDWWork rows then CDWWork2 rows.
fn silver(ctx: &Ctx) -> Result<()> {
    let (mut a, mut alive_a) = cdwwork(ctx)?;
    let mut b = cdwwork2(ctx)?;
    let mut alive_b = vec![true; b.height()];
    for (column, reason, detail) in [
        (
            "taken_datetime",
            "missing taken date",
            "the reading has no taken date/time",
        ),
        (
            "__type_raw",
            "unknown vital type",
            "the vital type does not resolve to a name",
        ),
    ] {
        let bad = a.column(column)?.is_null();
        drop_where(ctx, VITAL_SIGN, &a, &mut alive_a, &bad, reason, detail)?;
        let bad = b.column(column)?.is_null();
        drop_where(ctx, VITAL_RESULT, &b, &mut alive_b, &bad, reason, detail)?;
    }
    // Cross-source dedup keys: CDWWork2's (few) are collected, CDWWork's are
    // only looked up among them.
    let mut keys_b: Vec<(usize, String)> = Vec::new();
    let implausible_b = normalise(&mut b, &alive_b, |i, k| keys_b.push((i, k.to_string())))?;
    let wanted: HashSet<&str> = keys_b.iter().map(|(_, k)| k.as_str()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let implausible_a = normalise(&mut a, &alive_a, |_, k| {
        if wanted.contains(k) && !seen.contains(k) {
            seen.insert(k.to_string());
        }
    })?;
    drop(wanted);
    let (reason, detail) = (
        "implausible value",
        "value outside the physiologically possible range (domain::vitals::plausible)",
    );
    let bad = BooleanChunked::from_slice("".into(), &implausible_a);
    drop_where(ctx, VITAL_SIGN, &a, &mut alive_a, &bad, reason, detail)?;
    let bad = BooleanChunked::from_slice("".into(), &implausible_b);
    drop_where(ctx, VITAL_RESULT, &b, &mut alive_b, &bad, reason, detail)?;
    // Cross-source dedup: CDWWork wins.
    let mut dup = vec![false; b.height()];
    for (i, k) in &keys_b {
        dup[*i] = seen.contains(k);
    }
    drop((keys_b, seen));
    drop_where(
        ctx,
        VITAL_RESULT,
        &b,
        &mut alive_b,
        &BooleanChunked::from_slice("".into(), &dup),
        "cross-source duplicate",
        "same ICN, vital type, minute and value as a CDWWork reading (CDWWork kept)",
    )?;

    let mut df = a.select(SILVER_COLUMNS)?;
    drop(a);
    df.vstack_mut(&b.select(SILVER_COLUMNS)?)?;
    drop(b);
    let facility = facility_column(ctx, df.column("sta3n")?)?;
    let at = df
        .get_column_index("sta3n")
        .ok_or_else(|| anyhow::anyhow!("vitals silver has no sta3n"))?;
    df.insert_column(at + 1, facility)?;
    // The kept rows in silver order, gathered a row group at a time as they
    // are written (the frame is never copied whole).
    let keep: BooleanChunked = alive_a.iter().chain(&alive_b).copied().collect();
    let order = common::sort_order(
        &df,
        &[
            "patient_icn",
            "taken_datetime",
            "source_system",
            "source_id",
        ],
        Some(keep),
    )?;
    ctx.write_silver_ordered(DOMAIN, "vitals_merged", df, order.as_ref())
}

/// Abnormal flag per row from the harmonised type and values.
fn flags(df: &DataFrame) -> Result<Series> {
    let types = df.column("vital_type")?.cast(&DataType::String)?;
    let numeric = df.column("numeric_value")?.cast(&DataType::Float64)?;
    let sys = df.column("systolic")?.cast(&DataType::Int64)?;
    let dia = df.column("diastolic")?.cast(&DataType::Int64)?;
    let mut out = StringChunkedBuilder::new("abnormal_flag".into(), df.height());
    for (((t, x), s), d) in types
        .str()?
        .iter()
        .zip(numeric.f64()?.iter())
        .zip(sys.i64()?.iter())
        .zip(dia.i64()?.iter())
    {
        let flag = (|| {
            let vt = t?.parse::<VitalType>().ok()?;
            let reading = if vt == VitalType::BloodPressure {
                let s = u16::try_from(s?).ok()?;
                let d = u16::try_from(d?).ok()?;
                Reading::from((s, d))
            } else {
                Reading::from(x)
            };
            dv::abnormal_flag(vt, reading).map(|f| f.as_str())
        })();
        out.append_option(flag);
    }
    Ok(out.finish().into_series())
}

/// One BMI row per weight with a metric value, using the patient's latest
/// height (any source).
fn bmi_rows(vitals: &DataFrame) -> Result<DataFrame> {
    // Only the columns the heights need, and only the weight rows: the
    // whole frame is never run through a query.
    let heights = vitals
        .select([
            "patient_icn",
            "vital_abbr",
            "metric_value",
            "taken_datetime",
            "source_system",
            "source_id",
        ])?
        .lazy()
        .filter(
            col("vital_abbr")
                .eq(lit("HT"))
                .and(col("metric_value").is_not_null()),
        )
        .sort(
            [
                "patient_icn",
                "taken_datetime",
                "source_system",
                "source_id",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false, false])
                .with_maintain_order(true),
        )
        .unique_stable(Some(cols(["patient_icn"])), UniqueKeepStrategy::First)
        .select([
            col("patient_icn").alias("__h_icn"),
            col("metric_value").alias("__height_cm"),
        ]);
    let weight = vitals
        .select(["vital_abbr", "metric_value"])?
        .lazy()
        .select([col("vital_abbr")
            .eq(lit("WT"))
            .and(col("metric_value").is_not_null())
            .fill_null(lit(false))])
        .collect()?;
    let mut df = vitals
        .filter(weight.columns()[0].bool()?)?
        .lazy()
        .join(
            heights,
            [col("patient_icn")],
            [col("__h_icn")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()?;
    let kg = common::floats(&df, "metric_value")?;
    let cm = common::floats(&df, "__height_cm")?;
    let bmi: Vec<Option<f64>> = kg
        .iter()
        .zip(&cm)
        .map(|(k, h)| dv::bmi((*k)?, (*h)?))
        .collect();
    let flag: Vec<Option<String>> = bmi
        .iter()
        .map(|b| b.and_then(dv::bmi_flag).map(|f| f.as_str().to_string()))
        .collect();
    let text: Vec<Option<String>> = bmi.iter().map(|b| b.map(|b| format!("{b:.1}"))).collect();
    let rounded: Vec<Option<f64>> = bmi.iter().map(|b| b.map(|b| round_to(b, 2))).collect();
    common::with_series(&mut df, common::series("bmi", rounded.clone()))?;
    common::with_series(&mut df, common::series("numeric_value", rounded))?;
    common::with_series(&mut df, common::series("result_value", text))?;
    common::with_series(&mut df, common::series("abnormal_flag", flag))?;
    Ok(df
        .lazy()
        .filter(col("bmi").is_not_null())
        .with_columns([
            concat_str([col("source_system"), col("source_id")], ":", false).alias("source_id"),
            lit(CALCULATED).alias("source_system"),
            lit(CALCULATED).alias("data_source"),
            null_of(DataType::Int64).alias("vital_sign_id"),
            lit(VitalType::Bmi.name()).alias("vital_type"),
            lit(VitalType::Bmi.abbr()).alias("vital_abbr"),
            null_of(DataType::Int64).alias("systolic"),
            null_of(DataType::Int64).alias("diastolic"),
            null_of(DataType::Float64).alias("metric_value"),
            lit(VitalType::Bmi.unit()).alias("unit_of_measure"),
            lit("[]").alias("qualifiers"),
            null_of(DataType::String).alias("entered_by"),
        ])
        .collect()?)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let table = &store::catalog::PATIENT_VITALS;
    let mut df = ctx
        .silver(DOMAIN, "vitals_merged")?
        .with_column(null_of(DataType::Float64).alias("bmi"))
        .collect()?;
    let f = flags(&df)?;
    common::with_series(&mut df, f)?;
    let bmi = bmi_rows(&df)?;
    let with_key = |mut d: DataFrame| -> Result<DataFrame> {
        let key = d
            .column("patient_icn")?
            .clone()
            .with_name("patient_key".into());
        d.with_column(key)?;
        common::serving_frame(d, table)
    };
    let mut all = with_key(df)?;
    all.vstack_mut(&with_key(bmi)?)?;
    let order = common::sort_order(
        &all,
        &[
            "patient_key",
            "taken_datetime",
            "source_system",
            "source_id",
        ],
        None,
    )?;
    ctx.write_gold_ordered("vitals/vitals_final", all, order.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, ts};

    fn dt(v: &[&str]) -> Series {
        let micros: Vec<i64> = v
            .iter()
            .map(|s| ts(s).and_utc().timestamp_micros())
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
            df!(
                "PatientSID" => [1001i64, 1004, 2001],
                "PatientICN" => ["ICN100001 ", "ICN100004", "ICN200001"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!("Sta3n" => [508i64, 663], "Sta3nName" => ["(508) Atlanta, GA", "(663) Seattle, WA"], "Active" => ["Y", "Y"])
                .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_LOCATION,
            df!("LocationSID" => [10i64], "LocationName" => ["ATL PRIMARY CARE "], "LocationType" => ["CLINIC"]).unwrap(),
        );
        lake.put_bronze(
            &c::S_STAFF_S_STAFF,
            df!("StaffSID" => [77i64], "StaffName" => ["NURSE,ANN"]).unwrap(),
        );
        lake.put_bronze(
            &c::DIM_VITAL_TYPE,
            df!(
                "VitalTypeSID" => [1i64, 2, 3, 5, 6, 7, 8],
                "VitalType" => ["BLOOD PRESSURE", "TEMPERATURE", "PULSE", "HEIGHT", "WEIGHT", "PAIN", "PULSE OXIMETRY"],
                "Abbreviation" => ["BP", "T", "P", "HT", "WT", "PN", "POX"],
                "UnitOfMeasure" => ["mmHg", "F", "/min", "in", "lb", "0-10", "%"],
                "IsActive" => [true, true, true, true, true, true, true],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_VITAL_QUALIFIER,
            df!(
                "VitalQualifierSID" => [1i64, 4, 11],
                "VitalQualifier" => ["SITTING", "L ARM", "PEDIATRIC"],
                "QualifierType" => ["POSITION", "SITE", "CUFF SIZE"],
                "IsActive" => [true, true, false],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::VITAL_VITAL_SIGN_QUALIFIER,
            df!(
                "VitalSignQualifierSID" => [2i64, 1, 3],
                "VitalSignSID" => [1i64, 1, 2],
                "VitalQualifierSID" => [4i64, 1, 11],
            )
            .unwrap(),
        );
        // VistA readings.
        // 1 BP critical (185/125) with two qualifiers; 2 temp high; 3 pulse low;
        // 4 height 70 in (old); 5 height 72 in (latest); 6 weight 200 lb;
        // 7 entered in error; 8 invalid 300/20; 9 orphan patient;
        // 10 implausible pulse 9999 not flagged invalid; 11 pain with no value;
        // 12 BP 120/80 duplicated by Cerner row 5001.
        lake.put_bronze(
            &c::VITAL_VITAL_SIGN,
            frame(vec![
                Column::new(
                    "VitalSignSID".into(),
                    [1i64, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                ),
                Column::new(
                    "PatientSID".into(),
                    [
                        1004i64, 1004, 1004, 1004, 1004, 1004, 1004, 1004, 99999999, 1004, 1004,
                        1001,
                    ],
                ),
                Column::new(
                    "VitalTypeSID".into(),
                    [1i64, 2, 3, 5, 5, 6, 3, 1, 1, 3, 7, 1],
                ),
                named(
                    dt(&[
                        "2025-12-01 09:00",
                        "2025-12-01 09:01",
                        "2025-12-01 09:02",
                        "2024-01-01 09:00",
                        "2025-06-01 09:00",
                        "2025-12-01 09:05",
                        "2025-12-01 09:06",
                        "2025-12-01 09:07",
                        "2025-12-16 10:30",
                        "2025-12-01 09:08",
                        "2025-12-01 09:09",
                        "2025-11-01 10:05:20",
                    ]),
                    "VitalSignTakenDateTime",
                ),
                Column::new(
                    "ResultValue".into(),
                    [
                        Some("185/125"),
                        Some("100.8"),
                        Some("52"),
                        Some("70"),
                        Some("72"),
                        Some("200.0"),
                        Some("70"),
                        Some("300/20"),
                        Some("122/78"),
                        Some("9999"),
                        None,
                        Some("120/80"),
                    ],
                ),
                Column::new(
                    "NumericValue".into(),
                    [
                        None,
                        Some(100.8f64),
                        Some(52.0),
                        Some(70.0),
                        Some(72.0),
                        Some(200.0),
                        Some(70.0),
                        None,
                        None,
                        Some(9999.0),
                        None,
                        None,
                    ],
                ),
                Column::new(
                    "Systolic".into(),
                    [
                        Some(185i64),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        Some(300),
                        Some(122),
                        None,
                        None,
                        Some(120),
                    ],
                ),
                Column::new(
                    "Diastolic".into(),
                    [
                        Some(125i64),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        Some(20),
                        Some(78),
                        None,
                        None,
                        Some(80),
                    ],
                ),
                Column::new(
                    "MetricValue".into(),
                    [
                        None,
                        Some(38.22f64),
                        None,
                        Some(177.8),
                        Some(182.88),
                        Some(90.72),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                Column::new(
                    "LocationSID".into(),
                    [
                        Some(10i64),
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
                        Some(10),
                    ],
                ),
                Column::new(
                    "EnteredByStaffSID".into(),
                    [
                        Some(77i64),
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
                        None,
                    ],
                ),
                Column::new(
                    "IsInvalid".into(),
                    ["N", "N", "N", "N", "N", "N", "N", "Y", "N", "N", "N", "n"],
                ),
                Column::new(
                    "EnteredInError".into(),
                    ["N", "N", "N", "N", "N", "N", "Y ", "N", "N", "N", "N", "N"],
                ),
                Column::new(
                    "Sta3n".into(),
                    [
                        508i64, 508, 508, 508, 508, 508, 508, 508, 508, 508, 508, 508,
                    ],
                ),
            ]),
        );
        // Cerner readings: 5001 duplicate BP of VistA 12 (same minute);
        // 5002 weight 185 lbs for ICN100001 (no metric); 5003 height for
        // ICN100001 in inches; 5004 inactive; 5005 orphan ICN; 5006 temp °F;
        // 5007 BP same minute as 12 but a different value (kept).
        lake.put_bronze(
            &c::VITAL_MILL_VITAL_RESULT,
            frame(vec![
                Column::new(
                    "VitalResultSID".into(),
                    [5001i64, 5002, 5003, 5004, 5005, 5006, 5007],
                ),
                Column::new(
                    "PersonSID".into(),
                    [2001i64, 2001, 2001, 2001, 9999999, 2001, 2001],
                ),
                Column::new(
                    "PatientICN".into(),
                    [
                        Some("ICN100001"),
                        Some("ICN100001"),
                        Some("ICN100001"),
                        Some("ICN100001"),
                        Some("ICN999999"),
                        Some("ICN100001"),
                        Some("ICN100001"),
                    ],
                ),
                Column::new(
                    "VitalTypeName".into(),
                    [
                        "Blood Pressure",
                        "Weight",
                        "Height",
                        "Pulse",
                        "Pulse",
                        "Temperature",
                        "Blood Pressure",
                    ],
                ),
                Column::new(
                    "ResultValue".into(),
                    ["120/80", "185", "70", "70", "70", "98.6", "130/85"],
                ),
                Column::new(
                    "NumericValue".into(),
                    [
                        None,
                        Some(185.0f64),
                        Some(70.0),
                        Some(70.0),
                        Some(70.0),
                        Some(98.6),
                        None,
                    ],
                ),
                Column::new(
                    "Systolic".into(),
                    [Some(120i64), None, None, None, None, None, Some(130)],
                ),
                Column::new(
                    "Diastolic".into(),
                    [Some(80i64), None, None, None, None, None, Some(85)],
                ),
                Column::new(
                    "UnitName".into(),
                    ["mmHg", "lbs", "in", "bpm", "bpm", "°F", "mmHg"],
                ),
                named(
                    dt(&[
                        "2025-11-01 10:05:50",
                        "2025-11-01 10:06",
                        "2025-11-01 10:07",
                        "2025-11-01 10:08",
                        "2025-12-16 10:30",
                        "2025-11-01 10:09",
                        "2025-11-01 10:05",
                    ]),
                    "TakenDateTime",
                ),
                Column::new("LocationName".into(), ["PRIMARY CARE CLINIC"; 7]),
                Column::new(
                    "Sta3n".into(),
                    ["648", "648", "648", "648", "663", "663", "648"],
                ),
                Column::new(
                    "IsActive".into(),
                    [true, true, true, false, true, true, true],
                ),
            ]),
        );
        lake
    }

    fn run(lake: &TestLake) -> DataFrame {
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        lake.ctx.gold("vitals/vitals_final").unwrap()
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

    fn float(df: &DataFrame, c: &str) -> Option<f64> {
        common::floats(df, c).unwrap()[0]
    }

    fn int(df: &DataFrame, c: &str) -> Option<i64> {
        common::ints(df, c).unwrap()[0]
    }

    pub(crate) fn assert_serving_shape(ctx: &Ctx, out: &Output, df: &DataFrame) {
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
    fn vitals_end_to_end() {
        let lake = lake();
        let df = run(&lake);
        assert_serving_shape(&lake.ctx, &PIPELINE.outputs[0], &df);

        // Quarantine: every exclusion recorded with its reason.
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
                s(VITAL_SIGN, "10", "implausible value"),
                s(VITAL_SIGN, "7", "entered in error"),
                s(VITAL_SIGN, "8", "invalid"),
                s(VITAL_SIGN, "9", "unknown patient"),
                s(VITAL_RESULT, "5001", "cross-source duplicate"),
                s(VITAL_RESULT, "5004", "inactive"),
                s(VITAL_RESULT, "5005", "unknown patient"),
            ]
        );

        // 8 VistA + 4 Cerner + BMI rows: VistA weight 6 (ICN100004) and Cerner 5002 (ICN100001).
        assert_eq!(df.height(), 8 + 4 + 2);

        let bp = row(&df, "CDWWork", "1");
        assert_eq!(text(&bp, "patient_key").as_deref(), Some("ICN100004"));
        assert_eq!(text(&bp, "vital_type").as_deref(), Some("BLOOD PRESSURE"));
        assert_eq!(text(&bp, "vital_abbr").as_deref(), Some("BP"));
        assert_eq!(text(&bp, "abnormal_flag").as_deref(), Some("CRITICAL"));
        assert_eq!(int(&bp, "systolic"), Some(185));
        assert_eq!(int(&bp, "vital_sign_id"), Some(1));
        assert_eq!(
            text(&bp, "qualifiers").as_deref(),
            Some(
                r#"[{"qualifier_type":"POSITION","qualifier_name":"SITTING"},{"qualifier_type":"SITE","qualifier_name":"L ARM"}]"#
            )
        );
        assert_eq!(
            text(&bp, "location_name").as_deref(),
            Some("ATL PRIMARY CARE")
        );
        assert_eq!(text(&bp, "location_type").as_deref(), Some("CLINIC"));
        assert_eq!(int(&bp, "location_id"), Some(10));
        assert_eq!(text(&bp, "entered_by").as_deref(), Some("NURSE,ANN"));
        assert_eq!(text(&bp, "sta3n").as_deref(), Some("508"));
        assert_eq!(
            text(&bp, "facility_name").as_deref(),
            Some("(508) Atlanta, GA")
        );
        assert_eq!(text(&bp, "data_source").as_deref(), Some("CDWWork"));
        assert_eq!(text(&bp, "unit_of_measure").as_deref(), Some("mmHg"));

        // Inactive qualifiers still describe the reading.
        let t = row(&df, "CDWWork", "2");
        assert_eq!(
            text(&t, "qualifiers").as_deref(),
            Some(r#"[{"qualifier_type":"CUFF SIZE","qualifier_name":"PEDIATRIC"}]"#)
        );
        assert_eq!(text(&t, "abnormal_flag").as_deref(), Some("HIGH"));
        assert_eq!(float(&t, "metric_value"), Some(38.22));
        assert_eq!(
            text(&row(&df, "CDWWork", "3"), "abnormal_flag").as_deref(),
            Some("LOW")
        );
        assert_eq!(
            text(&row(&df, "CDWWork", "3"), "qualifiers").as_deref(),
            Some("[]")
        );
        // Height and weight are never flagged; pain without a value is kept unflagged.
        assert_eq!(text(&row(&df, "CDWWork", "6"), "abnormal_flag"), None);
        let pain = row(&df, "CDWWork", "11");
        assert_eq!(text(&pain, "abnormal_flag"), None);
        assert_eq!(float(&pain, "numeric_value"), None);

        // Kept VistA BP 12 (won the dedup), Cerner 5007 differs in value: kept.
        assert_eq!(
            text(&row(&df, "CDWWork", "12"), "abnormal_flag").as_deref(),
            Some("NORMAL")
        );
        let other = row(&df, "CDWWork2", "5007");
        assert_eq!(text(&other, "abnormal_flag").as_deref(), Some("NORMAL"));
        assert_eq!(text(&other, "result_value").as_deref(), Some("130/85"));

        // Cerner weight: lb kept as value, kg computed into metric_value.
        let wt = row(&df, "CDWWork2", "5002");
        assert_eq!(text(&wt, "patient_key").as_deref(), Some("ICN100001"));
        assert_eq!(text(&wt, "vital_type").as_deref(), Some("WEIGHT"));
        assert_eq!(text(&wt, "vital_abbr").as_deref(), Some("WT"));
        assert_eq!(text(&wt, "unit_of_measure").as_deref(), Some("lb"));
        assert_eq!(float(&wt, "numeric_value"), Some(185.0));
        assert_eq!(float(&wt, "metric_value"), Some(83.91));
        assert_eq!(text(&wt, "qualifiers").as_deref(), Some("[]"));
        assert_eq!(
            text(&wt, "location_name").as_deref(),
            Some("PRIMARY CARE CLINIC")
        );
        // Portland 648 is not in Dim.Sta3n: no name, but the row is kept.
        assert_eq!(text(&wt, "sta3n").as_deref(), Some("648"));
        assert_eq!(text(&wt, "facility_name"), None);
        let temp = row(&df, "CDWWork2", "5006");
        assert_eq!(text(&temp, "vital_abbr").as_deref(), Some("T"));
        assert_eq!(float(&temp, "metric_value"), Some(37.0));
        assert_eq!(text(&temp, "abnormal_flag").as_deref(), Some("NORMAL"));
        assert_eq!(
            text(&temp, "facility_name").as_deref(),
            Some("(663) Seattle, WA")
        );
        let ht = row(&df, "CDWWork2", "5003");
        assert_eq!(float(&ht, "metric_value"), Some(177.8));

        // BMI from a Cerner weight and a Cerner height (ICN100001).
        let b = row(&df, CALCULATED, "CDWWork2:5002");
        let want = dv::bmi(83.91, 177.8).unwrap();
        assert_eq!(text(&b, "vital_type").as_deref(), Some("BMI"));
        assert_eq!(text(&b, "vital_abbr").as_deref(), Some("BMI"));
        assert_eq!(text(&b, "data_source").as_deref(), Some(CALCULATED));
        assert_eq!(text(&b, "result_value"), Some(format!("{want:.1}")));
        assert_eq!(float(&b, "bmi"), Some(round_to(want, 2)));
        assert_eq!(int(&b, "vital_sign_id"), None);
        assert_eq!(text(&b, "abnormal_flag").as_deref(), Some("HIGH"));
        assert_eq!(text(&b, "unit_of_measure").as_deref(), Some("kg/m^2"));
        // BMI uses the latest height (72 in), not the older 70 in.
        let b = row(&df, CALCULATED, "CDWWork:6");
        let want = dv::bmi(90.72, 182.88).unwrap();
        assert_eq!(float(&b, "numeric_value"), Some(round_to(want, 2)));
        assert_eq!(text(&b, "abnormal_flag").as_deref(), Some("HIGH"));
        assert_eq!(text(&b, "patient_key").as_deref(), Some("ICN100004"));

        // Deterministic order: patient, then time.
        let keys = common::texts(&df, "patient_key").unwrap();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);

        // Rerun gives identical gold.
        let again = run(&lake);
        assert!(again.equals_missing(&df));
    }
}
