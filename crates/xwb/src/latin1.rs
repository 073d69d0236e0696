//! Latin-1 (ISO 8859-1) conversion between wire bytes and strings.
//!
//! VistA/M strings are 8-bit. This crate maps each byte `b` to the `char`
//! with the same code point (U+0000–U+00FF) and back, so decoding never
//! fails and arbitrary bytes survive a decode/encode round trip unchanged.

/// Bytes → string, one `char` per byte. Never fails.
#[must_use]
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// String → bytes, one byte per `char`. Returns the first character above
/// U+00FF as the error.
pub fn encode(s: &str) -> Result<Vec<u8>, char> {
    s.chars().map(|c| u8::try_from(c).map_err(|_| c)).collect()
}

/// String → bytes, writing `?` for any character above U+00FF.
#[must_use]
pub fn encode_lossy(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c).unwrap_or(b'?')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_bytes_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        let s = decode(&bytes);
        assert_eq!(s.chars().count(), 256);
        assert_eq!(encode(&s).unwrap(), bytes);
    }

    #[test]
    fn non_latin1_is_rejected_or_replaced() {
        assert_eq!(encode("a€b"), Err('€'));
        assert_eq!(encode_lossy("a€b"), b"a?b");
        assert_eq!(encode("é"), Ok(vec![0xE9]));
    }
}
