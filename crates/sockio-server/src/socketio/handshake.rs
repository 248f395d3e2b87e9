//! What a client sent when it connected.

use std::sync::Arc;
use std::time::SystemTime;

use sockio_core::socket::RawJson;

/// What the client sent when it connected.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Handshake {
    /// The auth payload of the CONNECT packet (`{}` when none was sent).
    pub auth: RawJson,
    /// When the socket connected.
    pub time: SystemTime,
    /// The HTTP request that opened the connection: headers, URL (with the
    /// query), the client's address.
    pub request: Arc<crate::engine::RequestInfo>,
}

impl Handshake {
    /// The request headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.request.headers
    }

    /// A query parameter of the connection URL, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.request.query(name)
    }

    /// The connection URL (path and query).
    pub fn url(&self) -> &http::Uri {
        &self.request.uri
    }

    /// The client's address, when known.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.request.remote_addr
    }

    /// The handshake as the reference's `socket.handshake` object
    /// (`headers`, `time`, `address`, `xdomain`, `secure`, `issued`, `url`,
    /// `query`, `auth`), as remote adapters exchange it.
    pub fn to_json(&self) -> RawJson {
        let headers: serde_json::Map<String, serde_json::Value> = self
            .request
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), serde_json::Value::String(v))
            })
            .collect();
        let query: serde_json::Map<String, serde_json::Value> = self
            .request
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split('=').next())
            .filter(|k| !k.is_empty())
            .filter_map(|k| {
                let v = self.request.query(k)?;
                Some((k.to_owned(), serde_json::Value::String(v)))
            })
            .collect();
        let issued = self
            .time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let auth: serde_json::Value = serde_json::from_str(self.auth.as_str()).unwrap_or_default();
        let value = serde_json::json!({
            "headers": headers,
            "time": epoch_seconds(self.time),
            "address": self.request.remote_addr.map(|a| a.ip().to_string()),
            "xdomain": self.request.headers.contains_key(http::header::ORIGIN),
            "secure": false,
            "issued": issued,
            "url": self.request.uri.to_string(),
            "query": query,
            "auth": auth,
        });
        RawJson::from_serialize(&value).unwrap_or_else(|_| RawJson::string(""))
    }
}

/// Seconds since the epoch as text: the reference sends `Date#toString()`,
/// which nothing parses back; a number is at least exact.
fn epoch_seconds(t: SystemTime) -> String {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}
