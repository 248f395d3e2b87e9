//! The WebSocket transport: sessions opened directly on a WebSocket, and
//! the probe-then-upgrade path from long-polling.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use sockio_core::engine::{Packet, Protocol, TransportKind, UpgradeStep, WsFrame};
use sockio_ws::{Message, Role, WebSocketStream, WsReader, handshake::server::Accepted};

use super::session::{SessionEntry, now};
use super::upgraded::UpgradedIo;
use super::{EngineError, EngineSocket, Inner, new_sid, set_cookie};

type Upgraded = UpgradedIo;

/// The WebSocket message carrying `packet`.
pub(crate) fn packet_to_ws(packet: &Packet, protocol: Protocol) -> Message {
    match packet.encode_ws(protocol) {
        // Packets hold UTF-8 text (see `Packet`); a packet built with
        // anything else goes out empty rather than as invalid text.
        WsFrame::Text(text) => {
            Message::Text(sockio_ws::Utf8Bytes::try_from_bytes(text).unwrap_or_default())
        }
        WsFrame::Binary(data) => Message::Binary(data),
    }
}

/// The packet a WebSocket message carries, or `None` for control frames.
fn ws_to_packet(msg: Message, protocol: Protocol) -> Option<Result<Packet, ()>> {
    match msg {
        Message::Text(text) => {
            Some(Packet::decode_ws_text(text.into_bytes(), protocol).map_err(|_| ()))
        }
        Message::Binary(data) => Some(Packet::decode_ws_binary(data, protocol).map_err(|_| ())),
        _ => None,
    }
}

/// Checks the WebSocket handshake and, if valid, answers 101 and runs
/// `then` on the upgraded connection.
fn upgrade<B, F, Fut>(
    inner: &Arc<Inner>,
    mut req: Request<B>,
    then: F,
) -> http::Response<Full<Bytes>>
where
    F: FnOnce(WebSocketStream<Upgraded>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let accepted: Accepted = match sockio_ws::handshake::server::accept(&req, &inner.ws_config) {
        Ok(a) => a,
        Err(err) => {
            let mut res = EngineError::BadRequest.upgrade_response(None);
            if matches!(err, sockio_ws::HandshakeError::UnsupportedVersion) {
                // RFC 6455 section 4.4: name the version this server speaks.
                *res.status_mut() = http::StatusCode::UPGRADE_REQUIRED;
                res.headers_mut().insert(
                    "sec-websocket-version",
                    http::HeaderValue::from_static("13"),
                );
            }
            return res;
        }
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let engine = inner.clone();
    let deflate = accepted.deflate;
    let fut = async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        // In a block: what builds the stream is not kept in the task for
        // the connection's life.
        let ws = {
            let engine = engine;
            let (io, read_ahead) = UpgradedIo::new(upgraded);
            WebSocketStream::from_partially_read(
                io,
                read_ahead,
                Role::Server,
                &engine.ws_config,
                deflate,
            )
        };
        then(ws).await;
    };
    tokio::spawn(fut);
    accepted.response().map(|()| Full::new(Bytes::new()))
}

/// A session opened directly on WebSocket (no polling first).
pub(crate) fn handshake<B>(
    inner: &Arc<Inner>,
    req: Request<B>,
    protocol: Protocol,
) -> http::Response<Full<Bytes>> {
    let sid = new_sid();
    if sid.is_empty() {
        return EngineError::BadRequest.upgrade_response(None);
    }
    let request = Arc::new(super::RequestInfo::from_request(&req));
    let weak = Arc::downgrade(inner);
    let session_id = sid.clone();
    let mut res = upgrade(inner, req, move |ws| async move {
        // Opened in a plain function: its locals are not kept in the task
        // for the connection's life.
        if let Some((inner, entry, reader)) = open_session(&weak, session_id, request, protocol, ws)
        {
            read_loop(inner, entry, reader, protocol).await;
        }
    });
    if res.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        set_cookie(inner, &mut res, &sid);
    }
    res
}

/// Registers a session opened directly on `ws` and tells the handler;
/// returns what its read loop needs.
fn open_session(
    weak: &std::sync::Weak<Inner>,
    sid: String,
    request: Arc<super::RequestInfo>,
    protocol: Protocol,
    ws: WebSocketStream<Upgraded>,
) -> Option<(Arc<Inner>, Arc<SessionEntry>, WsReader<Upgraded>)> {
    let inner = weak.upgrade()?;
    let (reader, writer) = ws.split();
    let entry = SessionEntry::open(&inner, sid, TransportKind::WebSocket, protocol, request);
    {
        let mut state = entry.lock();
        state.ws = Some(writer);
        entry.process(&inner, state).run(&inner, &entry);
    }
    let socket = EngineSocket {
        entry: entry.clone(),
        engine: Arc::downgrade(&inner),
    };
    inner.handler.on_open(&socket);
    Some((inner, entry, reader))
}

/// A WebSocket for an existing polling session: probe, then upgrade.
pub(crate) fn upgrade_session<B>(
    inner: &Arc<Inner>,
    entry: &Arc<SessionEntry>,
    req: Request<B>,
) -> http::Response<Full<Bytes>> {
    let (protocol, refused) = {
        let mut state = entry.lock();
        let refused = state.core.start_upgrade(now()).is_err();
        let protocol = state.core.protocol();
        entry.process(inner, state).run(inner, entry);
        (protocol, refused)
    };
    if refused {
        // The reference completes the WebSocket handshake and closes the
        // connection at once when the session is upgrading or upgraded.
        return upgrade(inner, req, |ws| async move {
            let (mut reader, writer) = ws.split();
            let _ = writer.close(None).await;
            while reader.next().await.is_some() {}
        });
    }
    let weak = Arc::downgrade(inner);
    let probe_entry = entry.clone();
    let response = upgrade(inner, req, move |ws| async move {
        let Some(inner) = weak.upgrade() else { return };
        probe(inner, probe_entry, ws, protocol).await;
    });
    if !response.status().is_informational() {
        let mut state = entry.lock();
        state.core.abort_upgrade();
        entry.process(inner, state).run(inner, entry);
    }
    response
}

/// Runs the probe: answers `2probe` with `3probe`, and on `5` makes this
/// WebSocket the session's transport. Gives up (closing the WebSocket) on
/// anything else, when the upgrade times out, or when the session closes.
async fn probe(
    inner: Arc<Inner>,
    entry: Arc<SessionEntry>,
    ws: WebSocketStream<Upgraded>,
    protocol: Protocol,
) {
    let (mut reader, writer) = ws.split();
    let mut probed = false;
    loop {
        let changed = entry.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let (upgrading, closed) = {
            let state = entry.lock();
            (state.core.is_upgrading(), state.core.is_closed())
        };
        if !upgrading {
            if closed && probed {
                // The session closed after the client got its 3probe: the
                // client is pausing polling to switch over, and a probe that
                // closes now would leave it paused for good (engine.io-client
                // then gives up only at its ping timeout). Let it switch (its
                // `5`), then close: it sees the close on its new transport.
                let wait = inner.config.engine.upgrade_timeout;
                let _ = tokio::time::timeout(wait, reader.next()).await;
            }
            let _ = writer.close(None).await;
            return;
        }
        let msg = tokio::select! {
            msg = reader.next() => msg,
            () = &mut changed => continue,
        };
        let packet = match msg.map(|m| m.map(|m| ws_to_packet(m, protocol))) {
            Some(Ok(Some(Ok(packet)))) => packet,
            Some(Ok(None)) => continue,
            _ => {
                let mut state = entry.lock();
                state.core.abort_upgrade();
                entry.process(&inner, state).run(&inner, &entry);
                return;
            }
        };
        let upgraded = {
            let mut state = entry.lock();
            let step = state.core.handle_upgrade_packet(packet, now());
            match &step {
                UpgradeStep::Reply(reply) => {
                    probed = true;
                    let _ = writer.try_send(packet_to_ws(reply, protocol));
                }
                UpgradeStep::Upgraded => state.ws = Some(writer.clone()),
                UpgradeStep::Wait | UpgradeStep::Abort => {}
            }
            entry.process(&inner, state).run(&inner, &entry);
            step
        };
        match upgraded {
            UpgradeStep::Upgraded => break,
            UpgradeStep::Abort => {
                let _ = writer.close(None).await;
                return;
            }
            UpgradeStep::Reply(_) | UpgradeStep::Wait => {}
        }
    }
    read_loop(inner, entry, reader, protocol).await;
}

/// Reads packets from the session's WebSocket until it ends; a WebSocket
/// that ends closes the session. Once the session is closed (its close
/// frame sent), reading goes on only to complete the close handshake.
async fn read_loop(
    inner: Arc<Inner>,
    entry: Arc<SessionEntry>,
    mut reader: WsReader<Upgraded>,
    protocol: Protocol,
) {
    let mut failed = false;
    let mut closed = false;
    // Handlers run in this loop and send with `try_send`: what they send
    // to this connection is written here, before the next read, without
    // waking the writer task.
    reader.batch_replies();
    while let Some(msg) = reader.next().await {
        if closed {
            continue;
        }
        let packet = match msg {
            Ok(m) => match ws_to_packet(m, protocol) {
                Some(p) => p,
                None => continue,
            },
            // A peer that drops TCP without a close frame closed the
            // transport (the reference's "transport close"); anything else
            // is a transport error.
            Err(sockio_ws::Error::ResetWithoutClose) => break,
            Err(_) => {
                // The session fails now; reading goes on only so that the
                // peer gets our close frame (sockio-ws drains, bounded).
                failed = true;
                closed = true;
                let mut state = entry.lock();
                state.core.handle_transport_error();
                entry.process(&inner, state).run(&inner, &entry);
                continue;
            }
        };
        let mut state = entry.lock();
        match packet {
            Ok(p) => state.core.handle_packet(p, now()),
            Err(()) => state.core.handle_parse_error(),
        }
        closed = state.core.is_closed();
        entry.process(&inner, state).run(&inner, &entry);
    }
    let mut state = entry.lock();
    if failed {
        state.core.handle_transport_error();
    } else {
        state.core.handle_transport_close();
    }
    entry.process(&inner, state).run(&inner, &entry);
}
