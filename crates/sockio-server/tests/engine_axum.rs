//! The Engine.IO layer mounted in an axum router: its path is served, other
//! routes pass through to the application, and WebSocket upgrades work
//! through axum's body type and hyper's upgrade machinery.

use axum::Router;
use axum::routing::get;
use sockio_core::engine::Str;
use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_ws::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Echo;

impl EngineHandler for Echo {
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        socket.send_text(text);
    }
}

async fn get_raw(addr: std::net::SocketAddr, path: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn layer_in_axum() {
    let engine = EngineIo::new(EngineServerConfig::default(), Echo);
    let app = Router::new()
        .route("/api/health", get(|| async { "healthy" }))
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let health = get_raw(addr, "/api/health").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("healthy"),
        "{health}"
    );
    let missing = get_raw(addr, "/nowhere").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    let open = get_raw(addr, "/socket.io/?EIO=4&transport=polling").await;
    assert!(open.starts_with("HTTP/1.1 200"), "{open}");
    assert!(open.contains("\r\n\r\n0{\"sid\":\""), "{open}");

    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!()
    };
    assert!(open.starts_with("0{"), "{open}");
    ws.send(Message::text("4through axum")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("4through axum")
    );
    assert_eq!(engine.session_count(), 2);
}
