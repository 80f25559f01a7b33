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

  const form = page.getByTestId("share-form");
  await form.getByLabel("Password").fill("open sesame");
  await form.getByLabel("Download limit").fill("1");
  await form.getByRole("button", { name: "Create link" }).click();
  const link = await form.getByTestId("share-link").getByRole("textbox").inputValue();
  expect(link).toMatch(/\/s\/[A-Za-z0-9_-]{24}$/);

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
