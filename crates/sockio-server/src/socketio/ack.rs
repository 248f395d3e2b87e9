//! Acknowledgements, both ways.

use serde::Serialize;
use sockio_core::socket::{Args, Packet};

use super::socket::SocketRef;

/// Why an acknowledgement did not come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The client did not answer in time.
    #[error("acknowledgement timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// The data could not be serialized.
    #[error("could not serialize the event data: {0}")]
    Serialize(String),
}

/// Answers an event the client sent with an acknowledgement request. Sends
/// nothing if dropped unused (the client's ack then times out).
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: u64,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, id: u64) -> Self {
        Self { socket, id }
    }

    /// Acknowledges with one argument.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), AckError> {
        let mut args = Args::new();
        args.push(data)
            .map_err(|e| AckError::Serialize(e.to_string()))?;
        self.send_args(args);
        Ok(())
    }

    /// Acknowledges with already-built arguments (any number, binary
    /// included).
    pub fn send_args(self, args: Args) {
        let packet = Packet::ack(self.socket.nsp_str(), self.id, args);
        self.socket.send_packet(&packet);
    }
}
