//! The REST API end to end, on both stores: accounts, rooms, members, DMs,
//! messages and history, errors and permissions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    accounts,
    auth_errors,
    rooms_and_roles,
    private_rooms_are_closed,
    messages_and_history,
    history_pages_each_message_once,
    message_permissions,
    direct_messages,
    bad_input_stores_nothing,
    openapi_and_health,
);

async fn accounts(app: TestApp) {
    let res = app
        .client
        .post(format!("{}/api/auth/register", app.base))
        .json(&json!({"email": "Ana@Example.com", "username": "Ana", "name": "Ana B", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("natter_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["username"], "ana");
    assert!(body["user"].get("passwordHash").is_none());
    let token = body["token"].as_str().unwrap().to_owned();

    // Taken, ignoring case.
    for (email, username, field) in [
        ("ana@example.com", "other", "email"),
        ("x@example.com", "ANA", "username"),
    ] {
        let (status, body) = app
            .call(Method::POST, "/api/auth/register", None,
                Some(json!({"email": email, "username": username, "name": "X", "password": "password123"})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "conflict");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }

    // Login by username or email, any case.
    for login in ["ana", "ANA@example.com"] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"login": login, "password": "password123"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["username"], "ana");
    }
    let (status, me) = app.get("/api/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], "ana@example.com");

    // The cookie alone authenticates; logout clears it.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = app
        .client
        .get(format!("{}/api/me", app.base))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/api/auth/logout", app.base))
        .send()
        .await
        .unwrap();
    let cleared = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

async fn auth_errors(app: TestApp) {
    app.user("bob").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": "bob", "password": "wrong-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": "nobody", "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.call(Method::GET, "/api/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": {"code": "unauthenticated", "message": "Authentication required"}})
    );
    let (status, body) = app.get("/api/rooms", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "Invalid token");
    for bad in [
        json!({"email": "nope", "username": "carl", "name": "C", "password": "password123"}),
        json!({"email": "c@example.com", "username": "c", "name": "C", "password": "password123"}),
        json!({"email": "c@example.com", "username": "carl", "name": "C", "password": "short"}),
        json!({"email": "c@example.com", "username": "carl", "name": "", "password": "password123"}),
        json!({"email": "c@example.com", "username": 5, "name": "C", "password": "password123"}),
    ] {
        let (status, body) = app
            .call(Method::POST, "/api/auth/register", None, Some(bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid");
    }
}

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
        .call(
            Method::PATCH,
            &format!("/api/rooms/{room}"),
            Some(&bob),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The admin promotes bob; a moderator invites and removes members, never an admin.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/rooms/{room}/members/{bob_id}"),
            Some(&ana),
            Some(json!({"role": "moderator"})),
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
        .call(
            Method::DELETE,
            &format!("/api/rooms/{room}/members/{carl_id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ana_id = app.get("/api/me", &ana).await.1["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/rooms/{room}/members/{ana_id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/rooms/{room}"),
            Some(&ana),
            Some(json!({"name": "Renamed", "description": "d"})),
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
        .call(
            Method::PATCH,
            &format!("/api/messages/{id}"),
            Some(&ana),
            Some(json!({"content": "edited"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(edited["message"]["content"], "edited");
    assert_eq!(edited["message"]["seq"], 1, "an edit never moves a message");
    assert!(edited["message"]["editedAt"].is_string());

    let (status, gone) = app
        .call(
            Method::DELETE,
            &format!("/api/messages/{id}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["message"]["content"], "");
    assert!(gone["message"]["deletedAt"].is_string());

    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    let seqs: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
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
        let msgs = page["messages"].as_array().unwrap();
        let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
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
        let seqs: Vec<i64> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
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
        .call(
            Method::PATCH,
            &format!("/api/messages/{id}"),
            Some(&bob),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/messages/{id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a member cannot delete another's"
    );
    app.call(
        Method::PATCH,
        &format!("/api/rooms/{room}/members/{bob_id}"),
        Some(&ana),
        Some(json!({"role": "moderator"})),
    )
    .await;
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/messages/{id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a moderator can");
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &ana).await;
    assert_eq!(page["messages"][0]["content"], "");
    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/messages/999999",
            Some(&bob),
            Some(json!({"content": "x"})),
        )
        .await;
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

async fn openapi_and_health(app: TestApp) {
    let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/me",
        "/api/rooms",
        "/api/rooms/{id}/members/{userId}",
        "/api/messages",
        "/api/dms",
        "/api/users",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.0,
        StatusCode::OK
    );
    let res = app
        .client
        .get(format!("{}/some/client/route", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(header::CONTENT_SECURITY_POLICY).is_some());
    assert_eq!(
        res.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff"
    );
}
