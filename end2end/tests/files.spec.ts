import { expect, test, type Page } from "@playwright/test";
import { openNewFolder, signUpAndOpenFiles } from "./support";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The folder's entries: the list's items (rows, or cards in the grid). */
const entries = (page: Page) => page.getByTestId("entries").locator(":scope > li");
const entry = (page: Page, name: string) =>
  entries(page).filter({ has: page.getByRole("link", { name, exact: true }) });

test("drop files and a folder, watch them upload, then browse, rename, move, delete, download", async ({ page }) => {
  await signUpAndOpenFiles(page);

  // Drag and drop three files onto the page.
  const bytes = Array.from({ length: 300_000 }, (_, i) => i % 251);
  const dataTransfer = await page.evaluateHandle((big) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["alpha text"], "alpha.txt", { type: "text/plain" }));
    transfer.items.add(new File(["bravo"], "bravo.md"));
    transfer.items.add(new File([new Uint8Array(big)], "data.bin"));
    return transfer;
  }, bytes);
  await page.dispatchEvent("h1", "dragover", { dataTransfer });
  await page.dispatchEvent("h1", "drop", { dataTransfer });
  // The uploads show in the tray, which folds to its summary line.
  const tray = page.getByRole("region", { name: "Uploads" });
  const queue = tray.getByTestId("upload-queue");
  await expect(queue.getByTestId("upload-item")).toHaveCount(3);
  await expect(queue.locator('[data-status="done"]')).toHaveCount(3);
  await expect(page.getByTestId("upload-overall")).toContainText("of");
  await expect(queue.getByRole("progressbar").first()).toHaveAttribute("aria-valuenow", "100");
  await expect(entry(page, "alpha.txt")).toBeVisible();
  await expect(entry(page, "data.bin")).toBeVisible();
  await expect(tray.getByRole("heading")).toHaveText("3 of 3 uploaded");
  await tray.getByRole("button", { name: "Hide" }).click();
  await expect(queue).toBeHidden();
  await tray.getByRole("button", { name: "Show" }).click();
  await expect(queue).toBeVisible();

  // A whole folder with a sub-folder, through the folder picker.
  const dir = mkdtempSync(join(tmpdir(), "pannier-e2e-"));
  mkdirSync(join(dir, "Trip", "Day 1"), { recursive: true });
  writeFileSync(join(dir, "Trip", "plan.txt"), "the plan");
  writeFileSync(join(dir, "Trip", "Day 1", "notes.txt"), "day one");
  await page.getByTestId("folder-input").setInputFiles(join(dir, "Trip"));
  await expect(queue.locator('[data-status="done"]')).toHaveCount(5);
  await entry(page, "Trip").getByRole("link").click();
  await expect(page.getByRole("heading", { name: "Trip" })).toBeVisible();
  await expect(entry(page, "plan.txt")).toBeVisible();
  await entry(page, "Day 1").getByRole("link").click();
  await expect(entry(page, "notes.txt")).toBeVisible();
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Files" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();

  // Rename one file through the selection bar's dialog.
  const bar = page.getByTestId("selection-bar");
  await entry(page, "bravo.md").getByRole("checkbox").check();
  await expect(bar).toContainText("1 selected");
  await bar.getByRole("button", { name: "Rename…" }).click();
  const rename = page.getByRole("dialog", { name: "Rename" });
  await expect(rename.getByLabel("New name")).toHaveValue("bravo.md");
  await rename.getByLabel("New name").fill("bravo renamed.md");
  await rename.getByRole("button", { name: "Rename" }).click();
  await expect(rename).toBeHidden();
  await expect(entry(page, "bravo renamed.md")).toBeVisible();
  await expect(bar).toBeHidden();

  // Move it into Trip, chosen in the folder tree; the folder shown cannot be chosen.
  await entry(page, "bravo renamed.md").getByRole("checkbox").check();
  await bar.getByRole("button", { name: "Move…" }).click();
  const move = page.getByRole("dialog", { name: "Move 1 item" });
  await expect(move.getByRole("radio", { name: /Your files/ })).toBeDisabled();
  await move.getByRole("radio", { name: "Trip" }).check();
  await move.getByRole("button", { name: "Move", exact: true }).click();
  await expect(move).toBeHidden();
  await expect(entry(page, "bravo renamed.md")).toHaveCount(0);

  // Delete alpha.txt: the dialog says what goes before anything does.
  await entry(page, "alpha.txt").getByRole("checkbox").check();
  await bar.getByRole("button", { name: "Delete…" }).click();
  const remove = page.getByRole("dialog", { name: "Delete 1 item?" });
  await expect(remove.getByTestId("delete-summary")).toContainText("1 file (10 B) will be deleted");
  await remove.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(remove).toBeHidden();
  await expect(entry(page, "alpha.txt")).toHaveCount(0);

  // The file page previews text and downloads the exact bytes.
  await entry(page, "data.bin").getByRole("link").click();
  await expect(page.getByRole("heading", { name: "data.bin" })).toBeVisible();
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download" }).click();
  const saved = await (await download).path();
  expect(Buffer.compare(readFileSync(saved!), Buffer.from(bytes))).toBe(0);

  await page.goto("/files");
  await entry(page, "Trip").getByRole("link").click();
  await expect(entry(page, "bravo renamed.md")).toBeVisible();
  await entry(page, "plan.txt").getByRole("link").click();
  await expect(page.getByTestId("text-preview")).toHaveText("the plan");
});

test("arrow keys move between entries", async ({ page }) => {
  await signUpAndOpenFiles(page);
  for (const name of ["one", "two"]) {
    await page.getByRole("button", { name: "New folder" }).click();
    await page.getByLabel("New folder name").fill(name);
    await page.getByRole("button", { name: "Create folder" }).click();
    await expect(entry(page, name)).toBeVisible();
  }
  await entry(page, "one").getByRole("link").focus();
  await page.keyboard.press("ArrowDown");
  await expect(entry(page, "two").getByRole("link")).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(entry(page, "one").getByRole("link")).toBeFocused();
});

test("each entry's menu (⋯, a right click) acts on it; dialogs close on Escape; the column headers sort", async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("aaaa") },
    { name: "b.txt", mimeType: "text/plain", buffer: Buffer.from("bb") },
  ]);
  await expect(entries(page)).toHaveCount(2);
  await openNewFolder(page, "Box");
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Files" }).click();
  await expect(entries(page)).toHaveCount(3);

  // By keyboard: ⋯ opens the menu with focus on its first item; Escape gives focus back.
  const more = page.getByRole("button", { name: "Actions for a.txt" });
  await more.focus();
  await page.keyboard.press("Enter");
  const menu = page.getByRole("menu");
  await expect(menu.getByRole("menuitem", { name: "Open" })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "Delete…" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(menu).toBeHidden();
  await expect(more).toBeFocused();

  // Rename from the menu; Escape closes a dialog without doing anything.
  await more.click();
  await menu.getByRole("menuitem", { name: "Rename…" }).click();
  const rename = page.getByRole("dialog", { name: "Rename" });
  await expect(rename.getByLabel("New name")).toHaveValue("a.txt");
  await page.keyboard.press("Escape");
  await expect(rename).toBeHidden();
  await more.click();
  await menu.getByRole("menuitem", { name: "Rename…" }).click();
  await rename.getByLabel("New name").fill("b.txt");
  await rename.getByRole("button", { name: "Rename" }).click();
  // A taken name keeps the dialog open with the reason inside.
  await expect(rename.getByRole("alert")).toContainText(/already/i);
  await rename.getByLabel("New name").fill("c.txt");
  await rename.getByRole("button", { name: "Rename" }).click();
  await expect(rename).toBeHidden();
  await expect(entry(page, "c.txt")).toBeVisible();

  // A right click on a selected row acts on the whole selection: the folder and b.txt go.
  await entry(page, "Box").getByRole("checkbox").check();
  await entry(page, "b.txt").getByRole("checkbox").check();
  await entry(page, "b.txt").click({ button: "right" });
  await menu.getByRole("menuitem", { name: "Delete…" }).click();
  const remove = page.getByRole("dialog", { name: "Delete 2 items?" });
  await expect(remove.getByTestId("delete-summary")).toContainText("1 file (2 B)");
  await remove.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(entries(page)).toHaveCount(1);

  // The headers sort (folders stay first): by size, largest first, then the other way.
  await page.getByRole("button", { name: "New folder" }).click();
  await page.getByLabel("New folder name").fill("Zed");
  await page.getByRole("button", { name: "Create folder" }).click();
  await expect(page.getByRole("dialog", { name: "New folder" })).toBeHidden();
  await page.getByTestId("file-input").setInputFiles([
    { name: "d.txt", mimeType: "text/plain", buffer: Buffer.from("dddddddd") },
  ]);
  await expect(entries(page)).toHaveCount(3);
  const columns = page.getByTestId("columns");
  const files = entries(page).filter({ hasText: ".txt" });
  await columns.getByRole("link", { name: "Size" }).click();
  await expect(page).toHaveURL(/sort=size&order=desc/);
  await expect(files.first()).toContainText("d.txt");
  await columns.getByRole("link", { name: /Size/ }).click();
  await expect(page).toHaveURL(/sort=size$/);
  await expect(files.first()).toContainText("c.txt");
  await expect(entries(page).first()).toContainText("Zed");
});

test("files dropped anywhere on the page upload, with an overlay while they are over it", async ({ page }) => {
  await signUpAndOpenFiles(page);
  const drop = async (target: string, name: string) => {
    const dataTransfer = await page.evaluateHandle((name) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([`${name} text`], name, { type: "text/plain" }));
      return transfer;
    }, name);
    await page.dispatchEvent(target, "dragenter", { dataTransfer });
    await page.dispatchEvent(target, "dragover", { dataTransfer });
    await expect(page.getByTestId("drop-overlay")).toBeVisible();
    await page.dispatchEvent(target, "drop", { dataTransfer });
    await expect(page.getByTestId("drop-overlay")).toBeHidden();
  };
  const before = page.url();
  // Onto the empty state, which says to drop files there.
  await drop('[data-testid="empty-folder"]', "first.txt");
  await expect(entry(page, "first.txt")).toBeVisible();
  // Its time in words, the exact local time on hover.
  const time = entry(page, "first.txt").locator("time");
  await expect(time).toHaveText("just now");
  await expect(time).toHaveAttribute("title", new RegExp(String(new Date().getFullYear())));
  // Onto the list, and onto the page's heading: the page stays, the files arrive.
  await drop('[data-testid="entries"] > li', "second.txt");
  await drop("h1", "third.txt");
  await expect(entry(page, "second.txt")).toBeVisible();
  await expect(entry(page, "third.txt")).toBeVisible();
  expect(page.url()).toBe(before);
  // Text dragged within the page is not a file: no overlay, nothing uploaded.
  const text = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.setData("text/plain", "just words");
    return transfer;
  });
  await page.dispatchEvent("h1", "dragenter", { dataTransfer: text });
  await expect(page.getByTestId("drop-overlay")).toBeHidden();
  await expect(entries(page)).toHaveCount(3);
});

test("the file page shows Markdown, a CSV and code as they read, and ← → go through the folder", async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "a-notes.md", mimeType: "text/markdown", buffer: Buffer.from("# Trip notes\n\n- **tents**\n- [map](https://example.com)\n") },
    { name: "b-budget.csv", mimeType: "text/csv", buffer: Buffer.from("item,cost\ntents,120\n") },
    { name: "c-script.py", mimeType: "text/plain", buffer: Buffer.from("print('hi')\nprint('bye')\n") },
  ]);
  for (const name of ["a-notes.md", "b-budget.csv", "c-script.py"]) {
    await expect(page.getByRole("link", { name })).toBeVisible();
  }
  await page.getByRole("link", { name: "a-notes.md" }).click();
  const markdown = page.getByTestId("markdown-preview");
  await expect(markdown.getByRole("heading", { name: "Trip notes" })).toBeVisible();
  await expect(markdown.locator("strong")).toHaveText("tents");
  await expect(page.getByRole("link", { name: /Previous/ })).toHaveCount(0);

  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("heading", { name: "b-budget.csv", level: 1 })).toBeVisible();
  const table = page.getByTestId("table-preview");
  await expect(table.getByRole("columnheader")).toHaveText(["item", "cost"]);
  await expect(table.getByRole("cell")).toHaveText(["tents", "120"]);

  await page.getByRole("link", { name: /Next: c-script\.py/ }).click();
  await expect(page.getByTestId("code-preview")).toContainText("print('bye')");
  await expect(page.getByTestId("code-preview").locator("pre").first()).toHaveText("1\n2");
  // Typing in a field is typing, not moving on.
  const box = page.getByRole("combobox", { name: "Quick search" });
  await box.press("ArrowLeft");
  await expect(page.getByRole("heading", { name: "c-script.py", level: 1 })).toBeVisible();
  await box.blur();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByRole("heading", { name: "b-budget.csv", level: 1 })).toBeVisible();
});

test("the file page: Download and Share first, the rest in the ⋯ menu's dialogs, the links that show it", async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("the plan") },
    { name: "other.txt", mimeType: "text/plain", buffer: Buffer.from("other") },
  ]);
  await expect(entries(page)).toHaveCount(2);
  await entry(page, "plan.txt").getByRole("link").click();
  await expect(page.getByRole("heading", { name: "plan.txt", level: 1 })).toBeVisible();
  await expect(page.getByTestId("file-links")).toContainText("No link shows this file yet");

  // Share: the dialog makes the link; the page lists it with its state.
  await page.getByRole("button", { name: "Share", exact: true }).click();
  const share = page.getByRole("dialog", { name: "Share this file" });
  await share.getByLabel("Title").fill("The plan");
  await share.getByRole("button", { name: "Create link" }).click();
  await expect(share.getByTestId("share-link")).toBeVisible();
  await share.getByRole("button", { name: "Close" }).click();
  await expect(share).toBeHidden();
  await page.reload();
  const links = page.getByTestId("file-links");
  await expect(links.getByRole("link", { name: "The plan" })).toBeVisible();
  await expect(links).toContainText("Active");
  await expect(links).toContainText("0 views");

  // The ⋯ menu closes on Escape (focus back on its button) and on a click elsewhere.
  const more = page.getByLabel("More actions");
  const renameItem = page.getByRole("button", { name: "Rename…" });
  await more.click();
  await expect(renameItem).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(renameItem).toBeHidden();
  await expect(more).toBeFocused();
  await more.click();
  await page.getByRole("heading", { name: "plan.txt", level: 1 }).click();
  await expect(renameItem).toBeHidden();

  // A description, from the menu.
  await page.getByLabel("More actions").click();
  await page.getByRole("button", { name: "Description…" }).click();
  const describe = page.getByRole("dialog", { name: "Description" });
  await describe.getByRole("textbox").fill("Read before Monday");
  await describe.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("description")).toHaveText("Read before Monday");

  // A taken name: the reason shows inside the dialog, which stays open; Cancel closes it.
  await page.getByLabel("More actions").click();
  await page.getByRole("button", { name: "Rename…" }).click();
  const rename = page.getByRole("dialog", { name: "Rename" });
  await rename.getByLabel("New name").fill("other.txt");
  await rename.getByRole("button", { name: "Rename", exact: true }).click();
  await expect(rename.getByRole("alert")).toContainText("already a file named");
  await rename.getByRole("button", { name: "Cancel" }).click();
  await expect(rename).toBeHidden();
  await expect(page.getByRole("heading", { name: "plan.txt", level: 1 })).toBeVisible();

  // Delete says what goes, then goes back to the folder.
  await page.getByLabel("More actions").click();
  await page.getByRole("button", { name: "Delete…" }).click();
  const remove = page.getByRole("dialog", { name: "Delete this file?" });
  await expect(remove).toContainText("“plan.txt” (8 B) will be deleted");
  await remove.getByRole("button", { name: "Delete file" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();
  await expect(entry(page, "plan.txt")).toHaveCount(0);
});
