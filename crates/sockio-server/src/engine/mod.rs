//! The Engine.IO v4 server: sessions over HTTP long-polling and WebSocket,
//! upgrades, heartbeats, as a tower [`Service`](tower_service::Service).
//!
//! The protocol logic is [`sockio_core::engine::Session`]; this module
//! moves bytes between it and hyper, runs its timers, and calls an
//! [`EngineHandler`] with what the clients send.

mod config;
mod errors;
mod flags;
mod polling;
mod query;
mod service;
mod session;
mod upgraded;
mod websocket;

use crate::sync::{lock_read, lock_write};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use sockio_core::engine::{CloseReason, Packet, Str, TransportKind};

pub use config::{AllowRequest, Cookie, Cors, EngineServerConfig, HttpCompression};
pub use errors::EngineError;
pub use flags::SendFlags;
pub use service::{EngineBody, EngineIoLayer, EngineIoService, NotFound};
use session::SessionEntry;
pub use session::SharedPacket;
pub(crate) use session::now;

/// What the application does with Engine.IO sessions. Calls for one
/// session come in the order its packets arrived; they must not block
/// (hand long work to a task).
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened (its handshake packet is queued).
    fn on_open(&self, socket: &EngineSocket) {
        let _ = socket;
    }
    /// A text message arrived.
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        let _ = (socket, text);
    }
    /// A binary message arrived.
    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        let _ = (socket, data);
    }
    /// The session closed.
    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        let _ = (socket, reason);
    }
    /// The deadline set with [`EngineSocket::set_deadline`] passed. Called
    /// on the session's timer task, once per deadline set, and not after
    /// the session closed.
    fn on_deadline(&self, socket: &EngineSocket) {
        let _ = socket;
    }
}

/// A handle to the Engine.IO server: the session table and the handler.
/// Cheap to clone.
#[derive(Clone)]
pub struct EngineIo {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: EngineServerConfig,
    pub(crate) ws_config: sockio_ws::Config,
    sessions: RwLock<HashMap<Arc<str>, Arc<SessionEntry>>>,
    pub(crate) handler: Arc<dyn EngineHandler>,
    shutting_down: AtomicBool,
}

impl Inner {
    pub(crate) fn get(&self, sid: &str) -> Option<Arc<SessionEntry>> {
        lock_read(&self.sessions).get(sid).cloned()
    }

    pub(crate) fn insert(&self, entry: Arc<SessionEntry>) {
        {
            let mut map = lock_write(&self.sessions);
            map.insert(entry.sid.clone(), entry);
        }
    }

    pub(crate) fn remove(&self, sid: &str) {
        {
            let mut map = lock_write(&self.sessions);
            map.remove(sid);
        }
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

impl EngineIo {
    /// A server with `config`, calling `handler`.
    pub fn new(config: EngineServerConfig, handler: impl EngineHandler) -> Self {
        let ws_config = sockio_ws::Config::default()
            .max_message_size(config.engine.max_payload)
            // The WebSocket queue is the session's buffer once on WebSocket.
            .write_queue_frames(config.engine.max_buffered_packets)
            .write_queue_bytes(config.engine.max_buffered_bytes)
            .deflate(if config.per_message_deflate {
                sockio_ws::DeflateConfig::enabled()
            } else {
                sockio_ws::DeflateConfig::default()
            });
        Self {
            inner: Arc::new(Inner {
                config,
                ws_config,
                sessions: RwLock::new(HashMap::new()),
                handler: Arc::new(handler),
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// The tower service answering Engine.IO requests, 404 for others.
    pub fn service(&self) -> EngineIoService<NotFound> {
        EngineIoService::new(self.clone(), NotFound)
    }

    /// A tower layer that answers Engine.IO requests under the configured
    /// path and passes every other request to the inner service.
    pub fn layer(&self) -> EngineIoLayer {
        EngineIoLayer::new(self.clone())
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        lock_read(&self.inner.sessions).len()
    }

    /// A session by id.
    pub fn socket(&self, sid: &str) -> Option<EngineSocket> {
        self.inner.get(sid).map(|entry| EngineSocket {
            entry,
            engine: Arc::downgrade(&self.inner),
        })
    }

    /// Refuses new sessions and closes every open one with "server shutting
    /// down" (pending polls answered with a close packet, WebSockets closed
    /// with 1001).
    pub fn close(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let entries: Vec<_> = self
            .inner
            .sessions
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for entry in entries {
            let mut state = entry.lock();
            state.core.close(CloseReason::ServerShuttingDown);
            entry.process(&self.inner, state).run(&self.inner, &entry);
        }
    }
}

/// A copy of `uri` in its own allocation. hyper parses a request in place:
/// its URI and header values are slices of the connection's 8 KiB read
/// buffer, which a clone would keep alive for the session's life
/// (measured with heaptrack: 8 KiB of every idle WebSocket connection).
fn own_uri(uri: &http::Uri) -> http::Uri {
    http::Uri::from_maybe_shared(bytes::Bytes::from(uri.to_string()))
        .unwrap_or_else(|_| uri.clone())
}

/// A copy of `headers` whose values share one allocation of their own;
/// see [`own_uri`].
fn own_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let len = headers.values().map(|v| v.len()).sum();
    let mut all = bytes::BytesMut::with_capacity(len);
    for value in headers.values() {
        all.extend_from_slice(value.as_bytes());
    }
    let all = all.freeze();
    let mut owned = http::HeaderMap::with_capacity(headers.len());
    let mut at = 0;
    for (name, value) in headers {
        let end = at + value.len();
        let mut copy = http::HeaderValue::from_maybe_shared(all.slice(at..end))
            .unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        owned.append(name.clone(), copy);
        at = end;
    }
    owned
}

/// The HTTP request that opened a session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestInfo {
    /// The request URI (path and query).
    pub uri: http::Uri,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The client's address, when the server knows it (`serve` records it;
    /// behind axum, use `into_make_service_with_connect_info`).
    pub remote_addr: Option<std::net::SocketAddr>,
    /// When the session opened.
    pub time: std::time::SystemTime,
}

impl RequestInfo {
    pub(crate) fn from_request<B>(req: &http::Request<B>) -> Self {
        let remote_addr = req
            .extensions()
            .get::<RemoteAddr>()
            .map(|a| a.0)
            .or_else(|| req.extensions().get::<std::net::SocketAddr>().copied());
        Self {
            uri: own_uri(req.uri()),
            headers: own_headers(req.headers()),
            remote_addr,
            time: std::time::SystemTime::now(),
        }
    }

    /// The value of query parameter `name` (names and values
    /// percent-decoded; the last of repeated names wins, as in the
    /// reference).
    pub fn query(&self, name: &str) -> Option<String> {
        query::param(self.uri.query(), name)
    }

    /// Every query parameter, decoded, each name once (where it first
    /// appears) with its last value: the reference's `handshake.query`.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query::params(self.uri.query())
    }
}

/// The peer address of a connection, put in each request's extensions by
/// [`serve`](crate::serve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// One Engine.IO session, as the handler sees it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineSocket {
    entry: Arc<SessionEntry>,
    engine: Weak<Inner>,
}

impl EngineSocket {
    /// The session id.
    pub fn sid(&self) -> &str {
        &self.entry.sid
    }

    /// Attaches the handler's state for this session, once (a second call
    /// does nothing); the session keeps a weak reference. Found again by
    /// [`EngineSocket::app_data`] without a table lookup per message.
    pub(crate) fn set_app_data<T: std::any::Any + Send + Sync>(&self, data: &Arc<T>) {
        let data: Arc<dyn std::any::Any + Send + Sync> = data.clone();
        let _ = self.entry.app.set(Arc::downgrade(&data));
    }

    /// The state [`EngineSocket::set_app_data`] attached, if it is a `T`
    /// and still alive.
    pub(crate) fn app_data<T: std::any::Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.entry.app.get()?.upgrade()?.downcast().ok()
    }

    /// The request that opened the session.
    pub fn request(&self) -> &RequestInfo {
        &self.entry.request
    }

    pub(crate) fn request_arc(&self) -> Arc<RequestInfo> {
        self.entry.request.clone()
    }

    /// The current transport.
    pub fn transport(&self) -> TransportKind {
        self.entry.lock().core.transport()
    }

    /// Sends a text message. False once the session is closed.
    pub fn send_text(&self, text: impl Into<Str>) -> bool {
        self.send_with(Packet::Message(text.into()), SendFlags::default())
    }

    /// Sends a binary message. False once the session is closed.
    pub fn send_binary(&self, data: impl Into<Bytes>) -> bool {
        self.send_with(Packet::Binary(data.into()), SendFlags::default())
    }

    /// Sends a packet encoded once for many receivers (see
    /// [`SharedPacket`]). False once the session is closed.
    pub fn send_shared(&self, shared: &SharedPacket) -> bool {
        self.send_shared_with(shared, SendFlags::default())
    }

    /// Sends a message (`Packet::Message` or `Packet::Binary`; the other
    /// packet types belong to the session itself and are refused) with
    /// `flags`. False when it was not queued: the session is closed, the
    /// packet is not a message, or it was volatile and the transport not
    /// ready (see [`SendFlags`]).
    pub fn send_with(&self, packet: Packet, flags: SendFlags) -> bool {
        if !matches!(packet, Packet::Message(_) | Packet::Binary(_)) {
            return false;
        }
        match self.engine.upgrade() {
            Some(inner) => session::send(&inner, &self.entry, packet, flags),
            None => false,
        }
    }

    /// Sends a packet encoded once for many receivers (see
    /// [`SharedPacket`]) with `flags`. False when it was not queued (as
    /// [`EngineSocket::send_with`]).
    pub fn send_shared_with(&self, shared: &SharedPacket, flags: SendFlags) -> bool {
        session::send_shared(&self.engine, &self.entry, shared, flags)
    }

    /// Sends messages one after the other with no other sender's message
    /// between them (a Socket.IO packet's text and its attachments), with
    /// `flags` (volatile: all or none). False when they were not all
    /// queued; only messages (`Packet::Message`, `Packet::Binary`) are
    /// taken.
    pub fn send_all_with(
        &self,
        packets: impl IntoIterator<Item = Packet>,
        flags: SendFlags,
    ) -> bool {
        let Some(inner) = self.engine.upgrade() else {
            return false;
        };
        let mut refused = false;
        let messages = packets.into_iter().take_while(|p| {
            refused = !matches!(p, Packet::Message(_) | Packet::Binary(_));
            !refused
        });
        session::send_all(&inner, &self.entry, messages, flags) && !refused
    }

    /// [`EngineSocket::send_all_with`] of packets encoded once for many
    /// receivers.
    pub fn send_shared_all_with(&self, shared: &[SharedPacket], flags: SendFlags) -> bool {
        session::send_shared_all(&self.engine, &self.entry, shared, flags)
    }

    /// Whether a message sent now would be written at once: the condition
    /// under which a volatile message is sent rather than dropped (see
    /// [`SendFlags::volatile`]).
    pub fn writable(&self) -> bool {
        self.entry.lock().writable()
    }

    /// Closes the session ("forced close"). A WebSocket gets a close frame
    /// with 1000, a waiting poll the close packet.
    pub fn close(&self) {
        self.close_forced(false);
    }

    /// Closes the session because the client broke a protocol carried on
    /// it (a packet the Socket.IO layer cannot accept). As
    /// [`EngineSocket::close`] ("forced close", a waiting or next poll gets
    /// the close packet), except that a WebSocket is closed with 1008
    /// (policy violation) instead of 1000.
    pub fn close_for_violation(&self) {
        self.close_forced(true);
    }

    fn close_forced(&self, violation: bool) {
        if let Some(inner) = self.engine.upgrade() {
            let mut state = self.entry.lock();
            if violation && !state.core.is_closed() {
                state.violation = true;
            }
            state.core.close(CloseReason::ForcedClose);
            self.entry.process(&inner, state).run(&inner, &self.entry);
        }
    }

    /// Asks for [`EngineHandler::on_deadline`] to be called at `at` (on
    /// the session's own timer, with the session's clock: tokio's), in
    /// place of any deadline set before; `None` cancels. For the layer
    /// above to bound its own waits without a timer of its own.
    pub fn set_deadline(&self, at: Option<std::time::Instant>) {
        let mut state = self.entry.lock();
        if state.app_deadline != at {
            state.app_deadline = at;
            let stale = state.timer_stale();
            drop(state);
            if stale {
                self.entry.timer.notify_one();
            }
        }
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.entry.lock().core.is_closed()
    }

    /// Why the session closed (`None` while open).
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.entry.lock().core.close_reason()
    }
}

/// Adds the sticky-session cookie to a handshake response, if configured.
pub(crate) fn set_cookie<B>(inner: &Inner, res: &mut http::Response<B>, sid: &str) {
    if let Some(cookie) = &inner.config.cookie
        && let Ok(value) = http::HeaderValue::from_str(&cookie.header(sid))
    {
        res.headers_mut().append(http::header::SET_COOKIE, value);
    }
}

/// A new Socket.IO socket id: the same shape as a session id, drawn
/// separately, so that a socket id never reveals its Engine.IO session.
pub(crate) fn new_socket_id() -> String {
    new_sid()
}

/// A new session id: 120 bits from the OS RNG as 20 characters of URL-safe
/// base64, the shape of the reference's ids.
pub(crate) fn new_sid() -> String {
    let mut bytes = [0u8; 15];
    // Without the OS RNG no session can be safely identified; fail the
    // handshake rather than hand out a guessable id.
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_info_owns_its_uri_and_headers() {
        let head = bytes::Bytes::from_static(b"/socket.io/?EIO=4&transport=websocket&x=1");
        let mut headers = http::HeaderMap::new();
        headers.append("x-a", http::HeaderValue::from_static("1"));
        headers.append("x-b", http::HeaderValue::from_static("two"));
        headers.append("x-a", http::HeaderValue::from_static("3"));
        let mut secret = http::HeaderValue::from_static("token");
        secret.set_sensitive(true);
        headers.append(http::header::AUTHORIZATION, secret);
        headers.append(http::header::HOST, http::HeaderValue::from_static(""));
        let uri = http::Uri::from_maybe_shared(head).unwrap();
        let owned = own_headers(&headers);
        assert_eq!(owned, headers);
        let order = |m: &http::HeaderMap| {
            m.iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&owned), order(&headers));
        assert!(owned[http::header::AUTHORIZATION].is_sensitive());
        assert_eq!(own_uri(&uri), uri);
        assert_eq!(own_uri(&uri).query(), Some("EIO=4&transport=websocket&x=1"));
        let absolute: http::Uri = "http://example.com:8080/a?b=c".parse().unwrap();
        assert_eq!(own_uri(&absolute), absolute);
    }

    /// RELIABILITY.md case 23: a million ids, no collision, 20 URL-safe
    /// characters each.
    #[test]
    fn session_ids_are_unique_and_url_safe() {
        let mut seen = std::collections::HashSet::with_capacity(1_000_000);
        for _ in 0..1_000_000 {
            let sid = new_sid();
            assert_eq!(sid.len(), 20);
            assert!(
                sid.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert!(seen.insert(sid));
        }
    }
}
