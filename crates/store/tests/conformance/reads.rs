//! Read cursors and mentions: unread counts, cursors that never move
//! back, mentions resolved to members, and joining with history read.

use natter_core::{Id, Role};

use crate::support::{last_read_seq, msg, post, room, user, S};

on_both!(
    unread_counts_skip_own_and_deleted,
    mark_read_never_moves_backwards,
    mentions_resolve_to_members,
    joining_starts_with_history_read,
);

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
    assert_eq!(last_read_seq(&s, r.id, bob.user.id).await, 5);
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
    assert_eq!(last_read_seq(&s, r.id, bob.user.id).await, 5);
}
