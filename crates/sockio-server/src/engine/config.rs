//! How the Engine.IO server is mounted and what it lets in.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Request;
use sockio_core::engine::EngineConfig;

/// Server settings: the Engine.IO options and how the server is mounted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineServerConfig {
    /// The protocol options (heartbeat, payload limit, transports).
    pub engine: EngineConfig,
    /// The path requests are served under; default `/socket.io/`. Other
    /// paths go to the inner service.
    pub path: String,
    /// Accept permessage-deflate on WebSocket connections. Default off, as
    /// in the reference.
    pub per_message_deflate: bool,
    /// Compress long-polling responses. Default on for bodies of 1 KiB and
    /// more, as in the reference.
    pub http_compression: Option<HttpCompression>,
    /// CORS for long-polling requests (and the Origin check of upgrades).
    pub cors: Cors,
    /// The sticky-session cookie set on handshakes. Default none.
    pub cookie: Option<Cookie>,
    /// A hook that may refuse a handshake (403, code 4 "Forbidden").
    pub allow_request: Option<AllowRequest>,
    /// How long the body of a long-polling POST may take to arrive, from
    /// when its head was read. Default 30 s. A body still incomplete then,
    /// or when its session closes (a ping timeout, a server close), is
    /// answered 400 with `Connection: close` and fails the session with a
    /// transport error.
    pub body_timeout: std::time::Duration,
}

impl Default for EngineServerConfig {
    fn default() -> Self {
        Self {
            engine: EngineConfig::default(),
            path: "/socket.io/".to_owned(),
            per_message_deflate: false,
            http_compression: Some(HttpCompression::default()),
            cors: Cors::default(),
            cookie: None,
            allow_request: None,
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

impl EngineServerConfig {
    /// Sets the protocol options.
    pub fn engine(mut self, engine: EngineConfig) -> Self {
        self.engine = engine;
        self
    }

    /// Sets the path (a trailing `/` is added when missing).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.ends_with('/') {
            path.push('/');
        }
        self.path = path;
        self
    }

    /// Sets [`EngineServerConfig::per_message_deflate`].
    pub fn per_message_deflate(mut self, on: bool) -> Self {
        self.per_message_deflate = on;
        self
    }

    /// Sets [`EngineServerConfig::http_compression`].
    pub fn http_compression(mut self, compression: Option<HttpCompression>) -> Self {
        self.http_compression = compression;
        self
    }

    /// Sets [`EngineServerConfig::body_timeout`].
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets the CORS policy.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// Sets the sticky-session cookie.
    pub fn cookie(mut self, cookie: Option<Cookie>) -> Self {
        self.cookie = cookie;
        self
    }

    /// Sets a hook that sees each handshake request and may refuse it with
    /// a message (sent as `{"code":4,"message":…}` with status 403).
    ///
    /// ```
    /// use sockio_server::engine::EngineServerConfig;
    /// let config = EngineServerConfig::default().allow_request(|req| {
    ///     let ok = req.headers().contains_key("x-api-key");
    ///     async move { if ok { Ok(()) } else { Err("missing API key".to_owned()) } }
    /// });
    /// ```
    pub fn allow_request<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&Request<()>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.allow_request = Some(AllowRequest(Arc::new(move |req| Box::pin(hook(req)))));
        self
    }
}

type AllowFn =
    dyn Fn(&Request<()>) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

/// The `allow_request` hook; see [`EngineServerConfig::allow_request`].
#[derive(Clone)]
pub struct AllowRequest(Arc<AllowFn>);

impl AllowRequest {
    pub(crate) fn check(
        &self,
        req: &Request<()>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        (self.0)(req)
    }
}

impl fmt::Debug for AllowRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllowRequest(..)")
    }
}

/// Compression of long-polling responses (`Accept-Encoding: gzip` or
/// `deflate`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpCompression {
    /// Bodies shorter than this many bytes are sent as they are. Default
    /// 1024, as in the reference.
    pub threshold: usize,
}

impl Default for HttpCompression {
    fn default() -> Self {
        Self { threshold: 1024 }
    }
}

/// Which cross-origin pages may use the long-polling transport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cors {
    /// No CORS headers (same-origin pages and non-browser clients only).
    #[default]
    Disabled,
    /// Any origin: `Access-Control-Allow-Origin: *`.
    Any,
    /// These origins only, echoed back when they match; `credentials`
    /// adds `Access-Control-Allow-Credentials: true`. A request from any
    /// other origin is refused with 403.
    Origins {
        /// Allowed origins, as `scheme://host[:port]`.
        origins: Vec<String>,
        /// Whether cookies may be sent.
        credentials: bool,
    },
}

/// The cookie that carries the session id for sticky load balancing
/// (engine.io's `cookie` option).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cookie {
    /// Cookie name. Default `io`.
    pub name: String,
    /// `Path`. Default `/`.
    pub path: String,
    /// `HttpOnly`. Default true.
    pub http_only: bool,
    /// `SameSite`. Default `Lax`.
    pub same_site: String,
}

impl Default for Cookie {
    fn default() -> Self {
        Self {
            name: "io".to_owned(),
            path: "/".to_owned(),
            http_only: true,
            same_site: "Lax".to_owned(),
        }
    }
}

impl Cookie {
    /// The `Set-Cookie` value for session `sid`.
    pub(crate) fn header(&self, sid: &str) -> String {
        let mut v = format!("{}={sid}; Path={}", self.name, self.path);
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        if !self.same_site.is_empty() {
            v.push_str("; SameSite=");
            v.push_str(&self.same_site);
        }
        v
    }
}
