//! Messages one at a time: posting (idempotent by clientId, replies, the
//! sender's cursor), edits, deletes (tombstones) and reactions.

use natter_core::{Error, Id, MessageType, Role};
use natter_store::PageAt;

use crate::support::{events, last_read_seq, msg, post, room, seqs, user, S};

on_both!(
    post_is_idempotent_by_client_id,
    edit_keeps_seq_and_takes_next_event_seq,
    delete_leaves_a_tombstone,
    reactions_toggle_in_order,
);

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
    assert_eq!(last_read_seq(&s, r.id, bob.user.id).await, reply.seq);
    assert_eq!(last_read_seq(&s, r.id, alice.user.id).await, 1);

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
