//! `GET /api/v1/search`: substrings, case and accents, ranking, filters, the index kept in step
//! with every change, authorization, pagination, bad queries.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The names found for `q`, in order (the request must succeed).
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let response = app.api(Method::GET, "/search", token).query(&[("q", q)]).send().await.unwrap();
    assert_eq!(response.status(), 200, "{q}: {}", response.text().await.unwrap());
    let page: Value = response.json().await.unwrap();
    page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["file"]["name"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    folder: Option<&str>,
    name: &str,
    bytes: &[u8],
) -> String {
    let response = app.put_file(token, folder, name, bytes.to_vec()).await;
    assert_eq!(response.status(), 201, "{name}");
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn describe(app: &TestApp, token: &str, id: &str, description: &str) {
    let response = app
        .api(Method::PATCH, &format!("/files/{id}"), token)
        .json(&json!({ "description": description }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn substrings_prefixes_case_and_accents_with_name_matches_first() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    upload(&app, &token, None, "Invoice-2026.pdf", b"%PDF-1.4 not really").await;
    let notes = upload(&app, &token, None, "notes.md", b"# notes").await;
    describe(&app, &token, &notes, "the quarterly invoices").await;
    upload(&app, &token, None, "Café Menu.txt", b"coffee").await;
    upload(&app, &token, None, "holiday.jpg", b"not a picture").await;

    assert_eq!(found(&app, &token, "voice").await, ["Invoice-2026.pdf", "notes.md"], "name first");
    assert_eq!(found(&app, &token, "INV").await, ["Invoice-2026.pdf", "notes.md"]);
    assert_eq!(found(&app, &token, "cafe menu").await, ["Café Menu.txt"], "accents folded");
    assert_eq!(found(&app, &token, "CAFÉ").await, ["Café Menu.txt"]);
    assert_eq!(found(&app, &token, "\"cafe menu\"").await, ["Café Menu.txt"], "a phrase");
    assert!(found(&app, &token, "\"menu cafe\"").await.is_empty(), "a phrase keeps its order");
    assert_eq!(found(&app, &token, "invoice -quarterly").await, ["Invoice-2026.pdf"]);
    assert_eq!(found(&app, &token, "ho").await, ["holiday.jpg"], "two letters");
    assert_eq!(found(&app, &token, "menu ca").await, ["Café Menu.txt"], "a short word too");
    assert_eq!(
        found(&app, &token, "quarterly in").await,
        ["notes.md"],
        "a long word outside the name, a short one anywhere"
    );
    assert_eq!(found(&app, &token, "invo invoice").await, ["Invoice-2026.pdf", "notes.md"]);
    assert!(found(&app, &token, "nothing-like-this").await.is_empty());
    assert!(found(&app, &token, "").await.is_empty(), "an empty box finds nothing");
    // A short word beside two long ones (PostgreSQL reads the long words' matches first).
    upload(&app, &token, None, "Menu of the café.txt", b"tea").await;
    let both = ["Menu of the café.txt", "Café Menu.txt"];
    assert_eq!(found(&app, &token, "cafe menu xt").await, both, "newest first");
    assert!(found(&app, &token, "cafe menu zz").await.is_empty());
}

#[tokio::test]
async fn the_index_follows_renames_descriptions_moves_and_deletes() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let id = upload(&app, &token, None, "draft.txt", b"x").await;
    assert_eq!(found(&app, &token, "draft").await, ["draft.txt"]);

    let renamed =
        app.api(Method::PATCH, &format!("/files/{id}"), &token).json(&json!({"name": "final.txt"}));
    assert!(renamed.send().await.unwrap().status().is_success());
    assert!(found(&app, &token, "draft").await.is_empty(), "the old name is gone at once");
    assert_eq!(found(&app, &token, "final").await, ["final.txt"]);

    describe(&app, &token, &id, "signed by the board").await;
    assert_eq!(found(&app, &token, "board").await, ["final.txt"]);
    describe(&app, &token, &id, "").await;
    assert!(found(&app, &token, "board").await.is_empty());

    let archive = app.create_folder(&token, None, "Archive").await;
    let inner = app.create_folder(&token, Some(&archive), "2026").await;
    assert!(found(&app, &token, "final in:archive").await.is_empty());
    let moved =
        app.api(Method::PATCH, &format!("/files/{id}"), &token).json(&json!({"folder_id": inner}));
    assert!(moved.send().await.unwrap().status().is_success());
    assert_eq!(found(&app, &token, "final in:Archive").await, ["final.txt"], "the whole subtree");
    let hits = app.get_json("/search?q=final", &token).await;
    assert_eq!(hits["hits"][0]["path"], "/Archive/2026");
    let renamed = app
        .api(Method::PATCH, &format!("/folders/{archive}"), &token)
        .json(&json!({"name": "Old"}));
    assert!(renamed.send().await.unwrap().status().is_success());
    assert_eq!(found(&app, &token, "final in:\"old\"").await, ["final.txt"], "folder renamed");
    assert_eq!(app.get_json("/search?q=final", &token).await["hits"][0]["path"], "/Old/2026");

    let deleted = app.api(Method::DELETE, &format!("/files/{id}"), &token).send().await.unwrap();
    assert!(deleted.status().is_success());
    assert!(found(&app, &token, "final").await.is_empty(), "deleted files are not found");
    upload(&app, &token, Some(&inner), "report.txt", b"y").await;
    let gone =
        app.api(Method::DELETE, &format!("/folders/{archive}"), &token).send().await.unwrap();
    assert!(gone.status().is_success());
    assert!(found(&app, &token, "report").await.is_empty(), "nor files of deleted folders");
}

/// The folders found for `q` (name, path), in order.
async fn folders_found(app: &TestApp, token: &str, q: &str) -> Vec<(String, String)> {
    let response = app.api(Method::GET, "/search", token).query(&[("q", q)]).send().await.unwrap();
    assert_eq!(response.status(), 200, "{q}");
    let page: Value = response.json().await.unwrap();
    page["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            let name = hit["folder"]["name"].as_str().unwrap().to_owned();
            (name, hit["path"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn folders_are_found_by_name_and_follow_renames_moves_and_deletes() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    app.create_folder(&bob, None, "Tax Returns").await;
    let taxes = app.create_folder(&token, None, "Tax Returns").await;
    let cafe = app.create_folder(&token, Some(&taxes), "Café 2026").await;
    let owned = |name: &str, path: &str| vec![(name.to_owned(), path.to_owned())];

    assert_eq!(folders_found(&app, &token, "TAX").await, owned("Tax Returns", "/"), "not bob's");
    assert_eq!(folders_found(&app, &token, "cafe").await, owned("Café 2026", "/Tax Returns"));
    assert_eq!(folders_found(&app, &token, "ca").await, owned("Café 2026", "/Tax Returns"));
    assert_eq!(folders_found(&app, &token, "\"returns\"").await, owned("Tax Returns", "/"));
    assert!(folders_found(&app, &token, "tax -returns").await.is_empty(), "left out");
    assert!(folders_found(&app, &token, "tax type:pdf").await.is_empty(), "folders have no type");
    assert_eq!(folders_found(&app, &token, "2026 in:\"tax returns\"").await.len(), 1);

    // A first page holds the folders; the next ones do not repeat them.
    upload(&app, &token, None, "tax-2025.pdf", b"a").await;
    upload(&app, &token, None, "tax-2024.pdf", b"b").await;
    let first = app.get_json("/search?q=tax&limit=1", &token).await;
    assert_eq!(first["folders"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app.get_json(&format!("/search?q=tax&limit=1&cursor={cursor}"), &token).await;
    assert_eq!(next["hits"].as_array().unwrap().len(), 1);
    assert!(next["folders"].as_array().unwrap().is_empty());

    let renamed = app
        .api(Method::PATCH, &format!("/folders/{taxes}"), &token)
        .json(&json!({"name": "Receipts"}));
    assert!(renamed.send().await.unwrap().status().is_success());
    assert!(folders_found(&app, &token, "returns").await.is_empty(), "the old name is gone");
    assert_eq!(folders_found(&app, &token, "receipt").await, owned("Receipts", "/"));
    assert_eq!(folders_found(&app, &token, "cafe").await, owned("Café 2026", "/Receipts"));
    let moved = app
        .api(Method::PATCH, &format!("/folders/{cafe}"), &token)
        .json(&json!({"parent_id": "root"}));
    assert!(moved.send().await.unwrap().status().is_success());
    assert_eq!(folders_found(&app, &token, "cafe").await, owned("Café 2026", "/"));
    let moved_back = app
        .api(Method::PATCH, &format!("/folders/{cafe}"), &token)
        .json(&json!({"parent_id": taxes}));
    assert!(moved_back.send().await.unwrap().status().is_success());

    let gone = app.api(Method::DELETE, &format!("/folders/{taxes}"), &token).send().await.unwrap();
    assert!(gone.status().is_success());
    assert!(folders_found(&app, &token, "receipt").await.is_empty());
    assert!(folders_found(&app, &token, "cafe").await.is_empty(), "nor the folders inside");
    if app.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        use sea_orm::ConnectionTrait;
        let count = |table: &'static str| {
            let db = app.db.clone();
            async move {
                let sql = format!("SELECT count(*) AS n FROM {table}");
                let row = db.query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    sql,
                ));
                row.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
            }
        };
        let named = count("folders WHERE parent_id IS NOT NULL").await;
        assert_eq!(count("search_folder_rows").await, named, "no index row outlives its folder");
        assert_eq!(count("search_folders").await, named);
    }
}

/// The files found for `q` as `path/name`, in order, every page of `limit` read.
async fn paths_found(app: &TestApp, token: &str, q: &str, limit: u32) -> Vec<String> {
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let query = [("q", q), ("limit", &limit.to_string()), ("cursor", &cursor)];
        let response = app.api(Method::GET, "/search", token).query(&query).send().await.unwrap();
        assert_eq!(response.status(), 200, "{q}: {}", response.text().await.unwrap());
        let page: Value = response.json().await.unwrap();
        seen.extend(page["hits"].as_array().unwrap().iter().map(|hit| {
            let path = hit["path"].as_str().unwrap().trim_end_matches('/');
            format!("{path}/{}", hit["file"]["name"].as_str().unwrap())
        }));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return seen,
        }
    }
}

/// Words may be in the folders above a file: a name holding some of them and its folders'
/// path the rest (`2018 beach` finds `Photos/2018/beach.jpg`), ranked after names holding
/// every word and before descriptions and texts; paths follow renames and moves of the
/// folders above at once.
#[tokio::test]
async fn words_may_name_the_folders_above_a_file_whose_name_holds_another() {
    let app = spawn_app().await;
    let (_, ada) = app.user_with_token("ada@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    let photos = app.create_folder(&ada, None, "Photos").await;
    let y2018 = app.create_folder(&ada, Some(&photos), "2018").await;
    let y2019 = app.create_folder(&ada, Some(&photos), "2019").await;
    let sunset = app.create_folder(&ada, Some(&y2018), "Sunset").await;
    let bobs = app.create_folder(&bob, None, "2018").await;
    upload(&app, &bob, Some(&bobs), "beach.jpg", b"bob").await;
    let from_2019 = upload(&app, &ada, Some(&y2019), "beach.jpg", b"1").await;
    upload(&app, &ada, Some(&y2018), "beach.jpg", b"2").await;
    upload(&app, &ada, Some(&sunset), "beach-hut.png", b"3").await;
    upload(&app, &ada, None, "2018-report.txt", b"4").await;
    let described = upload(&app, &ada, Some(&y2018), "lake.jpg", b"5").await;
    describe(&app, &ada, &described, "a beach by the lake").await;
    let found = |q: &'static str| paths_found(&app, &ada, q, 20);

    let in_2018 = ["/Photos/2018/Sunset/beach-hut.png", "/Photos/2018/beach.jpg"];
    assert_eq!(found("2018 beach").await, in_2018, "newest first, not bob's");
    assert_eq!(found("beach 2018").await, in_2018, "in any order");
    assert_eq!(found("photos 2018 beach").await, in_2018, "two folders' words");
    assert_eq!(found("2018").await, ["/2018-report.txt"], "one word: the name holds it");
    assert!(found("photos 2018").await.is_empty(), "a name holds one of the words");
    assert_eq!(found("2018 beach -hut").await, ["/Photos/2018/beach.jpg"], "left out");
    assert_eq!(found("beach sunset").await, ["/Photos/2018/Sunset/beach-hut.png"]);
    assert_eq!(found("SUNSÉT BEACH").await.len(), 1, "folded like names");

    // Names that hold every word first, then names and paths, then descriptions and texts;
    // pages of one walk through all three without repeats.
    upload(&app, &ada, None, "beach-2018.jpg", b"6").await;
    describe(&app, &ada, &described, "a beach in 2018").await;
    let ranked = [
        "/beach-2018.jpg",
        "/Photos/2018/Sunset/beach-hut.png",
        "/Photos/2018/beach.jpg",
        "/Photos/2018/lake.jpg",
    ];
    assert_eq!(found("2018 beach").await, ranked);
    assert_eq!(paths_found(&app, &ada, "2018 beach", 1).await, ranked);

    // Paths follow renames and moves at once.
    let renamed =
        app.api(Method::PATCH, &format!("/folders/{y2018}"), &ada).json(&json!({"name": "Summer"}));
    assert!(renamed.send().await.unwrap().status().is_success());
    assert_eq!(found("2018 beach").await, ["/beach-2018.jpg", "/Photos/Summer/lake.jpg"]);
    assert_eq!(found("summer beach").await.len(), 2);
    assert_eq!(found("photos sunset beach").await.len(), 1, "a folder below the renamed one");
    let moved = app
        .api(Method::PATCH, &format!("/files/{from_2019}"), &ada)
        .json(&json!({"folder_id": sunset}));
    assert!(moved.send().await.unwrap().status().is_success());
    assert_eq!(
        found("sunset beach").await,
        ["/Photos/Summer/Sunset/beach-hut.png", "/Photos/Summer/Sunset/beach.jpg"]
    );
    let sunset_up = app
        .api(Method::PATCH, &format!("/folders/{sunset}"), &ada)
        .json(&json!({"parent_id": y2019}));
    assert!(sunset_up.send().await.unwrap().status().is_success());
    assert!(found("summer hut").await.is_empty(), "moved out of Summer");
    assert_eq!(found("2019 sunset hut").await, ["/Photos/2019/Sunset/beach-hut.png"]);
}

#[tokio::test]
async fn filters_narrow_by_type_extension_size_and_date() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let pdf = upload(&app, &token, None, "report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n").await;
    upload(&app, &token, None, "report.md", &vec![b'a'; 2_000]).await;
    upload(&app, &token, None, "report.zip", b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
        .await;

    assert_eq!(found(&app, &token, "report type:pdf").await, ["report.pdf"]);
    assert_eq!(found(&app, &token, "report type:archive").await, ["report.zip"]);
    assert_eq!(found(&app, &token, "ext:md").await, ["report.md"], "a filter alone");
    assert_eq!(found(&app, &token, "report ext:md,zip").await.len(), 2);
    assert_eq!(found(&app, &token, "report size:>1KB").await, ["report.md"]);
    assert_eq!(found(&app, &token, "report size:<1KB").await.len(), 2);
    let updated = app.get_json(&format!("/files/{pdf}"), &token).await;
    let this_year = updated["updated_at"].as_str().unwrap()[..4].to_owned();
    assert_eq!(found(&app, &token, &format!("report modified:{this_year}")).await.len(), 3);
    assert!(found(&app, &token, "report before:2000-01-01").await.is_empty());
    assert_eq!(found(&app, &token, "report after:2000-01-01").await.len(), 3);
}

#[tokio::test]
async fn each_account_finds_only_its_own_files() {
    let app = spawn_app().await;
    let (_, ada) = app.user_with_token("ada@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    let adas = upload(&app, &ada, None, "secret plan.txt", b"ada").await;
    describe(&app, &ada, &adas, "the shared word").await;
    let bobs = upload(&app, &bob, None, "secret plan.txt", b"bob").await;
    describe(&app, &bob, &bobs, "the shared word").await;
    for (token, id) in [(&ada, &adas), (&bob, &bobs)] {
        for q in ["secret", "shared word", "se", "type:text"] {
            let page = app.get_json(&format!("/search?q={}", urlencode(q)), token).await;
            let ids: Vec<&str> = page["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["file"]["id"].as_str().unwrap())
                .collect();
            assert!(ids.iter().all(|found| found == id), "{q}: {ids:?}");
        }
    }
    let anonymous =
        app.client.get(format!("{}/api/v1/search?q=secret", app.address)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn pages_follow_each_other_without_repeats() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    for i in 0..23 {
        upload(&app, &token, None, &format!("photo-{i:02}.txt"), b"z").await;
    }
    // One word; and a short one beside two long ones (on PostgreSQL: read another way).
    for q in ["photo", "photo txt o-"] {
        let (mut seen, mut cursor) = (Vec::new(), String::new());
        loop {
            let page = format!("/search?q={q}&limit=10&cursor={cursor}");
            let page = app.get_json(&page, &token).await;
            seen.extend(
                page["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["file"]["name"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        let newest_first: Vec<String> =
            (0..23).rev().map(|i| format!("photo-{i:02}.txt")).collect();
        assert_eq!(seen, newest_first, "{q}: each once, newest first");
    }
}

#[tokio::test]
async fn bad_queries_are_400_with_a_reason_and_odd_syntax_is_text() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    upload(&app, &token, None, "a*b (x) NEAR.txt", b"z").await;
    for q in ["\"open", "type:movie", "size:>lots", "modified:2026-13", &"x".repeat(10_000)] {
        let response =
            app.api(Method::GET, "/search", &token).query(&[("q", q)]).send().await.unwrap();
        assert_eq!(response.status(), 400, "{q}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{q}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    for q in ["a*b", "(x)", "NEAR", "x) OR (y", "\"\"\"\"", "'; DROP TABLE files; --", "50%", "_"] {
        found(&app, &token, q).await;
    }
    assert_eq!(found(&app, &token, "a*b").await, ["a*b (x) NEAR.txt"]);
    assert_eq!(found(&app, &token, "(x)").await, ["a*b (x) NEAR.txt"]);
    assert!(found(&app, &token, "50%").await.is_empty(), "% is a character, not a wildcard");
    for cursor in ["-1", "abc", "99999999999"] {
        let response = app
            .api(Method::GET, "/search", &token)
            .query(&[("q", "x"), ("cursor", cursor)])
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(status, 400, "{cursor}: {}", response.text().await.unwrap());
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

/// `pannier search reindex` rebuilds an index that lost its entries (on SQLite: emptied here
/// behind the app's back; on PostgreSQL the indexes are rebuilt and still answer).
#[tokio::test]
async fn reindex_rebuilds_the_index_from_the_files() {
    use sea_orm::ConnectionTrait;
    use secrecy::ExposeSecret;
    let app = crate::helpers::spawn_app_with(|config| config.workers = 0).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    upload(&app, &token, None, "minutes.txt", b"m").await;
    app.create_folder(&token, None, "Minutes of meetings").await;
    let sqlite = app.db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    if sqlite {
        app.db.execute_unprepared("DELETE FROM search_fts").await.unwrap();
        app.db.execute_unprepared("DELETE FROM search_folders").await.unwrap();
        assert!(found(&app, &token, "minutes").await.is_empty(), "the index lost it");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pannier"))
        .args(["search", "reindex"])
        .env_clear()
        .env("PANNIER_LOG_LEVEL", "warn")
        .env("PANNIER_DATA_DIR", &app.config.data_dir)
        .env("PANNIER_DATABASE_URL", app.config.database_url.as_ref().unwrap().expose_secret())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "search index rebuilt: 1 files; text still to read: 1",
        "its text is not read yet (no workers here)"
    );
    assert_eq!(found(&app, &token, "minutes").await, ["minutes.txt"]);
    assert_eq!(folders_found(&app, &token, "meetings").await.len(), 1, "folders too");
    upload(&app, &token, None, "minutes-2.txt", b"n").await;
    assert_eq!(found(&app, &token, "minutes").await.len(), 2, "the triggers still work after it");
}
