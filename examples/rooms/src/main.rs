//! Rooms on namespace `/chat`, in an axum app that serves a small page at
//! `/`:
//!
//! - a middleware lets in only clients whose `auth.token` is `letmein`
//!   (others get `connect_error` "unauthorized" with data
//!   `{"reason": "bad token"}`);
//! - `join` (a room name) joins it and acks the sorted list of the rooms
//!   the socket is in (its own id left out);
//! - `say` (`{"room", "text"}`) sends `said` (`{"room", "text", "from"}`)
//!   to the others in that room and acks `true`; a payload of another
//!   shape is acked with `{"error": ..}` and nothing is sent;
//! - `quiz` asks the sender `question` ("2+2?") and waits 1 s for its
//!   answer, then sends it `verdict` with the answer or "timeout";
//! - every second, `tick` with a growing counter goes to every socket.
//!
//! ```text
//! cargo run --release -p rooms                 # http://127.0.0.1:3000
//! cargo run --release -p rooms -- 127.0.0.1:8080
//! ```
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sockio_server::socketio::{AckSender, ConnectError, Data, SocketIo, SocketRef, TryData};

const PAGE: &str = include_str!("../static/index.html");

#[derive(Deserialize)]
struct Auth {
    token: Option<String>,
}

#[derive(Deserialize)]
struct Say {
    room: String,
    text: String,
}

#[derive(Serialize)]
struct Said<'a> {
    room: &'a str,
    text: &'a str,
    from: &'a str,
}

fn authorize(TryData(auth): TryData<Auth>) -> Result<(), ConnectError> {
    match auth {
        Ok(Auth { token: Some(t) }) if t == "letmein" => Ok(()),
        _ => Err(ConnectError::new("unauthorized")
            .with_data(serde_json::json!({ "reason": "bad token" }))?),
    }
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a handler takes its extractors by value"
)]
fn on_connect(socket: SocketRef) {
    socket.on(
        "join",
        |socket: SocketRef, Data(room): Data<String>, ack: Option<AckSender>| {
            socket.join(room);
            let mut rooms = socket.rooms();
            rooms.retain(|r| r != socket.id());
            rooms.sort();
            if let Some(ack) = ack {
                ack.send(rooms).ok();
            }
        },
    );

    socket.on(
        "say",
        |socket: SocketRef, TryData(say): TryData<Say>, ack: Option<AckSender>| {
            let reply = match say {
                Ok(say) => {
                    let said = Said {
                        room: &say.room,
                        text: &say.text,
                        from: socket.id(),
                    };
                    match socket.to(say.room.as_str()).emit("said", said) {
                        Ok(()) => serde_json::json!(true),
                        Err(e) => serde_json::json!({ "error": e.to_string() }),
                    }
                }
                Err(_) => {
                    serde_json::json!({ "error": "expected {\"room\": string, \"text\": string}" })
                }
            };
            if let Some(ack) = ack {
                ack.send(reply).ok();
            }
        },
    );

    socket.on("quiz", async |socket: SocketRef| {
        let answer = socket
            .timeout(Duration::from_secs(1))
            .emit_with_ack::<serde_json::Value>("question", "2+2?")
            .await
            .unwrap_or_else(|_| "timeout".into());
        socket.emit("verdict", answer).ok();
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());

    let io = SocketIo::builder().build();
    io.of("/chat")
        .use_middleware(authorize)
        .on_connect(on_connect);

    let chat = io.of("/chat");
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.tick().await;
        for n in 1u64.. {
            every.tick().await;
            chat.emit("tick", n).ok();
        }
    });

    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .layer(io.layer());
    let listener = sockio_server::bind(addr.as_str())
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("rooms on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            ticker.abort();
            io.close().await;
        })
        .await?;
    Ok(())
}
