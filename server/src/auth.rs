//! Authentication at the edge: the session cookie, who is calling (session or bearer token),
//! and the CSRF rule for every state-changing request.

use crate::edge::limits::RequestDeadline;
use crate::errors::error_response;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use domain::AppError;
use domain::account::TokenScope;
use domain::sessions::DbSessionStore;
use domain::state::AppState;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// The session cookie: HttpOnly, SameSite=Lax; `Secure` with the `__Host-` prefix on https.
pub fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let https = state.config.is_https();
    let idle = Duration::minutes(i64::from(state.config.session_idle_minutes));
    SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(if https { "__Host-pannier_session" } else { "pannier_session" })
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Paths that never need to know who is asking (no session lookup for them).
fn is_anonymous_path(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/c/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.svg"
}

/// Puts the caller's `Identity`, when authenticated, into the request's extensions (the
/// client's address is already there: `edge::client`). A bearer token that is unknown,
/// expired or revoked is answered with 401 at once; a read token may only read.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_anonymous_path(request.uri().path()) {
        return next.run(request).await;
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned());
    let session = request.extensions().get::<Session>().cloned();
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let lookup = async {
        match (bearer, session) {
            (Some(secret), _) => domain::tokens::authenticate(&state.db, &secret).await.map(Some),
            (None, Some(session)) => {
                domain::sessions::identity(&state.db, &session, &state.config, safe).await
            }
            (None, None) => Ok(None),
        }
    };
    // Every route's deadline covers finding out who asks (a streaming route's too).
    let deadline = request.extensions().get::<RequestDeadline>().map(|deadline| deadline.0);
    let identity = match deadline {
        Some(limit) => tokio::time::timeout(limit, lookup).await.unwrap_or_else(|_| {
            tracing::warn!(?limit, "identifying the caller passed the request deadline");
            Err(crate::edge::limits::too_slow())
        }),
        None => lookup.await,
    };
    match identity {
        Ok(Some(identity)) => {
            if identity.token_scope == Some(TokenScope::Read) && !is_safe(request.method()) {
                return error_response(&AppError::Forbidden(
                    "This token is read-only; create a write token to change things.".into(),
                ));
            }
            request.extensions_mut().insert(identity);
        }
        Ok(None) => {}
        Err(err) => return error_response(&err),
    }
    next.run(request).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses state-changing requests that a browser sent from another site: the `Origin` must be
/// the public URL's origin (or, without `Origin`, `Sec-Fetch-Site` must say same-origin).
/// Requests without cookies carry no ambient authority and pass when authenticated by a bearer
/// token, or sent to a share link (a script uploading into a file request).
pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let bearer_only = !headers.contains_key(header::COOKIE)
        && (headers.contains_key(header::AUTHORIZATION) || request.uri().path().starts_with("/s/"));
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let same_origin = match origin {
        Some(origin) => origin == state.config.public_origin(),
        None => matches!(fetch_site, Some("same-origin" | "none")),
    };
    if bearer_only || same_origin {
        return next.run(request).await;
    }
    tracing::warn!(?origin, ?fetch_site, "refused a cross-site request");
    error_response(&AppError::Forbidden(
        "This request did not come from a Pannier page, so it was refused to protect your \
         account. Reload the page and try again."
            .into(),
    ))
}
