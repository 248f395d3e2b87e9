//! RFC 6455 WebSocket with permessage-deflate (RFC 7692): a sans-IO core
//! and a thin tokio driver, one implementation for both roles.
//!
//! An echo server and a client talking to it:
//!
//! ```
//! use sockio_ws::{Config, Message};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sockio_ws::Error> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await?;
//!     let mut ws = sockio_ws::accept(tcp, &Config::default()).await?;
//!     while let Some(msg) = ws.next().await {
//!         let msg = msg?;
//!         if msg.is_data() {
//!             ws.send(msg).await?;
//!         }
//!     }
//!     Ok::<_, sockio_ws::Error>(())
//! });
//!
//! let (mut ws, _) = sockio_ws::connect(&format!("ws://{addr}/"), &Config::default()).await?;
//! ws.send(Message::text("hello")).await?;
//! assert_eq!(ws.next().await.unwrap()?, Message::text("hello"));
//! ws.close(None).await?;
//! while ws.next().await.is_some() {}
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//!
//! - [`handshake`]: the opening handshake, on raw bytes or on an
//!   `http::Request` that an HTTP server (hyper, axum) already parsed.
//! - [`frame`], [`mask`]: the frame format and masking.
//! - [`Decoder`] and [`Encoder`]: the protocol state machines, sans-IO:
//!   bytes in, messages out and back. Every rule of RFC 6455 is checked
//!   here, every limit of [`Config`] enforced.
//! - [`WebSocketStream`] (feature `tokio`, on by default): the driver.
//!
//! # Close codes
//!
//! A violation closes the connection with the code of
//! [`ProtocolError::close_code`]: 1002 for framing errors, 1007 for bad
//! UTF-8 or corrupt deflate data, 1009 for size limits, 1008 for too many
//! fragments.

#![forbid(unsafe_code)]

pub mod close;
mod config;
mod decode;
pub mod deflate;
mod encode;
mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
mod message;
#[cfg(feature = "tokio")]
mod stream;
pub mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use decode::Decoder;
pub use deflate::{DeflateConfig, DeflateParams};
pub use encode::Encoder;
pub use error::{Error, HandshakeError, ProtocolError};
pub use message::{Message, Utf8Bytes};
#[cfg(feature = "tokio")]
pub use stream::{
    TrySendError, WebSocketStream, WsReader, WsWriter, accept, accept_request, accept_with_request,
    client_handshake, connect, read_request,
};

/// Which end of the connection this endpoint is. The rules that differ
/// (who masks, who drops TCP first) follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Accepted the connection; sends unmasked frames, requires masked ones.
    Server,
    /// Opened the connection; masks every frame it sends.
    Client,
}
