//! Who may do what in a room. The server asks these; it never decides inline.

use crate::Role;

/// Delete a message: its author, a moderator or an admin of its room.
pub fn can_delete_message(actor: Role, is_author: bool) -> bool {
    is_author || actor >= Role::Moderator
}

/// Edit a message: only its author.
pub fn can_edit_message(is_author: bool) -> bool {
    is_author
}

/// Invite someone into a room: an admin or moderator.
pub fn can_invite(actor: Role) -> bool {
    actor >= Role::Moderator
}

/// Remove someone: an admin or moderator, and never an admin.
pub fn can_remove(actor: Role, target: Role) -> bool {
    actor >= Role::Moderator && target != Role::Admin
}

/// Change a room's name/description, or a member's role: admin only.
pub fn can_manage_room(actor: Role) -> bool {
    actor == Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(can_delete_message(Role::Member, true));
        assert!(!can_delete_message(Role::Member, false));
        assert!(can_delete_message(Role::Moderator, false));
        assert!(can_delete_message(Role::Admin, false));
        assert!(!can_invite(Role::Member));
        assert!(can_invite(Role::Moderator));
        assert!(!can_remove(Role::Admin, Role::Admin));
        assert!(can_remove(Role::Moderator, Role::Member));
        assert!(can_remove(Role::Moderator, Role::Moderator));
        assert!(!can_remove(Role::Member, Role::Member));
        assert!(can_manage_room(Role::Admin));
        assert!(!can_manage_room(Role::Moderator));
    }
}
