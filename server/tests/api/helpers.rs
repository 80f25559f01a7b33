//! `spawn_app`: one fresh application per test, like production but on port 0.

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Once};

use domain::config::Config;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use server::startup::Application;
use tempfile::TempDir;
use tokio::sync::oneshot;

use crate::services::PrivateS3;

/// The site cargo-leptos built (`make test` builds it before running these tests).
pub fn built_site_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site")
}

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT/metrics` (each app has a metrics listener on a port of its own).
    pub metrics_url: Option<String>,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    /// The application's own database pool (not a second connection).
    pub db: DatabaseConnection,
    /// Stops the server (graceful shutdown) when sent.
    pub stop: Option<oneshot::Sender<()>>,
    /// Resolves when the server has stopped.
    pub stopped: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The configuration the app runs with.
    pub config: Config,
    /// The application's state (to run its services directly, e.g. the janitor's work).
    pub state: domain::state::AppState,
    /// Checks storage and rows agree when the test ends (declared before what it reads).
    pub end_check: EndCheck,
    data_dir: TempDir,
    s3: Option<PrivateS3>,
}

/// The end-of-test check (the crates.io habit): when a test that passed drops its app, the
/// job queue is drained (every job due runs) and none may be left due or dead, no deletion may
/// be left queued, no stored object may lack its row and no row its object.
/// It reads through connections of its own, on a thread of its own, so it works whatever
/// runtime the test used. A test that leaves a mess on purpose (a simulated crash) says so
/// with [`EndCheck::skip`].
pub struct EndCheck {
    config: Option<Config>,
}

impl EndCheck {
    /// Leaves the state as it is at the end (the test checks it its own way).
    pub fn skip(&mut self) {
        self.config = None;
    }
}

impl Drop for EndCheck {
    fn drop(&mut self) {
        let Some(config) = self.config.take() else { return };
        if std::thread::panicking() {
            return;
        }
        let checked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async move {
                use sea_orm::{EntityTrait, PaginatorTrait};
                let db = domain::db::connect(&config).await.expect("the test's database");
                let storage =
                    domain::storage::BlobStore::from_config(&config).await.expect("its store");
                let state = domain::state::AppState::new(config, db, storage);
                let drained = domain::jobs::drain(&state).await.expect("the queue drains");
                let left = drained.left;
                assert_eq!((left.queued, left.dead), (0, 0), "jobs left due or dead: {left:?}");
                let queued = domain::entities::blob_deletions::Entity::find().count(&state.db);
                assert_eq!(queued.await.expect("count"), 0, "deletions left queued");
                let report = domain::files::check_storage(&state, false, Default::default());
                let report = report.await.expect("a storage check");
                assert!(report.is_consistent(), "storage and rows disagree: {report:?}");
            });
        });
        if let Err(failure) = checked.join() {
            std::panic::resume_unwind(failure);
        }
    }
}

/// An S3 server (s3s-fs) of one test's own, so what it counts is its own.
/// A client that keeps cookies (a browser), not following redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    /// POSTs a form to server fn `endpoint` as a page with JavaScript would (JSON answer),
    /// from this app's origin.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{endpoint}", self.address))
            .header("origin", &self.address)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request failed")
    }

    /// Signs up through the server fn with `client`, which then holds the session. The first
    /// account of an instance signs up with a setup token (and becomes its admin).
    pub async fn sign_up(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let setup = domain::setup::issue(&self.db).await.unwrap().unwrap_or_default();
        self.call(
            client,
            "sign_up",
            &[
                ("email", email),
                ("display_name", "Test Person"),
                ("password", password),
                ("setup", &setup),
            ],
        )
        .await
    }

    /// GET `path` on the app.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request failed")
    }
}

static LOGGING: Once = Once::new();

/// Spawns the app on the built site.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after `customize` adjusts the configuration.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    spawn(customize, false).await
}

async fn spawn(customize: impl FnOnce(&mut Config), own_s3: bool) -> TestApp {
    LOGGING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            server::telemetry::init(domain::config::LogFormat::Pretty, "debug");
        }
    });
    install_hash_file();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        bind: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some(fresh_database(data_dir.path()).await),
        site_root: built_site_root(),
        metrics_bind: "127.0.0.1:0".into(),
        ..Config::default()
    };
    let s3 = if own_s3 {
        Some(use_private_s3(&mut config, "outage-test", "outage-test-secret").await)
    } else {
        use_test_s3(&mut config).await
    };
    customize(&mut config);
    start(config, data_dir, s3).await
}

async fn start(config: Config, data_dir: TempDir, s3: Option<PrivateS3>) -> TestApp {
    let app = Application::build(config.clone()).await.expect("application builds");
    // A new instance is invite-only; most tests sign up several accounts of their own.
    let mode = domain::account::RegistrationMode::Open.as_str();
    domain::settings::set(&app.state().db, domain::settings::REGISTRATION_MODE, mode)
        .await
        .expect("open registration");
    let address = format!("http://{}", app.local_addr().expect("bound"));
    let metrics_url = app.metrics_addr().map(|address| format!("http://{address}/metrics"));
    let state = app.state().clone();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let stopped = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));
    TestApp {
        address,
        metrics_url,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db: state.db.clone(),
        stop: Some(stop),
        stopped: Some(stopped),
        end_check: EndCheck { config: Some(config.clone()) },
        config,
        state,
        data_dir,
        s3,
    }
}

impl TestApp {
    /// Stops the server (as a crash would: in-flight requests are cut) and starts it again on
    /// the same database, data dir and S3 server, on a new port.
    pub async fn restart(mut self) -> TestApp {
        self.end_check.skip(); // the new instance checks at the end
        if let Some(stopped) = self.stopped.take() {
            stopped.abort();
            let _ = stopped.await;
        }
        let mut config = self.config.clone();
        config.public_url = None;
        let (data_dir, s3) = (self.data_dir, self.s3.take());
        start(config, data_dir, s3).await
    }
}

/// An account with a write token on `db`: `(user, "pnr_…")`.
pub async fn user_with_token(
    db: &DatabaseConnection,
    email: &str,
) -> (domain::entities::users::Model, String) {
    let user = domain::users::create(
        db,
        &domain::account::EmailAddress::parse(email).unwrap(),
        &domain::account::DisplayName::parse("Test Person").unwrap(),
        SecretString::from("correct horse battery staple"),
        domain::account::Role::User,
    )
    .await
    .unwrap();
    let token = domain::tokens::create(
        db,
        &user,
        "tests",
        domain::account::TokenScope::Write,
        None,
        &domain::auth::ClientInfo::default(),
    )
    .await
    .unwrap();
    (user, token.secret)
}

/// A database no other test uses: a SQLite file in `dir`, or a new PostgreSQL database on the
/// server named by `TEST_DATABASE_URL`.
pub async fn fresh_database(dir: &Path) -> SecretString {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return SecretString::from(format!("sqlite://{}", dir.join("pannier.db").display()));
    };
    let name = format!("pannier_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("TEST_DATABASE_URL reachable");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let (server, _) = admin_url.rsplit_once('/').expect("URL has a database path");
    SecretString::from(format!("{server}/{name}"))
}

/// Leptos reads `hash.txt` (asset names) from beside the running executable; copy the one
/// cargo-leptos wrote beside the release server into this test binary's directory.
fn install_hash_file() {
    static INSTALLED: LazyLock<()> = LazyLock::new(|| {
        let exe = std::env::current_exe().expect("current exe");
        let deps = exe.parent().expect("exe dir");
        // <target>/<profile>/deps/<test exe>  →  <target>/release/hash.txt
        let built = deps.join("../../release/hash.txt");
        if built.is_file() {
            std::fs::copy(&built, deps.join("hash.txt")).expect("copy hash.txt");
        }
    });
    LazyLock::force(&INSTALLED);
}

/// The first `attr="…"` value in `html` that starts with `prefix`.
pub fn find_asset(html: &str, prefix: &str, suffix: &str) -> Option<String> {
    html.match_indices(prefix).find_map(|(start, _)| {
        let rest = &html[start..];
        let end = rest.find('"')?;
        let url = &rest[..end];
        url.ends_with(suffix).then(|| url.to_string())
    })
}

/// With `TEST_S3_ENDPOINT` set (`make test` starts s3s-fs), the app stores files in a new
/// bucket on an S3 server of this test's own (s3s-fs, started here), so counts of objects and
/// unfinished multipart uploads see only this test's; otherwise on local disk in its data dir.
async fn use_test_s3(config: &mut Config) -> Option<PrivateS3> {
    std::env::var("TEST_S3_ENDPOINT").ok()?;
    let access_key = std::env::var("TEST_S3_ACCESS_KEY").expect("TEST_S3_ACCESS_KEY");
    let secret_key = std::env::var("TEST_S3_SECRET_KEY").expect("TEST_S3_SECRET_KEY");
    Some(use_private_s3(config, &access_key, &secret_key).await)
}

/// Starts an S3 server of the test's own and points `config` at a new bucket on it.
async fn use_private_s3(config: &mut Config, access_key: &str, secret_key: &str) -> PrivateS3 {
    let s3 = PrivateS3::start(access_key, secret_key).await;
    let bucket = format!("pannier-test-{}", uuid::Uuid::new_v4().simple());
    config.storage = domain::config::StorageKind::S3;
    config.s3_endpoint = Some(s3.endpoint());
    config.s3_bucket = Some(bucket.clone());
    config.s3_path_style = true;
    config.s3_access_key = Some(access_key.to_owned());
    config.s3_secret_key = Some(SecretString::from(secret_key.to_owned()));
    s3_client(config).await.create_bucket().bucket(bucket).send().await.expect("create bucket");
    s3
}

/// Spawns the app on an S3 server of the test's own, whatever the environment (for tests
/// that stop it and start it again: [`TestApp::s3`]).
pub async fn spawn_app_on_own_s3() -> TestApp {
    spawn(|_| {}, true).await
}

/// An S3 client for the test server, as the app configures its own.
pub async fn s3_client(config: &Config) -> aws_sdk_s3::Client {
    use secrecy::ExposeSecret;
    let credentials = aws_sdk_s3::config::Credentials::new(
        config.s3_access_key.clone().expect("access key"),
        config.s3_secret_key.as_ref().expect("secret key").expose_secret(),
        None,
        None,
        "test",
    );
    let s3 = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(config.s3_region.clone()))
        .endpoint_url(config.s3_endpoint.clone().expect("endpoint"))
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

impl TestApp {
    /// An account with a write token: `(user, "pnr_…")`.
    pub async fn user_with_token(&self, email: &str) -> (domain::entities::users::Model, String) {
        user_with_token(&self.db, email).await
    }

    /// `method` `path` on the API with a bearer token.
    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}/api/v1{path}", self.address)).bearer_auth(token)
    }

    /// Runs every job that is due (for an app without workers); none may be left or dead.
    pub async fn run_jobs(&self) {
        let drained = domain::jobs::drain(&self.state).await.unwrap();
        assert_eq!((drained.left.queued, drained.left.dead), (0, 0), "{drained:?}");
    }

    /// Creates folder `name` in `parent` (root when `None`) through the API; its id.
    pub async fn create_folder(&self, token: &str, parent: Option<&str>, name: &str) -> String {
        let response = self
            .api(reqwest::Method::POST, "/folders", token)
            .json(&serde_json::json!({ "parent_id": parent, "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /api/v1{path}` with a bearer token, as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        self.api(reqwest::Method::GET, path, token).send().await.unwrap().json().await.unwrap()
    }

    /// Uploads `bytes` as `name` into `folder` (root when `None`) with a raw PUT.
    pub async fn put_file(
        &self,
        token: &str,
        folder: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let mut query = vec![("name", name)];
        if let Some(folder) = folder {
            query.push(("folder_id", folder));
        }
        self.api(reqwest::Method::PUT, "/files", token)
            .query(&query)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Objects in storage, finished or partial: files under the data dir's `blobs/`, `avatars/`,
    /// `tmp/`, `uploads/` and thumbnails' and the live objects in its packs, or the bucket's
    /// objects plus its unfinished multipart uploads.
    pub async fn stored_objects(&self) -> usize {
        if self.config.storage == domain::config::StorageKind::S3 {
            let client = s3_client(&self.config).await;
            let bucket = self.config.s3_bucket.clone().unwrap();
            let objects = client.list_objects_v2().bucket(&bucket).send().await.unwrap();
            return objects.contents().len() + self.unfinished_s3_uploads();
        }
        let mut count = self.state.storage.list("packed").await.unwrap().len();
        let mut dirs = ["blobs", "avatars", "tmp", "uploads", "thumbs-small", "thumbs-large"]
            .map(|dir| self.data_dir.path().join(dir))
            .to_vec();
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                if entry.file_type().unwrap().is_dir() {
                    dirs.push(entry.path());
                } else {
                    count += 1;
                }
            }
        }
        count
    }

    /// Unfinished multipart uploads on this test's S3 server (s3s-fs cannot list them over the
    /// API; it keeps one `.upload-<id>.json` per upload in its root directory).
    /// The app's own S3 server, to stop and start again (see [`spawn_app_on_own_s3`]).
    pub fn s3(&mut self) -> &mut PrivateS3 {
        self.s3.as_mut().expect("the app runs on an S3 server of its own")
    }

    pub fn unfinished_s3_uploads(&self) -> usize {
        let Some(s3) = &self.s3 else { return 0 };
        std::fs::read_dir(s3.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
            .count()
    }
}

/// A PDF of one page drawn by `content` (PDF operators; text in Helvetica as `/F1`), its offsets
/// computed as a writer would.
pub fn pdf(content: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{object}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
