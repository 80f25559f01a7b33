//! Search inside files and within links: the text of Markdown, PDF (pdftotext) and DOCX files
//! is found once the extraction job ran, with a snippet, for its owner only, and goes with the
//! file; a link's visitors search what it shares and nothing past it.

use std::io::Write;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, pdf, spawn_app_with};
use crate::search::upload;

/// An app whose jobs the test runs itself.
async fn app() -> TestApp {
    spawn_app_with(|config| config.workers = 0).await
}

/// The hits for `q` (the request must succeed).
async fn hits(app: &TestApp, token: &str, q: &str) -> Vec<Value> {
    let response = app.api(Method::GET, "/search", token).query(&[("q", q)]).send().await.unwrap();
    assert_eq!(response.status(), 200, "{q}");
    response.json::<Value>().await.unwrap()["hits"].as_array().unwrap().clone()
}

async fn names(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let mut names: Vec<String> = hits(app, token, q)
        .await
        .iter()
        .map(|hit| hit["file"]["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// A Word document whose one paragraph is `text` (split across two runs, as Word does).
fn docx(text: &str) -> Vec<u8> {
    let (first, second) = text.split_at(text.len() / 2);
    let xml = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body><w:p><w:r><w:t>{first}</w:t></w:r><w:r><w:t>{second}</w:t></w:r></w:p></w:body></w:document>"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [("[Content_Types].xml", "<Types/>"), ("word/document.xml", xml.as_str())]
    {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn the_text_inside_documents_is_found_with_a_snippet_by_its_owner_only() {
    let app = app().await;
    let (_, ada) = app.user_with_token("ada@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    let notes = "# Trip\nThe glacier expedition budget is 4,000 € and Müller pays for it.";
    let notes = upload(&app, &ada, None, "notes.md", notes.as_bytes()).await;
    let scan = pdf("BT /F1 12 Tf 20 100 Td (Invoice for the glacier crossing) Tj ET");
    upload(&app, &ada, None, "scan.pdf", &scan).await;
    upload(&app, &ada, None, "plan.docx", &docx("Quarterly glacier forecast")).await;
    let long = format!("alpha {} omega", "filler ".repeat(50_000));
    upload(&app, &ada, None, "long.txt", long.as_bytes()).await;
    upload(&app, &bob, None, "bob.md", b"glacier expedition of bob").await;
    assert!(names(&app, &ada, "expedition").await.is_empty(), "not before the text is read");

    app.run_jobs().await;
    let pdf_tools = domain::media::tools().await.pdf_text();
    let mut glacier = vec!["notes.md", "plan.docx"];
    if pdf_tools {
        glacier.push("scan.pdf");
    }
    assert_eq!(names(&app, &ada, "glacier").await, glacier);
    assert!(pdf_tools || std::env::var_os("CI").is_none(), "make test installs poppler-utils");
    assert_eq!(names(&app, &ada, "expedition budget").await, ["notes.md"], "every word");
    assert_eq!(names(&app, &ada, "\"expedition budget\"").await, ["notes.md"], "a phrase");
    assert!(names(&app, &ada, "\"budget expedition\"").await.is_empty());
    assert_eq!(names(&app, &ada, "MULLER").await, ["notes.md"], "case and accents folded");
    assert_eq!(names(&app, &ada, "forecast").await, ["plan.docx"], "Word runs joined");
    assert_eq!(names(&app, &ada, "glacier -forecast ext:md").await, ["notes.md"]);
    assert_eq!(names(&app, &ada, "alpha").await, ["long.txt"]);
    assert!(names(&app, &ada, "omega").await.is_empty(), "past the first 256 KiB of text");
    assert_eq!(names(&app, &bob, "glacier").await, ["bob.md"], "bob finds only his own");

    let found = hits(&app, &ada, "budget").await;
    let marked: Vec<&str> = found[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["hit"] == true)
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["budget"], "{found:?}");
    let text: String = found[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(text.contains("glacier expedition budget is"), "{text}");
    assert!(hits(&app, &ada, "notes").await[0]["snippet"].as_array().unwrap().is_empty());

    let deleted = app.api(Method::DELETE, &format!("/files/{notes}"), &ada).send().await.unwrap();
    assert!(deleted.status().is_success());
    assert!(names(&app, &ada, "expedition").await.is_empty(), "its text goes with it");
    // Rebuilt from the rows, the index finds the same.
    domain::search::reindex(&app.db).await.unwrap();
    assert_eq!(names(&app, &ada, "forecast").await, ["plan.docx"]);
    assert_eq!(domain::search::backfill(&app.db).await.unwrap(), 0, "every text is there");
    // Texts lost (or files from before search read them): one job reads them again.
    use sea_orm::ConnectionTrait;
    app.db.execute_unprepared("DELETE FROM file_texts").await.unwrap();
    assert!(names(&app, &ada, "forecast").await.is_empty());
    assert_eq!(domain::search::backfill(&app.db).await.unwrap(), 3 + u64::from(pdf_tools));
    app.run_jobs().await;
    assert_eq!(names(&app, &ada, "forecast").await, ["plan.docx"]);
    assert_eq!(domain::search::backfill(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_links_visitors_search_within_what_it_shares_and_nothing_past_it() {
    let app = app().await;
    let (_, ada) = app.user_with_token("ada@example.com").await;
    let trips = app.create_folder(&ada, None, "Trips").await;
    let iceland = app.create_folder(&ada, Some(&trips), "Iceland").await;
    let private = app.create_folder(&ada, None, "Iceland").await;
    upload(&app, &ada, Some(&iceland), "glacier.md", b"a crevasse on the way").await;
    upload(&app, &ada, Some(&trips), "budget.txt", b"money for the glacier").await;
    upload(&app, &ada, Some(&private), "glacier-private.md", b"a crevasse").await;
    let budget = upload(&app, &ada, None, "budget-2026.txt", b"money").await;
    app.run_jobs().await;
    let folder = app.share(&ada, json!({ "folder_id": trips })).await;
    let folder = folder["slug"].as_str().unwrap().to_owned();
    let chosen = app.share(&ada, json!({ "file_ids": [budget] })).await;
    let chosen = chosen["slug"].as_str().unwrap().to_owned();

    let search = |slug: String, q: &'static str| {
        let url = format!("{}/s/{slug}/search", app.address);
        let request = app.client.get(url).query(&[("q", q)]);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let mut paths: Vec<String> = body["hits"]
                .as_array()
                .map(|hits| {
                    hits.iter().map(|h| h["file"]["path"].as_str().unwrap().to_owned()).collect()
                })
                .unwrap_or_default();
            paths.sort();
            (status, paths)
        }
    };
    assert_eq!(
        search(folder.clone(), "glacier").await,
        (200, vec!["Iceland/glacier.md".into(), "budget.txt".into()])
    );
    assert_eq!(
        search(folder.clone(), "crevasse").await,
        (200, vec!["Iceland/glacier.md".into()]),
        "not the private one"
    );
    assert_eq!(
        search(folder.clone(), "in:Iceland crevasse").await.1,
        ["Iceland/glacier.md"],
        "in: stays inside"
    );
    assert_eq!(search(folder.clone(), "in:Trips money").await.1, ["budget.txt"]);
    assert_eq!(
        search(folder.clone(), "trips budget").await.1,
        Vec::<String>::new(),
        "no words of the folders above a file: the shared folder's name and the owner's above it"
    );
    assert_eq!(search(folder.clone(), "budget-2026").await.1, Vec::<String>::new());
    assert_eq!(
        search(chosen.clone(), "money").await.1,
        ["budget-2026.txt"],
        "only the chosen file"
    );
    assert_eq!(search(chosen.clone(), "glacier").await.1, Vec::<String>::new());
    assert_eq!(search(folder.clone(), "\"open").await.0, 400, "a bad query says why");
    for cursor in ["n18446744073709551616", "n10001", "o-1", "x0", "n", "%00", "a0"] {
        let url = format!("{}/s/{folder}/search", app.address);
        let response = app.client.get(url).query(&[("q", "glacier"), ("cursor", cursor)]);
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), 400, "cursor {cursor}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("cursor"), "{body}");
    }

    // The page works without JavaScript: a GET form, the results in the HTML.
    let page =
        app.client.get(format!("{}/s/{folder}?q=crevasse", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"share-results\"") && html.contains("Iceland/glacier.md"));
    assert!(!html.contains("glacier-private.md"));

    // A password, then a revocation: the policy answers before any search.
    let locked = app.share(&ada, json!({ "folder_id": trips, "password": "open sesame" })).await;
    let locked_slug = locked["slug"].as_str().unwrap().to_owned();
    assert_eq!(search(locked_slug, "glacier").await, (401, vec![]));
    let revoked = app.share(&ada, json!({ "folder_id": trips })).await;
    let id = revoked["id"].as_str().unwrap();
    let gone = app.api(Method::DELETE, &format!("/shares/{id}"), &ada).send().await.unwrap();
    assert!(gone.status().is_success());
    assert_eq!(
        search(revoked["slug"].as_str().unwrap().to_owned(), "glacier").await,
        (404, vec![])
    );
    // Searching is not a download, nor logged: the one page load is the only event.
    let id = folder_id(&app, &ada, &folder).await;
    let events = app.get_json(&format!("/shares/{id}/events"), &ada).await;
    let kinds: Vec<&str> =
        events["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.len() <= 1 && kinds.iter().all(|kind| *kind == "view"), "{kinds:?}");
}

/// The id of the link `slug`.
async fn folder_id(app: &TestApp, token: &str, slug: &str) -> String {
    let shares = app.get_json("/shares", token).await;
    let share = shares["shares"].as_array().unwrap().iter().find(|s| s["slug"] == slug).unwrap();
    share["id"].as_str().unwrap().to_owned()
}
