//! The adapter: where a namespace keeps its rooms and how its broadcasts,
//! room changes and socket queries reach the sockets, on this server and,
//! with a remote adapter (Redis), on every server of a cluster.
//!
//! The server owns the sockets; an adapter owns the rooms. The server hands
//! each namespace's adapter a [`LocalSockets`]: the adapter decides *who*
//! (from the rooms), the server does the sending. [`LocalAdapter`] is the
//! in-memory adapter every server uses by default; a remote adapter wraps
//! one and also forwards each operation to the other servers.
//!
//! Operations that stay on this server, or only need to start something on
//! the others (a broadcast, a room change), are plain calls, so an emit
//! never waits and never spawns; those that need answers from the other
//! servers (`fetch_sockets`, `server_count`, restoring a session) return a
//! future. The traits are object-safe: the server keeps an
//! `Arc<dyn Adapter>` and no generic parameter reaches user code.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use sockio_core::adapter::*;
//! use sockio_core::socket::{Args, Packet};
//!
//! // What the server provides: here, sockets that record what they get.
//! #[derive(Default)]
//! struct Recorder(Mutex<Vec<(SocketId, String)>>);
//! impl LocalSockets for Recorder {
//!     fn send(&self, sids: &[SocketId], packet: &Packet, _: &BroadcastFlags) {
//!         let name = packet.event_name().unwrap().into_owned();
//!         let mut log = self.0.lock().unwrap();
//!         log.extend(sids.iter().map(|s| (s.clone(), name.clone())));
//!     }
//!     fn send_to_all(&self, _: &Packet, _: &BroadcastFlags) {}
//!     fn send_with_ack(&self, _: &[SocketId], _: &Packet, _: &BroadcastFlags,
//!                      _: &Arc<dyn AckSink>) -> usize { 0 }
//!     fn disconnect(&self, _: &[SocketId], _: bool) {}
//!     fn describe(&self, _: &SocketId) -> Option<SocketInfo> { None }
//!     fn next_ack_id(&self) -> u64 { 0 }
//! }
//!
//! let sockets = Arc::new(Recorder::default());
//! let weak = Arc::downgrade(&sockets) as std::sync::Weak<dyn LocalSockets>;
//! let adapter = LocalAdapter::new(AdapterContext::new("/", weak));
//! adapter.add_all(&"a".into(), &["a".into(), "lobby".into()]);
//! adapter.add_all(&"b".into(), &["b".into()]);
//!
//! let packet = Packet::event("/", Args::event("hi"));
//! adapter.broadcast(packet, BroadcastOptions::to(["lobby"]))?;
//! assert_eq!(sockets.0.lock().unwrap()[..], [("a".into(), "hi".to_owned())]);
//! # Ok::<(), AdapterError>(())
//! ```

mod local;
mod options;
mod recovery;
mod rooms;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Instant;

pub use local::LocalAdapter;
pub use options::{BroadcastFlags, BroadcastOptions};
pub use recovery::{PersistedSession, RecoveryConfig, RestoredSession};
pub use rooms::RoomIndex;

use crate::socket::{Args, Packet, RawJson};

/// A socket id (per namespace, distinct from the Engine.IO session id).
pub type SocketId = Arc<str>;

/// A room name. Every socket is in the room named by its own id.
pub type Room = Arc<str>;

/// A boxed future, as the adapter's asynchronous operations return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The time source of an adapter (session expiry, packet retention). The
/// server passes its runtime's clock, so a test with a paused clock
/// controls it.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Why an adapter operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The adapter was closed.
    #[error("the adapter is closed")]
    Closed,
    /// Other servers did not answer in time.
    #[error("the other servers did not answer in time")]
    Timeout,
    /// The link to the other servers failed.
    #[error("adapter transport error: {0}")]
    Transport(String),
}

/// A socket as seen through the adapter: what `fetch_sockets` returns,
/// whether the socket is on this server or another one. Every field
/// serializes, so a remote adapter can ship it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketInfo {
    /// The socket id.
    pub id: SocketId,
    /// The rooms it is in (its own id among them).
    pub rooms: Vec<Room>,
    /// The handshake, as the reference's `socket.handshake` object
    /// (`headers`, `time`, `address`, `xdomain`, `secure`, `issued`,
    /// `url`, `query`, `auth`).
    pub handshake: RawJson,
    /// The socket's data (`socket.data`), if it has any.
    pub data: Option<RawJson>,
}

impl SocketInfo {
    /// A socket description; `rooms` is filled in by the adapter.
    pub fn new(id: SocketId, handshake: RawJson, data: Option<RawJson>) -> Self {
        Self {
            id,
            rooms: Vec::new(),
            handshake,
            data,
        }
    }
}

/// Collects the acknowledgements of a broadcast that asked for them: told
/// how many answers to expect (once per server, with the number of sockets
/// the broadcast reached there), then given each answer.
pub trait AckSink: Send + Sync {
    /// `n` more receivers were reached and will be waited for.
    fn expect(&self, n: usize);
    /// One receiver answered.
    fn ack(&self, args: Args);
}

/// The sockets of one namespace on this server, as the server lets its
/// adapter reach them. Ids the server no longer knows are skipped.
pub trait LocalSockets: Send + Sync {
    /// Sends `packet` to the sockets `sids`, encoded once for all.
    fn send(&self, sids: &[SocketId], packet: &Packet, flags: &BroadcastFlags);
    /// Sends `packet` to every socket of the namespace on this server (a
    /// broadcast with no rooms and no exceptions), encoded once for all.
    fn send_to_all(&self, packet: &Packet, flags: &BroadcastFlags);
    /// Sends `packet` (its ack id set) to the sockets `sids`, each waiting
    /// for an acknowledgement that goes to `acks`; returns how many sockets
    /// it reached.
    fn send_with_ack(
        &self,
        sids: &[SocketId],
        packet: &Packet,
        flags: &BroadcastFlags,
        acks: &Arc<dyn AckSink>,
    ) -> usize;
    /// Disconnects the sockets `sids`; with `close`, closes their whole
    /// connection (every namespace of their client).
    fn disconnect(&self, sids: &[SocketId], close: bool);
    /// Describes socket `sid` (its rooms left empty).
    fn describe(&self, sid: &SocketId) -> Option<SocketInfo>;
    /// The next acknowledgement id of the namespace (shared by every socket
    /// of it, so one id can serve a whole broadcast).
    fn next_ack_id(&self) -> u64;
    /// An event another server sent with `server_side_emit`: runs this
    /// server's handlers for it. Nothing by default.
    fn server_side_event(&self, args: Args) {
        let _ = args;
    }
}

/// What an adapter is built from: the namespace it serves and its link to
/// the namespace's sockets on this server.
#[derive(Clone)]
#[non_exhaustive]
pub struct AdapterContext {
    /// The namespace name.
    pub nsp: Arc<str>,
    /// The namespace's sockets on this server (weak: the namespace owns
    /// its adapter, not the reverse).
    pub sockets: Weak<dyn LocalSockets>,
    /// Connection state recovery settings; `None` when it is off.
    pub recovery: Option<RecoveryConfig>,
    /// The clock for time-based bookkeeping.
    pub clock: Clock,
    /// A random id of this server (offsets and cluster messages carry it).
    pub server_id: Arc<str>,
}

impl std::fmt::Debug for AdapterContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterContext")
            .field("nsp", &self.nsp)
            .field("recovery", &self.recovery)
            .field("server_id", &self.server_id)
            .finish_non_exhaustive()
    }
}

impl AdapterContext {
    /// A context with recovery off, the system clock and server id `"0"`.
    pub fn new(nsp: &str, sockets: Weak<dyn LocalSockets>) -> Self {
        Self {
            nsp: Arc::from(nsp),
            sockets,
            recovery: None,
            clock: Arc::new(Instant::now),
            server_id: Arc::from("0"),
        }
    }

    /// With connection state recovery.
    pub fn with_recovery(mut self, recovery: RecoveryConfig) -> Self {
        self.recovery = Some(recovery);
        self
    }

    /// With this clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// With this server id.
    pub fn with_server_id(mut self, id: &str) -> Self {
        self.server_id = Arc::from(id);
        self
    }
}

/// Builds the adapter of each namespace; any
/// `Fn(AdapterContext) -> Arc<dyn Adapter>` closure is one.
pub trait AdapterFactory: Send + Sync {
    /// The adapter for the namespace of `ctx`.
    fn create(&self, ctx: AdapterContext) -> Arc<dyn Adapter>;
}

impl<F> AdapterFactory for F
where
    F: Fn(AdapterContext) -> Arc<dyn Adapter> + Send + Sync,
{
    fn create(&self, ctx: AdapterContext) -> Arc<dyn Adapter> {
        self(ctx)
    }
}

/// The rooms of a namespace and the operations on its sockets, possibly
/// across servers. See the module docs.
pub trait Adapter: Send + Sync {
    /// Starts the adapter (subscriptions, for a remote one).
    fn init(&self) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Stops the adapter.
    fn close(&self) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// The number of servers in the cluster (1 for the local adapter).
    fn server_count(&self) -> BoxFuture<'_, Result<usize, AdapterError>> {
        Box::pin(std::future::ready(Ok(1)))
    }

    /// Socket `sid` (of this server) joins `rooms`.
    fn add_all(&self, sid: &SocketId, rooms: &[Room]);

    /// Socket `sid` leaves `room`.
    fn del(&self, sid: &SocketId, room: &str);

    /// Socket `sid` leaves every room (it disconnected).
    fn del_all(&self, sid: &SocketId);

    /// The rooms socket `sid` (of this server) is in.
    fn socket_rooms(&self, sid: &SocketId) -> Vec<Room>;

    /// The ids of the sockets in any of `rooms` (all when empty), on every
    /// server.
    fn sockets(&self, rooms: &[Room]) -> BoxFuture<'_, Result<Vec<SocketId>, AdapterError>>;

    /// Sends `packet` to the sockets `opts` selects.
    fn broadcast(&self, packet: Packet, opts: BroadcastOptions) -> Result<(), AdapterError>;

    /// Sends `packet` to the sockets `opts` selects, asking each for an
    /// acknowledgement; the count reached and the answers go to `acks`.
    /// The packet's ack id is assigned here.
    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        acks: Arc<dyn AckSink>,
    ) -> Result<(), AdapterError>;

    /// Describes the sockets `opts` selects, on every server.
    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'_, Result<Vec<SocketInfo>, AdapterError>>;

    /// The sockets `opts` selects join `rooms`.
    fn add_sockets(&self, opts: BroadcastOptions, rooms: &[Room]);

    /// The sockets `opts` selects leave `rooms`.
    fn del_sockets(&self, opts: BroadcastOptions, rooms: &[Room]);

    /// Disconnects the sockets `opts` selects (with `close`, their whole
    /// connection).
    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool);

    /// Sends an event to the *other* servers' namespace (`args` start with
    /// the event name). Nothing to do with a single server.
    fn server_side_emit(&self, args: Args) -> Result<(), AdapterError> {
        let _ = args;
        Ok(())
    }

    /// Keeps a disconnected socket's session for connection state recovery.
    fn persist_session(&self, session: PersistedSession) {
        let _ = session;
    }

    /// The session `pid` with the packets it missed since `offset`, if it
    /// can be restored.
    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<'_, Result<Option<RestoredSession>, AdapterError>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }
}
