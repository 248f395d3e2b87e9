//! Test support: an in-process Engine.IO echo server on a real socket, and a
//! tiny raw HTTP/1.1 client over `TcpStream` so that every status line,
//! header and body byte the server writes can be asserted exactly.

#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sockio_core::engine::{EngineConfig, Str};
use sockio_server::engine::{EngineHandler, EngineIo, EngineServerConfig, EngineSocket};
use sockio_server::{ServeConfig, serve_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;

/// How long any single read or write may take before the test fails. Long
/// enough to never fire on a loaded machine; reads that are expected to
/// complete do so in microseconds.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A valid `Sec-WebSocket-Key` (RFC 6455 §1.3) and its accept value.
pub(crate) const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Echoes every message, text or binary, straight back (as the conformance
/// example does).
pub(crate) struct EchoHandler;

impl EngineHandler for EchoHandler {
    fn on_message(&self, socket: &EngineSocket, text: Str) {
        socket.send_text(text);
    }

    fn on_binary(&self, socket: &EngineSocket, data: Bytes) {
        socket.send_binary(data);
    }
}

/// The Engine.IO options of every test server: heartbeats far longer than
/// any test, so that no ping ever shows up in a polling response.
pub(crate) fn engine_config() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_secs(30))
        .ping_timeout(Duration::from_secs(20))
}

/// The server settings of every test server, mounted at `/engine.io/`.
pub(crate) fn server_config() -> EngineServerConfig {
    EngineServerConfig::default()
        .engine(engine_config())
        .path("/engine.io/")
}

/// An echo server running in a task of the test's runtime. Dropping it
/// starts a graceful shutdown.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) engine: EngineIo,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Binds 127.0.0.1:0 and serves `config` with the default limits.
    pub(crate) async fn start(config: EngineServerConfig) -> Self {
        Self::start_with(config, ServeConfig::default()).await
    }

    /// Binds 127.0.0.1:0 and serves `config` with `serve`.
    ///
    /// The listen backlog is 1024, not the 128 of `TcpListener::bind`: a
    /// test that opens hundreds of connections before the server task gets
    /// to accept would otherwise overflow the accept queue, and the kernel
    /// would retry the dropped handshakes only after a 1 s real-time SYN
    /// retransmission, which a paused clock cannot see (it auto-advances
    /// meanwhile, firing every timer early).
    pub(crate) async fn start_with(config: EngineServerConfig, serve: ServeConfig) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind");
        let listener = socket.listen(1024).expect("listen");
        let addr = listener.local_addr().expect("local addr");
        let engine = EngineIo::new(config, EchoHandler);
        let (tx, rx) = oneshot::channel::<()>();
        let service = engine.service();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            serve_with(listener, service, shutdown, serve).await
        });
        Self {
            addr,
            engine,
            shutdown: Some(tx),
        }
    }

    /// A new connection to the server.
    pub(crate) async fn connect(&self) -> Conn {
        Conn::connect(self.addr).await
    }

    /// Sends `request` on a new connection and reads one response.
    pub(crate) async fn request(&self, request: impl AsRef<[u8]>) -> Response {
        let mut conn = self.connect().await;
        conn.send(request).await;
        conn.response().await
    }

    /// Opens a polling session and returns its id.
    pub(crate) async fn handshake(&self) -> String {
        handshake(self.addr).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Opens a polling session on the server at `addr` and returns its id.
pub(crate) async fn handshake(addr: SocketAddr) -> String {
    let mut conn = Conn::connect(addr).await;
    conn.send(get("/engine.io/?EIO=4&transport=polling", &[]))
        .await;
    let res = conn.response().await;
    assert_eq!(res.status, 200, "handshake: {res:?}");
    sid_of_open_packet(&res.body)
}

/// The sid of an open packet `0{"sid":"…",…}` (20 characters).
pub(crate) fn sid_of_open_packet(body: &[u8]) -> String {
    let text = std::str::from_utf8(body).expect("open packet is UTF-8");
    let rest = text
        .strip_prefix(r#"0{"sid":""#)
        .unwrap_or_else(|| panic!("not an open packet: {text:?}"));
    let end = rest.find('"').expect("sid ends");
    rest[..end].to_owned()
}

/// A GET request with `Host` and the `extra` headers.
pub(crate) fn get(target: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    request("GET", target, extra, None)
}

/// A POST request with `Content-Length` and `body`.
pub(crate) fn post(target: &str, extra: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    request("POST", target, extra, Some(body))
}

/// A WebSocket upgrade request (RFC 6455 §4.1) with a valid key.
pub(crate) fn ws_upgrade(target: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut headers = vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", WS_KEY),
        ("Sec-WebSocket-Version", "13"),
    ];
    headers.extend_from_slice(extra);
    get(target, &headers)
}

/// A request head (and body, with its `Content-Length`, if given).
pub(crate) fn request(
    method: &str,
    target: &str,
    extra: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body.unwrap_or_default());
    out
}

/// One chunk of a `Transfer-Encoding: chunked` body.
pub(crate) fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The last chunk of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    /// Header names lower-cased, values as sent, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The value of header `name`, if present (the first one).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status, the whole header set (except `date`, whose
    /// presence is asserted) and the body, byte for byte.
    #[track_caller]
    pub(crate) fn assert_exact(&self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert!(
            status < 200 || self.header("date").is_some(),
            "no date header in {self:?}"
        );
        let mut got: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect();
        let mut want: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "headers of {self:?}");
        assert_eq!(
            self.body,
            body,
            "body of {self:?}: {:?}",
            String::from_utf8_lossy(&self.body)
        );
    }

    /// Asserts a polling error: status, `application/json` and the
    /// reference body `{"code":N,"message":"…"}`; `extra` are further
    /// expected headers (CORS).
    #[track_caller]
    pub(crate) fn assert_json_error(
        &self,
        status: u16,
        code: u8,
        message: &str,
        extra: &[(&str, &str)],
    ) {
        let body = format!(r#"{{"code":{code},"message":"{message}"}}"#);
        let len = body.len().to_string();
        let mut headers = vec![
            ("content-type", "application/json"),
            ("content-length", len.as_str()),
        ];
        headers.extend_from_slice(extra);
        self.assert_exact(status, &headers, body.as_bytes());
    }

    /// Asserts a refused WebSocket upgrade: `status`, the message as a
    /// plain body, `Connection: close`.
    #[track_caller]
    pub(crate) fn assert_upgrade_error(&self, status: u16, message: &str) {
        let len = message.len().to_string();
        self.assert_exact(
            status,
            &[
                ("connection", "close"),
                ("content-type", "text/html"),
                ("content-length", len.as_str()),
            ],
            message.as_bytes(),
        );
    }

    /// Asserts a successful polling response carrying `payload`.
    #[track_caller]
    pub(crate) fn assert_payload(&self, payload: &[u8]) {
        let len = payload.len().to_string();
        self.assert_exact(
            200,
            &[
                ("content-type", "text/plain; charset=UTF-8"),
                ("content-length", len.as_str()),
            ],
            payload,
        );
    }

    /// Asserts a polling handshake answer of a server with
    /// [`engine_config`]: the open packet alone, with exactly the reference
    /// keys, and a 20-character URL-safe sid; `extra` are further expected
    /// headers (CORS). Returns the sid.
    #[track_caller]
    pub(crate) fn assert_handshake(&self, extra: &[(&str, &str)]) -> String {
        let sid = sid_of_open_packet(&self.body);
        assert_eq!(sid.len(), 20, "{sid}");
        assert!(
            sid.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{sid}"
        );
        let open = format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":30000,"pingTimeout":20000,"maxPayload":1000000}}"#
        );
        let len = open.len().to_string();
        let mut headers = vec![
            ("content-type", "text/plain; charset=UTF-8"),
            ("content-length", len.as_str()),
        ];
        headers.extend_from_slice(extra);
        self.assert_exact(200, &headers, open.as_bytes());
        sid
    }

    /// Asserts the answer to an accepted POST: 200 `ok`.
    #[track_caller]
    pub(crate) fn assert_post_ok(&self) {
        self.assert_exact(
            200,
            &[("content-type", "text/html"), ("content-length", "2")],
            b"ok",
        );
    }
}

/// How a connection ended, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// Orderly close (FIN): a read returned 0.
    Eof,
    /// The server reset the connection (RST), e.g. it closed with unread
    /// bytes in its receive buffer.
    Reset,
}

/// One client connection.
pub(crate) struct Conn {
    stream: TcpStream,
    /// Bytes read but not consumed yet.
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// The socket, for tests that read it their own way.
    pub(crate) fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Writes `data` (the request, or the next piece of it).
    pub(crate) async fn send(&mut self, data: impl AsRef<[u8]>) {
        self.try_send(data.as_ref()).await.expect("write");
    }

    /// Writes `data`, returning the error if the server already closed.
    pub(crate) async fn try_send(&mut self, data: &[u8]) -> io::Result<()> {
        tokio::time::timeout(IO_TIMEOUT, self.stream.write_all(data))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timed out"))?
    }

    /// Reads more bytes into the buffer; false at EOF.
    async fn fill(&mut self) -> bool {
        self.buf.reserve(16 * 1024);
        let n = tokio::time::timeout(IO_TIMEOUT, self.stream.read_buf(&mut self.buf))
            .await
            .expect("read timed out")
            .expect("read");
        n > 0
    }

    /// Takes exactly `n` bytes.
    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "EOF after {:?}", self.buf);
        }
        self.buf.drain(..n).collect()
    }

    /// Takes bytes up to and including `delim`.
    async fn take_until(&mut self, delim: &[u8]) -> Vec<u8> {
        loop {
            if let Some(i) = self.buf.windows(delim.len()).position(|w| w == delim) {
                return self.buf.drain(..i + delim.len()).collect();
            }
            assert!(self.fill().await, "EOF before {delim:?} in {:?}", self.buf);
        }
    }

    /// Reads one response: the status line, the headers, and the body by
    /// `Content-Length`, chunked, or until the server closes.
    pub(crate) async fn response(&mut self) -> Response {
        let head = self.take_until(b"\r\n\r\n").await;
        let head = String::from_utf8(head).expect("response head is ASCII");
        let mut lines = head.trim_end_matches("\r\n").split("\r\n");
        let status_line = lines.next().expect("status line");
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("status line {status_line:?}"));
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line");
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let mut res = Response {
            status,
            reason,
            headers,
            body: Vec::new(),
        };
        if status < 200 || status == 204 || status == 304 {
            return res;
        }
        if let Some(len) = res.header("content-length") {
            let len: usize = len.parse().expect("content-length");
            res.body = self.take(len).await;
        } else if res
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let line = self.take_until(b"\r\n").await;
                let size = std::str::from_utf8(&line[..line.len() - 2]).expect("chunk size");
                let size = usize::from_str_radix(size.split(';').next().unwrap_or(""), 16)
                    .expect("chunk size");
                if size == 0 {
                    self.take_until(b"\r\n").await;
                    break;
                }
                res.body.extend(self.take(size).await);
                assert_eq!(self.take(2).await, b"\r\n");
            }
        } else {
            while self.fill().await {}
            res.body = std::mem::take(&mut self.buf);
        }
        res
    }

    /// Reads until the server closes; panics if it sends anything first.
    pub(crate) async fn expect_closed(&mut self) -> Closed {
        assert!(self.buf.is_empty(), "unread bytes {:?}", self.buf);
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(IO_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .expect("server did not close the connection")
        {
            Ok(0) => Closed::Eof,
            Ok(n) => panic!("expected close, got {:?}", &chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Closed::Reset,
            Err(e) => panic!("expected close, got {e}"),
        }
    }

    /// Reads one unfragmented WebSocket frame from the server: its opcode
    /// and payload. Server frames are never masked.
    pub(crate) async fn ws_frame(&mut self) -> (u8, Vec<u8>) {
        let head = self.take(2).await;
        assert_eq!(head[0] & 0x80, 0x80, "FIN set");
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7f {
            126 => {
                let b = self.take(2).await;
                usize::from(u16::from_be_bytes([b[0], b[1]]))
            }
            127 => panic!("unexpectedly large frame"),
            n => usize::from(n),
        };
        (head[0] & 0x0f, self.take(len).await)
    }
}
