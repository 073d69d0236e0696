//! Demographics: SPatient + primary address, phone, insurance and
//! service-connected percentage → `clinical.patient_demographics`.
//!
//! Dedup policy: one row per ICN. When several SPatient rows share an ICN
//! (a patient registered at several stations), the lowest PatientSID wins.
//! Primary address = OrdinalNumber 1 and type HOME, lowest SPatientAddressSID;
//! primary phone = OrdinalNumber 1, lowest SPatientPhoneSID; insurance = the
//! latest PolicyEffectiveDate (ties: highest SID); disability = highest
//! SPatientDisabilitySID.

use super::{Output, Pipeline};
use crate::common::{self, clean, clean_upper, int_text};
use crate::ctx::Ctx;
use anyhow::Result;
use cdw::catalog as c;
use domain::ids::Icn;
use polars::prelude::*;

pub static PIPELINE: Pipeline = Pipeline {
    name: "demographics",
    tables: &[
        &c::S_PATIENT_S_PATIENT,
        &c::S_PATIENT_S_PATIENT_ADDRESS,
        &c::S_PATIENT_S_PATIENT_PHONE,
        &c::S_PATIENT_S_PATIENT_DISABILITY,
        &c::S_PATIENT_S_PATIENT_INSURANCE,
        &c::DIM_INSURANCE_COMPANY,
    ],
    silver,
    gold,
    outputs: &[Output {
        gold: "patient_demographics/patient_demographics",
        table: &store::catalog::PATIENT_DEMOGRAPHICS,
    }],
};

const DOMAIN: &str = "demographics";

fn first_by(lf: LazyFrame, key: &str, by: &[&str], descending: &[bool]) -> LazyFrame {
    lf.sort(
        by.iter()
            .map(|s| PlSmallStr::from_str(s))
            .collect::<Vec<_>>(),
        SortMultipleOptions::default()
            .with_order_descending_multi(descending.to_vec())
            .with_nulls_last(true)
            .with_maintain_order(true),
    )
    .unique_stable(Some(cols([key])), UniqueKeepStrategy::First)
}

fn silver(ctx: &Ctx) -> Result<()> {
    let patients = ctx.bronze(&c::S_PATIENT_S_PATIENT)?.select([
        col("PatientSID").cast(DataType::Int64).alias("patient_sid"),
        clean("PatientICN").alias("icn"),
        clean("PatientSSN").alias("ssn"),
        clean("PatientLastName").alias("name_last"),
        clean("PatientFirstName").alias("name_first"),
        col("BirthDateTime").cast(DataType::Date).alias("dob"),
        clean_upper("Gender").alias("sex"),
        int_text("Sta3n").alias("primary_station"),
        clean("MaritalStatus").alias("marital_status"),
        clean("Religion").alias("religion"),
        clean_upper("DeceasedFlag").alias("deceased_flag"),
        col("DeathDateTime")
            .cast(DataType::Date)
            .alias("death_date"),
        clean_upper("VeteranFlag").alias("veteran_flag"),
        clean_upper("TestPatientFlag").alias("test_flag"),
        clean_upper("SensitiveFlag").alias("sensitive_flag"),
    ]);
    let mut patients = patients.collect()?;
    // Rows without a valid ICN cannot be served: quarantine them.
    let icns = common::texts(&patients, "icn")?;
    let bad: Vec<bool> = icns
        .iter()
        .map(|i| i.as_deref().is_none_or(|i| i.parse::<Icn>().is_err()))
        .collect();
    common::with_series(&mut patients, common::series("__bad_icn", bad))?;
    let patients = common::quarantine_where(
        ctx,
        DOMAIN,
        "SPatient.SPatient",
        patients,
        "patient_sid",
        common::Check {
            bad: col("__bad_icn"),
            reason: "invalid ICN",
            detail: "PatientICN is missing or not a valid ICN",
        },
    )?
    .drop("__bad_icn")?;
    let patients = first_by(
        patients.lazy(),
        "icn",
        &["icn", "patient_sid"],
        &[false, false],
    );

    let address = first_by(
        ctx.bronze(&c::S_PATIENT_S_PATIENT_ADDRESS)?
            .filter(
                col("OrdinalNumber")
                    .eq(lit(1))
                    .and(clean_upper("AddressType").eq(lit("HOME"))),
            )
            .select([
                col("PatientSID").cast(DataType::Int64).alias("__sid"),
                col("SPatientAddressSID").alias("__addr_sid"),
                clean("StreetAddress1").alias("address_street1"),
                clean("StreetAddress2").alias("address_street2"),
                clean("City").alias("address_city"),
                clean_upper("State").alias("address_state"),
                clean("Zip").alias("address_zip"),
            ]),
        "__sid",
        &["__sid", "__addr_sid"],
        &[false, false],
    )
    .drop(cols(["__addr_sid"]));
    let phone = first_by(
        ctx.bronze(&c::S_PATIENT_S_PATIENT_PHONE)?
            .filter(col("OrdinalNumber").eq(lit(1)))
            .select([
                col("PatientSID").cast(DataType::Int64).alias("__sid"),
                col("SPatientPhoneSID").alias("__phone_sid"),
                clean("PhoneNumber").alias("phone_primary"),
            ]),
        "__sid",
        &["__sid", "__phone_sid"],
        &[false, false],
    )
    .drop(cols(["__phone_sid"]));
    let companies = ctx
        .bronze(&c::DIM_INSURANCE_COMPANY)?
        .select([
            col("InsuranceCompanySID")
                .cast(DataType::Int64)
                .alias("__company"),
            clean("InsuranceCompanyName").alias("insurance_company_name"),
        ])
        // A repeated company SID must not duplicate the patient row.
        .unique_stable(Some(cols(["__company"])), UniqueKeepStrategy::First);
    let insurance = first_by(
        ctx.bronze(&c::S_PATIENT_S_PATIENT_INSURANCE)?.select([
            col("PatientSID").cast(DataType::Int64).alias("__sid"),
            col("SPatientInsuranceSID").alias("__ins_sid"),
            col("PolicyEffectiveDate"),
            col("InsuranceCompanySID")
                .cast(DataType::Int64)
                .alias("__company"),
        ]),
        "__sid",
        &["__sid", "PolicyEffectiveDate", "__ins_sid"],
        &[false, true, true],
    )
    .join(
        companies,
        [col("__company")],
        [col("__company")],
        JoinArgs::new(JoinType::Left),
    )
    .select([col("__sid"), col("insurance_company_name")]);
    let disability = first_by(
        ctx.bronze(&c::S_PATIENT_S_PATIENT_DISABILITY)?.select([
            col("PatientSID").cast(DataType::Int64).alias("__sid"),
            col("SPatientDisabilitySID").alias("__dis_sid"),
            col("ServiceConnectedPercent")
                .cast(DataType::Float64)
                .alias("service_connected_percent"),
        ]),
        "__sid",
        &["__sid", "__dis_sid"],
        &[false, true],
    )
    .drop(cols(["__dis_sid"]));

    let join = |lf: LazyFrame, other: LazyFrame| {
        lf.join(
            other,
            [col("patient_sid")],
            [col("__sid")],
            JoinArgs::new(JoinType::Left),
        )
    };
    let mut df = join(
        join(join(join(patients, address), phone), insurance),
        disability,
    )
    .sort(["icn"], SortMultipleOptions::default())
    .collect()?;
    ctx.write_silver(DOMAIN, "patient_cleaned", &mut df)
}

/// Whole years from `dob` to `as_of`.
pub fn age_on(dob: chrono::NaiveDate, as_of: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    let mut years = i64::from(as_of.year() - dob.year());
    if (as_of.month(), as_of.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years.max(0)
}

fn gold(ctx: &Ctx) -> Result<()> {
    let facilities = common::facility_names(ctx)?;
    let mut df = common::lookup(
        ctx.silver(DOMAIN, "patient_cleaned")?,
        col("primary_station"),
        facilities,
        "__sta3n",
        &[("facility_name", "primary_station_name")],
    )
    .with_columns([
        col("icn").alias("patient_key"),
        lit("CDWWork").alias("source_system"),
        col("patient_sid").cast(DataType::String).alias("source_id"),
        col("ssn").str().slice(lit(-4), lit(4)).alias("ssn_last4"),
        when(col("name_first").is_null())
            .then(col("name_last"))
            .otherwise(concat_str(
                [col("name_last"), col("name_first")],
                ", ",
                true,
            ))
            .alias("name_display"),
        when(col("sex").eq(lit("M")))
            .then(lit("Male"))
            .when(col("sex").eq(lit("F")))
            .then(lit("Female"))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias("gender"),
        when(col("veteran_flag").eq(lit("Y")))
            .then(lit("Veteran"))
            .when(col("veteran_flag").eq(lit("N")))
            .then(lit("Non-veteran"))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias("veteran_status"),
        col("test_flag")
            .eq(lit("Y"))
            .fill_null(lit(false))
            .alias("is_test_patient"),
        col("sensitive_flag")
            .eq(lit("Y"))
            .fill_null(lit(false))
            .alias("is_sensitive"),
        when(col("deceased_flag").eq(lit("Y")))
            .then(lit("Y"))
            .otherwise(lit("N"))
            .alias("deceased_flag"),
    ])
    .collect()?;
    let dobs = df.column("dob")?.cast(&DataType::Int32)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let ages: Vec<Option<i64>> = dobs
        .i32()?
        .iter()
        .map(|d| d.map(|d| age_on(epoch + chrono::Duration::days(d.into()), ctx.as_of)))
        .collect();
    common::with_series(&mut df, common::series("age", ages))?;
    let mut df = df
        .lazy()
        .select(
            store::catalog::PATIENT_DEMOGRAPHICS
                .columns
                .iter()
                .filter(|c| c.name != "last_updated")
                .map(|c| col(c.name))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    ctx.write_gold("patient_demographics/patient_demographics", &mut df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestLake, s, some, ts};

    const GOLD: &str = "patient_demographics/patient_demographics";

    #[test]
    fn age_counts_whole_years() {
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(age_on(d(1950, 6, 15), d(2025, 6, 14)), 74);
        assert_eq!(age_on(d(1950, 6, 15), d(2025, 6, 15)), 75);
        assert_eq!(age_on(d(2030, 1, 1), d(2025, 1, 1)), 0);
    }

    fn date(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every demographics input, empty except two stations; tests put the
    /// rows they exercise.
    fn lake() -> TestLake {
        let lake = TestLake::new();
        lake.put_bronze(
            &c::DIM_STA3N,
            df!(
                "Sta3n" => [508i64, 589],
                "Sta3nName" => ["(508) Atlanta, GA", "(589) Kansas City, MO"],
                "Active" => ["Y", "N"],
            )
            .unwrap(),
        );
        for &t in PIPELINE.tables.iter().filter(|t| t.name != "SPatient") {
            lake.put_bronze(t, DataFrame::empty());
        }
        lake
    }

    fn run(lake: &TestLake) -> DataFrame {
        silver(&lake.ctx).unwrap();
        gold(&lake.ctx).unwrap();
        lake.ctx.gold(GOLD).unwrap()
    }

    /// Dirt: NULL (or blank) optional columns — religion, marital status,
    /// gender, flags, zip+4 — and a patient with no address, phone,
    /// insurance or disability row. The patient is still served, the gaps
    /// are NULL (never `""`), the required booleans default to false, and an
    /// inactive station still names the patient's home station.
    #[test]
    fn null_optional_columns_stay_null() {
        let lake = lake();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002],
                "PatientICN" => ["ICN100001", "ICN100002"],
                "PatientSSN" => [Some("666-12-6789"), None],
                "PatientLastName" => ["DOOREE", "ROE "],
                "PatientFirstName" => [Some("ADAM"), None],
                "BirthDateTime" => [Some(ts("1980-01-02 00:00")), None],
                "Gender" => [Some("M"), None],
                "Sta3n" => [508i64, 589],
                "MaritalStatus" => [Some("MARRIED"), Some("  ")],
                "Religion" => [Some("CATHOLIC"), None],
                "DeceasedFlag" => [Some("N"), None],
                "VeteranFlag" => [Some("Y"), None],
                "TestPatientFlag" => [Some("N"), None],
                "SensitiveFlag" => [Some("N"), None],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT_ADDRESS,
            df!(
                "SPatientAddressSID" => [1i64],
                "PatientSID" => [1001i64],
                "OrdinalNumber" => [1i64],
                "AddressType" => ["HOME"],
                "StreetAddress1" => ["12 MAIN ST"],
                "StreetAddress2" => [None::<&str>],
                "City" => ["ATLANTA"],
                "State" => ["ga"],
                "Zip" => ["30303"],
                "Zip4" => [None::<&str>],
            )
            .unwrap(),
        );
        let df = run(&lake);
        assert!(lake.ctx.quarantined(DOMAIN).is_empty());
        assert_eq!(s(&df, "patient_key"), some(&["ICN100001", "ICN100002"]));
        assert_eq!(s(&df, "religion"), [Some("CATHOLIC".into()), None]);
        assert_eq!(s(&df, "marital_status"), [Some("MARRIED".into()), None]);
        assert_eq!(s(&df, "sex"), [Some("M".into()), None]);
        assert_eq!(s(&df, "gender"), [Some("Male".into()), None]);
        assert_eq!(s(&df, "veteran_status"), [Some("Veteran".into()), None]);
        assert_eq!(s(&df, "name_display"), some(&["DOOREE, ADAM", "ROE"]));
        assert_eq!(s(&df, "ssn_last4"), [Some("6789".into()), None]);
        assert_eq!(s(&df, "deceased_flag"), some(&["N", "N"]));
        assert_eq!(s(&df, "is_test_patient"), some(&["false", "false"]));
        assert_eq!(s(&df, "is_sensitive"), some(&["false", "false"]));
        assert_eq!(common::ints(&df, "age").unwrap(), [Some(45), None]);
        assert_eq!(df.column("dob").unwrap().null_count(), 1);
        // Zip+4 NULL: the zip is still the 5-digit code; no second line.
        assert_eq!(s(&df, "address_street1"), [Some("12 MAIN ST".into()), None]);
        assert_eq!(s(&df, "address_street2"), [None, None]);
        assert_eq!(s(&df, "address_state"), [Some("GA".into()), None]);
        assert_eq!(s(&df, "address_zip"), [Some("30303".into()), None]);
        for c in [
            "phone_primary",
            "insurance_company_name",
            "service_connected_percent",
        ] {
            assert_eq!(s(&df, c), [None, None], "{c}");
        }
        // Station 589 is inactive in Dim.Sta3n but still has a name.
        assert_eq!(s(&df, "primary_station"), some(&["508", "589"]));
        assert_eq!(
            s(&df, "primary_station_name"),
            some(&["(508) Atlanta, GA", "(589) Kansas City, MO"])
        );
    }

    /// Dirt: `PhoneVistaErrorDate` holds a FileMan date (text) for some
    /// phones. The ETL does not read it: the primary phone is still the
    /// lowest-SID phone with OrdinalNumber 1, flagged or not.
    #[test]
    fn phone_with_a_vista_error_date_is_still_primary() {
        let lake = lake();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1001i64, 1002],
                "PatientICN" => ["ICN100001", "ICN100002"],
            )
            .unwrap(),
        );
        // 1001: SID 1 is ordinal 2 (not primary); SID 2 is ordinal 1 with an
        // error date; SID 3 is a later ordinal-1 row. 1002: its only phone
        // carries an error date.
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT_PHONE,
            df!(
                "SPatientPhoneSID" => [1i64, 2, 3, 4],
                "PatientSID" => [1001i64, 1001, 1001, 1002],
                "OrdinalNumber" => [2i64, 1, 1, 1],
                "PhoneType" => ["CELL", "HOME", "HOME", "HOME"],
                "PhoneNumber" => ["(508) 555-0199", "(508) 555-0101 ", "(508) 555-0102", "(589) 555-0104"],
                "PhoneVistaErrorDate" => [None, Some("3231015"), None, Some("3250301")],
            )
            .unwrap(),
        );
        let df = run(&lake);
        assert!(lake.ctx.quarantined(DOMAIN).is_empty());
        assert_eq!(
            s(&df, "phone_primary"),
            some(&["(508) 555-0101", "(589) 555-0104"])
        );
    }

    /// The documented dedup policy: one row per ICN (lowest PatientSID wins,
    /// ICNs compared trimmed), the latest insurance policy, the newest
    /// disability row; a row without a usable ICN is quarantined.
    #[test]
    fn one_row_per_icn_with_the_documented_picks() {
        let lake = lake();
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT,
            df!(
                "PatientSID" => [1501i64, 1001, 1003],
                "PatientICN" => [Some("ICN100001 "), Some("ICN100001"), Some("not an icn")],
                "PatientLastName" => ["OTHER", "DOOREE", "NOBODY"],
                "Sta3n" => [589i64, 508, 508],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::DIM_INSURANCE_COMPANY,
            df!(
                // SID 2 is repeated: it must not duplicate the patient.
                "InsuranceCompanySID" => [1i64, 2, 3, 2],
                "InsuranceCompanyName" => ["OLD CO", "NEW CO", "TIE CO", "NEW CO (DUP)"],
            )
            .unwrap(),
        );
        // 11 is 1001's latest policy (10 is older, 12 undated); 13 belongs to
        // the PatientSID that loses the ICN dedup.
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT_INSURANCE,
            df!(
                "SPatientInsuranceSID" => [10i64, 11, 12, 13],
                "PatientSID" => [1001i64, 1001, 1001, 1501],
                "InsuranceCompanySID" => [1i64, 2, 3, 1],
                "PolicyEffectiveDate" => [
                    Some(date("2020-01-01")),
                    Some(date("2024-01-01")),
                    None,
                    Some(date("2025-01-01")),
                ],
            )
            .unwrap(),
        );
        lake.put_bronze(
            &c::S_PATIENT_S_PATIENT_DISABILITY,
            df!(
                "SPatientDisabilitySID" => [20i64, 21],
                "PatientSID" => [1001i64, 1001],
                "ServiceConnectedPercent" => [30.0, 70.0],
            )
            .unwrap(),
        );
        let df = run(&lake);
        assert_eq!(df.height(), 1);
        assert_eq!(s(&df, "patient_key"), some(&["ICN100001"]));
        assert_eq!(s(&df, "source_id"), some(&["1001"]));
        assert_eq!(s(&df, "name_last"), some(&["DOOREE"]));
        assert_eq!(s(&df, "insurance_company_name"), some(&["NEW CO"]));
        assert_eq!(
            common::floats(&df, "service_connected_percent").unwrap(),
            [Some(70.0)]
        );
        let q: Vec<(String, String)> = lake
            .ctx
            .quarantined(DOMAIN)
            .into_iter()
            .map(|q| (q.source_id, q.reason))
            .collect();
        assert_eq!(q, [("1003".to_string(), "invalid ICN".to_string())]);
    }
}
