//! Streamed zips of stored files. Entries are *stored* (no compression: shared media rarely
//! shrinks, and then every size is known), so the archive's length is known before its first
//! byte and browsers show progress. The archive is written on the fly with constant memory:
//! each entry's local header, its object's bytes (CRC-32 computed on the way) and a data
//! descriptor, then the central directory. ZIP64 records are used when the archive passes
//! 4 GiB or 65,534 entries. Names are UTF-8 (general purpose flag bit 11).

use std::collections::HashSet;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::files::FileName;
use crate::storage::{BlobKey, BlobStore, BlobStream};

/// Flags: sizes and CRC follow the data (bit 3); names are UTF-8 (bit 11).
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// Chunks buffered ahead of the client.
const AHEAD: usize = 4;

/// One file of a zip.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// Its path in the archive (`a/b/name.ext`).
    pub name: String,
    /// Its size in bytes (the stored object's).
    pub size: u64,
    /// Shown as the entry's date.
    pub modified: DateTime<Utc>,
    /// Where its bytes are.
    pub key: BlobKey,
}

/// A zip to stream: its entries and their layout.
#[derive(Debug, Clone)]
pub struct ZipPlan {
    entries: Vec<ZipEntry>,
    zip64: bool,
}

impl ZipPlan {
    /// The archive of `entries`; a name used twice gets a number (`name (1).ext`).
    pub fn new(mut entries: Vec<ZipEntry>) -> Self {
        let mut seen = HashSet::new();
        for entry in &mut entries {
            entry.name = entry_name(&entry.name);
            let mut n = 0;
            let mut name = entry.name.clone();
            while !seen.insert(name.clone()) {
                n += 1;
                name = numbered(&entry.name, n);
            }
            entry.name = name;
        }
        let mut plan = Self { entries, zip64: false };
        plan.zip64 = plan.entries.len() >= 0xFFFF || plan.content_length() >= u64::from(u32::MAX);
        plan
    }

    /// The same archive with ZIP64 records even when small (to test readers with them).
    pub fn with_zip64(mut self) -> Self {
        self.zip64 = true;
        self
    }

    /// The archive's exact length in bytes.
    pub fn content_length(&self) -> u64 {
        let per_entry: u64 = self
            .entries
            .iter()
            .map(|e| {
                let name = e.name.len() as u64;
                (30 + name + self.local_extra_len())
                    + e.size
                    + self.descriptor_len()
                    + (46 + name + self.central_extra_len())
            })
            .sum();
        per_entry + if self.zip64 { 56 + 20 } else { 0 } + 22
    }

    /// Streams the archive, reading each object from `storage` in turn. A reader that goes
    /// away stops the writing.
    pub fn stream(self, storage: BlobStore) -> BlobStream {
        let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(AHEAD);
        tokio::spawn(async move {
            if let Err(err) = self.write(&storage, &sender).await {
                tracing::info!(error = %err, "zip stream ended early");
                let _ = sender.send(Err(err)).await;
            }
        });
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
        .boxed()
    }

    async fn write(
        &self,
        storage: &BlobStore,
        out: &mpsc::Sender<std::io::Result<Bytes>>,
    ) -> std::io::Result<()> {
        let send = |bytes: Bytes| async move {
            out.send(Ok(bytes)).await.map_err(|_| std::io::Error::other("the client went away"))
        };
        let mut offset = 0u64;
        let mut central = BytesMut::new();
        let keys = self.entries.iter().map(|entry| entry.key.clone()).collect();
        let mut objects = storage.read_each(keys);
        for entry in &self.entries {
            let header = self.local_header(entry);
            let start = offset;
            offset += header.len() as u64;
            send(header).await?;
            let mut crc = crc32fast::Hasher::new();
            let mut written = 0u64;
            let mut body = objects
                .next()
                .await
                .ok_or_else(|| std::io::Error::other("an object is missing"))?
                .map_err(std::io::Error::other)?;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                crc.update(&chunk);
                written += chunk.len() as u64;
                send(chunk).await?;
            }
            if written != entry.size {
                return Err(std::io::Error::other(format!("{} changed size", entry.name)));
            }
            let crc = crc.finalize();
            let descriptor = self.descriptor(entry, crc);
            offset += entry.size + descriptor.len() as u64;
            send(descriptor).await?;
            self.central_header(&mut central, entry, crc, start);
        }
        let directory_size = central.len() as u64;
        let mut end = central;
        self.end_records(&mut end, offset, directory_size);
        send(end.freeze()).await
    }

    fn local_extra_len(&self) -> u64 {
        if self.zip64 { 20 } else { 0 }
    }

    fn central_extra_len(&self) -> u64 {
        if self.zip64 { 28 } else { 0 }
    }

    fn descriptor_len(&self) -> u64 {
        if self.zip64 { 24 } else { 16 }
    }

    /// A 32-bit size or offset field: the value, or "see the ZIP64 record".
    fn small(&self, value: u64) -> u32 {
        if self.zip64 { u32::MAX } else { u32::try_from(value).unwrap_or(u32::MAX) }
    }

    fn version(&self) -> u16 {
        if self.zip64 { 45 } else { 20 }
    }

    fn local_header(&self, entry: &ZipEntry) -> Bytes {
        let (time, date) = dos_time(entry.modified);
        let mut b = BytesMut::new();
        b.put_u32_le(0x0403_4b50);
        b.put_u16_le(self.version());
        b.put_u16_le(FLAGS);
        b.put_u16_le(0); // stored
        b.put_u16_le(time);
        b.put_u16_le(date);
        b.put_u32_le(0); // CRC-32: in the data descriptor
        let unknown = if self.zip64 { u32::MAX } else { 0 };
        b.put_u32_le(unknown);
        b.put_u32_le(unknown);
        b.put_u16_le(u16::try_from(entry.name.len()).unwrap_or(u16::MAX));
        b.put_u16_le(u16::try_from(self.local_extra_len()).unwrap_or(0));
        b.put_slice(entry.name.as_bytes());
        if self.zip64 {
            b.put_u16_le(0x0001);
            b.put_u16_le(16);
            b.put_u64_le(0);
            b.put_u64_le(0);
        }
        b.freeze()
    }

    fn descriptor(&self, entry: &ZipEntry, crc: u32) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u32_le(0x0807_4b50);
        b.put_u32_le(crc);
        if self.zip64 {
            b.put_u64_le(entry.size);
            b.put_u64_le(entry.size);
        } else {
            b.put_u32_le(u32::try_from(entry.size).unwrap_or(u32::MAX));
            b.put_u32_le(u32::try_from(entry.size).unwrap_or(u32::MAX));
        }
        b.freeze()
    }

    fn central_header(&self, b: &mut BytesMut, entry: &ZipEntry, crc: u32, offset: u64) {
        let (time, date) = dos_time(entry.modified);
        b.put_u32_le(0x0201_4b50);
        // Made by Unix: unzip then takes the UTF-8 flag at its word (not an MS-DOS code page).
        b.put_u16_le((3 << 8) | self.version());
        b.put_u16_le(self.version());
        b.put_u16_le(FLAGS);
        b.put_u16_le(0);
        b.put_u16_le(time);
        b.put_u16_le(date);
        b.put_u32_le(crc);
        b.put_u32_le(self.small(entry.size));
        b.put_u32_le(self.small(entry.size));
        b.put_u16_le(u16::try_from(entry.name.len()).unwrap_or(u16::MAX));
        b.put_u16_le(u16::try_from(self.central_extra_len()).unwrap_or(0));
        b.put_u16_le(0); // comment
        b.put_u16_le(0); // disk
        b.put_u16_le(0); // internal attributes
        b.put_u32_le(0o100_644 << 16); // external attributes: a regular file, rw-r--r--
        b.put_u32_le(self.small(offset));
        b.put_slice(entry.name.as_bytes());
        if self.zip64 {
            b.put_u16_le(0x0001);
            b.put_u16_le(24);
            b.put_u64_le(entry.size);
            b.put_u64_le(entry.size);
            b.put_u64_le(offset);
        }
    }

    fn end_records(&self, b: &mut BytesMut, directory_offset: u64, directory_size: u64) {
        let count = self.entries.len() as u64;
        if self.zip64 {
            let record_offset = directory_offset + directory_size;
            b.put_u32_le(0x0606_4b50);
            b.put_u64_le(44);
            b.put_u16_le(45);
            b.put_u16_le(45);
            b.put_u32_le(0);
            b.put_u32_le(0);
            b.put_u64_le(count);
            b.put_u64_le(count);
            b.put_u64_le(directory_size);
            b.put_u64_le(directory_offset);
            b.put_u32_le(0x0706_4b50);
            b.put_u32_le(0);
            b.put_u64_le(record_offset);
            b.put_u32_le(1);
        }
        b.put_u32_le(0x0605_4b50);
        b.put_u16_le(0);
        b.put_u16_le(0);
        let entries = if self.zip64 { u16::MAX } else { u16::try_from(count).unwrap_or(u16::MAX) };
        b.put_u16_le(entries);
        b.put_u16_le(entries);
        b.put_u32_le(self.small(directory_size));
        b.put_u32_le(self.small(directory_offset));
        b.put_u16_le(0);
    }
}

/// MS-DOS time and date (2-second steps, from 1980).
fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    let year = u32::try_from(at.year().clamp(1980, 2107) - 1980).unwrap_or(0);
    let time = (at.hour() << 11) | (at.minute() << 5) | (at.second() / 2);
    let date = (year << 9) | (at.month() << 5) | at.day();
    (u16::try_from(time).unwrap_or(0), u16::try_from(date).unwrap_or(0))
}

/// A path that unpacks below the folder it is unpacked into, on any system: relative, no
/// empty, `.` or `..` parts, no drive letters or other colons, no backslashes, control or
/// invisible formatting characters (each part is a sanitized [`FileName`]).
fn entry_name(path: &str) -> String {
    let parts: Vec<String> = path
        .split(['/', '\\'])
        .filter(|part| !part.trim().is_empty() && *part != "." && *part != "..")
        .map(|part| FileName::sanitize(&part.replace(':', "_")).as_str().to_owned())
        .collect();
    if parts.is_empty() { "file".into() } else { parts.join("/") }
}

/// `a/b/name.ext` → `a/b/name (n).ext`.
fn numbered(path: &str, n: u32) -> String {
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let (stem, ext) = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (file, String::new()),
    };
    let file = format!("{stem} ({n}){ext}");
    if dir.is_empty() { file } else { format!("{dir}/{file}") }
}

#[cfg(test)]
mod tests {
    use super::entry_name;

    #[test]
    fn entry_names_stay_below_the_folder_they_unpack_into() {
        assert_eq!(entry_name("C:/Windows/evil.dll"), "C_/Windows/evil.dll");
        assert_eq!(entry_name("/etc/passwd"), "etc/passwd");
        assert_eq!(entry_name("../../up.txt"), "up.txt");
        assert_eq!(entry_name("a\\b\\c.txt"), "a/b/c.txt");
        assert_eq!(entry_name("bill\u{202E}fdp.exe"), "billfdp.exe");
        assert_eq!(entry_name("Фото/été 2026/海.jpg"), "Фото/été 2026/海.jpg");
    }
}
