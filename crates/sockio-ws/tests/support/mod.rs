//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use bytes::BytesMut;
use sockio_ws::frame::OpCode;
use sockio_ws::{Config, Decoder, DeflateParams, Encoder, Message, ProtocolError, Role};

/// Feeds `bytes` to `dec` in one piece and collects every message up to
/// the first error.
pub fn decode_all(dec: &mut Decoder, bytes: &[u8]) -> (Vec<Message>, Option<ProtocolError>) {
    decode_chunked(dec, bytes, &[])
}

/// Feeds `bytes` split at `cuts` and collects messages up to the first error.
pub fn decode_chunked(
    dec: &mut Decoder,
    bytes: &[u8],
    cuts: &[usize],
) -> (Vec<Message>, Option<ProtocolError>) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    points.sort_unstable();
    points.push(bytes.len());
    for end in points {
        let end = end.max(start);
        buf.extend_from_slice(&bytes[start..end]);
        start = end;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

/// A raw frame as a peer playing `role` would send it.
pub fn frame(role: Role, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut enc = Encoder::new(role, &Config::default(), None);
    let mut out = BytesMut::new();
    enc.encode_frame(opcode, fin, rsv1, payload, &mut out);
    out.to_vec()
}

/// A client frame (masked), as a server receives it.
pub fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    frame(Role::Client, opcode, fin, false, payload)
}

/// The raw permessage-deflate payload of `msg` (as a server with `params`
/// would compress it, threshold 0).
pub fn compress(params: DeflateParams, msg: &[u8]) -> Vec<u8> {
    let config =
        Config::default().deflate(sockio_ws::DeflateConfig::enabled().threshold(0).level(9));
    let mut enc = Encoder::new(Role::Server, &config, Some(params));
    let bytes = enc.encode_to_bytes(&Message::binary(msg.to_vec()));
    let (header, len) = sockio_ws::frame::FrameHeader::parse(&bytes)
        .unwrap()
        .unwrap();
    assert!(header.rsv1);
    bytes[len..].to_vec()
}

/// A server decoder with `config` and optional deflate.
pub fn server_decoder(config: &Config, deflate: Option<DeflateParams>) -> Decoder {
    Decoder::new(Role::Server, config, deflate)
}
