//! `share_requests`: the upload limits and counts of a share link that is a file request.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "share_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub share_id: Uuid,
    pub max_file_size: Option<i64>,
    pub max_total_bytes: Option<i64>,
    pub max_files: Option<i64>,
    pub allowed_types: Option<String>,
    pub received_files: i64,
    pub received_bytes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
