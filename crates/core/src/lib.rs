//! Natter's domain: the objects of the wire contract, their validation, the
//! permission rules and mention parsing. Nothing here does IO, so the store, the
//! server and the tests all share one definition of what is valid.

pub mod error;
pub mod events;
pub mod files;
pub mod mentions;
pub mod model;
pub mod perms;
pub mod search;
pub mod validate;

pub use error::{Error, ErrorBody, ErrorCode, Result};
pub use model::*;
