//! The in-memory store: the default.

use crate::*;
use ccow_client::Action;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Default)]
struct User {
    ctx: Option<PatientContext>,
    version: u64,
    /// Oldest first.
    history: VecDeque<HistoryEntry>,
}

pub struct MemoryStore {
    users: Mutex<HashMap<String, User>>,
    limits: Limits,
    tx: broadcast::Sender<ContextEvent>,
}

impl MemoryStore {
    pub fn new(limits: Limits) -> Self {
        MemoryStore {
            users: Mutex::new(HashMap::new()),
            limits,
            tx: broadcast::channel(EVENT_BUFFER).0,
        }
    }

    fn record(&self, u: &mut User, entry: HistoryEntry, closed: Option<&str>) {
        u.history.push_back(entry.clone());
        while u.history.len() > self.limits.history_per_user {
            u.history.pop_front();
        }
        // No receiver is not an error.
        let _ = self.tx.send(ContextEvent::of(&entry, closed));
    }

    fn clear_locked(&self, u: &mut User, c: &ClearContext<'_>) -> Option<HistoryEntry> {
        let old = u.ctx.take()?;
        u.version += 1;
        let entry = HistoryEntry {
            action: Action::Clear,
            user_id: old.user_id,
            email: old.email,
            patient_id: None,
            actor: c.actor.to_string(),
            timestamp: c.at,
            version: u.version,
            event_id: event_id(c.event_id),
        };
        self.record(u, entry.clone(), Some(&old.patient_id));
        Some(entry)
    }
}

impl ContextStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, user_id: &str, now: DateTime<Utc>) -> Result<Option<PatientContext>> {
        let mut users = self.users.lock().expect("store lock");
        Ok(users
            .get_mut(user_id)
            .and_then(|u| u.ctx.as_mut())
            .map(|c| {
                c.last_accessed_at = now;
                c.clone()
            }))
    }

    async fn set(&self, c: NewContext<'_>) -> Result<PatientContext> {
        let mut users = self.users.lock().expect("store lock");
        let u = users.entry(c.user_id.to_string()).or_default();
        u.version += 1;
        let ctx = PatientContext {
            user_id: c.user_id.to_string(),
            email: c.email.map(str::to_string),
            patient_id: c.patient_id.to_string(),
            set_by: c.set_by.to_string(),
            set_at: c.at,
            last_accessed_at: c.at,
            version: u.version,
        };
        u.ctx = Some(ctx.clone());
        let entry = HistoryEntry {
            action: Action::Set,
            user_id: ctx.user_id.clone(),
            email: ctx.email.clone(),
            patient_id: Some(ctx.patient_id.clone()),
            actor: ctx.set_by.clone(),
            timestamp: c.at,
            version: u.version,
            event_id: event_id(c.event_id),
        };
        self.record(u, entry, None);
        Ok(ctx)
    }

    async fn clear(&self, c: ClearContext<'_>) -> Result<Option<HistoryEntry>> {
        let mut users = self.users.lock().expect("store lock");
        Ok(users
            .get_mut(c.user_id)
            .and_then(|u| self.clear_locked(u, &c)))
    }

    async fn history(&self, q: HistoryQuery<'_>) -> Result<(Vec<HistoryEntry>, u64)> {
        let users = self.users.lock().expect("store lock");
        let mut all: Vec<HistoryEntry> = match q.user_id {
            Some(id) => users
                .get(id)
                .map(|u| u.history.iter().cloned().collect())
                .unwrap_or_default(),
            None => users
                .values()
                .flat_map(|u| u.history.iter().cloned())
                .collect(),
        };
        drop(users);
        all.sort_by(newest_first);
        Ok((page(&all, q.offset, q.limit), all.len() as u64))
    }

    async fn active(&self) -> Result<Vec<PatientContext>> {
        let users = self.users.lock().expect("store lock");
        let mut v: Vec<PatientContext> = users.values().filter_map(|u| u.ctx.clone()).collect();
        v.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(v)
    }

    async fn cleanup(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>> {
        let mut users = self.users.lock().expect("store lock");
        let mut out = Vec::new();
        for u in users.values_mut() {
            let Some(ctx) = u.ctx.as_ref().filter(|c| c.last_accessed_at < cutoff) else {
                continue;
            };
            let user_id = ctx.user_id.clone();
            let clear = ClearContext {
                user_id: &user_id,
                actor: CLEANUP_ACTOR,
                at: now,
                event_id: None,
            };
            if let Some(e) = self.clear_locked(u, &clear) {
                out.push(e);
            }
        }
        out.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    fn events(&self) -> broadcast::Receiver<ContextEvent> {
        self.tx.subscribe()
    }
}
