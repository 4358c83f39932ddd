//! Upload helpers: a PNG made on the spot, an upload through `/api/upload`,
//! a download with headers, a file sent in a message, and the upload's row.

use natter_core::Id;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::TestApp;

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub async fn upload(
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

pub async fn fetch(
    app: &TestApp,
    url: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

pub fn id_of(url: &str) -> Id {
    natter_core::files::file_id(url).unwrap()
}

pub async fn storage_key(app: &TestApp, url: &str) -> String {
    app.state
        .store
        .upload(id_of(url))
        .await
        .unwrap()
        .unwrap()
        .storage_key
}

pub async fn send_file(app: &TestApp, token: &str, room: &str, url: &str, kind: &str) -> Value {
    let (status, m) = app
        .post(
            "/api/messages",
            token,
            json!({"roomId": room, "content": "", "type": kind, "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    m["message"].clone()
}

pub async fn png_of(app: &TestApp, url: &str, token: &str) -> Vec<u8> {
    fetch(app, url, token, &[])
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec()
}
