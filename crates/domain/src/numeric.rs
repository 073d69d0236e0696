//! Strict decimal-number parsing shared by the vitals and labs rules.

/// Parses a plain decimal number: an optional `+`/`-` sign, ASCII digits
/// with at most one `.`, and at least one digit (`5`, `-2`, `4.`, `.5`,
/// `98.6`). Surrounding whitespace is ignored. Exponents, `inf`, `NaN`,
/// thousands separators and inner spaces are rejected, so the result is
/// always finite.
pub(crate) fn parse_decimal(text: &str) -> Option<f64> {
    let t = text.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let digit_count = unsigned.bytes().filter(u8::is_ascii_digit).count();
    let dot_count = unsigned.bytes().filter(|b| *b == b'.').count();
    let well_formed =
        digit_count > 0 && dot_count <= 1 && digit_count + dot_count == unsigned.len();
    if !well_formed {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_plain_decimals() {
        assert_eq!(parse_decimal("98.6"), Some(98.6));
        assert_eq!(parse_decimal(" 5 "), Some(5.0));
        assert_eq!(parse_decimal("-2"), Some(-2.0));
        assert_eq!(parse_decimal("+3.5"), Some(3.5));
        assert_eq!(parse_decimal("4."), Some(4.0));
        assert_eq!(parse_decimal(".5"), Some(0.5));
        assert_eq!(parse_decimal("007"), Some(7.0));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", " ", ".", "-", "+", "1e3", "inf", "NaN", "1,000", "1 0", "1..2", "1.2.3", "--1",
            "+-1", "0x10", "５",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_finite_values(v in -1.0e9_f64..1.0e9) {
            prop_assert_eq!(parse_decimal(&v.to_string()), Some(v));
        }

        #[test]
        fn never_panics_and_is_finite(s in "\\PC{0,16}") {
            if let Some(v) = parse_decimal(&s) {
                prop_assert!(v.is_finite());
            }
        }
    }
}
