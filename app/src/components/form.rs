//! Form pieces shared by every page: labelled fields with their error, the form-level error,
//! the submit button. Errors come from the action's value, which the server also fills from
//! the URL after a form post without JavaScript.

use domain::AppError;
use leptos::prelude::*;

/// An action's last result, as every form here sees it.
pub type Outcome = Signal<Option<Result<(), AppError>>>;

/// A count that goes up each time one of `outcomes` becomes a success: what a page reads its
/// data again on — not after a failure, which leaves an open dialog and its message in place.
pub fn successes(outcomes: Vec<Outcome>) -> RwSignal<usize> {
    let done = RwSignal::new(0_usize);
    for outcome in outcomes {
        Effect::new(move |_| {
            if matches!(outcome.get(), Some(Ok(()))) {
                done.update(|n| *n += 1);
            }
        });
    }
    done
}

/// The message for `field`, if the last attempt failed on it.
pub fn field_error(outcome: Outcome, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || outcome.get().and_then(Result::err).and_then(|e| e.field_message(field)))
}

/// A labelled input with its error underneath.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] outcome: Outcome,
) -> impl IntoView {
    let error = field_error(outcome, name);
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=true
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm focus:border-sky-600 focus:outline-2 focus:outline-sky-600 aria-[invalid=true]:border-red-600 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
            />
            {hint.map(|hint| view! { <p class="text-xs text-slate-500 dark:text-slate-400">{hint}</p> })}
            <p id=error_id class="text-sm text-red-700 dark:text-red-400" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The last failure that is not about one field (wrong credentials, throttling, …), or
/// `success` once the action has succeeded (shown with JavaScript; without it the page reloads).
/// With `every`, a field's failure too (for forms redrawn when their action completes, whose
/// fields cannot keep a message).
#[component]
pub fn FormError(
    #[prop(into)] outcome: Outcome,
    #[prop(optional)] success: Option<&'static str>,
    #[prop(optional)] every: bool,
) -> impl IntoView {
    let error = move || {
        outcome
            .get()
            .and_then(Result::err)
            .filter(|e| every || !matches!(e, AppError::Invalid { .. }))
    };
    let succeeded = move || success.filter(|_| matches!(outcome.get(), Some(Ok(()))));
    view! {
        <Show when=move || succeeded().is_some()>
            <p role="status" class="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100">
                {succeeded}
            </p>
        </Show>
        <Show when=move || error().is_some()>
            <p role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
                {move || error().map(|e| e.to_string())}
            </p>
        </Show>
    }
}

/// Primary submit button, showing progress while the action runs.
#[component]
pub fn Submit(
    label: &'static str,
    pending: Signal<bool>,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    let colour = if danger { "bg-red-700 hover:bg-red-800" } else { "bg-sky-700 hover:bg-sky-800" };
    view! {
        <button
            type="submit"
            class=format!("inline-flex items-center justify-center rounded-md px-4 py-2 font-medium text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-60 {colour}")
            disabled=move || pending.get()
        >
            {move || if pending.get() { "Working…" } else { label }}
        </button>
    }
}

/// A form that always makes a full page load, with or without JavaScript: for signing out,
/// where nothing of the old page should survive. `action` is the server fn's URL.
#[component]
pub fn PlainForm(
    action: &'static str,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action=action class=class>
            {children()}
        </form>
    }
}

/// A titled card grouping one form or list.
#[component]
pub fn Card(
    title: &'static str,
    #[prop(optional)] id: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section id=(!id.is_empty()).then_some(id) class="min-w-0 rounded-xl border border-slate-200 p-5 dark:border-slate-800">
            <h2 class="mb-4 text-lg font-semibold">{title}</h2>
            {children()}
        </section>
    }
}

/// A button that undoes or destroys something, outlined.
pub const DANGER: &str = "rounded-md border border-red-300 px-3 py-2 text-sm font-medium text-red-800 hover:bg-red-50 dark:border-red-900 dark:text-red-300 dark:hover:bg-red-950";
/// The button that confirms destroying something.
pub const DANGER_SOLID: &str = "rounded-md bg-red-700 px-3 py-2 text-sm font-medium text-white hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600";
/// A secondary button, outlined.
pub const SECONDARY: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-slate-700 dark:hover:bg-slate-800";
