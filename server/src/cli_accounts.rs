//! `pannier user …` and `pannier token …`: account administration from the shell.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use domain::account::{DisplayName, EmailAddress, Role, TokenScope};
use domain::auth::{ClientInfo, random_secret};
use domain::files::QuotaSetting;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;

/// `pannier user …`.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account (ignores the registration mode). Prints a generated password unless
    /// one is given on standard input.
    Create {
        /// The email to sign in with.
        #[arg(long)]
        email: String,
        /// The name shown to others (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password and end every session of the account. Prints a generated password
    /// unless one is given on standard input.
    ResetPassword {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set the account's storage quota: a size (`500MiB`, `20GiB`), `unlimited`, or `default`
    /// (PANNIER_DEFAULT_QUOTA). Files already stored stay; new uploads must fit.
    Quota {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// `default`, `unlimited` or a size.
        #[arg(long)]
        size: String,
    },
}

/// `pannier token …`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create an API token for an account and print it (once).
    Create {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// A label for the token, e.g. "backup script".
        #[arg(long)]
        name: String,
        /// What the token may do.
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
}

/// `--scope` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// GET and HEAD only.
    Read,
    /// Everything the account may do.
    Write,
}

/// Runs a `user` command.
pub async fn user(action: UserAction, db: &DatabaseConnection) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        UserAction::Create { email, name, admin, password_stdin } => {
            let email = EmailAddress::parse(&email).map_err(anyhow_app)?;
            let default_name = email.as_str().split('@').next().unwrap_or_default().to_owned();
            let name =
                DisplayName::parse(name.as_deref().unwrap_or(&default_name)).map_err(anyhow_app)?;
            let (password, generated) = password(password_stdin)?;
            let role = if admin { Role::Admin } else { Role::User };
            let user = domain::users::create(db, &email, &name, password, role)
                .await
                .map_err(anyhow_app)?;
            writeln!(out, "created {} ({}) {}", user.email, user.role, user.id)?;
            if let Some(generated) = generated {
                writeln!(out, "password: {generated}")?;
            }
        }
        UserAction::ResetPassword { email, password_stdin } => {
            let email = EmailAddress::parse(&email).map_err(anyhow_app)?;
            let (password, generated) = password(password_stdin)?;
            domain::users::reset_password(db, &email, password).await.map_err(anyhow_app)?;
            writeln!(
                out,
                "password reset for {}; every session of the account ended",
                email.as_str()
            )?;
            if let Some(generated) = generated {
                writeln!(out, "password: {generated}")?;
            }
        }
        UserAction::Quota { email, size } => {
            let email = EmailAddress::parse(&email).map_err(anyhow_app)?;
            let Some(user) = domain::users::find_by_email(db, &email).await.map_err(anyhow_app)?
            else {
                bail!("no account with the email {}", email.as_str());
            };
            let setting = QuotaSetting::parse(&size).map_err(|e| anyhow::anyhow!("--size: {e}"))?;
            domain::files::set_quota(db, &user, setting).await.map_err(anyhow_app)?;
            writeln!(out, "quota of {} set to {size}", email.as_str())?;
        }
    }
    Ok(())
}

/// Runs a `token` command.
pub async fn token(action: TokenAction, db: &DatabaseConnection) -> anyhow::Result<()> {
    let TokenAction::Create { email, name, scope, expires_days } = action;
    let email = EmailAddress::parse(&email).map_err(anyhow_app)?;
    let Some(user) = domain::users::find_by_email(db, &email).await.map_err(anyhow_app)? else {
        bail!("no account has the email {}", email.as_str());
    };
    let scope = match scope {
        ScopeArg::Read => TokenScope::Read,
        ScopeArg::Write => TokenScope::Write,
    };
    let created =
        domain::tokens::create(db, &user, &name, scope, expires_days, &ClientInfo::default())
            .await
            .map_err(anyhow_app)?;
    writeln!(std::io::stdout().lock(), "{}", created.secret)?;
    Ok(())
}

/// The password from standard input, or a generated one (returned again to print).
fn password(from_stdin: bool) -> anyhow::Result<(SecretString, Option<String>)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok((SecretString::from(line), None));
    }
    let generated = random_secret(18);
    Ok((SecretString::from(generated.clone()), Some(generated)))
}

fn anyhow_app(err: domain::AppError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}
