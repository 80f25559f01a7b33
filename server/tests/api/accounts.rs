//! Accounts end to end over HTTP: sign-up, sign-in, sessions, CSRF, throttling, tokens.

use serde_json::Value;

use crate::helpers::{browser, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// The stored account for `email`, which must exist.
async fn account(app: &crate::helpers::TestApp, email: &str) -> domain::entities::users::Model {
    let email = domain::account::EmailAddress::parse(email).unwrap();
    domain::users::find_by_email(&app.db, &email).await.unwrap().unwrap()
}

async fn me(app: &crate::helpers::TestApp, client: &reqwest::Client) -> reqwest::Response {
    client.get(format!("{}/api/v1/me", app.address)).send().await.unwrap()
}

#[tokio::test]
async fn the_first_account_is_admin_and_is_signed_in_after_sign_up() {
    let app = spawn_app().await;
    let ada = browser();
    let response = app.sign_up(&ada, "Ada@Example.com", PASSWORD).await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let body: Value = me(&app, &ada).await.json().await.unwrap();
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["role"], "admin");

    let bob = browser();
    app.sign_up(&bob, "bob@example.com", PASSWORD).await;
    let body: Value = me(&app, &bob).await.json().await.unwrap();
    assert_eq!(body["role"], "user");
}

#[tokio::test]
async fn bad_sign_ups_get_field_errors_and_change_nothing() {
    let app = spawn_app().await;
    let client = browser();
    for (email, password, field) in [
        ("not-an-email", PASSWORD, "email"),
        ("ada@example.com", "short", "password"),
        ("ada@example.com", "password123", "password"),
    ] {
        let response = app.sign_up(&client, email, password).await;
        assert_eq!(response.status(), 422, "{email} {password}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid", "{body}");
        assert_eq!(body["message"]["field"], field, "{body}");
    }
    assert_eq!(me(&app, &client).await.status(), 401);
    app.sign_up(&client, "ada@example.com", PASSWORD).await;
    let other = browser();
    let response = app.sign_up(&other, "ADA@example.com", PASSWORD).await;
    assert_eq!(response.status(), 422, "duplicate email, case-insensitive");
}

#[tokio::test]
async fn sign_in_cycles_the_session_id_and_sign_out_ends_it() {
    let app = spawn_app().await;
    app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // A session the visitor had before signing in (fixation attempt).
    let before = "pannier_session=attacker-chosen-id";
    let response = client
        .post(format!("{}/api/sign_in", app.address))
        .header("origin", &app.address)
        .header("accept", "application/json")
        .header("cookie", before)
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("pannier_session="), "{set_cookie}");
    assert!(!set_cookie.contains("attacker-chosen-id"));
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let me = |cookie: String| {
        let client = client.clone();
        let url = format!("{}/api/v1/me", app.address);
        async move { client.get(url).header("cookie", cookie).send().await.unwrap().status() }
    };
    assert_eq!(me(cookie.clone()).await, 200);
    let response = client
        .post(format!("{}/api/sign_out", app.address))
        .header("origin", &app.address)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success() || response.status().is_redirection());
    assert_eq!(me(cookie).await, 401, "the old cookie no longer works");
}

/// Browsers ask for compressed answers: a refused sign-in is still a 401 then (the status is
/// read from the error before the body is compressed).
#[tokio::test]
async fn a_refused_server_fn_keeps_its_status_when_its_answer_is_compressed() {
    let app = spawn_app().await;
    app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    let refused = browser()
        .post(format!("{}/api/sign_in", app.address))
        .header("origin", &app.address)
        .header("accept", "application/json")
        .header("accept-encoding", "br, gzip")
        .form(&[("email", "ada@example.com"), ("password", "nope nope nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["content-encoding"], "br");
}

#[tokio::test]
async fn wrong_credentials_get_one_message_and_are_audited() {
    let app = spawn_app().await;
    app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    let client = browser();
    let wrong_password = app
        .call(&client, "sign_in", &[("email", "ada@example.com"), ("password", "nope nope nope")])
        .await;
    let unknown =
        app.call(&client, "sign_in", &[("email", "eve@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown.status(), 401);
    let a: Value = wrong_password.json().await.unwrap();
    let b: Value = unknown.json().await.unwrap();
    assert_eq!(a, b, "no difference between unknown email and wrong password");
    let events = domain::audit::latest(&app.db, 10).await.unwrap();
    let failures = events.iter().filter(|e| e.action == "sign_in" && !e.success).count();
    assert_eq!(failures, 2);
    assert!(events.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    let client = browser();
    for _ in 0..app.config.rate_sign_ins {
        let response = app
            .call(
                &client,
                "sign_in",
                &[("email", "ada@example.com"), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(response.status(), 401);
    }
    let response =
        app.call(&client, "sign_in", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), 429, "even the right password waits out the window");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    assert_eq!(me(&app, &client).await.status(), 401);
}

#[tokio::test]
async fn cross_site_posts_are_refused_with_403() {
    let app = spawn_app().await;
    let client = browser();
    for origin in [Some("https://evil.example"), None] {
        let mut request = client.post(format!("{}/api/sign_up", app.address)).form(&[
            ("email", "ada@example.com"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
        ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("refused"));
    }
    let setup = domain::setup::issue(&app.db).await.unwrap().unwrap();
    let same_site = client
        .post(format!("{}/api/sign_up", app.address))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[
            ("email", "ada@example.com"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("setup", &setup),
        ])
        .send()
        .await
        .unwrap();
    assert!(same_site.status().is_success(), "{}", same_site.status());
    assert_eq!(
        domain::audit::latest(&app.db, 10)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "sign_up")
            .count(),
        1
    );
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = spawn_app().await;
    let laptop = browser();
    app.sign_up(&laptop, "ada@example.com", PASSWORD).await;
    let phone = browser();
    app.call(&phone, "sign_in", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(me(&app, &phone).await.status(), 200);

    let wrong = app
        .call(
            &laptop,
            "change_password",
            &[("current_password", "not it at all"), ("new_password", "a new long passphrase")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let ok = app
        .call(
            &laptop,
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "a new long passphrase")],
        )
        .await;
    assert!(ok.status().is_success() || ok.status().is_redirection(), "{}", ok.status());
    assert_eq!(me(&app, &laptop).await.status(), 200, "this session stays");
    assert_eq!(me(&app, &phone).await.status(), 401, "the other one ends");
    let old = app
        .call(&browser(), "sign_in", &[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status(), 401);
}

#[tokio::test]
async fn only_local_next_paths_are_followed_after_sign_in() {
    let app = spawn_app().await;
    app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    for (next, expected) in [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        // Browsers drop tabs and newlines and read `\` as `/`: each of these leaves the site.
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t\\evil.example", "/"),
    ] {
        let response = browser()
            .post(format!("{}/api/sign_in", app.address))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .form(&[("email", "ada@example.com"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{next}: {}", response.status());
        assert_eq!(response.headers()["location"], expected, "{next}");
    }
}

#[tokio::test]
async fn protected_pages_redirect_to_sign_in_and_back() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/account", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/sign-in?next=/account");
    let client = browser();
    app.sign_up(&client, "ada@example.com", PASSWORD).await;
    let page = client.get(format!("{}/account", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("ada@example.com") && html.contains("Signed-in devices"));
}

#[tokio::test]
async fn api_tokens_authenticate_with_scopes_until_revoked() {
    let app = spawn_app().await;
    let client = browser();
    app.sign_up(&client, "ada@example.com", PASSWORD).await;
    let user = account(&app, "ada@example.com").await;
    let client_info = domain::auth::ClientInfo::default();
    let read = domain::tokens::create(
        &app.db,
        &user,
        "reader",
        domain::account::TokenScope::Read,
        None,
        &client_info,
    )
    .await
    .unwrap();
    assert!(read.secret.starts_with("pnr_"));
    let anonymous = reqwest::Client::new();
    let with =
        |secret: &str| anonymous.get(format!("{}/api/v1/me", app.address)).bearer_auth(secret);
    let body: Value = with(&read.secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["email"], "ada@example.com");

    let write_attempt = anonymous
        .post(format!("{}/api/update_profile", app.address))
        .bearer_auth(&read.secret)
        .form(&[("display_name", "Changed")])
        .send()
        .await
        .unwrap();
    assert_eq!(write_attempt.status(), 403, "a read token cannot change things");

    let bad = with("pnr_not-a-real-token").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    domain::tokens::revoke(&app.db, &user, read.token.id, &client_info).await.unwrap();
    assert_eq!(with(&read.secret).send().await.unwrap().status(), 401, "revoked");
    let stored = domain::tokens::list(&app.db, user.id).await.unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn invite_only_sign_up_needs_a_fresh_invite() {
    let app = spawn_app().await;
    let admin = browser();
    app.sign_up(&admin, "ada@example.com", PASSWORD).await;
    let set = app.call(&admin, "set_registration_mode", &[("mode", "invite_only")]).await;
    assert!(set.status().is_success() || set.status().is_redirection(), "{}", set.status());

    let response = app.sign_up(&browser(), "bob@example.com", PASSWORD).await;
    assert_eq!(response.status(), 422);
    // Without a usable invite nothing tells whether an address has an account.
    for invite in ["", "made-up-invite"] {
        let form = [
            ("email", "ada@example.com"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("invite", invite),
        ];
        let response = app.call(&browser(), "sign_up", &form).await;
        assert_eq!(response.status(), 422);
        let text = response.text().await.unwrap();
        assert!(text.contains("invite") && !text.contains("already exists"), "{text}");
    }
    let invite = app.call(&admin, "create_invite", &[("days", "7")]).await;
    assert!(invite.status().is_success() || invite.status().is_redirection());
    let page: String =
        admin.get(format!("{}/admin", app.address)).send().await.unwrap().text().await.unwrap();
    let secret = page.split("invite=").nth(1).unwrap().split('<').next().unwrap().to_owned();

    let bob = browser();
    let response = app
        .call(
            &bob,
            "sign_up",
            &[
                ("email", "bob@example.com"),
                ("display_name", "Bob"),
                ("password", PASSWORD),
                ("invite", &secret),
            ],
        )
        .await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let reuse = app
        .call(
            &browser(),
            "sign_up",
            &[
                ("email", "eve@example.com"),
                ("display_name", "Eve"),
                ("password", PASSWORD),
                ("invite", &secret),
            ],
        )
        .await;
    assert_eq!(reuse.status(), 422, "single use");

    let non_admin = app.call(&bob, "set_registration_mode", &[("mode", "open")]).await;
    assert_eq!(non_admin.status(), 403);
    app.call(&admin, "set_registration_mode", &[("mode", "closed")]).await;
    // A closed instance refuses before hashing: five refusals take less than one hash.
    let started = std::time::Instant::now();
    let hashing = domain::auth::password::hash(PASSWORD.into()).await.unwrap();
    let one_hash = started.elapsed();
    assert!(hashing.starts_with("$argon2id$"));
    let started = std::time::Instant::now();
    for _ in 0..5 {
        let closed = app.sign_up(&browser(), "carol@example.com", PASSWORD).await;
        assert_eq!(closed.status(), 403);
    }
    assert!(started.elapsed() < one_hash, "{:?} for five refusals", started.elapsed());
}

#[tokio::test]
async fn one_session_can_be_signed_out_from_another() {
    let app = spawn_app().await;
    let laptop = browser();
    app.sign_up(&laptop, "ada@example.com", PASSWORD).await;
    let phone = browser();
    app.call(&phone, "sign_in", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    let user = account(&app, "ada@example.com").await;
    let sessions = domain::sessions::list(&app.db, user.id, None).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.ip == "127.0.0.1"));
    // Newest first: the phone's session.
    let phone_handle = sessions[0].handle.clone();
    let response = app.call(&laptop, "revoke_session", &[("handle", &phone_handle)]).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(me(&app, &phone).await.status(), 401);
    assert_eq!(me(&app, &laptop).await.status(), 200);
    let again = app.call(&laptop, "revoke_session", &[("handle", &phone_handle)]).await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_everything() {
    let app = spawn_app().await;
    let client = browser();
    app.sign_up(&client, "ada@example.com", PASSWORD).await;
    let wrong = app.call(&client, "delete_account", &[("password", "not my password")]).await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(me(&app, &client).await.status(), 200, "nothing changed");

    let deleted = app.call(&client, "delete_account", &[("password", PASSWORD)]).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(me(&app, &client).await.status(), 401);
    let email = domain::account::EmailAddress::parse("ada@example.com").unwrap();
    assert!(domain::users::find_by_email(&app.db, &email).await.unwrap().is_none());
    let events = domain::audit::latest(&app.db, 5).await.unwrap();
    assert!(
        events.iter().any(|e| e.action == "account_deleted" && e.actor_id.is_none()),
        "kept, detached"
    );
    // The email is free again.
    let again = app.sign_up(&browser(), "ada@example.com", PASSWORD).await;
    assert!(again.status().is_success());
}

#[tokio::test]
async fn unknown_api_routes_answer_json_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nope").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let anonymous: Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(anonymous["error"]["code"], "unauthorized");
}
