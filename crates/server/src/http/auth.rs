//! Accounts: register, log in, log out, who am I.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use natter_core::{validate, Error, Me};
use natter_store::NewUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ClientIp;
use crate::app::AppState;
use crate::auth::{session_cookie, AuthUser};
use crate::error::{ApiResult, Json};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    email: String,
    username: String,
    name: String,
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Email or username.
    login: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    user: Me,
    token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    user: Me,
}

fn with_cookie(state: &AppState, status: StatusCode, user: Me) -> ApiResult<impl IntoResponse> {
    let token = state.tokens.issue(user.user.id, &user.user.username)?;
    let cookie = session_cookie(Some(&token), state.tokens.ttl(), state.config.secure_cookie);
    Ok((
        status,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        Json(SessionBody { user, token }),
    ))
}

/// POST /api/auth/register — create an account and a session.
#[utoipa::path(post, path = "/api/auth/register", request_body = RegisterBody, tag = "auth",
    responses((status = 201, body = SessionBody), (status = 400, body = crate::error::ErrorEnvelope), (status = 409, body = crate::error::ErrorEnvelope)))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<RegisterBody>,
) -> ApiResult<impl IntoResponse> {
    state.limits.register(ip)?;
    let email = validate::email(&body.email)?;
    let username = validate::username(&body.username)?;
    let name = validate::display_name(&body.name)?;
    validate::password(&body.password)?;
    let password_hash = state.passwords.hash(body.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            email,
            username,
            name,
            password_hash,
        })
        .await?;
    with_cookie(&state, StatusCode::CREATED, user)
}

/// POST /api/auth/login — by email or username.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginBody, tag = "auth",
    responses((status = 200, body = SessionBody), (status = 401, body = crate::error::ErrorEnvelope), (status = 429, body = crate::error::ErrorEnvelope)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    state.limits.login(ip, &body.login)?;
    let wrong = || Error::Unauthenticated("wrong login or password".into());
    let creds = state.store.credentials(body.login.trim()).await?;
    // Verify against a fixed hash when the user is unknown, so timing does not
    // tell which logins exist.
    let (hash, user) = match creds {
        Some(c) => (c.password_hash, Some(c.me)),
        None => (DUMMY_HASH.to_owned(), None),
    };
    let ok = state.passwords.verify(body.password, hash).await?;
    match user {
        Some(user) if ok => with_cookie(&state, StatusCode::OK, user),
        _ => Err(wrong().into()),
    }
}

/// An argon2id hash of a random password, for constant-time misses.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$E7TE7Xn0lRaXTWPdZ3Ihh8uplsHe6hvbYtNaDZP5MGk";

/// POST /api/auth/logout — clears the session cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(State(state): State<AppState>) -> impl IntoResponse {
    let cookie = session_cookie(None, state.tokens.ttl(), state.config.secure_cookie);
    (
        StatusCode::NO_CONTENT,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
    )
}

/// GET /api/me — the signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeBody), (status = 401, body = crate::error::ErrorEnvelope)))]
async fn me(State(state): State<AppState>, AuthUser(who): AuthUser) -> ApiResult<Json<MeBody>> {
    let user = state
        .store
        .me(who.user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("Invalid token".into()))?;
    Ok(Json(MeBody { user }))
}
