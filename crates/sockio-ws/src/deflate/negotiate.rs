//! Parsing `Sec-WebSocket-Extensions` and agreeing on permessage-deflate
//! parameters (RFC 7692 section 7.1).
//!
//! Every step is linear in the header's length, and the number of offers
//! looked at is capped, so a hostile header costs little.

use super::{DeflateConfig, DeflateParams};
use crate::HandshakeError;

const NAME: &str = "permessage-deflate";
/// Offers beyond this many are ignored.
const MAX_OFFERS: usize = 16;
/// Parameters beyond this many make the offer invalid.
const MAX_PARAMS: usize = 8;

/// Splits `s` on `sep`, ignoring separators inside quoted strings.
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut i = 0;
    std::iter::from_fn(move || {
        if start > bytes.len() {
            return None;
        }
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if escaped {
                escaped = false;
            } else if in_quotes && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quotes = !in_quotes;
            } else if b == sep && !in_quotes {
                let part = &s[start..i - 1];
                start = i;
                return Some(part);
            }
        }
        let part = &s[start..];
        start = bytes.len() + 1;
        Some(part)
    })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A parameter value: a token or a quoted string, unquoted.
fn unquote(v: &str) -> Option<String> {
    if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    } else if is_token(v) {
        Some(v.to_owned())
    } else {
        None
    }
}

/// Window bits: 8 to 15, decimal digits only.
fn window_bits(v: &str) -> Option<u8> {
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
}

/// One `permessage-deflate` element, with its parameters checked.
#[derive(Debug, Default, PartialEq, Eq)]
struct Element {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Parses one extension element. `Ok(None)`: another extension.
/// `Err(())`: a permessage-deflate element with unknown, repeated or
/// malformed parameters.
fn parse_element(element: &str) -> Result<Option<Element>, ()> {
    let mut parts = split_unquoted(element, b';');
    let name = parts.next().unwrap_or("").trim();
    if !name.eq_ignore_ascii_case(NAME) {
        return Ok(None);
    }
    let mut e = Element::default();
    for (n, param) in parts.enumerate() {
        if n >= MAX_PARAMS {
            return Err(());
        }
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()).ok_or(())?)),
            None => (param.trim(), None),
        };
        match (key.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) if !e.server_no_context_takeover => {
                e.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !e.client_no_context_takeover => {
                e.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(v)) if e.server_max_window_bits.is_none() => {
                e.server_max_window_bits = Some(window_bits(&v).ok_or(())?);
            }
            ("client_max_window_bits", v) if e.client_max_window_bits.is_none() => {
                e.client_max_window_bits = Some(match v {
                    Some(v) => Some(window_bits(&v).ok_or(())?),
                    None => None,
                });
            }
            _ => return Err(()),
        }
    }
    Ok(Some(e))
}

/// The extension elements of all `Sec-WebSocket-Extensions` values, in order.
fn elements<'a>(values: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    values
        .iter()
        .flat_map(|v| split_unquoted(v, b','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// Server side: picks the first acceptable permessage-deflate offer among
/// the header values. Returns the agreed parameters and the response header
/// value, or `None` to run without compression (no offer, or every offer
/// declined as RFC 7692 requires for malformed ones).
pub(crate) fn negotiate_server(
    config: &DeflateConfig,
    values: &[&str],
) -> Option<(DeflateParams, String)> {
    if !config.enabled {
        return None;
    }
    for element in elements(values).take(MAX_OFFERS) {
        let Ok(Some(offer)) = parse_element(element) else {
            continue;
        };
        let mut params = DeflateParams::default();
        let mut header = String::from(NAME);
        if offer.server_no_context_takeover || config.server_no_context_takeover {
            params.server_no_context_takeover = true;
            header.push_str("; server_no_context_takeover");
        }
        if offer.client_no_context_takeover || config.client_no_context_takeover {
            params.client_no_context_takeover = true;
            header.push_str("; client_no_context_takeover");
        }
        let server_bits = offer
            .server_max_window_bits
            .unwrap_or(15)
            .min(config.server_max_window_bits);
        if server_bits < 15 || offer.server_max_window_bits.is_some() {
            params.server_max_window_bits = server_bits;
            header.push_str(&format!("; server_max_window_bits={server_bits}"));
        }
        match offer.client_max_window_bits {
            Some(offered) => {
                let bits = offered.unwrap_or(15).min(config.client_max_window_bits);
                params.client_max_window_bits = bits;
                if bits < 15 || offered.is_some() {
                    header.push_str(&format!("; client_max_window_bits={bits}"));
                }
            }
            // The client cannot limit its window: accept only if we do not
            // need it to.
            None if config.client_max_window_bits < 15 => continue,
            None => {}
        }
        return Some((params, header));
    }
    None
}

/// Client side: the offer to send, or `None` when deflate is off.
pub(crate) fn client_offer(config: &DeflateConfig) -> Option<String> {
    if !config.enabled {
        return None;
    }
    let mut offer = String::from(NAME);
    if config.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if config.server_max_window_bits < 15 {
        offer.push_str(&format!(
            "; server_max_window_bits={}",
            config.server_max_window_bits
        ));
    }
    if config.client_max_window_bits < 15 {
        offer.push_str(&format!(
            "; client_max_window_bits={}",
            config.client_max_window_bits
        ));
    } else {
        offer.push_str("; client_max_window_bits");
    }
    Some(offer)
}

/// Client side: checks the server's `Sec-WebSocket-Extensions` against what
/// was offered. No extension means no compression; anything not offered,
/// or parameters the client did not allow, fail the handshake.
pub(crate) fn negotiate_client(
    config: &DeflateConfig,
    values: &[&str],
) -> Result<Option<DeflateParams>, HandshakeError> {
    let mut accepted = None;
    for element in elements(values) {
        let bad = || HandshakeError::UnexpectedExtension(element.to_owned());
        let parsed = parse_element(element)
            .map_err(|()| bad())?
            .ok_or_else(bad)?;
        if !config.enabled || accepted.is_some() {
            return Err(bad());
        }
        if config.server_no_context_takeover && !parsed.server_no_context_takeover {
            return Err(bad());
        }
        let server_bits = parsed.server_max_window_bits.unwrap_or(15);
        if server_bits > config.server_max_window_bits {
            return Err(bad());
        }
        let client_bits = match parsed.client_max_window_bits {
            Some(Some(bits)) => bits,
            // A response must give a value.
            Some(None) => return Err(bad()),
            None => 15,
        };
        if client_bits > config.client_max_window_bits {
            return Err(bad());
        }
        accepted = Some(DeflateParams {
            server_no_context_takeover: parsed.server_no_context_takeover,
            client_no_context_takeover: parsed.client_no_context_takeover
                || config.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        });
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(values: &[&str]) -> Option<(DeflateParams, String)> {
        negotiate_server(&DeflateConfig::enabled(), values)
    }

    #[test]
    fn plain_offer() {
        let (p, h) = server(&["permessage-deflate"]).unwrap();
        assert_eq!(p, DeflateParams::default());
        assert_eq!(h, "permessage-deflate");
    }

    #[test]
    fn chromium_offer() {
        let (p, h) = server(&["permessage-deflate; client_max_window_bits"]).unwrap();
        assert_eq!(p, DeflateParams::default());
        assert_eq!(h, "permessage-deflate");
    }

    #[test]
    fn window_bits_and_takeover() {
        let (p, h) = server(&[
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=10; client_no_context_takeover; server_no_context_takeover",
        ])
        .unwrap();
        assert_eq!(
            p,
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: 8,
                client_max_window_bits: 10,
            }
        );
        assert_eq!(
            h,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=10"
        );
    }

    #[test]
    fn quoted_values() {
        let (p, _) = server(&["permessage-deflate; server_max_window_bits=\"10\""]).unwrap();
        assert_eq!(p.server_max_window_bits, 10);
    }

    #[test]
    fn malformed_offers_declined_next_taken() {
        for bad in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits=9; client_max_window_bits=10",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; __proto__",
            "permessage-deflate; foo=bar",
        ] {
            assert_eq!(server(&[bad]), None, "{bad}");
            let (p, _) = server(&[&format!("{bad}, permessage-deflate")]).unwrap();
            assert_eq!(p, DeflateParams::default(), "{bad}");
        }
        assert_eq!(server(&["x-webkit-deflate-frame"]), None);
        assert_eq!(server(&[""]), None);
        let commas = ",".repeat(65536);
        assert_eq!(server(&[&commas]), None);
        let semis = format!("permessage-deflate{}", ";".repeat(65536));
        assert_eq!(server(&[&semis]), None);
    }

    #[test]
    fn multiple_header_values() {
        let (p, _) = server(&["foo", "permessage-deflate; client_no_context_takeover"]).unwrap();
        assert!(p.client_no_context_takeover);
    }

    #[test]
    fn disabled_server_declines() {
        assert_eq!(
            negotiate_server(&DeflateConfig::default(), &["permessage-deflate"]),
            None
        );
    }

    #[test]
    fn client_validation() {
        let cfg = DeflateConfig::enabled();
        assert_eq!(
            client_offer(&cfg).unwrap(),
            "permessage-deflate; client_max_window_bits"
        );
        assert_eq!(negotiate_client(&cfg, &[]).unwrap(), None);
        let p = negotiate_client(&cfg, &["permessage-deflate; client_max_window_bits=9"])
            .unwrap()
            .unwrap();
        assert_eq!(p.client_max_window_bits, 9);
        for bad in [
            "x-foo",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; bogus",
        ] {
            assert!(negotiate_client(&cfg, &[bad]).is_err(), "{bad}");
        }
        assert!(negotiate_client(&DeflateConfig::default(), &["permessage-deflate"]).is_err());
    }
}
