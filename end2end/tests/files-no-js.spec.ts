import { expect, test } from "@playwright/test";
import { signUp } from "./support";

test("without JavaScript: upload with the form, make a folder, rename and delete a file", async ({ page }) => {
  await signUp(page, "Plain Person");
  await page.goto("/files");
  await expect(page.getByTestId("empty-folder")).toBeVisible();

  await page.getByTestId("file-input").setInputFiles([
    { name: "report.txt", mimeType: "text/plain", buffer: Buffer.from("quarterly numbers") },
  ]);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByRole("link", { name: "report.txt" })).toBeVisible();
  // Without JavaScript times are UTC, the same for every reader.
  await expect(page.getByTestId("entries").locator("time")).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

  await page.getByRole("button", { name: "New folder" }).click();
  await page.getByLabel("New folder name").fill("Archive");
  await page.getByRole("button", { name: "Create folder" }).click();
  await expect(page.getByRole("link", { name: "Archive" })).toBeVisible();

  await page.getByRole("link", { name: "report.txt" }).click();
  await expect(page.getByTestId("text-preview")).toHaveText("quarterly numbers");
  // The ⋯ menu opens and its entries open their dialogs without JavaScript too.
  await page.getByLabel("More actions").click();
  await page.getByRole("button", { name: "Rename…" }).click();
  await page.getByLabel("New name").fill("report 2026.txt");
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  await expect(page.getByRole("heading", { name: "report 2026.txt" })).toBeVisible();

  await page.getByLabel("More actions").click();
  await page.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("button", { name: "Delete file" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();
  await expect(page.getByRole("link", { name: "report 2026.txt" })).toHaveCount(0);
});
