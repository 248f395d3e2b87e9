//! A client: one Engine.IO session with its packet decoder and its sockets
//! (one per namespace it joined), and the glue that feeds it Engine.IO's
//! events.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use sockio_core::adapter::BroadcastFlags;
use sockio_core::engine::{CloseReason, Str};
use sockio_core::socket::connection::{
    Connection, ConnectionConfig, ConnectionError, DisconnectReason as LeftBecause, Event,
    StateError,
};
use sockio_core::socket::{Args, Encoded, Packet, Parser, RawJson, Recovery};

use super::IoInner;
use super::errors::EmitError;
use super::namespace::Namespace;
use super::queue;
use super::reason::DisconnectReason;
use super::socket::SocketRef;
use crate::engine::{EngineHandler, EngineSocket, SendFlags, SharedPacket};
use crate::sync::lock;

/// Where the Engine.IO handler finds the server; emptied by `close` so that
/// the server and its engine do not keep each other alive.
pub(crate) type GlueSlot = Mutex<Option<Arc<IoInner>>>;

/// Feeds Engine.IO events to the Socket.IO clients.
pub(crate) struct EngineGlue(pub(crate) Arc<GlueSlot>);

impl EngineGlue {
    fn io(&self) -> Option<Arc<IoInner>> {
        lock(&self.0).clone()
    }

    /// The session's client: attached to the session when it opened (no
    /// lock or table lookup per message), else from the server's table.
    fn client(&self, socket: &EngineSocket) -> Option<Arc<Client>> {
        socket
            .app_data::<Client>()
            .or_else(|| self.io().and_then(|io| io.client(socket.sid())))
    }
}

impl EngineHandler for EngineGlue {
    fn on_open(&self, socket: &EngineSocket) {
        let Some(io) = self.io() else { return };
        let config = ConnectionConfig::default()
            .decoder(io.config.decoder.clone())
            .connect_timeout(io.config.connect_timeout)
            .max_namespaces(io.config.max_namespaces_per_client);
        let client = Arc::new(Client {
            esock: socket.clone(),
            io: Arc::downgrade(&io),
            parser: io.config.decoder.parser,
            conn: Mutex::new(Driven {
                conn: Connection::new(
                    sockio_core::socket::connection::Role::Server,
                    config,
                    crate::engine::now(),
                ),
                deadline: None,
            }),
            sockets: Mutex::new(Sockets::default()),
        });
        lock(&io.clients).insert(Arc::from(socket.sid()), client.clone());
        socket.set_app_data(&client);
        // The connect timeout runs on the session's own timer: nothing
        // outlives the session for it.
        client.drive(&BroadcastFlags::default(), |_, _| ());
    }

    fn on_message(&self, socket: &EngineSocket, text: Str) {
        if let Some(client) = self.client(socket) {
            client.receive(|c, now| c.conn.handle_text(&text, now));
        }
    }

    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        if let Some(client) = self.client(socket) {
            client.receive(|c, now| c.conn.handle_binary(data, now));
        }
    }

    /// The connection's deadline: acks past theirs, a binary packet whose
    /// attachments are overdue (the connection closes), or no namespace
    /// joined by the connect timeout (the connection closes).
    fn on_deadline(&self, socket: &EngineSocket) {
        if let Some(client) = self.client(socket) {
            client.receive(|c, now| {
                // The session cleared the deadline that fired.
                c.deadline = None;
                c.conn.handle_timeout(now)
            });
        }
    }

    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        let Some(io) = self.io() else { return };
        let client = lock(&io.clients).remove(socket.sid());
        if let Some(client) = client {
            client.drive(&BroadcastFlags::default(), |c, _| c.conn.close(reason));
            client.closed(DisconnectReason::from_engine(reason));
        }
    }
}

/// The connection state machine and the deadline last given to the
/// session for it.
pub(crate) struct Driven {
    pub(crate) conn: Connection,
    deadline: Option<Instant>,
}

impl Driven {
    /// Points the session's deadline at the connection's next one (the
    /// session is told only of changes).
    fn sync_deadline(&mut self, esock: &EngineSocket) {
        let deadline = self.conn.poll_timeout();
        if deadline != self.deadline {
            self.deadline = deadline;
            esock.set_deadline(deadline);
        }
    }
}

pub(crate) struct Client {
    pub(crate) esock: EngineSocket,
    io: std::sync::Weak<IoInner>,
    parser: Parser,
    /// The Socket.IO connection (sockio-core's sans-IO machine): decoding,
    /// namespaces joined, ack ids and deadlines, the connect timeout. Held
    /// while its output is handed to the session, so packets keep their
    /// order.
    conn: Mutex<Driven>,
    sockets: Mutex<Sockets>,
}

/// A client's sockets, by namespace, in the order they joined: a short
/// list (most clients join one or two namespaces, at most
/// `max_namespaces_per_client`), searched in order. A hash map cost a
/// SipHash of the namespace per event (1.8 % of an echo's instructions)
/// and 150 bytes per connection.
#[derive(Default)]
struct Sockets(Vec<(Box<str>, SocketRef)>);

impl Sockets {
    fn get(&self, nsp: &str) -> Option<&SocketRef> {
        self.0.iter().find(|(n, _)| &**n == nsp).map(|(_, s)| s)
    }

    fn insert(&mut self, nsp: &str, socket: SocketRef) {
        match self.0.iter_mut().find(|(n, _)| &**n == nsp) {
            Some((_, slot)) => *slot = socket,
            None => {
                if self.0.len() == self.0.capacity() && self.0.capacity() < 4 {
                    self.0.reserve_exact(self.0.capacity().max(1));
                }
                self.0.push((nsp.into(), socket));
            }
        }
    }

    fn remove(&mut self, nsp: &str) -> Option<SocketRef> {
        let at = self.0.iter().position(|(n, _)| &**n == nsp)?;
        Some(self.0.remove(at).1)
    }

    fn all(&self) -> impl Iterator<Item = &SocketRef> {
        self.0.iter().map(|(_, s)| s)
    }

    fn take_all(&mut self) -> Vec<SocketRef> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }
}

impl Client {
    /// Runs `step` on the connection at the session's time, hands what it
    /// queued to the session (the first message with `flags`: a volatile
    /// packet is dropped whole), points the session's deadline at the
    /// connection's next one, then handles what happened. Returns the
    /// step's result and whether everything queued was taken.
    pub(crate) fn drive<R>(
        self: &Arc<Self>,
        flags: &BroadcastFlags,
        step: impl FnOnce(&mut Driven, Instant) -> R,
    ) -> (R, bool) {
        let mut events = Vec::new();
        let (result, sent) = {
            let mut driven = lock(&self.conn);
            let result = step(&mut driven, crate::engine::now());
            // One call of the session for all: no other sender's message
            // comes between a packet's text and its attachments.
            let sent = driven.conn.queued() == 0
                || self.esock.send_all_with(
                    std::iter::from_fn(|| driven.conn.poll_transmit()),
                    send_flags(flags),
                );
            // Whatever a refused send left behind goes: the session is
            // closed, or it was a volatile packet.
            while driven.conn.poll_transmit().is_some() {}
            while let Some(event) = driven.conn.poll_event() {
                events.push(event);
            }
            driven.sync_deadline(&self.esock);
            (result, sent)
        };
        for event in events {
            self.handle(event);
        }
        (result, sent)
    }

    /// Feeds input to the connection; a protocol error closes the
    /// connection (1008 on a WebSocket), the connect timeout closes it
    /// plainly.
    fn receive(
        self: &Arc<Self>,
        step: impl FnOnce(&mut Driven, Instant) -> Result<(), ConnectionError>,
    ) {
        let (result, _) = self.drive(&BroadcastFlags::default(), step);
        match result {
            Ok(()) => {}
            Err(ConnectionError::ConnectTimeout) => self.esock.close(),
            Err(_) => self.esock.close_for_violation(),
        }
    }

    /// Handles what the connection reported.
    fn handle(self: &Arc<Self>, event: Event) {
        match event {
            Event::ConnectRequest {
                nsp,
                auth,
                recovery,
            } => queue::run_now_or_spawn(self.clone().join(nsp, auth, recovery)),
            Event::Event { nsp, args, id } => {
                if let Some(socket) = self.socket(&nsp) {
                    socket.dispatch_event(args, id);
                }
            }
            Event::Ack { nsp, id, args } => {
                if let Some(socket) = self.socket(&nsp) {
                    socket.dispatch_ack(id, args);
                }
            }
            Event::AckTimedOut { nsp, id } => {
                if let Some(socket) = self.socket(&nsp) {
                    socket.ack_timed_out(id);
                }
            }
            Event::Disconnected {
                nsp,
                reason: LeftBecause::Peer,
                ..
            } => {
                if let Some(socket) = self.forget(&nsp) {
                    socket.closed(DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            // Server-side leaving and closing are handled where they
            // start; the client role's events do not happen here.
            _ => {}
        }
    }

    /// Emits on `nsp` (`ack`: with this id, awaited until `deadline`).
    pub(crate) fn emit(
        self: &Arc<Self>,
        nsp: &str,
        args: Args,
        flags: &BroadcastFlags,
        ack: Option<(u64, Instant)>,
    ) -> Result<(), EmitError> {
        let (result, sent) = self.drive(flags, |d, _| match ack {
            Some((id, deadline)) => d.conn.emit_with_ack_id(nsp, args, id, Some(deadline)),
            None => d.conn.emit(nsp, args),
        });
        self.outcome(&result, sent, flags.volatile)
    }

    /// Answers event `id` of `nsp`.
    pub(crate) fn ack(self: &Arc<Self>, nsp: &str, id: u64, args: Args) -> Result<(), EmitError> {
        let (result, sent) =
            self.drive(&BroadcastFlags::default(), |d, _| d.conn.ack(nsp, id, args));
        self.outcome(&result, sent, false)
    }

    /// Awaits ack `id` of `nsp` (sent in a broadcast's shared frames)
    /// until `deadline`.
    pub(crate) fn expect_ack(&self, nsp: &str, id: u64, deadline: Instant) -> bool {
        let mut driven = lock(&self.conn);
        let awaited = driven.conn.expect_ack(nsp, id, Some(deadline)).is_ok();
        driven.sync_deadline(&self.esock);
        awaited
    }

    /// Stops awaiting ack `id` of `nsp`.
    pub(crate) fn cancel_ack(&self, nsp: &str, id: u64) {
        lock(&self.conn).conn.cancel_ack(nsp, id);
    }

    /// What a step that queued a packet means for the caller.
    fn outcome(
        &self,
        result: &Result<(), StateError>,
        sent: bool,
        volatile: bool,
    ) -> Result<(), EmitError> {
        match result {
            Err(StateError::InvalidEventName) => Err(EmitError::ReservedEvent),
            Err(_) => Err(EmitError::Disconnected),
            Ok(()) if sent || (volatile && !self.esock.is_closed()) => Ok(()),
            Ok(()) if self.esock.close_reason() == Some(CloseReason::SlowConsumer) => {
                Err(EmitError::QueueFull)
            }
            Ok(()) => Err(EmitError::Disconnected),
        }
    }

    /// Leaves `nsp` from the server's side: DISCONNECT is sent.
    pub(crate) fn leave(self: &Arc<Self>, nsp: &str) {
        self.drive(&BroadcastFlags::default(), |d, _| {
            let _ = d.conn.disconnect(nsp);
        });
    }

    fn socket(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.sockets).get(nsp).cloned()
    }

    /// Forgets the socket of `nsp` (it disconnected).
    pub(crate) fn forget(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.sockets).remove(nsp)
    }

    /// Finds the namespace (creating a dynamic one), restores the session
    /// if the client asks and may (connection state recovery), runs the
    /// middlewares, then answers with the socket id or a `connect_error`.
    /// Ready at once with the in-memory adapter and synchronous
    /// middlewares; a remote adapter or an asynchronous middleware may
    /// make it wait.
    async fn join(self: Arc<Self>, nsp: Str, auth: Option<RawJson>, recovery: Option<Recovery>) {
        let Some(io) = self.io.upgrade() else { return };
        let auth =
            auth.unwrap_or_else(|| RawJson::new("{}").unwrap_or_else(|_| RawJson::string("")));
        // The connection checked the client's namespace cap before this.
        let Some(ns) = io.namespace_for(&nsp, &auth) else {
            self.refuse(&nsp, "Invalid namespace", None);
            return;
        };
        // A dynamic child made for this client goes again if the client does
        // not end up in it (refused, or gone before joining).
        let joined = self
            .clone()
            .admit_and_join(&io, &ns, &nsp, auth, recovery)
            .await;
        if !joined {
            io.namespace_emptied(&ns);
        }
    }

    fn refuse(self: &Arc<Self>, nsp: &str, message: &str, data: Option<&RawJson>) {
        self.drive(&BroadcastFlags::default(), |d, _| {
            let _ = d.conn.refuse(nsp, message, data);
        });
    }

    /// The rest of [`Client::join`] once the namespace is found; true if the
    /// client joined it.
    async fn admit_and_join(
        self: Arc<Self>,
        io: &Arc<IoInner>,
        ns: &Arc<Namespace>,
        nsp: &str,
        auth: RawJson,
        recovery: Option<Recovery>,
    ) -> bool {
        let mut restored = None;
        if let (Some(_), Some(recovery)) = (&io.config.recovery, recovery) {
            restored = ns
                .adapter
                .restore_session(&recovery.pid, &recovery.offset)
                .await
                .ok()
                .flatten();
        }
        if self.esock.is_closed() {
            return false;
        }
        let socket = SocketRef::new(
            ns.clone(),
            self.clone(),
            auth,
            restored.as_ref().map(|r| &r.session),
        );
        let skip_middlewares = restored.is_some()
            && io
                .config
                .recovery
                .as_ref()
                .is_some_and(|r| r.skip_middlewares);
        let admitted = if skip_middlewares {
            Ok(())
        } else {
            ns.admit(&socket).await
        };
        if self.esock.is_closed() {
            return false;
        }
        if let Err(refusal) = admitted {
            self.refuse(nsp, &refusal.message, refusal.data.as_ref());
            return false;
        }
        lock(&self.sockets).insert(nsp, socket.clone());
        // In the namespace before the client hears it is connected: a
        // broadcast that follows the CONNECT reply reaches it.
        ns.insert(&socket);
        io.keep_namespace(ns);
        let missed = match restored {
            Some(restored) => {
                socket.join_all(restored.session.rooms.iter().map(|r| r.to_string()));
                restored.missed
            }
            None => Vec::new(),
        };
        ns.prepare(&socket);
        // The events missed go before the CONNECT reply, as the reference
        // sends them: the client delivers them before its `connect` event.
        let (accepted, _) = self.drive(&BroadcastFlags::default(), |d, _| {
            d.conn
                .accept_recovered(nsp, socket.id(), socket.pid(), missed)
        });
        if accepted.is_err() {
            // The connection closed while the middlewares ran.
            lock(&self.sockets).remove(nsp);
            ns.remove(&socket);
            return false;
        }
        ns.connected(&socket);
        socket.release_held();
        true
    }

    /// The parser this client speaks.
    pub(crate) fn parser(&self) -> Parser {
        self.parser
    }

    /// Disconnects every socket of this client from its namespace, then
    /// closes the connection (`disconnect(true)`).
    pub(crate) fn close_all(&self) {
        let sockets: Vec<SocketRef> = lock(&self.sockets).all().cloned().collect();
        for socket in sockets {
            socket.disconnect();
        }
        self.esock.close();
    }

    /// The transport closed: every socket disconnects with its reason.
    fn closed(&self, reason: DisconnectReason) {
        let sockets: Vec<SocketRef> = lock(&self.sockets).take_all();
        for socket in sockets {
            socket.closed(reason);
        }
    }
}

/// The Engine.IO messages carrying a Socket.IO packet: with the text
/// parser its text then one binary message per attachment, with msgpack
/// one binary message.
pub(crate) fn engine_messages(
    parser: Parser,
    packet: &Packet,
) -> impl Iterator<Item = sockio_core::engine::Packet> {
    use sockio_core::engine::Packet as EnginePacket;
    let (first, attachments) = match parser.encode(packet) {
        Encoded::Text { text, attachments } => (EnginePacket::Message(text), attachments),
        Encoded::Binary(data) => (EnginePacket::Binary(data), Vec::new()),
    };
    std::iter::once(first).chain(attachments.into_iter().map(EnginePacket::Binary))
}

/// Sends frames encoded once for many receivers, in one call of the
/// session (a volatile packet is sent whole or not at all).
pub(crate) fn send_frames(
    esock: &EngineSocket,
    frames: &[SharedPacket],
    flags: &BroadcastFlags,
) -> bool {
    esock.send_shared_all_with(frames, send_flags(flags))
}

fn send_flags(flags: &BroadcastFlags) -> SendFlags {
    SendFlags::new()
        .volatile(flags.volatile)
        .compress(flags.compress)
}
