//! Engine.IO and Socket.IO protocol cores for sockio: sans-IO, no runtime,
//! no clock. Bytes and packets go in and out; the server and client crates
//! do the I/O.
//!
//! A polling body from a client, its packets, and the same packets on a
//! WebSocket and back in a polling response:
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use sockio_core::engine::{Packet, Protocol, WsFrame, decode_payload, encode_payload};
//!
//! // A POST body: a text message, then binary data <01 02 03 04> in base64.
//! let body = Bytes::from_static(b"4hello\x1ebAQIDBA==");
//! let packets = decode_payload(body, Protocol::V4, 64)?;
//! assert_eq!(
//!     packets,
//!     [Packet::message("hello"), Packet::binary(Bytes::from_static(&[1, 2, 3, 4]))]
//! );
//!
//! // One WebSocket message per packet; binary data is not copied.
//! let frames: Vec<WsFrame> = packets.iter().map(|p| p.encode_ws(Protocol::V4)).collect();
//! assert_eq!(frames[0], WsFrame::Text(Bytes::from_static(b"4hello")));
//! assert_eq!(frames[1], WsFrame::Binary(Bytes::from_static(&[1, 2, 3, 4])));
//! assert_eq!(Packet::decode_ws(frames[0].clone(), Protocol::V4)?, packets[0]);
//!
//! // A polling response body, here for an Engine.IO 3 client.
//! let mut out = BytesMut::new();
//! encode_payload(&packets, Protocol::V3, &mut out);
//! assert_eq!(&out[..], b"6:4hello10:b4AQIDBA==");
//! # Ok::<(), sockio_core::engine::PacketError>(())
//! ```
//!
//! # Modules
//!
//! - [`engine`]: Engine.IO protocol 4 (and 3 for old clients): packets,
//!   their WebSocket encoding, long-polling payloads, the session state
//!   machine.
//! - [`socket`]: Socket.IO protocol 5: packets, the text parser
//!   (socket.io-parser) and the msgpack parser (socket.io-msgpack-parser),
//!   with binary attachments.
//! - [`adapter`]: the `Adapter` trait a namespace's rooms and broadcasts
//!   go through, serializable broadcast options, and the in-memory
//!   adapter with connection state recovery.

#![forbid(unsafe_code)]

pub mod adapter;
pub mod engine;
mod lean;
pub mod socket;
