import { expect, test } from "@playwright/test";
import { signUp } from "./support";

test("without JavaScript: search from the header, see results, a bad query's reason, no results", async ({ page }) => {
  await signUp(page, "Finder Person");
  await page.goto("/files");
  await page.getByTestId("file-input").setInputFiles([
    { name: "Invoice-2026.txt", mimeType: "text/plain", buffer: Buffer.from("due in december") },
    { name: "Café menu.txt", mimeType: "text/plain", buffer: Buffer.from("espresso") },
  ]);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByRole("link", { name: "Café menu.txt" })).toBeVisible();

  // The header's box is a plain form: Enter opens the results page.
  await page.getByLabel("Quick search").fill("voice");
  await page.getByLabel("Quick search").press("Enter");
  await expect(page).toHaveURL(/\/search\?q=voice/);
  const results = page.getByTestId("search-results");
  await expect(results.getByRole("link")).toHaveText(["Invoice-2026.txt"]);

  await page.goto("/search?q=cafe");
  await expect(page.getByTestId("search-results").getByRole("link")).toHaveText(["Café menu.txt"]);
  await page.getByTestId("search-results").getByRole("link", { name: "Café menu.txt" }).click();
  await expect(page.getByRole("heading", { name: "Café menu.txt" })).toBeVisible();

  await page.goto("/search?q=" + encodeURIComponent('"unclosed'));
  await expect(page.getByText("A quote is not closed")).toBeVisible();
  await page.goto("/search?q=" + encodeURIComponent("nothing-here type:pdf"));
  await expect(page.getByTestId("no-results")).toContainText("Try without a filter");
  // Each filter is a chip whose link is the same search without it.
  await page.getByRole("link", { name: "Remove the filter type:pdf" }).click();
  await expect(page).toHaveURL(/\/search\?q=nothing-here$/);
});
