import { expect, test, type Page } from "@playwright/test";
import { signUpAndOpenFiles } from "./support";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tus from "tus-js-client";

const MIB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Limits the page's uplink to `bytesPerSecond` (no limit: -1); returns the DevTools session. */
async function uplink(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

/** The bytes of the file called `name` in the root folder, through the REST API. */
async function downloaded(page: Page, name: string): Promise<Buffer> {
  const listing = await (await page.request.get("/api/v1/folders/root")).json();
  const file = listing.files.find((e: { name: string }) => e.name === name);
  expect(file, `${name} is listed`).toBeTruthy();
  const response = await page.request.get(`/api/v1/files/${file.id}/content?download=1`);
  expect(response.status()).toBe(200);
  return Buffer.from(await response.body());
}

test("a large upload pauses, survives a reload and resumes to the exact bytes", async ({ page }) => {
  test.setTimeout(120_000);
  await signUpAndOpenFiles(page);
  const bytes = randomBytes(40 * MIB);
  const path = join(mkdtempSync(join(tmpdir(), "pannier-e2e-")), "big-video.bin");
  writeFileSync(path, bytes);

  // A slow uplink, so there is time to pause.
  const cdp = await uplink(page, 4 * MIB);
  await page.getByTestId("file-input").setInputFiles(path);
  const item = page.getByTestId("upload-item");
  const percent = async () => Number(await item.getByRole("progressbar").getAttribute("aria-valuenow"));
  await expect.poll(percent, { timeout: 30_000 }).toBeGreaterThan(15);
  await item.getByRole("button", { name: "Pause" }).click();
  await expect(item).toHaveAttribute("data-status", "paused");
  await expect(item).toContainText("Paused at");

  // A reload forgets the queue; the page remembers the upload and offers to continue it.
  await page.reload();
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
  await expect(page.getByTestId("unfinished-uploads")).toContainText("big-video.bin");
  const offsets: number[] = [];
  page.on("request", (request) => {
    if (request.method() === "PATCH") offsets.push(Number(request.headers()["upload-offset"]));
  });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await page.getByTestId("file-input").setInputFiles(path);
  await expect(item).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  expect(offsets[0], "the first chunk after the reload continues, not restarts").toBeGreaterThan(4 * MIB);
  await expect(page.getByTestId("unfinished-uploads")).toBeHidden();
  expect(sha256(await downloaded(page, "big-video.bin"))).toBe(sha256(bytes));
});

test("a real tus client (tus-js-client) uploads, stops, resumes, and the file arrives intact", async ({ page, baseURL }) => {
  await signUpAndOpenFiles(page);
  const cookies = await page.context().cookies();
  const headers = {
    Cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "),
    Origin: baseURL!,
  };
  const data = randomBytes(6 * MIB + 17);
  const options = {
    endpoint: `${baseURL}/api/v1/uploads`,
    chunkSize: MIB,
    headers,
    metadata: { filename: "from-tus-js.bin", filetype: "application/octet-stream" },
  };
  // Send two chunks, then stop, as a client that lost its connection would.
  const url = await new Promise<string>((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(data, {
      ...options,
      onError: reject,
      onChunkComplete: (_size, sent) => {
        if (sent >= 2 * MIB) upload.abort().then(() => resolve(upload.url!), reject);
      },
    });
    upload.start();
  });
  const head = await page.request.head(url, { headers: { "Tus-Resumable": "1.0.0" } });
  expect(Number(head.headers()["upload-offset"])).toBe(2 * MIB);

  // A new client continues the same upload from its URL.
  await new Promise<void>((resolve, reject) => {
    const upload = new tus.Upload(data, { ...options, uploadUrl: url, onError: reject, onSuccess: () => resolve() });
    upload.start();
  });
  expect(sha256(await downloaded(page, "from-tus-js.bin"))).toBe(sha256(data));
  const gone = await page.request.head(url, { headers: { "Tus-Resumable": "1.0.0" } });
  expect(gone.status()).toBe(404);
});

test("a cancelled upload looks cancelled, can be tried again, and leaves no file behind", async ({ page }) => {
  test.setTimeout(90_000);
  await signUpAndOpenFiles(page);
  const path = join(mkdtempSync(join(tmpdir(), "pannier-e2e-")), "half-way.bin");
  writeFileSync(path, randomBytes(12 * MIB));
  await uplink(page, 2 * MIB);
  await page.getByTestId("file-input").setInputFiles(path);
  const item = page.getByTestId("upload-item");
  await expect(item).toHaveAttribute("data-status", "uploading");
  await item.getByRole("button", { name: "Cancel" }).click();
  // Grey and struck through, unlike a running (blue), done (green) or failed (red) upload.
  await expect(item).toHaveAttribute("data-status", "cancelled");
  await expect(item).toContainText("Cancelled at");
  await expect(item.locator("p.line-through")).toHaveCount(1);
  await expect(item.getByRole("progressbar").locator("div")).toHaveClass(/bg-slate-400/);
  await expect(item.getByRole("button", { name: "Retry" })).toBeVisible();
  // Nothing of it is in the folder.
  await page.reload();
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
  await expect(page.getByRole("link", { name: "half-way.bin", exact: true })).toHaveCount(0);
});
