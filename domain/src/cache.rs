//! In-process caches of the hot reads, so a signed-in listing, a file download or a page asks
//! the database nothing when nothing changed: who an API token or a session is, an account's
//! row, a folder's listing (and its JSON, as the REST API sends it) and a file's row.
//!
//! Correctness rests on three counters, bumped by every write that could change a cached answer:
//! - the **auth epoch** ([`auth_changed`]): any change to an account, its API tokens, the
//!   deletion of sessions by account, or an instance setting. Rare (a password change, a
//!   revoked token, a new quota, a new site name), so it simply retires every cached token,
//!   session, account and the site's name (kept in `AppState`: it is not keyed by anything
//!   unique to one database) at once. Such a change also rewrites a mark in the database,
//!   which requests look at every 100 ms: a token revoked from the command line (another
//!   process) stops working within that.
//! - a **tree generation** per owner ([`tree_changed`]): any change to the owner's files or
//!   folders. Listings and file rows are cached under the generation they were read at.
//! - the **shares epoch** ([`shares_changed`]): a link made, changed or revoked. Links by
//!   slug, the files a link reaches and its public page are cached under it (and the owner's
//!   tree generation). Links with a download limit and file requests are always read afresh:
//!   their counters are their state.
//!
//! An entry is used only while its counter is unchanged. Writers bump at the write (inside
//! their transaction) and again once it committed (`…_committed` in the services that own
//! the transaction), so a read that raced the commit is not kept. Entries also expire after
//! [`TTL`]. The counters are per process: every bump is also announced through Redis
//! ([`crate::cluster`]) and applied by the other instances within milliseconds; without Redis
//! (or while it is down) the TTL bounds how stale another instance's change to files, folders
//! or links can look here.
//!
//! The caches are process-wide, like the metrics recorder: every write runs on a connection
//! or transaction, not on `AppState`, and must be able to invalidate. Keys are random ids and
//! secret hashes, unique across databases, so several servers in one test process never see
//! each other's entries.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache;
use sea_orm::{ConnectionTrait, EntityTrait};
use tower_sessions::session::Record;
use uuid::Uuid;

use crate::AppError;
use crate::cluster::{Change, announce};
use crate::entities::{files, settings, share_requests, shares, users};
use crate::files::{Children, FolderListing, ListQuery};
use crate::ids::FolderRef;
use crate::shares::{PublicShare, SharedFile};

/// How long an entry is trusted without a change being seen.
pub const TTL: Duration = Duration::from_secs(5);

/// An API token's facts, by the hash of its secret.
#[derive(Debug, Clone)]
pub(crate) struct TokenEntry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub scope: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A cache whose entries carry the counter values (`N`) they were read at.
struct Versioned<K, V, N = u64> {
    name: &'static str,
    entries: Cache<K, (N, V)>,
}

/// Counts a cache's answers: `pannier_cache_requests_total{cache, result="hit"|"miss"}`.
fn count(name: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("pannier_cache_requests_total", "cache" => name, "result" => result)
        .increment(1);
}

impl<K, V, N> Versioned<K, V, N>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    N: PartialEq + Clone + Send + Sync + 'static,
{
    fn new(name: &'static str, capacity: u64) -> Self {
        let entries = Cache::builder().max_capacity(capacity).time_to_live(TTL).build();
        Self { name, entries }
    }

    fn get(&self, key: &K, version: &N) -> Option<V> {
        let found = self.entries.get(key).filter(|(at, _)| at == version).map(|(_, value)| value);
        count(self.name, found.is_some());
        found
    }

    fn put(&self, key: K, version: N, value: V) {
        self.entries.insert(key, (version, value));
    }
}

/// A cache whose keys carry the counter value they were read at, and which loads a missing
/// entry once for everyone asking at the same time (when an entry expires under load, one
/// request reads the database and the others wait for it, instead of all reading at once).
struct Loading<K, V> {
    name: &'static str,
    entries: moka::future::Cache<(K, u64), V>,
}

impl<K, V> Loading<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(name: &'static str, capacity: u64) -> Self {
        let entries =
            moka::future::Cache::builder().max_capacity(capacity).time_to_live(TTL).build();
        Self { name, entries }
    }

    async fn get_or_load(
        &self,
        key: K,
        version: u64,
        load: impl std::future::Future<Output = Result<V, AppError>>,
    ) -> Result<V, AppError> {
        let loaded = std::sync::atomic::AtomicBool::new(false);
        let load = async {
            loaded.store(true, Ordering::Relaxed);
            load.await
        };
        let found = self.entries.try_get_with((key, version), load).await;
        count(self.name, !loaded.load(Ordering::Relaxed));
        found.map_err(|err| AppError::clone(&err))
    }

    async fn put(&self, key: K, version: u64, value: V) {
        self.entries.insert((key, version), value).await;
    }
}

/// What a folder listing is cached under: owner, folder, page (and the tree generation).
type ListingKey = (Uuid, FolderRef, ListQuery);

struct Caches {
    auth_epoch: AtomicU64,
    tokens: Loading<String, TokenEntry>,
    sessions: Versioned<String, Record>,
    users: Loading<Uuid, Option<users::Model>>,
    /// Owner → generation, and when it last changed. Never evicted (a few bytes per
    /// account), so a generation only grows and an old entry can never match again.
    trees: Mutex<HashMap<Uuid, (u64, Option<std::time::Instant>)>>,
    listings: Loading<ListingKey, Arc<FolderListing>>,
    /// The same pages serialized; under (tree generation, the owner's quota).
    listings_json: Versioned<ListingKey, Bytes, (u64, Option<u64>)>,
    files: Loading<(Uuid, Uuid), files::Model>,
    /// Owner → their folder tree, for search's walks; weighed by folders.
    folder_trees: Loading<Uuid, Arc<Children>>,
    shares_epoch: AtomicU64,
    /// Slug hash → the link and its file request's rules.
    links: Loading<String, Link>,
    /// (link, file) → the file if the link reaches it; under (shares epoch, owner's tree).
    shared_files: Versioned<(Uuid, Uuid), Option<SharedFile>, (u64, u64)>,
    /// (link, page) → the public page; under (shares epoch, owner's tree, auth epoch).
    share_pages: Versioned<(Uuid, u64), PublicShare, (u64, u64, u64)>,
}

/// A link with its file request's rules, if it is one.
pub(crate) type Link = (shares::Model, Option<share_requests::Model>);

static CACHES: LazyLock<Caches> = LazyLock::new(|| Caches {
    auth_epoch: AtomicU64::new(0),
    tokens: Loading::new("tokens", 100_000),
    sessions: Versioned::new("sessions", 100_000),
    users: Loading::new("users", 100_000),
    trees: Mutex::new(HashMap::new()),
    listings: Loading {
        name: "listings",
        entries: moka::future::Cache::builder()
            // Weighed by rows, so a few thousand large pages fit as well as many small ones.
            .weigher(|_, listing: &Arc<FolderListing>| {
                u32::try_from(1 + listing.files.len() + listing.folders.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(500_000)
            .time_to_live(TTL)
            .build(),
    },
    listings_json: Versioned {
        name: "listings_json",
        entries: Cache::builder()
            // Weighed by KiB.
            .weigher(|_, (_, json): &(_, Bytes)| {
                u32::try_from(1 + json.len() / 1024).unwrap_or(u32::MAX)
            })
            .max_capacity(256 * 1024)
            .time_to_live(TTL)
            .build(),
    },
    files: Loading::new("files", 100_000),
    folder_trees: Loading {
        name: "folder_trees",
        entries: moka::future::Cache::builder()
            // 32 bytes a folder: 16 MB at most.
            .weigher(|_, tree: &Arc<Children>| u32::try_from(1 + tree.len()).unwrap_or(u32::MAX))
            .max_capacity(500_000)
            .time_to_live(TTL)
            .build(),
    },
    shares_epoch: AtomicU64::new(0),
    links: Loading::new("links", 100_000),
    shared_files: Versioned::new("shared_files", 100_000),
    share_pages: Versioned::new("share_pages", 10_000),
});

/// The current auth epoch (as this process knows it).
pub(crate) fn auth_epoch() -> u64 {
    CACHES.auth_epoch.load(Ordering::Acquire)
}

/// Where other processes' auth changes show: a setting rewritten with a new random value by
/// each ([`auth_changed`]) — the command line revoking a token, another instance.
const AUTH_MARK: &str = "auth_changed";
/// How often a request looks at [`AUTH_MARK`] (at most; the look is one small read).
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// When the mark was last looked at, and what it said.
static AUTH_MARK_SEEN: Mutex<Option<(std::time::Instant, Option<String>)>> = Mutex::new(None);

/// The auth epoch to read under: if another process changed an account, a token or sessions
/// since the last look (at most [`LOOK_EVERY`] ago), everything cached is retired first. So
/// a token revoked from the command line stops working here within 100 ms.
pub(crate) async fn auth_epoch_checked(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    let due = {
        let mut seen = AUTH_MARK_SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match seen.as_mut() {
            Some((at, _)) if at.elapsed() < LOOK_EVERY => None,
            Some((at, last)) => {
                *at = std::time::Instant::now();
                Some(last.clone())
            }
            None => {
                *seen = Some((std::time::Instant::now(), None));
                Some(None)
            }
        }
    };
    if let Some(last) = due {
        // Background bookkeeping, not the request's own work: not counted as its statements.
        let mark = crate::db::uncounted(settings::Entity::find_by_id(AUTH_MARK).one(db)).await?;
        let mark = mark.map(|row| row.value);
        if mark != last {
            if let Some((_, known)) =
                AUTH_MARK_SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut()
            {
                *known = mark;
            }
            // Another process wrote the mark: it also told the others, if it could.
            bump_auth();
        }
    }
    Ok(auth_epoch())
}

/// An account, one of its API tokens, or sessions by account change on `db` (a transaction,
/// or the pool): every cached token, session and account is retired, here and — through the
/// mark — in other processes. Called at the write; a transaction calls [`auth_committed`]
/// again once committed.
pub(crate) async fn auth_changed(db: &impl ConnectionTrait) -> Result<(), AppError> {
    auth_committed();
    crate::settings::write(db, AUTH_MARK, &Uuid::new_v4().to_string()).await
}

/// Retires what this process and (through Redis) the others cached of accounts, tokens and
/// sessions.
pub(crate) fn auth_committed() {
    bump_auth();
    announce(Change::Auth);
}

fn bump_auth() {
    CACHES.auth_epoch.fetch_add(1, Ordering::AcqRel);
}

/// The token whose secret hashes to `hash`, cached or `load`ed.
pub(crate) async fn token(
    hash: String,
    epoch: u64,
    load: impl std::future::Future<Output = Result<TokenEntry, AppError>>,
) -> Result<TokenEntry, AppError> {
    CACHES.tokens.get_or_load(hash, epoch, load).await
}

pub(crate) async fn keep_token(hash: String, epoch: u64, entry: TokenEntry) {
    CACHES.tokens.put(hash, epoch, entry).await;
}

/// Account `id`, cached or `load`ed.
pub(crate) async fn user(
    id: Uuid,
    epoch: u64,
    load: impl std::future::Future<Output = Result<Option<users::Model>, AppError>>,
) -> Result<Option<users::Model>, AppError> {
    CACHES.users.get_or_load(id, epoch, load).await
}

pub(crate) fn session(id: &str, epoch: u64) -> Option<Record> {
    CACHES.sessions.get(&id.to_owned(), &epoch)
}

pub(crate) fn keep_session(epoch: u64, record: Record) {
    CACHES.sessions.put(record.id.to_string(), epoch, record);
}

/// Session `id` ended: no process serves it from its cache any more.
pub(crate) fn forget_session(id: &str) {
    CACHES.sessions.entries.invalidate(id);
    announce(Change::Session(id.to_owned()));
}

/// The owner's tree generation; read it before the database, store what was read under it.
pub(crate) fn tree_generation(owner: Uuid) -> u64 {
    with_generation(owner, |(generation, _)| *generation)
}

/// The owner's files or folders changed: their cached listings and file rows are retired, in
/// this process and (through Redis) the others.
pub(crate) fn tree_changed(owner: Uuid) {
    bump_tree(owner);
    announce(Change::Tree(owner));
}

fn bump_tree(owner: Uuid) {
    with_generation(owner, |(generation, changed_at)| {
        *generation += 1;
        *changed_at = Some(std::time::Instant::now());
    });
}

/// How long after a change of an owner's tree their reads go to the primary database rather
/// than a replica: far above a healthy replica's lag, so people see their own writes.
pub const READ_YOUR_WRITES: Duration = Duration::from_secs(5);

/// Whether the owner's tree changed (here or, as far as this process heard, elsewhere) within
/// [`READ_YOUR_WRITES`].
pub fn wrote_recently(owner: Uuid) -> bool {
    let trees = CACHES.trees.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    trees.get(&owner).and_then(|(_, at)| *at).is_some_and(|at| at.elapsed() < READ_YOUR_WRITES)
}

fn with_generation<T>(
    owner: Uuid,
    f: impl FnOnce(&mut (u64, Option<std::time::Instant>)) -> T,
) -> T {
    let mut trees = CACHES.trees.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(trees.entry(owner).or_default())
}

/// Applies another process's change to this one's caches.
pub(crate) fn apply(change: &Change) {
    match change {
        Change::Auth => bump_auth(),
        Change::Tree(owner) => bump_tree(*owner),
        Change::Shares => bump_shares(),
        Change::Session(id) => CACHES.sessions.entries.invalidate(id.as_str()),
    }
}

/// Retires everything cached (changes from elsewhere may have been missed).
pub(crate) fn everything_changed() {
    bump_auth();
    bump_shares();
    let mut trees = CACHES.trees.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (generation, _) in trees.values_mut() {
        *generation += 1;
    }
}

/// A page of the owner's folder, cached or `load`ed.
pub(crate) async fn listing(
    owner: Uuid,
    generation: u64,
    folder: FolderRef,
    query: ListQuery,
    load: impl std::future::Future<Output = Result<Arc<FolderListing>, AppError>>,
) -> Result<Arc<FolderListing>, AppError> {
    CACHES.listings.get_or_load((owner, folder, query), generation, load).await
}

/// A page of the owner's folder as JSON, if it is cached under `version`.
pub(crate) fn listing_json(
    owner: Uuid,
    folder: FolderRef,
    query: ListQuery,
    version: (u64, Option<u64>),
) -> Option<Bytes> {
    CACHES.listings_json.get(&(owner, folder, query), &version)
}

pub(crate) fn keep_listing_json(
    owner: Uuid,
    folder: FolderRef,
    query: ListQuery,
    version: (u64, Option<u64>),
    json: Bytes,
) {
    CACHES.listings_json.put((owner, folder, query), version, json);
}

/// The owner's file `id`, cached or `load`ed.
pub(crate) async fn file(
    owner: Uuid,
    id: Uuid,
    generation: u64,
    load: impl std::future::Future<Output = Result<files::Model, AppError>>,
) -> Result<files::Model, AppError> {
    CACHES.files.get_or_load((owner, id), generation, load).await
}

/// The owner's folder tree at `generation`, cached or `load`ed.
pub(crate) async fn folder_tree(
    owner: Uuid,
    generation: u64,
    load: impl std::future::Future<Output = Result<Arc<Children>, AppError>>,
) -> Result<Arc<Children>, AppError> {
    CACHES.folder_trees.get_or_load(owner, generation, load).await
}

/// The current shares epoch; read it before the database, store what was read under it.
pub(crate) fn shares_epoch() -> u64 {
    CACHES.shares_epoch.load(Ordering::Acquire)
}

/// The counters that retire what every account has cached (the auth and shares epochs): a test
/// sharing the process with others tells their changes from its own work by them.
pub fn process_epochs() -> (u64, u64) {
    (auth_epoch(), shares_epoch())
}

/// A link was made, changed or revoked: every cached link and what it shows is retired, in
/// this process and (through Redis) the others.
pub(crate) fn shares_changed() {
    bump_shares();
    announce(Change::Shares);
}

fn bump_shares() {
    CACHES.shares_epoch.fetch_add(1, Ordering::AcqRel);
}

/// The link whose slug hashes to `slug_hash`, cached or `load`ed.
pub(crate) async fn link(
    slug_hash: String,
    epoch: u64,
    load: impl std::future::Future<Output = Result<Link, AppError>>,
) -> Result<Link, AppError> {
    CACHES.links.get_or_load(slug_hash, epoch, load).await
}

/// Drops a link read through [`link`] that must be read afresh next time.
pub(crate) async fn forget_link(slug_hash: String, epoch: u64) {
    CACHES.links.entries.invalidate(&(slug_hash, epoch)).await;
}

pub(crate) fn shared_file(
    share: Uuid,
    file: Uuid,
    version: (u64, u64),
) -> Option<Option<SharedFile>> {
    CACHES.shared_files.get(&(share, file), &version)
}

pub(crate) fn keep_shared_file(
    share: Uuid,
    file: Uuid,
    version: (u64, u64),
    found: Option<SharedFile>,
) {
    CACHES.shared_files.put((share, file), version, found);
}

pub(crate) fn share_page(share: Uuid, page: u64, version: (u64, u64, u64)) -> Option<PublicShare> {
    CACHES.share_pages.get(&(share, page), &version)
}

pub(crate) fn keep_share_page(
    share: Uuid,
    page: u64,
    version: (u64, u64, u64),
    shown: PublicShare,
) {
    CACHES.share_pages.put((share, page), version, shown);
}

/// The counters a rendered page was made under: the server keeps a page's HTML and serves it
/// again only while they are unchanged, so a kept page is never staler than these caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageVersion {
    counters: [u64; 3],
    share: Option<Uuid>,
}

impl PageVersion {
    /// The link a share page shows (its visits count when its kept HTML is served).
    pub fn share(&self) -> Option<Uuid> {
        self.share
    }
}

/// `/files[/{id}]` of `viewer`: their account and the settings (the auth epoch) and their
/// tree. `None` when the database cannot say whether accounts changed elsewhere.
pub async fn files_page_version(db: &impl ConnectionTrait, viewer: Uuid) -> Option<PageVersion> {
    let auth = auth_epoch_checked(db).await.ok()?;
    Some(PageVersion { counters: [auth, tree_generation(viewer), 0], share: None })
}

/// A link's public page: accounts and settings, the links, the owner's tree.
pub(crate) fn share_page_version(auth: u64, shares: u64, tree: u64, share: Uuid) -> PageVersion {
    PageVersion { counters: [auth, shares, tree], share: Some(share) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bump_retires_what_was_read_before_it() {
        let owner = Uuid::new_v4();
        let before = tree_generation(owner);
        let query = ListQuery::default();
        let read = |total| async move { Ok(Arc::new(FolderListing { total, ..sample() })) };
        let first = listing(owner, before, FolderRef::Root, query, read(1)).await.unwrap();
        let again = listing(owner, before, FolderRef::Root, query, read(2)).await.unwrap();
        assert_eq!((first.total, again.total), (1, 1), "read once");
        tree_changed(owner);
        let after = tree_generation(owner);
        assert_ne!(before, after);
        let fresh = listing(owner, after, FolderRef::Root, query, read(3)).await.unwrap();
        assert_eq!(fresh.total, 3, "read again after the change");
        // Another owner's generation is untouched.
        let other = Uuid::new_v4();
        let theirs = tree_generation(other);
        tree_changed(owner);
        assert_eq!(tree_generation(other), theirs);
    }

    #[test]
    fn an_auth_change_retires_every_session() {
        let record = Record {
            id: tower_sessions::session::Id::default(),
            data: HashMap::new(),
            expiry_date: time::OffsetDateTime::now_utc(),
        };
        let id = record.id.to_string();
        let epoch = auth_epoch();
        keep_session(epoch, record);
        assert!(session(&id, epoch).is_some());
        auth_committed();
        assert!(session(&id, auth_epoch()).is_none());
    }

    fn sample() -> FolderListing {
        let folder = crate::files::FolderDto {
            id: crate::ids::FolderId::from(Uuid::new_v4()),
            parent_id: None,
            name: String::new(),
            created_at: String::new(),
        };
        FolderListing {
            folder,
            path: Vec::new(),
            folders: Vec::new(),
            files: Vec::new(),
            total: 0,
            next_cursor: None,
            usage: crate::files::Usage { used: 0, quota: None },
        }
    }
}
