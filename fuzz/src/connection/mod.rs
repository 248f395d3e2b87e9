//! The `connection` target: the sans-IO Socket.IO connection state machine
//! (`sockio_core::socket::connection::Connection`), either role, driven by
//! a sequence of operations and checked against a model after each.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use sockio_core::engine::{CloseReason, Packet as EioPacket, Str};
use sockio_core::socket::connection::{
    Connection, ConnectionConfig, ConnectionError, DisconnectReason, Event, NamespaceState, Role,
    StateError,
};
use sockio_core::socket::{
    Args, Data, DecodeError, Decoder, DecoderConfig, Encoded, JsonKind, MAX_ACK_ID, Packet,
    PacketKind, Parser, RawJson, Recovery, is_reserved_event,
};

use crate::MESSAGE_SEPARATOR;

mod model;

use model::{Expect, Model, Ns, check_sent};

/// The operations of a `connection` input: the low nibble of each
/// operation's head byte (the high nibble is its parameter `p`, see
/// [`connection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// The body as a text message (`handle_text`).
    Text = 0,
    /// The body as a binary message (`handle_binary`).
    Binary = 1,
    /// The clock moves, then `handle_timeout`.
    Tick = 2,
    /// The clock moves, without `handle_timeout` (a late driver).
    Late = 3,
    /// A valid packet from the peer, built from parameters and encoded
    /// with the connection's parser, its messages fed in order.
    Peer = 4,
    /// Server: `accept` / `accept_recovered`.
    Accept = 5,
    /// Server: `refuse`.
    Refuse = 6,
    /// Client: `connect`.
    Connect = 7,
    /// `emit`.
    Emit = 8,
    /// `emit_with_ack`.
    EmitWithAck = 9,
    /// `emit_with_ack_id`.
    EmitWithAckId = 10,
    /// `ack` of an id the peer asked for.
    Ack = 11,
    /// `cancel_ack`.
    CancelAck = 12,
    /// `disconnect`.
    Disconnect = 13,
    /// `disconnect_all`.
    DisconnectAll = 14,
    /// `close`.
    Close = 15,
}

impl Op {
    /// The head byte of this operation with parameter `p` (0-15).
    pub fn head(self, p: u8) -> u8 {
        self as u8 | ((p & 0x0f) << 4)
    }
}

/// Operations run per input at most (the rest is ignored): with the
/// input's own length, this bounds the memory one input can make the
/// machine and the model hold.
const MAX_OPS: usize = 256;
/// Namespace names the checks look at, besides [`POOL`].
const MAX_NAMES: usize = 64;
/// Ack ids the peer asked for that the model remembers per namespace.
const MAX_ASKED: usize = 32;

/// `ConnectionConfig::max_namespaces`.
const MAX_NAMESPACES: [usize; 8] = [1, 2, 3, 4, 5, 8, 16, 100];
/// `DecoderConfig::max_depth`.
const MAX_DEPTHS: [usize; 4] = [2, 4, 32, 128];
/// `DecoderConfig::max_attachments`.
const MAX_ATTACHMENTS: [usize; 8] = [0, 1, 2, 3, 4, 10, 64, 1000];
/// `DecoderConfig::max_attachment_bytes`.
const MAX_ATTACHMENT_BYTES: [usize; 8] = [0, 1, 2, 16, 100, 1000, 65_536, 10_000_000];
/// `DecoderConfig::attachment_timeout` and
/// `ConnectionConfig::connect_timeout`, in milliseconds.
const TIMEOUTS_MS: [u64; 8] = [0, 1, 5, 20, 100, 1000, 30_000, 3_600_000];
/// How far [`Op::Tick`] and [`Op::Late`] move the clock (`p` 0-13).
const STEPS_MS: [u64; 14] = [
    0, 1, 2, 5, 10, 20, 50, 100, 500, 1000, 5000, 30_000, 45_000, 3_600_000,
];
/// The deadline of `emit_with_ack`, from now.
const DEADLINES_MS: [Option<u64>; 8] = [
    None,
    Some(0),
    Some(1),
    Some(5),
    Some(20),
    Some(100),
    Some(1000),
    Some(30_000),
];
/// Ack ids for `emit_with_ack_id` and the peer's packets.
const ACK_IDS: [u64; 8] = [0, 1, 2, 3, 42, MAX_ACK_ID - 1, MAX_ACK_ID, MAX_ACK_ID + 1];
/// Namespace names: valid, with a comma, without `/`, empty.
const POOL: [&str; 8] = ["/", "/a", "/b", "/chat", "/a,b", "admin", "/é", ""];
/// Event names: plain, reserved, empty, escaped; `None`: a number first
/// (index 6) or no argument at all (7).
const EVENT_NAMES: [Option<&str>; 8] = [
    Some("hello"),
    Some("message"),
    Some("disconnect"),
    Some("connect_error"),
    Some(""),
    Some("é 😀 \"\\\u{1}"),
    None,
    None,
];
/// JSON arguments and CONNECT_ERROR data.
const RAWS: [&str; 4] = [
    r#"{"k":[1,2.5,null,true]}"#,
    "-0.0e+1",
    r#""s\u00e9\n""#,
    "[[[]]]",
];
/// `close` reasons.
const REASONS: [CloseReason; 7] = [
    CloseReason::TransportClose,
    CloseReason::TransportError,
    CloseReason::PingTimeout,
    CloseReason::ParseError,
    CloseReason::ForcedClose,
    CloseReason::ServerShuttingDown,
    CloseReason::SlowConsumer,
];

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn raw(s: &'static str) -> RawJson {
    RawJson::try_from(s).expect("valid JSON")
}

/// Arguments after an event name or in an ack, by the bits of `bits`: the
/// content as a string, as binary, a JSON value, an empty binary, a
/// string offset.
fn extras(mut args: Args, bits: u8, content: &[u8]) -> Args {
    if bits & 1 != 0 {
        args = args.with_string(&lossy(content));
    }
    if bits & 2 != 0 {
        args = args.with_binary(Bytes::copy_from_slice(content));
    }
    if bits & 4 != 0 {
        args = args.with_raw(raw(RAWS[content.len() % RAWS.len()]));
    }
    if bits & 8 != 0 {
        args = args.with_binary(Bytes::new());
    }
    if bits & 16 != 0 {
        args = args.with_string("off-x");
    }
    args
}

/// An event's arguments: `arg` bits 0-2 the name ([`EVENT_NAMES`]), bits
/// 3-7 the [`extras`].
fn event_args(arg: u8, content: &[u8]) -> Args {
    let args = match EVENT_NAMES[usize::from(arg & 7)] {
        Some(name) => Args::event(name),
        None if arg & 7 == 6 => Args::new().with_raw(RawJson::number(1)),
        None => Args::new(),
    };
    extras(args, arg >> 3, content)
}

/// An ack's arguments: with bit 7 and an event to echo, that event's
/// arguments but its name; else the [`extras`].
fn ack_args(bits: u8, content: &[u8], echo: Option<&Args>) -> Args {
    match echo {
        Some(event) if bits & 0x80 != 0 => {
            let (args, attachments) = event.clone().into_parts();
            Args::from_parts(args.into_iter().skip(1).collect(), attachments)
        }
        _ => extras(Args::new(), bits, content),
    }
}

/// The messages `packet` goes out as with `parser`.
fn messages(parser: Parser, packet: &Packet) -> Vec<EioPacket> {
    match parser.encode(packet) {
        Encoded::Text { text, attachments } => std::iter::once(EioPacket::Message(text))
            .chain(attachments.into_iter().map(EioPacket::Binary))
            .collect(),
        Encoded::Binary(data) => vec![EioPacket::Binary(data)],
    }
}

/// The fields of a JSON object, as serde_json reads them (the last of a
/// repeated key): `None` when serde_json cannot (a lone surrogate, a
/// number out of range), the target then cannot tell what the machine
/// makes of it.
fn object(v: &RawJson) -> Option<serde_json::Map<String, Value>> {
    match v.deserialize::<Value>() {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn string_field(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Where a check fails: the operation's number and name, and which
/// message of a peer packet (formatted only on failure).
#[derive(Debug, Clone, Copy)]
struct At(usize, &'static str, usize);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} ({}), message {}", self.0, self.1, self.2)
    }
}

/// The machine, its model, and the peer's decoder of what it sends.
struct Run {
    conn: Connection,
    m: Model,
    peer: Decoder,
}

impl Run {
    /// After a call: what was sent is what the model expects, message for
    /// message, and decodes on the peer's side into packets the peer
    /// accepts; the events are the ones expected, in order; the state
    /// matches.
    fn settle(&mut self, what: At) {
        let sent: Vec<EioPacket> = std::iter::from_fn(|| self.conn.poll_transmit()).collect();
        let want: Vec<Packet> = std::mem::take(&mut self.m.out);
        let want_messages: Vec<EioPacket> = want
            .iter()
            .flat_map(|p| messages(self.m.parser, p))
            .collect();
        assert_eq!(sent, want_messages, "{what}: messages sent");
        let mut decoded = Vec::new();
        for message in sent {
            let r = match &message {
                EioPacket::Message(text) => self.peer.decode_text(text),
                EioPacket::Binary(data) => self.peer.decode_binary(data.clone()),
                other => panic!("{what}: sent {other:?}"),
            };
            match r {
                Ok(Some(p)) => decoded.push(p),
                Ok(None) => {}
                Err(e) => panic!("{what}: the peer cannot decode {message:?}: {e}"),
            }
        }
        assert_eq!(
            self.peer.pending_attachments(),
            0,
            "{what}: a packet sent in part"
        );
        assert_eq!(decoded.len(), want.len(), "{what}: packets sent");
        for (got, want) in decoded.iter().zip(&want) {
            check_sent(got, self.m.role);
            assert_eq!(
                (got.kind, &got.nsp, got.id),
                (want.kind, &want.nsp, want.id),
                "{what}: packet sent"
            );
        }

        let got: Vec<Event> = std::iter::from_fn(|| self.conn.poll_event()).collect();
        let mut got = got.into_iter();
        while let Some(want) = self.m.events.pop_front() {
            let actual = got
                .next()
                .unwrap_or_else(|| panic!("{what}: no event, expected {want:?}"));
            match want {
                Expect::Exact(e) => assert_eq!(actual, e, "{what}: event"),
                Expect::NoSid(nsp) => assert!(
                    matches!(&actual, Event::ConnectError { nsp: n, data: None, .. } if *n == nsp),
                    "{what}: expected the refusal of an answer without sid on {nsp:?}, got {actual:?}"
                ),
                Expect::Refused { nsp, message, data } => match &actual {
                    Event::ConnectError {
                        nsp: n,
                        message: m,
                        data: d,
                    } if *n == nsp && *m == message => {
                        let d = d.as_ref().map(|d| {
                            d.deserialize::<Value>()
                                .unwrap_or_else(|e| panic!("{what}: data {d:?}: {e}"))
                        });
                        assert_eq!(d, data, "{what}: CONNECT_ERROR data");
                    }
                    _ => {
                        panic!("{what}: expected ConnectError {nsp:?} {message:?}, got {actual:?}")
                    }
                },
                Expect::AnyRefusal(nsp) => assert!(
                    matches!(&actual, Event::ConnectError { nsp: n, .. } if *n == nsp),
                    "{what}: expected a ConnectError on {nsp:?}, got {actual:?}"
                ),
                Expect::Answer(nsp) => {
                    assert!(self.m.events.is_empty(), "{what}: the answer comes last");
                    match &actual {
                        Event::Connected {
                            nsp: n, sid, pid, ..
                        } if *n == nsp => {
                            self.m.connect_answer(nsp, Some(sid.clone()), pid.clone());
                        }
                        Event::ConnectError {
                            nsp: n, data: None, ..
                        } if *n == nsp => {
                            self.m.connect_answer(nsp, None, None);
                        }
                        _ => panic!("{what}: expected the answer on {nsp:?}, got {actual:?}"),
                    }
                    // What the model makes of it comes first: compare.
                    match self.m.events.pop_front() {
                        Some(Expect::Exact(e)) => assert_eq!(actual, e, "{what}: answer"),
                        Some(Expect::NoSid(_)) => {}
                        other => unreachable!("{other:?}"),
                    }
                }
            }
        }
        if let Some(extra) = got.next() {
            panic!("{what}: unexpected event {extra:?}");
        }
        self.check_state(what);
    }

    /// The machine's state is the model's.
    fn check_state(&self, what: At) {
        let (c, m) = (&self.conn, &self.m);
        assert_eq!(c.is_closed(), m.closed, "{what}: closed");
        assert_eq!(c.role(), m.role);
        assert_eq!(c.queued(), 0, "{what}: queued");
        assert_eq!(c.poll_timeout(), m.poll_timeout(), "{what}: poll_timeout");
        let joined: Vec<&str> = c.namespaces().map(|n| n.as_str()).collect();
        let want: Vec<&str> =
            m.ns.iter()
                .filter(|n| n.state == NamespaceState::Connected)
                .map(|n| n.name.as_str())
                .collect();
        assert_eq!(joined, want, "{what}: joined namespaces");
        let names = POOL
            .iter()
            .copied()
            .chain(m.names.iter().map(|n| n.as_str()));
        for name in names {
            let ns = m.get(name);
            let state = ns.map(|n| n.state);
            assert_eq!(c.namespace_state(name), state, "{what}: state of {name:?}");
            assert_eq!(
                c.is_connected(name),
                state == Some(NamespaceState::Connected)
            );
            assert_eq!(
                c.pending_acks(name),
                ns.map_or(0, |n| n.awaited.len()),
                "{what}: pending acks of {name:?}"
            );
            assert_eq!(
                c.sid(name),
                ns.and_then(|n| n.sid.as_deref()),
                "{what}: sid of {name:?}"
            );
            assert_eq!(
                c.pid(name),
                ns.and_then(|n| n.pid.as_deref()),
                "{what}: pid of {name:?}"
            );
            assert_eq!(
                c.recovery(name),
                m.recovery(name),
                "{what}: recovery of {name:?}"
            );
        }
    }

    /// A message from the peer, through `handle_packet` or the text and
    /// binary calls.
    fn feed(&mut self, message: EioPacket, via_packet: bool, what: At) {
        let now = self.m.now;
        let r = match &message {
            _ if via_packet => self.conn.handle_packet(message.clone(), now),
            EioPacket::Message(text) => self.conn.handle_text(text, now),
            EioPacket::Binary(data) => self.conn.handle_binary(data.clone(), now),
            other => unreachable!("{other:?}"),
        };
        let want = self.m.handle_message(&message);
        assert_eq!(r, want, "{what}: handling {message:?}");
        if let Err(e) = r {
            let _ = e.to_string();
            assert!(self.conn.is_closed(), "{what}: open after {e}");
            assert_eq!(self.conn.poll_timeout(), None, "{what}: a timer after {e}");
        }
        self.settle(what);
    }

    /// `handle_timeout` at the current time.
    fn timeout(&mut self, what: At) {
        let now = self.m.now;
        let r = self.conn.handle_timeout(now);
        assert_eq!(r, self.m.handle_timeout(now), "{what}: handle_timeout");
        match r {
            Ok(()) => assert!(
                self.conn.poll_timeout().is_none_or(|t| t > now),
                "{what}: poll_timeout {:?} not after handle_timeout({now:?})",
                self.conn.poll_timeout()
            ),
            Err(e) => {
                assert!(self.conn.is_closed(), "{what}: open after {e}");
                assert_eq!(self.conn.poll_timeout(), None);
            }
        }
        self.settle(what);
    }

    /// A packet from the peer, valid on its own: see [`connection`].
    /// The namespace an accept or a refusal names: the oldest one being
    /// joined, or (bit 4 of `p`, or none is being joined) any from `sel`.
    fn answered(&self, p: u8, sel: u8) -> Str {
        let oldest = self
            .m
            .ns
            .iter()
            .find(|n| n.state == NamespaceState::Connecting)
            .map(|n| n.name.clone());
        match oldest {
            Some(nsp) if p & 4 == 0 => nsp,
            _ => self.m.pick(sel),
        }
    }

    fn peer_packet(&self, p: u8, body: &[u8]) -> Packet {
        let sel = body.first().copied().unwrap_or(0);
        let arg = body.get(1).copied().unwrap_or(0);
        let idsel = body.get(2).copied().unwrap_or(0);
        let content = body.get(3..).unwrap_or_default();
        let text = lossy(content);
        let flag = p & 8 != 0;
        let nsp = self.m.pick(sel);
        let id = ACK_IDS[usize::from(idsel & 7)];
        let echo = self.m.get(&nsp).and_then(|n| n.last_args.as_ref());
        match p & 7 {
            0 => match self.m.role {
                // A client's CONNECT.
                Role::Server => {
                    let auth = flag.then(|| {
                        RawJson::from_serialize(&serde_json::json!({ "token": text }))
                            .expect("JSON")
                    });
                    if arg & 1 != 0 {
                        Packet::connect_with_recovery(nsp, auth.as_ref(), "pid-1", &text)
                    } else {
                        Packet::connect(nsp, auth)
                    }
                }
                // A server's answer.
                Role::Client => match arg & 3 {
                    0 | 1 => {
                        let pid = flag.then(|| {
                            let asked = self.m.get(&nsp).and_then(|n| n.asked_pid.clone());
                            match asked {
                                Some(pid) if arg & 1 == 0 => pid,
                                _ => format!("pid-{text}"),
                            }
                        });
                        Packet::connect_ok(nsp, &text, pid.as_deref())
                    }
                    2 => Packet::connect(nsp, None),
                    _ => Packet::connect(nsp, Some(raw(r#"{"sid":1,"pid":"pid-1"}"#))),
                },
            },
            1 => Packet::disconnect(nsp),
            2 | 5 => {
                let mut args = event_args(arg, content);
                if p & 7 == 5 {
                    args = args.with_binary(Bytes::copy_from_slice(content));
                }
                let mut packet = Packet::event(nsp, args);
                if flag {
                    packet = packet.with_id(id);
                }
                if idsel & 0x80 != 0 {
                    packet.append_offset(&format!("off-{}", idsel & 0x7f));
                }
                packet
            }
            3 | 6 => {
                let mut args = ack_args(arg, content, echo);
                if p & 7 == 6 {
                    args = args.with_binary(Bytes::copy_from_slice(content));
                }
                let awaited = self.m.get(&nsp).map(|n| &n.awaited);
                let id = match awaited.filter(|a| !flag && !a.is_empty()) {
                    Some(a) => *a
                        .keys()
                        .nth(usize::from(idsel) % a.len())
                        .expect("in range"),
                    None => id,
                };
                Packet::ack(nsp, id, args)
            }
            4 if flag => Packet {
                kind: PacketKind::ConnectError,
                nsp,
                id: None,
                data: Data::Value(RawJson::string(&text)),
            },
            4 => {
                let data = (arg & 1 != 0).then(|| raw(RAWS[usize::from(arg >> 1) & 3]));
                Packet::connect_error(nsp, &text, data.as_ref())
            }
            // The answer to an ack awaited, on any namespace.
            _ => {
                let awaiting: Vec<(&Ns, u64)> = self
                    .m
                    .ns
                    .iter()
                    .flat_map(|n| n.awaited.keys().map(move |&id| (n, id)))
                    .collect();
                match awaiting.get(usize::from(sel) % awaiting.len().max(1)) {
                    Some((n, id)) => {
                        let echo = n.last_args.as_ref();
                        Packet::ack(n.name.clone(), *id, ack_args(arg, content, echo))
                    }
                    None => Packet::ack(nsp, id, Args::new()),
                }
            }
        }
    }

    /// One operation: see [`connection`].
    fn op(&mut self, op: &[u8], n: usize) {
        let Some((&head, body)) = op.split_first() else {
            self.timeout(At(n, "handle_timeout", 0));
            return;
        };
        let p = head >> 4;
        let sel = body.first().copied().unwrap_or(0);
        let arg = body.get(1).copied().unwrap_or(0);
        let content = body.get(2..).unwrap_or_default();
        let now = self.m.now;
        match head & 0x0f {
            0 => {
                let what = At(n, "text", 0);
                let message = if p & 2 != 0 {
                    EioPacket::Ping(Bytes::copy_from_slice(body))
                } else {
                    EioPacket::Message(Str::from(lossy(body)))
                };
                let via_packet = p & 1 != 0 || p & 2 != 0;
                self.feed(message, via_packet, what);
            }
            1 => {
                let what = At(n, "binary", 0);
                let message = EioPacket::Binary(Bytes::copy_from_slice(body));
                self.feed(message, p & 1 != 0, what);
            }
            2 | 3 => {
                let extra = match body {
                    [] => 0,
                    [a] => u64::from(*a),
                    [a, b, ..] => u64::from(u16::from_le_bytes([*a, *b])),
                };
                let poll = self.conn.poll_timeout();
                let to = match p {
                    14 => poll,
                    15 => poll.and_then(|t| t.checked_sub(Duration::from_nanos(1))),
                    _ => now.checked_add(Duration::from_millis(STEPS_MS[usize::from(p)] + extra)),
                };
                self.m.now = to.filter(|&t| t > now).unwrap_or(now);
                if head & 0x0f == 2 {
                    self.timeout(At(n, "tick", 0));
                } else {
                    self.settle(At(n, "late", 0));
                }
            }
            4 => {
                let packet = self.peer_packet(p, body);
                for (i, message) in messages(self.m.parser, &packet).into_iter().enumerate() {
                    let what = At(n, "peer", i);
                    self.feed(message, false, what);
                }
            }
            5 => {
                let what = At(n, "accept", 0);
                let nsp = self.answered(p, sel);
                let sid = lossy(content);
                let pid = (p & 1 != 0).then(|| format!("pid-{sid}"));
                let missed: Vec<Args> = if p & 2 != 0 {
                    (0..1 + (arg & 3))
                        .map(|i| {
                            let args = Args::event("missed");
                            let args = if arg & 4 != 0 {
                                args.with_binary(Bytes::copy_from_slice(content))
                            } else {
                                args
                            };
                            args.with_string(&format!("off-{i}"))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let r = if p & 8 == 0 && missed.is_empty() {
                    self.conn.accept(&nsp, &sid, pid.as_deref())
                } else {
                    self.conn
                        .accept_recovered(&nsp, &sid, pid.as_deref(), missed.clone())
                };
                assert_eq!(
                    r,
                    self.m.accept(&nsp, &sid, pid.as_deref(), missed),
                    "{what}"
                );
                self.settle(what);
            }
            6 => {
                let what = At(n, "refuse", 0);
                let nsp = self.answered(p, sel);
                let message = lossy(content);
                let data = (p & 1 != 0).then(|| raw(RAWS[usize::from(arg) & 3]));
                let r = self.conn.refuse(&nsp, &message, data.as_ref());
                assert_eq!(r, self.m.refuse(&nsp, &message, data.as_ref()), "{what}");
                self.settle(what);
            }
            7 => {
                let what = At(n, "connect", 0);
                let text = lossy(content);
                let nsp = if p & 8 != 0 {
                    Str::from(format!("/{}", text.chars().take(12).collect::<String>()))
                } else {
                    self.m.pick(sel)
                };
                let auth = match p & 3 {
                    0 => None,
                    1 => Some(raw(r#"{"token":"t"}"#)),
                    2 => Some(raw("[1]")),
                    _ => Some(
                        RawJson::from_serialize(&serde_json::json!({ "k": text })).expect("JSON"),
                    ),
                };
                let recovery = match (p & 4 != 0, arg & 1 != 0) {
                    (false, _) => None,
                    (true, true) => self.m.recovery(&nsp),
                    (true, false) => Some(Recovery {
                        pid: "pid-1".to_owned(),
                        offset: text.clone(),
                    }),
                };
                let r = self
                    .conn
                    .connect(nsp.clone(), auth.clone(), recovery.as_ref());
                assert_eq!(r, self.m.connect(nsp, auth, recovery.as_ref()), "{what}");
                self.settle(what);
            }
            8 => {
                let what = At(n, "emit", 0);
                let nsp = self.m.pick(sel);
                let args = event_args(arg, content);
                let r = self.conn.emit(&nsp, args.clone());
                assert_eq!(r, self.m.emit(&nsp, args), "{what}");
                self.settle(what);
            }
            9 => {
                let what = At(n, "emit_with_ack", 0);
                let nsp = self.m.pick(sel);
                let args = event_args(arg, content);
                let deadline = DEADLINES_MS[usize::from(p & 7)]
                    .and_then(|ms| now.checked_add(Duration::from_millis(ms)));
                let r = self.conn.emit_with_ack(&nsp, args.clone(), deadline);
                assert_eq!(r, self.m.emit_with_ack(&nsp, args, deadline), "{what}");
                self.settle(what);
            }
            10 => {
                let what = At(n, "emit_with_ack_id", 0);
                let nsp = self.m.pick(sel);
                let args = event_args(arg, content);
                let id = ACK_IDS[usize::from(p & 7)];
                let deadline = (p & 8 != 0)
                    .then(|| now.checked_add(Duration::from_millis(20)))
                    .flatten();
                let r = self.conn.emit_with_ack_id(&nsp, args.clone(), id, deadline);
                assert_eq!(
                    r,
                    self.m.emit_with_ack_id(&nsp, args, id, deadline),
                    "{what}"
                );
                self.settle(what);
            }
            11 => {
                let what = At(n, "ack", 0);
                let nsp = self.m.pick(sel);
                let (id, echo) = match self.m.find(&nsp) {
                    Some(i) => {
                        let ns = &mut self.m.ns[i];
                        let id = match ns.asked.len() {
                            0 => u64::from(arg & 7),
                            len => {
                                let k = usize::from(arg) % len;
                                // Answered once, or (bit 0) kept to answer
                                // again.
                                if p & 1 == 0 {
                                    ns.asked.remove(k).expect("in range")
                                } else {
                                    ns.asked[k]
                                }
                            }
                        };
                        (id, ns.last_args.clone())
                    }
                    None => (u64::from(arg & 7), None),
                };
                let bits = (p >> 1) | if p & 8 != 0 { 0x80 } else { 0 };
                let args = ack_args(bits, content, echo.as_ref());
                let r = self.conn.ack(&nsp, id, args.clone());
                assert_eq!(r, self.m.ack(&nsp, id, args), "{what}");
                self.settle(what);
            }
            12 => {
                let what = At(n, "cancel_ack", 0);
                let nsp = self.m.pick(sel);
                let awaited = self.m.get(&nsp).map(|n| &n.awaited);
                let id = match awaited.filter(|a| !a.is_empty()) {
                    Some(a) => *a.keys().nth(usize::from(arg) % a.len()).expect("in range"),
                    None => ACK_IDS[usize::from(arg & 7)],
                };
                let r = self.conn.cancel_ack(&nsp, id);
                assert_eq!(r, self.m.cancel_ack(&nsp, id), "{what}");
                self.settle(what);
            }
            13 => {
                let what = At(n, "disconnect", 0);
                let nsp = self.m.pick(sel);
                let r = self.conn.disconnect(&nsp);
                assert_eq!(r, self.m.disconnect(&nsp), "{what}");
                self.settle(what);
            }
            14 => {
                self.conn.disconnect_all();
                if !self.m.closed {
                    self.m.disconnect_all();
                }
                self.settle(At(n, "disconnect_all", 0));
            }
            _ => {
                let reason = REASONS[usize::from(p) % REASONS.len()];
                self.conn.close(reason);
                self.m.close(reason);
                self.settle(At(n, "close", 0));
            }
        }
    }
}

/// `connection`: a Socket.IO `Connection`, either role, driven by a
/// sequence of operations on a virtual clock, against a model.
///
/// Layout: `cfg, limits, timers, ops...`
/// - `cfg`: bit 0 the role (0 server, 1 client); bit 1 the parser (0
///   default, 1 msgpack); bit 2 `reject_reserved_events`; bits 3-5
///   `max_namespaces` from 1, 2, 3, 4, 5, 8, 16, 100; bits 6-7
///   `max_depth` from 2, 4, 32, 128.
/// - `limits`: bits 0-2 `max_attachments` from 0, 1, 2, 3, 4, 10, 64,
///   1000; bits 3-5 `max_attachment_bytes` from 0, 1, 2, 16, 100, 1000,
///   64 KiB, 10 MB.
/// - `timers`: bits 0-2 `attachment_timeout`, bits 3-5 `connect_timeout`,
///   each from 0 ms, 1 ms, 5 ms, 20 ms, 100 ms, 1 s, 30 s, 1 h.
/// - `ops`: at most 256, separated by [`MESSAGE_SEPARATOR`] (`0xc1`), as
///   `socket_decode` separates its messages. Each is `head, body...`:
///   `head` bits 0-3 the [`Op`], bits 4-7 its parameter `p`. An empty
///   one is `handle_timeout` at the current time. For the driver calls
///   the body is `sel, arg, content...`: `sel` a namespace (below 0x40
///   from `/`, `/a`, `/b`, `/chat`, `/a,b`, `admin`, `/é`, the empty
///   name; above, one the connection has), `arg` the arguments (bits 0-2
///   an event name: `hello`, `message`, `disconnect`, `connect_error`,
///   empty, escaped, a number first, none; bits 3-7 a string, binary
///   data, a JSON value, an empty binary, an offset string), `content`
///   the bytes of strings (made UTF-8 lossily) and binary data.
///   - `Text` (0): the body as a text message; `p` bit 0 through
///     `handle_packet`, bit 1 an Engine.IO ping instead (ignored).
///   - `Binary` (1): the body as a binary message; `p` bit 0 through
///     `handle_packet`.
///   - `Tick` (2) / `Late` (3): the clock moves (`p` 0-13: 0 ms, 1 ms,
///     2 ms, 5 ms, 10 ms, 20 ms, 50 ms, 100 ms, 500 ms, 1 s, 5 s, 30 s,
///     45 s, 1 h, plus the first two body bytes in milliseconds; 14: to
///     `poll_timeout`; 15: 1 ns before it), then `Tick` calls
///     `handle_timeout`.
///   - `Peer` (4): a packet from the peer, encoded with the parser, its
///     messages fed in order; body `sel, arg, idsel, content...`; `p`
///     bits 0-2 its type (0 CONNECT: a client's, with auth when bit 3,
///     recovery when `arg` bit 0, or a server's answer with `sid` content
///     and `pid` when bit 3, the one asked for unless `arg` bit 0, or no
///     `sid` when `arg & 3` is 2 or 3; 1 DISCONNECT; 2 EVENT, with ack id
///     `idsel` when bit 3, an offset when `idsel` bit 7; 3 ACK of an id
///     awaited, or `idsel`'s with bit 3; 4 CONNECT_ERROR, a string when
///     bit 3; 5 and 6 EVENT and ACK with one more attachment; 7 the
///     answer to an ack awaited on any namespace).
///   - `Accept` (5): the oldest CONNECT waiting (`sel`'s with `p` bit 2),
///     `sid` the content, a `pid` with bit 0, 1-4 missed events with bit
///     1 (binary with `arg` bit 2), through `accept_recovered` with bit
///     3.
///   - `Refuse` (6): the same choice of namespace, the content as
///     message, data with `p` bit 0.
///   - `Connect` (7): `sel`'s namespace (with `p` bit 3, `/` and the
///     content); auth by `p & 3`: none, an object, an array (refused), an
///     object with the content; recovery with bit 2: the connection's own
///     (`arg` bit 0) or a made-up one.
///   - `Emit` (8), `EmitWithAck` (9: deadline by `p & 7`: none, 0 ms,
///     1 ms, 5 ms, 20 ms, 100 ms, 1 s, 30 s), `EmitWithAckId` (10: id by
///     `p & 7`: 0, 1, 2, 3, 42, 2^53 - 2, 2^53 - 1, 2^53; a 20 ms deadline
///     with bit 3).
///   - `Ack` (11): an id the peer asked for on `sel`'s namespace (kept
///     to answer again with `p` bit 0), arguments by `p` bits 1-2 (a
///     string, binary) or the event's own with bit 3.
///   - `CancelAck` (12), `Disconnect` (13), `DisconnectAll` (14),
///     `Close` (15, the reason by `p`).
///
/// Checks after every step, against a model of the documented behaviour
/// (which keeps its own sockio-core `Decoder` fed the same messages at
/// the same times, to know each packet):
/// - every call returns what the model says (`ConnectionError`s and
///   `StateError`s included, and the ack ids `emit_with_ack` hands out);
///   once one returns a `ConnectionError` the machine is closed, has no
///   timer, ignores input and refuses calls;
/// - the messages sent are exactly the model's packets (CONNECT answers
///   with their `sid` and `pid`, refusals, missed events before the
///   answer, events, acks, DISCONNECTs), encoded with the parser; a
///   fresh `Decoder` of the peer, fed all of them in order, reassembles
///   each into a packet of the same type, namespace and id that the
///   peer's role accepts (a server's CONNECT has a string `sid`, its
///   CONNECT_ERROR a string `message`, a client never sends
///   CONNECT_ERROR, no reserved event name, acks with an id);
/// - the events are exactly the model's, in order: connect requests,
///   answers and refusals (the `sid`/`pid`/`data` fields as serde_json
///   reads them), events (a client's held until its CONNECT is answered),
///   `Ack` and `AckTimedOut` only for an id awaited on that namespace,
///   timeouts soonest first, `Disconnected` with exactly the ids still
///   awaited: every awaited id resolves exactly once;
/// - `is_closed`, `poll_timeout` (the soonest ack deadline, attachment
///   deadline or connect timeout; after a successful `handle_timeout(now)`
///   none or later than `now`), `namespaces`, and for every name seen
///   `namespace_state`, `is_connected`, `pending_acks`, `sid`, `pid`,
///   `recovery` match the model.
///
/// At the end the connection is closed, and every ack awaited was
/// resolved.
pub fn connection(data: &[u8]) {
    let [cfg, limits, timers, ops @ ..] = data else {
        return;
    };
    let role = if cfg & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let parser = if cfg & 2 == 0 {
        Parser::Default
    } else {
        Parser::Msgpack
    };
    let decoder = DecoderConfig::default()
        .parser(parser)
        .reject_reserved_events(cfg & 4 != 0)
        .max_depth(MAX_DEPTHS[usize::from(cfg >> 6)])
        .max_attachments(MAX_ATTACHMENTS[usize::from(limits & 7)])
        .max_attachment_bytes(MAX_ATTACHMENT_BYTES[usize::from((limits >> 3) & 7)])
        .attachment_timeout(Duration::from_millis(TIMEOUTS_MS[usize::from(timers & 7)]));
    let config = ConnectionConfig::default()
        .decoder(decoder)
        .connect_timeout(Duration::from_millis(
            TIMEOUTS_MS[usize::from((timers >> 3) & 7)],
        ))
        .max_namespaces(MAX_NAMESPACES[usize::from((cfg >> 3) & 7)]);
    let t0 = Instant::now();
    let conn = Connection::new(role, config.clone(), t0);
    assert_eq!(conn.config(), &config);
    // The peer accepts whatever a conforming sender may send.
    let peer = Decoder::new(
        DecoderConfig::default()
            .parser(parser)
            .reject_reserved_events(true)
            .max_attachments(usize::MAX)
            .max_attachment_bytes(usize::MAX),
    );
    let mut run = Run {
        conn,
        m: Model::new(role, &config, t0),
        peer,
    };
    run.settle(At(0, "new", 0));
    for (n, op) in ops
        .split(|&b| b == MESSAGE_SEPARATOR)
        .take(MAX_OPS)
        .enumerate()
    {
        run.op(op, n);
    }
    run.conn.close(CloseReason::TransportClose);
    run.m.close(CloseReason::TransportClose);
    run.settle(At(MAX_OPS, "the end", 0));
    assert_eq!(
        run.m.awaited_total, run.m.resolved_total,
        "every ack awaited resolves"
    );
}
