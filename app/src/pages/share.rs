//! `/s/{slug}`: what a visitor of a share link sees — server-rendered and complete without
//! JavaScript. The owner's display name, the files with sizes, previews of images, video,
//! audio, PDF and text (served from `/s/{slug}/files/…` with the user-content rules),
//! a download per file and "download all as zip"; for a file request, what it takes, the
//! upload area and what this visitor sent; or the password form; or why the link no longer
//! works (404 / 410, with the status).

use domain::AppError;
use domain::files::{Preview, human_size};
use domain::shares::{PublicFile, PublicRequest, PublicShare, ShareView};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::shares::{search_share, share_page};
use crate::components::error::ErrorNotice;
use crate::components::guard::answer_with;
use crate::components::lightbox::{Lightbox, Slide};
use crate::components::words::{self, Time};
use crate::pages::files::upload::{Queue, Takes, Uploader};
use crate::pages::search::Snippet;

const BUTTON: &str = "inline-flex items-center rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600";
const LINK: &str = "rounded-md px-2 py-1 text-sm font-medium text-sky-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:text-sky-400 dark:hover:bg-slate-800";

/// The share page.
#[component]
pub fn SharePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new_blocking(
        move || {
            let query = query.get();
            let page = query.get("page").and_then(|page| page.parse().ok());
            (params.get().get("slug").unwrap_or_default(), query.get("error"), page)
        },
        |(slug, error, page)| share_page(slug, error, page),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(ShareView::Open(share)) => {
                        let q = query.get_untracked().get("q").filter(|q| !q.trim().is_empty());
                        view! { <Open share q/> }.into_any()
                    }
                    Ok(ShareView::Request(request)) => {
                        let error = query.get_untracked().get("error");
                        view! { <Request request error/> }.into_any()
                    }
                    Ok(ShareView::Locked { error }) => {
                        let slug = params.get_untracked().get("slug").unwrap_or_default();
                        view! { <Locked slug error/> }.into_any()
                    }
                    Err(error) => view! { <Unavailable error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Open(share: PublicShare, q: Option<String>) -> impl IntoView {
    let PublicShare {
        slug,
        title,
        owner_name,
        files,
        allow_zip,
        expires_at,
        downloads_left,
        total_size,
        qr_svg,
        card_image,
        file_count: count,
        page,
        page_count,
    } = share;
    let summary = format!("{} · {}", human_size(total_size), words::count(count, "file", "files"));
    let has_limits = expires_at.is_some() || downloads_left.is_some();
    let both = expires_at.is_some() && downloads_left.is_some();
    let limits = view! {
        {expires_at.map(|at| view! { "Available until " <Time at/> })}
        {both.then_some(" · ")}
        {downloads_left.map(|left| format!("{} left", words::count(left, "download", "downloads")))}
    };
    let zip = format!("/s/{slug}/zip");
    // The page's pictures and videos, in a gallery.
    let mut slides = Vec::new();
    let items: Vec<(PublicFile, Option<usize>)> = files
        .into_iter()
        .map(|file| {
            let slide = gallery_slide(&slug, &file, &mut slides);
            (file, slide)
        })
        .collect();
    let open = RwSignal::new(None::<usize>);
    // What a chat app shows for the link (its robots get this page, never the bytes).
    let description = format!("Shared by {owner_name} · {summary}");
    view! {
        <Title text=title.clone()/>
        <Meta property="og:title" content=title.clone()/>
        <Meta property="og:description" content=description.clone()/>
        <Meta name="description" content=description/>
        <Meta property="og:type" content="website"/>
        <Meta name="twitter:card" content=if card_image.is_some() { "summary_large_image" } else { "summary" }/>
        {card_image.map(|image| view! { <Meta property="og:image" content=image/> })}
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div class="min-w-0">
                <h1 class="break-words text-2xl font-bold">{title}</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Shared by " <span class="font-medium">{owner_name}</span>" · "{summary}</p>
                {has_limits.then(|| view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="share-limits">{limits}</p>
                })}
                {downloads_left.is_some().then(|| view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="limited-note">"Every download counts toward the limit, so files open only when you ask (thumbnails do not count)."</p>
                })}
            </div>
            <div class="flex items-center gap-4">
                // One file has its own Download below; a zip is for several.
                <Show when=move || allow_zip && (count > 1)>
                    <a class=BUTTON href=zip.clone() download="" data-testid="download-zip">"Download all (zip)"</a>
                </Show>
                // A code to open the link on a phone: of no use on the phone itself.
                <figure class="hidden w-24 shrink-0 rounded-md bg-white p-1 sm:block" title="Open this link on a phone">
                    <div role="img" aria-label="QR code of this link" inner_html=qr_svg class="[&>svg]:h-auto [&>svg]:w-full"></div>
                </figure>
            </div>
        </div>
        <Show when=move || count == 0>
            <p class="rounded-xl border border-slate-200 p-8 text-center text-slate-600 dark:border-slate-800 dark:text-slate-400">"Nothing has been shared here yet."</p>
        </Show>
        {(count > 1).then(|| view! { <ShareSearchBox q=q.clone().unwrap_or_default()/> })}
        {match q {
            Some(q) => view! { <ShareResults slug=slug.clone() q/> }.into_any(),
            None => view! { <Listing slug=slug.clone() items slides open page page_count/> }.into_any(),
        }}
    }
}

/// The link's files, a page at a time, with the gallery of its pictures.
#[component]
fn Listing(
    slug: String,
    items: Vec<(PublicFile, Option<usize>)>,
    slides: Vec<Slide>,
    open: RwSignal<Option<usize>>,
    page: usize,
    page_count: usize,
) -> impl IntoView {
    // Several files with pictures or videos: those first, as a gallery of tiles; the rest
    // (and a link of one file, shown large) as a list.
    let gallery = items.len() > 1 && items.iter().any(|(_, slide)| slide.is_some());
    let (tiles, rows): (Vec<_>, Vec<_>) =
        items.into_iter().partition(|(_, slide)| gallery && slide.is_some());
    view! {
        {(!tiles.is_empty()).then(|| view! {
            <ul class="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4" data-testid="shared-gallery">
                {tiles.into_iter().enumerate().map(|(i, (file, slide))| view! {
                    <Tile slug=slug.clone() file slide=slide.unwrap_or_default() open first=i == 0/>
                }).collect_view()}
            </ul>
        })}
        {(!rows.is_empty()).then(|| view! {
            <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="shared-files">
                {rows.into_iter().enumerate().map(|(i, (file, slide))| view! { <SharedFile slug=slug.clone() file slide open first=i == 0 && !gallery/> }).collect_view()}
            </ul>
        })}
        <Lightbox slides open/>
        {(page_count > 1).then(|| view! {
            <nav aria-label="Pages" class="mt-4 flex items-center justify-between gap-2 text-sm" data-testid="share-pages">
                {(page > 1).then(|| view! { <a class=LINK href=format!("?page={}", page - 1) rel="prev">"← Previous"</a> })}
                <span class="text-slate-600 dark:text-slate-400">{format!("Page {page} of {page_count}")}</span>
                {(page < page_count).then(|| view! { <a class=LINK href=format!("?page={}", page + 1) rel="next">"Next →"</a> })}
            </nav>
        })}
    }
}

/// Searching within the link: a plain GET form (a full page load, so the link's unlock cookie
/// goes with it; works without JavaScript). Its results' links back to the listing are
/// `rel="external"` for the same reason.
#[component]
fn ShareSearchBox(q: String) -> impl IntoView {
    view! {
        <form method="get" role="search" aria-label="Search this link" class="mb-4 flex gap-2" data-testid="share-search">
            <label for="share-q" class="sr-only">"Search these files"</label>
            <input id="share-q" name="q" type="search" value=q placeholder="Search these files"
                autocomplete="off" class="field flex-1"/>
            <button type="submit" class=BUTTON>"Search"</button>
        </form>
    }
}

/// What a search within the link found.
#[component]
fn ShareResults(slug: String, q: String) -> impl IntoView {
    let found = Resource::new_blocking(
        {
            let (slug, q) = (slug.clone(), q.clone());
            move || (slug.clone(), q.clone())
        },
        |(slug, q)| search_share(slug, q, None),
    );
    let open = RwSignal::new(None::<usize>);
    view! {
        <Suspense fallback=|| view! { <p>"Searching…"</p> }>
            {move || {
                let (slug, q) = (slug.clone(), q.clone());
                Suspend::new(async move {
                    match found.await {
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                        Ok(found) if found.hits.is_empty() => view! {
                            <p class="rounded-xl border border-slate-200 p-8 text-center text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="no-results">
                                "Nothing here matches “" {q} "”. Try fewer or shorter words, or "
                                <a class="underline" href="?" rel="external">"see every file"</a>"."
                            </p>
                        }.into_any(),
                        Ok(found) => view! {
                            <p class="mb-2 text-sm text-slate-600 dark:text-slate-400">
                                {format!("{}{} found · ", found.hits.len(), if found.next_cursor.is_some() { "+" } else { "" })}
                                <a class="underline" href="?" rel="external">"See every file"</a>
                            </p>
                            <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="share-results">
                                {found.hits.into_iter().map(|hit| view! {
                                    <SharedFile slug=slug.clone() file=hit.file slide=None open snippet=hit.snippet/>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// `file`'s slide, added to `slides` when it has a thumbnail; its place there.
fn gallery_slide(slug: &str, file: &PublicFile, slides: &mut Vec<Slide>) -> Option<usize> {
    let media = file.media.as_ref().filter(|media| media.thumbnail && media.kind != "audio")?;
    let src = format!("/s/{slug}/files/{}", file.id);
    let size = if media.large { "large" } else { "small" };
    slides.push(Slide {
        name: file.path.clone(),
        picture: format!("{src}/thumbnail?size={size}"),
        // A limited link's page plays nothing (every play would count).
        video: (file.preview == Preview::Video).then(|| src.clone()),
        href: src,
    });
    Some(slides.len() - 1)
}

#[component]
fn SharedFile(
    slug: String,
    file: PublicFile,
    slide: Option<usize>,
    open: RwSignal<Option<usize>>,
    #[prop(optional)] snippet: Vec<domain::search::SnippetPart>,
    /// The page's first file: its picture loads at once (the others as they scroll near).
    #[prop(optional)]
    first: bool,
) -> impl IntoView {
    let PublicFile { id, path, size, preview, media } = file;
    let src = format!("/s/{slug}/files/{id}");
    let download = format!("{src}?download=1");
    // A thumbnail never counts as a download: shown even where the original is not.
    let thumbnail = media.filter(|media| media.thumbnail).map(|media| {
        let size = if media.large { "large" } else { "small" };
        (format!("{src}/thumbnail?size={size}"), media)
    });
    let preview_view = match (preview, thumbnail) {
        (Preview::Video, Some((poster, _))) => view! { <video src=src.clone() poster=poster controls preload="none" class="mt-2 max-h-80 w-full rounded-md bg-black"></video> }.into_any(),
        (Preview::Audio, Some((cover, _))) => view! {
            <img src=cover alt="" loading="lazy" class="mt-2 max-h-40 rounded-md"/>
            <audio src=src.clone() controls preload="none" class="mt-2 w-full"></audio>
        }.into_any(),
        (_, Some((thumb, media))) => {
            let backdrop = media.placeholder.clone().map(|p| format!("background-image:url({p});background-size:cover"));
            // Its box is known before it loads (no shift of the page), and a phone may take
            // the small one.
            let (width, height) = shown_size(&media).unzip();
            let srcset = media.large.then(|| format!("{src}/thumbnail?size=small 256w, {src}/thumbnail?size=large 1024w"));
            let loading = if first { "eager" } else { "lazy" };
            view! {
                <a href=src.clone() target="_blank" rel="noopener" class="mt-2 block w-fit"
                    on:click=move |ev| if let Some(slide) = slide {
                        ev.prevent_default();
                        open.set(Some(slide));
                    }>
                    <img src=thumb sizes=srcset.as_ref().map(|_| srcset_sizes(width)) srcset=srcset alt=path.clone() width=width height=height
                        loading=loading fetchpriority=first.then_some("high") decoding="async" style=backdrop
                        class="max-h-80 rounded-md border border-slate-200 dark:border-slate-800" data-testid="shared-thumbnail"/>
                </a>
            }.into_any()
        }
        (preview, None) => match preview {
        Preview::Image => view! { <img src=src.clone() alt=path.clone() loading="lazy" class="mt-2 max-h-80 rounded-md border border-slate-200 dark:border-slate-800"/> }.into_any(),
        Preview::Video => view! { <video src=src.clone() controls preload="metadata" class="mt-2 max-h-80 w-full rounded-md bg-black"></video> }.into_any(),
        Preview::Audio => view! { <audio src=src.clone() controls preload="metadata" class="mt-2 w-full"></audio> }.into_any(),
        Preview::Pdf | Preview::Text => view! { <a class=LINK href=src.clone() target="_blank" rel="noopener">"Open"</a> }.into_any(),
        Preview::None => ().into_any(),
        },
    };
    view! {
        <li class="p-4" data-testid="shared-file">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div class="min-w-0">
                    <p class="break-all font-medium">{path.clone()}</p>
                    <p class="text-sm text-slate-600 dark:text-slate-400">{human_size(size)}</p>
                    <Snippet parts=snippet/>
                </div>
                <a class=LINK href=download download="">"Download"</a>
            </div>
            {preview_view}
        </li>
    }
}

/// A picture or video of the gallery: a square of its thumbnail that opens the lightbox (or,
/// without JavaScript, the picture), its name and its own download.
#[component]
fn Tile(
    slug: String,
    file: PublicFile,
    slide: usize,
    open: RwSignal<Option<usize>>,
    /// The first tile loads at once, with priority; the others as they scroll near.
    first: bool,
) -> impl IntoView {
    let PublicFile { id, path, size, preview, media } = file;
    let src = format!("/s/{slug}/files/{id}");
    let download = format!("{src}?download=1");
    let placeholder = media
        .as_ref()
        .and_then(|m| m.placeholder.clone())
        .map(|p| format!("background-image:url({p});background-size:cover"));
    let large = media.as_ref().is_some_and(|m| m.large);
    let srcset =
        large.then(|| format!("{src}/thumbnail?size=small 256w, {src}/thumbnail?size=large 1024w"));
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let video = preview == Preview::Video;
    view! {
        <li class="min-w-0" data-testid="shared-file">
            <a href=src.clone() target="_blank" rel="noopener" title=path.clone()
                class="relative block aspect-square overflow-hidden rounded-lg bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 dark:bg-slate-800"
                on:click=move |ev| { ev.prevent_default(); open.set(Some(slide)); }>
                <img src=format!("{src}/thumbnail?size=small") srcset=srcset sizes="(max-width: 640px) 50vw, (max-width: 1024px) 33vw, 25vw"
                    alt=path.clone() width="256" height="256" loading=if first { "eager" } else { "lazy" }
                    fetchpriority=first.then_some("high") decoding="async" style=placeholder
                    class="h-full w-full object-cover transition-transform hover:scale-105" data-testid="shared-thumbnail"/>
                {video.then(|| view! {
                    <span class="absolute inset-0 flex items-center justify-center" aria-hidden="true">
                        <span class="rounded-full bg-black/60 px-3 py-2 text-lg text-white">"▶"</span>
                    </span>
                })}
            </a>
            <div class="mt-1 flex items-center justify-between gap-1">
                <span class="min-w-0 truncate text-sm" title=path.clone()>{name}</span>
                <a class=LINK href=download download="" aria-label=format!("Download {path} ({})", human_size(size))>"↓"</a>
            </div>
        </li>
    }
}

/// The tallest a thumbnail is shown (`max-h-80`).
const SHOWN_HEIGHT: u32 = 320;

/// The size a thumbnail is shown at: the picture's proportions, as large as its thumbnail (1024
/// or 256 px on the long side) and at most [`SHOWN_HEIGHT`] tall. `None` when its size is not
/// known.
fn shown_size(media: &domain::media::MediaDto) -> Option<(u32, u32)> {
    let (width, height) = (media.width?, media.height?);
    let long = width.max(height).max(1);
    let thumbnail = if media.large { 1024 } else { 256 }.min(long);
    let scale = |n: u32| (u64::from(n) * u64::from(thumbnail) / u64::from(long)) as u32;
    let (width, height) = (scale(width).max(1), scale(height).max(1));
    if height > SHOWN_HEIGHT {
        Some((
            (u64::from(width) * u64::from(SHOWN_HEIGHT) / u64::from(height)).max(1) as u32,
            SHOWN_HEIGHT,
        ))
    } else {
        Some((width, height))
    }
}

/// `sizes` for a thumbnail shown `width` wide: the whole screen on a phone, else its width.
fn srcset_sizes(width: Option<u32>) -> String {
    width.map_or_else(|| "100vw".to_owned(), |width| format!("(max-width: 640px) 100vw, {width}px"))
}

/// A file request: who asks, what it takes, the upload area, what this visitor sent.
#[component]
fn Request(request: PublicRequest, error: Option<String>) -> impl IntoView {
    let PublicRequest {
        slug,
        title,
        owner_name,
        expires_at,
        max_file_size,
        files_left,
        bytes_left,
        allowed_types,
        sent,
    } = request;
    // What this visitor has sent since the page loaded counts down the request's limits.
    let sent_now = RwSignal::new((0_u64, 0_u64));
    let types = (!allowed_types.is_empty()).then(|| format!("Types: {}", allowed_types.join(", ")));
    let rules = Memo::new(move |_| {
        let (files, bytes) = sent_now.get();
        [
            types.clone(),
            max_file_size.map(|max| format!("Up to {} per file", human_size(max))),
            files_left.map(|n| n.saturating_sub(files)).map(|n| match n {
                0 => "No more files".to_owned(),
                1 => "1 more file".to_owned(),
                n => format!("{n} more files"),
            }),
            bytes_left.map(|n| format!("{} left in all", human_size(n.saturating_sub(bytes)))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
    });
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a file's size")]
    let queue = Queue::new(Callback::new(move |size: f64| {
        sent_now.update(|(files, bytes)| {
            *files += 1;
            *bytes += size as u64;
        });
    }));
    let takes = Takes { max_file_size, types: allowed_types.clone() };
    view! {
        <Title text=title.clone()/>
        <div class="mx-auto max-w-2xl space-y-4" data-testid="file-request">
            <div>
                <h1 class="break-words text-2xl font-bold">{title}</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    <span class="font-medium">{owner_name}</span>" asks you to send files. They go straight to them; nobody else who has this link sees them."
                </p>
                <Show when=move || !rules.read().is_empty()>
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="request-rules" aria-live="polite">{rules}</p>
                </Show>
                {expires_at.map(|at| view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Open until " <Time at/></p>
                })}
            </div>
            {error.map(|message| view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">{message}</p> })}
            <Uploader folder_id=Signal::stored(String::new()) queue base=format!("/s/{slug}") takes/>
            <Show when={let empty = sent.is_empty(); move || !empty}>
                <section>
                    <h2 class="mb-2 font-semibold">"You sent"</h2>
                    <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="sent-files">
                        {sent.clone().into_iter().map(|file| view! {
                            <li class="flex flex-wrap justify-between gap-2 p-3 text-sm">
                                <span class="break-all font-medium">{file.name}</span>
                                <span class="text-slate-600 dark:text-slate-400">{human_size(file.size)}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            </Show>
        </div>
    }
}

#[component]
fn Locked(slug: String, error: Option<String>) -> impl IntoView {
    let action = format!("/s/{slug}/unlock");
    view! {
        <Title text="Password required"/>
        <Meta property="og:title" content="Shared files (password required)"/>
        <Meta property="og:description" content="Open the link and type the password to see what was shared."/>
        <section class="mx-auto max-w-md rounded-xl border border-slate-200 p-5 dark:border-slate-800">
            <h1 class="mb-4 text-xl font-semibold">"This link is protected"</h1>
            <form method="post" action=action class="space-y-4">
                <p class="text-sm text-slate-600 dark:text-slate-400">"Type the password the person who shared it gave you."</p>
                <div>
                    <label for="share-password" class="mb-1 block text-sm font-medium">"Password"</label>
                    <input id="share-password" name="password" type="password" required autocomplete="off" autofocus
                        class="field"
                        aria-invalid=error.is_some().then_some("true") aria-describedby="share-password-error"/>
                    {error.map(|message| view! { <p id="share-password-error" role="alert" class="mt-1 text-sm text-red-700 dark:text-red-400">{message}</p> })}
                </div>
                <button type="submit" class=BUTTON>"Open"</button>
            </form>
        </section>
    }
}

#[component]
fn Unavailable(error: AppError) -> impl IntoView {
    answer_with(&error);
    let (title, hint) = match &error {
        AppError::Gone(_) => {
            ("This link no longer works", "Ask the person who shared it for a new link.")
        }
        AppError::NotFound(_) => {
            ("No such link", "Check that the whole link was copied, or ask for a new one.")
        }
        _ => ("This link cannot be opened right now", "Try again in a moment."),
    };
    view! {
        <Title text=title/>
        <div class="mx-auto max-w-lg py-12 text-center" data-testid="share-unavailable">
            <h1 class="text-2xl font-bold">{title}</h1>
            <p class="mt-3 text-slate-700 dark:text-slate-300">{error.to_string()}</p>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{hint}</p>
        </div>
    }
}
