//! The new messages of a batch built from what was written (nothing is read
//! back): each exactly as `hydrate` would read it.

use std::collections::HashMap;

use natter_core::{Error, Result};

use super::checks::Replied;
use super::{Mention, Stored};
use crate::rows::{assemble, mention_rows, MessageRow, UserRow};
use crate::NewMessage;

/// The messages placed at `(index, seq, id)`, in that order, and their
/// mention rows.
pub(super) fn messages(
    msgs: &[NewMessage],
    placed: &[(usize, i64, i64)],
    at: time::OffsetDateTime,
    authors: &HashMap<i64, UserRow>,
    replied: &HashMap<i64, Replied>,
) -> Result<(Vec<Stored>, Vec<Mention>)> {
    let mut stored = Vec::with_capacity(placed.len());
    let mut mentions = Vec::new();
    for &(i, seq, id) in placed {
        let m = &msgs[i];
        let row = message_row(m, id, seq, at, authors, replied)?;
        let rows = mention_rows(id, &m.mentions);
        mentions.extend(rows.iter().map(|r| (id, m.room_id.0, r.user_id, seq)));
        let message = assemble(vec![row], Vec::new(), rows)?
            .pop()
            .ok_or_else(|| Error::internal("a message just stored is missing"))?;
        stored.push((i, message));
    }
    Ok((stored, mentions))
}

/// The row `hydrate` would read back for a message just inserted.
fn message_row(
    m: &NewMessage,
    id: i64,
    seq: i64,
    at: time::OffsetDateTime,
    authors: &HashMap<i64, UserRow>,
    replied: &HashMap<i64, Replied>,
) -> Result<MessageRow> {
    let author = authors
        .get(&m.user_id.0)
        .ok_or_else(|| Error::not_found("user not found"))?;
    let reply = m.reply_to_id.and_then(|r| replied.get(&r.0));
    Ok(MessageRow {
        id,
        room_id: m.room_id.0,
        user_id: m.user_id.0,
        seq,
        content: m.content.clone(),
        kind: m.kind.as_str().to_owned(),
        file_url: m.file_url.clone(),
        reply_to_id: m.reply_to_id.map(|r| r.0),
        client_id: m.client_id.clone(),
        created_at: at,
        updated_at: at,
        edited_at: None,
        deleted_at: None,
        username: author.username.clone(),
        user_name: author.name.clone(),
        avatar: author.avatar.clone(),
        reply_content: reply.map(|r| r.content.clone()),
        reply_username: reply.map(|r| r.username.clone()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use natter_core::{Error, Id};
    use time::OffsetDateTime;

    use super::super::checks::Replied;
    use super::messages;
    use crate::rows::UserRow;
    use crate::NewMessage;

    fn authors() -> HashMap<i64, UserRow> {
        let bob = UserRow {
            id: 2,
            username: "bob".into(),
            name: "Bob".into(),
            avatar: None,
        };
        HashMap::from([(2, bob)])
    }

    #[test]
    fn a_new_message_is_built_as_it_reads_back() {
        let mut reply = NewMessage::text(Id(1), Id(2), "yes @carol");
        reply.reply_to_id = Some(Id(40));
        reply.mentions = vec![Id(9), Id(3), Id(9)];
        let msgs = [NewMessage::text(Id(1), Id(2), "first"), reply];
        let replied = HashMap::from([(
            40,
            Replied {
                room: 1,
                content: "a question".into(),
                username: "carol".into(),
            },
        )]);
        let at = OffsetDateTime::UNIX_EPOCH;
        let (stored, mentions) =
            messages(&msgs, &[(1, 6, 101), (0, 5, 100)], at, &authors(), &replied).unwrap();
        let (i, m) = &stored[0];
        assert_eq!((*i, m.id, m.seq, m.room_id), (1, Id(101), 6, Id(1)));
        assert_eq!((m.user.name.as_str(), m.created_at), ("Bob", at));
        assert_eq!(m.mentions, [Id(3), Id(9)]);
        let quote = m.reply_to.as_ref().unwrap();
        assert_eq!((quote.id, quote.content.as_str()), (Id(40), "a question"));
        assert_eq!(quote.user.username, "carol");
        assert_eq!((stored[1].0, stored[1].1.content.as_str()), (0, "first"));
        assert_eq!(mentions, [(101, 1, 3, 6), (101, 1, 9, 6)]);
    }

    #[test]
    fn a_sender_not_read_under_the_lock_is_not_found() {
        let msgs = [NewMessage::text(Id(1), Id(7), "who?")];
        let at = OffsetDateTime::UNIX_EPOCH;
        let got = messages(&msgs, &[(0, 1, 1)], at, &authors(), &HashMap::new());
        assert!(matches!(got, Err(Error::NotFound(_))));
    }
}
