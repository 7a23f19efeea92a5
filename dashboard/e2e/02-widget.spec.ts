// The shopper web chat widget on the demo shop page, talking to a real Rasa
// server over its socket.io channel.
import { expect, NO_REPLY, shot, test, waitForRasa } from "./helpers";

test.describe.configure({ timeout: 360_000 });

test("demo page: widget answers, renders buttons as chips, keeps the session", async ({ page }) => {
  const rasa = await waitForRasa();
  await page.goto(`/demo?rasa=${encodeURIComponent(rasa)}`);
  await expect(page.locator("h1")).toHaveText("Кеды и Ко");
  const launcher = page.locator(".ef-launcher");
  await expect(launcher).toBeVisible();
  await launcher.click();
  const panel = page.locator(".ef-panel");
  await expect(panel).toBeVisible();
  await expect(page.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });
  await expect(page.locator(".ef-title")).toHaveText("Кеды и Ко — помощник");

  // The shop's CSS (uppercase Georgia buttons) does not leak into the Shadow DOM.
  const send = page.locator(".ef-send");
  expect(await send.evaluate((el) => getComputedStyle(el).textTransform)).toBe("none");
  expect(await send.evaluate((el) => getComputedStyle(el).fontFamily)).not.toContain("Georgia");

  await page.locator(".ef-input").fill("где мой заказ A-10234");
  await page.locator(".ef-input").press("Enter");
  await expect(page.locator(".ef-msg.ef-user").last()).toHaveText("где мой заказ A-10234");
  // Order privacy: the last 4 digits of the order's phone (demo_phone("A-10234")).
  await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("4 цифры", { timeout: 60_000 });
  await page.locator(".ef-input").fill("6199");
  await send.click();
  // The status, then the offer of updates (web chat is a channel the bot can write first on).
  await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("Сообщать вам, когда статус заказа A-10234", {
    timeout: 60_000,
  });
  await expect(page.locator(".ef-msg.ef-bot").filter({ hasText: "в пути (" })).toHaveCount(1);

  // A reply with buttons: the cancel confirmation shows Да / Нет chips.
  await page.locator(".ef-input").fill("хочу отменить заказ 3728419056");
  await send.click();
  await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("4 цифры", { timeout: 60_000 });
  await page.locator(".ef-input").fill("9914"); // demo_phone("3728419056")
  await send.click();
  const chips = page.locator(".ef-chip");
  await expect(chips).toHaveText(["Да", "Нет"], { timeout: 60_000 });
  await shot(page, "10-widget-chips", false);
  const botCount = await page.locator(".ef-msg.ef-bot").count();
  await chips.filter({ hasText: "Нет" }).click();
  await expect(chips).toHaveCount(0);
  await expect(page.locator(".ef-msg.ef-user").last()).toHaveText("Нет");
  await expect(page.locator(".ef-msg.ef-bot")).toHaveCount(botCount + 1, { timeout: 60_000 });

  // The session survives a reload: same session_id, history restored, panel open.
  const sessionId = await page.evaluate(() => localStorage.getItem("easyflow.session_id"));
  expect(sessionId).toMatch(/^webchat:[0-9a-f]{32}\.[0-9a-f]{32}$/); // issued and signed by the server
  const messages = await page.locator(".ef-msg").count();
  await page.reload();
  await expect(page.locator(".ef-panel")).toBeVisible();
  await expect(page.locator(".ef-msg")).toHaveCount(messages);
  expect(await page.evaluate(() => localStorage.getItem("easyflow.session_id"))).toBe(sessionId);
  await expect(page.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });

  // Rasa keeps the conversation under the widget's session_id.
  const tracker = await fetch(`${rasa}/conversations/${sessionId}/tracker`).then((r) => r.json());
  const texts = (tracker.events as { event: string; text?: string }[]).filter((e) => e.event === "user").map((e) => e.text);
  expect(texts).toContain("где мой заказ A-10234");
  await shot(page, "11-widget-reloaded", false);
});

test("widget is full-screen on a phone and speaks English to English browsers", async ({ browser }) => {
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
  await page.locator(".ef-launcher").click();
  const box = await page.locator(".ef-panel").boundingBox();
  expect(box).not.toBeNull();
  expect(box!.x).toBe(0);
  expect(box!.y).toBe(0);
  expect(box!.width).toBe(375);
  expect(box!.height).toBe(740);
  await expect(page.locator(".ef-input")).toHaveAttribute("placeholder", "Type a message…");
  await expect(page.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });
  await page.locator(".ef-input").fill("where is my order A-10234");
  await page.evaluate(() => {
    const typing = document.getElementById("easyflow-widget")!.shadowRoot!.querySelector<HTMLElement>(".ef-typing")!;
    const w = window as unknown as { typingSeen: boolean };
    w.typingSeen = false;
    new MutationObserver(() => {
      if (!typing.hidden) w.typingSeen = true;
    }).observe(typing, { attributes: true });
  });
  await page.locator(".ef-send").click();
  await expect(page.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("last 4 digits of the phone", {
    timeout: 60_000,
  });
  await expect(page.locator(".ef-typing")).toBeHidden();
  expect(await page.evaluate(() => (window as unknown as { typingSeen: boolean }).typingSeen)).toBe(true);
  await shot(page, "12-widget-phone", false);
  await page.locator(".ef-close").click();
  await expect(page.locator(".ef-panel")).toBeHidden();
  await expect(page.locator(".ef-launcher")).toBeVisible();
  await context.close();
});
