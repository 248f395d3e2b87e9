//! The Socket.IO v5 server: namespaces, sockets, events, acknowledgements,
//! rooms and broadcasts, on top of the Engine.IO server.
//!
//! ```no_run
//! use sockio_server::socketio::{SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! io.ns("/", |socket: SocketRef| {
//!     socket.on("chat message", |socket, args, _ack| {
//!         // Everyone, the sender included, gets the message as it came.
//!         if let Some(io) = socket.io() {
//!             io.emit_args("chat message", args);
//!         }
//!     });
//! });
//! let listener = sockio_server::bind("127.0.0.1:3000").await?;
//! sockio_server::serve(listener, io.service(), std::future::pending()).await
//! # }
//! ```
//!
//! # Ordering
//!
//! The events of one socket reach its handlers in the order the client
//! sent them, one at a time. Synchronous handlers ([`SocketRef::on`]) run
//! on the task that reads the client's transport and must not block. Once
//! a socket has an asynchronous handler ([`SocketRef::on_async`]), all its
//! events go through a queue of its own, run by one task: each handler
//! starts when the previous one of that socket has finished, so a slow
//! handler holds up its own socket and no other.
//!
//! # Rooms, broadcasts, clusters
//!
//! Each namespace keeps its rooms in an [`Adapter`](sockio_core::adapter::Adapter):
//! in memory by default, shared between servers with a remote adapter
//! (see [`SocketIoBuilder::adapter`]). The operators ([`BroadcastOperator`])
//! go through it: `to`, `except`, `local`, `volatile`, `compress`,
//! `timeout` + `emit_with_ack`, `fetch_sockets`, `sockets_join`,
//! `sockets_leave`, `disconnect_sockets`. A broadcast is encoded once and
//! the same frames go to every receiver.

mod ack;
mod broadcast;
mod client;
mod config;
mod dynamic;
mod emit;
mod handshake;
mod namespace;
mod queue;
mod reason;
mod remote;
mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use ack::{AckError, AckSender, BroadcastAckError};
pub use broadcast::BroadcastOperator;
pub use config::SocketIoBuilder;
pub use dynamic::ParentNamespaceRef;
pub use emit::SocketEmit;
pub use handshake::Handshake;
pub use namespace::ConnectError;
pub use reason::DisconnectReason;
pub use remote::RemoteSocket;
pub use socket::SocketRef;
pub use sockio_core::adapter::{AdapterError, RecoveryConfig};
pub use sockio_core::socket::{Args, RawJson};

use crate::engine::{EngineIo, EngineIoLayer, EngineIoService, NotFound};
use client::Client;
use config::SocketIoConfig;
use dynamic::DynamicNs;
use namespace::{Handlers, Middleware, Namespace};

/// The Socket.IO server handle: namespaces, and the tower service and layer
/// to mount. Cheap to clone; use it from HTTP handlers and background tasks
/// to emit. Its emit and operator methods act on the main namespace `/`.
#[derive(Clone)]
pub struct SocketIo {
    inner: Arc<IoInner>,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo").finish_non_exhaustive()
    }
}

pub(crate) struct IoInner {
    pub(crate) config: SocketIoConfig,
    /// A random id of this server, for recovery offsets and adapters.
    pub(crate) server_id: String,
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    dynamic: RwLock<Vec<Arc<DynamicNs>>>,
    /// Middlewares run for every namespace, before the namespace's own.
    middlewares: RwLock<Vec<Middleware>>,
    /// Connected clients (Engine.IO sessions), by Engine.IO session id.
    clients: Mutex<HashMap<Arc<str>, Arc<Client>>>,
    engine: EngineIo,
    /// The Engine.IO handler's link back to this server (a deliberate
    /// cycle: the server runs until `close`, which breaks it).
    glue: Arc<client::GlueSlot>,
}

impl IoInner {
    pub(crate) fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.namespaces.read().ok()?.get(name).cloned()
    }

    /// The main namespace `/`, as registered with [`SocketIo::ns`] or
    /// created (without a handler) when missing. The server creates it at
    /// build and never removes it (only dynamic children go).
    fn main_namespace(self: &Arc<Self>) -> Arc<Namespace> {
        if let Some(ns) = self.namespace("/") {
            return ns;
        }
        self.namespaces
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry("/".to_owned())
            .or_insert_with(|| Namespace::new("/", self, Arc::new(Handlers::default()), false))
            .clone()
    }

    fn client(&self, sid: &str) -> Option<Arc<Client>> {
        self.clients.lock().ok()?.get(sid).cloned()
    }

    /// The namespace a client connects to: a registered one, or a new child
    /// of the first dynamic namespace whose matcher accepts the name.
    pub(crate) fn namespace_for(
        self: &Arc<Self>,
        name: &str,
        auth: &RawJson,
    ) -> Option<Arc<Namespace>> {
        if let Some(ns) = self.namespace(name) {
            return Some(ns);
        }
        // Clients choose the names of dynamic children: a name longer than
        // the limit creates nothing.
        if name.len() > self.config.max_namespace_name_len {
            return None;
        }
        let parents = self.dynamic.read().ok()?.clone();
        let parent = parents.iter().find(|p| (p.matcher)(name, auth))?;
        let mut map = self.namespaces.write().ok()?;
        let ns = map
            .entry(name.to_owned())
            .or_insert_with(|| Namespace::new(name, self, parent.handlers.clone(), true))
            .clone();
        drop(map);
        if let Ok(mut children) = parent.children.lock() {
            children.insert(name.to_owned());
        }
        Some(ns)
    }

    /// Puts a dynamic child back in the table if it was cleaned up while a
    /// socket was joining it.
    pub(crate) fn keep_namespace(&self, ns: &Arc<Namespace>) {
        if !ns.dynamic {
            return;
        }
        if let Ok(mut map) = self.namespaces.write() {
            map.entry(ns.name.clone()).or_insert_with(|| ns.clone());
        }
        for parent in self.dynamic.read().map(|d| d.clone()).unwrap_or_default() {
            if parent.handlers_ptr_eq(&ns.handlers)
                && let Ok(mut children) = parent.children.lock()
            {
                children.insert(ns.name.clone());
            }
        }
    }

    /// A dynamic child lost its last socket, or was created for a client
    /// that did not join it: removed unless configured otherwise or kept
    /// by the application.
    pub(crate) fn namespace_emptied(&self, ns: &Arc<Namespace>) {
        if !self.config.cleanup_empty_child_namespaces
            || !ns.dynamic
            || ns.kept.load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        {
            let Ok(mut map) = self.namespaces.write() else {
                return;
            };
            let same = map.get(&ns.name).is_some_and(|n| Arc::ptr_eq(n, ns));
            if !same || ns.socket_count() > 0 {
                return;
            }
            map.remove(&ns.name);
        }
        for parent in self.dynamic.read().map(|d| d.clone()).unwrap_or_default() {
            if let Ok(mut children) = parent.children.lock() {
                children.remove(&ns.name);
            }
        }
        let adapter = ns.adapter.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = adapter.close().await;
            });
        }
    }
}

impl DynamicNs {
    fn handlers_ptr_eq(&self, handlers: &Arc<Handlers>) -> bool {
        Arc::ptr_eq(&self.handlers, handlers)
    }
}

impl SocketIo {
    /// A builder with the reference server's defaults.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }

    pub(crate) fn from_config(config: SocketIoConfig) -> Self {
        let glue = Arc::new(client::GlueSlot::default());
        let engine = EngineIo::new(config.engine.clone(), client::EngineGlue(glue.clone()));
        let inner = Arc::new(IoInner {
            config,
            server_id: crate::engine::new_socket_id(),
            namespaces: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            middlewares: RwLock::new(Vec::new()),
            clients: Mutex::new(HashMap::new()),
            engine,
            glue: glue.clone(),
        });
        if let Ok(mut slot) = glue.lock() {
            *slot = Some(inner.clone());
        }
        // The main namespace always exists, as in socket.io: clients may
        // connect to it and `io.emit` reaches them before (or without) a
        // handler being registered with `ns("/", ..)`.
        inner.main_namespace();
        Self { inner }
    }

    fn engine(&self) -> &EngineIo {
        &self.inner.engine
    }

    /// Registers namespace `name` (`/` is the main one) and the handler run
    /// for each socket that connects to it. Calling it again for the same
    /// name replaces the handler.
    pub fn ns<F>(&self, name: &str, on_connect: F) -> NamespaceRef
    where
        F: Fn(SocketRef) + Send + Sync + 'static,
    {
        let ns = {
            let mut map = self
                .inner
                .namespaces
                .write()
                .unwrap_or_else(|e| e.into_inner());
            map.entry(name.to_owned())
                .or_insert_with(|| {
                    Namespace::new(name, &self.inner, Arc::new(Handlers::default()), false)
                })
                .clone()
        };
        ns.handlers.set_connect_handler(Arc::new(on_connect));
        NamespaceRef { ns }
    }

    /// Registers a dynamic namespace: the first time a client connects to a
    /// name matching `pattern` (literal text with `{name}` segments, each
    /// one or more characters other than `/`: `/room-{id}`), a child
    /// namespace of that name is created with this handler and the
    /// parent's middlewares. Registered namespaces are matched first, then
    /// dynamic ones in the order registered.
    ///
    /// Clients choose the names, so a child lives only while it has
    /// sockets (unless [`SocketIo::of`] asked for it, or
    /// [`SocketIoBuilder::cleanup_empty_child_namespaces`] is turned off),
    /// names are at most [`SocketIoBuilder::max_namespace_name_len`] bytes,
    /// and one client joins at most
    /// [`SocketIoBuilder::max_namespaces_per_client`] namespaces.
    pub fn dyn_ns<F>(&self, pattern: &str, on_connect: F) -> ParentNamespaceRef
    where
        F: Fn(SocketRef) + Send + Sync + 'static,
    {
        self.add_dynamic(dynamic::pattern_matcher(pattern), on_connect)
    }

    /// Registers a dynamic namespace whose children are the names `matcher`
    /// accepts; it sees the name and the client's auth payload.
    pub fn dyn_ns_with<M, F>(&self, matcher: M, on_connect: F) -> ParentNamespaceRef
    where
        M: Fn(&str, &RawJson) -> bool + Send + Sync + 'static,
        F: Fn(SocketRef) + Send + Sync + 'static,
    {
        self.add_dynamic(Arc::new(matcher), on_connect)
    }

    fn add_dynamic<F>(&self, matcher: dynamic::Matcher, on_connect: F) -> ParentNamespaceRef
    where
        F: Fn(SocketRef) + Send + Sync + 'static,
    {
        let handlers = Arc::new(Handlers::default());
        handlers.set_connect_handler(Arc::new(on_connect));
        let parent = Arc::new(DynamicNs {
            matcher,
            handlers,
            children: Mutex::default(),
        });
        if let Ok(mut d) = self.inner.dynamic.write() {
            d.push(parent.clone());
        }
        ParentNamespaceRef {
            parent,
            io: Arc::downgrade(&self.inner),
        }
    }

    /// Adds a middleware to the main namespace `/`, as socket.io's
    /// `io.use`: run for each connection to `/` before its connect
    /// handler. For a middleware every namespace runs, see
    /// [`SocketIo::use_server_middleware`].
    pub fn use_middleware<F>(&self, middleware: F) -> &Self
    where
        F: Fn(&SocketRef) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        self.main_namespace().use_middleware(middleware);
        self
    }

    /// Adds an asynchronous middleware to the main namespace `/` (see
    /// [`NamespaceRef::use_async_middleware`]).
    pub fn use_async_middleware<F, Fut>(&self, middleware: F) -> &Self
    where
        F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.main_namespace().use_async_middleware(middleware);
        self
    }

    /// Adds a middleware run for each connection to any namespace (`/`,
    /// the others, dynamic children), before the namespace's own
    /// middlewares, in the order added. It may refuse with a
    /// [`ConnectError`], which the client gets as `connect_error`.
    /// socket.io has no such thing: there, `io.use` is `/`'s middleware
    /// ([`SocketIo::use_middleware`]).
    pub fn use_server_middleware<F>(&self, middleware: F) -> &Self
    where
        F: Fn(&SocketRef) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        if let Ok(mut m) = self.inner.middlewares.write() {
            m.push(Middleware::Sync(Arc::new(middleware)));
        }
        self
    }

    /// Adds an asynchronous middleware run for each connection to any
    /// namespace (see [`SocketIo::use_server_middleware`] and
    /// [`NamespaceRef::use_async_middleware`]).
    pub fn use_server_async_middleware<F, Fut>(&self, middleware: F) -> &Self
    where
        F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        if let Ok(mut m) = self.inner.middlewares.write() {
            m.push(Middleware::Async(Arc::new(move |s| {
                Box::pin(middleware(s))
            })));
        }
        self
    }

    /// The main namespace `/` (created with the server).
    fn main_namespace(&self) -> NamespaceRef {
        NamespaceRef {
            ns: self.inner.main_namespace(),
        }
    }

    /// A namespace: registered with [`SocketIo::ns`], or a dynamic child
    /// that exists now. A child asked for here is kept when its last
    /// socket leaves, so the returned handle stays the namespace clients
    /// of that name join.
    pub fn of(&self, name: &str) -> Option<NamespaceRef> {
        self.inner.namespace(name).map(|ns| {
            ns.kept.store(true, std::sync::atomic::Ordering::Release);
            NamespaceRef { ns }
        })
    }

    /// The tower service answering Socket.IO requests (404 for others).
    pub fn service(&self) -> EngineIoService<NotFound> {
        self.engine().service()
    }

    /// The tower layer serving Socket.IO under the configured path and
    /// passing other requests to the inner service.
    pub fn layer(&self) -> EngineIoLayer {
        self.engine().layer()
    }

    fn main(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.main_namespace())
    }

    /// Emits to every socket of the main namespace.
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        self.main().emit(event, data)
    }

    /// Emits already-built arguments to every socket of the main namespace.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.main().emit_args(event, args)
    }

    /// Targets the sockets in `room` of the main namespace.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.main().to(room)
    }

    /// Same as [`SocketIo::to`].
    pub fn within(&self, room: impl Into<String>) -> BroadcastOperator {
        self.main().to(room)
    }

    /// Targets the main namespace's sockets not in `room`.
    pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
        self.main().except(room)
    }

    /// Targets the main namespace's sockets on this server only.
    pub fn local(&self) -> BroadcastOperator {
        self.main().local()
    }

    /// A volatile broadcast to the main namespace.
    pub fn volatile(&self) -> BroadcastOperator {
        self.main().volatile()
    }

    /// A broadcast to the main namespace, compressed or not.
    pub fn compress(&self, compress: bool) -> BroadcastOperator {
        self.main().compress(compress)
    }

    /// A broadcast to the main namespace waiting at most `timeout` for
    /// acknowledgements.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.main().timeout(timeout)
    }

    /// Emits to every socket of the main namespace and gathers their
    /// acknowledgements.
    pub async fn emit_with_ack<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<Args>, BroadcastAckError> {
        self.main().emit_with_ack(event, data).await
    }

    /// Every socket of the main namespace, on every server.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.main().fetch_sockets().await
    }

    /// Every socket of the main namespace joins `rooms`.
    pub fn sockets_join<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.main().sockets_join(rooms);
    }

    /// Every socket of the main namespace leaves `rooms`.
    pub fn sockets_leave<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.main().sockets_leave(rooms);
    }

    /// Disconnects every socket of the main namespace.
    pub fn disconnect_sockets(&self, close: bool) {
        self.main().disconnect_sockets(close);
    }

    /// Sends an event to the main namespace of the other servers of the
    /// cluster (their [`NamespaceRef::on_server_event`] handlers). Nothing
    /// happens with a single server.
    pub fn server_side_emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), AdapterError> {
        match self.of("/") {
            Some(ns) => ns.server_side_emit(event, data),
            None => Ok(()),
        }
    }

    /// Number of connected clients (Engine.IO sessions with a Socket.IO
    /// client on them).
    pub fn client_count(&self) -> usize {
        self.inner.clients.lock().map_or(0, |c| c.len())
    }

    /// Disconnects every socket ("server shutting down"), closes every
    /// transport and every namespace's adapter; the server then accepts no
    /// new client.
    pub async fn close(&self) {
        self.engine().close();
        let namespaces: Vec<Arc<Namespace>> = self
            .inner
            .namespaces
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for ns in namespaces {
            let _ = ns.adapter.close().await;
        }
        if let Ok(mut slot) = self.inner.glue.lock() {
            *slot = None;
        }
    }
}

/// A namespace: emit to its sockets, act on them, add middlewares.
#[derive(Clone)]
pub struct NamespaceRef {
    ns: Arc<Namespace>,
}

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceRef")
            .field("name", &self.ns.name)
            .finish()
    }
}

impl NamespaceRef {
    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.ns.name
    }

    /// Adds a middleware run for each connection before the connect
    /// handler, in the order added: it sees the socket (its handshake and
    /// auth) and may refuse with a [`ConnectError`], which the client gets
    /// as `connect_error`.
    pub fn use_middleware<F>(&self, middleware: F) -> &Self
    where
        F: Fn(&SocketRef) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        self.ns
            .handlers
            .add_middleware(Middleware::Sync(Arc::new(middleware)));
        self
    }

    /// Adds an asynchronous middleware (a database lookup, a call to an
    /// auth service), run in order with the others. While it runs, the
    /// client's other packets for this namespace are not expected (the
    /// official client sends nothing before the CONNECT reply); packets
    /// for other namespaces go on. A panic refuses the connection.
    pub fn use_async_middleware<F, Fut>(&self, middleware: F) -> &Self
    where
        F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.ns
            .handlers
            .add_middleware(Middleware::Async(Arc::new(move |s| {
                Box::pin(middleware(s))
            })));
        self
    }

    /// Handles an event another server sent with `server_side_emit`; the
    /// handler gets its arguments (without the event name).
    pub fn on_server_event<F>(&self, event: &str, handler: F) -> &Self
    where
        F: Fn(Args) + Send + Sync + 'static,
    {
        self.ns.handlers.on_server_event(event, Arc::new(handler));
        self
    }

    /// All the sockets of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone())
    }

    /// Emits to every socket of the namespace.
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        self.broadcast().emit(event, data)
    }

    /// Emits already-built arguments to every socket of the namespace.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.broadcast().emit_args(event, args)
    }

    /// Targets the sockets in `room`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Same as [`NamespaceRef::to`].
    pub fn within(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Targets the sockets not in `room`.
    pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    /// Targets the sockets of this server only.
    pub fn local(&self) -> BroadcastOperator {
        self.broadcast().local()
    }

    /// A volatile broadcast.
    pub fn volatile(&self) -> BroadcastOperator {
        self.broadcast().volatile()
    }

    /// A broadcast, compressed or not.
    pub fn compress(&self, compress: bool) -> BroadcastOperator {
        self.broadcast().compress(compress)
    }

    /// A broadcast waiting at most `timeout` for acknowledgements.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.broadcast().timeout(timeout)
    }

    /// Emits to every socket and gathers their acknowledgements.
    pub async fn emit_with_ack<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<Args>, BroadcastAckError> {
        self.broadcast().emit_with_ack(event, data).await
    }

    /// Every socket of the namespace, on every server.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.broadcast().fetch_sockets().await
    }

    /// Every socket joins `rooms`.
    pub fn sockets_join<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.broadcast().sockets_join(rooms);
    }

    /// Every socket leaves `rooms`.
    pub fn sockets_leave<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.broadcast().sockets_leave(rooms);
    }

    /// Disconnects every socket; with `close`, their whole connections.
    pub fn disconnect_sockets(&self, close: bool) {
        self.broadcast().disconnect_sockets(close);
    }

    /// Sends an event to this namespace on the other servers of the
    /// cluster. Nothing happens with a single server.
    pub fn server_side_emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), AdapterError> {
        let args = socket::event_args(event, data)
            .map_err(|e| AdapterError::Transport(format!("could not serialize: {e}")))?;
        self.ns.adapter.server_side_emit(args)
    }

    /// The socket `id` of this namespace, if it is connected to this server.
    pub fn socket(&self, id: &str) -> Option<SocketRef> {
        self.ns.socket(id)
    }

    /// The sockets of this namespace connected to this server.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns.all_sockets()
    }

    /// The ids of the sockets in `room`, on every server.
    pub async fn room_members(&self, room: &str) -> Result<Vec<String>, AdapterError> {
        let ids = self.ns.adapter.sockets(&[Arc::from(room)]).await?;
        Ok(ids.iter().map(|s| s.to_string()).collect())
    }

    /// Number of sockets connected to this server.
    pub fn socket_count(&self) -> usize {
        self.ns.socket_count()
    }
}
