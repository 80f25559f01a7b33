import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { signUpAndOpenFiles } from "./support";

// A real 1×1 PNG, so the shared page can preview it.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082",
  "hex",
);

test("a link with a password and a download limit: unlock, download, then the limit", async ({ page, browser }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles({ name: "sunset.png", mimeType: "image/png", buffer: PNG });
  await expect(page.getByTestId("upload-queue").locator('[data-status="done"]')).toHaveCount(1);
  await page.getByRole("link", { name: "sunset.png", exact: true }).click();
  await expect(page.getByRole("heading", { name: "sunset.png" })).toBeVisible();

  await page.getByRole("button", { name: "Share", exact: true }).click();
  const form = page.getByTestId("share-form");
  await form.getByLabel("Password").fill("open sesame");
  await form.getByLabel("Download limit").fill("1");
  await form.getByRole("button", { name: "Create link" }).click();
  const link = await form.getByTestId("share-link").getByRole("textbox").inputValue();
  expect(link).toMatch(/\/s\/[A-Za-z0-9_-]{24}$/);
  // The link replaces the button: a second click cannot make a duplicate by mistake.
  await expect(form.getByRole("button", { name: "Create link" })).toHaveCount(0);
  await expect(form.getByRole("button", { name: "Make another link" })).toBeVisible();

  // A visitor: a fresh browser context, no account, no cookies.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(link);
  await expect(visitor.getByRole("heading", { name: "This link is protected" })).toBeVisible();
  await expect(visitor.getByText("sunset.png")).toHaveCount(0);
  await visitor.getByLabel("Password").fill("wrong words");
  await visitor.getByRole("button", { name: "Open" }).click();
  await expect(visitor.getByRole("alert")).toContainText("That is not the password");
  await visitor.getByLabel("Password").fill("open sesame");
  await visitor.getByRole("button", { name: "Open" }).click();

  await expect(visitor.getByRole("heading", { name: "sunset.png" })).toBeVisible();
  await expect(visitor.getByText("Shared by File Person")).toBeVisible();
  await expect(visitor.getByTestId("share-limits")).toContainText("1 download left");
  await expect(visitor.getByRole("img", { name: "QR code of this link" })).toBeVisible();
  // Any transfer of a limited link's file counts: the page shows at most its thumbnail, which
  // never counts (the download below still has its one use).
  const shown = await visitor
    .getByRole("img", { name: "sunset.png" })
    .evaluateAll((images) => images.map((image) => (image as HTMLImageElement).src));
  for (const src of shown) expect(src).toContain("/thumbnail");
  await expect(visitor.getByTestId("limited-note")).toContainText("thumbnails do not count");

  const [download] = await Promise.all([
    visitor.waitForEvent("download"),
    visitor.getByRole("link", { name: "Download", exact: true }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("sunset.png");
  expect(readFileSync((await download.path())!)).toEqual(PNG);

  // The one download is used: the link now says so, with 410.
  const again = await visitor.goto(link);
  expect(again!.status()).toBe(410);
  await expect(visitor.getByRole("heading", { name: "This link no longer works" })).toBeVisible();

  await page.goto("/shares");
  await expect(page.getByTestId("share-item")).toContainText("Download limit reached");
  await expect(page.getByTestId("share-item")).toContainText("1 of 1 downloads");
});

test("revoking a link asks first, in a dialog that works by keyboard", async ({ page }) => {
  await signUpAndOpenFiles(page);
  const headers = { origin: new URL(page.url()).origin };
  const put = await page.request.put("/api/v1/files?name=plan.txt", { headers, data: Buffer.from("the plan") });
  const file = await put.json();
  const made = await page.request.post("/api/v1/shares", { headers, data: { file_ids: [file.id] } });
  expect(made.status()).toBe(201);
  await page.getByRole("link", { name: "Shares" }).first().click();
  const item = page.getByTestId("share-item");
  await expect(item).toContainText("Active");

  const revoke = item.getByRole("button", { name: "Revoke", exact: true });
  await revoke.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Revoke this link?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("Everyone who has the link loses access at once.");
  // Focus is inside, and Tab never reaches the page behind it.
  const inside = () =>
    dialog.evaluate((d) => d.contains(document.activeElement) || document.activeElement === document.body);
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Tab");
    expect(await inside()).toBe(true);
  }
  // Escape closes it, changes nothing and gives focus back.
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(revoke).toBeFocused();
  await expect(item).toContainText("Active");

  await page.keyboard.press("Enter");
  await dialog.getByRole("button", { name: "Revoke link" }).click();
  await expect(item).toContainText("Revoked");
  await expect(item.getByRole("button", { name: "Revoke", exact: true })).toHaveCount(0);
});
