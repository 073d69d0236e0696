//! Where the CCOW vault keeps contexts and history.
//!
//! One trait, [`ContextStore`], three backends:
//! - [`MemoryStore`]: the default; everything is lost on restart;
//! - [`SqlStore`]: SQLite or PostgreSQL by URL; contexts and history survive
//!   a restart;
//! - [`RedisStore`]: state shared by several vault instances; changes are
//!   published so every instance can notify its own clients.
//!
//! The semantics are the same everywhere (one shared test suite checks
//! them): one context per user, last writer wins; every change gets the
//! user's next version (versions never repeat, not even after a clear) and a
//! history entry; history is bounded per user (a busy user cannot push
//! another user's history out); reads refresh `last_accessed_at`, and
//! [`ContextStore::cleanup`] clears contexts not accessed since a cutoff.
//! [`ContextStore::events`] yields every change made through the store
//! (through any instance, for Redis).

mod memory;
mod redis_store;
mod sql;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;
pub use sql::SqlStore;

use ccow_client::{ContextEvent, HistoryEntry, PatientContext};
use chrono::{DateTime, Utc};
use std::future::Future;
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unsupported CCOW store URL `{0}`: expected memory, sqlite://PATH, postgres://… or redis://…"
    )]
    BadUrl(String),
    #[error("SQL store: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("Redis store: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Store settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// History entries kept per user (oldest retired first).
    pub history_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            history_per_user: 100,
        }
    }
}

/// A context to set.
#[derive(Debug, Clone)]
pub struct NewContext<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub patient_id: &'a str,
    pub set_by: &'a str,
    pub at: DateTime<Utc>,
    /// The change's id; a fresh UUID when `None`.
    pub event_id: Option<&'a str>,
}

/// A clear to make.
#[derive(Debug, Clone)]
pub struct ClearContext<'a> {
    pub user_id: &'a str,
    /// Who cleared it (an application, or [`CLEANUP_ACTOR`]).
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    /// The change's id; a fresh UUID when `None`.
    pub event_id: Option<&'a str>,
}

/// A change's id: the caller's, or a fresh UUID.
pub(crate) fn event_id(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Which history to read, newest first.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery<'a> {
    /// `Some(user)` for one user's history, `None` for everyone's.
    pub user_id: Option<&'a str>,
    pub offset: u64,
    pub limit: u64,
}

/// The actor recorded for contexts cleared by the stale-context sweep.
pub const CLEANUP_ACTOR: &str = "system:cleanup";

/// Capacity of the change channel; a subscriber that falls further behind
/// misses events (and is told so by `broadcast`), it never blocks writers.
pub const EVENT_BUFFER: usize = 4096;

pub trait ContextStore: Send + Sync + 'static {
    /// `memory`, `sqlite`, `postgres` or `redis`.
    fn backend(&self) -> &'static str;

    /// The user's context, with `last_accessed_at` refreshed to `now`.
    fn get(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<PatientContext>>> + Send;

    /// Sets (replaces) the user's context.
    fn set(&self, c: NewContext<'_>) -> impl Future<Output = Result<PatientContext>> + Send;

    /// Clears the user's context; `None` when there was none.
    fn clear(
        &self,
        c: ClearContext<'_>,
    ) -> impl Future<Output = Result<Option<HistoryEntry>>> + Send;

    /// One page of history, newest first, and the total in scope.
    fn history(
        &self,
        q: HistoryQuery<'_>,
    ) -> impl Future<Output = Result<(Vec<HistoryEntry>, u64)>> + Send;

    /// Every active context.
    fn active(&self) -> impl Future<Output = Result<Vec<PatientContext>>> + Send;

    /// Clears every context last accessed before `cutoff` (actor
    /// [`CLEANUP_ACTOR`]); returns the clears.
    fn cleanup(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>>> + Send;

    /// Whether the backend answers.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// Every change from now on.
    fn events(&self) -> broadcast::Receiver<ContextEvent>;
}

/// Any backend, chosen at start-up from a URL.
pub enum AnyStore {
    Memory(MemoryStore),
    Sql(SqlStore),
    Redis(RedisStore),
}

impl AnyStore {
    /// `memory` (or empty), `sqlite://PATH`, `postgres://…`, `redis://…`.
    pub async fn open(url: &str, limits: Limits) -> Result<AnyStore> {
        if url.is_empty() || url == "memory" || url == "memory://" {
            return Ok(AnyStore::Memory(MemoryStore::new(limits)));
        }
        if url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:")
        {
            return Ok(AnyStore::Sql(SqlStore::connect(url, limits).await?));
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") {
            return Ok(AnyStore::Redis(RedisStore::connect(url, limits).await?));
        }
        Err(Error::BadUrl(redact(url)))
    }
}

/// A URL with its password hidden, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Memory($s) => $e,
            AnyStore::Sql($s) => $e,
            AnyStore::Redis($s) => $e,
        }
    };
}

impl ContextStore for AnyStore {
    fn backend(&self) -> &'static str {
        delegate!(self, s => s.backend())
    }
    async fn get(&self, user_id: &str, now: DateTime<Utc>) -> Result<Option<PatientContext>> {
        delegate!(self, s => s.get(user_id, now).await)
    }
    async fn set(&self, c: NewContext<'_>) -> Result<PatientContext> {
        delegate!(self, s => s.set(c).await)
    }
    async fn clear(&self, c: ClearContext<'_>) -> Result<Option<HistoryEntry>> {
        delegate!(self, s => s.clear(c).await)
    }
    async fn history(&self, q: HistoryQuery<'_>) -> Result<(Vec<HistoryEntry>, u64)> {
        delegate!(self, s => s.history(q).await)
    }
    async fn active(&self) -> Result<Vec<PatientContext>> {
        delegate!(self, s => s.active().await)
    }
    async fn cleanup(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>> {
        delegate!(self, s => s.cleanup(cutoff, now).await)
    }
    async fn ping(&self) -> Result<()> {
        delegate!(self, s => s.ping().await)
    }
    fn events(&self) -> broadcast::Receiver<ContextEvent> {
        delegate!(self, s => s.events())
    }
}

/// Newest first: by timestamp, then version, then user (a total order, so
/// pages never overlap or skip).
pub(crate) fn newest_first(a: &HistoryEntry, b: &HistoryEntry) -> std::cmp::Ordering {
    b.timestamp
        .cmp(&a.timestamp)
        .then(b.version.cmp(&a.version))
        .then(a.user_id.cmp(&b.user_id))
}

pub(crate) fn page<T: Clone>(items: &[T], offset: u64, limit: u64) -> Vec<T> {
    items
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .cloned()
        .collect()
}
