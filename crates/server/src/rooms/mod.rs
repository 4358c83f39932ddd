//! Rooms: creating, browsing, joining, leaving, members and roles, settings
//! (`room:updated`), and who may act in a room.

pub mod access;
pub mod http;
pub mod service;
pub mod socket;
