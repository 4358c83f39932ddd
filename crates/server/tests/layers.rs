//! The server's modules form no import cycle: a feature's service and doors
//! depend on the shared state (`app`), never the other way round, and the
//! gateway and the REST router depend on the features, not the reverse.
//! Read from the source: every `crate::…` path (and `super::…`) outside unit
//! tests is an edge to the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path ("" for the crate root) → its source text without unit tests.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel: PathBuf = path.strip_prefix(src).unwrap_or(&path).with_extension("");
            let mut segs: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segs.first().is_some_and(|s| s == "bin") {
                continue;
            }
            let is_dir_module = matches!(
                segs.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            );
            if is_dir_module {
                segs.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            out.insert(segs.join("::"), text);
        }
    }
    out
}

/// The `a::b::c` paths that follow `prefix` in `text`, and in
/// `prefix{a::b, c}` groups.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before_ok = rest[..i]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        rest = &rest[i + prefix.len()..];
        if !before_ok {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                found.push(ident_path(part.trim()));
            }
        } else {
            found.push(ident_path(rest));
        }
    }
    found
}

fn ident_path(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_owned()
}

fn edges(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, text) in mods {
        let here: Vec<&str> = name.split("::").filter(|s| !s.is_empty()).collect();
        let mut targets: Vec<String> = paths_after(text, "crate::");
        // `super::` is the parent module, for a folder's mod.rs and a file alike
        for p in paths_after(text, "super::") {
            let mut segs: Vec<&str> = here[..here.len().saturating_sub(1)].to_vec();
            segs.extend(p.split("::"));
            targets.push(segs.join("::"));
        }
        let mut to = BTreeSet::new();
        for t in targets {
            let segs: Vec<&str> = t.split("::").collect();
            let hit = (1..=segs.len())
                .rev()
                .map(|k| segs[..k].join("::"))
                .find(|m| mods.contains_key(m));
            // the crate root only declares modules; a child naming its parent
            // (or the reverse) is an edge like any other
            if let Some(m) = hit.filter(|m| m != name && !m.is_empty() && !name.is_empty()) {
                to.insert(m);
            }
        }
        graph.insert(name.clone(), to);
    }
    graph
}

/// A cycle, if the graph has one (depth-first, colouring nodes).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == m).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_server_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    assert!(
        mods.contains_key("gateway") && mods.contains_key("app"),
        "read the modules"
    );
    let graph = edges(&mods);
    assert!(
        graph["gateway"].contains("app"),
        "edges are read (gateway uses app)"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
    // the shared state knows no feature's service or door
    for m in &graph["app"] {
        assert!(
            !(m.ends_with("::service") || m.ends_with("::http") || m.ends_with("::socket")),
            "app depends on {m}"
        );
    }
}

#[test]
fn a_cycle_is_found() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.insert("c".to_owned(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn paths_are_read_from_uses_and_groups() {
    let text = "use crate::app::{AppState, NS};\nuse crate::{dms, rooms};\nlet x = mycrate::no;";
    assert_eq!(paths_after(text, "crate::"), vec!["app", "dms", "rooms"]);
}
