//! Send flags over real sockets: a volatile message is dropped when the
//! transport is not ready to write it (a WebSocket write pending, no poll
//! waiting or packets already queued for it, an upgrade under way) and
//! sent when it is; `compress: false` skips permessage-deflate for one
//! WebSocket message and HTTP compression for a polling response made only
//! of such messages.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use sockio_core::engine::{Packet, Str};
use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket, SendFlags};
use sockio_ws::{Config, Message};
use support::{Conn, get, post, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VOLATILE: SendFlags = SendFlags::new().volatile(true);
const PLAIN: SendFlags = SendFlags::new().compress(false);

/// Five thousand bytes that deflate well.
fn big(tag: &str) -> String {
    format!("{tag}:{}", "compressible ".repeat(385))
}

/// Answers the test's commands, and records what each volatile send
/// returned.
#[derive(Clone, Default)]
struct Flags {
    volatile: Arc<Mutex<Vec<bool>>>,
    /// Messages sent to every session as it opens.
    on_open: Arc<Mutex<Vec<(String, SendFlags)>>>,
}

impl Flags {
    fn volatile(&self, socket: &EngineSocket, text: &str) {
        let sent = socket.send_with(Packet::Message(Str::from(text.to_owned())), VOLATILE);
        self.volatile.lock().unwrap().push(sent);
    }

    fn recorded(&self) -> Vec<bool> {
        self.volatile.lock().unwrap().clone()
    }
}

impl EngineHandler for Flags {
    fn on_open(&self, socket: &EngineSocket) {
        for (text, flags) in self.on_open.lock().unwrap().iter() {
            assert!(socket.send_with(Packet::Message(Str::from(text.clone())), *flags));
        }
    }

    fn on_message(&self, socket: &EngineSocket, text: Str) {
        match &*text {
            // A write queued, then a volatile one behind it.
            "burst" => {
                assert!(socket.send_text("a"));
                self.volatile(socket, "dropped");
            }
            "v" => self.volatile(socket, "vol"),
            "v+" => {
                self.volatile(socket, "vol");
                socket.send_text("after");
            }
            "first-then-v" => {
                socket.send_text("first");
                self.volatile(socket, "second");
            }
            "plain" => {
                socket.send_with(Packet::Message(big("plain").into()), PLAIN);
            }
            "gz" => {
                socket.send_text(big("gz"));
            }
            "mixed" => {
                socket.send_with(Packet::Message(big("plain").into()), PLAIN);
                socket.send_text("x");
            }
            other => panic!("unexpected {other}"),
        }
    }
}

async fn start(config: EngineServerConfig, handler: Flags) -> (SocketAddr, EngineIo) {
    let engine = EngineIo::new(config, handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        engine.service(),
        std::future::pending(),
    ));
    (addr, engine)
}

async fn http(addr: SocketAddr, request: Vec<u8>) -> support::Response {
    let mut conn = Conn::connect(addr).await;
    conn.send(request).await;
    conn.response().await
}

fn poll(sid: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    get(
        &format!("/engine.io/?EIO=4&transport=polling&sid={sid}"),
        headers,
    )
}

fn send(sid: &str, body: &str) -> Vec<u8> {
    post(
        &format!("/engine.io/?EIO=4&transport=polling&sid={sid}"),
        &[],
        body.as_bytes(),
    )
}

/// Yields until `cond` holds (the server task gets to run meanwhile).
async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

/// WebSocket: a volatile message is dropped while a write is pending, and
/// sent once the writer is idle.
#[tokio::test]
async fn volatile_on_websocket() {
    let flags = Flags::default();
    let (addr, _engine) = start(server_config(), flags.clone()).await;
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!()
    };
    assert!(open.starts_with("0{"));
    ws.send(Message::text("4burst")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("4a"));
    // "a" was written (the client read it): the writer is idle.
    ws.send(Message::text("4v")).await.unwrap();
    // The next message is the kept one: the dropped one never came.
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("4vol"));
    assert_eq!(flags.recorded(), [false, true]);
}

/// Long-polling: a volatile message needs a GET waiting with nothing
/// queued for it; none is sent during an upgrade; after the upgrade the
/// idle WebSocket takes it.
#[tokio::test]
async fn volatile_on_polling_and_during_an_upgrade() {
    let flags = Flags::default();
    let (addr, engine) = start(server_config(), flags.clone()).await;
    let sid = support::handshake(addr).await;
    let esock = engine.socket(&sid).unwrap();
    assert!(!esock.writable(), "no poll waiting");
    // No GET waiting: dropped, nothing queued (the poll gets what follows).
    http(addr, send(&sid, "4v+")).await.assert_post_ok();
    http(addr, poll(&sid, &[])).await.assert_payload(b"4after");
    assert_eq!(flags.recorded(), [false]);

    // A GET waiting with nothing queued: sent.
    let waiting = tokio::spawn(http(addr, poll(&sid, &[])));
    until(|| esock.writable()).await;
    http(addr, send(&sid, "4v")).await.assert_post_ok();
    waiting.await.unwrap().assert_payload(b"4vol");
    assert_eq!(flags.recorded(), [false, true]);

    // A GET waiting, but a packet already queued for it: dropped.
    let waiting = tokio::spawn(http(addr, poll(&sid, &[])));
    until(|| esock.writable()).await;
    http(addr, send(&sid, "4first-then-v"))
        .await
        .assert_post_ok();
    waiting.await.unwrap().assert_payload(b"4first");
    assert_eq!(flags.recorded(), [false, true, false]);

    // During the upgrade: dropped, even with a GET waiting.
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket&sid={sid}");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    ws.send(Message::text("2probe")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("3probe"));
    assert!(!esock.writable(), "upgrading");
    http(addr, send(&sid, "4v")).await.assert_post_ok();
    assert_eq!(flags.recorded(), [false, true, false, false]);
    http(addr, poll(&sid, &[])).await.assert_payload(b"6");
    ws.send(Message::text("5")).await.unwrap();
    // Upgraded and idle: sent on the WebSocket.
    until(|| esock.writable()).await;
    ws.send(Message::text("4v")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("4vol"));
    assert_eq!(flags.recorded(), [false, true, false, false, true]);
}

/// Long-polling: a response made only of `compress: false` messages is
/// not gzip'd; one message that allows compression is enough to compress
/// the whole response, as in the reference.
#[tokio::test]
async fn compress_false_on_polling() {
    let (addr, _engine) = start(server_config(), Flags::default()).await;
    let sid = support::handshake(addr).await;
    let gzip = [("Accept-Encoding", "gzip")];
    http(addr, send(&sid, "4plain")).await.assert_post_ok();
    let res = http(addr, poll(&sid, &gzip)).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.body, format!("4{}", big("plain")).as_bytes());
    for command in ["4gz", "4mixed"] {
        http(addr, send(&sid, command)).await.assert_post_ok();
        let res = http(addr, poll(&sid, &gzip)).await;
        assert_eq!(res.header("content-encoding"), Some("gzip"), "{command}");
    }
}

/// WebSocket with permessage-deflate negotiated: a `compress: false`
/// message arrives with RSV1 clear, as it was sent; the next one,
/// compressed, with RSV1 set. Read on a raw TCP connection to see the bits.
#[tokio::test]
async fn compress_false_on_websocket() {
    let flags = Flags::default();
    flags.on_open.lock().unwrap().extend([
        (big("plain"), PLAIN),
        (big("deflated"), SendFlags::default()),
    ]);
    let (addr, _engine) = start(server_config().per_message_deflate(true), flags).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = support::ws_upgrade(
        "/engine.io/?EIO=4&transport=websocket",
        &[("Sec-WebSocket-Extensions", "permessage-deflate")],
    );
    tcp.write_all(&request).await.unwrap();
    let mut buf = Vec::new();
    let head = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf.drain(..end + 4).collect()).unwrap();
            break head;
        }
        read_more(&mut tcp, &mut buf).await;
    };
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-extensions: permessage-deflate"),
        "{head}"
    );
    let (byte0, open) = frame(&mut tcp, &mut buf).await;
    assert_eq!(byte0, 0x81);
    assert!(open.starts_with(b"0{"));
    let (byte0, plain) = frame(&mut tcp, &mut buf).await;
    assert_eq!(byte0, 0x81, "FIN, text, RSV1 clear");
    assert_eq!(plain, format!("4{}", big("plain")).as_bytes());
    let (byte0, deflated) = frame(&mut tcp, &mut buf).await;
    assert_eq!(byte0, 0xc1, "FIN, RSV1 (compressed), text");
    assert!(deflated.len() < 1000, "{} bytes", deflated.len());
}

async fn read_more(tcp: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.reserve(16 * 1024);
    let n = tokio::time::timeout(support::IO_TIMEOUT, tcp.read_buf(buf))
        .await
        .expect("read timed out")
        .unwrap();
    assert!(n > 0, "EOF");
}

/// One unfragmented server frame: its first byte and its payload.
async fn frame(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> (u8, Vec<u8>) {
    while buf.len() < 2 {
        read_more(tcp, buf).await;
    }
    let (len, start) = match buf[1] {
        126 => {
            while buf.len() < 4 {
                read_more(tcp, buf).await;
            }
            (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        n if n < 126 => (usize::from(n), 2),
        n => panic!("unexpected length byte {n}"),
    };
    while buf.len() < start + len {
        read_more(tcp, buf).await;
    }
    let byte0 = buf[0];
    let payload = buf[start..start + len].to_vec();
    buf.drain(..start + len);
    (byte0, payload)
}
