import { expect, test } from "@playwright/test";

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
