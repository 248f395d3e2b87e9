//! HTTP long-polling: the handshake GET, GETs that wait for packets, POSTs
//! that deliver them.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use sockio_core::engine::{Protocol, TransportKind, decode_payload, encode_payload};

use super::session::{SessionEntry, now};
use super::{EngineError, EngineSocket, Inner, new_sid, set_cookie};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens a session on long-polling and answers with its open packet.
pub(crate) fn handshake(
    inner: &Arc<Inner>,
    protocol: Protocol,
    request: Arc<super::RequestInfo>,
) -> Response<Full<Bytes>> {
    let sid = new_sid();
    if sid.is_empty() {
        return EngineError::BadRequest.http_response(None);
    }
    let entry = SessionEntry::open(
        inner,
        sid.clone(),
        TransportKind::Polling,
        protocol,
        request,
    );
    // The handshake response carries the open packet alone, as the
    // reference's does; what the handler sends on open waits for the
    // next poll.
    let packets = {
        let mut state = entry.lock();
        let packets = state.core.poll_response().unwrap_or_default();
        entry.process(inner, state).run(inner, &entry);
        packets
    };
    let socket = EngineSocket {
        entry,
        engine: Arc::downgrade(inner),
    };
    inner.handler.on_open(&socket);
    let mut res = payload_response(&packets, protocol, true);
    set_cookie(inner, &mut res, &sid);
    res
}

/// Answers a GET once the session has something to send. A second GET
/// while one waits fails the session (the first gets the close packet);
/// a GET the client abandons closes it.
pub(crate) async fn poll(inner: Arc<Inner>, entry: Arc<SessionEntry>) -> Response<Full<Bytes>> {
    {
        let mut state = entry.lock();
        if state.poll_waiting {
            state.core.handle_transport_error();
            entry.process(&inner, state).run(&inner, &entry);
            return empty(StatusCode::BAD_REQUEST);
        }
        state.poll_waiting = true;
    }
    let mut guard = AbandonGuard {
        inner: &inner,
        entry: &entry,
        armed: true,
    };
    loop {
        let changed = entry.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            let mut state = entry.lock();
            let queued = state.core.queued();
            if let Some(packets) = state.core.poll_response() {
                state.poll_waiting = false;
                guard.armed = false;
                // Compressed unless the response is the queue and every
                // packet in it was sent with `compress: false`.
                let mut compress = true;
                if queued > 0 && state.core.queued() == 0 {
                    compress = state.uncompressed < packets.len();
                    state.uncompressed = 0;
                }
                let protocol = state.core.protocol();
                entry.process(&inner, state).run(&inner, &entry);
                return payload_response(&packets, protocol, compress);
            }
        }
        changed.await;
    }
}

/// Closes the session if a waiting GET is dropped (the client went away).
struct AbandonGuard<'a> {
    inner: &'a Arc<Inner>,
    entry: &'a Arc<SessionEntry>,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.entry.lock();
            state.poll_waiting = false;
            if state.core.transport() == TransportKind::Polling {
                state.core.handle_transport_close();
            }
            self.entry
                .process(self.inner, state)
                .run(self.inner, self.entry);
        }
    }
}

/// Delivers the packets of a POST body. Answers `ok`; 413 for a body over
/// `max_payload`; 400 (and the session closed) for a body that is not an
/// Engine.IO payload or a POST overlapping another.
pub(crate) async fn post<B>(
    inner: Arc<Inner>,
    entry: Arc<SessionEntry>,
    content_length: Option<u64>,
    binary: bool,
    body: B,
) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let max = inner.config.engine.max_payload;
    if content_length.is_some_and(|len| len > max as u64) {
        // Refused before any of it is read.
        return too_large(Box::pin(body));
    }
    {
        let mut state = entry.lock();
        if state.post_active {
            state.core.handle_transport_error();
            entry.process(&inner, state).run(&inner, &entry);
            return empty(StatusCode::BAD_REQUEST);
        }
        // v4 bodies are text; a binary body is what the reference calls
        // invalid content.
        if binary && state.core.protocol() == Protocol::V4 {
            state.core.handle_parse_error();
            entry.process(&inner, state).run(&inner, &entry);
            return close_connection(empty(StatusCode::BAD_REQUEST));
        }
        state.post_active = true;
    }
    // A body that never finishes holds its connection and what it sent so
    // far: it gets the body timeout, and no longer than its session lives.
    let timeout = inner.config.body_timeout;
    let body = tokio::select! {
        read = tokio::time::timeout(timeout, read_body(body, max)) => read.ok(),
        () = session_closed(&entry) => None,
    };
    let mut state = entry.lock();
    state.post_active = false;
    let body = match body {
        Some(ReadBody::Complete(bytes)) => bytes,
        Some(ReadBody::TooLarge(rest)) => {
            drop(state);
            return too_large(rest);
        }
        Some(ReadBody::Failed) => {
            drop(state);
            return empty(StatusCode::BAD_REQUEST);
        }
        None => {
            // Timed out, or the session closed meanwhile: the request ends
            // here, and its connection with it (the reference fails the
            // session with a transport error when a POST is cut short).
            state.core.handle_transport_error();
            entry.process(&inner, state).run(&inner, &entry);
            return close_connection(empty(StatusCode::BAD_REQUEST));
        }
    };
    if state.core.is_closed() {
        // Closed while the body arrived (an overlapping POST, a timeout):
        // its packets have nowhere to go.
        drop(state);
        return close_connection(empty(StatusCode::BAD_REQUEST));
    }
    let protocol = state.core.protocol();
    let max_packets = inner.config.engine.max_payload;
    let response = match decode_payload(body, protocol, max_packets) {
        Ok(packets) => {
            let at = now();
            for packet in packets {
                state.core.handle_packet(packet, at);
            }
            text_response("ok", "text/html")
        }
        Err(_) => {
            state.core.handle_parse_error();
            close_connection(empty(StatusCode::BAD_REQUEST))
        }
    };
    entry.process(&inner, state).run(&inner, &entry);
    response
}

/// Resolves once the session is closed.
async fn session_closed(entry: &SessionEntry) {
    loop {
        let changed = entry.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if entry.lock().core.is_closed() {
            return;
        }
        changed.await;
    }
}

/// Bytes of an over-limit body read and dropped after the 413, so that a
/// client still sending gets the answer rather than a connection reset.
const DRAIN_LIMIT: usize = 16 << 20;
/// How long the drain waits for more of an over-limit body.
const DRAIN_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

type PinnedBody<B> = std::pin::Pin<Box<B>>;

/// A request body read within a limit.
enum ReadBody<B> {
    Complete(Bytes),
    /// Over the limit; the rest of the body, to be drained.
    TooLarge(PinnedBody<B>),
    /// The body failed (the client went away).
    Failed,
}

/// Reads at most `max` bytes of `body`.
async fn read_body<B>(body: B, max: usize) -> ReadBody<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    use bytes::Buf;
    let mut body = Box::pin(body);
    let mut collected = BytesMut::new();
    loop {
        match body.frame().await {
            None => return ReadBody::Complete(collected.freeze()),
            Some(Err(_)) => return ReadBody::Failed,
            Some(Ok(frame)) => {
                let Ok(mut data) = frame.into_data() else {
                    continue;
                };
                if collected.len() + data.remaining() > max {
                    return ReadBody::TooLarge(body);
                }
                while data.has_remaining() {
                    let chunk = data.chunk();
                    collected.extend_from_slice(chunk);
                    let n = chunk.len();
                    data.advance(n);
                }
            }
        }
    }
}

/// Answers 413 at once, and reads and drops the rest of the body in the
/// background (at most `DRAIN_LIMIT` bytes, giving up after `DRAIN_IDLE`
/// without data): hyper keeps the connection while the body is read, so a
/// client still sending sees the 413 instead of a reset, and the
/// connection is dropped once the drain ends short of the body's end.
fn too_large<B>(mut body: PinnedBody<B>) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    tokio::spawn(async move {
        let mut dropped = 0usize;
        while dropped <= DRAIN_LIMIT {
            match tokio::time::timeout(DRAIN_IDLE, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    dropped += frame.data_ref().map_or(0, bytes::Buf::remaining);
                }
                _ => break,
            }
        }
    });
    empty(StatusCode::PAYLOAD_TOO_LARGE)
}

/// Marks a polling response that HTTP compression must leave as it is
/// (every packet in it was sent with `compress: false`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Uncompressed;

fn payload_response(
    packets: &[sockio_core::engine::Packet],
    protocol: Protocol,
    compress: bool,
) -> Response<Full<Bytes>> {
    let mut body = BytesMut::new();
    encode_payload(packets, protocol, &mut body);
    let mut res = Response::new(Full::new(body.freeze()));
    if !compress {
        res.extensions_mut().insert(Uncompressed);
    }
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    res
}

fn text_response(text: &'static str, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = status;
    res
}

fn close_connection(mut res: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}
