//! The server the official protocol test suites run against, configured as
//! the specs' "Test suite" sections ask (pingInterval 300 ms, pingTimeout
//! 200 ms, maxPayload 1 000 000, permissive CORS):
//!
//! - `/engine.io/`: a raw Engine.IO echo server. Each message, text or
//!   binary, is sent straight back; the text message `close-me` makes the
//!   server close the session.
//! - `/socket.io/`: Socket.IO with namespaces `/` and `/custom`,
//!   connectTimeout 1000 ms. On connect each socket is sent `auth` with its
//!   auth payload; `message` comes back as `message-back` with all its
//!   arguments; `message-with-ack` is acknowledged with all its arguments.
//!   For the socket.io-client suite (e2e/socketio-client) also: `ask-me`
//!   emits `ping-me` asking for an ack, then `acked` with the answer;
//!   `no-ack` is ignored; `disconnect-me` disconnects the socket;
//!   `disconnect-reason` (sid) acknowledges with the reason that socket
//!   disconnected with, or null; namespace `/forbidden` refuses every
//!   connection. `--msgpack` selects the msgpack parser.
//!
//! ```text
//! cargo run --release -p sockio-server --example conformance -- --port 3000
//! ```
//! Prints `listening on ADDR` once bound (`--port 0` picks a free port).
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sockio_core::engine::{EngineConfig, Str};
use sockio_core::socket::Parser;
use sockio_server::engine::{Cors, EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_server::socketio::{ConnectError, SocketIo, SocketRef};
use tower_layer::Layer;

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
    let mut msgpack = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--msgpack" => msgpack = true,
            _ => {}
        }
    }
    let engine = EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000);
    let config = EngineServerConfig::default()
        .engine(engine.clone())
        .path("/engine.io/")
        .cors(Cors::Any);
    let engine_io = EngineIo::new(config, Echo);
    let io = socket_io(engine, msgpack);
    let listener = sockio_server::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let service = io.layer().layer(engine_io.service());
    // On Ctrl-C: close every session ("server shutting down"), then let
    // the connections drain.
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        io.close().await;
        engine_io.close();
    };
    sockio_server::serve(listener, service, shutdown).await
}

/// The Socket.IO part: `/socket.io/`.
fn socket_io(engine: EngineConfig, msgpack: bool) -> SocketIo {
    let io = SocketIo::builder()
        .engine(engine)
        .cors(Cors::Any)
        .connect_timeout(Duration::from_millis(1000))
        .parser(if msgpack {
            Parser::Msgpack
        } else {
            Parser::Default
        })
        .build();
    let reasons: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let main_reasons = reasons.clone();
    io.ns("/", move |socket: SocketRef| {
        socket.emit_args("auth", auth_args(&socket));
        socket.on("message", |socket, args, _| {
            socket.emit_args("message-back", args);
        });
        socket.on("message-with-ack", |_, args, ack| {
            if let Some(ack) = ack {
                ack.send_args(args);
            }
        });
        socket.on("ask-me", |socket, args, _| {
            tokio::spawn(async move {
                if let Ok(answer) = socket
                    .emit_args_with_timeout("ping-me", args, Duration::from_secs(5))
                    .await
                {
                    socket.emit_args("acked", answer);
                }
            });
        });
        socket.on("no-ack", |_, _, _| {});
        socket.on("disconnect-me", |socket, _, _| socket.disconnect());
        let lookup = main_reasons.clone();
        socket.on("disconnect-reason", move |_, args, ack| {
            let sid: String = args.deserialize(0).unwrap_or_default();
            let reason = lookup.lock().ok().and_then(|r| r.get(&sid).cloned());
            if let Some(ack) = ack {
                let _ = ack.send(&reason);
            }
        });
        record_reason(&socket, &main_reasons);
    });
    let custom_reasons = reasons;
    io.ns("/custom", move |socket: SocketRef| {
        socket.emit_args("auth", auth_args(&socket));
        record_reason(&socket, &custom_reasons);
    });
    io.ns("/forbidden", |_| {}).use_middleware(|_| {
        Err(ConnectError::new("forbidden").with_data(&serde_json::json!({ "reason": "test" })))
    });
    io
}

fn auth_args(socket: &SocketRef) -> sockio_server::socketio::Args {
    sockio_server::socketio::Args::from_raw(vec![socket.handshake().auth.clone()])
}

/// Keeps the reason each socket disconnected with (the last 10 000).
fn record_reason(socket: &SocketRef, reasons: &Arc<Mutex<HashMap<String, String>>>) {
    let reasons = reasons.clone();
    socket.on_disconnect(move |socket, reason| {
        if let Ok(mut map) = reasons.lock() {
            if map.len() >= 10_000 {
                map.clear();
            }
            map.insert(socket.id().to_owned(), reason.as_str().to_owned());
        }
    });
}
