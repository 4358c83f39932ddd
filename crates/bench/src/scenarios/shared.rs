//! What the scenarios share: laying users out in rooms, the connections for a
//! provision, server CPU over a phase, and the report's figures.

use std::time::Instant;

use anyhow::Result;
use serde_json::{json, Value};

use crate::api::{self, Provision};
use crate::stats::{self, Watched};
use crate::worker::ConnSpec;

/// A latency summary as the reports print it.
pub(super) fn p(h: &stats::Pcts) -> Value {
    json!({"n": h.count, "p50_ms": h.p50_ms, "p90_ms": h.p90_ms, "p99_ms": h.p99_ms, "p999_ms": h.p999_ms, "max_ms": h.max_ms})
}

/// `0..n` cut into groups of `size` (the last may be smaller): users into rooms.
pub(super) fn chunks(n: usize, size: usize) -> Vec<Vec<usize>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Connections for users 0..n of a provision; each in the rooms the provision
/// lists it in. `tags` maps a room tag to a phase group: the first member of
/// each such room sends into it in phases of that group.
pub(super) fn conns_for(p: &Provision, n: usize, tags: &[(&str, &str)]) -> Vec<ConnSpec> {
    let mut conns: Vec<ConnSpec> = (0..n)
        .map(|i| ConnSpec {
            id: i,
            token: p.users[i].token.clone(),
            rooms: Vec::new(),
            sends: Vec::new(),
            jitter: false,
        })
        .collect();
    for r in &p.rooms {
        let Some((_, group)) = tags.iter().find(|(t, _)| *t == r.tag) else {
            continue;
        };
        for (k, m) in r.members.iter().enumerate() {
            if let Some(c) = conns.get_mut(*m) {
                c.rooms.push(r.id.clone());
                if k == 0 {
                    c.sends.push(((*group).to_owned(), r.id.clone()));
                }
            }
        }
    }
    conns
}

/// How many rooms carry `tag`, and their members added up.
pub(super) fn room_sizes(p: &Provision, tag: &str) -> (usize, usize) {
    let rooms = p.rooms_tagged(tag);
    (rooms.len(), rooms.iter().map(|r| r.members.len()).sum())
}

/// The server's CPU seconds since `start` (None when its PID is unknown).
pub(super) struct Cpu {
    server: Watched,
    at: Option<f64>,
}

impl Cpu {
    pub(super) fn start(server: Watched) -> Cpu {
        Cpu {
            server,
            at: server.cpu(),
        }
    }
    pub(super) fn secs(&self) -> Option<f64> {
        Some(self.server.cpu()? - self.at?)
    }
}

/// CPU microseconds per item, to two decimals; null when unknown or no items.
pub(super) fn us_per(cpu_s: Option<f64>, n: u64) -> Value {
    match cpu_s {
        Some(c) if n > 0 => json!((c * 1e6 / n as f64 * 100.0).round() / 100.0),
        _ => Value::Null,
    }
}

pub(super) fn connect_summary(c: &crate::coord::Connected) -> Value {
    json!({
        "connected": c.connected,
        "failed": c.failed,
        "first_error": c.first_error,
        "handshakes_per_s": c.handshakes_per_s.round(),
        "handshake": p(&stats::pcts(&c.handshake)),
        "ramp_wall_s": c.wall_s,
    })
}

/// Times GET requests one after the other; their percentiles and how many did
/// not answer 200.
pub(crate) async fn time_requests(
    api: &api::Api,
    token: &str,
    paths: impl Iterator<Item = String>,
) -> Result<(stats::Pcts, u64)> {
    let mut h = stats::hist();
    let mut errors = 0;
    for path in paths {
        let t = Instant::now();
        let (status, _) = api
            .call(reqwest::Method::GET, &path, Some(token), None)
            .await?;
        stats::record(&mut h, t.elapsed().as_micros() as u64);
        if status != 200 {
            errors += 1;
        }
    }
    Ok((stats::pcts(&h), errors))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::{Room, User};

    fn provision(rooms: &[(&str, &[usize])], users: usize) -> Provision {
        Provision {
            users: (0..users)
                .map(|i| User {
                    id: i.to_string(),
                    token: format!("t{i}"),
                })
                .collect(),
            rooms: rooms
                .iter()
                .enumerate()
                .map(|(i, (tag, members))| Room {
                    id: format!("r{i}"),
                    tag: (*tag).to_owned(),
                    members: members.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn chunks_cover_every_user_once() {
        assert_eq!(chunks(5, 2), [vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(chunks(3, 0), [vec![0], vec![1], vec![2]]);
        assert!(chunks(0, 4).is_empty());
    }

    #[test]
    fn us_per_needs_a_cpu_figure_and_items() {
        assert_eq!(us_per(Some(0.5), 1000), json!(500.0));
        assert_eq!(us_per(Some(1.0), 3), json!(333333.33));
        assert_eq!(us_per(None, 10), Value::Null);
        assert_eq!(us_per(Some(1.0), 0), Value::Null);
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn conns_join_tagged_rooms_and_the_first_member_sends() {
        let prov = provision(&[("a", &[1, 0]), ("b", &[0, 2]), ("other", &[2])], 3);
        let conns = conns_for(&prov, 3, &[("a", "ga"), ("b", "gb")]);
        // (token, rooms, sends) of each connection.
        let seen: Vec<_> = conns
            .iter()
            .map(|c| (c.token.as_str(), c.rooms.clone(), c.sends.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "t0",
                    strings(&["r0", "r1"]),
                    vec![("gb".into(), "r1".into())]
                ),
                ("t1", strings(&["r0"]), vec![("ga".into(), "r0".into())]),
                ("t2", strings(&["r1"]), vec![]),
            ]
        );
        // Members beyond `n` get no connection.
        assert_eq!(conns_for(&prov, 1, &[("a", "ga")])[0].rooms, ["r0"]);
        assert_eq!(room_sizes(&prov, "b"), (1, 2));
        assert_eq!(room_sizes(&prov, "none"), (0, 0));
    }

    #[test]
    fn latency_summaries_name_every_percentile() {
        let mut h = stats::hist();
        stats::record(&mut h, 2000);
        let v = p(&stats::pcts(&h));
        assert_eq!(v["n"], 1);
        for k in ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"] {
            let ms = v[k].as_f64().unwrap();
            assert!((1.9..=2.1).contains(&ms), "{k}: {ms}");
        }
    }
}
