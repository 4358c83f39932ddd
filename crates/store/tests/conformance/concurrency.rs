//! Posting under load: concurrent senders get contiguous seqs, group commits
//! across rooms, a bad post fails alone, and a clientId in flight twice
//! stores one message.

use std::collections::BTreeSet;

use natter_core::events::payload;
use natter_core::{Error, Id, Message, Role};
use natter_store::PageAt;

use crate::support::{events, msg, post, room, seqs, user, S};

on_both!(
    concurrent_senders_get_contiguous_seqs,
    many_concurrent_posts_across_rooms,
    a_bad_post_among_concurrent_ones_fails_alone,
    duplicate_client_ids_in_flight_store_one_message,
);

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
