import { expect, test, type Page } from "@playwright/test";
import { openNewFolder, signUpAndOpenFiles } from "./support";

/** Drops two pictures (drawn in the page: a red and a blue 1200 × 800 PNG) on the page. */
async function dropPictures(page: Page) {
  const dataTransfer = await page.evaluateHandle(async () => {
    const picture = async (colour: string, name: string) => {
      const canvas = document.createElement("canvas");
      canvas.width = 1200;
      canvas.height = 800;
      const context = canvas.getContext("2d")!;
      context.fillStyle = colour;
      context.fillRect(0, 0, 1200, 800);
      const blob: Blob = await new Promise((done) => canvas.toBlob((b) => done(b!), "image/png"));
      return new File([blob], name, { type: "image/png" });
    };
    const transfer = new DataTransfer();
    transfer.items.add(await picture("#c00", "red.png"));
    transfer.items.add(await picture("#00c", "blue.png"));
    return transfer;
  });
  await page.dispatchEvent("h1", "dragover", { dataTransfer });
  await page.dispatchEvent("h1", "drop", { dataTransfer });
  await expect(page.getByTestId("upload-queue").locator('[data-status="done"]')).toHaveCount(2);
}

test("thumbnails appear in the grid after upload, and the gallery works by keyboard", async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByRole("link", { name: "Grid" }).click();
  await dropPictures(page);
  // The page looks again until the worker has made them; no reload needed.
  const thumbnails = page.getByTestId("thumbnail");
  await expect(thumbnails).toHaveCount(2, { timeout: 15_000 });
  await expect(thumbnails.first()).toHaveJSProperty("complete", true);
  expect(await thumbnails.first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);

  await page.getByRole("button", { name: "View blue.png in the gallery" }).focus();
  await page.keyboard.press("Enter");
  const gallery = page.getByTestId("lightbox");
  await expect(gallery).toBeVisible();
  await expect(gallery).toBeFocused();
  await expect(page.getByTestId("lightbox-caption")).toHaveText("blue.png · 1 of 2");
  await expect(page.getByTestId("lightbox-picture")).toHaveAttribute("src", /thumbnail\?size=large$/);
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("lightbox-caption")).toHaveText("red.png · 2 of 2");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("lightbox-caption")).toHaveText("blue.png · 1 of 2");
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByTestId("lightbox-caption")).toHaveText("red.png · 2 of 2");
  await page.keyboard.press("Escape");
  await expect(gallery).toBeHidden();
  // Focus is back where the gallery was opened.
  await expect(page.getByRole("button", { name: "View blue.png in the gallery" })).toBeFocused();

  // The file page shows the large preview and the picture's size.
  await page.getByRole("link", { name: "red.png", exact: true }).click();
  await expect(page.getByTestId("large-preview")).toBeVisible();
  await expect(page.getByText("1200 × 800 pixels")).toBeVisible();
});

test("a shared folder's page shows thumbnails and a gallery to visitors", async ({ page, browser }) => {
  await signUpAndOpenFiles(page);
  // The root is never shared whole: a folder is.
  await expect(page.getByRole("button", { name: "Share folder" })).toHaveCount(0);
  await openNewFolder(page, "Holiday");
  await dropPictures(page);
  await page.getByRole("button", { name: "Share folder" }).click();
  const form = page.getByTestId("share-form");
  await form.getByRole("button", { name: "Create link" }).click();
  const link = await form.getByTestId("share-link").getByRole("textbox").inputValue();

  const visitor = await (await browser.newContext()).newPage();
  await expect(async () => {
    await visitor.goto(link);
    await expect(visitor.getByTestId("shared-thumbnail")).toHaveCount(2, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(visitor.locator('meta[property="og:image"]')).toHaveAttribute("content", /\/thumbnail\?size=large$/);
  // Hydrated: the gallery opens in place of a new tab.
  await expect(async () => {
    await visitor.getByTestId("shared-thumbnail").first().click();
    await expect(visitor.getByTestId("lightbox")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 10_000 });
  await expect(visitor.getByTestId("lightbox-caption")).toContainText("1 of 2");
  await visitor.keyboard.press("ArrowRight");
  await expect(visitor.getByTestId("lightbox-caption")).toContainText("2 of 2");
  await visitor.getByRole("button", { name: "Close (Esc)" }).click();
  await expect(visitor.getByTestId("lightbox")).toBeHidden();
});
