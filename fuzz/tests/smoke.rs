//! Every target on its seeds, on the saved regressions, and on a few
//! thousand mutations of the seeds: a quick check on a stable toolchain
//! (`cargo test --no-default-features`), not a fuzzing campaign.

use std::path::PathBuf;

use sockio_ws_fuzz::driver::{self, Budget};

fn inputs(dir: &str, target: &str) -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(target);
    driver::read_inputs(&[path])
        .expect("readable")
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

fn smoke(name: &str) {
    let target = driver::by_name(name).expect("a target");
    let seeds = inputs("seeds", name);
    assert!(
        !seeds.is_empty(),
        "seeds/{name} is empty: run the gen_seeds example"
    );
    for input in inputs("regressions", name) {
        if let Err(c) = driver::run_one(target, &input) {
            panic!(
                "{name}: regression input {:?} panics: {}",
                c.input, c.message
            );
        }
    }
    if let Err(c) = driver::fuzz(target, &seeds, Budget::Runs(3000), 7, 4096) {
        panic!("{name}: input {:?} panics: {}", c.input, c.message);
    }
}

#[test]
fn frame_decode() {
    smoke("frame_decode");
}

#[test]
fn handshake() {
    smoke("handshake");
}

#[test]
fn inflate() {
    smoke("inflate");
}

#[test]
fn engine_packet() {
    smoke("engine_packet");
}

#[test]
fn socket_decode() {
    smoke("socket_decode");
}

#[test]
fn connection() {
    smoke("connection");
}
