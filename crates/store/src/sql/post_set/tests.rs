//! The set-based path on hand-made batches: what it answers is exactly what
//! is stored, and it falls back only when it must. Compiled once per backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use natter_core::{Id, Role};

use super::super::fixtures::{msg, rooms, store, users, NEW};
use super::{post, SetOutcome};
use crate::{Catchup, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_written_as_a_set_exactly_as_stored() {
    let (_db, s) = store().await;
    let users = users(&s, &["alice", "bob", "carol"]).await;
    let (alice, bob, carol) = (users[0], users[1], users[2]);
    let rooms = rooms(&s, &["general", "other"], alice).await;
    for &id in &rooms {
        s.add_member(id, bob, Role::Member).await.unwrap();
        s.add_member(id, carol, Role::Member).await.unwrap();
    }
    let (r, o) = (rooms[0], rooms[1]);
    let first = s.post_message(msg(r, carol, "first")).await.unwrap();
    let mut cid = msg(r, bob, "with a client id");
    cid.client_id = Some("c1".into());
    let earlier = s.post_message(cid.clone()).await.unwrap();

    let mut mention = msg(r, bob, "hi @alice @carol");
    mention.mentions = vec![carol, alice, carol];
    let mut reply = msg(r, alice, "a reply");
    reply.reply_to_id = Some(first.message.id);
    let mut bad_reply = msg(o, alice, "replies across rooms");
    bad_reply.reply_to_id = Some(first.message.id);
    let batch = [
        msg(o, bob, "o1"),
        mention,
        cid,
        msg(Id(999_999), bob, "nowhere"),
        reply,
        bad_reply,
        msg(o, carol, "o2"),
        msg(r, bob, "last of bob"),
    ];
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..batch.len()).collect();
        o.sort_by_key(|&i| batch[i].room_id.0);
        o
    };
    let SetOutcome::Done(results) = post(&s.pools, &batch, &order).await.unwrap() else {
        panic!("an ordinary batch fell back");
    };
    let got: Vec<Option<(i64, bool)>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|p| (p.message.seq, p.created)))
        .collect();
    // General had seqs 1 and 2: its new messages take 3, 4, 5 in arrival
    // order; other starts at 1; the replay and refusals take none.
    assert_eq!(
        got,
        [
            Some((1, true)),
            Some((3, true)),
            Some((2, false)),
            None,
            Some((4, true)),
            None,
            Some((2, true)),
            Some((5, true)),
        ]
    );
    assert!(matches!(results[3], Err(natter_core::Error::NotFound(_))));
    assert!(matches!(results[5], Err(natter_core::Error::Invalid(_))));
    assert_eq!(results[2].as_ref().unwrap().message, earlier.message);
    let mention = &results[1].as_ref().unwrap().message;
    assert_eq!(mention.mentions, vec![alice, carol]);
    assert_eq!(mention.user.name, "bob N");
    let reply = &results[4].as_ref().unwrap().message;
    assert_eq!(reply.reply_to.as_ref().unwrap().content, "first");
    assert_eq!(reply.reply_to.as_ref().unwrap().user.username, "carol");

    // Exactly what a reader gets back, and exactly what the log holds.
    for posted in results.iter().filter_map(|r| r.as_ref().ok()) {
        let m = &posted.message;
        assert_eq!(s.message(m.id).await.unwrap().as_ref(), Some(m));
    }
    let Catchup::Events(log) = s.events_after(r, 2, 100).await.unwrap() else {
        panic!("expected events");
    };
    assert_eq!(log.len(), 3);
    for (e, i) in log.iter().zip([1, 4, 7]) {
        let m = results[i].as_ref().unwrap().message.clone();
        assert_eq!((e.event_seq, e.name()), (m.seq, NEW));
        let live = natter_core::events::payload::MessageChange {
            event_seq: m.seq,
            message: m,
        };
        assert_eq!(e.data(), serde_json::to_value(live).unwrap());
    }
    // Rooms' seqs and each sender's cursor moved to their newest message.
    assert_eq!(s.room(r, bob).await.unwrap().unwrap().last_seq, 5);
    assert_eq!(s.room(o, bob).await.unwrap().unwrap().last_seq, 2);
    let cursor = |members: &[natter_core::Member], u: Id| {
        members
            .iter()
            .find(|m| m.user.id == u)
            .unwrap()
            .last_read_seq
    };
    let general = s.members(r).await.unwrap();
    assert_eq!((cursor(&general, bob), cursor(&general, alice)), (5, 4));
    let other = s.members(o).await.unwrap();
    assert_eq!((cursor(&other, bob), cursor(&other, carol)), (1, 2));
    // Mentions were stored: carol's unread mention count sees it.
    assert_eq!(s.unread(r, carol).await.unwrap().mentions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_twice_in_one_batch_falls_back_and_writes_nothing() {
    let (_db, s) = store().await;
    let (alice, r) = crate::testing::user_with_room(&s).await;
    let mut a = msg(r, alice, "a");
    a.client_id = Some("same".into());
    let batch = [msg(r, alice, "before"), a.clone(), a];
    let out = post(&s.pools, &batch, &[0, 1, 2]).await.unwrap();
    assert!(matches!(out, SetOutcome::Fallback));
    assert_eq!(s.room(r, alice).await.unwrap().unwrap().last_seq, 0);
}

/// The membership check is part of the write, on the set path and on
/// the per-message fallback alike: a non-member's message is refused
/// (`forbidden`, no seq taken) and the rest of the batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_member_is_refused_inside_the_batch() {
    let (_db, s) = store().await;
    let (alice, r) = crate::testing::user_with_room(&s).await;
    let mallory = users(&s, &["mallory"]).await[0];
    let batch = [msg(r, mallory, "let me in"), msg(r, alice, "hello")];
    let SetOutcome::Done(results) = post(&s.pools, &batch, &[0, 1]).await.unwrap() else {
        panic!("an ordinary batch fell back");
    };
    assert!(
        matches!(&results[0], Err(natter_core::Error::Forbidden(_))),
        "{:?}",
        results[0]
    );
    assert_eq!(results[1].as_ref().unwrap().message.seq, 1);

    // The fallback (a clientId twice) refuses the same way.
    let mut twice = msg(r, alice, "again");
    twice.client_id = Some("same".into());
    let batch = [twice.clone(), twice, msg(r, mallory, "still out")];
    let results = super::super::post::post_batch(&s.pools, &batch).await;
    assert!(!results[1].as_ref().unwrap().created);
    assert!(
        matches!(&results[2], Err(natter_core::Error::Forbidden(_))),
        "{:?}",
        results[2]
    );
    assert_eq!(s.room(r, alice).await.unwrap().unwrap().last_seq, 2);
    let Catchup::Events(log) = s.events_after(r, 0, 100).await.unwrap() else {
        panic!("expected events");
    };
    // Only alice's two messages were logged (`message:new` is flat).
    let authors: Vec<_> = log
        .iter()
        .map(|e| e.data()["user"]["username"].clone())
        .collect();
    assert_eq!(authors, ["alice", "alice"]);
}
