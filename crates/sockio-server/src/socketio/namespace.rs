//! A namespace: its sockets, its rooms (the in-memory adapter), its
//! connect handler and middlewares.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, Weak};

use serde::Serialize;
use sockio_core::socket::RawJson;

use super::IoInner;
use super::socket::SocketRef;

pub(crate) type ConnectHandler = Arc<dyn Fn(SocketRef) + Send + Sync>;
pub(crate) type Middleware = Arc<dyn Fn(&SocketRef) -> Result<(), ConnectError> + Send + Sync>;

/// A middleware's refusal, sent to the client as `connect_error` with
/// `{"message": …, "data": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub(crate) message: String,
    pub(crate) data: Option<RawJson>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds the `data` the client gets with the error. A value that does
    /// not serialize is left out.
    pub fn with_data<T: Serialize + ?Sized>(mut self, data: &T) -> Self {
        self.data = RawJson::from_serialize(data).ok();
        self
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

pub(crate) struct Namespace {
    pub(crate) name: String,
    /// The name as packets carry it.
    pub(crate) nsp: sockio_core::engine::Str,
    pub(crate) io: Weak<IoInner>,
    sockets: RwLock<HashMap<Arc<str>, SocketRef>>,
    rooms: RwLock<HashMap<String, HashSet<Arc<str>>>>,
    on_connect: RwLock<Option<ConnectHandler>>,
    middlewares: RwLock<Vec<Middleware>>,
}

impl Namespace {
    pub(crate) fn new(name: &str, io: Weak<IoInner>) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            nsp: sockio_core::engine::Str::from(name.to_owned()),
            io,
            sockets: RwLock::new(HashMap::new()),
            rooms: RwLock::new(HashMap::new()),
            on_connect: RwLock::new(None),
            middlewares: RwLock::new(Vec::new()),
        })
    }

    pub(crate) fn set_connect_handler(&self, handler: ConnectHandler) {
        *self.on_connect.write().unwrap_or_else(|e| e.into_inner()) = Some(handler);
    }

    pub(crate) fn add_middleware(&self, middleware: Middleware) {
        self.middlewares
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(middleware);
    }

    /// Runs the middlewares in order; the first refusal wins.
    pub(crate) fn admit(&self, socket: &SocketRef) -> Result<(), ConnectError> {
        let middlewares = self
            .middlewares
            .read()
            .map(|m| m.clone())
            .unwrap_or_default();
        middlewares.iter().try_for_each(|m| m(socket))
    }

    /// Adds a socket (in its own room), so that broadcasts reach it from
    /// now on; done before the client is told it is connected, as the
    /// reference does.
    pub(crate) fn insert(&self, socket: &SocketRef) {
        if let Ok(mut sockets) = self.sockets.write() {
            sockets.insert(socket.id_arc(), socket.clone());
        }
        self.join(socket, socket.id().to_owned());
    }

    /// Runs the connect handler for a socket the client now knows about.
    pub(crate) fn connected(&self, socket: &SocketRef) {
        let handler = self.on_connect.read().ok().and_then(|h| h.clone());
        if let Some(handler) = handler {
            let connected = socket.clone();
            socket.guard(move || handler(connected));
        }
    }

    pub(crate) fn remove(&self, socket: &SocketRef, rooms: &HashSet<String>) {
        if let Ok(mut sockets) = self.sockets.write() {
            sockets.remove(socket.id());
        }
        if let Ok(mut map) = self.rooms.write() {
            for room in rooms {
                if let Some(members) = map.get_mut(room) {
                    members.remove(socket.id());
                    if members.is_empty() {
                        map.remove(room);
                    }
                }
            }
        }
    }

    pub(crate) fn join(&self, socket: &SocketRef, room: String) {
        if let Ok(mut map) = self.rooms.write() {
            map.entry(room.clone()).or_default().insert(socket.id_arc());
        }
        socket.note_room(room, true);
    }

    pub(crate) fn leave(&self, socket: &SocketRef, room: &str) {
        if let Ok(mut map) = self.rooms.write()
            && let Some(members) = map.get_mut(room)
        {
            members.remove(socket.id());
            if members.is_empty() {
                map.remove(room);
            }
        }
        socket.note_room(room.to_owned(), false);
    }

    pub(crate) fn socket_count(&self) -> usize {
        self.sockets.read().map_or(0, |s| s.len())
    }

    /// The sockets in any of `rooms` (all sockets when `rooms` is empty),
    /// minus those in any of `except`.
    pub(crate) fn select(&self, rooms: &[String], except: &[String]) -> Vec<SocketRef> {
        let Ok(sockets) = self.sockets.read() else {
            return Vec::new();
        };
        let Ok(map) = self.rooms.read() else {
            return Vec::new();
        };
        let excluded: HashSet<&Arc<str>> =
            except.iter().filter_map(|r| map.get(r)).flatten().collect();
        let keep = |id: &Arc<str>| !excluded.contains(id);
        if rooms.is_empty() {
            return sockets
                .iter()
                .filter(|(id, _)| keep(id))
                .map(|(_, s)| s.clone())
                .collect();
        }
        let mut seen = HashSet::new();
        rooms
            .iter()
            .filter_map(|r| map.get(r))
            .flatten()
            .filter(|id| keep(id) && seen.insert(*id))
            .filter_map(|id| sockets.get(id).cloned())
            .collect()
    }
}
