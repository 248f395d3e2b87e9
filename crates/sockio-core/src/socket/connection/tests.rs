//! A server-role and a client-role machine wired to each other in memory,
//! on a virtual clock: nothing sleeps.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::input::object_field;
use super::*;
use crate::socket::{DecodeError, DecoderConfig, PacketKind, Parser};

const NS: Duration = Duration::from_nanos(1);

fn config() -> ConnectionConfig {
    ConnectionConfig::default()
}

fn pair(config: &ConnectionConfig, t0: Instant) -> (Connection, Connection) {
    (
        Connection::new(Role::Server, config.clone(), t0),
        Connection::new(Role::Client, config.clone(), t0),
    )
}

/// Everything `c` queued.
fn wire<F: From<EnginePacket>>(c: &mut Connection<F>) -> Vec<F> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

/// Everything `c` reported.
fn events<F: From<EnginePacket>>(c: &mut Connection<F>) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn text(s: &'static str) -> EnginePacket {
    EnginePacket::Message(Str::from_static(s))
}

/// Hands what `from` queued to `to`; the first error `to` returned.
fn pump(from: &mut Connection, to: &mut Connection, now: Instant) -> Result<(), ConnectionError> {
    let mut result = Ok(());
    for message in wire(from) {
        let r = to.handle_packet(message, now);
        if result.is_ok() {
            result = r;
        }
    }
    result
}

/// Connects the client to `nsp`, accepted by the server as `sid`.
fn join(
    server: &mut Connection,
    client: &mut Connection,
    nsp: &'static str,
    sid: &str,
    now: Instant,
) {
    client.connect(nsp, None, None).unwrap();
    pump(client, server, now).unwrap();
    match &events(server)[..] {
        [Event::ConnectRequest { nsp: got, .. }] => assert_eq!(got, nsp),
        other => panic!("{other:?}"),
    }
    server.accept(nsp, sid, None).unwrap();
    pump(server, client, now).unwrap();
    match &events(client)[..] {
        [
            Event::Connected {
                nsp: got,
                sid: s,
                pid: None,
                recovered: false,
            },
        ] => {
            assert_eq!((got.as_str(), s.as_str()), (nsp, sid));
        }
        other => panic!("{other:?}"),
    }
}

fn raw(s: &'static str) -> RawJson {
    RawJson::try_from(s).unwrap()
}

fn hello(n: u32) -> Args {
    Args::event("hello").with(&n).unwrap()
}

#[test]
fn connect_accepted_on_the_wire() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    client.connect("/", None, None).unwrap();
    assert_eq!(
        client.namespace_state("/"),
        Some(NamespaceState::Connecting)
    );
    assert_eq!(wire(&mut client), [text("0")]);
    server.handle_packet(text("0"), t0).unwrap();
    assert_eq!(
        events(&mut server),
        [Event::ConnectRequest {
            nsp: Str::from_static("/"),
            auth: None,
            recovery: None
        }]
    );
    assert_eq!(
        server.namespace_state("/"),
        Some(NamespaceState::Connecting)
    );
    assert_eq!(server.namespaces().count(), 0);
    server.accept("/", "abc", None).unwrap();
    assert!(server.is_connected("/"));
    assert_eq!(server.sid("/"), Some("abc"));
    assert_eq!(wire(&mut server), [text(r#"0{"sid":"abc"}"#)]);
    client.handle_packet(text(r#"0{"sid":"abc"}"#), t0).unwrap();
    assert_eq!(
        events(&mut client),
        [Event::Connected {
            nsp: Str::from_static("/"),
            sid: "abc".into(),
            pid: None,
            recovered: false
        }]
    );
    assert_eq!(client.sid("/"), Some("abc"));
    assert_eq!(client.namespaces().collect::<Vec<_>>(), ["/"]);
    // Accepting twice, or what was never asked, is refused.
    assert_eq!(
        server.accept("/", "x", None),
        Err(StateError::NotConnected("/".into()))
    );
    assert_eq!(
        server.accept("/other", "x", None),
        Err(StateError::NotConnected("/other".into()))
    );
    assert_eq!(server.queued(), 0);
}

#[test]
fn connect_with_auth_and_refused() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    client
        .connect("/admin", Some(raw(r#"{"token":"t"}"#)), None)
        .unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    let [
        Event::ConnectRequest {
            nsp,
            auth,
            recovery,
        },
    ] = &events(&mut server)[..]
    else {
        panic!()
    };
    assert_eq!((nsp.as_str(), recovery), ("/admin", &None));
    assert_eq!(auth.as_ref().unwrap(), r#"{"token":"t"}"#);
    server
        .refuse("/admin", "Not authorized", Some(&raw(r#"{"code":1}"#)))
        .unwrap();
    assert_eq!(server.namespace_state("/admin"), None);
    let sent = wire(&mut server);
    assert_eq!(
        sent,
        [text(
            r#"4/admin,{"message":"Not authorized","data":{"code":1}}"#
        )]
    );
    for m in sent {
        client.handle_packet(m, t0).unwrap();
    }
    assert_eq!(
        events(&mut client),
        [Event::ConnectError {
            nsp: Str::from_static("/admin"),
            message: "Not authorized".into(),
            data: Some(raw(r#"{"code":1}"#)),
        }]
    );
    assert_eq!(client.namespace_state("/admin"), None);
    // Refused: the connect timeout still runs, and the name may be tried
    // again.
    assert_eq!(server.poll_timeout(), Some(t0 + Duration::from_secs(45)));
    join(&mut server, &mut client, "/admin", "s1", t0);
}

#[test]
fn client_reads_every_form_of_refusal() {
    let t0 = Instant::now();
    let mut client = Connection::new(Role::Client, config(), t0);
    for nsp in ["/a", "/b", "/c"] {
        client
            .connect(Str::from(nsp.to_owned()), None, None)
            .unwrap();
    }
    client.handle_packet(text(r#"4/a,"plain""#), t0).unwrap();
    client
        .handle_packet(
            text(r#"4/b,{"data":[1,{"x":"y"}],"message":"m\"q","data":{"last":true}}"#),
            t0,
        )
        .unwrap();
    // A CONNECT answer without sid: a v2 server.
    client.handle_packet(text(r#"0/c,{"id":"x"}"#), t0).unwrap();
    let got = events(&mut client);
    assert!(
        matches!(&got[0], Event::ConnectError { message, data: None, .. } if message == "plain")
    );
    assert!(
        matches!(&got[1], Event::ConnectError { message, data: Some(d), .. }
        if message == "m\"q" && *d == r#"{"last":true}"#)
    );
    assert!(
        matches!(&got[2], Event::ConnectError { nsp, message, .. } if nsp == "/c" && message.contains("v2.x"))
    );
    assert_eq!(client.namespaces.len(), 0);
}

#[test]
fn namespaces_are_independent() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s-main", t0);
    join(&mut server, &mut client, "/admin", "s-admin", t0);
    assert_eq!(server.namespaces().collect::<Vec<_>>(), ["/", "/admin"]);
    // Ack ids count per namespace, from 0.
    let far = Some(t0 + Duration::from_secs(60));
    assert_eq!(client.emit_with_ack("/", hello(1), far), Ok(0));
    assert_eq!(client.emit_with_ack("/admin", hello(2), far), Ok(0));
    assert_eq!(client.emit_with_ack("/admin", hello(3), far), Ok(1));
    assert_eq!(
        wire(&mut client),
        [
            text(r#"20["hello",1]"#),
            text(r#"2/admin,0["hello",2]"#),
            text(r#"2/admin,1["hello",3]"#)
        ]
    );
    client.emit_with_ack("/", hello(1), far).unwrap();
    client.emit("/admin", hello(9)).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    let got = events(&mut server);
    assert!(
        matches!(&got[..], [Event::Event { nsp: a, id: Some(1), .. }, Event::Event { nsp: b, id: None, .. }]
        if a == "/" && b == "/admin")
    );
    // The server leaves one namespace; the other goes on.
    server.disconnect("/admin").unwrap();
    assert!(matches!(&events(&mut server)[..],
        [Event::Disconnected { nsp, reason: DisconnectReason::Local, pending_acks }]
        if nsp == "/admin" && pending_acks.is_empty()));
    assert_eq!(wire(&mut server), [text("1/admin,")]);
    server.handle_packet(text("1/admin,"), t0).unwrap();
    client.handle_packet(text("1/admin,"), t0).unwrap();
    assert_eq!(
        events(&mut client),
        [Event::Disconnected {
            nsp: Str::from_static("/admin"),
            reason: DisconnectReason::Peer,
            pending_acks: vec![0, 1],
        }]
    );
    assert_eq!(client.pending_acks("/"), 2);
    server.emit("/", hello(5)).unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    assert!(matches!(&events(&mut client)[..], [Event::Event { nsp, .. }] if nsp == "/"));
}

#[test]
fn recovery_pid_and_offset_round_trip() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    client.connect("/", None, None).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    events(&mut server);
    server.accept("/", "sid1", Some("pid1")).unwrap();
    assert_eq!(wire(&mut server), [text(r#"0{"sid":"sid1","pid":"pid1"}"#)]);
    client
        .handle_packet(text(r#"0{"sid":"sid1","pid":"pid1"}"#), t0)
        .unwrap();
    assert_eq!(
        events(&mut client),
        [Event::Connected {
            nsp: Str::from_static("/"),
            sid: "sid1".into(),
            pid: Some("pid1".into()),
            recovered: false
        }]
    );
    assert_eq!(client.pid("/"), Some("pid1"));
    // No event yet: nothing to recover from.
    assert_eq!(client.recovery("/"), None);
    for offset in ["off-1", "off-2"] {
        let mut packet = Packet::event("/", hello(1));
        packet.append_offset(offset);
        let (frames, _) = packet.encode();
        server
            .send_frames("/", [EnginePacket::Message(frames)])
            .unwrap();
    }
    // An event with an ack id carries no offset; one whose last argument
    // is no string leaves the offset alone.
    server
        .emit_with_ack("/", Args::event("q").with_string("not-an-offset"), None)
        .unwrap();
    server.emit("/", hello(3)).unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    assert_eq!(events(&mut client).len(), 4);
    let session = client.recovery("/").unwrap();
    assert_eq!(
        (session.pid.as_str(), session.offset.as_str()),
        ("pid1", "off-2")
    );
    // The transport goes; the session is kept.
    client.close(CloseReason::TransportClose);
    assert_eq!(client.recovery("/"), Some(session.clone()));

    // The next connection asks for it, with auth.
    let t1 = t0 + Duration::from_secs(3);
    let (mut server, mut client) = pair(&config(), t1);
    client
        .connect("/", Some(raw(r#"{"token":"t"}"#)), Some(&session))
        .unwrap();
    assert_eq!(
        wire(&mut client),
        [text(r#"0{"pid":"pid1","offset":"off-2","token":"t"}"#)]
    );
    // Held until the answer: the server sent it first.
    client.handle_packet(text(r#"2["early",1]"#), t1).unwrap();
    assert_eq!(events(&mut client), []);
    server
        .handle_packet(text(r#"0{"pid":"pid1","offset":"off-2","token":"t"}"#), t1)
        .unwrap();
    let [
        Event::ConnectRequest {
            recovery: Some(asked),
            auth: Some(auth),
            ..
        },
    ] = &events(&mut server)[..]
    else {
        panic!()
    };
    assert_eq!(asked, &session);
    assert!(auth.as_str().contains(r#""token":"t""#));
    // Recovered: the missed events go first, then the answer.
    let missed = Args::event("missed").with_string("off-3");
    server
        .accept_recovered("/", "sid1", Some("pid1"), [missed])
        .unwrap();
    let sent = wire(&mut server);
    assert_eq!(
        sent,
        [
            text(r#"2["missed","off-3"]"#),
            text(r#"0{"sid":"sid1","pid":"pid1"}"#)
        ]
    );
    for m in sent {
        client.handle_packet(m, t1).unwrap();
    }
    let got = events(&mut client);
    assert!(
        matches!(&got[0], Event::Connected { recovered: true, pid: Some(p), .. } if p == "pid1")
    );
    let names: Vec<_> = got[1..]
        .iter()
        .map(|e| match e {
            Event::Event { args, .. } => args.event_name().unwrap().into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["early", "missed"]);
    assert_eq!(client.recovery("/").unwrap().offset, "off-3");

    // A server that gives a new session: not recovered, the old offset
    // forgotten.
    let (mut server, mut client) = pair(&config(), t1);
    client.connect("/", None, Some(&session)).unwrap();
    pump(&mut client, &mut server, t1).unwrap();
    events(&mut server);
    server.accept("/", "sid9", Some("pid9")).unwrap();
    pump(&mut server, &mut client, t1).unwrap();
    assert!(matches!(
        &events(&mut client)[..],
        [Event::Connected {
            recovered: false,
            ..
        }]
    ));
    assert_eq!(client.recovery("/"), None);
    assert_eq!(server.recovery("/"), None);
}

#[test]
fn namespace_cap_refuses_past_the_limit() {
    let t0 = Instant::now();
    let config = config().max_namespaces(2);
    let (mut server, mut client) = pair(&config, t0);
    join(&mut server, &mut client, "/a", "s1", t0);
    // One joined, one being joined: full.
    client.connect("/b", None, None).unwrap();
    client.connect("/c", None, None).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    assert!(matches!(&events(&mut server)[..], [Event::ConnectRequest { nsp, .. }] if nsp == "/b"));
    let sent = wire(&mut server);
    assert_eq!(sent, [text(r#"4/c,{"message":"Too many namespaces"}"#)]);
    assert_eq!(server.namespace_state("/c"), None);
    for m in sent {
        client.handle_packet(m, t0).unwrap();
    }
    assert!(matches!(&events(&mut client)[..],
        [Event::ConnectError { nsp, message, data: None }] if nsp == "/c" && message == "Too many namespaces"));
    server.refuse("/b", "no", None).unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    assert_eq!(events(&mut client).len(), 1);
    // Room again.
    join(&mut server, &mut client, "/c", "s3", t0);
    assert_eq!(
        ConnectionConfig::default().max_namespaces(0).max_namespaces,
        1
    );
    assert_eq!(ConnectionConfig::default().max_namespaces, 100);
}

#[test]
fn protocol_violations_close_the_connection() {
    let t0 = Instant::now();
    let cases: [(&str, ConnectionError); 6] = [
        ("9", ConnectionError::Decode(DecodeError::UnknownType(b'9'))),
        (
            r#"2["disconnect"]"#,
            ConnectionError::Decode(DecodeError::ReservedEvent),
        ),
        (
            r#"2/other,["x"]"#,
            ConnectionError::UnexpectedPacket {
                nsp: Str::from_static("/other"),
                kind: PacketKind::Event,
            },
        ),
        (
            r#"3/other,1[]"#,
            ConnectionError::UnexpectedPacket {
                nsp: Str::from_static("/other"),
                kind: PacketKind::Ack,
            },
        ),
        (
            r#"4{"message":"x"}"#,
            ConnectionError::UnexpectedPacket {
                nsp: Str::from_static("/"),
                kind: PacketKind::ConnectError,
            },
        ),
        (
            "2[",
            ConnectionError::Decode(DecodeError::InvalidJson { offset: 2 }),
        ),
    ];
    for (input, expected) in cases {
        let (mut server, mut client) = pair(&config(), t0);
        join(&mut server, &mut client, "/", "s1", t0);
        server.emit_with_ack("/", hello(1), None).unwrap();
        let got = server.handle_text(&Str::from_static(input), t0);
        assert_eq!(got, Err(expected), "{input}");
        assert!(server.is_closed(), "{input}");
        assert_eq!(
            events(&mut server),
            [Event::Disconnected {
                nsp: Str::from_static("/"),
                reason: DisconnectReason::Closed(CloseReason::ParseError),
                pending_acks: vec![0]
            }],
            "{input}"
        );
    }
    // An event for a namespace only being joined is no better.
    let mut server = Connection::new(Role::Server, config(), t0);
    server.handle_packet(text("0/a,"), t0).unwrap();
    assert!(matches!(
        server.handle_packet(text(r#"2/a,["x"]"#), t0),
        Err(ConnectionError::UnexpectedPacket { .. })
    ));
    // The client closes on what it cannot decode, and ignores the rest.
    let mut client = Connection::new(Role::Client, config(), t0);
    client.handle_packet(text(r#"2/x,["x"]"#), t0).unwrap();
    client.handle_packet(text(r#"3/x,1[]"#), t0).unwrap();
    client
        .handle_packet(text(r#"0/x,{"sid":"s"}"#), t0)
        .unwrap();
    client.handle_packet(text("1/x,"), t0).unwrap();
    assert_eq!(events(&mut client), []);
    assert!(matches!(
        client.handle_packet(text("7"), t0),
        Err(ConnectionError::Decode(_))
    ));
    assert!(client.is_closed());
}

#[test]
fn tolerated_repeats() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    // A second CONNECT for a joined namespace, and a DISCONNECT for one
    // not joined: ignored, as the sockio server does.
    server.handle_packet(text("0"), t0).unwrap();
    server.handle_packet(text("1/nope,"), t0).unwrap();
    assert_eq!(events(&mut server), []);
    assert_eq!(server.queued(), 0);
    assert!(server.is_connected("/"));
    // Being joined: a second CONNECT is ignored too.
    server.handle_packet(text("0/b,"), t0).unwrap();
    server.handle_packet(text("0/b,"), t0).unwrap();
    assert_eq!(events(&mut server).len(), 1);
    // The client cannot ask twice.
    assert_eq!(
        client.connect("/", None, None),
        Err(StateError::AlreadyConnected("/".into()))
    );
}

#[test]
fn calls_that_do_not_fit() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    assert_eq!(
        server.connect("/", None, None),
        Err(StateError::WrongRole(Role::Server))
    );
    assert_eq!(
        client.accept("/", "s", None),
        Err(StateError::WrongRole(Role::Client))
    );
    assert_eq!(
        client.refuse("/", "m", None),
        Err(StateError::WrongRole(Role::Client))
    );
    assert_eq!(
        client.connect("chat", None, None),
        Err(StateError::InvalidNamespace("chat".into()))
    );
    assert_eq!(
        client.connect("/a,b", None, None),
        Err(StateError::InvalidNamespace("/a,b".into()))
    );
    assert_eq!(
        client.connect("/", Some(raw("[1]")), None),
        Err(StateError::InvalidAuth)
    );
    join(&mut server, &mut client, "/", "s1", t0);
    assert_eq!(
        server.emit("/", Args::event("disconnect")),
        Err(StateError::InvalidEventName)
    );
    assert_eq!(
        server.emit("/", Args::new().with(&1).unwrap()),
        Err(StateError::InvalidEventName)
    );
    assert_eq!(
        server.ack("/x", 1, Args::new()),
        Err(StateError::NotConnected("/x".into()))
    );
    assert_eq!(
        server.disconnect("/x"),
        Err(StateError::NotConnected("/x".into()))
    );
    assert_eq!(server.queued(), 0);
    // A client may give up a namespace it is joining: nothing is sent.
    client.connect("/slow", None, None).unwrap();
    wire(&mut client);
    client.disconnect("/slow").unwrap();
    assert_eq!(client.queued(), 0);
    assert!(matches!(
        &events(&mut client)[..],
        [Event::Disconnected {
            reason: DisconnectReason::Local,
            ..
        }]
    ));
    // The server's answer, late, is ignored.
    client
        .handle_packet(text(r#"0/slow,{"sid":"x"}"#), t0)
        .unwrap();
    assert_eq!(events(&mut client), []);
    // A server cannot disconnect what it has not accepted: it refuses.
    server.handle_packet(text("0/b,"), t0).unwrap();
    assert_eq!(
        server.disconnect("/b"),
        Err(StateError::NotConnected("/b".into()))
    );
    assert_eq!(
        DisconnectReason::Peer.as_str(Role::Server),
        "client namespace disconnect"
    );
    assert_eq!(
        DisconnectReason::Local.as_str(Role::Client),
        "io client disconnect"
    );
    assert_eq!(
        DisconnectReason::Closed(CloseReason::PingTimeout).as_str(Role::Client),
        "ping timeout"
    );
}

#[test]
fn disconnect_all_then_close() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    join(&mut server, &mut client, "/a", "s2", t0);
    server.disconnect_all();
    server.close(CloseReason::ForcedClose);
    let got = events(&mut server);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|e| matches!(
        e,
        Event::Disconnected {
            reason: DisconnectReason::Local,
            ..
        }
    )));
    // The DISCONNECTs are still there to flush.
    assert_eq!(wire(&mut server), [text("1"), text("1/a,")]);
}

#[test]
fn msgpack_end_to_end() {
    let t0 = Instant::now();
    let config = config().parser(Parser::Msgpack);
    let (mut server, mut client) = pair(&config, t0);
    client
        .connect("/m", Some(raw(r#"{"token":"t"}"#)), None)
        .unwrap();
    let sent = wire(&mut client);
    assert!(sent.iter().all(EnginePacket::is_binary), "{sent:?}");
    // Text breaks the msgpack protocol.
    let mut strict = Connection::new(Role::Server, config, t0);
    assert_eq!(
        strict.handle_packet(text("0"), t0),
        Err(ConnectionError::Decode(DecodeError::UnexpectedText))
    );
    for m in sent {
        server.handle_packet(m, t0).unwrap();
    }
    let [
        Event::ConnectRequest {
            auth: Some(auth), ..
        },
    ] = &events(&mut server)[..]
    else {
        panic!()
    };
    assert_eq!(
        auth.deserialize::<serde_json::Value>().unwrap()["token"],
        "t"
    );
    server.accept("/m", "sid-m", Some("pid-m")).unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    assert!(matches!(&events(&mut client)[..], [Event::Connected { sid, .. }] if sid == "sid-m"));
    // Binary data travels inline: one message per packet.
    let args = Args::event("bin")
        .with_binary(Bytes::from_static(b"\x00\xff"))
        .with_string("off-1");
    server.emit("/m", args).unwrap();
    assert_eq!(server.queued(), 1);
    pump(&mut server, &mut client, t0).unwrap();
    let [Event::Event { args, .. }] = &events(&mut client)[..] else {
        panic!()
    };
    assert_eq!(args.deserialize::<Bytes>(1).unwrap()[..], [0, 255]);
    assert_eq!(client.recovery("/m").unwrap().offset, "off-1");
    let due = t0 + Duration::from_secs(1);
    let id = client.emit_with_ack("/m", hello(1), Some(due)).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    let [Event::Event { id: Some(got), .. }] = &events(&mut server)[..] else {
        panic!()
    };
    server
        .ack("/m", *got, Args::new().with(&true).unwrap())
        .unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    assert!(matches!(&events(&mut client)[..], [Event::Ack { id: i, .. }] if *i == id));
    // And one that times out.
    client.emit_with_ack("/m", hello(2), Some(due)).unwrap();
    client.handle_timeout(due).unwrap();
    assert!(matches!(
        &events(&mut client)[..],
        [Event::AckTimedOut { id: 1, .. }]
    ));
}

/// A driver's own frame type, as a server's pre-encoded broadcast frames.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Plain(EnginePacket),
    Shared(&'static str),
}

impl From<EnginePacket> for Frame {
    fn from(p: EnginePacket) -> Self {
        Self::Plain(p)
    }
}

#[test]
fn custom_frames_keep_their_order() {
    let t0 = Instant::now();
    let mut server: Connection<Frame> = Connection::for_frames(Role::Server, config(), t0);
    server.handle_packet(text("0"), t0).unwrap();
    server.accept("/", "s", None).unwrap();
    server
        .send_frames("/", [Frame::Shared("broadcast")])
        .unwrap();
    server.emit("/", hello(1)).unwrap();
    assert_eq!(
        wire(&mut server),
        [
            Frame::Plain(text(r#"0{"sid":"s"}"#)),
            Frame::Shared("broadcast"),
            Frame::Plain(text(r#"2["hello",1]"#)),
        ]
    );
}

#[test]
fn object_fields_as_sent() {
    let value =
        raw(r#"{"a":{"sid":"inner"},"sid" : "x\u0041","l":[1,{"k":2}],"pid":null,"sid2":1}"#);
    let field = |k| object_field(&value, k).map(|v| v.as_str().to_owned());
    assert_eq!(field("sid").as_deref(), Some(r#""x\u0041""#));
    assert_eq!(field("a").as_deref(), Some(r#"{"sid":"inner"}"#));
    assert_eq!(field("l").as_deref(), Some(r#"[1,{"k":2}]"#));
    assert_eq!(field("pid").as_deref(), Some("null"));
    assert_eq!(field("k"), None);
    assert_eq!(field("missing"), None);
    assert_eq!(object_field(&raw(r#"{"m":1,"m":2}"#), "m").unwrap(), "2");
    assert_eq!(object_field(&raw(r#"["sid"]"#), "sid"), None);
    assert_eq!(object_field(&raw(r#""sid""#), "sid"), None);
    assert_eq!(object_field(&raw("{}"), "sid"), None);
}

mod timing;
