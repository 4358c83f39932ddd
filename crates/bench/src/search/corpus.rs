//! S7's corpus: messages of varied text (frequent words, some accented,
//! links, identifiers, a phrase, CJK), the same every run.

pub(super) const WORDS: &[&str] = &[
    "the",
    "a",
    "we",
    "it",
    "is",
    "to",
    "and",
    "of",
    "for",
    "on",
    "in",
    "this",
    "that",
    "with",
    "can",
    "you",
    "be",
    "will",
    "just",
    "now",
    "team",
    "today",
    "tomorrow",
    "meeting",
    "lunch",
    "build",
    "test",
    "tests",
    "failing",
    "passing",
    "merge",
    "branch",
    "review",
    "code",
    "bug",
    "fix",
    "fixed",
    "issue",
    "ticket",
    "server",
    "client",
    "database",
    "query",
    "index",
    "cache",
    "latency",
    "timeout",
    "error",
    "retry",
    "queue",
    "worker",
    "cluster",
    "node",
    "redis",
    "postgres",
    "sqlite",
    "schema",
    "migration",
    "backup",
    "restore",
    "deploy",
    "deployed",
    "deployment",
    "rollback",
    "release",
    "staging",
    "production",
    "monitoring",
    "alert",
    "dashboard",
    "metrics",
    "logs",
    "trace",
    "profile",
    "memory",
    "cpu",
    "disk",
    "network",
    "socket",
    "message",
    "search",
    "room",
    "user",
    "password",
    "token",
    "session",
    "login",
    "design",
    "spec",
    "draft",
    "docs",
    "readme",
    "changelog",
    "version",
    "upgrade",
    "config",
    "café",
    "reunión",
    "mañana",
    "über",
    "naïve",
    "coffee",
    "pizza",
    "weekend",
    "holiday",
    "vacation",
    "thanks",
    "please",
    "great",
    "good",
    "bad",
    "ok",
    "sure",
    "maybe",
    "later",
];

pub(super) const CJK: &[&str] = &[
    "明日の会議は東京で行います",
    "今日はとても忙しいです",
    "京都に行きます",
    "我们明天在北京开会",
    "서울에서 회의가 있습니다",
];

/// A small deterministic generator (xorshift64*): the same corpus every run.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Skewed towards the start of the list (frequent words first).
    fn word(&mut self) -> &'static str {
        let u = (self.below(1 << 20) as f64) / f64::from(1 << 20);
        WORDS[((u * u) * WORDS.len() as f64) as usize % WORDS.len()]
    }
}

pub(super) fn content(rng: &mut Rng, n: u64) -> String {
    let len = 4 + rng.below(16) as usize;
    let mut words: Vec<String> = (0..len).map(|_| rng.word().to_owned()).collect();
    // Rarer things at fixed strides (so every size of run holds some in the
    // searcher's rooms): links 2%, identifiers 1%, the phrase 0.5%, CJK 1%.
    let extra = if n % 50 == 2 {
        Some(format!(
            "https://github.com/natter/natter/issues/{}",
            n % 5000
        ))
    } else if n % 100 == 3 {
        // with 1,000 rooms (or any count dividing 1,000) PLT-k lands in room
        // k % rooms: PLT-3, the query, in room 3, one of the searcher's
        Some(format!("PLT-{}", n % 1000))
    } else if n % 200 == 4 {
        Some("release notes".to_owned())
    } else if n % 300 == 1 {
        Some(CJK[0].to_owned())
    } else if n.is_multiple_of(150) {
        Some(CJK[1 + (n / 150 % 4) as usize].to_owned())
    } else {
        None
    };
    let at = rng.below(len as u64) as usize;
    if let Some(e) = extra {
        words.insert(at, e);
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_xorshift64_star() {
        let mut a = Rng(1);
        // First output of xorshift64* seeded with 1.
        assert_eq!(a.next(), 0x47E4_CE4B_896C_DD1D);
        let mut b = Rng(0x9E37_79B9_7F4A_7C15);
        let mut c = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..100 {
            assert_eq!(b.next(), c.next());
        }
        assert!((0..1000).all(|_| b.below(7) < 7));
        assert_eq!(b.below(0), 0);
    }

    #[test]
    fn frequent_words_come_first() {
        let mut rng = Rng(42);
        let head = WORDS.len() / 4;
        let early = (0..10_000)
            .filter(|_| {
                let w = rng.word();
                WORDS[..head].contains(&w)
            })
            .count();
        // u² skews half of the draws into the first quarter of the list.
        assert!(early > 4_000, "{early}");
    }

    #[test]
    fn rare_things_come_at_their_strides() {
        let mut rng = Rng(7);
        let texts: Vec<String> = (0..600).map(|n| content(&mut rng, n)).collect();
        assert!(texts[2].contains("https://github.com/natter/natter/issues/2"));
        assert!(texts[3].split(' ').any(|w| w == "PLT-3"));
        assert!(texts[4].contains("release notes"));
        assert!(texts[301].contains(CJK[0]));
        assert!(texts[150].contains(CJK[2]));
        let links = texts.iter().filter(|t| t.contains("https://")).count();
        assert_eq!(links, 12);
        for t in &texts {
            let words = t.split(' ').count();
            assert!((4..=22).contains(&words), "{t}");
        }
    }
}
