//! What every store test file shares: one macro that runs each test on both
//! backends, and the fixtures the tests build their users, rooms and
//! messages with (`search` has the search suites' helpers).

// Each test binary uses only some of the fixtures.
#![allow(dead_code)]

pub mod search;

use std::sync::Arc;

use natter_core::{Id, Me, Message, Room};
use natter_store::{Catchup, NewMessage, NewRoom, NewUser, Store};

/// Generates `mod sqlite` and `mod postgres`, each with one test per name,
/// running `super::<name>(store)` on a fresh database of that backend.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        on_both!(@on sqlite: $($name),*);
        on_both!(@on postgres: $($name),*);
    };
    (@on $backend:ident: $($name:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = natter_store::testing::TestDb::$backend().await;
                    let store = natter_store::connect(&db.url).await.expect("open the store");
                    super::$name(store).await;
                }
            )*
        }
    };
}

pub type S = Arc<dyn Store>;

/// `username`, with the email `username@example.com`.
pub async fn user(s: &S, username: &str) -> Me {
    s.create_user(NewUser {
        email: format!("{username}@example.com"),
        username: username.to_owned(),
        name: format!("{username} name"),
        password_hash: format!("hash-{username}"),
    })
    .await
    .unwrap()
}

/// A room `name` described as "about `name`", owned (as admin) by `owner`.
pub async fn room(s: &S, owner: &Me, name: &str, is_private: bool) -> Room {
    s.create_room(NewRoom {
        name: name.to_owned(),
        description: format!("about {name}"),
        is_private,
        created_by: owner.user.id,
    })
    .await
    .unwrap()
}

pub fn msg(room: Id, user: Id, content: &str) -> NewMessage {
    NewMessage::text(room, user, content)
}

pub async fn post(s: &S, room: Id, user: Id, content: &str) -> Message {
    s.post_message(msg(room, user, content))
        .await
        .unwrap()
        .message
}

/// The events of a catch-up that must not be a Reset.
pub fn events(c: Catchup) -> Vec<natter_core::RoomEvent> {
    match c {
        Catchup::Events(e) => e,
        Catchup::Reset => panic!("expected events, got Reset"),
    }
}

pub fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// How far `user` has read in `room` (they must be a member).
pub async fn last_read_seq(s: &S, room: Id, user: Id) -> i64 {
    s.members(room)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user.id == user)
        .unwrap()
        .last_read_seq
}
