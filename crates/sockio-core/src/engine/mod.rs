//! Engine.IO protocol 4 (and 3): packets, polling payloads.
//!
//! - [`packet`]: [`Packet`] and its WebSocket encoding ([`Packet::encode_ws`],
//!   [`Packet::decode_ws`]).
//! - [`payload`]: HTTP long-polling bodies ([`encode_payload`],
//!   [`decode_payload`], [`PayloadDecoder`]).

pub mod packet;
pub mod payload;

pub use packet::{Packet, PacketError, Protocol, Str, WsFrame};
pub use payload::{
    PayloadDecoder, SEPARATOR, decode_payload, decode_payload_binary_v3, encode_payload,
    encode_payload_binary_v3,
};

mod config;
mod session;

pub use config::EngineConfig;
pub use session::{CloseReason, Event, Session, TransportKind, UpgradeRefused, UpgradeStep};
