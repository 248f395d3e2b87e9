//! sockio-ws against tungstenite 0.30, the same operation side by side in
//! one run, so that ratios can be quoted.
//!
//! Every group has a `sockio` function and a baseline. The baseline is
//! `tungstenite` wherever tungstenite has the operation behind a public API;
//! where it does not, the baseline is named for what it is (the group name
//! says so too):
//!
//! - `decode/*`: our `Decoder::decode` (server role, masked client frames)
//!   against tungstenite's whole read path, `WebSocket::read` over an
//!   in-memory stream (its frame codec is private). Both sides copy the
//!   wire bytes into their own buffer first (we `extend_from_slice` into a
//!   `BytesMut`; tungstenite reads from a `Cursor`), then unmask, check
//!   UTF-8 for text, and return a message. Time is per frame: many frames
//!   are pre-encoded into one buffer and decoded in a batch.
//! - `encode/*`: `Encoder::encode` (server role) into a reused buffer,
//!   against `Frame::message(..).format(&mut Vec)`, also into a reused
//!   buffer; `sockio_encode_server_frame` is the allocating broadcast helper
//!   and `sockio_encode_zero_copy` (64 KiB only) writes the header alone and
//!   hands the payload back for a vectored write.
//! - `unmask/*`: `mask::apply_mask` against `mask::apply_mask_bytewise`.
//!   tungstenite's `apply_mask` is in a private module in 0.30, so it cannot
//!   be called here; `tungstenite_fast32_port` is its word-at-a-time
//!   algorithm rewritten without `unsafe` (this crate forbids it), for
//!   reference only. tungstenite's real unmask runs inside `decode/64KiB`.
//! - `utf8/*`: `Utf8Validator::feed` + `finish` against `std::str::from_utf8`,
//!   which is what tungstenite 0.30 runs on a whole text frame.
//! - `deflate_rt_*`: round trip (compress + decompress), with and without
//!   context takeover. tungstenite has no permessage-deflate, so the
//!   baseline is flate2 used directly (raw deflate, level 1, sync flush,
//!   trailer removed and re-added, UTF-8 check of the output), with the same
//!   zlib-rs backend the library is built with.
//!
//! Run: `cargo bench -p sockio-ws --bench ws -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use sockio_ws::frame::{OpCode, encode_server_frame};
use sockio_ws::mask::{apply_mask, apply_mask_bytewise};
use sockio_ws::utf8::Utf8Validator;
use sockio_ws::{Config, Decoder, DeflateConfig, DeflateParams, Encoder, Message, Role};

use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode as TOpCode};
use tungstenite::protocol::{Role as TRole, WebSocket};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A small deterministic PRNG (xorshift64*), so inputs are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// JSON-like text of exactly `len` bytes (ASCII), records with varying
/// numbers and names, as a Socket.IO event stream might carry.
fn json_like(len: usize) -> String {
    let mut rng = Rng(0x5eed);
    let mut s = String::from("[");
    let mut i = 0u64;
    while s.len() < len {
        let r = rng.next();
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user-{}\",\"email\":\"u{}@example.com\",\"active\":{},\"score\":{}.{:02},\"tags\":[\"t{}\",\"t{}\"]}},",
            r % 10_000,
            (r >> 16) % 100_000,
            r & 1 == 0,
            (r >> 8) % 1000,
            (r >> 20) % 100,
            (r >> 30) % 16,
            (r >> 34) % 16,
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

/// Multibyte text of about `len` bytes (cut at a character boundary): Greek,
/// Cyrillic, CJK and emoji with some ASCII punctuation.
fn multibyte_text(len: usize) -> String {
    let pieces = [
        "κόσμε ",
        "привет мир ",
        "你好，世界。",
        "こんにちは ",
        "🎉🚀 ",
        "Grüße, ",
        "€ 10 ",
    ];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// `count` copies of `msg`, encoded as masked client frames.
fn client_frames(msg: &Message, count: usize) -> Vec<u8> {
    let mut enc = Encoder::new(Role::Client, &Config::default(), None);
    let mut out = BytesMut::new();
    for _ in 0..count {
        enc.encode(msg, &mut out);
    }
    out.to_vec()
}

/// Runs `batch` (which processes `per_batch` items) often enough to cover
/// `iters` items and returns the time scaled to exactly `iters` items, so
/// criterion reports the time of one item.
fn per_item(iters: u64, per_batch: usize, mut batch: impl FnMut()) -> Duration {
    let batches = iters.div_ceil(per_batch as u64).max(1);
    let start = Instant::now();
    for _ in 0..batches {
        batch();
    }
    let elapsed = start.elapsed().as_nanos();
    let done = u128::from(batches) * per_batch as u128;
    Duration::from_nanos((elapsed * u128::from(iters) / done) as u64)
}

fn decode_group(
    g: &mut BenchmarkGroup<'_, WallTime>,
    msg: &Message,
    count: usize,
    payload_len: usize,
) {
    g.throughput(Throughput::Bytes(payload_len as u64));
    let wire = client_frames(msg, count);

    let mut dec = Decoder::new(Role::Server, &Config::default(), None);
    let mut buf = BytesMut::with_capacity(wire.len());
    g.bench_function("sockio", |b| {
        b.iter_custom(|iters| {
            per_item(iters, count, || {
                buf.extend_from_slice(&wire);
                for _ in 0..count {
                    let m = dec.decode(&mut buf).expect("valid").expect("complete");
                    black_box(m);
                }
            })
        });
    });
    assert!(buf.is_empty());

    let mut ws = WebSocket::from_raw_socket(Cursor::new(wire.clone()), TRole::Server, None);
    g.bench_function("tungstenite", |b| {
        b.iter_custom(|iters| {
            per_item(iters, count, || {
                ws.get_mut().set_position(0);
                for _ in 0..count {
                    let m = ws.read().expect("valid");
                    black_box(m);
                }
            })
        });
    });
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode/16B_text_masked");
    decode_group(&mut g, &Message::text("0123456789abcdef"), 1024, 16);
    g.finish();

    let mut g = c.benchmark_group("decode/64KiB_binary_masked");
    let payload = Bytes::from(random_bytes(64 << 10, 1));
    decode_group(&mut g, &Message::Binary(payload), 16, 64 << 10);
    g.finish();
}

fn encode_group(g: &mut BenchmarkGroup<'_, WallTime>, text: bool, payload: &Bytes) {
    g.throughput(Throughput::Bytes(payload.len() as u64));
    let msg = if text {
        Message::Text(sockio_ws::Utf8Bytes::try_from_bytes(payload.clone()).expect("text payload"))
    } else {
        Message::Binary(payload.clone())
    };
    let (our_op, their_op) = if text {
        (OpCode::Text, TOpCode::Data(Data::Text))
    } else {
        (OpCode::Binary, TOpCode::Data(Data::Binary))
    };

    let mut enc = Encoder::new(Role::Server, &Config::default(), None);
    let mut out = BytesMut::with_capacity(payload.len() + 14);
    g.bench_function("sockio", |b| {
        b.iter(|| {
            out.clear();
            enc.encode(black_box(&msg), &mut out);
            black_box(&out);
        });
    });

    let mut vec = Vec::with_capacity(payload.len() + 14);
    g.bench_function("tungstenite", |b| {
        b.iter(|| {
            vec.clear();
            Frame::message(black_box(payload).clone(), their_op, true)
                .format(&mut vec)
                .expect("vec write");
            black_box(&vec);
        });
    });

    g.bench_function("sockio_encode_server_frame", |b| {
        b.iter(|| black_box(encode_server_frame(our_op, black_box(payload))));
    });

    // Header only; the payload is handed back for a vectored write (payloads
    // of 4 KiB and more; smaller ones fall back to `encode`).
    if payload.len() >= 4096 {
        g.bench_function("sockio_encode_zero_copy", |b| {
            b.iter(|| {
                out.clear();
                let rest = enc.encode_zero_copy(black_box(&msg), &mut out);
                black_box((&out, rest));
            });
        });
    }
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode/16B_text_server");
    encode_group(&mut g, true, &Bytes::from_static(b"0123456789abcdef"));
    g.finish();

    let mut g = c.benchmark_group("encode/64KiB_binary_server");
    encode_group(&mut g, false, &Bytes::from(random_bytes(64 << 10, 2)));
    g.finish();
}

/// tungstenite 0.30's `apply_mask_fast32` (XOR by native-endian u32 words),
/// without its `unsafe` `align_to_mut`. Reference only: not tungstenite's
/// compiled code.
fn tungstenite_fast32_port(buf: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = buf.chunks_exact_mut(4);
    for c in &mut chunks {
        let w = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) ^ word;
        c.copy_from_slice(&w.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i];
    }
}

fn bench_unmask(c: &mut Criterion) {
    for (name, len) in [("unmask/64KiB", 64usize << 10), ("unmask/1MiB", 1 << 20)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(len as u64));
        let mut buf = random_bytes(len, 3);
        g.bench_function("sockio", |b| {
            b.iter(|| apply_mask(black_box(&mut buf), black_box(KEY), 0));
        });
        g.bench_function("baseline_bytewise", |b| {
            b.iter(|| apply_mask_bytewise(black_box(&mut buf), black_box(KEY), 0));
        });
        g.bench_function("tungstenite_fast32_port", |b| {
            b.iter(|| tungstenite_fast32_port(black_box(&mut buf), black_box(KEY)));
        });
        g.finish();
    }
}

fn bench_utf8(c: &mut Criterion) {
    let ascii = json_like(64 << 10);
    let multi = multibyte_text(64 << 10);
    for (name, text) in [
        ("utf8/64KiB_ascii_json", ascii.as_bytes()),
        ("utf8/64KiB_multibyte", multi.as_bytes()),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("sockio", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(text)).expect("utf-8");
                v.finish().expect("complete");
            });
        });
        // tungstenite 0.30 checks a whole text frame with std::str::from_utf8.
        g.bench_function("tungstenite", |b| {
            b.iter(|| std::str::from_utf8(black_box(text)).expect("utf-8").len());
        });
        g.finish();
    }
}

/// RFC 7692's sync-flush trailer.
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

fn bench_deflate(c: &mut Criterion) {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

    let json = json_like(16 << 10);
    for takeover in [false, true] {
        let name = if takeover {
            "deflate_rt_16KiB_json_ctx_takeover (vs flate2: tungstenite has no deflate)"
        } else {
            "deflate_rt_16KiB_json_no_ctx_takeover (vs flate2: tungstenite has no deflate)"
        };
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(json.len() as u64));

        // Server sends, client receives: no masking, only deflate.
        let config = Config::default().deflate(DeflateConfig::enabled());
        let params = DeflateParams {
            server_no_context_takeover: !takeover,
            client_no_context_takeover: !takeover,
            ..DeflateParams::default()
        };
        let mut enc = Encoder::new(Role::Server, &config, Some(params));
        let mut dec = Decoder::new(Role::Client, &config, Some(params));
        let msg = Message::text(json.clone());
        let mut wire = BytesMut::new();
        g.bench_function("sockio", |b| {
            b.iter(|| {
                wire.clear();
                enc.encode(black_box(&msg), &mut wire);
                let m = dec.decode(&mut wire).expect("valid").expect("complete");
                assert_eq!(m.len(), json.len());
                black_box(m);
            });
        });

        let level = Compression::new(config.deflate.level);
        let mut comp = Compress::new_with_window_bits(level, false, 15);
        let mut decomp = Decompress::new_with_window_bits(false, 15);
        let mut compressed: Vec<u8> = Vec::with_capacity(json.len() + 64);
        g.bench_function("flate2_direct", |b| {
            b.iter(|| {
                compressed.clear();
                comp.compress_vec(
                    black_box(json.as_bytes()),
                    &mut compressed,
                    FlushCompress::Sync,
                )
                .expect("compress");
                if compressed.ends_with(&TRAILER) {
                    compressed.truncate(compressed.len() - 4);
                }
                // The receiver's side: append the trailer, inflate, check.
                compressed.extend_from_slice(&TRAILER);
                let mut out = Vec::with_capacity(json.len() + 64);
                decomp
                    .decompress_vec(&compressed, &mut out, FlushDecompress::Sync)
                    .expect("decompress");
                assert_eq!(out.len(), json.len());
                std::str::from_utf8(&out).expect("utf-8");
                if !takeover {
                    comp.reset();
                    decomp.reset(false);
                }
                black_box(out);
            });
        });
        g.finish();
    }
}

criterion_group!(
    benches,
    bench_decode,
    bench_encode,
    bench_unmask,
    bench_utf8,
    bench_deflate
);
criterion_main!(benches);
