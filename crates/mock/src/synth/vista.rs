//! Today's (T-0) data for the VistA RPC Broker simulator, and its
//! ICN → (site, DFN) registry.
//!
//! Dates in the site files use the simulator's relative notation (`T-0.0845`,
//! `T-3`, `T+90`), resolved against the day the simulator runs, so the data
//! is always "today" no matter when it was generated.

use super::patient::{Condition, Ctx, Patient, ProblemStatus};
use crate::rng::Rng;
use anyhow::{Context, Result};
use serde_json::{Value as Json, json};
use std::path::Path;

/// The simulated VistA sites.
pub const SITES: &[(u16, &str, &str)] = &[
    (200, "ALEXANDRIA", "Alexandria VA Medical Center"),
    (500, "ANCHORAGE", "Anchorage VA Medical Center"),
    (630, "PALO_ALTO", "Palo Alto VA Medical Center"),
];

pub const DOMAINS: &[&str] = &[
    "vitals",
    "encounters",
    "allergies",
    "medications",
    "problems",
];

/// One patient's registry entry and per-site records.
#[derive(Debug, Clone)]
pub struct VistaPatient {
    pub registry: Json,
    /// (sta3n, domain index, record)
    pub records: Vec<(u16, usize, Json)>,
}

fn hhmm(rng: &mut Rng, from: i64, to: i64) -> String {
    format!("{:02}{:02}", rng.range(from, to), rng.range(0, 59))
}

/// Builds today's records for `p` at each of its simulated sites.
pub fn today(
    ctx: &Ctx<'_>,
    p: &Patient,
    conds: &[Condition],
    meds: &[i64],
    rng: &mut Rng,
) -> VistaPatient {
    let v = ctx.vocab;
    let mut facilities = Vec::new();
    let mut records = Vec::new();
    for (i, &(sta3n, dfn)) in p.vista_sites.iter().enumerate() {
        let name = SITES
            .iter()
            .find(|s| s.0 == sta3n)
            .map_or("UNKNOWN", |s| s.1);
        let last_seen = if i == 0 {
            "T-0".to_string()
        } else {
            format!("T-{}", rng.range(3, 400))
        };
        facilities.push(json!({
            "sta3n": sta3n.to_string(),
            "name": name,
            "dfn": dfn.to_string(),
            "first_seen": (ctx.as_of - chrono::Duration::days(365 * rng.range(1, 12))).format("%Y-%m-%d").to_string(),
            "last_seen": last_seen,
        }));
        if p.death.is_some() {
            continue;
        }
        let dfn_s = dfn.to_string();
        let nurse = format!(
            "{},{}",
            rng.pick(&v.last_names).to_uppercase(),
            rng.pick(&v.first_female).to_uppercase()
        );
        // Vitals: one or two sets taken today at the primary site.
        if i == 0 || rng.chance(0.3) {
            for _ in 0..1 + rng.below(2) {
                let t = format!("T-0.{}", hhmm(rng, 6, 11));
                let sys = rng.range(104, 168);
                let dia = rng.range(62, 98);
                for (ty, value, units) in [
                    ("BLOOD PRESSURE", format!("{sys}/{dia}"), "mmHg"),
                    (
                        "TEMPERATURE",
                        format!("{:.1}", rng.uniform(97.2, 99.4)),
                        "F",
                    ),
                    ("PULSE", rng.range(56, 104).to_string(), "/min"),
                    ("RESPIRATION", rng.range(12, 20).to_string(), "/min"),
                    ("PULSE OXIMETRY", rng.range(92, 100).to_string(), "%"),
                ] {
                    records.push((sta3n, 0, json!({"dfn": dfn_s, "type": ty, "value": value, "units": units, "date_time": t, "entered_by": nurse})));
                }
            }
        }
        // Encounters: a current or just-finished admission for some.
        if rng.chance(0.25) {
            let admit_days = rng.range(0, 6);
            let active = rng.chance(0.5);
            let dx = conds
                .iter()
                .find(|c| c.status == ProblemStatus::Active)
                .map_or("R07.9".to_string(), |c| c.icd.clone());
            records.push((sta3n, 1, json!({
                "dfn": dfn_s,
                "inpatient_id": format!("{}{:04}", sta3n, rng.range(1, 9999)),
                "admit_datetime": format!("T-{admit_days}.{}", hhmm(rng, 0, 23)),
                "admit_location": rng.choose(&["7A MED/SURG", "4 WEST MEDICINE", "MICU", "3 SOUTH TELEMETRY"]),
                "status": if active { "ACTIVE" } else { "DISCHARGED" },
                "discharge_datetime": if active { String::new() } else { "T-0.1015".to_string() },
                "discharge_location": if active { "" } else { "HOME" },
                "length_of_stay": if active { String::new() } else { admit_days.to_string() },
                "diagnosis_code": dx,
                "admit_provider": format!("{},{}", rng.pick(&v.last_names).to_uppercase(), rng.pick(&v.first_male).to_uppercase()),
            })));
        }
        // Allergies known at this site.
        if !v.allergens.is_empty() {
            let n = rng.below(3) as usize;
            for k in rng.sample_indices(v.allergens.len(), n) {
                let (_, name, kind) = &v.allergens[k];
                records.push((sta3n, 2, json!({
                    "dfn": dfn_s,
                    "allergen_name": name.trim().to_uppercase(),
                    "severity": rng.choose(&["MILD", "MODERATE", "SEVERE"]),
                    "reaction_datetime": format!("T-{}.{}", rng.range(30, 3000), hhmm(rng, 8, 17)),
                    "reactions": rng.choose(&["HIVES", "RASH,ITCHING", "NAUSEA,VOMITING", "ANAPHYLAXIS", "SHORTNESS OF BREATH"]),
                    "allergy_type": kind,
                    "originating_site": sta3n.to_string(),
                    "entered_by": format!("{},{}", rng.pick(&v.last_names).to_uppercase(), rng.pick(&v.first_male).to_uppercase()),
                })));
            }
        }
        // Active outpatient medications (chronic meds, renewed at this site).
        for (k, nat) in meds.iter().enumerate() {
            let Some(local) = v.local_for(*nat, 0) else {
                continue;
            };
            if i > 0 && !rng.chance(0.4) {
                continue;
            }
            let days = rng.choose(&[30, 90]);
            let issued = rng.range(0, 120);
            records.push((sta3n, 3, json!({
                "dfn": dfn_s,
                "rx_number": format!("{}{:05}", sta3n, (dfn as i64 * 7 + k as i64 * 131) % 100_000),
                "drug_name": local.name_with_dose.trim().to_uppercase(),
                "status": "ACTIVE",
                "quantity": days.to_string(),
                "days_supply": days.to_string(),
                "refills_remaining": rng.range(0, 3).to_string(),
                "issue_date": format!("T-{issued}.{}", hhmm(rng, 8, 16)),
                "expiration_date": format!("T+{}", 365 - issued),
            })));
        }
        // Problems, with one updated today.
        for (k, cond) in conds.iter().enumerate() {
            let Some(icd) = v.icd(&cond.icd) else {
                continue;
            };
            records.push((sta3n, 4, json!({
                "dfn": dfn_s,
                "problem_ien": format!("{sta3n}-{}", 100 + k),
                "problem_text": icd.description,
                "snomed_code": icd.snomed,
                "icd10_code": icd.code,
                "problem_status": match cond.status { ProblemStatus::Active => "ACTIVE", ProblemStatus::Inactive => "INACTIVE", ProblemStatus::Resolved => "RESOLVED" },
                "onset_date": cond.onset.format("%Y-%m-%d").to_string(),
                "service_connected": rng.chance(0.2),
                "updated_today": k == 0 && rng.chance(0.3),
            })));
        }
    }
    let registry = json!({
        "icn": p.icn,
        "ssn": p.ssn,
        "name_last": p.last.to_uppercase(),
        "name_first": p.first.to_uppercase(),
        "name_middle": p.middle.as_deref().map(str::to_uppercase).unwrap_or_default(),
        "dob": p.dob.format("%Y-%m-%d").to_string(),
        "sex": p.sex.to_string(),
        "treating_facilities": facilities,
    });
    VistaPatient { registry, records }
}

/// Writes `vista/` under `dir`: `sites.json`, `patient_registry.json` and
/// `sites/{sta3n}/{domain}.json`. Returns the number of files written.
pub fn write(dir: &Path, patients: &[VistaPatient], extra_registry: Vec<Json>) -> Result<usize> {
    let sites_dir = dir.join("sites");
    std::fs::create_dir_all(&sites_dir)
        .with_context(|| format!("creating {}", sites_dir.display()))?;
    let mut files = 0;
    let sites: Vec<Json> = SITES
        .iter()
        .map(|(s, n, d)| json!({"sta3n": s.to_string(), "name": n, "description": d}))
        .collect();
    write_json(
        &dir.join("sites.json"),
        &json!({"sites": sites, "metadata": {"generator": "medz1 mock", "version": "1.0"}}),
    )?;
    files += 1;
    let mut reg: Vec<Json> = patients.iter().map(|p| p.registry.clone()).collect();
    reg.extend(extra_registry);
    write_json(
        &dir.join("patient_registry.json"),
        &json!({
            "_comment": "ICN to (site, DFN) registry for the VistA RPC Broker simulator. Generated; do not edit.",
            "_usage": "last_seen is relative T-notation (T-N days) or an ISO date.",
            "patients": reg,
        }),
    )?;
    files += 1;
    for &(sta3n, name, _) in SITES {
        let site_dir = sites_dir.join(sta3n.to_string());
        std::fs::create_dir_all(&site_dir)?;
        for (d, domain) in DOMAINS.iter().enumerate() {
            let recs: Vec<&Json> = patients
                .iter()
                .flat_map(|p| p.records.iter())
                .filter(|(s, dd, _)| *s == sta3n && *dd == d)
                .map(|(_, _, r)| r)
                .collect();
            write_json(
                &site_dir.join(format!("{domain}.json")),
                &json!({"site_sta3n": sta3n.to_string(), "site_name": name, *domain: recs}),
            )?;
            files += 1;
        }
    }
    Ok(files)
}

fn write_json(path: &Path, v: &Json) -> Result<()> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}
