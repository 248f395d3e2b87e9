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

    /// A query parameter of the connection URL (names and values
    /// percent-decoded; the last of repeated names wins, as in the
    /// reference).
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
        let query = self.request.query_pairs();
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
            "auth": auth,
        });
        // `query` keeps the URL's order (a `serde_json::Map` would sort it).
        let value = WithQuery {
            value: &value,
            query: &query,
        };
        RawJson::from_serialize(&value).unwrap_or_else(|_| RawJson::string(""))
    }
}

/// A JSON object with a `query` member added, in order.
struct WithQuery<'a> {
    value: &'a serde_json::Value,
    query: &'a [(String, String)],
}

/// Pairs as a JSON object, in their order.
struct OrderedPairs<'a>(&'a [(String, String)]);

impl serde::Serialize for OrderedPairs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl serde::Serialize for WithQuery<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.value.as_object();
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in fields.into_iter().flatten() {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("query", &OrderedPairs(self.query))?;
        map.end()
    }
}

/// Seconds since the epoch as text: the reference sends `Date#toString()`,
/// which nothing parses back; a number is at least exact.
fn epoch_seconds(t: SystemTime) -> String {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}
