//! Group commit: the rows of files whose bytes arrived at about the same time are written in
//! one transaction — one flush of the database's log to disk for all of them — each in its own
//! savepoint, so one that fails (over quota, its folder deleted meanwhile) leaves the others
//! in. One writer task per database takes what is waiting (up to [`MAX_BATCH`]) while the
//! previous batch commits; a commit waits for at most the batch in progress. An answer is
//! sent only after the transaction committed: a `201` means the row is on disk.

use std::sync::Mutex;

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::entities::files;
use crate::{AppError, cache};

/// Most commits in one transaction.
const MAX_BATCH: usize = 64;

/// What one upload writes, given the batch's transaction (a savepoint of it).
pub(crate) type Work = Box<
    dyn for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<files::Model, AppError>>
        + Send,
>;

struct Job {
    owner: Uuid,
    work: Work,
    done: oneshot::Sender<Result<files::Model, AppError>>,
}

/// The writer of one database's new files ([`GroupCommit::run`]).
#[derive(Debug, Default)]
pub struct GroupCommit {
    /// The running writer's queue; a new writer starts if there is none (or it stopped).
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl GroupCommit {
    /// Runs `work` for a new file of `owner` in the next batch on `db`; its result once the
    /// batch committed (the owner's cached tree retired then).
    pub(crate) async fn run(
        &self,
        db: &DatabaseConnection,
        owner: Uuid,
        work: Work,
    ) -> Result<files::Model, AppError> {
        let (done, answer) = oneshot::channel();
        self.queue(db).send(Job { owner, work, done }).await.map_err(|_| AppError::Internal)?;
        answer.await.map_err(|_| AppError::Internal)?
    }

    fn queue(&self, db: &DatabaseConnection) -> mpsc::Sender<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match jobs.as_ref() {
            Some(queue) if !queue.is_closed() => queue.clone(),
            _ => {
                let (queue, waiting) = mpsc::channel(1024);
                tokio::spawn(write(db.clone(), waiting));
                jobs.insert(queue).clone()
            }
        }
    }
}

/// Writes batches until every sender is gone (the application state was dropped).
async fn write(db: DatabaseConnection, mut waiting: mpsc::Receiver<Job>) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&db, batch).await;
    }
}

async fn write_batch(db: &DatabaseConnection, batch: Vec<Job>) {
    let txn = match db.begin().await {
        Ok(txn) => txn,
        Err(err) => {
            let err = AppError::from(err);
            for job in batch {
                let _ = job.done.send(Err(err.clone()));
            }
            return;
        }
    };
    let mut written = Vec::with_capacity(batch.len());
    for job in batch {
        let result = in_savepoint(&txn, job.work).await;
        written.push((job.owner, job.done, result));
    }
    let committed = txn.commit().await.map_err(AppError::from);
    if committed.is_ok() {
        crate::jobs::poke(); // the new files' preview jobs
    }
    for (owner, done, result) in written {
        let result = committed.clone().and(result);
        if result.is_ok() {
            cache::tree_changed(owner);
        }
        // The uploader may be gone (client disconnected): its row stands with its bytes.
        let _ = done.send(result);
    }
}

async fn in_savepoint(txn: &DatabaseTransaction, work: Work) -> Result<files::Model, AppError> {
    let savepoint = txn.begin().await?;
    match work(&savepoint).await {
        Ok(file) => {
            savepoint.commit().await?;
            Ok(file)
        }
        Err(err) => {
            savepoint.rollback().await?;
            Err(err)
        }
    }
}
