//! Message search, the pure part: how text is folded and cut into tokens for
//! the index, how a query (words and operators) is parsed, and how a result's
//! snippet is built. Both stores index the text this module produces and run
//! the tokens it gives them, so SQLite and PostgreSQL find exactly the same
//! messages (see docs/SEARCH.md).
//!
//! - Folding: lower case, and Latin, Greek and Cyrillic letters lose their
//!   accents (`Ångström` → `angstrom`), full-width forms become ASCII.
//! - Tokens: runs of letters, digits and marks; everything else separates, so
//!   `PLT-3699` is `plt 3699` and a URL is its words (`github com …`).
//! - Chinese, Japanese, Korean (and Thai), written without spaces, are indexed
//!   as overlapping pairs of characters plus the run's last character, so any
//!   word of one, two or more characters inside a sentence is found.
//! - Every word of a query also finds the longer words it starts (prefix
//!   matching): `deploy` finds `deployed` and `deployment`, in any language.

// Private modules: everything outside uses the re-exports below, so the paths
// stay `natter_core::search::…` whatever the layout inside.
mod cursor; // sorts and the next-page cursor
mod fold; // lower case, accents, full-width forms
mod highlight; // which ranges of a text the terms match
mod operators; // from:, in:, has:, before:/after:/on:
mod query; // words, phrases, exclusions → Query and its Terms
mod script; // CJK/Thai: which characters, and their pairs
mod snippet; // the excerpt shown with a result
mod tokens; // tokenize, index_text, has_link

pub use cursor::{Cursor, Sort};
pub use operators::{From, Has};
pub use query::{parse, Query, Term};
pub use snippet::{snippet, Piece};
pub use tokens::{has_link, index_text, tokenize, Token};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Index tokens are cut to this many characters (longer "words" are hashes,
/// base64 and the like; their start still finds them).
pub const MAX_TOKEN_CHARS: usize = 64;
/// About how long a snippet is, in characters.
pub const SNIPPET_CHARS: usize = 200;
