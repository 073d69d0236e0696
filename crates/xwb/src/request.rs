//! Client → server messages: `[XWB]` frames carrying an RPC call or a
//! broker command (`TCPConnect`, `#BYE#`).

use crate::error::{EncodeError, FrameError};
use crate::{EOT, MAX_FRAME, MAX_LPACK, MAX_SPACK, PREFIX, latin1};

/// One RPC parameter, as sent in the parameter chunk (`5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// Type `0`: a string value.
    Literal(String),
    /// Type `1`: an M expression the server evaluates (`GETV^XWBPRS`).
    Reference(String),
    /// Type `2`: a local array, as `(subscript, value)` pairs in wire order.
    /// Subscripts are M subscript expressions (e.g. `"\"FILE\""` or `1`) and
    /// must not be empty.
    List(Vec<(String, String)>),
    /// Type `3`: like [`Param::List`], but the server stores it in a global
    /// (`^TMP("XWBA",$J,n)`).
    Global(Vec<(String, String)>),
    /// Type `4`: an empty parameter. VistA's parser does not pass it to the
    /// RPC at all; clients use a single empty parameter (`54f`) to mean "no
    /// parameters", so a parameter list of exactly `[Empty]` decodes as `[]`.
    Empty,
}

/// A decoded client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `TCPConnect` (chunk `4`) with its three literal parameters. `port` is
    /// the old callback port and is `"0"` for every current client;
    /// `hostname` is the workstation name. Parameters beyond the third are
    /// ignored when decoding, as VistA does.
    Connect {
        ip: String,
        port: String,
        hostname: String,
    },
    /// `#BYE#` (chunk `4`): the client is disconnecting.
    Bye,
    /// An RPC call (chunk `2`, then chunk `5`). `version` is the RPC version
    /// the client sends (`"0"` from CPRS/`XWBTCPMT`, `"1.108"` from several
    /// open-source clients).
    Rpc {
        version: String,
        name: String,
        params: Vec<Param>,
    },
}

impl Request {
    /// An RPC call with RPC version `"0"`.
    #[must_use]
    pub fn rpc(name: impl Into<String>, params: Vec<Param>) -> Request {
        Request::Rpc {
            version: "0".to_owned(),
            name: name.into(),
            params,
        }
    }

    /// A `TCPConnect` with callback port `"0"`.
    #[must_use]
    pub fn connect(ip: impl Into<String>, hostname: impl Into<String>) -> Request {
        Request::Connect {
            ip: ip.into(),
            port: "0".to_owned(),
            hostname: hostname.into(),
        }
    }
}

// ---------------------------------------------------------------- decoding

/// Why parsing stopped: more bytes are needed, or the frame is bad.
pub(crate) enum Stop {
    Incomplete,
    Bad(FrameError),
}

impl From<FrameError> for Stop {
    fn from(e: FrameError) -> Self {
        Stop::Bad(e)
    }
}

/// A read position in a buffer that may hold only part of a frame.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
    limit: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], limit: usize) -> Self {
        Cursor { buf, pos: 0, limit }
    }

    /// Takes `n` bytes. A frame that would grow past the limit is
    /// [`FrameError::TooLarge`] at once, without waiting for the bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.limit)
            .ok_or(FrameError::TooLarge { limit: self.limit })?;
        if end > self.buf.len() {
            return Err(Stop::Incomplete);
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }

    /// One length byte, then that many bytes.
    pub(crate) fn spack(&mut self) -> Result<String, Stop> {
        let n = usize::from(self.byte()?);
        Ok(latin1::decode(self.take(n)?))
    }

    /// `width` ASCII digits, then that many bytes.
    fn lpack(&mut self, width: usize) -> Result<String, Stop> {
        let offset = self.pos;
        let digits = self.take(width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(FrameError::BadLength { offset, width }.into());
        }
        // At most 9 digits, so this cannot overflow.
        let n = digits
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        Ok(latin1::decode(self.take(n)?))
    }

    fn expect_f(&mut self) -> Result<(), Stop> {
        let offset = self.pos;
        match self.byte()? {
            b'f' => Ok(()),
            byte => Err(FrameError::BadContinuation {
                offset,
                byte,
                expected: "'f'",
            }
            .into()),
        }
    }
}

/// Decodes one request from the start of `buf`.
///
/// Incremental: `Ok(None)` means `buf` holds a valid beginning of a frame
/// and more bytes are needed; `Ok(Some((request, consumed)))` means the
/// first `consumed` bytes (up to and including the EOT) were one frame — the
/// rest of `buf` belongs to the next frame. Errors are reported as soon as
/// the offending byte is present; a frame that is, or would become, longer
/// than [`MAX_FRAME`] is [`FrameError::TooLarge`].
///
/// Decoding is exact about the grammar but, like `XWBPRS`, accepts any
/// header digits, the header (`1`) and security (`3`) chunks (ignored), and
/// an RPC without a parameter chunk.
pub fn decode_request(buf: &[u8]) -> Result<Option<(Request, usize)>, FrameError> {
    match parse_request(buf) {
        Ok(done) => Ok(Some(done)),
        Err(Stop::Incomplete) => Ok(None),
        Err(Stop::Bad(e)) => Err(e),
    }
}

/// Decodes a buffer that must hold exactly one complete request, e.g. the
/// bytes left when a connection closed. An incomplete frame is
/// [`FrameError::Truncated`]; bytes after its EOT are
/// [`FrameError::TrailingBytes`].
pub fn decode_request_exact(buf: &[u8]) -> Result<Request, FrameError> {
    match parse_request(buf) {
        Ok((req, n)) if n == buf.len() => Ok(req),
        Ok((_, n)) => Err(FrameError::TrailingBytes {
            offset: n,
            count: buf.len() - n,
        }),
        Err(Stop::Incomplete) => Err(FrameError::Truncated { len: buf.len() }),
        Err(Stop::Bad(e)) => Err(e),
    }
}

fn parse_request(buf: &[u8]) -> Result<(Request, usize), Stop> {
    let mut c = Cursor::new(buf, MAX_FRAME);

    for &want in PREFIX {
        if c.byte()? != want {
            return Err(FrameError::BadPrefix.into());
        }
    }

    // Header digits V T L R; only L (the L-PACK width) matters here.
    let mut header = [0u8; 4];
    for h in &mut header {
        let offset = c.pos;
        let byte = c.byte()?;
        if !byte.is_ascii_digit() {
            return Err(FrameError::BadHeader { offset, byte }.into());
        }
        *h = byte - b'0';
    }
    let width = match header[2] {
        0 => 3, // as PRSP^XWBPRS
        w => usize::from(w),
    };

    let mut seen = [false; 6];
    let mut rpc: Option<(String, String)> = None;
    let mut command: Option<String> = None;
    let mut params: Option<Vec<Param>> = None;

    loop {
        let offset = c.pos;
        let byte = c.byte()?;
        let chunk = match byte {
            EOT => break,
            b'1'..=b'5' => usize::from(byte - b'0'),
            _ => return Err(FrameError::BadChunk { offset, byte }.into()),
        };
        if seen[chunk] {
            return Err(FrameError::DuplicateChunk {
                offset,
                chunk: char::from(byte),
            }
            .into());
        }
        seen[chunk] = true;
        match chunk {
            1 => {
                // Header chunk: S-PACK version, S-PACK return type.
                c.spack()?;
                c.spack()?;
            }
            2 => {
                let version = c.spack()?;
                let name = c.spack()?;
                rpc = Some((version, name));
            }
            3 => {} // security chunk: no body (PRS3^XWBPRS)
            4 => {
                let cmd = c.spack()?;
                if cmd != "TCPConnect" && cmd != "#BYE#" {
                    return Err(FrameError::UnknownCommand(cmd).into());
                }
                command = Some(cmd);
            }
            _ => {
                // Parameter chunk: always last, consumes the EOT.
                params = Some(parse_params(&mut c, width)?);
                break;
            }
        }
    }

    let req = match (rpc, command) {
        (Some(_), Some(_)) => return Err(FrameError::RpcAndCommand.into()),
        (None, None) => return Err(FrameError::NoRpcOrCommand.into()),
        (Some((version, name)), None) => Request::Rpc {
            version,
            name,
            params: params.unwrap_or_default(),
        },
        (None, Some(cmd)) if cmd == "#BYE#" => Request::Bye,
        (None, Some(_)) => connect_from(params.unwrap_or_default())?,
    };
    Ok((req, c.pos))
}

fn connect_from(params: Vec<Param>) -> Result<Request, FrameError> {
    let mut it = params.into_iter();
    let mut next = || match it.next() {
        Some(Param::Literal(v)) => Ok(v),
        Some(_) => Err(FrameError::BadConnectParams("parameters must be literals")),
        None => Err(FrameError::BadConnectParams("fewer than three parameters")),
    };
    Ok(Request::Connect {
        ip: next()?,
        port: next()?,
        hostname: next()?,
    })
}

/// The parameter chunk after its `5`, up to and including the EOT.
fn parse_params(c: &mut Cursor<'_>, width: usize) -> Result<Vec<Param>, Stop> {
    let mut out = Vec::new();
    loop {
        let offset = c.pos;
        let ty = c.byte()?;
        match ty {
            EOT => break,
            b'0' | b'1' => {
                let v = c.lpack(width)?;
                c.expect_f()?;
                out.push(if ty == b'0' {
                    Param::Literal(v)
                } else {
                    Param::Reference(v)
                });
            }
            b'2' | b'3' => {
                let mut pairs = Vec::new();
                loop {
                    let sub = c.lpack(width)?;
                    // PRS5^XWBPRS: an empty subscript ends the pair without
                    // a value (this is how an empty list is sent: `2000f`).
                    if !sub.is_empty() {
                        let value = c.lpack(width)?;
                        pairs.push((sub, value));
                    }
                    let offset = c.pos;
                    match c.byte()? {
                        b't' => {}
                        b'f' => break,
                        byte => {
                            return Err(FrameError::BadContinuation {
                                offset,
                                byte,
                                expected: "'t' or 'f'",
                            }
                            .into());
                        }
                    }
                }
                out.push(if ty == b'2' {
                    Param::List(pairs)
                } else {
                    Param::Global(pairs)
                });
            }
            b'4' => {
                c.expect_f()?;
                out.push(Param::Empty);
            }
            byte => return Err(FrameError::BadParamType { offset, byte }.into()),
        }
    }
    if out == [Param::Empty] {
        out.clear(); // `54f`: the no-parameter RPC
    }
    Ok(out)
}

// ---------------------------------------------------------------- encoding

/// Encodes a request as one `[XWB]` frame.
///
/// RPCs get header `1130`, commands `1030`; L-PACK lengths are 3 digits. An
/// RPC without parameters is sent as `54f`. Strings must be Latin-1; RPC
/// name and version must fit an S-PACK (255 bytes), parameter values and
/// subscripts an L-PACK (999 bytes), and list subscripts must be non-empty.
pub fn encode_request(req: &Request) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(PREFIX);
    match req {
        Request::Connect { ip, port, hostname } => {
            out.extend_from_slice(b"1030");
            out.push(b'4');
            put_spack(&mut out, "TCPConnect", "command")?;
            out.push(b'5');
            for v in [ip, port, hostname] {
                out.push(b'0');
                put_lpack(&mut out, v, "TCPConnect parameter")?;
                out.push(b'f');
            }
        }
        Request::Bye => {
            out.extend_from_slice(b"1030");
            out.push(b'4');
            put_spack(&mut out, "#BYE#", "command")?;
        }
        Request::Rpc {
            version,
            name,
            params,
        } => {
            out.extend_from_slice(b"1130");
            out.push(b'2');
            put_spack(&mut out, version, "RPC version")?;
            put_spack(&mut out, name, "RPC name")?;
            out.push(b'5');
            if params.is_empty() {
                out.extend_from_slice(b"4f");
            }
            for p in params {
                put_param(&mut out, p)?;
            }
        }
    }
    out.push(EOT);
    if out.len() > MAX_FRAME {
        return Err(EncodeError::TooLarge {
            len: out.len(),
            limit: MAX_FRAME,
        });
    }
    Ok(out)
}

fn put_param(out: &mut Vec<u8>, p: &Param) -> Result<(), EncodeError> {
    match p {
        Param::Literal(v) | Param::Reference(v) => {
            out.push(if matches!(p, Param::Literal(_)) {
                b'0'
            } else {
                b'1'
            });
            put_lpack(out, v, "parameter value")?;
            out.push(b'f');
        }
        Param::List(pairs) | Param::Global(pairs) => {
            out.push(if matches!(p, Param::List(_)) {
                b'2'
            } else {
                b'3'
            });
            if pairs.is_empty() {
                out.extend_from_slice(b"000f");
            }
            for (i, (sub, value)) in pairs.iter().enumerate() {
                if sub.is_empty() {
                    return Err(EncodeError::EmptySubscript);
                }
                put_lpack(out, sub, "list subscript")?;
                put_lpack(out, value, "list value")?;
                out.push(if i + 1 == pairs.len() { b'f' } else { b't' });
            }
        }
        Param::Empty => out.extend_from_slice(b"4f"),
    }
    Ok(())
}

fn put_spack(out: &mut Vec<u8>, s: &str, field: &'static str) -> Result<(), EncodeError> {
    let bytes = latin1::encode(s).map_err(EncodeError::NotLatin1)?;
    let len = u8::try_from(bytes.len()).map_err(|_| EncodeError::SPackTooLong {
        field,
        len: bytes.len(),
    })?;
    debug_assert!(bytes.len() <= MAX_SPACK);
    out.push(len);
    out.extend_from_slice(&bytes);
    Ok(())
}

fn put_lpack(out: &mut Vec<u8>, s: &str, field: &'static str) -> Result<(), EncodeError> {
    let bytes = latin1::encode(s).map_err(EncodeError::NotLatin1)?;
    if bytes.len() > MAX_LPACK {
        return Err(EncodeError::LPackTooLong {
            field,
            len: bytes.len(),
        });
    }
    out.extend_from_slice(format!("{:03}", bytes.len()).as_bytes());
    out.extend_from_slice(&bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_digit_zero_means_three() {
        let frame = b"[XWB]11002\x010\x04TEST50003abcf\x04";
        let (req, n) = decode_request(frame).unwrap().unwrap();
        assert_eq!(n, frame.len());
        assert_eq!(
            req,
            Request::Rpc {
                version: "0".into(),
                name: "TEST".into(),
                params: vec![Param::Literal("abc".into())]
            }
        );
    }

    #[test]
    fn width_five_is_honoured() {
        let frame = b"[XWB]11502\x010\x04TEST5000003abcf\x04";
        let (req, _) = decode_request(frame).unwrap().unwrap();
        assert_eq!(
            req,
            Request::rpc("TEST", vec![Param::Literal("abc".into())])
        );
    }

    #[test]
    fn header_and_security_chunks_are_accepted() {
        let frame = b"[XWB]11301\x00\x0032\x010\x04TEST54f\x04";
        let (req, n) = decode_request(frame).unwrap().unwrap();
        assert_eq!(n, frame.len());
        assert_eq!(req, Request::rpc("TEST", vec![]));
    }

    #[test]
    fn rpc_without_param_chunk() {
        let frame = b"[XWB]11302\x010\x04TEST\x04";
        let (req, _) = decode_request(frame).unwrap().unwrap();
        assert_eq!(req, Request::rpc("TEST", vec![]));
    }

    #[test]
    fn empty_between_params_is_kept() {
        let frame = b"[XWB]11302\x010\x04TEST50001af4f0001bf\x04";
        let (req, _) = decode_request(frame).unwrap().unwrap();
        assert_eq!(
            req,
            Request::rpc(
                "TEST",
                vec![
                    Param::Literal("a".into()),
                    Param::Empty,
                    Param::Literal("b".into())
                ]
            )
        );
    }

    #[test]
    fn empty_list_round_trips() {
        let req = Request::rpc("TEST", vec![Param::List(vec![]), Param::Global(vec![])]);
        let bytes = encode_request(&req).unwrap();
        assert_eq!(bytes, b"[XWB]11302\x010\x04TEST52000f3000f\x04");
        assert_eq!(decode_request(&bytes).unwrap(), Some((req, bytes.len())));
    }

    #[test]
    fn encode_limits() {
        let long = "x".repeat(256);
        assert_eq!(
            encode_request(&Request::rpc(long.clone(), vec![])),
            Err(EncodeError::SPackTooLong {
                field: "RPC name",
                len: 256
            })
        );
        assert!(encode_request(&Request::rpc("x".repeat(255), vec![])).is_ok());
        let big = "y".repeat(1000);
        assert_eq!(
            encode_request(&Request::rpc("T", vec![Param::Literal(big)])),
            Err(EncodeError::LPackTooLong {
                field: "parameter value",
                len: 1000
            })
        );
        assert!(encode_request(&Request::rpc("T", vec![Param::Literal("y".repeat(999))])).is_ok());
        assert_eq!(
            encode_request(&Request::rpc(
                "T",
                vec![Param::List(vec![(String::new(), "v".into())])]
            )),
            Err(EncodeError::EmptySubscript)
        );
        assert_eq!(
            encode_request(&Request::rpc("T€", vec![])),
            Err(EncodeError::NotLatin1('€'))
        );
    }
}
