//! The `socket_decode` target: the Socket.IO decoders (sockio-core).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sockio_core::engine::Str;
use sockio_core::socket::{
    Args, DEFAULT_MAX_DEPTH, Data as SioData, DecodeError, Decoder as SioDecoder, DecoderConfig,
    Encoded, JsonKind, MAX_ACK_ID, Packet as SioPacket, PacketKind, Parser, RawJson,
    decode_msgpack, encode_msgpack, is_reserved_event,
};

/// The byte between two messages in a `socket_decode` input: `0xc1` is
/// neither in UTF-8 nor a MessagePack type byte, so it never cuts a text
/// message or a msgpack packet (only binary data, or numbers inside a
/// msgpack packet).
pub const MESSAGE_SEPARATOR: u8 = 0xc1;

/// `DecoderConfig::max_attachments` of the `socket_decode` target.
const MAX_ATTACHMENTS: [usize; 8] = [0, 1, 2, 3, 4, 10, 64, 1000];
/// `DecoderConfig::max_attachment_bytes`.
const MAX_ATTACHMENT_BYTES: [usize; 8] = [0, 1, 2, 16, 100, 1000, 65_536, 10_000_000];
/// `DecoderConfig::max_depth`.
const MAX_DEPTHS: [usize; 8] = [1, 2, 3, 4, 8, 32, 64, DEFAULT_MAX_DEPTH];
/// `DecoderConfig::attachment_timeout`, in milliseconds.
const TIMEOUTS_MS: [u64; 8] = [0, 1, 5, 20, 100, 1000, 30_000, 3_600_000];

/// A binary packet the `socket_decode` model expects the decoder to hold.
#[derive(Debug)]
struct Waiting {
    /// Its text message.
    text: Str,
    /// The attachments still expected.
    remaining: usize,
    /// Bytes of attachments so far.
    bytes: usize,
    /// The attachments so far.
    attachments: Vec<Bytes>,
    /// The time given with its text, if any.
    since: Option<Instant>,
}

impl Waiting {
    fn overdue(&self, now: Instant, timeout: Duration) -> bool {
        self.since
            .and_then(|s| s.checked_add(timeout))
            .is_some_and(|due| now >= due)
    }
}

/// The decoder's pending state matches the model.
fn check_pending(dec: &SioDecoder, model: Option<&Waiting>, timeout: Duration) {
    assert_eq!(
        dec.pending_attachments(),
        model.map_or(0, |w| w.remaining),
        "pending attachments"
    );
    let since = model.and_then(|w| w.since);
    assert_eq!(dec.pending_since(), since, "pending since");
    assert_eq!(
        dec.deadline(),
        since.and_then(|s| s.checked_add(timeout)),
        "deadline"
    );
}

/// The attachment count a binary packet's text announces (`51-...`).
fn announced(text: &[u8]) -> Option<u64> {
    let digits = text.get(1..)?;
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    (digits.get(end) == Some(&b'-')).then_some(())?;
    digits[..end].iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The nesting depth of JSON text (0 for a scalar).
fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A JSON value of a decoded packet is valid on its own, the same text
/// again, and nested within the limit (`outer` levels around it).
fn check_json(v: &RawJson, outer: usize, config: &DecoderConfig) {
    let again = RawJson::new(v.as_str().to_owned())
        .unwrap_or_else(|e| panic!("{v:?} is not valid JSON on its own: {e}"));
    assert_eq!(again.as_str(), v.as_str(), "whitespace around {v:?}");
    let depth = outer + json_depth(v.as_bytes());
    assert!(
        depth <= config.max_depth,
        "{v:?} nested {depth} deep, limit {}",
        config.max_depth
    );
    let _ = (v.kind(), v.as_string(), v.placeholder());
    let _ = v.deserialize::<serde_json::Value>();
}

/// Checks a packet the decoder produced from a `len`-byte message (the
/// text one, for the default parser) against the protocol and the limits.
fn check_socket_packet(p: &SioPacket, config: &DecoderConfig, len: usize) {
    assert!(p.nsp.starts_with('/'), "namespace {:?}", p.nsp);
    if let Some(id) = p.id {
        assert!(id <= MAX_ACK_ID, "ack id {id}");
    }
    assert!(!p.kind.is_ack() || p.id.is_some(), "an ack without id");
    let attachments = p.args().map_or(&[][..], Args::attachments);
    assert_eq!(
        p.kind.is_binary(),
        !attachments.is_empty(),
        "{:?} with {} attachments",
        p.kind,
        attachments.len()
    );
    assert!(attachments.len() <= config.max_attachments);
    let bytes: usize = attachments.iter().map(Bytes::len).sum();
    match config.parser {
        Parser::Default => assert!(bytes <= config.max_attachment_bytes),
        // Slices of the message.
        Parser::Msgpack => assert!(bytes <= len),
    }
    match (&p.data, p.kind.as_u8()) {
        (SioData::None, 0 | 1) => {}
        (SioData::Value(v), 0) => assert_eq!(v.kind(), JsonKind::Object),
        (SioData::Value(v), 4) => {
            assert!(matches!(v.kind(), JsonKind::Object | JsonKind::String));
        }
        (SioData::Args(a), 2 | 5) => {
            let name = a.event_name().expect("an event has a name");
            assert!(
                !(config.reject_reserved_events && is_reserved_event(&name)),
                "reserved event {name:?}"
            );
        }
        (SioData::Args(_), 3 | 6) => {}
        (data, _) => panic!("{:?} with {data:?}", p.kind),
    }
    let _ = (p.event_name(), p.recovery(), p.text_len(), p.is_event());
    let mut json = 0;
    if let Some(v) = p.value() {
        check_json(v, 0, config);
        let _ = p.deserialize_value::<serde_json::Value>();
        json += v.len();
    }
    if let Some(args) = p.args() {
        for (i, arg) in args.iter().enumerate() {
            // The payload's array is the first level.
            check_json(arg, 1, config);
            json += arg.len();
            let _ = args.deserialize::<serde_json::Value>(i);
            if let Some(num) = arg.placeholder().filter(|_| p.kind.is_binary()) {
                let data = attachments.get(num).expect("placeholders are in range");
                assert_eq!(args.binary_arg(i), Some(data));
                let got: Result<Bytes, _> = args.deserialize(i);
                assert_eq!(got.ok().as_ref(), Some(data), "placeholder {i} as bytes");
            }
        }
        let _ = args.deserialize_from::<Vec<serde_json::Value>>(1);
    }
    match config.parser {
        // Slices of the message.
        Parser::Default => assert!(json <= len, "{json} bytes of JSON from {len}"),
        // The bound `decode_msgpack` documents (as its tests count it).
        Parser::Msgpack => {
            let n_args = p.args().map_or(0, Args::len);
            let structs = (n_args + attachments.len()) * std::mem::size_of::<Bytes>();
            let per_kept = 2 * std::mem::size_of::<Bytes>() + 2 * std::mem::size_of::<usize>();
            let kept = p
                .args()
                .map_or(0, |a| a.iter().filter(|v| v.msgpack().is_some()).count());
            let total = json + structs + kept * per_kept;
            assert!(total <= 60 * len, "{total} bytes decoded from {len}");
        }
    }
}

/// Decodes a text message and its attachments with a fresh decoder.
fn decode_fresh(
    config: &DecoderConfig,
    text: &Str,
    attachments: &[Bytes],
) -> Result<Option<SioPacket>, DecodeError> {
    let mut dec = SioDecoder::new(config.clone());
    let mut out = dec.decode_text(text)?;
    for a in attachments {
        assert_eq!(out, None, "complete before its attachments");
        out = dec.decode_binary(a.clone())?;
    }
    Ok(out)
}

/// A decoded packet through the encoders: the matching one gives it back
/// unchanged (and re-encodes to the same messages); a msgpack packet also
/// goes through the default parser unchanged (unless its namespace holds
/// a comma, which the text encoding cannot carry); a text packet through
/// msgpack must not panic, and if it decodes, keeps its type (but for
/// "binary", when no placeholder refers to its attachments), namespace and
/// id.
fn check_socket_round_trips(p: &SioPacket, config: &DecoderConfig) {
    let (text, attachments) = p.encode();
    assert_eq!(text.len(), p.text_len(), "text_len");
    assert_eq!(
        Parser::Default.encode(p),
        Encoded::Text {
            text: text.clone(),
            attachments: attachments.clone()
        }
    );
    let msgpack = encode_msgpack(p);
    assert_eq!(Parser::Msgpack.encode(p), Encoded::Binary(msgpack.clone()));

    let text_config = config
        .clone()
        .parser(Parser::Default)
        .max_attachment_bytes(usize::MAX);
    let through_text = config.parser == Parser::Default || !p.nsp.contains(',');
    if through_text {
        let back = decode_fresh(&text_config, &text, &attachments)
            .unwrap_or_else(|e| panic!("{text:?} ({} attachments): {e}", attachments.len()))
            .expect("complete");
        assert_eq!(&back, p, "through the text encoding {text:?}");
        assert_eq!(back.encode(), (text, attachments), "a fixed point");
    }

    let back = decode_msgpack(&msgpack, config);
    match config.parser {
        Parser::Msgpack => {
            let back = back.unwrap_or_else(|e| panic!("re-encoded msgpack {msgpack:?}: {e}"));
            assert_eq!(&back, p, "through msgpack {msgpack:?}");
            assert_eq!(encode_msgpack(&back), msgpack, "a fixed point");
        }
        Parser::Default => {
            // Attachments no placeholder refers to (accepted, as the
            // reference does) are not sent: the type may lose its
            // "binary".
            let plain = |k: PacketKind| match k {
                PacketKind::BinaryEvent => PacketKind::Event,
                PacketKind::BinaryAck => PacketKind::Ack,
                k => k,
            };
            if let Ok(back) = back {
                assert_eq!(
                    (plain(back.kind), &back.nsp, back.id),
                    (plain(p.kind), &p.nsp, p.id),
                    "text packet through msgpack {msgpack:?}"
                );
            }
        }
    }
}

/// `socket_decode`: a sequence of text and binary messages through one
/// Socket.IO `Decoder` (default or msgpack parser), on a virtual clock.
///
/// Layout: `cfg, limits, messages...`
/// - `cfg`: bit 0 the parser (0 default, 1 msgpack); bit 1
///   `reject_reserved_events`; bits 2-4 `max_depth` from 1, 2, 3, 4, 8, 32,
///   64, 128; bits 5-7 `attachment_timeout` from 0 ms, 1 ms, 5 ms, 20 ms,
///   100 ms, 1 s, 30 s, 1 h.
/// - `limits`: bits 0-2 `max_attachments` from 0, 1, 2, 3, 4, 10, 64,
///   1000; bits 3-5 `max_attachment_bytes` from 0, 1, 2, 16, 100, 1000,
///   64 KiB, 10 MB; bits 6-7 the clock: 0 `decode_text`/`decode_binary`
///   without time, 1 the `_at` variants, 2 `_at` for every other message,
///   3 `_at` and an `expire` before each message.
/// - `messages`: separated by [`MESSAGE_SEPARATOR`] (`0xc1`). Each is
///   `head, body...`: `head` bit 7 binary (else text, made UTF-8 lossily,
///   as a WebSocket layer would refuse it otherwise), bits 0-5 how far the
///   clock moves first, in milliseconds, or seconds with bit 6. An empty
///   message is a call to `expire` at the current time.
///
/// Checks: no panic; the decoder follows a model of the protocol: text
/// while attachments are awaited, or any text for msgpack, is
/// `UnexpectedText`; binary with nothing awaited is `UnexpectedBinary`;
/// attachments over `max_attachment_bytes` are `AttachmentsTooLarge`; an
/// overdue packet is `AttachmentsTimeout` from `expire` and the `_at`
/// methods; after any error nothing is pending (`pending_attachments`,
/// `pending_since` and `deadline` agree with the model after every call);
/// text that fails fails the same on a fresh decoder; a binary packet
/// waits for exactly the count it announces (1 to `max_attachments`),
/// completes with the very attachments sent, and equals decoding its text
/// and attachments at once; msgpack messages decode as `decode_msgpack`
/// does. Every packet: a namespace starting with `/`, ack ids up to
/// 2^53 - 1 (and acks have one), a binary type exactly when there are
/// attachments, counts and bytes within the limits, the payload fits the
/// type (an event's name is a string, not reserved when refused), every
/// JSON value is valid alone and nested within `max_depth`, placeholders
/// resolve to their attachment (`binary_arg`, `deserialize::<Bytes>`), and
/// the decoded size stays within the input (a default-parser packet's JSON
/// is slices of its text; a msgpack one stays within the 60x bound
/// `decode_msgpack` documents). Each packet re-encodes with the matching
/// encoder and decodes back equal, re-encoding to the same bytes; a
/// msgpack packet also goes through the text encoding and back. At the
/// end, `expire` long past the deadline frees what still waits (unless it
/// came without a time, which never expires), and `reset` frees the rest.
pub fn socket_decode(data: &[u8]) {
    let [cfg, limits, messages @ ..] = data else {
        return;
    };
    let parser = if cfg & 1 != 0 {
        Parser::Msgpack
    } else {
        Parser::Default
    };
    let timeout = Duration::from_millis(TIMEOUTS_MS[usize::from(cfg >> 5)]);
    let config = DecoderConfig::default()
        .parser(parser)
        .reject_reserved_events(cfg & 2 != 0)
        .max_depth(MAX_DEPTHS[usize::from((cfg >> 2) & 7)])
        .attachment_timeout(timeout)
        .max_attachments(MAX_ATTACHMENTS[usize::from(limits & 7)])
        .max_attachment_bytes(MAX_ATTACHMENT_BYTES[usize::from((limits >> 3) & 7)]);
    let clock = limits >> 6;

    let mut dec = SioDecoder::new(config.clone());
    let mut now = Instant::now();
    let mut model: Option<Waiting> = None;
    // `expire` at `now`, and what the model says it does.
    let expire = |dec: &mut SioDecoder, model: &mut Option<Waiting>, now: Instant| {
        let r = dec.expire(now);
        if model.as_ref().is_some_and(|w| w.overdue(now, timeout)) {
            assert_eq!(r, Err(DecodeError::AttachmentsTimeout));
            *model = None;
        } else {
            assert_eq!(r, Ok(()));
        }
    };
    for (n, message) in messages.split(|&b| b == MESSAGE_SEPARATOR).enumerate() {
        let Some((&head, body)) = message.split_first() else {
            expire(&mut dec, &mut model, now);
            check_pending(&dec, model.as_ref(), timeout);
            continue;
        };
        let step = u64::from(head & 0x3f);
        now += if head & 0x40 != 0 {
            Duration::from_secs(step)
        } else {
            Duration::from_millis(step)
        };
        let timed = match clock {
            0 => false,
            2 => n % 2 == 0,
            _ => true,
        };
        if clock == 3 {
            expire(&mut dec, &mut model, now);
            check_pending(&dec, model.as_ref(), timeout);
        }
        let overdue = timed && model.as_ref().is_some_and(|w| w.overdue(now, timeout));
        if head & 0x80 == 0 {
            let text = Str::from(String::from_utf8_lossy(body).into_owned());
            let r = if timed {
                dec.decode_text_at(&text, now)
            } else {
                dec.decode_text(&text)
            };
            if overdue {
                assert_eq!(r, Err(DecodeError::AttachmentsTimeout), "overdue");
                model = None;
            } else if parser == Parser::Msgpack || model.take().is_some() {
                assert_eq!(r, Err(DecodeError::UnexpectedText));
            } else {
                assert_eq!(
                    r,
                    SioDecoder::new(config.clone()).decode_text(&text),
                    "the same text on a fresh decoder"
                );
                match r {
                    Ok(Some(p)) => {
                        check_socket_packet(&p, &config, text.len());
                        check_socket_round_trips(&p, &config);
                    }
                    Ok(None) => {
                        let remaining = dec.pending_attachments();
                        assert!(
                            (1..=config.max_attachments).contains(&remaining),
                            "{remaining} attachments awaited"
                        );
                        assert_eq!(announced(text.as_bytes()), Some(remaining as u64));
                        model = Some(Waiting {
                            text,
                            remaining,
                            bytes: 0,
                            attachments: Vec::new(),
                            since: timed.then_some(now),
                        });
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        } else {
            let bytes = Bytes::copy_from_slice(body);
            let r = if timed {
                dec.decode_binary_at(bytes.clone(), now)
            } else {
                dec.decode_binary(bytes.clone())
            };
            if overdue {
                assert_eq!(r, Err(DecodeError::AttachmentsTimeout), "overdue");
                model = None;
            } else if parser == Parser::Msgpack {
                assert_eq!(r, decode_msgpack(&bytes, &config).map(Some));
                match r {
                    Ok(Some(p)) => {
                        check_socket_packet(&p, &config, bytes.len());
                        check_socket_round_trips(&p, &config);
                    }
                    Ok(None) => unreachable!(),
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            } else if let Some(mut w) = model.take() {
                w.bytes = w.bytes.saturating_add(bytes.len());
                w.remaining -= 1;
                w.attachments.push(bytes);
                if w.bytes > config.max_attachment_bytes {
                    assert_eq!(
                        r,
                        Err(DecodeError::AttachmentsTooLarge {
                            max: config.max_attachment_bytes
                        })
                    );
                } else if w.remaining > 0 {
                    assert_eq!(r, Ok(None));
                    model = Some(w);
                } else {
                    let p = r
                        .unwrap_or_else(|e| panic!("the last attachment: {e}"))
                        .expect("complete with its last attachment");
                    let args = p.args().expect("a binary packet has arguments");
                    assert_eq!(args.attachments(), &w.attachments[..]);
                    assert_eq!(
                        decode_fresh(&config, &w.text, &w.attachments),
                        Ok(Some(p.clone())),
                        "decoded at once"
                    );
                    check_socket_packet(&p, &config, w.text.len());
                    check_socket_round_trips(&p, &config);
                }
            } else {
                assert_eq!(r, Err(DecodeError::UnexpectedBinary));
            }
        }
        check_pending(&dec, model.as_ref(), timeout);
    }

    // Long past any deadline.
    let late = now + timeout + Duration::from_secs(3600);
    let r = dec.expire(late);
    if model.as_ref().is_some_and(|w| w.since.is_some()) {
        assert_eq!(r, Err(DecodeError::AttachmentsTimeout));
        model = None;
    } else {
        assert_eq!(r, Ok(()), "a packet decoded without a time never expires");
    }
    check_pending(&dec, model.as_ref(), timeout);
    dec.reset();
    check_pending(&dec, None, timeout);
    if parser == Parser::Default {
        assert_eq!(
            dec.decode_binary(Bytes::from_static(b"x")),
            Err(DecodeError::UnexpectedBinary),
            "nothing is pending after a reset"
        );
    }
}
