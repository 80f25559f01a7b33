//! Dependencies a test owns and can stop and start again: an S3 server (s3s-fs) and a
//! PostgreSQL cluster, each on a port of its own, removed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An s3s-fs process serving a temp dir.
pub struct PrivateS3 {
    process: Option<Child>,
    /// Where the objects live (and unfinished multipart uploads, as `.upload-*`).
    pub dir: TempDir,
    port: u16,
    access_key: String,
    secret_key: String,
}

impl PrivateS3 {
    /// Starts s3s-fs (installed by `scripts/bootstrap.sh test`) and waits until it answers.
    pub async fn start(access_key: &str, secret_key: &str) -> Self {
        let mut s3 = Self {
            process: None,
            dir: tempfile::tempdir().expect("S3 dir"),
            port: free_port(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
        };
        s3.start_again().await;
        s3
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server (an outage); its objects stay on disk.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port and directory, and waits until it answers.
    pub async fn start_again(&mut self) {
        let bin = std::env::var("HOME").map(|home| format!("{home}/.cargo/bin/s3s-fs")).unwrap();
        let process = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", &self.access_key, "--secret-key", &self.secret_key])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        self.process = Some(process);
        for _ in 0..250 {
            if reqwest::get(self.endpoint()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("s3s-fs did not answer on {}", self.endpoint());
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A PostgreSQL cluster in a temp dir (`initdb`, `pg_ctl`; run as `postgres` when the tests
/// run as root, as `scripts/with-services.sh` does).
pub struct PrivatePostgres {
    dir: TempDir,
    port: u16,
    bin: PathBuf,
}

impl PrivatePostgres {
    /// Creates and starts the cluster.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/bootstrap.sh test)")
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .max()
            .expect("a PostgreSQL version");
        let pg = Self { dir: tempfile::tempdir().expect("PostgreSQL dir"), port: free_port(), bin };
        if Self::as_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(pg.dir.path()));
        }
        run(pg
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"])
            .arg(pg.data()));
        pg.start_again();
        pg
    }

    fn as_root() -> bool {
        Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let tool = self.bin.join(tool);
        if Self::as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (an outage).
    pub fn stop(&self) {
        run(self.command("pg_ctl").args(["-m", "immediate", "-w", "stop", "-D"]).arg(self.data()));
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log");
        run(self
            .command("pg_ctl")
            .args(["-w", "-o", &options, "-l"])
            .arg(log)
            .arg("-D")
            .arg(self.data())
            .arg("start"));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "stop", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
