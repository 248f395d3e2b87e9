//! Graceful shutdown: sessions are closed with "server shutting down"
//! (a waiting poll gets the close packet, a WebSocket the 1001 close
//! code), new handshakes are refused, and `serve` returns once the
//! connections drained.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sockio_core::engine::CloseReason;
use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_ws::{CloseFrame, Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default, Clone)]
struct Record(Arc<Mutex<Vec<CloseReason>>>);

impl EngineHandler for Record {
    fn on_close(&self, _: &EngineSocket, reason: CloseReason) {
        self.0.lock().unwrap().push(reason);
    }
}

async fn get(addr: std::net::SocketAddr, query: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /engine.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn shutdown_closes_sessions_then_drains() {
    let record = Record::default();
    let io = EngineIo::new(
        EngineServerConfig::default().path("/engine.io/"),
        record.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = io.clone();
    let server = tokio::spawn(sockio_server::serve(listener, io.service(), async move {
        let _ = stopped.await;
        engine.close();
    }));

    let open = get(addr, "").await;
    let start = open.find("\"sid\":\"").unwrap() + 7;
    let sid = open[start..start + 20].to_owned();
    // The open packet went with the handshake: this poll waits.
    let pending = tokio::spawn(async move { get(addr, &format!("&sid={sid}")).await });
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(_))) = ws.next().await else {
        panic!()
    };
    while io.session_count() < 2 {
        tokio::task::yield_now().await;
    }

    stop.send(()).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .unwrap()
        .unwrap();
    assert!(response.ends_with("\r\n\r\n1"), "{response}");
    let close = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap();
    assert_eq!(
        close.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(1001, "")))
    );
    while ws.next().await.is_some() {}
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(io.session_count(), 0);
    assert_eq!(
        *record.0.lock().unwrap(),
        vec![
            CloseReason::ServerShuttingDown,
            CloseReason::ServerShuttingDown
        ]
    );
}
