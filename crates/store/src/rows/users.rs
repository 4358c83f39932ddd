//! Rows of accounts: a user as others see them, and as they see themselves.

use natter_core::{Id, Me, User};

use crate::Credentials;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub avatar: Option<String>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: Id(r.id),
            username: r.username,
            name: r.name,
            avatar: r.avatar,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MeRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub email: String,
    pub password_hash: String,
}

impl MeRow {
    pub fn me(self) -> Me {
        self.credentials().me
    }

    pub fn credentials(self) -> Credentials {
        Credentials {
            me: Me {
                user: self.user.into(),
                email: self.email,
            },
            password_hash: self.password_hash,
        }
    }
}
