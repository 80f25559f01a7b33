//! Any S3 API (AWS, Garage, …) through aws-sdk-s3. Small objects are one `PutObject`; large ones
//! a multipart upload whose parts are sent with bounded concurrency while the next one fills.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{
    ConfigBag, Credentials, Intercept, Region, RequestChecksumCalculation,
    ResponseChecksumValidation, RuntimeComponents,
};
use aws_sdk_s3::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio::task::JoinSet;

use super::{BlobKey, BlobStream, ByteRange, PresignedGet, StorageError};
use crate::breaker::{Breaker, Refused};
use crate::config::Config;

/// A bucket and how to write to it.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    sse: Option<ServerSideEncryption>,
    part_size: usize,
    concurrency: usize,
    breaker: Arc<Breaker>,
}

/// An object being uploaded.
pub struct S3Writer {
    store: S3Store,
    key: BlobKey,
    buffer: BytesMut,
    /// The multipart upload, made when the first full part is ready.
    parts: Option<PartSender>,
    finished: bool,
}

/// One stored part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SentPart {
    /// Part number, from 1.
    pub number: i32,
    /// What S3 answered for it (needed to complete the upload).
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Parts of one multipart upload on their way, `concurrency` at most at once while the next
/// one fills (memory ≈ concurrency × part size).
pub struct PartSender {
    store: S3Store,
    key: BlobKey,
    upload_id: String,
    next: i32,
    sending: JoinSet<Result<SentPart, StorageError>>,
    sent: Vec<SentPart>,
}

/// What a failed S3 call means: the bucket did not answer (a timeout, no connection, a 5xx
/// after the retries, or our breaker refused the call) → `Unavailable`; anything else → `S3`.
fn s3_error<E>(context: &str, err: SdkError<E, HttpResponse>) -> StorageError
where
    E: std::error::Error + 'static,
{
    let unreachable = matches!(err, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_))
        || matches!(err, SdkError::ResponseError(_))
        || err.raw_response().is_some_and(|response| down(response.status().as_u16()));
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut refused = false;
    while let Some(cause) = source {
        refused |= cause.is::<Refused>();
        source = cause.source();
    }
    // The SDK's Display is terse ("service error"); the Debug form names the S3 error code.
    let described = format!("{context}: {err:?}");
    if unreachable || refused {
        StorageError::Unavailable(described)
    } else {
        StorageError::S3(described)
    }
}

/// When a call started (kept in the call's config bag for the metrics).
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// Statuses that mean the server is failing (those the SDK retries), unlike an answer such as
/// 501 `NotImplemented` from a server without that call.
fn down(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// The storage breaker inside the S3 client: every call (after the SDK's retries) opens or
/// closes it; while it is open calls are refused before they go out, but one trial per
/// cool-down. Presigning sends nothing and counts for neither.
#[derive(Debug)]
struct BreakerInterceptor(Arc<Breaker>);

impl Intercept for BreakerInterceptor {
    fn name(&self) -> &'static str {
        "pannier-breaker"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        self.0.admit().map_err(BoxError::from)
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let status = context.response().map(|response| response.status());
        let outcome = match context.output_or_error() {
            None => return Ok(()),
            Some(Err(err)) if err.is_interceptor_error() => "refused",
            Some(Err(err))
                if err.is_timeout_error()
                    || err.is_connector_error()
                    || err.is_response_error()
                    || status.is_some_and(|status| down(status.as_u16())) =>
            {
                self.0.failed();
                "unavailable"
            }
            Some(Err(_)) => {
                self.0.succeeded();
                "error"
            }
            Some(Ok(_)) => {
                self.0.succeeded();
                "ok"
            }
        };
        let operation = cfg.load::<Metadata>().map_or("other", |meta| meta.name()).to_owned();
        if let Some(Started(started)) = cfg.load::<Started>() {
            metrics::histogram!("pannier_storage_call_duration_seconds", "operation" => operation.clone())
                .record(started.elapsed().as_secs_f64());
        }
        metrics::counter!("pannier_storage_calls_total", "operation" => operation, "outcome" => outcome)
            .increment(1);
        Ok(())
    }
}

impl S3Store {
    /// A client for the configured endpoint, region and credentials (static keys, or the
    /// default AWS chain when none are configured).
    pub async fn new(config: &Config) -> Result<Self, StorageError> {
        let bucket = config
            .s3_bucket
            .clone()
            .ok_or_else(|| StorageError::Config("PANNIER_S3_BUCKET is not set".into()))?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new(config.s3_region.clone()));
        if let (Some(access), Some(secret)) = (&config.s3_access_key, &config.s3_secret_key) {
            let credentials =
                Credentials::new(access, secret.expose_secret(), None, None, "pannier-config");
            loader = loader.credentials_provider(credentials);
        }
        if let Some(endpoint) = &config.s3_endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        // A bucket that hangs must not hang requests: connecting and each attempt are bounded
        // (an attempt ends when the response head arrives; bodies stream under the edge's
        // rules), and failed idempotent calls are retried with jittered backoff.
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(120))
            .build();
        let retries = aws_sdk_s3::config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(100));
        let breaker = Arc::new(Breaker::new("storage", "storage"));
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .interceptor(BreakerInterceptor(Arc::clone(&breaker)))
            .timeout_config(timeouts)
            .retry_config(retries)
            .force_path_style(config.s3_path_style)
            // Self-hosted S3 servers do not all speak the newer default checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            bucket,
            sse: config.s3_sse.as_deref().map(ServerSideEncryption::from),
            part_size: usize::try_from(config.s3_part_size.bytes()).unwrap_or(16 << 20),
            concurrency: config.s3_upload_concurrency,
            breaker,
        })
    }

    /// Creates the configured bucket (a throwaway bucket in tests; S3 servers that let
    /// clients make buckets). An existing bucket of ours is not an error.
    pub async fn create_bucket(&self) -> Result<(), StorageError> {
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(err) => Err(s3_error("create bucket", err)),
        }
    }

    pub(super) fn writer(&self, key: &BlobKey) -> S3Writer {
        S3Writer {
            store: self.clone(),
            key: key.clone(),
            buffer: BytesMut::new(),
            parts: None,
            finished: false,
        }
    }

    pub(super) async fn read(
        &self,
        key: &BlobKey,
        range: Option<ByteRange>,
    ) -> Result<BlobStream, StorageError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_string())
            .set_range(range.map(|r| format!("bytes={}-{}", r.start, r.end)));
        let output = request.send().await.map_err(|err| {
            if err.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                StorageError::NotFound
            } else {
                s3_error("GetObject", err)
            }
        })?;
        let body = output.body;
        let stream = futures_util::stream::unfold(body, |mut body| async move {
            match body.next().await {
                Some(Ok(bytes)) => Some((Ok(bytes), body)),
                Some(Err(err)) => Some((Err(std::io::Error::other(err)), body)),
                None => None,
            }
        });
        Ok(stream.boxed())
    }

    pub(super) async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_string())
            .send()
            .await
            .map_err(|err| s3_error("DeleteObject", err))?;
        Ok(())
    }

    pub(super) async fn presign_get(
        &self,
        key: &BlobKey,
        params: &PresignedGet,
    ) -> Result<String, StorageError> {
        let presigning = PresigningConfig::expires_in(params.expires_in)
            .map_err(|err| StorageError::S3(format!("presigning: {err}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_string())
            .response_content_disposition(&params.content_disposition)
            .response_content_type(&params.content_type)
            .presigned(presigning)
            .await
            .map_err(|err| s3_error("presigning GetObject", err))?;
        Ok(request.uri().to_owned())
    }

    /// Starts a multipart upload for `key`; returns its upload id.
    pub async fn create_multipart(&self, key: &BlobKey) -> Result<String, StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_string())
            .set_server_side_encryption(self.sse.clone())
            .send()
            .await
            .map_err(|err| s3_error("CreateMultipartUpload", err))?;
        created
            .upload_id()
            .map(str::to_owned)
            .ok_or_else(|| StorageError::S3("CreateMultipartUpload returned no upload id".into()))
    }

    /// Sends part `number` of a multipart upload; returns its ETag.
    pub async fn upload_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        number: i32,
        bytes: Bytes,
    ) -> Result<String, StorageError> {
        let output = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key.as_string())
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|err| s3_error("UploadPart", err))?;
        Ok(output.e_tag().unwrap_or_default().to_owned())
    }

    /// Joins the parts, `(number, ETag)` in order, into the object.
    pub async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload_id: &str,
        parts: Vec<(i32, String)>,
    ) -> Result<(), StorageError> {
        let parts = parts
            .into_iter()
            .map(|(number, e_tag)| {
                CompletedPart::builder().part_number(number).e_tag(e_tag).build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_string())
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|err| s3_error("CompleteMultipartUpload", err))?;
        Ok(())
    }

    /// Abandons a multipart upload and frees its parts (errors are logged).
    pub async fn abort_multipart(&self, key: &BlobKey, upload_id: &str) {
        abort(&self.client, &self.bucket, &key.as_string(), upload_id).await;
    }

    /// A presigned `PUT` for one part of exactly `size` bytes, so a browser sends it straight to
    /// the bucket: the length is a signed header, and the bucket refuses any other.
    pub async fn presign_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        number: i32,
        size: u64,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        let size =
            i64::try_from(size).map_err(|err| StorageError::S3(format!("part size: {err}")))?;
        let presigning = PresigningConfig::expires_in(expires_in)
            .map_err(|err| StorageError::S3(format!("presigning: {err}")))?;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key.as_string())
            .upload_id(upload_id)
            .part_number(number)
            .content_length(size)
            .presigned(presigning)
            .await
            .map_err(|err| s3_error("presigning UploadPart", err))?;
        Ok(request.uri().to_owned())
    }

    /// Writes a small object in one request.
    pub async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_string())
            .set_server_side_encryption(self.sse.clone())
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|err| s3_error("PutObject", err))?;
        Ok(())
    }

    /// The object's size, `None` when it does not exist.
    pub async fn size(&self, key: &BlobKey) -> Result<Option<u64>, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key.as_string()).send().await {
            Ok(head) => Ok(head.content_length().and_then(|len| u64::try_from(len).ok())),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(s3_error("HeadObject", err)),
        }
    }

    /// The part size multipart uploads use.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    /// The bucket's circuit breaker.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// How many parts one upload sends at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Every object under `kind/` (`blobs`, `avatars`) as `(key, last modified)`, all pages.
    pub(super) async fn list(&self, kind: &str) -> Result<Vec<(String, SystemTime)>, StorageError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{kind}/"))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|err| s3_error("ListObjectsV2", err))?;
            for object in page.contents() {
                let modified = object.last_modified().and_then(|t| SystemTime::try_from(*t).ok());
                if let Some(key) = object.key() {
                    found.push((key.to_owned(), modified.unwrap_or(SystemTime::UNIX_EPOCH)));
                }
            }
            token = page.next_continuation_token().map(str::to_owned);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                return Ok(found);
            }
        }
    }

    /// Aborts the multipart uploads of this bucket that Pannier started (keys it makes), that
    /// are older than `age` and that no resumable upload still tracks (`tracked` upload ids).
    /// Other applications' uploads and live resumable uploads are left alone; every page of
    /// the listing is read.
    pub(super) async fn abort_stale_uploads(
        &self,
        age: Duration,
        tracked: &HashSet<String>,
    ) -> Result<usize, StorageError> {
        let cutoff = SystemTime::now() - age;
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        let mut aborted = 0;
        loop {
            let listing = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await;
            let listing = match listing {
                Ok(listing) => listing,
                Err(err) if err.code() == Some("NotImplemented") => {
                    // Some S3 servers cannot list uploads: there is nothing this can clean.
                    tracing::info!("the S3 server cannot list multipart uploads; none aborted");
                    return Ok(aborted);
                }
                Err(err) => return Err(s3_error("ListMultipartUploads", err)),
            };
            for upload in listing.uploads() {
                let initiated = upload.initiated().and_then(|t| SystemTime::try_from(*t).ok());
                if let (Some(key), Some(id)) = (upload.key(), upload.upload_id())
                    && abandoned(key, id, initiated, cutoff, tracked)
                {
                    abort(&self.client, &self.bucket, key, id).await;
                    aborted += 1;
                }
            }
            if !listing.is_truncated().unwrap_or(false) {
                return Ok(aborted);
            }
            key_marker = listing.next_key_marker().map(str::to_owned);
            id_marker = listing.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && id_marker.is_none() {
                return Ok(aborted);
            }
        }
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|err| s3_error("HeadBucket", err))?;
        Ok(())
    }
}

async fn abort(client: &Client, bucket: &str, key: &str, upload_id: &str) {
    let result =
        client.abort_multipart_upload().bucket(bucket).key(key).upload_id(upload_id).send().await;
    if let Err(err) = result {
        tracing::warn!(key, error = ?err, "could not abort an S3 multipart upload");
    }
}

impl PartSender {
    /// Sends parts of multipart upload `upload_id` of `key`, numbered from `first`.
    pub fn new(store: &S3Store, key: &BlobKey, upload_id: &str, first: i32) -> Self {
        Self {
            store: store.clone(),
            key: key.clone(),
            upload_id: upload_id.to_owned(),
            next: first,
            sending: JoinSet::new(),
            sent: Vec::new(),
        }
    }

    /// Sends `bytes` as the next part, after waiting for a free slot.
    pub async fn send(&mut self, bytes: Bytes) -> Result<(), StorageError> {
        while self.sending.len() >= self.store.concurrency {
            self.join_one().await?;
        }
        let number = self.next;
        self.next += 1;
        let (store, key, upload_id) =
            (self.store.clone(), self.key.clone(), self.upload_id.clone());
        self.sending.spawn(async move {
            let size = bytes.len() as u64;
            let etag = store.upload_part(&key, &upload_id, number, bytes).await?;
            Ok(SentPart { number, etag, size })
        });
        Ok(())
    }

    async fn join_one(&mut self) -> Result<(), StorageError> {
        if let Some(joined) = self.sending.join_next().await {
            let part = joined.map_err(|err| StorageError::S3(format!("part task: {err}")))??;
            self.sent.push(part);
        }
        Ok(())
    }

    /// Waits for every part; the parts sent, in order.
    pub async fn finish(mut self) -> Result<Vec<SentPart>, StorageError> {
        while !self.sending.is_empty() {
            self.join_one().await?;
        }
        self.sent.sort_by_key(|part| part.number);
        Ok(self.sent)
    }

    /// Stops the parts still on their way.
    pub async fn cancel(mut self) {
        self.sending.abort_all();
        while self.sending.join_next().await.is_some() {}
    }

    /// The multipart upload's id.
    fn upload_id(&self) -> &str {
        &self.upload_id
    }
}

impl S3Writer {
    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= self.store.part_size {
            let part = self.buffer.split_to(self.store.part_size).freeze();
            self.send_part(part).await?;
        }
        Ok(())
    }

    /// Starts the multipart upload on the first full part.
    async fn send_part(&mut self, part: Bytes) -> Result<(), StorageError> {
        let parts = match &mut self.parts {
            Some(parts) => parts,
            None => {
                let id = self.store.create_multipart(&self.key).await?;
                self.parts.insert(PartSender::new(&self.store, &self.key, &id, 1))
            }
        };
        parts.send(part).await
    }

    pub(super) async fn finish(mut self) -> Result<BlobKey, StorageError> {
        let rest = self.buffer.split().freeze();
        if self.parts.is_none() {
            // Smaller than one part: a single PutObject.
            self.store.put(&self.key, rest).await?;
            self.finished = true;
            return Ok(self.key.clone());
        }
        if !rest.is_empty() {
            self.send_part(rest).await?;
        }
        let Some(parts) = self.parts.take() else { return Err(StorageError::NotFound) };
        let upload_id = parts.upload_id().to_owned();
        let sent = match parts.finish().await {
            Ok(sent) => sent,
            Err(err) => {
                self.store.abort_multipart(&self.key, &upload_id).await;
                self.finished = true;
                return Err(err);
            }
        };
        let numbered = sent.into_iter().map(|part| (part.number, part.etag)).collect();
        let completed = self.store.complete_multipart(&self.key, &upload_id, numbered).await;
        if completed.is_err() {
            self.store.abort_multipart(&self.key, &upload_id).await;
        }
        self.finished = true;
        completed.map(|()| self.key.clone())
    }

    pub(super) async fn abort(mut self) {
        if let Some(parts) = self.parts.take() {
            let upload_id = parts.upload_id().to_owned();
            parts.cancel().await;
            self.store.abort_multipart(&self.key, &upload_id).await;
        }
        self.finished = true;
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        // Dropped mid-upload (the client went away): abort in the background so S3 frees the parts.
        if !self.finished
            && let Some(parts) = self.parts.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (store, key) = (self.store.clone(), self.key.clone());
            runtime.spawn(async move {
                let upload_id = parts.upload_id().to_owned();
                parts.cancel().await;
                store.abort_multipart(&key, &upload_id).await;
            });
        }
    }
}

/// Whether a multipart upload is Pannier's own leftover: a key Pannier makes, started before
/// `cutoff`, and no longer tracked by a resumable upload.
fn abandoned(
    key: &str,
    upload_id: &str,
    initiated: Option<SystemTime>,
    cutoff: SystemTime,
    tracked: &HashSet<String>,
) -> bool {
    BlobKey::from_stored(key).is_ok()
        && initiated.is_some_and(|at| at < cutoff)
        && !tracked.contains(upload_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pannier_leftovers_are_aborted() {
        let now = SystemTime::now();
        let old = Some(now - Duration::from_secs(48 * 3600));
        let cutoff = now - Duration::from_secs(24 * 3600);
        let ours = BlobKey::new_file().as_string();
        let live: HashSet<String> = ["live-upload".to_owned()].into();
        assert!(abandoned(&ours, "gone", old, cutoff, &live));
        assert!(!abandoned(&ours, "live-upload", old, cutoff, &live), "a tracked upload");
        assert!(!abandoned(&ours, "gone", Some(now), cutoff, &live), "a young one");
        assert!(!abandoned("backups/db.tar", "gone", old, cutoff, &live), "another app's");
        assert!(!abandoned(&ours, "gone", None, cutoff, &live), "no start time: keep");
    }
}
