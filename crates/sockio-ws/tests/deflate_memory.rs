//! RELIABILITY.md case 15: memory of many idle connections that negotiated
//! permessage-deflate and each exchanged one compressed message, with and
//! without context takeover. The budgets are the ones documented on
//! [`sockio_ws::DeflateConfig`].
#![allow(clippy::print_stderr)]

mod support;

use bytes::BytesMut;
use sockio_ws::frame::OpCode;
use sockio_ws::{Config, DeflateConfig, DeflateParams, Message, Role};
use support::{compress, frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 5000;

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

async fn per_connection_bytes(offer: &str, params: DeflateParams) -> usize {
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let config = config.clone();
            tokio::spawn(async move {
                let mut ws = sockio_ws::accept(tcp, &config).await.unwrap();
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_data() {
                        let _ = ws.send(m).await;
                    }
                }
            });
        }
    });
    let message =
        "{\"event\":\"tick\",\"value\":12345,\"payload\":\"".to_owned() + &"x".repeat(2000) + "\"}";
    let payload = compress(params, message.as_bytes());
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    let before = rss();
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        tcp.write_all(&frame(Role::Client, OpCode::Text, true, true, &payload))
            .await
            .unwrap();
        let mut buf = BytesMut::new();
        let mut dec = sockio_ws::Decoder::new(Role::Client, &Config::default(), Some(params));
        // Skip the 101 head, then decode the echoed message.
        loop {
            tcp.read_buf(&mut buf).await.unwrap();
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let _ = buf.split_to(end + 4);
                break;
            }
        }
        let echoed = loop {
            if let Some(m) = dec.decode(&mut buf).unwrap() {
                break m;
            }
            tcp.read_buf(&mut buf).await.unwrap();
        };
        assert_eq!(echoed, Message::text(message.clone()));
        clients.push(tcp);
    }
    // Each server task compressed and sent the echo (freeing or keeping
    // its zlib state) before the client could read it.
    let after = rss();
    drop(clients);
    after.saturating_sub(before) / CONNECTIONS
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_deflate_connections_stay_within_budget() {
    let no_takeover = per_connection_bytes(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateParams::default()
        },
    )
    .await;
    let takeover = per_connection_bytes("permessage-deflate", DeflateParams::default()).await;
    eprintln!("per connection: {no_takeover} B without context takeover, {takeover} B with");
    // Without context takeover the zlib state is freed after each message.
    assert!(no_takeover < 48 << 10, "{no_takeover}");
    // With it, the compressor and decompressor windows stay (documented
    // budget: under 400 KiB at window 15 and level 1).
    assert!(takeover < 400 << 10, "{takeover}");
}
