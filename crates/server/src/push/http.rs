//! Web Push: the VAPID public key, subscriptions, and per-room notification
//! levels (issue 11).

use axum::extract::State;
use axum::http::StatusCode;
use natter_core::{Id, NotificationLevel, Room};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_public_key))
        .routes(routes!(subscribe, unsubscribe))
        .routes(routes!(set_notifications))
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct KeyBody {
    /// The VAPID public key: base64url of the uncompressed P-256 point, the
    /// `applicationServerKey` of `pushManager.subscribe`.
    key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SubscriptionKeys {
    p256dh: String,
    auth: String,
}

/// What `PushSubscription.toJSON()` gives in a browser (`expirationTime` ignored).
#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SubscribeBody {
    endpoint: String,
    keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct EndpointBody {
    endpoint: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    id: Id,
    endpoint: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SubscriptionEnvelope {
    subscription: SubscriptionView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LevelBody {
    level: NotificationLevel,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomBody {
    room: Room,
}

/// GET /api/push/vapid-public-key — the key browsers subscribe with.
#[utoipa::path(get, path = "/api/push/vapid-public-key", tag = "push", responses((status = 200, body = KeyBody)))]
async fn vapid_public_key(State(s): State<AppState>) -> Json<KeyBody> {
    Json(KeyBody {
        key: s.push.public_key().to_owned(),
    })
}

/// POST /api/push/subscriptions — store this browser's subscription (idempotent
/// per endpoint; an endpoint moves to the newest user who registers it).
#[utoipa::path(post, path = "/api/push/subscriptions", tag = "push", request_body = SubscribeBody, security(("bearer" = [])), responses((status = 201, body = SubscriptionEnvelope), (status = 400, body = crate::error::ErrorEnvelope)))]
async fn subscribe(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Json(b): Json<SubscribeBody>,
) -> ApiResult<(StatusCode, Json<SubscriptionEnvelope>)> {
    let sub = s
        .subscribe_push(&who, &b.endpoint, &b.keys.p256dh, &b.keys.auth)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SubscriptionEnvelope {
            subscription: SubscriptionView {
                id: sub.id,
                endpoint: sub.endpoint,
                created_at: sub.created_at,
            },
        }),
    ))
}

/// DELETE /api/push/subscriptions — forget one of my subscriptions (204 also
/// when it was not there: the end state is the same).
#[utoipa::path(delete, path = "/api/push/subscriptions", tag = "push", request_body = EndpointBody, security(("bearer" = [])), responses((status = 204)))]
async fn unsubscribe(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Json(b): Json<EndpointBody>,
) -> ApiResult<StatusCode> {
    s.store
        .delete_push_subscription(who.user_id, &b.endpoint)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PATCH /api/rooms/{id}/notifications — my level in this room: `all`,
/// `mentions` or `none` (push and the `notification` event; counts still count).
#[utoipa::path(patch, path = "/api/rooms/{id}/notifications", tag = "rooms", params(("id" = String, Path)), request_body = LevelBody, security(("bearer" = [])), responses((status = 200, body = RoomBody), (status = 404)))]
async fn set_notifications(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<Id>,
    Json(b): Json<LevelBody>,
) -> ApiResult<Json<RoomBody>> {
    Ok(Json(RoomBody {
        room: s.set_notification_level(&who, id, b.level).await?,
    }))
}
