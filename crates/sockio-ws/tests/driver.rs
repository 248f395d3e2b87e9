//! The tokio driver over real sockets: handshake statuses, close codes
//! sent for each kind of bad input, and that the connection is gone
//! afterwards (RELIABILITY.md section 4, cases 2 to 5 and 9 to 16).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use sockio_ws::frame::{FrameHeader, OpCode};
use sockio_ws::{CloseFrame, Config, DeflateConfig, DeflateParams, Message, Role};
use support::{client_frame, compress, frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Guards every wait on the network so a broken test fails, not hangs.
const GUARD: Duration = Duration::from_secs(20);

/// An echo server (with the `!close CODE` command) on an ephemeral port.
async fn server(config: Config) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let config = config.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = sockio_ws::accept(tcp, &config).await else {
                    return;
                };
                while let Some(msg) = ws.next().await {
                    // After a violation `next` reads and drops what the
                    // peer still sends, then ends: a peer still writing
                    // gets the close frame and a FIN, not a reset.
                    let Ok(msg) = msg else { continue };
                    match msg {
                        Message::Text(t) if t.starts_with("!close ") => {
                            let code: u16 = t[7..].parse().unwrap();
                            let _ = ws.close(Some(CloseFrame::new(code, "bye"))).await;
                        }
                        m if m.is_data() => {
                            let _ = ws.send(m).await;
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    addr
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Sends `raw` and returns the whole response up to EOF (error paths) or
/// the head (101), plus the socket.
async fn send_head(addr: SocketAddr, raw: &str) -> (String, TcpStream, BytesMut) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = BytesMut::new();
    tokio::time::timeout(GUARD, async {
        loop {
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
                if head.starts_with("HTTP/1.1 101") {
                    buf.advance(end + 4);
                    return head;
                }
            }
            if tcp.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                return String::from_utf8_lossy(&buf).into_owned();
            }
        }
    })
    .await
    .expect("response in time")
    .pipe(|head| (head, tcp, buf))
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An upgraded raw connection.
async fn upgraded(addr: SocketAddr, extra: &str) -> (TcpStream, BytesMut) {
    let (head, tcp, rest) = send_head(addr, &request(extra)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (tcp, rest)
}

/// Reads server frames until a close frame; returns its code (None for an
/// empty close) and the frames before it, then asserts the server drops TCP.
async fn expect_close(
    tcp: &mut TcpStream,
    buf: &mut BytesMut,
) -> (Option<u16>, Vec<(OpCode, Vec<u8>)>) {
    let mut before = Vec::new();
    let code = tokio::time::timeout(GUARD, async {
        loop {
            if let Some((h, n)) = FrameHeader::parse(buf).unwrap() {
                let len = h.payload_len as usize;
                if buf.len() >= n + len {
                    assert!(h.mask.is_none(), "server frames are unmasked");
                    buf.advance(n);
                    let payload = buf.split_to(len).to_vec();
                    if h.opcode == OpCode::Close {
                        return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                    }
                    before.push((h.opcode, payload));
                    continue;
                }
            }
            let n = tcp.read_buf(buf).await.expect("read");
            assert!(n > 0, "EOF before a close frame");
        }
    })
    .await
    .expect("close frame in time");
    let mut rest = Vec::new();
    let eof = tokio::time::timeout(GUARD, tcp.read_to_end(&mut rest)).await;
    assert!(
        matches!(eof, Ok(Ok(_))),
        "server must drop TCP after its close frame"
    );
    (code, before)
}

async fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    // The server may drop us mid-write once it has seen enough.
    let _ = tcp.write_all(bytes).await;
}

async fn assert_closes_with(config: Config, extra: &str, bytes: &[u8], code: u16) {
    let addr = server(config).await;
    let (mut tcp, mut buf) = upgraded(addr, extra).await;
    send(&mut tcp, bytes).await;
    let (got, _) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(got, Some(code));
}

// Case 4: invalid upgrade requests.
#[tokio::test]
async fn invalid_upgrade_requests() {
    let addr = server(Config::default()).await;
    let good = request("");
    let cases = [
        (good.replace(KEY, ""), "400"),
        (good.replace(KEY, "c2hvcnQ="), "400"),
        (good.replace(KEY, "not base64 at all!!!!!!!"), "400"),
        (
            good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "400",
        ),
        (good.replace("Version: 13", "Version: 8"), "426"),
        (good.replace("GET", "POST"), "400"),
        (good.replace("Upgrade: websocket", "Upgrade: h2c"), "400"),
        (good.replace("Upgrade: websocket\r\n", ""), "400"),
        (
            good.replace("Connection: Upgrade", "Connection: keep-alive"),
            "400",
        ),
    ];
    for (raw, status) in cases {
        let (response, _, _) = send_head(addr, &raw).await;
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{raw:?} -> {response}"
        );
        if status == "426" {
            assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
        }
    }
}

// Case 2: header floods.
#[tokio::test]
async fn header_flood() {
    let addr = server(Config::default()).await;
    let many: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let (response, _, _) = send_head(addr, &request(&many)).await;
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    let big = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
    let (response, _, _) = send_head(addr, &request(&big)).await;
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
}

// Case 3: a 60 KiB request dribbled a byte at a time is cut off at the
// handshake size limit.
#[tokio::test]
async fn dribbled_handshake() {
    let addr = server(Config::default()).await;
    let raw = request(&format!("X-Pad: {}\r\n", "a".repeat(60 << 10)));
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut sent = 0;
    for b in raw.as_bytes() {
        if tcp.write_all(&[*b]).await.is_err() {
            break;
        }
        sent += 1;
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(GUARD, tcp.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    assert!(
        sent < raw.len(),
        "the server stopped reading before the end"
    );
}

// Case 5: pathological extension and protocol headers.
#[tokio::test]
async fn pathological_header_lists() {
    let config = Config::default().deflate(DeflateConfig::enabled());
    let addr = server(config).await;
    let commas = ",".repeat(14 << 10);
    for extra in [
        format!("Sec-WebSocket-Protocol: {commas}\r\n"),
        format!("Sec-WebSocket-Extensions: {commas}\r\n"),
        format!(
            "Sec-WebSocket-Extensions: permessage-deflate{}\r\n",
            ";".repeat(14 << 10)
        ),
        format!("Sec-WebSocket-Extensions: {}\r\n", " ; ,".repeat(3 << 10)),
    ] {
        let (head, _, _) = send_head(addr, &request(&extra)).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
    }
    for bad in [
        "server_max_window_bits=7",
        "server_max_window_bits=16",
        "server_max_window_bits=abc",
        "__proto__",
    ] {
        let extra = format!("Sec-WebSocket-Extensions: permessage-deflate; {bad}\r\n");
        let (head, _, _) = send_head(addr, &request(&extra)).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(!head.contains("Sec-WebSocket-Extensions"), "{bad}: {head}");
    }
    let extra = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8, permessage-deflate\r\n";
    let (head, _, _) = send_head(addr, &request(extra)).await;
    assert!(
        head.contains("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n"),
        "{head}"
    );
}

// Case 9: framing violations.
#[tokio::test]
async fn framing_violations_close_1002() {
    let mut rsv = client_frame(OpCode::Text, true, b"hi");
    rsv[0] |= 0x20;
    let mut rsv1_ctl = client_frame(OpCode::Ping, true, b"");
    rsv1_ctl[0] |= 0x40;
    let mut new_data = client_frame(OpCode::Text, false, b"a");
    new_data.extend(client_frame(OpCode::Text, true, b"b"));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "unmasked",
            frame(Role::Server, OpCode::Text, true, false, b"hi"),
        ),
        ("rsv2", rsv),
        ("reserved opcode", vec![0x83, 0x80, 1, 2, 3, 4]),
        (
            "continuation without start",
            client_frame(OpCode::Continuation, true, b"x"),
        ),
        ("new data frame in fragmented message", new_data),
        ("rsv1 on control frame", rsv1_ctl),
    ];
    for (what, bytes) in cases {
        let config = Config::default().deflate(DeflateConfig::enabled());
        let extra = if what == "rsv1 on control frame" {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        } else {
            ""
        };
        let addr = server(config).await;
        let (mut tcp, mut buf) = upgraded(addr, extra).await;
        send(&mut tcp, &bytes).await;
        let (code, _) = expect_close(&mut tcp, &mut buf).await;
        assert_eq!(code, Some(1002), "{what}");
    }
}

// Case 10: control frames.
#[tokio::test]
async fn control_frame_violations_close_1002() {
    let mut cases = vec![
        client_frame(OpCode::Ping, true, &[0; 126]),
        client_frame(OpCode::Ping, false, b""),
        client_frame(OpCode::Close, true, &[3]),
    ];
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000] {
        cases.push(client_frame(OpCode::Close, true, &code.to_be_bytes()));
    }
    for bytes in cases {
        assert_closes_with(Config::default(), "", &bytes, 1002).await;
    }
}

#[tokio::test]
async fn ping_inside_fragmented_message() {
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    let mut bytes = client_frame(OpCode::Text, false, b"Hel");
    bytes.extend(client_frame(OpCode::Ping, true, b"p1"));
    bytes.extend(client_frame(OpCode::Continuation, true, b"lo"));
    bytes.extend(client_frame(OpCode::Close, true, &1000u16.to_be_bytes()));
    send(&mut tcp, &bytes).await;
    let (code, before) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1000));
    assert_eq!(
        before,
        vec![
            (OpCode::Pong, b"p1".to_vec()),
            (OpCode::Text, b"Hello".to_vec())
        ]
    );
}

// Case 11: UTF-8, failing fast.
#[tokio::test]
async fn invalid_utf8_closes_1007_without_waiting_for_the_end() {
    // The final fragment is never sent: the close must come anyway.
    let mut bytes = client_frame(OpCode::Text, false, "κόσμε".as_bytes());
    bytes.extend(client_frame(
        OpCode::Continuation,
        false,
        &[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
        ],
    ));
    assert_closes_with(Config::default(), "", &bytes, 1007).await;
    // Truncated at the end of the final fragment; invalid close reason.
    let mut truncated = client_frame(OpCode::Text, false, b"ok");
    truncated.extend(client_frame(OpCode::Continuation, true, &[0xe2, 0x82]));
    assert_closes_with(Config::default(), "", &truncated, 1007).await;
    let reason = client_frame(OpCode::Close, true, &[0x03, 0xe8, 0xff]);
    assert_closes_with(Config::default(), "", &reason, 1007).await;
}

// Case 12: size limits.
#[tokio::test]
async fn size_limits_close_1009() {
    // A header announcing 2^62 bytes; nothing else sent.
    assert_closes_with(
        Config::default(),
        "",
        &[0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
        1009,
    )
    .await;
    // 2^63 is not even a valid length.
    assert_closes_with(
        Config::default(),
        "",
        &[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
        1002,
    )
    .await;
    let small = || Config::default().max_message_size(1000);
    assert_closes_with(
        small(),
        "",
        &client_frame(OpCode::Binary, true, &[0; 1001]),
        1009,
    )
    .await;
    let mut fragments = Vec::new();
    for i in 0..3 {
        let op = if i == 0 {
            OpCode::Binary
        } else {
            OpCode::Continuation
        };
        fragments.extend(client_frame(op, i == 2, &[0; 400]));
    }
    assert_closes_with(small(), "", &fragments, 1009).await;
}

// Case 13: fragment floods and 1-byte writes.
#[tokio::test]
async fn fragment_flood_closes_1008() {
    let mut bytes = client_frame(OpCode::Text, false, b"");
    for _ in 0..200_000 {
        bytes.extend(client_frame(OpCode::Continuation, false, b""));
    }
    assert_closes_with(Config::default(), "", &bytes, 1008).await;
}

#[tokio::test]
async fn one_byte_writes_are_reassembled() {
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    tcp.set_nodelay(true).unwrap();
    let mut bytes = client_frame(OpCode::Text, false, b"one ");
    bytes.extend(client_frame(OpCode::Continuation, true, b"byte at a time"));
    bytes.extend(client_frame(OpCode::Close, true, &1000u16.to_be_bytes()));
    for b in bytes {
        tcp.write_all(&[b]).await.unwrap();
    }
    let (code, before) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1000));
    assert_eq!(before, vec![(OpCode::Text, b"one byte at a time".to_vec())]);
}

/// The frames of `message` (text) split into 1-byte fragments: a first
/// `Text` frame, then `Continuation` frames, the last one final. Built
/// from one encoded frame per distinct byte (each validly masked), so that
/// a million of them cost a copy each.
fn one_byte_fragments(message: &[u8]) -> Vec<u8> {
    let mut cache: std::collections::HashMap<(bool, bool, u8), Vec<u8>> = Default::default();
    let mut out = Vec::with_capacity(message.len() * 7);
    for (i, &b) in message.iter().enumerate() {
        let (first, last) = (i == 0, i + 1 == message.len());
        let frame = cache.entry((first, last, b)).or_insert_with(|| {
            let op = if first {
                OpCode::Text
            } else {
                OpCode::Continuation
            };
            client_frame(op, last, &[b])
        });
        out.extend_from_slice(frame);
    }
    out
}

/// RELIABILITY 13: a 1 MiB message sent as 1 048 576 one-byte fragments
/// over a real socket. With the default `Config` (`max_fragments`
/// 100 000) the server closes 1008 at the fragment cap without echoing
/// anything; with the cap raised past the fragment count, the message is
/// reassembled and echoed whole, byte for byte.
#[tokio::test]
async fn one_mib_of_one_byte_fragments() {
    const LEN: usize = 1 << 20;
    assert!(LEN > Config::default().max_fragments);
    let message: Vec<u8> = (0..LEN).map(|i| b'a' + (i % 26) as u8).collect();
    let fragments = one_byte_fragments(&message);
    assert_eq!(fragments.len(), LEN * 7);

    // Default config: closed 1008 once the cap is crossed, nothing echoed.
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    send(&mut tcp, &fragments).await;
    let (code, before) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1008));
    assert!(before.is_empty(), "{} frames echoed", before.len());

    // Cap above the count: accepted and echoed as one message.
    let addr = server(Config::default().max_fragments(LEN)).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    let mut bytes = fragments;
    bytes.extend(client_frame(OpCode::Close, true, &1000u16.to_be_bytes()));
    send(&mut tcp, &bytes).await;
    let (code, before) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1000));
    assert_eq!(before.len(), 1, "one message echoed");
    assert_eq!(before[0].0, OpCode::Text);
    assert!(before[0].1 == message, "the echo differs from the message");
}

/// RELIABILITY 13: a 64 KiB message in three frames (fragment boundaries
/// not aligned to anything), written to the server one byte per TCP write
/// (Nagle off, so each byte is its own segment), is reassembled and
/// echoed byte for byte, followed by a control frame handled as usual.
#[tokio::test]
async fn sixty_four_kib_in_one_byte_writes_is_reassembled() {
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    tcp.set_nodelay(true).unwrap();
    let message: Vec<u8> = (0..64 << 10).map(|i: usize| (i * 7 % 251) as u8).collect();
    let (a, rest) = message.split_at(20_001);
    let (b, c) = rest.split_at(30_011);
    let mut bytes = client_frame(OpCode::Binary, false, a);
    bytes.extend(client_frame(OpCode::Continuation, false, b));
    bytes.extend(client_frame(OpCode::Ping, true, b"mid"));
    bytes.extend(client_frame(OpCode::Continuation, true, c));
    bytes.extend(client_frame(OpCode::Close, true, &1000u16.to_be_bytes()));
    for byte in bytes {
        tcp.write_all(&[byte]).await.unwrap();
    }
    let (code, before) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1000));
    assert_eq!(before.len(), 2, "a pong and the echo");
    assert_eq!(before[0], (OpCode::Pong, b"mid".to_vec()));
    assert_eq!(before[1].0, OpCode::Binary);
    assert!(before[1].1 == message, "the echo differs from the message");
}

// Case 14: deflate bomb, corrupt stream, RSV1 without deflate.
#[tokio::test]
async fn deflate_abuse() {
    let deflate = || {
        Config::default()
            .max_message_size(1 << 20)
            .deflate(DeflateConfig::enabled())
    };
    let offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    let block = compress(
        DeflateParams {
            server_no_context_takeover: true,
            ..DeflateParams::default()
        },
        &vec![0u8; 1 << 20],
    );
    let mut payload = Vec::new();
    for _ in 0..64 {
        payload.extend_from_slice(&block);
        payload.extend_from_slice(&[0, 0, 0xff, 0xff]);
    }
    assert!(payload.len() < 1 << 20);
    let bomb = frame(Role::Client, OpCode::Binary, true, true, &payload);
    assert_closes_with(deflate(), offer, &bomb, 1009).await;
    let corrupt = frame(Role::Client, OpCode::Binary, true, true, &[0xff; 64]);
    assert_closes_with(deflate(), offer, &corrupt, 1007).await;
    let compressed = compress(DeflateParams::default(), b"hello");
    let unnegotiated = frame(Role::Client, OpCode::Text, true, true, &compressed);
    assert_closes_with(deflate(), "", &unnegotiated, 1002).await;
}

// Case 16: the close handshake, started by the peer and by us.
#[tokio::test]
async fn peer_close_is_echoed_then_tcp_dropped() {
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    let mut payload = 4000u16.to_be_bytes().to_vec();
    payload.extend(b"done");
    send(&mut tcp, &client_frame(OpCode::Close, true, &payload)).await;
    let (code, _) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(4000));
}

#[tokio::test]
async fn server_close_with_code() {
    let addr = server(Config::default()).await;
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    send(&mut tcp, &client_frame(OpCode::Text, true, b"!close 4001")).await;
    // Answer the close, as a peer should; the server then drops TCP.
    let code = tokio::time::timeout(GUARD, async {
        loop {
            if let Some((h, n)) = FrameHeader::parse(&buf).unwrap()
                && buf.len() >= n + h.payload_len as usize
            {
                buf.advance(n);
                let p = buf.split_to(h.payload_len as usize);
                return (h.opcode, u16::from_be_bytes([p[0], p[1]]));
            }
            assert!(tcp.read_buf(&mut buf).await.unwrap() > 0);
        }
    })
    .await
    .unwrap();
    assert_eq!(code, (OpCode::Close, 4001));
    send(
        &mut tcp,
        &client_frame(OpCode::Close, true, &4001u16.to_be_bytes()),
    )
    .await;
    let mut rest = Vec::new();
    tokio::time::timeout(GUARD, tcp.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
}

/// We close and the peer never answers: the connection is dropped after
/// the close timeout. Virtual time, in-memory transport: no real waiting.
#[tokio::test(start_paused = true)]
async fn unanswered_close_times_out() {
    let (ours, mut theirs) = tokio::io::duplex(1 << 16);
    let config = Config::default().close_timeout(Duration::from_secs(1));
    let mut ws = sockio_ws::WebSocketStream::from_raw(ours, Role::Server, &config, None);
    ws.close(Some(CloseFrame::new(1000, ""))).await.unwrap();
    let started = tokio::time::Instant::now();
    // The reader ends by itself once the timeout passes.
    assert!(ws.next().await.is_none());
    assert!(started.elapsed() >= Duration::from_secs(1));
    // The peer got the close frame, then EOF.
    let mut got = Vec::new();
    theirs.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, vec![0x88, 0x02, 0x03, 0xe8]);
}

/// Our client against our server: close codes both ways, ping/pong,
/// compression negotiated.
#[tokio::test]
async fn client_and_server() {
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let addr = server(config.clone()).await;
    let (mut ws, connected) = sockio_ws::connect(&format!("ws://{addr}/"), &config)
        .await
        .unwrap();
    assert!(connected.deflate.is_some());
    ws.send(Message::Ping("x".into())).await.unwrap();
    ws.send(Message::text("héllo ".repeat(100))).await.unwrap();
    ws.send(Message::binary(vec![7u8; 70_000])).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(ws.next().await.unwrap().unwrap());
    }
    assert_eq!(got[0], Message::Pong("x".into()));
    assert_eq!(got[1], Message::text("héllo ".repeat(100)));
    assert_eq!(got[2], Message::binary(vec![7u8; 70_000]));
    ws.send(Message::text("!close 4002")).await.unwrap();
    let close = ws.next().await.unwrap().unwrap();
    assert_eq!(close, Message::Close(Some(CloseFrame::new(4002, "bye"))));
    assert!(ws.next().await.is_none());

    let (mut ws, _) = sockio_ws::connect(&format!("ws://{addr}/"), &config)
        .await
        .unwrap();
    ws.close(Some(CloseFrame::new(3000, "client")))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(3000, "")))
    );
    assert!(ws.next().await.is_none());
    assert!(ws.send(Message::text("late")).await.is_err());
}

/// A client receiving a masked frame closes with 1002.
#[tokio::test]
async fn client_rejects_masked_server_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = BytesMut::new();
        while find(&buf, b"\r\n\r\n").is_none() {
            tcp.read_buf(&mut buf).await.unwrap();
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let accept = sockio_ws::handshake::accept_key(key.trim().as_bytes());
        let res = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        tcp.write_all(res.as_bytes()).await.unwrap();
        tcp.write_all(&client_frame(OpCode::Text, true, b"masked"))
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest).await;
        rest
    });
    let (mut ws, _) = sockio_ws::connect(&format!("ws://{addr}/"), &Config::default())
        .await
        .unwrap();
    let err = ws.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            sockio_ws::Error::Protocol(sockio_ws::ProtocolError::MaskedFrame)
        ),
        "{err}"
    );
    assert!(ws.next().await.is_none());
    drop(ws);
    let rest = tokio::time::timeout(GUARD, peer).await.unwrap().unwrap();
    // One masked close frame with 1002.
    let (h, n) = FrameHeader::parse(&rest).unwrap().unwrap();
    assert_eq!(h.opcode, OpCode::Close);
    let mut payload = rest[n..n + 2].to_vec();
    sockio_ws::mask::apply_mask(&mut payload, h.mask.unwrap(), 0);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
}

/// A server that closes and then drops its reader does not wait for the
/// peer's reply (nobody would read it): the peer gets the close frame and
/// the end of the connection at once, not after the close timeout.
#[tokio::test]
async fn close_then_drop_does_not_wait_for_the_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let config = Config::default().close_timeout(Duration::from_secs(600));
        let ws = sockio_ws::accept(tcp, &config).await.unwrap();
        let (reader, writer) = ws.split();
        writer.close(Some(CloseFrame::new(1000, ""))).await.unwrap();
        drop(reader);
    });
    let (mut tcp, mut buf) = upgraded(addr, "").await;
    // The peer never answers; the guard (20 s) is far below the 600 s close
    // timeout, so passing means the server did not wait for it.
    let (code, _) = expect_close(&mut tcp, &mut buf).await;
    assert_eq!(code, Some(1000));
}

/// `unwritten` counts what is queued until the transport took it, and
/// `try_send_uncompressed` skips permessage-deflate for one message.
#[tokio::test]
async fn unwritten_until_taken_and_uncompressed_sends() {
    // 64 bytes of pipe: the writer cannot write the two messages until
    // the peer reads.
    let (ours, mut theirs) = tokio::io::duplex(64);
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let ws = sockio_ws::WebSocketStream::from_raw(
        ours,
        Role::Server,
        &config,
        Some(DeflateParams::default()),
    );
    let writer = ws.writer();
    assert_eq!(writer.unwritten(), 0);
    let big = "compressible ".repeat(100);
    writer
        .try_send_uncompressed(Message::text(big.clone()))
        .unwrap();
    writer.try_send(Message::text(big.clone())).unwrap();
    assert_eq!(writer.unwritten(), 2);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(writer.unwritten(), 2, "still blocked on the pipe");
    // The first message as it is, RSV1 clear.
    let mut head = [0u8; 4];
    theirs.read_exact(&mut head).await.unwrap();
    assert_eq!(head, [0x81, 126, 0x05, 0x14]);
    let mut payload = vec![0u8; big.len()];
    theirs.read_exact(&mut payload).await.unwrap();
    assert_eq!(payload, big.as_bytes());
    // The second compressed, RSV1 set.
    let mut head = [0u8; 2];
    theirs.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], 0xc1);
    assert!(head[1] < 126, "compressed to {} bytes", head[1]);
    let mut payload = vec![0u8; usize::from(head[1])];
    theirs.read_exact(&mut payload).await.unwrap();
    let mut rounds = 0;
    while writer.unwritten() > 0 {
        rounds += 1;
        assert!(rounds < 1000, "writer never finished");
        tokio::task::yield_now().await;
    }
    drop(ws);
}
