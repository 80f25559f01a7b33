// Every page, as the owner, a visitor and the admin see it: on a 360 px phone and a 1366 px
// desktop, in light and in dark — no sideways scrolling, and no axe-core violations.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { signInAsAdmin, signUp } from "./support";

// A real 1×1 PNG, so pages show a preview and a thumbnail.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082",
  "hex",
);

const screens = [
  { name: "phone", viewport: { width: 360, height: 740 } },
  { name: "desktop", viewport: { width: 1366, height: 800 } },
];
const themes = ["light", "dark"] as const;


/** An account with a picture and a text file, a folder, and links of every kind to them. */
async function makeSite(page: Page) {
  await signUp(page, "Page Person");
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
  // Signed in and hydrated (the no-JavaScript upload button hides itself).
  await page.goto("/files");
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
  // page.request carries the session cookie; the origin is what the CSRF check wants.
  const headers = { origin: new URL(page.url()).origin };
  const put = async (name: string, body: Buffer, path = "") => {
    const query = `folder_id=root&name=${encodeURIComponent(name)}${path ? `&path=${path}` : ""}`;
    const made = await page.request.put(`/api/v1/files?${query}`, { headers, data: body });
    expect(made.status(), `${await made.text()} ${JSON.stringify(await page.context().cookies())}`).toBe(201);
    return (await made.json()) as { id: string; folder_id: string };
  };
  const picture = await put("sunset at the lake.png", PNG);
  await put("notes.txt", Buffer.from("a few notes\n"));
  const inner = await put("plan.txt", Buffer.from("the plan\n"), "Trips/2026");
  const share = async (data: object) => {
    const made = await page.request.post("/api/v1/shares", { headers, data });
    expect(made.status()).toBe(201);
    return `/s/${(await made.json()).slug}`;
  };
  return {
    owner: [
      "/",
      "/files",
      `/files/${inner.folder_id}`,
      `/file/${picture.id}`,
      "/shares",
      "/account",
      "/search?q=sunset",
      "/search?q=nothing+like+this",
    ],
    visitor: [
      "/",
      "/sign-in",
      "/sign-up",
      "/missing",
      await share({ folder_id: "root", label: "Holiday", allow_zip: true }),
      await share({ file_ids: [picture.id] }),
      await share({ file_ids: [picture.id], password: "open sesame" }),
      await share({ folder_id: "root", label: "Tax papers", request: { max_file_size: 1000 } }),
    ],
  };
}

/** Opens `path` hydrated and checks it fits the width and passes axe; returns what failed. */
async function inspect(page: Page, path: string) {
  const response = await page.goto(path);
  expect(response!.status(), path).toBeLessThan(500);
  await page.waitForLoadState("networkidle");
  const problems: string[] = [];
  const [scroll, width, culprits] = await page.evaluate(() => {
    // The innermost elements that reach past the window's right edge: what to fix.
    const past = (e: Element) => e.getBoundingClientRect().right > window.innerWidth + 0.5;
    const culprits = [...document.body.querySelectorAll("*")]
      .filter((e) => past(e) && ![...e.children].some(past))
      .slice(0, 3)
      .map((e) => `<${e.tagName.toLowerCase()} class="${e.getAttribute("class") ?? ""}">`);
    return [document.documentElement.scrollWidth, window.innerWidth, culprits.join(" ")] as const;
  });
  if (scroll > width) problems.push(`${path}: ${scroll} px wide in a ${width} px window: ${culprits}`);
  const { violations } = await new AxeBuilder({ page }).analyze();
  for (const v of violations) {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ");
    problems.push(`${path}: ${v.id} (${v.impact}) ${v.help} — ${where}`);
  }
  return problems;
}

for (const screen of screens) {
  for (const theme of themes) {
    test(`every page fits a ${screen.name} and passes axe, ${theme}`, async ({ browser }) => {
      test.setTimeout(120_000);
      const context = { colorScheme: theme, viewport: screen.viewport };
      const page = await (await browser.newContext(context)).newPage();
      const site = await makeSite(page);
      const visitor = await (await browser.newContext(context)).newPage();
      const admin = await signInAsAdmin(browser, context);
      const problems: string[] = [];
      for (const path of site.owner) problems.push(...(await inspect(page, path)));
      for (const path of site.visitor) problems.push(...(await inspect(visitor, path)));
      problems.push(...(await inspect(admin, "/admin")));
      problems.push(...(await inspect(admin, "/admin/users")));
      problems.push(...(await inspect(admin, "/admin/audit")));
      problems.push(...(await inspect(admin, "/admin/status")));
      problems.push(...(await inspect(visitor, "/reset-password?token=no-such-link")));
      expect(problems, problems.join("\n")).toEqual([]);
    });
  }
}
