//! A client: one Engine.IO session with its packet decoder and its sockets
//! (one per namespace it joined), and the glue that feeds it Engine.IO's
//! events.

use crate::sync::lock;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use sockio_core::adapter::BroadcastFlags;
use sockio_core::engine::{CloseReason, Str};
use sockio_core::socket::{
    Data, DecodeError, Decoder, Encoded, Packet, PacketKind, Parser, RawJson,
};

use super::IoInner;
use super::namespace::Namespace;
use super::reason::DisconnectReason;
use super::socket::SocketRef;
use crate::engine::{EngineHandler, EngineSocket, SendFlags, SharedPacket};

/// Where the Engine.IO handler finds the server; emptied by `close` so that
/// the server and its engine do not keep each other alive.
pub(crate) type GlueSlot = Mutex<Option<Arc<IoInner>>>;

/// Feeds Engine.IO events to the Socket.IO clients.
pub(crate) struct EngineGlue(pub(crate) Arc<GlueSlot>);

impl EngineGlue {
    fn io(&self) -> Option<Arc<IoInner>> {
        lock(&self.0).clone()
    }
}

impl EngineHandler for EngineGlue {
    fn on_open(&self, socket: &EngineSocket) {
        let Some(io) = self.io() else { return };
        let client = Arc::new(Client {
            esock: socket.clone(),
            io: Arc::downgrade(&io),
            parser: io.config.decoder.parser,
            decoder: Mutex::new(Decoder::new(io.config.decoder.clone())),
            sockets: Mutex::new(HashMap::new()),
            connecting: Mutex::default(),
            connected_once: AtomicBool::new(false),
            connect_by: crate::engine::now() + io.config.connect_timeout,
            deadline_set: AtomicBool::new(true),
        });
        // A client that joins no namespace in time is dropped, on the
        // session's own timer: nothing outlives the session for it.
        socket.set_deadline(Some(client.connect_by));
        {
            let mut clients = lock(&io.clients);
            clients.insert(Arc::from(socket.sid()), client);
        }
    }

    fn on_message(&self, socket: &EngineSocket, text: Str) {
        if let Some(client) = self.io().and_then(|io| io.client(socket.sid())) {
            let decoded = client.decode(|d, now| d.decode_text_at(&text, now));
            client.handle(decoded);
        }
    }

    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        if let Some(client) = self.io().and_then(|io| io.client(socket.sid())) {
            let decoded = client.decode(|d, now| d.decode_binary_at(data, now));
            client.handle(decoded);
        }
    }

    /// A binary packet's attachments may be overdue (a packet that waited
    /// longer than the decoder's `attachment_timeout` closes the
    /// connection), or the connect timeout may have passed with no
    /// namespace joined (the connection is closed).
    fn on_deadline(&self, socket: &EngineSocket) {
        if let Some(client) = self.io().and_then(|io| io.client(socket.sid())) {
            let expired = client.decode(|d, now| d.expire(now).map(|()| None));
            client.handle(expired);
            if !client.connected_once.load(Ordering::Acquire)
                && crate::engine::now() >= client.connect_by
            {
                client.esock.close();
            }
        }
    }

    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        let Some(io) = self.io() else { return };
        let client = io
            .clients
            .lock()
            .ok()
            .and_then(|mut c| c.remove(socket.sid()));
        if let Some(client) = client {
            client.closed(DisconnectReason::from_engine(reason));
        }
    }
}

pub(crate) struct Client {
    pub(crate) esock: EngineSocket,
    io: std::sync::Weak<IoInner>,
    parser: Parser,
    decoder: Mutex<Decoder>,
    sockets: Mutex<HashMap<String, SocketRef>>,
    /// Namespaces with a CONNECT being handled.
    connecting: Mutex<std::collections::HashSet<String>>,
    connected_once: AtomicBool,
    /// When the client must have joined a namespace (the connect timeout).
    connect_by: Instant,
    /// The session's deadline is set (a binary packet awaits attachments,
    /// or no namespace is joined yet).
    deadline_set: AtomicBool,
}

impl Client {
    fn lock_decoder(&self) -> std::sync::MutexGuard<'_, Decoder> {
        self.decoder.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the decoder at the session's time, then points the session's
    /// deadline at the attachments the decoder waits for, if any, so that
    /// they cannot be held back for ever.
    fn decode(
        &self,
        step: impl FnOnce(&mut Decoder, Instant) -> Result<Option<Packet>, DecodeError>,
    ) -> Result<Option<Packet>, DecodeError> {
        let (decoded, deadline) = {
            let mut decoder = self.lock_decoder();
            let decoded = step(&mut decoder, crate::engine::now());
            (decoded, decoder.deadline())
        };
        let deadline = match (deadline, self.connect_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let was_set = self.deadline_set.swap(deadline.is_some(), Ordering::AcqRel);
        if was_set || deadline.is_some() {
            self.esock.set_deadline(deadline);
        }
        decoded
    }

    /// The connect timeout's deadline, until a namespace is joined.
    fn connect_deadline(&self) -> Option<Instant> {
        (!self.connected_once.load(Ordering::Acquire)).then_some(self.connect_by)
    }

    fn socket(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.sockets).get(nsp).cloned()
    }

    fn socket_count(&self) -> usize {
        lock(&self.sockets).len()
    }

    /// Forgets the socket of `nsp` (it disconnected).
    pub(crate) fn forget(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.sockets).remove(nsp)
    }

    /// Handles one decoded message. Anything the reference would not accept
    /// (undecodable data, a packet for a namespace not joined, a reserved
    /// event name) closes the connection.
    fn handle(self: &Arc<Self>, decoded: Result<Option<Packet>, sockio_core::socket::DecodeError>) {
        let packet = match decoded {
            Ok(Some(packet)) => packet,
            Ok(None) => return,
            Err(_) => {
                self.esock.close_for_violation();
                return;
            }
        };
        match packet.kind {
            PacketKind::Connect => run_now_or_spawn(self.clone().connect(packet)),
            PacketKind::Disconnect => {
                if let Some(socket) = self.forget(&packet.nsp) {
                    socket.closed(DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            PacketKind::Event | PacketKind::BinaryEvent => match self.socket(&packet.nsp) {
                Some(socket) => socket.dispatch_event(packet),
                None => self.esock.close_for_violation(),
            },
            PacketKind::Ack | PacketKind::BinaryAck => match self.socket(&packet.nsp) {
                Some(socket) => socket.dispatch_ack(&packet),
                None => self.esock.close_for_violation(),
            },
            PacketKind::ConnectError => self.esock.close_for_violation(),
        }
    }

    /// A CONNECT. A second one for a namespace the client is connected or
    /// connecting to is ignored (the reference closes the whole connection;
    /// ignoring it harms no other namespace, as RELIABILITY case 30 asks).
    async fn connect(self: Arc<Self>, packet: Packet) {
        let nsp = packet.nsp.to_string();
        {
            let mut connecting = self.connecting.lock().unwrap_or_else(|e| e.into_inner());
            if self.socket(&nsp).is_some() || !connecting.insert(nsp.clone()) {
                return;
            }
        }
        self.clone().join(packet).await;
        self.connecting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&nsp);
    }

    /// Finds the namespace (creating a dynamic one), restores the session
    /// if the client asks and may (connection state recovery), runs the
    /// middlewares, then answers with the socket id or a `connect_error`.
    /// Ready at once with the in-memory adapter and synchronous
    /// middlewares; a remote adapter or an asynchronous middleware may
    /// make it wait.
    async fn join(self: Arc<Self>, packet: Packet) {
        let nsp = &*packet.nsp;
        let Some(io) = self.io.upgrade() else { return };
        let auth = match &packet.data {
            Data::Value(auth) => auth.clone(),
            _ => RawJson::new("{}").unwrap_or_else(|_| RawJson::string("")),
        };
        // Checked before anything is created for the name. This namespace
        // is among those connecting.
        let joined = self.socket_count() + lock(&self.connecting).len();
        if joined > io.config.max_namespaces_per_client {
            self.send_packet(&Packet::connect_error(
                packet.nsp.clone(),
                "Too many namespaces",
                None,
            ));
            return;
        }
        let Some(ns) = io.namespace_for(nsp, &auth) else {
            self.send_packet(&Packet::connect_error(
                packet.nsp.clone(),
                "Invalid namespace",
                None,
            ));
            return;
        };
        // A dynamic child made for this client goes again if the client does
        // not end up in it (refused, or gone before joining).
        let joined = self.clone().admit_and_join(&io, &ns, packet, auth).await;
        if !joined {
            io.namespace_emptied(&ns);
        }
    }

    /// The rest of [`Client::join`] once the namespace is found; true if the
    /// client joined it.
    async fn admit_and_join(
        self: Arc<Self>,
        io: &Arc<IoInner>,
        ns: &Arc<Namespace>,
        packet: Packet,
        auth: RawJson,
    ) -> bool {
        let nsp = &*packet.nsp;
        let mut restored = None;
        if let (Some(_), Some(recovery)) = (&io.config.recovery, packet.recovery()) {
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
            self.send_packet(&Packet::connect_error(
                packet.nsp.clone(),
                &refusal.message,
                refusal.data.as_ref(),
            ));
            return false;
        }
        if !self.connected_once.swap(true, Ordering::AcqRel) {
            // The connect timeout no longer applies: the session's deadline
            // is the decoder's again.
            let _ = self.decode(|_, _| Ok(None));
        }
        {
            let mut sockets = lock(&self.sockets);
            sockets.insert(nsp.to_owned(), socket.clone());
        }
        // In the namespace before the client hears it is connected: a
        // broadcast that follows the CONNECT reply reaches it.
        ns.insert(&socket);
        io.keep_namespace(ns);
        if let Some(restored) = restored {
            socket.join_all(restored.session.rooms.iter().map(|r| r.to_string()));
            // Before the CONNECT reply, as the reference does: the client
            // holds them and delivers them before its `connect` event.
            for args in restored.missed {
                self.send_packet(&Packet::event(packet.nsp.clone(), args));
            }
        }
        ns.prepare(&socket);
        self.send_packet(&Packet::connect_ok(
            packet.nsp.clone(),
            socket.id(),
            socket.pid(),
        ));
        ns.connected(&socket);
        true
    }

    /// Encodes and sends a packet to this client.
    pub(crate) fn send_packet(&self, packet: &Packet) -> bool {
        self.send_packet_with(packet, &BroadcastFlags::default())
    }

    /// Encodes and sends a packet with flags: a volatile packet the
    /// transport cannot take right now is dropped whole.
    pub(crate) fn send_packet_with(&self, packet: &Packet, flags: &BroadcastFlags) -> bool {
        send_each(
            engine_messages(self.parser, packet),
            flags,
            |message, flags| self.esock.send_with(message, flags),
        )
    }

    /// The parser this client speaks.
    pub(crate) fn parser(&self) -> Parser {
        self.parser
    }

    /// Disconnects every socket of this client from its namespace, then
    /// closes the connection (`disconnect(true)`).
    pub(crate) fn close_all(&self) {
        let sockets: Vec<SocketRef> = self
            .sockets
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default();
        for socket in sockets {
            socket.disconnect();
        }
        self.esock.close();
    }

    /// The transport closed: every socket disconnects with its reason.
    fn closed(&self, reason: DisconnectReason) {
        let sockets: Vec<SocketRef> = self
            .sockets
            .lock()
            .map(|mut s| s.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
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

/// Sends frames encoded once for many receivers (a volatile packet is
/// dropped whole: only its first frame may be refused).
pub(crate) fn send_frames(
    esock: &EngineSocket,
    frames: &[SharedPacket],
    flags: &BroadcastFlags,
) -> bool {
    send_each(frames, flags, |frame, flags| {
        esock.send_shared_with(frame, flags)
    })
}

/// Sends the messages of one Socket.IO packet, stopping at the first
/// refused. Only the first may be dropped as volatile: once it went, the
/// attachments that complete it must follow.
fn send_each<T>(
    messages: impl IntoIterator<Item = T>,
    flags: &BroadcastFlags,
    mut send: impl FnMut(T, SendFlags) -> bool,
) -> bool {
    let mut flags = SendFlags::new()
        .volatile(flags.volatile)
        .compress(flags.compress);
    for message in messages {
        if !send(message, flags) {
            return false;
        }
        flags = flags.volatile(false);
    }
    true
}

/// Runs `future` to completion right here if it never waits (the usual
/// case: the in-memory adapter answers at once), else on a task.
fn run_now_or_spawn(future: impl Future<Output = ()> + Send + 'static) {
    let mut future = Box::pin(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(future);
    }
}
