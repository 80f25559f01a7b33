//! Storing a file: bytes stream to storage while SHA-256 is computed and the limits are enforced;
//! the row is written only once the bytes are durable, so there is never a row without bytes,
//! and a failure at any point removes what was written.

use std::fmt::Display;

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::folders::{Maker, ensure_path, folder_of, names_like};
use super::group_commit::Work;
use super::listing::file_dto;
use super::quota::{committed_bytes, lock_owner, quota_of};
use super::tree::{MAX_DEPTH, MAX_PATH_BYTES, too_deep};
use super::{FileDto, FileName, human_size};
use crate::AppError;
use crate::entities::{files, upload_keys, uploads, users};
use crate::ids::{FolderId, FolderRef};
use crate::shares::{Visitor, accept_upload};
use crate::state::AppState;
use crate::storage::{BlobKey, BlobWriter};

/// Bytes gathered before each storage write (fewer, larger writes).
const WRITE_CHUNK: usize = 1 << 20;
/// Bytes kept from the start of the file to detect its type.
pub(crate) const SNIFF_BYTES: usize = 8 << 10;

/// Where an upload goes and what it is called.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// The target folder.
    pub folder: FolderRef,
    /// Sub-folders below the target, `a/b` (folder uploads keep their tree); made as needed.
    pub relative_dir: Option<String>,
    /// The file's name as sent; sanitized, and numbered if taken: `name (1).ext`.
    pub name: String,
    /// The account's key for this upload: sent again with the same bytes, the file it made.
    pub key: Option<IdempotencyKey>,
}

/// An account's `Idempotency-Key` for one upload: a retry with it (its answer was lost) gets
/// the file the first attempt made instead of a second copy, for a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters (a UUID, say).
    pub fn parse(key: &str) -> Result<Self, AppError> {
        let visible = |c: char| c.is_ascii_graphic() || c == ' ';
        if key.is_empty() || key.len() > 255 || !key.chars().all(visible) {
            return Err(AppError::BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say).".into(),
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

/// How long a key is kept.
const KEY_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Who sends a file: an account into its own folders, or a visitor through a file request
/// (into the request's folder, under its rules; the file is the request owner's).
#[derive(Debug, Clone)]
pub enum Uploader {
    /// A signed-in account (session or API token).
    Account(users::Model),
    /// A visitor the share policy let in.
    Visitor(Box<Visitor>),
}

impl Uploader {
    /// Whose file it becomes (and whose quota it counts against).
    pub fn owner(&self) -> &users::Model {
        match self {
            Self::Account(owner) => owner,
            Self::Visitor(visitor) => &visitor.owner,
        }
    }
}

/// The file request a file arrives through, and the visitor's token hash.
#[derive(Debug, Clone)]
pub(crate) struct Via {
    pub share: Uuid,
    pub visitor: Option<String>,
}

/// Streams `body` into storage as a new file. Limits (max file size, quota, a file request's
/// rules) are enforced while the bytes arrive → 413 with nothing left behind.
#[tracing::instrument(skip_all, fields(owner = %who.owner().id))]
pub async fn store_file<S, E>(
    state: &AppState,
    who: &Uploader,
    upload: Upload,
    body: S,
) -> Result<FileDto, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let target = Target::resolve(&state.db, who, &upload).await?;
    let limits = Limits::for_uploader(state, who).await?;

    let writer = state.storage.writer(&BlobKey::new_file()).await?;
    let (key, received) = receive(writer, body, &limits).await?;
    let file = commit_or_delete(state, who.owner(), &target, &key, &received, None).await?;
    if file.blob_key != key.as_string() {
        // A retry: the first attempt's file; these bytes are a copy nothing points at.
        if let Err(err) = state.storage.delete(&key).await {
            tracing::warn!(error = %err, "could not remove the bytes of a repeated upload");
        }
    }
    Ok(file_dto(&file))
}

/// The file an earlier upload with `key` made (with the same bytes, else 409), if any.
async fn made_with(
    txn: &DatabaseTransaction,
    owner: &users::Model,
    key: &IdempotencyKey,
    received: &Received,
) -> Result<Option<files::Model>, AppError> {
    let Some(made) = upload_keys::Entity::find_by_id((owner.id, key.0.clone())).one(txn).await?
    else {
        return Ok(None);
    };
    let file = files::Entity::find_by_id(made.file_id).one(txn).await?;
    match file {
        Some(file) if file.sha256 == received.sha256 => Ok(Some(file)),
        _ => Err(AppError::Conflict(
            "This Idempotency-Key went with an upload of other bytes: send a new key.".into(),
        )),
    }
}

/// Forgets the keys of uploads older than a day (housekeeping); how many.
pub(crate) async fn forget_old_keys(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    let old = upload_keys::Entity::delete_many()
        .filter(upload_keys::Column::CreatedAt.lt(Utc::now() - KEY_KEPT))
        .exec(db)
        .await?;
    Ok(old.rows_affected)
}

/// Where a file goes: a folder of the owner, sub-folders to make below it, its name, and the
/// file request it comes through.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub folder: FolderId,
    pub dirs: Vec<FileName>,
    pub name: FileName,
    pub via: Option<Via>,
    pub key: Option<IdempotencyKey>,
}

impl Target {
    /// Checks the folder (404 unless the owner's; a visitor's is the request's) and the
    /// sub-folder names; sanitizes the name (a visitor's must be of a type the request takes).
    pub async fn resolve(
        db: &impl ConnectionTrait,
        who: &Uploader,
        upload: &Upload,
    ) -> Result<Self, AppError> {
        let owner = who.owner();
        let name = FileName::sanitize(&upload.name);
        let dirs = parse_dirs(upload.relative_dir.as_deref())?;
        let (folder, via) = match who {
            Uploader::Account(_) => (folder_of(db, owner, upload.folder).await?, None),
            Uploader::Visitor(_) if upload.key.is_some() => {
                return Err(AppError::BadRequest(
                    "Idempotency-Key is for uploads into your own account.".into(),
                ));
            }
            Uploader::Visitor(visitor) => {
                visitor.check_name(&name)?;
                let folder = folder_of(db, owner, visitor.folder()?).await?;
                (folder, Some(visitor.via()))
            }
        };
        Ok(Self { folder: folder.id.into(), dirs, name, via, key: upload.key.clone() })
    }
}

/// [`commit`], removing the stored bytes when it fails (their row will never exist).
async fn commit_or_delete(
    state: &AppState,
    owner: &users::Model,
    target: &Target,
    key: &BlobKey,
    received: &Received,
    upload: Option<Uuid>,
) -> Result<files::Model, AppError> {
    let stored = commit(state, owner, target, key, received, upload).await;
    if stored.is_err()
        && let Err(delete) = state.storage.delete(key).await
    {
        tracing::warn!(error = %delete, "could not remove the bytes of a failed upload");
    }
    stored
}

/// Makes stored bytes a file: in one transaction (shared with other uploads finishing at the
/// same time: [`super::group_commit`]), remove the resumable `upload` record they came from (if
/// any), re-check the quota, find the folder (it may have gone meanwhile → 404) and its
/// sub-folders, pick a free name, insert the row. Shared by every way bytes arrive.
pub(crate) async fn commit(
    state: &AppState,
    owner: &users::Model,
    target: &Target,
    key: &BlobKey,
    received: &Received,
    upload: Option<Uuid>,
) -> Result<files::Model, AppError> {
    let (state_, owner_, target, key, received) =
        (state.clone(), owner.clone(), target.clone(), key.clone(), received.clone());
    let work: Work = Box::new(move |txn| {
        Box::pin(
            async move { insert(&state_, &owner_, &target, &key, &received, upload, txn).await },
        )
    });
    state.commits.run(&state.db, owner.id, work).await
}

/// [`commit`]'s writes, in the batch's transaction.
async fn insert(
    state: &AppState,
    owner: &users::Model,
    target: &Target,
    key: &BlobKey,
    received: &Received,
    upload: Option<Uuid>,
    txn: &DatabaseTransaction,
) -> Result<files::Model, AppError> {
    lock_owner(txn, owner.id).await?;
    if let Some(key) = &target.key
        && let Some(file) = made_with(txn, owner, key, received).await?
    {
        return Ok(file);
    }
    if let Some(upload) = upload {
        let removed = uploads::Entity::delete_by_id(upload).exec(txn).await?;
        if removed.rows_affected == 0 {
            return Err(AppError::NotFound("This upload has already finished or expired.".into()));
        }
    }
    if let Some(quota) = quota_of(state, owner) {
        let used = committed_bytes(txn, owner.id).await?;
        if used + received.size > quota {
            return Err(quota_error(quota));
        }
    }
    let folder = folder_of(txn, owner, target.folder).await?;
    let maker = match &target.via {
        Some(via) => Maker::Visitor(via.visitor.as_deref()),
        None => Maker::Owner,
    };
    let folder = ensure_path(txn, owner, folder, &target.dirs, maker).await?;
    let name = free_name(txn, folder.id, &target.name).await?;
    let now = Utc::now();
    let content_type = sniff(&received.head, &name);
    let file = files::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner.id),
        folder_id: Set(folder.id),
        name: Set(name.as_str().to_owned()),
        size: Set(i64::try_from(received.size).map_err(|_| AppError::Internal)?),
        content_type: Set(content_type),
        sha256: Set(received.sha256.clone()),
        blob_key: Set(key.as_string()),
        description: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    if let Some(key) = &target.key {
        let made = upload_keys::ActiveModel {
            owner_id: Set(owner.id),
            key: Set(key.0.clone()),
            file_id: Set(file.id),
            created_at: Set(now),
        };
        made.insert(txn).await?;
    }
    if crate::media::MediaKind::of(&file.content_type).is_some() {
        // Committed with the row or not at all; a worker makes the previews.
        crate::jobs::enqueue(txn, &crate::jobs::Task::Previews { file: file.id }).await?;
    }
    if crate::search::has_text(&file.content_type) {
        crate::jobs::enqueue(txn, &crate::jobs::Task::ExtractText { file: file.id }).await?;
    }
    crate::cache::tree_changed(owner.id);
    if let Some(via) = &target.via {
        accept_upload(txn, via, &file).await?;
    }
    Ok(file)
}

/// The byte limits one upload must stay within, each with the error for passing it: the
/// instance's largest file, the owner's quota left, a file request's rules.
struct Limits(Vec<(u64, AppError)>);

impl Limits {
    async fn for_uploader(state: &AppState, who: &Uploader) -> Result<Self, AppError> {
        let owner = who.owner();
        let mut caps = Vec::new();
        if let Some(max) = state.config.max_file_size.limit() {
            caps.push((max, too_large(max)));
        }
        if let Some(quota) = quota_of(state, owner) {
            let left = quota.saturating_sub(committed_bytes(&state.db, owner.id).await?);
            caps.push((left, quota_error(quota)));
        }
        if let Uploader::Visitor(visitor) = who {
            caps.extend(visitor.caps(&state.db).await?);
        }
        Ok(Self(caps))
    }

    /// The error for a body of `size` bytes, if it passed a limit (the lowest it passed).
    fn check(&self, size: u64) -> Result<(), AppError> {
        match self.0.iter().filter(|(cap, _)| size > *cap).min_by_key(|(cap, _)| *cap) {
            Some((_, err)) => Err(err.clone()),
            None => Ok(()),
        }
    }
}

/// The error for a file past the instance's largest.
pub(crate) fn too_large(max: u64) -> AppError {
    AppError::TooLarge(format!(
        "This file is larger than the {} limit for one file.",
        human_size(max)
    ))
}

/// The error for an upload that does not fit the quota.
pub(crate) fn quota_error(quota: u64) -> AppError {
    AppError::QuotaExceeded(format!(
        "This upload would take you past your {} storage quota.",
        human_size(quota)
    ))
}

/// What arrived: size, hash and the first bytes.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
}

/// Streams `body` into `writer` within `limits`; the key the bytes were stored under.
async fn receive<S, E>(
    mut writer: BlobWriter,
    mut body: S,
    limits: &Limits,
) -> Result<(BlobKey, Received), AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    // Grown as bytes arrive: a 4 KiB upload must not cost a 1 MiB allocation.
    let mut buffer = BytesMut::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                writer.abort().await;
                tracing::info!(error = %err, "upload interrupted");
                return Err(AppError::BadRequest(
                    "The upload was interrupted before the whole file arrived. Try again.".into(),
                ));
            }
        };
        size += chunk.len() as u64;
        if let Err(err) = limits.check(size) {
            writer.abort().await;
            return Err(err);
        }
        hasher.update(&chunk);
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= WRITE_CHUNK
            && let Err(err) = writer.write(buffer.split().freeze()).await
        {
            writer.abort().await;
            return Err(err.into());
        }
    }
    if !buffer.is_empty()
        && let Err(err) = writer.write(buffer.freeze()).await
    {
        writer.abort().await;
        return Err(err.into());
    }
    let key = writer.finish().await?;
    Ok((key, Received { size, sha256: crate::auth::hex(&hasher.finalize()), head }))
}

/// `a/b/c` → folder names; `..`, an invalid segment, more than [`MAX_DEPTH`] levels or more
/// than [`MAX_PATH_BYTES`] are refused before anything is stored.
pub(crate) fn parse_dirs(relative: Option<&str>) -> Result<Vec<FileName>, AppError> {
    let relative = relative.unwrap_or_default();
    if relative.len() > MAX_PATH_BYTES {
        return Err(AppError::BadRequest(format!(
            "A folder path can be at most {MAX_PATH_BYTES} bytes long."
        )));
    }
    let dirs = relative
        .split(['/', '\\'])
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .map(|segment| {
            FileName::parse(segment).map_err(|_| {
                AppError::invalid("path", format!("“{segment}” cannot be a folder name."))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if dirs.len() > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(dirs)
}

/// `name`, or `name (1)`, `name (2)`, … whichever is free in the folder first (one query).
async fn free_name(
    db: &impl ConnectionTrait,
    folder: Uuid,
    name: &FileName,
) -> Result<FileName, AppError> {
    let in_folder = files::Entity::find().filter(files::Column::FolderId.eq(folder));
    let taken = names_like(db, in_folder, files::Column::Name, name).await?;
    name.first_free(&taken)
        .ok_or_else(|| AppError::Conflict(format!("Too many files named “{name}” in this folder.")))
}

/// The content type from the bytes (magic numbers), else text-or-binary and the extension.
fn sniff(head: &[u8], name: &FileName) -> String {
    let extension = name.as_str().rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if let Some(kind) = infer::get(head) {
        // Office documents are zips; `infer` knows them only when their parts come in the
        // order Word writes them, so a zip named like one is taken to be one.
        if kind.mime_type() == "application/zip"
            && let Some(office) = extension.as_deref().and_then(office_type)
        {
            return office.to_owned();
        }
        return kind.mime_type().to_owned();
    }
    let text = !head.is_empty()
        && !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(err) => err.error_len().is_none(), // only cut off mid-character at the end
        };
    if !text {
        return "application/octet-stream".into();
    }
    match extension.as_deref() {
        Some("html" | "htm") => "text/html",
        Some("svg") => "image/svg+xml",
        Some("xml") => "text/xml",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        Some("md" | "markdown") => "text/markdown",
        _ => "text/plain",
    }
    .into()
}

/// The content type of an office document's extension.
fn office_type(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::TestState;

    #[tokio::test]
    async fn a_taken_name_gets_the_next_free_number() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let mut names = Vec::new();
        for _ in 0..3 {
            names.push(t.file(&ada, "50%_off.txt", b"deal").await.name);
        }
        assert_eq!(names, ["50%_off.txt", "50%_off (1).txt", "50%_off (2).txt"]);
        let other = t.file(&ada, "50x_off.txt", b"not a clash for LIKE's `_`").await;
        assert_eq!(other.name, "50x_off.txt");
        t.assert_clean().await;
    }
}
