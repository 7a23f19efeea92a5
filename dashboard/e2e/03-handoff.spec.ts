// Human handoff end to end: a shopper asks for a human in the widget, an
// operator takes the conversation in the console, replies, the reply appears in
// the widget, the shopper's answer appears in the console, the operator hands back.
// Needs Rasa's handoff side (EXTERNAL_handoff_taken etc., slot `handoff`) and the
// api's ingestion + handoff routes.
import { expect, login, NO_REPLY, shot, test, waitForRasa } from "./helpers";

test.describe.configure({ timeout: 360_000 });

test("operator takes a handoff, replies, and the reply appears in the widget", async ({ browser }) => {
  const rasa = await waitForRasa();
  const baseURL = process.env.EASYFLOW_E2E_API_URL;

  // Shopper on the demo shop.
  const shopperContext = await browser.newContext({ baseURL, locale: "ru-RU" });
  const shopper = await shopperContext.newPage();
  await shopper.goto(`/demo?rasa=${encodeURIComponent(rasa)}`);
  await shopper.locator(".ef-launcher").click();
  await expect(shopper.locator(".ef-status")).toHaveAttribute("data-state", "online", { timeout: 30_000 });
  const sessionId = await shopper.evaluate(() => localStorage.getItem("easyflow.session_id"));
  expect(sessionId).toBeTruthy();
  await shopper.locator(".ef-input").fill("позовите оператора");
  await shopper.locator(".ef-send").click();
  await expect(shopper.locator(".ef-msg.ef-bot").last(), NO_REPLY).toContainText("оператор", { timeout: 60_000 });
  await shot(shopper, "20-handoff-requested", false);

  // Operator console: the conversation shows up as waiting (polling every 2 s).
  const operatorContext = await browser.newContext({ baseURL, locale: "ru-RU" });
  const operator = await operatorContext.newPage();
  await login(operator);
  await operator.locator('[data-nav="operator"]').click();
  const waiting = operator.getByTestId("handoffs-waiting").locator(`[data-sender="${sessionId}"]`);
  await expect(waiting).toBeVisible({ timeout: 30_000 });
  await waiting.click();
  const detail = operator.getByTestId("handoff-detail");
  await expect(detail.getByTestId("handoff-messages")).toContainText("позовите оператора");
  await shot(operator, "21-operator-waiting", false);
  // Proactive messages the action server gave up on: none in this run (the api
  // reads them from the real action server with its token).
  await expect(operator.getByTestId("failed-notices")).toContainText("Все сообщения покупателям доставлены", {
    timeout: 20_000,
  });
  await detail.getByRole("button", { name: "Взять" }).click();
  await expect(detail.getByTestId("handoff-status")).toHaveAttribute("data-status", "active", { timeout: 15_000 });
  await expect(operator.getByTestId("handoffs-active").locator(`[data-sender="${sessionId}"]`)).toBeVisible();

  // The widget shows that an operator joined (custom easyflow_handoff message).
  await expect(shopper.locator(".ef-handoff")).toBeVisible({ timeout: 30_000 });
  await expect(shopper.locator(".ef-handoff")).toContainText("admin");

  // Operator reply → widget.
  const reply = "Здравствуйте! Я Анна из поддержки, сейчас посмотрю ваш заказ.";
  await detail.locator('textarea[name="reply"]').fill(reply);
  await detail.getByRole("button", { name: "Ответить" }).click();
  await expect(shopper.locator(".ef-msg.ef-bot").last()).toContainText(reply, { timeout: 30_000 });
  await expect(shopper.locator(".ef-msg.ef-operator").last()).toContainText(reply);
  await expect(detail.getByTestId("handoff-messages").locator('[data-actor="operator"]').last()).toContainText(reply, {
    timeout: 15_000,
  });
  await shot(shopper, "22-widget-operator-reply", false);

  // Shopper answers; the bot stays silent and the console shows it by polling.
  const botBefore = await shopper.locator(".ef-msg.ef-bot").count();
  await shopper.locator(".ef-input").fill("спасибо, заказ A-10234");
  await shopper.locator(".ef-send").click();
  await expect(detail.getByTestId("handoff-messages").locator('[data-actor="user"]').last()).toContainText(
    "спасибо, заказ A-10234",
    { timeout: 20_000 },
  );
  await shot(operator, "23-operator-console", false);
  expect(await shopper.locator(".ef-msg.ef-bot").count()).toBe(botBefore);

  // Hand back: the widget's indicator ends and the assistant is back.
  await detail.getByRole("button", { name: "Вернуть боту" }).click();
  await expect(shopper.locator(".ef-handoff")).toBeHidden({ timeout: 30_000 });
  await expect(shopper.locator(".ef-msg.ef-system").last()).toContainText("ассистент");
  // Only the operator's own words are styled as the operator's.
  await expect(shopper.locator(".ef-msg.ef-operator")).toHaveCount(1);
  await expect(operator.getByTestId("handoffs-active").locator(`[data-sender="${sessionId}"]`)).toHaveCount(0, {
    timeout: 15_000,
  });
  await shot(shopper, "24-widget-handed-back", false);
  await shopperContext.close();
  await operatorContext.close();
});
