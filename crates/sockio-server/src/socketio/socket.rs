//! A socket: one client connected to one namespace.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sockio_core::adapter::{AckSink, BroadcastFlags, BroadcastOptions, PersistedSession, SocketId};
use sockio_core::socket::{Args, Data, Packet, RawJson};
use tokio::sync::oneshot;

use super::ack::{AckError, AckSender};
use super::broadcast::{BroadcastOperator, SharedFrames};
use super::client::Client;
use super::emit::SocketEmit;
use super::handshake::Handshake;
use super::namespace::Namespace;
use super::queue::{self, Job};
use super::reason::DisconnectReason;
use super::{IoInner, SocketIo};

pub(crate) type EventHandler = Arc<dyn Fn(SocketRef, Args, Option<AckSender>) + Send + Sync>;
type AsyncEventHandler = Arc<dyn Fn(SocketRef, Args, Option<AckSender>) -> Job + Send + Sync>;

/// An event handler: run on the reader's task, or on the socket's queue.
#[derive(Clone)]
enum Handler {
    Sync(EventHandler),
    Async(AsyncEventHandler),
}
type LifecycleHandler = Box<dyn FnOnce(SocketRef, DisconnectReason) + Send + Sync>;
type OutgoingHandler = Arc<dyn Fn(&SocketRef, &Args) + Send + Sync>;
type PacketMiddleware = Arc<dyn Fn(&SocketRef, &Args) -> Result<(), String> + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&SocketRef, &str) + Send + Sync>;

/// Pending acknowledgements above this count are checked for abandoned
/// broadcast entries whenever another is added.
const ACK_PRUNE_THRESHOLD: usize = 256;

/// Who waits for an acknowledgement.
enum AckWaiter {
    /// One `emit_with_ack` on this socket.
    One(oneshot::Sender<Args>),
    /// A broadcast gathering the answers of many sockets (weak: once it
    /// gave up, its entries are dead).
    Many(Weak<dyn AckSink>),
}

/// The fields a broadcast reads for every receiver come first and, with
/// `repr(C)`, stay in declaration order: right after the `Arc`'s counts,
/// in the cache line the broadcast's reference-count increment already
/// brought in.
#[repr(C)]
pub(crate) struct Socket {
    connected: AtomicBool,
    /// Whether an outgoing listener is set (checked per packet sent).
    has_outgoing: AtomicBool,
    parser: sockio_core::socket::Parser,
    /// The client's Engine.IO session, kept here too so that a broadcast
    /// reaches the session without going through the client.
    esock: crate::engine::EngineSocket,
    id: SocketId,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) client: Arc<Client>,
    closing: AtomicBool,
    recovered: bool,
    pid: Option<String>,
    handshake: Handshake,
    handlers: RwLock<HashMap<String, Handler>>,
    /// The queue of asynchronous handlers, from the first one registered.
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<Job>>,
    any_handler: RwLock<Option<EventHandler>>,
    any_outgoing: RwLock<Option<OutgoingHandler>>,
    middlewares: RwLock<Vec<PacketMiddleware>>,
    on_error: RwLock<Option<ErrorHandler>>,
    on_disconnecting: Mutex<Vec<LifecycleHandler>>,
    on_disconnect: Mutex<Vec<LifecycleHandler>>,
    acks: Mutex<HashMap<u64, AckWaiter>>,
    data: RwLock<Option<RawJson>>,
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
    /// A new socket, or the one `restored` describes (connection state
    /// recovery: same id, private id and data; its rooms are joined by the
    /// caller).
    pub(crate) fn new(
        ns: Arc<Namespace>,
        client: Arc<Client>,
        auth: RawJson,
        restored: Option<&PersistedSession>,
    ) -> Self {
        let request = client.esock.request_arc();
        let recovery = ns
            .io
            .upgrade()
            .is_some_and(|io| io.config.recovery.is_some());
        let (id, pid, data) = match restored {
            Some(s) => (s.sid.clone(), Some(s.pid.clone()), s.data.clone()),
            None => (
                SocketId::from(crate::engine::new_socket_id()),
                recovery.then(crate::engine::new_socket_id),
                None,
            ),
        };
        let esock = client.esock.clone();
        let parser = client.parser();
        Self(Arc::new(Socket {
            id,
            pid,
            recovered: restored.is_some(),
            ns,
            client,
            esock,
            parser,
            has_outgoing: AtomicBool::new(false),
            handshake: Handshake {
                auth,
                time: SystemTime::now(),
                request,
            },
            handlers: RwLock::new(HashMap::new()),
            queue: std::sync::OnceLock::new(),
            any_handler: RwLock::new(None),
            any_outgoing: RwLock::new(None),
            middlewares: RwLock::new(Vec::new()),
            on_error: RwLock::new(None),
            on_disconnecting: Mutex::new(Vec::new()),
            on_disconnect: Mutex::new(Vec::new()),
            acks: Mutex::new(HashMap::new()),
            data: RwLock::new(data),
            closing: AtomicBool::new(false),
            connected: AtomicBool::new(true),
        }))
    }

    /// The socket id: per namespace, distinct from the Engine.IO session id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub(crate) fn id_arc(&self) -> SocketId {
        self.0.id.clone()
    }

    pub(crate) fn pid(&self) -> Option<&str> {
        self.0.pid.as_deref()
    }

    /// Whether this socket is a recovered session (connection state
    /// recovery): same id, rooms and data as before the client lost its
    /// connection, and the events it missed were sent again.
    pub fn recovered(&self) -> bool {
        self.0.recovered
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

    /// The socket's data, deserialized into `T`; `None` when there is none
    /// or it does not fit `T`. Data is kept as JSON so that it survives
    /// connection state recovery and reaches other servers through
    /// `fetch_sockets`.
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        let data = self.0.data.read().ok()?;
        data.as_ref()?.deserialize::<T>().ok()
    }

    /// Sets the socket's data.
    pub fn set_data<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), sockio_core::socket::JsonError> {
        let raw = RawJson::from_serialize(value)?;
        if let Ok(mut data) = self.0.data.write() {
            *data = Some(raw);
        }
        Ok(())
    }

    pub(crate) fn raw_data(&self) -> Option<RawJson> {
        self.0.data.read().ok()?.clone()
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
            handlers.insert(event.to_owned(), Handler::Sync(Arc::new(handler)));
        }
    }

    /// Handles event `event` with an asynchronous handler. The socket's
    /// events then go through its own queue, run by one task: each handler
    /// (asynchronous or not) starts once the previous one of this socket
    /// finished, so events are handled one at a time in the order they
    /// came, and a slow handler holds up only its own socket. At most 4096
    /// events may wait; past that the socket is disconnected.
    pub fn on_async<F, Fut>(&self, event: &str, handler: F)
    where
        F: Fn(Self, Args, Option<AckSender>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.queue();
        let handler: AsyncEventHandler =
            Arc::new(move |socket, args, ack| Box::pin(handler(socket, args, ack)));
        if let Ok(mut handlers) = self.0.handlers.write() {
            handlers.insert(event.to_owned(), Handler::Async(handler));
        }
    }

    /// The socket's handler queue, started on first use. A panicking
    /// handler disconnects its socket, as a synchronous one does.
    fn queue(&self) -> &tokio::sync::mpsc::Sender<Job> {
        self.0.queue.get_or_init(|| {
            let weak = Arc::downgrade(&self.0);
            queue::spawn(move || {
                if let Some(socket) = weak.upgrade() {
                    Self(socket).disconnect();
                }
            })
        })
    }

    /// Handles event `event` with its arguments deserialized into `T`: one
    /// argument becomes `T` itself, several become `T` as a sequence (a
    /// tuple). Binary arguments deserialize as bytes (`bytes::Bytes`,
    /// `Vec<u8>`). When they do not fit `T`, the handler does not run: the
    /// failure is logged (target `sockio_server::socketio`, warn) and, if
    /// the client asked for an ack, it gets `{"error": "…"}`.
    pub fn on_typed<T, F>(&self, event: &str, handler: F)
    where
        T: DeserializeOwned + 'static,
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

    /// Sees every event sent to this socket (directly or by a broadcast)
    /// just before it goes out; the arguments include the event name first.
    pub fn on_any_outgoing<F>(&self, handler: F)
    where
        F: Fn(&Self, &Args) + Send + Sync + 'static,
    {
        if let Ok(mut any) = self.0.any_outgoing.write() {
            *any = Some(Arc::new(handler));
            self.0.has_outgoing.store(true, Ordering::Release);
        }
    }

    /// Adds a middleware run on each incoming event before its handler, in
    /// the order added (the arguments include the event name first). A
    /// refusal drops the event and goes to the [`SocketRef::on_error`]
    /// handler (or the log).
    pub fn use_middleware<F>(&self, middleware: F)
    where
        F: Fn(&Self, &Args) -> Result<(), String> + Send + Sync + 'static,
    {
        if let Ok(mut m) = self.0.middlewares.write() {
            m.push(Arc::new(middleware));
        }
    }

    /// Runs `handler` when an event middleware refuses an event.
    pub fn on_error<F>(&self, handler: F)
    where
        F: Fn(&Self, &str) + Send + Sync + 'static,
    {
        if let Ok(mut h) = self.0.on_error.write() {
            *h = Some(Arc::new(handler));
        }
    }

    /// Runs `handler` when the socket is about to disconnect, while it is
    /// still in its rooms.
    pub fn on_disconnecting<F>(&self, handler: F)
    where
        F: FnOnce(Self, DisconnectReason) + Send + Sync + 'static,
    {
        if let Ok(mut handlers) = self.0.on_disconnecting.lock() {
            handlers.push(Box::new(handler));
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
        SocketEmit::new(self.clone()).emit(event, data)
    }

    /// Emits `event` with already-built arguments (any number, binary
    /// included; the event name is added in front).
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        SocketEmit::new(self.clone()).emit_args(event, args)
    }

    /// Emits `event` and waits for the client's acknowledgement, at most
    /// the configured ack timeout.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Args, AckError> {
        SocketEmit::new(self.clone())
            .emit_with_ack(event, data)
            .await
    }

    /// Emits `event` with `args` and waits at most `timeout` for the ack.
    pub async fn emit_args_with_timeout(
        &self,
        event: &str,
        args: Args,
        timeout: Duration,
    ) -> Result<Args, AckError> {
        SocketEmit::new(self.clone())
            .timeout(timeout)
            .emit_args_with_ack(event, args)
            .await
    }

    /// The next emit may be dropped if the client is not ready to receive
    /// it right now (its transport is busy or, with polling, no request is
    /// waiting).
    pub fn volatile(&self) -> SocketEmit {
        SocketEmit::new(self.clone()).volatile()
    }

    /// Whether the next emit is compressed (default true; permessage-deflate
    /// or gzip where negotiated).
    pub fn compress(&self, compress: bool) -> SocketEmit {
        SocketEmit::new(self.clone()).compress(compress)
    }

    /// How long the next `emit_with_ack` waits.
    pub fn timeout(&self, timeout: Duration) -> SocketEmit {
        SocketEmit::new(self.clone()).timeout(timeout)
    }

    pub(crate) fn default_ack_timeout(&self) -> Duration {
        self.io_inner()
            .map_or(Duration::from_secs(30), |io| io.config.ack_timeout)
    }

    /// Sends an event: with connection state recovery on, through the
    /// adapter so that it gets an offset and is kept for replay (as the
    /// reference does), else straight to the client.
    pub(crate) fn send_event(&self, args: Args, flags: BroadcastFlags, ack: Option<u64>) -> bool {
        if !self.connected() {
            return false;
        }
        let mut packet = Packet::event(self.0.ns.nsp.clone(), args);
        packet.id = ack;
        if ack.is_none() && self.0.pid.is_some() {
            let mut opts = BroadcastOptions::to([self.id_arc()]);
            opts.flags = flags;
            return self.0.ns.adapter.broadcast(packet, opts).is_ok();
        }
        self.notify_outgoing(&packet);
        self.0.client.send_packet_with(&packet, &flags)
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.0.ns.next_id()
    }

    /// Registers a waiter for ack `id` of this socket.
    pub(crate) fn expect_ack(&self, id: u64) -> oneshot::Receiver<Args> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut acks) = self.0.acks.lock() {
            acks.insert(id, AckWaiter::One(tx));
        }
        rx
    }

    pub(crate) fn expect_shared_ack(&self, id: u64, sink: &Arc<dyn AckSink>) {
        if let Ok(mut acks) = self.0.acks.lock() {
            if acks.len() >= ACK_PRUNE_THRESHOLD {
                acks.retain(|_, w| match w {
                    AckWaiter::One(tx) => !tx.is_closed(),
                    AckWaiter::Many(sink) => sink.strong_count() > 0,
                });
            }
            acks.insert(id, AckWaiter::Many(Arc::downgrade(sink)));
        }
    }

    pub(crate) fn forget_ack(&self, id: u64) {
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
        self.join_all([room]);
    }

    /// Joins every room of `rooms`.
    pub fn join_all<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        if self.0.closing.load(Ordering::Acquire) {
            return;
        }
        let rooms: Vec<_> = rooms.into_iter().map(|r| Arc::from(r.into())).collect();
        self.0.ns.adapter.add_all(&self.0.id, &rooms);
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) {
        self.0.ns.adapter.del(&self.0.id, room);
    }

    /// Leaves every room (its own included).
    pub fn leave_all(&self) {
        self.0.ns.adapter.del_all(&self.0.id);
    }

    /// The rooms the socket is in (its own id among them).
    pub fn rooms(&self) -> Vec<String> {
        self.0
            .ns
            .adapter
            .socket_rooms(&self.0.id)
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    /// Targets the sockets in `room`, this one excepted.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Same as [`SocketRef::to`].
    pub fn within(&self, room: impl Into<String>) -> BroadcastOperator {
        self.to(room)
    }

    /// Targets every socket of the namespace but those in `room` and this
    /// one.
    pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    /// Targets every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except(self.id().to_owned())
    }

    /// Disconnects the socket from its namespace (the client sees "io
    /// server disconnect" and does not reconnect by itself).
    pub fn disconnect(&self) {
        self.disconnect_with(false);
    }

    /// Disconnects the socket; with `close`, closes its client's whole
    /// connection (every namespace) as well.
    pub fn disconnect_with(&self, close: bool) {
        if !self.connected() {
            return;
        }
        if close {
            self.0.client.close_all();
        } else {
            self.0
                .client
                .send_packet(&Packet::disconnect(self.0.ns.nsp.clone()));
            self.0.client.forget(self.nsp());
            self.closed(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Sends a packet to this socket's client. False once gone.
    pub(crate) fn send_packet(&self, packet: &Packet) -> bool {
        self.connected() && self.0.client.send_packet(packet)
    }

    /// Hands a broadcast's frames (encoded once for all receivers) to this
    /// socket's client.
    pub(crate) fn deliver_shared(
        &self,
        frames: &mut SharedFrames,
        packet: &Packet,
        flags: &BroadcastFlags,
    ) -> bool {
        if !self.connected() {
            return false;
        }
        self.notify_outgoing(packet);
        super::client::send_frames(&self.0.esock, frames.get(self.0.parser, packet), flags)
    }

    fn notify_outgoing(&self, packet: &Packet) {
        if !self.0.has_outgoing.load(Ordering::Acquire) {
            return;
        }
        let listener = match self.0.any_outgoing.read() {
            Ok(l) => l.clone(),
            Err(_) => None,
        };
        if let (Some(listener), Some(args)) = (listener, packet.args()) {
            let socket = self.clone();
            self.guard(|| listener(&socket, args));
        }
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
        let middlewares = self
            .0
            .middlewares
            .read()
            .map(|m| m.clone())
            .unwrap_or_default();
        for middleware in middlewares {
            let mut refusal = None;
            self.guard(|| refusal = middleware(self, &args).err());
            if let Some(error) = refusal {
                self.refused(&name, &error);
                return;
            }
            if !self.connected() {
                return;
            }
        }
        let handler = self
            .0
            .handlers
            .read()
            .ok()
            .and_then(|h| h.get(&name).cloned());
        let ack = id.map(|id| AckSender::new(self.clone(), id));
        let socket = self.clone();
        let job: Box<dyn FnOnce() -> Option<Job> + Send> = match handler {
            Some(Handler::Sync(handler)) => Box::new(move || {
                handler(socket, without_event_name(args), ack);
                None
            }),
            Some(Handler::Async(handler)) => {
                Box::new(move || Some(handler(socket, without_event_name(args), ack)))
            }
            None => {
                let Some(any) = self.0.any_handler.read().ok().and_then(|h| h.clone()) else {
                    return;
                };
                Box::new(move || {
                    any(socket, args, ack);
                    None
                })
            }
        };
        match self.0.queue.get() {
            None => self.guard(move || {
                // No queue: only synchronous handlers exist.
                let _ = job();
            }),
            Some(queue) => {
                let work: Job = Box::pin(async move {
                    if let Some(future) = job() {
                        future.await;
                    }
                });
                if queue.try_send(work).is_err() {
                    tracing::warn!(
                        target: "sockio_server::socketio",
                        socket = %self.id(),
                        "too many events waiting for their handlers; socket disconnected"
                    );
                    self.disconnect();
                }
            }
        }
    }

    fn refused(&self, event: &str, error: &str) {
        let handler = self.0.on_error.read().ok().and_then(|h| h.clone());
        match handler {
            Some(handler) => self.guard(|| handler(self, error)),
            None => tracing::debug!(
                target: "sockio_server::socketio",
                socket = %self.id(),
                %event,
                %error,
                "event refused by a middleware"
            ),
        }
    }

    /// Runs a user handler; if it panics, the panic stays with this socket:
    /// it is disconnected (the client sees "io server disconnect") and
    /// every other socket and the server go on.
    pub(crate) fn guard(&self, handler: impl FnOnce()) {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler)).is_err() {
            tracing::warn!(
                target: "sockio_server::socketio",
                socket = %self.id(),
                "a handler panicked; socket disconnected"
            );
            self.disconnect();
        }
    }

    /// An acknowledgement from the client; unknown ids are ignored, as in
    /// the reference, and each id is answered at most once.
    pub(crate) fn dispatch_ack(&self, packet: &Packet) {
        let (Some(id), Some(args)) = (packet.id, packet.args()) else {
            return;
        };
        let waiter = self.0.acks.lock().ok().and_then(|mut a| a.remove(&id));
        match waiter {
            Some(AckWaiter::One(tx)) => {
                let _ = tx.send(args.clone());
            }
            Some(AckWaiter::Many(sink)) => {
                if let Some(sink) = sink.upgrade() {
                    sink.ack(args.clone());
                }
            }
            None => {}
        }
    }

    /// Runs (once: they are taken) the `disconnecting` or `disconnect`
    /// handlers; a panicking one does not stop the others.
    fn run_lifecycle(&self, handlers: &Mutex<Vec<LifecycleHandler>>, reason: DisconnectReason) {
        let handlers = handlers
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for handler in handlers {
            let socket = self.clone();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                handler(socket, reason);
            }));
        }
    }

    /// The socket is gone: `disconnecting` handlers run (still in its
    /// rooms), its session is kept if it may recover, it leaves its rooms,
    /// pending acks fail, the `disconnect` handlers run.
    pub(crate) fn closed(&self, reason: DisconnectReason) {
        if self.0.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        self.run_lifecycle(&self.0.on_disconnecting, reason);
        if let Some(pid) = &self.0.pid
            && reason.is_recoverable()
        {
            self.0.ns.adapter.persist_session(PersistedSession::new(
                self.id_arc(),
                pid.clone(),
                self.0.ns.adapter.socket_rooms(&self.0.id),
                self.raw_data(),
            ));
        }
        let left = self.0.ns.remove(self);
        self.0.connected.store(false, Ordering::Release);
        if let Ok(mut acks) = self.0.acks.lock() {
            acks.clear();
        }
        self.run_lifecycle(&self.0.on_disconnect, reason);
        if let Ok(mut h) = self.0.handlers.write() {
            h.clear();
        }
        if left == 0
            && self.0.ns.dynamic
            && let Some(io) = self.io_inner()
        {
            io.namespace_emptied(&self.0.ns);
        }
    }
}

/// An entry of the pending-ack table, removed when the wait for it ends.
pub(crate) struct PendingAck<'a> {
    pub(crate) socket: &'a SocketRef,
    pub(crate) id: u64,
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
pub(crate) fn without_event_name(args: Args) -> Args {
    let (mut raw, attachments) = args.into_parts();
    if !raw.is_empty() {
        raw.remove(0);
    }
    Args::from_parts(raw, attachments)
}
