//! The command line: `pannier [serve]`, `pannier worker`, `pannier jobs …`,
//! `pannier migrate up|down|status`, `pannier user …`, `pannier token …`.
//! Every command reads the same layered configuration (see `domain::config::KEYS`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use domain::config::{Config, KEYS, LogFormat};
use migration::{Migrator, MigratorTrait};

use crate::cli_accounts::{self, TokenAction, UserAction};
use crate::cli_jobs::{self, JobsAction};
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
    /// What to do; `serve` when none is named (as `cargo leptos watch` starts the binary).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI and API (applies pending database migrations first).
    #[command(after_help = config_help())]
    Serve,
    /// Run job workers only (previews, housekeeping), no web server: `PANNIER_WORKERS` of them
    /// (at least one), beside instances that serve with `PANNIER_WORKERS=0`.
    Worker,
    /// Inspect and manage the job queue.
    Jobs {
        /// The jobs action.
        #[command(subcommand)]
        action: JobsAction,
    },
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
    /// Set who may sign up: `open`, `invite_only` or `closed` (as on /admin).
    Registration {
        /// The registration mode.
        mode: String,
    },
    /// Check that storage and the database agree.
    Storage {
        /// The storage action.
        #[command(subcommand)]
        action: StorageAction,
    },
    /// Manage the search index.
    Search {
        /// The search action.
        #[command(subcommand)]
        action: SearchAction,
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

/// `pannier storage …`.
#[derive(Debug, Subcommand)]
pub enum StorageAction {
    /// List stored objects no row references and rows whose object is missing; exits 1 while
    /// any remain.
    Check {
        /// Delete the unreferenced objects (older than an hour: younger ones may be uploads
        /// about to get their row).
        #[arg(long)]
        repair: bool,
    },
}

/// `pannier search …`.
#[derive(Debug, Subcommand)]
pub enum SearchAction {
    /// Rebuild the index of names, descriptions and texts from the files (after restoring a
    /// backup made without it, or to repair it), and queue the reading of texts not read yet.
    Reindex,
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
        .and_then(|runtime| runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)));
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
            if let Some(token) = domain::setup::issue(&app.state().db).await.map_err(app_error)? {
                let link = format!("{}/sign-up?setup={token}", app.state().config.public_url());
                tracing::warn!(
                    %link,
                    "no account exists yet: create the admin at this link (it works once), or \
                     with `pannier user create --admin`"
                );
            }
            // Stopping by signal works from before the server says it listens.
            let stop = shutdown_signal();
            tracing::info!(addr = %app.local_addr()?, "listening");
            app.run_until(stop).await
        }
        Command::Registration { mode } => {
            let mode = domain::account::RegistrationMode::parse(&mode).map_err(app_error)?;
            let db = migrated(&config).await?;
            domain::settings::set(&db, domain::settings::REGISTRATION_MODE, mode.as_str())
                .await
                .map_err(app_error)?;
            writeln!(std::io::stdout().lock(), "registration: {}", mode.as_str())?;
            Ok(())
        }
        Command::Worker => {
            let db = migrated(&config).await?;
            cli_jobs::worker(cli_jobs::state(config, db).await?).await
        }
        Command::Jobs { action } => {
            let db = migrated(&config).await?;
            cli_jobs::jobs(action, cli_jobs::state(config, db).await?).await
        }
        Command::Migrate { action } => migrate(action, &config).await,
        Command::User { action } => cli_accounts::user(action, &migrated(&config).await?).await,
        Command::Token { action } => cli_accounts::token(action, &migrated(&config).await?).await,
        Command::Storage { action: StorageAction::Check { repair } } => {
            storage_check(config, repair).await
        }
        Command::Search { action: SearchAction::Reindex } => {
            let db = migrated(&config).await?;
            let files = domain::search::reindex(&db).await.map_err(app_error)?;
            let missing = domain::search::backfill(&db).await.map_err(app_error)?;
            writeln!(
                std::io::stdout().lock(),
                "search index rebuilt: {files} files; text still to read: {missing}"
            )?;
            Ok(())
        }
    }
}

/// An `AppError` as a command's error (its message is meant for people).
fn app_error(err: domain::AppError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// `pannier storage check`: prints what disagrees; an error (exit 1) while anything remains.
async fn storage_check(config: Config, repair: bool) -> anyhow::Result<()> {
    let db = migrated(&config).await?;
    let storage = domain::storage::BlobStore::from_config(&config).await?;
    let state = domain::state::AppState::new(config, db, storage);
    let grace = std::time::Duration::from_secs(3600);
    let report = domain::files::check_storage(&state, repair, grace).await.map_err(app_error)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "objects: {}", report.objects)?;
    for key in &report.orphans {
        writeln!(out, "unreferenced: {key}")?;
    }
    for key in &report.missing {
        writeln!(out, "missing: {key}")?;
    }
    writeln!(
        out,
        "unreferenced: {}, removed: {}, missing: {}",
        report.orphans.len(),
        report.removed,
        report.missing.len()
    )?;
    anyhow::ensure!(report.is_consistent(), "storage and the database disagree (see above)");
    Ok(())
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
