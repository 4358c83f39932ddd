//! Input hardening: non-members see no presence or read state, search
//! queries are capped, names refuse invisible characters (NFKC applied).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{err_code, Backend, TestApp};

on_both_backends!(
    non_members_see_no_presence_or_read_state,
    search_queries_are_capped,
    names_refuse_invisible_characters,
);

async fn non_members_see_no_presence_or_read_state(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ana, _) = app.user("ana").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "open", false).await;
    app.send(&ana, &room, "hello").await;
    let path = format!("/api/rooms/{room}/members");
    let (status, body) = app.get(&path, &eve).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let members = body["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    let ana_row = &members[0];
    assert_eq!(ana_row["user"]["username"], "ana");
    assert_eq!(ana_row["role"], "admin");
    assert_eq!(ana_row["online"], false);
    assert_eq!(ana_row["lastSeen"], Value::Null);
    assert_eq!(ana_row["lastReadSeq"], 0);
    // a member sees the read cursor (the sender's cursor is at their message)
    let (status, body) = app.get(&path, &ana).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["members"][0]["lastReadSeq"], 1);
    // once eve joins, she shares the room and sees it too
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/rooms/{room}/join"),
            Some(&eve),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.get(&path, &eve).await;
    let ana_row = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "ana")
        .unwrap()
        .clone();
    assert_eq!(ana_row["lastReadSeq"], 1);
}

async fn search_queries_are_capped(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (token, _) = app.user("ana").await;
    let long = "a".repeat(101);
    for path in ["/api/users?query=", "/api/rooms/public?query="] {
        let (status, body) = app.get(&format!("{path}{long}"), &token).await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{path}"
        );
        let (status, _) = app.get(&format!("{path}{}", "a".repeat(100)), &token).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

async fn names_refuse_invisible_characters(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (token, _) = app.user("ana").await;
    for name in [
        "evil\u{202E}txt.exe",
        "zero\u{200B}width",
        "\u{2066}isolate",
    ] {
        let (status, body) = app.post("/api/rooms", &token, json!({"name": name})).await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{name:?}"
        );
        let (status, body) = app
            .register(json!({"email": "x@example.com", "username": "xavier", "name": name, "password": "password123"}))
            .await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{name:?}"
        );
    }
    // NFKC: a full-width username is the name it looks like
    let (status, body) = app
        .register(json!({"email": "b@example.com", "username": "ＢＯＢ", "name": "Bob 👩\u{200D}💻", "password": "password123"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "bob");
    let (status, body) = app
        .register(json!({"email": "c@example.com", "username": "bob", "name": "Bob", "password": "password123"}))
        .await;
    assert_eq!(
        (status, err_code(&body)),
        (StatusCode::CONFLICT, "conflict")
    );
}
