//! Paging: the sort orders and the opaque cursor a next page starts from.

use crate::{Error, Result};

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (bm25 / `ts_rank_cd`), newer first among equals.
    #[default]
    Relevance,
    /// Newest first.
    Newest,
}

/// Where the next page starts: after the result with this rank and id, among
/// messages up to `max_id` (the newest when the first page was read, so that
/// messages sent while paging do not shift the pages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub sort: Sort,
    /// The store's rank of the last result (lower is better; 0 for `newest`).
    pub rank: f64,
    pub id: i64,
    /// The newest message of the ranking window of the last result.
    pub max_id: i64,
    /// The oldest match of that window (ranked searches rank the newest
    /// matches a window at a time); 0 when the window holds every match left.
    pub floor: i64,
}

impl Cursor {
    /// Opaque to clients: `s2.<sort>.<rank bits, hex>.<id>.<max id>.<floor>`.
    pub fn encode(&self) -> String {
        let sort = match self.sort {
            Sort::Relevance => 'r',
            Sort::Newest => 'n',
        };
        format!(
            "s2.{sort}.{:x}.{}.{}.{}",
            self.rank.to_bits(),
            self.id,
            self.max_id,
            self.floor
        )
    }

    /// Reads a cursor given back by a client, for a search sorted by `sort`.
    pub fn decode(s: &str, sort: Sort) -> Result<Cursor> {
        let bad = || Error::invalid("cursor is malformed: pass nextCursor exactly as returned");
        let parts: Vec<&str> = s.split('.').collect();
        let [v, kind, rank, id, max, floor] = parts[..] else {
            return Err(bad());
        };
        let found = match kind {
            "r" => Sort::Relevance,
            "n" => Sort::Newest,
            _ => return Err(bad()),
        };
        if v != "s2" {
            return Err(bad());
        }
        if found != sort {
            return Err(Error::invalid(
                "cursor belongs to a search with another sort: keep sort the same while paging",
            ));
        }
        let rank = f64::from_bits(u64::from_str_radix(rank, 16).map_err(|_| bad())?);
        if !rank.is_finite() {
            return Err(bad());
        }
        let id: i64 = id.parse().map_err(|_| bad())?;
        let max_id: i64 = max.parse().map_err(|_| bad())?;
        let floor: i64 = floor.parse().map_err(|_| bad())?;
        if floor < 0 || floor > max_id {
            return Err(bad());
        }
        Ok(Cursor {
            sort,
            rank,
            id,
            max_id,
            floor,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor {
            sort: Sort::Relevance,
            rank: -1.234_567_890_123,
            id: 42,
            max_id: 99,
            floor: 7,
        };
        assert_eq!(Cursor::decode(&c.encode(), Sort::Relevance).unwrap(), c);
        assert!(Cursor::decode(&c.encode(), Sort::Newest).is_err());
        for junk in [
            "",
            "x",
            "s2.r.zz.1.2.0",
            "s2.r.0.1.0",
            "s1.r.0.1.2",
            "s3.r.0.1.2.0",
            "s2.q.0.1.2.0",
            "s2.r.0.a.2.0",
            "s2.r.0.1.2.x",
            "s2.r.0.1.2.3",
            "s2.r.0.1.2.-1",
        ] {
            let e = Cursor::decode(junk, Sort::Relevance).unwrap_err();
            assert!(e.to_string().contains("cursor"), "{junk}: {e}");
        }
    }
}
