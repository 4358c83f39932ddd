//! Uploading files into rooms and fetching them (members only).

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_core::{Error, Id};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Json, Path};
use crate::services::files::{file_url, thumbnail_url, MAX_UPLOAD_BYTES};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024))
        .routes(routes!(get_file))
        .routes(routes!(get_thumbnail))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    id: Id,
    url: String,
    thumbnail_url: Option<String>,
    content_type: String,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileBody {
    file: FileInfo,
}

#[allow(dead_code)]
#[derive(ToSchema)]
struct UploadForm {
    /// The file (at most 10 MB).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    #[schema(value_type = String)]
    room_id: String,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge(format!(
            "file: at most {} MB",
            MAX_UPLOAD_BYTES / 1024 / 1024
        ))
    } else {
        Error::invalid(format!("multipart: {}", e.body_text()))
    }
}

/// POST /api/upload — multipart with fields `file` and `roomId`; then send it
/// with `message:send {type: "image"|"file", fileUrl: file.url}`.
#[utoipa::path(post, path = "/api/upload", tag = "files", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileBody), (status = 413, body = crate::error::ErrorEnvelope)))]
async fn upload(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<FileBody>)> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut room: Option<Id> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("file").to_owned();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, bytes.to_vec()));
            }
            Some("roomId") => {
                let text = field.text().await.map_err(multipart_error)?;
                room = Some(text.trim().parse()?);
            }
            _ => {}
        }
    }
    let room = room.ok_or_else(|| Error::invalid("roomId: missing"))?;
    let (name, bytes) = file.ok_or_else(|| Error::invalid("file: missing"))?;
    let up = s.upload(&who, room, &name, bytes).await?;
    let info = FileInfo {
        id: up.id,
        url: file_url(up.id),
        thumbnail_url: up.has_thumbnail.then(|| thumbnail_url(up.id)),
        content_type: up.content_type,
        size: up.size,
        width: up.width,
        height: up.height,
    };
    Ok((StatusCode::CREATED, Json(FileBody { file: info })))
}

/// GET /api/files/{id} — the file, to members of its room.
#[utoipa::path(get, path = "/api/files/{id}", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the file's bytes"), (status = 403, body = crate::error::ErrorEnvelope)))]
async fn get_file(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Response> {
    let (up, bytes) = s.download(&who, id, false).await?;
    Ok(serve(&up.content_type, &up.name, bytes))
}

/// GET /api/files/{id}/thumb — an image's thumbnail (PNG).
#[utoipa::path(get, path = "/api/files/{id}/thumb", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "PNG thumbnail")))]
async fn get_thumbnail(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Response> {
    let (up, bytes) = s.download(&who, id, true).await?;
    Ok(serve("image/png", &format!("thumb-{}.png", up.id), bytes))
}

/// Raster images inline; everything else as a download, and only types from a
/// short safe list keep their type (HTML, SVG and the rest are octet-stream).
fn serve(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let inline = matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    );
    let shown_type = match content_type {
        t if inline => t,
        "text/plain" => "text/plain; charset=utf-8",
        t @ ("application/pdf" | "application/zip" | "audio/mpeg" | "audio/ogg" | "video/mp4"
        | "video/webm") => t,
        _ => "application/octet-stream",
    };
    let disposition = format!(
        "{}; filename=\"{name}\"",
        if inline { "inline" } else { "attachment" }
    );
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(shown_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    res
}
