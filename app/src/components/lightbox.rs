//! A gallery over a page's pictures and videos: the large thumbnail (or the video, playing from
//! its Range-served bytes) filling the screen, with ← / → and swipes to move, Escape or ✕ to
//! close. Without JavaScript the links it opens from lead to each file instead.

use leptos::prelude::*;

/// One picture or video of the gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slide {
    /// The file's name (the caption, and the picture's text alternative).
    pub name: String,
    /// The large thumbnail (a video's poster).
    pub picture: String,
    /// A video's bytes, played in place of the picture.
    pub video: Option<String>,
    /// Where "Open" leads (the file's page, or its bytes).
    pub href: String,
}

/// Shows `slides[i]` while `open` is `Some(i)`.
#[component]
pub fn Lightbox(slides: Vec<Slide>, open: RwSignal<Option<usize>>) -> impl IntoView {
    let count = slides.len();
    let slides = StoredValue::new(slides);
    let dialog = NodeRef::<leptos::html::Div>::new();
    let step = move |by: isize| {
        open.update(|at| {
            if let Some(i) = at {
                *i = (*i as isize + by).rem_euclid(count.max(1) as isize) as usize;
            }
        });
    };
    // Focus moves into the gallery when it opens, so the keys reach it, and back to what
    // opened it when it closes.
    #[cfg(feature = "hydrate")]
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get().is_some();
        let changed = is_open != (was_open == Some(true));
        #[cfg(feature = "hydrate")]
        if changed {
            hand_focus(opener, is_open);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = changed; // the server renders it closed
        if is_open && let Some(dialog) = dialog.get() {
            let _ = dialog.focus();
        }
        is_open
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowLeft" => step(-1),
        "ArrowRight" => step(1),
        "Escape" => open.set(None),
        _ => {}
    };
    let swipe_from = StoredValue::new(None::<i32>);
    let on_down = move |ev: leptos::ev::PointerEvent| swipe_from.set_value(Some(ev.client_x()));
    let on_up = move |ev: leptos::ev::PointerEvent| {
        if let Some(from) = swipe_from.get_value() {
            let moved = ev.client_x() - from;
            if moved.abs() > 50 {
                step(if moved < 0 { 1 } else { -1 });
            }
        }
        swipe_from.set_value(None);
    };
    let button = "rounded-full bg-white/10 px-4 py-3 text-xl hover:bg-white/20 focus-visible:outline-2 focus-visible:outline-white";
    view! {
        <Show when=move || open.get().is_some()>
            <div node_ref=dialog role="dialog" aria-modal="true" aria-label="Gallery" tabindex="-1"
                class="fixed inset-0 z-50 flex flex-col bg-black/95 text-white outline-none"
                on:keydown=on_key on:pointerdown=on_down on:pointerup=on_up data-testid="lightbox">
                {move || open.get().and_then(|i| slides.with_value(|s| s.get(i).cloned())).map(|slide| {
                    let at = open.get().unwrap_or(0) + 1;
                    view! {
                        <div class="flex items-center justify-between gap-3 p-3 text-sm">
                            <p class="min-w-0 truncate" data-testid="lightbox-caption">{format!("{} · {at} of {count}", slide.name)}</p>
                            <div class="flex shrink-0 items-center gap-2">
                                <a href=slide.href.clone() class="underline">"Open"</a>
                                <button type="button" class=button aria-label="Close (Esc)" on:click=move |_| open.set(None)>"✕"</button>
                            </div>
                        </div>
                        <div class="flex min-h-0 flex-1 items-center justify-between gap-2 px-2 pb-4">
                            <button type="button" class=button aria-label="Previous (←)" on:click=move |_| step(-1)>"←"</button>
                            <div class="flex h-full min-w-0 flex-1 items-center justify-center">
                                {match slide.video {
                                    Some(video) => view! { <video src=video poster=slide.picture controls autoplay class="max-h-full max-w-full"></video> }.into_any(),
                                    None => view! { <img src=slide.picture alt=slide.name class="max-h-full max-w-full object-contain" data-testid="lightbox-picture"/> }.into_any(),
                                }}
                            </div>
                            <button type="button" class=button aria-label="Next (→)" on:click=move |_| step(1)>"→"</button>
                        </div>
                    }
                })}
            </div>
        </Show>
    }
}

/// Remembers what had focus as the gallery opens, and gives focus back to it as it closes.
#[cfg(feature = "hydrate")]
fn hand_focus(opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>, opening: bool) {
    use wasm_bindgen::JsCast;
    if opening {
        let active = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.active_element())
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        opener.set_value(active);
    } else if let Some(element) = opener.get_value() {
        let _ = element.focus();
    }
}
