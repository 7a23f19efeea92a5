// Merchant dashboard against the real api with a freshly seeded database.
import { readFileSync } from "node:fs";
import { apiGet, expect, login, shot, test, token } from "./helpers";

interface Overview {
  conversations: number;
  messages: number;
  containment_rate: number | null;
  fallback_rate: number | null;
  handoff_rate: number | null;
  csat_avg: number | null;
  csat_count: number;
  payment_links: number;
  payments_paid: number;
  payment_conversion: number | null;
  order_updates_sent: number;
  order_updates_opt_ins: number;
  order_updates_opt_outs: number;
  status_questions_prevented: number | null;
}
interface Daily {
  day: string;
  channel: string;
  conversations: number;
}

function isoDay(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}
/** The overview's default range: the last 30 days up to today. */
function defaultRange(): { start: string; end: string } {
  const start = new Date();
  start.setDate(start.getDate() - 29);
  return { start: isoDay(start), end: isoDay(new Date()) };
}
const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`);

test("login: a wrong password is refused, admin/admin signs in", async ({ page }) => {
  await page.goto("/");
  await page.locator('input[name="username"]').fill("admin");
  await page.locator('input[name="password"]').fill("not-the-password");
  await page.getByRole("button", { name: "Войти" }).click();
  await expect(page.getByRole("alert")).toContainText("Неверный логин или пароль");
  await login(page);
  await expect(page.locator('[data-nav="overview"]')).toHaveClass(/active/);
  await shot(page, "01-login-overview");
});

test("overview shows the seeded numbers, filters by channel and exports CSV", async ({ page }) => {
  const bearer = await token();
  const { start, end } = defaultRange();
  const overview = await apiGet<Overview>(`/api/analytics/overview?start=${start}&end=${end}`, bearer);
  const daily = await apiGet<Daily[]>(`/api/analytics/daily?start=${start}&end=${end}`, bearer);
  // The seed's documented figures (api/easyflow_api/seed.py).
  expect(overview).toMatchObject({ conversations: 10, csat_count: 5, payment_links: 2, payments_paid: 1 });
  expect(overview.csat_avg).toBeCloseTo(3.8);

  await login(page);
  const kpi = (id: string) => page.locator(`[data-kpi="${id}"] .kpi-value`);
  await expect(kpi("conversations")).toHaveText(String(overview.conversations));
  await expect(kpi("containment")).toHaveText(pct(overview.containment_rate));
  await expect(kpi("fallback")).toHaveText(pct(overview.fallback_rate));
  await expect(kpi("handoff")).toHaveText(pct(overview.handoff_rate));
  await expect(kpi("payment")).toHaveText("50.0%");
  await expect(page.locator('[data-kpi="payment"] .kpi-sub')).toHaveText(
    `${overview.payments_paid} оплачено из ${overview.payment_links} ссылок`,
  );
  await expect(kpi("updates")).toHaveText(String(overview.order_updates_sent));
  await expect(page.locator('[data-kpi="updates"] .kpi-sub')).toHaveText(
    `подписались: ${overview.order_updates_opt_ins}, отписались: ${overview.order_updates_opt_outs}`,
  );
  const prevented = overview.status_questions_prevented;
  await expect(kpi("prevented")).toHaveText(prevented === null ? "—" : String(prevented));
  await expect(kpi("csat")).toHaveText("3.80");
  await expect(page.locator('[data-kpi="csat"] .kpi-sub')).toHaveText("5 оценок");
  await expect(page.locator('[data-kpi="conversations"] .kpi-sub')).toHaveText(`Сообщений: ${overview.messages}`);

  // The stacked chart draws one bar per day with the api's per-day totals.
  const chart = page.getByTestId("daily-chart");
  const total = daily.reduce((sum, row) => sum + row.conversations, 0);
  await expect(chart).toHaveAttribute("data-total", String(total));
  const days = [...new Set(daily.map((r) => r.day))];
  await expect(chart.locator("g[data-day]")).toHaveCount(30);
  await expect(chart.locator('g[data-day]:not([data-total="0"])')).toHaveCount(days.length);
  for (const day of days.slice(0, 3)) {
    const dayTotal = daily.filter((r) => r.day === day).reduce((s, r) => s + r.conversations, 0);
    await expect(chart.locator(`g[data-day="${day}"]`)).toHaveAttribute("data-total", String(dayTotal));
  }
  for (const channel of new Set(daily.map((r) => r.channel))) {
    await expect(chart.locator(".legend")).toContainText(channel);
  }
  await expect(page.getByTestId("rates-chart").locator(".hbar")).toHaveCount(5);
  await shot(page, "02-overview");

  // Channel filter: the numbers follow the api's for that channel.
  const channel = [...new Set(daily.map((r) => r.channel))].sort()[0];
  const filtered = await apiGet<Overview>(`/api/analytics/overview?start=${start}&end=${end}&channel=${channel}`, bearer);
  await page.locator('select[name="channel"]').selectOption(channel);
  await expect(kpi("conversations")).toHaveText(String(filtered.conversations));
  await expect(chart.locator(".legend-item")).toHaveCount(1);
  await shot(page, "03-overview-channel");

  const downloadPromise = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  expect(csv.split("\n")[0]).toMatch(/day/i);
  expect(csv).toContain(channel);
});

test("conversations: list, transcript with intents and actions, tag and review", async ({ page }) => {
  const bearer = await token();
  const list = await apiGet<{ items: { id: number | string }[]; total: number }>("/api/conversations?limit=50", bearer);
  expect(list.total).toBeGreaterThan(0);

  await login(page);
  await page.locator('[data-nav="conversations"]').click();
  await expect(page.getByTestId("conversations-total")).toContainText(String(list.total));
  const first = list.items[0];
  await page.locator(`tr[data-conversation="${first.id}"]`).click();
  await expect(page).toHaveURL(new RegExp(`#/conversations/${first.id}$`));

  const detail = await apiGet<{
    events: { actor: string; intent: string | null; confidence: number | null; action: string | null }[];
  }>(`/api/conversations/${first.id}`, bearer);
  const transcript = page.getByTestId("transcript");
  await expect(transcript.locator("tbody tr")).toHaveCount(detail.events.length);
  const userTurn = detail.events.findIndex((e) => e.actor === "user" && e.intent);
  expect(userTurn, "a seeded conversation has a shopper turn with an intent").toBeGreaterThanOrEqual(0);
  const row = transcript.locator("tbody tr").nth(userTurn);
  await expect(row.locator("td").nth(2)).toHaveText(detail.events[userTurn].intent as string);
  if (detail.events[userTurn].confidence !== null) {
    await expect(row.locator("td").nth(3)).toHaveText((detail.events[userTurn].confidence as number).toFixed(2));
  }
  const actionTurn = detail.events.findIndex((e) => e.actor === "action" && e.action);
  if (actionTurn >= 0) {
    await expect(transcript.locator("tbody tr").nth(actionTurn).locator("td").nth(4)).toHaveText(
      detail.events[actionTurn].action as string,
    );
  }

  await page.locator('form input[name="tag"]').fill("e2e-проверка");
  await page.getByRole("button", { name: "Добавить тег" }).click();
  await expect(page.getByTestId("conversation-tags")).toContainText("e2e-проверка");
  const reviewedBefore = (await page.getByTestId("reviewed-state").textContent())?.includes("Да");
  await page.getByTestId("toggle-reviewed").click();
  await expect(page.getByTestId("reviewed-state")).toContainText(reviewedBefore ? "Нет" : "Да");
  const after = await apiGet<{ tags: string[]; reviewed: boolean }>(`/api/conversations/${first.id}`, bearer);
  expect(after.tags).toContain("e2e-проверка");
  expect(after.reviewed).toBe(!reviewedBefore);
  await shot(page, "04-transcript");

  // The tag filter finds it.
  await page.goto("/#/conversations");
  await page.locator('.filters input[name="tag"]').fill("e2e-проверка");
  await expect(page.locator(`tr[data-conversation="${first.id}"]`)).toBeVisible();
  await expect(page.getByTestId("conversations-total")).toHaveText("Всего: 1");
});

test("NLU inbox: label a message, then the YAML export contains it", async ({ page }) => {
  const bearer = await token();
  const open = await apiGet<{ id: number | string; text: string }[]>("/api/inbox?status=open", bearer);
  const intents = await apiGet<string[]>("/api/intents", bearer);
  expect(open.length, "the seed has misunderstood messages").toBeGreaterThan(0);
  const intent = intents.includes("order_status") ? "order_status" : intents[0];
  const item = open[0];

  await login(page);
  await page.locator('[data-nav="inbox"]').click();
  const row = page.locator(`tr[data-inbox-id="${item.id}"]`);
  await expect(row).toContainText(item.text);
  await shot(page, "05-inbox");
  await row.locator('select[name="intent"]').selectOption(intent);
  await row.getByRole("button", { name: "Назначить" }).click();
  await expect(row).toHaveCount(0);

  await page.getByRole("tab", { name: "Размечены" }).click();
  await expect(page.locator(`tr[data-inbox-id="${item.id}"]`)).toContainText(intent);

  // Dismiss another one, if the seed has it.
  if (open.length > 1) {
    await page.getByRole("tab", { name: "Новые" }).click();
    const other = page.locator(`tr[data-inbox-id="${open[1].id}"]`);
    await other.getByRole("button", { name: "Отклонить" }).click();
    await expect(other).toHaveCount(0);
  }

  const downloadPromise = page.waitForEvent("download");
  await page.getByTestId("export-yaml").click();
  const download = await downloadPromise;
  const yaml = readFileSync(await download.path(), "utf8");
  expect(yaml).toMatch(/version:\s*["']3\.1["']/);
  expect(yaml).toMatch(/^nlu:/m);
  expect(yaml).toContain(`- intent: ${intent}`);
  expect(yaml).toContain(`- ${item.text}`);
  if (open.length > 1) expect(yaml).not.toContain(`- ${open[1].text}\n`);
  await shot(page, "06-inbox-labelled");
});

test("settings show what is configured and only whether secrets are present", async ({ page }) => {
  const bearer = await token();
  const settings = await apiGet<{ secrets: Record<string, string>; channels: { name: string }[] }>("/api/settings", bearer);
  await login(page);
  await page.locator('[data-nav="settings"]').click();
  for (const channel of settings.channels) {
    await expect(page.locator(`[data-setting="${channel.name}"]`).first()).toBeVisible();
  }
  const secrets = page.getByTestId("secrets");
  for (const [name, state] of Object.entries(settings.secrets)) {
    await expect(secrets.locator(`[data-secret="${name}"] .badge`)).toHaveText(state === "present" ? "задан" : "не задан");
  }
  await page.getByTestId("lang-toggle").click();
  await expect(page.locator("h1")).toHaveText("Settings");
  await shot(page, "07-settings-en");
});

test("operator console lists the seeded waiting and active handoffs with their messages", async ({ page }) => {
  const bearer = await token();
  const waiting = await apiGet<{ id: number; sender_id: string }[]>("/api/handoffs?status=waiting", bearer);
  const active = await apiGet<{ id: number; sender_id: string }[]>("/api/handoffs?status=active", bearer);
  expect(waiting.length).toBeGreaterThan(0);
  expect(active.length).toBeGreaterThan(0);
  const detail = await apiGet<{ messages: { actor: string; text: string }[] }>(`/api/handoffs/${waiting[0].id}`, bearer);

  await login(page);
  await page.locator('[data-nav="operator"]').click();
  await expect(page.getByTestId("handoffs-waiting").locator("[data-handoff]")).toHaveCount(waiting.length);
  await expect(page.getByTestId("handoffs-active").locator("[data-handoff]")).toHaveCount(active.length);
  await page.getByTestId("handoffs-waiting").locator(`[data-handoff="${waiting[0].id}"]`).click();
  const messages = page.getByTestId("handoff-messages");
  await expect(messages.locator(".bubble")).toHaveCount(detail.messages.length);
  await expect(messages.locator(".bubble").last()).toContainText(detail.messages[detail.messages.length - 1].text);
  await expect(page.getByTestId("handoff-detail").getByRole("button", { name: "Взять" })).toBeVisible();
  await shot(page, "08-operator-console");

  await page.getByTestId("handoffs-active").locator(`[data-handoff="${active[0].id}"]`).click();
  await expect(page.getByTestId("handoff-status")).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("handoff-status")).toHaveText("В работе");
  await expect(page.locator('textarea[name="reply"]')).toBeVisible();
  await expect(page.getByTestId("handoff-detail").getByRole("button", { name: "Вернуть боту" })).toBeVisible();
});
