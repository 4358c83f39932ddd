//! Users: profiles and lookups (`/api/users`).

pub mod http;
pub mod service;
