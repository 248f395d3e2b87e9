//! The handler API through a real WebSocket: extractors in event, connect,
//! middleware and disconnect handlers (sync and async), the order in which
//! a socket's handlers run, the argument model of emits and acks and their
//! errors, `io.of`, and the socket's data.
//!
//! Nothing here waits on a timer: where a test must know the server has
//! read a packet, it sends a ping on a second namespace of the same
//! connection behind it (one connection's packets are handled in order)
//! and waits for the pong; handlers that must wait are held by a
//! semaphore the test releases.

mod sio;

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sio::{IO_TIMEOUT, Ws, connect, next, send, start};
use sockio_server::socketio::{
    AckError, AckSender, Args, Bin, BroadcastAckError, ConnectError, Data, DisconnectReason,
    EmitError, Event, Extension, Handshake, SocketIo, SocketRef, State, TryData,
};
use sockio_ws::{Config, Message};
use tokio::sync::{Semaphore, mpsc};

// ----- types the handlers use -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

/// A CONNECT's auth payload; fields left out read as empty.
#[derive(Debug, Default, Deserialize)]
struct Auth {
    #[serde(default)]
    name: String,
    #[serde(default)]
    token: String,
}

/// Shared state given to the builder.
#[derive(Clone)]
struct AppState {
    name: &'static str,
    hits: Arc<AtomicUsize>,
}

/// Another piece of state, for middlewares.
#[derive(Clone)]
struct Secret(&'static str);

/// Per-socket extensions.
#[derive(Debug, Clone, PartialEq)]
struct UserId(u32);

#[derive(Debug, Clone, PartialEq)]
struct Role(String);

/// Never given to the builder nor stored in a socket's extensions.
#[derive(Debug, Clone)]
struct NotGiven;

/// Socket data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    level: u8,
}

/// A value whose `Serialize` fails.
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refuses to serialize"))
    }
}

// ----- client helpers -----

/// The next binary message, answering pings.
async fn next_binary(ws: &mut Ws) -> Bytes {
    loop {
        let msg = tokio::time::timeout(IO_TIMEOUT, ws.next())
            .await
            .expect("nothing came");
        match msg {
            Some(Ok(Message::Text(t))) if &*t == "2" => ws.send(Message::text("3")).await.unwrap(),
            Some(Ok(Message::Binary(b))) => return b,
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
}

/// Sends a binary attachment.
async fn send_binary(ws: &mut Ws, data: &[u8]) {
    ws.send(Message::binary(data.to_vec())).await.unwrap();
}

/// Opens a session whose URL carries `query`.
async fn open_with_query(addr: std::net::SocketAddr, query: &str) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&{query}");
    let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
    let Some(Ok(Message::Text(open))) = ws.next().await else {
        panic!("no open packet")
    };
    assert!(open.starts_with("0{"), "{open}");
    ws
}

/// Opens a session and connects it to `nsp` with the auth `payload`.
async fn connect_with(addr: std::net::SocketAddr, nsp: &str, payload: &str) -> Ws {
    let mut ws = sio::open(addr).await;
    let reply = sio::join(&mut ws, nsp, Some(payload)).await;
    assert!(reply.starts_with(r#"{"sid":""#), "{reply}");
    ws
}

/// Splits an EVENT of the main namespace asking for an ack, `2<id>[..]`,
/// into its ack id and its data.
fn ack_request(packet: &str) -> (u64, &str) {
    let rest = packet
        .strip_prefix('2')
        .unwrap_or_else(|| panic!("not an event: {packet}"));
    let start = rest
        .find('[')
        .unwrap_or_else(|| panic!("no data: {packet}"));
    let id = rest[..start]
        .parse()
        .unwrap_or_else(|_| panic!("no ack id: {packet}"));
    (id, &rest[start..])
}

/// A CONNECT_ERROR of `nsp`'s payload as JSON.
fn connect_error(packet: &str, nsp: &str) -> serde_json::Value {
    let head = if nsp == "/" {
        "4".to_owned()
    } else {
        format!("4{nsp},")
    };
    let payload = packet
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("not a CONNECT_ERROR of {nsp}: {packet}"));
    serde_json::from_str(payload).unwrap()
}

/// The next value of `rx`.
async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .expect("nothing came")
        .expect("channel closed")
}

/// A namespace `/side` whose `ping` answers its ack with `pong`: a ping
/// sent on it and answered tells that the server has handled every packet
/// the connection sent before it.
fn side_namespace(io: &SocketIo) {
    io.ns("/side", |socket: SocketRef| {
        socket.on("ping", |ack: Option<AckSender>| {
            ack.unwrap().send("pong").unwrap();
        });
    });
}

/// Joins `/side` on `ws` (once).
async fn join_side(ws: &mut Ws) {
    let reply = sio::join(ws, "/side", None).await;
    assert!(reply.starts_with(r#"{"sid":""#), "{reply}");
}

/// Returns once the server has handled what `ws` sent before.
async fn barrier(ws: &mut Ws, n: u32) {
    send(ws, &format!(r#"2/side,{n}["ping"]"#)).await;
    assert_eq!(next(ws).await, format!(r#"3/side,{n}["pong"]"#));
}

// ----- 1. extractors in event handlers -----

/// `Data<T>`: a struct (one value), a tuple (several), `()` (none, any
/// ignored); `TryData<T>` runs either way and gets the error; `Args` as
/// they came, without the event name.
#[tokio::test]
async fn data_try_data_and_args() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on("point", |Data(p): Data<Point>, ack: Option<AckSender>| {
            ack.unwrap().send(p.x * p.y).unwrap();
        });
        socket.on(
            "triple",
            |Data((s, n, b)): Data<(String, u8, bool)>, ack: Option<AckSender>| {
                // A tuple answers with several values.
                ack.unwrap().send((n, b, s)).unwrap();
            },
        );
        socket.on("unit", |Data(()): Data<()>, ack: Option<AckSender>| {
            ack.unwrap().send("unit").unwrap();
        });
        socket.on(
            "try",
            |TryData(p): TryData<Point>, ack: Option<AckSender>| {
                let reply = match p {
                    Ok(p) => format!("ok {}", p.x + p.y),
                    Err(e) => format!("err {e}"),
                };
                ack.unwrap().send(reply).unwrap();
            },
        );
        socket.on("raw", |args: Args, ack: Option<AckSender>| {
            let raw: Vec<String> = args.iter().map(|a| a.as_str().to_owned()).collect();
            ack.unwrap().send((args.len(), raw)).unwrap();
        });
        socket.on_error(|socket, error| {
            socket.emit("dropped", error).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;

    send(&mut ws, r#"21["point",{"x":6,"y":7}]"#).await;
    assert_eq!(next(&mut ws).await, "31[42]");
    send(&mut ws, r#"22["triple","s",9,true]"#).await;
    assert_eq!(next(&mut ws).await, r#"32[9,true,"s"]"#);
    // `()` reads no value and ignores those sent.
    send(&mut ws, r#"23["unit"]"#).await;
    assert_eq!(next(&mut ws).await, r#"33["unit"]"#);
    send(&mut ws, r#"24["unit",1,{"a":2}]"#).await;
    assert_eq!(next(&mut ws).await, r#"34["unit"]"#);
    // A struct that does not fit: `Data` drops the event (no ack 5).
    send(&mut ws, r#"25["point",{"x":"six"}]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"2["dropped","invalid arguments: "#),
        "{reply}"
    );
    // `TryData` runs with the error, or the value.
    send(&mut ws, r#"26["try",{"x":"six"}]"#).await;
    let reply = next(&mut ws).await;
    assert!(reply.starts_with(r#"36["err "#), "{reply}");
    assert!(reply.contains("expected i32"), "{reply}");
    send(&mut ws, r#"27["try",{"x":1,"y":2}]"#).await;
    assert_eq!(next(&mut ws).await, r#"37["ok 3"]"#);
    // `Args`: every value as sent, the event name left out.
    send(&mut ws, r#"28["raw",1,{"a":[true]},"s"]"#).await;
    assert_eq!(
        next(&mut ws).await,
        r#"38[3,["1","{\"a\":[true]}","\"s\""]]"#
    );
    send(&mut ws, r#"29["raw"]"#).await;
    assert_eq!(next(&mut ws).await, "39[0,[]]");
}

/// `Bin` gets a binary event's attachments, which `Data` also reads as
/// `Bytes` where they sit; `Event` names the event in `on_any`;
/// `Option<AckSender>` is `None` when the client asked for no ack.
#[tokio::test]
async fn bin_event_and_optional_ack() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on(
            "bin",
            |Bin(bins): Bin,
             Data((label, first)): Data<(String, Bytes)>,
             ack: Option<AckSender>| {
                let lens: Vec<usize> = bins.iter().map(Bytes::len).collect();
                let same = bins.first() == Some(&first);
                let second = bins.get(1).map(|b| b.to_vec());
                ack.unwrap().send((label, lens, same, second)).unwrap();
            },
        );
        socket.on("maybe-ack", |socket: SocketRef, ack: Option<AckSender>| {
            socket.emit("had-ack", ack.is_some()).unwrap();
            if let Some(ack) = ack {
                // `()` answers with no value.
                ack.send(()).unwrap();
            }
        });
        socket.on_any(
            |Event(name): Event, Data(n): Data<u32>, ack: Option<AckSender>| {
                ack.unwrap().send(format!("{name}:{n}")).unwrap();
            },
        );
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;

    send(
        &mut ws,
        r#"52-1["bin","pic",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    )
    .await;
    send_binary(&mut ws, &[1, 2, 3]).await;
    send_binary(&mut ws, &[9, 8]).await;
    assert_eq!(next(&mut ws).await, r#"31["pic",[3,2],true,[9,8]]"#);

    send(&mut ws, r#"2["maybe-ack"]"#).await;
    assert_eq!(next(&mut ws).await, r#"2["had-ack",false]"#);
    send(&mut ws, r#"22["maybe-ack"]"#).await;
    assert_eq!(next(&mut ws).await, r#"2["had-ack",true]"#);
    assert_eq!(next(&mut ws).await, "32[]");

    send(&mut ws, r#"23["whatever",5]"#).await;
    assert_eq!(next(&mut ws).await, r#"33["whatever:5"]"#);
    send(&mut ws, r#"24["something-else",6]"#).await;
    assert_eq!(next(&mut ws).await, r#"34["something-else:6"]"#);
}

/// `State<T>` from `with_state` (the same state everywhere), `Extension<T>`
/// set by a middleware and by the connect handler, `Handshake`, `SocketIo`.
#[tokio::test]
async fn state_extensions_handshake_and_io() {
    let hits = Arc::new(AtomicUsize::new(0));
    let io = SocketIo::builder()
        .with_state(AppState {
            name: "demo",
            hits: hits.clone(),
        })
        .build();
    io.ns("/", |socket: SocketRef| {
        socket.extensions().insert(UserId(7));
        socket.on(
            "state",
            |State(state): State<AppState>, ack: Option<AckSender>| {
                let n = state.hits.fetch_add(1, Ordering::SeqCst) + 1;
                ack.unwrap().send((state.name, n)).unwrap();
            },
        );
        socket.on(
            "ext",
            |Extension(UserId(id)): Extension<UserId>,
             Extension(Role(role)): Extension<Role>,
             ack: Option<AckSender>| {
                ack.unwrap().send((id, role)).unwrap();
            },
        );
        socket.on("hs", |hs: Handshake, ack: Option<AckSender>| {
            ack.unwrap()
                .send((hs.query("token"), hs.auth.as_str().to_owned()))
                .unwrap();
        });
        socket.on(
            "io",
            |io: SocketIo, socket: SocketRef, ack: Option<AckSender>| {
                let main = io.get_namespace("/").unwrap();
                let found = main.socket(socket.id()).is_some();
                ack.unwrap().send((main.socket_count(), found)).unwrap();
            },
        );
    })
    .use_middleware(|socket: SocketRef| {
        socket.extensions().insert(Role("admin".to_owned()));
        Ok(())
    });
    let addr = start(&io).await;
    let mut ws = open_with_query(addr, "token=abc").await;
    sio::join(&mut ws, "/", Some(r#"{"name":"ann"}"#)).await;

    send(&mut ws, r#"21["state"]"#).await;
    assert_eq!(next(&mut ws).await, r#"31["demo",1]"#);
    send(&mut ws, r#"22["state"]"#).await;
    assert_eq!(next(&mut ws).await, r#"32["demo",2]"#);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "the state given is shared");

    send(&mut ws, r#"23["ext"]"#).await;
    assert_eq!(next(&mut ws).await, r#"33[7,"admin"]"#);

    send(&mut ws, r#"24["hs"]"#).await;
    assert_eq!(next(&mut ws).await, r#"34["abc","{\"name\":\"ann\"}"]"#);

    send(&mut ws, r#"25["io"]"#).await;
    assert_eq!(next(&mut ws).await, "35[1,true]");
}

/// A handler asking for a state or an extension that is not there does
/// not run: `on_error` gets a message naming the type.
#[tokio::test]
async fn missing_state_or_extension_skips_the_handler() {
    let ran = Arc::new(AtomicBool::new(false));
    let io = SocketIo::builder().with_state(Secret("unused")).build();
    let flag = ran.clone();
    io.ns("/", move |socket: SocketRef| {
        let f = flag.clone();
        socket.on(
            "needs-state",
            move |State(_): State<NotGiven>, ack: Option<AckSender>| {
                f.store(true, Ordering::SeqCst);
                ack.unwrap().send("ran").unwrap();
            },
        );
        let f = flag.clone();
        socket.on(
            "needs-ext",
            move |Extension(_): Extension<NotGiven>, ack: Option<AckSender>| {
                f.store(true, Ordering::SeqCst);
                ack.unwrap().send("ran").unwrap();
            },
        );
        // An async handler is skipped the same way.
        let f = flag.clone();
        socket.on(
            "needs-ext-async",
            move |Extension(_): Extension<NotGiven>| {
                let f = f.clone();
                async move {
                    f.store(true, Ordering::SeqCst);
                }
            },
        );
        socket.on(
            "fine",
            |State(Secret(s)): State<Secret>, ack: Option<AckSender>| {
                ack.unwrap().send(s).unwrap();
            },
        );
        socket.on_error(|socket, error| {
            socket.emit("dropped", error).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;

    send(&mut ws, r#"21["needs-state"]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"2["dropped","no state of type "#),
        "{reply}"
    );
    assert!(reply.contains("NotGiven"), "{reply}");

    send(&mut ws, r#"22["needs-ext"]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"2["dropped","the socket has no extension of type "#),
        "{reply}"
    );
    assert!(reply.contains("NotGiven"), "{reply}");

    send(&mut ws, r#"2["needs-ext-async"]"#).await;
    let reply = next(&mut ws).await;
    assert!(
        reply.starts_with(r#"2["dropped","the socket has no extension of type "#),
        "{reply}"
    );

    // No ack 1 or 2 came: the next packet answers this.
    send(&mut ws, r#"23["fine"]"#).await;
    assert_eq!(next(&mut ws).await, r#"33["unused"]"#);
    assert!(
        !ran.load(Ordering::SeqCst),
        "a handler ran without its extractors"
    );
}

// ----- 2. connect handlers -----

/// A connect handler reads the CONNECT's auth payload with `Data<T>` (or
/// `TryData<T>`, which runs when it does not fit).
#[tokio::test]
async fn connect_handler_reads_the_auth_payload() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef, Data(auth): Data<Auth>| {
        socket.emit("welcome", (auth.name, auth.token)).unwrap();
    });
    io.ns(
        "/checked",
        |socket: SocketRef, TryData(auth): TryData<Auth>, args: Args| {
            let verdict = match auth {
                Ok(auth) => format!("hello {}", auth.name),
                Err(_) => "bad auth".to_owned(),
            };
            socket.emit("verdict", (verdict, args.len())).unwrap();
        },
    );
    let addr = start(&io).await;

    let mut ws = connect_with(addr, "/", r#"{"name":"ann","token":"t"}"#).await;
    assert_eq!(next(&mut ws).await, r#"2["welcome","ann","t"]"#);
    // No payload: `{}`.
    let (mut ws, _) = connect(addr, "/").await;
    assert_eq!(next(&mut ws).await, r#"2["welcome","",""]"#);

    let mut ws = connect_with(addr, "/checked", r#"{"name":"bo"}"#).await;
    assert_eq!(next(&mut ws).await, r#"2/checked,["verdict","hello bo",1]"#);
    let mut ws = connect_with(addr, "/checked", r#"{"name":5}"#).await;
    assert_eq!(next(&mut ws).await, r#"2/checked,["verdict","bad auth",1]"#);
}

/// An async connect handler runs before the socket's events: those the
/// client sends right after CONNECT wait until it has finished (and
/// registered their handler after an await), and are not dropped.
#[tokio::test]
async fn async_connect_handler_runs_before_the_socket_s_events() {
    let gate = Arc::new(Semaphore::new(0));
    let order: Arc<Mutex<Vec<String>>> = Arc::default();
    let io = SocketIo::builder().build();
    let (g, o) = (gate.clone(), order.clone());
    io.ns("/", move |socket: SocketRef, Data(auth): Data<Auth>| {
        let (gate, order) = (g.clone(), o.clone());
        async move {
            gate.acquire().await.unwrap().forget();
            order
                .lock()
                .unwrap()
                .push(format!("connected {}", auth.name));
            let order = order.clone();
            socket.on(
                "hello",
                move |Data(n): Data<u32>, ack: Option<AckSender>| {
                    order.lock().unwrap().push(format!("hello {n}"));
                    ack.unwrap().send(n + 1).unwrap();
                },
            );
        }
    });
    // The same with an async closure that only yields.
    io.ns("/yield", async |socket: SocketRef| {
        tokio::task::yield_now().await;
        socket.on("hi", |ack: Option<AckSender>| {
            ack.unwrap().send("hi back").unwrap();
        });
    });
    side_namespace(&io);
    let addr = start(&io).await;

    let mut ws = connect_with(addr, "/", r#"{"name":"ann"}"#).await;
    join_side(&mut ws).await;
    send(&mut ws, r#"21["hello",1]"#).await;
    send(&mut ws, r#"22["hello",2]"#).await;
    barrier(&mut ws, 3).await;
    // The server has the events; the connect handler still waits.
    assert!(
        order.lock().unwrap().is_empty(),
        "{:?}",
        order.lock().unwrap()
    );
    gate.add_permits(1);
    assert_eq!(next(&mut ws).await, "31[2]");
    assert_eq!(next(&mut ws).await, "32[3]");
    assert_eq!(
        *order.lock().unwrap(),
        ["connected ann", "hello 1", "hello 2"]
    );

    let (mut ws, _) = connect(addr, "/yield").await;
    send(&mut ws, r#"2/yield,1["hi"]"#).await;
    assert_eq!(next(&mut ws).await, r#"3/yield,1["hi back"]"#);
}

/// Events the client sends right after CONNECT reach the handlers a sync
/// connect handler registers, also when an async middleware made the
/// server finish the CONNECT on a task of its own. To make the window
/// certain, the connect handler is held (on a multi-thread runtime) until
/// the server has read the client's next packets; the fix this assumes is
/// the one used for async connect handlers: the events wait for it, and
/// the task reading the client is not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_right_after_connect_wait_for_a_sync_connect_handler() {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: SocketRef| {
        let rx = release_rx.clone();
        tokio::task::block_in_place(|| {
            let _ = rx.lock().unwrap().recv_timeout(IO_TIMEOUT);
        });
        socket.on("hi", |ack: Option<AckSender>| {
            ack.unwrap().send("hi back").unwrap();
        });
    })
    .use_middleware(async || {
        tokio::task::yield_now().await;
        Ok::<(), ConnectError>(())
    });
    io.ns("/side", move |socket: SocketRef| {
        let tx = release_tx.clone();
        socket.on("release", move |ack: Option<AckSender>| {
            let _ = tx.send(());
            ack.unwrap().send("released").unwrap();
        });
    });
    let addr = start(&io).await;
    let mut ws = sio::open(addr).await;
    join_side(&mut ws).await;
    let reply = sio::join(&mut ws, "/", None).await;
    assert!(reply.starts_with(r#"{"sid":""#), "{reply}");
    send(&mut ws, r#"21["hi"]"#).await;
    send(&mut ws, r#"2/side,2["release"]"#).await;
    let mut got = vec![next(&mut ws).await, next(&mut ws).await];
    got.sort();
    assert_eq!(got, [r#"3/side,2["released"]"#, r#"31["hi back"]"#]);
}

// ----- 3. middlewares -----

/// An async middleware as a function: refuses a client without a name,
/// else stores its role in the socket's extensions.
#[allow(clippy::needless_pass_by_value)]
async fn name_required(socket: SocketRef, Data(auth): Data<Auth>) -> Result<(), ConnectError> {
    tokio::task::yield_now().await;
    if auth.name.is_empty() {
        return Err(ConnectError::new("who are you?"));
    }
    socket
        .extensions()
        .insert(Role(format!("admin {}", auth.name)));
    Ok(())
}

/// Sync and async middlewares take extractors (`Data<Auth>`, `State<T>`,
/// the socket); a refusal reaches the client as CONNECT_ERROR with its
/// message and data; what a middleware stores in the extensions, the
/// connect and event handlers read; a `Data<T>` that does not fit the
/// auth payload refuses with "invalid arguments".
#[tokio::test]
async fn middlewares_take_extractors_and_refuse_with_data() {
    let io = SocketIo::builder().with_state(Secret("letmein")).build();
    io.ns(
        "/admin",
        |socket: SocketRef, Extension(Role(role)): Extension<Role>| {
            socket.emit("role", role).unwrap();
            socket.on(
                "whoami",
                |Extension(Role(role)): Extension<Role>, ack: Option<AckSender>| {
                    ack.unwrap().send(role).unwrap();
                },
            );
        },
    )
    .use_middleware(
        |Data(auth): Data<Auth>,
         State(Secret(secret)): State<Secret>|
         -> Result<(), ConnectError> {
            if auth.token == secret {
                Ok(())
            } else {
                Err(ConnectError::new("unauthorized")
                    .with_data(serde_json::json!({"reason": "bad token", "got": auth.token}))?)
            }
        },
    )
    .use_middleware(name_required);
    let typed_ran = Arc::new(AtomicBool::new(false));
    let ran = typed_ran.clone();
    io.ns("/typed", move |_: SocketRef| {
        ran.store(true, Ordering::SeqCst);
    })
    .use_middleware(|Data(_): Data<Auth>| Ok(()));
    let addr = start(&io).await;
    let mut ws = sio::open(addr).await;

    // The sync middleware refuses, with data.
    send(&mut ws, r#"0/admin,{"name":"ann","token":"nope"}"#).await;
    assert_eq!(
        connect_error(&next(&mut ws).await, "/admin"),
        serde_json::json!({"message": "unauthorized", "data": {"reason": "bad token", "got": "nope"}})
    );
    // The sync one lets it through, the async one refuses.
    send(&mut ws, r#"0/admin,{"token":"letmein"}"#).await;
    assert_eq!(
        connect_error(&next(&mut ws).await, "/admin"),
        serde_json::json!({"message": "who are you?"})
    );
    // Both let it through; the async one stored the role.
    send(&mut ws, r#"0/admin,{"name":"ann","token":"letmein"}"#).await;
    assert!(next(&mut ws).await.starts_with(r#"0/admin,{"sid":""#));
    assert_eq!(next(&mut ws).await, r#"2/admin,["role","admin ann"]"#);
    send(&mut ws, r#"2/admin,1["whoami"]"#).await;
    assert_eq!(next(&mut ws).await, r#"3/admin,1["admin ann"]"#);

    // An auth payload that does not fit a middleware's `Data<T>` refuses.
    send(&mut ws, r#"0/typed,{"name":5}"#).await;
    let refusal = connect_error(&next(&mut ws).await, "/typed");
    let message = refusal["message"].as_str().unwrap();
    assert!(message.starts_with("invalid arguments"), "{refusal}");
    assert!(!typed_ran.load(Ordering::SeqCst));
    assert_eq!(io.get_namespace("/typed").unwrap().socket_count(), 0);
    // One that fits is let through.
    send(&mut ws, r#"0/typed,{"name":"x"}"#).await;
    assert!(next(&mut ws).await.starts_with(r#"0/typed,{"sid":""#));
}

/// `use_server_middleware` runs for every namespace (dynamic children
/// too) before the namespace's own; its refusal stops them.
#[tokio::test]
async fn server_middlewares_run_first_for_every_namespace() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let io = SocketIo::builder().build();
    let l = log.clone();
    io.use_server_middleware(move |socket: SocketRef, Data(auth): Data<Auth>| {
        l.lock().unwrap().push(format!("server {}", socket.nsp()));
        if auth.name == "blocked" {
            Err(ConnectError::new("blocked by server"))
        } else {
            Ok(())
        }
    });
    let l = log.clone();
    io.ns("/", |_: SocketRef| {})
        .use_middleware(move |socket: SocketRef| {
            l.lock().unwrap().push(format!("ns {}", socket.nsp()));
            Ok(())
        });
    let l = log.clone();
    io.ns("/a", |_: SocketRef| {})
        .use_middleware(move |socket: SocketRef| {
            let l = l.clone();
            async move {
                tokio::task::yield_now().await;
                l.lock().unwrap().push(format!("ns {}", socket.nsp()));
                Ok(())
            }
        });
    io.ns("/b", |_: SocketRef| {});
    let l = log.clone();
    io.dyn_ns("/room-{id}", |_: SocketRef| {})
        .use_middleware(move |socket: SocketRef| {
            l.lock().unwrap().push(format!("dyn {}", socket.nsp()));
            Ok(())
        });
    let addr = start(&io).await;
    let mut ws = sio::open(addr).await;

    for nsp in ["/", "/a", "/b", "/room-1"] {
        let reply = sio::join(&mut ws, nsp, None).await;
        assert!(reply.starts_with(r#"{"sid":""#), "{nsp}: {reply}");
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "server /",
            "ns /",
            "server /a",
            "ns /a",
            "server /b",
            "server /room-1",
            "dyn /room-1"
        ]
    );
    log.lock().unwrap().clear();
    let mut ws = sio::open(addr).await;
    send(&mut ws, r#"0/a,{"name":"blocked"}"#).await;
    assert_eq!(
        connect_error(&next(&mut ws).await, "/a"),
        serde_json::json!({"message": "blocked by server"})
    );
    assert_eq!(*log.lock().unwrap(), ["server /a"]);
}

// ----- 4. ordering -----

/// On one socket, a sync handler's event sent after an async handler's
/// runs once the async one has finished.
#[tokio::test]
async fn a_sync_event_after_an_async_one_waits_for_it() {
    let gate = Arc::new(Semaphore::new(0));
    let order: Arc<Mutex<Vec<String>>> = Arc::default();
    let io = SocketIo::builder().build();
    let (g, o) = (gate.clone(), order.clone());
    io.ns("/", move |socket: SocketRef| {
        let (gate, order) = (g.clone(), o.clone());
        socket.on("slow", move |Data(n): Data<u32>| {
            let (gate, order) = (gate.clone(), order.clone());
            async move {
                gate.acquire().await.unwrap().forget();
                order.lock().unwrap().push(format!("slow {n}"));
            }
        });
        let order = o.clone();
        socket.on("fast", move |Data(n): Data<u32>| {
            order.lock().unwrap().push(format!("fast {n}"));
        });
        socket.on("done", |ack: Option<AckSender>| {
            ack.unwrap().send("done").unwrap();
        });
    });
    side_namespace(&io);
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    join_side(&mut ws).await;

    send(&mut ws, r#"2["slow",1]"#).await;
    send(&mut ws, r#"2["fast",2]"#).await;
    send(&mut ws, r#"2["slow",3]"#).await;
    send(&mut ws, r#"2["fast",4]"#).await;
    send(&mut ws, r#"21["done"]"#).await;
    barrier(&mut ws, 9).await;
    // Every event reached the server; the first holds the others up.
    assert!(
        order.lock().unwrap().is_empty(),
        "{:?}",
        order.lock().unwrap()
    );
    gate.add_permits(2);
    assert_eq!(next(&mut ws).await, r#"31["done"]"#);
    assert_eq!(
        *order.lock().unwrap(),
        ["slow 1", "fast 2", "slow 3", "fast 4"]
    );
}

// ----- 5. disconnect handlers -----

/// The rooms of a socket as seen from a disconnect handler.
fn rooms_seen(socket: &SocketRef) -> String {
    let rooms = socket.rooms();
    format!(
        "lobby={} own={}",
        rooms.iter().any(|r| r == "lobby"),
        rooms.iter().any(|r| r == socket.id())
    )
}

/// Sync and async `on_disconnect` handlers get the reason (and other
/// extractors); `on_disconnecting` runs first, in the socket's rooms.
#[tokio::test]
async fn disconnect_handlers_sync_and_async() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: SocketRef| {
        socket.join("lobby");
        socket.extensions().insert(UserId(3));
        let t = tx.clone();
        socket.on_disconnecting(move |socket: SocketRef, reason: DisconnectReason| {
            t.send(format!("disconnecting {reason} {}", rooms_seen(&socket)))
                .unwrap();
        });
        let t = tx.clone();
        socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
            t.send(format!("sync {reason} {}", rooms_seen(&socket)))
                .unwrap();
        });
        let t = tx.clone();
        socket.on_disconnect(
            move |reason: DisconnectReason, Extension(UserId(id)): Extension<UserId>| {
                let t = t.clone();
                async move {
                    tokio::task::yield_now().await;
                    t.send(format!("async {reason} user {id}")).unwrap();
                }
            },
        );
    });
    let addr = start(&io).await;

    // The client leaves the namespace.
    let (mut a, _) = connect(addr, "/").await;
    send(&mut a, "1").await;
    assert_eq!(
        recv(&mut rx).await,
        "disconnecting client namespace disconnect lobby=true own=true"
    );
    assert_eq!(
        recv(&mut rx).await,
        "sync client namespace disconnect lobby=false own=false"
    );
    assert_eq!(
        recv(&mut rx).await,
        "async client namespace disconnect user 3"
    );

    // The transport goes away.
    let (b, _) = connect(addr, "/").await;
    drop(b);
    assert_eq!(
        recv(&mut rx).await,
        "disconnecting transport close lobby=true own=true"
    );
    assert_eq!(
        recv(&mut rx).await,
        "sync transport close lobby=false own=false"
    );
    assert_eq!(recv(&mut rx).await, "async transport close user 3");
}

/// An async `on_disconnecting` handler sees the rooms the socket is still
/// in, as a sync one does (it is documented as running "while it is still
/// in its rooms").
#[tokio::test]
async fn async_disconnecting_handler_sees_the_rooms() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: SocketRef| {
        socket.join("lobby");
        let t = tx.clone();
        socket.on_disconnecting(move |socket: SocketRef| {
            let t = t.clone();
            async move {
                t.send(rooms_seen(&socket)).unwrap();
            }
        });
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    send(&mut ws, "1").await;
    assert_eq!(recv(&mut rx).await, "lobby=true own=true");
}

// ----- 6. emits and their errors -----

/// `()` sends no value, a tuple one per element, any other value (a
/// `Vec`, a 1-tuple's element) one, and `Bytes` anywhere goes as binary.
#[tokio::test]
async fn emits_follow_the_argument_model() {
    let io = SocketIo::builder().build();
    let addr = start(&io).await;
    let (mut ws, sid) = connect(addr, "/").await;
    let socket = io.get_namespace("/").unwrap().socket(&sid).unwrap();

    socket.emit("none", ()).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["none"]"#);
    socket.emit("tuple", (1, "two", true)).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["tuple",1,"two",true]"#);
    socket.emit("vec", vec![1, 2, 3]).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["vec",[1,2,3]]"#);
    socket.emit("one", (vec![1, 2],)).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["one",[1,2]]"#);
    socket.emit("point", Point { x: 1, y: 2 }).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["point",{"x":1,"y":2}]"#);

    socket.emit("bin", Bytes::from_static(&[1, 2, 3])).unwrap();
    assert_eq!(
        next(&mut ws).await,
        r#"51-["bin",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(next_binary(&mut ws).await, [1, 2, 3].as_slice());
    socket
        .emit(
            "mixed",
            ("pic", Bytes::from_static(&[4]), Bytes::from_static(&[5, 6])),
        )
        .unwrap();
    assert_eq!(
        next(&mut ws).await,
        r#"52-["mixed","pic",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(next_binary(&mut ws).await, [4].as_slice());
    assert_eq!(next_binary(&mut ws).await, [5, 6].as_slice());
    // The same through a broadcast.
    io.emit("all", ((), 7)).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["all",null,7]"#);
}

/// An emit that does not serialize is `EmitError::Serialize` with its
/// cause as `source()`, and sends nothing; one on a socket that left is
/// `EmitError::Disconnected`, as is an `AckSender` answering after the
/// client left.
#[tokio::test]
async fn emit_errors() {
    let (gone_tx, mut gone) = mpsc::unbounded_channel::<()>();
    let (ack_tx, mut acks) = mpsc::unbounded_channel::<AckSender>();
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: SocketRef| {
        let t = gone_tx.clone();
        socket.on_disconnect(move || t.send(()).unwrap());
        let t = ack_tx.clone();
        socket.on("later", move |ack: Option<AckSender>| {
            t.send(ack.unwrap()).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut ws, sid) = connect(addr, "/").await;
    let socket = io.get_namespace("/").unwrap().socket(&sid).unwrap();

    let bad: HashMap<Vec<u8>, u8> = HashMap::from([(vec![1], 1)]);
    let err = socket.emit("bad", &bad).unwrap_err();
    assert!(matches!(err, EmitError::Serialize(_)), "{err:?}");
    assert!(err.source().is_some(), "{err:?}");
    let err = socket.emit("bad", Unserializable).unwrap_err();
    assert!(matches!(err, EmitError::Serialize(_)), "{err:?}");
    let cause = err.source().expect("a source").to_string();
    assert!(cause.contains("refuses to serialize"), "{cause}");
    let err = socket.emit("bad", ("fine", Unserializable)).unwrap_err();
    assert!(matches!(err, EmitError::Serialize(_)), "{err:?}");
    let err = socket
        .emit_with_ack::<Args>("bad", Unserializable)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AckError::Emit(EmitError::Serialize(_))),
        "{err:?}"
    );
    let err = io.emit("bad", Unserializable).unwrap_err();
    assert!(matches!(err, EmitError::Serialize(_)), "{err:?}");
    // Nothing of them went out.
    socket.emit("ok", ()).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["ok"]"#);

    // An answer while connected goes out.
    send(&mut ws, r#"21["later"]"#).await;
    recv(&mut acks).await.send("now").unwrap();
    assert_eq!(next(&mut ws).await, r#"31["now"]"#);
    // One kept until the client left fails.
    send(&mut ws, r#"22["later"]"#).await;
    let ack = recv(&mut acks).await;
    send(&mut ws, "1").await;
    recv(&mut gone).await;
    assert!(!socket.connected());
    let err = ack.send("too late").unwrap_err();
    assert!(matches!(err, EmitError::Disconnected), "{err:?}");
    let err = socket.emit("late", ()).unwrap_err();
    assert!(matches!(err, EmitError::Disconnected), "{err:?}");
    let err = socket.emit_with_ack::<Args>("late", ()).await.unwrap_err();
    assert!(
        matches!(err, AckError::Emit(EmitError::Disconnected)),
        "{err:?}"
    );
}

/// `emit_with_ack::<T>` reads the answer as `T` by the argument model; an
/// answer of another shape is `AckError::Data`.
#[tokio::test]
async fn emit_with_ack_is_typed() {
    let io = SocketIo::builder().build();
    let addr = start(&io).await;
    let (mut ws, sid) = connect(addr, "/").await;
    let socket = io.get_namespace("/").unwrap().socket(&sid).unwrap();

    let s = socket.clone();
    let asked = tokio::spawn(async move {
        s.timeout(IO_TIMEOUT)
            .emit_with_ack::<(String, u32)>("q", "typed?")
            .await
    });
    let packet = next(&mut ws).await;
    let (id, data) = ack_request(&packet);
    assert_eq!(data, r#"["q","typed?"]"#);
    send(&mut ws, &format!(r#"3{id}["ok",5]"#)).await;
    assert_eq!(asked.await.unwrap().unwrap(), ("ok".to_owned(), 5));

    let s = socket.clone();
    let asked = tokio::spawn(async move {
        s.timeout(IO_TIMEOUT)
            .emit_with_ack::<u32>("q", ("number?", 1))
            .await
    });
    let packet = next(&mut ws).await;
    let (id, data) = ack_request(&packet);
    assert_eq!(data, r#"["q","number?",1]"#);
    send(&mut ws, &format!(r#"3{id}[{{"not":"a number"}}]"#)).await;
    let err = asked.await.unwrap().unwrap_err();
    assert!(matches!(err, AckError::Data(_)), "{err:?}");

    // `()` takes an answer with no value.
    let s = socket.clone();
    let asked =
        tokio::spawn(async move { s.timeout(IO_TIMEOUT).emit_with_ack::<()>("q", ()).await });
    let packet = next(&mut ws).await;
    let (id, data) = ack_request(&packet);
    assert_eq!(data, r#"["q"]"#);
    send(&mut ws, &format!("3{id}[]")).await;
    asked.await.unwrap().unwrap();
}

/// A broadcast's `emit_with_ack::<T>` gathers every receiver's answer as
/// `T`; a broadcast reaching no socket is `Ok`.
#[tokio::test]
async fn broadcast_acks_and_empty_broadcasts() {
    let io = SocketIo::builder().build();
    let addr = start(&io).await;
    let (mut a, _) = connect(addr, "/").await;
    let (mut b, _) = connect(addr, "/").await;

    let ns = io.of("/");
    let asked = tokio::spawn(async move {
        ns.timeout(IO_TIMEOUT)
            .emit_with_ack::<String>("who", ())
            .await
    });
    for (ws, name) in [(&mut a, "a"), (&mut b, "b")] {
        let packet = next(ws).await;
        let (id, data) = ack_request(&packet);
        assert_eq!(data, r#"["who"]"#);
        send(ws, &format!(r#"3{id}["{name}"]"#)).await;
    }
    let mut names = asked.await.unwrap().unwrap();
    names.sort();
    assert_eq!(names, ["a", "b"]);

    // One answer of another shape.
    let ns = io.of("/");
    let asked =
        tokio::spawn(async move { ns.timeout(IO_TIMEOUT).emit_with_ack::<u32>("n", ()).await });
    for (ws, answer) in [(&mut a, "1"), (&mut b, r#""two""#)] {
        let packet = next(ws).await;
        let (id, _) = ack_request(&packet);
        send(ws, &format!("3{id}[{answer}]")).await;
    }
    let err = asked.await.unwrap().unwrap_err();
    assert!(matches!(err, BroadcastAckError::Data { .. }), "{err:?}");

    // Nobody there.
    io.of("/empty").emit("x", 1).unwrap();
    io.to("nobody").emit("x", ()).unwrap();
    io.of("/").to("nobody").emit("x", ()).unwrap();
    let none = io
        .to("nobody")
        .timeout(IO_TIMEOUT)
        .emit_with_ack::<String>("x", ())
        .await
        .unwrap();
    assert!(none.is_empty());
    let none = io
        .of("/empty")
        .timeout(IO_TIMEOUT)
        .emit_with_ack::<String>("x", ())
        .await
        .unwrap();
    assert!(none.is_empty());
    // Nothing reached the connected clients.
    io.emit("after", ()).unwrap();
    assert_eq!(next(&mut a).await, r#"2["after"]"#);
    assert_eq!(next(&mut b).await, r#"2["after"]"#);
}

// ----- 7. namespaces and socket data -----

/// `io.of("/x")` creates the namespace (clients may connect, without a
/// connect handler); `on_connect` on it applies to the sockets that come
/// next; `get_namespace` creates nothing.
#[tokio::test]
async fn of_creates_the_namespace() {
    let io = SocketIo::builder().build();
    let addr = start(&io).await;
    assert!(io.get_namespace("/x").is_none());
    let mut ws = sio::open(addr).await;
    send(&mut ws, "0/x,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/x,{"message":"Invalid namespace"}"#
    );
    assert!(io.get_namespace("/x").is_none());

    let x = io.of("/x");
    assert_eq!(x.name(), "/x");
    assert!(io.get_namespace("/x").is_some());
    let reply = sio::join(&mut ws, "/x", None).await;
    assert!(reply.starts_with(r#"{"sid":""#), "{reply}");
    assert_eq!(io.get_namespace("/x").unwrap().socket_count(), 1);

    x.on_connect(|socket: SocketRef, Data(auth): Data<Auth>| {
        socket.emit("hello", auth.name).unwrap();
    });
    let mut ws2 = connect_with(addr, "/x", r#"{"name":"bo"}"#).await;
    assert_eq!(next(&mut ws2).await, r#"2/x,["hello","bo"]"#);
    assert_eq!(x.socket_count(), 2);
    assert!(io.get_namespace("/never").is_none());
}

/// `SocketRef::data::<T>()`: `Ok(None)` before `set_data`, the value
/// after (in handlers too), an error for a type it does not fit.
#[tokio::test]
async fn socket_data() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on("profile", |socket: SocketRef, ack: Option<AckSender>| {
            let profile = socket.data::<Profile>().unwrap();
            ack.unwrap().send(profile).unwrap();
        });
    });
    let addr = start(&io).await;
    let (mut ws, sid) = connect(addr, "/").await;
    let socket = io.get_namespace("/").unwrap().socket(&sid).unwrap();

    assert!(matches!(socket.data::<Profile>(), Ok(None)));
    send(&mut ws, r#"21["profile"]"#).await;
    assert_eq!(next(&mut ws).await, "31[null]");

    let profile = Profile {
        name: "ann".to_owned(),
        level: 3,
    };
    socket.set_data(&profile).unwrap();
    assert_eq!(socket.data::<Profile>().unwrap(), Some(profile));
    assert!(socket.data::<u32>().is_err());
    send(&mut ws, r#"22["profile"]"#).await;
    assert_eq!(next(&mut ws).await, r#"32[{"name":"ann","level":3}]"#);
}
