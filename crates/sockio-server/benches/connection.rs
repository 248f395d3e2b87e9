//! Whole connections in memory: bytes in, bytes out, through every layer
//! of the server (hyper's upgrade, WebSocket, Engine.IO, Socket.IO, the
//! handler, and back), with no network.
//!
//! # What is measured
//!
//! The bench app of bench/README.md (`echo` acknowledged with its
//! arguments, `broadcast` re-emitted as `bcast` to every socket of `/`),
//! served by hyper's HTTP/1.1 connection over `tokio::io::duplex` pairs;
//! the clients are `sockio_ws` client connections on the other halves.
//! Everything runs on one current-thread tokio runtime, so the time is the
//! CPU time of the whole exchange on one core, the clients' share
//! (masking, framing, decoding what comes back) included.
//!
//! - `echo/1`: one client sends `421["echo",{..}]` and waits for the ack
//!   `431[{..}]`; time per round trip.
//! - `broadcast_delivered/1000`: one client sends `42["broadcast",{..}]`
//!   and the 1 000 sockets of `/` (the sender included) each read the
//!   `bcast` event; time per broadcast, until the last receiver has it
//!   (the throughput line's elements are deliveries).
//!
//! Where the criterion bench `broadcast` times only the emitting call,
//! these include the writer tasks, the transport writes and the wake-ups,
//! which are most of what a real server pays per delivery.
//!
//! # Run
//!
//! `cargo bench -p sockio-server --bench connection -- --warm-up-time 1 --measurement-time 4`

#![allow(missing_docs)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockio_core::engine::EngineConfig;
use sockio_server::socketio::{AckSender, Args, SocketIo, SocketRef};
use sockio_ws::Message;
use support::{connect, next_text};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

const RECEIVERS: usize = 1_000;
const ECHO: &str = r#"421["echo",{"t":123456,"p":"xxxxxxxxxxxxxxxx"}]"#;
const ACK: &str = r#"431[{"t":123456,"p":"xxxxxxxxxxxxxxxx"}]"#;
const BROADCAST: &str = r#"42["broadcast",{"t":123456,"p":"xxxxxxxxxxxxxxxx"}]"#;
const BCAST: &str = r#"42["bcast",{"t":123456,"p":"xxxxxxxxxxxxxxxx"}]"#;
/// The longest a measured exchange may take before the run is declared stuck.
const STUCK: Duration = Duration::from_secs(30);

/// The bench app, with heartbeats that never fire during a run.
fn bench_app() -> SocketIo {
    let engine = EngineConfig::default()
        .ping_interval(Duration::from_secs(300))
        .ping_timeout(Duration::from_secs(300));
    let io = SocketIo::builder().engine(engine).build();
    io.ns("/", |socket: SocketRef| {
        socket.on("echo", |args: Args, ack: Option<AckSender>| {
            if let Some(ack) = ack {
                ack.send(args).ok();
            }
        });
        socket.on("broadcast", |io: SocketIo, args: Args| {
            io.emit("bcast", args).ok();
        });
    });
    io
}

fn echo(c: &mut Criterion, rt: &Runtime) {
    let io = bench_app();
    let mut ws = rt.block_on(connect(&io));
    let mut group = c.benchmark_group("echo");
    group.throughput(Throughput::Elements(1));
    group.bench_function("1", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    ws.send(Message::text(ECHO)).await.expect("send");
                    let reply = tokio::time::timeout(STUCK, next_text(&mut ws))
                        .await
                        .expect("ack");
                    assert_eq!(reply, ACK);
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

/// Deliveries counted by the receivers.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    wrong: AtomicU64,
    changed: Notify,
}

impl Tally {
    async fn until(&self, target: u64) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                if self.delivered.load(Ordering::Acquire) >= target {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(STUCK, wait)
            .await
            .expect("broadcast stuck");
        assert_eq!(self.wrong.load(Ordering::Acquire), 0, "a wrong frame");
    }
}

fn broadcast_delivered(c: &mut Criterion, rt: &Runtime) {
    let io = bench_app();
    let tally = Arc::new(Tally::default());
    let (mut sender, receivers) = rt.block_on(async {
        let sender = connect(&io).await;
        let mut receivers = Vec::new();
        for _ in 1..RECEIVERS {
            receivers.push(connect(&io).await);
        }
        (sender, receivers)
    });
    // The sender's own `bcast` comes back to it: counted inline below.
    for mut ws in receivers {
        let tally = tally.clone();
        rt.spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(text) = msg else { continue };
                if &*text != BCAST {
                    tally.wrong.fetch_add(1, Ordering::Relaxed);
                }
                tally.delivered.fetch_add(1, Ordering::AcqRel);
                tally.changed.notify_one();
            }
        });
    }
    let mut group = c.benchmark_group("broadcast_delivered");
    group.throughput(Throughput::Elements(RECEIVERS as u64));
    group.sample_size(20);
    group.bench_function(RECEIVERS.to_string(), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let target = tally.delivered.load(Ordering::Acquire) + RECEIVERS as u64 - 1;
                    sender.send(Message::text(BROADCAST)).await.expect("send");
                    let own = tokio::time::timeout(STUCK, next_text(&mut sender))
                        .await
                        .expect("own bcast");
                    assert_eq!(own, BCAST);
                    tally.until(target).await;
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    echo(c, &rt);
    broadcast_delivered(c, &rt);
}

criterion_group!(connection, benches);
criterion_main!(connection);
