//! A typed client of the VistA RPC Broker simulator, over either
//! transport:
//! - **HTTP**: `POST {base}/rpc/execute?site=` with `{name, params}`;
//! - **XWB**: the real broker protocol, one signed-on connection per site
//!   (TCPConnect, `XUS SIGNON SETUP`, `XUS AV CODE` with the enciphered
//!   access/verify pair, `XWB CREATE CONTEXT`), kept and reused.
//!
//! [`VistaClient::fan_out`] calls several sites at once: the call costs
//! the slowest site (not the sum); each site has its own timeout; results
//! are partial, naming the sites that failed.
//!
//! Both transports return the RPC's lines. VistA-level answers such as
//! `-1^Patient … not registered` are data, not errors; errors are
//! transport failures, timeouts, unknown RPCs and refused calls.

use futures_util::future::join_all;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

pub use domain::pieces::unescape;
pub use xwb::Param;

/// A line's `^` pieces with their free text unescaped.
pub fn pieces(line: &str) -> Vec<String> {
    line.split('^').map(|p| unescape(p).into_owned()).collect()
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    #[error("site {site} did not answer within {timeout:?}")]
    Timeout { site: String, timeout: Duration },
    #[error("site {site}: {message}")]
    Transport { site: String, message: String },
    /// The simulator refused the call (unknown site or RPC, bad
    /// parameters, security or application error packets).
    #[error("site {site}: {message}")]
    Refused { site: String, message: String },
    /// An M error frame.
    #[error("site {site}: M error {error}")]
    MError { site: String, error: String },
    #[error("site {site} has no XWB address configured")]
    NoSuchSite { site: String },
}

impl ClientError {
    pub fn site(&self) -> &str {
        match self {
            ClientError::Timeout { site, .. }
            | ClientError::Transport { site, .. }
            | ClientError::Refused { site, .. }
            | ClientError::MError { site, .. }
            | ClientError::NoSuchSite { site } => site,
        }
    }
}

/// Sign-on credentials for the XWB transport.
#[derive(Clone)]
pub struct Credentials {
    pub access: String,
    pub verify: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

#[derive(Debug, Clone)]
pub enum Transport {
    Http {
        base: String,
    },
    Xwb {
        sites: HashMap<String, SocketAddr>,
        credentials: Credentials,
    },
}

/// The outcome of a multi-site call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Site → the RPC's lines.
    pub results: BTreeMap<String, Vec<String>>,
    /// Site → why it has no result.
    pub failed: BTreeMap<String, ClientError>,
}

impl FanOut {
    pub fn failed_sites(&self) -> Vec<&str> {
        self.failed.keys().map(String::as_str).collect()
    }
}

pub struct VistaClient {
    transport: Transport,
    timeout: Duration,
    http: reqwest::Client,
    /// Idle signed-on connections per site.
    pool: Mutex<HashMap<String, Vec<Connection>>>,
}

impl VistaClient {
    /// `timeout` applies per site and call.
    pub fn new(transport: Transport, timeout: Duration) -> VistaClient {
        VistaClient {
            transport,
            timeout,
            http: reqwest::Client::builder()
                .connect_timeout(timeout)
                .build()
                .expect("HTTP client"),
            pool: Mutex::new(HashMap::new()),
        }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// One RPC at one site: its lines.
    pub async fn call(
        &self,
        site: &str,
        name: &str,
        params: &[Param],
    ) -> Result<Vec<String>, ClientError> {
        match tokio::time::timeout(self.timeout, self.call_inner(site, name, params)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                site: site.to_string(),
                timeout: self.timeout,
            }),
        }
    }

    /// The same RPC at several sites concurrently.
    pub async fn fan_out(&self, sites: &[&str], name: &str, params: &[Param]) -> FanOut {
        let mut seen = std::collections::HashSet::new();
        let sites: Vec<&str> = sites.iter().copied().filter(|s| seen.insert(*s)).collect();
        let all = join_all(sites.iter().map(|s| self.call(s, name, params))).await;
        let mut out = FanOut::default();
        for (site, r) in sites.into_iter().zip(all) {
            match r {
                Ok(lines) => {
                    out.results.insert(site.to_string(), lines);
                }
                Err(e) => {
                    out.failed.insert(site.to_string(), e);
                }
            }
        }
        out
    }

    async fn call_inner(
        &self,
        site: &str,
        name: &str,
        params: &[Param],
    ) -> Result<Vec<String>, ClientError> {
        match &self.transport {
            Transport::Http { base } => self.http_call(base, site, name, params).await,
            Transport::Xwb { sites, credentials } => {
                let addr = *sites.get(site).ok_or_else(|| ClientError::NoSuchSite {
                    site: site.to_string(),
                })?;
                let idle = self.pool.lock().await.get_mut(site).and_then(Vec::pop);
                let mut conn = match idle {
                    Some(c) => c,
                    None => Connection::open(site, addr, credentials).await?,
                };
                let r = conn.call(name, params).await;
                // A connection that failed at the transport level is dropped.
                if !matches!(r, Err(ClientError::Transport { .. })) {
                    self.pool
                        .lock()
                        .await
                        .entry(site.to_string())
                        .or_default()
                        .push(conn);
                }
                r
            }
        }
    }

    async fn http_call(
        &self,
        base: &str,
        site: &str,
        name: &str,
        params: &[Param],
    ) -> Result<Vec<String>, ClientError> {
        let transport = |e: reqwest::Error| ClientError::Transport {
            site: site.to_string(),
            message: e.to_string(),
        };
        let json_params: Vec<serde_json::Value> = params
            .iter()
            .map(|p| match p {
                Param::Literal(s) | Param::Reference(s) => serde_json::Value::String(s.clone()),
                Param::List(l) | Param::Global(l) => serde_json::Value::Object(
                    l.iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                ),
                Param::Empty => serde_json::Value::String(String::new()),
            })
            .collect();
        let resp = self
            .http
            .post(format!("{}/rpc/execute", base.trim_end_matches('/')))
            .query(&[("site", site)])
            .json(&serde_json::json!({ "name": name, "params": json_params }))
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.map_err(transport)?;
        if !status.is_success() {
            return Err(ClientError::Refused {
                site: site.to_string(),
                message: body["detail"].as_str().unwrap_or("refused").to_string(),
            });
        }
        if body["success"] != serde_json::Value::Bool(true) {
            return Err(ClientError::Refused {
                site: site.to_string(),
                message: body["error"].as_str().unwrap_or("failed").to_string(),
            });
        }
        let text = body["response"].as_str().unwrap_or("");
        Ok(if text.is_empty() {
            Vec::new()
        } else {
            text.split('\n').map(str::to_string).collect()
        })
    }
}

/// One signed-on XWB connection.
pub struct Connection {
    site: String,
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    /// Connects and signs on: TCPConnect, `XUS SIGNON SETUP`, `XUS AV CODE`,
    /// `XWB CREATE CONTEXT` (`OR CPRS GUI CHART`).
    pub async fn open(
        site: &str,
        addr: SocketAddr,
        c: &Credentials,
    ) -> Result<Connection, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::Transport {
                site: site.to_string(),
                message: format!("connecting to {addr}: {e}"),
            })?;
        let _ = stream.set_nodelay(true);
        let mut conn = Connection {
            site: site.to_string(),
            stream,
            buf: Vec::new(),
        };
        let ack = conn
            .send(&xwb::Request::connect("127.0.0.1", "medz1-client"))
            .await?;
        if ack.data != "accept" {
            return Err(conn.refused(format!("TCPConnect answered {:?}", ack.data)));
        }
        conn.call("XUS SIGNON SETUP", &[]).await?;
        let av = xwb::cipher::encrypt(&format!("{};{}", c.access, c.verify));
        let lines = conn.call("XUS AV CODE", &[Param::Literal(av)]).await?;
        if lines.first().map(String::as_str).unwrap_or("0") == "0" {
            let why = lines
                .get(3)
                .cloned()
                .unwrap_or_else(|| "sign-on refused".into());
            return Err(conn.refused(why));
        }
        let ctx = xwb::cipher::encrypt("OR CPRS GUI CHART");
        let ok = conn
            .call("XWB CREATE CONTEXT", &[Param::Literal(ctx)])
            .await?;
        if ok.first().map(String::as_str) != Some("1") {
            return Err(conn.refused("context refused".into()));
        }
        Ok(conn)
    }

    fn refused(&self, message: String) -> ClientError {
        ClientError::Refused {
            site: self.site.clone(),
            message,
        }
    }

    fn transport(&self, message: String) -> ClientError {
        ClientError::Transport {
            site: self.site.clone(),
            message,
        }
    }

    /// Sends one request and reads its reply.
    pub async fn send(&mut self, req: &xwb::Request) -> Result<xwb::RawReply, ClientError> {
        let bytes = xwb::encode_request(req)
            .map_err(|e| self.refused(format!("cannot encode the request: {e}")))?;
        self.stream
            .write_all(&bytes)
            .await
            .map_err(|e| self.transport(e.to_string()))?;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match xwb::decode_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(self.transport(format!("malformed reply: {e}"))),
            }
            let n = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|e| self.transport(e.to_string()))?;
            if n == 0 {
                return Err(self.transport("the broker closed the connection".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Runs an RPC: its lines, or the refusal.
    pub async fn call(&mut self, name: &str, params: &[Param]) -> Result<Vec<String>, ClientError> {
        let reply = self.send(&xwb::Request::rpc(name, params.to_vec())).await?;
        if !reply.security.is_empty() {
            return Err(self.refused(reply.security));
        }
        if !reply.application.is_empty() {
            return Err(self.refused(reply.application));
        }
        if reply.m_error {
            return Err(ClientError::MError {
                site: self.site.clone(),
                error: reply.data.trim_start_matches('\x18').to_string(),
            });
        }
        Ok(reply.lines())
    }

    /// Ends the session (`#BYE#`).
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.send(&xwb::Request::Bye).await.map(|_| ())
    }
}

/// A shared client.
pub type Shared = Arc<VistaClient>;
