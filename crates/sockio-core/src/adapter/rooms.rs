//! The room index of one namespace on one server: room → sockets and
//! socket → rooms, kept in step.

use std::collections::{HashMap, HashSet};

use super::{BroadcastOptions, Room, SocketId};

/// Rooms and their members. Only sockets that joined at least one room
/// (every connected socket is in its own) are known to it.
#[derive(Debug, Default, Clone)]
pub struct RoomIndex {
    rooms: HashMap<Room, HashSet<SocketId>>,
    sids: HashMap<SocketId, HashSet<Room>>,
}

impl RoomIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Socket `sid` joins `rooms` (and becomes known).
    pub fn add_all(&mut self, sid: &SocketId, rooms: &[Room]) {
        let own = self.sids.entry(sid.clone()).or_default();
        for room in rooms {
            own.insert(room.clone());
            self.rooms
                .entry(room.clone())
                .or_default()
                .insert(sid.clone());
        }
    }

    /// Socket `sid` leaves `room`.
    pub fn del(&mut self, sid: &SocketId, room: &str) {
        if let Some(own) = self.sids.get_mut(sid) {
            own.remove(room);
        }
        self.remove_member(room, sid);
    }

    /// Socket `sid` leaves every room and is forgotten.
    pub fn del_all(&mut self, sid: &SocketId) {
        if let Some(own) = self.sids.remove(sid) {
            for room in own {
                self.remove_member(&room, sid);
            }
        }
    }

    fn remove_member(&mut self, room: &str, sid: &SocketId) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(sid);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    /// The rooms of socket `sid`.
    pub fn socket_rooms(&self, sid: &SocketId) -> Vec<Room> {
        self.sids
            .get(sid)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether socket `sid` is in `room`.
    pub fn contains(&self, sid: &SocketId, room: &str) -> bool {
        self.rooms.get(room).is_some_and(|m| m.contains(sid))
    }

    /// The number of sockets known.
    pub fn socket_count(&self) -> usize {
        self.sids.len()
    }

    /// The number of rooms with members.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// The members of `room`.
    pub fn members(&self, room: &str) -> impl Iterator<Item = &SocketId> {
        self.rooms.get(room).into_iter().flatten()
    }

    /// The sockets `opts` selects: those in any of its rooms (every known
    /// socket when it names none), each once, minus those in any of its
    /// exceptions. The order is unspecified.
    pub fn select(&self, opts: &BroadcastOptions) -> Vec<SocketId> {
        let except: HashSet<&SocketId> = opts
            .except
            .iter()
            .filter_map(|r| self.rooms.get(r))
            .flatten()
            .collect();
        if opts.rooms.is_empty() {
            return self
                .sids
                .keys()
                .filter(|sid| !except.contains(sid))
                .cloned()
                .collect();
        }
        if let [room] = &opts.rooms[..] {
            return self
                .members(room)
                .filter(|sid| !except.contains(sid))
                .cloned()
                .collect();
        }
        let mut seen: HashSet<&SocketId> = HashSet::new();
        opts.rooms
            .iter()
            .filter_map(|r| self.rooms.get(r))
            .flatten()
            .filter(|sid| !except.contains(sid) && seen.insert(sid))
            .cloned()
            .collect()
    }
}
