//! Dynamic namespaces: a parent that matches names (by a pattern or a
//! closure) and creates a child namespace the first time a client connects
//! to a matching name. Children share the parent's handlers.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, Weak};

use sockio_core::socket::{IntoArgs, RawJson};

use super::errors::EmitError;
use super::handler::{BoxedMiddleware, Middleware};
use super::namespace::Handlers;
use super::{BroadcastOperator, IoInner};

pub(crate) type Matcher = Arc<dyn Fn(&str, &RawJson) -> bool + Send + Sync>;

pub(crate) struct DynamicNs {
    pub(crate) matcher: Matcher,
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) children: Mutex<BTreeSet<String>>,
}

/// A pattern of namespace names: literal text with `{name}` segments, each
/// matching one or more characters other than `/` (`/room-{id}` matches
/// `/room-42`, not `/room-` nor `/room-4/2`).
pub(crate) fn pattern_matcher(pattern: &str) -> Matcher {
    let parts = split_pattern(pattern);
    Arc::new(move |name: &str, _: &RawJson| matches(&parts, name))
}

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Wildcard,
}

fn split_pattern(pattern: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        parts.push(Part::Wildcard);
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    parts
}

fn matches(parts: &[Part], name: &str) -> bool {
    match parts.split_first() {
        None => name.is_empty(),
        Some((Part::Literal(lit), rest)) => name
            .strip_prefix(lit.as_str())
            .is_some_and(|tail| matches(rest, tail)),
        Some((Part::Wildcard, rest)) => {
            let segment = name.find('/').unwrap_or(name.len());
            // One or more characters of the segment, then the rest.
            (1..=segment).any(|n| name.is_char_boundary(n) && matches(rest, &name[n..]))
        }
    }
}

/// A dynamic namespace: its middlewares and connect handler apply to every
/// child; it emits to all of them.
#[derive(Clone)]
pub struct ParentNamespaceRef {
    pub(crate) parent: Arc<DynamicNs>,
    pub(crate) io: Weak<IoInner>,
}

impl std::fmt::Debug for ParentNamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParentNamespaceRef")
            .field("children", &self.children())
            .finish_non_exhaustive()
    }
}

impl ParentNamespaceRef {
    /// Adds a middleware run for each connection to any child, before the
    /// connect handler (see
    /// [`NamespaceRef::use_middleware`](super::NamespaceRef::use_middleware)).
    pub fn use_middleware<M, H: Middleware<M>>(&self, middleware: H) -> &Self {
        self.parent
            .handlers
            .add_middleware(BoxedMiddleware::new(middleware));
        self
    }

    /// The names of the children that exist now.
    pub fn children(&self) -> Vec<String> {
        self.parent
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn each_child(&self) -> Vec<BroadcastOperator> {
        let Some(io) = self.io.upgrade() else {
            return Vec::new();
        };
        self.children()
            .iter()
            .filter_map(|name| io.namespace(name))
            .map(BroadcastOperator::new)
            .collect()
    }

    /// Emits `event` with `data` (encoded once) to every socket of every
    /// child. Every child is tried; the first failure is returned.
    pub fn emit(&self, event: &str, data: impl IntoArgs) -> Result<(), EmitError> {
        let args = data.into_event_args(event).map_err(EmitError::Serialize)?;
        let mut outcome = Ok(());
        for op in self.each_child() {
            let sent = op.emit_event_args(args.clone());
            if outcome.is_ok() {
                outcome = sent;
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let any = RawJson::string("");
        let cases = [
            ("/room-{id}", "/room-42", true),
            ("/room-{id}", "/room-", false),
            ("/room-{id}", "/room-4/2", false),
            ("/{a}/{b}", "/x/y", true),
            ("/{a}/{b}", "/x/", false),
            ("/{a}/{b}", "/x", false),
            ("/static", "/static", true),
            ("/static", "/static2", false),
            ("/{a}-end", "/a-b-end", true),
            ("/é{x}", "/éü", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                pattern_matcher(pattern)(name, &any),
                expected,
                "{pattern} {name}"
            );
        }
    }
}
