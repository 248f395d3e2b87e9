//! Clients that stop reading while the server broadcasts (RELIABILITY.md
//! section 4, case 22; issue 13, defect 2): each is cut once its queue
//! passes the limit in frames or bytes, and its queued frames and TCP
//! connection go at once, while a client that reads gets every packet.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sockio_core::engine::CloseReason;
use sockio_server::engine::{EngineHandler, EngineIo, EngineSocket, SharedPacket};
use sockio_ws::{Config, Message};
use support::{Closed, Conn, engine_config, server_config, ws_upgrade};
use tokio::io::AsyncReadExt;

/// Every socket, and the reasons sessions closed with.
#[derive(Default, Clone)]
struct Room {
    sockets: Arc<Mutex<Vec<EngineSocket>>>,
    closed: Arc<Mutex<Vec<CloseReason>>>,
}

impl EngineHandler for Room {
    fn on_open(&self, socket: &EngineSocket) {
        self.sockets.lock().unwrap().push(socket.clone());
    }

    fn on_close(&self, _: &EngineSocket, reason: CloseReason) {
        self.closed.lock().unwrap().push(reason);
    }
}

const SLOW: usize = 20;
const PAYLOAD: usize = 16 << 10;
const ROUNDS: usize = 400;
const PER_ROUND: usize = 8;

#[tokio::test]
async fn a_cut_slow_consumer_loses_its_queue_and_its_connection_at_once() {
    let room = Room::default();
    let config = server_config().engine(engine_config().max_buffered_bytes(1 << 20));
    let io = EngineIo::new(config, room.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        io.service(),
        std::future::pending(),
    ));

    // Clients that complete the WebSocket handshake, then never read.
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut conn = Conn::connect(addr).await;
        conn.send(ws_upgrade("/engine.io/?EIO=4&transport=websocket", &[]))
            .await;
        slow.push(conn);
    }
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut reader, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = reader.next().await else {
        panic!("no open packet")
    };
    assert!(open.starts_with('0'));
    while room.sockets.lock().unwrap().len() < SLOW + 1 {
        tokio::task::yield_now().await;
    }

    let shared = SharedPacket::new(sockio_core::engine::Packet::Binary(Bytes::from(vec![
        7u8;
        PAYLOAD
    ])));
    for _ in 0..ROUNDS {
        let sockets = room.sockets.lock().unwrap().clone();
        for _ in 0..PER_ROUND {
            for socket in &sockets {
                socket.send_shared(&shared);
            }
        }
        // The reading client keeps up.
        for _ in 0..PER_ROUND {
            let msg = tokio::time::timeout(support::IO_TIMEOUT, reader.next())
                .await
                .expect("the reading client gets every packet");
            assert!(
                matches!(msg, Some(Ok(Message::Binary(ref b))) if b.len() == PAYLOAD),
                "{msg:?}"
            );
        }
    }

    // Every slow client was cut as a slow consumer; the reader was not.
    let closed = room.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), SLOW, "{closed:?}");
    assert!(closed.iter().all(|r| *r == CloseReason::SlowConsumer));
    assert_eq!(io.session_count(), 1);

    // Each slow client's connection is gone: what the kernel still holds
    // is read, then the end comes (a FIN, or a reset for the unread bytes
    // the server dropped), without waiting for any timeout.
    for conn in &mut slow {
        let ended = tokio::time::timeout(Duration::from_secs(5), drain_to_end(conn))
            .await
            .expect("the server must have dropped the connection");
        assert!(matches!(ended, Closed::Eof | Closed::Reset));
    }
}

/// Reads and drops until the connection ends.
async fn drain_to_end(conn: &mut Conn) -> Closed {
    let stream = conn.stream_mut();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => return Closed::Eof,
            Ok(_) => {}
            Err(_) => return Closed::Reset,
        }
    }
}
