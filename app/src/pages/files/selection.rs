//! Multi-select: the chosen entries, and the bar that renames, moves, downloads or deletes them.

use leptos::prelude::*;

use super::{Actions, folder_label};
use crate::api::files::{DeleteItems, MoveItems, RenameItem, folder_choices};
use crate::pages::shares::ShareForm;

/// The selected entries, as `f:<id>` (files) and `d:<id>` (folders).
#[derive(Clone, Copy)]
pub struct Selection(RwSignal<Vec<String>>);

impl Selection {
    pub fn new() -> Self {
        Self(RwSignal::new(Vec::new()))
    }

    pub fn contains(self, key: &str) -> bool {
        self.0.with(|keys| keys.iter().any(|k| k == key))
    }

    pub fn toggle(self, key: &str) {
        self.0.update(|keys| match keys.iter().position(|k| k == key) {
            Some(at) => {
                keys.remove(at);
            }
            None => keys.push(key.to_owned()),
        });
    }

    fn clear(self) {
        self.0.set(Vec::new());
    }

    fn count(self) -> usize {
        self.0.with(Vec::len)
    }

    /// Comma-separated ids of one kind (`'f'` or `'d'`).
    fn ids(self, kind: char) -> String {
        let prefix = format!("{kind}:");
        self.0.with(|keys| {
            keys.iter().filter_map(|k| k.strip_prefix(&prefix)).collect::<Vec<_>>().join(",")
        })
    }
}

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-slate-700 dark:hover:bg-slate-800";

/// Shown while something is selected.
#[component]
pub fn SelectionBar(
    selection: Selection,
    actions: Actions,
    /// `(key, name)` of the entries on the page.
    names: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let sharing = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    // Reloaded with the listing, so new folders can be chosen at once.
    let choices = LocalResource::new(move || {
        names.track();
        folder_choices()
    });
    let single = move || (selection.count() == 1).then(|| selection.0.with(|k| k[0].clone()));
    // Prefill the rename box with the one selected entry's name.
    Effect::new(move |_| {
        if let Some(key) = single() {
            let name =
                names.with_untracked(|n| n.iter().find(|(k, _)| *k == key).map(|(_, n)| n.clone()));
            new_name.set(name.unwrap_or_default());
        }
    });
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(key) = single() {
            let (kind, id) = key.split_once(':').unwrap_or_default();
            let kind = if kind == "d" { "folder" } else { "file" };
            actions.rename.dispatch(RenameItem {
                kind: kind.into(),
                id: id.into(),
                name: new_name.get_untracked(),
            });
            selection.clear();
        }
    };
    let move_to = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(target) = target.get_untracked().parse() else { return };
        actions.moves.dispatch(MoveItems {
            files: selection.ids('f'),
            folders: selection.ids('d'),
            target,
        });
        selection.clear();
    };
    let delete = move |_| {
        actions.delete.dispatch(DeleteItems {
            files: selection.ids('f'),
            folders: selection.ids('d'),
            next: None,
        });
        confirming.set(false);
        selection.clear();
    };
    view! {
        <Show when=move || { selection.count() > 0 }>
            <div class="flex flex-wrap items-center gap-3 rounded-xl border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950" data-testid="selection-bar" role="region" aria-label="Selected items">
                <span class="font-medium">{move || format!("{} selected", selection.count())}</span>
                <button type="button" class=BUTTON on:click=move |_| selection.clear()>"Clear"</button>
                <Show when=move || single().is_some()>
                    <form class="flex items-center gap-2" on:submit=rename>
                        <label class="sr-only" for="rename-to">"New name"</label>
                        <input id="rename-to" required bind:value=new_name class="w-44 rounded-md border border-slate-300 bg-white px-2 py-1.5 dark:border-slate-700 dark:bg-slate-900"/>
                        <button type="submit" class=BUTTON>"Rename"</button>
                    </form>
                </Show>
                <form class="flex items-center gap-2" on:submit=move_to>
                    <label class="sr-only" for="move-to">"Move to folder"</label>
                    <select id="move-to" bind:value=target class="max-w-48 rounded-md border border-slate-300 bg-white px-2 py-1.5 dark:border-slate-700 dark:bg-slate-900">
                        <option value="" disabled>"Move to…"</option>
                        <Suspense fallback=|| view! { <option>"Loading folders…"</option> }>
                            {move || Suspend::new(async move {
                                choices.await.unwrap_or_default().into_iter()
                                    .map(|(id, path)| view! { <option value=id.to_string()>{folder_label(&path)}</option> })
                                    .collect_view()
                            })}
                        </Suspense>
                    </select>
                    <button type="submit" class=format!("{BUTTON} disabled:opacity-50") disabled=move || target.with(String::is_empty)>"Move"</button>
                </form>
                <button type="button" class=BUTTON on:click=move |_| download(selection.ids('f'))>"Download"</button>
                <button type="button" class=BUTTON aria-expanded=move || sharing.get().to_string() on:click=move |_| sharing.update(|s| *s = !*s)>"Share…"</button>
                <Show when=move || !confirming.get() fallback=move || view! {
                    <span class="flex items-center gap-2">
                        <span>{move || format!("Delete {} item(s) and everything in selected folders?", selection.count())}</span>
                        <button type="button" class="rounded-md bg-red-700 px-3 py-1.5 font-medium text-white hover:bg-red-800" on:click=delete>"Delete"</button>
                        <button type="button" class=BUTTON on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                }>
                    <button type="button" class="rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-900 dark:text-red-400 dark:hover:bg-red-950" on:click=move |_| confirming.set(true)>"Delete…"</button>
                </Show>
                <Show when=move || sharing.get()>
                    // Selected files; or the one selected folder.
                    <div class="w-full max-w-xl rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-950">
                        <ShareForm files=Signal::derive(move || selection.ids('f'))
                            folder=Signal::derive(move || if selection.ids('f').is_empty() { selection.ids('d') } else { String::new() })/>
                    </div>
                </Show>
            </div>
        </Show>
    }
}

/// Saves each selected file (browsers may ask once to allow several downloads).
fn download(files: String) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        for id in files.split(',').filter(|id| !id.is_empty()) {
            if let Ok(link) = document.create_element("a") {
                let link = link.unchecked_into::<web_sys::HtmlAnchorElement>();
                link.set_href(&format!("/api/v1/files/{id}/content?download=1"));
                link.set_download("");
                link.click();
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = files;
}
