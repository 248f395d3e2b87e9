//! The tokio driver: a WebSocket over any `AsyncRead + AsyncWrite` (raw
//! TCP, hyper's upgraded connection, a TLS stream).
//!
//! The protocol work is done by the sans-IO [`Decoder`](crate::Decoder) and
//! [`Encoder`](crate::Encoder); this module only moves bytes. Each
//! connection has one writer task (spawned on the current tokio runtime)
//! that drains an ordered queue fed by any number of [`WsWriter`] clones.

mod handshake;
mod reader;
mod shared;
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
/// it to read in one task and write from others.
#[derive(Debug)]
pub struct WebSocketStream<S> {
    reader: WsReader<S>,
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
        let shared = Arc::new(shared::Shared::new(
            config.close_timeout,
            config.write_queue_bytes,
        ));
        let writer = WsWriter::spawn(
            wr,
            Encoder::new(role, config, deflate),
            shared.clone(),
            config.write_queue_frames,
            config.close_timeout,
        );
        let reader = WsReader::new(
            rd,
            read,
            Decoder::new(role, config, deflate),
            writer,
            shared,
            role,
            config.close_timeout,
        );
        Self { reader }
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
