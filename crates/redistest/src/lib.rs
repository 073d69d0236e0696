//! A throwaway Redis server for tests.
//!
//! [`Server::start`] runs Debian's `redis-server` on a free loopback port
//! with its data in a temporary directory (append-only file on, so
//! [`Server::restart`] keeps the data, as a real restart would). Dropping it
//! stops the process by its PID and deletes the directory. When
//! `redis-server` is missing, `start` returns `None` so the test can say it
//! was skipped, unless `CI` is set: `scripts/test.sh` installs it, so in CI a
//! missing server is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

fn find_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDIS_SERVER") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("redis-server"))
                .find(|p| p.exists())
        })
        .or_else(|| {
            let p = PathBuf::from("/usr/bin/redis-server");
            p.exists().then_some(p)
        })
}

fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Server {
    /// Starts a fresh server, or returns `None` (after printing why) when
    /// `redis-server` is not installed and not required.
    pub fn start() -> Option<Server> {
        let Some(bin) = find_bin() else {
            if required() {
                panic!("redis-server not found (install redis-server); required in CI");
            }
            eprintln!("SKIPPED: redis-server is not installed (scripts/test.sh installs it)");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("medz1-redis-")
            .tempdir()
            .expect("temp dir");
        let mut s = Server {
            bin,
            dir,
            port: 0,
            child: None,
        };
        s.launch();
        Some(s)
    }

    fn launch(&mut self) {
        for _ in 0..5 {
            let port = if self.port == 0 {
                free_port()
            } else {
                self.port
            };
            let child = Command::new(&self.bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                ])
                .arg("--dir")
                .arg(self.dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    self.port = port;
                    return;
                }
                if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                    break; // exited: most likely the port was taken
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            self.stop();
        }
        panic!("redis-server did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (SIGTERM by PID, which flushes the append-only file)
    /// and starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
