//! Multi-select: the chosen entries, the bar that floats at the foot of the window while any
//! are chosen, and the dialogs it and the row menu open (share, rename, move, delete).

use domain::files::human_size;
use leptos::prelude::*;

use super::Actions;
use crate::api::files::{DeleteItems, MoveItems, RenameItem, folder_choices, measure_items};
use crate::components::dialog::{self, Buttons, Modal, show};
use crate::components::form::{DANGER_SOLID, FormError, Outcome};
use crate::components::words;
use crate::pages::shares::{PRIMARY, ShareForm};

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

    /// Exactly these entries.
    pub fn set(self, keys: Vec<String>) {
        self.0.set(keys);
    }

    /// What a row's menu acts on: the whole selection when the row is part of it, else the
    /// row alone (as file managers do).
    pub fn focus_on(self, key: &str) {
        if !self.contains(key) {
            self.0.set(vec![key.to_owned()]);
        }
    }

    pub fn clear(self) {
        self.0.set(Vec::new());
    }

    pub fn count(self) -> u64 {
        self.0.with(|keys| keys.len() as u64)
    }

    /// Comma-separated ids of one kind (`'f'` or `'d'`).
    fn ids(self, kind: char) -> String {
        let prefix = format!("{kind}:");
        self.0.with(|keys| {
            keys.iter().filter_map(|k| k.strip_prefix(&prefix)).collect::<Vec<_>>().join(",")
        })
    }

    /// The one selected entry's key, when exactly one is selected.
    fn single(self) -> Option<String> {
        self.0.with(|keys| (keys.len() == 1).then(|| keys[0].clone()))
    }
}

/// The dialogs' ids, for [`open`].
pub const SHARE: &str = "share-dialog";
pub const RENAME: &str = "rename-dialog";
pub const MOVE: &str = "move-dialog";
pub const DELETE: &str = "delete-dialog";

/// Which dialog was opened last, counted, so each opening starts afresh (a new share form,
/// the delete's figures measured again).
#[derive(Clone, Copy)]
pub struct Opened(RwSignal<(&'static str, u32)>);

impl Opened {
    pub fn new() -> Self {
        Self(RwSignal::new(("", 0)))
    }

    /// Opens dialog `id` for the current selection.
    pub fn open(self, id: &'static str) {
        self.0.update(|(which, count)| {
            *which = id;
            *count += 1;
        });
        show(id);
    }

    /// The opening count while `id` was the last opened, else `None`.
    fn of(self, id: &'static str) -> Option<u32> {
        self.0.with(|(which, count)| (*which == id).then_some(*count))
    }
}

/// The bar shown while something is selected, at the foot of the window.
#[component]
pub fn SelectionBar(selection: Selection, opened: Opened) -> impl IntoView {
    let button = "rounded-full px-3 py-1.5 text-sm font-medium hover:bg-slate-700 focus-visible:outline-2 focus-visible:outline-sky-400";
    view! {
        <Show when=move || { selection.count() > 0 }>
            <div class="pointer-events-auto flex max-w-full flex-wrap items-center justify-center gap-1 self-center rounded-2xl bg-slate-900 p-2 text-white shadow-2xl dark:bg-slate-700"
                data-testid="selection-bar" role="region" aria-label="Selected items">
                <span class="px-2 text-sm font-semibold" aria-live="polite">{move || format!("{} selected", selection.count())}</span>
                <button type="button" class=button on:click=move |_| download(selection.ids('f'))
                    disabled=move || selection.ids('f').is_empty()>"Download"</button>
                <button type="button" class=button on:click=move |_| opened.open(SHARE)>"Share…"</button>
                <Show when=move || selection.single().is_some()>
                    <button type="button" class=button on:click=move |_| opened.open(RENAME)>"Rename…"</button>
                </Show>
                <button type="button" class=button on:click=move |_| opened.open(MOVE)>"Move…"</button>
                <button type="button" class=format!("{button} text-red-300") on:click=move |_| opened.open(DELETE)>"Delete…"</button>
                <button type="button" class=button aria-label="Clear the selection" on:click=move |_| selection.clear()>"✕"</button>
            </div>
        </Show>
    }
}

/// The dialogs acting on the selection; each closes itself once its action succeeded and
/// shows the reason inside when it failed.
#[component]
pub fn SelectionDialogs(
    selection: Selection,
    opened: Opened,
    actions: Actions,
    /// `(key, name)` of the entries on the page.
    names: Signal<Vec<(String, String)>>,
    /// The folder shown (empty: the root).
    folder: Memo<String>,
) -> impl IntoView {
    let count = move || words::count(selection.count(), "item", "items");
    view! {
        <Modal id=SHARE title=Signal::derive(move || format!("Share {}", count())) wide=true>
            // A fresh form each time: the last link made is not shown for a new selection.
            {move || opened.of(SHARE).map(|_| view! {
                // Selected files; or the one selected folder.
                <ShareForm files=Signal::derive(move || selection.ids('f'))
                    folder=Signal::derive(move || if selection.ids('f').is_empty() { selection.ids('d') } else { String::new() })/>
            })}
            <Buttons id=SHARE label="Close"/>
        </Modal>
        <RenameDialog selection opened actions names/>
        <MoveDialog selection opened actions folder/>
        <DeleteDialog selection opened actions/>
    }
}

/// Closes dialog `id` and clears the selection once `outcome` is a success.
fn close_on_success(id: &'static str, outcome: impl Into<Outcome>, selection: Selection) {
    let outcome: Outcome = outcome.into();
    dialog::close_on_success(id, outcome);
    Effect::new(move |_| {
        if matches!(outcome.get(), Some(Ok(()))) {
            selection.clear();
        }
    });
}

#[component]
fn RenameDialog(
    selection: Selection,
    opened: Opened,
    actions: Actions,
    names: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let new_name = RwSignal::new(String::new());
    // Prefilled with the one selected entry's name.
    Effect::new(move |_| {
        if let Some(key) = selection.single() {
            let name =
                names.with_untracked(|n| n.iter().find(|(k, _)| *k == key).map(|(_, n)| n.clone()));
            new_name.set(name.unwrap_or_default());
        }
    });
    close_on_success(RENAME, actions.rename.value(), selection);
    // Each opening starts without the last attempt's error.
    Effect::new(move |_| {
        if opened.of(RENAME).is_some() {
            actions.rename.value().set(None);
        }
    });
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(key) = selection.single() {
            let (kind, id) = key.split_once(':').unwrap_or_default();
            let kind = if kind == "d" { "folder" } else { "file" };
            actions.rename.dispatch(RenameItem {
                kind: kind.into(),
                id: id.into(),
                name: new_name.get_untracked(),
            });
        }
    };
    view! {
        <Modal id=RENAME title="Rename">
            <form on:submit=rename class="space-y-2">
                <FormError outcome=actions.rename.value() every=true/>
                <label class="block text-sm font-medium" for="rename-to">"New name"</label>
                <input id="rename-to" required bind:value=new_name class="field"/>
                <Buttons id=RENAME><button type="submit" class=PRIMARY>"Rename"</button></Buttons>
            </form>
        </Modal>
    }
}

/// A folder tree to move into: every folder, indented by depth; the selected folders and
/// everything below them cannot be chosen.
#[component]
fn MoveDialog(
    selection: Selection,
    opened: Opened,
    actions: Actions,
    folder: Memo<String>,
) -> impl IntoView {
    let target = RwSignal::new(String::new());
    // Read afresh each time the dialog opens, so new folders are there.
    let choices = LocalResource::new(move || {
        let asked = opened.of(MOVE);
        async move {
            match asked {
                Some(_) => folder_choices().await.unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    close_on_success(MOVE, actions.moves.value(), selection);
    // Each opening starts without the last attempt's error.
    Effect::new(move |_| {
        if opened.of(MOVE).is_some() {
            actions.moves.value().set(None);
        }
    });
    let move_to = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(target) = target.get_untracked().parse() else { return };
        actions.moves.dispatch(MoveItems {
            files: selection.ids('f'),
            folders: selection.ids('d'),
            target,
        });
    };
    view! {
        <Modal id=MOVE title=Signal::derive(move || format!("Move {}", words::count(selection.count(), "item", "items")))>
            <form on:submit=move_to>
                <FormError outcome=actions.moves.value() every=true/>
                <fieldset>
                    <legend class="mb-2 text-sm font-medium">"Into which folder?"</legend>
                    <ul class="max-h-72 overflow-auto rounded-md border border-slate-200 p-1 dark:border-slate-700" data-testid="folder-tree">
                        <Suspense fallback=|| view! { <li class="p-2 text-sm">"Loading folders…"</li> }>
                            {move || Suspend::new(async move {
                                let all = choices.await;
                                let selected: Vec<String> = all.iter()
                                    .filter(|(id, _)| selection.contains(&format!("d:{id}")))
                                    .map(|(_, path)| path.clone())
                                    .collect();
                                let here = folder.get_untracked();
                                all.into_iter().map(|(id, path)| {
                                    let inside = selected.iter().any(|s| path == *s || path.starts_with(&format!("{s}/")));
                                    let current = id.to_string() == here || (here.is_empty() && path == "/");
                                    let depth = path.matches('/').count().saturating_sub(usize::from(path != "/"));
                                    let name = if path == "/" { "Your files".to_owned() } else { path.rsplit('/').next().unwrap_or_default().to_owned() };
                                    let value = id.to_string();
                                    let chosen = value.clone();
                                    view! {
                                        <li style=format!("padding-left:{}rem", depth)>
                                            <label class="flex items-center gap-2 rounded px-2 py-1.5 text-sm hover:bg-slate-100 has-[:disabled]:opacity-50 dark:hover:bg-slate-800" title=path>
                                                <input type="radio" name="target" value=value disabled=inside || current
                                                    prop:checked=move || target.get() == chosen
                                                    on:change=move |ev| target.set(event_target_value(&ev))/>
                                                <span class="truncate">{name}</span>
                                                {current.then_some(view! { <span class="text-xs text-slate-600 dark:text-slate-400">"(here)"</span> })}
                                            </label>
                                        </li>
                                    }
                                }).collect_view()
                            })}
                        </Suspense>
                    </ul>
                </fieldset>
                <Buttons id=MOVE>
                    <button type="submit" class=format!("{PRIMARY} disabled:opacity-50") disabled=move || target.with(String::is_empty)>"Move"</button>
                </Buttons>
            </form>
        </Modal>
    }
}

/// Says what goes — the files inside selected folders counted, and their size — before
/// anything does.
#[component]
fn DeleteDialog(selection: Selection, opened: Opened, actions: Actions) -> impl IntoView {
    let measured = LocalResource::new(move || {
        let asked = opened.of(DELETE);
        let (files, folders) = (selection.ids('f'), selection.ids('d'));
        async move {
            match asked {
                Some(_) => Some(measure_items(files, folders).await),
                None => None,
            }
        }
    });
    close_on_success(DELETE, actions.delete.value(), selection);
    // Each opening starts without the last attempt's error.
    Effect::new(move |_| {
        if opened.of(DELETE).is_some() {
            actions.delete.value().set(None);
        }
    });
    let delete = move |_| {
        actions.delete.dispatch(DeleteItems {
            files: selection.ids('f'),
            folders: selection.ids('d'),
            next: None,
        });
    };
    let title = Signal::derive(move || {
        format!("Delete {}?", words::count(selection.count(), "item", "items"))
    });
    view! {
        <Modal id=DELETE title>
            <FormError outcome=actions.delete.value() every=true/>
            <p class="text-sm text-slate-700 dark:text-slate-300" data-testid="delete-summary">
                <Suspense fallback=|| "Counting what is inside…">
                    {move || Suspend::new(async move {
                        match measured.await {
                            Some(Ok(what)) => format!(
                                "{} ({}) will be deleted for good, with everything in the selected folders. This cannot be undone.",
                                words::count(what.files, "file", "files"),
                                human_size(what.bytes),
                            ),
                            Some(Err(e)) => e.to_string(),
                            None => String::new(),
                        }
                    })}
                </Suspense>
            </p>
            <Buttons id=DELETE>
                <button type="button" class=DANGER_SOLID on:click=delete>"Delete"</button>
            </Buttons>
        </Modal>
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
