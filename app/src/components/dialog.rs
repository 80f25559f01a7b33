//! Modal dialogs: the native `<dialog>`, opened by a button with the browser's invoker
//! commands (`commandfor`/`command`, no JavaScript needed) or, hydrated, by [`show`] for
//! browsers without them. The browser makes the rest of the page inert, moves focus in, closes
//! it on Escape and gives focus back to what opened it; the heading names it for screen
//! readers.

use leptos::prelude::*;

use crate::components::form::Outcome;

const BOX: &str = "m-auto w-[calc(100%-2rem)] rounded-xl border border-slate-200 bg-white p-5 text-slate-900 shadow-2xl backdrop:bg-slate-950/60 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";

/// A button labelled `label` that opens a dialog titled `title` holding `children`, which end
/// with their own [`Buttons`]. `id` must be unique on the page.
#[component]
pub fn Dialog(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] title: String,
    #[prop(default = "")] button_class: &'static str,
    /// Room for a form with fields side by side.
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    let opener = id.clone();
    let target = id.clone();
    view! {
        <button type="button" class=button_class commandfor=opener command="show-modal" on:click=move |_| show(&target)>{label}</button>
        <Modal id title wide>{children()}</Modal>
    }
}

/// The dialog alone, opened by [`show`] from elsewhere on the page (a menu, a bar).
#[component]
pub fn Modal(
    #[prop(into)] id: String,
    #[prop(into)] title: Signal<String>,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    let class = format!("{BOX} {}", if wide { "max-w-xl" } else { "max-w-md" });
    view! {
        <dialog id=id aria-labelledby=labelled_by class=class>
            <h2 id=heading class="mb-3 text-lg font-semibold break-words">{move || title.get()}</h2>
            {children()}
        </dialog>
    }
}

/// A dialog's last row: Cancel (closes dialog `id`; `label` names it otherwise, e.g. "Close"
/// where nothing is left to cancel) beside `children` (its confirming button).
#[component]
pub fn Buttons(
    #[prop(into)] id: String,
    #[prop(default = "Cancel")] label: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let target = id.clone();
    view! {
        <div class="mt-4 flex flex-wrap justify-end gap-2">
            <button type="button" commandfor=id command="close" on:click=move |_| close(&target)
                class="rounded-md px-3 py-2 text-sm font-medium hover:bg-slate-100 dark:hover:bg-slate-800">{label}</button>
            {children.map(|c| c())}
        </div>
    }
}

/// Closes dialog `id` each time `outcome` turns to a success (the form inside it worked). A
/// page redrawn with new data keeps its elements, so an open dialog would stay open.
pub fn close_on_success(id: &'static str, outcome: impl Into<Outcome>) {
    let outcome: Outcome = outcome.into();
    Effect::new(move |_| {
        if matches!(outcome.get(), Some(Ok(()))) {
            close(id);
        }
    });
}

/// Opens dialog `id` as a modal (nothing if it is open already).
///
/// The browser gives focus back, on closing, to what had it on opening: when that is an item of
/// a dropdown (a `<details>`, closed as the dialog opens), its button takes focus first, so
/// focus returns to something still on the page.
pub fn show(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(dialog) = find(id)
        && !dialog.open()
    {
        use wasm_bindgen::JsCast;
        let summary = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|active| active.closest("details").ok().flatten())
            .and_then(|details| details.query_selector("summary").ok().flatten())
            .and_then(|summary| summary.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(summary) = summary {
            let _ = summary.focus();
        }
        let _ = dialog.show_modal();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Closes dialog `id`.
pub fn close(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(dialog) = find(id) {
        dialog.close();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[cfg(feature = "hydrate")]
fn find(id: &str) -> Option<web_sys::HtmlDialogElement> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    document.get_element_by_id(id)?.dyn_into().ok()
}
