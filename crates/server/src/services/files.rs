//! Uploads: what a file is (decided from its bytes), images validated by
//! decoding and given a thumbnail, bytes kept in a folder under the data dir,
//! and who may fetch them (members of the room only).

use std::io::Cursor;
use std::path::PathBuf;

use natter_core::{Error, Id, MessageType, Result};
use natter_store::{NewUpload, Upload};

use crate::app::App;
use crate::auth::Session;

/// Largest upload, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Images larger than this on a side are refused (decoding cost).
const MAX_IMAGE_SIDE: u32 = 8_192;
/// Longest side of a thumbnail.
const THUMB_SIDE: u32 = 360;

/// What the server decided a file is.
struct Inspected {
    content_type: String,
    width: Option<i32>,
    height: Option<i32>,
    thumbnail: Option<Vec<u8>>,
}

impl App {
    fn uploads_dir(&self) -> PathBuf {
        self.config.store.data_dir.join("uploads")
    }

    /// Stores a file a member uploads into a room.
    pub async fn upload(
        &self,
        who: &Session,
        room: Id,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Upload> {
        self.limits
            .user(crate::limits::Action::Upload, who.user_id)?;
        self.require_member(room, who.user_id).await?;
        if bytes.is_empty() {
            return Err(Error::invalid("file: empty"));
        }
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(Error::TooLarge(format!(
                "file: at most {} MB",
                MAX_UPLOAD_BYTES / 1024 / 1024
            )));
        }
        let (bytes, inspected) =
            tokio::task::spawn_blocking(move || inspect(&bytes).map(|i| (bytes, i)))
                .await
                .map_err(Error::internal)??;
        let upload = self
            .store
            .create_upload(NewUpload {
                room_id: room,
                user_id: who.user_id,
                name: safe_name(name),
                content_type: inspected.content_type,
                size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                width: inspected.width,
                height: inspected.height,
                has_thumbnail: inspected.thumbnail.is_some(),
            })
            .await?;
        let dir = self.uploads_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(Error::internal)?;
        tokio::fs::write(dir.join(upload.id.to_string()), &bytes)
            .await
            .map_err(Error::internal)?;
        if let Some(thumb) = inspected.thumbnail {
            tokio::fs::write(dir.join(format!("{}.thumb", upload.id)), thumb)
                .await
                .map_err(Error::internal)?;
        }
        Ok(upload)
    }

    /// A file's record and bytes, for a member of its room.
    pub async fn download(&self, who: &Session, id: Id, thumb: bool) -> Result<(Upload, Vec<u8>)> {
        let upload = self
            .store
            .upload(id)
            .await?
            .ok_or_else(|| Error::not_found("file not found"))?;
        self.require_member(upload.room_id, who.user_id).await?;
        if thumb && !upload.has_thumbnail {
            return Err(Error::not_found("this file has no thumbnail"));
        }
        let file = if thumb {
            format!("{id}.thumb")
        } else {
            id.to_string()
        };
        let bytes = tokio::fs::read(self.uploads_dir().join(file))
            .await
            .map_err(|e| Error::internal(format!("upload {id}: {e}")))?;
        Ok((upload, bytes))
    }

    /// Checks a message's `fileUrl`: a file the sender uploaded to this room,
    /// of the kind the message says. Returns the url to store.
    pub async fn check_attachment(
        &self,
        who: &Session,
        room: Id,
        kind: MessageType,
        url: &str,
    ) -> Result<String> {
        let bad = || Error::invalid("fileUrl: must be a file you uploaded to this room");
        let id: Id = file_id(url).ok_or_else(bad)?;
        let upload = self.store.upload(id).await?.ok_or_else(bad)?;
        if upload.user_id != who.user_id || upload.room_id != room {
            return Err(bad());
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
}

pub fn file_url(id: Id) -> String {
    format!("/api/files/{id}")
}

pub fn thumbnail_url(id: Id) -> String {
    format!("/api/files/{id}/thumb")
}

fn file_id(url: &str) -> Option<Id> {
    url.strip_prefix("/api/files/")?.parse().ok()
}

/// Inline-safe raster images are validated by decoding them; anything else is
/// a plain download. Never trusts the name or the request's content type.
fn inspect(bytes: &[u8]) -> Result<Inspected> {
    let sniffed = infer::get(bytes).map(|t| t.mime_type());
    if let Some(mime @ ("image/png" | "image/jpeg" | "image/gif" | "image/webp")) = sniffed {
        let mut reader = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| Error::invalid("file: not a readable image"))?;
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_IMAGE_SIDE);
        limits.max_image_height = Some(MAX_IMAGE_SIDE);
        reader.limits(limits);
        let img = reader
            .decode()
            .map_err(|_| Error::invalid("file: a broken or oversized image"))?;
        let mut thumb = Vec::new();
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
            .write_to(&mut Cursor::new(&mut thumb), image::ImageFormat::Png)
            .map_err(Error::internal)?;
        return Ok(Inspected {
            content_type: mime.to_owned(),
            width: i32::try_from(img.width()).ok(),
            height: i32::try_from(img.height()).ok(),
            thumbnail: Some(thumb),
        });
    }
    let content_type = match sniffed {
        Some(m) => m.to_owned(),
        None if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) => {
            "text/plain".to_owned()
        }
        None => "application/octet-stream".to_owned(),
    };
    Ok(Inspected {
        content_type,
        width: None,
        height: None,
        thumbnail: None,
    })
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

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("a\"b;c\r\n.txt"), "a_b_c__.txt");
        assert_eq!(safe_name(".."), "file");
    }

    #[test]
    fn html_and_svg_are_never_images() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let i = inspect(svg).ok();
        assert!(i.is_some_and(|i| i.width.is_none() && !i.content_type.starts_with("image/")));
        let html = b"<html><script>alert(1)</script></html>";
        let i = inspect(html).ok();
        assert!(i.is_some_and(|i| i.thumbnail.is_none() && !i.content_type.starts_with("image/")));
    }

    #[test]
    fn fake_image_is_refused() {
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"not really a png");
        assert!(inspect(&fake).is_err());
    }
}
