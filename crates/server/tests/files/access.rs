//! Who may download a file: its uploader before it is sent, the room's
//! members after, nobody after a delete (bytes gone too); which files a
//! message may carry. Also run with the files in S3.

use bytes::Bytes;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::common::files::{fetch, id_of, png, png_of, send_file, storage_key, upload};
use crate::common::TestApp;

on_both_stores!(attachments_in_messages, who_sees_a_file);

on_s3!(who_sees_a_file);

async fn attachments_in_messages(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, _) = app.user("bob").await;
    let room = app.room(&ana, "Files", false).await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (_, body) = upload(
        &app,
        &ana,
        &room,
        "notes.txt",
        b"hello".to_vec(),
        "text/plain",
    )
    .await;
    let txt = body["file"]["url"].as_str().unwrap().to_owned();
    let (_, body) = upload(&app, &ana, &room, "cat.png", png(10, 10), "image/png").await;
    let img = body["file"]["url"].as_str().unwrap().to_owned();
    let send = |body: Value| app.post("/api/messages", &ana, body);
    let (status, m) =
        send(json!({"roomId": room, "content": "", "type": "image", "fileUrl": img})).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["message"]["type"], "image");
    assert_eq!(m["message"]["fileUrl"], img);
    let (status, m) =
        send(json!({"roomId": room, "content": "notes", "type": "file", "fileUrl": txt})).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    // A text file is not an image; a type without url, another's file, a file
    // of another room or a foreign url is refused and stores nothing.
    let (status, _) =
        send(json!({"roomId": room, "content": "x", "type": "image", "fileUrl": txt})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(json!({"roomId": room, "content": "x", "type": "file"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, other) = upload(&app, &bob, &room, "b.txt", b"bob".to_vec(), "text/plain").await;
    let (status, _) = send(
        json!({"roomId": room, "content": "x", "type": "file", "fileUrl": other["file"]["url"]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "only a file the sender uploaded"
    );
    let room2 = app.room(&ana, "Elsewhere", false).await;
    let (status, _) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room2, "content": "x", "type": "file", "fileUrl": txt}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only a file of that room");
    let (status, _) = send(json!({"roomId": room, "content": "x", "type": "file", "fileUrl": "https://evil.example/x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &bob).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2, "{page}");
    // Another member downloads the text file.
    let res = app
        .client
        .get(format!("{}{txt}", app.base))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"notes.txt\""));
    assert_eq!(res.text().await.unwrap(), "hello");
}

async fn who_sees_a_file(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, _) = app.user("bob").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "Files", false).await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (_, body) = upload(&app, &ana, &room, "cat.png", png(64, 32), "image/png").await;
    let url = body["file"]["url"].as_str().unwrap().to_owned();
    let thumb = body["file"]["thumbnailUrl"].as_str().unwrap().to_owned();
    let key = storage_key(&app, &url).await;

    // Unsent: its uploader only (a member of the room gets 404).
    assert_eq!(fetch(&app, &url, &ana, &[]).await.status(), StatusCode::OK);
    let info: Value = fetch(&app, &format!("{url}/info"), &ana, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            info["file"]["name"].as_str(),
            info["file"]["contentType"].as_str(),
            info["file"]["width"].as_i64()
        ),
        (Some("cat.png"), Some("image/png"), Some(64))
    );
    assert_eq!(
        fetch(&app, &format!("{url}/info"), &bob, &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, &thumb, &ana, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, &url, &bob, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, &thumb, &bob, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    // Another member cannot send it either.
    let (status, _) = app
        .post(
            "/api/messages",
            &bob,
            json!({"roomId": room, "content": "", "type": "image", "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Sent: every member; still nobody else.
    let m = send_file(&app, &ana, &room, &url, "image").await;
    let res = fetch(&app, &url, &bob, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.bytes().await.unwrap(),
        Bytes::from(png_of(&app, &url, &ana).await)
    );
    assert_eq!(
        fetch(&app, &thumb, &bob, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, &url, &eve, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    // A file goes with one message.
    let (status, again) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room, "content": "", "type": "image", "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");

    // Deleted: nobody, and the bytes are gone from the file store.
    assert!(app.state.files.head(&key).await.unwrap().is_some());
    let (status, _) = app
        .delete(
            &format!("/api/messages/{}", m["id"].as_str().unwrap()),
            &ana,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for who in [&ana, &bob] {
        let res = fetch(&app, &url, who, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(
            fetch(&app, &thumb, who, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.state.files.head(&key).await.unwrap(), None);
    assert_eq!(
        app.state.files.head(&format!("{key}.thumb")).await.unwrap(),
        None
    );
    assert!(app.state.store.upload(id_of(&url)).await.unwrap().is_none());
}
