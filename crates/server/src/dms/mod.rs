//! Direct messages: the pair's one DM room (`POST /api/dms`, `dm:send`).

pub mod http;
pub mod service;
pub mod socket;
