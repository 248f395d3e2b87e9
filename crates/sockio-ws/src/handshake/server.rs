//! Server side of the opening handshake.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{BufMut, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version, header};

use super::{accept_key, find_head_end, has_token, to_header_map, values};
use crate::deflate::{DeflateParams, negotiate_server};
use crate::{Config, HandshakeError};

/// A valid upgrade request, with what the server agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The `Sec-WebSocket-Accept` value.
    pub accept: String,
    /// The selected subprotocol, if any.
    pub protocol: Option<String>,
    /// The negotiated permessage-deflate parameters, if any.
    pub deflate: Option<DeflateParams>,
    /// The `Sec-WebSocket-Extensions` response value, when deflate was
    /// negotiated.
    pub extensions: Option<String>,
}

impl Accepted {
    /// The `101 Switching Protocols` response, for an HTTP server (hyper)
    /// to send before handing the upgraded connection to
    /// [`WebSocketStream::from_raw`](crate::WebSocketStream::from_raw).
    pub fn response(&self) -> Response<()> {
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = res.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        // Base64 and tokens are always valid header values.
        if let Ok(v) = HeaderValue::from_str(&self.accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        if let Some(v) = self
            .protocol
            .as_deref()
            .and_then(|p| HeaderValue::from_str(p).ok())
        {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, v);
        }
        if let Some(v) = self
            .extensions
            .as_deref()
            .and_then(|e| HeaderValue::from_str(e).ok())
        {
            h.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
        }
        res
    }

    /// The same response as bytes, for a raw TCP connection.
    pub fn write_response(&self, out: &mut BytesMut) {
        out.put_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
        out.put_slice(self.accept.as_bytes());
        if let Some(p) = &self.protocol {
            out.put_slice(b"\r\nSec-WebSocket-Protocol: ");
            out.put_slice(p.as_bytes());
        }
        if let Some(e) = &self.extensions {
            out.put_slice(b"\r\nSec-WebSocket-Extensions: ");
            out.put_slice(e.as_bytes());
        }
        out.put_slice(b"\r\n\r\n");
    }
}

/// Checks an upgrade request already parsed by an HTTP server, and agrees
/// on a subprotocol and on permessage-deflate.
///
/// ```
/// use http::Request;
/// let req = Request::get("/chat")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .header("Connection", "keep-alive, Upgrade")
///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("Sec-WebSocket-Version", "13")
///     .body(())
///     .unwrap();
/// let accepted = sockio_ws::handshake::server::accept(&req, &sockio_ws::Config::default()).unwrap();
/// assert_eq!(accepted.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept<B>(req: &Request<B>, config: &Config) -> Result<Accepted, HandshakeError> {
    accept_parts(req.method(), req.version(), req.headers(), config)
}

/// [`accept`] on the pieces of a request.
pub fn accept_parts(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
    config: &Config,
) -> Result<Accepted, HandshakeError> {
    if method != Method::GET {
        return Err(HandshakeError::MethodNotGet);
    }
    if version < Version::HTTP_11 {
        return Err(HandshakeError::HttpVersion);
    }
    if !has_token(headers, header::UPGRADE, "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let mut versions = headers.get_all(header::SEC_WEBSOCKET_VERSION).iter();
    match (versions.next(), versions.next()) {
        (Some(v), None) if v.as_bytes().trim_ascii() == b"13" => {}
        _ => return Err(HandshakeError::UnsupportedVersion),
    }
    let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(k), None) => k.as_bytes().trim_ascii(),
        _ => return Err(HandshakeError::InvalidKey),
    };
    match STANDARD.decode(key) {
        Ok(decoded) if decoded.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidKey),
    }
    let protocol = select_protocol(headers, &config.protocols);
    let offers = values(headers, header::SEC_WEBSOCKET_EXTENSIONS);
    let negotiated = negotiate_server(&config.deflate, &offers);
    Ok(Accepted {
        accept: accept_key(key),
        protocol,
        deflate: negotiated.as_ref().map(|(p, _)| *p),
        extensions: negotiated.map(|(_, h)| h),
    })
}

/// The first subprotocol the client offers that the server supports.
fn select_protocol(headers: &HeaderMap, supported: &[String]) -> Option<String> {
    if supported.is_empty() {
        return None;
    }
    values(headers, header::SEC_WEBSOCKET_PROTOCOL)
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|offered| supported.iter().any(|s| s == offered))
        .map(str::to_owned)
}

/// Parses an HTTP request head from the start of `buf`. `from` is how many
/// bytes of `buf` were already searched by an earlier call (so that a head
/// arriving in small pieces costs linear time). Returns the request and the
/// length of its head, or `None` if the head is not complete yet.
pub fn parse_request(
    buf: &[u8],
    from: usize,
    config: &Config,
) -> Result<Option<(Request<()>, usize)>, HandshakeError> {
    let Some(end) = find_head_end(buf, from) else {
        if buf.len() > config.max_handshake_size {
            return Err(HandshakeError::TooLarge);
        }
        return Ok(None);
    };
    if end > config.max_handshake_size {
        return Err(HandshakeError::TooLarge);
    }
    let mut headers = vec![httparse::EMPTY_HEADER; config.max_headers];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..end]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::Malformed),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(_) => return Err(HandshakeError::Malformed),
    }
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
        .map_err(|_| HandshakeError::Malformed)?;
    let version = match req.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.version_mut() = version;
    *request.uri_mut() = req
        .path
        .unwrap_or("/")
        .parse()
        .map_err(|_| HandshakeError::Malformed)?;
    *request.headers_mut() = to_header_map(req.headers)?;
    Ok(Some((request, end)))
}

/// The HTTP response a raw-TCP server sends for a failed handshake: the
/// status of [`HandshakeError::status`], `Sec-WebSocket-Version: 13` on a
/// version mismatch, and the reason as a short text body.
pub fn error_response(err: &HandshakeError) -> BytesMut {
    let status = err.status();
    let reason = match status {
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let body = err.to_string();
    let mut out = BytesMut::with_capacity(160 + body.len());
    out.put_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    if status == 426 {
        out.put_slice(b"Sec-WebSocket-Version: 13\r\n");
    }
    out.put_slice(
        format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeflateConfig;

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    fn check(extra: &str, config: &Config) -> Result<Accepted, HandshakeError> {
        let raw = format!("{GOOD}{extra}\r\n");
        let (req, n) = parse_request(raw.as_bytes(), 0, config)?.expect("complete");
        assert_eq!(n, raw.len());
        accept(&req, config)
    }

    fn replace(from: &str, to: &str) -> Result<Accepted, HandshakeError> {
        let raw = format!("{}\r\n", GOOD.replace(from, to));
        let config = Config::default();
        let (req, _) = parse_request(raw.as_bytes(), 0, &config)?.expect("complete");
        accept(&req, &config)
    }

    #[test]
    fn rfc_example() {
        let a = check("", &Config::default()).unwrap();
        assert_eq!(a.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let mut out = BytesMut::new();
        a.write_response(&mut out);
        assert_eq!(
            &out[..],
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
    }

    #[test]
    fn header_rules() {
        assert_eq!(replace("GET", "POST"), Err(HandshakeError::MethodNotGet));
        assert_eq!(
            replace("HTTP/1.1", "HTTP/1.0"),
            Err(HandshakeError::HttpVersion)
        );
        assert_eq!(
            replace("Upgrade: websocket", "Upgrade: h2c"),
            Err(HandshakeError::MissingUpgrade)
        );
        assert_eq!(
            replace("Upgrade: websocket\r\n", ""),
            Err(HandshakeError::MissingUpgrade)
        );
        assert!(replace("Upgrade: websocket", "upgrade: WebSocket").is_ok());
        assert_eq!(
            replace("Connection: Upgrade", "Connection: keep-alive"),
            Err(HandshakeError::MissingConnectionUpgrade)
        );
        assert!(replace("Connection: Upgrade", "Connection: keep-alive, upgrade").is_ok());
        assert_eq!(
            replace("Version: 13", "Version: 8"),
            Err(HandshakeError::UnsupportedVersion)
        );
        assert_eq!(
            replace("Sec-WebSocket-Version: 13\r\n", ""),
            Err(HandshakeError::UnsupportedVersion)
        );
        for key in [
            "",
            "abc",
            "dGhlIHNhbXBsZSBub25jZQ",
            "!!!!!!!!!!!!!!!!!!!!!!!=",
            "dGhlIHNhbXBsZSBub25jZSE=",
        ] {
            assert_eq!(
                replace("dGhlIHNhbXBsZSBub25jZQ==", key),
                Err(HandshakeError::InvalidKey),
                "{key:?}"
            );
        }
        assert_eq!(
            check(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                &Config::default()
            ),
            Err(HandshakeError::InvalidKey)
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(HandshakeError::UnsupportedVersion.status(), 426);
        let resp = error_response(&HandshakeError::UnsupportedVersion);
        let text = String::from_utf8(resp.to_vec()).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 "));
        assert!(text.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(
            String::from_utf8(error_response(&HandshakeError::InvalidKey).to_vec())
                .unwrap()
                .starts_with("HTTP/1.1 400 ")
        );
    }

    #[test]
    fn subprotocol_selection() {
        let config = Config::default().protocols(["chat", "superchat"]);
        let a = check(
            "Sec-WebSocket-Protocol: other, superchat, chat\r\n",
            &config,
        )
        .unwrap();
        assert_eq!(a.protocol.as_deref(), Some("superchat"));
        let a = check("Sec-WebSocket-Protocol: other\r\n", &config).unwrap();
        assert_eq!(a.protocol, None);
        let a = check("Sec-WebSocket-Protocol: chat\r\n", &Config::default()).unwrap();
        assert_eq!(a.protocol, None);
    }

    #[test]
    fn deflate_in_response() {
        let config = Config::default().deflate(DeflateConfig::enabled());
        let a = check(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n",
            &config,
        )
        .unwrap();
        assert_eq!(
            a.extensions.as_deref(),
            Some("permessage-deflate; client_max_window_bits=8")
        );
        assert_eq!(a.deflate.unwrap().client_max_window_bits, 8);
        let res = a.response();
        assert_eq!(res.status(), 101);
        assert!(res.headers().contains_key(header::SEC_WEBSOCKET_EXTENSIONS));
    }

    #[test]
    fn size_limits() {
        let config = Config::default();
        let mut raw = String::from("GET / HTTP/1.1\r\n");
        for i in 0..500 {
            raw.push_str(&format!("X-H{i}: v\r\n"));
        }
        raw.push_str("\r\n");
        let err = |raw: &[u8]| parse_request(raw, 0, &config).err();
        assert_eq!(err(raw.as_bytes()), Some(HandshakeError::TooManyHeaders));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(1 << 20));
        assert_eq!(err(big.as_bytes()), Some(HandshakeError::TooLarge));
        let unfinished = "a".repeat(20 << 10);
        assert_eq!(err(unfinished.as_bytes()), Some(HandshakeError::TooLarge));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\n", 0, &config),
            Ok(None)
        ));
        assert_eq!(err(b"\x00\x01\r\n\r\n"), Some(HandshakeError::Malformed));
    }
}
