//! The msgpack parser, wire-compatible with `socket.io-msgpack-parser` 3
//! (which uses notepack.io); see [`decode_msgpack`] and [`encode_msgpack`].

use std::ops::Range;

use bytes::Bytes;

use super::decode::{DecoderConfig, MAX_ACK_ID, check_payload};
use super::error::DecodeError;
use super::json::{self, Lexer, Options, Tok, analyze};
use super::packet::{Args, Data, Packet, PacketKind};
use super::raw::RawJson;
use crate::engine::Str;

/// A MessagePack value's head: its type and, for strings, binary and
/// extension data, where the bytes are.
#[derive(Debug, Clone, PartialEq)]
enum Head {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Float(f64),
    Str(Range<usize>),
    Bin(Range<usize>),
    Array(usize),
    Map(usize),
    /// An extension: its type, its data, and whether it is a fixext.
    Ext(i8, Range<usize>, bool),
}

/// notepack's `undefined`: fixext 1, type 0, one zero byte.
const UNDEFINED: [u8; 3] = [0xd4, 0, 0];

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn malformed(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::InvalidMsgpack { offset, reason }
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn is_undefined_next(&self) -> bool {
        self.buf[self.pos..].starts_with(&UNDEFINED[..2])
    }

    fn take(&mut self, n: usize) -> Result<Range<usize>, DecodeError> {
        if n > self.remaining() {
            return Err(malformed(self.buf.len(), "truncated"));
        }
        let start = self.pos;
        self.pos += n;
        Ok(start..self.pos)
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let r = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[r]);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes::<1>()?[0])
    }

    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.bytes()?)))
    }

    fn len32(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(u32::from_be_bytes(self.bytes()?))
            .map_err(|_| malformed(self.pos, "length too large"))
    }

    /// A count of `per`-byte-or-more items, checked against what is left.
    fn count(&self, n: usize, per: usize, at: usize) -> Result<usize, DecodeError> {
        if n.saturating_mul(per) > self.remaining() {
            return Err(malformed(at, "count larger than the message"));
        }
        Ok(n)
    }

    fn ext(&mut self, len: usize, fixed: bool) -> Result<Head, DecodeError> {
        let t = i8::from_be_bytes(self.bytes()?);
        Ok(Head::Ext(t, self.take(len)?, fixed))
    }

    fn head(&mut self) -> Result<Head, DecodeError> {
        let at = self.pos;
        let prefix = self.u8()?;
        Ok(match prefix {
            0x00..=0x7f => Head::Uint(u64::from(prefix)),
            0x80..=0x8f => Head::Map(self.count(usize::from(prefix & 0x0f), 2, at)?),
            0x90..=0x9f => Head::Array(self.count(usize::from(prefix & 0x0f), 1, at)?),
            0xa0..=0xbf => Head::Str(self.take(usize::from(prefix & 0x1f))?),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => {
                let n = usize::from(self.u8()?);
                Head::Bin(self.take(n)?)
            }
            0xc5 => {
                let n = self.len16()?;
                Head::Bin(self.take(n)?)
            }
            0xc6 => {
                let n = self.len32()?;
                Head::Bin(self.take(n)?)
            }
            0xc7 => {
                let n = usize::from(self.u8()?);
                self.ext(n, false)?
            }
            0xc8 => {
                let n = self.len16()?;
                self.ext(n, false)?
            }
            0xc9 => {
                let n = self.len32()?;
                self.ext(n, false)?
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.bytes()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.bytes()?)),
            0xcc => Head::Uint(u64::from(self.u8()?)),
            0xcd => Head::Uint(u64::from(u16::from_be_bytes(self.bytes()?))),
            0xce => Head::Uint(u64::from(u32::from_be_bytes(self.bytes()?))),
            0xcf => Head::Uint(u64::from_be_bytes(self.bytes()?)),
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.bytes()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.bytes()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.bytes()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.bytes()?)),
            0xd4 => self.ext(1, true)?,
            0xd5 => self.ext(2, true)?,
            0xd6 => self.ext(4, true)?,
            0xd7 => self.ext(8, true)?,
            0xd8 => self.ext(16, true)?,
            0xd9 => {
                let n = usize::from(self.u8()?);
                Head::Str(self.take(n)?)
            }
            0xda => {
                let n = self.len16()?;
                Head::Str(self.take(n)?)
            }
            0xdb => {
                let n = self.len32()?;
                Head::Str(self.take(n)?)
            }
            0xdc => {
                let n = self.len16()?;
                Head::Array(self.count(n, 1, at)?)
            }
            0xdd => {
                let n = self.len32()?;
                Head::Array(self.count(n, 1, at)?)
            }
            0xde => {
                let n = self.len16()?;
                Head::Map(self.count(n, 2, at)?)
            }
            0xdf => {
                let n = self.len32()?;
                Head::Map(self.count(n, 2, at)?)
            }
            0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([prefix]))),
            0xc1 => return Err(malformed(at, "unknown prefix 0xc1")),
        })
    }

    /// Skips one value, however nested, without a stack.
    fn skip(&mut self) -> Result<(), DecodeError> {
        let mut left: usize = 1;
        while left > 0 {
            left -= 1;
            match self.head()? {
                Head::Array(n) => left = left.saturating_add(n),
                Head::Map(n) => left = left.saturating_add(n.saturating_mul(2)),
                _ => {}
            }
        }
        Ok(())
    }

    fn str(&self, r: Range<usize>) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(&self.buf[r]).map_err(|_| DecodeError::InvalidUtf8)
    }
}

/// An open array or map while converting to JSON.
struct Frame {
    left: usize,
    map: bool,
    wrote: bool,
}

/// Converts MessagePack to JSON text and attachments.
struct ToJson<'a> {
    reader: Reader<'a>,
    data: &'a Bytes,
    out: Vec<u8>,
    attachments: Vec<Bytes>,
    max_depth: usize,
    max_attachments: usize,
}

impl ToJson<'_> {
    /// Converts one value; `false` if it is `undefined` (nothing written).
    fn value(&mut self) -> Result<bool, DecodeError> {
        if self.reader.is_undefined_next() {
            self.reader.take(3)?;
            return Ok(false);
        }
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let at = self.reader.pos;
            match self.reader.head()? {
                Head::Array(n) => self.open(&mut stack, n, false)?,
                Head::Map(n) => self.open(&mut stack, n, true)?,
                head => self.scalar(head, stack.len(), at)?,
            }
            // Move to the next value slot, closing what is complete.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(true);
                };
                if top.left == 0 {
                    self.out.push(if top.map { b'}' } else { b']' });
                    stack.pop();
                    continue;
                }
                top.left -= 1;
                if !top.map {
                    if top.wrote {
                        self.out.push(b',');
                    }
                    top.wrote = true;
                    break;
                }
                let key_at = self.reader.pos;
                let key = self.reader.head()?;
                if self.reader.is_undefined_next() {
                    // JSON.stringify leaves out undefined values.
                    self.reader.take(3)?;
                    continue;
                }
                if top.wrote {
                    self.out.push(b',');
                }
                top.wrote = true;
                match key {
                    Head::Str(r) => {
                        let k = self.reader.str(r)?;
                        if k == "_placeholder" && self.reader.peek() == Some(0xc3) {
                            return Err(malformed(key_at, "map shaped like a binary placeholder"));
                        }
                        json::write_string(&mut self.out, k);
                    }
                    Head::Uint(n) => self.out.extend_from_slice(format!("\"{n}\"").as_bytes()),
                    Head::Int(n) => self.out.extend_from_slice(format!("\"{n}\"").as_bytes()),
                    _ => return Err(malformed(key_at, "map key is not a string")),
                }
                self.out.push(b':');
                break;
            }
        }
    }

    fn open(&mut self, stack: &mut Vec<Frame>, n: usize, map: bool) -> Result<(), DecodeError> {
        if stack.len() >= self.max_depth {
            return Err(DecodeError::TooDeep {
                max: self.max_depth,
            });
        }
        self.out.push(if map { b'{' } else { b'[' });
        stack.push(Frame {
            left: n,
            map,
            wrote: false,
        });
        Ok(())
    }

    fn binary(&mut self, r: Range<usize>) -> Result<(), DecodeError> {
        let num = self.attachments.len();
        if num >= self.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                max: self.max_attachments,
            });
        }
        self.attachments.push(self.data.slice(r));
        self.out
            .extend_from_slice(format!("{{\"_placeholder\":true,\"num\":{num}}}").as_bytes());
        Ok(())
    }

    /// An extension notepack does not know: `[type, <data>]`.
    fn foreign_ext(&mut self, t: i8, r: Range<usize>, depth: usize) -> Result<(), DecodeError> {
        if depth >= self.max_depth {
            return Err(DecodeError::TooDeep {
                max: self.max_depth,
            });
        }
        self.out.extend_from_slice(format!("[{t},").as_bytes());
        self.binary(r)?;
        self.out.push(b']');
        Ok(())
    }

    fn scalar(&mut self, head: Head, depth: usize, at: usize) -> Result<(), DecodeError> {
        match head {
            Head::Nil => self.out.extend_from_slice(b"null"),
            Head::Bool(b) => self
                .out
                .extend_from_slice(if b { b"true" } else { b"false" }),
            Head::Uint(n) => put_decimal(&mut self.out, n),
            Head::Int(n) => {
                if n < 0 {
                    self.out.push(b'-');
                }
                put_decimal(&mut self.out, n.unsigned_abs());
            }
            Head::Float(f) => write_js_number(&mut self.out, f),
            Head::Str(r) => {
                let s = self.reader.str(r)?;
                json::write_string(&mut self.out, s);
            }
            Head::Bin(r) => self.binary(r)?,
            // Node's ArrayBuffer and typed arrays.
            Head::Ext(0, r, false) => self.binary(r)?,
            Head::Ext(0, r, true) => match r.len() {
                // `undefined` inside an array.
                1 => self.out.extend_from_slice(b"null"),
                8 => {
                    let b = &self.reader.buf[r];
                    let hi = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let lo = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    write_date(&mut self.out, i64::from(hi) * (1 << 32) + i64::from(lo));
                }
                _ => self.foreign_ext(0, r, depth)?,
            },
            Head::Ext(t, r, _) => self.foreign_ext(t, r, depth)?,
            Head::Array(_) | Head::Map(_) => return Err(malformed(at, "unexpected container")),
        }
        Ok(())
    }
}

/// Appends `n` in decimal, without allocating.
fn put_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Decodes one msgpack packet.
pub(crate) fn decode(data: &Bytes, config: &DecoderConfig) -> Result<Packet, DecodeError> {
    let mut reader = Reader { buf: data, pos: 0 };
    let Head::Map(entries) = reader.head()? else {
        return Err(malformed(0, "packet is not a map"));
    };
    // Fields are checked after the map is read, in the reference's order:
    // type, namespace, payload, id.
    let mut kind = None;
    let mut nsp = None;
    let mut id = Ok(None);
    let mut json: Option<(Vec<u8>, Vec<Bytes>, Range<usize>)> = None;
    for _ in 0..entries {
        let key = match reader.head()? {
            Head::Str(r) => &data[r],
            _ => {
                reader.skip()?;
                continue;
            }
        };
        let at = reader.pos;
        if key == b"data" {
            let mut conv = ToJson {
                reader: Reader {
                    buf: data,
                    pos: reader.pos,
                },
                data,
                out: Vec::with_capacity(data.len() + 16),
                attachments: Vec::new(),
                max_depth: config.max_depth,
                max_attachments: config.max_attachments,
            };
            let defined = conv.value()?;
            reader.pos = conv.reader.pos;
            json = defined.then_some((conv.out, conv.attachments, at..reader.pos));
            continue;
        }
        if !matches!(key, b"type" | b"nsp" | b"id") {
            reader.skip()?;
            continue;
        }
        if reader.is_undefined_next() {
            reader.take(3)?;
            match key {
                b"type" => kind = None,
                b"nsp" => nsp = None,
                _ => id = Ok(None),
            }
            continue;
        }
        let head = reader.head()?;
        let integer = match head {
            Head::Uint(n) => Some(n),
            Head::Int(n) => u64::try_from(n).ok(),
            // isInteger(2.0) holds in JavaScript.
            Head::Float(f) if f.fract() == 0.0 && (0.0..=MAX_ACK_ID as f64).contains(&f) => {
                Some(f as u64)
            }
            _ => None,
        };
        match key {
            b"type" => {
                kind = Some(
                    integer
                        .and_then(|t| u8::try_from(t).ok())
                        .and_then(PacketKind::from_u8)
                        .filter(|k| !k.is_binary())
                        .ok_or(malformed(at, "type is not a packet type (0-4)")),
                );
            }
            b"nsp" => {
                nsp = Some(match head {
                    Head::Str(r) => match reader.str(r.clone()) {
                        Ok(s) if s.starts_with('/') => Ok(Str::from_validated(data.slice(r))),
                        Ok(_) => Err(DecodeError::InvalidNamespace),
                        Err(e) => Err(e),
                    },
                    _ => Err(DecodeError::InvalidNamespace),
                });
            }
            _ => {
                id = integer
                    .filter(|&n| n <= MAX_ACK_ID)
                    .map(Some)
                    .ok_or(DecodeError::InvalidAckId);
            }
        }
    }
    if reader.pos != data.len() {
        return Err(malformed(reader.pos, "trailing bytes"));
    }
    let kind = kind.unwrap_or(Err(malformed(0, "no packet type")))?;
    let nsp = nsp.unwrap_or(Err(DecodeError::InvalidNamespace))?;
    let (text, attachments, span) = match json {
        Some((text, attachments, span)) => (Some(Bytes::from(text)), attachments, span),
        None => (None, Vec::new(), 0..0),
    };
    let kind = if attachments.is_empty() {
        kind
    } else {
        kind.to_binary()
    };
    if !attachments.is_empty() && !kind.is_binary() {
        // Binary data in a CONNECT or CONNECT_ERROR: the JSON model has no
        // place for it.
        return Err(DecodeError::InvalidPayload { kind });
    }
    let buf = text.unwrap_or_default();
    let payload = if buf.is_empty() {
        None
    } else {
        let opts = Options {
            max_depth: config.max_depth,
            split: true,
            attachments: kind.is_binary().then_some(attachments.len()),
        };
        Some(
            analyze(&buf, &opts)
                .map_err(|f| DecodeError::from_fault(f, 0, config.max_depth, attachments.len()))?,
        )
    };
    let data = match check_payload(kind, &buf, 0, payload, config)? {
        Data::Args(args) => {
            let args = with_element_msgpack(args.args, data, span, &attachments);
            Data::Args(Args::from_parts(args, attachments))
        }
        Data::Value(v) => Data::Value(keep_msgpack(v, data.slice(span), &[], &mut Vec::new())),
        Data::None => Data::None,
    };
    let id = id?;
    if kind.is_ack() && id.is_none() {
        return Err(DecodeError::InvalidAckId);
    }
    Ok(Packet {
        kind,
        nsp,
        id,
        data,
    })
}

/// Values up to this many bytes of MessagePack keep it only when the
/// encoder would write other bytes from their JSON text; longer ones keep
/// it always (checking would mean encoding them again, binary data
/// included).
const CHECKED_UP_TO: usize = 64;

/// `raw`, decoded from `msgpack`, keeping `msgpack` for the encoder unless
/// it is short and what the encoder would write from the JSON text anyway
/// (most short values: small integers, strings, `nil`, booleans), which
/// spares an allocation, and keeps the memory a decoded packet costs close
/// to what its JSON alone would.
fn keep_msgpack(
    raw: RawJson,
    msgpack: Bytes,
    attachments: &[Bytes],
    scratch: &mut Vec<u8>,
) -> RawJson {
    if msgpack.len() <= CHECKED_UP_TO {
        scratch.clear();
        if put_json(scratch, &raw, attachments).is_ok() && scratch[..] == msgpack[..] {
            return raw;
        }
    }
    raw.with_msgpack(msgpack)
}

/// Gives each argument the MessagePack of its element of the `data` array
/// at `span` in `data` (see [`keep_msgpack`]): one element per argument,
/// since the conversion to JSON writes one JSON element per MessagePack
/// element (`undefined` as `null`). The arguments are returned as they are
/// if the two do not line up, which a decoded packet never does.
fn with_element_msgpack(
    args: Vec<RawJson>,
    data: &Bytes,
    span: Range<usize>,
    attachments: &[Bytes],
) -> Vec<RawJson> {
    let mut reader = Reader {
        buf: &data[..span.end],
        pos: span.start,
    };
    let mut starts = Vec::with_capacity(args.len() + 1);
    match reader.head() {
        Ok(Head::Array(n)) if n == args.len() => {}
        _ => return args,
    }
    for _ in 0..args.len() {
        starts.push(reader.pos);
        if reader.skip().is_err() {
            return args;
        }
    }
    starts.push(reader.pos);
    let mut scratch = Vec::new();
    args.into_iter()
        .zip(starts.windows(2))
        .map(|(arg, w)| keep_msgpack(arg, data.slice(w[0]..w[1]), attachments, &mut scratch))
        .collect()
}

/// Appends `f` as JavaScript's `Number.prototype.toString` writes it;
/// `null` for NaN and the infinities, as `JSON.stringify` writes them.
fn write_js_number(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if f == 0.0 {
        out.push(b'0');
        return;
    }
    let (digits, e) = shortest_digits(f.abs());
    let k = digits.len() as i64;
    let n = e + 1;
    if f < 0.0 {
        out.push(b'-');
    }
    let s = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        format!("{a}.{b}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let (a, b) = digits.split_at(1);
        let dot = if b.is_empty() { "" } else { "." };
        format!("{a}{dot}{b}e{sign}{}", (n - 1).abs())
    };
    out.extend_from_slice(s.as_bytes());
}

/// The shortest digits that read back as `f` (positive, finite) and the
/// decimal exponent of the first one, choosing as ECMAScript does between
/// two equally close candidates: the even one. (Rust's shortest form
/// rounds such a tie up: 614.04107666015625 is `614.0410766601563` there,
/// `614.0410766601562` in JavaScript.)
fn shortest_digits(f: f64) -> (String, i64) {
    let split = |sci: &str| {
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        (digits, exp.parse::<i64>().unwrap_or(0))
    };
    let (digits, e) = split(&format!("{f:e}"));
    let k = digits.len() as i64;
    // A tie needs the exact value to have exactly one digit more than the
    // shortest form, that digit a 5. Count the exact value's significant
    // digits from its bits: f = m * 2^q with m odd.
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut q) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    };
    let shift = i64::from(m.trailing_zeros());
    m >>= shift;
    q += shift;
    let significant = if q < 0 {
        // -q digits after the point, the last one odd.
        -q + e + 1
    } else {
        // An integer: its digits less its trailing zeros.
        let mut fives = 0;
        while m % 5 == 0 && fives < q {
            m /= 5;
            fives += 1;
        }
        e + 1 - fives
    };
    if significant != k + 1 {
        return (digits, e);
    }
    let (exact, _) = split(&format!("{f:.*e}", digits.len()));
    if !exact.ends_with('5') {
        return (digits, e);
    }
    let down = &exact[..exact.len() - 1];
    let even = down
        .bytes()
        .last()
        .is_some_and(|d| (d - b'0').is_multiple_of(2));
    if even && down != digits {
        (down.trim_end_matches('0').to_owned(), e)
    } else {
        (digits, e)
    }
}

/// Appends a notepack `Date` as `Date.prototype.toJSON` writes it: an ISO
/// 8601 string, or `null` outside JavaScript's date range.
fn write_date(out: &mut Vec<u8>, ms: i64) {
    const MAX_MS: i64 = 8_640_000_000_000_000;
    if !(-MAX_MS..=MAX_MS).contains(&ms) {
        out.extend_from_slice(b"null");
        return;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let text = format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z");
    json::write_string(out, &text);
}

/// Appends a MessagePack length header: the fix form when `len` fits
/// `fix_max`, else the 8 (if `b8` is given), 16 and 32-bit forms. Lengths
/// past u32::MAX (more than MessagePack can say) are written as u32::MAX.
fn put_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    b8: Option<u8>,
    b16: u8,
    b32: u8,
) {
    match fix {
        Some((prefix, max)) if len <= max => out.push(prefix | len as u8),
        _ => {
            if let (Some(p), Ok(n)) = (b8, u8::try_from(len)) {
                out.extend_from_slice(&[p, n]);
            } else if let Ok(n) = u16::try_from(len) {
                out.push(b16);
                out.extend_from_slice(&n.to_be_bytes());
            } else {
                out.push(b32);
                out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            }
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u32::MAX as usize)];
    put_len(out, b.len(), Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb);
    out.extend_from_slice(b);
}

fn put_bin(out: &mut Vec<u8>, data: &[u8]) {
    let b = &data[..data.len().min(u32::MAX as usize)];
    put_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6);
    out.extend_from_slice(b);
}

fn put_array_len(out: &mut Vec<u8>, n: usize) {
    put_len(out, n, Some((0x90, 15)), None, 0xdc, 0xdd);
}

fn put_map_len(out: &mut Vec<u8>, n: usize) {
    put_len(out, n, Some((0x80, 15)), None, 0xde, 0xdf);
}

/// Appends an unsigned integer in notepack's smallest form.
fn put_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[0xcc, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xcd);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0xce);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a signed integer in notepack's smallest form.
fn put_int(out: &mut Vec<u8>, n: i64) {
    if let Ok(u) = u64::try_from(n) {
        put_uint(out, u);
    } else if n >= -32 {
        out.push(n as u8);
    } else if let Ok(n) = i8::try_from(n) {
        out.push(0xd0);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = i16::try_from(n) {
        out.push(0xd1);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = i32::try_from(n) {
        out.push(0xd2);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a JSON number as notepack writes the JavaScript number:
/// integral values as integers (exact when the text is an integer that fits
/// 64 bits), the rest as float 64.
fn put_number(out: &mut Vec<u8>, text: &str) {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(u) = text.parse::<u64>() {
            return put_uint(out, u);
        }
        if let Ok(i) = text.parse::<i64>() {
            return put_int(out, i);
        }
    }
    let f: f64 = text.parse().unwrap_or(f64::NAN);
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-TWO_63..2.0 * TWO_63).contains(&f) {
        if f >= 0.0 {
            put_uint(out, f as u64);
        } else {
            put_int(out, f as i64);
        }
    } else {
        out.push(0xcb);
        out.extend_from_slice(&f.to_be_bytes());
    }
}

/// Appends one JSON value as MessagePack; placeholders that index
/// `attachments` become `bin`.
fn put_json(
    out: &mut Vec<u8>,
    raw: &RawJson,
    attachments: &[Bytes],
) -> Result<(), json::JsonFault> {
    let buf = raw.as_bytes();
    // Containers need their lengths first: one pass to count them.
    let containers = match buf.first() {
        Some(b'[' | b'{') => json::containers(buf, !attachments.is_empty())?,
        _ => Vec::new(),
    };
    let mut next = containers.iter();
    let mut lexer = Lexer::new(buf, usize::MAX);
    while let Some(token) = lexer.next_token()? {
        let text = &buf[token.start..token.end];
        match token.tok {
            Tok::ArrayStart => put_array_len(out, next.next().map_or(0, |c| c.count)),
            Tok::ObjectStart => {
                let c = next.next().copied();
                let bytes = c
                    .and_then(|c| c.placeholder)
                    .and_then(|n| usize::try_from(n).ok())
                    .and_then(|n| attachments.get(n));
                match bytes {
                    Some(bytes) => {
                        put_bin(out, bytes);
                        // A placeholder holds only scalars: skip to its end.
                        while let Some(t) = lexer.next_token()? {
                            if t.tok == Tok::ObjectEnd {
                                break;
                            }
                        }
                    }
                    None => put_map_len(out, c.map_or(0, |c| c.count)),
                }
            }
            Tok::ArrayEnd | Tok::ObjectEnd => {}
            Tok::Key { .. } | Tok::Str { .. } => {
                put_str(out, &json::unescape(&text[1..text.len() - 1]));
            }
            Tok::Number => put_number(out, std::str::from_utf8(text).unwrap_or("0")),
            Tok::True => out.push(0xc3),
            Tok::False => out.push(0xc2),
            Tok::Null => out.push(0xc0),
        }
    }
    Ok(())
}

/// Appends `raw`: the MessagePack it was decoded from, as it came, if it
/// has one; else its JSON converted, or nil if that cannot be read (never
/// the case for a `RawJson`, whose text is checked).
fn put_raw(out: &mut Vec<u8>, raw: &RawJson, attachments: &[Bytes]) {
    if let Some(bytes) = raw.msgpack() {
        out.extend_from_slice(bytes);
        return;
    }
    let start = out.len();
    if put_json(out, raw, attachments).is_err() {
        out.truncate(start);
        out.push(0xc0);
    }
}

/// Encodes `packet` as `socket.io-msgpack-parser` does: one MessagePack
/// map `{type, data, id, nsp}` (`data` and `id` only when present), binary
/// packet types sent as their plain type with attachments inline as `bin`.
///
/// Values decoded by the msgpack parser are written as they came (see
/// [`RawJson::msgpack`]); the others are converted from their JSON text,
/// numbers as notepack writes JavaScript numbers. Strings and binary data
/// past 4 GiB, which MessagePack cannot express, are cut there.
///
/// ```
/// use sockio_core::socket::{Args, Packet, decode_msgpack, encode_msgpack, DecoderConfig};
///
/// let packet = Packet::event("/", Args::event("hi"));
/// let bytes = encode_msgpack(&packet);
/// assert_eq!(bytes[..], *b"\x83\xa4type\x02\xa4data\x91\xa2hi\xa3nsp\xa1/");
/// assert_eq!(decode_msgpack(&bytes, &DecoderConfig::default())?, packet);
/// # Ok::<(), sockio_core::socket::DecodeError>(())
/// ```
pub fn encode_msgpack(packet: &Packet) -> Bytes {
    encode(packet)
}

pub(crate) fn encode(packet: &Packet) -> Bytes {
    let mut out = Vec::with_capacity(32 + packet.nsp.len() + data_len(&packet.data));
    let has_data = !matches!(packet.data, Data::None);
    put_map_len(
        &mut out,
        2 + usize::from(has_data) + usize::from(packet.id.is_some()),
    );
    put_str(&mut out, "type");
    put_uint(&mut out, u64::from(packet.kind.to_plain().as_u8()));
    match &packet.data {
        Data::None => {}
        Data::Value(v) => {
            put_str(&mut out, "data");
            put_raw(&mut out, v, &[]);
        }
        Data::Args(args) => {
            put_str(&mut out, "data");
            put_array_len(&mut out, args.len());
            for arg in args.iter() {
                put_raw(&mut out, arg, args.attachments());
            }
        }
    }
    if let Some(id) = packet.id {
        put_str(&mut out, "id");
        put_uint(&mut out, id);
    }
    put_str(&mut out, "nsp");
    put_str(&mut out, &packet.nsp);
    Bytes::from(out)
}

/// About the size of `data` in MessagePack: the MessagePack of values that
/// have one, the JSON text of the others, and their attachments.
fn data_len(data: &Data) -> usize {
    let len = |raw: &RawJson| raw.msgpack().map_or(raw.len(), Bytes::len);
    match data {
        Data::None => 0,
        Data::Value(v) => len(v),
        Data::Args(args) => {
            let values: usize = args.iter().map(len).sum();
            let binary: usize = if args.iter().all(|a| a.msgpack().is_some()) {
                0
            } else {
                args.attachments().iter().map(Bytes::len).sum()
            };
            values + binary + 5
        }
    }
}

/// Decodes one msgpack packet (what [`Decoder`](super::Decoder) does with
/// each binary message when its parser is [`Parser::Msgpack`](super::Parser::Msgpack)).
///
/// A packet is one binary message: the MessagePack map
/// `{type, data, id, nsp}` (`data` and `id` only when present), with types
/// 0 to 4 only: binary data is inline, as MessagePack `bin`, so there are
/// no attachments on the wire and no binary packet types.
///
/// Packets here keep one model for both parsers, so decoding turns `data`
/// into JSON text: `bin` values become placeholders and attachments
/// (slices of the message, not copies), and an event or ack with some is
/// a `BinaryEvent` / `BinaryAck`. This JSON view is what serde
/// ([`Args::deserialize`]), the default parser and every [`RawJson`]
/// method see. What notepack writes beyond JSON reads as JavaScript would
/// see it after `JSON.stringify`:
///
/// | notepack writes | for | JSON view (what serde sees) |
/// |---|---|---|
/// | fixext 1, type 0 | `undefined` | absent (map value, `data`, `id`); `null` as an array element or argument (`Option::None`, `()`) |
/// | float 64 NaN, ±Infinity | `NaN`, `±Infinity` | `null` (an `Option<f64>` reads `None`; a plain `f64` refuses it) |
/// | fixext 8, type 0 | `Date` (ms since the epoch, signed) | its ISO 8601 string, `null` if out of range |
/// | `bin` | `Buffer` | binary data: a placeholder (`bytes::Bytes`, `serde_bytes`) |
/// | ext 8/16/32, type 0 | `ArrayBuffer`, typed arrays | binary data, as `bin` |
/// | any other ext | (other encoders) | `[type, <binary data>]`, as notepack decodes it |
///
/// Other floats print as JavaScript prints numbers (`1e+21`, `1.5e-7`).
/// Integers keep every digit (JavaScript would round those past 2^53). Map
/// keys must be strings or integers (integers read as strings).
///
/// Each argument, and the value of a CONNECT or CONNECT_ERROR, also keeps
/// the MessagePack it was decoded from ([`RawJson::msgpack`]: a slice of
/// the message, not a copy), and [`encode_msgpack`] writes those bytes as
/// they came. (Short values whose JSON text the encoder turns back into
/// the same bytes, most of them, need not keep anything, and do not.) A value received from a msgpack peer and sent on to another
/// is therefore what that peer encoded, byte for byte: `undefined`, NaN,
/// `Date` and `ArrayBuffer` included, in its key order and integer widths.
/// (The reference server decodes and re-encodes instead: for what notepack
/// writes that gives the same bytes; what only other encoders write, such
/// as float 32, wider integers than needed or an extension type other than
/// 0, it would rewrite, and this sends as it came.) Sent with the default
/// parser, the same value is its JSON view, as the reference would write
/// it. Only values held whole keep their MessagePack: a value built from
/// parts of another (a field of a deserialized struct) is JSON again.
///
/// Decoding checks every length against the bytes left before using it,
/// walks nested values with an explicit stack bounded by
/// [`DecoderConfig::max_depth`], takes at most
/// [`DecoderConfig::max_attachments`] binary values (the reference msgpack
/// parser has no such limit; the default parser's applies here too, so
/// that a packet costs the same bounded memory whatever the parser), and
/// keeps the decoded packet within 60 times the message size (an argument
/// costs 32 bytes of bookkeeping, 112 when it keeps its MessagePack, which
/// only values of 2 bytes or more need, and one byte of MessagePack can be
/// one argument). Keys other than `type`, `data`, `id` and `nsp`
/// (socket.io-client adds `options`) are skipped.
///
/// Two things the JSON model cannot hold are refused: a map with
/// `"_placeholder": true` in the data (it would read as a placeholder), and
/// binary data in a CONNECT or CONNECT_ERROR (whose payload has no
/// attachments).
pub fn decode_msgpack(data: &Bytes, config: &DecoderConfig) -> Result<Packet, DecodeError> {
    decode(data, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A float from text the compiler would call too precise.
    fn exact(s: &str) -> f64 {
        s.parse().unwrap()
    }

    fn js(f: f64) -> String {
        let mut out = Vec::new();
        write_js_number(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_print_as_in_javascript() {
        for (f, s) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (123456789.125, "123456789.125"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (f64::from(0.1f32), "0.10000000149011612"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (-123e-20, "-1.23e-18"),
            // Ties go to the even digit, as ECMAScript says.
            (exact("614.04107666015625"), "614.0410766601562"),
            (exact("-30138.0157470703125"), "-30138.015747070312"),
            (0.5, "0.5"),
            (2.5, "2.5"),
            (9007199254740993.0, "9007199254740992"),
            (1.8446744073709552e19, "18446744073709552000"),
        ] {
            assert_eq!(js(f), s, "{f:e}");
        }
    }

    #[test]
    fn dates_print_as_to_json() {
        let date = |ms| {
            let mut out = Vec::new();
            write_date(&mut out, ms);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(date(0), r#""1970-01-01T00:00:00.000Z""#);
        assert_eq!(date(1_700_000_000_123), r#""2023-11-14T22:13:20.123Z""#);
        assert_eq!(date(-1), r#""1969-12-31T23:59:59.999Z""#);
        assert_eq!(date(951_782_400_000), r#""2000-02-29T00:00:00.000Z""#);
        assert_eq!(
            date(-62_198_755_200_000),
            r#""-000001-01-01T00:00:00.000Z""#
        );
        assert_eq!(
            date(253_402_300_800_000),
            r#""+010000-01-01T00:00:00.000Z""#
        );
        assert_eq!(date(8_640_000_000_000_001), "null");
    }

    #[test]
    fn integers_in_the_smallest_form() {
        let enc = |text: &str| {
            let mut out = Vec::new();
            put_number(&mut out, text);
            out
        };
        assert_eq!(enc("0"), [0x00]);
        assert_eq!(enc("127"), [0x7f]);
        assert_eq!(enc("128"), [0xcc, 0x80]);
        assert_eq!(enc("256"), [0xcd, 1, 0]);
        assert_eq!(enc("65536"), [0xce, 0, 1, 0, 0]);
        assert_eq!(enc("4294967296"), [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(enc("-1"), [0xff]);
        assert_eq!(enc("-32"), [0xe0]);
        assert_eq!(enc("-33"), [0xd0, 0xdf]);
        assert_eq!(enc("-129"), [0xd1, 0xff, 0x7f]);
        assert_eq!(enc("-32769"), [0xd2, 0xff, 0xff, 0x7f, 0xff]);
        assert_eq!(enc("-2147483649")[0], 0xd3);
        // Integral numbers written otherwise are still integers, as in JS.
        assert_eq!(enc("1.0"), [0x01]);
        assert_eq!(enc("1e2"), [0x64]);
        assert_eq!(enc("-0"), [0x00]);
        assert_eq!(enc("-0.0"), [0x00]);
        let mut f = vec![0xcb];
        f.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(enc("1.5"), f);
        let mut inf = vec![0xcb];
        inf.extend_from_slice(&f64::INFINITY.to_be_bytes());
        assert_eq!(enc("1e400"), inf);
    }
}
