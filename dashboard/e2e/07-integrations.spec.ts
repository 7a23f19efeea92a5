// Integrations against the real api and action server: an admin connects
// Wildberries and YooKassa against the project's loopback emulators
// (tests/emulator_server.py). A wrong key's check shows the platform's own
// error and enables nothing; the right one enables it, and the next question of
// a shopper who was told "no such order" is answered from Wildberries; a half-filled form
// names the missing field; secrets never come back to the browser, only
// masked; an operator sees the cards but cannot change them. Needs the action
// server (global setup starts it with Rasa; EASYFLOW_E2E_RASA=0 has none).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Locator, Page } from "@playwright/test";
import { apiGet, apiUrl, expect, login, shot, test, token, waitForRasa } from "./helpers";

test.describe.configure({ mode: "serial" });

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WB_TOKEN = "wb-browser-token-0123456789";
const SHOP_ID = "311036";
const YOOKASSA_KEY = "test_yookassa-browser-key-4455";
let emulators: ChildProcess | null = null;
let platforms = "";

async function waitForActions(seconds = 240): Promise<void> {
  const url = process.env.EASYFLOW_E2E_ACTIONS_URL;
  if (!url) throw new Error("no action server (EASYFLOW_E2E_RASA=0); this spec needs it");
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the action server did not start; see ${process.env.EASYFLOW_E2E_DIR}/actions.log`);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  emulators = spawn(
    join(REPO, ".venv", "bin", "python"),
    ["-m", "tests.emulator_server", WB_TOKEN, SHOP_ID, YOOKASSA_KEY],
    { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: emulators.stdout! });
  platforms = await new Promise<string>((done) => lines.once("line", done));
  await waitForActions();
});

test.afterAll(async () => {
  // Later specs talk to the same action server: switch off what this one
  // connected before its emulators go, and let the action server's 2 s poll see it.
  const bearer = await token();
  for (const kind of ["wildberries", "yookassa", "alice"]) {
    await fetch(`${apiUrl()}/api/integrations/${kind}/disable`, {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}` },
    });
  }
  await new Promise((r) => setTimeout(r, 5000));
  emulators?.kill("SIGTERM");
});

// An order only the Wildberries emulator has (tests/emulator_server.py).
const WB_TASK = "13833711";
const SHOPPER = `integrations-shopper-${Date.now()}`;

async function shopperAsks(text: string): Promise<string> {
  const rasa = await waitForRasa();
  const response = await fetch(`${rasa}/webhooks/rest/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sender: SHOPPER, message: text }),
  });
  expect(response.ok).toBe(true);
  const messages = (await response.json()) as { text?: string }[];
  return messages.map((m) => m.text ?? "").join("\n");
}

function card(page: Page, kind: string): Locator {
  return page.getByTestId(`integration-${kind}`);
}

async function saveAndCheck(page: Page, kind: string, values: Record<string, string>): Promise<void> {
  const box = card(page, kind);
  for (const [name, value] of Object.entries(values)) await box.locator(`[name="${name}"]`).fill(value);
  await box.getByRole("button", { name: "Сохранить" }).click();
  await expect(box.getByTestId("integration-outcome")).toContainText("Сохранено (версия");
  await box.getByRole("button", { name: "Проверить подключение" }).click();
}

test("a marketplace: the wrong token shows Wildberries' error, the right one enables it", async ({ page }) => {
  test.setTimeout(240_000);
  // Before: the shop knows no such order.
  await shopperAsks("где мой заказ");
  expect(await shopperAsks(WB_TASK)).toContain(`Не нахожу заказ ${WB_TASK}`);
  await login(page);
  await page.locator('[data-nav="integrations"]').click();
  const wb = card(page, "wildberries");
  await expect(wb.getByTestId("integration-state")).toHaveText("Не настроено");
  await expect(wb.getByRole("link", { name: "Где взять эти данные" })).toHaveAttribute("href", /wildberries/);

  await saveAndCheck(page, "wildberries", {
    WB_API_TOKEN: "wrong-token",
    WB_MARKETPLACE_URL: `${platforms}/wb`,
  });
  await expect(wb.getByTestId("integration-outcome")).toContainText("token is malformed or invalid");
  await expect(wb.getByTestId("integration-outcome")).toContainText("Прежние настройки продолжают работать");
  await expect(wb).toHaveAttribute("data-enabled", "false");
  await expect(wb.getByRole("button", { name: "Включить" })).toBeDisabled();

  await saveAndCheck(page, "wildberries", { WB_API_TOKEN: WB_TOKEN });
  await expect(wb.getByTestId("integration-outcome")).toHaveText("Подключение работает: интеграция включена.");
  await expect(wb.getByTestId("integration-state")).toHaveText("Включено");
  await expect(wb).toHaveAttribute("data-enabled", "true");
  // The token is kept and shown masked; its input stays empty.
  await expect(wb.locator('[name="WB_API_TOKEN"]')).toHaveValue("");
  await expect(wb).toContainText("••••6789");
  await shot(page, "integrations-wildberries");

  // The same shopper's next question is answered from Wildberries: no restart
  // (the action server reads the enabled integrations every 2 s here).
  let answer = "";
  for (let i = 0; i < 15 && !answer.includes(`Заказ ${WB_TASK} в пути`); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    answer = await shopperAsks(`а заказ ${WB_TASK}?`);
  }
  expect(answer).toContain(`Заказ ${WB_TASK} в пути`);
});

test("a payment provider: a half-filled form names the field, a wrong key the platform's error", async ({ page }) => {
  test.setTimeout(120_000);
  await login(page);
  await page.locator('[data-nav="integrations"]').click(); // not goto: the login may still set #/overview
  const yookassa = card(page, "yookassa");
  await yookassa.locator('[name="YOOKASSA_SECRET_KEY"]').fill(YOOKASSA_KEY);
  await yookassa.getByRole("button", { name: "Сохранить" }).click();
  await expect(yookassa.getByTestId("integration-outcome")).toContainText("YOOKASSA_SHOP_ID");
  await expect(yookassa.locator('[name="YOOKASSA_SHOP_ID"]')).toHaveAttribute("aria-invalid", "true");
  await expect(yookassa.getByTestId("integration-state")).toHaveText("Не настроено");

  await saveAndCheck(page, "yookassa", {
    YOOKASSA_SHOP_ID: SHOP_ID,
    YOOKASSA_SECRET_KEY: "test_wrong-key",
    YOOKASSA_API_URL: `${platforms}/yookassa/v3`,
  });
  await expect(yookassa.getByTestId("integration-outcome")).toContainText("invalid_credentials");
  await expect(yookassa).toHaveAttribute("data-enabled", "false");

  await saveAndCheck(page, "yookassa", { YOOKASSA_SECRET_KEY: YOOKASSA_KEY });
  await expect(yookassa.getByTestId("integration-outcome")).toHaveText("Подключение работает: интеграция включена.");
  await expect(yookassa).toHaveAttribute("data-enabled", "true");

  await yookassa.getByRole("button", { name: "Выключить" }).click();
  await expect(yookassa.getByTestId("integration-state")).toHaveText("Выключено");
  await yookassa.getByRole("button", { name: "Включить" }).click();
  await expect(yookassa.getByTestId("integration-state")).toHaveText("Включено");

  await page.reload();
  await expect(card(page, "yookassa")).toContainText("••••4455");
  const html = await page.content();
  for (const secret of [WB_TOKEN, YOOKASSA_KEY, "wrong-token", "test_wrong-key"]) {
    expect(html).not.toContain(secret);
  }
  const listed = JSON.stringify(await apiGet<unknown>("/api/integrations", await token()));
  expect(listed).not.toContain(WB_TOKEN);
  expect(listed).not.toContain(YOOKASSA_KEY);
  await shot(page, "integrations-payments");
});

test("a channel without an API: Alice's card says what Yandex checks and where the webhook goes", async ({ page }) => {
  test.setTimeout(120_000);
  await login(page);
  await page.locator('[data-nav="integrations"]').click(); // not goto: the login may still set #/overview
  const alice = card(page, "alice");
  await expect(alice).toContainText("задают в консоли Яндекс Диалогов");
  await expect(card(page, "vk")).toContainText("Callback API");
  await expect(card(page, "whatsapp")).toContainText("Configuration");
  await saveAndCheck(page, "alice", { ALICE_SKILL_ID: "not-a-skill-id" });
  await expect(alice.getByTestId("integration-outcome")).toContainText("ALICE_SKILL_ID");
  await expect(alice).toHaveAttribute("data-enabled", "false");
  await saveAndCheck(page, "alice", { ALICE_SKILL_ID: "3ad36498-f5rd-4079-a14b-788652932056" });
  await expect(alice.getByTestId("integration-outcome")).toContainText("Подключение работает: интеграция включена.");
  await expect(alice.getByTestId("integration-outcome")).toContainText("Яндекс проверит навык");
  await expect(alice).toHaveAttribute("data-enabled", "true");
  await expect(alice).toContainText("••••2056");
  expect(await page.content()).not.toContain("788652932056");
  await shot(page, "integrations-alice");
});

test("an operator sees the cards but cannot change them", async ({ page }) => {
  const admin = await token();
  const created = await fetch(`${apiUrl()}/api/users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username: "ivan-integrations", password: "ivan-long-passphrase", role: "operator" }),
  });
  expect(created.status).toBe(201);
  await login(page, "ivan-integrations", "ivan-long-passphrase");
  await page.locator('[data-nav="integrations"]').click(); // not goto: the login may still set #/overview
  await expect(page.getByText("Менять интеграции могут только администраторы.")).toBeVisible();
  const wb = card(page, "wildberries");
  await expect(wb.getByTestId("integration-state")).toHaveText("Включено");
  await expect(wb.getByRole("button", { name: "Проверить подключение" })).toHaveCount(0);
  await expect(wb.locator('[name="WB_API_TOKEN"]')).toBeDisabled();
  const refused = await fetch(`${apiUrl()}/api/integrations/wildberries/disable`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await token("ivan-integrations", "ivan-long-passphrase")}` },
  });
  expect(refused.status).toBe(403);
});
