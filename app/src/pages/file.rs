//! `/file/{id}`: one file — preview (images, video, audio, PDF; text plain, as code with line
//! numbers, Markdown rendered, CSV as a table), previous and next in its folder (← →),
//! details, download, rename, move, description, delete. Every form works without JavaScript.

use domain::files::{FileDetail, Preview, TextView, human_size};
use domain::media::MediaDto;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::files::{
    DeleteItems, DescribeFile, FilePageData, MoveItems, RenameItem, file_page,
};
use crate::components::form::{Card, FormError};
use crate::components::guard::signed_in;
use crate::components::words::Time;
use crate::pages::shares::ShareCard;

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-slate-700 dark:hover:bg-slate-800";

/// The file page (signed in only).
#[component]
pub fn FilePage() -> impl IntoView {
    let params = use_params_map();
    let rename = ServerAction::<RenameItem>::new();
    let moves = ServerAction::<MoveItems>::new();
    let describe = ServerAction::<DescribeFile>::new();
    let delete = ServerAction::<DeleteItems>::new();
    let version = move || rename.version().get() + moves.version().get() + describe.version().get();
    let data = Resource::new_blocking(
        move || (params.get().get("id").unwrap_or_default(), version()),
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
    let FilePageData { detail, text, neighbours, folders } = page;
    let FileDetail { file, path, preview } = detail;
    let content = format!("/api/v1/files/{}/content", file.id);
    let folder_id = file.folder_id;
    let [describe_id, rename_id, move_id, delete_id, share_id] =
        [(); 5].map(|()| file.id.to_string());
    let folder_href = match path.last() {
        Some(folder) if folder.parent_id.is_some() => format!("/files/{}", folder.id),
        _ => "/files".to_owned(),
    };
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
        <div class="mb-6 flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-bold break-all">{file.name.clone()}</h1>
            <a class="rounded-md bg-sky-700 px-4 py-2 font-medium text-white hover:bg-sky-800" href=format!("{content}?download=1") download="">"Download"</a>
        </div>
        <Neighbours neighbours/>
        <PreviewView preview content=content.clone() text name=file.name.clone() media=file.media.clone()/>
        <div class="mt-6 grid gap-6 md:grid-cols-2">
            <Card title="Details">
                <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                    <dt class="text-slate-500 dark:text-slate-400">"Size"</dt><dd>{format!("{} ({} bytes)", human_size(file.size), file.size)}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Type"</dt><dd>{file.content_type.clone()}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Uploaded"</dt><dd><Time at=file.created_at.clone()/></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"SHA-256"</dt><dd class="break-all font-mono text-xs">{file.sha256.clone()}</dd>
                    {file.media.clone().map(|media| view! { <MediaDetails media/> })}
                </dl>
            </Card>
            <Card title="Description">
                <ActionForm action=describe attr:class="space-y-3">
                    <input type="hidden" name="id" value=describe_id/>
                    <FormError outcome=describe.value() success="Saved."/>
                    <label for="description" class="sr-only">"Description"</label>
                    <textarea id="description" name="description" rows="3" class="field" placeholder="A note for yourself (optional)">{file.description.clone().unwrap_or_default()}</textarea>
                    <button type="submit" class=BUTTON>"Save description"</button>
                </ActionForm>
            </Card>
            <Card title="Rename">
                <ActionForm action=rename attr:class="space-y-3">
                    <input type="hidden" name="kind" value="file"/>
                    <input type="hidden" name="id" value=rename_id/>
                    <FormError outcome=rename.value() success="Renamed."/>
                    <label for="rename" class="sr-only">"New name"</label>
                    <input id="rename" name="name" required value=file.name.clone() class="field"/>
                    <button type="submit" class=BUTTON>"Rename"</button>
                </ActionForm>
            </Card>
            <Card title="Move">
                <ActionForm action=moves attr:class="space-y-3">
                    <input type="hidden" name="files" value=move_id/>
                    <input type="hidden" name="folders" value=""/>
                    <FormError outcome=moves.value() success="Moved."/>
                    <label for="move" class="sr-only">"Folder"</label>
                    <select id="move" name="target" class="field">
                        {folders.into_iter().map(|(value, label)| {
                            let here = value == folder_id;
                            view! { <option value=value.to_string() selected=here>{crate::pages::files::folder_label(&label)}</option> }
                        }).collect_view()}
                    </select>
                    <button type="submit" class=BUTTON>"Move"</button>
                </ActionForm>
            </Card>
            <ShareCard files=share_id/>
            <Card title="Delete">
                <ActionForm action=delete attr:class="space-y-3">
                    <input type="hidden" name="files" value=delete_id/>
                    <input type="hidden" name="folders" value=""/>
                    <input type="hidden" name="next" value=folder_href/>
                    <FormError outcome=delete.value()/>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" required class="h-4 w-4 accent-red-700"/>
                        "Yes, delete this file permanently"
                    </label>
                    <button type="submit" class="rounded-md bg-red-700 px-3 py-2 text-sm font-medium text-white hover:bg-red-800">"Delete file"</button>
                </ActionForm>
            </Card>
        </div>
    }
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
