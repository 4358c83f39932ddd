//! The one behaviour both stores must have: every test here runs against
//! SQLite and against PostgreSQL (`sqlite::…` and `postgres::…`), each on a
//! fresh database of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use natter_core::events::payload;
use natter_core::{Error, Id, Me, Message, MessageType, Role, Room};
use natter_store::{Catchup, NewMessage, NewRoom, NewUpload, NewUser, PageAt, RoomPatch, Store};
use serde_json::json;

#[macro_use]
mod support;

on_both!(
    users_are_unique_ignoring_case,
    credentials_by_email_or_username,
    rooms_members_and_roles,
    public_rooms_are_searchable,
    dm_room_is_reused_both_ways,
    dm_room_race_makes_one_room,
    post_is_idempotent_by_client_id,
    concurrent_senders_get_contiguous_seqs,
    many_concurrent_posts_across_rooms,
    a_bad_post_among_concurrent_ones_fails_alone,
    duplicate_client_ids_in_flight_store_one_message,
    edit_keeps_seq_and_takes_next_event_seq,
    delete_leaves_a_tombstone,
    reactions_toggle_in_order,
    history_pages_cover_every_message_once,
    events_after_replays_exact_payloads,
    unread_counts_skip_own_and_deleted,
    mark_read_never_moves_backwards,
    mentions_resolve_to_members,
    uploads_round_trip,
    upload_lifecycle,
    joining_starts_with_history_read,
    search_folds_accents_and_case,
    search_finds_longer_words_a_word_starts,
    search_finds_cjk_words_inside_sentences,
    search_finds_identifiers_and_url_parts,
    search_covers_rooms_of_members_now,
    search_spans_hundreds_of_rooms,
    search_skips_deleted_and_follows_edits,
    search_operators_narrow_results,
    search_ranks_and_pages_every_match_once,
    history_around_centres_on_a_message,
);

type S = Arc<dyn Store>;

// ---- fixtures ----

async fn user(s: &S, username: &str) -> Me {
    s.create_user(NewUser {
        email: format!("{username}@example.com"),
        username: username.to_owned(),
        name: format!("{username} name"),
        password_hash: format!("hash-{username}"),
    })
    .await
    .unwrap()
}

async fn room(s: &S, owner: &Me, name: &str, is_private: bool) -> Room {
    s.create_room(NewRoom {
        name: name.to_owned(),
        description: format!("about {name}"),
        is_private,
        created_by: owner.user.id,
    })
    .await
    .unwrap()
}

fn msg(room: Id, user: Id, content: &str) -> NewMessage {
    NewMessage::text(room, user, content)
}

async fn post(s: &S, room: Id, user: Id, content: &str) -> Message {
    s.post_message(msg(room, user, content))
        .await
        .unwrap()
        .message
}

fn events(c: Catchup) -> Vec<natter_core::RoomEvent> {
    match c {
        Catchup::Events(e) => e,
        Catchup::Reset => panic!("expected events, got Reset"),
    }
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

// ---- users ----

async fn users_are_unique_ignoring_case(s: S) {
    let alice = user(&s, "alice").await;
    assert_eq!(alice.email, "alice@example.com");
    let clash = |email: &str, username: &str| NewUser {
        email: email.into(),
        username: username.into(),
        name: "x".into(),
        password_hash: "h".into(),
    };
    let err = s
        .create_user(clash("other@example.com", "ALICE"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m == "username is taken"),
        "{err:?}"
    );
    let err = s
        .create_user(clash("Alice@Example.COM", "alice2"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m == "email is taken"),
        "{err:?}"
    );

    assert_eq!(s.me(alice.user.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.user(alice.user.id).await.unwrap(),
        Some(alice.user.clone())
    );
    assert_eq!(s.user(Id(999_999)).await.unwrap(), None);
}

async fn credentials_by_email_or_username(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    for login in ["alice", "ALICE", "Alice@Example.com", " alice "] {
        let c = s.credentials(login).await.unwrap().expect(login);
        assert_eq!(c.me, alice);
        assert_eq!(c.password_hash, "hash-alice");
    }
    assert!(s.credentials("carol").await.unwrap().is_none());

    let found = s.search_users("LIC", 10).await.unwrap();
    assert_eq!(found, vec![alice.user.clone()]);
    assert_eq!(s.search_users("", 10).await.unwrap().len(), 2);
    assert!(
        s.search_users("%", 10).await.unwrap().is_empty(),
        "wildcards are literal"
    );
    let by_name = s
        .users_by_username(&["bob".into(), "nobody".into(), "alice".into()])
        .await
        .unwrap();
    assert_eq!(by_name, vec![alice.user, bob.user]);
}

// ---- rooms ----

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

async fn dm_room_is_reused_both_ways(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let (dm, created) = s.dm_room(alice.user.id, bob.user.id).await.unwrap();
    assert!(created);
    assert!(dm.is_direct && dm.is_private);
    assert_eq!(dm.peer.as_ref(), Some(&bob.user));
    assert_eq!(
        (dm.name.as_str(), dm.role, dm.member_count),
        ("bob name", Some(Role::Member), 2)
    );

    let (again, created) = s.dm_room(bob.user.id, alice.user.id).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, dm.id);
    assert_eq!(again.peer.as_ref(), Some(&alice.user), "seen from bob");
    let (third, created) = s.dm_room(alice.user.id, bob.user.id).await.unwrap();
    assert_eq!((third.id, created), (dm.id, false));

    let in_list = s.rooms_of(bob.user.id).await.unwrap();
    assert_eq!(in_list.len(), 1);
    assert_eq!(in_list[0].peer.as_ref(), Some(&alice.user));

    let err = s.dm_room(alice.user.id, alice.user.id).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let err = s.dm_room(alice.user.id, Id(999_999)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

async fn dm_room_race_makes_one_room(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let s = s.clone();
            let (a, b) = if i % 2 == 0 {
                (alice.user.id, bob.user.id)
            } else {
                (bob.user.id, alice.user.id)
            };
            tokio::spawn(async move { s.dm_room(a, b).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    let mut created = 0;
    for t in tasks {
        let (room, c) = t.await.unwrap().unwrap();
        ids.insert(room.id);
        created += usize::from(c);
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(s.rooms_of(alice.user.id).await.unwrap().len(), 1);
}

// ---- messages ----

async fn post_is_idempotent_by_client_id(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &alice, "general", false).await;
    let other = room(&s, &alice, "other", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();

    let mut first = msg(r.id, alice.user.id, "hello @bob");
    first.client_id = Some("c-1".into());
    first.mentions = vec![bob.user.id];
    let posted = s.post_message(first.clone()).await.unwrap();
    assert!(posted.created);
    let m = posted.message;
    assert_eq!((m.seq, m.room_id, m.user_id), (1, r.id, alice.user.id));
    assert_eq!(
        (m.content.as_str(), m.kind, m.client_id.as_deref()),
        ("hello @bob", MessageType::Text, Some("c-1"))
    );
    assert_eq!(m.user, alice.user);
    assert_eq!(m.mentions, vec![bob.user.id]);
    assert!(
        m.reactions.is_empty()
            && m.reply_to.is_none()
            && m.edited_at.is_none()
            && m.deleted_at.is_none()
    );
    assert_eq!(s.message(m.id).await.unwrap(), Some(m.clone()));

    let again = s.post_message(first.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.message, m);
    assert_eq!(
        s.room(r.id, alice.user.id).await.unwrap().unwrap().last_seq,
        1,
        "a replay takes no seq"
    );
    assert_eq!(events(s.events_after(r.id, 0, 100).await.unwrap()).len(), 1);

    // The same clientId from another user, or in another room, is another message.
    let mut from_bob = first.clone();
    from_bob.user_id = bob.user.id;
    assert!(s.post_message(from_bob).await.unwrap().created);
    let mut elsewhere = first.clone();
    elsewhere.room_id = other.id;
    let elsewhere = s.post_message(elsewhere).await.unwrap();
    assert!(elsewhere.created);
    assert_eq!(elsewhere.message.seq, 1, "seqs are per room");

    // Replies: same room only; the reply carries a preview.
    let mut reply = msg(r.id, bob.user.id, "hi!");
    reply.reply_to_id = Some(m.id);
    let reply = s.post_message(reply).await.unwrap().message;
    let preview = reply.reply_to.clone().unwrap();
    assert_eq!(
        (
            preview.id,
            preview.content.as_str(),
            preview.user.username.as_str()
        ),
        (m.id, "hello @bob", "alice")
    );
    assert_eq!(reply.reply_to_id, Some(m.id));
    let mut wrong = msg(r.id, bob.user.id, "x");
    wrong.reply_to_id = Some(elsewhere.message.id);
    assert!(matches!(
        s.post_message(wrong).await.unwrap_err(),
        Error::Invalid(_)
    ));
    let mut missing = msg(r.id, bob.user.id, "x");
    missing.reply_to_id = Some(Id(999_999));
    assert!(matches!(
        s.post_message(missing).await.unwrap_err(),
        Error::Invalid(_)
    ));
    assert_eq!(
        s.room(r.id, bob.user.id).await.unwrap().unwrap().last_seq,
        3,
        "failed posts take no seq"
    );

    // Posting moves the sender's cursor to the new message.
    let cursor = |who: Id| {
        let s = s.clone();
        async move {
            s.members(r.id)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.user.id == who)
                .unwrap()
                .last_read_seq
        }
    };
    assert_eq!(cursor(bob.user.id).await, reply.seq);
    assert_eq!(cursor(alice.user.id).await, 1);

    let err = s
        .post_message(msg(Id(999_999), alice.user.id, "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let mut file = msg(r.id, alice.user.id, "");
    file.kind = MessageType::Image;
    file.file_url = Some("/files/1/cat.png".into());
    let file = s.post_message(file).await.unwrap().message;
    assert_eq!(
        (file.kind, file.file_url.as_deref()),
        (MessageType::Image, Some("/files/1/cat.png"))
    );
}

async fn concurrent_senders_get_contiguous_seqs(s: S) {
    const SENDERS: usize = 20;
    const EACH: usize = 3;
    let owner = user(&s, "owner").await;
    let r = room(&s, &owner, "busy", false).await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let u = user(&s, &format!("sender{i}")).await;
        s.add_member(r.id, u.user.id, Role::Member).await.unwrap();
        senders.push(u.user.id);
    }
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|who| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for k in 0..EACH {
                    let mut m = msg(r.id, who, &format!("{who} #{k}"));
                    m.client_id = Some(format!("k{k}"));
                    out.push(s.post_message(m).await.unwrap().message.seq);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one sender's messages keep their order"
        );
        all.extend(mine);
    }
    all.sort_unstable();
    let n = (SENDERS * EACH) as i64;
    assert_eq!(all, (1..=n).collect::<Vec<_>>());
    assert_eq!(
        s.room(r.id, owner.user.id).await.unwrap().unwrap().last_seq,
        n
    );
    let logged: Vec<i64> = events(s.events_after(r.id, 0, 500).await.unwrap())
        .iter()
        .map(|e| e.event_seq)
        .collect();
    assert_eq!(logged, (1..=n).collect::<Vec<_>>());
}

/// Group commit under load: 40 tasks post 200 messages into 5 rooms at once
/// (so the writer stores them in shared transactions). Every call succeeds,
/// every room's seqs are 1..n with each message logged under its own seq,
/// and each task's messages keep their order.
async fn many_concurrent_posts_across_rooms(s: S) {
    const ROOMS: usize = 5;
    const TASKS: usize = 40;
    const EACH: usize = 5;
    let owner = user(&s, "owner").await;
    let mut rooms = Vec::new();
    for k in 0..ROOMS {
        rooms.push(room(&s, &owner, &format!("room{k}"), false).await.id);
    }
    let mut senders = Vec::new();
    for i in 0..TASKS {
        let u = user(&s, &format!("sender{i}")).await;
        for r in &rooms {
            s.add_member(*r, u.user.id, Role::Member).await.unwrap();
        }
        senders.push(u.user.id);
    }
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, who)| {
            let (s, rooms) = (s.clone(), rooms.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for k in 0..EACH {
                    let r = rooms[(i + k) % ROOMS];
                    let mut m = msg(r, who, &format!("{who} #{k}"));
                    m.client_id = Some(format!("c{k}"));
                    let posted = s.post_message(m).await.unwrap();
                    assert!(posted.created);
                    out.push(posted.message);
                }
                out
            })
        })
        .collect();
    let mut stored: Vec<Message> = Vec::new();
    for t in tasks {
        stored.extend(t.await.unwrap());
    }
    assert_eq!(stored.len(), TASKS * EACH);
    for r in &rooms {
        let mut mine: Vec<&Message> = stored.iter().filter(|m| m.room_id == *r).collect();
        mine.sort_by_key(|m| m.seq);
        let n = mine.len() as i64;
        assert_eq!(
            mine.iter().map(|m| m.seq).collect::<Vec<_>>(),
            (1..=n).collect::<Vec<_>>(),
            "room {r:?}: contiguous seqs"
        );
        assert_eq!(
            s.room(*r, owner.user.id).await.unwrap().unwrap().last_seq,
            n
        );
        let log = events(s.events_after(*r, 0, 500).await.unwrap());
        assert_eq!(log.len(), mine.len(), "one event per message");
        for (e, m) in log.iter().zip(&mine) {
            assert_eq!((e.name(), e.event_seq), ("message:new", m.seq));
            let expected = serde_json::to_value(payload::MessageChange {
                message: (*m).clone(),
                event_seq: m.seq,
            })
            .unwrap();
            assert_eq!(e.data(), expected, "the logged payload is the live one");
        }
        // Each message is stored as it was acknowledged.
        for m in &mine {
            assert_eq!(s.message(m.id).await.unwrap().as_ref(), Some(*m));
        }
    }
}

/// A post that fails (a replyToId of another room, a missing one, an unknown
/// room) among many concurrent ones fails alone: the others are stored, and
/// the failures take no seq.
async fn a_bad_post_among_concurrent_ones_fails_alone(s: S) {
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    let other = room(&s, &alice, "other", false).await;
    let elsewhere = post(&s, other.id, alice.user.id, "elsewhere").await;
    let first = post(&s, r.id, alice.user.id, "first").await;
    let mut calls = Vec::new();
    for i in 0..30 {
        let mut m = msg(r.id, alice.user.id, &format!("m{i}"));
        match i {
            10 => m.reply_to_id = Some(elsewhere.id),
            15 => m.reply_to_id = Some(Id(999_999)),
            20 => m.room_id = Id(999_999),
            25 => m.reply_to_id = Some(first.id),
            _ => {}
        }
        let s = s.clone();
        calls.push(tokio::spawn(async move { s.post_message(m).await }));
    }
    let mut ok = 0;
    for (i, call) in calls.into_iter().enumerate() {
        let result = call.await.unwrap();
        match i {
            10 | 15 => assert!(matches!(result, Err(Error::Invalid(_))), "{i}: {result:?}"),
            20 => assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}"),
            _ => {
                let posted = result.unwrap();
                assert!(posted.created);
                if i == 25 {
                    assert_eq!(posted.message.reply_to.unwrap().id, first.id);
                }
                ok += 1;
            }
        }
    }
    assert_eq!(ok, 27);
    let n = 1 + ok;
    assert_eq!(
        s.room(r.id, alice.user.id).await.unwrap().unwrap().last_seq,
        n,
        "failed posts take no seq"
    );
    let logged: Vec<i64> = events(s.events_after(r.id, 0, 500).await.unwrap())
        .iter()
        .map(|e| e.event_seq)
        .collect();
    assert_eq!(logged, (1..=n).collect::<Vec<_>>());
    let page = s.history(r.id, PageAt::Newest, 100).await.unwrap();
    assert_eq!(seqs(&page.messages), (1..=n).collect::<Vec<_>>());
}

/// The same (user, room, clientId) sent several times at once (a client
/// retrying while the first is in flight, possibly into the same group
/// commit) stores one message: one caller gets `created`, every caller gets
/// its id, and only one seq is taken.
async fn duplicate_client_ids_in_flight_store_one_message(s: S) {
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    let mut calls = Vec::new();
    for i in 0..24 {
        let mut m = msg(r.id, alice.user.id, &format!("m{i}"));
        if i % 3 == 0 {
            m.content = "retried".into();
            m.client_id = Some("same".into());
        }
        let s = s.clone();
        calls.push(tokio::spawn(
            async move { s.post_message(m).await.unwrap() },
        ));
    }
    let mut created = 0;
    let mut ids = BTreeSet::new();
    for (i, call) in calls.into_iter().enumerate() {
        let posted = call.await.unwrap();
        if i % 3 == 0 {
            created += usize::from(posted.created);
            ids.insert(posted.message.id);
            assert_eq!(posted.message.content, "retried");
        } else {
            assert!(posted.created);
        }
    }
    assert_eq!(created, 1, "one copy is stored");
    assert_eq!(ids.len(), 1, "every copy answers with the same message");
    let page = s.history(r.id, PageAt::Newest, 100).await.unwrap();
    assert_eq!(page.messages.len(), 16 + 1);
    assert_eq!(seqs(&page.messages), (1..=17).collect::<Vec<_>>());
    assert_eq!(
        page.messages
            .iter()
            .filter(|m| m.client_id.as_deref() == Some("same"))
            .count(),
        1
    );
}

async fn edit_keeps_seq_and_takes_next_event_seq(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let carol = user(&s, "carol").await;
    let r = room(&s, &alice, "general", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    s.add_member(r.id, carol.user.id, Role::Member)
        .await
        .unwrap();
    let m = post(&s, r.id, alice.user.id, "helo").await;
    post(&s, r.id, bob.user.id, "hi").await;

    let edited = s
        .edit_message(m.id, "hello @carol".into(), vec![carol.user.id])
        .await
        .unwrap();
    assert_eq!(edited.event_seq, 3);
    let e = &edited.value;
    assert_eq!((e.id, e.seq, e.content.as_str()), (m.id, 1, "hello @carol"));
    assert!(e.edited_at.is_some() && e.updated_at >= m.updated_at);
    assert_eq!(
        (e.created_at, e.mentions.clone()),
        (m.created_at, vec![carol.user.id])
    );
    assert_eq!(s.message(m.id).await.unwrap().as_ref(), Some(e));
    assert_eq!(
        s.unread(r.id, carol.user.id).await.unwrap().mentions,
        1,
        "an edit can add a mention"
    );
    let edited = s.edit_message(m.id, "hello".into(), vec![]).await.unwrap();
    assert_eq!((edited.event_seq, edited.value.mentions.len()), (4, 0));

    let page = s.history(r.id, PageAt::Newest, 50).await.unwrap();
    assert_eq!(
        seqs(&page.messages),
        vec![1, 2],
        "an edit does not move a message"
    );

    s.delete_message(m.id).await.unwrap();
    let err = s
        .edit_message(m.id, "again".into(), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let err = s
        .edit_message(Id(999_999), "x".into(), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        s.room(r.id, alice.user.id).await.unwrap().unwrap().last_seq,
        5,
        "failed edits take no seq"
    );
}

async fn delete_leaves_a_tombstone(s: S) {
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    let mut with_file = msg(r.id, alice.user.id, "look");
    with_file.kind = MessageType::Image;
    with_file.file_url = Some("/files/1/cat.png".into());
    let m = s.post_message(with_file).await.unwrap().message;
    assert_eq!(m.file_url.as_deref(), Some("/files/1/cat.png"));
    s.toggle_reaction(m.id, alice.user.id, "👍").await.unwrap();
    let mut reply = msg(r.id, alice.user.id, "about that");
    reply.reply_to_id = Some(m.id);
    let reply = s.post_message(reply).await.unwrap().message;

    let deleted = s.delete_message(m.id).await.unwrap();
    assert_eq!(deleted.event_seq, 4);
    let t = &deleted.value;
    assert_eq!(
        (t.id, t.seq, t.content.as_str(), t.file_url.as_deref()),
        (m.id, 1, "", None)
    );
    assert!(t.deleted_at.is_some() && t.reactions.is_empty());
    assert_eq!(s.message(m.id).await.unwrap().as_ref(), Some(t));

    let page = s.history(r.id, PageAt::Newest, 10).await.unwrap();
    assert_eq!(page.messages.len(), 2, "the tombstone stays in history");
    assert_eq!(page.messages[0], *t);
    let preview = page.messages[1].reply_to.clone().unwrap();
    assert_eq!((preview.id, preview.content.as_str()), (m.id, ""));
    assert_eq!(page.messages[1].id, reply.id);

    assert!(matches!(
        s.delete_message(m.id).await.unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        s.delete_message(Id(999_999)).await.unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        s.toggle_reaction(m.id, alice.user.id, "🎉")
            .await
            .unwrap_err(),
        Error::Invalid(_)
    ));
    assert_eq!(
        s.room(r.id, alice.user.id).await.unwrap().unwrap().last_seq,
        4
    );
}

async fn reactions_toggle_in_order(s: S) {
    let [a, b, c] = [
        user(&s, "a").await,
        user(&s, "b").await,
        user(&s, "c").await,
    ]
    .map(|u| u.user.id);
    let owner = s.me(a).await.unwrap().unwrap();
    let r = room(&s, &owner, "general", false).await;
    let m = post(&s, r.id, a, "react to me").await;

    let view =
        |ch: &natter_store::Change<natter_store::ReactionsChanged>| -> Vec<(String, i64, Vec<Id>)> {
            ch.value
                .reactions
                .iter()
                .map(|r| (r.emoji.clone(), r.count, r.user_ids.clone()))
                .collect()
        };
    let up = "👍".to_owned();
    let party = "🎉".to_owned();
    s.toggle_reaction(m.id, c, "👍").await.unwrap();
    s.toggle_reaction(m.id, b, "🎉").await.unwrap();
    let ch = s.toggle_reaction(m.id, a, "👍").await.unwrap();
    assert_eq!(
        (ch.event_seq, ch.value.message_id, ch.value.room_id),
        (4, m.id, r.id)
    );
    assert_eq!(
        view(&ch),
        vec![(up.clone(), 2, vec![c, a]), (party.clone(), 1, vec![b])]
    );
    assert_eq!(
        s.message(m.id).await.unwrap().unwrap().reactions,
        ch.value.reactions
    );

    // c takes theirs back, then adds it again: now after a. 👍 keeps its
    // place all along, as someone held it all along.
    let ch = s.toggle_reaction(m.id, c, "👍").await.unwrap();
    assert_eq!(
        view(&ch),
        vec![(up.clone(), 1, vec![a]), (party.clone(), 1, vec![b])]
    );
    let ch = s.toggle_reaction(m.id, c, "👍").await.unwrap();
    assert_eq!(
        view(&ch),
        vec![(up.clone(), 2, vec![a, c]), (party.clone(), 1, vec![b])]
    );

    // Nobody holds 🎉 any more: it is omitted; added again, it comes last.
    let ch = s.toggle_reaction(m.id, b, "🎉").await.unwrap();
    assert_eq!(view(&ch), vec![(up.clone(), 2, vec![a, c])]);
    assert_eq!(ch.event_seq, 7);
    s.toggle_reaction(m.id, a, "👍").await.unwrap();
    s.toggle_reaction(m.id, c, "👍").await.unwrap();
    s.toggle_reaction(m.id, b, "🎉").await.unwrap();
    let ch = s.toggle_reaction(m.id, a, "👍").await.unwrap();
    assert_eq!(view(&ch), vec![(party, 1, vec![b]), (up, 1, vec![a])]);
    let page = s.history(r.id, PageAt::Newest, 10).await.unwrap();
    assert_eq!(page.messages[0].reactions, ch.value.reactions);
    assert!(matches!(
        s.toggle_reaction(Id(999_999), a, "👍").await.unwrap_err(),
        Error::NotFound(_)
    ));
}

async fn history_pages_cover_every_message_once(s: S) {
    const N: i64 = 300;
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "long", false).await;
    for i in 1..=N {
        post(&s, r.id, alice.user.id, &format!("m{i}")).await;
    }
    let newest = s.history(r.id, PageAt::Newest, 50).await.unwrap();
    assert_eq!(seqs(&newest.messages), (251..=N).collect::<Vec<_>>());
    assert!(newest.has_more);

    // Backwards from the newest page to the start.
    let mut seen = seqs(&newest.messages);
    let mut page = newest;
    while page.has_more {
        let first = page.messages[0].seq;
        page = s.history(r.id, PageAt::Before(first), 70).await.unwrap();
        assert!(
            page.messages.windows(2).all(|w| w[0].seq < w[1].seq),
            "oldest first"
        );
        assert!(page.messages.last().unwrap().seq < first);
        let mut older = seqs(&page.messages);
        older.extend(seen);
        seen = older;
    }
    assert_eq!(seen, (1..=N).collect::<Vec<_>>());

    // Forwards from the start to the end.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = s.history(r.id, PageAt::After(after), 64).await.unwrap();
        seen.extend(seqs(&page.messages));
        let Some(last) = page.messages.last() else {
            break;
        };
        after = last.seq;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, (1..=N).collect::<Vec<_>>());
    assert_eq!(seen.len(), N as usize);
    let contents: Vec<String> = s
        .history(r.id, PageAt::After(297), 10)
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["m298", "m299", "m300"]);

    // Edges: empty pages, and limits kept within 1..=100.
    let end = s.history(r.id, PageAt::After(N), 10).await.unwrap();
    assert!(end.messages.is_empty() && !end.has_more);
    let start = s.history(r.id, PageAt::Before(1), 10).await.unwrap();
    assert!(start.messages.is_empty() && !start.has_more);
    let exact = s.history(r.id, PageAt::Before(11), 10).await.unwrap();
    assert_eq!((exact.messages.len(), exact.has_more), (10, false));
    assert_eq!(
        s.history(r.id, PageAt::Newest, 0)
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
    assert_eq!(
        s.history(r.id, PageAt::Newest, 10_000)
            .await
            .unwrap()
            .messages
            .len(),
        100
    );
}

async fn events_after_replays_exact_payloads(s: S) {
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    let posted = post(&s, r.id, alice.user.id, "hello").await;
    let edited = s
        .edit_message(posted.id, "hello!".into(), vec![])
        .await
        .unwrap();
    let reacted = s
        .toggle_reaction(posted.id, alice.user.id, "👍")
        .await
        .unwrap();
    let deleted = s.delete_message(posted.id).await.unwrap();

    let log = events(s.events_after(r.id, 0, 500).await.unwrap());
    let names: Vec<&str> = log.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "message:new",
            "message:updated",
            "message:reactions",
            "message:deleted"
        ]
    );
    assert_eq!(
        log.iter().map(|e| e.event_seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(log.iter().all(|e| e.room_id == r.id));

    let change = |m: &Message, seq| {
        serde_json::to_value(payload::MessageChange {
            message: m.clone(),
            event_seq: seq,
        })
        .unwrap()
    };
    // The live payloads, except that what is gone stays gone: the edit and
    // the delete rewrote the message's earlier payloads to its current state
    // (tests/hardening.rs has the details).
    assert_eq!(edited.value.content, "hello!");
    assert_eq!(posted.content, "hello");
    assert_eq!(log[0].data(), change(&deleted.value, 1));
    assert_eq!(log[1].data(), change(&deleted.value, 2));
    assert_eq!(
        log[2].data(),
        serde_json::to_value(payload::MessageReactions {
            message_id: posted.id,
            room_id: r.id,
            reactions: reacted.value.reactions.clone(),
            event_seq: 3,
        })
        .unwrap()
    );
    assert_eq!(deleted.event_seq, 4);
    assert_eq!(
        log[3].data(),
        json!({"messageId": posted.id.to_string(), "roomId": r.id.to_string(), "eventSeq": 4})
    );
    // The wire shape, spelled out: camelCase, ids as strings, eventSeq merged in.
    let d = &log[0].data();
    assert_eq!(d["id"], json!(posted.id.to_string()));
    assert_eq!(d["roomId"], json!(r.id.to_string()));
    assert_eq!(
        (d["seq"].clone(), d["eventSeq"].clone(), d["type"].clone()),
        (json!(1), json!(1), json!("text"))
    );
    assert_eq!(d["user"]["username"], json!("alice"));
    assert_eq!(
        log[2].data()["reactions"],
        json!([{"emoji": "👍", "count": 1, "userIds": [alice.user.id.to_string()]}])
    );

    assert_eq!(
        events(s.events_after(r.id, 2, 500).await.unwrap())
            .iter()
            .map(|e| e.event_seq)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(events(s.events_after(r.id, 4, 500).await.unwrap()).is_empty());
    assert_eq!(
        events(s.events_after(r.id, 1, 3).await.unwrap()).len(),
        3,
        "exactly max is fine"
    );
    assert!(matches!(
        s.events_after(r.id, 0, 3).await.unwrap(),
        Catchup::Reset
    ));
    assert!(events(s.events_after(Id(999_999), 0, 3).await.unwrap()).is_empty());
}

// ---- read cursors ----

async fn unread_counts_skip_own_and_deleted(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &alice, "general", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    let mut mention = msg(r.id, alice.user.id, "hey @bob");
    mention.mentions = vec![bob.user.id];
    s.post_message(mention).await.unwrap();
    let plain = post(&s, r.id, alice.user.id, "two").await;
    post(&s, r.id, alice.user.id, "three").await;
    let mut mention2 = msg(r.id, alice.user.id, "@bob again");
    mention2.mentions = vec![bob.user.id];
    let mention2 = s.post_message(mention2).await.unwrap().message;

    let counts = |who: Id| {
        let s = s.clone();
        async move {
            let c = s.unread(r.id, who).await.unwrap();
            assert_eq!(c.room_id, r.id);
            (c.unread, c.mentions)
        }
    };
    assert_eq!(counts(bob.user.id).await, (4, 2));
    assert_eq!(
        counts(alice.user.id).await,
        (0, 0),
        "own messages never count"
    );
    s.delete_message(plain.id).await.unwrap();
    s.delete_message(mention2.id).await.unwrap();
    assert_eq!(
        counts(bob.user.id).await,
        (2, 1),
        "deleted messages do not count"
    );
    let listed = s.rooms_of(bob.user.id).await.unwrap();
    assert_eq!((listed[0].unread, listed[0].mentions), (2, 1));
    let seen = s.room(r.id, bob.user.id).await.unwrap().unwrap();
    assert_eq!((seen.unread, seen.mentions), (2, 1));

    assert!(s.mark_read(r.id, bob.user.id, 1).await.unwrap());
    assert_eq!(counts(bob.user.id).await, (1, 0));
    post(&s, r.id, bob.user.id, "caught up").await;
    assert_eq!(
        counts(bob.user.id).await,
        (0, 0),
        "sending moves the cursor"
    );
    let carol = user(&s, "carol").await;
    assert_eq!(counts(carol.user.id).await, (0, 0), "not a member");
}

async fn mark_read_never_moves_backwards(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &alice, "general", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    for i in 0..6 {
        post(&s, r.id, alice.user.id, &format!("m{i}")).await;
    }
    assert!(s.mark_read(r.id, bob.user.id, 5).await.unwrap());
    assert!(!s.mark_read(r.id, bob.user.id, 3).await.unwrap());
    assert!(!s.mark_read(r.id, bob.user.id, 5).await.unwrap());
    assert_eq!(s.unread(r.id, bob.user.id).await.unwrap().unread, 1);
    let cursor = s
        .members(r.id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user.id == bob.user.id)
        .unwrap();
    assert_eq!(cursor.last_read_seq, 5);
    assert!(s.mark_read(r.id, bob.user.id, 6).await.unwrap());
    assert!(
        !s.mark_read(r.id, Id(999_999), 6).await.unwrap(),
        "not a member"
    );
}

async fn mentions_resolve_to_members(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let carol = user(&s, "carol").await;
    user(&s, "dave").await;
    let r = room(&s, &alice, "general", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    s.add_member(r.id, carol.user.id, Role::Member)
        .await
        .unwrap();

    let names: Vec<String> = ["bob", "DAVE", "alice", "nobody"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        s.resolve_mentions(r.id, alice.user.id, &names, false)
            .await
            .unwrap(),
        vec![bob.user.id]
    );
    assert_eq!(
        s.resolve_mentions(r.id, alice.user.id, &[], true)
            .await
            .unwrap(),
        vec![bob.user.id, carol.user.id]
    );
    assert_eq!(
        s.resolve_mentions(r.id, bob.user.id, &names, true)
            .await
            .unwrap(),
        vec![alice.user.id, carol.user.id]
    );
    assert!(s
        .resolve_mentions(r.id, alice.user.id, &[], false)
        .await
        .unwrap()
        .is_empty());
}

async fn uploads_round_trip(s: S) {
    let ana = user(&s, "ana").await;
    let r = room(&s, &ana, "files", false).await;
    let up = s
        .create_upload(NewUpload {
            room_id: r.id,
            user_id: ana.user.id,
            name: "cat.png".into(),
            content_type: "image/png".into(),
            size: 1234,
            width: Some(40),
            height: Some(30),
            has_thumbnail: true,
            storage_key: "k1".into(),
            etag: "e1".into(),
        })
        .await
        .unwrap();
    let got = s.upload(up.id).await.unwrap().unwrap();
    assert_eq!(got, up);
    assert_eq!(
        (got.room_id, got.user_id, got.size),
        (r.id, ana.user.id, 1234)
    );
    assert_eq!(
        (got.width, got.height, got.has_thumbnail),
        (Some(40), Some(30), true)
    );
    assert!(s.upload(Id(999_999)).await.unwrap().is_none());
    let err = s
        .create_upload(NewUpload {
            room_id: Id(999_999),
            user_id: ana.user.id,
            name: "x".into(),
            content_type: "text/plain".into(),
            size: 1,
            width: None,
            height: None,
            has_thumbnail: false,
            storage_key: "k2".into(),
            etag: "e2".into(),
        })
        .await;
    assert!(err.is_err(), "an upload needs a real room");
    assert_eq!(
        (
            got.storage_key.as_str(),
            got.etag.as_str(),
            got.message_id,
            got.gone
        ),
        ("k1", "e1", None, false)
    );
}

async fn new_upload(s: &S, room: Id, user: Id, size: i64) -> natter_store::Upload {
    s.create_upload(NewUpload {
        room_id: room,
        user_id: user,
        name: "f.txt".into(),
        content_type: "text/plain".into(),
        size,
        width: None,
        height: None,
        has_thumbnail: false,
        storage_key: format!("key-{size}"),
        etag: "e".into(),
    })
    .await
    .unwrap()
}

fn with_file(room: Id, user: Id, upload: Id) -> NewMessage {
    let mut m = msg(room, user, "");
    m.kind = MessageType::File;
    m.file_url = Some(natter_core::files::file_url(upload));
    m
}

async fn upload_lifecycle(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &ana, "files", false).await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    let (a, b) = (ana.user.id, bob.user.id);
    let sent = new_upload(&s, r.id, a, 10).await;
    let unsent = new_upload(&s, r.id, a, 20).await;

    // Sending links the upload to the message, once.
    let m = s
        .post_message(with_file(r.id, a, sent.id))
        .await
        .unwrap()
        .message;
    assert_eq!(
        s.upload(sent.id).await.unwrap().unwrap().message_id,
        Some(m.id)
    );
    let again = s.post_message(with_file(r.id, a, sent.id)).await;
    assert!(matches!(again, Err(Error::Invalid(_))), "{again:?}");
    let theirs = s.post_message(with_file(r.id, b, unsent.id)).await;
    assert!(
        matches!(theirs, Err(Error::Invalid(_))),
        "only the uploader's"
    );
    let after = s.room(r.id, a).await.unwrap().unwrap();
    assert_eq!(after.last_seq, m.seq, "refused sends store nothing");

    // Quota counts what was uploaded since a time.
    let long_ago = natter_store::now() - time::Duration::days(1);
    assert_eq!(s.uploaded_bytes_since(a, long_ago).await.unwrap(), 30);
    assert_eq!(s.uploaded_bytes_since(b, long_ago).await.unwrap(), 0);
    let later = natter_store::now() + time::Duration::seconds(5);
    assert_eq!(s.uploaded_bytes_since(a, later).await.unwrap(), 0);

    // The sweeper claims the unsent upload only (not the sent one), and once
    // claimed it can no longer be sent.
    let none = s.claim_expired_uploads(long_ago, 10).await.unwrap();
    assert!(none.is_empty(), "nothing is old enough: {none:?}");
    let claimed = s.claim_expired_uploads(later, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|u| u.id).collect::<Vec<_>>(),
        [unsent.id]
    );
    assert!(claimed[0].gone);
    let late = s.post_message(with_file(r.id, a, unsent.id)).await;
    assert!(matches!(late, Err(Error::Invalid(_))), "{late:?}");
    // Claimed again until forgotten (a removal that failed is retried).
    assert_eq!(s.claim_expired_uploads(later, 10).await.unwrap().len(), 1);
    s.forget_upload(unsent.id).await.unwrap();
    assert!(s.upload(unsent.id).await.unwrap().is_none());
    assert!(s.claim_expired_uploads(later, 10).await.unwrap().is_empty());
    // A sent upload is never forgotten by mistake.
    s.forget_upload(sent.id).await.unwrap();
    assert!(s.upload(sent.id).await.unwrap().is_some());

    // Deleting the message makes its upload gone at once; removing it
    // hands it over for its bytes.
    s.delete_message(m.id).await.unwrap();
    assert!(s.upload(sent.id).await.unwrap().unwrap().gone);
    let removed = s.remove_uploads_of_message(m.id).await.unwrap();
    assert_eq!(removed.iter().map(|u| u.id).collect::<Vec<_>>(), [sent.id]);
    s.forget_upload(sent.id).await.unwrap();
    assert!(s.upload(sent.id).await.unwrap().is_none());

    // A deleted message's upload whose removal never ran: the sweeper finds it.
    let third = new_upload(&s, r.id, a, 30).await;
    let m3 = s
        .post_message(with_file(r.id, a, third.id))
        .await
        .unwrap()
        .message;
    assert!(s.claim_expired_uploads(later, 10).await.unwrap().is_empty());
    s.delete_message(m3.id).await.unwrap();
    let found = s.claim_expired_uploads(long_ago, 10).await.unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [third.id]);
}

async fn joining_starts_with_history_read(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &ana, "busy", false).await;
    for i in 0..5 {
        post(&s, r.id, ana.user.id, &format!("old {i}")).await;
    }
    assert!(s.add_member(r.id, bob.user.id, Role::Member).await.unwrap());
    assert_eq!(s.unread(r.id, bob.user.id).await.unwrap().unread, 0);
    post(&s, r.id, ana.user.id, "new").await;
    assert_eq!(s.unread(r.id, bob.user.id).await.unwrap().unread, 1);
    let bob_m = s
        .members(r.id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user.id == bob.user.id)
        .unwrap();
    assert_eq!(bob_m.last_read_seq, 5);
}

// ---- opening stores ----

#[tokio::test]
async fn sqlite_creates_its_folder_and_file() {
    let dir = std::env::temp_dir().join(format!("natter_t_dir_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}", dir.join("nested/natter.db").display());
    natter_store::migrate(&url).await.unwrap();
    let s = natter_store::connect(&url).await.unwrap();
    s.ping().await.unwrap();
    user(&s, "alice").await;
    drop(s);
    let s = natter_store::connect(&format!(
        "sqlite:{}",
        dir.join("nested/natter.db").display()
    ))
    .await
    .unwrap();
    assert!(
        s.credentials("alice").await.unwrap().is_some(),
        "data survives reopening"
    );
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let s = natter_store::connect("sqlite::memory:").await.unwrap();
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    assert_eq!(post(&s, r.id, alice.user.id, "hi").await.seq, 1);
}

#[tokio::test]
async fn unknown_schemes_are_refused() {
    let err = natter_store::connect("mysql://localhost/x")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}

// ---- search (issue 10) ----

use natter_core::search::{self as sq, Sort};
use natter_store::SearchRequest;

/// A search as the server runs it, operators given as ids.
fn request(user: &Me, q: &str) -> SearchRequest {
    let parsed = sq::parse(q).unwrap();
    let (since, until) = parsed.span();
    SearchRequest {
        user: user.user.id,
        rooms: None,
        from: None,
        terms: parsed.terms,
        excluded: parsed.excluded,
        has: parsed.has,
        since,
        until,
        sort: Sort::Relevance,
        limit: 50,
        cursor: None,
    }
}

/// The contents found, best first.
async fn found(s: &S, user: &Me, q: &str) -> Vec<String> {
    found_by(s, request(user, q)).await
}

async fn found_by(s: &S, req: SearchRequest) -> Vec<String> {
    s.search(req)
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.content)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| (*s).to_owned()).collect())
}

/// alice in a room "general" with some messages.
async fn searchable(s: &S, texts: &[&str]) -> (Me, Room) {
    let alice = user(s, "alice").await;
    let r = room(s, &alice, "general", false).await;
    for t in texts {
        post(s, r.id, alice.user.id, t).await;
    }
    (alice, r)
}

async fn search_folds_accents_and_case(s: S) {
    let texts = [
        "Meet at the Café",
        "CAFE OLE",
        "Reunión mañana",
        "1 Ångström",
        "nothing",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    for q in ["cafe", "café", "CAFÉ", "Cafe"] {
        assert_eq!(
            sorted(found(&s, &alice, q).await),
            strs(&["CAFE OLE", "Meet at the Café"]),
            "{q}"
        );
    }
    for q in ["reunion", "REUNIÓN", "reunión"] {
        assert_eq!(found(&s, &alice, q).await, ["Reunión mañana"], "{q}");
    }
    for q in ["angstrom", "ÅNGSTRÖM"] {
        assert_eq!(found(&s, &alice, q).await, ["1 Ångström"], "{q}");
    }
    assert!(found(&s, &alice, "mananas").await.is_empty());
}

async fn search_finds_longer_words_a_word_starts(s: S) {
    let texts = [
        "we deployed it",
        "the deployment is done",
        "redeploy later",
        "Deploy now",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(
        sorted(found(&s, &alice, "deploy").await),
        strs(&["Deploy now", "the deployment is done", "we deployed it"])
    );
    assert_eq!(
        found(&s, &alice, "deployment").await,
        ["the deployment is done"]
    );
    // Short words are not dropped.
    assert_eq!(found(&s, &alice, "it").await, ["we deployed it"]);
}

async fn search_finds_cjk_words_inside_sentences(s: S) {
    let texts = [
        "明日の会議は東京で行います",
        "京都に行きます",
        "Tokyo meeting",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(
        found(&s, &alice, "東京").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        found(&s, &alice, "会議").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        found(&s, &alice, "東京で行").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        sorted(found(&s, &alice, "行きます").await),
        strs(&["京都に行きます"])
    );
    // One character finds it anywhere in a run, the last one included.
    assert_eq!(
        sorted(found(&s, &alice, "京").await),
        strs(&["京都に行きます", "明日の会議は東京で行います"])
    );
    assert_eq!(
        sorted(found(&s, &alice, "す").await),
        strs(&["京都に行きます", "明日の会議は東京で行います"])
    );
    assert!(found(&s, &alice, "東都").await.is_empty());
    assert!(found(&s, &alice, "大阪").await.is_empty());
}

async fn search_finds_identifiers_and_url_parts(s: S) {
    let texts = [
        "Fix PLT-3699 today",
        "see https://github.com/natter/natter/issues/42 please",
        "PLT-1234 is older",
        "snake_case_name here",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(found(&s, &alice, "PLT-3699").await, ["Fix PLT-3699 today"]);
    assert_eq!(found(&s, &alice, "3699").await, ["Fix PLT-3699 today"]);
    assert_eq!(found(&s, &alice, "plt").await.len(), 2);
    let url = ["see https://github.com/natter/natter/issues/42 please"];
    assert_eq!(found(&s, &alice, "github").await, url);
    assert_eq!(found(&s, &alice, "issues/42").await, url);
    assert_eq!(found(&s, &alice, "github.com").await, url);
    assert_eq!(found(&s, &alice, "case").await, ["snake_case_name here"]);
}

async fn search_covers_rooms_of_members_now(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let mine = room(&s, &alice, "mine", false).await;
    let public = room(&s, &bob, "public", false).await;
    let private = room(&s, &bob, "private", true).await;
    let (dm, _) = s.dm_room(alice.user.id, bob.user.id).await.unwrap();
    s.add_member(mine.id, bob.user.id, Role::Member)
        .await
        .unwrap();
    for (r, t) in [
        (mine.id, "banana in mine"),
        (public.id, "banana in public"),
        (private.id, "banana in private"),
        (dm.id, "banana in the dm"),
    ] {
        post(&s, r, bob.user.id, t).await;
    }
    assert_eq!(
        sorted(found(&s, &alice, "banana").await),
        strs(&["banana in mine", "banana in the dm"])
    );
    assert_eq!(found(&s, &bob, "banana").await.len(), 4);
    // Every token is indexed under its room (`r12·banana`), but the room is never a word.
    for q in [
        format!("r{}", mine.id),
        format!("#{}", mine.id),
        format!("-r{} banana", dm.id),
    ] {
        let n = found(&s, &bob, &q).await.len();
        assert_eq!(n, if q.starts_with('-') { 4 } else { 0 }, "{q}");
    }
    s.remove_member(mine.id, alice.user.id).await.unwrap();
    assert_eq!(found(&s, &alice, "banana").await, ["banana in the dm"]);
    s.add_member(public.id, alice.user.id, Role::Member)
        .await
        .unwrap();
    assert_eq!(
        sorted(found(&s, &alice, "banana").await),
        strs(&["banana in public", "banana in the dm"])
    );
    // A scope inside the caller's rooms; a room they are not in finds nothing.
    let mut req = request(&alice, "banana");
    req.rooms = Some(vec![dm.id, private.id]);
    assert_eq!(found_by(&s, req).await, ["banana in the dm"]);
}

/// The index is by room, so a search ORs every term over the searcher's rooms:
/// a scope of hundreds of rooms must still find (and exclude, and rank) across
/// all of them, the first and the last alike.
async fn search_spans_hundreds_of_rooms(s: S) {
    let alice = user(&s, "alice").await;
    let mut rooms = Vec::new();
    for i in 0..300 {
        rooms.push(room(&s, &alice, &format!("r{i}"), false).await.id);
    }
    let (first, last) = (rooms[0], rooms[299]);
    post(&s, first, alice.user.id, "release notes for the first room").await;
    post(
        &s,
        last,
        alice.user.id,
        "release notes deployed in the last room",
    )
    .await;
    post(&s, rooms[150], alice.user.id, "notes on the release").await;
    assert_eq!(
        sorted(found(&s, &alice, "\"release notes\"").await),
        strs(&[
            "release notes deployed in the last room",
            "release notes for the first room"
        ])
    );
    assert_eq!(found(&s, &alice, "deploy").await.len(), 1);
    assert_eq!(
        sorted(found(&s, &alice, "notes -deployed").await),
        strs(&["notes on the release", "release notes for the first room"])
    );
    let mut req = request(&alice, "release");
    req.rooms = Some(vec![last]);
    assert_eq!(
        found_by(&s, req).await,
        ["release notes deployed in the last room"]
    );
    // Every word in every room: 70 words in 300 rooms is past the bound, 60 is not.
    let words = |n: usize| {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let broad = s.search(request(&alice, &words(70))).await;
    assert!(
        matches!(&broad, Err(Error::Invalid(m)) if m.contains("too broad")),
        "{broad:?}"
    );
    assert!(s
        .search(request(&alice, &words(60)))
        .await
        .unwrap()
        .messages
        .is_empty());
}

async fn search_skips_deleted_and_follows_edits(s: S) {
    let (alice, r) = searchable(&s, &[]).await;
    let m = post(&s, r.id, alice.user.id, "old text apple").await;
    post(&s, r.id, alice.user.id, "another apple").await;
    s.edit_message(m.id, "new text pear".into(), Vec::new())
        .await
        .unwrap();
    assert_eq!(found(&s, &alice, "apple").await, ["another apple"]);
    assert_eq!(found(&s, &alice, "pear").await, ["new text pear"]);
    s.delete_message(m.id).await.unwrap();
    assert!(found(&s, &alice, "pear").await.is_empty());
    assert!(found(&s, &alice, "text").await.is_empty());
    // A search by filters only skips the tombstone too.
    let mut req = request(&alice, "from:me");
    req.from = Some(vec![alice.user.id]);
    assert_eq!(found_by(&s, req).await, ["another apple"]);
}

async fn search_operators_narrow_results(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let general = room(&s, &alice, "general", false).await;
    let random = room(&s, &alice, "random", false).await;
    s.add_member(general.id, bob.user.id, Role::Member)
        .await
        .unwrap();
    post(&s, general.id, alice.user.id, "the quick fox").await;
    post(&s, general.id, bob.user.id, "quick brown fox").await;
    post(
        &s,
        random.id,
        alice.user.id,
        "a fox link https://example.com/fox",
    )
    .await;
    // attachments are uploads of the sender in that room, each sent once
    let upload = |content_type: &str, image: bool| NewUpload {
        room_id: general.id,
        user_id: bob.user.id,
        name: "f".into(),
        content_type: content_type.into(),
        size: 10,
        width: image.then_some(4),
        height: image.then_some(4),
        has_thumbnail: image,
        storage_key: format!("k-{content_type}"),
        etag: "e".into(),
    };
    let picture = s.create_upload(upload("image/png", true)).await.unwrap();
    let report = s
        .create_upload(upload("application/pdf", false))
        .await
        .unwrap();
    let mut image = msg(general.id, bob.user.id, "fox picture");
    image.kind = MessageType::Image;
    image.file_url = Some(format!("/api/files/{}", picture.id));
    s.post_message(image).await.unwrap();
    let mut file = msg(general.id, bob.user.id, "fox report");
    file.kind = MessageType::File;
    file.file_url = Some(format!("/api/files/{}", report.id));
    s.post_message(file).await.unwrap();

    assert_eq!(found(&s, &alice, "fox").await.len(), 5);
    assert_eq!(found(&s, &alice, "\"quick fox\"").await, ["the quick fox"]);
    assert_eq!(
        found(&s, &alice, "\"fox quick\"").await,
        Vec::<String>::new()
    );
    assert_eq!(
        sorted(found(&s, &alice, "fox -brown -picture -report").await),
        strs(&["a fox link https://example.com/fox", "the quick fox"])
    );
    assert_eq!(
        found(&s, &alice, "qui* -\"the quick\"").await,
        ["quick brown fox"]
    );
    assert_eq!(found(&s, &alice, "fox has:image").await, ["fox picture"]);
    assert_eq!(found(&s, &alice, "has:file").await, ["fox report"]);
    assert_eq!(
        found(&s, &alice, "has:link").await,
        ["a fox link https://example.com/fox"]
    );
    let mut req = request(&alice, "fox");
    req.from = Some(vec![bob.user.id]);
    assert_eq!(found_by(&s, req).await.len(), 3);
    let mut req = request(&alice, "fox");
    req.rooms = Some(vec![random.id]);
    assert_eq!(
        found_by(&s, req).await,
        ["a fox link https://example.com/fox"]
    );
    // Filters only, exclusions among them.
    let mut req = request(&alice, "-fox");
    req.from = Some(vec![alice.user.id]);
    assert!(found_by(&s, req).await.is_empty());

    let today = time::OffsetDateTime::now_utc().date();
    let (yesterday, tomorrow) = (today.previous_day().unwrap(), today.next_day().unwrap());
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    for (q, n) in [
        (format!("fox on:{}", day(today)), 5),
        (format!("fox after:{}", day(yesterday)), 5),
        (format!("fox before:{}", day(tomorrow)), 5),
        (format!("fox on:{}", day(yesterday)), 0),
        (format!("fox after:{}", day(today)), 0),
        (format!("fox before:{}", day(today)), 0),
    ] {
        assert_eq!(found(&s, &alice, &q).await.len(), n, "{q}");
    }
}

async fn search_ranks_and_pages_every_match_once(s: S) {
    let (alice, r) = searchable(&s, &[]).await;
    let weak = post(
        &s,
        r.id,
        alice.user.id,
        "kiwi and a great many other words that make this message long and dilute it",
    )
    .await;
    let strong = post(&s, r.id, alice.user.id, "kiwi kiwi kiwi").await;
    let hits = s.search(request(&alice, "kiwi")).await.unwrap().messages;
    assert_eq!(
        hits.iter().map(|m| m.id).collect::<Vec<_>>(),
        [strong.id, weak.id]
    );
    let mut newest = request(&alice, "kiwi");
    newest.sort = Sort::Newest;
    let hits = s.search(newest).await.unwrap().messages;
    assert_eq!(
        hits.iter().map(|m| m.id).collect::<Vec<_>>(),
        [strong.id, weak.id]
    );

    // Equal ranks: newer first. Pages cover every match once, whatever is
    // sent while paging.
    let mut same = Vec::new();
    let mut meanwhile = Vec::new();
    for i in 0..23 {
        same.push(
            post(&s, r.id, alice.user.id, &format!("mango number {i}"))
                .await
                .id,
        );
    }
    for sort in [Sort::Relevance, Sort::Newest] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let mut req = request(&alice, "mango");
            req.sort = sort;
            req.limit = 5;
            req.cursor = cursor;
            let page = s.search(req).await.unwrap();
            assert!(page.messages.len() <= 5);
            seen.extend(page.messages.iter().map(|m| m.id));
            pages += 1;
            if pages == 2 {
                meanwhile.push(
                    post(&s, r.id, alice.user.id, "mango sent meanwhile")
                        .await
                        .id,
                );
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut expected = same.clone();
        // Sent while an earlier search paged: part of this one.
        expected.extend(&meanwhile[..meanwhile.len() - 1]);
        expected.reverse();
        assert_eq!(pages, expected.len().div_ceil(5), "{sort:?}");
        assert_eq!(seen, expected, "{sort:?}: every match once, newest first");
    }
}

async fn history_around_centres_on_a_message(s: S) {
    let (alice, r) = searchable(&s, &[]).await;
    for i in 1..=20 {
        post(&s, r.id, alice.user.id, &format!("m{i}")).await;
    }
    let page = s.history_around(r.id, 10, 5).await.unwrap();
    assert_eq!(seqs(&page.messages), [8, 9, 10, 11, 12]);
    assert!(page.has_more_before && page.has_more_after);
    // At either end, the other side fills the page.
    let page = s.history_around(r.id, 1, 5).await.unwrap();
    assert_eq!(seqs(&page.messages), [1, 2, 3, 4, 5]);
    assert!(!page.has_more_before && page.has_more_after);
    let page = s.history_around(r.id, 20, 6).await.unwrap();
    assert_eq!(seqs(&page.messages), [15, 16, 17, 18, 19, 20]);
    assert!(page.has_more_before && !page.has_more_after);
    let page = s.history_around(r.id, 19, 1).await.unwrap();
    assert_eq!(seqs(&page.messages), [19]);
    assert!(page.has_more_before && page.has_more_after);
    let page = s.history_around(r.id, 3, 40).await.unwrap();
    assert_eq!(page.messages.len(), 20);
    assert!(!page.has_more_before && !page.has_more_after);
}

/// Messages stored before search existed (search_text NULL, as after the
/// migration) are indexed when the store opens.
async fn backfill_indexes_old_messages(db: natter_store::testing::TestDb) {
    let store = natter_store::connect(&db.url).await.unwrap();
    let (alice, _) = searchable(&store, &["old plum message", "old link https://x.org"]).await;
    let more: Vec<String> = (0..1200).map(|i| format!("filler {i}")).collect();
    let r = room(&store, &alice, "filler", false).await;
    for t in &more {
        post(&store, r.id, alice.user.id, t).await;
    }
    drop(store);
    {
        use sqlx::Connection;
        let sql = "UPDATE messages SET search_text = NULL, has_link = FALSE";
        if db.url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
    let store = natter_store::connect(&db.url).await.unwrap();
    assert_eq!(found(&store, &alice, "plum").await, ["old plum message"]);
    assert_eq!(
        found(&store, &alice, "has:link").await,
        ["old link https://x.org"]
    );
    assert_eq!(found(&store, &alice, "filler").await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backfills_search() {
    backfill_indexes_old_messages(natter_store::testing::TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backfills_search() {
    backfill_indexes_old_messages(natter_store::testing::TestDb::postgres().await).await;
}
