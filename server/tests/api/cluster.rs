//! Scale-out: instances that share PostgreSQL, Redis and a read replica. Run by
//! `scripts/with-services.sh` (which starts them); skipped without `TEST_REDIS_URL` /
//! `TEST_DATABASE_READ_URL`.

use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::cli::Served;
use crate::helpers::{fresh_database, spawn_app_with, user_with_token};

/// Two `pannier serve` processes on one database and one Redis: what one writes, the other's
/// caches drop at once (not after their 5 s TTL), and a rate limit spent on one is spent on
/// the other.
#[tokio::test]
async fn instances_sharing_redis_see_each_others_writes_and_share_limits() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL not set: skipped (scripts/with-services.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let env = [
        ("PANNIER_REDIS_URL", redis.as_str()),
        ("PANNIER_WORKERS", "0"),
        ("PANNIER_RATE_REQUESTS", "40"),
    ];
    let a = Served::launch(&["serve"], dir.path(), &url, &env);
    let a_url = format!("http://{}", a.next_json("listening")["addr"].as_str().unwrap());
    let b = Served::launch(&["serve"], dir.path(), &url, &env);
    let b_url = format!("http://{}", b.next_json("listening")["addr"].as_str().unwrap());
    b.next_json("listening for other instances' changes");
    let db = Database::connect(url.expose_secret()).await.unwrap();
    let (_, token) = user_with_token(&db, "ada@example.com").await;
    let client = reqwest::Client::new();
    let api = |base: &str, method: Method, path: &str| {
        client.request(method, format!("{base}/api/v1{path}")).bearer_auth(&token)
    };
    let names = |listing: Value| -> Vec<String> {
        let folders = listing["folders"].as_array();
        folders
            .unwrap_or_else(|| {
                panic!("not a listing (rate limited while B served stale?): {listing}")
            })
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };

    // B reads (and caches) the root; A adds a folder; B shows it at once.
    for _ in 0..2 {
        let before = api(&b_url, Method::GET, "/folders/root").send().await.unwrap();
        assert!(names(before.json().await.unwrap()).is_empty());
    }
    let made = api(&a_url, Method::POST, "/folders")
        .json(&json!({"name": "made-on-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let seen = within(Duration::from_secs(1), || async {
        let listing = api(&b_url, Method::GET, "/folders/root").send().await.unwrap();
        names(listing.json().await.unwrap()).contains(&"made-on-a".to_owned())
    })
    .await;
    assert!(seen, "B still served its cached listing (no invalidation across instances)");

    // A link's page, cached on B, is gone on B as soon as A revokes the link.
    let folder = made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let share = api(&a_url, Method::POST, "/shares")
        .json(&json!({"folder_id": folder}))
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), 201);
    let share: Value = share.json().await.unwrap();
    let page = format!("{b_url}/s/{}", share["slug"].as_str().unwrap());
    assert_eq!(client.get(&page).send().await.unwrap().status(), 200);
    assert_eq!(client.get(&page).send().await.unwrap().status(), 200, "now cached on B");
    let revoked =
        api(&a_url, Method::DELETE, &format!("/shares/{}", share["id"].as_str().unwrap()));
    assert!(revoked.send().await.unwrap().status().is_success());
    let gone = within(Duration::from_secs(1), || async {
        client.get(&page).send().await.unwrap().status() != 200
    })
    .await;
    assert!(gone, "B still served a revoked link's page");

    // One budget of 40 requests for the account, wherever they land.
    let mut answers = Vec::new();
    for i in 0..60 {
        let base = if i % 2 == 0 { &a_url } else { &b_url };
        answers.push(api(base, Method::GET, "/me").send().await.unwrap().status().as_u16());
    }
    // Counted alone, each instance would allow its 30 (and the few above): none refused.
    let refused = answers.iter().filter(|status| **status == 429).count();
    assert!(answers.iter().all(|status| [200, 429].contains(status)), "{answers:?}");
    assert!(refused >= 15, "each instance counted alone: {answers:?}");
    a.stop();
    b.stop();
}

/// Reads go to the replica; a person's own writes show at once (their reads go to the
/// primary for a few seconds); a replica that falls behind is not read from until it catches
/// up; `/readyz` says so and stays ready.
#[tokio::test]
async fn reads_go_to_the_replica_but_people_see_their_own_writes() {
    let Ok(replica_server) = std::env::var("TEST_DATABASE_READ_URL") else {
        eprintln!("TEST_DATABASE_READ_URL not set: skipped (scripts/with-services.sh sets it)");
        return;
    };
    let mut replica_url = String::new();
    let app = spawn_app_with(|config| {
        let primary = config.database_url.as_ref().unwrap().expose_secret().to_owned();
        let (server, _) = replica_server.rsplit_once('/').unwrap();
        replica_url = format!("{server}/{}", primary.rsplit('/').next().unwrap());
        config.database_read_url = Some(SecretString::from(replica_url.clone()));
        config.replica_max_lag_secs = 3;
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let old = app.create_folder(&token, None, "old").await;
    let replica = connect_when_replicated(&replica_url, &old).await;
    let root_names = || async {
        let listing = app.api(Method::GET, "/folders/root", &token).send().await.unwrap();
        assert_eq!(listing.status(), 200);
        let listing: Value = listing.json().await.unwrap();
        let mut names: Vec<String> = listing["folders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    // Past the read-your-writes window: this account's reads go to the replica again.
    tokio::time::sleep(domain::cache::READ_YOUR_WRITES + Duration::from_millis(300)).await;

    let _paused = Paused::new(&replica).await;
    // A change the replica does not replay (written behind the app's back, so nothing here
    // knows the account wrote): the listing, from the replica, does not show it yet.
    let renamed = format!("UPDATE folders SET name = 'renamed' WHERE id = '{old}'");
    app.db.execute_unprepared(&renamed).await.unwrap();
    assert_eq!(root_names().await, ["old"], "read from the (paused) replica");

    // The account's own write: its next read is from the primary and shows everything.
    app.create_folder(&token, None, "new").await;
    assert_eq!(root_names().await, ["new", "renamed"], "people see their own writes");

    // Past the window again, the replica is behind by more than 3 s: reads stay on the primary.
    tokio::time::sleep(domain::cache::READ_YOUR_WRITES + Duration::from_millis(300)).await;
    assert_eq!(root_names().await, ["new", "renamed"], "a lagging replica is not read");
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ok", "{ready}");
    assert_eq!(ready["checks"]["replica"]["breaker"], "open", "{ready}");

    drop(_paused);
    let caught_up = within(Duration::from_secs(5), || async {
        let ready: Value = app.get("/readyz").await.json().await.unwrap();
        ready["checks"]["replica"]["status"] == "ok"
    })
    .await;
    assert!(caught_up, "the replica is read from again once it caught up");
}

/// Whether `check` turns true within `limit` (tried every 20 ms).
async fn within<F, Fut>(limit: Duration, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The replica's connection, once it replayed folder `id`.
async fn connect_when_replicated(url: &str, id: &str) -> DatabaseConnection {
    let started = Instant::now();
    loop {
        if let Ok(replica) = Database::connect(url).await {
            let sql = format!("SELECT 1 FROM folders WHERE id = '{id}'");
            if let Ok(Some(_)) = replica
                .query_one_raw(sea_orm::Statement::from_string(replica.get_database_backend(), sql))
                .await
            {
                return replica;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the replica never replayed it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The replica's replay, paused until dropped (even when the test fails: other tests
/// share the replica).
struct Paused {
    url: String,
}

impl Paused {
    async fn new(replica: &DatabaseConnection) -> Self {
        replica.execute_unprepared("SELECT pg_wal_replay_pause()").await.unwrap();
        let url = std::env::var("TEST_DATABASE_READ_URL").unwrap();
        Self { url }
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let url = self.url.clone();
        let resumed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let replica = Database::connect(&url).await.unwrap();
                replica.execute_unprepared("SELECT pg_wal_replay_resume()").await.unwrap();
            });
        });
        let _ = resumed.join();
    }
}
