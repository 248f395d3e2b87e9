//! A namespace: its sockets on this server, its adapter (rooms and
//! broadcasts), its connect handler and middlewares.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use serde::Serialize;
use sockio_core::adapter::{
    AckSink, Adapter, AdapterContext, BroadcastFlags, LocalSockets, SocketId, SocketInfo,
};
use sockio_core::socket::{Args, JsonError, Packet, RawJson};

use super::IoInner;
use super::broadcast::SharedFrames;
use super::extract::Parts;
use super::handler::{BoxedHandler, BoxedMiddleware, MiddlewareOutcome};
use super::socket::SocketRef;
use crate::sync::{lock_read, lock_write};

/// Runs a connection middleware; a panic refuses the socket.
async fn run_middleware(m: &BoxedMiddleware, socket: &SocketRef) -> Result<(), ConnectError> {
    let parts = Parts::new(socket.clone()).with_auth(socket);
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.call(parts))) {
        Ok(MiddlewareOutcome::Ready(result)) => Ok(result),
        Ok(MiddlewareOutcome::Pending(future)) => super::queue::CatchUnwind(future).await,
        Err(_) => Err(()),
    };
    outcome.unwrap_or_else(|()| {
        tracing::warn!(
            target: "sockio_server::socketio",
            socket = %socket.id(),
            "a connection middleware panicked; connection refused"
        );
        Err(ConnectError::new("middleware failure"))
    })
}

/// Runs `middlewares` in order; the first refusal wins.
pub(crate) async fn run_middlewares(
    middlewares: &[BoxedMiddleware],
    socket: &SocketRef,
) -> Result<(), ConnectError> {
    for m in middlewares {
        run_middleware(m, socket).await?;
    }
    Ok(())
}
pub(crate) type ServerEventHandler = Arc<dyn Fn(Args) + Send + Sync>;

/// A middleware's refusal, sent to the client as `connect_error` with
/// `{"message": …, "data": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub(crate) message: String,
    pub(crate) data: Option<RawJson>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds the `data` the client gets with the error (its `err.data`).
    /// Fails if `data` does not serialize; in a middleware, `?` turns that
    /// failure into a refusal of its own (see the `From` impl).
    ///
    /// ```
    /// use sockio_server::socketio::ConnectError;
    ///
    /// fn check(token: &str) -> Result<(), ConnectError> {
    ///     if token != "letmein" {
    ///         return Err(ConnectError::new("unauthorized")
    ///             .with_data(serde_json::json!({"reason": "bad token"}))?);
    ///     }
    ///     Ok(())
    /// }
    /// assert_eq!(check("nope").unwrap_err().message(), "unauthorized");
    /// ```
    pub fn with_data<T: Serialize>(mut self, data: T) -> Result<Self, JsonError> {
        self.data = Some(RawJson::from_serialize(&data)?);
        Ok(self)
    }

    /// The message the client gets.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data the client gets, if any.
    pub fn data(&self) -> Option<&RawJson> {
        self.data.as_ref()
    }
}

/// Data that did not serialize: the connection is refused with a message
/// saying so (and the failure is logged).
impl From<JsonError> for ConnectError {
    fn from(e: JsonError) -> Self {
        tracing::warn!(
            target: "sockio_server::socketio",
            error = %e,
            "connect_error data did not serialize"
        );
        Self::new("connect error data did not serialize")
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// What a namespace runs for its sockets; a dynamic namespace's children
/// share their parent's.
#[derive(Default)]
pub(crate) struct Handlers {
    on_connect: RwLock<Option<BoxedHandler>>,
    middlewares: RwLock<Vec<BoxedMiddleware>>,
    server_events: RwLock<HashMap<String, ServerEventHandler>>,
}

impl Handlers {
    pub(crate) fn set_connect_handler(&self, handler: BoxedHandler) {
        *lock_write(&self.on_connect) = Some(handler);
    }

    pub(crate) fn add_middleware(&self, middleware: BoxedMiddleware) {
        lock_write(&self.middlewares).push(middleware);
    }

    pub(crate) fn on_server_event(&self, event: &str, handler: ServerEventHandler) {
        lock_write(&self.server_events).insert(event.to_owned(), handler);
    }

    fn connect_handler(&self) -> Option<BoxedHandler> {
        lock_read(&self.on_connect).clone()
    }
}

pub(crate) struct Namespace {
    pub(crate) name: String,
    /// The name as packets carry it.
    pub(crate) nsp: sockio_core::engine::Str,
    pub(crate) io: Weak<IoInner>,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) handlers: Arc<Handlers>,
    /// Set for the children of a dynamic namespace.
    pub(crate) dynamic: bool,
    /// A dynamic child the application asked for by name
    /// ([`SocketIo::of`](super::SocketIo::of)): kept when it empties.
    pub(crate) kept: std::sync::atomic::AtomicBool,
    sockets: RwLock<HashMap<SocketId, SocketRef>>,
    /// Ack ids, shared by every socket of the namespace (a broadcast asking
    /// for acks uses one id for all its receivers).
    ack_ids: AtomicU64,
}

impl Namespace {
    pub(crate) fn new(
        name: &str,
        io: &Arc<IoInner>,
        handlers: Arc<Handlers>,
        dynamic: bool,
    ) -> Arc<Self> {
        Arc::new_cyclic(|weak: &Weak<Self>| {
            let sockets = weak.clone() as Weak<dyn LocalSockets>;
            let mut ctx = AdapterContext::new(name, sockets)
                .with_clock(Arc::new(|| tokio::time::Instant::now().into_std()))
                .with_server_id(&io.server_id);
            if let Some(recovery) = &io.config.recovery {
                ctx = ctx.with_recovery(recovery.clone());
            }
            Self {
                name: name.to_owned(),
                nsp: sockio_core::engine::Str::from(name.to_owned()),
                io: Arc::downgrade(io),
                adapter: io.config.adapter.create(ctx),
                handlers,
                dynamic,
                kept: std::sync::atomic::AtomicBool::new(false),
                sockets: RwLock::new(HashMap::new()),
                ack_ids: AtomicU64::new(0),
            }
        })
    }

    /// Runs the server's middlewares, then the namespace's, in order; the
    /// first refusal wins.
    pub(crate) async fn admit(&self, socket: &SocketRef) -> Result<(), ConnectError> {
        if let Some(io) = self.io.upgrade() {
            let global = lock_read(&io.middlewares).clone();
            run_middlewares(&global, socket).await?;
        }
        let own = lock_read(&self.handlers.middlewares).clone();
        run_middlewares(&own, socket).await
    }

    /// Adds a socket (in its own room), so that broadcasts reach it from
    /// now on; done before the client is told it is connected, as the
    /// reference does.
    pub(crate) fn insert(&self, socket: &SocketRef) {
        {
            let mut sockets = lock_write(&self.sockets);
            sockets.insert(socket.id_arc(), socket.clone());
        }
        self.adapter.add_all(&socket.id_arc(), &[socket.id_arc()]);
    }

    /// Runs the connect handler for a socket the client now knows about.
    /// Readies a socket for its connect handler before the client hears
    /// it is connected: an async connect handler needs the socket's queue,
    /// so that the events the client sends next wait for it.
    pub(crate) fn prepare(&self, socket: &SocketRef) {
        if self.handlers.connect_handler().is_some_and(|h| h.is_async) {
            socket.start_queue();
        }
    }

    /// Runs the connect handler for a socket the client now knows about.
    pub(crate) fn connected(&self, socket: &SocketRef) {
        if let Some(handler) = self.handlers.connect_handler() {
            socket.run_connect_handler(&handler);
        }
    }

    /// Removes a socket that disconnected: from the sockets and from every
    /// room. Returns how many sockets are left.
    pub(crate) fn remove(&self, socket: &SocketRef) -> usize {
        self.adapter.del_all(&socket.id_arc());
        let mut sockets = lock_write(&self.sockets);
        sockets.remove(socket.id());
        sockets.len()
    }

    pub(crate) fn socket_count(&self) -> usize {
        lock_read(&self.sockets).len()
    }

    pub(crate) fn socket(&self, sid: &str) -> Option<SocketRef> {
        lock_read(&self.sockets).get(sid).cloned()
    }

    /// The next ack id; ids stay below 2^53 (exact in JavaScript),
    /// wrapping around.
    pub(crate) fn next_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed) % (sockio_core::socket::MAX_ACK_ID + 1)
    }

    /// The sockets of `sids` that are still here.
    fn lookup(&self, sids: &[SocketId]) -> Vec<SocketRef> {
        let sockets = lock_read(&self.sockets);
        sids.iter()
            .filter_map(|s| sockets.get(s).cloned())
            .collect()
    }

    /// Every socket of the namespace on this server.
    pub(crate) fn all_sockets(&self) -> Vec<SocketRef> {
        lock_read(&self.sockets).values().cloned().collect()
    }
}

impl LocalSockets for Namespace {
    /// Encodes the packet once per parser and hands the same frames to
    /// every receiver; no lock is held while sending.
    fn send(&self, sids: &[SocketId], packet: &Packet, flags: &BroadcastFlags) {
        let targets = self.lookup(sids);
        let mut encoded = SharedFrames::default();
        for socket in targets {
            socket.deliver_shared(&mut encoded, packet, flags);
        }
    }

    fn send_to_all(&self, packet: &Packet, flags: &BroadcastFlags) {
        let targets = self.all_sockets();
        let mut encoded = SharedFrames::default();
        for socket in targets {
            socket.deliver_shared(&mut encoded, packet, flags);
        }
    }

    fn send_with_ack(
        &self,
        sids: &[SocketId],
        packet: &Packet,
        flags: &BroadcastFlags,
        acks: &Arc<dyn AckSink>,
    ) -> usize {
        let Some(id) = packet.id else { return 0 };
        let targets = self.lookup(sids);
        let mut encoded = SharedFrames::default();
        let mut reached = 0;
        let timeout = flags.timeout.unwrap_or_else(|| {
            self.io
                .upgrade()
                .map_or(std::time::Duration::from_secs(30), |io| {
                    io.config.ack_timeout
                })
        });
        let deadline = crate::engine::now() + timeout;
        for socket in targets {
            socket.expect_shared_ack(id, acks, deadline);
            if socket.deliver_shared(&mut encoded, packet, flags) {
                reached += 1;
            } else {
                socket.forget_ack(id);
            }
        }
        reached
    }

    fn disconnect(&self, sids: &[SocketId], close: bool) {
        for socket in self.lookup(sids) {
            socket.disconnect_with(close);
        }
    }

    fn describe(&self, sid: &SocketId) -> Option<SocketInfo> {
        let socket = self.socket(sid)?;
        Some(SocketInfo::new(
            sid.clone(),
            socket.handshake().to_json(),
            socket.raw_data(),
        ))
    }

    fn next_ack_id(&self) -> u64 {
        self.next_id()
    }

    fn server_side_event(&self, args: Args) {
        let Some(name) = args.event_name().map(|n| n.into_owned()) else {
            return;
        };
        let handler = lock_read(&self.handlers.server_events).get(&name).cloned();
        if let Some(handler) = handler {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler(super::socket::without_event_name(args));
            }));
        }
    }
}
