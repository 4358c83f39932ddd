//! What a push says: JSON `{title, body, roomId, messageId, url}`, encrypted
//! per subscription by the sender.

use natter_core::{Id, Message, MessageType, Room};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// Longest body, in characters (an ellipsis included).
pub const MAX_BODY_CHARS: usize = 140;
/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 80;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub title: String,
    pub body: String,
    pub room_id: Id,
    pub message_id: Id,
    /// Opens the room at that message (the web app's route).
    pub url: String,
}

/// `room` as its author sees it (for a DM the title is the sender alone).
pub fn build(room: &Room, m: &Message, preview: bool) -> Payload {
    let sender = if m.user.name.trim().is_empty() {
        &m.user.username
    } else {
        &m.user.name
    };
    let title = if room.is_direct {
        sender.to_owned()
    } else {
        format!("{sender} in #{}", room.name)
    };
    let body = if !preview {
        "New message".to_owned()
    } else {
        let text = plain_text(&m.content);
        match (text.is_empty(), m.kind) {
            (false, _) => text,
            (true, MessageType::Image) => "sent an image".to_owned(),
            (true, MessageType::File) => "sent a file".to_owned(),
            (true, MessageType::Text) => "New message".to_owned(),
        }
    };
    Payload {
        title: truncate(&title, MAX_TITLE_CHARS),
        body: truncate(&body, MAX_BODY_CHARS),
        room_id: m.room_id,
        message_id: m.id,
        url: format!("/#/room/{}/message/{}", m.room_id, m.id),
    }
}

/// The text a reader sees, without markdown syntax, on one line.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len().min(1024));
    // what the web app's renderer understands (markdown-it's defaults)
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule => out.push(' '),
            // raw HTML is shown as written by the web app, never rendered
            Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::Start(Tag::Item) => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock) => out.push(' '),
            _ => {}
        }
        // enough for the body; the rest would be cut anyway
        if out.len() > 16 * MAX_BODY_CHARS {
            break;
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_stripped() {
        assert_eq!(
            plain_text("**hi** _there_ `code` [a link](https://x.example) ~~no~~"),
            "hi there code a link no"
        );
        assert_eq!(
            plain_text("# Title\n\n> quoted\n\n- one\n- two"),
            "Title quoted one two"
        );
        assert_eq!(plain_text("```rust\nfn main() {}\n```"), "fn main() {}");
        assert_eq!(plain_text("hey @ana and @room"), "hey @ana and @room");
        assert_eq!(plain_text("<b>not bold</b>"), "<b>not bold</b>");
    }

    #[test]
    fn long_text_is_cut_at_140_characters() {
        let t = truncate(&"é".repeat(500), MAX_BODY_CHARS);
        assert_eq!(t.chars().count(), MAX_BODY_CHARS);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("short", MAX_BODY_CHARS), "short");
    }
}
