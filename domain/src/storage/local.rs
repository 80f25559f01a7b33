//! Local disk: objects under `<data_dir>/blobs/…`, held in memory while small or written to
//! `<data_dir>/tmp` first, fsynced and renamed into place atomically, so a reader never sees a
//! partial object. A file's bytes held in memory to the end go to a pack instead ([`super::pack`]).

use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::fs::{self, File};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::pack::{self, Packer};
use super::{BlobKey, BlobStream, ByteRange, ObjectStreams, StorageError};

/// Read chunk size: big enough that per-chunk overhead vanishes next to the copy.
const READ_CHUNK: usize = 1 << 20;
/// Chunks read ahead of the client (memory per download ≈ READ_AHEAD × READ_CHUNK).
const READ_AHEAD: usize = 4;

/// Objects in a directory tree.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    tmp: PathBuf,
    uploads: PathBuf,
    packs: PathBuf,
    packer: std::sync::Arc<Packer>,
}

/// Objects up to this size are held in memory while they arrive and written in one blocking
/// call ([`LocalWriter`]); files' bytes then go to a pack.
const SMALL_WRITE: usize = 128 * 1024;

/// A temp file becoming an object. Its first [`SMALL_WRITE`] bytes are held in memory: an
/// object that ends within them never has a temp file while it streams; a file's bytes are
/// appended to a pack with others that end at about the same time (one fsync for all), other
/// objects are written in one hand-off to a blocking thread instead of one per step (create,
/// write, fsync, rename, fsync the directory). A larger one spills to its temp file and streams on.
#[derive(Debug)]
pub struct LocalWriter {
    writing: Writing,
    tmp_path: PathBuf,
    store: LocalStore,
    key: BlobKey,
}

#[derive(Debug)]
enum Writing {
    Held(BytesMut),
    File(File),
    Done,
}

impl LocalStore {
    /// Uses (and creates) `<data_dir>/blobs`, `tmp`, `uploads` and `packs`.
    pub async fn new(data_dir: PathBuf) -> Result<Self, StorageError> {
        let packs = data_dir.join("packs");
        let store = Self {
            root: data_dir.clone(),
            tmp: data_dir.join("tmp"),
            uploads: data_dir.join("uploads"),
            packer: std::sync::Arc::new(Packer::new(packs.clone())),
            packs,
        };
        fs::create_dir_all(&store.tmp).await?;
        fs::create_dir_all(&store.uploads).await?;
        fs::create_dir_all(&store.packs).await?;
        Ok(store)
    }

    /// `<data_dir>/blobs/ab/<uuid>`: two-character fan-out keeps directories small; a packed
    /// object's pack.
    fn path(&self, key: &BlobKey) -> PathBuf {
        if let Some(span) = key.span {
            return pack::path(&self.packs, span.pack);
        }
        let id = key.id.simple().to_string();
        self.root.join(key.kind).join(&id[..2]).join(key.id.hyphenated().to_string())
    }

    /// The file holding the object and the bytes of it to read (`range` of the object, or all
    /// of it): a packed object's range shifted to its place in the pack.
    fn locate(&self, key: &BlobKey, range: Option<ByteRange>) -> Place {
        let Some(span) = key.span else {
            return Place { path: self.path(key), range, record: None };
        };
        let ByteRange { start, end } =
            range.unwrap_or(ByteRange { start: 0, end: span.length - 1 });
        let range = Some(ByteRange { start: span.offset + start, end: span.offset + end });
        Place { path: self.path(key), range, record: Some((span.offset, key.id)) }
    }

    /// `<data_dir>/uploads/<id>`: the bytes of a resumable upload so far. Kept apart from
    /// `tmp`, whose day-old files are swept: a resumable upload lives as long as its record.
    pub fn staging_path(&self, upload: uuid::Uuid) -> PathBuf {
        self.uploads.join(upload.hyphenated().to_string())
    }

    /// Whether the object exists (completing an upload again after a crash).
    pub async fn exists(&self, key: &BlobKey) -> Result<bool, StorageError> {
        Ok(fs::try_exists(self.path(key)).await?)
    }

    /// Moves a complete, fsynced file into place under `key` and fsyncs the directory:
    /// durable before visible.
    pub async fn publish(&self, from: &Path, key: &BlobKey) -> Result<(), StorageError> {
        let (from, to) = (from.to_path_buf(), self.path(key));
        blocking(move || place(&from, &to)).await
    }

    pub(super) async fn writer(&self, key: &BlobKey) -> Result<LocalWriter, StorageError> {
        let tmp_path = self.tmp.join(format!("{}.part", uuid::Uuid::new_v4()));
        let writing = Writing::Held(BytesMut::new());
        Ok(LocalWriter { writing, tmp_path, store: self.clone(), key: key.clone() })
    }

    /// The object's bytes (or a range of them). What the page cache holds of the first
    /// [`READ_CHUNK`] is read right here, without waiting for the disk ([`read_cached`]): a
    /// small file or a ranged read of a hot file never waits for a blocking thread. The rest,
    /// if any, is read ahead on one ([`read_ahead`]).
    pub(super) async fn read(
        &self,
        key: &BlobKey,
        range: Option<ByteRange>,
    ) -> Result<BlobStream, StorageError> {
        let place = self.locate(key, range);
        // Opening and `fstat` are lookups of metadata that any recent read of the object
        // keeps in memory; they are done here, like nginx's workers do (and a packed object's
        // id, in the page its first bytes are read from next).
        let (file, length) = open(&place)?;
        let range = place.range;
        let start = range.map_or(0, |range| range.start);
        let first = read_cached(&file, start, length.min(READ_CHUNK as u64));
        drop(file);
        let got = first.len() as u64;
        if got == length {
            return Ok(futures_util::stream::once(async move { Ok(first) }).boxed());
        }
        let rest = ByteRange { start: start + got, end: start + length - 1 };
        let mut objects = read_ahead(vec![Place { range: Some(rest), record: None, ..place }]);
        let rest = objects
            .next()
            .await
            .unwrap_or_else(|| Err(std::io::Error::other("reader stopped").into()))?;
        if got == 0 {
            return Ok(rest);
        }
        Ok(futures_util::stream::once(async move { Ok(first) }).chain(rest).boxed())
    }

    pub(super) async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        if let Some(span) = key.span {
            let packs = self.packs.clone();
            return blocking(move || pack::punch(&packs, span)).await;
        }
        match fs::remove_file(self.path(key)).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.into()),
            _ => Ok(()),
        }
    }

    /// Every object of `kind` (`blobs`, `packed`, `avatars`…) as `(key, last modified)` (a
    /// packed object's: its pack's).
    pub(super) async fn list(&self, kind: &str) -> Result<Vec<(String, SystemTime)>, StorageError> {
        if kind == "packed" {
            let packs = self.packs.clone();
            let scanned = tokio::task::spawn_blocking(move || pack::scan(&packs, None))
                .await
                .map_err(std::io::Error::other)??;
            let keys = scanned.into_iter().flat_map(|pack| {
                pack.live.into_iter().map(move |(id, span)| {
                    (BlobKey::of("blobs", id).packed(span).as_string(), pack.modified)
                })
            });
            return Ok(keys.collect());
        }
        let mut found = Vec::new();
        let Ok(mut fans) = fs::read_dir(self.root.join(kind)).await else { return Ok(found) };
        while let Some(fan) = fans.next_entry().await? {
            if !fan.file_type().await?.is_dir() {
                continue;
            }
            let mut entries = fs::read_dir(fan.path()).await?;
            while let Some(entry) = entries.next_entry().await? {
                let modified = entry.metadata().await?.modified()?;
                found.push((format!("{kind}/{}", entry.file_name().to_string_lossy()), modified));
            }
        }
        Ok(found)
    }

    /// Removes temp files older than `age`, and packs with no live object left that nothing
    /// appends to any more ([`pack::remove_empty`]).
    pub(super) async fn remove_stale_writes(&self, age: Duration) -> Result<usize, StorageError> {
        let packs = self.packs.clone();
        let mut removed = tokio::task::spawn_blocking(move || pack::remove_empty(&packs, age))
            .await
            .map_err(std::io::Error::other)??;
        let mut entries = fs::read_dir(&self.tmp).await?;
        while let Some(entry) = entries.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            let stale =
                SystemTime::now().duration_since(modified).is_ok_and(|elapsed| elapsed > age);
            if stale && fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let probe = self.tmp.join(format!("probe-{}", uuid::Uuid::new_v4()));
        fs::write(&probe, b"ok").await?;
        fs::remove_file(&probe).await?;
        Ok(())
    }
}

/// Streams the objects at `paths` (each whole, or its range) one after another, each as its
/// own stream, read a few chunks ahead of the consumer on a blocking thread, so disk reads
/// overlap with the socket writes (and a zip of a thousand objects takes one thread at a time,
/// not one each). When the consumer falls behind — a slow or paused client — the reader gives
/// its thread back and continues once there is room, so slow readers never pin the blocking
/// pool. A missing object is `NotFound` before any of its bytes; reading stops when the
/// consumer goes away.
fn read_ahead(paths: Vec<Place>) -> ObjectStreams {
    // Holds the next object's stream while the current one is read out.
    let (objects, receiver) = mpsc::channel(1);
    let reader = Reader { objects, pending: None, current: None, rest: paths.into_iter() };
    tokio::task::spawn_blocking(move || reader.run());
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|object| (object, receiver))
    })
    .boxed()
}

/// What is left to read: an object waiting to be handed over, the one being read out (file,
/// bytes left, its chunks), and the rest.
struct Reader {
    objects: mpsc::Sender<Result<BlobStream, StorageError>>,
    pending: Option<Result<BlobStream, StorageError>>,
    current: Option<(std::fs::File, u64, mpsc::Sender<std::io::Result<Bytes>>)>,
    rest: std::vec::IntoIter<Place>,
}

impl Reader {
    /// Reads (blocking) until everything is read, the consumer is gone, or a channel is full;
    /// in the last case it waits for room off the thread ([`Self::resume_when`]).
    fn run(mut self) {
        loop {
            if let Some(object) = self.pending.take() {
                match self.objects.try_send(object) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(object)) => {
                        self.pending = Some(object);
                        let objects = self.objects.clone();
                        return self.resume_when(async move { objects.reserve().await.is_ok() });
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return, // consumer gone
                }
            }
            if let Some((mut file, mut left, chunks)) = self.current.take() {
                let mut full = false;
                while left > 0 {
                    let permit = match chunks.try_reserve() {
                        Ok(permit) => permit,
                        Err(mpsc::error::TrySendError::Full(())) => {
                            full = true;
                            break;
                        }
                        Err(mpsc::error::TrySendError::Closed(())) => return, // client gone
                    };
                    let want = left.min(READ_CHUNK as u64);
                    // `read_to_end` fills spare capacity without zeroing it first (no more
                    // than is wanted: a 100-byte file does not take a 1 MiB buffer).
                    let mut chunk = Vec::with_capacity(usize::try_from(want).unwrap_or(READ_CHUNK));
                    match (&mut file).take(want).read_to_end(&mut chunk) {
                        Ok(0) => break,
                        Ok(read) => {
                            left -= read as u64;
                            permit.send(Ok(Bytes::from(chunk)));
                        }
                        Err(err) => {
                            permit.send(Err(err));
                            break;
                        }
                    }
                }
                if full {
                    let room = chunks.clone();
                    self.current = Some((file, left, chunks));
                    return self.resume_when(async move { room.reserve().await.is_ok() });
                }
            }
            let Some(place) = self.rest.next() else { return };
            match open(&place) {
                Ok((file, length)) => {
                    let (chunks, stream) = chunk_channel();
                    self.pending = Some(Ok(stream));
                    self.current = Some((file, length, chunks));
                }
                Err(err) => {
                    self.pending = Some(Err(err));
                    self.rest = Vec::new().into_iter();
                }
            }
        }
    }

    /// Gives the thread back; once `room` says the consumer made room, reads on (on a blocking
    /// thread again). `room` is false when the consumer went away: then nothing is left to do.
    fn resume_when(self, room: impl Future<Output = bool> + Send + 'static) {
        tokio::runtime::Handle::current().spawn(async move {
            if room.await {
                tokio::task::spawn_blocking(move || self.run());
            }
        });
    }
}

impl LocalStore {
    /// The objects `keys` one after another ([`read_ahead`]).
    pub(super) fn read_each(&self, keys: Vec<BlobKey>) -> ObjectStreams {
        read_ahead(keys.iter().map(|key| self.locate(key, None)).collect())
    }
}

/// Where an object's bytes are: a file, the range of it to read (all of it when `None`), and
/// for a packed object the offset of its bytes and its id, which the record must still hold.
struct Place {
    path: PathBuf,
    range: Option<ByteRange>,
    record: Option<(u64, uuid::Uuid)>,
}

/// Opens an object (seeking to its range): the file and the bytes to read. A packed object
/// deleted meanwhile (its id punched out) is `NotFound`, like a deleted file.
fn open(place: &Place) -> Result<(std::fs::File, u64), StorageError> {
    let Place { path, range, record } = place;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(StorageError::NotFound);
        }
        Err(err) => return Err(err.into()),
    };
    if let Some((offset, id)) = *record
        && !pack::holds(&file, offset, id)
    {
        return Err(StorageError::NotFound);
    }
    let length = match *range {
        Some(range) => {
            file.seek(SeekFrom::Start(range.start))?;
            range.byte_count()
        }
        None => file.metadata()?.len(),
    };
    Ok((file, length))
}

/// What the page cache holds of `length` bytes of `file` at `offset`, read without waiting for
/// the disk (`preadv2` with `RWF_NOWAIT`): stops at the first byte that would need the disk
/// (or at an error, which the blocking read that follows then meets and reports).
#[cfg(target_os = "linux")]
fn read_cached(file: &std::fs::File, offset: u64, length: u64) -> Bytes {
    use rustix::io::{ReadWriteFlags, preadv2};
    let length = usize::try_from(length).unwrap_or(READ_CHUNK).min(READ_CHUNK);
    let mut buffer = Buffer::take(length);
    let mut got = 0;
    while got < length {
        let slice = &mut [std::io::IoSliceMut::new(&mut buffer.bytes[got..length])];
        match preadv2(file, slice, offset + got as u64, ReadWriteFlags::NOWAIT) {
            Ok(0) | Err(_) => break,
            Ok(read) => got += read,
        }
    }
    buffer.length = got;
    Bytes::from_owner(buffer)
}

/// Read buffers, kept for reuse: `preadv2` needs initialized memory, and zeroing a new MiB for
/// every ranged read cost more than the read itself (perf). At most [`KEPT_BUFFERS`] wait
/// here between reads.
static BUFFERS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
const KEPT_BUFFERS: usize = 16;
/// Reads up to this size take a small new buffer instead (zeroing it costs next to nothing).
const POOLED_FROM: usize = 64 * 1024;

/// A buffer holding `length` read bytes; a pooled one goes back when the response is sent.
struct Buffer {
    bytes: Vec<u8>,
    length: usize,
}

impl Buffer {
    fn take(length: usize) -> Self {
        let pooled = (length > POOLED_FROM).then(|| buffers().pop()).flatten();
        let bytes = pooled
            .unwrap_or_else(|| vec![0; if length > POOLED_FROM { READ_CHUNK } else { length }]);
        Self { bytes, length }
    }
}

fn buffers() -> std::sync::MutexGuard<'static, Vec<Vec<u8>>> {
    BUFFERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AsRef<[u8]> for Buffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if self.bytes.len() == READ_CHUNK {
            let mut kept = buffers();
            if kept.len() < KEPT_BUFFERS {
                kept.push(std::mem::take(&mut self.bytes));
            }
        }
    }
}

/// Elsewhere nothing is read without possibly waiting: all of it on a blocking thread.
#[cfg(not(target_os = "linux"))]
fn read_cached(_: &std::fs::File, _: u64, _: u64) -> Bytes {
    Bytes::new()
}

/// A bounded channel of chunks and the stream that reads it.
fn chunk_channel() -> (mpsc::Sender<std::io::Result<Bytes>>, BlobStream) {
    let (sender, receiver) = mpsc::channel(READ_AHEAD);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (sender, stream.boxed())
}

impl LocalWriter {
    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        match &mut self.writing {
            Writing::Held(held) if held.len() + chunk.len() <= SMALL_WRITE => {
                held.extend_from_slice(&chunk);
            }
            Writing::Held(held) => {
                // Too large to hold: to the temp file (which drop removes from here on).
                let held = std::mem::take(held);
                let mut file = File::create(&self.tmp_path).await?;
                let written = async {
                    file.write_all(&held).await?;
                    file.write_all(&chunk).await
                };
                let written = written.await;
                self.writing = Writing::File(file);
                written?;
            }
            Writing::File(file) => file.write_all(&chunk).await?,
            Writing::Done => return Err(closed()),
        }
        Ok(())
    }

    /// A file's bytes held to the end: appended to a pack. Otherwise fsync the file, rename
    /// it into place, fsync the directory. Durable before visible either way.
    pub(super) async fn finish(mut self) -> Result<BlobKey, StorageError> {
        let to = self.store.path(&self.key);
        let tmp = self.tmp_path.clone();
        match std::mem::replace(&mut self.writing, Writing::Done) {
            Writing::Held(held) if self.key.kind == "blobs" && !held.is_empty() => {
                let span = self.store.packer.append(self.key.id, held.freeze()).await?;
                Ok(self.key.packed(span))
            }
            Writing::Held(held) => {
                blocking(move || {
                    let written = write_whole(&tmp, &held).and_then(|()| place(&tmp, &to));
                    if written.is_err() {
                        let _ = std::fs::remove_file(&tmp);
                    }
                    written
                })
                .await?;
                Ok(self.key.clone())
            }
            Writing::File(mut file) => {
                let synced = async {
                    file.flush().await?;
                    file.sync_all().await
                };
                if let Err(err) = synced.await {
                    let _ = fs::remove_file(&tmp).await;
                    return Err(err.into());
                }
                drop(file);
                self.store.publish(&tmp, &self.key).await?;
                Ok(self.key.clone())
            }
            Writing::Done => Err(closed()),
        }
    }

    pub(super) async fn abort(mut self) {
        if let Writing::File(_) = std::mem::replace(&mut self.writing, Writing::Done) {
            let _ = fs::remove_file(&self.tmp_path).await;
        }
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        if let Writing::File(_) = self.writing {
            // Dropped mid-write (the client went away): the temp file goes too.
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.sync_all()
}

/// Renames a complete, fsynced file to `to` and fsyncs the directory: durable before visible.
fn place(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    std::fs::rename(from, to)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Runs blocking file work off the runtime's threads.
async fn blocking(
    work: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> Result<(), StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StorageError::Io(std::io::Error::other(err)))?
        .map_err(StorageError::from)
}

fn closed() -> StorageError {
    StorageError::Io(std::io::Error::other("writer already finished"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(store: &LocalStore, key: &BlobKey) -> Vec<u8> {
        let mut stream = store.read(key, None).await.expect("open");
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.expect("bytes"));
        }
        bytes
    }

    fn temp_files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("tmp")).expect("tmp").count()
    }

    async fn read_range(store: &LocalStore, key: &BlobKey, range: Option<ByteRange>) -> Vec<u8> {
        let mut stream = store.read(key, range).await.expect("open");
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.expect("bytes"));
        }
        bytes
    }

    /// Ranges and whole objects read the same bytes whether the page cache holds them (read
    /// in place) or not (read on a blocking thread), and across the first chunk's end.
    #[tokio::test]
    async fn reads_are_the_same_from_the_page_cache_and_from_the_disk() {
        let dir = tempfile::tempdir().expect("dir");
        let store = LocalStore::new(dir.path().to_path_buf()).await.expect("store");
        let size = 5 * READ_CHUNK / 2;
        let bytes: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        let key = BlobKey::new_file();
        let mut writer = store.writer(&key).await.expect("writer");
        writer.write(Bytes::from(bytes.clone())).await.expect("write");
        writer.finish().await.expect("finish");
        let chunk = READ_CHUNK as u64;
        let ranges = [
            None,
            Some(ByteRange { start: 0, end: 99 }),
            Some(ByteRange { start: chunk - 10, end: chunk + 10 }),
            Some(ByteRange { start: 7, end: size as u64 - 1 }),
        ];
        for cached in [true, false] {
            for range in ranges {
                if !cached {
                    // Out of the page cache (the object is fsynced: its pages are clean).
                    let file = std::fs::File::open(store.path(&key)).expect("open");
                    #[cfg(target_os = "linux")]
                    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)
                        .expect("evict");
                }
                let expected = match range {
                    None => &bytes[..],
                    Some(r) => &bytes[r.start as usize..=r.end as usize],
                };
                assert!(read_range(&store, &key, range).await == expected, "{range:?} {cached}");
            }
        }
    }

    /// Small objects are held until they end (a file's then packed); larger ones spill to a
    /// temp file; either way the object is whole — in ranges too — and an abandoned write
    /// leaves no temp file. A deleted packed object is gone from the listing.
    #[tokio::test]
    async fn objects_held_or_spilled_arrive_whole_and_abandoned_ones_leave_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let store = LocalStore::new(dir.path().to_path_buf()).await.expect("store");
        let mut packed = Vec::new();
        for size in [0, 1, SMALL_WRITE, SMALL_WRITE + 1, 5 * SMALL_WRITE / 2] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut writer = store.writer(&BlobKey::new_file()).await.expect("writer");
            for chunk in bytes.chunks(SMALL_WRITE / 3 + 7) {
                writer.write(Bytes::copy_from_slice(chunk)).await.expect("write");
            }
            let key = writer.finish().await.expect("finish");
            assert_eq!(read_all(&store, &key).await, bytes, "{size} bytes");
            let stored = key.as_string();
            assert_eq!(stored.starts_with("packed/"), (1..=SMALL_WRITE).contains(&size), "{size}");
            assert_eq!(BlobKey::from_stored(&stored).expect("a key"), key);
            if size > 2 {
                let range = ByteRange { start: 1, end: size as u64 - 2 };
                assert_eq!(read_range(&store, &key, Some(range)).await, &bytes[1..size - 1]);
            }
            if key.span.is_some() {
                packed.push(key);
            }
        }
        assert_eq!(temp_files(dir.path()), 0);
        let listed = |store: LocalStore| async move {
            store
                .list("packed")
                .await
                .expect("list")
                .into_iter()
                .map(|(key, _)| key)
                .collect::<Vec<_>>()
        };
        assert_eq!(listed(store.clone()).await.len(), 2);
        store.delete(&packed[0]).await.expect("delete");
        assert_eq!(listed(store.clone()).await, [packed[1].as_string()]);
        let deleted = store.read(&packed[0], None).await;
        assert!(matches!(deleted, Err(StorageError::NotFound)), "not zeros: gone");
        assert_eq!(read_all(&store, &packed[1]).await.len(), SMALL_WRITE, "its neighbour stays");

        let mut spilled = store.writer(&BlobKey::new_file()).await.expect("writer");
        spilled.write(Bytes::from(vec![1u8; SMALL_WRITE + 1])).await.expect("write");
        assert_eq!(temp_files(dir.path()), 1, "spilled to a temp file");
        spilled.abort().await;
        let mut dropped = store.writer(&BlobKey::new_file()).await.expect("writer");
        dropped.write(Bytes::from(vec![1u8; SMALL_WRITE + 1])).await.expect("write");
        drop(dropped);
        let held = store.writer(&BlobKey::new_file()).await.expect("writer");
        drop(held);
        assert_eq!(temp_files(dir.path()), 0, "nothing left by abandoned writes");
    }

    /// With two blocking threads in all, twenty clients that stopped reading mid-download must
    /// not keep a twenty-first from reading (before, each held a thread until it read on).
    #[test]
    fn clients_that_stop_reading_hold_no_blocking_thread() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("dir");
            let store = LocalStore::new(dir.path().to_path_buf()).await.expect("store");
            let key = BlobKey::new_file();
            let mut writer = store.writer(&key).await.expect("writer");
            writer.write(Bytes::from(vec![7u8; 16 * READ_CHUNK])).await.expect("write");
            writer.finish().await.expect("finish");
            let mut stalled = Vec::new();
            let reads = async {
                for _ in 0..20 {
                    let mut stream = store.read(&key, None).await.expect("open");
                    stream.next().await.expect("a first chunk").expect("bytes");
                    stalled.push(stream); // and never read again
                }
                let mut stream = store.read(&key, None).await.expect("open");
                let mut total = 0;
                while let Some(chunk) = stream.next().await {
                    total += chunk.expect("bytes").len();
                }
                total
            };
            let total = tokio::time::timeout(Duration::from_secs(20), reads).await;
            assert_eq!(total.expect("not starved by the stalled readers"), 16 * READ_CHUNK);
        });
    }
}
