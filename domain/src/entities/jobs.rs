//! `jobs`: the durable job queue (`crate::jobs`). A job is `queued` (to run from `run_after`),
//! `running` (under a lease until `lease_until`, held by `lease_token`) or `dead` (out of
//! attempts; kept for an admin). Done jobs are deleted; recurring ones (`every_secs`) are
//! queued again for their next run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTimeUtc,
    pub lease_token: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
    pub every_secs: Option<i64>,
    #[sea_orm(unique)]
    pub unique_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
