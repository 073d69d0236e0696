#!/usr/bin/env python3
"""Validate the reference data assets in mock/data against the CDW catalog.

Standard library only. Run from anywhere:

    python3 mock/data/check_assets.py

The catalog is read from crates/cdw/src/catalog.rs, located relative to this
file (../../crates/cdw/src/catalog.rs). Exit status is 0 when every check
passes and 1 otherwise; each failure is printed on its own line.
"""
import csv
import json
import os
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "cdw", "src", "catalog.rs"))

ERRORS = []


def err(msg):
    ERRORS.append(msg)


# --------------------------------------------------------------------------- catalog
TABLE_RE = re.compile(
    r"pub (?:const|static) (\w+): Table = Table \{\s*database: Database::(\w+),\s*schema: \"([^\"]+)\",\s*"
    r"name: \"([^\"]+)\",\s*columns: &\[(.*?)\],\s*\};",
    re.S,
)
COL_RE = re.compile(r"Column::new\(\"([^\"]+)\",\s*([A-Za-z0-9]+(?:\((?:[^()]|\([^()]*\))*\))?)\)")


def parse_type(s):
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", s)
    kind, args = m.group(1), m.group(2)
    if args is None:
        return (kind,)
    parts = [p.strip() for p in args.split(",")]
    out = []
    for p in parts:
        if p == "None":
            out.append(None)
        else:
            sm = re.fullmatch(r"Some\((\d+)\)", p)
            out.append(int(sm.group(1)) if sm else int(p))
    return (kind, *out)


def load_catalog():
    src = open(CATALOG, encoding="utf-8").read()
    tables = {}
    for m in TABLE_RE.finditer(src):
        _, db, schema, name, body = m.groups()
        cols = [(c, parse_type(t)) for c, t in COL_RE.findall(body)]
        tables[f"{schema}.{name}"] = {"db": db, "columns": cols}
    return tables


# --------------------------------------------------------------------------- value checks
INT_RANGES = {
    "TinyInt": (0, 255),
    "SmallInt": (-32768, 32767),
    "Int": (-2**31, 2**31 - 1),
    "BigInt": (-2**63, 2**63 - 1),
}
# CHAR(1) columns in the assets that are Y/N flags
YN_COLUMNS = {"Active", "ControlledSubstanceFlag", "Inactive", "IsChronicCondition", "IsActive",
              "HereditaryRiskFlag", "IsInactive"}


def check_value(where, col, typ, v):
    kind = typ[0]
    if v == "":
        return  # NULL
    if kind in INT_RANGES:
        if not re.fullmatch(r"-?\d+", v):
            return err(f"{where}: {col}={v!r} is not an integer")
        lo, hi = INT_RANGES[kind]
        if not lo <= int(v) <= hi:
            err(f"{where}: {col}={v} outside {kind} range")
    elif kind == "Bit":
        if v not in ("0", "1"):
            err(f"{where}: {col}={v!r} is not BIT 0/1")
    elif kind in ("Decimal", "Numeric"):
        p, s = typ[1], typ[2]
        m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?", v)
        if not m:
            return err(f"{where}: {col}={v!r} is not a decimal")
        ip, fp = m.group(1).lstrip("0"), m.group(2) or ""
        if len(fp) > s or len(ip) > p - s:
            err(f"{where}: {col}={v} does not fit {kind}({p},{s})")
    elif kind == "Char":
        if len(v) > typ[1]:
            err(f"{where}: {col}={v!r} longer than CHAR({typ[1]})")
        if typ[1] == 1 and col in YN_COLUMNS and v not in ("Y", "N"):
            err(f"{where}: {col}={v!r} should be Y or N")
    elif kind in ("VarChar", "NVarChar"):
        n = typ[1]
        if n is not None and len(v) > n:
            err(f"{where}: {col} length {len(v)} > {kind}({n}): {v[:40]!r}")
    elif kind == "Date":
        try:
            datetime.strptime(v, "%Y-%m-%d")
        except ValueError:
            err(f"{where}: {col}={v!r} is not YYYY-MM-DD")
    elif kind in ("DateTime", "DateTime2"):
        try:
            datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            err(f"{where}: {col}={v!r} is not YYYY-MM-DD HH:MM:SS")
    else:
        err(f"{where}: unknown SQL type {typ}")


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def read_dicts(name):
    header, rows = read_csv(os.path.join(HERE, name))
    return [dict(zip(header, r)) for r in rows]


# --------------------------------------------------------------------------- table files
def check_tables(catalog):
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".csv") and f.count(".") == 2)
    data = {}
    for fname in files:
        key = fname[:-4]
        if key not in catalog:
            err(f"{fname}: no table {key} in catalog")
            continue
        cols = catalog[key]["columns"]
        header, rows = read_csv(os.path.join(HERE, fname))
        expected = [c for c, _ in cols]
        if header != expected:
            err(f"{fname}: header {header} != catalog {expected}")
            continue
        if not rows:
            err(f"{fname}: no data rows")
        keys = []
        for i, r in enumerate(rows, 2):
            if len(r) != len(cols):
                err(f"{fname}:{i}: {len(r)} fields, expected {len(cols)}")
                continue
            for (c, t), v in zip(cols, r):
                check_value(f"{fname}:{i}", c, t, v)
            keys.append(r[0])
        if any(k == "" for k in keys):
            err(f"{fname}: empty key")
        ints = [int(k) for k in keys if re.fullmatch(r"\d+", k)]
        if len(ints) != len(keys) or any(k <= 0 for k in ints):
            err(f"{fname}: keys must be positive integers")
        if len(set(keys)) != len(keys):
            err(f"{fname}: duplicate keys {[k for k, n in Counter(keys).items() if n > 1]}")
        if expected[0].endswith("SID") and ints and sorted(ints) != list(range(1, len(ints) + 1)):
            err(f"{fname}: {expected[0]} values are not 1..{len(ints)}")
        data[key] = [dict(zip(header, r)) for r in rows]
    return data


# --------------------------------------------------------------------------- helpers
def luhn_npi_ok(npi):
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = "80840" + npi
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def dea_ok(dea, last):
    m = re.fullmatch(r"([A-Z])([A-Z9])(\d{7})", dea)
    if not m:
        return False
    d = [int(c) for c in m.group(3)]
    chk = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return chk == d[6] and m.group(2) == last[0].upper()


CHARLSON = {
    "Myocardial Infarction": 1, "Congestive Heart Failure": 1, "Peripheral Vascular Disease": 1,
    "Cerebrovascular Disease": 1, "Dementia": 1, "Chronic Pulmonary Disease": 1, "Rheumatic Disease": 1,
    "Peptic Ulcer Disease": 1, "Mild Liver Disease": 1, "Diabetes without Complication": 1,
    "Diabetes with Complication": 2, "Hemiplegia or Paraplegia": 2, "Moderate or Severe Renal Disease": 2,
    "Any Malignancy": 2, "Moderate or Severe Liver Disease": 3, "Metastatic Solid Tumor": 6, "AIDS/HIV": 6,
}
PLACEHOLDERS = {"age", "sex", "problem_1", "problem_2", "med_1", "med_2", "bp", "pulse", "temp", "weight_lb",
                "a1c", "ldl", "facility", "author", "date", "followup_weeks"}
ROLES = {"PHYSICIAN", "NURSE_PRACTITIONER", "PHYSICIAN_ASSISTANT", "NURSE", "PHARMACIST", "LAB_TECH",
         "PSYCHOLOGIST", "SOCIAL_WORKER"}


def expect_header(name, header):
    h, _ = read_csv(os.path.join(HERE, name))
    if h != header:
        err(f"{name}: header {h} != {header}")


# --------------------------------------------------------------------------- domain checks
def check_domain(d):
    sta = d["Dim.Sta3n"]
    active = {int(r["Sta3n"]) for r in sta if r["Active"] == "Y"}
    all_sta = {int(r["Sta3n"]) for r in sta}
    if len(sta) != 28 or len(active) != 21:
        err(f"Dim.Sta3n: expected 28 rows / 21 active, got {len(sta)} / {len(active)}")
    for must in (402, 442, 508, 509, 516, 518, 528, 531, 552, 589, 640, 663, 687, 688):
        if must not in active:
            err(f"Dim.Sta3n: {must} missing or not active")
    for banned in (200, 500, 630, 648):
        if banned in all_sta:
            err(f"Dim.Sta3n: {banned} must not be present")
    for r in sta:
        if not r["Sta3nName"].startswith(f"({r['Sta3n']}) "):
            err(f"Dim.Sta3n: name format {r['Sta3nName']!r}")

    # locations
    loc = {r["LocationSID"]: r for r in d["Dim.Location"]}
    types = {"CLINIC", "WARD", "LAB", "PHARMACY", "EMERGENCY", "RADIOLOGY", "OTHER"}
    for r in loc.values():
        if r["LocationType"] not in types:
            err(f"Dim.Location {r['LocationSID']}: bad LocationType {r['LocationType']}")
    expect_header("location_station.csv", ["LocationSID", "Sta3n"])
    ls = read_dicts("location_station.csv")
    mapped = Counter(r["LocationSID"] for r in ls)
    if set(mapped) != set(loc) or any(n != 1 for n in mapped.values()):
        err("location_station.csv: must map every Dim.Location row exactly once")
    prev = 0
    for r in ls:
        s = int(r["Sta3n"])
        if s not in active:
            err(f"location_station.csv: LocationSID {r['LocationSID']} -> inactive/unknown Sta3n {s}")
        if s < prev:
            err("location_station.csv / Dim.Location: rows are not grouped by ascending Sta3n")
        prev = s
    if {int(r["Sta3n"]) for r in ls} != active:
        err("location_station.csv: every active station needs locations")

    # staff
    staff = {r["StaffSID"]: r for r in d["SStaff.SStaff"]}
    expect_header("staff_roles.csv", ["StaffSID", "Role", "Sta3n"])
    roles = read_dicts("staff_roles.csv")
    if Counter(r["StaffSID"] for r in roles) != Counter(staff.keys()):
        err("staff_roles.csv: must list every SStaff row exactly once")
    per_station = defaultdict(Counter)
    for r in roles:
        if r["Role"] not in ROLES:
            err(f"staff_roles.csv: bad role {r['Role']}")
        if int(r["Sta3n"]) not in active:
            err(f"staff_roles.csv: StaffSID {r['StaffSID']} at non-active station {r['Sta3n']}")
        per_station[int(r["Sta3n"])][r["Role"]] += 1
        s = staff.get(r["StaffSID"])
        if not s:
            continue
        if s["StaffName"] != f"{s['LastName'].upper()},{s['FirstName'].upper()}":
            err(f"SStaff {s['StaffSID']}: StaffName not LAST,FIRST")
        if s["NPI"] and not luhn_npi_ok(s["NPI"]):
            err(f"SStaff {s['StaffSID']}: NPI check digit invalid")
        if s["DEA"] and not dea_ok(s["DEA"], s["LastName"]):
            err(f"SStaff {s['StaffSID']}: DEA number invalid")
        if r["Role"] in ("PHYSICIAN", "NURSE_PRACTITIONER", "PHYSICIAN_ASSISTANT") and not (s["DEA"] and s["NPI"]):
            err(f"SStaff {s['StaffSID']}: prescriber without DEA/NPI")
    for s in active:
        if per_station[s]["PHYSICIAN"] < 2 or per_station[s]["NURSE"] < 2:
            err(f"staff_roles.csv: station {s} needs >=2 physicians and >=2 nurses")

    # vitals
    vt = d["Dim.VitalType"]
    if [r["VitalType"] for r in vt] != ["BLOOD PRESSURE", "TEMPERATURE", "PULSE", "RESPIRATION", "HEIGHT", "WEIGHT",
                                        "PAIN", "PULSE OXIMETRY", "BLOOD GLUCOSE", "BMI"]:
        err("Dim.VitalType: unexpected types/order")
    if len(d["Dim.VitalQualifier"]) != 16:
        err("Dim.VitalQualifier: expected 16 rows")
    if {r["AllergenType"] for r in d["Dim.Allergen"]} != {"DRUG", "FOOD", "ENVIRONMENTAL"}:
        err("Dim.Allergen: AllergenType must be DRUG/FOOD/ENVIRONMENTAL")
    if [(r["SeverityName"], r["SeverityRank"]) for r in d["Dim.AllergySeverity"]] != [("MILD", "1"), ("MODERATE", "2"), ("SEVERE", "3")]:
        err("Dim.AllergySeverity: expected MILD 1 / MODERATE 2 / SEVERE 3")

    # drugs
    nat = {r["NationalDrugSID"]: r for r in d["Dim.NationalDrug"]}
    generics = [r["GenericName"] for r in nat.values()]
    if len(set(generics)) != len(generics):
        err("Dim.NationalDrug: GenericName must be unique")
    for r in nat.values():
        if not re.fullmatch(r"\d{5}-\d{4}-\d{2}", r["NDCCode"]):
            err(f"Dim.NationalDrug {r['NationalDrugSID']}: NDC {r['NDCCode']!r} not 5-4-2")
        controlled = r["ControlledSubstanceFlag"] == "Y"
        if controlled != bool(r["DEASchedule"]):
            err(f"Dim.NationalDrug {r['NationalDrugSID']}: DEASchedule/ControlledSubstanceFlag mismatch")
        if r["DEASchedule"] and r["DEASchedule"] not in ("C-II", "C-III", "C-IV", "C-V"):
            err(f"Dim.NationalDrug {r['NationalDrugSID']}: DEASchedule {r['DEASchedule']}")
        if (r["Inactive"] == "Y") != bool(r["InactiveDate"]):
            err(f"Dim.NationalDrug {r['NationalDrugSID']}: Inactive/InactiveDate mismatch")
    local_per_nat = Counter()
    for r in d["Dim.LocalDrug"]:
        n = nat.get(r["NationalDrugSID"])
        if not n:
            err(f"Dim.LocalDrug {r['LocalDrugSID']}: NationalDrugSID {r['NationalDrugSID']} not found")
            continue
        if r["NationalDrugIEN"] != n["NationalDrugIEN"]:
            err(f"Dim.LocalDrug {r['LocalDrugSID']}: NationalDrugIEN does not match national drug")
        if int(r["Sta3n"]) not in active:
            err(f"Dim.LocalDrug {r['LocalDrugSID']}: Sta3n {r['Sta3n']} not active")
        if r["Inactive"] == "Y" and not r["InactiveDate"]:
            err(f"Dim.LocalDrug {r['LocalDrugSID']}: Inactive=Y without InactiveDate")
        local_per_nat[r["NationalDrugSID"]] += 1
    for sid in nat:
        if not 1 <= local_per_nat[sid] <= 3:
            err(f"Dim.LocalDrug: national drug {sid} appears at {local_per_nat[sid]} stations (want 1-3)")

    # flags
    fl = d["Dim.PatientRecordFlag"]
    if len(fl) != 15:
        err("Dim.PatientRecordFlag: expected 15 rows")
    for r in fl:
        cat_ok = (r["FlagCategory"], r["FlagSourceType"]) in (("I", "N"), ("II", "L"))
        ien_ok = (r["NationalFlagIEN"] != "") == (r["FlagCategory"] == "I") and (r["LocalFlagIEN"] != "") == (r["FlagCategory"] == "II")
        if not (cat_ok and ien_ok):
            err(f"Dim.PatientRecordFlag {r['PatientRecordFlagSID']}: category/source/IEN inconsistent")
        if r["FlagType"] not in ("CLINICAL", "BEHAVIORAL", "RESEARCH", "ADMINISTRATIVE"):
            err(f"Dim.PatientRecordFlag {r['PatientRecordFlagSID']}: FlagType {r['FlagType']}")

    # labs
    labs = d["Dim.LabTest"]
    etl_labs = [r for r in labs if r["IsActive"] == "1" and r["VistaPackage"] == "CH"]
    if len(etl_labs) != 43:
        err(f"Dim.LabTest: {len(etl_labs)} active CH tests, expected 43")
    panels = Counter(r["PanelName"] or "(individual)" for r in etl_labs)
    want = {"BMP": 7, "CBC": 8, "CMP": 7, "LFT": 1, "Lipid Panel": 5, "Urinalysis": 10, "(individual)": 5}
    if dict(panels) != want:
        err(f"Dim.LabTest: panel counts {dict(panels)} != {want}")
    for r in labs:
        if (r["PanelName"] == "") != (r["IsPanel"] == "0"):
            err(f"Dim.LabTest {r['LabTestSID']}: IsPanel/PanelName inconsistent")
    expect_header("lab_ranges.csv", ["LabTestSID", "CriticalLow", "CriticalHigh", "Decimals", "TypicalMean", "TypicalSD"])
    lr = read_dicts("lab_ranges.csv")
    if sorted(r["LabTestSID"] for r in lr) != sorted(r["LabTestSID"] for r in labs):
        err("lab_ranges.csv: must have one row per Dim.LabTest row")
    for r in lr:
        for c in ("CriticalLow", "CriticalHigh", "TypicalMean", "TypicalSD"):
            if r[c] and not re.fullmatch(r"-?\d+(\.\d+)?", r[c]):
                err(f"lab_ranges.csv {r['LabTestSID']}: {c}={r[c]!r} not numeric")
        if r["Decimals"] and not re.fullmatch(r"\d", r["Decimals"]):
            err(f"lab_ranges.csv {r['LabTestSID']}: Decimals {r['Decimals']!r}")

    # TIU / vaccines
    tiu_titles = {r["TIUDocumentTitle"] for r in d["Dim.TIUDocumentDefinition"]}
    if len(tiu_titles) != 13:
        err("Dim.TIUDocumentDefinition: expected 13 distinct titles")
    for key in ("Dim.Vaccine", "ImmunizationMill.VaccineCode"):
        for r in d[key]:
            if not re.fullmatch(r"\d{3}", r["CVXCode"]):
                err(f"{key}: CVXCode {r['CVXCode']!r} is not a zero-padded 3-digit string")
    if len(d["Dim.Vaccine"]) != 30 or len(d["ImmunizationMill.VaccineCode"]) != 15:
        err("vaccine dims: expected 30 CDWWork and 15 CDWWork2 rows")

    # ICD10 / Charlson / problem terms
    icd = d["Dim.ICD10"]
    if len(icd) != 50:
        err("Dim.ICD10: expected 50 rows")
    cm = d["Dim.CharlsonMapping"]
    if len(cm) != 63:
        err("Dim.CharlsonMapping: expected 63 rows")
    cm_by_code = {}
    for r in cm:
        if r["CharlsonCondition"] not in CHARLSON:
            err(f"Dim.CharlsonMapping {r['CharlsonMappingSID']}: unknown condition {r['CharlsonCondition']!r}")
        elif int(r["CharlsonWeight"]) != CHARLSON[r["CharlsonCondition"]]:
            err(f"Dim.CharlsonMapping {r['CharlsonMappingSID']}: wrong weight")
        if r["ICD10Code"] in cm_by_code:
            err(f"Dim.CharlsonMapping: {r['ICD10Code']} mapped twice")
        cm_by_code[r["ICD10Code"]] = r["CharlsonCondition"]
    if {r["CharlsonCondition"] for r in cm} != set(CHARLSON):
        err("Dim.CharlsonMapping: all 17 conditions must be used")
    for r in icd:
        c = r["CharlsonCondition"]
        if c and c not in CHARLSON:
            err(f"Dim.ICD10 {r['ICD10Code']}: unknown CharlsonCondition {c!r}")
        if c and cm_by_code.get(r["ICD10Code"]) != c:
            err(f"Dim.ICD10 {r['ICD10Code']}: CharlsonCondition not mirrored in Dim.CharlsonMapping")
    expect_header("problem_terms.csv", ["ICD10Code", "SNOMEDCode", "SNOMEDDescription", "Prevalence", "TypicalOnsetAge", "IsChronic"])
    pt = read_dicts("problem_terms.csv")
    if sorted(r["ICD10Code"] for r in pt) != sorted(r["ICD10Code"] for r in icd):
        err("problem_terms.csv: must have exactly one row per Dim.ICD10 code")
    for r in pt:
        if not re.fullmatch(r"\d{6,18}", r["SNOMEDCode"]):
            err(f"problem_terms.csv {r['ICD10Code']}: SNOMEDCode {r['SNOMEDCode']!r}")
        if not (r["Prevalence"].isdigit() and 1 <= int(r["Prevalence"]) <= 100):
            err(f"problem_terms.csv {r['ICD10Code']}: Prevalence {r['Prevalence']!r}")
        if not (r["TypicalOnsetAge"].isdigit() and 0 < int(r["TypicalOnsetAge"]) < 110):
            err(f"problem_terms.csv {r['ICD10Code']}: TypicalOnsetAge {r['TypicalOnsetAge']!r}")
        if r["IsChronic"] not in ("Y", "N"):
            err(f"problem_terms.csv {r['ICD10Code']}: IsChronic {r['IsChronic']!r}")

    # family / insurance / code values
    if len(d["Dim.FamilyRelationship"]) != 14 or len(d["Dim.FamilyCondition"]) != 20:
        err("family dims: expected 14 relationships and 20 conditions")
    if {r["Degree"] for r in d["Dim.FamilyRelationship"]} != {"FIRST_DEGREE", "SECOND_DEGREE", "THIRD_DEGREE"}:
        err("Dim.FamilyRelationship: Degree values")
    for r in d["Dim.InsuranceCompany"]:
        if int(r["Sta3n"]) not in active:
            err(f"Dim.InsuranceCompany {r['InsuranceCompanySID']}: Sta3n not active")
    sets = Counter(r["CodeSet"] for r in d["NDimMill.CodeValue"])
    want = {"VITAL_TYPE": 8, "UNIT": 10, "ALLERGEN": 13, "REACTION": 13, "SEVERITY": 4,
            "FAMILY_RELATIONSHIP": 13, "FAMILY_HISTORY_CONDITION": 13, "FAMILY_HISTORY_STATUS": 3}
    if dict(sets) != want:
        err(f"NDimMill.CodeValue: code set sizes {dict(sets)} != {want}")
    return nat, active, tiu_titles


def check_non_tables(nat, active, tiu_titles):
    # names and streets
    for fname, minimum in (("names_first_male.txt", 150), ("names_first_female.txt", 150), ("names_last.txt", 400),
                           ("streets.txt", 150)):
        lines = open(os.path.join(HERE, fname), encoding="utf-8").read().split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        if len(lines) < minimum:
            err(f"{fname}: {len(lines)} lines, need >= {minimum}")
        if len(set(lines)) != len(lines) or any(not x.strip() or x != x.strip() for x in lines):
            err(f"{fname}: blank, padded or duplicate lines")
        if fname == "streets.txt" and any(re.search(r"\d", x) for x in lines):
            err("streets.txt: street names must not contain numbers")
    # addresses
    expect_header("addresses.csv", ["Sta3n", "City", "County", "State", "Zip"])
    per = Counter()
    for r in read_dicts("addresses.csv"):
        s = int(r["Sta3n"])
        per[s] += 1
        if s not in active:
            err(f"addresses.csv: Sta3n {s} not active")
        if not re.fullmatch(r"\d{5}", r["Zip"]) or not re.fullmatch(r"[A-Z]{2}", r["State"]):
            err(f"addresses.csv: bad zip/state {r}")
    for s in active:
        if not 6 <= per[s] <= 12:
            err(f"addresses.csv: station {s} has {per[s]} cities (want 6-12)")

    # DDI reference
    expect_header("db_drug_interactions.csv", ["Drug 1", "Drug 2", "Interaction Description"])
    generics = {r["GenericName"] for r in nat.values()}
    pairs = set()
    for i, r in enumerate(read_dicts("db_drug_interactions.csv"), 2):
        a, b, desc = r["Drug 1"], r["Drug 2"], r["Interaction Description"]
        for x in (a, b):
            if x not in generics:
                err(f"db_drug_interactions.csv:{i}: {x!r} is not a Dim.NationalDrug GenericName")
        if a == b:
            err(f"db_drug_interactions.csv:{i}: self pair {a}")
        key = frozenset((a, b))
        if key in pairs:
            err(f"db_drug_interactions.csv:{i}: duplicate pair {a} / {b}")
        pairs.add(key)
        if len(desc) < 30:
            err(f"db_drug_interactions.csv:{i}: description too short")
    if len(pairs) < 180:
        err(f"db_drug_interactions.csv: {len(pairs)} pairs, need >= 180")
    covered = {x for p in pairs for x in p}
    if len(covered) / len(generics) < 0.85:
        err(f"db_drug_interactions.csv: covers {len(covered)}/{len(generics)} national drugs (< 85%)")

    # note templates
    notes = json.load(open(os.path.join(HERE, "note_templates.json"), encoding="utf-8"))
    if not isinstance(notes, list) or len(notes) < 30:
        err("note_templates.json: need an array of >= 30 templates")
        return
    per_title = Counter()
    for i, n in enumerate(notes):
        if set(n) != {"title", "body"}:
            err(f"note_templates.json[{i}]: keys must be title/body")
            continue
        if n["title"] not in tiu_titles:
            err(f"note_templates.json[{i}]: title {n['title']!r} not in Dim.TIUDocumentDefinition")
        per_title[n["title"]] += 1
        body = n["body"]
        if not 600 <= len(body) <= 2500:
            err(f"note_templates.json[{i}]: body length {len(body)} outside 600-2500")
        found = set(re.findall(r"\{([^{}]*)\}", body))
        if found - PLACEHOLDERS:
            err(f"note_templates.json[{i}]: unknown placeholders {sorted(found - PLACEHOLDERS)}")
        rest = re.sub(r"\{(?:%s)\}" % "|".join(PLACEHOLDERS), "", body)
        if "{" in rest or "}" in rest:
            err(f"note_templates.json[{i}]: stray brace")
    for t in tiu_titles:
        need = 1 if t == "DEATH NOTE" else 2
        if per_title[t] < need:
            err(f"note_templates.json: title {t!r} has {per_title[t]} templates, need {need}")


def check_no_machine_paths():
    pat = re.compile(r"(/work/|/tmp/|/home/|/root/|[A-Za-z]:\\\\)")
    for f in sorted(os.listdir(HERE)):
        p = os.path.join(HERE, f)
        if os.path.isfile(p) and f != os.path.basename(__file__):
            text = open(p, encoding="utf-8", errors="replace").read()
            if pat.search(text):
                err(f"{f}: contains an absolute machine path")


def main():
    if not os.path.exists(CATALOG):
        print(f"catalog not found: {CATALOG}")
        return 1
    catalog = load_catalog()
    if len(catalog) < 40:
        err(f"catalog parse found only {len(catalog)} tables")
    data = check_tables(catalog)
    required = ["Dim.Sta3n", "Dim.Location", "SStaff.SStaff", "Dim.VitalType", "Dim.VitalQualifier", "Dim.Allergen",
                "Dim.Reaction", "Dim.AllergySeverity", "Dim.NationalDrug", "Dim.LocalDrug", "Dim.PatientRecordFlag",
                "Dim.LabTest", "Dim.TIUDocumentDefinition", "Dim.Vaccine", "Dim.ICD10", "Dim.CharlsonMapping",
                "Dim.FamilyRelationship", "Dim.FamilyCondition", "Dim.InsuranceCompany", "NDimMill.CodeValue",
                "ImmunizationMill.VaccineCode"]
    missing = [t for t in required if t not in data]
    if missing:
        err(f"missing table files: {missing}")
    else:
        nat, active, tiu = check_domain(data)
        check_non_tables(nat, active, tiu)
    check_no_machine_paths()
    for e in ERRORS:
        print("FAIL", e)
    counts = ", ".join(f"{k}={len(v)}" for k, v in sorted(data.items()))
    print(f"checked {len(data)} table files ({counts})")
    print("OK" if not ERRORS else f"{len(ERRORS)} problem(s)")
    return 0 if not ERRORS else 1


if __name__ == "__main__":
    sys.exit(main())
