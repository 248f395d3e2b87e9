//! The server the official protocol test suites run against: a raw
//! Engine.IO echo server at `/engine.io/`, configured as the Engine.IO
//! spec's "Test suite" section asks (pingInterval 300 ms, pingTimeout
//! 200 ms, maxPayload 1 000 000, permissive CORS). Each message, text or
//! binary, is sent straight back; the text message `close-me` makes the
//! server close the session.
//!
//! ```text
//! cargo run --release -p sockio-server --example conformance -- --port 3000
//! ```
//! Prints `listening on ADDR` once bound (`--port 0` picks a free port).
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use sockio_core::engine::{EngineConfig, Str};
use sockio_server::engine::{Cors, EngineHandler, EngineIo, EngineServerConfig, EngineSocket};

struct Echo;

impl EngineHandler for Echo {
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        if text == "close-me" {
            socket.close();
        } else {
            socket.send_text(text);
        }
    }

    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        socket.send_binary(data);
    }
}

// One thread, like the Node reference: requests that arrive on different
// connections are then handled in arrival order. The suites send requests
// whose outcome depends on that order (a poll aborted after 5 ms, then a
// new poll); a multi-threaded runtime may start the second before the
// first, which no protocol rule forbids but those tests do not expect.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port = 3000u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port);
        }
    }
    let engine = EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000);
    let config = EngineServerConfig::default()
        .engine(engine)
        .path("/engine.io/")
        .cors(Cors::Any);
    let engine_io = EngineIo::new(config, Echo);
    let listener = sockio_server::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let service = engine_io.service();
    // On Ctrl-C: close every session ("server shutting down"), then let
    // the connections drain.
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        engine_io.close();
    };
    sockio_server::serve(listener, service, shutdown).await
}
