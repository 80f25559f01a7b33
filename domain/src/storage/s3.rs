//! Any S3 API (AWS, Garage, …) through aws-sdk-s3. Small objects are one `PutObject`; large ones
//! a multipart upload whose parts are sent with bounded concurrency while the next one fills.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio::task::JoinSet;

use super::{BlobKey, BlobStream, ByteRange, PresignedGet, StorageError};
use crate::config::Config;

/// A bucket and how to write to it.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    sse: Option<ServerSideEncryption>,
    part_size: usize,
    concurrency: usize,
}

/// An object being uploaded.
pub struct S3Writer {
    store: S3Store,
    key: String,
    buffer: BytesMut,
    upload_id: Option<String>,
    parts: JoinSet<Result<CompletedPart, StorageError>>,
    done: Vec<CompletedPart>,
    next_part: i32,
    finished: bool,
}

fn s3_error(context: &str, err: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse ("service error"); the Debug form names the S3 error code.
    StorageError::S3(format!("{context}: {err:?}"))
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
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
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
        })
    }

    pub(super) fn writer(&self, key: &BlobKey) -> S3Writer {
        S3Writer {
            store: self.clone(),
            key: key.as_string(),
            buffer: BytesMut::new(),
            upload_id: None,
            parts: JoinSet::new(),
            done: Vec::new(),
            next_part: 1,
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
            .map_err(|err| s3_error("presigning", err))?;
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

    pub(super) async fn abort_stale_uploads(&self, age: Duration) -> Result<usize, StorageError> {
        let listing = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|err| s3_error("ListMultipartUploads", err))?;
        let cutoff = SystemTime::now() - age;
        let mut aborted = 0;
        for upload in listing.uploads() {
            let stale = upload
                .initiated()
                .and_then(|t| SystemTime::try_from(*t).ok())
                .is_some_and(|initiated| initiated < cutoff);
            if let (true, Some(key), Some(id)) = (stale, upload.key(), upload.upload_id()) {
                abort(&self.client, &self.bucket, key, id).await;
                aborted += 1;
            }
        }
        Ok(aborted)
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

impl S3Writer {
    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= self.store.part_size {
            let part = self.buffer.split_to(self.store.part_size).freeze();
            self.send_part(part).await?;
        }
        Ok(())
    }

    /// Starts the multipart upload on the first full part; waits for a slot when
    /// `concurrency` parts are already in flight (memory stays at parts × part size).
    async fn send_part(&mut self, part: Bytes) -> Result<(), StorageError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let created = self
                    .store
                    .client
                    .create_multipart_upload()
                    .bucket(&self.store.bucket)
                    .key(&self.key)
                    .set_server_side_encryption(self.store.sse.clone())
                    .send()
                    .await
                    .map_err(|err| s3_error("CreateMultipartUpload", err))?;
                let id = created.upload_id().unwrap_or_default().to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        while self.parts.len() >= self.store.concurrency {
            self.join_one().await?;
        }
        let number = self.next_part;
        self.next_part += 1;
        let (client, bucket, key) =
            (self.store.client.clone(), self.store.bucket.clone(), self.key.clone());
        self.parts.spawn(async move {
            let output = client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(part))
                .send()
                .await
                .map_err(|err| s3_error("UploadPart", err))?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(output.e_tag().map(str::to_owned))
                .build())
        });
        Ok(())
    }

    async fn join_one(&mut self) -> Result<(), StorageError> {
        if let Some(joined) = self.parts.join_next().await {
            let part = joined.map_err(|err| StorageError::S3(format!("part task: {err}")))??;
            self.done.push(part);
        }
        Ok(())
    }

    pub(super) async fn finish(mut self) -> Result<(), StorageError> {
        let rest = self.buffer.split().freeze();
        let Some(upload_id) = self.upload_id.clone() else {
            // Smaller than one part: a single PutObject.
            self.store
                .client
                .put_object()
                .bucket(&self.store.bucket)
                .key(&self.key)
                .set_server_side_encryption(self.store.sse.clone())
                .body(ByteStream::from(rest))
                .send()
                .await
                .map_err(|err| s3_error("PutObject", err))?;
            self.finished = true;
            return Ok(());
        };
        if !rest.is_empty() {
            self.send_part(rest).await?;
        }
        while !self.parts.is_empty() {
            self.join_one().await?;
        }
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|part| part.part_number());
        self.store
            .client
            .complete_multipart_upload()
            .bucket(&self.store.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|err| s3_error("CompleteMultipartUpload", err))?;
        self.finished = true;
        Ok(())
    }

    pub(super) async fn abort(mut self) {
        self.parts.abort_all();
        if let Some(upload_id) = self.upload_id.take() {
            abort(&self.store.client, &self.store.bucket, &self.key, &upload_id).await;
        }
        self.finished = true;
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        // Dropped mid-upload (the client went away): abort in the background so S3 frees the parts.
        if !self.finished
            && let Some(upload_id) = self.upload_id.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (client, bucket, key) =
                (self.store.client.clone(), self.store.bucket.clone(), self.key.clone());
            runtime.spawn(async move { abort(&client, &bucket, &key, &upload_id).await });
        }
    }
}
