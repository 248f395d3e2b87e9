//! Packets sent to one client from many threads at once: a binary
//! packet's messages (its text, then its attachments) are never split by
//! another sender's message, whether it comes from an emit to the socket
//! or from a broadcast. The client here is as strict as socket.io-client:
//! text in the middle of a binary packet is a protocol error.

mod sio;

use std::sync::Arc;

use bytes::Bytes;
use sockio_core::engine::Str;
use sockio_core::socket::{Decoder, Packet};
use sockio_server::socketio::{SocketIo, SocketRef};
use sockio_ws::Message;
use tokio::sync::Notify;

/// Senders per kind, and packets each sends.
const THREADS: usize = 4;
const PER_THREAD: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binary_packets_stay_whole_under_concurrent_senders() {
    let io = SocketIo::builder().build();
    let connected: Arc<tokio::sync::Mutex<Option<SocketRef>>> = Arc::default();
    let ready = Arc::new(Notify::new());
    let (c, r) = (connected.clone(), ready.clone());
    io.ns("/", move |socket: SocketRef| {
        *c.try_lock().expect("one client") = Some(socket);
        r.notify_one();
    });
    let addr = sio::start(&io).await;
    let (mut ws, _) = sio::connect(addr, "/").await;
    ready.notified().await;
    let socket = connected.lock().await.clone().expect("connected");

    // Emits to the socket carry binary (two messages each); broadcasts to
    // the namespace are plain text (one message each), or binary too.
    let mut tasks = Vec::new();
    for t in 0..THREADS {
        let socket = socket.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_THREAD {
                let blob = Bytes::from(vec![t as u8; 3]);
                socket.emit("bin", (t, i, blob)).expect("emit");
                if i % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
        let io = io.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_THREAD {
                if i % 2 == 0 {
                    io.emit("text", (t, i)).expect("broadcast");
                } else {
                    io.emit("bbin", (t, i, Bytes::from_static(b"xy")))
                        .expect("broadcast");
                }
                if i % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("sender");
    }

    // Read everything with a strict decoder.
    let mut decoder = Decoder::default();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    let expected = THREADS * PER_THREAD * 2;
    let mut seen = 0;
    while seen < expected {
        let msg = tokio::time::timeout(sio::IO_TIMEOUT, ws.next())
            .await
            .expect("all packets come")
            .expect("open")
            .expect("a message");
        let decoded = match msg {
            Message::Text(t) if &*t == "2" => {
                ws.send(Message::text("3")).await.unwrap();
                continue;
            }
            Message::Text(t) => {
                let text = t.strip_prefix('4').expect("a message packet").to_owned();
                decoder.decode_text(&Str::from(text))
            }
            Message::Binary(b) => decoder.decode_binary(Bytes::from(b.to_vec())),
            other => panic!("unexpected {other:?}"),
        };
        let packet: Option<Packet> = decoded.expect("no message splits a binary packet");
        if let Some(packet) = packet {
            let name = packet.event_name().expect("an event").into_owned();
            if name != "text" {
                let args = packet.args().expect("args");
                assert_eq!(args.attachments().len(), 1, "{name}: one attachment");
            }
            *counts.entry(name).or_default() += 1;
            seen += 1;
        }
    }
    assert_eq!(counts.get("bin"), Some(&(THREADS * PER_THREAD)));
    assert_eq!(counts.get("text"), Some(&(THREADS * PER_THREAD / 2)));
    assert_eq!(counts.get("bbin"), Some(&(THREADS * PER_THREAD / 2)));
}
