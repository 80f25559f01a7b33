//! Resumable uploads (tus 1.0) over HTTP: every extension, every refusal, a restart in the
//! middle, expiry, and direct-to-S3 parts. On SQLite + local disk, and on PostgreSQL + S3.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, Response};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const MIB: usize = 1 << 20;

/// `len` bytes that do not compress or repeat in step with part sizes.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key} {}", STANDARD.encode(value)))
        .collect::<Vec<_>>()
        .join(",")
}

impl TestApp {
    pub(crate) fn tus(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.api(method, path, token).header("tus-resumable", "1.0.0")
    }

    /// Starts an upload of `length` bytes named `name`; its path (`/uploads/<id>`).
    pub(crate) async fn start_upload(&self, token: &str, name: &str, length: usize) -> String {
        let response = self
            .tus(Method::POST, "/uploads", token)
            .header("upload-length", length)
            .header("upload-metadata", metadata(&[("filename", name)]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        header(&response, "location").trim_start_matches("/api/v1").to_owned()
    }

    async fn patch(&self, token: &str, upload: &str, offset: usize, bytes: &[u8]) -> Response {
        self.tus(Method::PATCH, upload, token)
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn offset(&self, token: &str, upload: &str) -> Response {
        self.tus(Method::HEAD, upload, token).send().await.unwrap()
    }

    async fn file_bytes(&self, token: &str, file: &str) -> Vec<u8> {
        let response =
            self.api(Method::GET, &format!("/files/{file}/content"), token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    }
}

#[tokio::test]
async fn options_advertise_the_protocol_and_other_versions_get_412() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let options = app.api(Method::OPTIONS, "/uploads", &token).send().await.unwrap();
    assert_eq!(options.status(), 204);
    assert_eq!(header(&options, "tus-version"), "1.0.0");
    assert_eq!(
        header(&options, "tus-extension"),
        "creation,creation-with-upload,expiration,checksum,termination"
    );
    assert_eq!(header(&options, "tus-max-size"), (10u64 << 30).to_string());
    assert_eq!(header(&options, "tus-checksum-algorithm"), "sha1,sha256");

    let old = app
        .api(Method::POST, "/uploads", &token)
        .header("tus-resumable", "0.2.2")
        .header("upload-length", 5)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 412);
    assert_eq!(header(&old, "tus-version"), "1.0.0");
    let signed_out = app
        .client
        .post(format!("{}/api/v1/uploads", app.address))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", 5)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 403, "a cookie-less POST without Origin is cross-site");
    assert_eq!(header(&signed_out, "tus-resumable"), "1.0.0");
    let signed_out = app
        .client
        .post(format!("{}/api/v1/uploads", app.address))
        .header("origin", &app.address)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", 5)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 401);
    assert_eq!(header(&signed_out, "tus-resumable"), "1.0.0");
}

#[tokio::test]
async fn an_upload_sent_in_uneven_chunks_becomes_the_exact_file() {
    let app =
        spawn_app_with(|config| config.s3_part_size = domain::config::ByteSize(8 << 20)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let folder = app.create_folder(&token, None, "Videos").await;
    let bytes = random_bytes(21 * MIB + 123, 1);
    let response = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", bytes.len())
        .header(
            "upload-metadata",
            metadata(&[
                ("filename", "holiday.mp4"),
                ("folder_id", &folder),
                ("path", "2026/summer"),
            ]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "upload-offset"), "0");
    assert!(header(&response, "upload-expires").ends_with("GMT"));
    let upload = header(&response, "location").trim_start_matches("/api/v1").to_owned();

    // Chunks below S3's 5 MiB minimum, across part boundaries, and a single byte.
    let mut offset = 0;
    for size in [3 * MIB, 6 * MIB, 1, 9 * MIB + 5] {
        let response = app.patch(&token, &upload, offset, &bytes[offset..offset + size]).await;
        assert_eq!(response.status(), 204, "{:?}", response.text().await);
        offset += size;
        assert_eq!(header(&response, "upload-offset"), offset.to_string());
        let head = app.offset(&token, &upload).await;
        assert_eq!(head.status(), 200);
        assert_eq!(header(&head, "upload-offset"), offset.to_string());
        assert_eq!(header(&head, "upload-length"), bytes.len().to_string());
        assert_eq!(header(&head, "cache-control"), "no-store");
    }
    let last = app.patch(&token, &upload, offset, &bytes[offset..]).await;
    assert_eq!(last.status(), 204);
    assert_eq!(header(&last, "upload-offset"), bytes.len().to_string());
    let file = header(&last, "pannier-file-id").to_owned();
    let meta = app.get_json(&format!("/files/{file}"), &token).await;
    assert_eq!(meta["name"], "holiday.mp4");
    assert_eq!(meta["size"], bytes.len());
    assert_eq!(meta["sha256"], domain::auth::hex(&Sha256::digest(&bytes)));
    assert_ne!(meta["folder_id"], folder, "made inside 2026/summer");
    assert_eq!(app.file_bytes(&token, &file).await, bytes);
    assert_eq!(app.offset(&token, &upload).await.status(), 404, "the record is gone");
    assert_eq!(app.stored_objects().await, 1, "one object: no parked bytes, no open uploads");
}

#[tokio::test]
async fn creation_with_upload_and_checksums_keep_only_verified_bytes() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let bytes = random_bytes(3 * MIB, 2);
    let first = &bytes[..MIB];
    let response = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", bytes.len())
        .header("upload-metadata", metadata(&[("filename", "a.bin"), ("filetype", "x/y")]))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", format!("sha1 {}", STANDARD.encode(Sha1::digest(first))))
        .body(first.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    assert_eq!(header(&response, "upload-offset"), MIB.to_string());
    let upload = header(&response, "location").trim_start_matches("/api/v1").to_owned();

    let second = &bytes[MIB..2 * MIB];
    let wrong = app
        .tus(Method::PATCH, &upload, &token)
        .header("upload-offset", MIB)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", format!("sha256 {}", STANDARD.encode(Sha256::digest(b"other"))))
        .body(second.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 460);
    assert_eq!(header(&wrong, "tus-resumable"), "1.0.0");
    assert_eq!(header(&app.offset(&token, &upload).await, "upload-offset"), MIB.to_string());
    let unknown = app
        .tus(Method::PATCH, &upload, &token)
        .header("upload-offset", MIB)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", format!("md5 {}", STANDARD.encode([0u8; 16])))
        .body(second.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);

    let rest = &bytes[MIB..];
    let right = app
        .tus(Method::PATCH, &upload, &token)
        .header("upload-offset", MIB)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", format!("sha256 {}", STANDARD.encode(Sha256::digest(rest))))
        .body(rest.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 204);
    let file = header(&right, "pannier-file-id").to_owned();
    assert_eq!(app.file_bytes(&token, &file).await, bytes, "the refused chunk left no trace");
}

#[tokio::test]
async fn bad_requests_get_tus_answers_and_change_nothing() {
    let app =
        spawn_app_with(|config| config.max_file_size = domain::config::ByteSize(8 << 20)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let upload = app.start_upload(&token, "b.bin", 2 * MIB).await;
    assert_eq!(app.patch(&token, &upload, 0, &[1; 1000]).await.status(), 204);

    let mismatch = app.patch(&token, &upload, 10, &[1; 10]).await;
    assert_eq!(mismatch.status(), 409);
    let wrong_type = app
        .tus(Method::PATCH, &upload, &token)
        .header("upload-offset", 1000)
        .header("content-type", "application/octet-stream")
        .body(vec![1; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let past_end = app.patch(&token, &upload, 1000, &vec![2; 2 * MIB]).await;
    assert_eq!(past_end.status(), 413);
    let no_offset = app
        .tus(Method::PATCH, &upload, &token)
        .header("content-type", "application/offset+octet-stream")
        .body(vec![1; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(no_offset.status(), 400);
    assert_eq!(header(&app.offset(&token, &upload).await, "upload-offset"), "1000");

    let too_big = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", 9 << 20)
        .header("upload-metadata", metadata(&[("filename", "big.bin")]))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let no_length = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-metadata", metadata(&[("filename", "x.bin")]))
        .send()
        .await
        .unwrap();
    assert_eq!(no_length.status(), 400);
    let no_name =
        app.tus(Method::POST, "/uploads", &token).header("upload-length", 5).send().await.unwrap();
    assert_eq!(no_name.status(), 400);
    for (folder, status) in [("nope", 400), (&*uuid::Uuid::new_v4().to_string(), 404)] {
        let bad_folder = app
            .tus(Method::POST, "/uploads", &token)
            .header("upload-length", 5)
            .header("upload-metadata", metadata(&[("filename", "x"), ("folder_id", folder)]))
            .send()
            .await
            .unwrap();
        assert_eq!(bad_folder.status(), status, "{folder}");
    }

    // Someone else's upload does not exist for them.
    let (_, mallory) = app.user_with_token("mallory@example.com").await;
    assert_eq!(app.offset(&mallory, &upload).await.status(), 404);
    assert_eq!(app.patch(&mallory, &upload, 1000, &[6; 10]).await.status(), 404);
    assert_eq!(app.tus(Method::DELETE, &upload, &mallory).send().await.unwrap().status(), 404);
    assert_eq!(header(&app.offset(&token, &upload).await, "upload-offset"), "1000");
}

#[tokio::test]
async fn uploads_in_progress_hold_their_space_until_they_end() {
    let app =
        spawn_app_with(|config| config.default_quota = domain::config::ByteSize(10 << 20)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let first = app.start_upload(&token, "one.bin", 6 * MIB).await;
    assert_eq!(app.patch(&token, &first, 0, &[1; MIB]).await.status(), 204);
    let second = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", 6 * MIB)
        .header("upload-metadata", metadata(&[("filename", "two.bin")]))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 413);
    let error: serde_json::Value = second.json().await.unwrap();
    assert_eq!(error["error"]["code"], "quota_exceeded");
    assert_eq!(app.put_file(&token, None, "plain.bin", vec![0; 5 * MIB]).await.status(), 413);

    let cancel = app.tus(Method::DELETE, &first, &token).send().await.unwrap();
    assert_eq!(cancel.status(), 204);
    assert_eq!(app.offset(&token, &first).await.status(), 404);
    assert_eq!(app.stored_objects().await, 0, "termination removes every byte");
    app.start_upload(&token, "two.bin", 6 * MIB).await;
}

#[tokio::test]
async fn an_upload_continues_after_the_server_restarts() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let bytes = random_bytes(12 * MIB, 3);
    let upload = app.start_upload(&token, "resume.bin", bytes.len()).await;
    assert_eq!(app.patch(&token, &upload, 0, &bytes[..7 * MIB]).await.status(), 204);

    let app = app.restart().await;
    let head = app.offset(&token, &upload).await;
    assert_eq!(head.status(), 200);
    let offset: usize = header(&head, "upload-offset").parse().unwrap();
    assert_eq!(offset, 7 * MIB);
    let last = app.patch(&token, &upload, offset, &bytes[offset..]).await;
    assert_eq!(last.status(), 204);
    let file = header(&last, "pannier-file-id").to_owned();
    let meta = app.get_json(&format!("/files/{file}"), &token).await;
    assert_eq!(meta["sha256"], domain::auth::hex(&Sha256::digest(&bytes)));
    assert_eq!(app.file_bytes(&token, &file).await, bytes);
}

#[tokio::test]
async fn abandoned_uploads_expire_with_their_bytes_and_reservation() {
    use domain::entities::uploads;
    use sea_orm::{EntityTrait, sea_query::Expr};

    let app =
        spawn_app_with(|config| config.default_quota = domain::config::ByteSize(4 << 20)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let upload = app.start_upload(&token, "left.bin", 3 * MIB).await;
    let patched = app.patch(&token, &upload, 0, &[1; 2 * MIB]).await;
    assert_eq!(patched.status(), 204);
    let expires = chrono::DateTime::parse_from_rfc2822(header(&patched, "upload-expires")).unwrap();
    let left = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!((23 * 60..=24 * 60).contains(&left.num_minutes()), "24 h after the last write: {left}");
    assert!(app.stored_objects().await > 0);

    let an_hour_ago = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    uploads::Entity::update_many()
        .col_expr(uploads::Column::ExpiresAt, Expr::value(an_hour_ago))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(app.offset(&token, &upload).await.status(), 404, "expired is gone at once");
    assert_eq!(app.patch(&token, &upload, 2 * MIB, &[1; 10]).await.status(), 404);
    assert_eq!(domain::uploads::expire_abandoned(&app.state).await.unwrap(), 1);
    assert_eq!(app.stored_objects().await, 0, "temp bytes and multipart upload removed");
    app.start_upload(&token, "again.bin", 3 * MIB).await;
}

#[tokio::test]
async fn direct_uploads_send_parts_straight_to_s3() {
    let app = spawn_app_with(|config| {
        config.s3_direct_uploads = config.storage == domain::config::StorageKind::S3;
        config.s3_part_size = domain::config::ByteSize(8 << 20);
    })
    .await;
    if !app.config.s3_direct_uploads {
        return; // needs the S3 run of `make test`
    }
    let (_, token) = app.user_with_token("ada@example.com").await;
    let bytes = random_bytes(19 * MIB, 4);
    let created = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", bytes.len())
        .header("upload-metadata", metadata(&[("filename", "direct.bin")]))
        .header("pannier-direct-upload", "s3")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "pannier-direct-part-size"), (8 * MIB).to_string());
    let upload = header(&created, "location").trim_start_matches("/api/v1").to_owned();
    let patch = app.patch(&token, &upload, 0, &bytes[..10]).await;
    assert_eq!(patch.status(), 409, "direct uploads take no PATCH");

    let parts = format!("{upload}/parts");
    let mut step: serde_json::Value =
        app.api(Method::POST, &parts, &token).send().await.unwrap().json().await.unwrap();
    let mut sent = 0;
    while step["file"].is_null() {
        let next = &step["next"];
        let (start, end) = (next["start"].as_u64().unwrap(), next["end"].as_u64().unwrap());
        let url = next["url"].as_str().unwrap();
        assert!(!url.contains(&app.address), "the bytes do not pass through the app");
        let put = reqwest::Client::new()
            .put(url)
            .body(bytes[start as usize..end as usize].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{:?}", put.text().await);
        let etag = header(&put, "etag").to_owned();
        sent += 1;
        if sent == 2 {
            // Before the report, only the first part counts.
            let head = app.offset(&token, &upload).await;
            assert_eq!(header(&head, "upload-offset"), (8 * MIB).to_string());
        }
        let report = serde_json::json!({ "number": next["number"], "etag": etag });
        step = app
            .api(Method::POST, &parts, &token)
            .json(&report)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert_eq!(sent, 3);
    let file = step["file"]["id"].as_str().unwrap();
    assert_eq!(step["file"]["sha256"], domain::auth::hex(&Sha256::digest(&bytes)));
    assert_eq!(app.file_bytes(&token, file).await, bytes);
    assert_eq!(app.stored_objects().await, 1);
}

#[tokio::test]
async fn one_request_writes_at_a_time_and_a_cut_request_keeps_what_arrived() {
    use tokio::io::AsyncWriteExt;

    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let upload = app.start_upload(&token, "cut.bin", 16 * MIB).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "PATCH /api/v1{upload} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        16 * MIB
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![7; 3 * MIB]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let second = app.patch(&token, &upload, 0, &[1; 100]).await;
    assert_eq!(second.status(), 409, "the first request holds the upload");

    drop(stream);
    let mut offset = String::new();
    for _ in 0..50 {
        let head = app.offset(&token, &upload).await;
        offset = header(&head, "upload-offset").to_owned();
        if offset != "0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(offset, (3 * MIB).to_string(), "what arrived before the cut is kept");
    let rest = app.patch(&token, &upload, 3 * MIB, &vec![7; 13 * MIB]).await;
    assert_eq!(rest.status(), 204, "and the upload goes on at once");
    let file = header(&rest, "pannier-file-id").to_owned();
    assert_eq!(app.file_bytes(&token, &file).await, vec![7; 16 * MIB]);
}

#[tokio::test]
async fn a_direct_part_url_takes_only_the_declared_length() {
    let app = spawn_app_with(|config| {
        config.s3_direct_uploads = config.storage == domain::config::StorageKind::S3;
    })
    .await;
    if !app.config.s3_direct_uploads {
        return; // needs the S3 run of `make test`
    }
    let (_, token) = app.user_with_token("ada@example.com").await;
    let created = app
        .tus(Method::POST, "/uploads", &token)
        .header("upload-length", 1)
        .header("upload-metadata", metadata(&[("filename", "tiny.bin")]))
        .header("pannier-direct-upload", "s3")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let upload = header(&created, "location").trim_start_matches("/api/v1").to_owned();
    let parts = format!("{upload}/parts");
    let step: serde_json::Value =
        app.api(Method::POST, &parts, &token).send().await.unwrap().json().await.unwrap();
    let url = step["next"]["url"].as_str().unwrap().to_owned();
    assert!(url.to_lowercase().contains("content-length"), "the length is signed: {url}");
    // 5 MiB against 1 declared byte: refused with an error, or the connection cut mid-body.
    match reqwest::Client::new().put(&url).body(vec![9; 5 * MIB]).send().await {
        Ok(oversized) => assert!(oversized.status().is_client_error(), "{}", oversized.status()),
        Err(refused) => assert!(refused.is_request(), "{refused}"),
    }
    let exact = reqwest::Client::new().put(&url).body(vec![9]).send().await.unwrap();
    assert_eq!(exact.status(), 200);
    let report = serde_json::json!({ "number": 1, "etag": header(&exact, "etag") });
    let done = app.api(Method::POST, &parts, &token).json(&report).send().await.unwrap();
    let done: serde_json::Value = done.json().await.unwrap();
    assert_eq!(done["file"]["size"], 1);
    assert_eq!(app.stored_objects().await, 1);
}
