//! Broadcasts: which sockets (rooms, exceptions, this server only) and how
//! (volatile, compressed, with acks), through the namespace's adapter. A
//! packet is encoded once and the same frames go to every receiver.

use std::sync::Arc;
use std::time::Duration;

use sockio_core::adapter::{AdapterError, BroadcastOptions, Room};
use sockio_core::socket::{Args, FromArgs, IntoArgs, Packet, Parser};

use super::ack::AckGather;
use super::client::engine_messages;
use super::errors::{BroadcastAckError, EmitError};
use super::namespace::Namespace;
use super::remote::RemoteSocket;
use crate::engine::SharedPacket;

/// Selects sockets of a namespace and emits to them or acts on them: `to`
/// rooms (all sockets when none), `except` rooms, `local` (this server
/// only), `volatile`, `compress`, `timeout`. Cheap to clone; each method
/// takes it by value.
#[derive(Clone)]
#[must_use = "an operator does nothing until it emits or acts"]
pub struct BroadcastOperator {
    ns: Arc<Namespace>,
    opts: BroadcastOptions,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self {
            ns,
            opts: BroadcastOptions::default(),
        }
    }

    /// Adds a room to target (sockets in any of the rooms are reached).
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.opts.add_room(Room::from(room.into()));
        self
    }

    /// Same as [`BroadcastOperator::to`].
    pub fn within(self, room: impl Into<String>) -> Self {
        self.to(room)
    }

    /// Excludes the sockets in `room` (a socket id is a room too).
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.opts.add_except(Room::from(room.into()));
        self
    }

    /// Only the sockets of this server (with a remote adapter, the other
    /// servers are not told).
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Receivers not ready to take the packet right now do not get it.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// Whether the packet is compressed (default true).
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = compress;
        self
    }

    /// How long `emit_with_ack` waits for the receivers' answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// Emits `event` with `data` (by the argument model: `()` no value, a
    /// tuple one per element, any other value one; `Bytes` anywhere is
    /// binary; [`Args`] as it is) to the selected sockets. Reaching no
    /// socket is not an error; the data not serializing and the adapter
    /// failing are.
    pub fn emit(self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_event_args(event).map_err(EmitError::Serialize)?;
        self.emit_event_args(args)
    }

    /// Emits arguments that start with the event name.
    pub(crate) fn emit_event_args(self, args: Args) -> Result<(), EmitError> {
        let ns = &self.ns;
        ns.adapter
            .broadcast(Packet::event(ns.nsp.clone(), args), self.opts)
            .map_err(EmitError::Adapter)
    }

    /// Emits `event` with `data` to every selected socket and waits for all
    /// their acknowledgements, each read as `T` (`Args` for the values as
    /// they came), at most the [`timeout`] (else the server's ack
    /// timeout). On a timeout, the answers that came are in the error.
    ///
    /// [`timeout`]: BroadcastOperator::timeout
    pub async fn emit_with_ack<T: FromArgs>(
        self,
        event: &str,
        data: impl IntoArgs,
    ) -> Result<Vec<T>, BroadcastAckError> {
        let args = data
            .into_event_args(event)
            .map_err(|e| BroadcastAckError::Emit(EmitError::Serialize(e)))?;
        let replies = self.send_with_ack(args).await?;
        replies
            .iter()
            .enumerate()
            .map(|(index, reply)| {
                T::from_args(reply).map_err(|error| BroadcastAckError::Data { index, error })
            })
            .collect()
    }

    async fn send_with_ack(self, args: Args) -> Result<Vec<Args>, BroadcastAckError> {
        let ns = self.ns;
        let timeout = self.opts.flags.timeout.unwrap_or_else(|| {
            ns.io
                .upgrade()
                .map_or(Duration::from_secs(30), |io| io.config.ack_timeout)
        });
        let servers = if self.opts.flags.local {
            1
        } else {
            ns.adapter.server_count().await?
        };
        let gather = AckGather::new();
        ns.adapter.broadcast_with_ack(
            Packet::event(ns.nsp.clone(), args),
            self.opts,
            gather.clone(),
        )?;
        gather.wait(servers, timeout).await
    }

    /// The selected sockets, on every server.
    pub async fn fetch_sockets(self) -> Result<Vec<RemoteSocket>, AdapterError> {
        let ns = self.ns;
        let infos = ns.adapter.fetch_sockets(self.opts).await?;
        Ok(infos
            .into_iter()
            .map(|info| RemoteSocket::new(ns.clone(), info))
            .collect())
    }

    /// The selected sockets join `rooms`.
    pub fn sockets_join<I, R>(self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.ns.adapter.add_sockets(self.opts, &to_rooms(rooms));
    }

    /// The selected sockets leave `rooms`.
    pub fn sockets_leave<I, R>(self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.ns.adapter.del_sockets(self.opts, &to_rooms(rooms));
    }

    /// Disconnects the selected sockets; with `close`, their clients'
    /// whole connections.
    pub fn disconnect_sockets(self, close: bool) {
        self.ns.adapter.disconnect_sockets(self.opts, close);
    }
}

fn to_rooms<I, R>(rooms: I) -> Vec<Room>
where
    I: IntoIterator<Item = R>,
    R: Into<String>,
{
    rooms.into_iter().map(|r| Room::from(r.into())).collect()
}

/// The Engine.IO messages of one packet, encoded at most once per parser
/// for all receivers of a broadcast.
#[derive(Default)]
pub(crate) struct SharedFrames {
    slots: [Option<Vec<SharedPacket>>; 2],
}

impl SharedFrames {
    pub(crate) fn get(&mut self, parser: Parser, packet: &Packet) -> &[SharedPacket] {
        self.slots[usize::from(parser == Parser::Msgpack)]
            .get_or_insert_with(|| shared_frames(parser, packet))
    }
}

/// The Engine.IO messages of `packet`, each encoded once.
fn shared_frames(parser: Parser, packet: &Packet) -> Vec<SharedPacket> {
    engine_messages(parser, packet)
        .map(SharedPacket::new)
        .collect()
}
