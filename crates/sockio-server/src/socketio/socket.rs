//! A socket: one client connected to one namespace.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sockio_core::engine::CloseReason;
use sockio_core::socket::{Args, Data, MAX_ACK_ID, Packet, RawJson};
use tokio::sync::oneshot;

use super::ack::{AckError, AckSender};
use super::broadcast::BroadcastOperator;
use super::client::Client;
use super::namespace::Namespace;
use super::{IoInner, SocketIo};

pub(crate) type EventHandler = Arc<dyn Fn(SocketRef, Args, Option<AckSender>) + Send + Sync>;
type DisconnectHandler = Box<dyn FnOnce(SocketRef, DisconnectReason) + Send + Sync>;

/// Why a socket disconnected; the strings are the reference server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client left the namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server disconnected the socket.
    ServerNamespaceDisconnect,
    /// The transport closed (the client went away).
    TransportClose,
    /// The transport failed.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent something that is not Socket.IO.
    ParseError,
    /// The server closed the connection.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client could not keep up with what was sent to it.
    SlowConsumer,
}

impl DisconnectReason {
    /// The reason as socket.io reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientNamespaceDisconnect => "client namespace disconnect",
            Self::ServerNamespaceDisconnect => "server namespace disconnect",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
            Self::ServerShuttingDown => "server shutting down",
            Self::SlowConsumer => "slow consumer",
        }
    }

    pub(crate) fn from_engine(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => Self::TransportClose,
            CloseReason::TransportError => Self::TransportError,
            CloseReason::PingTimeout => Self::PingTimeout,
            CloseReason::ParseError => Self::ParseError,
            CloseReason::ServerShuttingDown => Self::ServerShuttingDown,
            CloseReason::SlowConsumer => Self::SlowConsumer,
            _ => Self::ForcedClose,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client sent when it connected.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Handshake {
    /// The auth payload of the CONNECT packet (`{}` when none was sent).
    pub auth: RawJson,
    /// When the socket connected.
    pub time: SystemTime,
    /// The HTTP request that opened the connection: headers, URL (with the
    /// query), the client's address.
    pub request: Arc<crate::engine::RequestInfo>,
}

impl Handshake {
    /// The request headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.request.headers
    }

    /// A query parameter of the connection URL, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.request.query(name)
    }

    /// The connection URL (path and query).
    pub fn url(&self) -> &http::Uri {
        &self.request.uri
    }

    /// The client's address, when known.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.request.remote_addr
    }
}

pub(crate) struct Socket {
    id: Arc<str>,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) client: Arc<Client>,
    handshake: Handshake,
    handlers: RwLock<HashMap<String, EventHandler>>,
    any_handler: RwLock<Option<EventHandler>>,
    on_disconnect: Mutex<Vec<DisconnectHandler>>,
    acks: Mutex<HashMap<u64, oneshot::Sender<Args>>>,
    next_ack: AtomicU64,
    rooms: Mutex<HashSet<String>>,
    connected: AtomicBool,
}

/// A handle to a socket, given to handlers. Cheap to clone.
#[derive(Clone)]
pub struct SocketRef(Arc<Socket>);

impl fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketRef")
            .field("id", &self.0.id)
            .field("ns", &self.0.ns.name)
            .finish()
    }
}

impl SocketRef {
    pub(crate) fn new(ns: Arc<Namespace>, client: Arc<Client>, auth: RawJson) -> Self {
        let request = client.esock.request_arc();
        Self(Arc::new(Socket {
            id: Arc::from(crate::engine::new_socket_id()),
            ns,
            client,
            handshake: Handshake {
                auth,
                time: SystemTime::now(),
                request,
            },
            handlers: RwLock::new(HashMap::new()),
            any_handler: RwLock::new(None),
            on_disconnect: Mutex::new(Vec::new()),
            acks: Mutex::new(HashMap::new()),
            next_ack: AtomicU64::new(0),
            rooms: Mutex::new(HashSet::new()),
            connected: AtomicBool::new(true),
        }))
    }

    /// The socket id: per namespace, distinct from the Engine.IO session id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub(crate) fn client(&self) -> &Arc<Client> {
        &self.0.client
    }

    pub(crate) fn id_arc(&self) -> Arc<str> {
        self.0.id.clone()
    }

    /// The namespace name.
    pub fn nsp(&self) -> &str {
        &self.0.ns.name
    }

    pub(crate) fn nsp_str(&self) -> sockio_core::engine::Str {
        self.0.ns.nsp.clone()
    }

    /// What the client sent when it connected.
    pub fn handshake(&self) -> &Handshake {
        &self.0.handshake
    }

    /// Whether the socket is still connected.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// The server this socket belongs to (`None` once it was closed).
    pub fn io(&self) -> Option<SocketIo> {
        self.0.ns.io.upgrade().map(|inner| SocketIo { inner })
    }

    fn io_inner(&self) -> Option<Arc<IoInner>> {
        self.0.ns.io.upgrade()
    }

    /// Handles event `event`: the handler gets the socket, the arguments
    /// (without the event name) and, when the client asked for one, an
    /// [`AckSender`]. A second handler for the same event replaces the
    /// first.
    pub fn on<F>(&self, event: &str, handler: F)
    where
        F: Fn(Self, Args, Option<AckSender>) + Send + Sync + 'static,
    {
        if let Ok(mut handlers) = self.0.handlers.write() {
            handlers.insert(event.to_owned(), Arc::new(handler));
        }
    }

    /// Handles event `event` with its arguments deserialized into `T`: one
    /// argument becomes `T` itself, several become `T` as a sequence (a
    /// tuple). Binary arguments deserialize as bytes (`bytes::Bytes`,
    /// `Vec<u8>`). When they do not fit `T`, the handler does not run: the
    /// failure is logged (target `sockio_server::socketio`, warn) and, if
    /// the client asked for an ack, it gets `{"error": "…"}`.
    pub fn on_typed<T, F>(&self, event: &str, handler: F)
    where
        T: serde::de::DeserializeOwned + 'static,
        F: Fn(Self, T, Option<AckSender>) + Send + Sync + 'static,
    {
        let name = event.to_owned();
        self.on(event, move |socket, args, ack| {
            let parsed = if args.len() == 1 {
                args.deserialize::<T>(0)
            } else {
                args.deserialize_from::<T>(0)
            };
            match parsed {
                Ok(value) => handler(socket, value, ack),
                Err(error) => {
                    tracing::warn!(
                        target: "sockio_server::socketio",
                        event = %name,
                        socket = %socket.id(),
                        %error,
                        "event arguments did not deserialize; handler skipped"
                    );
                    if let Some(ack) = ack {
                        let _ = ack.send(
                            &serde_json::json!({ "error": format!("invalid arguments: {error}") }),
                        );
                    }
                }
            }
        });
    }

    /// Handles every event that has no handler of its own; the arguments
    /// include the event name first.
    pub fn on_any<F>(&self, handler: F)
    where
        F: Fn(Self, Args, Option<AckSender>) + Send + Sync + 'static,
    {
        if let Ok(mut any) = self.0.any_handler.write() {
            *any = Some(Arc::new(handler));
        }
    }

    /// Runs `handler` when the socket disconnects, with the reason.
    pub fn on_disconnect<F>(&self, handler: F)
    where
        F: FnOnce(Self, DisconnectReason) + Send + Sync + 'static,
    {
        if let Ok(mut handlers) = self.0.on_disconnect.lock() {
            handlers.push(Box::new(handler));
        }
    }

    /// Emits `event` with one argument. False if the data does not
    /// serialize or the socket is gone.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        match event_args(event, data) {
            Ok(args) => self.send_packet(&Packet::event(self.0.ns.nsp.clone(), args)),
            Err(_) => false,
        }
    }

    /// Emits `event` with already-built arguments (any number, binary
    /// included; the event name is added in front).
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.send_packet(&Packet::event(
            self.0.ns.nsp.clone(),
            with_event_name(event, args),
        ))
    }

    /// Emits `event` and waits for the client's acknowledgement, at most
    /// the configured ack timeout.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Args, AckError> {
        let args = event_args(event, data).map_err(|e| AckError::Serialize(e.to_string()))?;
        let timeout = self
            .io_inner()
            .map_or(Duration::from_secs(30), |io| io.config.ack_timeout);
        self.emit_args_with_ack(args, timeout).await
    }

    /// Emits `event` with `args` and waits at most `timeout` for the ack.
    pub async fn emit_args_with_timeout(
        &self,
        event: &str,
        args: Args,
        timeout: Duration,
    ) -> Result<Args, AckError> {
        self.emit_args_with_ack(with_event_name(event, args), timeout)
            .await
    }

    async fn emit_args_with_ack(&self, args: Args, timeout: Duration) -> Result<Args, AckError> {
        // Ids stay below 2^53 (exact in JavaScript), wrapping around.
        let id = self.0.next_ack.fetch_add(1, Ordering::Relaxed) % (MAX_ACK_ID + 1);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut acks) = self.0.acks.lock() {
            acks.insert(id, tx);
        }
        // However the wait ends (answer, timeout, disconnect, or the caller
        // dropping this future), the entry goes.
        let _entry = PendingAck { socket: self, id };
        if !self.send_packet(&Packet::event(self.0.ns.nsp.clone(), args).with_id(id)) {
            return Err(AckError::Disconnected);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => Err(AckError::Timeout),
        }
    }

    fn forget_ack(&self, id: u64) {
        if let Ok(mut acks) = self.0.acks.lock() {
            acks.remove(&id);
        }
    }

    /// How many acknowledgements this socket waits for: `emit_with_ack`
    /// calls neither answered nor ended (by their timeout, a disconnect,
    /// or their caller dropping them).
    pub fn pending_acks(&self) -> usize {
        self.0.acks.lock().map_or(0, |a| a.len())
    }

    /// Joins `room`.
    pub fn join(&self, room: impl Into<String>) {
        self.0.ns.join(self, room.into());
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) {
        self.0.ns.leave(self, room);
    }

    /// The rooms the socket is in (its own id among them).
    pub fn rooms(&self) -> Vec<String> {
        self.0
            .rooms
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn note_room(&self, room: String, joined: bool) {
        if let Ok(mut rooms) = self.0.rooms.lock() {
            if joined {
                rooms.insert(room);
            } else {
                rooms.remove(&room);
            }
        }
    }

    /// Targets the sockets in `room`, this one excepted.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Targets every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except(self.id().to_owned())
    }

    /// Disconnects the socket from its namespace (the client sees "io
    /// server disconnect" and does not reconnect by itself).
    pub fn disconnect(&self) {
        if self.connected() {
            self.send_packet(&Packet::disconnect(self.0.ns.nsp.clone()));
            self.0.client.forget(self.nsp());
            self.closed(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Sends a packet to this socket's client. False once gone.
    pub(crate) fn send_packet(&self, packet: &Packet) -> bool {
        self.connected() && self.0.client.send_packet(packet)
    }

    /// An event from the client.
    pub(crate) fn dispatch_event(&self, packet: Packet) {
        let id = packet.id;
        let Data::Args(args) = packet.data else {
            return;
        };
        let Some(name) = args
            .get(0)
            .and_then(|n| n.as_string())
            .map(|n| n.into_owned())
        else {
            return;
        };
        let handler = self
            .0
            .handlers
            .read()
            .ok()
            .and_then(|h| h.get(&name).cloned());
        let ack = id.map(|id| AckSender::new(self.clone(), id));
        match handler {
            Some(handler) => {
                let socket = self.clone();
                self.guard(move || handler(socket, without_event_name(args), ack));
            }
            None => {
                let any = self.0.any_handler.read().ok().and_then(|h| h.clone());
                if let Some(any) = any {
                    let socket = self.clone();
                    self.guard(move || any(socket, args, ack));
                }
            }
        }
    }

    /// Runs a user handler; if it panics, the panic stays with this socket:
    /// it is disconnected (the client sees "io server disconnect") and
    /// every other socket and the server go on.
    pub(crate) fn guard(&self, handler: impl FnOnce()) {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler)).is_err() {
            self.disconnect();
        }
    }

    /// An acknowledgement from the client; unknown ids are ignored, as in
    /// the reference.
    pub(crate) fn dispatch_ack(&self, packet: &Packet) {
        let (Some(id), Some(args)) = (packet.id, packet.args()) else {
            return;
        };
        let waiter = self.0.acks.lock().ok().and_then(|mut a| a.remove(&id));
        if let Some(waiter) = waiter {
            let _ = waiter.send(args.clone());
        }
    }

    /// The socket is gone: leaves its rooms, fails pending acks, runs the
    /// disconnect handlers.
    pub(crate) fn closed(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let rooms = self.0.rooms.lock().map(|r| r.clone()).unwrap_or_default();
        self.0.ns.remove(self, &rooms);
        if let Ok(mut acks) = self.0.acks.lock() {
            acks.clear();
        }
        let handlers = self
            .0
            .on_disconnect
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for handler in handlers {
            let socket = self.clone();
            // A panicking disconnect handler must not stop the others.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                handler(socket, reason);
            }));
        }
        if let Ok(mut h) = self.0.handlers.write() {
            h.clear();
        }
    }
}

/// An entry of the pending-ack table, removed when the wait for it ends.
struct PendingAck<'a> {
    socket: &'a SocketRef,
    id: u64,
}

impl Drop for PendingAck<'_> {
    fn drop(&mut self) {
        self.socket.forget_ack(self.id);
    }
}

/// The arguments of event `event` carrying `data` as its one argument.
pub(crate) fn event_args<T: Serialize + ?Sized>(
    event: &str,
    data: &T,
) -> Result<Args, sockio_core::socket::JsonError> {
    let mut args = Args::event(event);
    args.push(data)?;
    Ok(args)
}

/// `args` with `event` put in front.
pub(crate) fn with_event_name(event: &str, args: Args) -> Args {
    let (raw, attachments) = args.into_parts();
    let mut all = Vec::with_capacity(raw.len() + 1);
    all.push(RawJson::string(event));
    all.extend(raw);
    Args::from_parts(all, attachments)
}

/// The arguments of an event without its name (placeholders keep their
/// numbering: attachments do not move).
fn without_event_name(args: Args) -> Args {
    let (mut raw, attachments) = args.into_parts();
    if !raw.is_empty() {
        raw.remove(0);
    }
    Args::from_parts(raw, attachments)
}
