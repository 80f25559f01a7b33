//! How the file page shows the start of a text file ([`TextView`]): Markdown rendered, CSV and
//! TSV as a table, source code with line numbers, anything else as plain text.
//!
//! Markdown is the owner's own text, but it may come from anywhere: it is rendered to HTML
//! that holds nothing active. Raw HTML in it is shown as text; links keep only `http:`,
//! `https:`, `mailto:` and relative targets (a `javascript:` link becomes plain text); images
//! become links to where they are (no request to another site when the page opens); headings
//! and nothing else gets `id`s (nothing in the text can clobber the page's own): no footnotes.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

use super::TextView;

/// Rows of a table shown (the rest is in the file).
const TABLE_ROWS: usize = 500;
/// Columns of a table shown.
const TABLE_COLUMNS: usize = 50;
/// Characters of a cell shown.
const CELL_CHARS: usize = 500;

/// Extensions shown as source code (with line numbers).
const CODE: &[&str] = &[
    "bash", "bat", "c", "cc", "cjs", "clj", "cmake", "cpp", "cs", "cxx", "dart", "diff", "ex",
    "exs", "fish", "go", "gradle", "graphql", "h", "hpp", "hs", "ini", "java", "jl", "jsx", "kt",
    "kts", "lua", "m", "ml", "nim", "nix", "patch", "php", "pl", "proto", "ps1", "py", "r", "rb",
    "rs", "scala", "scss", "sh", "sql", "swift", "tf", "toml", "ts", "tsx", "vue", "yaml", "yml",
    "zig", "zsh",
];

/// How to show `text`, the start of file `name`.
pub fn text_view(name: &str, content_type: &str, text: String) -> TextView {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    match (essence, extension.as_str()) {
        ("text/markdown", _) => TextView::Markdown(markdown(&text)),
        ("text/csv", _) => table(&text, b','),
        (_, "tsv") => table(&text, b'\t'),
        (_, extension) if CODE.contains(&extension) => TextView::Code(text),
        _ => TextView::Plain(text),
    }
}

/// Markdown as HTML with nothing active in it (see the module's note).
pub fn markdown(text: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(text, options).map(|event| match event {
        // Raw HTML is shown as what it is: text.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            if safe(&dest_url) {
                Event::Start(Tag::Link { link_type, dest_url, title, id })
            } else {
                Event::Start(Tag::Emphasis)
            }
        }
        // A picture is a link to it, its alt text the link's text.
        Event::Start(Tag::Image { dest_url, title, id, .. }) => {
            let dest_url = if safe(&dest_url) { dest_url } else { CowStr::Borrowed("") };
            Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::Start(Tag::Heading { level, .. }) => {
            Event::Start(Tag::Heading { level, id: None, classes: Vec::new(), attrs: Vec::new() })
        }
        other => other,
    });
    // Links made emphasis must close as emphasis: a second pass pairs them.
    let mut open: Vec<bool> = Vec::new();
    let events = events.map(|event| match event {
        Event::Start(Tag::Link { .. }) => {
            open.push(true);
            event
        }
        Event::Start(Tag::Emphasis) => {
            open.push(false);
            event
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Emphasis) => {
            if open.pop() == Some(true) {
                Event::End(TagEnd::Link)
            } else {
                Event::End(TagEnd::Emphasis)
            }
        }
        other => other,
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// Whether a link may keep its target: `http:`, `https:`, `mailto:`, or no scheme at all (a
/// place on this site or in the page). Browsers ignore tabs and newlines in a URL and read
/// `\` as `/`, so those are read as a browser would before the scheme is looked at.
fn safe(url: &str) -> bool {
    let url: String = url.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let url = url.trim_start_matches(|c: char| c <= ' ');
    match url.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#', '\\']) => {
            matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// A CSV or TSV as rows (the first is taken as the header): at most [`TABLE_ROWS`] rows of
/// [`TABLE_COLUMNS`] cells; plain text if it does not read as one.
fn table(text: &str, delimiter: u8) -> TextView {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut truncated = false;
    for record in reader.records() {
        let Ok(record) = record else { return TextView::Plain(text.to_owned()) };
        if rows.len() == TABLE_ROWS {
            truncated = true;
            break;
        }
        truncated |= record.len() > TABLE_COLUMNS;
        rows.push(
            record
                .iter()
                .take(TABLE_COLUMNS)
                .map(|cell| cell.chars().take(CELL_CHARS).collect())
                .collect::<Vec<String>>(),
        );
    }
    if rows.is_empty() {
        return TextView::Plain(text.to_owned());
    }
    TextView::Table { rows, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_with_nothing_active() {
        let html = markdown(
            "# Title {#main}\n\n**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n\
             [ok](https://example.com) [js](javascript:alert(1)) [tab](java\tscript:alert(1)) \
             [caps](JAVASCRIPT:alert(1)) [rel](notes.md) [data](data:text/html,<b>x</b>)\n\n\
             ![tracker](https://example.com/pixel.gif)\n\n<div onclick=\"x()\">raw</div>\n",
        );
        assert!(html.contains("<h1>Title {#main}</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<img") && !html.contains("<div"), "{html}");
        assert!(html.contains(r#"<a href="https://example.com">ok</a>"#));
        assert!(html.contains(r#"<a href="notes.md">rel</a>"#));
        assert!(html.contains(r#"<a href="https://example.com/pixel.gif">tracker</a>"#), "{html}");
        for dangerous in ["javascript:", "JAVASCRIPT:", "java\tscript", "data:text"] {
            assert!(!html.contains(&format!("href=\"{dangerous}")), "{dangerous}: {html}");
        }
        assert!(html.contains("<em>js</em>") && html.contains("<em>caps</em>"), "{html}");
    }

    #[test]
    fn csv_and_tsv_become_tables_and_code_keeps_its_lines() {
        let TextView::Table { rows, truncated } =
            text_view("a.csv", "text/csv", "name,size\n\"Smith, J\",3\n".into())
        else {
            panic!("a table")
        };
        assert_eq!(rows, [vec!["name", "size"], vec!["Smith, J", "3"]]);
        assert!(!truncated);
        let wide = (0..60).map(|n| n.to_string()).collect::<Vec<_>>().join("\t");
        let TextView::Table { rows, truncated } = text_view("w.tsv", "text/plain", wide) else {
            panic!("a table")
        };
        assert_eq!((rows[0].len(), truncated), (TABLE_COLUMNS, true));
        assert_eq!(
            text_view("main.rs", "text/plain", "fn main() {}".into()),
            TextView::Code("fn main() {}".into())
        );
        assert_eq!(text_view("notes.txt", "text/plain", "hi".into()), TextView::Plain("hi".into()));
    }
}
