//! The model the `connection` target checks the machine against: what
//! each namespace should be, which acks are awaited, what must be sent.

use super::*;

/// A namespace of the model.
#[derive(Debug)]
pub(super) struct Ns {
    pub(super) name: Str,
    /// Creation order: ties the order of simultaneous ack timeouts.
    pub(super) serial: u64,
    pub(super) state: NamespaceState,
    pub(super) sid: Option<String>,
    pub(super) pid: Option<String>,
    /// Client: the `pid` the CONNECT asked to recover.
    pub(super) asked_pid: Option<String>,
    /// Client: the recovery offset.
    pub(super) offset: Option<String>,
    /// The machine's ack id counter for this namespace.
    pub(super) next_id: u64,
    /// The acks awaited, with their deadlines.
    pub(super) awaited: BTreeMap<u64, Option<Instant>>,
    /// Ack ids the peer asked for (the driver's memory, for [`Op::Ack`]).
    pub(super) asked: VecDeque<u64>,
    /// Client: events held until the CONNECT answer.
    pub(super) early: Vec<(Args, Option<u64>)>,
    /// The arguments of the last event delivered (to echo in an ack).
    pub(super) last_args: Option<Args>,
}

/// An event the model expects.
#[derive(Debug)]
pub(super) enum Expect {
    /// Exactly this.
    Exact(Event),
    /// Client: a CONNECT answer without `sid`: `ConnectError` for the
    /// namespace, without data (socket.io-client's message).
    NoSid(Str),
    /// Client: `ConnectError` with this message and data (compared as
    /// serde values).
    Refused {
        nsp: Str,
        message: String,
        data: Option<Value>,
    },
    /// Client: `ConnectError` for the namespace, whose payload serde_json
    /// cannot read.
    AnyRefusal(Str),
    /// Client: the answer to a CONNECT whose payload serde_json cannot
    /// read: `Connected` (the model then follows what the machine read)
    /// or a `ConnectError` without data.
    Answer(Str),
}

/// What the machine should be, do, send and report: a restatement of the
/// documented behaviour, with its own copy of the decoder (the same
/// sockio-core `Decoder`, fed the same messages at the same times) to
/// know which packet each message makes.
pub(super) struct Model {
    pub(super) role: Role,
    pub(super) parser: Parser,
    pub(super) max_namespaces: usize,
    pub(super) closed: bool,
    pub(super) now: Instant,
    pub(super) connect_deadline: Option<Instant>,
    pub(super) ns: Vec<Ns>,
    pub(super) next_serial: u64,
    /// Client: the sessions of the namespaces left.
    pub(super) sessions: Vec<(Str, Recovery)>,
    pub(super) shadow: Decoder,
    /// The packets the current step should send, in order.
    pub(super) out: Vec<Packet>,
    /// The events the current step should report, in order.
    pub(super) events: VecDeque<Expect>,
    /// Namespace names seen (checked after every step).
    pub(super) names: Vec<Str>,
    /// Acks awaited and resolved (answered, timed out, failed, cancelled)
    /// so far.
    pub(super) awaited_total: u64,
    pub(super) resolved_total: u64,
}

impl Model {
    pub(super) fn new(role: Role, config: &ConnectionConfig, now: Instant) -> Self {
        Self {
            role,
            parser: config.decoder.parser,
            max_namespaces: config.max_namespaces,
            closed: false,
            now,
            connect_deadline: match role {
                Role::Server => now.checked_add(config.connect_timeout),
                Role::Client => None,
            },
            ns: Vec::new(),
            next_serial: 0,
            sessions: Vec::new(),
            shadow: Decoder::new(config.decoder.clone()),
            out: Vec::new(),
            events: VecDeque::new(),
            names: Vec::new(),
            awaited_total: 0,
            resolved_total: 0,
        }
    }

    // ----- namespaces -----

    pub(super) fn find(&self, nsp: &str) -> Option<usize> {
        self.ns.iter().position(|n| n.name == nsp)
    }

    pub(super) fn get(&self, nsp: &str) -> Option<&Ns> {
        self.ns.iter().find(|n| n.name == nsp)
    }

    pub(super) fn state(&self, nsp: &str) -> Option<NamespaceState> {
        self.get(nsp).map(|n| n.state)
    }

    pub(super) fn connected(&self, nsp: &str) -> Option<usize> {
        self.find(nsp)
            .filter(|&i| self.ns[i].state == NamespaceState::Connected)
    }

    pub(super) fn insert(&mut self, name: Str, state: NamespaceState) -> &mut Ns {
        if !self.names.contains(&name) && self.names.len() < MAX_NAMES {
            self.names.push(name.clone());
        }
        self.ns.push(Ns {
            name,
            serial: self.next_serial,
            state,
            sid: None,
            pid: None,
            asked_pid: None,
            offset: None,
            next_id: 0,
            awaited: BTreeMap::new(),
            asked: VecDeque::new(),
            early: Vec::new(),
            last_args: None,
        });
        self.next_serial += 1;
        self.ns.last_mut().expect("just pushed")
    }

    pub(super) fn remove(&mut self, nsp: &str) -> Option<Ns> {
        let i = self.find(nsp)?;
        Some(self.ns.remove(i))
    }

    /// A namespace for an operation: `sel` below 0x40 picks from [`POOL`],
    /// above from the namespaces there are (or were).
    pub(super) fn pick(&self, sel: u8) -> Str {
        let i = usize::from(sel & 0x3f);
        if sel < 0x40 {
            Str::from(POOL[i & 7])
        } else if !self.ns.is_empty() {
            self.ns[i % self.ns.len()].name.clone()
        } else if !self.names.is_empty() {
            self.names[i % self.names.len()].clone()
        } else {
            Str::from(POOL[i & 7])
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let acks = self
            .ns
            .iter()
            .flat_map(|n| n.awaited.values().flatten().copied());
        acks.chain(self.shadow.deadline())
            .chain(self.connect_deadline)
            .min()
    }

    pub(super) fn session_of(ns: &Ns) -> Option<Recovery> {
        Some(Recovery {
            pid: ns.pid.clone()?,
            offset: ns.offset.clone()?,
        })
    }

    pub(super) fn recovery(&self, nsp: &str) -> Option<Recovery> {
        match self.get(nsp) {
            Some(ns) => Self::session_of(ns),
            None => self
                .sessions
                .iter()
                .find(|(n, _)| *n == nsp)
                .map(|(_, r)| r.clone()),
        }
    }

    // ----- leaving -----

    pub(super) fn report_left(&mut self, ns: Ns, reason: DisconnectReason) {
        let pending_acks: Vec<u64> = ns.awaited.keys().copied().collect();
        self.resolved_total += pending_acks.len() as u64;
        if self.role == Role::Client
            && let Some(session) = Self::session_of(&ns)
        {
            self.sessions.retain(|(n, _)| *n != ns.name);
            self.sessions.push((ns.name.clone(), session));
        }
        self.events.push_back(Expect::Exact(Event::Disconnected {
            nsp: ns.name,
            reason,
            pending_acks,
        }));
    }

    pub(super) fn leave(&mut self, nsp: &str, reason: DisconnectReason) -> Option<Str> {
        let ns = self.remove(nsp)?;
        let name = ns.name.clone();
        self.report_left(ns, reason);
        Some(name)
    }

    pub(super) fn close(&mut self, reason: CloseReason) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.shadow.reset();
        self.connect_deadline = None;
        for ns in std::mem::take(&mut self.ns) {
            self.report_left(ns, DisconnectReason::Closed(reason));
        }
    }

    pub(super) fn fail(&mut self, error: &ConnectionError) {
        self.close(match error {
            ConnectionError::ConnectTimeout => CloseReason::ForcedClose,
            _ => CloseReason::ParseError,
        });
    }

    // ----- time and input -----

    /// Acks due at `now` time out, soonest first (by deadline, then
    /// namespace, then id); then overdue attachments, then (server) the
    /// connect timeout, close the connection.
    pub(super) fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnectionError> {
        if self.closed {
            return Ok(());
        }
        let mut due = Vec::new();
        for (i, ns) in self.ns.iter().enumerate() {
            for (&id, deadline) in &ns.awaited {
                if let Some(d) = *deadline
                    && d <= now
                {
                    due.push((d, ns.serial, id, i));
                }
            }
        }
        due.sort_unstable();
        for (_, _, id, i) in due {
            self.ns[i].awaited.remove(&id);
            self.resolved_total += 1;
            self.events.push_back(Expect::Exact(Event::AckTimedOut {
                nsp: self.ns[i].name.clone(),
                id,
            }));
        }
        let error = match self.shadow.expire(now) {
            Err(e) => Some(ConnectionError::Decode(e)),
            Ok(()) if self.connect_deadline.is_some_and(|d| now >= d) => {
                Some(ConnectionError::ConnectTimeout)
            }
            Ok(()) => None,
        };
        match error {
            Some(e) => {
                self.fail(&e);
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// A message from the peer, at `self.now`.
    pub(super) fn handle_message(&mut self, message: &EioPacket) -> Result<(), ConnectionError> {
        let now = self.now;
        let decoded = match message {
            _ if self.closed => return Ok(()),
            EioPacket::Message(text) => {
                self.handle_timeout(now)?;
                self.shadow.decode_text_at(text, now)
            }
            EioPacket::Binary(data) => {
                self.handle_timeout(now)?;
                self.shadow.decode_binary_at(data.clone(), now)
            }
            // The Engine.IO session's own packets.
            _ => return Ok(()),
        };
        self.handle_decoded(decoded)
    }

    pub(super) fn handle_decoded(
        &mut self,
        decoded: Result<Option<Packet>, DecodeError>,
    ) -> Result<(), ConnectionError> {
        let result = match decoded {
            Ok(Some(packet)) => match self.role {
                Role::Server => self.server_packet(packet),
                Role::Client => {
                    self.client_packet(packet);
                    Ok(())
                }
            },
            Ok(None) => Ok(()),
            Err(e) => Err(ConnectionError::Decode(e)),
        };
        if let Err(e) = &result {
            self.fail(e);
        }
        result
    }

    /// Server role: a CONNECT opens a namespace (or is refused past the
    /// cap, or ignored when the namespace is there already); DISCONNECT
    /// leaves a joined one; events and acks need a joined namespace; the
    /// rest closes the connection.
    pub(super) fn server_packet(&mut self, packet: Packet) -> Result<(), ConnectionError> {
        let state = self.state(&packet.nsp);
        match (packet.kind, state) {
            (PacketKind::Connect, None) => {
                if self.ns.len() >= self.max_namespaces {
                    self.out.push(Packet::connect_error(
                        packet.nsp,
                        "Too many namespaces",
                        None,
                    ));
                } else {
                    let recovery = packet.recovery();
                    let auth = match packet.data {
                        Data::Value(v) => Some(v),
                        _ => None,
                    };
                    self.insert(packet.nsp.clone(), NamespaceState::Connecting);
                    self.events.push_back(Expect::Exact(Event::ConnectRequest {
                        nsp: packet.nsp,
                        auth,
                        recovery,
                    }));
                }
            }
            (PacketKind::Connect, Some(_)) => {}
            (PacketKind::Disconnect, Some(NamespaceState::Connected)) => {
                self.leave(&packet.nsp, DisconnectReason::Peer);
            }
            (PacketKind::Disconnect, _) => {}
            (kind, Some(NamespaceState::Connected)) if kind != PacketKind::ConnectError => {
                self.incoming(packet);
            }
            (kind, _) => {
                return Err(ConnectionError::UnexpectedPacket {
                    nsp: packet.nsp,
                    kind,
                });
            }
        }
        Ok(())
    }

    /// Client role: packets for namespaces not there are ignored; the
    /// answer to a CONNECT joins or refuses; events before it are held;
    /// DISCONNECT leaves, joined or not.
    pub(super) fn client_packet(&mut self, packet: Packet) {
        let Some(state) = self.state(&packet.nsp) else {
            return;
        };
        match (packet.kind, state) {
            (PacketKind::Connect, NamespaceState::Connecting) => match packet.value() {
                None => self.connect_answer(packet.nsp, None, None),
                Some(v) => match object(v) {
                    Some(map) => {
                        let (sid, pid) = (string_field(&map, "sid"), string_field(&map, "pid"));
                        self.connect_answer(packet.nsp, sid, pid);
                    }
                    None => self.events.push_back(Expect::Answer(packet.nsp)),
                },
            },
            (PacketKind::ConnectError, NamespaceState::Connecting) => {
                self.remove(&packet.nsp);
                let value = packet.value().expect("a CONNECT_ERROR has a payload");
                let want = if let Some(message) = value.as_string() {
                    Expect::Refused {
                        nsp: packet.nsp.clone(),
                        message: message.into_owned(),
                        data: None,
                    }
                } else if let Some(map) = object(value) {
                    Expect::Refused {
                        nsp: packet.nsp.clone(),
                        message: string_field(&map, "message").unwrap_or_default(),
                        data: map.get("data").cloned(),
                    }
                } else {
                    Expect::AnyRefusal(packet.nsp.clone())
                };
                self.events.push_back(want);
            }
            (PacketKind::Event | PacketKind::BinaryEvent, NamespaceState::Connecting) => {
                if let (Some(i), Data::Args(args)) = (self.find(&packet.nsp), packet.data) {
                    self.ns[i].early.push((args, packet.id));
                }
            }
            (
                PacketKind::Event
                | PacketKind::BinaryEvent
                | PacketKind::Ack
                | PacketKind::BinaryAck,
                NamespaceState::Connected,
            ) => self.incoming(packet),
            (PacketKind::Disconnect, _) => {
                self.leave(&packet.nsp, DisconnectReason::Peer);
            }
            _ => {}
        }
    }

    /// Client role: the server's answer to the CONNECT for `nsp` gave
    /// these `sid` and `pid` strings.
    pub(super) fn connect_answer(&mut self, nsp: Str, sid: Option<String>, pid: Option<String>) {
        let Some(sid) = sid else {
            self.remove(&nsp);
            self.events.push_back(Expect::NoSid(nsp));
            return;
        };
        let Some(i) = self.find(&nsp) else {
            return;
        };
        let ns = &mut self.ns[i];
        let recovered = pid.is_some() && ns.asked_pid == pid;
        if !recovered {
            ns.offset = None;
        }
        ns.state = NamespaceState::Connected;
        ns.sid = Some(sid.clone());
        ns.pid.clone_from(&pid);
        let early = std::mem::take(&mut ns.early);
        self.events.push_back(Expect::Exact(Event::Connected {
            nsp: nsp.clone(),
            sid,
            pid,
            recovered,
        }));
        for (args, id) in early {
            self.deliver(nsp.clone(), args, id);
        }
    }

    /// An event or ack on a joined namespace: an ack for an id not
    /// awaited is ignored.
    pub(super) fn incoming(&mut self, packet: Packet) {
        let Data::Args(args) = packet.data else {
            return;
        };
        if packet.kind.is_event() {
            self.deliver(packet.nsp, args, packet.id);
            return;
        }
        let (Some(id), Some(i)) = (packet.id, self.connected(&packet.nsp)) else {
            return;
        };
        if self.ns[i].awaited.remove(&id).is_some() {
            self.resolved_total += 1;
            self.events.push_back(Expect::Exact(Event::Ack {
                nsp: packet.nsp,
                id,
                args,
            }));
        }
    }

    /// An event: a client with a `pid` keeps the last string argument of
    /// an event without ack id as its offset.
    pub(super) fn deliver(&mut self, nsp: Str, args: Args, id: Option<u64>) {
        if let Some(i) = self.find(&nsp) {
            let client = self.role == Role::Client;
            let ns = &mut self.ns[i];
            if client
                && id.is_none()
                && ns.pid.is_some()
                && let Some(last) = args.as_slice().last()
                && last.kind() == JsonKind::String
            {
                ns.offset = last.as_string().map(Cow::into_owned);
            }
            if let Some(id) = id {
                if ns.asked.len() >= MAX_ASKED {
                    ns.asked.pop_front();
                }
                ns.asked.push_back(id);
            }
            ns.last_args = Some(args.clone());
        }
        self.events
            .push_back(Expect::Exact(Event::Event { nsp, args, id }));
    }

    // ----- driver calls -----

    pub(super) fn check_open(&self) -> Result<(), StateError> {
        if self.closed {
            Err(StateError::Closed)
        } else {
            Ok(())
        }
    }

    pub(super) fn check(&self, role: Role) -> Result<(), StateError> {
        self.check_open()?;
        if self.role == role {
            Ok(())
        } else {
            Err(StateError::WrongRole(self.role))
        }
    }

    pub(super) fn accept(
        &mut self,
        nsp: &str,
        sid: &str,
        pid: Option<&str>,
        missed: Vec<Args>,
    ) -> Result<(), StateError> {
        self.check(Role::Server)?;
        let i = self
            .find(nsp)
            .filter(|&i| self.ns[i].state == NamespaceState::Connecting)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        let ns = &mut self.ns[i];
        ns.state = NamespaceState::Connected;
        ns.sid = Some(sid.to_owned());
        ns.pid = pid.map(str::to_owned);
        let name = ns.name.clone();
        self.connect_deadline = None;
        for args in missed {
            self.out.push(Packet::event(name.clone(), args));
        }
        self.out.push(Packet::connect_ok(name, sid, pid));
        Ok(())
    }

    pub(super) fn refuse(
        &mut self,
        nsp: &str,
        message: &str,
        data: Option<&RawJson>,
    ) -> Result<(), StateError> {
        self.check(Role::Server)?;
        if self.state(nsp) != Some(NamespaceState::Connecting) {
            return Err(StateError::NotConnected(nsp.to_owned()));
        }
        let ns = self.remove(nsp).expect("being joined");
        self.out.push(Packet::connect_error(ns.name, message, data));
        Ok(())
    }

    pub(super) fn connect(
        &mut self,
        nsp: Str,
        auth: Option<RawJson>,
        recovery: Option<&Recovery>,
    ) -> Result<(), StateError> {
        self.check(Role::Client)?;
        let comma = self.parser == Parser::Default && nsp.contains(',');
        if !nsp.starts_with('/') || comma {
            return Err(StateError::InvalidNamespace(nsp.to_string()));
        }
        if auth.as_ref().is_some_and(|a| a.kind() != JsonKind::Object) {
            return Err(StateError::InvalidAuth);
        }
        if self.find(&nsp).is_some() {
            return Err(StateError::AlreadyConnected(nsp.to_string()));
        }
        let packet = match recovery {
            Some(r) => Packet::connect_with_recovery(nsp.clone(), auth.as_ref(), &r.pid, &r.offset),
            None => Packet::connect(nsp.clone(), auth),
        };
        let ns = self.insert(nsp, NamespaceState::Connecting);
        if let Some(r) = recovery {
            ns.asked_pid = Some(r.pid.clone());
            ns.pid = Some(r.pid.clone());
            ns.offset = Some(r.offset.clone());
        }
        self.out.push(packet);
        Ok(())
    }

    /// The namespace's name, if `args` may be emitted on it.
    pub(super) fn sendable(&self, nsp: &str, args: &Args) -> Result<Str, StateError> {
        self.check_open()?;
        let i = self
            .connected(nsp)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        match args.event_name() {
            Some(event) if !is_reserved_event(&event) => Ok(self.ns[i].name.clone()),
            _ => Err(StateError::InvalidEventName),
        }
    }

    pub(super) fn emit(&mut self, nsp: &str, args: Args) -> Result<(), StateError> {
        let name = self.sendable(nsp, &args)?;
        self.out.push(Packet::event(name, args));
        Ok(())
    }

    pub(super) fn emit_with_ack(
        &mut self,
        nsp: &str,
        args: Args,
        deadline: Option<Instant>,
    ) -> Result<u64, StateError> {
        let name = self.sendable(nsp, &args)?;
        let i = self.connected(nsp).expect("sendable");
        let ns = &mut self.ns[i];
        // The counter from 0, wrapping after MAX_ACK_ID, skipping ids
        // still awaited.
        let id = loop {
            let id = ns.next_id;
            ns.next_id = if id >= MAX_ACK_ID { 0 } else { id + 1 };
            if !ns.awaited.contains_key(&id) {
                break id;
            }
        };
        self.expect_ack(nsp, id, deadline)?;
        self.out.push(Packet::event(name, args).with_id(id));
        Ok(id)
    }

    pub(super) fn emit_with_ack_id(
        &mut self,
        nsp: &str,
        args: Args,
        id: u64,
        deadline: Option<Instant>,
    ) -> Result<(), StateError> {
        let name = self.sendable(nsp, &args)?;
        self.expect_ack(nsp, id, deadline)?;
        self.out.push(Packet::event(name, args).with_id(id));
        Ok(())
    }

    pub(super) fn expect_ack(
        &mut self,
        nsp: &str,
        id: u64,
        deadline: Option<Instant>,
    ) -> Result<(), StateError> {
        self.check_open()?;
        let i = self
            .connected(nsp)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        let awaited = &mut self.ns[i].awaited;
        if id > MAX_ACK_ID || awaited.contains_key(&id) {
            return Err(StateError::AckIdInUse(id));
        }
        awaited.insert(id, deadline);
        self.awaited_total += 1;
        Ok(())
    }

    pub(super) fn cancel_ack(&mut self, nsp: &str, id: u64) -> bool {
        let Some(i) = self.find(nsp) else {
            return false;
        };
        let cancelled = self.ns[i].awaited.remove(&id).is_some();
        self.resolved_total += u64::from(cancelled);
        cancelled
    }

    pub(super) fn ack(&mut self, nsp: &str, id: u64, args: Args) -> Result<(), StateError> {
        self.check_open()?;
        let i = self
            .connected(nsp)
            .ok_or_else(|| StateError::NotConnected(nsp.to_owned()))?;
        self.out
            .push(Packet::ack(self.ns[i].name.clone(), id, args));
        Ok(())
    }

    pub(super) fn disconnect(&mut self, nsp: &str) -> Result<(), StateError> {
        self.check_open()?;
        match (self.state(nsp), self.role) {
            (Some(NamespaceState::Connected), _) => {
                let name = self.leave(nsp, DisconnectReason::Local).expect("joined");
                self.out.push(Packet::disconnect(name));
                Ok(())
            }
            (Some(NamespaceState::Connecting), Role::Client) => {
                self.leave(nsp, DisconnectReason::Local);
                Ok(())
            }
            _ => Err(StateError::NotConnected(nsp.to_owned())),
        }
    }

    pub(super) fn disconnect_all(&mut self) {
        let joined: Vec<Str> = self
            .ns
            .iter()
            .filter(|n| n.state == NamespaceState::Connected)
            .map(|n| n.name.clone())
            .collect();
        for nsp in joined {
            self.disconnect(&nsp).expect("joined");
        }
    }
}

/// Checks a packet decoded from what the machine sent: it is one the
/// peer of a `from` accepts.
pub(super) fn check_sent(p: &Packet, from: Role) {
    assert!(p.nsp.starts_with('/'), "sent namespace {:?}", p.nsp);
    let attachments = p.args().map_or(0, |a| a.attachments().len());
    assert_eq!(
        p.kind.is_binary(),
        attachments > 0,
        "{:?} with {attachments} attachments",
        p.kind
    );
    let fields = || {
        p.value()
            .and_then(object)
            .unwrap_or_else(|| panic!("{:?} without an object: {p:?}", p.kind))
    };
    match (p.kind, from) {
        (PacketKind::Connect, Role::Server) => {
            assert!(string_field(&fields(), "sid").is_some(), "no sid: {p:?}");
        }
        (PacketKind::Connect, Role::Client) => {
            assert!(
                p.value().is_none_or(|v| v.kind() == JsonKind::Object),
                "CONNECT payload {p:?}"
            );
        }
        (PacketKind::ConnectError, Role::Server) => {
            assert!(
                string_field(&fields(), "message").is_some(),
                "no message: {p:?}"
            );
        }
        (PacketKind::ConnectError, Role::Client) => panic!("a client sent {p:?}"),
        (PacketKind::Disconnect, _) => {
            assert!(p.data == Data::None && p.id.is_none(), "{p:?}");
        }
        (PacketKind::Event | PacketKind::BinaryEvent, _) => {
            let name = p.event_name().expect("an event has a name");
            assert!(!is_reserved_event(&name), "reserved event sent: {p:?}");
        }
        (PacketKind::Ack | PacketKind::BinaryAck, _) => {
            assert!(p.id.is_some_and(|id| id <= MAX_ACK_ID), "{p:?}");
        }
    }
}
