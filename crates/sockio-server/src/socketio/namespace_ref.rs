//! A handle to a namespace: its handlers, middlewares and operators.

use std::sync::Arc;

use sockio_core::adapter::AdapterError;
use sockio_core::socket::{Args, IntoArgs};

use super::broadcast::BroadcastOperator;
use super::errors::{BroadcastAckError, EmitError};
use super::extract::kind;
use super::handler::{BoxedHandler, BoxedMiddleware, Handler, Middleware};
use super::namespace::Namespace;
use super::operators;
use super::remote::RemoteSocket;
use super::socket::SocketRef;

/// A namespace: its connect handler and middlewares, and emits to its
/// sockets. From [`SocketIo::of`](super::SocketIo::of) or
/// [`SocketIo::ns`](super::SocketIo::ns); cheap to clone.
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
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self { ns }
    }

    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.ns.name
    }

    /// Sets the handler run for each socket that connects (socket.io's
    /// `namespace.on("connection", ..)`), replacing an earlier one: a
    /// function or closure, sync or async, whose parameters are
    /// extractors (see [`extract`](super::extract)). An async connect
    /// handler runs first on the socket's queue: the socket's events wait
    /// until it has finished (and registered their handlers).
    pub fn on_connect<M, H: Handler<kind::Connect, M>>(&self, handler: H) -> &Self {
        self.ns
            .handlers
            .set_connect_handler(BoxedHandler::new(handler));
        self
    }

    /// Adds a middleware run for each connection before the connect
    /// handler, in the order added (socket.io's `namespace.use`): a
    /// function or closure, sync or async (a database lookup, a call to
    /// an auth service), whose parameters are extractors (the socket, the
    /// auth payload as `Data<T>`, the handshake, state) and which returns
    /// `Result<(), ConnectError>`. A refusal reaches the client as
    /// `connect_error` with its message and data; a panic refuses too.
    /// While an async middleware runs, the client's other namespaces go on.
    pub fn use_middleware<M, H: Middleware<M>>(&self, middleware: H) -> &Self {
        self.ns
            .handlers
            .add_middleware(BoxedMiddleware::new(middleware));
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

    /// All the sockets of the namespace, to narrow down or emit to.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.operator()
    }

    fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone())
    }

    operators::broadcast_operators!("this namespace");

    /// Sends an event to this namespace on the other servers of the
    /// cluster. Nothing happens with a single server.
    pub fn server_side_emit(&self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_event_args(event).map_err(EmitError::Serialize)?;
        self.ns
            .adapter
            .server_side_emit(args)
            .map_err(EmitError::Adapter)
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
