//! The Redis store: state shared by several vault instances.
//!
//! Keys (prefix `ccow:`): `ctx:{user}` a hash (the context), `ver:{user}` the
//! version counter, `hist:{user}` a list of JSON entries (newest first,
//! trimmed to the bound), `users` the users with a context, `hist-users` the
//! users with history. Every change runs as one Lua script (atomic: the
//! version, the context, the history and the notification can't disagree)
//! and is published on `ccow:events`; each instance subscribes and relays the
//! events to its own clients.

use crate::*;
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

const CHANNEL: &str = "ccow:events";
const USERS: &str = "ccow:users";
const HIST_USERS: &str = "ccow:hist-users";

fn ctx_key(u: &str) -> String {
    format!("ccow:ctx:{u}")
}
fn ver_key(u: &str) -> String {
    format!("ccow:ver:{u}")
}
fn hist_key(u: &str) -> String {
    format!("ccow:hist:{u}")
}

/// Fixed-width UTC text, so string order is time order inside Lua.
fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

const SET: &str = r#"
local v = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'patient_id', ARGV[3], 'set_by', ARGV[4],
  'set_at', ARGV[5], 'last_accessed_at', ARGV[5], 'version', v)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'email', ARGV[2]) end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
local email = cjson.null
if ARGV[2] ~= '' then email = ARGV[2] end
local e = cjson.encode({action = 'set', user_id = ARGV[1], email = email, patient_id = ARGV[3],
  actor = ARGV[4], timestamp = ARGV[5], version = v, event_id = ARGV[8]})
redis.call('LPUSH', KEYS[3], e)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
redis.call('PUBLISH', ARGV[7], e)
return e
"#;

const CLEAR: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[6] ~= '' then
  local la = redis.call('HGET', KEYS[1], 'last_accessed_at')
  if la and la >= ARGV[6] then return false end
end
local email = redis.call('HGET', KEYS[1], 'email')
if not email then email = cjson.null end
local closed = redis.call('HGET', KEYS[1], 'patient_id')
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
local v = redis.call('INCR', KEYS[2])
local entry = {action = 'clear', user_id = ARGV[1], email = email, patient_id = cjson.null,
  actor = ARGV[2], timestamp = ARGV[3], version = v, event_id = ARGV[7]}
local e = cjson.encode(entry)
redis.call('LPUSH', KEYS[3], e)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
-- The notification names the patient that was closed.
entry.patient_id = closed
redis.call('PUBLISH', ARGV[5], cjson.encode(entry))
return e
"#;

const GET: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'last_accessed_at', ARGV[1])
return redis.call('HGETALL', KEYS[1])
"#;

pub struct RedisStore {
    conn: ConnectionManager,
    limits: Limits,
    tx: broadcast::Sender<ContextEvent>,
    set: redis::Script,
    clear: redis::Script,
    get: redis::Script,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn parse_entry(json: &str) -> Result<HistoryEntry> {
    serde_json::from_str(json).map_err(|e| Error::Corrupt(format!("history entry {json:?}: {e}")))
}

/// A published change: a history entry whose `patient_id` is, for a clear,
/// the patient that was closed.
fn parse_event(json: &str) -> Result<ContextEvent> {
    let e = parse_entry(json)?;
    Ok(ContextEvent {
        patient_id: e.patient_id.clone(),
        ..ContextEvent::of(&e, None)
    })
}

fn parse_context(fields: Vec<String>) -> Result<PatientContext> {
    let mut m = std::collections::HashMap::new();
    let mut it = fields.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        m.insert(k, v);
    }
    let text = |k: &str| {
        m.get(k)
            .cloned()
            .ok_or_else(|| Error::Corrupt(format!("context without {k}")))
    };
    let at = |k: &str| -> Result<DateTime<Utc>> {
        let s = text(k)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::Corrupt(format!("{k} {s:?}: {e}")))
    };
    Ok(PatientContext {
        user_id: text("user_id")?,
        email: m.get("email").cloned(),
        patient_id: text("patient_id")?,
        set_by: text("set_by")?,
        set_at: at("set_at")?,
        last_accessed_at: at("last_accessed_at")?,
        version: text("version")?
            .parse()
            .map_err(|e| Error::Corrupt(format!("version: {e}")))?,
    })
}

impl RedisStore {
    /// Connects, and subscribes to the change channel before returning, so
    /// no change made after `connect` is missed.
    pub async fn connect(url: &str, limits: Limits) -> Result<RedisStore> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let tx = broadcast::channel(EVENT_BUFFER).0;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        let relay = tx.clone();
        let listener = tokio::spawn(async move {
            let mut pubsub = pubsub;
            loop {
                {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match parse_event(&payload) {
                            Ok(e) => {
                                let _ = relay.send(e);
                            }
                            Err(e) => tracing::warn!("ignoring a malformed CCOW event: {e}"),
                        }
                    }
                }
                // The subscription dropped: reconnect with a pause.
                tracing::warn!("CCOW Redis subscription lost; reconnecting");
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    if let Ok(mut p) = client.get_async_pubsub().await
                        && p.subscribe(CHANNEL).await.is_ok()
                    {
                        pubsub = p;
                        break;
                    }
                }
            }
        });
        Ok(RedisStore {
            conn,
            limits,
            tx,
            set: redis::Script::new(SET),
            clear: redis::Script::new(CLEAR),
            get: redis::Script::new(GET),
            listener,
        })
    }

    async fn clear_where(
        &self,
        c: ClearContext<'_>,
        stale_before: Option<DateTime<Utc>>,
    ) -> Result<Option<HistoryEntry>> {
        let mut conn = self.conn.clone();
        let json: Option<String> = self
            .clear
            .key(ctx_key(c.user_id))
            .key(ver_key(c.user_id))
            .key(hist_key(c.user_id))
            .key(USERS)
            .arg(c.user_id)
            .arg(c.actor)
            .arg(stamp(c.at))
            .arg(self.limits.history_per_user)
            .arg(CHANNEL)
            .arg(stale_before.map(stamp).unwrap_or_default())
            .arg(event_id(c.event_id))
            .invoke_async(&mut conn)
            .await?;
        json.as_deref().map(parse_entry).transpose()
    }
}

impl ContextStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, user_id: &str, now: DateTime<Utc>) -> Result<Option<PatientContext>> {
        let mut conn = self.conn.clone();
        let fields: Option<Vec<String>> = self
            .get
            .key(ctx_key(user_id))
            .arg(stamp(now))
            .invoke_async(&mut conn)
            .await?;
        fields.map(parse_context).transpose()
    }

    async fn set(&self, c: NewContext<'_>) -> Result<PatientContext> {
        let mut conn = self.conn.clone();
        let json: String = self
            .set
            .key(ctx_key(c.user_id))
            .key(ver_key(c.user_id))
            .key(hist_key(c.user_id))
            .key(USERS)
            .key(HIST_USERS)
            .arg(c.user_id)
            .arg(c.email.unwrap_or_default())
            .arg(c.patient_id)
            .arg(c.set_by)
            .arg(stamp(c.at))
            .arg(self.limits.history_per_user)
            .arg(CHANNEL)
            .arg(event_id(c.event_id))
            .invoke_async(&mut conn)
            .await?;
        let e = parse_entry(&json)?;
        Ok(PatientContext {
            user_id: e.user_id,
            email: e.email,
            patient_id: c.patient_id.to_string(),
            set_by: e.actor,
            set_at: e.timestamp,
            last_accessed_at: e.timestamp,
            version: e.version,
        })
    }

    async fn clear(&self, c: ClearContext<'_>) -> Result<Option<HistoryEntry>> {
        self.clear_where(c, None).await
    }

    async fn history(&self, q: HistoryQuery<'_>) -> Result<(Vec<HistoryEntry>, u64)> {
        let mut conn = self.conn.clone();
        let users: Vec<String> = match q.user_id {
            Some(u) => vec![u.to_string()],
            None => conn.smembers(HIST_USERS).await?,
        };
        let mut pipe = redis::pipe();
        for u in &users {
            pipe.lrange(hist_key(u), 0, -1);
        }
        let lists: Vec<Vec<String>> = pipe.query_async(&mut conn).await?;
        let mut all = lists
            .iter()
            .flatten()
            .map(|s| parse_entry(s))
            .collect::<Result<Vec<_>>>()?;
        all.sort_by(newest_first);
        Ok((page(&all, q.offset, q.limit), all.len() as u64))
    }

    async fn active(&self) -> Result<Vec<PatientContext>> {
        let mut conn = self.conn.clone();
        let mut users: Vec<String> = conn.smembers(USERS).await?;
        users.sort();
        let mut pipe = redis::pipe();
        for u in &users {
            pipe.hgetall(ctx_key(u));
        }
        let rows: Vec<Vec<String>> = pipe.query_async(&mut conn).await?;
        // A context cleared between the two reads comes back empty.
        rows.into_iter()
            .filter(|f| !f.is_empty())
            .map(parse_context)
            .collect()
    }

    async fn cleanup(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>> {
        let mut out = Vec::new();
        for c in self.active().await? {
            let clear = ClearContext {
                user_id: &c.user_id,
                actor: CLEANUP_ACTOR,
                at: now,
                event_id: None,
            };
            if c.last_accessed_at < cutoff
                && let Some(e) = self.clear_where(clear, Some(cutoff)).await?
            {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    fn events(&self) -> broadcast::Receiver<ContextEvent> {
        self.tx.subscribe()
    }
}
