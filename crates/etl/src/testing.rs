//! Test support: a context over a temporary local lake, and a way to put
//! hand-made bronze frames into it.

use crate::ctx::{Ctx, bronze_key};
use crate::lake::Lake;
use cdw::Table;
use polars::prelude::*;

pub struct TestLake {
    pub ctx: Ctx,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl TestLake {
    /// A fresh lake with as-of date 2025-12-19.
    pub fn new() -> TestLake {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let lake = Lake::open(
            dir.path().to_str().expect("utf-8 path"),
            rt.handle().clone(),
        )
        .expect("lake");
        let as_of = chrono::NaiveDate::from_ymd_opt(2025, 12, 19).expect("date");
        let ctx = Ctx::new(lake, as_of, as_of.and_hms_opt(6, 0, 0).expect("time"));
        TestLake {
            ctx,
            _dir: dir,
            _rt: rt,
        }
    }

    /// Writes `df` as the bronze form of `table`. Columns the frame lacks are
    /// added as NULL with the catalog's type, so tests only spell out what
    /// matters.
    pub fn put_bronze(&self, table: &'static Table, df: DataFrame) {
        let n = df.height();
        let mut cols = Vec::new();
        for c in table.columns {
            let kind = cdw_source::kind_of(c.sql_type.kind());
            let dtype = match kind {
                columnar::Kind::Int => DataType::Int64,
                columnar::Kind::Float => DataType::Float64,
                columnar::Kind::Bool => DataType::Boolean,
                columnar::Kind::Text => DataType::String,
                columnar::Kind::Date => DataType::Date,
                columnar::Kind::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
            };
            let col = match df.column(c.name) {
                Ok(col) => col.cast(&dtype).expect("castable test column"),
                Err(_) => Column::full_null(c.name.into(), n, &dtype),
            };
            cols.push(col);
        }
        cols.push(Column::new(
            "SourceSystem".into(),
            vec![table.database.name(); n],
        ));
        let mut out = DataFrame::new(n, cols).expect("frame");
        self.ctx
            .lake
            .write_parquet(&bronze_key(table), &mut out)
            .expect("write bronze");
    }
}

impl Default for TestLake {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses `YYYY-MM-DD HH:MM[:SS]` for test data.
pub fn ts(s: &str) -> chrono::NaiveDateTime {
    cdw_source::parse_datetime(s).expect("test timestamp")
}

/// Columns ⊆ the serving table with matching types, required columns
/// present and non-NULL (before `finish_frame`, the surrogate key and
/// `last_updated` are the loader's).
pub fn check_types(df: &DataFrame, t: &store::ServingTable, finished: bool) {
    for c in df.columns() {
        let col = t
            .column(c.name())
            .unwrap_or_else(|| panic!("{} not in {}", c.name(), t.name));
        let want = crate::common::serving_dtype(col.ty);
        assert_eq!(c.dtype(), &want, "{}", c.name());
        if !col.nullable {
            assert_eq!(c.null_count(), 0, "{} has NULLs", c.name());
        }
    }
    let loader_cols = [t.columns[0].name, "last_updated"];
    for col in t
        .columns
        .iter()
        .filter(|c| !c.nullable && (finished || !loader_cols.contains(&c.name)))
    {
        assert!(df.column(col.name).is_ok(), "missing {}", col.name);
    }
}

/// Text values of a column.
pub fn s(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    crate::common::texts(df, name).unwrap()
}

/// Integer values of a column.
pub fn i(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    crate::common::ints(df, name).unwrap()
}

/// `["a", "b"]` → `[Some("a"), Some("b")]`.
pub fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}
