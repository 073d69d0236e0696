//! The launcher's library: the `up` sequence, kept out of `main` so it can be
//! tested. [`up`] prepares the data (demo CDW, ETL into the embedded serving
//! DB); [`start`] then runs the services in this process until stopped.

use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub data: PathBuf,
    pub patients: u64,
    pub seed: u64,
    pub regenerate: bool,
    /// Draw progress bars (interactive terminals).
    pub progress: bool,
}

/// Ensures the demo CDW exists under `opts.data` and runs the ETL into the
/// embedded serving DB.
pub async fn up(opts: &UpOptions) -> Result<()> {
    let mock_dir = opts.data.join("mock");
    let cdw_dir = mock_dir.join("cdw");
    if opts.regenerate || !mock::synth::cdw_present(&cdw_dir) {
        let as_of = chrono::Utc::now().date_naive();
        println!(
            "generating the demo CDW: {} patients, seed {}, as of {as_of} → {}",
            opts.patients,
            opts.seed,
            mock_dir.display()
        );
        let summary = mock::generate(&mock::GenerateOptions {
            patients: opts.patients,
            seed: opts.seed,
            out: mock_dir.clone(),
            as_of,
        })
        .await
        .context("generating the demo CDW")?;
        print!("{}", mock::render_summary(&summary));
    } else {
        println!(
            "demo CDW present in {} (use --regenerate to rebuild it)",
            cdw_dir.display()
        );
    }
    let serving = opts.data.join("serving.db");
    let etl_opts = etl::Options {
        cdw: cdw_dir.to_string_lossy().into_owned(),
        lake: opts.data.join("lake").to_string_lossy().into_owned(),
        serving: format!("sqlite://{}", serving.display()),
        ddi_csv: None,
        as_of: chrono::Utc::now().date_naive(),
        lake_options: Vec::new(),
        parallelism: 2,
        progress: opts.progress,
    };
    println!("\nrunning the ETL into {}", serving.display());
    let report = etl::run_all(&etl_opts).await.context("running the ETL")?;
    let rows: u64 = report.tables.values().sum();
    let secs: f64 = report.layers.iter().map(|l| l.seconds).sum();
    let quarantined: u64 = report.quarantined.values().sum();
    println!(
        "ETL run {}: {rows} serving rows in {} tables, {quarantined} rows quarantined, {secs:.1} s",
        report.run_id,
        report.tables.len()
    );
    Ok(())
}

/// Ports of the services (0 = any free port).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub ccow: u16,
    pub vista: u16,
    /// First XWB port (one per VistA site).
    pub xwb: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            ccow: 8001,
            vista: 8003,
            xwb: 9430,
        }
    }
}

/// The services running in this process.
pub struct Running {
    pub ccow: std::net::SocketAddr,
    pub vista: std::net::SocketAddr,
    /// Site → XWB port.
    pub xwb: std::collections::BTreeMap<String, u16>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<Result<()>>)>,
}

impl Running {
    /// Stops every service and waits for them.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        for (name, t) in self.tasks {
            t.await
                .with_context(|| format!("{name} panicked"))?
                .with_context(|| format!("{name} failed"))?;
        }
        Ok(())
    }
}

async fn bind(port: u16, what: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!(
                "binding {what} on 127.0.0.1:{port} (is another stack running? use --{what}-port)"
            )
        })
}

/// Starts the CCOW vault (SQLite store in the data dir, development issuer)
/// and the VistA simulator (with its per-site latency) on loopback.
pub async fn start(data: &std::path::Path, ports: Ports) -> Result<Running> {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let ccow_l = bind(ports.ccow, "ccow").await?;
    let ccow_addr = ccow_l.local_addr()?;
    let mut cc = ccow::config::Config::development(data);
    cc.bind = ccow_addr;
    cc.public_url = format!("http://{ccow_addr}");
    cc.store_url = format!("sqlite://{}", data.join("ccow.db").display());
    if let Some(d) = &mut cc.identity.development {
        d.issuer = format!("http://{ccow_addr}/dev-issuer");
    }
    let ccow_state = ccow::build(cc).await.context("starting the CCOW vault")?;

    let vista_l = bind(ports.vista, "vista").await?;
    let vista_addr = vista_l.local_addr()?;
    let mut vc = vista::config::Config::development(data.join("mock").join("vista"));
    vc.http = vista_addr;
    vc.xwb_base_port = ports.xwb;
    let vista_state = vista::build(vc).context("starting the VistA simulator")?;
    let xwb = vista::broker::bind(&vista_state).await?;
    let xwb_ports = vista_state.xwb_ports.lock().expect("ports").clone();

    let tasks = vec![
        (
            "ccow",
            tokio::spawn(ccow::serve(ccow_l, ccow_state, until(rx.clone()))),
        ),
        (
            "vista",
            tokio::spawn(vista::serve(vista_l, xwb, vista_state, until(rx))),
        ),
    ];
    Ok(Running {
        ccow: ccow_addr,
        vista: vista_addr,
        xwb: xwb_ports,
        stop,
        tasks,
    })
}
