use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::*;
use crate::socket::{Args, Packet, RawJson};

/// Sockets that record what they were sent.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(SocketId, Packet)>>,
    disconnected: Mutex<Vec<(SocketId, bool)>>,
    ids: AtomicU64,
}

impl Recorder {
    fn take(&self) -> Vec<(String, Packet)> {
        let mut sent: Vec<_> = std::mem::take(&mut *self.sent.lock().unwrap())
            .into_iter()
            .map(|(s, p)| (s.to_string(), p))
            .collect();
        sent.sort_by(|a, b| a.0.cmp(&b.0));
        sent
    }

    fn receivers(&self) -> Vec<String> {
        self.take().into_iter().map(|(s, _)| s).collect()
    }
}

impl LocalSockets for Recorder {
    fn send(&self, sids: &[SocketId], packet: &Packet, _: &BroadcastFlags) {
        let mut sent = self.sent.lock().unwrap();
        sent.extend(sids.iter().map(|s| (s.clone(), packet.clone())));
    }

    fn send_to_all(&self, packet: &Packet, flags: &BroadcastFlags) {
        // The sockets the fixture connects.
        let all: Vec<SocketId> = vec!["a".into(), "b".into(), "c".into()];
        self.send(&all, packet, flags);
    }

    fn send_with_ack(
        &self,
        sids: &[SocketId],
        packet: &Packet,
        flags: &BroadcastFlags,
        _: &Arc<dyn AckSink>,
    ) -> usize {
        self.send(sids, packet, flags);
        sids.len()
    }

    fn disconnect(&self, sids: &[SocketId], close: bool) {
        let mut d = self.disconnected.lock().unwrap();
        d.extend(sids.iter().map(|s| (s.clone(), close)));
    }

    fn describe(&self, sid: &SocketId) -> Option<SocketInfo> {
        Some(SocketInfo::new(
            sid.clone(),
            RawJson::new("{}").unwrap(),
            None,
        ))
    }

    fn next_ack_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

struct VirtualClock(Mutex<Instant>);

impl VirtualClock {
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

fn setup(recovery: Option<RecoveryConfig>) -> (Arc<Recorder>, LocalAdapter, Arc<VirtualClock>) {
    let sockets = Arc::new(Recorder::default());
    let weak = Arc::downgrade(&sockets) as Weak<dyn LocalSockets>;
    let clock = Arc::new(VirtualClock(Mutex::new(Instant::now())));
    let c = clock.clone();
    let mut ctx = AdapterContext::new("/", weak)
        .with_clock(Arc::new(move || *c.0.lock().unwrap()))
        .with_server_id("srv");
    if let Some(r) = recovery {
        ctx = ctx.with_recovery(r);
    }
    let adapter = LocalAdapter::new(ctx);
    // a in lobby and red, b in lobby, c alone.
    adapter.add_all(&"a".into(), &["a".into(), "lobby".into(), "red".into()]);
    adapter.add_all(&"b".into(), &["b".into(), "lobby".into()]);
    adapter.add_all(&"c".into(), &["c".into()]);
    (sockets, adapter, clock)
}

fn event(name: &str) -> Packet {
    Packet::event("/", Args::event(name))
}

fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
    let mut o = BroadcastOptions::to(rooms.iter().copied());
    for e in except {
        o.add_except((*e).into());
    }
    o
}

#[test]
fn selection_follows_rooms_and_exceptions() {
    let (sockets, adapter, _) = setup(None);
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&[], &[], &["a", "b", "c"]),
        (&["lobby"], &[], &["a", "b"]),
        (&["lobby", "red"], &[], &["a", "b"]),
        (&["lobby"], &["red"], &["b"]),
        (&[], &["lobby"], &["c"]),
        (&["c", "a"], &[], &["a", "c"]),
        (&["nobody"], &[], &[]),
        (&[], &["a"], &["b", "c"]),
    ];
    for (rooms, except, expected) in cases {
        adapter.broadcast(event("x"), opts(rooms, except)).unwrap();
        assert_eq!(
            sockets.receivers(),
            *expected,
            "to {rooms:?} except {except:?}"
        );
    }
}

#[test]
fn rooms_are_kept_in_step() {
    let (_, adapter, _) = setup(None);
    let a: SocketId = "a".into();
    let mut rooms = adapter.socket_rooms(&a);
    rooms.sort();
    assert_eq!(
        rooms,
        ["a".into(), "lobby".into(), "red".into()] as [Room; 3]
    );
    adapter.del(&a, "red");
    assert!(!adapter.rooms().contains(&a, "red"));
    assert_eq!(adapter.rooms().members("red").count(), 0);
    adapter.del_all(&a);
    assert!(adapter.socket_rooms(&a).is_empty());
    assert_eq!(adapter.rooms().socket_count(), 2);
    // Empty rooms are dropped.
    assert_eq!(adapter.rooms().room_count(), 3); // b, lobby, c
}

#[test]
fn add_and_del_sockets_by_selection() {
    let (sockets, adapter, _) = setup(None);
    adapter.add_sockets(opts(&["lobby"], &[]), &["game".into()]);
    adapter.broadcast(event("x"), opts(&["game"], &[])).unwrap();
    assert_eq!(sockets.receivers(), ["a", "b"]);
    adapter.del_sockets(opts(&["red"], &[]), &["game".into()]);
    adapter.broadcast(event("x"), opts(&["game"], &[])).unwrap();
    assert_eq!(sockets.receivers(), ["b"]);
}

#[test]
fn fetch_and_disconnect_select_the_same_sockets() {
    let (sockets, adapter, _) = setup(None);
    let mut fetched = futures_ready(adapter.fetch_sockets(opts(&["lobby"], &["b"]))).unwrap();
    assert_eq!(fetched.len(), 1);
    let a = fetched.remove(0);
    assert_eq!(&*a.id, "a");
    assert_eq!(a.rooms.len(), 3);
    adapter.disconnect_sockets(opts(&["lobby"], &[]), true);
    let mut d = sockets.disconnected.lock().unwrap().clone();
    d.sort();
    assert_eq!(d, [("a".into(), true), ("b".into(), true)]);
    let mut ids = futures_ready(adapter.sockets(&["lobby".into()])).unwrap();
    ids.sort();
    assert_eq!(ids, ["a".into(), "b".into()] as [SocketId; 2]);
}

#[test]
fn broadcast_with_ack_shares_one_id_and_counts_receivers() {
    #[derive(Default)]
    struct Count(Mutex<Vec<usize>>);
    impl AckSink for Count {
        fn expect(&self, n: usize) {
            self.0.lock().unwrap().push(n);
        }
        fn ack(&self, _: Args) {}
    }
    let (sockets, adapter, _) = setup(None);
    let count = Arc::new(Count::default());
    adapter
        .broadcast_with_ack(event("q"), opts(&["lobby"], &[]), count.clone())
        .unwrap();
    adapter
        .broadcast_with_ack(event("q"), opts(&[], &[]), count.clone())
        .unwrap();
    assert_eq!(*count.0.lock().unwrap(), [2, 3]);
    let sent = sockets.take();
    let ids: Vec<_> = sent.iter().map(|(_, p)| p.id).collect();
    assert_eq!(ids.iter().filter(|i| **i == Some(0)).count(), 2);
    assert_eq!(ids.iter().filter(|i| **i == Some(1)).count(), 3);
}

fn futures_ready<T>(f: BoxFuture<'_, T>) -> T {
    // The local adapter's futures are ready at once.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = f;
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("local adapter future not ready"),
    }
}

fn last_string(p: &Packet) -> String {
    let args = p.args().unwrap();
    args.get(args.len() - 1)
        .unwrap()
        .as_string()
        .unwrap()
        .into_owned()
}

#[test]
fn recovery_replays_what_the_session_missed() {
    let (sockets, adapter, clock) = setup(Some(RecoveryConfig::default()));
    adapter.broadcast(event("one"), opts(&[], &[])).unwrap();
    let offset = last_string(&sockets.take()[0].1);
    assert!(offset.starts_with("srv-"), "{offset}");

    // a disconnects; events go on.
    adapter.del_all(&"a".into());
    adapter.persist_session(PersistedSession::new(
        "a".into(),
        "pid-a".into(),
        vec!["a".into(), "lobby".into(), "red".into()],
        Some(RawJson::new(r#"{"n":1}"#).unwrap()),
    ));
    clock.advance(Duration::from_secs(30));
    adapter.broadcast(event("all"), opts(&[], &[])).unwrap();
    adapter
        .broadcast(event("lobby"), opts(&["lobby"], &[]))
        .unwrap();
    adapter
        .broadcast(event("not-red"), opts(&[], &["red"]))
        .unwrap();
    adapter
        .broadcast(event("c-only"), opts(&["c"], &[]))
        .unwrap();
    adapter
        .broadcast(event("volatile"), {
            let mut o = opts(&[], &[]);
            o.flags.volatile = true;
            o
        })
        .unwrap();
    adapter
        .broadcast(event("with-ack").with_id(9), opts(&[], &[]))
        .unwrap();

    let restored = futures_ready(adapter.restore_session("pid-a", &offset))
        .unwrap()
        .expect("restored");
    assert_eq!(&*restored.session.sid, "a");
    assert_eq!(
        restored.session.data.as_ref().unwrap().as_str(),
        r#"{"n":1}"#
    );
    let names: Vec<_> = restored
        .missed
        .iter()
        .map(|a| a.event_name().unwrap().into_owned())
        .collect();
    assert_eq!(names, ["all", "lobby"]);
    // Each missed event carries its offset last.
    assert!(restored.missed.iter().all(|a| a.len() == 2));
    // A session is restored once.
    assert!(
        futures_ready(adapter.restore_session("pid-a", &offset))
            .unwrap()
            .is_none()
    );
}

#[test]
fn recovery_refuses_expired_sessions_and_unknown_offsets() {
    let config = RecoveryConfig::default()
        .max_disconnection_duration(Duration::from_secs(60))
        .max_packets(3);
    let (sockets, adapter, clock) = setup(Some(config));
    adapter.broadcast(event("e0"), opts(&[], &[])).unwrap();
    let first = last_string(&sockets.take()[0].1);
    let session = || PersistedSession::new("a".into(), "p".into(), vec!["a".into()], None);

    // Expired session.
    adapter.persist_session(session());
    clock.advance(Duration::from_secs(61));
    adapter.broadcast(event("e1"), opts(&[], &[])).unwrap();
    let offset = last_string(&sockets.take()[0].1);
    assert!(
        futures_ready(adapter.restore_session("p", &offset))
            .unwrap()
            .is_none()
    );

    // Unknown and malformed offsets, an unknown pid.
    adapter.persist_session(session());
    for bad in ["srv-ffff", "nope", "", "srv-", "other-0"] {
        assert!(
            futures_ready(adapter.restore_session("p", bad))
                .unwrap()
                .is_none(),
            "{bad}"
        );
    }
    assert!(
        futures_ready(adapter.restore_session("q", &offset))
            .unwrap()
            .is_none()
    );

    // An offset evicted by the count limit (e0 expired with time anyway;
    // e1 is pushed out by three more).
    for _ in 0..3 {
        adapter.broadcast(event("more"), opts(&[], &[])).unwrap();
    }
    assert!(
        futures_ready(adapter.restore_session("p", &offset))
            .unwrap()
            .is_none()
    );
    assert!(
        futures_ready(adapter.restore_session("p", &first))
            .unwrap()
            .is_none()
    );
}

#[test]
fn recovery_store_stays_bounded() {
    let config = RecoveryConfig::default().max_packets(100);
    let (sockets, adapter, clock) = setup(Some(config));
    for i in 0..10_000u32 {
        adapter.broadcast(event("x"), opts(&["c"], &[])).unwrap();
        adapter.persist_session(PersistedSession::new(
            "a".into(),
            format!("pid{i}"),
            Vec::new(),
            None,
        ));
        clock.advance(Duration::from_millis(50));
    }
    sockets.take();
    let (sessions, packets) = adapter.recovery.as_ref().unwrap().lock().unwrap().kept();
    assert_eq!(packets, 100);
    // 2 minutes of sessions at one per 50 ms.
    assert!(sessions <= 2_401, "{sessions}");
}

#[test]
fn options_serialize_as_the_reference_does() {
    let mut o = BroadcastOptions::to(["r1"]);
    o.add_except("r2".into());
    o.flags.volatile = true;
    o.flags.timeout = Some(Duration::from_millis(1500));
    let json = serde_json::to_string(&o).unwrap();
    assert_eq!(
        json,
        r#"{"rooms":["r1"],"except":["r2"],"flags":{"volatile":true,"timeout":1500}}"#
    );
    let back: BroadcastOptions = serde_json::from_str(&json).unwrap();
    assert_eq!(back, o);
    let minimal: BroadcastOptions = serde_json::from_str(r#"{"rooms":[]}"#).unwrap();
    assert_eq!(minimal, BroadcastOptions::all());
    assert!(minimal.flags.compress);
}
