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
use super::write_task::FlushCorked;
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
        core: Arc<dyn FlushCorked>,
        role: Role,
        close_timeout: Duration,
    ) -> Self {
        let shared = writer.shared_arc();
        let state = ReaderState {
            io,
            buf,
            decoder,
            writer: writer.clone(),
            core,
            batch_replies: false,
            corked: false,
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

    /// Writes replies in the reading task: what is sent on this connection
    /// between a message returned by [`next`](Self::next) and the next call
    /// to `next` is held, then written by that call, in one system call,
    /// before it waits for more bytes (when the writer task is idle; else
    /// the writer task writes it, as usual). A request/reply exchange then
    /// costs no wake-up of the writer task.
    ///
    /// Only for a caller that calls `next` again as soon as it has handled
    /// a message: held messages wait for that call. Sends that must wait
    /// for room (`send`, not `try_send`) release them at once, so that a
    /// full queue cannot stall.
    pub fn batch_replies(&mut self) {
        if let Some(state) = self.state.as_mut() {
            state.batch_replies = true;
        }
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
    /// The writing side, for in-place writes of replies.
    core: Arc<dyn FlushCorked>,
    /// See [`WsReader::batch_replies`].
    batch_replies: bool,
    /// Sends are held for this reader to write (a message was returned).
    corked: bool,
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
            if self.draining || self.finished || self.closing {
                self.uncork();
            }
            if self.draining {
                self.draining = false;
                // The rare ends are boxed: inline, their buffers and timers
                // would sit in every connection's task.
                Box::pin(self.drain_after_error()).await;
                return None;
            }
            if self.finished {
                return None;
            }
            if self.closing {
                Box::pin(self.finish_after_close()).await;
                return None;
            }
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(msg)) => {
                    self.on_message(&msg).await;
                    if self.batch_replies && !self.corked && msg.is_data() {
                        self.writer.queue().cork();
                        self.corked = true;
                    }
                    return Some(Ok(msg));
                }
                Ok(None) => {}
                Err(e) => {
                    self.uncork();
                    self.finished = true;
                    self.draining = true;
                    if self.writer.claim_close() {
                        let frame = CloseFrame::new(e.close_code(), "");
                        let close = self.writer.enqueue_close(Some(frame), AfterClose::Fail);
                        let _ = Box::pin(close).await;
                    }
                    return Some(Err(e.into()));
                }
            }
            if self.corked {
                self.corked = false;
                self.core.flush_corked(self.writer.queue());
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
                self.uncork();
                self.closing = true;
                self.shared.set_close_received();
                if self.writer.claim_close() {
                    // Echo the status code (RFC 6455 section 5.5.1).
                    let reply = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                    let close = self.writer.enqueue_close(reply, AfterClose::Reply);
                    let _ = Box::pin(close).await;
                }
            }
            _ => {}
        }
    }

    /// Reads more bytes. `None`: bytes arrived. `Some(Ok(()))`: the
    /// connection ended cleanly. `Some(Err(_))`: it ended with an error.
    ///
    /// An empty buffer is given back while the connection waits for bytes,
    /// and taken again when they come: an idle connection holds no read
    /// buffer (8 KiB each before; measured with heaptrack on 2 000 idle
    /// connections).
    async fn fill(&mut self) -> Option<Result<(), Error>> {
        if self.buf.is_empty() && self.buf.capacity() > KEEP_BUFFER {
            self.buf = BytesMut::new();
        }
        // Only while closing: the wait for the peer's close frame.
        let mut close_wait: Option<Pin<Box<tokio::time::Sleep>>> = None;
        std::future::poll_fn(|cx| {
            let (abandoned, deadline) = self.shared.watch_for_reader(cx.waker());
            if abandoned {
                // The writer dropped the connection (terminated, or a close
                // that did not finish in time).
                return Poll::Ready(Some(Ok(())));
            }
            if let Some(at) = deadline {
                let sleep =
                    close_wait.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    // The peer never answered our close frame.
                    return Poll::Ready(Some(Ok(())));
                }
            }
            self.buf.reserve(READ_CHUNK);
            let read = {
                let read = std::pin::pin!(self.io.read_buf(&mut self.buf));
                read.poll(cx)
            };
            match read {
                Poll::Ready(Ok(0)) if self.shared.close_sent() => Poll::Ready(Some(Ok(()))),
                Poll::Ready(Ok(0)) => Poll::Ready(Some(Err(Error::ResetWithoutClose))),
                Poll::Ready(Ok(_)) => Poll::Ready(None),
                Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                Poll::Pending => {
                    if self.buf.is_empty() {
                        self.buf = BytesMut::new();
                    }
                    Poll::Pending
                }
            }
        })
        .await
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

impl<S> ReaderState<S> {
    /// Releases sends held for this reader to the writer task.
    fn uncork(&mut self) {
        if self.corked {
            self.corked = false;
            self.writer.queue().uncork();
        }
    }
}

impl<S> Drop for ReaderState<S> {
    fn drop(&mut self) {
        self.uncork();
        // A close frame we sent can no longer be answered to anyone: the
        // writer stops waiting for the reply and drops the connection.
        self.shared.set_reader_gone();
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::encode::Encoder;
    use crate::{Config, WebSocketStream};

    fn client_frame(text: &'static str) -> BytesMut {
        let mut out = BytesMut::new();
        Encoder::new(Role::Client, &Config::default(), None).encode(&Message::text(text), &mut out);
        out
    }

    /// Polls the reader once; true if it had nothing to return.
    async fn waits(reader: &mut WsReader<tokio::io::DuplexStream>) -> bool {
        let mut next = std::pin::pin!(reader.next());
        poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx).is_pending())).await
    }

    fn buffer_capacity(reader: &WsReader<tokio::io::DuplexStream>) -> usize {
        reader.state.as_ref().map_or(0, |s| s.buf.capacity())
    }

    #[tokio::test]
    async fn a_reader_waiting_for_bytes_holds_no_buffer() {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let ws = WebSocketStream::from_raw(ours, Role::Server, &Config::default(), None);
        let (mut reader, _writer) = ws.split();
        assert!(waits(&mut reader).await);
        assert_eq!(buffer_capacity(&reader), 0);

        // Two messages and the start of a third in one write.
        let mut bytes = client_frame("one");
        bytes.extend_from_slice(&client_frame("two"));
        let third = client_frame("three");
        bytes.extend_from_slice(&third[..4]);
        peer.write_all(&bytes).await.unwrap();
        assert_eq!(reader.next().await.unwrap().unwrap(), Message::text("one"));
        assert_eq!(reader.next().await.unwrap().unwrap(), Message::text("two"));
        // A partial frame is kept while waiting for the rest.
        assert!(waits(&mut reader).await);
        assert!(buffer_capacity(&reader) >= 4);
        peer.write_all(&third[4..]).await.unwrap();
        assert_eq!(
            reader.next().await.unwrap().unwrap(),
            Message::text("three")
        );
        // Nothing left: the buffer is given back.
        assert!(waits(&mut reader).await);
        assert_eq!(buffer_capacity(&reader), 0);
        peer.write_all(&client_frame("four")).await.unwrap();
        assert_eq!(reader.next().await.unwrap().unwrap(), Message::text("four"));
    }
}
