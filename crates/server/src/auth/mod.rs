//! Accounts and sessions: tokens, passwords, revocable sessions, and the REST
//! door (`/api/auth/*`, `/api/me`).

pub mod extract;
pub mod http;
pub mod passwords;
pub mod service;
pub mod sessions;
pub mod tokens;
