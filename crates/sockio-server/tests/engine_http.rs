//! Engine.IO over HTTP, end to end on real sockets: query validation,
//! handshake, invalid upgrade requests, framing violations while probing
//! an upgrade, unknown and misused sids, polling body abuse, CORS and the
//! header read timeout (RELIABILITY.md section 4, cases 1, 4, 6, 7, 9,
//! 18, 19).
//!
//! Each test starts its own server on 127.0.0.1:0 and talks raw HTTP/1.1
//! to it, asserting every status, header (but `Date`) and body byte.

mod support;

use std::time::Duration;

use sockio_server::ServeConfig;
use sockio_server::engine::{Cors, EngineServerConfig};
use support::{
    Closed, TestServer, WS_ACCEPT, chunk, engine_config, get, post, request, server_config,
    sid_of_open_packet, ws_upgrade,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Time given to the server to take up a request whose processing the
/// test cannot observe (a poll that stays pending, a POST whose body is
/// still coming) before the overlapping request is sent. The server needs
/// microseconds; this only has to outlast a scheduling hiccup.
const SETTLE: Duration = Duration::from_millis(200);

/// The reference's error codes and messages (engine.io `Server.errors`).
type Error = (u8, &'static str);
const UNKNOWN_TRANSPORT: Error = (0, "Transport unknown");
const UNKNOWN_SID: Error = (1, "Session ID unknown");
const BAD_HANDSHAKE_METHOD: Error = (2, "Bad handshake method");
const BAD_REQUEST: Error = (3, "Bad request");
const FORBIDDEN: Error = (4, "Forbidden");
const UNSUPPORTED_VERSION: Error = (5, "Unsupported protocol version");

const HANDSHAKE: &str = "/engine.io/?EIO=4&transport=polling";
const WS_HANDSHAKE: &str = "/engine.io/?EIO=4&transport=websocket";

fn polling(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

fn websocket(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=websocket&sid={sid}")
}

fn status_of(error: Error) -> u16 {
    if error == FORBIDDEN { 403 } else { 400 }
}

// ----- case 7: query validation -----

#[tokio::test]
async fn query_validation_polling() {
    let server = TestServer::start(server_config()).await;
    let cases = [
        ("GET", "?transport=polling", UNSUPPORTED_VERSION),
        ("GET", "?EIO=3&transport=polling", UNSUPPORTED_VERSION),
        ("GET", "?EIO=abc&transport=polling", UNSUPPORTED_VERSION),
        ("GET", "?EIO=4&transport=abc", UNKNOWN_TRANSPORT),
        ("GET", "?EIO=4&transport=constructor", UNKNOWN_TRANSPORT),
        ("GET", "?EIO=4&transport=__proto__", UNKNOWN_TRANSPORT),
        ("GET", "?EIO=4&transport=webtransport", UNKNOWN_TRANSPORT),
        ("GET", "?EIO=4&transport=", UNKNOWN_TRANSPORT),
        ("GET", "?EIO=4", UNKNOWN_TRANSPORT),
        // The transport is checked before the version, as in the reference.
        ("GET", "?EIO=3&transport=abc", UNKNOWN_TRANSPORT),
        ("POST", "?EIO=4&transport=polling", BAD_HANDSHAKE_METHOD),
        ("PUT", "?EIO=4&transport=polling", BAD_HANDSHAKE_METHOD),
        ("GET", "?EIO=4&transport=websocket", BAD_REQUEST),
    ];
    for (method, query, (code, message)) in cases {
        let target = format!("/engine.io/{query}");
        let body = (method != "GET").then_some(&b"4hello"[..]);
        let res = server.request(request(method, &target, &[], body)).await;
        res.assert_json_error(400, code, message, &[]);
    }
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn query_validation_upgrade() {
    let server = TestServer::start(server_config()).await;
    let cases = [
        ("?EIO=4&transport=abc", UNKNOWN_TRANSPORT),
        ("?EIO=4&transport=constructor", UNKNOWN_TRANSPORT),
        ("?EIO=4&transport=__proto__", UNKNOWN_TRANSPORT),
        ("?EIO=4&transport=webtransport", UNKNOWN_TRANSPORT),
        ("?EIO=4&transport=", UNKNOWN_TRANSPORT),
        ("?EIO=4", UNKNOWN_TRANSPORT),
        ("?transport=websocket", UNSUPPORTED_VERSION),
        ("?EIO=3&transport=websocket", UNSUPPORTED_VERSION),
        (
            "?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA",
            UNKNOWN_SID,
        ),
    ];
    for (query, (_, message)) in cases {
        let mut conn = server.connect().await;
        conn.send(ws_upgrade(&format!("/engine.io/{query}"), &[]))
            .await;
        conn.response().await.assert_upgrade_error(400, message);
        assert_eq!(conn.expect_closed().await, Closed::Eof, "{query}");
    }
    assert_eq!(server.engine.session_count(), 0);
}

// ----- case 4: invalid upgrade requests -----

/// An upgrade request for `target` with the standard headers except those
/// `replace`d (a `None` value drops the header).
fn upgrade_with(target: &str, replace: &[(&str, Option<&str>)]) -> Vec<u8> {
    let standard = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", support::WS_KEY),
        ("Sec-WebSocket-Version", "13"),
    ];
    let headers: Vec<(&str, &str)> = standard
        .iter()
        .filter_map(
            |&(name, value)| match replace.iter().find(|(n, _)| *n == name) {
                Some((_, new)) => new.map(|v| (name, v)),
                None => Some((name, value)),
            },
        )
        .collect();
    get(target, &headers)
}

/// Upgrade requests that RFC 6455 section 4.2.1 refuses, each paired with
/// what it is.
fn invalid_upgrades(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "no key",
            upgrade_with(target, &[("Sec-WebSocket-Key", None)]),
        ),
        (
            "empty key",
            upgrade_with(target, &[("Sec-WebSocket-Key", Some(""))]),
        ),
        (
            "short key (5 bytes)",
            upgrade_with(target, &[("Sec-WebSocket-Key", Some("c2hvcnQ="))]),
        ),
        (
            "key not base64",
            upgrade_with(
                target,
                &[("Sec-WebSocket-Key", Some("not base64 at all!!!!!!!"))],
            ),
        ),
        (
            "Connection: keep-alive",
            upgrade_with(target, &[("Connection", Some("keep-alive"))]),
        ),
        (
            "no Connection",
            upgrade_with(target, &[("Connection", None)]),
        ),
    ]
}

/// RELIABILITY 4: invalid WebSocket upgrade requests to the Engine.IO
/// endpoint get no 101: a bad `Sec-WebSocket-Key` (missing, empty, short,
/// not base64) or a `Connection` without `upgrade` is answered 400 "Bad
/// request" (plain body, `Connection: close`) and the connection closed;
/// `Upgrade: h2c` or no `Upgrade` is no WebSocket request at all, so the
/// websocket transport without one gets the reference's JSON error (code 3
/// "Bad request"); a POST gets code 2 "Bad handshake method". No session
/// is created, and a valid upgrade is served afterwards.
#[tokio::test]
async fn invalid_upgrade_requests() {
    let server = TestServer::start(server_config()).await;
    for (what, raw) in invalid_upgrades(WS_HANDSHAKE) {
        let mut conn = server.connect().await;
        conn.send(&raw).await;
        let res = conn.response().await;
        assert_eq!(res.status, 400, "{what}: {res:?}");
        res.assert_upgrade_error(400, "Bad request");
        assert_eq!(conn.expect_closed().await, Closed::Eof, "{what}");
    }
    let (code, message) = BAD_REQUEST;
    for (what, raw) in [
        (
            "Upgrade: h2c",
            upgrade_with(WS_HANDSHAKE, &[("Upgrade", Some("h2c"))]),
        ),
        (
            "no Upgrade",
            upgrade_with(WS_HANDSHAKE, &[("Upgrade", None)]),
        ),
    ] {
        let res = server.request(&raw).await;
        assert_eq!(res.status, 400, "{what}: {res:?}");
        res.assert_json_error(400, code, message, &[]);
    }
    let mut by_post = upgrade_with(WS_HANDSHAKE, &[]);
    by_post.splice(..3, *b"POST");
    let mut conn = server.connect().await;
    conn.send(&by_post).await;
    let (_, message) = BAD_HANDSHAKE_METHOD;
    conn.response().await.assert_upgrade_error(400, message);
    assert_eq!(conn.expect_closed().await, Closed::Eof);
    assert_eq!(server.engine.session_count(), 0);

    // The server still upgrades a valid request.
    let mut ws = server.connect().await;
    ws.send(ws_upgrade(WS_HANDSHAKE, &[])).await;
    let res = ws.response().await;
    assert_eq!(res.status, 101, "{res:?}");
    assert_eq!(res.header("sec-websocket-accept"), Some(WS_ACCEPT));
    let (opcode, open) = ws.ws_frame().await;
    assert_eq!(opcode, 1);
    let sid = sid_of_open_packet(&open);
    assert!(server.engine.socket(&sid).is_some());
    assert_eq!(server.engine.session_count(), 1);
}

/// Frames a client sends in the same write as its upgrade request reach
/// the session: hyper reads them with the request head, and the WebSocket
/// takes them over with the connection (the server unwraps hyper's
/// upgraded transport to a bare TCP stream and copies them out).
#[tokio::test]
async fn frames_sent_with_the_upgrade_request_are_read() {
    let server = TestServer::start(server_config()).await;
    let mut ws = server.connect().await;
    let mut raw = ws_upgrade(WS_HANDSHAKE, &[]);
    raw.extend(masked(0x81, b"4first"));
    raw.extend(masked(0x81, b"4second"));
    ws.send(raw).await;
    let res = ws.response().await;
    assert_eq!(res.status, 101, "{res:?}");
    let (opcode, open) = ws.ws_frame().await;
    assert_eq!(opcode, 1);
    sid_of_open_packet(&open);
    assert_eq!(ws.ws_frame().await, (1, b"4first".to_vec()));
    assert_eq!(ws.ws_frame().await, (1, b"4second".to_vec()));
    // And what comes after, on the unwrapped stream.
    ws.send(masked(0x81, b"4third")).await;
    assert_eq!(ws.ws_frame().await, (1, b"4third".to_vec()));
}

/// RELIABILITY 4, on a live polling session: an invalid upgrade request
/// for its sid is refused (400 "Bad request", connection closed) without
/// disturbing the session, which keeps polling and can still be probed
/// by a valid upgrade afterwards (the failed attempt left no upgrade in
/// progress behind).
#[tokio::test]
async fn invalid_upgrade_requests_leave_the_session_alone() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let mut cases = invalid_upgrades(&websocket(&sid));
    cases.push((
        "version 8",
        upgrade_with(&websocket(&sid), &[("Sec-WebSocket-Version", Some("8"))]),
    ));
    for (what, raw) in cases {
        let mut conn = server.connect().await;
        conn.send(&raw).await;
        let res = conn.response().await;
        assert!(matches!(res.status, 400 | 426), "{what}: {res:?}");
        assert_eq!(conn.expect_closed().await, Closed::Eof, "{what}");
        assert_polling_carries_on(&server, &sid, what).await;
    }
    let mut ws = server.connect().await;
    ws.send(ws_upgrade(&websocket(&sid), &[])).await;
    assert_eq!(ws.response().await.status, 101);
    ws.send(masked(0x81, b"2probe")).await;
    assert_eq!(ws.ws_frame().await, (1, b"3probe".to_vec()));
    assert_eq!(server.engine.session_count(), 1);
}

/// The polling session `sid` still delivers both ways after a refused or
/// failed WebSocket attempt (`what`): a POST, then a GET returning it.
async fn assert_polling_carries_on(server: &TestServer, sid: &str, what: &str) {
    let body = format!("4after {what}");
    let res = server.request(post(&polling(sid), &[], body.as_bytes()));
    res.await.assert_post_ok();
    let res = server.request(get(&polling(sid), &[])).await;
    res.assert_payload(body.as_bytes());
}

/// RELIABILITY 4: a `Sec-WebSocket-Version` other than 13 is refused with
/// 426 (or 400) and a `Sec-WebSocket-Version: 13` header naming the
/// version the server speaks (RFC 6455 section 4.4: the server MUST send
/// it), then the connection is closed.
#[tokio::test]
async fn unsupported_websocket_version_names_version_13() {
    let server = TestServer::start(server_config()).await;
    for version in ["8", "12", "14", "abc"] {
        let raw = upgrade_with(WS_HANDSHAKE, &[("Sec-WebSocket-Version", Some(version))]);
        let mut conn = server.connect().await;
        conn.send(&raw).await;
        let res = conn.response().await;
        assert!(matches!(res.status, 400 | 426), "{version}: {res:?}");
        assert_eq!(
            res.header("sec-websocket-version"),
            Some("13"),
            "{version}: {res:?}"
        );
        assert!(!res.body.is_empty(), "{version}: {res:?}");
        assert_eq!(conn.expect_closed().await, Closed::Eof, "{version}");
    }
    assert_eq!(server.engine.session_count(), 0);
}

// ----- case 9: framing violations in the probe window -----

/// A client frame (FIN and opcode in `first`, masked) with a payload under
/// 126 bytes.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let len = u8::try_from(payload.len()).expect("short payload");
    assert!(len < 126);
    let mut out = vec![first, 0x80 | len];
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// RELIABILITY 9 during the Engine.IO probe window (engine.io
/// CVE-2022-21676): a polling session starts the upgrade, probes
/// (`2probe` → `3probe`), then its WebSocket breaks RFC 6455 (reserved
/// opcode, unmasked frame, RSV2, continuation without a start, fragmented
/// ping). Each time the server sends a close frame with 1002 and drops
/// the connection, and, as in the reference, the polling session carries
/// on: a POST and a GET still work and a new upgrade can start. Finally a
/// clean upgrade completes and moves the session to the WebSocket.
#[tokio::test]
async fn framing_violations_in_the_probe_window_close_1002() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let violations: [(&str, Vec<u8>); 5] = [
        ("reserved opcode", vec![0x83, 0x80, 0x37, 0xfa, 0x21, 0x3d]),
        ("unmasked", vec![0x81, 0x01, b'x']),
        ("rsv2", masked(0xa1, b"x")),
        ("continuation without start", masked(0x80, b"x")),
        ("fragmented ping", masked(0x09, b"")),
    ];
    for (what, frame) in violations {
        let mut ws = server.connect().await;
        ws.send(ws_upgrade(&websocket(&sid), &[])).await;
        assert_eq!(ws.response().await.status, 101, "{what}");
        ws.send(masked(0x81, b"2probe")).await;
        assert_eq!(ws.ws_frame().await, (1, b"3probe".to_vec()), "{what}");
        ws.send(&frame).await;
        let (opcode, payload) = ws.ws_frame().await;
        assert_eq!(opcode, 8, "{what}: a close frame");
        assert_eq!(payload, 1002u16.to_be_bytes(), "{what}");
        assert_eq!(ws.expect_closed().await, Closed::Eof, "{what}");
        // The polling session was not harmed.
        assert!(!server.engine.socket(&sid).unwrap().is_closed(), "{what}");
        assert_polling_carries_on(&server, &sid, what).await;
    }
    // A violation before the probe is refused the same way.
    let mut ws = server.connect().await;
    ws.send(ws_upgrade(&websocket(&sid), &[])).await;
    assert_eq!(ws.response().await.status, 101);
    ws.send([0x83, 0x80, 1, 2, 3, 4]).await;
    let (opcode, payload) = ws.ws_frame().await;
    assert_eq!((opcode, payload), (8, 1002u16.to_be_bytes().to_vec()));
    assert_eq!(ws.expect_closed().await, Closed::Eof);
    // A clean upgrade still goes through.
    let mut ws = server.connect().await;
    ws.send(ws_upgrade(&websocket(&sid), &[])).await;
    assert_eq!(ws.response().await.status, 101);
    ws.send(masked(0x81, b"2probe")).await;
    assert_eq!(ws.ws_frame().await, (1, b"3probe".to_vec()));
    ws.send(masked(0x81, b"5")).await;
    ws.send(masked(0x81, b"4on websocket")).await;
    assert_eq!(ws.ws_frame().await, (1, b"4on websocket".to_vec()));
    let (code, message) = BAD_REQUEST;
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
    assert_eq!(server.engine.session_count(), 1);
}

// ----- handshake -----

#[tokio::test]
async fn polling_handshake() {
    let server = TestServer::start(server_config()).await;
    let res = server
        .request(get(&format!("{HANDSHAKE}&t=Nx1a"), &[]))
        .await;
    let sid = res.assert_handshake(&[]);
    assert_eq!(res.reason, "OK");
    assert!(server.engine.socket(&sid).is_some());
    let other = server.handshake().await;
    assert_ne!(other, sid);
    assert_eq!(server.engine.session_count(), 2);
}

#[tokio::test]
async fn websocket_session_sid_used_with_polling() {
    let server = TestServer::start(server_config()).await;
    let mut ws = server.connect().await;
    ws.send(ws_upgrade(WS_HANDSHAKE, &[])).await;
    let headers = [
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-accept", WS_ACCEPT),
    ];
    ws.response().await.assert_exact(101, &headers, b"");
    let (opcode, open) = ws.ws_frame().await;
    assert_eq!(opcode, 1, "text frame");
    let sid = sid_of_open_packet(&open);
    let expected = format!(
        r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":30000,"pingTimeout":20000,"maxPayload":1000000}}"#
    );
    assert_eq!(String::from_utf8(open).unwrap(), expected);
    // Case 18: the sid with the other transport, without upgrade.
    let (code, message) = BAD_REQUEST;
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
    let res = server.request(post(&polling(&sid), &[], b"4x")).await;
    res.assert_json_error(400, code, message, &[]);
    assert!(!server.engine.socket(&sid).unwrap().is_closed());
}

// ----- case 18: unknown and misused sids -----

#[tokio::test]
async fn unknown_sid() {
    let server = TestServer::start(server_config()).await;
    let live = server.handshake().await;
    let (code, message) = UNKNOWN_SID;
    for sid in [
        "AAAAAAAAAAAAAAAAAAAA",
        "constructor",
        "__proto__",
        "toString",
    ] {
        let res = server.request(get(&polling(sid), &[])).await;
        res.assert_json_error(400, code, message, &[]);
        let res = server.request(post(&polling(sid), &[], b"4hello")).await;
        res.assert_json_error(400, code, message, &[]);
    }
    // The live session was not disturbed.
    let res = server.request(post(&polling(&live), &[], b"4still here"));
    res.await.assert_post_ok();
    let res = server.request(get(&polling(&live), &[])).await;
    res.assert_payload(b"4still here");
}

#[tokio::test]
async fn polling_sid_used_with_websocket_without_upgrade() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let (code, message) = BAD_REQUEST;
    let res = server.request(get(&websocket(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
    let res = server.request(post(&websocket(&sid), &[], b"4x")).await;
    res.assert_json_error(400, code, message, &[]);
    // As in the reference, the mismatch does not close the session.
    let res = server.request(post(&polling(&sid), &[], b"4alive"));
    res.await.assert_post_ok();
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_payload(b"4alive");
}

#[tokio::test]
async fn concurrent_gets_close_the_session() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let mut first = server.connect().await;
    first.send(get(&polling(&sid), &[])).await;
    tokio::time::sleep(SETTLE).await;
    let second = server.request(get(&polling(&sid), &[])).await;
    second.assert_exact(400, &[("content-length", "0")], b"");
    // The waiting poll gets the close packet.
    first.response().await.assert_payload(b"1");
    let (code, message) = UNKNOWN_SID;
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn concurrent_posts_close_the_session() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let mut first = server.connect().await;
    let chunked = [("Transfer-Encoding", "chunked")];
    first
        .send(request("POST", &polling(&sid), &chunked, None))
        .await;
    first.send(chunk(b"4par")).await;
    tokio::time::sleep(SETTLE).await;
    let second = server.request(post(&polling(&sid), &[], b"4x")).await;
    second.assert_exact(400, &[("content-length", "0")], b"");
    let (code, message) = UNKNOWN_SID;
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
    assert_eq!(server.engine.session_count(), 0);
    // The first POST ends with its session, its body unfinished: 400, and
    // its connection is dropped (the reference destroys it).
    let res = first.response().await;
    assert_eq!(res.status, 400, "{res:?}");
    assert_eq!(res.header("connection"), Some("close"));
    first.expect_closed().await;
}

/// The reference's `verify` refuses a request whose protocol (EIO, absent
/// meaning 3) is not its session's: 400 code 3 (PROTOCOL_MISMATCH).
#[tokio::test]
async fn sid_with_another_protocol_version() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let (code, message) = BAD_REQUEST;
    for query in ["transport=polling", "EIO=3&transport=polling"] {
        let target = format!("/engine.io/?{query}&sid={sid}");
        let res = server.request(post(&target, &[], b"4x")).await;
        res.assert_json_error(400, code, message, &[]);
    }
}

// ----- case 19: polling body abuse -----

fn small_payload_config() -> EngineServerConfig {
    server_config().engine(engine_config().max_payload(1000))
}

#[tokio::test]
async fn post_over_max_payload_with_content_length() {
    let server = TestServer::start(small_payload_config()).await;
    let sid = server.handshake().await;
    // Only the head: the 413 must come without the body being read.
    let mut conn = server.connect().await;
    let length = [("Content-Length", "1001"), ("Content-Type", "text/plain")];
    conn.send(request("POST", &polling(&sid), &length, None))
        .await;
    let res = conn.response().await;
    res.assert_exact(413, &[("content-length", "0")], b"");
    assert_eq!(res.reason, "Payload Too Large");
    // The body is never sent: the drain gives up and the connection goes.
    assert_eq!(conn.expect_closed().await, Closed::Eof);
    // Exactly max_payload is accepted, and the session lived on.
    let mut body = b"4".to_vec();
    body.resize(1000, b'x');
    let res = server.request(post(&polling(&sid), &[], &body));
    res.await.assert_post_ok();
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_payload(&body);
}

#[tokio::test]
async fn post_over_max_payload_chunked() {
    let server = TestServer::start(small_payload_config()).await;
    let sid = server.handshake().await;
    let mut conn = server.connect().await;
    let chunked = [("Transfer-Encoding", "chunked")];
    conn.send(request("POST", &polling(&sid), &chunked, None))
        .await;
    let mut piece = b"4".to_vec();
    piece.resize(600, b'y');
    conn.send(chunk(&piece)).await;
    conn.send(chunk(&piece)).await;
    // No last chunk: the 413 comes while the body is still streaming; the
    // rest is drained in the background (so a client still sending is not
    // reset), and the connection dropped once nothing more comes.
    conn.response()
        .await
        .assert_exact(413, &[("content-length", "0")], b"");
    assert_eq!(conn.expect_closed().await, Closed::Eof);
    // As in the reference, the session stays open.
    let res = server.request(post(&polling(&sid), &[], b"4after"));
    res.await.assert_post_ok();
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_payload(b"4after");
}

#[tokio::test]
async fn invalid_payloads_close_the_session() {
    let server = TestServer::start(server_config()).await;
    let payloads: [&[u8]; 8] = [
        b"abc",
        b"9x",
        b"4a\x1e\x1e4b",
        b"bnot-base64!",
        b"4\xe2\x82",
        b"4ok\x1e4\xe2\x82",
        b"",
        b"4ok\x1e",
    ];
    let (code, message) = UNKNOWN_SID;
    for payload in payloads {
        let sid = server.handshake().await;
        let mut conn = server.connect().await;
        conn.send(post(&polling(&sid), &[], payload)).await;
        let close = [("connection", "close"), ("content-length", "0")];
        conn.response().await.assert_exact(400, &close, b"");
        assert_eq!(conn.expect_closed().await, Closed::Eof, "{payload:?}");
        let res = server.request(get(&polling(&sid), &[])).await;
        res.assert_json_error(400, code, message, &[]);
    }
    assert_eq!(server.engine.session_count(), 0);
}

/// engine.io 6.6 `onDataRequest`: `application/octet-stream` on protocol 4
/// is "invalid content": 400, and the session closed.
#[tokio::test]
async fn octet_stream_post_on_eio4_closes_the_session() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let octets = [("Content-Type", "application/octet-stream")];
    let res = server
        .request(post(&polling(&sid), &octets, b"4hello"))
        .await;
    assert_eq!((res.status, &res.body[..]), (400, &b""[..]), "{res:?}");
    let (code, message) = UNKNOWN_SID;
    let res = server.request(get(&polling(&sid), &[])).await;
    res.assert_json_error(400, code, message, &[]);
}

#[tokio::test]
async fn valid_posts_echo_on_the_next_get() {
    let server = TestServer::start(server_config()).await;
    let sid = server.handshake().await;
    let unicode = "4h\u{e9}llo \u{20ac}\u{1f600}".as_bytes();
    let cases: [(&[u8], &[u8]); 4] = [
        (b"4hello\x1e4world", b"4hello\x1e4world"),
        (b"bAQIDBA==", b"bAQIDBA=="),
        (unicode, unicode),
        // A noop is no message.
        (b"4text\x1ebAQIDBA==\x1e6", b"4text\x1ebAQIDBA=="),
    ];
    for (sent, echoed) in cases {
        let res = server.request(post(&polling(&sid), &[], sent));
        res.await.assert_post_ok();
        let res = server.request(get(&polling(&sid), &[])).await;
        res.assert_payload(echoed);
    }
    // Keep-alive: a POST then a GET on one connection.
    let mut conn = server.connect().await;
    conn.send(post(&polling(&sid), &[], b"4again")).await;
    conn.response().await.assert_post_ok();
    conn.send(get(&polling(&sid), &[])).await;
    conn.response().await.assert_payload(b"4again");
}

// ----- case 6: CORS and cross-site hijack -----

fn allowlist_config() -> EngineServerConfig {
    server_config().cors(Cors::Origins {
        origins: vec!["http://good.test".into()],
        credentials: true,
    })
}

const GOOD: [(&str, &str); 1] = [("Origin", "http://good.test")];
const EVIL: [(&str, &str); 1] = [("Origin", "http://evil.test")];
const ALLOW_METHODS: (&str, &str) = (
    "access-control-allow-methods",
    "GET,HEAD,PUT,PATCH,POST,DELETE",
);
const GOOD_CORS: [(&str, &str); 3] = [
    ("access-control-allow-origin", "http://good.test"),
    ("access-control-allow-credentials", "true"),
    ("vary", "Origin"),
];

#[tokio::test]
async fn cors_allowlist_refuses_foreign_origins() {
    let server = TestServer::start(allowlist_config()).await;
    let (code, message) = FORBIDDEN;
    let vary = [("vary", "Origin")];
    let res = server.request(get(HANDSHAKE, &EVIL)).await;
    res.assert_json_error(403, code, message, &vary);
    assert_eq!(res.reason, "Forbidden");
    // Near misses are foreign too.
    for origin in ["http://good.test.evil.test", "https://good.test", "null"] {
        let res = server.request(get(HANDSHAKE, &[("Origin", origin)])).await;
        res.assert_json_error(403, code, message, &vary);
    }
    let mut conn = server.connect().await;
    conn.send(ws_upgrade(WS_HANDSHAKE, &EVIL)).await;
    conn.response().await.assert_upgrade_error(403, message);
    assert_eq!(conn.expect_closed().await, Closed::Eof);
    assert_eq!(server.engine.session_count(), 0);
    // Nor may a foreign page use, or upgrade, an existing session.
    let sid = server.handshake().await;
    let res = server.request(post(&polling(&sid), &EVIL, b"4x")).await;
    res.assert_json_error(403, code, message, &vary);
    let res = server.request(ws_upgrade(&websocket(&sid), &EVIL)).await;
    res.assert_upgrade_error(status_of(FORBIDDEN), message);
    assert!(!server.engine.socket(&sid).unwrap().is_closed());
}

#[tokio::test]
async fn cors_allowlist_echoes_the_allowed_origin() {
    let server = TestServer::start(allowlist_config()).await;
    let sid = server
        .request(get(HANDSHAKE, &GOOD))
        .await
        .assert_handshake(&GOOD_CORS);
    let res = server.request(post(&polling(&sid), &GOOD, b"4x")).await;
    let ok = [("content-type", "text/html"), ("content-length", "2")];
    res.assert_exact(200, &[&ok[..], &GOOD_CORS].concat(), b"ok");
    let res = server.request(get(&polling(&sid), &GOOD)).await;
    let payload = [
        ("content-type", "text/plain; charset=UTF-8"),
        ("content-length", "2"),
    ];
    res.assert_exact(200, &[&payload[..], &GOOD_CORS].concat(), b"4x");
    // Errors carry the CORS headers too, so that the page can read them.
    let (code, message) = UNKNOWN_SID;
    let res = server.request(get(&polling("nope"), &GOOD)).await;
    res.assert_json_error(400, code, message, &GOOD_CORS);
    // Non-browser clients (no Origin) are served, without allow headers.
    let res = server.request(get(HANDSHAKE, &[])).await;
    res.assert_handshake(&[("vary", "Origin")]);
    // The upgrade from the allowed origin goes through.
    let mut conn = server.connect().await;
    conn.send(ws_upgrade(WS_HANDSHAKE, &GOOD)).await;
    assert_eq!(conn.response().await.status, 101);
    // Preflight.
    let preflight = request(
        "OPTIONS",
        HANDSHAKE,
        &[
            GOOD[0],
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    );
    let res = server.request(&preflight).await;
    // The asked-for headers are reflected, as the reference's `cors` does.
    let allow = [
        ALLOW_METHODS,
        ("access-control-allow-headers", "content-type"),
        ("vary", "Access-Control-Request-Headers"),
    ];
    res.assert_exact(204, &[&allow[..], &GOOD_CORS].concat(), b"");
    // A foreign preflight gets no allow-origin: the browser stops there.
    let res = server.request(request("OPTIONS", HANDSHAKE, &EVIL, None));
    let not_asked = [
        ALLOW_METHODS,
        ("access-control-allow-headers", "content-type"),
    ];
    res.await
        .assert_exact(204, &[&not_asked[..], &[("vary", "Origin")]].concat(), b"");
}

/// The reference's `cors` middleware (no `allowedHeaders` configured)
/// reflects `Access-Control-Request-Headers`, so that a browser client with
/// `extraHeaders` (e.g. `Authorization`) can poll.
#[tokio::test]
async fn cors_preflight_allows_the_requested_headers() {
    let server = TestServer::start(allowlist_config()).await;
    let asked = ("Access-Control-Request-Headers", "authorization,x-token");
    let preflight = request("OPTIONS", HANDSHAKE, &[GOOD[0], asked], None);
    let res = server.request(&preflight).await;
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(
        res.header("access-control-allow-headers"),
        Some("authorization,x-token"),
        "{res:?}"
    );
}

#[tokio::test]
async fn cors_any_is_a_wildcard_without_credentials() {
    let server = TestServer::start(server_config().cors(Cors::Any)).await;
    let any = [("access-control-allow-origin", "*")];
    for origin in [EVIL, GOOD] {
        let res = server.request(get(HANDSHAKE, &origin)).await;
        res.assert_handshake(&any);
    }
    let asked = ("Access-Control-Request-Method", "POST");
    let preflight = request("OPTIONS", HANDSHAKE, &[EVIL[0], asked], None);
    let allow = [
        ALLOW_METHODS,
        ("access-control-allow-headers", "content-type"),
        any[0],
    ];
    let res = server.request(&preflight).await;
    res.assert_exact(204, &allow, b"");
}

// ----- case 1: slowloris -----

/// 500 connections send one header byte per second. In virtual time (the
/// runtime is paused and auto-advances when idle), each is closed by the
/// 5 s header read timeout, while a control client completes a handshake
/// every 250 ms, each in under 100 ms (in fact in no virtual time at all).
#[tokio::test(start_paused = true)]
async fn slowloris_connections_are_closed_by_the_header_timeout() {
    const SLOW: usize = 500;
    const TIMEOUT: Duration = Duration::from_secs(5);
    let server = TestServer::start_with(
        server_config(),
        ServeConfig::default().header_read_timeout(TIMEOUT),
    )
    .await;
    let addr = server.addr;
    let request: &'static [u8] =
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let started = Instant::now();

    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..SLOW {
        slow.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            // Without Nagle's algorithm each byte leaves at once, instead of
            // waiting (in real time) for the previous one's ACK.
            stream.set_nodelay(true).expect("nodelay");
            let connected = Instant::now();
            let mut sent = 0;
            let mut buf = [0u8; 256];
            loop {
                if stream.write_all(&request[sent..=sent]).await.is_err() {
                    return (connected.elapsed(), sent, Closed::Reset);
                }
                sent += 1;
                assert!(sent < request.len(), "the whole request got through");
                tokio::select! {
                    read = stream.read(&mut buf) => {
                        let closed = match read {
                            Ok(0) => Closed::Eof,
                            Ok(n) => panic!("server sent {:?}", &buf[..n]),
                            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                                Closed::Reset
                            }
                            Err(e) => panic!("read: {e}"),
                        };
                        return (connected.elapsed(), sent, closed);
                    }
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
    }

    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let control = tokio::spawn(async move {
        let mut runs = Vec::new();
        while !*done_rx.borrow_and_update() {
            let start = Instant::now();
            support::handshake(addr).await;
            runs.push((start - started, start.elapsed()));
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = done_rx.changed() => {}
            }
        }
        runs
    });

    let (mut eof, mut reset) = (0, 0);
    while let Some(outcome) = slow.join_next().await {
        let (lifetime, sent, how) = outcome.expect("slow client panicked");
        assert!(
            lifetime >= TIMEOUT && lifetime < TIMEOUT + Duration::from_secs(1),
            "closed after {lifetime:?}"
        );
        // A byte at 0 s, 1 s, … 4 s, and maybe one at 5 s just before the
        // server's timer fires.
        assert!((5..=6).contains(&sent), "{sent} bytes sent");
        match how {
            Closed::Eof => eof += 1,
            Closed::Reset => reset += 1,
        }
    }
    assert_eq!(eof + reset, SLOW, "{eof} closed, {reset} reset");
    let total = started.elapsed();
    assert!(total < TIMEOUT + Duration::from_secs(1), "{total:?}");
    done_tx.send(true).expect("control alive");
    let runs = control.await.expect("control client panicked");
    // Throughout: from the start until the slow connections were closed.
    assert_eq!(runs.first().map(|r| r.0), Some(Duration::ZERO), "{runs:?}");
    assert!(runs.len() >= 20, "{runs:?}");
    assert!(
        runs.last().unwrap().0 >= TIMEOUT - Duration::from_millis(250),
        "{runs:?}"
    );
    for (_, latency) in &runs {
        assert!(*latency < Duration::from_millis(100), "{runs:?}");
    }
    // The server still serves after the flood.
    let sid = server.handshake().await;
    assert!(server.engine.socket(&sid).is_some());
}

// ----- issue 13, defect 3: POST bodies that never finish -----

/// A POST announcing 1000 bytes that sends 10 and stalls. The body the
/// handshake's session is posting to must not outlive that session.
async fn stalled_post(server: &TestServer, sid: &str) -> support::Conn {
    let mut conn = server.connect().await;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4hello wor",
        polling(sid)
    );
    conn.send(head).await;
    conn
}

/// Sessions whose POST body stalls are closed at their ping timeout, and
/// the POST ends with them (400, `Connection: close`, the connection
/// dropped), in virtual time: 300 stalled bodies, each ended within the
/// heartbeat of its session rather than held open.
#[tokio::test(start_paused = true)]
async fn a_stalled_post_body_ends_with_its_session() {
    const STALLED: usize = 300;
    let interval = Duration::from_millis(300);
    let timeout = Duration::from_millis(200);
    let config = server_config().engine(
        support::engine_config()
            .ping_interval(interval)
            .ping_timeout(timeout),
    );
    let server = TestServer::start(config).await;
    let started = Instant::now();
    let mut posts = Vec::new();
    for _ in 0..STALLED {
        let sid = server.handshake().await;
        posts.push(stalled_post(&server, &sid).await);
    }
    let mut ended = tokio::task::JoinSet::new();
    for mut conn in posts {
        ended.spawn(async move {
            let res = conn.response().await;
            let closed = conn.expect_closed().await;
            (res, closed, Instant::now())
        });
    }
    while let Some(outcome) = ended.join_next().await {
        let (res, _closed, at) = outcome.expect("client panicked");
        assert_eq!(res.status, 400, "{res:?}");
        assert_eq!(res.header("connection"), Some("close"));
        // The session's ping timeout (interval + timeout), with the slack
        // a late timer may take.
        assert!(
            at - started <= interval + timeout + Duration::from_millis(100),
            "{:?}",
            at - started
        );
    }
    assert_eq!(server.engine.session_count(), 0);
}

/// A body still incomplete after the body timeout is ended the same way,
/// however long its session lives.
#[tokio::test(start_paused = true)]
async fn a_post_body_gets_the_body_timeout() {
    // Shorter than the test client's read guard, which runs on the same
    // virtual clock.
    let limit = Duration::from_secs(5);
    let server = TestServer::start(server_config().body_timeout(limit)).await;
    let sid = server.handshake().await;
    let started = Instant::now();
    let mut conn = stalled_post(&server, &sid).await;
    let res = conn.response().await;
    let elapsed = started.elapsed();
    assert_eq!(res.status, 400, "{res:?}");
    assert_eq!(res.header("connection"), Some("close"));
    conn.expect_closed().await;
    assert!(
        elapsed >= limit && elapsed < limit + Duration::from_millis(100),
        "{elapsed:?}"
    );
    // The session failed with the POST.
    assert!(server.engine.socket(&sid).is_none());
}

// ----- issue 13, defect 5 and RELIABILITY case 2: request heads -----

/// A polling handshake whose head is exactly `len` bytes, padded with one
/// `X-Pad` header (as [`ServeConfig::max_head`] counts: request line,
/// `name: value\r\n` per field, final CRLF).
fn handshake_of_len(len: usize) -> Vec<u8> {
    let base = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: localhost\r\nX-Pad: \r\n\r\n");
    let pad = len.checked_sub(base.len()).expect("head too short");
    let head = format!(
        "GET {HANDSHAKE} HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(pad)
    );
    assert_eq!(head.len(), len);
    head.into_bytes()
}

/// Sends a head and reads the status, or `None` when the server dropped the
/// connection without answering.
async fn head_status(server: &TestServer, head: &[u8]) -> Option<u16> {
    let mut conn = server.connect().await;
    conn.try_send(head).await.ok()?;
    Some(conn.response().await.status)
}

/// The documented limit is the one enforced: a head of exactly
/// `max_head` bytes is served, one byte more is refused 431 with
/// `Connection: close`, and so is everything larger (100 KiB, which hyper
/// alone let through, and 1 MiB).
#[tokio::test]
async fn the_head_limit_is_exact() {
    let limit = 64 << 10;
    let server =
        TestServer::start_with(server_config(), ServeConfig::default().max_head(limit)).await;
    let mut conn = server.connect().await;
    conn.send(handshake_of_len(limit)).await;
    conn.response().await.assert_handshake(&[]);

    let mut conn = server.connect().await;
    conn.send(handshake_of_len(limit + 1)).await;
    let res = conn.response().await;
    assert_eq!(res.status, 431, "{res:?}");
    assert_eq!(res.header("connection"), Some("close"));
    conn.expect_closed().await;

    for len in [limit + 1000, 100 << 10, 1 << 20] {
        // Past hyper's buffer the server may stop reading and reset before
        // the whole head is written: either way nothing is served.
        let status = head_status(&server, &handshake_of_len(len)).await;
        assert!(matches!(status, Some(431) | None), "{len}: {status:?}");
    }
    // A smaller limit is exact too.
    let server =
        TestServer::start_with(server_config(), ServeConfig::default().max_head(10_000)).await;
    assert_eq!(
        head_status(&server, &handshake_of_len(10_000)).await,
        Some(200)
    );
    assert_eq!(
        head_status(&server, &handshake_of_len(10_001)).await,
        Some(431)
    );
    // 500 header fields (over hyper's 100) are refused as well.
    let mut head = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..500 {
        head.push_str(&format!("X-H{i}: v\r\n"));
    }
    head.push_str("\r\n");
    assert_eq!(head_status(&server, head.as_bytes()).await, Some(431));
    assert_eq!(server.engine.session_count(), 1);
}
