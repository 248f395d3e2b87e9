//! The query parameters Engine.IO routes on.

use sockio_core::engine::{Protocol, TransportKind};

use super::errors::EngineError;

/// `EIO`, `transport` and `sid` from a request's query string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct EngineQuery {
    pub(crate) eio: Option<String>,
    pub(crate) transport: Option<String>,
    pub(crate) sid: Option<String>,
}

impl EngineQuery {
    /// Parses the three parameters (first occurrence of each wins, as in
    /// Node's `querystring` for these scalar uses), percent-decoded.
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut q = Self::default();
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "EIO" => &mut q.eio,
                "transport" => &mut q.transport,
                "sid" => &mut q.sid,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(percent_decode(value));
            }
        }
        q
    }

    /// The transport, if it names one that is enabled.
    pub(crate) fn transport(
        &self,
        polling: bool,
        websocket: bool,
    ) -> Result<TransportKind, EngineError> {
        match self.transport.as_deref() {
            Some("polling") if polling => Ok(TransportKind::Polling),
            Some("websocket") if websocket => Ok(TransportKind::WebSocket),
            _ => Err(EngineError::UnknownTransport),
        }
    }

    /// The protocol revision of a handshake: `EIO=4`, or `EIO=3` when
    /// allowed; anything else (absent included) is refused, like the
    /// reference, which takes every non-4 value as 3.
    pub(crate) fn protocol(&self, allow_eio3: bool) -> Result<Protocol, EngineError> {
        match self.eio.as_deref() {
            Some("4") => Ok(Protocol::V4),
            _ if allow_eio3 => Ok(Protocol::V3),
            _ => Err(EngineError::UnsupportedProtocolVersion),
        }
    }
}

/// The parameters of `query`, names and values percent-decoded, in URL
/// order, repeats included; empty names are skipped.
fn pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| (percent_decode(key), percent_decode(value)))
}

/// The value of parameter `name` in `query`, as the reference reads it
/// (`Object.fromEntries(new URL(..).searchParams)`): names and values
/// percent-decoded, the last of repeated names wins.
pub(crate) fn param(query: Option<&str>, name: &str) -> Option<String> {
    pairs(query?)
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value)
        .last()
}

/// Every parameter of `query` as the reference's `handshake.query`: each
/// name once, where it first appears, with its last value.
pub(crate) fn params(query: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs(query.unwrap_or("")) {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+`; invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_and_the_last_value_wins_in_url_order() {
        // socket.io-client's `query: { "&a": "&=?a" }`.
        let q = Some("%26a=%26%3D%3Fa&z=1&b=x&z=2&=skip&EIO=4");
        assert_eq!(param(q, "&a").as_deref(), Some("&=?a"));
        assert_eq!(param(q, "z").as_deref(), Some("2"));
        assert_eq!(param(q, "%26a"), None);
        let all = params(q);
        let names: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["&a", "z", "b", "EIO"]);
        assert_eq!(all[1].1, "2");
    }

    #[test]
    fn parses_and_validates() {
        let q = EngineQuery::parse(Some("EIO=4&transport=polling&t=abc&sid=a%2Db"));
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.sid.as_deref(), Some("a-b"));
        assert_eq!(q.transport(true, true), Ok(TransportKind::Polling));
        assert_eq!(q.protocol(false), Ok(Protocol::V4));
        for t in ["abc", "constructor", "__proto__", "webtransport", ""] {
            let q = EngineQuery::parse(Some(&format!("EIO=4&transport={t}")));
            assert_eq!(
                q.transport(true, true),
                Err(EngineError::UnknownTransport),
                "{t}"
            );
        }
        assert_eq!(
            EngineQuery::parse(None).transport(true, true),
            Err(EngineError::UnknownTransport)
        );
        for eio in ["", "EIO=3", "EIO=abc", "EIO=5"] {
            let q = EngineQuery::parse(Some(eio));
            assert_eq!(
                q.protocol(false),
                Err(EngineError::UnsupportedProtocolVersion),
                "{eio}"
            );
        }
        assert_eq!(
            EngineQuery::parse(Some("EIO=3")).protocol(true),
            Ok(Protocol::V3)
        );
        let q = EngineQuery::parse(Some("transport=polling"));
        assert_eq!(q.transport(false, true), Err(EngineError::UnknownTransport));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
