//! Socket.IO packet decoding and encoding, with the text parser and the
//! msgpack parser, beside what a naive implementation does with the same
//! JSON, in one run so that ratios can be quoted.
//!
//! Packets (the JSON payload of each is the baseline's input):
//!
//! - `small_event`: `2["chat message","hello"]`
//! - `event_1KiB`: `2["update",{…}]`, an object of about 1 KiB
//! - `binary_64KiB`: `51-["upload",{"_placeholder":true,"num":0}]` and one
//!   64 KiB attachment (the msgpack form carries it inline)
//! - `ack`: `312["ok",{"saved":true,"version":7}]`
//!
//! In each `decode/<packet>` group: `text` is [`Decoder::decode_text`]
//! (then `decode_binary` for the attachment) from a shared `Str`, as the
//! server gets it from Engine.IO; `msgpack` is [`decode_msgpack`] of the
//! same packet encoded by socket.io-msgpack-parser's rules; `serde_json_value`
//! is `serde_json::from_str::<serde_json::Value>` of the JSON payload alone
//! (no packet header, no attachment): the first step of a decoder that
//! builds a value tree. In each `encode/<packet>` group: `text` is
//! [`Packet::encode`], `msgpack` is [`encode_msgpack`], `serde_json_value`
//! is `serde_json::to_vec` of that value tree.
//!
//! Run: `cargo bench -p sockio-core --bench socket_packet -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockio_core::engine::Str;
use sockio_core::socket::{Decoder, DecoderConfig, Packet, Parser, decode_msgpack, encode_msgpack};

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

/// A JSON object of about 1 KiB: records with numbers, strings, booleans
/// and a small array, as an application update might carry.
fn object_1k() -> String {
    let mut rng = Rng(0x5eed);
    let mut s = String::from("{");
    let mut i = 0;
    while s.len() < 950 {
        let r = rng.next();
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#""item{i}":{{"id":{},"name":"user-{}","active":{},"score":{}.{:02},"tags":["t{}","t{}"]}}"#,
            r % 100_000,
            (r >> 16) % 10_000,
            r & 1 == 0,
            (r >> 8) % 1000,
            (r >> 20) % 100,
            (r >> 30) % 16,
            (r >> 34) % 16,
        ));
        i += 1;
    }
    s.push('}');
    s
}

/// One benchmarked packet in both encodings.
struct Case {
    name: &'static str,
    /// The text message of the default parser.
    text: Str,
    /// Its attachments.
    attachments: Vec<Bytes>,
    /// The JSON payload of the text message (the baseline's input).
    json: String,
    /// The same packet as one msgpack message.
    msgpack: Bytes,
    /// The decoded packet (what the encoders get).
    packet: Packet,
}

impl Case {
    fn new(name: &'static str, text: String, attachments: Vec<Bytes>) -> Self {
        let json_start = text.find(['[', '{']).expect("a JSON payload");
        let json = text[json_start..].to_owned();
        let text = Str::from(text);
        let mut decoder = Decoder::default();
        let mut packet = decoder.decode_text(&text).expect("valid");
        for a in &attachments {
            packet = decoder.decode_binary(a.clone()).expect("valid");
        }
        let packet = packet.expect("complete");
        let msgpack = encode_msgpack(&packet);
        Self {
            name,
            text,
            attachments,
            json,
            msgpack,
            packet,
        }
    }

    /// Bytes on the wire with the text parser.
    fn wire_len(&self) -> u64 {
        (self.text.len() + self.attachments.iter().map(Bytes::len).sum::<usize>()) as u64
    }
}

fn cases() -> Vec<Case> {
    let attachment = Bytes::from(
        (0..64 << 10)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<u8>>(),
    );
    vec![
        Case::new(
            "small_event",
            r#"2["chat message","hello"]"#.to_owned(),
            Vec::new(),
        ),
        Case::new(
            "event_1KiB",
            format!(r#"2["update",{}]"#, object_1k()),
            Vec::new(),
        ),
        Case::new(
            "binary_64KiB",
            r#"51-["upload",{"_placeholder":true,"num":0}]"#.to_owned(),
            vec![attachment],
        ),
        Case::new(
            "ack",
            r#"312["ok",{"saved":true,"version":7}]"#.to_owned(),
            Vec::new(),
        ),
    ]
}

fn bench_decode(c: &mut Criterion) {
    let msgpack_config = DecoderConfig::default().parser(Parser::Msgpack);
    for case in cases() {
        let mut g = c.benchmark_group(format!("decode/{}", case.name));
        g.throughput(Throughput::Bytes(case.wire_len()));
        let mut decoder = Decoder::default();
        g.bench_function("text", |b| {
            b.iter(|| {
                let mut packet = decoder.decode_text(black_box(&case.text)).expect("valid");
                for a in &case.attachments {
                    packet = decoder.decode_binary(a.clone()).expect("valid");
                }
                black_box(packet.expect("complete"))
            });
        });
        g.bench_function("msgpack", |b| {
            b.iter(|| decode_msgpack(black_box(&case.msgpack), &msgpack_config).expect("valid"));
        });
        g.bench_function("serde_json_value", |b| {
            b.iter(|| {
                serde_json::from_str::<serde_json::Value>(black_box(&case.json)).expect("valid")
            });
        });
        g.finish();
    }
}

fn bench_encode(c: &mut Criterion) {
    for case in cases() {
        let mut g = c.benchmark_group(format!("encode/{}", case.name));
        g.throughput(Throughput::Bytes(case.wire_len()));
        g.bench_function("text", |b| b.iter(|| black_box(&case.packet).encode()));
        g.bench_function("msgpack", |b| {
            b.iter(|| encode_msgpack(black_box(&case.packet)));
        });
        let value: serde_json::Value = serde_json::from_str(&case.json).expect("valid");
        g.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::to_vec(black_box(&value)).expect("serializable"));
        });
        g.finish();
    }
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
