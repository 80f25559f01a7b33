//! The owner's side of share links: make one for files or a folder (or a file request into a
//! folder), list them with their state and counts, change or revoke one, read its access log.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::requests::{self, RequestRules};
use super::{RequestDto, ShareDto, ShareEventDto, ShareList, ShareSlug, ShareState, sending};
use crate::auth::password;
use crate::entities::{files, folders, share_events, share_files, share_requests, shares, users};
use crate::files::{folder_of, get_file};
use crate::ids::{FileId, FolderRef, ShareId};
use crate::state::AppState;
use crate::{AppError, cache};

/// Most files one selection may name.
const MAX_SELECTION: usize = 1000;

/// A link to make.
#[derive(Debug, Default)]
pub struct NewShare {
    /// Files to share (a selection), or
    pub file_ids: Vec<FileId>,
    /// a folder to share, live.
    pub folder_id: Option<FolderRef>,
    /// The owner's name for it.
    pub label: Option<String>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// A password visitors must type.
    pub password: Option<SecretString>,
    /// Downloads allowed in all.
    pub max_downloads: Option<u64>,
    /// Offer "download all as zip".
    pub allow_zip: bool,
    /// Make it a file request into `folder_id` with these rules (visitors upload, see nothing).
    pub request: Option<RequestRules>,
}

/// Changes to a link; `None` leaves a setting as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ShareChanges {
    /// New label.
    pub label: Option<Option<String>>,
    /// New expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// New password, or none.
    pub password: Option<Option<SecretString>>,
    /// New download limit, or none.
    pub max_downloads: Option<Option<u64>>,
    /// Offer the zip or not.
    pub allow_zip: Option<bool>,
    /// A file request's new rules (all of them).
    pub request: Option<RequestRules>,
}

/// Makes a link to the owner's files or folder (404 for anything not theirs).
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn create(
    state: &AppState,
    owner: &users::Model,
    new: NewShare,
) -> Result<ShareDto, AppError> {
    let mut files = Vec::new();
    let folder = match (new.file_ids.is_empty(), &new.folder_id) {
        (false, None) => {
            if new.file_ids.len() > MAX_SELECTION {
                return Err(AppError::invalid(
                    "file_ids",
                    format!(
                        "Share at most {MAX_SELECTION} files in one link, or share their folder."
                    ),
                ));
            }
            for id in &new.file_ids {
                let file = get_file(&state.db, owner, *id).await?;
                if !files.contains(&file.id) {
                    files.push(file.id);
                }
            }
            None
        }
        (true, Some(folder)) => Some(folder_of(&state.db, owner, *folder).await?.id),
        _ => {
            return Err(AppError::BadRequest(
                "Share either some files (file_ids) or one folder (folder_id).".into(),
            ));
        }
    };
    let request = match new.request {
        Some(_) if folder.is_none() => {
            return Err(AppError::BadRequest(
                "A file request takes uploads into one folder: send folder_id.".into(),
            ));
        }
        Some(rules) => Some(rules.checked()?),
        None => None,
    };
    let label = checked_label(new.label)?;
    let expires_at = checked_expiry(new.expires_at)?;
    let max_downloads = checked_limit(new.max_downloads)?;
    let password_hash = match new.password {
        Some(password) => Some(hash_password(password).await?),
        None => None,
    };
    let slug = ShareSlug::generate();
    let share = shares::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner.id),
        slug: Set(slug.as_str().to_owned()),
        slug_hash: Set(slug.hash()),
        label: Set(label),
        folder_id: Set(folder),
        password_hash: Set(password_hash),
        expires_at: Set(expires_at),
        max_downloads: Set(max_downloads),
        downloads: Set(0),
        views: Set(0),
        allow_zip: Set(new.allow_zip),
        revoked_at: Set(None),
        last_access_at: Set(None),
        created_at: Set(Utc::now()),
    };
    let txn = state.db.begin().await?;
    let share = share.insert(&txn).await?;
    for file in &files {
        share_files::ActiveModel { share_id: Set(share.id), file_id: Set(*file) }
            .insert(&txn)
            .await?;
    }
    let request = match request {
        Some(rules) => Some(rules.row(share.id).insert(&txn).await?),
        None => None,
    };
    txn.commit().await?;
    dto(state, &share, files, request.as_ref()).await
}

/// Links on one page of the owner's list.
const PER_PAGE: u64 = 50;

/// Page `page` (from 1) of the owner's links, newest first.
pub async fn list(
    state: &AppState,
    owner: &users::Model,
    page: u64,
) -> Result<ShareList, AppError> {
    state.accesses.flush(&state.db).await?;
    let pages = shares::Entity::find()
        .filter(shares::Column::OwnerId.eq(owner.id))
        .order_by_desc(shares::Column::CreatedAt)
        .order_by_desc(shares::Column::Id)
        .paginate(&state.db, PER_PAGE);
    let count = pages.num_pages().await?.max(1);
    let page = page.clamp(1, count);
    let mut out = Vec::new();
    for share in pages.fetch_page(page - 1).await? {
        let files = selection(&state.db, share.id).await?;
        let request = share_requests::Entity::find_by_id(share.id).one(&state.db).await?;
        out.push(dto(state, &share, files, request.as_ref()).await?);
    }
    Ok(ShareList { shares: out, page, pages: count })
}

/// Most links the file page lists.
const FOR_FILE: u64 = 20;

/// The owner's links that show `file`, newest first (at most 20): those naming it and those
/// to a folder it lies in. File requests show visitors nothing of their folder, so not those.
pub async fn for_file(
    state: &AppState,
    owner: &users::Model,
    file: FileId,
) -> Result<Vec<ShareDto>, AppError> {
    // Counts written first, so the figures shown are current (as the list's).
    state.accesses.flush(&state.db).await?;
    let file = get_file(&state.db, owner, file).await?;
    let folder = folder_of(&state.db, owner, FolderRef::Id(file.folder_id.into())).await?;
    let mut folders = crate::files::ancestors(&state.db, &folder).await?;
    folders.push(folder);
    let named = Query::select()
        .column(share_files::Column::ShareId)
        .from(share_files::Entity)
        .and_where(share_files::Column::FileId.eq(file.id))
        .to_owned();
    let requests = Query::select()
        .column(share_requests::Column::ShareId)
        .from(share_requests::Entity)
        .to_owned();
    let around = Condition::all()
        .add(shares::Column::FolderId.is_in(folders.iter().map(|f| f.id)))
        .add(shares::Column::Id.not_in_subquery(requests));
    let found = shares::Entity::find()
        .filter(shares::Column::OwnerId.eq(owner.id))
        .filter(Condition::any().add(shares::Column::Id.in_subquery(named)).add(around))
        .order_by_desc(shares::Column::CreatedAt)
        .order_by_desc(shares::Column::Id)
        .limit(FOR_FILE)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for share in found {
        let files = selection(&state.db, share.id).await?;
        out.push(dto(state, &share, files, None).await?);
    }
    Ok(out)
}

/// Changes a link of the owner's.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn update(
    state: &AppState,
    owner: &users::Model,
    id: ShareId,
    changes: ShareChanges,
) -> Result<ShareDto, AppError> {
    let share = own(&state.db, owner, id).await?;
    let request = share_requests::Entity::find_by_id(share.id).one(&state.db).await?;
    let rules = match (changes.request, &request) {
        (Some(rules), Some(_)) => Some(rules.checked()?),
        (Some(_), None) => {
            return Err(AppError::BadRequest("This link is not a file request.".into()));
        }
        (None, _) => None,
    };
    let mut active = share.clone().into_active_model();
    if let Some(label) = changes.label {
        active.label = Set(checked_label(label)?);
    }
    if let Some(expires_at) = changes.expires_at {
        active.expires_at = Set(checked_expiry(expires_at)?);
    }
    if let Some(limit) = changes.max_downloads {
        active.max_downloads = Set(checked_limit(limit)?);
    }
    if let Some(allow_zip) = changes.allow_zip {
        active.allow_zip = Set(allow_zip);
    }
    if let Some(password) = changes.password {
        active.password_hash = Set(match password {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        });
    }
    let txn = state.db.begin().await?;
    let share = active.update(&txn).await?;
    if let Some(rules) = rules {
        rules.replace(&txn, share.id).await?;
    }
    cache::shares_changed();
    txn.commit().await?;
    cache::shares_changed();
    let files = selection(&state.db, share.id).await?;
    let request = share_requests::Entity::find_by_id(share.id).one(&state.db).await?;
    dto(state, &share, files, request.as_ref()).await
}

/// Turns a link off for good (it then answers 404, like a link that never existed).
pub async fn revoke(state: &AppState, owner: &users::Model, id: ShareId) -> Result<(), AppError> {
    let share = own(&state.db, owner, id).await?;
    if share.revoked_at.is_none() {
        let mut active = share.into_active_model();
        active.revoked_at = Set(Some(Utc::now()));
        active.update(&state.db).await?;
        cache::shares_changed();
    }
    Ok(())
}

/// The link's access log, newest first (the last 200 entries).
pub async fn events(
    state: &AppState,
    owner: &users::Model,
    id: ShareId,
) -> Result<Vec<ShareEventDto>, AppError> {
    // What visitors did this second is written first: the owner sees every access.
    state.accesses.flush(&state.db).await?;
    let share = own(&state.db, owner, id).await?;
    let rows = share_events::Entity::find()
        .filter(share_events::Column::ShareId.eq(share.id))
        .order_by_desc(share_events::Column::CreatedAt)
        .limit(200)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| ShareEventDto { kind: e.kind, ip: e.ip, at: e.created_at.to_rfc3339() })
        .collect())
}

async fn own(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    id: ShareId,
) -> Result<shares::Model, AppError> {
    let missing = || AppError::NotFound("No such share link.".into());
    shares::Entity::find_by_id(id.uuid())
        .filter(shares::Column::OwnerId.eq(owner.id))
        .one(db)
        .await?
        .ok_or_else(missing)
}

/// The files a selection names (empty for a folder share).
pub(super) async fn selection(
    db: &impl ConnectionTrait,
    share: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    Ok(share_files::Entity::find()
        .select_only()
        .column(share_files::Column::FileId)
        .filter(share_files::Column::ShareId.eq(share))
        .into_tuple()
        .all(db)
        .await?)
}

/// Where a link (with its file request's rules, if it is one) stands now.
pub(super) fn state_of(
    share: &shares::Model,
    request: Option<&share_requests::Model>,
) -> ShareState {
    if share.revoked_at.is_some() {
        ShareState::Revoked
    } else if share.expires_at.is_some_and(|at| at <= Utc::now()) {
        ShareState::Expired
    } else if share.max_downloads.is_some_and(|max| share.downloads >= max)
        || request.is_some_and(requests::is_full)
    {
        ShareState::LimitReached
    } else {
        ShareState::Active
    }
}

async fn dto(
    state: &AppState,
    share: &shares::Model,
    files: Vec<Uuid>,
    request: Option<&share_requests::Model>,
) -> Result<ShareDto, AppError> {
    Ok(ShareDto {
        title: title_of(&state.db, share, &files, request.is_some()).await?,
        id: share.id.into(),
        slug: share.slug.clone(),
        url: format!("{}/s/{}", state.config.public_url(), share.slug),
        label: share.label.clone(),
        folder_id: share.folder_id.map(Into::into),
        file_ids: files.iter().copied().map(Into::into).collect(),
        has_password: share.password_hash.is_some(),
        expires_at: share.expires_at.map(|at| at.to_rfc3339()),
        max_downloads: share.max_downloads.and_then(|max| u64::try_from(max).ok()),
        downloads: u64::try_from(share.downloads).unwrap_or(0),
        views: u64::try_from(share.views).unwrap_or(0),
        allow_zip: share.allow_zip,
        state: state_of(share, request),
        last_access_at: share.last_access_at.map(|at| at.to_rfc3339()),
        created_at: share.created_at.to_rfc3339(),
        request: match request {
            Some(row) => Some(RequestDto {
                sending: sending::in_progress(&state.db, share.id).await?,
                ..requests::dto(row)
            }),
            None => None,
        },
    })
}

/// What the owner's list calls a link: the title its visitors see ([`title`]); a file request
/// says where uploads go.
async fn title_of(
    db: &impl ConnectionTrait,
    share: &shares::Model,
    files: &[Uuid],
    request: bool,
) -> Result<String, AppError> {
    if let Some(label) = &share.label {
        return Ok(label.clone());
    }
    Ok(match share.folder_id {
        Some(folder) => {
            let folder = folders::Entity::find_by_id(folder).one(db).await?;
            let name = folder.filter(|f| f.parent_id.is_some()).map(|f| f.name);
            match (name, request) {
                (Some(name), true) => format!("Uploads into “{name}”"),
                (None, true) => "Uploads into your files".to_owned(),
                (name, false) => folder_title(name),
            }
        }
        None => files_title(first_file_name(db, share.id).await?, files.len() as u64),
    })
}

/// A folder link's title: the folder's name, or "All files" for the root.
pub(super) fn folder_title(name: Option<String>) -> String {
    name.filter(|name| !name.is_empty()).unwrap_or_else(|| "All files".to_owned())
}

/// A link to chosen files: the one file's name, or the first by name "and N more" — the same
/// on the link's page, in its owner's list and in the card a chat app shows.
pub(super) fn files_title(first: Option<String>, count: u64) -> String {
    match (first, count) {
        (Some(name), 1) => name,
        (Some(name), count) if count > 1 => format!("{name} and {} more", count - 1),
        _ => "No files left".to_owned(),
    }
}

/// The name of a file link's first file by name (as its page lists them).
pub(super) async fn first_file_name(
    db: &impl ConnectionTrait,
    share: Uuid,
) -> Result<Option<String>, AppError> {
    Ok(files::Entity::find()
        .select_only()
        .column(files::Column::Name)
        .filter(
            files::Column::Id.in_subquery(
                Query::select()
                    .column(share_files::Column::FileId)
                    .from(share_files::Entity)
                    .and_where(share_files::Column::ShareId.eq(share))
                    .to_owned(),
            ),
        )
        .order_by_asc(files::Column::Name)
        .order_by_asc(files::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

fn checked_label(label: Option<String>) -> Result<Option<String>, AppError> {
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return Err(AppError::invalid("label", "Keep the label under 200 characters."));
    }
    Ok(label)
}

fn checked_expiry(at: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>, AppError> {
    if at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::invalid("expires_at", "Choose an expiry in the future."));
    }
    Ok(at)
}

fn checked_limit(limit: Option<u64>) -> Result<Option<i64>, AppError> {
    match limit {
        Some(0) => Err(AppError::invalid("max_downloads", "Allow at least one download.")),
        Some(max) => Ok(Some(i64::try_from(max).unwrap_or(i64::MAX))),
        None => Ok(None),
    }
}

async fn hash_password(password: SecretString) -> Result<String, AppError> {
    let length = password.expose_secret().chars().count();
    if password.expose_secret().trim().is_empty() || length > password::MAX_LEN {
        return Err(AppError::invalid(
            "password",
            format!("Use a password of 1 to {} characters.", password::MAX_LEN),
        ));
    }
    password::hash(password).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{FileName, create_folder, move_items};
    use crate::testing::TestState;

    #[tokio::test]
    async fn a_files_links_are_those_naming_it_and_those_to_a_folder_above_it() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let bob = t.user("bob@example.com").await;
        let trip =
            create_folder(&t.state, &ada, FolderRef::Root, &FileName::parse("Trip").unwrap())
                .await
                .unwrap();
        let plan = t.file(&ada, "plan.txt", b"plan").await;
        move_items(&t.state, &ada, &[plan.id], &[], FolderRef::Id(trip.id)).await.unwrap();
        let other = t.file(&ada, "other.txt", b"other").await;
        let share = |new: NewShare| create(&t.state, &ada, new);
        let named = share(NewShare { file_ids: vec![plan.id, other.id], ..NewShare::default() })
            .await
            .unwrap();
        let folder =
            share(NewShare { folder_id: Some(FolderRef::Id(trip.id)), ..NewShare::default() })
                .await
                .unwrap();
        let everything =
            share(NewShare { folder_id: Some(FolderRef::Root), ..NewShare::default() })
                .await
                .unwrap();
        // Not these: a link to another file only, and a request into its folder (visitors of
        // a request see nothing of the folder).
        share(NewShare { file_ids: vec![other.id], ..NewShare::default() }).await.unwrap();
        share(NewShare {
            folder_id: Some(FolderRef::Id(trip.id)),
            request: Some(RequestRules::default()),
            ..NewShare::default()
        })
        .await
        .unwrap();
        revoke(&t.state, &ada, named.id).await.unwrap();

        let found = for_file(&t.state, &ada, plan.id).await.unwrap();
        let ids: Vec<ShareId> = found.iter().map(|s| s.id).collect();
        assert_eq!(ids, [everything.id, folder.id, named.id], "newest first");
        assert_eq!(found[2].state, ShareState::Revoked, "with where each stands");
        // Another account's file is not found.
        assert!(matches!(for_file(&t.state, &bob, plan.id).await, Err(AppError::NotFound(_))));
    }
}
