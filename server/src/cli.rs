//! The command line: `pannier serve` and `pannier migrate up|down|status`.
//! Every command reads the same layered configuration (see `domain::config::KEYS`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use domain::config::{Config, KEYS, LogFormat};
use migration::{Migrator, MigratorTrait};

use crate::cli_accounts::{self, TokenAction, UserAction};
use crate::startup::{Application, shutdown_signal};
use crate::telemetry;

/// Self-hosted file sharing and media hosting.
#[derive(Debug, Parser)]
#[command(name = "pannier", version, propagate_version = true, after_help = config_help())]
pub struct Cli {
    /// TOML configuration file; environment variables override its values.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log output format; overrides PANNIER_LOG_FORMAT.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI and API (applies pending database migrations first).
    #[command(after_help = config_help())]
    Serve,
    /// Manage accounts.
    User {
        /// The account action.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API tokens.
    Token {
        /// The token action.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage the database schema.
    Migrate {
        /// The migration action.
        #[command(subcommand)]
        action: MigrateAction,
    },
}

/// `pannier migrate …`.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations (all, or the next N).
    Up {
        /// How many pending migrations to apply.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Roll back the last N applied migrations.
    Down {
        /// How many applied migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List every migration and whether it is applied.
    Status,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Pretty => Self::Pretty,
            LogFormatArg::Json => Self::Json,
        }
    }
}

/// The configuration reference shown under `--help`.
fn config_help() -> String {
    let mut help = String::from("Configuration (defaults < --config FILE < environment):\n");
    for key in KEYS {
        help.push_str(&format!(
            "  {:<30} {}\n  {:<30} TOML key `{}`, default: {}\n",
            key.env, key.help, "", key.toml, key.default
        ));
    }
    help
}

/// Parses the command line, loads the configuration and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("pannier: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = cli.log_format {
        config.log_format = format.into();
    }
    telemetry::init(config.log_format, &config.log_level);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli.command, config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "command failed");
            eprintln!("pannier: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr()?, "listening");
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate { action } => migrate(action, &config).await,
        Command::User { action } => cli_accounts::user(action, &migrated(&config).await?).await,
        Command::Token { action } => cli_accounts::token(action, &migrated(&config).await?).await,
    }
}

/// The database with every migration applied (account commands may run before `serve`).
async fn migrated(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = domain::db::connect(config).await.context("cannot open the database")?;
    Migrator::up(&db, None).await.context("cannot apply database migrations")?;
    Ok(db)
}

async fn migrate(action: MigrateAction, config: &Config) -> anyhow::Result<()> {
    let db = domain::db::connect(config).await.context("cannot open the database")?;
    match action {
        MigrateAction::Up { steps } => Migrator::up(&db, steps).await?,
        MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
        MigrateAction::Status => {}
    }
    let mut out = std::io::stdout().lock();
    for migration in Migrator::get_migration_with_status(&db).await? {
        writeln!(out, "{:<8} {}", migration.status().to_string(), migration.name())?;
    }
    Ok(())
}
