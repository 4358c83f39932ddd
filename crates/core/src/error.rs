//! The one error type of Natter. Every failure a client can see is one of these
//! variants; the server maps them once to HTTP statuses and socket acks.

use serde::{Deserialize, Serialize};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the input is malformed or breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// 401: no credentials, or bad ones.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: authenticated but not allowed (also: a private room one is not in).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing (also: an unknown socket event).
    #[error("{0}")]
    NotFound(String),
    /// 409: clashes with what is stored (a taken username, say).
    #[error("{0}")]
    Conflict(String),
    /// 413: content or body over its limit.
    #[error("{0}")]
    TooLarge(String),
    /// 429: slow down; retry after this many seconds.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 500: anything unexpected. The detail is logged, never sent to a client.
    #[error("internal error: {0}")]
    Internal(String),
    /// 500 (code `internal`): a dependency (the database) cannot be reached
    /// right now. Unlike `Internal`, its message is shown: the client should
    /// retry (with the same `clientId`), and an operator should look.
    #[error("{0}")]
    Unavailable(String),
}

/// The stable, machine-readable code of an error: the same on REST and sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Invalid => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
        }
    }
}

/// `{code, message}` as sent to clients (inside `{error: …}` on REST and acks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Error::Forbidden(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Error::Conflict(msg.into())
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::TooLarge(_) => ErrorCode::TooLarge,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Internal(_) | Error::Unavailable(_) => ErrorCode::Internal,
        }
    }

    /// What a client may see: internal details are replaced by a generic text.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Error::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            code: self.code(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_hidden() {
        let body = Error::internal("db password wrong at src/x.rs:3").body();
        assert_eq!(body.message, "internal error");
        assert_eq!(
            serde_json::to_value(&body).unwrap_or_default(),
            serde_json::json!({"code": "internal", "message": "internal error"})
        );
    }

    #[test]
    fn unavailable_says_so() {
        let body = Error::Unavailable("the database is unreachable; retry shortly".into()).body();
        assert_eq!(body.code, ErrorCode::Internal);
        assert_eq!(body.message, "the database is unreachable; retry shortly");
    }

    #[test]
    fn codes_and_statuses_are_the_contract() {
        let pairs = [
            (Error::invalid("x"), "invalid", 400),
            (Error::Unauthenticated("x".into()), "unauthenticated", 401),
            (Error::forbidden("x"), "forbidden", 403),
            (Error::not_found("x"), "not_found", 404),
            (Error::conflict("x"), "conflict", 409),
            (Error::TooLarge("x".into()), "too_large", 413),
            (
                Error::RateLimited {
                    retry_after_secs: 1,
                },
                "rate_limited",
                429,
            ),
            (Error::internal("x"), "internal", 500),
            (Error::Unavailable("x".into()), "internal", 500),
        ];
        for (err, code, status) in pairs {
            assert_eq!(err.code().as_str(), code);
            assert_eq!(err.code().http_status(), status);
            assert_eq!(
                serde_json::to_value(err.code()).unwrap_or_default(),
                serde_json::json!(code)
            );
        }
    }
}
