//! Connection state recovery: the sessions of recently disconnected sockets
//! and the broadcasts they may have missed.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{BroadcastOptions, Room, SocketId};
use crate::socket::{Args, RawJson};

/// Connection state recovery settings (socket.io's
/// `connectionStateRecovery`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryConfig {
    /// How long a disconnected socket's session is kept. Default 2 min.
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middlewares.
    /// Default true.
    pub skip_middlewares: bool,
    /// Most broadcasts kept for replay, per namespace; the oldest go first
    /// (a client whose offset fell out gets a new session, as when its
    /// offset is too old). Default 10 000. The reference keeps everything
    /// emitted in the last `max_disconnection_duration`.
    pub max_packets: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_packets: 10_000,
        }
    }
}

impl RecoveryConfig {
    /// Sets how long sessions are kept.
    pub fn max_disconnection_duration(mut self, d: Duration) -> Self {
        self.max_disconnection_duration = d;
        self
    }

    /// Sets whether recovered sockets skip the middlewares.
    pub fn skip_middlewares(mut self, skip: bool) -> Self {
        self.skip_middlewares = skip;
        self
    }

    /// Sets how many broadcasts are kept for replay.
    pub fn max_packets(mut self, n: usize) -> Self {
        self.max_packets = n;
        self
    }
}

/// What is kept of a socket that disconnected for a reason it may recover
/// from (transport closed or failed, ping timeout, server shutting down).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PersistedSession {
    /// Its id, given back on recovery.
    pub sid: SocketId,
    /// The private session id the client presents to recover.
    pub pid: String,
    /// Its rooms, joined again on recovery.
    pub rooms: Vec<Room>,
    /// Its data.
    pub data: Option<RawJson>,
}

impl PersistedSession {
    /// A session to keep.
    pub fn new(sid: SocketId, pid: String, rooms: Vec<Room>, data: Option<RawJson>) -> Self {
        Self {
            sid,
            pid,
            rooms,
            data,
        }
    }
}

/// A session given back, with the events (arguments, event name first and
/// offset last) the socket missed, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoredSession {
    /// The session.
    pub session: PersistedSession,
    /// The missed events.
    pub missed: Vec<Args>,
}

struct Stored {
    seq: u64,
    at: Instant,
    opts: BroadcastOptions,
    args: Args,
}

/// Sessions and replayable broadcasts of one namespace, bounded by age and
/// count. Time is an argument.
pub(crate) struct SessionStore {
    config: RecoveryConfig,
    prefix: String,
    next_seq: u64,
    sessions: HashMap<String, (PersistedSession, Instant)>,
    packets: VecDeque<Stored>,
}

impl SessionStore {
    pub(crate) fn new(config: RecoveryConfig, server_id: &str) -> Self {
        Self {
            config,
            prefix: format!("{server_id}-"),
            next_seq: 0,
            sessions: HashMap::new(),
            packets: VecDeque::new(),
        }
    }

    /// Keeps a broadcast for replay and returns its offset (to append to
    /// the event's arguments before `args` is passed here).
    pub(crate) fn next_offset(&mut self) -> (u64, String) {
        let seq = self.next_seq;
        self.next_seq += 1;
        (seq, format!("{}{seq:x}", self.prefix))
    }

    pub(crate) fn record(&mut self, seq: u64, args: Args, opts: BroadcastOptions, now: Instant) {
        self.expire(now);
        if self.config.max_packets == 0 {
            return;
        }
        while self.packets.len() >= self.config.max_packets {
            self.packets.pop_front();
        }
        self.packets.push_back(Stored {
            seq,
            at: now,
            opts,
            args,
        });
    }

    pub(crate) fn persist(&mut self, session: PersistedSession, now: Instant) {
        self.expire(now);
        self.sessions.insert(session.pid.clone(), (session, now));
    }

    /// Takes session `pid` back with what it missed after `offset`; `None`
    /// when the session expired or is unknown, or the offset is unknown or
    /// no longer kept.
    pub(crate) fn restore(
        &mut self,
        pid: &str,
        offset: &str,
        now: Instant,
    ) -> Option<RestoredSession> {
        self.expire(now);
        let seq = offset
            .strip_prefix(&self.prefix)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())?;
        // The offset must be a packet still kept (the reference looks it up
        // among its kept packets the same way).
        let (first, last) = (self.packets.front()?.seq, self.packets.back()?.seq);
        if seq < first || seq > last {
            return None;
        }
        let (session, _) = self.sessions.remove(pid)?;
        let missed = self
            .packets
            .iter()
            .filter(|p| p.seq > seq && p.opts.includes(&session.rooms))
            .map(|p| p.args.clone())
            .collect();
        Some(RestoredSession { session, missed })
    }

    fn expire(&mut self, now: Instant) {
        let max = self.config.max_disconnection_duration;
        let expired = |at: Instant| now.saturating_duration_since(at) > max;
        self.sessions.retain(|_, (_, at)| !expired(*at));
        while self.packets.front().is_some_and(|p| expired(p.at)) {
            self.packets.pop_front();
        }
    }

    #[cfg(test)]
    pub(crate) fn kept(&self) -> (usize, usize) {
        (self.sessions.len(), self.packets.len())
    }
}
