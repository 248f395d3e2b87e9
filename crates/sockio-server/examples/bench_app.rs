//! The benchmark application (its contract is in ARCHITECTURE.md), the same tiny app
//! every Socket.IO server is measured with:
//!
//! - `echo` with an ack request is acknowledged with exactly the arguments
//!   received;
//! - `broadcast` is re-emitted as `bcast`, same arguments, to every socket
//!   of the main namespace, the sender included.
//!
//! ```text
//! cargo run --release -p sockio-server --example bench_app -- PORT
//! ```
//! Listens on 127.0.0.1:PORT (default 3000) with a backlog of 1024, the
//! reference defaults everywhere else, nothing logged per message, and
//! jemalloc as the allocator.
#![allow(clippy::print_stdout)]

use std::io::Write as _;

use sockio_server::socketio::{AckSender, Args, SocketIo, SocketRef};

/// jemalloc, with background threads purging freed pages: glibc's malloc
/// keeps the memory of closed connections resident (after 10 cycles of
/// 10 000 connections, RSS was 1.7x that after the first with nothing
/// live); jemalloc returns it (`e2e/hardening/soak.test.mjs`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let io = SocketIo::builder().build();
    io.ns("/", |socket: SocketRef| {
        socket.on("echo", |args: Args, ack: Option<AckSender>| {
            if let Some(ack) = ack {
                // Fails only if the client is gone: nothing to do then.
                ack.send(args).ok();
            }
        });
        socket.on("broadcast", |io: SocketIo, args: Args| {
            io.emit("bcast", args).ok();
        });
    });
    let listener = sockio_server::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let service = io.service();
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        io.close().await;
    };
    sockio_server::serve(listener, service, shutdown).await
}
