//! The edge (`server/src/edge`): connection timeouts and caps, bounded request heads, load
//! shedding, rate-limit budgets with their headers, trusted proxies and security headers.
//! Each test fails on a server without the rule.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, browser, spawn_app, spawn_app_with};

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes); when it closed.
async fn closed_within(
    stream: &mut (impl AsyncReadExt + Unpin),
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((start + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_trickled_or_idle_connection_is_cut_at_the_header_timeout() {
    let app = spawn_app_with(|c| c.header_timeout_secs = 1).await;
    // Slowloris: a head that never ends, one byte every 100 ms.
    let (mut reader, mut writer) = TcpStream::connect(host(&app)).await.unwrap().into_split();
    tokio::spawn(async move {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n".iter().chain(&[b'a'; 200]) {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let closed = closed_within(&mut reader, Duration::from_secs(10)).await;
    let closed = closed.expect("the trickling connection is cut");
    assert!(closed < Duration::from_millis(2500), "cut at the 1 s header timeout: {closed:?}");
    // A keep-alive connection left idle after a request is closed too.
    let mut idle = TcpStream::connect(host(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut head = [0u8; 1024];
    assert!(idle.read(&mut head).await.unwrap() > 0, "answered");
    let closed = closed_within(&mut idle, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "an idle keep-alive connection is closed");
    assert_eq!(app.get("/healthz").await.status(), 200, "others are served meanwhile");
}

/// Two connections that send nothing, then a third that asks for /healthz.
async fn two_held_then_a_request(app: &TestApp) -> ([TcpStream; 2], TcpStream) {
    let held = [
        TcpStream::connect(host(app)).await.unwrap(),
        TcpStream::connect(host(app)).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(host(app)).await.unwrap();
    let _ = third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    (held, third)
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_is_closed_at_once() {
    let app = spawn_app_with(|c| {
        c.max_connections = 2;
        c.header_timeout_secs = 5;
    })
    .await;
    let (held, mut third) = two_held_then_a_request(&app).await;
    let closed = closed_within(&mut third, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "closed without an answer");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get("/healthz").await.status(), 200, "room again once they went");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection_but_a_trusted_proxy_may() {
    for (trusted, third_served) in [("", false), ("127.0.0.1/32", true)] {
        let app = spawn_app_with(|c| {
            c.max_connections_per_address = 2;
            c.trusted_proxies = trusted.into();
        })
        .await;
        let (held, mut third) = two_held_then_a_request(&app).await;
        let mut answer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(2), third.read(&mut answer)).await;
        let served = matches!(read, Ok(Ok(n)) if n > 0 && answer.starts_with(b"HTTP/1.1 200"));
        assert_eq!(served, third_served, "trusted proxies: {trusted:?}");
        drop(held);
    }
}

#[tokio::test]
async fn too_many_or_too_large_headers_are_431() {
    let app = spawn_app_with(|c| c.max_headers = 20).await;
    let mut request = app.client.get(format!("{}/healthz", app.address));
    for n in 0..30 {
        request = request.header(format!("x-extra-{n}"), "1");
    }
    assert_eq!(request.send().await.unwrap().status(), 431);
    let huge = app.client.get(format!("{}/healthz", app.address));
    let huge = huge.header("x-big", "a".repeat(40_000)).send().await.unwrap();
    assert_eq!(huge.status(), 431);
    let body: Value = huge.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");
    let long_url = format!("{}/healthz?{}", app.address, "q".repeat(20_000));
    assert_eq!(app.client.get(long_url).send().await.unwrap().status(), 431);
}

#[tokio::test]
async fn past_max_in_flight_requests_are_shed_at_once_but_health_checks_answer() {
    let app = spawn_app_with(|c| c.max_in_flight = 1).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    // One upload whose body never ends holds the only slot.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender.send(Ok(vec![0; 1024])).await.unwrap();
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let body = reqwest::Body::wrap_stream(chunks);
    let hold = app.api(reqwest::Method::PUT, "/files?name=slow.bin", &token).body(body).send();
    let hold = tokio::spawn(hold);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let shed = app.api(reqwest::Method::GET, "/me", &token).send().await.unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_millis(500), "refused at once, not queued");
    assert!(shed.headers().contains_key("retry-after"));
    let body: Value = shed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded");
    assert_eq!(app.get("/healthz").await.status(), 200, "health checks are never shed");
    drop(sender);
    let _ = hold.await;
    assert_eq!(app.api(reqwest::Method::GET, "/me", &token).send().await.unwrap().status(), 200);
}

/// A request body that sends `first` and then nothing, until the returned sender is dropped.
fn stalling_body(
    first: Vec<u8>,
) -> (tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>, reqwest::Body) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.try_send(Ok(first)).unwrap();
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (sender, reqwest::Body::wrap_stream(chunks))
}

#[tokio::test]
async fn an_upload_that_stops_sending_is_cut_and_a_tus_upload_keeps_what_arrived() {
    let app = spawn_app_with(|c| c.upload_idle_timeout_secs = 1).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let started = Instant::now();
    let (_held, body) = stalling_body(vec![1; 1000]);
    let put = app.api(reqwest::Method::PUT, "/files?name=stalled.bin", &token).body(body);
    let answer = tokio::time::timeout(Duration::from_secs(10), put.send()).await;
    assert!(answer.is_ok(), "answered (or closed) instead of waiting for ever");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["total"], 0, "no file from a cut upload");

    let upload = app.start_upload(&token, "resumable.bin", 5000).await;
    let (_held, body) = stalling_body(vec![2; 1000]);
    let patch = app
        .tus(reqwest::Method::PATCH, &upload, &token)
        .header("upload-offset", 0)
        .header("content-type", "application/offset+octet-stream")
        .body(body);
    let _ = tokio::time::timeout(Duration::from_secs(10), patch.send()).await;
    let offset = app.offset(&token, &upload).await;
    assert_eq!(offset.headers()["upload-offset"], "1000", "what arrived is kept to resume");
}

/// Sends `head` and then `length` bytes, all of them before reading (as nginx passes an
/// unbuffered body on, and as most HTTP libraries send); the answer's head, or the error a
/// write or the read met.
async fn send_whole_then_read(
    stream: &mut TcpStream,
    head: &str,
    length: usize,
) -> std::io::Result<String> {
    stream.write_all(head.as_bytes()).await?;
    let chunk = vec![7u8; 1 << 20];
    let mut left = length;
    while left > 0 {
        let n = left.min(chunk.len());
        stream.write_all(&chunk[..n]).await?;
        left -= n;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&answer).to_lowercase())
}

/// A route that answers before reading the body (a bad token: 401; a tus chunk at the wrong
/// offset: 409) still reaches a client that sends its whole body first, and the connection
/// stays usable; without this, the client's writes break and nginx, as that client, answers
/// 502 and takes the instance out of rotation. A body past what is read out is answered with
/// `Connection: close`.
#[tokio::test]
async fn an_early_answer_reaches_a_client_that_sends_its_whole_body_first() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let length = 24 << 20;
    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    let head = format!(
        "PUT /api/v1/files?name=x.bin HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer pnr_not_a_token\r\nContent-Length: {length}\r\n\r\n"
    );
    let answer = send_whole_then_read(&mut stream, &head, length).await;
    let answer = answer.expect("the whole body was taken and the answer came");
    assert!(answer.starts_with("http/1.1 401"), "{answer}");

    let upload = app.start_upload(&token, "chunked.bin", 2 * length).await;
    let head = format!(
        "PATCH /api/v1{upload} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: 5\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {length}\r\n\r\n"
    );
    let answer = send_whole_then_read(&mut stream, &head, length).await;
    let answer = answer.expect("the same connection took a second body and answered");
    assert!(answer.starts_with("http/1.1 409"), "{answer}");
    assert!(!answer.contains("connection: close"), "{answer}");

    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    let head = "PUT /api/v1/files?name=x.bin HTTP/1.1\r\nHost: x\r\n\
                Authorization: Bearer pnr_not_a_token\r\nContent-Length: 1073741824\r\n\r\n";
    let answer = send_whole_then_read(&mut stream, head, 0).await.expect("answered");
    assert!(answer.starts_with("http/1.1 401"), "{answer}");
    assert!(answer.contains("connection: close"), "a gigabyte is not read out: {answer}");
}

#[tokio::test]
async fn a_spent_budget_answers_429_with_its_headers_per_account_or_address() {
    let app = spawn_app_with(|c| c.rate_requests = 5).await;
    let (_, ada) = app.user_with_token("ada@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    for left in (0..5).rev() {
        let ok = app.api(reqwest::Method::GET, "/me", &ada).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["ratelimit-policy"], "\"requests\";q=5;w=60");
        let remaining = ok.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(remaining.starts_with(&format!("\"requests\";r={left};")), "{remaining}");
    }
    let limited = app.api(reqwest::Method::GET, "/me", &ada).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(limited.headers()["ratelimit"].to_str().unwrap().contains("r=0"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another account from the same address has its own budget.
    assert_eq!(app.api(reqwest::Method::GET, "/me", &bob).send().await.unwrap().status(), 200);
    // A signed-out browser spends the address's budget and then gets a page, not JSON.
    let page = || browser().get(format!("{}/", app.address)).header("accept", "text/html");
    for _ in 0..5 {
        page().send().await.unwrap();
    }
    let refused = page().send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(refused.text().await.unwrap().contains("Slow down"));
    assert_eq!(app.get("/healthz").await.status(), 200, "health checks spend no budget");
}

/// Sign-in attempts with `X-Forwarded-For: forwarded`, each for another account (so only the
/// address's budget is spent); their statuses.
async fn sign_ins(app: &TestApp, forwarded: &str, attempts: usize) -> Vec<u16> {
    static ACCOUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut statuses = Vec::new();
    for _ in 0..attempts {
        let n = ACCOUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("nobody{n}@example.com");
        let response = app
            .client
            .post(format!("{}/api/sign_in", app.address))
            .header("origin", &app.address)
            .header("accept", "application/json")
            .header("x-forwarded-for", forwarded)
            .form(&[("email", email.as_str()), ("password", "wrong password!")])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_and_strangers_cannot_forge_one() {
    // Per address: twice the per-account budget; each attempt here names another account.
    let trusted = spawn_app_with(|c| {
        c.rate_sign_ins = 100;
        c.trusted_proxies = "127.0.0.1/32".into();
    })
    .await;
    let limits = &trusted.state.limits;
    let per_address = limits.policy(domain::limits::Budget::SignInAddress).unwrap().burst.get();
    assert_eq!(per_address, 200);
    let untrusted = spawn_app_with(|c| c.rate_sign_ins = 2).await;
    // Without trust, a forged header does not buy a fresh budget: every try is 127.0.0.1.
    let first = sign_ins(&untrusted, "198.51.100.1", 4).await;
    let forged = sign_ins(&untrusted, "198.51.100.2", 1).await;
    assert_eq!(first, [401, 401, 401, 401]);
    assert_eq!(forged, [429], "the budget is the real peer's");

    let proxied = spawn_app_with(|c| {
        c.rate_sign_ins = 2;
        c.trusted_proxies = "127.0.0.1/32".into();
    })
    .await;
    let first = sign_ins(&proxied, "198.51.100.1", 5).await;
    assert_eq!(first, [401, 401, 401, 401, 429]);
    let other = sign_ins(&proxied, "198.51.100.2", 1).await;
    assert_eq!(other, [401], "another client behind the proxy is not locked out");
    // A client prepending its own hop is still the address the proxy saw.
    let prepended = sign_ins(&proxied, "203.0.113.7, 198.51.100.1", 1).await;
    assert_eq!(prepended, [429]);
}

#[tokio::test]
async fn a_parallel_burst_of_sign_ins_cannot_pass_the_budget() {
    let app = spawn_app_with(|c| c.rate_sign_ins = 10).await;
    app.user_with_token("ada@example.com").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let request = app
            .client
            .post(format!("{}/api/sign_in", app.address))
            .header("origin", &app.address)
            .header("accept", "application/json")
            .form(&[("email", "ada@example.com"), ("password", "wrong password!")]);
        attempts.spawn(request.send());
    }
    let mut verified = 0;
    while let Some(answer) = attempts.join_next().await {
        let answer = answer.unwrap().unwrap();
        match answer.status().as_u16() {
            401 => verified += 1,
            429 | 503 => assert!(answer.headers().contains_key("retry-after")),
            other => panic!("unexpected {other}"),
        }
    }
    assert!(verified <= 10, "{verified} passwords were checked; the budget is 10");
}

#[tokio::test]
async fn security_headers_are_on_every_answer_and_hsts_only_on_https() {
    let app = spawn_app_with(|_| {}).await;
    for path in ["/", "/healthz", "/api/v1/me", "/missing"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin", "{path}");
        assert!(headers["permissions-policy"].to_str().unwrap().contains("camera=()"));
        assert!(!headers.contains_key("strict-transport-security"), "plain http: no HSTS");
    }
    let https = spawn_app_with(|c| c.public_url = Some("https://files.example".into())).await;
    let response = https.get("/healthz").await;
    let hsts = response.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
}

/// The `'nonce-…'` of a page's policy.
fn nonce_of(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("a nonce source") + "'nonce-".len();
    policy[start..].split('\'').next().unwrap().to_owned()
}

#[tokio::test]
async fn pages_allow_only_their_own_nonced_scripts_and_other_answers_allow_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let mut nonces = Vec::new();
    for path in ["/", "/sign-in", "/missing"] {
        let response = app.get(path).await;
        let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let script_src = policy.split("; ").find(|d| d.starts_with("script-src ")).unwrap();
        assert!(!script_src.contains("'unsafe-inline'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"));
        let nonce = nonce_of(&policy);
        assert!(nonce.len() >= 16, "{nonce}");
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path} hydrates");
        for script in scripts {
            let tag = &script[..script.find('>').unwrap()];
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{tag}>");
        }
        nonces.push(nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a new nonce per response");
    for path in ["/api/v1/me", "/healthz", "/favicon.svg"] {
        let response = app.get(path).await;
        let policy = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'"), "{path}: {policy}");
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_a_download_loses_the_connection() {
    let app = spawn_app_with(|config| config.send_timeout_secs = 1).await;
    let size = 8 << 20;
    let mut stream = slow_download(&app, size).await;
    let mut buffer = vec![0; 64 * 1024];
    let first = stream.read(&mut buffer).await.unwrap();
    // Stop reading: the server's writes block, and after the send timeout it gives up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = first + drain(&mut stream).await;
    assert!(received < size, "only what was buffered arrived: {received} of {size}");
}

/// A download of a `size`-byte file on a connection with a small receive buffer (so the
/// server's writes wait for the test's reads), its request sent.
async fn slow_download(app: &TestApp, size: usize) -> TcpStream {
    let (_, token) = app.user_with_token("ada@example.com").await;
    let uploaded = app.put_file(&token, None, "big.bin", vec![7; size]).await;
    let id = uploaded.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    let request = format!(
        "GET /api/v1/files/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads as fast as bytes come until the server closes (within 20 s); how many came.
async fn drain(stream: &mut TcpStream) -> usize {
    let mut buffer = vec![0; 64 * 1024];
    let mut received = 0;
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received += read,
            }
        }
    });
    drained.await.expect("the server closed the connection");
    received
}

#[tokio::test]
async fn one_client_has_a_bounded_number_of_uploads_going_at_once() {
    let app = spawn_app_with(|config| config.max_uploads_at_once = 2).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, other) = app.user_with_token("bob@example.com").await;
    let mut held = Vec::new();
    for i in 0..2 {
        let (sender, body) = stalling_body(vec![0; 1024]);
        let path = format!("/files?name=slow{i}.bin");
        held.push((
            sender,
            tokio::spawn(app.api(reqwest::Method::PUT, &path, &token).body(body).send()),
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let third = app.put_file(&token, None, "third.txt", b"x".to_vec()).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(started.elapsed() < Duration::from_millis(500), "refused at once");
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("2 uploads going"), "{body}");
    // Another account is not held back by this one.
    assert_eq!(app.put_file(&other, None, "b.txt", b"x".to_vec()).await.status(), 201);
    for (sender, upload) in held {
        drop(sender);
        let _ = upload.await;
    }
    assert_eq!(app.put_file(&token, None, "fourth.txt", b"x".to_vec()).await.status(), 201);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_answered_503_at_the_deadline() {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let app = spawn_app_with(|config| config.request_timeout_secs = 1).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    // Hold a lock that creating a folder must wait for (longer than the deadline).
    let lock = app.db.begin().await.unwrap();
    let statement = match app.db.get_database_backend() {
        DbBackend::Postgres => "LOCK TABLE folders IN ACCESS EXCLUSIVE MODE",
        _ => "UPDATE users SET display_name = display_name",
    };
    lock.execute_unprepared(statement).await.unwrap();
    let started = Instant::now();
    let create = app.api(reqwest::Method::POST, "/folders", &token);
    let response = create.json(&serde_json::json!({ "name": "Late" })).send().await.unwrap();
    let took = started.elapsed();
    lock.rollback().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_secs(3), "answered at the deadline, not after: {took:?}");
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("took too long"), "{body}");
    let again = app.api(reqwest::Method::POST, "/folders", &token);
    let again = again.json(&serde_json::json!({ "name": "Late" })).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED, "nothing was left half-done");
}

#[tokio::test]
async fn an_upload_that_trickles_below_the_minimum_rate_is_cut() {
    let app = spawn_app_with(|config| {
        config.upload_idle_timeout_secs = 1;
        config.min_transfer_rate = 1000;
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    // 20 bytes every 100 ms: never idle for a second, but 200 bytes a second.
    let chunks = futures_util::stream::unfold(0, |sent| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        (sent < 600).then_some((Ok::<_, std::io::Error>(vec![b'x'; 20]), sent + 1))
    });
    let started = Instant::now();
    let body = reqwest::Body::wrap_stream(chunks);
    let put = app.api(reqwest::Method::PUT, "/files?name=trickle.bin", &token).body(body);
    let answer = tokio::time::timeout(Duration::from_secs(20), put.send()).await;
    assert!(answer.is_ok(), "answered (or closed) instead of taking the trickle");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut after a window: {:?}",
        started.elapsed()
    );
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["total"], 0, "no file from a cut upload");
}

#[tokio::test]
async fn a_client_that_reads_a_download_below_the_minimum_rate_loses_the_connection() {
    let app = spawn_app_with(|config| {
        config.send_timeout_secs = 1;
        config.min_transfer_rate = 100_000;
    })
    .await;
    let size = 16 << 20;
    let mut stream = slow_download(&app, size).await;
    // Read 1 KiB every 50 ms (20 KiB/s, below the 100 KB/s asked for) for 4 s…
    let mut buffer = vec![0; 1024];
    let mut received = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        received += stream.read(&mut buffer).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …then take everything as fast as it comes: a cut connection ends with what was already
    // in the kernel's buffers, far short of the file.
    received += drain(&mut stream).await;
    assert!(received < size, "cut before the end: {received} of {size}");
}
