//! `/search?q=`: the caller's files matching a query. A plain GET form, so it works without
//! JavaScript; each result links to its file page.

use domain::AppError;
use domain::files::human_size;
use domain::search::{FolderHit, SearchHit, SearchPage, SnippetPart};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::search::search_files;
use crate::components::error::ErrorNotice;
use crate::components::guard::signed_in;
use crate::components::words::Time;

/// The search page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.get().get("q").unwrap_or_default();
    let results = Resource::new_blocking(
        move || (q(), query.get().get("cursor")),
        |(q, cursor)| async move {
            if q.trim().is_empty() {
                return Ok(None);
            }
            search_files(q, cursor).await.map(Some)
        },
    );
    // `autofocus` works on a page load only; arriving by a link, the box takes focus here.
    let box_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = box_ref.get() {
            let _ = input.focus();
        }
    });
    view! {
        <Title text="Search"/>
        <h1 class="mb-4 text-2xl font-bold">"Search"</h1>
        <form method="get" action="/search" role="search" aria-label="Search files" class="mb-6 flex gap-2">
            <label for="search-q" class="sr-only">"Search your files"</label>
            <input id="search-q" node_ref=box_ref name="q" type="search" prop:value=q autofocus
                placeholder="invoice 2026 type:pdf" class="field flex-1" autocomplete="off"/>
            <button type="submit" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600">"Search"</button>
        </form>
        <p class="mb-6 text-sm text-slate-600 dark:text-slate-400">
            "Words match anywhere in file and folder names, descriptions and the text inside documents. Also: "
            <code>"\"exact phrase\""</code>", "<code>"-leave-out"</code>", "<code>"type:image"</code>", "
            <code>"ext:pdf"</code>", "<code>"size:>10MB"</code>", "<code>"modified:2026-11"</code>", "
            <code>"in:\"Folder\""</code>"."
        </p>
        <Transition fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Err(error @ AppError::BadRequest(_)) => view! { <ErrorNotice error/> }.into_any(),
                    other => signed_in(other, move |page| match page {
                        None => ().into_any(),
                        Some(page) => view! { <Results page q=q()/> }.into_any(),
                    }),
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(page: SearchPage, q: String) -> impl IntoView {
    let filters = domain::search::parse(&q).map(|query| query.filters).unwrap_or_default();
    let filtered = !filters.is_empty();
    let chips = view! { <Chips filters/> };
    if page.hits.is_empty() && page.folders.is_empty() {
        return view! {
            {chips}
            <p class="rounded-xl border border-slate-200 p-8 text-center text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="no-results">
                "Nothing matches “" {q} "”. "
                {if filtered { "Try without a filter (remove one above), or with fewer words." } else { "Try fewer or shorter words." }}
            </p>
        }
        .into_any();
    }
    let next = page.next_cursor.map(|cursor| format!("/search?q={}&cursor={cursor}", encode(&q)));
    let folders = (!page.folders.is_empty()).then(|| view! {
        <h2 class="mb-2 text-sm font-semibold text-slate-700 dark:text-slate-300">"Folders"</h2>
        <ul class="mb-6 divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="folder-results">
            {page.folders.into_iter().map(|hit| view! { <FolderResult hit/> }).collect_view()}
        </ul>
    });
    let files = (!page.hits.is_empty()).then(|| view! {
        <h2 class="mb-2 text-sm font-semibold text-slate-700 dark:text-slate-300">"Files"</h2>
        <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="search-results">
            {page.hits.into_iter().map(|hit| view! { <Hit hit/> }).collect_view()}
        </ul>
    });
    view! {
        {chips}
        {folders}
        {files}
        {next.map(|href| view! {
            <p class="mt-4"><a href=href rel="next" class="underline">"More results →"</a></p>
        })}
    }
    .into_any()
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let SearchHit { file, path, snippet } = hit;

    view! {
        <li class="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1 px-4 py-3">
            <span class="min-w-0">
                <a href=format!("/file/{}", file.id) class="font-medium break-all underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-sky-600">{file.name}</a>
                <span class="block text-sm text-slate-600 dark:text-slate-400 break-all">{path}</span>
                <Snippet parts=snippet/>
            </span>
            <span class="text-sm text-slate-600 dark:text-slate-400">{human_size(file.size)} " · " <Time at=file.updated_at/></span>
        </li>
    }
}

#[component]
fn FolderResult(hit: FolderHit) -> impl IntoView {
    let FolderHit { folder, path } = hit;
    view! {
        <li class="px-4 py-3">
            <a href=format!("/files/{}", folder.id) class="inline-flex items-center gap-2 font-medium break-all underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-sky-600">
                <FolderGlyph/>{folder.name}
            </a>
            <span class="block text-sm text-slate-600 dark:text-slate-400 break-all">{path}</span>
        </li>
    }
}

/// A small folder picture beside a folder's name (screen readers read "Folder").
#[component]
pub fn FolderGlyph() -> impl IntoView {
    view! {
        <svg class="entry-icon h-5 w-5 text-amber-500" viewBox="0 0 24 24" role="img" aria-label="Folder">
            <path d=crate::pages::files::FOLDER_DRAWING/>
        </svg>
    }
}

/// The query's filters as chips; each link is the same search without it.
#[component]
fn Chips(filters: Vec<domain::search::Filter>) -> impl IntoView {
    (!filters.is_empty()).then(|| view! {
        <ul aria-label="Filters" class="mb-4 flex flex-wrap gap-2" data-testid="filter-chips">
            {filters.into_iter().map(|filter| {
                let href = if filter.without.is_empty() {
                    "/search".to_owned()
                } else {
                    format!("/search?q={}", encode(&filter.without))
                };
                let label = format!("Remove the filter {}", filter.label);
                view! {
                    <li>
                        <a href=href aria-label=label
                            class="inline-flex items-center gap-1 rounded-full border border-sky-300 bg-sky-50 px-3 py-1 text-sm text-sky-900 hover:bg-sky-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100 dark:hover:bg-sky-900">
                            {filter.label}
                            <span aria-hidden="true">"×"</span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

/// Where a file's text matched, the matches marked (nothing when there is no snippet).
#[component]
pub fn Snippet(parts: Vec<SnippetPart>) -> impl IntoView {
    (!parts.is_empty()).then(|| view! {
        <span class="mt-1 block text-sm break-words text-slate-700 dark:text-slate-300" data-testid="snippet">
            {parts.into_iter().map(|part| if part.hit {
                view! { <mark class="rounded-sm bg-amber-200 px-0.5 text-slate-900 dark:bg-amber-700 dark:text-white">{part.text}</mark> }.into_any()
            } else {
                part.text.into_any()
            }).collect_view()}
        </span>
    })
}

pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
