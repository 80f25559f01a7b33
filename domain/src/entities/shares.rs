//! `shares`: share links. The slug is looked up by its SHA-256 (`slug_hash`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub slug: String,
    #[sea_orm(unique)]
    pub slug_hash: String,
    pub label: Option<String>,
    pub folder_id: Option<Uuid>,
    pub password_hash: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub max_downloads: Option<i64>,
    pub downloads: i64,
    pub views: i64,
    pub allow_zip: bool,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_access_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
