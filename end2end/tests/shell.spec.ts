import { expect, type Page, test } from "@playwright/test";
import { signUp } from "./support";

test("home page hydrates and the theme toggle works only after hydration", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Pannier");
  await expect(page).toHaveTitle("Pannier");
  const toggle = page.getByRole("button", { name: "Toggle dark mode" });
  // Server-rendered disabled; enabled by the WASM bundle once hydrated.
  await expect(toggle).toBeEnabled();
  const html = page.locator("html");
  await expect(html).not.toHaveClass(/dark/);
  await toggle.click();
  await expect(html).toHaveClass(/\bdark\b/);
  await expect(page.locator("body")).not.toHaveCSS("background-color", "rgb(255, 255, 255)");
});

test("the dark-mode choice persists across reloads and can be undone", async ({ page }) => {
  await page.goto("/");
  const toggle = page.getByRole("button", { name: "Toggle dark mode" });
  await expect(toggle).toBeEnabled();
  await toggle.click();
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);

  await page.reload();
  // Rendered by the server from the cookie: dark before any script runs.
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await expect(toggle).toBeEnabled();
  await toggle.click();
  await expect(page.locator("html")).toHaveClass(/\blight\b/);
  await page.reload();
  await expect(page.locator("html")).toHaveClass(/\blight\b/);
});

test("with no choice the page follows the system dark scheme", async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.locator("body")).not.toHaveCSS("background-color", "rgb(255, 255, 255)");
  await context.close();
});

test("unknown addresses show the 404 page with status 404 and a way home", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await expect(page).toHaveTitle("Page not found");
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Pannier");
});

test("the page is usable by keyboard: skip link first, then the header", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeEnabled();
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  // Then the header in reading order: logo, Home, Sign in, Sign up, the theme toggle.
  for (const name of ["Pannier", "Home", "Sign in", "Sign up"]) {
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name, exact: true }).first()).toBeFocused();
  }
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
});

test("no console errors or hydration warnings on load", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  // Pages run under a Content-Security-Policy whose nonce admits only their own scripts: a
  // blocked script or style would be a console error here.
  for (const path of ["/", "/sign-in"]) {
    const response = await page.goto(path);
    expect(response?.headers()["content-security-policy"]).toContain("'nonce-");
    await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeEnabled();
  }
  await page.goto("/api");
  await expect(page.getByRole("heading", { name: "Pannier API" })).toBeVisible();
  expect(problems).toEqual([]);
});

test("a page loads the code of its own group of pages, the next group on the way there", async ({ page }) => {
  const modules: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (name.endsWith(".wasm")) modules.push(name);
  });
  const group = (name: string) => modules.filter((m) => m.startsWith(`split_${name}_`));
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Toggle dark mode" })).toBeEnabled();
  // The home page: the main module and the public pages' code, named in preload links.
  expect(group("public")).toHaveLength(1);
  for (const other of ["visitor", "owner", "administration"]) expect(group(other)).toEqual([]);
  const preloads = await page.locator('link[rel="preload"][href$=".wasm"]').count();
  expect(preloads).toBeGreaterThan(1);
  expect(modules.length).toBeLessThanOrEqual(12);
  // Signing up leads to the account page: the owner's pages arrive then, not before.
  await signUp(page, "Group Person");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect.poll(() => group("owner").length).toBe(1);
  expect(group("administration")).toEqual([]);
});

test("on a phone the navigation is behind a menu button that works by touch and keyboard", async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  await signUp(page, "Phone Person");
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
  await page.waitForLoadState("networkidle");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Files" })).toBeHidden();
  const menu = nav.getByText("Menu", { exact: true }).or(nav.getByLabel("Menu"));
  await menu.click();
  await nav.getByRole("link", { name: "Files" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();
  // Picking an entry closed the menu.
  await expect(nav.getByRole("link", { name: "Shares" })).toBeHidden();
  // By keyboard: Enter opens it, Escape closes it and leaves focus on the button.
  await menu.focus();
  await page.keyboard.press("Enter");
  await expect(nav.getByRole("link", { name: "Shares" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(nav.getByRole("link", { name: "Shares" })).toBeHidden();
  await expect(menu).toBeFocused();
  // A tap elsewhere closes it too.
  await menu.click();
  await expect(nav.getByRole("button", { name: "Sign out" })).toBeVisible();
  await page.getByRole("heading", { name: "Your files" }).click();
  await expect(nav.getByRole("button", { name: "Sign out" })).toBeHidden();
});

/** The time the bundle last loaded the page again (`frontend::reload`), if it did. */
const reloadedAt = (page: Page) =>
  page.evaluate(() => sessionStorage.getItem("pannier-reloaded-at")).catch(() => null);

test("a page whose code cannot be fetched (a deploy since the tab opened) loads again and works", async ({ page }) => {
  let fetches = 0;
  // The owner's pages' module fails once, as a file of the previous build would.
  await page.route(/\/split_owner_[^/]*\.wasm$/, (route) => (fetches++ === 0 ? route.abort() : route.continue()));
  await signUp(page, "Reload Person");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect.poll(() => reloadedAt(page)).not.toBeNull();
  expect(fetches).toBeGreaterThanOrEqual(2);
  // Loaded again, the page has its code: it navigates and hydrates.
  await page.getByRole("link", { name: "Files" }).click();
  await expect(page.getByRole("heading", { name: "Your files" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
});

test("a module that keeps failing makes the page load again once, not in a loop", async ({ page }) => {
  await page.route(/\/split_owner_[^/]*\.wasm$/, (route) => route.abort());
  let loads = 0;
  page.on("load", () => loads++);
  await signUp(page, "Failing Person");
  await expect.poll(() => reloadedAt(page)).not.toBeNull();
  // The page loaded again (served by the server, without its code): then nothing more.
  await page.waitForTimeout(3000);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  const settled = loads;
  await page.waitForTimeout(3000);
  expect(loads).toBe(settled);
});
