//! Acknowledgements, both ways.

use sockio_core::socket::{Args, IntoArgs};

use super::errors::{BroadcastAckError, EmitError};
use super::socket::SocketRef;

/// Answers an event the client sent with an acknowledgement request
/// (socket.io's ack callback). Sends nothing if dropped unused: the
/// client's ack then times out.
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: u64,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, id: u64) -> Self {
        Self { socket, id }
    }

    /// Answers with `data` by the argument model: `()` no value, a tuple
    /// one per element, any other value one; `Bytes` anywhere is binary.
    pub fn send(self, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_args().map_err(EmitError::Serialize)?;
        self.socket.send_ack(self.id, args)
    }
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
