//! Accounts: register, log in, log out, who am I.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use natter_core::{validate, Error, Me};
use natter_store::NewUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::extract::AuthUser;
use crate::auth::tokens::{session_cookie, token_from_headers};
use crate::error::{ApiResult, Json};
use crate::http::extract::{ClientIp, SecureCookie};
use crate::limits::Action;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(logout_all))
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RegisterBody {
    email: String,
    username: String,
    name: String,
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LoginBody {
    /// Email or username.
    login: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SessionBody {
    user: Me,
    token: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MeBody {
    user: Me,
}

async fn with_cookie(
    state: &AppState,
    secure: bool,
    status: StatusCode,
    user: Me,
) -> ApiResult<impl IntoResponse> {
    let token = state
        .start_session(user.user.id, &user.user.username)
        .await?;
    let cookie = session_cookie(Some(&token), state.tokens.ttl(), secure);
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
    SecureCookie(secure): SecureCookie,
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
    with_cookie(&state, secure, StatusCode::CREATED, user).await
}

/// POST /api/auth/login — by email or username.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginBody, tag = "auth",
    responses((status = 200, body = SessionBody), (status = 401, body = crate::error::ErrorEnvelope), (status = 429, body = crate::error::ErrorEnvelope)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SecureCookie(secure): SecureCookie,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    state.limits.login(ip, &body.login)?;
    let wrong = || Error::Unauthenticated("wrong login or password".into());
    let creds = state.store.credentials(&body.login).await?;
    // Verify against a fixed hash when the user is unknown, so timing does not
    // tell which logins exist.
    let (hash, user) = match creds {
        Some(c) => (c.password_hash, Some(c.me)),
        None => (DUMMY_HASH.to_owned(), None),
    };
    let ok = state.passwords.verify(body.password, hash).await?;
    match user {
        Some(user) if ok => Ok(with_cookie(&state, secure, StatusCode::OK, user)
            .await?
            .into_response()),
        _ => Err(wrong().into()),
    }
}

/// An argon2id hash of a random password, for constant-time misses.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$E7TE7Xn0lRaXTWPdZ3Ihh8uplsHe6hvbYtNaDZP5MGk";

/// POST /api/auth/logout — revokes the caller's session (its token stops
/// working, its sockets are disconnected) and clears the cookie. Without a
/// valid token it only clears the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    SecureCookie(secure): SecureCookie,
    headers: axum::http::HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if let Some(token) = token_from_headers(&headers) {
        if let Ok(session) = state.authenticate(&token).await {
            state.end_session(&session.sid).await?;
        }
    }
    Ok(cleared(&state, secure))
}

fn cleared(state: &AppState, secure: bool) -> impl IntoResponse {
    let cookie = session_cookie(None, state.tokens.ttl(), secure);
    (
        StatusCode::NO_CONTENT,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
    )
}

/// POST /api/auth/logout-all — "sign out everywhere": revokes every session
/// of the caller, this one included, and disconnects all their sockets.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorEnvelope)))]
async fn logout_all(
    State(state): State<AppState>,
    SecureCookie(secure): SecureCookie,
    AuthUser(who): AuthUser,
) -> ApiResult<impl IntoResponse> {
    let ended = state.store.revoke_sessions_of(who.user_id, None).await?;
    state.sessions_ended(&ended);
    // sockets of sessions that were already gone from the table, too
    state
        .engine
        .to(crate::app::NS, &crate::app::user_channel(who.user_id))
        .disconnect();
    Ok(cleared(&state, secure))
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct PasswordBody {
    current: String,
    new: String,
}

/// POST /api/auth/password — change the password (`current` must match);
/// every other session of the user is revoked and its sockets disconnected.
/// This session stays signed in.
#[utoipa::path(post, path = "/api/auth/password", request_body = PasswordBody, tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorEnvelope), (status = 401, body = crate::error::ErrorEnvelope), (status = 429, body = crate::error::ErrorEnvelope)))]
async fn change_password(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Json(body): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    state.limits.user(Action::Password, who.user_id)?;
    validate::password(&body.new)?;
    let hash = state
        .store
        .password_hash(who.user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("Invalid token".into()))?;
    if !state.passwords.verify(body.current, hash).await? {
        return Err(Error::invalid("current: wrong password").into());
    }
    let new_hash = state.passwords.hash(body.new).await?;
    let ended = state
        .store
        .change_password(who.user_id, &new_hash, Some(&who.sid))
        .await?;
    state.sessions_ended(&ended);
    Ok(StatusCode::NO_CONTENT)
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
