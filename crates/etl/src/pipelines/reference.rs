//! Reference data: `Dim.Sta3n` → `reference.facility` and `Dim.Vaccine` →
//! `reference.vaccine`.
//!
//! Dedup policy:
//! - facility: one row per station code (`Sta3n`, as text). If a code is
//!   repeated, the active row wins, then the first in source order; the other
//!   rows are quarantined (`duplicate station code`).
//! - vaccine: one row per NORMALISED CVX code (leading zeros stripped, so
//!   `'088'` and `'88'` are the same vaccine — reference §5 quirk 10). If a
//!   code is repeated, the lowest `VaccineSID` wins; the others are
//!   quarantined (`duplicate CVX code`).
//!
//! Rules: `facility_name` is the trimmed `Sta3nName`; `is_active` is
//! `Active = 'Y'` (anything else, NULL included, is inactive). A vaccine's
//! `vaccine_group` is `Influenza` for the annual-flu CVX codes, `COVID-19`
//! for the COVID CVX codes (both from `domain::immunizations`), otherwise it
//! is derived from keywords of the vaccine name and short name (Shingles,
//! MMR, Tdap/DTaP, Hepatitis, Polio, Hib, HPV, Pneumococcal, Varicella,
//! Meningococcal, …), else `Other`. `typical_series_pattern` is `Annual` for
//! annual-flu vaccines and NULL otherwise; `is_active` is `IsInactive <> 'Y'`;
//! `vaccine_name` falls back to the short name when the long one is blank.
//!
//! Quarantine reasons: `missing station code`, `missing facility name`,
//! `duplicate station code`, `invalid CVX code`, `missing vaccine name`,
//! `duplicate CVX code`.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::immunizations::{Cvx, is_annual_flu, is_covid};
use polars::prelude::*;
use store::ServingTable;

pub static PIPELINE: Pipeline = Pipeline {
    name: "reference",
    tables: &[&c::DIM_STA3N, &c::DIM_VACCINE],
    silver,
    gold,
    outputs: &[
        Output {
            gold: "reference/facility",
            table: &store::catalog::REFERENCE_FACILITY,
        },
        Output {
            gold: "reference/vaccine",
            table: &store::catalog::REFERENCE_VACCINE,
        },
    ],
};

const DOMAIN: &str = "reference";

/// After sorting, marks every row whose key was already seen (the row to
/// drop when keeping the first per key).
fn repeated(df: &DataFrame, key: &str) -> Result<Vec<bool>> {
    let mut seen = std::collections::HashSet::new();
    Ok(common::texts(df, key)?
        .into_iter()
        .map(|k| !seen.insert(k))
        .collect())
}

fn silver(ctx: &Ctx) -> Result<()> {
    silver_facility(ctx)?;
    silver_vaccine(ctx)
}

fn silver_facility(ctx: &Ctx) -> Result<()> {
    const TABLE: &str = "Dim.Sta3n";
    let df = ctx
        .bronze(&c::DIM_STA3N)?
        .with_row_index("__row", Some(1))
        .select([
            col("Sta3n").cast(DataType::Int64).alias("__sta3n_num"),
            col("Sta3n")
                .cast(DataType::Int64)
                .cast(DataType::String)
                .alias("sta3n"),
            clean("Sta3nName").alias("facility_name"),
            clean_upper("Active")
                .eq(lit("Y"))
                .fill_null(lit(false))
                .alias("is_active"),
            col("__row"),
        ])
        .with_column(
            coalesce(&[
                col("sta3n"),
                concat_str([lit("row "), col("__row").cast(DataType::String)], "", true),
            ])
            .alias("__id"),
        )
        .collect()?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "__id",
        common::Check {
            bad: col("sta3n").is_null(),
            reason: "missing station code",
            detail: "Sta3n is NULL",
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "__id",
        common::Check {
            bad: col("facility_name").is_null(),
            reason: "missing facility name",
            detail: "Sta3nName is NULL or blank",
        },
    )?;
    let mut df = df
        .lazy()
        .sort(
            ["__sta3n_num", "is_active", "__row"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false])
                .with_maintain_order(true),
        )
        .collect()?;
    let dup = repeated(&df, "sta3n")?;
    common::with_series(&mut df, common::series("__dup", dup))?;
    let mut df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "__id",
        common::Check {
            bad: col("__dup"),
            reason: "duplicate station code",
            detail: "another Dim.Sta3n row has the same code (the active, then first, row is kept)",
        },
    )?
    .lazy()
    .select([col("sta3n"), col("facility_name"), col("is_active")])
    .collect()?;
    ctx.write_silver(DOMAIN, "facility", &mut df)
}

/// The vaccine group of a CVX code and its names.
pub(crate) fn vaccine_group(cvx: Option<Cvx>, names: &str) -> &'static str {
    if let Some(cvx) = cvx {
        if is_annual_flu(&cvx) {
            return "Influenza";
        }
        if is_covid(&cvx) {
            return "COVID-19";
        }
    }
    // Keywords match whole words of the upper-cased names; a trailing `*`
    // matches a word prefix. Order matters: combination vaccines take the
    // first group that matches (DTaP-IPV-Hib → Tdap/DTaP, MMRV → MMR,
    // zoster before varicella).
    const GROUPS: &[(&str, &[&str])] = &[
        ("Influenza", &["INFLUENZA", "FLU*"]),
        ("COVID-19", &["COVID*", "SARS"]),
        ("Shingles", &["ZOSTER", "SHINGLES", "SHINGRIX", "ZOSTAVAX"]),
        ("MMR", &["MMR*", "MEASLES", "MUMPS", "RUBELLA"]),
        (
            "Tdap/DTaP",
            &[
                "TDAP",
                "DTAP",
                "DTP",
                "TD",
                "DT",
                "TETANUS",
                "DIPHTHERIA",
                "PERTUSSIS",
            ],
        ),
        ("Hepatitis", &["HEPATITIS", "HEP", "HEPA", "HEPB"]),
        ("Polio", &["POLIO*", "IPV", "OPV"]),
        ("Hib", &["HIB*", "HAEMOPHILUS"]),
        ("HPV", &["HPV*", "PAPILLOMAVIRUS"]),
        ("Pneumococcal", &["PNEUMOCOCCAL", "PCV*", "PPV*", "PPSV*"]),
        ("Varicella", &["VARICELLA"]),
        (
            "Meningococcal",
            &["MENINGOCOCCAL", "MENACWY", "MENB", "MCV4"],
        ),
        ("RSV", &["RSV", "SYNCYTIAL"]),
        ("Rotavirus", &["ROTAVIRUS"]),
        ("Rabies", &["RABIES"]),
        ("Typhoid", &["TYPHOID"]),
        ("Yellow Fever", &["YELLOW"]),
        ("Japanese Encephalitis", &["ENCEPHALITIS"]),
        (
            "Mpox/Smallpox",
            &["SMALLPOX", "VACCINIA", "MPOX", "MONKEYPOX"],
        ),
        ("Anthrax", &["ANTHRAX"]),
    ];
    let upper = names.to_uppercase();
    let words: Vec<&str> = upper
        .split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (group, keys) in GROUPS {
        let hit = keys.iter().any(|k| match k.strip_suffix('*') {
            Some(prefix) => words.iter().any(|w| w.starts_with(prefix)),
            None => words.contains(k),
        });
        if hit {
            return group;
        }
    }
    "Other"
}

fn silver_vaccine(ctx: &Ctx) -> Result<()> {
    const TABLE: &str = "Dim.Vaccine";
    let mut df = ctx
        .bronze(&c::DIM_VACCINE)?
        .select([
            col("VaccineSID").cast(DataType::Int64).alias("vaccine_sid"),
            col("CVXCode").cast(DataType::String).alias("__cvx_raw"),
            coalesce(&[clean("VaccineName"), clean("VaccineShortName")]).alias("vaccine_name"),
            clean("VaccineShortName").alias("vaccine_short_name"),
            clean_upper("IsInactive")
                .eq(lit("Y"))
                .fill_null(lit(false))
                .not()
                .alias("is_active"),
        ])
        .collect()?;
    let raw = common::texts(&df, "__cvx_raw")?;
    let names = common::texts(&df, "vaccine_name")?;
    let shorts = common::texts(&df, "vaccine_short_name")?;
    let cvx: Vec<Option<Cvx>> = raw
        .iter()
        .map(|r| r.as_deref().and_then(|r| Cvx::normalise(r).ok()))
        .collect();
    let groups: Vec<&str> = cvx
        .iter()
        .zip(names.iter().zip(&shorts))
        .map(|(c, (n, s))| {
            let text = format!(
                "{} {}",
                n.as_deref().unwrap_or_default(),
                s.as_deref().unwrap_or_default()
            );
            vaccine_group(*c, &text)
        })
        .collect();
    let series: Vec<Option<&str>> = cvx
        .iter()
        .map(|c| c.filter(is_annual_flu).map(|_| "Annual"))
        .collect();
    common::with_series(
        &mut df,
        common::series("cvx_code", cvx.iter().map(|c| c.map(|c| c.to_string()))),
    )?;
    common::with_series(
        &mut df,
        common::series(
            "__cvx_num",
            cvx.iter().map(|c| c.map(|c| i64::from(c.get()))),
        ),
    )?;
    common::with_series(&mut df, common::series("vaccine_group", groups))?;
    common::with_series(&mut df, common::series("typical_series_pattern", series))?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "vaccine_sid",
        common::Check {
            bad: col("cvx_code").is_null(),
            reason: "invalid CVX code",
            detail: "CVXCode is missing or not a 1-3 digit code",
        },
    )?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "vaccine_sid",
        common::Check {
            bad: col("vaccine_name").is_null(),
            reason: "missing vaccine name",
            detail: "VaccineName and VaccineShortName are both blank",
        },
    )?;
    let mut df = df
        .lazy()
        .sort(
            ["__cvx_num", "vaccine_sid"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let dup = repeated(&df, "cvx_code")?;
    common::with_series(&mut df, common::series("__dup", dup))?;
    let mut df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "vaccine_sid",
        common::Check {
            bad: col("__dup"),
            reason: "duplicate CVX code",
            detail: "another Dim.Vaccine row has the same normalised CVX code (lowest VaccineSID kept)",
        },
    )?
    .lazy()
    .select([
        col("cvx_code"),
        col("vaccine_name"),
        col("vaccine_short_name"),
        col("vaccine_group"),
        col("typical_series_pattern"),
        col("is_active"),
        lit(NULL).cast(DataType::String).alias("notes"),
    ])
    .collect()?;
    ctx.write_silver(DOMAIN, "vaccine", &mut df)
}

/// The serving table's columns that a gold frame carries (the loader adds
/// an integer surrogate key and `last_updated`).
fn serving_columns(t: &ServingTable) -> Vec<Expr> {
    t.columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.name != "last_updated" && !(*i == 0 && c.ty == store::ColType::Int))
        .map(|(_, c)| col(c.name))
        .collect()
}

fn gold(ctx: &Ctx) -> Result<()> {
    // Silver is already one row per key, sorted numerically by key.
    let mut facility = ctx
        .silver(DOMAIN, "facility")?
        .select(serving_columns(&store::catalog::REFERENCE_FACILITY))
        .collect()?;
    ctx.write_gold("reference/facility", &mut facility)?;
    let mut vaccine = ctx
        .silver(DOMAIN, "vaccine")?
        .select(serving_columns(&store::catalog::REFERENCE_VACCINE))
        .collect()?;
    ctx.write_gold("reference/vaccine", &mut vaccine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestLake;

    /// Gold columns ⊆ the serving table with matching types; after
    /// `finish_frame`, every NOT NULL column is present and has no NULLs.
    fn check_serving(ctx: &Ctx, out: &Output, df: DataFrame) {
        let t = out.table;
        for c in df.columns() {
            let sc = t
                .column(c.name())
                .unwrap_or_else(|| panic!("{} not in {}", c.name(), t.qualified()));
            let want = common::serving_dtype(sc.ty);
            assert_eq!(c.dtype(), &want, "{}.{}", t.qualified(), c.name());
        }
        let done = crate::load::finish_frame(ctx, out, df).expect("finish_frame");
        for sc in t.columns.iter().filter(|c| !c.nullable) {
            let c = done
                .column(sc.name)
                .unwrap_or_else(|_| panic!("{} lacks {}", t.qualified(), sc.name));
            assert_eq!(c.null_count(), 0, "{}.{} has NULLs", t.qualified(), sc.name);
        }
    }

    fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
        common::ints(df, name)
            .unwrap()
            .into_iter()
            .map(|v| v.map(|v| v != 0))
            .collect()
    }

    fn s(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(str::to_string)).collect()
    }

    #[test]
    fn groups_from_cvx_and_names() {
        let cvx = |s: &str| Some(Cvx::normalise(s).unwrap());
        assert_eq!(
            vaccine_group(cvx("088"), "INFLUENZA, UNSPECIFIED"),
            "Influenza"
        );
        assert_eq!(vaccine_group(cvx("208"), "whatever"), "COVID-19");
        assert_eq!(vaccine_group(cvx("115"), "TDAP Tdap"), "Tdap/DTaP");
        assert_eq!(
            vaccine_group(cvx("113"), "TD (ADULT), PRESERVATIVE FREE"),
            "Tdap/DTaP"
        );
        assert_eq!(
            vaccine_group(cvx("033"), "PNEUMOCOCCAL POLYSACCHARIDE PPV23"),
            "Pneumococcal"
        );
        assert_eq!(
            vaccine_group(cvx("216"), "Pneumococcal conjugate PCV20"),
            "Pneumococcal"
        );
        assert_eq!(
            vaccine_group(cvx("187"), "ZOSTER RECOMBINANT (SHINGRIX)"),
            "Shingles"
        );
        assert_eq!(vaccine_group(cvx("121"), "zoster live"), "Shingles");
        assert_eq!(
            vaccine_group(cvx("104"), "HEPATITIS A AND HEPATITIS B Hep A-Hep B"),
            "Hepatitis"
        );
        assert_eq!(vaccine_group(cvx("021"), "VARICELLA"), "Varicella");
        assert_eq!(vaccine_group(cvx("003"), "MMR"), "MMR");
        assert_eq!(
            vaccine_group(cvx("094"), "MMRV measles, mumps, rubella, varicella"),
            "MMR"
        );
        assert_eq!(
            vaccine_group(cvx("010"), "POLIO, INACTIVATED (IPV)"),
            "Polio"
        );
        assert_eq!(vaccine_group(cvx("062"), "HPV, QUADRIVALENT"), "HPV");
        assert_eq!(vaccine_group(cvx("049"), "HIB (PRP-OMP)"), "Hib");
        assert_eq!(vaccine_group(cvx("120"), "DTaP-Hib-IPV"), "Tdap/DTaP");
        assert_eq!(
            vaccine_group(cvx("127"), "Novel influenza-H1N1-09"),
            "Influenza"
        );
        assert_eq!(vaccine_group(None, "BCG"), "Other");
        // "FLU" must be a word prefix, not any substring.
        assert_eq!(vaccine_group(None, "REFLUX"), "Other");
    }

    #[test]
    fn facility_and_vaccine_end_to_end() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        lake.put_bronze(
            &c::DIM_STA3N,
            df!(
                "Sta3n" => [Some(516i64), Some(508), None, Some(552), Some(508), Some(999)],
                "Sta3nName" => s(&[
                    Some("(516) Bay Pines, FL  "),
                    Some("(508) Atlanta, GA (old)"),
                    Some("(000) Nowhere"),
                    Some("(552) Dayton, OH"),
                    Some(" (508) Atlanta, GA"),
                    Some("   "),
                ]),
                "Active" => s(&[Some("Y"), Some("N"), Some("Y"), None, Some("y "), Some("Y")]),
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_VACCINE,
            df!(
                "VaccineSID" => [1i64, 2, 3, 4, 5, 6, 7],
                "VaccineName" => s(&[
                    Some("INFLUENZA, UNSPECIFIED FORMULATION "),
                    Some("TDAP"),
                    Some("ZOSTER LIVE (ZOSTAVAX)"),
                    Some("FLU DUPLICATE"),
                    Some("BROKEN"),
                    None,
                    Some("   "),
                ]),
                "VaccineShortName" => s(&[
                    Some("influenza, unspecified formulation"),
                    Some("Tdap"),
                    Some("zoster live"),
                    None,
                    None,
                    Some("Hep B, adult"),
                    None,
                ]),
                "CVXCode" => s(&[Some("088"), Some(" 115"), Some("121"), Some("88"), Some("ABC"), Some("043"), Some("999")]),
                "IsInactive" => s(&[Some("N"), None, Some("Y"), Some("N"), Some("N"), Some("N"), Some("N")]),
            )
            .unwrap(),
        );
        silver(ctx).unwrap();
        gold(ctx).unwrap();

        let fac = ctx.gold("reference/facility").unwrap();
        assert_eq!(
            common::texts(&fac, "sta3n").unwrap(),
            s(&[Some("508"), Some("516"), Some("552")])
        );
        assert_eq!(
            common::texts(&fac, "facility_name").unwrap(),
            s(&[
                Some("(508) Atlanta, GA"),
                Some("(516) Bay Pines, FL"),
                Some("(552) Dayton, OH")
            ])
        );
        let active = bools(&fac, "is_active");
        assert_eq!(active, vec![Some(true), Some(true), Some(false)]);
        check_serving(ctx, &PIPELINE.outputs[0], fac);

        let vac = ctx.gold("reference/vaccine").unwrap();
        assert_eq!(
            common::texts(&vac, "cvx_code").unwrap(),
            s(&[Some("43"), Some("88"), Some("115"), Some("121")])
        );
        assert_eq!(
            common::texts(&vac, "vaccine_name").unwrap(),
            s(&[
                Some("Hep B, adult"),
                Some("INFLUENZA, UNSPECIFIED FORMULATION"),
                Some("TDAP"),
                Some("ZOSTER LIVE (ZOSTAVAX)"),
            ])
        );
        assert_eq!(
            common::texts(&vac, "vaccine_group").unwrap(),
            s(&[
                Some("Hepatitis"),
                Some("Influenza"),
                Some("Tdap/DTaP"),
                Some("Shingles")
            ])
        );
        assert_eq!(
            common::texts(&vac, "typical_series_pattern").unwrap(),
            s(&[None, Some("Annual"), None, None])
        );
        let active = bools(&vac, "is_active");
        assert_eq!(
            active,
            vec![Some(true), Some(true), Some(true), Some(false)]
        );
        check_serving(ctx, &PIPELINE.outputs[1], vac);

        let mut q: Vec<(String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_id, q.reason))
            .collect();
        q.sort();
        let want = [
            ("4", "duplicate CVX code"),
            ("5", "invalid CVX code"),
            ("508", "duplicate station code"),
            ("7", "missing vaccine name"),
            ("999", "missing facility name"),
            ("row 3", "missing station code"),
        ];
        assert_eq!(
            q,
            want.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
    }
}
