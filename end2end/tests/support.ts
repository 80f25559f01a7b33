// Steps several journeys share.
import { expect, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";

/** An email address no other test uses. */
export const unique = () => `${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

/** Signs up a new account named `name` with the form (it works without JavaScript too);
 * returns its email. */
export async function signUp(page: Page, name: string) {
  const email = unique();
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Password").fill("a long enough passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  return email;
}

/** A new browser context signed in as the instance's admin (made by the e2e server script). */
export async function signInAsAdmin(browser: Browser, options: BrowserContextOptions = {}) {
  const admin = await (await browser.newContext(options)).newPage();
  await admin.goto("/sign-in");
  await admin.getByLabel("Email").fill("admin@e2e.test");
  await admin.getByLabel("Password").fill("e2e admin passphrase");
  await admin.getByRole("button", { name: "Sign in" }).click();
  await expect(admin.getByRole("heading", { name: "Pannier", level: 1 })).toBeVisible();
  return admin;
}

/** Signs up a new account and opens its files, waiting until the page is hydrated; returns
 * its email. */
export async function signUpAndOpenFiles(page: Page) {
  const email = await signUp(page, "File Person");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.getByRole("link", { name: "Files" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();
  // Hydrated: the no-JavaScript upload button hides itself.
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
  return email;
}

/** Makes a folder named `name` in the folder shown and opens it (its own page, hydrated). */
export async function openNewFolder(page: Page, name: string) {
  await page.getByRole("button", { name: "New folder" }).click();
  await page.getByLabel("New folder name").fill(name);
  await page.getByRole("button", { name: "Create folder" }).click();
  await page.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
}
