//! Server-rendered pages: home, 404, theme.

use crate::helpers::spawn_app;

#[tokio::test]
async fn home_page_renders_server_side_from_the_database() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Pannier</title>"), "title missing: {html}");
    assert!(html.contains("Share files of any size"), "tagline from settings missing");
    assert!(html.contains("<nav aria-label=\"Main\""), "layout nav missing");
    assert!(html.contains("/favicon.svg"), "favicon link missing");
}

#[tokio::test]
async fn home_page_shows_the_current_setting() {
    let app = spawn_app().await;
    domain::settings::set(&app.db, domain::settings::SITE_NAME, "Family Drop").await.unwrap();
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("<title>Family Drop</title>"), "{html}");
    assert!(html.contains(">Family Drop</h1>"));
    assert!(html.contains(">Family Drop</span>"), "header shows the name");
    assert!(!html.contains("Loading…"), "complete without JavaScript: no Suspense fallback");

    let not_found = app.get("/missing").await.text().await.unwrap();
    assert!(not_found.contains(">Family Drop</span>"), "{not_found}");
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_with_status_404() {
    let app = spawn_app().await;
    for path in ["/no/such/page", "/pkg/missing.js", "/favicon.svg/x"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get("cache-control").is_none(), "{path} must not be cached");
        let html = response.text().await.unwrap();
        assert!(html.contains("Page not found"), "{path}: {html}");
        assert!(html.contains("Go to the home page"));
    }
    let response = app
        .client
        .post(format!("{}/no/such/page", app.address))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_theme_cookie_is_rendered_on_the_html_element() {
    let app = spawn_app().await;
    let page = |cookie: &'static str| {
        app.client.get(format!("{}/", app.address)).header("cookie", cookie).send()
    };
    let dark = page("pannier_theme=dark").await.unwrap().text().await.unwrap();
    assert!(dark.contains(r#"<html lang="en" class="dark""#), "{dark}");
    let light = page("other=1; pannier_theme=light").await.unwrap().text().await.unwrap();
    assert!(light.contains(r#"<html lang="en" class="light""#));
    let junk = page("pannier_theme=<script>").await.unwrap().text().await.unwrap();
    assert!(junk.contains(r#"<html lang="en" class="""#) || junk.contains(r#"<html lang="en">"#));
    assert!(!junk.contains("<script>\""));
}

#[tokio::test]
async fn site_info_server_fn_answers_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/site_info", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let info: domain::site::SiteInfo = response.json().await.unwrap();
    assert_eq!(info.name, "Pannier");
}

#[tokio::test]
async fn file_pages_render_for_the_owner_and_are_404_for_everyone_else() {
    let app = spawn_app().await;
    let alice = crate::helpers::browser();
    let bob = crate::helpers::browser();
    assert_eq!(
        app.sign_up(&alice, "alice@example.com", "correct horse battery staple").await.status(),
        200
    );
    assert_eq!(
        app.sign_up(&bob, "bob@example.com", "correct horse battery staple").await.status(),
        200
    );
    let folder: serde_json::Value = alice
        .post(format!("{}/api/v1/folders", app.address))
        .header("origin", &app.address)
        .json(&serde_json::json!({ "name": "Holiday <plans>" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let folder = folder["id"].as_str().unwrap();
    let file: serde_json::Value = alice
        .put(format!("{}/api/v1/files?name=notes.txt&folder_id={folder}", app.address))
        .header("origin", &app.address)
        .body("if a < b && c > d { <b>bold</b> }")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file = file["id"].as_str().unwrap();

    let page = alice.get(format!("{}/file/{file}", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>notes.txt</title>"), "{html}");
    assert!(html.contains("if a &lt; b &amp;&amp; c"), "text preview is escaped: {html}");
    assert!(!html.contains("<b>bold</b>"));
    let listing = alice.get(format!("{}/files/{folder}", app.address)).send().await.unwrap();
    assert_eq!(listing.status(), 200);
    assert!(listing.text().await.unwrap().contains("Holiday &lt;plans&gt;"));

    for path in [format!("/file/{file}"), format!("/files/{folder}")] {
        let response = bob.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(!response.text().await.unwrap().contains("notes.txt"));
    }
    let signed_out = app
        .client
        .get(format!("{}/file/{file}", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 302, "signed-out visitors are sent to sign in");
}

#[tokio::test]
async fn the_file_page_renders_markdown_safely_csv_as_a_table_code_with_lines_and_links_its_neighbours()
 {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("alice@example.com").await;
    let alice = crate::helpers::browser();
    let signed_in = app
        .call(
            &alice,
            "sign_in",
            &[("email", "alice@example.com"), ("password", "correct horse battery staple")],
        )
        .await;
    assert!(signed_in.status().is_success(), "{}", signed_in.status());
    let put = |name: &'static str, body: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app.put_file(&token, None, name, body.as_bytes().to_vec()).await;
            assert_eq!(response.status(), 201);
            response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let plan = put(
        "Plan.md",
        "# The plan\n\n<script>alert(1)</script>\n\n[go](javascript:alert(1)) [site](https://example.com)\n\n![pixel](https://tracker.example/p.gif)\n",
    )
    .await;
    let table = put("budget.csv", "item,cost\n\"tents, two\",120\n").await;
    let code = put("main.rs", "fn main() {\n    println!(\"hi\");\n}\n").await;
    let page = |id: String| {
        let alice = &alice;
        let address = &app.address;
        async move {
            let page = alice.get(format!("{address}/file/{id}")).send().await.unwrap();
            assert_eq!(page.status(), 200);
            page.text().await.unwrap()
        }
    };

    let html = page(plan.clone()).await;
    assert!(html.contains("<h1>The plan</h1>"), "rendered: {html}");
    assert!(html.contains(r#"<a href="https://example.com">site</a>"#));
    assert!(!html.contains("<script>alert") && !html.contains("href=\"javascript:"), "{html}");
    assert!(!html.contains("<img src=\"https://tracker"), "no picture from elsewhere loads");
    let html = page(table.clone()).await;
    assert!(html.contains("<th scope=\"col\"") && html.contains(">tents, two</td>"), "{html}");
    let html = page(code.clone()).await;
    assert!(
        html.contains("data-testid=\"code-preview\"") && html.contains(">1\n2\n3</pre>"),
        "{html}"
    );

    // Name order, without regard to case: budget.csv, main.rs, Plan.md.
    assert!(html.contains(&format!("href=\"/file/{table}\" rel=\"prev\"")), "{html}");
    assert!(html.contains(&format!("href=\"/file/{plan}\" rel=\"next\"")), "{html}");
    let first = page(table).await;
    assert!(
        !first.contains("rel=\"prev\"")
            && first.contains(&format!("href=\"/file/{code}\" rel=\"next\""))
    );
}

#[tokio::test]
async fn the_files_page_of_a_hundred_files_stays_under_60_kib() {
    let app = spawn_app().await;
    let ada = crate::helpers::browser();
    let signed_up = app.sign_up(&ada, "ada@example.com", "correct horse battery staple").await;
    assert_eq!(signed_up.status(), 200);
    for n in 0..100 {
        let put = ada
            .put(format!("{}/api/v1/files?name=file-{n:03}.txt", app.address))
            .header("origin", &app.address)
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
    }
    let html = ada.get(format!("{}/files", app.address)).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert_eq!(html.matches(r#"class="entry-row""#).count(), 100);
    // The boxes that select and the ⋯ menus need JavaScript: they come with hydration.
    assert!(!html.contains("Select file-000.txt") && !html.contains("Actions for file-000.txt"));
    assert!(html.len() < 60 * 1024, "{} bytes", html.len());
}
