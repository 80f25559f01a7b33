//! File requests: a link to a folder that takes uploads instead of showing files. A visitor
//! the policy lets in ([`admit_upload`]) uploads through the same simple and resumable paths
//! as an account does (as [`Uploader::Visitor`]); the files are the owner's and count against
//! the owner's quota. The request's rules are checked when an upload starts (type by name,
//! size, files and bytes left, counting uploads in progress) and again, exactly, in the
//! transaction that makes the file, which also keeps the request's counts.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::policy::{Action, authorize};
use super::{PublicRequest, RequestDto, SentFile, ShareSlug};
use crate::AppError;
use crate::auth::{ClientInfo, sha256_hex};
use crate::entities::{files, share_requests, share_uploads, shares, uploads, users};
use crate::files::{FileName, Uploader, Via, human_size};
use crate::ids::FolderId;
use crate::state::AppState;

/// The cookie that tells one visitor's browser session apart (scoped to `Path=/s/<slug>`,
/// gone when the browser closes): a visitor sees only what they sent with it.
pub const VISITOR_COOKIE: &str = "pannier_visitor";
/// Most entries in a request's list of file types.
const MAX_TYPES: usize = 50;

/// What a file request takes, as its owner sets it; `None` and an empty list take anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestRules {
    /// Largest file, in bytes.
    pub max_file_size: Option<u64>,
    /// Bytes in all.
    pub max_total_bytes: Option<u64>,
    /// Files in all.
    pub max_files: Option<u64>,
    /// `.pdf` (by name) or `image/png`, `image/*` (by the type found in the bytes).
    pub allowed_types: Vec<String>,
}

impl RequestRules {
    /// Limits above zero; types normalized (lower case, a bare `pdf` means `.pdf`).
    pub(super) fn checked(self) -> Result<Self, AppError> {
        for (field, limit) in [
            ("max_file_size", self.max_file_size),
            ("max_total_bytes", self.max_total_bytes),
            ("max_files", self.max_files),
        ] {
            if limit == Some(0) {
                return Err(AppError::invalid(field, "Use a limit above zero, or none."));
            }
        }
        let mut types = Vec::new();
        for entry in &self.allowed_types {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            let entry = if entry.contains(['.', '/']) { entry } else { format!(".{entry}") };
            if !valid_type(&entry) {
                return Err(AppError::invalid(
                    "allowed_types",
                    format!("“{entry}” is not a file type: write .pdf, image/png or image/*."),
                ));
            }
            if !types.contains(&entry) {
                types.push(entry);
            }
        }
        if types.len() > MAX_TYPES {
            return Err(AppError::invalid(
                "allowed_types",
                format!("List at most {MAX_TYPES} file types."),
            ));
        }
        Ok(Self { allowed_types: types, ..self })
    }

    /// The row that makes link `share` a file request (nothing received yet).
    pub(super) fn row(&self, share: Uuid) -> share_requests::ActiveModel {
        share_requests::ActiveModel {
            share_id: Set(share),
            max_file_size: Set(self.max_file_size.map(to_i64)),
            max_total_bytes: Set(self.max_total_bytes.map(to_i64)),
            max_files: Set(self.max_files.map(to_i64)),
            allowed_types: Set(Some(self.allowed_types.join(",")).filter(|t| !t.is_empty())),
            received_files: Set(0),
            received_bytes: Set(0),
        }
    }

    /// Changes the rules of request `share` (what was received stays counted).
    pub(super) async fn replace(
        self,
        db: &impl ConnectionTrait,
        share: Uuid,
    ) -> Result<(), AppError> {
        let types = Some(self.allowed_types.join(",")).filter(|t| !t.is_empty());
        share_requests::Entity::update_many()
            .col_expr(
                share_requests::Column::MaxFileSize,
                Expr::value(self.max_file_size.map(to_i64)),
            )
            .col_expr(
                share_requests::Column::MaxTotalBytes,
                Expr::value(self.max_total_bytes.map(to_i64)),
            )
            .col_expr(share_requests::Column::MaxFiles, Expr::value(self.max_files.map(to_i64)))
            .col_expr(share_requests::Column::AllowedTypes, Expr::value(types))
            .filter(share_requests::Column::ShareId.eq(share))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// `.ext`, `type/subtype` or `type/*`.
fn valid_type(entry: &str) -> bool {
    let token = |s: &str| {
        s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-._".contains(&b))
    };
    match entry.split_once('/') {
        Some((kind, sub)) => token(kind) && (sub == "*" || token(sub)),
        None => entry.strip_prefix('.').is_some_and(|ext| token(ext) && !ext.contains('.')),
    }
}

/// A request's rules and counts, as its owner sees them.
pub(super) fn dto(row: &share_requests::Model) -> RequestDto {
    RequestDto {
        max_file_size: row.max_file_size.map(to_u64),
        max_total_bytes: row.max_total_bytes.map(to_u64),
        max_files: row.max_files.map(to_u64),
        allowed_types: types_of(row),
        received_files: to_u64(row.received_files),
        received_bytes: to_u64(row.received_bytes),
        sending: Vec::new(),
    }
}

/// Whether the request has every file or byte it asked for.
pub(super) fn is_full(row: &share_requests::Model) -> bool {
    row.max_files.is_some_and(|max| row.received_files >= max)
        || row.max_total_bytes.is_some_and(|max| row.received_bytes >= max)
}

/// A visitor let in to upload through a file request.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The request's owner: the files are theirs.
    pub owner: users::Model,
    /// The link.
    pub share: shares::Model,
    /// Its rules and counts.
    pub rules: share_requests::Model,
    /// SHA-256 of the visitor's session token, when their browser has one.
    pub token_hash: Option<String>,
}

/// Lets a visitor of link `slug` upload, through the one policy (404 unknown / revoked / not a
/// request, 410 expired or full, 401 locked). `starting`: a new upload (logged), else the
/// next bytes of one.
pub async fn admit_upload(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    token: Option<&str>,
    client: &ClientInfo,
    starting: bool,
) -> Result<Uploader, AppError> {
    let grant = authorize(state, slug, unlock, client, Action::Upload { starting }).await?;
    let rules = grant.request.ok_or(AppError::Internal)?;
    let owner = users::Entity::find_by_id(grant.share.owner_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("This link does not exist or was turned off.".into()))?;
    let token_hash = token.map(visitor_hash);
    Ok(Uploader::Visitor(Box::new(Visitor { owner, share: grant.share, rules, token_hash })))
}

/// A new visitor token for [`VISITOR_COOKIE`].
pub fn new_visitor_token() -> String {
    ShareSlug::generate().as_str().to_owned()
}

/// What is stored of a visitor token.
pub fn visitor_hash(token: &str) -> String {
    sha256_hex(token)
}

impl Visitor {
    /// The request's folder, where every upload goes.
    pub(crate) fn folder(&self) -> Result<FolderId, AppError> {
        self.share.folder_id.map(FolderId::from).ok_or(AppError::Internal)
    }

    /// What the file's name says about its type: refused at once when only extensions are
    /// taken and this is not one of them (types by content are checked when the bytes are in).
    pub(crate) fn check_name(&self, name: &FileName) -> Result<(), AppError> {
        let types = types_of(&self.rules);
        if types.is_empty()
            || name_allowed(&types, name.as_str())
            || types.iter().any(|t| t.contains('/'))
        {
            return Ok(());
        }
        Err(wrong_type(&types))
    }

    /// A declared length (a resumable upload) within the request's largest file.
    pub(crate) fn check_length(&self, length: u64) -> Result<(), AppError> {
        match self.rules.max_file_size.map(to_u64) {
            Some(max) if length > max => Err(file_too_large(max)),
            _ => Ok(()),
        }
    }

    /// Byte limits a streamed upload must stay under, with the error for passing each; an
    /// error at once when the request takes no more files.
    pub(crate) async fn caps(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(u64, AppError)>, AppError> {
        fits(db, &self.rules, 0).await?;
        let mut caps = Vec::new();
        if let Some(max) = self.rules.max_file_size.map(to_u64) {
            caps.push((max, file_too_large(max)));
        }
        if let Some(max) = self.rules.max_total_bytes.map(to_u64) {
            let (_, reserved) = in_progress(db, self.share.id).await?;
            let left = max.saturating_sub(to_u64(self.rules.received_bytes) + reserved);
            caps.push((left, total_too_large(max, left)));
        }
        Ok(caps)
    }

    /// The link and visitor a file comes through.
    pub(crate) fn via(&self) -> Via {
        Via { share: self.share.id, visitor: self.token_hash.clone() }
    }
}

/// In the transaction that starts a resumable upload (the owner locked): one more file of
/// `length` bytes must fit, counting the uploads in progress.
pub(crate) async fn reserve_upload(
    db: &impl ConnectionTrait,
    share: Uuid,
    length: u64,
) -> Result<(), AppError> {
    let rules = rules_of(db, share).await?;
    fits(db, &rules, length).await
}

/// In the transaction that makes `file` (the owner locked, its upload record already gone):
/// its type, and one more file of its size within what is left; the counts go up and the
/// visitor is remembered as its sender.
pub(crate) async fn accept_upload(
    db: &impl ConnectionTrait,
    via: &Via,
    file: &files::Model,
) -> Result<(), AppError> {
    let rules = rules_of(db, via.share).await?;
    let types = types_of(&rules);
    if !types.is_empty()
        && !name_allowed(&types, &file.name)
        && !mime_allowed(&types, &file.content_type)
    {
        return Err(wrong_type(&types));
    }
    fits(db, &rules, to_u64(file.size)).await?;
    share_requests::Entity::update_many()
        .col_expr(
            share_requests::Column::ReceivedFiles,
            Expr::col(share_requests::Column::ReceivedFiles).add(1),
        )
        .col_expr(
            share_requests::Column::ReceivedBytes,
            Expr::col(share_requests::Column::ReceivedBytes).add(file.size),
        )
        .filter(share_requests::Column::ShareId.eq(via.share))
        .exec(db)
        .await?;
    share_uploads::ActiveModel {
        file_id: Set(file.id),
        share_id: Set(via.share),
        visitor_hash: Set(via.visitor.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn rules_of(
    db: &impl ConnectionTrait,
    share: Uuid,
) -> Result<share_requests::Model, AppError> {
    share_requests::Entity::find_by_id(share)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("This link does not take uploads.".into()))
}

/// One more file of `length` bytes within the request's files and bytes left.
async fn fits(
    db: &impl ConnectionTrait,
    rules: &share_requests::Model,
    length: u64,
) -> Result<(), AppError> {
    let (count, reserved) = in_progress(db, rules.share_id).await?;
    if let Some(max) = rules.max_files.map(to_u64)
        && to_u64(rules.received_files) + count + 1 > max
    {
        return Err(AppError::Conflict(format!(
            "This request takes {max} file{} and has them all (or they are on their way).",
            if max == 1 { "" } else { "s" }
        )));
    }
    if let Some(max) = rules.max_total_bytes.map(to_u64) {
        let left = max.saturating_sub(to_u64(rules.received_bytes) + reserved);
        if length > left {
            return Err(total_too_large(max, left));
        }
    }
    Ok(())
}

/// Resumable uploads under way through request `share`: how many, and their lengths.
async fn in_progress(db: &impl ConnectionTrait, share: Uuid) -> Result<(u64, u64), AppError> {
    let row: Option<(i64, Option<i64>)> = uploads::Entity::find()
        .select_only()
        .column_as(Expr::col(uploads::Column::Id).count().cast_as("BIGINT"), "count")
        .column_as(Expr::col(uploads::Column::Length).sum().cast_as("BIGINT"), "bytes")
        .filter(uploads::Column::ShareId.eq(share))
        .into_tuple()
        .one(db)
        .await?;
    let (count, bytes) = row.unwrap_or_default();
    Ok((to_u64(count), bytes.map_or(0, to_u64)))
}

/// The page of a file request: who asks, what it takes, what this visitor sent.
pub(super) async fn public_request(
    state: &AppState,
    share: &shares::Model,
    rules: &share_requests::Model,
    token: Option<&str>,
) -> Result<PublicRequest, AppError> {
    let owner = users::Entity::find_by_id(share.owner_id).one(&state.db).await?;
    let owner_name = owner.map(|o| o.display_name).unwrap_or_default();
    let sent = match token {
        Some(token) => sent_by(state, share.id, &visitor_hash(token)).await?,
        None => Vec::new(),
    };
    let (count, reserved) = in_progress(&state.db, share.id).await?;
    let max_file_size = match (rules.max_file_size.map(to_u64), state.config.max_file_size.limit())
    {
        (Some(a), Some(b)) => Some(Ord::min(a, b)),
        (a, b) => a.or(b),
    };
    Ok(PublicRequest {
        slug: share.slug.clone(),
        title: share.label.clone().unwrap_or_else(|| format!("Send files to {owner_name}")),
        owner_name,
        expires_at: share.expires_at.map(|at| at.to_rfc3339()),
        max_file_size,
        files_left: rules
            .max_files
            .map(|max| to_u64(max).saturating_sub(to_u64(rules.received_files) + count)),
        bytes_left: rules
            .max_total_bytes
            .map(|max| to_u64(max).saturating_sub(to_u64(rules.received_bytes) + reserved)),
        allowed_types: types_of(rules),
        sent,
    })
}

/// The files one visitor sent through request `share` that still exist, newest first.
async fn sent_by(state: &AppState, share: Uuid, visitor: &str) -> Result<Vec<SentFile>, AppError> {
    let rows = share_uploads::Entity::find()
        .filter(share_uploads::Column::ShareId.eq(share))
        .filter(share_uploads::Column::VisitorHash.eq(visitor))
        .order_by_desc(share_uploads::Column::CreatedAt)
        .limit(500)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.file_id).collect();
    let found = files::Entity::find().filter(files::Column::Id.is_in(ids)).all(&state.db).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let file = found.iter().find(|f| f.id == row.file_id)?;
            Some(SentFile {
                name: file.name.clone(),
                size: to_u64(file.size),
                at: row.created_at.to_rfc3339(),
            })
        })
        .collect())
}

fn types_of(rules: &share_requests::Model) -> Vec<String> {
    rules
        .allowed_types
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn name_allowed(types: &[String], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    types.iter().any(|t| t.starts_with('.') && name.ends_with(t.as_str()))
}

fn mime_allowed(types: &[String], content_type: &str) -> bool {
    types.iter().any(|t| match t.strip_suffix("/*") {
        Some(kind) => content_type.split('/').next() == Some(kind),
        None => t.contains('/') && t == content_type,
    })
}

fn wrong_type(types: &[String]) -> AppError {
    AppError::UnsupportedMediaType(format!(
        "This request takes only these file types: {}.",
        types.join(", ")
    ))
}

fn file_too_large(max: u64) -> AppError {
    AppError::TooLarge(format!("This request takes files up to {}.", human_size(max)))
}

fn total_too_large(max: u64, left: u64) -> AppError {
    AppError::TooLarge(format!(
        "This request takes {} in all; {} are left.",
        human_size(max),
        human_size(left)
    ))
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{RequestRules, mime_allowed, name_allowed};

    #[test]
    fn types_are_normalized_and_matched() {
        let rules = RequestRules {
            allowed_types: vec![" PDF ".into(), ".Jpg".into(), "image/*".into(), "pdf".into()],
            ..RequestRules::default()
        };
        let types = rules.checked().unwrap().allowed_types;
        assert_eq!(types, [".pdf", ".jpg", "image/*"]);
        assert!(name_allowed(&types, "Scan.PDF"));
        assert!(!name_allowed(&types, "scan.pdf.exe"));
        assert!(mime_allowed(&types, "image/png"));
        assert!(!mime_allowed(&types, "text/plain"));
        for bad in ["../x", "a/b/c", ".", "image/", "*/*x", ".a.b"] {
            let rules = RequestRules { allowed_types: vec![bad.into()], ..Default::default() };
            assert!(rules.checked().is_err(), "{bad}");
        }
        let zero = RequestRules { max_files: Some(0), ..Default::default() };
        assert!(zero.checked().is_err());
    }
}
