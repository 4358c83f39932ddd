//! Builds the web UI (`web/` → `web/dist`) so `cargo run --release` serves it.
//! Skipped with NATTER_SKIP_UI_BUILD=1; a failed UI build only warns (the
//! server then serves a page saying how to build it).

use std::path::Path;
use std::process::Command;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    for p in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "public",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=NATTER_SKIP_UI_BUILD");
    let dist = web.join("dist");
    let skip = std::env::var("NATTER_SKIP_UI_BUILD").is_ok_and(|v| v == "1");
    if !skip && web.join("package.json").exists() {
        if let Err(e) = build_ui(&web) {
            println!("cargo:warning=web UI not built: {e}");
        }
    }
    // rust-embed needs the folder to exist even when the UI could not be built.
    if !dist.exists() {
        let _ = std::fs::create_dir_all(&dist);
    }
}

fn build_ui(web: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let run = |args: &[&str]| -> Result<(), String> {
        let status = Command::new(npm)
            .args(args)
            .current_dir(web)
            .status()
            .map_err(|e| format!("could not run npm ({e}); install Node.js 20+"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("npm {} failed", args.join(" ")))
        }
    };
    if !web.join("node_modules").exists() {
        run(&["ci", "--no-audit", "--no-fund"])?;
    }
    run(&["run", "build"])
}
