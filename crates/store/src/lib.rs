//! The serving database.
//!
//! One trait, [`ServingStore`], with two backends: [`SqliteStore`] (the
//! embedded default, a file in the data dir) and [`PgStore`] (PostgreSQL,
//! selected by URL). [`Store`] picks one from a URL. All SQL of the serving
//! DB lives in this crate and in `migrations/`.
//!
//! Both backends carry the schemas `clinical`, `reference` and `auth`: in
//! PostgreSQL as schemas, in SQLite as attached database files next to the
//! main file, so the same qualified names (`clinical.patient_vitals`) work in
//! both.
//!
//! Loads are atomic per table: [`ServingStore::replace_table`] deletes and
//! inserts inside one transaction (PostgreSQL streams the rows with `COPY`),
//! so a failure or crash mid-load leaves the previous rows intact and
//! readable throughout.

pub mod auth;
pub mod catalog;
mod pg;
pub mod record;
mod run;
mod sqlite;
mod sqlite_raw;
mod value;

pub use catalog::{ColType, ServingTable};
pub use pg::PgStore;
pub use run::{EtlRun, RunStatus};
pub use sqlite::SqliteStore;

use chrono::{NaiveDate, NaiveDateTime};
use columnar::Batch;
use futures_util::Stream;
use std::collections::BTreeMap;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL `{0}`: expected sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("cannot connect to the serving database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{table}: {message}")]
    Shape { table: String, message: String },
    #[error("serving database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("serving database error loading {table}: {message}")]
    Sqlite { table: String, message: String },
    #[error("load of {table} aborted: {source}")]
    LoadAborted {
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the database could not be reached (as opposed to a bad
    /// query or bad data): callers show "unavailable" rather than a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Connect(_) => true,
            Error::Db(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One stored row rendered as canonical text, for comparisons across
/// backends (`None` is NULL). Timestamps render as `YYYY-MM-DD HH:MM:SS[.f]`,
/// booleans as `true`/`false`, floats with Rust's shortest round-trip form.
pub type TextRow = Vec<Option<String>>;

/// Operations every serving backend provides.
pub trait ServingStore: Send + Sync {
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    fn migrate(&self) -> impl Future<Output = Result<()>> + Send;

    /// Replaces every row of `table` with the batches of `rows`, atomically.
    /// Batch columns are matched by name and must cover every NOT NULL
    /// column; unknown columns are an error. An `Err` item aborts the load and
    /// keeps the previous rows.
    fn replace_table<S, E>(
        &self,
        table: &ServingTable,
        rows: S,
    ) -> impl Future<Output = Result<u64>> + Send
    where
        S: Stream<Item = std::result::Result<Batch, E>> + Send,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + Send;

    /// Row count of a table.
    fn count(&self, table: &ServingTable) -> impl Future<Output = Result<u64>> + Send;

    /// Every row of `table` ordered by its first column, as canonical text.
    fn dump(&self, table: &ServingTable) -> impl Future<Output = Result<Vec<TextRow>>> + Send;

    /// Column names and declared types as the database reports them.
    fn columns(
        &self,
        table: &ServingTable,
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;

    /// Records the start of an ETL run and returns its id.
    fn begin_run(
        &self,
        started_at: NaiveDateTime,
        as_of: NaiveDate,
        source: &str,
        lake: &str,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Records the end of an ETL run.
    fn finish_run(
        &self,
        run_id: i64,
        finished: RunOutcome<'_>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The newest runs first.
    fn runs(&self, limit: u32) -> impl Future<Output = Result<Vec<EtlRun>>> + Send;

    /// The newest succeeded run, whose as-of date is the "data current
    /// through" date.
    fn latest_succeeded_run(&self) -> impl Future<Output = Result<Option<EtlRun>>> + Send;
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome<'a> {
    pub finished_at: NaiveDateTime,
    pub status: RunStatus,
    pub rows: &'a BTreeMap<String, u64>,
    pub quarantined: &'a BTreeMap<String, u64>,
    pub error: Option<&'a str>,
}

/// A store on either backend, chosen by URL.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// `sqlite://PATH` (or a bare path ending in `.db`) opens or creates the
    /// embedded store; `postgres://` / `postgresql://` connect to PostgreSQL.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::connect(url).await?))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Ok(Store::Sqlite(SqliteStore::open(path.as_ref()).await?))
        } else if url.ends_with(".db") && !url.contains("://") {
            Ok(Store::Sqlite(SqliteStore::open(url.as_ref()).await?))
        } else {
            Err(Error::BadUrl(url.to_string()))
        }
    }

    /// The URL with any password masked, for logs and run records.
    pub fn redact(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &url[s + 3..at];
                match creds.split_once(':') {
                    Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                    None => url.to_string(),
                }
            }
            _ => url.to_string(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl ServingStore for Store {
    fn backend(&self) -> Backend {
        delegate!(self, s => s.backend())
    }
    async fn migrate(&self) -> Result<()> {
        delegate!(self, s => s.migrate().await)
    }
    async fn replace_table<S, E>(&self, table: &ServingTable, rows: S) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<Batch, E>> + Send,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    {
        delegate!(self, s => s.replace_table(table, rows).await)
    }
    async fn count(&self, table: &ServingTable) -> Result<u64> {
        delegate!(self, s => s.count(table).await)
    }
    async fn dump(&self, table: &ServingTable) -> Result<Vec<TextRow>> {
        delegate!(self, s => s.dump(table).await)
    }
    async fn columns(&self, table: &ServingTable) -> Result<Vec<(String, String)>> {
        delegate!(self, s => s.columns(table).await)
    }
    async fn begin_run(
        &self,
        started_at: NaiveDateTime,
        as_of: NaiveDate,
        source: &str,
        lake: &str,
    ) -> Result<i64> {
        delegate!(self, s => s.begin_run(started_at, as_of, source, lake).await)
    }
    async fn finish_run(&self, run_id: i64, finished: RunOutcome<'_>) -> Result<()> {
        delegate!(self, s => s.finish_run(run_id, finished).await)
    }
    async fn runs(&self, limit: u32) -> Result<Vec<EtlRun>> {
        delegate!(self, s => s.runs(limit).await)
    }
    async fn latest_succeeded_run(&self) -> Result<Option<EtlRun>> {
        delegate!(self, s => s.latest_succeeded_run().await)
    }
}

/// Checks a batch against a table: known columns, right kinds, NOT NULL
/// columns present. Returns, per table column, the batch column index.
pub(crate) fn plan_columns(table: &ServingTable, batch: &Batch) -> Result<Vec<usize>> {
    let shape = |message: String| Error::Shape {
        table: table.qualified(),
        message,
    };
    for c in batch.columns() {
        let Some(col) = table.column(&c.name) else {
            return Err(shape(format!("unknown column `{}`", c.name)));
        };
        if col.ty.kind() != c.values.kind() {
            return Err(shape(format!(
                "column `{}` is {}, the table wants {}",
                c.name,
                c.values.kind(),
                col.ty.kind()
            )));
        }
    }
    let mut plan = Vec::new();
    for col in table.columns {
        match batch.columns().iter().position(|c| c.name == col.name) {
            Some(i) => {
                if !col.nullable
                    && (0..batch.num_rows()).any(|r| batch.columns()[i].values.is_null(r))
                {
                    return Err(shape(format!("NULL in NOT NULL column `{}`", col.name)));
                }
                plan.push(i);
            }
            None if col.nullable => {}
            None => return Err(shape(format!("missing NOT NULL column `{}`", col.name))),
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_validated() {
        assert_eq!(
            Store::redact("postgres://medz1:secret@db:5432/medz1"),
            "postgres://medz1:***@db:5432/medz1"
        );
        assert_eq!(
            Store::redact("sqlite://data/serving.db"),
            "sqlite://data/serving.db"
        );
    }
}
