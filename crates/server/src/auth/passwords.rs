//! Password hashing: argon2id with the crate's default (OWASP) parameters, on a
//! few threads of its own, each reusing one argon2 memory block.
//!
//! A hash needs 19 MiB and a core for tens of ms. Run on the blocking pool, each
//! hash allocated its 19 MiB on whichever thread ran it, and glibc kept that
//! memory in the thread's arena after the free (its mmap threshold rises to the
//! size of the last large free): 40 parallel sign-ups took a fresh server from
//! 15 to 561 MB, and it stayed there. Here at most [`THREADS`] hashes run at
//! once, each thread allocates its block once and reuses it, so the memory for
//! passwords is `THREADS × 19 MiB` whatever the load; the rest wait their turn.

use std::sync::{mpsc, Arc, Mutex};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use natter_core::{Error, Result};
use tokio::sync::oneshot;

/// Hashing threads, at most (fewer on a machine with fewer cores).
pub const THREADS: usize = 2;

/// Work for a hashing thread, given the thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

pub struct Passwords {
    jobs: mpsc::Sender<Job>,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords::with_threads(cores.clamp(1, THREADS))
    }
}

impl Passwords {
    pub fn with_threads(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("natter-passwords-{i}"))
                .spawn(move || {
                    let mut memory: Vec<Block> = Vec::new();
                    loop {
                        // The lock is held while waiting: the next idle thread
                        // waits for the lock instead of the queue.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return, // the Passwords is gone
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        // With no thread at all, the queue's receiver is dropped here and every
        // hash fails with an error instead of waiting forever.
        Passwords { jobs }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |memory| {
                let _ = tx.send(work(memory));
            }))
            .map_err(|_| Error::internal("no password hashing thread is running"))?;
        rx.await
            .map_err(|_| Error::internal("a password hashing thread stopped"))?
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), exactly
    /// what `argon2::PasswordHasher::hash_password` makes.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            let params = Params::default();
            let mut raw = [0u8; 64];
            let salt_bytes = salt.decode_b64(&mut raw).map_err(Error::internal)?;
            let out = compute(
                memory,
                Algorithm::Argon2id,
                Version::V0x13,
                params.clone(),
                password.as_bytes(),
                salt_bytes,
                Params::DEFAULT_OUTPUT_LEN,
            )?;
            Ok(PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(Error::internal)?,
                salt: Some(salt.as_salt()),
                hash: Some(out),
            }
            .to_string())
        })
        .await
    }

    /// Whether `password` is the one `hash` (a PHC string) was made from, with
    /// the parameters written in it; compared in constant time.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool> {
        self.run(move |memory| {
            let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                return Ok(false);
            };
            let algorithm = Algorithm::try_from(parsed.algorithm).map_err(Error::internal)?;
            let version = match parsed.version {
                Some(v) => Version::try_from(v).map_err(Error::internal)?,
                None => Version::default(),
            };
            let params = Params::try_from(&parsed).map_err(Error::internal)?;
            let mut raw = [0u8; 64];
            let salt_bytes = salt.decode_b64(&mut raw).map_err(Error::internal)?;
            let out = compute(
                memory,
                algorithm,
                version,
                params,
                password.as_bytes(),
                salt_bytes,
                expected.len(),
            )?;
            // `Output`'s equality is constant-time.
            Ok(out == expected)
        })
        .await
    }
}

/// argon2 into the thread's memory, grown (once) to what `params` need.
fn compute(
    memory: &mut Vec<Block>,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> Result<Output> {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon = Argon2::new(algorithm, version, params);
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(Error::internal)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// The pool's hashes are the crate's: each side verifies the other's.
    #[tokio::test]
    async fn hashes_are_argon2s_own_both_ways() {
        let p = Passwords::with_threads(1);
        let mine = p.hash("correct horse".into()).await.unwrap();
        assert!(
            mine.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{mine}"
        );
        let parsed = PasswordHash::new(&mine).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong", &parsed)
            .is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(p
            .verify("battery staple".into(), theirs.clone())
            .await
            .unwrap());
        assert!(!p.verify("battery".into(), theirs).await.unwrap());
        // Other parameters than the defaults (a smaller block, then the thread's
        // larger one again): read from the hash.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"x", &salt)
        .unwrap()
        .to_string();
        assert!(p.verify("x".into(), small).await.unwrap());
        assert!(p.verify("correct horse".into(), mine).await.unwrap());
        assert!(p.verify("x".into(), "not a hash".into()).await.is_err());
    }

    /// Many at once all finish, on the pool's two threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_waits_its_turn() {
        let p = Arc::new(Passwords::with_threads(2));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let p = Arc::clone(&p);
            tasks.push(tokio::spawn(async move {
                let h = p.hash(format!("pw{i}")).await.unwrap();
                p.verify(format!("pw{i}"), h).await.unwrap()
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap());
        }
    }
}
