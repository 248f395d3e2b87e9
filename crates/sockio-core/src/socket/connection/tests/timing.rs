//! Acks both ways, their deadlines, the attachment and connect timeouts.

use super::*;

#[test]
fn emit_and_ack_both_ways() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let due = Some(t0 + Duration::from_secs(5));

    // Server to client.
    let id = server.emit_with_ack("/", hello(1), due).unwrap();
    assert_eq!(id, 0);
    assert_eq!(server.pending_acks("/"), 1);
    pump(&mut server, &mut client, t0).unwrap();
    let [
        Event::Event {
            nsp,
            args,
            id: Some(got),
        },
    ] = &events(&mut client)[..]
    else {
        panic!()
    };
    assert_eq!(
        args.deserialize_from::<(String, u32)>(0).unwrap(),
        ("hello".into(), 1)
    );
    client
        .ack(nsp, *got, Args::new().with(&"ok").unwrap())
        .unwrap();
    assert_eq!(wire(&mut client), [text(r#"30["ok"]"#)]);
    server.handle_packet(text(r#"30["ok"]"#), t0).unwrap();
    let [Event::Ack { id: 0, args, .. }] = &events(&mut server)[..] else {
        panic!()
    };
    assert_eq!(args.deserialize::<String>(0).unwrap(), "ok");
    assert_eq!(server.pending_acks("/"), 0);
    assert_eq!(server.poll_timeout(), None);
    // The same answer again, or one never asked for: ignored.
    server.handle_packet(text(r#"30["ok"]"#), t0).unwrap();
    server.handle_packet(text(r#"37["?"]"#), t0).unwrap();
    assert_eq!(events(&mut server), []);

    // Client to server, with a binary answer.
    let id = client.emit_with_ack("/", hello(2), due).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    let [Event::Event { id: Some(got), .. }] = &events(&mut server)[..] else {
        panic!()
    };
    assert_eq!(*got, id);
    server
        .ack(
            "/",
            id,
            Args::new().with_binary(Bytes::from_static(b"\x01\x02")),
        )
        .unwrap();
    assert_eq!(server.queued(), 2);
    pump(&mut server, &mut client, t0).unwrap();
    let [Event::Ack { args, .. }] = &events(&mut client)[..] else {
        panic!()
    };
    assert_eq!(args.binary_arg(0).unwrap()[..], [1, 2]);
    // The next id follows on.
    assert_eq!(server.emit_with_ack("/", hello(3), None), Ok(1));
}

#[test]
fn ack_expires_exactly_at_its_deadline() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let due = t0 + Duration::from_secs(5);
    let id = server.emit_with_ack("/", hello(1), Some(due)).unwrap();
    let later = server
        .emit_with_ack("/", hello(2), Some(due + Duration::from_secs(1)))
        .unwrap();
    let never = server.emit_with_ack("/", hello(3), None).unwrap();
    assert_eq!(server.poll_timeout(), Some(due));
    server.handle_timeout(due - NS).unwrap();
    assert_eq!(events(&mut server), []);
    assert_eq!(server.pending_acks("/"), 3);
    server.handle_timeout(due).unwrap();
    assert_eq!(
        events(&mut server),
        [Event::AckTimedOut {
            nsp: Str::from_static("/"),
            id
        }]
    );
    assert_eq!(server.poll_timeout(), Some(due + Duration::from_secs(1)));
    // A late answer is ignored; the others still count.
    pump(&mut server, &mut client, t0).unwrap();
    events(&mut client);
    for i in [id, later] {
        client.ack("/", i, Args::new()).unwrap();
    }
    pump(&mut client, &mut server, due).unwrap();
    assert!(matches!(&events(&mut server)[..], [Event::Ack { id: l, .. }] if *l == later));
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(server.pending_acks("/"), 1);
    // Handled late, every overdue ack reports at once, soonest first.
    let a = server
        .emit_with_ack("/", hello(4), Some(t0 + Duration::from_secs(9)))
        .unwrap();
    let b = server
        .emit_with_ack("/", hello(5), Some(t0 + Duration::from_secs(8)))
        .unwrap();
    server
        .handle_timeout(t0 + Duration::from_secs(100))
        .unwrap();
    let timed_out: Vec<u64> = events(&mut server)
        .into_iter()
        .map(|e| match e {
            Event::AckTimedOut { id, .. } => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(timed_out, [b, a]);
    // The ack without deadline is still awaited.
    assert_eq!(server.pending_acks("/"), 1);
    assert!(server.cancel_ack("/", never));
}

#[test]
fn cancelled_and_external_acks() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let due = Some(t0 + Duration::from_secs(5));
    let id = server.emit_with_ack("/", hello(1), due).unwrap();
    assert!(server.cancel_ack("/", id));
    assert!(!server.cancel_ack("/", id));
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(server.timers.len(), 0);
    // A broadcast's frames, encoded once elsewhere, with its own ack id.
    let (frame, _) = Packet::event("/", hello(7)).with_id(42).encode();
    server.expect_ack("/", 42, due).unwrap();
    assert_eq!(
        server.expect_ack("/", 42, due),
        Err(StateError::AckIdInUse(42))
    );
    assert_eq!(
        server.emit_with_ack_id("/", hello(8), 42, None),
        Err(StateError::AckIdInUse(42))
    );
    assert_eq!(
        server.expect_ack("/", MAX_ID + 1, None),
        Err(StateError::AckIdInUse(MAX_ID + 1))
    );
    server
        .send_frames("/", [EnginePacket::Message(frame)])
        .unwrap();
    server.emit_with_ack_id("/", hello(9), 43, None).unwrap();
    assert_eq!(
        server.send_frames("/nope", []),
        Err(StateError::NotConnected("/nope".into()))
    );
    pump(&mut server, &mut client, t0).unwrap();
    let ids: Vec<_> = events(&mut client)
        .into_iter()
        .map(|e| match e {
            Event::Event { id, .. } => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [Some(id), Some(42), Some(43)]);
    client.ack("/", 42, Args::new()).unwrap();
    client.ack("/", id, Args::new()).unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    assert!(matches!(
        &events(&mut server)[..],
        [Event::Ack { id: 42, .. }]
    ));
    // The counter skips ids in use.
    assert_eq!(server.emit_with_ack("/", hello(1), None), Ok(1));
}

const MAX_ID: u64 = crate::socket::MAX_ACK_ID;

#[test]
fn ack_counter_wraps_and_skips_ids_in_use() {
    let mut table = acks::AckTable::default();
    assert_eq!(table.next_id(), 0);
    assert!(table.insert(1, None));
    assert_eq!(table.next_id(), 2);
    assert!(!table.insert(1, None));
    assert!(!table.insert(MAX_ID + 1, None));
    let mut top = acks::AckTable::starting_at(MAX_ID - 1);
    assert!(top.insert(MAX_ID, None));
    assert!(top.insert(0, None));
    assert_eq!(top.next_id(), MAX_ID - 1);
    // MAX_ID and 0 are awaited: wraps past both.
    assert_eq!(top.next_id(), 1);
    assert_eq!(top.remove(0), Some(None));
    assert_eq!(top.len(), 1);
}

#[test]
fn pending_acks_fail_on_disconnect_and_close() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    join(&mut server, &mut client, "/a", "s2", t0);
    let due = Some(t0 + Duration::from_secs(5));
    for _ in 0..3 {
        client.emit_with_ack("/", hello(1), due).unwrap();
    }
    client.emit_with_ack("/a", hello(1), None).unwrap();
    // The client leaves "/": its acks fail at once, and their timers go.
    client.disconnect("/").unwrap();
    assert_eq!(
        events(&mut client),
        [Event::Disconnected {
            nsp: Str::from_static("/"),
            reason: DisconnectReason::Local,
            pending_acks: vec![0, 1, 2]
        }]
    );
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(
        client.emit("/", hello(1)),
        Err(StateError::NotConnected("/".into()))
    );
    let sent = wire(&mut client);
    assert_eq!(sent.last(), Some(&text("1")));
    for m in sent {
        server.handle_packet(m, t0).unwrap();
    }
    let got = events(&mut server);
    assert!(
        matches!(got.last(), Some(Event::Disconnected { nsp, reason: DisconnectReason::Peer, .. }) if nsp == "/")
    );
    assert_eq!(server.namespaces().collect::<Vec<_>>(), ["/a"]);
    // The transport goes: what is left fails.
    server.emit_with_ack("/a", hello(2), due).unwrap();
    server.close(CloseReason::TransportClose);
    assert_eq!(
        events(&mut server),
        [Event::Disconnected {
            nsp: Str::from_static("/a"),
            reason: DisconnectReason::Closed(CloseReason::TransportClose),
            pending_acks: vec![0]
        }]
    );
    assert!(server.is_closed());
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(server.emit("/a", hello(1)), Err(StateError::Closed));
    server.close(CloseReason::ForcedClose);
    assert_eq!(events(&mut server), []);
    // Input after the close is ignored.
    server.handle_packet(text(r#"2/a,["x"]"#), t0).unwrap();
    assert_eq!(events(&mut server), []);
}

#[test]
fn binary_event_reassembled_across_messages() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let args = Args::event("upload")
        .with_binary(Bytes::from_static(b"first"))
        .with(&"between")
        .unwrap()
        .with_binary(Bytes::from_static(b"second"));
    client.emit("/", args).unwrap();
    let sent = wire(&mut client);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0],
        text(
            r#"52-["upload",{"_placeholder":true,"num":0},"between",{"_placeholder":true,"num":1}]"#
        )
    );
    let mut sent = sent.into_iter();
    server.handle_packet(sent.next().unwrap(), t0).unwrap();
    assert_eq!(server.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    server.handle_packet(sent.next().unwrap(), t0).unwrap();
    assert_eq!(events(&mut server), []);
    server
        .handle_packet(sent.next().unwrap(), t0 + Duration::from_secs(1))
        .unwrap();
    let [Event::Event { args, id: None, .. }] = &events(&mut server)[..] else {
        panic!()
    };
    assert_eq!(args.binary_arg(1).unwrap()[..], *b"first");
    assert_eq!(args.binary_arg(3).unwrap()[..], *b"second");
    assert_eq!(args.deserialize::<String>(2).unwrap(), "between");
    assert_eq!(server.poll_timeout(), None);
    // A binary message nobody announced breaks the protocol.
    assert_eq!(
        server.handle_binary(Bytes::from_static(b"x"), t0),
        Err(ConnectionError::Decode(DecodeError::UnexpectedBinary))
    );
}

#[test]
fn attachments_overdue_close_the_connection() {
    let t0 = Instant::now();
    let config = config().decoder(
        DecoderConfig::default()
            .reject_reserved_events(true)
            .attachment_timeout(Duration::from_secs(10)),
    );
    let (mut server, mut client) = pair(&config, t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let due = Some(t0 + Duration::from_secs(60));
    server.emit_with_ack("/", hello(1), due).unwrap();
    let t1 = t0 + Duration::from_secs(2);
    server
        .handle_text(
            &Str::from_static(r#"51-["f",{"_placeholder":true,"num":0}]"#),
            t1,
        )
        .unwrap();
    let deadline = t1 + Duration::from_secs(10);
    assert_eq!(server.poll_timeout(), Some(deadline));
    server.handle_timeout(deadline - NS).unwrap();
    assert!(!server.is_closed());
    assert_eq!(
        server.handle_timeout(deadline),
        Err(ConnectionError::Decode(DecodeError::AttachmentsTimeout))
    );
    assert!(server.is_closed());
    assert_eq!(
        events(&mut server),
        [Event::Disconnected {
            nsp: Str::from_static("/"),
            reason: DisconnectReason::Closed(CloseReason::ParseError),
            pending_acks: vec![0]
        }]
    );
    assert_eq!(server.poll_timeout(), None);
    // The attachment, too late, is not taken in.
    server
        .handle_binary(Bytes::from_static(b"late"), deadline)
        .unwrap();
    assert_eq!(events(&mut server), []);
}

#[test]
fn connect_timeout_fires_without_a_namespace() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(45);
    let mut server = Connection::new(Role::Server, config(), t0);
    assert_eq!(server.poll_timeout(), Some(t0 + timeout));
    // A CONNECT the driver has not answered yet does not count.
    server.handle_packet(text("0"), t0).unwrap();
    events(&mut server);
    server.handle_timeout(t0 + timeout - NS).unwrap();
    assert!(!server.is_closed());
    assert_eq!(
        server.handle_timeout(t0 + timeout),
        Err(ConnectionError::ConnectTimeout)
    );
    assert!(server.is_closed());
    // The namespace being joined is given up.
    assert_eq!(
        events(&mut server),
        [Event::Disconnected {
            nsp: Str::from_static("/"),
            reason: DisconnectReason::Closed(CloseReason::ForcedClose),
            pending_acks: vec![]
        }]
    );
    assert_eq!(server.accept("/", "s", None), Err(StateError::Closed));
    assert_eq!(server.queued(), 0);
}

#[test]
fn connect_timeout_stops_once_a_namespace_is_joined() {
    let t0 = Instant::now();
    let config = config().connect_timeout(Duration::from_secs(10));
    let (mut server, mut client) = pair(&config, t0);
    // The client has no connect timeout.
    assert_eq!(client.poll_timeout(), None);
    join(
        &mut server,
        &mut client,
        "/",
        "s1",
        t0 + Duration::from_secs(9),
    );
    assert_eq!(server.poll_timeout(), None);
    server.handle_timeout(t0 + Duration::from_secs(10)).unwrap();
    // Not even once every namespace is left, as the reference clears it.
    client.disconnect("/").unwrap();
    pump(&mut client, &mut server, t0).unwrap();
    assert!(matches!(
        &events(&mut server)[..],
        [Event::Disconnected {
            reason: DisconnectReason::Peer,
            ..
        }]
    ));
    events(&mut client);
    server
        .handle_timeout(t0 + Duration::from_secs(3600))
        .unwrap();
    assert!(!server.is_closed());
    // Ack timers alone drive poll_timeout then.
    join(&mut server, &mut client, "/", "s2", t0);
    let due = t0 + Duration::from_secs(20);
    server.emit_with_ack("/", hello(1), Some(due)).unwrap();
    assert_eq!(server.poll_timeout(), Some(due));
}

#[test]
fn an_answer_at_the_deadline_is_too_late() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(&config(), t0);
    join(&mut server, &mut client, "/", "s1", t0);
    let due = t0 + Duration::from_secs(5);
    let early = server.emit_with_ack("/", hello(1), Some(due)).unwrap();
    let late = server.emit_with_ack("/", hello(2), Some(due + NS)).unwrap();
    pump(&mut server, &mut client, t0).unwrap();
    events(&mut client);
    client.ack("/", early, Args::new()).unwrap();
    // Just in time, though the driver never called handle_timeout.
    pump(&mut client, &mut server, due - NS).unwrap();
    assert!(matches!(&events(&mut server)[..], [Event::Ack { id, .. }] if *id == early));
    // At its deadline: it times out first, the answer is ignored.
    client.ack("/", late, Args::new()).unwrap();
    pump(&mut client, &mut server, due + NS).unwrap();
    assert_eq!(
        events(&mut server),
        [Event::AckTimedOut {
            nsp: Str::from_static("/"),
            id: late
        }]
    );
    // A message past the connect timeout closes before it is read.
    let mut server = Connection::new(Role::Server, config(), t0);
    assert_eq!(
        server.handle_packet(text("0"), t0 + Duration::from_secs(45)),
        Err(ConnectionError::ConnectTimeout)
    );
    assert_eq!(events(&mut server), []);
}
