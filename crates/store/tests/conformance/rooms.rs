//! Rooms: members and roles, patches (logged like a live event), and the
//! public room directory.

use natter_core::events::payload;
use natter_core::{Error, Id, Role};
use natter_store::{Catchup, RoomPatch};
use serde_json::json;

use crate::support::{post, room, user, S};

on_both!(rooms_members_and_roles, public_rooms_are_searchable);

async fn rooms_members_and_roles(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let carol = user(&s, "carol").await;
    let r = room(&s, &alice, "general", false).await;
    assert_eq!(
        (r.role, r.member_count, r.last_seq),
        (Some(Role::Admin), 1, 0)
    );
    assert_eq!(
        (r.is_private, r.is_direct, r.created_by),
        (false, false, alice.user.id)
    );

    assert!(s.add_member(r.id, bob.user.id, Role::Member).await.unwrap());
    assert!(
        !s.add_member(r.id, bob.user.id, Role::Admin).await.unwrap(),
        "already a member"
    );
    assert_eq!(
        s.role_of(r.id, bob.user.id).await.unwrap(),
        Some(Role::Member)
    );
    assert!(s
        .set_role(r.id, bob.user.id, Role::Moderator)
        .await
        .unwrap());
    assert_eq!(
        s.role_of(r.id, bob.user.id).await.unwrap(),
        Some(Role::Moderator)
    );
    assert!(!s.set_role(r.id, carol.user.id, Role::Admin).await.unwrap());
    assert_eq!(s.role_of(r.id, carol.user.id).await.unwrap(), None);

    let members = s.members(r.id).await.unwrap();
    let view: Vec<_> = members
        .iter()
        .map(|m| (m.user.username.as_str(), m.role))
        .collect();
    assert_eq!(view, [("alice", Role::Admin), ("bob", Role::Moderator)]);
    assert_eq!(
        s.member_ids(r.id).await.unwrap(),
        vec![alice.user.id, bob.user.id]
    );

    let as_bob = s.room(r.id, bob.user.id).await.unwrap().unwrap();
    assert_eq!(
        (as_bob.role, as_bob.member_count),
        (Some(Role::Moderator), 2)
    );
    let as_carol = s.room(r.id, carol.user.id).await.unwrap().unwrap();
    assert_eq!((as_carol.role, as_carol.unread), (None, 0));
    assert!(s.room(Id(999_999), alice.user.id).await.unwrap().is_none());

    let other = room(&s, &bob, "random", true).await;
    let ids: Vec<Id> = s
        .rooms_of(bob.user.id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![other.id, r.id], "most recently active first");
    post(&s, r.id, alice.user.id, "bump").await;
    let ids: Vec<Id> = s
        .rooms_of(bob.user.id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![r.id, other.id]);
    assert_eq!(
        s.room_ids_of(bob.user.id).await.unwrap(),
        vec![r.id, other.id]
    );

    let before = s.room(r.id, alice.user.id).await.unwrap().unwrap().last_seq;
    let patched = s
        .update_room(
            r.id,
            RoomPatch {
                name: Some("lobby".into()),
                is_private: Some(true),
                ..Default::default()
            },
            alice.user.id,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            patched.name.as_str(),
            patched.description.as_str(),
            patched.is_private
        ),
        ("lobby", "about general", true)
    );
    // The change took the room's next seq and is in the log `sync` replays,
    // with exactly the live payload; a patch that changes nothing logs nothing.
    assert_eq!(patched.last_seq, before + 1);
    let Catchup::Events(log) = s.events_after(r.id, before, 10).await.unwrap() else {
        panic!("expected events");
    };
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].event_seq, log[0].name()),
        (before + 1, "room:updated")
    );
    assert_eq!(
        log[0].data(),
        serde_json::to_value(payload::RoomUpdated::of(&patched)).unwrap()
    );
    assert_eq!(log[0].data()["room"]["name"], "lobby");
    assert_eq!(log[0].data()["roomId"], json!(r.id.to_string()));
    let same = s
        .update_room(r.id, RoomPatch::default(), alice.user.id)
        .await
        .unwrap();
    assert_eq!(same.last_seq, before + 1);
    let err = s
        .update_room(Id(999_999), RoomPatch::default(), alice.user.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    assert!(s.remove_member(r.id, bob.user.id).await.unwrap());
    assert!(!s.remove_member(r.id, bob.user.id).await.unwrap());
    assert_eq!(s.room_ids_of(bob.user.id).await.unwrap(), vec![other.id]);
    let err = s
        .add_member(Id(999_999), bob.user.id, Role::Member)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

async fn public_rooms_are_searchable(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let public = room(&s, &alice, "General Chat", false).await;
    let rust = room(&s, &alice, "rustaceans", false).await;
    room(&s, &alice, "general secrets", true).await;
    s.dm_room(alice.user.id, bob.user.id).await.unwrap();

    let found = s.public_rooms("GENERAL", bob.user.id, 20).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![public.id]
    );
    assert_eq!(found[0].role, None, "bob is not a member");
    let all = s.public_rooms("", bob.user.id, 20).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![public.id, rust.id]
    );
    let by_description = s
        .public_rooms("about rust", alice.user.id, 20)
        .await
        .unwrap();
    assert_eq!(
        (by_description.len(), by_description[0].role),
        (1, Some(Role::Admin))
    );
    assert!(s
        .public_rooms("_", bob.user.id, 20)
        .await
        .unwrap()
        .is_empty());
}
