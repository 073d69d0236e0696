//! Drug–drug interaction reference: the DrugBank-style CSV
//! (`Drug 1,Drug 2,Interaction Description`), landed by
//! `bronze::land_ddi` as `bronze/ddi/ddi_raw.parquet` → `reference.ddi`.
//!
//! Dedup policy: one row per UNORDERED drug pair, compared AFTER trimming,
//! collapsing inner whitespace and lower-casing both names (the original
//! de-duplicated before lower-casing, so `Warfarin,Aspirin` and
//! `warfarin,aspirin` both survived and then collided on the unique key).
//! The first row of the CSV wins, keeping its drug order; `(a, b)` and
//! `(b, a)` are the same pair. Dropped duplicates are not errors and are
//! not quarantined (they are counted in the log).
//!
//! Rules: headers are matched case-insensitively with spaces read as `_`
//! (`Drug 1` → `drug_1`); descriptions are trimmed. Gold is sorted by
//! `(drug_1, drug_2)`. Without a landed CSV (a SQL Server CDW has none
//! unless one is given) the reference is empty rather than the run failing.
//!
//! Quarantine reasons: `blank field` (a drug name or the description is
//! missing or blank), keyed by the CSV data-row number (1 = first row after
//! the header).

use super::{Output, Pipeline};
use crate::common::{self, clean};
use crate::ctx::Ctx;
use anyhow::{Result, bail};
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "ddi",
    tables: &[],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD,
        table: &store::catalog::REFERENCE_DDI,
    }],
};

const DOMAIN: &str = "ddi";
const BRONZE: &str = "bronze/ddi/ddi_raw.parquet";
const SOURCE: &str = "db_drug_interactions.csv";
const GOLD: &str = "ddi/ddi_reference";
const COLUMNS: [&str; 3] = ["drug_1", "drug_2", "interaction_description"];

/// A drug name: trimmed, inner whitespace collapsed, lower case; blank → NULL.
fn drug(name: &str) -> Expr {
    clean(name)
        .str()
        .replace_all(lit(r"\s+"), lit(" "), false)
        .str()
        .to_lowercase()
}

/// The raw CSV frame with its columns renamed to `drug_1`, `drug_2`,
/// `interaction_description`.
fn raw(ctx: &Ctx) -> Result<DataFrame> {
    if !ctx.lake.exists(BRONZE)? {
        tracing::warn!("{BRONZE} was not landed: reference.ddi will be empty");
        let cols = COLUMNS
            .iter()
            .map(|c| Column::new_empty((*c).into(), &DataType::String))
            .collect();
        return Ok(DataFrame::new(0, cols)?);
    }
    let mut df = ctx.lake.read_parquet(BRONZE)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    for name in names {
        let norm = name.trim().to_lowercase().replace(' ', "_");
        if COLUMNS.contains(&norm.as_str()) && norm != name {
            df.rename(&name, norm.into())?;
        }
    }
    for c in COLUMNS {
        if df.column(c).is_err() {
            bail!(
                "{SOURCE}: no column {c:?} (expected the header `Drug 1,Drug 2,Interaction Description`)"
            );
        }
    }
    Ok(df)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let df = raw(ctx)?
        .lazy()
        .with_row_index("__row", Some(1))
        .select([
            col("__row").cast(DataType::Int64),
            drug("drug_1").alias("drug_1"),
            drug("drug_2").alias("drug_2"),
            clean("interaction_description").alias("interaction_description"),
        ])
        .collect()?;
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        SOURCE,
        df,
        "__row",
        common::Check {
            bad: col("drug_1")
                .is_null()
                .or(col("drug_2").is_null())
                .or(col("interaction_description").is_null()),
            reason: "blank field",
            detail: "Drug 1, Drug 2 or Interaction Description is missing or blank",
        },
    )?;
    let before = df.height();
    let first = col("drug_1").lt_eq(col("drug_2"));
    let mut df = df
        .lazy()
        .with_columns([
            when(first.clone())
                .then(col("drug_1"))
                .otherwise(col("drug_2"))
                .alias("__a"),
            when(first)
                .then(col("drug_2"))
                .otherwise(col("drug_1"))
                .alias("__b"),
        ])
        .sort(["__row"], SortMultipleOptions::default())
        .unique_stable(Some(cols(["__a", "__b"])), UniqueKeepStrategy::First)
        .select([col("drug_1"), col("drug_2"), col("interaction_description")])
        .collect()?;
    let dropped = before - df.height();
    if dropped > 0 {
        tracing::info!("ddi: {dropped} duplicate drug pairs dropped (first row kept)");
    }
    ctx.write_silver(DOMAIN, "ddi_clean", &mut df)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx
        .silver(DOMAIN, "ddi_clean")?
        .sort(
            ["drug_1", "drug_2"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    ctx.write_gold(GOLD, &mut df)
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

    fn s(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(str::to_string)).collect()
    }

    /// Lands `csv` the way `bronze::land_ddi` does.
    fn land(lake: &TestLake, csv: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOURCE);
        std::fs::write(&path, csv).unwrap();
        crate::bronze::land_ddi(&lake.ctx, &path).unwrap();
    }

    #[test]
    fn pairs_are_cleaned_and_deduplicated_after_lower_casing() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        land(
            &lake,
            "Drug 1,Drug 2,Interaction Description\r\n\
             Warfarin ,Aspirin,  Bleeding risk.  \r\n\
             warfarin,aspirin,Duplicate after lower-casing.\r\n\
             Aspirin,WARFARIN,Reversed duplicate.\r\n\
             Oxycodone,Lorazepam,CNS depression.\r\n\
             ,Lorazepam,No first drug.\r\n\
             Simvastatin,Clarithromycin,   \r\n\
             Sildenafil,  Isosorbide   Mononitrate ,Hypotension.\r\n",
        );
        silver(ctx).unwrap();
        gold(ctx).unwrap();
        let g = ctx.gold(GOLD).unwrap();
        assert_eq!(
            common::texts(&g, "drug_1").unwrap(),
            s(&[Some("oxycodone"), Some("sildenafil"), Some("warfarin")])
        );
        assert_eq!(
            common::texts(&g, "drug_2").unwrap(),
            s(&[
                Some("lorazepam"),
                Some("isosorbide mononitrate"),
                Some("aspirin")
            ])
        );
        assert_eq!(
            common::texts(&g, "interaction_description").unwrap(),
            s(&[
                Some("CNS depression."),
                Some("Hypotension."),
                Some("Bleeding risk.")
            ])
        );
        check_serving(ctx, &PIPELINE.outputs[0], g);
        let mut q: Vec<(String, String)> = ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_id, q.reason))
            .collect();
        q.sort();
        assert_eq!(
            q,
            vec![
                ("5".to_string(), "blank field".to_string()),
                ("6".to_string(), "blank field".to_string()),
            ]
        );
    }

    #[test]
    fn the_mock_csv_header_is_understood() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        land(&lake, mock::assets::DDI_CSV.1);
        silver(ctx).unwrap();
        gold(ctx).unwrap();
        let g = ctx.gold(GOLD).unwrap();
        // The mock has 433 distinct unordered pairs, no blanks, no duplicates.
        assert_eq!(g.height(), 433);
        assert!(ctx.quarantined(DOMAIN).is_empty());
        check_serving(ctx, &PIPELINE.outputs[0], g);
    }

    #[test]
    fn no_csv_means_an_empty_reference() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        silver(ctx).unwrap();
        gold(ctx).unwrap();
        let g = ctx.gold(GOLD).unwrap();
        assert_eq!(g.height(), 0);
        check_serving(ctx, &PIPELINE.outputs[0], g);
    }

    #[test]
    fn a_wrong_header_is_an_error() {
        let lake = TestLake::new();
        land(&lake, "a,b,c\r\nx,y,z\r\n");
        assert!(silver(&lake.ctx).is_err());
    }
}
