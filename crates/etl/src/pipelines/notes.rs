//! Clinical notes (CDWWork TIU): `TIU.TIUDocument_8925` joined with
//! `Dim.TIUDocumentDefinition`, author and cosigner `SStaff.SStaff`,
//! `TIU.TIUDocumentText` and `Dim.Sta3n` → `clinical.patient_clinical_notes`.
//!
//! Dedup policy: one row per `TIUDocumentSID`; if a document SID repeats,
//! the most recently updated row wins (`UpdatedDateTimeUTC`, then
//! `EntryDateTime`, NULLs last, then source order). One text per document:
//! if `TIU.TIUDocumentText` repeats a SID, the longest text wins. Definitions
//! are one per `DocumentDefinitionSID` (first in source order), inactive
//! definitions included — an inactive title still names its old notes.
//!
//! Status policy: unlike the original (which kept `Status = 'COMPLETED'`
//! only), every status is landed — the web filters by status (COMPLETED,
//! UNSIGNED, AMENDED, …) — EXCEPT withdrawn documents (`RETRACTED`,
//! `ENTERED IN ERROR`, `DELETED`, `PURGED`), which are quarantined
//! (`withdrawn note`) and never served.
//!
//! Rules: `document_class` is the definition's class normalised to
//! Progress Notes / Consults / Discharge Summaries / Imaging (radiology and
//! imaging classes) / Other (blank, unknown or missing definition);
//! `text_preview` = the first 200 characters, cut at the last whitespace if
//! that falls in the last 20 %, plus `...` (texts of ≤ 200 characters are
//! shown whole); `text_length` = `TextLength`, backfilled with the text's
//! character count when NULL (NULL when there is no text); a document
//! without a text row is kept with NULL text. `reference_datetime` falls back
//! to `EntryDateTime`. `facility_name` comes from `Dim.Sta3n`; author and
//! cosigner names from `SStaff`; `patient_key` = ICN.
//!
//! Quarantine reasons: `withdrawn note`, `unknown patient` (PatientSID
//! without an SPatient ICN), `missing note date` (no reference nor entry
//! date).

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "notes",
    tables: &[
        &c::TIU_TIU_DOCUMENT_8925,
        &c::DIM_TIU_DOCUMENT_DEFINITION,
        &c::TIU_TIU_DOCUMENT_TEXT,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: GOLD,
        table: &store::catalog::PATIENT_CLINICAL_NOTES,
    }],
};

const DOMAIN: &str = "notes";
const TABLE: &str = "TIU.TIUDocument_8925";
const GOLD: &str = "clinical_notes/clinical_notes_final";

/// Statuses of documents that were withdrawn and must not be shown.
const WITHDRAWN: [&str; 5] = [
    "RETRACTED",
    "ENTERED IN ERROR",
    "ENTERED-IN-ERROR",
    "DELETED",
    "PURGED",
];

/// Characters in a text preview.
const PREVIEW_CHARS: usize = 200;

/// Normalises a TIU document class.
pub(crate) fn document_class(raw: Option<&str>) -> &'static str {
    let l = raw.unwrap_or_default().trim().to_lowercase();
    if l.contains("discharge") {
        "Discharge Summaries"
    } else if l.contains("consult") {
        "Consults"
    } else if l.contains("progress") {
        "Progress Notes"
    } else if l.contains("imaging") || l.contains("radiology") {
        "Imaging"
    } else {
        "Other"
    }
}

/// The first 200 characters of a note, cut at the last whitespace when it
/// lies in the last 20 % of them, followed by `...`; short texts whole.
pub(crate) fn text_preview(text: &str) -> String {
    let t = text.trim();
    let chars: Vec<char> = t.chars().take(PREVIEW_CHARS + 1).collect();
    if chars.len() <= PREVIEW_CHARS {
        return t.to_string();
    }
    let head = &chars[..PREVIEW_CHARS];
    let end = match head.iter().rposition(|c| c.is_whitespace()) {
        Some(p) if p >= PREVIEW_CHARS * 4 / 5 => p,
        _ => PREVIEW_CHARS,
    };
    let s: String = head[..end].iter().collect();
    format!("{}...", s.trim_end())
}

fn ts(name: &str) -> Expr {
    col(name).cast(DataType::Datetime(TimeUnit::Microseconds, None))
}

fn silver(ctx: &Ctx) -> Result<()> {
    let docs = ctx
        .bronze(&c::TIU_TIU_DOCUMENT_8925)?
        .select([
            col("TIUDocumentSID")
                .cast(DataType::Int64)
                .alias("tiu_document_sid"),
            col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
            col("DocumentDefinitionSID")
                .cast(DataType::Int64)
                .alias("document_definition_sid"),
            coalesce(&[ts("ReferenceDateTime"), ts("EntryDateTime")]).alias("reference_datetime"),
            ts("EntryDateTime").alias("entry_datetime"),
            clean_upper("Status").alias("status"),
            col("AuthorSID").cast(DataType::Int64).alias("author_sid"),
            col("CosignerSID")
                .cast(DataType::Int64)
                .alias("cosigner_sid"),
            col("VisitSID").cast(DataType::Int64).alias("visit_sid"),
            int_text("Sta3n").alias("sta3n"),
            clean("TIUDocumentIEN").alias("tiu_document_ien"),
            ts("UpdatedDateTimeUTC").alias("__updated"),
        ])
        .collect()?;
    let docs = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        docs,
        "tiu_document_sid",
        common::Check {
            bad: WITHDRAWN
                .iter()
                .fold(lit(false), |acc, w| acc.or(col("status").eq(lit(*w)))),
            reason: "withdrawn note",
            detail: "Status is RETRACTED, ENTERED IN ERROR, DELETED or PURGED",
        },
    )?;
    let docs = common::resolve_patients(
        ctx,
        DOMAIN,
        TABLE,
        docs.lazy(),
        "patient_sid",
        "tiu_document_sid",
    )?;
    let docs = common::quarantine_where(
        ctx,
        DOMAIN,
        TABLE,
        docs,
        "tiu_document_sid",
        common::Check {
            bad: col("reference_datetime").is_null(),
            reason: "missing note date",
            detail: "ReferenceDateTime and EntryDateTime are both NULL",
        },
    )?;
    let docs = docs
        .lazy()
        .sort(
            ["tiu_document_sid", "__updated", "entry_datetime"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, true])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(Some(cols(["tiu_document_sid"])), UniqueKeepStrategy::First);

    let definitions = ctx
        .bronze(&c::DIM_TIU_DOCUMENT_DEFINITION)?
        .select([
            col("DocumentDefinitionSID")
                .cast(DataType::Int64)
                .alias("__def_sid"),
            clean("TIUDocumentTitle").alias("document_title"),
            clean("DocumentClass").alias("__class_raw"),
            clean("VHAEnterpriseStandardTitle").alias("vha_standard_title"),
        ])
        .unique_stable(Some(cols(["__def_sid"])), UniqueKeepStrategy::First);
    let mut texts = ctx
        .bronze(&c::TIU_TIU_DOCUMENT_TEXT)?
        .select([
            col("TIUDocumentSID")
                .cast(DataType::Int64)
                .alias("__text_sid"),
            col("DocumentText")
                .cast(DataType::String)
                .alias("document_text"),
            col("TextLength")
                .cast(DataType::Int64)
                .alias("__source_length"),
        ])
        .collect()?;
    // Blank texts count as missing; the text itself is kept verbatim.
    let raw = common::texts(&texts, "document_text")?;
    let text: Vec<Option<String>> = raw
        .into_iter()
        .map(|t| t.filter(|t| !t.trim().is_empty()))
        .collect();
    let chars: Vec<Option<i64>> = text
        .iter()
        .map(|t| t.as_ref().map(|t| t.chars().count() as i64))
        .collect();
    common::with_series(&mut texts, common::series("document_text", text))?;
    common::with_series(&mut texts, common::series("__chars", chars))?;
    let texts = texts
        .lazy()
        .sort(
            ["__text_sid", "__chars"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(Some(cols(["__text_sid"])), UniqueKeepStrategy::First);

    let lf = docs
        .join(
            definitions,
            [col("document_definition_sid")],
            [col("__def_sid")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            texts,
            [col("tiu_document_sid")],
            [col("__text_sid")],
            JoinArgs::new(JoinType::Left),
        );
    let lf = common::lookup(
        lf,
        col("author_sid"),
        common::staff_names(ctx)?,
        "__staff_sid",
        &[("staff_name", "author_name")],
    );
    let lf = common::lookup(
        lf,
        col("cosigner_sid"),
        common::staff_names(ctx)?,
        "__staff_sid",
        &[("staff_name", "cosigner_name")],
    );
    let lf = common::lookup(
        lf,
        col("sta3n"),
        common::facility_names(ctx)?,
        "__sta3n",
        &[("facility_name", "facility_name")],
    );
    let mut df = lf
        .with_column(
            when(col("document_text").is_null())
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(coalesce(&[col("__source_length"), col("__chars")]))
                .alias("text_length"),
        )
        .collect()?;
    let classes: Vec<&str> = common::texts(&df, "__class_raw")?
        .iter()
        .map(|c| document_class(c.as_deref()))
        .collect();
    let previews: Vec<Option<String>> = common::texts(&df, "document_text")?
        .iter()
        .map(|t| t.as_deref().map(text_preview))
        .collect();
    common::with_series(&mut df, common::series("document_class", classes))?;
    common::with_series(&mut df, common::series("text_preview", previews))?;
    let mut df = df
        .lazy()
        .drop(cols([
            "__class_raw",
            "__source_length",
            "__chars",
            "__updated",
        ]))
        .sort(["tiu_document_sid"], SortMultipleOptions::default())
        .collect()?;
    ctx.write_silver(DOMAIN, "clinical_notes", &mut df)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let mut df = ctx
        .silver(DOMAIN, "clinical_notes")?
        .select([
            col("patient_icn").alias("patient_key"),
            lit("CDWWork").alias("source_system"),
            col("tiu_document_sid")
                .cast(DataType::String)
                .alias("source_id"),
            col("tiu_document_sid"),
            col("document_definition_sid"),
            col("document_title"),
            col("document_class"),
            col("vha_standard_title"),
            col("status"),
            col("reference_datetime"),
            col("entry_datetime"),
            col("author_sid"),
            col("author_name"),
            col("cosigner_sid"),
            col("cosigner_name"),
            col("visit_sid"),
            col("sta3n"),
            col("facility_name"),
            col("document_text"),
            col("text_length"),
            col("text_preview"),
            col("tiu_document_ien"),
        ])
        .sort(
            ["patient_key", "reference_datetime", "tiu_document_sid"],
            SortMultipleOptions::default()
                .with_order_descending_multi(vec![false, true, false])
                .with_maintain_order(true),
        )
        .collect()?;
    ctx.write_gold(GOLD, &mut df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, ts};

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
    fn classes_are_normalised() {
        assert_eq!(document_class(Some("Progress Notes")), "Progress Notes");
        assert_eq!(document_class(Some(" PROGRESS NOTE ")), "Progress Notes");
        assert_eq!(document_class(Some("Consults")), "Consults");
        assert_eq!(
            document_class(Some("Discharge Summaries")),
            "Discharge Summaries"
        );
        assert_eq!(document_class(Some("Imaging")), "Imaging");
        assert_eq!(document_class(Some("Radiology Reports")), "Imaging");
        assert_eq!(document_class(Some("")), "Other");
        assert_eq!(document_class(None), "Other");
        assert_eq!(document_class(Some("Addendum")), "Other");
    }

    #[test]
    fn previews_cut_at_a_late_space() {
        assert_eq!(text_preview("  short note \n"), "short note");
        let exact = "x".repeat(200);
        assert_eq!(text_preview(&exact), exact);
        // A space at char 180 (in the last 20 %) → cut there.
        let late = format!("{} {}", "a".repeat(180), "b".repeat(50));
        assert_eq!(text_preview(&late), format!("{}...", "a".repeat(180)));
        // The only space at char 100 (too early) → hard cut at 200.
        let early = format!("{} {}", "a".repeat(100), "b".repeat(150));
        assert_eq!(
            text_preview(&early),
            format!("{} {}...", "a".repeat(100), "b".repeat(99))
        );
        // Multi-byte characters count as one.
        let wide = "é".repeat(250);
        assert_eq!(text_preview(&wide), format!("{}...", "é".repeat(200)));
    }

    #[test]
    fn notes_end_to_end() {
        let lake = TestLake::new();
        let ctx = &lake.ctx;
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002],
                "PatientICN" => s(&[Some("ICN100001"), Some("ICN100002")]),
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_STA3N,
            df!(
                "Sta3n" => [508i64],
                "Sta3nName" => ["(508) Atlanta, GA "],
                "Active" => ["Y"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::S_STAFF_S_STAFF,
            df!(
                "StaffSID" => [1i64, 2],
                "StaffName" => ["SMITH,JANE ", "DOE,JOHN"],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_TIU_DOCUMENT_DEFINITION,
            df!(
                "DocumentDefinitionSID" => [1i64, 8, 9, 13],
                "TIUDocumentTitle" => ["PRIMARY CARE NOTE", "CHEST X-RAY REPORT", "CT HEAD REPORT", "SOCIAL WORK NOTE"],
                "DocumentClass" => s(&[Some("Progress Notes"), Some("Imaging"), Some("Radiology Reports"), None]),
                "VHAEnterpriseStandardTitle" => ["PRIMARY CARE NOTE", "RADIOLOGY REPORT", "RADIOLOGY REPORT", "SOCIAL WORK NOTE"],
                "IsActive" => [true, true, false, true],
            )
            .unwrap(),
        );
        let long = format!("{} {}", "a".repeat(190), "b".repeat(40));
        // 1: completed, 1001, with text and NULL TextLength (backfilled).
        // 2: unsigned, 1001, no text row, cosigned, imaging.
        // 3: retracted → withdrawn.
        // 4: orphan patient → unknown patient.
        // 5: no dates → missing note date.
        // 6: AMENDED, 1002, inactive def (radiology), NULL reference date →
        //    entry date; appears twice (newer update wins); two text rows
        //    (longest wins).
        // 7: 1002, unknown definition, NULL station.
        lake.put_bronze(
            &c::TIU_TIU_DOCUMENT_8925,
            df!(
                "TIUDocumentSID" => [1i64, 2, 3, 4, 5, 6, 6, 7],
                "PatientSID" => [1001i64, 1001, 1001, 99999999, 1002, 1002, 1002, 1002],
                "DocumentDefinitionSID" => [1i64, 8, 1, 1, 1, 9, 9, 77],
                "ReferenceDateTime" => [
                    Some(ts("2025-01-10 09:00")), Some(ts("2025-03-01 10:00")), Some(ts("2025-02-01 10:00")),
                    Some(ts("2025-02-01 10:00")), None, None, None, Some(ts("2024-12-01 08:00")),
                ],
                "EntryDateTime" => [
                    Some(ts("2025-01-10 09:30")), Some(ts("2025-03-01 10:30")), None, None, None,
                    Some(ts("2025-04-01 11:00")), Some(ts("2025-04-01 11:00")), None,
                ],
                "UpdatedDateTimeUTC" => [
                    None, None, None, None, None,
                    Some(ts("2025-04-02 00:00")), Some(ts("2025-04-05 00:00")), None,
                ],
                "Status" => s(&[Some("COMPLETED"), Some("unsigned "), Some("RETRACTED"), Some("COMPLETED"), Some("COMPLETED"), Some("AMENDED"), Some("AMENDED"), Some("COMPLETED")]),
                "AuthorSID" => [Some(1i64), Some(1), Some(1), Some(1), Some(1), Some(2), Some(2), Some(404)],
                "CosignerSID" => [None, Some(2i64), None, None, None, None, None, None],
                "VisitSID" => [11i64, 12, 13, 14, 15, 16, 16, 17],
                "Sta3n" => [Some(508i64), Some(508), Some(508), Some(508), Some(508), Some(508), Some(508), None],
                "TIUDocumentIEN" => s(&[Some("9000001"), Some("9000002"), Some("9000003"), Some("9000004"), Some("9000005"), Some("old"), Some("9000006 "), Some("9000007")]),
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::TIU_TIU_DOCUMENT_TEXT,
            df!(
                "TIUDocumentSID" => [1i64, 6, 6, 7],
                "DocumentText" => [long.as_str(), "short", "Chest clear.", "   "],
                "TextLength" => [None, Some(5i64), Some(12), Some(3)],
            )
            .unwrap(),
        );
        silver(ctx).unwrap();
        gold(ctx).unwrap();
        let g = ctx.gold(GOLD).unwrap();
        let t = |c: &str| common::texts(&g, c).unwrap();
        let i = |c: &str| common::ints(&g, c).unwrap();
        // Sorted by patient, reference date desc.
        assert_eq!(
            i("tiu_document_sid"),
            vec![Some(2), Some(1), Some(6), Some(7)]
        );
        assert_eq!(
            t("source_id"),
            s(&[Some("2"), Some("1"), Some("6"), Some("7")])
        );
        assert_eq!(t("source_system"), s(&[Some("CDWWork"); 4]));
        assert_eq!(
            t("patient_key"),
            s(&[
                Some("ICN100001"),
                Some("ICN100001"),
                Some("ICN100002"),
                Some("ICN100002")
            ])
        );
        assert_eq!(
            t("status"),
            s(&[
                Some("UNSIGNED"),
                Some("COMPLETED"),
                Some("AMENDED"),
                Some("COMPLETED")
            ])
        );
        assert_eq!(
            t("document_class"),
            s(&[
                Some("Imaging"),
                Some("Progress Notes"),
                Some("Imaging"),
                Some("Other")
            ])
        );
        assert_eq!(
            t("document_title"),
            s(&[
                Some("CHEST X-RAY REPORT"),
                Some("PRIMARY CARE NOTE"),
                Some("CT HEAD REPORT"),
                None
            ])
        );
        assert_eq!(
            t("vha_standard_title"),
            s(&[
                Some("RADIOLOGY REPORT"),
                Some("PRIMARY CARE NOTE"),
                Some("RADIOLOGY REPORT"),
                None
            ])
        );
        assert_eq!(
            t("author_name"),
            s(&[
                Some("SMITH,JANE"),
                Some("SMITH,JANE"),
                Some("DOE,JOHN"),
                None
            ])
        );
        assert_eq!(t("cosigner_name"), s(&[Some("DOE,JOHN"), None, None, None]));
        assert_eq!(i("cosigner_sid"), vec![Some(2), None, None, None]);
        assert_eq!(
            t("sta3n"),
            s(&[Some("508"), Some("508"), Some("508"), None])
        );
        assert_eq!(
            t("facility_name"),
            s(&[
                Some("(508) Atlanta, GA"),
                Some("(508) Atlanta, GA"),
                Some("(508) Atlanta, GA"),
                None
            ])
        );
        assert_eq!(
            t("document_text"),
            vec![
                None,
                Some(long.clone()),
                Some("Chest clear.".to_string()),
                None
            ]
        );
        assert_eq!(i("text_length"), vec![None, Some(231), Some(12), None]);
        assert_eq!(
            t("text_preview"),
            vec![
                None,
                Some(format!("{}...", "a".repeat(190))),
                Some("Chest clear.".to_string()),
                None
            ]
        );
        assert_eq!(
            t("tiu_document_ien"),
            s(&[
                Some("9000002"),
                Some("9000001"),
                Some("9000006"),
                Some("9000007")
            ])
        );
        assert_eq!(i("visit_sid"), vec![Some(12), Some(11), Some(16), Some(17)]);
        let micros = |v: &str| Some(ts(v).and_utc().timestamp_micros());
        assert_eq!(
            i("reference_datetime"),
            vec![
                micros("2025-03-01 10:00"),
                micros("2025-01-10 09:00"),
                micros("2025-04-01 11:00"),
                micros("2024-12-01 08:00"),
            ]
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
                ("3".to_string(), "withdrawn note".to_string()),
                ("4".to_string(), "unknown patient".to_string()),
                ("5".to_string(), "missing note date".to_string()),
            ]
        );
    }
}
