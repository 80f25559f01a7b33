//! Storage and the database agree: racing profile-picture changes leave one picture, and
//! `storage check` finds objects without rows and rows without objects (and removes the first).

use axum::body::Bytes;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

/// A whole 1×1 PNG (profile pictures are decoded and re-encoded).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0A, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4, 0, 0, 0, 0, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn racing_picture_changes_leave_exactly_one_picture() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let mut uploads = tokio::task::JoinSet::new();
    for _ in 0..8 {
        uploads.spawn(app.api(Method::PUT, "/me/avatar", &token).body(PNG).send());
    }
    while let Some(response) = uploads.join_next().await {
        assert!(response.unwrap().unwrap().status().is_success());
    }
    assert_eq!(app.stored_objects().await, 1, "every replaced picture was deleted");
    let report =
        domain::files::check_storage(&app.state, false, std::time::Duration::ZERO).await.unwrap();
    assert!(report.is_consistent(), "{report:?}");
}

#[tokio::test]
async fn storage_check_finds_and_repairs_what_disagrees() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    for name in ["kept.txt", "lost.txt"] {
        assert_eq!(app.put_file(&token, None, name, name.as_bytes().to_vec()).await.status(), 201);
    }
    let check =
        |repair| domain::files::check_storage(&app.state, repair, std::time::Duration::ZERO);
    assert!(check(false).await.unwrap().is_consistent());

    // An object whose row never came (a crash in between), and a row whose object went.
    let mut writer = app.state.storage.writer(&domain::storage::BlobKey::new_file()).await.unwrap();
    writer.write(Bytes::from_static(b"nobody's")).await.unwrap();
    let orphan = writer.finish().await.unwrap();
    let root = app.get_json("/folders/root", &token).await;
    let lost = root["files"].as_array().unwrap().iter().find(|f| f["name"] == "lost.txt");
    let lost_id = lost.unwrap()["id"].as_str().unwrap().to_owned();
    let lost_key = {
        use sea_orm::EntityTrait;
        let id = uuid::Uuid::parse_str(&lost_id).unwrap();
        let row = domain::entities::files::Entity::find_by_id(id).one(&app.db).await.unwrap();
        row.unwrap().blob_key
    };
    let key = domain::storage::BlobKey::from_stored(&lost_key).unwrap();
    app.state.storage.delete(&key).await.unwrap();

    let report = check(false).await.unwrap();
    assert_eq!(report.orphans, [orphan.as_string()]);
    assert_eq!(report.missing, std::slice::from_ref(&lost_key));
    assert!(!report.is_consistent());
    let young =
        domain::files::check_storage(&app.state, false, std::time::Duration::from_secs(3600));
    assert!(young.await.unwrap().orphans.is_empty(), "a young object may be an upload in flight");

    let repaired = check(true).await.unwrap();
    assert_eq!(repaired.removed, 1);
    let after = check(false).await.unwrap();
    assert!(after.orphans.is_empty(), "{after:?}");
    assert_eq!(after.missing, [lost_key], "a lost object is reported, never invented");
    let gone: Value = app.get_json(&format!("/files/{lost_id}"), &token).await;
    assert_eq!(gone["id"], lost_id.as_str(), "its row stays for the owner to see");
    // The owner can still delete it; its deletion completes though the object is gone, and
    // the end-of-test check then finds everything in order.
    let path = format!("/files/{lost_id}");
    assert_eq!(app.api(Method::DELETE, &path, &token).send().await.unwrap().status(), 204);
}

/// Small files share a pack (local disk): each reads back whole; a pack cut short (a disk
/// fault, a partial restore) makes the check report exactly the file whose record was cut,
/// never invent one; deleting that file then completes.
#[tokio::test]
async fn a_pack_cut_short_is_reported_file_by_file() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    if app.config.storage != domain::config::StorageKind::Local {
        return; // S3 keeps each file as its own object
    }
    let (_, token) = app.user_with_token("ada@example.com").await;
    let mut files = Vec::new();
    for n in 0..3u8 {
        let body = vec![n + 1; 1000];
        let response = app.put_file(&token, None, &format!("f{n}.bin"), body.clone()).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let row = domain::entities::files::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap());
        let key = row.one(&app.db).await.unwrap().unwrap().blob_key;
        assert!(key.starts_with("packed/"), "{key}");
        let content = app.api(Method::GET, &format!("/files/{id}/content"), &token).send();
        assert_eq!(content.await.unwrap().bytes().await.unwrap(), body);
        files.push((id, key));
    }
    let check =
        |repair| domain::files::check_storage(&app.state, repair, std::time::Duration::ZERO);
    assert!(check(false).await.unwrap().is_consistent());

    // Cut the pack in the middle of the last file's bytes.
    let (last_id, last_key) = files.pop().unwrap();
    let parts: Vec<&str> = last_key.split('/').collect();
    let pack = app.config.data_dir.join("packs").join(parts[2]);
    let offset: u64 = parts[3].parse().unwrap();
    std::fs::File::options().write(true).open(&pack).unwrap().set_len(offset + 10).unwrap();
    let report = check(false).await.unwrap();
    assert_eq!(report.missing, [last_key]);
    assert!(report.orphans.is_empty(), "{report:?}");
    let path = format!("/files/{last_id}");
    assert_eq!(app.api(Method::DELETE, &path, &token).send().await.unwrap().status(), 204);
    for (id, _) in &files {
        let content = app.api(Method::GET, &format!("/files/{id}/content"), &token).send();
        assert_eq!(content.await.unwrap().bytes().await.unwrap().len(), 1000, "the others stay");
    }
    assert!(check(false).await.unwrap().is_consistent());
}
