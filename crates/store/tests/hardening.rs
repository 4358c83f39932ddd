//! Issue 14 (hardening) on both stores: what a delete or an edit leaves in
//! the room log, the reaction cap, and revocable sessions. Every test runs
//! against SQLite and PostgreSQL, each on a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use natter_core::{Error, Id, Me, Message, MessageType, Room};
use natter_store::{NewMessage, NewRoom, NewSession, StoredSession};
use serde_json::Value;

#[macro_use]
mod support;

use support::{events as log, user, S};

on_both!(
    deleted_and_edited_text_is_gone_from_the_log,
    replies_do_not_quote_a_deleted_parent,
    at_most_20_reactions_per_user_per_message,
    sessions_are_revocable,
    password_change_revokes_other_sessions,
    credentials_lookup_is_normalised,
);

async fn room(s: &S, owner: &Me) -> Room {
    s.create_room(NewRoom {
        name: "general".into(),
        description: String::new(),
        is_private: false,
        created_by: owner.user.id,
    })
    .await
    .unwrap()
}

async fn post(s: &S, room: Id, user: Id, content: &str, reply: Option<Id>) -> Message {
    s.post_message(NewMessage {
        room_id: room,
        user_id: user,
        content: content.into(),
        kind: MessageType::Text,
        file_url: None,
        reply_to_id: reply,
        client_id: None,
        mentions: vec![],
    })
    .await
    .unwrap()
    .message
}

fn text_of(events: &[natter_core::RoomEvent]) -> String {
    events
        .iter()
        .map(|e| e.data().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn deleted_and_edited_text_is_gone_from_the_log(s: S) {
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice).await;
    let secret = post(&s, r.id, alice.user.id, "the launch code is 1234", None).await;
    let typo = post(&s, r.id, alice.user.id, "meet at the old place", None).await;
    let kept = post(&s, r.id, alice.user.id, "an untouched message", None).await;
    s.edit_message(typo.id, "meet at the new place".into(), vec![])
        .await
        .unwrap();
    s.toggle_reaction(secret.id, alice.user.id, "👍")
        .await
        .unwrap();
    let tomb = s.delete_message(secret.id).await.unwrap();

    let events = log(s.events_after(r.id, 0, 500).await.unwrap());
    // Same events, same seqs, same names: a replaying client still sees the
    // message arrive and then go.
    let names: Vec<(i64, &str)> = events.iter().map(|e| (e.event_seq, e.name())).collect();
    assert_eq!(
        names,
        [
            (1, "message:new"),
            (2, "message:new"),
            (3, "message:new"),
            (4, "message:updated"),
            (5, "message:reactions"),
            (6, "message:deleted"),
        ]
    );
    let all = text_of(&events);
    assert!(
        !all.contains("launch code"),
        "deleted text in the log: {all}"
    );
    assert!(
        !all.contains("old place"),
        "pre-edit text in the log: {all}"
    );
    assert!(all.contains("new place") && all.contains("an untouched message"));
    // The deleted message's `message:new` is its tombstone now.
    assert_eq!(events[0].data()["content"], "");
    assert_eq!(events[0].data()["id"], secret.id.to_string());
    assert_eq!(events[0].data()["eventSeq"], 1);
    assert!(events[0].data()["deletedAt"].is_string());
    assert_eq!(events[0].data()["fileUrl"], Value::Null);
    assert_eq!(events[0].data()["reactions"], serde_json::json!([]));
    assert_eq!(tomb.value.content, "");
    // The edited one's `message:new` carries the current text, its seq and eventSeq kept.
    assert_eq!(events[1].data()["content"], "meet at the new place");
    assert_eq!(events[1].data()["eventSeq"], 2);
    assert_eq!(events[1].data()["seq"], 2);
    assert_eq!(events[2].data()["id"], kept.id.to_string());
    // History agrees.
    let got = s.message(secret.id).await.unwrap().unwrap();
    assert_eq!(got.content, "");
}

async fn replies_do_not_quote_a_deleted_parent(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &alice).await;
    s.add_member(r.id, bob.user.id, natter_core::Role::Member)
        .await
        .unwrap();
    let parent = post(&s, r.id, alice.user.id, "a regrettable remark", None).await;
    let reply = post(&s, r.id, bob.user.id, "what?", Some(parent.id)).await;
    let edited_parent = post(&s, r.id, alice.user.id, "first draft", None).await;
    let reply2 = post(&s, r.id, bob.user.id, "ok", Some(edited_parent.id)).await;
    assert_eq!(
        reply.reply_to.as_ref().map(|q| q.content.as_str()),
        Some("a regrettable remark")
    );
    s.delete_message(parent.id).await.unwrap();
    s.edit_message(edited_parent.id, "final text".into(), vec![])
        .await
        .unwrap();

    let events = log(s.events_after(r.id, 0, 500).await.unwrap());
    let all = text_of(&events);
    assert!(!all.contains("regrettable"), "{all}");
    assert!(!all.contains("first draft"), "{all}");
    let reply_new = events
        .iter()
        .find(|e| e.name() == "message:new" && e.data()["id"] == reply.id.to_string())
        .unwrap();
    assert_eq!(reply_new.data()["replyTo"]["content"], "");
    assert_eq!(reply_new.data()["replyToId"], parent.id.to_string());
    assert_eq!(reply_new.data()["content"], "what?");
    let reply2_new = events
        .iter()
        .find(|e| e.name() == "message:new" && e.data()["id"] == reply2.id.to_string())
        .unwrap();
    assert_eq!(reply2_new.data()["replyTo"]["content"], "final text");
    // History shows the same.
    let got = s.message(reply.id).await.unwrap().unwrap();
    assert_eq!(got.reply_to.map(|q| q.content), Some(String::new()));
}

async fn at_most_20_reactions_per_user_per_message(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &alice).await;
    let m = post(&s, r.id, alice.user.id, "react to me", None).await;
    let emojis: Vec<String> = (0..21).map(|i| format!(":e{i}:")).collect();
    for e in &emojis[..20] {
        s.toggle_reaction(m.id, alice.user.id, e).await.unwrap();
    }
    let before = s.events_after(r.id, 0, 500).await.unwrap();
    let err = s
        .toggle_reaction(m.id, alice.user.id, &emojis[20])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    // a refused toggle takes no seq and logs nothing
    assert_eq!(
        log(s.events_after(r.id, 0, 500).await.unwrap()).len(),
        log(before).len()
    );
    // others are not affected; removing one makes room for another
    s.toggle_reaction(m.id, bob.user.id, &emojis[20])
        .await
        .unwrap();
    s.toggle_reaction(m.id, alice.user.id, &emojis[0])
        .await
        .unwrap();
    let done = s
        .toggle_reaction(m.id, alice.user.id, &emojis[20])
        .await
        .unwrap();
    let mine = done
        .value
        .reactions
        .iter()
        .filter(|r| r.user_ids.contains(&alice.user.id))
        .count();
    assert_eq!(mine, 20);
    // the message after: seq continues with no gap
    let next = post(&s, r.id, alice.user.id, "next", None).await;
    assert_eq!(next.seq, done.event_seq + 1);
}

async fn sessions_are_revocable(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    let new = |id: &str, who: &Me, exp: i64| NewSession {
        id: id.into(),
        user_id: who.user.id,
        expires_at: exp,
    };
    s.create_session(new("a1", &alice, 2_000)).await.unwrap();
    s.create_session(new("a2", &alice, 3_000)).await.unwrap();
    s.create_session(new("a3", &alice, 1_000)).await.unwrap();
    s.create_session(new("b1", &bob, 2_000)).await.unwrap();
    assert_eq!(
        s.session("a1").await.unwrap(),
        Some(StoredSession {
            user_id: alice.user.id,
            expires_at: 2_000
        })
    );
    assert_eq!(s.session("nope").await.unwrap(), None);
    assert!(s.revoke_session("a1").await.unwrap());
    assert!(!s.revoke_session("a1").await.unwrap());
    assert_eq!(s.session("a1").await.unwrap(), None);
    // prune: only what expired
    assert_eq!(s.prune_sessions(1_500).await.unwrap(), 1);
    assert_eq!(s.session("a3").await.unwrap(), None);
    assert!(s.session("a2").await.unwrap().is_some());
    s.create_session(new("a4", &alice, 5_000)).await.unwrap();
    let mut gone = s
        .revoke_sessions_of(alice.user.id, Some("a4"))
        .await
        .unwrap();
    gone.sort();
    assert_eq!(gone, ["a2"]);
    assert!(s.session("a4").await.unwrap().is_some());
    assert_eq!(
        s.revoke_sessions_of(alice.user.id, None).await.unwrap(),
        ["a4"]
    );
    assert!(s.session("b1").await.unwrap().is_some(), "bob keeps his");
    // a duplicate id is refused
    assert!(s.create_session(new("b1", &alice, 9)).await.is_err());
}

async fn password_change_revokes_other_sessions(s: S) {
    let alice = user(&s, "alice").await;
    for id in ["x1", "x2", "x3"] {
        s.create_session(NewSession {
            id: id.into(),
            user_id: alice.user.id,
            expires_at: i64::MAX,
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.password_hash(alice.user.id).await.unwrap().as_deref(),
        Some("hash-alice")
    );
    let mut gone = s
        .change_password(alice.user.id, "new-hash", Some("x2"))
        .await
        .unwrap();
    gone.sort();
    assert_eq!(gone, ["x1", "x3"]);
    assert!(s.session("x2").await.unwrap().is_some());
    assert_eq!(
        s.password_hash(alice.user.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
    let creds = s.credentials("alice").await.unwrap().unwrap();
    assert_eq!(creds.password_hash, "new-hash");
    assert_eq!(s.password_hash(Id(987_654)).await.unwrap(), None);
}

async fn credentials_lookup_is_normalised(s: S) {
    user(&s, "alice").await;
    for login in ["alice", " ALICE ", "ａｌｉｃｅ", "Alice@Example.com"] {
        assert!(
            s.credentials(login).await.unwrap().is_some(),
            "{login:?} finds alice"
        );
    }
    assert!(s.credentials("alice\u{200B}").await.unwrap().is_none());
    assert!(!s.dm_exists(Id(1), Id(2)).await.unwrap());
}
