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
    let (req, read) = match read_request(&mut io, config).await {
        Ok(parsed) => parsed,
        Err(e) => {
            reject(&mut io, &e).await;
            return Err(e);
        }
    };
    let ws = accept_request(io, &req, read, config).await?;
    Ok((ws, req))
}

/// Reads one HTTP request head from a raw transport, within
/// [`Config::max_handshake_size`], [`Config::max_headers`] and
/// [`Config::handshake_timeout`]. Returns the request and the bytes read
/// past its head. For servers that answer plain HTTP on the same port and
/// upgrade only some requests (with [`accept_request`]).
pub async fn read_request<S>(io: &mut S, config: &Config) -> Result<(Request<()>, BytesMut), Error>
where
    S: AsyncRead + Unpin,
{
    let mut buf = BytesMut::with_capacity(1024);
    let read = async {
        let mut searched = 0;
        loop {
            if let Some((req, len)) = server::parse_request(&buf, searched, config)? {
                let _ = buf.split_to(len);
                return Ok((req, buf));
            }
            searched = buf.len();
            buf.reserve(1024);
            if io.read_buf(&mut buf).await? == 0 {
                return Err(Error::Handshake(HandshakeError::UnexpectedEof));
            }
        }
    };
    match tokio::time::timeout(config.handshake_timeout, read).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::Handshake(HandshakeError::Timeout)),
    }
}

/// Answers a request read with [`read_request`]: `101` and the
/// connection if it is a valid upgrade, else the error status, and the
/// transport is shut down.
pub async fn accept_request<S>(
    mut io: S,
    req: &Request<()>,
    read: BytesMut,
    config: &Config,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match server::accept(req, config) {
        Ok(accepted) => {
            let mut response = BytesMut::new();
            accepted.write_response(&mut response);
            io.write_all(&response).await?;
            io.flush().await?;
            Ok(WebSocketStream::from_partially_read(
                io,
                read,
                Role::Server,
                config,
                accepted.deflate,
            ))
        }
        Err(e) => {
            let e = Error::Handshake(e);
            reject(&mut io, &e).await;
            Err(e)
        }
    }
}

/// Sends the error response for a failed handshake (when the peer is
/// still there to read it) and shuts the transport down.
async fn reject<S: AsyncWrite + Unpin>(io: &mut S, e: &Error) {
    if let Error::Handshake(e) = e
        && !matches!(e, HandshakeError::UnexpectedEof | HandshakeError::Timeout)
    {
        let _ = io.write_all(&error_response(e)).await;
    }
    let _ = io.shutdown().await;
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
