//! Push as a service: subscriptions, notification levels, who is muted.

use super::validate;
use crate::app::App;
use crate::auth::tokens::Session;
use natter_core::{Error, Id, NotificationLevel, Result, Room};
use natter_store::{NewPushSubscription, PushSubscription};

impl App {
    /// Validates and stores a subscription of the caller (see [`validate`]).
    pub async fn subscribe_push(
        &self,
        who: &Session,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<PushSubscription> {
        let checked =
            validate::subscription(endpoint, p256dh, auth, self.push.allow_private).await?;
        self.store
            .save_push_subscription(
                NewPushSubscription {
                    user_id: who.user_id,
                    endpoint: checked.endpoint,
                    p256dh: checked.p256dh,
                    auth: checked.auth,
                },
                validate::MAX_PER_USER,
            )
            .await
    }

    /// The caller's level in a room they are a member of.
    pub async fn set_notification_level(
        &self,
        who: &Session,
        room: Id,
        level: NotificationLevel,
    ) -> Result<Room> {
        self.require_member(room, who.user_id).await?;
        if !self
            .store
            .set_notification_level(room, who.user_id, level)
            .await?
        {
            return Err(Error::forbidden("you are not a member of this room"));
        }
        self.store
            .room(room, who.user_id)
            .await?
            .ok_or_else(|| Error::not_found("room not found"))
    }

    /// Those of `users` whose level in `room` is `none` (they get no
    /// `notification` event). A store error mutes no one.
    pub async fn muted(&self, room: Id, users: &[Id]) -> Vec<Id> {
        if users.is_empty() {
            return Vec::new();
        }
        match self.store.notification_levels(room, users).await {
            Ok(levels) => levels
                .into_iter()
                .filter(|(_, l)| *l == NotificationLevel::None)
                .map(|(u, _)| u)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read notification levels");
                Vec::new()
            }
        }
    }
}
