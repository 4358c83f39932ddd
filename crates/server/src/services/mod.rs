//! What Natter does, once: every REST handler and socket event calls these, so
//! the checks (membership, roles, validation) and the fan-out cannot differ
//! between the two doors.

pub mod files;
pub mod images;
pub mod messages;
pub mod order;
pub mod rooms;
pub mod search;
pub mod sync;

use natter_core::{Error, Id, Result, Role};

use crate::app::App;

impl App {
    /// The caller's role in a room: `not_found` if there is no such room,
    /// `forbidden` if they are not a member.
    pub async fn require_member(&self, room: Id, user: Id) -> Result<Role> {
        if let Some(role) = self.store.role_of(room, user).await? {
            return Ok(role);
        }
        match self.store.room(room, user).await? {
            None => Err(Error::not_found("room not found")),
            Some(_) => Err(Error::forbidden("you are not a member of this room")),
        }
    }

    pub async fn require_user(&self, user: Id) -> Result<natter_core::User> {
        self.store
            .user(user)
            .await?
            .ok_or_else(|| Error::not_found("user not found"))
    }
}
