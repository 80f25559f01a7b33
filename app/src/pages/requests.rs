//! File requests, the owner's side: the form that makes one for a folder, and the rules' fields
//! it shares with the edit form on `/shares`. Visitors' page is in `share`.

use domain::AppError;
use domain::files::human_size;
use domain::shares::RequestDto;
use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::shares::CreateRequest;
use crate::components::form::FormError;
use crate::pages::shares::{LinkBox, LinkSettings, PRIMARY};

/// The form that makes a file request into `folder`.
#[component]
pub fn RequestForm(#[prop(into)] folder: Signal<String>) -> impl IntoView {
    let create = ServerAction::<CreateRequest>::new();
    let outcome = Signal::derive(move || create.value().get().map(|r| r.map(drop)));
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <ActionForm action=create attr:class="space-y-3" attr:data-testid="request-form">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "Anyone with the link can upload files into this folder (they count against your quota). They see only what they sent, never the folder."
            </p>
            <input type="hidden" name="folder_id" prop:value=move || folder.get()/>
            <FormError outcome/>
            <LinkSettings outcome expires="7d" label=String::new() downloads=None/>
            <RuleFields outcome request=RequestDto::default()/>
            <div>
                <label for="request-password" class="mb-1 block text-sm font-medium">"Password " <span class="font-normal text-slate-500 dark:text-slate-400">"(optional)"</span></label>
                <input id="request-password" name="password" type="password" autocomplete="new-password" class="field"/>
            </div>
            <button type="submit" class=PRIMARY>"Create request link"</button>
            {move || created().map(|share| view! { <LinkBox url=share.url/> })}
        </ActionForm>
    }
}

/// A file request's rules: largest file, total, number of files, file types.
#[component]
pub fn RuleFields(
    outcome: Signal<Option<Result<(), AppError>>>,
    request: RequestDto,
) -> impl IntoView {
    let error = move |field: &'static str| {
        move || outcome.get().and_then(Result::err).and_then(|e| e.field_message(field))
    };
    let size = |bytes: Option<u64>| bytes.map(human_size).unwrap_or_default();
    view! {
        <div class="grid gap-3 sm:grid-cols-3">
            <label class="block text-sm font-medium">"Largest file " <span class="font-normal text-slate-500 dark:text-slate-400">"(e.g. 100 MB)"</span>
                <input name="max_file_size" value=size(request.max_file_size) class="field"/>
            </label>
            <label class="block text-sm font-medium">"In all " <span class="font-normal text-slate-500 dark:text-slate-400">"(e.g. 2 GB)"</span>
                <input name="max_total_bytes" value=size(request.max_total_bytes) class="field"/>
            </label>
            <label class="block text-sm font-medium">"Number of files"
                <input name="max_files" type="number" min="1" value=request.max_files.map(|n| n.to_string()).unwrap_or_default() class="field"/>
            </label>
        </div>
        <p class="text-sm text-red-700 dark:text-red-400">{error("max_file_size")}{error("max_total_bytes")}{error("max_files")}</p>
        <label class="block text-sm font-medium">"File types " <span class="font-normal text-slate-500 dark:text-slate-400">"(empty: any; e.g. .pdf, .docx, image/*)"</span>
            <input name="allowed_types" value=request.allowed_types.join(", ") class="field"/>
        </label>
        <p class="text-sm text-red-700 dark:text-red-400">{error("allowed_types")}</p>
    }
}
