//! Direct-message rooms: one per pair, whichever side asks, even when both
//! ask at once.

use std::collections::BTreeSet;

use natter_core::{Error, Id, Role};

use crate::support::{user, S};

on_both!(dm_room_is_reused_both_ways, dm_room_race_makes_one_room);

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
