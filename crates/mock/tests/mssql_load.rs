//! `mock load --mssql` against a TDS server: the real tiberius path of
//! [`mock::mssql::load`] (TCP connect, PreLogin, Login7, SQL batches, result
//! draining, error tokens) runs against an embedded mock server built from
//! Microsoft's `mssql-mock-tds` crate, on `127.0.0.1:0`.
//!
//! # What the mock can and cannot do, and the thin front end added here
//!
//! `mssql-mock-tds` 0.3 answers PreLogin (advertising no TLS), Login7
//! (LoginAck + EnvChange: collation, database `master`, packet size 4096)
//! and SQL batches, replying to a batch from a registry keyed by its exact
//! (trimmed, case-insensitive) text. Its stock accept loop
//! (`MockTdsServer::run`) cannot serve this loader as is:
//!
//! * it handles every TDS *packet* as a whole batch — it never reassembles a
//!   message split over several packets. The loader's `CREATE TABLE`s for
//!   wide tables and every `INSERT` batch are far larger than one 4,096-byte
//!   packet, so the stock server would answer each fragment separately and
//!   desynchronise the client;
//! * it answers an unregistered statement with a bare success (DONE), so a
//!   test could not tell a statement it expected from one it did not;
//! * it does not record the statements it receives.
//!
//! So [`MockSql`] runs its own accept loop over the crate's public parts:
//! PreLogin is answered with the stock server's own reply
//! (`build_prelogin_response_with_fedauth(false, true)`); every other
//! message (Login7 …) goes through the crate's `ConnectionProcessor`
//! unchanged; SQL batches are reassembled from their packets, recorded, and
//! answered from the crate's `QueryRegistry` with its own response builders
//! — an unregistered statement is answered with a server error (severity
//! 16) naming it. Login state per connection (authenticated, database named
//! in Login7) comes from the crate's `ConnectionStore`.
//!
//! # What this proves
//!
//! * `load` connects with an ADO string (`encrypt=DANGER_PLAINTEXT`, SQL
//!   authentication), logs in once in the default database and once per CDW
//!   database (naming it in Login7), sends exactly the statements
//!   [`mock::mssql::plan`] computes — every byte, in order, per session,
//!   multi-packet batches included — drains every reply and returns the row
//!   counts the generator reported;
//! * a server error on any statement stops the load at that statement with
//!   an error naming the table/rows and carrying the server's message, and
//!   nothing further is sent; an unreachable or silent server is an error,
//!   not a hang.
//!
//! # What it cannot prove
//!
//! The mock executes nothing: it does not parse T-SQL, so whether SQL Server
//! accepts the DDL and literals (types, escaping, 1,000-row VALUES limit,
//! `IF DB_ID … CREATE DATABASE`, `USE`-less database switching through
//! Login7) is covered only by the unit tests of the statement text. It
//! replies with ColMetadata(0 columns) + DONE rather than SQL Server's
//! `DONE_COUNT` rows-affected token (the crate cannot express that), it
//! never negotiates TLS (so `encrypt=true`/`false` against a real server is
//! untested here), and it always reports packet size 4,096.

use mock::mssql::{self, Session};
use mssql_mock_tds::protocol::{self, PACKET_HEADER_SIZE, PacketHeader, PacketType};
use mssql_mock_tds::server::ConnectionProcessor;
use mssql_mock_tds::{ConnectionStore, QueryRegistry, QueryResponse, TerminalError};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::compat::TokioAsyncWriteCompatExt;

/// Generous bound so a regression shows up as a failure, never a hung run.
const GUARD: Duration = Duration::from_secs(120);

type Log = Arc<std::sync::Mutex<BTreeMap<u64, Vec<String>>>>;

/// The mock TDS server plus the recording front end described above.
struct MockSql {
    addr: SocketAddr,
    registry: Arc<Mutex<QueryRegistry>>,
    store: Arc<Mutex<ConnectionStore>>,
    log: Log,
    accept: JoinHandle<()>,
}

impl Drop for MockSql {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl MockSql {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let registry = Arc::new(Mutex::new(QueryRegistry::new()));
        let store = Arc::new(Mutex::new(ConnectionStore::new()));
        let log = Log::default();
        let accept = tokio::spawn({
            let (registry, store, log) = (registry.clone(), store.clone(), log.clone());
            async move {
                for conn_id in 0u64.. {
                    let Ok((sock, peer)) = listener.accept().await else {
                        return;
                    };
                    let (registry, store, log) = (registry.clone(), store.clone(), log.clone());
                    tokio::spawn(async move {
                        // A connection error ends that connection; the client
                        // sees it, which is what the tests assert on.
                        let _ = serve(sock, peer, conn_id, registry, store, log).await;
                    });
                }
            }
        });
        MockSql {
            addr,
            registry,
            store,
            log,
            accept,
        }
    }

    /// Plain-text TDS (the mock has no TLS), SQL authentication.
    fn ado(&self) -> String {
        format!(
            "server=tcp:127.0.0.1,{};user=sa;password=not-a-secret;encrypt=DANGER_PLAINTEXT",
            self.addr.port()
        )
    }

    /// Registers `response` for `sql` (matched as the mock does: trimmed,
    /// case-insensitive).
    async fn register(&self, sql: &str, response: QueryResponse) {
        self.registry.lock().await.register(sql.trim(), response);
    }

    /// Registers an empty success for every statement of `plan`.
    async fn register_plan(&self, plan: &mssql::Plan) {
        let mut reg = self.registry.lock().await;
        for s in plan.sessions.iter().flat_map(|s| &s.statements) {
            reg.register(s.trim(), ok());
        }
    }

    /// Every connection in accept order: the database its Login7 named, and
    /// the batches it sent, verbatim.
    async fn sessions(&self) -> Vec<Session> {
        let store = self.store.lock().await;
        let log = self.log.lock().unwrap();
        store
            .all()
            .iter()
            .map(|(id, info)| {
                assert!(info.authenticated, "connection {id} did not log in");
                Session {
                    database: match info.received_database.as_deref() {
                        None | Some("") => None,
                        Some("CDWWork") => Some(cdw::Database::CdwWork),
                        Some("CDWWork2") => Some(cdw::Database::CdwWork2),
                        Some(other) => panic!("unexpected database {other:?} in Login7"),
                    },
                    statements: log.get(id).cloned().unwrap_or_default(),
                }
            })
            .collect()
    }
}

/// A statement that succeeds with no result set.
fn ok() -> QueryResponse {
    QueryResponse::new(vec![], vec![])
}

/// Serves one client connection: PreLogin as the stock server does, SQL
/// batches reassembled/recorded/answered here, everything else through the
/// mock's `ConnectionProcessor`.
async fn serve(
    mut sock: TcpStream,
    peer: SocketAddr,
    conn_id: u64,
    registry: Arc<Mutex<QueryRegistry>>,
    store: Arc<Mutex<ConnectionStore>>,
    log: Log,
) -> std::io::Result<()> {
    let mut inbuf = Vec::new();
    match read_message(&mut sock, &mut inbuf).await? {
        Some((PacketType::PreLogin, _)) => {}
        _ => return Ok(()),
    }
    sock.write_all(&protocol::build_prelogin_response_with_fedauth(false, true))
        .await?;
    let mut processor = ConnectionProcessor::new(conn_id, peer, registry.clone(), Some(store));
    while let Some((kind, body)) = read_message(&mut sock, &mut inbuf).await? {
        if kind == PacketType::SqlBatch && processor.is_authenticated() {
            log.lock()
                .unwrap()
                .entry(conn_id)
                .or_default()
                .push(batch_text(&body));
            // The mock's own parser and matching (it trims the text).
            let key = protocol::parse_sql_batch(&body).map_err(std::io::Error::other)?;
            let reply = {
                let reg = registry.lock().await;
                match reg.get(&key) {
                    Some(r) => protocol::build_query_result_with_extras(
                        r,
                        reg.data_classification(&key),
                        reg.trailing_info(&key),
                    ),
                    None => protocol::build_query_result(&QueryResponse::error_only(
                        TerminalError::new(
                            50000,
                            16,
                            format!(
                                "mock TDS server: unregistered statement: {}",
                                key.chars().take(80).collect::<String>()
                            ),
                        ),
                    )),
                }
            };
            sock.write_all(&reply).await?;
        } else {
            // One message as one packet, for the mock's packet-at-a-time processor.
            let len = u16::try_from(PACKET_HEADER_SIZE + body.len())
                .map_err(|_| std::io::Error::other("message too large for the mock"))?;
            let mut packet = Vec::with_capacity(len.into());
            PacketHeader::new(kind, len, 1).write(&mut packet);
            packet.extend_from_slice(&body);
            processor.buffer_mut().extend_from_slice(&packet);
            while let Some(reply) = processor
                .process_packet(&mut sock)
                .await
                .map_err(std::io::Error::other)?
            {
                sock.write_all(&reply).await?;
            }
        }
    }
    Ok(())
}

/// Reads one TDS message (packets up to the end-of-message flag); `None` at
/// a clean end of stream.
async fn read_message(
    sock: &mut TcpStream,
    inbuf: &mut Vec<u8>,
) -> std::io::Result<Option<(PacketType, Vec<u8>)>> {
    let mut message: Option<(PacketType, Vec<u8>)> = None;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        while inbuf.len() >= PACKET_HEADER_SIZE {
            let header = PacketHeader::parse(&mut &inbuf[..]).map_err(std::io::Error::other)?;
            let len = usize::from(header.length);
            if len < PACKET_HEADER_SIZE {
                return Err(std::io::Error::other("bad TDS packet length"));
            }
            if inbuf.len() < len {
                break;
            }
            let (kind, body) = message.get_or_insert_with(|| (header.packet_type, Vec::new()));
            if *kind != header.packet_type {
                return Err(std::io::Error::other("packet type changed mid-message"));
            }
            body.extend_from_slice(&inbuf[PACKET_HEADER_SIZE..len]);
            inbuf.drain(..len);
            if header.status.is_end_of_message() {
                return Ok(message);
            }
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return if message.is_none() && inbuf.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        inbuf.extend_from_slice(&chunk[..n]);
    }
}

/// A SQL batch's text exactly as sent (ALL_HEADERS skipped, UTF-16LE decoded,
/// not trimmed).
fn batch_text(body: &[u8]) -> String {
    let headers = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
    let units: Vec<u16> = body[headers..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).expect("UTF-16 batch")
}

async fn generate(dir: &Path) -> mock::Summary {
    mock::generate(&mock::GenerateOptions {
        patients: 100,
        seed: 7,
        out: dir.to_path_buf(),
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
    })
    .await
    .expect("generation succeeds")
}

async fn load(ado: &str, cdw: &Path) -> anyhow::Result<Vec<(&'static cdw::Table, u64)>> {
    tokio::time::timeout(GUARD, mssql::load(ado, cdw, |_, _| {}))
        .await
        .expect("load neither finished nor failed within the guard: it hangs")
}

#[tokio::test]
async fn load_sends_every_planned_statement_in_order_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path()).await;
    let cdw = dir.path().join("cdw");
    let plan = mssql::plan(&cdw).await.unwrap();

    // The plan covers what the run must exercise: both databases, every
    // table, multi-batch tables and statements spanning many TDS packets.
    assert_eq!(
        plan.sessions.iter().map(|s| s.database).collect::<Vec<_>>(),
        [
            None,
            Some(cdw::Database::CdwWork),
            Some(cdw::Database::CdwWork2)
        ]
    );
    assert!(
        plan.loaded
            .iter()
            .any(|(_, n)| *n > mssql::BATCH_ROWS as u64),
        "no table needs more than one INSERT batch"
    );
    let longest = plan
        .sessions
        .iter()
        .flat_map(|s| &s.statements)
        .map(|s| s.len() * 2)
        .max()
        .unwrap();
    assert!(longest > 16 * 4096, "longest batch is only {longest} bytes");

    let server = MockSql::start().await;
    server.register_plan(&plan).await;
    let mut progress = Vec::new();
    let loaded = tokio::time::timeout(
        GUARD,
        mssql::load(&server.ado(), &cdw, |t, n| {
            progress.push((t.qualified(), n))
        }),
    )
    .await
    .expect("load hangs")
    .expect("load succeeds against the mock server");

    // Exactly the planned sessions and statements, byte for byte, in order.
    let seen = server.sessions().await;
    assert_eq!(seen.len(), plan.sessions.len(), "logins");
    for (i, (seen, want)) in seen.iter().zip(&plan.sessions).enumerate() {
        assert_eq!(seen.database, want.database, "session {i} database");
        assert_eq!(
            seen.statements.len(),
            want.statements.len(),
            "session {i} statement count"
        );
        for (j, (a, b)) in seen.statements.iter().zip(&want.statements).enumerate() {
            if a != b {
                let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                let from = at.saturating_sub(40);
                panic!(
                    "session {i} statement {j} differs at byte {at} (sent {} bytes, planned {}):\n \
                     sent …{:?}\n plan …{:?}",
                    a.len(),
                    b.len(),
                    a.get(from..(at + 40).min(a.len())).unwrap_or(""),
                    b.get(from..(at + 40).min(b.len())).unwrap_or(""),
                );
            }
        }
    }

    // Row counts: what the plan computed, reported once per table as it
    // finished, and every row the generator wrote.
    let named = |v: &[(&'static cdw::Table, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(t, n)| (t.qualified(), *n)).collect()
    };
    assert_eq!(named(&loaded), named(&plan.loaded));
    assert_eq!(progress, named(&loaded));
    let mut got = named(&loaded);
    let mut generated = named(&summary.tables);
    got.sort();
    generated.sort();
    assert_eq!(got, generated);
}

#[tokio::test]
async fn a_server_error_stops_the_load_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path()).await;
    let cdw = dir.path().join("cdw");
    let plan = mssql::plan(&cdw).await.unwrap();

    // Fail the second INSERT batch of the first table that has two.
    let (table, _) = *plan
        .loaded
        .iter()
        .find(|(_, n)| *n > mssql::BATCH_ROWS as u64)
        .unwrap();
    let prefix = format!("INSERT INTO {} ", table.mssql_name());
    let (si, stmts) = plan
        .sessions
        .iter()
        .enumerate()
        .find(|(_, s)| s.statements.iter().any(|x| x.starts_with(&prefix)))
        .map(|(i, s)| (i, &s.statements))
        .unwrap();
    let failing = stmts
        .iter()
        .enumerate()
        .filter(|(_, x)| x.starts_with(&prefix))
        .nth(1)
        .map(|(j, _)| j)
        .unwrap();

    let server = MockSql::start().await;
    server.register_plan(&plan).await;
    server
        .register(
            &stmts[failing],
            QueryResponse::error_only(TerminalError::new(
                2627,
                14,
                "Violation of PRIMARY KEY constraint 'PK_x'. Cannot insert duplicate key.",
            )),
        )
        .await;

    let err = load(&server.ado(), &cdw).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "loading {} rows {}..={}",
            table.qualified(),
            mssql::BATCH_ROWS + 1,
            (2 * mssql::BATCH_ROWS).min(
                plan.loaded
                    .iter()
                    .find(|(t, _)| std::ptr::eq(*t, table))
                    .unwrap()
                    .1 as usize
            )
        )),
        "{msg}"
    );
    assert!(msg.contains("Violation of PRIMARY KEY constraint"), "{msg}");

    // Nothing was sent after the failing statement.
    let seen = server.sessions().await;
    assert_eq!(seen.len(), si + 1);
    assert_eq!(seen[si].statements.len(), failing + 1);
    assert_eq!(seen[si].statements[failing], stmts[failing]);
}

#[tokio::test]
async fn an_unregistered_statement_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path()).await;
    let cdw = dir.path().join("cdw");
    let mut plan = mssql::plan(&cdw).await.unwrap();

    // Leave out the CREATE TABLE of the first CDWWork2 table.
    let s = plan
        .sessions
        .iter_mut()
        .find(|s| s.database == Some(cdw::Database::CdwWork2))
        .unwrap();
    let j = s
        .statements
        .iter()
        .position(|x| x.starts_with("IF OBJECT_ID("))
        .unwrap();
    let left_out = s.statements.remove(j);
    let table = cdw::Database::CdwWork2.tables().next().unwrap();
    assert!(left_out.contains(&table.mssql_name()), "{left_out}");

    let server = MockSql::start().await;
    server.register_plan(&plan).await;
    let err = load(&server.ado(), &cdw).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!("creating table CDWWork2.{}", table.mssql_name())),
        "{msg}"
    );
    assert!(msg.contains("unregistered statement"), "{msg}");
    let seen = server.sessions().await;
    assert_eq!(seen.last().unwrap().statements.last(), Some(&left_out));
}

#[tokio::test]
async fn an_unreachable_server_is_a_quick_clear_error() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let ado = format!("server=tcp:127.0.0.1,{port};user=sa;password=x;encrypt=DANGER_PLAINTEXT");
    let err = load(&ado, dir.path()).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!("connecting to SQL Server at 127.0.0.1:{port}")),
        "{msg}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_instead_of_hanging() {
    // Accepts TCP connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let mut cfg = mssql::parse_ado(&format!(
        "server=tcp:127.0.0.1,{port};user=sa;password=x;encrypt=DANGER_PLAINTEXT"
    ))
    .unwrap();
    cfg.handshake_timeout(Some(Duration::from_secs(1)));
    let dir = tempfile::tempdir().unwrap();
    let err = tokio::time::timeout(GUARD, mssql::load_with_config(cfg, dir.path(), |_, _| {}))
        .await
        .expect("load hangs")
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!("SQL Server login at 127.0.0.1:{port} failed")),
        "{msg}"
    );
    silent.abort();
}

#[tokio::test]
async fn a_server_without_tls_is_refused_unless_plaintext_is_asked_for() {
    // tiberius' default (`encrypt=true`) requires TLS, which the mock lacks:
    // a clear, immediate error rather than a plaintext fallback.
    let server = MockSql::start().await;
    let ado = format!(
        "server=tcp:127.0.0.1,{};user=sa;password=x",
        server.addr.port()
    );
    let dir = tempfile::tempdir().unwrap();
    let msg = format!("{:#}", load(&ado, dir.path()).await.unwrap_err());
    assert!(msg.contains("SQL Server login at"), "{msg}");
    assert!(msg.contains("encryption level"), "{msg}");
    assert!(server.sessions().await.is_empty());
}

#[tokio::test]
async fn the_stock_mock_server_accepts_our_login() {
    // The unmodified `MockTdsServer` accept loop logs tiberius in with our
    // ADO settings and answers single-packet statements — the same login
    // path the front end above delegates to the crate's processor.
    let server = mssql_mock_tds::MockTdsServer::new("127.0.0.1:0")
        .await
        .unwrap();
    let port = server.local_addr().port();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(server.run_with_shutdown(stopped));
    let cfg = mssql::parse_ado(&format!(
        "server=tcp:127.0.0.1,{port};user=sa;password=x;encrypt=DANGER_PLAINTEXT"
    ))
    .unwrap();
    let tcp = TcpStream::connect(cfg.get_addr()).await.unwrap();
    let mut client =
        tokio::time::timeout(GUARD, tiberius::Client::connect(cfg, tcp.compat_write()))
            .await
            .expect("login hangs")
            .expect("login succeeds");
    let rows = client
        .simple_query("SELECT 1")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<i32, _>(0), Some(1));
    client
        .simple_query(mssql::create_database_sql(cdw::Database::CdwWork))
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    drop(client);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
