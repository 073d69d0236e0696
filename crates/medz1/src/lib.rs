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
    pub web: u16,
    pub ccow: u16,
    pub vista: u16,
    /// First XWB port (one per VistA site).
    pub xwb: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            web: 8000,
            ccow: 8001,
            vista: 8003,
            xwb: 9430,
        }
    }
}

/// How the launcher runs the web app.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// The demo clinicians' password.
    pub demo_password: String,
    pub bcrypt_cost: u32,
    /// Sliding session window.
    pub session_timeout: std::time::Duration,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            demo_password: web::config::DEV_DEMO_PASSWORD.to_string(),
            bcrypt_cost: 12,
            session_timeout: std::time::Duration::from_secs(25 * 60),
        }
    }
}

/// The services running in this process.
pub struct Running {
    pub web: std::net::SocketAddr,
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

/// Starts the web app (serving DB and issuer key in the data dir, demo
/// clinicians seeded), the CCOW vault (SQLite store in the data dir,
/// trusting the web app's issuer and its session introspection, plus the
/// development issuer) and the VistA simulator (with its per-site latency),
/// all on loopback.
pub async fn start(data: &std::path::Path, ports: Ports, web_opts: &WebOptions) -> Result<Running> {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let web_l = bind(ports.web, "web").await?;
    let web_addr = web_l.local_addr()?;
    let ccow_l = bind(ports.ccow, "ccow").await?;
    let ccow_addr = ccow_l.local_addr()?;
    let vista_l = bind(ports.vista, "vista").await?;
    let vista_addr = vista_l.local_addr()?;

    let mut wc = web::config::Config::development(data);
    wc.bind = web_addr;
    wc.public_url = format!("http://{web_addr}");
    wc.ccow_url = Some(format!("http://{ccow_addr}"));
    wc.vista_url = Some(format!("http://{vista_addr}"));
    wc.login.bcrypt_cost = web_opts.bcrypt_cost;
    wc.session.timeout = web_opts.session_timeout;
    let introspection_key = wc.introspection_key.clone();
    let issuer_url = wc.issuer_url();
    let web_state = web::build(wc).await.context("starting the web app")?;
    web::seed::demo_users(
        web_state.store(),
        &web_opts.demo_password,
        web_opts.bcrypt_cost,
    )
    .await
    .context("seeding the demo clinicians")?;

    let mut cc = ccow::config::Config::development(data);
    cc.bind = ccow_addr;
    cc.public_url = format!("http://{ccow_addr}");
    cc.store_url = format!("sqlite://{}", data.join("ccow.db").display());
    if let Some(d) = &mut cc.identity.development {
        d.issuer = format!("http://{ccow_addr}/dev-issuer");
    }
    cc.identity.oidc_issuers = vec![issuer_url];
    cc.session_introspection = Some(format!("http://{web_addr}/api/auth/introspect"));
    cc.session_introspection_secret = introspection_key;
    let ccow_state = ccow::build(cc).await.context("starting the CCOW vault")?;

    let mut vc = vista::config::Config::development(data.join("mock").join("vista"));
    vc.http = vista_addr;
    vc.xwb_base_port = ports.xwb;
    let vista_state = vista::build(vc).context("starting the VistA simulator")?;
    let xwb = vista::broker::bind(&vista_state).await?;
    let xwb_ports = vista_state.xwb_ports.lock().expect("ports").clone();

    let tasks = vec![
        (
            "web",
            tokio::spawn(web::serve(web_l, web_state, until(rx.clone()))),
        ),
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
        web: web_addr,
        ccow: ccow_addr,
        vista: vista_addr,
        xwb: xwb_ports,
        stop,
        tasks,
    })
}
