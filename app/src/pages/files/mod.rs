//! `/files` and `/files/{folder}`: the file browser. Breadcrumbs, quota, upload, new folder,
//! sort, list or grid, pages of 100, and a selection bar (rename, move, download, delete).
//! Everything but multi-select works without JavaScript.

mod entries;
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
use crate::components::form::FormError;
use crate::components::guard::signed_in;
use crate::components::words;
use crate::pages::requests::RequestForm;
use crate::pages::shares::ShareForm;
use entries::Entries;
pub(crate) use entries::FOLDER_DRAWING;
use selection::{Selection, SelectionBar};
use upload::{Bar, Queue, Uploader};

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
/// selection, forms) live outside the parts that reload with the listing, so reloads never
/// dispose state they still use.
#[component]
pub fn FilesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let uploads = RwSignal::new(0usize);
    let actions = Actions::new();
    let selection = Selection::new();
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
    // What a link to "this folder" names: the folder shown, or the root.
    let link_folder = Signal::derive(move || {
        Some(folder.get()).filter(|f| !f.is_empty()).unwrap_or_else(|| "root".into())
    });
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
            <div class="mb-4 grid gap-4">
                <Uploader folder_id=folder queue/>
                <NewFolder parent=folder action=actions.create/>
                // Sharing the root would share everything: folders are shared one by one.
                <Show when=move || !folder.get().is_empty()>
                    <details class="rounded-xl border border-slate-200 p-4 dark:border-slate-800">
                        <summary class="cursor-pointer text-sm font-medium text-sky-700 dark:text-sky-400">"Share this folder"</summary>
                        <div class="mt-3 max-w-xl">
                            <ShareForm folder=link_folder/>
                        </div>
                    </details>
                </Show>
                <details class="rounded-xl border border-slate-200 p-4 dark:border-slate-800">
                    <summary class="cursor-pointer text-sm font-medium text-sky-700 dark:text-sky-400">"Request files into this folder"</summary>
                    <div class="mt-3 max-w-xl">
                        <RequestForm folder=link_folder/>
                    </div>
                </details>
                <FormError outcome=actions.rename.value()/>
                <FormError outcome=actions.moves.value()/>
                <FormError outcome=actions.delete.value()/>
                <SelectionBar selection actions names/>
            </div>
        </Show>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let view = view.get();
                data.await.ok().map(|listing| view! { <Listing listing view selection/> })
            })}
        </Transition>
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

/// Sorting, the entries (or the empty state) and the page links.
#[component]
fn Listing(listing: FolderPage, view: View, selection: Selection) -> impl IntoView {
    let id = if listing.folder.parent_id.is_none() {
        String::new()
    } else {
        listing.folder.id.to_string()
    };
    let empty = listing.folders.is_empty() && listing.files.is_empty();
    let next = listing.next_cursor.clone();
    view! {
        <Sorting folder=id.clone() view=view.clone()/>
        <div class="rounded-xl border border-slate-200 p-10 text-center dark:border-slate-800" class:hidden=!empty data-testid="empty-folder">
            <p class="font-medium">"This folder is empty."</p>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Drop files here, choose some above, or make a folder."</p>
        </div>
        <Entries listing=listing.clone() grid=view.grid selection/>
        <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
            {view.cursor.is_some().then(|| view! {
                <a class="text-sky-700 hover:underline dark:text-sky-400" href=href(&id, view.sort, view.descending, view.grid, None)>"← First page"</a>
            })}
            <span class="text-slate-500 dark:text-slate-400">{words::count(listing.total, "item", "items")}</span>
            {next.map(|cursor| view! {
                <a class="text-sky-700 hover:underline dark:text-sky-400" href=href(&id, view.sort, view.descending, view.grid, Some(&cursor))>"Next page →"</a>
            })}
        </nav>
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
    view! {
        <ActionForm action attr:class="flex flex-wrap items-center gap-2">
            <input type="hidden" name="parent_id" prop:value=move || parent.get() value=parent.get_untracked()/>
            <label for="new-folder" class="sr-only">"New folder name"</label>
            <input id="new-folder" name="name" required placeholder="New folder name"
                class="w-48 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900"/>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                "Create folder"
            </button>
            <FormError outcome=action.value()/>
        </ActionForm>
    }
}

#[component]
fn Sorting(folder: String, view: View) -> impl IntoView {
    let option = "view-option";
    let sorts = [SortKey::Name, SortKey::Size, SortKey::Date].map(|sort| {
        let current = view.sort == sort;
        // Choosing the current key again flips the order.
        let descending = if current { !view.descending } else { sort != SortKey::Name };
        let arrow = if current { if view.descending { " ↓" } else { " ↑" } } else { "" };
        let label = match sort {
            SortKey::Name => "Name",
            SortKey::Size => "Size",
            SortKey::Date => "Date",
        };
        view! { <a class=option aria-current=current.to_string() href=href(&folder, sort, descending, view.grid, None)>{label}{arrow}</a> }
    });
    view! {
        <div class="mb-3 flex flex-wrap items-center justify-end gap-1 text-sm">
            <span class="mr-1 text-slate-500 dark:text-slate-400">"Sort:"</span>
            {sorts.into_iter().collect_view()}
            <span class="mx-2 text-slate-300 dark:text-slate-700">"|"</span>
            <a class=option aria-current=(!view.grid).to_string() href=href(&folder, view.sort, view.descending, false, None)>"List"</a>
            <a class=option aria-current=view.grid.to_string() href=href(&folder, view.sort, view.descending, true, None)>"Grid"</a>
        </div>
    }
}
