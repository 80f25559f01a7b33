import { expect, test } from "@playwright/test";
import { signUpAndOpenFiles } from "./support";

test("a file request used by a signed-out visitor", async ({ page, browser }) => {
  await signUpAndOpenFiles(page);
  await page.getByRole("button", { name: "Request files" }).click();
  const form = page.getByTestId("request-form");
  await form.getByLabel("Title").fill("Tax papers");
  await form.getByLabel("Number of files").fill("2");
  await form.getByLabel("File types").fill(".txt, .csv");
  await form.getByRole("button", { name: "Create request link" }).click();
  const link = await form.getByTestId("share-link").getByRole("textbox").inputValue();
  expect(link).toMatch(/\/s\/[A-Za-z0-9_-]{24}$/);

  // A visitor: a fresh browser context, no account, no cookies.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(link);
  await expect(visitor.getByRole("heading", { name: "Tax papers" })).toBeVisible();
  await expect(visitor.getByTestId("request-rules")).toContainText("Types: .txt, .csv");
  await expect(visitor.getByTestId("request-rules")).toContainText("2 more files");
  const input = visitor.getByTestId("file-input");
  await expect(input).toHaveAttribute("accept", ".txt,.csv");

  await input.setInputFiles({ name: "receipts.txt", mimeType: "text/plain", buffer: Buffer.from("2026 receipts") });
  const queue = visitor.getByTestId("upload-queue");
  await expect(queue.locator('[data-status="done"]')).toHaveCount(1);
  // The rules count down as files arrive.
  await expect(visitor.getByTestId("request-rules")).toContainText("1 more file");
  // The picker's filter is a hint; a file the request does not take is refused before a byte
  // is sent (the server would refuse it too) — a refusal, which a retry cannot change.
  const sent: string[] = [];
  visitor.on("request", (request) => sent.push(request.url()));
  await input.setInputFiles({ name: "virus.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ....") });
  const refused = queue.locator('[data-status="refused"]');
  await expect(refused).toContainText("This request takes only these file types: .txt, .csv.");
  await expect(refused.getByRole("button", { name: "Retry" })).toHaveCount(0);
  expect(sent.filter((url) => url.includes("virus.exe"))).toEqual([]);
  await expect(refused.getByRole("progressbar").locator("div")).toHaveClass(/bg-red-600/);
  await expect(queue.locator('[data-status="done"]').getByRole("progressbar").locator("div")).toHaveClass(/bg-emerald-600/);

  // After a reload the visitor sees what they sent — and nobody else does.
  await visitor.reload();
  await expect(visitor.getByTestId("sent-files")).toContainText("receipts.txt");
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(link);
  await expect(stranger.getByRole("heading", { name: "Tax papers" })).toBeVisible();
  await expect(stranger.getByTestId("sent-files")).toHaveCount(0);
  await expect(stranger.getByText("receipts.txt")).toHaveCount(0);

  // The owner has the file, and the request's counts.
  await page.reload();
  await expect(page.getByRole("link", { name: "receipts.txt", exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Shares" }).first().click();
  const item = page.getByTestId("share-item");
  await expect(item).toContainText("Tax papers");
  await expect(item).toContainText("1 of 2 files received");
});
