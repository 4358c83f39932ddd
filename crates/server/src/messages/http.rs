//! History and message changes over REST (the same services as the socket).

use axum::extract::State;
use axum::http::StatusCode;
use natter_core::{Error, Id, Message, MessageType};
use natter_store::PageAt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Path, Query};
use crate::messages::service::SendMessage;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(history, post_message))
        .routes(routes!(edit_message, delete_message))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    room_id: Id,
    /// Messages with seq below this (exclusive).
    before: Option<i64>,
    /// Messages with seq above this (exclusive).
    after: Option<i64>,
    /// The page centred on this seq (the message itself included), with
    /// `hasMoreBefore` / `hasMoreAfter`; not with before/after.
    around: Option<i64>,
    /// 1–100, default 50.
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessagesBody {
    messages: Vec<Message>,
    has_more: bool,
    /// With `around` only: older / newer messages exist beyond this page
    /// (`hasMore` is then `hasMoreBefore`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    has_more_before: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    has_more_after: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MessageBody {
    message: Message,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct PostMessage {
    room_id: Id,
    content: String,
    reply_to_id: Option<Id>,
    client_id: Option<String>,
    /// "text" (default), "image" or "file"; the last two need `fileUrl`.
    #[serde(rename = "type")]
    kind: Option<MessageType>,
    /// The `url` of a file the sender uploaded to this room (`POST /api/upload`).
    file_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct EditBody {
    content: String,
}

/// GET /api/messages — a keyset page of a room's history, oldest first.
#[utoipa::path(get, path = "/api/messages", tag = "messages", params(HistoryQuery), security(("bearer" = [])), responses((status = 200, body = MessagesBody), (status = 403), (status = 404)))]
async fn history(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<MessagesBody>> {
    if let Some(seq) = q.around {
        return around(&s, &who, &q, seq).await;
    }
    let at = match (q.before, q.after) {
        (Some(_), Some(_)) => return Err(Error::invalid("give before or after, not both").into()),
        (Some(b), None) if b >= 1 => PageAt::Before(b),
        (None, Some(a)) if a >= 0 => PageAt::After(a),
        (None, None) => PageAt::Newest,
        _ => return Err(Error::invalid("before must be ≥ 1 and after ≥ 0").into()),
    };
    let limit = page_limit(q.limit)?;
    s.require_member(q.room_id, who.user_id).await?;
    let page = s.store.history(q.room_id, at, limit).await?;
    Ok(Json(MessagesBody {
        messages: page.messages,
        has_more: page.has_more,
        has_more_before: None,
        has_more_after: None,
    }))
}

fn page_limit(limit: Option<u32>) -> Result<u32, Error> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) if l > MAX_PAGE => Ok(MAX_PAGE),
        Some(_) => Err(Error::invalid("limit must be 1–100")),
    }
}

/// `around=<seq>`: a search result in its context (issue 10).
async fn around(
    s: &AppState,
    who: &crate::auth::tokens::Session,
    q: &HistoryQuery,
    seq: i64,
) -> ApiResult<Json<MessagesBody>> {
    if q.before.is_some() || q.after.is_some() {
        return Err(Error::invalid("give around alone, without before or after").into());
    }
    if seq < 1 {
        return Err(Error::invalid("around must be a seq ≥ 1").into());
    }
    let limit = page_limit(q.limit)?;
    s.require_member(q.room_id, who.user_id).await?;
    let page = s.store.history_around(q.room_id, seq, limit).await?;
    Ok(Json(MessagesBody {
        messages: page.messages,
        has_more: page.has_more_before,
        has_more_before: Some(page.has_more_before),
        has_more_after: Some(page.has_more_after),
    }))
}

/// POST /api/messages — send; 201 when stored, 200 for a `clientId` replay.
#[utoipa::path(post, path = "/api/messages", tag = "messages", request_body = PostMessage, security(("bearer" = [])), responses((status = 201, body = MessageBody), (status = 200, body = MessageBody), (status = 404)))]
async fn post_message(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Json(b): Json<PostMessage>,
) -> ApiResult<(StatusCode, Json<MessageBody>)> {
    let posted = s
        .send_message(
            &who,
            SendMessage {
                room_id: b.room_id,
                content: b.content,
                reply_to_id: b.reply_to_id,
                kind: b.kind,
                file_url: b.file_url,
                client_id: b.client_id,
            },
        )
        .await?;
    let status = if posted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(MessageBody {
            message: posted.message,
        }),
    ))
}

/// PATCH /api/messages/{id} — edit (author only).
#[utoipa::path(patch, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), request_body = EditBody, security(("bearer" = [])), responses((status = 200, body = MessageBody), (status = 404)))]
async fn edit_message(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    Json(b): Json<EditBody>,
) -> ApiResult<Json<MessageBody>> {
    Ok(Json(MessageBody {
        message: s.edit_message(&who, id, b.content).await?,
    }))
}

/// DELETE /api/messages/{id} — delete (author, moderator or admin); returns the tombstone.
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = MessageBody), (status = 404)))]
async fn delete_message(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<MessageBody>> {
    Ok(Json(MessageBody {
        message: s.delete_message(&who, id).await?,
    }))
}
