//! permessage-deflate (RFC 7692): configuration, negotiation of its
//! parameters in the opening handshake, and the compressor and decompressor
//! that the codec drives.
//!
//! Window sizes: zlib cannot produce a raw deflate stream with an 8-bit
//! (256-byte) window, so a negotiated window of 8 bits is compressed with 9
//! bits, as zlib and `ws` do. This stays within the peer's 256-byte window:
//! with a 9-bit window deflate never emits a match more than 250 bytes back.

mod codec;
mod negotiate;

pub(crate) use codec::{Deflater, Inflater, max_compressed_len};
pub(crate) use negotiate::{client_offer, negotiate_client, negotiate_server};

/// How this endpoint negotiates permessage-deflate.
///
/// Memory: zlib state is made on a connection's first compressed message,
/// not at the handshake, so idle connections cost nothing extra. With
/// context takeover (the default) a connection that has sent and received
/// compressed messages keeps about 330 KiB of compressor and decompressor
/// state at window 15 (measured: `tests/deflate_memory.rs` holds it under
/// 400 KiB). With `server_no_context_takeover` and
/// `client_no_context_takeover` the state is freed after every message and
/// an idle connection stays under 48 KiB in all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Whether to offer (client) or accept (server) permessage-deflate.
    /// Default false, as in the reference servers.
    pub enabled: bool,
    /// Ask that the server reset its compressor after every message (saves
    /// memory on the server, costs ratio). A server always honours it when
    /// a client asks.
    pub server_no_context_takeover: bool,
    /// Ask that the client reset its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window, in bits (8 to 15), the server may use.
    /// Default 15.
    pub server_max_window_bits: u8,
    /// The largest LZ77 window, in bits (8 to 15), the client may use.
    /// Default 15.
    pub client_max_window_bits: u8,
    /// Compression level, 0 to 9. Default 1: most of the ratio for a
    /// fraction of the CPU, which suits real-time traffic.
    pub level: u32,
    /// Messages shorter than this many bytes are sent uncompressed.
    /// Default 1024, as in the reference servers.
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 1,
            threshold: 1024,
        }
    }
}

impl DeflateConfig {
    /// permessage-deflate enabled with the default parameters.
    pub fn enabled() -> Self {
        Self {
            enabled: true,
            ..Self::default()
        }
    }

    /// Sets [`DeflateConfig::threshold`].
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Sets [`DeflateConfig::level`] (clamped to 0..=9).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets [`DeflateConfig::server_no_context_takeover`].
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::client_no_context_takeover`].
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::server_max_window_bits`] (clamped to 8..=15).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// Sets [`DeflateConfig::client_max_window_bits`] (clamped to 8..=15).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(8, 15);
        self
    }
}

/// The permessage-deflate parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's window, in bits.
    pub server_max_window_bits: u8,
    /// The client's window, in bits.
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}
