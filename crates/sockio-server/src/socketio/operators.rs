//! The broadcast operators of [`SocketIo`](super::SocketIo) (its main
//! namespace) and [`NamespaceRef`](super::NamespaceRef), defined once: each
//! starts a [`BroadcastOperator`](super::BroadcastOperator) over all the
//! namespace's sockets and hands over to it.

/// Defines the operator methods on a type with a
/// `fn operator(&self) -> BroadcastOperator`; `$what` names the sockets
/// reached, for the docs.
macro_rules! broadcast_operators {
    ($what:literal) => {
        #[doc = concat!("Targets the sockets of ", $what, " in `room` (add more with [`BroadcastOperator::to`]).")]
        pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
            self.operator().to(room)
        }

        #[doc = concat!("Same as `to`: the sockets of ", $what, " in `room`.")]
        pub fn within(&self, room: impl Into<String>) -> BroadcastOperator {
            self.operator().to(room)
        }

        #[doc = concat!("Targets the sockets of ", $what, " not in `room` (a socket id is a room too).")]
        pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
            self.operator().except(room)
        }

        #[doc = concat!("Targets the sockets of ", $what, " on this server only (a remote adapter does not tell the others).")]
        pub fn local(&self) -> BroadcastOperator {
            self.operator().local()
        }

        #[doc = concat!("A broadcast to ", $what, " that receivers not ready for it right now do not get.")]
        pub fn volatile(&self) -> BroadcastOperator {
            self.operator().volatile()
        }

        #[doc = concat!("A broadcast to ", $what, ", compressed or not (default true).")]
        pub fn compress(&self, compress: bool) -> BroadcastOperator {
            self.operator().compress(compress)
        }

        #[doc = concat!("A broadcast to ", $what, " whose `emit_with_ack` waits at most `timeout`.")]
        pub fn timeout(&self, timeout: std::time::Duration) -> BroadcastOperator {
            self.operator().timeout(timeout)
        }

        #[doc = concat!("Emits `event` with `data` to every socket of ", $what, " (see [`BroadcastOperator::emit`]).")]
        pub fn emit(
            &self,
            event: &str,
            data: impl sockio_core::socket::IntoArgs,
        ) -> Result<(), EmitError> {
            self.operator().emit(event, data)
        }

        #[doc = concat!("Emits `event` with `data` to every socket of ", $what, " and gathers their acknowledgements (see [`BroadcastOperator::emit_with_ack`]).")]
        pub async fn emit_with_ack<T: sockio_core::socket::FromArgs>(
            &self,
            event: &str,
            data: impl sockio_core::socket::IntoArgs,
        ) -> Result<Vec<T>, BroadcastAckError> {
            self.operator().emit_with_ack(event, data).await
        }

        #[doc = concat!("Every socket of ", $what, ", on every server.")]
        pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
            self.operator().fetch_sockets().await
        }

        #[doc = concat!("Every socket of ", $what, " joins `rooms`.")]
        pub fn sockets_join<I, R>(&self, rooms: I)
        where
            I: IntoIterator<Item = R>,
            R: Into<String>,
        {
            self.operator().sockets_join(rooms);
        }

        #[doc = concat!("Every socket of ", $what, " leaves `rooms`.")]
        pub fn sockets_leave<I, R>(&self, rooms: I)
        where
            I: IntoIterator<Item = R>,
            R: Into<String>,
        {
            self.operator().sockets_leave(rooms);
        }

        #[doc = concat!("Disconnects every socket of ", $what, "; with `close`, their clients' whole connections.")]
        pub fn disconnect_sockets(&self, close: bool) {
            self.operator().disconnect_sockets(close);
        }
    };
}

pub(crate) use broadcast_operators;
