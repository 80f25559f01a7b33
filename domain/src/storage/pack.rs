//! Packs: the bytes of small files appended to shared files on local disk. A file of its own
//! costs each small object an inode (on ext4, allocating one scans past every inode deleted
//! lately), a temp file, a rename and two fsyncs; in a pack, every object that arrived while
//! the last batch was being made durable is written with one `write` and one `fdatasync`.
//!
//! `<data_dir>/packs/<uuid>` is a run of records: the object's length (u64, little endian), its
//! id (16 bytes) and its bytes. A key names the pack, the offset of the bytes and their length
//! ([`Span`]). Deleting an object punches a hole over its id and bytes: the blocks are freed at
//! once, the bytes read as zeros and the nil id marks the record dead, while its length still
//! leads to the next. Only the process that made a pack appends to it; it starts a new one
//! when the pack reaches [`PACK_SIZE`], after [`IDLE`] without writes, or when the pack is gone.
//! A pack left with no live record is removed once it was not written for [`SEALED`].

use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::StorageError;

/// Bytes of an object's id, the last of its header (right before its bytes).
const ID: u64 = 16;
/// Bytes before each object: its length (8) and its id.
const HEADER: u64 = 8 + ID;
/// A pack this large gets no more objects.
const PACK_SIZE: u64 = 64 << 20;
/// A pack not written for this long gets no more objects (so one seen unwritten for
/// [`SEALED`] is safe to remove).
const IDLE: Duration = Duration::from_secs(600);
/// A pack not written for this long no longer gets objects, whichever process made it.
pub(super) const SEALED: Duration = Duration::from_secs(1800);
/// Most objects written with one `fdatasync`.
const BATCH: usize = 256;

/// Where a packed object's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The pack file.
    pub pack: Uuid,
    /// The first byte's offset in it.
    pub offset: u64,
    /// How many bytes (never zero: empty objects are not packed).
    pub length: u64,
}

/// The appender of one store's packs: a thread of its own, started with the first object and
/// ended when the store is dropped.
#[derive(Debug)]
pub(super) struct Packer {
    dir: PathBuf,
    queue: Mutex<Option<mpsc::Sender<Append>>>,
}

struct Append {
    id: Uuid,
    bytes: Bytes,
    done: oneshot::Sender<std::io::Result<Span>>,
}

impl Packer {
    pub(super) fn new(dir: PathBuf) -> Self {
        Self { dir, queue: Mutex::new(None) }
    }

    /// Appends the object `id` and answers once its bytes are on disk (fsynced).
    pub(super) async fn append(&self, id: Uuid, bytes: Bytes) -> Result<Span, StorageError> {
        let (done, answer) = oneshot::channel();
        let queue = self.queue()?;
        queue.send(Append { id, bytes, done }).await.map_err(|_| stopped())?;
        Ok(answer.await.map_err(|_| stopped())??)
    }

    fn queue(&self) -> std::io::Result<mpsc::Sender<Append>> {
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = queue.as_ref().filter(|sender| !sender.is_closed()) {
            return Ok(sender.clone());
        }
        let (sender, waiting) = mpsc::channel(4 * BATCH);
        let dir = self.dir.clone();
        std::thread::Builder::new()
            .name("pannier-packs".into())
            .spawn(move || run(&dir, waiting))?;
        Ok(queue.insert(sender).clone())
    }
}

fn stopped() -> StorageError {
    StorageError::Io(std::io::Error::other("the pack writer stopped"))
}

/// The pack being appended to.
struct Pack {
    id: Uuid,
    file: std::fs::File,
    length: u64,
    written: Instant,
}

/// Writes batches until the store is gone: whatever waits when one batch is durable is the
/// next. A failed write abandons the pack (its end is unknown); the next batch starts another.
fn run(dir: &Path, mut waiting: mpsc::Receiver<Append>) {
    let mut pack = None;
    while let Some(first) = waiting.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match waiting.try_recv() {
                Ok(append) => batch.push(append),
                Err(_) => break,
            }
        }
        match write_batch(dir, &mut pack, &batch) {
            Ok(spans) => {
                for (append, span) in batch.into_iter().zip(spans) {
                    let _ = append.done.send(Ok(span));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not append to a pack");
                pack = None;
                for append in batch {
                    let _ = append.done.send(Err(std::io::Error::new(err.kind(), err.to_string())));
                }
            }
        }
    }
}

fn write_batch(
    dir: &Path,
    pack: &mut Option<Pack>,
    batch: &[Append],
) -> std::io::Result<Vec<Span>> {
    let usable = |pack: &Pack| -> std::io::Result<bool> {
        Ok(pack.length < PACK_SIZE
            && pack.written.elapsed() < IDLE
            && pack.file.metadata()?.nlink() > 0)
    };
    let pack = match pack {
        Some(open) if usable(open)? => open,
        _ => pack.insert(Pack::create(dir)?),
    };
    let total = batch.iter().map(|append| HEADER as usize + append.bytes.len()).sum();
    let mut records = Vec::with_capacity(total);
    let mut spans = Vec::with_capacity(batch.len());
    for append in batch {
        let length = append.bytes.len() as u64;
        records.extend_from_slice(&length.to_le_bytes());
        records.extend_from_slice(append.id.as_bytes());
        spans.push(Span { pack: pack.id, offset: pack.length + records.len() as u64, length });
        records.extend_from_slice(&append.bytes);
    }
    pack.file.write_all_at(&records, pack.length)?;
    pack.file.sync_data()?;
    pack.length += records.len() as u64;
    pack.written = Instant::now();
    Ok(spans)
}

impl Pack {
    /// A new empty pack, its name durable in the directory.
    fn create(dir: &Path) -> std::io::Result<Self> {
        let id = Uuid::new_v4();
        let file = std::fs::File::options().write(true).create_new(true).open(path(dir, id))?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(Self { id, file, length: 0, written: Instant::now() })
    }
}

/// The file of pack `id` in `dir`.
pub(super) fn path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(id.hyphenated().to_string())
}

/// Whether the record whose bytes start at `offset` in `pack` still holds object `id` (not
/// deleted: punching zeroes the id).
pub(super) fn holds(pack: &std::fs::File, offset: u64, id: Uuid) -> bool {
    let mut held = [0; ID as usize];
    offset.checked_sub(ID).is_some_and(|at| pack.read_exact_at(&mut held, at).is_ok())
        && held == *id.as_bytes()
}

/// Frees a packed object: its id and bytes become a hole (zeros, their blocks freed); where
/// the file system cannot punch holes, they are overwritten with zeros.
pub(super) fn punch(dir: &Path, span: Span) -> std::io::Result<()> {
    let file = match std::fs::File::options().write(true).open(path(dir, span.pack)) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        file => file?,
    };
    let start = span.offset.saturating_sub(ID);
    let length = span.offset + span.length - start;
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
        if fallocate(&file, flags, start, length).is_ok() {
            return Ok(());
        }
    }
    let zeros = vec![0; usize::try_from(length).map_err(std::io::Error::other)?];
    file.write_all_at(&zeros, start)
}

/// A pack as [`scan`] found it.
pub(super) struct Scanned {
    pub id: Uuid,
    /// The live objects in it: `(object id, span)`.
    pub live: Vec<(Uuid, Span)>,
    /// When it was last written.
    pub modified: SystemTime,
}

/// Every pack in `dir` (only those last written before `written_before`, when given: the others'
/// records are not read). A record cut short (a write a crash interrupted) ends its pack's run.
pub(super) fn scan(
    dir: &Path,
    written_before: Option<SystemTime>,
) -> std::io::Result<Vec<Scanned>> {
    let mut packs = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(packs),
        entries => entries?,
    };
    for entry in entries {
        let entry = entry?;
        let Ok(pack) = Uuid::parse_str(&entry.file_name().to_string_lossy()) else { continue };
        let file = match std::fs::File::open(entry.path()) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue, // removed
            file => file?,
        };
        let metadata = file.metadata()?;
        let modified = metadata.modified()?;
        if written_before.is_some_and(|before| modified >= before) {
            continue;
        }
        let live = records(file, metadata.len(), pack)?;
        packs.push(Scanned { id: pack, live, modified });
    }
    Ok(packs)
}

/// The live records of a pack of `size` bytes.
fn records(file: std::fs::File, size: u64, pack: Uuid) -> std::io::Result<Vec<(Uuid, Span)>> {
    let mut reader = std::io::BufReader::new(file);
    let mut live = Vec::new();
    let mut at = 0;
    let mut header = [0u8; HEADER as usize];
    while at + HEADER <= size {
        reader.read_exact(&mut header)?;
        let (length, id) = header.split_at(8);
        let length = u64::from_le_bytes(length.try_into().map_err(std::io::Error::other)?);
        let offset = at + HEADER;
        if length == 0 || length > size - offset {
            break; // the end of what was written whole
        }
        let id = Uuid::from_slice(id).map_err(std::io::Error::other)?;
        if !id.is_nil() {
            live.push((id, Span { pack, offset, length }));
        }
        at = offset + length;
        reader.seek_relative(i64::try_from(length).map_err(std::io::Error::other)?)?;
    }
    Ok(live)
}

/// Removes the packs not written for `age` (and for [`SEALED`]: nothing appends to them any
/// more) with no live object; younger packs' records are not read. How many.
pub(super) fn remove_empty(dir: &Path, age: Duration) -> std::io::Result<usize> {
    let cutoff = SystemTime::now() - age.max(SEALED);
    let mut removed = 0;
    for pack in scan(dir, Some(cutoff))? {
        if pack.live.is_empty() && std::fs::remove_file(path(dir, pack.id)).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packer() -> (tempfile::TempDir, Packer) {
        let dir = tempfile::tempdir().expect("dir");
        let packer = Packer::new(dir.path().to_path_buf());
        (dir, packer)
    }

    fn read(dir: &Path, span: Span) -> Vec<u8> {
        let file = std::fs::File::open(path(dir, span.pack)).expect("pack");
        let mut bytes = vec![0; span.length as usize];
        file.read_exact_at(&mut bytes, span.offset).expect("bytes");
        bytes
    }

    /// Many objects appended at once land whole, each where its span says, in few batches;
    /// the scan finds exactly them; a punched one is gone from the scan and reads as zeros.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_objects_land_whole_and_punched_ones_are_gone() {
        let (dir, packer) = packer();
        let packer = std::sync::Arc::new(packer);
        let mut appends = tokio::task::JoinSet::new();
        for n in 0..300u32 {
            let packer = packer.clone();
            appends.spawn(async move {
                let id = Uuid::new_v4();
                let bytes: Vec<u8> = (0..(n * 37 % 5000 + 1)).map(|i| (i + n) as u8).collect();
                let span = packer.append(id, Bytes::from(bytes.clone())).await.expect("append");
                (id, bytes, span)
            });
        }
        let objects = appends.join_all().await;
        for (_, bytes, span) in &objects {
            assert_eq!(&read(dir.path(), *span), bytes);
        }
        let packs = scan(dir.path(), None).expect("scan");
        assert_eq!(packs.len(), 1, "one pack while it has room");
        let mut found = packs[0].live.clone();
        let mut made: Vec<_> = objects.iter().map(|(id, _, span)| (*id, *span)).collect();
        found.sort_by_key(|(_, span)| span.offset);
        made.sort_by_key(|(_, span)| span.offset);
        assert_eq!(found, made);

        let (gone, _, span) = objects[7].clone();
        punch(dir.path(), span).expect("punch");
        assert!(read(dir.path(), span).iter().all(|&b| b == 0), "its bytes are zeros");
        let after = scan(dir.path(), None).expect("scan");
        assert_eq!(after[0].live.len(), 299);
        assert!(after[0].live.iter().all(|(id, _)| *id != gone));
        assert_eq!(remove_empty(dir.path(), Duration::ZERO).expect("remove"), 0, "still live");
    }

    /// A record cut short by a crash ends the scan; a removed pack is replaced, not written
    /// into the void; an empty pack is removed only once it can no longer be appended to.
    #[tokio::test]
    async fn cut_records_removed_packs_and_empty_packs() {
        let (dir, packer) = packer();
        let first = packer.append(Uuid::new_v4(), Bytes::from_static(b"first")).await.unwrap();
        let pack = path(dir.path(), first.pack);
        let file = std::fs::File::options().write(true).open(&pack).unwrap();
        let end = file.metadata().unwrap().len();
        file.write_all_at(&[200, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], end).unwrap(); // 200 promised
        assert_eq!(
            scan(dir.path(), None).unwrap()[0].live.len(),
            1,
            "the cut record is not an object"
        );

        std::fs::remove_file(&pack).unwrap();
        let second = packer.append(Uuid::new_v4(), Bytes::from_static(b"second")).await.unwrap();
        assert_ne!(second.pack, first.pack, "a new pack, not the removed one");
        assert_eq!(read(dir.path(), second), b"second");

        punch(dir.path(), second).unwrap();
        assert_eq!(remove_empty(dir.path(), Duration::ZERO).unwrap(), 0, "not sealed yet");
        let old = SystemTime::now() - SEALED - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(path(dir.path(), second.pack))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(remove_empty(dir.path(), Duration::ZERO).unwrap(), 1);
        assert!(scan(dir.path(), None).unwrap().is_empty());
    }
}
