//! The `natter` binary: parses the command line, sets up logging, and runs
//! `serve` (or a maintenance command).

use std::io::IsTerminal;

use clap::Parser;
use natter_server::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is fine; variables already set win over it.
    let _ = dotenvy::dotenv();
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Migrate(store)) => natter_store::migrate(&store.database_url())
            .await
            .map(|()| tracing::info!("migrations applied"))
            .map_err(anyhow::Error::from),
        Some(Command::Serve(args)) => natter_server::serve(*args).await,
        Some(Command::VapidKey) => natter_server::push::print_new_key(),
        None => natter_server::serve(cli.serve).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("natter: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stdout: `NATTER_LOG_FORMAT=json` for one JSON object per line (log
/// shippers), otherwise text, coloured only on a terminal (and never with `NO_COLOR`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let format = std::env::var("NATTER_LOG_FORMAT").unwrap_or_default();
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format.trim().to_ascii_lowercase().as_str() {
        "json" => logs.json().flatten_event(true).init(),
        other => {
            let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            logs.with_ansi(ansi).init();
            if !matches!(other, "" | "text") {
                tracing::warn!(
                    "NATTER_LOG_FORMAT={other:?} is not \"json\" or \"text\": logging text"
                );
            }
        }
    }
}
