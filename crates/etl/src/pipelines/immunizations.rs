//! Immunizations: CDWWork `Immunization.PatientImmunization` (+ `Dim.Vaccine`)
//! and CDWWork2 `ImmunizationMill.VaccineAdmin` (+ `ImmunizationMill.VaccineCode`)
//! → `clinical.patient_immunizations`.
//!
//! Patient identity is the ICN only: CDWWork rows map PatientSID → ICN through
//! `SPatient.SPatient`; CDWWork2 rows use their own `PatientICN` column, which
//! must name an `SPatient` patient. `PersonSID` is never read (CDWWork2
//! PersonSID 2001 is Adam Dooree, CDWWork PatientSID 2001 is Bailey Thompson).
//! Rows with IsActive ≠ 1 are excluded (retracted entries, as in the source
//! extract). CVX codes are normalised (`'088'` → `88`) before the annual-flu
//! and COVID flags are set and before deduplication.
//!
//! Dedup policy: an administration recorded in **both** sources — same ICN,
//! same normalised CVX code and same administration *date* — is kept **once,
//! from CDWWork (VistA)**. The VistA row is the richer one: its ordering and
//! administering providers, location and station resolve against the CDWWork
//! dimensions, it carries lot-level comments, and its Sta3n is known, whereas
//! the CDWWork2 provider and facility ids cannot be resolved against CDWWork
//! dimensions (that would be a cross-database SID join). The dropped CDWWork2
//! row is quarantined with reason `cross-source duplicate` (detail names the
//! kept `V-…` row). Rows without a CVX code never match. Repeats *within* one
//! source (same ICN, CVX and day) are distinct source records and are kept.
//!
//! Quarantine reasons: `unknown patient` (PatientSID without an SPatient ICN;
//! CDWWork2 PatientICN NULL or not in SPatient), `unknown vaccine` (no
//! `Dim.Vaccine` / `VaccineCode` row, as the source's inner join would have
//! dropped it), `missing administration date`, `cross-source duplicate`.
//!
//! CDWWork2 specifics: dose = `"{DoseAmount} {DoseUnit}"`, route = RouteCode,
//! `location_sid` = FacilitySID (its name is not looked up: Dim.Location is a
//! CDWWork dimension), `sta3n` from the row's own `EncMill.Encounter`
//! (same database), provider name NULL (ProviderSID is a Millennium id).

use super::{Output, Pipeline};
use crate::common::{self, clean, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::immunizations::{
    Cvx, SeriesInfo, is_annual_flu, is_covid, normalise_body_site, parse_series, series_from_cerner,
};
use polars::prelude::*;
use std::collections::HashMap;

pub static PIPELINE: Pipeline = Pipeline {
    name: "immunizations",
    tables: &[
        &c::IMMUNIZATION_PATIENT_IMMUNIZATION,
        &c::DIM_VACCINE,
        &c::IMMUNIZATION_MILL_VACCINE_ADMIN,
        &c::IMMUNIZATION_MILL_VACCINE_CODE,
        &c::ENC_MILL_ENCOUNTER,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD_KEY,
        table: &store::catalog::PATIENT_IMMUNIZATIONS,
    }],
};

const DOMAIN: &str = "immunizations";
const GOLD_KEY: &str = "immunizations/patient_immunizations_final";
const VISTA_TABLE: &str = "Immunization.PatientImmunization";
const CERNER_TABLE: &str = "ImmunizationMill.VaccineAdmin";
const CDWWORK: &str = "CDWWork";
const CDWWORK2: &str = "CDWWork2";

fn ts_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

fn null_text() -> Expr {
    lit(NULL).cast(DataType::String)
}

fn null_int() -> Expr {
    lit(NULL).cast(DataType::Int64)
}

/// Silver columns shared by both sources, before the row rules.
fn harmonised(lf: LazyFrame) -> LazyFrame {
    lf.select([
        col("source_system"),
        col("source_sid").cast(DataType::Int64),
        col("patient_icn"),
        col("vaccine_name_local").cast(DataType::String),
        col("cvx_raw").cast(DataType::String),
        col("administered_datetime").cast(ts_type()),
        col("series_raw").cast(DataType::String),
        col("series_number").cast(DataType::String),
        col("series_total").cast(DataType::String),
        col("dose_raw").cast(DataType::String),
        col("dose_unit").cast(DataType::String),
        col("route").cast(DataType::String),
        col("site_raw").cast(DataType::String),
        col("adverse_reaction").cast(DataType::String),
        col("ordering_provider_sid").cast(DataType::Int64),
        col("administering_provider_sid").cast(DataType::Int64),
        col("location_sid").cast(DataType::Int64),
        col("sta3n").cast(DataType::String),
        col("comments").cast(DataType::String),
    ])
}

fn vista(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx
        .bronze(&c::IMMUNIZATION_PATIENT_IMMUNIZATION)?
        .filter(col("IsActive").eq(lit(true)))
        .select([
            lit(CDWWORK).alias("source_system"),
            col("PatientImmunizationSID")
                .cast(DataType::Int64)
                .alias("source_sid"),
            col("PatientSID"),
            col("VaccineSID").cast(DataType::Int64).alias("__vaccine"),
            col("AdministeredDateTime").alias("administered_datetime"),
            clean("Series").alias("series_raw"),
            null_text().alias("series_number"),
            null_text().alias("series_total"),
            clean("Dose").alias("dose_raw"),
            null_text().alias("dose_unit"),
            clean("Route").alias("route"),
            clean("SiteOfAdministration").alias("site_raw"),
            clean("Reaction").alias("adverse_reaction"),
            col("OrderingProviderSID").alias("ordering_provider_sid"),
            col("AdministeringProviderSID").alias("administering_provider_sid"),
            col("LocationSID").alias("location_sid"),
            int_text("Sta3n").alias("sta3n"),
            clean("Comments").alias("comments"),
        ]);
    let df = common::resolve_patients(ctx, DOMAIN, VISTA_TABLE, lf, "PatientSID", "source_sid")?;
    let vaccines = ctx.bronze(&c::DIM_VACCINE)?.select([
        col("VaccineSID").cast(DataType::Int64).alias("__vaccine"),
        clean("VaccineName").alias("vaccine_name_local"),
        clean("CVXCode").alias("cvx_raw"),
        lit(true).alias("__known_vaccine"),
    ]);
    with_vaccine(ctx, VISTA_TABLE, df, vaccines, "Dim.Vaccine")
}

fn cerner(ctx: &Ctx) -> Result<DataFrame> {
    let lf = ctx
        .bronze(&c::IMMUNIZATION_MILL_VACCINE_ADMIN)?
        .filter(col("IsActive").eq(lit(true)))
        .select([
            lit(CDWWORK2).alias("source_system"),
            col("VaccineAdminSID")
                .cast(DataType::Int64)
                .alias("source_sid"),
            col("PatientICN"),
            col("VaccineCodeSID")
                .cast(DataType::Int64)
                .alias("__vaccine"),
            col("EncounterSID")
                .cast(DataType::Int64)
                .alias("__encounter"),
            col("AdministeredDateTime").alias("administered_datetime"),
            null_text().alias("series_raw"),
            clean("SeriesNumber").alias("series_number"),
            clean("TotalInSeries").alias("series_total"),
            clean("DoseAmount").alias("dose_raw"),
            clean("DoseUnit").alias("dose_unit"),
            clean("RouteCode").alias("route"),
            clean("BodySite").alias("site_raw"),
            clean("AdverseReaction").alias("adverse_reaction"),
            null_int().alias("ordering_provider_sid"),
            null_int().alias("administering_provider_sid"),
            col("FacilitySID").alias("location_sid"),
            null_text().alias("comments"),
        ]);
    let df = common::resolve_icns(ctx, DOMAIN, CERNER_TABLE, lf, "PatientICN", "source_sid")?;
    // Station of the administration: the row's own encounter (same database).
    let encounters = ctx
        .bronze(&c::ENC_MILL_ENCOUNTER)?
        .select([
            col("EncounterSID").cast(DataType::Int64).alias("__enc_sid"),
            clean("Sta3n").alias("sta3n"),
        ])
        .unique_stable(Some(cols(["__enc_sid"])), UniqueKeepStrategy::First);
    let df = common::lookup(
        df.lazy(),
        col("__encounter"),
        encounters,
        "__enc_sid",
        &[("sta3n", "sta3n")],
    )
    .collect()?;
    let codes = ctx.bronze(&c::IMMUNIZATION_MILL_VACCINE_CODE)?.select([
        col("VaccineCodeSID")
            .cast(DataType::Int64)
            .alias("__vaccine"),
        clean("Display").alias("vaccine_name_local"),
        clean("CVXCode").alias("cvx_raw"),
        lit(true).alias("__known_vaccine"),
    ]);
    with_vaccine(ctx, CERNER_TABLE, df, codes, "ImmunizationMill.VaccineCode")
}

/// Joins the vaccine dimension on `__vaccine`; rows without one are
/// quarantined as `unknown vaccine`.
fn with_vaccine(
    ctx: &Ctx,
    table: &str,
    df: DataFrame,
    vaccines: LazyFrame,
    dim: &str,
) -> Result<DataFrame> {
    let vaccines = vaccines.unique_stable(Some(cols(["__vaccine"])), UniqueKeepStrategy::First);
    let joined = df
        .lazy()
        .join(
            vaccines,
            [col("__vaccine")],
            [col("__vaccine")],
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        table,
        joined,
        "source_sid",
        common::Check {
            bad: col("__known_vaccine").is_null(),
            reason: "unknown vaccine",
            detail: &format!("the vaccine id has no {dim} row"),
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        table,
        df,
        "source_sid",
        common::Check {
            bad: col("administered_datetime").is_null(),
            reason: "missing administration date",
            detail: "AdministeredDateTime is NULL",
        },
    )?;
    Ok(harmonised(df.lazy()).collect()?)
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn silver(ctx: &Ctx) -> Result<()> {
    let mut df = concat(
        [vista(ctx)?.lazy(), cerner(ctx)?.lazy()],
        UnionArgs::default(),
    )?
    .collect()?;

    let sources = common::texts(&df, "source_system")?;
    let sids = common::ints(&df, "source_sid")?;
    let icns = common::texts(&df, "patient_icn")?;
    let cvx_raw = common::texts(&df, "cvx_raw")?;
    let when = common::ints(&df, "administered_datetime")?;
    let series_raw = common::texts(&df, "series_raw")?;
    let series_number = common::texts(&df, "series_number")?;
    let series_total = common::texts(&df, "series_total")?;
    let dose_raw = common::texts(&df, "dose_raw")?;
    let dose_unit = common::texts(&df, "dose_unit")?;
    let site_raw = common::texts(&df, "site_raw")?;
    let local = common::texts(&df, "vaccine_name_local")?;
    let reaction = common::texts(&df, "adverse_reaction")?;

    let n = df.height();
    let mut cvx_code = Vec::with_capacity(n);
    let mut annual = Vec::with_capacity(n);
    let mut covid = Vec::with_capacity(n);
    let mut series = Vec::with_capacity(n);
    let mut dose_number = Vec::with_capacity(n);
    let mut total_doses = Vec::with_capacity(n);
    let mut complete = Vec::with_capacity(n);
    let mut dose = Vec::with_capacity(n);
    let mut site = Vec::with_capacity(n);
    let mut name = Vec::with_capacity(n);
    let mut has_reaction = Vec::with_capacity(n);
    let mut source_id = Vec::with_capacity(n);
    let mut imm_sid = Vec::with_capacity(n);
    for i in 0..n {
        let cerner = sources[i].as_deref() == Some(CDWWORK2);
        let cvx = cvx_raw[i].as_deref().and_then(|t| Cvx::normalise(t).ok());
        cvx_code.push(cvx.map(|c| c.to_string()));
        annual.push(cvx.is_some_and(|c| is_annual_flu(&c)));
        covid.push(cvx.is_some_and(|c| is_covid(&c)));
        let (text, info): (Option<String>, SeriesInfo) = if cerner {
            series_from_cerner(series_number[i].as_deref(), series_total[i].as_deref())
        } else {
            (
                series_raw[i].clone(),
                series_raw[i]
                    .as_deref()
                    .map(parse_series)
                    .unwrap_or_default(),
            )
        };
        series.push(text);
        dose_number.push(info.dose_number.map(i64::from));
        total_doses.push(info.total_doses.map(i64::from));
        complete.push(info.complete);
        dose.push(if cerner {
            match (dose_raw[i].as_deref(), dose_unit[i].as_deref()) {
                (Some(a), Some(u)) => Some(format!("{a} {u}")),
                (Some(a), None) => Some(a.to_string()),
                (None, Some(u)) => Some(u.to_string()),
                (None, None) => None,
            }
        } else {
            dose_raw[i].clone()
        });
        site.push(
            site_raw[i]
                .as_deref()
                .map(normalise_body_site)
                .filter(|s| !s.is_empty()),
        );
        name.push(local[i].as_deref().map(str::to_uppercase));
        has_reaction.push(reaction[i].is_some());
        let sid = sids[i].unwrap_or_default();
        source_id.push(sid.to_string());
        imm_sid.push(format!("{}-{sid}", if cerner { "C" } else { "V" }));
    }

    // Cross-source dedup: VistA wins on (ICN, CVX, administration date).
    let mut vista_keys: HashMap<(String, String, i64), String> = HashMap::new();
    for i in 0..n {
        if sources[i].as_deref() != Some(CDWWORK) {
            continue;
        }
        if let (Some(icn), Some(cvx), Some(t)) = (&icns[i], &cvx_code[i], when[i]) {
            vista_keys
                .entry((icn.clone(), cvx.clone(), t.div_euclid(MICROS_PER_DAY)))
                .or_insert_with(|| imm_sid[i].clone());
        }
    }
    let mut duplicate = vec![false; n];
    for i in 0..n {
        if sources[i].as_deref() != Some(CDWWORK2) {
            continue;
        }
        if let (Some(icn), Some(cvx), Some(t)) = (&icns[i], &cvx_code[i], when[i])
            && let Some(kept) =
                vista_keys.get(&(icn.clone(), cvx.clone(), t.div_euclid(MICROS_PER_DAY)))
        {
            duplicate[i] = true;
            ctx.quarantine(
                DOMAIN,
                CERNER_TABLE,
                [source_id[i].clone()],
                "cross-source duplicate",
                &format!(
                    "same ICN, CVX {cvx} and administration date as {kept}; the CDWWork row is kept"
                ),
            );
        }
    }

    for s in [
        common::series("source_id", source_id),
        common::series("immunization_sid", imm_sid),
        common::series("cvx_code", cvx_code),
        common::series("vaccine_name", name),
        common::series("series", series),
        common::series("dose_number", dose_number),
        common::series("total_doses", total_doses),
        common::series("is_series_complete", complete),
        common::series("dose", dose),
        common::series("site_of_administration", site),
        common::series("has_adverse_reaction", has_reaction),
        common::series("is_annual_vaccine", annual),
        common::series("is_covid_vaccine", covid),
        common::series("__duplicate", duplicate),
    ] {
        common::with_series(&mut df, s)?;
    }
    let mut df = df
        .lazy()
        .filter(col("__duplicate").not())
        .select([
            col("source_system"),
            col("source_id"),
            col("source_sid"),
            col("immunization_sid"),
            col("patient_icn"),
            col("cvx_code"),
            col("vaccine_name"),
            col("vaccine_name_local"),
            col("administered_datetime"),
            col("series"),
            col("dose_number"),
            col("total_doses"),
            col("is_series_complete"),
            col("dose"),
            col("route"),
            col("site_of_administration"),
            col("adverse_reaction"),
            col("has_adverse_reaction"),
            col("ordering_provider_sid"),
            col("administering_provider_sid"),
            col("location_sid"),
            col("sta3n"),
            col("comments"),
            col("is_annual_vaccine"),
            col("is_covid_vaccine"),
        ])
        .sort(
            [
                "patient_icn",
                "administered_datetime",
                "source_system",
                "source_sid",
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    ctx.write_silver(DOMAIN, "immunization_harmonized", &mut df)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let silver = ctx.silver(DOMAIN, "immunization_harmonized")?;
    let staff = common::staff_names(ctx)?
        .unique_stable(Some(cols(["__staff_sid"])), UniqueKeepStrategy::First);
    let locations = common::locations(ctx)?
        .unique_stable(Some(cols(["__location_sid"])), UniqueKeepStrategy::First);
    let lf = common::lookup(
        silver,
        col("administering_provider_sid"),
        staff.clone(),
        "__staff_sid",
        &[("staff_name", "__administering_name")],
    );
    let lf = common::lookup(
        lf,
        col("ordering_provider_sid"),
        staff,
        "__staff_sid",
        &[("staff_name", "__ordering_name")],
    );
    // Dim.Location is a CDWWork dimension: only CDWWork location ids resolve.
    let lf = common::lookup(
        lf.with_column(
            when(col("source_system").eq(lit(CDWWORK)))
                .then(col("location_sid"))
                .otherwise(null_int())
                .alias("__location_key"),
        ),
        col("__location_key"),
        locations,
        "__location_sid",
        &[
            ("location_name", "location_name"),
            ("location_type", "location_type"),
        ],
    );
    let lf = common::lookup(
        lf,
        col("sta3n"),
        common::facility_names(ctx)?,
        "__sta3n",
        &[("facility_name", "station_name")],
    );
    let mut df = lf
        .with_columns([
            col("patient_icn").alias("patient_key"),
            coalesce(&[col("__administering_name"), col("__ordering_name")]).alias("provider_name"),
        ])
        .sort(
            [
                "patient_key",
                "administered_datetime",
                "source_system",
                "source_sid",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false, false])
                .with_maintain_order(true),
        )
        .select(gold_columns())
        .collect()?;
    ctx.write_gold(GOLD_KEY, &mut df)
}

fn gold_columns() -> Vec<Expr> {
    store::catalog::PATIENT_IMMUNIZATIONS
        .columns
        .iter()
        .filter(|c| c.name != "immunization_id" && c.name != "last_updated")
        .map(|c| col(c.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, ts};
    use store::ColType;

    fn put(lake: &TestLake, t: &'static cdw::Table, cols: Vec<Column>) {
        let n = cols.first().map_or(0, Column::len);
        lake.put_bronze(t, DataFrame::new(n, cols).unwrap());
    }

    fn sc<T, I>(name: &str, values: I) -> Column
    where
        Series: NamedFrom<Vec<T>, [T]>,
        I: IntoIterator<Item = T>,
    {
        common::series(name, values).into_column()
    }

    /// Columns ⊆ the serving table, with its types; every NOT NULL column
    /// present (except the loader-assigned id and last_updated).
    pub(crate) fn check_catalog(df: &DataFrame, table: &store::ServingTable) {
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
                sc("PatientSID", [1001i64, 2001, 1010]),
                sc("PatientICN", ["ICN100001", "ICN200001", "ICN100010 "]),
            ],
        );
        put(
            &lake,
            &c::DIM_STA3N,
            vec![
                sc("Sta3n", [508i64, 687]),
                sc("Sta3nName", ["(508) Atlanta, GA", "(687) Walla Walla, WA"]),
                sc("Active", ["Y", "Y"]),
            ],
        );
        put(
            &lake,
            &c::S_STAFF_S_STAFF,
            vec![
                sc("StaffSID", [11i64, 12]),
                sc("StaffName", ["NURSE,ANN", "DOC,BOB"]),
            ],
        );
        put(
            &lake,
            &c::DIM_LOCATION,
            vec![
                sc("LocationSID", [21i64, 648]),
                sc("LocationName", ["ATL PRIMARY CARE", "WRONG DB LOCATION"]),
                sc("LocationType", ["CLINIC", "CLINIC"]),
            ],
        );
        put(
            &lake,
            &c::DIM_VACCINE,
            vec![
                sc("VaccineSID", [1i64, 2, 3, 4]),
                sc(
                    "VaccineName",
                    [
                        "INFLUENZA, UNSPECIFIED FORMULATION",
                        "COVID-19, MRNA",
                        "ZOSTER RECOMBINANT",
                        "MYSTERY",
                    ],
                ),
                sc("CVXCode", ["088", "208", "187", "abc"]),
            ],
        );
        put(
            &lake,
            &c::IMMUNIZATION_MILL_VACCINE_CODE,
            vec![
                sc("VaccineCodeSID", [1i64, 2, 3]),
                sc(
                    "Display",
                    [
                        "Influenza vaccine, unspecified",
                        "COVID-19 booster",
                        "Shingrix",
                    ],
                ),
                sc("CVXCode", ["088", "213", "187"]),
            ],
        );
        put(
            &lake,
            &c::ENC_MILL_ENCOUNTER,
            vec![
                sc("EncounterSID", [5001i64, 5002]),
                sc("Sta3n", ["648", "687"]),
            ],
        );
        let sids = [1i64, 2, 3, 4, 5, 6, 7];
        put(
            &lake,
            &c::IMMUNIZATION_PATIENT_IMMUNIZATION,
            vec![
                sc("PatientImmunizationSID", sids),
                sc(
                    "PatientSID",
                    [1001i64, 1001, 2001, 99_999_999, 1001, 1001, 1001],
                ),
                sc("VaccineSID", [1i64, 3, 2, 1, 1, 99, 4]),
                sc(
                    "AdministeredDateTime",
                    [
                        Some(ts("2025-11-09 09:15")),
                        Some(ts("2025-01-10 10:00")),
                        Some(ts("2024-10-01 08:00")),
                        Some(ts("2024-10-01 08:00")),
                        Some(ts("2023-10-01 08:00")),
                        Some(ts("2023-10-01 08:00")),
                        None,
                    ],
                ),
                sc(
                    "Series",
                    [
                        Some("ANNUAL"),
                        Some("1 of 2"),
                        Some(" 2 OF 2 "),
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                sc(
                    "Dose",
                    [Some("0.5 ML"), Some("0.5 mL"), None, None, None, None, None],
                ),
                sc(
                    "Route",
                    [
                        Some("INTRAMUSCULAR"),
                        Some("IM"),
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                sc(
                    "SiteOfAdministration",
                    [
                        Some("L DELTOID"),
                        Some("rt arm"),
                        Some("  "),
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                sc(
                    "Reaction",
                    [None, Some("SORE ARM "), None, None, None, None, None],
                ),
                sc(
                    "OrderingProviderSID",
                    [Some(12i64), Some(12), None, None, None, None, None],
                ),
                sc(
                    "AdministeringProviderSID",
                    [Some(11i64), None, None, None, None, None, None],
                ),
                sc(
                    "LocationSID",
                    [Some(21i64), None, None, None, None, None, None],
                ),
                sc(
                    "Sta3n",
                    [Some(508i64), Some(508), Some(687), None, None, None, None],
                ),
                sc(
                    "Comments",
                    [Some("lot EK12345"), None, None, None, None, None, None],
                ),
                sc("IsActive", [true, true, true, true, false, true, true]),
            ],
        );
        put(
            &lake,
            &c::IMMUNIZATION_MILL_VACCINE_ADMIN,
            vec![
                sc("VaccineAdminSID", [6001i64, 6002, 6003, 6004, 6005, 6006]),
                // PersonSID 2001 = Adam in CDWWork2; = Bailey's PatientSID in CDWWork.
                sc("PersonSID", [2001i64, 2001, 2001, 2010, 9, 2001]),
                sc(
                    "PatientICN",
                    [
                        Some("ICN100001"),
                        Some("icn100001 "),
                        None,
                        Some("ICN999999"),
                        Some("ICN100010"),
                        Some("ICN100001"),
                    ],
                ),
                sc(
                    "EncounterSID",
                    [
                        Some(5001i64),
                        Some(5001),
                        Some(5001),
                        None,
                        None,
                        Some(5001),
                    ],
                ),
                sc("VaccineCodeSID", [1i64, 2, 1, 1, 3, 3]),
                sc(
                    "AdministeredDateTime",
                    [
                        ts("2025-11-09 14:05"),
                        ts("2025-02-22 14:05"),
                        ts("2025-03-01 09:00"),
                        ts("2025-03-01 09:00"),
                        ts("2025-04-01 09:00"),
                        ts("2025-05-01 09:00"),
                    ],
                ),
                sc(
                    "SeriesNumber",
                    [Some("1"), Some("BOOSTER 1"), None, None, Some("2"), None],
                ),
                sc(
                    "TotalInSeries",
                    [Some("1"), None, None, None, Some("2"), None],
                ),
                sc(
                    "DoseAmount",
                    [Some("0.5"), Some("0.3"), None, None, None, None],
                ),
                sc("DoseUnit", [Some("mL"), Some("mL"), None, None, None, None]),
                sc(
                    "RouteCode",
                    [Some("IM"), Some("IM"), None, None, None, None],
                ),
                sc(
                    "BodySite",
                    [
                        Some("LT DELTOID"),
                        Some("Left Deltoid"),
                        None,
                        None,
                        None,
                        None,
                    ],
                ),
                sc(
                    "AdverseReaction",
                    [None, Some("Fever"), None, None, None, None],
                ),
                sc(
                    "ProviderSID",
                    [Some(11i64), Some(900_001), None, None, None, None],
                ),
                sc(
                    "FacilitySID",
                    [Some(648i64), Some(648), None, None, None, None],
                ),
                sc("IsActive", [true, true, true, true, true, false]),
            ],
        );
        lake
    }

    fn row(df: &DataFrame, sid: &str) -> usize {
        let ids = common::texts(df, "immunization_sid").unwrap();
        ids.iter()
            .position(|s| s.as_deref() == Some(sid))
            .unwrap_or_else(|| panic!("{sid} missing"))
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
    fn immunizations_end_to_end() {
        let lake = setup();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let df = ctx.gold(GOLD_KEY).unwrap();
        check_catalog(&df, &store::catalog::PATIENT_IMMUNIZATIONS);

        // Kept: V-1, V-2, V-3 (VistA), C-6002, C-6005 (Cerner).
        let ids: Vec<String> = common::texts(&df, "immunization_sid")
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["V-1", "C-6002", "V-2", "C-6005", "V-3"]);

        // V-1: the VistA flu shot wins over the same-day Cerner one (C-6001).
        let i = row(&df, "V-1");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "source_system", i).as_deref(), Some("CDWWork"));
        assert_eq!(text(&df, "source_id", i).as_deref(), Some("1"));
        assert_eq!(text(&df, "cvx_code", i).as_deref(), Some("88"));
        assert_eq!(flag(&df, "is_annual_vaccine", i), Some(true));
        assert_eq!(flag(&df, "is_covid_vaccine", i), Some(false));
        assert_eq!(
            text(&df, "vaccine_name", i).as_deref(),
            Some("INFLUENZA, UNSPECIFIED FORMULATION")
        );
        assert_eq!(text(&df, "series", i).as_deref(), Some("ANNUAL"));
        assert_eq!(int(&df, "dose_number", i), None);
        assert_eq!(flag(&df, "is_series_complete", i), None);
        assert_eq!(
            text(&df, "site_of_administration", i).as_deref(),
            Some("Left Deltoid")
        );
        assert_eq!(text(&df, "provider_name", i).as_deref(), Some("NURSE,ANN"));
        assert_eq!(
            text(&df, "location_name", i).as_deref(),
            Some("ATL PRIMARY CARE")
        );
        assert_eq!(text(&df, "location_type", i).as_deref(), Some("CLINIC"));
        assert_eq!(text(&df, "sta3n", i).as_deref(), Some("508"));
        assert_eq!(
            text(&df, "station_name", i).as_deref(),
            Some("(508) Atlanta, GA")
        );
        assert_eq!(text(&df, "comments", i).as_deref(), Some("lot EK12345"));
        assert_eq!(flag(&df, "has_adverse_reaction", i), Some(false));

        // V-2: "1 of 2", ordering provider fallback, reaction trimmed.
        let i = row(&df, "V-2");
        assert_eq!(text(&df, "cvx_code", i).as_deref(), Some("187"));
        assert_eq!(int(&df, "dose_number", i), Some(1));
        assert_eq!(int(&df, "total_doses", i), Some(2));
        assert_eq!(flag(&df, "is_series_complete", i), Some(false));
        assert_eq!(text(&df, "provider_name", i).as_deref(), Some("DOC,BOB"));
        assert_eq!(
            text(&df, "site_of_administration", i).as_deref(),
            Some("Right Arm")
        );
        assert_eq!(
            text(&df, "adverse_reaction", i).as_deref(),
            Some("SORE ARM")
        );
        assert_eq!(flag(&df, "has_adverse_reaction", i), Some(true));

        // V-3: Bailey's own VistA shot (PatientSID 2001) stays Bailey's.
        let i = row(&df, "V-3");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN200001"));
        assert_eq!(flag(&df, "is_covid_vaccine", i), Some(true));
        assert_eq!(flag(&df, "is_series_complete", i), Some(true));
        assert_eq!(text(&df, "site_of_administration", i), None);

        // C-6002: Adam's Cerner COVID booster (PersonSID 2001) is Adam's, not Bailey's.
        let i = row(&df, "C-6002");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100001"));
        assert_eq!(text(&df, "source_system", i).as_deref(), Some("CDWWork2"));
        assert_eq!(text(&df, "source_id", i).as_deref(), Some("6002"));
        assert_eq!(text(&df, "cvx_code", i).as_deref(), Some("213"));
        assert_eq!(flag(&df, "is_covid_vaccine", i), Some(true));
        assert_eq!(text(&df, "series", i).as_deref(), Some("BOOSTER 1"));
        assert_eq!(int(&df, "dose_number", i), None);
        assert_eq!(text(&df, "dose", i).as_deref(), Some("0.3 mL"));
        assert_eq!(text(&df, "route", i).as_deref(), Some("IM"));
        assert_eq!(
            text(&df, "site_of_administration", i).as_deref(),
            Some("Left Deltoid")
        );
        assert_eq!(
            text(&df, "vaccine_name", i).as_deref(),
            Some("COVID-19 BOOSTER")
        );
        assert_eq!(
            text(&df, "vaccine_name_local", i).as_deref(),
            Some("COVID-19 booster")
        );
        assert_eq!(text(&df, "provider_name", i), None);
        assert_eq!(int(&df, "location_sid", i), Some(648));
        assert_eq!(
            text(&df, "location_name", i),
            None,
            "no cross-database location join"
        );
        assert_eq!(text(&df, "sta3n", i).as_deref(), Some("648"));
        assert_eq!(
            text(&df, "station_name", i),
            None,
            "648 is absent from Dim.Sta3n"
        );

        // C-6005: ICN with trailing space in SPatient still resolves; "2 of 2".
        let i = row(&df, "C-6005");
        assert_eq!(text(&df, "patient_key", i).as_deref(), Some("ICN100010"));
        assert_eq!(text(&df, "series", i).as_deref(), Some("2 of 2"));
        assert_eq!(flag(&df, "is_series_complete", i), Some(true));
        assert_eq!(text(&df, "sta3n", i), None);

        let mut q: Vec<(String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|r| (r.source_id, r.reason))
            .collect();
        q.sort();
        let want: Vec<(String, String)> = [
            ("4", "unknown patient"),
            ("6", "unknown vaccine"),
            ("6001", "cross-source duplicate"),
            ("6003", "unknown patient"),
            ("6004", "unknown patient"),
            ("7", "missing administration date"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(q, want);
        let dup = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .find(|r| r.reason == "cross-source duplicate")
            .unwrap();
        assert_eq!(dup.source_table, CERNER_TABLE);
        assert!(dup.detail.contains("V-1"), "{}", dup.detail);

        let done = crate::load::finish_frame(ctx, &PIPELINE.outputs[0], df).unwrap();
        assert_eq!(
            common::ints(&done, "immunization_id").unwrap(),
            [1, 2, 3, 4, 5].map(Some)
        );
        check_catalog(&done, &store::catalog::PATIENT_IMMUNIZATIONS);
    }

    #[test]
    fn malformed_cvx_keeps_row_without_flags() {
        let lake = setup();
        let ctx = &lake.ctx;
        put(
            &lake,
            &c::IMMUNIZATION_PATIENT_IMMUNIZATION,
            vec![
                sc("PatientImmunizationSID", [9i64]),
                sc("PatientSID", [1001i64]),
                sc("VaccineSID", [4i64]),
                sc("AdministeredDateTime", [ts("2025-01-01 10:00")]),
                sc("Series", ["COMPLETE"]),
                sc("IsActive", [true]),
            ],
        );
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let df = ctx.gold(GOLD_KEY).unwrap();
        let i = row(&df, "V-9");
        assert_eq!(text(&df, "cvx_code", i), None);
        assert_eq!(flag(&df, "is_annual_vaccine", i), Some(false));
        assert_eq!(flag(&df, "is_series_complete", i), Some(true));
        // With no VistA flu shot left, the Cerner one is no longer a duplicate.
        assert!(row(&df, "C-6001") < df.height());
    }

    #[test]
    fn rerun_is_identical() {
        let lake = setup();
        let ctx = &lake.ctx;
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        let first = ctx.gold(GOLD_KEY).unwrap();
        (PIPELINE.silver)(ctx).unwrap();
        (PIPELINE.gold)(ctx).unwrap();
        assert!(first.equals_missing(&ctx.gold(GOLD_KEY).unwrap()));
    }
}
