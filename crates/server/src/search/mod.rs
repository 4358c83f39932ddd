//! Message search (`GET /api/search`) over the store's index.

pub mod http;
pub mod service;
