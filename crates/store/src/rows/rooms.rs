//! Rows of rooms and their members, with the viewer's membership columns.

use natter_core::{Id, Member, NotificationLevel, Role, Room, User};
use time::OffsetDateTime;

use super::UserRow;
use crate::error::bad_row;
use crate::Result;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MemberRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub role: String,
    pub joined_at: OffsetDateTime,
    pub last_read_seq: i64,
}

impl MemberRow {
    pub fn member(self) -> Result<Member> {
        Ok(Member {
            user: self.user.into(),
            role: role(&self.role)?,
            online: false,
            last_seen: None,
            joined_at: self.joined_at,
            last_read_seq: self.last_read_seq,
        })
    }
}

/// A member's stored level, or their default for this kind of room.
pub(crate) fn notify_level(s: Option<&str>, is_direct: bool) -> Result<NotificationLevel> {
    match s {
        None => Ok(NotificationLevel::default_for(is_direct)),
        Some(s) => s
            .parse()
            .map_err(|_| bad_row(format!("notification level {s:?}"))),
    }
}

pub(crate) fn role(s: &str) -> Result<Role> {
    s.parse().map_err(|_| bad_row(format!("role {s:?}")))
}

/// A room with the viewer's membership columns (NULL/0 when not a member)
/// and, for a DM, the other person.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RoomRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub is_direct: bool,
    pub created_by: i64,
    pub created_at: OffsetDateTime,
    pub last_seq: i64,
    pub role: Option<String>,
    pub unread: i64,
    pub mentions: i64,
    pub member_count: i64,
    pub peer_id: Option<i64>,
    pub peer_username: Option<String>,
    pub peer_name: Option<String>,
    pub peer_avatar: Option<String>,
    /// NULL: the member's default for this kind of room.
    pub notify_level: Option<String>,
}

impl RoomRow {
    pub fn room(self) -> Result<Room> {
        let peer = match (
            self.is_direct,
            self.peer_id,
            self.peer_username,
            self.peer_name,
        ) {
            (true, Some(id), Some(username), Some(name)) => Some(User {
                id: Id(id),
                username,
                name,
                avatar: self.peer_avatar,
            }),
            _ => None,
        };
        Ok(Room {
            id: Id(self.id),
            // A DM has no name of its own: it is called after the other person.
            name: peer.as_ref().map_or(self.name, |p| p.name.clone()),
            description: self.description,
            is_private: self.is_private,
            is_direct: self.is_direct,
            created_by: Id(self.created_by),
            created_at: self.created_at,
            last_seq: self.last_seq,
            unread: self.unread,
            mentions: self.mentions,
            role: self.role.as_deref().map(role).transpose()?,
            member_count: self.member_count,
            notifications: notify_level(self.notify_level.as_deref(), self.is_direct)?,
            peer,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use natter_core::{Error, NotificationLevel, Role};
    use time::OffsetDateTime;

    use super::{notify_level, role, RoomRow};

    #[test]
    fn levels_default_by_kind_of_room_and_bad_ones_are_errors() {
        assert_eq!(notify_level(None, true).unwrap(), NotificationLevel::All);
        assert_eq!(
            notify_level(None, false).unwrap(),
            NotificationLevel::Mentions
        );
        assert_eq!(
            notify_level(Some("none"), true).unwrap(),
            NotificationLevel::None
        );
        assert!(matches!(
            notify_level(Some("loud"), false),
            Err(Error::Internal(_))
        ));
        assert_eq!(role("moderator").unwrap(), Role::Moderator);
        assert!(matches!(role("owner"), Err(Error::Internal(_))));
    }

    fn row(is_direct: bool, peer_name: Option<&str>) -> RoomRow {
        RoomRow {
            id: 7,
            name: "dm:1:2".into(),
            description: String::new(),
            is_private: true,
            is_direct,
            created_by: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_seq: 3,
            role: Some("member".into()),
            unread: 0,
            mentions: 0,
            member_count: 2,
            peer_id: Some(2),
            peer_username: Some("bob".into()),
            peer_name: peer_name.map(Into::into),
            peer_avatar: None,
            notify_level: None,
        }
    }

    #[test]
    fn a_dm_is_named_after_the_other_person() {
        let dm = row(true, Some("Bob")).room().unwrap();
        assert_eq!(dm.name, "Bob");
        assert_eq!(dm.peer.map(|p| p.username), Some("bob".to_owned()));
        assert_eq!(dm.role, Some(Role::Member));
        assert_eq!(dm.notifications, NotificationLevel::All);
        // Not a DM (or a DM whose peer is not all there): no peer, own name.
        for r in [row(false, Some("Bob")), row(true, None)] {
            let room = r.room().unwrap();
            assert_eq!((room.name.as_str(), room.peer.is_none()), ("dm:1:2", true));
        }
    }
}
