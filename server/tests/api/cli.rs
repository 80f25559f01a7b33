//! The `pannier` binary itself: help, configuration errors, migrate, serve + SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use crate::helpers::{built_site_root, fresh_database};

fn pannier() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pannier"));
    command.env_clear().env("PANNIER_LOG_LEVEL", "warn");
    command
}

#[test]
fn serve_help_documents_every_configuration_key() {
    let output = pannier().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for key in domain::config::KEYS {
        assert!(help.contains(key.env), "{} missing from serve --help", key.env);
        assert!(help.contains(key.toml), "TOML key {} missing", key.toml);
    }
}

#[test]
fn a_bad_configuration_names_the_key_and_exits_2() {
    let output =
        pannier().arg("serve").env("PANNIER_DATABASE_URL", "mysql://db/x").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PANNIER_DATABASE_URL"), "{stderr}");

    let output = pannier().args(["--config", "/no/such.toml", "serve"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such.toml"));
}

#[tokio::test]
async fn migrate_up_down_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let run = |args: &[&str]| {
        let output = pannier()
            .args(["migrate"])
            .args(args)
            .env("PANNIER_DATABASE_URL", url.expose_secret())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let status = run(&["status"]);
    assert!(status.contains("Pending") && status.contains("settings"), "{status}");
    let up = run(&["up"]);
    assert!(up.contains("Applied") && !up.contains("Pending"), "{up}");
    assert_eq!(run(&["up"]), up, "up twice changes nothing");
    let down = run(&["down"]);
    assert!(down.contains("Pending"), "{down}");
}

/// A running `pannier` (with `args`, logging JSON) and its log lines.
pub struct Served {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Its database.
    pub url: secrecy::SecretString,
    _dir: Option<tempfile::TempDir>,
}

impl Served {
    /// `pannier ARGS` on a fresh database and data dir of its own.
    async fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(dir.path()).await;
        let mut served = Self::launch(args, dir.path(), &url, &[]);
        served._dir = Some(dir);
        served
    }

    /// `pannier ARGS` on database `url` and data dir `dir` (several processes may share them),
    /// with `env` added.
    pub fn launch(
        args: &[&str],
        dir: &std::path::Path,
        url: &secrecy::SecretString,
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = pannier()
            .args(args)
            .env("PANNIER_LOG_FORMAT", "json")
            .env("PANNIER_LOG_LEVEL", "info")
            .env("PANNIER_BIND", "127.0.0.1:0")
            .env("PANNIER_DATA_DIR", dir)
            .env("PANNIER_DATABASE_URL", url.expose_secret())
            .env("PANNIER_SITE_ROOT", built_site_root())
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        Self { child, lines, url: url.clone(), _dir: None }
    }

    /// The next JSON log line that mentions `what`.
    pub fn next_json(&self, what: &str) -> serde_json::Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no log line for {what}"));
            let json: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            if line.contains(what) {
                return json;
            }
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(Instant::now() < deadline, "did not stop within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    /// A test that failed half-way leaves no server running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `pannier worker` runs what is queued (here by another process) and stops on SIGTERM;
/// `pannier jobs list` shows the queue.
#[tokio::test]
async fn a_worker_process_runs_queued_jobs_and_stops_on_sigterm() {
    let served = Served::start(&["worker"]).await;
    served.next_json("job workers running");
    let config = domain::config::Config {
        database_url: Some(served.url.clone()),
        ..domain::config::Config::default()
    };
    let db = domain::db::connect(&config).await.unwrap();
    let task = domain::jobs::Task::Previews { file: uuid::Uuid::new_v4() };
    domain::jobs::enqueue(&db, &task).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Done when only the recurring housekeeping waits: the job was taken and has finished
    // (`queued` drops as the worker claims it, `running` as it ends).
    loop {
        let counts = domain::jobs::counts(&db).await.unwrap();
        if counts.queued <= 1 && counts.running == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker ran the job within its poll: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = pannier()
        .args(["jobs", "list"])
        .env("PANNIER_DATABASE_URL", served.url.expose_secret())
        .output()
        .unwrap();
    assert!(listed.status.success());
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.starts_with("queued: 1, running: 0, dead: 0"), "the housekeeping: {listed}");
    assert!(listed.contains("housekeeping"), "{listed}");
    served.stop();
}

#[tokio::test]
async fn serve_logs_json_with_request_ids_and_stops_on_sigterm() {
    let served = Served::start(&["--log-format", "json", "serve"]).await;
    let addr = served.next_json("listening")["addr"].as_str().unwrap().to_owned();
    let response = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let logged = served.next_json(&request_id);
    assert_eq!(logged["span"]["request_id"], request_id.as_str());
    served.stop();
}

/// `cargo leptos watch` (`make dev`) starts the binary with no arguments: it must serve. On a
/// new instance it prints the one-time link that makes the admin.
#[tokio::test]
async fn without_a_subcommand_the_binary_serves_as_the_watch_loop_starts_it() {
    let served = Served::start(&[]).await;
    let setup = served.next_json("no account exists yet");
    assert!(setup["link"].as_str().unwrap().contains("/sign-up?setup="), "{setup}");
    let addr = served.next_json("listening")["addr"].as_str().unwrap().to_owned();
    let response = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    served.stop();
}

#[tokio::test]
async fn user_create_reset_password_and_token_create() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = pannier()
            .args(args)
            .env("PANNIER_DATABASE_URL", url.expose_secret())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let created = run(
        &["user", "create", "--email", "Root@Example.com", "--admin", "--password-stdin"],
        Some("a long admin passphrase\n"),
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("root@example.com (admin)"));

    let weak = run(
        &["user", "create", "--email", "weak@example.com", "--password-stdin"],
        Some("password\n"),
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("common"));

    let token = run(
        &["token", "create", "--email", "root@example.com", "--name", "backup", "--scope", "write"],
        None,
    );
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let secret = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("pnr_"), "{secret}");

    let config = domain::config::Config {
        database_url: Some(url.clone()),
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let db = domain::db::connect(&config).await.unwrap();
    let identity = domain::tokens::authenticate(&db, &secret).await.unwrap();
    assert_eq!(identity.user.email, "root@example.com");

    let reset = run(&["user", "reset-password", "--email", "root@example.com"], None);
    assert!(reset.status.success());
    let generated = String::from_utf8(reset.stdout).unwrap();
    let new_password =
        generated.lines().find_map(|l| l.strip_prefix("password: ")).unwrap().to_owned();
    let client = domain::auth::ClientInfo::default();
    let storage = domain::storage::BlobStore::from_config(&config).await.unwrap();
    let state = domain::state::AppState::new(config.clone(), db.clone(), storage);
    let user =
        domain::users::authenticate(&state, "root@example.com", new_password.into(), &client).await;
    assert!(user.is_ok());
    // This process cached the token above; another process's change reaches it through the
    // mark in the database, looked at every 100 ms.
    let mut revoked = false;
    for _ in 0..40 {
        if domain::tokens::authenticate(&db, &secret).await.is_err() {
            revoked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(revoked, "a reset from the command line revokes the account's tokens");

    let email = domain::account::EmailAddress::parse("root@example.com").unwrap();
    let quota_of =
        || async { domain::users::find_by_email(&db, &email).await.unwrap().unwrap().quota_bytes };
    let quota = run(&["user", "quota", "--email", "root@example.com", "--size", "2GiB"], None);
    assert!(quota.status.success(), "{}", String::from_utf8_lossy(&quota.stderr));
    assert_eq!(quota_of().await, Some(2 << 30));
    assert!(
        run(&["user", "quota", "--email", "root@example.com", "--size", "default"], None)
            .status
            .success()
    );
    assert_eq!(quota_of().await, None);
    let bad = run(&["user", "quota", "--email", "root@example.com", "--size", "lots"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--size"));
}

/// `kill -9` in the middle of a burst of uploads committed in batches: every upload that was
/// answered 201 is there with its bytes, no row lacks its bytes, and what was cut off left at
/// most bytes without a row (the uploads in flight), which `storage check` leaves to its grace
/// period and `--repair` removes.
#[tokio::test]
async fn a_kill_during_a_burst_of_uploads_leaves_no_row_without_its_bytes() {
    use sea_orm::EntityTrait;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let command = |args: &[&str]| {
        let mut command = pannier();
        command
            .args(args)
            .env("PANNIER_DATA_DIR", dir.path())
            .env("PANNIER_DATABASE_URL", url.expose_secret())
            .env("PANNIER_SITE_ROOT", built_site_root())
            .env("PANNIER_RATE_UPLOADS", "0")
            .env("PANNIER_RATE_REQUESTS", "0");
        command
    };
    let mut create = command(&["user", "create", "--email", "ada@example.com", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"a long enough passphrase\n").unwrap();
    assert!(create.wait().unwrap().success());
    let token = command(&["token", "create", "--email", "ada@example.com", "--name", "t"])
        .args(["--scope", "write"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let mut server = command(&["serve"])
        .env("PANNIER_BIND", "127.0.0.1:0")
        .env("PANNIER_LOG_FORMAT", "json")
        .env("PANNIER_LOG_LEVEL", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its log is read to the end (a closed pipe would end it), the address from it first.
    let (addr_tx, addr) = std::sync::mpsc::channel();
    let stderr = server.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(addr) = json["addr"].as_str() {
                let _ = addr_tx.send(addr.to_owned());
            }
        }
    });
    let addr = addr.recv_timeout(Duration::from_secs(30)).expect("a listening line");

    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let (addr, token, answered) = (addr.clone(), token.clone(), answered.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for n in 0.. {
                    let url = format!("http://{addr}/api/v1/files?name=c{client}-{n}.bin");
                    let sent = http.put(url).bearer_auth(&token).body(vec![7u8; 4096]).send();
                    let Ok(response) = sent.await else { break };
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(file) = response.json::<serde_json::Value>().await else { break };
                    answered.lock().unwrap().push(file["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() > 16, "the burst got going ({} uploads)", answered.len());

    let check = command(&["storage", "check"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let config = domain::config::Config {
        database_url: Some(url.clone()),
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let db = domain::db::connect(&config).await.unwrap();
    let storage = domain::storage::BlobStore::from_config(&config).await.unwrap();
    let state = domain::state::AppState::new(config, db, storage);
    let report = domain::files::check_storage(&state, false, Duration::ZERO).await.unwrap();
    assert!(report.missing.is_empty(), "rows without bytes: {:?}", report.missing);
    assert!(report.orphans.len() <= 16, "only uploads in flight: {:?}", report.orphans);
    for id in &answered {
        let id = uuid::Uuid::parse_str(id).unwrap();
        let row = domain::entities::files::Entity::find_by_id(id).one(&state.db).await.unwrap();
        assert!(row.is_some(), "an upload answered 201 is there after the kill");
    }
    // Rows whose answer the kill cut off are there too (with their bytes).
    assert!(report.objects >= answered.len() + report.orphans.len());
}
