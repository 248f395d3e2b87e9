//! Runs a fuzz target without libFuzzer (works on a stable toolchain).
//!
//! ```text
//! cargo run --release --no-default-features --example replay -- TARGET [PATH...]
//!     replays each file (directories: their files) and reports the first panic
//! cargo run --release --no-default-features --example replay -- TARGET --seconds 300 [--seed N] [--max-len 4096] [PATH...]
//!     then mutates those inputs (coverage-blind) for that long
//! ```
//! A crashing input is written to `artifacts/TARGET/crash-<hash>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sockio_ws_fuzz::driver::{self, Budget};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!(
            "usage: replay TARGET [--seconds S | --runs N] [--seed N] [--max-len L] [PATH...]"
        );
        return ExitCode::from(2);
    };
    let Some(target) = driver::by_name(&name) else {
        let names: Vec<&str> = driver::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("unknown target {name}; targets: {}", names.join(", "));
        return ExitCode::from(2);
    };
    let mut budget = None;
    let mut seed = 1u64;
    let mut max_len = 4096usize;
    let mut paths = Vec::new();
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a number")
        };
        match a.as_str() {
            "--seconds" => budget = Some(Budget::Time(Duration::from_secs(value()))),
            "--runs" => budget = Some(Budget::Runs(value())),
            "--seed" => seed = value(),
            "--max-len" => max_len = value() as usize,
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let inputs = driver::read_inputs(&paths).expect("readable inputs");
    // Quiet the default hook: crashes are reported below, with the input.
    std::panic::set_hook(Box::new(|_| {}));
    for (path, data) in &inputs {
        if let Err(c) = driver::run_one(target, data) {
            eprintln!("{name}: {} panics: {}", path.display(), c.message);
            return ExitCode::FAILURE;
        }
    }
    eprintln!("{name}: {} inputs replayed, no panic", inputs.len());
    let Some(budget) = budget else {
        return ExitCode::SUCCESS;
    };
    let seeds: Vec<Vec<u8>> = inputs.into_iter().map(|(_, d)| d).collect();
    let start = Instant::now();
    match driver::fuzz(target, &seeds, budget, seed, max_len) {
        Ok(runs) => {
            eprintln!(
                "{name}: {runs} executions in {:.1} s, no panic",
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(c) => {
            let path = driver::save_crash(&PathBuf::from("artifacts").join(&name), &c)
                .expect("writable artifacts/");
            eprintln!(
                "{name}: panic: {}\ninput saved to {}",
                c.message,
                path.display()
            );
            ExitCode::FAILURE
        }
    }
}
