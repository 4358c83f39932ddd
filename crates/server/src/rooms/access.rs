//! Who may act in a room: the membership check every feature runs (REST and
//! socket doors call the same services, so the checks cannot differ).

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
}
