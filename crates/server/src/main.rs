use clap::Parser;
use natter_server::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is fine; variables already set win over it.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Migrate(store)) => natter_store::migrate(&store.database_url())
            .await
            .map(|()| tracing::info!("migrations applied"))
            .map_err(anyhow::Error::from),
        Some(Command::Serve(args)) => natter_server::serve(*args).await,
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
