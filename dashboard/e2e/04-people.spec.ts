// People and access against the real api: an admin manages a user (create,
// the user signs in, password reset, disable), an API key (shown once, works,
// revoked), and reads the audit log of those actions; an operator has none of
// these pages. The tests run in order: the audit test reads what the first two did.
import type { Browser, Page } from "@playwright/test";
import { apiUrl, expect, login, shot, test, token } from "./helpers";

test.describe.configure({ mode: "serial" });

const USER = "pavel.ops";
const FIRST = "pavel-first-pass";
const SECOND = "pavel-second-pass";

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ baseURL: apiUrl(), locale: "ru-RU" });
  return context.newPage();
}

/** Submits the login form and returns what it said when it refused. */
async function tryLogin(page: Page, username: string, password: string): Promise<void> {
  await page.goto("/");
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole("button", { name: "Войти" }).click();
}

async function apiStatus(path: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${apiUrl()}${path}`, { headers })).status;
}

async function loginStatus(username: string, password: string): Promise<number> {
  const response = await fetch(`${apiUrl()}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return response.status;
}

async function users(): Promise<{ username: string; role: string; is_active: boolean }[]> {
  const response = await fetch(`${apiUrl()}/api/users`, { headers: { Authorization: `Bearer ${await token()}` } });
  return (await response.json()) as { username: string; role: string; is_active: boolean }[];
}

test("admin creates a user who signs in, resets the password, disables the user", async ({ page, browser }) => {
  await login(page);
  await page.locator('[data-nav="users"]').click();
  await expect(page.locator("h1")).toHaveText("Пользователи");
  const form = page.getByTestId("create-user");
  const outcome = page.getByTestId("create-user-outcome");

  // A weak password and a taken username are refused with a clear message; nothing is created.
  await form.getByLabel("Логин").fill(USER);
  await form.getByRole("combobox", { name: /^Роль/ }).selectOption("operator");
  await form.getByLabel("Начальный пароль").fill("short");
  await form.getByRole("button", { name: "Создать пользователя" }).click();
  await expect(outcome).toHaveAttribute("role", "alert");
  await expect(outcome).toHaveText("Пароль слишком короткий: нужно не меньше 8 символов");
  await form.getByLabel("Логин").fill("admin");
  await form.getByLabel("Начальный пароль").fill(FIRST);
  await form.getByRole("button", { name: "Создать пользователя" }).click();
  await expect(outcome).toHaveText("Пользователь с логином «admin» уже есть");
  expect((await users()).map((u) => u.username)).toEqual(["admin"]);
  await shot(page, "40-users-refused");

  await form.getByLabel("Логин").fill(USER);
  await form.getByLabel("Имя (необязательно)").fill("Павел");
  await form.getByLabel("Начальный пароль").fill(FIRST);
  await form.getByRole("button", { name: "Создать пользователя" }).click();
  await expect(outcome).toHaveText(`Пользователь ${USER} создан`);
  const row = page.locator(`[data-user="${USER}"]`);
  await expect(row).toHaveAttribute("data-role", "operator");
  await expect(row.getByTestId("user-status")).toHaveText("Активен");
  await expect(row).toContainText("Павел");

  // The new user signs in with that password: an operator sees none of the admin pages.
  const pavel = await freshPage(browser);
  await login(pavel, USER, FIRST);
  await expect(pavel.getByTestId("whoami")).toHaveText(`${USER} · operator`);
  for (const nav of ["users", "api-keys", "audit", "settings"]) {
    await expect(pavel.locator(`[data-nav="${nav}"]`)).toHaveCount(0);
  }
  for (const [address, title] of [
    ["users", "Пользователи"],
    ["api-keys", "API-ключи"],
    ["audit", "Журнал аудита"],
  ]) {
    await pavel.goto(`/#/${address}`);
    await expect(pavel.locator("h1")).toHaveText(title);
    await expect(pavel.getByTestId("forbidden")).toHaveText(
      "Эта страница доступна только администраторам (сервер ответил 403).",
    );
    await expect(pavel.locator("form, table")).toHaveCount(0);
  }
  await shot(pavel, "41-operator-forbidden");

  // Role change, then the admin resets the password: the old one and the old session stop working.
  await row.getByLabel(`Роль пользователя ${USER}`).selectOption("analyst");
  await expect(row).toHaveAttribute("data-role", "analyst");
  await row.getByLabel(`Роль пользователя ${USER}`).selectOption("operator");
  await expect(row).toHaveAttribute("data-role", "operator");
  await row.getByRole("button", { name: "Сбросить пароль" }).click();
  await row.getByLabel(`Новый пароль для ${USER}`).fill("tiny");
  await row.getByRole("button", { name: "Сохранить" }).click();
  await expect(row.getByTestId("user-outcome")).toHaveText("Пароль слишком короткий: нужно не меньше 8 символов");
  expect(await loginStatus(USER, FIRST)).toBe(200);
  await row.getByLabel(`Новый пароль для ${USER}`).fill(SECOND);
  await row.getByRole("button", { name: "Сохранить" }).click();
  await expect(row.getByTestId("user-outcome")).toHaveText(
    `Пароль ${USER} изменён, его прежние сеансы завершены`,
  );
  await pavel.goto("/#/conversations");
  await expect(pavel.locator('input[name="username"]')).toBeVisible();
  await tryLogin(pavel, USER, FIRST);
  await expect(pavel.getByRole("alert")).toHaveText("Неверный логин или пароль");
  await login(pavel, USER, SECOND);

  // Disabled: the session ends and the login is refused.
  await row.getByRole("button", { name: "Отключить" }).click();
  await expect(row.getByTestId("user-status")).toHaveText("Отключён");
  await expect(row).toHaveAttribute("data-active", "false");
  await pavel.reload();
  await expect(pavel.locator('input[name="username"]')).toBeVisible();
  await tryLogin(pavel, USER, SECOND);
  await expect(pavel.getByRole("alert")).toHaveText("Неверный логин или пароль");
  expect(await loginStatus(USER, SECOND)).toBe(401);
  await shot(page, "42-users-disabled");

  // The admin cannot disable themselves; nothing changes.
  const self = page.locator('[data-user="admin"]');
  await self.getByRole("button", { name: "Отключить" }).click();
  await expect(self.getByTestId("user-outcome")).toHaveText(
    "Нельзя отключить самого себя — это сделает другой администратор",
  );
  await expect(self.getByTestId("user-status")).toHaveText("Активен");
  expect((await users()).find((u) => u.username === "admin")?.is_active).toBe(true);
  await expect(page.getByTestId("whoami")).toContainText("admin");
  await pavel.context().close();
});

test("an API key is shown once, works with its scope, and stops working when revoked", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await login(page);
  await page.locator('[data-nav="api-keys"]').click();
  await expect(page.locator("h1")).toHaveText("API-ключи");
  const form = page.getByTestId("create-key");
  await form.getByLabel("Название").fill("grafana");
  await form.getByLabel("Доступ (роль)").selectOption("analyst");
  await form.getByRole("button", { name: "Создать ключ" }).click();

  const shown = page.getByTestId("new-key");
  await expect(page.locator('[data-key-name="grafana"]').getByTestId("key-last-used")).toHaveText("ни разу");
  await expect(shown).toContainText("он показывается один раз");
  const secret = await page.getByLabel("Секрет ключа").inputValue();
  expect(secret).toMatch(/^efk_.{30,}$/);
  await shown.getByRole("button", { name: "Копировать" }).click();
  await expect(shown.getByRole("status").last()).toHaveText("Скопировано");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await shot(page, "43-key-shown-once");

  // The key works on a route of its scope (analytics) and not beyond it (users).
  const byKey = { "X-API-Key": secret };
  expect(await apiStatus("/api/analytics/overview", byKey)).toBe(200);
  expect(await apiStatus("/api/users", byKey)).toBe(403);

  // Never shown again: not after "done", not after a reload; the list has only its prefix.
  await shown.getByRole("button", { name: "Готово, я сохранил ключ" }).click();
  await expect(shown).toHaveCount(0);
  const row = page.locator('[data-key-name="grafana"]');
  await expect(row).toContainText(secret.slice(0, 10));
  await expect(row).toContainText("Аналитик");
  expect(await page.content()).not.toContain(secret);
  await page.reload();
  await expect(row.getByTestId("key-status")).toHaveText("Действует");
  await expect(row.getByTestId("key-last-used")).not.toHaveText("ни разу");
  expect(await page.content()).not.toContain(secret);

  // Revoke asks first; cancel keeps the key.
  await row.getByRole("button", { name: "Отозвать" }).click();
  await expect(row).toContainText("Отозвать ключ «grafana»?");
  await row.getByRole("button", { name: "Отмена" }).click();
  expect(await apiStatus("/api/analytics/overview", byKey)).toBe(200);
  await row.getByRole("button", { name: "Отозвать" }).click();
  await row.getByRole("group").getByRole("button", { name: "Отозвать" }).click();
  await expect(row.getByTestId("key-outcome")).toHaveText("Ключ «grafana» отозван");
  await expect(row.getByTestId("key-status")).toHaveText("Отозван");
  await expect(row.getByRole("button", { name: "Отозвать" })).toHaveCount(0);
  expect(await apiStatus("/api/analytics/overview", byKey)).toBe(401);

  // A key revoked elsewhere meanwhile (another tab): the stale button says so.
  await form.getByLabel("Название").fill("stale");
  await form.getByRole("button", { name: "Создать ключ" }).click();
  await page.getByTestId("new-key").getByRole("button", { name: "Готово, я сохранил ключ" }).click();
  const stale = page.locator('[data-key-name="stale"]');
  const id = await stale.getAttribute("data-key");
  const revoked = await fetch(`${apiUrl()}/api/api-keys/${id}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${await token()}` },
  });
  expect(revoked.status).toBe(204);
  await stale.getByRole("button", { name: "Отозвать" }).click();
  await stale.getByRole("group").getByRole("button", { name: "Отозвать" }).click();
  await expect(stale.getByTestId("key-outcome")).toHaveText("Этот ключ уже отозван");
  await expect(stale.getByTestId("key-status")).toHaveText("Отозван");
  await shot(page, "44-keys-revoked");
});

test("the audit log lists those actions and narrows them by user, action and days", async ({ page }) => {
  await login(page);
  await page.locator('[data-nav="audit"]').click();
  await expect(page.locator("h1")).toHaveText("Журнал аудита");
  const table = page.getByTestId("audit-table");
  const rows = (actor: string, action: string) => table.locator(`tr[data-actor="${actor}"][data-action="${action}"]`);
  await expect(rows("admin", "user.create")).toHaveCount(1);
  await expect(rows("admin", "user.create")).toContainText(USER);
  await expect(rows("admin", "user.update")).toHaveCount(4); // role twice, password, disable
  await expect(rows("admin", "api_key.create")).toHaveCount(2);
  await expect(rows("admin", "api_key.revoke")).toHaveCount(2);
  // two in the browser and one by the api with the first password, before its reset
  await expect(rows(USER, "auth.login")).toHaveCount(3);
  // the old password after the reset, and both tries after the user was disabled
  await expect(rows(USER, "auth.login_failed")).toHaveCount(3);

  // Who: only the new user's own entries.
  const filters = page.getByRole("search");
  await filters.getByLabel("Кто").selectOption(USER);
  await expect(table.locator("tr[data-audit]")).toHaveCount(6);
  await expect(table.locator(`tr[data-audit]:not([data-actor="${USER}"])`)).toHaveCount(0);
  await expect(page.getByTestId("audit-total")).toHaveText("Всего: 6");

  // What: the password reset among the admin's updates of that user.
  await filters.getByLabel("Кто").selectOption("admin");
  await filters.getByLabel("Действие").selectOption("user.update");
  await expect(table.locator("tr[data-audit]")).toHaveCount(4);
  await expect(table.locator("tr[data-audit]", { hasText: "fields: [\"password\"]" })).toHaveCount(1);
  await expect(table.locator("tr[data-audit]", { hasText: "fields: [\"is_active\"]" })).toHaveCount(1);
  await shot(page, "45-audit-filtered");

  // When: UTC days; today has them, tomorrow has none.
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await filters.getByLabel("С", { exact: true }).fill(today);
  await filters.getByLabel("По", { exact: true }).fill(today);
  await expect(table.locator("tr[data-audit]")).toHaveCount(4);
  await filters.getByLabel("С", { exact: true }).fill(tomorrow);
  await filters.getByLabel("По", { exact: true }).fill(tomorrow);
  await expect(page.getByText("Записей нет")).toBeVisible();

  await page.getByTestId("lang-toggle").click();
  await expect(page.locator("h1")).toHaveText("Audit log");
  await expect(page.getByText("No entries")).toBeVisible();
  await page.locator('[data-nav="api-keys"]').click();
  await expect(page.locator('[data-key-name="grafana"]').getByTestId("key-status")).toHaveText("Revoked");
});
