//! Incremental decoding: partial frames need more bytes; back-to-back
//! frames come out one at a time.

use xwb::{
    Param, Reply, ReplyData, Request, decode_reply, decode_request, encode_reply, encode_request,
};

fn sample_requests() -> Vec<Request> {
    vec![
        Request::connect("10.0.0.7", "ws-17"),
        Request::rpc("XUS SIGNON SETUP", vec![]),
        Request::rpc(
            "XUS AV CODE",
            vec![Param::Literal(xwb::cipher::encrypt_with("a;b", 1, 2))],
        ),
        Request::rpc(
            "DDR LISTER",
            vec![
                Param::List(vec![
                    ("\"FILE\"".into(), "2".into()),
                    ("\"X\"".into(), String::new()),
                ]),
                Param::Reference("DUZ".into()),
                Param::Global(vec![]),
                Param::Empty,
                Param::Literal("\u{4}\u{0}".into()), // EOT inside a value is data
            ],
        ),
        Request::Bye,
    ]
}

#[test]
fn every_prefix_needs_more_bytes() {
    for req in sample_requests() {
        let frame = encode_request(&req).unwrap();
        for n in 0..frame.len() {
            assert_eq!(
                decode_request(&frame[..n]),
                Ok(None),
                "prefix of {n} bytes of {req:?}"
            );
        }
        assert_eq!(decode_request(&frame), Ok(Some((req, frame.len()))));
    }
}

#[test]
fn back_to_back_requests_decode_one_at_a_time() {
    let reqs = sample_requests();
    let mut stream = Vec::new();
    let mut lens = Vec::new();
    for r in &reqs {
        let f = encode_request(r).unwrap();
        lens.push(f.len());
        stream.extend_from_slice(&f);
    }
    let mut pos = 0;
    for (r, len) in reqs.iter().zip(&lens) {
        let (got, consumed) = decode_request(&stream[pos..]).unwrap().unwrap();
        assert_eq!(&got, r);
        assert_eq!(consumed, *len);
        pos += consumed;
    }
    assert_eq!(pos, stream.len());
    assert_eq!(decode_request(&stream[pos..]), Ok(None));
}

#[test]
fn byte_by_byte_feeding() {
    let reqs = sample_requests();
    let stream: Vec<u8> = reqs
        .iter()
        .flat_map(|r| encode_request(r).unwrap())
        .collect();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for &b in &stream {
        buf.push(b);
        while let Some((r, n)) = decode_request(&buf).unwrap() {
            out.push(r);
            buf.drain(..n);
        }
    }
    assert_eq!(out, reqs);
    assert!(buf.is_empty());
}

#[test]
fn replies_every_prefix_and_back_to_back() {
    let replies = vec![
        Reply::accept(),
        Reply::ok(ReplyData::Array(vec!["a".into(), "b".into()])),
        Reply::security_error("no context"),
        Reply::m_error("<UNDEF>", "^X"),
        Reply::bye(),
    ];
    let mut stream = Vec::new();
    for r in &replies {
        let f = encode_reply(r);
        for n in 0..f.len() {
            assert_eq!(decode_reply(&f[..n]), Ok(None), "prefix {n} of {r:?}");
        }
        stream.extend_from_slice(&f);
    }
    let mut pos = 0;
    let mut count = 0;
    while let Some((_, n)) = decode_reply(&stream[pos..]).unwrap() {
        pos += n;
        count += 1;
    }
    assert_eq!(count, replies.len());
    assert_eq!(pos, stream.len());
}
