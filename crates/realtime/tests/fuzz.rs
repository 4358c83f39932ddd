//! Time-bounded mutation fuzzing of the decoders a client reaches, on stable
//! Rust (`cargo fuzz` needs nightly): the Engine.IO text packet and polling
//! payload decoders, the Socket.IO packet decoder, binary-packet reassembly and
//! the websocket frame reader. Each target starts from the committed seed
//! corpus of real packets in `fuzz-corpus/<target>/` and mutates it (bit flips,
//! protocol tokens, splices, cuts) for `NATTER_FUZZ_SECS` seconds (default 5),
//! checking that nothing panics or hangs and that each decoder's invariants
//! hold. A failure prints the seed (`NATTER_FUZZ_SEED` replays the run) and the
//! input; add that input to the corpus with the fix.

//!
//! `fuzz/harness.rs`: the corpus, the mutator and the time-bounded loop;
//! `fuzz/decoders.rs`: one target per decoder; `fuzz/engine.rs`: mutated
//! Socket.IO traffic against a whole engine over a real socket.

mod support;

#[path = "fuzz/decoders.rs"]
mod decoders;
#[path = "fuzz/engine.rs"]
mod engine;
#[path = "fuzz/harness.rs"]
mod harness;
