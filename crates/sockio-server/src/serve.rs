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

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request head hyper buffers.
const MAX_HEAD: usize = 64 << 10;
/// How long connections get to finish after shutdown starts.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Serves `service` on `listener` until `shutdown` resolves, then stops
/// accepting and gives open connections up to 10 s to finish.
///
/// HTTP/1.1 with upgrades (for WebSocket), a 30 s header read timeout
/// (hyper only enforces it with a timer installed, which this does), and
/// request heads bounded to 64 KiB.
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
                let Ok((tcp, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let conn = builder
                    .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service.clone()))
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
