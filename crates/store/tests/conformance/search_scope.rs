//! Search: whose messages are searched (the rooms of members now, hundreds
//! of them), deletes and edits, and the operators that narrow results.

use natter_core::{Error, MessageType, Role};
use natter_store::NewUpload;

use crate::support::search::{found, found_by, request, searchable, sorted, strs};
use crate::support::{msg, post, room, user, S};

on_both!(
    search_covers_rooms_of_members_now,
    search_spans_hundreds_of_rooms,
    search_skips_deleted_and_follows_edits,
    search_operators_narrow_results,
);

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
