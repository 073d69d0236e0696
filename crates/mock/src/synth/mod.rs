//! The generator: curated personas first, then a synthetic population,
//! streamed into the two CDW databases. Generation runs on its own thread
//! and hands encoded row batches over a bounded channel to the SQLite
//! writer (see `crate::batch`); rows keep their generation order, so the
//! files are the same as if one thread did both.

mod cerner;
pub mod out;
pub mod patient;
pub mod personas;
pub mod vista;
pub mod vocab;

use crate::assets::{self, Assets};
use crate::batch::{Batch, Batcher};
use crate::rng::Rng;
use crate::sqlite::{self, RawWriter};
use crate::value::Value::*;
use anyhow::{Context, Result, bail};
use cdw::{Database, Table, catalog as c};
use chrono::{Duration, NaiveDate};
use out::{Out, RowSink};
use patient::{CernerLink, Ctx, Extras, Patient};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;
use vocab::Vocab;

/// Bumped whenever the same seed would produce different output.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Total CDWWork patients, curated personas included.
    pub patients: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// The extract's as-of day: CDW facts run through the day before; VistA
    /// site data is relative to whichever day the simulator runs.
    pub as_of: NaiveDate,
}

/// Rows written per table, and how long it took.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tables: Vec<(&'static Table, u64)>,
    pub vista_patients: usize,
    pub vista_files: usize,
    pub files: Vec<(PathBuf, u64)>,
    pub seconds: f64,
    pub patients: u64,
    pub personas: usize,
}

impl Summary {
    pub fn rows(&self, table: &Table) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| std::ptr::eq(*t, table))
            .map_or(0, |(_, n)| *n)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// The smallest accepted `--patients`: every curated persona must fit.
pub fn min_patients(as_of: NaiveDate) -> u64 {
    personas::personas(as_of).len() as u64
}

/// Generates the CDW and VistA data under `opts.out`.
pub async fn generate(opts: &GenerateOptions) -> Result<Summary> {
    let started = Instant::now();
    let min = min_patients(opts.as_of);
    if opts.patients < min {
        bail!(
            "--patients must be at least {min} (the curated personas); got {}",
            opts.patients
        );
    }
    let assets = Assets::load().context("loading mock/data assets")?;
    let vocab = Vocab::new(&assets);
    let cdw_dir = opts.out.join("cdw");
    std::fs::create_dir_all(&cdw_dir).with_context(|| format!("creating {}", cdw_dir.display()))?;
    let (tmp1, fin1) = sqlite::paths(&cdw_dir, Database::CdwWork);
    let (tmp2, fin2) = sqlite::paths(&cdw_dir, Database::CdwWork2);
    let mut c1 = sqlite::create_database(&tmp1, Database::CdwWork).await?;
    let mut c2 = sqlite::create_database(&tmp2, Database::CdwWork2).await?;
    let (counts, vista_patients) = {
        let mut h1 = c1.lock_handle().await?;
        let mut h2 = c2.lock_handle().await?;
        let mut w1 = RawWriter::begin(h1.as_raw_handle(), Database::CdwWork)?;
        let mut w2 = RawWriter::begin(h2.as_raw_handle(), Database::CdwWork2)?;
        let vista = pipeline(&assets, &vocab, opts, &mut w1, &mut w2)?;
        let mut counts = w1.commit()?;
        counts.extend(w2.commit()?);
        (counts, vista)
    };
    // Each connection runs on its own sqlx worker thread, so the two index
    // builds overlap.
    tokio::try_join!(
        sqlite::finish_database(c1, Database::CdwWork),
        sqlite::finish_database(c2, Database::CdwWork2),
    )?;
    std::fs::rename(&tmp1, &fin1)?;
    std::fs::rename(&tmp2, &fin2)?;

    let vista_dir = opts.out.join("vista");
    let vista_files = vista::write(
        &vista_dir,
        &vista_patients,
        personas::unsimulated_registry(),
    )?;
    let ref_dir = opts.out.join("reference");
    std::fs::create_dir_all(&ref_dir)?;
    let ddi = ref_dir.join(assets::DDI_CSV.0);
    std::fs::write(&ddi, assets::DDI_CSV.1)?;

    let mut files = Vec::new();
    for f in [fin1, fin2, ddi, vista_dir.join("patient_registry.json")] {
        let len = std::fs::metadata(&f)?.len();
        files.push((f, len));
    }
    Ok(Summary {
        tables: counts,
        vista_patients: vista_patients.len(),
        vista_files,
        files,
        seconds: started.elapsed().as_secs_f64(),
        patients: opts.patients,
        personas: min as usize,
    })
}

/// Encoded batches queued between the generator and the writer (each holds
/// at most about 1 MiB of text and 32k cells, so the queue bounds memory).
const QUEUE_BATCHES: usize = 8;

/// Runs [`populate`] on a generator thread while this thread writes its
/// batches into `w1` (CDWWork) and `w2` (CDWWork2).
fn pipeline(
    assets: &Assets,
    vocab: &Vocab,
    opts: &GenerateOptions,
    w1: &mut RawWriter,
    w2: &mut RawWriter,
) -> Result<Vec<vista::VistaPatient>> {
    let (to_writer, from_generator) = mpsc::sync_channel::<Batch>(QUEUE_BATCHES);
    let (recycle1, recycled1) = mpsc::channel::<Batch>();
    let (recycle2, recycled2) = mpsc::channel::<Batch>();
    std::thread::scope(|s| {
        let generator = std::thread::Builder::new()
            .name("mock-generate".into())
            .spawn_scoped(s, move || {
                let mut b1 = Batcher::new(Database::CdwWork, to_writer.clone(), recycled1);
                let mut b2 = Batcher::new(Database::CdwWork2, to_writer, recycled2);
                let vista = populate(assets, vocab, opts, &mut b1, &mut b2)?;
                b1.finish()?;
                b2.finish()?;
                Ok::<_, anyhow::Error>(vista)
            })
            .context("starting the generator thread")?;
        // The receiver is moved into the closure: if writing fails it is
        // dropped at once, which stops the generator at its next send.
        let written = (move || -> Result<()> {
            for batch in from_generator {
                let (writer, recycle) = match batch.database {
                    Database::CdwWork => (&mut *w1, &recycle1),
                    Database::CdwWork2 => (&mut *w2, &recycle2),
                };
                writer.write(&batch)?;
                // The generator may be done and gone; the batch is then dropped.
                let _ = recycle.send(batch);
            }
            Ok(())
        })();
        let generated = generator
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A writer failure also makes the generator fail ("writer stopped"):
        // report the cause.
        written?;
        generated
    })
}

/// Writes dimensions, personas, the population and the orphan rows.
pub fn populate(
    assets: &Assets,
    vocab: &Vocab,
    opts: &GenerateOptions,
    cdw1: &mut dyn RowSink,
    cdw2: &mut dyn RowSink,
) -> Result<Vec<vista::VistaPatient>> {
    let mut out = Out::new(cdw1, cdw2);
    for db in Database::ALL {
        for dim in assets.dimensions_of(db) {
            for row in &dim.rows {
                out.row(dim.table, row)?;
            }
        }
    }
    let ctx = Ctx {
        vocab,
        as_of: opts.as_of,
    };
    let mut vista_patients = Vec::new();
    let personas = personas::personas(opts.as_of);
    for p in &personas {
        let mut rng = Rng::stream(opts.seed, p.sid as u64);
        patient::generate(&ctx, p, &mut rng, &mut out, &mut vista_patients)?;
    }
    for i in 0..opts.patients - personas.len() as u64 {
        let mut rng = Rng::stream(opts.seed, 1 << 40 | i);
        let p = population_patient(vocab, opts.as_of, i, &mut rng);
        patient::generate(&ctx, &p, &mut rng, &mut out, &mut vista_patients)?;
    }
    orphans(&ctx, &mut out)?;
    Ok(vista_patients)
}

/// Age distribution of a veteran population (years, weight).
const AGE_BANDS: &[(i64, i64, u32)] = &[
    (22, 34, 12),
    (35, 54, 26),
    (55, 69, 27),
    (70, 84, 28),
    (85, 99, 7),
];

fn population_patient(v: &Vocab, as_of: NaiveDate, i: u64, rng: &mut Rng) -> Patient {
    let sid = 100_000 + i as i64;
    let icn = format!(
        "{:04}V{:06}",
        1100 + i / 1_000_000,
        (i % 1_000_000 * 7919 + 12_345) % 1_000_000
    );
    let sex = if rng.chance(0.89) { 'M' } else { 'F' };
    let band = AGE_BANDS[rng.weighted_index(&AGE_BANDS.iter().map(|b| b.2).collect::<Vec<_>>())];
    let age = rng.range(band.0, band.1);
    let dob = as_of - Duration::days(age * 365 + rng.range(0, 364));
    let sta3n = *rng.pick(&v.active_stations);
    let first = if sex == 'M' {
        rng.pick(&v.first_male)
    } else {
        rng.pick(&v.first_female)
    }
    .clone();
    let last = rng.pick(&v.last_names).clone();
    let middle = rng
        .chance(0.6)
        .then(|| ((b'A' + rng.below(26) as u8) as char).to_string());
    let death = (rng.chance(0.035) && age > 50).then(|| {
        (as_of - Duration::days(rng.range(2, 3000)))
            .and_hms_opt(rng.range(0, 23) as u32, rng.range(0, 59) as u32, 0)
            .expect("valid")
    });
    let cerner_home = matches!(sta3n, 663 | 687);
    let cerner = (rng.chance(if cerner_home { 0.4 } else { 0.03 })).then(|| CernerLink {
        person_sid: 5_000_000 + i as i64,
        problem_key: 5_000_000 + i as i64,
        sta3n: if sta3n == 663 {
            "663"
        } else if sta3n == 687 {
            "687"
        } else {
            rng.choose(&["648", "663", "687"])
        },
    });
    let vista_sites = if death.is_none() && rng.chance(0.02) {
        let k = 1 + rng.below(3) as usize;
        rng.sample_indices(3, k)
            .into_iter()
            .map(|s| (vista::SITES[s].0, 700_000 + i))
            .collect()
    } else {
        Vec::new()
    };
    Patient {
        sid,
        icn,
        sta3n,
        last,
        first,
        middle,
        sex,
        dob,
        death,
        test: rng.chance(0.002),
        sensitive: rng.chance(0.005),
        ssn: format!("666-{:02}-{:04}", 10 + (i / 10_000) % 90, i % 10_000),
        cerner,
        empty: Vec::new(),
        conditions: Vec::new(),
        extras: Extras::default(),
        years_in_care: rng.range(1, 10),
        vista_sites,
    }
}

/// Fact rows whose patient does not exist (a real extract has them).
fn orphans(ctx: &Ctx<'_>, out: &mut Out<'_>) -> Result<()> {
    let day = ctx.as_of - Duration::days(3);
    let when = day.and_hms_opt(10, 30, 0).expect("valid");
    let bp_sid = ctx.vocab.vital_type_sid.get("BP").copied().unwrap_or(1);
    out.row(
        &c::VITAL_VITAL_SIGN,
        &[
            Int(out.id(&c::VITAL_VITAL_SIGN)),
            Int(ORPHAN_PATIENT_SID),
            Int(bp_sid),
            DateTime(when),
            DateTime(when),
            Str("122/78"),
            Null,
            Int(122),
            Int(78),
            Null,
            Null,
            Null,
            Str("N"),
            Str("N"),
            Int(508),
            DateTime(when),
            Null,
        ],
    )?;
    if let Some(test) = ctx.vocab.labs.iter().find(|l| l.mean.is_some() && l.active) {
        out.row(
            &c::CHEM_LAB_CHEM,
            &[
                Int(out.id(&c::CHEM_LAB_CHEM)),
                Int(ORPHAN_PATIENT_SID),
                Int(test.sid),
                Int(9_999_999),
                Str("CH 0000 0"),
                Str("1.0"),
                Dec(1.0),
                Null,
                Null,
                Null,
                DateTime(when),
                DateTime(when),
                Str("CH"),
                Null,
                Int(508),
                Int(508),
                Null,
                Str("SERUM"),
            ],
        )?;
    }
    out.row(
        &c::VITAL_MILL_VITAL_RESULT,
        &[
            Int(out.id(&c::VITAL_MILL_VITAL_RESULT) + 5000),
            Null,
            Int(9_999_999),
            Str(ORPHAN_ICN),
            Null,
            Str("Pulse"),
            Str("70"),
            Dec(70.0),
            Null,
            Null,
            Null,
            Str("bpm"),
            DateTime(when),
            DateTime(when),
            Str("PRIMARY CARE CLINIC"),
            Str("663"),
            Bool(true),
        ],
    )?;
    Ok(())
}

/// PatientSID of the orphan CDWWork fact rows.
pub const ORPHAN_PATIENT_SID: i64 = 99_999_999;
/// PatientICN of the orphan CDWWork2 fact row (no such patient anywhere).
pub const ORPHAN_ICN: &str = "ICN999999";

/// Renders the summary table the CLI prints.
pub fn render_summary(s: &Summary) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "{:<10} {:<40} {:>12}\n",
        "database", "table", "rows"
    ));
    t.push_str(&format!("{}\n", "-".repeat(64)));
    for (table, n) in &s.tables {
        t.push_str(&format!(
            "{:<10} {:<40} {:>12}\n",
            table.database.name(),
            table.qualified(),
            n
        ));
    }
    t.push_str(&format!("{}\n", "-".repeat(64)));
    t.push_str(&format!("{:<51} {:>12}\n", "total rows", s.total_rows()));
    t.push_str(&format!(
        "patients: {} ({} curated personas); VistA-registered: {} ({} site files)\n",
        s.patients, s.personas, s.vista_patients, s.vista_files
    ));
    for (f, len) in &s.files {
        t.push_str(&format!(
            "{:<51} {:>9.1} MiB\n",
            f.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            *len as f64 / 1_048_576.0
        ));
    }
    t.push_str(&format!(
        "time: {:.2} s ({:.0} rows/s)\n",
        s.seconds,
        s.total_rows() as f64 / s.seconds.max(1e-9)
    ));
    t
}

/// Checks that `dir` holds both CDW files.
pub fn cdw_present(dir: &Path) -> bool {
    Database::ALL
        .iter()
        .all(|db| dir.join(db.sqlite_file_name()).is_file())
}
