//! Byte-exact request and reply frames, checked in both directions.

use xwb::{
    Param, RawReply, Reply, ReplyData, Request, decode_reply, decode_request, decode_request_exact,
    encode_reply, encode_request,
};

fn both_ways(frame: &[u8], req: &Request) {
    assert_eq!(
        encode_request(req).unwrap(),
        frame,
        "encode {req:?}:\n got  {:?}\n want {:?}",
        String::from_utf8_lossy(&encode_request(req).unwrap()),
        String::from_utf8_lossy(frame)
    );
    assert_eq!(
        decode_request(frame).unwrap(),
        Some((req.clone(), frame.len()))
    );
    assert_eq!(decode_request_exact(frame).unwrap(), *req);
}

#[test]
fn tcpconnect_from_xwbtcpmt() {
    // TEST^XWBTCPMT with the IP length corrected: the FOIA copy's literal
    // reads `010127.0.0.1`, a 10-byte length for the 9-byte scrubbed IP
    // (the hostname's `DOMAIN.EXT` scrub kept its length by luck).
    both_ways(
        b"[XWB]10304\x0aTCPConnect50009127.0.0.1f00010f0024ISF-FORTW.vha.DOMAIN.EXTf\x04",
        &Request::Connect {
            ip: "127.0.0.1".into(),
            port: "0".into(),
            hostname: "ISF-FORTW.vha.DOMAIN.EXT".into(),
        },
    );
}

#[test]
fn tcpconnect_verbatim_xwbtcpmt_is_rejected() {
    // The scrubbed FOIA frame's IP L-PACK swallows the `f`, so the byte
    // after the value is `0`, not `f`.
    assert_eq!(
        decode_request(
            b"[XWB]10304\x0aTCPConnect50010127.0.0.1f00010f0024ISF-FORTW.vha.DOMAIN.EXTf\x04"
        ),
        Err(xwb::FrameError::BadContinuation {
            offset: 36,
            byte: b'0',
            expected: "'f'"
        })
    );
}

#[test]
fn tcpconnect_localhost() {
    both_ways(
        b"[XWB]10304\nTCPConnect50009127.0.0.1f00010f0009localhostf\x04",
        &Request::connect("127.0.0.1", "localhost"),
    );
}

#[test]
fn xus_signon_setup_without_params() {
    // TEST^XWBTCPMT, verbatim: RPC version "0", no parameters = `54f`.
    both_ways(
        b"[XWB]11302\x010\x10XUS SIGNON SETUP54f\x04",
        &Request::Rpc {
            version: "0".into(),
            name: "XUS SIGNON SETUP".into(),
            params: vec![],
        },
    );
}

#[test]
fn bye() {
    both_ways(b"[XWB]10304\x05#BYE#\x04", &Request::Bye);
}

#[test]
fn literal_param_rpc_version_1108() {
    both_ways(
        b"[XWB]11302\x051.108\x07ORWU DT50002DTf\x04",
        &Request::Rpc {
            version: "1.108".into(),
            name: "ORWU DT".into(),
            params: vec![Param::Literal("DT".into())],
        },
    );
}

#[test]
fn orwpt_list_all_two_literals() {
    both_ways(
        b"[XWB]11302\x010\x0eORWPT LIST ALL50003SMIf00011f\x04",
        &Request::rpc(
            "ORWPT LIST ALL",
            vec![Param::Literal("SMI".into()), Param::Literal("1".into())],
        ),
    );
}

#[test]
fn xus_av_code_encrypted_literal() {
    let enc = xwb::cipher::encrypt_with("fakedoc1;1Doc!@#$", 3, 17);
    assert_eq!(enc, "\"MKmCYzN/T/qzNDe%a0");
    let mut frame = b"[XWB]11302\x010\x0bXUS AV CODE50019".to_vec();
    frame.extend_from_slice(enc.as_bytes());
    frame.extend_from_slice(b"f\x04");
    both_ways(
        &frame,
        &Request::rpc("XUS AV CODE", vec![Param::Literal(enc)]),
    );
}

#[test]
fn list_param() {
    both_ways(
        b"[XWB]11302\x010\x0aDDR LISTER52006\"FILE\"0012t008\"FIELDS\"003.01t007\"FLAGS\"002IPf\x04",
        &Request::rpc(
            "DDR LISTER",
            vec![Param::List(vec![
                ("\"FILE\"".into(), "2".into()),
                ("\"FIELDS\"".into(), ".01".into()),
                ("\"FLAGS\"".into(), "IP".into()),
            ])],
        ),
    );
}

#[test]
fn mixed_params_reference_list_global_empty() {
    both_ways(
        b"[XWB]11302\x010\x04TEST50001af1006DUZ(2)f200110011f3001a001bt001c000f4f\x04",
        &Request::rpc(
            "TEST",
            vec![
                Param::Literal("a".into()),
                Param::Reference("DUZ(2)".into()),
                Param::List(vec![("1".into(), "1".into())]),
                Param::Global(vec![("a".into(), "b".into()), ("c".into(), String::new())]),
                Param::Empty,
            ],
        ),
    );
}

#[test]
fn latin1_bytes_pass_through() {
    both_ways(
        b"[XWB]11302\x010\x04TEST50003\xe9\x00\xfff\x04",
        &Request::rpc("TEST", vec![Param::Literal("\u{e9}\u{0}\u{ff}".into())]),
    );
}

// ------------------------------------------------------------------ replies

fn reply_both_ways(bytes: &[u8], reply: &Reply, raw: &RawReply) {
    assert_eq!(encode_reply(reply), bytes);
    assert_eq!(
        decode_reply(bytes).unwrap(),
        Some((raw.clone(), bytes.len()))
    );
}

fn raw(security: &str, application: &str, data: &str, m_error: bool) -> RawReply {
    RawReply {
        security: security.into(),
        application: application.into(),
        data: data.into(),
        m_error,
    }
}

#[test]
fn accept_and_bye_replies() {
    reply_both_ways(
        b"\x00\x00accept\x04",
        &Reply::accept(),
        &raw("", "", "accept", false),
    );
    reply_both_ways(
        b"\x00\x00#BYE#\x04",
        &Reply::bye(),
        &raw("", "", "#BYE#", false),
    );
}

#[test]
fn single_value_reply() {
    reply_both_ways(
        b"\x00\x001\x04",
        &Reply::ok(ReplyData::Single("1".into())),
        &raw("", "", "1", false),
    );
}

#[test]
fn array_reply() {
    let bytes = b"\x00\x00VISTA\r\nROU\r\nVAH\r\n\r\n\x04";
    let reply = Reply::ok(ReplyData::Array(vec![
        "VISTA".into(),
        "ROU".into(),
        "VAH".into(),
        String::new(),
    ]));
    reply_both_ways(
        bytes,
        &reply,
        &raw("", "", "VISTA\r\nROU\r\nVAH\r\n\r\n", false),
    );
    let (r, _) = decode_reply(bytes).unwrap().unwrap();
    assert_eq!(r.lines(), vec!["VISTA", "ROU", "VAH", ""]);
    assert!(r.is_ok());
}

#[test]
fn word_processing_and_global_array_replies() {
    let lines = vec!["line 1".to_owned(), "line 2".to_owned()];
    for data in [
        ReplyData::WordProcessing(lines.clone()),
        ReplyData::GlobalArray(lines.clone()),
    ] {
        let bytes = encode_reply(&Reply::ok(data));
        assert_eq!(bytes, b"\x00\x00line 1\r\nline 2\r\n\x04");
        assert_eq!(decode_reply(&bytes).unwrap().unwrap().0.lines(), lines);
    }
}

#[test]
fn empty_array_reply() {
    reply_both_ways(
        b"\x00\x00\x04",
        &Reply::ok(ReplyData::Array(vec![])),
        &raw("", "", "", false),
    );
}

#[test]
fn security_error_in_first_packet() {
    let msg = "Application context has not been created!";
    let mut bytes = vec![u8::try_from(msg.len()).unwrap()];
    bytes.extend_from_slice(msg.as_bytes());
    bytes.extend_from_slice(b"\x00\x04");
    reply_both_ways(
        &bytes,
        &Reply::security_error(msg),
        &raw(msg, "", "", false),
    );
    assert!(!decode_reply(&bytes).unwrap().unwrap().0.is_ok());
}

#[test]
fn application_error_in_second_packet() {
    reply_both_ways(
        b"\x00\x04U411\x04",
        &Reply::application_error("U411"),
        &raw("", "U411", "", false),
    );
}

#[test]
fn m_error_reply() {
    let bytes = b"\x00\x00\x18M  ERROR=<UNDEFINED>LIST+3^ORWPT\r\nLAST REF=^DPT(1,0)\x04";
    reply_both_ways(
        bytes,
        &Reply::m_error("<UNDEFINED>LIST+3^ORWPT", "^DPT(1,0)"),
        &raw(
            "",
            "",
            "M  ERROR=<UNDEFINED>LIST+3^ORWPT\r\nLAST REF=^DPT(1,0)",
            true,
        ),
    );
    let (r, _) = decode_reply(bytes).unwrap().unwrap();
    assert!(!r.is_ok());
    assert_eq!(
        r.m_error_parts(),
        Some(("<UNDEFINED>LIST+3^ORWPT".into(), "^DPT(1,0)".into()))
    );
}
