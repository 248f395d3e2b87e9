//! The Socket.IO operators through the adapter, over real WebSockets:
//! rooms, `to`/`except`, `sockets_join`/`sockets_leave`, `fetch_sockets`,
//! `disconnect_sockets`, broadcasts gathering acknowledgements, per-socket
//! data, `disconnecting`, event middlewares, outgoing listeners, dynamic
//! namespaces.

mod sio;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sio::{closed, connect, join, next, open, send, start};
use sockio_server::socketio::{
    AckSender, Args, BroadcastAckError, ConnectError, Data, DisconnectReason, SocketIo, SocketRef,
};

#[tokio::test]
async fn rooms_follow_joins_and_operators() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on(
            "join",
            |socket: SocketRef, args: Args, ack: Option<AckSender>| {
                socket.join(args.deserialize::<String>(0).unwrap());
                ack.unwrap().send(socket.rooms().len()).unwrap();
            },
        );
        socket.on(
            "leave",
            |socket: SocketRef, Data(room): Data<String>, ack: Option<AckSender>| {
                socket.leave(&room);
                ack.unwrap().send(socket.rooms().len()).unwrap();
            },
        );
    });
    let addr = start(&io).await;
    let (mut a, ida) = connect(addr, "/").await;
    let (mut b, idb) = connect(addr, "/").await;
    let (mut c, _) = connect(addr, "/").await;
    send(&mut a, r#"21["join","red"]"#).await;
    assert_eq!(next(&mut a).await, "31[2]");
    send(&mut b, r#"22["join","red"]"#).await;
    assert_eq!(next(&mut b).await, "32[2]");

    io.to("red").except(ida.clone()).emit("x", 1).unwrap();
    assert_eq!(next(&mut b).await, r#"2["x",1]"#);
    // Every socket is in its own room.
    io.to(ida.clone()).to(idb.clone()).emit("x", 2).unwrap();
    assert_eq!(next(&mut a).await, r#"2["x",2]"#);
    assert_eq!(next(&mut b).await, r#"2["x",2]"#);
    io.except("red").emit("x", 3).unwrap();
    assert_eq!(next(&mut c).await, r#"2["x",3]"#);

    // Server-side room changes for a selection.
    io.to("red").sockets_join(["blue", "green"]);
    io.to(idb.clone()).sockets_leave(["green"]);
    let mut members = io.of("/").room_members("green").await.unwrap();
    members.sort();
    assert_eq!(members, std::slice::from_ref(&ida));
    io.to("blue").emit("x", 4).unwrap();
    assert_eq!(next(&mut a).await, r#"2["x",4]"#);
    assert_eq!(next(&mut b).await, r#"2["x",4]"#);
    send(&mut a, r#"23["leave","red"]"#).await;
    assert_eq!(next(&mut a).await, "33[3]"); // own, blue, green

    // fetch_sockets describes each socket with its rooms.
    let fetched = io.to("blue").fetch_sockets().await.unwrap();
    assert_eq!(fetched.len(), 2);
    let fa = fetched.iter().find(|s| s.id() == ida).unwrap();
    let mut rooms = fa.rooms();
    rooms.sort();
    let mut expected = vec![ida.clone(), "blue".to_owned(), "green".to_owned()];
    expected.sort();
    assert_eq!(rooms, expected);
    assert!(fa.local().is_some());
    // A fetched socket can be emitted to and moved.
    fa.emit("direct", "hi").unwrap();
    assert_eq!(next(&mut a).await, r#"2["direct","hi"]"#);
    fa.leave("blue");
    io.to("blue").emit("x", 5).unwrap();
    assert_eq!(next(&mut b).await, r#"2["x",5]"#);
    fa.join("blue");

    // disconnect_sockets: the client sees the DISCONNECT of its namespace.
    io.to("green").disconnect_sockets(false);
    assert_eq!(next(&mut a).await, "1");
    assert_eq!(io.of("/").socket_count(), 2);
    // With close, the whole connection goes.
    io.to(idb).disconnect_sockets(true);
    assert_eq!(next(&mut b).await, "1");
    assert!(closed(&mut b).await);
    let left = io.fetch_sockets().await.unwrap();
    assert_eq!(left.len(), 1);
}

#[tokio::test]
async fn broadcast_gathers_acknowledgements() {
    let io = SocketIo::builder().build();
    io.ns("/", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(connect(addr, "/").await.0);
    }
    let io2 = io.clone();
    let gathered = tokio::spawn(async move {
        io2.timeout(Duration::from_secs(10))
            .emit_with_ack::<Args>("question", "?")
            .await
    });
    // One id for the whole broadcast; each client answers differently.
    for (n, ws) in clients.iter_mut().enumerate() {
        let got = next(ws).await;
        let id = got
            .strip_suffix(r#"["question","?"]"#)
            .and_then(|p| p.strip_prefix('2'))
            .unwrap()
            .to_owned();
        send(ws, &format!("3{id}[{n}]")).await;
        // A duplicate answer is ignored.
        send(ws, &format!("3{id}[{n}]")).await;
    }
    let answers = gathered.await.unwrap().unwrap();
    let mut values: Vec<u32> = answers.iter().map(|a| a.deserialize(0).unwrap()).collect();
    values.sort();
    assert_eq!(values, [0, 1, 2]);

    // Nobody to ask: done at once.
    assert_eq!(
        io.to("nobody")
            .emit_with_ack::<Args>("q", 1)
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test(start_paused = true)]
async fn broadcast_acks_time_out_with_what_came() {
    let io = SocketIo::builder().build();
    io.ns("/", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let (mut a, _) = connect(addr, "/").await;
    let (mut b, _) = connect(addr, "/").await;
    let io2 = io.clone();
    let gathered = tokio::spawn(async move {
        io2.timeout(Duration::from_secs(5))
            .emit_with_ack::<String>("question", "?")
            .await
    });
    let got = next(&mut a).await;
    let id = &got[1..got.find('[').unwrap()];
    send(&mut a, &format!("3{id}[\"yes\"]")).await;
    let _ = next(&mut b).await; // b never answers
    match gathered.await.unwrap() {
        Err(BroadcastAckError::Timeout { received, expected }) => {
            assert_eq!(expected, 2);
            assert_eq!(received.len(), 1);
            assert_eq!(received[0].deserialize::<String>(0).unwrap(), "yes");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn data_disconnecting_middlewares_and_outgoing() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct User {
        name: String,
        level: u32,
    }
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let io = SocketIo::builder().build();
    let seen = log.clone();
    io.ns("/", move |socket: SocketRef| {
        socket
            .set_data(&User {
                name: "ann".into(),
                level: 3,
            })
            .unwrap();
        socket.join("lobby");
        socket.use_middleware(|_, args| match args.event_name().as_deref() {
            Some("forbidden") => Err("not allowed".to_owned()),
            _ => Ok(()),
        });
        let s = seen.clone();
        socket.on_error(move |_, error| s.lock().unwrap().push(format!("error {error}")));
        let s = seen.clone();
        socket.on_any_outgoing(move |_, args| {
            s.lock()
                .unwrap()
                .push(format!("out {}", args.event_name().unwrap()));
        });
        socket.on("whoami", |socket: SocketRef, ack: Option<AckSender>| {
            let user: User = socket.data().unwrap().unwrap();
            ack.unwrap().send(user.name).unwrap();
        });
        let s = seen.clone();
        socket.on_disconnecting(move |socket: SocketRef, reason: DisconnectReason| {
            s.lock()
                .unwrap()
                .push(format!("disconnecting {reason} {}", socket.rooms().len()));
        });
        let s = seen.clone();
        socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
            s.lock()
                .unwrap()
                .push(format!("disconnect {reason} {}", socket.rooms().len()));
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    send(&mut ws, r#"2["forbidden"]"#).await;
    send(&mut ws, r#"21["whoami"]"#).await;
    assert_eq!(next(&mut ws).await, r#"31["ann"]"#);
    io.to("lobby").emit("news", 1).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["news",1]"#);
    let fetched = io.fetch_sockets().await.unwrap();
    assert_eq!(
        fetched[0].data::<User>().unwrap().unwrap(),
        User {
            name: "ann".into(),
            level: 3
        }
    );
    send(&mut ws, "1").await;
    // The DISCONNECT is handled before anything sent after it on the same
    // connection: a new CONNECT's reply means it was.
    join(&mut ws, "/", None).await;
    assert_eq!(
        log.lock().unwrap()[..4],
        [
            "error not allowed",
            "out news",
            "disconnecting client namespace disconnect 2",
            "disconnect client namespace disconnect 0",
        ]
    );
}

#[tokio::test]
async fn dynamic_namespaces_are_created_and_cleaned_up() {
    let io = SocketIo::builder()
        .cleanup_empty_child_namespaces(true)
        .build();
    let parent = io.dyn_ns("/room-{id}", |socket: SocketRef| {
        let nsp = socket.nsp().to_owned();
        socket.emit("welcome", nsp).unwrap();
    });
    parent.use_middleware(|socket: SocketRef| {
        if socket.nsp() == "/room-secret" {
            Err(ConnectError::new("no"))
        } else {
            Ok(())
        }
    });
    io.dyn_ns_with(
        |name, auth| name.starts_with("/team/") && auth.as_str().contains("ok"),
        |_socket: SocketRef| {},
    );
    let addr = start(&io).await;
    let mut ws = open(addr).await;
    join(&mut ws, "/room-1", None).await;
    assert_eq!(next(&mut ws).await, r#"2/room-1,["welcome","/room-1"]"#);
    join(&mut ws, "/room-2", None).await;
    assert_eq!(next(&mut ws).await, r#"2/room-2,["welcome","/room-2"]"#);
    let mut children = parent.children();
    children.sort();
    assert_eq!(children, ["/room-1", "/room-2"]);
    // The parent emits to every child.
    parent.emit("all", 0).unwrap();
    let mut got = vec![next(&mut ws).await, next(&mut ws).await];
    got.sort();
    assert_eq!(got, [r#"2/room-1,["all",0]"#, r#"2/room-2,["all",0]"#]);

    // Middlewares of the parent apply; names that match nothing are refused.
    send(&mut ws, "0/room-secret,").await;
    assert_eq!(next(&mut ws).await, r#"4/room-secret,{"message":"no"}"#);
    send(&mut ws, "0/room-,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/room-,{"message":"Invalid namespace"}"#
    );
    send(&mut ws, r#"0/team/a,{"x":"no"}"#).await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/team/a,{"message":"Invalid namespace"}"#
    );
    join(&mut ws, "/team/a", Some(r#"{"x":"ok"}"#)).await;

    // The last socket leaving a child removes it.
    send(&mut ws, "1/room-1,").await;
    send(&mut ws, "2/room-2,[\"ping\"]").await;
    join(&mut ws, "/room-3", None).await;
    assert_eq!(next(&mut ws).await, r#"2/room-3,["welcome","/room-3"]"#);
    assert!(io.get_namespace("/room-1").is_none());
    assert!(io.get_namespace("/room-2").is_some());
    let mut children = parent.children();
    children.sort();
    assert_eq!(children, ["/room-2", "/room-3"]);
}

#[tokio::test]
async fn namespaces_per_client_are_bounded() {
    let io = SocketIo::builder().max_namespaces_per_client(3).build();
    io.dyn_ns("/n{i}", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let mut ws = open(addr).await;
    for i in 0..3 {
        join(&mut ws, &format!("/n{i}"), None).await;
    }
    send(&mut ws, "0/n3,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/n3,{"message":"Too many namespaces"}"#
    );
    // Leaving one makes room again.
    send(&mut ws, "1/n0,").await;
    join(&mut ws, "/n3", None).await;
}

#[tokio::test]
async fn server_wide_and_asynchronous_middlewares() {
    let io = SocketIo::builder().build();
    io.use_server_middleware(|socket: SocketRef| {
        if socket.handshake().auth.as_str().contains("token") {
            Ok(())
        } else {
            Err(ConnectError::new("no token"))
        }
    });
    let (release, gate) = tokio::sync::watch::channel(false);
    io.ns("/slow", |socket: SocketRef| {
        let user: String = socket.data().unwrap().unwrap();
        socket.emit("hello", user).unwrap();
    })
    .use_middleware(move |socket: SocketRef| {
        let mut gate = gate.clone();
        async move {
            // Waits until the test lets it go: a slow auth service.
            gate.wait_for(|open| *open).await.unwrap();
            socket.set_data("ann").unwrap();
            Ok(())
        }
    });
    io.ns("/boom", |_socket: SocketRef| {})
        .use_middleware(|| -> Result<(), ConnectError> { panic!("middleware bug") });
    io.dyn_ns("/d{n}", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let mut ws = open(addr).await;
    send(&mut ws, "0/d1,").await;
    assert_eq!(next(&mut ws).await, r#"4/d1,{"message":"no token"}"#);
    send(&mut ws, r#"0/slow,{"token":1}"#).await;
    // A second CONNECT while the first is being handled is ignored.
    send(&mut ws, r#"0/slow,{"token":1}"#).await;
    // Other namespaces go on meanwhile.
    send(&mut ws, r#"0/boom,{"token":1}"#).await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/boom,{"message":"middleware failure"}"#
    );
    release.send(true).unwrap();
    let reply = next(&mut ws).await;
    assert!(reply.starts_with(r#"0/slow,{"sid":"#), "{reply}");
    assert_eq!(next(&mut ws).await, r#"2/slow,["hello","ann"]"#);
    join(&mut ws, "/d2", Some(r#"{"token":2}"#)).await;
    assert_eq!(io.of("/slow").socket_count(), 1);
}

#[tokio::test]
async fn volatile_emits_wait_for_nobody() {
    use support::{Conn, get, post, sid_of_open_packet};
    let (tx, mut sockets) = tokio::sync::mpsc::unbounded_channel();
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: SocketRef| {
        let _ = tx.send(socket);
    });
    let addr = start(&io).await;
    let mut conn = Conn::connect(addr).await;
    conn.send(get("/socket.io/?EIO=4&transport=polling", &[]))
        .await;
    let sid = sid_of_open_packet(&conn.response().await.body);
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    conn.send(post(&path, &[], b"40")).await;
    assert_eq!(conn.response().await.body, b"ok");
    conn.send(get(&path, &[])).await;
    assert!(conn.response().await.body.starts_with(b"40{\"sid\""));
    let socket = sockets.recv().await.unwrap();

    // No poll waiting: a volatile emit is dropped, a plain one queued.
    // (Dropping a volatile emit is not an error.)
    socket.volatile().emit("dropped", 1).unwrap();
    // A volatile broadcast too (the poll below gets only "kept").
    io.of("/").volatile().emit("dropped", 2).unwrap();
    socket.emit("kept", 3).unwrap();
    conn.send(get(&path, &[])).await;
    assert_eq!(conn.response().await.body, b"42[\"kept\",3]");

    // A poll waiting with nothing queued: the volatile emit goes out.
    let mut poll = Conn::connect(addr).await;
    poll.send(get(&path, &[])).await;
    // Until the server holds the poll, volatile emits are dropped (and
    // that is `Ok`): emit until one goes out, which the poll's response
    // shows. Once one is queued the session is no longer writable, so the
    // response holds that one only.
    let live = async {
        loop {
            socket.volatile().emit("live", 4).unwrap();
            let answered = poll.stream_mut().readable();
            if tokio::time::timeout(Duration::from_millis(10), answered)
                .await
                .is_ok()
            {
                break;
            }
        }
    };
    tokio::time::timeout(sio::IO_TIMEOUT, live).await.unwrap();
    assert_eq!(poll.response().await.body, b"42[\"live\",4]");
}
