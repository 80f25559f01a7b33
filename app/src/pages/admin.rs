//! `/admin`: who may sign up, and invite links (admins only).

use domain::account::RegistrationMode;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{AdminPage, CreateInvite, SetRegistrationMode, admin_overview};
use crate::components::form::{Card, FormError, Submit};
use crate::components::guard::signed_in;

/// The admin page.
#[component]
pub fn AdminPage() -> impl IntoView {
    let mode = ServerAction::<SetRegistrationMode>::new();
    let invite = ServerAction::<CreateInvite>::new();
    // Reloads after either form completes.
    let data = Resource::new_blocking(
        move || mode.version().get() + invite.version().get(),
        |_| admin_overview(),
    );
    view! {
        <Title text="Admin"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(data.await, move |page| view! { <Admin page mode invite/> })
            })}
        </Transition>
    }
}

#[component]
fn Admin(
    page: AdminPage,
    mode: ServerAction<SetRegistrationMode>,
    invite: ServerAction<CreateInvite>,
) -> impl IntoView {
    let select = "field";
    let modes = [
        (RegistrationMode::Open, "Open: anyone can sign up"),
        (RegistrationMode::InviteOnly, "Invite only: sign-up needs an invite link"),
        (RegistrationMode::Closed, "Closed: admins create accounts on the command line"),
    ];
    view! {
        <h1 class="mb-8 text-2xl font-bold">"Admin"</h1>
        <div class="grid gap-6">
            <Card title="Registration">
                <ActionForm action=mode attr:class="space-y-4">
                    <FormError outcome=mode.value()/>
                    <label for="field-mode" class="block text-sm font-medium">"Who may sign up"</label>
                    <select id="field-mode" name="mode" class=select>
                        {modes.into_iter().map(|(m, label)| view! {
                            <option value=m.as_str() selected=m == page.mode>{label}</option>
                        }).collect_view()}
                    </select>
                    <Submit label="Save" pending=mode.pending().into()/>
                </ActionForm>
            </Card>
            <Card title="Invites">
                {page.new_invite_link.map(|link| view! {
                    <div role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                        <p class="font-medium">"Send this link to the person you invite. It works once and is not shown again."</p>
                        <code data-testid="invite-link" class="mt-2 block break-all font-mono">{link}</code>
                    </div>
                })}
                <ActionForm action=invite attr:class="flex flex-wrap items-end gap-4">
                    <FormError outcome=invite.value()/>
                    <div class="space-y-1">
                        <label for="field-days" class="block text-sm font-medium">"Valid for"</label>
                        <select id="field-days" name="days" class=select>
                            <option value="1">"1 day"</option>
                            <option value="7" selected=true>"7 days"</option>
                            <option value="30">"30 days"</option>
                        </select>
                    </div>
                    <Submit label="Create invite link" pending=invite.pending().into()/>
                </ActionForm>
                <ul class="mt-4 divide-y divide-slate-200 text-sm dark:divide-slate-800">
                    {page.invites.into_iter().map(|i| view! {
                        <li class="py-2">{if i.used { "Used".to_string() } else { format!("Not used yet · valid until {}", i.expires) }}</li>
                    }).collect_view()}
                </ul>
            </Card>
        </div>
    }
}
