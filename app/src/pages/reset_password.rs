//! `/reset-password?token=…`: a new password through the one-time link an admin made.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{ResetPassword, reset_link_email};
use crate::components::error::ErrorNotice;
use crate::components::form::{Field, FormError, Outcome, Submit};

/// The form, for whoever holds a working link; else why the link does not work.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let email = Resource::new_blocking(token, reset_link_email);
    let action = ServerAction::<ResetPassword>::new();
    let outcome: Outcome = action.value().into();
    view! {
        <Title text="Set a new password"/>
        <div class="mx-auto max-w-sm">
            <h1 class="mb-6 text-2xl font-bold">"Set a new password"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match email.await {
                        Ok(email) => view! {
                            <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">
                                "For " <strong class="break-all">{email}</strong>
                                ". Every session and API token of the account ends; sign in again with the new password."
                            </p>
                            <ActionForm action attr:class="space-y-4">
                                <FormError outcome/>
                                <input type="hidden" name="token" value=token/>
                                <Field label="New password" name="password" kind="password" autocomplete="new-password" outcome hint="At least 8 characters; not a common password."/>
                                <Submit label="Set password" pending=action.pending().into()/>
                            </ActionForm>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
