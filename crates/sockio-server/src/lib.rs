//! A Socket.IO v5 server (wire-compatible with socket.io 4.8 and its
//! clients) on Engine.IO v4, as a tower service to mount in axum or serve
//! with plain hyper.
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::get;
//! use serde::Deserialize;
//! use sockio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
//!
//! #[derive(Deserialize)]
//! struct Say {
//!     room: String,
//!     text: String,
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! io.ns("/", |socket: SocketRef| {
//!     // Join a room; the ack gets the socket's rooms.
//!     socket.on("join", |socket: SocketRef, Data(room): Data<String>, ack: Option<AckSender>| {
//!         socket.join(room);
//!         if let Some(ack) = ack {
//!             ack.send(socket.rooms()).ok();
//!         }
//!     });
//!     // Everyone else in the room gets what was said.
//!     socket.on("say", |socket: SocketRef, Data(say): Data<Say>| {
//!         socket.to(say.room).emit("said", (socket.id(), say.text)).ok();
//!     });
//!     // Ask the client something and wait for its answer.
//!     socket.on("quiz", async |socket: SocketRef| {
//!         let answer: Result<String, _> = socket.emit_with_ack("question", "2+2?").await;
//!         socket.emit("verdict", answer.ok()).ok();
//!     });
//! });
//!
//! let app = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(io.layer());
//! let listener = sockio_server::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Handlers are functions or closures, sync or async, whose parameters are
//! extractors, as in axum: see [`socketio::extract`]. Arguments follow one
//! model everywhere (emits, acks, handlers): `()` is no argument, a tuple
//! one argument per element, any other value one argument, and
//! `bytes::Bytes` anywhere is binary. Every emit returns a `Result`.
//!
//! The Engine.IO layer underneath is public too ([`engine`]), for
//! applications that want its sessions without Socket.IO.

#![forbid(unsafe_code)]

pub mod engine;
mod serve;
pub mod socketio;
mod sync;

pub use serve::{ServeConfig, bind, serve, serve_with};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
