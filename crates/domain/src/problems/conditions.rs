//! The fifteen ICD-10 condition flags stored on every problem row.

use serde::{Deserialize, Serialize};

use super::icd10::{Icd10Code, normalise_icd10};

/// Chronic-condition flags derived from a patient's **active** problem
/// codes (reference: original-data-and-services §2.4 "Problems" gold step,
/// original-webapp §3.10 `has_*` columns).
///
/// Matching is by ICD-10 category (the first three characters) unless noted:
///
/// | flag | codes |
/// |---|---|
/// | `has_chf` | I50 |
/// | `has_cad` | I25 |
/// | `has_afib` | I48 |
/// | `has_hypertension` | I10 (essential hypertension only, as in the reference) |
/// | `has_copd` | J44 |
/// | `has_asthma` | J45 |
/// | `has_diabetes` | E11 **and E10** (type 1 as well as type 2; the reference only matched E11) |
/// | `has_hyperlipidemia` | E78 |
/// | `has_ckd` | N18 |
/// | `has_depression` | F32, F33 |
/// | `has_ptsd` | prefix F43.1 (F43.1, F43.10, F43.11, F43.12; the reference only found F43.10) |
/// | `has_anxiety` | F41 |
/// | `has_cancer` | any C category except the secondary-neoplasm categories C77, C78, C79 and C7B (see below) |
/// | `has_osteoarthritis` | M15–M19 (all osteoarthritis categories; the reference only matched M15) |
/// | `has_back_pain` | M54 |
///
/// `has_cancer`: the reference excluded every `C7*` category, which wrongly
/// dropped primary cancers C70–C76 (brain, thyroid, …) and C7A (primary
/// malignant neuroendocrine tumours). Here only codes that describe a
/// *secondary* (metastatic) site are excluded — C77 (lymph nodes), C78
/// (respiratory/digestive), C79 (other sites) and C7B (secondary
/// neuroendocrine) — because they say where a cancer spread, not that a
/// distinct primary cancer exists (metastases are counted by Charlson's
/// "Metastatic Solid Tumor" instead). In-situ and uncertain neoplasms (D
/// codes) do not count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConditionFlags {
    /// Congestive heart failure (I50).
    pub has_chf: bool,
    /// Coronary artery disease (I25).
    pub has_cad: bool,
    /// Atrial fibrillation / flutter (I48).
    pub has_afib: bool,
    /// Essential hypertension (I10).
    pub has_hypertension: bool,
    /// Chronic obstructive pulmonary disease (J44).
    pub has_copd: bool,
    /// Asthma (J45).
    pub has_asthma: bool,
    /// Diabetes mellitus type 1 or 2 (E10, E11).
    pub has_diabetes: bool,
    /// Hyperlipidaemia (E78).
    pub has_hyperlipidemia: bool,
    /// Chronic kidney disease (N18).
    pub has_ckd: bool,
    /// Depression (F32, F33).
    pub has_depression: bool,
    /// Post-traumatic stress disorder (F43.1x).
    pub has_ptsd: bool,
    /// Anxiety disorders (F41).
    pub has_anxiety: bool,
    /// Primary malignancy (C codes except secondary neoplasms).
    pub has_cancer: bool,
    /// Osteoarthritis (M15–M19).
    pub has_osteoarthritis: bool,
    /// Dorsalgia / back pain (M54).
    pub has_back_pain: bool,
}

/// Categories that name a secondary (metastatic) neoplasm site.
const SECONDARY_NEOPLASM_CATEGORIES: [&str; 4] = ["C77", "C78", "C79", "C7B"];

impl ConditionFlags {
    /// Flags for a patient's active problem codes. Codes are normalised with
    /// [`normalise_icd10`]; malformed codes are ignored. The caller must
    /// pass only the codes of **active** problems.
    pub fn from_active_icd10<I, S>(codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut flags = Self::default();
        for code in codes {
            if let Ok(code) = normalise_icd10(code.as_ref()) {
                flags.add(&code);
            }
        }
        flags
    }

    /// Sets every flag that `code` implies (flags already set stay set).
    pub fn add(&mut self, code: &Icd10Code) {
        let category = code.category();
        match category {
            "I50" => self.has_chf = true,
            "I25" => self.has_cad = true,
            "I48" => self.has_afib = true,
            "I10" => self.has_hypertension = true,
            "J44" => self.has_copd = true,
            "J45" => self.has_asthma = true,
            "E10" | "E11" => self.has_diabetes = true,
            "E78" => self.has_hyperlipidemia = true,
            "N18" => self.has_ckd = true,
            "F32" | "F33" => self.has_depression = true,
            "F41" => self.has_anxiety = true,
            "M15" | "M16" | "M17" | "M18" | "M19" => self.has_osteoarthritis = true,
            "M54" => self.has_back_pain = true,
            _ => {}
        }
        if code.has_prefix("F43.1") {
            self.has_ptsd = true;
        }
        if category.starts_with('C') && !SECONDARY_NEOPLASM_CATEGORIES.contains(&category) {
            self.has_cancer = true;
        }
    }

    /// The flags as `(column name, value)` pairs, in table column order.
    pub fn as_pairs(&self) -> [(&'static str, bool); 15] {
        [
            ("has_chf", self.has_chf),
            ("has_cad", self.has_cad),
            ("has_afib", self.has_afib),
            ("has_hypertension", self.has_hypertension),
            ("has_copd", self.has_copd),
            ("has_asthma", self.has_asthma),
            ("has_diabetes", self.has_diabetes),
            ("has_hyperlipidemia", self.has_hyperlipidemia),
            ("has_ckd", self.has_ckd),
            ("has_depression", self.has_depression),
            ("has_ptsd", self.has_ptsd),
            ("has_anxiety", self.has_anxiety),
            ("has_cancer", self.has_cancer),
            ("has_osteoarthritis", self.has_osteoarthritis),
            ("has_back_pain", self.has_back_pain),
        ]
    }

    /// How many flags are set.
    pub fn count(&self) -> usize {
        self.as_pairs().iter().filter(|(_, set)| *set).count()
    }

    /// Whether any of the summary's "critical conditions" is present: CHF,
    /// COPD, CKD or diabetes (reference: original-webapp §3.10 problems
    /// summary).
    pub fn has_critical_conditions(&self) -> bool {
        self.has_chf || self.has_copd || self.has_ckd || self.has_diabetes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flags(codes: &[&str]) -> ConditionFlags {
        ConditionFlags::from_active_icd10(codes)
    }

    /// Asserts that exactly the named flag is set for each code.
    fn only(code: &str, name: &str) {
        let f = flags(&[code]);
        let set: Vec<_> = f
            .as_pairs()
            .iter()
            .filter(|(_, v)| *v)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(set, vec![name], "{code}");
    }

    #[test]
    fn each_flag_has_its_codes() {
        only("I50.23", "has_chf");
        only("I50", "has_chf");
        only("I25.10", "has_cad");
        only("I48.91", "has_afib");
        only("I10", "has_hypertension");
        only("J44.9", "has_copd");
        only("J45.909", "has_asthma");
        only("E11.9", "has_diabetes");
        only("E10.9", "has_diabetes");
        only("E78.5", "has_hyperlipidemia");
        only("N18.3", "has_ckd");
        only("F32.9", "has_depression");
        only("F33.1", "has_depression");
        only("F43.10", "has_ptsd");
        only("F43.11", "has_ptsd");
        only("F43.12", "has_ptsd");
        only("F43.1", "has_ptsd");
        only("F41.1", "has_anxiety");
        only("C34.90", "has_cancer");
        only("C61", "has_cancer");
        only("C71.9", "has_cancer");
        only("C73", "has_cancer");
        only("C7A.010", "has_cancer");
        only("C80.1", "has_cancer");
        only("M15.0", "has_osteoarthritis");
        only("M16.11", "has_osteoarthritis");
        only("M17.0", "has_osteoarthritis");
        only("M19.90", "has_osteoarthritis");
        only("M54.5", "has_back_pain");
    }

    #[test]
    fn near_misses_set_nothing() {
        for code in [
            "I51.9", "I24.9", "I11.0", "I49.9", "J43.9", "J46", "E13.9", "E12", "E79.0", "N17.9",
            "N19", "F31.9", "F34.1", "F43.2", "F43.0", "F40.1", "F42", "C77.0", "C78.00", "C79.51",
            "C7B.00", "D05.10", "D49.9", "M14.9", "M20.1", "M53.9", "M55", "Z00.00",
        ] {
            assert_eq!(flags(&[code]).count(), 0, "{code}");
        }
    }

    #[test]
    fn combines_and_normalises() {
        let f = flags(&[" i50.23 ", "e119", "garbage", "", "F4310"]);
        assert!(f.has_chf && f.has_diabetes && f.has_ptsd);
        assert_eq!(f.count(), 3);
        assert!(f.has_critical_conditions());
        assert!(!flags(&["I10", "M54.5"]).has_critical_conditions());
        assert_eq!(flags(&[]).count(), 0);
        let owned: Vec<String> = vec!["N18.4".to_owned()];
        assert!(ConditionFlags::from_active_icd10(&owned).has_ckd);
        assert!(
            ConditionFlags::from_active_icd10(vec![normalise_icd10("J44.1").unwrap()]).has_copd
        );
    }

    proptest! {
        #[test]
        fn never_panics(codes in proptest::collection::vec("\\PC{0,10}", 0..8)) {
            let f = ConditionFlags::from_active_icd10(&codes);
            prop_assert!(f.count() <= 15);
        }

        #[test]
        fn order_does_not_matter(mut codes in proptest::collection::vec("[A-Z][0-9]{2}(\\.[0-9]{1,2})?", 0..8)) {
            let a = ConditionFlags::from_active_icd10(&codes);
            codes.reverse();
            prop_assert_eq!(ConditionFlags::from_active_icd10(&codes), a);
        }

        #[test]
        fn any_primary_c_code_is_cancer(second in 0_u8..10, third in 0_u8..10, sub in "(\\.[0-9]{1,3})?") {
            let category = format!("C{second}{third}");
            let code = format!("{category}{sub}");
            let expected = !matches!(category.as_str(), "C77" | "C78" | "C79");
            prop_assert_eq!(flags(&[code.as_str()]).has_cancer, expected);
        }
    }
}
