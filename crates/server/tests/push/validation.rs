//! Bad subscriptions: every bad endpoint or key is `invalid` and stores
//! nothing; private endpoints need the setting.

use base64ct::{Base64UrlUnpadded, Encoding};
use natter_server::config::PushArgs;
use reqwest::StatusCode;
use serde_json::{json, Value};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::common::Backend;
use crate::{keys, start, stored, sub, subscribe, user};

on_both_backends!(
    bad_subscriptions_are_invalid_and_store_nothing,
    private_endpoints_need_the_setting,
);

async fn bad_subscriptions_are_invalid_and_store_nothing(backend: Backend) {
    let app = start(backend, PushArgs::default()).await;
    let (ana, ana_id) = user(&app, "ana").await;
    let (p256dh, auth) = keys();
    let with = |endpoint: &str, p: &str, a: &str| json!({"endpoint": endpoint, "keys": {"p256dh": p, "auth": a}});
    let ok = "https://8.8.8.8/push/ok";
    let raw = Base64UrlUnpadded::decode_vec(&p256dh).unwrap();
    let mut off_curve = raw.clone();
    off_curve[64] ^= 1;
    let compressed = {
        let pk = web_push_native::p256::PublicKey::from_sec1_bytes(&raw).unwrap();
        Base64UrlUnpadded::encode_string(pk.to_encoded_point(true).as_bytes())
    };
    let long = format!("https://8.8.8.8/{}", "a".repeat(2100));
    let cases: Vec<(&str, Value)> = vec![
        ("plain http", with("http://8.8.8.8/push", &p256dh, &auth)),
        ("another scheme", with("ftp://8.8.8.8/push", &p256dh, &auth)),
        ("not a URL", with("push me", &p256dh, &auth)),
        ("empty endpoint", with("", &p256dh, &auth)),
        (
            "user info",
            with("https://user:pw@8.8.8.8/push", &p256dh, &auth),
        ),
        (
            "user name",
            with("https://user@8.8.8.8/push", &p256dh, &auth),
        ),
        (
            "loopback v4",
            with("https://127.0.0.1/push", &p256dh, &auth),
        ),
        ("loopback v6", with("https://[::1]/push", &p256dh, &auth)),
        (
            "localhost",
            with("https://localhost:8443/push", &p256dh, &auth),
        ),
        (
            "private 10/8",
            with("https://10.1.2.3/push", &p256dh, &auth),
        ),
        (
            "private 192.168/16",
            with("https://192.168.0.10/push", &p256dh, &auth),
        ),
        (
            "private 172.16/12",
            with("https://172.20.0.1/push", &p256dh, &auth),
        ),
        (
            "unique local v6",
            with("https://[fd00::1]/push", &p256dh, &auth),
        ),
        (
            "link-local metadata",
            with("https://169.254.169.254/latest", &p256dh, &auth),
        ),
        (
            "link-local v6",
            with("https://[fe80::1]/push", &p256dh, &auth),
        ),
        (
            "multicast",
            with("https://224.0.0.251/push", &p256dh, &auth),
        ),
        (
            "IPv4-mapped loopback",
            with("https://[::ffff:127.0.0.1]/push", &p256dh, &auth),
        ),
        ("unspecified", with("https://0.0.0.0/push", &p256dh, &auth)),
        (
            "a host that does not resolve",
            with("https://nowhere.invalid/push", &p256dh, &auth),
        ),
        ("endpoint over 2 KB", with(&long, &p256dh, &auth)),
        ("p256dh not base64url", with(ok, "not*base64!", &auth)),
        (
            "p256dh too short",
            with(ok, &Base64UrlUnpadded::encode_string(&raw[..64]), &auth),
        ),
        ("p256dh compressed", with(ok, &compressed, &auth)),
        (
            "p256dh off the curve",
            with(ok, &Base64UrlUnpadded::encode_string(&off_curve), &auth),
        ),
        ("p256dh empty", with(ok, "", &auth)),
        (
            "auth too short",
            with(ok, &p256dh, &Base64UrlUnpadded::encode_string(&[1u8; 8])),
        ),
        (
            "auth too long",
            with(ok, &p256dh, &Base64UrlUnpadded::encode_string(&[1u8; 17])),
        ),
        ("auth not base64url", with(ok, &p256dh, "%%%")),
        ("no keys", json!({"endpoint": ok})),
        (
            "keys not strings",
            json!({"endpoint": ok, "keys": {"p256dh": 5, "auth": true}}),
        ),
        (
            "endpoint not a string",
            json!({"endpoint": 42, "keys": {"p256dh": p256dh, "auth": auth}}),
        ),
        ("not an object", json!([ok])),
    ];
    for (what, body) in cases {
        let (status, res) = subscribe(&app, &ana, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {res}");
        assert_eq!(res["error"]["code"], "invalid", "{what}: {res}");
        assert!(
            !res["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{what}: a reason"
        );
        assert!(
            stored(&app, ana_id).await.is_empty(),
            "{what}: nothing stored"
        );
    }
    // and the same keys on a good endpoint are fine
    let (status, res) = subscribe(&app, &ana, with(ok, &p256dh, &auth)).await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
    // padded base64url is tolerated (some browsers pad)
    let padded = format!("{p256dh}=");
    let (status, res) = subscribe(
        &app,
        &ana,
        with("https://8.8.8.8/push/padded", &padded, &format!("{auth}==")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
}

async fn private_endpoints_need_the_setting(backend: Backend) {
    let app = start(
        backend,
        PushArgs {
            push_allow_private: true,
            ..PushArgs::default()
        },
    )
    .await;
    let (ana, ana_id) = user(&app, "ana").await;
    for endpoint in [
        "http://127.0.0.1:9/push",
        "https://localhost/push",
        "http://10.0.0.7/push",
    ] {
        let (status, res) = subscribe(&app, &ana, sub(endpoint)).await;
        assert_eq!(status, StatusCode::CREATED, "{endpoint}: {res}");
    }
    assert_eq!(stored(&app, ana_id).await.len(), 3);
    // user info and bad keys stay refused even then
    let (status, _) = subscribe(&app, &ana, sub("http://u:p@127.0.0.1:9/push")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = subscribe(
        &app,
        &ana,
        json!({"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stored(&app, ana_id).await.len(), 3);
}
