//! Searching within a link: a visitor of an open link to a folder (or to chosen files) finds
//! files among what it shares, through the one policy — a locked link asks for its password,
//! a revoked or expired one answers as it does everywhere — and never past the shared folder:
//! paths are below it, and `in:"folder"` names only folders inside it. A search is not a
//! download and is not logged as a view.

use std::collections::HashMap;

use super::contents::{SharedFile, path_in};
use super::page::public_files;
use super::policy::{Action, authorize};
use super::{PublicHit, ShareSearch};
use crate::AppError;
use crate::auth::ClientInfo;
use crate::search::{Query, Scope, find, paths_below};
use crate::state::AppState;

/// How many results a page of a link's search holds.
const PAGE_SIZE: u64 = 20;

/// Page `cursor` of the files link `slug` shares that match `query`.
pub async fn search_share(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
    query: &Query,
    cursor: Option<&str>,
) -> Result<ShareSearch, AppError> {
    let grant = authorize(state, slug, unlock, client, Action::Search).await?;
    let share = &grant.share;
    let scope = Scope {
        owner: share.owner_id,
        below: share.folder_id,
        share: share.folder_id.is_none().then_some(share.id),
    };
    state
        .read(Some(share.owner_id), |state| async move {
            let found = find(&state.db, scope, query, PAGE_SIZE, cursor, false).await?;
            // Only the found files' folders, up to the shared one (never the whole shared
            // tree).
            let paths: HashMap<uuid::Uuid, String> = match share.folder_id {
                Some(top) => {
                    let folders = found.files.iter().map(|(file, _)| file.folder_id).collect();
                    paths_below(&state.db, folders, Some(top)).await?
                }
                None => HashMap::new(),
            };
            let (shared, snippets): (Vec<SharedFile>, Vec<_>) = found
                .files
                .into_iter()
                .map(|(model, snippet)| {
                    let dir = paths.get(&model.folder_id).map(String::as_str).unwrap_or_default();
                    (SharedFile { path: path_in(dir, &model.name), model }, snippet)
                })
                .unzip();
            let files = public_files(&state, share, &shared).await?;
            let hits = files
                .into_iter()
                .zip(snippets)
                .map(|(file, snippet)| PublicHit { file, snippet })
                .collect();
            Ok(ShareSearch { hits, next_cursor: found.next_cursor })
        })
        .await
}
