//! The Socket.IO chat tutorial on sockio: an axum app that serves a chat
//! page at `/` and Socket.IO at `/socket.io/`. Every `chat message` is sent
//! to everyone, the sender included.
//!
//! ```text
//! cargo run --release -p chat                 # http://127.0.0.1:3000
//! cargo run --release -p chat -- 127.0.0.1:8080
//! ```
//!
//! The page uses the Socket.IO client at `/socket.io.js`: by
//! default a small client written for this example (WebSocket transport,
//! reconnection), or, when `SOCKIO_CLIENT_JS` names a file, that file (for
//! instance the official `socket.io-client` bundle,
//! `node_modules/socket.io-client/dist/socket.io.min.js`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use sockio_server::socketio::{Args, SocketIo, SocketRef};

const PAGE: &str = include_str!("../static/index.html");
const CLIENT: &str = include_str!("../static/client.js");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let client_js = match std::env::var("SOCKIO_CLIENT_JS") {
        Ok(path) => tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("reading SOCKIO_CLIENT_JS={path}"))?,
        Err(_) => CLIENT.to_owned(),
    };

    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        // Everyone, the sender included, gets the message as it came.
        socket.on("chat message", |io: SocketIo, msg: Args| {
            if let Err(error) = io.emit("chat message", msg) {
                eprintln!("chat message not sent: {error}");
            }
        });
    });

    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/socket.io.js",
            get(move || async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/javascript; charset=utf-8",
                    )],
                    client_js,
                )
                    .into_response()
            }),
        )
        .layer(io.layer());

    let listener = sockio_server::bind(addr.as_str())
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("chat on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            io.close().await;
        })
        .await?;
    Ok(())
}
