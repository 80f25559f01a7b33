//! The folder's entries as a list (table) or a grid of cards; arrow keys move between them.

use domain::files::{FileDto, FolderDto, FolderListing, Preview, human_size};
use leptos::prelude::*;

use super::selection::Selection;

/// Folders first, then files.
#[component]
pub fn Entries(listing: FolderListing, grid: bool, selection: Selection) -> impl IntoView {
    let entries: Vec<Entry> = listing
        .folders
        .iter()
        .map(Entry::folder)
        .chain(listing.files.iter().map(Entry::file))
        .collect();
    let container = if grid {
        "grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4"
    } else {
        "divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800"
    };
    let empty = entries.is_empty();
    view! {
        <ul class=container class:hidden=empty data-testid="entries" on:keydown=move_focus aria-label="Folder contents">
            {entries.into_iter().map(|entry| if grid {
                view! { <Card entry selection/> }.into_any()
            } else {
                view! { <Row entry selection/> }.into_any()
            }).collect_view()}
        </ul>
    }
}

/// What one row or card shows.
#[derive(Clone)]
struct Entry {
    key: String,
    name: String,
    href: String,
    icon: Icon,
    size: Option<u64>,
    date: String,
}

impl Entry {
    fn folder(folder: &FolderDto) -> Self {
        Self {
            key: format!("d:{}", folder.id),
            name: folder.name.clone(),
            href: format!("/files/{}", folder.id),
            icon: Icon::Folder,
            size: None,
            date: short_date(&folder.created_at),
        }
    }

    fn file(file: &FileDto) -> Self {
        Self {
            key: format!("f:{}", file.id),
            name: file.name.clone(),
            href: format!("/file/{}", file.id),
            icon: Icon::of(&file.content_type),
            size: Some(file.size),
            date: short_date(&file.created_at),
        }
    }
}

/// `2026-11-21 16:45` (UTC, the same on server and browser).
fn short_date(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

#[component]
fn Row(entry: Entry, selection: Selection) -> impl IntoView {
    view! {
        <li class="flex items-center gap-3 px-3 py-2 hover:bg-slate-50 dark:hover:bg-slate-900" data-testid="entry">
            <Check key=entry.key.clone() name=entry.name.clone() selection/>
            <IconView icon=entry.icon/>
            <a href=entry.href data-entry="" class="min-w-0 flex-1 truncate rounded font-medium hover:underline focus-visible:outline-2 focus-visible:outline-sky-600">
                {entry.name}
            </a>
            <span class="hidden w-24 text-right text-sm text-slate-600 sm:block dark:text-slate-400">{entry.size.map(human_size).unwrap_or_else(|| "—".into())}</span>
            <span class="hidden w-36 text-right text-sm text-slate-500 md:block dark:text-slate-400">{entry.date}</span>
        </li>
    }
}

#[component]
fn Card(entry: Entry, selection: Selection) -> impl IntoView {
    view! {
        <li class="relative rounded-xl border border-slate-200 p-3 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-900" data-testid="entry">
            <div class="absolute left-2 top-2"><Check key=entry.key.clone() name=entry.name.clone() selection/></div>
            // The slot where thumbnails will go.
            <div class="flex h-24 items-center justify-center"><IconView icon=entry.icon large=true/></div>
            <a href=entry.href data-entry="" class="block truncate rounded text-sm font-medium hover:underline focus-visible:outline-2 focus-visible:outline-sky-600">{entry.name}</a>
            <p class="text-xs text-slate-500 dark:text-slate-400">{entry.size.map(human_size).unwrap_or_else(|| "Folder".into())}</p>
        </li>
    }
}

#[component]
fn Check(key: String, name: String, selection: Selection) -> impl IntoView {
    let toggle_key = key.clone();
    view! {
        <input type="checkbox" aria-label=format!("Select {name}")
            class="h-4 w-4 rounded border-slate-400 accent-sky-700"
            prop:checked=move || selection.contains(&key)
            on:change=move |_| selection.toggle(&toggle_key)/>
    }
}

/// File-type icons by kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Icon {
    Folder,
    Image,
    Video,
    Audio,
    Pdf,
    Text,
    Archive,
    Other,
}

impl Icon {
    fn of(content_type: &str) -> Self {
        match Preview::of(content_type) {
            Preview::Image => Self::Image,
            Preview::Video => Self::Video,
            Preview::Audio => Self::Audio,
            Preview::Pdf => Self::Pdf,
            Preview::Text => Self::Text,
            Preview::None
                if content_type.contains("zip")
                    || content_type.contains("tar")
                    || content_type.contains("compressed") =>
            {
                Self::Archive
            }
            Preview::None => Self::Other,
        }
    }

    /// `(colour, path, label)`.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        const DOC: &str = "M7 3h7l5 5v13H7zM14 3v5h5";
        match self {
            Self::Folder => ("text-amber-500", "M3 6h6l2 2h10v11H3z", "Folder"),
            Self::Image => {
                ("text-emerald-600", "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01", "Image")
            }
            Self::Video => ("text-violet-600", "M4 6h11v12H4zM15 10l5-3v10l-5-3", "Video"),
            Self::Audio => (
                "text-pink-600",
                "M9 18V6l10-2v12M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0zM19 16a3 3 0 1 1-6 0 3 3 0 0 1 6 0z",
                "Audio",
            ),
            Self::Pdf => ("text-red-600", DOC, "PDF"),
            Self::Text => ("text-sky-600", "M7 3h7l5 5v13H7zM14 3v5h5M10 13h6M10 17h6", "Text"),
            Self::Archive => ("text-orange-600", "M5 4h14v16H5zM12 4v8M10 12h4v3h-4z", "Archive"),
            Self::Other => ("text-slate-500", DOC, "File"),
        }
    }
}

#[component]
fn IconView(icon: Icon, #[prop(optional)] large: bool) -> impl IntoView {
    let (colour, path, label) = icon.parts();
    let size = if large { "h-12 w-12" } else { "h-6 w-6" };
    view! {
        <svg class=format!("{size} shrink-0 {colour}") viewBox="0 0 24 24" fill="none" stroke="currentColor"
            stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round" role="img" aria-label=label>
            <path d=path/>
        </svg>
    }
}

/// ArrowDown / ArrowUp move focus to the next / previous entry's link.
fn move_focus(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let step: i32 = match ev.key().as_str() {
            "ArrowDown" | "ArrowRight" => 1,
            "ArrowUp" | "ArrowLeft" => -1,
            _ => return,
        };
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(links) = document.query_selector_all("[data-entry]") else { return };
        let active = document.active_element();
        let count = i32::try_from(links.length()).unwrap_or(0);
        let current = (0..count).find(|&i| {
            links.item(i.unsigned_abs()).map(|n| n.unchecked_into::<web_sys::Element>()) == active
        });
        let next = current.map_or(0, |i| (i + step).clamp(0, count - 1));
        if let Some(link) =
            links.item(next.unsigned_abs()).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        {
            ev.prevent_default();
            let _ = link.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
