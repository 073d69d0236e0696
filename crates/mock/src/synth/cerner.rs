//! CDWWork2: the same patient as seen by an Oracle Health (Cerner
//! Millennium) site. Identity is `PersonSID` (its own key space, which can
//! collide with CDWWork's `PatientSID`) plus a denormalised `PatientICN`.

use super::out::Out;
use super::patient::{Condition, Ctx, Patient, ProblemStatus, at, opt};
use crate::rng::Rng;
use crate::value::Value::{self, *};
use anyhow::Result;
use cdw::catalog as c;
use chrono::{Duration, NaiveDateTime};

/// (type name, unit, result text, numeric value, (systolic, diastolic)).
type CernerVital = (
    &'static str,
    &'static str,
    String,
    Option<f64>,
    Option<(i64, i64)>,
);

fn facility(sta3n: &str) -> &'static str {
    match sta3n {
        "648" => "Portland VA Medical Center",
        "663" => "VA Puget Sound Health Care System",
        "687" => "Jonathan M. Wainwright Memorial VA Medical Center",
        _ => "VA Medical Center",
    }
}

pub fn generate(
    ctx: &Ctx<'_>,
    p: &Patient,
    conds: &[Condition],
    height_in: f64,
    weight_lb: f64,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    let link = p.cerner.as_ref().expect("caller checked");
    let end = p.death.unwrap_or_else(|| ctx.cutoff()).min(ctx.cutoff());
    let created = at(end.date() - Duration::days(3 * 365), 9, 0);
    out.row(
        &c::VETERAN_MILL_S_PERSON,
        &[
            Int(link.person_sid),
            Text(p.icn.clone()),
            Text(p.last.clone()),
            Text(p.first.clone()),
            Value::opt_text(p.middle.clone()),
            Date(p.dob),
            Text(p.sex.to_string()),
            Text(p.ssn.clone()),
            Text(format!("{} {}", rng.range(10, 9999), rng.pick(&v.streets))),
            Null,
            Str(if link.sta3n == "687" {
                "WA"
            } else if link.sta3n == "648" {
                "OR"
            } else {
                "WA"
            }),
            Null,
            Null,
            Bool(true),
            DateTime(created),
        ],
    )?;

    // Encounters over the last three years at the Cerner site.
    let n = 3 + rng.below(6) as i64;
    let mut encounters: Vec<(i64, NaiveDateTime, &str)> = Vec::new();
    for i in 0..n {
        let day = end.date() - Duration::days(rng.range(1, 3 * 365));
        let when = at(day, rng.range(7, 17) as u32, rng.range(0, 59) as u32);
        let kind = if i == 0 && rng.chance(0.5) {
            "INPATIENT"
        } else if rng.chance(0.15) {
            "EMERGENCY"
        } else {
            "OUTPATIENT"
        };
        encounters.push((out.id(&c::ENC_MILL_ENCOUNTER) + 3000, when, kind));
    }
    encounters.sort_by_key(|e| e.1);
    for (sid, when, kind) in &encounters {
        let inpatient = *kind == "INPATIENT";
        let discharge = inpatient.then(|| (*when + Duration::days(rng.range(1, 6))).min(end));
        let provider_sid = 900_000 + rng.range(1, 400);
        out.row(
            &c::ENC_MILL_ENCOUNTER,
            &[
                Int(*sid),
                Int(link.person_sid),
                Text(p.icn.clone()),
                Str(link.sta3n),
                // Dirt: some encounters omit the facility name (the ETL falls back to Dim.Sta3n).
                if rng.chance(0.1) {
                    Null
                } else {
                    Str(facility(link.sta3n))
                },
                Str(kind),
                DateTime(*when),
                if inpatient { DateTime(*when) } else { Null },
                Value::opt_dt(discharge),
                Str(match *kind {
                    "INPATIENT" => "4 WEST MEDICINE",
                    "EMERGENCY" => "EMERGENCY DEPARTMENT",
                    _ => "PRIMARY CARE CLINIC",
                }),
                Str(if inpatient {
                    "INPATIENT UNIT"
                } else if *kind == "EMERGENCY" {
                    "ED"
                } else {
                    "CLINIC"
                }),
                Text(format!(
                    "{}, {} MD",
                    rng.pick(&v.last_names),
                    rng.pick(&v.first_female)
                )),
                Int(provider_sid),
                Bool(!rng.chance(0.03)),
                DateTime(*when),
            ],
        )?;
    }

    // Vitals per encounter, in US customary units only (no metric column).
    let vtype = |name: &str| {
        v.code("VITAL_TYPE", name)
            .map(|cv| (cv.sid, cv.display.clone()))
    };
    let unit = |name: &str| v.code("UNIT", name).map(|cv| (cv.sid, cv.display.clone()));
    for (enc_sid, when, _) in &encounters {
        let sys = rng.normal_clamped(130.0, 12.0, 95.0, 185.0).round() as i64;
        let dia = rng.normal_clamped(80.0, 8.0, 55.0, 115.0).round() as i64;
        let mut rows: Vec<CernerVital> = vec![
            (
                "Blood Pressure",
                "mmHg",
                format!("{sys}/{dia}"),
                None,
                Some((sys, dia)),
            ),
            (
                "Pulse",
                "bpm",
                String::new(),
                Some(rng.normal_clamped(74.0, 9.0, 48.0, 120.0).round()),
                None,
            ),
            (
                "Temperature",
                "°F",
                String::new(),
                Some((rng.normal_clamped(98.3, 0.5, 96.8, 101.0) * 10.0).round() / 10.0),
                None,
            ),
            (
                "Weight",
                "lbs",
                String::new(),
                Some(((weight_lb + rng.normal(0.0, 3.0)) * 10.0).round() / 10.0),
                None,
            ),
        ];
        if rng.chance(0.3) {
            rows.push((
                "Height",
                "in",
                String::new(),
                Some((height_in * 2.0).round() / 2.0),
                None,
            ));
        }
        for (tname, uname, result, numeric, bp) in rows {
            let t = vtype(tname);
            let u = unit(uname);
            let result = if result.is_empty() {
                numeric.map(|x| format!("{x}")).unwrap_or_default()
            } else {
                result
            };
            out.row(
                &c::VITAL_MILL_VITAL_RESULT,
                &[
                    Int(out.id(&c::VITAL_MILL_VITAL_RESULT) + 5000),
                    Int(*enc_sid),
                    Int(link.person_sid),
                    Text(p.icn.clone()),
                    t.as_ref().map_or(Null, |x| Int(x.0)),
                    Str(tname),
                    Text(result),
                    numeric.map_or(Null, Dec),
                    bp.map_or(Null, |b| Int(b.0)),
                    bp.map_or(Null, |b| Int(b.1)),
                    u.as_ref().map_or(Null, |x| Int(x.0)),
                    Str(uname),
                    DateTime(*when + Duration::minutes(5)),
                    DateTime(*when + Duration::minutes(rng.range(6, 60))),
                    Str("PRIMARY CARE CLINIC"),
                    Str(link.sta3n),
                    Bool(!rng.chance(0.02)),
                ],
            )?;
        }
    }

    // Immunizations: flu and COVID boosters given at the Cerner site.
    let mut shots: Vec<(&str, NaiveDateTime, Option<&str>, Option<&str>)> = Vec::new();
    for (_, when, kind) in &encounters {
        if *kind == "OUTPATIENT" && rng.chance(0.35) {
            shots.push((
                rng.choose(&["88", "150", "197", "213", "187"]),
                *when,
                None,
                None,
            ));
        }
    }
    if p.extras.dual_source_immunization {
        let same_day = at(end.date() - Duration::days(40), 14, 5);
        shots.push(("88", same_day, Some("1"), Some("1")));
        shots.push(("187", same_day - Duration::days(200), Some("1"), Some("2")));
        shots.push(("187", same_day - Duration::days(120), Some("2"), Some("2")));
        shots.push((
            "213",
            same_day - Duration::days(300),
            Some("BOOSTER 1"),
            None,
        ));
    }
    for (cvx, when, series, total) in shots {
        let Some((code_sid, _)) = v.vaccine_codes.get(cvx) else {
            continue;
        };
        out.row(
            &c::IMMUNIZATION_MILL_VACCINE_ADMIN,
            &[
                Int(out.id(&c::IMMUNIZATION_MILL_VACCINE_ADMIN) + 6000),
                Int(link.person_sid),
                encounters.first().map_or(Null, |e| Int(e.0)),
                // Dirt: the ICN is nullable here and occasionally missing.
                if rng.chance(0.02) && !p.extras.dual_source_immunization {
                    Null
                } else {
                    Text(p.icn.clone())
                },
                Int(*code_sid),
                DateTime(when),
                Value::opt_str(series),
                Value::opt_str(total),
                Str("0.5"),
                Str("mL"),
                Str("IM"),
                Str(rng.choose(&["LT DELTOID", "RT DELTOID", "Left Deltoid"])),
                Null,
                Int(900_000 + rng.range(1, 400)),
                Int(link.sta3n.parse::<i64>().unwrap_or(0)),
                Bool(true),
                DateTime(when),
            ],
        )?;
    }

    // Problems: a subset of the VistA problem list re-documented in Cerner,
    // so cross-source duplicates exist (same ICN, ICD-10 and onset date).
    for (i, cond) in conds.iter().enumerate() {
        if !rng.chance(0.5) {
            continue;
        }
        let Some(icd) = v.icd(&cond.icd) else {
            continue;
        };
        let status = match cond.status {
            ProblemStatus::Active => "A",
            ProblemStatus::Inactive => "I",
            ProblemStatus::Resolved => "R",
        };
        let recorded = at(cond.onset, 10, 0).max(created);
        out.row(
            &c::ENC_MILL_PROBLEM_LIST,
            &[
                Int(out.id(&c::ENC_MILL_PROBLEM_LIST) + 2000),
                Int(link.problem_key),
                Text(p.icn.clone()),
                Int(link.sta3n.parse::<i64>().unwrap_or(0)),
                Text(format!("P{}-{}", link.person_sid, i + 1)),
                Text(icd.code.clone()),
                Text(icd.description.clone()),
                opt(&icd.snomed),
                opt(&icd.snomed_description),
                Str(status),
                DateTime(at(cond.onset, 0, 0)),
                DateTime(recorded),
                DateTime(recorded + Duration::days(rng.range(0, 200))),
                cond.resolved.map_or(Null, |d| DateTime(at(d, 0, 0))),
                Int(rng.range(1000, 9999)),
                Text(format!(
                    "{}, {} MD",
                    rng.pick(&v.last_names).to_uppercase(),
                    rng.pick(&v.first_male).to_uppercase()
                )),
                Str("PRIMARY CARE CLINIC"),
                Value::yn(rng.chance(0.2)),
                Value::yn(!icd.chronic),
                Value::yn(icd.chronic),
                Int(rng.range(1000, 9999)),
                Str("CERNER,INTERFACE"),
                DateTime(recorded),
            ],
        )?;
    }

    // Family history documented at the Cerner site.
    if rng.chance(0.4) || p.extras.dual_source_immunization {
        let rels = v
            .code_values
            .get("FAMILY_RELATIONSHIP")
            .cloned()
            .unwrap_or_default();
        let conds_cv = v
            .code_values
            .get("FAMILY_HISTORY_CONDITION")
            .cloned()
            .unwrap_or_default();
        let status = v
            .code_values
            .get("FAMILY_HISTORY_STATUS")
            .cloned()
            .unwrap_or_default();
        if !rels.is_empty() && !conds_cv.is_empty() && !status.is_empty() {
            for _ in 0..1 + rng.below(2) {
                let when = encounters.last().map_or(created, |e| e.1);
                out.row(
                    &c::ENC_MILL_FAMILY_HISTORY,
                    &[
                        Int(out.id(&c::ENC_MILL_FAMILY_HISTORY) + 4000),
                        encounters.last().map_or(Null, |e| Int(e.0)),
                        Int(link.person_sid),
                        Text(p.icn.clone()),
                        Str(link.sta3n),
                        Int(rng.pick(&rels).sid),
                        Int(rng.pick(&conds_cv).sid),
                        Int(status[0].sid),
                        Null,
                        if rng.chance(0.5) {
                            Int(rng.range(40, 90))
                        } else {
                            Null
                        },
                        Int(rng.range(35, 75)),
                        DateTime(when),
                        Str("CERNER,INTERFACE"),
                        Null,
                        Bool(true),
                        DateTime(when),
                    ],
                )?;
            }
        }
    }
    Ok(())
}
