import { expect, test } from "@playwright/test";
import { signUpAndOpenFiles } from "./support";

test("search by keyboard: type a query, open a result with Enter", async ({ page }) => {
  await signUpAndOpenFiles(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "quarterly-report.txt", mimeType: "text/plain", buffer: Buffer.from("numbers") },
    { name: "holiday.txt", mimeType: "text/plain", buffer: Buffer.from("sun") },
  ]);
  await expect(page.getByRole("link", { name: "quarterly-report.txt" })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search" }).click();
  const box = page.getByLabel("Search your files");
  await expect(box).toBeFocused();
  await box.fill("REPORT");
  await box.press("Enter");
  const results = page.getByTestId("search-results");
  await expect(results.getByRole("link")).toHaveText(["quarterly-report.txt"]);
  await results.getByRole("link", { name: "quarterly-report.txt" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "quarterly-report.txt" })).toBeVisible();
});
