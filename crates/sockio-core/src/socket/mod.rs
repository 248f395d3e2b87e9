//! Socket.IO protocol 5 packets: the model, the default (text) parser and
//! the msgpack parser, sans-IO.
//!
//! Every Socket.IO packet travels in Engine.IO message packets. With the
//! default parser (socket.io-parser 4) a packet is one text message:
//!
//! ```text
//! <type>[<# of attachments>-][<namespace>,][<ack id>][<JSON payload>]
//!
//! 0                                     CONNECT to "/"
//! 0/admin,{"token":"123"}               CONNECT to "/admin" with auth data
//! 4{"message":"Not authorized"}         CONNECT_ERROR
//! 2["hello",1]                          EVENT "hello" with one argument
//! 212["foo"]                            EVENT asking for an ack, id 12
//! 3/admin,13["bar"]                     ACK of event 13 in "/admin"
//! 51-["baz",{"_placeholder":true,"num":0}]
//!                                       BINARY_EVENT, one attachment
//! 1/admin,                              DISCONNECT from "/admin"
//! ```
//!
//! A binary packet's attachments follow it, one binary message each; its
//! JSON refers to them with placeholders. With the msgpack parser
//! (socket.io-msgpack-parser 3) a packet is one binary message instead:
//! see [`decode_msgpack`] and [`encode_msgpack`]; packets are the same
//! model either way, pick the parser with [`DecoderConfig::parser`] and
//! [`Parser::encode`].
//!
//! Arguments are kept as [`RawJson`], slices of the message they came in,
//! so a server that passes them on sends the very bytes it received. They
//! are deserialized with serde only when asked ([`Args::deserialize`]).
//!
//! ```
//! use bytes::Bytes;
//! use sockio_core::engine::Str;
//! use sockio_core::socket::{Args, Decoder, Packet};
//!
//! let mut decoder = Decoder::default();
//! let packet = decoder
//!     .decode_text(&Str::from_static(r#"2/chat,7["message",{"b":1.50,"a":"x"}]"#))?
//!     .expect("not binary: complete at once");
//! assert_eq!(&*packet.nsp, "/chat");
//! assert_eq!(packet.id, Some(7));
//! assert_eq!(packet.event_name().as_deref(), Some("message"));
//!
//! // Echo the arguments back in the ack: byte for byte.
//! let args = packet.args().unwrap();
//! let reply = Args::from_raw(args.as_slice()[1..].to_vec());
//! let (text, _) = Packet::ack("/chat", 7, reply).encode();
//! assert_eq!(text, r#"3/chat,7[{"b":1.50,"a":"x"}]"#);
//! # Ok::<(), sockio_core::socket::DecodeError>(())
//! ```
//!
//! # Validation
//!
//! The decoder is as strict as the reference parser, and stricter where the
//! reference lets through what its own server or client then trips on:
//! the payload must fit the packet type, namespaces start with `/`, ack
//! ids are integers up to 2^53 − 1 (and an ACK has one), attachments are
//! announced with plain digits and bounded in number and size, placeholders
//! are exactly `{"_placeholder":true,"num":N}` with `N` in range, text may
//! not interrupt a binary packet nor binary arrive unannounced, nesting is
//! bounded, and nothing may follow the JSON payload. Every check is a
//! [`DecodeError`] variant; nothing panics, and memory stays within a small
//! multiple of the input.
//!
//! Where the reference (socket.io-parser 4.2.7, socket.io-msgpack-parser
//! 3.0.2) accepts more, this decoder refuses, and why:
//!
//! | input | reference | here |
//! |---|---|---|
//! | an EVENT named by a number (`2[1,"a"]`, `2[1.5e400]`) | accepted | [`DecodeError::InvalidPayload`]: names are strings |
//! | EVENT, ACK or CONNECT_ERROR without payload (`2`, `2/admin["x"]`) | accepted, then `packet.data.message` throws in the client | [`DecodeError::InvalidPayload`]: the protocol says mandatory |
//! | an ACK without id (`3["x"]`) | accepted, matched to nothing | [`DecodeError::InvalidAckId`] |
//! | ack ids past 2^53 − 1 (`299999999999999999999[…]`) | rounded | [`DecodeError::InvalidAckId`] |
//! | a space where a digit may be (`2 ["x"]` is id 0 there, as `Number(" ")` is 0; an empty message is a CONNECT) | accepted | JSON whitespace before the payload; [`DecodeError::Empty`] |
//! | a placeholder with more keys, a fractional or string `num` | replaced, or `undefined` | [`DecodeError::InvalidPlaceholder`], when the text arrives |
//! | more than [`DecoderConfig::max_attachments`] `bin` values (msgpack) | accepted | [`DecodeError::TooManyAttachments`] |
//!
//! and where it accepts more: reserved event names (`2["disconnect"]`) are
//! decoded for the caller to drop (see [`is_reserved_event`]) unless
//! [`DecoderConfig::reject_reserved_events`] is set.

mod binary;
pub mod connection;
mod decode;
mod error;
mod json;
mod msgpack;
mod packet;
mod raw;
mod reserved;
mod shape;

pub use decode::{Decoder, DecoderConfig, Encoded, MAX_ACK_ID, Parser};
pub use error::{DataError, DecodeError, InvalidJson, JsonError};
pub use json::JsonKind;
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use packet::{Args, Data, Packet, PacketKind, Recovery, encode};
pub use raw::{DEFAULT_MAX_DEPTH, RawJson};
pub use reserved::{RESERVED_EVENTS, is_reserved_event};
pub use shape::{FromArgs, IntoArgs};

#[cfg(test)]
mod tests;
