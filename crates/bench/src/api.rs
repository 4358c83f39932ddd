//! Provisioning through the public REST API, and the provision file that lets
//! the harness drive any server speaking the same events.
//!
//! Provision file (JSON):
//! ```json
//! { "users": [{"id": "1", "token": "…"}, …],
//!   "rooms": [{"id": "7", "tag": "s3-10", "members": [0, 1, 2]}, …] }
//! ```
//! `members` are indices into `users`; `tag` says which scenario layout the room
//! belongs to (`s1`, `s3-<size>`, `s4`, `s6`, `s8`). Every member's socket must
//! be subscribed to the room on connect (Natter and the Node baseline both do
//! this for members); the harness also sends `room:join` when asked to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Room {
    pub id: String,
    #[serde(default)]
    pub tag: String,
    pub members: Vec<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provision {
    pub users: Vec<User>,
    pub rooms: Vec<Room>,
}

impl Provision {
    pub fn load(path: &std::path::Path) -> Result<Provision> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        std::fs::write(path, serde_json::to_vec(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    pub fn rooms_tagged(&self, tag: &str) -> Vec<&Room> {
        self.rooms.iter().filter(|r| r.tag == tag).collect()
    }
}

/// What a scenario wants: `users` accounts, and rooms (tag, member indices).
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub users: usize,
    pub rooms: Vec<(String, Vec<usize>)>,
}

impl Layout {
    /// Checks a loaded provision file can stand for this layout.
    pub fn check(&self, p: &Provision) -> Result<()> {
        if p.users.len() < self.users {
            bail!(
                "provision file has {} users, the scenario needs {}",
                p.users.len(),
                self.users
            );
        }
        for (tag, members) in &self.rooms {
            let have = p.rooms_tagged(tag);
            if have.is_empty() {
                bail!("provision file has no room tagged {tag:?}");
            }
            if have
                .iter()
                .any(|r| r.members.iter().any(|m| *m >= p.users.len()))
            {
                bail!("provision file: a room of tag {tag:?} names a member index out of range");
            }
            let _ = members;
        }
        Ok(())
    }
}

pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Result<Api> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(128)
            .build()?;
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("request {path}"))?;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn post_ok(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value> {
        let (status, v) = self
            .call(reqwest::Method::POST, path, token, Some(&body))
            .await?;
        if !(200..300).contains(&status) {
            bail!("POST {path} → {status}: {v}");
        }
        Ok(v)
    }

    pub async fn wait_ready(&self, within: Duration) -> Result<()> {
        let until = Instant::now() + within;
        loop {
            if let Ok(r) = self
                .client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > until {
                bail!("{} did not answer /healthz within {within:?}", self.base);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Registers the layout's users, creates its rooms (first member creates,
    /// the others join) and returns the provision.
    pub async fn provision(
        &self,
        layout: &Layout,
        concurrency: usize,
        reuse: Option<Vec<User>>,
    ) -> Result<Provision> {
        let run = crate::stats::now_ns() % 0xff_ffff;
        let started = Instant::now();
        let done = AtomicUsize::new(0);
        // Reused accounts first (no argon2 work); register only the shortfall,
        // so a small provisioning file serves a scenario that needs more users.
        let mut users: Vec<User> = reuse.unwrap_or_default();
        users.truncate(layout.users);
        let reused = users.len();
        let fresh: Vec<User> = stream::iter(reused..layout.users)
            .map(|i| {
                let done = &done;
                async move {
                    let name = format!("bn{run:06x}_{i}");
                    let v = self
                        .post_ok(
                            "/api/auth/register",
                            None,
                            json!({"email": format!("{name}@bench.invalid"), "username": name, "name": name, "password": "benchpass123"}),
                        )
                        .await?;
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(2000) {
                        eprintln!("  provision: {n} users registered ({:.0}/s)", n as f64 / started.elapsed().as_secs_f64());
                    }
                    Ok::<_, anyhow::Error>(User {
                        id: v["user"]["id"].as_str().ok_or_else(|| anyhow!("register: no user id in {v}"))?.to_owned(),
                        token: v["token"].as_str().ok_or_else(|| anyhow!("register: no token in {v}"))?.to_owned(),
                    })
                }
            })
            .buffered(concurrency)
            .try_collect()
            .await?;
        users.extend(fresh);
        let users_secs = started.elapsed().as_secs_f64();
        let rooms: Vec<Room> = stream::iter(layout.rooms.iter().enumerate())
            .map(|(k, (tag, members))| {
                let users = &users;
                async move {
                    let owner = members.first().ok_or_else(|| anyhow!("room without members"))?;
                    let v = self
                        .post_ok(
                            "/api/rooms",
                            Some(&users[*owner].token),
                            json!({"name": format!("bench-{run:06x}-{tag}-{k}"), "description": "", "isPrivate": false}),
                        )
                        .await?;
                    let id = v["room"]["id"].as_str().ok_or_else(|| anyhow!("no room id in {v}"))?.to_owned();
                    Ok::<_, anyhow::Error>(Room {
                        id,
                        tag: tag.clone(),
                        members: members.clone(),
                    })
                }
            })
            .buffered(concurrency)
            .try_collect()
            .await?;
        let joins: Vec<(String, usize)> = rooms
            .iter()
            .flat_map(|r| {
                r.members
                    .get(1..)
                    .unwrap_or_default()
                    .iter()
                    .map(move |m| (r.id.clone(), *m))
            })
            .collect();
        stream::iter(joins)
            .map(|(room, m)| {
                let users = &users;
                async move {
                    self.post_ok(
                        &format!("/api/rooms/{room}/join"),
                        Some(&users[m].token),
                        json!({}),
                    )
                    .await
                    .map(|_| ())
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        eprintln!(
            "  provision: {} users ({reused} reused, {users_secs:.1} s), {} rooms, done in {:.1} s",
            users.len(),
            rooms.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(Provision { users, rooms })
    }
}

/// Provision per the layout, or load (and check) a provision file; optionally save it.
pub async fn obtain(
    url: &str,
    layout: &Layout,
    file: Option<&std::path::Path>,
    save: Option<&std::path::Path>,
    reuse_users: Option<&std::path::Path>,
    concurrency: usize,
) -> Result<Provision> {
    let p = match file {
        Some(path) => {
            let p = Provision::load(path)?;
            layout.check(&p)?;
            p
        }
        None => {
            let api = Api::new(url)?;
            api.wait_ready(Duration::from_secs(30)).await?;
            let reuse = match reuse_users {
                Some(path) => Some(Provision::load(path)?.users),
                None => None,
            };
            api.provision(layout, concurrency, reuse).await?
        }
    };
    if let Some(path) = save {
        p.save(path)?;
        eprintln!("  provision saved to {}", path.display());
    }
    Ok(p)
}
