//! The CCOW vault's load test, in process (`cargo bench -p ccow --bench vault`).
//!
//! For each store (memory, SQLite, PostgreSQL, Redis) and each concurrency
//! level it starts a fresh vault on 127.0.0.1:0 with the development issuer,
//! opens N long-lived HTTP/1.1 keep-alive connections and drives a mixed
//! load through them (by default 80% `GET /ccow/active-patient`, 20% `PUT`
//! of a random valid ICN), then checks that no update was lost or crossed
//! between users. It also measures the cost of verifying one RS256 bearer
//! token.
//!
//! ```text
//! cargo bench -p ccow --bench vault -- \
//!     [--stores memory,sqlite,postgres,redis] [--conns 50,500,1000] \
//!     [--seconds 10] [--users N] [--per-conn-rate 1] [--rate R] [--closed-loop]
//! ```
//!
//! Method:
//! - each connection is one TCP connection speaking HTTP/1.1 keep-alive
//!   through a minimal client written here (so the load generator, which
//!   shares the machine with the vault, spends as little CPU as possible);
//! - each connection acts as one user; by default there are `conns / 2`
//!   users, so every user's context is shared by two connections (a
//!   clinician with two applications), which exercises concurrent writers on
//!   one context. `--users` overrides it;
//! - one bearer token per user, minted once by the development issuer; the
//!   vault verifies it on every request, as it would in production;
//! - realistic pacing by default: every connection (an open application)
//!   sends about `--per-conn-rate` requests per second (1 by default, so
//!   1000 connections offer 1000 req/s); `--rate R` sets the total instead.
//!   A request sent late because the previous answer came late is measured
//!   from its scheduled time (no coordinated omission). `--closed-loop`
//!   saturates instead: each connection sends as soon as it is answered
//!   (maximum throughput; latency then follows Little's law,
//!   `latency ≈ conns / throughput`);
//! - latencies are kept per request (µs, `u32`) per connection and merged;
//! - history is bounded per user: the bound is raised far above what a run
//!   can write, so every PUT must still be in the history at the end.
//!
//! Checks after each run, per user: the active patient is the one of the
//! PUT with the highest version the clients were given; that version equals
//! the number of PUTs acknowledged; versions are exactly 1..=n; the history
//! holds exactly those n entries with the same patients; no response ever
//! carried another user's `user_id`; no GET returned 404 or an older version
//! after a PUT of that user had been acknowledged. Any discrepancy makes the
//! exit status non-zero.

use anyhow::{Context as _, bail};
use ccow::config::Config;
use ccow_client::HistoryResponse;
use clap::{Parser, ValueEnum};
use identity::{LocalIssuer, MintRequest, Verifier};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Far more entries per user than any run can write (and small enough that
/// the SQL store's `version - bound` arithmetic cannot overflow).
const HISTORY_BOUND: usize = 100_000_000;
/// Page size of the history check (the vault's maximum).
const HISTORY_PAGE: u64 = 500;
/// A request taking longer than this counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Concurrent connection attempts while opening the connections.
const CONNECT_PARALLELISM: usize = 64;
/// Discrepancy and error samples kept per run.
const SAMPLES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Memory,
    Sqlite,
    Postgres,
    Redis,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
            StoreKind::Redis => "redis",
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "ccow-bench",
    about = "Load test of the CCOW vault: throughput, latency, lost/crossed updates, JWT cost"
)]
struct Args {
    /// Stores to test.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "memory,sqlite,postgres,redis"
    )]
    stores: Vec<StoreKind>,
    /// Concurrent keep-alive connections (one run per value).
    #[arg(long, value_delimiter = ',', default_value = "50,500,1000")]
    conns: Vec<usize>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Unmeasured warm-up seconds per run (its PUTs are still checked).
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Users; default `conns / 2` (every user on two connections).
    #[arg(long)]
    users: Option<usize>,
    /// Percentage of requests that are PUTs (the rest are GETs).
    #[arg(long, default_value_t = 20)]
    put_percent: u32,
    /// Requests/s each connection offers (the realistic default: 1).
    #[arg(long, default_value_t = 1.0)]
    per_conn_rate: f64,
    /// Total target requests/s, paced over the connections (overrides
    /// `--per-conn-rate`).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Saturate: each connection sends as fast as it is answered.
    #[arg(long)]
    closed_loop: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Token verifications in the JWT cost measurement (0 skips it).
    #[arg(long, default_value_t = 20_000)]
    verify_iterations: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.conns.contains(&0) || args.seconds == 0 || args.put_percent > 100 {
        bail!("--conns must be positive, --seconds at least 1, --put-percent at most 100");
    }
    if args.rate < 0.0
        || !args.rate.is_finite()
        || args.per_conn_rate <= 0.0
        || !args.per_conn_rate.is_finite()
    {
        bail!(
            "--rate must be 0 (use --per-conn-rate) or positive; --per-conn-rate must be positive"
        );
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    rt.block_on(run(args, cores))
}

async fn run(args: Args, cores: usize) -> anyhow::Result<()> {
    let max_conns = args.conns.iter().copied().max().unwrap_or(0);
    print_header(&args, cores, max_conns);

    // One development key for every run (an RSA key takes a while to make);
    // each vault still has its own issuer URL.
    let keys = tempfile::Builder::new()
        .prefix("ccow-bench-")
        .tempdir()
        .context("temp dir")?;

    let jwt = if args.verify_iterations > 0 {
        Some(jwt_cost(keys.path(), args.verify_iterations).await?)
    } else {
        None
    };

    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;
    for &store in &args.stores {
        let mut backend = match Backend::start(store).await {
            Ok(b) => b,
            Err(why) => {
                println!("{:<9} skipped: {why}", store.name());
                continue;
            }
        };
        for &conns in &args.conns {
            let users = args.users.unwrap_or(conns / 2).clamp(1, conns);
            let url = match backend.url(store, rows.len()) {
                Ok(u) => u,
                Err(e) => {
                    println!("{:<9} {conns:>5}  skipped: {e:#}", store.name());
                    continue;
                }
            };
            let spec = RunSpec {
                store,
                store_url: url,
                conns,
                users,
                seconds: args.seconds,
                warmup: args.warmup,
                put_percent: args.put_percent,
                rate: if args.closed_loop {
                    0.0
                } else if args.rate > 0.0 {
                    args.rate
                } else {
                    conns as f64 * args.per_conn_rate
                },
            };
            match run_one(keys.path(), &spec).await {
                Ok(row) => {
                    failed |= !row.check.is_clean();
                    rows.push(row);
                }
                Err(e) => {
                    failed = true;
                    println!("{:<9} {conns:>5}  FAILED: {e:#}", store.name());
                }
            }
        }
        backend.stop();
    }

    print_tables(&rows, jwt.as_ref(), cores);
    if failed {
        println!("\nRESULT: FAILED (discrepancies or failed runs above)");
        std::process::exit(1);
    }
    println!("\nRESULT: 0 lost, 0 crossed in every run");
    Ok(())
}

// ---------------------------------------------------------------------------
// Environment

fn print_header(args: &Args, cores: usize, max_conns: usize) {
    println!("ccow-bench: CCOW vault load test (release build, in process)");
    println!(
        "machine: {cores} core(s); the load generator and the vault share this process, \
         its tokio runtime ({cores} worker threads) and these cores, so they compete for CPU; \
         PostgreSQL / Redis servers run as separate processes on the same cores"
    );
    let mode = if args.closed_loop {
        "closed loop (no think time): latency ≈ conns / throughput".to_string()
    } else if args.rate > 0.0 {
        format!(
            "paced to {} req/s in total (a late send is measured from its scheduled time)",
            args.rate
        )
    } else {
        format!(
            "paced to {} req/s per connection (a late send is measured from its scheduled time)",
            args.per_conn_rate
        )
    };
    println!(
        "load: {}% GET /ccow/active-patient, {}% PUT (random ICN100001..ICN199999); {mode}",
        100 - args.put_percent,
        args.put_percent
    );
    println!(
        "users: {}; one RS256 bearer per user from the development issuer; \
         one HTTP/1.1 keep-alive connection per client; {} s measured after {} s warm-up",
        match args.users {
            Some(u) => format!("{u} (fixed)"),
            None => "conns/2 (every user's context shared by two connections)".to_string(),
        },
        args.seconds,
        args.warmup
    );
    match open_files_limit() {
        Some((soft, hard)) => {
            let need = 2 * max_conns as u64 + 256;
            println!("open files: soft {soft}, hard {hard}; needed ≈ {need}");
            if soft < need {
                println!(
                    "WARNING: the open-files limit is too low for {max_conns} connections \
                     (client + server side); run `ulimit -n {need}` (or higher) first, \
                     or connections will fail with EMFILE"
                );
            }
        }
        None => println!("open files: limit unknown"),
    }
    println!("history bound per user raised to {HISTORY_BOUND} (no entry is retired during a run)");
    println!(
        "load average at start: {} (other work on this shared machine skews the figures)",
        load_average()
    );
    println!();
}

/// (soft, hard) from `/proc/self/limits`.
fn open_files_limit() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut f = line["Max open files".len()..].split_whitespace();
    let parse = |s: Option<&str>| match s? {
        "unlimited" => Some(u64::MAX),
        v => v.parse().ok(),
    };
    Some((parse(f.next())?, parse(f.next())?))
}

/// User + system CPU time of this process, in µs.
fn process_cpu_micros() -> Option<u64> {
    cpu_micros("/proc/self/stat")
}

/// User + system CPU time of the calling thread, in µs.
fn thread_cpu_micros() -> Option<u64> {
    cpu_micros("/proc/thread-self/stat")
}

/// The 1-minute load average: how busy the (shared) machine is.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// utime + stime of a `/proc/.../stat` file, in µs (`/proc` counts in
/// USER_HZ = 100 ticks/s on Linux).
fn cpu_micros(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the `(comm)`, which may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based) of the whole line,
    // i.e. 11 and 12 (0-based) after `pid (comm)`.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) * 10_000)
}

fn is_emfile(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(24)
}

// ---------------------------------------------------------------------------
// Stores

/// The external server a store needs, kept for all its runs.
enum Backend {
    None,
    Postgres(pgtest::Cluster),
    Redis,
    Sqlite(tempfile::TempDir),
}

impl Backend {
    async fn start(store: StoreKind) -> Result<Backend, String> {
        match store {
            StoreKind::Memory => Ok(Backend::None),
            StoreKind::Sqlite => tempfile::Builder::new()
                .prefix("ccow-bench-sqlite-")
                .tempdir()
                .map(Backend::Sqlite)
                .map_err(|e| format!("temp dir: {e}")),
            StoreKind::Postgres => {
                // `Cluster::start` runs initdb/pg_ctl (blocking) and panics
                // when they fail, or when the binaries are missing under CI.
                match tokio::task::spawn_blocking(pgtest::Cluster::start).await {
                    Ok(Some(c)) => Ok(Backend::Postgres(c)),
                    Ok(None) => Err("no PostgreSQL binaries".into()),
                    Err(_) => Err("PostgreSQL could not be started (see above)".into()),
                }
            }
            StoreKind::Redis => {
                // A fresh server per run (see `url`); just probe here.
                match tokio::task::spawn_blocking(redistest::Server::start).await {
                    Ok(Some(_probe)) => Ok(Backend::Redis),
                    Ok(None) => Err("no redis-server binary".into()),
                    Err(_) => Err("redis-server could not be started (see above)".into()),
                }
            }
        }
    }

    /// A fresh, empty store for run number `n`.
    fn url(&mut self, store: StoreKind, n: usize) -> anyhow::Result<StoreUrl> {
        Ok(match (store, &*self) {
            (StoreKind::Memory, _) => StoreUrl::plain("memory"),
            (StoreKind::Sqlite, Backend::Sqlite(dir)) => StoreUrl::plain(format!(
                "sqlite://{}",
                dir.path().join(format!("ccow-{n}.db")).display()
            )),
            (StoreKind::Postgres, Backend::Postgres(c)) => {
                StoreUrl::plain(c.create_database(&format!("bench{n}")))
            }
            (StoreKind::Redis, Backend::Redis) => {
                let server = redistest::Server::start().context("redis-server")?;
                StoreUrl {
                    url: server.url(),
                    _redis: Some(server),
                }
            }
            _ => bail!("no backend for {}", store.name()),
        })
    }

    fn stop(&mut self) {
        // Dropping stops the servers (by PID) and deletes the directories.
        *self = Backend::None;
    }
}

struct StoreUrl {
    url: String,
    /// Keeps a per-run Redis server alive.
    _redis: Option<redistest::Server>,
}

impl StoreUrl {
    fn plain(url: impl Into<String>) -> StoreUrl {
        StoreUrl {
            url: url.into(),
            _redis: None,
        }
    }
}

// ---------------------------------------------------------------------------
// The vault

struct Vault {
    addr: SocketAddr,
    base: String,
    issuer: LocalIssuer,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

fn vault_config(keys: &Path, store_url: &str) -> Config {
    let mut c = Config::development(keys);
    c.bind = ([127, 0, 0, 1], 0).into();
    c.store_url = store_url.to_string();
    c.history_per_user = HISTORY_BOUND;
    c
}

async fn start_vault(mut config: Config) -> anyhow::Result<Vault> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    config.public_url = base.clone();
    if let Some(d) = &mut config.identity.development {
        d.issuer = format!("{base}/dev-issuer");
    }
    let issuer = ccow::dev_issuer(&config)?.context("the development issuer is enabled")?;
    let state = ccow::build(config).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(ccow::serve(listener, state, async {
        let _ = rx.await;
    }));
    Ok(Vault {
        addr,
        base,
        issuer,
        stop: Some(tx),
        done: Some(done),
    })
}

impl Vault {
    fn token(&self, sub: &str) -> anyhow::Result<String> {
        let mut r = MintRequest::new(sub);
        r.email = Some(format!("{sub}@va.gov"));
        r.azp = Some("ccow-bench".into());
        r.ttl = Duration::from_secs(3600);
        Ok(self.issuer.mint(&r)?)
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let abort = d.abort_handle();
            match tokio::time::timeout(Duration::from_secs(10), d).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => eprintln!("vault stopped with an error: {e:#}"),
                Ok(Err(e)) => eprintln!("vault task failed: {e}"),
                Err(_) => {
                    eprintln!("vault did not stop within 10 s; aborted");
                    abort.abort();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// JWT cost

struct JwtCost {
    mint_us: f64,
    verify_us: f64,
    auth_us: f64,
}

/// µs per RS256 verification with a warm key cache: `identity::Verifier`
/// alone, and the vault's whole bearer path (`Auth::authenticate`: header
/// parsing, verification, building the caller).
async fn jwt_cost(keys: &Path, iterations: usize) -> anyhow::Result<JwtCost> {
    let config = vault_config(keys, "memory");
    let issuer = ccow::dev_issuer(&config)?.context("development issuer")?;
    let t = Instant::now();
    let mut token = String::new();
    for i in 0..20 {
        let mut r = MintRequest::new(format!("u{i:05}"));
        r.email = Some(format!("u{i:05}@va.gov"));
        r.azp = Some("ccow-bench".into());
        token = issuer.mint(&r)?;
    }
    let mint_us = t.elapsed().as_secs_f64() * 1e6 / 20.0;

    let verifier = Verifier::with_local(&issuer, Vec::<String>::new());
    verifier.verify(&token).await?; // warm
    let (t, cpu) = (Instant::now(), thread_cpu_micros());
    for _ in 0..iterations {
        std::hint::black_box(verifier.verify(std::hint::black_box(&token)).await?);
    }
    let verify_wall_us = t.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    let verify_us = per_iteration(cpu, iterations).unwrap_or(verify_wall_us);

    let state = ccow::build(config).await?;
    let (parts, ()) = axum::http::Request::builder()
        .uri("/ccow/active-patient")
        .header("authorization", format!("Bearer {token}"))
        .body(())?
        .into_parts();
    state
        .auth
        .authenticate(&parts)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (t, cpu) = (Instant::now(), thread_cpu_micros());
    for _ in 0..iterations {
        let c = state
            .auth
            .authenticate(std::hint::black_box(&parts))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        std::hint::black_box(c);
    }
    let auth_wall_us = t.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    let auth_us = per_iteration(cpu, iterations).unwrap_or(auth_wall_us);
    println!(
        "JWT (RS256, 2048-bit, warm key cache, one thread, {iterations} iterations; \
         thread CPU time, wall time in brackets, load average {}):\n  \
         mint {mint_us:.0} µs (wall), identity::Verifier::verify {verify_us:.1} µs \
         [{verify_wall_us:.1}], vault Auth::authenticate {auth_us:.1} µs [{auth_wall_us:.1}] \
         (≈ {:.0} verifications/s per core)\n",
        load_average(),
        1e6 / verify_us
    );
    Ok(JwtCost {
        mint_us,
        verify_us,
        auth_us,
    })
}

/// µs of thread CPU per iteration since `before`, when measurable.
fn per_iteration(before: Option<u64>, iterations: usize) -> Option<f64> {
    let used = thread_cpu_micros()?.checked_sub(before?)?;
    (used > 0).then(|| used as f64 / iterations as f64)
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 keep-alive client

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    body: Vec<u8>,
}

struct Reply<'a> {
    status: u16,
    body: &'a [u8],
    /// The server asked to close the connection after this response.
    closing: bool,
}

fn io_err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
            body: Vec::with_capacity(1024),
        })
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        self.buf.reserve(4096);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Sends one request (complete bytes) and reads the whole response.
    async fn call(&mut self, request: &[u8]) -> std::io::Result<Reply<'_>> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        self.body.clear();
        let head = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(io_err("response head too large"));
            }
            self.fill().await?;
        };
        let text = std::str::from_utf8(&self.buf[..head]).map_err(|_| io_err("non-UTF-8 head"))?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io_err(format!("bad status line {status_line:?}")))?;
        let (mut length, mut chunked, mut closing) = (None, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| io_err("bad content-length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                closing = value.eq_ignore_ascii_case("close");
            }
        }
        if chunked {
            let mut at = head;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[at..], b"\r\n") {
                        break at + i;
                    }
                    self.fill().await?;
                };
                let size_text = std::str::from_utf8(&self.buf[at..line_end])
                    .map_err(|_| io_err("bad chunk size"))?;
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| io_err("bad chunk size"))?;
                let data = line_end + 2;
                while self.buf.len() < data + size + 2 {
                    self.fill().await?;
                }
                if size == 0 {
                    break; // no trailers from this server
                }
                let chunk = self.buf[data..data + size].to_vec();
                self.body.extend_from_slice(&chunk);
                at = data + size + 2;
            }
            return Ok(Reply {
                status,
                body: &self.body,
                closing,
            });
        }
        let length = length.unwrap_or(0);
        while self.buf.len() < head + length {
            self.fill().await?;
        }
        Ok(Reply {
            status,
            body: &self.buf[head..head + length],
            closing,
        })
    }
}

// ---------------------------------------------------------------------------
// One run

struct RunSpec {
    store: StoreKind,
    store_url: StoreUrl,
    conns: usize,
    users: usize,
    seconds: u64,
    warmup: u64,
    put_percent: u32,
    rate: f64,
}

/// What every connection of one user shares.
#[derive(Default)]
struct UserShared {
    /// PUTs acknowledged so far (by any connection of this user).
    acked: AtomicU64,
    /// The highest version acknowledged so far.
    max_version: AtomicU64,
}

struct Plan {
    addr: SocketAddr,
    users: Vec<UserShared>,
    user_ids: Vec<String>,
    tokens: Vec<String>,
    put_percent: u32,
    /// Pacing interval per connection; `None` = closed loop.
    interval: Option<Duration>,
    start: Instant,
    measure_from: Instant,
    deadline: Instant,
}

fn user_id(u: usize) -> String {
    format!("bench-user-{u:05}")
}

/// A cheap deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Deserialize)]
struct CtxBody<'a> {
    #[serde(borrow)]
    user_id: &'a str,
    #[serde(borrow)]
    patient_id: &'a str,
    version: u64,
}

#[derive(Default)]
struct WorkerOut {
    user: usize,
    get_lat: Vec<u32>,
    put_lat: Vec<u32>,
    /// Every acknowledged PUT: (version, ICN number).
    puts: Vec<(u64, u32)>,
    /// PUTs whose outcome is unknown (transport error or timeout).
    puts_unknown: u64,
    not_found_ok: u64,
    statuses: BTreeMap<u16, u64>,
    transport: u64,
    crossed: Vec<String>,
    crossed_n: u64,
    stale: Vec<String>,
    stale_n: u64,
    samples: Vec<String>,
    emfile: bool,
}

impl WorkerOut {
    fn sample(&mut self, s: String) {
        if self.samples.len() < SAMPLES {
            self.samples.push(s);
        }
    }
}

fn request_bytes(addr: SocketAddr, token: &str, put_icn: Option<u32>) -> Vec<u8> {
    match put_icn {
        None => format!(
            "GET /ccow/active-patient HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .into_bytes(),
        Some(n) => {
            let body = format!(r#"{{"patient_id":"ICN{n}","set_by":"ccow-bench"}}"#);
            format!(
                "PUT /ccow/active-patient HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
    }
}

async fn worker(
    plan: Arc<Plan>,
    index: usize,
    mut conn: Conn,
    go: tokio::sync::watch::Receiver<bool>,
) -> WorkerOut {
    let user = index % plan.users.len();
    let shared = &plan.users[user];
    let token = &plan.tokens[user];
    let me = plan.user_ids[user].as_str();
    let get = request_bytes(plan.addr, token, None);
    let mut out = WorkerOut {
        user,
        ..WorkerOut::default()
    };
    let mut rng = Rng(0xC0FF_EE00 ^ (index as u64).wrapping_mul(0x1000_0000_01B3));
    let mut go = go;
    let _ = go.wait_for(|g| *g).await;
    // Paced: spread the connections' first sends over one interval.
    let mut next = plan.start
        + plan.interval.map_or(Duration::ZERO, |iv| {
            iv.mul_f64(rng.below(1_000_000) as f64 / 1_000_000.0)
        });
    let mut broken = false;
    loop {
        let sent_at = match plan.interval {
            Some(iv) => {
                if next >= plan.deadline {
                    break;
                }
                let scheduled = next;
                next += iv;
                if Instant::now() < scheduled {
                    // On time: the timer's lateness (tokio's timer has a
                    // 1 ms resolution) is not the vault's, so measure from
                    // the actual send.
                    tokio::time::sleep_until(scheduled.into()).await;
                    Instant::now()
                } else {
                    // Behind schedule (the previous answer came late):
                    // measure from when this request was due, so waiting
                    // counts (no coordinated omission).
                    scheduled
                }
            }
            None => {
                let now = Instant::now();
                if now >= plan.deadline {
                    break;
                }
                now
            }
        };
        if broken {
            match Conn::connect(plan.addr).await {
                Ok(c) => {
                    conn = c;
                    broken = false;
                }
                Err(e) => {
                    out.transport += 1;
                    out.emfile |= is_emfile(&e);
                    out.sample(format!("reconnect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let put = (rng.below(100) as u32) < plan.put_percent;
        let icn = 100_001 + rng.below(99_999) as u32;
        let acked_before = shared.acked.load(Ordering::Acquire);
        let version_before = shared.max_version.load(Ordering::Acquire);
        let put_req;
        let req: &[u8] = if put {
            put_req = request_bytes(plan.addr, token, Some(icn));
            &put_req
        } else {
            &get
        };
        let result = tokio::time::timeout(REQUEST_TIMEOUT, conn.call(req)).await;
        let micros = u32::try_from(sent_at.elapsed().as_micros()).unwrap_or(u32::MAX);
        let measured = sent_at >= plan.measure_from;
        let reply = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                out.transport += 1;
                out.emfile |= is_emfile(&e);
                out.puts_unknown += u64::from(put);
                let what = if put { "PUT" } else { "GET" };
                out.sample(format!("{what}: transport error: {e}"));
                broken = true;
                continue;
            }
            Err(_) => {
                out.transport += 1;
                out.puts_unknown += u64::from(put);
                out.sample(format!("request timed out after {REQUEST_TIMEOUT:?}"));
                broken = true;
                continue;
            }
        };
        let status = reply.status;
        broken |= reply.closing;
        *out.statuses.entry(status).or_insert(0) += 1;
        let lat = if put {
            &mut out.put_lat
        } else {
            &mut out.get_lat
        };
        if measured {
            lat.push(micros);
        }
        if status == 200 {
            let body = match serde_json::from_slice::<CtxBody<'_>>(reply.body) {
                Ok(b) => b,
                Err(e) => {
                    let text = String::from_utf8_lossy(reply.body).into_owned();
                    out.sample(format!("status 200 with a bad body ({e}): {text}"));
                    *out.statuses.entry(200).or_insert(0) -= 1;
                    *out.statuses.entry(0).or_insert(0) += 1;
                    continue;
                }
            };
            if body.user_id != me {
                out.crossed_n += 1;
                if out.crossed.len() < SAMPLES {
                    out.crossed.push(format!(
                        "{me} got a context of {} (patient {}, version {})",
                        body.user_id, body.patient_id, body.version
                    ));
                }
            }
            if put {
                let icn_back = body
                    .patient_id
                    .strip_prefix("ICN")
                    .and_then(|n| n.parse::<u32>().ok());
                if icn_back != Some(icn) {
                    out.crossed_n += 1;
                    if out.crossed.len() < SAMPLES {
                        out.crossed.push(format!(
                            "{me} PUT ICN{icn} but the answer says {} (version {})",
                            body.patient_id, body.version
                        ));
                    }
                }
                out.puts.push((body.version, icn));
                shared.max_version.fetch_max(body.version, Ordering::AcqRel);
                shared.acked.fetch_add(1, Ordering::AcqRel);
            } else if body.version < version_before {
                out.stale_n += 1;
                if out.stale.len() < SAMPLES {
                    out.stale.push(format!(
                        "{me}: GET returned version {} after version {version_before} was acknowledged",
                        body.version
                    ));
                }
            }
        } else if status == 404 && !put {
            if acked_before == 0 {
                out.not_found_ok += 1;
            } else {
                out.stale_n += 1;
                if out.stale.len() < SAMPLES {
                    out.stale.push(format!(
                        "{me}: GET returned 404 after {acked_before} PUT(s) were acknowledged"
                    ));
                }
            }
        } else {
            let text = String::from_utf8_lossy(reply.body).into_owned();
            let what = if put { "PUT" } else { "GET" };
            out.sample(format!("{what}: status {status}: {text}"));
            if put && status >= 500 {
                // A 5xx may come after the store applied the change.
                out.puts_unknown += 1;
            }
        }
    }
    out
}

struct Row {
    store: StoreKind,
    conns: usize,
    users: usize,
    elapsed: f64,
    requests: u64,
    gets: Vec<u32>,
    puts: Vec<u32>,
    all: Vec<u32>,
    errors: u64,
    not_found_ok: u64,
    put_count: u64,
    cpu_us_per_req: Option<f64>,
    /// The machine's 1-minute load average at the end of the run.
    load: String,
    check: Check,
}

#[derive(Default)]
struct Check {
    lost: u64,
    crossed: u64,
    stale: u64,
    /// PUTs with an unknown outcome (they relax the checks of their user).
    unknown: u64,
    details: Vec<String>,
}

impl Check {
    fn is_clean(&self) -> bool {
        self.lost == 0 && self.crossed == 0 && self.stale == 0
    }

    fn note(&mut self, s: String) {
        if self.details.len() < 4 * SAMPLES {
            self.details.push(s);
        }
    }
}

async fn run_one(keys: &Path, spec: &RunSpec) -> anyhow::Result<Row> {
    let vault = start_vault(vault_config(keys, &spec.store_url.url)).await?;

    // One token per user (RS256 signing: about a millisecond each).
    let user_ids: Vec<String> = (0..spec.users).map(user_id).collect();
    let tokens = {
        let mut t = Vec::with_capacity(spec.users);
        for id in &user_ids {
            t.push(vault.token(id)?);
        }
        t
    };

    // Open every connection before the clock starts.
    let mut conns = Vec::with_capacity(spec.conns);
    {
        let sem = Arc::new(tokio::sync::Semaphore::new(CONNECT_PARALLELISM));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..spec.conns {
            let sem = sem.clone();
            let addr = vault.addr;
            set.spawn(async move {
                let _p = sem.acquire_owned().await;
                (i, Conn::connect(addr).await)
            });
        }
        let mut opened: Vec<(usize, Conn)> = Vec::with_capacity(spec.conns);
        while let Some(r) = set.join_next().await {
            let (i, c) = r?;
            match c {
                Ok(c) => opened.push((i, c)),
                Err(e) if is_emfile(&e) => bail!(
                    "opening connection {i}: {e}: too many open files; raise the limit \
                     (`ulimit -n {}`)",
                    2 * spec.conns + 256
                ),
                Err(e) => bail!("opening connection {i}: {e}"),
            }
        }
        opened.sort_by_key(|(i, _)| *i);
        conns.extend(opened.into_iter().map(|(_, c)| c));
    }

    let interval =
        (spec.rate > 0.0).then(|| Duration::from_secs_f64(spec.conns as f64 / spec.rate));
    let start = Instant::now() + Duration::from_millis(50);
    let measure_from = start + Duration::from_secs(spec.warmup);
    let plan = Arc::new(Plan {
        addr: vault.addr,
        users: (0..spec.users).map(|_| UserShared::default()).collect(),
        user_ids: user_ids.clone(),
        tokens: tokens.clone(),
        put_percent: spec.put_percent,
        interval,
        start,
        measure_from,
        deadline: measure_from + Duration::from_secs(spec.seconds),
    });
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in conns.into_iter().enumerate() {
        set.spawn(worker(plan.clone(), i, c, go_rx.clone()));
    }
    tokio::time::sleep_until(start.into()).await;
    let _ = go_tx.send(true);
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = process_cpu_micros();
    let t0 = Instant::now();
    let mut outs = Vec::with_capacity(spec.conns);
    while let Some(r) = set.join_next().await {
        outs.push(r?);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_after = process_cpu_micros();

    // Merge.
    let mut gets = Vec::new();
    let mut puts = Vec::new();
    let (mut errors, mut not_found_ok, mut put_count) = (0u64, 0u64, 0u64);
    let mut check = Check::default();
    let mut samples: Vec<String> = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut emfile = false;
    // Per user: version → ICN, from the clients' acknowledged PUTs.
    let mut acked: Vec<BTreeMap<u64, u32>> = vec![BTreeMap::new(); spec.users];
    let mut unknown = vec![0u64; spec.users];
    for o in &mut outs {
        gets.append(&mut o.get_lat);
        puts.append(&mut o.put_lat);
        for (s, n) in &o.statuses {
            *statuses.entry(*s).or_insert(0) += n;
        }
        let bad_status: u64 = o
            .statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s) && **s != 404)
            .map(|(_, n)| n)
            .sum();
        let bad_404 = o.statuses.get(&404).copied().unwrap_or(0) - o.not_found_ok;
        errors += bad_status + bad_404 + o.transport;
        not_found_ok += o.not_found_ok;
        put_count += o.puts.len() as u64;
        emfile |= o.emfile;
        check.crossed += o.crossed_n;
        check.stale += o.stale_n;
        for s in o.crossed.drain(..) {
            check.note(format!("crossed: {s}"));
        }
        for s in o.stale.drain(..) {
            check.note(format!("stale read: {s}"));
        }
        for s in o.samples.drain(..) {
            if samples.len() < SAMPLES {
                samples.push(s);
            }
        }
        unknown[o.user] += o.puts_unknown;
        check.unknown += o.puts_unknown;
        for &(version, icn) in &o.puts {
            if let Some(prev) = acked[o.user].insert(version, icn) {
                check.lost += 1;
                check.note(format!(
                    "lost: {} got version {version} twice (ICN{prev} and ICN{icn})",
                    user_id(o.user)
                ));
            }
        }
    }
    let load = load_average();
    let measured = (gets.len() + puts.len()) as u64;
    let mut all: Vec<u32> = Vec::with_capacity(gets.len() + puts.len());
    all.extend_from_slice(&gets);
    all.extend_from_slice(&puts);
    gets.sort_unstable();
    puts.sort_unstable();
    all.sort_unstable();

    verify_state(&vault, &tokens, &acked, &unknown, &mut check).await?;
    vault.stop().await;

    let cpu_us_per_req = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) if measured > 0 => Some((b - a) as f64 / measured as f64),
        _ => None,
    };
    let row = Row {
        store: spec.store,
        conns: spec.conns,
        users: spec.users,
        elapsed,
        requests: measured,
        gets,
        puts,
        all,
        errors,
        not_found_ok,
        put_count,
        cpu_us_per_req,
        load,
        check,
    };
    print_run(&row, &statuses, &samples, emfile);
    Ok(row)
}

/// The vault's final state against what the clients were told.
async fn verify_state(
    vault: &Vault,
    tokens: &[String],
    acked: &[BTreeMap<u64, u32>],
    unknown: &[u64],
    check: &mut Check,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let parallel = 16;
    let mut set = tokio::task::JoinSet::new();
    for lane in 0..parallel {
        let http = http.clone();
        let base = vault.base.clone();
        let work: Vec<(usize, String, BTreeMap<u64, u32>, u64)> = (lane..tokens.len())
            .step_by(parallel)
            .map(|u| (u, tokens[u].clone(), acked[u].clone(), unknown[u]))
            .collect();
        set.spawn(async move {
            let mut local = Check::default();
            for (u, token, puts, unknown) in work {
                check_user(&http, &base, u, &token, &puts, unknown, &mut local).await?;
            }
            anyhow::Ok(local)
        });
    }
    while let Some(r) = set.join_next().await {
        let local = r??;
        check.lost += local.lost;
        check.crossed += local.crossed;
        for d in local.details {
            check.note(d);
        }
    }
    Ok(())
}

async fn check_user(
    http: &reqwest::Client,
    base: &str,
    u: usize,
    token: &str,
    puts: &BTreeMap<u64, u32>,
    unknown: u64,
    check: &mut Check,
) -> anyhow::Result<()> {
    let me = user_id(u);
    let n = puts.len() as u64;
    let max = puts.last_key_value().map(|(v, icn)| (*v, *icn));

    // Versions handed out must be exactly 1..=n (with no unknown outcomes).
    if unknown == 0 && max.is_some_and(|(v, _)| v != n) {
        check.lost += 1;
        check.note(format!(
            "lost: {me}: {n} PUT(s) acknowledged but the highest version is {}",
            max.map_or(0, |m| m.0)
        ));
    }

    // The active patient.
    let r = http
        .get(format!("{base}/ccow/active-patient"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    match (status, max) {
        (404, None) => {}
        (200, Some((v, icn))) => {
            let ctx: ccow_client::PatientContext =
                serde_json::from_str(&text).context("active patient body")?;
            if ctx.user_id != me {
                check.crossed += 1;
                check.note(format!(
                    "crossed: {me}'s active context belongs to {}",
                    ctx.user_id
                ));
            }
            let expect_version = if unknown == 0 { n } else { v };
            if unknown == 0
                && (ctx.patient_id != format!("ICN{icn}") || ctx.version != expect_version)
            {
                check.lost += 1;
                check.note(format!(
                    "lost: {me}: active {} v{}, expected ICN{icn} v{expect_version} (the last PUT acknowledged)",
                    ctx.patient_id, ctx.version
                ));
            } else if unknown > 0 && ctx.version < v {
                check.lost += 1;
                check.note(format!(
                    "lost: {me}: active version {} is older than acknowledged {v}",
                    ctx.version
                ));
            }
        }
        (404, Some((v, icn))) => {
            check.lost += 1;
            check.note(format!(
                "lost: {me}: no active patient, expected ICN{icn} v{v}"
            ));
        }
        (200, None) if unknown > 0 => {}
        (s, _) => {
            check.lost += 1;
            check.note(format!("lost: {me}: final GET status {s}: {text}"));
        }
    }

    // The history, every page.
    let mut entries = Vec::new();
    let mut offset = 0u64;
    let total = loop {
        let r = http
            .get(format!(
                "{base}/ccow/history?scope=user&offset={offset}&limit={HISTORY_PAGE}"
            ))
            .bearer_auth(token)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("history of {me}: status {status}: {text}");
        }
        let page: HistoryResponse = serde_json::from_str(&text).context("history body")?;
        let got = page.history.len() as u64;
        entries.extend(page.history);
        offset += got;
        if got == 0 || offset >= page.total_count {
            break page.total_count;
        }
    };
    let expect_total = n.min(HISTORY_BOUND as u64);
    if (unknown == 0 && total != expect_total) || total < expect_total {
        check.lost += 1;
        check.note(format!(
            "lost: {me}: history total_count {total}, expected {expect_total}"
        ));
    }
    if entries.len() as u64 != total {
        check.lost += 1;
        check.note(format!(
            "lost: {me}: history pages held {} entries, total_count {total}",
            entries.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in &entries {
        if e.user_id != me {
            check.crossed += 1;
            check.note(format!(
                "crossed: {me}'s history holds an entry of {} (v{})",
                e.user_id, e.version
            ));
            continue;
        }
        if !seen.insert(e.version) {
            check.lost += 1;
            check.note(format!(
                "lost: {me}: history has version {} twice",
                e.version
            ));
        }
        match puts.get(&e.version) {
            Some(icn) if e.patient_id.as_deref() == Some(format!("ICN{icn}").as_str()) => {}
            Some(icn) => {
                check.lost += 1;
                check.note(format!(
                    "lost: {me}: history v{} is {:?}, the client was told ICN{icn}",
                    e.version, e.patient_id
                ));
            }
            None if unknown > 0 => {}
            None => {
                check.lost += 1;
                check.note(format!(
                    "lost: {me}: history v{} ({:?}) was never acknowledged to a client",
                    e.version, e.patient_id
                ));
            }
        }
    }
    for (v, icn) in puts {
        if !seen.contains(v) {
            check.lost += 1;
            check.note(format!(
                "lost: {me}: PUT v{v} (ICN{icn}) is not in the history"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Output

/// The p-th percentile (0–100) of sorted µs values, in ms.
fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

fn max_ms(sorted: &[u32]) -> f64 {
    sorted.last().map_or(f64::NAN, |v| f64::from(*v) / 1000.0)
}

fn print_run(r: &Row, statuses: &BTreeMap<u16, u64>, samples: &[String], emfile: bool) {
    let c = &r.check;
    let mut line = format!(
        "{:<9} {:>5} conns, {:>4} users: {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  — {} lost, {} crossed (load avg {})",
        r.store.name(),
        r.conns,
        r.users,
        r.requests as f64 / r.elapsed,
        pct(&r.all, 50.0),
        pct(&r.all, 99.0),
        r.errors,
        c.lost,
        c.crossed,
        r.load,
    );
    if c.stale > 0 {
        line.push_str(&format!(", {} stale reads", c.stale));
    }
    if c.unknown > 0 {
        line.push_str(&format!(
            " ({} PUTs with unknown outcome relaxed the checks)",
            c.unknown
        ));
    }
    println!("{line}");
    if r.errors > 0 {
        let codes: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        println!("    statuses: {}", codes.join(" "));
        for s in samples {
            println!("    error: {s}");
        }
    }
    if emfile {
        println!("    connections failed with EMFILE (too many open files): raise `ulimit -n`");
    }
    for d in &c.details {
        println!("    {d}");
    }
}

fn print_tables(rows: &[Row], jwt: Option<&JwtCost>, cores: usize) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<9} {:>6} {:>10} {:>8} {:>8} {:>8} {:>7}",
        "store", "conns", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for r in rows {
        println!(
            "{:<9} {:>6} {:>10.0} {:>8.2} {:>8.2} {:>8.1} {:>7}",
            r.store.name(),
            r.conns,
            r.requests as f64 / r.elapsed,
            pct(&r.all, 50.0),
            pct(&r.all, 99.0),
            max_ms(&r.all),
            r.errors
        );
    }

    println!();
    println!(
        "{:<9} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}",
        "store",
        "conns",
        "users",
        "requests",
        "PUTs",
        "GET p50",
        "GET p99",
        "PUT p50",
        "PUT p99",
        "404 (ok)",
        "cpu µs/r",
        "lost/x"
    );
    for r in rows {
        println!(
            "{:<9} {:>6} {:>6} {:>9} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>8} {:>8}",
            r.store.name(),
            r.conns,
            r.users,
            r.requests,
            r.put_count,
            pct(&r.gets, 50.0),
            pct(&r.gets, 99.0),
            pct(&r.puts, 50.0),
            pct(&r.puts, 99.0),
            r.not_found_ok,
            r.cpu_us_per_req.map_or("?".into(), |c| format!("{c:.0}")),
            format!("{}/{}", r.check.lost, r.check.crossed),
        );
    }
    println!(
        "(PUTs counts every acknowledged PUT including warm-up; cpu µs/r is this process's \
         CPU, client + vault, per measured request — PostgreSQL/Redis server CPU not included)"
    );

    if let Some(j) = jwt {
        println!();
        println!(
            "JWT verification: {:.1} µs/verify (identity::Verifier), {:.1} µs through the vault's \
             Auth::authenticate; minting {:.0} µs/token",
            j.verify_us, j.auth_us, j.mint_us
        );
        for r in rows.iter().filter(|r| r.store == StoreKind::Memory) {
            let rps = r.requests as f64 / r.elapsed;
            let share = rps * j.auth_us / 1e6;
            let cpu = r.cpu_us_per_req.map_or(String::new(), |c| {
                format!(
                    "; {:.0}% of the process CPU per request",
                    100.0 * j.auth_us / c
                )
            });
            println!(
                "  memory {:>5} conns: GET p50 {:.2} ms vs {:.3} ms verify ({:.1}%); \
                 at {rps:.0} req/s verification alone takes {share:.2} of {cores} cores{cpu}",
                r.conns,
                pct(&r.gets, 50.0),
                j.auth_us / 1000.0,
                100.0 * j.auth_us / 1000.0 / pct(&r.gets, 50.0),
            );
        }
    }

    println!();
    for r in rows
        .iter()
        .filter(|r| r.store == StoreKind::Memory && r.conns == 1000)
    {
        let p99 = pct(&r.all, 99.0);
        println!(
            "target p99 < 5 ms at 1000 conns (memory): {} (p99 {p99:.2} ms)",
            if p99 < 5.0 { "MET" } else { "MISSED" }
        );
    }
    let (lost, crossed): (u64, u64) = rows.iter().fold((0, 0), |(l, c), r| {
        (l + r.check.lost + r.check.stale, c + r.check.crossed)
    });
    println!(
        "target 0 lost / 0 crossed updates: {} ({lost} lost or stale, {crossed} crossed)",
        if lost == 0 && crossed == 0 {
            "MET"
        } else {
            "MISSED"
        }
    );
}
