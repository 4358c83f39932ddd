//! The REST door's caller: the `AuthUser` extractor (401 without a valid session).

use crate::app::AppState;
pub use crate::auth::passwords::Passwords;
use crate::auth::tokens::{token_from_headers, Session};
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use natter_core::{Error, Result};

/// Extractor: the authenticated caller of a REST endpoint (401 otherwise).
pub struct AuthUser(pub Session);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_from_headers(&parts.headers)
            .ok_or_else(|| Error::Unauthenticated("Authentication required".into()))?;
        Ok(AuthUser(state.authenticate(&token).await?))
    }
}
