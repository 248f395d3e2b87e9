//! A packet encoded once reaches WebSocket and polling sessions alike.

use std::sync::{Arc, Mutex};

use sockio_core::engine::{Packet, Str};
use sockio_server::engine::{
    EngineHandler, EngineIo, EngineServerConfig, EngineSocket, SharedPacket,
};
use sockio_ws::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default, Clone)]
struct Room(Arc<Mutex<Vec<EngineSocket>>>);

impl EngineHandler for Room {
    fn on_open(&self, socket: &EngineSocket) {
        self.0.lock().unwrap().push(socket.clone());
    }

    fn on_message(&self, _: &EngineSocket, text: Str) {
        let shared = SharedPacket::new(Packet::Message(text));
        for socket in self.0.lock().unwrap().iter() {
            assert!(socket.send_shared(&shared));
        }
    }
}

async fn http(addr: std::net::SocketAddr, method: &str, query: &str, body: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} /engine.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[tokio::test]
async fn shared_packet_reaches_every_transport() {
    let room = Room::default();
    let io = EngineIo::new(
        EngineServerConfig::default().path("/engine.io/"),
        room.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        io.service(),
        std::future::pending(),
    ));

    let mut sockets = Vec::new();
    for _ in 0..20 {
        let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
        let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
        let Some(Ok(Message::Text(open))) = ws.next().await else {
            panic!()
        };
        assert!(open.starts_with('0'));
        sockets.push(ws);
    }
    let mut sids = Vec::new();
    for _ in 0..20 {
        let open = http(addr, "GET", "", "").await;
        let start = open.find("\"sid\":\"").unwrap() + 7;
        sids.push(open[start..start + 20].to_owned());
    }
    while io.session_count() < 40 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        http(addr, "POST", &format!("&sid={}", sids[0]), "4to everyone").await,
        "ok"
    );
    for ws in &mut sockets {
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("4to everyone")
        );
    }
    for sid in &sids {
        assert_eq!(
            http(addr, "GET", &format!("&sid={sid}"), "").await,
            "4to everyone"
        );
    }
}
