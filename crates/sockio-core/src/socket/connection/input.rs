//! What comes in: decoded packets, by role.

use super::{Connection, ConnectionError, DisconnectReason, Event, NamespaceState, Role};
use crate::engine::{CloseReason, Packet as EnginePacket, Str};
use crate::socket::json::{self, Tok};
use crate::socket::{Args, Data, DecodeError, JsonKind, Packet, PacketKind, RawJson};

/// What socket.io-client reports for a CONNECT answer without `sid`.
const NO_SID: &str = "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)";

impl<F: From<EnginePacket>> Connection<F> {
    pub(super) fn handle_decoded(
        &mut self,
        decoded: Result<Option<Packet>, DecodeError>,
    ) -> Result<(), ConnectionError> {
        let result = match decoded {
            Ok(Some(packet)) => match self.role {
                Role::Server => self.server_packet(packet),
                Role::Client => {
                    self.client_packet(packet);
                    Ok(())
                }
            },
            Ok(None) => Ok(()),
            Err(e) => Err(e.into()),
        };
        if let Err(error) = &result {
            self.fail(error);
        }
        result
    }

    /// Closes for `error`.
    pub(super) fn fail(&mut self, error: &ConnectionError) {
        let reason = match error {
            ConnectionError::ConnectTimeout => CloseReason::ForcedClose,
            _ => CloseReason::ParseError,
        };
        self.close(reason);
    }

    fn server_packet(&mut self, packet: Packet) -> Result<(), ConnectionError> {
        let state = self.namespaces.get(&packet.nsp).map(|n| n.state);
        match (packet.kind, state) {
            (PacketKind::Connect, None) => self.connect_request(packet),
            // Joined or being joined already: ignored.
            (PacketKind::Connect, Some(_)) => {}
            (PacketKind::Disconnect, Some(NamespaceState::Connected)) => {
                self.leave(&packet.nsp, DisconnectReason::Peer);
            }
            (PacketKind::Disconnect, _) => {}
            (
                PacketKind::Event
                | PacketKind::BinaryEvent
                | PacketKind::Ack
                | PacketKind::BinaryAck,
                Some(NamespaceState::Connected),
            ) => self.incoming(packet),
            (kind, _) => {
                return Err(ConnectionError::UnexpectedPacket {
                    nsp: packet.nsp,
                    kind,
                });
            }
        }
        Ok(())
    }

    /// Server role: a CONNECT for a namespace neither joined nor being
    /// joined.
    fn connect_request(&mut self, packet: Packet) {
        if self.namespaces.len() >= self.config.max_namespaces {
            let refusal = Packet::connect_error(packet.nsp, "Too many namespaces", None);
            self.queue_packet(&refusal);
            return;
        }
        let recovery = packet.recovery();
        let auth = match packet.data {
            Data::Value(auth) => Some(auth),
            _ => None,
        };
        self.namespaces
            .insert(packet.nsp.clone(), NamespaceState::Connecting);
        crate::lean::push_back(
            &mut self.events,
            Event::ConnectRequest {
                nsp: packet.nsp,
                auth,
                recovery,
            },
        );
    }

    /// Client role: anything for a namespace not joined nor being joined is
    /// ignored, as every socket of socket.io-client ignores it.
    fn client_packet(&mut self, packet: Packet) {
        let Some(state) = self.namespaces.get(&packet.nsp).map(|n| n.state) else {
            return;
        };
        match (packet.kind, state) {
            (PacketKind::Connect, NamespaceState::Connecting) => self.connected(packet),
            (PacketKind::ConnectError, NamespaceState::Connecting) => {
                self.namespaces.remove(&packet.nsp);
                let (message, data) = connect_error_fields(packet.value());
                crate::lean::push_back(
                    &mut self.events,
                    Event::ConnectError {
                        nsp: packet.nsp,
                        message,
                        data,
                    },
                );
            }
            (PacketKind::Event | PacketKind::BinaryEvent, NamespaceState::Connecting) => {
                if let (Some(ns), Data::Args(args)) =
                    (self.namespaces.get_mut(&packet.nsp), packet.data)
                {
                    ns.early.push((args, packet.id));
                }
            }
            (
                PacketKind::Event
                | PacketKind::BinaryEvent
                | PacketKind::Ack
                | PacketKind::BinaryAck,
                NamespaceState::Connected,
            ) => self.incoming(packet),
            (PacketKind::Disconnect, _) => {
                self.leave(&packet.nsp, DisconnectReason::Peer);
            }
            _ => {}
        }
    }

    /// Client role: the server's answer to a CONNECT.
    fn connected(&mut self, packet: Packet) {
        let field = |name| {
            packet
                .value()
                .and_then(|v| object_field(v, name))
                .and_then(|v| v.as_string().map(|s| s.into_owned()))
        };
        let (sid, pid) = (field("sid"), field("pid"));
        let Some(sid) = sid else {
            self.namespaces.remove(&packet.nsp);
            crate::lean::push_back(
                &mut self.events,
                Event::ConnectError {
                    nsp: packet.nsp,
                    message: NO_SID.to_owned(),
                    data: None,
                },
            );
            return;
        };
        let Some(ns) = self.namespaces.get_mut(&packet.nsp) else {
            return;
        };
        let recovered = pid.is_some() && ns.asked_pid == pid;
        if !recovered {
            // A new session: an old offset means nothing to it.
            ns.offset = None;
        }
        ns.state = NamespaceState::Connected;
        ns.sid = Some(sid.clone());
        ns.pid.clone_from(&pid);
        let early = std::mem::take(&mut ns.early);
        crate::lean::push_back(
            &mut self.events,
            Event::Connected {
                nsp: packet.nsp.clone(),
                sid,
                pid,
                recovered,
            },
        );
        for (args, id) in early {
            self.deliver(packet.nsp.clone(), args, id);
        }
    }

    /// An event or ack on a joined namespace.
    fn incoming(&mut self, packet: Packet) {
        let Data::Args(args) = packet.data else {
            return;
        };
        if packet.kind.is_event() {
            self.deliver(packet.nsp, args, packet.id);
            return;
        }
        let Some(id) = packet.id else { return };
        let Some(ns) = self.namespaces.connected_mut(&packet.nsp) else {
            return;
        };
        // An unknown id (answered, timed out, never asked) is ignored.
        if let Some(deadline) = ns.acks.remove(id) {
            if let Some(deadline) = deadline {
                self.timers.remove(deadline, ns.serial, id);
            }
            crate::lean::push_back(
                &mut self.events,
                Event::Ack {
                    nsp: packet.nsp,
                    id,
                    args,
                },
            );
        }
    }

    /// Reports an event; a client notes its recovery offset.
    fn deliver(&mut self, nsp: Str, args: Args, id: Option<u64>) {
        if self.role == Role::Client
            && id.is_none()
            && let Some(ns) = self.namespaces.get_mut(&nsp)
            && ns.pid.is_some()
            && let Some(last) = args.as_slice().last()
            && last.kind() == JsonKind::String
        {
            ns.offset = Some(last.clone());
        }
        crate::lean::push_back(&mut self.events, Event::Event { nsp, args, id });
    }
}

/// The `message` and `data` of a CONNECT_ERROR payload (an object; a
/// string is taken as the message).
fn connect_error_fields(value: Option<&RawJson>) -> (String, Option<RawJson>) {
    let Some(value) = value else {
        return (String::new(), None);
    };
    if let Some(message) = value.as_string() {
        return (message.into_owned(), None);
    }
    let message = object_field(value, "message")
        .and_then(|m| m.as_string().map(|s| s.into_owned()))
        .unwrap_or_default();
    (message, object_field(value, "data"))
}

/// The value of key `name` of a JSON object, as it was sent (the last one
/// if the key repeats, as `JSON.parse` has it).
pub(super) fn object_field(object: &RawJson, name: &str) -> Option<RawJson> {
    let buf = object.as_bytes();
    let mut lexer = json::Lexer::new(buf, crate::socket::DEFAULT_MAX_DEPTH);
    let mut depth = 0usize;
    let mut wanted = false;
    // Where the wanted value started, while inside it.
    let mut start = None;
    let mut found = None;
    while let Ok(Some(token)) = lexer.next_token() {
        let opens = matches!(token.tok, Tok::ArrayStart | Tok::ObjectStart);
        let closes = matches!(token.tok, Tok::ArrayEnd | Tok::ObjectEnd);
        if depth == 0 && token.tok != Tok::ObjectStart {
            return None;
        }
        if depth == 1 {
            if let Tok::Key { .. } = token.tok {
                let key = &buf[token.start + 1..token.end - 1];
                wanted = json::unescape(key) == name;
                continue;
            }
            if wanted && !closes {
                wanted = false;
                if opens {
                    start = Some(token.start);
                } else {
                    found = Some(buf.slice(token.start..token.end));
                }
            }
        }
        if opens {
            depth += 1;
        } else if closes {
            depth -= 1;
            if depth == 1
                && let Some(s) = start.take()
            {
                found = Some(buf.slice(s..token.end));
            }
        }
    }
    found.map(RawJson::from_validated)
}
