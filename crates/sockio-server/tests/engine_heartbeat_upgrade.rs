//! Engine.IO sessions through the real server: heartbeats on a virtual
//! clock (RELIABILITY.md case 20), the upgrade race and the upgrade timeout
//! (case 21).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sockio_core::engine::{CloseReason, EngineConfig, Str};
use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_ws::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PACKETS: usize = 10_000;

/// Echoes messages; on `go`, sends `PACKETS` numbered messages from a task
/// that yields often, so they interleave with whatever the client does.
#[derive(Default, Clone)]
struct Handler {
    closes: Arc<Mutex<Vec<(CloseReason, tokio::time::Instant)>>>,
}

impl EngineHandler for Handler {
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        if text == "go" {
            let socket = socket.clone();
            tokio::spawn(async move {
                for i in 0..PACKETS {
                    assert!(socket.send_text(i.to_string()), "session closed at {i}");
                    if i % 50 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        } else {
            socket.send_text(text);
        }
    }

    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        socket.send_binary(data);
    }

    fn on_close(&self, _: &EngineSocket, reason: CloseReason) {
        self.closes
            .lock()
            .unwrap()
            .push((reason, tokio::time::Instant::now()));
    }
}

/// The official suites' heartbeat: pingInterval 300 ms, pingTimeout 200 ms.
fn suite_timing() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
}

async fn start(engine: EngineConfig) -> (SocketAddr, EngineIo, Handler) {
    let handler = Handler::default();
    let config = EngineServerConfig::default()
        .engine(engine)
        .path("/engine.io/");
    let io = EngineIo::new(config, handler.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = io.service();
    tokio::spawn(sockio_server::serve(
        listener,
        service,
        std::future::pending(),
    ));
    (addr, io, handler)
}

/// One HTTP/1.1 request on its own connection; returns status and body.
async fn http(addr: SocketAddr, method: &str, query: &str, body: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} /engine.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, body.to_owned())
}

async fn handshake(addr: SocketAddr) -> String {
    let (status, body) = http(addr, "GET", "", "").await;
    assert_eq!(status, 200, "{body}");
    let sid_start = body.find("\"sid\":\"").unwrap() + 7;
    body[sid_start..sid_start + 20].to_owned()
}

fn packets(body: &str) -> Vec<&str> {
    body.split('\u{1e}').collect()
}

/// Case 20: a client that never answers is closed "ping timeout" exactly
/// pingInterval + pingTimeout after the handshake, on a virtual clock; its
/// session and timers are gone.
#[tokio::test(start_paused = true)]
async fn silent_polling_client_times_out() {
    let engine = suite_timing();
    let (addr, io, handler) = start(engine).await;
    let opened = tokio::time::Instant::now();
    let sid = handshake(addr).await;
    assert_eq!(io.session_count(), 1);
    while handler.closes.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (reason, at) = handler.closes.lock().unwrap()[0];
    assert_eq!(reason, CloseReason::PingTimeout);
    let elapsed = at - opened;
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed <= Duration::from_millis(550),
        "{elapsed:?}"
    );
    assert_eq!(io.session_count(), 0);
    let (status, body) = http(addr, "GET", &format!("&sid={sid}"), "").await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#)
    );
}

/// Case 20: a client answering every ping (and sending an unsolicited pong
/// first) stays connected for many intervals.
#[tokio::test(start_paused = true)]
async fn answering_client_stays() {
    let engine = suite_timing();
    let (addr, io, handler) = start(engine).await;
    let sid = handshake(addr).await;
    let q = format!("&sid={sid}");
    assert_eq!(http(addr, "POST", &q, "3").await, (200, "ok".to_owned()));
    for _ in 0..10 {
        assert_eq!(http(addr, "GET", &q, "").await, (200, "2".to_owned()));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(http(addr, "POST", &q, "3").await, (200, "ok".to_owned()));
    }
    assert_eq!(io.session_count(), 1);
    assert!(handler.closes.lock().unwrap().is_empty());
}

/// RELIABILITY 20: a pong that comes after pingInterval + pingTimeout is
/// too late. The client gets the ping (300 ms after the handshake) and
/// answers only at 600 ms: the session was closed "ping timeout" at 500 ms
/// (not revived by the late pong, not closed only when it came), the late
/// POST and the next poll find no session, and no session is left.
#[tokio::test(start_paused = true)]
async fn late_pong_on_polling_does_not_save_the_session() {
    let engine = suite_timing();
    let (addr, io, handler) = start(engine).await;
    let opened = tokio::time::Instant::now();
    let sid = handshake(addr).await;
    let q = format!("&sid={sid}");
    // The poll waits for the ping.
    assert_eq!(http(addr, "GET", &q, "").await, (200, "2".to_owned()));
    let pinged = opened.elapsed();
    assert!(
        pinged >= Duration::from_millis(300) && pinged <= Duration::from_millis(350),
        "{pinged:?}"
    );
    assert!(handler.closes.lock().unwrap().is_empty());
    tokio::time::sleep_until(opened + Duration::from_millis(600)).await;
    let unknown = (
        400,
        r#"{"code":1,"message":"Session ID unknown"}"#.to_owned(),
    );
    assert_eq!(http(addr, "POST", &q, "3").await, unknown);
    let closes = handler.closes.lock().unwrap().clone();
    assert_eq!(closes.len(), 1, "{closes:?}");
    let (reason, at) = closes[0];
    assert_eq!(reason, CloseReason::PingTimeout);
    let elapsed = at - opened;
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed <= Duration::from_millis(550),
        "{elapsed:?}"
    );
    assert_eq!(http(addr, "GET", &q, "").await, unknown);
    assert_eq!(io.session_count(), 0);
}

/// RELIABILITY 20: unsolicited pongs are harmless and do not switch the
/// heartbeat off. A client sends three pongs nobody asked for (one POST,
/// 100 ms after the handshake): the POST is accepted and the session stays
/// open; the server still pings (within pingInterval of the last pong) and,
/// when that ping goes unanswered, closes "ping timeout" pingTimeout later.
#[tokio::test(start_paused = true)]
async fn unsolicited_pongs_leave_the_heartbeat_running() {
    let engine = suite_timing();
    let (addr, io, handler) = start(engine).await;
    let opened = tokio::time::Instant::now();
    let sid = handshake(addr).await;
    let q = format!("&sid={sid}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        http(addr, "POST", &q, "3\u{1e}3\u{1e}3").await,
        (200, "ok".to_owned())
    );
    assert_eq!(io.session_count(), 1);
    assert!(handler.closes.lock().unwrap().is_empty());
    // The next ping: at 300 ms (the schedule kept) or 400 ms (counted
    // from the pong), no later.
    assert_eq!(http(addr, "GET", &q, "").await, (200, "2".to_owned()));
    let pinged = opened.elapsed();
    assert!(
        pinged >= Duration::from_millis(300) && pinged <= Duration::from_millis(450),
        "{pinged:?}"
    );
    assert!(handler.closes.lock().unwrap().is_empty());
    // Unanswered: closed pingTimeout after that ping.
    while handler.closes.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (reason, at) = handler.closes.lock().unwrap()[0];
    assert_eq!(reason, CloseReason::PingTimeout);
    let after_ping = at - (opened + pinged);
    assert!(
        after_ping >= Duration::from_millis(150) && after_ping <= Duration::from_millis(250),
        "{after_ping:?}"
    );
    assert_eq!(io.session_count(), 0);
}

/// Case 20 over WebSocket: pings arrive every interval; once the client
/// stops answering, the server closes the connection.
#[tokio::test(start_paused = true)]
async fn websocket_heartbeat() {
    let engine = suite_timing();
    let (addr, io, handler) = start(engine).await;
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!()
    };
    assert!(open.starts_with("0{"), "{open}");
    assert!(open.contains(r#""upgrades":[]"#), "{open}");
    for _ in 0..3 {
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("2"));
        ws.send(Message::text("3")).await.unwrap();
    }
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("2"));
    // No answer: the server closes.
    match ws.next().await {
        Some(Ok(Message::Close(_))) | None => {}
        Some(Ok(other)) => panic!("{other:?}"),
        Some(Err(e)) => panic!("{e}"),
    }
    while ws.next().await.is_some() {}
    assert_eq!(
        handler.closes.lock().unwrap()[0].0,
        CloseReason::PingTimeout
    );
    assert_eq!(io.session_count(), 0);
}

/// Case 21: 10 000 numbered packets emitted while the client upgrades
/// arrive exactly once and in order across the switch; afterwards polling
/// requests and a second WebSocket on the sid are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_race_loses_nothing() {
    // Room for every packet, should the client poll slowly.
    let (addr, _io, _) = start(EngineConfig::default().max_buffered_packets(2 * PACKETS)).await;
    let sid = handshake(addr).await;
    let q = format!("&sid={sid}");
    assert_eq!(http(addr, "POST", &q, "4go").await, (200, "ok".to_owned()));
    let mut got: Vec<usize> = Vec::new();
    let take = |got: &mut Vec<usize>, p: &str| {
        if let Some(n) = p.strip_prefix('4') {
            got.push(n.parse().unwrap());
        } else {
            assert!(p == "6" || p == "2", "unexpected packet {p:?}");
        }
    };
    // Poll a little first, so the upgrade lands mid-stream.
    let (_, body) = http(addr, "GET", &q, "").await;
    packets(&body).into_iter().for_each(|p| take(&mut got, p));
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket&sid={sid}");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    // A poll in flight while probing.
    let poll = tokio::spawn({
        let q = q.clone();
        async move { http(addr, "GET", &q, "").await }
    });
    ws.send(Message::text("2probe")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("3probe"));
    let (status, body) = poll.await.unwrap();
    assert_eq!(status, 200);
    packets(&body).into_iter().for_each(|p| take(&mut got, p));
    ws.send(Message::text("5")).await.unwrap();
    // Packets are handled in order: once "sync" comes back the upgrade is
    // done on the server too.
    ws.send(Message::text("4sync")).await.unwrap();
    let mut synced = false;
    while got.len() < PACKETS || !synced {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) if &*t == "4sync" => synced = true,
            Message::Text(t) => take(&mut got, &t),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, (0..PACKETS).collect::<Vec<_>>());
    // The old transport and a second WebSocket are refused.
    let (status, _) = http(addr, "GET", &q, "").await;
    assert_eq!(status, 400);
    let (mut second, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    assert!(matches!(
        second.next().await,
        Some(Ok(Message::Close(_))) | None
    ));
    ws.send(Message::text("4still here")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("4still here")
    );
}

/// Case 21: a probe that never completes is closed after upgradeTimeout;
/// the session goes on polling.
#[tokio::test(start_paused = true)]
async fn unfinished_upgrade_times_out() {
    let engine = EngineConfig::default()
        .ping_interval(Duration::from_secs(60))
        .ping_timeout(Duration::from_secs(60))
        .upgrade_timeout(Duration::from_secs(1));
    let (addr, io, _) = start(engine).await;
    let sid = handshake(addr).await;
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket&sid={sid}");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let started = tokio::time::Instant::now();
    assert!(matches!(
        ws.next().await,
        Some(Ok(Message::Close(_))) | None
    ));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let q = format!("&sid={sid}");
    assert_eq!(
        http(addr, "POST", &q, "4after").await,
        (200, "ok".to_owned())
    );
    assert_eq!(http(addr, "GET", &q, "").await, (200, "4after".to_owned()));
    assert_eq!(io.session_count(), 1);
}
