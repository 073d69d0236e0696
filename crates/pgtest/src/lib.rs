//! A throwaway PostgreSQL cluster for tests.
//!
//! [`Cluster::start`] runs `initdb` into a temporary directory and starts the
//! server with `pg_ctl` on a free loopback port; dropping the cluster stops it
//! (`pg_ctl stop -m immediate`, which signals the postmaster by the PID in its
//! pid file) and deletes the directory. `initdb` refuses to run as root, so as
//! root the binaries run as the `postgres` user through `runuser`.
//!
//! Binaries are found through `PG_BIN`, then `/usr/lib/postgresql/<newest>/bin`,
//! then `PATH`. When none are installed [`Cluster::start`] returns `None` so a
//! test can say it was skipped, unless `CI` or `MEDZ1_REQUIRE_PG` is set, in
//! which case it panics: `scripts/test.sh` installs PostgreSQL, so in CI a
//! missing server is a failure, never a silent pass.
//!
//! A test process that is killed (a timeout, Ctrl-C) never drops its
//! cluster, so its server would run on and its directory stay behind. Each
//! cluster directory therefore records the process that owns it
//! (`owner.pid`), and the first [`Cluster::start`] of a process reaps the
//! clusters whose owner is gone: it stops their server and deletes the
//! directory. Clusters of running processes are never touched.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// The directory-name prefix of every cluster.
const PREFIX: &str = "medz1-pg-";
/// The file naming the process that owns a cluster.
const OWNER: &str = "owner.pid";

/// Whether process `pid` is alive (Linux: `/proc/<pid>`). Elsewhere every
/// owner counts as alive, so nothing is reaped.
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The clusters under `root` whose owner process is gone.
fn orphans(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .map(|e| e.path())
        .filter(|dir| {
            // No owner file: a cluster of an older harness, or one being
            // created right now; left alone.
            std::fs::read_to_string(dir.join(OWNER))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .is_some_and(|pid| !alive(pid))
        })
        .collect()
}

pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

fn find_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
    })
}

fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("MEDZ1_REQUIRE_PG").is_some()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|s| s.trim() == "0")
}

impl Cluster {
    /// Starts a fresh cluster, or returns `None` (after printing why) when
    /// PostgreSQL is not installed and not required.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = find_bin() else {
            if required() {
                panic!(
                    "PostgreSQL binaries not found (set PG_BIN or install postgresql); required in CI"
                );
            }
            eprintln!("SKIPPED: PostgreSQL is not installed (scripts/test.sh installs it)");
            return None;
        };
        let as_postgres = is_root();
        static REAP: Once = Once::new();
        REAP.call_once(|| reap(&bin, as_postgres));
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", SEQ.fetch_add(1, Ordering::Relaxed)))
            .tempdir()
            .expect("temp dir");
        std::fs::write(dir.path().join(OWNER), std::process::id().to_string()).expect("owner file");
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        std::fs::create_dir_all(&sock).expect("socket dir");
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the cluster dir failed");
        }
        let mut cluster = Cluster {
            bin,
            dir,
            port: 0,
            as_postgres,
        };
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
            ],
        );
        // Bind-then-release picks a free port; retry if another process grabs
        // it first.
        for attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50",
                sock.display()
            );
            let log = cluster.dir.path().join("server.log");
            let ok = cluster.try_run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    opts.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            );
            if ok {
                cluster.port = port;
                return Some(cluster);
            }
            if attempt == 4 {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("pg_ctl start failed:\n{log}");
            }
        }
        unreachable!()
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn try_run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> bool {
        self.command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                self.port.to_string().as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                name.as_ref(),
            ],
        );
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Stops and deletes the clusters of processes that are gone.
fn reap(bin: &Path, as_postgres: bool) {
    for dir in orphans(&std::env::temp_dir()) {
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let exe = bin.join("pg_ctl");
            let mut c = if as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(exe);
                c
            } else {
                Command::new(exe)
            };
            let _ = c
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if std::fs::remove_dir_all(&dir).is_ok() {
            eprintln!(
                "pgtest: removed the cluster of a test process that is gone: {}",
                dir.display()
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.try_run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clusters_of_dead_owners_are_orphans() {
        let root = tempfile::tempdir().unwrap();
        let mk = |name: &str, owner: Option<String>| {
            let d = root.path().join(name);
            std::fs::create_dir_all(d.join("data")).unwrap();
            if let Some(o) = owner {
                std::fs::write(d.join(OWNER), o).unwrap();
            }
            d
        };
        let mine = mk("medz1-pg-0-mine", Some(std::process::id().to_string()));
        // A PID above the kernel's maximum (4194304) never exists.
        let dead = mk("medz1-pg-1-dead", Some("4294967".into()));
        let unowned = mk("medz1-pg-2-unowned", None);
        let other = mk("something-else", Some("4294967".into()));
        let found = orphans(root.path());
        assert_eq!(found, vec![dead.clone()]);
        for kept in [&mine, &unowned, &other] {
            assert!(!found.contains(kept));
        }
    }
}
