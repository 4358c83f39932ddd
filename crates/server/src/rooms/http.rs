//! Rooms, members and direct messages.

use axum::extract::State;
use axum::http::StatusCode;
use natter_core::{Id, Member, Role, Room};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Path, Query};
use crate::rooms::service::RoomChanges;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_rooms, create_room))
        .routes(routes!(public_rooms))
        .routes(routes!(get_room, patch_room))
        .routes(routes!(join_room))
        .routes(routes!(leave_room))
        .routes(routes!(list_members, invite_member))
        .routes(routes!(remove_member, change_role))
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RoomBody {
    pub room: Room,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RoomsBody {
    rooms: Vec<Room>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MembersBody {
    members: Vec<Member>,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MemberBody {
    member: Member,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct CreateRoom {
    name: String,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(as = "Option<String>", optional))]
    description: String,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(as = "Option<bool>", optional))]
    is_private: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct PatchRoom {
    name: Option<String>,
    description: Option<String>,
    is_private: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublicQuery {
    /// Text to find in the name or description.
    #[serde(default)]
    query: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub user_id: Id,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RoleBody {
    role: Role,
}

/// GET /api/rooms — my rooms and DMs, with unread and mention counts.
#[utoipa::path(get, path = "/api/rooms", tag = "rooms", security(("bearer" = [])), responses((status = 200, body = RoomsBody)))]
async fn my_rooms(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
) -> ApiResult<Json<RoomsBody>> {
    Ok(Json(RoomsBody {
        rooms: s.store.rooms_of(who.user_id).await?,
    }))
}

/// POST /api/rooms — create a room; the creator becomes its admin.
#[utoipa::path(post, path = "/api/rooms", tag = "rooms", request_body = CreateRoom, security(("bearer" = [])), responses((status = 201, body = RoomBody)))]
async fn create_room(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Json(b): Json<CreateRoom>,
) -> ApiResult<(StatusCode, Json<RoomBody>)> {
    let room = s
        .create_room(&who, &b.name, &b.description, b.is_private)
        .await?;
    Ok((StatusCode::CREATED, Json(RoomBody { room })))
}

/// GET /api/rooms/public — browse public rooms.
#[utoipa::path(get, path = "/api/rooms/public", tag = "rooms", params(PublicQuery), security(("bearer" = [])), responses((status = 200, body = RoomsBody)))]
async fn public_rooms(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Query(q): Query<PublicQuery>,
) -> ApiResult<Json<RoomsBody>> {
    let rooms = s
        .store
        .public_rooms(
            natter_core::validate::search_query(&q.query)?,
            who.user_id,
            100,
        )
        .await?;
    Ok(Json(RoomsBody { rooms }))
}

/// GET /api/rooms/{id} — a public room, or one I am in.
#[utoipa::path(get, path = "/api/rooms/{id}", tag = "rooms", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = RoomBody), (status = 403), (status = 404)))]
async fn get_room(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<RoomBody>> {
    Ok(Json(RoomBody {
        room: s.visible_room(&who, id).await?,
    }))
}

/// PATCH /api/rooms/{id} — change name, description, privacy (admin).
#[utoipa::path(patch, path = "/api/rooms/{id}", tag = "rooms", params(("id" = String, Path)), request_body = PatchRoom, security(("bearer" = [])), responses((status = 200, body = RoomBody), (status = 404)))]
async fn patch_room(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    Json(b): Json<PatchRoom>,
) -> ApiResult<Json<RoomBody>> {
    let changes = RoomChanges {
        name: b.name,
        description: b.description,
        is_private: b.is_private,
    };
    Ok(Json(RoomBody {
        room: s.update_room(&who, id, changes).await?,
    }))
}

/// POST /api/rooms/{id}/join — join a public room.
#[utoipa::path(post, path = "/api/rooms/{id}/join", tag = "rooms", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = RoomBody), (status = 404)))]
async fn join_room(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<RoomBody>> {
    let (room, _) = s.join_room(&who, id).await?;
    Ok(Json(RoomBody { room }))
}

/// POST /api/rooms/{id}/leave — stop being a member.
#[utoipa::path(post, path = "/api/rooms/{id}/leave", tag = "rooms", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 204), (status = 404)))]
async fn leave_room(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    s.leave_room(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/rooms/{id}/members — members with roles and presence.
#[utoipa::path(get, path = "/api/rooms/{id}/members", tag = "rooms", params(("id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = MembersBody), (status = 403), (status = 404)))]
async fn list_members(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
) -> ApiResult<Json<MembersBody>> {
    Ok(Json(MembersBody {
        members: s.members(&who, id).await?,
    }))
}

/// POST /api/rooms/{id}/members — invite someone (admin or moderator).
#[utoipa::path(post, path = "/api/rooms/{id}/members", tag = "rooms", params(("id" = String, Path)), request_body = UserRef, security(("bearer" = [])), responses((status = 201, body = MemberBody), (status = 404), (status = 409)))]
async fn invite_member(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    Json(b): Json<UserRef>,
) -> ApiResult<(StatusCode, Json<MemberBody>)> {
    let member = s.invite(&who, id, b.user_id).await?;
    Ok((StatusCode::CREATED, Json(MemberBody { member })))
}

/// DELETE /api/rooms/{id}/members/{userId} — remove someone (admin or moderator; never an admin).
#[utoipa::path(delete, path = "/api/rooms/{id}/members/{userId}", tag = "rooms", params(("id" = String, Path), ("userId" = String, Path)), security(("bearer" = [])), responses((status = 204), (status = 404)))]
async fn remove_member(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path((id, user)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    s.remove_member(&who, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PATCH /api/rooms/{id}/members/{userId} — change a member's role (admin).
#[utoipa::path(patch, path = "/api/rooms/{id}/members/{userId}", tag = "rooms", params(("id" = String, Path), ("userId" = String, Path)), request_body = RoleBody, security(("bearer" = [])), responses((status = 200, body = MemberBody), (status = 404)))]
async fn change_role(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path((id, user)): Path<(Id, Id)>,
    Json(b): Json<RoleBody>,
) -> ApiResult<Json<MemberBody>> {
    Ok(Json(MemberBody {
        member: s.set_role(&who, id, user, b.role).await?,
    }))
}
