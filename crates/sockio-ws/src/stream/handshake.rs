//! Opening handshakes over a raw transport, both roles.

use bytes::BytesMut;
use http::Request;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::WebSocketStream;
use crate::handshake::client::{ClientHandshake, Connected, Target};
use crate::handshake::server::{self, error_response};
use crate::{Config, Error, HandshakeError, Role};

/// Server side over a raw transport: reads the upgrade request, answers
/// `101` or an error status (400, 426 with `Sec-WebSocket-Version: 13`,
/// 431), and returns the connection.
///
/// The request head is bounded by [`Config::max_handshake_size`] and
/// [`Config::max_headers`] and must arrive within
/// [`Config::handshake_timeout`]; it is scanned once however it is
/// split into reads.
pub async fn accept<S>(io: S, config: &Config) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    accept_with_request(io, config).await.map(|(ws, _)| ws)
}

/// [`accept`], also returning the request (path, query, headers) for the
/// application to route on.
pub async fn accept_with_request<S>(
    mut io: S,
    config: &Config,
) -> Result<(WebSocketStream<S>, Request<()>), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = BytesMut::with_capacity(1024);
    let read_request = async {
        let mut searched = 0;
        loop {
            if let Some(parsed) = server::parse_request(&buf, searched, config)? {
                return Ok(parsed);
            }
            searched = buf.len();
            buf.reserve(1024);
            if io.read_buf(&mut buf).await? == 0 {
                return Err(Error::Handshake(HandshakeError::UnexpectedEof));
            }
        }
    };
    let outcome = match tokio::time::timeout(config.handshake_timeout, read_request).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::Handshake(HandshakeError::Timeout)),
    };
    let accepted = outcome.and_then(|(req, len)| {
        let accepted = server::accept(&req, config)?;
        Ok((req, len, accepted))
    });
    match accepted {
        Ok((req, len, accepted)) => {
            let _ = buf.split_to(len);
            let mut response = BytesMut::new();
            accepted.write_response(&mut response);
            io.write_all(&response).await?;
            io.flush().await?;
            let ws = WebSocketStream::from_partially_read(
                io,
                buf,
                Role::Server,
                config,
                accepted.deflate,
            );
            Ok((ws, req))
        }
        Err(Error::Handshake(e)) => {
            if !matches!(e, HandshakeError::UnexpectedEof | HandshakeError::Timeout) {
                let _ = io.write_all(&error_response(&e)).await;
            }
            let _ = io.shutdown().await;
            Err(Error::Handshake(e))
        }
        Err(e) => Err(e),
    }
}

/// Client side over any transport (a `TcpStream`, or a TLS stream for
/// `wss://`): sends the upgrade request for `target` and checks the
/// response.
pub async fn client_handshake<S>(
    mut io: S,
    target: &Target,
    config: &Config,
    extra_headers: &[(String, String)],
) -> Result<(WebSocketStream<S>, Connected), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut request = BytesMut::new();
    let hs = ClientHandshake::start(target, config, extra_headers, &mut request);
    let exchange = async {
        io.write_all(&request).await?;
        io.flush().await?;
        let mut buf = BytesMut::with_capacity(1024);
        let mut searched = 0;
        loop {
            if let Some((connected, len)) = hs.parse_response(&buf, searched)? {
                let _ = buf.split_to(len);
                return Ok::<_, Error>((connected, buf));
            }
            searched = buf.len();
            buf.reserve(1024);
            if io.read_buf(&mut buf).await? == 0 {
                return Err(HandshakeError::UnexpectedEof.into());
            }
        }
    };
    let (connected, rest) = tokio::time::timeout(config.handshake_timeout, exchange)
        .await
        .map_err(|_| HandshakeError::Timeout)??;
    let ws =
        WebSocketStream::from_partially_read(io, rest, Role::Client, config, connected.deflate);
    Ok((ws, connected))
}

/// Connects to a `ws://` URL over TCP. For `wss://`, open a TLS stream
/// (for example with tokio-rustls) and use [`client_handshake`].
pub async fn connect(
    url: &str,
    config: &Config,
) -> Result<(WebSocketStream<TcpStream>, Connected), Error> {
    let target = Target::parse(url)?;
    if target.tls {
        return Err(HandshakeError::InvalidUrl(format!(
            "{url}: connect() speaks plain TCP; use client_handshake() over a TLS stream"
        ))
        .into());
    }
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
    tcp.set_nodelay(true)?;
    client_handshake(tcp, &target, config, &[]).await
}
