//! Messages: sending (group-committed per room), editing, deleting, reacting,
//! history, in per-room order of live events.

pub mod http;
pub mod service;
pub mod socket;
