//! The last line of "every error is the envelope": an `/api` answer of 400 or
//! more that is not JSON (a rejection from an extractor that is not wrapped,
//! such as multipart, a body limit, a method or path no route has) is turned
//! into `{error: {code, message}}` with the code that matches its status.
//! Handlers' own errors are JSON already and pass through untouched.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use natter_core::{Error, ErrorBody};

use crate::error::ErrorEnvelope;

/// Plain-text rejection bodies are short; longer ones are not echoed.
const MAX_ECHO: usize = 300;

pub async fn wrap_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = match axum::body::to_bytes(body, MAX_ECHO * 4).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if status.is_server_error() || text.is_empty() || text.len() > MAX_ECHO {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase()
    } else {
        text
    };
    let error = match status {
        StatusCode::UNAUTHORIZED => Error::Unauthenticated(message),
        StatusCode::FORBIDDEN => Error::forbidden(message),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Error::not_found(message),
        StatusCode::CONFLICT => Error::conflict(message),
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(message),
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
            retry_after_secs: 1,
        },
        s if s.is_server_error() => Error::internal(message),
        _ => Error::invalid(message),
    };
    let body: ErrorBody = crate::error::client_body(&error);
    let mut out = (status, axum::Json(ErrorEnvelope { error: body })).into_response();
    // keep what the original said about the answer (Allow, Retry-After, …)
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
