//! The OpenAPI document (`/api/openapi.json`) as a reviewed snapshot: a route,
//! parameter, body, schema or error that changes shows up as a diff of
//! `tests/snapshots/openapi__document.snap` (accept it with
//! `INSTA_UPDATE=always cargo nextest run -p natter-server --test openapi`, or
//! `cargo insta review`). And every operation lists its errors, each in the
//! error envelope.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

fn openapi() -> Value {
    serde_json::to_value(natter_server::http::openapi()).unwrap()
}

#[test]
fn document() {
    insta::assert_json_snapshot!("document", openapi());
}

#[test]
fn every_operation_lists_its_errors_in_the_envelope() {
    let doc = openapi();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{} paths", paths.len());
    let envelope = "#/components/schemas/ErrorEnvelope";
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let mut shared = vec!["400", "429", "500"];
            if secured {
                shared.push("401");
            }
            if method != "get" {
                shared.push("403");
            }
            for status in shared {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not list {status}"
                );
            }
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"], envelope,
                        "{method} {path} {status} is not in the error envelope"
                    );
                    let description = r["description"].as_str().unwrap();
                    assert!(
                        description.starts_with('`'),
                        "{method} {path} {status}: the description names the code ({description})"
                    );
                }
            }
        }
    }
    // A route's own errors are there too: a room that is not yours, or none.
    let room = &doc["paths"]["/api/rooms/{id}"]["get"]["responses"];
    assert!(room.get("403").is_some() && room.get("404").is_some());
}
