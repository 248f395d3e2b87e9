//! Engine.IO packets, and their encoding in WebSocket messages.
//!
//! A packet is a type (one of seven) and, for some types, data. On the wire
//! a text packet is the type as one ASCII digit followed by its data:
//!
//! ```text
//! 0{"sid":…}   open, with the handshake JSON
//! 1            close
//! 2probe       ping (data optional)
//! 3probe       pong (data optional)
//! 4hello       message with text data
//! 5            upgrade
//! 6            noop
//! ```
//!
//! A message with binary data has three encodings:
//!
//! | where | protocol 4 | protocol 3 |
//! |---|---|---|
//! | WebSocket binary message | the data as is | `0x04` + the data |
//! | text (polling, or a client with `b64=1`) | `b` + base64 | `b4` + base64 |
//!
//! Only message packets carry binary data. Protocol 3 puts a type in front
//! of binary data too; a type other than message there is rejected with
//! [`PacketError::BinaryNotMessage`] (no reference client sends one).

use std::fmt;
use std::ops::Deref;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The Engine.IO protocol revision a client speaks (the `EIO` query
/// parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Revision 3 (socket.io-client 1.x and 2.x): polling payloads are
    /// length-prefixed, binary data carries a type byte.
    V3,
    /// Revision 4 (socket.io-client 3.x and later): polling payloads are
    /// separated by `0x1e`, binary WebSocket messages are the data as is.
    V4,
}

/// A packet could not be decoded. Every variant means the peer sent
/// something that is not Engine.IO; the reference server closes the session
/// with reason "parse error".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// A packet with no bytes at all (an empty WebSocket text message, an
    /// empty polling body, an empty segment between two `0x1e`, a
    /// protocol 3 binary message without a type byte).
    #[error("empty packet")]
    Empty,
    /// The byte where a packet type was expected is not one: for text, an
    /// ASCII byte other than `0`-`6` and `b`; for a protocol 3 binary
    /// packet, a type byte above 6.
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// Binary data in a packet whose type (0-6) is not message (4). Only
    /// possible in protocol 3, where binary data carries a type.
    #[error("binary data in a packet of type {0} (only message packets carry binary data)")]
    BinaryNotMessage(u8),
    /// A text packet or polling body that is not UTF-8.
    #[error("invalid UTF-8 in a text packet")]
    InvalidUtf8,
    /// A `b` packet whose data is not base64.
    #[error("invalid base64 in a binary packet")]
    InvalidBase64,
    /// A protocol 3 polling payload with a malformed length header: no
    /// digits, a non-digit, no `:` (or `0xff`) after the digits, a length
    /// past the end of the body or in the middle of a character.
    #[error("invalid length header in a protocol 3 payload")]
    InvalidLength,
    /// A polling payload with more packets than the caller allows.
    #[error("payload holds more than {max} packets")]
    TooManyPackets {
        /// The limit given to the decoder.
        max: usize,
    },
}

/// Bytes known to be UTF-8: the text of a message packet, shared without
/// copying.
///
/// Every constructor checks the bytes (or takes a `&str` or `String`).
/// [`Str::as_str`] checks them again, because this crate forbids `unsafe`;
/// the check runs at several GB/s on ASCII.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Str(Bytes);

impl Str {
    /// A `Str` over a static string, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps `bytes` after checking that it is UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }

    /// Wraps bytes this crate has already checked.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The length in bytes (without the UTF-8 check that going through
    /// `str` costs).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Every constructor checked the bytes; a failure here would be a bug
        // in this crate, and an empty string is the safe fallback.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The UTF-8 bytes, giving up the guarantee.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Self {
        Self::from_static(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Self {
        s.0
    }
}

impl TryFrom<Bytes> for Str {
    type Error = std::str::Utf8Error;
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        Self::try_from_bytes(bytes)
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Engine.IO packet.
///
/// The data of `Open`, `Ping` and `Pong` is text: packets decoded by this
/// crate always hold UTF-8 there, and whoever builds one must put UTF-8
/// there too, since it is sent in text WebSocket messages and polling
/// bodies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Packet {
    /// `0`: the handshake, with its JSON as sent (the session layer builds
    /// it).
    Open(Bytes),
    /// `1`: close the transport.
    Close,
    /// `2`: ping, with its data (`probe` during an upgrade, else empty).
    Ping(Bytes),
    /// `3`: pong, with the data of the ping it answers.
    Pong(Bytes),
    /// `4` with text data: a text message.
    Message(Str),
    /// `4` with binary data: a binary message.
    Binary(Bytes),
    /// `5`: the upgrade to WebSocket is complete.
    Upgrade,
    /// `6`: nothing (answers a pending poll during an upgrade).
    Noop,
}

impl Packet {
    /// Bytes of data the packet carries (its text or binary data, or the
    /// handshake JSON), as counted against a session's buffer limit.
    pub fn data_len(&self) -> usize {
        match self {
            Self::Open(b) | Self::Ping(b) | Self::Pong(b) | Self::Binary(b) => b.len(),
            Self::Message(t) => t.as_bytes().len(),
            Self::Close | Self::Upgrade | Self::Noop => 0,
        }
    }
}

/// One WebSocket message carrying one packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WsFrame {
    /// A text message. UTF-8 whenever the packet's text data is (see
    /// [`Packet`]).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl WsFrame {
    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The message payload.
    pub fn as_bytes(&self) -> &Bytes {
        match self {
            Self::Text(b) | Self::Binary(b) => b,
        }
    }

    /// The message payload, by value.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Self::Text(b) | Self::Binary(b) => b,
        }
    }
}

/// The type digits.
const OPEN: u8 = b'0';
const CLOSE: u8 = b'1';
const PING: u8 = b'2';
const PONG: u8 = b'3';
const MESSAGE: u8 = b'4';
const UPGRADE: u8 = b'5';
const NOOP: u8 = b'6';
/// Prefix of a binary packet in text form.
const BASE64_PREFIX: u8 = b'b';
/// The message type as a byte in front of protocol 3 binary data.
const MESSAGE_BYTE: u8 = 4;

/// Standard alphabet, padded on output. On input, padding may be missing
/// and unused trailing bits may be set, as Node's `Buffer.from(s, "base64")`
/// allows; characters outside the alphabet are an error (Node skips them).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl Packet {
    /// A text message.
    pub fn message(text: impl Into<Str>) -> Self {
        Self::Message(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The type digit (`b'0'`..=`b'6'`).
    fn type_digit(&self) -> u8 {
        match self {
            Self::Open(_) => OPEN,
            Self::Close => CLOSE,
            Self::Ping(_) => PING,
            Self::Pong(_) => PONG,
            Self::Message(_) | Self::Binary(_) => MESSAGE,
            Self::Upgrade => UPGRADE,
            Self::Noop => NOOP,
        }
    }

    /// Appends the text form of the packet to `out`: the type digit and
    /// the data (`4hello`, `2probe`, `6`); for binary data `b` + base64 in
    /// protocol 4, `b4` + base64 in protocol 3.
    ///
    /// This is a polling payload segment, and the WebSocket text message
    /// sent to a client that asked for base64 (`b64=1`).
    pub fn encode_text(&self, protocol: Protocol, out: &mut BytesMut) {
        out.reserve(self.text_len(protocol));
        match self {
            Self::Open(data) | Self::Ping(data) | Self::Pong(data) => {
                out.put_u8(self.type_digit());
                out.extend_from_slice(data);
            }
            Self::Message(text) => {
                out.put_u8(MESSAGE);
                out.extend_from_slice(text.as_bytes());
            }
            Self::Binary(data) => {
                out.put_u8(BASE64_PREFIX);
                if protocol == Protocol::V3 {
                    out.put_u8(MESSAGE);
                }
                put_base64(data, out);
            }
            Self::Close | Self::Upgrade | Self::Noop => out.put_u8(self.type_digit()),
        }
    }

    /// The text form as one `Bytes` (see [`Packet::encode_text`]); packets
    /// without data cost no allocation.
    pub fn to_text(&self, protocol: Protocol) -> Bytes {
        let fixed: &'static [u8] = match self {
            Self::Close => b"1",
            Self::Upgrade => b"5",
            Self::Noop => b"6",
            Self::Ping(d) if d.is_empty() => b"2",
            Self::Pong(d) if d.is_empty() => b"3",
            _ => {
                let mut out = BytesMut::new();
                self.encode_text(protocol, &mut out);
                return out.freeze();
            }
        };
        Bytes::from_static(fixed)
    }

    /// The length in bytes of [`Packet::encode_text`]'s output.
    pub fn text_len(&self, protocol: Protocol) -> usize {
        match self {
            Self::Open(d) | Self::Ping(d) | Self::Pong(d) => 1 + d.len(),
            Self::Message(text) => 1 + text.as_bytes().len(),
            Self::Binary(data) => {
                let prefix = if protocol == Protocol::V3 { 2 } else { 1 };
                prefix + base64_len(data.len())
            }
            Self::Close | Self::Upgrade | Self::Noop => 1,
        }
    }

    /// The length of the text form in UTF-16 code units, as protocol 3
    /// length prefixes count it (`€` is 1, `😀` is 2).
    pub(crate) fn text_len_utf16(&self, protocol: Protocol) -> usize {
        match self {
            Self::Open(d) | Self::Ping(d) | Self::Pong(d) => 1 + utf16_len(d),
            Self::Message(text) => 1 + utf16_len(text.as_bytes()),
            // The rest is ASCII.
            Self::Binary(_) | Self::Close | Self::Upgrade | Self::Noop => self.text_len(protocol),
        }
    }

    /// The packet as one WebSocket message.
    ///
    /// Binary data goes in a binary message: in protocol 4 its `Bytes` is
    /// returned as is, without copying; in protocol 3 it gets the type byte
    /// `0x04` in front. Everything else is a text message with the text
    /// form. For a client that asked for base64 (`b64=1`), send
    /// `WsFrame::Text(packet.to_text(protocol))` instead.
    pub fn encode_ws(&self, protocol: Protocol) -> WsFrame {
        match (self, protocol) {
            (Self::Binary(data), Protocol::V4) => WsFrame::Binary(data.clone()),
            (Self::Binary(data), Protocol::V3) => {
                let mut out = BytesMut::with_capacity(1 + data.len());
                out.put_u8(MESSAGE_BYTE);
                out.extend_from_slice(data);
                WsFrame::Binary(out.freeze())
            }
            _ => WsFrame::Text(self.to_text(protocol)),
        }
    }

    /// Decodes a packet from one WebSocket message.
    pub fn decode_ws(frame: WsFrame, protocol: Protocol) -> Result<Self, PacketError> {
        match frame {
            WsFrame::Text(data) => Self::decode_ws_text(data, protocol),
            WsFrame::Binary(data) => Self::decode_ws_binary(data, protocol),
        }
    }

    /// Decodes a packet from a WebSocket text message (or any single packet
    /// in text form): `4hello`, `2probe`, `6`, and binary data as `b` +
    /// base64 (`b4` + base64 in protocol 3).
    ///
    /// The data after the type is kept as sent, without copying (a ping's
    /// `probe`, the handshake JSON); a close, upgrade or noop packet with
    /// data is accepted and the data dropped, as the reference parser does.
    /// The bytes are checked to be UTF-8 here even if the WebSocket layer
    /// checked them already.
    pub fn decode_ws_text(data: Bytes, protocol: Protocol) -> Result<Self, PacketError> {
        std::str::from_utf8(&data).map_err(|_| PacketError::InvalidUtf8)?;
        decode_text_validated(data, protocol)
    }

    /// Decodes a packet from a WebSocket binary message.
    ///
    /// Protocol 4: the whole message is the data of a binary message packet
    /// (even when empty), returned without copying. Protocol 3: the first
    /// byte is the packet type, which must be message (`0x04`); the rest is
    /// the data.
    pub fn decode_ws_binary(data: Bytes, protocol: Protocol) -> Result<Self, PacketError> {
        match protocol {
            Protocol::V4 => Ok(Self::Binary(data)),
            Protocol::V3 => match data.first() {
                None => Err(PacketError::Empty),
                Some(&MESSAGE_BYTE) => Ok(Self::Binary(data.slice(1..))),
                Some(&t @ 0..=6) => Err(PacketError::BinaryNotMessage(t)),
                Some(&t) => Err(PacketError::UnknownType(t)),
            },
        }
    }
}

/// Decodes a packet in text form whose bytes the caller checked to be
/// UTF-8.
pub(crate) fn decode_text_validated(
    data: Bytes,
    protocol: Protocol,
) -> Result<Packet, PacketError> {
    let Some(&kind) = data.first() else {
        return Err(PacketError::Empty);
    };
    let mut rest = data;
    rest.advance(1);
    match kind {
        OPEN => Ok(Packet::Open(rest)),
        CLOSE => Ok(Packet::Close),
        PING => Ok(Packet::Ping(rest)),
        PONG => Ok(Packet::Pong(rest)),
        // Cutting after an ASCII byte keeps the rest UTF-8.
        MESSAGE => Ok(Packet::Message(Str::from_validated(rest))),
        UPGRADE => Ok(Packet::Upgrade),
        NOOP => Ok(Packet::Noop),
        BASE64_PREFIX => decode_base64_packet(&rest, protocol),
        other => Err(PacketError::UnknownType(other)),
    }
}

/// Decodes what follows the `b` of a binary packet in text form.
fn decode_base64_packet(data: &[u8], protocol: Protocol) -> Result<Packet, PacketError> {
    let encoded = match protocol {
        Protocol::V4 => data,
        Protocol::V3 => match data.first() {
            None => return Err(PacketError::Empty),
            Some(&MESSAGE) => &data[1..],
            Some(&t @ OPEN..=NOOP) => return Err(PacketError::BinaryNotMessage(t - b'0')),
            Some(&t) => return Err(PacketError::UnknownType(t)),
        },
    };
    BASE64
        .decode(encoded)
        .map(|v| Packet::Binary(Bytes::from(v)))
        .map_err(|_| PacketError::InvalidBase64)
}

/// The length of padded base64 for `n` bytes.
fn base64_len(n: usize) -> usize {
    // A slice is at most isize::MAX bytes, so this cannot overflow.
    n.div_ceil(3) * 4
}

/// Appends `data` as padded base64.
fn put_base64(data: &[u8], out: &mut BytesMut) {
    let start = out.len();
    out.resize(start + base64_len(data.len()), 0);
    // The slice has exactly the room the encoding needs, so this cannot
    // fail; if it did, nothing half-written is left behind.
    let written = BASE64.encode_slice(data, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// The number of UTF-16 code units of UTF-8 text: one per character, two
/// for a character outside the BMP (a four-byte sequence). Counts
/// something (and never panics) for bytes that are not UTF-8.
pub(crate) fn utf16_len(text: &[u8]) -> usize {
    text.iter().map(|&b| utf16_width(b)).sum()
}

/// The UTF-16 width of the character whose UTF-8 encoding starts with byte
/// `b` (2 for a four-byte sequence), or 0 for a continuation byte.
pub(crate) fn utf16_width(b: u8) -> usize {
    usize::from(b & 0xc0 != 0x80) + usize::from(b >= 0xf0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    fn text(p: &Packet, protocol: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        p.encode_text(protocol, &mut out);
        assert_eq!(out.len(), p.text_len(protocol), "text_len of {p:?}");
        assert_eq!(p.to_text(protocol), out, "to_text of {p:?}");
        out.to_vec()
    }

    /// Every packet type, with and without data.
    fn samples() -> Vec<Packet> {
        vec![
            Packet::Open(b(
                br#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]}"#,
            )),
            Packet::Open(Bytes::new()),
            Packet::Close,
            Packet::Ping(Bytes::new()),
            Packet::Ping(b(b"probe")),
            Packet::Pong(Bytes::new()),
            Packet::Pong(b(b"probe")),
            Packet::message("hello"),
            Packet::message(""),
            Packet::message("€ and 😀"),
            Packet::binary(b(&[1, 2, 3, 4])),
            Packet::binary(Bytes::new()),
            Packet::Upgrade,
            Packet::Noop,
        ]
    }

    #[test]
    fn text_form_of_every_type() {
        let cases: [(Packet, &[u8]); 12] = [
            (Packet::Open(b(b"{}")), b"0{}"),
            (Packet::Close, b"1"),
            (Packet::Ping(Bytes::new()), b"2"),
            (Packet::Ping(b(b"probe")), b"2probe"),
            (Packet::Pong(Bytes::new()), b"3"),
            (Packet::Pong(b(b"probe")), b"3probe"),
            (Packet::message("hello"), b"4hello"),
            (Packet::message(""), b"4"),
            (Packet::message("€"), "4€".as_bytes()),
            (Packet::Upgrade, b"5"),
            (Packet::Noop, b"6"),
            (Packet::binary(b(&[1, 2, 3, 4])), b"bAQIDBA=="),
        ];
        for (packet, wire) in cases {
            assert_eq!(text(&packet, Protocol::V4), wire, "{packet:?}");
            assert_eq!(
                Packet::decode_ws_text(Bytes::from_static(wire), Protocol::V4),
                Ok(packet)
            );
        }
    }

    #[test]
    fn binary_text_form_v3_has_the_type() {
        let p = Packet::binary(b(&[1, 2, 3, 4]));
        assert_eq!(text(&p, Protocol::V3), b"b4AQIDBA==");
        assert_eq!(
            Packet::decode_ws_text(b(b"b4AQIDBA=="), Protocol::V3),
            Ok(p)
        );
        // Text packets are the same in both revisions.
        assert_eq!(text(&Packet::message("hey"), Protocol::V3), b"4hey");
    }

    #[test]
    fn ws_frames_v4() {
        // The spec's examples.
        assert_eq!(
            Packet::message("hello").encode_ws(Protocol::V4),
            WsFrame::Text(b(b"4hello"))
        );
        assert_eq!(
            Packet::Ping(b(b"probe")).encode_ws(Protocol::V4),
            WsFrame::Text(b(b"2probe"))
        );
        assert_eq!(
            Packet::Pong(b(b"probe")).encode_ws(Protocol::V4),
            WsFrame::Text(b(b"3probe"))
        );
        assert_eq!(
            Packet::Upgrade.encode_ws(Protocol::V4),
            WsFrame::Text(b(b"5"))
        );
        // Binary data is sent as is.
        let data = Bytes::from(vec![1u8, 2, 3, 4]);
        let frame = Packet::Binary(data.clone()).encode_ws(Protocol::V4);
        assert_eq!(frame, WsFrame::Binary(data.clone()));
        assert_eq!(frame.as_bytes().as_ptr(), data.as_ptr(), "no copy");
        let back = Packet::decode_ws(frame, Protocol::V4).unwrap();
        let Packet::Binary(back) = back else {
            panic!("not binary: {back:?}")
        };
        assert_eq!(back.as_ptr(), data.as_ptr(), "no copy");
    }

    #[test]
    fn ws_frames_v3() {
        // v3.md: a binary message is the type byte, then the data.
        let frame = Packet::binary(b(&[0, 1, 2, 3, 4, 5])).encode_ws(Protocol::V3);
        assert_eq!(frame, WsFrame::Binary(b(&[4, 0, 1, 2, 3, 4, 5])));
        assert!(frame.is_binary());
        assert_eq!(
            Packet::decode_ws(frame, Protocol::V3),
            Ok(Packet::binary(b(&[0, 1, 2, 3, 4, 5])))
        );
        // The v3.md session: 2probe, 3probe, 5, 4hello, 2, 3, 1.
        for (wire, packet) in [
            (&b"2probe"[..], Packet::Ping(b(b"probe"))),
            (b"3probe", Packet::Pong(b(b"probe"))),
            (b"5", Packet::Upgrade),
            (b"4hello", Packet::message("hello")),
            (b"2", Packet::Ping(Bytes::new())),
            (b"3", Packet::Pong(Bytes::new())),
            (b"1", Packet::Close),
        ] {
            assert_eq!(
                packet.encode_ws(Protocol::V3),
                WsFrame::Text(Bytes::copy_from_slice(wire))
            );
            assert_eq!(
                Packet::decode_ws_text(Bytes::copy_from_slice(wire), Protocol::V3),
                Ok(packet)
            );
        }
    }

    #[test]
    fn every_sample_round_trips_both_ways() {
        for protocol in [Protocol::V3, Protocol::V4] {
            for p in samples() {
                let frame = p.encode_ws(protocol);
                assert_eq!(frame.is_binary(), p.is_binary());
                assert_eq!(
                    Packet::decode_ws(frame, protocol),
                    Ok(p.clone()),
                    "{protocol:?}"
                );
                // The text form decodes from a text message too (b64=1).
                let t = p.to_text(protocol);
                assert_eq!(Packet::decode_ws_text(t, protocol), Ok(p.clone()));
            }
        }
    }

    #[test]
    fn data_after_close_upgrade_noop_is_dropped() {
        assert_eq!(
            Packet::decode_ws_text(b(b"1bye"), Protocol::V4),
            Ok(Packet::Close)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"5x"), Protocol::V4),
            Ok(Packet::Upgrade)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"6x"), Protocol::V3),
            Ok(Packet::Noop)
        );
    }

    #[test]
    fn text_data_is_shared_not_copied() {
        let frame = Bytes::from(b"4hello".to_vec());
        let Ok(Packet::Message(s)) = Packet::decode_ws_text(frame.clone(), Protocol::V4) else {
            panic!()
        };
        assert_eq!(s.as_bytes().as_ptr(), frame[1..].as_ptr());
    }

    #[test]
    fn invalid_text_packets() {
        let v4 = Protocol::V4;
        assert_eq!(
            Packet::decode_ws_text(Bytes::new(), v4),
            Err(PacketError::Empty)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"7hello"), v4),
            Err(PacketError::UnknownType(b'7'))
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"hello"), v4),
            Err(PacketError::UnknownType(b'h'))
        );
        assert_eq!(
            Packet::decode_ws_text(b("€".as_bytes()), v4),
            Err(PacketError::UnknownType(0xe2))
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"4\xe2\x82"), v4),
            Err(PacketError::InvalidUtf8)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"4\xff"), v4),
            Err(PacketError::InvalidUtf8)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"b!!!!"), v4),
            Err(PacketError::InvalidBase64)
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"bAQIDBA=x"), v4),
            Err(PacketError::InvalidBase64)
        );
        // base64url is not base64.
        assert_eq!(
            Packet::decode_ws_text(b(b"b-_8="), v4),
            Err(PacketError::InvalidBase64)
        );
        // A single base64 character cannot encode a byte.
        assert_eq!(
            Packet::decode_ws_text(b(b"bA"), v4),
            Err(PacketError::InvalidBase64)
        );
    }

    #[test]
    fn base64_leniency_as_node() {
        // Missing padding and set trailing bits are accepted, as Node does.
        for wire in [&b"bAQIDBA"[..], b"bAQIDBA=", b"bAQIDBA==", b"bAQIDBB=="] {
            assert_eq!(
                Packet::decode_ws_text(Bytes::copy_from_slice(wire), Protocol::V4),
                Ok(Packet::binary(b(&[1, 2, 3, 4]))),
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
        // An empty binary message.
        assert_eq!(
            Packet::decode_ws_text(b(b"b"), Protocol::V4),
            Ok(Packet::binary(Bytes::new()))
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"b4"), Protocol::V3),
            Ok(Packet::binary(Bytes::new()))
        );
    }

    #[test]
    fn invalid_binary_packets_v3() {
        let v3 = Protocol::V3;
        assert_eq!(
            Packet::decode_ws_binary(Bytes::new(), v3),
            Err(PacketError::Empty)
        );
        assert_eq!(
            Packet::decode_ws_binary(b(&[2, 1]), v3),
            Err(PacketError::BinaryNotMessage(2))
        );
        assert_eq!(
            Packet::decode_ws_binary(b(&[7, 1]), v3),
            Err(PacketError::UnknownType(7))
        );
        // The ASCII digit is the text form, not the type byte.
        assert_eq!(
            Packet::decode_ws_binary(b(b"4abc"), v3),
            Err(PacketError::UnknownType(b'4'))
        );
        assert_eq!(Packet::decode_ws_text(b(b"b"), v3), Err(PacketError::Empty));
        assert_eq!(
            Packet::decode_ws_text(b(b"b2AQ=="), v3),
            Err(PacketError::BinaryNotMessage(2))
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"bxAQ=="), v3),
            Err(PacketError::UnknownType(b'x'))
        );
        assert_eq!(
            Packet::decode_ws_text(b(b"b4AQ=*"), v3),
            Err(PacketError::InvalidBase64)
        );
        // v4 binary messages have no type: anything goes, even nothing.
        assert_eq!(
            Packet::decode_ws_binary(Bytes::new(), Protocol::V4),
            Ok(Packet::binary(Bytes::new()))
        );
    }

    #[test]
    fn utf16_lengths() {
        for s in [
            "",
            "a",
            "€",
            "😀",
            "a€😀b",
            "\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
        ] {
            assert_eq!(utf16_len(s.as_bytes()), s.encode_utf16().count(), "{s}");
        }
        assert_eq!(Packet::message("😀").text_len_utf16(Protocol::V3), 3);
        assert_eq!(Packet::message("€").text_len_utf16(Protocol::V3), 2);
        assert_eq!(
            Packet::binary(b(&[1, 2, 3, 4])).text_len_utf16(Protocol::V3),
            10
        );
        // Never panics on bytes that are not UTF-8.
        assert_eq!(utf16_len(b"\xff\xfe\x80"), 2 + 2);
    }

    #[test]
    fn str_api() {
        let s = Str::from("héllo");
        assert_eq!(s.as_str(), "héllo");
        assert_eq!(s.len(), 6, "Deref to str");
        assert_eq!(s, "héllo");
        assert_eq!(format!("{s}"), "héllo");
        assert_eq!(format!("{s:?}"), "\"héllo\"");
        assert_eq!(Str::from(String::from("x")), Str::from_static("x"));
        assert!(Str::try_from(b(b"\xff")).is_err());
        assert_eq!(Bytes::from(s.clone()), b("héllo".as_bytes()));
        assert_eq!(s.into_bytes(), b("héllo".as_bytes()));
        assert_eq!(Str::default().as_str(), "");
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            PacketError::UnknownType(b'7').to_string(),
            "unknown packet type 0x37"
        );
        assert_eq!(
            PacketError::TooManyPackets { max: 3 }.to_string(),
            "payload holds more than 3 packets"
        );
    }

    pub(crate) fn arb_packet() -> impl Strategy<Value = Packet> {
        prop_oneof![
            any::<String>().prop_map(|s| Packet::Open(Bytes::from(s))),
            Just(Packet::Close),
            any::<String>().prop_map(|s| Packet::Ping(Bytes::from(s))),
            any::<String>().prop_map(|s| Packet::Pong(Bytes::from(s))),
            any::<String>().prop_map(Packet::message),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Packet::binary),
            Just(Packet::Upgrade),
            Just(Packet::Noop),
        ]
    }

    fn arb_protocol() -> impl Strategy<Value = Protocol> {
        prop_oneof![Just(Protocol::V3), Just(Protocol::V4)]
    }

    proptest! {
        #[test]
        fn ws_round_trip(p in arb_packet(), protocol in arb_protocol()) {
            let frame = p.encode_ws(protocol);
            prop_assert_eq!(frame.is_binary(), p.is_binary());
            prop_assert_eq!(Packet::decode_ws(frame, protocol), Ok(p));
        }

        #[test]
        fn text_round_trip(p in arb_packet(), protocol in arb_protocol()) {
            let t = p.to_text(protocol);
            prop_assert_eq!(t.len(), p.text_len(protocol));
            prop_assert!(std::str::from_utf8(&t).is_ok());
            prop_assert_eq!(
                p.text_len_utf16(protocol),
                std::str::from_utf8(&t).unwrap().encode_utf16().count()
            );
            prop_assert_eq!(Packet::decode_ws_text(t, protocol), Ok(p));
        }

        #[test]
        fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), protocol in arb_protocol()) {
            let data = Bytes::from(data);
            let _ = Packet::decode_ws_text(data.clone(), protocol);
            let _ = Packet::decode_ws_binary(data.clone(), protocol);
            let _ = utf16_len(&data);
        }

        #[test]
        fn decoded_text_reencodes_to_the_same_bytes(s in "[0-6b][ -~]{0,20}", protocol in arb_protocol()) {
            // Whatever decodes (except close/upgrade/noop with data, whose
            // data is dropped, and lenient base64) encodes back byte for byte.
            if let Ok(p) = Packet::decode_ws_text(Bytes::from(s.clone()), protocol) {
                let lossy = matches!(p, Packet::Close | Packet::Upgrade | Packet::Noop | Packet::Binary(_));
                if !lossy {
                    prop_assert_eq!(p.to_text(protocol), Bytes::from(s));
                }
            }
        }
    }
}
