//! The OpenAPI 3.1 document of the API, generated from the code: `api_v1::router` registers
//! every `/api/v1` route through `utoipa-axum` from its handler's `#[utoipa::path]`, so a
//! route cannot exist without its entry; [`document`] adds what is mounted elsewhere — a file
//! request's upload routes (the same handlers under `/s/{slug}`) and the public share routes.
//! Served at `GET /api/v1/openapi.json`; the `/api` page renders it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::error::ErrorBody;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

/// What every document starts from: info, the bearer scheme, the error schema, the public
/// share routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pannier API",
        description = "Files, folders, share links and resumable (tus 1.0) uploads. Authenticate \
            with `Authorization: Bearer <token>` (tokens are made on the account page) or a \
            browser session. Errors are `{\"error\": {\"code\", \"message\"}}`; 429 and 503 carry \
            `Retry-After`.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody)),
    paths(
        crate::shares::shared_file,
        crate::shares::shared_thumbnail,
        crate::shares::shared_zip,
        crate::shares::share_search,
        crate::shares::unlock
    ),
    tags(
        (name = "account", description = "The caller's account"),
        (name = "files", description = "Files and their bytes"),
        (name = "folders", description = "Folders and their listings"),
        (name = "shares", description = "Share links and file requests, as their owner sees them"),
        (name = "search", description = "Finding the caller's files by name, description, text and filters"),
        (name = "uploads", description = "Resumable uploads (tus 1.0: creation, termination, checksum)"),
        (name = "public", description = "What a share link's visitors reach (no token)"),
        (name = "file requests", description = "A file request's uploads, for its visitors"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An API token, `pnr_…`"))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The error answers any operation may give, each with the JSON error body.
pub struct Errors;

impl IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        [
            ("400", "The request is malformed (a bad id, query or body)"),
            ("401", "No valid token or session"),
            ("403", "Not allowed"),
            ("404", "No such thing (or not the caller's)"),
            ("413", "Too large (a file, a body, a quota)"),
            ("415", "A body of the wrong type"),
            ("422", "A field is invalid (`field` names it)"),
            ("429", "A rate-limit budget is spent (`Retry-After`)"),
            ("503", "Overloaded or a dependency is down (`Retry-After`)"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody")));
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", content.build())
                .build();
            (status.to_owned(), RefOr::T(response))
        })
        .collect()
    }
}

/// Raw bytes: a file's content, an upload's body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "a schema: bodies stream, they are never held in this type")]
pub struct Binary(Vec<u8>);

/// The `PATCH /api/v1/shares/{id}` body: any of these (`null` clears an optional one); any
/// other key is a 400.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema: the handler reads these keys from the JSON object")]
pub struct ShareChange {
    /// The owner's name for the link.
    label: Option<String>,
    /// RFC 3339, or `null` for never.
    expires_at: Option<String>,
    /// A new password, or `null` to remove it.
    password: Option<String>,
    /// Downloads allowed in all, or `null` for no limit.
    max_downloads: Option<u64>,
    /// Whether "download all as zip" is offered.
    allow_zip: Option<bool>,
    /// A file request's rules, replaced whole.
    request: Option<crate::api_v1::shares::RequestBody>,
}

/// The finished document: `api` (the `/api/v1` router's, paths relative to it) under
/// `/api/v1`, plus the public routes and a file request's copies of the upload routes.
pub fn finish(api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    let mut uploads = Vec::new();
    for (path, item) in api.paths.paths {
        let full = format!("/api/v1{path}");
        if path == "/files" || path.starts_with("/uploads") {
            uploads.push((format!("/s/{{slug}}{path}"), for_visitors(item.clone())));
        }
        document.paths.paths.insert(full, item);
    }
    document.paths.paths.extend(uploads);
    if let (Some(into), Some(from)) = (document.components.as_mut(), api.components) {
        into.schemas.extend(from.schemas);
    }
    document
}

/// A file request's copy of an upload route: the link's `slug` in the path, no token (the
/// share policy admits visitors, with the link's cookies).
fn for_visitors(mut item: PathItem) -> PathItem {
    let slug = ParameterBuilder::new()
        .name("slug")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The file request's link"))
        .schema(Some(String::schema()))
        .build();
    let operations = [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
    ];
    for operation in operations.into_iter().flatten() {
        operation.tags = Some(vec!["file requests".to_owned()]);
        operation.security = Some(vec![SecurityRequirement::default()]);
        operation.operation_id = operation.operation_id.take().map(|id| format!("request_{id}"));
        let parameters: &mut Vec<Parameter> = operation.parameters.get_or_insert_with(Vec::new);
        parameters.insert(0, slug.clone());
    }
    item
}

static DOCUMENT: OnceLock<String> = OnceLock::new();

/// Keeps the finished document (the first router built in the process makes it).
pub fn keep(api: utoipa::openapi::OpenApi) {
    DOCUMENT.get_or_init(|| finish(api).to_pretty_json().unwrap_or_default());
}

/// The document as served.
pub fn document() -> &'static str {
    DOCUMENT.get().map_or("{}", String::as_str)
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This document", content_type = "application/json")))]
pub async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}
