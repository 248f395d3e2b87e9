//! Connection settings and limits.

use std::time::Duration;

use crate::deflate::DeflateConfig;

/// Settings and limits of a WebSocket connection, shared by both roles.
///
/// Every limit has a default that is safe to expose to the internet; each
/// crossing closes the connection with the RFC close code (see
/// [`ProtocolError::close_code`](crate::ProtocolError::close_code)).
///
/// ```
/// use sockio_ws::{Config, DeflateConfig};
/// let config = Config::default()
///     .max_message_size(16 << 20)
///     .deflate(DeflateConfig::enabled());
/// assert_eq!(config.max_frame_size, 16 << 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one frame, in bytes. Default 16 MiB. A larger
    /// frame closes with 1009 before any of it is buffered.
    pub max_frame_size: usize,
    /// Largest message as received (the sum of its frames' payloads), in
    /// bytes. Default 64 MiB. Crossing it closes with 1009.
    pub max_message_size: usize,
    /// Largest message after permessage-deflate decompression, in bytes.
    /// Default 64 MiB. Crossing it closes with 1009 (compression bombs stop
    /// here, with at most this much memory used).
    pub max_decompressed_size: usize,
    /// Most frames one message may be split into. Default 100 000. Crossing
    /// it closes with 1008.
    pub max_fragments: usize,
    /// Largest opening handshake (request or response head), in bytes.
    /// Default 16 KiB; a larger one is answered 431.
    pub max_handshake_size: usize,
    /// Most header lines in the opening handshake. Default 64; more is
    /// answered 431.
    pub max_headers: usize,
    /// How long a close may take: from when it starts (our close frame
    /// queued, or the peer's answered) until the peer's close frame (and,
    /// on a client, the server dropping TCP); what is still queued and
    /// unwritten then is dropped with the connection. Default 5 s.
    pub close_timeout: Duration,
    /// How long a raw-TCP opening handshake may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// Frames that may wait in a connection's write queue before senders
    /// wait (or `try_send` fails). Default 1024.
    pub write_queue_frames: usize,
    /// Payload bytes that may wait in a connection's write queue (counted
    /// from when a message is queued until the transport took it) before
    /// senders wait (or `try_send` fails). A message is always let into an
    /// empty queue, whatever its size. Default 4 MiB.
    pub write_queue_bytes: usize,
    /// Subprotocols, in order of preference. A server selects the first one
    /// the client offers that is in this list; a client offers all of them.
    pub protocols: Vec<String>,
    /// permessage-deflate (RFC 7692). Off by default.
    pub deflate: DeflateConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_decompressed_size: 64 << 20,
            max_fragments: 100_000,
            max_handshake_size: 16 << 10,
            max_headers: 64,
            close_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            write_queue_frames: 1024,
            write_queue_bytes: 4 << 20,
            protocols: Vec::new(),
            deflate: DeflateConfig::default(),
        }
    }
}

impl Config {
    /// Sets [`Config::max_frame_size`].
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Config::max_message_size`] and [`Config::max_decompressed_size`],
    /// and lowers [`Config::max_frame_size`] to it if it was larger.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.max_decompressed_size = bytes;
        self.max_frame_size = self.max_frame_size.min(bytes);
        self
    }

    /// Sets [`Config::max_fragments`].
    pub fn max_fragments(mut self, count: usize) -> Self {
        self.max_fragments = count;
        self
    }

    /// Sets [`Config::close_timeout`].
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Config::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`Config::write_queue_bytes`].
    pub fn write_queue_bytes(mut self, bytes: usize) -> Self {
        self.write_queue_bytes = bytes;
        self
    }

    /// Sets [`Config::write_queue_frames`] (at least 1).
    pub fn write_queue_frames(mut self, frames: usize) -> Self {
        self.write_queue_frames = frames.max(1);
        self
    }

    /// Sets [`Config::protocols`].
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`Config::deflate`].
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.deflate = deflate;
        self
    }
}
