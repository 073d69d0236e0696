//! Curated personas: fixed identities present at every `--patients N`, one
//! for each edge case the ETL and the web must handle. They are generated
//! first, so their rows and surrogate keys are identical at every N.
//!
//! Identity scheme (reference §1.2): PatientSID 1001–1015 → `ICN1000NN`;
//! 1016–1025 → VA-style `NNNNV######`; 1026–1027 → `ICN100016/17`
//! (deceased); 1606020–1606030 → `ICN` + 10 digits test patients;
//! 2001–2003 → `ICN20000N` (the Thompson siblings).

use super::patient::{CernerLink, Domain, Extras, Patient};
use chrono::NaiveDate;

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).expect("valid persona date")
}

#[allow(clippy::too_many_arguments)]
fn base(
    sid: i64,
    icn: &str,
    sta3n: i64,
    last: &str,
    first: &str,
    middle: Option<&str>,
    sex: char,
    dob: NaiveDate,
) -> Patient {
    Patient {
        sid,
        icn: icn.to_string(),
        sta3n,
        last: last.to_string(),
        first: first.to_string(),
        middle: middle.map(str::to_string),
        sex,
        dob,
        death: None,
        test: false,
        sensitive: false,
        ssn: format!("666-{:02}-{:04}", (sid / 100) % 100, sid % 10_000),
        cerner: None,
        empty: Vec::new(),
        conditions: Vec::new(),
        extras: Extras::default(),
        years_in_care: 8,
        vista_sites: Vec::new(),
    }
}

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The curated personas, in generation order. `as_of` anchors death dates.
pub fn personas(as_of: NaiveDate) -> Vec<Patient> {
    let mut v = Vec::new();

    // Adam Dooree: dual source (CDWWork 1001 + CDWWork2 PersonSID 2001 at
    // Portland 648, a station missing from Dim.Sta3n). PersonSID 2001 equals
    // Bailey Thompson's CDWWork PatientSID: the SID collision.
    let mut adam = base(
        1001,
        "ICN100001",
        508,
        "Dooree",
        "Adam",
        None,
        'M',
        d(1980, 1, 2),
    );
    adam.conditions = codes(&["I10", "E78.5", "E11.9", "M54.5"]);
    adam.cerner = Some(CernerLink {
        person_sid: 2001,
        problem_key: 1001,
        sta3n: "648",
    });
    adam.extras.dual_source_immunization = true;
    adam.vista_sites = vec![(200, 100001), (500, 500001), (630, 630001)];
    v.push(adam);

    let mut barry = base(
        1002,
        "ICN100002",
        516,
        "Miifaa",
        "Barry",
        Some("J"),
        'M',
        d(1952, 6, 14),
    );
    barry.conditions = codes(&["I50.9", "I48.91", "N18.3", "E11.22", "J44.9"]);
    barry.vista_sites = vec![(200, 100020), (500, 500020), (630, 630020)];
    v.push(barry);

    // Critical lab values on the most recent draw.
    let mut p = base(
        1003,
        "ICN100003",
        552,
        "Castillo",
        "Rosa",
        Some("M"),
        'F',
        d(1958, 3, 9),
    );
    p.conditions = codes(&["N18.4", "E11.65", "I10"]);
    p.extras.critical_labs = true;
    v.push(p);

    // Abnormal vitals of every class (CRITICAL/HIGH/LOW/NORMAL for BP, T, P,
    // R, POX, PN) and a BMI over 40.
    let mut p = base(
        1004,
        "ICN100004",
        508,
        "Okafor",
        "Daniel",
        None,
        'M',
        d(1966, 11, 21),
    );
    p.conditions = codes(&["E66.9", "I10", "G47.33"]);
    p.extras.abnormal_vitals = true;
    v.push(p);

    for (sid, sta3n, last, first, sex, dob) in [
        (1005, 516, "Nakamura", "Helen", 'F', d(1949, 8, 30)),
        (1006, 552, "Brooks", "Terrence", 'M', d(1971, 2, 17)),
        (1007, 508, "Lindqvist", "Erik", 'M', d(1945, 12, 1)),
        (1008, 688, "Washington", "Denise", 'F', d(1983, 5, 5)),
        (1009, 516, "Patel", "Arjun", 'M', d(1962, 9, 12)),
    ] {
        v.push(base(
            sid,
            &format!("ICN1000{:02}", sid - 1000),
            sta3n,
            last,
            first,
            None,
            sex,
            dob,
        ));
    }

    // Alexander Aminor: dual source with CDWWork2 PersonSID 2010 at Seattle 663.
    let mut alex = base(
        1010,
        "ICN100010",
        552,
        "Aminor",
        "Alexander",
        None,
        'M',
        d(1975, 4, 19),
    );
    alex.conditions = codes(&["F43.10", "F33.1", "M54.5", "G89.29"]);
    alex.cerner = Some(CernerLink {
        person_sid: 2010,
        problem_key: 1010,
        sta3n: "663",
    });
    // An older duplicate registration at 200 (DFN 100002) with its own
    // records: a simulator must reach every DFN of a patient at a site.
    alex.vista_sites = vec![(200, 100010), (500, 500010), (200, 100002)];
    v.push(alex);

    // No data in some domains.
    let mut p = base(
        1011,
        "ICN100011",
        508,
        "Fairbanks",
        "June",
        None,
        'F',
        d(1990, 7, 7),
    );
    p.empty = vec![Domain::Allergies, Domain::Immunizations];
    v.push(p);
    let mut p = base(
        1012,
        "ICN100012",
        516,
        "Delgado",
        "Marco",
        None,
        'M',
        d(1988, 1, 28),
    );
    p.empty = vec![Domain::Medications, Domain::Labs, Domain::Flags];
    v.push(p);

    let mut irving = base(
        1013,
        "ICN100013",
        552,
        "Thompson",
        "Irving",
        None,
        'M',
        d(1947, 10, 3),
    );
    irving.conditions = codes(&["I25.10", "I10", "E78.5", "N40.0", "H91.90"]);
    irving.vista_sites = vec![(200, 100003), (500, 200002), (630, 630013)];
    v.push(irving);

    // Demographics only: every clinical domain empty.
    let mut p = base(
        1014,
        "ICN100014",
        508,
        "Quist",
        "Noelle",
        None,
        'F',
        d(1995, 3, 3),
    );
    p.empty = vec![
        Domain::Vitals,
        Domain::Allergies,
        Domain::Medications,
        Domain::Labs,
        Domain::Notes,
        Domain::Immunizations,
        Domain::Problems,
        Domain::Inpatient,
        Domain::FamilyHistory,
        Domain::Flags,
    ];
    v.push(p);

    // Controlled substances: chronic opioid plus a benzodiazepine (a DDI pair),
    // and morphine given on the ward.
    let mut p = base(
        1015,
        "ICN100015",
        516,
        "Reyes",
        "Carlos",
        Some("A"),
        'M',
        d(1968, 6, 1),
    );
    p.conditions = codes(&["G89.29", "M54.5", "F41.1"]);
    p.extras.controlled = true;
    p.extras.meds = vec!["Oxycodone", "Lorazepam", "Tramadol"];
    p.extras.flags = vec!["DRUG SEEKING BEHAVIOR"];
    v.push(p);

    // VA-style ICNs (1016–1025).
    let va = [
        (
            1016,
            "1016V123456",
            688,
            "Harper",
            "Liam",
            'M',
            d(1985, 2, 14),
        ),
        (
            1017,
            "1017V234567",
            508,
            "Ng",
            "Vivian",
            'F',
            d(1979, 9, 23),
        ),
        (
            1018,
            "1018V345678",
            516,
            "Kowalski",
            "Stanley",
            'M',
            d(1951, 4, 4),
        ),
        (
            1019,
            "1019V456789",
            552,
            "Bishop",
            "Monica",
            'F',
            d(1969, 12, 12),
        ),
        (
            1020,
            "1020V567890",
            688,
            "Yazzie",
            "Thomas",
            'M',
            d(1958, 7, 30),
        ),
        (
            1021,
            "1021V678901",
            508,
            "O'Brien",
            "Kathleen",
            'F',
            d(1944, 1, 19),
        ),
        (
            1022,
            "1022V789012",
            516,
            "Mendoza",
            "Luis",
            'M',
            d(1992, 10, 8),
        ),
        (
            1023,
            "1023V890123",
            552,
            "Fischer",
            "Gretchen",
            'F',
            d(1974, 5, 27),
        ),
        (
            1024,
            "1024V901234",
            688,
            "Jackson",
            "Marcus",
            'M',
            d(1981, 8, 16),
        ),
        (
            1025,
            "1025V012345",
            508,
            "Sorensen",
            "Ingrid",
            'F',
            d(1955, 3, 21),
        ),
    ];
    for (sid, icn, sta3n, last, first, sex, dob) in va {
        let mut p = base(sid, icn, sta3n, last, first, None, sex, dob);
        match sid {
            // High risk for suicide, with a flag history narrative.
            1016 => {
                p.conditions = codes(&["F43.10", "F33.1", "F10.20", "G89.29"]);
                p.extras.suicide_flag = true;
            }
            // A sensitive record (employee/VIP): SensitiveFlag = 'Y'.
            1017 => p.sensitive = true,
            1018 => p.conditions = codes(&["I50.23", "I48.91", "N18.4", "E11.22", "C61"]),
            _ => {}
        }
        v.push(p);
    }

    // Deceased, with an end-of-life record (palliative stay, death note).
    let mut p = base(
        1026,
        "ICN100016",
        508,
        "Wilson",
        "Margaret",
        Some("E"),
        'F',
        d(1938, 2, 11),
    );
    p.conditions = codes(&["C34.90", "C78.00", "J44.9", "I50.9"]);
    p.death = Some(
        (as_of - chrono::Duration::days(75))
            .and_hms_opt(3, 40, 0)
            .expect("valid"),
    );
    p.extras.end_of_life = true;
    p.extras.flags = vec!["PALLIATIVE CARE"];
    v.push(p);
    let mut p = base(
        1027,
        "ICN100017",
        528,
        "Anderson",
        "Robert",
        Some("J"),
        'M',
        d(1941, 6, 25),
    );
    p.conditions = codes(&["G30.9", "I63.9", "I10", "N18.4"]);
    p.death = Some(
        (as_of - chrono::Duration::days(400))
            .and_hms_opt(22, 15, 0)
            .expect("valid"),
    );
    p.extras.end_of_life = true;
    v.push(p);

    // Test patients (TestPatientFlag = 'Y').
    for k in 0..11 {
        let sid = 1_606_020 + k;
        let icn = format!("ICN{}", 1_019_425_664 + k * 1_111);
        let sta3n = [508, 516, 552][k as usize % 3];
        let mut p = base(
            sid,
            &icn,
            sta3n,
            "Zztest",
            &format!(
                "Patient{}",
                [
                    "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
                    "Eleven"
                ][k as usize]
            ),
            None,
            if k % 2 == 0 { 'M' } else { 'F' },
            d(1970 + k as i32, 1, 1),
        );
        p.test = true;
        p.years_in_care = 1;
        v.push(p);
    }

    // The Thompson siblings, in both databases (PersonSID 3001–3003 at Walla Walla 687).
    for (k, (first, sex, dob)) in [
        ("Bailey", 'F', d(1976, 4, 2)),
        ("Alananah", 'F', d(1979, 11, 15)),
        ("Joe", 'M', d(1982, 8, 27)),
    ]
    .into_iter()
    .enumerate()
    {
        let sid = 2001 + k as i64;
        let mut p = base(
            sid,
            &format!("ICN20000{}", k + 1),
            516,
            "Thompson",
            first,
            None,
            sex,
            dob,
        );
        p.ssn = format!("200-00-100{}", k + 1);
        p.cerner = Some(CernerLink {
            person_sid: 3001 + k as i64,
            problem_key: 3001 + k as i64,
            sta3n: "687",
        });
        p.conditions = match k {
            0 => codes(&["E11.9", "I10", "F32.9"]),
            1 => codes(&["J45.909", "E03.9"]),
            _ => codes(&["I10", "E78.5", "M17.11"]),
        };
        v.push(p);
    }
    v
}

/// Registry entries for personas treated at VistA sites the simulator does
/// not run (their RPCs must fail cleanly with "site not found").
pub fn unsimulated_registry() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"icn": "ICN100016", "ssn": "666-10-1026", "name_last": "WILSON", "name_first": "MARGARET", "name_middle": "E", "dob": "1938-02-11", "sex": "F",
            "treating_facilities": [{"sta3n": "508", "name": "ATLANTA", "dfn": "100026", "first_seen": "2015-03-01", "last_seen": "T-75"}]}),
        serde_json::json!({"icn": "ICN100017", "ssn": "666-10-1027", "name_last": "ANDERSON", "name_first": "ROBERT", "name_middle": "J", "dob": "1941-06-25", "sex": "M",
            "treating_facilities": [{"sta3n": "528", "name": "UPSTATE NEW YORK", "dfn": "100027", "first_seen": "2012-07-19", "last_seen": "T-400"}]}),
    ]
}
