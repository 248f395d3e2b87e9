//! The opening handshake (RFC 6455 section 4), both roles, sans-IO.
//!
//! The server side works on a request that is still raw bytes (a plain
//! TCP listener: [`server::parse_request`]) or on one an HTTP server such
//! as hyper has already parsed ([`server::accept`] takes `http` types).
//! The client side builds the request and checks the response.

pub mod client;
pub mod server;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

/// The GUID RFC 6455 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
///
/// ```
/// // The example of RFC 6455 section 1.3.
/// assert_eq!(
///     sockio_ws::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    STANDARD.encode(sha.digest().bytes())
}

/// Whether the comma-separated header values contain `token`
/// (case-insensitive), as in `Connection: keep-alive, Upgrade`.
fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// All values of a header as strings (values that are not visible ASCII
/// are skipped).
fn values(headers: &HeaderMap, name: http::header::HeaderName) -> Vec<&str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// Finds the end of an HTTP head (`\r\n\r\n`) in `buf`, starting the
/// search at `from` (so a head arriving a byte at a time is scanned once
/// in total, not once per byte). Returns the head's length.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    buf.get(start..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| start + p + 4)
}

/// Copies parsed header lines into a `HeaderMap`.
fn to_header_map(parsed: &[httparse::Header<'_>]) -> Result<HeaderMap, crate::HandshakeError> {
    let mut map = HeaderMap::with_capacity(parsed.len());
    for h in parsed {
        let name = http::header::HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| crate::HandshakeError::Malformed)?;
        let value =
            http::HeaderValue::from_bytes(h.value).map_err(|_| crate::HandshakeError::Malformed)?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_incremental() {
        let req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        let mut seen = 0;
        let mut found = None;
        for n in 1..=req.len() {
            if let Some(end) = find_head_end(&req[..n], seen) {
                found = Some(end);
                break;
            }
            seen = n;
        }
        assert_eq!(found, Some(req.len() - 4));
    }
}
