//! The RPCs, shared by both transports.
//!
//! Two families answer on the same names where they overlap:
//! - the med-z1 ("seed") RPCs take an **ICN** as their first parameter and
//!   answer in the original simulator's line layouts: `ORWPT PTINQ`,
//!   `GMV LATEST VM`, `ORWCV ADMISSIONS`, `ORQQAL LIST`, `ORWPS COVER`,
//!   `ORQQPL LIST`;
//! - the real CPRS RPCs take a **DFN** and answer in real VistA layouts:
//!   `ORWPT SELECT`, `ORWPT LIST ALL`, `ORWPT ADMITLST`, `ORQQVI VITALS`,
//!   `ORQQAL LIST`, `ORWPS COVER`, `ORQQPL LIST` (and `ORWPT PTINQ`,
//!   `GMV LATEST VM` as display text).
//!
//! A first parameter of digits only is a DFN; anything else is taken as an
//! ICN. An ICN resolves to **every** DFN the patient has at the site.
//!
//! Free-text values are escaped so they can never break a line into extra
//! pieces or lines ([`escape`], from `domain::pieces`; clients undo it
//! with [`unescape`]).

use crate::data::{Allergy, Encounter, Medication, Patient, Problem, Site, Vital, World};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use domain::fileman::{FileManValue, parse_fileman, resolve_t_notation, to_fileman_date};
pub use domain::pieces::{escape, unescape};

/// An RPC parameter (HTTP JSON values become `Text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    List(Vec<(String, String)>),
}

impl Arg {
    pub fn text(&self) -> Option<&str> {
        match self {
            Arg::Text(t) => Some(t),
            Arg::List(_) => None,
        }
    }
}

/// An RPC's answer, by VistA return type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A single value.
    Single(String),
    /// An array (one element per line).
    Array(Vec<String>),
    /// A global array / word-processing text (display lines).
    Text(Vec<String>),
}

impl Reply {
    /// The lines, as the HTTP API returns them (`\n`-joined).
    pub fn joined(&self) -> String {
        match self {
            Reply::Single(s) => s.clone(),
            Reply::Array(l) | Reply::Text(l) => l.join("\n"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("RPC '{name}' not registered. Available RPCs: {available}")]
    Unknown { name: String, available: String },
    /// Bad parameters: the original's `Execution failed: …`.
    #[error("Execution failed: {0}")]
    Failed(String),
}

/// What a call runs against.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub site: &'a Site,
    pub today: NaiveDate,
}

/// Every RPC name this module answers, sorted.
pub const NAMES: [&str; 10] = [
    "GMV LATEST VM",
    "ORQQAL LIST",
    "ORQQPL LIST",
    "ORQQVI VITALS",
    "ORWCV ADMISSIONS",
    "ORWPS COVER",
    "ORWPT ADMITLST",
    "ORWPT LIST ALL",
    "ORWPT PTINQ",
    "ORWPT SELECT",
];

/// The six RPCs of the original simulator.
pub const SEED: [&str; 6] = [
    "ORWPT PTINQ",
    "GMV LATEST VM",
    "ORWCV ADMISSIONS",
    "ORQQAL LIST",
    "ORWPS COVER",
    "ORQQPL LIST",
];

pub fn is_rpc(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Runs `name` with `args`.
pub fn call(ctx: &Ctx<'_>, name: &str, args: &[Arg]) -> Result<Reply, CallError> {
    if !is_rpc(name) {
        return Err(CallError::Unknown {
            name: name.to_string(),
            available: NAMES.join(", "),
        });
    }
    let first = args.first().and_then(Arg::text).map(str::trim);
    let by_dfn = first.is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    match (name, by_dfn) {
        ("ORWPT LIST ALL", _) => Ok(list_all(ctx, args)),
        ("ORWCV ADMISSIONS", _) => seed::admissions(ctx, icn_arg(first)?, args.get(1)),
        (_, true) => {
            let dfn = first.unwrap_or_default();
            Ok(match name {
                "ORWPT SELECT" => cprs::select(ctx, dfn),
                "ORWPT ADMITLST" => cprs::admitlst(ctx, dfn),
                "ORQQVI VITALS" => cprs::vitals(ctx, dfn, args),
                "ORQQAL LIST" => cprs::allergies(ctx, dfn),
                "ORWPS COVER" => cprs::cover(ctx, dfn),
                "ORQQPL LIST" => cprs::problems(ctx, dfn, args.get(1).and_then(Arg::text)),
                "GMV LATEST VM" => cprs::latest_vitals(ctx, dfn),
                "ORWPT PTINQ" => cprs::inquiry(ctx, dfn),
                _ => unreachable!("every name is matched"),
            })
        }
        (_, false) => {
            let icn = icn_arg(first)?;
            match name {
                "ORWPT PTINQ" => Ok(seed::inquiry(ctx, icn)),
                "GMV LATEST VM" => Ok(seed::vitals(ctx, icn)),
                "ORQQAL LIST" => Ok(seed::allergies(ctx, icn)),
                "ORWPS COVER" => Ok(seed::cover(ctx, icn)),
                "ORQQPL LIST" => Ok(seed::problems(ctx, icn)),
                _ => Err(CallError::Failed(format!(
                    "{name} takes a DFN (digits) as its first parameter"
                ))),
            }
        }
    }
}

fn icn_arg(first: Option<&str>) -> Result<&str, CallError> {
    match first {
        Some(f) if !f.is_empty() => Ok(f),
        _ => Err(CallError::Failed(
            "ICN parameter is required (params[0], a non-empty string)".into(),
        )),
    }
}

/// A stored date (T-notation, ISO `YYYY-MM-DD[THH:MM]` or FileMan) as a
/// FileMan value; `None` when empty or unreadable.
pub fn when(s: &str, today: NaiveDate) -> Option<FileManValue> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.starts_with(['T', 't']) {
        return resolve_t_notation(s, today).ok();
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(FileManValue::Date(d));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
    {
        return Some(FileManValue::DateTime(dt));
    }
    parse_fileman(s).ok()
}

/// FileMan text of a stored date, or `""`.
pub fn fm(s: &str, today: NaiveDate) -> String {
    when(s, today).map(|v| v.to_fileman()).unwrap_or_default()
}

/// FileMan text with a four-digit `.HHMM` (the original simulator's form,
/// which its clients parse), or `""`.
pub fn fm4(s: &str, today: NaiveDate) -> String {
    use chrono::Timelike;
    match when(s, today) {
        Some(FileManValue::DateTime(dt)) => format!(
            "{}.{:02}{:02}",
            to_fileman_date(dt.date()),
            dt.hour(),
            dt.minute()
        ),
        Some(FileManValue::Date(d)) => to_fileman_date(d),
        None => String::new(),
    }
}

/// FileMan date (no time) of a stored date, or `""`.
pub fn fm_date(s: &str, today: NaiveDate) -> String {
    when(s, today)
        .map(|v| to_fileman_date(v.date()))
        .unwrap_or_default()
}

fn age(dob: NaiveDate, today: NaiveDate) -> i32 {
    let mut a = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        a -= 1;
    }
    a
}

/// A stable small id for a record (IENs are not in the data).
fn ien(parts: &[&str]) -> u64 {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h % 9_000_000 + 1_000_000
}

/// The records of `dfns` in one domain, in registry then file order.
fn records<'a, T>(by: &'a crate::data::ByDfn<T>, dfns: &[String]) -> Vec<&'a T> {
    let Some(by) = by else { return Vec::new() };
    dfns.iter().filter_map(|d| by.get(d)).flatten().collect()
}

/// The original simulator's ICN-addressed RPCs and their layouts.
mod seed {
    use super::*;

    fn not_registered(ctx: &Ctx<'_>, icn: &str) -> String {
        format!(
            "-1^Patient {icn} not registered at site {}",
            ctx.site.config.sta3n
        )
    }

    pub fn inquiry(ctx: &Ctx<'_>, icn: &str) -> Reply {
        let Some(p) = ctx.world.registry.get(icn) else {
            return Reply::Array(vec![format!("-1^Patient {icn} not found")]);
        };
        if ctx.site.dfns_of(icn).is_empty() {
            return Reply::Array(vec![not_registered(ctx, icn)]);
        }
        Reply::Array(vec![format!(
            "{}^{}^{}^{}^VETERAN",
            escape(&p.name()),
            escape(&p.ssn),
            to_fileman_date(p.dob),
            escape(&p.sex)
        )])
    }

    pub fn vitals(ctx: &Ctx<'_>, icn: &str) -> Reply {
        let sta3n = &ctx.site.config.sta3n;
        let dfns = ctx.site.dfns_of(icn);
        if dfns.is_empty() {
            return Reply::Array(vec![format!("-1^Patient {icn} not found at site {sta3n}")]);
        }
        if ctx.site.vitals.is_none() {
            return Reply::Array(vec![format!("-1^No vitals data available at site {sta3n}")]);
        }
        let rows: Vec<String> = records(&ctx.site.vitals, dfns)
            .into_iter()
            .map(|v: &Vital| {
                format!(
                    "{}^{}^{}^{}^{}",
                    escape(&v.kind),
                    escape(&v.value),
                    escape(&v.units),
                    fm4(&v.date_time, ctx.today),
                    escape(&v.entered_by)
                )
            })
            .collect();
        if rows.is_empty() {
            return Reply::Array(vec!["-1^No vitals found for patient".into()]);
        }
        Reply::Array(rows)
    }

    pub fn admissions(ctx: &Ctx<'_>, icn: &str, days: Option<&Arg>) -> Result<Reply, CallError> {
        let days_back: i64 = match days.and_then(Arg::text).map(str::trim) {
            None | Some("") => 90,
            Some(d) => d.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                CallError::Failed(format!(
                    "DAYS_BACK {d:?} is not a non-negative whole number"
                ))
            })?,
        };
        let sta3n = &ctx.site.config.sta3n;
        let dfns = ctx.site.dfns_of(icn);
        if dfns.is_empty() {
            return Ok(Reply::Array(vec![not_registered(ctx, icn)]));
        }
        if ctx.site.encounters.is_none() {
            return Ok(Reply::Array(vec![format!(
                "-1^No encounters data available at site {sta3n}"
            )]));
        }
        // Unlike the original, DAYS_BACK is applied: stays admitted within
        // the window, or still active.
        let since = ctx.today - chrono::Duration::days(days_back);
        let rows: Vec<String> = records(&ctx.site.encounters, dfns)
            .into_iter()
            .filter(|e: &&Encounter| {
                e.status.eq_ignore_ascii_case("ACTIVE")
                    || when(&e.admit_datetime, ctx.today).is_some_and(|w| w.date() >= since)
            })
            .map(|e| {
                format!(
                    "{}^{}^{}^{}^{}^{}^{}^{}^{}",
                    escape(&e.inpatient_id),
                    fm4(&e.admit_datetime, ctx.today),
                    escape(&e.admit_location),
                    escape(&e.status),
                    fm4(&e.discharge_datetime, ctx.today),
                    escape(&e.discharge_location),
                    escape(&e.length_of_stay),
                    escape(&e.diagnosis_code),
                    escape(&e.admit_provider)
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(Reply::Array(vec![
                "-1^No encounters found for patient".into(),
            ]));
        }
        Ok(Reply::Array(rows))
    }

    pub fn allergies(ctx: &Ctx<'_>, icn: &str) -> Reply {
        let sta3n = &ctx.site.config.sta3n;
        let dfns = ctx.site.dfns_of(icn);
        if dfns.is_empty() {
            return Reply::Array(vec![not_registered(ctx, icn)]);
        }
        if ctx.site.allergies.is_none() {
            return Reply::Array(vec![format!(
                "-1^No allergies data available at site {sta3n}"
            )]);
        }
        Reply::Array(
            records(&ctx.site.allergies, dfns)
                .into_iter()
                .map(|a: &Allergy| {
                    format!(
                        "{}^{}^{}^{}^{}^{}^{}",
                        escape(&a.allergen_name),
                        escape(&a.severity),
                        fm4(&a.reaction_datetime, ctx.today),
                        escape(&a.reactions),
                        escape(&a.allergy_type),
                        escape(&a.originating_site),
                        escape(&a.entered_by)
                    )
                })
                .collect(),
        )
    }

    pub fn cover(ctx: &Ctx<'_>, icn: &str) -> Reply {
        Reply::Array(
            records(&ctx.site.medications, ctx.site.dfns_of(icn))
                .into_iter()
                .filter(|m: &&Medication| m.status.eq_ignore_ascii_case("ACTIVE"))
                .map(|m| {
                    format!(
                        "{}^{}^{}^{}/{}^{}^{}^{}",
                        escape(&m.rx_number),
                        escape(&m.drug_name),
                        escape(&m.status),
                        escape(&m.quantity),
                        escape(&m.days_supply),
                        escape(&m.refills_remaining),
                        fm4(&m.issue_date, ctx.today),
                        fm_date(&m.expiration_date, ctx.today)
                    )
                })
                .collect(),
        )
    }

    pub fn problems(ctx: &Ctx<'_>, icn: &str) -> Reply {
        Reply::Array(
            records(&ctx.site.problems, ctx.site.dfns_of(icn))
                .into_iter()
                .map(|p: &Problem| {
                    format!(
                        "{}^{}^{}^{}^{}^{}^{}^{}",
                        escape(&p.problem_ien),
                        escape(&p.problem_text),
                        escape(&p.icd10_code),
                        escape(&p.problem_status),
                        fm_date(&p.onset_date, ctx.today),
                        u8::from(p.service_connected),
                        escape(&p.snomed_code),
                        u8::from(p.updated_today)
                    )
                })
                .collect(),
        )
    }
}

/// Real CPRS RPCs, DFN-addressed, in VistA's reply layouts.
mod cprs {
    use super::*;

    fn patient<'a>(ctx: &'a Ctx<'_>, dfn: &str) -> Option<&'a Patient> {
        ctx.site.patients.get(dfn).map(|p| &**p)
    }

    fn one<'a, T>(by: &'a crate::data::ByDfn<T>, dfn: &str) -> &'a [T] {
        by.as_ref()
            .and_then(|m| m.get(dfn))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn active_stay<'a>(ctx: &'a Ctx<'_>, dfn: &str) -> Option<&'a Encounter> {
        one(&ctx.site.encounters, dfn)
            .iter()
            .find(|e| e.status.eq_ignore_ascii_case("ACTIVE"))
    }

    /// `NAME^SEX^DOB^SSN^LOCIEN^LOCNAME^ROOM-BED^CWAD^SENSITIVE^ADMITTED^
    /// CONV^SC^SC%^ICN^AGE^TREATING SPECIALTY^TS SERVICE`.
    pub fn select(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        let Some(p) = patient(ctx, dfn) else {
            return Reply::Single("-1^^^^^Patient is unknown to CPRS.".into());
        };
        let stay = active_stay(ctx, dfn);
        let (loc_ien, loc, admitted) = match stay {
            Some(e) => (
                ien(&[&ctx.site.config.sta3n, &e.admit_location]).to_string(),
                escape(&e.admit_location).into_owned(),
                fm(&e.admit_datetime, ctx.today),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let cwad = if one(&ctx.site.allergies, dfn).is_empty() {
            ""
        } else {
            "A"
        };
        let sc = one(&ctx.site.problems, dfn)
            .iter()
            .any(|p| p.service_connected);
        Reply::Single(format!(
            "{}^{}^{}^{}^{}^{}^^{}^0^{}^0^{}^^{}^{}^{}^",
            escape(&p.name()),
            escape(&p.sex),
            to_fileman_date(p.dob),
            p.ssn.replace('-', ""),
            loc_ien,
            loc,
            cwad,
            admitted,
            u8::from(sc),
            escape(&p.icn),
            age(p.dob, ctx.today),
            if stay.is_some() {
                "GENERAL MEDICINE"
            } else {
                ""
            },
        ))
    }

    /// `ORWPT LIST ALL FROM DIR`: up to 44 patients after FROM in name
    /// order (DIR 1) or before it (DIR -1): `DFN^NAME^^^^NAME`.
    pub fn list_all(ctx: &Ctx<'_>, args: &[Arg]) -> Reply {
        // FROM is `NAME`, or `DFN^NAME` to continue after that exact entry
        // (names repeat: the DFN breaks the tie, as VistA's "B" index does).
        let from = args.first().and_then(Arg::text).unwrap_or("");
        let from = match from.split_once('^') {
            Some((dfn, name)) => (name.trim().to_uppercase(), Some(key(dfn.trim()))),
            None => (from.trim().to_uppercase(), None),
        };
        let descending = args.get(1).and_then(Arg::text).map(str::trim) == Some("-1");
        let mut all: Vec<(String, String, &str)> = ctx
            .site
            .patients
            .iter()
            .map(|(dfn, p)| (p.name().to_uppercase(), key(dfn), dfn.as_str()))
            .collect();
        all.sort();
        let after = |n: &String, k: &String| match &from {
            (f, Some(fk)) => (n, k) > (f, fk),
            (f, None) => n > f,
        };
        let before = |n: &String, k: &String| match &from {
            (f, _) if f.is_empty() => true,
            (f, Some(fk)) => (n, k) < (f, fk),
            (f, None) => n < f,
        };
        let line = |(name, _, dfn): &(String, String, &str)| {
            let n = escape(name);
            format!("{dfn}^{n}^^^^{n}")
        };
        Reply::Array(if descending {
            all.iter()
                .rev()
                .filter(|(n, k, _)| before(n, k))
                .take(44)
                .map(line)
                .collect()
        } else {
            all.iter()
                .filter(|(n, k, _)| after(n, k))
                .take(44)
                .map(line)
                .collect()
        })
    }

    /// A DFN as a sort key (numeric order).
    fn key(dfn: &str) -> String {
        format!("{dfn:0>20}")
    }

    /// `MOVEMENT DATE/TIME^HOSP LOCATION IEN^WARD^MOVEMENT TYPE^MOVEMENT IEN^
    /// discharge summary`, newest first.
    pub fn admitlst(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        let mut stays: Vec<&Encounter> = one(&ctx.site.encounters, dfn).iter().collect();
        stays.sort_by_key(|e| std::cmp::Reverse(fm(&e.admit_datetime, ctx.today)));
        Reply::Array(
            stays
                .into_iter()
                .map(|e| {
                    format!(
                        "{}^{}^{}^ADMISSION^{}^",
                        fm(&e.admit_datetime, ctx.today),
                        ien(&[&ctx.site.config.sta3n, &e.admit_location]),
                        escape(&e.admit_location),
                        escape(&e.inpatient_id)
                    )
                })
                .collect(),
        )
    }

    /// The vital type abbreviations of `ORQQVI VITALS`.
    pub fn abbreviation(kind: &str) -> Option<&'static str> {
        Some(match kind.trim().to_uppercase().as_str() {
            "TEMPERATURE" => "T",
            "PULSE" => "P",
            "RESPIRATION" => "R",
            "BLOOD PRESSURE" => "BP",
            "HEIGHT" => "HT",
            "WEIGHT" => "WT",
            "PAIN" => "PN",
            "PULSE OXIMETRY" => "POX",
            "CENTRAL VENOUS PRESSURE" => "CVP",
            "CIRCUMFERENCE/GIRTH" => "CG",
            _ => return None,
        })
    }

    /// `(37.0 C)`-style metric text, where VistA shows one.
    fn metric(v: &Vital) -> String {
        let num = v.value.trim().parse::<f64>().ok();
        match (abbreviation(&v.kind), v.units.trim(), num) {
            (Some("T"), "F", Some(f)) => format!("({:.1} C)", (f - 32.0) * 5.0 / 9.0),
            (Some("WT"), "lb", Some(lb)) => format!("({:.2} kg)", lb * 0.453_592_37),
            (Some("HT"), "in", Some(i)) => format!("({:.2} cm)", i * 2.54),
            _ => String::new(),
        }
    }

    /// The newest reading of each type (ties: file order).
    fn latest<'a>(
        ctx: &Ctx<'_>,
        vitals: &'a [Vital],
        range: Option<(String, String)>,
    ) -> Vec<(&'a Vital, String)> {
        // (type, reading, FileMan time) of the newest reading per type.
        let mut best: Vec<(&str, &'a Vital, String)> = Vec::new();
        for v in vitals {
            let Some(kind) = abbreviation(&v.kind) else {
                continue;
            };
            let at = fm(&v.date_time, ctx.today);
            if let Some((from, to)) = &range
                && (at.as_str() < from.as_str() || at.as_str() > to.as_str())
            {
                continue;
            }
            match best.iter_mut().find(|(k, _, _)| *k == kind) {
                Some(slot) if at > slot.2 => *slot = (kind, v, at),
                Some(_) => {}
                None => best.push((kind, v, at)),
            }
        }
        best.into_iter().map(|(_, v, at)| (v, at)).collect()
    }

    /// `IEN^TYPE^VALUE^FM DATE/TIME^DISPLAY^(metric)^qualifiers`, newest per
    /// type; optional FileMan start and end.
    pub fn vitals(ctx: &Ctx<'_>, dfn: &str, args: &[Arg]) -> Reply {
        let bound = |i: usize| {
            args.get(i)
                .and_then(Arg::text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let range = match (bound(1), bound(2)) {
            (None, None) => None,
            (a, b) => Some((
                a.map(|s| fm(s, ctx.today)).unwrap_or_default(),
                b.map(|s| {
                    let t = fm(s, ctx.today);
                    // A bare end date includes that whole day.
                    if t.contains('.') {
                        t
                    } else {
                        format!("{t}.24")
                    }
                })
                .unwrap_or_else(|| "9999999".into()),
            )),
        };
        Reply::Array(
            latest(ctx, one(&ctx.site.vitals, dfn), range)
                .into_iter()
                .map(|(v, at)| {
                    format!(
                        "{}^{}^{}^{}^{}^{}^",
                        ien(&[&ctx.site.config.sta3n, dfn, &v.kind, &v.date_time, &v.value]),
                        abbreviation(&v.kind).unwrap_or_default(),
                        escape(&v.value),
                        at,
                        escape(format!("{} {}", v.value.trim(), v.units.trim()).trim()),
                        metric(v),
                    )
                })
                .collect(),
        )
    }

    /// `GMV LATEST VM` by DFN: VistA's display text of the latest vitals.
    pub fn latest_vitals(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        let rows = latest(ctx, one(&ctx.site.vitals, dfn), None);
        if rows.is_empty() {
            return Reply::Text(vec!["There are no results to report ".into()]);
        }
        Reply::Text(
            rows.into_iter()
                .map(|(v, at)| {
                    let label = match abbreviation(&v.kind) {
                        Some("T") => "Temp.:",
                        Some("P") => "Pulse:",
                        Some("R") => "Resp.:",
                        Some("BP") => "B/P:",
                        Some("HT") => "Ht.:",
                        Some("WT") => "Wt.:",
                        Some("PN") => "Pain:",
                        Some("POX") => "Pulse Ox:",
                        _ => "Other:",
                    };
                    let when = parse_fileman(&at)
                        .map(|w| w.to_datetime().format("%m/%d/%y@%H:%M").to_string())
                        .unwrap_or_default();
                    format!(
                        "{label:<13}({when}) {} {}  {}  _{}_Vitals",
                        v.value.trim(),
                        v.units.trim(),
                        metric(v),
                        v.entered_by.trim()
                    )
                })
                .collect(),
        )
    }

    /// `IEN^ALLERGEN^SEVERITY^SIGN1;SIGN2…`, or a sentinel line.
    pub fn allergies(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        if patient(ctx, dfn).is_none() && one(&ctx.site.allergies, dfn).is_empty() {
            return Reply::Array(vec!["^No allergies found.".into()]);
        }
        let list = one(&ctx.site.allergies, dfn);
        if list.is_empty() {
            return Reply::Array(vec!["^No Allergy Assessment".into()]);
        }
        if list.iter().all(|a| {
            matches!(
                a.allergen_name.trim().to_uppercase().as_str(),
                "NKA" | "NO KNOWN ALLERGIES"
            )
        }) {
            return Reply::Array(vec!["^No Known Allergies".into()]);
        }
        Reply::Array(
            list.iter()
                .map(|a| {
                    let signs: Vec<String> = a
                        .reactions
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| escape(s).replace(';', ","))
                        .collect();
                    format!(
                        "{}^{}^{}^{}",
                        ien(&[
                            &ctx.site.config.sta3n,
                            dfn,
                            &a.allergen_name,
                            &a.reaction_datetime
                        ]),
                        escape(&a.allergen_name),
                        escape(&a.severity),
                        signs.join(";")
                    )
                })
                .collect(),
        )
    }

    /// `PHARMACY ID^DRUG NAME^ORDER IEN^STATUS` for active outpatient
    /// prescriptions (`123R;O`).
    pub fn cover(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        Reply::Array(
            one(&ctx.site.medications, dfn)
                .iter()
                .filter(|m| m.status.eq_ignore_ascii_case("ACTIVE"))
                .map(|m| {
                    format!(
                        "{}R;O^{}^{}^{}",
                        escape(m.rx_number.trim()),
                        escape(&m.drug_name),
                        ien(&[&ctx.site.config.sta3n, dfn, &m.rx_number]),
                        escape(&m.status.to_uppercase())
                    )
                })
                .collect(),
        )
    }

    /// `IEN^DESCRIPTION^STATUS^ICD^ONSET^LAST MODIFIED^SC^SPEXP^TRANSCRIBED^
    /// PRIORITY^^DETAIL^^SCT CONCEPT^SCT DESIGNATION^CODING SYSTEM^flag`;
    /// STATUS filter `A`, `I` or all.
    pub fn problems(ctx: &Ctx<'_>, dfn: &str, status: Option<&str>) -> Reply {
        let want = status.map(|s| s.trim().to_uppercase()).unwrap_or_default();
        let rows: Vec<String> = one(&ctx.site.problems, dfn)
            .iter()
            .map(|p| {
                let active = p.problem_status.trim().eq_ignore_ascii_case("ACTIVE");
                (p, if active { "A" } else { "I" })
            })
            .filter(|(_, st)| want.is_empty() || want == *st)
            .map(|(p, st)| {
                let modified = if p.updated_today {
                    to_fileman_date(ctx.today)
                } else {
                    fm_date(&p.onset_date, ctx.today)
                };
                format!(
                    "{}^{}^{}^{}^{}^{}^{}^^^^^^^{}^^10D^",
                    escape(&p.problem_ien),
                    escape(&p.problem_text),
                    st,
                    escape(&p.icd10_code),
                    fm_date(&p.onset_date, ctx.today),
                    modified,
                    if p.service_connected { "SC" } else { "" },
                    escape(&p.snomed_code)
                )
            })
            .collect();
        if rows.is_empty() {
            return Reply::Array(vec!["^No problems found.".into()]);
        }
        Reply::Array(rows)
    }

    /// `ORWPT PTINQ` by DFN: a patient inquiry report as display lines.
    pub fn inquiry(ctx: &Ctx<'_>, dfn: &str) -> Reply {
        let Some(p) = patient(ctx, dfn) else {
            return Reply::Text(vec!["Patient is unknown to CPRS.".into()]);
        };
        let dob = p.dob.format("%b %d,%Y").to_string().to_uppercase();
        let mut lines = vec![
            format!("{}    {}    {}", p.name(), p.ssn, dob),
            String::new(),
            format!("Sex: {:<24}ICN: {}", p.sex, p.icn),
            format!("Age: {}", age(p.dob, ctx.today)),
            format!(
                "Facility: {} {}",
                ctx.site.config.sta3n, ctx.site.config.name
            ),
        ];
        if let Some(e) = active_stay(ctx, dfn) {
            lines.push(format!(
                "Currently admitted to {} since {}",
                e.admit_location,
                when(&e.admit_datetime, ctx.today)
                    .map(|w| w
                        .to_datetime()
                        .format("%b %d,%Y@%H:%M")
                        .to_string()
                        .to_uppercase())
                    .unwrap_or_default()
            ));
        }
        Reply::Text(lines)
    }
}

use cprs::list_all;
