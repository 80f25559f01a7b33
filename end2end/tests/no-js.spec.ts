import { expect, test } from "@playwright/test";
import { signUp } from "./support";

// This project runs with JavaScript disabled: only what the server renders counts.

test("the home page is fully server-rendered", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("Pannier");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Pannier");
  await expect(page.getByTestId("tagline")).toContainText("Share files of any size");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("contentinfo")).toContainText("self-hosted file sharing");
  // Needs JavaScript, so it says so by being disabled.
  await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeDisabled();
});

test("a remembered theme applies without JavaScript", async ({ page, context, baseURL }) => {
  await context.addCookies([{ name: "pannier_theme", value: "dark", url: baseURL! }]);
  await page.goto("/");
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await expect(page.locator("body")).not.toHaveCSS("background-color", "rgb(255, 255, 255)");
});

test("the 404 page works without JavaScript", async ({ page }) => {
  const response = await page.goto("/missing");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Pannier");
});

test("without JavaScript a visitor uploads into a file request with the plain form", async ({ page, request }) => {
  // The owner makes the request through the REST API (the browser has no JavaScript).
  await signUp(page, "Plain Owner");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  const cookies = await page.context().cookies();
  const session = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const origin = new URL(page.url()).origin;
  const made = await request.post("/api/v1/shares", {
    headers: { cookie: session, origin },
    data: { folder_id: "root", label: "Drop box", request: { max_file_size: 100 } },
  });
  expect(made.status()).toBe(201);
  const { slug } = await made.json();

  const browser = page.context().browser()!;
  const visitor = await (await browser.newContext({ javaScriptEnabled: false, baseURL: origin })).newPage();
  await visitor.goto(`/s/${slug}`);
  await expect(visitor.getByRole("heading", { name: "Drop box" })).toBeVisible();
  await visitor.getByTestId("file-input").setInputFiles({ name: "big.txt", mimeType: "text/plain", buffer: Buffer.alloc(200, 97) });
  await visitor.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(visitor.getByRole("alert")).toContainText("This request takes files up to 100 B.");
  await visitor.getByTestId("file-input").setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await visitor.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(visitor.getByTestId("sent-files")).toContainText("note.txt");
});
