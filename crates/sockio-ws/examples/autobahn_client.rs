//! Drives the Autobahn|Testsuite fuzzingserver with our client: fetches the
//! case count, runs every case as an echo client, then asks the server to
//! write its reports.
//!
//! ```text
//! cargo run --release -p sockio-ws --example autobahn_client -- ws://127.0.0.1:9001
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use sockio_ws::{Config, DeflateConfig, Message};

const AGENT: &str = "sockio";

fn config() -> Config {
    Config::default()
        .max_message_size(16 << 20)
        .deflate(DeflateConfig::enabled().threshold(0))
}

#[tokio::main]
async fn main() -> Result<(), sockio_ws::Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let (mut ws, _) = sockio_ws::connect(&format!("{base}/getCaseCount"), &config()).await?;
    let mut count = 0u32;
    while let Some(msg) = ws.next().await {
        if let Message::Text(t) = msg? {
            count = t.trim().parse().unwrap_or(0);
        }
    }
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        if let Err(e) = run_case(&url).await {
            eprintln!("case {case}: {e}");
        }
    }
    let (mut ws, _) =
        sockio_ws::connect(&format!("{base}/updateReports?agent={AGENT}"), &config()).await?;
    ws.close(None).await?;
    while ws.next().await.is_some() {}
    Ok(())
}

async fn run_case(url: &str) -> Result<(), sockio_ws::Error> {
    let (mut ws, _) = sockio_ws::connect(url, &config()).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_data() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}
