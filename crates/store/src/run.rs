//! The `etl_run` log.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "running" => Some(RunStatus::Running),
            "succeeded" => Some(RunStatus::Succeeded),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

/// One recorded ETL run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EtlRun {
    pub run_id: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub as_of: NaiveDate,
    pub status: RunStatus,
    pub source: String,
    pub lake: String,
    /// Rows loaded per serving table.
    pub rows: BTreeMap<String, u64>,
    /// Rows quarantined per reason/domain.
    pub quarantined: BTreeMap<String, u64>,
    pub quarantined_total: u64,
    pub error: Option<String>,
}

/// The columns `etl_run` queries select, in [`decode_run`]'s order.
pub(crate) const RUN_COLUMNS: &str = "run_id, started_at, finished_at, as_of, status, source, lake, rows_json, quarantined_json, quarantined_total, error";

/// Decodes an `etl_run` row on either backend.
pub(crate) fn decode_run<'r, R>(row: &'r R) -> crate::Result<EtlRun>
where
    R: sqlx::Row,
    &'r str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    NaiveDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    RawRun {
        run_id: row.try_get("run_id")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        as_of: row.try_get("as_of")?,
        status: row.try_get("status")?,
        source: row.try_get("source")?,
        lake: row.try_get("lake")?,
        rows_json: row.try_get("rows_json")?,
        quarantined_json: row.try_get("quarantined_json")?,
        quarantined_total: row.try_get("quarantined_total")?,
        error: row.try_get("error")?,
    }
    .decode()
}

/// The embedded migrations of one backend, as `(version, name, sql)` in
/// version order.
pub(crate) fn migrator(
    migrations: &[(i64, &'static str, &'static str)],
) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

pub(crate) struct RawRun {
    pub run_id: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub as_of: NaiveDate,
    pub status: String,
    pub source: String,
    pub lake: String,
    pub rows_json: String,
    pub quarantined_json: String,
    pub quarantined_total: i64,
    pub error: Option<String>,
}

impl RawRun {
    pub(crate) fn decode(self) -> crate::Result<EtlRun> {
        let bad = |m: String| crate::Error::Shape {
            table: "etl_run".into(),
            message: m,
        };
        Ok(EtlRun {
            run_id: self.run_id,
            started_at: self.started_at,
            finished_at: self.finished_at,
            as_of: self.as_of,
            status: RunStatus::parse(&self.status)
                .ok_or_else(|| bad(format!("unknown status `{}`", self.status)))?,
            source: self.source,
            lake: self.lake,
            rows: serde_json::from_str(&self.rows_json)
                .map_err(|e| bad(format!("rows_json: {e}")))?,
            quarantined: serde_json::from_str(&self.quarantined_json)
                .map_err(|e| bad(format!("quarantined_json: {e}")))?,
            quarantined_total: self.quarantined_total.max(0) as u64,
            error: self.error,
        })
    }
}

pub(crate) fn to_json(m: &BTreeMap<String, u64>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}
