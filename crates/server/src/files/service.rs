//! Uploads: limits (size, per-user rate and quota), images made safe
//! (`images`), bytes in the file store before the row in the
//! database, who may fetch a file, and removing the bytes of files nobody
//! may see any more (a deleted message's, or unsent for 24 h).
//!
//! Who sees a file: unsent → only its uploader (to preview it); sent →
//! the members of its room; its message deleted → nobody (404), and its
//! bytes are removed.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use natter_core::{Error, Id, MessageType, Result};
use natter_store::{NewUpload, Upload};
use sha2::{Digest, Sha256};

use crate::app::{App, AppState};
use crate::auth::tokens::Session;
use crate::files::images::{self};

pub use natter_core::files::{file_url, thumbnail_url};

/// An upload not sent in a message within this long is removed.
pub const UNSENT_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often each node sweeps (several nodes sweeping at once is safe).
pub const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

use super::uploads::*;

impl App {
    /// Stores a file a member uploads into a room: limits, inspection, the
    /// bytes (and thumbnail) in the file store, then the row. A failure at
    /// any step leaves nothing visible.
    pub async fn upload(
        &self,
        who: &Session,
        room: Id,
        name: &str,
        bytes: Bytes,
    ) -> Result<Upload> {
        self.uploads.check_rate(who.user_id)?;
        self.require_member(room, who.user_id).await?;
        if bytes.is_empty() {
            return Err(Error::invalid("file: empty"));
        }
        if bytes.len() > self.uploads.max_bytes {
            return Err(self.uploads.too_large());
        }
        let day_ago = self.clock.now() - UNSENT_TTL;
        let used = self
            .store
            .uploaded_bytes_since(who.user_id, day_ago)
            .await?;
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        if used.saturating_add(size) > self.uploads.quota_bytes {
            return Err(Error::TooLarge(format!(
                "upload quota: at most {} MB per 24 hours",
                self.uploads.quota_bytes / 1024 / 1024
            )));
        }
        // Images: refused from their header (cheap) before queueing to decode.
        let cost_mb = match images::image_kind(&bytes) {
            Some((_, format)) => {
                let (w, h) = images::check_header(&bytes, format)?;
                images::decode_cost_mb(w, h)
            }
            None => 1,
        };
        let inspected = self
            .uploads
            .gate
            .run(cost_mb, move || images::inspect(bytes))
            .await?;
        let etag = hex(&Sha256::digest(&inspected.bytes));
        let key = new_key();
        let size = i64::try_from(inspected.bytes.len()).unwrap_or(i64::MAX);
        self.files.put(&key, inspected.bytes).await?;
        let has_thumbnail = inspected.thumbnail.is_some();
        if let Some(thumb) = inspected.thumbnail {
            if let Err(e) = self.files.put(&thumb_key(&key), Bytes::from(thumb)).await {
                self.remove_bytes(&key).await;
                return Err(e);
            }
        }
        let created = self
            .store
            .create_upload(NewUpload {
                room_id: room,
                user_id: who.user_id,
                name: safe_name(name),
                content_type: inspected.content_type,
                size,
                width: inspected.width,
                height: inspected.height,
                has_thumbnail,
                storage_key: key.clone(),
                etag,
            })
            .await;
        if created.is_err() {
            self.remove_bytes(&key).await;
        }
        created
    }

    /// A file's record if `who` may see it now: its uploader before it is
    /// sent, the room's members after, nobody once its message is deleted.
    pub async fn visible_file(&self, who: &Session, id: Id) -> Result<Upload> {
        let missing = || Error::not_found("file not found");
        let upload = self.store.upload(id).await?.ok_or_else(missing)?;
        if upload.gone {
            return Err(missing());
        }
        self.require_member(upload.room_id, who.user_id).await?;
        if upload.message_id.is_none() && upload.user_id != who.user_id {
            return Err(missing());
        }
        Ok(upload)
    }

    /// Checks a message's `fileUrl`: an unsent file the sender uploaded to
    /// this room, of the kind the message says. Returns the url to store.
    /// (The store links it to the message in the same transaction, which is
    /// what makes a file go with exactly one message.)
    pub async fn check_attachment(
        &self,
        who: &Session,
        room: Id,
        kind: MessageType,
        url: &str,
    ) -> Result<String> {
        let bad = || Error::invalid("fileUrl: must be a file you uploaded to this room");
        let id: Id = natter_core::files::file_id(url).ok_or_else(bad)?;
        let upload = self.store.upload(id).await?.ok_or_else(bad)?;
        if upload.user_id != who.user_id || upload.room_id != room {
            return Err(bad());
        }
        if upload.gone || upload.message_id.is_some() {
            return Err(Error::invalid(
                "fileUrl: this file was already sent or has expired; upload it again",
            ));
        }
        let is_image = upload.width.is_some();
        match kind {
            MessageType::Image if !is_image => {
                Err(Error::invalid("type: this file is not an image"))
            }
            MessageType::Text => Err(Error::invalid(
                "type: must be \"image\" or \"file\" with a fileUrl",
            )),
            _ => Ok(file_url(id)),
        }
    }

    /// After a message is deleted: its file is gone for everyone at once
    /// (the delete made it so); this removes the bytes. Failures are logged
    /// and left to the sweeper.
    pub async fn remove_attachments(&self, message: Id) {
        match self.store.remove_uploads_of_message(message).await {
            Ok(uploads) => {
                for u in uploads {
                    self.remove_upload(&u).await;
                }
            }
            Err(e) => {
                tracing::warn!(%message, error = %e, "could not remove a deleted message's files")
            }
        }
    }

    /// One sweep: removes uploads unsent for longer than `unsent_ttl`, those
    /// of deleted messages, and any removal left unfinished. Returns how
    /// many were removed.
    pub async fn sweep_uploads(&self, unsent_ttl: Duration) -> Result<usize> {
        const BATCH: u32 = 100;
        let mut removed = 0;
        loop {
            let before = self.clock.now() - unsent_ttl;
            let claimed = self.store.claim_expired_uploads(before, BATCH).await?;
            let mut done = 0;
            for u in &claimed {
                if self.remove_upload(u).await {
                    done += 1;
                }
            }
            removed += done;
            // A short batch is the last; a batch with failures waits for the next sweep.
            if claimed.len() < BATCH as usize || done < claimed.len() {
                return Ok(removed);
            }
        }
    }

    /// Bytes first, then the row; false (and the row kept, marked removed)
    /// when the store failed.
    async fn remove_upload(&self, u: &Upload) -> bool {
        let bytes = self.files.delete(&u.storage_key).await;
        let thumb = self.files.delete(&thumb_key(&u.storage_key)).await;
        if bytes.is_err() || thumb.is_err() {
            return false;
        }
        match self.store.forget_upload(u.id).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(upload = %u.id, error = %e, "could not forget a removed upload");
                false
            }
        }
    }

    async fn remove_bytes(&self, key: &str) {
        let _ = self.files.delete(key).await;
        let _ = self.files.delete(&thumb_key(key)).await;
    }
}

/// Sweeps this node's share every [`SWEEP_EVERY`] (the first a minute
/// after start). Every node runs it; claims make that safe.
pub fn start_sweeper(app: &AppState) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            let Some(app) = weak.upgrade() else { break };
            match app.sweep_uploads(UNSENT_TTL).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "upload sweep"),
                Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
            }
        }
    });
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name safe in a header: ASCII letters, digits, `.`, `-`, `_`, space.
pub fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FilesArgs;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("a\"b;c\r\n.txt"), "a_b_c__.txt");
        assert_eq!(safe_name(".."), "file");
    }

    #[test]
    fn uploads_are_rate_limited_per_user_unless_off() {
        let on = Uploads::new(&FilesArgs::default(), true);
        let (ana, bob) = (Id(1), Id(2));
        let ok = (0..UPLOAD_BURST)
            .filter(|_| on.check_rate(ana).is_ok())
            .count();
        assert_eq!(ok, UPLOAD_BURST as usize);
        assert!(matches!(on.check_rate(ana), Err(Error::RateLimited { .. })));
        assert!(on.check_rate(bob).is_ok(), "per user");
        let off = Uploads::new(&FilesArgs::default(), false);
        assert!((0..100).all(|_| off.check_rate(ana).is_ok()));
        assert_eq!(on.max_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn keys_are_fresh_and_valid() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert!(crate::files::check_key(&a).is_ok());
        assert!(crate::files::check_key(&thumb_key(&a)).is_ok());
        assert!(crate::files::check_key("../x").is_err());
    }
}
