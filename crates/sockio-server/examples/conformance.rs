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
//!   Also namespace `/rooms` and the dynamic namespaces `/dyn-{id}`
//!   (rooms, broadcast operators, gathered acks, `fetch_sockets`,
//!   `disconnect_sockets`: the commands are described in
//!   e2e/socketio-suite/reference-server.mjs, which this mirrors);
//!   `--recovery` turns on connection state recovery.
//!
//! ```text
//! cargo run --release -p sockio-server --example conformance -- --port 3000
//! ```
//! Prints `listening on ADDR` once bound (`--port 0` picks a free port).
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sockio_core::engine::{EngineConfig, Str};
use sockio_core::socket::Parser;
use sockio_server::engine::{Cors, EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_server::socketio::{
    AckSender, Args, BroadcastAckError, BroadcastOperator, ConnectError, Data, DisconnectReason,
    ParentNamespaceRef, RecoveryConfig, SocketIo, SocketRef,
};
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
    let mut recovery = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--msgpack" => msgpack = true,
            "--recovery" => recovery = true,
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
    let io = socket_io(engine, msgpack, recovery);
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
fn socket_io(engine: EngineConfig, msgpack: bool, recovery: bool) -> SocketIo {
    let mut builder = SocketIo::builder()
        .engine(engine)
        .cors(Cors::Any)
        .connect_timeout(Duration::from_millis(1000))
        .parser(if msgpack {
            Parser::Msgpack
        } else {
            Parser::Default
        });
    if recovery {
        builder = builder.connection_state_recovery(RecoveryConfig::default());
    }
    let io = builder.build();
    let reasons: Reasons = Arc::default();
    rooms_namespaces(&io, &reasons);
    let main_reasons = reasons.clone();
    io.ns("/", move |socket: SocketRef, auth: Args| {
        socket.emit("auth", auth).ok();
        socket.on("message", |socket: SocketRef, args: Args| {
            socket.emit("message-back", args).ok();
        });
        socket.on("message-with-ack", |args: Args, ack: Option<AckSender>| {
            if let Some(ack) = ack {
                ack.send(args).ok();
            }
        });
        // Spawned, not an async handler: the socket's next events must not
        // wait for the answer.
        socket.on("ask-me", |socket: SocketRef, args: Args| {
            tokio::spawn(async move {
                if let Ok(answer) = socket
                    .timeout(Duration::from_secs(5))
                    .emit_with_ack::<Args>("ping-me", args)
                    .await
                {
                    socket.emit("acked", answer).ok();
                }
            });
        });
        socket.on("no-ack", || {});
        socket.on("disconnect-me", |socket: SocketRef| socket.disconnect());
        let lookup = main_reasons.clone();
        socket.on(
            "disconnect-reason",
            move |Data(sid): Data<String>, ack: Option<AckSender>| {
                let reason = lookup.lock().ok().and_then(|r| r.get(&sid).cloned());
                if let Some(ack) = ack {
                    ack.send(reason).ok();
                }
            },
        );
        record_reason(&socket, &main_reasons);
    });
    let custom_reasons = reasons;
    io.ns("/custom", move |socket: SocketRef, auth: Args| {
        socket.emit("auth", auth).ok();
        record_reason(&socket, &custom_reasons);
    });
    io.ns("/forbidden", || {}).use_middleware(|| {
        Err(ConnectError::new("forbidden").with_data(json!({ "reason": "test" }))?)
    });
    io
}

type Reasons = Arc<Mutex<HashMap<String, String>>>;

/// Keeps the reason each socket disconnected with (the last 10 000).
fn record_reason(socket: &SocketRef, reasons: &Reasons) {
    let reasons = reasons.clone();
    socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
        if let Ok(mut map) = reasons.lock() {
            if map.len() >= 10_000 {
                map.clear();
            }
            map.insert(socket.id().to_owned(), reason.as_str().to_owned());
        }
    });
}

/// What a command of `/rooms` (or `/dyn-{id}`) sends: which sockets
/// (`from`, `broadcast`, `to`, `except`, `volatile`) and what to do.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Spec {
    /// "socket": this socket; anything else: its namespace.
    from: Option<String>,
    broadcast: bool,
    to: Vec<String>,
    except: Vec<String>,
    volatile: bool,
    event: String,
    args: Vec<Value>,
    /// Milliseconds, for "gather".
    timeout: u64,
    rooms: Vec<String>,
    close: bool,
    id: String,
}

/// The sockets a [`Spec`] selects: this socket alone, or an operator.
enum Target {
    Socket(SocketRef),
    Broadcast(BroadcastOperator),
}

/// As `operator(socket, spec)` in reference-server.mjs.
fn target(socket: &SocketRef, spec: &Spec) -> Option<Target> {
    let mut op = if spec.from.as_deref() == Some("socket") {
        spec.broadcast.then(|| socket.broadcast())
    } else {
        let io = socket.io()?;
        Some(io.get_namespace(socket.nsp())?.broadcast())
    };
    for room in &spec.to {
        op = Some(match op {
            Some(op) => op.to(room.as_str()),
            None => socket.to(room.as_str()),
        });
    }
    for room in &spec.except {
        op = Some(match op {
            Some(op) => op.except(room.as_str()),
            None => socket.except(room.as_str()),
        });
    }
    Some(match op {
        Some(op) if spec.volatile => Target::Broadcast(op.volatile()),
        Some(op) => Target::Broadcast(op),
        None => Target::Socket(socket.clone()),
    })
}

/// The operator a [`Spec`] selects; `None` for the socket alone.
fn broadcast_target(socket: &SocketRef, spec: &Spec) -> Option<BroadcastOperator> {
    match target(socket, spec)? {
        Target::Broadcast(op) => Some(op),
        Target::Socket(_) => None,
    }
}

/// The arguments of a spec's event: one per value of `args`.
fn spec_args(spec: &Spec) -> Args {
    let mut args = Args::new();
    for value in &spec.args {
        if args.push(value).is_err() {
            return Args::new();
        }
    }
    args
}

fn reply(ack: Option<AckSender>, value: &Value) {
    if let Some(ack) = ack {
        ack.send(value).ok();
    }
}

fn reply_empty(ack: Option<AckSender>) {
    if let Some(ack) = ack {
        ack.send(()).ok();
    }
}

fn spec_of(args: &Args) -> Spec {
    args.parse().unwrap_or_default()
}

/// The first argument of each gathered acknowledgement (null if none).
fn first_args(acks: &[Args]) -> Vec<Value> {
    acks.iter()
        .map(|a| a.deserialize::<Value>(0).unwrap_or(Value::Null))
        .collect()
}

/// Namespace `/rooms` and the dynamic namespaces `/dyn-{id}`.
fn rooms_namespaces(io: &SocketIo, reasons: &Reasons) {
    let disconnecting: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let (r, d) = (reasons.clone(), disconnecting.clone());
    io.ns("/rooms", move |socket: SocketRef| {
        rooms_handlers(&socket, &r, &d, None);
    });
    let parent: Arc<OnceLock<ParentNamespaceRef>> = Arc::default();
    let (r, d, p) = (reasons.clone(), disconnecting, parent.clone());
    let dynamic = io.dyn_ns("/dyn-{id}", move |socket: SocketRef| {
        socket.emit("hello", socket.nsp()).ok();
        rooms_handlers(&socket, &r, &d, p.get().cloned());
    });
    let _ = parent.set(dynamic);
}

fn rooms_handlers(
    socket: &SocketRef,
    reasons: &Reasons,
    disconnecting: &Arc<Mutex<HashMap<String, Value>>>,
    parent: Option<ParentNamespaceRef>,
) {
    record_reason(socket, reasons);
    let seen = disconnecting.clone();
    socket.on_disconnecting(move |socket: SocketRef, reason: DisconnectReason| {
        if let Ok(mut map) = seen.lock() {
            if map.len() >= 10_000 {
                map.clear();
            }
            let info = json!({ "reason": reason.as_str(), "rooms": socket.rooms() });
            map.insert(socket.id().to_owned(), info);
        }
    });
    socket.on(
        "join",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            socket.join_all(spec_of(&args).rooms);
            reply(ack, &json!(socket.rooms()));
        },
    );
    socket.on(
        "leave",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            for room in spec_of(&args).rooms {
                socket.leave(&room);
            }
            reply(ack, &json!(socket.rooms()));
        },
    );
    socket.on("whoami", |socket: SocketRef, ack: Option<AckSender>| {
        let me = json!({
            "id": socket.id(),
            "nsp": socket.nsp(),
            "recovered": socket.recovered(),
            "rooms": socket.rooms(),
        });
        reply(ack, &me);
    });
    socket.on(
        "emit",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            let sent = match target(&socket, &spec) {
                Some(Target::Broadcast(op)) => op.emit(&spec.event, spec_args(&spec)),
                Some(Target::Socket(s)) if spec.volatile => {
                    s.volatile().emit(&spec.event, spec_args(&spec))
                }
                Some(Target::Socket(s)) => s.emit(&spec.event, spec_args(&spec)),
                None => Ok(()),
            };
            match sent {
                Ok(()) => reply_empty(ack),
                Err(e) => reply(ack, &json!({ "error": e.to_string() })),
            }
        },
    );
    socket.on(
        "gather",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            let Some(op) = broadcast_target(&socket, &spec) else {
                reply(ack, &json!({ "error": "not a broadcast" }));
                return;
            };
            tokio::spawn(async move {
                let result = op
                    .timeout(Duration::from_millis(spec.timeout))
                    .emit_with_ack::<Args>(&spec.event, spec_args(&spec))
                    .await;
                let answer = match result {
                    Ok(acks) => json!({ "timedOut": false, "responses": first_args(&acks) }),
                    Err(BroadcastAckError::Timeout { received, .. }) => {
                        json!({ "timedOut": true, "responses": first_args(&received) })
                    }
                    Err(e) => json!({ "timedOut": false, "error": e.to_string() }),
                };
                reply(ack, &answer);
            });
        },
    );
    socket.on(
        "sockets-join",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            if let Some(op) = broadcast_target(&socket, &spec) {
                op.sockets_join(spec.rooms);
            }
            reply_empty(ack);
        },
    );
    socket.on(
        "sockets-leave",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            if let Some(op) = broadcast_target(&socket, &spec) {
                op.sockets_leave(spec.rooms);
            }
            reply_empty(ack);
        },
    );
    socket.on(
        "fetch",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            let Some(op) = broadcast_target(&socket, &spec) else {
                reply(ack, &json!([]));
                return;
            };
            tokio::spawn(async move {
                let found: Vec<Value> = match op.fetch_sockets().await {
                    Ok(sockets) => sockets
                        .iter()
                        .map(|s| json!({ "id": s.id(), "rooms": s.rooms() }))
                        .collect(),
                    Err(_) => Vec::new(),
                };
                reply(ack, &Value::Array(found));
            });
        },
    );
    socket.on(
        "disconnect-sockets",
        |socket: SocketRef, args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            if let Some(op) = broadcast_target(&socket, &spec) {
                op.disconnect_sockets(spec.close);
            }
            reply_empty(ack);
        },
    );
    let seen = disconnecting.clone();
    socket.on(
        "disconnecting-info",
        move |args: Args, ack: Option<AckSender>| {
            let id = spec_of(&args).id;
            let info = seen.lock().ok().and_then(|m| m.get(&id).cloned());
            reply(ack, &info.unwrap_or(Value::Null));
        },
    );
    socket.on("disconnect-me", |socket: SocketRef, args: Args| {
        socket.disconnect_with(spec_of(&args).close);
    });
    if let Some(parent) = parent {
        socket.on("emit-parent", move |args: Args, ack: Option<AckSender>| {
            let spec = spec_of(&args);
            match parent.emit(&spec.event, spec_args(&spec)) {
                Ok(()) => reply_empty(ack),
                Err(e) => reply(ack, &json!({ "error": e.to_string() })),
            }
        });
    }
}
