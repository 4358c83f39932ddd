//! Passwords (argon2id, in `passwords.rs`), session tokens (JWT HS256 with
//! `userId`, `username`, `exp`) and the session cookie.

use std::time::Duration;

use axum::http::{header, HeaderMap};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use natter_core::{Error, Id, Result};
use serde::{Deserialize, Serialize};

pub const COOKIE_NAME: &str = "natter_session";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    user_id: String,
    username: String,
    exp: u64,
    iat: u64,
    /// The session (a row of `sessions`): revoking it revokes the token.
    sid: String,
}

/// Signs and checks session tokens.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

/// Who is calling: read from a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: Id,
    pub username: String,
    /// The session id (`sid` claim).
    pub sid: String,
    /// Unix seconds: when the token expires.
    pub exp: u64,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for session `sid`, expiring at `exp` (unix seconds).
    pub fn issue(&self, user_id: Id, username: &str, sid: &str, exp: u64) -> Result<String> {
        let claims = Claims {
            user_id: user_id.to_string(),
            username: username.to_owned(),
            iat: unix_now(),
            exp,
            sid: sid.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    /// `Invalid token` for anything but a well-signed, unexpired token.
    pub fn verify(&self, token: &str) -> Result<Session> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        let data = decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| Error::Unauthenticated("Invalid token".into()))?;
        // Expired from its `exp` second on, as the socket sweeper sees it
        // (jsonwebtoken still accepts the `exp` second itself).
        if data.claims.exp <= unix_now() {
            return Err(Error::Unauthenticated("Invalid token".into()));
        }
        let user_id = data
            .claims
            .user_id
            .parse()
            .map_err(|_| Error::Unauthenticated("Invalid token".into()))?;
        Ok(Session {
            user_id,
            username: data.claims.username,
            sid: data.claims.sid,
            exp: data.claims.exp,
        })
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token from `Authorization: Bearer …`, else from the session cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            return Some(t.trim().to_owned());
        }
    }
    cookie_token(headers)
}

pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session (or, with `None`, one that clears it).
pub fn session_cookie(token: Option<&str>, ttl: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{COOKIE_NAME}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            ttl.as_secs()
        ),
        None => format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = Tokens::new(b"secret", Duration::from_secs(60));
        let exp = unix_now() + 60;
        let tok = t.issue(Id(5), "ana", "s1", exp).unwrap_or_default();
        assert_eq!(
            t.verify(&tok).ok(),
            Some(Session {
                user_id: Id(5),
                username: "ana".into(),
                sid: "s1".into(),
                exp,
            })
        );
        let other = Tokens::new(b"other", Duration::from_secs(60));
        assert!(other.verify(&tok).is_err());
        assert!(t.verify("garbage").is_err());
    }

    #[test]
    fn reads_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=b; natter_session=xyz; c=d"
                .parse()
                .unwrap_or(header::HeaderValue::from_static("")),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("xyz"));
    }
}
