//! The REST door of search: `GET /api/search` (issue 10, docs/SEARCH.md); the work
//! is in `service.rs`.

use axum::extract::State;
use natter_core::search::{Piece, Sort};
use natter_core::{Id, Message};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Query};
use crate::search::service::SearchParams;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// Words and operators: `from:@user`, `from:me`, `in:#room`,
    /// `has:image|file|link`, `before:`/`after:`/`on:YYYY-MM-DD`,
    /// `"exact phrase"`, `-word`, `word*`. 1–500 characters.
    q: Option<String>,
    /// Only this room (one the caller is a member of).
    room_id: Option<Id>,
    /// 1–50, default 20.
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// `relevance` (default) or `newest`.
    sort: Option<Sort>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SearchResult {
    message: Message,
    /// Text around the best matches (≤ ~200 characters); matched words as
    /// written have `match: true`. Plain text, no markup.
    snippet: Vec<Piece>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct SearchBody {
    results: Vec<SearchResult>,
    /// Pass as `cursor` for the next page; null after the last match.
    next_cursor: Option<String>,
}

/// GET /api/search — messages of the caller's rooms, best match first.
#[utoipa::path(get, path = "/api/search", tag = "search", params(SearchQuery), security(("bearer" = [])), responses((status = 200, body = SearchBody), (status = 403)))]
async fn search(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchBody>> {
    let found = s
        .search(
            who.user_id,
            SearchParams {
                q: q.q.unwrap_or_default(),
                room_id: q.room_id,
                limit: q.limit,
                cursor: q.cursor,
                sort: q.sort,
            },
        )
        .await?;
    Ok(Json(SearchBody {
        results: found
            .results
            .into_iter()
            .map(|h| SearchResult {
                message: h.message,
                snippet: h.snippet,
            })
            .collect(),
        next_cursor: found.next_cursor,
    }))
}
