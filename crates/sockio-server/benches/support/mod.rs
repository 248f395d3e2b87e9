//! In-memory Socket.IO connections for the benches: a `tokio::io::duplex`
//! pair whose server half hyper serves (`with_upgrades`) with the tower
//! service of a `SocketIo`, and whose client half is a `sockio_ws` client.

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sockio_server::socketio::SocketIo;
use sockio_ws::handshake::client::Target;
use sockio_ws::{Config, Message, WebSocketStream};
use tokio::io::DuplexStream;

/// The next text message of a client, answering Engine.IO pings.
pub(crate) async fn next_text(ws: &mut WebSocketStream<DuplexStream>) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if &*t == "2" => {
                ws.send(Message::text("3")).await.expect("pong");
            }
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(_)) => {}
            other => panic!("connection ended: {other:?}"),
        }
    }
}

/// Opens one in-memory WebSocket connection to `io`, reads the Engine.IO
/// open packet and connects to `/`.
pub(crate) async fn connect(io: &SocketIo) -> WebSocketStream<DuplexStream> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(server), TowerToHyperService::new(io.service()))
        .with_upgrades();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let target =
        Target::parse("ws://localhost/socket.io/?EIO=4&transport=websocket").expect("target");
    let (mut ws, _) = sockio_ws::client_handshake(client, &target, &Config::default(), &[])
        .await
        .expect("WebSocket handshake");
    let open = next_text(&mut ws).await;
    assert!(open.starts_with("0{"), "open packet: {open}");
    ws.send(Message::text("40")).await.expect("send CONNECT");
    let ok = next_text(&mut ws).await;
    assert!(ok.starts_with("40{\"sid\""), "CONNECT reply: {ok}");
    ws
}
