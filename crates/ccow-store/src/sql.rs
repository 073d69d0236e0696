//! The SQL store: SQLite or PostgreSQL through sqlx's `Any` driver, one SQL
//! text for both (`migrations/ccow/`). Timestamps are stored as UTC
//! microseconds.

use crate::*;
use ccow_client::Action;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

const SCHEMA: &str = include_str!("../../../migrations/ccow/0001_ccow.sql");

pub struct SqlStore {
    pool: AnyPool,
    backend: &'static str,
    limits: Limits,
    tx: broadcast::Sender<ContextEvent>,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| Error::Corrupt(format!("timestamp {us}")))
}

fn version(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("version {v}")))
}

fn context(r: &AnyRow) -> Result<PatientContext> {
    Ok(PatientContext {
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        patient_id: r.try_get("patient_id")?,
        set_by: r.try_get("set_by")?,
        set_at: time(r.try_get("set_at")?)?,
        last_accessed_at: time(r.try_get("last_accessed_at")?)?,
        version: version(r.try_get("version")?)?,
    })
}

fn entry(r: &AnyRow) -> Result<HistoryEntry> {
    let action: String = r.try_get("action")?;
    Ok(HistoryEntry {
        action: match action.as_str() {
            "set" => Action::Set,
            "clear" => Action::Clear,
            other => return Err(Error::Corrupt(format!("history action {other:?}"))),
        },
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        patient_id: r.try_get("patient_id")?,
        actor: r.try_get("actor")?,
        timestamp: time(r.try_get("ts")?)?,
        version: version(r.try_get("version")?)?,
        event_id: r.try_get("event_id")?,
    })
}

const CONTEXT_COLUMNS: &str =
    "user_id, email, patient_id, set_by, set_at, last_accessed_at, version";

impl SqlStore {
    /// Connects and creates the tables if needed. A SQLite file is created
    /// when missing.
    pub async fn connect(url: &str, limits: Limits) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            // SQLite has one writer: one connection avoids SQLITE_BUSY.
            .max_connections(if sqlite { 1 } else { 16 })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL with NORMAL sync: commits no longer wait for
                        // an fsync each (a crash loses at most the last
                        // few changes, never consistency).
                        use sqlx::Executor as _;
                        conn.execute("PRAGMA journal_mode=WAL").await?;
                        conn.execute("PRAGMA synchronous=NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let mut tx = pool.begin().await?;
        for stmt in SCHEMA.split(';') {
            let body: String = stmt
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if !body.trim().is_empty() {
                sqlx::raw_sql(sqlx::AssertSqlSafe(body))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(SqlStore {
            pool,
            backend: if sqlite { "sqlite" } else { "postgres" },
            limits,
            tx: broadcast::channel(EVENT_BUFFER).0,
        })
    }

    async fn next_version(tx: &mut sqlx::Transaction<'_, sqlx::Any>, user: &str) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO ccow_version (user_id, version) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET version = ccow_version.version + 1 \
             RETURNING version",
        )
        .bind(user)
        .fetch_one(&mut **tx)
        .await?
        .try_get("version")?)
    }

    async fn append(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        e: &HistoryEntry,
    ) -> Result<()> {
        let v = e.version as i64;
        sqlx::query(
            "INSERT INTO ccow_history (user_id, version, action, email, patient_id, actor, ts, event_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.user_id)
        .bind(v)
        .bind(match e.action {
            Action::Set => "set",
            Action::Clear => "clear",
        })
        .bind(e.email.as_deref())
        .bind(e.patient_id.as_deref())
        .bind(&e.actor)
        .bind(micros(e.timestamp))
        .bind(&e.event_id)
        .execute(&mut **tx)
        .await?;
        // Versions are contiguous per user, so the bound is a version cut.
        sqlx::query("DELETE FROM ccow_history WHERE user_id = $1 AND version <= $2")
            .bind(&e.user_id)
            .bind(v - self.limits.history_per_user as i64)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Clears inside a transaction; `stale_before` restricts it to a
    /// context not accessed since then (the sweep must not clear a context
    /// that was just read).
    async fn clear_where(
        &self,
        c: ClearContext<'_>,
        stale_before: Option<DateTime<Utc>>,
    ) -> Result<Option<HistoryEntry>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "DELETE FROM ccow_context WHERE user_id = $1 AND last_accessed_at < $2 \
             RETURNING email, patient_id",
        )
        .bind(c.user_id)
        .bind(stale_before.map(micros).unwrap_or(i64::MAX))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let v = Self::next_version(&mut tx, c.user_id).await?;
        let e = HistoryEntry {
            action: Action::Clear,
            user_id: c.user_id.to_string(),
            email: row.try_get("email")?,
            patient_id: None,
            actor: c.actor.to_string(),
            timestamp: c.at,
            version: version(v)?,
            event_id: event_id(c.event_id),
        };
        let closed: String = row.try_get("patient_id")?;
        self.append(&mut tx, &e).await?;
        tx.commit().await?;
        let _ = self.tx.send(ContextEvent::of(&e, Some(&closed)));
        Ok(Some(e))
    }
}

impl ContextStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn get(&self, user_id: &str, now: DateTime<Utc>) -> Result<Option<PatientContext>> {
        let row = sqlx::query(
            "UPDATE ccow_context SET last_accessed_at = $2 WHERE user_id = $1 \
             RETURNING user_id, email, patient_id, set_by, set_at, last_accessed_at, version",
        )
        .bind(user_id)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(context).transpose()
    }

    async fn set(&self, c: NewContext<'_>) -> Result<PatientContext> {
        let mut tx = self.pool.begin().await?;
        let v = Self::next_version(&mut tx, c.user_id).await?;
        sqlx::query(
            "INSERT INTO ccow_context (user_id, email, patient_id, set_by, set_at, last_accessed_at, version) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, patient_id = excluded.patient_id, \
             set_by = excluded.set_by, set_at = excluded.set_at, \
             last_accessed_at = excluded.last_accessed_at, version = excluded.version",
        )
        .bind(c.user_id)
        .bind(c.email)
        .bind(c.patient_id)
        .bind(c.set_by)
        .bind(micros(c.at))
        .bind(v)
        .execute(&mut *tx)
        .await?;
        let e = HistoryEntry {
            action: Action::Set,
            user_id: c.user_id.to_string(),
            email: c.email.map(str::to_string),
            patient_id: Some(c.patient_id.to_string()),
            actor: c.set_by.to_string(),
            timestamp: c.at,
            version: version(v)?,
            event_id: event_id(c.event_id),
        };
        self.append(&mut tx, &e).await?;
        tx.commit().await?;
        let _ = self.tx.send(ContextEvent::of(&e, None));
        Ok(PatientContext {
            user_id: e.user_id,
            email: e.email,
            patient_id: c.patient_id.to_string(),
            set_by: e.actor,
            set_at: c.at,
            last_accessed_at: c.at,
            version: e.version,
        })
    }

    async fn clear(&self, c: ClearContext<'_>) -> Result<Option<HistoryEntry>> {
        self.clear_where(c, None).await
    }

    async fn history(&self, q: HistoryQuery<'_>) -> Result<(Vec<HistoryEntry>, u64)> {
        let cols = "user_id, version, action, email, patient_id, actor, ts, event_id";
        let order = "ORDER BY ts DESC, version DESC, user_id";
        let limit = q.limit.min(i64::MAX as u64) as i64;
        let offset = q.offset.min(i64::MAX as u64) as i64;
        let (rows, total): (Vec<AnyRow>, i64) = match q.user_id {
            Some(user) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {cols} FROM ccow_history WHERE user_id = $1 {order} LIMIT $2 OFFSET $3"
                )))
                .bind(user)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
                let total =
                    sqlx::query("SELECT count(*) AS n FROM ccow_history WHERE user_id = $1")
                        .bind(user)
                        .fetch_one(&self.pool)
                        .await?
                        .try_get("n")?;
                (rows, total)
            }
            None => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {cols} FROM ccow_history {order} LIMIT $1 OFFSET $2"
                )))
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
                let total = sqlx::query("SELECT count(*) AS n FROM ccow_history")
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?;
                (rows, total)
            }
        };
        let entries = rows.iter().map(entry).collect::<Result<Vec<_>>>()?;
        Ok((entries, total.max(0) as u64))
    }

    async fn active(&self) -> Result<Vec<PatientContext>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTEXT_COLUMNS} FROM ccow_context ORDER BY user_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(context).collect()
    }

    async fn cleanup(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>> {
        let users: Vec<String> = sqlx::query(
            "SELECT user_id FROM ccow_context WHERE last_accessed_at < $1 ORDER BY user_id",
        )
        .bind(micros(cutoff))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for u in users {
            let clear = ClearContext {
                user_id: &u,
                actor: CLEANUP_ACTOR,
                at: now,
                event_id: None,
            };
            if let Some(e) = self.clear_where(clear, Some(cutoff)).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn events(&self) -> broadcast::Receiver<ContextEvent> {
        self.tx.subscribe()
    }
}
