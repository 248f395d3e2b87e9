//! The session on a virtual clock: heartbeat, timeouts, upgrade, closes.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;

const INTERVAL: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(200);

fn config() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(INTERVAL)
        .ping_timeout(TIMEOUT)
        .upgrade_timeout(Duration::from_secs(10))
}

fn open(transport: TransportKind, t0: Instant) -> Session {
    let mut s = Session::new("sid1".into(), &config(), transport, Protocol::V4, t0);
    let first: Vec<_> = s.drain().collect();
    assert!(matches!(&first[..], [Packet::Open(_)]));
    s
}

fn ping() -> Packet {
    Packet::Ping(Bytes::new())
}

fn pong() -> Packet {
    Packet::Pong(Bytes::new())
}

#[test]
fn handshake_json_has_exactly_the_reference_keys() {
    let t0 = Instant::now();
    let mut polling = Session::new(
        "abc".into(),
        &config(),
        TransportKind::Polling,
        Protocol::V4,
        t0,
    );
    let Some(Packet::Open(json)) = polling.drain().next() else {
        panic!()
    };
    assert_eq!(
        &json[..],
        br#"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
    );
    let mut ws = Session::new(
        "abc".into(),
        &config(),
        TransportKind::WebSocket,
        Protocol::V4,
        t0,
    );
    let Some(Packet::Open(json)) = ws.drain().next() else {
        panic!()
    };
    assert!(json.windows(14).any(|w| w == br#""upgrades":[],"#));
    let no_upgrades = config().allow_upgrades(false);
    let mut s = Session::new(
        "abc".into(),
        &no_upgrades,
        TransportKind::Polling,
        Protocol::V4,
        t0,
    );
    let Some(Packet::Open(json)) = s.drain().next() else {
        panic!()
    };
    assert!(json.windows(14).any(|w| w == br#""upgrades":[],"#));
}

#[test]
fn first_ping_one_interval_after_open_never_at_once() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL));
    s.handle_timeout(t0);
    s.handle_timeout(t0 + INTERVAL - Duration::from_millis(1));
    assert_eq!(s.queued(), 0);
    s.handle_timeout(t0 + INTERVAL);
    assert_eq!(s.drain().collect::<Vec<_>>(), vec![ping()]);
    // The pong deadline is counted from when the ping was queued.
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
}

#[test]
fn pong_rearms_the_interval_from_its_arrival() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    let mut t = t0;
    for _ in 0..5 {
        t += INTERVAL;
        s.handle_timeout(t);
        assert_eq!(s.drain().collect::<Vec<_>>(), vec![ping()]);
        t += Duration::from_millis(50);
        s.handle_packet(pong(), t);
        assert_eq!(s.poll_timeout(), Some(t + INTERVAL));
    }
    assert!(!s.is_closed());
}

#[test]
fn missed_pong_closes_with_ping_timeout() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.handle_timeout(t0 + INTERVAL);
    s.handle_timeout(t0 + INTERVAL + TIMEOUT - Duration::from_millis(1));
    assert!(!s.is_closed());
    s.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
    assert_eq!(
        s.poll_event(),
        Some(Event::Closed(CloseReason::PingTimeout))
    );
    assert_eq!(s.poll_timeout(), None);
    // An idle polling client is gone within interval + timeout.
    assert!(!s.send(Packet::message("late")));
}

#[test]
fn late_and_unsolicited_pongs() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    // An unsolicited pong only re-arms the interval.
    s.handle_packet(pong(), t0 + Duration::from_millis(100));
    assert_eq!(
        s.poll_timeout(),
        Some(t0 + Duration::from_millis(100) + INTERVAL)
    );
    assert!(!s.is_closed());
    // A pong after the deadline comes too late.
    let t1 = t0 + Duration::from_millis(100) + INTERVAL;
    s.handle_timeout(t1);
    s.handle_timeout(t1 + TIMEOUT);
    s.handle_packet(pong(), t1 + TIMEOUT + Duration::from_millis(1));
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn client_ping_on_v4_is_a_transport_error() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    s.handle_packet(ping(), t0);
    assert_eq!(s.close_reason(), Some(CloseReason::TransportError));
}

#[test]
fn messages_become_events_in_order() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.handle_packet(Packet::message("a"), t0);
    s.handle_packet(Packet::binary(vec![1u8, 2]), t0);
    s.handle_packet(Packet::Noop, t0);
    s.handle_packet(Packet::message("b"), t0);
    assert_eq!(s.poll_event(), Some(Event::Message(Str::from("a"))));
    assert_eq!(
        s.poll_event(),
        Some(Event::Binary(Bytes::from_static(&[1, 2])))
    );
    assert_eq!(s.poll_event(), Some(Event::Message(Str::from("b"))));
    assert_eq!(s.poll_event(), None);
}

#[test]
fn polls_drain_everything_at_once() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    assert_eq!(s.poll_response(), None);
    s.send(Packet::message("1"));
    s.send(Packet::message("2"));
    assert_eq!(
        s.poll_response(),
        Some(vec![Packet::message("1"), Packet::message("2")])
    );
    assert_eq!(s.poll_response(), None);
}

#[test]
fn client_close_answers_the_pending_poll_with_noop() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.handle_packet(Packet::Close, t0);
    assert_eq!(s.close_reason(), Some(CloseReason::TransportClose));
    // Kept for a poll racing the close packet's POST.
    assert!(s.awaits_final_poll());
    assert_eq!(s.poll_response(), Some(vec![Packet::Noop]));
    assert!(!s.awaits_final_poll());
    assert_eq!(s.poll_response(), None);
    // An aborted poll is not owed anything.
    let mut s = open(TransportKind::Polling, t0);
    s.handle_transport_close();
    assert!(!s.awaits_final_poll());
}

#[test]
fn a_server_side_close_delivers_what_was_queued_first() {
    let t0 = Instant::now();
    for reason in [CloseReason::ForcedClose, CloseReason::ServerShuttingDown] {
        let mut s = open(TransportKind::Polling, t0);
        s.send(Packet::message("41/a,"));
        s.send(Packet::message("41/b,"));
        s.close(reason);
        assert!(!s.send(Packet::message("late")));
        assert!(s.awaits_final_poll());
        assert_eq!(
            s.poll_response(),
            Some(vec![Packet::message("41/a,"), Packet::message("41/b,")])
        );
        assert!(s.awaits_final_poll());
        assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
        assert!(!s.awaits_final_poll());
        assert_eq!(s.poll_response(), None);
    }
    // A session that failed owes nothing but its close.
    let mut s = open(TransportKind::Polling, t0);
    s.send(Packet::message("x"));
    s.handle_parse_error();
    assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
}

#[test]
fn server_side_closes_answer_the_pending_poll_with_close() {
    for close in [
        (|s: &mut Session| s.close(CloseReason::ForcedClose)) as fn(&mut Session),
        |s| s.close(CloseReason::ServerShuttingDown),
        |s| s.handle_transport_error(),
        |s| s.handle_parse_error(),
    ] {
        let t0 = Instant::now();
        let mut s = open(TransportKind::Polling, t0);
        close(&mut s);
        assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
        assert!(matches!(s.poll_event(), Some(Event::Closed(_))));
    }
}

#[test]
fn upgrade_probe_then_upgrade() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.start_upgrade(t0).unwrap();
    assert_eq!(
        s.start_upgrade(t0),
        Err(UpgradeRefused::NotAllowed),
        "one upgrade at a time"
    );
    assert_eq!(s.poll_response(), None, "no noop before the probe");
    assert_eq!(
        s.handle_upgrade_packet(Packet::Ping(Bytes::from_static(b"probe")), t0),
        UpgradeStep::Reply(Packet::Pong(Bytes::from_static(b"probe")))
    );
    // The pending poll is released with a noop so the client can upgrade:
    // not at the probe, but on engine.io's 100 ms check from it.
    assert_eq!(s.poll_response(), None, "no noop at the probe itself");
    let tick = Duration::from_millis(100);
    assert_eq!(s.poll_timeout(), Some(t0 + tick));
    s.handle_timeout(t0 + tick - Duration::from_millis(1));
    assert_eq!(s.poll_response(), None);
    s.handle_timeout(t0 + tick);
    assert_eq!(s.poll_response(), Some(vec![Packet::Noop]));
    assert_eq!(s.poll_response(), None, "one noop per tick");
    // And every 100 ms after, on the same grid even when a timer is late.
    assert_eq!(s.poll_timeout(), Some(t0 + 2 * tick));
    s.handle_timeout(t0 + 2 * tick + Duration::from_millis(30));
    assert_eq!(s.poll_response(), Some(vec![Packet::Noop]));
    assert_eq!(s.poll_timeout(), Some(t0 + 3 * tick));
    s.send(Packet::message("queued during upgrade"));
    assert_eq!(
        s.handle_upgrade_packet(Packet::Upgrade, t0),
        UpgradeStep::Upgraded
    );
    assert_eq!(s.transport(), TransportKind::WebSocket);
    assert!(s.is_upgraded());
    assert_eq!(s.poll_event(), Some(Event::Upgraded));
    // What was queued now goes to the WebSocket; polls get nothing.
    assert_eq!(
        s.drain().collect::<Vec<_>>(),
        vec![Packet::message("queued during upgrade")]
    );
    assert_eq!(s.poll_response(), Some(vec![Packet::Noop]));
    // No second upgrade, no second WebSocket.
    assert_eq!(s.start_upgrade(t0), Err(UpgradeRefused::NotAllowed));
}

#[test]
fn upgrade_times_out() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.start_upgrade(t0).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL));
    s.handle_packet(pong(), t0);
    s.handle_timeout(t0 + Duration::from_secs(10));
    assert!(!s.is_upgrading());
    assert_eq!(s.poll_event(), Some(Event::UpgradeFailed));
    assert_eq!(s.transport(), TransportKind::Polling);
    // A new attempt is allowed.
    s.start_upgrade(t0 + Duration::from_secs(11)).unwrap();
}

#[test]
fn bad_probe_aborts_the_upgrade_only() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.start_upgrade(t0).unwrap();
    assert_eq!(
        s.handle_upgrade_packet(Packet::Upgrade, t0),
        UpgradeStep::Abort,
        "upgrade before probe"
    );
    assert_eq!(s.poll_event(), Some(Event::UpgradeFailed));
    assert!(!s.is_closed());
    s.start_upgrade(t0).unwrap();
    s.abort_upgrade();
    assert!(!s.is_upgrading());
}

#[test]
fn websocket_sessions_cannot_upgrade() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    assert_eq!(s.start_upgrade(t0), Err(UpgradeRefused::NotAllowed));
    s.close(CloseReason::ForcedClose);
    assert_eq!(s.start_upgrade(t0), Err(UpgradeRefused::Closed));
}

#[test]
fn v3_client_pings_and_server_answers() {
    let t0 = Instant::now();
    let mut s = Session::new(
        "v3".into(),
        &config(),
        TransportKind::Polling,
        Protocol::V3,
        t0,
    );
    let _ = s.drain().count();
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
    s.handle_packet(Packet::Ping(Bytes::from_static(b"x")), t0 + INTERVAL);
    assert_eq!(
        s.drain().collect::<Vec<_>>(),
        vec![Packet::Pong(Bytes::from_static(b"x"))]
    );
    s.handle_timeout(t0 + INTERVAL * 2 + TIMEOUT);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_client_that_stops_polling_is_closed_past_the_buffer_cap() {
    let t0 = Instant::now();
    let config = config().max_buffered_packets(100);
    let mut s = Session::new(
        "slow".into(),
        &config,
        TransportKind::Polling,
        Protocol::V4,
        t0,
    );
    let _ = s.poll_response();
    for i in 0..100 {
        assert!(s.send(Packet::message(format!("{i}"))));
    }
    assert!(!s.send(Packet::message("one too many")));
    assert_eq!(s.close_reason(), Some(CloseReason::SlowConsumer));
    assert_eq!(
        s.poll_event(),
        Some(Event::Closed(CloseReason::SlowConsumer))
    );
    // Nothing is kept for a closed session but its final packet.
    assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
}

#[test]
fn a_server_close_on_polling_waits_for_the_next_poll() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.close(CloseReason::ForcedClose);
    assert!(s.awaits_final_poll());
    assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
    assert!(!s.awaits_final_poll());
    // Timeouts and client closes do not wait: the client is gone.
    let mut s = open(TransportKind::Polling, t0);
    s.handle_timeout(t0 + INTERVAL);
    s.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert!(!s.awaits_final_poll());
    let mut s = open(TransportKind::WebSocket, t0);
    s.close(CloseReason::ForcedClose);
    assert!(!s.awaits_final_poll());
}

#[test]
fn a_late_timer_does_not_extend_the_deadline() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    // The timer for the ping fires 30 ms late.
    s.handle_timeout(t0 + INTERVAL + Duration::from_millis(30));
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
    s.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

/// The slack of [`config`]: a quarter of its ping timeout.
const SLACK: Duration = Duration::from_millis(50);

#[test]
fn a_ping_sent_after_a_server_stall_counts_from_when_it_went_out() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    // The server was not running for 1 s when the ping became due.
    let resumed = t0 + INTERVAL + Duration::from_secs(1);
    s.handle_timeout(resumed);
    assert_eq!(s.drain().collect::<Vec<_>>(), [ping()]);
    assert_eq!(s.poll_timeout(), Some(resumed + TIMEOUT - SLACK));
    // The timers run again at once: the client is not failed for the
    // server's pause.
    s.handle_timeout(resumed + Duration::from_millis(1));
    assert_eq!(s.close_reason(), None);
    s.handle_packet(pong(), resumed + Duration::from_millis(5));
    assert_eq!(
        s.poll_timeout(),
        Some(resumed + Duration::from_millis(5) + INTERVAL)
    );
    // A client that does not answer is still closed, the timeout (less the
    // slack) after the ping went out.
    let mut s = open(TransportKind::WebSocket, t0);
    s.handle_timeout(resumed);
    s.handle_timeout(resumed + TIMEOUT - SLACK - Duration::from_millis(1));
    assert_eq!(s.close_reason(), None);
    s.handle_timeout(resumed + TIMEOUT - SLACK);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_pong_deadline_that_passed_during_a_stall_gives_the_client_the_slack() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::WebSocket, t0);
    s.handle_timeout(t0 + INTERVAL);
    assert_eq!(s.drain().collect::<Vec<_>>(), [ping()]);
    // The server stalls from just after the ping until 1 s past the pong
    // deadline; the client's pong is waiting, unread.
    let resumed = t0 + INTERVAL + TIMEOUT + Duration::from_secs(1);
    s.handle_timeout(resumed);
    assert_eq!(s.close_reason(), None);
    assert_eq!(s.poll_timeout(), Some(resumed + SLACK));
    s.handle_packet(pong(), resumed + Duration::from_millis(1));
    s.handle_timeout(resumed + SLACK);
    assert_eq!(s.close_reason(), None);
    // Without a pong, the session closes once the slack is over.
    let mut s = open(TransportKind::WebSocket, t0);
    s.handle_timeout(t0 + INTERVAL);
    s.handle_timeout(resumed);
    s.handle_timeout(resumed + SLACK);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_timer_late_by_the_slack_still_closes_an_idle_client_on_time() {
    let t0 = Instant::now();
    let mut s = open(TransportKind::Polling, t0);
    s.handle_timeout(t0 + INTERVAL + SLACK);
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
    // The close timer is late by the slack too: still a ping timeout.
    s.handle_timeout(t0 + INTERVAL + TIMEOUT + SLACK);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_v3_client_whose_ping_waited_out_a_stall_is_not_failed() {
    let t0 = Instant::now();
    let mut s = Session::new(
        "sid3".into(),
        &config(),
        TransportKind::WebSocket,
        Protocol::V3,
        t0,
    );
    let resumed = t0 + INTERVAL + TIMEOUT + Duration::from_secs(1);
    s.handle_timeout(resumed);
    assert_eq!(s.close_reason(), None);
    s.handle_packet(ping(), resumed + Duration::from_millis(1));
    s.handle_timeout(resumed + SLACK);
    assert_eq!(s.close_reason(), None);
}

#[test]
fn the_buffer_is_bounded_in_bytes_too() {
    let t0 = Instant::now();
    let config = config().max_buffered_bytes(10_000);
    let mut s = Session::new(
        "big".into(),
        &config,
        TransportKind::Polling,
        Protocol::V4,
        t0,
    );
    let _ = s.poll_response();
    // One packet larger than the limit goes into an empty queue.
    assert!(s.send(Packet::message("x".repeat(20_000))));
    assert_eq!(s.queued_bytes(), 20_000);
    let _ = s.poll_response();
    assert_eq!(s.queued_bytes(), 0);
    for _ in 0..10 {
        assert!(s.send(Packet::message("y".repeat(1_000))));
    }
    assert!(!s.send(Packet::binary(vec![0u8; 1])));
    assert_eq!(s.close_reason(), Some(CloseReason::SlowConsumer));
    // What was queued for it is dropped at once.
    assert_eq!(s.queued(), 0);
    assert_eq!(s.queued_bytes(), 0);
    assert_eq!(s.poll_response(), Some(vec![Packet::Close]));
}
