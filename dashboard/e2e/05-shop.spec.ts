// Shop settings against the real api: an admin renames the shop and writes the
// greetings (a refused time zone saves nothing), and the widget on the demo page
// shows the new name and the greeting in the shopper's language; a save made
// from a stale version (another admin saved meanwhile) is refused with "reload";
// an operator reads the settings but cannot change them. Needs no Rasa: the
// widget reads the api's public /api/public/shop. The tests run in order.
import type { Browser, Page } from "@playwright/test";
import { apiGet, apiUrl, expect, login, shot, test, token } from "./helpers";

test.describe.configure({ mode: "serial" });

const NAME = "Кеды и Ко Маркет";
const GREETING_RU = "Здравствуйте! Это магазин Кеды и Ко. Спросите про заказ или возврат.";
const GREETING_EN = "Hello from Kedy & Co! Ask about an order or a return.";

interface ShopSettings {
  version: number;
  name: string | null;
  greeting: { ru: string; en: string };
  working_hours: { timezone: string; days: Record<string, string> };
  return_window_days: number;
  languages: string[];
}

async function settings(): Promise<ShopSettings> {
  return apiGet<ShopSettings>("/api/shop-settings", await token());
}

async function putSettings(body: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${apiUrl()}/api/shop-settings`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${await token()}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.status;
}

/** The demo shop page in a fresh browser context (nothing cached) with the widget open. */
async function shopper(browser: Browser, locale: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: apiUrl(), locale });
  const page = await context.newPage();
  await page.goto("/demo?easyflow_open=1");
  return page;
}

test("admin renames the shop and sets greetings; the widget shows them", async ({ page, browser }) => {
  // Before anyone saves: the server's defaults, and the widget keeps the embed's own title.
  const before = await shopper(browser, "ru-RU");
  await expect(before.locator("#easyflow-widget .ef-title")).toHaveText("Кеды и Ко — помощник");
  await expect(before.locator("#easyflow-widget .ef-greeting")).toHaveCount(0);
  await before.context().close();

  await login(page);
  await page.locator('[data-nav="shop"]').click();
  await expect(page.locator("h1")).toHaveText("Магазин");
  const form = page.getByTestId("shop-form");
  await expect(form).toHaveAttribute("data-version", "0");
  await expect(page.getByTestId("shop-meta")).toHaveText(
    "Настройки ещё не сохранялись: показаны значения из конфигурации сервера.",
  );

  // The api refuses an unknown time zone: the message names the field, nothing is saved.
  await form.getByLabel("Название магазина").fill(NAME);
  await form.getByLabel("Приветствие (Русский)").fill(GREETING_RU);
  await form.getByLabel("Приветствие (English)").fill(GREETING_EN);
  await form.getByLabel("Часовой пояс").fill("Mars/Olympus");
  await form.getByRole("button", { name: "Сохранить настройки" }).click();
  const errors = page.getByTestId("shop-errors");
  await expect(errors).toContainText("Часовой пояс: неизвестный часовой пояс: укажите название вроде Europe/Moscow");
  await expect(form.getByLabel("Часовой пояс")).toHaveAttribute("aria-invalid", "true");
  expect((await settings()).version).toBe(0);
  await shot(page, "50-shop-refused");

  // Corrected: Saturday from 10:00, Sunday off, a 30-day return window.
  await form.getByLabel("Часовой пояс").fill("Europe/Moscow");
  await form.getByLabel("Начало работы, суббота").fill("10:00");
  await form.getByLabel("Выходной, воскресенье").check();
  await expect(form.getByLabel("Начало работы, воскресенье")).toBeDisabled();
  await form.getByLabel("Срок возврата, дней").fill("30");
  await form.getByRole("button", { name: "Сохранить настройки" }).click();
  await expect(page.getByTestId("shop-outcome")).toHaveText(
    "Настройки сохранены (версия 1). Виджет покажет их в течение минуты.",
  );
  await expect(errors).toHaveCount(0);
  await expect(form).toHaveAttribute("data-version", "1");
  await expect(page.getByTestId("shop-meta")).toContainText("Изменено: admin");
  const saved = await settings();
  expect(saved.name).toBe(NAME);
  expect(saved.greeting).toEqual({ ru: GREETING_RU, en: GREETING_EN });
  expect(saved.working_hours.days.sat).toBe("10:00-24:00");
  expect(saved.working_hours.days.sun).toBe("closed");
  expect(saved.working_hours.days.mon).toBe("00:00-24:00");
  expect(saved.return_window_days).toBe(30);
  await shot(page, "51-shop-saved");

  // The widget: the new name, and the greeting in the shopper's language.
  const ru = await shopper(browser, "ru-RU");
  await expect(ru.locator("#easyflow-widget .ef-title")).toHaveText(NAME);
  await expect(ru.locator("#easyflow-widget .ef-greeting")).toHaveText(GREETING_RU);
  await expect(ru.getByRole("dialog", { name: NAME })).toBeVisible();
  await shot(ru, "52-widget-shop-ru", false);
  await ru.context().close();
  const en = await shopper(browser, "en-US");
  await expect(en.locator("#easyflow-widget .ef-title")).toHaveText(NAME);
  await expect(en.locator("#easyflow-widget .ef-greeting")).toHaveText(GREETING_EN);
  await en.context().close();

  // The api unreachable or failing: the widget works as before the settings existed.
  for (const fail of ["abort", "500"]) {
    const context = await browser.newContext({ baseURL: apiUrl(), locale: "ru-RU" });
    const broken = await context.newPage();
    let answered!: () => void;
    const failed = new Promise<void>((resolve) => (answered = resolve));
    await broken.route("**/api/public/shop", async (route) => {
      await (fail === "abort" ? route.abort() : route.fulfill({ status: 500, body: "oops" }));
      answered();
    });
    await broken.goto("/demo?easyflow_open=1");
    await failed;
    await broken.waitForTimeout(500); // the widget has had the failure; it must not change
    await expect(broken.locator("#easyflow-widget .ef-title")).toHaveText("Кеды и Ко — помощник");
    await expect(broken.locator("#easyflow-widget .ef-greeting")).toHaveCount(0);
    await expect(broken.locator("#easyflow-widget .ef-input")).toBeEditable();
    await context.close();
  }

  // English switched off: an English-speaking shopper gets the Russian greeting.
  await form.getByLabel("English", { exact: true }).uncheck();
  await form.getByRole("button", { name: "Сохранить настройки" }).click();
  await expect(form).toHaveAttribute("data-version", "2");
  const enOff = await shopper(browser, "en-US");
  await expect(enOff.locator("#easyflow-widget .ef-greeting")).toHaveText(GREETING_RU);
  await enOff.context().close();
});

test("a save from a stale version is refused: someone else changed the settings", async ({ page }) => {
  await login(page);
  await page.goto("/#/shop");
  const form = page.getByTestId("shop-form");
  await expect(form).toHaveAttribute("data-version", "2");

  // Another admin saves while this form is open.
  const other = await settings();
  expect(
    await putSettings({
      version: other.version,
      name: "Другой админ",
      greeting: other.greeting,
      working_hours: other.working_hours,
      return_window_days: other.return_window_days,
      languages: other.languages,
    }),
  ).toBe(200);

  await form.getByLabel("Название магазина").fill("Моё название");
  await form.getByRole("button", { name: "Сохранить настройки" }).click();
  const conflict = page.getByTestId("shop-conflict");
  await expect(conflict).toContainText("Кто-то другой изменил эти настройки, пока вы их редактировали.");
  expect((await settings()).name).toBe("Другой админ");
  expect((await settings()).version).toBe(3);
  await shot(page, "53-shop-conflict");

  await conflict.getByRole("button", { name: "Перезагрузить настройки" }).click();
  await expect(conflict).toHaveCount(0);
  await expect(form).toHaveAttribute("data-version", "3");
  await expect(form.getByLabel("Название магазина")).toHaveValue("Другой админ");
  await form.getByLabel("Название магазина").fill(NAME);
  await form.getByRole("button", { name: "Сохранить настройки" }).click();
  await expect(page.getByTestId("shop-outcome")).toContainText("версия 4");
  expect((await settings()).name).toBe(NAME);

  // Both saves are in the audit log, with what changed.
  const audit = await apiGet<{ actor: string; detail: { version: number; fields: string[] } }[]>(
    "/api/audit?action=shop_settings.update",
    await token(),
  );
  expect(audit.map((e) => e.detail.version)).toEqual([4, 3, 2, 1]);
  expect(audit[0].detail.fields).toEqual(["name"]);
});

test("an operator reads the shop settings but cannot change them", async ({ browser }) => {
  const created = await fetch(`${apiUrl()}/api/users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await token()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username: "shop.operator", password: "shop-operator-pass", role: "operator" }),
  });
  expect(created.status).toBe(201);
  const context = await browser.newContext({ baseURL: apiUrl(), locale: "ru-RU" });
  const page = await context.newPage();
  await login(page, "shop.operator", "shop-operator-pass");
  await page.locator('[data-nav="shop"]').click();
  await expect(page.getByTestId("shop-read-only")).toHaveText("Изменять настройки магазина могут только администраторы.");
  await expect(page.getByLabel("Название магазина")).toHaveValue(NAME);
  await expect(page.getByLabel("Название магазина")).toBeDisabled();
  await expect(page.getByRole("button", { name: "Сохранить настройки" })).toHaveCount(0);

  // English labels
  await page.getByTestId("lang-toggle").click();
  await expect(page.locator("h1")).toHaveText("Shop");
  await expect(page.getByLabel("Shop name")).toHaveValue(NAME);
  await context.close();
});
