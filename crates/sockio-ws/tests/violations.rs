//! One test per receiving rule of RFC 6455 / RFC 7692 and per limit,
//! through the sans-IO decoder: each asserts the error and its close code
//! (RELIABILITY.md section 4, cases 9 to 14, at the codec level; the
//! `driver` tests check the same over a socket).

mod support;

use bytes::BytesMut;
use sockio_ws::frame::OpCode;
use sockio_ws::{CloseCode, Config, Decoder, DeflateParams, Message, ProtocolError, Role};
use support::{client_frame, compress, decode_all, frame, server_decoder};

fn server() -> Decoder {
    server_decoder(&Config::default(), None)
}

fn error_of(dec: &mut Decoder, bytes: &[u8]) -> ProtocolError {
    let (_, err) = decode_all(dec, bytes);
    err.expect("the decoder must reject this input")
}

fn assert_code(err: &ProtocolError, code: CloseCode) {
    assert_eq!(err.close_code(), code, "{err}");
}

#[test]
fn unmasked_client_frame() {
    let bytes = frame(Role::Server, OpCode::Text, true, false, b"hi");
    let err = error_of(&mut server(), &bytes);
    assert_eq!(err, ProtocolError::UnmaskedFrame);
    assert_code(&err, CloseCode::PROTOCOL);
}

#[test]
fn masked_server_frame() {
    let bytes = client_frame(OpCode::Text, true, b"hi");
    let mut client = Decoder::new(Role::Client, &Config::default(), None);
    let err = error_of(&mut client, &bytes);
    assert_eq!(err, ProtocolError::MaskedFrame);
    assert_code(&err, CloseCode::PROTOCOL);
}

#[test]
fn reserved_bits_without_extension() {
    for bit in [0x40u8, 0x20, 0x10] {
        let mut bytes = client_frame(OpCode::Text, true, b"hi");
        bytes[0] |= bit;
        let err = error_of(&mut server(), &bytes);
        assert_eq!(err, ProtocolError::ReservedBits, "bit {bit:#x}");
        assert_code(&err, CloseCode::PROTOCOL);
    }
}

#[test]
fn rsv2_rsv3_even_with_deflate() {
    for bit in [0x20u8, 0x10] {
        let mut bytes = client_frame(OpCode::Text, true, b"hi");
        bytes[0] |= bit;
        let mut dec = server_decoder(&Config::default(), Some(DeflateParams::default()));
        assert_eq!(error_of(&mut dec, &bytes), ProtocolError::ReservedBits);
    }
}

#[test]
fn rsv1_on_control_and_continuation_frames() {
    let deflate = Some(DeflateParams::default());
    let mut ping = client_frame(OpCode::Ping, true, b"");
    ping[0] |= 0x40;
    let mut dec = server_decoder(&Config::default(), deflate);
    assert_eq!(error_of(&mut dec, &ping), ProtocolError::ReservedBits);

    let mut bytes = client_frame(OpCode::Binary, false, b"a");
    let mut cont = client_frame(OpCode::Continuation, true, b"b");
    cont[0] |= 0x40;
    bytes.extend(cont);
    let mut dec = server_decoder(&Config::default(), deflate);
    assert_eq!(error_of(&mut dec, &bytes), ProtocolError::ReservedBits);
}

#[test]
fn reserved_opcodes() {
    for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
        let bytes = [0x80 | op, 0x80, 1, 2, 3, 4];
        let err = error_of(&mut server(), &bytes);
        assert_eq!(err, ProtocolError::ReservedOpcode(op));
        assert_code(&err, CloseCode::PROTOCOL);
    }
}

#[test]
fn continuation_without_start() {
    let bytes = client_frame(OpCode::Continuation, true, b"x");
    let err = error_of(&mut server(), &bytes);
    assert_eq!(err, ProtocolError::UnexpectedContinuation);
    assert_code(&err, CloseCode::PROTOCOL);
}

#[test]
fn new_data_frame_inside_fragmented_message() {
    let mut bytes = client_frame(OpCode::Text, false, b"a");
    bytes.extend(client_frame(OpCode::Binary, true, b"b"));
    let err = error_of(&mut server(), &bytes);
    assert_eq!(err, ProtocolError::ExpectedContinuation);
    assert_code(&err, CloseCode::PROTOCOL);
}

#[test]
fn control_frame_rules() {
    let err = error_of(&mut server(), &client_frame(OpCode::Ping, true, &[0; 126]));
    assert_eq!(err, ProtocolError::ControlFrameTooLong(126));
    assert_code(&err, CloseCode::PROTOCOL);
    let err = error_of(&mut server(), &client_frame(OpCode::Ping, false, b"x"));
    assert_eq!(err, ProtocolError::FragmentedControlFrame);
    assert_code(&err, CloseCode::PROTOCOL);
    // A 125-byte ping is fine.
    let (msgs, err) = decode_all(&mut server(), &client_frame(OpCode::Ping, true, &[7; 125]));
    assert_eq!((msgs.len(), err), (1, None));
}

#[test]
fn close_payload_rules() {
    let err = error_of(&mut server(), &client_frame(OpCode::Close, true, &[3]));
    assert_eq!(err, ProtocolError::InvalidClosePayload);
    assert_code(&err, CloseCode::PROTOCOL);
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let err = error_of(
            &mut server(),
            &client_frame(OpCode::Close, true, &code.to_be_bytes()),
        );
        assert_eq!(err, ProtocolError::InvalidCloseCode(code));
        assert_code(&err, CloseCode::PROTOCOL);
    }
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend([
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
    ]);
    let err = error_of(&mut server(), &client_frame(OpCode::Close, true, &payload));
    assert_eq!(err, ProtocolError::InvalidUtf8);
    assert_code(&err, CloseCode::INVALID_PAYLOAD);
    // Valid: empty, and a sendable code with a UTF-8 reason.
    for payload in [vec![], vec![0x03, 0xe8, b'b', b'y', b'e'], vec![0x0f, 0xa0]] {
        let (msgs, err) = decode_all(&mut server(), &client_frame(OpCode::Close, true, &payload));
        assert_eq!(err, None);
        assert!(matches!(msgs[..], [Message::Close(_)]));
    }
}

#[test]
fn ping_inside_fragmented_message_is_returned_and_message_completes() {
    let mut bytes = client_frame(OpCode::Text, false, b"Hel");
    bytes.extend(client_frame(OpCode::Ping, true, b"p"));
    bytes.extend(client_frame(OpCode::Continuation, true, b"lo"));
    let (msgs, err) = decode_all(&mut server(), &bytes);
    assert_eq!(err, None);
    assert_eq!(
        msgs,
        vec![Message::Ping("p".into()), Message::text("Hello")]
    );
}

#[test]
fn invalid_utf8_fails_fast() {
    // Invalid in a single frame.
    let err = error_of(
        &mut server(),
        &client_frame(OpCode::Text, true, &[b'a', 0xff]),
    );
    assert_eq!(err, ProtocolError::InvalidUtf8);
    assert_code(&err, CloseCode::INVALID_PAYLOAD);

    // Invalid sequence split across fragments: the error comes with the
    // second fragment, before the final one is even sent.
    let mut dec = server();
    let (_, err) = decode_all(&mut dec, &client_frame(OpCode::Text, false, &[b'a', 0xf4]));
    assert_eq!(err, None);
    let (_, err) = decode_all(
        &mut dec,
        &client_frame(OpCode::Continuation, false, &[0x90]),
    );
    assert_eq!(err, Some(ProtocolError::InvalidUtf8));

    // Within one frame still arriving: the first bad byte is enough.
    let frame = client_frame(
        OpCode::Text,
        true,
        &[b'a'; 1000]
            .iter()
            .copied()
            .chain([0xc0])
            .chain([b'b'; 1000])
            .collect::<Vec<_>>(),
    );
    let mut dec = server();
    let header_len = 2 + 2 + 4;
    let (_, err) = decode_all(&mut dec, &frame[..header_len + 1001]);
    assert_eq!(err, Some(ProtocolError::InvalidUtf8));

    // Truncated at the end of the final fragment.
    let mut bytes = client_frame(OpCode::Text, false, b"ok");
    bytes.extend(client_frame(OpCode::Continuation, true, &[0xe2, 0x82]));
    assert_eq!(error_of(&mut server(), &bytes), ProtocolError::InvalidUtf8);

    // A valid sequence split across fragments is fine.
    let euro = "€".as_bytes();
    let mut bytes = client_frame(OpCode::Text, false, &euro[..1]);
    bytes.extend(client_frame(OpCode::Continuation, false, &euro[1..2]));
    bytes.extend(client_frame(OpCode::Continuation, true, &euro[2..]));
    assert_eq!(
        decode_all(&mut server(), &bytes),
        (vec![Message::text("€")], None)
    );
}

#[test]
fn huge_lengths_rejected_before_allocating() {
    let mut buf = BytesMut::from(&[0x82u8, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4][..]);
    assert_eq!(server().decode(&mut buf), Err(ProtocolError::InvalidLength));

    // 2^62 bytes announced: too large, and nothing reserved for it.
    let mut dec = server();
    let mut buf = BytesMut::from(&[0x82u8, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4][..]);
    let err = dec.decode(&mut buf).unwrap_err();
    assert!(matches!(err, ProtocolError::FrameTooLarge { .. }));
    assert_code(&err, CloseCode::TOO_BIG);
    assert!(buf.capacity() < 1024);
}

#[test]
fn frame_and_message_limits() {
    let config = Config::default().max_message_size(1000);
    let err = error_of(
        &mut server_decoder(&config, None),
        &client_frame(OpCode::Binary, true, &[0; 1001]),
    );
    assert_eq!(
        err,
        ProtocolError::FrameTooLarge {
            len: 1001,
            max: 1000
        }
    );
    assert_code(&err, CloseCode::TOO_BIG);

    let mut bytes = Vec::new();
    for i in 0..3 {
        let op = if i == 0 {
            OpCode::Binary
        } else {
            OpCode::Continuation
        };
        bytes.extend(client_frame(op, i == 2, &[0; 400]));
    }
    let err = error_of(&mut server_decoder(&config, None), &bytes);
    assert_eq!(err, ProtocolError::MessageTooLarge { max: 1000 });
    assert_code(&err, CloseCode::TOO_BIG);
}

#[test]
fn fragment_floods_hit_the_cap() {
    // 1 MiB as 1-byte fragments.
    let config = Config::default();
    let mut dec = server_decoder(&config, None);
    let mut buf = BytesMut::new();
    let mut err = None;
    for i in 0..(1 << 20) {
        let op = if i == 0 {
            OpCode::Binary
        } else {
            OpCode::Continuation
        };
        buf.extend_from_slice(&client_frame(op, false, b"x"));
        if let Err(e) = dec.decode(&mut buf) {
            err = Some((i, e));
            break;
        }
    }
    let (at, err) = err.expect("cap reached");
    assert_eq!(at, config.max_fragments);
    assert_eq!(
        err,
        ProtocolError::TooManyFragments {
            max: config.max_fragments
        }
    );
    assert_code(&err, CloseCode::POLICY);

    // 200 000 empty continuation frames.
    let mut dec = server_decoder(&config, None);
    let mut bytes = client_frame(OpCode::Text, false, b"");
    for _ in 0..200_000 {
        bytes.extend(client_frame(OpCode::Continuation, false, b""));
    }
    assert_eq!(
        error_of(&mut dec, &bytes),
        ProtocolError::TooManyFragments {
            max: config.max_fragments
        }
    );
}

#[test]
fn deflate_bomb_stops_at_the_limit() {
    // 1 MiB of zeros compressed, repeated: a stream that inflates to 1 GiB.
    let params = DeflateParams::default();
    let block = compress(
        DeflateParams {
            server_no_context_takeover: true,
            ..params
        },
        &vec![0u8; 1 << 20],
    );
    let mut sync_block = block.clone();
    sync_block.extend([0, 0, 0xff, 0xff]);
    let mut payload = Vec::new();
    for _ in 0..1023 {
        payload.extend_from_slice(&sync_block);
    }
    payload.extend_from_slice(&block);
    assert!(payload.len() < 2 << 20, "{}", payload.len());
    let config = Config::default().max_message_size(4 << 20);
    let mut dec = server_decoder(&config, Some(params));
    let bytes = frame(Role::Client, OpCode::Binary, true, true, &payload);
    let mut buf = BytesMut::from(&bytes[..]);
    let err = dec.decode(&mut buf).unwrap_err();
    assert_eq!(err, ProtocolError::DecompressedTooLarge { max: 4 << 20 });
    assert_code(&err, CloseCode::TOO_BIG);
}

#[test]
fn corrupt_deflate_and_rsv1_without_deflate() {
    let corrupt = frame(Role::Client, OpCode::Binary, true, true, &[0xff; 40]);
    let mut dec = server_decoder(&Config::default(), Some(DeflateParams::default()));
    let err = error_of(&mut dec, &corrupt);
    assert_eq!(err, ProtocolError::CorruptDeflate);
    assert_code(&err, CloseCode::INVALID_PAYLOAD);

    let compressed = compress(DeflateParams::default(), b"hello");
    let bytes = frame(Role::Client, OpCode::Text, true, true, &compressed);
    let err = error_of(&mut server(), &bytes);
    assert_eq!(err, ProtocolError::ReservedBits);
    assert_code(&err, CloseCode::PROTOCOL);
}

#[test]
fn compressed_invalid_utf8() {
    let compressed = compress(DeflateParams::default(), &[b'a', 0xff, b'b']);
    let bytes = frame(Role::Client, OpCode::Text, true, true, &compressed);
    let mut dec = server_decoder(&Config::default(), Some(DeflateParams::default()));
    assert_eq!(error_of(&mut dec, &bytes), ProtocolError::InvalidUtf8);
}

#[test]
fn errors_are_sticky() {
    let mut dec = server();
    let bad = frame(Role::Server, OpCode::Text, true, false, b"hi");
    let mut buf = BytesMut::from(&bad[..]);
    assert!(dec.decode(&mut buf).is_err());
    let mut good = BytesMut::from(&client_frame(OpCode::Text, true, b"hi")[..]);
    assert_eq!(dec.decode(&mut good), Err(ProtocolError::UnmaskedFrame));
}
