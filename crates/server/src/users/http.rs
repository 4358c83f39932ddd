//! The REST door of users: finding people (for DMs and mention completion).

use axum::extract::State;
use natter_core::{Id, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(get_user))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UserQuery {
    #[serde(default)]
    query: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct UsersBody {
    users: Vec<User>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct UserBody {
    user: User,
}

/// GET /api/users — users whose username or name contains `query`.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery), security(("bearer" = [])), responses((status = 200, body = UsersBody)))]
async fn search(
    State(s): State<AppState>,
    _: AuthUser,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<UsersBody>> {
    Ok(Json(UsersBody {
        users: s.find_users(&q.query).await?,
    }))
}

/// GET /api/users/{id} — one user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = UserBody), (status = 404)))]
async fn get_user(
    State(s): State<AppState>,
    _: AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(UserBody {
        user: s.require_user(id).await?,
    }))
}
