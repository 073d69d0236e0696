//! Malformed input: each defect gives its own error, never a panic.

use xwb::{
    EncodeError, FrameError, MAX_FRAME, MAX_REPLY, Param, Request, decode_reply, decode_request,
    decode_request_exact, encode_request,
};

fn err(buf: &[u8]) -> FrameError {
    match decode_request(buf) {
        Err(e) => e,
        Ok(x) => panic!(
            "expected an error for {:?}, got {x:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

#[test]
fn bad_prefix() {
    for buf in [
        &b"{XWB}10304\x05#BYE#\x04"[..],
        b"<?xml version",
        b"GET / HTTP/1.1\r\n",
        b"[XWA",
        b"x",
        b"\x04",
    ] {
        assert_eq!(err(buf), FrameError::BadPrefix, "{buf:?}");
    }
    // A correct partial prefix only needs more bytes.
    assert_eq!(decode_request(b"[XW"), Ok(None));
}

#[test]
fn bad_header_digit() {
    assert_eq!(
        err(b"[XWB]1a302\x010\x04TEST54f\x04"),
        FrameError::BadHeader {
            offset: 6,
            byte: b'a'
        }
    );
    assert_eq!(
        err(b"[XWB]113\x04"),
        FrameError::BadHeader {
            offset: 8,
            byte: 0x04
        }
    );
}

#[test]
fn bad_chunk_type() {
    assert_eq!(
        err(b"[XWB]11309"),
        FrameError::BadChunk {
            offset: 9,
            byte: b'9'
        }
    );
    assert_eq!(
        err(b"[XWB]1130\x00"),
        FrameError::BadChunk { offset: 9, byte: 0 }
    );
    // Garbage where the EOT should follow a complete command chunk.
    assert_eq!(
        err(b"[XWB]10304\x05#BYE#X\x04"),
        FrameError::BadChunk {
            offset: 16,
            byte: b'X'
        }
    );
}

#[test]
fn duplicate_chunk() {
    assert_eq!(
        err(b"[XWB]11302\x010\x01A2\x010\x01B54f\x04"),
        FrameError::DuplicateChunk {
            offset: 14,
            chunk: '2'
        }
    );
}

#[test]
fn lpack_length_with_non_digits() {
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST500a3abcf\x04"),
        FrameError::BadLength {
            offset: 19,
            width: 3
        }
    );
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST52001a-01bf\x04"),
        FrameError::BadLength {
            offset: 23,
            width: 3
        }
    );
}

#[test]
fn truncated_spack() {
    // The name claims 32 bytes; the stream so far has fewer.
    let frame = b"[XWB]11302\x010\x20XUS SIGNON SETUP54f\x04";
    assert_eq!(decode_request(frame), Ok(None));
    assert_eq!(
        decode_request_exact(frame),
        Err(FrameError::Truncated { len: frame.len() })
    );
    // If the next frame arrives, the overlong S-PACK swallows part of it
    // and the parser fails on what follows instead of mis-framing silently.
    let mut two = frame.to_vec();
    two.extend_from_slice(b"[XWB]10304\x05#BYE#\x04");
    assert!(decode_request(&two).is_err());
    // Truncated inside the S-PACK length itself.
    assert_eq!(
        decode_request_exact(b"[XWB]11302"),
        Err(FrameError::Truncated { len: 10 })
    );
}

#[test]
fn missing_f_after_literal() {
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST50003abcX\x04"),
        FrameError::BadContinuation {
            offset: 25,
            byte: b'X',
            expected: "'f'"
        }
    );
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST54X"),
        FrameError::BadContinuation {
            offset: 19,
            byte: b'X',
            expected: "'f'"
        }
    );
    // EOT straight after the value: the `f` is missing.
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST50003abc\x04"),
        FrameError::BadContinuation {
            offset: 25,
            byte: 0x04,
            expected: "'f'"
        }
    );
}

#[test]
fn missing_t_or_f_in_list() {
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST52001a001bX"),
        FrameError::BadContinuation {
            offset: 27,
            byte: b'X',
            expected: "'t' or 'f'"
        }
    );
}

#[test]
fn bad_param_type() {
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST59"),
        FrameError::BadParamType {
            offset: 18,
            byte: b'9'
        }
    );
    // `5` (stream) is not implemented by VistA either.
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST50001af5"),
        FrameError::BadParamType {
            offset: 24,
            byte: b'5'
        }
    );
}

#[test]
fn unknown_command() {
    assert_eq!(
        err(b"[XWB]10304\x05HELLO\x04"),
        FrameError::UnknownCommand("HELLO".into())
    );
    assert_eq!(
        err(b"[XWB]10304\x03BYE\x04"),
        FrameError::UnknownCommand("BYE".into())
    );
}

#[test]
fn rpc_and_command_or_neither() {
    assert_eq!(
        err(b"[XWB]11302\x010\x04TEST4\x05#BYE#\x04"),
        FrameError::RpcAndCommand
    );
    assert_eq!(err(b"[XWB]1130\x04"), FrameError::NoRpcOrCommand);
    assert_eq!(err(b"[XWB]113054f\x04"), FrameError::NoRpcOrCommand);
}

#[test]
fn bad_connect_params() {
    assert_eq!(
        err(b"[XWB]10304\x0aTCPConnect50003abcf\x04"),
        FrameError::BadConnectParams("fewer than three parameters")
    );
    assert_eq!(
        err(b"[XWB]10304\x0aTCPConnect\x04"),
        FrameError::BadConnectParams("fewer than three parameters")
    );
    assert_eq!(
        err(b"[XWB]10304\x0aTCPConnect50001af1001bf0001cf\x04"),
        FrameError::BadConnectParams("parameters must be literals")
    );
    // Extra parameters are ignored, as VistA does.
    let (req, _) = decode_request(b"[XWB]10304\x0aTCPConnect50001af0001bf0001cf0003VAHf\x04")
        .unwrap()
        .unwrap();
    assert_eq!(
        req,
        Request::Connect {
            ip: "a".into(),
            port: "b".into(),
            hostname: "c".into()
        }
    );
}

#[test]
fn garbage_after_eot() {
    let mut buf = b"[XWB]10304\x05#BYE#\x04".to_vec();
    let n = buf.len();
    buf.extend_from_slice(b"xyz");
    assert_eq!(
        decode_request_exact(&buf),
        Err(FrameError::TrailingBytes {
            offset: n,
            count: 3
        })
    );
    // Incrementally the frame decodes; the garbage then fails as the next frame.
    assert_eq!(decode_request(&buf), Ok(Some((Request::Bye, n))));
    assert_eq!(decode_request(&buf[n..]), Err(FrameError::BadPrefix));
}

#[test]
fn over_max_frame_without_eot() {
    // Valid 999-byte literals, never terminated.
    let mut buf = b"[XWB]11302\x010\x04TEST5".to_vec();
    let mut param = b"0999".to_vec();
    param.extend(std::iter::repeat_n(b'a', 999));
    param.push(b'f');
    while buf.len() <= MAX_FRAME {
        buf.extend_from_slice(&param);
    }
    assert_eq!(err(&buf), FrameError::TooLarge { limit: MAX_FRAME });
    // Exactly at the limit it is still just incomplete or too large, never a panic.
    let _ = decode_request(&buf[..MAX_FRAME]);
    // A length field that announces an oversized value fails at once.
    assert_eq!(
        err(b"[XWB]11902\x010\x04TEST50999999999"),
        FrameError::TooLarge { limit: MAX_FRAME }
    );
}

#[test]
fn encode_refuses_oversized_frame() {
    let params = vec![Param::Literal("z".repeat(999)); MAX_FRAME / 1000 + 10];
    assert!(matches!(
        encode_request(&Request::rpc("BIG", params)),
        Err(EncodeError::TooLarge {
            limit: MAX_FRAME,
            ..
        })
    ));
}

#[test]
fn reply_without_eot_is_too_large() {
    let mut buf = vec![0u8, 0u8];
    buf.resize(MAX_REPLY, b'a');
    assert_eq!(
        decode_reply(&buf),
        Err(FrameError::TooLarge { limit: MAX_REPLY })
    );
    assert_eq!(decode_reply(&buf[..MAX_REPLY - 1]), Ok(None));
    *buf.last_mut().unwrap() = 0x04;
    let (raw, n) = decode_reply(&buf).unwrap().unwrap();
    assert_eq!(n, MAX_REPLY);
    assert_eq!(raw.data.len(), MAX_REPLY - 3);
}

#[test]
fn errors_have_messages() {
    let e = err(b"[XWB]11302\x010\x04TEST500a3abcf\x04");
    assert_eq!(
        e.to_string(),
        "bad L-PACK length at offset 19: expected 3 ASCII digits"
    );
    assert_eq!(
        FrameError::BadPrefix.to_string(),
        "frame does not start with \"[XWB]\""
    );
}
