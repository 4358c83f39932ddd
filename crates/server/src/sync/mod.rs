//! Catch-up after a reconnect: `sync` replays the room log after each cursor.

pub mod service;
pub mod socket;
