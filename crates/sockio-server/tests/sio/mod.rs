//! Test support for the Socket.IO server: a server on 127.0.0.1:0 and a raw
//! Socket.IO client over our WebSocket client, so that every packet the
//! server writes can be asserted exactly.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use sockio_server::socketio::SocketIo;
use sockio_ws::{Config, Message, WebSocketStream};
use tokio::net::TcpStream;

pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Long enough to never fire on a loaded machine.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `io` on an ephemeral port.
pub(crate) async fn start(io: &SocketIo) -> SocketAddr {
    let listener = sockio_server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        io.service(),
        std::future::pending(),
    ));
    addr
}

/// The next Socket.IO text packet (Engine.IO message `4…`), answering pings.
pub(crate) async fn next(ws: &mut Ws) -> String {
    loop {
        let msg = tokio::time::timeout(IO_TIMEOUT, ws.next())
            .await
            .expect("nothing came");
        match msg {
            Some(Ok(Message::Text(t))) if &*t == "2" => ws.send(Message::text("3")).await.unwrap(),
            Some(Ok(Message::Text(t))) => {
                return t
                    .strip_prefix('4')
                    .unwrap_or_else(|| panic!("not a message: {t}"))
                    .to_owned();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Whether the connection ends (close frame or EOF) before another packet.
pub(crate) async fn closed(ws: &mut Ws) -> bool {
    loop {
        let msg = tokio::time::timeout(IO_TIMEOUT, ws.next())
            .await
            .expect("neither closed nor a packet");
        match msg {
            Some(Ok(Message::Text(t))) if &*t == "2" => ws.send(Message::text("3")).await.unwrap(),
            Some(Ok(Message::Close(_)) | Err(_)) | None => return true,
            Some(Ok(_)) => return false,
        }
    }
}

/// Sends a Socket.IO text packet.
pub(crate) async fn send(ws: &mut Ws, packet: &str) {
    ws.send(Message::text(format!("4{packet}"))).await.unwrap();
}

/// Opens a WebSocket Engine.IO session (the open packet read).
pub(crate) async fn open(addr: SocketAddr) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!("no open packet")
    };
    assert!(open.starts_with("0{"));
    ws
}

/// The CONNECT packet for `nsp` with an optional payload.
pub(crate) fn connect_packet(nsp: &str, payload: Option<&str>) -> String {
    let prefix = if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    };
    format!("0{prefix}{}", payload.unwrap_or(""))
}

/// Connects an open session to `nsp`; returns the CONNECT reply's
/// payload (`{"sid":…}`).
pub(crate) async fn join(ws: &mut Ws, nsp: &str, payload: Option<&str>) -> String {
    send(ws, &connect_packet(nsp, payload)).await;
    let reply = next(ws).await;
    let head = connect_packet(nsp, None);
    reply
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("not a CONNECT reply: {reply}"))
        .to_owned()
}

/// Opens a session and connects to `nsp`; returns the socket id.
pub(crate) async fn connect(addr: SocketAddr, nsp: &str) -> (Ws, String) {
    let mut ws = open(addr).await;
    let reply = join(&mut ws, nsp, None).await;
    (ws, field(&reply, "sid"))
}

/// A string field of a JSON object.
pub(crate) fn field(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        .to_owned()
}
