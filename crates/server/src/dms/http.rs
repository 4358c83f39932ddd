//! The REST door of direct messages: `POST /api/dms`.

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json};
use crate::rooms::http::{RoomBody, UserRef};
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(open_dm))
}

/// POST /api/dms — the one DM room with this user (made if missing).
#[utoipa::path(post, path = "/api/dms", tag = "rooms", request_body = UserRef, security(("bearer" = [])), responses((status = 200, body = RoomBody), (status = 404)))]
async fn open_dm(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Json(b): Json<UserRef>,
) -> ApiResult<Json<RoomBody>> {
    Ok(Json(RoomBody {
        room: s.open_dm(&who, b.user_id).await?,
    }))
}
