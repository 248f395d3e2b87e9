//! The in-memory adapter: rooms in a [`RoomIndex`], operations on this
//! server's sockets only, and connection state recovery kept in memory.

use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use super::recovery::SessionStore;
use super::{
    AckSink, Adapter, AdapterContext, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions,
    Clock, LocalSockets, PersistedSession, RestoredSession, Room, RoomIndex, SocketId, SocketInfo,
};
use crate::socket::{Packet, PacketKind};

/// The default adapter: one server, everything in memory. A remote adapter
/// keeps one of these for its own sockets and forwards operations to the
/// other servers.
pub struct LocalAdapter {
    nsp: Arc<str>,
    sockets: Weak<dyn LocalSockets>,
    index: RwLock<RoomIndex>,
    pub(super) recovery: Option<Mutex<SessionStore>>,
    clock: Clock,
}

impl std::fmt::Debug for LocalAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAdapter")
            .field("nsp", &self.nsp)
            .field("recovery", &self.recovery.is_some())
            .finish_non_exhaustive()
    }
}

impl LocalAdapter {
    /// The in-memory adapter of the namespace of `ctx`.
    pub fn new(ctx: AdapterContext) -> Self {
        let recovery = ctx
            .recovery
            .map(|config| Mutex::new(SessionStore::new(config, &ctx.server_id)));
        Self {
            nsp: ctx.nsp,
            sockets: ctx.sockets,
            index: RwLock::new(RoomIndex::new()),
            recovery,
            clock: ctx.clock,
        }
    }

    /// The factory the server uses by default.
    pub fn factory() -> impl AdapterFactory {
        |ctx: AdapterContext| -> Arc<dyn Adapter> { Arc::new(Self::new(ctx)) }
    }

    /// The namespace name.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The room index, for reading.
    pub fn rooms(&self) -> RwLockReadGuard<'_, RoomIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn rooms_mut(&self) -> RwLockWriteGuard<'_, RoomIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// This server's sockets of the namespace (`None` once it is gone).
    pub fn local_sockets(&self) -> Option<Arc<dyn LocalSockets>> {
        self.sockets.upgrade()
    }

    fn store(&self) -> Option<std::sync::MutexGuard<'_, SessionStore>> {
        self.recovery
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The sockets of this server that `opts` selects, described.
    pub fn describe(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        let Some(sockets) = self.local_sockets() else {
            return Vec::new();
        };
        // One look at the rooms: who, and each one's rooms at that moment.
        let selected: Vec<(SocketId, Vec<Room>)> = {
            let rooms = self.rooms();
            rooms
                .select(opts)
                .into_iter()
                .map(|sid| {
                    let own = rooms.socket_rooms(&sid);
                    (sid, own)
                })
                .collect()
        };
        selected
            .into_iter()
            .filter_map(|(sid, own)| {
                let mut info = sockets.describe(&sid)?;
                info.rooms = own;
                Some(info)
            })
            .collect()
    }

    /// Whether connection state recovery is on.
    pub fn recovers(&self) -> bool {
        self.recovery.is_some()
    }
}

impl Adapter for LocalAdapter {
    fn add_all(&self, sid: &SocketId, rooms: &[Room]) {
        self.rooms_mut().add_all(sid, rooms);
    }

    fn del(&self, sid: &SocketId, room: &str) {
        self.rooms_mut().del(sid, room);
    }

    fn del_all(&self, sid: &SocketId) {
        self.rooms_mut().del_all(sid);
    }

    fn socket_rooms(&self, sid: &SocketId) -> Vec<Room> {
        self.rooms().socket_rooms(sid)
    }

    fn sockets(&self, rooms: &[Room]) -> BoxFuture<'_, Result<Vec<SocketId>, AdapterError>> {
        let opts = BroadcastOptions::to(rooms.iter().cloned());
        let sids = self.rooms().select(&opts);
        Box::pin(std::future::ready(Ok(sids)))
    }

    /// Sends to the selected sockets. With recovery on, an event that asks
    /// for no ack and is not volatile gets an offset appended and is kept
    /// for replay, as the reference's `SessionAwareAdapter` does.
    fn broadcast(&self, mut packet: Packet, opts: BroadcastOptions) -> Result<(), AdapterError> {
        let replayable = matches!(packet.kind, PacketKind::Event | PacketKind::BinaryEvent)
            && packet.id.is_none()
            && !opts.flags.volatile;
        if replayable && let Some(mut store) = self.store() {
            let (seq, offset) = store.next_offset();
            packet.append_offset(&offset);
            if let Some(args) = packet.args() {
                store.record(seq, args.clone(), opts.clone(), (self.clock)());
            }
        }
        let Some(sockets) = self.local_sockets() else {
            return Ok(());
        };
        if opts.rooms.is_empty() && opts.except.is_empty() {
            sockets.send_to_all(&packet, &opts.flags);
        } else {
            let sids = self.rooms().select(&opts);
            sockets.send(&sids, &packet, &opts.flags);
        }
        Ok(())
    }

    fn broadcast_with_ack(
        &self,
        mut packet: Packet,
        opts: BroadcastOptions,
        acks: Arc<dyn AckSink>,
    ) -> Result<(), AdapterError> {
        let Some(sockets) = self.local_sockets() else {
            acks.expect(0);
            return Err(AdapterError::Closed);
        };
        packet.id = Some(sockets.next_ack_id());
        let sids = self.rooms().select(&opts);
        let reached = sockets.send_with_ack(&sids, &packet, &opts.flags, &acks);
        acks.expect(reached);
        Ok(())
    }

    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'_, Result<Vec<SocketInfo>, AdapterError>> {
        Box::pin(std::future::ready(Ok(self.describe(&opts))))
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: &[Room]) {
        let mut index = self.rooms_mut();
        for sid in index.select(&opts) {
            index.add_all(&sid, rooms);
        }
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: &[Room]) {
        let mut index = self.rooms_mut();
        for sid in index.select(&opts) {
            for room in rooms {
                index.del(&sid, room);
            }
        }
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool) {
        let sids = self.rooms().select(&opts);
        if let Some(sockets) = self.local_sockets() {
            sockets.disconnect(&sids, close);
        }
    }

    fn persist_session(&self, session: PersistedSession) {
        if let Some(mut store) = self.store() {
            store.persist(session, (self.clock)());
        }
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<'_, Result<Option<RestoredSession>, AdapterError>> {
        let restored = self
            .store()
            .and_then(|mut store| store.restore(pid, offset, (self.clock)()));
        Box::pin(std::future::ready(Ok(restored)))
    }
}
