//! Asynchronous handlers: a socket's events are handled one at a time in
//! the order they came, synchronous handlers included; a handler that never
//! finishes holds up only its own socket; a panicking one disconnects only
//! its own socket.

mod sio;

use std::sync::{Arc, Mutex};

use sio::{connect, next, send, start};
use sockio_server::socketio::{AckSender, Args, SocketIo, SocketRef};

#[tokio::test]
async fn events_are_handled_in_order_one_at_a_time() {
    let order: Arc<Mutex<Vec<u32>>> = Arc::default();
    let io = SocketIo::builder().build();
    let seen = order.clone();
    io.ns("/", move |socket: SocketRef| {
        let s = seen.clone();
        socket.on("slow", move |args: Args| {
            let s = s.clone();
            async move {
                let n: u32 = args.deserialize(0).unwrap();
                // Later events would overtake this one if handlers ran
                // concurrently: earlier ones yield longer.
                for _ in 0..(n % 7) * 3 {
                    tokio::task::yield_now().await;
                }
                s.lock().unwrap().push(n);
            }
        });
        let s = seen.clone();
        socket.on("fast", move |args: Args| {
            s.lock().unwrap().push(args.deserialize(0).unwrap());
        });
        socket.on(
            "done",
            |socket: SocketRef, ack: Option<AckSender>| async move {
                let _ = socket;
                ack.unwrap().send("done").unwrap();
            },
        );
    });
    let addr = start(&io).await;
    let (mut ws, _) = connect(addr, "/").await;
    for n in 0..1000u32 {
        let event = if n % 3 == 0 { "fast" } else { "slow" };
        send(&mut ws, &format!(r#"2["{event}",{n}]"#)).await;
    }
    send(&mut ws, r#"21["done"]"#).await;
    assert_eq!(next(&mut ws).await, r#"31["done"]"#);
    assert_eq!(*order.lock().unwrap(), (0..1000).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stuck_handler_holds_up_only_its_socket() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on("hang", std::future::pending::<()>);
        socket.on("panic", || async { panic!("handler failure") });
        socket.on("echo", |args: Args, ack: Option<AckSender>| async move {
            let _ = ack.unwrap().send(args);
        });
    });
    let addr = start(&io).await;
    let (mut stuck, _) = connect(addr, "/").await;
    let (mut other, _) = connect(addr, "/").await;
    let (mut failing, _) = connect(addr, "/").await;
    send(&mut stuck, r#"2["hang"]"#).await;
    send(&mut stuck, r#"21["echo","never"]"#).await;
    send(&mut failing, r#"2["panic"]"#).await;
    // The panicking handler's socket is disconnected ("io server
    // disconnect" for the client); the others go on.
    assert_eq!(next(&mut failing).await, "1");
    send(&mut other, r#"22["echo","fine"]"#).await;
    assert_eq!(next(&mut other).await, r#"32["fine"]"#);
    assert_eq!(io.of("/").socket_count(), 2);
}
