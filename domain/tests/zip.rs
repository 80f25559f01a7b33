//! Streamed zips, checked by a real `unzip`: byte-for-byte contents, Unicode and repeated
//! names, an empty file, the exact announced length, with and without ZIP64 records.

#![expect(clippy::unwrap_used, reason = "a test fails loudly at the first surprise")]

use bytes::Bytes;
use domain::config::Config;
use domain::shares::{ZipEntry, ZipPlan};
use domain::storage::{BlobKey, BlobStore};
use futures_util::StreamExt;

async fn stored(store: &BlobStore, bytes: &[u8]) -> BlobKey {
    let key = BlobKey::new_file();
    let mut writer = store.writer(&key).await.unwrap();
    writer.write(Bytes::copy_from_slice(bytes)).await.unwrap();
    writer.finish().await.unwrap()
}

#[tokio::test]
async fn zips_stream_exact_bytes_that_unzip_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    let store = BlobStore::from_config(&config).await.unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("report.pdf", b"%PDF-1.4 pretend".to_vec()),
        ("Фото/été 2026/海.jpg", big),
        ("empty.txt", Vec::new()),
        ("report.pdf", b"another report".to_vec()),
    ];
    let mut entries = Vec::new();
    for (name, bytes) in &files {
        let key = stored(&store, bytes).await;
        let size = bytes.len() as u64;
        entries.push(ZipEntry { name: (*name).into(), size, modified: chrono::Utc::now(), key });
    }
    for zip64 in [false, true] {
        let plan = ZipPlan::new(entries.clone());
        let plan = if zip64 { plan.with_zip64() } else { plan };
        let announced = plan.content_length();
        let mut stream = plan.stream(store.clone());
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            archive.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(archive.len() as u64, announced, "Content-Length is exact (zip64: {zip64})");
        let path = dir.path().join(format!("out-{zip64}.zip"));
        std::fs::write(&path, &archive).unwrap();
        let test = std::process::Command::new("unzip").arg("-t").arg(&path).output().unwrap();
        assert!(test.status.success(), "unzip -t: {}", String::from_utf8_lossy(&test.stdout));
        let out = dir.path().join(format!("x-{zip64}"));
        let extract = std::process::Command::new("unzip")
            .arg("-q")
            .arg(&path)
            .arg("-d")
            .arg(&out)
            .output()
            .unwrap();
        assert!(extract.status.success(), "{}", String::from_utf8_lossy(&extract.stderr));
        assert_eq!(std::fs::read(out.join("report.pdf")).unwrap(), files[0].1);
        assert_eq!(std::fs::read(out.join("Фото/été 2026/海.jpg")).unwrap(), files[1].1);
        assert_eq!(std::fs::read(out.join("empty.txt")).unwrap(), b"");
        assert_eq!(std::fs::read(out.join("report (1).pdf")).unwrap(), files[3].1);
    }
}
