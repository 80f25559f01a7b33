//! A menu that drops down from its button: a `<details>`, so it opens by click, Enter or Space
//! without JavaScript; with it, Escape (focus back on the button) or a click elsewhere closes
//! it, and so does picking an entry unless `keep_open` (an entry that opens a file picker must
//! not close the menu under it; its owner closes it through `node_ref`).

use leptos::html::Details;
use leptos::prelude::*;

#[component]
pub fn Dropdown(
    /// The button's accessible name.
    label: &'static str,
    /// Classes of the `<details>` (it is `relative`).
    #[prop(default = "")]
    class: &'static str,
    /// Classes of the button (`<summary>`).
    summary_class: String,
    /// Classes of the panel (placed under the button).
    panel_class: &'static str,
    /// What the button shows.
    button: ViewFn,
    #[prop(optional)] keep_open: bool,
    #[prop(optional)] node_ref: NodeRef<Details>,
    children: Children,
) -> impl IntoView {
    let menu = node_ref;
    let close = move || {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    let outside = window_event_listener(leptos::ev::click, move |ev| {
        let target = ev
            .target()
            .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Node>(t).ok());
        if let Some(details) = menu.get_untracked()
            && !details.contains(target.as_ref())
        {
            details.set_open(false);
        }
    });
    on_cleanup(move || outside.remove());
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape"
            && let Some(details) = menu.get_untracked()
            && details.open()
        {
            close();
            if let Some(summary) = details.query_selector("summary").ok().flatten() {
                let _ =
                    leptos::wasm_bindgen::JsCast::unchecked_into::<leptos::web_sys::HtmlElement>(
                        summary,
                    )
                    .focus();
            }
        }
    };
    view! {
        <details node_ref=menu class=format!("relative {class}") on:keydown=on_key>
            <summary class=format!("flex cursor-pointer list-none items-center [&::-webkit-details-marker]:hidden {summary_class}")
                aria-label=label title=label>
                {button.run()}
            </summary>
            <div class=format!("absolute top-full z-40 {panel_class}")
                on:click=move |_| if !keep_open { close() }>
                {children()}
            </div>
        </details>
    }
}
