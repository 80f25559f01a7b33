//! A link's public page `/s/{slug}`: one page of its files (100), with their count and total
//! size, read a page at a time — never every shared row at once, however many files a link
//! shares. A shared folder's files come folder by folder in path order (the folders' paths
//! are computed once; their files are counted with one grouped query per 500 folders and only
//! the page's files are read). Memory grows with the number of folders, not of files.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::contents::{SharedFile, folder_paths, path_in};
use super::links::{files_title, first_file_name, folder_title};
use super::policy::{Action, authorize, usable};
use super::requests::public_request;
use super::{PublicFile, PublicShare, ShareView};
use crate::auth::ClientInfo;
use crate::entities::{files, folders, share_files, shares, users};
use crate::files::{Preview, sum};
use crate::state::AppState;
use crate::{AppError, cache};

/// Files on one page of a link.
const PAGE_SIZE: u64 = 100;

/// One page of a link's files.
struct Listing {
    files: Vec<SharedFile>,
    count: u64,
    size: u64,
}

/// The page of link `slug`: its files (page `page`, from 1), a file request's upload page
/// (with what the visitor holding `visitor`, their session token, sent), or the password form.
pub async fn public_share(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    visitor: Option<&str>,
    client: &ClientInfo,
    error: Option<String>,
    page: usize,
) -> Result<ShareView, AppError> {
    let grant = match authorize(state, slug, unlock, client, Action::View).await {
        Ok(grant) => grant,
        Err(AppError::Unauthorized(_)) => return Ok(ShareView::Locked { error }),
        Err(err) => return Err(err),
    };
    let share = &grant.share;
    if let Some(rules) = &grant.request {
        return Ok(ShareView::Request(public_request(state, share, rules, visitor).await?));
    }
    let page = Ord::max(u64::try_from(page).unwrap_or(1), 1);
    // What the page shows changes with the link, the owner's files and the owner's name; a
    // limited link's page shows its downloads left, so it is always made afresh.
    let version =
        (cache::shares_epoch(), cache::tree_generation(share.owner_id), cache::auth_epoch());
    let cached = share.max_downloads.is_none();
    if cached && let Some(shown) = cache::share_page(share.id, page, version) {
        return Ok(ShareView::Open(shown));
    }
    let shown = state
        .read(Some(share.owner_id), |state| async move { open_page(&state, share, page).await })
        .await?;
    if cached {
        cache::keep_share_page(share.id, page, version, shown.clone());
    }
    Ok(ShareView::Open(shown))
}

/// `shared` as a visitor of `share` sees them.
pub(super) async fn public_files(
    state: &AppState,
    share: &shares::Model,
    shared: &[SharedFile],
) -> Result<Vec<PublicFile>, AppError> {
    let page_files = shared.iter().map(|file| (file.model.id, file.model.content_type.as_str()));
    let media = crate::media::media_of(&state.db, page_files).await?;
    Ok(shared
        .iter()
        .map(|file| PublicFile {
            media: media.get(&file.model.id).map(crate::media::media_dto),
            id: file.model.id.into(),
            path: file.path.clone(),
            size: u64::try_from(file.model.size).unwrap_or(0),
            // Every preview of a limited link would spend one of its downloads: none inline.
            preview: if share.max_downloads.is_some() {
                Preview::None
            } else {
                Preview::of(&file.model.content_type)
            },
        })
        .collect())
}

/// What link `slug`'s public page is rendered under, when its HTML may be kept and served again
/// ([`cache::PageVersion`]): a link usable now, open to anyone holding it — no password (the
/// page depends on the visitor's unlock cookie), no download limit (it shows what is left),
/// not a file request (it shows what the visitor sent). `None` otherwise, or on any error:
/// then the page is rendered, and says what is wrong.
pub async fn page_version(state: &AppState, slug: &str) -> Option<cache::PageVersion> {
    // The counters before what they guard: what is rendered after is at least this new.
    let auth = cache::auth_epoch_checked(&state.db).await.ok()?;
    let shares = cache::shares_epoch();
    let (share, request) = usable(state, slug).await.ok()?;
    let open = share.password_hash.is_none() && share.max_downloads.is_none() && request.is_none();
    open.then(|| {
        let tree = cache::tree_generation(share.owner_id);
        cache::share_page_version(auth, shares, tree, share.id)
    })
}

/// A link's page served from kept HTML: the visit counts and is logged as a rendered one's.
pub fn page_served(state: &AppState, version: &cache::PageVersion, client: &ClientInfo) {
    if let Some(share) = version.share() {
        state.accesses.note(share, "view", client.ip.as_deref(), false);
    }
}

/// Page `page` of an open link: its files, title, owner, QR code and limits.
async fn open_page(
    state: &AppState,
    share: &shares::Model,
    page: u64,
) -> Result<PublicShare, AppError> {
    let mut listing = page_of(state, share, page).await?;
    let page_count = Ord::max(listing.count.div_ceil(PAGE_SIZE), 1);
    if page > page_count {
        listing = page_of(state, share, page_count).await?;
    }
    let page = Ord::min(page, page_count);
    let owner = users::Entity::find_by_id(share.owner_id).one(&state.db).await?;
    // The same title as in the owner's list ([`super::links::files_title`]).
    let title = match (&share.label, share.folder_id) {
        (Some(label), _) => label.clone(),
        (None, Some(folder)) => folder_title(
            folders::Entity::find_by_id(folder)
                .one(&state.db)
                .await?
                .filter(|f| f.parent_id.is_some())
                .map(|f| f.name),
        ),
        (None, None) => {
            // Page 1 starts with the first file by name; a later page asks for it.
            let first = match (page, listing.files.first()) {
                (1, first) => first.map(|file| file.model.name.clone()),
                _ => first_file_name(&state.db, share.id).await?,
            };
            files_title(first, listing.count)
        }
    };
    let files = public_files(state, share, &listing.files).await?;
    let link = format!("{}/s/{}", state.config.public_url(), share.slug);
    // The card a chat app shows: the first picture of the page (a link with a password never
    // gets here before it is unlocked, and a thumbnail never counts as a download).
    let card_image =
        files.iter().find(|file| file.media.as_ref().is_some_and(|media| media.thumbnail));
    let card_image =
        card_image.map(|file| format!("{link}/files/{}/thumbnail?size=large", file.id));
    let qr_svg = qrcode::QrCode::new(link.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).build())
        .unwrap_or_default();
    Ok(PublicShare {
        qr_svg,
        card_image,
        slug: share.slug.clone(),
        title,
        owner_name: owner.map(|o| o.display_name).unwrap_or_default(),
        total_size: listing.size,
        file_count: listing.count,
        page: usize::try_from(page).unwrap_or(1),
        page_count: usize::try_from(page_count).unwrap_or(1),
        files,
        allow_zip: share.allow_zip,
        expires_at: share.expires_at.map(|at| at.to_rfc3339()),
        downloads_left: share
            .max_downloads
            .map(|max| u64::try_from(max - share.downloads).unwrap_or(0)),
    })
}

/// How many files link `share` gives access to (one count, no rows read).
pub(super) async fn file_count(state: &AppState, share: &shares::Model) -> Result<u64, AppError> {
    match share.folder_id {
        None => Ok(selected(share).count(&state.db).await?),
        Some(root) => Ok(folder_counts(state, root).await?.1.values().map(|(n, _)| n).sum()),
    }
}

async fn page_of(state: &AppState, share: &shares::Model, page: u64) -> Result<Listing, AppError> {
    match share.folder_id {
        None => selection_page(state, share, page).await,
        Some(root) => folder_page(state, root, page).await,
    }
}

/// A page of a selection's files, by name.
async fn selection_page(
    state: &AppState,
    share: &shares::Model,
    page: u64,
) -> Result<Listing, AppError> {
    let rows = || selected(share);
    let count = rows().count(&state.db).await?;
    let size = sum(&state.db, rows(), files::Column::Size).await?;
    let files = rows()
        .order_by_asc(files::Column::Name)
        .order_by_asc(files::Column::Id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|model| SharedFile { path: model.name.clone(), model })
        .collect();
    Ok(Listing { files, count, size })
}

/// The files of a selection link.
fn selected(share: &shares::Model) -> sea_orm::Select<files::Entity> {
    let listed = Query::select()
        .column(share_files::Column::FileId)
        .from(share_files::Entity)
        .and_where(Expr::col(share_files::Column::ShareId).eq(share.id))
        .to_owned();
    files::Entity::find()
        .filter(files::Column::OwnerId.eq(share.owner_id))
        .filter(files::Column::Id.in_subquery(listed))
}

/// A page of the files below a shared folder: folder by folder in path order, by name within.
async fn folder_page(state: &AppState, root: Uuid, page: u64) -> Result<Listing, AppError> {
    let (paths, counts) = folder_counts(state, root).await?;
    let mut ordered: Vec<(&str, Uuid)> = counts
        .keys()
        .map(|folder| (paths.get(folder).map_or("", String::as_str), *folder))
        .collect();
    ordered.sort_unstable();
    let count = counts.values().map(|(count, _)| count).sum();
    let size = counts.values().map(|(_, size)| size).sum();
    let (mut skip, mut take) = ((page - 1) * PAGE_SIZE, PAGE_SIZE);
    let mut files = Vec::new();
    for (dir, folder) in ordered {
        let here = counts.get(&folder).map_or(0, |(count, _)| *count);
        if skip >= here {
            skip -= here;
            continue;
        }
        let rows = files::Entity::find()
            .filter(files::Column::FolderId.eq(folder))
            .order_by_asc(files::Column::Name)
            .order_by_asc(files::Column::Id)
            .offset(skip)
            .limit(take)
            .all(&state.db)
            .await?;
        skip = 0;
        take -= rows.len() as u64;
        files.extend(
            rows.into_iter().map(|model| SharedFile { path: path_in(dir, &model.name), model }),
        );
        if take == 0 {
            break;
        }
    }
    Ok(Listing { files, count, size })
}

/// Paths of the folders below `root` and, for those holding files, their file count and bytes.
async fn folder_counts(
    state: &AppState,
    root: Uuid,
) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, (u64, u64)>), AppError> {
    let paths = folder_paths(state, root).await?;
    let ids: Vec<Uuid> = paths.keys().copied().collect();
    let mut counts: HashMap<Uuid, (u64, u64)> = HashMap::new();
    for chunk in ids.chunks(500) {
        let grouped: Vec<(Uuid, i64, Option<i64>)> = files::Entity::find()
            .select_only()
            .column(files::Column::FolderId)
            .column_as(Expr::col(files::Column::Id).count(), "count")
            .column_as(Expr::col(files::Column::Size).sum().cast_as("BIGINT"), "size")
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .group_by(files::Column::FolderId)
            .into_tuple()
            .all(&state.db)
            .await?;
        for (folder, count, size) in grouped {
            counts.insert(folder, (count.unsigned_abs(), size.unwrap_or(0).unsigned_abs()));
        }
    }
    Ok((paths, counts))
}
