import { test as base, expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SHOTS = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "test-results");
mkdirSync(SHOTS, { recursive: true });

export const apiUrl = (): string => {
  const url = process.env.EASYFLOW_E2E_API_URL;
  if (!url) throw new Error("EASYFLOW_E2E_API_URL is not set (global setup did not run)");
  return url;
};

export const test = base.extend<{ cspGuard: void }>({
  baseURL: async ({}, use) => {
    await use(apiUrl());
  },
  // The api sends a Content-Security-Policy (api/easyflow_api/core/headers.py):
  // anything it blocks on a test's page (a script, a style, the widget's socket)
  // fails the test instead of breaking the page silently.
  cspGuard: [
    async ({ page }, use) => {
      const violations: string[] = [];
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await use();
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Logs in through the login form (dev admin admin/admin by default). */
export async function login(page: Page, username = "admin", password = "admin"): Promise<void> {
  await page.goto("/");
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole("button", { name: "Войти" }).click();
  await expect(page.getByTestId("whoami")).toContainText(username);
}

/** A bearer token for reading expected values straight from the api. */
export async function token(username = "admin", password = "admin"): Promise<string> {
  const response = await fetch(`${apiUrl()}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function apiGet<T>(path: string, bearer: string): Promise<T> {
  const response = await fetch(`${apiUrl()}${path}`, { headers: { Authorization: `Bearer ${bearer}` } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Waits for the Rasa server started by global setup (~70 s from start). */
export async function waitForRasa(seconds = 300): Promise<string> {
  const url = process.env.EASYFLOW_E2E_RASA_URL;
  if (!url) throw new Error("Rasa is off (EASYFLOW_E2E_RASA=0); this test needs it");
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return url;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`Rasa at ${url} did not start; see ${process.env.EASYFLOW_E2E_DIR}/rasa.log`);
}

/** Shown when the widget gets no bot_uttered at all (the channel delivers nothing). */
export const NO_REPLY =
  "no bot reply reached the widget: the socket must join its session room " +
  "(Rasa 3.6 calls python-socketio's enter_room without await; since python-socketio 5.10 it is a coroutine)";
