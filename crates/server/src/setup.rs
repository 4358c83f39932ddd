//! What a node needs before it starts: its JWT secret (given, or made once
//! and kept in the data folder), its data folder and SQLite file kept
//! private, and the frontend origin it trusts.

use std::path::Path;

use anyhow::{bail, Context};
use axum::http::HeaderValue;

use crate::config::ServeArgs;

/// `JWT_SECRET`, or in embedded (SQLite) mode one generated once and kept in
/// `<data-dir>/jwt_secret`. Other modes refuse to start without it: every node
/// of a cluster must share it.
pub(crate) fn jwt_secret(config: &ServeArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = config.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        if s.len() < 16 {
            bail!("JWT_SECRET must be at least 16 characters");
        }
        return Ok(s.as_bytes().to_vec());
    }
    if config
        .redis_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty())
    {
        bail!(
            "JWT_SECRET is required in cluster mode (REDIS_URL is set): every node must share it; \
             set JWT_SECRET to a long random string"
        );
    }
    if !config.store.is_embedded() {
        bail!(
            "JWT_SECRET is required when DATABASE_URL is not SQLite (every node must share it); \
             set JWT_SECRET to a long random string"
        );
    }
    let path = config.store.data_dir.join("jwt_secret");
    load_or_create_secret(&path)
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    restrict(path, 0o600);
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim();
        if s.len() >= 32 {
            return Ok(s.as_bytes().to_vec());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret).with_context(|| format!("could not write {}", path.display()))?;
    tracing::info!("generated a JWT secret in {}", path.display());
    Ok(secret.into_bytes())
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// `FRONTEND_URL` as an origin (`scheme://host[:port]`, no path): `*` and
/// anything that is not one origin are refused with a message (a wildcard
/// cannot be combined with the session cookie).
pub(crate) fn frontend_origin(url: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let url = url.trim_end_matches('/');
    let valid = url.split_once("://").is_some_and(|(scheme, host)| {
        matches!(scheme, "http" | "https")
            && !host.is_empty()
            && !host.contains(['/', '*', ' ', ',', '?', '#'])
    }) && HeaderValue::from_str(url).is_ok();
    if !valid {
        bail!(
            "FRONTEND_URL must be one origin such as https://chat.example.com (scheme, host, \
             optional port; no path, no '*' and no list), got '{url}'"
        );
    }
    Ok(Some(url.to_owned()))
}

/// The data directory (0700) and, in embedded mode, the SQLite file (0600),
/// made private before the store opens them (SQLite gives its -wal and -shm
/// files the database file's permissions).
pub(crate) fn prepare_data_dir(config: &ServeArgs) -> anyhow::Result<()> {
    let dir = &config.store.data_dir;
    let embedded_default = config
        .store
        .database_url
        .as_deref()
        .is_none_or(|u| u.trim().is_empty());
    if !embedded_default && !config.store.is_embedded() && !dir.exists() {
        // PostgreSQL and nothing kept in the data directory yet
        return Ok(());
    }
    create_private_dir(dir).with_context(|| format!("could not create {}", dir.display()))?;
    if let Some(db) = sqlite_path(&config.store.database_url()) {
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        create_private_file(&db).with_context(|| format!("could not create {}", db.display()))?;
    }
    Ok(())
}

/// The file of a `sqlite:` URL (None for in-memory databases).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_file(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Takes group and other permissions away from an existing file (a secret
/// written by hand or by an older version with the umask's permissions).
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
                Ok(()) => tracing::warn!(
                    "{} was readable by others; its permissions are now {mode:o}",
                    path.display()
                ),
                Err(e) => tracing::warn!(error = %e, "could not restrict {}", path.display()),
            }
        }
    }
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) {}

/// A database or Redis URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
