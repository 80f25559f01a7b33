//! Previews through the real app: a photo's thumbnails (EXIF rotation applied, metadata gone)
//! in the listing and at their routes; a video's poster, an audio file's cover and a PDF's
//! page made by ffmpeg and pdftoppm; a decompression bomb, a cut-off video and a broken PDF
//! get no preview and the server stays up; thumbnails go with their file; on a share link
//! they follow the policy and never count as downloads. Local disk or S3, as the run says.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, pdf, spawn_app_with};

/// An app whose jobs the test runs itself ([`domain::jobs::drain`]).
async fn app() -> TestApp {
    spawn_app_with(|config| config.workers = 0).await
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let response = app.put_file(token, None, name, bytes).await;
    assert_eq!(response.status(), 201, "{name}");
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// The file's `media` as the listing of the root folder has it.
async fn media_in_listing(app: &TestApp, token: &str, id: &str) -> Value {
    let listing = app.get_json("/folders/root", token).await;
    let file = listing["files"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap();
    file["media"].clone()
}

/// A 2000 × 1000 photo whose EXIF says "rotate 90° clockwise", taken with "Pannier Cam".
fn rotated_photo() -> Vec<u8> {
    let photo = RgbImage::from_fn(2000, 1000, |x, _| Rgb([if x < 1000 { 250 } else { 5 }, 40, 40]));
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(photo)
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    // TIFF header, then IFD0: Orientation = 6 and Model = "Pannier Cam" (stored after it).
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x02".to_vec();
    exif.extend([0x01, 0x10, 0x00, 0x02, 0, 0, 0, 12, 0, 0, 0, 38]);
    exif.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, 6, 0, 0]);
    exif.extend([0, 0, 0, 0]);
    exif.extend(b"Pannier Cam\0");
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    out.extend(&exif);
    out.extend(&jpeg[2..]);
    out
}

#[tokio::test]
async fn a_photo_gets_rotated_thumbnails_that_go_with_it() {
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, other) = app.user_with_token("eve@example.com").await;
    let id = upload(&app, &token, "IMG_0001.jpg", rotated_photo()).await;
    assert_eq!(media_in_listing(&app, &token, &id).await, Value::Null, "not made yet");
    let early = app.api(Method::GET, &format!("/files/{id}/thumbnail"), &token).send().await;
    assert_eq!(early.unwrap().status(), 404);
    app.run_jobs().await;

    let media = media_in_listing(&app, &token, &id).await;
    assert_eq!(media["kind"], "image");
    assert_eq!((media["width"].as_u64(), media["height"].as_u64()), (Some(1000), Some(2000)));
    assert_eq!((media["thumbnail"].as_bool(), media["large"].as_bool()), (Some(true), Some(true)));
    assert_eq!(media["camera"], "Pannier Cam");
    assert!(media["placeholder"].as_str().unwrap().starts_with("data:image/png;base64,"));

    for (size, side) in [("small", (128, 256)), ("large", (512, 1024))] {
        let path = format!("/files/{id}/thumbnail?size={size}");
        let response = app.api(Method::GET, &path, &token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        let etag = response.headers()["etag"].clone();
        let bytes = response.bytes().await.unwrap();
        assert!(!bytes.windows(11).any(|w| w == b"Pannier Cam"), "metadata stripped");
        let thumbnail = image::load_from_memory(&bytes).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), side);
        // Rotated: the red half (the photo's left) is now on top.
        let top = thumbnail.to_rgb8().get_pixel(side.0 / 2, side.1 / 8).0;
        assert!(top[0] > 200 && top[2] < 100, "{top:?}");
        let again = app.api(Method::GET, &path, &token).header("if-none-match", etag);
        assert_eq!(again.send().await.unwrap().status(), 304);
        let theirs = app.api(Method::GET, &path, &other).send().await.unwrap();
        assert_eq!(theirs.status(), 404, "someone else's file");
    }
    let nonsense = app.api(Method::GET, &format!("/files/{id}/thumbnail?size=huge"), &token);
    assert_eq!(nonsense.send().await.unwrap().status(), 400);

    let objects = app.stored_objects().await;
    let deleted = app.api(Method::DELETE, &format!("/files/{id}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.stored_objects().await, objects - 3, "the bytes and both thumbnails");
}

/// Runs ffmpeg to make a fixture in `dir`; its bytes.
fn ffmpeg(dir: &Path, out: &str, args: &[&str]) -> Vec<u8> {
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(dir.join(out))
        .status()
        .expect("ffmpeg runs (scripts/bootstrap.sh installs it)");
    assert!(status.success());
    std::fs::read(dir.join(out)).unwrap()
}

#[tokio::test]
async fn video_audio_and_pdf_get_previews_from_their_tools() {
    let tools = domain::media::tools().await;
    assert!(
        tools.video() && tools.pdf(),
        "ffmpeg and pdftoppm are installed: {:?}",
        tools.missing()
    );
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let video = ffmpeg(
        dir.path(),
        "clip.mp4",
        &["-f", "lavfi", "-i", "testsrc=duration=5:size=320x240:rate=10", "-pix_fmt", "yuv420p"],
    );
    let cover = RgbImage::from_pixel(300, 300, Rgb([20, 200, 20]));
    DynamicImage::ImageRgb8(cover).save(dir.path().join("cover.png")).unwrap();
    let cover = dir.path().join("cover.png");
    let audio = ffmpeg(
        dir.path(),
        "song.mp3",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-i",
            cover.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "libmp3lame",
            "-c:v",
            "png",
            "-id3v2_version",
            "3",
            "-disposition:v:0",
            "attached_pic",
        ],
    );
    let plain_audio = ffmpeg(
        dir.path(),
        "beep.mp3",
        &["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libmp3lame"],
    );
    let video_id = upload(&app, &token, "clip.mp4", video.clone()).await;
    let audio_id = upload(&app, &token, "song.mp3", audio).await;
    let plain_id = upload(&app, &token, "beep.mp3", plain_audio).await;
    let pdf_id = upload(&app, &token, "page.pdf", pdf("0.1 0.2 0.6 rg 50 50 200 100 re f")).await;
    let cut_id = upload(&app, &token, "cut.mp4", video[..video.len() / 2].to_vec()).await;
    let broken_id =
        upload(&app, &token, "broken.pdf", b"%PDF-1.4\n1 0 obj << /Kids [".to_vec()).await;
    app.run_jobs().await;

    let media = media_in_listing(&app, &token, &video_id).await;
    assert_eq!(media["kind"], "video");
    assert_eq!((media["width"].as_u64(), media["height"].as_u64()), (Some(320), Some(240)));
    assert!((4900..=5100).contains(&media["duration_ms"].as_u64().unwrap()), "{media}");
    assert_eq!(media["thumbnail"], true);
    let media = media_in_listing(&app, &token, &audio_id).await;
    assert_eq!((media["kind"].as_str(), media["thumbnail"].as_bool()), (Some("audio"), Some(true)));
    assert!((1900..=2200).contains(&media["duration_ms"].as_u64().unwrap()), "{media}");
    let cover = thumbnail(&app, &token, &audio_id).await.to_rgb8();
    assert!(cover.get_pixel(10, 10).0[1] > 150, "the cover art");
    let media = media_in_listing(&app, &token, &plain_id).await;
    assert_eq!((media["thumbnail"].as_bool(), media["error"].as_str()), (Some(false), None));
    assert!(media["duration_ms"].as_u64().unwrap() > 900, "a duration, no cover: {media}");
    let media = media_in_listing(&app, &token, &pdf_id).await;
    assert_eq!((media["kind"].as_str(), media["thumbnail"].as_bool()), (Some("pdf"), Some(true)));
    let page = thumbnail(&app, &token, &pdf_id).await;
    assert_eq!(page.width(), 256, "a landscape page");

    for (id, what) in [(&cut_id, "a cut-off video"), (&broken_id, "a broken PDF")] {
        let media = media_in_listing(&app, &token, id).await;
        assert_eq!(media["thumbnail"], false, "{what}");
        let error = media["error"].as_str().unwrap_or_default();
        assert!(!error.is_empty(), "{what}: {media}");
        let data_dir = app.config.data_dir.to_string_lossy().into_owned();
        assert!(!error.contains("/previews/") && !error.contains(&data_dir), "no paths: {error}");
        let none = app.api(Method::GET, &format!("/files/{id}/thumbnail"), &token).send().await;
        assert_eq!(none.unwrap().status(), 404, "{what}");
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn thumbnail(app: &TestApp, token: &str, id: &str) -> DynamicImage {
    let response = app.api(Method::GET, &format!("/files/{id}/thumbnail"), token).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), 200);
    image::load_from_memory(&response.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_decompression_bomb_gets_no_preview_and_the_server_stays_up() {
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let bomb = bomb_png();
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let id = upload(&app, &token, "bomb.png", bomb).await;
    app.run_jobs().await;
    let media = media_in_listing(&app, &token, &id).await;
    assert_eq!(media["thumbnail"], false);
    assert!(media["error"].as_str().unwrap().contains("50000 × 50000"), "{media}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// A PNG header for 50,000 × 50,000 grey pixels and the start of its data.
fn bomb_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        png.extend(&body);
        png.extend(crc(&body).to_be_bytes());
    };
    let mut header = 50_000u32.to_be_bytes().to_vec();
    header.extend(50_000u32.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]);
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

/// CRC-32 (the PNG chunk checksum).
fn crc(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[tokio::test]
async fn shared_thumbnails_follow_the_policy_and_never_count() {
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let id = upload(&app, &token, "IMG_0001.jpg", rotated_photo()).await;
    app.run_jobs().await;
    let share = app
        .share(&token, json!({ "file_ids": [id], "password": "open sesame", "max_downloads": 1 }))
        .await;
    let slug = share["slug"].as_str().unwrap();
    let path = format!("{}/s/{slug}/files/{id}/thumbnail", app.address);
    let visitor = crate::helpers::browser();
    assert_eq!(visitor.get(&path).send().await.unwrap().status(), 401, "locked");
    let unlocked = visitor
        .post(format!("{}/s/{slug}/unlock", app.address))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .form(&[("password", "open sesame")])
        .send()
        .await
        .unwrap();
    assert_eq!(unlocked.status(), 303);
    for _ in 0..3 {
        let response = visitor.get(format!("{path}?size=large")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "private, no-cache");
    }
    let page = visitor.get(format!("{}/s/{slug}", app.address)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("/s/{slug}/files/{id}/thumbnail")), "the page shows it");
    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["downloads"], 0, "thumbnails are not downloads");

    let revoked =
        app.api(Method::DELETE, &format!("/shares/{}", share["id"].as_str().unwrap()), &token);
    assert_eq!(revoked.send().await.unwrap().status(), 204);
    assert_eq!(visitor.get(&path).send().await.unwrap().status(), 404, "revoked");
}

#[tokio::test]
async fn chat_apps_get_a_card_with_the_picture_unless_the_link_is_locked() {
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let id = upload(&app, &token, "IMG_0001.jpg", rotated_photo()).await;
    app.run_jobs().await;
    let open = app.share(&token, json!({ "file_ids": [id], "label": "Holiday" })).await;
    let slug = open["slug"].as_str().unwrap();
    let page = app.get(&format!("/s/{slug}")).await.text().await.unwrap();
    let image = format!("{}/s/{slug}/files/{id}/thumbnail?size=large", app.address);
    assert!(page.contains(&format!(r#"property="og:image" content="{image}""#)), "{page}");
    assert!(page.contains(r#"name="twitter:card" content="summary_large_image""#));
    assert!(page.contains(r#"property="og:title" content="Holiday""#));
    // A chat app's robot fetching the card's picture gets it (not counted, no cookie needed).
    let picture = app.client.get(&image).send().await.unwrap();
    assert_eq!(picture.status(), 200);
    // The page sizes the picture before it loads (no shift), in the thumbnail's proportions
    // at most 320 px tall; the first loads at once; a phone may take the small one.
    let thumbnail = image::load_from_memory(&picture.bytes().await.unwrap()).unwrap();
    let (w, h) = (thumbnail.width(), thumbnail.height());
    let (w, h) = if h > 320 { (w * 320 / h, 320) } else { (w, h) };
    assert!(page.contains(&format!(r#"width="{w}" height="{h}""#)), "{w}×{h}: {page}");
    assert!(page.contains(r#"loading="eager" fetchpriority="high""#), "{page}");
    assert!(page.contains("thumbnail?size=small 256w"), "{page}");

    let locked = app.share(&token, json!({ "file_ids": [id], "password": "open sesame" })).await;
    let slug = locked["slug"].as_str().unwrap();
    let page = app.get(&format!("/s/{slug}")).await.text().await.unwrap();
    assert!(!page.contains("og:image") && !page.contains(&id), "a locked link shows nothing");
}

#[tokio::test]
async fn a_link_of_several_pictures_opens_on_a_gallery_with_the_other_files_below() {
    let app = app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let first = upload(&app, &token, "a-lake.jpg", rotated_photo()).await;
    let second = upload(&app, &token, "b-hill.jpg", rotated_photo()).await;
    let notes = upload(&app, &token, "c-notes.txt", b"notes".to_vec()).await;
    app.run_jobs().await;
    let share = app.share(&token, json!({ "file_ids": [first, second, notes] })).await;
    let slug = share["slug"].as_str().unwrap();
    let page = app.get(&format!("/s/{slug}")).await.text().await.unwrap();
    let (gallery, list) =
        page.split_once(r#"data-testid="shared-files""#).expect("the other files in a list");
    let gallery = gallery.split_once(r#"data-testid="shared-gallery""#).expect("a gallery").1;
    // Both pictures are square tiles sized before they load, each with its download; the
    // first loads at once. The text file is in the list, not the gallery.
    assert_eq!(gallery.matches(r#"data-testid="shared-thumbnail""#).count(), 2, "{gallery}");
    assert_eq!(gallery.matches(r#"width="256" height="256""#).count(), 2);
    assert_eq!(gallery.matches("fetchpriority=\"high\"").count(), 1);
    for id in [&first, &second] {
        assert!(gallery.contains(&format!("/s/{slug}/files/{id}?download=1")), "{id}");
    }
    assert!(!gallery.contains("c-notes.txt") && list.contains("c-notes.txt"));
    assert!(!list.contains("fetchpriority"), "the page's first picture is the gallery's");
}
