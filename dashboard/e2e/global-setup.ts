// Starts what the browser tests need, on free loopback ports, in a temp dir:
// - Rasa (socket.io channel, own tracker and SQL event broker files) and the
//   action server, unless EASYFLOW_E2E_RASA=0. Rasa takes ~70 s to start; the
//   tests that need it wait for it (helpers.waitForRasa), the others run meanwhile.
// - the api with a fresh seeded SQLite database, ingesting Rasa's event file.
// Tests find the addresses in EASYFLOW_E2E_* variables.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DASHBOARD = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = resolve(DASHBOARD, "..");
const API_PYTHON = join(REPO, "api", ".venv", "bin", "python");
const RASA = join(REPO, ".venv", "bin", "rasa");
const RASA_PYTHON = join(REPO, ".venv", "bin", "python");
const MODEL = join(REPO, "models", "easyflow.tar.gz");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * The web chat block of the repository's credentials.yml (stock `socketio:` or a
 * project connector whose key names socket.io / web chat), so the tests exercise
 * the channel the project ships; Rasa's stock block per the contract otherwise.
 */
function webChatCredentials(): string {
  const override = process.env.EASYFLOW_E2E_CREDENTIALS;
  if (override) return readFileSync(override, "utf8").replace(/^rest:\s*$/m, "");
  const stock = ["socketio:", "  user_message_evt: user_uttered", "  bot_message_evt: bot_uttered", "  session_persistence: true"];
  const path = join(REPO, "credentials.yml");
  if (!existsSync(path)) return stock.join("\n");
  const lines = readFileSync(path, "utf8").split("\n");
  const start = lines.findIndex((line) => /^(?![\s#])[^:]*(socket|webchat|web_chat)[^:]*:\s*$/i.test(line));
  if (start < 0) return stock.join("\n");
  const block = [lines[start]];
  for (const line of lines.slice(start + 1)) {
    if (/^\s+\S/.test(line) && !/^\s*#/.test(line)) block.push(line);
    else if (line.trim() === "" || /^\s*#/.test(line)) continue;
    else break;
  }
  return block.join("\n");
}

function tail(path: string, lines = 40): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, logDir: string): ChildProcess {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, "w");
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  child.on("exit", (code, signal) => {
    if (!stopping) console.error(`[e2e] ${name} exited (${code ?? signal}); log: ${log}\n${tail(log, 20)}`);
  });
  return child;
}

async function waitHttp(url: string, child: ChildProcess, seconds: number, log: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process for ${url} exited; log ${log}:\n${tail(log)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${url}; log ${log}:\n${tail(log)}`);
}

// A 1x1 JPEG: what the Telegram emulator serves as the shopper's photo.
const PHOTO = Buffer.from(
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=",
  "base64",
);
export const TELEGRAM_TOKEN = "7000000001:AAHe2eTOKENe2eTOKENe2eTOKEN";

/**
 * The Telegram Bot API on loopback for the attachment test: every method answers
 * ok, getFile names a photo, /file/bot<token>/... serves it, and GET /sent lists
 * the texts the bot sent (per chat_id) so a spec can wait for a reply.
 */
async function startTelegram(port: number): Promise<Server> {
  const sent: { chat_id: string; text: string }[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = request.url ?? "/";
      const answer = (body: unknown) => {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (url.startsWith("/sent")) return answer(sent);
      if (url.startsWith(`/file/bot${TELEGRAM_TOKEN}/`)) {
        response.writeHead(200, { "Content-Type": "image/jpeg" });
        return response.end(PHOTO);
      }
      const method = url.split("/").pop() ?? "";
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        /* not JSON */
      }
      if (method === "sendMessage") sent.push({ chat_id: String(body.chat_id), text: String(body.text) });
      if (method === "getFile") {
        return answer({ ok: true, result: { file_id: body.file_id, file_size: PHOTO.length, file_path: "photos/file_1.jpg" } });
      }
      return answer({ ok: true, result: { message_id: 1 } });
    });
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return server;
}

let stopping = false;

async function stopAll(children: ChildProcess[]): Promise<void> {
  stopping = true;
  for (const child of children) {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        /* gone */
      }
    }
  }
  const deadline = Date.now() + 20000;
  for (const child of children) {
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(join(DASHBOARD, "dist", "index.html")) || !existsSync(join(DASHBOARD, "dist", "widget", "easyflow-widget.js"))) {
    throw new Error("build the dashboard first: npm run build");
  }
  if (!existsSync(API_PYTHON)) throw new Error(`api environment missing: ${API_PYTHON}`);
  const dir = mkdtempSync(join(tmpdir(), "easyflow-e2e-"));
  const rasaDir = join(dir, "rasa");
  const apiDir = join(dir, "api");
  mkdirSync(rasaDir);
  mkdirSync(apiDir);
  const children: ChildProcess[] = [];
  const withRasa = process.env.EASYFLOW_E2E_RASA !== "0";
  const [apiPort, rasaPort, actionsPort] = [await freePort(), await freePort(), await freePort()];
  const rasaUrl = `http://127.0.0.1:${rasaPort}`;
  const actionsUrl = `http://127.0.0.1:${actionsPort}`;
  const eventsDb = join(rasaDir, "events.db");
  // Rasa sends it to the action server; the api uses it for failed notices.
  const actionToken = randomBytes(24).toString("hex");
  const telegramSecret = randomBytes(16).toString("hex");
  const telegramPort = await freePort();
  let telegram: Server | null = null;
  // The api seals integration secrets with it and the action server opens them
  // (their data dirs differ here, so each would otherwise make its own key).
  const secretsKey = randomBytes(32).toString("base64url");

  try {
    if (withRasa) {
      if (!existsSync(MODEL)) throw new Error(`trained model missing: ${MODEL} (make train)`);
      const credentials = join(rasaDir, "credentials.yml");
      telegram = await startTelegram(telegramPort);
      const telegramCredentials = [
        "connectors.telegram.TelegramInput:",
        `  token: "${TELEGRAM_TOKEN}"`,
        `  secret_token: "${telegramSecret}"`,
        `  api_url: "http://127.0.0.1:${telegramPort}"`,
      ].join("\n");
      writeFileSync(credentials, `rest:\n${webChatCredentials()}\n${telegramCredentials}\n`);
      const endpoints = join(rasaDir, "endpoints.yml");
      writeFileSync(
        endpoints,
        [
          "action_endpoint:",
          `  url: "${actionsUrl}/webhook"`,
          // The action server refuses callers without its token (actions/access.py).
          "  headers:",
          "    Authorization: Bearer ${EASYFLOW_ACTION_TOKEN}",
          "  enable_selective_domain: true",
          "nlg:",
          "  type: bot.dialogue.nlg.LanguageAwareNLG",
          "  default_language: ru",
          "  action_timeout_s: 10",
          "tracker_store:",
          "  type: SQL",
          "  dialect: sqlite",
          `  db: ${join(rasaDir, "tracker.db")}`,
          "lock_store:",
          "  type: in_memory",
          "event_broker:",
          "  type: SQL",
          "  dialect: sqlite",
          `  db: ${eventsDb}`,
          "",
        ].join("\n"),
      );
      const rasaEnv = {
        ...process.env,
        EASYFLOW_DATA_DIR: rasaDir,
        EASYFLOW_ACTIONS_PORT: String(actionsPort),
        EASYFLOW_ACTIONS_HOST: "127.0.0.1",
        EASYFLOW_PUBLIC_URL: actionsUrl,
        EASYFLOW_RASA_URL: rasaUrl,
        EASYFLOW_ACTION_TOKEN: actionToken,
        // Where the messenger connectors keep shoppers' photos (connectors/attachments.py).
        EASYFLOW_ACTIONS_URL: `${actionsUrl}/webhook`,
        // The dashboard's knowledge base (actions/knowledge/published.py).
        EASYFLOW_API_URL: `http://127.0.0.1:${apiPort}`,
        EASYFLOW_KNOWLEDGE_REFRESH_S: "2",
      };
      const actionsEnv = {
        ...rasaEnv,
        // Integrations saved on the dashboard, picked up every 2 s.
        EASYFLOW_API_URL: `http://127.0.0.1:${apiPort}`,
        EASYFLOW_INTEGRATIONS_POLL_S: "2",
        EASYFLOW_SECRETS_KEY: secretsKey,
      };
      children.push(start("actions", RASA_PYTHON, ["-m", "actions.server"], actionsEnv, REPO, dir));
      children.push(
        start(
          "rasa",
          RASA,
          ["run", "--enable-api", "-m", MODEL, "--credentials", credentials, "--endpoints", endpoints, "--interface", "127.0.0.1", "-p", String(rasaPort)],
          rasaEnv,
          REPO,
          dir,
        ),
      );
    }

    const apiEnv = {
      ...process.env,
      EASYFLOW_ENV: "development",
      EASYFLOW_DATA_DIR: apiDir,
      EASYFLOW_API_DATABASE_URL: `sqlite:///${join(apiDir, "api.db")}`,
      EASYFLOW_EVENTS_DATABASE_URL: `sqlite:///${eventsDb}`,
      EASYFLOW_API_INGEST: "sql",
      EASYFLOW_API_INGEST_INTERVAL_S: "0.5",
      EASYFLOW_RASA_URL: rasaUrl,
      EASYFLOW_ACTION_SERVER_URL: actionsUrl,
      EASYFLOW_ACTION_TOKEN: actionToken,
      EASYFLOW_SECRETS_KEY: secretsKey,
      EASYFLOW_API_DASHBOARD_DIR: join(DASHBOARD, "dist"),
      EASYFLOW_API_LOGIN_MAX_FAILURES: "50",
    };
    const seed = spawnSync(API_PYTHON, ["-m", "easyflow_api", "seed-demo"], {
      cwd: join(REPO, "api"),
      env: apiEnv,
      encoding: "utf8",
      timeout: 120000,
    });
    writeFileSync(join(dir, "seed.log"), `${seed.stdout ?? ""}\n${seed.stderr ?? ""}`);
    if (seed.status !== 0) {
      throw new Error(`seed-demo failed (${seed.status}):\n${seed.stdout}\n${seed.stderr}`);
    }
    const api = start(
      "api",
      join(REPO, "api", ".venv", "bin", "uvicorn"),
      ["easyflow_api.main:app", "--host", "127.0.0.1", "--port", String(apiPort)],
      apiEnv,
      join(REPO, "api"),
      dir,
    );
    children.push(api);
    await waitHttp(`http://127.0.0.1:${apiPort}/health`, api, 60, join(dir, "api.log"));
  } catch (error) {
    await stopAll(children);
    telegram?.close();
    throw error;
  }

  process.env.EASYFLOW_E2E_API_URL = `http://127.0.0.1:${apiPort}`;
  process.env.EASYFLOW_E2E_RASA_URL = withRasa ? rasaUrl : "";
  process.env.EASYFLOW_E2E_ACTIONS_URL = withRasa ? actionsUrl : "";
  process.env.EASYFLOW_E2E_DIR = dir;
  process.env.EASYFLOW_E2E_TELEGRAM_URL = telegram ? `http://127.0.0.1:${telegramPort}` : "";
  process.env.EASYFLOW_E2E_TELEGRAM_SECRET = telegramSecret;
  console.log(`[e2e] api ${process.env.EASYFLOW_E2E_API_URL}, rasa ${withRasa ? rasaUrl : "off"}, logs in ${dir} (copied to test-results/server-logs/ at the end)`);
  return async () => {
    await stopAll(children);
    telegram?.close();
    // Keep the server logs with the screenshots; drop the databases.
    const logs = join(DASHBOARD, "test-results", "server-logs");
    mkdirSync(logs, { recursive: true });
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".log"))) {
      copyFileSync(join(dir, name), join(logs, name));
    }
    if (!process.env.EASYFLOW_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  };
}
