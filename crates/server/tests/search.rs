//! `GET /api/search` and `GET /api/messages?around=` end to end, on both
//! stores (issue 10). What matches is held by the store's conformance suite;
//! this covers the operators' names, scope, errors, snippets and paging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{page_seqs, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    search_finds_with_snippets_and_operators,
    search_scope_is_the_callers_rooms_now,
    search_pages_with_next_cursor,
    search_refuses_bad_input,
    messages_around_a_result,
);

/// `/api/search` with these query parameters, encoded.
fn search(params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params("http://x/api/search", params).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

fn contents(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["content"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn found(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let (status, body) = app.get(&search(&[("q", q)]), token).await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    contents(&body)
}

async fn search_finds_with_snippets_and_operators(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let general = app.room(&alice, "General", false).await;
    let random = app.room(&alice, "random", false).await;
    let (status, _) = app
        .post(&format!("/api/rooms/{general}/join"), &bob, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.send(&alice, &general, "Lunch at the Café? It's on me")
        .await;
    app.send(
        &bob,
        &general,
        "cafe sounds good, see https://maps.example.com/cafe",
    )
    .await;
    app.send(&alice, &random, "another café, later").await;

    let (status, body) = app.get(&search(&[("q", "cafe")]), &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
    assert!(body["nextCursor"].is_null());
    let lunch = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["message"]["content"]
                .as_str()
                .unwrap()
                .starts_with("Lunch")
        })
        .unwrap();
    assert_eq!(
        lunch["snippet"],
        json!([
            {"text": "Lunch at the ", "match": false},
            {"text": "Café", "match": true},
            {"text": "? It's on me", "match": false},
        ])
    );
    assert_eq!(lunch["message"]["user"]["username"], "alice");

    assert_eq!(
        found(&app, &alice, "cafe from:@bob").await,
        ["cafe sounds good, see https://maps.example.com/cafe"]
    );
    assert_eq!(found(&app, &alice, "cafe from:bob").await.len(), 1);
    assert_eq!(found(&app, &alice, "cafe from:me").await.len(), 2);
    assert_eq!(found(&app, &bob, "from:me").await.len(), 1);
    assert!(found(&app, &alice, "cafe from:@nobody").await.is_empty());
    assert_eq!(
        found(&app, &alice, "in:#random").await,
        ["another café, later"]
    );
    assert_eq!(found(&app, &alice, "cafe in:#general").await.len(), 2);
    assert!(found(&app, &alice, "cafe in:#nowhere").await.is_empty());
    assert_eq!(found(&app, &alice, "has:link").await.len(), 1);
    assert_eq!(found(&app, &alice, "cafe -later").await.len(), 2);
    assert_eq!(found(&app, &alice, "\"on me\"").await.len(), 1);
    // An unknown operator is text.
    assert!(found(&app, &alice, "colour:blue").await.is_empty());
    // Scoped to one room.
    let (status, body) = app
        .get(&search(&[("q", "cafe"), ("roomId", &random)]), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(contents(&body), ["another café, later"]);
    // Newest first.
    let (_, body) = app
        .get(&search(&[("q", "cafe"), ("sort", "newest")]), &alice)
        .await;
    let order: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(order[0], "another café, later");
    assert_eq!(body["results"][1]["message"]["userId"], bob_id);

    let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/search"]["get"].is_object());
}

async fn search_scope_is_the_callers_rooms_now(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let public = app.room(&bob, "public", false).await;
    let private = app.room(&bob, "private", true).await;
    app.send(&bob, &public, "zebra in public").await;
    app.send(&bob, &private, "zebra in private").await;
    let (status, dm) = app
        .post("/api/dms", &alice, json!({"userId": bob_id}))
        .await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["room"]["id"].as_str().unwrap().to_owned();
    app.send(&bob, &dm, "zebra in the dm").await;

    assert_eq!(found(&app, &alice, "zebra").await, ["zebra in the dm"]);
    // A room one is not in is refused, not searched.
    let (status, body) = app
        .get(&search(&[("q", "zebra"), ("roomId", &private)]), &alice)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app
        .post(&format!("/api/rooms/{public}/join"), &alice, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        found(&app, &alice, "zebra").await,
        ["zebra in public", "zebra in the dm"]
    );
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/rooms/{public}/leave"),
            Some(&alice),
            None,
        )
        .await;
    assert!(status.is_success());
    assert_eq!(found(&app, &alice, "zebra").await, ["zebra in the dm"]);
}

async fn search_pages_with_next_cursor(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let r = app.room(&alice, "pages", false).await;
    let mut sent = Vec::new();
    for i in 0..12 {
        let m = app.send(&alice, &r, &format!("lemon {i}")).await;
        sent.push(m["id"].as_str().unwrap().to_owned());
    }
    for sort in ["relevance", "newest"] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut params = vec![("q", "lemon"), ("limit", "5"), ("sort", sort)];
            if !cursor.is_empty() {
                params.push(("cursor", &cursor));
            }
            let (status, body) = app.get(&search(&params), &alice).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            for r in body["results"].as_array().unwrap() {
                seen.push(r["message"]["id"].as_str().unwrap().to_owned());
            }
            match body["nextCursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => break,
            }
        }
        let mut expected = sent.clone();
        expected.reverse();
        assert_eq!(seen, expected, "{sort}");
    }
}

async fn search_refuses_bad_input(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let r = app.room(&alice, "r", false).await;
    app.send(&alice, &r, "something").await;
    let long = "a".repeat(501);
    let (_, first) = app
        .get(&search(&[("q", "something"), ("limit", "1")]), &alice)
        .await;
    let newest_cursor = {
        app.send(&alice, &r, "something more").await;
        let (_, b) = app
            .get(
                &search(&[("q", "something"), ("limit", "1"), ("sort", "newest")]),
                &alice,
            )
            .await;
        b["nextCursor"].as_str().unwrap().to_owned()
    };
    assert!(first["results"].is_array());
    for (params, says) in [
        (vec![("q", "")], "empty"),
        (vec![("q", "   ")], "empty"),
        (vec![], "empty"),
        (vec![("q", long.as_str())], "at most 500"),
        (vec![("q", "x before:2025-02-30")], "YYYY-MM-DD"),
        (vec![("q", "x on:tuesday")], "YYYY-MM-DD"),
        (vec![("q", "x"), ("cursor", "garbage")], "cursor"),
        (vec![("q", "x"), ("cursor", newest_cursor.as_str())], "sort"),
        (vec![("q", "x"), ("limit", "0")], "limit"),
        (vec![("q", "x"), ("limit", "51")], "limit"),
        (vec![("q", "x"), ("limit", "many")], "limit"),
        (vec![("q", "x"), ("sort", "best")], "sort"),
        (vec![("q", "-x")], "filter"),
    ] {
        let (status, body) = app.get(&search(&params), &alice).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid", "{params:?}: {body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{params:?}: {msg}");
    }
    let (status, body) = app
        .call(Method::GET, &search(&[("q", "something")]), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

async fn messages_around_a_result(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    let r = app.room(&alice, "history", false).await;
    for i in 1..=30 {
        app.send(&alice, &r, &format!("message {i}")).await;
    }
    let (_, body) = app.get(&search(&[("q", "\"message 15\"")]), &alice).await;
    let seq = body["results"][0]["message"]["seq"].as_i64().unwrap();
    assert_eq!(seq, 15);
    let (status, page) = app
        .get(
            &format!("/api/messages?roomId={r}&around={seq}&limit=5"),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let seqs = page_seqs(&page);
    assert_eq!(seqs, [13, 14, 15, 16, 17]);
    assert_eq!(page["hasMoreBefore"], true);
    assert_eq!(page["hasMoreAfter"], true);
    assert_eq!(page["hasMore"], true);
    // Older and newer pages load from its ends as usual.
    let (_, newer) = app
        .get(
            &format!("/api/messages?roomId={r}&after=17&limit=50"),
            &alice,
        )
        .await;
    assert_eq!(newer["messages"].as_array().unwrap().len(), 13);
    assert_eq!(newer["hasMore"], false);
    let (_, end) = app
        .get(
            &format!("/api/messages?roomId={r}&around=30&limit=4"),
            &alice,
        )
        .await;
    assert_eq!(end["hasMoreAfter"], false);
    assert_eq!(end["messages"].as_array().unwrap().len(), 4);
    // Plain pages keep their shape.
    let (_, plain) = app
        .get(&format!("/api/messages?roomId={r}&limit=5"), &alice)
        .await;
    assert!(plain.get("hasMoreBefore").is_none());

    let (status, _) = app
        .get(
            &format!("/api/messages?roomId={r}&around=5&before=9"),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .get(&format!("/api/messages?roomId={r}&around=0"), &alice)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .get(&format!("/api/messages?roomId={r}&around=5"), &bob)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
