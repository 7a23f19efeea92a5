// End to end: the app exported for the web (`expo export --platform web`), served
// statically and driven in headless Chromium against the real Rasa, action server
// and admin api. A shopper asks for a demo order, confirms with the phone digits,
// cancels another order by pressing a button, then asks for a human; an operator
// takes the conversation and replies through the admin api, and the reply appears
// in the app. Screenshots go to e2e/artifacts/.
//   node e2e/run.mjs        (needs make install install-api train; Debian's chromium)
import { spawn } from "node:child_process";
import { copyFileSync, createReadStream, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { freePort, Servers, tail } from "./servers.mjs";

const MOBILE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = resolve(MOBILE, "..");
const DIST = join(MOBILE, "dist");
const ARTIFACTS = join(MOBILE, "e2e", "artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const started = Date.now();

function log(message) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

function run(command, args, env) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: MOBILE, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => (code === 0 ? done(output) : fail(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output.slice(-4000)}`))));
  });
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".json": "application/json", ".css": "text/css", ".png": "image/png", ".ico": "image/x-icon", ".ttf": "font/ttf" };

/** dist/ served as a single-page app. */
function serveStatic(root, port) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    let file = resolve(root, `.${path}`);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, "index.html");
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(response);
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

async function waitFor(what, check, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** The list scrolls to the newest message with an animation: let it finish. */
async function shot(page, name) {
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(ARTIFACTS, name) });
}

async function api(servers, method, path, token, body) {
  const response = await fetch(`${servers.apiUrl}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function main() {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  const servers = new Servers(REPO);
  let browser;
  let web;
  try {
    await servers.ports();
    log(`rasa ${servers.rasaUrl}, actions ${servers.actionsUrl}, api ${servers.apiUrl}; logs in ${servers.dir}`);
    servers.launch();
    // The bundle carries its backend URL (app.config.ts reads EXPO_PUBLIC_RASA_URL):
    // exported while Rasa starts.
    log("exporting the app for the web");
    rmSync(DIST, { recursive: true, force: true });
    await run("npx", ["expo", "export", "--platform", "web", "--output-dir", "dist", "--clear"], {
      ...process.env,
      CI: "1",
      EXPO_NO_TELEMETRY: "1",
      EXPO_PUBLIC_RASA_URL: servers.rasaUrl,
      EASYFLOW_SHOP_NAME: "Easy Flow Demo",
    });
    const webPort = await freePort();
    web = await serveStatic(DIST, webPort);
    const appUrl = `http://127.0.0.1:${webPort}/`;
    log(`app exported, served at ${appUrl}; waiting for the servers`);
    await servers.ready();
    log("servers ready");

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 400, height: 820 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(appUrl);

    const status = page.getByTestId("connection-status");
    await waitFor("the app to connect and get a session", async () => (await status.getAttribute("data-state")) === "online", 60);
    const bots = page.locator('[data-testid="msg-bot"], [data-testid="msg-operator"]');
    const botCount = () => bots.count();
    const lastBot = async () => (await bots.count()) ? (await bots.last().innerText()) : "";
    async function say(text) {
      const before = await botCount();
      await page.getByTestId("chat-input").fill(text);
      await page.getByTestId("send").click();
      return before;
    }
    async function reply(pattern, before, seconds = 60) {
      return waitFor(`a reply matching ${pattern}`, async () => {
        if ((await botCount()) <= before) return false;
        const texts = await bots.allInnerTexts();
        return texts.slice(before).find((t) => pattern.test(t));
      }, seconds);
    }
    // The interface follows the browser's locale (ru-RU).
    await page.getByPlaceholder("Напишите сообщение…").waitFor();

    // 1. A demo order's status: the bot asks for the phone's last 4 digits first.
    let before = await say("где мой заказ A-10234");
    log(`bot: ${await reply(/последние 4 цифры/i, before)}`);
    before = await say("6199");
    log(`bot: ${await reply(/A-10234.*в пути/is, before)}`);
    // The acknowledgement can land just after the reply it answered is drawn
    // (a loaded machine): wait for it, and fail if it never comes.
    await waitFor(
      "both messages acknowledged (Отправлено)",
      async () => (await page.getByTestId("msg-status-sent").count()) >= 2,
      15,
    );

    // 2. A button: cancelling a paid order asks for confirmation with Да / Нет.
    before = await say("хочу отменить заказ 3728419056");
    await waitFor("the confirmation buttons", async () => {
      if ((await page.getByTestId("quick-reply").count()) > 0) return true;
      if ((await botCount()) > before && /4 цифры/.test(await lastBot())) {
        before = await say("9914");
      }
      return false;
    }, 90);
    log(`bot: ${await lastBot()}`);
    if (!/Отменить заказ 3728419056/.test(await lastBot())) throw new Error(`unexpected question: ${await lastBot()}`);
    await shot(page, "01-buttons.png");
    before = await botCount();
    await page.getByTestId("quick-reply").filter({ hasText: /^Да$/ }).click();
    log(`bot: ${await reply(/заказ 3728419056 отменён/i, before)}`);
    // The button's title is shown as the shopper's message, not its payload.
    const userTexts = await page.getByTestId("msg-user").allInnerTexts();
    if (userTexts[userTexts.length - 1]?.trim() !== "Да") throw new Error(`last shopper message: ${userTexts[userTexts.length - 1]}`);
    if (userTexts.some((t) => t.includes("/affirm"))) throw new Error("the payload was shown instead of the title");
    await shot(page, "chat.png");
    log("screenshot e2e/artifacts/chat.png");

    // 3. History and session survive a reload.
    const sessionId = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith("easyflow.session."));
      return key ? localStorage.getItem(key) : null;
    });
    if (!/^webchat:[0-9a-f]{32}\.[0-9a-f]{32}$/.test(sessionId ?? "")) throw new Error(`stored session id: ${sessionId}`);
    const messagesBefore = await page.getByTestId("msg-user").count();
    await page.reload();
    await waitFor("reconnect after reload", async () => (await status.getAttribute("data-state")) === "online", 60);
    const messagesAfter = await page.getByTestId("msg-user").count();
    if (messagesAfter !== messagesBefore) throw new Error(`history after reload: ${messagesAfter} of ${messagesBefore} messages`);
    const sessionAfter = await page.evaluate((old) => Object.values(localStorage).includes(old), sessionId);
    if (!sessionAfter) throw new Error("the server issued a new session after a reload");
    log(`history kept across a reload (${messagesAfter} shopper messages), session ${sessionId.slice(0, 16)}…`);

    // 4. A human: the operator takes the conversation and replies through the api.
    before = await say("позовите оператора");
    log(`bot: ${await reply(/оператор/i, before)}`);
    const { access_token: token } = await api(servers, "POST", "/api/auth/login", null, { username: "admin", password: "admin" });
    const handoff = await waitFor("the handoff in the operator queue", async () => {
      const waiting = await api(servers, "GET", "/api/handoffs?status=waiting", token);
      return waiting.find((h) => h.sender_id === sessionId);
    }, 60);
    await api(servers, "POST", `/api/handoffs/${handoff.id}/take`, token);
    await waitFor("the operator-joined notice in the app", async () => /С вами оператор/.test((await page.getByTestId("msg-system").allInnerTexts()).join("\n")), 30);
    const operatorReply = "Здравствуйте! Я Анна из поддержки, заказ 3728419056 отменён, деньги вернутся на карту.";
    await api(servers, "POST", `/api/handoffs/${handoff.id}/messages`, token, { text: operatorReply });
    const shown = await waitFor("the operator's reply in the app", async () => {
      const texts = await page.getByTestId("msg-operator").allInnerTexts();
      return texts.find((t) => t.includes(operatorReply));
    }, 30);
    log(`operator: ${shown.replace(/\s+/g, " ")}`);
    await shot(page, "02-operator-reply.png");
    await page.getByTestId("open-conversations").click();
    await page.getByTestId("conversation-status-operator").waitFor({ timeout: 10000 });
    await shot(page, "03-conversations.png");
    await page.getByTestId("back-to-chat").click();
    await api(servers, "POST", `/api/handoffs/${handoff.id}/release`, token);
    await waitFor("the operator-left notice", async () => /с вами снова ассистент/.test((await page.getByTestId("msg-system").allInnerTexts()).join("\n")), 30);
    const stillOperator = await page.getByTestId("msg-operator").allInnerTexts();
    if (!stillOperator.some((t) => t.includes(operatorReply))) throw new Error("the operator's reply lost its operator marking after the hand-back");
    log("operator handed the conversation back");

    // 5. Offline: typed messages wait on the device and go out once, in order,
    //    when the network returns.
    await context.setOffline(true);
    await waitFor("the app to notice the lost network", async () => (await status.getAttribute("data-state")) === "offline", 15);
    const offlineTexts = ["какие способы оплаты", "сколько стоит доставка"];
    before = await botCount();
    for (const text of offlineTexts) await say(text);
    await waitFor("both messages shown as waiting for the network", async () => (await page.getByTestId("msg-status-queued").count()) === 2, 10);
    if ((await page.getByTestId("msg-status-sending").count()) !== 0) throw new Error("a message was sent while offline");
    await shot(page, "04-offline-queued.png");
    await context.setOffline(false);
    await waitFor("the queue to be sent", async () => {
      const waiting = (await page.getByTestId("msg-status-queued").count()) + (await page.getByTestId("msg-status-sending").count());
      return waiting === 0 && (await status.getAttribute("data-state")) === "online";
    }, 60);
    if ((await page.getByTestId("msg-status-failed").count()) !== 0) throw new Error("a queued message failed");
    await waitFor("answers to the queued messages", async () => (await botCount()) >= before + 2, 60);
    const tracker = await (await fetch(`${servers.rasaUrl}/conversations/${sessionId}/tracker`)).json();
    const said = tracker.events.filter((e) => e.event === "user").map((e) => e.text);
    if (JSON.stringify(said.slice(-2)) !== JSON.stringify(offlineTexts) || offlineTexts.some((t) => said.filter((x) => x === t).length !== 1)) {
      throw new Error(`Rasa received ${JSON.stringify(said.slice(-4))}; expected the queued messages once, in order`);
    }
    log(`offline queue delivered once, in order: ${said.slice(-2).join(" | ")}`);

    // 6. English and dark mode follow the device (a fresh install: a new session).
    const english = await browser.newContext({ locale: "en-US", colorScheme: "dark", viewport: { width: 400, height: 820 }, deviceScaleFactor: 2 });
    const enPage = await english.newPage();
    enPage.on("pageerror", (error) => pageErrors.push(error.message));
    await enPage.goto(appUrl);
    await enPage.getByPlaceholder("Type a message…").waitFor();
    await waitFor("the English app to connect", async () => (await enPage.getByTestId("connection-status").innerText()) === "Online", 60);
    await enPage.getByTestId("chat-input").fill("where is my order A-10234");
    await enPage.getByTestId("send").click();
    await waitFor("an English reply", async () => /last 4 digits/.test((await enPage.getByTestId("msg-bot").allInnerTexts()).join("\n")), 60);
    const background = await enPage.getByTestId("chat-screen").evaluate((node) => getComputedStyle(node).backgroundColor);
    if (background !== "rgb(17, 19, 24)") throw new Error(`dark mode background: ${background}`);
    await shot(enPage, "05-english-dark.png");
    log("English interface and dark mode follow the device");

    if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join("; ")}`);
    log("PASS");
  } catch (error) {
    if (browser) {
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages[0]) await pages[0].screenshot({ path: join(ARTIFACTS, "failure.png") }).catch(() => undefined);
    }
    // The servers' logs stay with the screenshots (the temp dir is removed).
    for (const name of ["rasa", "actions", "api"]) {
      const path = join(servers.dir, `${name}.log`);
      if (existsSync(path)) copyFileSync(path, join(ARTIFACTS, `${name}.log`));
      console.error(`--- ${name}.log (tail; whole in e2e/artifacts/)\n${tail(path, 25)}`);
    }
    throw error;
  } finally {
    await browser?.close().catch(() => undefined);
    web?.close();
    await servers.stop();
    if (!process.env.EASYFLOW_E2E_KEEP) rmSync(servers.dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[e2e] FAIL: ${error.stack ?? error}`);
    process.exit(1);
  },
);
