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

/// Why a broadcast's acknowledgements did not all come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BroadcastAckError {
    /// Not every receiver answered in time; `received` holds the answers
    /// that came, `expected` how many receivers were reached.
    #[error("{} of {expected} acknowledgements came in time", received.len())]
    Timeout {
        /// The answers that came.
        received: Vec<Args>,
        /// How many receivers were reached.
        expected: usize,
    },
    /// The adapter failed.
    #[error(transparent)]
    Adapter(#[from] sockio_core::adapter::AdapterError),
    /// The data could not be serialized.
    #[error("could not serialize the event data: {0}")]
    Serialize(String),
}

/// Gathers the acknowledgements of a broadcast: every server reports how
/// many receivers it reached, then their answers come in.
pub(crate) struct AckGather {
    state: std::sync::Mutex<GatherState>,
    notify: tokio::sync::Notify,
}

#[derive(Default)]
struct GatherState {
    reports: usize,
    expected: usize,
    received: Vec<Args>,
}

impl AckGather {
    pub(crate) fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            state: std::sync::Mutex::new(GatherState::default()),
            notify: tokio::sync::Notify::new(),
        })
    }

    /// Waits until `servers` reports came and every receiver answered, at
    /// most `timeout`.
    pub(crate) async fn wait(
        &self,
        servers: usize,
        timeout: std::time::Duration,
    ) -> Result<Vec<Args>, BroadcastAckError> {
        let done = async {
            loop {
                let notified = self.notify.notified();
                {
                    let state = self.lock();
                    if state.reports >= servers && state.received.len() >= state.expected {
                        return;
                    }
                }
                notified.await;
            }
        };
        let complete = tokio::time::timeout(timeout, done).await.is_ok();
        let mut state = self.lock();
        let received = std::mem::take(&mut state.received);
        if complete {
            Ok(received)
        } else {
            Err(BroadcastAckError::Timeout {
                received,
                expected: state.expected,
            })
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GatherState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl sockio_core::adapter::AckSink for AckGather {
    fn expect(&self, n: usize) {
        let mut state = self.lock();
        state.reports += 1;
        state.expected += n;
        drop(state);
        self.notify.notify_one();
    }

    fn ack(&self, args: Args) {
        self.lock().received.push(args);
        self.notify.notify_one();
    }
}
