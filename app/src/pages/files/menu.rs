//! One entry's menu, opened by its ⋯ button or a right click (a long press on phones) on it:
//! Open, Download, then the selection's dialogs acting on that entry — or on the whole
//! selection when the entry is part of it, as file managers do. One menu serves every row.
//! Arrow keys move through it; Escape closes it and gives focus back to the ⋯ button.

use leptos::prelude::*;

use super::selection::{DELETE, MOVE, Opened, RENAME, SHARE, Selection};

/// The entry a menu is open for, and where it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `f:<id>` or `d:<id>`.
    pub key: String,
    /// Its page.
    pub href: String,
    /// Its download address (files only).
    pub download: Option<String>,
    left: f64,
    top: f64,
}

/// The open menu, if any; and whether the page is hydrated (the ⋯ buttons and the boxes that
/// select do nothing without JavaScript, so the server sends neither: a hundred rows of them
/// were 15 KB of the page).
#[derive(Clone, Copy)]
pub struct RowMenu(RwSignal<Option<Target>>, RwSignal<bool>);

/// The menu's size, to keep it inside the window.
#[cfg(feature = "hydrate")]
const WIDTH: f64 = 192.0;
#[cfg(feature = "hydrate")]
const HEIGHT: f64 = 230.0;

impl RowMenu {
    pub fn new() -> Self {
        Self(RwSignal::new(None), RwSignal::new(false))
    }

    /// Whether the page is hydrated: rows show their ⋯ and their box only then.
    pub fn ready(self) -> bool {
        self.1.get()
    }

    /// Opens the menu for `key`: under the ⋯ button that was clicked, or at the pointer for
    /// a right click.
    pub fn open(
        self,
        ev: &leptos::ev::MouseEvent,
        key: String,
        href: String,
        download: Option<String>,
    ) {
        ev.prevent_default();
        let (left, top) = place(ev);
        self.0.set(Some(Target { key, href, download, left, top }));
    }

    fn close(self) {
        self.0.set(None);
    }
}

/// Where the menu goes for this click, inside the window; the clicked element is kept to
/// take focus back.
fn place(ev: &leptos::ev::MouseEvent) -> (f64, f64) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let window = web_sys::window();
        let number = |v: Option<Result<wasm_bindgen::JsValue, _>>| v?.ok()?.as_f64();
        let width = number(window.as_ref().map(web_sys::Window::inner_width)).unwrap_or(WIDTH);
        let height = number(window.as_ref().map(web_sys::Window::inner_height)).unwrap_or(HEIGHT);
        let button = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .filter(|_| ev.type_() == "click");
        let (left, top, above) = match &button {
            Some(button) => {
                let rect = button.get_bounding_client_rect();
                (rect.right() - WIDTH, rect.bottom(), rect.top() - HEIGHT)
            }
            None => (
                f64::from(ev.client_x()),
                f64::from(ev.client_y()),
                f64::from(ev.client_y()) - HEIGHT,
            ),
        };
        TRIGGER.with(|t| {
            *t.borrow_mut() = button.or_else(|| {
                // A right click: the row's ⋯ button takes focus back.
                ev.current_target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|row| row.query_selector("button[aria-haspopup]").ok().flatten())
                    .and_then(|b| b.dyn_into().ok())
            });
        });
        let left = left.clamp(8.0, (width - WIDTH - 8.0).max(8.0));
        let top = if top + HEIGHT > height { above.max(8.0) } else { top };
        (left, top)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        (0.0, 0.0)
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    static TRIGGER: std::cell::RefCell<Option<web_sys::HtmlElement>> = const { std::cell::RefCell::new(None) };
}

/// Focus back on the ⋯ button the menu was opened from.
fn refocus() {
    #[cfg(feature = "hydrate")]
    TRIGGER.with(|t| {
        if let Some(button) = t.borrow_mut().take() {
            let _ = button.focus();
        }
    });
}

const ITEM: &str = "block w-full rounded-md px-3 py-2 text-left text-sm hover:bg-slate-100 focus:bg-slate-100 focus:outline-none dark:hover:bg-slate-800 dark:focus:bg-slate-800";

/// The menu itself, drawn once for the page.
#[component]
pub fn RowMenuView(menu: RowMenu, selection: Selection, opened: Opened) -> impl IntoView {
    let list = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| menu.1.set(true));
    // Focus the first item as the menu opens.
    Effect::new(move |_| {
        if menu.0.with(Option::is_some) {
            request_animation_frame(move || step(list, Step::First));
        }
    });
    let act = move |id: &'static str| {
        move |_| {
            let Some(target) = menu.0.get_untracked() else { return };
            if id == RENAME {
                selection.set(vec![target.key]);
            } else {
                selection.focus_on(&target.key);
            }
            menu.close();
            // The dialog gives focus back to what had it when it opened: the ⋯, not the item.
            refocus();
            opened.open(id);
        }
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let to = match ev.key().as_str() {
            "ArrowDown" => Step::Next,
            "ArrowUp" => Step::Previous,
            "Home" => Step::First,
            "End" => Step::Last,
            "Escape" => {
                menu.close();
                refocus();
                return;
            }
            "Tab" => {
                menu.close();
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        step(list, to);
    };
    view! {
        {move || menu.0.get().map(|target| view! {
            <div class="fixed inset-0 z-40" on:click=move |_| menu.close()
                on:contextmenu=move |ev| { ev.prevent_default(); menu.close(); }></div>
            <div role="menu" aria-label="Actions" node_ref=list on:keydown=keys data-testid="row-menu"
                class="fixed z-50 w-48 rounded-lg border border-slate-200 bg-white p-1 text-slate-900 shadow-xl dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
                style=format!("left:{}px;top:{}px", target.left, target.top)>
                <a role="menuitem" class=ITEM href=target.href on:click=move |_| menu.close()>"Open"</a>
                {target.download.map(|href| view! {
                    <a role="menuitem" class=ITEM href=href download="" on:click=move |_| menu.close()>"Download"</a>
                })}
                <button type="button" role="menuitem" class=ITEM on:click=act(SHARE)>"Share…"</button>
                <button type="button" role="menuitem" class=ITEM on:click=act(RENAME)>"Rename…"</button>
                <button type="button" role="menuitem" class=ITEM on:click=act(MOVE)>"Move…"</button>
                <button type="button" role="menuitem" class=format!("{ITEM} text-red-700 dark:text-red-400") on:click=act(DELETE)>"Delete…"</button>
            </div>
        })}
    }
}

#[derive(Clone, Copy)]
enum Step {
    First,
    Last,
    Next,
    Previous,
}

/// Moves focus among the menu's items.
fn step(list: NodeRef<leptos::html::Div>, to: Step) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(list) = list.get_untracked() else { return };
        let Ok(items) = list.query_selector_all("[role=menuitem]") else { return };
        let count = items.length();
        if count == 0 {
            return;
        }
        let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
        let current = (0..count)
            .find(|&i| items.item(i).map(|n| n.unchecked_into::<web_sys::Element>()) == active);
        let next = match (to, current) {
            (Step::First, _) | (Step::Next, None) => 0,
            (Step::Last, _) | (Step::Previous, None) => count - 1,
            (Step::Next, Some(i)) => (i + 1) % count,
            (Step::Previous, Some(i)) => (i + count - 1) % count,
        };
        if let Some(item) = items.item(next).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = item.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (list, to);
}
