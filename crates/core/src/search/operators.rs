//! Query operators: `from:`, `in:`, `has:`, `before:`, `after:` and `on:`.

use time::{Date, Month};

use super::query::Query;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    Image,
    File,
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Me,
    /// Lower-case, without `@`.
    Username(String),
}

fn parse_date(op: &str, value: &str) -> Result<Date> {
    let bad = || {
        Error::invalid(format!(
            "{op}: needs a date as YYYY-MM-DD (like {op}:2025-03-14), not {value:?}"
        ))
    };
    let mut parts = value.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let month = Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, d).map_err(|_| bad())
}

/// Applies `word` if it is an operator with a value it takes.
pub(super) fn operator(query: &mut Query, word: &str) -> Result<bool> {
    let Some((op, value)) = word.split_once(':') else {
        return Ok(false);
    };
    let op = op.to_lowercase();
    if value.is_empty() {
        return Ok(false);
    }
    match op.as_str() {
        "from" => {
            let v = value.trim_start_matches('@').to_lowercase();
            if v.is_empty() {
                return Ok(false);
            }
            query.from.push(if v == "me" && !value.starts_with('@') {
                From::Me
            } else {
                From::Username(v)
            });
        }
        "in" => {
            let v = value.trim_start_matches('#').to_lowercase();
            if v.is_empty() {
                return Ok(false);
            }
            query.rooms.push(v);
        }
        "has" => match value.to_lowercase().as_str() {
            "image" | "images" => query.has.push(Has::Image),
            "file" | "files" => query.has.push(Has::File),
            "link" | "links" => query.has.push(Has::Link),
            _ => return Ok(false),
        },
        "before" => {
            let d = parse_date("before", value)?;
            query.before = Some(query.before.map_or(d, |b| b.min(d)));
        }
        "after" => {
            let d = parse_date("after", value)?;
            query.after = Some(query.after.map_or(d, |a| a.max(d)));
        }
        "on" | "during" => query.on = Some(parse_date(&op, value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::parse;

    #[test]
    fn dates_are_four_two_two_digits_of_a_real_day() {
        assert_eq!(
            parse_date("on", "2024-02-29").unwrap(),
            Date::from_calendar_date(2024, Month::February, 29).unwrap()
        );
        for bad in [
            "2023-02-29",
            "2025-1-02",
            "25-01-02",
            "2025-01",
            "2025-01-02-03",
            "2025/01/02",
        ] {
            let e = parse_date("before", bad).unwrap_err();
            assert!(e.to_string().contains("before:"), "{bad}: {e}");
        }
    }

    #[test]
    fn repeated_bounds_keep_the_narrowest() {
        let q = parse("x before:2025-03-01 before:2025-02-01 after:2025-01-01 after:2025-01-05")
            .unwrap();
        assert_eq!(
            q.before,
            Some(Date::from_calendar_date(2025, Month::February, 1).unwrap())
        );
        assert_eq!(
            q.after,
            Some(Date::from_calendar_date(2025, Month::January, 5).unwrap())
        );
        assert_eq!(
            parse("during:2025-01-02 x").unwrap().on,
            parse("on:2025-01-02 x").unwrap().on
        );
    }

    #[test]
    fn parses_operators() {
        let q = parse("from:@Bob from:me in:#General has:link has:IMAGE after:2025-01-02 before:2025-02-01 on:2025-01-15 x").unwrap();
        assert_eq!(q.from, [From::Username("bob".into()), From::Me]);
        assert_eq!(q.rooms, ["general"]);
        assert_eq!(q.has, [Has::Link, Has::Image]);
        assert_eq!(
            q.after,
            Some(Date::from_calendar_date(2025, Month::January, 2).unwrap())
        );
        assert_eq!(
            q.before,
            Some(Date::from_calendar_date(2025, Month::February, 1).unwrap())
        );
        assert!(q.on.is_some());
        assert_eq!(q.terms.len(), 1);
        // @me is a user called "me"; from:me is the caller.
        assert_eq!(
            parse("from:@me").unwrap().from,
            [From::Username("me".into())]
        );
    }
}
