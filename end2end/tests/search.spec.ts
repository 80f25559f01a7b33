import { expect, test } from "@playwright/test";
import { openNewFolder, signUpAndOpenFiles } from "./support";

test.beforeEach(async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "quarterly-report.txt", mimeType: "text/plain", buffer: Buffer.from("numbers") },
    { name: "holiday.txt", mimeType: "text/plain", buffer: Buffer.from("sun and a glacier walk") },
  ]);
  // Both rows: each file is searchable once its upload is committed, and they finish apart.
  await expect(page.getByRole("link", { name: "quarterly-report.txt" })).toBeVisible();
  await expect(page.getByRole("link", { name: "holiday.txt" })).toBeVisible();
});

test("the header box: / focuses it, results follow the typing, ↓ and Enter open one", async ({ page }) => {
  await page.locator("body").press("/");
  const box = page.getByRole("combobox", { name: "Quick search" });
  await expect(box).toBeFocused();
  const results = page.getByTestId("quick-search-results").getByRole("option");

  await box.pressSequentially(".tx", { delay: 20 });
  await expect(results).toHaveCount(2);
  await box.press("Backspace");
  await box.press("Backspace");
  await box.press("Backspace");
  await box.pressSequentially("REPO", { delay: 20 });
  await expect(results).toHaveText([/quarterly-report\.txt/]);
  // Typed fast, each keystroke asks anew: only the newest answer is shown.
  await box.fill("");
  for (const q of ["h", "ho", "hol", "holi", "quart"]) {
    await box.fill(q);
  }
  await expect(results).toHaveText([/quarterly-report\.txt/]);

  await box.press("ArrowDown");
  await expect(results.first()).toHaveAttribute("aria-selected", "true");
  await expect(box).toHaveAttribute("aria-activedescendant", "quick-search-0");
  await box.press("Enter");
  await expect(page.getByRole("heading", { name: "quarterly-report.txt" })).toBeVisible();
});

test("Ctrl+K focuses the box; Enter without a choice opens the results page; Escape closes", async ({ page }) => {
  await page.keyboard.press("Control+k");
  const box = page.getByRole("combobox", { name: "Quick search" });
  await expect(box).toBeFocused();
  await box.pressSequentially("holi", { delay: 20 });
  const list = page.getByTestId("quick-search-results");
  await expect(list.getByRole("option")).toHaveText([/holiday\.txt/]);
  await box.press("Escape");
  await expect(list).toBeHidden();
  await expect(box).toHaveAttribute("aria-expanded", "false");

  await box.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=holi/);
  const results = page.getByTestId("search-results");
  await expect(results.getByRole("link")).toHaveText(["holiday.txt"]);
  // Arriving on the page, its own box has the focus; a result opens by keyboard.
  await expect(page.getByLabel("Search your files")).toBeFocused();
  await results.getByRole("link", { name: "holiday.txt" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "holiday.txt" })).toBeVisible();
});

test("folders are found too: first in the box, in their own list on the results page", async ({ page }) => {
  await page.getByRole("button", { name: "New folder" }).click();
  await page.getByLabel("New folder name").fill("Quarterly archive");
  await page.getByRole("button", { name: "Create folder" }).click();
  await expect(page.getByRole("link", { name: "Quarterly archive" })).toBeVisible();

  await page.locator("body").press("/");
  const box = page.getByRole("combobox", { name: "Quick search" });
  await box.pressSequentially("quarter", { delay: 20 });
  const results = page.getByTestId("quick-search-results").getByRole("option");
  await expect(results).toHaveText([/Quarterly archive/, /quarterly-report\.txt/]);
  await expect(results.first().getByRole("img", { name: "Folder" })).toBeVisible();
  await box.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=quarter/);
  await expect(page.getByTestId("folder-results").getByRole("link")).toHaveText(/Quarterly archive/);
  await expect(page.getByTestId("search-results").getByRole("link")).toHaveText(["quarterly-report.txt"]);

  await page.locator("body").press("/");
  await box.fill("archive");
  await expect(results).toHaveText([/Quarterly archive/]);
  await box.press("ArrowDown");
  await box.press("Enter");
  await expect(page).toHaveURL(/\/files\/[0-9a-f-]{36}$/);
  await expect(page.getByText("This folder is empty")).toBeVisible();
});

test("the text inside a file is found, the match marked", async ({ page }) => {
  // The text is read by a job a moment after the upload.
  await expect(async () => {
    await page.goto("/search?q=glacier");
    const snippet = page.getByTestId("search-results").getByTestId("snippet");
    await expect(snippet.locator("mark")).toHaveText(["glacier"], { timeout: 1000 });
  }).toPass();
  await expect(page.getByTestId("search-results").getByRole("link")).toHaveText(["holiday.txt"]);
});

test("a visitor searches within a shared folder", async ({ page, browser }) => {
  // The same two names again in a folder: the visitor's search sees only the folder's.
  await openNewFolder(page, "Shared");
  await page.getByTestId("file-input").setInputFiles([
    { name: "quarterly-report.txt", mimeType: "text/plain", buffer: Buffer.from("numbers") },
    { name: "holiday.txt", mimeType: "text/plain", buffer: Buffer.from("sun and a glacier walk") },
  ]);
  await expect(page.getByRole("link", { name: "holiday.txt" })).toBeVisible();
  await page.getByRole("button", { name: "Share folder" }).click();
  const form = page.getByTestId("share-form");
  await form.getByRole("button", { name: "Create link" }).click();
  const link = await form.getByTestId("share-link").getByRole("textbox").inputValue();

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(link);
  await visitor.getByLabel("Search these files").fill("HOLI");
  await visitor.getByLabel("Search these files").press("Enter");
  await expect(visitor).toHaveURL(/\?q=HOLI$/);
  await expect(visitor.getByTestId("share-results").getByTestId("shared-file")).toHaveCount(1);
  await expect(visitor.getByTestId("share-results")).toContainText("holiday.txt");
  await visitor.getByRole("link", { name: "See every file" }).click();
  await expect(visitor.getByTestId("shared-files").getByTestId("shared-file")).toHaveCount(2);
});
