//! The protocol's examples, the reference parsers' test cases (re-expressed),
//! every refusal, round trips and fuzzing.

use bytes::Bytes;
use proptest::prelude::*;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value;

use super::*;
use crate::engine::Str;

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

fn raw(s: &'static str) -> RawJson {
    RawJson::try_from(s).unwrap()
}

/// Decodes a text message and its attachments with a fresh decoder.
fn decode_with(
    config: DecoderConfig,
    text: &str,
    attachments: &[Bytes],
) -> Result<Packet, DecodeError> {
    let mut decoder = Decoder::new(config);
    let text = Str::from(text.to_owned());
    let mut packet = decoder.decode_text(&text)?;
    for a in attachments {
        assert!(packet.is_none(), "complete before its attachments: {text}");
        packet = decoder.decode_binary(a.clone())?;
    }
    assert_eq!(decoder.pending_attachments(), 0);
    Ok(packet.expect("incomplete"))
}

fn decode(text: &str, attachments: &[Bytes]) -> Result<Packet, DecodeError> {
    decode_with(DecoderConfig::default(), text, attachments)
}

fn decode_err(text: &str) -> DecodeError {
    match Decoder::default().decode_text(&Str::from(text.to_owned())) {
        Err(e) => e,
        Ok(p) => panic!("{text:?} decoded as {p:?}"),
    }
}

/// Encodes `packet`, checks the text and attachments, decodes them back to
/// the same packet.
fn wire(packet: &Packet, text: &str, attachments: &[Bytes]) {
    let (t, a) = packet.encode();
    assert_eq!(t, text);
    assert_eq!(a, attachments, "{text}");
    assert_eq!(&decode(text, attachments).unwrap(), packet, "{text}");
}

fn event(nsp: &'static str, args: &[RawJson]) -> Packet {
    Packet::event(nsp, Args::from_raw(args.to_vec()))
}

#[test]
fn spec_examples_byte_for_byte() {
    // Connection to a namespace.
    wire(&Packet::connect("/", None), "0", &[]);
    wire(
        &Packet::connect("/admin", Some(raw(r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#))),
        r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
        &[],
    );
    wire(
        &Packet::connect_error("/", "Not authorized", None),
        r#"4{"message":"Not authorized"}"#,
        &[],
    );
    // Sending and receiving data.
    wire(&event("/", &[raw(r#""foo""#)]), r#"2["foo"]"#, &[]);
    wire(
        &event("/admin", &[raw(r#""bar""#)]),
        r#"2/admin,["bar"]"#,
        &[],
    );
    wire(
        &Packet::event("/", Args::event("baz").with_binary(b(&[1, 2, 3, 4]))),
        r#"51-["baz",{"_placeholder":true,"num":0}]"#,
        &[b(&[1, 2, 3, 4])],
    );
    wire(
        &Packet::event(
            "/admin",
            Args::event("baz")
                .with_binary(b(&[1, 2]))
                .with_binary(b(&[3, 4])),
        ),
        r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        &[b(&[1, 2]), b(&[3, 4])],
    );
    // Acknowledgement.
    wire(
        &event("/", &[raw(r#""foo""#)]).with_id(12),
        r#"212["foo"]"#,
        &[],
    );
    wire(
        &Packet::ack("/admin", 13, Args::new().with_string("bar")),
        r#"3/admin,13["bar"]"#,
        &[],
    );
    wire(
        &Packet::ack(
            "/",
            15,
            Args::new().with_string("bar").with_binary(b(&[1, 2, 3, 4])),
        ),
        r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
        &[b(&[1, 2, 3, 4])],
    );
    // Disconnection from a namespace.
    wire(&Packet::disconnect("/"), "1", &[]);
    wire(&Packet::disconnect("/admin"), "1/admin,", &[]);
}

#[test]
fn spec_sample_session() {
    wire(
        &Packet::connect_ok("/", "wZX3oN0bSVIhsaknAAAI", None),
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        &[],
    );
    let hey = Args::event("hey").with_string("Jude");
    wire(&Packet::event("/", hey), r#"2["hey","Jude"]"#, &[]);
    wire(
        &Packet::event("/", Args::event("hello")),
        r#"2["hello"]"#,
        &[],
    );
    wire(
        &Packet::event("/", Args::event("world")),
        r#"2["world"]"#,
        &[],
    );
    wire(&Packet::connect("/admin", None), "0/admin,", &[]);
    wire(
        &Packet::connect_ok("/admin", "-G5j-67EZFp-q59rADQM", None),
        r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#,
        &[],
    );
    wire(
        &Packet::event("/admin", Args::event("tellme")).with_id(1),
        r#"2/admin,1["tellme"]"#,
        &[],
    );
    wire(
        &Packet::ack("/admin", 1, Args::new().with_binary(b(b"<binary>"))),
        r#"61-/admin,1[{"_placeholder":true,"num":0}]"#,
        &[b(b"<binary>")],
    );
}

#[test]
fn decoded_fields() {
    let p = decode(
        r#"52-/admin,7["baz",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]"#,
        &[b(b"A"), b(b"B")],
    )
    .unwrap();
    assert_eq!(p.kind, PacketKind::BinaryEvent);
    assert_eq!(&*p.nsp, "/admin");
    assert_eq!(p.id, Some(7));
    assert_eq!(p.event_name().as_deref(), Some("baz"));
    let args = p.args().unwrap();
    assert_eq!(args.len(), 3);
    assert_eq!(args.attachments(), [b(b"A"), b(b"B")]);
    assert_eq!(args.binary_arg(1), Some(&b(b"B")));
    assert_eq!(args.binary_arg(2), None);
    assert_eq!(
        args.get(2).unwrap(),
        r#"{"x":[{"_placeholder":true,"num":0}]}"#
    );
    #[derive(serde::Deserialize)]
    struct X {
        x: Vec<Bytes>,
    }
    assert_eq!(args.deserialize::<X>(2).unwrap().x, [b(b"A")]);
    let (first, x): (Bytes, X) = args.deserialize_from(1).unwrap();
    assert_eq!((first, x.x), (b(b"B"), vec![b(b"A")]));
    // Escaped names are unescaped.
    let p = decode(r#"2["\u0068i\n"]"#, &[]).unwrap();
    assert_eq!(p.event_name().as_deref(), Some("hi\n"));
    // Whitespace around the payload is JSON whitespace; arguments keep
    // their inner spelling.
    let p = decode("2/a,3 [ \"x\" , { \"k\" : 1.50 } ] \n", &[]).unwrap();
    assert_eq!(
        p.args().unwrap().as_slice(),
        [raw(r#""x""#), raw(r#"{ "k" : 1.50 }"#)]
    );
    assert_eq!(p.encode().0, r#"2/a,3["x",{ "k" : 1.50 }]"#);
    // Leading zeros in an ack id, as Number("012") reads them.
    assert_eq!(decode(r#"2012["x"]"#, &[]).unwrap().id, Some(12));
    // A namespace at the end of the message, without its comma.
    assert_eq!(&*decode("1/admin", &[]).unwrap().nsp, "/admin");
    assert_eq!(&*decode("0/admin", &[]).unwrap().nsp, "/admin");
    // Ack ids on any type, as the reference reads them.
    assert_eq!(decode("1/a,5", &[]).unwrap().id, Some(5));
    assert_eq!(
        decode(&format!("2{MAX_ACK_ID}[\"x\"]"), &[]).unwrap().id,
        Some(MAX_ACK_ID)
    );
}

#[test]
fn echo_is_byte_identical() {
    for text in [
        r#"2["message",{"z":1,"a":2},1.0,1e3,-0,"\u00e9\/",[ ],{"":null}]"#,
        r#"2/chat,9["m",12345678901234567890123,0.30000000000000004,"😀"]"#,
        r#"3/x,4[{"b":true,"a":false}]"#,
        r#"0{"token":"x","n":1.10}"#,
        r#"4"just a string""#,
    ] {
        let p = decode(text, &[]).unwrap();
        assert_eq!(p.encode().0, text);
    }
    // The arguments are slices of the message, not copies.
    let text = Str::from_static(r#"2["a","b"]"#);
    let p = Decoder::default().decode_text(&text).unwrap().unwrap();
    let arg = p.args().unwrap().get(1).unwrap().as_bytes();
    assert_eq!(arg.as_ptr(), text.as_bytes()[6..].as_ptr());
}

// The reference parser's tests (packages/socket.io-parser/test/*.js).

#[test]
fn reference_round_trips() {
    let cases = [
        Packet::connect("/woot", Some(raw(r#"{"token":"123"}"#))),
        Packet::disconnect("/woot"),
        event("/", &[raw(r#""a""#), raw("1"), raw("{}")]),
        event("/test", &[raw(r#""a""#), raw("1"), raw("{}")]).with_id(1),
        Packet::ack(
            "/",
            123,
            Args::from_raw(vec![raw(r#""a""#), raw("1"), raw("{}")]),
        ),
        Packet {
            kind: PacketKind::ConnectError,
            nsp: Str::from_static("/"),
            id: None,
            data: Data::Value(raw(r#""Unauthorized""#)),
        },
        Packet::connect_error("/", "Unauthorized", None),
    ];
    for packet in cases {
        let (text, attachments) = packet.encode();
        assert_eq!(decode(&text, &attachments).unwrap(), packet, "{text}");
    }
}

#[test]
fn reference_binary_round_trips() {
    let abc = b(b"abc");
    let cases = [
        // Buffer.
        (Args::event("a").with_binary(abc.clone()), 23, "/cool"),
        (
            Args::event("a")
                .with(&Nested {
                    b: ("c", abc.clone()),
                })
                .unwrap(),
            23,
            "/cool",
        ),
        // ArrayBuffer, typed array, deep in JSON, with nulls around.
        (
            Args::event("a").with_binary(Bytes::from(vec![0; 2])),
            0,
            "/",
        ),
        (
            Args::event("a").with_binary(Bytes::from((0..5).collect::<Vec<u8>>())),
            0,
            "/",
        ),
        (
            Args::from_value(&(
                "a",
                Deep {
                    a: "hi",
                    b: Why {
                        why: Bytes::from(vec![0; 3]),
                    },
                    c: C {
                        a: "bye",
                        b: Why2 {
                            a: Bytes::from(vec![0; 6]),
                        },
                    },
                },
            ))
            .unwrap(),
            999,
            "/deep",
        ),
        (
            Args::from_value(&(
                "a",
                Nulls {
                    a: "b",
                    c: 4,
                    e: G { g: None },
                    h: Bytes::from(vec![0; 9]),
                },
            ))
            .unwrap(),
            600,
            "/",
        ),
    ];
    for (args, id, nsp) in cases {
        let packet = Packet::event(nsp, args).with_id(id);
        assert_eq!(packet.kind, PacketKind::BinaryEvent);
        let (text, attachments) = packet.encode();
        assert_eq!(decode(&text, &attachments).unwrap(), packet, "{text}");
    }
    // A binary ack with a Buffer.
    let ack = Packet::ack(
        "/back",
        127,
        Args::new()
            .with_string("a")
            .with_binary(b(b"xxx"))
            .with_raw(raw("{}")),
    );
    let (text, attachments) = ack.encode();
    assert_eq!(
        text,
        r#"61-/back,127["a",{"_placeholder":true,"num":0},{}]"#
    );
    assert_eq!(decode(&text, &attachments).unwrap(), ack);
    // The nested Buffer is where the reference puts it.
    let nested = Args::event("a").with(&Nested { b: ("c", abc) }).unwrap();
    assert_eq!(
        Packet::event("/cool", nested).with_id(23).encode().0,
        r#"51-/cool,23["a",{"b":["c",{"_placeholder":true,"num":0}]}]"#
    );
}

#[derive(Serialize)]
struct Nested {
    b: (&'static str, Bytes),
}
#[derive(Serialize)]
struct Why {
    why: Bytes,
}
#[derive(Serialize)]
struct Why2 {
    a: Bytes,
}
#[derive(Serialize)]
struct C {
    a: &'static str,
    b: Why2,
}
#[derive(Serialize)]
struct Deep {
    a: &'static str,
    b: Why,
    c: C,
}
#[derive(Serialize)]
struct G {
    g: Option<u8>,
}
#[derive(Serialize)]
struct Nulls {
    a: &'static str,
    c: u8,
    e: G,
    h: Bytes,
}

#[test]
fn reference_refusals() {
    // "decodes a bad binary packet", "Illegal attachments".
    for text in [
        "5",
        "51",
        "5a-",
        "51.23-",
        "5-[\"x\"]",
        "6-1[]",
        "5 1-[\"x\"]",
        "5+1-[\"x\"]",
        "50-[\"x\"]",
    ] {
        assert_eq!(
            decode_err(text),
            DecodeError::InvalidAttachmentCount,
            "{text}"
        );
    }
    // "too many attachments".
    let config = DecoderConfig::default().max_attachments(2);
    let mut decoder = Decoder::new(config);
    let text = r#"53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#;
    assert_eq!(
        decoder.decode_text(&Str::from_static(text)),
        Err(DecodeError::TooManyAttachments { max: 2 })
    );
    // "invalid payload".
    for (text, kind) in [
        (r#"0/admin,"invalid""#, PacketKind::Connect),
        ("0[]", PacketKind::Connect),
        ("1/admin,{}", PacketKind::Disconnect),
        ("2/admin,{}", PacketKind::Event),
        (r#"2[{"toString":"foo"}]"#, PacketKind::Event),
        (r#"2[true,"foo"]"#, PacketKind::Event),
        (r#"2[null,"bar"]"#, PacketKind::Event),
        // The reference takes numbers as event names; we do not (see the
        // module docs).
        (r#"2[1,"a",{}]"#, PacketKind::Event),
    ] {
        assert_eq!(
            decode_err(text),
            DecodeError::InvalidPayload { kind },
            "{text}"
        );
    }
    assert_eq!(
        decode_err(r#"2/admin,"invalid"#),
        DecodeError::InvalidJson { offset: 16 }
    );
    // CONNECT_ERROR, ack id 42, unterminated array.
    assert_eq!(
        decode_err(r#"442["some","data""#),
        DecodeError::InvalidJson { offset: 17 }
    );
    // "unknown packet type 9".
    assert_eq!(decode_err("999"), DecodeError::UnknownType(b'9'));
    // Reserved names: decoded by default, for the server to drop; refused
    // as the reference does when asked.
    for text in [
        r#"2["connect"]"#,
        r#"2["disconnect","123"]"#,
        r#"2["newListener"]"#,
    ] {
        let p = decode(text, &[]).unwrap();
        assert!(is_reserved_event(&p.event_name().unwrap()));
        let strict = DecoderConfig::default().reject_reserved_events(true);
        assert_eq!(
            decode_with(strict, text, &[]),
            Err(DecodeError::ReservedEvent)
        );
    }
    assert!(!is_reserved_event("error"));
}

#[test]
fn reference_binary_refusals() {
    // "invalid 'num' attribute (string)", "(out-of-bound)": refused when
    // the text arrives, before any attachment is buffered.
    let mut d = Decoder::default();
    assert_eq!(
        d.decode_text(&Str::from_static(
            r#"51-["hello",{"_placeholder":true,"num":"splice"}]"#
        )),
        Err(DecodeError::InvalidPlaceholder)
    );
    assert_eq!(
        d.decode_text(&Str::from_static(
            r#"51-["hello",{"_placeholder":true,"num":1}]"#
        )),
        Err(DecodeError::PlaceholderOutOfRange {
            num: 1,
            attachments: 1
        })
    );
    // "adding an attachment without header".
    let mut d = Decoder::default();
    assert_eq!(
        d.decode_binary(b(b"world")),
        Err(DecodeError::UnexpectedBinary)
    );
    // "decoding a binary event without attachments".
    let mut d = Decoder::default();
    let header = Str::from_static(r#"51-["hello",{"_placeholder":true,"num":0}]"#);
    assert_eq!(d.decode_text(&header), Ok(None));
    assert_eq!(d.pending_attachments(), 1);
    assert_eq!(
        d.decode_text(&Str::from_static(r#"2["hello"]"#)),
        Err(DecodeError::UnexpectedText)
    );
    // The half-built packet is gone.
    assert_eq!(d.pending_attachments(), 0);
    assert_eq!(
        d.decode_binary(b(b"late")),
        Err(DecodeError::UnexpectedBinary)
    );
    // "should resume decoding after calling destroy()".
    let mut d = Decoder::default();
    assert_eq!(
        d.decode_text(&Str::from_static(r#"51-["hello"]"#)),
        Ok(None)
    );
    d.reset();
    let p = d
        .decode_text(&Str::from_static(r#"2["hello"]"#))
        .unwrap()
        .unwrap();
    assert_eq!(p.event_name().as_deref(), Some("hello"));
}

#[test]
fn binary_packet_without_attachments() {
    // socket.io-parser 4.2.7 refuses `50-` (4.2.6 took it).
    assert_eq!(
        decode_err(r#"50-["x",1]"#),
        DecodeError::InvalidAttachmentCount
    );
    assert_eq!(decode_err("60-1[]"), DecodeError::InvalidAttachmentCount);
    assert_eq!(
        decode_err(r#"500-["x"]"#),
        DecodeError::InvalidAttachmentCount
    );
    // In a plain EVENT, a placeholder's shape is just data.
    let p = decode(r#"2["x",{"_placeholder":true,"num":0}]"#, &[]).unwrap();
    assert_eq!(p.kind, PacketKind::Event);
    assert_eq!(p.args().unwrap().binary_arg(1), None);
}

#[test]
fn payload_shape_per_type() {
    let ok = [
        "0",
        "0{}",
        r#"0/a,{"x":[1]}"#,
        "1",
        "1/a,",
        r#"2["x"]"#,
        r#"2["x",1,null]"#,
        "31[]",
        r#"31["a"]"#,
        r#"4{"message":"m"}"#,
        r#"4"m""#,
    ];
    for text in ok {
        decode(text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    let bad = [
        ("0[]", PacketKind::Connect),
        ("0\"x\"", PacketKind::Connect),
        ("0null", PacketKind::Connect),
        ("1{}", PacketKind::Disconnect),
        ("1null", PacketKind::Disconnect),
        ("2", PacketKind::Event),
        ("2[]", PacketKind::Event),
        ("2{}", PacketKind::Event),
        ("2\"x\"", PacketKind::Event),
        ("2[1.5e400]", PacketKind::Event),
        ("2[[\"x\"]]", PacketKind::Event),
        ("31", PacketKind::Ack),
        ("31{}", PacketKind::Ack),
        ("4", PacketKind::ConnectError),
        ("4[]", PacketKind::ConnectError),
        ("41", PacketKind::ConnectError),
        ("4null", PacketKind::ConnectError),
        ("51-", PacketKind::BinaryEvent),
        ("51-[]", PacketKind::BinaryEvent),
        ("61-1{}", PacketKind::BinaryAck),
        // A namespace without its comma swallows the payload.
        (r#"2/admin["x"]"#, PacketKind::Event),
    ];
    for (text, kind) in bad {
        assert_eq!(
            decode_err(text),
            DecodeError::InvalidPayload { kind },
            "{text}"
        );
    }
}

#[test]
fn every_refusal_has_its_error() {
    assert_eq!(decode_err(""), DecodeError::Empty);
    assert_eq!(decode_err("7"), DecodeError::UnknownType(b'7'));
    assert_eq!(decode_err("x"), DecodeError::UnknownType(b'x'));
    assert_eq!(decode_err("é"), DecodeError::UnknownType(0xc3));
    // Namespaces start with `/`; anything else is not JSON.
    assert_eq!(
        decode_err(r#"2admin,["x"]"#),
        DecodeError::InvalidJson { offset: 1 }
    );
    // Ack ids: overflow, past 2^53 - 1, not digits, missing on an ACK.
    assert_eq!(
        decode_err(r#"299999999999999999999["x"]"#),
        DecodeError::InvalidAckId
    );
    assert_eq!(
        decode_err(&format!("2{}[\"x\"]", MAX_ACK_ID + 1)),
        DecodeError::InvalidAckId
    );
    assert_eq!(
        decode_err(&format!("2{}[\"x\"]", "9".repeat(25))),
        DecodeError::InvalidAckId
    );
    assert_eq!(
        decode_err(r#"2+1["x"]"#),
        DecodeError::InvalidJson { offset: 1 }
    );
    assert_eq!(
        decode_err(r#"2-1["x"]"#),
        DecodeError::TrailingData { offset: 3 }
    );
    assert_eq!(
        decode_err(r#"21a["x"]"#),
        DecodeError::InvalidJson { offset: 2 }
    );
    assert_eq!(decode_err(r#"3["x"]"#), DecodeError::InvalidAckId);
    assert_eq!(
        decode_err(r#"6-1-["x"]"#),
        DecodeError::InvalidAttachmentCount
    );
    assert_eq!(decode_err(r#"61-["x"]"#), DecodeError::InvalidAckId);
    // Attachment counts: over the limit, absurd, negative.
    assert_eq!(
        decode_err(r#"511-["x"]"#),
        DecodeError::TooManyAttachments { max: 10 }
    );
    assert_eq!(
        decode_err("51000000000000-[\"x\"]"),
        DecodeError::TooManyAttachments { max: 10 }
    );
    assert_eq!(
        decode_err(&format!("5{}-[\"x\"]", "9".repeat(40))),
        DecodeError::TooManyAttachments { max: 10 }
    );
    assert_eq!(
        decode_err(r#"5-5-["x"]"#),
        DecodeError::InvalidAttachmentCount
    );
    // Placeholders: not the shape, out of range.
    for text in [
        r#"51-["x",{"_placeholder":true,"num":-1}]"#,
        r#"51-["x",{"_placeholder":true}]"#,
        r#"51-["x",{"_placeholder":true,"num":0,"extra":1}]"#,
        r#"51-["x",{"_placeholder":true,"num":0.0}]"#,
    ] {
        assert_eq!(decode_err(text), DecodeError::InvalidPlaceholder, "{text}");
    }
    assert_eq!(
        decode_err(r#"52-["x",{"a":{"_placeholder":true,"num":2}}]"#),
        DecodeError::PlaceholderOutOfRange {
            num: 2,
            attachments: 2
        }
    );
    assert_eq!(
        decode_err(r#"51-["x",{"_placeholder":true,"num":18446744073709551616}]"#),
        DecodeError::InvalidPlaceholder
    );
    // Trailing garbage; whitespace is fine.
    assert_eq!(
        decode_err(r#"2["x"]x"#),
        DecodeError::TrailingData { offset: 6 }
    );
    assert_eq!(
        decode_err(r#"2["x"]["y"]"#),
        DecodeError::TrailingData { offset: 6 }
    );
    assert_eq!(decode_err("0{}}"), DecodeError::TrailingData { offset: 3 });
    assert!(decode("2[\"x\"] \r\n\t", &[]).is_ok());
    // Malformed JSON (RELIABILITY.md case 25).
    assert_eq!(decode_err("4abc"), DecodeError::InvalidJson { offset: 1 });
    assert_eq!(
        decode_err(r#"2abc["x"]"#),
        DecodeError::InvalidJson { offset: 1 }
    );
    assert_eq!(
        decode_err(r#"2["x",]"#),
        DecodeError::InvalidJson { offset: 6 }
    );
    assert_eq!(
        decode_err("2[\"a\nb\"]"),
        DecodeError::InvalidJson { offset: 4 }
    );
    assert_eq!(decode_err(" "), DecodeError::UnknownType(b' '));
    assert_eq!(decode_err("1 "), DecodeError::InvalidJson { offset: 2 });
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| {
        format!(
            "2[\"x\",{}{}]",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    assert!(decode(&nested(128), &[]).is_ok());
    assert_eq!(decode_err(&nested(129)), DecodeError::TooDeep { max: 128 });
    let shallow = DecoderConfig::default().max_depth(3);
    assert_eq!(
        decode_with(shallow.clone(), r#"2["x",{"a":[1]}]"#, &[]).map(|p| p.kind),
        Ok(PacketKind::Event)
    );
    assert_eq!(
        decode_with(shallow, r#"2["x",{"a":[[1]]}]"#, &[]),
        Err(DecodeError::TooDeep { max: 3 })
    );
    // 100 000 levels inside a megabyte: refused without recursion.
    let deep = format!("2[\"x\",{}", "[".repeat(1_000_000));
    assert_eq!(decode_err(&deep), DecodeError::TooDeep { max: 128 });
    let deep_objects = format!("2[\"x\",{}", "{\"a\":".repeat(100_000));
    assert_eq!(decode_err(&deep_objects), DecodeError::TooDeep { max: 128 });
}

#[test]
fn attachment_bytes_are_bounded() {
    let config = DecoderConfig::default().max_attachment_bytes(5);
    let mut d = Decoder::new(config);
    let header =
        Str::from_static(r#"52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert_eq!(d.decode_text(&header), Ok(None));
    assert_eq!(d.decode_binary(b(b"abc")), Ok(None));
    assert_eq!(d.pending_attachments(), 1);
    assert_eq!(
        d.decode_binary(b(b"def")),
        Err(DecodeError::AttachmentsTooLarge { max: 5 })
    );
    assert_eq!(d.pending_attachments(), 0);
    // Exactly at the limit is fine.
    let mut d = Decoder::new(DecoderConfig::default().max_attachment_bytes(6));
    assert_eq!(d.decode_text(&header), Ok(None));
    assert_eq!(d.decode_binary(b(b"abc")), Ok(None));
    assert!(d.decode_binary(b(b"def")).unwrap().is_some());
}

#[test]
fn recovery_through_the_wire() {
    let p = decode(r#"0{"pid":"p1","offset":"o1","token":"t"}"#, &[]).unwrap();
    let r = p.recovery().unwrap();
    assert_eq!((r.pid.as_str(), r.offset.as_str()), ("p1", "o1"));
    assert_eq!(decode(r#"0{"token":"t"}"#, &[]).unwrap().recovery(), None);
    let mut e = decode(r#"2["m",1]"#, &[]).unwrap();
    e.append_offset("o2");
    assert_eq!(e.encode().0, r#"2["m",1,"o2"]"#);
}

#[test]
fn parser_front() {
    let p = Packet::event("/", Args::event("x").with_binary(b(b"1")));
    match Parser::Default.encode(&p) {
        Encoded::Text { text, attachments } => {
            assert_eq!(text, r#"51-["x",{"_placeholder":true,"num":0}]"#);
            assert_eq!(attachments, [b(b"1")]);
        }
        other => panic!("{other:?}"),
    }
    let Encoded::Binary(bytes) = Parser::Msgpack.encode(&p) else {
        panic!("msgpack is binary");
    };
    let mut d = Decoder::new(DecoderConfig::default().parser(Parser::Msgpack));
    assert_eq!(d.decode_binary(bytes).unwrap(), Some(p));
    assert_eq!(
        d.decode_text(&Str::from_static("2[\"x\"]")),
        Err(DecodeError::UnexpectedText)
    );
}

// msgpack: vectors written by socket.io-msgpack-parser 3.0.2 (notepack.io
// 2.2.0) under Node 20.

fn hex(s: &str) -> Bytes {
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    Bytes::from(v)
}

fn mp(bytes: &Bytes) -> Result<Packet, DecodeError> {
    decode_msgpack(bytes, &DecoderConfig::default())
}

#[test]
fn msgpack_matches_the_reference_bytes() {
    // {type:2, data:["hello",1,{a:"b"}], nsp:"/"}
    let hello = hex("83a47479706502a46461746193a568656c6c6f0181a161a162a36e7370a12f");
    let p = event("/", &[raw(r#""hello""#), raw("1"), raw(r#"{"a":"b"}"#)]);
    assert_eq!(encode_msgpack(&p), hello);
    assert_eq!(mp(&hello).unwrap(), p);
    // {type:2, data:["bin", <01 02 03>], id:5, nsp:"/admin"}
    let bin = hex("84a47479706502a46461746192a362696ec403010203a2696405a36e7370a62f61646d696e");
    let p = Packet::event("/admin", Args::event("bin").with_binary(b(&[1, 2, 3]))).with_id(5);
    assert_eq!(encode_msgpack(&p), bin);
    let decoded = mp(&bin).unwrap();
    assert_eq!(decoded, p);
    // The attachment is a slice of the message.
    let att = &decoded.args().unwrap().attachments()[0];
    assert_eq!(att.as_ptr(), bin[19..].as_ptr());
    // {type:4, data:{message:"Not authorized", data:{code:1}}, nsp:"/"}
    let err = hex(
        "83a47479706504a46461746182a76d657373616765ae4e6f7420617574686f72697a6564a46461746181a4636f646501a36e7370a12f",
    );
    let p = Packet::connect_error("/", "Not authorized", Some(&raw(r#"{"code":1}"#)));
    assert_eq!(encode_msgpack(&p), err);
    assert_eq!(mp(&err).unwrap(), p);
    // {type:0, data:{token:"123"}, nsp:"/admin"}
    let auth = hex("83a47479706500a46461746181a5746f6b656ea3313233a36e7370a62f61646d696e");
    let p = Packet::connect("/admin", Some(raw(r#"{"token":"123"}"#)));
    assert_eq!(encode_msgpack(&p), auth);
    assert_eq!(mp(&auth).unwrap(), p);
    // {type:1, nsp:"/x"}
    let dis = hex("82a47479706501a36e7370a22f78");
    assert_eq!(encode_msgpack(&Packet::disconnect("/x")), dis);
    assert_eq!(mp(&dis).unwrap(), Packet::disconnect("/x"));
    // {type:3, data:[], id:300, nsp:"/"}
    let ack = hex("84a47479706503a46461746190a26964cd012ca36e7370a12f");
    assert_eq!(encode_msgpack(&Packet::ack("/", 300, Args::new())), ack);
    assert_eq!(mp(&ack).unwrap(), Packet::ack("/", 300, Args::new()));
}

#[test]
fn msgpack_reads_what_clients_send() {
    // socket.io-client adds `options`: {type:2, data:["x"], options:{compress:true}, id:1, nsp:"/"}
    let client = hex(
        "85a47479706502a46461746191a178a76f7074696f6e7381a8636f6d7072657373c3a2696401a36e7370a12f",
    );
    assert_eq!(
        mp(&client).unwrap(),
        event("/", &[raw(r#""x""#)]).with_id(1)
    );
    // A CONNECT without auth has `data: undefined`: {type:0, data:undefined, nsp:"/"}
    let connect = hex("83a47479706500a464617461d40000a36e7370a12f");
    assert_eq!(mp(&connect).unwrap(), Packet::connect("/", None));
    // Date, ArrayBuffer, floats, ints of every width, undefined in an array
    // and in a map, booleans, UTF-8.
    let odd = hex(
        "83a47479706502a4646174619ba36f6464d7000000018bcfe5687bc702000908cb3ff8000000000000d1ff38ce00011170cf000001000000000092d40000c082a175d40000a16bcb3fb999999999999ac3a6c3a9f09f9880a36e7370a12f",
    );
    let p = mp(&odd).unwrap();
    assert_eq!(p.kind, PacketKind::BinaryEvent);
    let args = p.args().unwrap();
    let text: Vec<&str> = args.iter().map(RawJson::as_str).collect();
    assert_eq!(
        text,
        [
            r#""odd""#,
            r#""2023-11-14T22:13:20.123Z""#,
            r#"{"_placeholder":true,"num":0}"#,
            "1.5",
            "-200",
            "70000",
            "1099511627776",
            "[null,null]",
            r#"{"k":0.1}"#,
            "true",
            r#""é😀""#,
        ]
    );
    assert_eq!(args.attachments(), [b(&[9, 8])]);
}

#[test]
fn msgpack_odd_encodings() {
    let packet_with = |data: &[u8]| {
        let mut v = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data".to_vec();
        v.extend_from_slice(data);
        Bytes::from(v)
    };
    let first_values = |data: &[u8]| -> Vec<String> {
        let p = mp(&packet_with(data)).unwrap_or_else(|e| panic!("{data:x?}: {e}"));
        p.args()
            .unwrap()
            .iter()
            .skip(1)
            .map(|a| a.as_str().to_owned())
            .collect()
    };
    // Every integer and float width; float 32 as JavaScript widens it.
    assert_eq!(
        first_values(b"\x9b\xa1e\xcc\xff\xcd\xff\xff\xce\xff\xff\xff\xff\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xd0\x80\xd1\x80\x00\xd2\x80\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xca\x3d\xcc\xcc\xcd\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"),
        [
            "255",
            "65535",
            "4294967295",
            "18446744073709551615",
            "-128",
            "-32768",
            "-2147483648",
            "-9223372036854775808",
            "0.10000000149011612",
            "null",
        ]
    );
    // Other extension types as notepack decodes them: [type, <data>].
    let p = mp(&packet_with(b"\x93\xa1e\xd5\x05\xaa\xbb\xc7\x01\xfe\xcc")).unwrap();
    let args = p.args().unwrap();
    assert_eq!(args.get(1).unwrap(), r#"[5,{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        args.get(2).unwrap(),
        r#"[-2,{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(args.attachments(), [b(&[0xaa, 0xbb]), b(&[0xcc])]);
    // Integer map keys become strings; str 8/16/32 and map/array 16/32.
    assert_eq!(
        first_values(b"\x93\xa1e\x81\x07\xd9\x01k\xde\x00\x01\xda\x00\x01k\xdd\x00\x00\x00\x01\xdb\x00\x00\x00\x01s"),
        [r#"{"7":"k"}"#, r#"{"k":["s"]}"#]
    );
    // A map with only undefined values is empty.
    assert_eq!(first_values(b"\x92\xa1e\x81\xa1u\xd4\x00\x00"), ["{}"]);
}

#[test]
fn msgpack_refusals() {
    let cfg = DecoderConfig::default();
    let bad = |bytes: &[u8]| decode_msgpack(&Bytes::copy_from_slice(bytes), &cfg).unwrap_err();
    let malformed = |e: DecodeError| matches!(e, DecodeError::InvalidMsgpack { .. });
    // Not a map, truncated, trailing bytes, unknown prefix.
    assert!(malformed(bad(b"\x91\x02")));
    assert!(malformed(bad(b"")));
    assert!(malformed(bad(b"\x82\xa4type\x02\xa3nsp\xa1")));
    assert!(malformed(bad(b"\x82\xa4type\x02\xa3nsp\xa1/\x00")));
    assert!(malformed(bad(b"\x82\xa4type\xc1\xa3nsp\xa1/")));
    // A count far beyond the bytes left: refused before anything is
    // allocated for it (RELIABILITY.md case 29).
    assert!(malformed(bad(
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\xdd\xff\xff\xff\xff\x01\x02\x03"
    )));
    assert!(malformed(bad(b"\xdf\xff\xff\xff\xff\xa4type\x02")));
    assert!(malformed(bad(
        b"\x82\xa4type\x02\xa3nsp\xdb\xff\xff\xff\xff/"
    )));
    // The type: missing, binary, out of range, not a number.
    assert!(malformed(bad(b"\x81\xa3nsp\xa1/")));
    assert!(malformed(bad(b"\x82\xa4type\x05\xa3nsp\xa1/")));
    assert!(malformed(bad(b"\x82\xa4type\x07\xa3nsp\xa1/")));
    assert!(malformed(bad(b"\x82\xa4type\xa12\xa3nsp\xa1/")));
    assert!(malformed(bad(
        b"\x82\xa4type\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xa3nsp\xa1/"
    )));
    // Integral floats are integers, as isInteger has it.
    assert!(
        decode_msgpack(
            &Bytes::from_static(b"\x82\xa4type\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa3nsp\xa1/"),
            &cfg
        )
        .is_ok()
    );
    // The namespace: missing, not a string, not starting with `/`.
    assert_eq!(bad(b"\x81\xa4type\x01"), DecodeError::InvalidNamespace);
    assert_eq!(
        bad(b"\x82\xa4type\x01\xa3nsp\x01"),
        DecodeError::InvalidNamespace
    );
    assert_eq!(
        bad(b"\x82\xa4type\x01\xa3nsp\xa5admin"),
        DecodeError::InvalidNamespace
    );
    assert_eq!(
        bad(b"\x82\xa4type\x01\xa3nsp\xa0"),
        DecodeError::InvalidNamespace
    );
    // The ack id: negative, nil, too large, a string; missing on an ACK.
    let with_id = |id: &[u8]| {
        let mut v = b"\x84\xa4type\x02\xa4data\x91\xa1e\xa3nsp\xa1/\xa2id".to_vec();
        v.extend_from_slice(id);
        v
    };
    assert_eq!(bad(&with_id(b"\xff")), DecodeError::InvalidAckId);
    assert_eq!(bad(&with_id(b"\xc0")), DecodeError::InvalidAckId);
    assert_eq!(
        bad(&with_id(b"\xcf\x00\x20\x00\x00\x00\x00\x00\x00")),
        DecodeError::InvalidAckId
    );
    assert_eq!(bad(&with_id(b"\xa11")), DecodeError::InvalidAckId);
    assert_eq!(
        bad(b"\x83\xa4type\x03\xa4data\x90\xa3nsp\xa1/"),
        DecodeError::InvalidAckId
    );
    // undefined is no id.
    let p = decode_msgpack(&Bytes::from(with_id(b"\xd4\x00\x00")), &cfg).unwrap();
    assert_eq!(p.id, None);
    // The payload must fit the type.
    assert_eq!(
        bad(b"\x83\xa4type\x02\xa4data\x80\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Event
        }
    );
    assert_eq!(
        bad(b"\x83\xa4type\x02\xa4data\x90\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Event
        }
    );
    assert_eq!(
        bad(b"\x83\xa4type\x02\xa4data\x91\x01\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Event
        }
    );
    assert_eq!(
        bad(b"\x83\xa4type\x01\xa4data\x80\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Disconnect
        }
    );
    assert_eq!(
        bad(b"\x83\xa4type\x00\xa4data\x90\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Connect
        }
    );
    // Binary data where the model has no attachments (CONNECT auth).
    assert_eq!(
        bad(b"\x83\xa4type\x00\xa4data\x81\xa1k\xc4\x00\xa3nsp\xa1/"),
        DecodeError::InvalidPayload {
            kind: PacketKind::Connect
        }
    );
    // A map shaped like a placeholder would be mistaken for one.
    assert!(malformed(bad(
        b"\x83\xa4type\x02\xa4data\x92\xa1e\x82\xac_placeholder\xc3\xa3num\x00\xa3nsp\xa1/"
    )));
    // Map keys that are neither strings nor integers.
    assert!(malformed(bad(
        b"\x83\xa4type\x02\xa4data\x92\xa1e\x81\xc0\x01\xa3nsp\xa1/"
    )));
    // Strings that are not UTF-8.
    assert_eq!(
        bad(b"\x83\xa4type\x02\xa4data\x91\xa1\xff\xa3nsp\xa1/"),
        DecodeError::InvalidUtf8
    );
    // Nesting.
    let mut deep = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e".to_vec();
    deep.extend(std::iter::repeat_n(0x91u8, 200_000));
    deep.push(0x01);
    assert_eq!(bad(&deep), DecodeError::TooDeep { max: 128 });
    // Text messages are not msgpack.
    let mut d = Decoder::new(DecoderConfig::default().parser(Parser::Msgpack));
    assert_eq!(
        d.decode_text(&Str::from_static("0")),
        Err(DecodeError::UnexpectedText)
    );
}

#[test]
fn reference_msgpack_refusals() {
    // socket.io-msgpack-parser's "throws an error upon invalid format", in
    // its order of checks: type, namespace, payload, id.
    let malformed =
        |bytes: &'static [u8]| matches!(mp(&b(bytes)), Err(DecodeError::InvalidMsgpack { .. }));
    assert!(malformed(b""));
    assert!(malformed(b"\x80")); // {}
    assert!(malformed(b"\x81\xa4type\xa1a")); // {type: "a"}
    assert!(malformed(b"\x81\xa4type\x07")); // {type: 7}
    assert!(malformed(b"\xc4\x01\x01")); // <Buffer 01>
    assert!(malformed(b"\x82\xa4type\xa1a\xa3nsp\x02")); // type before nsp
    assert_eq!(
        mp(&b(b"\x81\xa4type\x02")),
        Err(DecodeError::InvalidNamespace)
    );
    assert_eq!(
        mp(&b(b"\x82\xa4type\x02\xa3nsp\x02")),
        Err(DecodeError::InvalidNamespace)
    );
    let event = DecodeError::InvalidPayload {
        kind: PacketKind::Event,
    };
    assert_eq!(mp(&b(b"\x82\xa4type\x02\xa3nsp\xa1/")), Err(event.clone()));
    assert_eq!(
        mp(&b(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x04")),
        Err(event)
    );
    assert_eq!(
        mp(&b(b"\x83\xa4type\x04\xa3nsp\xa1/\xa4data\x90")),
        Err(DecodeError::InvalidPayload {
            kind: PacketKind::ConnectError
        })
    );
    // {type: 2, nsp: "/", data: ["e"], id: "a"}
    assert_eq!(
        mp(&b(
            b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1e\xa2id\xa1a"
        )),
        Err(DecodeError::InvalidAckId)
    );
}

#[test]
fn msgpack_output_is_bounded_by_the_input() {
    // The worst expansions: one-byte arguments (nil becomes `null`), undefined
    // in arrays, tiny integers.
    let cases: [&[u8]; 4] = [b"\xc0", b"\xd4\x00\x00", b"\x00", b"\x91\xc0"];
    for item in cases {
        let n = 10_000;
        let mut v = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\xdc".to_vec();
        v.extend_from_slice(&u16::try_from(n + 1).unwrap().to_be_bytes());
        v.extend_from_slice(b"\xa1e");
        for _ in 0..n {
            v.extend_from_slice(item);
        }
        let len = v.len();
        let p = decode_msgpack(&Bytes::from(v), &DecoderConfig::default()).unwrap();
        let args = p.args().unwrap();
        let json: usize = args.iter().map(RawJson::len).sum();
        let structs = (args.len() + args.attachments().len()) * std::mem::size_of::<Bytes>();
        assert!(
            json + structs <= 40 * len,
            "{item:x?}: {json} + {structs} for {len}"
        );
    }
    // Binary values count against max_attachments, empty or not.
    let mut v = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x9c\xa1e".to_vec();
    for _ in 0..11 {
        v.extend_from_slice(b"\xc4\x00");
    }
    assert_eq!(
        mp(&Bytes::from(v)),
        Err(DecodeError::TooManyAttachments { max: 10 })
    );
}

#[test]
fn text_packets_are_bounded_by_the_input() {
    // One-digit arguments: the smallest there are, each a `RawJson`.
    let text = format!("2[\"e\"{}]", ",1".repeat(100_000));
    let p = decode(&text, &[]).unwrap();
    let structs = p.args().unwrap().len() * std::mem::size_of::<RawJson>();
    assert!(structs <= 20 * text.len(), "{structs} for {}", text.len());
}

#[test]
fn msgpack_large_integral_floats() {
    // Integral but past 64 bits: float 64 both ways, printed as JavaScript
    // does, read back to the same double (found by msgpack_round_trip).
    for f in [
        -6.637_262_827_620_046_4e19,
        1.8446744073709552e19,
        1e21,
        -1e300,
    ] {
        let args = Args::event("e").with(&f).unwrap();
        let bytes = encode_msgpack(&Packet::event("/", args));
        let p = mp(&bytes).unwrap();
        let back: f64 = p.args().unwrap().deserialize(1).unwrap();
        assert_eq!(back, f);
    }
}

// Round trips and fuzzing.

/// A JSON value with binary data anywhere in it.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    Arr(Vec<Self>),
    Obj(Vec<(String, Self)>),
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_unit(),
            Self::Bool(v) => s.serialize_bool(*v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::Float(v) => s.serialize_f64(*v),
            Self::Str(v) => s.serialize_str(v),
            Self::Bin(v) => s.serialize_bytes(v),
            Self::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Obj(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        Just(Node::Null),
        any::<bool>().prop_map(Node::Bool),
        any::<i64>().prop_map(Node::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Node::Float),
        any::<String>().prop_map(Node::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Node::Bin),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Node::Arr),
            proptest::collection::btree_map("[a-z_é]{0,6}", inner, 0..5)
                .prop_map(|m| Node::Obj(m.into_iter().collect())),
        ]
    })
}

/// JSON values compared with every number as f64 (msgpack writes integral
/// floats as integers, as JavaScript does).
fn normalized(v: Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalized(v))).collect()),
        other => other,
    }
}

fn args_as_values(args: &Args) -> Vec<Value> {
    args.iter()
        .map(|a| normalized(serde_json::from_str(a.as_str()).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failures are turned into plain tests here instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn text_round_trip(
        name in "[a-zA-Z0-9 _\"\\\\é😀]{1,10}",
        values in proptest::collection::vec(node(), 0..4),
        nsp in prop_oneof![Just("/".to_owned()), "/[a-z]{1,6}"],
        id in proptest::option::of(0..=MAX_ACK_ID),
        ack in any::<bool>(),
    ) {
        let mut args = if ack { Args::new() } else { Args::event(&name) };
        for v in &values {
            args.push(v).unwrap();
        }
        let packet = match (ack, id) {
            (true, Some(id)) => Packet::ack(nsp, id, args),
            (true, None) => Packet::ack(nsp, 0, args),
            (false, id) => {
                let p = Packet::event(nsp, args);
                match id { Some(id) => p.with_id(id), None => p }
            }
        };
        let (text, attachments) = packet.encode();
        let decoded = decode_with(DecoderConfig::default().max_attachments(usize::MAX), &text, &attachments).unwrap();
        prop_assert_eq!(&decoded, &packet);
        prop_assert_eq!(decoded.encode(), (text, attachments));
    }

    #[test]
    fn msgpack_round_trip(
        values in proptest::collection::vec(node(), 0..4),
        id in proptest::option::of(0..=MAX_ACK_ID),
    ) {
        let mut args = Args::event("e");
        for v in &values {
            args.push(v).unwrap();
        }
        let mut packet = Packet::event("/m", args);
        packet.id = id;
        let bytes = encode_msgpack(&packet);
        let decoded = mp(&bytes).unwrap();
        prop_assert_eq!(decoded.kind, packet.kind);
        prop_assert_eq!(&decoded.nsp, &packet.nsp);
        prop_assert_eq!(decoded.id, packet.id);
        let (a, b) = (decoded.args().unwrap(), packet.args().unwrap());
        prop_assert_eq!(a.attachments(), b.attachments());
        prop_assert_eq!(args_as_values(a), args_as_values(b));
        // And again: the second encoding is a fixed point.
        prop_assert_eq!(encode_msgpack(&decoded), bytes);
    }

    #[test]
    fn typed_round_trip(values in proptest::collection::vec(node(), 1..4)) {
        // What goes in through serde comes out through serde, placeholders
        // resolved to the same bytes.
        // A Vec is one argument: push its values one by one.
        let mut args = Args::new();
        for v in &values {
            args.push(v).unwrap();
        }
        let (text, attachments) = Packet::ack("/", 1, args).encode();
        let p = decode_with(DecoderConfig::default().max_attachments(usize::MAX), &text, &attachments).unwrap();
        let args = p.args().unwrap();
        for (i, v) in values.iter().enumerate() {
            if let Node::Bin(bytes) = v {
                let got: Bytes = args.deserialize(i).unwrap();
                prop_assert_eq!(&got[..], &bytes[..]);
            }
        }
    }

    #[test]
    fn random_text_never_panics(s in "[0-6]?[0-9-]{0,3}(/[a-z,]{0,4})?[0-9]{0,3}[\\[\\]{}\",:_a-z0-9 .eE+-]{0,40}") {
        let mut d = Decoder::default();
        let _ = d.decode_text(&Str::from(s.clone()));
        let _ = d.decode_binary(Bytes::from(s.clone().into_bytes()));
        let _ = d.decode_text(&Str::from(s));
    }

    #[test]
    fn random_bytes_never_panic(messages in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..48)), 1..6)) {
        let mut text = Decoder::default();
        let mut msgpack = Decoder::new(DecoderConfig::default().parser(Parser::Msgpack));
        for (is_text, bytes) in messages {
            let bytes = Bytes::from(bytes);
            if is_text {
                let s = Str::from(String::from_utf8_lossy(&bytes).into_owned());
                let _ = text.decode_text(&s);
                let _ = msgpack.decode_text(&s);
            } else {
                let _ = text.decode_binary(bytes.clone());
                let _ = msgpack.decode_binary(bytes);
            }
        }
    }

    #[test]
    fn mutated_packets_never_panic(
        values in proptest::collection::vec(node(), 0..3),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let mut args = Args::event("e");
        for v in &values {
            args.push(v).unwrap();
        }
        let packet = Packet::event("/n", args).with_id(3);
        let mut msgpack = encode_msgpack(&packet).to_vec();
        let mut text = packet.encode().0.as_bytes().to_vec();
        for buf in [&mut msgpack, &mut text] {
            for (at, byte, op) in &edits {
                let i = at.index(buf.len() + 1);
                match op {
                    0 => buf.insert(i, *byte),
                    1 if i < buf.len() => { buf.remove(i); }
                    _ if i < buf.len() => buf[i] = *byte,
                    _ => {}
                }
            }
        }
        let _ = mp(&Bytes::from(msgpack));
        let s = String::from_utf8_lossy(&text).into_owned();
        let mut d = Decoder::default();
        if let Ok(None) = d.decode_text(&Str::from(s)) {
            for a in packet.args().unwrap().attachments() {
                let _ = d.decode_binary(a.clone());
            }
        }
    }
}

// msgpack fidelity: arguments keep the MessagePack they came as.
//
// The vectors are notepack.io 2.2.0's (socket.io-msgpack-parser 3.0.2),
// under Node 20, from e2e/node_modules:
//
//   const enc = require("notepack.io/lib/encode.js");
//   enc({ type: 2, data: ["e", undefined, NaN, Infinity, -Infinity], nsp: "/" }).toString("hex")
//
// and so on for each `data` in the comments. The text each one becomes is
// what the reference server sends of the same arguments with the default
// parser: the packet decoded by socket.io-msgpack-parser's Decoder, then
// encoded by socket.io-parser's Encoder. The reference's msgpack Encoder
// gives each vector back unchanged.

/// A notepack vector: its bytes, the JSON view of its arguments, and the
/// reference's text packet and attachments for them.
struct Sample {
    hex: &'static str,
    json: &'static [&'static str],
    text: &'static str,
    attachments: &'static [&'static [u8]],
}

const SAMPLES: &[Sample] = &[
    // ["e", undefined, NaN, Infinity, -Infinity]
    Sample {
        hex: "83a47479706502a46461746195a165d40000cb7ff8000000000000cb7ff0000000000000cbfff0000000000000a36e7370a12f",
        json: &[r#""e""#, "null", "null", "null", "null"],
        text: r#"2["e",null,null,null,null]"#,
        attachments: &[],
    },
    // ["e", Uint8Array.from([5, 6, 7]).buffer, Buffer.from([1, 2, 3])]
    Sample {
        hex: "83a47479706502a46461746193a165c70300050607c403010203a36e7370a12f",
        json: &[
            r#""e""#,
            r#"{"_placeholder":true,"num":0}"#,
            r#"{"_placeholder":true,"num":1}"#,
        ],
        text: r#"52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        attachments: &[&[5, 6, 7], &[1, 2, 3]],
    },
    // ["e", {a: [undefined, NaN, Buffer.from([9])], u: undefined,
    //        d: new Date(1700000000123), z: 1.5, k: -1}]
    Sample {
        hex: "83a47479706502a46461746192a16585a16193d40000cb7ff8000000000000c40109a175d40000a164d7000000018bcfe5687ba17acb3ff8000000000000a16bffa36e7370a12f",
        json: &[
            r#""e""#,
            r#"{"a":[null,null,{"_placeholder":true,"num":0}],"d":"2023-11-14T22:13:20.123Z","z":1.5,"k":-1}"#,
        ],
        text: r#"51-["e",{"a":[null,null,{"_placeholder":true,"num":0}],"d":"2023-11-14T22:13:20.123Z","z":1.5,"k":-1}]"#,
        attachments: &[&[9]],
    },
    // ["e", 127, 128, 65535, 65536, 4294967296, -33, -2147483649, 2 ** 53]
    Sample {
        hex: "83a47479706502a46461746199a1657fcc80cdffffce00010000cf0000000100000000d0dfd3ffffffff7fffffffcf0020000000000000a36e7370a12f",
        json: &[
            r#""e""#,
            "127",
            "128",
            "65535",
            "65536",
            "4294967296",
            "-33",
            "-2147483649",
            "9007199254740992",
        ],
        text: r#"2["e",127,128,65535,65536,4294967296,-33,-2147483649,9007199254740992]"#,
        attachments: &[],
    },
    // ["e", {b: 1, a: 2, "10": 3}] (JavaScript puts the integer key first)
    Sample {
        hex: "83a47479706502a46461746192a16583a2313003a16201a16102a36e7370a12f",
        json: &[r#""e""#, r#"{"10":3,"b":1,"a":2}"#],
        text: r#"2["e",{"10":3,"b":1,"a":2}]"#,
        attachments: &[],
    },
];

#[test]
fn msgpack_samples_round_trip_byte_for_byte() {
    for s in SAMPLES {
        let bytes = hex(s.hex);
        let p = mp(&bytes).unwrap_or_else(|e| panic!("{}: {e}", s.hex));
        let args = p.args().unwrap();
        let json: Vec<&str> = args.iter().map(RawJson::as_str).collect();
        assert_eq!(json, s.json, "{}", s.hex);
        assert_eq!(encode_msgpack(&p), bytes, "{}", s.hex);
        let (text, attachments) = p.encode();
        assert_eq!(text, s.text);
        let expected: Vec<Bytes> = s
            .attachments
            .iter()
            .map(|a| Bytes::from_static(a))
            .collect();
        assert_eq!(attachments, expected);
        // The text goes back in as the same JSON view.
        let back = decode(&text, &attachments).unwrap();
        assert_eq!(back, p);
        assert!(back.args().unwrap().iter().all(|a| a.msgpack().is_none()));
    }
}

#[test]
fn msgpack_values_keep_their_bytes_only_when_json_would_lose_them() {
    let p = mp(&hex(SAMPLES[0].hex)).unwrap();
    let kept: Vec<Option<&[u8]>> = p
        .args()
        .unwrap()
        .iter()
        .map(|a| a.msgpack().map(|m| &m[..]))
        .collect();
    assert_eq!(
        kept,
        [
            None,
            Some(&b"\xd4\x00\x00"[..]),
            Some(&b"\xcb\x7f\xf8\0\0\0\0\0\0"[..]),
            Some(&b"\xcb\x7f\xf0\0\0\0\0\0\0"[..]),
            Some(&b"\xcb\xff\xf0\0\0\0\0\0\0"[..]),
        ]
    );
    // Slices of the message, not copies.
    let bytes = hex(SAMPLES[1].hex);
    let p = mp(&bytes).unwrap();
    let args = p.args().unwrap();
    let array_buffer = args.get(1).unwrap().msgpack().unwrap();
    assert_eq!(array_buffer[..], *b"\xc7\x03\x00\x05\x06\x07");
    assert_eq!(array_buffer.as_ptr(), bytes[15..].as_ptr());
    // A Buffer is what the encoder writes for a placeholder anyway.
    assert_eq!(args.get(2).unwrap().msgpack(), None);
    // Integers in notepack's own widths, strings, keys: nothing kept.
    for s in &SAMPLES[3..] {
        let p = mp(&hex(s.hex)).unwrap();
        assert!(
            p.args().unwrap().iter().all(|a| a.msgpack().is_none()),
            "{}",
            s.hex
        );
    }
    // Long values are kept without checking.
    let long = "x".repeat(100);
    let bytes = encode_msgpack(&Packet::event("/", Args::event("e").with_string(&long)));
    let p = mp(&bytes).unwrap();
    assert_eq!(
        p.args().unwrap().get(1).unwrap().msgpack().unwrap().len(),
        102
    );
    assert_eq!(encode_msgpack(&p), bytes);
    // Text arguments never carry MessagePack, and RawJson stays small.
    assert_eq!(std::mem::size_of::<RawJson>(), std::mem::size_of::<Bytes>());
}

#[test]
fn msgpack_odd_encodings_go_back_as_they_came() {
    let packet_with = |data: &[u8]| {
        let mut v = b"\x83\xa4type\x02\xa4data".to_vec();
        v.extend_from_slice(data);
        v.extend_from_slice(b"\xa3nsp\xa1/");
        Bytes::from(v)
    };
    for data in [
        // float 32, float 64 holding an integer, uint 8 for 5, int 64 for -1
        &b"\x95\xa1e\xca\x3d\xcc\xcc\xcd\xcb\x3f\xf0\0\0\0\0\0\0\xcc\x05\xd3\xff\xff\xff\xff\xff\xff\xff\xff"[..],
        // str 8 for "k", bin 16, an integer map key, fixext 1 type 0 with data 7
        b"\x95\xa1e\xd9\x01k\xc5\x00\x01\xaa\x81\x07\xc0\xd4\x00\x07",
        // other extension types, a Date out of JavaScript's range
        b"\x94\xa1e\xd5\x05\xaa\xbb\xc7\x01\xfe\xcc\xd7\x00\x7f\xff\xff\xff\xff\xff\xff\xff",
        // map 16 with one key, array 32 with one element, undefined values
        b"\x93\xa1e\xde\x00\x02\xa1a\xd4\x00\x00\xa1b\x01\xdd\x00\x00\x00\x01\xd4\x00\x00",
    ] {
        let bytes = packet_with(data);
        let p = mp(&bytes).unwrap_or_else(|e| panic!("{data:x?}: {e}"));
        assert_eq!(encode_msgpack(&p), bytes, "{data:x?}");
        // The text form is JSON, and reads back as the same view.
        let (text, attachments) = p.encode();
        assert_eq!(decode(&text, &attachments).unwrap(), p, "{text}");
    }
    let p = mp(&packet_with(
        b"\x93\xa1e\xde\x00\x02\xa1a\xd4\x00\x00\xa1b\x01\xdd\x00\x00\x00\x01\xd4\x00\x00",
    ))
    .unwrap();
    assert_eq!(p.encode().0, r#"2["e",{"b":1},[null]]"#);
}

#[test]
fn msgpack_values_as_serde_sees_them() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Nested {
        a: (Option<f64>, Option<f64>, Bytes),
        u: Option<u8>,
        d: String,
        z: f64,
        k: i8,
    }
    let p = mp(&hex(SAMPLES[2].hex)).unwrap();
    let args = p.args().unwrap();
    let nested: Nested = args.deserialize(1).unwrap();
    assert_eq!(
        nested,
        Nested {
            a: (None, None, Bytes::from_static(&[9])),
            u: None,
            d: "2023-11-14T22:13:20.123Z".into(),
            z: 1.5,
            k: -1,
        }
    );
    // undefined, NaN and the infinities are null: None, (), not an f64.
    let p = mp(&hex(SAMPLES[0].hex)).unwrap();
    let args = p.args().unwrap();
    let values: (Option<f64>, (), Option<f64>, Option<f64>) = args.deserialize_from(1).unwrap();
    assert_eq!(values, (None, (), None, None));
    assert!(args.deserialize::<f64>(2).is_err());
    // ArrayBuffer and Buffer are both bytes.
    let p = mp(&hex(SAMPLES[1].hex)).unwrap();
    let args = p.args().unwrap();
    let (ab, buf): (Bytes, Bytes) = args.deserialize_from(1).unwrap();
    assert_eq!((&ab[..], &buf[..]), (&[5, 6, 7][..], &[1, 2, 3][..]));
    assert_eq!(args.binary_arg(1), Some(&Bytes::from_static(&[5, 6, 7])));
    assert_eq!(p.event_name().as_deref(), Some("e"));
}

#[test]
fn msgpack_arguments_passed_on_as_a_server_does() {
    // The server takes the name off and puts another on, keeping the
    // attachments: what comes out is what notepack writes for the new
    // arguments.
    let rename = |p: &Packet, name: &str| {
        let (mut raw, attachments) = p.args().unwrap().clone().into_parts();
        raw[0] = RawJson::string(name);
        Args::from_parts(raw, attachments)
    };
    // ["back", undefined, NaN, Infinity, -Infinity]
    let p = mp(&hex(SAMPLES[0].hex)).unwrap();
    assert_eq!(
        encode_msgpack(&Packet::event("/", rename(&p, "back"))),
        hex(
            "83a47479706502a46461746195a46261636bd40000cb7ff8000000000000cb7ff0000000000000cbfff0000000000000a36e7370a12f"
        )
    );
    // An ack with [ArrayBuffer [5, 6, 7], Buffer [1, 2, 3]], id 9:
    // {type: 3, data: [...], id: 9, nsp: "/"}
    let p = mp(&hex(SAMPLES[1].hex)).unwrap();
    let (mut raw, attachments) = p.args().unwrap().clone().into_parts();
    raw.remove(0);
    let ack = Packet::ack("/", 9, Args::from_parts(raw, attachments));
    assert_eq!(
        encode_msgpack(&ack),
        hex("84a47479706503a46461746192c70300050607c403010203a2696409a36e7370a12f")
    );
    assert_eq!(
        ack.encode().0,
        r#"62-9[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    // Mixed with values built in Rust: each goes out its own way.
    let nan = mp(&hex(SAMPLES[0].hex))
        .unwrap()
        .args()
        .unwrap()
        .get(2)
        .unwrap()
        .clone();
    let mut args = Args::event("m").with(&1.5).unwrap();
    args.push_raw(nan.clone());
    args.push_binary(Bytes::from_static(b"\x01"));
    let p = Packet::event("/", args);
    assert_eq!(
        encode_msgpack(&p)[..],
        *b"\x83\xa4type\x02\xa4data\x94\xa1m\xcb\x3f\xf8\0\0\0\0\0\0\xcb\x7f\xf8\0\0\0\0\0\0\xc4\x01\x01\xa3nsp\xa1/"
    );
    assert_eq!(
        p.encode().0,
        r#"51-["m",1.5,null,{"_placeholder":true,"num":0}]"#
    );
    // Without its MessagePack, NaN is the null its JSON says.
    let p = Packet::event("/", Args::event("m").with_raw(nan.without_msgpack()));
    assert_eq!(
        encode_msgpack(&p)[..],
        *b"\x83\xa4type\x02\xa4data\x92\xa1m\xc0\xa3nsp\xa1/"
    );
}

#[test]
fn msgpack_connect_and_connect_error_values_keep_their_bytes() {
    // {type: 0, data: {token: "t", n: NaN, u: undefined}, nsp: "/"}
    let bytes = hex(
        "83a47479706500a46461746183a5746f6b656ea174a16ecb7ff8000000000000a175d40000a36e7370a12f",
    );
    let p = mp(&bytes).unwrap();
    assert_eq!(p.value().unwrap(), r#"{"token":"t","n":null}"#);
    assert_eq!(encode_msgpack(&p), bytes);
    assert_eq!(p.encode().0, r#"0{"token":"t","n":null}"#);
    // Echoed as an argument (the conformance server's "auth" event).
    let args = Args::event("auth").with_raw(p.value().unwrap().clone());
    let mut expected = b"\x83\xa4type\x02\xa4data\x92\xa4auth".to_vec();
    expected.extend_from_slice(&bytes[12..bytes.len() - 6]);
    expected.extend_from_slice(b"\xa3nsp\xa1/");
    assert_eq!(encode_msgpack(&Packet::event("/", args))[..], expected[..]);
}

#[test]
fn msgpack_kept_bytes_are_bounded_by_the_input() {
    // The worst cases of values that keep their MessagePack: two bytes
    // the encoder would write as one (uint 8 for 5, int 8 for -32: three
    // bytes of JSON, the most such two bytes give), undefined.
    let cases: [&[u8]; 4] = [
        b"\xcc\x05",
        b"\xd0\xe0",
        b"\xd4\x00\x00",
        b"\x91\xd4\x00\x00",
    ];
    for item in cases {
        let n = 10_000;
        let mut v = b"\x83\xa4type\x02\xa4data\xdc".to_vec();
        v.extend_from_slice(&u16::try_from(n + 1).unwrap().to_be_bytes());
        v.extend_from_slice(b"\xa1e");
        for _ in 0..n {
            v.extend_from_slice(item);
        }
        v.extend_from_slice(b"\xa3nsp\xa1/");
        let len = v.len();
        let bytes = Bytes::from(v);
        let p = decode_msgpack(&bytes, &DecoderConfig::default()).unwrap();
        let args = p.args().unwrap();
        assert!(args.iter().skip(1).all(|a| a.msgpack().is_some()));
        let json: usize = args.iter().map(RawJson::len).sum();
        // What a kept value adds: its text and MessagePack, and the
        // reference counts of the `Arc` around them.
        let per_kept = 2 * std::mem::size_of::<Bytes>() + 2 * std::mem::size_of::<usize>();
        let shared = args.iter().filter(|a| a.msgpack().is_some()).count() * per_kept;
        let structs = (args.len() + args.attachments().len()) * std::mem::size_of::<Bytes>();
        assert!(
            json + structs + shared <= 60 * len,
            "{item:x?}: {json} + {structs} + {shared} for {len}"
        );
        // (Not assert_eq: the message is long.)
        assert!(encode_msgpack(&p) == bytes, "{item:x?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn msgpack_decoded_packets_are_a_fixed_point(
        values in proptest::collection::vec(node(), 0..3),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..4),
    ) {
        // Whatever the decoder accepts, mutated or not, encodes to bytes
        // that decode to the same packet, whose arguments encode the same
        // way again.
        let mut args = Args::event("e");
        for v in &values {
            args.push(v).unwrap();
        }
        let mut bytes = encode_msgpack(&Packet::event("/n", args).with_id(3)).to_vec();
        for (at, byte, op) in &edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, *byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = *byte,
                _ => {}
            }
        }
        let config = DecoderConfig::default().max_attachments(usize::MAX);
        if let Ok(p) = decode_msgpack(&Bytes::from(bytes), &config) {
            let once = encode_msgpack(&p);
            let again = decode_msgpack(&once, &config).unwrap();
            prop_assert_eq!(&again, &p);
            prop_assert_eq!(encode_msgpack(&again), once);
            let (text, attachments) = p.encode();
            let from_text = decode_with(config, &text, &attachments).unwrap();
            prop_assert_eq!(from_text, p);
        }
    }
}
