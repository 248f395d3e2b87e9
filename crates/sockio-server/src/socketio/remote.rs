//! A socket found by `fetch_sockets`, on this server or another one.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use sockio_core::adapter::{BroadcastOptions, Room, SocketInfo};
use sockio_core::socket::{DataError, IntoArgs, Packet, RawJson};

use super::errors::EmitError;
use super::namespace::Namespace;
use super::socket::SocketRef;

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

    /// Its data when fetched (see [`SocketRef::data`]): `Ok(None)` when it
    /// had none.
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, DataError> {
        self.info
            .data
            .as_ref()
            .map(|d| d.deserialize().map_err(DataError::Json))
            .transpose()
    }

    /// The socket itself, when it is on this server.
    pub fn local(&self) -> Option<SocketRef> {
        self.ns.socket(&self.info.id)
    }

    fn target(&self) -> BroadcastOptions {
        BroadcastOptions::to([self.info.id.clone()])
    }

    /// Emits `event` with `data` (by the argument model, as
    /// [`SocketRef::emit`]) to the socket, wherever it is connected.
    pub fn emit(&self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_event_args(event).map_err(EmitError::Serialize)?;
        self.ns
            .adapter
            .broadcast(Packet::event(self.ns.nsp.clone(), args), self.target())
            .map_err(EmitError::Adapter)
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
