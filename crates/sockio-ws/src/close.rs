//! Close codes and close frames (RFC 6455 sections 5.5.1 and 7.4).

use std::fmt;

/// A WebSocket close status code.
///
/// Any `u16` can be held; [`CloseCode::is_sendable`] tells whether it may
/// appear in a close frame on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: Self = Self(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection dropped without a close frame (never sent).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: message data inconsistent with its type (invalid UTF-8, corrupt deflate).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a policy violation.
    pub const POLICY: Self = Self(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL: Self = Self(1011);
    /// 1015: TLS handshake failure (never sent).
    pub const TLS: Self = Self(1015);

    /// Whether this code may be sent in a close frame (RFC 6455 section 7.4):
    /// 1000-1003, 1007-1011 (1012-1014 are registered since), and 3000-4999.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The payload of a close frame: a code and a UTF-8 reason of at most
/// 123 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`. A reason longer than 123
    /// bytes is cut at a character boundary so the frame stays a valid
    /// control frame.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > 123 {
            let mut end = 123;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        Self {
            code: code.into(),
            reason,
        }
    }

    /// Parses a close frame payload. `Ok(None)` is an empty payload (no
    /// status). A one-byte payload, a code that may not be sent, or a reason
    /// that is not UTF-8 is an error.
    pub(crate) fn parse(payload: &[u8]) -> Result<Option<Self>, crate::ProtocolError> {
        match payload {
            [] => Ok(None),
            [_] => Err(crate::ProtocolError::InvalidClosePayload),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(crate::ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = simdutf8::basic::from_utf8(reason)
                    .map_err(|_| crate::ProtocolError::InvalidUtf8)?;
                Ok(Some(Self {
                    code,
                    reason: reason.to_owned(),
                }))
            }
        }
    }

    /// The wire payload: the code in network order, then the reason.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.reason.len());
        out.extend_from_slice(&self.code.0.to_be_bytes());
        out.extend_from_slice(self.reason.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes() {
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode(code).is_sendable(), "{code}");
        }
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
        ] {
            assert!(CloseCode(code).is_sendable(), "{code}");
        }
    }

    #[test]
    fn parse_rules() {
        assert_eq!(CloseFrame::parse(&[]).unwrap(), None);
        assert!(CloseFrame::parse(&[3]).is_err());
        assert!(CloseFrame::parse(&[0x03, 0xed]).is_err()); // 1005
        assert!(CloseFrame::parse(&[0x03, 0xe8, 0xff]).is_err()); // bad UTF-8
        let f = CloseFrame::parse(&[0x03, 0xe8, b'o', b'k'])
            .unwrap()
            .unwrap();
        assert_eq!(f, CloseFrame::new(1000, "ok"));
        assert_eq!(f.payload(), vec![0x03, 0xe8, b'o', b'k']);
    }

    #[test]
    fn long_reason_truncated_on_char_boundary() {
        let f = CloseFrame::new(1000, "é".repeat(100));
        assert!(f.reason.len() <= 123);
        assert_eq!(f.reason.len() % 2, 0);
    }
}
