//! A WebSocket echo server: every text and binary message is sent back as
//! it came. permessage-deflate is accepted when offered (unless
//! `--no-deflate`), messages up to 16 MiB.
//!
//! A text message `!close <code> <reason>` makes the server start the close
//! handshake with that code and reason (for interop tests of server-side
//! closes).
//!
//! ```text
//! cargo run --release -p sockio-ws --example echo_server -- 127.0.0.1:9001
//! ```
//! It prints `listening on ADDR` once bound (port 0 picks a free port).
//! A plain `GET /` from a browser gets a page that talks to the server.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

use http::header;
use sockio_ws::{CloseFrame, Config, DeflateConfig, Message};
use tokio::io::AsyncWriteExt;

const PAGE: &str = include_str!("echo_page/index.html");

fn config(deflate: bool) -> Config {
    let mut config = Config::default().max_message_size(16 << 20);
    if deflate {
        // Compress every message, however small, so that clients exercise
        // our compressor as much as our decompressor.
        config = config.deflate(DeflateConfig::enabled().threshold(0));
    }
    config
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:9001".to_owned();
    let mut deflate = true;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-deflate" => deflate = false,
            "-h" | "--help" => {
                println!("usage: echo_server [ADDR] [--no-deflate]");
                return Ok(());
            }
            other => addr = other.to_owned(),
        }
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let config = config(deflate);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(tcp, &config).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

async fn serve(mut tcp: tokio::net::TcpStream, config: &Config) -> Result<(), sockio_ws::Error> {
    let (req, read) = sockio_ws::read_request(&mut tcp, config).await?;
    if !req.headers().contains_key(header::UPGRADE) {
        // A browser asking for the page.
        let (status, body) = match req.uri().path() {
            "/" => ("200 OK", PAGE),
            _ => ("404 Not Found", "not found\n"),
        };
        let content_type = if status.starts_with("200") {
            "text/html"
        } else {
            "text/plain"
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(body.as_bytes()).await?;
        tcp.shutdown().await?;
        return Ok(());
    }
    let mut ws = sockio_ws::accept_request(tcp, &req, read, config).await?;
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(text) => {
                if let Some(command) = text.strip_prefix("!close ") {
                    let (code, reason) = command.split_once(' ').unwrap_or((command, ""));
                    let code = code.trim().parse::<u16>().unwrap_or(1000);
                    ws.close(Some(CloseFrame::new(code, reason))).await?;
                } else {
                    ws.send(Message::Text(text)).await?;
                }
            }
            msg @ Message::Binary(_) => ws.send(msg).await?,
            _ => {}
        }
    }
    Ok(())
}
