//! `/sign-in` and `/sign-up`: forms that work with or without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SignIn, SignUp};
use crate::components::form::{Field, FormError, Outcome, Submit};

/// Email + password, "remember me", and back to where the person was going.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let outcome: Outcome = action.value().into();
    view! {
        <Title text="Sign in"/>
        <div class="mx-auto max-w-sm">
            <h1 class="mb-6 text-2xl font-bold">"Sign in"</h1>
            {move || (query.read().get("reset").as_deref() == Some("done")).then(|| view! {
                <p role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                    "Your new password is set. Sign in with it."
                </p>
            })}
            <ActionForm action attr:class="space-y-4">
                <FormError outcome/>
                <input type="hidden" name="next" value=next/>
                <Field label="Email" name="email" kind="email" autocomplete="username" outcome/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" outcome/>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="remember" value="on" class="h-4 w-4"/>
                    "Keep me signed in for 30 days"
                </label>
                <Submit label="Sign in" pending=action.pending().into()/>
            </ActionForm>
            <details class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                <summary class="cursor-pointer font-medium text-sky-700 dark:text-sky-400">"Forgot your password?"</summary>
                <p class="mt-2">"Ask an admin of this instance for a password reset link: they make one on their Accounts page. It works once, for a day."</p>
            </details>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                "No account yet? " <a href="/sign-up" class="font-medium text-sky-700 underline dark:text-sky-400">"Sign up"</a>
            </p>
        </div>
    }
}

/// Email, name, password; an invite from the link when the instance is invite-only, or the
/// setup token from the link `pannier serve` printed, for the first account (the admin).
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let query = use_query_map();
    let invite = move || query.read().get("invite").unwrap_or_default();
    let setup = move || query.read().get("setup").unwrap_or_default();
    let outcome: Outcome = action.value().into();
    view! {
        <Title text="Sign up"/>
        <div class="mx-auto max-w-sm">
            <h1 class="mb-6 text-2xl font-bold">"Create your account"</h1>
            <ActionForm action attr:class="space-y-4">
                <FormError outcome/>
                <input type="hidden" name="invite" value=invite/>
                <input type="hidden" name="setup" value=setup/>
                <input type="hidden" name="next" value="/account"/>
                <Field label="Email" name="email" kind="email" autocomplete="email" outcome/>
                <Field label="Your name" name="display_name" autocomplete="name" outcome hint="Shown to people you share with."/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password" outcome hint="At least 8 characters; not a common password."/>
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">
                    {move || outcome.get().and_then(Result::err).and_then(|e| e.field_message("invite"))}
                </p>
                <Submit label="Create account" pending=action.pending().into()/>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "Already have an account? " <a href="/sign-in" class="font-medium text-sky-700 underline dark:text-sky-400">"Sign in"</a>
            </p>
        </div>
    }
}
