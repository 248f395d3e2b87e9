//! The incremental decoder: Engine.IO messages in, Socket.IO packets out.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::error::DecodeError;
use super::json::{self, Analysis, JsonKind, Options, analyze};
use super::msgpack;
use super::packet::{Args, Data, MAIN_NSP, Packet, PacketKind};
use super::raw::{DEFAULT_MAX_DEPTH, RawJson};
use super::reserved::is_reserved_event;
use crate::engine::Str;

/// JavaScript's largest exact integer, the largest acknowledgement id a
/// JavaScript peer can tell apart from its neighbours.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;

/// The packet encoding both sides agreed on (the `parser` option of the
/// reference server and client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Parser {
    /// socket.io-parser: a text message per packet, binary attachments in
    /// the binary messages after it.
    #[default]
    Default,
    /// socket.io-msgpack-parser: one binary message per packet, the whole
    /// packet as MessagePack, binary data inline.
    Msgpack,
}

/// A packet encoded for Engine.IO: the messages to send, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded {
    /// The default parser: a text message, then one binary message per
    /// attachment.
    Text {
        /// The text message.
        text: Str,
        /// The binary messages after it.
        attachments: Vec<Bytes>,
    },
    /// The msgpack parser: one binary message.
    Binary(Bytes),
}

impl Parser {
    /// Encodes `packet` (see [`Packet::encode`] and
    /// [`encode_msgpack`](super::encode_msgpack)).
    pub fn encode(self, packet: &Packet) -> Encoded {
        match self {
            Self::Default => {
                let (text, attachments) = packet.encode();
                Encoded::Text { text, attachments }
            }
            Self::Msgpack => Encoded::Binary(msgpack::encode(packet)),
        }
    }
}

/// Decoder settings. The defaults are the reference parser's, plus the
/// limits it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// The packet encoding. Default [`Parser::Default`].
    pub parser: Parser,
    /// Most attachments one binary packet may announce (the reference's
    /// `maxAttachments`). Checked before anything is buffered. Default 10.
    /// With the msgpack parser, the most binary values in one packet.
    pub max_attachments: usize,
    /// Most bytes the attachments of one packet may add up to. Default
    /// 10 000 000: ten attachments of the default Engine.IO `max_payload`.
    /// (The sockio server sets it to its `max_payload` unless told
    /// otherwise: a packet's attachments then weigh no more than one
    /// message may.)
    pub max_attachment_bytes: usize,
    /// How long a binary packet may wait for its attachments, from the
    /// time its text arrived (given to [`Decoder::decode_text_at`]); past
    /// it, [`Decoder::expire`] drops the packet with
    /// [`DecodeError::AttachmentsTimeout`]. Default 30 s. A peer that
    /// announces attachments and never sends them thus holds at most one
    /// packet (at most [`DecoderConfig::max_attachments`] attachments and
    /// [`DecoderConfig::max_attachment_bytes`] bytes) for at most this
    /// long, plus however late the caller checks.
    pub attachment_timeout: Duration,
    /// Deepest nesting of arrays and objects in a payload (the payload's
    /// own array or object counts as 1). Default 128, serde_json's limit,
    /// so that every argument accepted can be deserialized.
    pub max_depth: usize,
    /// Refuse events named as a reserved event (see
    /// [`is_reserved_event`]), as the reference parser does, instead of
    /// decoding them for the caller to drop. Default false.
    pub reject_reserved_events: bool,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            parser: Parser::Default,
            max_attachments: 10,
            max_attachment_bytes: 10_000_000,
            attachment_timeout: Duration::from_secs(30),
            max_depth: DEFAULT_MAX_DEPTH,
            reject_reserved_events: false,
        }
    }
}

impl DecoderConfig {
    /// Sets [`DecoderConfig::parser`].
    pub fn parser(mut self, parser: Parser) -> Self {
        self.parser = parser;
        self
    }

    /// Sets [`DecoderConfig::max_attachments`].
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.max_attachments = n;
        self
    }

    /// Sets [`DecoderConfig::max_attachment_bytes`].
    pub fn max_attachment_bytes(mut self, n: usize) -> Self {
        self.max_attachment_bytes = n;
        self
    }

    /// Sets [`DecoderConfig::attachment_timeout`].
    pub fn attachment_timeout(mut self, timeout: Duration) -> Self {
        self.attachment_timeout = timeout;
        self
    }

    /// Sets [`DecoderConfig::max_depth`].
    pub fn max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }

    /// Sets [`DecoderConfig::reject_reserved_events`].
    pub fn reject_reserved_events(mut self, yes: bool) -> Self {
        self.reject_reserved_events = yes;
        self
    }
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Pending {
    packet: Packet,
    expected: usize,
    bytes: usize,
    /// When its text arrived, if the caller said.
    since: Option<Instant>,
}

/// Turns the Engine.IO messages of one connection into Socket.IO packets.
///
/// Feed it every message, text or binary, in order. A BINARY_EVENT or
/// BINARY_ACK is held until its attachments have arrived (the binary
/// messages right after it); then it comes out whole, its placeholders
/// checked against them. Everything else comes out at once.
///
/// An error means the peer broke the protocol: close the connection. The
/// decoder drops what it was reassembling, so it could go on, but the
/// reference closes.
///
/// A peer could announce attachments and never send them. The decoder
/// reads no clock; give it the time instead: decode text with
/// [`Decoder::decode_text_at`], and call [`Decoder::expire`] when
/// [`Decoder::deadline`] passes (and before each message, which the `_at`
/// methods do), and a packet that waits longer than
/// [`DecoderConfig::attachment_timeout`] is dropped with an error.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sockio_core::engine::Str;
/// use sockio_core::socket::{DecodeError, Decoder, DecoderConfig};
///
/// let config = DecoderConfig::default().attachment_timeout(Duration::from_secs(5));
/// let mut decoder = Decoder::new(config);
/// let start = Instant::now();
/// let text = Str::from_static(r#"51-["file",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(decoder.decode_text_at(&text, start)?, None);
/// assert_eq!(decoder.deadline(), Some(start + Duration::from_secs(5)));
/// decoder.expire(start + Duration::from_secs(4))?;
/// assert_eq!(
///     decoder.expire(start + Duration::from_secs(5)),
///     Err(DecodeError::AttachmentsTimeout)
/// );
/// assert_eq!((decoder.pending_attachments(), decoder.deadline()), (0, None));
/// # Ok::<(), DecodeError>(())
/// ```
///
/// ```
/// use bytes::Bytes;
/// use sockio_core::engine::Str;
/// use sockio_core::socket::{Decoder, PacketKind};
///
/// let mut decoder = Decoder::default();
/// let text = Str::from_static(r#"51-["baz",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(decoder.decode_text(&text)?, None);
/// let packet = decoder.decode_binary(Bytes::from_static(&[1, 2, 3, 4]))?.unwrap();
/// assert_eq!(packet.kind, PacketKind::BinaryEvent);
/// assert_eq!(packet.event_name().as_deref(), Some("baz"));
/// let args = packet.args().unwrap();
/// assert_eq!(args.binary_arg(1).unwrap()[..], [1, 2, 3, 4]);
/// # Ok::<(), sockio_core::socket::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct Decoder {
    config: DecoderConfig,
    pending: Option<Pending>,
}

impl Decoder {
    /// A decoder with these settings.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            pending: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Decodes a text message: `Ok(Some(packet))` when a packet is
    /// complete, `Ok(None)` when a binary packet now waits for its
    /// attachments.
    pub fn decode_text(&mut self, text: &Str) -> Result<Option<Packet>, DecodeError> {
        if self.config.parser == Parser::Msgpack || self.pending.take().is_some() {
            return Err(DecodeError::UnexpectedText);
        }
        let (packet, expected) = decode_str(text, &self.config)?;
        if expected == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some(Pending {
            packet,
            expected,
            bytes: 0,
            since: None,
        });
        Ok(None)
    }

    /// [`Decoder::decode_text`] of a message received at `now`: first
    /// drops a packet whose attachments are overdue (see
    /// [`Decoder::expire`]), and a binary packet that now waits for its
    /// attachments is timed from `now`.
    pub fn decode_text_at(
        &mut self,
        text: &Str,
        now: Instant,
    ) -> Result<Option<Packet>, DecodeError> {
        self.expire(now)?;
        let decoded = self.decode_text(text)?;
        if let Some(pending) = self.pending.as_mut() {
            pending.since = Some(now);
        }
        Ok(decoded)
    }

    /// [`Decoder::decode_binary`] of a message received at `now`: first
    /// drops a packet whose attachments are overdue (see
    /// [`Decoder::expire`]).
    pub fn decode_binary_at(
        &mut self,
        data: Bytes,
        now: Instant,
    ) -> Result<Option<Packet>, DecodeError> {
        self.expire(now)?;
        self.decode_binary(data)
    }

    /// When the packet being reassembled started waiting for its
    /// attachments (the time given to [`Decoder::decode_text_at`]).
    /// `None` when no packet waits, or it came through
    /// [`Decoder::decode_text`], which has no time.
    pub fn pending_since(&self) -> Option<Instant> {
        self.pending.as_ref()?.since
    }

    /// When the attachments of the packet being reassembled are due:
    /// [`Decoder::pending_since`] plus
    /// [`DecoderConfig::attachment_timeout`]. Call [`Decoder::expire`]
    /// then.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending_since()?
            .checked_add(self.config.attachment_timeout)
    }

    /// Drops the packet being reassembled if its attachments are overdue
    /// at `now` ([`Decoder::deadline`] reached), with
    /// [`DecodeError::AttachmentsTimeout`]: the peer broke the protocol.
    /// Does nothing otherwise.
    pub fn expire(&mut self, now: Instant) -> Result<(), DecodeError> {
        match self.deadline() {
            Some(due) if now >= due => {
                self.pending = None;
                Err(DecodeError::AttachmentsTimeout)
            }
            _ => Ok(()),
        }
    }

    /// Decodes a binary message: the next attachment of the packet being
    /// reassembled (`Ok(Some(packet))` with the last one), or, with the
    /// msgpack parser, a whole packet.
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        if self.config.parser == Parser::Msgpack {
            return msgpack::decode(&data, &self.config).map(Some);
        }
        let Some(pending) = self.pending.as_mut() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.bytes = pending.bytes.saturating_add(data.len());
        if pending.bytes > self.config.max_attachment_bytes {
            self.pending = None;
            return Err(DecodeError::AttachmentsTooLarge {
                max: self.config.max_attachment_bytes,
            });
        }
        let done = match &mut pending.packet.data {
            Data::Args(args) => {
                args.attachments.push(data);
                args.attachments.len() >= pending.expected
            }
            // Binary packets always carry arguments.
            _ => true,
        };
        if done {
            Ok(self.pending.take().map(|p| p.packet))
        } else {
            Ok(None)
        }
    }

    /// How many attachments the packet being reassembled still waits for
    /// (0 when none is).
    pub fn pending_attachments(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| {
            let have = p.packet.args().map_or(0, |a| a.attachments.len());
            p.expected.saturating_sub(have)
        })
    }

    /// Drops a packet being reassembled (the reference's `destroy`), for a
    /// caller that gives up waiting for its attachments.
    pub fn reset(&mut self) {
        self.pending = None;
    }
}

/// Decodes the text of one packet; also returns how many attachments must
/// follow (0 for everything but a binary packet that announces some).
fn decode_str(text: &Str, config: &DecoderConfig) -> Result<(Packet, usize), DecodeError> {
    let bytes = text.as_bytes();
    let &first = bytes.first().ok_or(DecodeError::Empty)?;
    let kind = first
        .checked_sub(b'0')
        .and_then(PacketKind::from_u8)
        .ok_or(DecodeError::UnknownType(first))?;
    let mut i = 1;

    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || bytes.get(i) != Some(&b'-') {
            return Err(DecodeError::InvalidAttachmentCount);
        }
        attachments = json::parse_u64(&bytes[start..i])
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= config.max_attachments)
            .ok_or(DecodeError::TooManyAttachments {
                max: config.max_attachments,
            })?;
        // socket.io-parser 4.2.7 refuses binary packets without binary.
        if attachments == 0 {
            return Err(DecodeError::InvalidAttachmentCount);
        }
        i += 1;
    }

    let nsp = if bytes.get(i) == Some(&b'/') {
        let start = i;
        // Up to a comma, or (as the reference reads it) to the end.
        let end = bytes[i..]
            .iter()
            .position(|&b| b == b',')
            .map_or(bytes.len(), |p| i + p);
        i = (end + 1).min(bytes.len());
        Str::from_validated(bytes.slice(start..end))
    } else {
        MAIN_NSP
    };

    let mut id = None;
    if bytes.get(i).is_some_and(u8::is_ascii_digit) {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        id = Some(
            json::parse_u64(&bytes[start..i])
                .filter(|&n| n <= MAX_ACK_ID)
                .ok_or(DecodeError::InvalidAckId)?,
        );
    }
    if kind.is_ack() && id.is_none() {
        return Err(DecodeError::InvalidAckId);
    }

    let payload = if i < bytes.len() {
        let opts = Options {
            max_depth: config.max_depth,
            split: matches!(kind.to_plain(), PacketKind::Event | PacketKind::Ack),
            attachments: kind.is_binary().then_some(attachments),
        };
        Some(
            analyze(&bytes[i..], &opts)
                .map_err(|f| DecodeError::from_fault(f, i, config.max_depth, attachments))?,
        )
    } else {
        None
    };
    let data = check_payload(kind, bytes, i, payload, config)?;
    Ok((
        Packet {
            kind,
            nsp,
            id,
            data,
        },
        attachments,
    ))
}

/// Checks that the payload (at `base` in `buf`) is what `kind` carries,
/// and slices it into the packet's data.
pub(crate) fn check_payload(
    kind: PacketKind,
    buf: &Bytes,
    base: usize,
    payload: Option<Analysis>,
    config: &DecoderConfig,
) -> Result<Data, DecodeError> {
    let invalid = DecodeError::InvalidPayload { kind };
    let slice = |r: &std::ops::Range<usize>| {
        RawJson::from_validated(buf.slice(base + r.start..base + r.end))
    };
    let data = match (kind, payload) {
        (PacketKind::Connect | PacketKind::Disconnect, None) => Data::None,
        (PacketKind::Connect, Some(a)) if a.kind == JsonKind::Object => Data::Value(slice(&a.span)),
        (PacketKind::ConnectError, Some(a))
            if matches!(a.kind, JsonKind::Object | JsonKind::String) =>
        {
            Data::Value(slice(&a.span))
        }
        (PacketKind::Event | PacketKind::BinaryEvent, Some(a)) if a.kind == JsonKind::Array => {
            let name = match a.elements.first() {
                Some(first) if buf[base + first.start] == b'"' => slice(first),
                _ => return Err(invalid),
            };
            if config.reject_reserved_events
                && name.as_string().is_some_and(|n| is_reserved_event(&n))
            {
                return Err(DecodeError::ReservedEvent);
            }
            Data::Args(Args::from_raw(a.elements.iter().map(slice).collect()))
        }
        (PacketKind::Ack | PacketKind::BinaryAck, Some(a)) if a.kind == JsonKind::Array => {
            Data::Args(Args::from_raw(a.elements.iter().map(slice).collect()))
        }
        _ => return Err(invalid),
    };
    Ok(data)
}

#[cfg(test)]
mod expiry_tests {
    use super::*;

    const TEXT: &str = r#"52-["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;

    fn decoder() -> Decoder {
        Decoder::new(DecoderConfig::default().attachment_timeout(Duration::from_secs(10)))
    }

    fn bin() -> Bytes {
        Bytes::from_static(b"\x01\x02")
    }

    #[test]
    fn attachments_in_time_complete_the_packet() {
        let t0 = Instant::now();
        let mut d = decoder();
        assert_eq!(d.decode_text_at(&Str::from_static(TEXT), t0), Ok(None));
        assert_eq!(d.pending_since(), Some(t0));
        assert_eq!(d.deadline(), Some(t0 + Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(9);
        assert_eq!(d.expire(t1), Ok(()));
        assert_eq!(d.decode_binary_at(bin(), t1), Ok(None));
        let packet = d.decode_binary_at(bin(), t1).unwrap().unwrap();
        assert_eq!(packet.args().unwrap().attachments().len(), 2);
        assert_eq!((d.pending_since(), d.deadline()), (None, None));
        // Nothing pending: nothing expires, however late.
        assert_eq!(d.expire(t0 + Duration::from_secs(3600)), Ok(()));
    }

    #[test]
    fn overdue_attachments_drop_the_packet() {
        let t0 = Instant::now();
        let late = t0 + Duration::from_secs(10);
        let mut d = decoder();
        d.decode_text_at(&Str::from_static(TEXT), t0).unwrap();
        d.decode_binary_at(bin(), t0).unwrap();
        // The second attachment comes too late.
        assert_eq!(
            d.decode_binary_at(bin(), late),
            Err(DecodeError::AttachmentsTimeout)
        );
        assert_eq!(d.pending_attachments(), 0);
        assert_eq!(d.decode_binary(bin()), Err(DecodeError::UnexpectedBinary));
        // So does a text message after an overdue packet.
        d.decode_text_at(&Str::from_static(TEXT), t0).unwrap();
        assert_eq!(
            d.decode_text_at(&Str::from_static(r#"2["x"]"#), late),
            Err(DecodeError::AttachmentsTimeout)
        );
        // Decoded without a time, a packet never expires.
        d.decode_text(&Str::from_static(TEXT)).unwrap();
        assert_eq!((d.pending_since(), d.deadline()), (None, None));
        assert_eq!(d.expire(late + Duration::from_secs(3600)), Ok(()));
        assert_eq!(d.pending_attachments(), 2);
    }
}
