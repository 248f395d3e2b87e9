//! HTTP long-polling payloads: the packets of one request or response body.
//!
//! Protocol 4 joins the text forms of the packets with the record
//! separator `0x1e`; binary data travels as `b` + base64:
//!
//! ```text
//! 4hello 0x1e 2 0x1e bAQIDBA==      message "hello", ping, binary <01 02 03 04>
//! ```
//!
//! Protocol 3 puts each packet's length in front of it, counted in UTF-16
//! code units as JavaScript counts string length (`€` is 1, `😀` is 2);
//! binary data travels as `b4` + base64, and no packets at all is `0:`:
//!
//! ```text
//! 6:4hello 2:4€ 10:b4AQIDBA==       (without the spaces)
//! ```
//!
//! Protocol 3 clients that support binary (those that do not send `b64=1`)
//! may also send, and expect when binary data is queued, a binary body
//! (`Content-Type: application/octet-stream`), where each packet is
//!
//! ```text
//! <0 for text, 1 for binary> <the length, one byte per decimal digit> 0xff <packet>
//! ```
//!
//! with text packets in UTF-8 (their length in bytes) and binary packets as
//! the type byte `0x04` and the data. See [`encode_payload_binary_v3`] and
//! [`PayloadDecoder::binary_v3`].
//!
//! Decoding does work linear in the body and allocates at most the packets
//! it returns (plus the decoded base64); it never panics. A body that
//! breaks any rule is an error: the reference server answers it with HTTP
//! 400 and closes the session with "parse error".

use std::fmt::Write as _;
use std::iter::FusedIterator;

use bytes::{BufMut, Bytes, BytesMut};

use super::packet::{Packet, PacketError, Protocol, decode_text_validated, utf16_width};

/// The record separator between two packets of a protocol 4 payload.
pub const SEPARATOR: u8 = 0x1e;

/// The byte ending a length in a protocol 3 binary payload.
const BINARY_LENGTH_END: u8 = 0xff;

/// Decimal digits beyond which a length cannot fit in a `usize` anyway.
const MAX_LENGTH_DIGITS: usize = 20;

/// Appends the text payload of `packets` to `out` (the body of a polling
/// response, `Content-Type: text/plain; charset=UTF-8`).
///
/// Protocol 4: the text forms joined with `0x1e`, nothing for no packets.
/// Text data must not contain `0x1e` (the receiver would split there); the
/// protocol leaves this to the application, as the reference does.
///
/// Protocol 3: each text form with its length in UTF-16 code units and `:`
/// in front, `0:` for no packets.
pub fn encode_payload<'a>(
    packets: impl IntoIterator<Item = &'a Packet>,
    protocol: Protocol,
    out: &mut BytesMut,
) {
    let mut first = true;
    for packet in packets {
        match protocol {
            Protocol::V4 => {
                if !first {
                    out.put_u8(SEPARATOR);
                }
            }
            Protocol::V3 => {
                // Writing to a BytesMut cannot fail.
                let _ = write!(out, "{}:", packet.text_len_utf16(protocol));
            }
        }
        packet.encode_text(protocol, out);
        first = false;
    }
    if first && protocol == Protocol::V3 {
        out.extend_from_slice(b"0:");
    }
}

/// Appends the protocol 3 binary payload of `packets` to `out` (the body
/// of a polling response, `Content-Type: application/octet-stream`).
///
/// The reference server uses this form when the client supports binary
/// (no `b64=1` in its query) and at least one queued packet is binary;
/// otherwise [`encode_payload`] with [`Protocol::V3`].
pub fn encode_payload_binary_v3<'a>(
    packets: impl IntoIterator<Item = &'a Packet>,
    out: &mut BytesMut,
) {
    for packet in packets {
        match packet {
            Packet::Binary(data) => {
                out.put_u8(1);
                put_length_digits(1 + data.len(), out);
                out.put_u8(BINARY_LENGTH_END);
                out.put_u8(4);
                out.extend_from_slice(data);
            }
            _ => {
                out.put_u8(0);
                put_length_digits(packet.text_len(Protocol::V3), out);
                out.put_u8(BINARY_LENGTH_END);
                packet.encode_text(Protocol::V3, out);
            }
        }
    }
}

/// Writes `n` in decimal, one byte (0-9) per digit.
fn put_length_digits(n: usize, out: &mut BytesMut) {
    let start = out.len();
    let _ = write!(out, "{n}");
    for d in &mut out[start..] {
        *d -= b'0';
    }
}

/// Decodes a text polling body (a POST from the client, or a GET response
/// for a client) into at most `max_packets` packets.
///
/// All or nothing: on an error no packet is returned. To handle the
/// packets before the first error (as the reference server does), iterate
/// a [`PayloadDecoder`] instead.
pub fn decode_payload(
    body: Bytes,
    protocol: Protocol,
    max_packets: usize,
) -> Result<Vec<Packet>, PacketError> {
    PayloadDecoder::new(body, protocol).into_vec(max_packets)
}

/// Decodes a protocol 3 binary polling body (`Content-Type:
/// application/octet-stream`) into at most `max_packets` packets.
pub fn decode_payload_binary_v3(
    body: Bytes,
    max_packets: usize,
) -> Result<Vec<Packet>, PacketError> {
    PayloadDecoder::binary_v3(body).into_vec(max_packets)
}

/// The packets of a polling body, one at a time: an iterator of
/// `Result<Packet, PacketError>` that ends after the first error.
///
/// The data of each packet is a slice of the body, not a copy (except
/// base64, which is decoded into a new buffer).
///
/// ```
/// use bytes::Bytes;
/// use sockio_core::engine::{Packet, PacketError, PayloadDecoder, Protocol};
///
/// let body = Bytes::from_static(b"4hello\x1e7oops\x1e4never");
/// let mut packets = PayloadDecoder::new(body, Protocol::V4);
/// assert_eq!(packets.next(), Some(Ok(Packet::message("hello"))));
/// assert_eq!(packets.next(), Some(Err(PacketError::UnknownType(b'7'))));
/// assert_eq!(packets.next(), None);
/// ```
#[derive(Debug, Clone)]
pub struct PayloadDecoder {
    body: Bytes,
    /// Where the next packet (or its length header) starts.
    pos: usize,
    format: Format,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V4,
    V3Text,
    V3Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing read yet (the whole-body checks are still to do).
    Start,
    Running,
    Done,
}

impl PayloadDecoder {
    /// Decodes a text body (`text/plain`) in `protocol`.
    pub fn new(body: Bytes, protocol: Protocol) -> Self {
        let format = match protocol {
            Protocol::V4 => Format::V4,
            Protocol::V3 => Format::V3Text,
        };
        Self {
            body,
            pos: 0,
            format,
            state: State::Start,
        }
    }

    /// Decodes a protocol 3 binary body (`application/octet-stream`).
    pub fn binary_v3(body: Bytes) -> Self {
        Self {
            body,
            pos: 0,
            format: Format::V3Binary,
            state: State::Start,
        }
    }

    /// Collects every packet, or the first error; more than `max_packets`
    /// packets is [`PacketError::TooManyPackets`].
    pub fn into_vec(self, max_packets: usize) -> Result<Vec<Packet>, PacketError> {
        let mut packets = Vec::new();
        for packet in self {
            let packet = packet?;
            if packets.len() == max_packets {
                return Err(PacketError::TooManyPackets { max: max_packets });
            }
            packets.push(packet);
        }
        Ok(packets)
    }

    fn next_v4(&mut self) -> Option<Result<Packet, PacketError>> {
        // Every segment, the last one included, must be a packet: an empty
        // body or an empty segment is an error.
        let rest = &self.body[self.pos..];
        let end = match rest.iter().position(|&b| b == SEPARATOR) {
            Some(i) => self.pos + i,
            None => {
                self.state = State::Done;
                self.body.len()
            }
        };
        let segment = self.body.slice(self.pos..end);
        self.pos = end + 1;
        // 0x1e never occurs inside a multi-byte UTF-8 sequence, so the body
        // is UTF-8 exactly when every segment is.
        if std::str::from_utf8(&segment).is_err() {
            return Some(Err(PacketError::InvalidUtf8));
        }
        Some(decode_text_validated(segment, Protocol::V4))
    }

    fn next_v3_text(&mut self) -> Option<Result<Packet, PacketError>> {
        if self.state == State::Start {
            if self.body.is_empty() {
                return Some(Err(PacketError::Empty));
            }
            // The lengths count characters, so the whole body is checked
            // first; packets are then cut at character boundaries.
            if std::str::from_utf8(&self.body).is_err() {
                return Some(Err(PacketError::InvalidUtf8));
            }
        }
        let body = &self.body;
        loop {
            if self.pos == body.len() {
                return None;
            }
            let (units, mut pos) = match read_length(body, self.pos, b':', |c| {
                c.is_ascii_digit().then(|| c - b'0')
            }) {
                Ok(header) => header,
                Err(e) => return Some(Err(e)),
            };
            let start = pos;
            let mut counted = 0;
            while counted < units {
                let Some(&c) = body.get(pos) else {
                    return Some(Err(PacketError::InvalidLength));
                };
                counted += utf16_width(c);
                pos += 1;
            }
            // Ending in the middle of a surrogate pair.
            if counted > units {
                return Some(Err(PacketError::InvalidLength));
            }
            // The continuation bytes of the last character.
            while body.get(pos).is_some_and(|&c| c & 0xc0 == 0x80) {
                pos += 1;
            }
            self.pos = pos;
            // `0:` holds no packet (it is the empty payload).
            if units > 0 {
                return Some(decode_text_validated(body.slice(start..pos), Protocol::V3));
            }
        }
    }

    fn next_v3_binary(&mut self) -> Option<Result<Packet, PacketError>> {
        let body = &self.body;
        let &kind = body.get(self.pos)?;
        if kind > 1 {
            return Some(Err(PacketError::InvalidLength));
        }
        let (len, start) = match read_length(body, self.pos + 1, BINARY_LENGTH_END, |c| {
            (c <= 9).then_some(c)
        }) {
            Ok(header) => header,
            Err(e) => return Some(Err(e)),
        };
        let Some(end) = start.checked_add(len).filter(|&end| end <= body.len()) else {
            return Some(Err(PacketError::InvalidLength));
        };
        let packet = body.slice(start..end);
        self.pos = end;
        Some(if kind == 0 {
            match std::str::from_utf8(&packet) {
                Ok(_) => decode_text_validated(packet, Protocol::V3),
                Err(_) => Err(PacketError::InvalidUtf8),
            }
        } else {
            Packet::decode_ws_binary(packet, Protocol::V3)
        })
    }
}

/// Reads a decimal length at `pos` up to `end_byte`, with `digit` mapping a
/// byte to its value. Returns the length and the position after
/// `end_byte`.
fn read_length(
    body: &[u8],
    mut pos: usize,
    end_byte: u8,
    digit: impl Fn(u8) -> Option<u8>,
) -> Result<(usize, usize), PacketError> {
    let mut n: usize = 0;
    let mut digits = 0;
    loop {
        let &c = body.get(pos).ok_or(PacketError::InvalidLength)?;
        pos += 1;
        if c == end_byte && digits > 0 {
            return Ok((n, pos));
        }
        let d = digit(c).ok_or(PacketError::InvalidLength)?;
        digits += 1;
        if digits > MAX_LENGTH_DIGITS {
            return Err(PacketError::InvalidLength);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(d)))
            .ok_or(PacketError::InvalidLength)?;
    }
}

impl Iterator for PayloadDecoder {
    type Item = Result<Packet, PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == State::Done {
            return None;
        }
        let item = match self.format {
            Format::V4 => self.next_v4(),
            Format::V3Text => self.next_v3_text(),
            Format::V3Binary => self.next_v3_binary(),
        };
        if self.state == State::Start {
            self.state = State::Running;
        }
        if !matches!(item, Some(Ok(_))) {
            self.state = State::Done;
        }
        item
    }
}

impl FusedIterator for PayloadDecoder {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::packet::Str;
    use proptest::prelude::*;

    const V3: Protocol = Protocol::V3;
    const V4: Protocol = Protocol::V4;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    /// A string's `length` in JavaScript.
    fn js_length(text: &str) -> usize {
        text.encode_utf16().count()
    }

    fn encode(packets: &[Packet], protocol: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode_payload(packets, protocol, &mut out);
        out.to_vec()
    }

    fn encode_bin(packets: &[Packet]) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode_payload_binary_v3(packets, &mut out);
        out.to_vec()
    }

    fn decode(body: &[u8], protocol: Protocol) -> Result<Vec<Packet>, PacketError> {
        decode_payload(Bytes::copy_from_slice(body), protocol, usize::MAX)
    }

    /// Both directions, byte for byte.
    fn both_ways(packets: &[Packet], protocol: Protocol, wire: &[u8]) {
        assert_eq!(
            String::from_utf8_lossy(&encode(packets, protocol)),
            String::from_utf8_lossy(wire)
        );
        assert_eq!(decode(wire, protocol).as_deref(), Ok(packets));
    }

    fn every_type() -> Vec<Packet> {
        vec![
            Packet::Open(b(br#"{"sid":"abc","upgrades":[]}"#)),
            Packet::Close,
            Packet::Ping(b(b"probe")),
            Packet::Ping(Bytes::new()),
            Packet::Pong(b(b"probe")),
            Packet::message("hello"),
            Packet::message(""),
            Packet::binary(b(&[1, 2, 3, 4])),
            Packet::Upgrade,
            Packet::Noop,
        ]
    }

    // ----- protocol 4 -----

    #[test]
    fn v4_spec_examples() {
        // v4-current.md, "HTTP long-polling".
        both_ways(
            &[
                Packet::message("hello"),
                Packet::Ping(Bytes::new()),
                Packet::message("world"),
            ],
            V4,
            b"4hello\x1e2\x1e4world",
        );
        both_ways(
            &[Packet::message("hello"), Packet::binary(b(&[1, 2, 3, 4]))],
            V4,
            b"4hello\x1ebAQIDBA==",
        );
        both_ways(
            &[
                Packet::message("hello"),
                Packet::message("€"),
                Packet::binary(b(&[1, 2, 3, 4])),
            ],
            V4,
            "4hello\x1e4€\x1ebAQIDBA==".as_bytes(),
        );
    }

    #[test]
    fn v4_every_type() {
        let packets = every_type();
        let wire = encode(&packets, V4);
        assert_eq!(
            String::from_utf8(wire.clone()).unwrap(),
            "0{\"sid\":\"abc\",\"upgrades\":[]}\x1e1\x1e2probe\x1e2\x1e3probe\x1e4hello\x1e4\x1ebAQIDBA==\x1e5\x1e6"
        );
        assert_eq!(decode(&wire, V4), Ok(packets));
        // One packet, no separator.
        both_ways(&[Packet::Noop], V4, b"6");
    }

    #[test]
    fn v4_no_packets() {
        assert_eq!(encode(&[], V4), b"");
        // An empty body is one empty segment, as in the reference
        // ("".split("\x1e") is [""]).
        assert_eq!(decode(b"", V4), Err(PacketError::Empty));
    }

    /// RELIABILITY.md case 19: invalid payloads.
    #[test]
    fn v4_invalid_payloads() {
        // Bad type digit.
        assert_eq!(decode(b"4a\x1e9b", V4), Err(PacketError::UnknownType(b'9')));
        assert_eq!(decode(b"x", V4), Err(PacketError::UnknownType(b'x')));
        // Empty segments between, before or after record separators.
        assert_eq!(decode(b"4a\x1e\x1e4b", V4), Err(PacketError::Empty));
        assert_eq!(decode(b"\x1e4a", V4), Err(PacketError::Empty));
        assert_eq!(decode(b"4a\x1e", V4), Err(PacketError::Empty));
        assert_eq!(decode(b"\x1e", V4), Err(PacketError::Empty));
        // Bad base64 in a b packet.
        assert_eq!(decode(b"4a\x1eb!!!!", V4), Err(PacketError::InvalidBase64));
        assert_eq!(decode(b"bAQID\x1e", V4), Err(PacketError::Empty));
        assert_eq!(decode(b"bA", V4), Err(PacketError::InvalidBase64));
        // Truncated and invalid UTF-8.
        assert_eq!(
            decode(b"4a\x1e4\xe2\x82", V4),
            Err(PacketError::InvalidUtf8)
        );
        assert_eq!(
            decode(b"4\xe2\x82\x1e4a", V4),
            Err(PacketError::InvalidUtf8)
        );
        assert_eq!(decode(b"4\xc0\xaf", V4), Err(PacketError::InvalidUtf8));
        assert_eq!(decode(b"4\xed\xa0\x80", V4), Err(PacketError::InvalidUtf8));
    }

    #[test]
    fn v4_iterator_yields_the_prefix_then_stops() {
        let mut it = PayloadDecoder::new(b(b"4a\x1e2\x1e\x1e4b"), V4);
        assert_eq!(it.next(), Some(Ok(Packet::message("a"))));
        assert_eq!(it.next(), Some(Ok(Packet::Ping(Bytes::new()))));
        assert_eq!(it.next(), Some(Err(PacketError::Empty)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn max_packets() {
        let body = b(b"6\x1e6\x1e6");
        assert_eq!(decode_payload(body.clone(), V4, 3).map(|v| v.len()), Ok(3));
        assert_eq!(
            decode_payload(body, V4, 2),
            Err(PacketError::TooManyPackets { max: 2 })
        );
        assert_eq!(
            decode_payload(b(b"1:61:6"), V3, 1),
            Err(PacketError::TooManyPackets { max: 1 })
        );
        assert_eq!(
            decode_payload_binary_v3(b(&[0, 1, 0xff, b'6', 0, 1, 0xff, b'6']), 1),
            Err(PacketError::TooManyPackets { max: 1 })
        );
        assert_eq!(decode_payload(b(b"0:"), V3, 0), Ok(vec![]));
    }

    #[test]
    fn v4_data_is_sliced_from_the_body() {
        let body = Bytes::from(b"4hello\x1e2probe".to_vec());
        let packets = decode_payload(body.clone(), V4, 8).unwrap();
        let Packet::Message(text) = &packets[0] else {
            panic!()
        };
        assert_eq!(text.as_bytes().as_ptr(), body[1..].as_ptr());
        let Packet::Ping(data) = &packets[1] else {
            panic!()
        };
        assert_eq!(data.as_ptr(), body[8..].as_ptr());
    }

    // ----- protocol 3, text -----

    #[test]
    fn v3_spec_examples() {
        // v3.md, "Sample session": the open packet counts 96 characters.
        let open = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
        both_ways(
            &[Packet::Open(Bytes::from_static(open.as_bytes()))],
            V3,
            format!("96:0{open}").as_bytes(),
        );
        both_ways(&[Packet::message("hey")], V3, b"4:4hey");
        both_ways(
            &[Packet::message("hello"), Packet::message("world")],
            V3,
            b"6:4hello6:4world",
        );
        // "Payload": characters, not bytes.
        both_ways(
            &[Packet::message("hello"), Packet::message("€")],
            V3,
            "6:4hello2:4€".as_bytes(),
        );
        both_ways(
            &[Packet::message("€"), Packet::binary(b(&[1, 2, 3, 4]))],
            V3,
            "2:4€10:b4AQIDBA==".as_bytes(),
        );
    }

    #[test]
    fn v3_every_type() {
        let packets = every_type();
        let wire = encode(&packets, V3);
        assert_eq!(
            String::from_utf8(wire.clone()).unwrap(),
            "28:0{\"sid\":\"abc\",\"upgrades\":[]}1:16:2probe1:26:3probe6:4hello1:410:b4AQIDBA==1:51:6"
        );
        assert_eq!(decode(&wire, V3), Ok(packets));
    }

    #[test]
    fn v3_no_packets() {
        // The reference encodes no packets as "0:", and skips zero-length
        // packets when decoding.
        both_ways(&[], V3, b"0:");
        assert_eq!(
            decode(b"0:0:4:4hey0:", V3),
            Ok(vec![Packet::message("hey")])
        );
        // But an empty body is a parse error.
        assert_eq!(decode(b"", V3), Err(PacketError::Empty));
    }

    #[test]
    fn v3_lengths_count_utf16_code_units() {
        // 😀 is one character, four UTF-8 bytes, two UTF-16 code units.
        both_ways(&[Packet::message("😀")], V3, "3:4😀".as_bytes());
        both_ways(&[Packet::message("a😀€b")], V3, "6:4a😀€b".as_bytes());
        both_ways(
            &[Packet::message("😀😀"), Packet::message("x")],
            V3,
            "5:4😀😀2:4x".as_bytes(),
        );
        assert_eq!(js_length("4😀"), 3);
        // A length that ends inside the surrogate pair of 😀.
        assert_eq!(
            decode("2:4😀".as_bytes(), V3),
            Err(PacketError::InvalidLength)
        );
        // A length that counts the bytes instead.
        assert_eq!(
            decode("5:4😀".as_bytes(), V3),
            Err(PacketError::InvalidLength)
        );
        // The separator is ordinary data in protocol 3.
        both_ways(&[Packet::message("a\x1eb")], V3, b"4:4a\x1eb");
    }

    #[test]
    fn v3_invalid_payloads() {
        for body in [
            &b":4a"[..],       // no digits
            b"x:4a",           // not a digit
            b"-1:4",           // sign
            b"1e1:4abcdefghi", // JavaScript would take this
            b" 2:4a",          // whitespace
            b"2",              // no colon
            b"2:4a1",          // trailing length without a colon
            b"3:4a",           // past the end
            b"2:4a2:4",        // second one past the end
            b"99999999999999999999999999:4",
            b"18446744073709551616:4", // u64::MAX + 1
        ] {
            assert_eq!(
                decode(body, V3),
                Err(PacketError::InvalidLength),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(decode(b"2:7a", V3), Err(PacketError::UnknownType(b'7')));
        assert_eq!(decode(b"3:b4!", V3), Err(PacketError::InvalidBase64));
        assert_eq!(decode(b"3:b2a", V3), Err(PacketError::BinaryNotMessage(2)));
        assert_eq!(decode(b"2:4\xe2\x82", V3), Err(PacketError::InvalidUtf8));
        assert_eq!(decode(b"1:b", V3), Err(PacketError::Empty));
    }

    #[test]
    fn v3_iterator_yields_the_prefix_then_stops() {
        let mut it = PayloadDecoder::new(b(b"4:4hey3:4a"), V3);
        assert_eq!(it.next(), Some(Ok(Packet::message("hey"))));
        assert_eq!(it.next(), Some(Err(PacketError::InvalidLength)));
        assert_eq!(it.next(), None);
    }

    // ----- protocol 3, binary -----

    #[test]
    fn v3_binary_spec_example() {
        // v3.md's example writes the binary packet as `01 04 ff 01 02 03 04`,
        // leaving out the type byte; the reference encoder
        // (parser-v3 encodeBuffer) puts it in: length 5, then 04.
        let packets = [Packet::message("€"), Packet::binary(b(&[1, 2, 3, 4]))];
        let wire = [
            0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, // text "4€", 4 bytes
            0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04, // binary 04 + data
        ];
        assert_eq!(encode_bin(&packets), wire);
        assert_eq!(
            decode_payload_binary_v3(Bytes::copy_from_slice(&wire), usize::MAX).as_deref(),
            Ok(&packets[..])
        );
        // The spec's literal bytes are a binary packet of type 1 (close).
        let literal = [
            0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x04, 0xff, 1, 2, 3, 4,
        ];
        let mut it = PayloadDecoder::binary_v3(Bytes::copy_from_slice(&literal));
        assert_eq!(it.next(), Some(Ok(Packet::message("€"))));
        assert_eq!(it.next(), Some(Err(PacketError::BinaryNotMessage(1))));
    }

    #[test]
    fn v3_binary_every_type_and_long_lengths() {
        let mut packets = every_type();
        packets.push(Packet::binary(Bytes::from(vec![7u8; 1234])));
        packets.push(Packet::message("b64 text 😀"));
        let wire = encode_bin(&packets);
        // 1 + 1234 = 1235 as the digit bytes 1 2 3 5.
        let at = wire.windows(5).position(|w| w == [1, 1, 2, 3, 5]).unwrap();
        assert_eq!(wire[at + 5], 0xff);
        assert_eq!(
            decode_payload_binary_v3(Bytes::from(wire), usize::MAX),
            Ok(packets)
        );
        // Nothing in, nothing out.
        assert_eq!(encode_bin(&[]), b"");
        assert_eq!(decode_payload_binary_v3(Bytes::new(), 8), Ok(vec![]));
        // A text packet in base64 form inside a binary payload.
        assert_eq!(
            decode_payload_binary_v3(b(b"\x00\x01\x00\xffb4AQIDBA=="), 8),
            Ok(vec![Packet::binary(b(&[1, 2, 3, 4]))])
        );
    }

    #[test]
    fn v3_binary_invalid_payloads() {
        let cases: [(&[u8], PacketError); 11] = [
            (&[2, 1, 0xff, b'6'], PacketError::InvalidLength), // kind 2
            (&[0, 0xff, b'6'], PacketError::InvalidLength),    // no digits
            (&[0, 1], PacketError::InvalidLength),             // no 0xff
            (&[0, 1, 10, 0xff, b'6'], PacketError::InvalidLength), // digit 10
            (&[0, 2, 0xff, b'6'], PacketError::InvalidLength), // past the end
            (&[0, 0, 0xff], PacketError::Empty),               // empty text packet
            (&[1, 0, 0xff], PacketError::Empty),               // empty binary packet
            (&[0, 1, 0xff, b'9'], PacketError::UnknownType(b'9')),
            (&[1, 1, 0xff, 9], PacketError::UnknownType(9)),
            (&[1, 2, 0xff, 2, 0], PacketError::BinaryNotMessage(2)),
            (&[0, 2, 0xff, b'4', 0xff], PacketError::InvalidUtf8),
        ];
        for (body, err) in cases {
            assert_eq!(
                decode_payload_binary_v3(Bytes::copy_from_slice(body), 8),
                Err(err),
                "{body:?}"
            );
        }
        let huge = [&[0u8][..], &[9; 30], &[0xff]].concat();
        assert_eq!(
            decode_payload_binary_v3(Bytes::from(huge), 8),
            Err(PacketError::InvalidLength)
        );
    }

    // ----- properties -----

    /// Packets whose text data has no 0x1e (protocol 4 cannot carry it).
    fn arb_packet_v4() -> impl Strategy<Value = Packet> {
        let text = "[^\\x1e]{0,12}";
        prop_oneof![
            text.prop_map(|s| Packet::Open(Bytes::from(s))),
            Just(Packet::Close),
            text.prop_map(|s| Packet::Ping(Bytes::from(s))),
            text.prop_map(|s| Packet::Pong(Bytes::from(s))),
            text.prop_map(|s| Packet::Message(Str::from(s))),
            proptest::collection::vec(any::<u8>(), 0..32).prop_map(Packet::binary),
            Just(Packet::Upgrade),
            Just(Packet::Noop),
        ]
    }

    proptest! {
        #[test]
        fn v4_round_trip(packets in proptest::collection::vec(arb_packet_v4(), 1..8)) {
            let wire = encode(&packets, V4);
            prop_assert!(std::str::from_utf8(&wire).is_ok());
            prop_assert_eq!(decode(&wire, V4), Ok(packets));
        }

        #[test]
        fn v3_round_trip(packets in proptest::collection::vec(crate::engine::packet::tests::arb_packet(), 0..8)) {
            let wire = encode(&packets, V3);
            prop_assert_eq!(decode(&wire, V3), Ok(packets.clone()));
            let wire = encode_bin(&packets);
            prop_assert_eq!(decode_payload_binary_v3(Bytes::from(wire), usize::MAX), Ok(packets));
        }

        #[test]
        fn v3_length_is_javascript_length(s in any::<String>()) {
            let p = Packet::message(s.clone());
            let wire = String::from_utf8(encode(&[p], V3)).unwrap();
            let packet = format!("4{s}");
            prop_assert_eq!(wire, format!("{}:{packet}", js_length(&packet)));
        }

        #[test]
        fn decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..96)) {
            let body = Bytes::from(body);
            for protocol in [V3, V4] {
                let n = PayloadDecoder::new(body.clone(), protocol).count();
                prop_assert!(n <= body.len() + 1);
            }
            let n = PayloadDecoder::binary_v3(body.clone()).count();
            prop_assert!(n <= body.len() + 1);
        }

        #[test]
        fn near_valid_bodies_never_panic(
            parts in proptest::collection::vec("[0-9:b4\\x1e€😀A=]{0,6}", 0..8),
        ) {
            let body = Bytes::from(parts.concat());
            for protocol in [V3, V4] {
                let _ = decode_payload(body.clone(), protocol, usize::MAX);
            }
        }
    }
}
