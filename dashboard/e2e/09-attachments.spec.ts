// A photo a Telegram shopper sends during a return appears on that return in the
// dashboard: the shopper opens a return, sends a photo; the Telegram connector
// fetches it through the (emulated) Bot API and the action server keeps it and
// links it to the return; the conversation page shows it with the return number.
import { apiGet, expect, login, shot, test, token, waitForRasa } from "./helpers";

test.describe.configure({ timeout: 360_000 });

const CHAT = 559000000 + Math.floor(Math.random() * 99999);
let updateId = Math.floor(Math.random() * 1_000_000);

/** zlib's CRC-32, for the demo order's made-up phone (actions/integrations/demo_store/seed.py). */
function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8")) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function demoPhoneLast4(orderId: string): string {
  return String(crc32(orderId)).padStart(7, "0").slice(-4);
}

async function send(rasa: string, message: Record<string, unknown>): Promise<void> {
  updateId += 1;
  const update = {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: CHAT, type: "private" },
      from: { id: CHAT, is_bot: false, first_name: "Анна", language_code: "ru" },
      ...message,
    },
  };
  const response = await fetch(`${rasa}/webhooks/telegram/webhook`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Telegram-Bot-Api-Secret-Token": process.env.EASYFLOW_E2E_TELEGRAM_SECRET ?? "",
    },
    body: JSON.stringify(update),
  });
  expect(response.status, await response.text()).toBe(200);
}

async function botSaid(fragment: string): Promise<string> {
  const telegram = process.env.EASYFLOW_E2E_TELEGRAM_URL;
  let texts: string[] = [];
  for (let i = 0; i < 120; i++) {
    const sent = (await (await fetch(`${telegram}/sent`)).json()) as { chat_id: string; text: string }[];
    texts = sent.filter((m) => m.chat_id === String(CHAT)).map((m) => m.text);
    const found = texts.find((text) => text.includes(fragment));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the bot never said "${fragment}"; it said: ${JSON.stringify(texts)}`);
}

test("a photo sent during a return appears on that return in the dashboard", async ({ page }) => {
  const rasa = await waitForRasa();
  await send(rasa, { text: "хочу вернуть заказ A-10241" });
  await botSaid("4 цифры");
  await send(rasa, { text: demoPhoneLast4("A-10241") });
  const started = await botSaid("оформлен");
  const returnId = /Возврат (\S+) по заказу/.exec(started)?.[1];
  expect(returnId, started).toBeTruthy();

  await send(rasa, {
    photo: [
      { file_id: `AgACsmall${CHAT}`, file_unique_id: "s", width: 90, height: 90 },
      { file_id: `AgACbig${CHAT}`, file_unique_id: "b", width: 1280, height: 960 },
    ],
  });
  expect(await botSaid("приложил к возврату")).toContain(returnId);

  // The api ingests Rasa's events; find the conversation, then open it.
  const bearer = await token();
  let id: number | undefined;
  for (let i = 0; i < 60 && id === undefined; i++) {
    const page_ = await apiGet<{ items: { id: number; sender_id: string }[] }>(
      `/api/conversations?q=${encodeURIComponent(`telegram:${CHAT}`)}`,
      bearer,
    );
    id = page_.items.find((c) => c.sender_id === `telegram:${CHAT}`)?.id;
    if (id === undefined) await new Promise((r) => setTimeout(r, 1000));
  }
  expect(id, "the conversation reached the api").toBeDefined();

  await login(page);
  await page.goto(`/#/conversations/${id}`);
  const attachment = page.getByTestId("attachments").getByTestId("attachment");
  await expect(attachment).toHaveCount(1, { timeout: 30_000 });
  await expect(attachment).toHaveAttribute("data-return", returnId ?? "");
  await expect(attachment).toContainText(`к возврату ${returnId} (A-10241)`);
  await expect(attachment.locator("img")).toBeVisible();
  await shot(page, "90-attachment-on-return");
});
