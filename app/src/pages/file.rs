//! `/file/{id}`: one file — Download and Share first, the rest (rename, move, description,
//! delete) in a ⋯ menu of dialogs; the preview (images, video, audio, PDF; text plain, as code
//! with line numbers, Markdown rendered, CSV as a table), previous and next in its folder
//! (← →), the links that show it and its details. Every form works without JavaScript.

use domain::files::{FileDetail, Preview, TextView, human_size};
use domain::media::MediaDto;
use domain::shares::ShareDto;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::files::{
    DeleteItems, DescribeFile, FilePageData, MoveItems, RenameItem, file_page,
};
use crate::components::dialog::{Buttons, Dialog, Modal, close_on_success, show};
use crate::components::dropdown::Dropdown;
use crate::components::form::{DANGER_SOLID, FormError, SECONDARY, successes};
use crate::components::guard::signed_in;
use crate::components::words::Time;
use crate::pages::shares::{Facts, PRIMARY, ShareForm, StateBadge};

/// The file page (signed in only).
#[component]
pub fn FilePage() -> impl IntoView {
    let params = use_params_map();
    let rename = ServerAction::<RenameItem>::new();
    let moves = ServerAction::<MoveItems>::new();
    let describe = ServerAction::<DescribeFile>::new();
    let delete = ServerAction::<DeleteItems>::new();
    let version =
        successes(vec![rename.value().into(), moves.value().into(), describe.value().into()]);
    let data = Resource::new_blocking(
        move || (params.get().get("id").unwrap_or_default(), version.get()),
        |(id, _)| async move { file_page(id.parse()?).await },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(data.await, move |page| view! { <File page rename moves describe delete/> })
            })}
        </Transition>
    }
}

#[component]
fn File(
    page: FilePageData,
    rename: ServerAction<RenameItem>,
    moves: ServerAction<MoveItems>,
    describe: ServerAction<DescribeFile>,
    delete: ServerAction<DeleteItems>,
) -> impl IntoView {
    let FilePageData { detail, text, neighbours, folders, links } = page;
    let FileDetail { file, path, preview } = detail;
    let content = format!("/api/v1/files/{}/content", file.id);
    let folder_id = file.folder_id;
    // Each dialog's children own what they show.
    let [share_id, rename_id, move_id, describe_id, delete_id] =
        [(); 5].map(|()| file.id.to_string());
    let current_name = file.name.clone();
    let description = file.description.clone().unwrap_or_default();
    let delete_note = format!(
        "“{}” ({}) will be deleted for good, and links that name only it stop working. This cannot be undone.",
        file.name,
        human_size(file.size)
    );
    let folder_href = match path.last() {
        Some(folder) if folder.parent_id.is_some() => format!("/files/{}", folder.id),
        _ => "/files".to_owned(),
    };
    let term = "text-slate-600 dark:text-slate-400";
    close_on_success(RENAME, rename.value());
    close_on_success(MOVE, moves.value());
    close_on_success(DESCRIBE, describe.value());
    view! {
        <Title text=file.name.clone()/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <ol class="flex flex-wrap items-center gap-1 text-slate-600 dark:text-slate-400">
                <li><a class="text-sky-700 hover:underline dark:text-sky-400" href="/files">"Files"</a></li>
                {path.iter().filter(|f| f.parent_id.is_some()).map(|f| view! {
                    <li class="before:mr-1 before:content-['/']"><a class="text-sky-700 hover:underline dark:text-sky-400" href=format!("/files/{}", f.id)>{f.name.clone()}</a></li>
                }).collect_view()}
            </ol>
        </nav>
        <div class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <h1 class="min-w-0 text-2xl font-bold break-all">{file.name.clone()}</h1>
            <div class="flex items-center gap-2" data-testid="file-actions">
                <a class=PRIMARY href=format!("{content}?download=1") download="">"Download"</a>
                <Dialog id="share-file" label="Share" title="Share this file" button_class=SECONDARY wide=true>
                    <ShareForm files=Signal::stored(share_id)/>
                    <Buttons id="share-file" label="Close"/>
                </Dialog>
                <MoreMenu/>
            </div>
        </div>
        {file.description.clone().filter(|d| !d.is_empty()).map(|d| view! {
            <p class="mb-4 whitespace-pre-wrap text-slate-700 dark:text-slate-300" data-testid="description">{d}</p>
        })}
        <Neighbours neighbours/>
        <PreviewView preview content=content.clone() text name=file.name.clone() media=file.media.clone()/>
        <div class="mt-6 grid gap-6 md:grid-cols-3">
            <section class="md:col-span-2" aria-labelledby="links-title">
                <h2 id="links-title" class="mb-2 text-lg font-semibold">"Links"</h2>
                <Links links/>
            </section>
            <section aria-labelledby="details-title">
                <h2 id="details-title" class="mb-2 text-lg font-semibold">"Details"</h2>
                <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                    <dt class=term>"Size"</dt><dd>{format!("{} ({} bytes)", human_size(file.size), file.size)}</dd>
                    <dt class=term>"Type"</dt><dd class="break-all">{file.content_type.clone()}</dd>
                    <dt class=term>"Uploaded"</dt><dd><Time at=file.created_at.clone()/></dd>
                    <dt class=term>"SHA-256"</dt><dd class="break-all font-mono text-xs">{file.sha256.clone()}</dd>
                    {file.media.clone().map(|media| view! { <MediaDetails media/> })}
                </dl>
            </section>
        </div>
        <Modal id=RENAME title="Rename">
            <ActionForm action=rename attr:class="space-y-2">
                <input type="hidden" name="kind" value="file"/>
                <input type="hidden" name="id" value=rename_id/>
                <FormError outcome=rename.value() every=true/>
                <label for="rename" class="block text-sm font-medium">"New name"</label>
                <input id="rename" name="name" required value=current_name class="field"/>
                <Buttons id=RENAME><button type="submit" class=PRIMARY>"Rename"</button></Buttons>
            </ActionForm>
        </Modal>
        <Modal id=MOVE title="Move">
            <ActionForm action=moves attr:class="space-y-2">
                <input type="hidden" name="files" value=move_id/>
                <input type="hidden" name="folders" value=""/>
                <FormError outcome=moves.value() every=true/>
                <label for="move" class="block text-sm font-medium">"Into folder"</label>
                <select id="move" name="target" class="field">
                    {folders.into_iter().map(|(value, label)| {
                        let here = value == folder_id;
                        view! { <option value=value.to_string() selected=here>{crate::pages::files::folder_label(&label)}</option> }
                    }).collect_view()}
                </select>
                <Buttons id=MOVE><button type="submit" class=PRIMARY>"Move"</button></Buttons>
            </ActionForm>
        </Modal>
        <Modal id=DESCRIBE title="Description">
            <ActionForm action=describe attr:class="space-y-2">
                <input type="hidden" name="id" value=describe_id/>
                <FormError outcome=describe.value() every=true/>
                <label for="description" class="block text-sm font-medium">"A note for yourself (empty: none)"</label>
                <textarea id="description" name="description" rows="4" class="field">{description}</textarea>
                <Buttons id=DESCRIBE><button type="submit" class=PRIMARY>"Save"</button></Buttons>
            </ActionForm>
        </Modal>
        <Modal id=DELETE title="Delete this file?">
            <ActionForm action=delete>
                <input type="hidden" name="files" value=delete_id/>
                <input type="hidden" name="folders" value=""/>
                <input type="hidden" name="next" value=folder_href/>
                <FormError outcome=delete.value() every=true/>
                <p class="text-sm text-slate-700 dark:text-slate-300">{delete_note}</p>
                <Buttons id=DELETE><button type="submit" class=DANGER_SOLID>"Delete file"</button></Buttons>
            </ActionForm>
        </Modal>
    }
}

const RENAME: &str = "rename-file";
const MOVE: &str = "move-file";
const DESCRIBE: &str = "describe-file";
const DELETE: &str = "delete-file";

/// The rest of the file's actions, in a menu whose entries open their dialogs (by the
/// browser's invoker commands, so also without JavaScript).
#[component]
fn MoreMenu() -> impl IntoView {
    let item = "block w-full rounded-md px-3 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-800";
    let entry = move |id: &'static str, label: &'static str, class: &'static str| {
        view! {
            <button type="button" class=format!("{item} {class}") commandfor=id command="show-modal"
                on:click=move |_| show(id)>{label}</button>
        }
    };
    view! {
        <Dropdown label="More actions" summary_class=SECONDARY.to_owned()
            panel_class="right-0 mt-1 w-52 rounded-lg border border-slate-200 bg-white p-1 shadow-xl dark:border-slate-700 dark:bg-slate-900"
            button=ViewFn::from(|| view! { <span aria-hidden="true">"⋯"</span> })>
            {entry(RENAME, "Rename…", "")}
            {entry(MOVE, "Move…", "")}
            {entry(DESCRIBE, "Description…", "")}
            {entry(DELETE, "Delete…", "text-red-700 dark:text-red-400")}
        </Dropdown>
    }
}

/// The owner's links that show this file, with where each stands.
#[component]
fn Links(links: Vec<ShareDto>) -> impl IntoView {
    if links.is_empty() {
        return view! {
            <p class="text-sm text-slate-600 dark:text-slate-400" data-testid="file-links">"No link shows this file yet. Share makes one."</p>
        }
        .into_any();
    }
    view! {
        <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="file-links">
            {links.into_iter().map(|share| {
                let through = share.folder_id.is_some().then_some(" (its folder)");
                view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 px-3 py-2 text-sm">
                        <span class="min-w-0">
                            <a class="font-medium text-sky-700 hover:underline dark:text-sky-400" href=share.url.clone()>{share.title.clone()}</a>
                            {through}
                            <span class="block text-slate-600 dark:text-slate-400"><Facts share=share.clone()/></span>
                        </span>
                        <StateBadge share/>
                    </li>
                }
            }).collect_view()}
        </ul>
        <p class="mt-2 text-sm"><a class="text-sky-700 hover:underline dark:text-sky-400" href="/shares">"Change or revoke links on the Links page"</a></p>
    }
    .into_any()
}

/// The inline preview. The bytes come from the download route, which serves only passive types
/// inline and sandboxes everything (CSP `sandbox`, `nosniff`).
#[component]
fn PreviewView(
    preview: Preview,
    content: String,
    text: Option<TextView>,
    name: String,
    media: Option<MediaDto>,
) -> impl IntoView {
    let frame = "w-full overflow-hidden rounded-xl border border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900";
    // The large thumbnail stands for the picture (the original may be many megabytes) and is
    // a video's poster; the original is a click away.
    let large = media.filter(|media| media.thumbnail).map(|media| {
        let thumbnail = content.replace("/content", "/thumbnail?size=large");
        (thumbnail, media.placeholder.map(|p| format!("background-image:url({p});background-size:contain;background-repeat:no-repeat;background-position:center")))
    });
    match (preview, large) {
        (Preview::Image, Some((thumbnail, backdrop))) => view! {
            <div class=format!("{frame} flex justify-center p-2")>
                <a href=content target="_blank" rel="noopener" title="Open the original">
                    <img src=thumbnail alt=name style=backdrop class="max-h-[70vh] max-w-full object-contain" data-testid="large-preview"/>
                </a>
            </div>
        }.into_any(),
        (Preview::Video, Some((poster, _))) => view! { <video controls preload="metadata" src=content poster=poster class=format!("{frame} max-h-[70vh]")></video> }.into_any(),
        (Preview::Audio, Some((cover, _))) => view! {
            <img src=cover alt="" class="mb-2 max-h-64 rounded-xl"/>
            <audio controls preload="metadata" src=content class="w-full"></audio>
        }.into_any(),
        (preview, _) => match preview {
        Preview::Image => view! {
            <div class=format!("{frame} flex justify-center p-2")>
                <img src=content alt=name class="max-h-[70vh] max-w-full object-contain"/>
            </div>
        }.into_any(),
        Preview::Video => view! { <video controls preload="metadata" src=content class=format!("{frame} max-h-[70vh]")></video> }.into_any(),
        Preview::Audio => view! { <audio controls preload="metadata" src=content class="w-full"></audio> }.into_any(),
        Preview::Pdf => view! {
            <iframe src=content.clone() title=format!("Preview of {name}") class=format!("{frame} h-[75vh]")></iframe>
            <p class="mt-1 text-sm"><a class="text-sky-700 hover:underline dark:text-sky-400" href=content.clone() target="_blank" rel="noopener">"Open the PDF in a new tab"</a></p>
        }.into_any(),
        Preview::Text => view! { <TextPreview text=text.unwrap_or(TextView::Plain(String::new())) frame/> }.into_any(),
        Preview::None => view! {
            <div class=format!("{frame} p-8 text-center text-sm text-slate-600 dark:text-slate-400")>
                "No preview for this type of file. Download it to open it."
            </div>
        }.into_any(),
        },
    }
}

/// Previous and next in the folder, also by the ← and → keys (outside text fields and
/// players).
#[component]
fn Neighbours(neighbours: domain::files::Neighbours) -> impl IntoView {
    let href = |id: domain::ids::FileId| format!("/file/{id}");
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        let (previous, next) = (
            neighbours.previous.as_ref().map(|(id, _)| href(*id)),
            neighbours.next.as_ref().map(|(id, _)| href(*id)),
        );
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let plain = !(ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.shift_key());
            if !plain || crate::components::quick_search::typing_in(&ev) {
                return;
            }
            let to = match ev.key().as_str() {
                "ArrowLeft" => previous.as_ref(),
                "ArrowRight" => next.as_ref(),
                _ => None,
            };
            if let Some(to) = to {
                ev.prevent_default();
                navigate(to, Default::default());
            }
        });
        on_cleanup(move || keys.remove());
    }
    let link = "flex min-w-0 items-center gap-1 rounded-md px-2 py-1 text-sm text-sky-700 hover:bg-slate-100 dark:text-sky-400 dark:hover:bg-slate-800";
    let domain::files::Neighbours { previous, next } = neighbours;
    (previous.is_some() || next.is_some()).then(|| view! {
        <nav aria-label="Files in this folder" class="mb-3 flex items-center justify-between gap-2">
            {match previous {
                Some((id, name)) => view! {
                    <a href=href(id) rel="prev" aria-keyshortcuts="ArrowLeft" class=link title="Previous file (←)">
                        <span aria-hidden="true">"←"</span><span class="sr-only">"Previous: "</span><span class="truncate">{name}</span>
                    </a>
                }.into_any(),
                None => view! { <span></span> }.into_any(),
            }}
            {next.map(|(id, name)| view! {
                <a href=href(id) rel="next" aria-keyshortcuts="ArrowRight" class=link title="Next file (→)">
                    <span class="sr-only">"Next: "</span><span class="truncate">{name}</span><span aria-hidden="true">"→"</span>
                </a>
            })}
        </nav>
    })
}

/// A text file's start: plain, code with line numbers, rendered Markdown, or a table.
#[component]
fn TextPreview(text: TextView, frame: &'static str) -> impl IntoView {
    match text {
        TextView::Plain(text) => view! {
            <pre class=format!("{frame} max-h-[70vh] overflow-auto p-4 text-sm whitespace-pre-wrap break-words") data-testid="text-preview">{text}</pre>
        }.into_any(),
        TextView::Code(text) => {
            let lines = text.lines().count().max(1);
            let numbers = (1..=lines).map(|n| n.to_string()).collect::<Vec<_>>().join("\n");
            view! {
                <div class=format!("{frame} flex max-h-[70vh] overflow-auto text-sm") data-testid="code-preview">
                    <pre aria-hidden="true" class="sticky left-0 select-none border-r border-slate-200 bg-slate-100 px-3 py-4 text-right text-slate-600 dark:border-slate-800 dark:bg-slate-950 dark:text-slate-400">{numbers}</pre>
                    <pre class="flex-1 px-4 py-4"><code>{text}</code></pre>
                </div>
            }.into_any()
        }
        // Rendered on the server from the owner's text, with nothing active in it
        // (`domain::files::markdown`).
        TextView::Markdown(html) => view! {
            <article class=format!("{frame} markdown max-h-[70vh] overflow-auto p-6") inner_html=html data-testid="markdown-preview"></article>
        }.into_any(),
        TextView::Table { rows, truncated } => {
            let mut rows = rows.into_iter();
            let header = rows.next().unwrap_or_default();
            view! {
                <div class=format!("{frame} max-h-[70vh] overflow-auto") data-testid="table-preview">
                    <table class="min-w-full text-left text-sm">
                        <thead class="sticky top-0 bg-slate-100 dark:bg-slate-800">
                            <tr>{header.into_iter().map(|cell| view! { <th scope="col" class="whitespace-nowrap px-3 py-2 font-semibold">{cell}</th> }).collect_view()}</tr>
                        </thead>
                        <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                            {rows.map(|row| view! {
                                <tr>{row.into_iter().map(|cell| view! { <td class="px-3 py-1.5 align-top">{cell}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {truncated.then(|| view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"The start of the file is shown; download it for all of it."</p>
                })}
            }.into_any()
        }
    }
}

/// What previews found: size, length, camera and date — or why there is no preview.
#[component]
fn MediaDetails(media: MediaDto) -> impl IntoView {
    let term = "text-slate-500 dark:text-slate-400";
    let dimensions = media.width.zip(media.height).map(|(w, h)| format!("{w} × {h} pixels"));
    let duration = media.duration_ms.map(|ms| {
        let secs = ms / 1000;
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    });
    let taken = media.taken_at.map(|at| at.get(..16).unwrap_or(&at).replace('T', " "));
    view! {
        {dimensions.map(|d| view! { <dt class=term>"Dimensions"</dt><dd>{d}</dd> })}
        {duration.map(|d| view! { <dt class=term>"Duration"</dt><dd>{d}</dd> })}
        {taken.map(|t| view! { <dt class=term>"Taken"</dt><dd>{t}</dd> })}
        {media.camera.map(|c| view! { <dt class=term>"Camera"</dt><dd>{c}</dd> })}
        {media.error.map(|e| view! { <dt class=term>"Preview"</dt><dd data-testid="no-preview">{format!("None: {e}")}</dd> })}
    }
}
