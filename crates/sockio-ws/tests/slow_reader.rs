//! A peer that stops reading cannot hold a connection or its queue: the
//! write queue is bounded in bytes as well as frames, a close finishes
//! within the close timeout of its start even behind a full transport, and
//! `terminate` drops what is queued and the connection at once.
//! In-memory transports on a paused clock: no real waiting.

use std::time::Duration;

use sockio_ws::{CloseFrame, Config, Message, Role, TrySendError, WebSocketStream};
use tokio::io::{AsyncReadExt, DuplexStream};

/// Bytes the in-memory transport buffers before the writer blocks.
const PIPE: usize = 64 << 10;

fn server(config: &Config) -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (ours, theirs) = tokio::io::duplex(PIPE);
    (
        WebSocketStream::from_raw(ours, Role::Server, config, None),
        theirs,
    )
}

/// Fills the transport and the queue with 1 KiB messages until `try_send`
/// refuses one; returns how many were taken.
async fn fill(ws: &WebSocketStream<DuplexStream>) -> usize {
    let writer = ws.writer();
    let mut sent = 0;
    loop {
        match writer.try_send(Message::binary(vec![1u8; 1024])) {
            Ok(()) => sent += 1,
            Err(TrySendError::Full) => return sent,
            Err(e) => panic!("{e}"),
        }
        // Let the writer task move what it can into the transport.
        tokio::task::yield_now().await;
    }
}

/// Reads what the transport holds until EOF; panics if EOF does not come
/// within `limit` of virtual time.
async fn read_to_eof(peer: &mut DuplexStream, limit: Duration) -> usize {
    let mut got = Vec::new();
    tokio::time::timeout(limit, peer.read_to_end(&mut got))
        .await
        .expect("the connection must be dropped")
        .map_or(0, |_| got.len())
}

#[tokio::test(start_paused = true)]
async fn the_queue_is_bounded_in_bytes() {
    let config = Config::default()
        .write_queue_frames(100_000)
        .write_queue_bytes(256 << 10);
    let (ws, _peer) = server(&config);
    let sent = fill(&ws).await;
    // What the transport took, plus at most the byte limit.
    assert!(
        sent <= (PIPE + (256 << 10)) / 1024 + 2,
        "{sent} messages taken"
    );
    assert!(ws.writer().unwritten_bytes() <= 256 << 10);
    // One message larger than the limit still goes into an empty queue.
    let (ws, mut peer) = server(&config);
    ws.writer()
        .try_send(Message::binary(vec![2u8; 1 << 20]))
        .unwrap();
    let mut got = vec![0u8; 1 << 20];
    tokio::time::timeout(Duration::from_secs(5), peer.read_exact(&mut got[..1024]))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_close_behind_a_peer_that_does_not_read_ends_at_the_close_timeout() {
    let config = Config::default().close_timeout(Duration::from_secs(2));
    let (mut ws, mut peer) = server(&config);
    fill(&ws).await;
    let started = tokio::time::Instant::now();
    // The close frame waits behind the full queue (its push waits for
    // room): it must not wait past the close timeout.
    let writer = ws.writer();
    tokio::spawn(async move { writer.close(Some(CloseFrame::new(1000, ""))).await });
    // The reader ends with the connection.
    tokio::time::timeout(Duration::from_secs(10), async {
        while ws.next().await.is_some() {}
    })
    .await
    .expect("the reader must end");
    let elapsed = started.elapsed();
    assert!(elapsed <= Duration::from_secs(3), "{elapsed:?}");
    drop(ws);
    // The peer reads what was in the transport, then EOF.
    read_to_eof(&mut peer, Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn terminate_drops_the_queue_and_the_connection_at_once() {
    let config = Config::default();
    let (mut ws, mut peer) = server(&config);
    let writer = ws.writer();
    fill(&ws).await;
    assert!(writer.unwritten() > 0);
    let started = tokio::time::Instant::now();
    writer.terminate(Some(CloseFrame::new(1008, "slow consumer")));
    // Nothing more is taken.
    assert_eq!(
        writer.try_send(Message::text("late")),
        Err(TrySendError::Closed)
    );
    tokio::time::timeout(Duration::from_secs(5), async {
        while ws.next().await.is_some() {}
    })
    .await
    .expect("the reader must end");
    writer.closed().await;
    // The queue is gone at once, not when the last handle goes.
    assert_eq!(writer.unwritten(), 0);
    assert_eq!(writer.unwritten_bytes(), 0);
    assert!(started.elapsed() <= Duration::from_secs(1));
    drop(ws);
    drop(writer);
    read_to_eof(&mut peer, Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn terminate_on_an_idle_connection_sends_the_close_frame() {
    let (mut ws, mut peer) = server(&Config::default());
    let writer = ws.writer();
    writer.terminate(Some(CloseFrame::new(1008, "")));
    while ws.next().await.is_some() {}
    drop(ws);
    drop(writer);
    let mut got = Vec::new();
    peer.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, vec![0x88, 0x02, 0x03, 0xf0]);
}
