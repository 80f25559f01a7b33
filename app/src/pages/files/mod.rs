//! `/files` and `/files/{folder}`: the file browser. Breadcrumbs and quota; a toolbar
//! (upload, new folder, share or request into this folder, list or grid); the entries with
//! sortable column headers, each with a menu (⋯ or a right click); a selection bar floating at
//! the foot of the window, and the uploads' tray in a corner. Dialogs do the rest. Everything
//! but selecting and the menus works without JavaScript (the file page does those one by one).

mod entries;
mod menu;
mod selection;
pub(crate) mod upload;

use domain::AppError;
use domain::files::{
    FolderDto, FolderPage, ListQuery, PageSize, SortKey, SortOrder, Usage, human_size,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::files::{CreateFolder, DeleteItems, MoveItems, RenameItem, list_folder};
use crate::components::dialog::{Buttons, Dialog, close_on_success};
use crate::components::form::{FormError, SECONDARY};
use crate::components::guard::signed_in;
use crate::components::words;
use crate::pages::requests::RequestForm;
use crate::pages::shares::{PRIMARY, ShareForm};
use entries::Entries;
pub(crate) use entries::FOLDER_DRAWING;
use menu::{RowMenu, RowMenuView};
use selection::{Opened, Selection, SelectionBar, SelectionDialogs};
use upload::{Bar, Queue, UploadTray, Uploader};

/// The listing's options, read from the query string (so every view has a URL).
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    sort: SortKey,
    descending: bool,
    grid: bool,
    cursor: Option<String>,
}

impl View {
    /// What to ask the server for; a cursor edited into the URL that is not one is a 400.
    fn query(&self) -> Result<ListQuery, AppError> {
        let cursor = self.cursor.as_deref().map(str::parse).transpose().map_err(|_| {
            AppError::BadRequest("That page cursor is not valid: go back to the first page.".into())
        })?;
        let order = if self.descending { SortOrder::Desc } else { SortOrder::Asc };
        Ok(ListQuery { sort: self.sort, order, cursor, limit: PageSize::DEFAULT })
    }
}

/// The URL of a folder listed with these options.
fn href(folder: &str, sort: SortKey, descending: bool, grid: bool, cursor: Option<&str>) -> String {
    let base = if folder.is_empty() { "/files".to_owned() } else { format!("/files/{folder}") };
    let mut query = vec![format!("sort={}", sort.as_str())];
    if descending {
        query.push("order=desc".into());
    }
    if grid {
        query.push("view=grid".into());
    }
    if let Some(cursor) = cursor {
        query.push(format!("cursor={cursor}"));
    }
    format!("{base}?{}", query.join("&"))
}

/// The actions that change the listing; it reloads after any of them.
#[derive(Clone, Copy)]
pub(crate) struct Actions {
    create: ServerAction<CreateFolder>,
    rename: ServerAction<RenameItem>,
    moves: ServerAction<MoveItems>,
    delete: ServerAction<DeleteItems>,
}

impl Actions {
    fn new() -> Self {
        Self {
            create: ServerAction::new(),
            rename: ServerAction::new(),
            moves: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    fn version(self) -> usize {
        self.create.version().get()
            + self.rename.version().get()
            + self.moves.version().get()
            + self.delete.version().get()
    }
}

/// The file browser page (signed in only). The controls that keep state (upload queue,
/// selection, dialogs, menu) live outside the parts that reload with the listing, so reloads
/// never dispose state they still use.
#[component]
pub fn FilesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let uploads = RwSignal::new(0usize);
    let actions = Actions::new();
    let selection = Selection::new();
    let opened = Opened::new();
    let menu = RowMenu::new();
    let view = Memo::new(move |_| {
        let q = query.get();
        View {
            sort: SortKey::parse(&q.get("sort").unwrap_or_default()),
            descending: q.get("order").as_deref() == Some("desc"),
            grid: q.get("view").as_deref() == Some("grid"),
            cursor: q.get("cursor").filter(|c| !c.is_empty()),
        }
    });
    let folder = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let data = Resource::new_blocking(
        move || (folder.get(), view.get(), uploads.get(), actions.version()),
        |(folder, view, _, _)| async move { list_folder(folder.parse()?, view.query()?).await },
    );
    let queue = Queue::new(Callback::new(move |_| uploads.update(|n| *n += 1)));
    let names = Signal::derive(move || match data.get() {
        Some(Ok(listing)) => entry_names(&listing),
        _ => Vec::new(),
    });
    let loaded = move || !matches!(data.get(), Some(Err(_)));
    // New pictures and videos get their thumbnails a moment after they arrive: while a file
    // of the page waits for its previews, the page looks again (every 1.5 s, 20 times at most).
    let looks = StoredValue::new(0u8);
    Effect::new(move |_| {
        let pending = matches!(data.get(), Some(Ok(listing)) if listing.previews_pending);
        if pending && looks.get_value() < 20 {
            looks.update_value(|n| *n += 1);
            set_timeout(
                move || uploads.update(|n| *n += 1),
                std::time::Duration::from_millis(1500),
            );
        }
    });
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let error = query.get().get("error");
                signed_in(data.await, move |listing| view! { <Header listing error/> })
            })}
        </Transition>
        <Show when=loaded>
            <Toolbar folder queue actions view/>
        </Show>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let view = view.get();
                data.await.ok().map(|listing| view! { <Listing listing view selection menu/> })
            })}
        </Transition>
        <RowMenuView menu selection opened/>
        <SelectionDialogs selection opened actions names folder/>
        // Room under the list, so the floating bar and tray never hide its last rows.
        <div class="h-28" aria-hidden="true"></div>
        <div class="pointer-events-none fixed inset-x-0 bottom-0 z-30 flex flex-col items-center gap-2 p-3 sm:items-end">
            <UploadTray queue base="/api/v1"/>
            <SelectionBar selection opened/>
        </div>
    }
}

/// Upload, New folder, Share folder, Request files; list or grid (and, in the grid, sorting).
#[component]
fn Toolbar(
    folder: Memo<String>,
    queue: Queue,
    actions: Actions,
    view: Memo<View>,
) -> impl IntoView {
    // What a link to "this folder" names: the folder shown, or the root.
    let link_folder = Signal::derive(move || {
        Some(folder.get()).filter(|f| !f.is_empty()).unwrap_or_else(|| "root".into())
    });
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-2" data-testid="toolbar">
            <Uploader folder_id=folder queue toolbar=true/>
            <Dialog id="new-folder-dialog" label="New folder" title="New folder" button_class=SECONDARY>
                <NewFolder parent=folder action=actions.create/>
            </Dialog>
            // Sharing the root would share everything: folders are shared one by one.
            <Show when=move || !folder.get().is_empty()>
                <Dialog id="share-folder-dialog" label="Share folder" title="Share this folder" button_class=SECONDARY wide=true>
                    <ShareForm folder=link_folder/>
                    <Buttons id="share-folder-dialog" label="Close"/>
                </Dialog>
            </Show>
            <Dialog id="request-dialog" label="Request files" title="Request files into this folder" button_class=SECONDARY wide=true>
                <RequestForm folder=link_folder/>
                <Buttons id="request-dialog" label="Close"/>
            </Dialog>
            {move || view! { <ViewChoice folder=folder.get() view=view.get()/> }}
        </div>
    }
}

/// How a folder path from `folder_choices` reads in a picker: the root is "Your files".
pub(crate) fn folder_label(path: &str) -> String {
    if path == "/" { "Your files (top level)".to_owned() } else { path.to_owned() }
}

/// `(key, name)` of every entry on the page, for the selection bar.
fn entry_names(listing: &FolderPage) -> Vec<(String, String)> {
    let folders = listing.folders.iter().map(|f| (format!("d:{}", f.id), f.name.clone()));
    let files = listing.files.iter().map(|f| (format!("f:{}", f.id), f.name.clone()));
    folders.chain(files).collect()
}

/// Title, breadcrumbs, quota and a message carried back from a form upload.
#[component]
fn Header(listing: FolderPage, error: Option<String>) -> impl IntoView {
    let folder = listing.folder.clone();
    let is_root = folder.parent_id.is_none();
    let title = if is_root { "Your files".to_owned() } else { folder.name.clone() };
    view! {
        <Title text=title.clone()/>
        {(!is_root).then(|| view! { <Breadcrumbs path=listing.path.clone() current=title.clone()/> })}
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-bold break-all">{title}</h1>
            <Quota usage=listing.usage/>
        </div>
        {error.map(|message| view! {
            <p role="alert" class="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">{message}</p>
        })}
    }
}

/// The column headers (list) or nothing (grid, sorted from the toolbar), the entries (or the
/// empty state) and the page links.
#[component]
fn Listing(listing: FolderPage, view: View, selection: Selection, menu: RowMenu) -> impl IntoView {
    let id = if listing.folder.parent_id.is_none() {
        String::new()
    } else {
        listing.folder.id.to_string()
    };
    let empty = listing.folders.is_empty() && listing.files.is_empty();
    let next = listing.next_cursor.clone();
    let keys: Vec<String> = entry_names(&listing).into_iter().map(|(key, _)| key).collect();
    view! {
        {(!view.grid && !empty).then(|| view! { <Columns folder=id.clone() view=view.clone() selection keys/> })}
        <div class="rounded-xl border-2 border-dashed border-slate-300 p-10 text-center dark:border-slate-700" class:hidden=!empty data-testid="empty-folder">
            <svg class="mx-auto h-12 w-12 text-slate-400" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5" aria-hidden="true">
                <path d=FOLDER_DRAWING/><path d="M12 11v5M9.5 13.5 12 11l2.5 2.5"/>
            </svg>
            <p class="mt-3 font-medium">"This folder is empty."</p>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Drop files anywhere on the page, or use Upload or New folder above."</p>
        </div>
        <Entries listing=listing.clone() grid=view.grid selection menu/>
        <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
            {view.cursor.is_some().then(|| view! {
                <a class="text-sky-700 hover:underline dark:text-sky-400" href=href(&id, view.sort, view.descending, view.grid, None)>"← First page"</a>
            })}
            <span class="text-slate-600 dark:text-slate-400">{words::count(listing.total, "item", "items")}</span>
            {next.map(|cursor| view! {
                <a class="text-sky-700 hover:underline dark:text-sky-400" href=href(&id, view.sort, view.descending, view.grid, Some(&cursor))>"Next page →"</a>
            })}
        </nav>
    }
}

/// A sort link: choosing the current key again flips the order; `aria-sort` says which.
fn sort_link(
    folder: &str,
    view: &View,
    sort: SortKey,
    class: &'static str,
) -> impl IntoView + use<> {
    let current = view.sort == sort;
    let descending = if current { !view.descending } else { sort != SortKey::Name };
    let arrow = if current { if view.descending { " ↓" } else { " ↑" } } else { "" };
    let label = match sort {
        SortKey::Name => "Name",
        SortKey::Size => "Size",
        SortKey::Date => "Modified",
    };
    let state = match (current, view.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    view! {
        <a class=class href=href(folder, sort, descending, view.grid, None) aria-current=current.to_string() data-sort=state
            title=format!("Sort by {}", label.to_lowercase())>{label}{arrow}</a>
    }
}

/// The list's column headers: select every entry of the page, and sort by each column.
#[component]
fn Columns(folder: String, view: View, selection: Selection, keys: Vec<String>) -> impl IntoView {
    let all = StoredValue::new(keys);
    let every = move || {
        all.with_value(|keys| !keys.is_empty() && keys.iter().all(|k| selection.contains(k)))
    };
    let toggle = move |_| {
        if every() { selection.clear() } else { selection.set(all.get_value()) }
    };
    view! {
        <div class="entry-head" data-testid="columns">
            <input type="checkbox" class="h-4 w-4 accent-sky-700" aria-label="Select everything on this page"
                prop:checked=every on:change=toggle/>
            <span class="w-6 shrink-0"></span>
            <span class="min-w-0 flex-1">{sort_link(&folder, &view, SortKey::Name, "")}</span>
            <span class="hidden w-24 text-right sm:block">{sort_link(&folder, &view, SortKey::Size, "")}</span>
            <span class="hidden w-40 shrink-0 text-right md:block">{sort_link(&folder, &view, SortKey::Date, "")}</span>
            <span class="w-8 shrink-0"></span>
        </div>
    }
}

#[component]
fn Breadcrumbs(path: Vec<FolderDto>, current: String) -> impl IntoView {
    let link = "text-sky-700 hover:underline dark:text-sky-400";
    view! {
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <ol class="flex flex-wrap items-center gap-1 text-slate-600 dark:text-slate-400">
                <li><a class=link href="/files">"Files"</a></li>
                {path.into_iter().filter(|f| f.parent_id.is_some()).map(|f| view! {
                    <li class="before:mr-1 before:content-['/']"><a class=link href=format!("/files/{}", f.id)>{f.name}</a></li>
                }).collect_view()}
                <li class="before:mr-1 before:content-['/']" aria-current="page">{current}</li>
            </ol>
        </nav>
    }
}

#[component]
fn Quota(usage: Usage) -> impl IntoView {
    let text = match usage.quota {
        Some(quota) => format!("{} of {} used", human_size(usage.used), human_size(quota)),
        None => format!("{} used", human_size(usage.used)),
    };
    #[expect(clippy::cast_precision_loss, reason = "a bar's width")]
    let fraction = usage.quota.map(|q| if q == 0 { 1.0 } else { usage.used as f64 / q as f64 });
    view! {
        <div class="w-full sm:w-64" data-testid="quota">
            <p class="text-sm text-slate-600 dark:text-slate-400">{text}</p>
            {fraction.map(|f| view! { <Bar fraction=f/> })}
        </div>
    }
}

#[component]
fn NewFolder(parent: Memo<String>, action: ServerAction<CreateFolder>) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    close_on_success("new-folder-dialog", action.value());
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(())))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
    view! {
        <ActionForm action node_ref=form attr:class="space-y-2">
            <input type="hidden" name="parent_id" prop:value=move || parent.get() value=parent.get_untracked()/>
            <FormError outcome=action.value() every=true/>
            <label for="new-folder" class="block text-sm font-medium">"New folder name"</label>
            <input id="new-folder" name="name" required autocomplete="off" class="field"/>
            <Buttons id="new-folder-dialog"><button type="submit" class=PRIMARY>"Create folder"</button></Buttons>
        </ActionForm>
    }
}

/// List or grid; in the grid (which has no column headers), the sort links too.
#[component]
fn ViewChoice(folder: String, view: View) -> impl IntoView {
    let option = "view-option";
    view! {
        <div class="ml-auto flex flex-wrap items-center gap-1 text-sm">
            {view.grid.then(|| view! {
                <span class="mr-1 text-slate-600 dark:text-slate-400">"Sort:"</span>
                {[SortKey::Name, SortKey::Size, SortKey::Date].map(|sort| sort_link(&folder, &view, sort, option)).collect_view()}
                <span class="mx-1 text-slate-300 dark:text-slate-700" aria-hidden="true">"|"</span>
            })}
            <a class=option aria-current=(!view.grid).to_string() href=href(&folder, view.sort, view.descending, false, None)>"List"</a>
            <a class=option aria-current=view.grid.to_string() href=href(&folder, view.sort, view.descending, true, None)>"Grid"</a>
        </div>
    }
}
