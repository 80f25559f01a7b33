//! The previews job ([`crate::jobs::Task::Previews`]): reads as much of a new file as its
//! kind needs, makes its thumbnails (in-process for pictures, through [`super::tools`] for
//! video, audio and PDF), stores them, and records what was found in `media`. A file that
//! cannot be previewed gets a `failed` row saying why and keeps its icon — that is the job
//! done, not an error to retry; only storage and database failures are retried.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::picture::{self, Thumbnails, Unusable};
use super::tools::{self, Probe};
use super::{MediaKind, ThumbSize};
use crate::AppError;
use crate::entities::{files, media};
use crate::state::AppState;
use crate::storage::{BlobKey, ByteRange};

/// The largest picture file read whole to be previewed.
const MAX_PICTURE_BYTES: u64 = 64 << 20;
/// How much of a video or audio file is copied for ffmpeg (enough for a frame a few seconds
/// in, or a cover, when the index is at the front — as streaming-friendly files have it).
const MAX_AV_BYTES: u64 = 256 << 20;
/// The largest PDF copied for its first page.
const MAX_PDF_BYTES: u64 = 128 << 20;
/// Where a video's poster frame is taken from (or a third in, for shorter ones).
const POSTER_AT: f64 = 3.0;

/// What making previews found.
#[derive(Debug, Default)]
struct Found {
    thumbnails: Option<Thumbnails>,
    size: Option<(u32, u32)>,
    duration: Option<f64>,
    error: Option<String>,
}

impl From<Result<Thumbnails, Unusable>> for Found {
    fn from(made: Result<Thumbnails, Unusable>) -> Self {
        match made {
            Ok(made) => Self {
                size: Some((made.width, made.height)),
                thumbnails: Some(made),
                ..Self::default()
            },
            Err(Unusable(why)) => Self { error: Some(why), ..Self::default() },
        }
    }
}

/// Makes `file`'s previews unless it has them (or is gone, or is not media).
pub async fn make_previews(state: &AppState, file: Uuid) -> Result<(), AppError> {
    let Some(file) = files::Entity::find_by_id(file).one(&state.db).await? else { return Ok(()) };
    let Some(kind) = MediaKind::of(&file.content_type) else { return Ok(()) };
    if media::Entity::find_by_id(file.id).one(&state.db).await?.is_some() {
        return Ok(());
    }
    let key = BlobKey::from_stored(&file.blob_key)?;
    let size = u64::try_from(file.size).unwrap_or(0);
    let found = match kind {
        MediaKind::Image if size > MAX_PICTURE_BYTES => Found::from(Err(Unusable(format!(
            "The picture is larger than {} MiB: too large to preview.",
            MAX_PICTURE_BYTES >> 20
        )))),
        MediaKind::Image => {
            let bytes = read(state, &key, size).await?;
            let made = tokio::task::spawn_blocking(move || picture::thumbnails(&bytes)).await;
            Found::from(made.map_err(|_| AppError::Internal)?)
        }
        MediaKind::Video | MediaKind::Audio => {
            let Some(format) = demuxer(&file.content_type) else { return Ok(()) };
            if !tools::tools().await.video() {
                return Ok(()); // said at startup; a later run (backfill) can make them
            }
            let work = Workspace::new(state).await?;
            let input = work.copy(state, &key, size.min(MAX_AV_BYTES)).await?;
            from_av(&input, format, kind, work.path()).await
        }
        MediaKind::Pdf => {
            if !tools::tools().await.pdf() {
                return Ok(());
            }
            if size > MAX_PDF_BYTES {
                Found { error: Some("The PDF is too large to preview.".into()), ..Found::default() }
            } else {
                let work = Workspace::new(state).await?;
                let input = work.copy(state, &key, size).await?;
                let page = tools::pdf_page(&input, work.path()).await;
                Found::from(decode_rendered(page).await?)
            }
        }
    };
    record(state, &file, &key, kind, found).await
}

/// A video's poster frame or an audio file's cover, and its duration.
async fn from_av(input: &Path, format: &str, kind: MediaKind, dir: &Path) -> Found {
    let probe = match tools::probe(input, format, dir).await {
        Ok(probe) => probe,
        Err(Unusable(why)) => return Found { error: Some(why), ..Found::default() },
    };
    let Probe { duration, size, picture } = probe;
    if !picture {
        // Audio without a cover: the duration is all there is.
        return Found { duration, ..Found::default() };
    }
    let at = match (kind, duration) {
        (MediaKind::Video, Some(duration)) => POSTER_AT.min(duration / 3.0),
        _ => 0.0,
    };
    let frame = tools::frame(input, format, at, dir).await;
    let made = match decode_rendered(frame).await {
        Ok(made) => made,
        Err(_) => Err(Unusable("The frame cannot be decoded.".into())),
    };
    let mut found = Found::from(made);
    found.duration = duration;
    if kind == MediaKind::Video {
        found.size = size.or(found.size);
    } else {
        found.size = None; // a cover's size is not the file's
    }
    found
}

/// Thumbnails of a picture a tool rendered (a frame, a page).
async fn decode_rendered(
    rendered: Result<Vec<u8>, Unusable>,
) -> Result<Result<Thumbnails, Unusable>, AppError> {
    let png = match rendered {
        Ok(png) => png,
        Err(why) => return Ok(Err(why)),
    };
    tokio::task::spawn_blocking(move || picture::thumbnails(&png))
        .await
        .map_err(|_| AppError::Internal)
}

/// Stores the thumbnails, then the row — unless the file was deleted meanwhile (then the
/// thumbnails go too). Storage failures are errors (the job is retried).
async fn record(
    state: &AppState,
    file: &files::Model,
    key: &BlobKey,
    kind: MediaKind,
    found: Found,
) -> Result<(), AppError> {
    let thumbnails = found.thumbnails.as_ref();
    if let Some(made) = thumbnails {
        put(state, &key.thumbnail(ThumbSize::Small), &made.small).await?;
        if let Some(large) = &made.large {
            put(state, &key.thumbnail(ThumbSize::Large), large).await?;
        }
    }
    let clip = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let row = media::ActiveModel {
        file_id: Set(file.id),
        status: Set(if thumbnails.is_some() || found.error.is_none() { "ready" } else { "failed" }
            .to_owned()),
        kind: Set(kind.as_str().to_owned()),
        width: Set(found.size.map(|(w, _)| clip(w))),
        height: Set(found.size.map(|(_, h)| clip(h))),
        duration_ms: Set(found.duration.map(|secs| (secs * 1000.0).round() as i64)),
        thumb_type: Set(thumbnails.map(|made| made.mime.to_owned())),
        large: Set(thumbnails.is_some_and(|made| made.large.is_some())),
        placeholder: Set(thumbnails.map(|made| made.placeholder.clone())),
        taken_at: Set(thumbnails.and_then(|made| made.taken_at)),
        camera: Set(thumbnails.and_then(|made| made.camera.clone())),
        error: Set(found.error.clone()),
        created_at: Set(Utc::now()),
    };
    if let Err(err) = row.insert(&state.db).await {
        // Most likely the file is gone (its row, which this one points at); either way, no
        // thumbnail stays without its row.
        for size in [ThumbSize::Small, ThumbSize::Large] {
            let _ = state.storage.delete(&key.thumbnail(size)).await;
        }
        if files::Entity::find_by_id(file.id).one(&state.db).await?.is_none() {
            return Ok(());
        }
        return Err(err.into());
    }
    if let Some(why) = &found.error {
        tracing::info!(file = %file.id, why, "no preview");
    }
    crate::cache::tree_changed(file.owner_id);
    Ok(())
}

async fn put(state: &AppState, key: &BlobKey, bytes: &[u8]) -> Result<(), AppError> {
    let mut writer = state.storage.writer(key).await?;
    if let Err(err) = writer.write(bytes::Bytes::copy_from_slice(bytes)).await {
        writer.abort().await;
        return Err(err.into());
    }
    writer.finish().await?;
    Ok(())
}

/// The first `size` bytes of the object (all of a picture of at most [`MAX_PICTURE_BYTES`]).
pub(crate) async fn read(state: &AppState, key: &BlobKey, size: u64) -> Result<Vec<u8>, AppError> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let mut stream = state.storage.read(key, Some(ByteRange { start: 0, end: size - 1 })).await?;
    let mut bytes = BytesMut::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(
            &chunk.map_err(|err| AppError::internal("reading a file to preview", &err))?,
        );
    }
    Ok(bytes.to_vec())
}

/// The ffmpeg container format for a content type (only these are handed to ffmpeg).
fn demuxer(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        "video/mp4" | "video/x-m4v" | "video/quicktime" | "audio/m4a" | "audio/mp4" => "mov",
        "video/x-matroska" | "video/webm" => "matroska",
        "video/x-msvideo" => "avi",
        "video/mpeg" => "mpeg",
        "video/x-flv" => "flv",
        "audio/mpeg" => "mp3",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/x-flac" => "flac",
        "audio/x-wav" => "wav",
        "audio/aac" => "aac",
        _ => return None,
    })
}

/// Where jobs make their workspaces.
fn workspaces(state: &AppState) -> PathBuf {
    state.config.data_dir.join("previews")
}

/// Removes workspaces older than an hour: a worker that died mid-job (killed, out of memory)
/// leaves its own behind; no job runs that long (each tool is killed at 30 s).
pub async fn remove_stale_workspaces(state: &AppState) -> Result<u64, AppError> {
    const STALE: std::time::Duration = std::time::Duration::from_secs(3600);
    let Ok(mut entries) = tokio::fs::read_dir(workspaces(state)).await else { return Ok(0) };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let modified = entry.metadata().await.and_then(|meta| meta.modified());
        let stale = modified.is_ok_and(|at| at.elapsed().unwrap_or_default() > STALE);
        if stale && tokio::fs::remove_dir_all(entry.path()).await.is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// A directory of one job's own under the data dir, removed when dropped.
pub(crate) struct Workspace(PathBuf);

impl Workspace {
    pub(crate) async fn new(state: &AppState) -> Result<Self, AppError> {
        let dir = workspaces(state).join(Uuid::new_v4().simple().to_string());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|err| AppError::internal("making a preview workspace", &err))?;
        Ok(Self(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The first `size` bytes of the object, as a file in the workspace.
    pub(crate) async fn copy(
        &self,
        state: &AppState,
        key: &BlobKey,
        size: u64,
    ) -> Result<PathBuf, AppError> {
        use tokio::io::AsyncWriteExt;
        let path = self.0.join("input");
        let mut out = tokio::fs::File::create(&path)
            .await
            .map_err(|err| AppError::internal("copying a file to preview", &err))?;
        if size > 0 {
            let mut stream =
                state.storage.read(key, Some(ByteRange { start: 0, end: size - 1 })).await?;
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|err| AppError::internal("reading a file to preview", &err))?;
                out.write_all(&chunk)
                    .await
                    .map_err(|err| AppError::internal("copying a file to preview", &err))?;
            }
        }
        out.flush().await.map_err(|err| AppError::internal("copying a file to preview", &err))?;
        Ok(path)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workspaces_left_by_a_dead_worker_are_removed_after_an_hour() {
        use rustix::fs::{AtFlags, CWD, Timespec, Timestamps, utimensat};
        let t = crate::testing::TestState::new().await;
        let fresh = super::Workspace::new(&t.state).await.expect("a workspace");
        let left = super::workspaces(&t.state).join("left-by-a-killed-worker");
        std::fs::create_dir_all(left.join("sub")).expect("made");
        std::fs::write(left.join("input"), b"copied bytes").expect("written");
        let long_ago = Timespec { tv_sec: 1_000_000_000, tv_nsec: 0 };
        let times = Timestamps { last_access: long_ago, last_modification: long_ago };
        utimensat(CWD, &left, &times, AtFlags::empty()).expect("aged");
        assert_eq!(super::remove_stale_workspaces(&t.state).await.expect("swept"), 1);
        assert!(!left.exists());
        assert!(fresh.path().exists(), "a running job's workspace stays");
    }

    #[test]
    fn only_known_containers_reach_ffmpeg() {
        assert_eq!(super::demuxer("video/mp4"), Some("mov"));
        assert_eq!(super::demuxer("application/vnd.apple.mpegurl"), None);
        assert_eq!(super::demuxer("text/plain"), None);
    }
}
