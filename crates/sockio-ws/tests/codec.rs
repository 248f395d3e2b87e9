//! The codec against RFC 6455's examples, and round trips of arbitrary
//! messages, fragmented anywhere, in both roles, with and without
//! compression.

mod support;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sockio_ws::frame::OpCode;
use sockio_ws::{Config, Decoder, DeflateConfig, DeflateParams, Encoder, Message, Role};
use support::{decode_all, decode_chunked};

fn encode(role: Role, msg: &Message) -> Vec<u8> {
    Encoder::new(role, &Config::default(), None)
        .encode_to_bytes(msg)
        .to_vec()
}

/// RFC 6455 section 5.7, each example byte for byte, both directions.
#[test]
fn rfc6455_section_5_7_examples() {
    let hello = Message::text("Hello");

    // A single-frame unmasked text message.
    let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(encode(Role::Server, &hello), unmasked);
    let mut client = Decoder::new(Role::Client, &Config::default(), None);
    assert_eq!(
        decode_all(&mut client, &unmasked),
        (vec![hello.clone()], None)
    );

    // A single-frame masked text message.
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut server = Decoder::new(Role::Server, &Config::default(), None);
    assert_eq!(
        decode_all(&mut server, &masked),
        (vec![hello.clone()], None)
    );

    // A fragmented unmasked text message.
    let fragmented = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    assert_eq!(decode_all(&mut client, &fragmented), (vec![hello], None));

    // Unmasked ping, masked pong.
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(
        encode(Role::Server, &Message::Ping(Bytes::from_static(b"Hello"))),
        ping
    );
    assert_eq!(
        decode_all(&mut client, &ping),
        (vec![Message::Ping(Bytes::from_static(b"Hello"))], None)
    );
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        decode_all(&mut server, &pong),
        (vec![Message::Pong(Bytes::from_static(b"Hello"))], None)
    );

    // 256 bytes binary in a single unmasked frame: 16-bit length.
    let data = vec![0xa5u8; 256];
    let frame = encode(Role::Server, &Message::binary(data.clone()));
    assert_eq!(&frame[..4], &[0x82, 0x7e, 0x01, 0x00]);
    assert_eq!(&frame[4..], &data[..]);
    assert_eq!(
        decode_all(&mut client, &frame),
        (vec![Message::binary(data)], None)
    );

    // 64 KiB binary in a single unmasked frame: 64-bit length.
    let data = vec![0x5au8; 65536];
    let frame = encode(Role::Server, &Message::binary(data.clone()));
    assert_eq!(&frame[..10], &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(
        decode_all(&mut client, &frame),
        (vec![Message::binary(data)], None)
    );
}

/// RFC 7692 section 7.2.3: the compressed "Hello" examples.
#[test]
fn rfc7692_examples() {
    let params = DeflateParams::default();
    let config = Config::default();
    // 7.2.3.1: one compressed frame.
    let mut client = Decoder::new(Role::Client, &config, Some(params));
    let one = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(
        decode_all(&mut client, &one),
        (vec![Message::text("Hello")], None)
    );
    // 7.2.3.1: the same, fragmented.
    let frag = [
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(
        decode_all(&mut client, &frag),
        (vec![Message::text("Hello")], None)
    );
    // 7.2.3.2: sharing the LZ77 window, the second "Hello" refers back.
    let mut client = Decoder::new(Role::Client, &config, Some(params));
    let shared = [
        0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00,
        0x00,
    ];
    assert_eq!(
        decode_all(&mut client, &shared),
        (vec![Message::text("Hello"), Message::text("Hello")], None)
    );
    // 7.2.3.3: a "DEFLATE block with no compression".
    let stored = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    let mut client = Decoder::new(Role::Client, &config, Some(params));
    assert_eq!(
        decode_all(&mut client, &stored),
        (vec![Message::text("Hello")], None)
    );
    // 7.2.3.4: a "DEFLATE block with BFINAL set".
    let bfinal = [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let mut client = Decoder::new(Role::Client, &config, Some(params));
    assert_eq!(
        decode_all(&mut client, &bfinal),
        (vec![Message::text("Hello")], None)
    );
}

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        "\\PC{0,300}".prop_map(|s: String| Message::text(s)),
        proptest::collection::vec(any::<u8>(), 0..3000).prop_map(Message::binary),
        // Compressible text, so compressed frames are not all stored blocks.
        ("[ab ]{0,20}", 0usize..200).prop_map(|(s, n)| Message::text(s.repeat(n))),
    ]
}

/// Splits `payload` into frames at `cuts` (first frame: the data opcode,
/// RSV1 if compressed; then continuations), with a ping after each
/// non-final fragment when `pings` is set.
fn fragment(
    enc: &mut Encoder,
    opcode: OpCode,
    compressed: bool,
    payload: &[u8],
    cuts: &[usize],
    pings: bool,
    out: &mut BytesMut,
) -> usize {
    let mut points: Vec<usize> = cuts.iter().map(|&c| c % (payload.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    points.retain(|&p| p != 0 && p != payload.len());
    points.push(payload.len());
    let mut start = 0;
    let mut ping_count = 0;
    for (i, &end) in points.iter().enumerate() {
        let first = i == 0;
        let last = i == points.len() - 1;
        let op = if first { opcode } else { OpCode::Continuation };
        enc.encode_frame(op, last, first && compressed, &payload[start..end], out);
        if pings && !last {
            enc.encode_frame(OpCode::Ping, true, false, b"p", out);
            ping_count += 1;
        }
        start = end;
    }
    ping_count
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any messages, fragmented at any points, pings between fragments,
    /// delivered in any chunking, come out whole and in order: sent by
    /// either role, compressed (with or without context takeover) or not.
    #[test]
    fn round_trip(
        msgs in proptest::collection::vec(arb_message(), 1..4),
        cuts in proptest::collection::vec(proptest::collection::vec(any::<usize>(), 0..4), 4),
        chunks in proptest::collection::vec(any::<usize>(), 0..6),
        sender_is_client: bool,
        compressed: bool,
        no_takeover: bool,
        pings: bool,
    ) {
        let (sender, receiver) = if sender_is_client { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let params = DeflateParams {
            server_no_context_takeover: no_takeover,
            client_no_context_takeover: no_takeover,
            ..DeflateParams::default()
        };
        let deflate = compressed.then_some(params);
        let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
        // A plain encoder frames; a compressing one (server role: unmasked
        // output) gives the compressed payloads, with the context rules of
        // the sending side.
        let mut framer = Encoder::new(sender, &Config::default(), None);
        let mut compressor = Encoder::new(Role::Server, &config, Some(DeflateParams {
            server_no_context_takeover: no_takeover,
            ..params
        }));
        let mut wire = BytesMut::new();
        let mut expected = Vec::new();
        for (msg, cuts) in msgs.iter().zip(cuts.iter().cycle()) {
            let (opcode, raw) = match msg {
                Message::Text(t) => (OpCode::Text, t.as_bytes().to_vec()),
                Message::Binary(b) => (OpCode::Binary, b.to_vec()),
                _ => unreachable!(),
            };
            let payload = if compressed {
                let frame = compressor.encode_to_bytes(msg);
                let (_, len) = sockio_ws::frame::FrameHeader::parse(&frame).unwrap().unwrap();
                frame[len..].to_vec()
            } else {
                raw
            };
            let n = fragment(&mut framer, opcode, compressed, &payload, cuts, pings, &mut wire);
            expected.extend(std::iter::repeat_n(Message::Ping(Bytes::from_static(b"p")), n));
            expected.push(msg.clone());
        }
        let mut dec = Decoder::new(receiver, &Config::default(), deflate);
        let cut_points: Vec<usize> = chunks.iter().map(|c| c % (wire.len() + 1)).collect();
        let (got, err) = decode_chunked(&mut dec, &wire, &cut_points);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, expected);
    }
}

/// RFC 7692 lets the sender choose per message: an uncompressed message
/// goes out with RSV1 clear, and the compressed messages around it still
/// decode (the shared LZ77 window is left as it was).
#[test]
fn per_message_choice_of_compression() {
    let params = DeflateParams::default();
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let mut enc = Encoder::new(Role::Server, &config, Some(params));
    let text = Message::text("compressible ".repeat(100));
    let mut out = BytesMut::new();
    enc.encode(&text, &mut out);
    assert_eq!(out[0], 0xc1, "first: compressed, RSV1 set");
    let first = out.split();
    enc.encode_uncompressed(&text, &mut out);
    assert_eq!(out[0], 0x81, "second: RSV1 clear");
    assert_eq!(&out[4..], text_bytes(&text), "second: the text as it is");
    let second = out.split();
    enc.encode(&text, &mut out);
    assert_eq!(out[0], 0xc1, "third: compressed again");
    let mut wire = first.to_vec();
    wire.extend_from_slice(&second);
    wire.extend_from_slice(&out);
    let mut client = Decoder::new(Role::Client, &config, Some(params));
    assert_eq!(
        decode_all(&mut client, &wire),
        (vec![text.clone(), text.clone(), text], None)
    );
}

fn text_bytes(msg: &Message) -> &[u8] {
    match msg {
        Message::Text(t) => t.as_bytes(),
        _ => unreachable!(),
    }
}
