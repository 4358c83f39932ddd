//! The HTTP answers of the Engine.IO endpoint: the protocol's JSON errors
//! (`{"code":n,"message":..}`), plain-text payloads, and the websocket `101`.

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderValue, StatusCode};

/// An error in the protocol's JSON shape, with any status.
pub(super) fn error_response(code: u8, message: &str, status: StatusCode) -> Response {
    let body = format!("{{\"code\":{code},\"message\":\"{message}\"}}");
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A `400` with the protocol's error `code` and its message.
pub(super) fn bad(code: u8) -> Response {
    let message = match code {
        0 => "Transport unknown",
        1 => "Session ID unknown",
        2 => "Bad handshake method",
        4 => "Forbidden",
        5 => "Unsupported protocol version",
        _ => "Bad request",
    };
    error_response(code, message, StatusCode::BAD_REQUEST)
}

/// A `200` with a text body (a polling payload, `ok`).
pub(super) fn text_response(body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    r
}

/// The `101 Switching Protocols` answer to a websocket handshake.
pub(super) fn switching(accept: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    async fn body_of(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&b).into_owned()
    }

    #[tokio::test]
    async fn errors_are_the_protocols_json() {
        let r = bad(1);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/json");
        assert_eq!(
            body_of(r).await,
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(
            body_of(bad(3)).await,
            r#"{"code":3,"message":"Bad request"}"#
        );
        assert_eq!(
            body_of(bad(5)).await,
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        );
        let r = error_response(3, "Payload too large", StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn text_is_utf8_plain_text() {
        let r = text_response("ok");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            "text/plain; charset=UTF-8"
        );
        assert_eq!(body_of(r).await, "ok");
    }

    #[test]
    fn switching_answers_the_handshake() {
        let r = switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(r.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(header_of(&r, header::UPGRADE), "websocket");
        assert_eq!(header_of(&r, header::CONNECTION), "Upgrade");
        assert_eq!(
            header_of(&r, header::SEC_WEBSOCKET_ACCEPT),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        // an accept value that is no header value is left out, not a panic
        let r = switching("bad\nvalue");
        assert!(r.headers().get(header::SEC_WEBSOCKET_ACCEPT).is_none());
    }
}
