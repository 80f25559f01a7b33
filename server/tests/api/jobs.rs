//! The job queue on the test's database (SQLite, or PostgreSQL under `make test`): jobs commit
//! with the change that causes them, two workers never run one job twice, a dead worker's job
//! runs again once its lease ran out, failures back off and end dead (an admin retries or
//! cancels), and recurring jobs run once for two instances.

use chrono::Utc;
use domain::entities::jobs;
use domain::jobs::{JobCounts, Task};
use domain::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

/// A second instance on the same database and storage (its own pool).
async fn second_instance(app: &TestApp) -> AppState {
    let db = domain::db::connect(&app.config).await.unwrap();
    let storage = domain::storage::BlobStore::from_config(&app.config).await.unwrap();
    AppState::new(app.config.clone(), db, storage)
}

async fn previews_jobs(app: &TestApp) -> Vec<jobs::Model> {
    jobs::Entity::find().filter(jobs::Column::Kind.eq("previews")).all(&app.db).await.unwrap()
}

/// A small PNG (previews are queued for it).
fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(40, 30, image::Rgb([10, 120, 200]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn a_job_commits_with_its_file_or_not_at_all() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    let (user, token) = app.user_with_token("ada@example.com").await;
    // Rolled back with the transaction it was queued in.
    let txn = app.db.begin().await.unwrap();
    domain::jobs::enqueue(&txn, &Task::Previews { file: Uuid::new_v4() }).await.unwrap();
    txn.rollback().await.unwrap();
    assert!(previews_jobs(&app).await.is_empty());

    // Two uploads racing for the last of a quota: one commits with its job, the other's row
    // and job roll back together at the commit's quota check.
    let picture = png();
    domain::files::set_quota(
        &app.db,
        &user,
        domain::files::QuotaSetting::Bytes(picture.len() as u64 * 3 / 2),
    )
    .await
    .unwrap();
    let (first, second) = tokio::join!(
        app.put_file(&token, None, "a.png", picture.clone()),
        app.put_file(&token, None, "b.png", picture.clone()),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 413]);
    let files: Vec<_> = domain::entities::files::Entity::find().all(&app.db).await.unwrap();
    let queued = previews_jobs(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].payload, format!(r#"{{"kind":"previews","file":"{}"}}"#, files[0].id));
}

#[tokio::test]
async fn two_workers_never_run_one_job_twice() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    domain::jobs::schedule_recurring(&app.db).await.unwrap(); // due now: one drain runs it
    for _ in 0..60 {
        // Previews of files that do not exist: each run is quick and does nothing.
        domain::jobs::enqueue(&app.db, &Task::Previews { file: Uuid::new_v4() }).await.unwrap();
    }
    let other = second_instance(&app).await;
    let (one, two) = tokio::join!(domain::jobs::drain(&app.state), domain::jobs::drain(&other));
    let (one, two) = (one.unwrap(), two.unwrap());
    let housekeeping = count_housekeeping_runs(&app).await;
    let previews = one.ran + two.ran - housekeeping;
    assert_eq!(previews, 60, "each job ran once: {one:?} + {two:?}, housekeeping {housekeeping}");
    // (Each drain's own count may see the other's last job still running.)
    assert_eq!(
        domain::jobs::counts(&app.db).await.unwrap(),
        JobCounts { queued: 1, ..JobCounts::default() }
    );
    assert!(previews_jobs(&app).await.is_empty());
}

/// The housekeeping ran once (it is due when an instance starts), or not at all yet.
async fn count_housekeeping_runs(app: &TestApp) -> usize {
    let housekeeping = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq("housekeeping"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    usize::from(housekeeping.run_after > Utc::now())
}

#[tokio::test]
async fn a_dead_workers_job_runs_again_once_its_lease_ran_out() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    domain::jobs::enqueue(&app.db, &Task::Previews { file: Uuid::new_v4() }).await.unwrap();
    // What a worker killed mid-job leaves: running, under a lease that has not run out yet.
    let lease = |until: chrono::DateTime<Utc>| {
        jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::value("running"))
            .col_expr(jobs::Column::Attempts, Expr::value(1))
            .col_expr(jobs::Column::LeaseToken, Expr::value(Uuid::new_v4()))
            .col_expr(jobs::Column::LeaseUntil, Expr::value(until))
            .filter(jobs::Column::Kind.eq("previews"))
            .exec(&app.db)
    };
    lease(Utc::now() + chrono::Duration::minutes(1)).await.unwrap();
    let drained = domain::jobs::drain(&app.state).await.unwrap();
    assert_eq!(drained.left.running, 1, "a job under a live lease is left to its worker");
    assert_eq!(previews_jobs(&app).await.len(), 1);
    // Its lease ran out: the next worker takes it over.
    lease(Utc::now() - chrono::Duration::seconds(1)).await.unwrap();
    domain::jobs::drain(&app.state).await.unwrap();
    assert!(previews_jobs(&app).await.is_empty(), "run again and done");
}

#[tokio::test]
async fn failures_back_off_then_the_job_is_dead_until_an_admin_retries_it() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let created = app.put_file(&token, None, "lost.png", png()).await;
    assert_eq!(created.status(), 201);
    let file: serde_json::Value = created.json().await.unwrap();
    // Its bytes vanish behind the app's back: reading them fails, every attempt.
    let row = domain::entities::files::Entity::find().one(&app.db).await.unwrap().unwrap();
    let key = domain::storage::BlobKey::from_stored(&row.blob_key).unwrap();
    app.state.storage.delete(&key).await.unwrap();

    let mut errors = Vec::new();
    for attempt in 1..=3 {
        domain::jobs::drain(&app.state).await.unwrap();
        let job = previews_jobs(&app).await.pop().expect("the job is kept");
        assert_eq!(job.attempts, attempt);
        errors.push(job.last_error.clone().expect("its error"));
        if attempt < 3 {
            assert_eq!(job.state, "queued");
            let wait = (job.run_after - Utc::now()).num_milliseconds();
            let base = 10_000 * (1 << (attempt - 1));
            assert!(wait > base / 2 - 1000 && wait < base * 3 / 2, "backoff {wait} ms");
            // Time passes.
            jobs::Entity::update_many()
                .col_expr(jobs::Column::RunAfter, Expr::value(Utc::now()))
                .exec(&app.db)
                .await
                .unwrap();
        } else {
            assert_eq!(job.state, "dead", "out of attempts");
        }
    }
    let listed = domain::jobs::list(&app.db, Some("dead"), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    let id = listed[0].id;
    assert_eq!(domain::jobs::counts(&app.db).await.unwrap().dead, 1);

    domain::jobs::retry(&app.db, id).await.unwrap();
    let job = previews_jobs(&app).await.pop().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
    domain::jobs::cancel(&app.db, id).await.unwrap();
    assert!(previews_jobs(&app).await.is_empty());
    let gone = domain::jobs::cancel(&app.db, id).await.unwrap_err();
    assert!(matches!(gone, domain::AppError::NotFound(_)), "{gone:?}");
    // The row without its bytes goes too (the end check wants storage and rows to agree).
    let deleted = app
        .api(reqwest::Method::DELETE, &format!("/files/{}", file["id"].as_str().unwrap()), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(errors.iter().all(|error| !error.is_empty()));
}

#[tokio::test]
async fn recurring_jobs_run_once_for_two_instances() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    let other = second_instance(&app).await;
    domain::jobs::schedule_recurring(&other.db).await.unwrap();
    domain::jobs::schedule_recurring(&app.db).await.unwrap();
    let housekeeping = jobs::Entity::find().filter(jobs::Column::Kind.eq("housekeeping"));
    assert_eq!(housekeeping.clone().count(&app.db).await.unwrap(), 1, "one row for the cluster");
    let (one, two) = tokio::join!(domain::jobs::drain(&app.state), domain::jobs::drain(&other));
    assert_eq!(one.unwrap().ran + two.unwrap().ran, 1, "the housekeeping ran once");
    let next = housekeeping.one(&app.db).await.unwrap().unwrap();
    assert_eq!(next.state, "queued");
    let when = next.run_after;
    assert!(when > Utc::now() + chrono::Duration::minutes(59), "next in an hour: {next:?}");
    // Both instances keep it that way, whoever asks again.
    domain::jobs::schedule_recurring(&other.db).await.unwrap();
    let drained = domain::jobs::drain(&other).await.unwrap();
    assert_eq!(drained.ran, 0);
}

#[tokio::test]
async fn admins_see_dead_jobs_and_retry_or_delete_them_others_cannot() {
    let app = spawn_app_with(|config| config.workers = 0).await;
    let admin = crate::helpers::browser();
    assert!(
        app.sign_up(&admin, "root@example.com", "correct horse battery")
            .await
            .status()
            .is_success()
    );
    let bob = crate::helpers::browser();
    assert!(
        app.sign_up(&bob, "bob@example.com", "correct horse battery").await.status().is_success()
    );
    domain::jobs::enqueue(&app.db, &Task::Previews { file: Uuid::new_v4() }).await.unwrap();
    jobs::Entity::update_many()
        .col_expr(jobs::Column::State, Expr::value("dead"))
        .col_expr(jobs::Column::Attempts, Expr::value(3))
        .col_expr(jobs::Column::LastError, Expr::value("storage unavailable: <b>tried 3 times</b>"))
        .filter(jobs::Column::Kind.eq("previews"))
        .exec(&app.db)
        .await
        .unwrap();
    let id = previews_jobs(&app).await[0].id.to_string();

    let page = admin.get(format!("{}/admin", app.address)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Dead: 1"), "counts by state");
    assert!(
        page.contains("storage unavailable: &lt;b&gt;tried 3 times&lt;/b&gt;"),
        "the error, escaped"
    );
    for endpoint in ["retry_job", "delete_job", "make_missing_previews"] {
        let refused = app.call(&bob, endpoint, &[("id", &id)]).await;
        assert_eq!(refused.status(), 403, "{endpoint} is for admins");
    }
    let malformed = app.call(&admin, "retry_job", &[("id", "not-a-job")]).await;
    assert_eq!(malformed.status(), 400);
    let retried = app.call(&admin, "retry_job", &[("id", &id)]).await;
    assert!(retried.status().is_success() || retried.status().is_redirection());
    let job = previews_jobs(&app).await.pop().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
    let deleted = app.call(&admin, "delete_job", &[("id", &id)]).await;
    assert!(deleted.status().is_success() || deleted.status().is_redirection());
    assert!(previews_jobs(&app).await.is_empty());
    let again = app.call(&admin, "delete_job", &[("id", &id)]).await;
    assert_eq!(again.status(), 404);
}
