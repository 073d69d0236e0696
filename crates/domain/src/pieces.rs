//! Free text inside VistA's `^`-delimited lines.
//!
//! A value is escaped so it can never add pieces or lines: `^` → `%5E`,
//! CR → `%0D`, LF → `%0A`, and `%` → `%25` only where it would otherwise
//! read as one of those codes (so `97 %` stays as it is). [`unescape`]
//! undoes it; a `%` not followed by a code is kept. The VistA simulator
//! escapes; its clients unescape.

use std::borrow::Cow;

/// Escapes a free-text value for a `^`-delimited line: `^` → `%5E`,
/// CR → `%0D`, LF → `%0A`. A `%` is written `%25` only where it would
/// otherwise read as one of these codes (so `97 %` stays as it is).
pub fn escape(s: &str) -> Cow<'_, str> {
    let needs = |i: usize| starts_code(&s[i + 1..]);
    if !s.contains(['^', '\r', '\n']) && !s.match_indices('%').any(|(i, _)| needs(i)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        match c {
            '%' if needs(i) => out.push_str("%25"),
            '^' => out.push_str("%5E"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `rest` (the text after a `%`) begins with one of the codes.
fn starts_code(rest: &str) -> bool {
    rest.get(..2).is_some_and(|c| {
        ["25", "5E", "0D", "0A"]
            .iter()
            .any(|k| c.eq_ignore_ascii_case(k))
    })
}

/// Undoes [`escape`]; a `%` not followed by one of its codes stays as is.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let c = match tail.get(1..3).map(str::to_ascii_uppercase).as_deref() {
            Some("25") => Some('%'),
            Some("5E") => Some('^'),
            Some("0D") => Some('\r'),
            Some("0A") => Some('\n'),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &tail[3..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}
