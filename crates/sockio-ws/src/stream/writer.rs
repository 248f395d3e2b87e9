//! The writing half: a cloneable handle feeding one writer task per
//! connection, which encodes in order and writes whatever is queued in one
//! vectored write.

use std::io::IoSlice;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::queue::{self, Receiver, Sender, TryPushError};
use super::shared::Shared;
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
    fn cost(&self) -> usize {
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
    /// Starts the writer task over `io` and returns its handle.
    pub(crate) fn spawn<W>(
        io: W,
        encoder: Encoder,
        shared: Arc<Shared>,
        queue: usize,
        close_timeout: Duration,
    ) -> Self
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = queue::queue(queue);
        let role = encoder.role();
        tokio::spawn(write_loop(io, rx, encoder, shared.clone(), close_timeout));
        Self { tx, shared, role }
    }

    /// Queues a message. A `Message::Close` starts the close handshake
    /// (as [`WsWriter::close`]). Fails once the connection is closing.
    pub async fn send(&self, msg: Message) -> Result<(), Error> {
        if let Message::Close(frame) = msg {
            return self.close(frame).await;
        }
        if self.shared.close_claimed() {
            return Err(Error::ConnectionClosed);
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
        if self.shared.close_claimed() {
            return Err(Error::ConnectionClosed);
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
        if self.shared.close_claimed() {
            return Err(Error::ConnectionClosed);
        }
        self.push(Outgoing::Fragmented(msg, fragment)).await
    }

    /// Queues a message without waiting; fails when the queue is full (in
    /// items or in bytes).
    pub fn try_send(&self, msg: Message) -> Result<(), TrySendError> {
        if self.shared.close_claimed() {
            return Err(TrySendError::Closed);
        }
        self.try_push(Outgoing::Message(msg, true))
    }

    /// [`WsWriter::send_uncompressed`] without waiting; fails when the
    /// queue is full.
    pub fn try_send_uncompressed(&self, msg: Message) -> Result<(), TrySendError> {
        if self.shared.close_claimed() {
            return Err(TrySendError::Closed);
        }
        self.try_push(Outgoing::Message(msg, false))
    }

    /// How many messages and frames are queued on this connection and not
    /// yet written to the transport (waiting in the queue, or taken by the
    /// writer task and not yet accepted by the socket). 0 means a message
    /// sent now is written at once: the "writable" of the reference
    /// servers, which drop volatile messages otherwise.
    pub fn unwritten(&self) -> usize {
        self.shared.unwritten()
    }

    /// Payload bytes of what [`WsWriter::unwritten`] counts, as held
    /// against [`Config::write_queue_bytes`](crate::Config::write_queue_bytes).
    pub fn unwritten_bytes(&self) -> usize {
        self.shared.unwritten_bytes()
    }

    /// Queues a complete pre-encoded frame, such as one made by
    /// [`encode_server_frame`](crate::frame::encode_server_frame), so that a
    /// broadcast encodes once and every connection shares the bytes.
    /// Server connections only (client frames are masked one by one).
    pub async fn send_frame(&self, frame: Bytes) -> Result<(), Error> {
        if self.role == Role::Client {
            return Err(Error::SharedFrameOnClient);
        }
        if self.shared.close_claimed() {
            return Err(Error::ConnectionClosed);
        }
        self.push(Outgoing::Frame(frame)).await
    }

    /// [`WsWriter::send_frame`] without waiting.
    pub fn try_send_frame(&self, frame: Bytes) -> Result<(), TrySendError> {
        if self.role == Role::Client || self.shared.close_claimed() {
            return Err(TrySendError::Closed);
        }
        self.try_push(Outgoing::Frame(frame))
    }

    fn try_push(&self, item: Outgoing) -> Result<(), TrySendError> {
        let cost = item.cost();
        if !self.shared.try_add_unwritten(cost) {
            return Err(TrySendError::Full);
        }
        self.tx.try_push(item).map_err(|e| {
            self.shared.sub_unwritten(1, cost);
            match e {
                TryPushError::Full(_) => TrySendError::Full,
                TryPushError::Closed(_) => TrySendError::Closed,
            }
        })
    }

    /// Queues `item`, waiting for room; counted as unwritten from the
    /// start (a cancelled wait uncounts it).
    async fn push(&self, item: Outgoing) -> Result<(), Error> {
        let cost = item.cost();
        self.shared
            .add_unwritten(cost)
            .await
            .map_err(|()| Error::ConnectionClosed)?;
        let mut counted = Counted {
            shared: &self.shared,
            cost,
            queued: false,
        };
        self.tx
            .push(item)
            .await
            .map_err(|_| Error::ConnectionClosed)?;
        counted.queued = true;
        Ok(())
    }

    /// Starts the close handshake: queues a close frame after everything
    /// already queued. The reader then sees the peer's close frame and
    /// ends; if the peer does not answer within the close timeout, the
    /// connection is dropped. Does nothing if closing already started.
    pub async fn close(&self, frame: Option<CloseFrame>) -> Result<(), Error> {
        if !self.shared.claim_close() {
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
        if !self.shared.close_claimed() {
            let _ = self.try_push(Outgoing::Message(Message::Pong(payload), true));
        }
    }

    /// Drops the connection now, as for a peer that does not read: what
    /// is queued is discarded, `frame` is sent only if the transport takes
    /// it within the close timeout (at most 1 s) and nothing was cut
    /// mid-frame, then TCP is dropped without waiting for the peer's
    /// answer. The reading half ends too. Does nothing if the connection
    /// is already terminated.
    pub fn terminate(&self, frame: Option<CloseFrame>) {
        // No more sends, from here or from the reader.
        self.shared.claim_close();
        if !self.shared.terminate(frame) {
            return;
        }
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

/// An item counted as unwritten until it is known to be queued.
struct Counted<'a> {
    shared: &'a Shared,
    cost: usize,
    queued: bool,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        if !self.queued {
            self.shared.sub_unwritten(1, self.cost);
        }
    }
}

/// Most slices handed to one vectored write.
const MAX_IOV: usize = 64;
/// Most queued items taken per wakeup.
const BATCH: usize = 256;

async fn write_loop<W>(
    mut io: W,
    mut rx: Receiver<Outgoing>,
    mut encoder: Encoder,
    shared: Arc<Shared>,
    close_timeout: Duration,
) where
    W: AsyncWrite + Unpin,
{
    let role = encoder.role();
    // Empty until used: an idle connection holds no batch (preallocating
    // BATCH items here was 20 KiB of every connection's memory).
    let mut batch = Vec::new();
    let mut bufs: Vec<Bytes> = Vec::new();
    let mut scratch = BytesMut::new();
    let mut shutdown = role == Role::Server;
    // Whether the transport is at a frame boundary (a write given up
    // half-way leaves it mid-frame, where no close frame may follow).
    let mut at_boundary = true;
    let mut abandoned = false;
    loop {
        if shared.is_terminated() {
            break;
        }
        let taken = rx.recv_many(&mut batch, BATCH).await;
        if taken == 0 || shared.is_terminated() {
            break;
        }
        let mut close = None;
        let mut bytes = 0;
        for item in batch.drain(..) {
            bytes += item.cost();
            if close.is_some() {
                continue;
            }
            match item {
                Outgoing::Frame(frame) => bufs.push(frame),
                Outgoing::Message(msg, compress) => {
                    let payload = encoder.encode_zero_copy_with(&msg, compress, &mut scratch);
                    bufs.push(scratch.split().freeze());
                    bufs.extend(payload);
                }
                Outgoing::Fragmented(msg, fragment) => {
                    encoder.encode_fragmented(&msg, fragment, &mut scratch);
                    bufs.push(scratch.split().freeze());
                }
                Outgoing::Close(frame, after) => {
                    encoder.encode(&Message::Close(frame), &mut scratch);
                    bufs.push(scratch.split().freeze());
                    close = Some(after);
                }
                Outgoing::Terminate => {}
            }
        }
        // The deadline is watched only while the write is pending (a peer
        // that stops reading cannot hold the connection past a termination
        // or the close deadline), and is boxed then: the wait is the rare
        // case, and kept out of the task it would make larger.
        let written = {
            let mut write = std::pin::pin!(write_all(&mut io, &mut bufs));
            match poll_once(write.as_mut()).await {
                Some(written) => written,
                None => {
                    let give_up = Box::pin(shared.give_up());
                    tokio::select! {
                        biased;
                        written = write => written,
                        () = give_up => {
                            shared.sub_unwritten(taken, bytes);
                            at_boundary = false;
                            abandoned = true;
                            shutdown = false;
                            break;
                        }
                    }
                }
            }
        };
        if written.is_err() {
            shutdown = false;
            break;
        }
        shared.sub_unwritten(taken, bytes);
        if let Some(after) = close {
            shared.set_close_sent();
            match after {
                AfterClose::AwaitPeer => Box::pin(shared.wait_close_received()).await,
                AfterClose::Reply => {}
                AfterClose::Fail => shutdown = true,
            }
            break;
        }
    }
    rx.close();
    // What is still queued is dropped now, not when the last sender goes.
    let mut dropped = (batch.len(), 0);
    for item in batch.drain(..) {
        dropped.1 += item.cost();
    }
    while let Some(item) = rx.try_recv() {
        dropped.0 += 1;
        dropped.1 += item.cost();
    }
    shared.sub_unwritten(dropped.0, dropped.1);
    bufs.clear();
    if shared.is_terminated() {
        abandoned = true;
        let frame = shared
            .take_terminate_frame()
            .filter(|_| at_boundary && !shared.close_sent());
        shutdown = match frame {
            Some(frame) => {
                encoder.encode(&Message::Close(Some(frame)), &mut scratch);
                bufs.push(scratch.split().freeze());
                let limit = close_timeout.min(TERMINATE_WRITE_LIMIT);
                let write = Box::pin(tokio::time::timeout(limit, write_all(&mut io, &mut bufs)));
                matches!(write.await, Ok(Ok(())))
            }
            None => false,
        };
    }
    if shutdown {
        let _ = Box::pin(tokio::time::timeout(close_timeout, io.shutdown())).await;
    }
    shared.set_writer_done(abandoned);
}

/// Longest wait for the transport to take the close frame of a
/// terminated connection.
const TERMINATE_WRITE_LIMIT: Duration = Duration::from_secs(1);

/// Polls `fut` once: its output if it is ready at once, else `None` (it
/// was polled, so it will wake the task when it can go on).
async fn poll_once<F: std::future::Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut fut).poll(cx) {
        std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// Writes every buffer, many per system call, then flushes.
async fn write_all<W: AsyncWrite + Unpin>(
    io: &mut W,
    bufs: &mut Vec<Bytes>,
) -> std::io::Result<()> {
    let mut first = 0;
    loop {
        while first < bufs.len() && bufs[first].is_empty() {
            first += 1;
        }
        if first == bufs.len() {
            break;
        }
        // The slices are rebuilt on each poll rather than held across the
        // wait, which would put 1 KiB of them in every writer task.
        let n = std::future::poll_fn(|cx| {
            let mut slices = [IoSlice::new(&[]); MAX_IOV];
            let mut count = 0;
            for (slot, buf) in slices.iter_mut().zip(&bufs[first..]) {
                *slot = IoSlice::new(buf);
                count += 1;
            }
            std::pin::Pin::new(&mut *io).poll_write_vectored(cx, &slices[..count])
        })
        .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let mut left = n;
        while left > 0 {
            let len = bufs[first].len();
            if left >= len {
                left -= len;
                first += 1;
            } else {
                bufs[first].advance(left);
                left = 0;
            }
        }
    }
    bufs.clear();
    io.flush().await
}
