//! The Socket.IO connection state machine, both roles, sans-IO.
//!
//! A [`Connection`] is one Engine.IO connection seen from Socket.IO: it
//! decodes the Engine.IO messages that arrive (binary packets reassembled),
//! knows which namespaces are joined, allocates ack ids and awaits the
//! answers with their deadlines, and encodes what is sent. Like the
//! Engine.IO [`Session`](crate::engine::Session) it reads no clock, sleeps
//! and spawns nothing: the driver gives it the messages and the time, and
//! polls what to send ([`Connection::poll_transmit`]), what happened
//! ([`Connection::poll_event`]) and when to wake it
//! ([`Connection::poll_timeout`], then [`Connection::handle_timeout`]).
//!
//! A server and a client talking in memory:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sockio_core::socket::Args;
//! use sockio_core::socket::connection::{Connection, ConnectionConfig, Event, Role};
//!
//! /// Hands what `from` queued to `to`.
//! fn pump(from: &mut Connection, to: &mut Connection, now: Instant) {
//!     while let Some(message) = from.poll_transmit() {
//!         to.handle_packet(message, now).expect("valid packets");
//!     }
//! }
//!
//! let t0 = Instant::now();
//! let mut server = Connection::new(Role::Server, ConnectionConfig::default(), t0);
//! let mut client = Connection::new(Role::Client, ConnectionConfig::default(), t0);
//! // Until a namespace is joined, the server's connect timeout runs.
//! assert_eq!(server.poll_timeout(), Some(t0 + Duration::from_secs(45)));
//!
//! // The client asks to join "/chat"; the server's driver accepts.
//! client.connect("/chat", None, None)?;
//! pump(&mut client, &mut server, t0);
//! let Some(Event::ConnectRequest { nsp, auth: None, recovery: None }) = server.poll_event()
//! else { panic!("a connect request") };
//! server.accept(&nsp, "sid-1", None)?;
//! assert_eq!(server.poll_timeout(), None);
//! pump(&mut server, &mut client, t0);
//! let Some(Event::Connected { sid, .. }) = client.poll_event() else { panic!("connected") };
//! assert_eq!(sid, "sid-1");
//!
//! // The client emits, asking for an answer within 5 s.
//! let due = t0 + Duration::from_secs(5);
//! let id = client.emit_with_ack("/chat", Args::event("hello").with(&1)?, Some(due))?;
//! assert_eq!(client.poll_timeout(), Some(due));
//! pump(&mut client, &mut server, t0);
//! let Some(Event::Event { nsp, args, id: Some(ack_id) }) = server.poll_event()
//! else { panic!("an event asking for an ack") };
//! assert_eq!(args.event_name().as_deref(), Some("hello"));
//! server.ack(&nsp, ack_id, Args::new().with(&"world")?)?;
//! pump(&mut server, &mut client, t0 + Duration::from_secs(1));
//! let Some(Event::Ack { id: answered, args, .. }) = client.poll_event() else { panic!("ack") };
//! assert_eq!(answered, id);
//! assert_eq!(args.deserialize::<String>(0)?, "world");
//! assert_eq!(client.poll_timeout(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Driving it
//!
//! - Feed every Engine.IO message of the connection, in order, with the
//!   time it arrived: [`Connection::handle_text`],
//!   [`Connection::handle_binary`] (or [`Connection::handle_packet`]). An
//!   `Err` ([`ConnectionError`]) means the peer broke the protocol: the
//!   machine has closed itself, the driver closes the Engine.IO session.
//! - After every call, send what [`Connection::poll_transmit`] gives, in
//!   order, and handle what [`Connection::poll_event`] gives. Draining
//!   after each call also tells the driver which messages one call queued
//!   (to send them volatile, or uncompressed).
//! - Call [`Connection::handle_timeout`] when [`Connection::poll_timeout`]
//!   is reached: acks past their deadline are reported, and the
//!   attachment timeout or (server) the connect timeout may close the
//!   connection.
//! - When the Engine.IO session closes, call [`Connection::close`] with its
//!   reason: every namespace reports [`Event::Disconnected`] with the acks
//!   it still awaited.
//!
//! # Behaviour kept from the sockio server and the reference
//!
//! Server role: a CONNECT for a namespace joined or being joined is
//! ignored (the reference closes the connection; ignoring harms no other
//! namespace); past [`ConnectionConfig::max_namespaces`] a CONNECT gets
//! CONNECT_ERROR "Too many namespaces" and is not reported; an EVENT or
//! ACK for a namespace not joined, or a CONNECT_ERROR, closes the
//! connection ("invalid state", as the reference); a DISCONNECT for a
//! namespace not joined is ignored. Ack ids count from 0 per namespace
//! of the connection; a server that shares one counter between a
//! namespace's sockets and its broadcasts, as the reference does
//! (`nsp._ids`), gives its own ids with [`Connection::emit_with_ack_id`]
//! and [`Connection::expect_ack`].
//!
//! Client role (socket.io-client): packets for namespaces not joined are
//! ignored; events that arrive before the CONNECT answer are held and
//! delivered right after [`Event::Connected`]; when the server gave a
//! `pid`, the last argument of each event without ack id, if a string, is
//! the recovery offset ([`Connection::recovery`]).
//!
//! Output goes out as the engine's [`Packet`](crate::engine::Packet)
//! messages by default. A server that encodes a broadcast once for many
//! connections can use its own frame type `F` (anything made
//! `From<engine::Packet>`), build the machine with
//! [`Connection::for_frames`], and queue its shared frames with
//! [`Connection::send_frames`], in order with everything else.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::{Args, Decoder, Encoded, JsonKind, Packet, RawJson, Recovery, is_reserved_event};
use crate::engine::{CloseReason, Packet as EnginePacket, Str};

mod acks;
mod config;
mod error;
mod event;
mod input;
mod namespaces;

pub use config::ConnectionConfig;
pub use error::{ConnectionError, StateError};
pub use event::{DisconnectReason, Event, NamespaceState, Role};

use acks::AckTimers;
use namespaces::{Namespaces, Nsp};

/// One Engine.IO connection's Socket.IO state, server or client side:
/// see the [module documentation](self).
///
/// `F` is what [`Connection::poll_transmit`] hands out: by default the
/// engine's [`Packet`](crate::engine::Packet) messages.
#[derive(Debug)]
pub struct Connection<F = EnginePacket> {
    role: Role,
    closed: bool,
    decoder: Decoder,
    namespaces: Namespaces,
    timers: AckTimers,
    transmit: VecDeque<F>,
    events: VecDeque<Event>,
    /// Server role: when a namespace must be joined by, until one is.
    connect_deadline: Option<Instant>,
    /// Client role: the sessions of namespaces left, for recovery.
    sessions: Vec<(Str, Recovery)>,
    config: ConnectionConfig,
}

impl Connection {
    /// A connection that started at `now` (the server's connect timeout
    /// counts from it), sending engine [`Packet`](crate::engine::Packet)
    /// messages.
    pub fn new(role: Role, config: ConnectionConfig, now: Instant) -> Self {
        Self::for_frames(role, config, now)
    }
}

impl<F: From<EnginePacket>> Connection<F> {
    /// [`Connection::new`], sending frames of type `F` (see
    /// [`Connection::send_frames`]).
    pub fn for_frames(role: Role, config: ConnectionConfig, now: Instant) -> Self {
        let connect_deadline = match role {
            Role::Server => now.checked_add(config.connect_timeout),
            Role::Client => None,
        };
        Self {
            role,
            closed: false,
            decoder: Decoder::new(config.decoder.clone()),
            namespaces: Namespaces::default(),
            timers: AckTimers::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            connect_deadline,
            sessions: Vec::new(),
            config,
        }
    }

    // ----- state -----

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings.
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// Whether the connection is closed ([`Connection::close`], or a
    /// [`ConnectionError`]).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The state of namespace `nsp`, `None` when it is neither joined nor
    /// being joined.
    pub fn namespace_state(&self, nsp: &str) -> Option<NamespaceState> {
        self.namespaces.get(nsp).map(|n| n.state)
    }

    /// Whether namespace `nsp` is joined.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.namespace_state(nsp) == Some(NamespaceState::Connected)
    }

    /// The joined namespaces, in the order they were asked for.
    pub fn namespaces(&self) -> impl Iterator<Item = &Str> {
        self.namespaces
            .iter()
            .filter(|n| n.state == NamespaceState::Connected)
            .map(|n| &n.name)
    }

    /// The socket id of joined namespace `nsp`.
    pub fn sid(&self, nsp: &str) -> Option<&str> {
        self.namespaces.get(nsp)?.sid.as_deref()
    }

    /// The private session id (connection state recovery) of namespace
    /// `nsp`: the one the server gave, or on a client still joining, the
    /// one it asked to recover.
    pub fn pid(&self, nsp: &str) -> Option<&str> {
        self.namespaces.get(nsp)?.pid.as_deref()
    }

    /// How many acks namespace `nsp` awaits.
    pub fn pending_acks(&self, nsp: &str) -> usize {
        self.namespaces.get(nsp).map_or(0, |n| n.acks.len())
    }

    /// Client role: what a CONNECT to `nsp` on the next connection sends
    /// to recover this session: the `pid` the server gave and the offset
    /// of the last event received. `None` before the first event, when the
    /// server has recovery off, or on a server. Kept once the namespace is
    /// left or the connection closed.
    pub fn recovery(&self, nsp: &str) -> Option<Recovery> {
        if let Some(n) = self.namespaces.get(nsp) {
            return session_of(n);
        }
        self.sessions
            .iter()
            .find(|(name, _)| *name == nsp)
            .map(|(_, r)| r.clone())
    }

    // ----- input -----

    /// A text message from the peer, received at `now`. What is due at
    /// `now` is handled first ([`Connection::handle_timeout`]): an answer
    /// that comes at or past its ack's deadline is too late. Ignored once
    /// closed.
    pub fn handle_text(&mut self, text: &Str, now: Instant) -> Result<(), ConnectionError> {
        if self.closed {
            return Ok(());
        }
        self.handle_timeout(now)?;
        let decoded = self.decoder.decode_text_at(text, now);
        self.handle_decoded(decoded)
    }

    /// A binary message from the peer, received at `now`; as
    /// [`Connection::handle_text`].
    pub fn handle_binary(&mut self, data: Bytes, now: Instant) -> Result<(), ConnectionError> {
        if self.closed {
            return Ok(());
        }
        self.handle_timeout(now)?;
        let decoded = self.decoder.decode_binary_at(data, now);
        self.handle_decoded(decoded)
    }

    /// An Engine.IO packet from the peer: its message, text or binary, is
    /// handled; other packets are the Engine.IO session's and are ignored.
    pub fn handle_packet(
        &mut self,
        packet: EnginePacket,
        now: Instant,
    ) -> Result<(), ConnectionError> {
        match packet {
            EnginePacket::Message(text) => self.handle_text(&text, now),
            EnginePacket::Binary(data) => self.handle_binary(data, now),
            _ => Ok(()),
        }
    }

    // ----- connecting -----

    /// Server role: accepts the CONNECT for `nsp` (reported by
    /// [`Event::ConnectRequest`]): queues CONNECT `{"sid":…,"pid":…}`
    /// (`pid` when given: connection state recovery is on). The connect
    /// timeout no longer applies.
    pub fn accept(&mut self, nsp: &str, sid: &str, pid: Option<&str>) -> Result<(), StateError> {
        self.accept_recovered(nsp, sid, pid, std::iter::empty())
    }

    /// [`Connection::accept`] of a recovered session: the events it
    /// missed (offsets included) go out first, before the CONNECT answer,
    /// as the reference sends them.
    pub fn accept_recovered(
        &mut self,
        nsp: &str,
        sid: &str,
        pid: Option<&str>,
        missed: impl IntoIterator<Item = Args>,
    ) -> Result<(), StateError> {
        self.check(Role::Server)?;
        let ns = self
            .namespaces
            .get_mut(nsp)
            .filter(|n| n.state == NamespaceState::Connecting)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        ns.state = NamespaceState::Connected;
        ns.sid = Some(sid.to_owned());
        ns.pid = pid.map(str::to_owned);
        let name = ns.name.clone();
        self.connect_deadline = None;
        for args in missed {
            self.queue_packet(&Packet::event(name.clone(), args));
        }
        self.queue_packet(&Packet::connect_ok(name, sid, pid));
        Ok(())
    }

    /// Server role: refuses the CONNECT for `nsp`: queues CONNECT_ERROR
    /// `{"message":…,"data":…}`.
    pub fn refuse(
        &mut self,
        nsp: &str,
        message: &str,
        data: Option<&RawJson>,
    ) -> Result<(), StateError> {
        self.check(Role::Server)?;
        if self.namespace_state(nsp) != Some(NamespaceState::Connecting) {
            return Err(StateError::NotConnected(nsp.to_owned()));
        }
        if let Some(ns) = self.namespaces.remove(nsp) {
            self.queue_packet(&Packet::connect_error(ns.name, message, data));
        }
        Ok(())
    }

    /// Client role: asks to join `nsp`, with `auth` (a JSON object) and,
    /// to recover a session, what [`Connection::recovery`] gave on the
    /// previous connection. The answer comes as [`Event::Connected`] or
    /// [`Event::ConnectError`].
    pub fn connect(
        &mut self,
        nsp: impl Into<Str>,
        auth: Option<RawJson>,
        recovery: Option<&Recovery>,
    ) -> Result<(), StateError> {
        self.check(Role::Client)?;
        let nsp = nsp.into();
        let comma = self.config.decoder.parser == super::Parser::Default && nsp.contains(',');
        if !nsp.starts_with('/') || comma {
            return Err(StateError::InvalidNamespace(nsp.to_string()));
        }
        if auth.as_ref().is_some_and(|a| a.kind() != JsonKind::Object) {
            return Err(StateError::InvalidAuth);
        }
        if self.namespaces.get(&nsp).is_some() {
            return Err(StateError::AlreadyConnected(nsp.to_string()));
        }
        let packet = match recovery {
            Some(r) => Packet::connect_with_recovery(nsp.clone(), auth.as_ref(), &r.pid, &r.offset),
            None => Packet::connect(nsp.clone(), auth),
        };
        let ns = self.namespaces.insert(nsp, NamespaceState::Connecting);
        ns.asked_pid = recovery.map(|r| r.pid.clone());
        // The session asked for stays the one to recover until a new one
        // is given.
        if let Some(r) = recovery {
            ns.pid = Some(r.pid.clone());
            ns.offset = Some(RawJson::string(&r.offset));
        }
        self.queue_packet(&packet);
        Ok(())
    }

    // ----- sending -----

    /// Emits an event (`args`, the event name first) on joined namespace
    /// `nsp`.
    pub fn emit(&mut self, nsp: &str, args: Args) -> Result<(), StateError> {
        let name = self.sendable(nsp, &args)?;
        self.queue_packet(&Packet::event(name, args));
        Ok(())
    }

    /// Emits an event that asks for an answer, due by `deadline` (`None`:
    /// no timeout). Returns its ack id, the next of this namespace's
    /// counter. The answer comes as [`Event::Ack`]; past the deadline
    /// [`Event::AckTimedOut`] comes instead.
    pub fn emit_with_ack(
        &mut self,
        nsp: &str,
        args: Args,
        deadline: Option<Instant>,
    ) -> Result<u64, StateError> {
        let name = self.sendable(nsp, &args)?;
        let id = match self.namespaces.connected_mut(nsp) {
            Some(ns) => ns.acks.next_id(),
            None => return Err(StateError::NotConnected(nsp.to_owned())),
        };
        self.expect_ack(nsp, id, deadline)?;
        self.queue_packet(&Packet::event(name, args).with_id(id));
        Ok(id)
    }

    /// [`Connection::emit_with_ack`] with an ack id the caller chose (a
    /// server's namespace-wide counter). Fails if the id is awaited
    /// already on this namespace.
    pub fn emit_with_ack_id(
        &mut self,
        nsp: &str,
        args: Args,
        id: u64,
        deadline: Option<Instant>,
    ) -> Result<(), StateError> {
        let name = self.sendable(nsp, &args)?;
        self.expect_ack(nsp, id, deadline)?;
        self.queue_packet(&Packet::event(name, args).with_id(id));
        Ok(())
    }

    /// Awaits the answer to ack `id` on joined namespace `nsp`, due by
    /// `deadline`, for an event sent some other way (a broadcast's shared
    /// frames, [`Connection::send_frames`]). Fails if the id is awaited
    /// already.
    pub fn expect_ack(
        &mut self,
        nsp: &str,
        id: u64,
        deadline: Option<Instant>,
    ) -> Result<(), StateError> {
        self.check_open()?;
        let ns = self
            .namespaces
            .connected_mut(nsp)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        if !ns.acks.insert(id, deadline) {
            return Err(StateError::AckIdInUse(id));
        }
        if let Some(deadline) = deadline {
            self.timers.insert(deadline, ns.serial, id);
        }
        Ok(())
    }

    /// Stops awaiting ack `id` on `nsp` (its waiter went away); a later
    /// answer is ignored. False if it was not awaited.
    pub fn cancel_ack(&mut self, nsp: &str, id: u64) -> bool {
        let Some(ns) = self.namespaces.get_mut(nsp) else {
            return false;
        };
        match ns.acks.remove(id) {
            Some(deadline) => {
                if let Some(deadline) = deadline {
                    self.timers.remove(deadline, ns.serial, id);
                }
                true
            }
            None => false,
        }
    }

    /// Answers event `id` the peer sent on `nsp` (see [`Event::Event`]).
    /// Answer each at most once: the peer ignores the rest.
    pub fn ack(&mut self, nsp: &str, id: u64, args: Args) -> Result<(), StateError> {
        self.check_open()?;
        let name = self
            .namespaces
            .connected_mut(nsp)
            .map(|n| n.name.clone())
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        self.queue_packet(&Packet::ack(name, id, args));
        Ok(())
    }

    /// Queues messages encoded elsewhere (a broadcast encodes its packet
    /// once for every receiver) for joined namespace `nsp`: they go out in
    /// order with everything else. They must be whole packets of this
    /// connection's parser.
    pub fn send_frames(
        &mut self,
        nsp: &str,
        frames: impl IntoIterator<Item = F>,
    ) -> Result<(), StateError> {
        self.check_open()?;
        if !self.is_connected(nsp) {
            return Err(StateError::NotConnected(nsp.to_owned()));
        }
        self.transmit.extend(frames);
        Ok(())
    }

    /// The namespace's name, if `args` may be emitted on it.
    fn sendable(&self, nsp: &str, args: &Args) -> Result<Str, StateError> {
        self.check_open()?;
        let name = self
            .namespaces
            .get(nsp)
            .filter(|n| n.state == NamespaceState::Connected)
            .map(|n| n.name.clone())
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        match args.event_name() {
            Some(event) if !is_reserved_event(&event) => Ok(name),
            _ => Err(StateError::InvalidEventName),
        }
    }

    /// Encodes `packet` with the connection's parser and queues its
    /// messages.
    fn queue_packet(&mut self, packet: &Packet) {
        match self.config.decoder.parser.encode(packet) {
            Encoded::Text { text, attachments } => {
                crate::lean::push_back(&mut self.transmit, EnginePacket::Message(text).into());
                self.transmit.extend(
                    attachments
                        .into_iter()
                        .map(|a| EnginePacket::Binary(a).into()),
                );
            }
            Encoded::Binary(data) => {
                crate::lean::push_back(&mut self.transmit, EnginePacket::Binary(data).into());
            }
        }
    }

    // ----- leaving -----

    /// Leaves joined namespace `nsp`: queues DISCONNECT and reports
    /// [`Event::Disconnected`] ([`DisconnectReason::Local`]). A client may
    /// also give up a namespace it is joining: nothing is sent then, as
    /// socket.io-client does.
    pub fn disconnect(&mut self, nsp: &str) -> Result<(), StateError> {
        self.check_open()?;
        match (self.namespace_state(nsp), self.role) {
            (Some(NamespaceState::Connected), _) => {
                let name = self.leave(nsp, DisconnectReason::Local);
                if let Some(name) = name {
                    self.queue_packet(&Packet::disconnect(name));
                }
                Ok(())
            }
            (Some(NamespaceState::Connecting), Role::Client) => {
                self.leave(nsp, DisconnectReason::Local);
                Ok(())
            }
            _ => Err(StateError::NotConnected(nsp.to_owned())),
        }
    }

    /// [`Connection::disconnect`] of every joined namespace, in order (the
    /// server's `disconnect(true)` before it closes the connection).
    pub fn disconnect_all(&mut self) {
        let joined: Vec<Str> = self.namespaces().cloned().collect();
        for nsp in joined {
            let _ = self.disconnect(&nsp);
        }
    }

    /// The connection closed (the Engine.IO session reported `reason`, or
    /// the driver closes it): every namespace, joined or being joined,
    /// reports [`Event::Disconnected`], failing the acks it awaited.
    /// What was queued stays queued (DISCONNECTs the driver may still
    /// flush); nothing more is taken in. Does nothing if closed already.
    pub fn close(&mut self, reason: CloseReason) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.decoder.reset();
        self.connect_deadline = None;
        for ns in self.namespaces.take_all() {
            self.report_left(ns, DisconnectReason::Closed(reason));
        }
        self.timers.clear();
    }

    /// Removes namespace `nsp` and reports it left; its name, if it was
    /// there.
    fn leave(&mut self, nsp: &str, reason: DisconnectReason) -> Option<Str> {
        let ns = self.namespaces.remove(nsp)?;
        let name = ns.name.clone();
        self.report_left(ns, reason);
        Some(name)
    }

    fn report_left(&mut self, mut ns: Nsp, reason: DisconnectReason) {
        let acks = ns.acks.take_all();
        let mut pending_acks = Vec::with_capacity(acks.len());
        for (id, deadline) in acks {
            if let Some(deadline) = deadline {
                self.timers.remove(deadline, ns.serial, id);
            }
            pending_acks.push(id);
        }
        if self.role == Role::Client
            && let Some(session) = session_of(&ns)
        {
            self.sessions.retain(|(name, _)| *name != ns.name);
            self.sessions.push((ns.name.clone(), session));
        }
        crate::lean::push_back(
            &mut self.events,
            Event::Disconnected {
                nsp: ns.name,
                reason,
                pending_acks,
            },
        );
    }

    // ----- output and time -----

    /// The next message to send, in order.
    pub fn poll_transmit(&mut self) -> Option<F> {
        self.transmit.pop_front()
    }

    /// How many messages wait to be sent.
    pub fn queued(&self) -> usize {
        self.transmit.len()
    }

    /// The next thing that happened, in order.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must next be called: the
    /// soonest ack deadline, the attachment deadline of a binary packet
    /// being reassembled, or (server) the connect timeout while no
    /// namespace was joined. `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.timers.first(),
            self.decoder.deadline(),
            self.connect_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances the timers to `now`: every ack whose deadline is reached
    /// reports [`Event::AckTimedOut`]; a binary packet whose attachments
    /// are overdue, or (server) no namespace joined by the connect
    /// timeout, closes the connection with an `Err`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnectionError> {
        if self.closed {
            return Ok(());
        }
        while let Some((serial, id)) = self.timers.pop_due(now) {
            if let Some(ns) = self.namespaces.by_serial_mut(serial) {
                ns.acks.remove(id);
                crate::lean::push_back(
                    &mut self.events,
                    Event::AckTimedOut {
                        nsp: ns.name.clone(),
                        id,
                    },
                );
            }
        }
        let error = match self.decoder.expire(now) {
            Err(e) => Some(ConnectionError::Decode(e)),
            Ok(()) if self.connect_deadline.is_some_and(|d| now >= d) => {
                Some(ConnectionError::ConnectTimeout)
            }
            Ok(()) => None,
        };
        match error {
            Some(error) => {
                self.fail(&error);
                Err(error)
            }
            None => Ok(()),
        }
    }

    // ----- checks -----

    fn check_open(&self) -> Result<(), StateError> {
        if self.closed {
            Err(StateError::Closed)
        } else {
            Ok(())
        }
    }

    fn check(&self, role: Role) -> Result<(), StateError> {
        self.check_open()?;
        if self.role == role {
            Ok(())
        } else {
            Err(StateError::WrongRole(self.role))
        }
    }
}

/// The session of a client's namespace, if both its parts are known.
fn session_of(ns: &Nsp) -> Option<Recovery> {
    Some(Recovery {
        pid: ns.pid.clone()?,
        offset: ns.offset.as_ref()?.as_string()?.into_owned(),
    })
}

#[cfg(test)]
mod tests;
