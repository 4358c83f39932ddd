//! The errors of every route in the OpenAPI document, written in one place.
//!
//! A route's annotation lists the errors that are its own (`(status = 404)`:
//! no such room, say); this adds the ones every route shares (a malformed
//! request, the rate limit, a server failure; no token on a route that needs
//! one; a cross-site cookie request on a state change; a body over the limit)
//! and gives every error response the envelope's schema and its code, so the
//! document tells a client exactly which `{error: {code}}` it can get.

use natter_core::ErrorCode;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, OpenApi, Ref, ResponseBuilder};

const CODES: [ErrorCode; 8] = [
    ErrorCode::Invalid,
    ErrorCode::Unauthenticated,
    ErrorCode::Forbidden,
    ErrorCode::NotFound,
    ErrorCode::Conflict,
    ErrorCode::TooLarge,
    ErrorCode::RateLimited,
    ErrorCode::Internal,
];

/// What an error status means on this API, with its code.
fn describe(status: u16) -> Option<String> {
    if status == 416 {
        // a file range that cannot be satisfied (`GET /api/files/{id}`)
        return Some("`invalid`: the range cannot be satisfied".to_owned());
    }
    let code = CODES.into_iter().find(|c| c.http_status() == status)?;
    let why = match code {
        ErrorCode::Invalid => "malformed input or a broken rule; the message names the field",
        ErrorCode::Unauthenticated => "no token, or a bad, expired or revoked one",
        ErrorCode::Forbidden => {
            "not allowed (not a member, not the author, wrong role), or a cross-site cookie request"
        }
        ErrorCode::NotFound => "no such room, message, user or file",
        ErrorCode::Conflict => "clashes with what is stored",
        ErrorCode::TooLarge => "content, body or upload over its limit",
        ErrorCode::RateLimited => "too many requests; see Retry-After",
        ErrorCode::Internal => "the server failed; nothing was changed",
    };
    Some(format!("`{}`: {why}", code.as_str()))
}

/// Adds the shared errors to every operation and the envelope to every error.
pub fn document(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (method, op) in operations(item) {
            let mut shared = vec![400, 429, 500];
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                shared.push(401);
            }
            if method != "get" {
                shared.push(403);
            }
            if op.request_body.is_some() {
                shared.push(413);
            }
            for status in shared {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| ResponseBuilder::new().build().into());
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let Some(description) = status.parse().ok().and_then(describe) else {
                    continue;
                };
                if let utoipa::openapi::RefOr::T(r) = response {
                    r.description = description;
                    r.content.insert(
                        "application/json".to_owned(),
                        Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))),
                    );
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}
