//! The server's VAPID identity (RFC 8292): one P-256 key pair, whose public
//! half browsers subscribe with, and which signs a short JWT per push
//! service origin.
//!
//! The key comes from `NATTER_VAPID_PRIVATE_KEY`, or on a single node (no
//! `REDIS_URL`) is generated once into `<data-dir>/vapid_private_key` (mode
//! 0600), like the JWT secret. A cluster needs it given: every node must sign with the same
//! key, or subscriptions made through one node would be refused for pushes
//! from another.
//!
//! The JWT is signed here with `jwt-simple` (the ES256 implementation
//! `web-push-native` itself uses) rather than through `WebPushBuilder::with_vapid`,
//! because that one sets `aud` to scheme://host and drops a non-default port,
//! while RFC 8292 §2 wants the endpoint's origin.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64ct::{Base64UrlUnpadded, Encoding};
use natter_core::{Error, Result};
use reqwest::Url;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;

use crate::config::PushArgs;

/// How long a signed JWT is valid (RFC 8292: at most 24 h).
pub const JWT_VALIDITY: Duration = Duration::from_secs(12 * 3600);
/// A cached JWT is re-signed once it is this old (well before it expires).
const JWT_REUSE: Duration = Duration::from_secs(3600);
/// `sub` when the key was generated and no subject was given.
pub const DEFAULT_SUBJECT: &str = "mailto:admin@localhost";

pub struct Vapid {
    key: ES256KeyPair,
    /// base64url of the uncompressed public point.
    public_key: String,
    subject: String,
    /// origin → (`Authorization` header value, signed at)
    signed: Mutex<HashMap<String, (String, Instant)>>,
}

impl Vapid {
    /// From the configuration, or generated into the data directory
    /// (embedded mode only; `cluster` = REDIS_URL set).
    pub fn load(args: &PushArgs, data_dir: &Path, cluster: bool) -> anyhow::Result<Vapid> {
        let given = args
            .vapid_private_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        let subject = args
            .vapid_subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = subject {
            check_subject(s)?;
        }
        let key = match given {
            Some(k) => {
                if subject.is_none() {
                    bail!(
                        "NATTER_VAPID_SUBJECT is required with NATTER_VAPID_PRIVATE_KEY: a contact \
                         for push services, mailto:you@example.com or https://your.site"
                    );
                }
                parse_key(k).context("NATTER_VAPID_PRIVATE_KEY is not a valid P-256 private key")?
            }
            None if cluster => bail!(
                "NATTER_VAPID_PRIVATE_KEY and NATTER_VAPID_SUBJECT are required in cluster mode \
                 (REDIS_URL is set): every node must sign Web Push with the same key. Generate one \
                 with `natter vapid-key` or openssl (see docs/OPERATIONS.md)"
            ),
            None => load_or_create(&data_dir.join("vapid_private_key"))?,
        };
        Ok(Vapid::new(key, subject.unwrap_or(DEFAULT_SUBJECT)))
    }

    pub fn new(key: ES256KeyPair, subject: &str) -> Vapid {
        let public_key = Base64UrlUnpadded::encode_string(
            &key.public_key().public_key().to_bytes_uncompressed(),
        );
        Vapid {
            key,
            public_key,
            subject: subject.to_owned(),
            signed: Mutex::default(),
        }
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// `vapid t=<jwt>, k=<public key>` for a push to `endpoint`: `aud` its
    /// origin, `exp` in 12 h, `sub` the contact. Cached per origin for an hour.
    pub fn authorization(&self, endpoint: &Url) -> Result<String> {
        let origin = endpoint.origin().ascii_serialization();
        {
            let cache = self.signed.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((header, at)) = cache.get(&origin) {
                if at.elapsed() < JWT_REUSE {
                    return Ok(header.clone());
                }
            }
        }
        let claims = Claims::create(JWT_VALIDITY.into())
            .with_audience(origin.clone())
            .with_subject(&self.subject);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| Error::internal(format!("VAPID signing: {e}")))?;
        let header = format!("vapid t={token}, k={}", self.public_key);
        let mut cache = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        // a handful of push services in practice; never let it grow unbounded
        if cache.len() > 1000 {
            cache.clear();
        }
        cache.insert(origin, (header.clone(), Instant::now()));
        Ok(header)
    }
}

/// A new key as base64url of the raw private scalar (for `NATTER_VAPID_PRIVATE_KEY`).
pub fn generate_key() -> String {
    Base64UrlUnpadded::encode_string(&ES256KeyPair::generate().to_bytes())
}

fn check_subject(s: &str) -> anyhow::Result<()> {
    if s.starts_with("mailto:") || s.starts_with("https:") {
        Ok(())
    } else {
        bail!("NATTER_VAPID_SUBJECT must start with mailto: or https: (got {s:?})")
    }
}

/// base64url of the 32-byte scalar (what `web-push` tools print), or a PEM key.
fn parse_key(k: &str) -> anyhow::Result<ES256KeyPair> {
    if k.starts_with("-----BEGIN") {
        return ES256KeyPair::from_pem(k).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let raw = Base64UrlUnpadded::decode_vec(k.trim_end_matches('='))
        .map_err(|_| anyhow::anyhow!("not base64url"))?;
    if raw.len() != 32 {
        bail!("expected 32 bytes, got {}", raw.len());
    }
    ES256KeyPair::from_bytes(&raw).map_err(|e| anyhow::anyhow!("{e}"))
}

fn load_or_create(path: &Path) -> anyhow::Result<ES256KeyPair> {
    if let Ok(s) = std::fs::read_to_string(path) {
        return parse_key(s.trim())
            .with_context(|| format!("{} does not hold a valid VAPID key", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let key = generate_key();
    crate::setup::write_private(path, &key)
        .with_context(|| format!("could not write {}", path.display()))?;
    tracing::info!("generated a VAPID key pair in {}", path.display());
    parse_key(&key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_persist_and_sign_per_origin() {
        let dir = tempfile::tempdir().unwrap();
        let args = PushArgs::default();
        let a = Vapid::load(&args, dir.path(), false).unwrap();
        let b = Vapid::load(&args, dir.path(), false).unwrap();
        assert_eq!(
            a.public_key(),
            b.public_key(),
            "the key is kept in the data dir"
        );
        assert_eq!(
            Base64UrlUnpadded::decode_vec(a.public_key()).unwrap().len(),
            65
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("vapid_private_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let url = Url::parse("http://127.0.0.1:8123/push/abc").unwrap();
        let h = a.authorization(&url).unwrap();
        assert!(h.starts_with("vapid t="), "{h}");
        assert!(h.ends_with(&format!(", k={}", a.public_key())));
        let token = h.trim_start_matches("vapid t=").split(',').next().unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &Base64UrlUnpadded::decode_vec(token.split('.').nth(1).unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["aud"], "http://127.0.0.1:8123",
            "the origin, port kept"
        );
        assert_eq!(claims["sub"], DEFAULT_SUBJECT);
    }

    #[test]
    fn cluster_mode_needs_a_key_and_keys_need_a_subject() {
        let dir = tempfile::tempdir().unwrap();
        let err = Vapid::load(&PushArgs::default(), dir.path(), true)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("required in cluster mode"), "{err}");
        let mut args = PushArgs {
            vapid_private_key: Some(generate_key()),
            ..PushArgs::default()
        };
        assert!(Vapid::load(&args, dir.path(), true).is_err(), "no subject");
        args.vapid_subject = Some("admin@example.com".into());
        assert!(
            Vapid::load(&args, dir.path(), true).is_err(),
            "not mailto:/https:"
        );
        args.vapid_subject = Some("mailto:admin@example.com".into());
        assert!(Vapid::load(&args, dir.path(), true).is_ok());
        args.vapid_private_key = Some("bm90IGEga2V5".into());
        assert!(Vapid::load(&args, dir.path(), true).is_err(), "bad key");
    }
}
