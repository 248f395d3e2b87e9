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
//! Handlers run on the task that reads the client's transport, one packet
//! at a time: the events of one socket reach its handlers in the order the
//! client sent them. A handler must not block; hand long work to a task
//! (ordering then holds up to the point where the task is spawned).

mod ack;
mod broadcast;
mod client;
mod config;
mod namespace;
mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub use ack::{AckError, AckSender};
pub use broadcast::BroadcastOperator;
pub use config::SocketIoBuilder;
pub use namespace::ConnectError;
pub use socket::{DisconnectReason, Handshake, SocketRef};
pub use sockio_core::socket::{Args, RawJson};

use crate::engine::{EngineIo, EngineIoLayer, EngineIoService, NotFound};
use client::Client;
use config::SocketIoConfig;
use namespace::Namespace;

/// The Socket.IO server handle: namespaces, and the tower service and layer
/// to mount. Cheap to clone; use it from HTTP handlers and background tasks
/// to emit.
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
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
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

    fn client(&self, sid: &str) -> Option<Arc<Client>> {
        self.clients.lock().ok()?.get(sid).cloned()
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
            namespaces: RwLock::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            engine,
            glue: glue.clone(),
        });
        if let Ok(mut slot) = glue.lock() {
            *slot = Some(inner.clone());
        }
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
                .or_insert_with(|| Namespace::new(name, Arc::downgrade(&self.inner)))
                .clone()
        };
        ns.set_connect_handler(Arc::new(on_connect));
        NamespaceRef { ns }
    }

    /// A namespace registered with [`SocketIo::ns`].
    pub fn of(&self, name: &str) -> Option<NamespaceRef> {
        self.inner.namespace(name).map(|ns| NamespaceRef { ns })
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

    /// Emits to every socket of the main namespace.
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        self.broadcast_main().emit(event, data)
    }

    /// Emits already-built arguments to every socket of the main namespace.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        self.broadcast_main().emit_args(event, args)
    }

    /// Targets the sockets in `room` of the main namespace.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast_main().to(room)
    }

    fn broadcast_main(&self) -> BroadcastOperator {
        match self.inner.namespace("/") {
            Some(ns) => BroadcastOperator::new(ns),
            None => BroadcastOperator::empty(),
        }
    }

    /// Number of connected clients (Engine.IO sessions with a Socket.IO
    /// client on them).
    pub fn client_count(&self) -> usize {
        self.inner.clients.lock().map_or(0, |c| c.len())
    }

    /// Disconnects every socket and closes every transport ("server
    /// shutting down"); the server then accepts no new client.
    pub fn close(&self) {
        self.engine().close();
        if let Ok(mut slot) = self.inner.glue.lock() {
            *slot = None;
        }
    }
}

/// A namespace: emit to its sockets, add middlewares.
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
    /// Adds a middleware run for each connection before the connect
    /// handler, in the order added: it sees the socket (its handshake and
    /// auth) and may refuse with a [`ConnectError`], which the client gets
    /// as `connect_error`.
    pub fn use_middleware<F>(&self, middleware: F) -> &Self
    where
        F: Fn(&SocketRef) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        self.ns.add_middleware(Arc::new(middleware));
        self
    }

    /// Emits to every socket of the namespace.
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> bool {
        BroadcastOperator::new(self.ns.clone()).emit(event, data)
    }

    /// Targets the sockets in `room`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(room)
    }

    /// Number of connected sockets.
    pub fn socket_count(&self) -> usize {
        self.ns.socket_count()
    }
}
