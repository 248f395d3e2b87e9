//! Error types, and the one place where an error is mapped to its wire
//! behaviour (a close code, an HTTP status).

use crate::close::CloseCode;

/// The peer broke RFC 6455 or RFC 7692, or crossed a configured limit.
///
/// Every variant maps to the close code sent before the connection is
/// dropped ([`ProtocolError::close_code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A client sent a frame without a mask.
    #[error("client frame is not masked")]
    UnmaskedFrame,
    /// A server sent a masked frame.
    #[error("server frame is masked")]
    MaskedFrame,
    /// RSV bits set that no negotiated extension owns.
    #[error("reserved bits set without an extension that owns them")]
    ReservedBits,
    /// An opcode RFC 6455 reserves (3-7, 11-15).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A control frame with more than 125 bytes of payload.
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlFrameTooLong(u64),
    /// A control frame without FIN.
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A continuation frame with no message in progress.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress.
    #[error("new data frame while a fragmented message is in progress")]
    ExpectedContinuation,
    /// A 64-bit payload length with its most significant bit set.
    #[error("payload length with the most significant bit set")]
    InvalidLength,
    /// A close frame with a one-byte payload.
    #[error("close frame with a one-byte payload")]
    InvalidClosePayload,
    /// A close frame with a code that may not be sent.
    #[error("close code {0} may not be sent on the wire")]
    InvalidCloseCode(u16),
    /// Text (or a close reason) that is not UTF-8.
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// A frame larger than `Config::max_frame_size`.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced payload length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message larger than `Config::max_message_size`.
    #[error("message exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// A compressed message that inflates past `Config::max_decompressed_size`.
    #[error("decompressed message exceeds the limit of {max} bytes")]
    DecompressedTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// A message split into more than `Config::max_fragments` frames.
    #[error("message split into more than {max} fragments")]
    TooManyFragments {
        /// The configured limit.
        max: usize,
    },
    /// A compressed message that is not a valid deflate stream.
    #[error("corrupt permessage-deflate data")]
    CorruptDeflate,
}

impl ProtocolError {
    /// The close code this error is answered with (RFC 6455 section 7.4.1):
    /// 1002 for framing violations, 1007 for bad UTF-8 and corrupt deflate
    /// data, 1009 for size limits, 1008 for the fragment cap.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::CorruptDeflate => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. }
            | Self::MessageTooLarge { .. }
            | Self::DecompressedTooLarge { .. } => CloseCode::TOO_BIG,
            Self::TooManyFragments { .. } => CloseCode::POLICY,
            _ => CloseCode::PROTOCOL,
        }
    }
}

/// The opening handshake failed.
///
/// On the server side [`HandshakeError::status`] is the HTTP status to
/// answer with; the `Display` text is the short reason put in the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request is not `GET`.
    #[error("WebSocket upgrade requires GET")]
    MethodNotGet,
    /// The request is older than HTTP/1.1.
    #[error("WebSocket upgrade requires HTTP/1.1")]
    HttpVersion,
    /// No `Upgrade: websocket` header.
    #[error("missing or invalid Upgrade header")]
    MissingUpgrade,
    /// The `Connection` header does not list `upgrade`.
    #[error("Connection header does not contain upgrade")]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` is absent or not 13.
    #[error("unsupported Sec-WebSocket-Version (only 13)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is absent, repeated or not 16 bytes of base64.
    #[error("missing or invalid Sec-WebSocket-Key")]
    InvalidKey,
    /// A header line could not be parsed.
    #[error("malformed HTTP message")]
    Malformed,
    /// The request headers exceed the byte limit.
    #[error("request headers too large")]
    TooLarge,
    /// More header lines than the limit.
    #[error("too many headers")]
    TooManyHeaders,
    /// The connection closed before the handshake completed.
    #[error("connection closed during the handshake")]
    UnexpectedEof,
    /// The handshake did not complete within the configured time.
    #[error("handshake timed out")]
    Timeout,
    /// Client side: the server answered with a status other than 101.
    #[error("server answered with HTTP status {0}, not 101")]
    UnexpectedStatus(u16),
    /// Client side: `Sec-WebSocket-Accept` is absent or wrong.
    #[error("missing or wrong Sec-WebSocket-Accept")]
    InvalidAccept,
    /// Client side: the server selected a subprotocol that was not offered.
    #[error("server selected a subprotocol that was not offered")]
    UnexpectedProtocol,
    /// Client side: the server accepted an extension that was not offered,
    /// or accepted permessage-deflate with parameters the client cannot use.
    #[error("server answered with an extension that was not offered: {0}")]
    UnexpectedExtension(String),
    /// Client side: the URL is not a usable `ws://` or `wss://` URL.
    #[error("invalid WebSocket URL: {0}")]
    InvalidUrl(String),
}

impl HandshakeError {
    /// The HTTP status a server answers this error with: 426 for a version
    /// mismatch (with `Sec-WebSocket-Version: 13`), 405 is not used (the
    /// reference servers answer 400), 431 for oversized headers, else 400.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnsupportedVersion => 426,
            Self::TooLarge | Self::TooManyHeaders => 431,
            _ => 400,
        }
    }
}

/// Any error of a WebSocket connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer violated the protocol; a close frame with
    /// [`ProtocolError::close_code`] was sent.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The opening handshake failed.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The connection is closed (after a close handshake, an error, or by
    /// the writer task ending); nothing more can be sent.
    #[error("connection closed")]
    ConnectionClosed,
    /// The peer dropped the TCP connection without a close frame.
    #[error("connection reset without a closing handshake")]
    ResetWithoutClose,
    /// A pre-encoded frame was sent on a client connection (client frames
    /// must be masked one by one).
    #[error("pre-encoded frames can only be sent by a server")]
    SharedFrameOnClient,
}
