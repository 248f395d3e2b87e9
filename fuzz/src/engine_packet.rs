//! The `engine_packet` target: Engine.IO packets and payloads (sockio-core).

use bytes::{Bytes, BytesMut};
use sockio_core::engine::{
    Packet as EioPacket, PacketError, PayloadDecoder, Protocol, SEPARATOR, WsFrame, decode_payload,
    decode_payload_binary_v3, encode_payload, encode_payload_binary_v3,
};

/// The `max_packets` limits the `engine_packet` target gives the payload
/// decoders.
const MAX_PACKETS: [usize; 8] = [0, 1, 2, 3, 4, 16, 256, usize::MAX];

/// Checks an Engine.IO packet decoded from `len` bytes of input: its data
/// fits in them, text data is UTF-8, and it survives every encoding of both
/// protocol revisions (WebSocket message, text form) unchanged.
fn check_engine_packet(p: &EioPacket, len: usize) {
    assert!(
        p.data_len() <= len,
        "{} bytes of data from {len}",
        p.data_len()
    );
    match p {
        EioPacket::Open(d) | EioPacket::Ping(d) | EioPacket::Pong(d) => {
            assert!(std::str::from_utf8(d).is_ok(), "text data is UTF-8");
        }
        _ => {}
    }
    for protocol in [Protocol::V3, Protocol::V4] {
        let frame = p.encode_ws(protocol);
        assert_eq!(frame.is_binary(), p.is_binary(), "{p:?} as {frame:?}");
        assert_eq!(
            EioPacket::decode_ws(frame.clone(), protocol).as_ref(),
            Ok(p),
            "WebSocket round trip in {protocol:?} through {frame:?}"
        );
        let text = p.to_text(protocol);
        let mut out = BytesMut::new();
        p.encode_text(protocol, &mut out);
        assert_eq!(out, text, "encode_text and to_text");
        assert_eq!(text.len(), p.text_len(protocol), "text_len of {p:?}");
        assert!(std::str::from_utf8(&text).is_ok(), "the text form is UTF-8");
        assert_eq!(
            EioPacket::decode_ws_text(text, protocol).as_ref(),
            Ok(p),
            "text round trip in {protocol:?}"
        );
    }
}

/// Whether the text form of `p` gives back the bytes it was decoded from:
/// not for close, upgrade and noop (data after the type is dropped) nor for
/// base64 (decoded leniently).
fn exact_text(p: &EioPacket) -> bool {
    !matches!(
        p,
        EioPacket::Close | EioPacket::Upgrade | EioPacket::Noop | EioPacket::Binary(_)
    )
}

/// The three payload formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayloadFormat {
    V4,
    V3Text,
    V3Binary,
}

impl PayloadFormat {
    const ALL: [Self; 3] = [Self::V4, Self::V3Text, Self::V3Binary];

    fn decoder(self, body: Bytes) -> PayloadDecoder {
        match self {
            Self::V4 => PayloadDecoder::new(body, Protocol::V4),
            Self::V3Text => PayloadDecoder::new(body, Protocol::V3),
            Self::V3Binary => PayloadDecoder::binary_v3(body),
        }
    }

    fn decode(self, body: Bytes, max: usize) -> Result<Vec<EioPacket>, PacketError> {
        match self {
            Self::V4 => decode_payload(body, Protocol::V4, max),
            Self::V3Text => decode_payload(body, Protocol::V3, max),
            Self::V3Binary => decode_payload_binary_v3(body, max),
        }
    }

    fn encode(self, packets: &[EioPacket]) -> BytesMut {
        let mut out = BytesMut::new();
        match self {
            Self::V4 => encode_payload(packets, Protocol::V4, &mut out),
            Self::V3Text => encode_payload(packets, Protocol::V3, &mut out),
            Self::V3Binary => encode_payload_binary_v3(packets, &mut out),
        }
        out
    }

    /// Whether `packets` can be written in this format and read back: a
    /// protocol 4 payload cannot hold no packet (an empty body is an
    /// error) nor text with the separator in it.
    fn can_hold(self, packets: &[EioPacket]) -> bool {
        self != Self::V4
            || (!packets.is_empty()
                && packets.iter().all(|p| match p {
                    EioPacket::Open(d) | EioPacket::Ping(d) | EioPacket::Pong(d) => {
                        !d.contains(&SEPARATOR)
                    }
                    EioPacket::Message(t) => !t.as_bytes().contains(&SEPARATOR),
                    _ => true,
                }))
    }
}

/// Decodes `body` in `format` packet by packet and all at once, and checks
/// that they agree, that the packets respect the limits, and that they
/// survive every payload encoding.
fn check_payload(body: &Bytes, format: PayloadFormat, max: usize) {
    let mut iter = format.decoder(body.clone());
    let mut packets = Vec::new();
    let mut error = None;
    for item in iter.by_ref() {
        match item {
            Ok(p) => packets.push(p),
            Err(e) => {
                let _ = e.to_string();
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(iter.next(), None, "the iterator ends after an error");
    assert_eq!(iter.next(), None, "and stays ended");
    let want = if packets.len() > max {
        Err(PacketError::TooManyPackets { max })
    } else if let Some(e) = error.clone() {
        Err(e)
    } else {
        Ok(packets.clone())
    };
    assert_eq!(
        format.decode(body.clone(), max),
        want,
        "{format:?}: the iterator and the whole-body decoder disagree"
    );

    // Limits: every packet takes at least a byte, data are disjoint slices
    // of the body or decoded base64.
    assert!(packets.len() <= body.len(), "{} packets", packets.len());
    let data: usize = packets.iter().map(EioPacket::data_len).sum();
    assert!(
        data <= body.len(),
        "{data} bytes of data from {}",
        body.len()
    );
    for p in &packets {
        check_engine_packet(p, body.len());
    }
    if error.is_none() && format == PayloadFormat::V4 {
        let separators = body.iter().filter(|&&b| b == SEPARATOR).count();
        assert_eq!(packets.len(), separators + 1, "one packet per segment");
        if packets.iter().all(exact_text) {
            assert_eq!(format.encode(&packets), body, "byte for byte");
        }
    }

    // Whatever decoded (all of it, or the packets before the error), in
    // every payload format.
    for to in PayloadFormat::ALL {
        if !to.can_hold(&packets) {
            continue;
        }
        let encoded = to.encode(&packets).freeze();
        assert_eq!(
            to.decode(encoded.clone(), usize::MAX),
            Ok(packets.clone()),
            "{format:?} packets through {to:?}: {encoded:?}"
        );
    }
}

/// `engine_packet`: arbitrary bytes to every Engine.IO decoder, in both
/// protocol revisions: a WebSocket text message (`Packet::decode_ws_text`,
/// `Packet::decode_ws`), a binary one (`Packet::decode_ws_binary`), a text
/// polling body (`PayloadDecoder::new`, `decode_payload`) and a protocol 3
/// binary body (`PayloadDecoder::binary_v3`, `decode_payload_binary_v3`).
///
/// Layout: `sel, body...`
/// - `sel`: bits 0-2 the payload decoders' `max_packets`, from
///   [`MAX_PACKETS`] (0 to 256, and unlimited).
/// - `body`: the message or body, the same bytes to every decoder.
///
/// Checks: no panic; `decode_ws` agrees with `decode_ws_text` and
/// `decode_ws_binary`; a decoded packet's data fits in the input and its
/// text data is UTF-8; it re-encodes (WebSocket message and text form, both
/// revisions) and decodes to the same packet, `text_len` is the text
/// form's length, and a text message (but for dropped data and lenient
/// base64) or a binary one re-encodes to the very bytes it came in; a
/// payload decoded packet by packet gives what the whole-body decoder
/// gives (the same packets, the same error, or `TooManyPackets` past the
/// limit), the iterator ends after an error, there are no more packets
/// than bytes nor more data than the body holds, a protocol 4 body has one
/// packet per segment (and re-encodes byte for byte when nothing lossy is
/// in it), and the packets decoded (all, or those before the error) go
/// through every payload format (protocol 4, protocol 3 text and binary)
/// and back unchanged.
pub fn engine_packet(data: &[u8]) {
    let [sel, body @ ..] = data else {
        return;
    };
    let max = MAX_PACKETS[usize::from(sel & 7)];
    let body = Bytes::copy_from_slice(body);
    for protocol in [Protocol::V3, Protocol::V4] {
        // One WebSocket text message.
        let text = EioPacket::decode_ws_text(body.clone(), protocol);
        assert_eq!(
            EioPacket::decode_ws(WsFrame::Text(body.clone()), protocol),
            text
        );
        match &text {
            Ok(p) => {
                check_engine_packet(p, body.len());
                if exact_text(p) {
                    assert_eq!(p.to_text(protocol), body, "text re-encodes as it came");
                } else if !p.is_binary() {
                    assert_eq!(p.to_text(protocol)[0], body[0], "the type digit");
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }

        // One WebSocket binary message.
        let binary = EioPacket::decode_ws_binary(body.clone(), protocol);
        assert_eq!(
            EioPacket::decode_ws(WsFrame::Binary(body.clone()), protocol),
            binary
        );
        if let Ok(p) = &binary {
            assert!(p.is_binary(), "{p:?} from a binary message");
            check_engine_packet(p, body.len());
            assert_eq!(
                p.encode_ws(protocol),
                WsFrame::Binary(body.clone()),
                "a binary message re-encodes as it came"
            );
        }
    }
    for format in PayloadFormat::ALL {
        check_payload(&body, format, max);
    }
}
