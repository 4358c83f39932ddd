//! Users as a service: finding people (DMs, mention completion) and loading one.

use natter_core::{validate, Error, Id, Result, User};

use crate::app::App;

/// Users one search returns at most.
pub const MAX_FOUND: u32 = 20;

impl App {
    /// Users whose username or name contains `query` (validated).
    pub async fn find_users(&self, query: &str) -> Result<Vec<User>> {
        let query = validate::search_query(query)?;
        self.store.search_users(query, MAX_FOUND).await
    }

    /// The user, or `not_found`.
    pub async fn require_user(&self, user: Id) -> Result<User> {
        self.store
            .user(user)
            .await?
            .ok_or_else(|| Error::not_found("user not found"))
    }
}
