//! History pages and the room log `sync` replays: every message once, both
//! ways, and the exact live payloads.

use natter_core::events::payload;
use natter_core::{Id, Message};
use natter_store::{Catchup, PageAt};
use serde_json::json;

use crate::support::{events, post, room, seqs, user, S};

on_both!(
    history_pages_cover_every_message_once,
    events_after_replays_exact_payloads,
);

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
