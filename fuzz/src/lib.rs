//! Fuzz targets for `sockio-ws` and `sockio-core`, as plain functions over
//! `&[u8]`.
//!
//! The `fuzz_targets/` binaries hand them to libFuzzer (`cargo fuzz run`);
//! [`driver`] runs them without libFuzzer on a stable toolchain (corpus
//! replay and a coverage-blind mutation loop), for the `replay` example and
//! the smoke test.
//!
//! Each target checks more than "does not panic". For sockio-ws
//! ([`frame_decode`], [`handshake`], [`inflate`]): decoding must not depend
//! on how the bytes were chunked, every decoded message must respect the
//! configured limits and survive an encode/decode round trip, errors must be
//! sticky, and inflated output must match flate2 run directly. For
//! sockio-core ([`engine_packet`], [`socket_decode`]): every Engine.IO
//! packet and payload decoded must fit in its input and survive every
//! encoding of both protocol revisions; the Socket.IO decoder must follow a
//! model of its reassembly state (attachments, their limits, the virtual
//! clock of `decode_text_at`/`decode_binary_at`/`expire`), and every packet
//! must fit the protocol and the limits and survive its encoder unchanged;
//! the Socket.IO connection state machine ([`connection`]), driven by
//! peer messages, driver calls and a virtual clock, must do, send and
//! report exactly what a model of it says after every step.
//!
//! The first few bytes of every input select a configuration; the rest is
//! the wire data. See each target for its layout:
//!
//! | target | layout |
//! | --- | --- |
//! | [`frame_decode`] | `flags, bits, limits, fragments, chunking, wire...` |
//! | [`inflate`] | `flags, bits, limit, shape, payload...` |
//! | [`handshake`] | `flags, sel, head...` |
//! | [`engine_packet`] | `sel, body...` |
//! | [`socket_decode`] | `cfg, limits, (head, body...) 0xc1 (head, body...) ...` |
//! | [`connection`] | `cfg, limits, timers, (op, body...) 0xc1 (op, body...) ...` |

use bytes::BytesMut;
use flate2::{Decompress, FlushDecompress, Status};
use sockio_ws::frame::{FrameHeader, OpCode};
use sockio_ws::handshake::client::{ClientHandshake, Connected, Target};
use sockio_ws::handshake::{accept_key, server};
use sockio_ws::mask::apply_mask;
use sockio_ws::{
    Config, Decoder, DeflateConfig, DeflateParams, Encoder, HandshakeError, Message, ProtocolError,
    Role,
};

mod connection;
pub mod driver;
mod engine_packet;
mod socket_decode;

pub use connection::{Op as ConnectionOp, connection};
pub use engine_packet::engine_packet;
pub use socket_decode::{MESSAGE_SEPARATOR, socket_decode};

/// Sizes the limits are drawn from: small, so that memory stays bounded
/// whatever lengths the frames announce, with the edges of the length
/// encodings (125/126, 65535/65536) among them.
const SIZES: [usize; 8] = [0, 1, 2, 125, 126, 1000, 65_535, 65_536];

/// Splits `data` into pieces according to `seed`: 0 keeps it whole, 1 cuts
/// it into single bytes, anything else cuts pseudo-random lengths from 0
/// (an empty read) to `seed`.
pub fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    match seed {
        0 => vec![data],
        1 => data.chunks(1).collect(),
        _ => {
            let mut rng = (u64::from(seed) * 0x9e37_79b9_7f4a_7c15) | 1;
            let mut out = Vec::new();
            let mut rest = data;
            while !rest.is_empty() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let n = (rng % (u64::from(seed) + 1)) as usize;
                let (a, b) = rest.split_at(n.min(rest.len()));
                out.push(a);
                rest = b;
            }
            out
        }
    }
}

fn deflate_params(flags: u8, bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: flags & 0x04 != 0,
        client_no_context_takeover: flags & 0x08 != 0,
        server_max_window_bits: 8 + (bits >> 4) % 8,
        client_max_window_bits: 8 + (bits & 0x0f) % 8,
    }
}

fn peer(role: Role) -> Role {
    match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    }
}

/// What a decoder produced from a byte stream.
#[derive(Debug, Default)]
struct Outcome {
    messages: Vec<Message>,
    error: Option<ProtocolError>,
}

/// Errors whose kind may depend on chunking: payload checks that run on
/// whatever part of a compressed frame has arrived (inflating a chunk comes
/// before checking its UTF-8, so a smaller chunk can fail on UTF-8 where a
/// bigger one fails on deflate data or size first).
fn chunk_dependent(e: &ProtocolError) -> bool {
    matches!(
        e,
        ProtocolError::InvalidUtf8
            | ProtocolError::CorruptDeflate
            | ProtocolError::DecompressedTooLarge { .. }
    )
}

/// Checks a message against the decoder's limits and invariants.
fn check_message(m: &Message, config: &Config, deflate: bool) {
    let max_data = if deflate {
        config.max_message_size.max(config.max_decompressed_size)
    } else {
        config.max_message_size
    };
    match m {
        Message::Text(t) => {
            assert!(std::str::from_utf8(t.as_bytes()).is_ok(), "text is UTF-8");
            assert!(t.len() <= max_data, "text of {} over the limits", t.len());
        }
        Message::Binary(b) => assert!(b.len() <= max_data, "binary of {} over the limits", b.len()),
        Message::Ping(p) | Message::Pong(p) => {
            assert!(p.len() <= 125, "control payload {}", p.len())
        }
        Message::Close(Some(f)) => {
            assert!(f.code.is_sendable(), "close code {}", f.code);
            assert!(f.reason.len() <= 123, "close reason of {}", f.reason.len());
        }
        Message::Close(None) => {}
    }
}

/// Feeds `pieces` to a fresh decoder, taking every message out after each.
fn run_decoder<'a>(
    role: Role,
    config: &Config,
    deflate: Option<DeflateParams>,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Outcome {
    let mut dec = Decoder::new(role, config, deflate);
    let mut buf = BytesMut::new();
    let mut out = Outcome::default();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(m)) => {
                    check_message(&m, config, deflate.is_some());
                    out.messages.push(m);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.close_code();
                    let _ = e.to_string();
                    assert_eq!(dec.decode(&mut buf), Err(e.clone()), "errors are sticky");
                    out.error = Some(e);
                    return out;
                }
            }
        }
    }
    out
}

/// `frame_decode`: arbitrary bytes through a [`Decoder`].
///
/// Layout: `flags, bits, limits, fragments, chunking, wire...`
/// - `flags`: bit 0 role (0 server, 1 client); bit 1 deflate negotiated;
///   bits 2/3 server/client no_context_takeover; bits 4-6 the
///   decompressed-size limit; bit 7 compression level 1 or 9 for the round
///   trip.
/// - `bits`: window bits, server in the high nibble, client in the low
///   (8 + n % 8).
/// - `limits`: frame size (bits 0-2) and message size (bits 3-5) limits,
///   from [`SIZES`].
/// - `fragments`: `max_fragments`, from 1, 2, 3, 10, 100, 100 000.
/// - `chunking`: see [`chunks`].
///
/// Checks: no panic; decoding the stream whole and in pieces gives the same
/// messages and fails (or not) alike; limits hold; errors are sticky; every
/// message decoded goes through a peer `Encoder` (`encode`,
/// `encode_fragmented` with 16 + 16 * `fragments` byte pieces, or
/// `encode_zero_copy`, in turn) and a second `Decoder` unchanged.
pub fn frame_decode(data: &[u8]) {
    let [flags, bits, limits, fragments, chunking, wire @ ..] = data else {
        return;
    };
    let role = if flags & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let deflate = (flags & 2 != 0).then(|| deflate_params(*flags, *bits));
    let mut config = Config::default();
    config.max_frame_size = SIZES[usize::from(limits & 7)];
    config.max_message_size = SIZES[usize::from((limits >> 3) & 7)];
    config.max_decompressed_size = SIZES[usize::from((flags >> 4) & 7)];
    config.max_fragments = [1, 2, 3, 10, 100, 100_000][usize::from(*fragments) % 6];

    let whole = run_decoder(role, &config, deflate, [wire]);
    let pieces = run_decoder(role, &config, deflate, chunks(wire, *chunking));
    assert_eq!(
        whole.messages, pieces.messages,
        "messages depend on chunking"
    );
    match (&whole.error, &pieces.error) {
        (None, None) => {}
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) if chunk_dependent(a) && chunk_dependent(b) => {}
        (a, b) => panic!("errors depend on chunking: whole {a:?}, in pieces {b:?}"),
    }

    // Round trip through the peer's encoder. Default limits: a compressed
    // re-encoding may be larger on the wire than the original.
    let level = if flags & 0x80 != 0 { 9 } else { 1 };
    let rt_config = Config::default().deflate(DeflateConfig::enabled().threshold(0).level(level));
    let mut enc = Encoder::new(peer(role), &rt_config, deflate);
    let mut dec = Decoder::new(role, &rt_config, deflate);
    let mut buf = BytesMut::new();
    for (i, m) in whole.messages.iter().enumerate() {
        // Each encoder entry point in turn.
        match (i + usize::from(*chunking)) % 3 {
            0 => enc.encode(m, &mut buf),
            1 => enc.encode_fragmented(m, 16 + usize::from(*fragments) * 16, &mut buf),
            _ => {
                if let Some(payload) = enc.encode_zero_copy(m, &mut buf) {
                    buf.extend_from_slice(&payload);
                }
            }
        }
        let back = dec
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("re-encoded {m:?} fails to decode: {e}"))
            .expect("a whole frame");
        assert_eq!(&back, m, "round trip");
        assert!(buf.is_empty());
    }
}

/// The RFC 7692 sync-flush trailer the receiver appends.
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What inflating `input` directly with flate2 gives, capped at `cap`
/// bytes of output.
enum Reference {
    /// All input consumed, within `cap`.
    Output(Vec<u8>),
    /// The output reached `cap` (whether or not the data turned out
    /// corrupt in the same call).
    Full,
    /// The data is not a valid deflate stream.
    Corrupt,
    /// The stream ended (BFINAL) or stalled: more than one stream, which
    /// the decoder handles and flate2 alone does not; not compared.
    Other,
}

fn reference_inflate(input: &[u8], window_bits: u8, cap: usize) -> Reference {
    let mut d = Decompress::new_with_window_bits(false, window_bits.clamp(9, 15));
    let mut out = Vec::with_capacity(cap);
    let status = d.decompress_vec(input, &mut out, FlushDecompress::Sync);
    // The decoder checks the size limit before the status of each call, so
    // output that reached the cap wins over an error found in the same call.
    if out.len() >= cap {
        return Reference::Full;
    }
    match status {
        Err(_) => Reference::Corrupt,
        Ok(Status::StreamEnd) => Reference::Other,
        Ok(_) if d.total_in() as usize == input.len() => Reference::Output(out),
        Ok(_) => Reference::Other,
    }
}

/// `inflate`: an arbitrary compressed payload in RSV1 data frames through a
/// [`Decoder`] with permessage-deflate negotiated.
///
/// Layout: `flags, bits, limit, shape, payload...`
/// - `flags`: bit 0 role (0 server: frames are masked); bits 2/3
///   server/client no_context_takeover; bit 4 text (else binary); bit 5 a
///   ping between the first two fragments.
/// - `bits`: window bits, as in [`frame_decode`].
/// - `limit`: `max_decompressed_size`, from 0, 1, 100, 1 KiB, 4 KiB,
///   16 KiB, 64 KiB, 1 MiB (bits 0-2).
/// - `shape`: the number of fragments, 1 + `shape % 4`.
///
/// Checks: the message's fate matches flate2 run directly on the payload
/// and trailer (same bytes, or corrupt, or over the limit, or bad UTF-8);
/// at most `limit` bytes are returned; after the message a valid one from
/// the peer's `Encoder` decodes correctly when the sender resets its
/// context per message, and an error is sticky.
pub fn inflate(data: &[u8]) {
    let [flags, bits, limit, shape, payload @ ..] = data else {
        return;
    };
    let role = if flags & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let params = deflate_params(*flags, *bits);
    let text = flags & 0x10 != 0;
    let limit = [0, 1, 100, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 1 << 20][usize::from(limit & 7)];
    let mut config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    config.max_decompressed_size = limit;

    // The compressed message, in fragments.
    let nfrags = 1 + usize::from(*shape) % 4;
    let step = payload.len().div_ceil(nfrags).max(1);
    let frags: Vec<&[u8]> = if payload.is_empty() {
        vec![payload]
    } else {
        payload.chunks(step).collect()
    };
    let key = [0x12, 0x34, 0x56, *shape];
    let mask = (role == Role::Server).then_some(key);
    let mut wire = BytesMut::new();
    let frame = |wire: &mut BytesMut, opcode, fin, rsv1, body: &[u8]| {
        FrameHeader {
            fin,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
            payload_len: body.len() as u64,
        }
        .encode(wire);
        let start = wire.len();
        wire.extend_from_slice(body);
        if let Some(key) = mask {
            apply_mask(&mut wire[start..], key, 0);
        }
    };
    let ping = flags & 0x20 != 0 && frags.len() > 1;
    for (i, f) in frags.iter().enumerate() {
        let opcode = match (i, text) {
            (0, true) => OpCode::Text,
            (0, false) => OpCode::Binary,
            _ => OpCode::Continuation,
        };
        frame(&mut wire, opcode, i + 1 == frags.len(), i == 0, f);
        if ping && i == 0 {
            frame(&mut wire, OpCode::Ping, true, false, b"p");
        }
    }
    // Then a valid message from the peer.
    let second = Message::binary(&b"second message, second message, second message"[..]);
    Encoder::new(peer(role), &config, Some(params)).encode(&second, &mut wire);

    let mut dec = Decoder::new(role, &config, Some(params));
    let mut first = dec.decode(&mut wire);
    if ping {
        // The ping comes out first, unless the first fragment already failed.
        match &first {
            Ok(Some(Message::Ping(p))) if p[..] == b"p"[..] => first = dec.decode(&mut wire),
            Ok(m) => panic!("expected the ping between the fragments, got {m:?}"),
            Err(_) => {}
        }
    }
    if let Ok(m) = &first {
        let m = m.as_ref().expect("the whole message is there");
        check_message(m, &config, true);
        assert!(m.len() <= limit, "{} bytes over the limit {limit}", m.len());
    }

    let window = match role {
        Role::Server => params.client_max_window_bits,
        Role::Client => params.server_max_window_bits,
    };
    let mut input = payload.to_vec();
    input.extend_from_slice(&TRAILER);
    let too_large = ProtocolError::DecompressedTooLarge { max: limit };
    let utf8_ok = |e: &ProtocolError| text && *e == ProtocolError::InvalidUtf8;
    match (reference_inflate(&input, window, limit + 1), &first) {
        (Reference::Output(out), Ok(Some(m))) => {
            let want = if text {
                Message::Text(
                    sockio_ws::Utf8Bytes::try_from_bytes(out.into()).expect("decoder said UTF-8"),
                )
            } else {
                Message::Binary(out.into())
            };
            assert_eq!(m, &want, "inflated output differs from flate2's");
        }
        (Reference::Output(out), Err(e)) => {
            assert!(
                utf8_ok(e) && std::str::from_utf8(&out).is_err(),
                "flate2 inflates {} bytes, the decoder fails: {e}",
                out.len()
            );
        }
        (Reference::Full, Err(e)) => assert!(*e == too_large || utf8_ok(e), "{e}"),
        (Reference::Corrupt, Err(e)) => {
            assert!(*e == ProtocolError::CorruptDeflate || utf8_ok(e), "{e}");
        }
        (Reference::Full | Reference::Corrupt, Ok(m)) => {
            panic!("the decoder accepts what flate2 rejects or finds over the limit: {m:?}")
        }
        (Reference::Other, _) => {}
        (_, Ok(None)) => unreachable!(),
    }

    let sender_resets = match role {
        Role::Server => params.client_no_context_takeover,
        Role::Client => params.server_no_context_takeover,
    };
    let next = dec.decode(&mut wire);
    match &first {
        Err(e) => assert_eq!(next.as_ref(), Err(e), "errors are sticky"),
        Ok(_) if sender_resets => {
            let want = if second.len() <= limit {
                Ok(Some(second))
            } else {
                Err(too_large)
            };
            assert_eq!(next, want, "message after a reset");
        }
        Ok(_) => {
            if let Ok(Some(m)) = &next {
                check_message(m, &config, true);
            }
        }
    }
}

/// The placeholder that the `handshake` target replaces with the right
/// `Sec-WebSocket-Accept` for the client's random key, so that the fuzzer
/// can reach the checks behind it.
pub const ACCEPT_PLACEHOLDER: &[u8] = b"@ACCEPT@";

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Parses a head in pieces the way a connection receives it, `from` being
/// what was already searched. Returns the first complete answer, or `None`
/// if the head never completed.
fn incremental<T>(
    data: &[u8],
    seed: u8,
    mut parse: impl FnMut(&[u8], usize) -> Result<Option<T>, HandshakeError>,
) -> Result<Option<T>, HandshakeError> {
    let mut have = 0;
    for piece in chunks(data, seed) {
        let from = have;
        have += piece.len();
        if let Some(done) = parse(&data[..have], from)? {
            return Ok(Some(done));
        }
    }
    Ok(None)
}

fn same_connected(a: &(Connected, usize), b: &(Connected, usize)) -> bool {
    a.1 == b.1
        && a.0.protocol == b.0.protocol
        && a.0.deflate == b.0.deflate
        && a.0.response.status() == b.0.response.status()
        && a.0.response.headers() == b.0.response.headers()
}

/// `handshake`: bytes to `server::parse_request` and `accept`, and to
/// `ClientHandshake::parse_response`.
///
/// Layout: `flags, sel, head...`
/// - `flags`: bit 0 the server accepts permessage-deflate; bit 1 the server
///   supports subprotocols `chat` and `superchat`; bit 2 small limits (512
///   bytes, 8 headers); bit 3 the client offers permessage-deflate; bit 4
///   the client offers subprotocol `chat`.
/// - `sel`: bits 0-3 deflate options (no_context_takeover server/client,
///   9-bit server window, 10-bit client window), on both sides; bits 4-7
///   the chunking seed.
/// - `head`: taken as a request by the server and as a response by the
///   client, with every `@ACCEPT@` replaced by the accept value of the
///   client's key.
///
/// Checks: no panic; parsing in pieces (with `from`) gives the same result
/// as parsing whole; an accepted request yields a response that parses;
/// negotiated deflate parameters work in an encoder/decoder pair.
pub fn handshake(data: &[u8]) {
    let [flags, sel, head @ ..] = data else {
        return;
    };
    let seed = sel >> 4;
    let deflate = DeflateConfig::enabled()
        .server_no_context_takeover(sel & 1 != 0)
        .client_no_context_takeover(sel & 2 != 0)
        .server_max_window_bits(if sel & 4 != 0 { 9 } else { 15 })
        .client_max_window_bits(if sel & 8 != 0 { 10 } else { 15 });
    let mut config = Config::default();
    if flags & 4 != 0 {
        config.max_handshake_size = 512;
        config.max_headers = 8;
    }
    let mut server_config = config.clone();
    if flags & 1 != 0 {
        server_config.deflate = deflate.clone();
    }
    if flags & 2 != 0 {
        server_config.protocols = vec!["chat".into(), "superchat".into()];
    }

    // Server side.
    let whole = server::parse_request(head, 0, &server_config);
    let pieces = incremental(head, seed, |buf, from| {
        server::parse_request(buf, from, &server_config)
    });
    match (&whole, &pieces) {
        (Ok(None), Ok(None)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "parse_request in pieces"),
        (Ok(Some((a, n))), Ok(Some((b, m)))) => {
            assert_eq!(n, m);
            assert!(*n <= head.len() && *n <= server_config.max_handshake_size);
            assert_eq!(
                (a.method(), a.uri(), a.version(), a.headers()),
                (b.method(), b.uri(), b.version(), b.headers())
            );
        }
        (a, b) => panic!("parse_request whole {a:?}, in pieces {b:?}"),
    }
    match whole {
        Ok(Some((req, _))) => match server::accept(&req, &server_config) {
            Ok(accepted) => {
                let res = accepted.response();
                assert_eq!(res.status(), 101);
                let mut out = BytesMut::new();
                accepted.write_response(&mut out);
                let mut headers = [httparse::EMPTY_HEADER; 16];
                let mut parsed = httparse::Response::new(&mut headers);
                assert_eq!(
                    parsed.parse(&out).map(|s| s.is_complete()),
                    Ok(true),
                    "our response head parses"
                );
                assert_eq!(parsed.code, Some(101));
                if let Some(p) = accepted.deflate {
                    check_params(p);
                }
            }
            Err(e) => {
                let _ = server::error_response(&e);
            }
        },
        Ok(None) => {}
        Err(e) => {
            let _ = (e.status(), server::error_response(&e));
        }
    }

    // Client side.
    let mut client_config = config;
    if flags & 8 != 0 {
        client_config.deflate = deflate;
    }
    if flags & 0x10 != 0 {
        client_config.protocols = vec!["chat".into()];
    }
    let target = Target::parse("ws://localhost/chat").expect("valid URL");
    let mut request = BytesMut::new();
    let hs = ClientHandshake::start(&target, &client_config, &[], &mut request);
    let accept = accept_key(hs.key().as_bytes());
    let response = replace_all(head, ACCEPT_PLACEHOLDER, accept.as_bytes());
    let whole = hs.parse_response(&response, 0);
    let pieces = incremental(&response, seed, |buf, from| hs.parse_response(buf, from));
    match (&whole, &pieces) {
        (Ok(None), Ok(None)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "parse_response in pieces"),
        (Ok(Some(a)), Ok(Some(b))) => assert!(same_connected(a, b), "parse_response in pieces"),
        (a, b) => panic!("parse_response whole {a:?}, in pieces {b:?}"),
    }
    if let Ok(Some((connected, n))) = whole {
        assert!(n <= response.len());
        if let Some(p) = connected.deflate {
            assert!(
                client_config.deflate.enabled,
                "deflate accepted without an offer"
            );
            check_params(p);
        }
    }

    // URL parsing, on the same bytes.
    if let Ok(s) = std::str::from_utf8(head) {
        let _ = Target::parse(s);
    }
}

/// Negotiated parameters must be usable: a message goes both ways.
fn check_params(p: DeflateParams) {
    assert!((8..=15).contains(&p.server_max_window_bits));
    assert!((8..=15).contains(&p.client_max_window_bits));
    let config = Config::default().deflate(DeflateConfig::enabled().threshold(0));
    let msg = Message::text("negotiated, negotiated, negotiated");
    for role in [Role::Server, Role::Client] {
        let mut enc = Encoder::new(role, &config, Some(p));
        let mut dec = Decoder::new(peer(role), &config, Some(p));
        let mut buf = BytesMut::new();
        for _ in 0..2 {
            enc.encode(&msg, &mut buf);
            assert_eq!(dec.decode(&mut buf), Ok(Some(msg.clone())));
        }
    }
}
