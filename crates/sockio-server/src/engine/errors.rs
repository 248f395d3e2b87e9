//! The reference server's handshake errors, and the one place where they
//! become HTTP responses.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// An Engine.IO request error, with the reference code and message
/// (engine.io `Server.errors`), so clients and users see exactly what the
/// Node server would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// 0: the `transport` query parameter names no enabled transport.
    #[error("Transport unknown")]
    UnknownTransport,
    /// 1: no session with this `sid`.
    #[error("Session ID unknown")]
    UnknownSid,
    /// 2: a handshake with a method other than GET.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// 3: anything else malformed (transport mismatch, WebSocket handshake
    /// without an upgrade, a refused upgrade).
    #[error("Bad request")]
    BadRequest,
    /// 4: refused by the `allow_request` hook.
    #[error("Forbidden")]
    Forbidden,
    /// 5: an `EIO` value other than 4 (or 3 when allowed).
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
}

impl EngineError {
    /// The numeric code of the reference.
    pub fn code(self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest => 3,
            Self::Forbidden => 4,
            Self::UnsupportedProtocolVersion => 5,
        }
    }

    /// The HTTP status: 403 for `Forbidden`, else 400.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The response to a polling request: the status and the JSON body
    /// `{"code":N,"message":"…"}` with `Content-Type: application/json`.
    pub(crate) fn http_response(self, message: Option<&str>) -> Response<Full<Bytes>> {
        let message = message.map_or_else(|| self.to_string(), json_escape);
        let body = format!(r#"{{"code":{},"message":"{message}"}}"#, self.code());
        let mut res = Response::new(Full::new(Bytes::from(body)));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }

    /// The response to a WebSocket upgrade request: the message as a plain
    /// body and `Connection: close`, as the reference writes it; 400, or
    /// 403 for `Forbidden` (the reference answers 400 there too, but a
    /// refused origin or `allow_request` is a 403 for every other client).
    pub(crate) fn upgrade_response(self, message: Option<&str>) -> Response<Full<Bytes>> {
        let body = message.map_or_else(|| self.to_string(), str::to_owned);
        let mut res = Response::new(Full::new(Bytes::from(body)));
        *res.status_mut() = self.status();
        let h = res.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        res
    }
}

/// Escapes a string for a JSON string literal.
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(res: Response<Full<Bytes>>) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn reference_bodies() {
        let cases = [
            (
                EngineError::UnknownTransport,
                400,
                r#"{"code":0,"message":"Transport unknown"}"#,
            ),
            (
                EngineError::UnknownSid,
                400,
                r#"{"code":1,"message":"Session ID unknown"}"#,
            ),
            (
                EngineError::BadHandshakeMethod,
                400,
                r#"{"code":2,"message":"Bad handshake method"}"#,
            ),
            (
                EngineError::BadRequest,
                400,
                r#"{"code":3,"message":"Bad request"}"#,
            ),
            (
                EngineError::Forbidden,
                403,
                r#"{"code":4,"message":"Forbidden"}"#,
            ),
            (
                EngineError::UnsupportedProtocolVersion,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
        ];
        for (err, status, json) in cases {
            let res = err.http_response(None);
            assert_eq!(res.status().as_u16(), status);
            assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
            assert_eq!(body(res).await, json);
        }
        let res = EngineError::Forbidden.http_response(Some("no \"entry\""));
        assert_eq!(body(res).await, r#"{"code":4,"message":"no \"entry\""}"#);
    }
}
