//! Notification levels: the defaults (rooms mentions, DMs all), set per
//! member and room, listed with the rooms, and refused when bad.

use natter_core::NotificationLevel;
use natter_server::config::PushArgs;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::Backend;
use crate::{start, user};

on_both_backends!(notification_levels_per_member_and_room);

async fn notification_levels_per_member_and_room(backend: Backend) {
    let app = start(backend, PushArgs::default()).await;
    let (ana, _) = user(&app, "ana").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (cy, _) = user(&app, "cyd").await;
    let (_, room) = app
        .post("/api/rooms", &ana, json!({"name": "general"}))
        .await;
    let room_id = room["room"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        room["room"]["notifications"], "mentions",
        "rooms default to mentions"
    );
    let (_, dm) = app
        .post("/api/dms", &ana, json!({"userId": bob_id.to_string()}))
        .await;
    assert_eq!(dm["room"]["notifications"], "all", "DMs default to all");

    let path = format!("/api/rooms/{room_id}/notifications");
    for level in ["all", "none", "mentions", "none"] {
        let (status, res) = app.patch(&path, &ana, json!({ "level": level })).await;
        assert_eq!(status, StatusCode::OK, "{res}");
        assert_eq!(res["room"]["notifications"], level);
        assert_eq!(res["room"]["id"], room_id.as_str());
    }
    let (_, mine) = app.get("/api/rooms", &ana).await;
    let listed = mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["notifications"], "none", "the room list carries it");
    let (_, one) = app.get(&format!("/api/rooms/{room_id}"), &ana).await;
    assert_eq!(one["room"]["notifications"], "none");

    // bob joins: his level is his own default
    let (_, joined) = app
        .call(
            Method::POST,
            &format!("/api/rooms/{room_id}/join"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(joined["room"]["notifications"], "mentions");

    for (what, token, p, body, want) in [
        (
            "bad level",
            &ana,
            path.clone(),
            json!({"level": "loud"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no level",
            &ana,
            path.clone(),
            json!({}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not a member",
            &cy,
            path.clone(),
            json!({"level": "all"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "no such room",
            &ana,
            "/api/rooms/987654/notifications".to_owned(),
            json!({"level": "all"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, res) = app.patch(&p, token, body).await;
        assert_eq!(status, want, "{what}: {res}");
    }
    let levels = app
        .state
        .store
        .notification_levels(room_id.parse().unwrap(), &[bob_id])
        .await
        .unwrap();
    assert_eq!(levels, vec![(bob_id, NotificationLevel::Mentions)]);
}
