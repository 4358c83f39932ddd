//! The objects of the wire contract (docs/CONTRACT.md §2): JSON in camelCase, ids as
//! strings, times in RFC 3339.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// A database id. Stored as an integer, always sent as a string; accepted as a
/// string (or, leniently, as a JSON integer) from clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

/// On the wire an id is a string (`"42"`), whatever it is in the database.
#[cfg(feature = "ts")]
impl ts_rs::TS for Id {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "Id".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn decl(_: &ts_rs::Config) -> String {
        "type Id = string;".to_owned()
    }
    fn decl_concrete(cfg: &ts_rs::Config) -> String {
        Self::decl(cfg)
    }
    fn output_path() -> Option<std::path::PathBuf> {
        Some("Id.ts".into())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An id: a decimal integer, as a string"))
            .examples(["42"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Id {}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Id {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(Id)
            .ok_or_else(|| crate::Error::invalid(format!("'{s}' is not a valid id")))
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(i64),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::N(n) if n > 0 => Ok(Id(n)),
            Raw::N(n) => Err(serde::de::Error::custom(format!("'{n}' is not a valid id"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Id,
    pub username: String,
    pub name: String,
    pub avatar: Option<String>,
}

/// The signed-in user's own view of themself: the only place an email appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    pub email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Member => "member",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "member" => Ok(Role::Member),
            other => Err(crate::Error::invalid(format!(
                "'{other}' is not a role (admin, moderator, member)"
            ))),
        }
    }
}

/// A room as one user sees it: `unread`, `mentions` and `role` are theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub is_direct: bool,
    pub created_by: Id,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    pub last_seq: i64,
    pub unread: i64,
    pub mentions: i64,
    pub role: Option<Role>,
    /// Members in the room (handy for the room browser and headers).
    pub member_count: i64,
    /// For a DM: the other person.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<User>,
    /// The viewer's notification level here (their default when not set:
    /// `all` in a DM, `mentions` in a room).
    pub notifications: NotificationLevel,
}

/// What a member is notified of in one room (push and the `notification`
/// event). Unread and mention counts count whatever the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "lowercase")]
pub enum NotificationLevel {
    /// Every message (the default of a DM).
    All,
    /// Messages that mention them, `@room` included (the default of a room).
    Mentions,
    /// Nothing.
    None,
}

impl NotificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationLevel::All => "all",
            NotificationLevel::Mentions => "mentions",
            NotificationLevel::None => "none",
        }
    }

    /// A member's level when they have not chosen one.
    pub fn default_for(is_direct: bool) -> Self {
        if is_direct {
            NotificationLevel::All
        } else {
            NotificationLevel::Mentions
        }
    }

    /// Whether a message reaches this member at this level.
    pub fn notifies(self, mentioned: bool) -> bool {
        match self {
            NotificationLevel::All => true,
            NotificationLevel::Mentions => mentioned,
            NotificationLevel::None => false,
        }
    }
}

impl std::str::FromStr for NotificationLevel {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(NotificationLevel::All),
            "mentions" => Ok(NotificationLevel::Mentions),
            "none" => Ok(NotificationLevel::None),
            other => Err(crate::Error::invalid(format!(
                "'{other}' is not a notification level (all, mentions, none)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub online: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_seen: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub joined_at: OffsetDateTime,
    /// The seq this member has read up to (their read cursor).
    pub last_read_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    #[default]
    Text,
    Image,
    File,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::File => "file",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(MessageType::Text),
            "image" => Some(MessageType::Image),
            "file" => Some(MessageType::File),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    /// In the order they reacted.
    pub user_ids: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReplyUser {
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReplyTo {
    pub id: Id,
    pub content: String,
    pub user: ReplyUser,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: Id,
    pub room_id: Id,
    pub user_id: Id,
    /// The message's place in its room: the eventSeq of its creation.
    pub seq: i64,
    pub content: String,
    #[serde(rename = "type")]
    pub kind: MessageType,
    pub file_url: Option<String>,
    pub reply_to_id: Option<Id>,
    pub reply_to: Option<ReplyTo>,
    pub user: User,
    pub reactions: Vec<Reaction>,
    pub mentions: Vec<Id>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub client_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub updated_at: OffsetDateTime,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[cfg_attr(feature = "ts", ts(type = "string", optional = nullable))]
    pub edited_at: Option<OffsetDateTime>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[cfg_attr(feature = "ts", ts(type = "string", optional = nullable))]
    pub deleted_at: Option<OffsetDateTime>,
}

/// One stored change of a room, as `sync` returns it: `{eventSeq, roomId,
/// event, data}`, `event` and `data` being the live event's name and payload
/// exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomEvent {
    pub event_seq: i64,
    pub room_id: Id,
    #[serde(flatten)]
    pub event: crate::events::ServerEvent,
}

impl RoomEvent {
    /// The event's wire name, e.g. `message:new`.
    pub fn name(&self) -> &'static str {
        self.event.name().as_str()
    }

    /// The payload as the wire's JSON (what a replaying client reads).
    pub fn data(&self) -> serde_json::Value {
        serde_json::to_value(self.event.data()).unwrap_or_default()
    }
}

/// Unread and mention counts of one member in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct UnreadCounts {
    pub room_id: Id,
    pub unread: i64,
    pub mentions: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strings_on_the_wire() {
        assert_eq!(serde_json::to_string(&Id(42)).unwrap_or_default(), "\"42\"");
        let id: Id = serde_json::from_str("\"7\"").unwrap_or(Id(0));
        assert_eq!(id, Id(7));
        let id: Id = serde_json::from_str("9").unwrap_or(Id(0));
        assert_eq!(id, Id(9));
        assert!(serde_json::from_str::<Id>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Id>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Id>("{}").is_err());
    }
}
