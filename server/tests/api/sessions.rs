//! A signed-in browser's requests do not each write its session: the session is saved (and its
//! cookie sent again) at most every few minutes, and only by requests that change nothing.

use crate::helpers::{browser, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn requests_do_not_rewrite_the_session_each_time() {
    let app = spawn_app().await;
    let ada = browser();
    let signed_up = app.sign_up(&ada, "ada@example.com", PASSWORD).await;
    assert!(signed_up.headers().get("set-cookie").is_some(), "signing in sets the cookie");
    for _ in 0..3 {
        let me = ada.get(format!("{}/api/v1/me", app.address)).send().await.unwrap();
        assert_eq!(me.status(), 200);
        assert!(me.headers().get("set-cookie").is_none(), "no session write per request");
    }
    let upload = ada
        .put(format!("{}/api/v1/files?name=a.txt", app.address))
        .header("origin", &app.address)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    assert!(upload.headers().get("set-cookie").is_none(), "an upload never saves the session");
}
