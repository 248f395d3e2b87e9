//! Serving a tower service over plain hyper, with bounded headers, a
//! header read timeout, WebSocket upgrades and graceful shutdown.

use std::future::Future;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Limits of [`serve_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// How long a client may take to send its request headers (slowloris
    /// defence). Default 30 s.
    pub header_read_timeout: Duration,
    /// Largest request head accepted, in bytes. Default 64 KiB.
    ///
    /// What is counted: the request line (`METHOD SP target SP HTTP/1.1
    /// CRLF`), then each header field as `name: value CRLF`, then the
    /// final CRLF; that is the bytes on the wire for a client that puts
    /// one space after each colon and no other optional whitespace. A
    /// head over the limit is answered 431 with `Connection: close` before
    /// the service sees it; hyper also stops reading one once its buffer
    /// reaches the limit, so no more than about the limit is ever held.
    /// More than 100 header fields is refused with 431 as well.
    pub max_head: usize,
    /// How long open connections get to finish after shutdown starts.
    /// Default 10 s.
    pub drain_deadline: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            max_head: 64 << 10,
            drain_deadline: Duration::from_secs(10),
        }
    }
}

impl ServeConfig {
    /// Sets [`ServeConfig::header_read_timeout`].
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeConfig::max_head`] (at least 8 KiB, hyper's floor).
    pub fn max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes.max(8192);
        self
    }

    /// Sets [`ServeConfig::drain_deadline`].
    pub fn drain_deadline(mut self, deadline: Duration) -> Self {
        self.drain_deadline = deadline;
        self
    }
}

/// Serves `service` on `listener` until `shutdown` resolves, then stops
/// accepting and gives open connections up to 10 s to finish; see
/// [`serve_with`] for the limits.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    serve_with(listener, service, shutdown, ServeConfig::default()).await
}

/// [`serve`] with explicit limits: HTTP/1.1 with upgrades (for WebSocket),
/// a header read timeout (hyper only enforces it with a timer installed,
/// which this does), and bounded request heads.
pub async fn serve_with<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
    config: ServeConfig,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.max_head);
    // Each connection holds a clone of `alive` and watches `stop`; after
    // shutdown, the receiver of `alive` sees the last clone go.
    let (stop, _) = tokio::sync::watch::channel(false);
    let (alive, mut drained) = tokio::sync::mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                // Out of descriptors or a connection reset before accept:
                // keep serving the others.
                let Ok((tcp, peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let conn = builder
                    .serve_connection(
                        TokioIo::new(tcp),
                        TowerToHyperService::new(WithRemoteAddr {
                            inner: service.clone(),
                            addr: peer,
                            max_head: config.max_head,
                        }),
                    )
                    .with_upgrades();
                let mut stop = stop.subscribe();
                let alive = alive.clone();
                tokio::spawn(async move {
                    let _alive = alive;
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => return,
                        _ = stop.changed() => {}
                    }
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    let _ = tokio::time::timeout(config.drain_deadline, drained.recv()).await;
    Ok(())
}

/// Binds a listener the way a server under load needs it: address reuse,
/// and a backlog of 1024 (the OS default of `TcpListener::bind` is 128,
/// so a burst of connects past it waits a full second for SYN retries).
pub async fn bind(addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(1024)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
    }))
}

/// Refuses a request whose head is over `max_head` (431), and puts the
/// connection's peer address in each request's extensions.
#[derive(Clone)]
struct WithRemoteAddr<S> {
    inner: S,
    addr: std::net::SocketAddr,
    max_head: usize,
}

/// The bytes of a request's head as [`ServeConfig::max_head`] counts them.
fn head_len<B>(req: &Request<B>) -> usize {
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    // "METHOD target HTTP/1.1\r\n"
    let line = req.method().as_str().len() + 1 + target + 11;
    let fields: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + fields + 2
}

pin_project_lite::pin_project! {
    /// The service's response, or a 431 for an oversized head.
    #[project = HeadCheckProj]
    enum HeadCheck<F, D> {
        Inner { #[pin] fut: F },
        TooLarge { res: Option<Response<http_body_util::Empty<D>>> },
    }
}

impl<F, B, E> Future for HeadCheck<F, B::Data>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<http_body_util::Either<B, http_body_util::Empty<B::Data>>>, E>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use http_body_util::Either;
        match self.project() {
            HeadCheckProj::Inner { fut } => {
                fut.poll(cx).map(|r| r.map(|res| res.map(Either::Left)))
            }
            HeadCheckProj::TooLarge { res } => std::task::Poll::Ready(Ok(res
                .take()
                .expect("polled after completion")
                .map(Either::Right))),
        }
    }
}

fn head_too_large<D: bytes::Buf>() -> Response<http_body_util::Empty<D>> {
    let mut res = Response::new(http_body_util::Empty::new());
    *res.status_mut() = http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    res.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    res
}

impl<S, B, ReqB> Service<Request<ReqB>> for WithRemoteAddr<S>
where
    S: Service<Request<ReqB>, Response = Response<B>>,
    B: Body,
{
    type Response = Response<http_body_util::Either<B, http_body_util::Empty<B::Data>>>;
    type Error = S::Error;
    type Future = HeadCheck<S::Future, B::Data>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        if head_len(&req) > self.max_head {
            return HeadCheck::TooLarge {
                res: Some(head_too_large()),
            };
        }
        req.extensions_mut()
            .insert(crate::engine::RemoteAddr(self.addr));
        HeadCheck::Inner {
            fut: self.inner.call(req),
        }
    }
}
