//! The header's search box: results as you type. Without JavaScript it is a GET form to the
//! full results page `/search`. With it, typing waits for a pause ([`PAUSE`]) before asking,
//! and every keystroke makes the answers in flight stale — an older answer never replaces a
//! newer one. `/` (outside a text field) or Ctrl-K / ⌘K focuses the box; ↑/↓ move through the
//! results, Enter opens the chosen one (or the results page), Escape closes the list.

use std::time::Duration;

use domain::search::{SearchPage, SnippetPart};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::search::search_files;
use crate::pages::search::{FolderGlyph, Snippet, encode};

/// How long typing must pause before the box asks.
const PAUSE: Duration = Duration::from_millis(150);
/// Results shown under the box (the results page has the rest), of which folders at most
/// [`FOLDERS_SHOWN`].
const SHOWN: usize = 8;
const FOLDERS_SHOWN: usize = 3;

/// What the list under the box shows.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    Closed,
    Hits { hits: Vec<Choice>, more: bool },
    Failed(String),
}

/// One result under the box: a folder or a file.
#[derive(Clone, Debug, PartialEq)]
struct Choice {
    href: String,
    name: String,
    path: String,
    folder: bool,
    snippet: Vec<SnippetPart>,
}

/// The first results of `page`, folders first; whether there are more.
fn choices(page: SearchPage) -> (Vec<Choice>, bool) {
    let folders = page.folders.into_iter().take(FOLDERS_SHOWN).map(|hit| Choice {
        href: format!("/files/{}", hit.folder.id),
        name: hit.folder.name,
        path: hit.path,
        folder: true,
        snippet: Vec::new(),
    });
    let files = page.hits.into_iter().map(|hit| Choice {
        href: format!("/file/{}", hit.file.id),
        name: hit.file.name,
        path: hit.path,
        folder: false,
        snippet: hit.snippet,
    });
    let mut all: Vec<Choice> = folders.chain(files).collect();
    let more = all.len() > SHOWN || page.next_cursor.is_some();
    all.truncate(SHOWN);
    (all, more)
}

/// The header's search box.
#[component]
pub fn QuickSearch() -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let text = RwSignal::new(String::new());
    let answer = RwSignal::new(Answer::Closed);
    let active = RwSignal::new(None::<usize>);
    // Which question the newest keystroke asked; an answer to any other is stale.
    let asked = StoredValue::new(0_u64);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let navigate = use_navigate();

    let ask = move |q: String, question: u64| {
        leptos::task::spawn_local(async move {
            let found = search_files(q, None).await;
            if asked.get_value() != question {
                return; // typed on since: a newer question is (or will be) in flight
            }
            active.set(None);
            answer.set(match found {
                Ok(page) => {
                    let (hits, more) = choices(page);
                    Answer::Hits { hits, more }
                }
                Err(err) => Answer::Failed(err.to_string()),
            });
        });
    };
    let on_input = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        text.set(q.clone());
        asked.update_value(|n| *n += 1);
        let question = asked.get_value();
        if let Some(waiting) = timer.get_value() {
            waiting.clear();
        }
        if q.trim().is_empty() {
            answer.set(Answer::Closed);
            return;
        }
        timer.set_value(set_timeout_with_handle(move || ask(q, question), PAUSE).ok());
    };
    let count = move || match answer.get() {
        Answer::Hits { hits, .. } => hits.len(),
        _ => 0,
    };
    let close = move || {
        answer.set(Answer::Closed);
        active.set(None);
    };
    let go = {
        let navigate = navigate.clone();
        move |to: String| {
            close();
            if let Some(input) = input.get() {
                let _ = input.blur();
            }
            navigate(&to, Default::default());
        }
    };
    let on_key = {
        let go = go.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let n = count();
            match ev.key().as_str() {
                "ArrowDown" | "ArrowUp" if n > 0 => {
                    ev.prevent_default();
                    let down = ev.key() == "ArrowDown";
                    active.update(|at| {
                        *at = Some(match (*at, down) {
                            (None, true) => 0,
                            (None, false) => n - 1,
                            (Some(i), true) => (i + 1) % n,
                            (Some(i), false) => (i + n - 1) % n,
                        });
                    });
                }
                // Open, Escape closes the list and keeps the words; closed, the browser clears
                // the box as it does for every search field.
                "Escape" if answer.get_untracked() != Answer::Closed => {
                    ev.prevent_default();
                    close();
                }
                "Enter" => {
                    let chosen = match (answer.get_untracked(), active.get_untracked()) {
                        (Answer::Hits { hits, .. }, Some(i)) => {
                            hits.get(i).map(|hit| hit.href.clone())
                        }
                        _ => None,
                    };
                    let q = text.get_untracked();
                    if let Some(href) = chosen {
                        ev.prevent_default();
                        go(href);
                    } else if !q.trim().is_empty() {
                        ev.prevent_default();
                        go(format!("/search?q={}", encode(&q)));
                    }
                }
                _ => {}
            }
        }
    };
    // The shortcuts that focus the box, from anywhere on the page.
    let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
        let slash = ev.key() == "/" && !typing_in(&ev);
        let command_k = ev.key().eq_ignore_ascii_case("k") && (ev.ctrl_key() || ev.meta_key());
        if (slash || command_k)
            && let Some(input) = input.get()
        {
            ev.prevent_default();
            let _ = input.focus();
            input.select();
        }
    });
    on_cleanup(move || shortcut.remove());
    let option_id = |i: usize| format!("quick-search-{i}");
    view! {
        <form method="get" action="/search" role="search" aria-label="Site search" class="relative hidden sm:block" data-testid="quick-search">
            <label for="quick-search-q" class="sr-only">"Quick search"</label>
            <input id="quick-search-q" node_ref=input name="q" type="search" autocomplete="off"
                placeholder="Search  /" class="field w-40 py-1.5 text-sm lg:w-56"
                role="combobox" aria-autocomplete="list" aria-controls="quick-search-results"
                aria-expanded=move || (answer.get() != Answer::Closed).to_string()
                aria-activedescendant=move || active.get().map(option_id)
                aria-keyshortcuts="/ Control+K Meta+K"
                prop:value=move || text.get()
                on:input=on_input on:keydown=on_key
                on:blur=move |_| {
                    // After a click on a result has had its turn.
                    set_timeout(close, Duration::from_millis(200));
                }/>
            <Show when=move || answer.get() != Answer::Closed>
                <div class="absolute right-0 z-20 mt-1 w-80 max-w-[90vw] rounded-md border border-slate-200 bg-white py-1 shadow-lg dark:border-slate-700 dark:bg-slate-900">
                    <ul id="quick-search-results" role="listbox" aria-label="Results" data-testid="quick-search-results">
                        {move || match answer.get() {
                            Answer::Hits { hits, .. } if hits.is_empty() => view! {
                                <li role="option" aria-disabled="true" class="px-3 py-2 text-sm text-slate-600 dark:text-slate-300">"Nothing matches. Try fewer or shorter words."</li>
                            }.into_any(),
                            Answer::Hits { hits, .. } => hits.into_iter().enumerate().map(|(i, hit)| {
                                let selected = move || active.get() == Some(i);
                                view! {
                                    <li id=option_id(i) role="option" aria-selected=move || selected().to_string()
                                        class=move || if selected() { "bg-sky-100 dark:bg-sky-900" } else { "" }>
                                        <a href=hit.href tabindex="-1" class="block px-3 py-2 text-sm"
                                            on:mousedown=|ev| ev.prevent_default() on:click=move |_| close()>
                                            <span class="flex items-center gap-1 break-all font-medium">
                                                {hit.folder.then(|| view! { <FolderGlyph/> })}
                                                {hit.name}
                                            </span>
                                            <span class="block break-all text-xs text-slate-600 dark:text-slate-300">{hit.path}</span>
                                            <Snippet parts=hit.snippet/>
                                        </a>
                                    </li>
                                }
                            }).collect_view().into_any(),
                            Answer::Failed(message) => view! {
                                <li role="option" aria-disabled="true" class="px-3 py-2 text-sm text-red-700 dark:text-red-300">{message}</li>
                            }.into_any(),
                            Answer::Closed => ().into_any(),
                        }}
                    </ul>
                    <a href=move || format!("/search?q={}", encode(&text.get()))
                        class="block border-t border-slate-200 px-3 py-2 text-sm text-sky-700 underline dark:border-slate-700 dark:text-sky-400"
                        on:mousedown=|ev| ev.prevent_default() on:click=move |_| close()>
                        {move || match answer.get() {
                            Answer::Hits { more: true, .. } => "See all results →",
                            _ => "Open the results page →",
                        }}
                    </a>
                </div>
            </Show>
            <p class="sr-only" role="status" aria-live="polite">
                {move || match answer.get() {
                    Answer::Hits { hits, more } => format!("{}{} results", hits.len(), if more { "+" } else { "" }),
                    _ => String::new(),
                }}
            </p>
        </form>
    }
}

/// Whether a key went to a text field or a player (where `/` is a character and the arrows
/// move the caret or seek, not shortcuts).
pub(crate) fn typing_in(ev: &leptos::ev::KeyboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(element) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            return false;
        };
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "VIDEO" | "AUDIO")
            || element.is_content_editable()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}
