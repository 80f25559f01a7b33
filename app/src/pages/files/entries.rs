//! The folder's entries as a list (table) or a grid of cards; arrow keys move between them.

use domain::files::{FolderDto, FolderPage, PageFile, Preview, human_size};
use leptos::prelude::*;

use super::menu::RowMenu;
use super::selection::Selection;
use crate::components::lightbox::{Lightbox, Slide};
use crate::components::words::Time;

/// Folders first, then files.
#[component]
pub fn Entries(
    listing: FolderPage,
    grid: bool,
    selection: Selection,
    menu: RowMenu,
) -> impl IntoView {
    let mut slides = Vec::new();
    let entries: Vec<Entry> = listing
        .folders
        .iter()
        .map(Entry::folder)
        .chain(listing.files.iter().map(|file| Entry::file(file, &mut slides)))
        .collect();
    let open = RwSignal::new(None::<usize>);
    let container = if grid {
        "grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4"
    } else {
        "divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800"
    };
    let empty = entries.is_empty();
    view! {
        <Sprite/>
        <ul class=container class:hidden=empty data-testid="entries" on:keydown=move_focus aria-label="Folder contents">
            {entries.into_iter().map(|entry| if grid {
                view! { <Card entry selection menu open/> }.into_any()
            } else {
                view! { <Row entry selection menu/> }.into_any()
            }).collect_view()}
        </ul>
        <Lightbox slides open/>
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
    /// Its download address (files only).
    download: Option<String>,
    /// When it was made (UTC, RFC 3339 or its first 16 characters).
    at: String,
    /// The thumbnail's address, the placeholder shown while it loads, and its place in the
    /// gallery.
    thumb: Option<(String, String, usize)>,
}

impl Entry {
    fn folder(folder: &FolderDto) -> Self {
        Self {
            key: format!("d:{}", folder.id),
            name: folder.name.clone(),
            href: format!("/files/{}", folder.id),
            icon: Icon::Folder,
            size: None,
            download: None,
            at: folder.created_at.clone(),
            thumb: None,
        }
    }

    /// A file's entry; one with a thumbnail joins the gallery's `slides`.
    fn file(file: &PageFile, slides: &mut Vec<Slide>) -> Self {
        let thumb = file.thumb.clone().map(|placeholder| {
            let picture = format!("/api/v1/files/{}/thumbnail", file.id);
            let video = file.content_type.starts_with("video/");
            slides.push(Slide {
                name: file.name.clone(),
                picture: format!("{picture}?size=large"),
                video: video.then(|| format!("/api/v1/files/{}/content", file.id)),
                href: format!("/file/{}", file.id),
            });
            (picture, placeholder, slides.len() - 1)
        });
        Self {
            key: format!("f:{}", file.id),
            name: file.name.clone(),
            href: format!("/file/{}", file.id),
            icon: Icon::of(&file.content_type),
            size: Some(file.size),
            download: Some(format!("/api/v1/files/{}/content?download=1", file.id)),
            at: file.created.clone(),
            thumb,
        }
    }
}

impl Entry {
    /// Opens `menu` for this entry (from its ⋯ button or a right click).
    fn opener(
        &self,
        menu: RowMenu,
    ) -> impl Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static + use<> {
        let (key, href, download) = (self.key.clone(), self.href.clone(), self.download.clone());
        move |ev| menu.open(&ev, key.clone(), href.clone(), download.clone())
    }
}

/// The ⋯ button that opens an entry's menu (styled by its place: `.entry-row > button`; no
/// form holds it, so it needs no `type`), once the page is hydrated.
#[component]
fn More(
    name: String,
    menu: RowMenu,
    open: impl Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let open = open.clone();
        menu.ready().then(|| view! {
            <button aria-label=format!("Actions for {name}") aria-haspopup="menu" on:click=open>"⋯"</button>
        })
    }
}

#[component]
fn Row(entry: Entry, selection: Selection, menu: RowMenu) -> impl IntoView {
    let (on_row, on_more) = (entry.opener(menu), entry.opener(menu));
    view! {
        // Rows use the short component classes of style/tailwind.css (`entry-…`), their
        // children styled by place (`.entry-row > span`): a hundred rows of long utility lists
        // were most of the page's weight.
        <li class="entry-row" on:contextmenu=on_row>
            <Check key=entry.key.clone() name=entry.name.clone() selection menu/>
            <IconView icon=entry.icon/>
            <a href=entry.href.clone()>{entry.name.clone()}</a>
            <span>{entry.size.map(human_size).unwrap_or_else(|| "—".into())}</span>
            <Time at=entry.at.clone()/>
            <More name=entry.name.clone() menu open=on_more/>
        </li>
    }
}

#[component]
fn Card(
    entry: Entry,
    selection: Selection,
    menu: RowMenu,
    open: RwSignal<Option<usize>>,
) -> impl IntoView {
    let view_label = format!("View {} in the gallery", entry.name);
    let (on_card, on_more) = (entry.opener(menu), entry.opener(menu));
    view! {
        <li class="entry-card" on:contextmenu=on_card>
            <div class="absolute left-2 top-2"><Check key=entry.key.clone() name=entry.name.clone() selection menu/></div>
            <div class="absolute right-1 top-1"><More name=entry.name.clone() menu open=on_more/></div>
            <div class="flex h-24 items-center justify-center overflow-hidden rounded-md">
                {match entry.thumb.clone() {
                    Some((src, placeholder, slide)) => view! {
                        <button type="button" class="h-full w-full" aria-label=view_label
                            on:click=move |_| open.set(Some(slide))>
                            <Thumb src placeholder/>
                        </button>
                    }.into_any(),
                    None => view! { <IconView icon=entry.icon large=true/> }.into_any(),
                }}
            </div>
            <a href=entry.href.clone()>{entry.name.clone()}</a>
            <p class="text-xs text-slate-500 dark:text-slate-400">{entry.size.map(human_size).unwrap_or_else(|| "Folder".into())}</p>
        </li>
    }
}

/// A thumbnail over its blurred placeholder (shown at once, until the picture has loaded).
#[component]
pub fn Thumb(src: String, placeholder: String) -> impl IntoView {
    let backdrop = (!placeholder.is_empty())
        .then(|| format!("background-image:url({placeholder});background-size:cover"));
    view! {
        <img src=src alt="" loading="lazy" decoding="async" width="256" height="96"
            class="h-24 w-full object-cover" style=backdrop data-testid="thumbnail"/>
    }
}

/// The box that selects an entry, once the page is hydrated (selecting needs JavaScript).
#[component]
fn Check(key: String, name: String, selection: Selection, menu: RowMenu) -> impl IntoView {
    move || {
        let (key, toggle_key) = (key.clone(), key.clone());
        menu.ready().then(|| {
            view! {
                <input type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=move || selection.contains(&key)
                    on:change=move |_| selection.toggle(&toggle_key)/>
            }
        })
    }
}

/// The drawing of a folder (24 × 24, stroked).
pub(crate) const FOLDER_DRAWING: &str = "M3 6h6l2 2h10v11H3z";

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
            // What `type:archive` finds, so the icon and the search agree.
            Preview::None if domain::search::Kind::Archive.matches(content_type) => Self::Archive,
            Preview::None => Self::Other,
        }
    }

    const ALL: [Self; 8] = [
        Self::Folder,
        Self::Image,
        Self::Video,
        Self::Audio,
        Self::Pdf,
        Self::Text,
        Self::Archive,
        Self::Other,
    ];

    /// `(symbol id, colour, path)`.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        const DOC: &str = "M7 3h7l5 5v13H7zM14 3v5h5";
        match self {
            Self::Folder => ("icon-folder", "text-amber-500", FOLDER_DRAWING),
            Self::Image => {
                ("icon-image", "text-emerald-600", "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01")
            }
            Self::Video => ("icon-video", "text-violet-600", "M4 6h11v12H4zM15 10l5-3v10l-5-3"),
            Self::Audio => (
                "icon-audio",
                "text-pink-600",
                "M9 18V6l10-2v12M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0zM19 16a3 3 0 1 1-6 0 3 3 0 0 1 6 0z",
            ),
            Self::Pdf => ("icon-pdf", "text-red-600", DOC),
            Self::Text => {
                ("icon-text", "text-sky-600", "M7 3h7l5 5v13H7zM14 3v5h5M10 13h6M10 17h6")
            }
            Self::Archive => {
                ("icon-archive", "text-orange-600", "M5 4h14v16H5zM12 4v8M10 12h4v3h-4z")
            }
            Self::Other => ("icon-other", "text-slate-500", DOC),
        }
    }
}

/// Every icon's drawing once; rows and cards `<use>` them.
#[component]
fn Sprite() -> impl IntoView {
    view! {
        <svg class="hidden" aria-hidden="true">
            {Icon::ALL.map(|icon| {
                let (id, _, path) = icon.parts();
                view! { <symbol id=id viewBox="0 0 24 24"><path d=path/></symbol> }
            }).collect_view()}
        </svg>
    }
}

#[component]
fn IconView(icon: Icon, #[prop(optional)] large: bool) -> impl IntoView {
    let (id, colour, _) = icon.parts();
    let size = if large { "entry-icon-large" } else { "entry-icon" };
    view! {
        // The type shows in the name; screen readers skip the picture.
        <svg class=format!("{size} {colour}") aria-hidden="true">
            <use_ href=format!("#{id}")/>
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
        let Ok(links) = document.query_selector_all(".entry-row > a, .entry-card a") else {
            return;
        };
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
