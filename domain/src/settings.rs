//! Instance settings: what the instance is called and how it greets people.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::AppError;
use crate::account::RegistrationMode;
use crate::audit::{self, Event, action};
use crate::auth::{ClientInfo, Identity};
use crate::entities::settings;
use crate::site::SiteInfo;
use crate::state::AppState;

/// Setting key for the instance name.
pub const SITE_NAME: &str = "site_name";
/// Setting key for the home page tagline.
pub const SITE_TAGLINE: &str = "site_tagline";
/// Setting key for who may sign up.
pub const REGISTRATION_MODE: &str = "registration_mode";

/// The instance name and tagline of `state`'s database, kept while no setting changes (the
/// auth epoch, [`crate::cache`]).
pub async fn cached_site_info(state: &AppState) -> Result<SiteInfo, AppError> {
    let epoch = crate::cache::auth_epoch_checked(&state.db).await?;
    let kept = state.site.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some((at, info)) = kept
        && at == epoch
    {
        return Ok(info);
    }
    let info = site_info(&state.db).await?;
    *state.site.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((epoch, info.clone()));
    Ok(info)
}

/// Reads the instance name and tagline (the migration seeds both).
#[tracing::instrument(skip_all)]
pub async fn site_info(db: &impl ConnectionTrait) -> Result<SiteInfo, AppError> {
    let rows = settings::Entity::find()
        .filter(settings::Column::Key.is_in([SITE_NAME, SITE_TAGLINE, REGISTRATION_MODE]))
        .all(db)
        .await?;
    let get = |key: &str| rows.iter().find(|r| r.key == key).map(|r| r.value.clone());
    Ok(SiteInfo {
        name: get(SITE_NAME).unwrap_or_else(|| "Pannier".into()),
        tagline: get(SITE_TAGLINE).unwrap_or_default(),
        open_registration: get(REGISTRATION_MODE).as_deref()
            == Some(RegistrationMode::Open.as_str()),
    })
}

/// Who may sign up now (a new instance: invite only, once its admin exists).
pub async fn registration_mode(db: &impl ConnectionTrait) -> Result<RegistrationMode, AppError> {
    let row = settings::Entity::find_by_id(REGISTRATION_MODE).one(db).await?;
    let mode = row.and_then(|r| RegistrationMode::parse(&r.value).ok());
    Ok(mode.unwrap_or(RegistrationMode::InviteOnly))
}

/// Changes who may sign up (admins only).
pub async fn set_registration_mode(
    db: &impl ConnectionTrait,
    admin: &Identity,
    mode: RegistrationMode,
    client: &ClientInfo,
) -> Result<(), AppError> {
    admin.require_admin()?;
    set(db, REGISTRATION_MODE, mode.as_str()).await?;
    let event = Event {
        actor: Some(admin.user.id),
        action: action::REGISTRATION_MODE_CHANGED,
        target: Some(mode.as_str()),
        success: true,
    };
    audit::record(db, event, client).await
}

/// Sets one setting, inserting or replacing it. What is cached of settings (and the pages that
/// show them) is retired here and, within 100 ms, in other processes ([`crate::cache`]).
#[tracing::instrument(skip(db, value))]
pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    write(db, key, value).await?;
    crate::cache::auth_changed(db).await
}

/// Writes one setting (and nothing else).
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
) -> Result<(), AppError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 64 {
        return Err(AppError::BadRequest("a setting key is 1 to 64 characters".into()));
    }
    let row = settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(chrono::Utc::now()),
    };
    settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(settings::Column::Key)
                .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::memory_db;

    #[tokio::test]
    async fn site_info_comes_from_the_seeded_settings() {
        let db = memory_db().await;
        let info = site_info(&db).await.unwrap();
        assert_eq!(info.name, "Pannier");
        assert!(info.tagline.contains("links"));
    }

    #[tokio::test]
    async fn set_replaces_an_existing_value() {
        let db = memory_db().await;
        set(&db, SITE_NAME, "Family files").await.unwrap();
        set(&db, SITE_NAME, "Team files").await.unwrap();
        assert_eq!(site_info(&db).await.unwrap().name, "Team files");
    }

    #[tokio::test]
    async fn set_rejects_bad_keys_and_changes_nothing() {
        let db = memory_db().await;
        let err = set(&db, "", "x").await.unwrap_err();
        assert!(matches!(err, AppError::BadRequest(_)));
        assert_eq!(site_info(&db).await.unwrap().name, "Pannier");
    }
}
