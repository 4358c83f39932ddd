//! Uploads: the stored row, linking to one message, quotas, and the
//! sweeper's claim and forget.

use natter_core::{Error, Id, MessageType, Role};
use natter_store::{NewMessage, NewUpload};

use crate::support::{msg, room, user, S};

on_both!(uploads_round_trip, upload_lifecycle);

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
