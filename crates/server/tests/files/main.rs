//! Uploads end to end, on both stores: type from the bytes, images validated
//! and stripped of metadata, who may download (uploader before sending,
//! members after, nobody after a delete), streaming with Range and ETags,
//! the sweeper, limits, storage failures, and error envelopes. The access,
//! range and sweeper tests also run with the files in S3 (moto on loopback,
//! `<theme>::s3::…`). The upload helpers are in `tests/common/files.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod access;
mod images;
mod limits;
mod ranges;
mod sweeper;
mod uploads;
