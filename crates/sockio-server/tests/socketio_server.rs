//! The Socket.IO server through a real WebSocket: rooms and broadcasts,
//! acknowledgements both ways, middlewares, disconnects, and a panicking
//! handler that takes down only its own socket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sockio_server::socketio::{
    AckError, AckSender, Args, ConnectError, Data, DisconnectReason, SocketIo, SocketRef, TryData,
};
use sockio_ws::{Config, Message};

mod sio;
use sio::{connect, next, send, start};

#[tokio::test]
async fn rooms_and_broadcasts() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on(
            "join",
            |socket: SocketRef, args: Args, ack: Option<AckSender>| {
                let room: String = args.deserialize(0).unwrap();
                socket.join(room);
                ack.unwrap().send("joined").unwrap();
            },
        );
        socket.on("shout", |socket: SocketRef, args: Args| {
            socket.broadcast().emit("shout", args).unwrap();
        });
        socket.on("to-room", |socket: SocketRef, args: Args| {
            let room: String = args.deserialize(0).unwrap();
            socket
                .io()
                .unwrap()
                .to(room)
                .emit("room-news", "hi room")
                .unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut a, _) = connect(addr, "/").await;
    let (mut b, _) = connect(addr, "/").await;
    let (mut c, _) = connect(addr, "/").await;
    send(&mut a, r#"21["join","r"]"#).await;
    assert_eq!(next(&mut a).await, r#"31["joined"]"#);
    // The sender is excluded from its broadcast.
    send(&mut b, r#"2["shout",{"x":1}]"#).await;
    assert_eq!(next(&mut a).await, r#"2["shout",{"x":1}]"#);
    assert_eq!(next(&mut c).await, r#"2["shout",{"x":1}]"#);
    // Only the room's member hears the room; the next thing B gets is
    // what it asks for.
    send(&mut c, r#"2["to-room","r"]"#).await;
    assert_eq!(next(&mut a).await, r#"2["room-news","hi room"]"#);
    send(&mut b, r#"22["join","other"]"#).await;
    assert_eq!(next(&mut b).await, r#"32["joined"]"#);
}

#[tokio::test(start_paused = true)]
async fn acks_from_the_client_and_their_timeout() {
    let results: Arc<Mutex<Vec<Result<String, AckError>>>> = Arc::default();
    let io = SocketIo::builder()
        .ack_timeout(Duration::from_secs(5))
        .build();
    let seen = results.clone();
    io.ns("/", move |socket: SocketRef| {
        let seen = seen.clone();
        tokio::spawn(async move {
            for _ in 0..2 {
                let answer = socket.emit_with_ack::<Args>("question", "ready?").await;
                seen.lock()
                    .unwrap()
                    .push(answer.map(|args| args.get(0).unwrap().as_str().to_owned()));
            }
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    assert_eq!(next(&mut ws).await, r#"20["question","ready?"]"#);
    send(&mut ws, r#"30["yes"]"#).await;
    // A duplicate or unknown ack is ignored.
    send(&mut ws, r#"30["again"]"#).await;
    send(&mut ws, r#"399["stray"]"#).await;
    assert_eq!(next(&mut ws).await, r#"21["question","ready?"]"#);
    // Not answered: times out after 5 s of virtual time.
    while results.lock().unwrap().len() < 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let results = results.lock().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap(), r#""yes""#);
    assert!(
        matches!(results[1], Err(AckError::Timeout)),
        "{:?}",
        results[1]
    );
}

#[tokio::test]
async fn middleware_refusal_and_unknown_namespace() {
    let io = SocketIo::builder().build();
    io.ns("/", |_: SocketRef| {});
    io.ns("/admin", |_: SocketRef| {})
        .use_middleware(|socket: SocketRef| {
            if socket.handshake().auth.as_str().contains("secret") {
                Ok(())
            } else {
                Err(ConnectError::new("not authorized")
                    .with_data([1, 2])
                    .unwrap())
            }
        });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    send(&mut ws, r#"0/admin,{"token":"wrong"}"#).await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/admin,{"message":"not authorized","data":[1,2]}"#
    );
    send(&mut ws, "0/nope,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/nope,{"message":"Invalid namespace"}"#
    );
    send(&mut ws, r#"0/admin,{"token":"secret"}"#).await;
    assert!(next(&mut ws).await.starts_with(r#"0/admin,{"sid":""#));
}

#[tokio::test]
async fn disconnect_reasons_both_ways() {
    let reasons: Arc<Mutex<Vec<String>>> = Arc::default();
    let io = SocketIo::builder().build();
    let record = reasons.clone();
    io.ns("/", move |socket: SocketRef| {
        let record = record.clone();
        socket.on_disconnect(move |reason: DisconnectReason| {
            record.lock().unwrap().push(reason.to_string());
        });
        socket.on("bye", |socket: SocketRef| socket.disconnect());
    });
    let addr = start(&io).await;
    let (mut a, _) = connect(addr, "/").await;
    send(&mut a, "1").await;
    let (mut b, _) = connect(addr, "/").await;
    send(&mut b, r#"2["bye"]"#).await;
    assert_eq!(next(&mut b).await, "1");
    let (c, _) = connect(addr, "/").await;
    drop(c);
    while reasons.lock().unwrap().len() < 3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        *reasons.lock().unwrap(),
        vec![
            "client namespace disconnect",
            "server namespace disconnect",
            "transport close"
        ]
    );
}

/// RELIABILITY.md case 31: a handler that panics disconnects its own
/// socket; the others and the server go on.
#[tokio::test]
async fn a_panicking_handler_takes_down_only_its_socket() {
    let io = SocketIo::builder().build();
    fn boom() {
        panic!("handler bug");
    }
    io.ns("/", |socket: SocketRef| {
        socket.on("boom", boom);
        socket.on("echo", |socket: SocketRef, args: Args| {
            socket.emit("echo", args).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut victim, _) = connect(addr, "/").await;
    let (mut other, _) = connect(addr, "/").await;
    send(&mut victim, r#"2["boom"]"#).await;
    assert_eq!(next(&mut victim).await, "1");
    send(&mut other, r#"2["echo","still here"]"#).await;
    assert_eq!(next(&mut other).await, r#"2["echo","still here"]"#);
    let (mut late, _) = connect(addr, "/").await;
    send(&mut late, r#"2["echo","new client"]"#).await;
    assert_eq!(next(&mut late).await, r#"2["echo","new client"]"#);
}

/// RELIABILITY.md case 25: malformed packets close the transport and run
/// no handler; other clients are unaffected.
#[tokio::test]
async fn malformed_packets_close_the_connection() {
    let ran: Arc<Mutex<u32>> = Arc::default();
    let io = SocketIo::builder().build();
    let count = ran.clone();
    io.ns("/", move |socket: SocketRef| {
        let count = count.clone();
        socket.on_any(move || *count.lock().unwrap() += 1);
    });
    let addr = start(&io).await;
    for bad in [
        "4abc",
        "2{}",
        "2[]",
        "2abc[\"x\"]",
        "2[{\"toString\":\"foo\"}]",
        "2[1.5e400]",
        "2/admin[\"x\"]",
        "2[\"x\"]garbage",
        "2[\"connect\"]",
        "511-[\"x\"]",
    ] {
        let (mut ws, _) = connect(addr, "/").await;
        send(&mut ws, bad).await;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if &*t == "2" => {}
                Some(Ok(Message::Close(_))) | None => break,
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
    assert_eq!(*ran.lock().unwrap(), 0);
    let (mut ok, _) = connect(addr, "/").await;
    send(&mut ok, r#"2["fine"]"#).await;
    while *ran.lock().unwrap() == 0 {
        tokio::task::yield_now().await;
    }
}

/// The handshake carries the HTTP request: query, headers, address.
#[tokio::test]
async fn handshake_details() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        let hs = socket.handshake();
        let info = (
            hs.query("token"),
            hs.headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned),
            hs.address().map(|a| a.ip().is_loopback()),
            hs.url().path().to_owned(),
        );
        // One argument: the tuple as an array (a bare tuple would be one
        // argument per element).
        socket.emit("info", (info,)).unwrap();
    });
    let addr = start(&io).await;
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&token=a%20b");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(_))) = ws.next().await else {
        panic!()
    };
    send(&mut ws, "0").await;
    assert!(next(&mut ws).await.starts_with("0{\"sid\""));
    assert_eq!(
        next(&mut ws).await,
        format!(r#"2["info",["a b","{addr}",true,"/socket.io/"]]"#)
    );
}

/// Typed handlers: arguments deserialized with serde (`Data<T>`: one value,
/// or a tuple for several); arguments that do not fit skip the handler and
/// go to `on_error` (no ack is sent), and a handler taking `TryData<T>`
/// runs anyway and answers the ack with the error itself.
#[tokio::test]
async fn typed_handlers() {
    #[derive(serde::Deserialize)]
    struct Move {
        x: i32,
        y: i32,
    }
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on("move", |Data(m): Data<Move>, ack: Option<AckSender>| {
            ack.unwrap().send(m.x + m.y).unwrap();
        });
        socket.on(
            "pair",
            |Data((name, n)): Data<(String, u8)>, ack: Option<AckSender>| {
                ack.unwrap().send(format!("{name}{n}")).unwrap();
            },
        );
        socket.on(
            "checked-move",
            |TryData(m): TryData<Move>, ack: Option<AckSender>| {
                let reply = match m {
                    Ok(m) => serde_json::json!(m.x + m.y),
                    Err(e) => serde_json::json!({ "error": format!("invalid arguments: {e}") }),
                };
                ack.unwrap().send(reply).unwrap();
            },
        );
        socket.on_error(|socket, error| {
            socket.emit("dropped", error).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    send(&mut ws, r#"21["move",{"x":2,"y":40}]"#).await;
    assert_eq!(next(&mut ws).await, "31[42]");
    send(&mut ws, r#"22["pair","n",7]"#).await;
    assert_eq!(next(&mut ws).await, r#"32["n7"]"#);
    // Values that do not fit: the handler does not run (no ack 3); the
    // error goes to `on_error`.
    send(&mut ws, r#"23["move",{"x":"two"}]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"2["dropped","invalid arguments:"#),
        "{reply}"
    );
    // With `TryData`, the handler gets the error and answers it.
    send(&mut ws, r#"24["checked-move",{"x":"two"}]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"34[{"error":"invalid arguments:"#),
        "{reply}"
    );
    send(&mut ws, r#"25["checked-move",{"x":1,"y":2}]"#).await;
    assert_eq!(next(&mut ws).await, "35[3]");
    // The socket is still usable.
    send(&mut ws, r#"26["pair","ok",1]"#).await;
    assert_eq!(next(&mut ws).await, r#"36["ok1"]"#);
}

/// The handshake query as the reference reads it: names and values
/// percent-decoded (socket.io-client's `query: { "&a": "&=?a" }`), the last
/// of repeated names wins, and `to_json` keeps the URL's order.
#[tokio::test]
async fn handshake_query_is_decoded_like_the_reference() {
    let io = SocketIo::builder().build();
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    io.ns("/", move |socket: SocketRef| {
        let h = socket.handshake();
        *s.lock().unwrap() = Some((h.query("&a"), h.query("z"), h.to_json()));
    });
    let addr = start(&io).await;
    let url =
        format!("ws://{addr}/socket.io/?z=1&%26a=%26%3D%3Fa&EIO=4&transport=websocket&z=2&b=x+y");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!("no open packet")
    };
    assert!(open.starts_with("0{"));
    sio::join(&mut ws, "/", None).await;
    let (a, z, json) = seen.lock().unwrap().clone().expect("connected");
    assert_eq!(a.as_deref(), Some("&=?a"));
    assert_eq!(z.as_deref(), Some("2"));
    let json = json.as_str();
    let query = &json[json.find(r#""query":"#).expect("a query member")..];
    assert!(
        query.starts_with(
            r#""query":{"z":"2","&a":"&=?a","EIO":"4","transport":"websocket","b":"x y"}"#
        ),
        "{json}"
    );
}

/// The main namespace exists without a handler, as in socket.io: a client
/// connects to it, and `io.emit` reaches it (it used to report success
/// while sending nothing).
#[tokio::test]
async fn the_main_namespace_always_exists() {
    let io = SocketIo::builder().build();
    io.ns("/admin", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let (mut ws, sid) = connect(addr, "/").await;
    assert_eq!(
        io.get_namespace("/")
            .expect("the main namespace")
            .socket_count(),
        1
    );
    io.emit("news", "hello").unwrap();
    assert_eq!(next(&mut ws).await, r#"2["news","hello"]"#);
    // A handler registered later applies to the sockets that come next.
    io.ns("/", |socket: SocketRef| {
        socket.emit("welcome", 1).unwrap();
    });
    let (mut ws2, sid2) = connect(addr, "/").await;
    assert_ne!(sid, sid2);
    assert_eq!(next(&mut ws2).await, r#"2["welcome",1]"#);
}

/// `io.use_middleware` is socket.io's `io.use`: the main namespace's
/// middleware, not every namespace's (that is `use_server_middleware`).
#[tokio::test]
async fn io_use_middleware_is_the_main_namespace_s() {
    let io = SocketIo::builder().build();
    io.ns("/admin", |_socket: SocketRef| {});
    io.use_middleware(|| Err(ConnectError::new("main only")));
    let addr = start(&io).await;
    let (_ws, _) = connect(addr, "/admin").await;
    let mut ws = sio::open(addr).await;
    send(&mut ws, "0").await;
    assert_eq!(next(&mut ws).await, r#"4{"message":"main only"}"#);
    io.use_server_middleware(|| Err(ConnectError::new("everywhere")));
    let mut ws = sio::open(addr).await;
    send(&mut ws, "0/admin,").await;
    assert_eq!(next(&mut ws).await, r#"4/admin,{"message":"everywhere"}"#);
}
