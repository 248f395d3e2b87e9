//! The reading half: decodes messages, answers pings, and drives the close
//! handshake.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, ReadHalf};

use super::shared::Shared;
use super::writer::{AfterClose, WsWriter};
use crate::close::CloseFrame;
use crate::decode::Decoder;
use crate::message::Message;
use crate::{Error, Role};

/// Bytes asked of the transport per read.
const READ_CHUNK: usize = 8 << 10;
/// Most bytes read and dropped after a violation before the connection is
/// dropped regardless.
const DRAIN_LIMIT: usize = 64 << 20;
/// An idle connection's read buffer is given back when it grew past this.
const KEEP_BUFFER: usize = 64 << 10;

/// Receives on a connection.
///
/// Pings are answered with pongs automatically (and still returned, for
/// applications that watch liveness). A close frame from the peer is
/// answered and returned; after it, [`WsReader::next`] returns `None`.
///
/// It is also a [`futures_core::Stream`] of the same items, for code built
/// on stream combinators; [`WsReader::next`] is the allocation-free way.
pub struct WsReader<S> {
    /// The reading state, here between reads, or inside `pending` while a
    /// read started by the `Stream` impl is under way.
    state: Option<Box<ReaderState<S>>>,
    pending: Option<PendingRead<S>>,
    writer: WsWriter,
}

/// A read started by `poll_next`: it owns the state until it completes.
/// In a `Mutex` only so that the reader stays `Sync`: it is reached through
/// `&mut self` (`Mutex::get_mut`), never locked.
type PendingRead<S> = std::sync::Mutex<ReadFuture<S>>;
type ReadFuture<S> =
    Pin<Box<dyn Future<Output = (Option<Result<Message, Error>>, Box<ReaderState<S>>)> + Send>>;

/// The future inside a [`PendingRead`].
fn read_future<S>(pending: &mut PendingRead<S>) -> &mut ReadFuture<S> {
    pending.get_mut().unwrap_or_else(|e| e.into_inner())
}

impl<S> std::fmt::Debug for WsReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsReader")
            .field("reading", &self.pending.is_some())
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead> WsReader<S> {
    pub(crate) fn new(
        io: ReadHalf<S>,
        buf: BytesMut,
        decoder: Decoder,
        writer: WsWriter,
        shared: Arc<Shared>,
        role: Role,
        close_timeout: Duration,
    ) -> Self {
        let state = ReaderState {
            io,
            buf,
            decoder,
            writer: writer.clone(),
            shared,
            role,
            close_timeout,
            closing: false,
            draining: false,
            finished: false,
        };
        Self {
            state: Some(Box::new(state)),
            pending: None,
            writer,
        }
    }

    /// The next message, `None` once the connection has ended (after a
    /// close handshake, a close timeout, or an error already returned).
    ///
    /// A protocol violation is returned as `Err(Error::Protocol(_))` after
    /// a close frame with the matching code was queued; the next call reads
    /// and drops whatever the peer still sends (bounded in bytes and by the
    /// close timeout) so that the peer gets the close frame rather than a
    /// TCP reset, then returns `None`. Cancel-safe: dropping the future
    /// loses no data.
    pub async fn next(&mut self) -> Option<Result<Message, Error>> {
        if let Some(pending) = self.pending.as_mut() {
            // A read the `Stream` impl started: it finishes first.
            let (msg, state) = read_future(pending).await;
            self.pending = None;
            self.state = Some(state);
            return msg;
        }
        match self.state.as_mut() {
            Some(state) => state.next().await,
            None => None,
        }
    }
}

impl<S> WsReader<S> {
    /// A handle to send on the same connection.
    pub fn writer(&self) -> &WsWriter {
        &self.writer
    }
}

impl<S> futures_core::Stream for WsReader<S>
where
    S: AsyncRead + Send + 'static,
{
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let pending = match &mut this.pending {
            Some(pending) => pending,
            slot @ None => {
                let Some(mut state) = this.state.take() else {
                    return Poll::Ready(None);
                };
                slot.insert(std::sync::Mutex::new(Box::pin(async move {
                    let msg = state.next().await;
                    (msg, state)
                })))
            }
        };
        let Poll::Ready((msg, state)) = read_future(pending).as_mut().poll(cx) else {
            return Poll::Pending;
        };
        this.pending = None;
        this.state = Some(state);
        Poll::Ready(msg)
    }
}

/// What a reader keeps between reads.
struct ReaderState<S> {
    io: ReadHalf<S>,
    buf: BytesMut,
    decoder: Decoder,
    writer: WsWriter,
    shared: Arc<Shared>,
    role: Role,
    close_timeout: Duration,
    /// The peer's close frame was returned: only the end of TCP remains.
    closing: bool,
    /// A violation was returned: what the peer still sends is read and
    /// dropped (so that closing the socket does not reset it and destroy
    /// our close frame in flight), until EOF, a byte cap or the close
    /// timeout.
    draining: bool,
    finished: bool,
}

impl<S: AsyncRead> ReaderState<S> {
    /// See [`WsReader::next`].
    async fn next(&mut self) -> Option<Result<Message, Error>> {
        loop {
            if self.draining {
                self.draining = false;
                self.drain_after_error().await;
                return None;
            }
            if self.finished {
                return None;
            }
            if self.closing {
                self.finish_after_close().await;
                return None;
            }
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(msg)) => {
                    self.on_message(&msg).await;
                    return Some(Ok(msg));
                }
                Ok(None) => {}
                Err(e) => {
                    self.finished = true;
                    self.draining = true;
                    if self.shared.claim_close() {
                        let frame = CloseFrame::new(e.close_code(), "");
                        let _ = self
                            .writer
                            .enqueue_close(Some(frame), AfterClose::Fail)
                            .await;
                    }
                    return Some(Err(e.into()));
                }
            }
            if let Some(result) = self.fill().await {
                self.finished = true;
                return result.err().map(Err);
            }
        }
    }

    async fn on_message(&mut self, msg: &Message) {
        match msg {
            Message::Ping(payload) => self.writer.pong(payload.clone()),
            Message::Close(frame) => {
                self.closing = true;
                self.shared.set_close_received();
                if self.shared.claim_close() {
                    // Echo the status code (RFC 6455 section 5.5.1).
                    let reply = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                    let _ = self.writer.enqueue_close(reply, AfterClose::Reply).await;
                }
            }
            _ => {}
        }
    }

    /// Reads more bytes. `None`: bytes arrived. `Some(Ok(()))`: the
    /// connection ended cleanly. `Some(Err(_))`: it ended with an error.
    async fn fill(&mut self) -> Option<Result<(), Error>> {
        if self.buf.is_empty() && self.buf.capacity() > KEEP_BUFFER {
            self.buf = BytesMut::new();
        }
        self.buf.reserve(READ_CHUNK);
        loop {
            let changed = self.shared.changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.shared.abandoned() {
                // The writer dropped the connection (terminated, or a close
                // that did not finish in time).
                return Some(Ok(()));
            }
            let deadline = self.shared.read_deadline();
            tokio::select! {
                read = self.io.read_buf(&mut self.buf) => {
                    return match read {
                        Ok(0) if self.shared.close_sent() => Some(Ok(())),
                        Ok(0) => Some(Err(Error::ResetWithoutClose)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e.into())),
                    };
                }
                () = sleep_until(deadline) => {
                    // The peer never answered our close frame.
                    return Some(Ok(()));
                }
                () = &mut changed => {}
            }
        }
    }

    /// After a violation: reads and drops until the peer closes, at most
    /// `DRAIN_LIMIT` bytes and the close timeout.
    async fn drain_after_error(&mut self) {
        self.buf = BytesMut::new();
        let mut sink = vec![0u8; 16 << 10];
        let mut total = 0usize;
        let drain = async {
            while total < DRAIN_LIMIT {
                match self.io.read(&mut sink).await {
                    Ok(n) if n > 0 => total += n,
                    _ => break,
                }
            }
        };
        let _ = tokio::time::timeout(self.close_timeout, drain).await;
    }

    /// After the peer's close frame: a server is done (its writer drops
    /// TCP); a client waits, within the close timeout, for the server to
    /// drop TCP first (RFC 6455 section 7.1.1).
    async fn finish_after_close(&mut self) {
        self.finished = true;
        if self.role == Role::Client {
            let mut sink = [0u8; 1024];
            let drain = async { while matches!(self.io.read(&mut sink).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(self.close_timeout, drain).await;
        }
    }
}

impl<S> Drop for ReaderState<S> {
    fn drop(&mut self) {
        // A close frame we sent can no longer be answered to anyone: the
        // writer stops waiting for the reply and drops the connection.
        self.shared.set_reader_gone();
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
