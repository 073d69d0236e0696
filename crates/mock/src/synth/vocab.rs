//! Lookup structures derived from the assets, shaped for the generator.

use crate::assets::Assets;
use cdw::catalog as c;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Location {
    pub sid: i64,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct NationalDrug {
    pub sid: i64,
    pub generic: String,
    pub controlled: bool,
    pub inactive: bool,
}

#[derive(Debug, Clone)]
pub struct LocalDrug {
    pub sid: i64,
    pub sta3n: i64,
    pub national_sid: i64,
    pub name_with_dose: String,
    pub form: String,
    pub inactive: bool,
}

#[derive(Debug, Clone)]
pub struct FlagDef {
    pub sid: i64,
    pub name: String,
    pub category: String,
    pub source_type: String,
    pub national_ien: Option<i64>,
    pub local_ien: Option<i64>,
    pub review_days: Option<i64>,
    pub notify_days: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct LabTest {
    pub sid: i64,
    pub name: String,
    pub panel: Option<String>,
    pub units: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub ref_text: Option<String>,
    pub package: String,
    pub active: bool,
    pub crit_low: Option<f64>,
    pub crit_high: Option<f64>,
    pub decimals: u8,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Vaccine {
    pub sid: i64,
    pub cvx: String,
    pub inactive: bool,
}

#[derive(Debug, Clone)]
pub struct Icd {
    pub code: String,
    pub description: String,
    pub chronic: bool,
    pub snomed: String,
    pub snomed_description: String,
    pub prevalence: u32,
    pub onset_age: i64,
}

#[derive(Debug, Clone)]
pub struct CodeValue {
    pub sid: i64,
    pub code: String,
    pub display: String,
}

#[derive(Debug, Clone)]
pub struct Place {
    pub city: String,
    pub county: String,
    pub state: String,
    pub zip: String,
}

/// Everything the generator looks up, keyed for fast deterministic access
/// (ordered maps only: iteration order must never depend on hashing).
#[derive(Debug)]
pub struct Vocab {
    pub active_stations: Vec<i64>,
    pub station_names: BTreeMap<i64, String>,
    pub locations: BTreeMap<i64, Vec<Location>>,
    pub staff: BTreeMap<(String, i64), Vec<i64>>,
    pub staff_any: BTreeMap<String, Vec<i64>>,
    pub staff_name: BTreeMap<i64, String>,
    pub vital_type_sid: BTreeMap<String, i64>,
    pub qualifiers: BTreeMap<String, Vec<(i64, String)>>,
    pub allergens: Vec<(i64, String, String)>,
    pub reactions: Vec<i64>,
    pub severities: Vec<i64>,
    pub national: Vec<NationalDrug>,
    pub local_by_national: BTreeMap<i64, Vec<LocalDrug>>,
    pub flags: Vec<FlagDef>,
    pub labs: Vec<LabTest>,
    pub tiu: Vec<(i64, String, String)>,
    pub templates: BTreeMap<String, Vec<String>>,
    pub vaccines: BTreeMap<String, Vaccine>,
    pub icd: Vec<Icd>,
    pub rel: Vec<(i64, String, String)>,
    pub fam_cond: Vec<(i64, String)>,
    pub insurers: Vec<i64>,
    pub code_values: BTreeMap<String, Vec<CodeValue>>,
    pub vaccine_codes: BTreeMap<String, (i64, String)>,
    pub places: BTreeMap<i64, Vec<Place>>,
    pub streets: Vec<String>,
    pub first_male: Vec<String>,
    pub first_female: Vec<String>,
    pub last_names: Vec<String>,
}

fn num(s: Option<String>) -> Option<f64> {
    s.and_then(|t| t.trim().parse().ok())
}

impl Vocab {
    pub fn new(a: &Assets) -> Vocab {
        let mut v = Vocab {
            active_stations: Vec::new(),
            station_names: BTreeMap::new(),
            locations: BTreeMap::new(),
            staff: BTreeMap::new(),
            staff_any: BTreeMap::new(),
            staff_name: BTreeMap::new(),
            vital_type_sid: BTreeMap::new(),
            qualifiers: BTreeMap::new(),
            allergens: Vec::new(),
            reactions: Vec::new(),
            severities: Vec::new(),
            national: Vec::new(),
            local_by_national: BTreeMap::new(),
            flags: Vec::new(),
            labs: Vec::new(),
            tiu: Vec::new(),
            templates: BTreeMap::new(),
            vaccines: BTreeMap::new(),
            icd: Vec::new(),
            rel: Vec::new(),
            fam_cond: Vec::new(),
            insurers: Vec::new(),
            code_values: BTreeMap::new(),
            vaccine_codes: BTreeMap::new(),
            places: BTreeMap::new(),
            streets: a.streets.clone(),
            first_male: a.first_male.clone(),
            first_female: a.first_female.clone(),
            last_names: a.last_names.clone(),
        };
        for r in a.rows(&c::DIM_STA3N) {
            let s = r.int("Sta3n");
            v.station_names.insert(s, r.text("Sta3nName"));
            if r.text("Active").trim() == "Y" {
                v.active_stations.push(s);
            }
        }
        let loc_rows: BTreeMap<i64, Location> = a
            .rows(&c::DIM_LOCATION)
            .map(|r| {
                let sid = r.int("LocationSID");
                (
                    sid,
                    Location {
                        sid,
                        name: r.text("LocationName"),
                        kind: r.text("LocationType"),
                    },
                )
            })
            .collect();
        for (lsid, sta3n) in &a.location_station {
            if let Some(l) = loc_rows.get(lsid) {
                v.locations.entry(*sta3n).or_default().push(l.clone());
            }
        }
        for r in a.rows(&c::S_STAFF_S_STAFF) {
            v.staff_name.insert(r.int("StaffSID"), r.text("StaffName"));
        }
        for (sid, role, sta3n) in &a.staff_roles {
            v.staff
                .entry((role.clone(), *sta3n))
                .or_default()
                .push(*sid);
            v.staff_any.entry(role.clone()).or_default().push(*sid);
        }
        for r in a.rows(&c::DIM_VITAL_TYPE) {
            v.vital_type_sid.insert(
                r.text("Abbreviation").trim().to_uppercase(),
                r.int("VitalTypeSID"),
            );
        }
        for r in a.rows(&c::DIM_VITAL_QUALIFIER) {
            if r.int("IsActive") == 1 {
                v.qualifiers
                    .entry(r.text("QualifierType").trim().to_uppercase())
                    .or_default()
                    .push((r.int("VitalQualifierSID"), r.text("VitalQualifier")));
            }
        }
        for r in a.rows(&c::DIM_ALLERGEN) {
            if r.int("IsActive") == 1 {
                v.allergens.push((
                    r.int("AllergenSID"),
                    r.text("AllergenName"),
                    r.text("AllergenType").trim().to_uppercase(),
                ));
            }
        }
        v.reactions = a
            .rows(&c::DIM_REACTION)
            .filter(|r| r.int("IsActive") == 1)
            .map(|r| r.int("ReactionSID"))
            .collect();
        v.severities = a
            .rows(&c::DIM_ALLERGY_SEVERITY)
            .map(|r| r.int("AllergySeveritySID"))
            .collect();
        for r in a.rows(&c::DIM_NATIONAL_DRUG) {
            v.national.push(NationalDrug {
                sid: r.int("NationalDrugSID"),
                generic: r.text("GenericName").trim().to_string(),
                controlled: r.text("ControlledSubstanceFlag").trim() == "Y",
                inactive: r.text("Inactive").trim() == "Y",
            });
        }
        for r in a.rows(&c::DIM_LOCAL_DRUG) {
            let ld = LocalDrug {
                sid: r.int("LocalDrugSID"),
                sta3n: r.int("Sta3n"),
                national_sid: r.opt_int("NationalDrugSID").unwrap_or(0),
                name_with_dose: r.text("DrugNameWithDose"),
                form: r.text("DosageForm").trim().to_uppercase(),
                inactive: r.text("Inactive").trim() == "Y",
            };
            v.local_by_national
                .entry(ld.national_sid)
                .or_default()
                .push(ld);
        }
        for r in a.rows(&c::DIM_PATIENT_RECORD_FLAG) {
            if r.int("IsActive") == 1 {
                v.flags.push(FlagDef {
                    sid: r.int("PatientRecordFlagSID"),
                    name: r.text("FlagName"),
                    category: r.text("FlagCategory").trim().to_string(),
                    source_type: r.text("FlagSourceType"),
                    national_ien: r.opt_int("NationalFlagIEN"),
                    local_ien: r.opt_int("LocalFlagIEN"),
                    review_days: r.opt_int("ReviewFrequencyDays"),
                    notify_days: r.opt_int("ReviewNotificationDays"),
                });
            }
        }
        let ranges: BTreeMap<i64, &BTreeMap<String, String>> = a
            .lab_ranges
            .iter()
            .filter_map(|m| Some((m.get("LabTestSID")?.trim().parse().ok()?, m)))
            .collect();
        for r in a.rows(&c::DIM_LAB_TEST) {
            let sid = r.int("LabTestSID");
            let rg = ranges.get(&sid);
            let f = |k: &str| rg.and_then(|m| num(m.get(k).cloned()));
            v.labs.push(LabTest {
                sid,
                name: r.text("LabTestName"),
                panel: r.opt_text("PanelName").filter(|p| !p.trim().is_empty()),
                units: r.opt_text("Units"),
                low: num(r.opt_text("RefRangeLow")),
                high: num(r.opt_text("RefRangeHigh")),
                ref_text: r.opt_text("RefRangeText"),
                package: r.text("VistaPackage").trim().to_string(),
                active: r.int("IsActive") == 1,
                crit_low: f("CriticalLow"),
                crit_high: f("CriticalHigh"),
                decimals: f("Decimals").map_or(1, |d| d as u8),
                mean: f("TypicalMean"),
                sd: f("TypicalSD"),
            });
        }
        for r in a.rows(&c::DIM_TIU_DOCUMENT_DEFINITION) {
            if r.int("IsActive") == 1 {
                v.tiu.push((
                    r.int("DocumentDefinitionSID"),
                    r.text("TIUDocumentTitle"),
                    r.text("DocumentClass"),
                ));
            }
        }
        for t in &a.note_templates {
            v.templates
                .entry(t.title.trim().to_uppercase())
                .or_default()
                .push(t.body.clone());
        }
        for r in a.rows(&c::DIM_VACCINE) {
            let cvx = r.text("CVXCode").trim().to_string();
            v.vaccines.insert(
                cvx.trim_start_matches('0').to_string(),
                Vaccine {
                    sid: r.int("VaccineSID"),
                    cvx,
                    inactive: r.text("IsInactive").trim() == "Y",
                },
            );
        }
        let terms: BTreeMap<String, &BTreeMap<String, String>> = a
            .problem_terms
            .iter()
            .filter_map(|m| Some((m.get("ICD10Code")?.trim().to_uppercase(), m)))
            .collect();
        for r in a.rows(&c::DIM_ICD10) {
            let code = r.text("ICD10Code").trim().to_uppercase();
            let t = terms.get(&code);
            let g = |k: &str| t.and_then(|m| m.get(k)).cloned().unwrap_or_default();
            v.icd.push(Icd {
                description: r.text("ICD10Description"),
                chronic: r.text("IsChronicCondition").trim() == "Y",
                snomed: g("SNOMEDCode"),
                snomed_description: g("SNOMEDDescription"),
                prevalence: g("Prevalence").trim().parse().unwrap_or(5),
                onset_age: g("TypicalOnsetAge").trim().parse().unwrap_or(50),
                code,
            });
        }
        for r in a.rows(&c::DIM_FAMILY_RELATIONSHIP) {
            v.rel.push((
                r.int("FamilyRelationshipSID"),
                r.text("RelationshipCode"),
                r.text("Degree"),
            ));
        }
        for r in a.rows(&c::DIM_FAMILY_CONDITION) {
            v.fam_cond
                .push((r.int("FamilyConditionSID"), r.text("ConditionCode")));
        }
        v.insurers = a
            .rows(&c::DIM_INSURANCE_COMPANY)
            .map(|r| r.int("InsuranceCompanySID"))
            .collect();
        for r in a.rows(&c::N_DIM_MILL_CODE_VALUE) {
            v.code_values
                .entry(r.text("CodeSet").trim().to_string())
                .or_default()
                .push(CodeValue {
                    sid: r.int("CodeValueSID"),
                    code: r.text("Code"),
                    display: r.text("DisplayText"),
                });
        }
        for r in a.rows(&c::IMMUNIZATION_MILL_VACCINE_CODE) {
            let cvx = r.text("CVXCode").trim().trim_start_matches('0').to_string();
            v.vaccine_codes
                .insert(cvx, (r.int("VaccineCodeSID"), r.text("Display")));
        }
        for m in &a.addresses {
            let Some(sta3n) = m.get("Sta3n").and_then(|s| s.trim().parse::<i64>().ok()) else {
                continue;
            };
            let g = |k: &str| m.get(k).cloned().unwrap_or_default();
            v.places.entry(sta3n).or_default().push(Place {
                city: g("City"),
                county: g("County"),
                state: g("State"),
                zip: g("Zip"),
            });
        }
        v
    }

    pub fn national_by_generic(&self, generic: &str) -> Option<&NationalDrug> {
        self.national
            .iter()
            .find(|d| !d.inactive && d.generic.eq_ignore_ascii_case(generic))
    }

    /// A local drug entry for `national_sid`, preferring the given station.
    pub fn local_for(&self, national_sid: i64, sta3n: i64) -> Option<&LocalDrug> {
        let list = self.local_by_national.get(&national_sid)?;
        list.iter()
            .find(|l| l.sta3n == sta3n && !l.inactive)
            .or_else(|| list.iter().find(|l| !l.inactive))
    }

    pub fn flag(&self, name: &str) -> Option<&FlagDef> {
        self.flags
            .iter()
            .find(|f| f.name.trim().eq_ignore_ascii_case(name))
    }

    pub fn tiu_by_title(&self, title: &str) -> Option<&(i64, String, String)> {
        self.tiu
            .iter()
            .find(|t| t.1.trim().eq_ignore_ascii_case(title))
    }

    pub fn icd(&self, code: &str) -> Option<&Icd> {
        self.icd.iter().find(|i| i.code.eq_ignore_ascii_case(code))
    }

    pub fn code(&self, set: &str, code: &str) -> Option<&CodeValue> {
        self.code_values.get(set)?.iter().find(|c| {
            c.code.trim().eq_ignore_ascii_case(code) || c.display.trim().eq_ignore_ascii_case(code)
        })
    }

    pub fn station_name(&self, sta3n: i64) -> String {
        self.station_names
            .get(&sta3n)
            .cloned()
            .unwrap_or_else(|| format!("({sta3n}) VA Facility"))
    }
}
