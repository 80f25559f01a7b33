import { expect, test } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signUpAndOpenFiles } from "./support";

// The instance on S3 with PANNIER_S3_DIRECT_UPLOADS=true (scripts/e2e-s3-server.sh).
const app = process.env.E2E_DIRECT_URL!;
const s3 = `http://127.0.0.1:${process.env.E2E_S3_PORT ?? 3102}`;
const MIB = 1024 * 1024;
test.use({ baseURL: app });

test("with direct uploads on, a large file's parts go from the browser straight to S3", async ({ page }) => {
  // The bucket's CORS rule from the README (s3s-fs implements none): preflights answered,
  // PUT allowed from the app's origin, ETag exposed. The bytes still go to the real S3 server.
  const cors = {
    "access-control-allow-origin": app,
    "access-control-allow-methods": "PUT",
    "access-control-allow-headers": "*",
    "access-control-expose-headers": "ETag",
  };
  const parts: number[] = [];
  await page.route(`${s3}/**`, async (route) => {
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    parts.push(route.request().postDataBuffer()?.length ?? 0);
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), ...cors } });
  });
  const patches: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "PATCH") patches.push(request.url());
  });

  await signUpAndOpenFiles(page);
  const bytes = randomBytes(20 * MIB + 5);
  const path = join(mkdtempSync(join(tmpdir(), "pannier-e2e-")), "straight-to-s3.bin");
  writeFileSync(path, bytes);
  await page.getByTestId("file-input").setInputFiles(path);
  const item = page.getByTestId("upload-item");
  await expect(item).toHaveAttribute("data-status", "done", { timeout: 60_000 });

  expect(parts, "8 MiB parts, the last one shorter").toEqual([8 * MIB, 8 * MIB, 4 * MIB + 5]);
  expect(patches, "no bytes through the app").toEqual([]);
  const listing = await (await page.request.get("/api/v1/folders/root")).json();
  const file = listing.files.find((f: { name: string }) => f.name === "straight-to-s3.bin");
  expect(file.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
  const stored = await page.request.get(`/api/v1/files/${file.id}/content?download=1`);
  expect(Buffer.from(await stored.body()).equals(bytes)).toBe(true);
});
