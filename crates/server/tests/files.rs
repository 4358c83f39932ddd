//! Uploads end to end, on both stores: type from the bytes, images validated,
//! members-only downloads with safe headers, and attaching to messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use reqwest::multipart::{Form, Part};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

on_both_stores!(uploads_and_downloads, attachments_in_messages);

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload(
    app: &TestApp,
    token: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> (StatusCode, Value) {
    let form = Form::new().text("roomId", room.to_owned()).part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn uploads_and_downloads(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "Files", true).await;

    let (status, body) = upload(&app, &ana, &room, "cat.png", png(800, 400), "image/png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let file = &body["file"];
    assert_eq!(file["contentType"], "image/png");
    assert_eq!(
        (file["width"].as_i64(), file["height"].as_i64()),
        (Some(800), Some(400))
    );
    let url = file["url"].as_str().unwrap().to_owned();
    let thumb = file["thumbnailUrl"].as_str().unwrap().to_owned();

    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let res = app
        .client
        .get(format!("{}{thumb}", app.base))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    let t = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert!(t.width() <= 360 && t.height() <= 360);

    // Not a member: no download, no upload; no token: 401.
    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(&eve)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = upload(&app, &eve, &room, "x.png", png(4, 4), "image/png").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An SVG with script, claimed to be a PNG, is a download, never an image.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>"#.to_vec();
    let (status, body) = upload(&app, &ana, &room, "evil.png", svg, "image/png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["file"]["thumbnailUrl"].is_null());
    assert!(!body["file"]["contentType"]
        .as_str()
        .unwrap()
        .starts_with("image/"));
    let res = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            body["file"]["url"].as_str().unwrap()
        ))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(!res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("svg"));

    // A fake PNG is refused; so is an empty file, a missing room and a too-big file.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(&[0u8; 64]);
    let (status, body) = upload(&app, &ana, &room, "fake.png", fake, "image/png").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = upload(&app, &ana, &room, "e.txt", Vec::new(), "text/plain").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = upload(&app, &ana, "999999", "a.txt", b"hi".to_vec(), "text/plain").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "big.bin",
        vec![7u8; 11 * 1024 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(&ana)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body("--x\r\nbroken")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

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
