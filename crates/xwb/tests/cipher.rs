//! XUSRB1 cipher: known answers, round trips, malformed input.

use xwb::cipher::{
    CipherError, OSEHRA_PAD, PAD, decrypt, decrypt_with_pad, encrypt, encrypt_with,
    encrypt_with_pad,
};

#[test]
fn known_answers() {
    // Worked by hand from the table: 'A' is at position 33 (1-based) of row
    // 1; position 33 of row 2 is 'X'. Markers: chr(1+31)=' ', chr(2+31)='!'.
    assert_eq!(PAD[0].find('A'), Some(32));
    assert_eq!(PAD[1].as_bytes()[32], b'X');
    assert_eq!(encrypt_with("A", 1, 2), " X!");

    // Values computed independently (Python, straight from ENCRYP^XUSRB1).
    assert_eq!(
        encrypt_with("fakedoc1;1Doc!@#$", 3, 17),
        "\"MKmCYzN/T/qzNDe%a0"
    );
    assert_eq!(
        encrypt_with("OR CPRS GUI CHART", 20, 1),
        "3\"9BPA9=Bx!hBPV/9O "
    );
    // '^' is not in the table and passes through.
    assert_eq!(encrypt_with("x^y", 5, 9), "${^=(");
}

#[test]
fn markers_are_row_plus_31() {
    for i in 1..=20 {
        for a in 1..=20 {
            if i == a {
                continue;
            }
            let c = encrypt_with("OR CPRS GUI CHART", i, a);
            let chars: Vec<char> = c.chars().collect();
            assert_eq!(u32::from(chars[0]), u32::try_from(i + 31).unwrap());
            assert_eq!(
                u32::from(*chars.last().unwrap()),
                u32::try_from(a + 31).unwrap()
            );
            // Each body character is the row-a character at the plaintext's
            // position in row i.
            for (p, e) in "OR CPRS GUI CHART".chars().zip(&chars[1..chars.len() - 1]) {
                let pos = PAD[i - 1].find(p).unwrap();
                assert_eq!(char::from(PAD[a - 1].as_bytes()[pos]), *e);
            }
            assert_eq!(decrypt(&c).unwrap(), "OR CPRS GUI CHART");
        }
    }
}

#[test]
fn random_encrypt_round_trips() {
    let mut state = 0x1234_5678_9abc_def0_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5000 {
        let len = usize::try_from(next() % 40).unwrap();
        let s: String = (0..len)
            .map(|_| char::from(u8::try_from(next() % 256).unwrap()))
            .collect();
        let c = encrypt(&s);
        assert_eq!(c.chars().count(), s.chars().count() + 2);
        assert_eq!(decrypt(&c).unwrap(), s);
    }
}

#[test]
fn encrypt_uses_different_rows() {
    for _ in 0..500 {
        let c = encrypt("x");
        let chars: Vec<char> = c.chars().collect();
        assert_ne!(chars[0], chars[2]);
        assert!((' '..='3').contains(&chars[0]) && (' '..='3').contains(&chars[2]));
    }
}

#[test]
fn empty_plaintext() {
    let c = encrypt_with("", 4, 7);
    assert_eq!(c, "#&");
    assert_eq!(decrypt(&c).unwrap(), "");
}

#[test]
fn malformed_ciphertext() {
    assert_eq!(decrypt(""), Err(CipherError::TooShort { len: 0 }));
    assert_eq!(decrypt(" "), Err(CipherError::TooShort { len: 1 }));
    // Row markers outside chr(32)..=chr(51).
    assert!(matches!(
        decrypt("\u{1f}abc!"),
        Err(CipherError::BadRow { .. })
    ));
    assert!(matches!(decrypt(" abc4"), Err(CipherError::BadRow { .. })));
    assert!(matches!(decrypt("zabc!"), Err(CipherError::BadRow { .. })));
    assert!(matches!(
        decrypt(" abc\u{100}"),
        Err(CipherError::BadRow { .. })
    ));
    // Both markers in range: fine, even if equal (DECRYP^XUSRB1 accepts it).
    assert_eq!(decrypt("!abc!").unwrap(), "abc");
}

#[test]
#[should_panic(expected = "1..=20")]
fn encrypt_with_row_out_of_range_panics() {
    let _ = encrypt_with("x", 0, 3);
}

#[test]
#[should_panic(expected = "differ")]
fn encrypt_with_equal_rows_panics() {
    let _ = encrypt_with("x", 3, 3);
}

#[test]
fn osehra_table_round_trips_and_differs() {
    let c = encrypt_with_pad(&OSEHRA_PAD, "fakedoc1;1Doc!@#$", Some((3, 17)));
    assert_ne!(c, encrypt_with("fakedoc1;1Doc!@#$", 3, 17));
    assert_eq!(
        decrypt_with_pad(&OSEHRA_PAD, &c).unwrap(),
        "fakedoc1;1Doc!@#$"
    );
}
