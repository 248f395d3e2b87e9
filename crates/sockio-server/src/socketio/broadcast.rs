//! Broadcasts: a packet encoded once and shared by every receiver.

use std::sync::Arc;

use serde::Serialize;
use sockio_core::socket::{Args, Encoded, Packet, Parser};

use super::namespace::Namespace;
use super::socket::{event_args, with_event_name};
use crate::engine::SharedPacket;

/// Selects sockets of a namespace to emit to: `to` rooms (all sockets when
/// none), `except` rooms.
#[derive(Clone)]
pub struct BroadcastOperator {
    ns: Option<Arc<Namespace>>,
    rooms: Vec<String>,
    except: Vec<String>,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .finish_non_exhaustive()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self {
            ns: Some(ns),
            rooms: Vec::new(),
            except: Vec::new(),
        }
    }

    /// An operator that reaches nobody (the namespace does not exist).
    pub(crate) fn empty() -> Self {
        Self {
            ns: None,
            rooms: Vec::new(),
            except: Vec::new(),
        }
    }

    /// Adds a room to target (sockets in any of the rooms are reached).
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Same as [`BroadcastOperator::to`].
    pub fn within(self, room: impl Into<String>) -> Self {
        self.to(room)
    }

    /// Excludes the sockets in `room` (a socket id is a room too).
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.except.push(room.into());
        self
    }

    /// Emits `event` with one argument. False if the data does not
    /// serialize.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        match event_args(event, data) {
            Ok(args) => {
                self.send(args);
                true
            }
            Err(_) => false,
        }
    }

    /// Emits `event` with already-built arguments.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.send(with_event_name(event, args));
        true
    }

    /// Encodes the event once per parser and hands the same frames to every
    /// receiver.
    fn send(&self, args: Args) {
        let Some(ns) = &self.ns else { return };
        let targets = ns.select(&self.rooms, &self.except);
        if targets.is_empty() {
            return;
        }
        let packet = Packet::event(ns.nsp.clone(), args);
        let mut encoded: [Option<Vec<SharedPacket>>; 2] = [None, None];
        for socket in targets {
            let parser = socket.client().parser();
            let slot = &mut encoded[usize::from(parser == Parser::Msgpack)];
            let frames = slot.get_or_insert_with(|| shared_frames(parser, &packet));
            for frame in frames.iter() {
                socket.client().esock.send_shared(frame);
            }
        }
    }
}

/// The Engine.IO messages of `packet`, each encoded once.
fn shared_frames(parser: Parser, packet: &Packet) -> Vec<SharedPacket> {
    use sockio_core::engine::Packet as EnginePacket;
    match parser.encode(packet) {
        Encoded::Text { text, attachments } => {
            std::iter::once(SharedPacket::new(EnginePacket::Message(text)))
                .chain(
                    attachments
                        .into_iter()
                        .map(|a| SharedPacket::new(EnginePacket::Binary(a))),
                )
                .collect()
        }
        Encoded::Binary(data) => vec![SharedPacket::new(EnginePacket::Binary(data))],
    }
}
