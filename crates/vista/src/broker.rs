//! The XWB RPC Broker: one TCP listener per site (a VistA system is one
//! site), speaking the new-style `[XWB]` protocol of the `xwb` crate.
//!
//! A connection goes through VistA's states: `TCPConnect` → `accept`;
//! `XUS SIGNON SETUP`, optional `XUS INTRO MSG`; `XUS AV CODE` with the
//! enciphered `access;verify` (failures counted, the broker hangs up after
//! the configured number); `XWB CREATE CONTEXT` with the enciphered
//! `OR CPRS GUI CHART`; then the clinical RPCs. `XWB IM HERE` keeps an idle
//! connection alive; `#BYE#` ends it. Timeouts: `signon_timeout` until
//! sign-on, `idle_timeout` after.
//!
//! Refusals travel as VistA sends them: security failures in the first
//! packet (unknown RPC, no context), application failures in the second,
//! bad RPC parameters as an M error frame. A malformed frame gets an
//! application-error reply and the connection is closed (its stream
//! cannot be resynchronised); nothing a client sends can stop the listener
//! or touch another connection.

use crate::rpc::{self, Arg};
use crate::{AppState, Transport};
use std::sync::atomic::Ordering;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use xwb::{Param, Reply, ReplyData, Request};

/// The only application context this broker knows.
pub const CPRS_CONTEXT: &str = "OR CPRS GUI CHART";

/// Binds one listener per site: base port + index, or the site's own
/// port, or ephemeral ports when the base is 0.
pub async fn bind(state: &AppState) -> anyhow::Result<Vec<(String, TcpListener)>> {
    let mut out = Vec::new();
    for (i, site) in state.world.sites.values().enumerate() {
        let port = match (site.config.xwb_port, state.config.xwb_base_port) {
            (Some(p), _) => p,
            (None, 0) => 0,
            (None, base) => base
                .checked_add(i as u16)
                .ok_or_else(|| anyhow::anyhow!("XWB port {base}+{i} is out of range"))?,
        };
        let addr = std::net::SocketAddr::new(state.config.xwb_host, port);
        let l = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(
                "binding the XWB listener of site {} on {addr}: {e}",
                site.config.sta3n
            )
        })?;
        state
            .xwb_ports
            .lock()
            .expect("ports lock")
            .insert(site.config.sta3n.clone(), l.local_addr()?.port());
        out.push((site.config.sta3n.clone(), l));
    }
    Ok(out)
}

/// Accepts connections for one site until the task is dropped.
pub async fn serve_site(listener: TcpListener, state: AppState, sta3n: String) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let state = state.clone();
                let sta3n = sta3n.clone();
                tokio::spawn(async move {
                    state
                        .metrics
                        .xwb_connections
                        .fetch_add(1, Ordering::Relaxed);
                    let _ = stream.set_nodelay(true);
                    if let Err(e) = connection(stream, &state, &sta3n).await {
                        tracing::debug!(site = %sta3n, "XWB connection ended: {e}");
                    }
                    state
                        .metrics
                        .xwb_connections
                        .fetch_sub(1, Ordering::Relaxed);
                });
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(site = %sta3n, "XWB accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Where a connection is in the sign-on sequence.
#[derive(Debug, Default)]
struct Session {
    connected: bool,
    duz: Option<u64>,
    context: bool,
    failures: u32,
}

enum Next {
    Continue,
    Close,
}

async fn connection(mut stream: TcpStream, state: &AppState, sta3n: &str) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 8192];
    let mut session = Session::default();
    loop {
        // Every complete request in the buffer, in order.
        loop {
            match xwb::decode_request(&buf) {
                Ok(None) => break,
                Ok(Some((req, used))) => {
                    buf.drain(..used);
                    let (reply, next) = handle(state, sta3n, &mut session, req).await;
                    stream.write_all(&xwb::encode_reply(&reply)).await?;
                    if let Next::Close = next {
                        return Ok(());
                    }
                }
                Err(e) => {
                    state
                        .metrics
                        .xwb_frame_errors
                        .fetch_add(1, Ordering::Relaxed);
                    let reply = Reply::application_error(format!("Malformed XWB request: {e}"));
                    stream.write_all(&xwb::encode_reply(&reply)).await?;
                    return Ok(());
                }
            }
        }
        let timeout = if session.duz.is_some() {
            state.config.idle_timeout
        } else {
            state.config.signon_timeout
        };
        let n = match tokio::time::timeout(timeout, stream.read(&mut chunk)).await {
            Ok(r) => r?,
            Err(_) => {
                let why = if session.duz.is_some() {
                    "Broker activity timeout"
                } else {
                    "Sign-on timeout"
                };
                let _ = stream
                    .write_all(&xwb::encode_reply(&Reply::security_error(why.to_string())))
                    .await;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Broker parameters as RPC arguments. Like VistA, a list value of `$C(1)`
/// (what some clients send for "empty") is the empty string.
fn args(params: Vec<Param>) -> Vec<Arg> {
    let value = |v: String| if v == "\u{1}" { String::new() } else { v };
    params
        .into_iter()
        .map(|p| match p {
            Param::Literal(s) | Param::Reference(s) => Arg::Text(s),
            Param::List(l) | Param::Global(l) => {
                Arg::List(l.into_iter().map(|(k, v)| (k, value(v))).collect())
            }
            Param::Empty => Arg::Text(String::new()),
        })
        .collect()
}

fn first_text(params: &[Param]) -> Option<&str> {
    match params.first() {
        Some(Param::Literal(s)) | Some(Param::Reference(s)) => Some(s),
        _ => None,
    }
}

async fn handle(state: &AppState, sta3n: &str, s: &mut Session, req: Request) -> (Reply, Next) {
    let (name, params) = match req {
        Request::Connect { .. } => {
            s.connected = true;
            return (Reply::accept(), Next::Continue);
        }
        Request::Bye => return (Reply::bye(), Next::Close),
        Request::Rpc { name, params, .. } => (name, params),
    };
    if !s.connected {
        return (
            Reply::security_error("TCPConnect is required before any RPC".to_string()),
            Next::Close,
        );
    }
    let site = &state.world.sites[sta3n].config;
    let ok = |d: ReplyData| (Reply::ok(d), Next::Continue);
    match name.as_str() {
        "XWB IM HERE" => ok(ReplyData::Single("1".into())),
        "XUS SIGNON SETUP" => ok(ReplyData::Array(vec![
            format!("VISTA-{}", site.sta3n),
            "ROU".into(),
            "VAH".into(),
            "/dev/null".into(),
            state.config.signon_attempts.to_string(),
            "0".into(),
            format!("{}.MED.VA.GOV", site.name.replace(' ', "-")),
            "0".into(),
        ])),
        "XUS INTRO MSG" => ok(ReplyData::WordProcessing(vec![
            format!(
                "{} ({}) — med-z1 VistA simulator",
                site.description, site.sta3n
            ),
            "Synthetic data for development and testing. No real patient information.".into(),
        ])),
        "XUS AV CODE" => sign_on(state, s, &params),
        "XWB CREATE CONTEXT" => {
            if s.duz.is_none() {
                return (
                    Reply::security_error("Not signed on.".to_string()),
                    Next::Continue,
                );
            }
            let option = first_text(&params)
                .and_then(|c| xwb::cipher::decrypt(c).ok())
                .unwrap_or_default();
            if option.trim().eq_ignore_ascii_case(CPRS_CONTEXT) {
                s.context = true;
                ok(ReplyData::Single("1".into()))
            } else {
                (
                    Reply::security_error(format!(
                        "The context '{}' does not exist on server.",
                        option.trim()
                    )),
                    Next::Continue,
                )
            }
        }
        "XUS GET USER INFO" => match s
            .duz
            .and_then(|d| state.config.users.iter().find(|u| u.duz == d))
        {
            Some(u) => ok(ReplyData::Array(vec![
                u.duz.to_string(),
                u.name.clone(),
                u.name.clone(),
                format!("{}^{}^{}", site.sta3n, site.name, site.sta3n),
            ])),
            None => (
                Reply::security_error("Not signed on.".to_string()),
                Next::Continue,
            ),
        },
        _ if !rpc::is_rpc(&name) => (
            Reply::security_error(format!(
                "Remote Procedure '{name}' doesn't exist on the server."
            )),
            Next::Continue,
        ),
        _ if s.duz.is_none() => (
            Reply::security_error("Not signed on.".to_string()),
            Next::Continue,
        ),
        _ if !s.context => (
            Reply::security_error("Application context has not been created!".to_string()),
            Next::Continue,
        ),
        _ => match state.run(sta3n, &name, &args(params), Transport::Xwb).await {
            Ok(rpc::Reply::Single(v)) => ok(ReplyData::Single(v)),
            Ok(rpc::Reply::Array(l)) => ok(ReplyData::Array(l)),
            Ok(rpc::Reply::Text(l)) => ok(ReplyData::GlobalArray(l)),
            Err(e) => (
                Reply::m_error(format!("{e}"), format!("{name}^XWBSIM")),
                Next::Continue,
            ),
        },
    }
}

fn sign_on(state: &AppState, s: &mut Session, params: &[Param]) -> (Reply, Next) {
    let pair = first_text(params).and_then(|c| xwb::cipher::decrypt(c).ok());
    let user = pair
        .as_deref()
        .and_then(|p| p.split_once(';'))
        .and_then(|(a, v)| {
            state
                .config
                .users
                .iter()
                .find(|u| u.access.eq_ignore_ascii_case(a.trim()) && u.verify == v.trim())
        });
    match user {
        Some(u) => {
            s.duz = Some(u.duz);
            s.failures = 0;
            (
                Reply::ok(ReplyData::Array(vec![
                    u.duz.to_string(),
                    "0".into(),
                    "0".into(),
                    String::new(),
                    "0".into(),
                    "1".into(),
                    format!("Good day, {}.", u.name),
                ])),
                Next::Continue,
            )
        }
        None => {
            s.failures += 1;
            state
                .metrics
                .xwb_signon_failures
                .fetch_add(1, Ordering::Relaxed);
            let reply = Reply::ok(ReplyData::Array(vec![
                "0".into(),
                "0".into(),
                "0".into(),
                "Not a valid ACCESS CODE/VERIFY CODE pair.".into(),
                "0".into(),
                "0".into(),
            ]));
            if s.failures >= state.config.signon_attempts {
                (reply, Next::Close)
            } else {
                (reply, Next::Continue)
            }
        }
    }
}
