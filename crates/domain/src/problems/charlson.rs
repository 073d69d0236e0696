//! Charlson comorbidity index.
//!
//! Reference: original-webapp §3.10 and original-data-and-services §2.4
//! "Problems / diagnoses": ICD-10 codes map (through the `Dim.CharlsonMapping`
//! table) to 17 conditions with weights; a patient's index is the sum, over
//! the distinct conditions among **active** problems, of the highest weight
//! seen for that condition. The risk bands are shared by the web UI and the
//! AI summary.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CodeError;

/// One of the 17 Charlson comorbidity conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CharlsonCondition {
    /// Myocardial infarction (weight 1).
    MyocardialInfarction,
    /// Congestive heart failure (weight 1).
    CongestiveHeartFailure,
    /// Peripheral vascular disease (weight 1).
    PeripheralVascularDisease,
    /// Cerebrovascular disease (weight 1).
    CerebrovascularDisease,
    /// Dementia (weight 1).
    Dementia,
    /// Chronic pulmonary disease (weight 1).
    ChronicPulmonaryDisease,
    /// Rheumatic (connective tissue) disease (weight 1).
    RheumaticDisease,
    /// Peptic ulcer disease (weight 1).
    PepticUlcerDisease,
    /// Mild liver disease (weight 1).
    MildLiverDisease,
    /// Diabetes without chronic complication (weight 1).
    DiabetesWithoutComplication,
    /// Diabetes with chronic complication (weight 2).
    DiabetesWithComplication,
    /// Hemiplegia or paraplegia (weight 2).
    HemiplegiaOrParaplegia,
    /// Moderate or severe renal disease (weight 2).
    ModerateOrSevereRenalDisease,
    /// Any malignancy, including leukaemia and lymphoma (weight 2).
    AnyMalignancy,
    /// Moderate or severe liver disease (weight 3).
    ModerateOrSevereLiverDisease,
    /// Metastatic solid tumour (weight 6).
    MetastaticSolidTumor,
    /// AIDS/HIV (weight 6).
    AidsHiv,
}

impl CharlsonCondition {
    /// Every condition, in the mapping table's order.
    pub const ALL: [Self; 17] = [
        Self::MyocardialInfarction,
        Self::CongestiveHeartFailure,
        Self::PeripheralVascularDisease,
        Self::CerebrovascularDisease,
        Self::Dementia,
        Self::ChronicPulmonaryDisease,
        Self::RheumaticDisease,
        Self::PepticUlcerDisease,
        Self::MildLiverDisease,
        Self::DiabetesWithoutComplication,
        Self::DiabetesWithComplication,
        Self::HemiplegiaOrParaplegia,
        Self::ModerateOrSevereRenalDisease,
        Self::AnyMalignancy,
        Self::ModerateOrSevereLiverDisease,
        Self::MetastaticSolidTumor,
        Self::AidsHiv,
    ];

    /// Standard Charlson weight: 1, 2, 3 or 6.
    pub fn weight(self) -> u32 {
        match self {
            Self::MyocardialInfarction
            | Self::CongestiveHeartFailure
            | Self::PeripheralVascularDisease
            | Self::CerebrovascularDisease
            | Self::Dementia
            | Self::ChronicPulmonaryDisease
            | Self::RheumaticDisease
            | Self::PepticUlcerDisease
            | Self::MildLiverDisease
            | Self::DiabetesWithoutComplication => 1,
            Self::DiabetesWithComplication
            | Self::HemiplegiaOrParaplegia
            | Self::ModerateOrSevereRenalDisease
            | Self::AnyMalignancy => 2,
            Self::ModerateOrSevereLiverDisease => 3,
            Self::MetastaticSolidTumor | Self::AidsHiv => 6,
        }
    }

    /// Canonical name, as spelled in `Dim.CharlsonMapping`.
    pub fn name(self) -> &'static str {
        match self {
            Self::MyocardialInfarction => "Myocardial Infarction",
            Self::CongestiveHeartFailure => "Congestive Heart Failure",
            Self::PeripheralVascularDisease => "Peripheral Vascular Disease",
            Self::CerebrovascularDisease => "Cerebrovascular Disease",
            Self::Dementia => "Dementia",
            Self::ChronicPulmonaryDisease => "Chronic Pulmonary Disease",
            Self::RheumaticDisease => "Rheumatic Disease",
            Self::PepticUlcerDisease => "Peptic Ulcer Disease",
            Self::MildLiverDisease => "Mild Liver Disease",
            Self::DiabetesWithoutComplication => "Diabetes without Chronic Complication",
            Self::DiabetesWithComplication => "Diabetes with Chronic Complication",
            Self::HemiplegiaOrParaplegia => "Hemiplegia or Paraplegia",
            Self::ModerateOrSevereRenalDisease => "Moderate or Severe Renal Disease",
            Self::AnyMalignancy => "Malignancy",
            Self::ModerateOrSevereLiverDisease => "Moderate or Severe Liver Disease",
            Self::MetastaticSolidTumor => "Metastatic Solid Tumor",
            Self::AidsHiv => "AIDS/HIV",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::MyocardialInfarction => 0,
            Self::CongestiveHeartFailure => 1,
            Self::PeripheralVascularDisease => 2,
            Self::CerebrovascularDisease => 3,
            Self::Dementia => 4,
            Self::ChronicPulmonaryDisease => 5,
            Self::RheumaticDisease => 6,
            Self::PepticUlcerDisease => 7,
            Self::MildLiverDisease => 8,
            Self::DiabetesWithoutComplication => 9,
            Self::DiabetesWithComplication => 10,
            Self::HemiplegiaOrParaplegia => 11,
            Self::ModerateOrSevereRenalDisease => 12,
            Self::AnyMalignancy => 13,
            Self::ModerateOrSevereLiverDisease => 14,
            Self::MetastaticSolidTumor => 15,
            Self::AidsHiv => 16,
        }
    }

    /// Recognises a condition name as written in a Charlson mapping table.
    ///
    /// Case, punctuation and spacing are ignored, and common spellings are
    /// accepted: the canonical [`name`](Self::name)s, abbreviations (`MI`,
    /// `CHF`, `PVD`, `CVA`, `CVD` — cerebrovascular, as in the mock mapping
    /// script — `COPD`, `DM`, `HIV`, `AIDS`), "Any Malignancy",
    /// "Cancer", "Leukemia", "Lymphoma", "Diabetes without complications",
    /// "Diabetes, complicated", "Chronic Kidney Disease", "Hemiplegia",
    /// "Connective Tissue Disease", "Metastatic Cancer", and so on. A bare
    /// "Diabetes" means the uncomplicated condition. Liver disease without a
    /// severity ("Liver Disease") and "Mild Renal Disease" (not a Charlson
    /// condition) are not recognised.
    pub fn from_name(name: &str) -> Option<Self> {
        let text = word_text(name);
        let has = |phrase: &str| text.contains(&format!(" {phrase} "));
        let any = |phrases: &[&str]| phrases.iter().any(|p| has(p));

        if any(&["metastatic", "metastasis", "metastases"]) {
            return Some(Self::MetastaticSolidTumor);
        }
        if any(&["aids", "hiv", "human immunodeficiency"]) {
            return Some(Self::AidsHiv);
        }
        if any(&["liver", "hepatic"]) {
            return liver_condition(&has);
        }
        if any(&["diabetes", "diabetic", "dm"]) {
            return Some(diabetes_condition(&any));
        }
        if any(&["hemiplegia", "paraplegia", "hemiparesis", "paralysis"]) {
            return Some(Self::HemiplegiaOrParaplegia);
        }
        if any(&["renal", "kidney"]) {
            let mild_only = has("mild") && !any(&["moderate", "severe"]);
            return (!mild_only).then_some(Self::ModerateOrSevereRenalDisease);
        }
        const MALIGNANCY: [&str; 11] = [
            "malignancy",
            "malignancies",
            "cancer",
            "tumor",
            "tumour",
            "lymphoma",
            "leukemia",
            "leukaemia",
            "myeloma",
            "malignant neoplasm",
            "carcinoma",
        ];
        if any(&MALIGNANCY) {
            return Some(Self::AnyMalignancy);
        }
        const SIMPLE: [(&[&str], CharlsonCondition); 8] = [
            (
                &["myocardial", "mi", "ami", "heart attack"],
                CharlsonCondition::MyocardialInfarction,
            ),
            (
                &["heart failure", "cardiac failure", "chf"],
                CharlsonCondition::CongestiveHeartFailure,
            ),
            (
                &["peripheral vascular", "peripheral arterial", "pvd"],
                CharlsonCondition::PeripheralVascularDisease,
            ),
            (
                &[
                    "cerebrovascular",
                    "cva",
                    "cvd",
                    "stroke",
                    "tia",
                    "transient ischemic",
                ],
                CharlsonCondition::CerebrovascularDisease,
            ),
            (
                &["dementia", "alzheimer", "alzheimers"],
                CharlsonCondition::Dementia,
            ),
            (
                &["pulmonary", "copd", "lung"],
                CharlsonCondition::ChronicPulmonaryDisease,
            ),
            (
                &[
                    "rheumatic",
                    "rheumatologic",
                    "rheumatoid",
                    "connective tissue",
                ],
                CharlsonCondition::RheumaticDisease,
            ),
            (&["peptic", "ulcer"], CharlsonCondition::PepticUlcerDisease),
        ];
        SIMPLE
            .iter()
            .find(|(phrases, _)| any(phrases))
            .map(|(_, condition)| *condition)
    }
}

/// Lower-cases `name`, turns every non-alphanumeric character into a word
/// break, and returns the words joined by single spaces with a space at both
/// ends, so whole-word phrases can be found with `contains(" phrase ")`.
fn word_text(name: &str) -> String {
    let lowered: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    format!(" {} ", words.join(" "))
}

fn liver_condition(has: &dyn Fn(&str) -> bool) -> Option<CharlsonCondition> {
    if has("moderate") || has("severe") {
        Some(CharlsonCondition::ModerateOrSevereLiverDisease)
    } else if has("mild") {
        Some(CharlsonCondition::MildLiverDisease)
    } else {
        None
    }
}

fn diabetes_condition(any: &dyn Fn(&[&str]) -> bool) -> CharlsonCondition {
    if any(&[
        "without",
        "uncomplicated",
        "no complication",
        "no complications",
    ]) {
        CharlsonCondition::DiabetesWithoutComplication
    } else if any(&[
        "with",
        "complicated",
        "complication",
        "complications",
        "end organ",
    ]) {
        CharlsonCondition::DiabetesWithComplication
    } else {
        CharlsonCondition::DiabetesWithoutComplication
    }
}

impl fmt::Display for CharlsonCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CharlsonCondition {
    type Err = CodeError;

    /// Parses with [`CharlsonCondition::from_name`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            CodeError::new(
                "Charlson condition",
                s,
                "one of the 17 Charlson condition names, e.g. Congestive Heart Failure",
            )
        })
    }
}

impl TryFrom<String> for CharlsonCondition {
    type Error = CodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CharlsonCondition> for String {
    fn from(c: CharlsonCondition) -> Self {
        c.name().to_owned()
    }
}

/// Charlson index and the number of distinct conditions behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CharlsonSummary {
    /// Sum over distinct conditions of the highest weight seen.
    pub index: u32,
    /// Number of distinct conditions (`charlson_condition_count`).
    pub condition_count: u32,
}

impl CharlsonSummary {
    /// Risk band of the index.
    pub fn risk(self) -> CharlsonRisk {
        CharlsonRisk::from_index(self.index)
    }
}

/// Summarises `(condition, weight)` pairs from the problems of one patient.
///
/// The caller passes only **active** problems that have a Charlson mapping,
/// with the weight from the mapping table (use
/// [`CharlsonCondition::weight`] for the standard weight). Each condition
/// counts once, with the highest weight supplied for it. As in the
/// reference, Charlson's hierarchy rules (e.g. metastatic tumour replacing
/// any malignancy) are not applied: distinct conditions simply add up.
pub fn charlson_summary<I>(items: I) -> CharlsonSummary
where
    I: IntoIterator<Item = (CharlsonCondition, u32)>,
{
    let mut best: [Option<u32>; 17] = [None; 17];
    for (condition, weight) in items {
        let slot = &mut best[condition.index()];
        *slot = Some(slot.map_or(weight, |w| w.max(weight)));
    }
    let present = best.iter().flatten();
    CharlsonSummary {
        index: present.clone().fold(0_u32, |acc, w| acc.saturating_add(*w)),
        condition_count: u32::try_from(present.count()).unwrap_or(u32::MAX),
    }
}

/// The Charlson index of `(condition, weight)` pairs; see
/// [`charlson_summary`].
pub fn charlson_index<I>(items: I) -> u32
where
    I: IntoIterator<Item = (CharlsonCondition, u32)>,
{
    charlson_summary(items).index
}

/// Risk band of a Charlson index (reference: original-webapp §3.10):
/// 0 None, 1–2 Low, 3–4 Moderate, 5–6 High, 7 or more Very High.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CharlsonRisk {
    /// Index 0.
    None,
    /// Index 1–2.
    Low,
    /// Index 3–4.
    Moderate,
    /// Index 5–6.
    High,
    /// Index 7 or more.
    VeryHigh,
}

impl CharlsonRisk {
    /// Band of an index.
    pub fn from_index(index: u32) -> Self {
        match index {
            0 => Self::None,
            1..=2 => Self::Low,
            3..=4 => Self::Moderate,
            5..=6 => Self::High,
            _ => Self::VeryHigh,
        }
    }

    /// Short label: `None`, `Low`, `Moderate`, `High` or `Very High`.
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Low => "Low",
            Self::Moderate => "Moderate",
            Self::High => "High",
            Self::VeryHigh => "Very High",
        }
    }

    /// Long label used in the AI summary: `No Comorbidities`, `Low Risk`,
    /// `Moderate Risk`, `High Risk` or `Very High Risk`.
    pub fn long_label(self) -> &'static str {
        match self {
            Self::None => "No Comorbidities",
            Self::Low => "Low Risk",
            Self::Moderate => "Moderate Risk",
            Self::High => "High Risk",
            Self::VeryHigh => "Very High Risk",
        }
    }
}

impl fmt::Display for CharlsonRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{de_str, ser_str};
    use CharlsonCondition as C;
    use proptest::prelude::*;

    #[test]
    fn weights() {
        let ones = [
            C::MyocardialInfarction,
            C::CongestiveHeartFailure,
            C::PeripheralVascularDisease,
            C::CerebrovascularDisease,
            C::Dementia,
            C::ChronicPulmonaryDisease,
            C::RheumaticDisease,
            C::PepticUlcerDisease,
            C::MildLiverDisease,
            C::DiabetesWithoutComplication,
        ];
        let twos = [
            C::DiabetesWithComplication,
            C::HemiplegiaOrParaplegia,
            C::ModerateOrSevereRenalDisease,
            C::AnyMalignancy,
        ];
        for c in ones {
            assert_eq!(c.weight(), 1, "{c}");
        }
        for c in twos {
            assert_eq!(c.weight(), 2, "{c}");
        }
        assert_eq!(C::ModerateOrSevereLiverDisease.weight(), 3);
        assert_eq!(C::MetastaticSolidTumor.weight(), 6);
        assert_eq!(C::AidsHiv.weight(), 6);
        assert_eq!(
            C::ALL.iter().map(|c| c.weight()).sum::<u32>(),
            10 + 8 + 3 + 12
        );
    }

    #[test]
    fn index_positions_are_distinct() {
        for (i, c) in C::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }

    #[test]
    fn canonical_names_round_trip() {
        for c in C::ALL {
            assert_eq!(C::from_name(c.name()), Some(c), "{}", c.name());
            assert_eq!(c.name().to_uppercase().parse::<C>().unwrap(), c);
            assert_eq!(c.to_string(), c.name());
            assert_eq!(ser_str(&c).unwrap(), c.name());
            assert_eq!(de_str::<C>(c.name()).unwrap(), c);
        }
    }

    #[test]
    fn mapping_table_spellings() {
        let cases = [
            ("Myocardial Infarction", C::MyocardialInfarction),
            ("MI", C::MyocardialInfarction),
            ("Congestive Heart Failure", C::CongestiveHeartFailure),
            ("CHF", C::CongestiveHeartFailure),
            ("Heart Failure", C::CongestiveHeartFailure),
            ("Peripheral Vascular Disease", C::PeripheralVascularDisease),
            ("PVD", C::PeripheralVascularDisease),
            ("Cerebrovascular Disease", C::CerebrovascularDisease),
            ("CVD", C::CerebrovascularDisease),
            ("CVA", C::CerebrovascularDisease),
            ("Stroke", C::CerebrovascularDisease),
            ("Dementia", C::Dementia),
            ("Chronic Pulmonary Disease", C::ChronicPulmonaryDisease),
            ("COPD", C::ChronicPulmonaryDisease),
            ("Rheumatic Disease", C::RheumaticDisease),
            ("Connective Tissue Disease", C::RheumaticDisease),
            ("Peptic Ulcer Disease", C::PepticUlcerDisease),
            ("Mild Liver Disease", C::MildLiverDisease),
            (
                "Diabetes without complications",
                C::DiabetesWithoutComplication,
            ),
            (
                "Diabetes without Chronic Complication",
                C::DiabetesWithoutComplication,
            ),
            ("Diabetes, uncomplicated", C::DiabetesWithoutComplication),
            ("Diabetes", C::DiabetesWithoutComplication),
            (
                "Diabetes with Chronic Complication",
                C::DiabetesWithComplication,
            ),
            ("Diabetes with complications", C::DiabetesWithComplication),
            (
                "Diabetes with end organ damage",
                C::DiabetesWithComplication,
            ),
            ("Diabetes, complicated", C::DiabetesWithComplication),
            ("Hemiplegia or Paraplegia", C::HemiplegiaOrParaplegia),
            ("Hemiplegia/Paraplegia", C::HemiplegiaOrParaplegia),
            (
                "Moderate or Severe Renal Disease",
                C::ModerateOrSevereRenalDisease,
            ),
            ("Renal Disease", C::ModerateOrSevereRenalDisease),
            ("Chronic Kidney Disease", C::ModerateOrSevereRenalDisease),
            ("Any Malignancy", C::AnyMalignancy),
            ("Malignancy", C::AnyMalignancy),
            ("Cancer", C::AnyMalignancy),
            ("Leukemia", C::AnyMalignancy),
            ("Lymphoma", C::AnyMalignancy),
            (
                "Any malignancy, including lymphoma and leukemia",
                C::AnyMalignancy,
            ),
            (
                "Moderate or Severe Liver Disease",
                C::ModerateOrSevereLiverDisease,
            ),
            (
                "Moderate/Severe Liver Disease",
                C::ModerateOrSevereLiverDisease,
            ),
            ("Severe Liver Disease", C::ModerateOrSevereLiverDisease),
            ("Metastatic Solid Tumor", C::MetastaticSolidTumor),
            ("Metastatic Solid Tumour", C::MetastaticSolidTumor),
            ("Metastatic Cancer", C::MetastaticSolidTumor),
            ("AIDS/HIV", C::AidsHiv),
            ("HIV/AIDS", C::AidsHiv),
            ("AIDS", C::AidsHiv),
            ("  aids / hiv ", C::AidsHiv),
        ];
        for (name, want) in cases {
            assert_eq!(C::from_name(name), Some(want), "{name}");
        }
    }

    #[test]
    fn unrecognised_names() {
        for name in [
            "",
            "Liver Disease",
            "Mild Renal Disease",
            "Hypertension",
            "Malignant Hypertension",
            "Ulcerative",
            "Heart",
            "Disease",
            "Cardiovascular",
            "Mimic",
        ] {
            assert_eq!(C::from_name(name), None, "{name}");
        }
        let msg = "xyz".parse::<C>().unwrap_err().to_string();
        assert!(msg.contains("\"xyz\"") && msg.contains("Charlson"), "{msg}");
    }

    #[test]
    fn index_takes_max_weight_per_distinct_condition() {
        assert_eq!(charlson_index(Vec::new()), 0);
        assert_eq!(charlson_index([(C::CongestiveHeartFailure, 1)]), 1);
        // Same condition twice counts once.
        assert_eq!(
            charlson_index([
                (C::CongestiveHeartFailure, 1),
                (C::CongestiveHeartFailure, 1)
            ]),
            1
        );
        // Highest weight supplied for a condition wins.
        assert_eq!(
            charlson_index([(C::AnyMalignancy, 2), (C::AnyMalignancy, 3)]),
            3
        );
        // Distinct conditions add up (no hierarchy).
        let s = charlson_summary([
            (C::CongestiveHeartFailure, 1),
            (C::ChronicPulmonaryDisease, 1),
            (C::DiabetesWithComplication, 2),
            (C::DiabetesWithoutComplication, 1),
            (C::MetastaticSolidTumor, 6),
            (C::AnyMalignancy, 2),
        ]);
        assert_eq!(
            s,
            CharlsonSummary {
                index: 13,
                condition_count: 6
            }
        );
        assert_eq!(s.risk(), CharlsonRisk::VeryHigh);
        assert_eq!(
            charlson_index([(C::AidsHiv, u32::MAX), (C::Dementia, 5)]),
            u32::MAX
        );
    }

    #[test]
    fn risk_bands() {
        let cases = [
            (0, CharlsonRisk::None, "None", "No Comorbidities"),
            (1, CharlsonRisk::Low, "Low", "Low Risk"),
            (2, CharlsonRisk::Low, "Low", "Low Risk"),
            (3, CharlsonRisk::Moderate, "Moderate", "Moderate Risk"),
            (4, CharlsonRisk::Moderate, "Moderate", "Moderate Risk"),
            (5, CharlsonRisk::High, "High", "High Risk"),
            (6, CharlsonRisk::High, "High", "High Risk"),
            (7, CharlsonRisk::VeryHigh, "Very High", "Very High Risk"),
            (35, CharlsonRisk::VeryHigh, "Very High", "Very High Risk"),
        ];
        for (index, band, label, long) in cases {
            let r = CharlsonRisk::from_index(index);
            assert_eq!(r, band, "{index}");
            assert_eq!(r.label(), label);
            assert_eq!(r.long_label(), long);
            assert_eq!(r.to_string(), label);
        }
        assert!(CharlsonRisk::VeryHigh > CharlsonRisk::High);
    }

    proptest! {
        #[test]
        fn from_name_never_panics(s in "\\PC{0,40}") {
            let _ = C::from_name(&s);
        }

        #[test]
        fn index_is_order_independent_and_bounded(
            mut items in proptest::collection::vec((0_usize..17, 0_u32..10), 0..30)
        ) {
            let pairs = |v: &[(usize, u32)]| v.iter().map(|(i, w)| (C::ALL[*i], *w)).collect::<Vec<_>>();
            let a = charlson_summary(pairs(&items));
            items.reverse();
            let b = charlson_summary(pairs(&items));
            prop_assert_eq!(a, b);
            prop_assert!(a.condition_count <= 17);
            prop_assert!(a.index <= 17 * 9);
        }

        #[test]
        fn standard_weights_index_equals_weight_sum(mask in 0_u32..(1 << 17)) {
            let chosen: Vec<C> = C::ALL.iter().copied().enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c).collect();
            let expected: u32 = chosen.iter().map(|c| c.weight()).sum();
            let doubled = chosen.iter().chain(chosen.iter()).map(|c| (*c, c.weight()));
            prop_assert_eq!(charlson_index(doubled), expected);
        }
    }
}
