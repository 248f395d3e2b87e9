//! How one message is sent: the `volatile` and `compress` options of the
//! reference's `socket.write(data, options)`.

/// Options of one message sent with [`EngineSocket::send_with`](super::EngineSocket::send_with)
/// or [`EngineSocket::send_shared_with`](super::EngineSocket::send_shared_with).
///
/// ```
/// use sockio_server::engine::SendFlags;
///
/// let flags = SendFlags::new().volatile(true).compress(false);
/// assert!(flags.volatile && !flags.compress);
/// assert_eq!(SendFlags::default(), SendFlags::new());
/// assert!(!SendFlags::default().volatile && SendFlags::default().compress);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SendFlags {
    /// Drop the message (the send returns false, nothing is queued) unless
    /// the transport can write it right now, as the reference does for
    /// Socket.IO's `volatile`: on WebSocket, nothing may be waiting to be
    /// written (queued, or taken by the writer and not yet accepted by the
    /// socket); on long-polling, a GET must be waiting with nothing queued
    /// for it yet; never while an upgrade is under way. Default false.
    ///
    /// A Socket.IO packet with binary attachments is several messages, and
    /// the reference decides once for all of them: send the first one
    /// volatile and the others, only if it was accepted, without the flag
    /// (the first one makes the transport busy).
    pub volatile: bool,
    /// Let the transport compress the message. Default true. With false,
    /// a WebSocket message goes out without permessage-deflate even when
    /// it was negotiated (RSV1 clear, RFC 7692 allows the choice per
    /// message), and a long-polling response that carries only messages
    /// sent with false is not compressed (HTTP compression applies to a
    /// response as a whole: one message that allows it is enough, as in
    /// the reference). Packets queued on long-polling and then written to
    /// the WebSocket the session upgraded to are compressed as usual.
    /// Shared packets ([`SharedPacket`](super::SharedPacket)) are encoded
    /// once as uncompressed WebSocket frames whatever this says.
    pub compress: bool,
}

impl Default for SendFlags {
    fn default() -> Self {
        Self::new()
    }
}

impl SendFlags {
    /// The defaults: not volatile, compressed.
    pub const fn new() -> Self {
        Self {
            volatile: false,
            compress: true,
        }
    }

    /// Sets [`SendFlags::volatile`].
    pub const fn volatile(mut self, volatile: bool) -> Self {
        self.volatile = volatile;
        self
    }

    /// Sets [`SendFlags::compress`].
    pub const fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }
}
