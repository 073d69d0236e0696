//! The T-0 data of every site, loaded once from the mock generator's
//! `vista/` directory: the patient registry (ICN → site DFNs) and the
//! per-site record files. Dates stay in their stored form (relative
//! `T±N[.HHMM]`, ISO or FileMan) and are resolved against "today" per call.
//!
//! A malformed record is skipped with a warning naming the file and the
//! record; the others load. A missing or unreadable registry is an error.

use crate::config::{SiteConfig, default_latency};
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON of the expected shape: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// A site a patient is registered at.
#[derive(Debug, Clone, Deserialize)]
pub struct Facility {
    pub sta3n: String,
    #[serde(default)]
    pub name: String,
    pub dfn: String,
    #[serde(default)]
    pub first_seen: String,
    #[serde(default)]
    pub last_seen: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Patient {
    pub icn: String,
    #[serde(default)]
    pub ssn: String,
    pub name_last: String,
    pub name_first: String,
    #[serde(default)]
    pub name_middle: String,
    pub dob: NaiveDate,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub treating_facilities: Vec<Facility>,
}

impl Patient {
    /// `LAST,FIRST[ MIDDLE]`.
    pub fn name(&self) -> String {
        let mut n = format!("{},{}", self.name_last, self.name_first);
        if !self.name_middle.trim().is_empty() {
            n.push(' ');
            n.push_str(self.name_middle.trim());
        }
        n
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Vital {
    pub dfn: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub units: String,
    pub date_time: String,
    #[serde(default)]
    pub entered_by: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Encounter {
    pub dfn: String,
    pub inpatient_id: String,
    pub admit_datetime: String,
    #[serde(default)]
    pub admit_location: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub discharge_datetime: String,
    #[serde(default)]
    pub discharge_location: String,
    #[serde(default)]
    pub length_of_stay: String,
    #[serde(default)]
    pub diagnosis_code: String,
    #[serde(default)]
    pub admit_provider: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Allergy {
    pub dfn: String,
    pub allergen_name: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub reaction_datetime: String,
    #[serde(default)]
    pub reactions: String,
    #[serde(default)]
    pub allergy_type: String,
    #[serde(default)]
    pub originating_site: String,
    #[serde(default)]
    pub entered_by: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Medication {
    pub dfn: String,
    pub rx_number: String,
    pub drug_name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub days_supply: String,
    #[serde(default)]
    pub refills_remaining: String,
    #[serde(default)]
    pub issue_date: String,
    #[serde(default)]
    pub expiration_date: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    pub dfn: String,
    pub problem_ien: String,
    pub problem_text: String,
    #[serde(default)]
    pub snomed_code: String,
    #[serde(default)]
    pub icd10_code: String,
    #[serde(default)]
    pub problem_status: String,
    #[serde(default)]
    pub onset_date: String,
    #[serde(default)]
    pub service_connected: bool,
    #[serde(default)]
    pub updated_today: bool,
}

/// One domain's records at a site, by DFN (file order kept); `None` when
/// the site has no file for the domain.
pub type ByDfn<T> = Option<HashMap<String, Vec<T>>>;

pub struct Site {
    pub config: SiteConfig,
    /// DFN → patient (every DFN of the registry at this site).
    pub patients: HashMap<String, Arc<Patient>>,
    /// ICN → every DFN the patient has at this site, registry order.
    pub dfns: HashMap<String, Vec<String>>,
    pub vitals: ByDfn<Vital>,
    pub encounters: ByDfn<Encounter>,
    pub allergies: ByDfn<Allergy>,
    pub medications: ByDfn<Medication>,
    pub problems: ByDfn<Problem>,
}

impl Site {
    /// The patient's DFNs here (empty when not registered).
    pub fn dfns_of(&self, icn: &str) -> &[String] {
        self.dfns.get(icn).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Everything the simulator serves.
pub struct World {
    pub sites: BTreeMap<String, Site>,
    /// ICN → patient.
    pub registry: HashMap<String, Arc<Patient>>,
    /// What was skipped while loading, for the log and `/health`.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Registry {
    patients: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct SitesFile {
    sites: Vec<SiteEntry>,
}

#[derive(Deserialize)]
struct SiteEntry {
    sta3n: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    latency_ms: Option<(u64, u64)>,
    #[serde(default)]
    xwb_port: Option<u16>,
}

/// Why a record did not load, without the offending value (records hold
/// patient data, and load warnings go to the log).
fn reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("missing field") {
        return msg;
    }
    match msg.split_once(", expected ") {
        Some((_, expected)) => format!("invalid value, expected {expected}"),
        None => "invalid value".to_string(),
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| LoadError::Json {
        path: path.display().to_string(),
        source,
    })
}

/// The sites of `{dir}/sites.json`, with built-in latencies where the file
/// gives none.
pub fn sites_from_dir(dir: &Path) -> Result<Vec<SiteConfig>, LoadError> {
    read_sites(&dir.join("sites.json"))
}

/// A site list: `{"sites": [...]}` (the mock's `sites.json`) or a bare
/// array, of `{sta3n, name, description?, latency_ms?: [min, max],
/// xwb_port?}`; sites without a latency get the built-in one.
pub fn read_sites(path: &Path) -> Result<Vec<SiteConfig>, LoadError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape {
        Wrapped(SitesFile),
        Bare(Vec<SiteEntry>),
    }
    let entries = match read_json::<Shape>(path)? {
        Shape::Wrapped(f) => f.sites,
        Shape::Bare(v) => v,
    };
    let sites: Vec<SiteConfig> = entries
        .into_iter()
        .map(|s| SiteConfig {
            latency_ms: s.latency_ms.unwrap_or_else(|| default_latency(&s.sta3n)),
            sta3n: s.sta3n,
            name: s.name,
            description: s.description,
            xwb_port: s.xwb_port,
        })
        .collect();
    validate_sites(&sites)?;
    Ok(sites)
}

pub fn validate_sites(sites: &[SiteConfig]) -> Result<(), LoadError> {
    if sites.is_empty() {
        return Err(LoadError::Invalid("no sites configured".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for s in sites {
        if s.sta3n.is_empty() || !s.sta3n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LoadError::Invalid(format!(
                "site {:?}: sta3n must be digits",
                s.sta3n
            )));
        }
        if !seen.insert(&s.sta3n) {
            return Err(LoadError::Invalid(format!(
                "site {} is configured twice",
                s.sta3n
            )));
        }
        if s.latency_ms.0 > s.latency_ms.1 {
            return Err(LoadError::Invalid(format!(
                "site {}: latency minimum {} ms exceeds maximum {} ms",
                s.sta3n, s.latency_ms.0, s.latency_ms.1
            )));
        }
    }
    Ok(())
}

/// Loads one domain file: `{"<domain>": [records]}`. A missing file is
/// `None`; each bad record becomes a warning.
fn domain<T: DeserializeOwned + HasDfn>(
    dir: &Path,
    sta3n: &str,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<ByDfn<T>, LoadError> {
    let path = dir.join("sites").join(sta3n).join(format!("{name}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let file: serde_json::Value = read_json(&path)?;
    let records = file
        .get(name)
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| LoadError::Invalid(format!("{}: no `{name}` array", path.display())))?;
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        match T::deserialize(r) {
            Ok(rec) if !rec.dfn().trim().is_empty() => out
                .entry(rec.dfn().trim().to_string())
                .or_default()
                .push(rec),
            Ok(_) => warnings.push(format!(
                "sites/{sta3n}/{name}.json record {i}: empty dfn (skipped)"
            )),
            Err(e) => warnings.push(format!(
                "sites/{sta3n}/{name}.json record {i}: {} (skipped)",
                reason(&e)
            )),
        }
    }
    Ok(Some(out))
}

pub trait HasDfn {
    fn dfn(&self) -> &str;
}

macro_rules! has_dfn {
    ($($t:ty),*) => {$(impl HasDfn for $t { fn dfn(&self) -> &str { &self.dfn } })*};
}
has_dfn!(Vital, Encounter, Allergy, Medication, Problem);

impl World {
    /// Loads the registry and every configured site's files.
    pub fn load(dir: &Path, sites: Vec<SiteConfig>) -> Result<World, LoadError> {
        validate_sites(&sites)?;
        let reg: Registry = read_json(&dir.join("patient_registry.json"))?;
        let mut warnings = Vec::new();
        let mut registry = HashMap::new();
        for (i, v) in reg.patients.into_iter().enumerate() {
            match Patient::deserialize(&v) {
                Ok(p) => {
                    if registry.insert(p.icn.clone(), Arc::new(p)).is_some() {
                        warnings.push(format!("patient_registry.json patient {i}: duplicate ICN (the later entry wins)"));
                    }
                }
                Err(e) => warnings.push(format!(
                    "patient_registry.json patient {i}: {} (skipped)",
                    reason(&e)
                )),
            }
        }
        let mut out = BTreeMap::new();
        for config in sites {
            let sta3n = config.sta3n.clone();
            let mut patients = HashMap::new();
            let mut dfns: HashMap<String, Vec<String>> = HashMap::new();
            for p in registry.values() {
                for f in p.treating_facilities.iter().filter(|f| f.sta3n == sta3n) {
                    let dfn = f.dfn.trim().to_string();
                    if dfn.is_empty() || !dfn.bytes().all(|b| b.is_ascii_digit()) {
                        warnings.push(format!(
                            "patient_registry.json: a DFN at site {sta3n} is not numeric (skipped)"
                        ));
                        continue;
                    }
                    if let Some(other) = patients.insert(dfn.clone(), p.clone())
                        && other.icn != p.icn
                    {
                        warnings.push(format!(
                            "patient_registry.json: a DFN at site {sta3n} belongs to two patients (the later entry wins)"
                        ));
                    }
                    let list = dfns.entry(p.icn.clone()).or_default();
                    if !list.contains(&dfn) {
                        list.push(dfn);
                    }
                }
            }
            let site = Site {
                vitals: domain(dir, &sta3n, "vitals", &mut warnings)?,
                encounters: domain(dir, &sta3n, "encounters", &mut warnings)?,
                allergies: domain(dir, &sta3n, "allergies", &mut warnings)?,
                medications: domain(dir, &sta3n, "medications", &mut warnings)?,
                problems: domain(dir, &sta3n, "problems", &mut warnings)?,
                config,
                patients,
                dfns,
            };
            out.insert(sta3n, site);
        }
        Ok(World {
            sites: out,
            registry,
            warnings,
        })
    }
}
