//! The Engine.IO session state machine (server role), sans-IO.
//!
//! A [`Session`] is fed what arrives on its transports and the current time,
//! and hands out what to send, what happened, and when it next needs to be
//! woken. It never reads a clock, sleeps or touches a socket: the server
//! drives it, and tests drive it with a virtual clock.
//!
//! Timing follows engine.io 6.6: the first ping goes out one
//! `ping_interval` after the open packet; a pong re-arms the interval from
//! the moment it arrives; a ping unanswered `ping_timeout` after it was
//! sent closes the session with [`CloseReason::PingTimeout`]. An upgrade
//! must complete within `upgrade_timeout` of its probe starting.
//!
//! Timers that fire late are told apart by how late they are. Within a
//! slack of a quarter of `ping_timeout` (at most 1 s) lateness is
//! scheduling jitter and a ping counts from when it was due, so that an
//! idle client is closed on time. Past it the server was stalled: a ping
//! counts from when it actually went out, and a pong deadline that passed
//! during the stall gives the client the slack again to be heard, so a
//! pause of the server closes no healthy client.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::config::EngineConfig;
use super::packet::{Packet, Protocol, Str};

/// The transport a session (currently) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }
}

/// Why a session closed; the strings are the reference server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client closed the transport, or sent a close packet.
    TransportClose,
    /// The transport failed (an overlapping poll, a write error, a
    /// heartbeat in the wrong direction).
    TransportError,
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The client sent something that is not Engine.IO.
    ParseError,
    /// The server closed the session.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client let more than `max_buffered_packets` packets pile up
    /// (it stopped polling, or reads too slowly). Not a reference reason:
    /// the reference buffers without limit.
    SlowConsumer,
}

impl CloseReason {
    /// The reason as engine.io reports it ("ping timeout", …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
            Self::ServerShuttingDown => "server shutting down",
            Self::SlowConsumer => "slow consumer",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened on a session, for the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A text message from the client.
    Message(Str),
    /// A binary message from the client.
    Binary(Bytes),
    /// The session moved to the WebSocket transport.
    Upgraded,
    /// An upgrade was abandoned (timeout or a bad probe); the probing
    /// WebSocket must be closed, the session stays on polling.
    UpgradeFailed,
    /// The session closed; nothing more will happen.
    Closed(CloseReason),
}

/// An upgrade in progress.
#[derive(Debug, Clone, Copy)]
struct Upgrade {
    deadline: Instant,
    probed: bool,
    /// After the probe: when the pending long-poll is next answered with a
    /// noop (engine.io checks every 100 ms from the probe on).
    noop_at: Option<Instant>,
    /// A noop tick passed: a pending long-poll gets a noop.
    noop_due: bool,
}

/// How often, from the probe on, a pending long-poll is answered with a
/// noop so that the client gets its poll back and can finish upgrading
/// (engine.io's check interval).
const UPGRADE_NOOP_INTERVAL: Duration = Duration::from_millis(100);

/// What the probing WebSocket must do with a packet it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStep {
    /// Send this packet on the probing WebSocket (the `3probe` answer).
    Reply(Packet),
    /// The upgrade is complete: the WebSocket is now the session's
    /// transport.
    Upgraded,
    /// Nothing to do yet.
    Wait,
    /// The upgrade failed: close the probing WebSocket.
    Abort,
}

/// Why an upgrade cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeRefused {
    /// Upgrades are disabled, the session is not on polling, or it is
    /// upgrading or upgraded already.
    NotAllowed,
    /// The session is closed.
    Closed,
}

/// One Engine.IO session, server side.
///
/// The fields a server reads before writing each packet (transport,
/// protocol, close state, queue) come first and, with `repr(C)`, stay in
/// that order, so that they share a cache line.
#[derive(Debug)]
#[repr(C)]
pub struct Session {
    transport: TransportKind,
    protocol: Protocol,
    closed: Option<CloseReason>,
    upgraded: bool,
    allow_upgrades: bool,
    outbox: VecDeque<Packet>,
    upgrade: Option<Upgrade>,
    sid: String,
    ping_interval: Duration,
    ping_timeout: Duration,
    upgrade_timeout: Duration,
    max_buffered: usize,
    max_buffered_bytes: usize,
    /// Data bytes of the packets in `outbox`.
    outbox_bytes: usize,
    events: VecDeque<Event>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    /// The packet a pending poll is answered with once the session closed
    /// (`1` for a server-side close, `6` when the client asked to close).
    final_poll: Option<Packet>,
}

impl Session {
    /// Opens a session on `transport` at `now`, queueing the open packet
    /// with the handshake. `sid` must be unique and unguessable (the server
    /// draws it from the OS RNG).
    pub fn new(
        sid: String,
        config: &EngineConfig,
        transport: TransportKind,
        protocol: Protocol,
        now: Instant,
    ) -> Self {
        let allow_upgrades = config.allow_upgrades && config.websocket;
        let mut s = Self {
            sid,
            protocol,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            upgrade_timeout: config.upgrade_timeout,
            allow_upgrades,
            max_buffered: config.max_buffered_packets.max(1),
            max_buffered_bytes: config.max_buffered_bytes,
            outbox_bytes: 0,
            transport,
            upgraded: false,
            upgrade: None,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            next_ping: None,
            pong_deadline: None,
            closed: None,
            final_poll: None,
        };
        let handshake = s.handshake(config.max_payload);
        crate::lean::push_back(&mut s.outbox, Packet::Open(Bytes::from(handshake)));
        match protocol {
            // v4: the server pings.
            Protocol::V4 => s.next_ping = Some(now + s.ping_interval),
            // v3: the client pings; the server expects one in time.
            Protocol::V3 => s.pong_deadline = Some(now + s.ping_interval + s.ping_timeout),
        }
        s
    }

    /// The handshake JSON (`sid`, `upgrades`, `pingInterval`,
    /// `pingTimeout`, `maxPayload`), exactly the reference's keys.
    fn handshake(&self, max_payload: usize) -> String {
        let upgrades = if self.transport == TransportKind::Polling && self.allow_upgrades {
            r#"["websocket"]"#
        } else {
            "[]"
        };
        format!(
            r#"{{"sid":"{}","upgrades":{upgrades},"pingInterval":{},"pingTimeout":{},"maxPayload":{max_payload}}}"#,
            self.sid,
            self.ping_interval.as_millis(),
            self.ping_timeout.as_millis(),
        )
    }

    /// The session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The protocol revision the client speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The current transport.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// Whether the session moved to WebSocket by an upgrade.
    pub fn is_upgraded(&self) -> bool {
        self.upgraded
    }

    /// Whether an upgrade is in progress.
    pub fn is_upgrading(&self) -> bool {
        self.upgrade.is_some()
    }

    /// Why the session closed, if it did.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.closed
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether the session, closed by the server while on polling, still
    /// owes the client its close packet: the reference keeps such a session
    /// until the client's next poll collects it, so that the client sees a
    /// clean close rather than an unknown session.
    ///
    /// A client that closed with a close packet posted while no poll was
    /// waiting is kept the same way: its poll may reach the server just
    /// after the POST (clients send both at once), and gets the noop.
    pub fn awaits_final_poll(&self) -> bool {
        let owed = match self.closed {
            Some(CloseReason::ForcedClose | CloseReason::ServerShuttingDown) => true,
            Some(CloseReason::TransportClose) => self.final_poll == Some(Packet::Noop),
            _ => false,
        };
        owed && self.transport == TransportKind::Polling && self.final_poll.is_some()
    }

    // ----- input from the current transport -----

    /// A packet from the client on the current transport.
    pub fn handle_packet(&mut self, packet: Packet, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        match (packet, self.protocol) {
            (Packet::Pong(_), Protocol::V4) => {
                self.pong_deadline = None;
                self.next_ping = Some(now + self.ping_interval);
            }
            (Packet::Ping(data), Protocol::V3) => {
                self.pong_deadline = Some(now + self.ping_interval + self.ping_timeout);
                crate::lean::push_back(&mut self.outbox, Packet::Pong(data));
            }
            // A heartbeat in the wrong direction.
            (Packet::Ping(_) | Packet::Pong(_), _) => self.close_with(CloseReason::TransportError),
            (Packet::Message(text), _) => {
                crate::lean::push_back(&mut self.events, Event::Message(text));
            }
            (Packet::Binary(data), _) => {
                crate::lean::push_back(&mut self.events, Event::Binary(data));
            }
            (Packet::Close, _) => {
                self.close_with(CloseReason::TransportClose);
                self.final_poll = Some(Packet::Noop);
            }
            (Packet::Noop, _) => {}
            // Open and upgrade packets only travel the other way (or on a
            // probing transport).
            (Packet::Open(_) | Packet::Upgrade, _) => self.close_with(CloseReason::ParseError),
        }
    }

    /// The client sent bytes that are not Engine.IO.
    pub fn handle_parse_error(&mut self) {
        self.close_with(CloseReason::ParseError);
    }

    /// The current transport ended (connection dropped, poll aborted).
    pub fn handle_transport_close(&mut self) {
        self.close_with(CloseReason::TransportClose);
    }

    /// The current transport failed (an overlapping poll, a write error).
    pub fn handle_transport_error(&mut self) {
        self.close_with(CloseReason::TransportError);
    }

    /// Closes the session from the server side (`ForcedClose` for an
    /// application close, `ServerShuttingDown` on shutdown). A pending poll
    /// is answered with a close packet.
    pub fn close(&mut self, reason: CloseReason) {
        self.close_with(reason);
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(reason);
        self.final_poll = Some(Packet::Close);
        self.next_ping = None;
        self.pong_deadline = None;
        if self.upgrade.take().is_some() {
            crate::lean::push_back(&mut self.events, Event::UpgradeFailed);
        }
        crate::lean::push_back(&mut self.events, Event::Closed(reason));
    }

    // ----- upgrade -----

    /// A WebSocket asks to upgrade this session: starts the probe window.
    pub fn start_upgrade(&mut self, now: Instant) -> Result<(), UpgradeRefused> {
        if self.closed.is_some() {
            return Err(UpgradeRefused::Closed);
        }
        if !self.allow_upgrades
            || self.transport != TransportKind::Polling
            || self.upgraded
            || self.upgrade.is_some()
        {
            return Err(UpgradeRefused::NotAllowed);
        }
        self.upgrade = Some(Upgrade {
            deadline: now + self.upgrade_timeout,
            probed: false,
            noop_at: None,
            noop_due: false,
        });
        Ok(())
    }

    /// A packet on the probing WebSocket, received at `now`.
    pub fn handle_upgrade_packet(&mut self, packet: Packet, now: Instant) -> UpgradeStep {
        let Some(upgrade) = self.upgrade.as_mut() else {
            return UpgradeStep::Abort;
        };
        match packet {
            Packet::Ping(data) if &data[..] == b"probe" && !upgrade.probed => {
                upgrade.probed = true;
                upgrade.noop_at = Some(now + UPGRADE_NOOP_INTERVAL);
                UpgradeStep::Reply(Packet::Pong(data))
            }
            Packet::Upgrade if upgrade.probed => {
                self.upgrade = None;
                self.upgraded = true;
                self.transport = TransportKind::WebSocket;
                crate::lean::push_back(&mut self.events, Event::Upgraded);
                UpgradeStep::Upgraded
            }
            Packet::Noop => UpgradeStep::Wait,
            _ => {
                self.upgrade = None;
                crate::lean::push_back(&mut self.events, Event::UpgradeFailed);
                UpgradeStep::Abort
            }
        }
    }

    /// The probing WebSocket went away before the upgrade completed.
    pub fn abort_upgrade(&mut self) {
        if self.upgrade.take().is_some() {
            crate::lean::push_back(&mut self.events, Event::UpgradeFailed);
        }
    }

    // ----- output -----

    /// Queues a packet for the client. Returns false (and drops it) once
    /// the session is closed, or when the client already has
    /// `max_buffered_packets` waiting or the packet would take the queue
    /// past `max_buffered_bytes`, which closes the session with
    /// [`CloseReason::SlowConsumer`] and drops what was queued.
    pub fn send(&mut self, packet: Packet) -> bool {
        if self.closed.is_some() {
            return false;
        }
        let len = packet.data_len();
        let over_bytes = !self.outbox.is_empty()
            && self.outbox_bytes.saturating_add(len) > self.max_buffered_bytes;
        if self.outbox.len() >= self.max_buffered || over_bytes {
            self.handle_slow_consumer();
            return false;
        }
        self.outbox_bytes += len;
        crate::lean::push_back(&mut self.outbox, packet);
        true
    }

    /// The client cannot take more (its WebSocket write queue is full):
    /// closes with [`CloseReason::SlowConsumer`]. What was queued for it is
    /// dropped: it will never read it.
    pub fn handle_slow_consumer(&mut self) {
        self.close_with(CloseReason::SlowConsumer);
        self.outbox.clear();
        self.outbox_bytes = 0;
    }

    /// Bytes of packet data waiting to be written.
    pub fn queued_bytes(&self) -> usize {
        self.outbox_bytes
    }

    /// Number of packets waiting to be written.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// Takes every queued packet (for a WebSocket transport, which writes
    /// them one frame each).
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Packet> {
        self.outbox_bytes = 0;
        self.outbox.drain(..)
    }

    /// What a pending long-polling GET answers with now, or `None` if it
    /// should keep waiting: every queued packet at once; a noop on each
    /// 100 ms tick from the upgrade probe on (the client must get its poll
    /// back to finish upgrading); the final packet once the session closed.
    pub fn poll_response(&mut self) -> Option<Vec<Packet>> {
        if self.closed.is_some() {
            // A server-side close lets what was sent before it go first, in
            // a response of its own (the reference waits for its write
            // buffer to drain before closing; socket.io-client handles the
            // packets of a response on the next tick, after a close in the
            // same response): a Socket.IO `disconnect(true)` queues a
            // DISCONNECT per namespace, then closes.
            let server_close = matches!(
                self.closed,
                Some(CloseReason::ForcedClose | CloseReason::ServerShuttingDown)
            );
            if server_close && self.final_poll.is_some() && !self.outbox.is_empty() {
                return Some(self.drain().collect());
            }
            return self.final_poll.take().map(|p| vec![p]);
        }
        if self.transport != TransportKind::Polling {
            return Some(vec![Packet::Noop]);
        }
        if !self.outbox.is_empty() {
            return Some(self.drain().collect());
        }
        if let Some(upgrade) = self.upgrade.as_mut().filter(|u| u.noop_due) {
            upgrade.noop_due = false;
            return Some(vec![Packet::Noop]);
        }
        None
    }

    /// The next thing that happened, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- time -----

    /// When [`Session::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.next_ping,
            self.pong_deadline,
            self.upgrade.map(|u| u.deadline),
            self.upgrade.and_then(|u| u.noop_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// How late a timer may fire and still count as on time: a quarter of
    /// `ping_timeout`, at most 1 s. Lateness within it is scheduling
    /// jitter; past it, the server itself was not running.
    fn timer_slack(&self) -> Duration {
        (self.ping_timeout / 4).min(Duration::from_secs(1))
    }

    /// Advances the timers to `now`: sends a due ping, closes on a missed
    /// pong, abandons an upgrade that took too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        let slack = self.timer_slack();
        if let Some(deadline) = self.pong_deadline.filter(|d| now >= *d) {
            if now - deadline <= slack {
                self.close_with(CloseReason::PingTimeout);
                return;
            }
            // Noticed long after it passed: the server was not running
            // (a stall, CPU starvation, SIGSTOP), and the client's answer
            // may be waiting, unread, on its transport. It gets `slack` to
            // be heard, as Node handles I/O that arrived during a stall
            // before its timers.
            self.pong_deadline = Some(now + slack);
        }
        if let Some(due) = self.next_ping.filter(|t| now >= *t) {
            self.next_ping = None;
            crate::lean::push_back(&mut self.outbox, Packet::Ping(Bytes::new()));
            // Counted from when the ping is sent, as engine.io counts it,
            // so that a server that stalled does not fail every client the
            // moment its late pings go out. A timer that is late by no more
            // than the slack (scheduling jitter) still counts from when
            // the ping was due: an idle client is gone interval + timeout
            // after its last sign of life, not later.
            self.pong_deadline =
                Some((due + self.ping_timeout).max(now + self.ping_timeout - slack));
        }
        if self.upgrade.is_some_and(|u| now >= u.deadline) {
            self.upgrade = None;
            crate::lean::push_back(&mut self.events, Event::UpgradeFailed);
        }
        if let Some(upgrade) = self.upgrade.as_mut()
            && let Some(at) = upgrade.noop_at.filter(|at| now >= *at)
        {
            upgrade.noop_due = true;
            // The next tick, on the 100 ms grid from the probe.
            let behind = (now - at).as_nanos() / UPGRADE_NOOP_INTERVAL.as_nanos();
            let ticks = u32::try_from(behind).unwrap_or(u32::MAX).saturating_add(1);
            upgrade.noop_at = Some(at + UPGRADE_NOOP_INTERVAL * ticks);
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
