//! The `auth` schema: users, server-side sessions and the audit log, for
//! the web app's sign-in. The same SQL runs on both backends (times are
//! passed in as naive UTC and compared in Rust, never with a DB clock).

use crate::{Result, Store};
use chrono::NaiveDateTime;
use sqlx::Row;

/// One row of `auth.users`.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub user_id: String,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub home_site_sta3n: Option<i32>,
    /// Comma-separated role names.
    pub roles: String,
    pub is_active: bool,
    pub is_locked: bool,
    /// When an automatic lockout ends; `None` with `is_locked` = until an
    /// administrator unlocks.
    pub locked_until: Option<NaiveDateTime>,
    pub failed_login_attempts: i32,
    pub last_login_at: Option<NaiveDateTime>,
}

impl User {
    /// Whether the account is locked at `now` (an expired automatic lock
    /// no longer counts).
    pub fn locked_at(&self, now: NaiveDateTime) -> bool {
        self.is_locked && self.locked_until.is_none_or(|until| now < until)
    }

    pub fn role_list(&self) -> Vec<String> {
        self.roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// A user to create or update by email (seeding).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub home_site_sta3n: Option<i32>,
    pub roles: &'a str,
}

/// One row of `auth.sessions` with its user.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub session_id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub is_active: bool,
    pub csrf_token: String,
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// One audit event (`auth.audit_logs`).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub user_id: Option<String>,
    pub event_type: String,
    pub at: NaiveDateTime,
    pub email: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub success: Option<bool>,
    pub failure_reason: Option<String>,
    pub session_id: Option<String>,
}

/// The outcome of recording a failed sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedLogin {
    /// Consecutive failures so far.
    pub attempts: i32,
    /// This failure locked the account.
    pub locked_now: bool,
}

const USER_COLUMNS: &str = "user_id, email, password_hash, display_name, first_name, last_name, \
     home_site_sta3n, roles, is_active, is_locked, locked_until, failed_login_attempts, last_login_at";

const SESSION_COLUMNS: &str =
    "session_id, user_id, created_at, last_activity_at, expires_at, is_active, csrf_token";

const AUDIT_COLUMNS: &str = "user_id, event_type, event_timestamp, email, ip_address, user_agent, \
     success, failure_reason, session_id";

macro_rules! user_from {
    ($r:expr) => {{
        let r = $r;
        User {
            user_id: r.try_get("user_id")?,
            email: r.try_get("email")?,
            password_hash: r.try_get("password_hash")?,
            display_name: r.try_get("display_name")?,
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            home_site_sta3n: r.try_get("home_site_sta3n")?,
            roles: r.try_get("roles")?,
            is_active: r.try_get("is_active")?,
            is_locked: r.try_get("is_locked")?,
            locked_until: r.try_get("locked_until")?,
            failed_login_attempts: r.try_get("failed_login_attempts")?,
            last_login_at: r.try_get("last_login_at")?,
        }
    }};
}

macro_rules! session_from {
    ($r:expr) => {{
        let r = $r;
        Session {
            session_id: r.try_get("session_id")?,
            user_id: r.try_get("user_id")?,
            created_at: r.try_get("created_at")?,
            last_activity_at: r.try_get("last_activity_at")?,
            expires_at: r.try_get("expires_at")?,
            is_active: r.try_get("is_active")?,
            csrf_token: r.try_get("csrf_token")?,
        }
    }};
}

macro_rules! audit_from {
    ($r:expr) => {{
        let r = $r;
        AuditEvent {
            user_id: r.try_get("user_id")?,
            event_type: r.try_get("event_type")?,
            at: r.try_get("event_timestamp")?,
            email: r.try_get("email")?,
            ip_address: r.try_get("ip_address")?,
            user_agent: r.try_get("user_agent")?,
            success: r.try_get("success")?,
            failure_reason: r.try_get("failure_reason")?,
            session_id: r.try_get("session_id")?,
        }
    }};
}

/// Runs the same code against whichever pool the store has.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite(s) => {
                let $pool = s.pool();
                $body
            }
            Store::Postgres(s) => {
                let $pool = s.pool();
                $body
            }
        }
    };
}

impl Store {
    /// Creates the user, or updates the one with this email (keeping its
    /// id, lock state and history). Returns the user id.
    pub async fn upsert_user(&self, u: &NewUser<'_>, now: NaiveDateTime) -> Result<String> {
        let sql = "INSERT INTO auth.users (user_id, email, password_hash, display_name, first_name, \
             last_name, home_site_sta3n, roles, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, \
             display_name = excluded.display_name, first_name = excluded.first_name, \
             last_name = excluded.last_name, home_site_sta3n = excluded.home_site_sta3n, \
             roles = excluded.roles, updated_at = excluded.updated_at \
             RETURNING user_id";
        on_pool!(self, pool => {
            let row = sqlx::query(sql)
                .bind(u.user_id)
                .bind(u.email)
                .bind(u.password_hash)
                .bind(u.display_name)
                .bind(u.first_name)
                .bind(u.last_name)
                .bind(u.home_site_sta3n)
                .bind(u.roles)
                .bind(now)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("user_id")?)
        })
    }

    /// The user with this email (case-insensitive).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM auth.users WHERE lower(email) = lower($1)");
        on_pool!(self, pool => {
            match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(pool).await? {
                Some(r) => Ok(Some(user_from!(r))),
                None => Ok(None),
            }
        })
    }

    pub async fn user(&self, user_id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM auth.users WHERE user_id = $1");
        on_pool!(self, pool => {
            match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_optional(pool).await? {
                Some(r) => Ok(Some(user_from!(r))),
                None => Ok(None),
            }
        })
    }

    /// Counts a failed sign-in; the `max_attempts`-th consecutive failure
    /// locks the account until `lock_until` (`None` = until unlocked).
    pub async fn record_failed_login(
        &self,
        user_id: &str,
        max_attempts: i32,
        lock_until: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Result<FailedLogin> {
        let bump = "UPDATE auth.users SET failed_login_attempts = failed_login_attempts + 1, \
             updated_at = $1 WHERE user_id = $2 RETURNING failed_login_attempts, is_locked";
        let lock = "UPDATE auth.users SET is_locked = TRUE, locked_until = $1, updated_at = $2 \
             WHERE user_id = $3";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(bump).bind(now).bind(user_id).fetch_one(&mut *tx).await?;
            let attempts: i32 = row.try_get("failed_login_attempts")?;
            let already: bool = row.try_get("is_locked")?;
            let locked_now = !already && attempts >= max_attempts;
            if locked_now {
                sqlx::query(lock)
                    .bind(lock_until)
                    .bind(now)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(FailedLogin { attempts, locked_now })
        })
    }

    /// A successful sign-in: clears the failure count and any expired
    /// lock, and stamps `last_login_at`.
    pub async fn record_login(&self, user_id: &str, now: NaiveDateTime) -> Result<()> {
        let sql = "UPDATE auth.users SET failed_login_attempts = 0, is_locked = FALSE, \
             locked_until = NULL, last_login_at = $1, updated_at = $1 WHERE user_id = $2";
        on_pool!(self, pool => {
            sqlx::query(sql).bind(now).bind(user_id).execute(pool).await?;
            Ok(())
        })
    }

    /// Activates or deactivates an account (administrators). Returns
    /// whether the user exists.
    pub async fn set_user_active(
        &self,
        email: &str,
        active: bool,
        now: NaiveDateTime,
    ) -> Result<bool> {
        let sql =
            "UPDATE auth.users SET is_active = $1, updated_at = $2 WHERE lower(email) = lower($3)";
        on_pool!(self, pool => {
            Ok(sqlx::query(sql).bind(active).bind(now).bind(email).execute(pool).await?.rows_affected() > 0)
        })
    }

    /// Clears a lock and the failure count (administrators).
    pub async fn unlock_user(&self, email: &str, now: NaiveDateTime) -> Result<bool> {
        let sql = "UPDATE auth.users SET failed_login_attempts = 0, is_locked = FALSE, \
             locked_until = NULL, updated_at = $1 WHERE lower(email) = lower($2)";
        on_pool!(self, pool => {
            Ok(sqlx::query(sql).bind(now).bind(email).execute(pool).await?.rows_affected() > 0)
        })
    }

    /// Starts a session and ends every other active session of the user
    /// (one active session per user), in one transaction. Returns how many
    /// sessions were ended.
    pub async fn create_session(&self, s: &NewSession<'_>) -> Result<u64> {
        let end = "UPDATE auth.sessions SET is_active = FALSE WHERE user_id = $1 AND is_active";
        let insert = "INSERT INTO auth.sessions (session_id, user_id, created_at, last_activity_at, \
             expires_at, is_active, csrf_token, ip_address, user_agent) \
             VALUES ($1, $2, $3, $3, $4, TRUE, $5, $6, $7)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ended = sqlx::query(end).bind(s.user_id).execute(&mut *tx).await?.rows_affected();
            sqlx::query(insert)
                .bind(s.session_id)
                .bind(s.user_id)
                .bind(s.now)
                .bind(s.expires_at)
                .bind(s.csrf_token)
                .bind(s.ip_address)
                .bind(s.user_agent)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(ended)
        })
    }

    pub async fn session(&self, session_id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM auth.sessions WHERE session_id = $1");
        on_pool!(self, pool => {
            match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_optional(pool).await? {
                Some(r) => Ok(Some(session_from!(r))),
                None => Ok(None),
            }
        })
    }

    /// Slides an active session's window.
    pub async fn touch_session(
        &self,
        session_id: &str,
        now: NaiveDateTime,
        expires_at: NaiveDateTime,
    ) -> Result<bool> {
        let sql = "UPDATE auth.sessions SET last_activity_at = $1, expires_at = $2 \
             WHERE session_id = $3 AND is_active";
        on_pool!(self, pool => {
            Ok(sqlx::query(sql)
                .bind(now)
                .bind(expires_at)
                .bind(session_id)
                .execute(pool)
                .await?
                .rows_affected()
                > 0)
        })
    }

    /// Ends a session; `false` if it was not active.
    pub async fn end_session(&self, session_id: &str) -> Result<bool> {
        let sql = "UPDATE auth.sessions SET is_active = FALSE WHERE session_id = $1 AND is_active";
        on_pool!(self, pool => {
            Ok(sqlx::query(sql).bind(session_id).execute(pool).await?.rows_affected() > 0)
        })
    }

    /// Deletes sessions that expired before `now`, and inactive ones
    /// created before `inactive_before`. Returns how many went.
    pub async fn purge_sessions(
        &self,
        now: NaiveDateTime,
        inactive_before: NaiveDateTime,
    ) -> Result<u64> {
        let sql = "DELETE FROM auth.sessions WHERE expires_at < $1 \
             OR (NOT is_active AND created_at < $2)";
        on_pool!(self, pool => {
            Ok(sqlx::query(sql).bind(now).bind(inactive_before).execute(pool).await?.rows_affected())
        })
    }

    pub async fn audit(&self, e: &AuditEvent) -> Result<()> {
        let sql = format!(
            "INSERT INTO auth.audit_logs ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&e.user_id)
                .bind(&e.event_type)
                .bind(e.at)
                .bind(&e.email)
                .bind(&e.ip_address)
                .bind(&e.user_agent)
                .bind(e.success)
                .bind(&e.failure_reason)
                .bind(&e.session_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The newest audit events first, optionally of one type.
    pub async fn audit_events(
        &self,
        event_type: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM auth.audit_logs WHERE ($1 IS NULL OR event_type = $1) \
             ORDER BY event_timestamp DESC, audit_id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(event_type)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(audit_from!(r));
            }
            Ok(out)
        })
    }
}
