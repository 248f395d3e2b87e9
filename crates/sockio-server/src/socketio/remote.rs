//! A socket found by `fetch_sockets`, on this server or another one.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sockio_core::adapter::{BroadcastOptions, Room, SocketInfo};
use sockio_core::socket::{Args, Packet, RawJson};

use super::namespace::Namespace;
use super::socket::{SocketRef, event_args, with_event_name};

/// A socket as `fetch_sockets` found it: its id, rooms, handshake and data
/// at that moment, and operations that reach it wherever it is connected
/// (through the adapter).
#[derive(Clone)]
pub struct RemoteSocket {
    ns: Arc<Namespace>,
    info: SocketInfo,
}

impl std::fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("id", &self.info.id)
            .field("rooms", &self.info.rooms)
            .finish_non_exhaustive()
    }
}

impl RemoteSocket {
    pub(crate) fn new(ns: Arc<Namespace>, info: SocketInfo) -> Self {
        Self { ns, info }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its rooms when fetched (its own id among them).
    pub fn rooms(&self) -> Vec<String> {
        self.info.rooms.iter().map(|r| r.to_string()).collect()
    }

    /// Its handshake as the reference's `socket.handshake` object.
    pub fn handshake(&self) -> &RawJson {
        &self.info.handshake
    }

    /// Its data when fetched, deserialized into `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        self.info.data.as_ref()?.deserialize().ok()
    }

    /// The socket itself, when it is on this server.
    pub fn local(&self) -> Option<SocketRef> {
        self.ns.socket(&self.info.id)
    }

    fn target(&self) -> BroadcastOptions {
        BroadcastOptions::to([self.info.id.clone()])
    }

    /// Emits `event` with one argument to the socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        match event_args(event, data) {
            Ok(args) => self.send(args),
            Err(_) => false,
        }
    }

    /// Emits `event` with already-built arguments to the socket.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.send(with_event_name(event, args))
    }

    fn send(&self, args: Args) -> bool {
        self.ns
            .adapter
            .broadcast(Packet::event(self.ns.nsp.clone(), args), self.target())
            .is_ok()
    }

    /// The socket joins `room`.
    pub fn join(&self, room: impl Into<String>) {
        self.ns
            .adapter
            .add_sockets(self.target(), &[Room::from(room.into())]);
    }

    /// The socket leaves `room`.
    pub fn leave(&self, room: impl Into<String>) {
        self.ns
            .adapter
            .del_sockets(self.target(), &[Room::from(room.into())]);
    }

    /// Disconnects the socket; with `close`, its whole connection.
    pub fn disconnect(&self, close: bool) {
        self.ns.adapter.disconnect_sockets(self.target(), close);
    }
}
