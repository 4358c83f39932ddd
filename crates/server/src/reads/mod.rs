//! Read cursors and unread counts (`message:read`, `unread:update`).

pub mod service;
pub mod socket;
