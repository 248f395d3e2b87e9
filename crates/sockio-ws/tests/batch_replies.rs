//! `WsReader::batch_replies`: what is sent while the reader's caller
//! handles a message is written by the next call to `next`, in place,
//! in order, and a send that must wait for room never stalls on it.

use std::future::{Future, poll_fn};
use std::task::Poll;
use std::time::Duration;

use sockio_ws::{Config, Message, Role, WebSocketStream, WsReader};
use tokio::io::DuplexStream;

/// Guards every wait so that a broken test fails, not hangs.
const GUARD: Duration = Duration::from_secs(20);

fn pair(config: &Config) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let server = WebSocketStream::from_raw(a, Role::Server, config, None);
    let client = WebSocketStream::from_raw(b, Role::Client, config, None);
    (server, client)
}

/// Polls `next` once; true if it had nothing to return yet.
async fn next_waits(reader: &mut WsReader<DuplexStream>) -> bool {
    let mut next = std::pin::pin!(reader.next());
    poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx).is_pending())).await
}

async fn recv_text(ws: &mut WebSocketStream<DuplexStream>) -> String {
    match tokio::time::timeout(GUARD, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => t.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test]
async fn replies_are_written_by_the_next_read_in_order() {
    let (server, mut client) = pair(&Config::default());
    let (mut reader, writer) = server.split();
    reader.batch_replies();
    client.send(Message::text("request")).await.unwrap();
    let got = tokio::time::timeout(GUARD, reader.next()).await.unwrap();
    assert_eq!(got.unwrap().unwrap(), Message::text("request"));

    // Handling the request: replies from here and from another task.
    writer.try_send(Message::text("1")).unwrap();
    let other = writer.clone();
    tokio::spawn(async move { other.try_send(Message::text("2")).unwrap() })
        .await
        .unwrap();
    writer.try_send(Message::text("3")).unwrap();
    // Held: the writer task was not woken for them.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(writer.unwritten(), 3);

    // The next read writes them itself before it waits: nothing is left
    // unwritten although the writer task never ran.
    assert!(next_waits(&mut reader).await);
    assert_eq!(writer.unwritten(), 0);
    for expected in ["1", "2", "3"] {
        assert_eq!(recv_text(&mut client).await, expected);
    }

    // While the reader waits, sends go through the writer task as usual.
    writer.try_send(Message::text("4")).unwrap();
    assert_eq!(recv_text(&mut client).await, "4");
}

#[tokio::test]
async fn a_send_waiting_for_room_releases_held_replies() {
    let mut config = Config::default();
    config.write_queue_frames = 2;
    let (server, mut client) = pair(&config);
    let (mut reader, writer) = server.split();
    reader.batch_replies();
    client.send(Message::text("request")).await.unwrap();
    tokio::time::timeout(GUARD, reader.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // More than the queue holds, waiting for room, without calling `next`.
    let sends = async {
        for i in 0..5 {
            writer.send(Message::text(i.to_string())).await.unwrap();
        }
    };
    tokio::time::timeout(GUARD, sends)
        .await
        .expect("a held queue stalled a send");
    for i in 0..5 {
        assert_eq!(recv_text(&mut client).await, i.to_string());
    }
}

#[tokio::test]
async fn held_replies_go_out_when_the_reader_is_dropped_or_the_peer_closes() {
    // Dropped while holding.
    let (server, mut client) = pair(&Config::default());
    let (mut reader, writer) = server.split();
    reader.batch_replies();
    client.send(Message::text("request")).await.unwrap();
    tokio::time::timeout(GUARD, reader.next()).await.unwrap();
    writer.try_send(Message::text("reply")).unwrap();
    drop(reader);
    assert_eq!(recv_text(&mut client).await, "reply");

    // The peer's close frame comes right behind the request.
    let (server, mut client) = pair(&Config::default());
    let (mut reader, writer) = server.split();
    reader.batch_replies();
    client.send(Message::text("request")).await.unwrap();
    client.close(None).await.unwrap();
    tokio::time::timeout(GUARD, reader.next()).await.unwrap();
    writer.try_send(Message::text("reply")).unwrap();
    // The close is read and answered after the reply.
    let closed = tokio::time::timeout(GUARD, reader.next()).await.unwrap();
    assert!(matches!(closed, Some(Ok(Message::Close(_)))), "{closed:?}");
    assert_eq!(recv_text(&mut client).await, "reply");
    let end = tokio::time::timeout(GUARD, client.next()).await.unwrap();
    assert!(matches!(end, Some(Ok(Message::Close(_)))), "{end:?}");
}
