//! The admin's accounts page over HTTP: the list with storage, search and pages; role, quota,
//! turning an account off and on, deleting one, and password reset links — each for admins
//! only, each refused cleanly on bad input with nothing changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, browser, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// The app with its admin signed in (`ada@example.com`) in the returned browser.
async fn with_admin() -> (TestApp, reqwest::Client) {
    let app = spawn_app().await;
    let admin = browser();
    let signed_up = app.sign_up(&admin, "ada@example.com", PASSWORD).await;
    assert!(signed_up.status().is_success() || signed_up.status().is_redirection());
    (app, admin)
}

impl TestApp {
    /// The accounts page's data as `client` gets it (the status, and the JSON on success).
    async fn accounts(&self, client: &reqwest::Client, q: &str) -> (StatusCode, Value) {
        let response = self.call(client, "admin_accounts", &[("q", q)]).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A browser signed in as `email`.
    async fn signed_in(&self, email: &str) -> reqwest::Client {
        let client = browser();
        let response =
            self.call(&client, "sign_in", &[("email", email), ("password", PASSWORD)]).await;
        assert!(
            response.status().is_redirection() || response.status().is_success(),
            "{}",
            response.status()
        );
        client
    }
}

fn emails(page: &Value) -> Vec<&str> {
    page["page"]["rows"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect()
}

fn row<'a>(page: &'a Value, email: &str) -> &'a Value {
    page["page"]["rows"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap()
}

fn ok(response: &reqwest::Response) -> bool {
    response.status().is_success() || response.status().is_redirection()
}

#[tokio::test]
async fn the_admin_sees_every_account_with_its_storage_and_searches_them() {
    let (app, admin) = with_admin().await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    app.user_with_token("carol_x@example.com").await;
    for (name, bytes) in [("a.txt", 5), ("b.txt", 7)] {
        assert_eq!(app.put_file(&bob, None, name, vec![b'x'; bytes]).await.status(), 201);
    }

    let (status, page) = app.accounts(&admin, "").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(emails(&page), ["ada@example.com", "bob@example.com", "carol_x@example.com"]);
    let bob_row = row(&page, "bob@example.com");
    assert_eq!((bob_row["used"].as_u64(), bob_row["files"].as_u64()), (Some(12), Some(2)));
    assert_eq!(bob_row["quota_setting"], "default");
    assert_eq!(row(&page, "ada@example.com")["you"], true);
    assert_eq!(row(&page, "ada@example.com")["role"], "admin");
    assert_eq!(page["page"]["total_accounts"], 3);
    assert_eq!(
        (page["page"]["total_used"].as_u64(), page["page"]["total_files"].as_u64()),
        (Some(12), Some(2))
    );

    // Any case, email or name; `%` and `_` are only themselves.
    assert_eq!(emails(&app.accounts(&admin, "BOB").await.1), ["bob@example.com"]);
    assert_eq!(emails(&app.accounts(&admin, "test person").await.1).len(), 3);
    assert!(emails(&app.accounts(&admin, "%").await.1).is_empty());
    assert_eq!(emails(&app.accounts(&admin, "_x").await.1), ["carol_x@example.com"]);
    let (status, page) = app.accounts(&admin, &"a".repeat(201)).await;
    assert_eq!(status, 422, "{page}");

    // Only admins: a user gets 403, a visitor 401; the page itself sends them away.
    assert_eq!(app.accounts(&app.signed_in("bob@example.com").await, "").await.0, 403);
    assert_eq!(app.accounts(&browser(), "").await.0, 401);
    let page = admin.get(format!("{}/admin/users", app.address)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("bob@example.com") && html.contains("12 B · 2 files"),
        "the page lists usage"
    );
}

#[tokio::test]
async fn accounts_come_a_page_at_a_time() {
    let (app, admin) = with_admin().await;
    for n in 0..55 {
        app.user_with_token(&format!("user{n:02}@example.com")).await;
    }
    let (_, first) = app.accounts(&admin, "user").await;
    assert_eq!(emails(&first).len(), 50);
    let after = first["page"]["next"].as_str().unwrap().to_owned();
    assert_eq!(after, "user49@example.com");
    let response = app.call(&admin, "admin_accounts", &[("q", "user"), ("after", &after)]).await;
    let second: Value = response.json().await.unwrap();
    assert_eq!(
        emails(&second),
        [
            "user50@example.com",
            "user51@example.com",
            "user52@example.com",
            "user53@example.com",
            "user54@example.com"
        ]
    );
    assert!(second["page"]["next"].is_null());
}

#[tokio::test]
async fn turning_an_account_off_stops_its_sign_in_sessions_tokens_and_links_until_it_is_on_again() {
    let (app, admin) = with_admin().await;
    let (bob, token) = app.user_with_token("bob@example.com").await;
    let bob_browser = app.signed_in("bob@example.com").await;
    let response = app.put_file(&token, None, "plan.txt", b"the plan".to_vec()).await;
    let file: Value = response.json().await.unwrap();
    let share: Value = app
        .api(Method::POST, "/shares", &token)
        .json(&json!({ "file_ids": [file["id"]] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = format!("/s/{}", share["slug"].as_str().unwrap());
    assert_eq!(app.get(&link).await.status(), 200);

    let id = bob.id.to_string();
    let off = app
        .call(
            &admin,
            "set_account_disabled",
            &[("id", &id), ("disabled", "true"), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&off), "{}", off.status());
    assert_eq!(
        app.api(Method::GET, "/folders/root", &token).send().await.unwrap().status(),
        401,
        "token"
    );
    let me = app.call(&bob_browser, "current_user", &[]).await.json::<Value>().await.unwrap();
    assert!(me.is_null(), "the session ended: {me}");
    let sign_in = app
        .call(&browser(), "sign_in", &[("email", "bob@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(sign_in.status(), 403);
    assert!(sign_in.text().await.unwrap().contains("turned this account off"));
    let wrong = app
        .call(
            &browser(),
            "sign_in",
            &[("email", "bob@example.com"), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status(), 401, "a wrong password tells nothing more");
    assert_eq!(app.get(&link).await.status(), 404, "its links");
    let (_, page) = app.accounts(&admin, "bob").await;
    assert_eq!(row(&page, "bob@example.com")["disabled"], true);

    let on = app
        .call(
            &admin,
            "set_account_disabled",
            &[("id", &id), ("disabled", "false"), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&on));
    assert_eq!(app.api(Method::GET, "/folders/root", &token).send().await.unwrap().status(), 200);
    assert_eq!(app.get(&link).await.status(), 200);
    app.signed_in("bob@example.com").await;

    let actions: Vec<String> =
        domain::audit::latest(&app.db, 20).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"account_disabled".into()) && actions.contains(&"account_enabled".into())
    );
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out_and_users_cannot_administer() {
    let (app, admin) = with_admin().await;
    let (bob, _) = app.user_with_token("bob@example.com").await;
    let ada = domain::users::find_by_email(
        &app.db,
        &domain::account::EmailAddress::parse("ada@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let (ada_id, bob_id) = (ada.id.to_string(), bob.id.to_string());
    let back = ("back", "/admin/users");
    for (endpoint, form) in [
        ("set_account_role", vec![("id", ada_id.as_str()), ("role", "user"), back]),
        ("set_account_disabled", vec![("id", ada_id.as_str()), ("disabled", "true"), back]),
        (
            "delete_account_as_admin",
            vec![("id", ada_id.as_str()), ("confirm", "ada@example.com"), back],
        ),
    ] {
        let response = app.call(&admin, endpoint, &form).await;
        assert_eq!(response.status(), 409, "{endpoint}");
    }
    // Bad input: a clear error, nothing changed.
    for (endpoint, form, status) in [
        ("set_account_role", vec![("id", bob_id.as_str()), ("role", "owner"), back], 422),
        ("set_account_role", vec![("id", "not-an-id"), ("role", "admin"), back], 400),
        ("set_account_quota", vec![("id", bob_id.as_str()), ("quota", "10 parsecs"), back], 422),
        (
            "set_account_quota",
            vec![("id", bob_id.as_str()), ("quota", "18446744073709551616"), back],
            422,
        ),
        ("set_account_quota", vec![("id", bob_id.as_str()), ("quota", "9000000TiB"), back], 422),
        (
            "delete_account_as_admin",
            vec![("id", bob_id.as_str()), ("confirm", "bob@example.org"), back],
            422,
        ),
        (
            "set_account_quota",
            vec![("id", &uuid::Uuid::new_v4().to_string()), ("quota", "1GiB"), back],
            404,
        ),
    ] {
        let response = app.call(&admin, endpoint, &form).await;
        assert_eq!(response.status(), status, "{endpoint} {form:?}");
    }
    let bob_now = domain::users::find(&app.db, bob.id).await.unwrap().unwrap();
    assert_eq!((bob_now.role.as_str(), bob_now.quota_bytes), ("user", None));

    // A user can do none of it, to anyone.
    let bob_browser = app.signed_in("bob@example.com").await;
    for (endpoint, form) in [
        ("set_account_role", vec![("id", bob_id.as_str()), ("role", "admin"), back]),
        ("set_account_quota", vec![("id", bob_id.as_str()), ("quota", "unlimited"), back]),
        ("set_account_disabled", vec![("id", ada_id.as_str()), ("disabled", "true"), back]),
        ("create_reset_link", vec![("id", ada_id.as_str()), back]),
        (
            "delete_account_as_admin",
            vec![("id", ada_id.as_str()), ("confirm", "ada@example.com"), back],
        ),
    ] {
        assert_eq!(app.call(&bob_browser, endpoint, &form).await.status(), 403, "{endpoint}");
    }
    assert_eq!(domain::users::find(&app.db, bob.id).await.unwrap().unwrap().role, "user");

    // Made an admin, bob may; and two admins demoting each other at once leave one.
    let made =
        app.call(&admin, "set_account_role", &[("id", &bob_id), ("role", "admin"), back]).await;
    assert!(ok(&made));
    let (demote_bob, demote_ada) = (
        [("id", bob_id.as_str()), ("role", "user"), back],
        [("id", ada_id.as_str()), ("role", "user"), back],
    );
    let (one, two) = tokio::join!(
        app.call(&admin, "set_account_role", &demote_bob),
        app.call(&bob_browser, "set_account_role", &demote_ada),
    );
    let statuses = [one.status(), two.status()];
    assert!(
        statuses.iter().filter(|s| s.is_redirection() || s.is_success()).count() == 1,
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::FORBIDDEN), "{statuses:?}");
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let admins = domain::entities::users::Entity::find()
        .filter(domain::entities::users::Column::Role.eq("admin"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn a_quota_set_by_the_admin_holds_for_the_next_upload() {
    let (app, admin) = with_admin().await;
    let (bob, token) = app.user_with_token("bob@example.com").await;
    let id = bob.id.to_string();
    let set = app
        .call(
            &admin,
            "set_account_quota",
            &[("id", &id), ("quota", "1KiB"), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&set));
    let (_, page) = app.accounts(&admin, "bob").await;
    assert_eq!(row(&page, "bob@example.com")["quota"], 1024);
    assert_eq!(row(&page, "bob@example.com")["quota_setting"], "1 KiB");
    assert_eq!(app.put_file(&token, None, "big.bin", vec![0; 2048]).await.status(), 413);
    assert_eq!(app.put_file(&token, None, "small.bin", vec![0; 1000]).await.status(), 201);
    // What the page shows is what it takes back.
    let again = app
        .call(
            &admin,
            "set_account_quota",
            &[("id", &id), ("quota", "1 KiB"), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&again));
    let unlimited = app
        .call(
            &admin,
            "set_account_quota",
            &[("id", &id), ("quota", "Unlimited"), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&unlimited));
    assert_eq!(app.put_file(&token, None, "big.bin", vec![0; 2048]).await.status(), 201);
    let (_, page) = app.accounts(&admin, "bob").await;
    assert!(row(&page, "bob@example.com")["quota"].is_null());
}

#[tokio::test]
async fn deleting_an_account_takes_its_files_and_bytes_once_its_email_is_typed() {
    let (app, admin) = with_admin().await;
    let (bob, token) = app.user_with_token("bob@example.com").await;
    assert_eq!(app.put_file(&token, None, "plan.txt", b"the plan".to_vec()).await.status(), 201);
    let objects = app.stored_objects().await;
    let id = bob.id.to_string();
    let deleted = app
        .call(
            &admin,
            "delete_account_as_admin",
            &[("id", &id), ("confirm", " BOB@example.com "), ("back", "/admin/users")],
        )
        .await;
    assert!(ok(&deleted), "{}", deleted.status());
    assert!(domain::users::find(&app.db, bob.id).await.unwrap().is_none());
    assert_eq!(app.stored_objects().await, objects - 1, "its bytes are gone");
    assert_eq!(app.api(Method::GET, "/folders/root", &token).send().await.unwrap().status(), 401);
    let again = app
        .call(
            &admin,
            "delete_account_as_admin",
            &[("id", &id), ("confirm", "bob@example.com"), ("back", "/admin/users")],
        )
        .await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let (app, admin) = with_admin().await;
    let (bob, token) = app.user_with_token("bob@example.com").await;
    let bob_browser = app.signed_in("bob@example.com").await;
    let id = bob.id.to_string();
    // A first link, then a second: only the newest works.
    for _ in 0..2 {
        let made = app
            .call(&admin, "create_reset_link", &[("id", &id), ("back", "/admin/users?q=bob")])
            .await;
        assert!(ok(&made));
        assert_eq!(made.headers()["location"], "/admin/users?q=bob");
    }
    let (_, page) = app.accounts(&admin, "bob").await;
    let link = page["reset"]["link"].as_str().unwrap().to_owned();
    assert_eq!(page["reset"]["email"], "bob@example.com");
    assert!(app.accounts(&admin, "bob").await.1["reset"].is_null(), "shown once");
    let secret = link.split("token=").nth(1).unwrap().to_owned();

    let html = app.get(&format!("/reset-password?token={secret}")).await.text().await.unwrap();
    assert!(html.contains("bob@example.com"), "the page says whose");
    let weak =
        app.call(&browser(), "reset_password", &[("token", &secret), ("password", "short")]).await;
    assert_eq!(weak.status(), 422);
    let forged = app
        .call(
            &browser(),
            "reset_password",
            &[("token", "made-up"), ("password", "a much better password")],
        )
        .await;
    assert_eq!(forged.status(), 410);

    let (first, second) = (browser(), browser());
    let one_form = [("token", secret.as_str()), ("password", "a much better password")];
    let two_form = [("token", secret.as_str()), ("password", "another good password")];
    let (one, two) = tokio::join!(
        app.call(&first, "reset_password", &one_form),
        app.call(&second, "reset_password", &two_form),
    );
    let statuses = [one.status(), two.status()];
    assert!(
        statuses.contains(&StatusCode::GONE) && statuses.contains(&StatusCode::OK),
        "once: {statuses:?}"
    );
    assert_eq!(
        app.api(Method::GET, "/folders/root", &token).send().await.unwrap().status(),
        401,
        "tokens end"
    );
    let me = app.call(&bob_browser, "current_user", &[]).await.json::<Value>().await.unwrap();
    assert!(me.is_null(), "sessions end");
    let old = app
        .call(&browser(), "sign_in", &[("email", "bob@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status(), 401);
    let html = app.get(&format!("/reset-password?token={secret}")).await.text().await.unwrap();
    assert!(html.contains("expired or was already used"), "a used link says so");
}

#[tokio::test]
async fn the_audit_log_is_read_a_page_at_a_time_narrowed_by_action_email_and_failure() {
    let (app, admin) = with_admin().await;
    let (bob, _) = app.user_with_token("bob@example.com").await;
    let wrong = [("email", "bob@example.com"), ("password", "not the password")];
    assert_eq!(app.call(&browser(), "sign_in", &wrong).await.status(), 401);
    let id = bob.id.to_string();
    let quota = [("id", id.as_str()), ("quota", "2GiB"), ("back", "/admin/users")];
    assert!(ok(&app.call(&admin, "set_account_quota", &quota).await));
    for n in 0..60 {
        let event = domain::audit::Event {
            actor: None,
            action: "sign_in",
            target: Some(&format!("visitor{n}@example.org")),
            success: false,
        };
        domain::audit::record(&app.db, event, &domain::auth::ClientInfo::default()).await.unwrap();
    }
    let audit = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let admin = &admin;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call(admin, "admin_audit", &form).await;
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let all = |before: Option<&str>| {
        let mut form =
            vec![("action", String::new()), ("who", String::new()), ("failed", "false".into())];
        if let Some(before) = before {
            form.push(("before", before.to_owned()));
        }
        form
    };

    let (status, first) = audit(all(None)).await;
    assert_eq!(status, 200, "{first}");
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["target"], "visitor59@example.org", "newest first");
    let (_, second) = audit(all(first["next"].as_str())).await;
    let older = second["rows"].as_array().unwrap();
    // Every event once, across the two pages.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = domain::entities::audit_events::Entity::find().count(&app.db).await.unwrap();
    assert_eq!((rows.len() + older.len()) as u64, stored, "{second}");
    let mut seen: Vec<String> = rows
        .iter()
        .chain(older)
        .map(|r| format!("{}{}{}", r["at"], r["action"], r["target"]))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as u64, stored);
    assert!(second["next"].is_null());
    let quota_row = older.iter().find(|r| r["action"] == "quota_set").unwrap();
    assert_eq!(quota_row["actor"], "ada@example.com");
    assert_eq!(quota_row["target"], "bob@example.com → 2 GiB");

    let (_, bob_events) =
        audit(vec![("action", String::new()), ("who", "BOB@".into()), ("failed", "false".into())])
            .await;
    let actions: Vec<&str> = bob_events["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["quota_set", "sign_in", "token_created", "user_created"]);
    let (_, failures) = audit(vec![
        ("action", "sign_in".into()),
        ("who", String::new()),
        ("failed", "true".into()),
    ])
    .await;
    assert!(
        failures["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == false && r["action"] == "sign_in")
    );
    let (_, ada) = audit(vec![
        ("action", "sign_up".into()),
        ("who", "ada".into()),
        ("failed", "false".into()),
    ])
    .await;
    assert_eq!(ada["rows"].as_array().unwrap().len(), 1);

    for bad in [
        vec![
            ("action", "drop_table".to_owned()),
            ("who", String::new()),
            ("failed", "false".into()),
        ],
        vec![
            ("action", String::new()),
            ("who", String::new()),
            ("failed", "false".into()),
            ("before", "yesterday".into()),
        ],
        vec![("action", String::new()), ("who", "x".repeat(201)), ("failed", "false".into())],
    ] {
        assert_eq!(audit(bad).await.0, 422);
    }
    let bob_browser = app.signed_in("bob@example.com").await;
    let form = [("action", ""), ("who", ""), ("failed", "false")];
    assert_eq!(app.call(&bob_browser, "admin_audit", &form).await.status(), 403);
    let html =
        admin.get(format!("{}/admin/audit?who=bob&failed=on", app.address)).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"audit-event\"").count(), 1, "only bob's failed sign-in");
    assert!(html.contains("Failed") && !html.contains("2 GiB"));
}

#[tokio::test]
async fn the_status_page_names_each_service_and_counts_the_last_hours_requests() {
    let (app, admin) = with_admin().await;
    for _ in 0..5 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    let response = app.call(&admin, "admin_status", &[]).await;
    assert_eq!(response.status(), 200);
    let panel: Value = response.json().await.unwrap();
    let services = panel["services"].as_array().unwrap();
    assert!(services[0]["name"].as_str().unwrap().starts_with("Database ("), "{panel}");
    assert!(services[1]["name"].as_str().unwrap().starts_with("Storage ("), "{panel}");
    assert!(services.iter().all(|s| s["ok"] == true), "{panel}");
    let traffic = panel["traffic"].as_array().unwrap();
    assert_eq!(traffic.len(), 60);
    let requests: u64 = traffic.iter().map(|minute| minute[0].as_u64().unwrap()).sum();
    assert!(requests >= 6, "the five and the sign-up at least: {requests}");
    assert_eq!(panel["sessions"], 1);
    let html = admin.get(format!("{}/admin/status", app.address)).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"traffic-chart\"") && html.contains("<rect"),
        "drawn on the server"
    );

    let (_, _) = app.user_with_token("bob@example.com").await;
    let bob = app.signed_in("bob@example.com").await;
    assert_eq!(app.call(&bob, "admin_status", &[]).await.status(), 403);
}
