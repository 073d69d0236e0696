//! Decoding and encoding errors.

/// A request or reply frame that cannot be decoded.
///
/// Offsets are byte offsets from the start of the buffer passed to the
/// decoder (the start of the frame).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame does not start with `[XWB]` (old-style `{XWB}` and M2M
    /// `<?xml` messages are not supported).
    #[error("frame does not start with \"[XWB]\"")]
    BadPrefix,

    /// One of the four header digits after `[XWB]` is not an ASCII digit.
    #[error("bad header byte {byte:#04x} at offset {offset}: expected an ASCII digit")]
    BadHeader { offset: usize, byte: u8 },

    /// A chunk type other than `1`–`5` where a chunk (or the final EOT) was
    /// expected.
    #[error("bad chunk type {byte:#04x} at offset {offset}: expected '1'..'5' or EOT")]
    BadChunk { offset: usize, byte: u8 },

    /// The same chunk type appeared twice in one message.
    #[error("duplicate chunk '{chunk}' at offset {offset}")]
    DuplicateChunk { offset: usize, chunk: char },

    /// An L-PACK length field contains something other than ASCII digits.
    #[error("bad L-PACK length at offset {offset}: expected {width} ASCII digits")]
    BadLength { offset: usize, width: usize },

    /// A parameter type other than `0`–`4` (or EOT) in the parameter chunk.
    #[error("bad parameter type {byte:#04x} at offset {offset}: expected '0'..'4' or EOT")]
    BadParamType { offset: usize, byte: u8 },

    /// The byte after a parameter is not the expected continuation
    /// (`f` after a literal/reference/empty, `t` or `f` inside a list).
    #[error("bad continuation byte {byte:#04x} at offset {offset}: expected {expected}")]
    BadContinuation {
        offset: usize,
        byte: u8,
        expected: &'static str,
    },

    /// A command chunk (`4`) naming something other than `TCPConnect` or
    /// `#BYE#`.
    #[error("unknown broker command {0:?} (expected \"TCPConnect\" or \"#BYE#\")")]
    UnknownCommand(String),

    /// The message has both an RPC chunk and a command chunk.
    #[error("message has both an RPC chunk and a command chunk")]
    RpcAndCommand,

    /// The message ended without an RPC chunk or a command chunk.
    #[error("message has neither an RPC chunk nor a command chunk")]
    NoRpcOrCommand,

    /// `TCPConnect` needs at least three literal parameters
    /// (client IP, callback port, client hostname).
    #[error("TCPConnect needs three literal parameters (ip, port, hostname): {0}")]
    BadConnectParams(&'static str),

    /// The frame is (or would become) longer than the limit without being
    /// complete.
    #[error("frame exceeds the {limit}-byte limit")]
    TooLarge { limit: usize },

    /// [`decode_request_exact`](crate::decode_request_exact): the buffer
    /// ends before the frame is complete (e.g. a truncated S-PACK or a
    /// missing EOT).
    #[error("frame is truncated: {len} bytes, incomplete")]
    Truncated { len: usize },

    /// [`decode_request_exact`](crate::decode_request_exact): bytes follow
    /// the EOT that ends the frame.
    #[error("{count} unexpected bytes after the end of the frame at offset {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

/// A request that cannot be put on the wire.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A value sent as an S-PACK (RPC name, RPC version) is over 255 bytes.
    #[error("{field} is {len} bytes; an S-PACK holds at most 255")]
    SPackTooLong { field: &'static str, len: usize },

    /// A value sent as an L-PACK (parameter value, list subscript) is over
    /// 999 bytes.
    #[error("{field} is {len} bytes; an L-PACK holds at most 999")]
    LPackTooLong { field: &'static str, len: usize },

    /// A list/global subscript is empty. The server's parser (`PRS5^XWBPRS`)
    /// reads an empty subscript as "no value follows", so it cannot be sent.
    #[error("list/global parameter has an empty subscript")]
    EmptySubscript,

    /// A string contains a character that is not Latin-1 (above U+00FF).
    #[error("character {0:?} cannot be sent: VistA strings are Latin-1 (U+0000..U+00FF)")]
    NotLatin1(char),

    /// The encoded frame would be longer than [`MAX_FRAME`](crate::MAX_FRAME).
    #[error("encoded frame is {len} bytes; the limit is {limit}")]
    TooLarge { len: usize, limit: usize },
}
