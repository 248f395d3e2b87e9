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
    let (addr, io, room) = room_server(engine_config().max_buffered_bytes(1 << 20)).await;

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

/// A server on 127.0.0.1:0 with `engine` and the recording [`Room`].
async fn room_server(
    engine: sockio_core::engine::EngineConfig,
) -> (std::net::SocketAddr, EngineIo, Room) {
    let room = Room::default();
    let io = EngineIo::new(server_config().engine(engine), room.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        io.service(),
        std::future::pending(),
    ));
    (addr, io, room)
}

/// The path of a polling request for `sid`.
fn polling(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

/// Sends `request` on a new connection and reads one response.
async fn http(addr: std::net::SocketAddr, request: Vec<u8>) -> support::Response {
    let mut conn = Conn::connect(addr).await;
    conn.send(request).await;
    conn.response().await
}

/// RELIABILITY 22: a polling client that stops polling while the server
/// sends to it is cut at `max_buffered_packets` (100): the first 100
/// packets are queued, the 101st is refused and closes the session with
/// `SlowConsumer` (once), later sends are refused, the session leaves the
/// table, and the client's next poll gets the reference's answer for a
/// session it no longer has (400, code 1 "Session ID unknown"). A control
/// client that polls gets every packet, in order, and stays open.
#[tokio::test]
async fn a_polling_client_that_stops_polling_is_cut_at_the_packet_cap() {
    const CAP: usize = 100;
    let (addr, io, room) = room_server(engine_config().max_buffered_packets(CAP)).await;
    let slow_sid = support::handshake(addr).await;
    let control_sid = support::handshake(addr).await;
    let slow = io.socket(&slow_sid).unwrap();
    let control = io.socket(&control_sid).unwrap();
    assert_eq!(io.session_count(), 2);

    // 3 rounds of 60: the control polls after each, the slow one never.
    let mut queued = Vec::new();
    for round in 0..3 {
        let mut expected = Vec::new();
        for i in 0..60 {
            let text = format!("r{round}m{i}");
            queued.push(slow.send_text(text.clone()));
            assert!(control.send_text(text.clone()));
            expected.push(format!("4{text}"));
        }
        let res = http(addr, support::get(&polling(&control_sid), &[])).await;
        res.assert_payload(expected.join("\u{1e}").as_bytes());
    }
    let accepted = queued.iter().take_while(|q| **q).count();
    assert_eq!(accepted, CAP, "queued until the cap, then refused");
    assert!(
        queued[CAP..].iter().all(|q| !q),
        "nothing queued after the cut"
    );
    assert!(slow.is_closed());
    assert_eq!(*room.closed.lock().unwrap(), [CloseReason::SlowConsumer]);

    // The slow session is gone; its next poll finds no session.
    assert!(io.socket(&slow_sid).is_none());
    assert_eq!(io.session_count(), 1);
    let res = http(addr, support::get(&polling(&slow_sid), &[])).await;
    res.assert_json_error(400, 1, "Session ID unknown", &[]);

    // The control session is untouched.
    assert!(!control.is_closed());
    assert!(control.send_text("still here"));
    let res = http(addr, support::get(&polling(&control_sid), &[])).await;
    res.assert_payload(b"4still here");
    assert_eq!(*room.closed.lock().unwrap(), [CloseReason::SlowConsumer]);
}

/// RELIABILITY 22, the byte bound: with `max_buffered_bytes` 10 000, a
/// polling client that does not poll takes two 4 KiB messages (8 KiB
/// queued); the third would take the queue to 12 KiB, so it is refused and
/// the session closes with `SlowConsumer`, well below the packet cap. The
/// next poll gets 400 "Session ID unknown" and no session is left.
#[tokio::test]
async fn a_polling_client_that_stops_polling_is_cut_at_the_byte_cap() {
    let (addr, io, room) = room_server(engine_config().max_buffered_bytes(10_000)).await;
    let sid = support::handshake(addr).await;
    let socket = io.socket(&sid).unwrap();
    let message = "x".repeat(4 << 10);
    let queued: Vec<bool> = (0..4).map(|_| socket.send_text(message.clone())).collect();
    assert_eq!(queued, [true, true, false, false]);
    assert_eq!(*room.closed.lock().unwrap(), [CloseReason::SlowConsumer]);
    assert_eq!(io.session_count(), 0);
    let res = http(addr, support::get(&polling(&sid), &[])).await;
    res.assert_json_error(400, 1, "Session ID unknown", &[]);
    // A new client is served as usual.
    let sid = support::handshake(addr).await;
    assert!(io.socket(&sid).unwrap().send_text(message.clone()));
    let res = http(addr, support::get(&polling(&sid), &[])).await;
    res.assert_payload(format!("4{message}").as_bytes());
}
