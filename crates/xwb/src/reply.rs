//! Server → client messages: two error packets, the data, EOT
//! (`SND^XWBRW`).

use crate::error::FrameError;
use crate::request::{Cursor, Stop};
use crate::{EOT, M_ERROR_MARK, MAX_REPLY, MAX_SPACK, latin1};

/// The data part of a reply, by the RPC's return type (`SNDDATA^XWBRW`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyData {
    /// Return type 1, single value: sent as is.
    Single(String),
    /// Return type 2, array: every element followed by `\r\n`.
    Array(Vec<String>),
    /// Return type 3, word-processing text: every line followed by `\r\n`
    /// (VistA does this when the RPC's word-wrap flag is on, as it is for
    /// the RPCs this project serves).
    WordProcessing(Vec<String>),
    /// Return type 4, global array: every node followed by `\r\n` (word-wrap
    /// on).
    GlobalArray(Vec<String>),
    /// A trapped M error (`ETRAP^XWBTCPM`):
    /// `\x18M  ERROR=<error>\r\nLAST REF=<last_ref>`.
    MError { error: String, last_ref: String },
    /// Raw text with no framing of its own, e.g. `accept` (connect ack) or
    /// `#BYE#` (disconnect ack).
    Text(String),
}

/// A reply as the server sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Security error text (first S-PACK), empty on success — e.g.
    /// `Application context has not been created!`.
    pub security: String,
    /// Application error text (second S-PACK), empty on success.
    pub application: String,
    pub data: ReplyData,
}

impl Reply {
    /// A successful reply.
    #[must_use]
    pub fn ok(data: ReplyData) -> Reply {
        Reply {
            security: String::new(),
            application: String::new(),
            data,
        }
    }

    /// A reply with `msg` in the security packet and no data.
    #[must_use]
    pub fn security_error(msg: impl Into<String>) -> Reply {
        Reply {
            security: msg.into(),
            application: String::new(),
            data: ReplyData::Text(String::new()),
        }
    }

    /// A reply with `msg` in the application packet and no data.
    #[must_use]
    pub fn application_error(msg: impl Into<String>) -> Reply {
        Reply {
            security: String::new(),
            application: msg.into(),
            data: ReplyData::Text(String::new()),
        }
    }

    /// The `TCPConnect` acknowledgement: `\x00\x00accept\x04`.
    #[must_use]
    pub fn accept() -> Reply {
        Reply::ok(ReplyData::Text("accept".to_owned()))
    }

    /// The `#BYE#` acknowledgement: `\x00\x00#BYE#\x04`.
    #[must_use]
    pub fn bye() -> Reply {
        Reply::ok(ReplyData::Text("#BYE#".to_owned()))
    }

    /// A trapped M error, e.g. `m_error("<UNDEFINED>LIST+3^ORWPT", "^DPT(1,0)")`.
    #[must_use]
    pub fn m_error(error: impl Into<String>, last_ref: impl Into<String>) -> Reply {
        Reply::ok(ReplyData::MError {
            error: error.into(),
            last_ref: last_ref.into(),
        })
    }
}

/// Encodes a reply: S-PACK(security) S-PACK(application) data EOT.
///
/// Infallible, so it normalises instead of failing: characters above U+00FF
/// are written as `?` (Latin-1, see [`crate::latin1`]); error packets longer
/// than 255 bytes are cut to 255, as `SNDERR^XWBRW` does; an EOT byte inside
/// the data (which would end the reply early and desynchronise the client)
/// is written as `?`.
#[must_use]
pub fn encode_reply(r: &Reply) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for packet in [&r.security, &r.application] {
        let mut bytes = latin1::encode_lossy(packet);
        bytes.truncate(MAX_SPACK);
        out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&bytes);
    }
    let start = out.len();
    let mut put = |s: &str| out.extend_from_slice(&latin1::encode_lossy(s));
    match &r.data {
        ReplyData::Single(s) | ReplyData::Text(s) => put(s),
        ReplyData::Array(items)
        | ReplyData::WordProcessing(items)
        | ReplyData::GlobalArray(items) => {
            for item in items {
                put(item);
                put("\r\n");
            }
        }
        ReplyData::MError { error, last_ref } => {
            put("\u{18}M  ERROR=");
            put(error);
            put("\r\nLAST REF=");
            put(last_ref);
        }
    }
    for b in &mut out[start..] {
        if *b == EOT {
            *b = b'?';
        }
    }
    out.push(EOT);
    out
}

/// A reply as the client reads it: the two error packets and the raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReply {
    /// Security error text; empty on success.
    pub security: String,
    /// Application error text; empty on success.
    pub application: String,
    /// The data, without the EOT, and without the leading `\x18` when
    /// [`m_error`](Self::m_error) is set.
    pub data: String,
    /// The data began with `\x18`: a trapped M error, `data` is then
    /// `M  ERROR=…\r\nLAST REF=…`.
    pub m_error: bool,
}

impl RawReply {
    /// The data split on `\r\n`, without the empty piece after the final
    /// `\r\n` (for array, word-processing and global-array replies). Empty
    /// data gives no lines; data without `\r\n` gives one line.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        if self.data.is_empty() {
            return Vec::new();
        }
        let mut v: Vec<String> = self.data.split("\r\n").map(str::to_owned).collect();
        if v.last().is_some_and(String::is_empty) {
            v.pop();
        }
        v
    }

    /// True when both error packets are empty and there is no M error.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.security.is_empty() && self.application.is_empty() && !self.m_error
    }

    /// For an M error, the `(error, last_ref)` texts; `None` otherwise.
    /// Lenient: a missing `M  ERROR=` prefix or `LAST REF=` part gives the
    /// whole text as `error` and an empty `last_ref`.
    #[must_use]
    pub fn m_error_parts(&self) -> Option<(String, String)> {
        if !self.m_error {
            return None;
        }
        let text = self.data.strip_prefix("M  ERROR=").unwrap_or(&self.data);
        Some(match text.split_once("\r\nLAST REF=") {
            Some((e, r)) => (e.to_owned(), r.to_owned()),
            None => (text.to_owned(), String::new()),
        })
    }
}

/// Decodes one reply from the start of `buf` (client side).
///
/// Incremental like [`decode_request`](crate::decode_request): `Ok(None)`
/// means more bytes are needed, `Ok(Some((reply, consumed)))` that the first
/// `consumed` bytes (through the EOT) were one reply. Any bytes form a valid
/// reply prefix, so the only error is [`FrameError::TooLarge`] when no EOT
/// appears within [`MAX_REPLY`] bytes.
///
/// Note: on an M error `ETRAP^XWBTCPM` writes the EOT twice; the second one
/// is left in the buffer and would read as a 4-byte security packet, so a
/// client that sees `m_error` should skip a directly following `\x04`.
pub fn decode_reply(buf: &[u8]) -> Result<Option<(RawReply, usize)>, FrameError> {
    match parse_reply(buf) {
        Ok(done) => Ok(Some(done)),
        Err(Stop::Incomplete) => Ok(None),
        Err(Stop::Bad(e)) => Err(e),
    }
}

fn parse_reply(buf: &[u8]) -> Result<(RawReply, usize), Stop> {
    let mut c = Cursor::new(buf, MAX_REPLY);
    let security = c.spack()?;
    let application = c.spack()?;
    let start = c.pos;
    let rest = &buf[start..buf.len().min(MAX_REPLY)];
    let Some(len) = rest.iter().position(|&b| b == EOT) else {
        return Err(if buf.len() >= MAX_REPLY {
            Stop::Bad(FrameError::TooLarge { limit: MAX_REPLY })
        } else {
            Stop::Incomplete
        });
    };
    let mut data = &rest[..len];
    let m_error = data.first() == Some(&M_ERROR_MARK);
    if m_error {
        data = &data[1..];
    }
    Ok((
        RawReply {
            security,
            application,
            data: latin1::decode(data),
            m_error,
        },
        start + len + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_edge_cases() {
        let raw = |d: &str| RawReply {
            security: String::new(),
            application: String::new(),
            data: d.to_owned(),
            m_error: false,
        };
        assert!(raw("").lines().is_empty());
        assert_eq!(raw("1").lines(), vec!["1"]);
        assert_eq!(raw("a\r\n").lines(), vec!["a"]);
        assert_eq!(raw("a\r\n\r\nb\r\n").lines(), vec!["a", "", "b"]);
        assert_eq!(raw("\r\n").lines(), vec![""]);
        assert_eq!(raw("a\r\nb").lines(), vec!["a", "b"]);
    }

    #[test]
    fn long_error_packets_are_truncated() {
        let bytes = encode_reply(&Reply::security_error("x".repeat(300)));
        assert_eq!(bytes[0], 255);
        let (raw, n) = decode_reply(&bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(raw.security, "x".repeat(255));
    }

    #[test]
    fn eot_in_data_is_neutralised() {
        let bytes = encode_reply(&Reply::ok(ReplyData::Single("a\u{4}b".into())));
        assert_eq!(bytes, b"\x00\x00a?b\x04");
    }

    #[test]
    fn eot_inside_error_packet_is_data() {
        // S-PACKs are length-delimited, so an EOT inside one does not end the
        // reply.
        let bytes = b"\x02\x04\x04\x00ok\x04";
        let (raw, n) = decode_reply(bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(raw.security, "\u{4}\u{4}");
        assert_eq!(raw.data, "ok");
    }
}
