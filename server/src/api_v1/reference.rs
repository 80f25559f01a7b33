//! `GET /api`: the API reference, rendered on the server from the OpenAPI document — every
//! operation by tag with its parameters, body and answers, then the schemas. One page of
//! HTML with its own small stylesheet: no script, nothing from another origin.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::openapi;
use crate::html::escape;

/// The page's policy: its own inline stylesheet, nothing else.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                      form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = "
:root{color-scheme:light dark;--fg:#0f172a;--muted:#475569;--bg:#fff;--card:#f8fafc;--line:#e2e8f0;--accent:#0369a1}
@media (prefers-color-scheme:dark){:root{--fg:#f1f5f9;--muted:#94a3b8;--bg:#020617;--card:#0f172a;--line:#1e293b;--accent:#38bdf8}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 4rem}a{color:var(--accent)}
h1{font-size:1.75rem;margin:.5rem 0}h2{margin-top:2.5rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem .75rem}section.op{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.op h3{margin:0;font-size:1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline}
code{font:13px/1.4 ui-monospace,monospace;overflow-wrap:anywhere}.m{font-weight:700;text-transform:uppercase;min-width:4.5rem}
.muted{color:var(--muted)}table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}
td,th{text-align:left;vertical-align:top;padding:.25rem .5rem;border-top:1px solid var(--line)}
a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}";

/// The page, rendered once per process.
pub async fn page() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let html =
        PAGE.get_or_init(|| render(&serde_json::from_str(openapi::document()).unwrap_or_default()));
    ([(header::CONTENT_SECURITY_POLICY, POLICY)], Html(html.as_str())).into_response()
}

/// Escaped text with its `code spans` as `<code>`.
fn prose(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_owned() })
        .collect()
}

/// `#/components/schemas/FileDto` → a link to its entry; a type otherwise.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = escape(reference.rsplit('/').next().unwrap_or_default());
        return format!("<a href=\"#schema-{name}\">{name}</a>");
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", type_of(items));
    }
    if let Some(any) = schema["oneOf"].as_array().or_else(|| schema["anyOf"].as_array()) {
        return any.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => {
            kinds.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or ")
        }
        Value::String(kind) => kind.clone(),
        _ => "any".to_owned(),
    };
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({})", escape(format)),
        None => escape(&kind),
    }
}

fn render(document: &Value) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let info = &document["info"];
    let title = escape(info["title"].as_str().unwrap_or("API"));
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} reference</title><style>{STYLE}</style><main>\
         <p><a href=\"/\">Pannier</a></p><h1>{title}</h1><p>{}</p>\
         <p>The machine-readable document: <a href=\"/api/v1/openapi.json\"><code>/api/v1/openapi.json</code></a> (OpenAPI {}).</p><nav aria-label=\"Sections\">",
        prose(info["description"].as_str().unwrap_or_default()),
        escape(document["openapi"].as_str().unwrap_or_default()),
    );
    let tags: Vec<&str> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for tag in &tags {
        let _ = write!(html, "<a href=\"#tag-{0}\">{0}</a>", escape(tag));
    }
    html.push_str("<a href=\"#schemas\">schemas</a></nav>");
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for tag in &tags {
        let _ = write!(html, "<h2 id=\"tag-{0}\">{0}</h2>", escape(tag));
        for (path, item) in &paths {
            for method in ["get", "head", "post", "put", "patch", "delete", "options"] {
                let operation = &item[method];
                let tagged =
                    operation["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == tag));
                if tagged {
                    render_operation(&mut html, method, path, operation);
                }
            }
        }
    }
    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    let schemas = document["components"]["schemas"].as_object().cloned().unwrap_or_default();
    for (name, schema) in &schemas {
        let _ = write!(
            html,
            "<section class=\"op\" id=\"schema-{0}\"><h3><code>{0}</code></h3>",
            escape(name)
        );
        if let Some(text) = schema["description"].as_str() {
            let _ = write!(html, "<p class=\"muted\">{}</p>", prose(text));
        }
        if let Some(values) = schema["enum"].as_array() {
            let values: Vec<String> = values.iter().map(|v| escape(&v.to_string())).collect();
            let _ = write!(html, "<p>One of <code>{}</code></p>", values.join(", "));
        }
        if let Some(properties) = schema["properties"].as_object() {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            html.push_str("<table><tr><th>Field</th><th>Type</th><th>About</th></tr>");
            for (field, property) in properties {
                let mark = if required.contains(&field.as_str()) {
                    ""
                } else {
                    " <span class=\"muted\">optional</span>"
                };
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
                    escape(field),
                    type_of(property),
                    prose(property["description"].as_str().unwrap_or_default()),
                );
            }
            html.push_str("</table>");
        }
        html.push_str("</section>");
    }
    html.push_str("</main></html>");
    html
}

fn render_operation(html: &mut String, method: &str, path: &str, operation: &Value) {
    let public = operation["security"]
        .as_array()
        .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(serde_json::Map::is_empty)));
    let _ = write!(
        html,
        "<section class=\"op\"><h3><span class=\"m\">{method}</span><code>{}</code>{}</h3>",
        escape(path),
        if public { " <span class=\"muted\">no token</span>" } else { "" },
    );
    for key in ["summary", "description"] {
        if let Some(text) = operation[key].as_str() {
            let _ = write!(html, "<p>{}</p>", prose(text));
        }
    }
    if let Some(parameters) = operation["parameters"].as_array() {
        html.push_str("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>About</th></tr>");
        for parameter in parameters {
            let optional = if parameter["required"] == true {
                ""
            } else {
                " <span class=\"muted\">optional</span>"
            };
            let _ = write!(
                html,
                "<tr><td><code>{}</code>{optional}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(parameter["name"].as_str().unwrap_or_default()),
                escape(parameter["in"].as_str().unwrap_or_default()),
                type_of(&parameter["schema"]),
                prose(parameter["description"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</table>");
    }
    if let Some(content) = operation["requestBody"]["content"].as_object() {
        for (media, body) in content {
            let _ = write!(
                html,
                "<p>Body: <code>{}</code> {}</p>",
                escape(media),
                type_of(&body["schema"])
            );
        }
    }
    if let Some(responses) = operation["responses"].as_object() {
        html.push_str("<table><tr><th>Answer</th><th>About</th></tr>");
        for (status, response) in responses {
            let body = response["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|media| type_of(&media["schema"]))
                .unwrap_or_default();
            let _ = write!(
                html,
                "<tr><td><code>{}</code></td><td>{} {body}</td></tr>",
                escape(status),
                prose(response["description"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</section>");
}
