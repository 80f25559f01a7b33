//! A modal dialog: the native `<dialog>`, opened by its button with the browser's invoker
//! commands (`commandfor`/`command`, no JavaScript needed) or, hydrated, by a click handler for
//! browsers without them. The browser makes the rest of the page inert, moves focus in, closes
//! it on Escape and gives focus back to the button; the heading names it for screen readers.

use leptos::prelude::*;

/// A button labelled `label` that opens a dialog titled `title` holding `children` and a
/// Cancel button. `id` must be unique on the page.
#[component]
pub fn Dialog(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] title: String,
    #[prop(default = "")] button_class: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let open = move |_| {
        if let Some(dialog) = dialog.get()
            && !dialog.open()
        {
            let _ = dialog.show_modal();
        }
    };
    let heading = format!("{id}-title");
    let (opener, closer, labelled_by) = (id.clone(), id.clone(), heading.clone());
    view! {
        <button type="button" class=button_class commandfor=opener command="show-modal" on:click=open>{label}</button>
        <dialog id=id node_ref=dialog aria-labelledby=labelled_by
            class="m-auto w-[calc(100%-2rem)] max-w-md rounded-xl border border-slate-200 bg-white p-5 text-slate-900 shadow-2xl backdrop:bg-slate-950/60 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
            <h2 id=heading class="mb-3 text-lg font-semibold">{title}</h2>
            {children()}
            <div class="mt-4 flex justify-end">
                <button type="button" commandfor=closer command="close" on:click=move |_| { if let Some(d) = dialog.get() { d.close(); } }
                    class="rounded-md px-3 py-2 text-sm font-medium hover:bg-slate-100 dark:hover:bg-slate-800">"Cancel"</button>
            </div>
        </dialog>
    }
}
