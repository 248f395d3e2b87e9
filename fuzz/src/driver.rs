//! Running the targets without libFuzzer, on a stable toolchain: replaying
//! corpus files, and a coverage-blind mutation loop over seed inputs. Not a
//! substitute for `cargo fuzz run` (no coverage feedback, no sanitizer), but
//! enough for a smoke test in CI and for reproducing a crash.

use std::fs;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fuzz target.
pub type Target = fn(&[u8]);

/// The targets, by name (the names of the `fuzz_targets/` binaries).
pub const TARGETS: [(&str, Target); 6] = [
    ("frame_decode", crate::frame_decode),
    ("handshake", crate::handshake),
    ("inflate", crate::inflate),
    ("engine_packet", crate::engine_packet),
    ("socket_decode", crate::socket_decode),
    ("connection", crate::connection),
];

/// The target called `name`.
pub fn by_name(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The files at `paths`: each file itself, each directory's files (not
/// recursive), sorted.
pub fn files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(p)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            out.extend(entries);
        } else if p.is_file() {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Reads the inputs at `paths` (see [`files`]).
pub fn read_inputs(paths: &[PathBuf]) -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    files(paths)?
        .into_iter()
        .map(|p| fs::read(&p).map(|d| (p, d)))
        .collect()
}

/// A failing input and the panic message.
#[derive(Debug)]
pub struct Crash {
    /// The input.
    pub input: Vec<u8>,
    /// The panic message.
    pub message: String,
}

/// Runs `target` on `input`, catching a panic.
pub fn run_one(target: Target, input: &[u8]) -> Result<(), Crash> {
    catch_unwind(AssertUnwindSafe(|| target(input))).map_err(|p| Crash {
        input: input.to_vec(),
        message: p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "non-string panic".to_owned()),
    })
}

/// xorshift64*: deterministic for a given seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Byte strings worth splicing in: frame header bytes, HTTP pieces,
/// Engine.IO and Socket.IO syntax, MessagePack heads.
const TOKENS: &[&[u8]] = &[
    b"\x81",
    b"\x82",
    b"\x80",
    b"\x00",
    b"\x88",
    b"\x89",
    b"\x8a",
    b"\xc1",
    b"\xc2",
    b"\x41",
    b"\x7e",
    b"\x7f",
    b"\xfe",
    b"\xff",
    b"\x00\x00\xff\xff",
    b"\r\n",
    b"\r\n\r\n",
    b": ",
    b"Upgrade: websocket\r\n",
    b"Connection: Upgrade\r\n",
    b"Sec-WebSocket-Version: 13\r\n",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    b"Sec-WebSocket-Accept: @ACCEPT@\r\n",
    b"Sec-WebSocket-Extensions: ",
    b"Sec-WebSocket-Protocol: ",
    b"permessage-deflate",
    b"; client_max_window_bits",
    b"; server_max_window_bits=",
    b"; server_no_context_takeover",
    b"; client_no_context_takeover",
    b"=\"",
    b", ",
    b"\xce\xba",
    b"\xf0\x9f\x8e",
    b"\xed\xa0\x80",
    // Engine.IO: the payload separator, protocol 3 lengths, base64.
    b"\x1e",
    b"4",
    b"b4",
    b"0:",
    b"10:",
    b"\x01\x05\xff\x04",
    b"AQIDBA==",
    // Socket.IO text: binary headers, namespaces, placeholders.
    b"51-",
    b"62-/admin,",
    b"/admin,",
    b"[\"e\",",
    b"{\"_placeholder\":true,\"num\":0}",
    b"\\u00",
    b"1e400",
    // socket_decode: the message separator; MessagePack.
    b"\xc1",
    b"\xc1\x81",
    b"\xc1\x01",
    b"\x84\xa4type\x02",
    b"\xa4data",
    b"\xa3nsp\xa1/",
    b"\xa2id",
    b"\xc4\x01",
    b"\xd4\x00\x00",
    b"\xd7\x00",
    b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
    b"\x81\xac_placeholder\xc3",
];

/// A mutation of one of `seeds` (or of random bytes), at most `max_len`
/// bytes long.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut data = if seeds.is_empty() || rng.below(16) == 0 {
        (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect()
    } else {
        seeds[rng.below(seeds.len())].clone()
    };
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let copy = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, copy);
            }
            5 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = 1 + rng.below(other.len() - i);
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            6 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, t.iter().copied());
            }
            7 if len > 0 => {
                // The configuration bytes at the front matter most.
                let i = rng.below(len.min(6));
                data[i] = rng.next_u64() as u8;
            }
            8 if len > 0 => {
                let i = rng.below(len);
                data.truncate(i);
            }
            _ => {}
        }
    }
    data.truncate(max_len);
    data
}

/// How long a [`fuzz`] run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// This many inputs.
    Runs(u64),
    /// This long.
    Time(Duration),
}

/// Runs `target` on every seed, then on mutations of them until `budget` is
/// spent. Returns the number of executions, or the first crash.
pub fn fuzz(
    target: Target,
    seeds: &[Vec<u8>],
    budget: Budget,
    seed: u64,
    max_len: usize,
) -> Result<u64, Crash> {
    for s in seeds {
        run_one(target, s)?;
    }
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let mut runs = seeds.len() as u64;
    loop {
        match budget {
            Budget::Runs(n) if runs >= n => break,
            Budget::Time(t) if runs.is_multiple_of(256) && start.elapsed() >= t => break,
            _ => {}
        }
        let input = mutate(&mut rng, seeds, max_len);
        run_one(target, &input)?;
        runs += 1;
    }
    Ok(runs)
}

/// Saves a crashing input under `dir` as `crash-<hash>` and returns its path.
pub fn save_crash(dir: &Path, crash: &Crash) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &crash.input {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let path = dir.join(format!("crash-{h:016x}"));
    fs::write(&path, &crash.input)?;
    Ok(path)
}
