//! The `uploads` record: creation (limits checked, space reserved in the quota), lookup,
//! status, termination and expiry.

use std::collections::HashSet;
use std::fmt::Display;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use uuid::Uuid;

use bytes::Bytes;
use futures_util::Stream;

use super::{patch, stage};
use crate::AppError;
use crate::entities::{uploads, users};
use crate::files::{
    self, FileDto, Target, Upload, Uploader, committed_bytes, lock_owner, quota_error, quota_of,
    too_large,
};
use crate::ids::UploadId;
use crate::shares::reserve_upload;
use crate::state::AppState;
use crate::storage::{BlobKey, BlobStore};

/// A resumable upload to start: where the file goes, how long it is, whether the browser
/// sends its parts straight to S3.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Folder, sub-folders and name.
    pub target: Upload,
    /// `Upload-Length`.
    pub length: u64,
    /// Asked for direct-to-S3 parts (granted only when configured).
    pub direct: bool,
}

/// Where an upload stands, as tus `HEAD` and `POST` answer.
#[derive(Debug, Clone)]
pub struct UploadStatus {
    /// The upload's id (its URL is `/api/v1/uploads/{id}`).
    pub id: UploadId,
    /// Bytes stored so far (`Upload-Offset`).
    pub offset: u64,
    /// `Upload-Length`.
    pub length: u64,
    /// When it is abandoned unless it progresses (`Upload-Expires`).
    pub expires_at: DateTime<Utc>,
    /// Direct-to-S3 mode: the size of every part but the last.
    pub direct_part_size: Option<u64>,
    /// The file, once every byte is stored.
    pub file: Option<FileDto>,
}

/// One S3 part stored for an upload (recorded as JSON in `uploads.parts`).
pub(super) use crate::storage::SentPart as Part;

/// Starts an upload: the folder must be the owner's, the length within the size limit and
/// the quota (counting other uploads in progress), and a visitor's within the file request's
/// rules; the length is reserved until it ends.
#[tracing::instrument(skip_all, fields(owner = %who.owner().id, length = new.length))]
pub async fn create(
    state: &AppState,
    who: &Uploader,
    new: NewUpload,
) -> Result<UploadStatus, AppError> {
    let owner = who.owner();
    let target = Target::resolve(&state.db, who, &new.target).await?;
    if let Some(max) = state.config.max_file_size.limit()
        && new.length > max
    {
        return Err(too_large(max));
    }
    if let Uploader::Visitor(visitor) = who {
        visitor.check_length(new.length)?;
    }
    let expires_at = Utc::now() + expiry(state, matches!(who, Uploader::Visitor(_)));
    if new.length == 0 {
        let empty = futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        let file = files::store_file(state, who, new.target, empty).await?;
        let id = UploadId::random();
        let file = Some(file);
        return Ok(UploadStatus {
            id,
            offset: 0,
            length: 0,
            expires_at,
            direct_part_size: None,
            file,
        });
    }
    let key = BlobKey::new_file();
    let (multipart_id, direct_part_size) = match &state.storage {
        BlobStore::S3(store) => {
            let direct = new.direct && state.config.s3_direct_uploads;
            (Some(store.create_multipart(&key).await?), direct.then(|| store.part_size() as u64))
        }
        BlobStore::Local(_) => (None, None),
    };
    let row = uploads::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner.id),
        folder_id: Set(target.folder.uuid()),
        relative_dir: Set(new.target.relative_dir.clone().filter(|dir| !dir.is_empty())),
        name: Set(target.name.as_str().to_owned()),
        length: Set(to_i64(new.length)?),
        received: Set(0),
        hash_state: Set(None),
        blob_key: Set(key.as_string()),
        multipart_id: Set(multipart_id.clone()),
        parts: Set("[]".into()),
        tail_key: Set(None),
        direct: Set(direct_part_size.is_some()),
        lease_token: Set(None),
        lease_until: Set(None),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
        share_id: Set(target.via.as_ref().map(|via| via.share)),
        visitor_hash: Set(target.via.as_ref().and_then(|via| via.visitor.clone())),
    };
    let inserted = insert_within_quota(state, owner, row, new.length).await;
    match inserted {
        Ok(row) => Ok(UploadStatus {
            id: row.id.into(),
            offset: 0,
            length: new.length,
            expires_at,
            direct_part_size,
            file: None,
        }),
        Err(err) => {
            if let (BlobStore::S3(store), Some(id)) = (&state.storage, &multipart_id) {
                store.abort_multipart(&key, id).await;
            }
            Err(err)
        }
    }
}

/// Inserts the record in a transaction that first takes the owner's lock, so the quota
/// check (and a file request's) counts every other upload and file exactly.
async fn insert_within_quota(
    state: &AppState,
    owner: &users::Model,
    row: uploads::ActiveModel,
    length: u64,
) -> Result<uploads::Model, AppError> {
    let txn = state.db.begin().await?;
    lock_owner(&txn, owner.id).await?;
    if let Some(quota) = quota_of(state, owner) {
        let used = committed_bytes(&txn, owner.id).await?;
        if used + length > quota {
            return Err(quota_error(quota));
        }
    }
    if let sea_orm::ActiveValue::Set(Some(share)) = row.share_id {
        reserve_upload(&txn, share, length).await?;
    }
    let row = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// Upload `id` of `who` (an account's own, or one through the visitor's file request);
/// unknown, someone else's and expired uploads are all 404.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    who: &Uploader,
    id: UploadId,
) -> Result<uploads::Model, AppError> {
    let gone = || {
        AppError::NotFound(
            "This upload does not exist or has expired. Start the upload again.".into(),
        )
    };
    let through = match who {
        Uploader::Account(_) => uploads::Column::ShareId.is_null(),
        Uploader::Visitor(visitor) => uploads::Column::ShareId.eq(visitor.share.id),
    };
    uploads::Entity::find_by_id(id.uuid())
        .filter(uploads::Column::OwnerId.eq(who.owner().id))
        .filter(through)
        .filter(uploads::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or_else(gone)
}

/// Creation with upload (tus): starts the upload and appends `body` as its first bytes. When
/// those fail, the upload goes again — its creator never learnt where it is, so nothing of it
/// may stay (no record, no bytes, no reserved space).
pub async fn create_with_bytes<S, E>(
    state: &AppState,
    who: &Uploader,
    new: NewUpload,
    checksum: Option<patch::Checksum>,
    body: S,
) -> Result<UploadStatus, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let created = create(state, who, new).await?;
    if created.file.is_some() {
        return Ok(created); // an empty file is whole at once
    }
    match patch::append(state, who, created.id, 0, checksum, body).await {
        Ok(written) => Ok(UploadStatus {
            offset: written.offset,
            expires_at: written.expires_at,
            file: written.file,
            ..created
        }),
        Err(err) => {
            if let Err(cancel) = terminate(state, who, created.id).await {
                tracing::warn!(error = %cancel, "could not cancel a failed creation");
            }
            Err(err)
        }
    }
}

/// Where the upload stands (tus `HEAD`). An upload whose bytes all arrived but whose file was
/// not made (the server stopped in between) is completed now.
pub async fn status(
    state: &AppState,
    who: &Uploader,
    id: UploadId,
) -> Result<UploadStatus, AppError> {
    let upload = load(&state.db, who, id).await?;
    let file = if upload.received == upload.length {
        Some(patch::finish(state, who.owner(), &upload).await?)
    } else {
        None
    };
    Ok(status_of(state, &upload, file))
}

/// The status to answer for `upload`.
pub(super) fn status_of(
    state: &AppState,
    upload: &uploads::Model,
    file: Option<FileDto>,
) -> UploadStatus {
    let part_size = match &state.storage {
        BlobStore::S3(store) if upload.direct => Some(store.part_size() as u64),
        _ => None,
    };
    UploadStatus {
        id: upload.id.into(),
        offset: to_u64(upload.received),
        length: to_u64(upload.length),
        expires_at: upload.expires_at,
        direct_part_size: part_size,
        file,
    }
}

/// Cancels an upload (tus termination): the record and every byte stored so far go.
#[tracing::instrument(skip_all, fields(owner = %who.owner().id))]
pub async fn terminate(state: &AppState, who: &Uploader, id: UploadId) -> Result<(), AppError> {
    let upload = load(&state.db, who, id).await?;
    let removed = uploads::Entity::delete_by_id(upload.id).exec(&state.db).await?;
    if removed.rows_affected == 1 {
        stage::discard(&state.storage, &upload).await;
    }
    Ok(())
}

/// Removes uploads untouched past their expiry: records, bytes, S3 multipart uploads; their
/// reserved space is free again. Returns how many went.
pub async fn expire_abandoned(state: &AppState) -> Result<usize, AppError> {
    let mut expired = 0;
    loop {
        let batch = uploads::Entity::find()
            .filter(uploads::Column::ExpiresAt.lte(Utc::now()))
            .limit(100)
            .all(&state.db)
            .await?;
        if batch.is_empty() {
            return Ok(expired);
        }
        for upload in batch {
            let removed = uploads::Entity::delete_many()
                .filter(uploads::Column::Id.eq(upload.id))
                .filter(uploads::Column::ExpiresAt.lte(Utc::now()))
                .exec(&state.db)
                .await?;
            if removed.rows_affected == 1 {
                stage::discard(&state.storage, &upload).await;
                expired += 1;
            }
        }
    }
}

/// Removes what writes that never finished left in storage (see
/// [`BlobStore::remove_stale_writes`]), keeping every multipart upload a resumable upload
/// still tracks. Returns how many went.
pub async fn remove_stale_writes(state: &AppState, age: Duration) -> Result<usize, AppError> {
    let tracked: HashSet<String> = uploads::Entity::find()
        .select_only()
        .column(uploads::Column::MultipartId)
        .filter(uploads::Column::MultipartId.is_not_null())
        .into_tuple::<Option<String>>()
        .all(&state.db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(state.storage.remove_stale_writes(age, &tracked).await?)
}

/// The owner's uploads in progress: read before deleting an account (the records go with it),
/// so [`discard_all`] can remove their bytes after.
pub(crate) async fn of_owner(
    db: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<Vec<uploads::Model>, AppError> {
    Ok(uploads::Entity::find().filter(uploads::Column::OwnerId.eq(owner)).all(db).await?)
}

/// Removes the bytes of uploads whose records are gone.
pub(crate) async fn discard_all(storage: &BlobStore, uploads: &[uploads::Model]) {
    for upload in uploads {
        stage::discard(storage, upload).await;
    }
}

/// Records one more direct-to-S3 part, if the upload is still where the caller saw it.
pub(super) async fn record_part(
    state: &AppState,
    upload: &uploads::Model,
    parts: &[Part],
) -> Result<bool, AppError> {
    let received: u64 = parts.iter().map(|part| part.size).sum();
    let json = serde_json::to_string(parts).map_err(|_| AppError::Internal)?;
    let updated = uploads::Entity::update_many()
        .col_expr(uploads::Column::Received, Expr::value(to_i64(received)?))
        .col_expr(uploads::Column::Parts, Expr::value(json))
        .col_expr(
            uploads::Column::ExpiresAt,
            Expr::value(Utc::now() + expiry(state, upload.share_id.is_some())),
        )
        .filter(uploads::Column::Id.eq(upload.id))
        .filter(uploads::Column::Received.eq(upload.received))
        .exec(&state.db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Removes a dead upload's record (its bytes are already gone or about to go); whether it
/// was still there.
pub(super) async fn forget(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, AppError> {
    Ok(uploads::Entity::delete_by_id(id).exec(db).await?.rows_affected == 1)
}

/// How long an upload waits for its next bytes: `PANNIER_UPLOAD_EXPIRY_HOURS` for an account;
/// [`VISITOR_IDLE`] for a file request's visitor, whose unfinished upload holds a place and
/// space of the owner's (an idle one must not keep them for a day).
pub(super) fn expiry(state: &AppState, visitor: bool) -> TimeDelta {
    if visitor {
        VISITOR_IDLE
    } else {
        TimeDelta::hours(i64::from(state.config.upload_expiry_hours))
    }
}

/// How long a visitor's upload may sit idle before it ends and frees what it reserved.
pub const VISITOR_IDLE: TimeDelta = TimeDelta::minutes(30);

pub(super) fn to_i64(value: u64) -> Result<i64, AppError> {
    i64::try_from(value).map_err(|_| AppError::BadRequest("That length is too large.".into()))
}

pub(super) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Part records as stored.
pub(super) fn parts_of(upload: &uploads::Model) -> Result<Vec<Part>, AppError> {
    serde_json::from_str(&upload.parts).map_err(|err| AppError::internal("upload parts", &err))
}
