//! What the unit tests of `sql/` share, on the backend this copy is
//! compiled for: a fresh store, users and rooms.
#![allow(clippy::unwrap_used)]

use natter_core::Id;

use super::super::{test_db, Backend};
use crate::testing::TestDb;
use crate::{NewMessage, NewRoom, NewUser, Store};

/// The name the log gives a new message.
pub(super) const NEW: &str = natter_core::events::ServerEventName::MessageNew.as_str();

/// A plain text message.
pub(super) fn msg(room: Id, user: Id, content: &str) -> NewMessage {
    NewMessage::text(room, user, content)
}

/// A fresh, migrated store (it lives as long as the `TestDb`).
pub(super) async fn store() -> (TestDb, Backend) {
    let db = test_db().await;
    let s = Backend::open(&db.url).await.unwrap();
    (db, s)
}

/// A user of each name (`<name>@example.com`, called "<name> N"), in order.
pub(super) async fn users(s: &Backend, names: &[&str]) -> Vec<Id> {
    let mut ids = Vec::new();
    for name in names {
        let me = s
            .create_user(NewUser {
                email: format!("{name}@example.com"),
                username: (*name).into(),
                name: format!("{name} N"),
                password_hash: "x".into(),
            })
            .await
            .unwrap();
        ids.push(me.user.id);
    }
    ids
}

/// A public room of each name, created (and so administered) by `by`.
pub(super) async fn rooms(s: &Backend, names: &[&str], by: Id) -> Vec<Id> {
    let mut ids = Vec::new();
    for name in names {
        let room = NewRoom {
            name: (*name).into(),
            description: String::new(),
            is_private: false,
            created_by: by,
        };
        ids.push(s.create_room(room).await.unwrap().id);
    }
    ids
}
