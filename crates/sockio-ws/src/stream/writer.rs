//! The writing half: a cloneable handle feeding one writer task per
//! connection, which encodes in order and writes whatever is queued in one
//! vectored write.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWrite;

use super::queue::{self, Sender, TryPushError};
use super::shared::Shared;
use super::write_task::{SharedCore, WriteCore, write_loop};
use crate::close::CloseFrame;
use crate::encode::Encoder;
use crate::message::Message;
use crate::{Error, Role};

/// What happens after the close frame is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterClose {
    /// We started the close: wait for the peer's close frame (bounded by
    /// the close timeout), then end.
    AwaitPeer,
    /// We answered the peer's close: a server drops TCP now, a client
    /// leaves that to the server (the reader waits for it).
    Reply,
    /// The connection failed: drop TCP now.
    Fail,
}

#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message, and whether it may be compressed.
    Message(Message, bool),
    Fragmented(Message, usize),
    Frame(Bytes),
    Close(Option<CloseFrame>, AfterClose),
    /// Wakes an idle writer for [`WsWriter::terminate`].
    Terminate,
}

impl Outgoing {
    /// The payload bytes the item holds, as counted against
    /// [`Config::write_queue_bytes`](crate::Config::write_queue_bytes).
    /// Whether the item may be queued after a close was claimed.
    fn after_close(&self) -> bool {
        matches!(self, Self::Close(..) | Self::Terminate)
    }

    pub(crate) fn cost(&self) -> usize {
        match self {
            Self::Message(m, _) | Self::Fragmented(m, _) => m.len(),
            Self::Frame(f) => f.len(),
            Self::Close(..) | Self::Terminate => 0,
        }
    }
}

/// `try_send` could not queue the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrySendError {
    /// The write queue is full (the peer reads slower than we send).
    #[error("write queue full")]
    Full,
    /// The connection is closed or closing.
    #[error("connection closed")]
    Closed,
}

/// Sends on a connection. Cheap to clone; every clone feeds the same
/// ordered queue, which one task per connection drains.
///
/// Messages are queued, not written, when `send` returns: `send` waits
/// only for room in the queue ([`Config::write_queue_frames`](crate::Config::write_queue_frames)
/// items and [`Config::write_queue_bytes`](crate::Config::write_queue_bytes)
/// payload bytes).
#[derive(Debug, Clone)]
pub struct WsWriter {
    tx: Sender<Outgoing>,
    shared: Arc<Shared>,
    role: Role,
}

impl WsWriter {
    /// Starts the writer task over `io` and returns its handle, and the
    /// writing side for the reader's in-place writes.
    pub(crate) fn spawn<W>(
        io: W,
        encoder: Encoder,
        shared: Arc<Shared>,
        (frames, bytes): (usize, usize),
        close_timeout: Duration,
    ) -> (Self, SharedCore<W>)
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = queue::queue(frames, bytes);
        let role = encoder.role();
        let core = WriteCore::new(io, encoder);
        tokio::spawn(write_loop(
            core.clone(),
            rx,
            role,
            shared.clone(),
            close_timeout,
        ));
        (Self { tx, shared, role }, core)
    }

    /// The queue, for the reader's cork and in-place writes.
    pub(crate) fn queue(&self) -> &Sender<Outgoing> {
        &self.tx
    }

    /// The shared connection state, to keep.
    pub(crate) fn shared_arc(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Queues a message. A `Message::Close` starts the close handshake
    /// (as [`WsWriter::close`]). Fails once the connection is closing.
    pub async fn send(&self, msg: Message) -> Result<(), Error> {
        if let Message::Close(frame) = msg {
            return self.close(frame).await;
        }
        self.push(Outgoing::Message(msg, true)).await
    }

    /// As [`WsWriter::send`], but the message is never compressed, even
    /// when permessage-deflate was negotiated (RFC 7692 lets the sender
    /// choose per message: its first frame goes out with RSV1 clear).
    pub async fn send_uncompressed(&self, msg: Message) -> Result<(), Error> {
        if let Message::Close(frame) = msg {
            return self.close(frame).await;
        }
        self.push(Outgoing::Message(msg, false)).await
    }

    /// Queues a data message to be sent as frames of at most `fragment`
    /// payload bytes (a large message then interleaves with pings instead
    /// of holding the line for its whole length on the receiving side).
    pub async fn send_fragmented(&self, msg: Message, fragment: usize) -> Result<(), Error> {
        if !msg.is_data() {
            return self.send(msg).await;
        }
        self.push(Outgoing::Fragmented(msg, fragment)).await
    }

    /// Queues a message without waiting; fails when the queue is full (in
    /// items or in bytes).
    pub fn try_send(&self, msg: Message) -> Result<(), TrySendError> {
        self.try_push(Outgoing::Message(msg, true))
    }

    /// [`WsWriter::send_uncompressed`] without waiting; fails when the
    /// queue is full.
    pub fn try_send_uncompressed(&self, msg: Message) -> Result<(), TrySendError> {
        self.try_push(Outgoing::Message(msg, false))
    }

    /// How many messages and frames are queued on this connection and not
    /// yet written to the transport (waiting in the queue, or taken by the
    /// writer task and not yet accepted by the socket). 0 means a message
    /// sent now is written at once: the "writable" of the reference
    /// servers, which drop volatile messages otherwise.
    pub fn unwritten(&self) -> usize {
        self.tx.unwritten().0
    }

    /// Payload bytes of what [`WsWriter::unwritten`] counts, as held
    /// against [`Config::write_queue_bytes`](crate::Config::write_queue_bytes).
    pub fn unwritten_bytes(&self) -> usize {
        self.tx.unwritten().1
    }

    /// Queues a complete pre-encoded frame, such as one made by
    /// [`encode_server_frame`](crate::frame::encode_server_frame), so that a
    /// broadcast encodes once and every connection shares the bytes.
    /// Server connections only (client frames are masked one by one).
    pub async fn send_frame(&self, frame: Bytes) -> Result<(), Error> {
        if self.role == Role::Client {
            return Err(Error::SharedFrameOnClient);
        }
        self.push(Outgoing::Frame(frame)).await
    }

    /// [`WsWriter::send_frame`] without waiting.
    pub fn try_send_frame(&self, frame: Bytes) -> Result<(), TrySendError> {
        if self.role == Role::Client {
            return Err(TrySendError::Closed);
        }
        self.try_push(Outgoing::Frame(frame))
    }

    /// Queues `item` if there is room. The queue itself refuses what is
    /// not a close frame or a termination once a close was claimed (see
    /// [`WsWriter::claim_close`]): one lock, and no other shared state
    /// touched, per message.
    fn try_push(&self, item: Outgoing) -> Result<(), TrySendError> {
        let (cost, after_close) = (item.cost(), item.after_close());
        self.tx
            .try_push(item, cost, after_close)
            .map_err(|e| match e {
                TryPushError::Full(_) => TrySendError::Full,
                TryPushError::Closed(_) => TrySendError::Closed,
            })
    }

    /// Queues `item`, waiting for room (in items and in bytes) unless the
    /// connection is terminated.
    async fn push(&self, item: Outgoing) -> Result<(), Error> {
        let (cost, after_close) = (item.cost(), item.after_close());
        let shared = &self.shared;
        self.tx
            .push(item, cost, after_close, || shared.is_terminated())
            .await
            .map_err(|_| Error::ConnectionClosed)
    }

    /// Claims the right to send the close frame (true once only); from
    /// then on the queue takes nothing but the close frame and a
    /// termination.
    pub(crate) fn claim_close(&self) -> bool {
        let first = self.shared.claim_close();
        self.tx.set_closing();
        first
    }

    /// Starts the close handshake: queues a close frame after everything
    /// already queued. The reader then sees the peer's close frame and
    /// ends; if the peer does not answer within the close timeout, the
    /// connection is dropped. Does nothing if closing already started.
    pub async fn close(&self, frame: Option<CloseFrame>) -> Result<(), Error> {
        if !self.claim_close() {
            return Ok(());
        }
        self.enqueue_close(frame, AfterClose::AwaitPeer).await
    }

    /// Queues the close frame once its right to be sent was claimed.
    pub(crate) async fn enqueue_close(
        &self,
        frame: Option<CloseFrame>,
        after: AfterClose,
    ) -> Result<(), Error> {
        self.push(Outgoing::Close(frame, after)).await
    }

    /// Queues a pong (or drops it when the queue is full: only the latest
    /// pong matters, RFC 6455 section 5.5.3).
    pub(crate) fn pong(&self, payload: Bytes) {
        // Refused by the queue once a close was claimed.
        let _ = self.try_push(Outgoing::Message(Message::Pong(payload), true));
    }

    /// Drops the connection now, as for a peer that does not read: what
    /// is queued is discarded, `frame` is sent only if the transport takes
    /// it within the close timeout (at most 1 s) and nothing was cut
    /// mid-frame, then TCP is dropped without waiting for the peer's
    /// answer. The reading half ends too. Does nothing if the connection
    /// is already terminated.
    pub fn terminate(&self, frame: Option<CloseFrame>) {
        // No more sends, from here or from the reader.
        self.claim_close();
        if !self.shared.terminate(frame) {
            return;
        }
        // Senders waiting for room stop waiting.
        self.tx.notify_space();
        // Wakes a writer idle on an empty queue; a busy one sees the flag
        // after its current write, or gives that write up.
        let _ = self.try_push(Outgoing::Terminate);
    }

    /// Whether the connection is closing or closed (no more sends).
    pub fn is_closed(&self) -> bool {
        self.shared.close_claimed() || self.tx.is_closed()
    }

    /// Resolves when the writer task has ended (the connection is closed on
    /// our side).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}
