//! The VAPID public key: an uncompressed P-256 point, generated once into
//! the data folder (0600).

use base64ct::{Base64UrlUnpadded, Encoding};
use natter_server::config::PushArgs;
use reqwest::{Method, StatusCode};

use crate::common::Backend;
use crate::start;

on_both_backends!(vapid_public_key_is_an_uncompressed_p256_point);

async fn vapid_public_key_is_an_uncompressed_p256_point(backend: Backend) {
    let app = start(backend, PushArgs::default()).await;
    let (status, body) = app
        .call(Method::GET, "/api/push/vapid-public-key", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = Base64UrlUnpadded::decode_vec(body["key"].as_str().unwrap()).unwrap();
    assert_eq!(key.len(), 65);
    assert_eq!(key[0], 4, "uncompressed");
    assert!(web_push_native::p256::PublicKey::from_sec1_bytes(&key).is_ok());
    // generated once into the data dir, 0600
    let path = app.data_dir().join("vapid_private_key");
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
