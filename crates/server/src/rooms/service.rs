//! Rooms, members, roles and direct messages.

use natter_core::events::payload::{RoomUpdated, RoomUser};
use natter_core::events::ServerEvent;
use natter_core::{perms, validate, Error, Id, Member, Result, Role, Room};
use natter_store::{NewRoom, RoomPatch};

use crate::app::App;
use crate::auth::tokens::Session;

/// A change to a room's settings, as sent by a client.
#[derive(Debug, Clone, Default)]
pub struct RoomChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_private: Option<bool>,
}

impl App {
    pub async fn create_room(
        &self,
        who: &Session,
        name: &str,
        description: &str,
        is_private: bool,
    ) -> Result<Room> {
        self.limits
            .user(crate::limits::Action::CreateRoom, who.user_id)?;
        let room = self
            .store
            .create_room(NewRoom {
                name: validate::room_name(name)?,
                description: validate::description(description)?,
                is_private,
                created_by: who.user_id,
            })
            .await?;
        self.subscribe_user(who.user_id, room.id);
        Ok(room)
    }

    /// A room the caller may look at: any public room, or one they are in.
    pub async fn visible_room(&self, who: &Session, id: Id) -> Result<Room> {
        let room = self
            .store
            .room(id, who.user_id)
            .await?
            .ok_or_else(|| Error::not_found("room not found"))?;
        if room.role.is_none() && (room.is_private || room.is_direct) {
            return Err(Error::forbidden("you are not a member of this room"));
        }
        Ok(room)
    }

    /// A room the caller is a member of, with their role, in one lookup:
    /// `not_found` if there is no such room, `forbidden` if not a member.
    async fn my_room(&self, who: &Session, id: Id) -> Result<(Room, Role)> {
        let room = self
            .store
            .room(id, who.user_id)
            .await?
            .ok_or_else(|| Error::not_found("room not found"))?;
        let role = room
            .role
            .ok_or_else(|| Error::forbidden("you are not a member of this room"))?;
        Ok((room, role))
    }

    pub async fn update_room(&self, who: &Session, id: Id, changes: RoomChanges) -> Result<Room> {
        let (room, role) = self.my_room(who, id).await?;
        if !perms::can_manage_room(role) {
            return Err(Error::forbidden("only a room admin can change it"));
        }
        if room.is_direct {
            return Err(Error::invalid("a direct message has no settings"));
        }
        let patch = RoomPatch {
            name: changes
                .name
                .as_deref()
                .map(validate::room_name)
                .transpose()?,
            description: changes
                .description
                .as_deref()
                .map(validate::description)
                .transpose()?,
            is_private: changes.is_private,
        };
        let changed = !patch.is_empty();
        // Held from the seq to the broadcast, as edits do (`crate::order`).
        let _order = self.room_locks.lock(id).await;
        let room = self.store.update_room(id, patch, who.user_id).await?;
        if changed {
            // The change took the room's newest seq (`Store::update_room`).
            self.emit_room(id, ServerEvent::RoomUpdated(RoomUpdated::of(&room)));
        }
        Ok(room)
    }

    /// Become a member of a public room (a member already: nothing changes).
    /// Returns the room and whether the membership is new. Every open socket
    /// of the user is subscribed, and the room hears of a new member.
    pub async fn join_room(&self, who: &Session, id: Id) -> Result<(Room, bool)> {
        let room = self.visible_room(who, id).await?;
        if room.role.is_some() {
            return Ok((room, false));
        }
        self.limits
            .user(crate::limits::Action::Membership, who.user_id)?;
        let added = self.store.add_member(id, who.user_id, Role::Member).await?;
        let room = self
            .store
            .room(id, who.user_id)
            .await?
            .ok_or_else(|| Error::not_found("room not found"))?;
        if added {
            self.subscribe_user(who.user_id, id);
            let user = self.require_user(who.user_id).await?;
            self.emit_room(
                id,
                ServerEvent::RoomUserJoined(RoomUser { room_id: id, user }),
            );
        }
        Ok((room, added))
    }

    /// Give up membership (REST `leave`); the user's sockets stop hearing it.
    pub async fn leave_room(&self, who: &Session, id: Id) -> Result<()> {
        self.limits
            .user(crate::limits::Action::Membership, who.user_id)?;
        let (room, _) = self.my_room(who, id).await?;
        if room.is_direct {
            return Err(Error::invalid("you cannot leave a direct message"));
        }
        if self.store.remove_member(id, who.user_id).await? {
            self.unsubscribe_user(who.user_id, id);
            let user = self.require_user(who.user_id).await?;
            self.announce_gone(id, user);
        }
        Ok(())
    }

    /// `room:leave`: one socket of `who` stops hearing a room they stay a
    /// member of (`unsubscribe` does that); the room is told, as for a leave.
    pub async fn stop_hearing(
        &self,
        who: &Session,
        id: Id,
        unsubscribe: impl FnOnce(),
    ) -> Result<()> {
        self.require_member(id, who.user_id).await?;
        unsubscribe();
        let user = self.require_user(who.user_id).await?;
        self.announce_left(id, user);
        Ok(())
    }

    fn announce_left(&self, id: Id, user: natter_core::User) {
        self.emit_room(
            id,
            ServerEvent::RoomUserLeft(RoomUser { room_id: id, user }),
        );
    }

    /// A membership ended (a leave, a removal): the room is told, and so are
    /// the user's own sockets, which no longer hear the room (another tab, or
    /// the removed user, drops it from its list).
    fn announce_gone(&self, id: Id, user: natter_core::User) {
        let uid = user.id;
        let left = RoomUser { room_id: id, user };
        self.emit_room(id, ServerEvent::RoomUserLeft(left.clone()));
        self.emit_user(uid, ServerEvent::RoomUserLeft(left));
    }

    pub async fn members(&self, who: &Session, id: Id) -> Result<Vec<Member>> {
        let room = self.visible_room(who, id).await?;
        let mut members = self.store.members(id).await?;
        if room.role.is_none() {
            // Presence and read state are for people who share the room: a
            // visitor of a public room sees who is in it and their roles only.
            for m in &mut members {
                m.online = false;
                m.last_seen = None;
                m.last_read_seq = 0;
            }
            return Ok(members);
        }
        let ids: Vec<Id> = members.iter().map(|m| m.user.id).collect();
        let online = self.presence.online(&ids).await;
        let seen = self.presence.last_seen(&ids).await;
        for ((m, online), seen) in members.iter_mut().zip(online).zip(seen) {
            m.online = online;
            m.last_seen = if online { None } else { seen };
        }
        Ok(members)
    }

    /// Add someone to a room: admin or moderator; `conflict` if already in.
    pub async fn invite(&self, who: &Session, id: Id, target: Id) -> Result<Member> {
        self.limits
            .user(crate::limits::Action::Membership, who.user_id)?;
        let role = self.require_member(id, who.user_id).await?;
        if !perms::can_invite(role) {
            return Err(Error::forbidden("only an admin or moderator can invite"));
        }
        if self
            .store
            .room(id, who.user_id)
            .await?
            .is_some_and(|r| r.is_direct)
        {
            return Err(Error::invalid("nobody can be added to a direct message"));
        }
        let user = self.require_user(target).await?;
        if !self.store.add_member(id, target, Role::Member).await? {
            return Err(Error::conflict("already a member of this room"));
        }
        self.subscribe_user(target, id);
        self.emit_room(
            id,
            ServerEvent::RoomUserJoined(RoomUser { room_id: id, user }),
        );
        self.member(id, target).await
    }

    /// Remove someone: admin or moderator, and never an admin.
    pub async fn remove_member(&self, who: &Session, id: Id, target: Id) -> Result<()> {
        self.limits
            .user(crate::limits::Action::Membership, who.user_id)?;
        let role = self.require_member(id, who.user_id).await?;
        let target_role = self
            .store
            .role_of(id, target)
            .await?
            .ok_or_else(|| Error::not_found("not a member of this room"))?;
        if !perms::can_remove(role, target_role) {
            return Err(Error::forbidden(
                "only an admin or moderator can remove members, and never an admin",
            ));
        }
        let user = self.require_user(target).await?;
        if self.store.remove_member(id, target).await? {
            self.unsubscribe_user(target, id);
            self.announce_gone(id, user);
        }
        Ok(())
    }

    /// Change a member's role: admin only, and not one's own (a room keeps its admin).
    pub async fn set_role(
        &self,
        who: &Session,
        id: Id,
        target: Id,
        new_role: Role,
    ) -> Result<Member> {
        self.limits
            .user(crate::limits::Action::Membership, who.user_id)?;
        let role = self.require_member(id, who.user_id).await?;
        if !perms::can_manage_room(role) {
            return Err(Error::forbidden("only a room admin can change roles"));
        }
        if target == who.user_id {
            return Err(Error::invalid("you cannot change your own role"));
        }
        if !self.store.set_role(id, target, new_role).await? {
            return Err(Error::not_found("not a member of this room"));
        }
        self.member(id, target).await
    }

    async fn member(&self, room: Id, user: Id) -> Result<Member> {
        let mut m = self
            .store
            .members(room)
            .await?
            .into_iter()
            .find(|m| m.user.id == user)
            .ok_or_else(|| Error::not_found("not a member of this room"))?;
        m.online = self.is_online(user).await;
        Ok(m)
    }

    /// The pair's one DM room, found or made; both users' sockets subscribe.
    pub async fn open_dm(&self, who: &Session, peer: Id) -> Result<Room> {
        if peer == who.user_id {
            return Err(Error::invalid("userId: you cannot message yourself"));
        }
        self.require_user(peer).await?;
        if !self.store.dm_exists(who.user_id, peer).await? {
            self.limits
                .user(crate::limits::Action::OpenDm, who.user_id)?;
        }
        let (room, created) = self.store.dm_room(who.user_id, peer).await?;
        if created {
            self.subscribe_user(who.user_id, room.id);
            self.subscribe_user(peer, room.id);
        }
        Ok(room)
    }

    /// Whether any socket of `user` is connected, on any node.
    pub async fn is_online(&self, user: Id) -> bool {
        self.presence
            .online(&[user])
            .await
            .first()
            .copied()
            .unwrap_or(false)
    }
}
