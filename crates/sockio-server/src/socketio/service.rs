//! The tower layer and service of a Socket.IO server, to mount in axum,
//! hyper or any tower stack.

use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::engine::{EngineIoLayer, EngineIoService, NotFound};

/// The body of a response: the server's own, or the inner service's (`B`).
pub type ResponseBody<B> = crate::engine::EngineBody<B>;

/// Serves Socket.IO under its path and passes other requests to the
/// service it wraps; from [`SocketIo::layer`](super::SocketIo::layer).
#[derive(Debug, Clone)]
pub struct SocketIoLayer(pub(crate) EngineIoLayer);

impl<S> Layer<S> for SocketIoLayer {
    type Service = SocketIoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SocketIoService(self.0.layer(inner))
    }
}

/// Answers Socket.IO requests and passes the others to `S` (by default
/// [`NotFound`]: 404); from [`SocketIo::service`](super::SocketIo::service)
/// or [`SocketIoLayer`]. Generic over the request body, so it serves both
/// hyper's `Incoming` and axum's `Body`.
#[derive(Debug, Clone)]
pub struct SocketIoService<S = NotFound>(pub(crate) EngineIoService<S>);

impl<S, ReqBody> Service<Request<ReqBody>> for SocketIoService<S>
where
    EngineIoService<S>: Service<Request<ReqBody>>,
{
    type Response = <EngineIoService<S> as Service<Request<ReqBody>>>::Response;
    type Error = <EngineIoService<S> as Service<Request<ReqBody>>>::Error;
    type Future = <EngineIoService<S> as Service<Request<ReqBody>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        self.0.call(req)
    }
}
