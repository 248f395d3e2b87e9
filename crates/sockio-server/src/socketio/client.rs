//! A client: one Engine.IO session with its packet decoder and its sockets
//! (one per namespace it joined), and the glue that feeds it Engine.IO's
//! events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use sockio_core::engine::{CloseReason, Str};
use sockio_core::socket::{
    Data, DecodeError, Decoder, Encoded, Packet, PacketKind, Parser, RawJson,
};

use super::IoInner;
use super::socket::{DisconnectReason, SocketRef};
use crate::engine::{EngineHandler, EngineSocket};

/// Where the Engine.IO handler finds the server; emptied by `close` so that
/// the server and its engine do not keep each other alive.
pub(crate) type GlueSlot = Mutex<Option<Arc<IoInner>>>;

/// Feeds Engine.IO events to the Socket.IO clients.
pub(crate) struct EngineGlue(pub(crate) Arc<GlueSlot>);

impl EngineGlue {
    fn io(&self) -> Option<Arc<IoInner>> {
        self.0.lock().ok()?.clone()
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
            connected_once: AtomicBool::new(false),
            deadline_set: AtomicBool::new(false),
        });
        if let Ok(mut clients) = io.clients.lock() {
            clients.insert(Arc::from(socket.sid()), client.clone());
        }
        // A client that joins no namespace in time is dropped.
        let timeout = io.config.connect_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if !client.connected_once.load(Ordering::Acquire) {
                client.esock.close();
            }
        });
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

    /// A binary packet's attachments may be overdue: a packet that waited
    /// longer than the decoder's `attachment_timeout` closes the
    /// connection.
    fn on_deadline(&self, socket: &EngineSocket) {
        if let Some(client) = self.io().and_then(|io| io.client(socket.sid())) {
            let expired = client.decode(|d, now| d.expire(now).map(|()| None));
            client.handle(expired);
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
    connected_once: AtomicBool,
    /// The session's deadline is set (a binary packet awaits attachments).
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
        let was_set = self.deadline_set.swap(deadline.is_some(), Ordering::AcqRel);
        if was_set || deadline.is_some() {
            self.esock.set_deadline(deadline);
        }
        decoded
    }

    fn socket(&self, nsp: &str) -> Option<SocketRef> {
        self.sockets.lock().ok()?.get(nsp).cloned()
    }

    /// Forgets the socket of `nsp` (it disconnected).
    pub(crate) fn forget(&self, nsp: &str) -> Option<SocketRef> {
        self.sockets.lock().ok()?.remove(nsp)
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
            PacketKind::Connect => self.connect(&packet),
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

    /// A CONNECT: runs the namespace's middlewares, then answers with the
    /// socket id or a `connect_error`.
    fn connect(self: &Arc<Self>, packet: &Packet) {
        let nsp = &*packet.nsp;
        let Some(io) = self.io.upgrade() else { return };
        let Some(ns) = io.namespace(nsp) else {
            self.send_packet(&Packet::connect_error(
                packet.nsp.clone(),
                "Invalid namespace",
                None,
            ));
            return;
        };
        if self.socket(nsp).is_some() {
            // Already connected: the reference ignores a second CONNECT.
            return;
        }
        let auth = match &packet.data {
            Data::Value(auth) => auth.clone(),
            _ => RawJson::new("{}").unwrap_or_else(|_| RawJson::string("")),
        };
        let socket = SocketRef::new(ns.clone(), self.clone(), auth);
        if let Err(refusal) = ns.admit(&socket) {
            self.send_packet(&Packet::connect_error(
                packet.nsp.clone(),
                &refusal.message,
                refusal.data.as_ref(),
            ));
            return;
        }
        self.connected_once.store(true, Ordering::Release);
        if let Ok(mut sockets) = self.sockets.lock() {
            sockets.insert(nsp.to_owned(), socket.clone());
        }
        // In the namespace before the client hears it is connected: a
        // broadcast that follows the CONNECT reply reaches it.
        ns.insert(&socket);
        self.send_packet(&Packet::connect_ok(packet.nsp.clone(), socket.id(), None));
        ns.connected(&socket);
    }

    /// Encodes and sends a packet to this client.
    pub(crate) fn send_packet(&self, packet: &Packet) -> bool {
        match self.parser.encode(packet) {
            Encoded::Text { text, attachments } => {
                let mut sent = self.esock.send_text(text);
                for attachment in attachments {
                    sent &= self.esock.send_binary(attachment);
                }
                sent
            }
            Encoded::Binary(data) => self.esock.send_binary(data),
        }
    }

    /// The parser this client speaks.
    pub(crate) fn parser(&self) -> Parser {
        self.parser
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
