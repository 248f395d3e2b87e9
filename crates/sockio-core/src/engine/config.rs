//! Engine.IO settings, with the reference server's defaults.

use std::time::Duration;

/// Engine.IO settings. The defaults are engine.io 6.6's, so a client tuned
/// for the reference server behaves the same against this one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Time between two pings of the server. Default 25 s.
    pub ping_interval: Duration,
    /// How long the client has to answer a ping, counted from when the ping
    /// was sent (from when it was due if its timer fired late by no more
    /// than a quarter of this, at most 1 s: see the session's timing
    /// rules). Default 20 s.
    pub ping_timeout: Duration,
    /// How long a client may take to complete an upgrade (from the start of
    /// the probe to the upgrade packet). Default 10 s.
    pub upgrade_timeout: Duration,
    /// Largest HTTP request body or WebSocket message accepted, in bytes
    /// (announced to the client as `maxPayload`). Default 1 000 000.
    pub max_payload: usize,
    /// Whether clients may open sessions with HTTP long-polling. Default true.
    pub polling: bool,
    /// Whether clients may use WebSocket (directly or by upgrade). Default true.
    pub websocket: bool,
    /// Whether polling sessions may upgrade to WebSocket. Default true.
    pub allow_upgrades: bool,
    /// Whether Engine.IO protocol 3 clients (socket.io-client 2.x) are
    /// accepted. Default false, as in the reference.
    pub allow_eio3: bool,
    /// Most packets waiting for a client (one that stopped polling, or
    /// reads its WebSocket too slowly). Past it the session closes with
    /// [`CloseReason::SlowConsumer`](super::CloseReason::SlowConsumer)
    /// instead of buffering without bound. Default 10 000 (the reference
    /// has no limit).
    pub max_buffered_packets: usize,
    /// Most bytes of packet data waiting for a client, counted like
    /// `max_buffered_packets` (for polling, the packets queued for the
    /// next poll; on WebSocket, the messages not yet taken by the
    /// connection). A packet is always let into an empty queue, whatever
    /// its size. Past it the session closes with
    /// [`CloseReason::SlowConsumer`](super::CloseReason::SlowConsumer).
    /// Default 4 MiB (the reference has no limit).
    pub max_buffered_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            polling: true,
            websocket: true,
            allow_upgrades: true,
            allow_eio3: false,
            max_buffered_packets: 10_000,
            max_buffered_bytes: 4 << 20,
        }
    }
}

impl EngineConfig {
    /// Sets [`EngineConfig::ping_interval`].
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.ping_interval = d;
        self
    }

    /// Sets [`EngineConfig::ping_timeout`].
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.ping_timeout = d;
        self
    }

    /// Sets [`EngineConfig::upgrade_timeout`].
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.upgrade_timeout = d;
        self
    }

    /// Sets [`EngineConfig::max_payload`].
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Sets which transports are enabled.
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.polling = polling;
        self.websocket = websocket;
        self
    }

    /// Sets [`EngineConfig::allow_upgrades`].
    pub fn allow_upgrades(mut self, on: bool) -> Self {
        self.allow_upgrades = on;
        self
    }

    /// Sets [`EngineConfig::max_buffered_packets`] (at least 1).
    pub fn max_buffered_packets(mut self, packets: usize) -> Self {
        self.max_buffered_packets = packets.max(1);
        self
    }

    /// Sets [`EngineConfig::max_buffered_bytes`].
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// Sets [`EngineConfig::allow_eio3`].
    pub fn allow_eio3(mut self, on: bool) -> Self {
        self.allow_eio3 = on;
        self
    }
}
