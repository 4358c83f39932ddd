//! The URL form of an upload, shared by the server (which hands it out) and
//! the store (which links an upload to the message that sends it).

use crate::Id;

/// `/api/files/{id}`: where an upload is fetched, and what a message's
/// `fileUrl` holds.
pub fn file_url(id: Id) -> String {
    format!("/api/files/{id}")
}

/// `/api/files/{id}/thumb`: an image's thumbnail.
pub fn thumbnail_url(id: Id) -> String {
    format!("/api/files/{id}/thumb")
}

/// The upload id of a `fileUrl` of Natter's form, else `None`.
pub fn file_id(url: &str) -> Option<Id> {
    url.strip_prefix("/api/files/")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip() {
        assert_eq!(file_id(&file_url(Id(42))), Some(Id(42)));
        assert_eq!(file_id("/api/files/42/thumb"), None);
        assert_eq!(file_id("https://evil.example/api/files/1"), None);
        assert_eq!(file_id("/files/1/cat.png"), None);
    }
}
