//! `media`: what making a file's previews found (`crate::media`): its kind, dimensions,
//! duration, whether thumbnails exist and their type, a tiny placeholder image, when and with
//! what it was taken. Goes with its file (cascade).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_id: Uuid,
    pub status: String,
    pub kind: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub thumb_type: Option<String>,
    pub large: bool,
    pub placeholder: Option<String>,
    pub taken_at: Option<DateTimeUtc>,
    pub camera: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
