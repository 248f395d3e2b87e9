//! A Socket.IO broadcast to 10 000 receivers, against the floor of the
//! same fan-out without Socket.IO, in one run so that ratios can be quoted.
//!
//! # What is measured
//!
//! The server's side of one broadcast, on the thread that emits: from the
//! call of `io.emit("bcast", &payload)` (or `io.to(room).emit(..)`) until it
//! returns. That is the whole synchronous path of DESIGN.md principle 3:
//! `BroadcastOperator` → `Adapter::broadcast` (room selection) →
//! `LocalSockets::send` on the namespace (socket lookup, one
//! serialization and one WebSocket frame encoding per parser) →
//! `EngineSocket::send_shared` per receiver, which pushes the shared frame
//! `Bytes` into that connection's writer queue (a tokio mpsc channel) and
//! wakes its writer task. What happens after the call returns (each writer
//! task's vectored write, the client decoding the frame) is not timed: it
//! runs between measurements, when the benchmark waits until every
//! receiver has counted the frame, so no queue ever holds more than one
//! frame.
//!
//! Benchmarks (group `broadcast`; the throughput line's elements are
//! receivers, so ns per receiver = 1000 / (Melem/s)):
//!
//! - `sockio_all/10000`: `io.emit` to every socket of `/`, 10 000 sockets.
//! - `sockio_all_cold/10000`: the same, with the CPU caches evicted
//!   (untimed) before each broadcast, see `Evictor`. The drain alone
//!   already leaves most of the receivers' state out of cache, so the two
//!   differ little.
//! - `floor_mpsc/10000`: the floor of the same work without Socket.IO: the
//!   same pre-encoded frame (`encode_server_frame` of the same Engine.IO
//!   message) cloned into 10 000 tokio mpsc channels (capacity 10 000, the
//!   server's writer queue size), each drained by a task parked in
//!   `recv_many` as the server's writer task is, so that every push also
//!   wakes a task. The channels are visited in the order they were
//!   allocated and their drain touches little else, so their state mostly
//!   stays in cache: a best case. `sockio_all / floor_mpsc` is the
//!   overhead of Socket.IO on the fan-out.
//! - `floor_mpsc_cold_random/10000`: the same channels visited in a fixed
//!   random order, caches evicted before each fan-out: what the fan-out
//!   costs when every receiver's channel and task are a cache miss, as a
//!   server's scattered per-connection state is. `sockio_all_cold /
//!   floor_mpsc_cold_random` compares the two from the same cold start.
//! - `sockio_room/100_of_10000`: `io.to("room").emit` where 100 of the
//!   10 000 sockets of `/` are in the room.
//! - `sockio_room/100_of_100`: the same room broadcast in namespace
//!   `/hundred`, whose only sockets are those 100 (the same connections,
//!   multiplexed). Equal times mean the selection does not scale with the
//!   namespace size.
//! - `floor_mpsc/100`: the floor for 100 receivers.
//!
//! # How receivers are connected
//!
//! In memory, no TCP: each receiver is a `tokio::io::duplex` pair. The
//! server half is served by hyper's HTTP/1.1 connection (`with_upgrades`)
//! running the tower service `io.service()`; the client half does the
//! WebSocket opening handshake with `sockio_ws::client_handshake`
//! (`GET /socket.io/?EIO=4&transport=websocket`), reads the Engine.IO open
//! packet, connects to `/` (`40`) and waits for the CONNECT reply. Then a
//! task per receiver reads frames and counts each `42…["bcast",…]` event
//! (checking its payload); it answers Engine.IO pings, though the
//! heartbeat is set to 300 s so that none fires during a run.
//!
//! Everything runs on one current-thread tokio runtime: the timed call runs
//! alone on its thread (no writer or client task can run during it), and
//! the machine's other core stays quiet.
//!
//! # Run
//!
//! `cargo bench -p sockio-server --bench broadcast -- --warm-up-time 1 --measurement-time 4`
//!
//! Filter as usual (`-- sockio_room`). A whole run takes about a minute on
//! a 2-core machine: setting up the 10 000 connections takes a few
//! seconds, and each iteration's untimed drain (and eviction, for the
//! `_cold` cases) adds to the measurement time.

#![allow(missing_docs)]

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use sockio_core::engine::EngineConfig;
use sockio_server::socketio::{EmitError, SocketIo, SocketRef};
use sockio_ws::Message;
use sockio_ws::frame::{OpCode, encode_server_frame};
use support::{connect, next_text};
use tokio::runtime::Runtime;
use tokio::sync::{Notify, mpsc};

/// Sockets of the main namespace.
const RECEIVERS: usize = 10_000;
/// Sockets in the room (the first to connect), also the sockets of `/hundred`.
const ROOM: usize = 100;
/// The writer queue of a server connection (`max_buffered_packets`' default).
const QUEUE: usize = 10_000;
/// What each receiver gets, as the bench app of bench/APP.md sends it.
const EVENT: &str = r#"["bcast",{"t":123456,"p":"xxxxxxxxxxxxxxxx"}]"#;
/// The longest an untimed drain may take before the run is declared stuck.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

#[derive(Serialize)]
struct Payload {
    t: u64,
    p: &'static str,
}

const PAYLOAD: Payload = Payload {
    t: 123_456,
    p: "xxxxxxxxxxxxxxxx",
};

/// Deliveries counted by the receivers, and a wakeup once a target is met.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    target: AtomicU64,
    wrong: AtomicU64,
    reached: Notify,
}

impl Tally {
    fn add(&self, n: u64) {
        let now = self.delivered.fetch_add(n, Ordering::AcqRel) + n;
        if now >= self.target.load(Ordering::Acquire) {
            self.reached.notify_one();
        }
    }

    /// Expects `n` more deliveries; call before the send.
    fn arm(&self, n: usize) {
        let now = self.delivered.load(Ordering::Acquire);
        self.target.store(now + n as u64, Ordering::Release);
    }

    /// Waits until the armed target is met, and checks it is not passed.
    async fn drained(&self) {
        let target = self.target.load(Ordering::Acquire);
        let wait = async {
            loop {
                let reached = self.reached.notified();
                if self.delivered.load(Ordering::Acquire) >= target {
                    return;
                }
                reached.await;
            }
        };
        if tokio::time::timeout(DRAIN_LIMIT, wait).await.is_err() {
            panic!(
                "drain stuck: {} of {target} deliveries",
                self.delivered.load(Ordering::Acquire)
            );
        }
        let delivered = self.delivered.load(Ordering::Acquire);
        assert_eq!(delivered, target, "more deliveries than receivers");
        assert_eq!(
            self.wrong.load(Ordering::Acquire),
            0,
            "a receiver got a wrong frame"
        );
    }
}

/// The server with its receivers connected.
struct World {
    io: SocketIo,
    tally: Arc<Tally>,
}

/// Opens one in-memory connection to the server, connects to `/` (and to
/// `/hundred` if asked), then leaves a task counting what it receives.
async fn connect_receiver(io: &SocketIo, tally: Arc<Tally>, hundred: bool) {
    let mut ws = connect(io).await;
    if hundred {
        ws.send(Message::text("40/hundred,"))
            .await
            .expect("send CONNECT");
        let ok = next_text(&mut ws).await;
        assert!(ok.starts_with("40/hundred,{"), "CONNECT reply: {ok}");
    }
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            if text.starts_with("42") {
                if !text.ends_with(EVENT) {
                    tally.wrong.fetch_add(1, Ordering::Relaxed);
                }
                tally.add(1);
            } else if &*text == "2" && ws.send(Message::text("3")).await.is_err() {
                break;
            }
        }
    });
}

/// A server with `/` (the first `ROOM` sockets join "room") and
/// `/hundred` (every socket joins "room"), and `RECEIVERS` clients.
async fn setup() -> World {
    let engine = EngineConfig::default()
        .ping_interval(Duration::from_secs(300))
        .ping_timeout(Duration::from_secs(300));
    let io = SocketIo::builder().engine(engine).build();
    let joined = AtomicUsize::new(0);
    io.ns("/", move |socket: SocketRef| {
        if joined.fetch_add(1, Ordering::Relaxed) < ROOM {
            socket.join("room");
        }
    });
    io.ns("/hundred", |socket: SocketRef| socket.join("room"));
    let tally = Arc::new(Tally::default());
    // Connected one after the other: the first `ROOM` to join `/` are the
    // ones that also join `/hundred`.
    for i in 0..RECEIVERS {
        connect_receiver(&io, tally.clone(), i < ROOM).await;
    }
    assert_eq!(io.of("/").socket_count(), RECEIVERS, "sockets of /");
    let hundred = io.get_namespace("/hundred").expect("/hundred");
    assert_eq!(hundred.socket_count(), ROOM, "sockets of /hundred");
    let members = io.of("/").room_members("room").await;
    assert_eq!(
        members.expect("room members").len(),
        ROOM,
        "sockets in the room"
    );

    // One of each broadcast, checked to reach exactly its receivers.
    let world = World { io, tally };
    for (n, send) in [
        (RECEIVERS, Send::All),
        (ROOM, Send::Room),
        (ROOM, Send::HundredRoom),
    ] {
        world.tally.arm(n);
        if let Err(e) = send.run(&world.io) {
            panic!("{send:?} failed: {e}");
        }
        world.tally.drained().await;
        // Every task idle again: no receiver outside the selection got it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        world.tally.drained().await;
    }
    world
}

/// The broadcasts measured.
#[derive(Debug, Clone, Copy)]
enum Send {
    /// `io.emit`: every socket of `/`.
    All,
    /// `io.to("room").emit` in `/`.
    Room,
    /// `to("room").emit` in `/hundred`.
    HundredRoom,
}

impl Send {
    fn run(self, io: &SocketIo) -> Result<(), EmitError> {
        match self {
            Self::All => io.emit("bcast", &PAYLOAD),
            Self::Room => io.to("room").emit("bcast", &PAYLOAD),
            Self::HundredRoom => io
                .get_namespace("/hundred")
                .expect("/hundred")
                .to("room")
                .emit("bcast", &PAYLOAD),
        }
    }
}

/// `n` tokio channels of the writer queue's size, each drained by a task
/// parked in `recv_many` as a connection's writer task is.
fn floor_channels(n: usize, tally: &Arc<Tally>) -> Vec<mpsc::Sender<Bytes>> {
    (0..n)
        .map(|_| {
            let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
            let tally = tally.clone();
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(256);
                loop {
                    let got = rx.recv_many(&mut batch, 256).await;
                    if got == 0 {
                        break;
                    }
                    batch.clear();
                    tally.add(got as u64);
                }
            });
            tx
        })
        .collect()
}

/// The same senders in a fixed pseudo-random order (Fisher-Yates with
/// xorshift64*), as a server visits its connections' scattered state.
fn shuffled(channels: &[mpsc::Sender<Bytes>]) -> Vec<mpsc::Sender<Bytes>> {
    let mut out = channels.to_vec();
    let mut state = 0x5eed_u64;
    for i in (1..out.len()).rev() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let j = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// The frame every receiver of `/` gets: the Engine.IO message `4` + the
/// Socket.IO event `2[...]`, as one unmasked server frame.
fn event_frame() -> Bytes {
    encode_server_frame(OpCode::Text, format!("42{EVENT}").as_bytes())
}

fn broadcast(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let world = rt.block_on(setup());

    let floor_tally = Arc::new(Tally::default());
    let (floor_all, floor_room) = rt.block_on(async {
        (
            floor_channels(RECEIVERS, &floor_tally),
            floor_channels(ROOM, &floor_tally),
        )
    });
    let floor_shuffled = shuffled(&floor_all);
    let frame = event_frame();
    let mut evictor = Evictor::new();

    let mut group = c.benchmark_group("broadcast");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);

    group.throughput(Throughput::Elements(RECEIVERS as u64));
    group.bench_function("sockio_all/10000", |b| {
        b.iter_custom(|iters| timed_sends(&rt, &world, Send::All, RECEIVERS, iters, None));
    });
    group.bench_function("sockio_all_cold/10000", |b| {
        b.iter_custom(|iters| {
            timed_sends(&rt, &world, Send::All, RECEIVERS, iters, Some(&mut evictor))
        });
    });
    group.bench_function("floor_mpsc/10000", |b| {
        b.iter_custom(|iters| timed_floor(&rt, &floor_tally, &floor_all, &frame, iters, None));
    });
    group.bench_function("floor_mpsc_cold_random/10000", |b| {
        b.iter_custom(|iters| {
            timed_floor(
                &rt,
                &floor_tally,
                &floor_shuffled,
                &frame,
                iters,
                Some(&mut evictor),
            )
        });
    });

    group.throughput(Throughput::Elements(ROOM as u64));
    group.bench_function("sockio_room/100_of_10000", |b| {
        b.iter_custom(|iters| timed_sends(&rt, &world, Send::Room, ROOM, iters, None));
    });
    group.bench_function("sockio_room/100_of_100", |b| {
        b.iter_custom(|iters| timed_sends(&rt, &world, Send::HundredRoom, ROOM, iters, None));
    });
    group.bench_function("floor_mpsc/100", |b| {
        b.iter_custom(|iters| timed_floor(&rt, &floor_tally, &floor_room, &frame, iters, None));
    });
    group.finish();

    // Connections, sessions and tasks go with the runtime.
    drop(floor_shuffled);
    drop(floor_all);
    drop(floor_room);
    drop(world);
    drop(rt);
}

/// `iters` broadcasts, each timed alone and drained before the next.
fn timed_sends(
    rt: &Runtime,
    world: &World,
    send: Send,
    receivers: usize,
    iters: u64,
    mut evict: Option<&mut Evictor>,
) -> Duration {
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            world.tally.arm(receivers);
            let start = Instant::now();
            let sent = send.run(black_box(&world.io));
            total += start.elapsed();
            if let Err(e) = sent {
                panic!("{send:?} failed: {e}");
            }
            world.tally.drained().await;
            if let Some(evictor) = evict.as_deref_mut() {
                evictor.run();
            }
        }
        total
    })
}

/// `iters` fan-outs of `frame` into `channels`, each timed alone and
/// drained before the next.
fn timed_floor(
    rt: &Runtime,
    tally: &Tally,
    channels: &[mpsc::Sender<Bytes>],
    frame: &Bytes,
    iters: u64,
    mut evict: Option<&mut Evictor>,
) -> Duration {
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            tally.arm(channels.len());
            let start = Instant::now();
            for tx in black_box(channels) {
                if tx.try_send(frame.clone()).is_err() {
                    panic!("floor channel full or closed");
                }
            }
            total += start.elapsed();
            tally.drained().await;
            if let Some(evictor) = evict.as_deref_mut() {
                evictor.run();
            }
        }
        total
    })
}

/// Evicts the CPU caches between measurements (untimed) by writing every
/// cache line of a buffer twice the size of the last-level cache of the
/// machines the project runs on (32 MiB), so that a fan-out starts from
/// memory whatever the drain before it touched.
struct Evictor(Vec<u8>);

impl Evictor {
    fn new() -> Self {
        Self(vec![1; 64 << 20])
    }

    fn run(&mut self) {
        for line in self.0.chunks_mut(64) {
            line[0] = line[0].wrapping_add(1);
        }
        black_box(&mut self.0);
    }
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
