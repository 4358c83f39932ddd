//! Message search (issue 10): parses the query, resolves its operators
//! (`from:`, `in:`) to ids, scopes it to the caller's rooms, asks the store,
//! and builds each result's snippet. The REST door is `http/search.rs`.

use natter_core::search::{self, Cursor, From, Piece, Sort};
use natter_core::{Error, Id, Message, Result};
use natter_store::SearchRequest;

use crate::app::App;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;

/// A search as a client asks it.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: String,
    /// Only this room (the caller must be a member).
    pub room_id: Option<Id>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<Sort>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub message: Message,
    pub snippet: Vec<Piece>,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub results: Vec<Hit>,
    pub next_cursor: Option<String>,
}

impl App {
    pub async fn search(&self, user: Id, p: SearchParams) -> Result<Found> {
        let limit = match p.limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
            Some(l) => {
                return Err(Error::invalid(format!(
                    "limit must be 1–{MAX_LIMIT}, not {l}"
                )))
            }
        };
        let sort = p.sort.unwrap_or_default();
        let query = search::parse(&p.q)?;
        if !query.has_criteria() {
            return Err(Error::invalid(
                "q needs a word or a filter to search for (-word only excludes)",
            ));
        }
        let cursor = p
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| Cursor::decode(c, sort))
            .transpose()?;
        let mut rooms = match p.room_id {
            Some(room) => {
                self.require_member(room, user).await?;
                Some(vec![room])
            }
            None => None,
        };
        if !query.rooms.is_empty() {
            // `in:#name`: rooms of the caller with that name (ignoring case).
            let named: Vec<Id> = self
                .store
                .rooms_of(user)
                .await?
                .into_iter()
                .filter(|r| !r.is_direct && query.rooms.contains(&r.name.to_lowercase()))
                .map(|r| r.id)
                .collect();
            rooms = Some(match rooms {
                Some(scope) => named.into_iter().filter(|r| scope.contains(r)).collect(),
                None => named,
            });
        }
        let from = if query.from.is_empty() {
            None
        } else {
            let mut ids = Vec::new();
            let mut names = Vec::new();
            for f in &query.from {
                match f {
                    From::Me => ids.push(user),
                    From::Username(n) => names.push(n.clone()),
                }
            }
            if !names.is_empty() {
                ids.extend(
                    self.store
                        .users_by_username(&names)
                        .await?
                        .into_iter()
                        .map(|u| u.id),
                );
            }
            // Unknown users wrote nothing: an empty list finds nothing.
            Some(ids)
        };
        let (since, until) = query.span();
        let page = self
            .store
            .search(SearchRequest {
                user,
                rooms,
                from,
                terms: query.terms.clone(),
                excluded: query.excluded,
                has: query.has,
                since,
                until,
                sort,
                limit,
                cursor,
            })
            .await?;
        let results = page
            .messages
            .into_iter()
            .map(|message| Hit {
                snippet: search::snippet(&message.content, &query.terms),
                message,
            })
            .collect();
        Ok(Found {
            results,
            next_cursor: page.next.map(|c| c.encode()),
        })
    }
}
