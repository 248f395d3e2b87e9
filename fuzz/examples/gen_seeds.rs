//! Writes the seed inputs under `seeds/<target>/` (run from `fuzz/`:
//! `cargo run --no-default-features --example gen_seeds`). Each input
//! starts with the configuration bytes its target documents.

use std::fs;
use std::path::Path;

use bytes::BytesMut;
use flate2::{Compress, Compression, FlushCompress};
use sockio_ws::frame::OpCode;
use sockio_ws::{CloseFrame, Config, DeflateConfig, DeflateParams, Encoder, Message, Role};

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

fn main() {
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
