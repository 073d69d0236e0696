//! Error type shared by the small code-list enums of this crate.

use std::fmt::Write as _;

/// A textual code did not match any value of a closed code list (for example
/// an allergy severity or a problem status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised {kind} {input:?}: expected {expected}")]
pub struct CodeError {
    /// What was being parsed, e.g. `"allergy severity"`.
    pub kind: &'static str,
    /// The offending input (shortened if very long).
    pub input: String,
    /// Human-readable list of accepted spellings.
    pub expected: &'static str,
}

impl CodeError {
    /// Builds an error for `input`, shortening the echoed input if needed.
    pub(crate) fn new(kind: &'static str, input: &str, expected: &'static str) -> Self {
        Self {
            kind,
            input: shown(input),
            expected,
        }
    }
}

/// Longest input echoed verbatim in error messages.
const MAX_SHOWN_CHARS: usize = 64;

/// Returns `input` for use in an error message, truncated to a bounded length
/// so that a hostile or corrupt value cannot flood logs.
pub(crate) fn shown(input: &str) -> String {
    if input.chars().count() <= MAX_SHOWN_CHARS {
        return input.to_owned();
    }
    let mut out: String = input.chars().take(MAX_SHOWN_CHARS).collect();
    let _ = write!(out, "…");
    out
}

/// Upper-cases `input` and collapses every run of whitespace into one space,
/// trimming both ends. Used by the tolerant code-list parsers.
pub(crate) fn canonical_words(input: &str) -> String {
    input
        .split_whitespace()
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_keeps_short_input() {
        assert_eq!(shown("abc"), "abc");
    }

    #[test]
    fn shown_truncates_long_input() {
        let long = "x".repeat(100);
        let s = shown(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn canonical_words_collapses_and_uppercases() {
        assert_eq!(canonical_words("  critical \t high "), "CRITICAL HIGH");
        assert_eq!(canonical_words("   "), "");
    }

    #[test]
    fn code_error_message_names_input_and_expectation() {
        let e = CodeError::new("thing", "zz", "A or B");
        assert_eq!(e.to_string(), "unrecognised thing \"zz\": expected A or B");
    }
}
