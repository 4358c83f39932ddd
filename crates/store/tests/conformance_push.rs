//! Conformance of notification levels and Web Push subscriptions (issue 11):
//! every test runs against SQLite and PostgreSQL, each on a fresh database.
//! (Its own file so the main suite's list stays untouched by this feature.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use natter_core::{Error, Id, Me, NotificationLevel, Role, Room};
use natter_store::{NewPushSubscription, NewRoom, Notified};

#[macro_use]
mod support;

use support::{user, S};

on_both!(
    levels_default_by_kind_and_can_be_set,
    levels_of_members_only,
    notify_targets_follow_levels,
    subscriptions_are_idempotent_and_move_to_the_newest_user,
    subscriptions_are_capped_per_user,
    subscriptions_delete_only_own_and_prune_any,
);

async fn room(s: &S, owner: &Me, name: &str) -> Room {
    s.create_room(NewRoom {
        name: name.to_owned(),
        description: String::new(),
        is_private: false,
        created_by: owner.user.id,
    })
    .await
    .unwrap()
}

fn sub(user: &Me, endpoint: &str) -> NewPushSubscription {
    NewPushSubscription {
        user_id: user.user.id,
        endpoint: endpoint.to_owned(),
        p256dh: format!("p256dh-of-{}", user.user.username),
        auth: "auth".to_owned(),
    }
}

async fn levels_default_by_kind_and_can_be_set(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    let r = room(&s, &ana, "general").await;
    assert_eq!(
        r.notifications,
        NotificationLevel::Mentions,
        "rooms default to mentions"
    );
    let (dm, _) = s.dm_room(ana.user.id, bob.user.id).await.unwrap();
    assert_eq!(
        dm.notifications,
        NotificationLevel::All,
        "DMs default to all"
    );

    assert!(s
        .set_notification_level(r.id, ana.user.id, NotificationLevel::None)
        .await
        .unwrap());
    assert!(s
        .set_notification_level(dm.id, ana.user.id, NotificationLevel::Mentions)
        .await
        .unwrap());
    let seen = s.room(r.id, ana.user.id).await.unwrap().unwrap();
    assert_eq!(seen.notifications, NotificationLevel::None);
    let mine = s.rooms_of(ana.user.id).await.unwrap();
    let level = |id: Id| mine.iter().find(|x| x.id == id).unwrap().notifications;
    assert_eq!(level(r.id), NotificationLevel::None);
    assert_eq!(level(dm.id), NotificationLevel::Mentions);
    // Bob's levels are his own.
    let bobs = s.room(dm.id, bob.user.id).await.unwrap().unwrap();
    assert_eq!(bobs.notifications, NotificationLevel::All);

    // Not a member: nothing stored.
    assert!(!s
        .set_notification_level(r.id, bob.user.id, NotificationLevel::All)
        .await
        .unwrap());
    assert_eq!(
        s.role_of(r.id, bob.user.id).await.unwrap(),
        None,
        "setting a level never makes a member"
    );
}

async fn levels_of_members_only(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    let cy = user(&s, "cy").await;
    let r = room(&s, &ana, "general").await;
    s.add_member(r.id, bob.user.id, Role::Member).await.unwrap();
    s.set_notification_level(r.id, bob.user.id, NotificationLevel::All)
        .await
        .unwrap();
    let got = s
        .notification_levels(r.id, &[ana.user.id, bob.user.id, cy.user.id])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            (ana.user.id, NotificationLevel::Mentions),
            (bob.user.id, NotificationLevel::All),
        ]
    );
    assert!(s.notification_levels(r.id, &[]).await.unwrap().is_empty());
}

async fn notify_targets_follow_levels(s: S) {
    let ana = user(&s, "ana").await;
    let all = user(&s, "all").await;
    let men = user(&s, "men").await;
    let mute = user(&s, "mute").await;
    let outsider = user(&s, "outsider").await;
    let r = room(&s, &ana, "general").await;
    for (u, level) in [
        (&all, NotificationLevel::All),
        (&men, NotificationLevel::Mentions),
        (&mute, NotificationLevel::None),
    ] {
        s.add_member(r.id, u.user.id, Role::Member).await.unwrap();
        s.set_notification_level(r.id, u.user.id, level)
            .await
            .unwrap();
    }
    // No mention: only `all`, never the author.
    assert_eq!(
        s.notify_targets(r.id, ana.user.id, &[]).await.unwrap(),
        vec![all.user.id]
    );
    // Everyone mentioned (as @room does): `all` and `mentions`, never `none`,
    // never the author, never a non-member.
    let everyone = [
        ana.user.id,
        all.user.id,
        men.user.id,
        mute.user.id,
        outsider.user.id,
    ];
    assert_eq!(
        s.notify_targets(r.id, ana.user.id, &everyone)
            .await
            .unwrap(),
        vec![all.user.id, men.user.id]
    );
    // A mention list bigger than one statement's binds (as `@room` in a big room).
    let many: Vec<Id> = (1..=1200).map(Id).collect();
    assert_eq!(
        s.notify_targets(r.id, ana.user.id, &many).await.unwrap(),
        vec![all.user.id, men.user.id]
    );
    assert_eq!(
        s.notification_levels(r.id, &many).await.unwrap().len(),
        4,
        "every member, once"
    );
    // The author is left out even when their level is `all`.
    s.set_notification_level(r.id, ana.user.id, NotificationLevel::All)
        .await
        .unwrap();
    assert_eq!(
        s.notify_targets(r.id, all.user.id, &[]).await.unwrap(),
        vec![ana.user.id]
    );
    // A DM notifies the other person by default.
    let (dm, _) = s.dm_room(ana.user.id, men.user.id).await.unwrap();
    assert_eq!(
        s.notify_targets(dm.id, ana.user.id, &[]).await.unwrap(),
        vec![men.user.id]
    );
    // Several messages at once (push works out a batch together): the same
    // answers, in order, whatever the rooms and authors.
    let mentioned = [men.user.id];
    let asked = [
        Notified {
            room: r.id,
            author: ana.user.id,
            mentioned: &[],
        },
        Notified {
            room: dm.id,
            author: ana.user.id,
            mentioned: &[],
        },
        Notified {
            room: r.id,
            author: all.user.id,
            mentioned: &mentioned,
        },
        Notified {
            room: dm.id,
            author: men.user.id,
            mentioned: &everyone,
        },
    ];
    assert_eq!(
        s.notify_targets_many(&asked).await.unwrap(),
        vec![
            vec![all.user.id],
            vec![men.user.id],
            vec![ana.user.id, men.user.id],
            vec![ana.user.id],
        ]
    );
}

async fn subscriptions_are_idempotent_and_move_to_the_newest_user(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    let first = s
        .save_push_subscription(sub(&ana, "https://push.example/a"), 20)
        .await
        .unwrap();
    assert_eq!(first.user_id, ana.user.id);
    assert_eq!(first.endpoint, "https://push.example/a");
    assert_eq!(first.p256dh, "p256dh-of-ana");
    let again = s
        .save_push_subscription(sub(&ana, "https://push.example/a"), 20)
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "same endpoint, same row");
    assert_eq!(
        s.push_subscriptions_of(&[ana.user.id]).await.unwrap().len(),
        1
    );

    let moved = s
        .save_push_subscription(sub(&bob, "https://push.example/a"), 20)
        .await
        .unwrap();
    assert_eq!(moved.id, first.id);
    assert_eq!(
        moved.user_id, bob.user.id,
        "the endpoint moves to the newest user"
    );
    assert_eq!(moved.p256dh, "p256dh-of-bob", "with the new keys");
    assert!(s
        .push_subscriptions_of(&[ana.user.id])
        .await
        .unwrap()
        .is_empty());
    let both = s
        .push_subscriptions_of(&[ana.user.id, bob.user.id])
        .await
        .unwrap();
    assert_eq!(both, vec![moved]);
    assert!(s.push_subscriptions_of(&[]).await.unwrap().is_empty());
}

async fn subscriptions_are_capped_per_user(s: S) {
    let ana = user(&s, "ana").await;
    for i in 0..3 {
        s.save_push_subscription(sub(&ana, &format!("https://push.example/{i}")), 3)
            .await
            .unwrap();
    }
    let err = s
        .save_push_subscription(sub(&ana, "https://push.example/3"), 3)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert_eq!(
        s.push_subscriptions_of(&[ana.user.id]).await.unwrap().len(),
        3
    );
    // Registering one she has again is fine at the cap.
    s.save_push_subscription(sub(&ana, "https://push.example/1"), 3)
        .await
        .unwrap();
    // Many at once never pass the cap.
    let bob = user(&s, "bob").await;
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..8 {
        let s = s.clone();
        let b = sub(&bob, &format!("https://push.example/bob/{i}"));
        tries.spawn(async move { s.save_push_subscription(b, 5).await });
    }
    let results = tries.join_all().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(
        s.push_subscriptions_of(&[bob.user.id]).await.unwrap().len(),
        5
    );
}

async fn subscriptions_delete_only_own_and_prune_any(s: S) {
    let ana = user(&s, "ana").await;
    let bob = user(&s, "bob").await;
    s.save_push_subscription(sub(&ana, "https://push.example/a"), 20)
        .await
        .unwrap();
    s.save_push_subscription(sub(&bob, "https://push.example/b"), 20)
        .await
        .unwrap();
    assert!(!s
        .delete_push_subscription(ana.user.id, "https://push.example/b")
        .await
        .unwrap());
    assert_eq!(
        s.push_subscriptions_of(&[bob.user.id]).await.unwrap().len(),
        1
    );
    assert!(s
        .delete_push_subscription(ana.user.id, "https://push.example/a")
        .await
        .unwrap());
    assert!(!s
        .delete_push_subscription(ana.user.id, "https://push.example/a")
        .await
        .unwrap());
    assert!(s
        .prune_push_subscription("https://push.example/b")
        .await
        .unwrap());
    assert!(!s
        .prune_push_subscription("https://push.example/b")
        .await
        .unwrap());
    assert!(s
        .push_subscriptions_of(&[ana.user.id, bob.user.id])
        .await
        .unwrap()
        .is_empty());
}
