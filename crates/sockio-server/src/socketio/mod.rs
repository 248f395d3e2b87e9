//! The Socket.IO v5 server: namespaces, sockets, events, acknowledgements,
//! rooms and broadcasts, on top of the Engine.IO server.
//!
//! ```no_run
//! use sockio_server::socketio::{Args, SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! io.ns("/", |socket: SocketRef| {
//!     // Everyone, the sender included, gets the message as it came.
//!     socket.on("chat message", |io: SocketIo, msg: Args| {
//!         io.emit("chat message", msg).ok();
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
//! sent them, one at a time, whether the handlers are sync or async.
//! Sync handlers run on the task that reads the client's transport and
//! must not block. Once a socket has an async handler (for an event, or
//! an async connect handler), all its events go through a queue of its
//! own, run by one task: each handler starts when the previous one of
//! that socket has finished, so a slow handler holds up its own socket
//! and no other.
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
mod errors;
pub mod extract;
mod handler;
mod handshake;
mod namespace;
mod namespace_ref;
mod operators;
mod queue;
mod reason;
mod remote;
mod service;
mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub use ack::AckSender;
pub use broadcast::BroadcastOperator;
pub use config::SocketIoBuilder;
pub use dynamic::ParentNamespaceRef;
pub use emit::SocketEmit;
pub use errors::{AckError, BroadcastAckError, EmitError};
pub use extract::{Bin, Data, Event, Extension, ExtractError, State, TryData};
pub use handler::{Handler, Middleware, marker};
pub use handshake::Handshake;
pub use namespace::ConnectError;
pub use namespace_ref::NamespaceRef;
pub use reason::DisconnectReason;
pub use remote::RemoteSocket;
pub use service::{ResponseBody, SocketIoLayer, SocketIoService};
pub use socket::{Extensions, SocketRef};
pub use sockio_core::adapter::{AdapterError, RecoveryConfig};
pub use sockio_core::socket::{Args, DataError, FromArgs, IntoArgs, JsonError, RawJson};

use crate::engine::EngineIo;
use crate::sync::{lock, lock_read, lock_write};
use client::Client;
use config::SocketIoConfig;
use dynamic::DynamicNs;
use extract::kind;
use handler::{BoxedHandler, BoxedMiddleware};
use namespace::{Handlers, Namespace};

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
    middlewares: RwLock<Vec<BoxedMiddleware>>,
    /// Connected clients (Engine.IO sessions), by Engine.IO session id.
    clients: Mutex<HashMap<Arc<str>, Arc<Client>>>,
    engine: EngineIo,
    /// The Engine.IO handler's link back to this server (a deliberate
    /// cycle: the server runs until `close`, which breaks it).
    glue: Arc<client::GlueSlot>,
}

impl IoInner {
    pub(crate) fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        lock_read(&self.namespaces).get(name).cloned()
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
        lock(&self.clients).get(sid).cloned()
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
        let parents = lock_read(&self.dynamic).clone();
        let parent = parents.iter().find(|p| (p.matcher)(name, auth))?;
        let mut map = lock_write(&self.namespaces);
        let ns = map
            .entry(name.to_owned())
            .or_insert_with(|| Namespace::new(name, self, parent.handlers.clone(), true))
            .clone();
        drop(map);
        {
            let mut children = lock(&parent.children);
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
        {
            let mut map = lock_write(&self.namespaces);
            map.entry(ns.name.clone()).or_insert_with(|| ns.clone());
        }
        for parent in lock_read(&self.dynamic).clone() {
            if parent.handlers_ptr_eq(&ns.handlers) {
                lock(&parent.children).insert(ns.name.clone());
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
            let mut map = lock_write(&self.namespaces);
            let same = map.get(&ns.name).is_some_and(|n| Arc::ptr_eq(n, ns));
            if !same || ns.socket_count() > 0 {
                return;
            }
            map.remove(&ns.name);
        }
        for parent in lock_read(&self.dynamic).clone() {
            {
                let mut children = lock(&parent.children);
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
        {
            let mut slot = lock(&glue);
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

    /// Registers the handler run for each socket that connects to
    /// namespace `name` (`/` is the main one): `io.of(name).on_connect(..)`.
    /// The handler is a function or closure, sync or async, whose
    /// parameters are extractors (the socket, the auth payload as
    /// `Data<T>`, state; see [`extract`]). Calling it again for the same
    /// name replaces the handler.
    pub fn ns<M, H: Handler<kind::Connect, M>>(&self, name: &str, on_connect: H) -> NamespaceRef {
        let ns = self.of(name);
        ns.on_connect(on_connect);
        ns
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
    pub fn dyn_ns<M, H: Handler<kind::Connect, M>>(
        &self,
        pattern: &str,
        on_connect: H,
    ) -> ParentNamespaceRef {
        self.add_dynamic(dynamic::pattern_matcher(pattern), on_connect)
    }

    /// Registers a dynamic namespace whose children are the names `matcher`
    /// accepts; it sees the name and the client's auth payload.
    pub fn dyn_ns_with<F, M, H>(&self, matcher: F, on_connect: H) -> ParentNamespaceRef
    where
        F: Fn(&str, &RawJson) -> bool + Send + Sync + 'static,
        H: Handler<kind::Connect, M>,
    {
        self.add_dynamic(Arc::new(matcher), on_connect)
    }

    fn add_dynamic<M, H: Handler<kind::Connect, M>>(
        &self,
        matcher: dynamic::Matcher,
        on_connect: H,
    ) -> ParentNamespaceRef {
        let handlers = Arc::new(Handlers::default());
        handlers.set_connect_handler(BoxedHandler::new(on_connect));
        let parent = Arc::new(DynamicNs {
            matcher,
            handlers,
            children: Mutex::default(),
        });
        lock_write(&self.inner.dynamic).push(parent.clone());
        ParentNamespaceRef {
            parent,
            io: Arc::downgrade(&self.inner),
        }
    }

    /// Adds a middleware to the main namespace `/`, as socket.io's
    /// `io.use`: run for each connection to `/` before its connect
    /// handler (see [`NamespaceRef::use_middleware`]). For a middleware
    /// every namespace runs, see [`SocketIo::use_server_middleware`].
    pub fn use_middleware<M, H: Middleware<M>>(&self, middleware: H) -> &Self {
        self.of("/").use_middleware(middleware);
        self
    }

    /// Adds a middleware run for each connection to any namespace (`/`,
    /// the others, dynamic children), before the namespace's own
    /// middlewares, in the order added. It may refuse with a
    /// [`ConnectError`], which the client gets as `connect_error`.
    /// socket.io has no such thing: there, `io.use` is `/`'s middleware
    /// ([`SocketIo::use_middleware`]).
    pub fn use_server_middleware<M, H: Middleware<M>>(&self, middleware: H) -> &Self {
        lock_write(&self.inner.middlewares).push(BoxedMiddleware::new(middleware));
        self
    }

    /// The namespace `name`, created (with no connect handler) if it does
    /// not exist, as socket.io's `io.of(name)`. A dynamic child asked for
    /// here is kept when its last socket leaves, so the returned handle
    /// stays the namespace clients of that name join.
    pub fn of(&self, name: &str) -> NamespaceRef {
        let ns = match self.inner.namespace(name) {
            Some(ns) => ns,
            None => lock_write(&self.inner.namespaces)
                .entry(name.to_owned())
                .or_insert_with(|| {
                    Namespace::new(name, &self.inner, Arc::new(Handlers::default()), false)
                })
                .clone(),
        };
        ns.kept.store(true, std::sync::atomic::Ordering::Release);
        NamespaceRef::new(ns)
    }

    /// The namespace `name` if it exists now (registered, created by
    /// [`SocketIo::of`], or a dynamic child with sockets), without creating
    /// it.
    pub fn get_namespace(&self, name: &str) -> Option<NamespaceRef> {
        self.inner.namespace(name).map(NamespaceRef::new)
    }

    /// The tower service answering Socket.IO requests (404 for others).
    pub fn service(&self) -> SocketIoService {
        SocketIoService(self.engine().service())
    }

    /// The tower layer serving Socket.IO under the configured path and
    /// passing other requests to the inner service (in axum:
    /// `Router::new().route(..).layer(io.layer())`).
    pub fn layer(&self) -> SocketIoLayer {
        SocketIoLayer(self.engine().layer())
    }

    fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.main_namespace())
    }

    operators::broadcast_operators!("the main namespace `/`");

    /// Sends an event to the main namespace of the other servers of the
    /// cluster (their [`NamespaceRef::on_server_event`] handlers). Nothing
    /// happens with a single server.
    pub fn server_side_emit(&self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        self.of("/").server_side_emit(event, data)
    }

    /// Number of connected clients (Engine.IO sessions with a Socket.IO
    /// client on them).
    pub fn client_count(&self) -> usize {
        lock(&self.inner.clients).len()
    }

    /// Disconnects every socket ("server shutting down"), closes every
    /// transport and every namespace's adapter; the server then accepts no
    /// new client.
    pub async fn close(&self) {
        self.engine().close();
        let namespaces: Vec<Arc<Namespace>> = lock_read(&self.inner.namespaces)
            .values()
            .cloned()
            .collect();
        for ns in namespaces {
            if let Err(error) = ns.adapter.close().await {
                tracing::warn!(
                    target: "sockio_server::socketio",
                    namespace = %ns.name,
                    %error,
                    "adapter did not close cleanly"
                );
            }
        }
        *lock(&self.inner.glue) = None;
    }
}
