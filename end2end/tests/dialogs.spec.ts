// Every dialog of the files page and the file page, by keyboard only: it opens from its button
// or menu item, focus moves in and Tab keeps it there, axe finds nothing with it open (light
// and dark), and Escape closes it with focus back where it was.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { signUpAndOpenFiles } from "./support";

/** Presses Enter on `opener` (and the keys that follow, for menus); checks the dialog named
 * `name`; closes it with Escape. `back` is what must have focus afterwards. */
async function byKeyboard(page: Page, opener: Locator, name: string, back: Locator, keys: string[] = []) {
  await opener.focus();
  await page.keyboard.press("Enter");
  if (keys.length) {
    // A menu opened: its keys go to it only once it has focus (the row menu moves focus to its
    // first item as it appears; the ⋯ <details> keeps it on its button, now open).
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("role") === "menuitem"
      || document.activeElement?.closest("details[open]") !== null)).toBe(true);
  }
  for (const key of keys) await page.keyboard.press(key);
  const dialog = page.getByRole("dialog", { name, exact: true });
  await expect(dialog, name).toBeVisible();
  const inside = () => dialog.evaluate((d) => d.contains(document.activeElement));
  await expect.poll(inside, { message: `focus moves into "${name}"` }).toBe(true);
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    // The modal makes the page behind it inert: Tab goes round the dialog (or, past its last
    // control, to the browser's own interface: the body for a moment).
    expect(await dialog.evaluate((d) => d.contains(document.activeElement) || document.activeElement === document.body),
      `Tab stays in "${name}"`).toBe(true);
  }
  const { violations } = await new AxeBuilder({ page }).analyze();
  expect(violations.map((v) => `${name}: ${v.id} ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`)).toEqual([]);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(back, `focus back after "${name}"`).toBeFocused();
}

for (const theme of ["light", "dark"] as const) {
  test(`every dialog of the files and file pages works by keyboard and passes axe, ${theme}`, async ({ browser }) => {
    test.setTimeout(90_000);
    const page = await (await browser.newContext({ colorScheme: theme })).newPage();
    await signUpAndOpenFiles(page);
    const headers = { origin: new URL(page.url()).origin };
    const put = await page.request.put("/api/v1/files?folder_id=root&name=plan.txt&path=Trips",
      { headers, data: Buffer.from("the plan\n") });
    expect(put.status()).toBe(201);
    const file = (await put.json()) as { id: string; folder_id: string };

    // The toolbar of a folder (not the root: it can be shared).
    await page.goto(`/files/${file.folder_id}`);
    await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
    for (const [label, name] of [
      ["New folder", "New folder"],
      ["Share folder", "Share this folder"],
      ["Request files", "Request files into this folder"],
    ]) {
      const button = page.getByRole("button", { name: label, exact: true });
      await byKeyboard(page, button, name, button);
    }

    // An entry's ⋯ menu: its items open the selection's dialogs; focus returns to the ⋯.
    const more = page.getByRole("button", { name: "Actions for plan.txt" });
    const items = ["Open", "Download", "Share…", "Rename…", "Move…", "Delete…"];
    for (const [item, name] of [
      ["Share…", "Share 1 item"],
      ["Rename…", "Rename"],
      ["Move…", "Move 1 item"],
      ["Delete…", "Delete 1 item?"],
    ]) {
      const downs = Array(items.indexOf(item)).fill("ArrowDown");
      await byKeyboard(page, more, name, more, [...downs, "Enter"]);
    }

    // The file page: Share, and the ⋯ menu's dialogs; focus returns to the menu's button.
    await page.goto(`/file/${file.id}`);
    const share = page.getByRole("button", { name: "Share", exact: true });
    await expect(share).toBeVisible();
    await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeEnabled();
    await byKeyboard(page, share, "Share this file", share);
    // The ⋯ menu is a <details>: Enter opens it; Tab reaches its items.
    const summary = page.locator('summary[aria-label="More actions"]');
    for (const [index, name] of ["Rename", "Move", "Description", "Delete this file?"].entries()) {
      await byKeyboard(page, summary, name, summary, [...Array(index + 1).fill("Tab"), "Enter"]);
    }
  });
}
