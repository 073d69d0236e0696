//! The VistA RPC Broker "new-style" `[XWB]` wire protocol — bytes only.
//!
//! This crate encodes and decodes the messages a VistA RPC Broker client
//! (CPRS, VistAJS, …) exchanges with the broker listener (`XWBTCPM` /
//! `XWBPRS` / `XWBRW` in Kernel), plus the `XUSRB1` substitution cipher used
//! for access/verify codes and context names. It does no IO: the server and
//! client crates feed it byte buffers and write out the bytes it returns.
//!
//! # Requests (client → server)
//!
//! ```text
//!  [XWB] V T L R  chunk chunk …                               EOT
//!  ─────┬─ ─┬─────  ─────────────────────────────────────────  ──
//!  prefix  4 header  '1' header  S-PACK(ver) S-PACK(return)     \x04
//!          digits    '2' rpc     S-PACK(rpc version) S-PACK(rpc name)
//!                    '3' security (no body)
//!                    '4' command S-PACK("TCPConnect" | "#BYE#")
//!                    '5' params  (always last, ends with EOT)
//! ```
//!
//! * Header digits: `V` version (1), `T` type (1 = RPC, 0 = command),
//!   `L` width of every L-PACK length field (normally 3; `0` means 3, as in
//!   `PRSP^XWBPRS`), `R` return flag (0). This crate encodes `1130` for RPCs
//!   and `1030` for commands, and decodes any digits.
//! * **S-PACK** = one length byte + that many bytes (so at most 255 bytes).
//! * **L-PACK** = the length as `L` ASCII digits + that many bytes (at most
//!   999 bytes with the usual width 3).
//! * Parameter chunk `5`: a sequence of `type body continuation` items ended
//!   by EOT:
//!
//! ```text
//!  '0' L-PACK(value)                         'f'   literal
//!  '1' L-PACK(M expression)                  'f'   reference
//!  '2' L-PACK(sub) L-PACK(value) 't' … L-PACK(sub) L-PACK(value) 'f'   list
//!  '3' (same as list)                              global
//!  '4'                                       'f'   empty
//! ```
//!
//! Examples (from `XWBTCPMT.m` and public clients):
//!
//! ```text
//! [XWB]1030 4 \x0aTCPConnect 5 0 010 127.0.0.1 f 0 001 0 f 0 009 localhost f \x04
//! [XWB]1130 2 \x010 \x10XUS SIGNON SETUP 5 4f \x04          (no parameters)
//! [XWB]1030 4 \x05#BYE# \x04
//! ```
//!
//! (spaces added for readability; there are none on the wire). Note that
//! `[XWB]11302` is *not* a five-digit header: it is the header `1130`
//! followed by chunk type `2`.
//!
//! # Replies (server → client)
//!
//! ```text
//!  S-PACK(security error) S-PACK(application error) data… EOT
//!  \x00                   \x00                      accept  \x04   (connect ack)
//! ```
//!
//! Successful replies therefore start `\x00\x00`. The data depends on the
//! RPC's return type (`SNDDATA^XWBRW`): a single value is sent raw; arrays,
//! word-processing text and global arrays send every element followed by
//! `\r\n`; a trapped M error sends `\x18M  ERROR=…\r\nLAST REF=…`. Data is
//! not length-prefixed: it ends at the first EOT.
//!
//! # Text encoding
//!
//! VistA is an 8-bit system. Every conversion between wire bytes and
//! [`String`] in this crate uses **Latin-1**: byte `b` ↔ `char` U+00`bb`.
//! Decoding therefore never fails and any byte sequence round-trips
//! (`decode` then `encode` gives back the same bytes). Encoding a request
//! whose strings contain a character above U+00FF is an
//! [`EncodeError::NotLatin1`]; [`encode_reply`] (infallible) writes such
//! characters as `?`. See the [`latin1`] module.
//!
//! # Cipher
//!
//! [`cipher`] implements `ENCRYP^XUSRB1` / `DECRYP^XUSRB1`, the fixed
//! 20-row substitution table every broker client carries.
//!
//! # Example
//!
//! ```
//! use xwb::{Param, Reply, ReplyData, Request, decode_reply, decode_request, encode_reply, encode_request};
//!
//! // Client: encode a call.
//! let av = xwb::cipher::encrypt("fakedoc1;1Doc!@#$");
//! let frame = encode_request(&Request::rpc("XUS AV CODE", vec![Param::Literal(av)]))?;
//!
//! // Server: bytes arrive in pieces; decode when a whole frame is there.
//! assert_eq!(decode_request(&frame[..10])?, None);
//! let (req, used) = decode_request(&frame)?.expect("complete frame");
//! assert_eq!(used, frame.len());
//! let Request::Rpc { name, params, .. } = req else { unreachable!() };
//! assert_eq!(name, "XUS AV CODE");
//! let Param::Literal(enc) = &params[0] else { unreachable!() };
//! assert_eq!(xwb::cipher::decrypt(enc)?, "fakedoc1;1Doc!@#$");
//!
//! // Server: answer; client: read the answer.
//! let bytes = encode_reply(&Reply::ok(ReplyData::Array(vec!["1".into(), "0".into()])));
//! assert_eq!(bytes, b"\x00\x001\r\n0\r\n\x04");
//! let (raw, _) = decode_reply(&bytes)?.expect("complete reply");
//! assert!(raw.is_ok());
//! assert_eq!(raw.lines(), ["1", "0"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod reply;
mod request;

pub mod cipher;
pub mod latin1;

pub use error::{EncodeError, FrameError};
pub use reply::{RawReply, Reply, ReplyData, decode_reply, encode_reply};
pub use request::{Param, Request, decode_request, decode_request_exact, encode_request};

/// End of transmission: terminates every request and every reply.
pub const EOT: u8 = 0x04;

/// Largest request frame (including the trailing EOT) that
/// [`decode_request`] accepts and [`encode_request`] produces.
pub const MAX_FRAME: usize = 1 << 20;

/// Largest reply frame (including the trailing EOT) that [`decode_reply`]
/// accepts. Replies carry whole reports and global arrays, so the limit is
/// far larger than [`MAX_FRAME`]; it only bounds memory on a hostile or
/// broken server.
pub const MAX_REPLY: usize = 64 << 20;

/// The five bytes every new-style request starts with.
pub const PREFIX: &[u8; 5] = b"[XWB]";

/// Marks a trapped M error at the start of the reply data (CAN, `$C(24)`).
pub const M_ERROR_MARK: u8 = 0x18;

/// Largest S-PACKed value (one length byte).
pub const MAX_SPACK: usize = 255;

/// Largest L-PACKed value with the standard 3-digit length field.
pub const MAX_LPACK: usize = 999;
