// The admin's accounts page: find an account, set its quota, hand over a password reset link
// (which the person uses), turn the account off and delete it.
import { expect, test, type Locator } from "@playwright/test";
import { signInAsAdmin, signUpAndOpenFiles } from "./support";

/** Opens the row's "Manage" forms (a tap on an open one would close them). */
async function manage(row: Locator) {
  const details = row.locator("details");
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await row.getByText("Manage").click();
  }
}

test("an admin finds an account, sets its quota, resets its password, turns it off and deletes it", async ({ browser, page }) => {
  test.setTimeout(60_000);
  const email = await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("twelve bytes") },
  ]);
  await expect(page.getByRole("link", { name: "notes.txt" })).toBeVisible();

  const admin = await signInAsAdmin(browser);
  await admin.goto("/admin");
  await admin.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Accounts" }).click();
  await expect(admin.getByRole("heading", { name: "Accounts", level: 1 })).toBeVisible();
  await admin.getByLabel("Search accounts by email or name").fill(email);
  await admin.getByRole("button", { name: "Search", exact: true }).click();
  const rows = admin.getByTestId("account");
  await expect(rows).toHaveCount(1);
  const row = rows.first();
  await expect(row.getByTestId("account-usage")).toHaveText(/^12 B · 1 file/);
  await expect(row.locator("time")).toHaveText("just now");

  await manage(row);
  await row.getByLabel("Quota").fill("1MiB");
  await row.getByRole("button", { name: "Set quota" }).click();
  await expect(row.getByTestId("account-usage")).toHaveText(/^12 B of 1\.0 MB/);
  await expect(admin).toHaveURL(/q=/);

  // A reset link, shown once, that the person uses in their own browser.
  await manage(admin.getByTestId("account").first());
  await admin.getByTestId("account").first().getByRole("button", { name: "Make a reset link" }).click();
  const link = await admin.getByTestId("reset-link").textContent();
  expect(link).toContain("/reset-password?token=");
  const person = await (await browser.newContext()).newPage();
  await person.goto(new URL(link!).pathname + new URL(link!).search);
  await expect(person.getByText(email)).toBeVisible();
  await person.getByLabel("New password").fill("a brand new passphrase");
  await person.getByRole("button", { name: "Set password" }).click();
  await expect(person.getByRole("status")).toHaveText(/Your new password is set/);
  await person.getByLabel("Email").fill(email);
  await person.getByLabel("Password").fill("a brand new passphrase");
  await person.getByRole("button", { name: "Sign in" }).click();
  await expect(person.getByRole("heading", { name: "Pannier", level: 1 })).toBeVisible();
  // The old session ended with the reset.
  await page.goto("/files");
  await expect(page).toHaveURL(/\/sign-in/);

  // Turned off, the new session ends too and the row says so.
  const current = admin.getByTestId("account").first();
  await manage(current);
  await current.getByRole("button", { name: "Turn off" }).click();
  await expect(admin.getByTestId("account").first().getByText("Turned off")).toBeVisible();
  await person.goto("/files");
  await expect(person).toHaveURL(/\/sign-in/);

  // Deleting asks for the email first.
  const last = admin.getByTestId("account").first();
  await manage(last);
  await last.getByRole("button", { name: "Delete account…" }).click();
  const dialog = admin.getByRole("dialog", { name: "Delete this account?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("1 file (12 B)");
  await dialog.getByLabel("Email").fill("someone-else@example.com");
  await dialog.getByRole("button", { name: "Delete account" }).click();
  // The dialog stays open and says what to type.
  await expect(dialog.getByRole("alert")).toHaveText(`Type the account's email, ${email}, to delete it.`);
  await expect(admin.getByTestId("account")).toHaveCount(1);
  await dialog.getByLabel("Email").fill(email);
  await dialog.getByRole("button", { name: "Delete account" }).click();
  await expect(admin.getByTestId("account")).toHaveCount(0);
  await expect(admin.getByText("No account's email or name holds that")).toBeVisible();

  // The audit log tells it all, narrowed to this account.
  await admin.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
  await admin.getByLabel("Who").fill(email);
  await admin.getByRole("button", { name: "Show" }).click();
  const events = admin.getByTestId("audit-event");
  await expect(events.first()).toContainText("Account deleted");
  for (const what of ["Account turned off", "Password reset", "Reset link made", "Quota set", "Sign-up"]) {
    await expect(events.filter({ hasText: what }).first()).toBeVisible();
  }
});

test("the status page shows each service and the last hour's requests", async ({ browser }) => {
  const admin = await signInAsAdmin(browser);
  await admin.goto("/admin/users");
  await admin.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Status" }).click();
  await expect(admin.getByRole("heading", { name: "Status", level: 1 })).toBeVisible();
  await expect(admin.getByTestId("services")).toContainText(/Database \((SQLite|PostgreSQL)\): answers/);
  await expect(admin.getByTestId("services")).toContainText(/Storage \(.*\): answers/);
  await expect(admin.getByTestId("traffic-summary")).toHaveText(/^\d+ requests? · /);
  await expect(admin.getByRole("img", { name: /Requests a minute over the last hour/ })).toBeVisible();
});
