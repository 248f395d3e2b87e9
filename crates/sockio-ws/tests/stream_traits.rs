//! `WebSocketStream` and `WsReader` as `futures` `Stream` and `Sink`: what
//! the combinators do with them, mixed with the inherent `next`/`send`, on
//! in-memory transports.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sockio_ws::{CloseCode, Config, Message, Role, WebSocketStream};
use tokio::io::DuplexStream;

fn pair(config: &Config) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(64 << 10);
    (
        WebSocketStream::from_raw(a, Role::Server, config, None),
        WebSocketStream::from_raw(b, Role::Client, config, None),
    )
}

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn messages_go_through_sink_and_stream_in_order() {
    let (mut server, mut client) = pair(&Config::default());
    for i in 0..100 {
        client.feed(Message::text(format!("m{i}"))).await.unwrap();
    }
    client.flush().await.unwrap();
    client.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    for i in 0..100 {
        let msg = tokio::time::timeout(LIMIT, StreamExt::next(&mut server))
            .await
            .unwrap();
        assert_eq!(msg.unwrap().unwrap(), Message::text(format!("m{i}")));
    }
    let msg = StreamExt::next(&mut server).await.unwrap().unwrap();
    assert_eq!(msg, Message::binary(vec![1, 2, 3]));

    // Closing the sink is a normal close: the server sees the close frame,
    // then the end of the stream; so does the client.
    SinkExt::close(&mut client).await.unwrap();
    match StreamExt::next(&mut server).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    assert!(StreamExt::next(&mut server).await.is_none());
    let rest: Vec<_> = tokio::time::timeout(LIMIT, client.collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(
        rest.iter().all(|m| matches!(m, Ok(Message::Close(_)))),
        "{rest:?}"
    );
}

/// A read the `Stream` impl started and left pending is finished by the
/// inherent `next`, and by a reader split off afterwards: no message is
/// lost or duplicated.
#[tokio::test]
async fn a_pending_stream_read_carries_over_to_next_and_split() {
    let (mut server, client) = pair(&Config::default());
    // Start a read with nothing to read: it stays pending.
    let polled = futures_util::poll!(StreamExt::next(&mut server));
    assert!(polled.is_pending());
    client.send(Message::text("one")).await.unwrap();
    client.send(Message::text("two")).await.unwrap();
    client.send(Message::text("three")).await.unwrap();
    let one = tokio::time::timeout(LIMIT, server.next()).await.unwrap();
    assert_eq!(one.unwrap().unwrap(), Message::text("one"));
    // Pending again, then split: the reader carries the read on.
    let polled = futures_util::poll!(StreamExt::next(&mut server));
    assert!(polled.is_ready(), "'two' is already there");
    let (mut reader, _writer) = server.split();
    let polled = futures_util::poll!(StreamExt::next(&mut reader));
    match polled {
        std::task::Poll::Ready(Some(Ok(m))) => assert_eq!(m, Message::text("three")),
        std::task::Poll::Pending => {
            let m = tokio::time::timeout(LIMIT, reader.next()).await.unwrap();
            assert_eq!(m.unwrap().unwrap(), Message::text("three"));
        }
        other => panic!("{other:?}"),
    }
    let polled = futures_util::poll!(StreamExt::next(&mut reader));
    assert!(polled.is_pending());
    client.send(Message::text("four")).await.unwrap();
    let m = tokio::time::timeout(LIMIT, reader.next()).await.unwrap();
    assert_eq!(m.unwrap().unwrap(), Message::text("four"));
}

/// With a write queue of one frame and a peer that does not read, the sink
/// makes its caller wait instead of dropping or failing, and everything
/// arrives once the peer reads.
#[tokio::test(start_paused = true)]
async fn the_sink_waits_for_room() {
    let config = Config::default().write_queue_frames(1);
    let (mut server, client) = pair(&config);
    let big = vec![7u8; 32 << 10];
    let sent = tokio::spawn(async move {
        for _ in 0..20 {
            client.send(Message::binary(big.clone())).await.unwrap();
        }
        client
    });
    // The transport holds 64 KiB: the sender cannot be done yet.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!sent.is_finished());
    for _ in 0..20 {
        let msg = StreamExt::next(&mut server).await.unwrap().unwrap();
        assert_eq!(msg.len(), 32 << 10);
    }
    let client = sent.await.unwrap();
    // A sink on a closed connection fails.
    let mut client = client;
    SinkExt::close(&mut client).await.unwrap();
    assert!(client.send(Message::text("late")).await.is_err());
}

/// The stream and its halves stay `Send` and `Sync`, so a `&WebSocketStream`
/// can be held across an await in a spawned task.
#[test]
fn the_stream_and_its_halves_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<WebSocketStream<DuplexStream>>();
    send_sync::<sockio_ws::WsReader<DuplexStream>>();
    send_sync::<sockio_ws::WsWriter>();
}
