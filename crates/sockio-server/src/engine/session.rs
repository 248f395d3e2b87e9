//! A live session: the sans-IO core behind a lock, its transports, and
//! the one function that turns the core's output into effects.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use sockio_core::engine::{CloseReason, Event, Packet, Protocol, Session, TransportKind};
use sockio_ws::WsWriter;
use tokio::sync::Notify;

use super::{EngineSocket, Inner, SendFlags};
use crate::engine::websocket::packet_to_ws;

/// The clock every session runs on: tokio's, so that tests with a paused
/// runtime drive sessions in virtual time.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// How long a session closed by the server stays for the client's last
/// poll (engine.io's `closeTimeout`).
const FINAL_POLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Mutable state of a session. What a broadcast reads for each receiver
/// (the writer, then the core's transport, queue and close state) comes
/// first and, with `repr(C)`, stays in declaration order, next to the lock
/// word (see `SessionEntry`).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct SessionState {
    /// The WebSocket the session writes to, once on WebSocket.
    pub(crate) ws: Option<WsWriter>,
    /// A long-polling GET is waiting for packets.
    pub(crate) poll_waiting: bool,
    /// A long-polling POST is being read.
    pub(crate) post_active: bool,
    /// The application broke a protocol above Engine.IO: a WebSocket is
    /// closed with 1008.
    pub(crate) violation: bool,
    pub(crate) core: Session,
    /// How many of the packets queued for the next poll were sent with
    /// `compress: false` (a response made only of those is not
    /// compressed).
    pub(crate) uncompressed: usize,
    /// When the application asked to be called back
    /// (`EngineHandler::on_deadline`).
    pub(crate) app_deadline: Option<std::time::Instant>,
    /// When the timer task is armed to wake (`None`: it waits for a
    /// deadline to appear). A deadline that moves later does not wake it:
    /// it wakes at the old one, finds nothing due and sleeps again, so a
    /// packet that only pushes the heartbeat back costs no wake-up.
    timer_at: Option<std::time::Instant>,
}

impl SessionState {
    /// Whether a packet sent now is written at once (the reference's
    /// `transport.writable`): see [`SendFlags::volatile`].
    pub(crate) fn writable(&self) -> bool {
        if self.core.is_closed() || self.core.is_upgrading() || self.core.queued() > 0 {
            return false;
        }
        match self.core.transport() {
            TransportKind::Polling => self.poll_waiting,
            TransportKind::WebSocket => self
                .ws
                .as_ref()
                .is_some_and(|ws| !ws.is_closed() && ws.unwritten() == 0),
        }
    }

    /// The earliest deadline the timer task must wake for.
    fn next_deadline(&self) -> Option<std::time::Instant> {
        [self.core.poll_timeout(), self.app_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether the timer task must be woken to re-arm: a deadline earlier
    /// than the one it sleeps until, or the session closed.
    pub(crate) fn timer_stale(&self) -> bool {
        if self.core.is_closed() {
            return true;
        }
        match (self.next_deadline(), self.timer_at) {
            (Some(next), Some(armed)) => next < armed,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// The WebSocket a packet can be handed to directly, nothing being
    /// queued ahead of it in the session.
    fn direct_ws(&self) -> Option<&WsWriter> {
        let direct = self.core.transport() == TransportKind::WebSocket
            && self.core.queued() == 0
            && !self.core.is_closed();
        self.ws.as_ref().filter(|_| direct)
    }
}

/// A session in the table; its state first (`repr(C)`), so that a
/// broadcast's lock and first reads share the `Arc`'s cache line.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct SessionEntry {
    state: Mutex<SessionState>,
    /// Woken on every change: pending polls and upgrade probes wait on it.
    pub(crate) changed: Notify,
    /// Woken when the timer task must re-arm (see `SessionState::timer_at`).
    pub(crate) timer: Notify,
    pub(crate) sid: Arc<str>,
    /// The handshake request.
    pub(crate) request: Arc<super::RequestInfo>,
    /// What the handler keeps for this session (see
    /// `EngineSocket::set_app_data`): weak, so that it may hold the
    /// session without a cycle.
    pub(crate) app: std::sync::OnceLock<Weak<dyn std::any::Any + Send + Sync>>,
}

/// Handler calls to make once the lock is released.
#[must_use = "dispatch the events to the handler"]
pub(crate) struct Dispatch {
    events: Vec<Event>,
}

impl SessionEntry {
    pub(crate) fn new(core: Session, request: Arc<super::RequestInfo>) -> Arc<Self> {
        Arc::new(Self {
            sid: Arc::from(core.sid()),
            request,
            state: Mutex::new(SessionState {
                core,
                poll_waiting: false,
                post_active: false,
                ws: None,
                uncompressed: 0,
                violation: false,
                app_deadline: None,
                timer_at: None,
            }),
            changed: Notify::new(),
            timer: Notify::new(),
            app: std::sync::OnceLock::new(),
        })
    }

    /// Opens a session on `transport`: registers it in the server's table
    /// and starts its timer task.
    pub(crate) fn open(
        inner: &Arc<Inner>,
        sid: String,
        transport: TransportKind,
        protocol: Protocol,
        request: Arc<super::RequestInfo>,
    ) -> Arc<Self> {
        let core = Session::new(sid, &inner.config.engine, transport, protocol, now());
        let entry = Self::new(core, request);
        inner.insert(entry.clone());
        tokio::spawn(run_timers(Arc::downgrade(inner), entry.clone()));
        entry
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SessionState> {
        // A panic while holding the lock cannot leave the core in a state
        // worse than closing it, which the next caller will do.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies what the core produced after a change: writes queued packets
    /// to the WebSocket, wakes pending polls, drops the session from the
    /// table once closed. Returns the events for the handler.
    pub(crate) fn process(
        self: &Arc<Self>,
        inner: &Arc<Inner>,
        mut state: MutexGuard<'_, SessionState>,
    ) -> Dispatch {
        if state.core.transport() == TransportKind::WebSocket {
            flush_ws(&mut state);
        }
        let mut events = Vec::new();
        while let Some(e) = state.core.poll_event() {
            events.push(e);
        }
        let closed = state.core.close_reason();
        let ws = if closed.is_some() {
            state.ws.take()
        } else {
            None
        };
        let lingers = state.core.awaits_final_poll();
        let violation = state.violation;
        let timer_stale = state.timer_stale();
        drop(state);
        if timer_stale {
            self.timer.notify_one();
        }
        if let Some(reason) = closed {
            if lingers {
                // Kept for the client's next poll, which gets the close
                // packet; gone after the reference's 30 s close timeout.
                let sid = self.sid.clone();
                let weak = Arc::downgrade(inner);
                tokio::spawn(async move {
                    tokio::time::sleep(FINAL_POLL_TIMEOUT).await;
                    if let Some(inner) = weak.upgrade() {
                        inner.remove(&sid);
                    }
                });
            } else {
                inner.remove(&self.sid);
            }
            if let Some(ws) = ws {
                let frame = sockio_ws::CloseFrame::new(ws_close_code(reason, violation), "");
                if reason == CloseReason::SlowConsumer {
                    // It does not read: what is queued for it and the
                    // connection go now, not after a close handshake that
                    // would wait behind its full queue.
                    ws.terminate(Some(frame));
                } else {
                    tokio::spawn(async move {
                        let _ = ws.close(Some(frame)).await;
                    });
                }
            }
        }
        self.changed.notify_waiters();
        Dispatch { events }
    }
}

/// The close code a WebSocket transport gets when its session closes for
/// `reason`: 1001 on shutdown, 1008 (policy violation) when the client
/// broke Engine.IO (a parse error) or a protocol above it
/// (`violation`, see `EngineSocket::close_for_violation`), 1000 otherwise.
/// Violations of RFC 6455 itself get their close codes from sockio-ws.
pub(crate) fn ws_close_code(reason: CloseReason, violation: bool) -> u16 {
    match reason {
        CloseReason::ServerShuttingDown => 1001,
        CloseReason::ParseError => 1008,
        _ if violation => 1008,
        _ => 1000,
    }
}

/// Writes every queued packet to the session's WebSocket. A client that
/// lets its queue fill up is failed rather than buffered without bound.
fn flush_ws(state: &mut SessionState) {
    let SessionState {
        ws: Some(ws),
        core,
        uncompressed,
        ..
    } = state
    else {
        return;
    };
    // What polling left queued is written as usual from now on.
    *uncompressed = 0;
    let protocol = core.protocol();
    let mut overflow = false;
    for packet in core.drain() {
        match ws.try_send(packet_to_ws(&packet, protocol)) {
            Ok(()) => {}
            Err(sockio_ws::TrySendError::Full) => {
                overflow = true;
                break;
            }
            // The WebSocket is closing: the read loop reports why.
            Err(sockio_ws::TrySendError::Closed) => break,
        }
    }
    if overflow {
        core.handle_slow_consumer();
    }
}

impl Dispatch {
    /// Calls the handler for each event, in order.
    pub(crate) fn run(self, inner: &Arc<Inner>, entry: &Arc<SessionEntry>) {
        if self.events.is_empty() {
            return;
        }
        let socket = EngineSocket {
            entry: entry.clone(),
            engine: Arc::downgrade(inner),
        };
        for event in self.events {
            match event {
                Event::Message(text) => inner.handler.on_message(&socket, text),
                Event::Binary(data) => inner.handler.on_binary(&socket, data),
                Event::Closed(reason) => inner.handler.on_close(&socket, reason),
                Event::Upgraded | Event::UpgradeFailed => {}
            }
        }
    }
}

/// Runs a session's timers (heartbeat, ping timeout, upgrade timeout, and
/// the application's deadline) until it closes.
async fn run_timers(inner: Weak<Inner>, entry: Arc<SessionEntry>) {
    // One timer entry for the session's life, reset rather than rebuilt.
    let sleep = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(sleep);
    loop {
        let rearm = entry.timer.notified();
        tokio::pin!(rearm);
        rearm.as_mut().enable();
        let deadline = {
            let mut state = entry.lock();
            if state.core.is_closed() {
                return;
            }
            let deadline = state.next_deadline();
            state.timer_at = deadline;
            deadline
        };
        if let Some(at) = deadline {
            sleep.as_mut().reset(at.into());
        }
        tokio::select! {
            () = &mut sleep, if deadline.is_some() => {
                let Some(inner) = inner.upgrade() else { return };
                let mut state = entry.lock();
                let now = now();
                state.core.handle_timeout(now);
                let app_due = state.app_deadline.is_some_and(|at| at <= now);
                if app_due {
                    state.app_deadline = None;
                }
                let closed = state.core.is_closed();
                entry.process(&inner, state).run(&inner, &entry);
                if app_due && !closed {
                    let socket = EngineSocket {
                        entry: entry.clone(),
                        engine: Arc::downgrade(&inner),
                    };
                    inner.handler.on_deadline(&socket);
                }
            }
            () = &mut rearm => {}
        }
    }
}

/// Queues `packet` on the session and applies the effects; see
/// [`SendFlags`] for what the flags change.
pub(crate) fn send(
    inner: &Arc<Inner>,
    entry: &Arc<SessionEntry>,
    packet: Packet,
    flags: SendFlags,
) -> bool {
    send_all(inner, entry, std::iter::once(packet), flags)
}

/// Queues `packets` one after the other under one lock, so that no other
/// sender's packet comes between them (the messages of one Socket.IO
/// packet: its text and its attachments). `flags.volatile` applies to the
/// whole: all or none. Stops at the first refused; false then.
pub(crate) fn send_all(
    inner: &Arc<Inner>,
    entry: &Arc<SessionEntry>,
    packets: impl IntoIterator<Item = Packet>,
    flags: SendFlags,
) -> bool {
    let mut state = entry.lock();
    if flags.volatile && !state.writable() {
        return false;
    }
    let mut all = true;
    let mut process = false;
    for packet in packets {
        let (queued, changed) = push_packet(&mut state, packet, flags);
        process |= changed;
        if !queued {
            all = false;
            break;
        }
    }
    if process {
        entry.process(inner, state).run(inner, entry);
    }
    all
}

/// Queues one packet: whether it was taken, and whether the session's
/// state changed in a way `process` must apply (a packet queued on the
/// core, a slow consumer cut).
fn push_packet(state: &mut SessionState, packet: Packet, flags: SendFlags) -> (bool, bool) {
    if !flags.compress
        && let Some(ws) = state.direct_ws()
    {
        // Straight to the writer, which alone knows how to skip deflate
        // for one message; nothing is queued ahead, so order holds.
        let msg = packet_to_ws(&packet, state.core.protocol());
        return match ws.try_send_uncompressed(msg) {
            Ok(()) => (true, false),
            Err(sockio_ws::TrySendError::Full) => {
                state.core.handle_slow_consumer();
                (false, true)
            }
            // Closing: the read loop reports why.
            Err(sockio_ws::TrySendError::Closed) => (false, false),
        };
    }
    let queued = state.core.send(packet);
    note_uncompressed(state, queued, flags);
    (queued, true)
}

/// Counts a packet queued for the next poll with `compress: false`.
fn note_uncompressed(state: &mut SessionState, queued: bool, flags: SendFlags) {
    if queued && !flags.compress && state.core.transport() == TransportKind::Polling {
        state.uncompressed += 1;
    }
}

/// Sends a packet whose WebSocket frame was encoded once for many
/// receivers. On a v4 WebSocket session with nothing queued ahead of it,
/// the shared frame goes straight to the writer; anywhere else (polling,
/// an upgrade in progress, v3) the packet takes the ordinary path.
pub(crate) fn send_shared(
    engine: &std::sync::Weak<Inner>,
    entry: &Arc<SessionEntry>,
    shared: &SharedPacket,
    flags: SendFlags,
) -> bool {
    send_shared_all(engine, entry, std::slice::from_ref(shared), flags)
}

/// [`send_shared`] of several packets under one lock, as [`send_all`].
pub(crate) fn send_shared_all(
    engine: &std::sync::Weak<Inner>,
    entry: &Arc<SessionEntry>,
    shared: &[SharedPacket],
    flags: SendFlags,
) -> bool {
    let mut state = entry.lock();
    if flags.volatile && !state.writable() {
        return false;
    }
    let mut all = true;
    let mut process = false;
    for packet in shared {
        let (queued, changed) = push_shared(&mut state, packet, flags);
        process |= changed;
        if !queued {
            all = false;
            break;
        }
    }
    if process && let Some(inner) = engine.upgrade() {
        entry.process(&inner, state).run(&inner, entry);
    }
    all
}

/// Queues one shared packet, as [`push_packet`].
fn push_shared(state: &mut SessionState, shared: &SharedPacket, flags: SendFlags) -> (bool, bool) {
    let v4 = state.core.protocol() == sockio_core::engine::Protocol::V4;
    if let Some(ws) = state.direct_ws().filter(|_| v4) {
        // The hot path of a broadcast: one lock and one queue push, no
        // reference count of the server touched.
        return match ws.try_send_frame(shared.frame.clone()) {
            Ok(()) => (true, false),
            Err(sockio_ws::TrySendError::Full) => {
                state.core.handle_slow_consumer();
                (false, true)
            }
            // The WebSocket is closing: the read loop reports why (a peer
            // that just went away is a transport close, which connection
            // state recovery may recover, not a slow consumer).
            Err(sockio_ws::TrySendError::Closed) => (false, false),
        };
    }
    let queued = state.core.send(shared.packet.clone());
    note_uncompressed(state, queued, flags);
    (queued, true)
}

/// A packet encoded once, to be sent to many sessions: a broadcast
/// serializes its payload once and every WebSocket receiver shares the
/// same frame bytes.
#[derive(Debug, Clone)]
pub struct SharedPacket {
    packet: Packet,
    frame: bytes::Bytes,
}

impl SharedPacket {
    /// Encodes `packet` (a message, text or binary) as a finished server
    /// WebSocket frame.
    pub fn new(packet: Packet) -> Self {
        let frame = match packet.encode_ws(sockio_core::engine::Protocol::V4) {
            sockio_core::engine::WsFrame::Text(t) => {
                sockio_ws::frame::encode_server_frame(sockio_ws::frame::OpCode::Text, &t)
            }
            sockio_core::engine::WsFrame::Binary(b) => {
                sockio_ws::frame::encode_server_frame(sockio_ws::frame::OpCode::Binary, &b)
            }
        };
        Self { packet, frame }
    }

    /// The packet.
    pub fn packet(&self) -> &Packet {
        &self.packet
    }
}
