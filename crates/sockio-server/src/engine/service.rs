//! The tower `Service` and `Layer`: routing of Engine.IO requests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{Either, Full};
use sockio_core::engine::{Protocol, TransportKind};
use tower_layer::Layer;
use tower_service::Service;

use super::query::EngineQuery;
use super::{Cors, EngineError, EngineIo, Inner, polling, websocket};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body: ours, or the inner service's.
pub type EngineBody<B> = Either<Full<Bytes>, B>;

/// Wraps an inner service with Engine.IO; see [`EngineIo::layer`].
#[derive(Debug, Clone)]
pub struct EngineIoLayer {
    engine: EngineIo,
}

impl EngineIoLayer {
    pub(crate) fn new(engine: EngineIo) -> Self {
        Self { engine }
    }
}

impl<S> Layer<S> for EngineIoLayer {
    type Service = EngineIoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineIoService::new(self.engine.clone(), inner)
    }
}

/// Answers requests under the Engine.IO path and passes the others to
/// `S`. Generic over the request body, so it serves both hyper's
/// `Incoming` and axum's `Body`.
#[derive(Debug, Clone)]
pub struct EngineIoService<S> {
    engine: EngineIo,
    inner: S,
}

impl<S> EngineIoService<S> {
    pub(crate) fn new(engine: EngineIo, inner: S) -> Self {
        Self { engine, inner }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineIoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<EngineBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if !req.uri().path().starts_with(&self.engine.inner.config.path) {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map(|res| res.map(Either::Right)) });
        }
        let inner = self.engine.inner.clone();
        Box::pin(async move { Ok(handle(inner, req).await.map(Either::Left)) })
    }
}

/// Answers 404 to everything: the inner service of a stand-alone server.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        let mut res = Response::new(Full::new(Bytes::from_static(b"Not Found")));
        *res.status_mut() = StatusCode::NOT_FOUND;
        std::future::ready(Ok(res))
    }
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Routes one Engine.IO request, as engine.io's `verify` and
/// `handleRequest` do, in the same order so the same request gets the same
/// error.
async fn handle<B>(inner: Arc<Inner>, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let upgrade = is_websocket_upgrade(req.headers());
    let origin = req.headers().get(header::ORIGIN).cloned();
    let cors = &inner.config.cors;
    if req.method() == Method::OPTIONS && *cors != Cors::Disabled && !upgrade {
        let asked = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        return with_cors(preflight(asked), cors, origin.as_ref());
    }
    let encoding = match &inner.config.http_compression {
        Some(c) if req.method() == Method::GET && !upgrade => {
            accepted_encoding(req.headers()).map(|e| (e, c.threshold))
        }
        _ => None,
    };
    let mut response = route(&inner, req, upgrade, origin.as_ref()).await;
    if let Some((encoding, threshold)) = encoding {
        response = compress(response, encoding, threshold).await;
    }
    if upgrade {
        response
    } else {
        with_cors(response, cors, origin.as_ref())
    }
}

/// A content encoding for polling responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Gzip,
    Deflate,
}

/// The encoding the client accepts, gzip first (as the reference picks).
fn accepted_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let accept = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let offers = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let token = it.next().unwrap_or("").trim();
            let refused = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            token.eq_ignore_ascii_case(name) && !refused
        })
    };
    if offers("gzip") {
        Some(Encoding::Gzip)
    } else if offers("deflate") {
        Some(Encoding::Deflate)
    } else {
        None
    }
}

/// Compresses a successful polling response of at least `threshold` bytes.
async fn compress(
    res: Response<Full<Bytes>>,
    encoding: Encoding,
    threshold: usize,
) -> Response<Full<Bytes>> {
    use http_body_util::BodyExt;
    use std::io::Write;
    if res.status() != StatusCode::OK
        || res.headers().contains_key(header::CONTENT_ENCODING)
        || res.extensions().get::<polling::Uncompressed>().is_some()
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(collected) = body.collect().await;
    let bytes = collected.to_bytes();
    if bytes.len() < threshold {
        return Response::from_parts(parts, Full::new(bytes));
    }
    let level = flate2::Compression::default();
    let compressed = match encoding {
        Encoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 2), level);
            e.write_all(&bytes).and_then(|()| e.finish())
        }
        Encoding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::with_capacity(bytes.len() / 2), level);
            e.write_all(&bytes).and_then(|()| e.finish())
        }
    };
    let Ok(compressed) = compressed else {
        return Response::from_parts(parts, Full::new(bytes));
    };
    let name = match encoding {
        Encoding::Gzip => "gzip",
        Encoding::Deflate => "deflate",
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, Full::new(Bytes::from(compressed)))
}

async fn route<B>(
    inner: &Arc<Inner>,
    req: Request<B>,
    upgrade: bool,
    origin: Option<&HeaderValue>,
) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let fail_with = |e: EngineError, message: Option<&str>| {
        if upgrade {
            e.upgrade_response(message)
        } else {
            e.http_response(message)
        }
    };
    let fail = |e: EngineError| fail_with(e, None);
    let config = &inner.config;
    let query = EngineQuery::parse(req.uri().query());
    let transport = match query.transport(config.engine.polling, config.engine.websocket) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if let Cors::Origins { origins, .. } = &config.cors
        && let Some(origin) = origin
        && !origins.iter().any(|o| o.as_bytes() == origin.as_bytes())
    {
        return fail(EngineError::Forbidden);
    }
    if let Some(sid) = query.sid.as_deref() {
        let Some(entry) = inner.get(sid) else {
            return fail(EngineError::UnknownSid);
        };
        // Deadlines are checked as requests arrive, not only when the timer
        // task gets to them: a poll that comes after the ping timeout finds
        // the session gone, whatever the scheduler's delay.
        {
            let mut state = entry.lock();
            state.core.handle_timeout(super::session::now());
            entry.process(inner, state).run(inner, &entry);
        }
        if inner.get(sid).is_none() {
            return fail(EngineError::UnknownSid);
        }
        let (current, protocol) = {
            let state = entry.lock();
            (state.core.transport(), state.core.protocol())
        };
        if !upgrade && current != transport {
            return fail(EngineError::BadRequest);
        }
        // As the reference: any EIO other than 4 counts as 3.
        let asked = if query.eio.as_deref() == Some("4") {
            Protocol::V4
        } else {
            Protocol::V3
        };
        if asked != protocol {
            return fail(EngineError::BadRequest);
        }
        if upgrade {
            if transport != TransportKind::WebSocket {
                return fail(EngineError::BadRequest);
            }
            return websocket::upgrade_session(inner, &entry, req);
        }
        return match *req.method() {
            Method::GET => polling::poll(inner.clone(), entry).await,
            Method::POST => {
                let binary = req
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
                let length = req
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                polling::post(inner.clone(), entry, length, binary, req.into_body()).await
            }
            _ => fail(EngineError::BadRequest),
        };
    }
    if req.method() != Method::GET {
        return fail(EngineError::BadHandshakeMethod);
    }
    if (transport == TransportKind::WebSocket) != upgrade {
        return fail(EngineError::BadRequest);
    }
    let protocol = match query.protocol(config.engine.allow_eio3) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if inner.is_shutting_down() {
        return fail(EngineError::BadRequest);
    }
    if let Some(hook) = &config.allow_request {
        let mut copy = Request::new(());
        *copy.method_mut() = req.method().clone();
        *copy.uri_mut() = req.uri().clone();
        *copy.version_mut() = req.version();
        *copy.headers_mut() = req.headers().clone();
        if let Err(message) = hook.check(&copy).await {
            return fail_with(EngineError::Forbidden, Some(&message));
        }
    }
    match transport {
        TransportKind::Polling => polling::handshake(
            inner,
            protocol,
            Arc::new(super::RequestInfo::from_request(&req)),
        ),
        TransportKind::WebSocket => websocket::handshake(inner, req, protocol),
    }
}

/// The answer to a CORS preflight: the methods, and the headers the page
/// asked for (as the reference's `cors` reflects them), else content-type.
fn preflight(asked: Option<HeaderValue>) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
    );
    match asked {
        Some(asked) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
            h.append(
                header::VARY,
                HeaderValue::from_static("Access-Control-Request-Headers"),
            );
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
        }
    }
    res
}

/// Adds the CORS headers of `cors` for a request from `origin`. A
/// non-allowlisted origin is never echoed, and credentials never go with a
/// wildcard.
fn with_cors(
    mut res: Response<Full<Bytes>>,
    cors: &Cors,
    origin: Option<&HeaderValue>,
) -> Response<Full<Bytes>> {
    let h = res.headers_mut();
    match cors {
        Cors::Disabled => {}
        Cors::Any => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        Cors::Origins {
            origins,
            credentials,
        } => {
            if let Some(origin) =
                origin.filter(|o| origins.iter().any(|a| a.as_bytes() == o.as_bytes()))
            {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                if *credentials {
                    h.insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
            }
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    res
}
