// Accessibility checked from outside (issue 18): axe-core in Chromium on the
// login page, every page the dashboard's navigation leads to (found at run time,
// so a page added later is covered without touching this file), a conversation,
// the operator console with a conversation open, the demo shop page and the open
// web chat widget in its states (bot reply, quick-reply chips, operator joined).
// Any serious or critical violation of WCAG 2.0/2.1 A and AA fails the test with
// the rule, its impact, the elements and axe's own explanation.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, login, NO_REPLY, test, waitForRasa } from "./helpers";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const BLOCKING = new Set(["serious", "critical"]);

/** The pages the admin's navigation had when this was written; later ones are found too. */
const EXPECTED_NAV = ["overview", "conversations", "inbox", "operator", "shop", "settings", "users", "api-keys", "audit"];

/**
 * Runs axe on what `page` shows now and returns one readable line per serious or
 * critical WCAG violation (an empty list when there is none). Every violation of
 * any impact, best-practice rules (landmarks, headings) included, is logged, so
 * the run's output is the page's accessibility report.
 */
async function audit(page: Page, name: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags([...TAGS, "best-practice"]).analyze();
  // axe ran and checked something: a blank or broken page must not pass silently.
  expect(results.passes.length, `axe checked nothing on ${name}`).toBeGreaterThan(0);
  const summary = results.violations.map((v) => {
    const where = v.nodes.slice(0, 3).map((node) => node.target.join(" >> "));
    return `${v.id} (${v.impact}) ×${v.nodes.length} [${where.join("; ")}${v.nodes.length > 3 ? "; …" : ""}]`;
  });
  console.log(`[a11y] ${name}: ${summary.length ? summary.join(", ") : "no violations"}`);
  return results.violations
    .filter((v) => BLOCKING.has(v.impact ?? "") && v.tags.some((tag) => TAGS.includes(tag)))
    .map((v) => {
      const nodes = v.nodes.slice(0, 8).map((node) => {
        const why = (node.failureSummary ?? "").split("\n").slice(1).join(" ").trim();
        return `    ${node.target.join(" >> ")}${why ? ` — ${why}` : ""}`;
      });
      const more = v.nodes.length > 8 ? [`    … and ${v.nodes.length - 8} more`] : [];
      return [`${name}: ${v.id} (${v.impact}), ${v.nodes.length} node(s): ${v.help} (${v.helpUrl})`, ...nodes, ...more].join("\n");
    });
}

/** Waits until a dashboard page has its heading and no "Loading…" left. */
async function settled(page: Page, name: string): Promise<void> {
  await expect(page.locator("main h1").first(), `${name}: every page shows an <h1> in <main>`).toBeVisible();
  await expect(page.locator("main").getByText(/^(Загрузка…|Loading…)$/), `${name} is still loading`).toHaveCount(0);
}

function report(problems: string[]): string {
  return `serious or critical accessibility violations:\n${problems.join("\n")}`;
}

test.describe.configure({ timeout: 360_000 });

test("dashboard: login, every page in the navigation and a conversation pass axe", async ({ page }) => {
  const problems: string[] = [];

  await page.goto("/");
  await expect(page.locator('input[name="username"]')).toBeVisible();
  problems.push(...(await audit(page, "login")));
  // The refusal shown in place.
  await page.locator('input[name="username"]').fill("admin");
  await page.locator('input[name="password"]').fill("not-the-password");
  await page.getByRole("button", { name: "Войти" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  problems.push(...(await audit(page, "login (refused)")));

  await login(page);
  const links = page.locator("aside nav a");
  const pages = await links.evaluateAll((anchors) =>
    anchors.map((a) => ({ href: a.getAttribute("href") ?? "", name: (a.textContent ?? "").trim() })),
  );
  // The navigation is really read: at least the pages it had when this was written.
  expect(pages.map((p) => p.href.replace(/^#\//, ""))).toEqual(expect.arrayContaining(EXPECTED_NAV));
  for (const { href, name } of pages) {
    await page.goto(`/${href}`);
    await expect(page.locator(`aside nav a[href="${href}"]`)).toHaveClass(/active/);
    await settled(page, href);
    problems.push(...(await audit(page, `${name} (${href})`)));
  }

  // The NLU inbox's other tabs (labelled, dismissed: other rows, other buttons).
  await page.goto("/#/inbox");
  await settled(page, "#/inbox");
  const tabs = page.getByRole("tab");
  for (let i = 1; i < (await tabs.count()); i++) {
    await tabs.nth(i).click();
    await expect(tabs.nth(i)).toHaveAttribute("aria-selected", "true");
    await settled(page, "#/inbox");
    problems.push(...(await audit(page, `inbox tab ${(await tabs.nth(i).textContent())?.trim()}`)));
  }

  // A conversation's transcript (seeded; one with a low-confidence turn in red).
  await page.goto("/#/conversations");
  await settled(page, "#/conversations");
  await page.locator("[data-conversation] a").first().click();
  await expect(page.getByTestId("transcript")).toBeVisible();
  problems.push(...(await audit(page, "conversation detail")));

  // Every page again in English: other words, other widths, the same colours.
  await page.getByTestId("lang-toggle").click();
  await expect(page.getByTestId("lang-toggle")).toHaveText("RU");
  for (const { href } of pages) {
    await page.goto(`/${href}`);
    await settled(page, href);
    problems.push(...(await audit(page, `${href} (English)`)));
  }

  expect(problems.length, report(problems)).toBe(0);
});

test("demo page and the open widget: reply, chips, operator joined pass axe", async ({ browser, page }) => {
  const rasa = await waitForRasa();
  const problems: string[] = [];

  await page.goto(`/demo?rasa=${encodeURIComponent(rasa)}`);
  await expect(page.locator(".ef-launcher")).toBeVisible();
  problems.push(...(await audit(page, "demo page, widget closed")));

  await page.locator(".ef-launcher").click();
  await expect(page.locator(".ef-panel")).toBeVisible();
  await expect(page.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });
  problems.push(...(await audit(page, "widget open, empty")));

  const say = async (text: string, expected: string) => {
    await page.locator(".ef-input").fill(text);
    await page.locator(".ef-send").click();
    await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText(expected, { timeout: 60_000 });
  };
  // A reply with buttons: the cancel confirmation shows Да / Нет chips.
  await say("хочу отменить заказ 3728419056", "4 цифры");
  await page.locator(".ef-input").fill("9914"); // demo_phone("3728419056")
  await page.locator(".ef-send").click();
  await expect(page.locator(".ef-chip")).toHaveText(["Да", "Нет"], { timeout: 60_000 });
  problems.push(...(await audit(page, "widget, bot replies and chips")));
  await page.locator(".ef-chip").filter({ hasText: "Нет" }).click();
  await expect(page.locator(".ef-chip")).toHaveCount(0);

  // An operator joins and answers: the banner and the operator's styled message.
  const sessionId = await page.evaluate(() => localStorage.getItem("easyflow.session_id"));
  await say("позовите оператора", "оператор");
  const operatorContext = await browser.newContext({ baseURL: process.env.EASYFLOW_E2E_API_URL, locale: "ru-RU" });
  const operator = await operatorContext.newPage();
  await login(operator);
  await operator.locator('[data-nav="operator"]').click();
  const waiting = operator.getByTestId("handoffs-waiting").locator(`[data-sender="${sessionId}"]`);
  await expect(waiting).toBeVisible({ timeout: 30_000 });
  await waiting.click();
  const detail = operator.getByTestId("handoff-detail");
  await detail.getByRole("button", { name: "Взять" }).click();
  await expect(detail.getByTestId("handoff-status")).toHaveAttribute("data-status", "active", { timeout: 15_000 });
  await detail.locator('textarea[name="reply"]').fill("Здравствуйте! Я Анна, сейчас посмотрю.");
  await detail.getByRole("button", { name: "Ответить" }).click();
  await expect(detail.getByTestId("handoff-messages").locator('[data-actor="operator"]').last()).toBeVisible({
    timeout: 15_000,
  });
  problems.push(...(await audit(operator, "operator console, conversation taken")));

  await expect(page.locator(".ef-handoff")).toBeVisible({ timeout: 30_000 });
  await expect(page.locator(".ef-msg.ef-operator").last()).toContainText("Анна", { timeout: 30_000 });
  problems.push(...(await audit(page, "widget, operator joined")));

  await detail.getByRole("button", { name: "Вернуть боту" }).click();
  await expect(page.locator(".ef-handoff")).toBeHidden({ timeout: 30_000 });
  await expect(page.locator(".ef-msg.ef-system").last()).toBeVisible();
  problems.push(...(await audit(page, "widget, back to the bot")));
  await operatorContext.close();

  expect(problems.length, report(problems)).toBe(0);
});

test("the widget full-screen on a phone, in English, passes axe", async ({ browser }) => {
  const rasa = await waitForRasa();
  const context = await browser.newContext({
    viewport: { width: 375, height: 740 },
    locale: "en-US",
    isMobile: true,
    hasTouch: true,
    baseURL: process.env.EASYFLOW_E2E_API_URL,
  });
  const page = await context.newPage();
  await page.goto(`/demo?rasa=${encodeURIComponent(rasa)}`);
  await expect(page.locator(".ef-launcher")).toBeVisible();
  const problems = await audit(page, "demo page on a phone");
  await page.locator(".ef-launcher").click();
  await expect(page.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });
  await expect(page.locator(".ef-input")).toHaveAttribute("placeholder", "Type a message…");
  await page.locator(".ef-input").fill("where is my order A-10234");
  await page.locator(".ef-send").click();
  await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("last 4 digits of the phone", {
    timeout: 60_000,
  });
  problems.push(...(await audit(page, "widget on a phone, English")));
  await context.close();
  expect(problems.length, report(problems)).toBe(0);
});
