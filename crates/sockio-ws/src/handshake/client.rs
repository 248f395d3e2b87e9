//! Client side of the opening handshake.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{BufMut, BytesMut};
use http::{Response, StatusCode, Uri, header};

use super::{accept_key, find_head_end, has_token, to_header_map, values};
use crate::deflate::{DeflateParams, client_offer, negotiate_client};
use crate::{Config, HandshakeError};

/// Where to connect, taken from a `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Whether the URL asks for TLS (`wss://`).
    pub tls: bool,
    /// The host, without brackets for IPv6.
    pub host: String,
    /// The port (80 or 443 unless given).
    pub port: u16,
    /// The `Host` header value.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path_and_query: String,
}

impl Target {
    /// Parses a `ws://` or `wss://` URL (`http://` and `https://` are taken
    /// as their WebSocket equivalents).
    pub fn parse(url: &str) -> Result<Self, HandshakeError> {
        let bad = || HandshakeError::InvalidUrl(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        let tls = match uri.scheme_str() {
            Some("ws" | "http") => false,
            Some("wss" | "https") => true,
            _ => return Err(bad()),
        };
        let authority = uri.authority().ok_or_else(bad)?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            authority: authority.as_str().to_owned(),
            path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        })
    }
}

/// A client handshake in progress: the request was built, the response is
/// awaited.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    key: String,
    protocols: Vec<String>,
    max_head: usize,
    max_headers: usize,
    deflate: crate::DeflateConfig,
}

/// What the server agreed to.
#[derive(Debug)]
pub struct Connected {
    /// The server's `101` response head.
    pub response: Response<()>,
    /// The subprotocol the server selected.
    pub protocol: Option<String>,
    /// The negotiated permessage-deflate parameters.
    pub deflate: Option<DeflateParams>,
}

impl ClientHandshake {
    /// Builds the upgrade request for `target`, appending it to `out`.
    /// `extra_headers` are sent as given (for `Origin`, cookies, auth).
    pub fn start(
        target: &Target,
        config: &Config,
        extra_headers: &[(String, String)],
        out: &mut BytesMut,
    ) -> Self {
        let mut nonce = [0u8; 16];
        // Without an OS RNG the key is still unique enough for its purpose
        // (it only proves the server speaks WebSocket), so fall back to time.
        if getrandom::fill(&mut nonce).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            nonce = t.to_le_bytes();
        }
        let key = STANDARD.encode(nonce);
        out.put_slice(
            format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
                target.path_and_query, target.authority
            )
            .as_bytes(),
        );
        if !config.protocols.is_empty() {
            out.put_slice(
                format!(
                    "Sec-WebSocket-Protocol: {}\r\n",
                    config.protocols.join(", ")
                )
                .as_bytes(),
            );
        }
        if let Some(offer) = client_offer(&config.deflate) {
            out.put_slice(format!("Sec-WebSocket-Extensions: {offer}\r\n").as_bytes());
        }
        for (name, value) in extra_headers {
            out.put_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.put_slice(b"\r\n");
        Self {
            key,
            protocols: config.protocols.clone(),
            max_head: config.max_handshake_size,
            max_headers: config.max_headers,
            deflate: config.deflate.clone(),
        }
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Parses and checks the response head at the start of `buf` (`from`:
    /// bytes already searched by an earlier call). Returns what the server
    /// agreed to and the head's length, or `None` if incomplete.
    pub fn parse_response(
        &self,
        buf: &[u8],
        from: usize,
    ) -> Result<Option<(Connected, usize)>, HandshakeError> {
        let Some(end) = find_head_end(buf, from) else {
            if buf.len() > self.max_head {
                return Err(HandshakeError::TooLarge);
            }
            return Ok(None);
        };
        if end > self.max_head {
            return Err(HandshakeError::TooLarge);
        }
        let mut headers = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut res = httparse::Response::new(&mut headers);
        match res.parse(&buf[..end]) {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
            _ => return Err(HandshakeError::Malformed),
        }
        let code = res.code.unwrap_or(0);
        if code != 101 {
            return Err(HandshakeError::UnexpectedStatus(code));
        }
        let map = to_header_map(res.headers)?;
        if !has_token(&map, header::UPGRADE, "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !has_token(&map, header::CONNECTION, "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        let expected = accept_key(self.key.as_bytes());
        let mut accepts = map.get_all(header::SEC_WEBSOCKET_ACCEPT).iter();
        match (accepts.next(), accepts.next()) {
            (Some(v), None) if v.as_bytes().trim_ascii() == expected.as_bytes() => {}
            _ => return Err(HandshakeError::InvalidAccept),
        }
        let protocol = match values(&map, header::SEC_WEBSOCKET_PROTOCOL).as_slice() {
            [] => None,
            [p] if self.protocols.iter().any(|o| o == p.trim()) => Some(p.trim().to_owned()),
            _ => return Err(HandshakeError::UnexpectedProtocol),
        };
        let deflate = negotiate_client(
            &self.deflate,
            &values(&map, header::SEC_WEBSOCKET_EXTENSIONS),
        )?;
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *response.headers_mut() = map;
        Ok(Some((
            Connected {
                response,
                protocol,
                deflate,
            },
            end,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeflateConfig;
    use crate::handshake::server;

    #[test]
    fn urls() {
        let t = Target::parse("ws://127.0.0.1:9001/path?x=1").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path_and_query.as_str()),
            (false, "127.0.0.1", 9001, "/path?x=1")
        );
        let t = Target::parse("wss://example.com").unwrap();
        assert_eq!((t.tls, t.port, t.path_and_query.as_str()), (true, 443, "/"));
        let t = Target::parse("ws://[::1]:80/").unwrap();
        assert_eq!(t.host, "::1");
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("not a url").is_err());
    }

    /// A full handshake: our client's request through our server's checks
    /// and back.
    #[test]
    fn client_and_server_agree() {
        let config = Config::default()
            .protocols(["chat"])
            .deflate(DeflateConfig::enabled().client_no_context_takeover(true));
        let mut req = BytesMut::new();
        let hs = ClientHandshake::start(
            &Target::parse("ws://localhost/x").unwrap(),
            &config,
            &[],
            &mut req,
        );
        let (request, _) = server::parse_request(&req, 0, &config).unwrap().unwrap();
        let accepted = server::accept(&request, &config).unwrap();
        let mut res = BytesMut::new();
        accepted.write_response(&mut res);
        res.extend_from_slice(b"\x81\x00");
        let (connected, n) = hs.parse_response(&res, 0).unwrap().unwrap();
        assert_eq!(n, res.len() - 2);
        assert_eq!(connected.protocol.as_deref(), Some("chat"));
        assert_eq!(connected.deflate, accepted.deflate);
        assert!(connected.deflate.unwrap().client_no_context_takeover);
    }

    #[test]
    fn bad_responses() {
        let config = Config::default();
        let mut req = BytesMut::new();
        let hs = ClientHandshake::start(&Target::parse("ws://h/").unwrap(), &config, &[], &mut req);
        let good_accept = accept_key(hs.key().as_bytes());
        let cases: Vec<(String, HandshakeError)> = vec![
            ("HTTP/1.1 200 OK\r\n\r\n".into(), HandshakeError::UnexpectedStatus(200)),
            (
                "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n".into(),
                HandshakeError::InvalidAccept,
            ),
            (
                format!("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {good_accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n"),
                HandshakeError::UnexpectedProtocol,
            ),
            (
                format!("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {good_accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
                HandshakeError::UnexpectedExtension("permessage-deflate".into()),
            ),
            (
                format!("HTTP/1.1 101 S\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {good_accept}\r\n\r\n"),
                HandshakeError::MissingUpgrade,
            ),
        ];
        for (res, err) in cases {
            assert_eq!(
                hs.parse_response(res.as_bytes(), 0).unwrap_err(),
                err,
                "{res}"
            );
        }
    }
}
