//! The fuzzing harness: the committed seed corpus, the mutator, the time budget
//! and seed (from `NATTER_FUZZ_SECS` and `NATTER_FUZZ_SEED`), and the loop that
//! runs a target's check on seeds and mutants.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub(crate) fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "empty corpus {}", dir.display());
    out
}

pub(crate) fn budget() -> Duration {
    let secs = std::env::var("NATTER_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(5.0);
    Duration::from_secs_f64(secs.max(0.0))
}

pub(crate) fn seed() -> u64 {
    std::env::var("NATTER_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

/// One mutation of `v`.
pub(crate) fn mutate(rng: &mut StdRng, v: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[&[u8]]) {
    let at = |rng: &mut StdRng, v: &Vec<u8>| rng.random_range(0..=v.len());
    match rng.random_range(0..9) {
        0 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] ^= 1 << rng.random_range(0..8);
        }
        1 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] = *[
                0u8, 0x7f, 0x80, 0xff, b'"', b'\\', b'[', b'{', b'0', b'9', 0x1e,
            ]
            .get(rng.random_range(0..11))
            .unwrap_or(&0);
        }
        2 | 3 => {
            let tok = dict[rng.random_range(0..dict.len())];
            let i = at(rng, v);
            v.splice(i..i, tok.iter().copied());
        }
        4 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            let n = rng.random_range(1..=(v.len() - i).min(16));
            v.drain(i..i + n);
        }
        5 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            let n = rng.random_range(1..=(v.len() - i).min(32));
            let chunk: Vec<u8> = v[i..i + n].to_vec();
            let j = at(rng, v);
            v.splice(j..j, chunk);
        }
        6 => {
            let other = &seeds[rng.random_range(0..seeds.len())];
            let cut = rng.random_range(0..=other.len());
            let i = at(rng, v);
            v.truncate(i);
            v.extend_from_slice(&other[cut..]);
        }
        7 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v.truncate(i);
        }
        _ => {
            let i = at(rng, v);
            let n = rng.random_range(1..8);
            let junk: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            v.splice(i..i, junk);
        }
    }
    v.truncate(64 * 1024);
}

/// Runs `check` on the seeds, then on mutants of them until the budget is spent.
pub(crate) fn fuzz(target: &str, dict: &[&[u8]], check: impl Fn(&[u8])) {
    let seeds = corpus(target);
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let run = |input: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| check(input))).is_err() {
            panic!(
                "{target}: failed on input {:?} (hex {}); replay with NATTER_FUZZ_SEED={seed}",
                String::from_utf8_lossy(input),
                input.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
        }
    };
    for s in &seeds {
        run(s);
    }
    let until = Instant::now() + budget();
    let mut runs = 0u64;
    while Instant::now() < until {
        for _ in 0..64 {
            let mut v = seeds[rng.random_range(0..seeds.len())].clone();
            for _ in 0..rng.random_range(1..=8) {
                mutate(&mut rng, &mut v, &seeds, dict);
            }
            run(&v);
            runs += 1;
        }
    }
    eprintln!(
        "{target}: {} seeds, {runs} mutants (seed {seed})",
        seeds.len()
    );
}

pub(crate) const JSON_TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u",
    b"\\ud83d",
    b"\\ude00",
    b"\\udc00",
    b"\\u0000",
    b"null",
    b"true",
    b"1e999",
    b"-",
    b"/",
    b"_placeholder",
    b"\"num\":",
    b"{\"_placeholder\":true,\"num\":0}",
    b"\xf0\x9f\x98\x80",
    b"\xc3",
    b"\xed\xa0\xbd",
];

/// Splits a reassembly input into messages: kind byte, u16 length, payload.
pub(crate) fn messages(input: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = input;
    while rest.len() >= 3 {
        let kind = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        out.push((kind, &rest[3..end]));
        rest = &rest[end..];
    }
    out
}
