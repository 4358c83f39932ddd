//! Uploading files into rooms and fetching them: streamed from the file
//! store, with `Range` (206, 416) and `If-None-Match` (304), access checked
//! on every request.

use std::ops::Range;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_core::{Error, Id};
use natter_store::Upload;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Path};
use crate::files::service::{file_url, thumbnail_url};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The size limit (NATTER_MAX_UPLOAD_MB) is enforced while reading.
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(get_file))
        .routes(routes!(get_thumbnail))
        .routes(routes!(get_file_info))
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    id: Id,
    url: String,
    /// The uploader's file name (made safe).
    name: String,
    thumbnail_url: Option<String>,
    content_type: String,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    height: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct FileBody {
    file: FileInfo,
}

#[allow(dead_code)]
#[derive(ToSchema)]
struct UploadForm {
    /// The file (at most `NATTER_MAX_UPLOAD_MB`, default 10 MB).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    #[schema(value_type = String)]
    room_id: String,
}

/// Room ids are short; anything longer in `roomId` is refused while read.
const MAX_ROOM_ID_BYTES: usize = 64;

fn multipart_error(e: &MultipartError) -> Error {
    Error::invalid(format!("multipart: {}", e.body_text()))
}

/// Reads a field chunk by chunk, refusing it once it passes `max` bytes
/// (so a huge body is never held whole). What follows a refusal is read and
/// dropped, up to as much again, so the client (a browser too) gets the
/// answer instead of a reset connection.
async fn read_field(field: &mut Field<'_>, max: usize, too_large: Error) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if out.len() + chunk.len() > max {
            let mut dropped = out.len() + chunk.len();
            drop(out);
            while let Ok(Some(chunk)) = field.chunk().await {
                dropped += chunk.len();
                if dropped > 2 * max {
                    break;
                }
            }
            return Err(too_large);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// POST /api/upload — multipart with fields `file` and `roomId`; then send it
/// with `message:send {type: "image"|"file", fileUrl: file.url}`. Until sent,
/// only the uploader can fetch it; unsent files are removed after 24 h.
#[utoipa::path(post, path = "/api/upload", tag = "files", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileBody), (status = 400, body = crate::error::ErrorEnvelope),
        (status = 413, body = crate::error::ErrorEnvelope), (status = 429, body = crate::error::ErrorEnvelope), (status = 404)))]
async fn upload(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<FileBody>)> {
    let mut form = form.map_err(|_| {
        Error::invalid("expected a multipart/form-data body with the fields file and roomId")
    })?;
    let max = s.uploads.max_bytes;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut room: Option<Id> = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(&e))? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("file").to_owned();
                let bytes = read_field(&mut field, max, s.uploads.too_large()).await?;
                file = Some((name, bytes));
            }
            Some("roomId") => {
                let bytes = read_field(
                    &mut field,
                    MAX_ROOM_ID_BYTES,
                    Error::invalid("roomId: not an id"),
                )
                .await?;
                let text =
                    String::from_utf8(bytes).map_err(|_| Error::invalid("roomId: not an id"))?;
                room = Some(text.trim().parse()?);
            }
            // Other fields are read (and limited) but ignored.
            _ => {
                read_field(&mut field, max, s.uploads.too_large()).await?;
            }
        }
    }
    let room = room.ok_or_else(|| Error::invalid("roomId: missing"))?;
    let (name, bytes) = file.ok_or_else(|| Error::invalid("file: missing"))?;
    let up = s.upload(&who, room, &name, bytes.into()).await?;
    Ok((StatusCode::CREATED, Json(FileBody { file: info(up) })))
}

fn info(up: Upload) -> FileInfo {
    FileInfo {
        id: up.id,
        url: file_url(up.id),
        name: up.name,
        thumbnail_url: up.has_thumbnail.then(|| thumbnail_url(up.id)),
        content_type: up.content_type,
        size: up.size,
        width: up.width,
        height: up.height,
    }
}

/// GET /api/files/{id}/info — what a file is (name, type, size,
/// dimensions), same access as the file itself; for file chips and previews.
#[utoipa::path(get, path = "/api/files/{id}/info", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = FileBody), (status = 404, body = crate::error::ErrorEnvelope), (status = 403)))]
async fn get_file_info(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<FileBody>> {
    let up = s.visible_file(&who, id).await?;
    Ok(Json(FileBody { file: info(up) }))
}

/// GET /api/files/{id} — the file: to its uploader until it is sent, then
/// to the members of its room; 404 once its message is deleted. Supports
/// `Range: bytes=…` (one range; 206 or 416) and `If-None-Match` (304).
#[utoipa::path(get, path = "/api/files/{id}", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the file's bytes"), (status = 206, description = "the requested range"),
        (status = 304, description = "not modified (ETag)"), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 416, description = "range not satisfiable")))]
async fn get_file(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let up = s.visible_file(&who, id).await?;
    let size = u64::try_from(up.size).unwrap_or(0);
    let etag = format!("\"{}\"", up.etag);
    let shown = Shown::of(&up);
    if not_modified(&headers, &etag) {
        return Ok(shown.not_modified(&etag));
    }
    let range = match requested_range(&headers, &etag, size) {
        Ok(r) => r,
        Err(()) => return Ok(unsatisfiable(size)),
    };
    let obj = s
        .files
        .get(&up.storage_key, range.clone())
        .await?
        .ok_or_else(|| missing_bytes(&up))?;
    let mut res = shown.response(Body::from_stream(obj.body), &etag);
    let h = res.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    match range {
        Some(r) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = res.headers_mut();
            insert(h, header::CONTENT_LENGTH, &(r.end - r.start).to_string());
            let last = r.end.saturating_sub(1);
            insert(
                h,
                header::CONTENT_RANGE,
                &format!("bytes {}-{last}/{}", r.start, obj.size),
            );
        }
        None => insert(h, header::CONTENT_LENGTH, &obj.size.to_string()),
    }
    Ok(res)
}

/// GET /api/files/{id}/thumb — an image's thumbnail (PNG), same access.
#[utoipa::path(get, path = "/api/files/{id}/thumb", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "PNG thumbnail"), (status = 304, description = "not modified (ETag)"),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 403)))]
async fn get_thumbnail(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let up = s.visible_file(&who, id).await?;
    if !up.has_thumbnail {
        return Err(Error::not_found("this file has no thumbnail").into());
    }
    let etag = format!("\"{}-thumb\"", up.etag);
    let shown = Shown {
        content_type: "image/png",
        inline: true,
        name: format!("thumb-{}.png", up.id),
    };
    if not_modified(&headers, &etag) {
        return Ok(shown.not_modified(&etag));
    }
    let obj = s
        .files
        .get(&format!("{}.thumb", up.storage_key), None)
        .await?
        .ok_or_else(|| missing_bytes(&up))?;
    let mut res = shown.response(Body::from_stream(obj.body), &etag);
    insert(
        res.headers_mut(),
        header::CONTENT_LENGTH,
        &obj.size.to_string(),
    );
    Ok(res)
}

fn missing_bytes(up: &Upload) -> Error {
    tracing::error!(upload = %up.id, key = %up.storage_key, "an upload's bytes are missing from the file store");
    Error::not_found("file not found")
}

/// How a file is shown: raster images inline; everything else as a
/// download, and only types from a short safe list keep their type (HTML,
/// SVG and the rest are octet-stream).
struct Shown {
    content_type: &'static str,
    inline: bool,
    name: String,
}

impl Shown {
    fn of(up: &Upload) -> Shown {
        let (content_type, inline) = match up.content_type.as_str() {
            "image/png" => ("image/png", true),
            "image/jpeg" => ("image/jpeg", true),
            "image/gif" => ("image/gif", true),
            "image/webp" => ("image/webp", true),
            "text/plain" => ("text/plain; charset=utf-8", false),
            "application/pdf" => ("application/pdf", false),
            "application/zip" => ("application/zip", false),
            "audio/mpeg" => ("audio/mpeg", false),
            "audio/ogg" => ("audio/ogg", false),
            "video/mp4" => ("video/mp4", false),
            "video/webm" => ("video/webm", false),
            _ => ("application/octet-stream", false),
        };
        Shown {
            content_type,
            inline,
            name: up.name.clone(),
        }
    }

    fn headers(&self, h: &mut HeaderMap, etag: &str) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let disposition = format!(
            "{}; filename=\"{}\"",
            if self.inline { "inline" } else { "attachment" },
            self.name
        );
        insert(h, header::CONTENT_DISPOSITION, &disposition);
        insert(h, header::ETAG, etag);
        // Private: access is checked per request, so no shared cache keeps it.
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }

    fn response(&self, body: Body, etag: &str) -> Response {
        let mut res = body.into_response();
        self.headers(res.headers_mut(), etag);
        res
    }

    fn not_modified(&self, etag: &str) -> Response {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        self.headers(res.headers_mut(), etag);
        res.headers_mut().remove(header::CONTENT_TYPE);
        res
    }
}

fn insert(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// `If-None-Match` lists this ETag (weakly compared) or is `*`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn unsatisfiable(size: u64) -> Response {
    let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
    insert(
        res.headers_mut(),
        header::CONTENT_RANGE,
        &format!("bytes */{size}"),
    );
    res
}

/// The one range asked for, if any and if `If-Range` (when sent) still
/// matches; `Err` when it cannot be satisfied (416). Several ranges, or a
/// header that does not parse, are ignored (the whole file, 200), as
/// RFC 9110 allows.
fn requested_range(headers: &HeaderMap, etag: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        if if_range.trim() != etag {
            return Ok(None);
        }
    }
    parse_range(spec, size)
}

fn parse_range(spec: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if set.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = set.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // The last `b` bytes.
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return Ok(None);
        };
        let end = if b.is_empty() {
            size
        } else {
            match b.parse::<u64>() {
                Ok(last) if last >= start => last.saturating_add(1).min(size),
                _ => return Ok(None),
            }
        };
        if start >= size {
            return Err(());
        }
        start..end
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-1000", 100), Ok(Some(0..100)));
        assert_eq!(parse_range("bytes=50-1000", 100), Ok(Some(50..100)));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=-0", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=5-2", 100), Ok(None));
        assert_eq!(parse_range("bytes=x-", 100), Ok(None));
    }
}
