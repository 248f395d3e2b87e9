//! The sockio server: Engine.IO v4 (and, next, Socket.IO v5) as a tower
//! `Service`, mountable in axum or served with plain hyper.
//!
//! ```no_run
//! use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
//! use sockio_core::engine::Str;
//!
//! struct Echo;
//! impl EngineHandler for Echo {
//!     fn on_message(&self, socket: &EngineSocket, text: Str) {
//!         socket.send_text(text);
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let engine = EngineIo::new(EngineServerConfig::default(), Echo);
//! let listener = sockio_server::bind("127.0.0.1:3000").await?;
//! sockio_server::serve(listener, engine.service(), std::future::pending()).await
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod engine;
mod serve;
pub mod socketio;

pub use serve::{ServeConfig, bind, serve, serve_with};
