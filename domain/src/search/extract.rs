//! The text inside files, for search ([`crate::jobs::Task::ExtractText`]): plain text,
//! Markdown, CSV and code read directly; PDFs through `pdftotext` (confined like the preview
//! tools); DOCX, XLSX, PPTX and OpenDocument files from the XML inside their zip. Every source
//! has limits — bytes read, bytes inflated per part, pages, characters kept — so a huge file or
//! a zip bomb costs a bounded amount. What is found goes to `file_texts` (the index follows it
//! in the same transaction); a file whose text cannot be read gets an empty row saying why, so
//! it is not tried again until its bytes change.

use std::io::Read;

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict, Query as SqlQuery};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::AppError;
use crate::entities::{file_texts, files};
use crate::state::AppState;
use crate::storage::BlobKey;

/// The most characters of a file's text kept (and searched).
pub const MAX_TEXT_CHARS: usize = 256 * 1024;
/// The most bytes of a text file read.
const MAX_TEXT_BYTES: u64 = 4 << 20;
/// The largest office document opened.
const MAX_OFFICE_BYTES: u64 = 64 << 20;
/// The most bytes one XML part of an office document may inflate to (a zip bomb stops here).
const MAX_PART_BYTES: u64 = 32 << 20;
/// The most slides of a presentation read.
const MAX_SLIDES: usize = 500;
/// The largest PDF copied for `pdftotext`.
const MAX_PDF_BYTES: u64 = 128 << 20;

/// Where search snippets mark a match (private-use characters, removed from every text).
pub(crate) const MARK_START: char = '\u{E000}';
/// The end of a marked match.
pub(crate) const MARK_END: char = '\u{E001}';

/// How a file's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Text,
    Pdf,
    Office(Office),
}

/// The office formats read, by where their text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Office {
    Docx,
    Xlsx,
    Pptx,
    OpenDocument,
}

fn source_of(content_type: &str) -> Option<Source> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    Some(match essence {
        "application/pdf" => Source::Pdf,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Source::Office(Office::Docx)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            Source::Office(Office::Xlsx)
        }
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
            Source::Office(Office::Pptx)
        }
        "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation" => Source::Office(Office::OpenDocument),
        _ if super::Kind::Text.matches(essence) => Source::Text,
        _ => return None,
    })
}

/// The content types whose text is searched, besides `text/*` (for finding files without it).
const TYPES: [&str; 9] = [
    "application/json",
    "application/xml",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Whether a file of `content_type` has text worth a job.
pub fn has_text(content_type: &str) -> bool {
    source_of(content_type).is_some()
}

/// Finds and stores `file`'s text unless it is stored for these bytes (or the file is gone,
/// or has no text). Only storage and database failures are errors (the job is retried).
pub async fn extract_text(state: &AppState, file: Uuid) -> Result<(), AppError> {
    let Some(file) = files::Entity::find_by_id(file).one(&state.db).await? else { return Ok(()) };
    let Some(source) = source_of(&file.content_type) else { return Ok(()) };
    let stored = file_texts::Entity::find_by_id(file.id).one(&state.db).await?;
    if stored.is_some_and(|stored| stored.sha256 == file.sha256) {
        return Ok(());
    }
    let key = BlobKey::from_stored(&file.blob_key)?;
    let size = u64::try_from(file.size).unwrap_or(0);
    let found: Result<String, String> = match source {
        Source::Text => {
            let bytes = crate::media::read(state, &key, size.min(MAX_TEXT_BYTES)).await?;
            Ok(text_of(&bytes))
        }
        Source::Office(_) if size > MAX_OFFICE_BYTES => Err(too_large(MAX_OFFICE_BYTES)),
        Source::Office(office) => {
            let bytes = crate::media::read(state, &key, size).await?;
            tokio::task::spawn_blocking(move || office_text(&bytes, office))
                .await
                .map_err(|_| AppError::Internal)?
        }
        Source::Pdf => {
            if !crate::media::tools().await.pdf_text() {
                return Ok(()); // said at startup; the backfill finds it once pdftotext is there
            }
            if size > MAX_PDF_BYTES {
                Err(too_large(MAX_PDF_BYTES))
            } else {
                let work = crate::media::Workspace::new(state).await?;
                let input = work.copy(state, &key, size).await?;
                match crate::media::pdf_text(&input, work.path()).await {
                    Ok(text) => Ok(String::from_utf8_lossy(&text).into_owned()),
                    Err(unusable) => Err(unusable.0),
                }
            }
        }
    };
    let (body, error) = match found {
        Ok(text) => (clean(&text), None),
        Err(why) => (String::new(), Some(why)),
    };
    let row = file_texts::ActiveModel {
        file_id: Set(file.id),
        sha256: Set(file.sha256.clone()),
        body: Set(body),
        error: Set(error),
        extracted_at: Set(Utc::now()),
    };
    let upsert = OnConflict::column(file_texts::Column::FileId)
        .update_columns([
            file_texts::Column::Sha256,
            file_texts::Column::Body,
            file_texts::Column::Error,
            file_texts::Column::ExtractedAt,
        ])
        .to_owned();
    match file_texts::Entity::insert(row).on_conflict(upsert).exec(&state.db).await {
        Ok(_) => {}
        // Deleted meanwhile: its text goes with it.
        Err(_) if files::Entity::find_by_id(file.id).one(&state.db).await?.is_none() => {}
        Err(err) => return Err(err.into()),
    }
    Ok(())
}

/// Files read by one run of the backfill job.
const BACKFILL_BATCH: u64 = 200;

/// Queues the backfill job if any file with text has none stored (uploaded before search read
/// contents, or while `pdftotext` was missing): one job that reads them a batch at a time, not
/// a job per file. Returns how many files lack their text.
pub async fn backfill(db: &impl sea_orm::ConnectionTrait) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    let missing = without_text(Uuid::nil()).count(db).await?;
    if missing > 0 {
        crate::jobs::enqueue(db, &crate::jobs::Task::SearchBackfill { after: Uuid::nil() }).await?;
        crate::jobs::poke();
    }
    Ok(missing)
}

/// One run of the backfill job: reads the text of the next files without it (ids after
/// `after`); the id to go on after, while there may be more.
pub(crate) async fn backfill_batch(
    state: &AppState,
    after: Uuid,
) -> Result<Option<Uuid>, AppError> {
    let ids: Vec<Uuid> = without_text(after)
        .select_only()
        .column(files::Column::Id)
        .order_by_asc(files::Column::Id)
        .limit(BACKFILL_BATCH)
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in &ids {
        extract_text(state, *id).await?;
    }
    Ok(ids.last().copied().filter(|_| ids.len() as u64 == BACKFILL_BATCH))
}

/// The files after `after` whose text is searched but not stored.
fn without_text(after: Uuid) -> sea_orm::Select<files::Entity> {
    use sea_orm::sea_query::ExprTrait;
    let stored =
        SqlQuery::select().column(file_texts::Column::FileId).from(file_texts::Entity).to_owned();
    files::Entity::find()
        .filter(files::Column::Id.gt(after))
        .filter(files::Column::Id.not_in_subquery(stored))
        .filter(
            Expr::col(files::Column::ContentType)
                .like("text/%")
                .or(files::Column::ContentType.is_in(TYPES)),
        )
}

/// Why a file larger than `limit` bytes keeps no text.
fn too_large(limit: u64) -> String {
    format!("Larger than {} MiB: its text is not searched.", limit >> 20)
}

/// The text of a text file's first bytes (a binary file that claims to be text has none).
fn text_of(bytes: &[u8]) -> String {
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return String::new();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// `text` as stored and searched: runs of white space and control characters as one space,
/// without invisible and bidi controls or the snippet markers, at most [`MAX_TEXT_CHARS`].
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS));
    let mut kept = 0;
    let mut space = true; // no leading space
    for c in text.chars() {
        if kept == MAX_TEXT_CHARS {
            break;
        }
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if crate::files::is_invisible(c) || c == MARK_START || c == MARK_END || c == '\u{FFFD}' {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
            kept += 1;
        }
        space = false;
        out.push(c);
        kept += 1;
    }
    out
}

/// The text of an office document, from the XML parts that hold it.
fn office_text(bytes: &[u8], office: Office) -> Result<String, String> {
    let unreadable = |err: zip::result::ZipError| format!("Not a readable document ({err}).");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let parts: Vec<String> = match office {
        Office::Docx => vec!["word/document.xml".into()],
        Office::Xlsx => vec!["xl/sharedStrings.xml".into()],
        Office::OpenDocument => vec!["content.xml".into()],
        Office::Pptx => {
            let mut slides: Vec<(u32, String)> = archive
                .file_names()
                .filter_map(|name| {
                    let number = name.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?;
                    Some((number.parse().ok()?, name.to_owned()))
                })
                .collect();
            slides.sort_unstable();
            slides.into_iter().take(MAX_SLIDES).map(|(_, name)| name).collect()
        }
    };
    let mut text = String::new();
    for part in parts {
        if text.len() >= MAX_TEXT_CHARS * 4 {
            break;
        }
        let entry = match archive.by_name(&part) {
            Ok(entry) => entry,
            // A workbook of numbers only has no shared strings.
            Err(zip::result::ZipError::FileNotFound) => continue,
            Err(err) => return Err(unreadable(err)),
        };
        let mut xml = Vec::new();
        entry
            .take(MAX_PART_BYTES)
            .read_to_end(&mut xml)
            .map_err(|err| format!("Not a readable document ({err})."))?;
        xml_text(&xml, &mut text);
    }
    Ok(text)
}

/// Appends the character data of `xml` to `out`, a line break after each paragraph, cell or
/// shared string, a space for tabs and breaks. Stops quietly at malformed XML (what was read
/// until then is kept).
fn xml_text(xml: &[u8], out: &mut String) {
    use quick_xml::events::Event;
    /// Bytes of text enough for [`MAX_TEXT_CHARS`] characters of any script.
    const LIMIT: usize = MAX_TEXT_CHARS * 4;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Text(text)) => {
                if let Ok(text) = text.xml10_content() {
                    let mut room = LIMIT.saturating_sub(out.len()).min(text.len());
                    while !text.is_char_boundary(room) {
                        room -= 1;
                    }
                    out.push_str(&text[..room]);
                }
            }
            Ok(Event::CData(data)) => out.push_str(&String::from_utf8_lossy(&data)),
            Ok(Event::GeneralRef(reference)) => {
                if let Ok(Some(c)) = reference.resolve_char_ref() {
                    out.push(c);
                } else if let Ok(name) = reference.decode()
                    && let Some(entity) = quick_xml::escape::resolve_predefined_entity(&name)
                {
                    out.push_str(entity);
                }
            }
            Ok(Event::End(end)) => {
                if matches!(end.local_name().as_ref(), b"p" | b"h" | b"si" | b"c" | b"table-cell") {
                    out.push('\n');
                }
            }
            Ok(Event::Empty(empty)) => {
                if matches!(empty.local_name().as_ref(), b"tab" | b"br" | b"s" | b"line-break") {
                    out.push(' ');
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        if out.len() >= LIMIT {
            break;
        }
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{MARK_START, MAX_TEXT_CHARS, Office, Source, clean, office_text, source_of};

    /// A zip of `parts` (name, bytes), deflated.
    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in parts {
            zip.start_file(*name, options).expect("started");
            zip.write_all(bytes).expect("written");
        }
        zip.finish().expect("finished").into_inner()
    }

    #[test]
    fn office_documents_give_their_words_not_their_markup() {
        let docx = zip_of(&[(
            "word/document.xml",
            br#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Quarterly inv</w:t></w:r><w:r><w:t>oice &amp; M&#252;ller</w:t></w:r></w:p><w:p><w:r><w:t>Paid</w:t><w:tab/><w:t>in full</w:t></w:r></w:p></w:body></w:document>"#,
        )]);
        let text = office_text(&docx, Office::Docx).expect("read");
        assert_eq!(clean(&text), "Quarterly invoice & Müller Paid in full");
        let xlsx = zip_of(&[(
            "xl/sharedStrings.xml",
            b"<sst><si><t>Revenue</t></si><si><r><t>North</t></r><r><t>wind</t></r></si></sst>",
        )]);
        assert_eq!(clean(&office_text(&xlsx, Office::Xlsx).expect("read")), "Revenue Northwind");
        let pptx = zip_of(&[
            ("ppt/slides/slide10.xml", b"<p:sld><a:p><a:t>Tenth</a:t></a:p></p:sld>"),
            ("ppt/slides/slide2.xml", b"<p:sld><a:p><a:t>Second</a:t></a:p></p:sld>"),
            ("ppt/slides/_rels/slide2.xml.rels", b"<Relationships/>"),
        ]);
        assert_eq!(clean(&office_text(&pptx, Office::Pptx).expect("read")), "Second Tenth");
        let odt = zip_of(&[(
            "content.xml",
            b"<office:document-content><text:h>Title</text:h><text:p>Body<text:s/>text</text:p></office:document-content>",
        )]);
        assert_eq!(
            clean(&office_text(&odt, Office::OpenDocument).expect("read")),
            "Title Body text"
        );
    }

    #[test]
    fn a_zip_bomb_or_junk_costs_a_bounded_amount() {
        let zeros = vec![b'a'; 48 << 20];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(bomb.len() < 1 << 20, "deflated to {} bytes", bomb.len());
        let text = office_text(&bomb, Office::Docx).expect("read");
        assert!(text.len() <= (MAX_TEXT_CHARS * 4) + 8192, "kept {} bytes", text.len());
        assert_eq!(clean(&text).chars().count(), MAX_TEXT_CHARS);
        assert!(office_text(b"not a zip at all", Office::Docx).unwrap_err().contains("readable"));
        let empty = zip_of(&[("other.xml", b"<x/>")]);
        assert_eq!(office_text(&empty, Office::Xlsx).expect("read"), "");
    }

    #[test]
    fn stored_text_has_no_controls_markers_or_runs_of_space() {
        let text = format!("  a\tb\r\n\n c\u{202E}d{MARK_START}e\u{0}f  ");
        assert_eq!(clean(&text), "a b cde f");
        assert_eq!(clean(&"x".repeat(MAX_TEXT_CHARS + 10)).len(), MAX_TEXT_CHARS);
    }

    #[test]
    fn sources_by_content_type() {
        assert_eq!(source_of("text/markdown; charset=utf-8"), Some(Source::Text));
        assert_eq!(source_of("application/json"), Some(Source::Text));
        assert_eq!(source_of("application/pdf"), Some(Source::Pdf));
        assert_eq!(
            source_of("application/vnd.oasis.opendocument.text"),
            Some(Source::Office(Office::OpenDocument))
        );
        assert_eq!(source_of("image/svg+xml"), None);
        assert_eq!(source_of("application/zip"), None);
        for content_type in super::TYPES {
            assert!(source_of(content_type).is_some(), "{content_type}");
        }
    }
}
