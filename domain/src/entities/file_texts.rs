//! `file_texts`: the text found inside a file for search (`crate::search::extract`), the
//! digest of the bytes it came from, and why there is none. Goes with its file (cascade).
//! PostgreSQL adds a generated `tsv` column this entity does not read.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "file_texts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_id: Uuid,
    pub sha256: String,
    pub body: String,
    pub error: Option<String>,
    pub extracted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
