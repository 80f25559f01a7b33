import { expect, test, type Page } from "@playwright/test";
import { unique } from "./support";

async function signUp(page: Page, email: string, password: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Your name").fill("Journey Person");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("sign up, sign out, sign in, change password, sign out everywhere", async ({ page }) => {
  const email = unique();
  await signUp(page, email, "first long passphrase");
  await expect(page.getByText(email)).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await signIn(page, email, "first long passphrase");
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();

  await page.goto("/account");
  await page.getByLabel("Current password").fill("first long passphrase");
  await page.getByLabel("New password").fill("second long passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. Your other devices were signed out.")).toBeVisible();

  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/sign-in/);

  await signIn(page, email, "first long passphrase");
  await expect(page.getByRole("alert").filter({ hasText: "Invalid email or password." })).toBeVisible();
  await signIn(page, email, "second long passphrase");
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
});

test("a signed-out visitor is sent to sign in and back to the page", async ({ page }) => {
  const email = unique();
  await signUp(page, email, "a long enough passphrase");
  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/sign-in\?next=\/account/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long enough passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
});

test("an API token is shown once and listed by its prefix", async ({ page }) => {
  await signUp(page, unique(), "a long enough passphrase");
  await page.getByLabel("Name", { exact: true }).fill("backup script");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = page.getByTestId("new-token");
  await expect(token).toContainText("pnr_");
  const secret = (await token.textContent())!.trim();
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.getByTestId("tokens")).toContainText("backup script");
});

test("a profile picture: chosen, shown in its round frame before it is sent, kept as a square", async ({ page }) => {
  await signUp(page, unique(), "a long enough passphrase");
  const save = page.getByRole("button", { name: "Save picture" });
  // Hydrated: nothing to save until a picture is chosen.
  await expect(save).toBeDisabled();
  // A 300 × 200 picture drawn in the page.
  const png = await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 300;
    canvas.height = 200;
    canvas.getContext("2d")!.fillRect(0, 0, 300, 200);
    const blob: Blob = await new Promise((done) => canvas.toBlob((b) => done(b!), "image/png"));
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  await page.getByLabel("Choose a picture…").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: Buffer.from(png) });
  await expect(page.getByTestId("avatar-preview")).toBeVisible();
  await expect(page.getByText("Chosen: me.png")).toBeVisible();
  await save.click();
  const kept = page.getByRole("img", { name: "Your profile picture" });
  await expect(kept).toBeVisible();
  await expect
    .poll(() => kept.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
    .toEqual([200, 200]);
});
