//! Lookups and helpers shared by the pipelines. Everything here reads bronze
//! dimensions from the lake: no step queries the CDW on the side.

use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog;
use polars::prelude::*;
use store::{ColType, ServingTable};

/// `trim(x)` with empty strings turned into NULL.
pub fn clean(name: &str) -> Expr {
    let e = col(name).str().strip_chars(lit(NULL));
    when(e.clone().str().len_chars().eq(lit(0)))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(e)
}

/// `upper(trim(x))`, empty → NULL.
pub fn clean_upper(name: &str) -> Expr {
    clean(name).str().to_uppercase()
}

/// `'Y'`/`'y'` → true, `'N'` → false, anything else → NULL.
pub fn yes_no(name: &str) -> Expr {
    let e = clean_upper(name);
    when(e.clone().eq(lit("Y")))
        .then(lit(true))
        .when(e.eq(lit("N")))
        .then(lit(false))
        .otherwise(lit(NULL).cast(DataType::Boolean))
}

/// Integer column rendered as text (for source ids and station codes).
pub fn int_text(name: &str) -> Expr {
    col(name).cast(DataType::String)
}

/// CDWWork PatientSID → ICN, from bronze `SPatient.SPatient`. ICNs are
/// trimmed; patients without one are dropped here (their facts are
/// quarantined as unknown patients).
pub fn patient_icn(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx
        .bronze(&catalog::S_PATIENT_S_PATIENT)?
        .select([
            col("PatientSID").cast(DataType::Int64).alias("__sid"),
            clean("PatientICN").alias("patient_icn"),
        ])
        .filter(col("patient_icn").is_not_null()))
}

/// Station code (text) → name, from bronze `Dim.Sta3n` (every row, active or
/// not: an inactive station still has a name).
pub fn facility_names(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx
        .bronze(&catalog::DIM_STA3N)?
        .select([
            int_text("Sta3n").alias("__sta3n"),
            clean("Sta3nName").alias("facility_name"),
        ])
        .unique_stable(None, UniqueKeepStrategy::First))
}

/// StaffSID → name, from bronze `SStaff.SStaff`.
pub fn staff_names(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx.bronze(&catalog::S_STAFF_S_STAFF)?.select([
        col("StaffSID").cast(DataType::Int64).alias("__staff_sid"),
        clean("StaffName").alias("staff_name"),
    ]))
}

/// LocationSID → name and type, from bronze `Dim.Location`.
pub fn locations(ctx: &Ctx) -> Result<LazyFrame> {
    Ok(ctx.bronze(&catalog::DIM_LOCATION)?.select([
        col("LocationSID")
            .cast(DataType::Int64)
            .alias("__location_sid"),
        clean("LocationName").alias("location_name"),
        clean("LocationType").alias("location_type"),
    ]))
}

/// Left-joins `lookup` (key column `lookup_key`) onto `lf` by the
/// expression `key`, renaming the looked-up columns (from, to). The lookup
/// is deduplicated on its key first (a dimension with a repeated key must not
/// multiply fact rows) and neither join key is left behind.
pub fn lookup(
    lf: LazyFrame,
    key: Expr,
    lookup: LazyFrame,
    lookup_key: &str,
    renames: &[(&str, &str)],
) -> LazyFrame {
    let mut exprs = vec![col(lookup_key).alias("__rk")];
    for (from, to) in renames {
        exprs.push(col(*from).alias(*to));
    }
    let right = lookup
        .select(exprs)
        .filter(col("__rk").is_not_null())
        .unique_stable(Some(cols(["__rk"])), UniqueKeepStrategy::First);
    lf.with_column(key.alias("__lk"))
        .join(
            right,
            [col("__lk")],
            [col("__rk")],
            // Keep both keys so they can be dropped by name (polars would
            // otherwise coalesce the right one away).
            JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns),
        )
        .drop(cols(["__lk", "__rk"]))
}

/// Attaches `patient_icn` to CDWWork fact rows by PatientSID. Rows whose
/// patient is unknown are removed and quarantined (reason `unknown patient`)
/// under their `id_col` value.
pub fn resolve_patients(
    ctx: &Ctx,
    domain: &str,
    table: &str,
    lf: LazyFrame,
    sid_col: &str,
    id_col: &str,
) -> Result<DataFrame> {
    let joined = lf
        .with_column(col(sid_col).cast(DataType::Int64).alias("__join_sid"))
        .join(
            patient_icn(ctx)?,
            [col("__join_sid")],
            [col("__sid")],
            JoinArgs::new(JoinType::Left),
        )
        .drop(cols(["__join_sid"]))
        .collect()?;
    let unknown = joined
        .clone()
        .lazy()
        .filter(col("patient_icn").is_null())
        .select([col(id_col).cast(DataType::String)])
        .collect()?;
    if unknown.height() > 0 {
        let ids: Vec<String> = unknown
            .column(id_col)?
            .str()?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect();
        ctx.quarantine(
            domain,
            table,
            ids,
            "unknown patient",
            &format!("{sid_col} has no SPatient row with an ICN"),
        );
    }
    Ok(joined
        .lazy()
        .filter(col("patient_icn").is_not_null())
        .collect()?)
}

/// Attaches `patient_icn` to CDWWork2 rows by their own ICN column `icn_col`
/// (trimmed, case-insensitive), which must name an `SPatient` patient; the
/// attached value is SPatient's spelling. Rows whose ICN is NULL or unknown
/// are quarantined (`unknown patient`) under `id_col`. CDWWork2 rows are
/// never matched by PersonSID or PatientKey: those collide with CDWWork SIDs.
pub fn resolve_icns(
    ctx: &Ctx,
    domain: &str,
    table: &str,
    lf: LazyFrame,
    icn_col: &str,
    id_col: &str,
) -> Result<DataFrame> {
    let known = ctx
        .bronze(&catalog::S_PATIENT_S_PATIENT)?
        .select([
            clean_upper("PatientICN").alias("__icn_key"),
            clean("PatientICN").alias("patient_icn"),
        ])
        .filter(col("__icn_key").is_not_null())
        .sort(
            ["__icn_key"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unique_stable(Some(cols(["__icn_key"])), UniqueKeepStrategy::First);
    let mut lf = lf.with_column(clean_upper(icn_col).alias("__icn_join"));
    if icn_col == "patient_icn" {
        lf = lf.drop(cols(["patient_icn"]));
    }
    let joined = lf
        .join(
            known,
            [col("__icn_join")],
            [col("__icn_key")],
            JoinArgs::new(JoinType::Left),
        )
        .drop(cols(["__icn_join"]))
        .collect()?;
    quarantine_where(
        ctx,
        domain,
        table,
        joined,
        id_col,
        Check {
            bad: col("patient_icn").is_null(),
            reason: "unknown patient",
            detail: &format!("{icn_col} is NULL or names no SPatient patient"),
        },
    )
}

/// A row contract: rows for which `bad` is true break it and are
/// quarantined with `reason` (a short, countable label) and `detail`.
pub struct Check<'a> {
    pub bad: Expr,
    pub reason: &'a str,
    pub detail: &'a str,
}

/// Quarantines the rows of `df` for which `bad` is true and returns the rest.
pub fn quarantine_where(
    ctx: &Ctx,
    domain: &str,
    table: &str,
    df: DataFrame,
    id_col: &str,
    check: Check<'_>,
) -> Result<DataFrame> {
    let Check {
        bad,
        reason,
        detail,
    } = check;
    let flagged = df
        .lazy()
        .with_column(bad.fill_null(lit(false)).alias("__bad"))
        .collect()?;
    let rejected = flagged
        .clone()
        .lazy()
        .filter(col("__bad"))
        .select([col(id_col).cast(DataType::String)])
        .collect()?;
    if rejected.height() > 0 {
        let ids: Vec<String> = rejected
            .column(id_col)?
            .str()?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect();
        ctx.quarantine(domain, table, ids, reason, detail);
    }
    Ok(flagged
        .lazy()
        .filter(col("__bad").not())
        .drop(cols(["__bad"]))
        .collect()?)
}

/// The stable order of `df`'s rows by the columns `by` (the order
/// `sort(by, maintain_order)` gives), keeping only the rows `keep` marks when
/// given; `None` when that is every row in its current order (nothing to
/// reorder). Only the key columns are sorted, so a caller can gather the
/// rows a part at a time ([`crate::ctx::Ctx::write_gold_ordered`]) instead of
/// copying the whole frame.
pub fn sort_order(
    df: &DataFrame,
    by: &[&str],
    keep: Option<BooleanChunked>,
) -> Result<Option<IdxCa>> {
    let mut keys = by
        .iter()
        .map(|c| df.column(c).cloned())
        .collect::<PolarsResult<Vec<Column>>>()?;
    let filter = keep.is_some();
    if let Some(keep) = keep {
        keys.push(keep.with_name("__keep".into()).into_series().into_column());
    }
    let mut lf = DataFrame::new(df.height(), keys)?
        .lazy()
        .with_row_index("__row", None);
    if filter {
        lf = lf.filter(col("__keep"));
    }
    let order = lf
        .sort_by_exprs(
            by.iter().map(|c| col(*c)).collect::<Vec<_>>(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col("__row")])
        .collect()?;
    let idx = order.column("__row")?.idx()?.clone();
    let identity = idx.len() == df.height()
        && idx
            .iter()
            .enumerate()
            .all(|(i, r)| r.is_some_and(|r| r as usize == i));
    Ok((!identity).then_some(idx))
}

/// Text values of a column (NULL → None).
pub fn texts(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Integer values of a column.
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect())
}

/// Float values of a column.
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

/// Adds or replaces a column computed in Rust.
pub fn with_series(df: &mut DataFrame, s: Series) -> Result<()> {
    df.with_column(s.into_column())?;
    Ok(())
}

pub fn series<T, I>(name: &str, values: I) -> Series
where
    Series: NamedFrom<Vec<T>, [T]>,
    I: IntoIterator<Item = T>,
{
    Series::new(
        PlSmallStr::from_str(name),
        values.into_iter().collect::<Vec<T>>(),
    )
}

/// The polars type a serving column is written as in gold.
pub fn serving_dtype(ty: ColType) -> DataType {
    match ty {
        ColType::Int => DataType::Int64,
        ColType::Float => DataType::Float64,
        ColType::Bool => DataType::Boolean,
        ColType::Text | ColType::Json => DataType::String,
        ColType::Date => DataType::Date,
        ColType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
    }
}

/// Serving columns of `table` (minus the surrogate key and `last_updated`,
/// which the loader adds), cast to their serving types.
pub fn serving_frame(df: DataFrame, table: &ServingTable) -> Result<DataFrame> {
    let wanted = || {
        table.columns[1..]
            .iter()
            .filter(|c| c.name != "last_updated")
    };
    // Already in shape (the usual case): the columns are picked as they are,
    // without running the frame through a query.
    if wanted().all(|c| {
        df.column(c.name)
            .is_ok_and(|col| col.dtype() == &serving_dtype(c.ty))
    }) {
        let cols = wanted()
            .map(|c| df.column(c.name).cloned())
            .collect::<PolarsResult<Vec<Column>>>()?;
        return Ok(DataFrame::new(df.height(), cols)?);
    }
    let exprs: Vec<Expr> = table.columns[1..]
        .iter()
        .filter(|c| c.name != "last_updated")
        .map(|c| col(c.name).cast(serving_dtype(c.ty)))
        .collect();
    Ok(df.lazy().select(exprs).collect()?)
}

/// Dimensions every pipeline may read, landed by any bronze step.
pub static SHARED_TABLES: &[&cdw::Table] = &[
    &catalog::S_PATIENT_S_PATIENT,
    &catalog::DIM_STA3N,
    &catalog::S_STAFF_S_STAFF,
    &catalog::DIM_LOCATION,
];
