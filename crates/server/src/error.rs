//! The one mapping of Natter's errors to HTTP responses and socket acks.
//! `natter_core::Error` says what went wrong; this file says how it looks.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_core::{Error, ErrorBody};
use serde::Serialize;

/// An error on its way to a client.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// `{error: {code, message}}`: the envelope of every error, REST and ack alike.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// `{ok: false, error: {code, message}}`: a failed socket ack.
#[derive(Debug, Serialize)]
pub struct AckError {
    pub ok: bool,
    pub error: ErrorBody,
}

/// Logs what the client must not see, once, wherever the error is reported.
pub fn client_body(err: &Error) -> ErrorBody {
    if let Error::Internal(detail) = err {
        tracing::error!(%detail, "internal error");
    }
    err.body()
}

pub fn ack_error(err: &Error) -> AckError {
    AckError {
        ok: false,
        error: client_body(err),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = client_body(&self.0);
        let status = StatusCode::from_u16(body.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(ErrorEnvelope { error: body })).into_response();
        if let Error::RateLimited { retry_after_secs } = self.0 {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError(Error::TooLarge("request body over 1 MB".into()))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError(Error::invalid(
                "expected a JSON body (Content-Type: application/json)",
            )),
            other => ApiError(Error::invalid(other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError(Error::invalid(r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError(Error::invalid(r.body_text()))
    }
}

/// `Json` whose rejections are Natter errors (`invalid`, `too_large`).
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Query` whose rejections are `invalid`.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `Path` whose rejections are `invalid`.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);
