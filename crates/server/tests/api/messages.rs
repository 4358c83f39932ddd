//! Messages: posting (clientId replays, replies), edits, deletes, history
//! pages, who may edit or delete, and bad input that stores nothing.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::common::{page_seqs, TestApp};

on_both_stores!(
    messages_and_history,
    history_pages_each_message_once,
    message_permissions,
    bad_input_stores_nothing,
);

async fn messages_and_history(app: TestApp) {
    let (ana, ana_id) = app.user("ana").await;
    let room = app.room(&ana, "General", false).await;
    let first = app.send(&ana, &room, "hello **world**").await;
    assert_eq!(first["seq"], 1);
    assert_eq!(first["type"], "text");
    assert_eq!(first["userId"], ana_id);
    assert_eq!(first["user"]["username"], "ana");
    assert_eq!(first["reactions"], json!([]));

    // A clientId replay answers 200 with the first message and stores nothing.
    let body = json!({"roomId": room, "content": "once", "clientId": "c-1"});
    let (s1, m1) = app.post("/api/messages", &ana, body.clone()).await;
    let (s2, m2) = app.post("/api/messages", &ana, body).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(m1["message"]["id"], m2["message"]["id"]);

    let (status, reply) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room, "content": "re", "replyToId": first["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["message"]["replyTo"]["id"], first["id"]);
    assert_eq!(reply["message"]["replyTo"]["user"]["username"], "ana");

    let id = first["id"].as_str().unwrap();
    let (status, edited) = app
        .patch(
            &format!("/api/messages/{id}"),
            &ana,
            json!({"content": "edited"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(edited["message"]["content"], "edited");
    assert_eq!(edited["message"]["seq"], 1, "an edit never moves a message");
    assert!(edited["message"]["editedAt"].is_string());

    let (status, gone) = app.delete(&format!("/api/messages/{id}"), &ana).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["message"]["content"], "");
    assert!(gone["message"]["deletedAt"].is_string());

    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    let seqs = page_seqs(&page);
    assert_eq!(seqs, vec![1, 2, 3], "tombstone stays, in order");
    assert_eq!(page["hasMore"], false);
    let (_, rooms) = app.get("/api/rooms", &ana).await;
    assert_eq!(
        rooms["rooms"][0]["lastSeq"], 5,
        "3 messages + edit + delete"
    );
    assert_eq!(rooms["rooms"][0]["unread"], 0, "own messages never count");
}

async fn history_pages_each_message_once(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Busy", false).await;
    for i in 0..300 {
        app.send(&ana, &room, &format!("m{i}")).await;
    }
    let mut seen = Vec::new();
    let mut url = format!("/api/messages?roomId={room}&limit=100");
    loop {
        let (status, page) = app.get(&url, &ana).await;
        assert_eq!(status, StatusCode::OK);
        let seqs = page_seqs(&page);
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "oldest first within a page"
        );
        seen.splice(0..0, seqs.iter().copied());
        if page["hasMore"] == false {
            break;
        }
        url = format!("/api/messages?roomId={room}&limit=100&before={}", seqs[0]);
    }
    assert_eq!(seen, (1..=300).collect::<Vec<i64>>());

    let mut forward: Vec<i64> = Vec::new();
    let mut after = 0;
    loop {
        let (_, page) = app
            .get(
                &format!("/api/messages?roomId={room}&after={after}&limit=70"),
                &ana,
            )
            .await;
        let seqs = page_seqs(&page);
        forward.extend(&seqs);
        if page["hasMore"] == false {
            break;
        }
        after = *seqs.last().unwrap();
    }
    assert_eq!(forward, (1..=300).collect::<Vec<i64>>());

    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        50,
        "default limit"
    );
    let (_, page) = app
        .get(&format!("/api/messages?roomId={room}&limit=1000"), &ana)
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 100, "capped");
    for bad in [
        "limit=0",
        "limit=abc",
        "before=x",
        "before=5&after=1",
        "after=-3",
    ] {
        let (status, body) = app
            .get(&format!("/api/messages?roomId={room}&{bad}"), &ana)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid");
    }
    let (status, _) = app.get("/api/messages?roomId=abc", &ana).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn message_permissions(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carl, _) = app.user("carl").await;
    let room = app.room(&ana, "General", false).await;
    for t in [&bob, &carl] {
        app.post(&format!("/api/rooms/{room}/join"), t, json!({}))
            .await;
    }
    let msg = app.send(&carl, &room, "carl's").await;
    let id = msg["id"].as_str().unwrap();
    let (status, _) = app
        .patch(
            &format!("/api/messages/{id}"),
            &bob,
            json!({"content": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, _) = app.delete(&format!("/api/messages/{id}"), &bob).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a member cannot delete another's"
    );
    app.patch(
        &format!("/api/rooms/{room}/members/{bob_id}"),
        &ana,
        json!({"role": "moderator"}),
    )
    .await;
    let (status, _) = app.delete(&format!("/api/messages/{id}"), &bob).await;
    assert_eq!(status, StatusCode::OK, "a moderator can");
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    assert_eq!(page["messages"][0]["content"], "");
    let (status, _) = app
        .patch("/api/messages/999999", &bob, json!({"content": "x"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn bad_input_stores_nothing(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "General", false).await;
    let cases: Vec<(Value, StatusCode)> = vec![
        (
            json!({"roomId": room, "content": "x".repeat(4001)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            json!({"roomId": room, "content": "   "}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"roomId": room, "content": 5}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"roomId": {}, "content": "x"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"content": "x"}), StatusCode::BAD_REQUEST),
        (
            json!({"roomId": "999999", "content": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"roomId": room, "content": "x", "replyToId": "999999"}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, want) in cases {
        let (status, res) = app.post("/api/messages", &ana, body.clone()).await;
        assert_eq!(status, want, "{body}: {res}");
        assert!(res["error"]["code"].is_string(), "{res}");
    }
    // Broken JSON and oversized bodies.
    let res = app
        .client
        .post(format!("{}/api/messages", app.base))
        .bearer_auth(&ana)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .client
        .post(format!("{}/api/messages", app.base))
        .bearer_auth(&ana)
        .header(header::CONTENT_TYPE, "application/json")
        .body(format!("{{\"content\":\"{}\"}}", "x".repeat(1_100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    assert!(page["messages"].as_array().unwrap().is_empty(), "{page}");
}
