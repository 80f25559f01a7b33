//! `uploads`: resumable (tus) uploads in progress; the row becomes a `files` row when complete.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub folder_id: Uuid,
    pub relative_dir: Option<String>,
    pub name: String,
    pub length: i64,
    pub received: i64,
    pub hash_state: Option<String>,
    pub blob_key: String,
    pub multipart_id: Option<String>,
    pub parts: String,
    pub tail_key: Option<String>,
    pub direct: bool,
    pub lease_token: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// A file request's upload: the link it came through, and the visitor's token hash.
    pub share_id: Option<Uuid>,
    pub visitor_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
