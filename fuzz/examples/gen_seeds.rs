//! Writes the seed inputs under `seeds/<target>/` (run from `fuzz/`:
//! `cargo run --no-default-features --example gen_seeds`). Each input
//! starts with the configuration bytes its target documents.

use std::fs;
use std::path::Path;

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress};
use sockio_core::engine::{self, Protocol};
use sockio_core::socket::{self, Args, Encoded, Parser, RawJson};
use sockio_ws::frame::OpCode;
use sockio_ws::{CloseFrame, Config, DeflateConfig, DeflateParams, Encoder, Message, Role};
use sockio_ws_fuzz::{ConnectionOp as Op, MESSAGE_SEPARATOR};

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    fs::create_dir_all(&dir).expect("seeds dir");
    fs::write(dir.join(name), data).expect("seed written");
}

fn messages() -> Vec<Message> {
    vec![
        Message::text("Hello"),
        Message::text("κόσμε, привет, 你好 🎉".repeat(8)),
        Message::binary((0..200u8).collect::<Vec<u8>>()),
        Message::Ping((&b"ping"[..]).into()),
        Message::Pong((&b""[..]).into()),
        Message::Close(Some(CloseFrame::new(1000, "bye"))),
        Message::Close(None),
    ]
}

/// Frames of `messages()` as the peer of `role` sends them, and a
/// fragmented text message with a ping in the middle.
fn stream(role: Role, deflate: Option<DeflateParams>) -> Vec<u8> {
    let peer = if role == Role::Server {
        Role::Client
    } else {
        Role::Server
    };
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let mut enc = Encoder::new(peer, &config, deflate);
    let mut out = BytesMut::new();
    for m in messages() {
        enc.encode(&m, &mut out);
    }
    enc.encode_frame(OpCode::Text, false, false, b"Hel", &mut out);
    enc.encode_frame(OpCode::Ping, true, false, b"", &mut out);
    enc.encode_frame(OpCode::Continuation, false, false, b"lo, ", &mut out);
    enc.encode_frame(
        OpCode::Continuation,
        true,
        false,
        "wörld".as_bytes(),
        &mut out,
    );
    out.to_vec()
}

fn raw_deflate(data: &[u8], level: u32, bits: u8) -> Vec<u8> {
    let mut c = Compress::new_with_window_bits(Compression::new(level), false, bits);
    let mut out = Vec::with_capacity(data.len() + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("compress");
    assert_eq!(
        c.total_in() as usize,
        data.len(),
        "output buffer large enough"
    );
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}

/// Engine.IO packets of every type, as a session sends them.
fn engine_packets() -> Vec<engine::Packet> {
    use engine::Packet;
    vec![
        Packet::Open(Bytes::from_static(
            br#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )),
        Packet::Ping(Bytes::from_static(b"probe")),
        Packet::Pong(Bytes::from_static(b"probe")),
        Packet::Ping(Bytes::new()),
        Packet::Pong(Bytes::new()),
        Packet::message("hello"),
        Packet::message("€ and 😀, κόσμε"),
        Packet::message(r#"2/chat,7["message",{"b":1.50,"a":"x"}]"#),
        Packet::binary(Bytes::from_static(&[1, 2, 3, 4])),
        Packet::binary((0..=255u8).collect::<Vec<u8>>()),
        Packet::binary(Bytes::new()),
        Packet::Upgrade,
        Packet::Noop,
        Packet::Close,
    ]
}

/// `engine_packet`: `sel` (max_packets, bits 0-2) and the body.
fn engine_seeds() {
    let all = engine_packets();
    let write_body = |name: &str, sel: u8, body: &[u8]| {
        write("engine_packet", name, &[&[sel][..], body].concat());
    };
    // Each packet as its WebSocket message, in both revisions (the text
    // form of binary data too, as a `b64=1` client gets it).
    for (i, p) in all.iter().enumerate() {
        for (protocol, v) in [(Protocol::V3, "v3"), (Protocol::V4, "v4")] {
            let frame = p.encode_ws(protocol);
            let kind = if frame.is_binary() { "bin" } else { "text" };
            write_body(&format!("ws_{v}_{kind}_{i:02}"), 7, frame.as_bytes());
            if p.is_binary() {
                write_body(&format!("ws_{v}_b64_{i:02}"), 7, &p.to_text(protocol));
            }
        }
    }
    // Polling payloads: every packet, in each format; a short session;
    // the limit just hit.
    let session = [
        engine::Packet::message("hello"),
        engine::Packet::Ping(Bytes::new()),
        engine::Packet::binary(Bytes::from_static(&[1, 2, 3, 4])),
        engine::Packet::message("€😀"),
    ];
    for (name, packets, sel) in [
        ("all", &all[..], 7u8),
        ("session", &session[..], 7),
        ("session_max_3", &session[..], 3),
    ] {
        for (protocol, v) in [(Protocol::V3, "v3"), (Protocol::V4, "v4")] {
            let mut out = BytesMut::new();
            engine::encode_payload(packets, protocol, &mut out);
            write_body(&format!("payload_{v}_{name}"), sel, &out);
        }
        let mut out = BytesMut::new();
        engine::encode_payload_binary_v3(packets, &mut out);
        write_body(&format!("payload_v3_binary_{name}"), sel, &out);
    }
    let mut out = BytesMut::new();
    engine::encode_payload(&[], Protocol::V3, &mut out);
    write_body("payload_v3_empty", 7, &out);
    // The spec's examples, with a separator at the end, and a length in
    // the middle of a surrogate pair.
    write_body("payload_v4_spec", 7, "4hello\x1e4€\x1ebAQIDBA==".as_bytes());
    write_body("payload_v4_trailing_separator", 7, b"4hello\x1e");
    write_body("payload_v3_split_pair", 7, "2:4😀".as_bytes());
    write_body("payload_v3_lenient_base64", 7, b"7:b4AQIDBA2:4x");
}

/// Socket.IO packets: every type, namespaces, ack ids, binary data.
fn socket_packets() -> Vec<socket::Packet> {
    use socket::Packet;
    let raw = |s: &'static str| RawJson::try_from(s).expect("valid JSON");
    let bin = |n: u8| Bytes::from((0..n).map(|i| i % 0xc0).collect::<Vec<u8>>());
    vec![
        Packet::connect("/", None),
        Packet::connect("/admin", Some(raw(r#"{"token":"123"}"#))),
        Packet::connect(
            "/",
            Some(raw(r#"{"pid":"a1b2","offset":"MzQ-1","token":"\u00e9"}"#)),
        ),
        Packet::connect_ok("/", "lv_VI97HAXpY6yYWAAAC", Some("pid-1")),
        Packet::connect_error("/admin", "Not authorized", Some(&raw(r#"{"code":4}"#))),
        Packet::connect_error("/", "Invalid namespace", None),
        Packet::disconnect("/admin"),
        Packet::event("/", Args::event("hello").with(&1).expect("json")),
        Packet::event(
            "/chat",
            Args::event("message").with_raw(raw(r#"{"b":1.50,"a":[true,null,-2e-3,"κόσμε 😀"]}"#)),
        )
        .with_id(7),
        Packet::event("/", Args::event("disconnect")),
        Packet::ack(
            "/",
            12,
            Args::new().with_string("ok").with_raw(raw("[[[[1]]]]")),
        ),
        Packet::event(
            "/",
            Args::event("upload")
                .with_binary(bin(4))
                .with_raw(raw(r#"{"name":"a.txt"}"#))
                .with_binary(bin(100)),
        ),
        Packet::event("/files", Args::event("file").with_binary(bin(0))).with_id(3),
        Packet::ack(
            "/admin",
            99,
            Args::new().with_binary(bin(16)).with_string("done"),
        ),
    ]
}

/// `socket_decode`: `cfg`, `limits`, then messages (`head`, body) between
/// separators.
fn socket_seeds() {
    // Default limits (10 attachments, 10 MB, depth 128, 30 s), `_at`
    // methods.
    const TEXT: u8 = (7 << 2) | (6 << 5);
    const MSGPACK: u8 = TEXT | 1;
    const LIMITS: u8 = 5 | (7 << 3) | (1 << 6);
    let seed = |name: &str, cfg: u8, limits: u8, messages: &[(u8, &[u8])]| {
        let mut data = vec![cfg, limits];
        for (i, (head, body)) in messages.iter().enumerate() {
            assert!(
                !body.contains(&MESSAGE_SEPARATOR),
                "{name}: a separator in message {i}"
            );
            if i > 0 {
                data.push(MESSAGE_SEPARATOR);
            }
            data.push(*head);
            data.extend_from_slice(body);
        }
        write("socket_decode", name, &data);
    };
    let packets = socket_packets();
    let mut session_text: Vec<(u8, Bytes)> = Vec::new();
    let mut session_msgpack: Vec<(u8, Bytes)> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        let Encoded::Text { text, attachments } = Parser::Default.encode(p) else {
            unreachable!()
        };
        let mut messages = vec![(0x01, text.into_bytes())];
        messages.extend(attachments.into_iter().map(|a| (0x81, a)));
        let refs: Vec<(u8, &[u8])> = messages.iter().map(|(h, b)| (*h, &b[..])).collect();
        seed(&format!("text_{i:02}"), TEXT, LIMITS, &refs);
        session_text.extend(messages);

        let Encoded::Binary(msgpack) = Parser::Msgpack.encode(p) else {
            unreachable!()
        };
        seed(
            &format!("msgpack_{i:02}"),
            MSGPACK,
            LIMITS,
            &[(0x81, &msgpack)],
        );
        session_msgpack.push((0x81, msgpack));
    }
    let refs: Vec<(u8, &[u8])> = session_text.iter().map(|(h, b)| (*h, &b[..])).collect();
    seed("text_session", TEXT, LIMITS, &refs);
    // The same without time, with small limits (2 attachments, 100 bytes,
    // depth 4, reserved events refused).
    seed("text_session_small", (3 << 2) | 2, 2 | (4 << 3), &refs);
    let refs: Vec<(u8, &[u8])> = session_msgpack.iter().map(|(h, b)| (*h, &b[..])).collect();
    seed("msgpack_session", MSGPACK, LIMITS, &refs);
    seed("msgpack_session_small", (3 << 2) | 3, 2 | (4 << 3), &refs);

    // Attachments on a clock: a 20 ms timeout; the second attachment 63
    // ms late; then one in time; an explicit expire (empty message); the
    // clock mode that expires before every message.
    let (text, attachments) = packets[11].encode();
    let late: Vec<(u8, &[u8])> = vec![
        (0x01, text.as_bytes()),
        (0x81, &attachments[0]),
        (0xbf, &attachments[1]),
        (0x01, text.as_bytes()),
        (0x85, &attachments[0]),
        (0x85, &attachments[1]),
        (0x01, text.as_bytes()),
    ];
    let timed = (7 << 2) | (3 << 5);
    seed("text_attachments_late", timed, LIMITS, &late);
    seed(
        "text_attachments_late_expire",
        timed,
        LIMITS | (3 << 6),
        &late,
    );
    seed(
        "text_attachments_alternate",
        timed,
        LIMITS | (2 << 6),
        &late,
    );
    // Empty messages: `expire` calls.
    let mut data = vec![timed, LIMITS];
    data.push(0x01);
    data.extend_from_slice(text.as_bytes());
    data.extend([MESSAGE_SEPARATOR, MESSAGE_SEPARATOR, 0x40, b'2']);
    data.extend_from_slice(br#"["x"]"#);
    data.extend([MESSAGE_SEPARATOR, MESSAGE_SEPARATOR]);
    write("socket_decode", "text_expire_between", &data);
    // Protocol errors: binary unannounced, text in the middle, too many
    // attachments, too many bytes, text to the msgpack parser.
    seed(
        "text_unexpected",
        TEXT,
        LIMITS,
        &[
            (0x81, b"\x01"),
            (0x01, text.as_bytes()),
            (0x01, br#"2["e"]"#),
            (0x01, br#"511-["e"]"#),
            (0x01, br#"52-["e",{"_placeholder":true,"num":2}]"#),
        ],
    );
    seed("text_too_large", TEXT, 5 | (3 << 3), &late[..3]);
    seed("msgpack_text", MSGPACK, LIMITS, &[(0x01, br#"2["e"]"#)]);
    // What notepack writes beyond JSON: NaN, undefined, a Date, an
    // ArrayBuffer; a map key that is an integer.
    seed(
        "msgpack_notepack",
        MSGPACK,
        LIMITS,
        &[(
            0x81,
            b"\x83\xa4type\x02\xa4data\x96\xa1e\xcb\x7f\xf8\0\0\0\0\0\0\xd4\0\0\xd7\0\0\0\x01\x7f\0\0\0\0\xc7\x02\0\x01\x02\x81\x01\xa1v\xa3nsp\xa1/",
        )],
    );
}

/// One operation of a `connection` input: `op` with parameter `p`, then
/// its body.
fn op(op: Op, p: u8, body: &[u8]) -> Vec<u8> {
    [&[op.head(p)][..], body].concat()
}

/// The messages of `packet` fed as a peer's, with `parser`.
fn feed(parser: Parser, packet: &socket::Packet) -> Vec<Vec<u8>> {
    match parser.encode(packet) {
        Encoded::Text { text, attachments } => std::iter::once(op(Op::Text, 0, text.as_bytes()))
            .chain(attachments.iter().map(|a| op(Op::Binary, 0, a)))
            .collect(),
        Encoded::Binary(data) => vec![op(Op::Binary, 0, &data)],
    }
}

/// `connection`: `cfg`, `limits`, `timers`, then operations between
/// separators.
fn connection_seeds() {
    use socket::Packet;
    let seed = |name: &str, config: [u8; 3], ops: &[Vec<u8>]| {
        let mut data = config.to_vec();
        for (i, o) in ops.iter().enumerate() {
            assert!(
                !o.contains(&MESSAGE_SEPARATOR),
                "{name}: a separator in operation {i}"
            );
            if i > 0 {
                data.push(MESSAGE_SEPARATOR);
            }
            data.extend_from_slice(o);
        }
        write("connection", name, &data);
    };
    // cfg: role, parser, reserved events refused, 4 namespaces, depth
    // 128; limits: 10 attachments, 64 KiB; timers: 30 s each.
    let cfg = |client: bool, parser: Parser| {
        u8::from(client) | (u8::from(parser == Parser::Msgpack) << 1) | 4 | (3 << 3) | (3 << 6)
    };
    const LIMITS: u8 = 5 | (6 << 3);
    const TIMERS: u8 = 6 | (6 << 3);
    // Namespace selectors: "/", "/a", "/b", "/chat"; event arguments:
    // "hello" with a string, with binary data.
    const ROOT: u8 = 0;
    const A: u8 = 1;
    const B: u8 = 2;
    const CHAT: u8 = 3;
    const STRING: u8 = 1 << 3;
    const BINARY: u8 = 2 << 3;
    let event = |data: &'static str| -> Vec<u8> { data.as_bytes().to_vec() };

    for (parser, suffix) in [(Parser::Default, "text"), (Parser::Msgpack, "msgpack")] {
        let upload = Packet::event(
            "/",
            Args::event("upload")
                .with_binary(Bytes::from_static(b"\x01\x02"))
                .with_string("between"),
        );
        // Server: joins, events and acks both ways, a timeout, a refusal,
        // a recovered session, binary, the peer leaving, the end.
        let mut ops = vec![
            op(Op::Peer, 0, &[ROOT, 0, 0]),
            op(Op::Accept, 0, &[ROOT, 0, b's', b'1']),
            op(Op::Peer, 2 | 8, &[ROOT, STRING, 1, b'h', b'i']),
            op(Op::Ack, 2, &[ROOT, 0, b'o', b'k']),
            op(Op::EmitWithAck, 4, &[ROOT, STRING, b'x']),
            op(Op::Peer, 7, &[ROOT, 0, 0, b'y']),
            op(Op::EmitWithAck, 4, &[ROOT, 0]),
            op(Op::Tick, 7, &[]),
            op(Op::Peer, 8, &[A, 0, 0, b't']),
            op(Op::Refuse, 1, &[ROOT, 0, b'n', b'o']),
            op(Op::Peer, 0, &[CHAT, 1, 0, b'o', b'f', b'f']),
            op(Op::Accept, 1 | 2, &[ROOT, 1, b's', b'2']),
        ];
        ops.extend(feed(parser, &upload));
        ops.extend([
            op(Op::Peer, 5, &[ROOT, BINARY, 0, 1, 2, 3]),
            op(Op::Emit, 0, &[CHAT, BINARY, 0, 0xff]),
            op(Op::EmitWithAckId, 4 | 8, &[CHAT, 0]),
            op(Op::CancelAck, 0, &[CHAT, 0]),
            op(Op::EmitWithAck, 0, &[ROOT, 0]),
            op(Op::Peer, 1, &[CHAT]),
            op(Op::Disconnect, 0, &[ROOT]),
        ]);
        ops.extend(feed(parser, &Packet::connect("/b", None)));
        ops.extend([
            op(Op::Accept, 0, &[ROOT, 0, b's', b'3']),
            op(Op::Peer, 3 | 8, &[B, 0x80, 2]),
            op(Op::DisconnectAll, 0, &[]),
            op(Op::Close, 0, &[]),
        ]);
        seed(
            &format!("server_session_{suffix}"),
            [cfg(false, parser), LIMITS, TIMERS],
            &ops,
        );

        // Client: joins (with a pid), offsets, acks both ways, events
        // before the answer, a refusal, giving up, the server leaving,
        // then a recovery, and an answer at its deadline.
        let ops = vec![
            op(Op::Connect, 0, &[ROOT, 0]),
            op(Op::Peer, 8, &[ROOT, 1, 0, b's', b'1']),
            op(Op::Peer, 2, &[ROOT, STRING, 0x83, b'h', b'i']),
            op(Op::EmitWithAck, 5, &[ROOT, 0]),
            op(Op::Peer, 7, &[ROOT, 0, 0, b'o', b'k']),
            op(Op::Peer, 2 | 8, &[ROOT, 0, 2]),
            op(Op::Ack, 8, &[ROOT, 0]),
            op(Op::Connect, 1, &[A, 0]),
            op(Op::Peer, 2, &[A, BINARY, 0, 7]),
            op(Op::Peer, 0, &[A, 0, 0, b's', b'a']),
            op(Op::Connect, 0, &[B, 0]),
            op(Op::Peer, 4, &[B, 1, 0, b'n', b'o']),
            op(Op::Connect, 0, &[CHAT, 0]),
            op(Op::Disconnect, 0, &[CHAT]),
            op(Op::Peer, 1, &[ROOT]),
            op(Op::Connect, 4, &[ROOT, 1]),
            op(Op::Peer, 8, &[ROOT, 0, 0, b's', b'2']),
            op(Op::EmitWithAck, 6, &[ROOT, 0]),
            op(Op::Late, 9, &[]),
            op(Op::Peer, 7, &[ROOT, 0, 0]),
            op(Op::Close, 2, &[]),
        ];
        seed(
            &format!("client_session_{suffix}"),
            [cfg(true, parser), LIMITS, TIMERS],
            &ops,
        );

        // Server: the connect timeout (20 ms) passes; then nothing is
        // taken in.
        let mut ops = vec![op(Op::Peer, 0, &[ROOT, 0, 0]), op(Op::Tick, 6, &[])];
        ops.extend(feed(parser, &Packet::connect("/a", None)));
        ops.push(op(Op::Accept, 0, &[ROOT, 0, b's']));
        seed(
            &format!("server_connect_timeout_{suffix}"),
            [cfg(false, parser), LIMITS, 6 | (3 << 3)],
            &ops,
        );

        // Server: one namespace at most.
        let ops = vec![
            op(Op::Peer, 0, &[ROOT, 0, 0]),
            op(Op::Peer, 0, &[A, 0, 0]),
            op(Op::Accept, 0, &[ROOT, 0, b's']),
            op(Op::Peer, 0, &[A, 0, 0]),
            op(Op::Peer, 1, &[ROOT]),
            op(Op::Peer, 0, &[A, 0, 0]),
        ];
        seed(
            &format!("server_namespace_cap_{suffix}"),
            [cfg(false, parser) & !(7 << 3), LIMITS, TIMERS],
            &ops,
        );

        // Ack deadlines: 1 ns before, then at the deadline.
        let ops = vec![
            op(Op::Peer, 0, &[ROOT, 0, 0]),
            op(Op::Accept, 0, &[ROOT, 0, b's']),
            op(Op::EmitWithAck, 4, &[ROOT, 0]),
            op(Op::EmitWithAck, 3, &[ROOT, 0]),
            op(Op::Tick, 15, &[]),
            op(Op::Tick, 14, &[]),
            op(Op::Tick, 15, &[]),
            op(Op::Tick, 14, &[]),
        ];
        seed(
            &format!("server_ack_deadlines_{suffix}"),
            [cfg(false, parser), LIMITS, TIMERS],
            &ops,
        );

        // Client: names and auth refused, answers without sid.
        let ops = vec![
            op(Op::Connect, 0, &[4, 0]),
            op(Op::Connect, 0, &[5, 0]),
            op(Op::Connect, 2, &[ROOT, 0]),
            op(Op::Connect, 8 | 3, &[0, 0, b'x', b'y']),
            op(Op::Peer, 0, &[0x40, 2, 0]),
            op(Op::Connect, 0, &[ROOT, 0]),
            op(Op::Peer, 0, &[ROOT, 3, 0]),
            op(Op::Connect, 0, &[A, 0]),
            op(Op::Peer, 8 | 4, &[A, 0, 0, b'n', b'o']),
        ];
        seed(
            &format!("client_refusals_{suffix}"),
            [cfg(true, parser), LIMITS, TIMERS],
            &ops,
        );
    }

    // The default parser: attachments overdue (5 ms), protocol violations,
    // what a client ignores.
    let text = cfg(false, Parser::Default);
    let join = [
        op(Op::Peer, 0, &[ROOT, 0, 0]),
        op(Op::Accept, 0, &[ROOT, 0, b's']),
    ];
    let mut ops = join.to_vec();
    ops.push(op(
        Op::Text,
        0,
        &event(r#"51-["f",{"_placeholder":true,"num":0}]"#),
    ));
    ops.push(op(Op::Tick, 14, &[]));
    ops.push(op(Op::Binary, 0, b"late"));
    seed(
        "server_attachments_timeout_text",
        [text, LIMITS, 2 | (6 << 3)],
        &ops,
    );
    for (name, o) in [
        ("event", op(Op::Text, 0, &event(r#"2/other,["x"]"#))),
        ("ack", op(Op::Text, 1, &event("3/other,1[]"))),
        (
            "connect_error",
            op(Op::Text, 0, &event(r#"4{"message":"x"}"#)),
        ),
        ("reserved", op(Op::Text, 0, &event(r#"2["disconnect"]"#))),
        ("binary", op(Op::Binary, 0, b"x")),
        ("json", op(Op::Text, 0, &event("2["))),
    ] {
        let mut ops = join.to_vec();
        ops.push(op(Op::EmitWithAck, 0, &[ROOT, 0]));
        ops.push(o);
        ops.push(op(Op::Text, 0, &event(r#"2["x"]"#)));
        seed(
            &format!("server_violation_{name}"),
            [text, LIMITS, TIMERS],
            &ops,
        );
    }
    let ops = vec![
        op(Op::Text, 0, &event(r#"2/x,["x"]"#)),
        op(Op::Text, 0, &event("3/x,1[]")),
        op(Op::Text, 0, &event(r#"0/x,{"sid":"s"}"#)),
        op(Op::Text, 0, &event("1/x,")),
        op(Op::Text, 2, b"probe"),
        op(Op::Connect, 0, &[ROOT, 0]),
        op(
            Op::Text,
            0,
            &event(r#"4{"message":"m\"q","data":{"a":[1]},"data":2}"#),
        ),
        op(Op::Connect, 0, &[ROOT, 0]),
        op(
            Op::Text,
            0,
            &event(r#"0{"sid":"\u0041","sid":"b","pid":null}"#),
        ),
        op(Op::Text, 0, &event("7")),
    ];
    seed(
        "client_ignores_text",
        [cfg(true, Parser::Default), LIMITS, TIMERS],
        &ops,
    );
}

fn main() {
    engine_seeds();
    socket_seeds();
    connection_seeds();

    // frame_decode: flags, bits, limits, fragments, chunking, wire.
    let big = 0x7 | (0x7 << 3); // 64 KiB frame and message limits
    let takeover = DeflateParams::default();
    let reset = DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 9,
        client_max_window_bits: 12,
    };
    for (name, flags, bits, deflate) in [
        ("server_plain", 0x70u8, 0xffu8, None),
        ("client_plain", 0x71, 0xff, None),
        ("server_deflate", 0x72, 0x77, Some(takeover)),
        ("client_deflate", 0x73, 0x77, Some(takeover)),
        ("server_deflate_reset", 0x7e, 0x14, Some(reset)),
        ("client_deflate_reset", 0x7f, 0x14, Some(reset)),
    ] {
        let role = if flags & 1 == 0 {
            Role::Server
        } else {
            Role::Client
        };
        for (chunking, suffix) in [(0u8, "whole"), (1, "bytes"), (9, "pieces")] {
            let mut data = vec![flags, bits, big, 5, chunking];
            data.extend(stream(role, deflate));
            write("frame_decode", &format!("{name}_{suffix}"), &data);
        }
    }
    // Limits hit, and protocol errors.
    let mut tiny = vec![0x10, 0, 0x09, 0, 0];
    tiny.extend(stream(Role::Server, None));
    write("frame_decode", "tiny_limits", &tiny);
    write(
        "frame_decode",
        "unmasked_to_server",
        &[0x70, 0, big, 5, 0, 0x81, 0x02, b'h', b'i'],
    );
    write(
        "frame_decode",
        "reserved_opcode",
        &[0x71, 0, big, 5, 0, 0x83, 0x00],
    );
    write(
        "frame_decode",
        "bad_utf8",
        &[0x71, 0, big, 5, 0, 0x81, 0x02, 0xc3, 0x28],
    );
    write("frame_decode", "len_126", &{
        let mut d = vec![0x71, 0, big, 5, 3, 0x82, 0x7e, 0x00, 0x7e];
        d.extend([0xab; 126]);
        d
    });
    write("frame_decode", "len_127", &{
        let mut d = vec![0x71, 0, big, 5, 3, 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        d.extend([0xab; 300]);
        d
    });

    // handshake: flags, sel, head.
    let request = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other, chat\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate\r\n\r\n";
    let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: @ACCEPT@\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n\r\n";
    for (name, flags, sel, head) in [
        ("request_plain", 0x00u8, 0x00u8, request),
        ("request_deflate_protocols", 0x03, 0x30, request),
        ("request_small_limits", 0x07, 0x1f, request),
        ("response_plain", 0x10, 0x00, response),
        ("response_deflate", 0x18, 0x29, response),
        ("response_deflate_pieces", 0x18, 0xf9, response),
        ("response_small_limits", 0x1c, 0x0a, response),
    ] {
        let mut data = vec![flags, sel];
        data.extend_from_slice(head.as_bytes());
        write("handshake", name, &data);
    }
    let minimal = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: @ACCEPT@\r\n\r\n";
    write(
        "handshake",
        "response_minimal",
        &[&[0x00, 0x00][..], minimal.as_bytes()].concat(),
    );
    write("handshake", "url", b"\x00\x00ws://[::1]:9001/p?q=1");

    // inflate: flags, bits, limit, shape, payload.
    let json = (0..60)
        .map(|i| format!("{{\"id\":{i},\"name\":\"user-{i}\",\"tags\":[\"a\",\"b\"]}},"))
        .collect::<String>();
    let rfc_hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let seeds: Vec<(&str, [u8; 4], Vec<u8>)> = vec![
        ("rfc_hello_server", [0x10, 0xff, 2, 0], rfc_hello.to_vec()),
        (
            "rfc_hello_client_reset",
            [0x1d, 0xff, 2, 1],
            rfc_hello.to_vec(),
        ),
        (
            "json_l1_w15",
            [0x10, 0x77, 5, 2],
            raw_deflate(json.as_bytes(), 1, 15),
        ),
        (
            "json_l9_w9",
            [0x1c, 0x11, 5, 3],
            raw_deflate(json.as_bytes(), 9, 9),
        ),
        (
            "json_ping_between",
            [0x30, 0x77, 5, 1],
            raw_deflate(json.as_bytes(), 6, 15),
        ),
        (
            "binary_w12",
            [0x04, 0x44, 4, 2],
            raw_deflate(&(0..=255u8).cycle().take(3000).collect::<Vec<u8>>(), 6, 12),
        ),
        (
            "bomb_over_limit",
            [0x08, 0x77, 3, 1],
            raw_deflate(&vec![0u8; 200_000], 9, 15),
        ),
        (
            "utf8_multibyte",
            [0x1c, 0x77, 5, 3],
            raw_deflate("κόσμε 你好 🎉".repeat(40).as_bytes(), 6, 15),
        ),
        (
            "stored_block",
            [0x10, 0x77, 2, 0],
            vec![0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o'],
        ),
        (
            "stored_final",
            [0x10, 0x77, 2, 0],
            vec![0x01, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o'],
        ),
        ("empty", [0x00, 0x77, 2, 0], vec![]),
    ];
    for (name, head, payload) in seeds {
        write("inflate", name, &[&head[..], &payload].concat());
    }
}
