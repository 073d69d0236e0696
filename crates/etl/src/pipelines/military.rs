//! Military history: `SPatient.SPatientDisability` → `clinical.patient_military_history`.
//!
//! Dedup policy: one row per ICN. Disability rows are attached to their
//! patient by PatientSID → ICN (bronze `SPatient.SPatient`); when a patient
//! has several rows (several records, or several PatientSIDs for one ICN),
//! the row with the HIGHEST `SPatientDisabilitySID` (the newest record)
//! wins. The other rows are superseded history, not errors, so they are not
//! quarantined.
//!
//! Rules: the flag columns (service connected, Agent Orange, ionizing
//! radiation, POW, SHAD, SW Asia, Camp Lejeune) are normalised to `Y`/`N`
//! (`Y`/`YES`/`1`/`TRUE` → `Y`, `N`/`NO`/`0`/`FALSE` → `N`, trimmed, any
//! case); anything else — NULL, blank, `U`nknown — is NULL (not reported).
//! Locations are trimmed. `patient_key` = `icn` = the patient's ICN;
//! `source_id` = `SPatientDisabilitySID`.
//!
//! Quarantine reasons: `unknown patient` (PatientSID without an SPatient
//! ICN), `implausible service-connected percent` (outside 0–100). Quarantine
//! happens before the dedup, so a bad newest row lets the previous one win.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "military",
    tables: &[&c::S_PATIENT_S_PATIENT_DISABILITY],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD,
        table: &store::catalog::PATIENT_MILITARY_HISTORY,
    }],
};

const DOMAIN: &str = "military";
const TABLE: &str = "SPatient.SPatientDisability";
const GOLD: &str = "patient_military_history/military_history";

/// A Y/N flag: yes-words → `Y`, no-words → `N`, anything else → NULL.
fn yn(name: &str) -> Expr {
    let e = clean_upper(name);
    let any = |words: &[&str]| {
        words
            .iter()
            .fold(lit(false), |acc, w| acc.or(e.clone().eq(lit(*w))))
    };
    when(any(&["Y", "YES", "1", "TRUE"]))
        .then(lit("Y"))
        .when(any(&["N", "NO", "0", "FALSE"]))
        .then(lit("N"))
        .otherwise(lit(NULL).cast(DataType::String))
}

fn silver(ctx: &Ctx) -> Result<()> {
    let lf = ctx.bronze(&c::S_PATIENT_S_PATIENT_DISABILITY)?.select([
        col("SPatientDisabilitySID")
            .cast(DataType::Int64)
            .alias("disability_sid"),
        col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
        yn("ServiceConnectedFlag").alias("service_connected_flag"),
        col("ServiceConnectedPercent")
            .cast(DataType::Float64)
            .alias("service_connected_percent"),
        yn("AgentOrangeExposureCode").alias("agent_orange_exposure"),
        clean("AgentOrangeLocation").alias("agent_orange_location"),
        yn("IonizingRadiationCode").alias("ionizing_radiation"),
        yn("POWStatusCode").alias("pow_status"),
        clean("POWLocation").alias("pow_location"),
        yn("SHADFlag").alias("shad_flag"),
        yn("SWAsiaCode").alias("sw_asia_exposure"),
        yn("CampLejeuneFlag").alias("camp_lejeune_flag"),
    ]);
    let df = common::resolve_patients(ctx, DOMAIN, TABLE, lf, "patient_sid", "disability_sid")?;
    let pct = col("service_connected_percent");
    let df = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        df,
        "disability_sid",
        common::Check {
            bad: pct.clone().lt(lit(0.0)).or(pct.gt(lit(100.0))),
            reason: "implausible service-connected percent",
            detail: "ServiceConnectedPercent is outside 0-100",
        },
    )?;
    let mut df = df
        .lazy()
        .sort(
            ["patient_icn", "disability_sid"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true])
                .with_maintain_order(true),
        )
        .unique_stable(Some(cols(["patient_icn"])), UniqueKeepStrategy::First)
        .collect()?;
    ctx.write_silver(DOMAIN, "military_history_cleaned", &mut df)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx
        .silver(DOMAIN, "military_history_cleaned")?
        .select([
            col("patient_icn").alias("patient_key"),
            col("patient_icn").alias("icn"),
            lit("CDWWork").alias("source_system"),
            col("disability_sid")
                .cast(DataType::String)
                .alias("source_id"),
            col("service_connected_flag"),
            col("service_connected_percent"),
            col("agent_orange_exposure"),
            col("agent_orange_location"),
            col("ionizing_radiation"),
            col("pow_status"),
            col("pow_location"),
            col("shad_flag"),
            col("sw_asia_exposure"),
            col("camp_lejeune_flag"),
        ])
        .sort(["patient_key"], SortMultipleOptions::default())
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

    #[test]
    fn one_row_per_icn_with_normalised_flags() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002, 2001, 2101],
                "PatientICN" => s(&[Some("ICN100001"), Some("ICN100002 "), Some("ICN200001"), Some("ICN200001")]),
            )
            .unwrap(),
        );
        // 1001: two records, the newer (SID 11) wins.
        // 1002: newest record (SID 14) has an impossible percent → quarantined,
        //       so SID 13 wins.
        // 2001/2101: two PatientSIDs for one ICN → highest SID (16) wins.
        // 99999999: orphan → unknown patient.
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT_DISABILITY,
            df!(
                "SPatientDisabilitySID" => [10i64, 11, 13, 14, 15, 16, 17],
                "PatientSID" => [1001i64, 1001, 1002, 1002, 2001, 2101, 99999999],
                "ServiceConnectedFlag" => s(&[Some("N"), Some("y "), Some("N"), Some("Y"), Some("Y"), Some("YES"), Some("Y")]),
                "ServiceConnectedPercent" => [Some(0.0), Some(70.0), None, Some(150.0), Some(10.0), Some(30.0), Some(50.0)],
                "AgentOrangeExposureCode" => s(&[None, Some("Y"), Some("U"), None, None, Some("n"), None]),
                "AgentOrangeLocation" => s(&[None, Some(" VIETNAM "), None, None, None, Some("  "), None]),
                "IonizingRadiationCode" => s(&[None, Some("N"), Some("N"), None, None, Some("N"), None]),
                "POWStatusCode" => s(&[None, Some("N"), Some("Y"), None, None, Some("N"), None]),
                "POWLocation" => s(&[None, None, Some("KOREAN"), None, None, None, None]),
                "SHADFlag" => s(&[None, Some("N"), Some("N"), None, None, Some("N"), None]),
                "SWAsiaCode" => s(&[None, None, None, None, None, Some("Y"), None]),
                "CampLejeuneFlag" => s(&[None, Some("N"), Some(""), None, None, Some("Y"), None]),
            )
            .unwrap(),
        );
        silver(ctx).unwrap();
        gold(ctx).unwrap();
        let g = ctx.gold(GOLD).unwrap();
        let t = |c: &str| common::texts(&g, c).unwrap();
        assert_eq!(
            t("patient_key"),
            s(&[Some("ICN100001"), Some("ICN100002"), Some("ICN200001")])
        );
        assert_eq!(t("icn"), t("patient_key"));
        assert_eq!(t("source_system"), s(&[Some("CDWWork"); 3]));
        assert_eq!(t("source_id"), s(&[Some("11"), Some("13"), Some("16")]));
        assert_eq!(
            t("service_connected_flag"),
            s(&[Some("Y"), Some("N"), Some("Y")])
        );
        assert_eq!(
            common::floats(&g, "service_connected_percent").unwrap(),
            vec![Some(70.0), None, Some(30.0)]
        );
        assert_eq!(t("agent_orange_exposure"), s(&[Some("Y"), None, Some("N")]));
        assert_eq!(
            t("agent_orange_location"),
            s(&[Some("VIETNAM"), None, None])
        );
        assert_eq!(
            t("ionizing_radiation"),
            s(&[Some("N"), Some("N"), Some("N")])
        );
        assert_eq!(t("pow_status"), s(&[Some("N"), Some("Y"), Some("N")]));
        assert_eq!(t("pow_location"), s(&[None, Some("KOREAN"), None]));
        assert_eq!(t("shad_flag"), s(&[Some("N"), Some("N"), Some("N")]));
        assert_eq!(t("sw_asia_exposure"), s(&[None, None, Some("Y")]));
        assert_eq!(t("camp_lejeune_flag"), s(&[Some("N"), None, Some("Y")]));
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
                (
                    "14".to_string(),
                    "implausible service-connected percent".to_string()
                ),
                ("17".to_string(), "unknown patient".to_string()),
            ]
        );
    }
}
