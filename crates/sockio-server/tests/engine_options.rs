//! Server options through real requests: `allow_request`, the sticky
//! cookie, HTTP compression of polling responses.

use std::io::Read as _;
use std::net::SocketAddr;

use sockio_core::engine::Str;
use sockio_server::engine::{Cookie, EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Echo;

impl EngineHandler for Echo {
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        if text == "close-me" {
            socket.close();
        } else {
            socket.send_text(text);
        }
    }
}

async fn start(config: EngineServerConfig) -> SocketAddr {
    let io = EngineIo::new(config.path("/engine.io/"), Echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sockio_server::serve(
        listener,
        io.service(),
        std::future::pending(),
    ));
    addr
}

/// Sends a raw request; returns the head and the body bytes.
async fn raw(addr: SocketAddr, request: String) -> (String, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8(out[..end].to_vec()).unwrap(),
        out[end + 4..].to_vec(),
    )
}

fn get(query: &str, headers: &str) -> String {
    format!(
        "GET /engine.io/?EIO=4{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"
    )
}

fn sid_of(body: &[u8]) -> String {
    let body = String::from_utf8_lossy(body);
    let start = body.find("\"sid\":\"").unwrap() + 7;
    body[start..start + 20].to_owned()
}

#[tokio::test]
async fn allow_request_refuses_with_its_message() {
    let config = EngineServerConfig::default().allow_request(|req| {
        let ok = req.headers().contains_key("x-token");
        async move {
            if ok {
                Ok(())
            } else {
                Err("no token".to_owned())
            }
        }
    });
    let addr = start(config).await;
    let (head, body) = raw(addr, get("&transport=polling", "")).await;
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
    assert_eq!(body, br#"{"code":4,"message":"no token"}"#);
    let (head, _) = raw(addr, get("&transport=polling", "X-Token: 1\r\n")).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let (head, body) = raw(addr, get("&transport=websocket", ws)).await;
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
    assert_eq!(body, b"no token");
}

#[tokio::test]
async fn sticky_cookie_on_handshakes() {
    let addr = start(EngineServerConfig::default().cookie(Some(Cookie::default()))).await;
    let (head, body) = raw(addr, get("&transport=polling", "")).await;
    let sid = sid_of(&body);
    assert!(
        head.contains(&format!(
            "set-cookie: io={sid}; Path=/; HttpOnly; SameSite=Lax"
        )),
        "{head}"
    );
    // Not on later requests of the session.
    let (head, _) = raw(addr, format!("POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n4x")).await;
    assert!(!head.contains("set-cookie"), "{head}");
    let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(get("&transport=websocket", ws).as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tcp.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("set-cookie: io="), "{head}");
}

#[tokio::test]
async fn polling_responses_over_the_threshold_are_compressed() {
    let addr = start(EngineServerConfig::default()).await;
    let (_, body) = raw(addr, get("&transport=polling", "")).await;
    let sid = sid_of(&body);
    let big = "x".repeat(5000);
    let payload = format!("4{big}\u{1e}4small");
    let post = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    let (head, _) = raw(addr, post).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let (head, body) = raw(
        addr,
        get(
            &format!("&transport=polling&sid={sid}"),
            "Accept-Encoding: gzip, deflate\r\n",
        ),
    )
    .await;
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(body.len() < 200, "{}", body.len());
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert!(plain == payload, "decompressed body differs");
    // Below the threshold, or without Accept-Encoding, nothing changes.
    let post = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\n4hi"
    );
    raw(addr, post).await;
    let (head, body) = raw(
        addr,
        get(
            &format!("&transport=polling&sid={sid}"),
            "Accept-Encoding: gzip\r\n",
        ),
    )
    .await;
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(body, b"4hi");
}

/// A session the server closes while no poll waits keeps its close packet
/// for the next poll (as the reference does), then is gone.
#[tokio::test]
async fn forced_close_is_collected_by_the_next_poll() {
    let addr = start(EngineServerConfig::default()).await;
    let (_, body) = raw(addr, get("&transport=polling", "")).await;
    let sid = sid_of(&body);
    let post = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 9\r\n\r\n4close-me"
    );
    let (head, _) = raw(addr, post).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let (head, body) = raw(addr, get(&format!("&transport=polling&sid={sid}"), "")).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert_eq!(body, b"1");
    let (head, body) = raw(addr, get(&format!("&transport=polling&sid={sid}"), "")).await;
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert_eq!(body, br#"{"code":1,"message":"Session ID unknown"}"#);
}

/// Engine.IO protocol 3 (socket.io-client 2.x) behind `allow_eio3`:
/// length-prefixed payloads, and the client pings.
#[tokio::test]
async fn eio3_sessions_when_allowed() {
    use sockio_core::engine::EngineConfig;
    let refused = start(EngineServerConfig::default()).await;
    let (head, body) = raw(
        refused,
        get("", "").replace("EIO=4", "EIO=3&transport=polling"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert_eq!(
        body,
        br#"{"code":5,"message":"Unsupported protocol version"}"#
    );

    let addr =
        start(EngineServerConfig::default().engine(EngineConfig::default().allow_eio3(true))).await;
    let v3 = |query: &str| get(query, "").replace("EIO=4", "EIO=3");
    let (head, body) = raw(addr, v3("&transport=polling")).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let body = String::from_utf8(body).unwrap();
    let (len, packet) = body.split_once(':').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    assert!(packet.starts_with("0{\"sid\":\""), "{packet}");
    let sid = sid_of(packet.as_bytes());
    let q = format!("&transport=polling&sid={sid}");
    let post = |body: &str| {
        format!(
            "POST /engine.io/?EIO=3{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // A v3 client pings; the server answers, and echoes a message.
    let (head, _) = raw(addr, post("6:2probe6:4h\u{e9}llo")).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let (_, body) = raw(addr, v3(&q)).await;
    assert_eq!(String::from_utf8(body).unwrap(), "6:3probe6:4h\u{e9}llo");
    // A v4 request on the v3 session is refused.
    let (head, _) = raw(addr, get(&q, "")).await;
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
}

/// `per_message_deflate`: off by default (an offer is declined), on when
/// configured (the WebSocket transport compresses).
#[tokio::test]
async fn per_message_deflate_option() {
    use sockio_ws::{Config, DeflateConfig, Message};
    let offer = Config::default().deflate(DeflateConfig::enabled());
    for enabled in [false, true] {
        let addr = start(EngineServerConfig::default().per_message_deflate(enabled)).await;
        let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
        let (mut ws, connected) = sockio_ws::connect(&url, &offer).await.unwrap();
        assert_eq!(connected.deflate.is_some(), enabled);
        let Some(Ok(Message::Text(open))) = ws.next().await else {
            panic!()
        };
        assert!(open.starts_with("0{"));
        let big = format!("4{}", "compressible ".repeat(500));
        ws.send(Message::text(big.clone())).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(big));
    }
}

/// A session closed while its client, holding its `3probe`, switches to
/// WebSocket: the probe stays open until the client's `5`, then closes, so
/// the client sees the close on its new transport rather than a probe that
/// failed under a paused polling transport.
#[tokio::test]
async fn close_during_an_upgrade_lets_the_client_switch_first() {
    use sockio_ws::{Config, Message};
    let addr = start(EngineServerConfig::default()).await;
    let (_, body) = raw(addr, get("&transport=polling", "")).await;
    let sid = sid_of(&body);
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket&sid={sid}");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    ws.send(Message::text("2probe")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("3probe"));
    let post = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 9\r\n\r\n4close-me"
    );
    let (head, _) = raw(addr, post).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    // Still open: a ping is answered.
    ws.send(Message::Ping("still?".into())).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Pong("still?".into())
    );
    ws.send(Message::text("5")).await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
}
