//! Emitting to one socket with flags: `volatile`, `compress`, `timeout`.

use std::time::Duration;

use serde::Serialize;
use sockio_core::adapter::BroadcastFlags;
use sockio_core::socket::Args;

use super::ack::AckError;
use super::socket::{PendingAck, SocketRef, event_args, with_event_name};

/// An emit to one socket with options, from [`SocketRef::volatile`],
/// [`SocketRef::compress`] or [`SocketRef::timeout`].
#[derive(Debug, Clone)]
#[must_use = "an operator does nothing until it emits"]
pub struct SocketEmit {
    socket: SocketRef,
    flags: BroadcastFlags,
}

impl SocketEmit {
    pub(crate) fn new(socket: SocketRef) -> Self {
        Self {
            socket,
            flags: BroadcastFlags::default(),
        }
    }

    /// The emit may be dropped if the client is not ready to receive it.
    pub fn volatile(mut self) -> Self {
        self.flags.volatile = true;
        self
    }

    /// Whether the emit is compressed (default true).
    pub fn compress(mut self, compress: bool) -> Self {
        self.flags.compress = compress;
        self
    }

    /// How long `emit_with_ack` waits.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.flags.timeout = Some(timeout);
        self
    }

    /// Emits `event` with one argument. False if the data does not
    /// serialize, the socket is gone, or a volatile emit was dropped.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, data: &T) -> bool {
        match event_args(event, data) {
            Ok(args) => self.socket.send_event(args, self.flags, None),
            Err(_) => false,
        }
    }

    /// Emits `event` with already-built arguments.
    pub fn emit_args(self, event: &str, args: Args) -> bool {
        self.socket
            .send_event(with_event_name(event, args), self.flags, None)
    }

    /// Emits `event` with one argument and waits for the acknowledgement
    /// (at most the timeout given, else the server's ack timeout).
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        self,
        event: &str,
        data: &T,
    ) -> Result<Args, AckError> {
        let args = event_args(event, data).map_err(|e| AckError::Serialize(e.to_string()))?;
        self.send_with_ack(args).await
    }

    /// Emits `event` with `args` and waits for the acknowledgement.
    pub async fn emit_args_with_ack(self, event: &str, args: Args) -> Result<Args, AckError> {
        self.send_with_ack(with_event_name(event, args)).await
    }

    async fn send_with_ack(self, args: Args) -> Result<Args, AckError> {
        let socket = self.socket;
        let timeout = self
            .flags
            .timeout
            .unwrap_or_else(|| socket.default_ack_timeout());
        let id = socket.next_ack_id();
        let rx = socket.expect_ack(id);
        // However the wait ends (answer, timeout, disconnect, or the caller
        // dropping this future), the entry goes.
        let _entry = PendingAck {
            socket: &socket,
            id,
        };
        if !socket.send_event(args, self.flags, Some(id)) {
            return Err(AckError::Disconnected);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => Err(AckError::Timeout),
        }
    }
}
