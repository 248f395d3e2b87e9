//! The settings of a [`Connection`](super::Connection).

use std::time::Duration;

use crate::engine::EngineConfig;
use crate::socket::{DecoderConfig, Parser};

/// Settings of a [`Connection`](super::Connection). The defaults are the
/// sockio server's: connect timeout 45 s, at most 100 namespaces per
/// connection, the default parser, reserved event names refused, the
/// attachments of one packet at most the default Engine.IO `max_payload`
/// (1 000 000 bytes) in total and due within 30 s.
///
/// Acknowledgement timeouts are not here: each emit that asks for an ack
/// gives its own deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// The decoder's settings, the packet encoding
    /// ([`DecoderConfig::parser`]) among them: outgoing packets are
    /// encoded with the same parser.
    pub decoder: DecoderConfig,
    /// Server role: how long after the connection started (the time given
    /// to [`Connection::new`](super::Connection::new)) the client has to
    /// be accepted into a namespace; past it the connection must close
    /// ([`ConnectionError::ConnectTimeout`](super::ConnectionError::ConnectTimeout)).
    /// Default 45 s, the reference's `connectTimeout`. The client role has
    /// no such timer.
    pub connect_timeout: Duration,
    /// Server role: most namespaces one connection may be in or be joining
    /// at once; a CONNECT past it is answered with CONNECT_ERROR "Too many
    /// namespaces". Default 100 (the reference has no limit). At least 1.
    pub max_namespaces: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            decoder: DecoderConfig::default()
                .reject_reserved_events(true)
                .max_attachment_bytes(EngineConfig::default().max_payload),
            connect_timeout: Duration::from_secs(45),
            max_namespaces: 100,
        }
    }
}

impl ConnectionConfig {
    /// Sets the packet encoding ([`DecoderConfig::parser`]).
    pub fn parser(mut self, parser: Parser) -> Self {
        self.decoder = self.decoder.parser(parser);
        self
    }

    /// Sets [`ConnectionConfig::decoder`].
    pub fn decoder(mut self, decoder: DecoderConfig) -> Self {
        self.decoder = decoder;
        self
    }

    /// Sets [`ConnectionConfig::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`ConnectionConfig::max_namespaces`] (at least 1).
    pub fn max_namespaces(mut self, n: usize) -> Self {
        self.max_namespaces = n.max(1);
        self
    }
}
