//! RELIABILITY.md section 4, cases 25 to 30: hostile Socket.IO input over
//! real sockets. Every case checks what the client sees (a WebSocket
//! closed with 1008, policy violation, for anything that breaks the
//! protocol; the reference's answers where the protocol has one), that no
//! event handler (nor `on_any`) ran for the offender, and that a control
//! client connected to the same server all along still gets its answers.
//! Also case 23: socket ids are not Engine.IO ids, and the latter stay
//! private.

mod sio;
mod support;

use std::fmt::Display;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sio::{Ws, next, send};
use sockio_core::engine::EngineConfig;
use sockio_core::socket::{
    Args, DecoderConfig, Packet, PacketKind, Parser, RESERVED_EVENTS, decode_msgpack,
    encode_msgpack,
};
use sockio_server::socketio::{
    AckError, AckSender, ConnectError, Data, DisconnectReason, Event, SocketIo, SocketIoBuilder,
    SocketRef,
};
use sockio_ws::{Config, Message};
use support::{Conn, get, post};

// ----- the server under test -----

/// What ran on the server: `(socket id, what)`, in order. Event handlers
/// log `on:<event>`, the catch-all `any:<event>`, middlewares
/// `middleware`, connect handlers `connected`, disconnect handlers
/// `disconnect:<reason>`.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(String, String)>>>);

impl Log {
    fn push(&self, socket: &SocketRef, what: impl Display) {
        self.0
            .lock()
            .unwrap()
            .push((socket.id().to_owned(), what.to_string()));
    }

    /// Event handlers (`on:…`, `any:…`) that ran for anyone but the
    /// sockets `allowed`.
    fn handlers_except(&self, allowed: &[&str]) -> Vec<(String, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, what)| {
                !allowed.contains(&id.as_str())
                    && (what.starts_with("on:") || what.starts_with("any:"))
            })
            .cloned()
            .collect()
    }

    /// What ran for socket `id`.
    fn of(&self, id: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, what)| what.clone())
            .collect()
    }

    fn count(&self, what: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, w)| w == what)
            .count()
    }
}

/// A server whose namespaces log everything that runs: `/` has a handler
/// for every reserved name and for `error`, plus `echo` (answers its ack
/// with its arguments), `number` (typed: one `f64`; values that do not fit
/// skip it and go to `on_error`, logged `error:<why>`) and a catch-all;
/// `/admin` has a middleware, `echo` and a catch-all.
struct Server {
    io: SocketIo,
    addr: SocketAddr,
    log: Log,
    /// The sockets of `/`, as they connected.
    sockets: Arc<Mutex<Vec<SocketRef>>>,
}

impl Server {
    async fn start(builder: SocketIoBuilder) -> Self {
        let io = builder.build();
        let log = Log::default();
        let sockets: Arc<Mutex<Vec<SocketRef>>> = Arc::default();
        let (l, all) = (log.clone(), sockets.clone());
        io.ns("/", move |socket: SocketRef| {
            l.push(&socket, "connected");
            all.lock().unwrap().push(socket.clone());
            for name in RESERVED_EVENTS.into_iter().chain(["error"]) {
                let l = l.clone();
                socket.on(name, move |s: SocketRef| l.push(&s, format!("on:{name}")));
            }
            watch_common(&socket, &l);
            let l2 = l.clone();
            socket.on(
                "number",
                move |s: SocketRef, Data(n): Data<f64>, ack: Option<AckSender>| {
                    l2.push(&s, "on:number");
                    ack.unwrap().send(n).unwrap();
                },
            );
            // Values a typed handler cannot read skip it and come here.
            let l3 = l.clone();
            socket.on_error(move |s, error| l3.push(s, format!("error:{error}")));
        });
        let l = log.clone();
        let admin = io.ns("/admin", move |socket: SocketRef| {
            l.push(&socket, "connected");
            watch_common(&socket, &l);
        });
        let l = log.clone();
        admin.use_middleware(move |socket: SocketRef| {
            l.push(&socket, "middleware");
            Ok(())
        });
        let listener = sockio_server::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(sockio_server::serve(
            listener,
            io.service(),
            std::future::pending(),
        ));
        Self {
            io,
            addr,
            log,
            sockets,
        }
    }

    /// A WebSocket with its Engine.IO session open (no namespace yet).
    async fn open(&self) -> Ws {
        self.open_with_sid().await.0
    }

    /// A WebSocket with its Engine.IO session open, and the session id
    /// of its open packet.
    async fn open_with_sid(&self) -> (Ws, String) {
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", self.addr);
        let (mut ws, _) = sockio_ws::connect(&url, &Config::default()).await.unwrap();
        let sid = match ws.next().await {
            Some(Ok(Message::Text(open))) => support::sid_of_open_packet(open.as_bytes()),
            other => panic!("no open packet: {other:?}"),
        };
        (ws, sid)
    }

    /// A WebSocket connected to `nsp`, and its socket id.
    async fn connect(&self, nsp: &str) -> (Ws, String) {
        let mut ws = self.open().await;
        let sid = self.join(&mut ws, nsp).await;
        (ws, sid)
    }

    /// Connects the open session `ws` to `nsp`; returns the socket id of
    /// the CONNECT reply.
    async fn join(&self, ws: &mut Ws, nsp: &str) -> String {
        let prefix = if nsp == "/" {
            String::new()
        } else {
            format!("{nsp},")
        };
        send(ws, &format!("0{prefix}")).await;
        let reply = next(ws).await;
        reply
            .strip_prefix(&format!("0{prefix}{{\"sid\":\""))
            .unwrap_or_else(|| panic!("{reply}"))
            .trim_end_matches("\"}")
            .to_owned()
    }

    /// The control client: connected before the abuse starts.
    async fn control(&self) -> Control {
        let (ws, sid) = self.connect("/").await;
        Control { ws, sid, acks: 0 }
    }

    /// Asserts that no event handler nor catch-all ran for anyone but the
    /// sockets `allowed` (the control client, legitimate ones).
    #[track_caller]
    fn assert_no_handler_ran(&self, allowed: &[&str]) {
        assert_eq!(self.log.handlers_except(allowed), []);
    }

    /// Waits until only `n` clients are left (the closed ones are gone).
    async fn until_clients(&self, n: usize) {
        until(|| self.io.client_count() == n).await;
    }
}

fn watch_common(socket: &SocketRef, log: &Log) {
    let l = log.clone();
    socket.on(
        "echo",
        move |s: SocketRef, args: Args, ack: Option<AckSender>| {
            l.push(&s, "on:echo");
            if let Some(ack) = ack {
                // The client may be gone already (abusive cases).
                let _ = ack.send(args);
            }
        },
    );
    let l = log.clone();
    socket.on_any(move |s: SocketRef, Event(name): Event| {
        l.push(&s, format!("any:{name}"));
    });
    let l = log.clone();
    socket.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
        l.push(&s, format!("disconnect:{reason}"));
    });
}

/// A client that stays connected through the abuse, and checks it still
/// gets its answers.
struct Control {
    ws: Ws,
    sid: String,
    acks: u64,
}

impl Control {
    /// Sends an `echo` with an ack and expects the answer.
    async fn assert_alive(&mut self) {
        self.acks += 1;
        let id = self.acks;
        send(&mut self.ws, &format!(r#"2{id}["echo","alive {id}"]"#)).await;
        assert_eq!(next(&mut self.ws).await, format!(r#"3{id}["alive {id}"]"#));
    }

    /// Sends `packet` and returns the next packet it gets.
    async fn ask(&mut self, packet: &str) -> String {
        send(&mut self.ws, packet).await;
        next(&mut self.ws).await
    }
}

// ----- a raw client -----

/// The next binary message, answering pings.
async fn next_binary(ws: &mut Ws) -> Bytes {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if &*t == "2" => ws.send(Message::text("3")).await.unwrap(),
            Some(Ok(Message::Binary(b))) => return b,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Reads until the server closes the WebSocket (answering pings, and
/// failing on any message) and returns the close code.
async fn close_code(ws: &mut Ws, what: &str) -> u16 {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if &*t == "2" => {
                let _ = ws.send(Message::text("3")).await;
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| f.code.0);
                // The close handshake completes and the connection ends.
                while let Some(Ok(_)) = ws.next().await {}
                return code;
            }
            other => panic!("{what}: expected a close frame, got {other:?}"),
        }
    }
}

/// Asserts that the server closes `ws` with 1008.
async fn assert_policy_close(ws: &mut Ws, what: &str) {
    assert_eq!(close_code(ws, what).await, 1008, "{what}");
}

/// Yields until `cond` holds.
async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

/// The arguments as JSON text.
fn strings(args: &Args) -> Vec<&str> {
    args.iter().map(|a| a.as_str()).collect()
}

/// A placeholder for attachment `n`.
fn placeholder(n: usize) -> String {
    format!(r#"{{"_placeholder":true,"num":{n}}}"#)
}

// ----- case 23 -----

/// Whether `text` holds 13 or more consecutive characters of the session
/// id `sid` (12 may be shown, as the admin UI does, no more).
fn leaks(text: &str, sid: &str) -> bool {
    (0..=sid.len() - 13).any(|i| text.contains(&sid[i..i + 13]))
}

/// Asserts the shape of an id: 20 characters of URL-safe base64.
#[track_caller]
fn assert_id_shape(id: &str) {
    assert_eq!(id.len(), 20, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{id}"
    );
}

/// RELIABILITY 23: a socket id (the `sid` of the CONNECT reply
/// `40{"sid":…}`) is not the Engine.IO session id (the `sid` of the open
/// packet `0{"sid":…}`), per namespace and over both transports, and is
/// what the server's API calls the socket; the Engine.IO ids never reach
/// another client: not in what an application broadcasts about sockets
/// (`fetch_sockets` ids, rooms and handshakes, `socket.id` and rooms in a
/// broadcast), over WebSocket or long-polling.
#[tokio::test]
async fn case_23_socket_ids_are_not_engine_io_ids() {
    let server = Server::start(SocketIo::builder()).await;
    // A WebSocket client that watches what others get.
    let (mut watcher, watcher_eio) = server.open_with_sid().await;
    let watcher_sio = server.join(&mut watcher, "/").await;
    // A WebSocket client on `/` and on `/admin`.
    let (mut ws, ws_eio) = server.open_with_sid().await;
    let ws_sio = server.join(&mut ws, "/").await;
    let ws_admin = server.join(&mut ws, "/admin").await;
    // A long-polling client: its Engine.IO id is in every request URL.
    let poll_eio = polling_handshake(server.addr).await;
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={poll_eio}");
    http(server.addr, post(&path, &[], b"40"))
        .await
        .assert_post_ok();
    let reply = http(server.addr, get(&path, &[])).await;
    let reply = String::from_utf8(reply.body).unwrap();
    let poll_sio = reply
        .strip_prefix("40{\"sid\":\"")
        .and_then(|r| r.strip_suffix("\"}"))
        .unwrap_or_else(|| panic!("not a CONNECT reply: {reply}"))
        .to_owned();

    let eio = [&watcher_eio, &ws_eio, &poll_eio];
    let sio = [&watcher_sio, &ws_sio, &ws_admin, &poll_sio];
    for id in eio.iter().chain(&sio) {
        assert_id_shape(id);
    }
    let mut all: Vec<&String> = eio.iter().chain(&sio).copied().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 7, "every id is distinct: {all:?}");
    for id in &sio {
        for e in &eio {
            assert!(!leaks(id, e), "socket id {id} holds Engine.IO id {e}");
        }
    }
    // The server's API knows the sockets by their socket ids.
    let mut local: Vec<String> = server
        .sockets
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.id().to_owned())
        .collect();
    local.sort();
    let mut expected = vec![watcher_sio.clone(), ws_sio.clone(), poll_sio.clone()];
    expected.sort();
    assert_eq!(local, expected);

    // What an application tells everyone about the sockets.
    let describe = |fetched: Vec<sockio_server::socketio::RemoteSocket>| {
        fetched
            .iter()
            .map(|s| {
                let handshake: serde_json::Value =
                    serde_json::from_str(s.handshake().as_str()).unwrap();
                serde_json::json!({"id": s.id(), "rooms": s.rooms(), "handshake": handshake})
            })
            .collect::<Vec<_>>()
    };
    let main = describe(server.io.fetch_sockets().await.unwrap());
    let admin = describe(server.io.of("/admin").fetch_sockets().await.unwrap());
    server.io.emit("sockets", main).unwrap();
    server.io.emit("admin", admin).unwrap();
    let sender = server.io.of("/").socket(&ws_sio).unwrap();
    let hello = serde_json::json!({"from": sender.id(), "rooms": sender.rooms()});
    sender.broadcast().emit("hello", hello).unwrap();

    // The watcher gets all three; they name the sockets by socket id only.
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next(&mut watcher).await);
    }
    assert!(seen[0].starts_with(r#"2["sockets","#), "{}", seen[0]);
    assert!(seen[1].starts_with(r#"2["admin","#), "{}", seen[1]);
    assert!(seen[2].starts_with(r#"2["hello","#), "{}", seen[2]);
    for id in [&watcher_sio, &ws_sio, &poll_sio] {
        assert!(seen[0].contains(id.as_str()), "{id} listed: {}", seen[0]);
    }
    assert!(seen[1].contains(ws_admin.as_str()), "{}", seen[1]);
    assert!(seen[2].contains(ws_sio.as_str()), "{}", seen[2]);
    // The polling client gets them too, over HTTP.
    let mut polled = String::new();
    for _ in 0..10 {
        let res = http(server.addr, get(&path, &[])).await;
        assert_eq!(res.status, 200, "{res:?}");
        polled.push_str(std::str::from_utf8(&res.body).unwrap());
        polled.push('\u{1e}');
        if polled.contains(r#"42["hello","#) {
            break;
        }
    }
    assert!(polled.contains(r#"42["sockets","#), "{polled}");
    assert!(polled.contains(r#"42["hello","#), "{polled}");
    for (who, got, own) in [
        ("watcher", seen.join("\n"), &watcher_eio),
        ("polling client", polled, &poll_eio),
    ] {
        for e in eio.iter().filter(|e| **e != own) {
            assert!(!leaks(&got, e), "{who} got Engine.IO id {e}: {got}");
        }
    }
}

// ----- case 25 -----

/// RELIABILITY 25: malformed packets close the transport with 1008 and no
/// handler runs; over long-polling the session ends as for any server
/// close (the next poll gets the close packet).
#[tokio::test]
async fn case_25_malformed_packets() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let malformed = [
        // Engine.IO messages: `4` then the Socket.IO packet.
        "4abc",                        // unknown packet type `a`
        "4",                           // empty packet
        "49",                          // unknown packet type 9
        "44abc",                       // CONNECT_ERROR, not JSON
        r#"44{"message":"x"}"#,        // CONNECT_ERROR: never from a client
        "42{}",                        // EVENT with an object
        "42[]",                        // EVENT without a name
        r#"42abc["x"]"#,               // garbage before the array
        r#"42[{"toString":"foo"}]"#,   // name not a string (CVE-2023-32695)
        "42[1.5e400]",                 // name a number
        r#"42/admin["x"]"#,            // namespace not ended by `,`
        r#"42["x"]garbage"#,           // trailing garbage
        r#"42["x"]]"#,                 // trailing bracket
        r#"42["x""#,                   // truncated
        r#"42["x",]"#,                 // not JSON
        "42",                          // EVENT without payload
        r#"43["x"]"#,                  // ACK without id
        "41x",                         // DISCONNECT with a payload
        r#"42/other,["x"]"#,           // a namespace never joined
        r#"40/admin,{"a":1}trailing"#, // CONNECT with trailing data
        // Not even Engine.IO: the same close code.
        "",  // no packet type
        "9", // unknown Engine.IO packet type
        "x",
        "0{}", // an open packet from the client
    ];
    for bad in malformed {
        let (mut ws, _) = server.connect("/").await;
        ws.send(Message::text(bad)).await.unwrap();
        assert_policy_close(&mut ws, bad).await;
        control.assert_alive().await;
    }
    server.assert_no_handler_ran(&[&control.sid]);
    server.until_clients(1).await;
    // Every offender's socket ended because its connection was closed
    // (a forced close for Socket.IO violations, a parse error for
    // Engine.IO ones, as in the reference), not as anything its packets
    // said.
    for socket in server.sockets.lock().unwrap().iter().skip(1) {
        let log = server.log.of(socket.id());
        assert!(
            log == ["connected", "disconnect:forced close"]
                || log == ["connected", "disconnect:parse error"],
            "{log:?}"
        );
    }

    // Long-polling: the POST is taken, the session ends, the next poll
    // gets the close packet and the one after finds no session.
    let sid = polling_handshake(server.addr).await;
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let ok = http(server.addr, post(&path, &[], b"40")).await;
    ok.assert_post_ok();
    let connected = http(server.addr, get(&path, &[])).await;
    assert!(
        connected.body.starts_with(b"40{\"sid\":\""),
        "{connected:?}"
    );
    http(server.addr, post(&path, &[], b"42{}"))
        .await
        .assert_post_ok();
    http(server.addr, get(&path, &[]))
        .await
        .assert_payload(b"1");
    http(server.addr, get(&path, &[]))
        .await
        .assert_json_error(400, 1, "Session ID unknown", &[]);
    server.assert_no_handler_ran(&[&control.sid]);
    control.assert_alive().await;
}

async fn http(addr: SocketAddr, request: Vec<u8>) -> support::Response {
    let mut conn = Conn::connect(addr).await;
    conn.send(request).await;
    conn.response().await
}

async fn polling_handshake(addr: SocketAddr) -> String {
    let res = http(addr, get("/socket.io/?EIO=4&transport=polling", &[])).await;
    assert_eq!(res.status, 200, "{res:?}");
    support::sid_of_open_packet(&res.body)
}

// ----- case 26 -----

/// RELIABILITY 26: reserved event names from the client never reach a
/// handler, not even a handler registered under that name nor the
/// catch-all: the packet is refused (as the reference parser does) and
/// the transport closed with 1008. `error`, which has no lifecycle
/// meaning on this server, is an ordinary event.
#[tokio::test]
async fn case_26_reserved_event_names() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    for name in RESERVED_EVENTS {
        for (nsp, packet) in [
            ("/", format!(r#"2["{name}"]"#)),
            ("/", format!(r#"27["{name}","x"]"#)),
            ("/", format!(r#"51-["{name}",{}]"#, placeholder(0))),
            ("/admin", format!(r#"2/admin,["{name}"]"#)),
        ] {
            let (mut ws, _) = server.connect(nsp).await;
            send(&mut ws, &packet).await;
            assert_policy_close(&mut ws, &packet).await;
        }
        control.assert_alive().await;
    }
    server.assert_no_handler_ran(&[&control.sid]);
    // `error` goes to its handler, or to the catch-all where there is
    // none, and the connection goes on.
    let (mut ws, sid) = server.connect("/").await;
    send(&mut ws, r#"2["error","boom"]"#).await;
    send(&mut ws, r#"21["echo","still open"]"#).await;
    assert_eq!(next(&mut ws).await, r#"31["still open"]"#);
    assert_eq!(server.log.of(&sid), ["connected", "on:error", "on:echo"]);
    let (mut ws, sid) = server.connect("/admin").await;
    send(&mut ws, r#"2/admin,["error"]"#).await;
    send(&mut ws, r#"2/admin,1["echo","still open"]"#).await;
    assert_eq!(next(&mut ws).await, r#"3/admin,1["still open"]"#);
    assert_eq!(
        server.log.of(&sid),
        ["middleware", "connected", "any:error", "on:echo"]
    );
    control.assert_alive().await;
}

// ----- case 27 -----

/// RELIABILITY 27: attachment counts, placeholders, interleaved text and
/// binary, and the total size. Bad counts close before anything is
/// buffered; bad placeholders as soon as the text arrives; the sum of a
/// packet's attachments is bounded by maxPayload.
#[tokio::test]
async fn case_27_attachments() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let huge_count = format!(r#"5{}-["x",{}]"#, "9".repeat(100_000), placeholder(0));
    let texts = [
        // Counts: over the limit of 10, absurd, negative, not digits.
        format!(r#"511-["x",{}]"#, placeholder(0)),
        format!(r#"51000000000000-["x",{}]"#, placeholder(0)),
        huge_count,
        format!(r#"5-5-["x",{}]"#, placeholder(0)),
        format!(r#"5a-["x",{}]"#, placeholder(0)),
        format!(r#"50-["x",{}]"#, placeholder(0)),
        r#"5-["x"]"#.to_owned(),
        // Placeholders: num a string, negative, out of range, fractional,
        // missing; extra keys.
        r#"51-["x",{"_placeholder":true,"num":"0"}]"#.to_owned(),
        r#"51-["x",{"_placeholder":true,"num":-1}]"#.to_owned(),
        r#"51-["x",{"_placeholder":true,"num":1}]"#.to_owned(),
        r#"51-["x",{"_placeholder":true,"num":0.5}]"#.to_owned(),
        r#"51-["x",{"_placeholder":true}]"#.to_owned(),
        r#"51-["x",{"_placeholder":true,"num":0,"splice":1}]"#.to_owned(),
        r#"61-1[{"_placeholder":true,"num":"splice"}]"#.to_owned(),
    ];
    for text in &texts {
        let (mut ws, _) = server.connect("/").await;
        send(&mut ws, text).await;
        assert_policy_close(&mut ws, &text[..text.len().min(60)]).await;
    }
    control.assert_alive().await;

    // A text packet while attachments are pending.
    let (mut ws, _) = server.connect("/").await;
    send(
        &mut ws,
        &format!(r#"52-["x",{},{}]"#, placeholder(0), placeholder(1)),
    )
    .await;
    ws.send(Message::binary(vec![1u8; 10])).await.unwrap();
    send(&mut ws, r#"2["echo"]"#).await;
    assert_policy_close(&mut ws, "text while pending").await;
    // Binary while nothing is pending.
    let (mut ws, _) = server.connect("/").await;
    ws.send(Message::binary(vec![1u8; 10])).await.unwrap();
    assert_policy_close(&mut ws, "unannounced binary").await;
    // Attachments over maxPayload (1 MB) in total, each under it.
    let (mut ws, _) = server.connect("/").await;
    send(
        &mut ws,
        &format!(r#"52-["x",{},{}]"#, placeholder(0), placeholder(1)),
    )
    .await;
    ws.send(Message::binary(vec![1u8; 600_000])).await.unwrap();
    ws.send(Message::binary(vec![2u8; 600_000])).await.unwrap();
    assert_policy_close(&mut ws, "attachments over maxPayload").await;
    control.assert_alive().await;
    server.assert_no_handler_ran(&[&control.sid]);

    // Within the limits, binary goes through (echoed in a binary ack).
    let text = format!(r#"51-9["echo",{}]"#, placeholder(0));
    send(&mut control.ws, &text).await;
    control
        .ws
        .send(Message::binary(vec![7u8; 600_000]))
        .await
        .unwrap();
    assert_eq!(
        next(&mut control.ws).await,
        format!("61-9[{}]", placeholder(0))
    );
    assert_eq!(next_binary(&mut control.ws).await, vec![7u8; 600_000]);
    server.until_clients(1).await;
}

/// RELIABILITY 27, attachments never sent: the packet waiting for them is
/// dropped and the connection closed (1008) once the attachment timeout
/// passes, on the session's own timer. Virtual time.
#[tokio::test(start_paused = true)]
async fn case_27_attachments_never_sent() {
    let timeout = Duration::from_secs(5);
    let server = Server::start(SocketIo::builder().attachment_timeout(timeout)).await;
    let mut control = server.control().await;
    let (mut ws, _) = server.connect("/").await;
    let started = tokio::time::Instant::now();
    send(
        &mut ws,
        &format!(r#"52-["x",{},{}]"#, placeholder(0), placeholder(1)),
    )
    .await;
    ws.send(Message::binary(vec![1u8; 10])).await.unwrap();
    assert_policy_close(&mut ws, "attachments never sent").await;
    let waited = started.elapsed();
    assert!(
        waited >= timeout && waited < timeout + Duration::from_secs(1),
        "{waited:?}"
    );
    control.assert_alive().await;
    // A binary packet completed in time leaves nothing to expire.
    send(
        &mut control.ws,
        &format!(r#"51-1["echo",{}]"#, placeholder(0)),
    )
    .await;
    control
        .ws
        .send(Message::binary(vec![3u8; 4]))
        .await
        .unwrap();
    assert_eq!(
        next(&mut control.ws).await,
        format!("61-1[{}]", placeholder(0))
    );
    assert_eq!(next_binary(&mut control.ws).await, vec![3u8; 4]);
    tokio::time::sleep(timeout * 2).await;
    control.assert_alive().await;
    server.assert_no_handler_ran(&[&control.sid]);
}

// ----- case 28 -----

/// RELIABILITY 28, ids from the client: anything but 0 to 2^53 - 1 in
/// plain digits closes the transport; the largest id is answered.
#[tokio::test]
async fn case_28_invalid_ack_ids() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let digits25 = "1234567890123456789012345";
    for bad in [
        format!(r#"2{digits25}["echo"]"#),
        format!(r#"3{digits25}["x"]"#),
        r#"2+1["echo"]"#.to_owned(),
        r#"2-1["echo"]"#.to_owned(),
        r#"3+1["x"]"#.to_owned(),
        r#"3-1["x"]"#.to_owned(),
        r#"29007199254740992["echo"]"#.to_owned(), // 2^53
        r#"39007199254740992["x"]"#.to_owned(),
        r#"218446744073709551616["echo"]"#.to_owned(), // 2^64
        r#"21.5["echo"]"#.to_owned(),
        r#"21e3["echo"]"#.to_owned(),
    ] {
        let (mut ws, _) = server.connect("/").await;
        send(&mut ws, &bad).await;
        assert_policy_close(&mut ws, &bad).await;
    }
    server.assert_no_handler_ran(&[&control.sid]);
    assert_eq!(
        control.ask(r#"29007199254740991["echo","max"]"#).await,
        r#"39007199254740991["max"]"#
    );
    control.assert_alive().await;
}

/// RELIABILITY 28, acks for the server's emits: an unknown id and a
/// second ack for the same id are ignored, the result is delivered once,
/// the connection stays.
#[tokio::test]
async fn case_28_unknown_and_duplicate_acks() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let (mut ws, _) = server.connect("/").await;
    let socket = server.sockets.lock().unwrap()[1].clone();
    let asked = tokio::spawn(async move { socket.emit_with_ack::<Args>("question", 1).await });
    assert_eq!(next(&mut ws).await, r#"20["question",1]"#);
    send(&mut ws, r#"3999["stray"]"#).await;
    send(&mut ws, r#"30["answer"]"#).await;
    send(&mut ws, r#"30["again"]"#).await;
    send(&mut ws, r#"21["echo","open"]"#).await;
    assert_eq!(next(&mut ws).await, r#"31["open"]"#);
    let answer = asked.await.unwrap().unwrap();
    assert_eq!(strings(&answer), [r#""answer""#]);
    control.assert_alive().await;
}

/// RELIABILITY 28, 10^5 emits with ack never answered: the pending table
/// holds what is in flight, every entry expires with `AckError::Timeout`
/// and the table is empty again; an emit whose caller gives up leaves no
/// entry. Virtual time.
#[tokio::test(start_paused = true)]
async fn case_28_unanswered_acks_expire() {
    let timeout = Duration::from_secs(5);
    // Room in the client's queue for the whole burst: this case is about
    // the ack table, not the slow-consumer limit.
    let engine = EngineConfig::default().max_buffered_packets(200_000);
    let server = Server::start(SocketIo::builder().engine(engine).ack_timeout(timeout)).await;
    let mut control = server.control().await;
    let (mut ws, _) = server.connect("/").await;
    let socket = server.sockets.lock().unwrap()[1].clone();
    // The client reads (and never answers) in the background.
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = received.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if msg == Message::text("2") {
                let _ = ws.send(Message::text("3")).await;
            } else {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    let started = tokio::time::Instant::now();
    let mut emits = tokio::task::JoinSet::new();
    for i in 0..100_000u32 {
        let socket = socket.clone();
        emits.spawn(async move { socket.emit_with_ack::<Args>("q", i).await });
    }
    until(|| socket.pending_acks() == 100_000).await;
    let mut timeouts = 0;
    while let Some(result) = emits.join_next().await {
        let error = result.unwrap().unwrap_err();
        assert!(matches!(error, AckError::Timeout), "{error:?}");
        timeouts += 1;
    }
    assert_eq!(timeouts, 100_000);
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    assert_eq!(socket.pending_acks(), 0);
    // A caller that stops waiting takes its entry with it.
    let gave_up = tokio::time::timeout(Duration::ZERO, socket.emit_with_ack::<Args>("q", 0)).await;
    assert!(gave_up.is_err());
    assert_eq!(socket.pending_acks(), 0);
    assert!(socket.connected());
    control.assert_alive().await;
    until(|| received.load(std::sync::atomic::Ordering::Relaxed) > 100_000).await;
    reader.abort();
}

// ----- case 29 -----

/// RELIABILITY 29, JSON: nesting far past the depth limit closes with
/// 1008 without exhausting the stack; duplicate keys and numbers past
/// f64 are what JSON.parse accepts, so they are accepted and passed on
/// byte for byte (a typed handler that cannot read them does not run: the
/// error goes to the socket's `on_error`, and no ack is sent).
#[tokio::test]
async fn case_29_deep_nesting_and_odd_json() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let deep = format!(r#"2["x",{}{}]"#, "[".repeat(100_000), "]".repeat(100_000));
    let open_only = format!(r#"2["x",{}"#, "[".repeat(999_000));
    let deep_objects = format!(
        r#"2["x",{}1{}]"#,
        r#"{"a":"#.repeat(100_000),
        "}".repeat(100_000)
    );
    for (what, packet) in [
        ("deep", deep),
        ("open", open_only),
        ("objects", deep_objects),
    ] {
        assert!(packet.len() < 1_000_000);
        let (mut ws, _) = server.connect("/").await;
        send(&mut ws, &packet).await;
        assert_policy_close(&mut ws, what).await;
    }
    server.assert_no_handler_ran(&[&control.sid]);
    control.assert_alive().await;

    let odd = r#"{"a":1,"a":2}"#;
    assert_eq!(
        control.ask(&format!(r#"27["echo",{odd}]"#)).await,
        format!("37[{odd}]")
    );
    let huge = format!("1e400,-1e400,{},1e-400", "9".repeat(5_000));
    assert_eq!(
        control.ask(&format!(r#"28["echo",{huge}]"#)).await,
        format!("38[{huge}]")
    );
    assert_eq!(control.ask(r#"29["number",1.5]"#).await, "39[1.5]");
    send(&mut control.ws, r#"210["number",1e400]"#).await;
    // No answer to it: the next packet is the echo's.
    control.assert_alive().await;
    let log = server.log.of(&control.sid);
    assert_eq!(
        log.iter().filter(|w| *w == "on:number").count(),
        1,
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|w| w.starts_with("error:invalid arguments:")),
        "{log:?}"
    );
    // Duplicate keys in the auth payload: JSON, so the CONNECT is taken.
    let mut ws = server.open().await;
    send(&mut ws, r#"0{"token":"a","token":"b"}"#).await;
    assert!(next(&mut ws).await.starts_with(r#"0{"sid":""#));
    control.assert_alive().await;
}

/// RELIABILITY 29, MessagePack: lengths past the message (a 2^32 - 1
/// element array with 3 bytes of data, maps, strings and binary claiming
/// gigabytes) and nesting past the limit close with 1008 before anything
/// of their declared size is allocated.
#[tokio::test]
async fn case_29_msgpack_bombs() {
    let server = Server::start(SocketIo::builder().parser(Parser::Msgpack)).await;
    let config = DecoderConfig::default().parser(Parser::Msgpack);
    // The control client speaks msgpack too.
    let mut control = server.open().await;
    control
        .send(Message::binary(encode_msgpack(&Packet::connect("/", None))))
        .await
        .unwrap();
    let reply = decode_msgpack(&next_binary(&mut control).await, &config).unwrap();
    assert_eq!(reply.kind, PacketKind::Connect);
    let control_sid: String = reply.deserialize_value::<serde_json::Value>().unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    // {"type":2,"nsp":"/","data":<value>}
    let event = |data: &[u8]| {
        let mut m = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data".to_vec();
        m.extend_from_slice(data);
        m
    };
    let mut nested = vec![0x91u8; 100_000];
    nested.push(0xc0);
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        (
            "top-level array32",
            b"\xdd\xff\xff\xff\xff\x01\x02\x03".to_vec(),
        ),
        (
            "array32 in data",
            event(b"\xdd\xff\xff\xff\xff\x01\x02\x03"),
        ),
        ("map32 in data", event(b"\xdf\xff\xff\xff\xff\x01\x02\x03")),
        ("map32 packet", b"\xdf\xff\xff\xff\xff\xa4type\x02".to_vec()),
        (
            "str32 in data",
            event(b"\x91\xdb\xff\xff\xff\xff\x61\x62\x63"),
        ),
        (
            "bin32 in data",
            event(b"\x92\xa1x\xc6\xff\xff\xff\xff\x01\x02\x03"),
        ),
        (
            "ext32 in data",
            event(b"\x92\xa1x\xc9\xff\xff\xff\xff\x05\x01\x02"),
        ),
        ("nested 100 000 deep", event(&nested)),
        ("truncated", event(b"\x92\xa1x")),
    ];
    for (what, bytes) in bombs {
        let mut ws = server.open().await;
        ws.send(Message::binary(encode_msgpack(&Packet::connect("/", None))))
            .await
            .unwrap();
        next_binary(&mut ws).await;
        ws.send(Message::binary(bytes)).await.unwrap();
        assert_policy_close(&mut ws, what).await;
    }
    // A text message on a msgpack connection is a violation too.
    let mut ws = server.open().await;
    send(&mut ws, r#"2["echo"]"#).await;
    assert_policy_close(&mut ws, "text with msgpack").await;
    assert_eq!(server.log.handlers_except(&[&control_sid]), []);

    // Duplicate keys: the last one counts, as in the reference (a
    // JavaScript object); here the second `data`.
    let mut dup = b"\x85\xa4type\x02\xa3nsp\xa1/\xa2id\x05".to_vec();
    dup.extend_from_slice(b"\xa4data\x92\xa4echo\xa5first");
    dup.extend_from_slice(b"\xa4data\x92\xa4echo\xa6second");
    control.send(Message::binary(dup)).await.unwrap();
    let answer = decode_msgpack(&next_binary(&mut control).await, &config).unwrap();
    assert_eq!(answer.kind, PacketKind::Ack);
    assert_eq!(answer.id, Some(5));
    assert_eq!(strings(answer.args().unwrap()), [r#""second""#]);
    let ask = Packet::event("/", Args::event("echo").with(&"alive").unwrap()).with_id(6);
    control
        .send(Message::binary(encode_msgpack(&ask)))
        .await
        .unwrap();
    let answer = decode_msgpack(&next_binary(&mut control).await, &config).unwrap();
    assert_eq!(strings(answer.args().unwrap()), [r#""alive""#]);
}

// ----- case 30 -----

/// RELIABILITY 30, namespace handshakes: an unknown namespace gets the
/// reference's CONNECT_ERROR and the connection stays; auth that is not an
/// object is refused by the parser (as socket.io-parser's
/// `isPayloadValid` does, which makes the reference close the connection:
/// there is no `connect_error` for it), so the transport closes with 1008
/// and no middleware runs; a second CONNECT to a joined namespace is
/// ignored; 10 000 distinct unknown namespaces from one client each get
/// their CONNECT_ERROR and leave nothing behind.
#[tokio::test]
async fn case_30_namespace_handshakes() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;

    let mut ws = server.open().await;
    send(&mut ws, "0/nope,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/nope,{"message":"Invalid namespace"}"#
    );
    send(&mut ws, "0").await;
    assert!(next(&mut ws).await.starts_with(r#"0{"sid":""#));

    for auth in [
        r#"0"token""#,
        r#"0["token"]"#,
        r#"0/admin,"token""#,
        r#"0/admin,["token"]"#,
        "0/admin,null",
        "0null",
        "0true",
    ] {
        let mut ws = server.open().await;
        send(&mut ws, auth).await;
        assert_policy_close(&mut ws, auth).await;
    }
    assert_eq!(server.log.count("middleware"), 0);

    // The same namespace twice: the second CONNECT is ignored.
    let (mut ws, sid) = server.connect("/admin").await;
    send(&mut ws, r#"0/admin,{"again":true}"#).await;
    send(&mut ws, r#"2/admin,1["echo","once"]"#).await;
    assert_eq!(next(&mut ws).await, r#"3/admin,1["once"]"#);
    assert_eq!(server.log.of(&sid), ["middleware", "connected", "on:echo"]);
    assert_eq!(server.io.of("/admin").socket_count(), 1);

    // Many distinct namespaces from one client.
    for batch in 0..10 {
        let names = batch * 1_000..(batch + 1) * 1_000;
        for i in names.clone() {
            send(&mut ws, &format!("0/ns-{i},")).await;
        }
        for i in names {
            assert_eq!(
                next(&mut ws).await,
                format!(r#"4/ns-{i},{{"message":"Invalid namespace"}}"#)
            );
        }
    }
    assert!(
        server.io.get_namespace("/ns-0").is_none() && server.io.get_namespace("/ns-9999").is_none()
    );
    assert_eq!(server.io.of("/admin").socket_count(), 1);
    send(&mut ws, r#"2/admin,2["echo","still"]"#).await;
    assert_eq!(next(&mut ws).await, r#"3/admin,2["still"]"#);
    server.assert_no_handler_ran(&[&control.sid, &sid]);
    control.assert_alive().await;
}

/// RELIABILITY 30 and issue 13, defect 4: clients choose the names of
/// dynamic children, so what they create is bounded whatever they do. With
/// the defaults, one client's 10 000 distinct names create 100 children
/// (the per-client cap is checked before anything is created), a name over
/// 256 bytes creates none, a child whose middleware refuses the client is
/// not kept, and every child goes with the client's last socket, except
/// the one the application asked for by name.
#[tokio::test]
async fn case_30_dynamic_namespaces_stay_bounded() {
    let server = Server::start(SocketIo::builder()).await;
    let mut control = server.control().await;
    let parent = server.io.dyn_ns("/d-{name}", |_socket: SocketRef| {});
    parent.use_middleware(|socket: SocketRef| {
        if socket.nsp().ends_with("-refused") {
            Err(ConnectError::new("refused"))
        } else {
            Ok(())
        }
    });
    let mut ws = server.open().await;
    for batch in 0..10 {
        let names = batch * 1_000..(batch + 1) * 1_000;
        for i in names.clone() {
            send(&mut ws, &format!("0/d-{i},")).await;
        }
        for i in names {
            let reply = next(&mut ws).await;
            if i < 100 {
                assert!(
                    reply.starts_with(&format!(r#"0/d-{i},{{"sid":""#)),
                    "{reply}"
                );
            } else {
                assert_eq!(
                    reply,
                    format!(r#"4/d-{i},{{"message":"Too many namespaces"}}"#)
                );
            }
        }
    }
    assert_eq!(parent.children().len(), 100);
    assert!(server.io.get_namespace("/d-100").is_none());

    let mut other = server.open().await;
    let long = format!("/d-{}", "x".repeat(300));
    send(&mut other, &format!("0{long},")).await;
    assert_eq!(
        next(&mut other).await,
        format!(r#"4{long},{{"message":"Invalid namespace"}}"#)
    );
    send(&mut other, "0/d-x-refused,").await;
    assert_eq!(
        next(&mut other).await,
        r#"4/d-x-refused,{"message":"refused"}"#
    );
    assert_eq!(parent.children().len(), 100);

    // The application asks for one child by name: that one stays.
    assert!(server.io.get_namespace("/d-7").is_some(), "a live child");
    let kept = server.io.of("/d-7");
    drop(ws);
    let deadline = tokio::time::Instant::now() + support::IO_TIMEOUT;
    while parent.children().len() > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            parent.children().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(parent.children(), ["/d-7"]);
    assert_eq!(kept.socket_count(), 0);
    // A client joining that name is in the namespace the handle holds.
    let mut again = server.open().await;
    sio::join(&mut again, "/d-7", None).await;
    assert_eq!(kept.socket_count(), 1);
    control.assert_alive().await;
}

/// RELIABILITY 30, no CONNECT at all: the client is closed once the
/// connect timeout passes (a forced close, 1000, as the reference's
/// `close()`), counted on the paused clock; a client that did connect is
/// left alone.
#[tokio::test(start_paused = true)]
async fn case_30_no_connect_closes_after_connect_timeout() {
    let timeout = Duration::from_secs(3);
    let server = Server::start(SocketIo::builder().connect_timeout(timeout)).await;
    let mut control = server.control().await;
    let mut ws = server.open().await;
    let started = tokio::time::Instant::now();
    // Unknown namespaces do not count as joining one.
    send(&mut ws, "0/nope,").await;
    assert_eq!(
        next(&mut ws).await,
        r#"4/nope,{"message":"Invalid namespace"}"#
    );
    assert_eq!(close_code(&mut ws, "no connect").await, 1000);
    let waited = started.elapsed();
    assert!(
        waited >= timeout - Duration::from_millis(100) && waited <= timeout,
        "{waited:?}"
    );
    server.until_clients(1).await;
    tokio::time::sleep(timeout * 2).await;
    control.assert_alive().await;
}

/// Issue 13, soak: a connection that closed leaves nothing running. 200
/// clients (half joined to `/`, half that never join one) connect and go;
/// once the server has seen them go, the runtime has the tasks it had
/// before they came. (The connect timeout used to be a task per client
/// sleeping 45 s with the client in hand: every closed connection's
/// memory stayed for that long, 1.2 GB after 10 cycles of 10 000.)
#[tokio::test]
async fn closed_connections_leave_no_task_behind() {
    let server = Server::start(SocketIo::builder()).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    // The server is accepting; let what it spawned settle.
    let control = server.control().await;
    drop(control);
    let settled = |n: usize| async move {
        let deadline = tokio::time::Instant::now() + sio::IO_TIMEOUT;
        loop {
            let alive = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            if alive <= n || tokio::time::Instant::now() > deadline {
                return alive;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let deadline = tokio::time::Instant::now() + sio::IO_TIMEOUT;
    while server.io.of("/").socket_count() > 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Only the accept loop is left (and the test itself, not counted).
    let baseline = settled(1).await;
    let mut clients = Vec::new();
    for i in 0..200 {
        if i % 2 == 0 {
            clients.push(server.connect("/").await.0);
        } else {
            clients.push(server.open().await);
        }
    }
    assert!(metrics.num_alive_tasks() > baseline);
    drop(clients);
    assert_eq!(settled(baseline).await, baseline);
    assert_eq!(server.io.of("/").socket_count(), 0);
}
