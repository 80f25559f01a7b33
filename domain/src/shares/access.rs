//! Links' access log and counters, written in batches: a visit of a link page or a download
//! of a shared file writes nothing itself; what it noted is written once a second (and on
//! shutdown, and before the owner reads a link's counts or log) in one transaction — the
//! events in one insert, each link's views, downloads and last access in one update.
//!
//! Repeats are logged once (each still counts): a link's views from one address within an
//! hour, its downloads of one kind from one address within a minute — so a flood of requests
//! cannot grow the log faster than the addresses it comes from.
//!
//! What a crash can lose: the last second's log entries and the view and download counts of
//! links *without* a download limit. A download limit is never batched: taking one of a
//! limited link's downloads is one conditional update before any byte is sent
//! ([`super::policy`]), so two visitors can never both take the last one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::AppError;
use crate::entities::{share_events, shares};

/// Views of one link from one address within this window are logged once.
const VIEW_WINDOW: Duration = Duration::from_secs(3600);
/// Downloads (of one kind) of one link from one address within this window are logged once.
const DOWNLOAD_WINDOW: Duration = Duration::from_secs(60);
/// How often what was noted is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Log entries kept while the database refuses them; past this the oldest are dropped.
const MAX_PENDING_EVENTS: usize = 100_000;

/// What visitors did since the last write.
#[derive(Debug)]
pub struct Accesses {
    pending: Mutex<Pending>,
    /// (link, kind, address) whose view is logged within the window (in this process).
    logged_views: moka::sync::Cache<LogKey, ()>,
    /// The same for downloads, previews and zips.
    logged_downloads: moka::sync::Cache<LogKey, ()>,
}

type LogKey = (Uuid, String, Option<String>);

#[derive(Debug, Default)]
struct Pending {
    events: Vec<(Uuid, share_events::ActiveModel)>,
    counts: HashMap<Uuid, Counts>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    views: i64,
    downloads: i64,
    last_access: Option<DateTime<Utc>>,
}

impl Default for Accesses {
    fn default() -> Self {
        Self {
            pending: Mutex::default(),
            logged_views: log_window(VIEW_WINDOW),
            logged_downloads: log_window(DOWNLOAD_WINDOW),
        }
    }
}

fn log_window(window: Duration) -> moka::sync::Cache<LogKey, ()> {
    moka::sync::Cache::builder().max_capacity(100_000).time_to_live(window).build()
}

impl Accesses {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes an access of `kind` to link `share` from `ip`: logged (once per address and
    /// window), counted as a view, and as a download when `download` (a link without a
    /// limit; a limited link's download was taken already).
    pub(crate) fn note(&self, share: Uuid, kind: &str, ip: Option<&str>, download: bool) {
        let now = Utc::now();
        let logged = if kind == "view" { &self.logged_views } else { &self.logged_downloads };
        let key = (share, kind.to_owned(), ip.map(str::to_owned));
        let log = !logged.contains_key(&key);
        if log {
            logged.insert(key, ());
        }
        let mut pending = self.pending();
        if log {
            if pending.events.len() >= MAX_PENDING_EVENTS {
                pending.events.remove(0);
            }
            let event = share_events::ActiveModel {
                id: Set(Uuid::new_v4()),
                share_id: Set(share),
                kind: Set(kind.to_owned()),
                ip: Set(ip.map(str::to_owned)),
                created_at: Set(now),
            };
            pending.events.push((share, event));
        }
        let counts = pending.counts.entry(share).or_default();
        counts.views += i64::from(kind == "view");
        counts.downloads += i64::from(download);
        counts.last_access = Some(now);
    }

    /// Writes what was noted in one transaction; on failure it is kept for the next try.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<(), AppError> {
        let Pending { events, counts } = std::mem::take(&mut *self.pending());
        if events.is_empty() && counts.is_empty() {
            return Ok(());
        }
        let written = write(db, &events, &counts).await;
        if written.is_err() {
            let mut pending = self.pending();
            let newer = std::mem::take(&mut pending.events);
            pending.events = events;
            pending.events.extend(newer);
            let excess = pending.events.len().saturating_sub(MAX_PENDING_EVENTS);
            pending.events.drain(..excess);
            for (share, counts) in counts {
                let merged = pending.counts.entry(share).or_default();
                merged.views += counts.views;
                merged.downloads += counts.downloads;
                merged.last_access = Ord::max(merged.last_access, counts.last_access);
            }
        }
        written
    }

    /// Writes what was noted every [`FLUSH_EVERY`] until dropped.
    pub async fn keep_writing(&self, db: &DatabaseConnection) {
        let mut every = tokio::time::interval(FLUSH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = crate::db::uncounted(self.flush(db)).await {
                tracing::warn!(error = %err, "could not write the links' access log; retrying");
            }
        }
    }
}

async fn write(
    db: &DatabaseConnection,
    events: &[(Uuid, share_events::ActiveModel)],
    counts: &HashMap<Uuid, Counts>,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    // Rows of links deleted meanwhile are skipped: the log goes with its link.
    let live: Vec<Uuid> = shares::Entity::find()
        .select_only()
        .column(shares::Column::Id)
        .filter(shares::Column::Id.is_in(counts.keys().copied()))
        .into_tuple()
        .all(&txn)
        .await?;
    let events: Vec<_> = events
        .iter()
        .filter(|(share, _)| live.contains(share))
        .map(|(_, event)| event.clone())
        .collect();
    for chunk in events.chunks(500) {
        share_events::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for (share, counts) in counts.iter().filter(|(share, _)| live.contains(share)) {
        let mut update = shares::Entity::update_many()
            .col_expr(shares::Column::LastAccessAt, Expr::value(counts.last_access))
            .filter(shares::Column::Id.eq(*share));
        if counts.views > 0 {
            update = update.col_expr(
                shares::Column::Views,
                Expr::col(shares::Column::Views).add(counts.views),
            );
        }
        if counts.downloads > 0 {
            update = update.col_expr(
                shares::Column::Downloads,
                Expr::col(shares::Column::Downloads).add(counts.downloads),
            );
        }
        update.exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
