//! A socket: one client connected to one namespace.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sockio_core::adapter::{AckSink, BroadcastFlags, BroadcastOptions, PersistedSession, SocketId};
use sockio_core::socket::{Args, DataError, FromArgs, IntoArgs, JsonError, Packet, RawJson};
use tokio::sync::oneshot;

use super::ack::AckSender;
use super::broadcast::{BroadcastOperator, SharedFrames};
use super::client::Client;
use super::emit::SocketEmit;
use super::errors::{AckError, EmitError};
use super::extract::{Parts, kind};
use super::handler::{BoxedHandler, Handler};
use super::handshake::Handshake;
use super::namespace::Namespace;
use super::queue::{self, Job};
use super::reason::DisconnectReason;
use super::{IoInner, SocketIo};

/// An event's values (its name first) and its ack id.
type HeldEvent = (Args, Option<u64>);
type OutgoingHandler = Arc<dyn Fn(&SocketRef, &Args) + Send + Sync>;
type PacketMiddleware = Arc<dyn Fn(&SocketRef, &Args) -> Result<(), String> + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&SocketRef, &str) + Send + Sync>;

/// Who waits for an acknowledgement.
enum AckWaiter {
    /// One `emit_with_ack` on this socket.
    One(oneshot::Sender<Result<Args, AckError>>),
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
    handlers: RwLock<HashMap<String, BoxedHandler>>,
    /// The queue of asynchronous handlers, from the first one registered.
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<Job>>,
    any_handler: RwLock<Option<BoxedHandler>>,
    any_outgoing: RwLock<Option<OutgoingHandler>>,
    middlewares: RwLock<Vec<PacketMiddleware>>,
    on_error: RwLock<Option<ErrorHandler>>,
    on_disconnecting: Mutex<Vec<BoxedHandler>>,
    on_disconnect: Mutex<Vec<BoxedHandler>>,
    acks: Mutex<HashMap<u64, AckWaiter>>,
    data: RwLock<Option<RawJson>>,
    extensions: Extensions,
    /// Until the connect handler has run (or been queued), the events
    /// that come are held here, then handled in order: an event the
    /// client sends right after its CONNECT answer must find the handlers
    /// the connect handler registers.
    held: Mutex<Option<Vec<HeldEvent>>>,
    /// Whether `held` may hold events (checked before locking it).
    holding: AtomicBool,
}

/// Typed values attached to a socket ([`SocketRef::extensions`]): at most
/// one per type, kept on this server as they are (no serialization), and
/// read by handlers with the [`Extension`](super::Extension) extractor.
#[derive(Default)]
pub struct Extensions(RwLock<http::Extensions>);

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions").finish_non_exhaustive()
    }
}

impl Extensions {
    /// Stores `value`, returning the value of its type stored before.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        lock_write(&self.0).insert(value)
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        lock_read(&self.0).get::<T>().cloned()
    }

    /// Runs `f` on the value of type `T` in place (to update it without a
    /// clone); `None` when there is none.
    pub fn with_mut<T: Clone + Send + Sync + 'static, R>(
        &self,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        lock_write(&self.0).get_mut::<T>().map(f)
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        lock_write(&self.0).remove::<T>()
    }

    /// Whether a value of type `T` is stored.
    pub fn contains<T: Clone + Send + Sync + 'static>(&self) -> bool {
        lock_read(&self.0).get::<T>().is_some()
    }
}

use crate::sync::{lock, lock_read, lock_write};

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
            extensions: Extensions::default(),
            held: Mutex::new(Some(Vec::new())),
            holding: AtomicBool::new(true),
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

    /// The socket's typed extensions: per-socket state of any type, kept
    /// on this server without serialization, read by handlers with the
    /// [`Extension`](super::Extension) extractor. For data that must
    /// survive connection state recovery or be read from other servers,
    /// see [`SocketRef::set_data`].
    pub fn extensions(&self) -> &Extensions {
        &self.0.extensions
    }

    /// The socket's data (socket.io's `socket.data`), read as `T`:
    /// `Ok(None)` when none was set. It is kept as JSON because it crosses
    /// servers (`fetch_sockets` with a remote adapter) and survives
    /// connection state recovery; for state read often on this server
    /// only, [`SocketRef::extensions`] avoids the parsing.
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, DataError> {
        let data = lock_read(&self.0.data);
        data.as_ref()
            .map(|d| d.deserialize::<T>().map_err(DataError::Json))
            .transpose()
    }

    /// Sets the socket's data (see [`SocketRef::data`]).
    pub fn set_data<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), JsonError> {
        let raw = RawJson::from_serialize(value)?;
        *lock_write(&self.0.data) = Some(raw);
        Ok(())
    }

    pub(crate) fn raw_data(&self) -> Option<RawJson> {
        lock_read(&self.0.data).clone()
    }

    /// The shared state of type `T` given to the builder.
    pub(crate) fn server_state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.io_inner()?.config.state.get::<T>().cloned()
    }

    /// Handles event `event` (replacing an earlier handler of it). The
    /// handler is a function or closure, sync or async, whose parameters
    /// are extractors: the socket, the values (`Data<T>`), the ack
    /// (`Option<AckSender>`), and more (see [`extract`](super::extract)).
    ///
    /// Events of one socket reach its handlers one at a time, in the order
    /// the client sent them. Sync handlers run on the task reading the
    /// client's transport and must not block. Once the socket has an async
    /// handler, all its events go through a queue of its own, run by one
    /// task: each handler starts when the previous one of this socket has
    /// finished (a slow handler holds up its own socket only). At most
    /// 4096 events may wait; past that the socket is disconnected.
    ///
    /// ```
    /// use serde::Deserialize;
    /// use sockio_server::socketio::{AckSender, Data, SocketIo, SocketRef, TryData};
    ///
    /// #[derive(Deserialize)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// let io = SocketIo::builder().build();
    /// io.ns("/", |socket: SocketRef| {
    ///     socket.on("move", |socket: SocketRef, Data(m): Data<Move>| {
    ///         socket.broadcast().emit("moved", (socket.id(), m.x, m.y)).ok();
    ///     });
    ///     socket.on("sum", |TryData(v): TryData<(i64, i64)>, ack: Option<AckSender>| {
    ///         let reply = v.map(|(a, b)| a + b).map_err(|e| e.to_string());
    ///         if let Some(ack) = ack {
    ///             ack.send(reply.ok()).ok();
    ///         }
    ///     });
    /// });
    /// ```
    pub fn on<M, H: Handler<kind::Event, M>>(&self, event: &str, handler: H) {
        let handler = BoxedHandler::new(handler);
        if handler.is_async {
            self.queue();
        }
        lock_write(&self.0.handlers).insert(event.to_owned(), handler);
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

    pub(crate) fn start_queue(&self) {
        self.queue();
    }

    /// Runs the namespace's connect handler for this socket: at once if it
    /// is sync, else first on the socket's queue.
    pub(crate) fn run_connect_handler(&self, handler: &BoxedHandler) {
        let parts = Parts::new(self.clone()).with_auth(self);
        match self.0.queue.get() {
            Some(queue) if handler.is_async => {
                let handler = handler.clone();
                let socket = self.clone();
                let job: Job = Box::pin(async move {
                    let mut job = None;
                    socket.guard(|| match handler.call(parts) {
                        Ok(j) => job = j,
                        Err(error) => socket.refused("connection", &error.to_string()),
                    });
                    if let Some(job) = job {
                        job.await;
                    }
                });
                if queue.try_send(job).is_err() {
                    self.disconnect();
                }
            }
            _ => self.guard(|| {
                if let Err(error) = handler.call(parts) {
                    self.refused("connection", &error.to_string());
                }
            }),
        }
    }

    /// Handles every event that has no handler of its own (take the name
    /// with the [`Event`](super::Event) extractor).
    pub fn on_any<M, H: Handler<kind::Event, M>>(&self, handler: H) {
        let handler = BoxedHandler::new(handler);
        if handler.is_async {
            self.queue();
        }
        *lock_write(&self.0.any_handler) = Some(handler);
    }

    /// Sees every event sent to this socket (directly or by a broadcast)
    /// just before it goes out; the arguments include the event name first.
    pub fn on_any_outgoing<F>(&self, handler: F)
    where
        F: Fn(&Self, &Args) + Send + Sync + 'static,
    {
        {
            let mut any = lock_write(&self.0.any_outgoing);
            *any = Some(Arc::new(handler));
            self.0.has_outgoing.store(true, Ordering::Release);
        }
    }

    /// Adds a middleware run on each incoming event before its handler, in
    /// the order added, as socket.io's `socket.use` (the arguments include
    /// the event name first). A refusal drops the event and goes to the
    /// [`SocketRef::on_error`] handler (or the log).
    pub fn use_middleware<F>(&self, middleware: F)
    where
        F: Fn(&Self, &Args) -> Result<(), String> + Send + Sync + 'static,
    {
        lock_write(&self.0.middlewares).push(Arc::new(middleware));
    }

    /// Runs `handler` when an event is dropped: refused by a middleware,
    /// or its handler's parameters could not be extracted (values that do
    /// not fit `Data<T>`). Without it, these go to the log.
    pub fn on_error<F>(&self, handler: F)
    where
        F: Fn(&Self, &str) + Send + Sync + 'static,
    {
        *lock_write(&self.0.on_error) = Some(Arc::new(handler));
    }

    /// Runs `handler` when the socket is about to disconnect, while it is
    /// still in its rooms (extractors: the socket, the
    /// [`DisconnectReason`], state, extensions). An async handler runs
    /// here up to its first `.await`, which is where it still sees the
    /// rooms; the rest runs on a task after the socket left them.
    pub fn on_disconnecting<M, H: Handler<kind::Disconnect, M>>(&self, handler: H) {
        lock(&self.0.on_disconnecting).push(BoxedHandler::new(handler));
    }

    /// Runs `handler` when the socket has disconnected (extractors as for
    /// [`SocketRef::on_disconnecting`]).
    pub fn on_disconnect<M, H: Handler<kind::Disconnect, M>>(&self, handler: H) {
        lock(&self.0.on_disconnect).push(BoxedHandler::new(handler));
    }

    /// Emits `event` to this socket with `data` by the argument model: `()`
    /// no value, a tuple one value per element, any other value one;
    /// `Bytes` anywhere is binary; [`Args`] as it is.
    ///
    /// An error says why nothing was sent: the data does not serialize,
    /// the socket is disconnected, or the client's send queue is full.
    pub fn emit(&self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        SocketEmit::new(self.clone()).emit(event, data)
    }

    /// Emits `event` and waits for the client's acknowledgement, read as
    /// `T` by the argument model (`Args` for the values as they came), at
    /// most the server's ack timeout (see [`SocketRef::timeout`]).
    pub async fn emit_with_ack<T: FromArgs>(
        &self,
        event: &str,
        data: impl IntoArgs,
    ) -> Result<T, AckError> {
        SocketEmit::new(self.clone())
            .emit_with_ack(event, data)
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
    pub(crate) fn send_event(
        &self,
        args: Args,
        flags: BroadcastFlags,
        ack: Option<(u64, Instant)>,
    ) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        if ack.is_none() && self.0.pid.is_some() {
            let mut opts = BroadcastOptions::to([self.id_arc()]);
            opts.flags = flags;
            let packet = Packet::event(self.0.ns.nsp.clone(), args);
            return self
                .0
                .ns
                .adapter
                .broadcast(packet, opts)
                .map_err(EmitError::Adapter);
        }
        self.notify_outgoing(&args);
        self.0.client.emit(self.nsp(), args, &flags, ack)
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.0.ns.next_id()
    }

    /// Registers a waiter for ack `id` of this socket.
    pub(crate) fn expect_ack(&self, id: u64) -> oneshot::Receiver<Result<Args, AckError>> {
        let (tx, rx) = oneshot::channel();
        lock(&self.0.acks).insert(id, AckWaiter::One(tx));
        rx
    }

    /// Registers a broadcast's gatherer for ack `id` of this socket, due by
    /// `deadline`.
    pub(crate) fn expect_shared_ack(&self, id: u64, sink: &Arc<dyn AckSink>, deadline: Instant) {
        lock(&self.0.acks).insert(id, AckWaiter::Many(Arc::downgrade(sink)));
        if !self.0.client.expect_ack(self.nsp(), id, deadline) {
            lock(&self.0.acks).remove(&id);
        }
    }

    /// Stops waiting for ack `id` (its waiter went away).
    pub(crate) fn forget_ack(&self, id: u64) {
        if lock(&self.0.acks).remove(&id).is_some() {
            self.0.client.cancel_ack(self.nsp(), id);
        }
    }

    /// Ack `id` did not come by its deadline.
    pub(crate) fn ack_timed_out(&self, id: u64) {
        let waiter = lock(&self.0.acks).remove(&id);
        if let Some(AckWaiter::One(tx)) = waiter {
            let _ = tx.send(Err(AckError::Timeout));
        }
        // A broadcast's gatherer ends by its own timeout.
    }

    /// How many acknowledgements this socket waits for: `emit_with_ack`
    /// calls neither answered nor ended (by their timeout, a disconnect,
    /// or their caller dropping them).
    pub fn pending_acks(&self) -> usize {
        lock(&self.0.acks).len()
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
            self.0.client.leave(self.nsp());
            self.0.client.forget(self.nsp());
            self.closed(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Answers event `id` of the client.
    pub(crate) fn send_ack(&self, id: u64, args: Args) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        self.0.client.ack(self.nsp(), id, args)
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
        if let Some(args) = packet.args() {
            self.notify_outgoing(args);
        }
        super::client::send_frames(&self.0.esock, frames.get(self.0.parser, packet), flags)
    }

    fn notify_outgoing(&self, args: &Args) {
        if !self.0.has_outgoing.load(Ordering::Acquire) {
            return;
        }
        let listener = lock_read(&self.0.any_outgoing).clone();
        if let Some(listener) = listener {
            let socket = self.clone();
            self.guard(|| listener(&socket, args));
        }
    }

    /// An event from the client: its middlewares and its handler run at
    /// once when the socket has only sync handlers, else on its queue (the
    /// handler is looked up when its turn comes, so an async connect
    /// handler registers handlers before the events behind it run).
    pub(crate) fn dispatch_event(&self, args: Args, id: Option<u64>) {
        if self.0.holding.load(Ordering::Acquire) {
            let mut held = lock(&self.0.held);
            if let Some(held) = held.as_mut() {
                held.push((args, id));
                return;
            }
        }
        self.dispatch_now(args, id);
    }

    /// The connect handler has run (or is first on the socket's queue):
    /// the events held meanwhile are handled, in order, then events go
    /// straight to their handlers.
    pub(crate) fn release_held(&self) {
        loop {
            let batch = {
                let mut held = lock(&self.0.held);
                match held.as_mut() {
                    Some(batch) if !batch.is_empty() => std::mem::take(batch),
                    _ => {
                        *held = None;
                        self.0.holding.store(false, Ordering::Release);
                        return;
                    }
                }
            };
            // Events that come while these run are held behind them.
            for (args, id) in batch {
                self.dispatch_now(args, id);
            }
        }
    }

    fn dispatch_now(&self, args: Args, id: Option<u64>) {
        match self.0.queue.get() {
            None => {
                // Without a queue only sync handlers exist: nothing to await.
                let _ = self.run_event(args, id);
            }
            Some(queue) => {
                let socket = self.clone();
                let work: Job = Box::pin(async move {
                    if let Some(job) = socket.run_event(args, id) {
                        job.await;
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

    /// Runs an event's middlewares and its handler; the future of an async
    /// handler is returned to be awaited.
    fn run_event(&self, args: Args, id: Option<u64>) -> Option<Job> {
        let name = args.event_name()?.into_owned();
        if !self.connected() {
            return None;
        }
        let middlewares = lock_read(&self.0.middlewares).clone();
        for middleware in middlewares {
            let mut refusal = None;
            self.guard(|| refusal = middleware(self, &args).err());
            if let Some(error) = refusal {
                self.refused(&name, &error);
                return None;
            }
            if !self.connected() {
                return None;
            }
        }
        let handler = lock_read(&self.0.handlers)
            .get(&name)
            .cloned()
            .or_else(|| lock_read(&self.0.any_handler).clone())?;
        let mut parts = Parts::new(self.clone());
        parts.args = without_event_name(args);
        parts.event = Some(name.clone());
        parts.ack = id.map(|id| AckSender::new(self.clone(), id));
        let mut job = None;
        self.guard(|| match handler.call(parts) {
            Ok(j) => job = j,
            Err(error) => self.refused(&name, &error.to_string()),
        });
        job
    }

    fn refused(&self, event: &str, error: &str) {
        let handler = lock_read(&self.0.on_error).clone();
        match handler {
            Some(handler) => self.guard(|| handler(self, error)),
            None => tracing::warn!(
                target: "sockio_server::socketio",
                socket = %self.id(),
                %event,
                %error,
                "event dropped"
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
    pub(crate) fn dispatch_ack(&self, id: u64, args: Args) {
        let waiter = lock(&self.0.acks).remove(&id);
        match waiter {
            Some(AckWaiter::One(tx)) => {
                let _ = tx.send(Ok(args));
            }
            Some(AckWaiter::Many(sink)) => {
                if let Some(sink) = sink.upgrade() {
                    sink.ack(args);
                }
            }
            None => {}
        }
    }

    /// Runs (once: they are taken) the `disconnecting` or `disconnect`
    /// handlers; a panicking one does not stop the others.
    fn run_lifecycle(&self, handlers: &Mutex<Vec<BoxedHandler>>, reason: DisconnectReason) {
        let handlers = std::mem::take(&mut *lock(handlers));
        for handler in handlers {
            let mut parts = Parts::new(self.clone());
            parts.reason = Some(reason);
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.call(parts)));
            match outcome {
                // Here up to its first await (a `disconnecting` handler then
                // sees its rooms), the rest on a task.
                Ok(Ok(Some(job))) => queue::run_now_or_spawn(async move {
                    let _ = queue::CatchUnwind(job).await;
                }),
                Ok(Ok(None)) | Err(_) => {}
                Ok(Err(error)) => tracing::warn!(
                    target: "sockio_server::socketio",
                    socket = %self.id(),
                    %error,
                    "disconnect handler skipped"
                ),
            }
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
        lock(&self.0.acks).clear();
        self.run_lifecycle(&self.0.on_disconnect, reason);
        lock_write(&self.0.handlers).clear();
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

/// The arguments of an event without its name (placeholders keep their
/// numbering: attachments do not move).
pub(crate) fn without_event_name(args: Args) -> Args {
    let (mut raw, attachments) = args.into_parts();
    if !raw.is_empty() {
        raw.remove(0);
    }
    Args::from_parts(raw, attachments)
}
