//! What can go wrong when emitting and waiting for acknowledgements.

use sockio_core::adapter::AdapterError;
use sockio_core::socket::{Args, DataError, JsonError};

/// Why an emit (or an acknowledgement) was not sent. A broadcast that
/// reaches no socket is not an error, nor is a volatile emit dropped
/// because its receiver was busy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments do not serialize.
    #[error("the arguments do not serialize")]
    Serialize(#[source] JsonError),
    /// The event name is one socket.io reserves (`connect`,
    /// `connect_error`, `disconnect`, `disconnecting`, `newListener`,
    /// `removeListener`): the client would take it for its own.
    #[error("reserved event name")]
    ReservedEvent,
    /// The socket is disconnected (or disconnecting).
    #[error("the socket is disconnected")]
    Disconnected,
    /// The client's send queue is full: it does not read what it is sent
    /// (see `EngineConfig::max_buffered_bytes`); its connection was cut.
    #[error("the client's send queue is full; its connection was cut")]
    QueueFull,
    /// The adapter could not deliver the broadcast (a remote adapter lost
    /// its connection, say).
    #[error("the adapter failed")]
    Adapter(#[source] AdapterError),
}

/// Why an acknowledgement did not come, or could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The client did not answer in time.
    #[error("acknowledgement timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// The event was not sent.
    #[error("the event was not sent")]
    Emit(#[source] EmitError),
    /// The answer does not fit the type asked for.
    #[error("the acknowledgement does not fit the type asked for")]
    Data(#[source] DataError),
}

/// Why a broadcast's acknowledgements did not all come.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BroadcastAckError {
    /// Not every receiver answered in time; `received` holds the answers
    /// that came (as they came: read them with `Args::parse`), `expected`
    /// how many receivers were reached.
    #[error("{} of {expected} acknowledgements came in time", received.len())]
    Timeout {
        /// The answers that came.
        received: Vec<Args>,
        /// How many receivers were reached.
        expected: usize,
    },
    /// The event was not sent.
    #[error("the event was not sent")]
    Emit(#[source] EmitError),
    /// An answer does not fit the type asked for.
    #[error("acknowledgement {index} does not fit the type asked for")]
    Data {
        /// Which answer, in the order they came.
        index: usize,
        /// Why.
        #[source]
        error: DataError,
    },
}

impl From<AdapterError> for BroadcastAckError {
    fn from(e: AdapterError) -> Self {
        Self::Emit(EmitError::Adapter(e))
    }
}
