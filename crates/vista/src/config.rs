//! The simulator's configuration: a typed value read once, in the binary.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// One simulated VistA site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    pub sta3n: String,
    pub name: String,
    pub description: String,
    /// Simulated RPC latency range, milliseconds (inclusive).
    pub latency_ms: (u64, u64),
    /// The site's XWB listener port; `None` = base port + the site's index
    /// (or an ephemeral port when the base is 0).
    pub xwb_port: Option<u16>,
}

/// A broker user (`XUS AV CODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub access: String,
    pub verify: String,
    pub duz: u64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub http: SocketAddr,
    /// Where the XWB listeners bind.
    pub xwb_host: IpAddr,
    /// First XWB port (site k listens on base + k); 0 = ephemeral ports.
    pub xwb_base_port: u16,
    /// `false` disables the XWB listeners (HTTP only).
    pub xwb_enabled: bool,
    /// The mock generator's `vista/` directory.
    pub data_dir: PathBuf,
    /// `None` = the sites of `{data_dir}/sites.json` with built-in latencies.
    pub sites: Option<Vec<SiteConfig>>,
    /// `false` (`--no-latency`) turns the simulated latency off everywhere.
    pub latency: bool,
    pub users: Vec<User>,
    /// Time allowed from connect to a successful sign-on.
    pub signon_timeout: Duration,
    /// Broker activity timeout after sign-on (clients send `XWB IM HERE`).
    pub idle_timeout: Duration,
    /// Failed `XUS AV CODE` attempts before the broker hangs up.
    pub signon_attempts: u32,
    pub max_body_bytes: usize,
    /// "Today" for T-notation; `None` = the current UTC date.
    pub today: Option<chrono::NaiveDate>,
}

/// Built-in latency ranges (ms) of the reference sites; other sites get
/// 1000–3000.
pub fn default_latency(sta3n: &str) -> (u64, u64) {
    match sta3n {
        "200" => (1000, 2000),
        "500" => (1500, 2500),
        "630" => (2000, 3000),
        _ => (1000, 3000),
    }
}

/// The development broker users. Access/verify codes are public: never
/// use them outside a workstation.
pub fn development_users() -> Vec<User> {
    vec![
        User {
            access: "CLINICIAN1".into(),
            verify: "MEDZ1DEV1!".into(),
            duz: 10958,
            name: "CLINICIAN,ALPHA".into(),
        },
        User {
            access: "CLINICIAN2".into(),
            verify: "MEDZ1DEV2!".into(),
            duz: 10959,
            name: "CLINICIAN,BRAVO".into(),
        },
        User {
            access: "PHARM1".into(),
            verify: "MEDZ1DEV3!".into(),
            duz: 10960,
            name: "PHARMACIST,CHARLIE".into(),
        },
    ]
}

impl Config {
    /// Defaults: HTTP on 127.0.0.1:8003, XWB from 127.0.0.1:9430, latency on.
    pub fn development(data_dir: PathBuf) -> Config {
        Config {
            http: ([127, 0, 0, 1], 8003).into(),
            xwb_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            xwb_base_port: 9430,
            xwb_enabled: true,
            data_dir,
            sites: None,
            latency: true,
            users: development_users(),
            signon_timeout: Duration::from_secs(180),
            idle_timeout: Duration::from_secs(3600),
            signon_attempts: 3,
            max_body_bytes: 64 * 1024,
            today: None,
        }
    }
}
