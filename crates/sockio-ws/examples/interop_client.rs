//! Our client against another implementation's echo server (Node `ws`,
//! Python `websockets`): the interop cases of the e2e suite `ws-client`.
//!
//! ```text
//! cargo run --release -p sockio-ws --example interop_client -- ws://127.0.0.1:PORT [--deflate]
//! ```
//! The server must echo text and binary messages and, on a text message
//! `!close CODE REASON`, close with that code and reason. Prints one line
//! per case and ends with `N passed, M failed`; exits non-zero on failure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::future::Future;
use std::time::Duration;

use sockio_ws::{CloseFrame, Config, DeflateConfig, Message, WebSocketStream};
use tokio::net::TcpStream;

type Ws = WebSocketStream<TcpStream>;
type Outcome = Result<(), String>;

const CASE_TIMEOUT: Duration = Duration::from_secs(30);

struct Runner {
    url: String,
    config: Config,
    deflate: bool,
    passed: u32,
    failed: u32,
}

impl Runner {
    async fn connect(&self) -> Result<Ws, String> {
        let (ws, connected) = sockio_ws::connect(&self.url, &self.config)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        if connected.deflate.is_some() != self.deflate {
            return Err(format!("deflate negotiated: {:?}", connected.deflate));
        }
        Ok(ws)
    }

    async fn case<F, Fut>(&mut self, name: &str, f: F)
    where
        F: FnOnce(Ws) -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let outcome = match self.connect().await {
            Ok(ws) => match tokio::time::timeout(CASE_TIMEOUT, f(ws)).await {
                Ok(outcome) => outcome,
                Err(_) => Err("timed out".to_owned()),
            },
            Err(e) => Err(e),
        };
        let mode = if self.deflate { "deflate" } else { "plain" };
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("ok   {mode} {name}");
            }
            Err(e) => {
                self.failed += 1;
                println!("FAIL {mode} {name}: {e}");
            }
        }
    }
}

/// Sends `msg` (in frames of `fragment` bytes if given) and expects it back.
async fn echo(mut ws: Ws, msg: Message, fragment: Option<usize>) -> Outcome {
    match fragment {
        Some(size) => ws.writer().send_fragmented(msg.clone(), size).await,
        None => ws.send(msg.clone()).await,
    }
    .map_err(|e| e.to_string())?;
    let got = next_data(&mut ws).await?;
    if got != msg {
        return Err(format!(
            "echo differs: sent {} bytes, got {} bytes",
            msg.len(),
            got.len()
        ));
    }
    close_cleanly(ws).await
}

async fn next_data(ws: &mut Ws) -> Result<Message, String> {
    loop {
        match ws.next().await {
            Some(Ok(m)) if m.is_data() => return Ok(m),
            Some(Ok(Message::Close(f))) => return Err(format!("closed early: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection ended".to_owned()),
        }
    }
}

async fn close_cleanly(mut ws: Ws) -> Outcome {
    ws.close(Some(CloseFrame::new(1000, "")))
        .await
        .map_err(|e| e.to_string())?;
    expect_close(&mut ws, 1000).await
}

async fn expect_close(ws: &mut Ws, code: u16) -> Outcome {
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(Some(f)))) if f.code.0 == code => break,
            Some(Ok(Message::Close(f))) => {
                return Err(format!("close frame {f:?}, expected {code}"));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("ended without a close frame".to_owned()),
        }
    }
    match ws.next().await {
        None => Ok(()),
        Some(other) => Err(format!("after close: {other:?}")),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn text(len: usize) -> String {
    "sockio ✓ "
        .chars()
        .cycle()
        .scan(0, |n, c| {
            *n += c.len_utf8();
            (*n <= len).then_some(c)
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let mut url = None;
    let mut deflate = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--deflate" => deflate = true,
            other => url = Some(other.to_owned()),
        }
    }
    let Some(url) = url else {
        eprintln!("usage: interop_client ws://HOST:PORT [--deflate]");
        std::process::exit(2);
    };
    let mut config = Config::default().max_message_size(32 << 20);
    if deflate {
        config = config.deflate(DeflateConfig::enabled().threshold(0));
    }
    let mut r = Runner {
        url,
        config,
        deflate,
        passed: 0,
        failed: 0,
    };

    r.case("text", |ws| {
        echo(ws, Message::text("Hello, interop ✓"), None)
    })
    .await;
    r.case("empty text", |ws| echo(ws, Message::text(""), None))
        .await;
    r.case("empty binary", |ws| {
        echo(ws, Message::binary(Vec::new()), None)
    })
    .await;
    for len in [125, 126, 65535, 65536, 16 << 20] {
        r.case(&format!("binary {len} bytes"), |ws| {
            echo(ws, Message::binary(pattern(len)), None)
        })
        .await;
        r.case(&format!("text {len} bytes"), |ws| {
            echo(ws, Message::text(text(len)), None)
        })
        .await;
    }
    r.case("fragmented text, 7-byte frames", |ws| {
        echo(ws, Message::text(text(1000)), Some(7))
    })
    .await;
    r.case("fragmented binary, 64 KiB frames", |ws| {
        echo(ws, Message::binary(pattern(1 << 20)), Some(1 << 16))
    })
    .await;
    r.case("many messages in order", |mut ws| async move {
        for i in 0..500 {
            ws.send(Message::text(format!("m{i}")))
                .await
                .map_err(|e| e.to_string())?;
        }
        for i in 0..500 {
            let got = next_data(&mut ws).await?;
            if got != Message::text(format!("m{i}")) {
                return Err(format!("message {i} out of order: {got:?}"));
            }
        }
        close_cleanly(ws).await
    })
    .await;
    r.case("ping gets pong with payload", |mut ws| async move {
        ws.send(Message::Ping("are you there".into()))
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(p))) if &p[..] == b"are you there" => break,
                Some(Ok(Message::Pong(p))) => return Err(format!("pong payload {p:?}")),
                Some(Ok(_)) => {}
                other => return Err(format!("{other:?}")),
            }
        }
        close_cleanly(ws).await
    })
    .await;
    for code in [1000u16, 1001, 3000, 4999] {
        r.case(&format!("client closes with {code}"), |mut ws| async move {
            ws.close(Some(CloseFrame::new(code, "client says bye")))
                .await
                .map_err(|e| e.to_string())?;
            expect_close(&mut ws, code).await
        })
        .await;
    }
    r.case("server closes with 4001", |mut ws| async move {
        ws.send(Message::text("!close 4001 bye"))
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(f)))) if f.code.0 == 4001 && f.reason == "bye" => break,
                Some(Ok(Message::Close(f))) => return Err(format!("close frame {f:?}")),
                Some(Ok(_)) => {}
                other => return Err(format!("{other:?}")),
            }
        }
        match ws.next().await {
            None => Ok(()),
            Some(other) => Err(format!("after close: {other:?}")),
        }
    })
    .await;

    println!("{} passed, {} failed", r.passed, r.failed);
    std::process::exit(i32::from(r.failed > 0));
}
