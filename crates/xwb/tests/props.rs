//! Property tests. Case counts are bounded so `cargo test` stays fast; set
//! `PROPTEST_CASES` to run more (or fewer).

use proptest::prelude::*;
use xwb::{
    MAX_FRAME, Param, RawReply, Reply, ReplyData, Request, decode_reply, decode_request,
    encode_reply, encode_request,
};

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Latin-1 strings (any byte value) of up to `max` characters.
fn latin1(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..=max)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

/// Latin-1 strings without the bytes that frame reply data.
fn reply_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        any::<u8>().prop_filter("framing byte", |b| {
            !matches!(b, 0x04 | 0x18 | b'\r' | b'\n')
        }),
        0..=max,
    )
    .prop_map(|b| b.into_iter().map(char::from).collect())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            latin1(12).prop_filter("non-empty subscript", |s| !s.is_empty()),
            latin1(20),
        ),
        0..4,
    )
}

fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        latin1(40).prop_map(Param::Literal),
        latin1(20).prop_map(Param::Reference),
        pairs().prop_map(Param::List),
        pairs().prop_map(Param::Global),
        Just(Param::Empty),
        // Occasionally a value at the L-PACK limit.
        Just(Param::Literal("L".repeat(999))),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (latin1(20), latin1(8), latin1(30)).prop_map(|(ip, port, hostname)| Request::Connect {
            ip,
            port,
            hostname
        }),
        Just(Request::Bye),
        (latin1(8), latin1(40), prop::collection::vec(param(), 0..5)).prop_map(
            |(version, name, params)| Request::Rpc {
                version,
                name,
                params
            }
        ),
        // S-PACK limit.
        Just(Request::rpc("N".repeat(255), vec![])),
    ]
}

/// What a request decodes back to: a lone `Empty` parameter is the `54f`
/// "no parameters" encoding.
fn normalised(req: &Request) -> Request {
    match req {
        Request::Rpc {
            version,
            name,
            params,
        } if params == &[Param::Empty] => Request::Rpc {
            version: version.clone(),
            name: name.clone(),
            params: vec![],
        },
        r => r.clone(),
    }
}

fn reply_data() -> impl Strategy<Value = ReplyData> {
    let lines = || prop::collection::vec(reply_text(30), 0..6);
    prop_oneof![
        reply_text(60).prop_map(ReplyData::Single),
        lines().prop_map(ReplyData::Array),
        lines().prop_map(ReplyData::WordProcessing),
        lines().prop_map(ReplyData::GlobalArray),
        (reply_text(30), reply_text(30))
            .prop_map(|(error, last_ref)| ReplyData::MError { error, last_ref }),
        reply_text(20).prop_map(ReplyData::Text),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    (latin1(255), latin1(255), reply_data()).prop_map(|(security, application, data)| Reply {
        security,
        application,
        data,
    })
}

/// Arbitrary bytes, biased towards things that look like frames.
fn noisy_frame() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (
            request(),
            prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            any::<usize>()
        )
            .prop_map(|(req, edits, cut)| {
                let mut bytes = encode_request(&req).unwrap();
                for (at, b) in edits {
                    let i = at % bytes.len();
                    bytes[i] = b;
                }
                let keep = cut % (bytes.len() + 1);
                bytes.truncate(keep.max(bytes.len() / 2));
                bytes
            }),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|tail| {
            let mut b = b"[XWB]".to_vec();
            b.extend(tail);
            b
        }),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn decode_request_never_panics(buf in noisy_frame()) {
        if let Ok(Some((_, consumed))) = decode_request(&buf) {
            prop_assert!(consumed <= buf.len());
            prop_assert!(consumed <= MAX_FRAME);
            prop_assert_eq!(buf[consumed - 1], xwb::EOT);
        }
    }

    #[test]
    fn decode_reply_never_panics(buf in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(Some((_, consumed))) = decode_reply(&buf) {
            prop_assert!(consumed <= buf.len());
            prop_assert_eq!(buf[consumed - 1], xwb::EOT);
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn request_round_trip(req in request(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let bytes = encode_request(&req).unwrap();
        let mut buf = bytes.clone();
        buf.extend(tail); // whatever follows must not change the result
        let got = decode_request(&buf).unwrap();
        prop_assert_eq!(got, Some((normalised(&req), bytes.len())));
        // Canonical: re-encoding the decoded request gives the same bytes.
        prop_assert_eq!(encode_request(&normalised(&req)).unwrap(), bytes);
    }

    #[test]
    fn reply_round_trip(r in reply()) {
        let bytes = encode_reply(&r);
        let (raw, n) = decode_reply(&bytes).unwrap().unwrap();
        prop_assert_eq!(n, bytes.len());
        prop_assert_eq!(&raw.security, &r.security);
        prop_assert_eq!(&raw.application, &r.application);
        check_data(&raw, &r.data)?;
    }

    #[test]
    fn cipher_round_trip(s in "[ -~]{0,64}") {
        let c = xwb::cipher::encrypt(&s);
        prop_assert_eq!(xwb::cipher::decrypt(&c).unwrap(), s);
    }

    #[test]
    fn cipher_round_trip_fixed_rows(s in "[ -~]{0,64}", i in 1usize..=20, off in 1usize..20) {
        let a = (i - 1 + off) % 20 + 1;
        let c = xwb::cipher::encrypt_with(&s, i, a);
        prop_assert_eq!(xwb::cipher::decrypt(&c).unwrap(), s);
    }
}

fn check_data(raw: &RawReply, data: &ReplyData) -> Result<(), TestCaseError> {
    match data {
        ReplyData::Single(s) | ReplyData::Text(s) => {
            prop_assert!(!raw.m_error);
            prop_assert_eq!(&raw.data, s);
        }
        ReplyData::Array(v) | ReplyData::WordProcessing(v) | ReplyData::GlobalArray(v) => {
            prop_assert!(!raw.m_error);
            prop_assert_eq!(&raw.lines(), v);
        }
        ReplyData::MError { error, last_ref } => {
            prop_assert!(raw.m_error);
            prop_assert_eq!(raw.m_error_parts(), Some((error.clone(), last_ref.clone())));
        }
    }
    Ok(())
}
