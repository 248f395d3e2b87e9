//! The errors of the Socket.IO layer.

use std::fmt;

use super::json::JsonFault;
use super::packet::PacketKind;

/// A message that is not a valid Socket.IO packet (or a binary message
/// that does not fit the packet being reassembled).
///
/// Every variant means the peer broke the protocol; the reference server
/// closes the connection ("parse error"), and so should its callers. After
/// an error the [`Decoder`](super::Decoder) has dropped any packet it was
/// reassembling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty text message (no packet type).
    #[error("empty packet")]
    Empty,
    /// The first byte of a text message is not a packet type (`0`-`6`).
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// A binary packet (`5`, `6`) whose attachment count is not decimal
    /// digits followed by `-`, or is 0.
    #[error("illegal attachment count")]
    InvalidAttachmentCount,
    /// A binary packet announcing more attachments than the decoder
    /// accepts.
    #[error("too many attachments (at most {max})")]
    TooManyAttachments {
        /// [`DecoderConfig::max_attachments`](super::DecoderConfig::max_attachments).
        max: usize,
    },
    /// The attachments of one packet add up to more bytes than the decoder
    /// accepts.
    #[error("attachments larger than {max} bytes in total")]
    AttachmentsTooLarge {
        /// [`DecoderConfig::max_attachment_bytes`](super::DecoderConfig::max_attachment_bytes).
        max: usize,
    },
    /// A namespace that is not a string starting with `/` (msgpack), or a
    /// missing one (msgpack).
    #[error("invalid namespace")]
    InvalidNamespace,
    /// An acknowledgement id that is not an integer from 0 to 2^53 - 1
    /// (JavaScript's largest exact integer), or an ACK without one.
    #[error("invalid acknowledgement id")]
    InvalidAckId,
    /// The payload is not JSON: the byte at `offset` (from the start of
    /// the message) cannot be there.
    #[error("invalid JSON payload at byte {offset}")]
    InvalidJson {
        /// Where the JSON breaks, in bytes from the start of the message.
        offset: usize,
    },
    /// A complete JSON payload followed by more than whitespace.
    #[error("trailing data at byte {offset}")]
    TrailingData {
        /// Where the extra data starts, in bytes from the start of the
        /// message.
        offset: usize,
    },
    /// Arrays and objects nested deeper than the decoder accepts.
    #[error("payload nested deeper than {max} levels")]
    TooDeep {
        /// [`DecoderConfig::max_depth`](super::DecoderConfig::max_depth).
        max: usize,
    },
    /// The payload is valid JSON but not what this packet type carries:
    /// CONNECT an object or nothing, DISCONNECT nothing, EVENT a non-empty
    /// array starting with a string, ACK an array, CONNECT_ERROR an object
    /// or a string.
    #[error("invalid payload for a {kind:?} packet")]
    InvalidPayload {
        /// The packet's type.
        kind: PacketKind,
    },
    /// An EVENT whose name is reserved (see
    /// [`is_reserved_event`](super::is_reserved_event)), refused because
    /// [`DecoderConfig::reject_reserved_events`](super::DecoderConfig::reject_reserved_events)
    /// is set.
    #[error("reserved event name")]
    ReservedEvent,
    /// In a binary packet, an object with `"_placeholder": true` that is
    /// not exactly `{"_placeholder":true,"num":N}` with `N` a non-negative
    /// integer.
    #[error("invalid placeholder")]
    InvalidPlaceholder,
    /// A placeholder refers to an attachment the packet does not have.
    #[error("placeholder {num} out of range ({attachments} attachments)")]
    PlaceholderOutOfRange {
        /// The placeholder's `num`.
        num: u64,
        /// How many attachments the packet announced.
        attachments: usize,
    },
    /// A text message while the attachments of a binary packet are still
    /// expected, or (msgpack parser) any text message.
    #[error("text message while binary data was expected")]
    UnexpectedText,
    /// A binary message when no binary packet is being reassembled.
    #[error("binary message while no attachment was expected")]
    UnexpectedBinary,
    /// The attachments of a binary packet did not all arrive within
    /// [`DecoderConfig::attachment_timeout`](super::DecoderConfig::attachment_timeout)
    /// (see [`Decoder::expire`](super::Decoder::expire)).
    #[error("attachments not received in time")]
    AttachmentsTimeout,
    /// A msgpack message that cannot be read: truncated, an unknown
    /// prefix, a length past the end, trailing bytes, a map key that is
    /// not a string, a missing or invalid `type`, a map shaped like a
    /// placeholder.
    #[error("invalid msgpack packet at byte {offset}: {reason}")]
    InvalidMsgpack {
        /// Where the problem is, in bytes from the start of the message.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A msgpack string that is not UTF-8.
    #[error("invalid UTF-8 in a msgpack string")]
    InvalidUtf8,
}

impl DecodeError {
    /// Maps a fault in JSON that starts at `base` in the message.
    pub(crate) fn from_fault(
        fault: JsonFault,
        base: usize,
        max_depth: usize,
        attachments: usize,
    ) -> Self {
        match fault {
            JsonFault::Syntax(at) => Self::InvalidJson { offset: base + at },
            JsonFault::Trailing(at) => Self::TrailingData { offset: base + at },
            JsonFault::TooDeep => Self::TooDeep { max: max_depth },
            JsonFault::PlaceholderShape => Self::InvalidPlaceholder,
            JsonFault::PlaceholderRange(num) => Self::PlaceholderOutOfRange { num, attachments },
        }
    }
}

/// Text given to a [`RawJson`](super::RawJson) constructor that is not one
/// JSON value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidJson {
    /// Not JSON: the byte at this offset cannot be there.
    #[error("invalid JSON at byte {0}")]
    Syntax(usize),
    /// A complete value followed by more than whitespace at this offset.
    #[error("trailing data after the JSON value at byte {0}")]
    Trailing(usize),
    /// Nested deeper than [`DEFAULT_MAX_DEPTH`](super::DEFAULT_MAX_DEPTH).
    #[error("JSON nested too deep")]
    TooDeep,
    /// The bytes are not UTF-8.
    #[error("JSON text is not UTF-8")]
    NotUtf8,
}

impl InvalidJson {
    pub(crate) fn from_fault(fault: JsonFault) -> Self {
        match fault {
            JsonFault::Syntax(at) => Self::Syntax(at),
            JsonFault::Trailing(at) => Self::Trailing(at),
            // Placeholders are not checked by the constructors.
            JsonFault::TooDeep | JsonFault::PlaceholderShape | JsonFault::PlaceholderRange(_) => {
                Self::TooDeep
            }
        }
    }

    pub(crate) fn utf8() -> Self {
        Self::NotUtf8
    }
}

/// serde_json could not serialize or deserialize a value. The message says
/// what did not match; the source is serde_json's error.
pub struct JsonError(serde_json::Error);

impl JsonError {
    pub(crate) fn new(e: serde_json::Error) -> Self {
        Self(e)
    }
}

impl fmt::Debug for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A packet's data could not be read as the type asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The packet has no argument at this index.
    #[error("no argument at index {0}")]
    NoArgument(usize),
    /// The packet carries no data of that kind (arguments asked of a
    /// CONNECT, a value asked of an EVENT).
    #[error("the packet has no such data")]
    NoData,
    /// The JSON does not match the type.
    #[error(transparent)]
    Json(#[from] JsonError),
}
