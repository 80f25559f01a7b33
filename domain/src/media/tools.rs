//! The external tools previews use — `ffprobe`/`ffmpeg` (a video's frame, an audio file's
//! cover, durations), `pdftoppm` (a PDF's first page) and `pdftotext` (a PDF's text, for
//! search) — run as subprocesses that cannot hurt
//! the server: under `prlimit` (address space, CPU seconds, file size, open files), killed at
//! [`TIMEOUT`], without network where the kernel allows (`unshare --net`), on a copy of the
//! bytes in a directory of the job's own, with ffmpeg told the container format (never a
//! playlist that could name other files or URLs) and allowed only the `file` protocol.
//! Missing tools are detected once and said in the log and on the admin page.

use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::picture::{LARGE, Unusable};

/// A tool run longer than this is killed and the file keeps its icon.
const TIMEOUT: Duration = Duration::from_secs(30);
/// `prlimit` values: address space, CPU seconds, largest file written, open files.
const LIMITS: [&str; 4] = ["--as=2147483648", "--cpu=30", "--fsize=67108864", "--nofile=64"];
/// The most a tool may print (a picture of at most [`LARGE`] pixels on a side).
const MAX_OUTPUT: u64 = 32 << 20;

/// Which tools this machine has, and how they can be confined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tools {
    /// `ffmpeg` and `ffprobe`: video frames, audio covers.
    pub ffmpeg: bool,
    /// `pdftoppm`: PDF pages.
    pub pdftoppm: bool,
    /// `pdftotext`: the text of PDFs, for search.
    pub pdftotext: bool,
    /// `prlimit` is there (without it, no tool is run: unconfined is not safe).
    pub prlimit: bool,
    /// `unshare --net` works (a user namespace, or root).
    pub no_network: Option<&'static [&'static str]>,
}

impl Tools {
    /// Whether video and audio previews can be made.
    pub fn video(&self) -> bool {
        self.ffmpeg && self.prlimit
    }

    /// Whether PDF previews can be made.
    pub fn pdf(&self) -> bool {
        self.pdftoppm && self.prlimit
    }

    /// Whether the text of PDFs can be found for search.
    pub fn pdf_text(&self) -> bool {
        self.pdftotext && self.prlimit
    }

    /// What is missing, for the log and the admin page (empty: everything is there).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.prlimit {
            missing.push("prlimit (util-linux): no video, audio or PDF previews");
        }
        if !self.ffmpeg {
            missing.push("ffmpeg: no video posters or audio covers");
        }
        if !self.pdftoppm {
            missing.push("pdftoppm (poppler-utils): no PDF previews");
        }
        if !self.pdftotext {
            missing.push("pdftotext (poppler-utils): PDFs are not searched by their text");
        }
        missing
    }
}

/// The tools found on this machine (looked for once).
pub async fn tools() -> Tools {
    static FOUND: OnceLock<Tools> = OnceLock::new();
    if let Some(found) = FOUND.get() {
        return *found;
    }
    let works = |program: &'static str, args: &'static [&'static str]| async move {
        let status = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status();
        matches!(tokio::time::timeout(Duration::from_secs(5), status).await, Ok(Ok(s)) if s.success())
    };
    const USER_NET: &[&str] = &["unshare", "--user", "--map-root-user", "--net", "--"];
    const NET: &[&str] = &["unshare", "--net", "--"];
    let no_network = if works("unshare", &["--user", "--map-root-user", "--net", "true"]).await {
        Some(USER_NET)
    } else if works("unshare", &["--net", "true"]).await {
        Some(NET)
    } else {
        None
    };
    let found = Tools {
        ffmpeg: works("ffmpeg", &["-version"]).await && works("ffprobe", &["-version"]).await,
        pdftoppm: works("pdftoppm", &["-v"]).await,
        pdftotext: works("pdftotext", &["-v"]).await,
        prlimit: works("prlimit", &["--version"]).await,
        no_network,
    };
    *FOUND.get_or_init(|| found)
}

/// Runs `program` confined; its standard output (at most [`MAX_OUTPUT`]) if it succeeded.
async fn run(program: &str, args: &[&str], dir: &Path) -> Result<Vec<u8>, Unusable> {
    let tools = tools().await;
    let mut line: Vec<&str> = tools.no_network.map(<[&str]>::to_vec).unwrap_or_default();
    line.push("prlimit");
    line.extend(LIMITS);
    line.push("--");
    line.push(program);
    line.extend(args);
    let mut child = Command::new(line[0])
        .args(&line[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| Unusable(format!("{program} cannot be started ({err}).")))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Unusable(format!("{program} cannot be started.")));
    };
    let finished = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (mut stdout, mut stderr) = (stdout.take(MAX_OUTPUT + 1), stderr.take(4096));
        let (read_out, read_err) =
            tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        read_out.and(read_err)?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(TIMEOUT, finished).await {
        Ok(Ok(done)) => done,
        Ok(Err(err)) => return Err(Unusable(format!("{program} failed ({err})."))),
        Err(_) => {
            return Err(Unusable(format!("{program} took longer than {} s.", TIMEOUT.as_secs())));
        }
    };
    if out.len() as u64 > MAX_OUTPUT {
        return Err(Unusable(format!("{program} printed more than expected.")));
    }
    if !status.success() {
        // The owner reads this on the file's page: never the server's paths.
        let dir = dir.to_string_lossy();
        let why = String::from_utf8_lossy(&err)
            .replace(&format!("{dir}/input"), "the file")
            .replace(dir.as_ref(), "");
        let why = why.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no message");
        let why: String = why
            .chars()
            .filter(|c| !c.is_control() && !crate::files::is_invisible(*c))
            .take(300)
            .collect();
        return Err(Unusable(format!("{program} could not read the file: {why}")));
    }
    Ok(out)
}

/// What `ffprobe` says about a video or audio file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// Seconds.
    pub duration: Option<f64>,
    /// The first picture stream's size (a video, or an audio file's cover).
    pub size: Option<(u32, u32)>,
    /// Whether there is a picture stream at all.
    pub picture: bool,
}

/// Reads `input` (container `format`, an ffmpeg demuxer name).
pub async fn probe(input: &Path, format: &str, dir: &Path) -> Result<Probe, Unusable> {
    let args = [
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-f",
        format,
        "-show_entries",
        "format=duration:stream=codec_type,width,height",
        "-of",
        "json",
    ];
    let mut all: Vec<&str> = args.to_vec();
    let path = input.to_string_lossy();
    all.push(&path);
    let out = run("ffprobe", &all, dir).await?;
    let json: serde_json::Value = serde_json::from_slice(&out)
        .map_err(|_| Unusable("ffprobe's answer cannot be read.".into()))?;
    let duration = json["format"]["duration"].as_str().and_then(|d| d.parse::<f64>().ok());
    let picture = json["streams"]
        .as_array()
        .and_then(|streams| streams.iter().find(|s| s["codec_type"] == "video"));
    let size = picture.and_then(|stream| {
        let side = |key: &str| stream[key].as_u64().and_then(|n| u32::try_from(n).ok());
        Some((side("width")?, side("height")?))
    });
    Ok(Probe {
        duration: duration.filter(|d| d.is_finite() && *d >= 0.0),
        size,
        picture: picture.is_some(),
    })
}

/// One frame of `input`'s first picture stream, `at` seconds in, as a PNG at most [`LARGE`]
/// pixels on a side.
pub async fn frame(input: &Path, format: &str, at: f64, dir: &Path) -> Result<Vec<u8>, Unusable> {
    let seek = format!("{at:.3}");
    let scale =
        format!("scale='min({LARGE},iw)':'min({LARGE},ih)':force_original_aspect_ratio=decrease");
    let path = input.to_string_lossy();
    let mut args = vec![
        "-nostdin",
        "-v",
        "error",
        "-threads",
        "1",
        "-protocol_whitelist",
        "file",
        "-f",
        format,
    ];
    if at > 0.0 {
        // Seeking at all (even to 0) loses an audio file's attached cover.
        args.extend(["-ss", &seek]);
    }
    args.extend([
        "-i",
        &path,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        &scale,
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "pipe:1",
    ]);
    let png = run("ffmpeg", &args, dir).await?;
    if png.is_empty() {
        return Err(Unusable("ffmpeg found no frame to show.".into()));
    }
    Ok(png)
}

/// The first page of the PDF `input`, as a PNG at most [`LARGE`] pixels on a side.
pub async fn pdf_page(input: &Path, dir: &Path) -> Result<Vec<u8>, Unusable> {
    let side = LARGE.to_string();
    let path = input.to_string_lossy();
    let out = dir.join("page");
    let out_path = out.to_string_lossy();
    let args = ["-f", "1", "-l", "1", "-scale-to", &side, "-png", "-singlefile", &path, &out_path];
    run("pdftoppm", &args, dir).await?;
    let page = dir.join("page.png");
    let size = tokio::fs::metadata(&page).await.map(|m| m.len()).unwrap_or(0);
    if size == 0 || size > MAX_OUTPUT {
        return Err(Unusable("pdftoppm made no page.".into()));
    }
    tokio::fs::read(&page)
        .await
        .map_err(|err| Unusable(format!("The page cannot be read ({err}).")))
}

/// The text of the PDF `input`'s first 500 pages (UTF-8; at most [`MAX_OUTPUT`] bytes).
pub async fn pdf_text(input: &Path, dir: &Path) -> Result<Vec<u8>, Unusable> {
    let path = input.to_string_lossy();
    let args = ["-l", "500", "-enc", "UTF-8", "-nopgbrk", "-q", &path, "-"];
    run("pdftotext", &args, dir).await
}
