//! The statements of search, built piece by piece with their parameters
//! numbered as they are added (`$1`, `$2`, …). Unlike sqlx's `QueryBuilder`
//! a statement can be copied and wrapped in another (the pages wrap the
//! matches' statement), its numbers unchanged.

use natter_core::{Id, Result};
use sqlx::Database;

use super::super::{Conn, Db};
use crate::error::db_err;

/// A bind parameter of a statement built here.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Arg {
    Int(i64),
    Text(String),
    Real(f64),
    Bool(bool),
}

/// A statement with its parameters, `$1`, `$2`, … in order.
#[derive(Default, Clone)]
pub(super) struct Sql {
    text: String,
    args: Vec<Arg>,
}

/// Binds `args` in order onto a sqlx statement: plain and `query_as` ones
/// each have a `bind` of their own, with no trait in common.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Real(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

impl Sql {
    pub(super) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub(super) fn arg(&mut self, a: Arg) -> &mut Self {
        self.args.push(a);
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// `inner` after the text `prefix` (which has no parameters, so `inner`'s
    /// `$n` stay as they are).
    pub(super) fn after(prefix: &str, inner: &Sql) -> Sql {
        Sql {
            text: format!("{prefix}{}", inner.text),
            args: inner.args.clone(),
        }
    }

    pub(super) fn list(&mut self, ids: &[Id]) -> &mut Self {
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.arg(Arg::Int(id.0));
        }
        self
    }

    #[cfg(test)]
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    #[cfg(test)]
    pub(super) fn args(&self) -> &[Arg] {
        &self.args
    }

    pub(super) async fn fetch<T>(self, c: &mut Conn) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as Database>::Row> + Send + Unpin,
    {
        // Not a cached prepared statement: each search's text is its own (the
        // scope's rooms are in it), and PostgreSQL would switch a reused one to a
        // generic plan after five runs — one that cannot see how selective the
        // full-text condition is (6 ms became 50 ms at 1M messages).
        let q = sqlx::query_as::<Db, T>(&self.text).persistent(false);
        bind_all!(q, self.args)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)
    }

    /// Runs a statement that returns no rows (the backfill's batches, which
    /// repeat their text: prepared and cached like any other statement).
    pub(super) async fn execute(self, c: &mut Conn) -> Result<()> {
        bind_all!(sqlx::query::<Db>(&self.text), self.args)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use natter_core::Id;

    use super::{Arg, Sql};

    #[test]
    fn parameters_are_numbered_in_order_and_kept_when_wrapped() {
        let mut inner = Sql::default();
        inner
            .push("a = ")
            .arg(Arg::Int(1))
            .push(" AND b IN (")
            .list(&[Id(2), Id(3)])
            .push(")");
        assert_eq!(inner.text(), "a = $1 AND b IN ($2, $3)");
        assert_eq!(inner.args(), [Arg::Int(1), Arg::Int(2), Arg::Int(3)]);
        let mut outer = Sql::after("SELECT * FROM (", &inner);
        outer.push(") x WHERE c = ").arg(Arg::Text("t".into()));
        assert_eq!(
            outer.text(),
            "SELECT * FROM (a = $1 AND b IN ($2, $3)) x WHERE c = $4"
        );
        assert_eq!(outer.args()[3], Arg::Text("t".into()));
        // The wrapped statement is a copy: the inner one is as it was.
        assert_eq!(inner.args().len(), 3);
    }

    #[test]
    fn an_empty_list_adds_no_parameter() {
        let mut q = Sql::default();
        q.push("IN (").list(&[]).push(")");
        assert_eq!((q.text(), q.args().len()), ("IN ()", 0));
    }
}
