//! The writing side of a connection: the transport with what is encoded
//! for it ([`WriteCore`]), the task that drains the write queue into it,
//! and the in-place write by which a reader sends the replies to what it
//! just read without waking that task.

use std::io::IoSlice;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;

use super::queue::{Receiver, Sender};
use super::shared::Shared;
use super::writer::{AfterClose, Outgoing};
use crate::Role;
use crate::encode::Encoder;
use crate::message::Message;

/// Most slices handed to one vectored write.
const MAX_IOV: usize = 64;
/// Most queued items taken per wakeup.
const BATCH: usize = 256;
/// Longest wait for the transport to take the close frame of a
/// terminated connection.
const TERMINATE_WRITE_LIMIT: Duration = Duration::from_secs(1);

/// The transport's writing half and the frames encoded for it and not
/// yet written. Shared by the writer task and the reader; only one of them
/// writes at a time (the queue's `inline` flag and parked writer decide
/// which), so the lock is never contended.
pub(crate) struct WriteCore<W> {
    io: W,
    encoder: Encoder,
    /// Encoded frames, in order; `bufs[first..]` are not yet written.
    bufs: Vec<Bytes>,
    first: usize,
    scratch: BytesMut,
    /// Queue items whose frames are in `bufs`, and their payload bytes:
    /// uncounted from the shared totals once written.
    items: usize,
    bytes: usize,
}

pub(crate) type SharedCore<W> = Arc<Mutex<WriteCore<W>>>;

fn lock<W>(core: &Mutex<WriteCore<W>>) -> MutexGuard<'_, WriteCore<W>> {
    // Nothing panics while it is held; a poisoned lock's data is whole.
    core.lock().unwrap_or_else(|e| e.into_inner())
}

impl<W: AsyncWrite + Unpin> WriteCore<W> {
    pub(crate) fn new(io: W, encoder: Encoder) -> SharedCore<W> {
        Arc::new(Mutex::new(Self {
            io,
            encoder,
            bufs: Vec::new(),
            first: 0,
            scratch: BytesMut::new(),
            items: 0,
            bytes: 0,
        }))
    }

    /// Encodes a queue item behind what is already encoded; the close that
    /// follows a close frame.
    fn push(&mut self, item: Outgoing) -> Option<AfterClose> {
        self.count(&item);
        if self.bufs.capacity() == 0 {
            // A header and a payload: no room kept for four.
            self.bufs.reserve_exact(2);
        }
        let scratch = &mut self.scratch;
        match item {
            Outgoing::Frame(frame) => self.bufs.push(frame),
            Outgoing::Message(msg, compress) => {
                if let Some(frame) = self.encoder.small_frame(&msg, compress) {
                    self.bufs.extend(frame);
                    return None;
                }
                let payload = self.encoder.encode_zero_copy_with(&msg, compress, scratch);
                self.bufs.push(scratch.split().freeze());
                self.bufs.extend(payload);
            }
            Outgoing::Fragmented(msg, fragment) => {
                self.encoder.encode_fragmented(&msg, fragment, scratch);
                self.bufs.push(scratch.split().freeze());
            }
            Outgoing::Close(frame, after) => {
                self.encoder.encode(&Message::Close(frame), scratch);
                self.bufs.push(scratch.split().freeze());
                return Some(after);
            }
            Outgoing::Terminate => {}
        }
        None
    }

    /// The items pushed so far and their bytes, now written: reported to
    /// the queue, which uncounts them.
    fn written(&mut self) -> (usize, usize) {
        let written = (self.items, self.bytes);
        self.items = 0;
        self.bytes = 0;
        written
    }

    /// Counts a queue item with what the next report uncounts: one pushed,
    /// or one dropped unwritten (queued behind a close frame).
    fn count(&mut self, item: &Outgoing) {
        self.items += 1;
        self.bytes += item.cost();
    }

    /// Writes what is encoded, many buffers per system call, then flushes.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        loop {
            while self.first < self.bufs.len() && self.bufs[self.first].is_empty() {
                self.first += 1;
            }
            if self.first == self.bufs.len() {
                break;
            }
            let n = std::task::ready!(self.poll_write_some(cx))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            let mut left = n;
            while left > 0 {
                let len = self.bufs[self.first].len();
                if left >= len {
                    left -= len;
                    self.first += 1;
                } else {
                    self.bufs[self.first].advance(left);
                    left = 0;
                }
            }
        }
        self.bufs.clear();
        self.first = 0;
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    /// One write of what is left from `first` on: a single buffer as is,
    /// a few in a small array, more in one of `MAX_IOV` (filling a 1 KiB
    /// array per write was 6 % of a broadcast's instructions per delivery).
    fn poll_write_some(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let left = &self.bufs[self.first..];
        let io = std::pin::Pin::new(&mut self.io);
        match left.len() {
            1 => io.poll_write(cx, &left[0]),
            2..=4 => {
                let mut slices = [IoSlice::new(&[]); 4];
                for (slot, buf) in slices.iter_mut().zip(left) {
                    *slot = IoSlice::new(buf);
                }
                io.poll_write_vectored(cx, &slices[..left.len()])
            }
            _ => {
                let mut slices = [IoSlice::new(&[]); MAX_IOV];
                let mut count = 0;
                for (slot, buf) in slices.iter_mut().zip(left) {
                    *slot = IoSlice::new(buf);
                    count += 1;
                }
                io.poll_write_vectored(cx, &slices[..count])
            }
        }
    }

    /// Whether nothing encoded is waiting (the transport is at a frame
    /// boundary).
    fn is_empty(&self) -> bool {
        self.first == self.bufs.len()
    }

    /// Drops what is encoded and not written; the items it held.
    fn discard(&mut self) -> (usize, usize) {
        self.bufs.clear();
        self.first = 0;
        self.written()
    }
}

/// The in-place write, for the reader, whatever the transport's type.
pub(crate) trait FlushCorked: Send + Sync {
    /// Writes what `tx` was corked with, in place, when the writer task is
    /// parked: the replies a reader queued while handling a message go out
    /// in its own task, in one system call, with no wake-up of the writer
    /// task. What the transport does not take at once (or a close, which
    /// has its own handshake) is left to the writer task, in order.
    fn flush_corked(&self, tx: &Sender<Outgoing>);
}

impl<W: AsyncWrite + Unpin + Send> FlushCorked for Mutex<WriteCore<W>> {
    fn flush_corked(&self, tx: &Sender<Outgoing>) {
        flush_corked(tx, self);
    }
}

fn flush_corked<W: AsyncWrite + Unpin>(tx: &Sender<Outgoing>, core: &Mutex<WriteCore<W>>) {
    // The queue's lock, then the core's: the order the writer task uses.
    let mut guard = None;
    let took = tx.take_corked(|item| match item {
        Outgoing::Close(..) | Outgoing::Terminate => Err(item),
        item => {
            guard.get_or_insert_with(|| lock(core)).push(item);
            Ok(())
        }
    });
    let (true, Some(mut core)) = (took, guard) else {
        return;
    };
    // Not waiting: a write the transport cannot take now is finished by
    // the writer task, which polls with its own waker.
    let mut cx = Context::from_waker(Waker::noop());
    let done = matches!(core.poll_write_out(&mut cx), Poll::Ready(Ok(())));
    let written = if done { core.written() } else { (0, 0) };
    drop(core);
    tx.inline_done(!done, written);
}

/// The writer task: takes what is queued, encodes it and writes it until
/// the queue ends, the close handshake is done, or the connection is
/// terminated.
pub(crate) async fn write_loop<W>(
    core: SharedCore<W>,
    mut rx: Receiver<Outgoing>,
    role: Role,
    shared: Arc<Shared>,
    close_timeout: Duration,
) where
    W: AsyncWrite + Unpin,
{
    let mut shutdown = role == Role::Server;
    // Whether the transport is at a frame boundary (a write given up
    // half-way leaves it mid-frame, where no close frame may follow).
    let mut at_boundary = true;
    let mut abandoned = false;
    // Reported to the queue with the next take.
    let mut written = (0, 0);
    loop {
        if shared.is_terminated() {
            break;
        }
        // Items go from the queue straight into the encoder (queue lock,
        // then the core's: the order the in-place write uses too).
        let mut close = None;
        let received = rx
            .recv_with(BATCH, written, |item| {
                let mut core = lock(&core);
                if close.is_some() {
                    // Nothing goes after a close frame.
                    core.count(&item);
                } else {
                    close = core.push(item);
                }
            })
            .await;
        written = (0, 0);
        if received.is_none() || shared.is_terminated() {
            break;
        }
        // The deadline is watched only while the write is pending (a peer
        // that stops reading cannot hold the connection past a termination
        // or the close deadline), and is boxed then: the wait is the rare
        // case, and kept out of the task it would make larger.
        let mut write = std::future::poll_fn(|cx| lock(&core).poll_write_out(cx));
        let result = match poll_once(&mut write).await {
            Some(result) => result,
            None => {
                let give_up = Box::pin(shared.give_up());
                tokio::select! {
                    biased;
                    result = write => result,
                    () = give_up => {
                        rx.uncount(lock(&core).discard());
                        at_boundary = false;
                        abandoned = true;
                        shutdown = false;
                        break;
                    }
                }
            }
        };
        if result.is_err() {
            shutdown = false;
            break;
        }
        written = lock(&core).written();
        if let Some(after) = close {
            rx.uncount(std::mem::take(&mut written));
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
    // Uncounted at once: what was written and not yet reported (the loop
    // ended before its next take), what is encoded and not written, and
    // what is still queued (dropped now, not when the last sender goes).
    let mut dropped = written;
    {
        let mut core = lock(&core);
        at_boundary &= core.is_empty();
        let (n, bytes) = core.discard();
        dropped.0 += n;
        dropped.1 += bytes;
    }
    while let Some(item) = rx.try_recv() {
        dropped.0 += 1;
        dropped.1 += item.cost();
    }
    rx.uncount(dropped);
    if shared.is_terminated() {
        abandoned = true;
        let frame = shared
            .take_terminate_frame()
            .filter(|_| at_boundary && !shared.close_sent());
        shutdown = match frame {
            Some(frame) => {
                {
                    let mut core = lock(&core);
                    core.push(Outgoing::Close(Some(frame), AfterClose::Fail));
                    // Not a queue item: nothing to report.
                    core.written();
                }
                let limit = close_timeout.min(TERMINATE_WRITE_LIMIT);
                let write = std::future::poll_fn(|cx| lock(&core).poll_write_out(cx));
                matches!(
                    Box::pin(tokio::time::timeout(limit, write)).await,
                    Ok(Ok(()))
                )
            }
            None => false,
        };
    }
    if shutdown {
        let shut =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut lock(&core).io).poll_shutdown(cx));
        let _ = Box::pin(tokio::time::timeout(close_timeout, shut)).await;
    }
    shared.set_writer_done(abandoned);
}

/// Polls `fut` once: its output if it is ready at once, else `None` (it
/// was polled, so it will wake the task when it can go on).
async fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *fut).poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}
