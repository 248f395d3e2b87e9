//! Emitting to one socket with flags: `volatile`, `compress`, `timeout`.

use std::time::Duration;

use sockio_core::adapter::BroadcastFlags;
use sockio_core::socket::{Args, FromArgs, IntoArgs};

use super::errors::{AckError, EmitError};
use super::socket::{PendingAck, SocketRef};

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

    /// Emits `event` with `data` (see [`SocketRef::emit`]). A volatile emit
    /// the client was not ready for is dropped, and that is `Ok`.
    pub fn emit(self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_event_args(event).map_err(EmitError::Serialize)?;
        self.socket.send_event(args, self.flags, None)
    }

    /// Emits `event` with `data` and waits for the acknowledgement, read as
    /// `T` (see [`SocketRef::emit_with_ack`]), at most the timeout given,
    /// else the server's ack timeout.
    pub async fn emit_with_ack<T: FromArgs>(
        self,
        event: &str,
        data: impl IntoArgs,
    ) -> Result<T, AckError> {
        let args = data
            .into_event_args(event)
            .map_err(|e| AckError::Emit(EmitError::Serialize(e)))?;
        let reply = self.send_with_ack(args).await?;
        T::from_args(&reply).map_err(AckError::Data)
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
        // The connection keeps the deadline (on the session's timer): no
        // timer per emit.
        let deadline = crate::engine::now() + timeout;
        socket
            .send_event(args, self.flags, Some((id, deadline)))
            .map_err(AckError::Emit)?;
        match rx.await {
            Ok(answer) => answer,
            Err(_) => Err(AckError::Disconnected),
        }
    }
}
