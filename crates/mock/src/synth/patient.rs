//! One patient: identity, clinical profile and every fact row about them.

use super::out::Out;
use super::vista::VistaPatient;
use super::vocab::{Location, Vocab};
use crate::rng::Rng;
use crate::value::Value::{self, *};
use anyhow::Result;
use cdw::catalog as c;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// Clinical domains a persona can be kept empty in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Domain {
    Vitals,
    Allergies,
    Medications,
    Labs,
    Notes,
    Immunizations,
    Problems,
    Inpatient,
    FamilyHistory,
    Flags,
}

/// Cerner (CDWWork2) identity of a patient also seen at an Oracle Health site.
#[derive(Debug, Clone)]
pub struct CernerLink {
    pub person_sid: i64,
    pub problem_key: i64,
    pub sta3n: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemStatus {
    Active,
    Inactive,
    Resolved,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub icd: String,
    pub onset: NaiveDate,
    pub status: ProblemStatus,
    pub resolved: Option<NaiveDate>,
}

/// Special records a curated persona asks for beyond its forced conditions.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub suicide_flag: bool,
    pub end_of_life: bool,
    pub controlled: bool,
    pub critical_labs: bool,
    pub abnormal_vitals: bool,
    pub dual_source_immunization: bool,
    pub orphans: bool,
    pub flags: Vec<&'static str>,
    pub meds: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Patient {
    pub sid: i64,
    pub icn: String,
    pub sta3n: i64,
    pub last: String,
    pub first: String,
    pub middle: Option<String>,
    pub sex: char,
    pub dob: NaiveDate,
    pub death: Option<NaiveDateTime>,
    pub test: bool,
    pub sensitive: bool,
    pub ssn: String,
    pub cerner: Option<CernerLink>,
    pub empty: Vec<Domain>,
    pub conditions: Vec<String>,
    pub extras: Extras,
    pub years_in_care: i64,
    pub vista_sites: Vec<(u16, u64)>,
}

impl Patient {
    pub fn ien(&self) -> String {
        format!("PtIEN{}", self.sid)
    }

    pub fn name(&self) -> String {
        let mut n = format!("{},{}", self.last.to_uppercase(), self.first.to_uppercase());
        if let Some(m) = &self.middle {
            n.push(' ');
            n.push_str(&m.to_uppercase());
        }
        n.chars().take(30).collect()
    }

    pub fn has(&self, d: Domain) -> bool {
        !self.empty.contains(&d)
    }

    pub fn age_on(&self, day: NaiveDate) -> i64 {
        let mut a = (day.year() - self.dob.year()) as i64;
        if (day.month(), day.day()) < (self.dob.month(), self.dob.day()) {
            a -= 1;
        }
        a
    }
}

/// The generation context shared by every patient.
pub struct Ctx<'v> {
    pub vocab: &'v Vocab,
    /// The day the extract is "as of": CDW facts run through the day before.
    pub as_of: NaiveDate,
}

impl Ctx<'_> {
    /// Last moment covered by the CDW (end of T-1).
    pub fn cutoff(&self) -> NaiveDateTime {
        (self.as_of - Duration::days(1))
            .and_hms_opt(23, 59, 0)
            .expect("valid time")
    }
}

pub(crate) fn at(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    d.and_hms_opt(h, m, 0).expect("valid time")
}

fn rand_time(rng: &mut Rng, d: NaiveDate, from_h: i64, to_h: i64) -> NaiveDateTime {
    at(d, rng.range(from_h, to_h) as u32, rng.range(0, 59) as u32)
}

pub(crate) fn opt(s: &str) -> Value {
    if s.is_empty() {
        Null
    } else {
        Text(s.to_string())
    }
}

/// A staff member of `role` at `sta3n` (falls back to any station).
pub(crate) fn staff(v: &Vocab, rng: &mut Rng, role: &str, sta3n: i64) -> i64 {
    if let Some(l) = v
        .staff
        .get(&(role.to_string(), sta3n))
        .filter(|l| !l.is_empty())
    {
        return *rng.pick(l);
    }
    v.staff_any
        .get(role)
        .filter(|l| !l.is_empty())
        .map(|l| *rng.pick(l))
        .unwrap_or(1)
}

fn location<'v>(v: &'v Vocab, rng: &mut Rng, sta3n: i64, kinds: &[&str]) -> Option<&'v Location> {
    let list = v.locations.get(&sta3n)?;
    let matching: Vec<&Location> = list
        .iter()
        .filter(|l| kinds.iter().any(|k| l.kind.eq_ignore_ascii_case(k)))
        .collect();
    if matching.is_empty() {
        list.first()
    } else {
        Some(*rng.pick(&matching))
    }
}

/// One outpatient visit, the anchor for vitals, notes and labs.
#[derive(Debug, Clone)]
struct Visit {
    when: NaiveDateTime,
    sta3n: i64,
    location_sid: Option<i64>,
    provider: i64,
    nurse: i64,
    visit_sid: i64,
}

/// Everything generated for one patient (the state the domains share).
pub struct Chart {
    conditions: Vec<Condition>,
    visits: Vec<Visit>,
    start: NaiveDate,
    end: NaiveDateTime,
    baseline_sys: f64,
    baseline_dia: f64,
    height_in: f64,
    weight_lb: f64,
    meds: Vec<i64>,
}

pub fn generate(
    ctx: &Ctx<'_>,
    p: &Patient,
    rng: &mut Rng,
    out: &mut Out<'_>,
    vista: &mut Vec<VistaPatient>,
) -> Result<()> {
    let end = p.death.unwrap_or_else(|| ctx.cutoff()).min(ctx.cutoff());
    let adult = p.dob + Duration::days(18 * 366);
    let start = (end.date() - Duration::days(365 * p.years_in_care))
        .max(adult)
        .min(end.date());
    let mut ch = Chart {
        conditions: conditions(ctx, p, rng, start, end.date()),
        visits: Vec::new(),
        start,
        end,
        baseline_sys: rng.normal_clamped(128.0, 12.0, 100.0, 165.0),
        baseline_dia: rng.normal_clamped(78.0, 8.0, 60.0, 100.0),
        height_in: if p.sex == 'M' {
            rng.normal_clamped(69.5, 2.8, 62.0, 78.0)
        } else {
            rng.normal_clamped(64.0, 2.6, 57.0, 72.0)
        },
        weight_lb: if p.sex == 'M' {
            rng.normal_clamped(205.0, 38.0, 120.0, 380.0)
        } else {
            rng.normal_clamped(170.0, 35.0, 100.0, 320.0)
        },
        meds: Vec::new(),
    };
    if ch.has_prefix("I10") {
        ch.baseline_sys += 12.0;
        ch.baseline_dia += 6.0;
    }
    if ch.has_prefix("E66") {
        ch.weight_lb += 60.0;
    }
    if p.extras.abnormal_vitals {
        ch.weight_lb = 330.0;
        ch.height_in = 67.0;
    }
    ch.visits = visits(ctx, p, rng, out, start, end);

    demographics(ctx, p, rng, out)?;
    if p.has(Domain::Problems) {
        problems(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Vitals) {
        vitals(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Allergies) {
        allergies(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Medications) {
        outpatient_meds(ctx, p, &mut ch, rng, out)?;
    }
    if p.has(Domain::Labs) {
        labs(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Notes) {
        notes(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Immunizations) {
        immunizations(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Inpatient) {
        inpatient(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::Flags) {
        flags(ctx, p, &ch, rng, out)?;
    }
    if p.has(Domain::FamilyHistory) {
        family_history(ctx, p, &ch, rng, out)?;
    }
    if p.cerner.is_some() {
        super::cerner::generate(ctx, p, &ch.conditions, ch.height_in, ch.weight_lb, rng, out)?;
    }
    if !p.vista_sites.is_empty() {
        vista.push(super::vista::today(ctx, p, &ch.conditions, &ch.meds, rng));
    }
    Ok(())
}

impl Chart {
    fn has_prefix(&self, prefix: &str) -> bool {
        self.conditions
            .iter()
            .any(|c| c.status == ProblemStatus::Active && c.icd.starts_with(prefix))
    }
}

fn conditions(
    ctx: &Ctx<'_>,
    p: &Patient,
    rng: &mut Rng,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<Condition> {
    let v = ctx.vocab;
    let age = p.age_on(end);
    let mut picked: Vec<String> = p.conditions.clone();
    if !p.extras.abnormal_vitals && p.conditions.is_empty() {
        let n = rng
            .poisson(((age - 25).max(0) as f64 / 12.0).min(6.0))
            .min(9) as usize;
        let weights: Vec<u32> = v
            .icd
            .iter()
            .map(|i| {
                let sex_ok = !(p.sex == 'F' && (i.code == "C61" || i.code.starts_with("N40")));
                if sex_ok && i.onset_age <= age + 5 {
                    i.prevalence.max(1)
                } else {
                    0
                }
            })
            .collect();
        if weights.iter().any(|&w| w > 0) {
            for _ in 0..n {
                let i = rng.weighted_index(&weights);
                let code = &v.icd[i].code;
                if !picked.contains(code) {
                    picked.push(code.clone());
                }
            }
        }
    }
    picked
        .into_iter()
        .filter(|code| v.icd(code).is_some())
        .map(|code| {
            let icd = v.icd(&code).expect("filtered");
            let onset_age = (icd.onset_age + rng.range(-8, 8)).clamp(18, age.max(18));
            let mut onset = p.dob + Duration::days(onset_age * 365 + rng.range(0, 364));
            if onset > end {
                onset = start.max(end - Duration::days(rng.range(30, 400)));
            }
            let forced = p.conditions.contains(&code);
            let status = if forced || icd.chronic || rng.chance(0.55) {
                ProblemStatus::Active
            } else if rng.chance(0.6) {
                ProblemStatus::Resolved
            } else {
                ProblemStatus::Inactive
            };
            let resolved = (status == ProblemStatus::Resolved)
                .then(|| (onset + Duration::days(rng.range(20, 900))).min(end));
            Condition {
                icd: code,
                onset,
                status,
                resolved,
            }
        })
        .collect()
}

fn visits(
    ctx: &Ctx<'_>,
    p: &Patient,
    rng: &mut Rng,
    out: &mut Out<'_>,
    start: NaiveDate,
    end: NaiveDateTime,
) -> Vec<Visit> {
    let v = ctx.vocab;
    let span_days = (end.date() - start).num_days().max(1);
    let chronic = p.conditions.len().max(2) as f64;
    let rate = 1.1 + 0.25 * chronic;
    let n = (rng.poisson(rate * span_days as f64 / 365.0) as usize).clamp(1, 48);
    let mut days: Vec<i64> = (0..n).map(|_| rng.range(0, span_days)).collect();
    days.sort_unstable();
    // The most recent visit is recent for most patients, so "latest" widgets have data.
    if let Some(last) = days.last_mut()
        && rng.chance(0.5)
    {
        *last = span_days - rng.range(0, 45.min(span_days));
    }
    days.sort_unstable();
    days.dedup();
    days.into_iter()
        .map(|d| {
            let day = start + Duration::days(d);
            let sta3n = if rng.chance(0.88) {
                p.sta3n
            } else {
                *rng.pick(&v.active_stations)
            };
            let loc = location(v, rng, sta3n, &["CLINIC"]);
            let when = rand_time(rng, day, 8, 16).min(end);
            Visit {
                when,
                sta3n,
                location_sid: loc.map(|l| l.sid),
                provider: staff(v, rng, "PHYSICIAN", sta3n),
                nurse: staff(v, rng, "NURSE", sta3n),
                visit_sid: out.visit_id(),
            }
        })
        .collect()
}

fn demographics(ctx: &Ctx<'_>, p: &Patient, rng: &mut Rng, out: &mut Out<'_>) -> Result<()> {
    let v = ctx.vocab;
    let ien = p.ien();
    let age = p.age_on(p.death.map_or(ctx.as_of, |d| d.date()));
    let marital = rng.choose(&[
        "MARRIED",
        "MARRIED",
        "MARRIED",
        "DIVORCED",
        "WIDOWED",
        "NEVER MARRIED",
        "SEPARATED",
        "UNKNOWN",
    ]);
    let religion = rng.choose(&[
        "CATHOLIC",
        "BAPTIST",
        "PROTESTANT",
        "METHODIST",
        "NO PREFERENCE",
        "LUTHERAN",
        "JEWISH",
        "ISLAM",
        "BUDDHIST",
        "UNKNOWN",
    ]);
    let sc = rng.chance(0.55) || p.extras.suicide_flag;
    let sc_pct: i64 = if sc { rng.range(1, 10) * 10 } else { 0 };
    let dob = at(p.dob, 0, 0);
    out.row(
        &c::S_PATIENT_S_PATIENT,
        &[
            Int(p.sid),
            Text(ien.clone()),
            Int(p.sta3n),
            Text(p.name()),
            Text(p.last.to_uppercase()),
            Text(p.first.to_uppercase()),
            Value::yn(p.test),
            Str(if p.test {
                "TEST"
            } else if rng.chance(0.97) {
                "NSC VETERAN"
            } else {
                "NON-VETERAN (OTHER)"
            }),
            Text(p.icn.clone()),
            Text(p.ssn.clone()),
            Int(age),
            DateTime(dob),
            Value::yn(p.death.is_some()),
            Value::opt_dt(p.death),
            Text(p.sex.to_string()),
            if rng.chance(0.08) {
                Null
            } else {
                Str(religion)
            },
            if rng.chance(0.05) { Null } else { Str(marital) },
            Value::yn(!p.test),
            Value::yn(sc),
            Value::yn(p.sensitive),
        ],
    )?;

    // Addresses: a home address (ordinal 1) and sometimes a mailing one.
    let places = v.places.get(&p.sta3n).or_else(|| v.places.values().next());
    let n_addr = if rng.chance(0.25) { 2 } else { 1 };
    for ord in 1..=n_addr {
        let place = places.map(|ps| rng.pick(ps).clone());
        let street = format!("{} {}", rng.range(10, 9999), rng.pick(&v.streets));
        let kind = if ord == 1 {
            "HOME"
        } else if rng.chance(0.7) {
            "MAILING"
        } else {
            "TEMPORARY"
        };
        let zip = place.as_ref().map(|p| p.zip.clone()).unwrap_or_default();
        let zip4 = if rng.chance(0.6) {
            Text(format!("{:04}", rng.range(1, 9999)))
        } else {
            Null
        };
        out.row(
            &c::S_PATIENT_S_PATIENT_ADDRESS,
            &[
                Int(out.id(&c::S_PATIENT_S_PATIENT_ADDRESS)),
                Int(p.sid),
                Text(ien.clone()),
                Int(p.sta3n),
                Int(ord),
                Str(kind),
                Text(street),
                if rng.chance(0.15) {
                    Text(format!("APT {}", rng.range(1, 40)))
                } else {
                    Null
                },
                Null,
                place.as_ref().map_or(Null, |p| Text(p.city.to_uppercase())),
                place
                    .as_ref()
                    .map_or(Null, |p| Text(p.county.to_uppercase())),
                place.as_ref().map_or(Null, |p| Text(p.state.clone())),
                Null,
                opt(&zip),
                zip4,
                opt(&zip),
                Str("UNITED STATES"),
                Int(1),
                Str(if age >= 65 {
                    "RETIRED"
                } else {
                    rng.choose(&[
                        "EMPLOYED FULL TIME",
                        "EMPLOYED PART TIME",
                        "NOT EMPLOYED",
                        "SELF EMPLOYED",
                    ])
                }),
            ],
        )?;
    }

    // Phones (fictional 555-01xx numbers). Some carry a VistA error date.
    let area = 200 + (p.sta3n % 700);
    let n_phone = if rng.chance(0.5) { 2 } else { 1 };
    for ord in 1..=n_phone {
        let err = if rng.chance(0.03) {
            // VistA records the FileMan date a number was flagged as bad.
            let d = ctx.as_of - Duration::days(rng.range(30, 3000));
            Text(domain::fileman::to_fileman_date(d))
        } else {
            Null
        };
        out.row(
            &c::S_PATIENT_S_PATIENT_PHONE,
            &[
                Int(out.id(&c::S_PATIENT_S_PATIENT_PHONE)),
                Int(p.sid),
                Text(ien.clone()),
                Int(p.sta3n),
                Int(ord),
                Str(if ord == 1 {
                    "HOME"
                } else {
                    rng.choose(&["CELL", "WORK", "EMERGENCY CONTACT"])
                }),
                Text(format!("({area:03}) 555-01{:02}", rng.range(0, 99))),
                err,
                DateTime({
                    let back = rng.range(5, 2000);
                    rand_time(rng, ctx.as_of - Duration::days(back), 8, 17)
                }),
            ],
        )?;
    }

    // Service connection and exposures (most veterans have a disability record).
    if !p.test && rng.chance(0.72) {
        let born = p.dob.year();
        let vietnam = (1938..=1956).contains(&born);
        let gulf = (1960..=1985).contains(&born);
        let ao = vietnam && rng.chance(0.35);
        let pow = rng.chance(0.004);
        out.row(
            &c::S_PATIENT_S_PATIENT_DISABILITY,
            &[
                Int(out.id(&c::S_PATIENT_S_PATIENT_DISABILITY)),
                Int(p.sid),
                Text(ien.clone()),
                Int(p.sta3n),
                Int(p.sta3n),
                Value::yn(sc),
                if sc {
                    Dec(sc_pct as f64)
                } else if rng.chance(0.5) {
                    Null
                } else {
                    Dec(0.0)
                },
                if vietnam { Value::yn(ao) } else { Null },
                Value::yn(rng.chance(0.01)),
                Value::yn(pow),
                Value::yn(rng.chance(0.003)),
                if ao {
                    Str(rng.choose(&["VIETNAM", "KOREA DMZ", "THAILAND"]))
                } else {
                    Null
                },
                if pow {
                    Str(rng.choose(&["WORLD WAR II - EUROPE", "KOREAN", "VIETNAM", "PERSIAN GULF"]))
                } else {
                    Null
                },
                if gulf {
                    Value::yn(rng.chance(0.3))
                } else {
                    Null
                },
                Value::yn(rng.chance(0.02)),
            ],
        )?;
    }

    // Insurance: Medicare for the elderly, otherwise a private or state plan.
    if !v.insurers.is_empty() && rng.chance(0.8) {
        let n = if rng.chance(0.3) { 2 } else { 1 };
        for _ in 0..n {
            let sid = out.id(&c::S_PATIENT_S_PATIENT_INSURANCE);
            let eff = p.dob + Duration::days(365 * rng.range(25.min(age.max(1)), age.max(26)));
            out.row(
                &c::S_PATIENT_S_PATIENT_INSURANCE,
                &[
                    Int(sid),
                    Int(p.sid),
                    Text(ien.clone()),
                    Text(format!("{}", sid * 7 + 3)),
                    Int(p.sta3n),
                    Int(*rng.pick(&v.insurers)),
                    Str(if age >= 65 {
                        "RETIRED"
                    } else {
                        "EMPLOYED FULL TIME"
                    }),
                    if age >= 62 && rng.chance(0.7) {
                        Date(p.dob + Duration::days(365 * 62))
                    } else {
                        Null
                    },
                    Date(eff.min(ctx.as_of)),
                ],
            )?;
        }
    }
    Ok(())
}

fn status_word(s: ProblemStatus) -> &'static str {
    match s {
        ProblemStatus::Active => "ACTIVE",
        ProblemStatus::Inactive => "INACTIVE",
        ProblemStatus::Resolved => "RESOLVED",
    }
}

fn problems(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    for (n, cond) in ch.conditions.iter().enumerate() {
        let icd = v.icd(&cond.icd).expect("conditions are catalogued");
        let provider = staff(v, rng, "PHYSICIAN", p.sta3n);
        let pname = v.staff_name.get(&provider).cloned().unwrap_or_default();
        let recorded = cond.onset.max(ch.start);
        let modified = (recorded + Duration::days(rng.range(0, 700))).min(ch.end.date());
        // Dirt: VistA users type codes in any case and pad them.
        let code = if rng.chance(0.04) {
            format!("{} ", icd.code.to_lowercase())
        } else {
            icd.code.clone()
        };
        let clinic = location(v, rng, p.sta3n, &["CLINIC"])
            .map(|l| l.name.clone())
            .unwrap_or_default();
        out.row(
            &c::OUTPAT_PROBLEM_LIST,
            &[
                Int(out.id(&c::OUTPAT_PROBLEM_LIST) + 1000),
                Int(p.sid),
                Text(p.icn.clone()),
                Int(p.sta3n),
                Text(format!("{}-{}", p.sta3n, n + 1)),
                opt(&icd.snomed),
                opt(&icd.snomed_description),
                Text(code),
                Text(icd.description.clone()),
                Str(status_word(cond.status)),
                Date(cond.onset),
                Date(recorded),
                Date(modified),
                Value::opt_date(cond.resolved),
                Int(provider),
                opt(&pname),
                opt(&clinic),
                Value::yn(rng.chance(0.2)),
                Value::yn(!icd.chronic),
                Value::yn(icd.chronic),
                opt(&pname),
                DateTime(rand_time(rng, recorded, 8, 17)),
            ],
        )?;
    }
    Ok(())
}

/// A vital reading as stored in `Vital.VitalSign`.
struct Reading {
    abbr: &'static str,
    result: String,
    numeric: Option<f64>,
    sys: Option<i64>,
    dia: Option<i64>,
    metric: Option<f64>,
}

fn reading(abbr: &'static str, value: f64) -> Reading {
    let (result, metric) = match abbr {
        "HT" => (format!("{value:.1}"), Some(value * 2.54)),
        "WT" => (format!("{value:.1}"), Some(value * 0.453_592_37)),
        "T" => (format!("{value:.1}"), Some((value - 32.0) * 5.0 / 9.0)),
        _ => (format!("{}", value.round() as i64), None),
    };
    Reading {
        abbr,
        result,
        numeric: Some(value),
        sys: None,
        dia: None,
        metric,
    }
}

fn bp(sys: i64, dia: i64) -> Reading {
    Reading {
        abbr: "BP",
        result: format!("{sys}/{dia}"),
        numeric: None,
        sys: Some(sys),
        dia: Some(dia),
        metric: None,
    }
}

/// Readings that exercise every abnormal class of every vital type.
fn abnormal_series() -> Vec<Vec<Reading>> {
    vec![
        vec![
            bp(185, 125),
            reading("T", 104.2),
            reading("P", 138.0),
            reading("R", 30.0),
            reading("POX", 85.0),
            reading("PN", 9.0),
        ],
        vec![
            bp(150, 92),
            reading("T", 100.8),
            reading("P", 108.0),
            reading("R", 22.0),
            reading("POX", 90.0),
            reading("PN", 5.0),
        ],
        vec![
            bp(96, 66),
            reading("T", 96.4),
            reading("P", 52.0),
            reading("R", 10.0),
            reading("POX", 91.0),
            reading("PN", 2.0),
        ],
        vec![
            bp(118, 76),
            reading("T", 98.4),
            reading("P", 72.0),
            reading("R", 16.0),
            reading("POX", 97.0),
            reading("PN", 0.0),
        ],
        vec![
            bp(86, 55),
            reading("T", 94.1),
            reading("P", 36.0),
            reading("R", 6.0),
            reading("POX", 82.0),
            reading("PN", 10.0),
        ],
    ]
}

fn vitals(ctx: &Ctx<'_>, p: &Patient, ch: &Chart, rng: &mut Rng, out: &mut Out<'_>) -> Result<()> {
    let v = ctx.vocab;
    let special = if p.extras.abnormal_vitals {
        abnormal_series()
    } else {
        Vec::new()
    };
    let n_visits = ch.visits.len();
    for (i, visit) in ch.visits.iter().enumerate() {
        let mut set: Vec<Reading> = Vec::new();
        // Curated abnormal readings go on the most recent visits.
        if let Some(s) = (i + special.len())
            .checked_sub(n_visits)
            .and_then(|k| special.get(k))
        {
            for r in s {
                set.push(Reading {
                    abbr: r.abbr,
                    result: r.result.clone(),
                    numeric: r.numeric,
                    sys: r.sys,
                    dia: r.dia,
                    metric: r.metric,
                });
            }
            set.push(reading("WT", ch.weight_lb));
            set.push(reading("HT", ch.height_in));
        } else {
            let sys = rng
                .normal_clamped(ch.baseline_sys, 9.0, 85.0, 200.0)
                .round() as i64;
            let dia = rng
                .normal_clamped(ch.baseline_dia, 6.0, 50.0, 125.0)
                .round()
                .min(sys as f64 - 20.0) as i64;
            set.push(bp(sys, dia));
            set.push(reading(
                "P",
                rng.normal_clamped(74.0, 10.0, 45.0, 125.0).round(),
            ));
            set.push(reading(
                "T",
                (rng.normal_clamped(98.2, 0.5, 96.5, 101.5) * 10.0).round() / 10.0,
            ));
            set.push(reading(
                "R",
                rng.normal_clamped(16.0, 2.0, 10.0, 26.0).round(),
            ));
            set.push(reading(
                "POX",
                rng.normal_clamped(96.5, 1.8, 86.0, 100.0).round(),
            ));
            if rng.chance(0.6) {
                set.push(reading(
                    "PN",
                    rng.weighted_index(&[50, 6, 8, 10, 8, 6, 5, 3, 2, 1, 1]) as f64,
                ));
            }
            if rng.chance(0.7) {
                let drift = (i as f64 - n_visits as f64 / 2.0) * 0.6;
                set.push(reading(
                    "WT",
                    ((ch.weight_lb + drift + rng.normal(0.0, 2.5)) * 10.0).round() / 10.0,
                ));
            }
            if i == 0 || rng.chance(0.12) {
                set.push(reading("HT", (ch.height_in * 2.0).round() / 2.0));
            }
            if ch.has_prefix("E11") && rng.chance(0.4) {
                set.push(reading(
                    "BG",
                    rng.normal_clamped(150.0, 40.0, 60.0, 400.0).round(),
                ));
            }
        }
        for r in set {
            let Some(&type_sid) = v.vital_type_sid.get(r.abbr) else {
                continue;
            };
            let sid = out.id(&c::VITAL_VITAL_SIGN);
            let taken = visit.when + Duration::minutes(rng.range(0, 12));
            let entered = taken + Duration::minutes(rng.range(1, 90));
            // Dirt: entered-in-error rows and invalid (implausible) readings.
            let eie = rng.chance(0.008);
            let invalid = !eie && rng.chance(0.004);
            let (result, numeric, sys, dia) = if invalid {
                match r.abbr {
                    "BP" => ("300/20".to_string(), None, Some(300), Some(20)),
                    _ => ("9999".to_string(), Some(9999.0), None, None),
                }
            } else {
                (r.result.clone(), r.numeric, r.sys, r.dia)
            };
            out.row(
                &c::VITAL_VITAL_SIGN,
                &[
                    Int(sid),
                    Int(p.sid),
                    Int(type_sid),
                    DateTime(taken),
                    DateTime(entered),
                    Text(result),
                    numeric.map_or(Null, Dec),
                    Value::opt_int(sys),
                    Value::opt_int(dia),
                    r.metric.map_or(Null, Dec),
                    Value::opt_int(visit.location_sid),
                    Int(visit.nurse),
                    Value::yn(invalid),
                    Value::yn(eie),
                    Int(visit.sta3n),
                    DateTime(entered),
                    if rng.chance(0.1) {
                        DateTime(entered + Duration::hours(rng.range(1, 48)))
                    } else {
                        Null
                    },
                ],
            )?;
            let quals: &[&str] = match r.abbr {
                "BP" => &["POSITION", "CUFF SIZE", "SITE"],
                "T" => &["SITE"],
                "POX" => &["METHOD"],
                _ => &[],
            };
            for q in quals {
                if let Some(list) = v.qualifiers.get(*q).filter(|l| !l.is_empty())
                    && rng.chance(0.8)
                {
                    let (qsid, _) = rng.pick(list);
                    out.row(
                        &c::VITAL_VITAL_SIGN_QUALIFIER,
                        &[
                            Int(out.id(&c::VITAL_VITAL_SIGN_QUALIFIER)),
                            Int(sid),
                            Int(*qsid),
                        ],
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn allergies(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    if v.allergens.is_empty() {
        return Ok(());
    }
    // About a third of veterans have no known allergies.
    let n = if rng.chance(0.33) {
        0
    } else {
        1 + rng.poisson(0.9).min(5) as usize
    };
    for idx in rng.sample_indices(v.allergens.len(), n) {
        let (allergen_sid, name, kind) = &v.allergens[idx];
        let sid = out.id(&c::ALLERGY_PATIENT_ALLERGY);
        let offset = rng.range(0, (ch.end.date() - ch.start).num_days().max(0));
        let origin = rand_time(rng, ch.start + Duration::days(offset), 8, 17);
        let site = if rng.chance(0.8) {
            p.sta3n
        } else {
            *rng.pick(&v.active_stations)
        };
        let observed = rng.chance(0.35);
        let severity = if kind == "DRUG" {
            rng.weighted_index(&[30, 50, 20])
        } else {
            rng.weighted_index(&[45, 40, 15])
        };
        // Dirt: local names keep the site's spelling, case and stray spaces.
        let local = match rng.below(4) {
            0 => format!("{}  ", name.trim().to_lowercase()),
            1 => name.trim().to_string(),
            _ => name.trim().to_uppercase(),
        };
        out.row(
            &c::ALLERGY_PATIENT_ALLERGY,
            &[
                Int(sid),
                Int(p.sid),
                Int(*allergen_sid),
                if rng.chance(0.05) {
                    Null
                } else {
                    Int(v.severities.get(severity).copied().unwrap_or(1))
                },
                Text(local),
                DateTime(origin),
                if observed {
                    DateTime(origin - Duration::days(rng.range(0, 30)))
                } else {
                    Null
                },
                Int(staff(v, rng, "PHYSICIAN", site)),
                Int(site),
                if rng.chance(0.2) {
                    Text(format!(
                        "Patient reports reaction to {} {} years ago.",
                        name.trim().to_lowercase(),
                        rng.range(1, 30)
                    ))
                } else {
                    Null
                },
                Str(if observed { "OBSERVED" } else { "HISTORICAL" }),
                Bool(!rng.chance(0.03)),
                Str(if rng.chance(0.85) {
                    "VERIFIED"
                } else {
                    "UNVERIFIED"
                }),
                Int(site),
                DateTime(origin),
                Null,
            ],
        )?;
        let n_react = 1 + rng.poisson(0.7).min(3) as usize;
        for r in rng.sample_indices(v.reactions.len(), n_react) {
            out.row(
                &c::ALLERGY_PATIENT_ALLERGY_REACTION,
                &[
                    Int(out.id(&c::ALLERGY_PATIENT_ALLERGY_REACTION)),
                    Int(sid),
                    Int(v.reactions[r]),
                ],
            )?;
        }
    }
    Ok(())
}

/// Drugs prescribed for a condition (ICD-10 prefix → generic names).
pub(crate) const THERAPY: &[(&str, &[&str])] = &[
    (
        "I10",
        &[
            "Lisinopril",
            "Amlodipine",
            "Hydrochlorothiazide",
            "Losartan",
        ],
    ),
    ("E78", &["Atorvastatin", "Simvastatin", "Rosuvastatin"]),
    (
        "E11",
        &[
            "Metformin",
            "Insulin Glargine",
            "Empagliflozin",
            "Glipizide",
        ],
    ),
    (
        "I50",
        &[
            "Furosemide",
            "Carvedilol",
            "Spironolactone",
            "Sacubitril/Valsartan",
        ],
    ),
    (
        "I48",
        &["Apixaban", "Warfarin", "Metoprolol Succinate", "Diltiazem"],
    ),
    (
        "I25",
        &[
            "Aspirin",
            "Clopidogrel",
            "Nitroglycerin",
            "Metoprolol Tartrate",
        ],
    ),
    ("I21", &["Aspirin", "Clopidogrel", "Atorvastatin"]),
    ("J44", &["Tiotropium", "Albuterol"]),
    ("J45", &["Albuterol", "Fluticasone"]),
    (
        "F32",
        &["Sertraline", "Bupropion", "Citalopram", "Fluoxetine"],
    ),
    (
        "F33",
        &["Sertraline", "Duloxetine", "Venlafaxine", "Trazodone"],
    ),
    ("F43", &["Sertraline", "Prazosin", "Trazodone"]),
    ("F41", &["Buspirone", "Escitalopram", "Hydroxyzine"]),
    ("G89", &["Gabapentin", "Duloxetine", "Naproxen"]),
    (
        "M54",
        &["Cyclobenzaprine", "Naproxen", "Gabapentin", "Meloxicam"],
    ),
    ("M17", &["Meloxicam", "Acetaminophen"]),
    ("M15", &["Acetaminophen", "Meloxicam"]),
    ("K21", &["Omeprazole", "Pantoprazole"]),
    ("N40", &["Tamsulosin", "Finasteride"]),
    ("E03", &["Levothyroxine"]),
    ("M10", &["Allopurinol", "Colchicine"]),
    ("F10", &["Naltrexone"]),
    ("F17", &["Varenicline", "Nicotine"]),
    ("N18", &["Sodium Bicarbonate", "Calcitriol"]),
    ("G47", &["Melatonin"]),
    ("I63", &["Clopidogrel", "Atorvastatin"]),
    ("G30", &["Donepezil", "Memantine"]),
];

fn sig_for(form: &str, rng: &mut Rng) -> (&'static str, &'static str, &'static str) {
    match form {
        "CAP" => (
            rng.choose(&[
                "TAKE ONE CAPSULE BY MOUTH DAILY",
                "TAKE ONE CAPSULE BY MOUTH TWICE A DAY",
            ]),
            "PO",
            "QD",
        ),
        "INJ" | "SOLN,INJ" => ("INJECT 20 UNITS UNDER THE SKIN AT BEDTIME", "SC", "QHS"),
        "INHL" | "INHALER" => (
            "INHALE 2 PUFFS BY MOUTH EVERY 4 HOURS AS NEEDED FOR SHORTNESS OF BREATH",
            "INHL",
            "Q4H PRN",
        ),
        "PATCH" => (
            "APPLY ONE PATCH TO SKIN DAILY, REMOVE OLD PATCH",
            "TOP",
            "QD",
        ),
        "SOLN" => ("TAKE 10 ML BY MOUTH TWICE A DAY", "PO", "BID"),
        _ => rng.choose(&[
            ("TAKE ONE TABLET BY MOUTH DAILY", "PO", "QD"),
            ("TAKE ONE TABLET BY MOUTH TWICE A DAY", "PO", "BID"),
            ("TAKE ONE TABLET BY MOUTH AT BEDTIME", "PO", "QHS"),
            ("TAKE ONE-HALF TABLET BY MOUTH DAILY", "PO", "QD"),
        ]),
    }
}

fn outpatient_meds(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &mut Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    let mut generics: Vec<(&str, NaiveDate)> = Vec::new();
    for cond in ch
        .conditions
        .iter()
        .filter(|c| c.status == ProblemStatus::Active)
    {
        for (prefix, drugs) in THERAPY {
            if cond.icd.starts_with(prefix) {
                let k = if drugs.len() > 1 && rng.chance(0.35) {
                    2
                } else {
                    1
                };
                for i in rng.sample_indices(drugs.len(), k) {
                    if !generics.iter().any(|(g, _)| *g == drugs[i]) {
                        generics.push((drugs[i], cond.onset.max(ch.start)));
                    }
                }
            }
        }
    }
    for m in &p.extras.meds {
        if !generics.iter().any(|(g, _)| g == m) {
            generics.push((m, ch.end.date() - Duration::days(400)));
        }
    }
    if rng.chance(0.15) {
        generics.push((
            rng.choose(&[
                "Amoxicillin",
                "Ciprofloxacin",
                "Prednisone",
                "Azithromycin",
                "Sulfamethoxazole/Trimethoprim",
            ]),
            ch.end.date() - Duration::days(rng.range(10, 700)),
        ));
    }
    for (generic, started) in generics {
        let Some(nat) = v.national_by_generic(generic) else {
            continue;
        };
        ch.meds.push(nat.sid);
        let Some(local) = v.local_for(nat.sid, p.sta3n).cloned() else {
            continue;
        };
        let acute =
            !THERAPY.iter().any(|(_, d)| d.contains(&generic)) && !p.extras.meds.contains(&generic);
        let controlled = nat.controlled;
        let days_supply = if acute {
            rng.choose(&[7, 10, 14])
        } else if controlled {
            30
        } else {
            rng.choose(&[30, 90, 90])
        };
        // A chronic medication is renewed yearly: one prescription per year, most recent last.
        let end = ch.end.date();
        let mut issue = started.max(end - Duration::days(if acute { 700 } else { 365 * 3 }));
        let mut chain = 0;
        loop {
            let rx_sid = out.id(&c::RX_OUT_RX_OUTPAT);
            let issue_dt = rand_time(rng, issue, 8, 17);
            let expires = issue
                + Duration::days(if controlled {
                    180
                } else if acute {
                    days_supply + 30
                } else {
                    365
                });
            let renewed = !acute && expires < end && chain < 6;
            let discontinued = !renewed && !acute && rng.chance(0.08);
            let disc_after = rng.range(10, 200);
            let disc_dt = discontinued
                .then(|| rand_time(rng, (issue + Duration::days(disc_after)).min(end), 8, 17));
            let status = if let Some(d) = disc_dt.filter(|d| d.date() <= end) {
                let _ = d;
                "DISCONTINUED"
            } else if expires <= end {
                "EXPIRED"
            } else if rng.chance(0.02) {
                "HOLD"
            } else {
                "ACTIVE"
            };
            // Schedule II drugs cannot be refilled; acute courses are not refilled.
            let refills = if acute || controlled {
                0
            } else {
                365 / days_supply - 1
            };
            let elapsed = (expires.min(end) - issue).num_days().max(0);
            let fills = ((elapsed / days_supply.max(1)) + 1).min(refills + 1);
            let qty = days_supply
                * if local.form == "TAB" && rng.chance(0.3) {
                    2
                } else {
                    1
                };
            let prescriber = staff(v, rng, "PHYSICIAN", p.sta3n);
            out.row(
                &c::RX_OUT_RX_OUTPAT,
                &[
                    Int(rx_sid),
                    Int(p.sid),
                    Int(local.sid),
                    // Dirt: RxOutpat's own national-drug pointer is sometimes stale.
                    Int(if rng.chance(0.05) {
                        v.national[rng.below(v.national.len() as u64) as usize].sid
                    } else {
                        nat.sid
                    }),
                    Text(format!("{}{:07}", p.sta3n % 10, rx_sid % 10_000_000)),
                    DateTime(issue_dt),
                    Int(prescriber),
                    Int(prescriber),
                    Text(format!(
                        "{} OUTPATIENT PHARMACY",
                        v.station_name(p.sta3n)
                            .split(") ")
                            .nth(1)
                            .unwrap_or("VA")
                            .to_uppercase()
                            .chars()
                            .take(60)
                            .collect::<String>()
                    )),
                    Str(status),
                    Str(if acute { "ACUTE" } else { "MAINTENANCE" }),
                    Dec(qty as f64),
                    Int(days_supply),
                    Int(refills),
                    Int((refills - fills + 1).max(0)),
                    Text(local.form.clone()),
                    DateTime(at(expires, 23, 59)),
                    Value::opt_dt(disc_dt),
                    if discontinued {
                        Str(rng.choose(&[
                            "PROVIDER DISCONTINUED",
                            "ADVERSE REACTION",
                            "DOSE CHANGE",
                            "PATIENT REQUEST",
                        ]))
                    } else {
                        Null
                    },
                    Text(
                        location(v, rng, p.sta3n, &["CLINIC", "PHARMACY"])
                            .map(|l| l.name.clone())
                            .unwrap_or_default(),
                    ),
                    Int(p.sta3n),
                    Value::yn(rng.chance(0.7)),
                    Value::yn(rng.chance(0.6)),
                ],
            )?;
            for f in 0..fills {
                let fill_day = issue + Duration::days(f * days_supply + rng.range(0, 5));
                if fill_day > end {
                    break;
                }
                out.row(
                    &c::RX_OUT_RX_OUTPAT_FILL,
                    &[
                        Int(out.id(&c::RX_OUT_RX_OUTPAT_FILL)),
                        Int(rx_sid),
                        Int(f),
                        DateTime(rand_time(rng, fill_day, 8, 18)),
                        Str(if rng.chance(0.97) {
                            "DISPENSED"
                        } else {
                            "SUSPENDED"
                        }),
                        Dec(qty as f64),
                        Int(days_supply),
                    ],
                )?;
            }
            let (sig, route, sched) = sig_for(&local.form, rng);
            out.row(
                &c::RX_OUT_RX_OUTPAT_SIG,
                &[
                    Int(out.id(&c::RX_OUT_RX_OUTPAT_SIG)),
                    Int(rx_sid),
                    Str(sig),
                    Str(route),
                    Str(sched),
                ],
            )?;
            // Dirt: a tapering order carries a second sig segment.
            if rng.chance(0.03) {
                out.row(
                    &c::RX_OUT_RX_OUTPAT_SIG,
                    &[
                        Int(out.id(&c::RX_OUT_RX_OUTPAT_SIG)),
                        Int(rx_sid),
                        Str("THEN TAKE ONE-HALF TABLET DAILY FOR 7 DAYS THEN STOP"),
                        Str(route),
                        Str("QD"),
                    ],
                )?;
            }
            if !renewed {
                break;
            }
            issue = expires - Duration::days(rng.range(0, 10));
            chain += 1;
        }
    }
    Ok(())
}

fn fmt_num(x: f64, decimals: u8) -> String {
    format!("{x:.prec$}", prec = decimals as usize)
}

fn labs(ctx: &Ctx<'_>, p: &Patient, ch: &Chart, rng: &mut Rng, out: &mut Out<'_>) -> Result<()> {
    let v = ctx.vocab;
    let diabetic = ch.has_prefix("E11");
    let ckd = ch.has_prefix("N18");
    let chf = ch.has_prefix("I50");
    let end = ch.end.date();
    let since = ch.start.max(end - Duration::days(3 * 365));
    let draws = ch
        .visits
        .iter()
        .filter(|vis| vis.when.date() >= since)
        .enumerate()
        .filter(|(i, _)| i % 3 == 0 || diabetic)
        .map(|(_, v)| v.clone())
        .take(8)
        .collect::<Vec<_>>();
    let n_draws = draws.len();
    for (k, visit) in draws.into_iter().enumerate() {
        let last = k + 1 == n_draws;
        let order = out.id(&c::CHEM_LAB_CHEM) + 5_000_000;
        let collected = visit.when - Duration::minutes(rng.range(20, 120));
        let resulted = collected + Duration::hours(rng.range(1, 30));
        let accession = format!(
            "CH {:02}{:02} {}",
            collected.month(),
            collected.day(),
            order % 10_000
        );
        let mut panels: Vec<&str> = vec![if rng.chance(0.5) { "CMP" } else { "BMP" }];
        if rng.chance(0.6) {
            panels.push("CBC");
        }
        if rng.chance(0.35) || k == 0 {
            panels.push("Lipid Panel");
        }
        if rng.chance(0.1) {
            panels.push("Urinalysis");
        }
        let mut singles: Vec<&str> = Vec::new();
        if diabetic {
            singles.push("Hemoglobin A1c");
        }
        if chf && rng.chance(0.6) {
            singles.push("BNP");
        }
        if ch.has_prefix("E03") {
            singles.push("TSH");
        }
        if p.sex == 'M' && p.age_on(end) > 50 && rng.chance(0.3) {
            singles.push("PSA");
        }
        for test in &v.labs {
            if !test.active {
                continue;
            }
            let in_panel = test.panel.as_deref().is_some_and(|pn| {
                panels.iter().any(|x| pn.eq_ignore_ascii_case(x))
                    || (pn.eq_ignore_ascii_case("BMP") && panels.contains(&"CMP"))
            });
            let single = test.panel.is_none()
                && singles.iter().any(|s| {
                    test.name.to_lowercase().contains(&s.to_lowercase())
                        || s.to_lowercase().contains(&test.name.to_lowercase())
                });
            if !(in_panel || single) {
                continue;
            }
            let (result, numeric, flag) =
                lab_value(test, diabetic, ckd, p.extras.critical_labs && last, rng);
            let sid = out.id(&c::CHEM_LAB_CHEM);
            let ref_range = match (test.low, test.high) {
                (Some(lo), Some(hi)) => Text(format!(
                    "{} - {}",
                    fmt_num(lo, test.decimals),
                    fmt_num(hi, test.decimals)
                )),
                _ => test.ref_text.clone().map_or(Null, Text),
            };
            out.row(
                &c::CHEM_LAB_CHEM,
                &[
                    Int(sid),
                    Int(p.sid),
                    Int(test.sid),
                    Int(order),
                    Text(accession.clone()),
                    Text(result),
                    numeric.map_or(Null, Dec),
                    test.units.clone().map_or(Null, Text),
                    flag.map_or(Null, Text),
                    ref_range,
                    DateTime(collected),
                    DateTime(resulted),
                    Text(test.package.clone()),
                    Value::opt_int(location(v, rng, visit.sta3n, &["LAB"]).map(|l| l.sid)),
                    Int(visit.sta3n),
                    Int(visit.sta3n),
                    Int(visit.provider),
                    Str(if test.panel.as_deref() == Some("Urinalysis") {
                        "URINE"
                    } else if test.panel.as_deref() == Some("CBC") {
                        "BLOOD"
                    } else {
                        "SERUM"
                    }),
                ],
            )?;
        }
    }
    Ok(())
}

/// A result value with the flag a VistA lab package would print, in one of
/// the spellings seen across sites (the ETL normalises them).
fn lab_value(
    t: &super::vocab::LabTest,
    diabetic: bool,
    ckd: bool,
    critical: bool,
    rng: &mut Rng,
) -> (String, Option<f64>, Option<String>) {
    let (Some(mean), Some(sd)) = (t.mean, t.sd) else {
        let r = if rng.chance(0.9) {
            "Negative"
        } else {
            rng.choose(&["Trace", "1+", "Positive"])
        };
        let flag =
            (r != "Negative").then(|| if r == "Trace" { "A" } else { "ABNORMAL" }.to_string());
        return (r.to_string(), None, flag);
    };
    let name = t.name.to_lowercase();
    let mut m = mean;
    if diabetic && (name.contains("a1c") || name.contains("glucose")) {
        m *= 1.35;
    }
    if ckd && (name.contains("creatinine") || name.contains("bun")) {
        m *= 1.9;
    }
    let mut x = rng.normal(m, sd).max(0.0);
    if critical {
        x = match (t.crit_low, t.crit_high) {
            (_, Some(h))
                if name.contains("potassium") || name.contains("glucose") || rng.chance(0.5) =>
            {
                h * 1.1
            }
            (Some(l), _) => l * 0.85,
            (_, Some(h)) => h * 1.1,
            _ => x,
        };
    }
    let factor = 10f64.powi(t.decimals as i32);
    x = (x * factor).round() / factor;
    let crit_hi = t.crit_high.is_some_and(|h| x >= h);
    let crit_lo = t.crit_low.is_some_and(|l| x <= l);
    let hi = t.high.is_some_and(|h| x > h);
    let lo = t.low.is_some_and(|l| x < l);
    // Sites spell critical values several ways (H*, HH, HIGH, PANIC); the
    // spelled-out words only ever mark critical values, as the ETL's flag
    // rule (reference §2.4) assumes. (`CRITICAL HIGH` does not fit the
    // VARCHAR(10) column.)
    let flag = if crit_hi {
        Some(rng.choose(&["H*", "HH", "HIGH", "PANIC"]).to_string())
    } else if crit_lo {
        Some(rng.choose(&["L*", "LL", "LOW", "L*"]).to_string())
    } else if hi {
        Some(rng.choose(&["H", "H", "H", "H", "h "]).to_string())
    } else if lo {
        Some(rng.choose(&["L", "L", "L", "L", " l"]).to_string())
    } else {
        None
    };
    // Dirt: results below/above the assay's reportable range are text.
    if name.contains("psa") && x < 0.1 {
        return ("<0.1".to_string(), None, flag);
    }
    if name.contains("bnp") && x > 5000.0 {
        return (">5000".to_string(), None, flag);
    }
    (fmt_num(x, t.decimals), Some(x), flag)
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
fn fill_template(
    body: &str,
    p: &Patient,
    ch: &Chart,
    ctx: &Ctx<'_>,
    when: NaiveDateTime,
    author: &str,
    facility: &str,
    rng: &mut Rng,
) -> String {
    let v = ctx.vocab;
    let active: Vec<&Condition> = ch
        .conditions
        .iter()
        .filter(|c| c.status == ProblemStatus::Active)
        .collect();
    let problem = |i: usize| {
        active
            .get(i)
            .and_then(|c| v.icd(&c.icd))
            .map(|icd| icd.description.clone())
            .unwrap_or_else(|| "health maintenance".to_string())
    };
    let med = |i: usize| {
        ch.meds
            .get(i)
            .and_then(|sid| v.national.iter().find(|d| d.sid == *sid))
            .map(|d| d.generic.clone())
            .unwrap_or_else(|| "no chronic medications".to_string())
    };
    let mut s = body.to_string();
    let subs: [(&str, String); 16] = [
        ("{age}", p.age_on(when.date()).to_string()),
        (
            "{sex}",
            if p.sex == 'M' { "male" } else { "female" }.to_string(),
        ),
        ("{problem_1}", problem(0)),
        ("{problem_2}", problem(1)),
        ("{med_1}", med(0)),
        ("{med_2}", med(1)),
        (
            "{bp}",
            format!(
                "{}/{}",
                rng.normal_clamped(ch.baseline_sys, 8.0, 95.0, 190.0)
                    .round(),
                rng.normal_clamped(ch.baseline_dia, 5.0, 55.0, 115.0)
                    .round()
            ),
        ),
        ("{pulse}", format!("{}", rng.range(58, 96))),
        (
            "{temp}",
            format!("{:.1}", rng.normal_clamped(98.2, 0.4, 97.0, 99.5)),
        ),
        ("{weight_lb}", format!("{:.0}", ch.weight_lb)),
        (
            "{a1c}",
            format!(
                "{:.1}",
                if ch.has_prefix("E11") {
                    rng.uniform(6.6, 9.8)
                } else {
                    rng.uniform(4.8, 5.7)
                }
            ),
        ),
        ("{ldl}", format!("{}", rng.range(62, 165))),
        ("{facility}", facility.to_string()),
        ("{author}", author.to_string()),
        ("{date}", when.format("%m/%d/%Y").to_string()),
        (
            "{followup_weeks}",
            rng.choose(&["2", "4", "6", "12", "26"]).to_string(),
        ),
    ];
    for (k, val) in subs {
        if s.contains(k) {
            s = s.replace(k, &val);
        }
    }
    s
}

#[allow(clippy::too_many_arguments)] // the note's full provenance, all required
fn write_note(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
    title: &str,
    when: NaiveDateTime,
    sta3n: i64,
    author: i64,
    visit_sid: i64,
    status: &'static str,
) -> Result<Option<i64>> {
    let v = ctx.vocab;
    let Some((def_sid, def_title, _)) = v.tiu_by_title(title) else {
        return Ok(None);
    };
    let bodies = v.templates.get(&def_title.trim().to_uppercase());
    let author_name = v.staff_name.get(&author).cloned().unwrap_or_default();
    let facility = v.station_name(sta3n);
    let text = match bodies {
        Some(b) if !b.is_empty() => fill_template(
            &rng.pick(b).clone(),
            p,
            ch,
            ctx,
            when,
            &author_name,
            &facility,
            rng,
        ),
        _ => format!("{def_title}\n\nSee encounter {visit_sid}."),
    };
    let sid = out.id(&c::TIU_TIU_DOCUMENT_8925);
    let entry = when + Duration::minutes(rng.range(5, 240));
    let cosigner = rng.chance(0.2).then(|| staff(v, rng, "PHYSICIAN", sta3n));
    out.row(
        &c::TIU_TIU_DOCUMENT_8925,
        &[
            Int(sid),
            Int(p.sid),
            Int(*def_sid),
            DateTime(when),
            DateTime(entry),
            Str(status),
            Int(author),
            Value::opt_int(cosigner),
            Int(visit_sid),
            Int(sta3n),
            Text(format!("{}", 9_000_000 + sid)),
            DateTime(entry),
            if status == "AMENDED" {
                DateTime(entry + Duration::days(rng.range(1, 20)))
            } else {
                Null
            },
        ],
    )?;
    // Dirt: a few documents never had their text extracted.
    if !rng.chance(0.02) {
        let len = text.chars().count() as i64;
        out.row(
            &c::TIU_TIU_DOCUMENT_TEXT,
            &[
                Int(sid),
                Text(text),
                if rng.chance(0.1) { Null } else { Int(len) },
            ],
        )?;
    }
    Ok(Some(sid))
}

fn notes(ctx: &Ctx<'_>, p: &Patient, ch: &Chart, rng: &mut Rng, out: &mut Out<'_>) -> Result<()> {
    let mental = ch.has_prefix("F3") || ch.has_prefix("F4");
    for visit in &ch.visits {
        if !rng.chance(0.3) {
            continue;
        }
        let title = match rng.below(10) {
            0 if mental => "MENTAL HEALTH NOTE",
            1 => "NURSING NOTE",
            2 if ch.has_prefix("I") => "CARDIOLOGY CONSULT",
            3 => "PHARMACY NOTE",
            4 if rng.chance(0.3) => "CHEST X-RAY REPORT",
            5 if rng.chance(0.3) => "SOCIAL WORK NOTE",
            6 if rng.chance(0.2) => "PHYSICAL THERAPY CONSULT",
            _ => "PRIMARY CARE NOTE",
        };
        let status = match rng.below(50) {
            0 => "UNSIGNED",
            1 => "AMENDED",
            2 => "RETRACTED",
            _ => "COMPLETED",
        };
        let author = if title == "NURSING NOTE" {
            visit.nurse
        } else {
            visit.provider
        };
        write_note(
            ctx,
            p,
            ch,
            rng,
            out,
            title,
            visit.when + Duration::minutes(30),
            visit.sta3n,
            author,
            visit.visit_sid,
            status,
        )?;
    }
    if p.extras.suicide_flag
        && let Some(last) = ch.visits.last()
    {
        write_note(
            ctx,
            p,
            ch,
            rng,
            out,
            "SUICIDE PREVENTION SAFETY PLAN",
            last.when + Duration::minutes(45),
            last.sta3n,
            last.provider,
            last.visit_sid,
            "COMPLETED",
        )?;
    }
    Ok(())
}

struct Shot {
    cvx: &'static str,
    when: NaiveDate,
    series: String,
}

fn immunizations(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    let end = ch.end.date();
    let age = p.age_on(end);
    let mut shots: Vec<Shot> = Vec::new();
    // Seasonal influenza: most seasons for most patients.
    let flu_cvx = ["88", "140", "141", "150", "158", "197", "205", "185", "171"];
    for y in (ch.start.year()..=end.year()).rev().take(8) {
        let day =
            NaiveDate::from_ymd_opt(y, 10, 1).expect("valid") + Duration::days(rng.range(0, 75));
        if day >= ch.start && day <= end && rng.chance(0.62) {
            let cvx = if age >= 65 {
                "197"
            } else {
                flu_cvx[rng.below(flu_cvx.len() as u64) as usize]
            };
            shots.push(Shot {
                cvx,
                when: day,
                series: format!("ANNUAL {y}"),
            });
        }
    }
    let first_covid =
        NaiveDate::from_ymd_opt(2021, 1, 10).expect("valid") + Duration::days(rng.range(0, 150));
    if first_covid >= ch.start && first_covid <= end && rng.chance(0.7) {
        let cvx = if rng.chance(0.6) { "208" } else { "207" };
        shots.push(Shot {
            cvx,
            when: first_covid,
            series: "1 of 2".into(),
        });
        if rng.chance(0.9) {
            shots.push(Shot {
                cvx,
                when: first_covid + Duration::days(if cvx == "208" { 21 } else { 28 }),
                series: rng.choose(&["2 of 2", "2 OF 2", "COMPLETE"]).to_string(),
            });
        }
        let booster = first_covid + Duration::days(rng.range(240, 420));
        if booster <= end && rng.chance(0.6) {
            shots.push(Shot {
                cvx: "213",
                when: booster,
                series: "BOOSTER".into(),
            });
        }
    }
    if rng.chance(0.5) {
        let d = ch.start + Duration::days(rng.range(0, (end - ch.start).num_days().max(0)));
        shots.push(Shot {
            cvx: "115",
            when: d,
            series: rng.choose(&["1 of 1", "1", "BOOSTER"]).to_string(),
        });
    }
    if age >= 65 && rng.chance(0.6) {
        let d = (p.dob + Duration::days(365 * 65 + rng.range(0, 900))).clamp(ch.start, end);
        shots.push(Shot {
            cvx: rng.choose(&["33", "216", "133"]),
            when: d,
            series: rng.choose(&["1 of 1", "COMPLETE"]).to_string(),
        });
    }
    if age >= 50 && rng.chance(0.45) {
        let d = ch.start.max(end - Duration::days(rng.range(60, 1500)));
        shots.push(Shot {
            cvx: "187",
            when: d,
            series: "1 of 2".into(),
        });
        let d2 = d + Duration::days(rng.range(60, 180));
        if d2 <= end && rng.chance(0.7) {
            shots.push(Shot {
                cvx: "187",
                when: d2,
                series: "2 of 2".into(),
            });
        }
    }
    if rng.chance(0.12) {
        let d = ch.start + Duration::days(rng.range(0, (end - ch.start).num_days().max(0)));
        for (i, s) in ["1 of 3", "2 of 3", "3 of 3"].iter().enumerate() {
            let di = d + Duration::days(30 * i as i64 + if i == 2 { 150 } else { 0 });
            if di <= end && (i == 0 || rng.chance(0.8)) {
                shots.push(Shot {
                    cvx: "43",
                    when: di,
                    series: s.to_string(),
                });
            }
        }
    }
    if p.extras.dual_source_immunization {
        // The same flu shot recorded by VistA and by the Cerner site on one day.
        shots.push(Shot {
            cvx: "88",
            when: end - Duration::days(40),
            series: "ANNUAL".into(),
        });
    }
    shots.sort_by_key(|s| s.when);
    for s in shots {
        let Some(vac) = v.vaccines.get(s.cvx) else {
            continue;
        };
        let sta3n = if rng.chance(0.9) {
            p.sta3n
        } else {
            *rng.pick(&v.active_stations)
        };
        let when = rand_time(rng, s.when, 8, 16);
        let site = rng.choose(&[
            "L DELTOID",
            "LT DELTOID",
            "LEFT DELTOID",
            "R DELTOID",
            "RIGHT DELTOID",
            "RT ARM",
            "left deltoid",
        ]);
        let sid = out.id(&c::IMMUNIZATION_PATIENT_IMMUNIZATION);
        let nurse = staff(v, rng, "NURSE", sta3n);
        out.row(
            &c::IMMUNIZATION_PATIENT_IMMUNIZATION,
            &[
                Int(sid),
                Int(p.sid),
                Int(vac.sid),
                Int(out.visit_id()),
                DateTime(when),
                Text(s.series),
                Str(if rng.chance(0.9) { "0.5 ML" } else { "0.5 mL" }),
                Str(rng.choose(&["INTRAMUSCULAR", "IM", "INTRAMUSCULAR"])),
                Str(site),
                if rng.chance(0.03) {
                    Str(rng.choose(&["SORE ARM", "FEVER", "LOCAL SWELLING", "FATIGUE"]))
                } else {
                    Null
                },
                Int(staff(v, rng, "PHYSICIAN", sta3n)),
                Int(nurse),
                Value::opt_int(location(v, rng, sta3n, &["CLINIC"]).map(|l| l.sid)),
                Int(sta3n),
                Text(format!(
                    "{}{:05}",
                    ["EK", "FL", "AB", "UJ", "TX"][rng.below(5) as usize],
                    rng.range(1000, 99999)
                )),
                Null,
                Bool(!rng.chance(0.01)),
                DateTime(when),
                Null,
            ],
        )?;
    }
    Ok(())
}

fn inpatient(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    let end = ch.end;
    let mut stays: Vec<(NaiveDateTime, i64, bool)> = Vec::new();
    let base = if ch.conditions.len() > 4 { 0.35 } else { 0.12 };
    if rng.chance(base) {
        for _ in 0..1 + rng.poisson(0.4).min(3) {
            let day =
                ch.start + Duration::days(rng.range(0, (end.date() - ch.start).num_days().max(1)));
            stays.push((
                rand_time(rng, day, 0, 23),
                rng.poisson(3.5) as i64 + 1,
                false,
            ));
        }
    }
    if p.extras.end_of_life
        && let Some(death) = p.death
    {
        stays.push((death - Duration::days(9) - Duration::hours(5), 9, true));
    } else if rng.chance(0.008) && p.death.is_none() {
        // A patient currently admitted (no discharge yet).
        stays.push((end - Duration::days(rng.range(1, 6)), -1, false));
    }
    stays.sort_by_key(|s| s.0);
    for (admit, los, terminal) in stays {
        let active = los < 0;
        let discharge = (!active)
            .then(|| (admit + Duration::days(los) + Duration::hours(rng.range(-3, 6))).min(end));
        if discharge.is_some_and(|d| d < admit) {
            continue;
        }
        let sta3n = p.sta3n;
        let ward = location(v, rng, sta3n, &["WARD"]);
        let active_conds: Vec<&Condition> = ch
            .conditions
            .iter()
            .filter(|c| c.status == ProblemStatus::Active)
            .collect();
        let dx: (String, String) = if terminal {
            ("Z51.5".into(), "ENCOUNTER FOR PALLIATIVE CARE".into())
        } else if !active_conds.is_empty() && rng.chance(0.5) {
            let c0 = rng.pick(&active_conds);
            let d = v
                .icd(&c0.icd)
                .map(|i| i.description.to_uppercase())
                .unwrap_or_default();
            (c0.icd.clone(), d)
        } else {
            let (a, b) = rng.choose(&[
                ("J18.9", "PNEUMONIA, UNSPECIFIED ORGANISM"),
                ("N39.0", "URINARY TRACT INFECTION"),
                ("A41.9", "SEPSIS, UNSPECIFIED ORGANISM"),
                ("J44.1", "COPD WITH ACUTE EXACERBATION"),
                ("I50.9", "HEART FAILURE, UNSPECIFIED"),
                ("K92.2", "GASTROINTESTINAL HEMORRHAGE"),
                ("R07.9", "CHEST PAIN, UNSPECIFIED"),
            ]);
            (a.to_string(), b.to_string())
        };
        let sid = out.id(&c::INPAT_INPATIENT);
        let los_days = discharge.map(|d| (d.date() - admit.date()).num_days());
        let provider = staff(v, rng, "PHYSICIAN", sta3n);
        out.row(
            &c::INPAT_INPATIENT,
            &[
                Int(sid),
                Int(p.sid),
                DateTime(admit),
                Value::opt_int(location(v, rng, sta3n, &["EMERGENCY", "WARD"]).map(|l| l.sid)),
                Int(provider),
                Text(dx.0.clone()),
                Value::opt_dt(discharge),
                discharge.map_or(Null, |d| {
                    Int(d.year() as i64 * 10000 + d.month() as i64 * 100 + d.day() as i64)
                }),
                Value::opt_int(ward.map(|l| l.sid)),
                if active { Null } else { Text(dx.0.clone()) },
                if active {
                    Null
                } else {
                    Text(dx.1.chars().take(100).collect())
                },
                if active {
                    Null
                } else if terminal {
                    Str("DECEASED")
                } else {
                    Str(rng.choose(&[
                        "HOME",
                        "HOME",
                        "HOME",
                        "HOME WITH SERVICES",
                        "SKILLED NURSING FACILITY",
                        "AGAINST MEDICAL ADVICE",
                    ]))
                },
                Value::opt_int(los_days),
                Str(if active { "Active" } else { "Discharged" }),
                Int(sta3n),
            ],
        )?;
        if terminal {
            let death = p.death.expect("terminal stays belong to deceased personas");
            write_note(
                ctx,
                p,
                ch,
                rng,
                out,
                "PALLIATIVE CARE NOTE",
                admit + Duration::hours(20),
                sta3n,
                provider,
                out.visit_id(),
                "COMPLETED",
            )?;
            write_note(
                ctx,
                p,
                ch,
                rng,
                out,
                "DEATH NOTE",
                death + Duration::minutes(40),
                sta3n,
                provider,
                out.visit_id(),
                "COMPLETED",
            )?;
        } else if let Some(d) = discharge {
            write_note(
                ctx,
                p,
                ch,
                rng,
                out,
                "DISCHARGE SUMMARY",
                d + Duration::hours(2),
                sta3n,
                provider,
                out.visit_id(),
                "COMPLETED",
            )?;
        }
        bcma(
            ctx,
            p,
            ch,
            rng,
            out,
            sid,
            admit,
            discharge.unwrap_or(end),
            ward.map(|w| w.name.clone()).unwrap_or_default(),
            sta3n,
            provider,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn bcma(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
    inpatient_sid: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    ward: String,
    sta3n: i64,
    orderer: i64,
) -> Result<()> {
    let v = ctx.vocab;
    let mut drugs: Vec<i64> = ch.meds.iter().take(2).copied().collect();
    let mut inpatient_only = vec!["Heparin", "Ondansetron", "Acetaminophen"];
    if p.extras.controlled {
        inpatient_only.insert(0, "Morphine");
    }
    for g in inpatient_only.iter().take(2) {
        if let Some(n) = v.national_by_generic(g) {
            drugs.push(n.sid);
        }
    }
    for nat in drugs {
        let Some(local) = v.local_for(nat, sta3n) else {
            continue;
        };
        let every = if rng.chance(0.5) { 12 } else { 24 };
        let order = format!("{}", 7_000_000 + out.id(&c::BCMA_BCMA_MEDICATION_LOG));
        let mut t = from + Duration::hours(2);
        let mut n = 0;
        while t < to && n < 20 {
            let (action, status, variance) = match rng.below(40) {
                0 => ("HELD", "HELD", Some("HELD - PATIENT NPO")),
                1 => ("REFUSED", "REFUSED", Some("PATIENT REFUSED")),
                2 => (
                    "MISSING DOSE",
                    "MISSING",
                    Some("DOSE NOT AVAILABLE ON UNIT"),
                ),
                3 => ("GIVEN", "COMPLETED", Some("LATE ADMINISTRATION")),
                _ => ("GIVEN", "COMPLETED", None),
            };
            let iv = local.form.contains("INJ") && rng.chance(0.5);
            out.row(
                &c::BCMA_BCMA_MEDICATION_LOG,
                &[
                    Int(out.id(&c::BCMA_BCMA_MEDICATION_LOG)),
                    Int(p.sid),
                    Int(inpatient_sid),
                    // Dirt: mixed case action words from different BCMA versions.
                    Str(if rng.chance(0.05) { "Given" } else { action }),
                    Str(status),
                    DateTime(t + Duration::minutes(rng.range(-20, 50))),
                    DateTime(t),
                    DateTime(from + Duration::minutes(45)),
                    Int(staff(v, rng, "NURSE", sta3n)),
                    Int(orderer),
                    Int(local.sid),
                    Text(order.clone()),
                    Text(local.name_with_dose.trim().chars().take(100).collect()),
                    Text(local.name_with_dose.trim().chars().take(100).collect()),
                    Str(if iv { "IV" } else { "PO" }),
                    Text(local.form.clone()),
                    Str("CONTINUOUS"),
                    Str(if every == 12 { "Q12H" } else { "QDAY" }),
                    Text(ward.chars().take(100).collect()),
                    Value::yn(variance.is_some()),
                    if variance.is_some() {
                        Str(action)
                    } else {
                        Null
                    },
                    Value::opt_str(variance),
                    Value::yn(iv),
                    if iv { Str("PIGGYBACK") } else { Null },
                    if iv { Str("100 ML/HR") } else { Null },
                    Int(sta3n),
                ],
            )?;
            t += Duration::hours(every);
            n += 1;
        }
    }
    Ok(())
}

fn flags(ctx: &Ctx<'_>, p: &Patient, ch: &Chart, rng: &mut Rng, out: &mut Out<'_>) -> Result<()> {
    let v = ctx.vocab;
    let mut names: Vec<String> = p.extras.flags.iter().map(|s| s.to_string()).collect();
    if p.extras.suicide_flag {
        names.insert(0, "HIGH RISK FOR SUICIDE".into());
    }
    if names.is_empty() && rng.chance(0.04) && !v.flags.is_empty() {
        let weights: Vec<u32> = v
            .flags
            .iter()
            .map(|f| if f.name.contains("SUICIDE") { 2 } else { 10 })
            .collect();
        names.push(v.flags[rng.weighted_index(&weights)].name.clone());
    }
    let end = ch.end;
    for name in names {
        let Some(f) = v.flag(&name).cloned() else {
            continue;
        };
        let assignment_sid = out.id(&c::S_PATIENT_PATIENT_RECORD_FLAG_ASSIGNMENT);
        let assigned = if p.extras.suicide_flag && name.contains("SUICIDE") {
            end - Duration::days(200)
        } else {
            {
                let offset = rng.range(0, (end.date() - ch.start).num_days().max(1));
                rand_time(rng, ch.start + Duration::days(offset), 8, 17)
            }
        };
        let review = f.review_days.unwrap_or(0);
        let mut events: Vec<(NaiveDateTime, i64, &str)> = vec![(assigned, 1, "NEW ASSIGNMENT")];
        if review > 0 {
            let mut t = assigned + Duration::days(review - rng.range(0, 10));
            while t < end && events.len() < 8 {
                events.push((t, 2, "CONTINUE"));
                t += Duration::days(review - rng.range(0, 10));
            }
        }
        let inactivated =
            !p.extras.suicide_flag && !p.extras.flags.contains(&name.as_str()) && rng.chance(0.2);
        if inactivated {
            let t =
                (events.last().expect("one event").0 + Duration::days(rng.range(10, 120))).min(end);
            events.push((t, 3, "INACTIVATE"));
        }
        let last_review = events
            .iter()
            .rev()
            .find(|e| e.1 <= 2)
            .map(|e| e.0)
            .unwrap_or(assigned);
        let next_review =
            (review > 0 && !inactivated).then(|| last_review + Duration::days(review));
        let owner = p.sta3n.to_string();
        out.row(
            &c::S_PATIENT_PATIENT_RECORD_FLAG_ASSIGNMENT,
            &[
                Int(assignment_sid),
                Int(p.sid),
                Int(f.sid),
                Text(f.name.clone()),
                Text(f.category.clone()),
                Text(f.source_type.clone()),
                Value::opt_int(f.national_ien),
                Value::opt_int(f.local_ien),
                Bool(!inactivated),
                Str(if inactivated { "INACTIVE" } else { "ACTIVE" }),
                DateTime(assigned),
                if inactivated {
                    DateTime(events.last().expect("event").0)
                } else {
                    Null
                },
                Text(owner.clone()),
                Text(owner.clone()),
                Text(owner.clone()),
                Value::opt_int(f.review_days),
                Value::opt_int(f.notify_days),
                DateTime(last_review),
                Value::opt_dt(next_review),
                DateTime(assigned),
                DateTime(events.last().expect("event").0),
            ],
        )?;
        for (when, code, action) in events {
            let who = staff(v, rng, "PHYSICIAN", p.sta3n);
            let approver = staff(v, rng, "PHYSICIAN", p.sta3n);
            let comment = flag_narrative(&f.name, code, rng);
            out.row(
                &c::S_PATIENT_PATIENT_RECORD_FLAG_HISTORY,
                &[
                    Int(out.id(&c::S_PATIENT_PATIENT_RECORD_FLAG_HISTORY)),
                    Int(assignment_sid),
                    Int(p.sid),
                    DateTime(when),
                    Int(code),
                    Str(action),
                    Int(who),
                    opt(v.staff_name.get(&who).map(String::as_str).unwrap_or("")),
                    Int(approver),
                    opt(v
                        .staff_name
                        .get(&approver)
                        .map(String::as_str)
                        .unwrap_or("")),
                    Int(rng.range(100_000, 999_999)),
                    Text(comment),
                    Text(owner.clone()),
                    DateTime(when),
                ],
            )?;
        }
    }
    Ok(())
}

fn flag_narrative(flag: &str, code: i64, rng: &mut Rng) -> String {
    let f = flag.to_uppercase();
    if f.contains("SUICIDE") {
        return match code {
            1 => "Flag placed after emergency department visit for suicidal ideation with a plan. Safety plan completed with the patient; lethal means counselling done and firearms stored off-site with family. Suicide Prevention Coordinator assigned; weekly contact for the first month.".into(),
            2 => rng.choose(&[
                "Reviewed with the Suicide Prevention Coordinator. Patient engaged in weekly therapy and reports fewer intrusive thoughts, but risk factors persist (recent divorce, chronic pain). Flag continued for another review period.",
                "Flag review: missed two mental health appointments this period; outreach completed by phone and safety plan re-reviewed. Continue flag.",
            ]).to_string(),
            _ => "Flag inactivated after clinical review: sustained engagement in care and no suicidal behaviour for over a year.".into(),
        };
    }
    match code {
        1 => format!("{f} flag assigned after clinical review."),
        2 => format!("{f} flag reviewed; criteria still met, flag continued."),
        3 => format!("{f} flag inactivated; criteria no longer met."),
        _ => format!("{f} flag updated."),
    }
}

fn family_history(
    ctx: &Ctx<'_>,
    p: &Patient,
    ch: &Chart,
    rng: &mut Rng,
    out: &mut Out<'_>,
) -> Result<()> {
    let v = ctx.vocab;
    if v.rel.is_empty() || v.fam_cond.is_empty() || !rng.chance(0.35) {
        return Ok(());
    }
    for _ in 0..1 + rng.poisson(0.6).min(3) {
        let (rel_sid, rel_code, _) = rng.pick(&v.rel).clone();
        let (cond_sid, _) = rng.pick(&v.fam_cond).clone();
        let code = rel_code.to_uppercase();
        let gender = if [
            "MOTHER",
            "SISTER",
            "DAUGHTER",
            "GRANDMOTHER",
            "AUNT",
            "NIECE",
        ]
        .iter()
        .any(|g| code.contains(g))
        {
            "F"
        } else if code.contains("COUSIN") {
            "U"
        } else {
            "M"
        };
        let offset = rng.range(0, (ch.end.date() - ch.start).num_days().max(1));
        let recorded = rand_time(rng, ch.start + Duration::days(offset), 8, 17);
        let provider = staff(v, rng, "PHYSICIAN", p.sta3n);
        out.row(
            &c::OUTPAT_FAMILY_HISTORY,
            &[
                Int(out.id(&c::OUTPAT_FAMILY_HISTORY) + 1000),
                Int(p.sid),
                Text(p.icn.clone()),
                Int(p.sta3n),
                Int(rel_sid),
                Int(cond_sid),
                Str(gender),
                if rng.chance(0.2) {
                    Null
                } else {
                    Int(rng.range(35, 80))
                },
                Value::yn(rng.chance(0.4)),
                Str(rng.choose(&["ACTIVE", "ACTIVE", "RESOLVED", "active"])),
                DateTime(recorded),
                DateTime(recorded + Duration::minutes(rng.range(1, 120))),
                Int(provider),
                Value::opt_int(location(v, rng, p.sta3n, &["CLINIC"]).map(|l| l.sid)),
                if rng.chance(0.3) {
                    Str("Reported by patient during annual review.")
                } else {
                    Null
                },
                Value::yn(!rng.chance(0.05)),
                DateTime(recorded),
            ],
        )?;
    }
    Ok(())
}
