//! Socket.IO server settings and their builder.

use std::time::Duration;

use std::sync::Arc;

use sockio_core::adapter::{AdapterFactory, LocalAdapter, RecoveryConfig};
use sockio_core::engine::EngineConfig;
use sockio_core::socket::{DecoderConfig, Parser};

use super::SocketIo;
use crate::engine::{Cors, EngineServerConfig};

#[derive(Debug, Clone)]
pub(crate) struct SocketIoConfig {
    pub(crate) engine: EngineServerConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) decoder: DecoderConfig,
    pub(crate) ack_timeout: Duration,
    pub(crate) recovery: Option<RecoveryConfig>,
    pub(crate) adapter: Factory,
    pub(crate) cleanup_empty_child_namespaces: bool,
    pub(crate) max_namespaces_per_client: usize,
    pub(crate) max_namespace_name_len: usize,
    /// Shared state for the `State<T>` extractor, by type.
    pub(crate) state: http::Extensions,
}

/// The adapter factory, shared.
#[derive(Clone)]
pub(crate) struct Factory(Arc<dyn AdapterFactory>);

impl Factory {
    pub(crate) fn create(
        &self,
        ctx: sockio_core::adapter::AdapterContext,
    ) -> Arc<dyn sockio_core::adapter::Adapter> {
        self.0.create(ctx)
    }
}

impl std::fmt::Debug for Factory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdapterFactory")
    }
}

/// Builds a [`SocketIo`], with the reference server's defaults: path
/// `/socket.io/`, pingInterval 25 s, pingTimeout 20 s, maxPayload 1 MB,
/// connectTimeout 45 s, the default parser, at most 10 attachments per
/// packet; and limits the reference lacks: the attachments of one packet
/// weigh at most maxPayload in total and arrive within 30 s.
#[derive(Debug, Clone)]
pub struct SocketIoBuilder {
    config: SocketIoConfig,
    /// Set explicitly; else maxPayload.
    max_attachment_bytes: Option<usize>,
}

impl Default for SocketIoBuilder {
    fn default() -> Self {
        Self {
            config: SocketIoConfig {
                engine: EngineServerConfig::default(),
                connect_timeout: Duration::from_secs(45),
                decoder: DecoderConfig::default().reject_reserved_events(true),
                ack_timeout: Duration::from_secs(30),
                recovery: None,
                adapter: Factory(Arc::new(LocalAdapter::factory())),
                cleanup_empty_child_namespaces: true,
                max_namespaces_per_client: 100,
                max_namespace_name_len: 256,
                state: http::Extensions::new(),
            },
            max_attachment_bytes: None,
        }
    }
}

impl SocketIoBuilder {
    /// Sets the Engine.IO server settings (path, CORS, cookie, hooks).
    pub fn engine_server(mut self, engine: EngineServerConfig) -> Self {
        self.config.engine = engine;
        self
    }

    /// Sets the Engine.IO protocol options (heartbeat, payload limit,
    /// transports).
    pub fn engine(mut self, engine: EngineConfig) -> Self {
        self.config.engine = self.config.engine.engine(engine);
        self
    }

    /// Sets the path (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.engine = self.config.engine.path(path);
        self
    }

    /// Sets the CORS policy of the long-polling transport.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.config.engine = self.config.engine.cors(cors);
        self
    }

    /// How long a client may take to connect to a namespace after its
    /// Engine.IO handshake before it is dropped. Default 45 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The packet encoding (default: socket.io-parser's text encoding;
    /// `Parser::Msgpack` for clients using socket.io-msgpack-parser).
    pub fn parser(mut self, parser: Parser) -> Self {
        self.config.decoder = self.config.decoder.parser(parser);
        self
    }

    /// Most binary attachments one packet may carry. Default 10.
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.config.decoder = self.config.decoder.max_attachments(n);
        self
    }

    /// Most bytes the attachments of one packet may add up to. Default:
    /// the Engine.IO `max_payload` (1 000 000 bytes unless changed), so a
    /// packet weighs no more with attachments than one message may. Past
    /// it the connection is closed.
    pub fn max_attachment_bytes(mut self, bytes: usize) -> Self {
        self.max_attachment_bytes = Some(bytes);
        self
    }

    /// How long a binary packet may wait for its attachments after its
    /// text arrived. Default 30 s. Past it the connection is closed: a
    /// client cannot hold a half-received packet for ever.
    pub fn attachment_timeout(mut self, timeout: Duration) -> Self {
        self.config.decoder = self.config.decoder.attachment_timeout(timeout);
        self
    }

    /// Default timeout of `emit_with_ack`. Default 30 s.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.config.ack_timeout = timeout;
        self
    }

    /// Turns on connection state recovery (off by default, as in the
    /// reference): a client that lost its connection and comes back within
    /// `max_disconnection_duration` (2 min by default) gets its socket id,
    /// rooms and data back, and the events broadcast meanwhile. Every event
    /// then carries an offset as its last argument, as with the reference.
    pub fn connection_state_recovery(mut self, recovery: RecoveryConfig) -> Self {
        self.config.recovery = Some(recovery);
        self
    }

    /// The adapter of every namespace (default: [`LocalAdapter`], in
    /// memory, one server).
    pub fn adapter(mut self, factory: impl AdapterFactory + 'static) -> Self {
        self.config.adapter = Factory(Arc::new(factory));
        self
    }

    /// Removes a dynamic namespace's child when its last socket leaves, or
    /// when the client it was created for is refused or goes before
    /// joining (socket.io's `cleanupEmptyChildNamespaces`). Default true,
    /// unlike the reference: clients choose the names, and without it
    /// every name ever tried keeps a namespace and its adapter for as long
    /// as the server runs. A child the application asked for with
    /// [`SocketIo::of`] is kept either way.
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.config.cleanup_empty_child_namespaces = cleanup;
        self
    }

    /// Most namespaces one client may join at once; a CONNECT past it gets
    /// `connect_error` "Too many namespaces". Default 100 (the reference has
    /// no limit).
    pub fn max_namespaces_per_client(mut self, n: usize) -> Self {
        self.config.max_namespaces_per_client = n.max(1);
        self
    }

    /// Longest name, in bytes, of a dynamic namespace's child: a CONNECT
    /// to a longer name creates nothing and gets `connect_error` "Invalid
    /// namespace". Default 256 (the reference has no limit). Namespaces
    /// registered with [`SocketIo::ns`] are not limited.
    pub fn max_namespace_name_len(mut self, bytes: usize) -> Self {
        self.config.max_namespace_name_len = bytes;
        self
    }

    /// Adds shared state that handlers take with the
    /// [`State<T>`](super::State) extractor (one value per type; cloned
    /// for each handler, so share large or mutable state through an
    /// `Arc`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use sockio_server::socketio::{SocketIo, SocketRef, State};
    ///
    /// #[derive(Clone, Default)]
    /// struct Stats(Arc<AtomicUsize>);
    ///
    /// let io = SocketIo::builder().with_state(Stats::default()).build();
    /// io.ns("/", |_socket: SocketRef, State(stats): State<Stats>| {
    ///     stats.0.fetch_add(1, Ordering::Relaxed);
    /// });
    /// ```
    pub fn with_state<T: Clone + Send + Sync + 'static>(mut self, state: T) -> Self {
        self.config.state.insert(state);
        self
    }

    /// The server.
    pub fn build(mut self) -> SocketIo {
        let bytes = self
            .max_attachment_bytes
            .unwrap_or(self.config.engine.engine.max_payload);
        self.config.decoder = self.config.decoder.max_attachment_bytes(bytes);
        SocketIo::from_config(self.config)
    }
}
