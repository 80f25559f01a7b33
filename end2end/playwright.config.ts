import { defineConfig } from "@playwright/test";

// Debian's Chromium; Playwright never downloads a browser here.
const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};

const port = Number(process.env.E2E_PORT ?? 3100);
/** The S3 instance (see webServer below); its tests read it from E2E_DIRECT_URL. */
const directPort = Number(process.env.E2E_DIRECT_PORT ?? 3101);
process.env.E2E_DIRECT_URL = `http://127.0.0.1:${directPort}`;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    colorScheme: "light",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "chromium", testIgnore: /no-js/, use: { ...chromium } },
    { name: "chromium-no-js", testMatch: /no-js/, use: { ...chromium, javaScriptEnabled: false } },
  ],
  webServer: [
    {
      command: "../scripts/e2e-server.sh",
      url: `http://127.0.0.1:${port}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // The same build on S3 (s3s-fs) with direct-to-S3 uploads: tests/direct-upload.spec.ts.
      command: "../scripts/e2e-s3-server.sh",
      url: `http://127.0.0.1:${directPort}/readyz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
