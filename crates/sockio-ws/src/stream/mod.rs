//! The tokio driver: a WebSocket over any `AsyncRead + AsyncWrite` (raw
//! TCP, hyper's upgraded connection, a TLS stream).
//!
//! The protocol work is done by the sans-IO [`Decoder`](crate::Decoder) and
//! [`Encoder`](crate::Encoder); this module only moves bytes. Each
//! connection has one writer task (spawned on the current tokio runtime)
//! that drains an ordered queue fed by any number of [`WsWriter`] clones.

mod handshake;
mod queue;
mod reader;
mod shared;
mod write_task;
mod writer;

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};

pub use handshake::{
    accept, accept_request, accept_with_request, client_handshake, connect, read_request,
};
pub use reader::WsReader;
pub use writer::{TrySendError, WsWriter};

use crate::close::CloseFrame;
use crate::decode::Decoder;
use crate::deflate::DeflateParams;
use crate::encode::Encoder;
use crate::message::Message;
use crate::{Config, Error, Role};

/// A WebSocket connection after its opening handshake.
///
/// Use it whole (`next`, `send`) from one task, or [`split`](Self::split)
/// it to read in one task and write from others. It is also a
/// [`futures_core::Stream`] of received messages and a
/// [`futures_sink::Sink`] of messages to send, for code built on those
/// traits (`StreamExt::forward`, `select`, codecs). As with
/// [`send`](Self::send), a message the sink accepted or flushed is queued
/// for the connection's writer, not yet written; `poll_close` starts the
/// close handshake (code 1000, normal closure) and waits for its frame to be queued.
pub struct WebSocketStream<S> {
    reader: WsReader<S>,
    /// A send the sink could not queue at once (the queue was full).
    pending_send: Option<PendingSend>,
    /// The close the sink started.
    pending_close: Option<PendingSend>,
    close_started: bool,
}

/// A send or close the sink started. In a `Mutex` only so that the stream
/// stays `Sync`: it is reached through `&mut self`, never locked.
type PendingSend = std::sync::Mutex<SendFuture>;
type SendFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>> + Send>>;

fn boxed_send(
    fut: impl std::future::Future<Output = Result<(), Error>> + Send + 'static,
) -> PendingSend {
    std::sync::Mutex::new(Box::pin(fut))
}

fn send_future(pending: &mut PendingSend) -> &mut SendFuture {
    pending.get_mut().unwrap_or_else(|e| e.into_inner())
}

impl<S> std::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("reader", &self.reader)
            .field("sending", &self.pending_send.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> WebSocketStream<S>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    /// Wraps a transport whose opening handshake is done (for example the
    /// connection hyper hands over after a `101` built from
    /// [`handshake::server::Accepted::response`](crate::handshake::server::Accepted::response)).
    /// Must be called within a tokio runtime.
    pub fn from_raw(io: S, role: Role, config: &Config, deflate: Option<DeflateParams>) -> Self {
        Self::from_partially_read(io, BytesMut::new(), role, config, deflate)
    }

    /// As [`from_raw`](Self::from_raw), with bytes already read past the
    /// handshake (frames the peer sent right after it).
    pub fn from_partially_read(
        io: S,
        read: BytesMut,
        role: Role,
        config: &Config,
        deflate: Option<DeflateParams>,
    ) -> Self {
        let (rd, wr) = tokio::io::split(io);
        let shared = Arc::new(shared::Shared::new(config.close_timeout));
        let (writer, core) = WsWriter::spawn(
            wr,
            Encoder::new(role, config, deflate),
            shared,
            (config.write_queue_frames, config.write_queue_bytes),
            config.close_timeout,
        );
        let reader = WsReader::new(
            rd,
            read,
            Decoder::new(role, config, deflate),
            writer,
            core,
            role,
            config.close_timeout,
        );
        Self {
            reader,
            pending_send: None,
            pending_close: None,
            close_started: false,
        }
    }

    /// The next message; see [`WsReader::next`].
    pub async fn next(&mut self) -> Option<Result<Message, Error>> {
        self.reader.next().await
    }

    /// Queues a message; see [`WsWriter::send`].
    pub async fn send(&self, msg: Message) -> Result<(), Error> {
        self.reader.writer().send(msg).await
    }

    /// Starts the close handshake; keep calling [`next`](Self::next) until
    /// it returns `None` to see it finish.
    pub async fn close(&self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.reader.writer().close(frame).await
    }

    /// A sending handle.
    pub fn writer(&self) -> WsWriter {
        self.reader.writer().clone()
    }

    /// Splits into a reader and a cloneable writer.
    pub fn split(self) -> (WsReader<S>, WsWriter) {
        let writer = self.reader.writer().clone();
        (self.reader, writer)
    }
}

impl<S> futures_core::Stream for WebSocketStream<S>
where
    S: AsyncRead + Send + 'static,
{
    type Item = Result<Message, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::pin::Pin::new(&mut self.get_mut().reader).poll_next(cx)
    }
}

impl<S> WebSocketStream<S> {
    /// Drives a send the sink could not finish at once.
    fn poll_pending_send(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        let Some(pending) = self.pending_send.as_mut() else {
            return std::task::Poll::Ready(Ok(()));
        };
        let result = std::task::ready!(send_future(pending).as_mut().poll(cx));
        self.pending_send = None;
        std::task::Poll::Ready(result)
    }
}

impl<S> futures_sink::Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        self.get_mut().poll_pending_send(cx)
    }

    fn start_send(self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let this = self.get_mut();
        let writer = this.reader.writer();
        // Queued at once when there is room; else the send waits for room
        // in `poll_ready` / `poll_flush`.
        match writer.try_send(item.clone()) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full) => {
                let writer = writer.clone();
                this.pending_send = Some(boxed_send(async move { writer.send(item).await }));
                Ok(())
            }
            Err(TrySendError::Closed) => Err(Error::ConnectionClosed),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        self.get_mut().poll_pending_send(cx)
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending_send(cx))?;
        if !this.close_started {
            this.close_started = true;
            let writer = this.reader.writer().clone();
            let frame = CloseFrame::new(crate::CloseCode::NORMAL, "");
            this.pending_close = Some(boxed_send(async move { writer.close(Some(frame)).await }));
        }
        let Some(pending) = this.pending_close.as_mut() else {
            return std::task::Poll::Ready(Ok(()));
        };
        let result = std::task::ready!(send_future(pending).as_mut().poll(cx));
        this.pending_close = None;
        std::task::Poll::Ready(result)
    }
}
