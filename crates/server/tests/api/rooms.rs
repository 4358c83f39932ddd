//! Rooms: the directory, joining, roles (what a member, a moderator and an
//! admin may do), leaving; private rooms closed to others; DMs.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

on_both_stores!(rooms_and_roles, private_rooms_are_closed, direct_messages);

async fn rooms_and_roles(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, bob_id) = app.user("bob").await;
    let (cid, carl_id) = app.user("carl").await;
    let room = app.room(&ana, "General", false).await;
    let (_, body) = app.get(&format!("/api/rooms/{room}"), &ana).await;
    assert_eq!(body["room"]["role"], "admin");
    assert_eq!(body["room"]["isPrivate"], false);

    let (_, body) = app.get("/api/rooms/public?query=gene", &bob).await;
    assert_eq!(body["rooms"].as_array().unwrap().len(), 1);
    let (_, body) = app.get("/api/rooms/public?query=zzz", &bob).await;
    assert!(body["rooms"].as_array().unwrap().is_empty());

    let (status, body) = app
        .post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["room"]["role"], "member");
    let (_, body) = app.get("/api/rooms", &bob).await;
    assert_eq!(body["rooms"][0]["id"], room);

    // A member cannot invite, patch or change roles.
    let (status, _) = app
        .post(
            &format!("/api/rooms/{room}/members"),
            &bob,
            json!({"userId": carl_id}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .patch(&format!("/api/rooms/{room}"), &bob, json!({"name": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The admin promotes bob; a moderator invites and removes members, never an admin.
    let (status, body) = app
        .patch(
            &format!("/api/rooms/{room}/members/{bob_id}"),
            &ana,
            json!({"role": "moderator"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["member"]["role"], "moderator");
    let (status, body) = app
        .post(
            &format!("/api/rooms/{room}/members"),
            &bob,
            json!({"userId": carl_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app
        .post(
            &format!("/api/rooms/{room}/members"),
            &bob,
            json!({"userId": carl_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, members) = app.get(&format!("/api/rooms/{room}/members"), &cid).await;
    let roles: Vec<(String, String)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["username"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(roles.contains(&("ana".into(), "admin".into())), "{roles:?}");
    assert!(roles.contains(&("bob".into(), "moderator".into())));
    assert!(members["members"][0]["user"].get("email").is_none());
    let (status, _) = app
        .delete(&format!("/api/rooms/{room}/members/{carl_id}"), &bob)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ana_id = app.get("/api/me", &ana).await.1["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .delete(&format!("/api/rooms/{room}/members/{ana_id}"), &bob)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .patch(
            &format!("/api/rooms/{room}"),
            &ana,
            json!({"name": "Renamed", "description": "d"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["room"]["name"], "Renamed");

    let (status, _) = app
        .post(&format!("/api/rooms/{room}/leave"), &bob, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = app.get("/api/rooms", &bob).await;
    assert!(body["rooms"].as_array().unwrap().is_empty());
}

async fn private_rooms_are_closed(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "Secret", true).await;
    app.send(&ana, &room, "the plan").await;
    let (_, body) = app.get("/api/rooms/public", &eve).await;
    assert!(body["rooms"].as_array().unwrap().is_empty(), "{body}");
    for (method, path, body) in [
        (Method::GET, format!("/api/rooms/{room}"), None),
        (
            Method::POST,
            format!("/api/rooms/{room}/join"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/rooms/{room}/members"), None),
        (Method::GET, format!("/api/messages?roomId={room}"), None),
        (
            Method::POST,
            "/api/messages".to_owned(),
            Some(json!({"roomId": room, "content": "hi"})),
        ),
    ] {
        let (status, res) = app.call(method.clone(), &path, Some(&eve), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {res}");
        assert_eq!(res["error"]["code"], "forbidden");
    }
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    let (status, _) = app.get("/api/rooms/999999", &eve).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn direct_messages(app: TestApp) {
    let (ana, ana_id) = app.user("ana").await;
    let (bob, bob_id) = app.user("bob").await;
    let (s1, a) = app.post("/api/dms", &ana, json!({"userId": bob_id})).await;
    let (s2, b) = app.post("/api/dms", &bob, json!({"userId": ana_id})).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{a} {b}");
    assert_eq!(a["room"]["id"], b["room"]["id"], "one DM room per pair");
    assert_eq!(a["room"]["isDirect"], true);
    let room = a["room"]["id"].as_str().unwrap();
    app.send(&ana, room, "hi bob").await;
    let (_, rooms) = app.get("/api/rooms", &bob).await;
    assert_eq!(rooms["rooms"][0]["unread"], 1);
    let (_, eve) = app.user("eve").await;
    let _ = eve;
    let (status, _) = app.post("/api/dms", &ana, json!({"userId": ana_id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .post("/api/dms", &ana, json!({"userId": "999999"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
