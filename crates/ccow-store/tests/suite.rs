//! One suite, every backend: memory, SQLite, PostgreSQL (throwaway cluster)
//! and Redis (throwaway server). Each backend must give the same answers.

use ccow_client::Action;
use ccow_store::*;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap() + Duration::seconds(secs)
}

fn new<'a>(user: &'a str, patient: &'a str, at: DateTime<Utc>) -> NewContext<'a> {
    NewContext {
        user_id: user,
        email: Some("clinician.alpha@va.gov"),
        patient_id: patient,
        set_by: "med-z1",
        at,
        event_id: None,
    }
}

fn clear<'a>(user: &'a str, actor: &'a str, at: DateTime<Utc>) -> ClearContext<'a> {
    ClearContext {
        user_id: user,
        actor,
        at,
        event_id: None,
    }
}

const LIMITS: Limits = Limits {
    history_per_user: 5,
};

async fn suite<S: ContextStore>(s: &S) {
    s.ping().await.unwrap();
    let mut events = s.events();

    // Nothing yet.
    assert_eq!(s.get("alice", t(0)).await.unwrap(), None);
    assert_eq!(s.clear(clear("alice", "med-z1", t(0))).await.unwrap(), None);
    assert_eq!(
        s.history(HistoryQuery {
            user_id: Some("alice"),
            offset: 0,
            limit: 10
        })
        .await
        .unwrap()
        .1,
        0
    );

    // Set, read (which refreshes last_accessed_at), last writer wins.
    let c1 = s.set(new("alice", "ICN100001", t(1))).await.unwrap();
    assert_eq!(c1.version, 1);
    assert_eq!(c1.set_at, t(1));
    let got = s.get("alice", t(2)).await.unwrap().unwrap();
    assert_eq!(got.patient_id, "ICN100001");
    assert_eq!(got.last_accessed_at, t(2));
    assert_eq!(got.set_at, t(1));
    assert_eq!(got.email.as_deref(), Some("clinician.alpha@va.gov"));
    let c2 = s
        .set(NewContext {
            set_by: "cprs",
            email: None,
            ..new("alice", "1016V123456", t(3))
        })
        .await
        .unwrap();
    assert_eq!(c2.version, 2);
    let got = s.get("alice", t(4)).await.unwrap().unwrap();
    assert_eq!(
        (got.patient_id.as_str(), got.set_by.as_str(), got.version),
        ("1016V123456", "cprs", 2)
    );
    assert_eq!(got.email, None);

    // Isolation: bob's context is his own.
    s.set(new("bob", "ICN100002", t(5))).await.unwrap();
    assert_eq!(
        s.get("alice", t(6)).await.unwrap().unwrap().patient_id,
        "1016V123456"
    );
    assert_eq!(s.get("bob", t(6)).await.unwrap().unwrap().version, 1);

    // Clear, and the version keeps growing after it.
    let open = s.get("alice", t(7)).await.unwrap().unwrap().patient_id;
    let cleared = s
        .clear(ClearContext {
            event_id: Some("hub-request-7"),
            ..clear("alice", "med-z1", t(7))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            cleared.action,
            cleared.version,
            cleared.patient_id.clone(),
            cleared.event_id.as_str()
        ),
        (Action::Clear, 3, None, "hub-request-7")
    );
    assert_eq!(s.get("alice", t(8)).await.unwrap(), None);
    assert_eq!(s.clear(clear("alice", "med-z1", t(8))).await.unwrap(), None);
    assert_eq!(
        s.set(new("alice", "ICN100003", t(9)))
            .await
            .unwrap()
            .version,
        4
    );

    // Events: every change, in order.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
            .await
            .expect("event in time")
            .unwrap();
        seen.push(e);
    }
    // Clears name the closed patient; every change has its own id.
    assert_eq!(seen[3].patient_id.as_deref(), Some(open.as_str()));
    assert_eq!(seen[3].event_id, "hub-request-7");
    let ids: std::collections::HashSet<&str> = seen.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().all(|id| !id.is_empty()));
    let seen: Vec<_> = seen
        .into_iter()
        .map(|e| (e.user_id, e.version, e.action))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("alice".to_string(), 1, Action::Set),
            ("alice".to_string(), 2, Action::Set),
            ("bob".to_string(), 1, Action::Set),
            ("alice".to_string(), 3, Action::Clear),
            ("alice".to_string(), 4, Action::Set),
        ]
    );

    // History: newest first, per user, paged; global sees everyone.
    let (h, total) = s
        .history(HistoryQuery {
            user_id: Some("alice"),
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(total, 4);
    assert_eq!(
        h.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![4, 3, 2, 1]
    );
    assert_eq!(h[1].actor, "med-z1");
    assert_eq!(h[2].actor, "cprs");
    assert_eq!(h[0].patient_id.as_deref(), Some("ICN100003"));
    assert_eq!(
        (h[1].action, h[1].event_id.as_str()),
        (Action::Clear, "hub-request-7")
    );
    let (p, _) = s
        .history(HistoryQuery {
            user_id: Some("alice"),
            offset: 1,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(p.iter().map(|e| e.version).collect::<Vec<_>>(), vec![3, 2]);
    let (g, total) = s
        .history(HistoryQuery {
            user_id: None,
            offset: 0,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(total, 5);
    assert_eq!(g[0].timestamp, t(9));
    assert_eq!(g[1].user_id, "alice"); // t(7) clear
    assert_eq!(g[2].user_id, "bob"); // t(5)
    // Bounded per user: a busy user keeps only the newest, others keep theirs.
    for i in 0..10 {
        s.set(new("alice", "ICN100004", t(20 + i))).await.unwrap();
    }
    let (h, total) = s
        .history(HistoryQuery {
            user_id: Some("alice"),
            offset: 0,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(total, 5);
    assert_eq!(h.first().unwrap().version, 14);
    assert_eq!(h.last().unwrap().version, 10);
    assert_eq!(
        s.history(HistoryQuery {
            user_id: Some("bob"),
            offset: 0,
            limit: 10
        })
        .await
        .unwrap()
        .1,
        1
    );

    // Active contexts.
    let active = s.active().await.unwrap();
    assert_eq!(
        active
            .iter()
            .map(|c| c.user_id.as_str())
            .collect::<Vec<_>>(),
        vec!["alice", "bob"]
    );

    // Cleanup: only contexts not accessed since the cutoff.
    s.get("alice", t(100)).await.unwrap();
    let removed = s.cleanup(t(50), t(101)).await.unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].user_id, "bob");
    assert_eq!(removed[0].actor, CLEANUP_ACTOR);
    assert_eq!(removed[0].version, 2);
    assert_eq!(s.get("bob", t(102)).await.unwrap(), None);
    assert!(s.get("alice", t(102)).await.unwrap().is_some());
    assert!(s.cleanup(t(50), t(103)).await.unwrap().is_empty());

    // Odd but legal identifiers are stored verbatim.
    let odd = "user:with spaces/ünicode{}";
    s.set(new(odd, "ICN100001", t(200))).await.unwrap();
    assert_eq!(s.get(odd, t(201)).await.unwrap().unwrap().user_id, odd);
}

/// Concurrent writers to one user: versions are unique and contiguous, and
/// the final context is the last version's.
async fn concurrent<S: ContextStore>(s: std::sync::Arc<S>) {
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let patient = format!("ICN{:06}", 100000 + i);
            s.set(new("carol", &patient, t(300))).await.unwrap().version
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=40).collect::<Vec<u64>>());
    assert_eq!(s.get("carol", t(301)).await.unwrap().unwrap().version, 40);
}

#[tokio::test]
async fn memory() {
    suite(&MemoryStore::new(LIMITS)).await;
    concurrent(std::sync::Arc::new(MemoryStore::new(LIMITS))).await;
}

#[tokio::test]
async fn sqlite_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ccow.db").display());
    {
        let s = SqlStore::connect(&url, LIMITS).await.unwrap();
        assert_eq!(s.backend(), "sqlite");
        suite(&s).await;
    }
    // Contexts and history survive a restart.
    let s = SqlStore::connect(&url, LIMITS).await.unwrap();
    assert_eq!(s.get("alice", t(400)).await.unwrap().unwrap().version, 14);
    assert_eq!(
        s.history(HistoryQuery {
            user_id: Some("alice"),
            offset: 0,
            limit: 10
        })
        .await
        .unwrap()
        .1,
        5
    );
    assert_eq!(
        s.set(new("alice", "ICN100001", t(401)))
            .await
            .unwrap()
            .version,
        15
    );
    let s2 = SqlStore::connect(
        &format!("sqlite://{}", dir.path().join("c2.db").display()),
        LIMITS,
    )
    .await
    .unwrap();
    concurrent(std::sync::Arc::new(s2)).await;
}

#[tokio::test]
async fn postgres_and_restart() {
    let Some(cluster) = pgtest::Cluster::start() else {
        return;
    };
    let url = cluster.create_database("ccow");
    {
        let s = SqlStore::connect(&url, LIMITS).await.unwrap();
        assert_eq!(s.backend(), "postgres");
        suite(&s).await;
    }
    let s = SqlStore::connect(&url, LIMITS).await.unwrap();
    assert_eq!(s.get("alice", t(400)).await.unwrap().unwrap().version, 14);
    let url2 = cluster.create_database("ccow2");
    concurrent(std::sync::Arc::new(
        SqlStore::connect(&url2, LIMITS).await.unwrap(),
    ))
    .await;
}

#[tokio::test]
async fn redis_restart_and_two_instances() {
    let Some(mut server) = redistest::Server::start() else {
        return;
    };
    {
        let s = RedisStore::connect(&server.url(), LIMITS).await.unwrap();
        suite(&s).await;
    }
    // Survives a server restart.
    server.restart();
    let a = RedisStore::connect(&server.url(), LIMITS).await.unwrap();
    assert_eq!(a.get("alice", t(400)).await.unwrap().unwrap().version, 14);
    // A second instance sees the first one's writes and its events.
    let b = RedisStore::connect(&server.url(), LIMITS).await.unwrap();
    let mut b_events = b.events();
    a.set(new("dave", "ICN100005", t(500))).await.unwrap();
    let e = tokio::time::timeout(std::time::Duration::from_secs(5), b_events.recv())
        .await
        .expect("event relayed to the other instance")
        .unwrap();
    assert_eq!(
        (e.user_id.as_str(), e.patient_id.as_deref()),
        ("dave", Some("ICN100005"))
    );
    assert_eq!(
        b.get("dave", t(501)).await.unwrap().unwrap().patient_id,
        "ICN100005"
    );
    b.clear(clear("dave", "cprs", t(502)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.get("dave", t(503)).await.unwrap(), None);
    concurrent(std::sync::Arc::new(b)).await;
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    let err = AnyStore::open("mysql://u:secret@h/db", LIMITS)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unsupported CCOW store URL"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    assert!(matches!(
        AnyStore::open("memory", LIMITS).await.unwrap(),
        AnyStore::Memory(_)
    ));
    assert!(
        AnyStore::open("redis://127.0.0.1:1/", LIMITS)
            .await
            .is_err()
    );
}
