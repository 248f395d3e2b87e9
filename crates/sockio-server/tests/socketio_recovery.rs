//! Connection state recovery over real WebSockets: a client whose transport
//! drops and that reconnects with its `pid` and last `offset` gets its id,
//! rooms and data back and the events it missed, before its CONNECT reply.

mod sio;

use std::sync::{Arc, Mutex};

use sio::{connect, field, join, next, open, send, start};
use sockio_server::socketio::{DisconnectReason, RecoveryConfig, SocketIo, SocketRef};
use tokio::sync::mpsc;

/// The offset a recovering server appends to an event: its last argument.
fn offset(packet: &str) -> String {
    let args: Vec<serde_json::Value> =
        serde_json::from_str(&packet[packet.find('[').unwrap()..]).unwrap();
    args.last().unwrap().as_str().unwrap().to_owned()
}

/// What the connect handler saw: id, recovered, rooms, data.
type Seen = (String, bool, Vec<String>, Option<u32>);

struct Fixture {
    io: SocketIo,
    addr: std::net::SocketAddr,
    gone: mpsc::UnboundedReceiver<String>,
    recovered: Arc<Mutex<Vec<Seen>>>,
}

async fn fixture(recovery: RecoveryConfig) -> Fixture {
    let io = SocketIo::builder()
        .connection_state_recovery(recovery)
        .build();
    let (tx, gone) = mpsc::unbounded_channel();
    let recovered: Arc<Mutex<Vec<_>>> = Arc::default();
    let log = recovered.clone();
    io.ns("/", move |socket: SocketRef| {
        let mut rooms = socket.rooms();
        rooms.sort();
        log.lock().unwrap().push((
            socket.id().to_owned(),
            socket.recovered(),
            rooms,
            socket.data::<u32>().unwrap(),
        ));
        if !socket.recovered() {
            socket.join("room");
            socket.set_data(&7u32).unwrap();
        }
        let tx = tx.clone();
        socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
            let _ = tx.send(format!("{} {reason}", socket.id()));
        });
        socket.on("hello", |socket: SocketRef| {
            socket.emit("direct", "hi").unwrap();
        });
    });
    let addr = start(&io).await;
    Fixture {
        io,
        addr,
        gone,
        recovered,
    }
}

#[tokio::test]
async fn a_dropped_client_recovers_its_session_and_missed_events() {
    let mut f = fixture(RecoveryConfig::default()).await;
    let mut ws = open(f.addr).await;
    let reply = join(&mut ws, "/", None).await;
    let (sid, pid) = (field(&reply, "sid"), field(&reply, "pid"));

    f.io.to("room").emit("e", 1).unwrap();
    let first = next(&mut ws).await;
    assert!(first.starts_with(r#"2["e",1,""#), "{first}");
    let last_seen = offset(&first);
    // Direct emits carry offsets too.
    send(&mut ws, r#"2["hello"]"#).await;
    let direct = next(&mut ws).await;
    assert!(direct.starts_with(r#"2["direct","hi",""#), "{direct}");

    // The transport drops (no DISCONNECT packet).
    drop(ws);
    assert_eq!(
        f.gone.recv().await.unwrap(),
        format!("{sid} transport close")
    );
    f.io.to("room").emit("e", 2).unwrap();
    f.io.to("elsewhere").emit("e", 3).unwrap();
    f.io.emit("e", 4).unwrap();

    let mut ws = open(f.addr).await;
    send(
        &mut ws,
        &format!(r#"0{{"pid":"{pid}","offset":"{last_seen}","token":"x"}}"#),
    )
    .await;
    // What it missed since `last_seen` (the direct emit too, as it went
    // out after), in order, then the CONNECT reply with the same ids.
    let missed: Vec<String> = vec![
        next(&mut ws).await,
        next(&mut ws).await,
        next(&mut ws).await,
    ];
    assert!(missed[0].starts_with(r#"2["direct","hi",""#), "{missed:?}");
    assert!(missed[1].starts_with(r#"2["e",2,""#), "{missed:?}");
    assert!(missed[2].starts_with(r#"2["e",4,""#), "{missed:?}");
    let reply = next(&mut ws).await;
    assert_eq!(reply, format!(r#"0{{"sid":"{sid}","pid":"{pid}"}}"#));
    {
        let log = f.recovered.lock().unwrap();
        let (id, recovered, rooms, data) = log.last().unwrap().clone();
        assert_eq!(id, sid);
        assert!(recovered);
        let mut expected = vec![sid.clone(), "room".to_owned()];
        expected.sort();
        assert_eq!(rooms, expected);
        assert_eq!(data, Some(7));
    }
    // And it is in its rooms again.
    f.io.to("room").emit("e", 5).unwrap();
    assert!(next(&mut ws).await.starts_with(r#"2["e",5,""#));

    // A session is recovered once: presenting it again gives a new one.
    let mut again = open(f.addr).await;
    let reply = join(
        &mut again,
        "/",
        Some(&format!(r#"{{"pid":"{pid}","offset":"{last_seen}"}}"#)),
    )
    .await;
    assert_ne!(field(&reply, "sid"), sid);
}

#[tokio::test]
async fn leaving_on_purpose_or_unknown_sessions_are_not_recovered() {
    let mut f = fixture(RecoveryConfig::default()).await;
    let mut ws = open(f.addr).await;
    let reply = join(&mut ws, "/", None).await;
    let (sid, pid) = (field(&reply, "sid"), field(&reply, "pid"));
    f.io.emit("e", 1).unwrap();
    let last_seen = offset(&next(&mut ws).await);
    send(&mut ws, "1").await;
    assert_eq!(
        f.gone.recv().await.unwrap(),
        format!("{sid} client namespace disconnect")
    );
    let reply = join(
        &mut ws,
        "/",
        Some(&format!(r#"{{"pid":"{pid}","offset":"{last_seen}"}}"#)),
    )
    .await;
    assert_ne!(field(&reply, "sid"), sid);
    assert!(!f.recovered.lock().unwrap().last().unwrap().1);

    // Unknown pid or offset: a fresh session, no replay.
    for auth in [
        r#"{"pid":"nope","offset":"nope"}"#.to_owned(),
        format!(r#"{{"pid":"{pid}","offset":"bogus"}}"#),
        r#"{"pid":1,"offset":2}"#.to_owned(),
    ] {
        let mut ws = open(f.addr).await;
        let reply = join(&mut ws, "/", Some(&auth)).await;
        assert!(reply.starts_with(r#"{"sid":"#), "{reply}");
    }
}

#[tokio::test]
async fn without_recovery_nothing_is_appended() {
    let io = SocketIo::builder().build();
    io.ns("/", |_socket: SocketRef| {});
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    io.emit("e", 1).unwrap();
    assert_eq!(next(&mut ws).await, r#"2["e",1]"#);
}
