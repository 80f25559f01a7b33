//! Text into HTML, for the few pages the server writes by hand (the refusal page of the edge,
//! the API reference).

/// `text` with `&`, `<`, `>` and `"` escaped: safe in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
