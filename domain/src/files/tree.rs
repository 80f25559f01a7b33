//! The shape of an account's folder tree, and every walk through it: up to the root
//! ([`ancestors`]), down a subtree ([`subtree`]), and the depth rule. Each walk is bounded by
//! [`MAX_DEPTH`] and never visits a folder twice, so even a corrupt tree (a cycle written by
//! hand, or by a bug) cannot hang a request: the walk stops with an error instead.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::AppError;
use crate::entities::folders;

/// The deepest a folder may sit below the root (the root is depth 0).
pub const MAX_DEPTH: usize = 64;
/// The longest sub-folder path an upload may name (`path=a/b/…`), in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// The error for a tree that is deeper than allowed or loops: it cannot come from our own
/// writes, so it is logged as internal.
fn corrupt(folder: Uuid) -> AppError {
    tracing::error!(%folder, "folder tree deeper than allowed or looping");
    AppError::Internal
}

/// The error for a change that would put a folder deeper than [`MAX_DEPTH`].
pub(crate) fn too_deep() -> AppError {
    AppError::BadRequest(format!(
        "Folders can be nested at most {MAX_DEPTH} levels deep. Choose a place higher up."
    ))
}

/// `folder`'s ancestors, its parent first and the root last (empty for the root).
pub(crate) async fn ancestors(
    db: &impl ConnectionTrait,
    folder: &folders::Model,
) -> Result<Vec<folders::Model>, AppError> {
    let mut found = Vec::new();
    let mut seen = HashSet::from([folder.id]);
    let mut parent = folder.parent_id;
    while let Some(id) = parent {
        if !seen.insert(id) || found.len() > MAX_DEPTH {
            return Err(corrupt(folder.id));
        }
        let Some(row) = folders::Entity::find_by_id(id).one(db).await? else { break };
        parent = row.parent_id;
        found.push(row);
    }
    Ok(found)
}

/// How deep `folder` sits (the root is 0).
pub(crate) async fn depth(
    db: &impl ConnectionTrait,
    folder: &folders::Model,
) -> Result<usize, AppError> {
    Ok(ancestors(db, folder).await?.len())
}

/// Whether `folder` is `ancestor` or lies below it.
pub(crate) async fn is_within(
    db: &impl ConnectionTrait,
    folder: &folders::Model,
    ancestor: Uuid,
) -> Result<bool, AppError> {
    Ok(folder.id == ancestor || ancestors(db, folder).await?.iter().any(|f| f.id == ancestor))
}

/// Every folder id in the subtree rooted at `folder` (itself included), level by level, and
/// how many levels lie below it.
pub(crate) async fn subtree(
    db: &impl ConnectionTrait,
    folder: Uuid,
) -> Result<(Vec<Uuid>, usize), AppError> {
    let mut all = vec![folder];
    let mut seen = HashSet::from([folder]);
    let mut frontier = vec![folder];
    let mut levels = 0;
    loop {
        let mut next = Vec::new();
        for chunk in frontier.chunks(500) {
            let children: Vec<Uuid> = folders::Entity::find()
                .select_only()
                .column(folders::Column::Id)
                .filter(folders::Column::ParentId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(db)
                .await?;
            next.extend(children.into_iter().filter(|id| seen.insert(*id)));
        }
        if next.is_empty() {
            return Ok((all, levels));
        }
        levels += 1;
        if levels > MAX_DEPTH {
            return Err(corrupt(folder));
        }
        all.extend(&next);
        frontier = next;
    }
}

/// An account's folder tree held in memory — each folder's parent, sorted so a folder's
/// children are found by a binary search — for walks down many subtrees at once without a
/// statement each (a search's words name folders all over the tree). Read whole with one
/// statement; kept by [`crate::cache::folder_tree`] until the owner's tree changes.
#[derive(Debug, Default)]
pub(crate) struct Children {
    /// (parent, folder), sorted.
    edges: Vec<(Uuid, Uuid)>,
}

impl Children {
    /// `owner`'s folders.
    pub(crate) async fn load(db: &impl ConnectionTrait, owner: Uuid) -> Result<Self, AppError> {
        let rows: Vec<(Uuid, Option<Uuid>)> = folders::Entity::find()
            .select_only()
            .column(folders::Column::Id)
            .column(folders::Column::ParentId)
            .filter(folders::Column::OwnerId.eq(owner))
            .into_tuple()
            .all(db)
            .await?;
        let mut edges: Vec<(Uuid, Uuid)> =
            rows.into_iter().filter_map(|(id, parent)| Some((parent?, id))).collect();
        edges.sort_unstable();
        Ok(Self { edges })
    }

    /// How many folders (below the root) it holds.
    pub(crate) fn len(&self) -> usize {
        self.edges.len()
    }

    /// `roots` and every folder below them, each once (a looping tree cannot make it loop).
    pub(crate) fn and_below(&self, roots: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
        let mut seen = HashSet::new();
        let mut found: Vec<Uuid> = roots.into_iter().filter(|id| seen.insert(*id)).collect();
        let mut next = 0;
        while let Some(&folder) = found.get(next) {
            next += 1;
            let start = self.edges.partition_point(|(parent, _)| *parent < folder);
            let children = self.edges[start..].iter().take_while(|(parent, _)| *parent == folder);
            for &(_, child) in children {
                if seen.insert(child) {
                    found.push(child);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use super::*;
    use crate::files::{FileName, create_folder, folder_of};
    use crate::ids::FolderRef;
    use crate::testing::TestState;

    #[tokio::test]
    async fn walks_stop_on_a_looping_tree_instead_of_hanging() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let name = |n: &str| FileName::parse(n).unwrap();
        let a = create_folder(&t.state, &ada, FolderRef::Root, &name("a")).await.unwrap();
        let b = create_folder(&t.state, &ada, a.id.into(), &name("b")).await.unwrap();
        let (a_id, b_id) = (a.id.uuid(), b.id.uuid());
        folders::Entity::update_many()
            .col_expr(folders::Column::ParentId, Expr::value(Some(b_id)))
            .filter(folders::Column::Id.eq(a_id))
            .exec(&t.state.db)
            .await
            .unwrap();
        let b = folder_of(&t.state.db, &ada, b.id).await.unwrap();
        assert!(matches!(ancestors(&t.state.db, &b).await, Err(AppError::Internal)));
        let (below, levels) = subtree(&t.state.db, a_id).await.unwrap();
        assert_eq!((below.len(), levels), (2, 1), "each folder once");
        let children = Children::load(&t.state.db, ada.id).await.unwrap();
        let mut below = children.and_below([b_id, a_id]);
        below.sort_unstable();
        let mut both = vec![a_id, b_id];
        both.sort_unstable();
        assert_eq!(below, both, "each folder once, held in memory too");
    }
}
